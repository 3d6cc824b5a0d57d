/* SPDX-License-Identifier: Apache-2.0 */
/* One node's view of Services and endpoints per IP family, shared by every proxy mode.
 *
 * Models kube-proxy's ServiceChangeTracker and EndpointSliceCache results (svcPortMap and
 * endpointsMap), CategorizeEndpoints(), NodePortAddresses and the local-traffic detectors, for
 * one sync of one node. Deliberately left out: change tracking between syncs (kpsim rebuilds the
 * view each time), events for wrong-family addresses, and FQDN slices (never proxied).
 *
 * Deterministic where kube-proxy is not: it merges slices in Go-map order, so "first wins" among
 * duplicate endpoints depends on that order; kpsim merges slices in name order.
 */
#include "model/kube_proxy_endpoints.h"
#include "model/kube_proxy.h"

#include <string.h>

#define KP_ZONE_LABEL "topology.kubernetes.io/zone"

/* clang-format off */
G_DEFINE_QUARK(kube-proxy-error-quark, kube_proxy_error)
/* clang-format on */

/* ---------------------------------------------------------------- small helpers */

/* The first address of family in addrs (a SimAddr array), or NULL. */
static const SimAddr *
kp_first_of_family(const GArray *addrs, SimFamily family)
{
    for (guint i = 0; addrs != NULL && i < addrs->len; i++) {
        const SimAddr *a = &g_array_index(addrs, SimAddr, i);
        if (a->family == family)
            return a;
    }
    return NULL;
}

/* Orders KpEndpoint pointers by their "IP:port" string, as kube-proxy's byEndpoint does. */
static gint
kp_endpoint_compare(gconstpointer a, gconstpointer b, gpointer unused)
{
    (void)unused;
    const KpEndpoint *x = *(const KpEndpoint *const *)a;
    const KpEndpoint *y = *(const KpEndpoint *const *)b;
    return strcmp(x->str, y->str);
}

/* Orders KpServicePort pointers by (name, protocol). */
static gint
kp_service_port_compare(gconstpointer a, gconstpointer b)
{
    const KpServicePort *x = *(const KpServicePort *const *)a;
    const KpServicePort *y = *(const KpServicePort *const *)b;
    int r = strcmp(x->name, y->name);
    return r != 0 ? r : strcmp(x->protocol, y->protocol);
}

/* Orders an EndpointSlice against a Service by (namespace, service name). */
static int
kp_slice_service_compare(const K8sEndpointSlice *s, const char *namespace_, const char *service)
{
    int r = g_strcmp0(s->meta.namespace_, namespace_);
    return r != 0 ? r : g_strcmp0(s->service_name, service);
}

/* Orders EndpointSlice pointers by (namespace, service name, slice name). */
static gint
kp_slice_compare(gconstpointer a, gconstpointer b)
{
    const K8sEndpointSlice *x = *(const K8sEndpointSlice *const *)a;
    const K8sEndpointSlice *y = *(const K8sEndpointSlice *const *)b;
    int r = kp_slice_service_compare(x, y->meta.namespace_, y->service_name);
    return r != 0 ? r : g_strcmp0(x->meta.name, y->meta.name);
}

/* Appends p to list, a list carved with room for it (kp_map_ptr_list()). */
static inline void
kp_list_add(KpPtrList *list, gpointer p)
{
    list->pdata[list->len++] = p;
}

/* A port name with NULL read as "" (an unnamed port). (transfer none) */
static const char *
kp_port_name(const char *name)
{
    return name != NULL ? name : "";
}

/* ---------------------------------------------------------------- EndpointSlice index */

/* Indexes c's EndpointSlices of family that name a Service: the slices (borrowed) sorted by
 * (namespace, service name, slice name), so that each Service's slices are one run in slice-name
 * order. Cost: O(slices log slices). (transfer full) */
static GPtrArray *
kp_slice_index_new(const Cluster *c, SimFamily family)
{
    GPtrArray *index = g_ptr_array_sized_new(c->slices != NULL ? c->slices->len : 0);
    for (guint i = 0; c->slices != NULL && i < c->slices->len; i++) {
        K8sEndpointSlice *s = c->slices->pdata[i];
        if (s->address_type == family && s->service_name != NULL)
            g_ptr_array_add(index, s);
    }
    g_ptr_array_sort(index, kp_slice_compare);
    return index;
}

/* The run of index (see kp_slice_index_new()) that belongs to svc: its first slice, and its
 * length in *n (0 when svc has none). Cost: O(log slices). (transfer none) */
static K8sEndpointSlice *const *
kp_slice_index_find(const GPtrArray *index, const K8sService *svc, guint *n)
{
    guint lo = 0, hi = index->len;
    while (lo < hi) { /* the first slice not ordered before svc */
        guint mid = lo + (hi - lo) / 2;
        if (kp_slice_service_compare(index->pdata[mid], svc->meta.namespace_, svc->meta.name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    guint end = lo;
    while (end < index->len &&
           kp_slice_service_compare(index->pdata[end], svc->meta.namespace_, svc->meta.name) == 0)
        end++;
    *n = end - lo;
    return (K8sEndpointSlice *const *)index->pdata + lo;
}

/* ---------------------------------------------------------------- endpoints */

/* Appends to sp->endpoints one KpEndpoint per endpoint of slice port sport whose first address
 * is of family (kube-proxy's addEndpoints before deduplication), taking them from
 * sp->endpoint_block, which has room for them. */
static void
kp_add_slice_endpoints(KpServicePort *sp, const K8sEndpointSlice *slice,
                       const K8sEndpointPort *sport, const K8sNode *node, SimFamily family)
{
    for (guint i = 0; i < slice->endpoints->len; i++) {
        const K8sEndpoint *e = slice->endpoints->pdata[i];
        if (e->addresses == NULL || e->addresses->len == 0)
            continue;
        const SimAddr *ip = &g_array_index(e->addresses, SimAddr, 0);
        if (ip->family != family)
            continue;
        KpEndpoint *ep = &sp->endpoint_block[sp->endpoints->len];
        *ep = (KpEndpoint){0};
        ep->addr.addr = *ip;
        ep->addr.port = sport->port;
        sim_sockaddr_to_string(&ep->addr, ep->str);
        ep->source = e;
        ep->ready = e->ready != K8S_FALSE;
        ep->serving = e->serving != K8S_FALSE;
        ep->terminating = e->terminating == K8S_TRUE;
        ep->local = e->node_name != NULL && g_strcmp0(e->node_name, node->name) == 0;
        kp_list_add(sp->endpoints, ep);
    }
}

/* Sorts eps (stably) by "IP:port" and removes duplicates the way kube-proxy's endpoint set does:
 * the first entry is kept unless a later duplicate is local, in which case the last local one
 * replaces it. Renumbers the survivors' index. The dropped duplicates stay unused in their
 * port's endpoint_block. */
static void
kp_endpoints_sort_dedup(KpPtrList *eps)
{
    /* eps is carved from the map's blocks, not a GPtrArray: sorted in place (stable since
     * GLib 2.32). */
    g_qsort_with_data(eps->pdata, (gint)eps->len, sizeof(gpointer), kp_endpoint_compare, NULL);
    guint out = 0;
    for (guint i = 0; i < eps->len;) {
        guint j = i + 1;
        KpEndpoint *keep = eps->pdata[i];
        for (; j < eps->len && strcmp(((KpEndpoint *)eps->pdata[j])->str, keep->str) == 0; j++) {
            KpEndpoint *dup = eps->pdata[j];
            if (dup->local)
                keep = dup;
        }
        keep->index = out;
        eps->pdata[out++] = keep;
        i = j;
    }
    eps->len = out;
}

/* TRUE when the EndpointSlice port p serves the Service port port: same name and protocol and
 * a non-zero port number. */
static gboolean
kp_slice_port_matches(const K8sEndpointPort *p, const K8sServicePort *port)
{
    return p->port != 0 && p->protocol == port->protocol &&
           strcmp(kp_port_name(p->name), kp_port_name(port->name)) == 0;
}

/* An upper bound of the endpoints port collects from slices (n of them): the endpoints of every
 * matching slice port, of any family. */
static guint
kp_count_endpoints(const K8sServicePort *port, K8sEndpointSlice *const *slices, guint n)
{
    guint count = 0;
    for (guint i = 0; i < n; i++) {
        const K8sEndpointSlice *slice = slices[i];
        for (guint k = 0; slice->ports != NULL && k < slice->ports->len; k++) {
            if (kp_slice_port_matches(slice->ports->pdata[k], port))
                count += slice->endpoints->len;
        }
    }
    return count;
}

/* Collects the endpoints of sp from slices (the n slices of the Service of this family) into
 * sp->endpoint_block, which has room for kp_count_endpoints() of them. */
static void
kp_collect_endpoints(KpServicePort *sp, K8sEndpointSlice *const *slices, guint n,
                     const K8sNode *node, SimFamily family)
{
    for (guint i = 0; i < n; i++) {
        const K8sEndpointSlice *slice = slices[i];
        for (guint k = 0; slice->ports != NULL && k < slice->ports->len; k++) {
            const K8sEndpointPort *p = slice->ports->pdata[k];
            if (kp_slice_port_matches(p, sp->port))
                kp_add_slice_endpoints(sp, slice, p, node, family);
        }
    }
    kp_endpoints_sort_dedup(sp->endpoints);
}

/* ---------------------------------------------------------------- CategorizeEndpoints */

/* The node's topology.kubernetes.io/zone label, or NULL. (transfer none) */
static const char *
kp_node_zone(const K8sNode *node)
{
    return node->labels != NULL ? g_hash_table_lookup(node->labels, KP_ZONE_LABEL) : NULL;
}

/* TRUE when hints (char* zone names, nullable) contain zone. */
static gboolean
kp_hints_have(const GPtrArray *hints, const char *zone)
{
    for (guint i = 0; hints != NULL && i < hints->len; i++) {
        if (g_strcmp0(hints->pdata[i], zone) == 0)
            return TRUE;
    }
    return FALSE;
}

/* TRUE when the Service asks for topology-aware routing: annotation
 * service.kubernetes.io/topology-mode Auto/auto, or a trafficDistribution value. */
static gboolean
kp_service_wants_topology(const K8sService *svc)
{
    static const char *const modes[] = {"Auto", "auto", "PreferClose", "PreferSameZone",
                                        "PreferSameNode"};
    for (gsize i = 0; svc->topology_mode != NULL && i < G_N_ELEMENTS(modes); i++) {
        if (strcmp(svc->topology_mode, modes[i]) == 0)
            return TRUE;
    }
    return FALSE;
}

/* canUseTopology(): the Service asks for it, the node has a zone label, every ready endpoint
 * has zone hints and at least one ready endpoint is hinted for the node's zone. */
static gboolean
kp_can_use_topology(const KpServicePort *sp, const K8sNode *node)
{
    if (!kp_service_wants_topology(sp->service))
        return FALSE;
    const char *zone = kp_node_zone(node);
    gboolean zone_hinted = FALSE;
    for (guint i = 0; i < sp->endpoints->len; i++) {
        const KpEndpoint *ep = sp->endpoints->pdata[i];
        if (!ep->ready)
            continue;
        const GPtrArray *hints = ep->source->hint_zones;
        if (hints == NULL || hints->len == 0 || zone == NULL || zone[0] == '\0')
            return FALSE;
        zone_hinted = zone_hinted || kp_hints_have(hints, zone);
    }
    return zone_hinted;
}

/* Fills sp->cluster (ready endpoints, topology-filtered, else serving+terminating ones) and
 * returns TRUE when it is not empty. */
static gboolean
kp_categorize_cluster(KpServicePort *sp, const K8sNode *node)
{
    sp->used_topology = kp_can_use_topology(sp, node);
    const char *zone = kp_node_zone(node);
    for (guint i = 0; i < sp->endpoints->len; i++) {
        KpEndpoint *ep = sp->endpoints->pdata[i];
        if (ep->ready && (!sp->used_topology || kp_hints_have(ep->source->hint_zones, zone)))
            kp_list_add(sp->cluster, ep);
    }
    if (sp->cluster->len == 0) {
        for (guint i = 0; i < sp->endpoints->len; i++) {
            KpEndpoint *ep = sp->endpoints->pdata[i];
            if (ep->serving && ep->terminating)
                kp_list_add(sp->cluster, ep);
        }
    }
    return sp->cluster->len > 0;
}

/* Fills sp->local (local ready endpoints, else local serving+terminating ones) and returns TRUE
 * when any usable endpoint (ready, or serving and terminating) exists anywhere. */
static gboolean
kp_categorize_local(KpServicePort *sp)
{
    gboolean any = FALSE, local_ready = FALSE, local_serving_terminating = FALSE;
    for (guint i = 0; i < sp->endpoints->len; i++) {
        const KpEndpoint *ep = sp->endpoints->pdata[i];
        if (ep->ready) {
            any = TRUE;
            local_ready = local_ready || ep->local;
        } else if (ep->serving && ep->terminating) {
            any = TRUE;
            local_serving_terminating = local_serving_terminating || ep->local;
        }
    }
    for (guint i = 0; (local_ready || local_serving_terminating) && i < sp->endpoints->len; i++) {
        KpEndpoint *ep = sp->endpoints->pdata[i];
        gboolean usable = local_ready ? ep->ready : (ep->serving && ep->terminating);
        if (ep->local && usable)
            kp_list_add(sp->local, ep);
    }
    return any;
}

/* CategorizeEndpoints(): the cluster, local and all-reachable sets and has_endpoints. The
 * all-reachable set is the union of the other two, in endpoint order. */
static void
kp_categorize(KpServicePort *sp, const K8sNode *node)
{
    if (sp->uses_cluster_endpoints)
        sp->has_endpoints = kp_categorize_cluster(sp, node);
    if (sp->uses_local_endpoints)
        sp->has_endpoints = kp_categorize_local(sp) || sp->has_endpoints;

    /* Merge the two sorted subsets of sp->endpoints; an endpoint in both advances both. */
    guint c = 0, l = 0;
    while (c < sp->cluster->len || l < sp->local->len) {
        KpEndpoint *ce = c < sp->cluster->len ? sp->cluster->pdata[c] : NULL;
        KpEndpoint *le = l < sp->local->len ? sp->local->pdata[l] : NULL;
        KpEndpoint *next = ce == NULL || (le != NULL && le->index < ce->index) ? le : ce;
        kp_list_add(sp->all_reachable, next);
        c += next == ce;
        l += next == le;
    }
}

/* ---------------------------------------------------------------- service ports */

#define KP_MAP_BLOCK_SIZE (64 * 1024)

/* size bytes (max_align_t-aligned, uninitialised) carved from m's blocks; they live as long as
 * m. */
static gpointer
kp_map_alloc(KpServiceMap *m, gsize size)
{
    const gsize align = _Alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size > m->block_left) {
        gsize block = MAX(size, KP_MAP_BLOCK_SIZE);
        m->block_next = g_malloc(block);
        m->block_left = block;
        g_ptr_array_add(m->blocks, m->block_next);
    }
    gpointer p = m->block_next;
    m->block_next += size;
    m->block_left -= size;
    return p;
}

/* An empty pointer list with room for room pointers, carved from m's blocks: the header, then
 * pdata. Filled with kp_list_add(). (transfer none) */
static KpPtrList *
kp_map_ptr_list(KpServiceMap *m, guint room)
{
    KpPtrList *list = kp_map_alloc(m, sizeof *list + room * sizeof(gpointer));
    list->pdata = room > 0 ? (gpointer *)(list + 1) : NULL;
    list->len = 0;
    return list;
}

/* An array of n elements of size bytes, carved like kp_map_ptr_list(): the header, then data,
 * len = n, to be filled by the caller. (transfer none) */
static KpValueList *
kp_map_array(KpServiceMap *m, guint n, gsize size)
{
    KpValueList *a = kp_map_alloc(m, sizeof *a + n * size);
    a->data = n > 0 ? (gchar *)(a + 1) : NULL;
    a->len = n;
    return a;
}

/* svcPortNameString: "ns/svc", or "ns/svc:port" for a named port (k8s_service_port_name()),
 * written into m's blocks without printf. (transfer none) */
static char *
kp_map_port_name(KpServiceMap *m, const K8sService *svc, const K8sServicePort *port)
{
    const char *ns = svc->meta.namespace_, *name = svc->meta.name;
    const char *pname = port->name != NULL ? port->name : "";
    if (ns == NULL || name == NULL) { /* never from the loader; printf's "(null)" as before */
        g_autofree char *text = k8s_service_port_name(svc, port);
        return strcpy(kp_map_alloc(m, strlen(text) + 1), text);
    }
    gsize n_ns = strlen(ns), n_name = strlen(name), n_port = strlen(pname);
    char *out = kp_map_alloc(m, n_ns + 1 + n_name + (n_port > 0 ? 1 + n_port : 0) + 1);
    char *p = out;
    memcpy(p, ns, n_ns);
    p += n_ns;
    *p++ = '/';
    memcpy(p, name, n_name);
    p += n_name;
    if (n_port > 0) {
        *p++ = ':';
        memcpy(p, pname, n_port);
        p += n_port;
    }
    *p = '\0';
    return out;
}

/* The addresses of src (SimAddr array, nullable) that are of family, in m's blocks.
 * (transfer none) */
static KpValueList *
kp_addrs_of_family(KpServiceMap *m, const GArray *src, SimFamily family)
{
    guint n = 0;
    for (guint i = 0; src != NULL && i < src->len; i++)
        n += g_array_index(src, SimAddr, i).family == family;
    KpValueList *out = kp_map_array(m, n, sizeof(SimAddr));
    for (guint i = 0, k = 0; k < n; i++) {
        const SimAddr *a = &g_array_index(src, SimAddr, i);
        if (a->family == family)
            g_array_index(out, SimAddr, k++) = *a;
    }
    return out;
}

/* The prefixes of src (SimCidr array, nullable) that are of family, in m's blocks.
 * (transfer none) */
static KpValueList *
kp_cidrs_of_family(KpServiceMap *m, const GArray *src, SimFamily family)
{
    guint n = 0;
    for (guint i = 0; src != NULL && i < src->len; i++)
        n += g_array_index(src, SimCidr, i).addr.family == family;
    KpValueList *out = kp_map_array(m, n, sizeof(SimCidr));
    for (guint i = 0, k = 0; k < n; i++) {
        const SimCidr *c = &g_array_index(src, SimCidr, i);
        if (c->addr.family == family)
            g_array_index(out, SimCidr, k++) = *c;
    }
    return out;
}

/* TRUE when in is a status.loadBalancer.ingress IP of family whose ipMode is VIP (or unset). */
static gboolean
kp_is_lb_vip(const K8sLoadBalancerIngress *in, SimFamily family)
{
    return in->ip.family == family && !in->ip_mode_proxy;
}

/* The status.loadBalancer.ingress IPs of family whose ipMode is VIP (or unset), in m's blocks.
 * (transfer none) */
static KpValueList *
kp_lb_vips(KpServiceMap *m, const K8sService *svc, SimFamily family)
{
    const GPtrArray *ingress = svc->lb_ingress;
    guint n = 0;
    for (guint i = 0; ingress != NULL && i < ingress->len; i++)
        n += kp_is_lb_vip(ingress->pdata[i], family);
    KpValueList *out = kp_map_array(m, n, sizeof(SimAddr));
    for (guint i = 0, k = 0; k < n; i++) {
        const K8sLoadBalancerIngress *in = ingress->pdata[i];
        if (kp_is_lb_vip(in, family))
            g_array_index(out, SimAddr, k++) = in->ip;
    }
    return out;
}

/* A service port record of m for port of svc with clusterIP cip, with the per-family front
 * ends and traffic-policy predicates of BaseServicePortInfo; no endpoints yet, but room for
 * n_endpoints of them in endpoint_block and the lists. Everything it points to that is its own
 * lives in m's blocks. (transfer none: to be added to m->ports) */
static KpServicePort *
kp_service_port_new(KpServiceMap *m, const K8sService *svc, const K8sServicePort *port,
                    const SimAddr *cip, guint n_endpoints)
{
    const SimFamily family = m->family;
    KpServicePort *sp = kp_map_alloc(m, sizeof *sp);
    *sp = (KpServicePort){0};
    sp->service = svc;
    sp->port = port;
    sp->name = kp_map_port_name(m, svc, port);
    sp->protocol = sim_proto_name(port->protocol);
    sp->cluster_ip = *cip;
    sp->external_ips = kp_addrs_of_family(m, svc->external_ips, family);
    sp->lb_vips = kp_lb_vips(m, svc, family);
    sp->source_ranges = kp_cidrs_of_family(m, svc->source_ranges, family);
    sp->sticky_seconds = svc->affinity_client_ip ? svc->affinity_timeout : 0;

    sp->externally_accessible =
        port->node_port != 0 || sp->lb_vips->len > 0 || sp->external_ips->len > 0;
    sp->external_policy_local =
        sp->externally_accessible && svc->external_policy == K8S_POLICY_LOCAL;
    sp->internal_policy_local = svc->internal_policy == K8S_POLICY_LOCAL;
    sp->uses_cluster_endpoints = !sp->internal_policy_local || sp->externally_accessible;
    sp->uses_local_endpoints = sp->internal_policy_local || sp->external_policy_local;
    if (svc->type == K8S_SVC_LOAD_BALANCER && svc->external_policy == K8S_POLICY_LOCAL)
        sp->health_check_node_port = svc->health_check_node_port;

    sp->endpoint_block = n_endpoints > 0 ? kp_map_alloc(m, n_endpoints * sizeof(KpEndpoint)) : NULL;
    sp->endpoints = kp_map_ptr_list(m, n_endpoints);
    sp->cluster = kp_map_ptr_list(m, sp->uses_cluster_endpoints ? n_endpoints : 0);
    sp->local = kp_map_ptr_list(m, sp->uses_local_endpoints ? n_endpoints : 0);
    sp->all_reachable = kp_map_ptr_list(m, n_endpoints);
    return sp;
}

/* See kube_proxy_endpoints.h. */
gboolean
kp_service_port_has_cluster(const KpServicePort *sp)
{
    return sp->summarised ? sp->summary_cluster : sp->cluster->len > 0;
}

/* See kube_proxy_endpoints.h. */
gboolean
kp_service_port_has_local(const KpServicePort *sp)
{
    return sp->summarised ? sp->summary_local : sp->local->len > 0;
}

/* Adds the summarised service ports of svc to m: what CategorizeEndpoints would decide for
 * sum's endpoints, none of them terminating and no topology (the focused build summarises no
 * other Service). */
static void
kp_service_map_add_summary(KpServiceMap *m, const K8sService *svc, const SimAddr *cip,
                           const ClusterServiceSummary *sum)
{
    for (guint i = 0; i < svc->ports->len; i++) {
        KpServicePort *sp = kp_service_port_new(m, svc, svc->ports->pdata[i], cip, 0);
        sp->summarised = TRUE;
        sp->has_endpoints = sum->ready > 0;
        sp->summary_cluster = sp->uses_cluster_endpoints && sum->ready > 0;
        sp->summary_local = sp->uses_local_endpoints && sum->local_ready > 0;
        m->total_endpoints += sum->endpoints;
        g_ptr_array_add(m->ports, sp);
    }
}

/* Adds the service ports of svc (which has clusterIP cip of m's family) to m, endpoints and
 * categories included. */
static void
kp_service_map_add_service(KpServiceMap *m, const K8sService *svc, const SimAddr *cip,
                           const GPtrArray *slice_index)
{
    const ClusterServiceSummary *sum =
        m->cluster->summaries != NULL ? g_hash_table_lookup(m->cluster->summaries, svc) : NULL;
    if (sum != NULL && sum->family == m->family) {
        g_return_if_fail(m->node == m->cluster->focus_node);
        kp_service_map_add_summary(m, svc, cip, sum);
        return;
    }
    guint n;
    K8sEndpointSlice *const *slices = kp_slice_index_find(slice_index, svc, &n);
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *port = svc->ports->pdata[i];
        guint room = kp_count_endpoints(port, slices, n);
        KpServicePort *sp = kp_service_port_new(m, svc, port, cip, room);
        kp_collect_endpoints(sp, slices, n, m->node, m->family);
        kp_categorize(sp, m->node);
        m->total_endpoints += sp->endpoints->len;
        m->listed_endpoints += sp->endpoints->len;
        g_ptr_array_add(m->ports, sp);
    }
}

/* Builds node's view of c for family; see the header. (transfer full) */
KpServiceMap *
kp_service_map_new(const Cluster *c, const K8sNode *node, SimFamily family)
{
    g_return_val_if_fail(c != NULL && node != NULL, NULL);
    g_return_val_if_fail(family == SIM_AF_INET || family == SIM_AF_INET6, NULL);

    KpServiceMap *m = g_new0(KpServiceMap, 1);
    m->cluster = c;
    m->node = node;
    m->family = family;
    m->ports = g_ptr_array_sized_new(c->services != NULL ? c->services->len : 0);
    m->blocks = g_ptr_array_new_with_free_func(g_free);

    g_autoptr(GPtrArray) slice_index = kp_slice_index_new(c, family);
    for (guint i = 0; c->services != NULL && i < c->services->len; i++) {
        const K8sService *svc = c->services->pdata[i];
        if (svc->type == K8S_SVC_EXTERNAL_NAME || svc->cluster_ip_none)
            continue;
        const SimAddr *cip = kp_first_of_family(svc->cluster_ips, family);
        if (cip != NULL)
            kp_service_map_add_service(m, svc, cip, slice_index);
    }
    g_ptr_array_sort(m->ports, kp_service_port_compare);
    return m;
}

/* Frees m and everything it owns; NULL-safe. */
void
kp_service_map_free(KpServiceMap *m)
{
    if (m == NULL)
        return;
    g_ptr_array_unref(m->ports); /* the ports and all they own live in the blocks */
    g_ptr_array_unref(m->blocks);
    g_free(m);
}

/* Binary search over m->ports by (name, protocol name). (transfer none) */
const KpServicePort *
kp_service_map_find(const KpServiceMap *m, const char *name, SimProto proto)
{
    g_return_val_if_fail(m != NULL && name != NULL, NULL);
    const char *pname = sim_proto_name(proto);
    guint lo = 0, hi = m->ports->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        const KpServicePort *sp = m->ports->pdata[mid];
        int r = strcmp(sp->name, name);
        if (r == 0)
            r = strcmp(sp->protocol, pname);
        if (r == 0)
            return sp;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The node's first address of family (kube-proxy's node IP for that family). */
gboolean
kp_node_primary_ip(const K8sNode *node, SimFamily family, SimAddr *out)
{
    g_return_val_if_fail(node != NULL && out != NULL, FALSE);
    const SimAddr *a = kp_first_of_family(node->addresses, family);
    if (a == NULL)
        return FALSE;
    *out = *a;
    return TRUE;
}

/* ---------------------------------------------------------------- local-traffic detector */

/* Sets d up from cfg for node and family (pkg/proxy/util/localdetector.go constructors). */
void
kp_local_detector_init(KpLocalDetector *d, const KubeProxyConfig *cfg, const K8sNode *node,
                       SimFamily family)
{
    g_return_if_fail(d != NULL && cfg != NULL && node != NULL);
    memset(d, 0, sizeof *d);
    d->mode = cfg->detect_local_mode;
    switch (cfg->detect_local_mode) {
    case KP_DETECT_CLUSTER_CIDR:
        for (guint i = 0;
             !d->implemented && cfg->cluster_cidrs != NULL && i < cfg->cluster_cidrs->len; i++) {
            d->cidr = g_array_index(cfg->cluster_cidrs, SimCidr, i);
            d->implemented = d->cidr.addr.family == family;
        }
        break;
    case KP_DETECT_NODE_CIDR:
        d->cidr = node->pod_cidr;
        d->implemented = node->pod_cidr.addr.family == family;
        break;
    case KP_DETECT_BRIDGE_INTERFACE:
        d->iface = cfg->bridge_interface;
        d->implemented = d->iface != NULL && d->iface[0] != '\0';
        break;
    case KP_DETECT_INTERFACE_NAME_PREFIX:
        d->iface = cfg->interface_name_prefix;
        d->implemented = d->iface != NULL && d->iface[0] != '\0';
        break;
    }
}

/* TRUE when the detector counts (src, iif) as cluster traffic. */
gboolean
kp_local_detector_is_local(const KpLocalDetector *d, const SimAddr *src, const char *iif)
{
    g_return_val_if_fail(d != NULL && src != NULL, FALSE);
    if (!d->implemented)
        return FALSE;
    switch (d->mode) {
    case KP_DETECT_CLUSTER_CIDR:
    case KP_DETECT_NODE_CIDR:
        return sim_cidr_contains(&d->cidr, src);
    case KP_DETECT_BRIDGE_INTERFACE:
        return iif != NULL && strcmp(iif, d->iface) == 0;
    case KP_DETECT_INTERFACE_NAME_PREFIX:
        return iif != NULL && g_str_has_prefix(iif, d->iface);
    }
    return FALSE;
}

/* ---------------------------------------------------------------- nodePortAddresses */

/* Sets error to KUBE_PROXY_ERROR_CONFIG with "FILE:LINE:COLUMN: error: " + the formatted
 * message, the position being the configuration's (omitted when unknown). */
void
kp_config_error(GError **error, const KubeProxyConfig *cfg, const char *format, ...)
{
    g_return_if_fail(cfg != NULL && format != NULL);
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (cfg->pos.file != NULL)
        g_set_error(error, KUBE_PROXY_ERROR, KUBE_PROXY_ERROR_CONFIG, "%s:%u:%u: error: %s",
                    cfg->pos.file, cfg->pos.line, cfg->pos.column, msg);
    else
        g_set_error(error, KUBE_PROXY_ERROR, KUBE_PROXY_ERROR_CONFIG, "error: %s", msg);
}

/* Parses nodePortAddresses for family (NewNodePortAddresses); see the header. */
gboolean
kp_node_port_addresses_init(KpNodePortAddresses *npa, const KubeProxyConfig *cfg,
                            const K8sNode *node, SimFamily family, GError **error)
{
    g_return_val_if_fail(npa != NULL && cfg != NULL && node != NULL, FALSE);
    npa->match_all = FALSE;
    npa->cidrs = g_array_new(FALSE, TRUE, sizeof(SimCidr));
    SimAddr primary;
    if (cfg->mode == KP_MODE_NFTABLES &&
        (cfg->node_port_addresses == NULL || cfg->node_port_addresses->len == 0)) {
        /* The nftables proxier's default is "primary" (datapath-semantics 5). */
        SimCidr cidr;
        if (kp_node_primary_ip(node, family, &primary)) {
            sim_cidr_from_addr(&primary, &cidr);
            g_array_append_val(npa->cidrs, cidr);
        }
        return TRUE;
    }
    for (guint i = 0; cfg->node_port_addresses != NULL && i < cfg->node_port_addresses->len; i++) {
        const char *text = cfg->node_port_addresses->pdata[i];
        SimCidr cidr;
        if (strcmp(text, "primary") == 0) {
            if (kp_node_primary_ip(node, family, &primary)) {
                sim_cidr_from_addr(&primary, &cidr);
                g_array_append_val(npa->cidrs, cidr);
            }
            continue;
        }
        if (strchr(text, '/') == NULL || !sim_cidr_parse(text, &cidr)) {
            kp_config_error(error, cfg,
                            "nodePortAddresses: \"%s\" is not a CIDR (like 10.0.0.0/8) or "
                            "\"primary\"",
                            text);
            kp_node_port_addresses_clear(npa);
            return FALSE;
        }
        if (cidr.addr.family != family)
            continue;
        /* kube-proxy's IsZeroCIDR compares the text: only these two spellings mean "all". */
        npa->match_all =
            npa->match_all || strcmp(text, "0.0.0.0/0") == 0 || strcmp(text, "::/0") == 0;
        g_array_append_val(npa->cidrs, cidr);
    }
    if (npa->cidrs->len == 0)
        npa->match_all = TRUE;
    if (npa->match_all)
        g_array_set_size(npa->cidrs, 0);
    return TRUE;
}

/* Releases what npa holds and zeroes it. */
void
kp_node_port_addresses_clear(KpNodePortAddresses *npa)
{
    g_return_if_fail(npa != NULL);
    g_clear_pointer(&npa->cidrs, g_array_unref);
    npa->match_all = FALSE;
}

/* TRUE when npa selects a. */
static gboolean
kp_npa_matches(const KpNodePortAddresses *npa, const SimAddr *a)
{
    if (npa->match_all)
        return TRUE;
    for (guint i = 0; i < npa->cidrs->len; i++) {
        if (sim_cidr_contains(&g_array_index(npa->cidrs, SimCidr, i), a))
            return TRUE;
    }
    return FALSE;
}

/* Appends a to out when npa selects it and out does not hold it yet. */
static void
kp_npa_add_if_match(const KpNodePortAddresses *npa, GArray *out, const SimAddr *a)
{
    if (!kp_npa_matches(npa, a))
        return;
    for (guint i = 0; i < out->len; i++) {
        if (sim_addr_equal(&g_array_index(out, SimAddr, i), a))
            return;
    }
    g_array_append_vals(out, a, 1);
}

/* GetNodeIPs: loopback, then the node's addresses of family, that npa selects. (transfer full) */
GArray *
kp_node_port_addresses_node_ips(const KpNodePortAddresses *npa, const K8sNode *node,
                                SimFamily family)
{
    g_return_val_if_fail(npa != NULL && node != NULL, NULL);
    GArray *out = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    SimAddr lo;
    gboolean ok = sim_addr_parse(family == SIM_AF_INET6 ? "::1" : "127.0.0.1", &lo);
    g_assert(ok);
    kp_npa_add_if_match(npa, out, &lo);
    for (guint i = 0; node->addresses != NULL && i < node->addresses->len; i++) {
        const SimAddr *a = &g_array_index(node->addresses, SimAddr, i);
        if (a->family == family)
            kp_npa_add_if_match(npa, out, a);
    }
    return out;
}
