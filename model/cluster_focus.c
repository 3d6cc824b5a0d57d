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

/* One label key=value in a namespace, and the first and last of the index entries filed under
 * it; its strings are the labelled object's. */
typedef struct {
    const char *ns;
    const char *key;
    const char *value;
    guint first; /* index in ClusterFocusIndex.entries */
    guint last;
} ClusterFocusLabel;

/* One object filed under a label: its index, and the next entry under the same label
 * (G_MAXUINT: none). */
typedef struct {
    guint item;
    guint next;
} ClusterFocusEntry;

/* Objects by label, without a string built or copied per label: lists threaded through one
 * array of entries, in filing order. */
typedef struct {
    GHashTable *by_label; /* ClusterFocusLabel* (in labels) -> itself */
    GArray *labels;       /* ClusterFocusLabel, sized up front: never moves */
    guint reserved;       /* labels' room */
    GArray *entries;      /* ClusterFocusEntry */
} ClusterFocusIndex;

/* A hash of a ClusterFocusLabel's namespace, key and value. */
static guint
cluster_focus_label_hash(gconstpointer p)
{
    const ClusterFocusLabel *l = p;
    return (g_str_hash(l->ns) * 31 + g_str_hash(l->key)) * 31 + g_str_hash(l->value);
}

/* TRUE when two ClusterFocusLabels name the same label in the same namespace. */
static gboolean
cluster_focus_label_equal(gconstpointer a, gconstpointer b)
{
    const ClusterFocusLabel *x = a, *y = b;
    return strcmp(x->value, y->value) == 0 && strcmp(x->key, y->key) == 0 &&
           strcmp(x->ns, y->ns) == 0;
}

/* The working state of one focused build besides the ClusterBuild. */
typedef struct {
    ClusterBuild *b;
    const ClusterFocus *focus;
    guint node;             /* the focus node's index */
    ClusterFocusIndex deps; /* Deployments (indices in c->deployments) by template label */
    ClusterFocusIndex pods; /* the scenario's pods (indices in c->pods) by label */
    GHashTable *sliced;     /* "ns/service" of every Service with a slice in the scenario */
    gboolean *materialise;  /* by Deployment */
    guint8 *node_family;    /* by node: its pod CIDR's family (an array: reading the K8sNode
                             * for each replica summarised was a cache miss each) */
} ClusterFocusBuild;

/* ---------------------------------------------------------------- indexes */

/* Sets up an empty index. */
static void
cluster_focus_index_init(ClusterFocusIndex *x, guint labels)
{
    x->by_label = g_hash_table_new(cluster_focus_label_hash, cluster_focus_label_equal);
    x->labels = g_array_sized_new(FALSE, FALSE, sizeof(ClusterFocusLabel), labels);
    x->reserved = labels;
    x->entries = g_array_new(FALSE, FALSE, sizeof(ClusterFocusEntry));
}

/* Releases what x holds. */
static void
cluster_focus_index_clear(ClusterFocusIndex *x)
{
    g_clear_pointer(&x->by_label, g_hash_table_unref);
    g_clear_pointer(&x->labels, g_array_unref);
    g_clear_pointer(&x->entries, g_array_unref);
}

/* The label key=value of namespace ns in x, or NULL. (transfer none) */
static const ClusterFocusLabel *
cluster_focus_index_find(const ClusterFocusIndex *x, const char *ns, const char *key,
                         const char *value)
{
    ClusterFocusLabel probe = {.ns = ns, .key = key, .value = value};
    return g_hash_table_lookup(x->by_label, &probe);
}

/* Files item under every key=value of labels (nullable; owned by an object that outlives x)
 * in namespace ns. x->labels was sized for every label filed, so the table's keys stay put. */
static void
cluster_focus_index_add(ClusterFocusIndex *x, const char *ns, GHashTable *labels, guint item)
{
    GHashTableIter it;
    gpointer k, v;
    if (labels == NULL)
        return;
    g_hash_table_iter_init(&it, labels);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        ClusterFocusLabel *l = (ClusterFocusLabel *)cluster_focus_index_find(x, ns, k, v);
        ClusterFocusEntry e = {.item = item, .next = G_MAXUINT};
        g_array_append_val(x->entries, e);
        if (l == NULL) {
            g_assert(x->labels->len < x->reserved); /* the table's keys must not move */
            ClusterFocusLabel fresh = {ns, k, v, x->entries->len - 1, x->entries->len - 1};
            g_array_append_val(x->labels, fresh);
            g_hash_table_add(x->by_label,
                             &g_array_index(x->labels, ClusterFocusLabel, x->labels->len - 1));
            continue;
        }
        g_array_index(x->entries, ClusterFocusEntry, l->last).next = x->entries->len - 1;
        l->last = x->entries->len - 1;
    }
}

/* The number of labels of the tables in objects (each a K8sDeployment's template labels or a
 * K8sPod's labels, as pick returns them). */
static guint
cluster_focus_count_labels(const GPtrArray *objects, GHashTable *(*pick)(gconstpointer))
{
    guint n = 0;
    for (guint i = 0; i < objects->len; i++) {
        GHashTable *labels = pick(objects->pdata[i]);
        n += labels != NULL ? g_hash_table_size(labels) : 0;
    }
    return n;
}

/* A Deployment's template labels. (transfer none) */
static GHashTable *
cluster_focus_template_labels(gconstpointer d)
{
    return ((const K8sDeployment *)d)->template_.labels;
}

/* A pod's labels. (transfer none) */
static GHashTable *
cluster_focus_pod_labels(gconstpointer pod)
{
    return ((const K8sPod *)pod)->meta.labels;
}

/* Indexes the Deployments by their template's labels and the scenario's pods by theirs. */
static void
cluster_focus_index(ClusterFocusBuild *f)
{
    const Cluster *c = f->b->c;
    cluster_focus_index_init(
        &f->deps, cluster_focus_count_labels(c->deployments, cluster_focus_template_labels));
    cluster_focus_index_init(&f->pods,
                             cluster_focus_count_labels(c->pods, cluster_focus_pod_labels));
    for (guint i = 0; i < c->deployments->len; i++) {
        const K8sDeployment *d = c->deployments->pdata[i];
        cluster_focus_index_add(&f->deps, d->meta.namespace_, d->template_.labels, i);
    }
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *pod = c->pods->pdata[i];
        cluster_focus_index_add(&f->pods, pod->meta.namespace_, pod->meta.labels, i);
    }
}

/* The index entry of one label of svc's (non-empty) selector in x: every object it selects
 * carries that label; NULL when no object does. (transfer none) */
static const ClusterFocusLabel *
cluster_focus_selector_label(const ClusterFocusIndex *x, const K8sService *svc)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, svc->selector);
    g_assert(g_hash_table_iter_next(&it, &k, &v));
    return cluster_focus_index_find(x, svc->meta.namespace_, k, v);
}

/* Sets out to the indices of the Deployments whose pods svc's selector selects (their
 * template's labels are theirs, but for pod-template-hash, which the caller rules out). */
static void
cluster_focus_selected_deployments(const ClusterFocusBuild *f, const K8sService *svc, GArray *out)
{
    g_array_set_size(out, 0);
    const ClusterFocusLabel *l = cluster_focus_selector_label(&f->deps, svc);
    for (guint e = l != NULL ? l->first : G_MAXUINT; e != G_MAXUINT;) {
        const ClusterFocusEntry *entry = &g_array_index(f->deps.entries, ClusterFocusEntry, e);
        const K8sDeployment *d = f->b->c->deployments->pdata[entry->item];
        if (k8s_selector_matches(svc->selector, d->template_.labels))
            g_array_append_val(out, entry->item);
        e = entry->next;
    }
}

/* TRUE when svc's (non-empty) selector selects one of the scenario's own pods. */
static gboolean
cluster_focus_selects_scenario_pod(const ClusterFocusBuild *f, const K8sService *svc)
{
    const ClusterFocusLabel *l = cluster_focus_selector_label(&f->pods, svc);
    for (guint e = l != NULL ? l->first : G_MAXUINT; e != G_MAXUINT;) {
        const ClusterFocusEntry *entry = &g_array_index(f->pods.entries, ClusterFocusEntry, e);
        const K8sPod *pod = f->b->c->pods->pdata[entry->item];
        if (k8s_selector_matches(svc->selector, pod->meta.labels))
            return TRUE;
        e = entry->next;
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

/* TRUE when a summary describes svc exactly (see the file comment). */
static gboolean
cluster_focus_summarisable(const ClusterFocusBuild *f, const K8sService *svc, const GArray *deps)
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
    if (cluster_focus_selects_scenario_pod(f, svc))
        return FALSE;
    gint replicas = 0;
    for (guint k = 0; k < deps->len; k++) {
        const K8sDeployment *d = f->b->c->deployments->pdata[g_array_index(deps, guint, k)];
        replicas += d->replicas;
    }
    return replicas > 0; /* else the controller warns that the selector matches no pod */
}

/* svc's summary from the slots of the Deployments deps it selects, stored in the cluster's
 * summary block. (transfer none) */
static ClusterServiceSummary *
cluster_focus_summary(const ClusterFocusBuild *f, const K8sService *svc, const GArray *deps)
{
    const ClusterBuild *b = f->b;
    GArray *block = b->c->summary_block;
    g_assert(block->len < b->c->services->len); /* sized for every Service: never moves */
    g_array_set_size(block, block->len + 1);
    ClusterServiceSummary *sum = &g_array_index(block, ClusterServiceSummary, block->len - 1);
    *sum = (ClusterServiceSummary){0};
    sum->family = g_array_index(svc->ip_families, guint8, 0);
    for (guint k = 0; k < deps->len; k++) {
        guint i = g_array_index(deps, guint, k);
        const K8sDeployment *d = b->c->deployments->pdata[i];
        for (gint r = 0; r < d->replicas; r++) {
            const ClusterSlot *slot =
                &g_array_index(b->slots, ClusterSlot, b->deployment_slot[i] + (guint)r);
            if (slot->ip == 0 || f->node_family[slot->node] != sum->family)
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
    c->summaries = g_hash_table_new(g_direct_hash, g_direct_equal);
    c->summary_block =
        g_array_sized_new(FALSE, FALSE, sizeof(ClusterServiceSummary), c->services->len);
    g_autoptr(GArray) deps = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint s = 0; s < c->services->len; s++) {
        K8sService *svc = c->services->pdata[s];
        g_array_set_size(deps, 0);
        if (svc->selector != NULL && g_hash_table_size(svc->selector) > 0)
            cluster_focus_selected_deployments(f, svc, deps);
        if (!cluster_focus_reaches(f->focus, svc) && cluster_focus_summarisable(f, svc, deps)) {
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
    guint nodes = c->nodes->len;
    f->node_family = g_new(guint8, MAX(nodes, 1));
    for (guint i = 0; i < nodes; i++)
        f->node_family[i] = ((const K8sNode *)c->nodes->pdata[i])->pod_cidr.addr.family;
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
    cluster_focus_index_clear(&f.deps);
    cluster_focus_index_clear(&f.pods);
    g_clear_pointer(&f.sliced, g_hash_table_unref);
    g_free(f.materialise);
    g_free(f.node_family);
    cluster_build_clear(&b);
    if (!ok) {
        cluster_free(c);
        return NULL;
    }
    return c;
}
