/* SPDX-License-Identifier: Apache-2.0 */
/* The iptables proxy mode: one node's filter and nat rules for one IP family.
 *
 * Models syncProxyRules() of pkg/proxy/iptables/proxier.go (v1.31 era) for a full sync: the
 * hook jumps kube-proxy prepends to the built-in chains (kubelet's KUBE-FIREWALL jumps stay
 * last), KUBE-POSTROUTING and KUBE-MARK-MASQ, then per service port the clusterIP, externalIP,
 * load-balancer and NodePort captures, the filter REJECT/DROP rules for missing endpoints, the
 * KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL and KUBE-SEP chains, and finally the NodePort tail of
 * KUBE-SERVICES and KUBE-FORWARD. Rules carry kube-proxy's own argument order;
 * sim/nf_rule_parse*.c normalises them to iptables-save's form.
 *
 * Left out: partial syncs and chain deletion (every render is a full sync of a fresh ruleset),
 * the mangle table's canary, kubelet's other chains, metrics, and the nfacct availability test
 * (nfacct is assumed present, as on current kernels).
 */
#include "model/kube_proxy.h"
#include "model/kube_proxy_endpoints.h"
#include "model/kube_proxy_private.h"
#include "sim/sim_bytes.h"

#include <stdarg.h>
#include <string.h>

/* kube-proxy drops per-endpoint comments beyond this many endpoints
 * (largeClusterEndpointsThreshold). */
#define IPT_LARGE_CLUSTER_ENDPOINTS 1000
#define IPT_CHAIN_LEN 32 /* "KUBE-SEP-" + 16 + NUL fits; iptables allows 28 characters */

/* What every rule of one render needs: the ruleset, the node and kube-proxy's settings. */
typedef struct {
    NfRuleset *rs;
    const KubeProxyConfig *cfg;
    const K8sNode *node;
    SimFamily family;
    gboolean has_node_ip;
    SimAddr node_ip; /* the FW chain's allowFromNode test */
    KpLocalDetector detector;
    const char *detector_opt; /* "-s" or "-i" */
    char *detector_value;     /* CIDR text, bridge name, or prefix + "+" */
    KpNodePortAddresses npa;
    gboolean large_cluster; /* comments omitted on SVC/SVL/SEP rules */
    GArray *probabilities;  /* kp_probability()'s cache */
    GString *text;          /* ipt_text()'s buffer, reused by every rule's comment */
    char mark[16];          /* "0x004000" */
    char mark_mask[40];     /* "0x004000/0x004000" */
} IptRender;

/* One service port being rendered: its chain names and the decisions syncProxyRules makes. */
typedef struct {
    const KpServicePort *sp;
    SimProto proto; /* sp->protocol's */
    char svc_chain[IPT_CHAIN_LEN], svl_chain[IPT_CHAIN_LEN];
    char ext_chain[IPT_CHAIN_LEN], fw_chain[IPT_CHAIN_LEN];
    char (*sep_chain)[IPT_CHAIN_LEN]; /* by KpEndpoint.index; set for all_reachable; NULL
                                       * when there are none */
    char cluster_ip[SIM_ADDR_STRLEN]; /* "" until ipt_cluster_ip() writes it */
    char port[8], node_port[8];
    gboolean uses_cluster_chain, uses_local_chain, uses_ext_chain, uses_fw_chain;
    gboolean has_internal, has_external;
    const char *internal_chain, *external_policy_chain, *lb_chain;
    const char *internal_target, *external_target; /* REJECT / DROP when lacking endpoints */
    char *internal_comment, *external_comment;
} IptService;

/* ---------------------------------------------------------------- argument vectors */

/* The NULL-terminated strings one after another, in r's text buffer: valid until the next call
 * (rules copy their comments, so one buffer serves every rule). Rule comments are written this
 * way rather than with printf: a 10,000-Service node writes 40,000 of them. (transfer none) */
static const char *G_GNUC_NULL_TERMINATED
ipt_text(IptRender *r, ...)
{
    va_list ap;
    g_string_truncate(r->text, 0);
    va_start(ap, r);
    for (const char *t = va_arg(ap, const char *); t != NULL; t = va_arg(ap, const char *))
        g_string_append(r->text, t);
    va_end(ap);
    return r->text->str;
}

/* Writes v in decimal and a NUL into buf (room for v's digits and the NUL: 6 bytes for a port,
 * 11 for any guint) and returns buf, as "%u" would. */
static char *
ipt_uint(char *buf, guint v)
{
    *sim_put_decimal(buf, v) = '\0';
    return buf;
}

/* The clusterIP of s as text, written on first use (most service ports never need it: their
 * rules are built from structures). (transfer none) */
static const char *
ipt_cluster_ip(IptService *s)
{
    if (s->cluster_ip[0] == '\0')
        sim_addr_to_string(&s->sp->cluster_ip, s->cluster_ip);
    return s->cluster_ip;
}

/* Appends "-m PROTO -p PROTO [-d DST] --dport PORT" (dst nullable), as kube-proxy writes it. */
static void
ipt_args_add_dest(KpArgs *a, const IptService *s, const char *dst, const char *port)
{
    kp_args_add(a, "-m", s->sp->protocol, "-p", s->sp->protocol, NULL);
    if (dst != NULL)
        kp_args_add(a, "-d", dst, NULL);
    kp_args_add(a, "--dport", port, NULL);
}

/* ---------------------------------------------------------------- top-level chains */

/* One of kube-proxy's (and kubelet's) jumps from a built-in chain. */
typedef struct {
    NfTableId table;
    const char *from, *to, *comment;
    gboolean ct_new;
} IptJump;

/* Writes the jumps into the built-in chains in their final order on a node (kube-proxy
 * prepends its list one by one, so each chain ends up in reverse list order; kubelet's
 * KUBE-FIREWALL jumps were appended earlier and stay last). */
static void
ipt_hook_jumps(IptRender *r)
{
    static const IptJump jumps[] = {
        {NF_TABLE_FILTER, "INPUT", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall",
         TRUE},
        {NF_TABLE_FILTER, "INPUT", "KUBE-NODEPORTS", "kubernetes health check service ports",
         FALSE},
        {NF_TABLE_FILTER, "INPUT", "KUBE-EXTERNAL-SERVICES",
         "kubernetes externally-visible service portals", TRUE},
        {NF_TABLE_FILTER, "INPUT", "KUBE-FIREWALL", NULL, FALSE},
        {NF_TABLE_FILTER, "FORWARD", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall",
         TRUE},
        {NF_TABLE_FILTER, "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules", FALSE},
        {NF_TABLE_FILTER, "FORWARD", "KUBE-SERVICES", "kubernetes service portals", TRUE},
        {NF_TABLE_FILTER, "FORWARD", "KUBE-EXTERNAL-SERVICES",
         "kubernetes externally-visible service portals", TRUE},
        {NF_TABLE_FILTER, "OUTPUT", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall",
         TRUE},
        {NF_TABLE_FILTER, "OUTPUT", "KUBE-SERVICES", "kubernetes service portals", TRUE},
        {NF_TABLE_FILTER, "OUTPUT", "KUBE-FIREWALL", NULL, FALSE},
        {NF_TABLE_NAT, "PREROUTING", "KUBE-SERVICES", "kubernetes service portals", FALSE},
        {NF_TABLE_NAT, "OUTPUT", "KUBE-SERVICES", "kubernetes service portals", FALSE},
        {NF_TABLE_NAT, "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules", FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(jumps); i++) {
        const IptJump *j = &jumps[i];
        KpArgs a = {0};
        if (strcmp(j->to, "KUBE-FIREWALL") == 0 && r->family != SIM_AF_INET)
            continue;
        if (j->ct_new)
            kp_args_add(&a, "-m", "conntrack", "--ctstate", "NEW", NULL);
        if (j->comment != NULL)
            kp_args_add(&a, "-m", "comment", "--comment", j->comment, NULL);
        kp_args_add(&a, "-j", j->to, NULL);
        kp_append(r->rs, j->table, j->from, &a);
    }
}

/* Creates the top-level chains of both tables, the hook jumps, and the rules of
 * KUBE-POSTROUTING and KUBE-MARK-MASQ. */
static void
ipt_top_level(IptRender *r)
{
    static const char *const filter_chains[] = {"KUBE-SERVICES",       "KUBE-EXTERNAL-SERVICES",
                                                "KUBE-FORWARD",        "KUBE-NODEPORTS",
                                                "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY"};
    static const char *const nat_chains[] = {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING",
                                             "KUBE-MARK-MASQ", "KUBE-PROXY-CANARY"};
    for (gsize i = 0; i < G_N_ELEMENTS(filter_chains); i++)
        kp_new_chain(r->rs, NF_TABLE_FILTER, filter_chains[i]);
    for (gsize i = 0; i < G_N_ELEMENTS(nat_chains); i++)
        kp_new_chain(r->rs, NF_TABLE_NAT, nat_chains[i]);
    if (r->family == SIM_AF_INET)
        kp_kubelet_firewall(r->rs);
    ipt_hook_jumps(r);
    kp_masquerade_rules(r->rs, r->mark, r->mark_mask);
}

/* ---------------------------------------------------------------- per service port: setup */

/* Fills the chain names of s: KUBE-SVC/SVL/EXT/FW from the port hash, KUBE-SEP for every
 * endpoint this node may reach. */
static void
ipt_service_names(IptService *s)
{
    const KpServicePort *sp = s->sp;
    char h[KUBE_PROXY_HASH_SIZE];
    kube_proxy_port_proto_hash_into(sp->name, sp->protocol, h);
    kp_chain_name(s->svc_chain, IPT_CHAIN_LEN, "KUBE-SVC-", h);
    kp_chain_name(s->svl_chain, IPT_CHAIN_LEN, "KUBE-SVL-", h);
    kp_chain_name(s->ext_chain, IPT_CHAIN_LEN, "KUBE-EXT-", h);
    kp_chain_name(s->fw_chain, IPT_CHAIN_LEN, "KUBE-FW-", h);
    if (sp->all_reachable->len > 0)
        s->sep_chain = g_malloc0_n(sp->endpoints->len, IPT_CHAIN_LEN);
    for (guint i = 0; i < sp->all_reachable->len; i++) {
        const KpEndpoint *ep = sp->all_reachable->pdata[i];
        char eh[KUBE_PROXY_HASH_SIZE];
        kube_proxy_endpoint_hash_into(sp->name, sp->protocol, ep->str, eh);
        kp_chain_name(s->sep_chain[ep->index], IPT_CHAIN_LEN, "KUBE-SEP-", eh);
    }
}

/* Makes syncProxyRules' per-service decisions: which chains exist, where internal, external
 * and load-balancer traffic goes, and the filter verdict when endpoints are missing. */
static void
ipt_service_decide(IptService *s)
{
    const KpServicePort *sp = s->sp;
    gboolean no_local = !kp_service_port_has_local(sp); /* summarised ports: no lists */
    s->uses_cluster_chain = kp_service_port_has_cluster(sp) && sp->uses_cluster_endpoints;
    s->uses_local_chain = !no_local && sp->uses_local_endpoints;
    s->internal_chain = sp->internal_policy_local ? s->svl_chain : s->svc_chain;
    s->has_internal = sp->has_endpoints && !(sp->internal_policy_local && no_local);
    s->external_policy_chain = sp->external_policy_local ? s->svl_chain : s->svc_chain;
    s->has_external = sp->has_endpoints && !(sp->external_policy_local && no_local);
    s->uses_ext_chain = sp->has_endpoints && sp->externally_accessible;
    s->uses_fw_chain = sp->has_endpoints && sp->lb_vips->len > 0 && sp->source_ranges->len > 0;
    s->lb_chain = s->uses_fw_chain ? s->fw_chain : s->ext_chain;

    if (!sp->has_endpoints) {
        s->internal_target = s->external_target = "REJECT";
        s->internal_comment = g_strconcat(sp->name, " has no endpoints", NULL);
        s->external_comment = g_strdup(s->internal_comment);
        return;
    }
    if (!s->has_internal) {
        s->internal_target = "DROP";
        s->internal_comment = g_strconcat(sp->name, " has no local endpoints", NULL);
    }
    if (!s->has_external) {
        s->external_target = "DROP";
        s->external_comment = g_strconcat(sp->name, " has no local endpoints", NULL);
    }
}

/* Prepares s for sp: names, decisions and the address/port texts the rules use. Release with
 * ipt_service_clear(). */
static void
ipt_service_init(IptService *s, const KpServicePort *sp)
{
    memset(s, 0, sizeof *s);
    s->sp = sp;
    s->proto = kp_proto(sp->protocol);
    ipt_service_names(s);
    ipt_service_decide(s);
    ipt_uint(s->port, sp->port->port);
    ipt_uint(s->node_port, sp->port->node_port);
}

/* Releases what s owns. */
static void
ipt_service_clear(IptService *s)
{
    g_free(s->sep_chain);
    g_free(s->internal_comment);
    g_free(s->external_comment);
}

/* Creates the nat chains s uses, before any rule jumps to them. */
static void
ipt_service_chains(IptRender *r, const IptService *s)
{
    if (s->uses_ext_chain)
        kp_new_chain(r->rs, NF_TABLE_NAT, s->ext_chain);
    if (s->uses_fw_chain)
        kp_new_chain(r->rs, NF_TABLE_NAT, s->fw_chain);
    if (s->uses_cluster_chain)
        kp_new_chain(r->rs, NF_TABLE_NAT, s->svc_chain);
    if (s->uses_local_chain)
        kp_new_chain(r->rs, NF_TABLE_NAT, s->svl_chain);
    for (guint i = 0; i < s->sp->all_reachable->len; i++) {
        const KpEndpoint *ep = s->sp->all_reachable->pdata[i];
        kp_new_chain(r->rs, NF_TABLE_NAT, s->sep_chain[ep->index]);
    }
}

/* ---------------------------------------------------------------- per service port: captures */

/* The clusterIP capture: nat KUBE-SERVICES to the internal chain, or filter KUBE-SERVICES
 * REJECT/DROP when there are no internal endpoints. */
static void
ipt_capture_cluster_ip(IptRender *r, IptService *s)
{
    KpArgs a = {0};
    if (s->has_internal) {
        const char *comment = ipt_text(r, s->sp->name, " cluster IP", NULL);
        SimProto proto = s->proto;
        SimCidr dst;
        sim_cidr_from_addr(&s->sp->cluster_ip, &dst);
        NfRuleBuilder *b = nf_rule_builder_start(r->rs, NF_TABLE_NAT, "KUBE-SERVICES");
        nf_rule_builder_comment(b, comment);
        nf_rule_builder_dport(b, proto, s->sp->port->port);
        nf_rule_builder_proto(b, proto);
        nf_rule_builder_dst(b, &dst, FALSE);
        nf_rule_builder_jump(b, s->internal_chain);
        kp_commit(b);
        return;
    }
    kp_args_add(&a, "-m", "comment", "--comment", s->internal_comment, NULL);
    ipt_args_add_dest(&a, s, ipt_cluster_ip(s), s->port);
    kp_args_add(&a, "-j", s->internal_target, NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-SERVICES", &a);
}

/* The filter KUBE-EXTERNAL-SERVICES REJECT/DROP rule for dst:port (no external endpoints). */
static void
ipt_external_filter(IptRender *r, const IptService *s, const char *dst)
{
    KpArgs a = {0};
    kp_args_add(&a, "-m", "comment", "--comment", s->external_comment, NULL);
    ipt_args_add_dest(&a, s, dst, s->port);
    kp_args_add(&a, "-j", s->external_target, NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-EXTERNAL-SERVICES", &a);
}

/* The externalIP captures: nat KUBE-SERVICES to KUBE-EXT, and the filter rule when external
 * traffic has no endpoints. */
static void
ipt_capture_external_ips(IptRender *r, const IptService *s)
{
    for (guint i = 0; i < s->sp->external_ips->len; i++) {
        char ip[SIM_ADDR_STRLEN];
        sim_addr_to_string(&g_array_index(s->sp->external_ips, SimAddr, i), ip);
        if (s->sp->has_endpoints) {
            KpArgs a = {0};
            kp_args_add(&a, "-m", "comment", "--comment",
                        ipt_text(r, s->sp->name, " external IP", NULL), NULL);
            ipt_args_add_dest(&a, s, ip, s->port);
            kp_args_add(&a, "-j", s->ext_chain, NULL);
            kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
        }
        if (!s->has_external)
            ipt_external_filter(r, s, ip);
    }
}

/* The load-balancer IP captures: nat KUBE-SERVICES to KUBE-EXT (or KUBE-FW), the
 * KUBE-PROXY-FIREWALL DROP when source ranges apply, then the filter rules when external
 * traffic has no endpoints. */
static void
ipt_capture_lb_ips(IptRender *r, const IptService *s)
{
    const KpValueList *vips = s->sp->lb_vips;
    for (guint i = 0; i < vips->len; i++) {
        char ip[SIM_ADDR_STRLEN];
        sim_addr_to_string(&g_array_index(vips, SimAddr, i), ip);
        KpArgs a = {0};
        if (s->sp->has_endpoints) {
            kp_args_add(&a, "-m", "comment", "--comment",
                        ipt_text(r, s->sp->name, " loadbalancer IP", NULL), NULL);
            ipt_args_add_dest(&a, s, ip, s->port);
            kp_args_add(&a, "-j", s->lb_chain, NULL);
            kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
        }
        if (s->uses_fw_chain) {
            a.n = 0;
            kp_args_add(&a, "-m", "comment", "--comment",
                        ipt_text(r, s->sp->name, " traffic not accepted by ", s->fw_chain, NULL),
                        NULL);
            ipt_args_add_dest(&a, s, ip, s->port);
            kp_args_add(&a, "-j", "DROP", NULL);
            kp_append(r->rs, NF_TABLE_FILTER, "KUBE-PROXY-FIREWALL", &a);
        }
    }
    for (guint i = 0; !s->has_external && i < vips->len; i++) {
        char ip[SIM_ADDR_STRLEN];
        ipt_external_filter(r, s, sim_addr_to_string(&g_array_index(vips, SimAddr, i), ip));
    }
}

/* The NodePort captures in nat KUBE-NODEPORTS (with the counted localhost copy for IPv4), the
 * filter rule when external traffic has no endpoints, and the healthCheckNodePort ACCEPT. */
static void
ipt_capture_node_port(IptRender *r, const IptService *s)
{
    const KpServicePort *sp = s->sp;
    KpArgs a = {0};
    if (sp->port->node_port != 0 && sp->has_endpoints) {
        SimProto proto = s->proto;
        if (r->family == SIM_AF_INET && r->cfg->localhost_node_ports && r->npa.match_all) {
            const SimCidr loopback = {.addr = {.family = SIM_AF_INET, .b = {127}}, .prefix = 8};
            NfRuleBuilder *b = nf_rule_builder_start(r->rs, NF_TABLE_NAT, "KUBE-NODEPORTS");
            nf_rule_builder_comment(b, sp->name);
            nf_rule_builder_dport(b, proto, sp->port->node_port);
            nf_rule_builder_proto(b, proto);
            nf_rule_builder_dst(b, &loopback, FALSE);
            nf_rule_builder_nfacct(b, "localhost_nps_accepted_pkts");
            nf_rule_builder_jump(b, s->ext_chain);
            kp_commit(b);
        }
        NfRuleBuilder *b = nf_rule_builder_start(r->rs, NF_TABLE_NAT, "KUBE-NODEPORTS");
        nf_rule_builder_comment(b, sp->name);
        nf_rule_builder_dport(b, proto, sp->port->node_port);
        nf_rule_builder_proto(b, proto);
        nf_rule_builder_jump(b, s->ext_chain);
        kp_commit(b);
    }
    if (sp->port->node_port != 0 && !s->has_external) {
        kp_args_add(&a, "-m", "comment", "--comment", s->external_comment, "-m", "addrtype",
                    "--dst-type", "LOCAL", NULL);
        ipt_args_add_dest(&a, s, NULL, s->node_port);
        kp_args_add(&a, "-j", s->external_target, NULL);
        kp_append(r->rs, NF_TABLE_FILTER, "KUBE-EXTERNAL-SERVICES", &a);
        a.n = 0;
    }
    if (sp->health_check_node_port != 0) {
        char hc[8];
        const char *comment = ipt_text(r, sp->name, " health check node port", NULL);
        kp_args_add(&a, "-m", "comment", "--comment", comment, "-m", "tcp", "-p", "tcp", "--dport",
                    ipt_uint(hc, sp->health_check_node_port), "-j", "ACCEPT", NULL);
        kp_append(r->rs, NF_TABLE_FILTER, "KUBE-NODEPORTS", &a);
    }
}

/* ---------------------------------------------------------------- per service port: chains */

/* The first rule of the internal policy chain: mark clusterIP traffic for masquerade, for
 * every source (masqueradeAll) or for sources the local detector calls off-cluster. */
static void
ipt_internal_masquerade(IptRender *r, IptService *s)
{
    if (!s->has_internal || (!r->cfg->masquerade_all && !r->detector.implemented))
        return;
    KpArgs a = {0};
    kp_args_add(&a, "-m", "comment", "--comment", ipt_text(r, s->sp->name, " cluster IP", NULL),
                NULL);
    ipt_args_add_dest(&a, s, ipt_cluster_ip(s), s->port);
    if (!r->cfg->masquerade_all)
        kp_args_add(&a, "!", r->detector_opt, r->detector_value, NULL);
    kp_args_add(&a, "-j", "KUBE-MARK-MASQ", NULL);
    kp_append(r->rs, NF_TABLE_NAT, s->internal_chain, &a);
}

/* Appends to KUBE-EXT the rule "-m comment --comment 'WHAT <svc> external destinations'
 * [MATCH...] -j TARGET", the matches given as NULL-terminated strings. */
static void G_GNUC_NULL_TERMINATED
ipt_ext_rule(IptRender *r, const IptService *s, const char *what, const char *target, ...)
{
    KpArgs a = {0};
    kp_args_add(&a, "-m", "comment", "--comment",
                ipt_text(r, what, " ", s->sp->name, " external destinations", NULL), NULL);
    va_list ap;
    va_start(ap, target);
    for (const char *m = va_arg(ap, const char *); m != NULL; m = va_arg(ap, const char *))
        kp_args_add(&a, m, NULL);
    va_end(ap);
    kp_args_add(&a, "-j", target, NULL);
    kp_append(r->rs, NF_TABLE_NAT, s->ext_chain, &a);
}

/* KUBE-EXT: masquerade everything (ETP Cluster), or short-circuit pod and host traffic to the
 * Cluster chain (ETP Local); then the jump to the external policy chain when it has
 * endpoints. */
static void
ipt_external_chain(IptRender *r, const IptService *s)
{
    if (!s->uses_ext_chain)
        return;
    if (!s->sp->external_policy_local) {
        ipt_ext_rule(r, s, "masquerade traffic for", "KUBE-MARK-MASQ", NULL);
    } else {
        if (r->detector.implemented)
            ipt_ext_rule(r, s, "pod traffic for", s->svc_chain, r->detector_opt, r->detector_value,
                         NULL);
        ipt_ext_rule(r, s, "masquerade LOCAL traffic for", "KUBE-MARK-MASQ", "-m", "addrtype",
                     "--src-type", "LOCAL", NULL);
        ipt_ext_rule(r, s, "route LOCAL traffic for", s->svc_chain, "-m", "addrtype", "--src-type",
                     "LOCAL", NULL);
    }
    if (s->has_external) {
        KpArgs a = {0};
        kp_args_add(&a, "-j", s->external_policy_chain, NULL);
        kp_append(r->rs, NF_TABLE_NAT, s->ext_chain, &a);
    }
}

/* KUBE-FW: let each loadBalancerSourceRange (and, when the node's own IP is in one, the LB IPs
 * themselves as sources) on to KUBE-EXT; the last rule only counts what falls through to the
 * filter KUBE-PROXY-FIREWALL DROP. */
static void
ipt_firewall_chain(IptRender *r, const IptService *s)
{
    if (!s->uses_fw_chain)
        return;
    const KpServicePort *sp = s->sp;
    gboolean allow_from_node = FALSE;
    for (guint i = 0; i < sp->source_ranges->len; i++) {
        const SimCidr *cidr = &g_array_index(sp->source_ranges, SimCidr, i);
        char text[SIM_CIDR_STRLEN];
        KpArgs a = {0};
        kp_args_add(&a, "-m", "comment", "--comment",
                    ipt_text(r, sp->name, " loadbalancer IP", NULL), "-s",
                    sim_cidr_to_string(cidr, text), "-j", s->ext_chain, NULL);
        kp_append(r->rs, NF_TABLE_NAT, s->fw_chain, &a);
        allow_from_node =
            allow_from_node || (r->has_node_ip && sim_cidr_contains(cidr, &r->node_ip));
    }
    for (guint i = 0; allow_from_node && i < sp->lb_vips->len; i++) {
        char ip[SIM_ADDR_STRLEN];
        KpArgs a = {0};
        kp_args_add(&a, "-m", "comment", "--comment",
                    ipt_text(r, sp->name, " loadbalancer IP", NULL), "-s",
                    sim_addr_to_string(&g_array_index(sp->lb_vips, SimAddr, i), ip), "-j",
                    s->ext_chain, NULL);
        kp_append(r->rs, NF_TABLE_NAT, s->fw_chain, &a);
    }
    const char *last =
        ipt_text(r, "other traffic to ", sp->name, " will be dropped by KUBE-PROXY-FIREWALL", NULL);
    KpArgs a = {0};
    kp_args_add(&a, "-m", "comment", "--comment", last, NULL);
    kp_append(r->rs, NF_TABLE_NAT, s->fw_chain, &a);
}

/* writeServiceToEndpointRules(): ClientIP affinity checks, then the random ladder over eps
 * (KpEndpoint*) into chain. The n-th of n rules is unconditional; rule i before it matches with
 * probability 1/(n-i), written "%0.10f" as kube-proxy does. */
static void
ipt_policy_chain(IptRender *r, const IptService *s, const char *chain, const KpPtrList *eps)
{
    const KpServicePort *sp = s->sp;
    char seconds[16];
    ipt_uint(seconds, sp->sticky_seconds);
    for (guint i = 0; sp->sticky_seconds != 0 && i < eps->len; i++) {
        const KpEndpoint *ep = eps->pdata[i];
        const char *sep = s->sep_chain[ep->index];
        KpArgs a = {0};
        if (!r->large_cluster)
            kp_args_add(&a, "-m", "comment", "--comment",
                        ipt_text(r, sp->name, " -> ", ep->str, NULL), NULL);
        kp_args_add(&a, "-m", "recent", "--name", sep, "--rcheck", "--seconds", seconds, "--reap",
                    "-j", sep, NULL);
        kp_append(r->rs, NF_TABLE_NAT, chain, &a);
    }
    for (guint i = 0; i < eps->len; i++) {
        const KpEndpoint *ep = eps->pdata[i];
        NfRuleBuilder *b = nf_rule_builder_start(r->rs, NF_TABLE_NAT, chain);
        if (!r->large_cluster)
            nf_rule_builder_comment(b, ipt_text(r, sp->name, " -> ", ep->str, NULL));
        if (i + 1 < eps->len)
            nf_rule_builder_statistic(b, kp_probability(&r->probabilities, eps->len - i));
        nf_rule_builder_jump(b, s->sep_chain[ep->index]);
        kp_commit(b);
    }
}

/* One KUBE-SEP chain per reachable endpoint: hairpin masquerade, then DNAT (recording the
 * client in the endpoint's recent list under ClientIP affinity). */
static void
ipt_endpoint_chains(IptRender *r, const IptService *s)
{
    const KpServicePort *sp = s->sp;
    for (guint i = 0; i < sp->all_reachable->len; i++) {
        const KpEndpoint *ep = sp->all_reachable->pdata[i];
        const char *sep = s->sep_chain[ep->index];
        SimCidr ip;
        sim_cidr_from_addr(&ep->addr.addr, &ip);

        NfRuleBuilder *b = nf_rule_builder_start(r->rs, NF_TABLE_NAT, sep);
        if (!r->large_cluster)
            nf_rule_builder_comment(b, sp->name);
        nf_rule_builder_src(b, &ip, FALSE);
        nf_rule_builder_jump(b, "KUBE-MARK-MASQ");
        kp_commit(b);

        b = nf_rule_builder_start(r->rs, NF_TABLE_NAT, sep);
        if (!r->large_cluster)
            nf_rule_builder_comment(b, sp->name);
        if (sp->sticky_seconds != 0)
            nf_rule_builder_recent(b, sep, TRUE, 0, FALSE);
        nf_rule_builder_proto_match(b, s->proto);
        nf_rule_builder_proto(b, s->proto);
        nf_rule_builder_dnat(b, &ep->addr, TRUE);
        kp_commit(b);
    }
}

/* Everything one service port contributes, in syncProxyRules' order. */
static void
ipt_service(IptRender *r, const KpServicePort *sp)
{
    IptService s;
    ipt_service_init(&s, sp);
    ipt_service_chains(r, &s);
    ipt_capture_cluster_ip(r, &s);
    ipt_capture_external_ips(r, &s);
    ipt_capture_lb_ips(r, &s);
    ipt_capture_node_port(r, &s);
    if (sp->summarised) { /* a focused build's: its own chains stay empty, no probe enters */
        ipt_service_clear(&s);
        return;
    }
    ipt_internal_masquerade(r, &s);
    ipt_external_chain(r, &s);
    ipt_firewall_chain(r, &s);
    if (s.uses_cluster_chain)
        ipt_policy_chain(r, &s, s.svc_chain, sp->cluster);
    if (s.uses_local_chain)
        ipt_policy_chain(r, &s, s.svl_chain, sp->local);
    ipt_endpoint_chains(r, &s);
    ipt_service_clear(&s);
}

/* ---------------------------------------------------------------- tail */

/* The last rules of nat KUBE-SERVICES: hand every local destination (or each selected
 * nodePortAddresses IP) to KUBE-NODEPORTS. */
static void
ipt_node_ports_tail(IptRender *r)
{
    static const char comment[] =
        "kubernetes service nodeports; NOTE: this must be the last rule in this chain";
    KpArgs a = {0};
    if (r->npa.match_all) {
        kp_args_add(&a, "-m", "comment", "--comment", comment, "-m", "addrtype", "--dst-type",
                    "LOCAL", NULL);
        if (r->family == SIM_AF_INET6)
            kp_args_add(&a, "!", "-d", "::1/128", NULL);
        else if (!r->cfg->localhost_node_ports)
            kp_args_add(&a, "!", "-d", "127.0.0.0/8", NULL);
        kp_args_add(&a, "-j", "KUBE-NODEPORTS", NULL);
        kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
        return;
    }
    g_autoptr(GArray) ips = kp_node_port_addresses_node_ips(&r->npa, r->node, r->family);
    for (guint i = 0; i < ips->len; i++) {
        const SimAddr *ip = &g_array_index(ips, SimAddr, i);
        if (sim_addr_is_loopback(ip) &&
            (r->family == SIM_AF_INET6 || !r->cfg->localhost_node_ports))
            continue;
        char text[SIM_ADDR_STRLEN];
        a.n = 0;
        kp_args_add(&a, "-m", "comment", "--comment", comment, "-d", sim_addr_to_string(ip, text),
                    "-j", "KUBE-NODEPORTS", NULL);
        kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
    }
}

/* filter KUBE-FORWARD: drop conntrack INVALID (unless tcpBeLiberal), accept marked packets and
 * their related/established replies. */
static void
ipt_forward(IptRender *r)
{
    KpArgs a = {0};
    if (!r->cfg->tcp_be_liberal) {
        kp_args_add(&a, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP", NULL);
        kp_append(r->rs, NF_TABLE_FILTER, "KUBE-FORWARD", &a);
        a.n = 0;
    }
    kp_args_add(&a, "-m", "comment", "--comment", "kubernetes forwarding rules", "-m", "mark",
                "--mark", r->mark_mask, "-j", "ACCEPT", NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-FORWARD", &a);
    a.n = 0;
    kp_args_add(&a, "-m", "comment", "--comment", "kubernetes forwarding conntrack rule", "-m",
                "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT", NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-FORWARD", &a);
}

/* ---------------------------------------------------------------- render */

/* Sets up r for node and family from cfg: mark, detector, nodePortAddresses, node IP. Fails
 * with KUBE_PROXY_ERROR_CONFIG on settings kube-proxy's validation rejects. */
static gboolean
ipt_render_init(IptRender *r, const KubeProxyConfig *cfg, const K8sNode *node, SimFamily family,
                GError **error)
{
    memset(r, 0, sizeof *r);
    if (cfg->masquerade_bit > 31) {
        kp_config_error(error, cfg, "iptables.masqueradeBit: %u is not in the range 0-31",
                        cfg->masquerade_bit);
        return FALSE;
    }
    if (!kp_node_port_addresses_init(&r->npa, cfg, node, family, error))
        return FALSE;
    r->cfg = cfg;
    r->node = node;
    r->family = family;
    r->has_node_ip = kp_node_primary_ip(node, family, &r->node_ip);
    g_snprintf(r->mark, sizeof r->mark, "%#08x", 1u << cfg->masquerade_bit);
    g_snprintf(r->mark_mask, sizeof r->mark_mask, "%s/%s", r->mark, r->mark);

    kp_local_detector_init(&r->detector, cfg, node, family);
    r->detector_value = kp_detector_args(&r->detector, &r->detector_opt);
    return TRUE;
}

/* Renders node's iptables ruleset for family; see kube_proxy.h. (transfer full) */
NfRuleset *
kube_proxy_render(const Cluster *c, const K8sNode *node, SimFamily family, GError **error)
{
    g_return_val_if_fail(c != NULL && c->proxy != NULL && node != NULL, NULL);
    g_return_val_if_fail(family == SIM_AF_INET || family == SIM_AF_INET6, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    switch (c->proxy->mode) {
    case KP_MODE_IPTABLES:
        break;
    case KP_MODE_NFTABLES:
        return kube_proxy_render_nftables(c, node, family, error);
    case KP_MODE_IPVS:
        return kube_proxy_render_ipvs(c, node, family, error);
    }

    IptRender r;
    if (!ipt_render_init(&r, c->proxy, node, family, error))
        return NULL;
    g_autoptr(KpServiceMap) map = kp_service_map_new(c, node, family);
    r.large_cluster = map->total_endpoints > IPT_LARGE_CLUSTER_ENDPOINTS;
    r.rs = nf_ruleset_new(family);
    r.text = g_string_sized_new(128);
    /* KUBE-SVC and one of SVL/EXT/FW per port, KUBE-SEP per endpoint: about the nat chains. */
    nf_ruleset_reserve_chains(r.rs, NF_TABLE_NAT, 2 * map->ports->len + map->listed_endpoints);

    ipt_top_level(&r);
    for (guint i = 0; i < map->ports->len; i++)
        ipt_service(&r, map->ports->pdata[i]);
    ipt_node_ports_tail(&r);
    ipt_forward(&r);

    kp_node_port_addresses_clear(&r.npa);
    g_free(r.detector_value);
    g_string_free(r.text, TRUE);
    if (r.probabilities != NULL)
        g_array_unref(r.probabilities);
    return r.rs;
}

/* See kube_proxy.h. */
gboolean
kube_proxy_rules_node_independent(const KubeProxyConfig *kp, const GPtrArray *services)
{
    if (kp->mode != KP_MODE_IPTABLES || kp->detect_local_mode == KP_DETECT_NODE_CIDR ||
        (kp->node_port_addresses != NULL && kp->node_port_addresses->len > 0))
        return FALSE;
    for (guint i = 0; i < services->len; i++) {
        const K8sService *s = services->pdata[i];
        if ((s->type != K8S_SVC_CLUSTER_IP && s->type != K8S_SVC_NODE_PORT) ||
            s->external_policy != K8S_POLICY_CLUSTER || s->internal_policy != K8S_POLICY_CLUSTER ||
            s->topology_mode != NULL || s->health_check_node_port != 0 ||
            s->source_ranges->len > 0 || s->lb_ingress->len > 0)
            return FALSE;
    }
    return TRUE;
}
