/* SPDX-License-Identifier: Apache-2.0 */
/* The focused build: cluster_build() for one probe (`kpsim trace`), building only what the
 * probe's packet can reach.
 *
 * Every check of the full build still runs (node IPAM, Service admission, Deployment
 * validation) and every pod is still placed, because the scheduler and host-local IPAM are
 * sequential over all pods; but placement works on slots (cluster_private.h), and K8sPods are
 * made only for the Deployments that a focus Service selects, the Deployment of the source pod,
 * the Deployments owning a pod an explicit EndpointSlice names, and the scenario's own pods.
 * A focus Service is one the probe can reach (a port of its protocol whose port is the probe's
 * destination port at its clusterIP, an externalIP or a load-balancer IP, or whose nodePort or
 * healthCheckNodePort is the destination port) or one a summary cannot describe exactly; the
 * EndpointSlice controller writes the slices of focus Services only. Every other Service gets a
 * ClusterServiceSummary: its endpoint counts as kube-proxy would see them on the focus node,
 * computed from the slots (a replica is Ready when it was placed on a Ready node and got an
 * IP; none is terminating at build time). kube_proxy_render() turns a summary into the same
 * rules in the shared chains and leaves the Service's own chains without endpoint rules, which
 * the probe never enters.
 *
 * Summaries are used only for a Service the controller manages alone (a non-empty selector, no
 * EndpointSlice of its own in the scenario), single-stack, without topology or
 * trafficDistribution, with numeric targetPorts, selecting no scenario pod and at least one
 * replica, not by pod-template-hash: anything else is a focus Service, which costs speed, never
 * exactness.
 */
#include "model/cluster_private.h"

#include <string.h>

#include "model/endpointslice_controller.h"
#include "model/loader.h"

/* The working state of one focused build besides the ClusterBuild. */
typedef struct {
    ClusterBuild *b;
    const ClusterFocus *focus;
    guint node;                /* the focus node's index */
    GHashTable *deps_by_label; /* "ns\x1fkey=value" -> GArray of guint Deployment indices */
    GHashTable *pods_by_label; /* "ns\x1fkey=value" -> GPtrArray of the scenario's K8sPod* */
    GHashTable *sliced;        /* "ns/service" of every Service with a slice in the scenario */
    gboolean *materialise;     /* by Deployment */
} ClusterFocusBuild;

/* ---------------------------------------------------------------- indexes */

/* Sets out to the index key of label key=value in namespace ns: "ns\x1fkey=value". */
static void
cluster_focus_label_key(GString *out, const char *ns, const char *key, const char *value)
{
    g_string_assign(out, ns);
    g_string_append_c(out, '\x1f');
    g_string_append(out, key);
    g_string_append_c(out, '=');
    g_string_append(out, value);
}

/* Files item under every "ns\x1fkey=value" of labels (nullable) in index, whose values are
 * lists made by new_list, appending with add; key is scratch space. */
static void
cluster_focus_index_add(GHashTable *index, GString *key, const char *ns, GHashTable *labels,
                        gpointer (*new_list)(void), void (*add)(gpointer list, gpointer item),
                        gpointer item)
{
    GHashTableIter it;
    gpointer k, v;
    if (labels == NULL)
        return;
    g_hash_table_iter_init(&it, labels);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        cluster_focus_label_key(key, ns, k, v);
        gpointer list = g_hash_table_lookup(index, key->str);
        if (list == NULL) {
            list = new_list();
            g_hash_table_insert(index, g_strndup(key->str, key->len), list);
        }
        add(list, item);
    }
}

/* A list of Deployment indices (guint in a GArray). */
static gpointer
cluster_focus_uint_list(void)
{
    return g_array_new(FALSE, FALSE, sizeof(guint));
}

/* Appends the Deployment index item (GUINT_TO_POINTER) to a cluster_focus_uint_list(). */
static void
cluster_focus_uint_add(gpointer list, gpointer item)
{
    guint i = GPOINTER_TO_UINT(item);
    g_array_append_val((GArray *)list, i);
}

/* A list of pods. */
static gpointer
cluster_focus_pod_list(void)
{
    return g_ptr_array_new();
}

/* Appends pod item to a cluster_focus_pod_list(). */
static void
cluster_focus_pod_add(gpointer list, gpointer item)
{
    g_ptr_array_add(list, item);
}

/* Indexes the Deployments by their template's labels and the scenario's pods by theirs. */
static void
cluster_focus_index(ClusterFocusBuild *f)
{
    const Cluster *c = f->b->c;
    f->deps_by_label =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    f->pods_by_label =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    g_autoptr(GString) key = g_string_sized_new(64);
    for (guint i = 0; i < c->deployments->len; i++) {
        const K8sDeployment *d = c->deployments->pdata[i];
        cluster_focus_index_add(f->deps_by_label, key, d->meta.namespace_, d->template_.labels,
                                cluster_focus_uint_list, cluster_focus_uint_add,
                                GUINT_TO_POINTER(i));
    }
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *pod = c->pods->pdata[i];
        cluster_focus_index_add(f->pods_by_label, key, pod->meta.namespace_, pod->meta.labels,
                                cluster_focus_pod_list, cluster_focus_pod_add, pod);
    }
}

/* Sets key to the index key of one label of svc's (non-empty) selector: every object it
 * selects carries that label. */
static void
cluster_focus_selector_key(GString *key, const K8sService *svc)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, svc->selector);
    g_assert(g_hash_table_iter_next(&it, &k, &v));
    cluster_focus_label_key(key, svc->meta.namespace_, k, v);
}

/* Sets out to the indices of the Deployments whose pods svc's selector selects (their
 * template's labels are theirs, but for pod-template-hash, which the caller rules out); key
 * is cluster_focus_selector_key()'s. */
static void
cluster_focus_selected_deployments(const ClusterFocusBuild *f, const K8sService *svc,
                                   const GString *key, GArray *out)
{
    g_array_set_size(out, 0);
    const GArray *candidates = g_hash_table_lookup(f->deps_by_label, key->str);
    for (guint k = 0; candidates != NULL && k < candidates->len; k++) {
        guint i = g_array_index(candidates, guint, k);
        const K8sDeployment *d = f->b->c->deployments->pdata[i];
        if (k8s_selector_matches(svc->selector, d->template_.labels))
            g_array_append_val(out, i);
    }
}

/* TRUE when svc's selector selects one of the scenario's own pods; key is
 * cluster_focus_selector_key()'s. */
static gboolean
cluster_focus_selects_scenario_pod(const ClusterFocusBuild *f, const K8sService *svc,
                                   const GString *key)
{
    const GPtrArray *candidates = g_hash_table_lookup(f->pods_by_label, key->str);
    for (guint k = 0; candidates != NULL && k < candidates->len; k++) {
        const K8sPod *pod = candidates->pdata[k];
        if (k8s_selector_matches(svc->selector, pod->meta.labels))
            return TRUE;
    }
    return FALSE;
}

/* ---------------------------------------------------------------- which Services */

/* TRUE when addr is one of svc's clusterIPs, externalIPs or load-balancer ingress IPs. */
static gboolean
cluster_focus_is_front_end(const K8sService *svc, const SimAddr *addr)
{
    const GArray *lists[] = {svc->cluster_ips, svc->external_ips};
    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; lists[l] != NULL && i < lists[l]->len; i++) {
            if (sim_addr_equal(&g_array_index(lists[l], SimAddr, i), addr))
                return TRUE;
        }
    }
    for (guint i = 0; svc->lb_ingress != NULL && i < svc->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *in = svc->lb_ingress->pdata[i];
        if (sim_addr_equal(&in->ip, addr))
            return TRUE;
    }
    return FALSE;
}

/* TRUE when the probe can reach svc: a port of the probe's protocol at the destination
 * (front-end address and port, or nodePort on any address: nodePortAddresses decide later),
 * or the destination port is its healthCheckNodePort. */
static gboolean
cluster_focus_reaches(const ClusterFocus *focus, const K8sService *svc)
{
    guint16 port = focus->to.port;
    if (svc->health_check_node_port != 0 && svc->health_check_node_port == port)
        return TRUE;
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *sp = svc->ports->pdata[i];
        if (sp->protocol != focus->proto)
            continue;
        if (sp->node_port != 0 && sp->node_port == port)
            return TRUE;
        if (sp->port == port && cluster_focus_is_front_end(svc, &focus->to.addr))
            return TRUE;
    }
    return FALSE;
}

/* TRUE when svc has an EndpointSlice of its own in the scenario. */
static gboolean
cluster_focus_sliced(const ClusterFocusBuild *f, const K8sService *svc)
{
    if (g_hash_table_size(f->sliced) == 0)
        return FALSE;
    g_autofree char *key = g_strconcat(svc->meta.namespace_, "/", svc->meta.name, NULL);
    return g_hash_table_contains(f->sliced, key);
}

/* TRUE when a summary describes svc exactly (see the file comment); key is
 * cluster_focus_selector_key()'s. */
static gboolean
cluster_focus_summarisable(const ClusterFocusBuild *f, const K8sService *svc, const GString *key,
                           const GArray *deps)
{
    if (svc->type == K8S_SVC_EXTERNAL_NAME || svc->selector == NULL ||
        g_hash_table_size(svc->selector) == 0 || svc->ip_families->len != 1 ||
        svc->topology_mode != NULL || g_hash_table_contains(svc->selector, "pod-template-hash"))
        return FALSE;
    if (cluster_focus_sliced(f, svc))
        return FALSE;
    for (guint i = 0; i < svc->ports->len; i++) {
        if (((const K8sServicePort *)svc->ports->pdata[i])->target_port_name != NULL)
            return FALSE;
    }
    if (cluster_focus_selects_scenario_pod(f, svc, key))
        return FALSE;
    gint replicas = 0;
    for (guint k = 0; k < deps->len; k++) {
        const K8sDeployment *d = f->b->c->deployments->pdata[g_array_index(deps, guint, k)];
        replicas += d->replicas;
    }
    return replicas > 0; /* else the controller warns that the selector matches no pod */
}

/* svc's summary from the slots of the Deployments deps it selects. (transfer full) */
static ClusterServiceSummary *
cluster_focus_summary(const ClusterFocusBuild *f, const K8sService *svc, const GArray *deps)
{
    const ClusterBuild *b = f->b;
    ClusterServiceSummary *sum = g_new0(ClusterServiceSummary, 1);
    sum->family = g_array_index(svc->ip_families, guint8, 0);
    for (guint k = 0; k < deps->len; k++) {
        guint i = g_array_index(deps, guint, k);
        const K8sDeployment *d = b->c->deployments->pdata[i];
        for (gint r = 0; r < d->replicas; r++) {
            const ClusterSlot *slot =
                &g_array_index(b->slots, ClusterSlot, b->deployment_slot[i] + (guint)r);
            if (slot->ip == 0 ||
                ((const K8sNode *)b->c->nodes->pdata[slot->node])->pod_cidr.addr.family !=
                    sum->family)
                continue;
            gboolean ready = svc->publish_not_ready || slot->ready;
            sum->endpoints++;
            sum->ready += ready;
            sum->local_ready += ready && slot->node == f->node;
        }
    }
    return sum;
}

/* Sorts the Services into focus Services (returned, in c->services order) and summarised ones
 * (c->summaries), marking the Deployments focus Services select for materialising.
 * (transfer container) */
static GPtrArray *
cluster_focus_services(ClusterFocusBuild *f)
{
    Cluster *c = f->b->c;
    GPtrArray *focus = g_ptr_array_new();
    c->summaries = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    g_autoptr(GString) key = g_string_sized_new(64);
    g_autoptr(GArray) deps = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint s = 0; s < c->services->len; s++) {
        K8sService *svc = c->services->pdata[s];
        g_array_set_size(deps, 0);
        if (svc->selector != NULL && g_hash_table_size(svc->selector) > 0) {
            cluster_focus_selector_key(key, svc);
            cluster_focus_selected_deployments(f, svc, key, deps);
        }
        if (!cluster_focus_reaches(f->focus, svc) &&
            cluster_focus_summarisable(f, svc, key, deps)) {
            g_hash_table_insert(c->summaries, svc, cluster_focus_summary(f, svc, deps));
            continue;
        }
        g_ptr_array_add(focus, svc);
        for (guint k = 0; k < deps->len; k++)
            f->materialise[g_array_index(deps, guint, k)] = TRUE;
    }
    return focus;
}

/* ---------------------------------------------------------------- which pods */

/* The offset of addr in cidr (which holds it) when it fits a slot's 32 bits; FALSE otherwise.
 * The network address has no host bits, so the offset is addr's host bits. */
static gboolean
cluster_focus_offset(const SimCidr *cidr, const SimAddr *addr, guint32 *out)
{
    guint len = addr->family == SIM_AF_INET6 ? 16 : 4;
    guint64 offset = 0;
    for (guint k = 0; k < len; k++) {
        offset = offset * 256 + (guint)(addr->b[k] - cidr->addr.b[k]);
        if (offset > G_MAXUINT32)
            return FALSE;
    }
    *out = (guint32)offset;
    return TRUE;
}

/* Adds to keys (node index << 32 | offset, as a replica's slot would hold addr) every node
 * whose pod CIDR holds addr. */
static void
cluster_focus_ip_keys(const ClusterBuild *b, const SimAddr *addr, GHashTable *keys)
{
    for (guint i = 0; i < b->c->nodes->len; i++) {
        const K8sNode *n = b->c->nodes->pdata[i];
        guint32 offset;
        if (n->pod_cidr.addr.family != addr->family || !sim_cidr_contains(&n->pod_cidr, addr) ||
            !cluster_focus_offset(&n->pod_cidr, addr, &offset) || offset == 0)
            continue;
        gint64 *key = g_new(gint64, 1);
        *key = (gint64)(((guint64)i << 32) | offset);
        g_hash_table_add(keys, key);
    }
}

/* Marks for materialising the Deployment of the replica whose IP is the probe's source and of
 * every replica whose IP an EndpointSlice of the scenario names: their pods are looked up by
 * IP. */
static void
cluster_focus_pods_by_ip(ClusterFocusBuild *f)
{
    const ClusterBuild *b = f->b;
    g_autoptr(GHashTable) keys = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    cluster_focus_ip_keys(b, &f->focus->from, keys);
    for (guint i = 0; i < b->c->slices->len; i++) {
        const K8sEndpointSlice *slice = b->c->slices->pdata[i];
        for (guint e = 0; e < slice->endpoints->len; e++) {
            const K8sEndpoint *ep = slice->endpoints->pdata[e];
            for (guint a = 0; ep->addresses != NULL && a < ep->addresses->len; a++)
                cluster_focus_ip_keys(b, &g_array_index(ep->addresses, SimAddr, a), keys);
        }
    }
    for (guint s = b->first_replica_slot; g_hash_table_size(keys) > 0 && s < b->slots->len; s++) {
        const ClusterSlot *slot = &g_array_index(b->slots, ClusterSlot, s);
        gint64 key = (gint64)(((guint64)slot->node << 32) | slot->ip);
        if (slot->ip != 0 && g_hash_table_contains(keys, &key))
            f->materialise[slot->deployment] = TRUE;
    }
}

/* ---------------------------------------------------------------- build */

/* TRUE when the focused build gives what cluster_build() gives for focus's probe: iptables
 * mode, no spec.expect, and a node of that name. */
static gboolean
cluster_focus_applies(const Scenario *sc, const ClusterFocus *focus)
{
    switch (sc->proxy.mode) {
    case KP_MODE_IPTABLES:
        break;
    case KP_MODE_NFTABLES: /* its renderer reads the endpoint lists: no summaries there yet */
    case KP_MODE_IPVS:
        return FALSE;
    }
    if (sc->expect != NULL && sc->expect->len > 0)
        return FALSE; /* pods selectors there may name any pod (pod-template-hash) */
    for (guint i = 0; focus->node != NULL && i < sc->nodes->len; i++) {
        if (g_strcmp0(((const K8sNode *)sc->nodes->pdata[i])->name, focus->node) == 0)
            return TRUE;
    }
    return FALSE;
}

/* After placement: picks the focus Services and the pods to make, makes them, writes the focus
 * Services' slices. */
static void
cluster_focus_finish(ClusterFocusBuild *f)
{
    Cluster *c = f->b->c;
    f->sliced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < c->slices->len; i++) {
        const K8sEndpointSlice *slice = c->slices->pdata[i];
        if (slice->service_name != NULL)
            g_hash_table_add(f->sliced,
                             g_strconcat(slice->meta.namespace_, "/", slice->service_name, NULL));
    }
    cluster_focus_index(f);
    g_autoptr(GPtrArray) focus = cluster_focus_services(f);
    cluster_focus_pods_by_ip(f);
    f->b->materialise = f->materialise;
    cluster_materialise(f->b);
    SimRng rng;
    sim_rng_init(&rng, f->b->sc->seed, "endpointslice");
    endpointslice_controller_sync_some(c, focus, &rng, c->warnings);
}

/* See cluster.h. (transfer full) */
Cluster *
cluster_build_focused(Scenario *sc, const ClusterFocus *focus, GError **error)
{
    g_return_val_if_fail(sc != NULL && focus != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!cluster_focus_applies(sc, focus))
        return cluster_build(sc, error);
    Cluster *c = cluster_new_from(sc);
    ClusterBuild b;
    cluster_build_init(&b, c, sc);
    ClusterFocusBuild f = {.b = &b, .focus = focus};
    f.materialise = g_new0(gboolean, MAX(c->deployments->len, 1));
    gboolean ok = cluster_build_place(&b, error);
    if (ok) {
        c->focus_node = cluster_find_node(c, focus->node);
        f.node = GPOINTER_TO_UINT(g_hash_table_lookup(b.node_index, c->focus_node)) - 1;
        cluster_focus_finish(&f);
    }
    g_clear_pointer(&f.deps_by_label, g_hash_table_unref);
    g_clear_pointer(&f.pods_by_label, g_hash_table_unref);
    g_clear_pointer(&f.sliced, g_hash_table_unref);
    g_free(f.materialise);
    cluster_build_clear(&b);
    if (!ok) {
        cluster_free(c);
        return NULL;
    }
    return c;
}
