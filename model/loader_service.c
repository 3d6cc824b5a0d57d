/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding kind: Service: ports, spec, status, and the apiserver's cross-field checks.
 *
 * Accepts every field of the v1 Service type and decodes the ones k8s.h holds: type, ports
 * (targetPort by number or name), clusterIP(s) and ipFamilies, session affinity, the traffic
 * policies, externalIPs and loadBalancerSourceRanges, and status.loadBalancer.ingress. Errors
 * are worded as ValidateService words them. As a patch, a spec merges ports by port number.
 */
#include "model/loader_private.h"

#include <string.h>

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
