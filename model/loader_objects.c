/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding the Kubernetes kinds kpsim simulates: Service, EndpointSlice, Pod, Deployment, Node
 * and KubeProxyConfiguration.
 *
 * Each decoder accepts every field of the real API type (so real manifests load), decodes the
 * ones k8s.h holds, and validates those the way the apiserver does, with its wording. Subtrees
 * of fields kpsim does not use (probes, volumes, resources, affinity, ...) are accepted without
 * being looked into. Spec decoders apply onto an existing object, which is also how
 * spec.patches get strategic-merge semantics: present fields replace, maps merge, Service ports
 * merge by port number and containers by name.
 *
 * This file holds the shared metadata and sequence helpers and the EndpointSlice and Node
 * kinds; Services are decoded in loader_service.c, Pods and Deployments in loader_pods.c and
 * KubeProxyConfiguration in loader_proxy.c.
 */
#include "model/loader_private.h"

#include <string.h>

const char *const ld_meta_fields[] = {"name",
                                      "namespace",
                                      "labels",
                                      "annotations",
                                      "uid",
                                      "resourceVersion",
                                      "generation",
                                      "creationTimestamp",
                                      "managedFields",
                                      "ownerReferences",
                                      "finalizers",
                                      "generateName",
                                      "deletionTimestamp",
                                      "deletionGracePeriodSeconds",
                                      "selfLink",
                                      NULL};

/* ---------------------------------------------------------------- metadata */

/* See loader_private.h. */
gboolean
ld_meta(Loader *ld, const YtNode *root, const char *kind, gboolean namespaced, K8sMeta *m,
        const YtNode **name_node, GError **error)
{
    const YtNode *meta = yt_map_get(root, "metadata");
    LdObject o = {ld, kind, ""};
    if (yt_is_null(meta))
        return ld_invalid(&o, error, root,
                          "metadata.name: Required value: name or generateName is required");
    if (!ld_check_fields(meta, ld_meta_fields, kind, "metadata", error) ||
        !ld_get_string(meta, "name", "metadata", &m->name, error) ||
        !ld_get_string(meta, "namespace", "metadata", &m->namespace_, error) ||
        !ld_get_string_map(meta, "labels", "metadata", &m->labels, error) ||
        !ld_get_string_map(meta, "annotations", "metadata", &m->annotations, error))
        return FALSE;
    *name_node = yt_map_get(meta, "name");
    if (m->name == NULL || m->name[0] == '\0')
        return ld_invalid(&o, error, meta,
                          "metadata.name: Required value: name or generateName is required");
    m->pos = ld_pos(*name_node);
    o.name = m->name;
    if (!namespaced) {
        g_clear_pointer(&m->namespace_, g_free);
        return TRUE;
    }
    if (m->namespace_ == NULL || m->namespace_[0] == '\0') {
        g_free(m->namespace_);
        m->namespace_ = g_strdup("default");
    }
    const YtNode *ns = yt_map_get(meta, "namespace");
    return ns == NULL ||
           ld_check_name(&o, ns, "metadata.namespace", m->namespace_, LD_NAME_DNS1123_LABEL, error);
}

/* Decodes metadata, checks the name by rule and registers it under resource. */
gboolean
ld_object_meta(Loader *ld, const YtNode *root, const char *kind, const char *resource,
               LdNameRule rule, gboolean namespaced, K8sMeta *m, GError **error)
{
    const YtNode *name_node = NULL;
    if (!ld_meta(ld, root, kind, namespaced, m, &name_node, error))
        return FALSE;
    LdObject o = {ld, kind, m->name};
    return ld_check_name(&o, name_node, "metadata.name", m->name, rule, error) &&
           ld_register_name(ld, resource, m->namespace_, m->name, name_node, error);
}

/* Checks a named port (targetPort, containerPort name) as IsValidPortName does (IANA_SVC_NAME);
 * reports the first failed rule. */
gboolean
ld_check_port_name(const LdObject *o, const YtNode *at, const char *path, const char *name,
                   GError **error)
{
    const char *why = NULL;
    gsize len = strlen(name);
    gboolean charset_ok = len > 0, has_letter = FALSE;
    for (gsize i = 0; i < len; i++) {
        charset_ok =
            charset_ok && (g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) || name[i] == '-');
        has_letter = has_letter || g_ascii_islower(name[i]);
    }
    if (len > 15)
        why = "must be no more than 15 characters";
    else if (!charset_ok)
        why = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
    else if (!has_letter)
        why = "must contain at least one letter (a-z)";
    else if (strstr(name, "--") != NULL)
        why = "must not contain consecutive hyphens";
    else if (name[0] == '-' || name[len - 1] == '-')
        why = "must not begin or end with a hyphen";
    if (why == NULL)
        return TRUE;
    return ld_invalid(o, error, at, "%s: Invalid value: \"%s\": %s", path, name, why);
}

/* Iterates a sequence field: NULL/null is an empty list, anything else must be a sequence.
 * Returns the number of items (0 on error, with *ok FALSE). */
guint
ld_seq_len(const YtNode *n, const char *path, gboolean *ok, GError **error)
{
    *ok = ld_expect_seq(n, path, error);
    return *ok && !yt_is_null(n) ? n->items->len : 0;
}

/* ---------------------------------------------------------------- EndpointSlice */

/* Decodes an endpoint's conditions {ready, serving, terminating} into tri-states. */
static gboolean
ld_endpoint_conditions(const YtNode *n, const char *path, K8sEndpoint *e, GError **error)
{
    static const char *const fields[] = {"ready", "serving", "terminating", NULL};
    const char *names[] = {"ready", "serving", "terminating"};
    K8sBool *slots[] = {&e->ready, &e->serving, &e->terminating};
    if (!ld_check_fields(n, fields, "EndpointSlice", path, error))
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        const YtNode *v = yt_map_get(n, names[i]);
        gboolean b = FALSE;
        if (!ld_get_bool(n, names[i], path, &b, error))
            return FALSE;
        if (!yt_is_null(v))
            *slots[i] = b ? K8S_TRUE : K8S_FALSE;
    }
    return TRUE;
}

/* Decodes hints {forZones [{name}], forNodes [{name}]}; zone hints are kept. */
static gboolean
ld_endpoint_hints(const YtNode *n, const char *path, K8sEndpoint *e, GError **error)
{
    static const char *const fields[] = {"forZones", "forNodes", NULL};
    static const char *const item_fields[] = {"name", NULL};
    const char *lists[] = {"forZones", "forNodes"};
    if (!ld_check_fields(n, fields, "EndpointSlice", path, error))
        return FALSE;
    for (gsize l = 0; l < G_N_ELEMENTS(lists); l++) {
        const YtNode *list = yt_map_get(n, lists[l]);
        g_autofree char *lp = ld_path(path, lists[l]);
        gboolean ok;
        guint len = ld_seq_len(list, lp, &ok, error);
        for (guint i = 0; ok && i < len; i++) {
            g_autofree char *p = ld_path_index(lp, i);
            char *name = NULL;
            const YtNode *item = list->items->pdata[i];
            ok = ld_check_fields(item, item_fields, "EndpointSlice", p, error) &&
                 ld_get_string(item, "name", p, &name, error);
            if (ok && name != NULL && l == 0) {
                if (e->hint_zones == NULL)
                    e->hint_zones = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(e->hint_zones, g_steal_pointer(&name));
            }
            g_free(name);
        }
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* Decodes an endpoint's addresses, which must be of the slice's address type (FQDN slices keep
 * none: kube-proxy ignores them). */
static gboolean
ld_endpoint_addresses(const LdObject *o, const YtNode *item, const char *path, SimFamily family,
                      K8sEndpoint *e, GError **error)
{
    const YtNode *n = yt_map_get(item, "addresses");
    gboolean ok;
    guint len = ld_seq_len(n, path, &ok, error);
    if (!ok)
        return FALSE;
    if (len == 0)
        return ld_invalid(o, error, n != NULL ? n : item,
                          "%s: Required value: must contain at least 1 address", path);
    for (guint i = 0; i < len; i++) {
        g_autofree char *p = ld_path_index(path, i);
        const YtNode *addr = n->items->pdata[i];
        g_autofree char *text = NULL;
        if (!ld_string(addr, p, &text, error))
            return FALSE;
        if (family == SIM_AF_NONE)
            continue;
        SimAddr a;
        if (text == NULL || !sim_addr_parse(text, &a) || a.family != family)
            return ld_invalid(o, error, addr,
                              "%s: Invalid value: \"%s\": must be a valid %s "
                              "address",
                              p, text != NULL ? text : "", family == SIM_AF_INET ? "IPv4" : "IPv6");
        g_array_append_val(e->addresses, a);
    }
    return TRUE;
}

/* Decodes one endpoints[] entry. */
static gboolean
ld_endpoint(const LdObject *o, const YtNode *item, const char *path, K8sEndpointSlice *s,
            GError **error)
{
    static const char *const fields[] = {
        "addresses", "conditions", "nodeName",           "zone", "hints",
        "targetRef", "hostname",   "deprecatedTopology", NULL};
    static const char *const ref_fields[] = {
        "kind", "name", "namespace", "uid", "apiVersion", "resourceVersion", "fieldPath", NULL};
    g_autoptr(K8sEndpoint) e = k8s_endpoint_new();
    g_autofree char *ap = ld_path(path, "addresses"), *cp = ld_path(path, "conditions");
    g_autofree char *hp = ld_path(path, "hints"), *rp = ld_path(path, "targetRef");
    g_autofree char *hostname = NULL;
    g_autoptr(GHashTable) topology = NULL;
    const YtNode *ref = yt_map_get(item, "targetRef");
    const YtNode *node = yt_map_get(item, "nodeName");
    if (yt_is_null(item))
        return ld_invalid(o, error, item, "%s.addresses: Required value", path);
    if (!ld_check_fields(item, fields, "EndpointSlice", path, error) ||
        !ld_endpoint_addresses(o, item, ap, s->address_type, e, error) ||
        !ld_endpoint_conditions(yt_map_get(item, "conditions"), cp, e, error) ||
        !ld_get_string(item, "nodeName", path, &e->node_name, error) ||
        !ld_get_string(item, "zone", path, &e->zone, error) ||
        !ld_get_string(item, "hostname", path, &hostname, error) ||
        !ld_get_string_map(item, "deprecatedTopology", path, &topology, error) ||
        !ld_endpoint_hints(yt_map_get(item, "hints"), hp, e, error) ||
        !ld_check_fields(ref, ref_fields, "EndpointSlice", rp, error) ||
        !ld_get_string(ref, "name", rp, &e->target_pod, error))
        return FALSE;
    e->pos = ld_pos(item);
    if (e->node_name != NULL) {
        g_autofree char *np = ld_path(path, "nodeName");
        e->node_name_pos = ld_pos(node);
        ld_add_node_ref(o->ld, node, np);
    }
    g_ptr_array_add(s->endpoints, g_steal_pointer(&e));
    return TRUE;
}

/* Decodes ports [{name, port, protocol, appProtocol}] of a slice (port may be absent). */
static gboolean
ld_slice_ports(const LdObject *o, const YtNode *n, K8sEndpointSlice *s, GError **error)
{
    static const char *const fields[] = {"name", "port", "protocol", "appProtocol", NULL};
    gboolean ok;
    guint len = ld_seq_len(n, "ports", &ok, error);
    for (guint i = 0; ok && i < len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *path = ld_path_index("ports", i);
        g_autofree char *pp = ld_path(path, "port"), *prp = ld_path(path, "protocol");
        g_autofree char *app = NULL;
        K8sEndpointPort *p = g_new0(K8sEndpointPort, 1);
        p->protocol = SIM_PROTO_TCP;
        g_ptr_array_add(s->ports, p);
        ok = ld_check_fields(item, fields, "EndpointSlice", path, error) &&
             ld_get_string(item, "name", path, &p->name, error) &&
             ld_port(o, yt_map_get(item, "port"), pp, FALSE, &p->port, error) &&
             ld_protocol(o, yt_map_get(item, "protocol"), prp, &p->protocol, error) &&
             ld_get_string(item, "appProtocol", path, &app, error);
    }
    return ok;
}

/* See loader_private.h. Decodes a kind: EndpointSlice document. */
gboolean
ld_endpoint_slice_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind",      "metadata", "addressType",
                                         "ports",      "endpoints", NULL};
    static const char *const types[] = {"FQDN", "IPv4", "IPv6", NULL};
    static const SimFamily families[] = {SIM_AF_NONE, SIM_AF_INET, SIM_AF_INET6};
    g_autoptr(K8sEndpointSlice) s = k8s_endpoint_slice_new();
    if (!ld_check_fields(root, fields, "EndpointSlice", "", error) ||
        !ld_object_meta(ld, root, "EndpointSlice", "endpointslices", LD_NAME_DNS1123_SUBDOMAIN,
                        TRUE, &s->meta, error))
        return FALSE;
    LdObject o = {ld, "EndpointSlice", s->meta.name};
    const char *svc = s->meta.labels != NULL
                          ? g_hash_table_lookup(s->meta.labels, "kubernetes.io/service-name")
                          : NULL;
    if (svc == NULL) {
        const YtNode *meta = yt_map_get(root, "metadata");
        const YtNode *labels = yt_map_get(meta, "labels");
        return ld_fail(error, labels != NULL ? labels : meta,
                       "metadata.labels: Required value: an EndpointSlice needs the label "
                       "kubernetes.io/service-name naming its Service");
    }
    s->service_name = g_strdup(svc);
    const YtNode *type = yt_map_get(root, "addressType");
    guint idx = G_MAXUINT;
    if (!ld_enum(&o, type, "addressType", types, &idx, error))
        return FALSE;
    if (idx == G_MAXUINT)
        return ld_invalid(&o, error, root, "addressType: Required value");
    s->address_type = families[idx];
    if (!ld_slice_ports(&o, yt_map_get(root, "ports"), s, error))
        return FALSE;
    const YtNode *eps = yt_map_get(root, "endpoints");
    gboolean ok;
    guint len = ld_seq_len(eps, "endpoints", &ok, error);
    for (guint i = 0; ok && i < len; i++) {
        g_autofree char *path = ld_path_index("endpoints", i);
        ok = ld_endpoint(&o, eps->items->pdata[i], path, s, error);
    }
    if (!ok)
        return FALSE;
    g_ptr_array_add(ld->sc->slices, g_steal_pointer(&s));
    return TRUE;
}

/* ---------------------------------------------------------------- Node */

/* Decodes Node spec {podCIDR, podCIDRs, unschedulable, ...}. */
static gboolean
ld_node_spec(const LdObject *o, const YtNode *spec, K8sNode *n, GError **error)
{
    static const char *const fields[] = {"podCIDR",    "podCIDRs",   "unschedulable", "taints",
                                         "providerID", "externalID", "configSource",  NULL};
    const YtNode *cidrs = yt_map_get(spec, "podCIDRs");
    gboolean ok =
        ld_expect_map(spec, "spec", error) &&
        ld_check_fields(spec, fields, "Node", "spec", error) &&
        ld_cidr(o, yt_map_get(spec, "podCIDR"), "spec.podCIDR", FALSE, &n->pod_cidr, error) &&
        ld_get_bool(spec, "unschedulable", "spec", &n->unschedulable, error);
    guint len = ok ? ld_seq_len(cidrs, "spec.podCIDRs", &ok, error) : 0;
    for (guint i = 0; ok && i < len; i++) {
        g_autofree char *path = ld_path_index("spec.podCIDRs", i);
        SimCidr c = {0};
        ok = ld_cidr(o, cidrs->items->pdata[i], path, FALSE, &c, error);
        if (ok && i == 0 && n->pod_cidr.addr.family == SIM_AF_NONE)
            n->pod_cidr = c;
    }
    return ok;
}

/* Decodes status.addresses: InternalIPs first, then ExternalIPs (host names are skipped). */
static gboolean
ld_node_addresses(const LdObject *o, const YtNode *list, K8sNode *n, GError **error)
{
    static const char *const fields[] = {"type", "address", NULL};
    static const char *const types[] = {"ExternalDNS", "ExternalIP", "Hostname",
                                        "InternalDNS", "InternalIP", NULL};
    g_autoptr(GArray) external = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    gboolean ok;
    guint len = ld_seq_len(list, "status.addresses", &ok, error);
    for (guint i = 0; ok && i < len; i++) {
        const YtNode *item = list->items->pdata[i];
        g_autofree char *path = ld_path_index("status.addresses", i);
        g_autofree char *tp = ld_path(path, "type"), *ap = ld_path(path, "address");
        guint type = G_MAXUINT;
        ok = ld_check_fields(item, fields, "Node", path, error) &&
             ld_enum(o, yt_map_get(item, "type"), tp, types, &type, error);
        if (!ok || (type != 1 && type != 4))
            continue;
        SimAddr a = {0};
        ok = ld_ip(o, yt_map_get(item, "address"), ap, &a, error);
        if (ok && a.family != SIM_AF_NONE)
            g_array_append_val(type == 4 ? n->addresses : external, a);
    }
    g_array_append_vals(n->addresses, external->data, external->len);
    return ok;
}

/* Decodes Node status {addresses, conditions, ...}; Ready unless a Ready condition says not. */
static gboolean
ld_node_status(const LdObject *o, const YtNode *st, K8sNode *n, GError **error)
{
    static const char *const fields[] = {
        "addresses", "conditions", "capacity",     "allocatable",     "phase",  "daemonEndpoints",
        "nodeInfo",  "images",     "volumesInUse", "volumesAttached", "config", "runtimeHandlers",
        "features",  NULL};
    static const char *const cond_fields[] = {
        "type", "status", "lastHeartbeatTime", "lastTransitionTime", "reason", "message", NULL};
    static const char *const statuses[] = {"False", "True", "Unknown", NULL};
    const YtNode *conds = yt_map_get(st, "conditions");
    gboolean ok = ld_expect_map(st, "status", error) &&
                  ld_check_fields(st, fields, "Node", "status", error) &&
                  ld_node_addresses(o, yt_map_get(st, "addresses"), n, error);
    n->ready = TRUE;
    guint len = ok ? ld_seq_len(conds, "status.conditions", &ok, error) : 0;
    for (guint i = 0; ok && i < len; i++) {
        const YtNode *item = conds->items->pdata[i];
        g_autofree char *path = ld_path_index("status.conditions", i);
        g_autofree char *sp = ld_path(path, "status");
        g_autofree char *type = NULL;
        guint status = G_MAXUINT;
        ok = ld_check_fields(item, cond_fields, "Node", path, error) &&
             ld_get_string(item, "type", path, &type, error) &&
             ld_enum(o, yt_map_get(item, "status"), sp, statuses, &status, error);
        if (ok && g_strcmp0(type, "Ready") == 0)
            n->ready = status == 1;
    }
    return ok;
}

/* See loader_private.h. Decodes a kind: Node document (added after the scenario's nodes). */
gboolean
ld_node_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    K8sMeta meta = {0};
    g_autoptr(K8sNode) n = k8s_node_new();
    gboolean ok =
        ld_check_fields(root, fields, "Node", "", error) &&
        ld_object_meta(ld, root, "Node", "nodes", LD_NAME_DNS1123_SUBDOMAIN, FALSE, &meta, error);
    if (ok) {
        n->name = g_steal_pointer(&meta.name);
        n->labels = g_steal_pointer(&meta.labels);
        n->pos = meta.pos;
        n->explicit_object = TRUE;
        LdObject o = {ld, "Node", n->name};
        ok = ld_node_spec(&o, yt_map_get(root, "spec"), n, error) &&
             ld_node_status(&o, yt_map_get(root, "status"), n, error);
    }
    k8s_meta_clear(&meta);
    if (!ok)
        return FALSE;
    g_ptr_array_add(ld->sc->nodes, g_steal_pointer(&n));
    return TRUE;
}
