/* SPDX-License-Identifier: Apache-2.0 */
/* Constructors, destructors, copies and small queries for kpsim's Kubernetes objects.
 *
 * These mirror the defaulting the apiserver applies to a freshly decoded object (namespace
 * "default", Service type ClusterIP, traffic policies Cluster, ClientIP affinity timeout 10800 s,
 * allocateLoadBalancerNodePorts true, Deployment replicas 1, terminationGracePeriodSeconds 30)
 * and the few helpers kube-proxy and kubectl use to read them: selector matching, label strings,
 * service-port names and the EndpointSlice condition rules of the EndpointSlice API.
 */
#include "model/k8s.h"

#include <string.h>

/* Frees a string-keyed, string-valued hash table; NULL-safe. */
static void
k8s_hash_unref(GHashTable *h)
{
    if (h != NULL)
        g_hash_table_unref(h);
}

/* An empty char* -> char* table that owns its keys and values. (transfer full) */
GHashTable *
k8s_string_table_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* See k8s.h. */
GHashTable *
k8s_string_table_copy(GHashTable *src)
{
    if (src == NULL)
        return NULL;
    GHashTable *dst = k8s_string_table_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, src);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(dst, g_strdup(k), g_strdup(v));
    return dst;
}

/* Copies a GArray of plain values (same element size), or returns NULL for NULL. */
static GArray *
k8s_array_copy(GArray *src)
{
    if (src == NULL)
        return NULL;
    guint size = g_array_get_element_size(src);
    GArray *dst = g_array_sized_new(FALSE, TRUE, size, src->len);
    g_array_append_vals(dst, src->data, src->len);
    return dst;
}

/* Releases the strings and tables of m and zeroes it; the struct itself is the caller's. */
void
k8s_meta_clear(K8sMeta *m)
{
    g_clear_pointer(&m->name, g_free);
    g_clear_pointer(&m->namespace_, g_free);
    g_clear_pointer(&m->labels, k8s_hash_unref);
    g_clear_pointer(&m->annotations, k8s_hash_unref);
    memset(&m->pos, 0, sizeof m->pos);
}

/* Deep-copies src's metadata into dst (which holds nothing yet). */
static void
k8s_meta_copy(K8sMeta *dst, const K8sMeta *src)
{
    dst->name = g_strdup(src->name);
    dst->namespace_ = g_strdup(src->namespace_);
    dst->labels = k8s_string_table_copy(src->labels);
    dst->annotations = k8s_string_table_copy(src->annotations);
    dst->pos = src->pos;
}

/* Initialises metadata with the apiserver's defaults (namespace "default"). */
static void
k8s_meta_init(K8sMeta *m)
{
    memset(m, 0, sizeof *m);
    m->namespace_ = g_strdup("default");
}

/* ---------------------------------------------------------------- Node */

/* A node with no addresses, not ready and schedulable. (transfer full) */
K8sNode *
k8s_node_new(void)
{
    K8sNode *n = g_new0(K8sNode, 1);
    n->addresses = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    return n;
}

/* Frees a node and everything it owns; NULL-safe. */
void
k8s_node_free(K8sNode *n)
{
    if (n == NULL)
        return;
    g_free(n->name);
    if (n->addresses != NULL)
        g_array_unref(n->addresses);
    k8s_hash_unref(n->labels);
    g_free(n);
}

/* ---------------------------------------------------------------- Pod */

/* A container with an empty port list. (transfer full) */
K8sContainer *
k8s_container_new(void)
{
    K8sContainer *c = g_new0(K8sContainer, 1);
    c->ports = g_array_new(FALSE, TRUE, sizeof(K8sContainerPort));
    return c;
}

/* Frees a container and its ports; NULL-safe. */
void
k8s_container_free(K8sContainer *c)
{
    if (c == NULL)
        return;
    if (c->ports != NULL) {
        for (guint i = 0; i < c->ports->len; i++)
            g_free(g_array_index(c->ports, K8sContainerPort, i).name);
        g_array_unref(c->ports);
    }
    g_free(c->name);
    g_free(c->image);
    g_free(c);
}

/* See k8s.h. */
K8sContainer *
k8s_container_copy(const K8sContainer *src)
{
    K8sContainer *c = k8s_container_new();
    c->name = g_strdup(src->name);
    c->image = g_strdup(src->image);
    c->has_pre_stop = src->has_pre_stop;
    c->pre_stop = src->pre_stop;
    for (guint i = 0; src->ports != NULL && i < src->ports->len; i++) {
        K8sContainerPort cp = g_array_index(src->ports, K8sContainerPort, i);
        cp.name = g_strdup(cp.name);
        g_array_append_val(c->ports, cp);
    }
    return c;
}

/* Initialises a pod spec: no containers, grace period 30 s. */
static void
k8s_pod_spec_init(K8sPodSpec *s)
{
    memset(s, 0, sizeof *s);
    s->containers = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_container_free);
    s->termination_grace = 30 * SIM_SEC;
}

/* Releases what a pod spec owns and zeroes it; the struct itself is the caller's. */
void
k8s_pod_spec_clear(K8sPodSpec *s)
{
    g_clear_pointer(&s->labels, k8s_hash_unref);
    g_clear_pointer(&s->containers, g_ptr_array_unref);
    g_clear_pointer(&s->node_name, g_free);
    s->termination_grace = 0;
}

/* A pod in namespace "default" with an empty spec, no IP, not ready. (transfer full) */
K8sPod *
k8s_pod_new(void)
{
    K8sPod *p = g_new0(K8sPod, 1);
    k8s_meta_init(&p->meta);
    k8s_pod_spec_init(&p->spec);
    return p;
}

/* Frees a pod and everything it owns; NULL-safe. */
void
k8s_pod_free(K8sPod *p)
{
    if (p == NULL)
        return;
    k8s_meta_clear(&p->meta);
    k8s_pod_spec_clear(&p->spec);
    g_free(p->node_name);
    g_free(p->owner);
    g_free(p);
}

/* ---------------------------------------------------------------- Deployment */

/* A deployment in namespace "default" with replicas 1 and an empty template. (transfer full) */
K8sDeployment *
k8s_deployment_new(void)
{
    K8sDeployment *d = g_new0(K8sDeployment, 1);
    k8s_meta_init(&d->meta);
    d->replicas = 1;
    d->max_surge = d->max_unavailable = 25; /* RollingUpdate 25% / 25% */
    d->max_surge_percent = d->max_unavailable_percent = TRUE;
    k8s_pod_spec_init(&d->template_);
    return d;
}

/* Frees a deployment and everything it owns; NULL-safe. */
void
k8s_deployment_free(K8sDeployment *d)
{
    if (d == NULL)
        return;
    k8s_meta_clear(&d->meta);
    k8s_hash_unref(d->match_labels);
    k8s_pod_spec_clear(&d->template_);
    g_free(d);
}

/* ---------------------------------------------------------------- Service */

/* Frees a service port; NULL-safe. */
void
k8s_service_port_free(K8sServicePort *p)
{
    if (p == NULL)
        return;
    g_free(p->name);
    g_free(p->target_port_name);
    g_free(p);
}

/* Frees a load-balancer ingress entry. */
static void
k8s_lb_ingress_free(K8sLoadBalancerIngress *in)
{
    if (in == NULL)
        return;
    g_free(in->hostname);
    g_free(in);
}

/* A ClusterIP service in "default" with the apiserver's defaults and no ports. (transfer full) */
K8sService *
k8s_service_new(void)
{
    K8sService *s = g_new0(K8sService, 1);
    k8s_meta_init(&s->meta);
    s->type = K8S_SVC_CLUSTER_IP;
    s->cluster_ips = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    s->ip_families = g_array_new(FALSE, TRUE, sizeof(guint8));
    s->ports = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_port_free);
    s->external_policy = K8S_POLICY_CLUSTER;
    s->internal_policy = K8S_POLICY_CLUSTER;
    s->affinity_timeout = 10800;
    s->external_ips = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    s->source_ranges = g_array_new(FALSE, TRUE, sizeof(SimCidr));
    s->allocate_lb_node_ports = TRUE;
    s->lb_ingress = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_lb_ingress_free);
    return s;
}

/* Frees a service and everything it owns; NULL-safe. */
void
k8s_service_free(K8sService *s)
{
    if (s == NULL)
        return;
    k8s_meta_clear(&s->meta);
    g_clear_pointer(&s->cluster_ips, g_array_unref);
    g_clear_pointer(&s->ip_families, g_array_unref);
    g_free(s->ip_family_policy);
    g_clear_pointer(&s->ports, g_ptr_array_unref);
    k8s_hash_unref(s->selector);
    g_clear_pointer(&s->external_ips, g_array_unref);
    g_clear_pointer(&s->source_ranges, g_array_unref);
    g_free(s->external_name);
    g_clear_pointer(&s->lb_ingress, g_ptr_array_unref);
    g_free(s->topology_mode);
    g_free(s);
}

/* Deep-copies one service port. (transfer full) */
static K8sServicePort *
k8s_service_port_copy(const K8sServicePort *p)
{
    K8sServicePort *c = g_new(K8sServicePort, 1);
    *c = *p;
    c->name = g_strdup(p->name);
    c->target_port_name = g_strdup(p->target_port_name);
    return c;
}

/* Deep-copies a service; the copy shares nothing with s. (transfer full) */
K8sService *
k8s_service_copy(const K8sService *s)
{
    g_return_val_if_fail(s != NULL, NULL);
    K8sService *c = g_new(K8sService, 1);
    *c = *s;
    k8s_meta_copy(&c->meta, &s->meta);
    c->cluster_ips = k8s_array_copy(s->cluster_ips);
    c->ip_families = k8s_array_copy(s->ip_families);
    c->ip_family_policy = g_strdup(s->ip_family_policy);
    c->ports = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_port_free);
    for (guint i = 0; i < s->ports->len; i++)
        g_ptr_array_add(c->ports, k8s_service_port_copy(s->ports->pdata[i]));
    c->selector = k8s_string_table_copy(s->selector);
    c->external_ips = k8s_array_copy(s->external_ips);
    c->source_ranges = k8s_array_copy(s->source_ranges);
    c->external_name = g_strdup(s->external_name);
    c->lb_ingress = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_lb_ingress_free);
    for (guint i = 0; i < s->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *in = s->lb_ingress->pdata[i];
        K8sLoadBalancerIngress *ci = g_new(K8sLoadBalancerIngress, 1);
        *ci = *in;
        ci->hostname = g_strdup(in->hostname);
        g_ptr_array_add(c->lb_ingress, ci);
    }
    c->topology_mode = g_strdup(s->topology_mode);
    return c;
}

/* The first cluster IP, or NULL while none is allocated or the service is headless. */
const SimAddr *
k8s_service_cluster_ip(const K8sService *s)
{
    g_return_val_if_fail(s != NULL, NULL);
    if (s->cluster_ip_none || s->cluster_ips == NULL || s->cluster_ips->len == 0)
        return NULL;
    return &g_array_index(s->cluster_ips, SimAddr, 0);
}

/* "ns/name:port" (or "ns/name" for an unnamed port), as kube-proxy's ServicePortName prints.
 * (transfer full) */
char *
k8s_service_port_name(const K8sService *s, const K8sServicePort *p)
{
    g_return_val_if_fail(s != NULL, NULL);
    if (p == NULL || p->name == NULL || p->name[0] == '\0')
        return g_strdup_printf("%s/%s", s->meta.namespace_, s->meta.name);
    return g_strdup_printf("%s/%s:%s", s->meta.namespace_, s->meta.name, p->name);
}

/* The type's name as the API writes it ("ClusterIP", "NodePort", ...). (transfer none) */
const char *
k8s_service_type_name(K8sServiceType t)
{
    switch (t) {
    case K8S_SVC_CLUSTER_IP:
        return "ClusterIP";
    case K8S_SVC_NODE_PORT:
        return "NodePort";
    case K8S_SVC_LOAD_BALANCER:
        return "LoadBalancer";
    case K8S_SVC_EXTERNAL_NAME:
        return "ExternalName";
    }
    return "Unknown";
}

/* ---------------------------------------------------------------- EndpointSlice */

/* A new endpoint with every condition unset and no addresses. (transfer full) */
K8sEndpoint *
k8s_endpoint_new(void)
{
    K8sEndpoint *e = g_new0(K8sEndpoint, 1);
    e->addresses = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    e->ready = K8S_UNSET;
    e->serving = K8S_UNSET;
    e->terminating = K8S_UNSET;
    return e;
}

/* Frees an endpoint; NULL-safe. */
void
k8s_endpoint_free(K8sEndpoint *e)
{
    if (e == NULL)
        return;
    g_clear_pointer(&e->addresses, g_array_unref);
    g_free(e->node_name);
    g_free(e->zone);
    g_clear_pointer(&e->hint_zones, g_ptr_array_unref);
    g_free(e->target_pod);
    g_free(e);
}

/* Frees an EndpointSlice port. */
static void
k8s_endpoint_port_free(K8sEndpointPort *p)
{
    if (p == NULL)
        return;
    g_free(p->name);
    g_free(p);
}

/* An IPv4 slice in "default" with no ports and no endpoints. (transfer full) */
K8sEndpointSlice *
k8s_endpoint_slice_new(void)
{
    K8sEndpointSlice *s = g_new0(K8sEndpointSlice, 1);
    k8s_meta_init(&s->meta);
    s->address_type = SIM_AF_INET;
    s->ports = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_port_free);
    s->endpoints = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_free);
    return s;
}

/* Frees a slice and everything it owns; NULL-safe. */
void
k8s_endpoint_slice_free(K8sEndpointSlice *s)
{
    if (s == NULL)
        return;
    k8s_meta_clear(&s->meta);
    g_free(s->service_name);
    g_clear_pointer(&s->ports, g_ptr_array_unref);
    g_clear_pointer(&s->endpoints, g_ptr_array_unref);
    g_free(s);
}

/* Ready as kube-proxy reads it: an unset ready condition means ready. */
gboolean
k8s_endpoint_ready(const K8sEndpoint *e)
{
    return e->ready != K8S_FALSE;
}

/* Serving as the EndpointSlice API defines it: unset serving means the same as ready. */
gboolean
k8s_endpoint_serving(const K8sEndpoint *e)
{
    if (e->serving == K8S_UNSET)
        return k8s_endpoint_ready(e);
    return e->serving == K8S_TRUE;
}

/* Terminating: unset means not terminating. */
gboolean
k8s_endpoint_terminating(const K8sEndpoint *e)
{
    return e->terminating == K8S_TRUE;
}

/* ---------------------------------------------------------------- KubeProxyConfiguration */

/* Fills c with kube-proxy's defaults (iptables mode, ClusterCIDR detection, masqueradeBit 14,
 * localhostNodePorts true, minSyncPeriod 1 s, syncPeriod 30 s, conntrack maxPerCore 32768,
 * min 131072, tcpEstablishedTimeout 24 h, tcpCloseWaitTimeout 1 h). */
void
kube_proxy_config_init(KubeProxyConfig *c)
{
    memset(c, 0, sizeof *c);
    c->mode = KP_MODE_IPTABLES;
    c->cluster_cidrs = g_array_new(FALSE, TRUE, sizeof(SimCidr));
    c->detect_local_mode = KP_DETECT_CLUSTER_CIDR;
    c->masquerade_bit = 14;
    c->localhost_node_ports = TRUE;
    c->node_port_addresses = g_ptr_array_new_with_free_func(g_free);
    c->min_sync_period = 1 * SIM_SEC;
    c->sync_period = 30 * SIM_SEC;
    c->conntrack_max_per_core = 32768;
    c->conntrack_min = 131072;
    c->tcp_established_timeout = 24 * 3600 * SIM_SEC;
    c->tcp_close_wait_timeout = 3600 * SIM_SEC;
}

/* Releases what c owns and zeroes it; the struct itself is the caller's. */
void
kube_proxy_config_clear(KubeProxyConfig *c)
{
    g_clear_pointer(&c->cluster_cidrs, g_array_unref);
    g_clear_pointer(&c->bridge_interface, g_free);
    g_clear_pointer(&c->interface_name_prefix, g_free);
    g_clear_pointer(&c->node_port_addresses, g_ptr_array_unref);
    g_clear_pointer(&c->ipvs_scheduler, g_free);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- labels */

/* TRUE when every key=value of selector is in labels; an empty or NULL selector matches nothing,
 * as a Service selector does. Cost: O(|selector|). */
gboolean
k8s_selector_matches(GHashTable *selector, GHashTable *labels)
{
    if (selector == NULL || g_hash_table_size(selector) == 0 || labels == NULL)
        return FALSE;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, selector);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *have = g_hash_table_lookup(labels, k);
        if (have == NULL || g_strcmp0(have, v) != 0)
            return FALSE;
    }
    return TRUE;
}

/* Orders C strings for g_ptr_array_sort. */
static gint
k8s_strptr_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "k1=v1,k2=v2" with keys sorted, or "<none>" for no labels, as kubectl prints. (transfer full) */
char *
k8s_labels_to_string(GHashTable *labels)
{
    if (labels == NULL || g_hash_table_size(labels) == 0)
        return g_strdup("<none>");
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, labels);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, k8s_strptr_compare);
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < keys->len; i++) {
        const char *key = keys->pdata[i];
        if (i > 0)
            g_string_append_c(out, ',');
        g_string_append_printf(out, "%s=%s", key, (const char *)g_hash_table_lookup(labels, key));
    }
    return g_string_free(out, FALSE);
}
