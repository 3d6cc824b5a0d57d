/* SPDX-License-Identifier: Apache-2.0 */
/* The EndpointSlice controller: Services' selectors and pods in, EndpointSlices out.
 *
 * Follows kube-controller-manager's reconciler (pkg/controller/endpointslice/reconciler.go):
 * for each address family of the Service, every selected pod with an IP of that family becomes
 * an endpoint (podToEndpoint: serving = pod Ready, terminating = deletionTimestamp set, ready =
 * publishNotReadyAddresses || (serving && !terminating), nodeName, zone from the node's
 * topology.kubernetes.io/zone label, targetRef); endpoints are grouped by their resolved port
 * list (getEndpointPorts / FindPort) and each group is cut into slices of at most 100. A Service
 * that selects nothing gets one placeholder slice per family. Slice names come from generateName
 * ("<service>-" + 5 characters), drawn from the caller's rng. Endpoints keep the pods' order in
 * Cluster.pods; slice order follows the Service's families and the groups' first appearance.
 */
#include "model/endpointslice_controller.h"

#include <string.h>

#define EPS_NAME_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
#define EPS_MAX_GENERATE_BASE 58
#define EPS_LABEL_SERVICE_NAME "kubernetes.io/service-name"
#define EPS_LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define EPS_CONTROLLER_NAME "endpointslice-controller.k8s.io"
#define EPS_LABEL_HEADLESS "service.kubernetes.io/headless"
#define EPS_LABEL_ZONE "topology.kubernetes.io/zone"

/* Endpoints that share one resolved port list. */
typedef struct {
    GArray *ports;        /* guint16 resolved port per Service port, 0 = left out */
    GPtrArray *endpoints; /* K8sEndpoint*, owned until moved into slices */
} EpsGroup;

/* What one sync needs besides the cluster: lookups built once, the name draw and warnings. */
typedef struct {
    Cluster *c;
    SimRng *rng;
    GPtrArray *warnings;           /* (nullable) */
    GHashTable *nodes;             /* node name -> K8sNode* */
    GHashTable *pods_by_label;     /* "ns\x1fkey=value" -> GPtrArray of K8sPod*, (nullable) */
    GHashTable *slice_names;       /* "ns/name" of every slice in c (owned keys) */
    GHashTable *explicit_services; /* "ns/service" with a user-written slice (owned keys) */
    GHashTable *old;               /* "ns/service" -> GPtrArray of its former managed slices */
} EpsSync;

/* Frees a group and the endpoints still in it. */
static void
eps_group_free(EpsGroup *g)
{
    g_array_unref(g->ports);
    g_ptr_array_unref(g->endpoints);
    g_free(g);
}

/* TRUE when svc's selector is set and non-empty (an empty selector is stored as none). */
static gboolean
eps_has_selector(const K8sService *svc)
{
    return svc->selector != NULL && g_hash_table_size(svc->selector) > 0;
}

/* TRUE when slice is a user-written slice of svc. */
static gboolean
eps_is_explicit_slice_of(const K8sEndpointSlice *slice, const K8sService *svc)
{
    return !slice->managed && g_strcmp0(slice->service_name, svc->meta.name) == 0 &&
           g_strcmp0(slice->meta.namespace_, svc->meta.namespace_) == 0;
}

/* TRUE when the controller writes svc's slices; see endpointslice_controller.h. */
gboolean
endpointslice_controller_manages(const Cluster *c, const K8sService *svc)
{
    g_return_val_if_fail(c != NULL && svc != NULL, FALSE);
    if (svc->type == K8S_SVC_EXTERNAL_NAME || !eps_has_selector(svc))
        return FALSE;
    for (guint i = 0; i < c->slices->len; i++) {
        if (eps_is_explicit_slice_of(c->slices->pdata[i], svc))
            return FALSE;
    }
    return TRUE;
}

/* FindPort; see endpointslice_controller.h. */
gboolean
endpointslice_controller_find_port(const K8sPod *pod, const K8sServicePort *svc_port, guint16 *out)
{
    g_return_val_if_fail(pod != NULL && svc_port != NULL && out != NULL, FALSE);
    if (svc_port->target_port_name == NULL) {
        *out = svc_port->target_port != 0 ? svc_port->target_port : svc_port->port;
        return TRUE;
    }
    for (guint i = 0; i < pod->spec.containers->len; i++) {
        const K8sContainer *ct = pod->spec.containers->pdata[i];
        for (guint j = 0; ct->ports != NULL && j < ct->ports->len; j++) {
            const K8sContainerPort *cp = &g_array_index(ct->ports, K8sContainerPort, j);
            if (g_strcmp0(cp->name, svc_port->target_port_name) == 0 &&
                cp->protocol == svc_port->protocol) {
                *out = cp->container_port;
                return TRUE;
            }
        }
    }
    return FALSE;
}

/* Appends "FILE:LINE:COL: warning: MESSAGE" to the sync's warnings, when it collects them. */
static void G_GNUC_PRINTF(3, 4) eps_warn(EpsSync *s, const K8sPos *pos, const char *format, ...)
{
    if (s->warnings == NULL)
        return;
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    const char *file = pos->file;
    if (file == NULL)
        file = s->c->scenario != NULL ? s->c->scenario->file : "<unknown>";
    g_ptr_array_add(s->warnings,
                    g_strdup_printf("%s:%u:%u: warning: %s", file, pos->line, pos->column, msg));
}

/* The smallest key of a non-empty selector (a stable choice of index key). (transfer none) */
static const char *
eps_selector_first_key(GHashTable *selector)
{
    const char *first = NULL;
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, selector);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        if (first == NULL || strcmp(k, first) < 0)
            first = k;
    }
    return first;
}

/* Indexes c's pods by "namespace\x1fkey=value" for every label they carry, keeping pod order.
 * (transfer full) */
static GHashTable *
eps_index_pods(const Cluster *c)
{
    GHashTable *idx =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *pod = c->pods->pdata[i];
        if (pod->meta.labels == NULL)
            continue;
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, pod->meta.labels);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            char *key = g_strconcat(pod->meta.namespace_, "\x1f", (char *)k, "=", (char *)v, NULL);
            GPtrArray *list = g_hash_table_lookup(idx, key);
            if (list == NULL) {
                list = g_ptr_array_new();
                g_hash_table_insert(idx, key, list);
            } else {
                g_free(key);
            }
            g_ptr_array_add(list, pod);
        }
    }
    return idx;
}

/* The pods svc selects, in the order of c->pods. (transfer container) */
static GPtrArray *
eps_select_pods(EpsSync *s, const K8sService *svc)
{
    GPtrArray *out = g_ptr_array_new();
    GPtrArray *candidates = s->c->pods;
    if (s->pods_by_label != NULL) {
        const char *key = eps_selector_first_key(svc->selector);
        g_autofree char *ikey = g_strconcat(svc->meta.namespace_, "\x1f", key, "=",
                                            (char *)g_hash_table_lookup(svc->selector, key), NULL);
        candidates = g_hash_table_lookup(s->pods_by_label, ikey);
        if (candidates == NULL)
            return out;
    }
    for (guint i = 0; i < candidates->len; i++) {
        K8sPod *pod = candidates->pdata[i];
        if (g_strcmp0(pod->meta.namespace_, svc->meta.namespace_) == 0 &&
            k8s_selector_matches(svc->selector, pod->meta.labels))
            g_ptr_array_add(out, pod);
    }
    return out;
}

/* Warns about a selector that matches no pod and about named targetPorts no selected pod has. */
static void
eps_warn_selection(EpsSync *s, const K8sService *svc, const GPtrArray *pods)
{
    if (pods->len == 0) {
        g_autofree char *sel = k8s_labels_to_string(svc->selector);
        eps_warn(s, &svc->meta.pos,
                 "Service \"%s\": selector %s matches no pods in namespace \"%s\"", svc->meta.name,
                 sel, svc->meta.namespace_);
        return;
    }
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *sp = svc->ports->pdata[i];
        if (sp->target_port_name == NULL)
            continue;
        gboolean found = FALSE;
        guint16 port;
        for (guint j = 0; j < pods->len && !found; j++)
            found = endpointslice_controller_find_port(pods->pdata[j], sp, &port);
        if (!found)
            eps_warn(s, &sp->pos,
                     "Service \"%s\": spec.ports[%u].targetPort \"%s\": no selected pod has a %s "
                     "container port of that name",
                     svc->meta.name, i, sp->target_port_name, sim_proto_k8s_name(sp->protocol));
    }
}

/* podToEndpoint: pod as an endpoint of svc. (transfer full) */
static K8sEndpoint *
eps_pod_endpoint(EpsSync *s, const K8sService *svc, const K8sPod *pod)
{
    K8sEndpoint *e = k8s_endpoint_new();
    g_array_append_val(e->addresses, pod->ip);
    gboolean serving = pod->ready, terminating = pod->terminating;
    e->serving = serving ? K8S_TRUE : K8S_FALSE;
    e->terminating = terminating ? K8S_TRUE : K8S_FALSE;
    e->ready = (svc->publish_not_ready || (serving && !terminating)) ? K8S_TRUE : K8S_FALSE;
    e->node_name = g_strdup(pod->node_name);
    const K8sNode *node =
        pod->node_name != NULL ? g_hash_table_lookup(s->nodes, pod->node_name) : NULL;
    const char *zone = (node != NULL && node->labels != NULL)
                           ? g_hash_table_lookup(node->labels, EPS_LABEL_ZONE)
                           : NULL;
    if (zone != NULL && zone[0] != '\0')
        e->zone = g_strdup(zone);
    e->target_pod = g_strdup(pod->meta.name);
    e->pos = pod->meta.pos;
    return e;
}

/* The group of endpoints whose resolved ports are ports, created (in order) when new.
 * (transfer none) */
static EpsGroup *
eps_group_for(GPtrArray *groups, GHashTable *by_key, GArray *ports)
{
    GString *key = g_string_new(NULL);
    for (guint i = 0; i < ports->len; i++)
        g_string_append_printf(key, "%u,", (guint)g_array_index(ports, guint16, i));
    EpsGroup *g = g_hash_table_lookup(by_key, key->str);
    if (g != NULL) {
        g_string_free(key, TRUE);
        g_array_unref(ports);
        return g;
    }
    g = g_new0(EpsGroup, 1);
    g->ports = ports;
    g->endpoints = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_free);
    g_ptr_array_add(groups, g);
    g_hash_table_insert(by_key, g_string_free(key, FALSE), g);
    return g;
}

/* Groups the selected pods with an IP of family by their resolved port lists. (transfer full) */
static GPtrArray *
eps_group_pods(EpsSync *s, const K8sService *svc, const GPtrArray *pods, SimFamily family)
{
    GPtrArray *groups = g_ptr_array_new_with_free_func((GDestroyNotify)eps_group_free);
    g_autoptr(GHashTable) by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < pods->len; i++) {
        const K8sPod *pod = pods->pdata[i];
        if (pod->ip.family != family)
            continue; /* no IP yet, or another family's slice */
        GArray *ports = g_array_sized_new(FALSE, TRUE, sizeof(guint16), svc->ports->len);
        for (guint j = 0; j < svc->ports->len; j++) {
            guint16 port = 0;
            if (!endpointslice_controller_find_port(pod, svc->ports->pdata[j], &port))
                port = 0;
            g_array_append_val(ports, port);
        }
        EpsGroup *g = eps_group_for(groups, by_key, ports);
        g_ptr_array_add(g->endpoints, eps_pod_endpoint(s, svc, pod));
    }
    return groups;
}

/* A managed slice of svc for family with the ports of group (all of them when group is NULL:
 * the placeholder has none). The name is set later. (transfer full) */
static K8sEndpointSlice *
eps_new_slice(const K8sService *svc, SimFamily family, const EpsGroup *group)
{
    K8sEndpointSlice *slice = k8s_endpoint_slice_new();
    g_free(slice->meta.namespace_);
    slice->meta.namespace_ = g_strdup(svc->meta.namespace_);
    slice->meta.pos = svc->meta.pos;
    slice->meta.labels = k8s_string_table_new();
    if (svc->meta.labels != NULL) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, svc->meta.labels);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(slice->meta.labels, g_strdup(k), g_strdup(v));
    }
    if (svc->cluster_ip_none)
        g_hash_table_insert(slice->meta.labels, g_strdup(EPS_LABEL_HEADLESS), g_strdup(""));
    g_hash_table_insert(slice->meta.labels, g_strdup(EPS_LABEL_SERVICE_NAME),
                        g_strdup(svc->meta.name));
    g_hash_table_insert(slice->meta.labels, g_strdup(EPS_LABEL_MANAGED_BY),
                        g_strdup(EPS_CONTROLLER_NAME));
    slice->service_name = g_strdup(svc->meta.name);
    slice->address_type = family;
    slice->managed = TRUE;
    for (guint i = 0; group != NULL && i < svc->ports->len; i++) {
        guint16 port = g_array_index(group->ports, guint16, i);
        if (port == 0)
            continue;
        const K8sServicePort *sp = svc->ports->pdata[i];
        K8sEndpointPort *ep = g_new0(K8sEndpointPort, 1);
        ep->name = g_strdup(sp->name != NULL ? sp->name : "");
        ep->port = port;
        ep->protocol = sp->protocol;
        g_ptr_array_add(slice->ports, ep);
    }
    return slice;
}

/* Cuts group into slices of at most ENDPOINTSLICE_MAX_ENDPOINTS endpoints, appended to out. */
static void
eps_slices_of_group(const K8sService *svc, SimFamily family, EpsGroup *group, GPtrArray *out)
{
    K8sEndpointSlice *slice = NULL;
    for (guint i = 0; i < group->endpoints->len; i++) {
        if (slice == NULL || slice->endpoints->len == ENDPOINTSLICE_MAX_ENDPOINTS) {
            slice = eps_new_slice(svc, family, group);
            g_ptr_array_add(out, slice);
        }
        g_ptr_array_add(slice->endpoints, g_steal_pointer(&group->endpoints->pdata[i]));
    }
    g_ptr_array_set_size(group->endpoints, 0); /* every entry was stolen */
}

/* The slices svc should have for the selected pods: per family, one per port group and 100
 * endpoints, or a placeholder. Names are not set yet. (transfer full) */
static GPtrArray *
eps_desired_slices(EpsSync *s, const K8sService *svc, const GPtrArray *pods)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_slice_free);
    for (guint f = 0; f < svc->ip_families->len; f++) {
        SimFamily family = g_array_index(svc->ip_families, guint8, f);
        g_autoptr(GPtrArray) groups = eps_group_pods(s, svc, pods, family);
        for (guint i = 0; i < groups->len; i++)
            eps_slices_of_group(svc, family, groups->pdata[i], out);
        if (groups->len == 0)
            g_ptr_array_add(out, eps_new_slice(svc, family, NULL));
    }
    return out;
}

/* A slice name for svc not used in its namespace: generateName "<service>-" + 5 characters
 * from rng. Registers it. (transfer full) */
static char *
eps_generate_name(EpsSync *s, const K8sService *svc)
{
    g_autofree char *base = g_strconcat(svc->meta.name, "-", NULL);
    for (;;) {
        GString *name = g_string_new_len(base, MIN(strlen(base), EPS_MAX_GENERATE_BASE));
        for (guint i = 0; i < 5; i++)
            g_string_append_c(
                name, EPS_NAME_ALPHABET[sim_rng_below(s->rng, sizeof EPS_NAME_ALPHABET - 1)]);
        char *key = g_strconcat(svc->meta.namespace_, "/", name->str, NULL);
        if (g_hash_table_add(s->slice_names, key))
            return g_string_free(name, FALSE);
        g_string_free(name, TRUE);
    }
}

/* Orders slices by name. */
static gint
eps_slice_name_compare(gconstpointer a, gconstpointer b)
{
    return g_strcmp0((*(K8sEndpointSlice *const *)a)->meta.name,
                     (*(K8sEndpointSlice *const *)b)->meta.name);
}

/* "namespace/name", the key of a Service and of the slices labelled with it. (transfer full) */
static char *
eps_service_key(const char *ns, const char *name)
{
    return g_strconcat(ns, "/", name, NULL);
}

/* Moves the managed slices of svc (of every Service when svc is NULL) out of c->slices into
 * s->old, grouped by Service key and sorted by name, and records which Services have a
 * user-written slice. One pass over c->slices. */
static void
eps_take_managed(EpsSync *s, const K8sService *svc)
{
    GPtrArray *slices = s->c->slices;
    guint kept = 0;
    for (guint i = 0; i < slices->len; i++) {
        K8sEndpointSlice *slice = slices->pdata[i];
        gboolean ours =
            svc == NULL || (g_strcmp0(slice->service_name, svc->meta.name) == 0 &&
                            g_strcmp0(slice->meta.namespace_, svc->meta.namespace_) == 0);
        char *key = eps_service_key(slice->meta.namespace_, slice->service_name);
        if (!slice->managed || !ours) {
            slices->pdata[kept++] = slice;
            if (!slice->managed)
                g_hash_table_add(s->explicit_services, g_steal_pointer(&key));
            g_free(key);
            continue;
        }
        GPtrArray *old = g_hash_table_lookup(s->old, key);
        if (old == NULL) {
            old = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_slice_free);
            g_hash_table_insert(s->old, g_steal_pointer(&key), old);
        }
        g_free(key);
        g_ptr_array_add(old, slice);
    }
    /* Shrink without freeing the entries moved out (they are in kept's slots or in s->old). */
    g_ptr_array_set_free_func(slices, NULL);
    g_ptr_array_set_size(slices, kept);
    g_ptr_array_set_free_func(slices, (GDestroyNotify)k8s_endpoint_slice_free);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->old);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_sort(v, eps_slice_name_compare);
}

/* Reconciles one Service: its managed slices are replaced by the desired ones, which reuse the
 * old names in name order before drawing new ones. Old slices left over are freed with s. */
static void
eps_sync_one(EpsSync *s, const K8sService *svc)
{
    g_autofree char *key = eps_service_key(svc->meta.namespace_, svc->meta.name);
    if (svc->type == K8S_SVC_EXTERNAL_NAME || !eps_has_selector(svc) ||
        g_hash_table_contains(s->explicit_services, key))
        return;
    GPtrArray *old = g_hash_table_lookup(s->old, key);
    guint n_old = old != NULL ? old->len : 0;
    g_autoptr(GPtrArray) pods = eps_select_pods(s, svc);
    eps_warn_selection(s, svc, pods);
    g_autoptr(GPtrArray) desired = eps_desired_slices(s, svc, pods);
    for (guint i = 0; i < desired->len; i++) {
        K8sEndpointSlice *slice = desired->pdata[i];
        if (i < n_old) {
            K8sEndpointSlice *prev = old->pdata[i];
            slice->meta.name = g_steal_pointer(&prev->meta.name);
        } else {
            slice->meta.name = eps_generate_name(s, svc);
        }
        g_ptr_array_add(s->c->slices, g_steal_pointer(&desired->pdata[i]));
    }
    for (guint i = desired->len; i < n_old; i++) {
        K8sEndpointSlice *prev = old->pdata[i];
        g_autofree char *name = eps_service_key(prev->meta.namespace_, prev->meta.name);
        g_hash_table_remove(s->slice_names, name);
    }
}

/* Prepares the lookups of a sync over c and takes the managed slices of svc (all when NULL). */
static void
eps_sync_init(EpsSync *s, Cluster *c, SimRng *rng, GPtrArray *warnings, const K8sService *svc)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->rng = rng;
    s->warnings = warnings;
    s->nodes = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < c->nodes->len; i++) {
        K8sNode *n = c->nodes->pdata[i];
        g_hash_table_insert(s->nodes, n->name, n);
    }
    s->pods_by_label = svc == NULL ? eps_index_pods(c) : NULL;
    s->slice_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < c->slices->len; i++) {
        const K8sEndpointSlice *slice = c->slices->pdata[i];
        if (slice->meta.name != NULL)
            g_hash_table_add(s->slice_names,
                             eps_service_key(slice->meta.namespace_, slice->meta.name));
    }
    s->explicit_services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->old =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    eps_take_managed(s, svc);
}

/* Releases the lookups of a sync and the old slices that were not reused. */
static void
eps_sync_clear(EpsSync *s)
{
    g_clear_pointer(&s->nodes, g_hash_table_unref);
    g_clear_pointer(&s->pods_by_label, g_hash_table_unref);
    g_clear_pointer(&s->slice_names, g_hash_table_unref);
    g_clear_pointer(&s->explicit_services, g_hash_table_unref);
    g_clear_pointer(&s->old, g_hash_table_unref);
}

/* Writes every managed Service's slices; see endpointslice_controller.h. */
void
endpointslice_controller_sync_all(Cluster *c, SimRng *rng, GPtrArray *warnings)
{
    g_return_if_fail(c != NULL && rng != NULL);
    endpointslice_controller_sync_some(c, c->services, rng, warnings);
}

/* Writes the slices of the managed Services among services; see
 * endpointslice_controller.h. */
void
endpointslice_controller_sync_some(Cluster *c, const GPtrArray *services, SimRng *rng,
                                   GPtrArray *warnings)
{
    g_return_if_fail(c != NULL && services != NULL && rng != NULL);
    EpsSync s;
    eps_sync_init(&s, c, rng, warnings, NULL);
    for (guint i = 0; i < services->len; i++)
        eps_sync_one(&s, services->pdata[i]);
    eps_sync_clear(&s);
}

/* Writes one Service's slices; see endpointslice_controller.h. */
void
endpointslice_controller_sync_service(Cluster *c, const K8sService *svc, SimRng *rng,
                                      GPtrArray *warnings)
{
    g_return_if_fail(c != NULL && svc != NULL && rng != NULL);
    EpsSync s;
    eps_sync_init(&s, c, rng, warnings, svc);
    eps_sync_one(&s, svc);
    eps_sync_clear(&s);
}
