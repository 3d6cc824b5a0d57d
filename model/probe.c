/* SPDX-License-Identifier: Apache-2.0 */
/* A probe: one new connection's first packet through a node's kube-proxy rules, every branch.
 *
 * Models what kube-proxy's test tracer (pkg/proxy/iptables/proxier_test.go, tracePacket) and a
 * person reading iptables-save do, but through the real hook path of sim/nf_eval.c rather than a
 * fixed list of chains. The random endpoint ladder and session-affinity checks are explored both
 * ways, so the probe lists every endpoint the rules allow, with each branch's probability.
 * Left out: routing beyond "local or not", and conntrack state other than NEW.
 */
#include "model/probe.h"

#include <string.h>

#include "model/kube_proxy.h"

#define PROBE_EPHEMERAL_PORT 40000

G_DEFINE_QUARK(kpsim - probe - error - quark, probe_error)

const char *
probe_source_kind_name(ProbeSourceKind k)
{
    switch (k) {
    case PROBE_SOURCE_POD:
        return "pod";
    case PROBE_SOURCE_NODE:
        return "node";
    case PROBE_SOURCE_EXTERNAL:
        return "external";
    }
    return "external";
}

static void
probe_branch_free(gpointer data)
{
    ProbeBranch *pb = data;
    nf_branch_free(pb->branch);
    g_free(pb);
}

void
probe_free(Probe *p)
{
    if (p == NULL)
        return;
    g_clear_pointer(&p->endpoints, g_array_unref);
    g_clear_pointer(&p->branches, g_ptr_array_unref);
    g_clear_pointer(&p->ruleset, nf_ruleset_free);
    g_free(p);
}

/* Is addr in one of the CIDRs kube-proxy or the cluster consider "in-cluster" pod space? */
static gboolean
probe_addr_in_pod_space(const Cluster *c, const SimAddr *addr)
{
    const Scenario *sc = c->scenario;
    if (sc->cluster_cidr.addr.family == addr->family && sim_cidr_contains(&sc->cluster_cidr, addr))
        return TRUE;
    for (guint i = 0; i < c->proxy->cluster_cidrs->len; i++) {
        const SimCidr *cidr = &g_array_index(c->proxy->cluster_cidrs, SimCidr, i);
        if (cidr->addr.family == addr->family && sim_cidr_contains(cidr, addr))
            return TRUE;
    }
    return cluster_find_pod_by_ip(c, addr) != NULL || cluster_node_for_pod_ip(c, addr) != NULL;
}

/* The interface a packet from a pod on this node arrives on: the bridge for bridge CNIs (what
 * detectLocalMode BridgeInterface expects), otherwise the pod's own veth. */
static char *
probe_pod_iface(const Cluster *c, const K8sPod *pod)
{
    const KubeProxyConfig *kp = c->proxy;
    switch (kp->detect_local_mode) {
    case KP_DETECT_BRIDGE_INTERFACE:
        if (kp->bridge_interface != NULL)
            return g_strdup(kp->bridge_interface);
        break;
    case KP_DETECT_INTERFACE_NAME_PREFIX:
        if (kp->interface_name_prefix != NULL) {
            g_autofree char *veth = pod ? cluster_pod_veth_name(pod) : g_strdup("veth00000000");
            return g_strconcat(kp->interface_name_prefix, veth + 4, NULL);
        }
        break;
    case KP_DETECT_CLUSTER_CIDR:
    case KP_DETECT_NODE_CIDR:
        break;
    }
    return pod ? cluster_pod_veth_name(pod) : g_strdup("veth00000000");
}

/* Classifies the source and picks where the packet enters the node. */
static void
probe_classify(const Cluster *c, Probe *p, char **iif)
{
    const SimAddr *src = &p->packet.src.addr;
    *iif = NULL;
    if (cluster_node_is_local(c, p->node, src)) {
        p->source_kind = PROBE_SOURCE_NODE;
        return;
    }
    p->source_pod = cluster_find_pod_by_ip(c, src);
    if (probe_addr_in_pod_space(c, src)) {
        p->source_kind = PROBE_SOURCE_POD;
        const K8sNode *home = cluster_node_for_pod_ip(c, src);
        if (p->source_pod != NULL && p->source_pod->node_name != NULL)
            home = cluster_find_node(c, p->source_pod->node_name);
        *iif = home == p->node ? probe_pod_iface(c, p->source_pod) : g_strdup("eth0");
        return;
    }
    p->source_kind = PROBE_SOURCE_EXTERNAL;
    *iif = g_strdup("eth0");
}

/* addrtype LOCAL: the node's addresses, loopback, and in IPVS mode kube-ipvs0's addresses. */
static gboolean
probe_env_is_local(gpointer data, const SimAddr *addr)
{
    const Probe *p = ((gpointer *)data)[1];
    const Cluster *c = ((gpointer *)data)[0];
    const NfRuleset *rules = ((gpointer *)data)[2];
    return cluster_node_is_local(c, p->node, addr) ||
           ipvs_table_is_local(ipvs_ruleset_table(rules), addr);
}

static gint
probe_sockaddr_cmp(gconstpointer a, gconstpointer b)
{
    char sa[SIM_SOCKADDR_STRLEN], sb[SIM_SOCKADDR_STRLEN];
    return strcmp(sim_sockaddr_to_string(a, sa), sim_sockaddr_to_string(b, sb));
}

/* Folds the branches into the probe's verdict, endpoint set and masquerade flag. */
static void
probe_summarise(Probe *p)
{
    gboolean any_reject = FALSE, any_drop = FALSE, any_accept = FALSE;
    for (guint i = 0; i < p->branches->len; i++) {
        const ProbeBranch *pb = g_ptr_array_index(p->branches, i);
        const NfBranch *b = pb->branch;
        switch (b->verdict) {
        case NF_VERDICT_DROP:
            any_drop = TRUE;
            continue;
        case NF_VERDICT_REJECT:
            any_reject = TRUE;
            continue;
        case NF_VERDICT_ACCEPT:
            any_accept = TRUE;
            break;
        case NF_VERDICT_NONE:
            break;
        }
        if (b->masquerade)
            p->masquerade = TRUE;
        if (b->dnat) {
            any_accept = TRUE;
            gboolean seen = FALSE;
            for (guint j = 0; j < p->endpoints->len && !seen; j++)
                seen = probe_sockaddr_cmp(&g_array_index(p->endpoints, SimSockAddr, j),
                                          &pb->endpoint) == 0;
            if (!seen)
                g_array_append_val(p->endpoints, pb->endpoint);
        }
    }
    g_array_sort(p->endpoints, probe_sockaddr_cmp);
    if (any_accept)
        p->verdict = NF_VERDICT_ACCEPT;
    else if (any_reject)
        p->verdict = NF_VERDICT_REJECT;
    else if (any_drop)
        p->verdict = NF_VERDICT_DROP;
    else
        p->verdict = NF_VERDICT_NONE;
}

Probe *
probe_run(const Cluster *c, const K8sNode *node, const SimSockAddr *from, const SimSockAddr *to,
          SimProto proto, GError **error)
{
    g_return_val_if_fail(c != NULL && node != NULL && from != NULL && to != NULL, NULL);
    NfRuleset *rules = kube_proxy_render(c, node, to->addr.family, error);
    if (rules == NULL)
        return NULL;
    Probe *p = probe_run_rules(c, node, rules, from, to, proto, error);
    if (p == NULL)
        nf_ruleset_free(rules);
    else
        p->ruleset = rules;
    return p;
}

/* See model/probe.h. */
Probe *
probe_run_rules(const Cluster *c, const K8sNode *node, const NfRuleset *rules,
                const SimSockAddr *from, const SimSockAddr *to, SimProto proto, GError **error)
{
    g_return_val_if_fail(c != NULL && node != NULL && rules != NULL, NULL);
    g_return_val_if_fail(from != NULL && to != NULL, NULL);
    if (from->addr.family != to->addr.family) {
        g_set_error(error, PROBE_ERROR, 0,
                    "source and destination are of different address families");
        return NULL;
    }
    g_autoptr(Probe) p = g_new0(Probe, 1);
    p->node = node;
    p->packet.src = *from;
    if (p->packet.src.port == 0)
        p->packet.src.port = PROBE_EPHEMERAL_PORT;
    p->packet.dst = *to;
    p->packet.proto = proto;
    p->packet.tcp_flags = proto == SIM_PROTO_TCP ? SIM_TCP_SYN : 0;
    p->packet.length = 60;
    p->endpoints = g_array_new(FALSE, FALSE, sizeof(SimSockAddr));
    p->branches = g_ptr_array_new_with_free_func(probe_branch_free);
    if (nf_ruleset_family(rules) != to->addr.family) {
        g_set_error(error, PROBE_ERROR, 0, "the rules are not of the destination's family");
        return NULL;
    }

    g_autofree char *iif = NULL;
    probe_classify(c, p, &iif);
    gpointer env_data[3] = {(gpointer)c, p, (gpointer)rules};
    NfEnv env = {.data = env_data, .is_local = probe_env_is_local};
    NfOrigin origin = p->source_kind == PROBE_SOURCE_NODE ? NF_ORIGIN_LOCAL : NF_ORIGIN_REMOTE;
    p->in_iface = iif ? g_intern_string(iif) : NULL;
    g_autoptr(GPtrArray) branches =
        nf_path_new_connection(rules, &p->packet, origin, iif, "eth0", &env);

    while (branches->len > 0) {
        ProbeBranch *pb = g_new0(ProbeBranch, 1);
        pb->branch = g_ptr_array_steal_index(branches, 0);
        if (pb->branch->dnat) {
            pb->endpoint = pb->branch->pkt.dst;
            pb->pod = cluster_find_pod_by_ip(c, &pb->endpoint.addr);
        }
        g_ptr_array_add(p->branches, pb);
    }
    probe_summarise(p);
    return g_steal_pointer(&p);
}
