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
 */
#include "model/loader_private.h"

#include <string.h>

static const char *const ld_meta_fields[] = {"name",
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
static gboolean
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
static gboolean
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
static guint
ld_seq_len(const YtNode *n, const char *path, gboolean *ok, GError **error)
{
    *ok = ld_expect_seq(n, path, error);
    return *ok && !yt_is_null(n) ? n->items->len : 0;
}

/* ---------------------------------------------------------------- Service ports */

static const char *const ld_service_port_fields[] = {
    "name", "protocol", "port", "targetPort", "nodePort", "appProtocol", NULL};

/* Decodes targetPort: an integer port or an IANA service name. */
static gboolean
ld_target_port(const LdObject *o, const YtNode *n, const char *path, K8sServicePort *p,
               GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    if (n->type == YT_SCALAR && yt_scalar_kind(n) == YT_VALUE_INT) {
        guint16 port = 0;
        if (!ld_port(o, n, path, TRUE, &port, error))
            return FALSE;
        p->target_port = port != 0 ? port : p->port;
        g_clear_pointer(&p->target_port_name, g_free);
        return TRUE;
    }
    char *name = NULL;
    if (!ld_string(n, path, &name, error))
        return FALSE;
    if (!ld_check_port_name(o, n, path, name, error)) {
        g_free(name);
        return FALSE;
    }
    g_free(p->target_port_name);
    p->target_port_name = name;
    p->target_port = 0;
    return TRUE;
}

/* Decodes one ports[] entry onto p (is_new: apply the defaults: protocol TCP, targetPort = port).
 */
static gboolean
ld_service_port(const LdObject *o, const YtNode *item, const char *path, K8sServicePort *p,
                gboolean is_new, GError **error)
{
    g_autofree char *namep = ld_path(path, "name"), *protop = ld_path(path, "protocol");
    g_autofree char *portp = ld_path(path, "port"), *tp = ld_path(path, "targetPort");
    g_autofree char *npp = ld_path(path, "nodePort"), *app = ld_path(path, "appProtocol");
    g_autofree char *app_protocol = NULL;
    const YtNode *np = yt_map_get(item, "nodePort"), *name = yt_map_get(item, "name");
    if (!ld_check_fields(item, ld_service_port_fields, o->kind, path, error) ||
        !ld_string(name, namep, &p->name, error) ||
        !ld_protocol(o, yt_map_get(item, "protocol"), protop, &p->protocol, error) ||
        !ld_port(o, yt_map_get(item, "port"), portp, FALSE, &p->port, error) ||
        !ld_string(yt_map_get(item, "appProtocol"), app, &app_protocol, error))
        return FALSE;
    if (p->port == 0)
        return ld_invalid(o, error, item, "%s: Required value", portp);
    if (p->name != NULL && p->name[0] != '\0' &&
        !ld_check_name(o, name, namep, p->name, LD_NAME_DNS1123_LABEL, error))
        return FALSE;
    if (is_new)
        p->target_port = p->port;
    if (!ld_target_port(o, yt_map_get(item, "targetPort"), tp, p, error) ||
        !ld_port(o, np, npp, TRUE, &p->node_port, error))
        return FALSE;
    if (!yt_is_null(np)) {
        p->node_port_explicit = p->node_port != 0;
        p->node_port_pos = p->node_port != 0 ? ld_pos(np) : (K8sPos){0};
    }
    if (is_new) /* a patched port keeps the position of the entry that declared it */
        p->pos = ld_pos(item);
    return TRUE;
}

/* Finds the port a patch entry merges into: the one with the same port number. */
static K8sServicePort *
ld_find_service_port(const K8sService *s, const YtNode *item)
{
    const YtNode *port = yt_map_get(item, "port");
    gint64 v = 0;
    if (port == NULL || port->type != YT_SCALAR || yt_scalar_kind(port) != YT_VALUE_INT)
        return NULL;
    if (!ld_int(port, "", &v, NULL))
        return NULL;
    for (guint i = 0; i < s->ports->len; i++) {
        K8sServicePort *p = s->ports->pdata[i];
        if (p->port == v)
            return p;
    }
    return NULL;
}

/* Decodes spec.ports: a new list, or (patch) a strategic merge keyed by port number. */
static gboolean
ld_service_ports(const LdObject *o, const YtNode *n, K8sService *s, gboolean patch, GError **error)
{
    gboolean ok;
    guint len = ld_seq_len(n, "spec.ports", &ok, error);
    if (!ok)
        return FALSE;
    if (!patch && !yt_is_null(n))
        g_ptr_array_set_size(s->ports, 0);
    for (guint i = 0; i < len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *path = ld_path_index("spec.ports", i);
        K8sServicePort *existing = patch ? ld_find_service_port(s, item) : NULL;
        if (existing != NULL) {
            if (!ld_service_port(o, item, path, existing, FALSE, error))
                return FALSE;
            continue;
        }
        g_autoptr(K8sServicePort) p = g_new0(K8sServicePort, 1);
        p->name = g_strdup("");
        p->protocol = SIM_PROTO_TCP;
        if (!ld_service_port(o, item, path, p, TRUE, error))
            return FALSE;
        g_ptr_array_add(s->ports, g_steal_pointer(&p));
    }
    return TRUE;
}

/* ---------------------------------------------------------------- Service spec */

/* Decodes clusterIP and clusterIPs ("None" = headless, "" = allocate). */
static gboolean
ld_cluster_ips(const LdObject *o, const YtNode *spec, K8sService *s, GError **error)
{
    const YtNode *one = yt_map_get(spec, "clusterIP"), *many = yt_map_get(spec, "clusterIPs");
    g_autoptr(GPtrArray) texts = NULL;
    g_autofree char *ip = NULL;
    if (!ld_string(one, "spec.clusterIP", &ip, error) ||
        !ld_string_list(many, "spec.clusterIPs", FALSE, &texts, error))
        return FALSE;
    if (ip == NULL && (texts == NULL || texts->len == 0))
        return TRUE;
    if (texts != NULL && texts->len > 0 && ip != NULL && strcmp(ip, texts->pdata[0]) != 0)
        return ld_invalid(o, error, many->items->pdata[0],
                          "spec.clusterIPs[0]: Invalid value: \"%s\": must match `clusterIP`",
                          (const char *)texts->pdata[0]);
    s->cluster_ip_pos = ld_pos(one != NULL ? one : many);
    g_array_set_size(s->cluster_ips, 0);
    s->cluster_ip_none = FALSE;
    guint count = texts != NULL && texts->len > 0 ? texts->len : 1;
    for (guint i = 0; i < count; i++) {
        const char *text = texts != NULL && texts->len > 0 ? texts->pdata[i] : ip;
        const YtNode *at = texts != NULL && texts->len > 0 ? many->items->pdata[i] : one;
        g_autofree char *path = texts != NULL && texts->len > 0
                                    ? ld_path_index("spec.clusterIPs", i)
                                    : g_strdup("spec.clusterIP");
        if (strcmp(text, "None") == 0 && i == 0) {
            s->cluster_ip_none = TRUE;
            continue;
        }
        if (text[0] == '\0' && i == 0)
            continue;
        SimAddr a;
        if (!ld_ip(o, at, path, &a, error))
            return FALSE;
        g_array_append_val(s->cluster_ips, a);
    }
    return TRUE;
}

/* Decodes ipFamilies and ipFamilyPolicy. */
static gboolean
ld_ip_families(const LdObject *o, const YtNode *spec, K8sService *s, GError **error)
{
    static const char *const families[] = {"IPv4", "IPv6", NULL};
    static const char *const policies[] = {"PreferDualStack", "RequireDualStack", "SingleStack",
                                           NULL};
    const YtNode *fam = yt_map_get(spec, "ipFamilies");
    gboolean ok;
    guint len = ld_seq_len(fam, "spec.ipFamilies", &ok, error);
    if (!ok)
        return FALSE;
    if (!yt_is_null(fam))
        g_array_set_size(s->ip_families, 0);
    for (guint i = 0; i < len; i++) {
        g_autofree char *path = ld_path_index("spec.ipFamilies", i);
        guint idx = G_MAXUINT;
        if (!ld_enum(o, fam->items->pdata[i], path, families, &idx, error))
            return FALSE;
        if (idx == G_MAXUINT)
            continue;
        guint8 f = idx == 0 ? SIM_AF_INET : SIM_AF_INET6;
        g_array_append_val(s->ip_families, f);
    }
    guint p = G_MAXUINT;
    if (!ld_enum(o, yt_map_get(spec, "ipFamilyPolicy"), "spec.ipFamilyPolicy", policies, &p, error))
        return FALSE;
    if (p != G_MAXUINT) {
        g_free(s->ip_family_policy);
        s->ip_family_policy = g_strdup(policies[p]);
    }
    return TRUE;
}

/* Decodes a ClientIP timeout in seconds, valid 1..86400 as the apiserver checks. */
static gboolean
ld_affinity_timeout(const LdObject *o, const YtNode *n, const char *path, K8sService *s,
                    GError **error)
{
    gint64 t = -1;
    if (yt_is_null(n))
        return TRUE;
    if (!ld_int(n, path, &t, error))
        return FALSE;
    if (t <= 0 || t > 86400)
        return ld_invalid(o, error, n,
                          "%s: Invalid value: %" G_GINT64_FORMAT
                          ": must be greater than 0 and less than 86400",
                          path, t);
    s->affinity_timeout = (guint)t;
    return TRUE;
}

/* Decodes sessionAffinity (a string, or the {type, timeout_seconds} mapping kube-proxy's test
 * tables use) and sessionAffinityConfig.clientIP.timeoutSeconds. */
static gboolean
ld_session_affinity(const LdObject *o, const YtNode *spec, K8sService *s, GError **error)
{
    static const char *const types[] = {"ClientIP", "None", NULL};
    static const char *const map_fields[] = {"type", "timeout_seconds", NULL};
    static const char *const cfg_fields[] = {"clientIP", NULL};
    static const char *const cip_fields[] = {"timeoutSeconds", NULL};
    const YtNode *aff = yt_map_get(spec, "sessionAffinity");
    const YtNode *type = aff;
    if (aff != NULL && aff->type == YT_MAPPING) {
        if (!ld_check_fields(aff, map_fields, o->kind, "spec.sessionAffinity", error) ||
            !ld_affinity_timeout(o, yt_map_get(aff, "timeout_seconds"),
                                 "spec.sessionAffinity.timeout_seconds", s, error))
            return FALSE;
        type = yt_map_get(aff, "type");
    }
    guint idx = G_MAXUINT;
    if (!ld_enum(o, type, aff == type ? "spec.sessionAffinity" : "spec.sessionAffinity.type", types,
                 &idx, error))
        return FALSE;
    if (idx != G_MAXUINT)
        s->affinity_client_ip = idx == 0;
    const YtNode *cfg = yt_map_get(spec, "sessionAffinityConfig");
    const YtNode *cip = yt_map_get(cfg, "clientIP");
    return ld_check_fields(cfg, cfg_fields, o->kind, "spec.sessionAffinityConfig", error) &&
           ld_check_fields(cip, cip_fields, o->kind, "spec.sessionAffinityConfig.clientIP",
                           error) &&
           ld_affinity_timeout(o, yt_map_get(cip, "timeoutSeconds"),
                               "spec.sessionAffinityConfig.clientIP.timeoutSeconds", s, error);
}

/* Decodes externalTrafficPolicy (legacy "Global" = Cluster) and internalTrafficPolicy. */
static gboolean
ld_traffic_policies(const LdObject *o, const YtNode *spec, K8sService *s, GError **error)
{
    static const char *const policies[] = {"Cluster", "Local", NULL};
    const YtNode *etp = yt_map_get(spec, "externalTrafficPolicy");
    guint e = G_MAXUINT, i = G_MAXUINT;
    if (etp != NULL && etp->type == YT_SCALAR && strcmp(etp->text, "Global") == 0)
        e = 0;
    else if (!ld_enum(o, etp, "spec.externalTrafficPolicy", policies, &e, error))
        return FALSE;
    if (e != G_MAXUINT) {
        s->external_policy = e == 0 ? K8S_POLICY_CLUSTER : K8S_POLICY_LOCAL;
        s->external_policy_pos = ld_pos(etp);
    }
    if (!ld_enum(o, yt_map_get(spec, "internalTrafficPolicy"), "spec.internalTrafficPolicy",
                 policies, &i, error))
        return FALSE;
    if (i != G_MAXUINT)
        s->internal_policy = i == 0 ? K8S_POLICY_CLUSTER : K8S_POLICY_LOCAL;
    return TRUE;
}

/* Decodes externalIPs, loadBalancerIP and loadBalancerSourceRanges (trimmed, as both the
 * apiserver and kube-proxy trim them). */
static gboolean
ld_external_addresses(const LdObject *o, const YtNode *spec, K8sService *s, GError **error)
{
    const YtNode *eips = yt_map_get(spec, "externalIPs");
    const YtNode *ranges = yt_map_get(spec, "loadBalancerSourceRanges");
    SimAddr lb_ip;
    gboolean ok;
    guint n = ld_seq_len(eips, "spec.externalIPs", &ok, error);
    if (!ok || !ld_ip(o, yt_map_get(spec, "loadBalancerIP"), "spec.loadBalancerIP", &lb_ip, error))
        return FALSE;
    if (!yt_is_null(eips))
        g_array_set_size(s->external_ips, 0);
    for (guint i = 0; i < n; i++) {
        g_autofree char *path = ld_path_index("spec.externalIPs", i);
        SimAddr a = {0};
        if (!ld_ip(o, eips->items->pdata[i], path, &a, error))
            return FALSE;
        g_array_append_val(s->external_ips, a);
    }
    n = ld_seq_len(ranges, "spec.loadBalancerSourceRanges", &ok, error);
    if (!ok)
        return FALSE;
    if (!yt_is_null(ranges))
        g_array_set_size(s->source_ranges, 0);
    for (guint i = 0; i < n; i++) {
        g_autofree char *path = ld_path_index("spec.loadBalancerSourceRanges", i);
        SimCidr c = {0};
        if (!ld_cidr(o, ranges->items->pdata[i], path, TRUE, &c, error))
            return FALSE;
        g_array_append_val(s->source_ranges, c);
    }
    return TRUE;
}

/* Decodes spec.type. */
static gboolean
ld_service_type(const LdObject *o, const YtNode *spec, K8sService *s, GError **error)
{
    static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                        NULL};
    static const K8sServiceType values[] = {K8S_SVC_CLUSTER_IP, K8S_SVC_EXTERNAL_NAME,
                                            K8S_SVC_LOAD_BALANCER, K8S_SVC_NODE_PORT};
    const YtNode *t = yt_map_get(spec, "type");
    guint idx = G_MAXUINT;
    if (!ld_enum(o, t, "spec.type", types, &idx, error))
        return FALSE;
    if (idx != G_MAXUINT) {
        s->type = values[idx];
        s->type_pos = ld_pos(t);
    }
    return TRUE;
}

/* Decodes the scalar odds and ends of a Service spec. */
static gboolean
ld_service_misc(const LdObject *o, const YtNode *spec, K8sService *s, GError **error)
{
    g_autofree char *lb_class = NULL, *distribution = NULL;
    const YtNode *hc = yt_map_get(spec, "healthCheckNodePort");
    guint16 hc_port = s->health_check_node_port;
    if (!ld_get_bool(spec, "allocateLoadBalancerNodePorts", "spec", &s->allocate_lb_node_ports,
                     error) ||
        !ld_get_bool(spec, "publishNotReadyAddresses", "spec", &s->publish_not_ready, error) ||
        !ld_get_string(spec, "externalName", "spec", &s->external_name, error) ||
        !ld_get_string(spec, "loadBalancerClass", "spec", &lb_class, error) ||
        !ld_get_string(spec, "trafficDistribution", "spec", &distribution, error) ||
        !ld_port(o, hc, "spec.healthCheckNodePort", TRUE, &hc_port, error))
        return FALSE;
    if (!yt_is_null(hc)) {
        s->health_check_node_port = hc_port;
        s->health_check_node_port_explicit = hc_port != 0;
        s->health_check_node_port_pos = ld_pos(hc);
    }
    if (distribution != NULL) {
        g_free(s->topology_mode);
        s->topology_mode = g_steal_pointer(&distribution);
    }
    return TRUE;
}

static const char *const ld_service_spec_fields[] = {"type",
                                                     "clusterIP",
                                                     "clusterIPs",
                                                     "ipFamilies",
                                                     "ipFamilyPolicy",
                                                     "ports",
                                                     "selector",
                                                     "externalTrafficPolicy",
                                                     "internalTrafficPolicy",
                                                     "sessionAffinity",
                                                     "sessionAffinityConfig",
                                                     "externalIPs",
                                                     "loadBalancerIP",
                                                     "loadBalancerSourceRanges",
                                                     "loadBalancerClass",
                                                     "allocateLoadBalancerNodePorts",
                                                     "healthCheckNodePort",
                                                     "publishNotReadyAddresses",
                                                     "externalName",
                                                     "trafficDistribution",
                                                     NULL};

/* See loader_private.h. */
gboolean
ld_service_spec(const LdObject *o, const YtNode *spec, K8sService *s, gboolean patch,
                GError **error)
{
    if (yt_is_null(spec))
        return TRUE;
    if (!ld_check_fields(spec, ld_service_spec_fields, "Service", "spec", error) ||
        !ld_service_type(o, spec, s, error) || !ld_cluster_ips(o, spec, s, error) ||
        !ld_ip_families(o, spec, s, error) ||
        !ld_service_ports(o, yt_map_get(spec, "ports"), s, patch, error) ||
        !ld_get_string_map(spec, "selector", "spec", &s->selector, error) ||
        !ld_traffic_policies(o, spec, s, error) || !ld_session_affinity(o, spec, s, error) ||
        !ld_external_addresses(o, spec, s, error) || !ld_service_misc(o, spec, s, error))
        return FALSE;
    if (s->selector != NULL && g_hash_table_size(s->selector) == 0)
        g_clear_pointer(&s->selector, g_hash_table_unref);
    return TRUE;
}

/* ---------------------------------------------------------------- Service status */

/* Decodes one status.loadBalancer.ingress[] entry {ip, hostname, ipMode, ports}. */
static gboolean
ld_lb_ingress(const LdObject *o, const YtNode *item, const char *path, K8sService *s,
              GError **error)
{
    static const char *const fields[] = {"ip", "hostname", "ipMode", "ports", NULL};
    static const char *const port_fields[] = {"port", "protocol", "error", NULL};
    static const char *const modes[] = {"Proxy", "VIP", NULL};
    g_autofree char *ipp = ld_path(path, "ip"), *mp = ld_path(path, "ipMode");
    g_autofree char *pp = ld_path(path, "ports");
    K8sLoadBalancerIngress in = {0};
    guint mode = G_MAXUINT;
    gboolean ok;
    if (!ld_check_fields(item, fields, o->kind, path, error) ||
        !ld_ip(o, yt_map_get(item, "ip"), ipp, &in.ip, error) ||
        !ld_get_string(item, "hostname", path, &in.hostname, error) ||
        !ld_enum(o, yt_map_get(item, "ipMode"), mp, modes, &mode, error)) {
        g_free(in.hostname);
        return FALSE;
    }
    const YtNode *ports = yt_map_get(item, "ports");
    guint n = ld_seq_len(ports, pp, &ok, error);
    for (guint i = 0; ok && i < n; i++) {
        g_autofree char *p = ld_path_index(pp, i);
        ok = ld_check_fields(ports->items->pdata[i], port_fields, o->kind, p, error);
    }
    if (!ok) {
        g_free(in.hostname);
        return FALSE;
    }
    in.ip_mode_proxy = mode == 0;
    K8sLoadBalancerIngress *copy = g_new(K8sLoadBalancerIngress, 1);
    *copy = in;
    g_ptr_array_add(s->lb_ingress, copy);
    return TRUE;
}

/* Decodes status {loadBalancer {ingress}, conditions}. */
static gboolean
ld_service_status(const LdObject *o, const YtNode *status, K8sService *s, GError **error)
{
    static const char *const fields[] = {"loadBalancer", "conditions", NULL};
    static const char *const lb_fields[] = {"ingress", NULL};
    const YtNode *lb = yt_map_get(status, "loadBalancer");
    const YtNode *ingress = yt_map_get(lb, "ingress");
    gboolean ok = ld_check_fields(status, fields, o->kind, "status", error) &&
                  ld_check_fields(lb, lb_fields, o->kind, "status.loadBalancer", error);
    guint n = ok ? ld_seq_len(ingress, "status.loadBalancer.ingress", &ok, error) : 0;
    for (guint i = 0; ok && i < n; i++) {
        g_autofree char *path = ld_path_index("status.loadBalancer.ingress", i);
        ok = ld_lb_ingress(o, ingress->items->pdata[i], path, s, error);
    }
    return ok;
}

/* See loader_private.h. Decodes a kind: Service document. */
gboolean
ld_service_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    g_autoptr(K8sService) s = k8s_service_new();
    if (!ld_check_fields(root, fields, "Service", "", error) ||
        !ld_object_meta(ld, root, "Service", "services", LD_NAME_DNS1035_LABEL, TRUE, &s->meta,
                        error))
        return FALSE;
    LdObject o = {ld, "Service", s->meta.name};
    const YtNode *spec = yt_map_get(root, "spec");
    if (!ld_expect_map(spec, "spec", error) || !ld_service_spec(&o, spec, s, FALSE, error) ||
        !ld_expect_map(yt_map_get(root, "status"), "status", error) ||
        !ld_service_status(&o, yt_map_get(root, "status"), s, error))
        return FALSE;
    const char *mode = NULL;
    if (s->meta.annotations != NULL) {
        mode = g_hash_table_lookup(s->meta.annotations, "service.kubernetes.io/topology-mode");
        if (mode == NULL)
            mode = g_hash_table_lookup(s->meta.annotations,
                                       "service.kubernetes.io/topology-aware-hints");
    }
    if (mode != NULL) {
        g_free(s->topology_mode);
        s->topology_mode = g_strdup(mode);
    }
    g_ptr_array_add(ld->sc->services, g_steal_pointer(&s));
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_service_validate(const K8sService *s, GError **error)
{
    LdObject o = {NULL, "Service", s->meta.name};
    gboolean externally = s->type == K8S_SVC_NODE_PORT || s->type == K8S_SVC_LOAD_BALANCER ||
                          (s->type == K8S_SVC_CLUSTER_IP && s->external_ips->len > 0);
    if (s->type == K8S_SVC_EXTERNAL_NAME && (s->external_name == NULL || !s->external_name[0]))
        return ld_invalid_pos(&o, error, &s->type_pos, "spec.externalName: Required value");
    if (s->cluster_ip_none && (s->type == K8S_SVC_NODE_PORT || s->type == K8S_SVC_LOAD_BALANCER))
        return ld_invalid_pos(&o, error, &s->cluster_ip_pos,
                              "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to "
                              "'None' for %s services",
                              k8s_service_type_name(s->type));
    if (s->external_policy_pos.line != 0 && !externally)
        return ld_invalid_pos(&o, error, &s->external_policy_pos,
                              "spec.externalTrafficPolicy: Invalid value: \"%s\": may only be "
                              "set for externally-accessible services",
                              s->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    if (s->ports->len == 0 && !s->cluster_ip_none && s->type != K8S_SVC_EXTERNAL_NAME)
        return ld_invalid_pos(&o, error, &s->meta.pos, "spec.ports: Required value");
    for (guint i = 0; i < s->ports->len; i++) {
        const K8sServicePort *p = s->ports->pdata[i];
        if (p->node_port_explicit && s->type == K8S_SVC_CLUSTER_IP)
            return ld_invalid_pos(&o, error, &p->node_port_pos,
                                  "spec.ports[%u].nodePort: Forbidden: may not be used when "
                                  "`type` is 'ClusterIP'",
                                  i);
        if (s->ports->len > 1 && (p->name == NULL || p->name[0] == '\0'))
            return ld_invalid_pos(&o, error, &p->pos, "spec.ports[%u].name: Required value", i);
        for (guint j = 0; j < i; j++) {
            const K8sServicePort *q = s->ports->pdata[j];
            if (p->name != NULL && p->name[0] != '\0' && g_strcmp0(p->name, q->name) == 0)
                return ld_invalid_pos(&o, error, &p->pos,
                                      "spec.ports[%u].name: Duplicate value: \"%s\"", i, p->name);
            if (p->node_port != 0 && p->node_port == q->node_port && p->protocol == q->protocol)
                return ld_invalid_pos(&o, error, &p->node_port_pos,
                                      "spec.ports[%u].nodePort: Duplicate value: %u", i,
                                      p->node_port);
        }
    }
    return TRUE;
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
        char *text = NULL;
        if (!ld_string(addr, p, &text, error))
            return FALSE;
        g_autofree char *owned = text;
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

/* ---------------------------------------------------------------- containers and PodSpec */

/* Decodes one container ports[] entry {name, containerPort, protocol, hostPort, hostIP}. */
static gboolean
ld_container_port(const LdObject *o, const YtNode *item, const char *path, K8sContainerPort *p,
                  GError **error)
{
    static const char *const fields[] = {"name",     "containerPort", "protocol",
                                         "hostPort", "hostIP",        NULL};
    g_autofree char *np = ld_path(path, "name"), *cp = ld_path(path, "containerPort");
    g_autofree char *pp = ld_path(path, "protocol"), *hp = ld_path(path, "hostPort");
    g_autofree char *ip = ld_path(path, "hostIP");
    guint16 host_port = 0;
    SimAddr host_ip;
    if (!ld_check_fields(item, fields, o->kind, path, error) ||
        !ld_string(yt_map_get(item, "name"), np, &p->name, error) ||
        !ld_port(o, yt_map_get(item, "containerPort"), cp, FALSE, &p->container_port, error) ||
        !ld_protocol(o, yt_map_get(item, "protocol"), pp, &p->protocol, error) ||
        !ld_port(o, yt_map_get(item, "hostPort"), hp, TRUE, &host_port, error) ||
        !ld_ip(o, yt_map_get(item, "hostIP"), ip, &host_ip, error))
        return FALSE;
    if (p->container_port == 0)
        return ld_invalid(o, error, item, "%s: Required value", cp);
    if (p->name != NULL && !ld_check_port_name(o, yt_map_get(item, "name"), np, p->name, error))
        return FALSE;
    return TRUE;
}

static const char *const ld_container_fields[] = {"name",
                                                  "image",
                                                  "ports",
                                                  "command",
                                                  "args",
                                                  "env",
                                                  "envFrom",
                                                  "resources",
                                                  "livenessProbe",
                                                  "readinessProbe",
                                                  "startupProbe",
                                                  "volumeMounts",
                                                  "volumeDevices",
                                                  "imagePullPolicy",
                                                  "securityContext",
                                                  "workingDir",
                                                  "lifecycle",
                                                  "stdin",
                                                  "stdinOnce",
                                                  "tty",
                                                  "terminationMessagePath",
                                                  "terminationMessagePolicy",
                                                  "resizePolicy",
                                                  "restartPolicy",
                                                  NULL};

/* Decodes a container onto c; a new one needs a name and an image. Ports, when given, replace
 * the container's ports. */
static gboolean
ld_container(const LdObject *o, const YtNode *item, const char *path, K8sContainer *c,
             gboolean is_new, GError **error)
{
    g_autofree char *np = ld_path(path, "name"), *pp = ld_path(path, "ports");
    g_autofree char *image = NULL;
    if (!ld_check_fields(item, ld_container_fields, o->kind, path, error) ||
        !ld_string(yt_map_get(item, "name"), np, &c->name, error) ||
        !ld_get_string(item, "image", path, &image, error))
        return FALSE;
    if (is_new && c->name == NULL)
        return ld_invalid(o, error, item, "%s: Required value", np);
    if (is_new && image == NULL)
        return ld_invalid(o, error, item, "%s.image: Required value", path);
    const YtNode *ports = yt_map_get(item, "ports");
    gboolean ok;
    guint len = ld_seq_len(ports, pp, &ok, error);
    if (!ok)
        return FALSE;
    if (!yt_is_null(ports)) {
        for (guint i = 0; i < c->ports->len; i++)
            g_free(g_array_index(c->ports, K8sContainerPort, i).name);
        g_array_set_size(c->ports, 0);
    }
    for (guint i = 0; i < len; i++) {
        g_autofree char *p = ld_path_index(pp, i);
        K8sContainerPort cp = {NULL, 0, SIM_PROTO_TCP};
        gboolean port_ok = ld_container_port(o, ports->items->pdata[i], p, &cp, error);
        g_array_append_val(c->ports, cp);
        if (!port_ok)
            return FALSE;
    }
    return TRUE;
}

/* Finds the container a patch entry merges into (same name), or NULL. */
static K8sContainer *
ld_find_container(const K8sPodSpec *ps, const YtNode *item)
{
    const YtNode *name = yt_map_get(item, "name");
    if (name == NULL || name->type != YT_SCALAR)
        return NULL;
    for (guint i = 0; i < ps->containers->len; i++) {
        K8sContainer *c = ps->containers->pdata[i];
        if (g_strcmp0(c->name, name->text) == 0)
            return c;
    }
    return NULL;
}

/* Decodes containers: a new list, or (patch) merged by name. */
static gboolean
ld_containers(const LdObject *o, const YtNode *n, const char *path, K8sPodSpec *ps, gboolean patch,
              GError **error)
{
    gboolean ok;
    guint len = ld_seq_len(n, path, &ok, error);
    if (!ok)
        return FALSE;
    if (!patch && !yt_is_null(n))
        g_ptr_array_set_size(ps->containers, 0);
    for (guint i = 0; i < len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        K8sContainer *existing = patch ? ld_find_container(ps, item) : NULL;
        if (existing != NULL) {
            if (!ld_container(o, item, p, existing, FALSE, error))
                return FALSE;
            continue;
        }
        K8sContainer *c = k8s_container_new();
        if (!ld_container(o, item, p, c, TRUE, error)) {
            k8s_container_free(c);
            return FALSE;
        }
        g_ptr_array_add(ps->containers, c);
    }
    return TRUE;
}

static const char *const ld_pod_spec_fields[] = {"containers",
                                                 "initContainers",
                                                 "ephemeralContainers",
                                                 "nodeName",
                                                 "nodeSelector",
                                                 "affinity",
                                                 "tolerations",
                                                 "terminationGracePeriodSeconds",
                                                 "activeDeadlineSeconds",
                                                 "restartPolicy",
                                                 "serviceAccountName",
                                                 "serviceAccount",
                                                 "automountServiceAccountToken",
                                                 "volumes",
                                                 "hostNetwork",
                                                 "hostPID",
                                                 "hostIPC",
                                                 "shareProcessNamespace",
                                                 "dnsPolicy",
                                                 "dnsConfig",
                                                 "securityContext",
                                                 "imagePullSecrets",
                                                 "hostname",
                                                 "subdomain",
                                                 "schedulerName",
                                                 "topologySpreadConstraints",
                                                 "priorityClassName",
                                                 "priority",
                                                 "readinessGates",
                                                 "runtimeClassName",
                                                 "enableServiceLinks",
                                                 "preemptionPolicy",
                                                 "overhead",
                                                 "hostAliases",
                                                 "os",
                                                 "hostUsers",
                                                 "schedulingGates",
                                                 "resourceClaims",
                                                 "setHostnameAsFQDN",
                                                 "resources",
                                                 NULL};

/* Decodes a PodSpec onto ps. at positions a missing spec's errors. */
static gboolean
ld_pod_spec(const LdObject *o, const YtNode *spec, const YtNode *at, const char *path,
            K8sPodSpec *ps, gboolean patch, GError **error)
{
    g_autofree char *cp = ld_path(path, "containers"), *gp = NULL;
    gint64 grace = -1;
    gboolean host_network = FALSE;
    const YtNode *grace_node = yt_map_get(spec, "terminationGracePeriodSeconds");
    if (!ld_expect_map(spec, path, error) ||
        !ld_check_fields(spec, ld_pod_spec_fields, o->kind, path, error) ||
        !ld_containers(o, yt_map_get(spec, "containers"), cp, ps, patch, error) ||
        !ld_get_string(spec, "nodeName", path, &ps->node_name, error) ||
        !ld_get_int(spec, "terminationGracePeriodSeconds", path, &grace, error) ||
        !ld_get_bool(spec, "hostNetwork", path, &host_network, error))
        return FALSE;
    if (!patch && ps->containers->len == 0)
        return ld_invalid(o, error, spec != NULL ? spec : at, "%s: Required value", cp);
    if (!yt_is_null(grace_node)) {
        gp = ld_path(path, "terminationGracePeriodSeconds");
        if (grace < 0)
            return ld_invalid(o, error, grace_node,
                              "%s: Invalid value: %" G_GINT64_FORMAT
                              ": must be greater than or equal to 0",
                              gp, grace);
        ps->termination_grace = grace * SIM_SEC;
    }
    const YtNode *node = yt_map_get(spec, "nodeName");
    if (!yt_is_null(node)) {
        g_autofree char *np = ld_path(path, "nodeName");
        ld_add_node_ref(o->ld, node, np);
    }
    if (host_network)
        ld_warn(o->ld, yt_map_get(spec, "hostNetwork"),
                "hostNetwork pods are simulated as ordinary pods with their own IP");
    return TRUE;
}

/* ---------------------------------------------------------------- Pod */

/* Decodes Pod status: IP, phase and the Ready condition. A Pod without status is taken as
 * running and Ready; a phase other than Running or a Ready condition not True makes it not
 * Ready. */
static gboolean
ld_pod_status(const LdObject *o, const YtNode *st, K8sPod *p, GError **error)
{
    static const char *const fields[] = {"podIP",
                                         "podIPs",
                                         "phase",
                                         "conditions",
                                         "hostIP",
                                         "hostIPs",
                                         "startTime",
                                         "containerStatuses",
                                         "initContainerStatuses",
                                         "ephemeralContainerStatuses",
                                         "qosClass",
                                         "message",
                                         "reason",
                                         "nominatedNodeName",
                                         "resize",
                                         "resourceClaimStatuses",
                                         "observedGeneration",
                                         NULL};
    static const char *const phases[] = {"Failed",    "Pending", "Running",
                                         "Succeeded", "Unknown", NULL};
    static const char *const cond_fields[] = {
        "type",   "status",  "lastProbeTime",      "lastTransitionTime",
        "reason", "message", "observedGeneration", NULL};
    static const char *const statuses[] = {"False", "True", "Unknown", NULL};
    SimAddr host_ip;
    guint phase = G_MAXUINT;
    const YtNode *ips = yt_map_get(st, "podIPs"), *conds = yt_map_get(st, "conditions");
    gboolean ok = ld_expect_map(st, "status", error) &&
                  ld_check_fields(st, fields, "Pod", "status", error) &&
                  ld_ip(o, yt_map_get(st, "podIP"), "status.podIP", &p->ip, error) &&
                  ld_ip(o, yt_map_get(st, "hostIP"), "status.hostIP", &host_ip, error) &&
                  ld_enum(o, yt_map_get(st, "phase"), "status.phase", phases, &phase, error);
    guint n = ok ? ld_seq_len(ips, "status.podIPs", &ok, error) : 0;
    for (guint i = 0; ok && i < n; i++) {
        static const char *const ip_fields[] = {"ip", NULL};
        g_autofree char *path = ld_path_index("status.podIPs", i), *ipp = ld_path(path, "ip");
        SimAddr a = {0};
        const YtNode *item = ips->items->pdata[i];
        ok = ld_check_fields(item, ip_fields, "Pod", path, error) &&
             ld_ip(o, yt_map_get(item, "ip"), ipp, &a, error);
        if (ok && i == 0 && p->ip.family == SIM_AF_NONE)
            p->ip = a;
    }
    p->ready = phase == G_MAXUINT || phase == 2;
    n = ok ? ld_seq_len(conds, "status.conditions", &ok, error) : 0;
    for (guint i = 0; ok && i < n; i++) {
        g_autofree char *path = ld_path_index("status.conditions", i);
        g_autofree char *type = NULL;
        g_autofree char *sp = ld_path(path, "status");
        guint status = G_MAXUINT;
        const YtNode *item = conds->items->pdata[i];
        ok = ld_check_fields(item, cond_fields, "Pod", path, error) &&
             ld_get_string(item, "type", path, &type, error) &&
             ld_enum(o, yt_map_get(item, "status"), sp, statuses, &status, error);
        if (ok && g_strcmp0(type, "Ready") == 0)
            p->ready = status == 1;
    }
    return ok;
}

/* See loader_private.h. Decodes a kind: Pod document. */
gboolean
ld_pod_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    g_autoptr(K8sPod) p = k8s_pod_new();
    if (!ld_check_fields(root, fields, "Pod", "", error) ||
        !ld_object_meta(ld, root, "Pod", "pods", LD_NAME_DNS1123_SUBDOMAIN, TRUE, &p->meta, error))
        return FALSE;
    LdObject o = {ld, "Pod", p->meta.name};
    if (!ld_pod_spec(&o, yt_map_get(root, "spec"), root, "spec", &p->spec, FALSE, error) ||
        !ld_pod_status(&o, yt_map_get(root, "status"), p, error))
        return FALSE;
    p->node_name = g_strdup(p->spec.node_name);
    p->terminating = !yt_is_null(yt_map_get(yt_map_get(root, "metadata"), "deletionTimestamp"));
    g_ptr_array_add(ld->sc->pods, g_steal_pointer(&p));
    return TRUE;
}

/* ---------------------------------------------------------------- Deployment */

/* Decodes spec.selector {matchLabels, matchExpressions}. */
static gboolean
ld_deployment_selector(const LdObject *o, const YtNode *sel, K8sDeployment *d, GError **error)
{
    static const char *const fields[] = {"matchLabels", "matchExpressions", NULL};
    const YtNode *exprs = yt_map_get(sel, "matchExpressions");
    gboolean ok;
    if (yt_is_null(sel))
        return TRUE;
    if (!ld_expect_map(sel, "spec.selector", error) ||
        !ld_check_fields(sel, fields, o->kind, "spec.selector", error) ||
        !ld_get_string_map(sel, "matchLabels", "spec.selector", &d->match_labels, error))
        return FALSE;
    guint n = ld_seq_len(exprs, "spec.selector.matchExpressions", &ok, error);
    if (!ok)
        return FALSE;
    d->selector_pos = ld_pos(sel);
    if (n > 0) {
        d->selector_has_expressions = TRUE;
        ld_warn(o->ld, exprs, "matchExpressions are accepted but not evaluated by kpsim");
    }
    return TRUE;
}

/* Decodes spec.template {metadata, spec}. */
static gboolean
ld_deployment_template(const LdObject *o, const YtNode *spec, K8sDeployment *d, gboolean patch,
                       GError **error)
{
    static const char *const fields[] = {"metadata", "spec", NULL};
    const YtNode *tpl = yt_map_get(spec, "template");
    const YtNode *meta = yt_map_get(tpl, "metadata");
    const YtNode *labels = yt_map_get(meta, "labels");
    if (!ld_expect_map(tpl, "spec.template", error) ||
        !ld_check_fields(tpl, fields, o->kind, "spec.template", error) ||
        !ld_expect_map(meta, "spec.template.metadata", error) ||
        !ld_check_fields(meta, ld_meta_fields, o->kind, "spec.template.metadata", error) ||
        !ld_string_map(labels, "spec.template.metadata.labels", &d->template_.labels, error))
        return FALSE;
    if (!yt_is_null(tpl))
        d->template_labels_pos = ld_pos(!yt_is_null(labels) ? labels : tpl);
    if (patch && yt_is_null(tpl))
        return TRUE;
    return ld_pod_spec(o, yt_map_get(tpl, "spec"), tpl != NULL ? tpl : spec, "spec.template.spec",
                       &d->template_, patch, error);
}

/* See loader_private.h. */
gboolean
ld_deployment_spec(const LdObject *o, const YtNode *spec, K8sDeployment *d, gboolean patch,
                   GError **error)
{
    static const char *const fields[] = {"replicas",
                                         "selector",
                                         "template",
                                         "strategy",
                                         "minReadySeconds",
                                         "revisionHistoryLimit",
                                         "progressDeadlineSeconds",
                                         "paused",
                                         NULL};
    gint64 replicas = d->replicas;
    const YtNode *rn = yt_map_get(spec, "replicas");
    if (!ld_check_fields(spec, fields, o->kind, "spec", error) ||
        !ld_int(rn, "spec.replicas", &replicas, error))
        return FALSE;
    if (replicas < 0 || replicas > G_MAXINT32)
        return ld_invalid(o, error, rn,
                          "spec.replicas: Invalid value: %" G_GINT64_FORMAT
                          ": must be greater than or equal to 0",
                          replicas);
    d->replicas = (gint)replicas;
    if (!yt_is_null(rn))
        d->replicas_pos = ld_pos(rn);
    return ld_deployment_selector(o, yt_map_get(spec, "selector"), d, error) &&
           ld_deployment_template(o, spec, d, patch, error);
}

/* Formats labels as Go's %#v prints a map[string]string (keys sorted). (transfer full) */
static char *
ld_go_map(GHashTable *labels)
{
    if (labels == NULL)
        return g_strdup("map[string]string(nil)");
    g_autofree char *flat = k8s_labels_to_string(labels);
    GString *out = g_string_new("map[string]string{");
    if (g_hash_table_size(labels) > 0) {
        g_auto(GStrv) pairs = g_strsplit(flat, ",", -1);
        for (guint i = 0; pairs[i] != NULL; i++) {
            char *eq = strchr(pairs[i], '=');
            *eq = '\0';
            g_string_append_printf(out, "%s\"%s\":\"%s\"", i > 0 ? ", " : "", pairs[i], eq + 1);
        }
    }
    g_string_append_c(out, '}');
    return g_string_free(out, FALSE);
}

/* See loader_private.h. */
gboolean
ld_deployment_validate(const K8sDeployment *d, GError **error)
{
    LdObject o = {NULL, "Deployment", d->meta.name};
    gsize n = d->match_labels != NULL ? g_hash_table_size(d->match_labels) : 0;
    if (d->selector_pos.line == 0)
        return ld_invalid_pos(&o, error, &d->meta.pos, "spec.selector: Required value");
    if (n == 0 && !d->selector_has_expressions)
        return ld_invalid_pos(&o, error, &d->selector_pos,
                              "spec.selector: Invalid value: \"{}\": empty selector is invalid "
                              "for deployment");
    GHashTableIter it;
    gpointer k, v;
    if (d->match_labels != NULL)
        g_hash_table_iter_init(&it, d->match_labels);
    while (n > 0 && g_hash_table_iter_next(&it, &k, &v)) {
        const char *have =
            d->template_.labels != NULL ? g_hash_table_lookup(d->template_.labels, k) : NULL;
        if (have != NULL && strcmp(have, v) == 0)
            continue;
        g_autofree char *map = ld_go_map(d->template_.labels);
        const K8sPos *pos =
            d->template_labels_pos.line != 0 ? &d->template_labels_pos : &d->selector_pos;
        return ld_invalid_pos(&o, error, pos,
                              "spec.template.metadata.labels: Invalid value: %s: `selector` does "
                              "not match template `labels`",
                              map);
    }
    return TRUE;
}

/* See loader_private.h. Decodes a kind: Deployment document. */
gboolean
ld_deployment_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    g_autoptr(K8sDeployment) d = k8s_deployment_new();
    if (!ld_check_fields(root, fields, "Deployment", "", error) ||
        !ld_object_meta(ld, root, "Deployment", "deployments", LD_NAME_DNS1123_SUBDOMAIN, TRUE,
                        &d->meta, error))
        return FALSE;
    LdObject o = {ld, "Deployment", d->meta.name};
    const YtNode *spec = yt_map_get(root, "spec");
    if (yt_is_null(spec))
        return ld_invalid(&o, error, root, "spec.template.spec.containers: Required value");
    if (!ld_expect_map(spec, "spec", error) || !ld_deployment_spec(&o, spec, d, FALSE, error))
        return FALSE;
    g_ptr_array_add(ld->sc->deployments, g_steal_pointer(&d));
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

/* ---------------------------------------------------------------- KubeProxyConfiguration */

/* The settings one mode section (iptables, ipvs, nftables) may give. */
typedef struct {
    gboolean masquerade_all, localhost_node_ports;
    gint64 masquerade_bit;
    SimTime min_sync, sync;
    char *scheduler;
    gboolean has_masquerade_all, has_localhost_node_ports, has_masquerade_bit, has_min_sync,
        has_sync;
} LdProxySection;

/* Decodes a mode section into sec; which fields exist depends on the section. */
static gboolean
ld_proxy_section(const LdObject *o, const YtNode *n, const char *path, const char *const *fields,
                 LdProxySection *sec, GError **error)
{
    g_autofree char *bp = ld_path(path, "masqueradeBit"), *mp = ld_path(path, "minSyncPeriod");
    g_autofree char *sp = ld_path(path, "syncPeriod"), *ep = ld_path(path, "excludeCIDRs");
    g_autoptr(GPtrArray) exclude = NULL;
    SimTime ignored;
    gboolean strict_arp = FALSE;
    const YtNode *bit = yt_map_get(n, "masqueradeBit");
    memset(sec, 0, sizeof *sec);
    if (!ld_expect_map(n, path, error) || !ld_check_fields(n, fields, o->kind, path, error) ||
        !ld_get_bool(n, "masqueradeAll", path, &sec->masquerade_all, error) ||
        !ld_get_bool(n, "localhostNodePorts", path, &sec->localhost_node_ports, error) ||
        !ld_get_bool(n, "strictARP", path, &strict_arp, error) ||
        !ld_int(bit, bp, &sec->masquerade_bit, error) ||
        !ld_duration(yt_map_get(n, "minSyncPeriod"), mp, &sec->min_sync, error) ||
        !ld_duration(yt_map_get(n, "syncPeriod"), sp, &sec->sync, error) ||
        !ld_get_string(n, "scheduler", path, &sec->scheduler, error) ||
        !ld_string_list(yt_map_get(n, "excludeCIDRs"), ep, FALSE, &exclude, error))
        return FALSE;
    const char *timeouts[] = {"tcpTimeout", "tcpFinTimeout", "udpTimeout"};
    for (gsize i = 0; i < G_N_ELEMENTS(timeouts); i++) {
        g_autofree char *tp = ld_path(path, timeouts[i]);
        if (!ld_duration(yt_map_get(n, timeouts[i]), tp, &ignored, error))
            return FALSE;
    }
    if (!yt_is_null(bit) && (sec->masquerade_bit < 0 || sec->masquerade_bit > 31))
        return ld_invalid(o, error, bit,
                          "%s: Invalid value: %" G_GINT64_FORMAT
                          ": must be within the range [0, 31]",
                          bp, sec->masquerade_bit);
    for (guint i = 0; exclude != NULL && i < exclude->len; i++) {
        g_autofree char *p = ld_path_index(ep, i);
        SimCidr c;
        if (!ld_cidr(o, yt_map_get(n, "excludeCIDRs")->items->pdata[i], p, FALSE, &c, error))
            return FALSE;
    }
    sec->has_masquerade_all = !yt_is_null(yt_map_get(n, "masqueradeAll"));
    sec->has_localhost_node_ports = !yt_is_null(yt_map_get(n, "localhostNodePorts"));
    sec->has_masquerade_bit = !yt_is_null(bit);
    sec->has_min_sync = !yt_is_null(yt_map_get(n, "minSyncPeriod"));
    sec->has_sync = !yt_is_null(yt_map_get(n, "syncPeriod"));
    return TRUE;
}

/* Applies a decoded section to the configuration. */
static void
ld_proxy_apply_section(KubeProxyConfig *c, LdProxySection *sec, gboolean masquerade, gboolean sync)
{
    if (masquerade && sec->has_masquerade_all)
        c->masquerade_all = sec->masquerade_all;
    if (masquerade && sec->has_masquerade_bit)
        c->masquerade_bit = (guint)sec->masquerade_bit;
    if (masquerade && sec->has_localhost_node_ports)
        c->localhost_node_ports = sec->localhost_node_ports;
    if (sync && sec->has_min_sync)
        c->min_sync_period = sec->min_sync;
    if (sync && sec->has_sync)
        c->sync_period = sec->sync;
    if (sync && sec->scheduler != NULL && sec->scheduler[0] != '\0') {
        g_free(c->ipvs_scheduler);
        c->ipvs_scheduler = g_steal_pointer(&sec->scheduler);
    }
    g_clear_pointer(&sec->scheduler, g_free);
}

/* Decodes the iptables, ipvs and nftables sections; each applies when its mode is the one in
 * effect (ipvs mode also takes iptables' masquerade settings, as kube-proxy does). */
static gboolean
ld_proxy_sections(const LdObject *o, const YtNode *map, const char *path, KubeProxyConfig *c,
                  GError **error)
{
    static const char *const ipt[] = {"masqueradeAll", "masqueradeBit", "localhostNodePorts",
                                      "minSyncPeriod", "syncPeriod",    NULL};
    static const char *const ipvs[] = {"scheduler",  "syncPeriod",   "minSyncPeriod",
                                       "strictARP",  "tcpTimeout",   "tcpFinTimeout",
                                       "udpTimeout", "excludeCIDRs", NULL};
    static const char *const nft[] = {"masqueradeAll", "masqueradeBit", "minSyncPeriod",
                                      "syncPeriod", NULL};
    const char *names[] = {"iptables", "ipvs", "nftables"};
    const char *const *fields[] = {ipt, ipvs, nft};
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = ld_path(path, names[i]);
        LdProxySection sec;
        if (!ld_proxy_section(o, yt_map_get(map, names[i]), p, fields[i], &sec, error)) {
            g_free(sec.scheduler);
            return FALSE;
        }
        gboolean masq =
            (i == 0 && c->mode != KP_MODE_NFTABLES) || (i == 2 && c->mode == KP_MODE_NFTABLES);
        gboolean sync = (i == 0 && c->mode == KP_MODE_IPTABLES) ||
                        (i == 1 && c->mode == KP_MODE_IPVS) ||
                        (i == 2 && c->mode == KP_MODE_NFTABLES);
        ld_proxy_apply_section(c, &sec, masq, sync);
    }
    return TRUE;
}

/* Decodes mode and detectLocalMode ("" means the default: iptables, ClusterCIDR). */
static gboolean
ld_proxy_modes(const LdObject *o, const YtNode *map, const char *path, KubeProxyConfig *c,
               GError **error)
{
    static const char *const modes[] = {"iptables", "ipvs", "nftables", NULL};
    static const KpMode mode_values[] = {KP_MODE_IPTABLES, KP_MODE_IPVS, KP_MODE_NFTABLES};
    static const char *const detect[] = {"BridgeInterface", "ClusterCIDR", "InterfaceNamePrefix",
                                         "NodeCIDR", NULL};
    static const KpDetectLocalMode detect_values[] = {
        KP_DETECT_BRIDGE_INTERFACE, KP_DETECT_CLUSTER_CIDR, KP_DETECT_INTERFACE_NAME_PREFIX,
        KP_DETECT_NODE_CIDR};
    g_autofree char *mp = ld_path(path, "mode"), *dp = ld_path(path, "detectLocalMode");
    const YtNode *mode = yt_map_get(map, "mode"), *dl = yt_map_get(map, "detectLocalMode");
    guint m = G_MAXUINT, d = G_MAXUINT;
    if (mode != NULL && mode->type == YT_SCALAR && mode->text[0] == '\0')
        m = 0;
    else if (!ld_enum(o, mode, mp, modes, &m, error))
        return FALSE;
    if (dl != NULL && dl->type == YT_SCALAR && dl->text[0] == '\0')
        d = 1;
    else if (!ld_enum(o, dl, dp, detect, &d, error))
        return FALSE;
    if (m != G_MAXUINT)
        c->mode = mode_values[m];
    if (d != G_MAXUINT)
        c->detect_local_mode = detect_values[d];
    return TRUE;
}

/* Decodes clusterCIDR: comma-separated CIDRs; explicitly "" means no ClusterCIDR detector. */
static gboolean
ld_proxy_cluster_cidr(Loader *ld, const LdObject *o, const YtNode *n, const char *path,
                      GError **error)
{
    g_autofree char *text = NULL;
    if (yt_is_null(n))
        return TRUE;
    if (!ld_string(n, path, &text, error))
        return FALSE;
    KubeProxyConfig *c = &ld->sc->proxy;
    g_array_set_size(c->cluster_cidrs, 0);
    c->cluster_cidr_set = TRUE;
    ld->sc->proxy_cluster_cidr_from_cluster = FALSE;
    if (text == NULL || text[0] == '\0')
        return TRUE;
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    for (guint i = 0; parts[i] != NULL; i++) {
        SimCidr cidr;
        char *t = g_strstrip(parts[i]);
        if (strchr(t, '/') == NULL || !sim_cidr_parse(t, &cidr))
            return ld_invalid(o, error, n,
                              "%s: Invalid value: \"%s\": must be a valid CIDR value, (e.g. "
                              "10.9.8.0/24 or 2001:db8::/64)",
                              path, t);
        g_array_append_val(c->cluster_cidrs, cidr);
    }
    return TRUE;
}

/* Decodes nodePortAddresses: CIDRs or "primary"; replaces the list. */
static gboolean
ld_proxy_node_port_addresses(const LdObject *o, const YtNode *n, const char *path,
                             KubeProxyConfig *c, GError **error)
{
    g_autoptr(GPtrArray) list = NULL;
    if (!ld_string_list(n, path, FALSE, &list, error))
        return FALSE;
    if (list == NULL)
        return TRUE;
    for (guint i = 0; i < list->len; i++) {
        SimCidr cidr;
        const char *t = list->pdata[i];
        if (strcmp(t, "primary") == 0 || (strchr(t, '/') != NULL && sim_cidr_parse(t, &cidr)))
            continue;
        g_autofree char *p = ld_path_index(path, i);
        return ld_invalid(o, error, n->items->pdata[i],
                          "%s: Invalid value: \"%s\": must be a valid CIDR or \"primary\"", p, t);
    }
    g_ptr_array_unref(c->node_port_addresses);
    c->node_port_addresses = g_steal_pointer(&list);
    return TRUE;
}

/* Decodes a non-negative integer field of conntrack into *out. */
static gboolean
ld_proxy_count(const LdObject *o, const YtNode *map, const char *key, const char *path, guint *out,
               GError **error)
{
    g_autofree char *p = ld_path(path, key);
    const YtNode *n = yt_map_get(map, key);
    gint64 v = *out;
    if (!ld_int(n, p, &v, error))
        return FALSE;
    if (v < 0 || v > G_MAXINT32)
        return ld_invalid(
            o, error, n,
            "%s: Invalid value: %" G_GINT64_FORMAT ": must be greater than or equal to 0", p, v);
    *out = (guint)v;
    return TRUE;
}

/* Decodes conntrack {maxPerCore, min, tcpEstablishedTimeout, tcpCloseWaitTimeout, tcpBeLiberal,
 * udpTimeout, udpStreamTimeout}. */
static gboolean
ld_proxy_conntrack(const LdObject *o, const YtNode *n, const char *path, KubeProxyConfig *c,
                   GError **error)
{
    static const char *const fields[] = {
        "maxPerCore",   "min",        "tcpEstablishedTimeout", "tcpCloseWaitTimeout",
        "tcpBeLiberal", "udpTimeout", "udpStreamTimeout",      NULL};
    g_autofree char *ep = ld_path(path, "tcpEstablishedTimeout");
    g_autofree char *wp = ld_path(path, "tcpCloseWaitTimeout");
    g_autofree char *up = ld_path(path, "udpTimeout"), *sp = ld_path(path, "udpStreamTimeout");
    SimTime ignored;
    return ld_expect_map(n, path, error) && ld_check_fields(n, fields, o->kind, path, error) &&
           ld_proxy_count(o, n, "maxPerCore", path, &c->conntrack_max_per_core, error) &&
           ld_proxy_count(o, n, "min", path, &c->conntrack_min, error) &&
           ld_duration(yt_map_get(n, "tcpEstablishedTimeout"), ep, &c->tcp_established_timeout,
                       error) &&
           ld_duration(yt_map_get(n, "tcpCloseWaitTimeout"), wp, &c->tcp_close_wait_timeout,
                       error) &&
           ld_get_bool(n, "tcpBeLiberal", path, &c->tcp_be_liberal, error) &&
           ld_duration(yt_map_get(n, "udpTimeout"), up, &ignored, error) &&
           ld_duration(yt_map_get(n, "udpStreamTimeout"), sp, &ignored, error);
}

static const char *const ld_proxy_fields[] = {"apiVersion",
                                              "kind",
                                              "mode",
                                              "clusterCIDR",
                                              "detectLocalMode",
                                              "detectLocal",
                                              "iptables",
                                              "ipvs",
                                              "nftables",
                                              "nodePortAddresses",
                                              "conntrack",
                                              "bindAddress",
                                              "healthzBindAddress",
                                              "metricsBindAddress",
                                              "hostnameOverride",
                                              "featureGates",
                                              "clientConnection",
                                              "configSyncPeriod",
                                              "oomScoreAdj",
                                              "portRange",
                                              "showHiddenMetricsForVersion",
                                              "logging",
                                              "enableProfiling",
                                              "bindAddressHardFail",
                                              "winkernel",
                                              "syncPeriod",
                                              "minSyncPeriod",
                                              NULL};

/* See loader_private.h. */
gboolean
ld_proxy_config(Loader *ld, const YtNode *map, const char *path, gboolean is_doc, GError **error)
{
    static const char *const detect_fields[] = {"bridgeInterface", "interfaceNamePrefix", NULL};
    KubeProxyConfig *c = &ld->sc->proxy;
    const char *what = is_doc ? "KubeProxyConfiguration" : "Scenario";
    LdObject o = {ld, what, NULL}; /* kube-proxy's errors carry no object-name prefix */
    g_autofree char *dp = ld_path(path, "detectLocal"), *cp = ld_path(path, "clusterCIDR");
    g_autofree char *np = ld_path(path, "nodePortAddresses"), *tp = ld_path(path, "conntrack");
    g_autofree char *sp = ld_path(path, "syncPeriod"), *mp = ld_path(path, "minSyncPeriod");
    const YtNode *detect = yt_map_get(map, "detectLocal");
    if (!ld_check_fields(map, is_doc ? ld_proxy_fields : ld_proxy_fields + 2, what, path, error) ||
        !ld_proxy_modes(&o, map, path, c, error) ||
        !ld_proxy_cluster_cidr(ld, &o, yt_map_get(map, "clusterCIDR"), cp, error) ||
        !ld_expect_map(detect, dp, error) ||
        !ld_check_fields(detect, detect_fields, what, dp, error) ||
        !ld_get_string(detect, "bridgeInterface", dp, &c->bridge_interface, error) ||
        !ld_get_string(detect, "interfaceNamePrefix", dp, &c->interface_name_prefix, error) ||
        !ld_duration(yt_map_get(map, "syncPeriod"), sp, &c->sync_period, error) ||
        !ld_duration(yt_map_get(map, "minSyncPeriod"), mp, &c->min_sync_period, error) ||
        !ld_proxy_sections(&o, map, path, c, error) ||
        !ld_proxy_node_port_addresses(&o, yt_map_get(map, "nodePortAddresses"), np, c, error) ||
        !ld_proxy_conntrack(&o, yt_map_get(map, "conntrack"), tp, c, error))
        return FALSE;
    c->pos = ld_pos(map);
    return TRUE;
}
