/* SPDX-License-Identifier: Apache-2.0 */
/* The IPVS proxy mode: one node's virtual services, ipsets and nat/filter rules for one family.
 *
 * Models syncProxyRules() and writeIptablesRules() of pkg/proxy/ipvs/proxier.go (v1.29-v1.33)
 * for a full sync of a fresh node: every clusterIP and load-balancer IP (and every externalIP
 * that no real interface holds) is bound to the dummy interface kube-ipvs0; one IPVS virtual
 * service per clusterIP:port, externalIP:port, LB IP:port and, for NodePorts, per node address
 * (every local address but kube-ipvs0's when nodePortAddresses is empty - the node's addresses
 * and the pod network gateway kpsim gives it, never loopback); real servers from syncEndpoint()
 * (the Local set when the policy is Local and it is not empty, else the Cluster set - so an
 * externalTrafficPolicy Local Service on a node without local endpoints gets every endpoint;
 * nothing for internalTrafficPolicy Local without local endpoints), weight 1, masquerading, the
 * configured scheduler, and persistence for ClientIP affinity. The ipsets of ipsetInfo carry
 * the members kube-proxy gives them, and a constant set of iptables rules matches them: nat
 * KUBE-SERVICES, KUBE-NODE-PORT, KUBE-LOAD-BALANCER, KUBE-MARK-MASQ, KUBE-POSTROUTING, filter
 * KUBE-FORWARD, KUBE-NODE-PORT, KUBE-PROXY-FIREWALL, KUBE-SOURCE-RANGES-FIREWALL,
 * KUBE-IPVS-FILTER and KUBE-IPVS-OUT-FILTER, plus kubelet's KUBE-FIREWALL as in iptables mode.
 *
 * Left out: the state kept between syncs (graceful deletion of real servers that disappear is
 * the run time's IPVS table, sim/ipvs.h), cleanup of stale virtual services (excludeCIDRs only
 * protects those, so it is validated and otherwise unused), the sysctls (strictARP,
 * conntrack=1, expire_nodest_conn), and the `mh` scheduler's source-hash flag (validation
 * rejects `mh`). Where the rule text is from memory of proxier.go rather than a captured
 * iptables-save, the comment at the rule says so.
 */
#include "model/kube_proxy.h"
#include "model/kube_proxy_endpoints.h"
#include "model/kube_proxy_private.h"
#include "sim/ipset.h"
#include "sim/ipvs.h"

#include <string.h>

/* The ipsets of ipsetInfo, in its order. */
typedef enum {
    IPVS_SET_LOOP_BACK,
    IPVS_SET_CLUSTER_IP,
    IPVS_SET_EXTERNAL_IP,
    IPVS_SET_EXTERNAL_IP_LOCAL,
    IPVS_SET_LOAD_BALANCER,
    IPVS_SET_LOAD_BALANCER_FW,
    IPVS_SET_LOAD_BALANCER_LOCAL,
    IPVS_SET_LOAD_BALANCER_SOURCE_IP,
    IPVS_SET_LOAD_BALANCER_SOURCE_CIDR,
    IPVS_SET_NODE_PORT_TCP,
    IPVS_SET_NODE_PORT_LOCAL_TCP,
    IPVS_SET_NODE_PORT_UDP,
    IPVS_SET_NODE_PORT_LOCAL_UDP,
    IPVS_SET_NODE_PORT_SCTP,
    IPVS_SET_NODE_PORT_LOCAL_SCTP,
    IPVS_SET_HEALTH_CHECK_NODE_PORT,
    IPVS_SET_IPVS_IPS,
    IPVS_SET_N
} IpvsSetId;

/* Name, ipset type and comment of each set (pkg/proxy/ipvs/ipset.go). */
static const struct {
    const char *name, *type, *comment;
} ipvs_set_info[IPVS_SET_N] = {
    {"KUBE-LOOP-BACK", "hash:ip,port,ip",
     "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"},
    {"KUBE-CLUSTER-IP", "hash:ip,port",
     "Kubernetes service cluster ip + port for masquerade purpose"},
    {"KUBE-EXTERNAL-IP", "hash:ip,port",
     "Kubernetes service external ip + port for masquerade and filter purpose"},
    {"KUBE-EXTERNAL-IP-LOCAL", "hash:ip,port",
     "Kubernetes service external ip + port with externalTrafficPolicy=local"},
    {"KUBE-LOAD-BALANCER", "hash:ip,port", "Kubernetes service lb portal"},
    {"KUBE-LOAD-BALANCER-FW", "hash:ip,port",
     "Kubernetes service load balancer ip + port for load balancer with sourceRange"},
    {"KUBE-LOAD-BALANCER-LOCAL", "hash:ip,port",
     "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"},
    {"KUBE-LOAD-BALANCER-SOURCE-IP", "hash:ip,port,ip",
     "Kubernetes service load balancer ip + port + source IP for packet filter purpose"},
    {"KUBE-LOAD-BALANCER-SOURCE-CIDR", "hash:ip,port,net",
     "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"},
    {"KUBE-NODE-PORT-TCP", "bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"},
    {"KUBE-NODE-PORT-LOCAL-TCP", "bitmap:port",
     "Kubernetes nodeport TCP port with externalTrafficPolicy=local"},
    {"KUBE-NODE-PORT-UDP", "bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"},
    {"KUBE-NODE-PORT-LOCAL-UDP", "bitmap:port",
     "Kubernetes nodeport UDP port with externalTrafficPolicy=local"},
    {"KUBE-NODE-PORT-SCTP-HASH", "hash:ip,port",
     "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"},
    {"KUBE-NODE-PORT-LOCAL-SCTP-HASH", "hash:ip,port",
     "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"},
    {"KUBE-HEALTH-CHECK-NODE-PORT", "bitmap:port", "Kubernetes health check node port"},
    {"KUBE-IPVS-IPS", "hash:ip", "Addresses on the ipvs interface"},
};

/* What every part of one render needs. */
typedef struct {
    NfRuleset *rs;
    const KubeProxyConfig *cfg;
    const K8sNode *node;
    SimFamily family;
    const char *scheduler;
    gboolean has_node_ip;
    SimAddr node_ip; /* proxier.nodeIP: the LB source-range allowFromNode test */
    KpLocalDetector detector;
    const char *detector_opt; /* "-s" or "-i" */
    char *detector_value;     /* CIDR text, bridge name, or prefix + "+" */
    GArray *local_addrs;      /* SimAddr: the node's addresses outside kube-ipvs0 */
    GArray *node_port_ips;    /* SimAddr: one NodePort virtual service per address */
    char *set_names[IPVS_SET_N];
    GPtrArray *members[IPVS_SET_N]; /* char*: ipset entries, in insertion order, unique */
    GHashTable *seen[IPVS_SET_N];   /* the members as a set */
    GPtrArray *lb_no_node_access;   /* char*[4] {ip, proto, port, NULL}: KUBE-IPVS-OUT-FILTER */
    GArray *bound;                  /* SimAddr: kube-ipvs0, in binding order */
    IpvsTable *ipvs;
    char mark[16];      /* "0x004000" */
    char mark_mask[40]; /* "0x004000/0x004000" */
} IpvsRender;

/* ---------------------------------------------------------------- configuration */

/* See kube_proxy.h. */
gboolean
kube_proxy_ipvs_scheduler_valid(const char *scheduler)
{
    static const char *const ok[] = {"rr", "wrr", "lc",  "wlc", "lblc", "lblcr",
                                     "sh", "dh",  "sed", "nq",  ""};
    g_return_val_if_fail(scheduler != NULL, FALSE);
    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++)
        if (strcmp(scheduler, ok[i]) == 0)
            return TRUE;
    return FALSE;
}

/* See kube_proxy.h. */
void
kube_proxy_ipvs_config(const KubeProxyConfig *kp, IpvsConfig *out)
{
    g_return_if_fail(kp != NULL && out != NULL);
    ipvs_config_init(out);
    if (kp->ipvs_tcp_timeout > 0)
        out->tcp = kp->ipvs_tcp_timeout;
    if (kp->ipvs_tcp_fin_timeout > 0)
        out->tcpfin = kp->ipvs_tcp_fin_timeout;
    if (kp->ipvs_udp_timeout > 0)
        out->udp = kp->ipvs_udp_timeout;
}

/* ---------------------------------------------------------------- ipsets */

/* The set's name for the family: IPv6 sets are "KUBE-6-...", cut to ipset's 31 characters
 * (NewIPSet). (transfer full) */
static char *
ipvs_set_name(IpvsSetId id, SimFamily family)
{
    const char *name = ipvs_set_info[id].name;
    if (family != SIM_AF_INET6)
        return g_strdup(name);
    char *v6 = g_strconcat("KUBE-6-", name + strlen("KUBE-"), NULL);
    if (strlen(v6) > 31)
        v6[31] = '\0';
    return v6;
}

/* Adds member (an ipset entry as `ipset list` prints it) to set id, once. */
static void
ipvs_set_add(IpvsRender *r, IpvsSetId id, char *member)
{
    if (g_hash_table_contains(r->seen[id], member)) {
        g_free(member);
        return;
    }
    g_hash_table_add(r->seen[id], member);
    g_ptr_array_add(r->members[id], member);
}

/* "IP,proto:port" (hash:ip,port entries). (transfer full) */
static char *
ipvs_entry_ip_port(const SimAddr *ip, const char *proto, guint port)
{
    char text[SIM_ADDR_STRLEN];
    return g_strdup_printf("%s,%s:%u", sim_addr_to_string(ip, text), proto, port);
}

/* "IP,proto:port,IP2" (hash:ip,port,ip) or "IP,proto:port,NET" (hash:ip,port,net). */
static char *
ipvs_entry_ip_port_x(const SimAddr *ip, const char *proto, guint port, const char *x)
{
    char text[SIM_ADDR_STRLEN];
    return g_strdup_printf("%s,%s:%u,%s", sim_addr_to_string(ip, text), proto, port, x);
}

/* ---------------------------------------------------------------- iptables rules */

/* Whether set id has members (kube-proxy writes a set's rules only then: isEmpty()). */
static gboolean
ipvs_set_used(const IpvsRender *r, IpvsSetId id)
{
    return r->members[id]->len > 0;
}

/* Appends "-m comment --comment COMMENT -m set --match-set NAME FLAGS" for set id. */
static void
ipvs_args_set(KpArgs *a, const IpvsRender *r, IpvsSetId id, const char *flags)
{
    kp_args_add(a, "-m", "comment", "--comment", ipvs_set_info[id].comment, "-m", "set",
                "--match-set", r->set_names[id], flags, NULL);
}

/* One of the jumps kube-proxy prepends to a built-in chain (iptablesJumpChain), or kubelet's
 * KUBE-FIREWALL jump (comment NULL), listed in their final order on a node. */
typedef struct {
    NfTableId table;
    const char *from, *to, *comment;
} IpvsJump;

/* Creates the chains of iptablesChains (and kubelet's KUBE-FIREWALL) and the hook jumps.
 * kube-proxy prepends each jump of its list in turn, so a built-in chain holds its jumps in
 * reverse list order; kubelet appended its KUBE-FIREWALL jumps earlier, so they stay last. */
static void
ipvs_top_level(IpvsRender *r)
{
    static const char *const nat_chains[] = {"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT",
                                             "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"};
    static const char *const filter_chains[] = {
        "KUBE-FORWARD",        "KUBE-NODE-PORT",
        "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL",
        "KUBE-IPVS-FILTER",    "KUBE-IPVS-OUT-FILTER"};
    static const IpvsJump jumps[] = {
        {NF_TABLE_NAT, "OUTPUT", "KUBE-SERVICES", "kubernetes service portals"},
        {NF_TABLE_NAT, "PREROUTING", "KUBE-SERVICES", "kubernetes service portals"},
        {NF_TABLE_NAT, "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules"},
        {NF_TABLE_FILTER, "FORWARD", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"},
        {NF_TABLE_FILTER, "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules"},
        {NF_TABLE_FILTER, "INPUT", "KUBE-IPVS-FILTER", "kubernetes ipvs access filter"},
        {NF_TABLE_FILTER, "INPUT", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"},
        {NF_TABLE_FILTER, "INPUT", "KUBE-NODE-PORT", "kubernetes health check rules"},
        {NF_TABLE_FILTER, "INPUT", "KUBE-FIREWALL", NULL},
        {NF_TABLE_FILTER, "OUTPUT", "KUBE-IPVS-OUT-FILTER", "kubernetes ipvs access filter"},
        {NF_TABLE_FILTER, "OUTPUT", "KUBE-FIREWALL", NULL},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(nat_chains); i++)
        kp_new_chain(r->rs, NF_TABLE_NAT, nat_chains[i]);
    for (gsize i = 0; i < G_N_ELEMENTS(filter_chains); i++)
        kp_new_chain(r->rs, NF_TABLE_FILTER, filter_chains[i]);
    if (r->family == SIM_AF_INET)
        kp_kubelet_firewall(r->rs);
    for (gsize i = 0; i < G_N_ELEMENTS(jumps); i++) {
        KpArgs a = {0};
        if (jumps[i].comment == NULL && r->family != SIM_AF_INET)
            continue;
        if (jumps[i].comment != NULL)
            kp_args_add(&a, "-m", "comment", "--comment", jumps[i].comment, NULL);
        kp_args_add(&a, "-j", jumps[i].to, NULL);
        kp_append(r->rs, jumps[i].table, jumps[i].from, &a);
    }
}

/* One rule of ipsetWithIptablesChain: a set matched in a chain, with its target. */
typedef struct {
    IpvsSetId set;
    NfTableId table;
    const char *from, *to, *flags, *proto;
} IpvsSetRule;

/* The rules of ipsetWithIptablesChain, each written when its set has members. */
static void
ipvs_set_rules(IpvsRender *r)
{
    static const IpvsSetRule rules[] = {
        {IPVS_SET_LOOP_BACK, NF_TABLE_NAT, "KUBE-POSTROUTING", "MASQUERADE", "dst,dst,src", NULL},
        {IPVS_SET_LOAD_BALANCER, NF_TABLE_NAT, "KUBE-SERVICES", "KUBE-LOAD-BALANCER", "dst,dst",
         NULL},
        {IPVS_SET_LOAD_BALANCER_LOCAL, NF_TABLE_NAT, "KUBE-LOAD-BALANCER", "RETURN", "dst,dst",
         NULL},
        {IPVS_SET_NODE_PORT_LOCAL_TCP, NF_TABLE_NAT, "KUBE-NODE-PORT", "RETURN", "dst", "tcp"},
        {IPVS_SET_NODE_PORT_TCP, NF_TABLE_NAT, "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "tcp"},
        {IPVS_SET_NODE_PORT_LOCAL_UDP, NF_TABLE_NAT, "KUBE-NODE-PORT", "RETURN", "dst", "udp"},
        {IPVS_SET_NODE_PORT_UDP, NF_TABLE_NAT, "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "udp"},
        {IPVS_SET_NODE_PORT_LOCAL_SCTP, NF_TABLE_NAT, "KUBE-NODE-PORT", "RETURN", "dst,dst",
         "sctp"},
        {IPVS_SET_NODE_PORT_SCTP, NF_TABLE_NAT, "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst,dst",
         "sctp"},
        {IPVS_SET_LOAD_BALANCER_FW, NF_TABLE_FILTER, "KUBE-PROXY-FIREWALL",
         "KUBE-SOURCE-RANGES-FIREWALL", "dst,dst", NULL},
        {IPVS_SET_LOAD_BALANCER_SOURCE_CIDR, NF_TABLE_FILTER, "KUBE-SOURCE-RANGES-FIREWALL",
         "RETURN", "dst,dst,src", NULL},
        {IPVS_SET_LOAD_BALANCER_SOURCE_IP, NF_TABLE_FILTER, "KUBE-SOURCE-RANGES-FIREWALL", "RETURN",
         "dst,dst,src", NULL},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(rules); i++) {
        const IpvsSetRule *s = &rules[i];
        KpArgs a = {0};
        if (!ipvs_set_used(r, s->set))
            continue;
        if (s->proto != NULL)
            kp_args_add(&a, "-p", s->proto, NULL);
        ipvs_args_set(&a, r, s->set, s->flags);
        kp_args_add(&a, "-j", s->to, NULL);
        kp_append(r->rs, s->table, s->from, &a);
    }
}

/* The KUBE-CLUSTER-IP masquerade rule: every source (masqueradeAll), sources the local
 * detector calls off-cluster, or - with no detector - node traffic whose source is a VIP. */
static void
ipvs_cluster_ip_rule(IpvsRender *r)
{
    KpArgs a = {0};
    if (!ipvs_set_used(r, IPVS_SET_CLUSTER_IP))
        return;
    if (r->cfg->masquerade_all) {
        ipvs_args_set(&a, r, IPVS_SET_CLUSTER_IP, "dst,dst");
    } else if (r->detector.implemented) {
        ipvs_args_set(&a, r, IPVS_SET_CLUSTER_IP, "dst,dst");
        kp_args_add(&a, "!", r->detector_opt, r->detector_value, NULL);
    } else {
        ipvs_args_set(&a, r, IPVS_SET_CLUSTER_IP, "src,dst");
    }
    kp_args_add(&a, "-j", "KUBE-MARK-MASQ", NULL);
    kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
}

/* externalIPRules(): accept traffic to an external IP from off the machine (not bridged in,
 * not from a local address), and traffic to an external IP that is a local address. */
static void
ipvs_external_ip_accepts(IpvsRender *r, IpvsSetId id)
{
    KpArgs a = {0};
    ipvs_args_set(&a, r, id, "dst,dst");
    guint base = a.n;
    kp_args_add(&a, "-m", "physdev", "!", "--physdev-is-in", "-m", "addrtype", "!", "--src-type",
                "LOCAL", "-j", "ACCEPT", NULL);
    kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
    a.n = base;
    kp_args_add(&a, "-m", "addrtype", "--dst-type", "LOCAL", "-j", "ACCEPT", NULL);
    kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
}

/* The rest of nat KUBE-SERVICES after the set rules: clusterIP and externalIP masquerade,
 * the externalIP accepts, the NodePort jump, and acceptIPVSTraffic()'s ACCEPTs for VIPs. */
static void
ipvs_services_chain(IpvsRender *r)
{
    KpArgs a = {0};
    ipvs_cluster_ip_rule(r);
    if (ipvs_set_used(r, IPVS_SET_EXTERNAL_IP)) {
        ipvs_args_set(&a, r, IPVS_SET_EXTERNAL_IP, "dst,dst");
        kp_args_add(&a, "-j", "KUBE-MARK-MASQ", NULL);
        kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
        ipvs_external_ip_accepts(r, IPVS_SET_EXTERNAL_IP);
    }
    if (ipvs_set_used(r, IPVS_SET_EXTERNAL_IP_LOCAL))
        ipvs_external_ip_accepts(r, IPVS_SET_EXTERNAL_IP_LOCAL);
    a.n = 0;
    kp_args_add(&a, "-m", "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODE-PORT", NULL);
    kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
    a.n = 0;
    kp_args_add(&a, "-j", "KUBE-MARK-MASQ", NULL);
    kp_append(r->rs, NF_TABLE_NAT, "KUBE-LOAD-BALANCER", &a);
}

/* acceptIPVSTraffic(): the last rules of nat KUBE-SERVICES accept traffic to a clusterIP or LB
 * virtual service, in case later rules of other software would block it. */
static void
ipvs_accept_vips(IpvsRender *r)
{
    static const IpvsSetId sets[] = {IPVS_SET_CLUSTER_IP, IPVS_SET_LOAD_BALANCER};
    for (gsize i = 0; i < G_N_ELEMENTS(sets); i++) {
        KpArgs a = {0};
        if (!ipvs_set_used(r, sets[i]))
            continue;
        kp_args_add(&a, "-m", "set", "--match-set", r->set_names[sets[i]], "dst,dst", "-j",
                    "ACCEPT", NULL);
        kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
    }
}

/* filter: the source-range DROP, the LB no-node-access DROPs, KUBE-FORWARD, the health check
 * ACCEPT and KUBE-IPVS-FILTER (written whether or not their sets have members). kube-proxy's
 * IPVS proxier writes no INVALID-drop rule in KUBE-FORWARD (from memory of proxier.go). */
static void
ipvs_filter_rules(IpvsRender *r)
{
    static const struct {
        IpvsSetId set;
        const char *flags;
    } vips[] = {{IPVS_SET_LOAD_BALANCER, "dst,dst"},
                {IPVS_SET_CLUSTER_IP, "dst,dst"},
                {IPVS_SET_EXTERNAL_IP, "dst,dst"},
                {IPVS_SET_EXTERNAL_IP_LOCAL, "dst,dst"},
                {IPVS_SET_HEALTH_CHECK_NODE_PORT, "dst"}};
    KpArgs a = {0};
    kp_args_add(&a, "-j", "DROP", NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-SOURCE-RANGES-FIREWALL", &a);
    for (guint i = 0; i < r->lb_no_node_access->len; i++) {
        const char *const *e = r->lb_no_node_access->pdata[i];
        a.n = 0;
        kp_args_add(&a, "-s", e[0], "-m", "ipvs", "--vaddr", e[0], "--vproto", e[1], "--vport",
                    e[2], "-j", "DROP", NULL);
        kp_append(r->rs, NF_TABLE_FILTER, "KUBE-IPVS-OUT-FILTER", &a);
    }
    a.n = 0;
    kp_args_add(&a, "-m", "comment", "--comment", "kubernetes forwarding rules", "-m", "mark",
                "--mark", r->mark_mask, "-j", "ACCEPT", NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-FORWARD", &a);
    a.n = 0;
    kp_args_add(&a, "-m", "comment", "--comment", "kubernetes forwarding conntrack rule", "-m",
                "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT", NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-FORWARD", &a);
    a.n = 0;
    ipvs_args_set(&a, r, IPVS_SET_HEALTH_CHECK_NODE_PORT, "dst");
    kp_args_add(&a, "-j", "ACCEPT", NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-NODE-PORT", &a);
    for (gsize i = 0; i < G_N_ELEMENTS(vips); i++) {
        a.n = 0;
        kp_args_add(&a, "-m", "set", "--match-set", r->set_names[vips[i].set], vips[i].flags, "-j",
                    "RETURN", NULL);
        kp_append(r->rs, NF_TABLE_FILTER, "KUBE-IPVS-FILTER", &a);
    }
    a.n = 0;
    kp_args_add(&a, "-m", "conntrack", "--ctstate", "NEW", "-m", "set", "--match-set",
                r->set_names[IPVS_SET_IPVS_IPS], "dst", "-j", "REJECT", NULL);
    kp_append(r->rs, NF_TABLE_FILTER, "KUBE-IPVS-FILTER", &a);
}

/* writeIptablesRules(): every rule, in the order kube-proxy writes each chain. */
static void
ipvs_write_rules(IpvsRender *r)
{
    const char *lo = r->family == SIM_AF_INET6 ? "::1/128" : "127.0.0.0/8";
    KpArgs a = {0};
    kp_args_add(&a, "-s", lo, "-j", "RETURN", NULL);
    kp_append(r->rs, NF_TABLE_NAT, "KUBE-SERVICES", &a);
    ipvs_set_rules(r);
    ipvs_services_chain(r);
    ipvs_accept_vips(r);
    ipvs_filter_rules(r);
    kp_masquerade_rules(r->rs, r->mark, r->mark_mask);
}

/* ---------------------------------------------------------------- the IPVS table and ipsets */

/* Starts r's IPVS table; kube-proxy always removes real servers gracefully. */
static void
ipvs_table_begin(IpvsRender *r)
{
    r->ipvs = ipvs_table_new(r->family);
    ipvs_table_set_graceful(r->ipvs, TRUE);
}

/* Adds the virtual service addr:port of sp (masquerading, r's scheduler, persistence for
 * ClientIP affinity) with eps (KpEndpoint*, nullable) as real servers of weight 1. */
static void
ipvs_add_service(IpvsRender *r, const KpServicePort *sp, const SimAddr *addr, guint port,
                 const KpPtrList *eps)
{
    g_autoptr(GError) err = NULL;
    IpvsServiceSpec spec = {.proto = (guint8)sp->port->protocol, .vip = {*addr, (guint16)port}};
    gboolean ok = ipvs_sched_parse(r->scheduler, &spec.sched, &err);
    g_assert(ok); /* the scheduler was validated in ipvs_render_init() */
    if (sp->sticky_seconds != 0) {
        spec.flags |= IPVS_SVC_PERSISTENT;
        spec.timeout = sp->sticky_seconds;
    }
    IpvsService *svc = ipvs_table_add_service(r->ipvs, &spec, &err);
    if (svc == NULL) { /* two Services on one address and port: the first keeps it */
        g_clear_error(&err);
        return;
    }
    for (guint i = 0; eps != NULL && i < eps->len; i++) {
        const KpEndpoint *ep = eps->pdata[i];
        if (!ipvs_service_add_dest(svc, &ep->addr, 1, &err))
            g_clear_error(&err);
    }
}

/* Creates every set of ipsetInfo on r's ruleset (kube-proxy creates them all, empty or not)
 * with its members, so that the rules can name them. */
static void
ipvs_sets_attach(IpvsRender *r)
{
    for (guint i = 0; i < IPVS_SET_N; i++) {
        g_autoptr(GError) err = NULL;
        IpsetSpec spec = {.comment = TRUE};
        gboolean ok = ipset_type_parse(ipvs_set_info[i].type, &spec.type);
        g_assert(ok);
        Ipset *set = ipset_create(r->rs, r->set_names[i], &spec, &err);
        if (set == NULL) {
            g_critical("kube-proxy ipset %s: %s", r->set_names[i], err->message);
            continue;
        }
        for (guint k = 0; k < r->members[i]->len; k++)
            if (!ipset_add(set, r->members[i]->pdata[k], &err)) {
                g_critical("kube-proxy ipset %s: %s", r->set_names[i], err->message);
                g_clear_error(&err);
            }
    }
}

/* Binds kube-ipvs0's addresses and gives the table to the ruleset. */
static void
ipvs_table_attach(IpvsRender *r)
{
    for (guint i = 0; i < r->bound->len; i++)
        ipvs_table_add_local_addr(r->ipvs, &g_array_index(r->bound, SimAddr, i));
    ipvs_ruleset_attach(r->rs, g_steal_pointer(&r->ipvs));
}

/* ---------------------------------------------------------------- per service port */

/* syncEndpoint()'s choice of real servers for a virtual service: the Cluster set, or with
 * only_local (ITP Local for the clusterIP, ETP Local for the others) the Local set when it is
 * not empty, else the Cluster set (#97081: local pods may still use an ETP Local Service on a
 * node without endpoints) - except for internalTrafficPolicy Local, which gets none. The last
 * test applies to every virtual service of an ITP Local Service, as proxier.go writes it.
 * (transfer none) (nullable) */
static const KpPtrList *
ipvs_real_servers(const KpServicePort *sp, gboolean only_local)
{
    if (!only_local)
        return sp->cluster;
    if (sp->local->len > 0)
        return sp->local;
    return sp->internal_policy_local ? NULL : sp->cluster;
}

/* TRUE when a is in addrs (a SimAddr array). */
static gboolean
ipvs_addr_in(const GArray *addrs, const SimAddr *a)
{
    for (guint i = 0; i < addrs->len; i++)
        if (sim_addr_equal(&g_array_index(addrs, SimAddr, i), a))
            return TRUE;
    return FALSE;
}

/* Binds addr to kube-ipvs0 (activeBindAddrs) and records it in KUBE-IPVS-IPS. */
static void
ipvs_bind(IpvsRender *r, const SimAddr *addr)
{
    char text[SIM_ADDR_STRLEN];
    if (ipvs_addr_in(r->bound, addr))
        return;
    g_array_append_vals(r->bound, addr, 1);
    ipvs_set_add(r, IPVS_SET_IPVS_IPS, g_strdup(sim_addr_to_string(addr, text)));
}

/* KUBE-LOOP-BACK: every endpoint on this node (whatever its conditions), for the hairpin
 * masquerade of a pod that reaches itself. */
static void
ipvs_service_loop_back(IpvsRender *r, const KpServicePort *sp)
{
    for (guint i = 0; i < sp->endpoints->len; i++) {
        const KpEndpoint *ep = sp->endpoints->pdata[i];
        char ip[SIM_ADDR_STRLEN];
        if (!ep->local)
            continue;
        sim_addr_to_string(&ep->addr.addr, ip);
        ipvs_set_add(r, IPVS_SET_LOOP_BACK,
                     ipvs_entry_ip_port_x(&ep->addr.addr, sp->protocol, ep->addr.port, ip));
    }
}

/* The clusterIP: KUBE-CLUSTER-IP, kube-ipvs0, and its virtual service. */
static void
ipvs_service_cluster_ip(IpvsRender *r, const KpServicePort *sp)
{
    guint port = sp->port->port;
    ipvs_set_add(r, IPVS_SET_CLUSTER_IP, ipvs_entry_ip_port(&sp->cluster_ip, sp->protocol, port));
    ipvs_bind(r, &sp->cluster_ip);
    ipvs_add_service(r, sp, &sp->cluster_ip, port,
                     ipvs_real_servers(sp, sp->internal_policy_local));
}

/* The externalIPs: KUBE-EXTERNAL-IP(-LOCAL), kube-ipvs0 unless a real interface holds the
 * address, and a virtual service each. */
static void
ipvs_service_external_ips(IpvsRender *r, const KpServicePort *sp)
{
    IpvsSetId set = sp->external_policy_local ? IPVS_SET_EXTERNAL_IP_LOCAL : IPVS_SET_EXTERNAL_IP;
    for (guint i = 0; i < sp->external_ips->len; i++) {
        const SimAddr *ip = &g_array_index(sp->external_ips, SimAddr, i);
        ipvs_set_add(r, set, ipvs_entry_ip_port(ip, sp->protocol, sp->port->port));
        if (!ipvs_addr_in(r->local_addrs, ip))
            ipvs_bind(r, ip);
        ipvs_add_service(r, sp, ip, sp->port->port,
                         ipvs_real_servers(sp, sp->external_policy_local));
    }
}

/* loadBalancerSourceRanges of one LB IP: KUBE-LOAD-BALANCER-FW, a SOURCE-CIDR entry per range,
 * and either the LB IP itself as an allowed source (the node's IP is in a range: traffic the
 * node routes to its own LB IP) or a KUBE-IPVS-OUT-FILTER DROP for the node's own access. */
static void
ipvs_service_source_ranges(IpvsRender *r, const KpServicePort *sp, const SimAddr *ip)
{
    char text[SIM_ADDR_STRLEN], cidr[SIM_CIDR_STRLEN];
    guint port = sp->port->port;
    gboolean allow_from_node = FALSE;
    if (sp->source_ranges->len == 0)
        return;
    ipvs_set_add(r, IPVS_SET_LOAD_BALANCER_FW, ipvs_entry_ip_port(ip, sp->protocol, port));
    for (guint i = 0; i < sp->source_ranges->len; i++) {
        const SimCidr *c = &g_array_index(sp->source_ranges, SimCidr, i);
        ipvs_set_add(r, IPVS_SET_LOAD_BALANCER_SOURCE_CIDR,
                     ipvs_entry_ip_port_x(ip, sp->protocol, port, sim_cidr_to_string(c, cidr)));
        allow_from_node = allow_from_node || (r->has_node_ip && sim_cidr_contains(c, &r->node_ip));
    }
    sim_addr_to_string(ip, text);
    if (allow_from_node) {
        ipvs_set_add(r, IPVS_SET_LOAD_BALANCER_SOURCE_IP,
                     ipvs_entry_ip_port_x(ip, sp->protocol, port, text));
        return;
    }
    char **e = g_new0(char *, 4);
    e[0] = g_strdup(text);
    e[1] = g_strdup(sp->protocol);
    e[2] = g_strdup_printf("%u", port);
    g_ptr_array_add(r->lb_no_node_access, e);
}

/* The load-balancer IPs: KUBE-LOAD-BALANCER(-LOCAL), the source-range sets, kube-ipvs0, and a
 * virtual service each. */
static void
ipvs_service_lb_ips(IpvsRender *r, const KpServicePort *sp)
{
    guint port = sp->port->port;
    for (guint i = 0; i < sp->lb_vips->len; i++) {
        const SimAddr *ip = &g_array_index(sp->lb_vips, SimAddr, i);
        ipvs_set_add(r, IPVS_SET_LOAD_BALANCER, ipvs_entry_ip_port(ip, sp->protocol, port));
        if (sp->external_policy_local)
            ipvs_set_add(r, IPVS_SET_LOAD_BALANCER_LOCAL,
                         ipvs_entry_ip_port(ip, sp->protocol, port));
        ipvs_service_source_ranges(r, sp, ip);
        ipvs_bind(r, ip);
        ipvs_add_service(r, sp, ip, port, ipvs_real_servers(sp, sp->external_policy_local));
    }
}

/* The nodePort: its port in KUBE-NODE-PORT-TCP/UDP (and -LOCAL- for ETP Local), or for SCTP
 * an "IP,sctp:port" entry per node address in the hash sets; a virtual service per node
 * address. Skipped, as kube-proxy does, when no address serves NodePorts. */
static void
ipvs_service_node_port(IpvsRender *r, const KpServicePort *sp)
{
    guint port = sp->port->node_port;
    gboolean sctp = strcmp(sp->protocol, "sctp") == 0, udp = strcmp(sp->protocol, "udp") == 0;
    IpvsSetId set = sctp  ? IPVS_SET_NODE_PORT_SCTP
                    : udp ? IPVS_SET_NODE_PORT_UDP
                          : IPVS_SET_NODE_PORT_TCP;
    IpvsSetId local = sctp  ? IPVS_SET_NODE_PORT_LOCAL_SCTP
                      : udp ? IPVS_SET_NODE_PORT_LOCAL_UDP
                            : IPVS_SET_NODE_PORT_LOCAL_TCP;
    if (port == 0 || r->node_port_ips->len == 0)
        return;
    for (guint i = 0; i < (sctp ? r->node_port_ips->len : 1); i++) {
        const SimAddr *ip = &g_array_index(r->node_port_ips, SimAddr, i);
        char *entry =
            sctp ? ipvs_entry_ip_port(ip, sp->protocol, port) : g_strdup_printf("%u", port);
        if (sp->external_policy_local)
            ipvs_set_add(r, local, g_strdup(entry));
        ipvs_set_add(r, set, entry);
    }
    for (guint i = 0; i < r->node_port_ips->len; i++)
        ipvs_add_service(r, sp, &g_array_index(r->node_port_ips, SimAddr, i), port,
                         ipvs_real_servers(sp, sp->external_policy_local));
}

/* Everything one service port contributes, in syncProxyRules' order. */
static void
ipvs_service(IpvsRender *r, const KpServicePort *sp)
{
    ipvs_service_loop_back(r, sp);
    ipvs_service_cluster_ip(r, sp);
    ipvs_service_external_ips(r, sp);
    ipvs_service_lb_ips(r, sp);
    ipvs_service_node_port(r, sp);
    /* syncProxyRules `continue`s past the health check port too when no address serves
     * NodePorts */
    if (sp->port->node_port != 0 && r->node_port_ips->len == 0)
        return;
    if (sp->health_check_node_port != 0)
        ipvs_set_add(r, IPVS_SET_HEALTH_CHECK_NODE_PORT,
                     g_strdup_printf("%u", sp->health_check_node_port));
}

/* ---------------------------------------------------------------- render */

/* The address kpsim's pod network gives node as its gateway (the first address of its pod
 * CIDR, on the CNI bridge), when it has a pod CIDR of family. */
static gboolean
ipvs_node_gateway(const K8sNode *node, SimFamily family, SimAddr *out)
{
    return node->pod_cidr.addr.family == family && sim_cidr_nth(&node->pod_cidr, 1, out);
}

/* The node's local addresses of family outside kube-ipvs0 (GetAllLocalAddressesExcept: never
 * loopback): its addresses, then its pod-network gateway. (transfer full) */
static GArray *
ipvs_local_addrs(const K8sNode *node, SimFamily family)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    SimAddr gw;
    for (guint i = 0; node->addresses != NULL && i < node->addresses->len; i++) {
        const SimAddr *a = &g_array_index(node->addresses, SimAddr, i);
        if (a->family == family && !sim_addr_is_loopback(a) && !ipvs_addr_in(out, a))
            g_array_append_vals(out, a, 1);
    }
    if (ipvs_node_gateway(node, family, &gw) && !ipvs_addr_in(out, &gw))
        g_array_append_val(out, gw);
    return out;
}

/* The addresses that get a NodePort virtual service: every local address when
 * nodePortAddresses selects all, else the local addresses inside its CIDRs, never loopback.
 * (transfer full) */
static GArray *
ipvs_node_port_ips(const KpNodePortAddresses *npa, const GArray *local)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    for (guint i = 0; i < local->len; i++) {
        const SimAddr *a = &g_array_index(local, SimAddr, i);
        gboolean selected = npa->match_all;
        for (guint k = 0; !selected && k < npa->cidrs->len; k++)
            selected = sim_cidr_contains(&g_array_index(npa->cidrs, SimCidr, k), a);
        if (selected)
            g_array_append_vals(out, a, 1);
    }
    return out;
}

/* Sets up the local detector's "! -s CIDR" / "! -i IFACE" arguments. */
static void
ipvs_render_detector(IpvsRender *r)
{
    kp_local_detector_init(&r->detector, r->cfg, r->node, r->family);
    r->detector_value = kp_detector_args(&r->detector, &r->detector_opt);
}

/* Frees a KUBE-IPVS-OUT-FILTER entry. */
static void
ipvs_strv_free(gpointer p)
{
    g_strfreev(p);
}

/* Sets up r for node and family. Fails with KUBE_PROXY_ERROR_CONFIG on settings kube-proxy
 * refuses (a scheduler it does not support, a masqueradeBit out of range, a bad
 * nodePortAddresses entry); r then needs no clearing. */
static gboolean
ipvs_render_init(IpvsRender *r, const KubeProxyConfig *cfg, const K8sNode *node, SimFamily family,
                 GError **error)
{
    KpNodePortAddresses npa;
    memset(r, 0, sizeof *r);
    const char *scheduler = cfg->ipvs_scheduler != NULL ? cfg->ipvs_scheduler : "";
    if (!kube_proxy_ipvs_scheduler_valid(scheduler)) {
        kp_config_error(error, cfg,
                        "ipvs.scheduler: Invalid value: \"%s\": must be in %s, scheduler is not "
                        "supported",
                        scheduler, KUBE_PROXY_IPVS_SCHEDULERS);
        return FALSE;
    }
    if (cfg->masquerade_bit > 31) {
        kp_config_error(error, cfg, "iptables.masqueradeBit: %u is not in the range 0-31",
                        cfg->masquerade_bit);
        return FALSE;
    }
    if (!kp_node_port_addresses_init(&npa, cfg, node, family, error))
        return FALSE;
    r->cfg = cfg;
    r->node = node;
    r->family = family;
    r->scheduler = scheduler[0] != '\0' ? scheduler : "rr";
    r->has_node_ip = kp_node_primary_ip(node, family, &r->node_ip);
    g_snprintf(r->mark, sizeof r->mark, "%#08x", 1u << cfg->masquerade_bit);
    g_snprintf(r->mark_mask, sizeof r->mark_mask, "%s/%s", r->mark, r->mark);
    ipvs_render_detector(r);
    r->local_addrs = ipvs_local_addrs(node, family);
    r->node_port_ips = ipvs_node_port_ips(&npa, r->local_addrs);
    kp_node_port_addresses_clear(&npa);
    for (guint i = 0; i < IPVS_SET_N; i++) {
        r->set_names[i] = ipvs_set_name(i, family);
        r->members[i] = g_ptr_array_new();
        r->seen[i] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    r->lb_no_node_access = g_ptr_array_new_with_free_func(ipvs_strv_free);
    r->bound = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    return TRUE;
}

/* Releases what r holds (not the ruleset). */
static void
ipvs_render_clear(IpvsRender *r)
{
    g_free(r->detector_value);
    g_array_unref(r->local_addrs);
    g_array_unref(r->node_port_ips);
    for (guint i = 0; i < IPVS_SET_N; i++) {
        g_free(r->set_names[i]);
        g_ptr_array_unref(r->members[i]);
        g_hash_table_unref(r->seen[i]);
    }
    g_ptr_array_unref(r->lb_no_node_access);
    g_array_unref(r->bound);
    g_clear_pointer(&r->ipvs, ipvs_table_free);
}

/* Renders node's IPVS-mode ruleset for family; see kube_proxy.h. (transfer full) */
NfRuleset *
kube_proxy_render_ipvs(const Cluster *c, const K8sNode *node, SimFamily family, GError **error)
{
    g_return_val_if_fail(c != NULL && c->proxy != NULL && node != NULL, NULL);
    g_return_val_if_fail(family == SIM_AF_INET || family == SIM_AF_INET6, NULL);
    IpvsRender r;
    if (!ipvs_render_init(&r, c->proxy, node, family, error))
        return NULL;
    g_autoptr(KpServiceMap) map = kp_service_map_new(c, node, family);
    r.rs = nf_ruleset_new(family);
    ipvs_table_begin(&r);
    for (guint i = 0; i < map->ports->len; i++)
        ipvs_service(&r, map->ports->pdata[i]);
    ipvs_sets_attach(&r);
    ipvs_table_attach(&r);
    ipvs_top_level(&r);
    ipvs_write_rules(&r);
    ipvs_render_clear(&r);
    return r.rs;
}
