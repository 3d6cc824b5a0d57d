/* SPDX-License-Identifier: Apache-2.0 */
/* The nftables proxy mode: one node's `ip kube-proxy` (or `ip6 kube-proxy`) table.
 *
 * Models setupNFTables() and syncProxyRules() of pkg/proxy/nftables/proxier.go (v1.31 era) for a
 * full sync of a fresh table: the base chains (filter at dstnat-10 / dstnat+10, nat at dstnat
 * and srcnat) with their "ct state new" jumps, masquerading and mark-for-masquerade, the
 * cluster-ips set and cluster-ips-check (reject unknown ports of a ClusterIP, drop unallocated
 * Service-CIDR addresses), nodeport-ips, the no-endpoint verdict maps with reject-chain,
 * firewall-ips, service-ips and service-nodeports; then per service port the map elements and the
 * service-, local-, external-, firewall- and endpoint- chains with readable hashed names, the
 * "numgen random mod N vmap" endpoint choice and the affinity-... sets for ClientIP affinity.
 * nftables mode's own defaults apply: nodePortAddresses empty means "primary", localhost never
 * serves NodePorts, no INVALID-drop and no NodePort ACCEPT rules.
 *
 * Left out: partial syncs, the one-sync delay before stale chains are deleted, metrics, and the
 * iptables-nft rules kubelet keeps in its own tables (the ruleset's iptables tables stay empty).
 */
#include "model/kube_proxy.h"
#include "model/kube_proxy_endpoints.h"
#include "sim/nft.h"

#include <string.h>

#define NFT_NAME_MAX 256        /* knftables.NameLengthMax */
#define NFT_CHAIN_PREFIX_MAX 16 /* chainNamePrefixLengthMax */
#define NFT_CHAIN_BASE_MAX (NFT_NAME_MAX - NFT_CHAIN_PREFIX_MAX)
#define NFT_PRIO_DSTNAT (-100)
#define NFT_PRIO_SRCNAT 100

/* What every rule of one render needs. */
typedef struct {
    NftTable *t;
    const KubeProxyConfig *cfg;
    const Cluster *c;
    const K8sNode *node;
    SimFamily family;
    gboolean has_node_ip;
    SimAddr node_ip;
    KpLocalDetector detector;
    KpNodePortAddresses npa;
    guint32 mark;
    NftSet *cluster_ips, *nodeport_ips, *no_ep_services, *no_ep_nodeports;
    NftSet *firewall_ips, *service_ips, *service_nodeports;
    NftChain *reject_chain, *mark_masq;
} NftRender;

/* One service port being rendered. */
typedef struct {
    const KpServicePort *sp;
    char *base; /* HASH-ns/svc/proto/port */
    char *svc_name, *local_name, *ext_name, *fw_name;
    NftChain *svc_chain, *local_chain, *ext_chain, *fw_chain;
    NftChain **ep_chain; /* by KpEndpoint.index, set for all_reachable */
    NftSet **ep_affinity;
    gboolean has_internal, has_external, uses_ext_chain, uses_fw_chain;
    NftChain *internal_chain, *external_policy_chain;
    NftVerdict internal_filter, external_filter; /* goto reject-chain or drop */
} NftService;

/* ---------------------------------------------------------------- names */

/* hashAndTruncate(): "HASH-name", HASH the first 8 base32 characters of SHA-256(name), cut to
 * chainNameBaseLengthMax with "..." when longer. (transfer full) */
static char *
nft_hash_and_truncate(const char *name)
{
    g_autofree char *h = kube_proxy_port_proto_hash(name, "");
    char *s = g_strdup_printf("%.8s-%s", h, name);
    if (strlen(s) > NFT_CHAIN_BASE_MAX)
        memcpy(s + NFT_CHAIN_BASE_MAX - 3, "...", 4);
    return s;
}

/* servicePortChainNameBase(): "HASH-ns/svc/proto/portName". (transfer full) */
static char *
nft_service_base(const KpServicePort *sp)
{
    g_autofree char *name =
        g_strdup_printf("%s/%s/%s/%s", sp->service->meta.namespace_, sp->service->meta.name,
                        sp->protocol, sp->port->name != NULL ? sp->port->name : "");
    return nft_hash_and_truncate(name);
}

/* servicePortEndpointChainNameBase(): "HASH-ns/svc/proto/portName__IP/port" with the IPv6
 * colons as dots. (transfer full) */
static char *
nft_endpoint_base(const KpServicePort *sp, const KpEndpoint *ep)
{
    char ip[SIM_ADDR_STRLEN];
    sim_addr_to_string(&ep->addr.addr, ip);
    g_strdelimit(ip, ":", '.');
    g_autofree char *name = g_strdup_printf(
        "%s/%s/%s/%s__%s/%u", sp->service->meta.namespace_, sp->service->meta.name, sp->protocol,
        sp->port->name != NULL ? sp->port->name : "", ip, ep->addr.port);
    return nft_hash_and_truncate(name);
}

/* The IP protocol number of a lowercase protocol name. */
static guint8
nft_proto(const KpServicePort *sp)
{
    if (strcmp(sp->protocol, "udp") == 0)
        return SIM_PROTO_UDP;
    if (strcmp(sp->protocol, "sctp") == 0)
        return SIM_PROTO_SCTP;
    return SIM_PROTO_TCP;
}

/* ---------------------------------------------------------------- rule helpers */

/* Appends a rule made of the given expressions to chain. (transfer none) */
static NftRule *
nft_rule(NftChain *chain, const char *comment, const NftExpr *exprs, guint n)
{
    NftRule *r = nft_chain_add_rule(chain, comment);
    for (guint i = 0; i < n; i++)
        nft_rule_append(r, &exprs[i]);
    return r;
}

/* A verdict expression. */
static NftExpr
nft_verdict(NftVerdictKind kind, NftChain *chain)
{
    return (NftExpr){.kind = NFT_EXPR_VERDICT, .verdict = {kind, chain}};
}

/* The local detector's expression (IfLocalNFT / IfNotLocalNFT when neq). */
static NftExpr
nft_detector(const NftRender *r, gboolean neq, char *iface_buf, gsize len)
{
    switch (r->detector.mode) {
    case KP_DETECT_CLUSTER_CIDR:
    case KP_DETECT_NODE_CIDR:
        return (NftExpr){.kind = NFT_EXPR_ADDR,
                         .field = NFT_FIELD_SADDR,
                         .neq = neq,
                         .cidrs = &r->detector.cidr,
                         .n = 1};
    case KP_DETECT_BRIDGE_INTERFACE:
        g_strlcpy(iface_buf, r->detector.iface, len);
        break;
    case KP_DETECT_INTERFACE_NAME_PREFIX:
        g_snprintf(iface_buf, len, "%s*", r->detector.iface);
        break;
    }
    return (NftExpr){.kind = NFT_EXPR_IIFNAME, .neq = neq, .name = iface_buf};
}

/* ---------------------------------------------------------------- setupNFTables */

/* The base chains, the jump chains with their jumps, and the other top-level chains. */
static void
nft_setup_chains(NftRender *r)
{
    static const struct {
        const char *name;
        NftChainType type;
        NfHook hook;
        int prio;
    } bases[] = {
        {"filter-prerouting", NFT_CHAIN_FILTER, NF_HOOK_PRE_ROUTING, NFT_PRIO_DSTNAT - 10},
        {"filter-input", NFT_CHAIN_FILTER, NF_HOOK_LOCAL_IN, NFT_PRIO_DSTNAT - 10},
        {"filter-forward", NFT_CHAIN_FILTER, NF_HOOK_FORWARD, NFT_PRIO_DSTNAT - 10},
        {"filter-output", NFT_CHAIN_FILTER, NF_HOOK_LOCAL_OUT, NFT_PRIO_DSTNAT - 10},
        {"filter-output-post-dnat", NFT_CHAIN_FILTER, NF_HOOK_LOCAL_OUT, NFT_PRIO_DSTNAT + 10},
        {"nat-prerouting", NFT_CHAIN_NAT, NF_HOOK_PRE_ROUTING, NFT_PRIO_DSTNAT},
        {"nat-output", NFT_CHAIN_NAT, NF_HOOK_LOCAL_OUT, NFT_PRIO_DSTNAT},
        {"nat-postrouting", NFT_CHAIN_NAT, NF_HOOK_POST_ROUTING, NFT_PRIO_SRCNAT},
    };
    /* nftablesJumpChains: {dst, src, ct state new?} */
    static const struct {
        const char *dst, *src;
        gboolean ct_new;
    } jumps[] = {
        {"nodeport-endpoints-check", "filter-input", TRUE},
        {"service-endpoints-check", "filter-input", TRUE},
        {"service-endpoints-check", "filter-forward", TRUE},
        {"service-endpoints-check", "filter-output", TRUE},
        {"firewall-check", "filter-prerouting", TRUE},
        {"firewall-check", "filter-output", TRUE},
        {"services", "nat-output", FALSE},
        {"services", "nat-prerouting", FALSE},
        {"masquerading", "nat-postrouting", FALSE},
        {"cluster-ips-check", "filter-forward", TRUE},
        {"cluster-ips-check", "filter-output-post-dnat", TRUE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bases); i++)
        nft_table_add_base_chain(r->t, bases[i].name, bases[i].type, bases[i].hook, bases[i].prio);
    for (gsize i = 0; i < G_N_ELEMENTS(jumps); i++) {
        NftChain *dst = nft_table_find_chain(r->t, jumps[i].dst);
        if (dst == NULL)
            dst = nft_table_add_chain(r->t, jumps[i].dst, NULL);
        NftExpr e[2] = {{.kind = NFT_EXPR_CT_STATE_NEW}, nft_verdict(NFT_VERDICT_JUMP, dst)};
        nft_rule(nft_table_find_chain(r->t, jumps[i].src), NULL, jumps[i].ct_new ? e : e + 1,
                 jumps[i].ct_new ? 2 : 1);
    }
    r->mark_masq = nft_table_add_chain(r->t, "mark-for-masquerade", NULL);
}

/* mark-for-masquerade and masquerading. */
static void
nft_setup_masquerade(NftRender *r)
{
    NftExpr or = {.kind = NFT_EXPR_MARK_OR, .mark = r->mark};
    nft_rule(r->mark_masq, NULL, & or, 1);
    NftChain *m = nft_table_find_chain(r->t, "masquerading");
    NftExpr clear[2] = {{.kind = NFT_EXPR_MARK_CLEAR, .mark = r->mark},
                        nft_verdict(NFT_VERDICT_RETURN, NULL)};
    nft_rule(m, NULL, clear, 2);
    NftExpr xor = {.kind = NFT_EXPR_MARK_XOR, .mark = r->mark};
    nft_rule(m, NULL, &xor, 1);
    NftExpr masq = {.kind = NFT_EXPR_MASQUERADE};
    nft_rule(m, NULL, &masq, 1);
}

/* cluster-ips and cluster-ips-check: reject unknown ports of active ClusterIPs, drop the rest of
 * the Service CIDRs (of this family). */
static void
nft_setup_cluster_ips(NftRender *r)
{
    r->cluster_ips =
        nft_table_add_set(r->t, "cluster-ips", NFT_KEY_ADDR, FALSE, 0, "Active ClusterIPs");
    NftChain *check = nft_table_find_chain(r->t, "cluster-ips-check");
    NftExpr reject[2] = {
        {.kind = NFT_EXPR_ADDR_SET, .field = NFT_FIELD_DADDR, .set = r->cluster_ips},
        nft_verdict(NFT_VERDICT_REJECT, NULL)};
    nft_rule(check, "Reject traffic to invalid ports of ClusterIPs", reject, 2);
    g_autoptr(GArray) cidrs = g_array_new(FALSE, FALSE, sizeof(SimCidr));
    const GArray *all = r->c->scenario->service_cidrs;
    for (guint i = 0; all != NULL && i < all->len; i++) {
        const SimCidr *cidr = &g_array_index(all, SimCidr, i);
        if (cidr->addr.family == r->family)
            g_array_append_val(cidrs, *cidr);
    }
    if (cidrs->len == 0)
        return;
    NftExpr drop[2] = {{.kind = NFT_EXPR_ADDR,
                        .field = NFT_FIELD_DADDR,
                        .cidrs = (const SimCidr *)cidrs->data,
                        .n = cidrs->len},
                       nft_verdict(NFT_VERDICT_DROP, NULL)};
    nft_rule(check, "Drop traffic to unallocated ClusterIPs", drop, 2);
}

/* nodeport-ips (when NodePorts are restricted), the no-endpoint maps with reject-chain and
 * their check chains. */
static void
nft_setup_no_endpoints(NftRender *r)
{
    SimCidr loopback;
    sim_cidr_parse(r->family == SIM_AF_INET6 ? "::1/128" : "127.0.0.0/8", &loopback);
    if (!r->npa.match_all) {
        r->nodeport_ips = nft_table_add_set(r->t, "nodeport-ips", NFT_KEY_ADDR, FALSE, 0,
                                            "IPs that accept NodePort traffic");
        g_autoptr(GArray) ips = kp_node_port_addresses_node_ips(&r->npa, r->node, r->family);
        for (guint i = 0; i < ips->len; i++) {
            NftKey k = {.addr = g_array_index(ips, SimAddr, i)};
            if (!sim_addr_is_loopback(&k.addr))
                nft_set_add(r->nodeport_ips, &k, NULL, NULL);
        }
    }
    r->no_ep_services =
        nft_table_add_set(r->t, "no-endpoint-services", NFT_KEY_ADDR_PROTO_PORT, TRUE, 0,
                          "vmap to drop or reject packets to services with no endpoints");
    r->no_ep_nodeports =
        nft_table_add_set(r->t, "no-endpoint-nodeports", NFT_KEY_PROTO_PORT, TRUE, 0,
                          "vmap to drop or reject packets to service nodeports with no endpoints");
    r->reject_chain = nft_table_add_chain(
        r->t, "reject-chain", "helper for @no-endpoint-services / @no-endpoint-nodeports");
    NftExpr reject = nft_verdict(NFT_VERDICT_REJECT, NULL);
    nft_rule(r->reject_chain, NULL, &reject, 1);

    NftExpr svc = {.kind = NFT_EXPR_VMAP, .set = r->no_ep_services};
    nft_rule(nft_table_find_chain(r->t, "service-endpoints-check"), NULL, &svc, 1);
    NftExpr np[2] = {
        {.kind = NFT_EXPR_ADDR, .field = NFT_FIELD_DADDR, .neq = TRUE, .cidrs = &loopback, .n = 1},
        {.kind = NFT_EXPR_VMAP, .set = r->no_ep_nodeports}};
    if (!r->npa.match_all)
        np[0] =
            (NftExpr){.kind = NFT_EXPR_ADDR_SET, .field = NFT_FIELD_DADDR, .set = r->nodeport_ips};
    nft_rule(nft_table_find_chain(r->t, "nodeport-endpoints-check"), NULL, np, 2);
}

/* firewall-ips with firewall-check, then service-ips and service-nodeports with services. */
static void
nft_setup_dispatch(NftRender *r)
{
    r->firewall_ips =
        nft_table_add_set(r->t, "firewall-ips", NFT_KEY_ADDR_PROTO_PORT, TRUE, 0,
                          "destinations that are subject to LoadBalancerSourceRanges");
    NftExpr fw = {.kind = NFT_EXPR_VMAP, .set = r->firewall_ips};
    nft_rule(nft_table_find_chain(r->t, "firewall-check"), NULL, &fw, 1);

    r->service_ips = nft_table_add_set(r->t, "service-ips", NFT_KEY_ADDR_PROTO_PORT, TRUE, 0,
                                       "ClusterIP, ExternalIP and LoadBalancer IP traffic");
    r->service_nodeports = nft_table_add_set(r->t, "service-nodeports", NFT_KEY_PROTO_PORT, TRUE, 0,
                                             "NodePort traffic");
    NftChain *services = nft_table_find_chain(r->t, "services");
    NftExpr ips = {.kind = NFT_EXPR_VMAP, .set = r->service_ips};
    nft_rule(services, NULL, &ips, 1);
    SimCidr loopback;
    sim_cidr_parse(r->family == SIM_AF_INET6 ? "::1/128" : "127.0.0.0/8", &loopback);
    NftExpr all[3] = {
        {.kind = NFT_EXPR_FIB_LOCAL, .field = NFT_FIELD_DADDR},
        {.kind = NFT_EXPR_ADDR, .field = NFT_FIELD_DADDR, .neq = TRUE, .cidrs = &loopback, .n = 1},
        {.kind = NFT_EXPR_VMAP, .set = r->service_nodeports}};
    NftExpr restricted[2] = {
        {.kind = NFT_EXPR_ADDR_SET, .field = NFT_FIELD_DADDR, .set = r->nodeport_ips},
        {.kind = NFT_EXPR_VMAP, .set = r->service_nodeports}};
    if (r->npa.match_all)
        nft_rule(services, NULL, all, 3);
    else
        nft_rule(services, NULL, restricted, 2);
}

/* ---------------------------------------------------------------- per service port */

/* Names s's chains and creates those it uses, in syncProxyRules' order: endpoint chains, the
 * Cluster and Local policy chains, the external chain. */
static void
nft_service_chains(NftRender *r, NftService *s)
{
    const KpServicePort *sp = s->sp;
    s->base = nft_service_base(sp);
    s->svc_name = g_strconcat("service-", s->base, NULL);
    s->local_name = g_strconcat("local-", s->base, NULL);
    s->ext_name = g_strconcat("external-", s->base, NULL);
    s->fw_name = g_strconcat("firewall-", s->base, NULL);
    guint n = MAX(sp->endpoints->len, 1);
    s->ep_chain = g_new0(NftChain *, n);
    s->ep_affinity = g_new0(NftSet *, n);
    for (guint i = 0; i < sp->all_reachable->len; i++) {
        const KpEndpoint *ep = sp->all_reachable->pdata[i];
        g_autofree char *base = nft_endpoint_base(sp, ep);
        g_autofree char *name = g_strconcat("endpoint-", base, NULL);
        s->ep_chain[ep->index] = nft_table_add_chain(r->t, name, NULL);
    }
    if (sp->cluster->len > 0 && sp->uses_cluster_endpoints)
        s->svc_chain = nft_table_add_chain(r->t, s->svc_name, NULL);
    if (sp->local->len > 0 && sp->uses_local_endpoints)
        s->local_chain = nft_table_add_chain(r->t, s->local_name, NULL);
    s->uses_ext_chain = sp->has_endpoints && sp->externally_accessible;
    if (s->uses_ext_chain)
        s->ext_chain = nft_table_add_chain(r->t, s->ext_name, NULL);
}

/* The per-service decisions: internal and external targets and the no-endpoint verdicts. */
static void
nft_service_decide(NftRender *r, NftService *s)
{
    const KpServicePort *sp = s->sp;
    gboolean no_local = sp->local->len == 0;
    s->internal_chain = sp->internal_policy_local ? s->local_chain : s->svc_chain;
    s->has_internal = sp->has_endpoints && !(sp->internal_policy_local && no_local);
    s->external_policy_chain = sp->external_policy_local ? s->local_chain : s->svc_chain;
    s->has_external = sp->has_endpoints && !(sp->external_policy_local && no_local);
    s->uses_fw_chain = sp->lb_vips->len > 0 && sp->source_ranges->len > 0;
    NftVerdict reject = {NFT_VERDICT_GOTO, r->reject_chain}, drop = {NFT_VERDICT_DROP, NULL};
    s->internal_filter = sp->has_endpoints ? drop : reject;
    s->external_filter = sp->has_endpoints ? drop : reject;
}

/* Adds addr . proto . port : verdict to map (comment nullable). */
static void
nft_map_add(NftSet *map, const SimAddr *addr, guint8 proto, guint16 port, NftVerdict v,
            const char *comment)
{
    NftKey k = {.proto = proto, .port = port};
    if (addr != NULL)
        k.addr = *addr;
    nft_set_add(map, &k, &v, comment);
}

/* The map elements of s: clusterIP, externalIPs, LB IPs (with firewall-ips), NodePort. */
static void
nft_service_elements(NftRender *r, NftService *s)
{
    const KpServicePort *sp = s->sp;
    guint8 proto = nft_proto(sp);
    guint16 port = sp->port->port;
    NftVerdict ext = {NFT_VERDICT_GOTO, s->ext_chain};
    NftKey ck = {.addr = sp->cluster_ip};
    nft_set_add(r->cluster_ips, &ck, NULL, NULL);
    if (s->has_internal)
        nft_map_add(r->service_ips, &sp->cluster_ip, proto, port,
                    (NftVerdict){NFT_VERDICT_GOTO, s->internal_chain}, NULL);
    else
        nft_map_add(r->no_ep_services, &sp->cluster_ip, proto, port, s->internal_filter, sp->name);
    for (guint i = 0; i < sp->external_ips->len; i++) {
        const SimAddr *ip = &g_array_index(sp->external_ips, SimAddr, i);
        if (sp->has_endpoints)
            nft_map_add(r->service_ips, ip, proto, port, ext, NULL);
        if (!s->has_external)
            nft_map_add(r->no_ep_services, ip, proto, port, s->external_filter, sp->name);
    }
    for (guint i = 0; i < sp->lb_vips->len; i++) {
        const SimAddr *ip = &g_array_index(sp->lb_vips, SimAddr, i);
        if (sp->has_endpoints)
            nft_map_add(r->service_ips, ip, proto, port, ext, NULL);
        if (s->uses_fw_chain) {
            if (s->fw_chain == NULL)
                s->fw_chain = nft_table_add_chain(r->t, s->fw_name, NULL);
            nft_map_add(r->firewall_ips, ip, proto, port,
                        (NftVerdict){NFT_VERDICT_GOTO, s->fw_chain}, sp->name);
        }
    }
    for (guint i = 0; !s->has_external && i < sp->lb_vips->len; i++)
        nft_map_add(r->no_ep_services, &g_array_index(sp->lb_vips, SimAddr, i), proto, port,
                    s->external_filter, sp->name);
    if (sp->port->node_port == 0)
        return;
    if (sp->has_endpoints)
        nft_map_add(r->service_nodeports, NULL, proto, sp->port->node_port, ext, NULL);
    if (!s->has_external)
        nft_map_add(r->no_ep_nodeports, NULL, proto, sp->port->node_port, s->external_filter,
                    sp->name);
}

/* The first rule of the internal chain: mark clusterIP traffic from off-cluster sources (or
 * every source with masqueradeAll) for masquerading. */
static void
nft_internal_masquerade(NftRender *r, const NftService *s)
{
    if (!s->has_internal || s->internal_chain == NULL)
        return;
    if (!r->cfg->masquerade_all && !r->detector.implemented)
        return;
    SimCidr ip;
    sim_cidr_from_addr(&s->sp->cluster_ip, &ip);
    char iface[64];
    NftExpr e[4] = {
        {.kind = NFT_EXPR_ADDR, .field = NFT_FIELD_DADDR, .cidrs = &ip, .n = 1},
        {.kind = NFT_EXPR_DPORT, .proto = nft_proto(s->sp), .port = s->sp->port->port},
        nft_detector(r, TRUE, iface, sizeof iface),
        nft_verdict(NFT_VERDICT_JUMP, r->mark_masq),
    };
    if (r->cfg->masquerade_all)
        e[2] = e[3];
    nft_rule(s->internal_chain, NULL, e, r->cfg->masquerade_all ? 3 : 4);
}

/* external-...: masquerade (ETP Cluster) or short-circuit pod and host traffic (ETP Local),
 * then goto the external policy chain when it has endpoints. */
static void
nft_external_chain(NftRender *r, const NftService *s)
{
    if (!s->uses_ext_chain)
        return;
    NftExpr mark = nft_verdict(NFT_VERDICT_JUMP, r->mark_masq);
    if (!s->sp->external_policy_local) {
        nft_rule(s->ext_chain, NULL, &mark, 1);
    } else if (s->svc_chain != NULL) {
        char iface[64];
        NftExpr pod[2] = {nft_detector(r, FALSE, iface, sizeof iface),
                          nft_verdict(NFT_VERDICT_GOTO, s->svc_chain)};
        if (r->detector.implemented)
            nft_rule(s->ext_chain, "short-circuit pod traffic", pod, 2);
        NftExpr local[2] = {{.kind = NFT_EXPR_FIB_LOCAL, .field = NFT_FIELD_SADDR}, mark};
        nft_rule(s->ext_chain, "masquerade local traffic", local, 2);
        local[1] = nft_verdict(NFT_VERDICT_GOTO, s->svc_chain);
        nft_rule(s->ext_chain, "short-circuit local traffic", local, 2);
    }
    if (s->has_external && s->external_policy_chain != NULL) {
        NftExpr go = nft_verdict(NFT_VERDICT_GOTO, s->external_policy_chain);
        nft_rule(s->ext_chain, NULL, &go, 1);
    }
}

/* firewall-...: drop sources outside loadBalancerSourceRanges (plus the LB IPs themselves when
 * the node's IP is in a range). */
static void
nft_firewall_chain(NftRender *r, const NftService *s)
{
    if (s->fw_chain == NULL)
        return;
    const KpServicePort *sp = s->sp;
    g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(SimCidr));
    gboolean allow_from_node = FALSE;
    for (guint i = 0; i < sp->source_ranges->len; i++) {
        const SimCidr *cidr = &g_array_index(sp->source_ranges, SimCidr, i);
        g_array_append_val(sources, *cidr);
        allow_from_node =
            allow_from_node || (r->has_node_ip && sim_cidr_contains(cidr, &r->node_ip));
    }
    for (guint i = 0; allow_from_node && i < sp->lb_vips->len; i++) {
        SimCidr host;
        sim_cidr_from_addr(&g_array_index(sp->lb_vips, SimAddr, i), &host);
        g_array_append_val(sources, host);
    }
    NftExpr e[2] = {{.kind = NFT_EXPR_ADDR,
                     .field = NFT_FIELD_SADDR,
                     .neq = TRUE,
                     .cidrs = (const SimCidr *)sources->data,
                     .n = sources->len},
                    nft_verdict(NFT_VERDICT_DROP, NULL)};
    nft_rule(s->fw_chain, NULL, e, 2);
}

/* writeServiceToEndpointRules(): affinity lookups, then one numgen vmap over eps. */
static void
nft_policy_chain(NftRender *r, const NftService *s, NftChain *chain, const KpPtrList *eps)
{
    (void)r;
    if (chain == NULL || eps->len == 0)
        return;
    for (guint i = 0; s->sp->sticky_seconds != 0 && i < eps->len; i++) {
        const KpEndpoint *ep = eps->pdata[i];
        NftExpr e[2] = {
            {.kind = NFT_EXPR_ADDR_SET, .field = NFT_FIELD_SADDR, .set = s->ep_affinity[ep->index]},
            nft_verdict(NFT_VERDICT_GOTO, s->ep_chain[ep->index])};
        nft_rule(chain, NULL, e, 2);
    }
    g_autofree NftChain **targets = g_new(NftChain *, eps->len);
    for (guint i = 0; i < eps->len; i++)
        targets[i] = s->ep_chain[((const KpEndpoint *)eps->pdata[i])->index];
    NftExpr ng = {.kind = NFT_EXPR_NUMGEN, .n = eps->len, .chains = targets};
    nft_rule(chain, NULL, &ng, 1);
}

/* The affinity-... sets of s's endpoints (ClientIP affinity only), created before any rule
 * refers to them. */
static void
nft_affinity_sets(NftRender *r, NftService *s)
{
    const KpServicePort *sp = s->sp;
    for (guint i = 0; sp->sticky_seconds != 0 && i < sp->all_reachable->len; i++) {
        const KpEndpoint *ep = sp->all_reachable->pdata[i];
        g_autofree char *base = nft_endpoint_base(sp, ep);
        g_autofree char *name = g_strconcat("affinity-", base, NULL);
        s->ep_affinity[ep->index] =
            nft_table_add_set(r->t, name, NFT_KEY_ADDR, FALSE, sp->sticky_seconds, NULL);
    }
}

/* endpoint-...: hairpin masquerade, affinity update, DNAT. */
static void
nft_endpoint_chains(NftRender *r, const NftService *s)
{
    const KpServicePort *sp = s->sp;
    for (guint i = 0; i < sp->all_reachable->len; i++) {
        const KpEndpoint *ep = sp->all_reachable->pdata[i];
        NftChain *c = s->ep_chain[ep->index];
        SimCidr ip;
        sim_cidr_from_addr(&ep->addr.addr, &ip);
        NftExpr hairpin[2] = {
            {.kind = NFT_EXPR_ADDR, .field = NFT_FIELD_SADDR, .cidrs = &ip, .n = 1},
            nft_verdict(NFT_VERDICT_JUMP, r->mark_masq)};
        nft_rule(c, NULL, hairpin, 2);
        if (sp->sticky_seconds != 0) {
            NftExpr up = {.kind = NFT_EXPR_UPDATE_SADDR, .set = s->ep_affinity[ep->index]};
            nft_rule(c, NULL, &up, 1);
        }
        NftExpr dnat[2] = {{.kind = NFT_EXPR_L4PROTO, .proto = nft_proto(sp)},
                           {.kind = NFT_EXPR_DNAT, .to = ep->addr}};
        nft_rule(c, NULL, dnat, 2);
    }
}

/* Everything one service port contributes, in syncProxyRules' order. */
static void
nft_service(NftRender *r, const KpServicePort *sp)
{
    NftService s = {.sp = sp};
    nft_service_chains(r, &s);
    nft_service_decide(r, &s);
    nft_service_elements(r, &s);
    nft_internal_masquerade(r, &s);
    nft_external_chain(r, &s);
    nft_firewall_chain(r, &s);
    nft_affinity_sets(r, &s);
    if (s.svc_chain != NULL)
        nft_policy_chain(r, &s, s.svc_chain, sp->cluster);
    if (s.local_chain != NULL)
        nft_policy_chain(r, &s, s.local_chain, sp->local);
    nft_endpoint_chains(r, &s);
    g_free(s.base);
    g_free(s.svc_name);
    g_free(s.local_name);
    g_free(s.ext_name);
    g_free(s.fw_name);
    g_free(s.ep_chain);
    g_free(s.ep_affinity);
}

/* ---------------------------------------------------------------- render */

/* Sets up r for node and family: nftables' nodePortAddresses default ("primary" when empty),
 * detector, mark. Fails like kube-proxy's validation. */
static gboolean
nft_render_init(NftRender *r, const Cluster *c, const K8sNode *node, SimFamily family,
                GError **error)
{
    const KubeProxyConfig *cfg = c->proxy;
    memset(r, 0, sizeof *r);
    if (cfg->masquerade_bit > 31) {
        kp_config_error(error, cfg, "nftables.masqueradeBit: %u is not in the range 0-31",
                        cfg->masquerade_bit);
        return FALSE;
    }
    /* kp_node_port_addresses_init() applies nftables' default ("primary" when empty). */
    if (!kp_node_port_addresses_init(&r->npa, cfg, node, family, error))
        return FALSE;
    r->cfg = cfg;
    r->c = c;
    r->node = node;
    r->family = family;
    r->has_node_ip = kp_node_primary_ip(node, family, &r->node_ip);
    r->mark = 1u << cfg->masquerade_bit;
    kp_local_detector_init(&r->detector, cfg, node, family);
    return TRUE;
}

/* Renders node's nftables table for family into a ruleset whose iptables tables are empty;
 * see kube_proxy.h. (transfer full) */
NfRuleset *
kube_proxy_render_nftables(const Cluster *c, const K8sNode *node, SimFamily family, GError **error)
{
    g_return_val_if_fail(c != NULL && c->proxy != NULL && node != NULL, NULL);
    g_return_val_if_fail(family == SIM_AF_INET || family == SIM_AF_INET6, NULL);
    NftRender r;
    if (!nft_render_init(&r, c, node, family, error))
        return NULL;
    g_autoptr(KpServiceMap) map = kp_service_map_new(c, node, family);
    r.t = nft_table_new(family, "kube-proxy", "rules for kube-proxy");
    nft_setup_chains(&r);
    nft_setup_masquerade(&r);
    nft_setup_cluster_ips(&r);
    nft_setup_no_endpoints(&r);
    nft_setup_dispatch(&r);
    for (guint i = 0; i < map->ports->len; i++)
        nft_service(&r, map->ports->pdata[i]);
    kp_node_port_addresses_clear(&r.npa);
    NfRuleset *rs = nf_ruleset_new(family);
    nft_ruleset_attach(rs, r.t);
    return rs;
}

/* See kube_proxy.h. */
gboolean
kube_proxy_nft_list(const NfRuleset *rs, GString *out)
{
    const NftTable *t = nft_ruleset_table(rs);
    if (t == NULL)
        return FALSE;
    nft_table_list(t, out);
    return TRUE;
}

/* See kube_proxy.h. */
guint
kube_proxy_rule_count(const NfRuleset *rs)
{
    const NftTable *t = nft_ruleset_table(rs);
    return nf_ruleset_rule_count(rs, NF_TABLE_NAT) + nf_ruleset_rule_count(rs, NF_TABLE_FILTER) +
           (t != NULL ? nft_table_rule_count(t) : 0);
}

/* ---------------------------------------------------------------- trace */

/* What a map lookup in kube-proxy's table means. (static) */
static const char *
nft_map_meaning(const char *map)
{
    static const struct {
        const char *map, *meaning;
    } maps[] = {
        {"service-ips", "a Service address (ClusterIP, external IP or load-balancer IP)"},
        {"service-nodeports", "a NodePort on an address that serves NodePorts"},
        {"no-endpoint-services", "a Service address without usable endpoints"},
        {"no-endpoint-nodeports", "a NodePort without usable endpoints"},
        {"firewall-ips", "a load-balancer IP restricted by loadBalancerSourceRanges"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(maps); i++)
        if (strcmp(maps[i].map, map) == 0)
            return maps[i].meaning;
    return NULL;
}

/* A sentence on what the verdict v of step st means for the connection, or NULL. (static) */
static const char *
nft_verdict_meaning(const NfStep *st, const NftVerdict *v)
{
    switch (v->kind) {
    case NFT_VERDICT_REJECT:
        return "reject: ICMP port unreachable, the client sees connection refused";
    case NFT_VERDICT_DROP:
        return "drop: the packet is discarded silently, the client times out";
    case NFT_VERDICT_RETURN:
        return strcmp(st->chain, "masquerading") == 0 ? "not marked: no masquerade" : NULL;
    case NFT_VERDICT_JUMP:
    case NFT_VERDICT_GOTO:
        if (strcmp(nft_chain_name(v->chain), "mark-for-masquerade") == 0)
            return "marks the connection for masquerading (SNAT in nat-postrouting)";
        if (g_str_has_prefix(nft_chain_name(v->chain), "endpoint-"))
            return "ClientIP affinity: this client was sent to this endpoint before";
        return NULL;
    case NFT_VERDICT_CONTINUE:
    case NFT_VERDICT_ACCEPT:
        return NULL;
    }
    return NULL;
}

/* Appends to why what the action e of step st did and means, in nft's and kube-proxy's terms. */
static void
nft_explain_action(const NfStep *st, const NftExpr *e, GString *why)
{
    char to[SIM_SOCKADDR_STRLEN];
    const char *meaning = NULL;
    switch (e->kind) {
    case NFT_EXPR_VMAP:
        nft_step_describe(st, why);
        meaning = nft_map_meaning(nft_set_name(e->set));
        if (meaning != NULL)
            g_string_append_printf(why, " - %s", meaning);
        return;
    case NFT_EXPR_NUMGEN:
        nft_step_describe(st, why);
        g_string_append_printf(why,
                               " - one endpoint picked at random per new connection, "
                               "each with probability 1/%u",
                               e->n);
        return;
    case NFT_EXPR_MARK_OR:
        g_string_append(why, "marks the connection for masquerading (SNAT in nat-postrouting)");
        return;
    case NFT_EXPR_MARK_XOR:
        g_string_append(why, "clears the masquerade mark");
        return;
    case NFT_EXPR_MASQUERADE:
        g_string_append(why, "masquerade: SNAT to the address of the outgoing interface, random "
                             "source port");
        return;
    case NFT_EXPR_UPDATE_SADDR:
        g_string_append(why, "ClientIP affinity: remembers this client for this endpoint");
        return;
    case NFT_EXPR_DNAT:
        g_string_append_printf(why, "DNAT to %s", sim_sockaddr_to_string(&e->to, to));
        return;
    case NFT_EXPR_VERDICT:
        meaning = nft_verdict_meaning(st, &e->verdict);
        break;
    case NFT_EXPR_CT_STATE_NEW:
    case NFT_EXPR_ADDR:
    case NFT_EXPR_ADDR_SET:
    case NFT_EXPR_FIB_LOCAL:
    case NFT_EXPR_IIFNAME:
    case NFT_EXPR_L4PROTO:
    case NFT_EXPR_DPORT:
    case NFT_EXPR_MARK_CLEAR:
        break; /* nft_rule_action() returns statements only */
    }
    if (meaning == NULL)
        return;
    g_string_append(why, meaning);
    if (nft_rule_comment(st->nft_rule) != NULL)
        g_string_append_printf(why, " (%s)", nft_rule_comment(st->nft_rule));
}

gboolean
kube_proxy_nft_trace_step(const NfStep *st, GString *out)
{
    if (st->nft_rule == NULL)
        return FALSE;
    g_string_append_printf(out, "  %-6s %s\n         ", nf_table_name(st->table), st->chain);
    nft_rule_format(st->nft_rule, out);
    g_string_append_c(out, '\n');
    g_autoptr(GString) why = g_string_new(NULL);
    const NftExpr *e = nft_rule_action(st->nft_rule);
    if (e != NULL)
        nft_explain_action(st, e, why);
    if (why->len > 0)
        g_string_append_printf(out, "         => %s\n", why->str);
    return TRUE;
}

gboolean
kube_proxy_nft_step_rule(const NfStep *st, GString *out)
{
    if (st->nft_rule == NULL)
        return FALSE;
    nft_rule_format(st->nft_rule, out);
    return TRUE;
}
