/* SPDX-License-Identifier: Apache-2.0 */
/* The IPVS proxy mode in kube-proxy's users' terms: a node's ipsets (`ipset list`), virtual
 * services (`ipvsadm -Ln`) and kube-ipvs0 addresses (`ip addr show`), what `kpsim trace` says
 * about each IPVS step and each ipset-matching rule, and the real servers of a run's report.
 * The rendering itself is model/kube_proxy_ipvs.c.
 */
#include "model/kube_proxy.h"
#include "model/probe.h"
#include "model/report.h"
#include "sim/ipset.h"
#include "sim/ipvs.h"

#include <string.h>

#define IPVS_DUMMY_IFINDEX 3 /* kube-ipvs0's interface number in `ip addr` (lo 1, eth0 2) */

/* See kube_proxy.h. */
gboolean
kube_proxy_ipset_list(const NfRuleset *rs, GString *out)
{
    g_return_val_if_fail(rs != NULL && out != NULL, FALSE);
    if (ipvs_ruleset_table(rs) == NULL)
        return FALSE;
    ipset_list_all(rs, out);
    return TRUE;
}

/* See kube_proxy.h. */
gboolean
kube_proxy_ipvs_list(const NfRuleset *rs, GString *out)
{
    g_return_val_if_fail(rs != NULL && out != NULL, FALSE);
    const IpvsTable *t = ipvs_ruleset_table(rs);
    if (t == NULL)
        return FALSE;
    ipvs_table_list(t, NULL, out);
    return TRUE;
}

/* See kube_proxy.h. */
gboolean
kube_proxy_ipvs_addrs(const NfRuleset *rs, GString *out)
{
    g_return_val_if_fail(rs != NULL && out != NULL, FALSE);
    const IpvsTable *t = ipvs_ruleset_table(rs);
    if (t == NULL)
        return FALSE;
    ipvs_table_list_addrs(t, "kube-ipvs0", IPVS_DUMMY_IFINDEX, out);
    return TRUE;
}

/* ---------------------------------------------------------------- trace */

/* See kube_proxy.h. */
gboolean
kube_proxy_ipvs_step_rule(const NfStep *st, GString *out)
{
    g_return_val_if_fail(st != NULL && out != NULL, FALSE);
    if (st->ipvs_service == NULL)
        return FALSE;
    ipvs_step_describe(st, out);
    return TRUE;
}

/* What the scheduler's choice means for the connection. (static) */
static const char *
ipvs_step_meaning(const NfStep *st)
{
    if (st->ipvs_dest < 0)
        return "IPVS has no real server for this virtual service: the kernel answers ICMP port "
               "unreachable (ip_vs_leave), the client sees connection refused";
    if (ipvs_service_spec(st->ipvs_service)->flags & IPVS_SVC_PERSISTENT)
        return "IPVS, not iptables, translates the destination (DNAT in the kernel's ip_vs "
               "module, tracked by conntrack); persistence keeps a client on its real server "
               "while its template lives";
    return "IPVS, not iptables, translates the destination (DNAT in the kernel's ip_vs module, "
           "tracked by conntrack); the reply is un-DNATed on its way back through this node";
}

/* See kube_proxy.h. */
gboolean
kube_proxy_ipvs_trace_step(const NfStep *st, GString *out)
{
    g_return_val_if_fail(st != NULL && out != NULL, FALSE);
    if (st->ipvs_service == NULL)
        return FALSE;
    g_string_append_printf(out, "  %-6s %s\n         ", "ipvs", "ip_vs (after filter INPUT)");
    ipvs_step_describe(st, out);
    g_string_append_printf(out, "\n         => %s\n", ipvs_step_meaning(st));
    return TRUE;
}

/* The ipset a rule matches ("--match-set NAME"), or NULL. (transfer full) */
static char *
ipvs_rule_set(const char *rule)
{
    const char *at = strstr(rule, "--match-set ");
    if (at == NULL)
        return NULL;
    at += strlen("--match-set ");
    return g_strndup(at, strcspn(at, " "));
}

/* The target of a rule ("-j TARGET"), or NULL. (transfer full) */
static char *
ipvs_rule_target(const char *rule)
{
    const char *at = strstr(rule, " -j ");
    if (at == NULL)
        return NULL;
    at += strlen(" -j ");
    return g_strndup(at, strcspn(at, " "));
}

/* What membership of set means, as a phrase ("a clusterIP and port"). (static) */
static const char *
ipvs_set_meaning(const char *set)
{
    static const struct {
        const char *set, *meaning;
    } sets[] = {
        {"CLUSTER-IP", "a clusterIP and port"},
        {"EXTERNAL-IP-LOCAL", "an external IP and port of an externalTrafficPolicy Local Service"},
        {"EXTERNAL-IP", "an external IP and port"},
        {"LOAD-BALANCER-LOCAL", "a load-balancer IP and port of an externalTrafficPolicy Local "
                                "Service"},
        {"LOAD-BALANCER-FW", "a load-balancer IP and port with loadBalancerSourceRanges"},
        {"LOAD-BALANCER-SOURCE-CIDR", "a load-balancer IP and port and a source inside one of its "
                                      "loadBalancerSourceRanges"},
        {"LOAD-BALANCER-SOURCE-IP", "a load-balancer IP and port reached from the LB IP itself"},
        {"LOAD-BALANCER", "a load-balancer IP and port"},
        {"NODE-PORT-LOCAL", "a NodePort of an externalTrafficPolicy Local Service"},
        {"NODE-PORT", "a NodePort"},
        {"HEALTH-CHECK-NODE-PORT", "a healthCheckNodePort"},
        {"IPVS-IPS", "an address on kube-ipvs0 (a Service VIP)"},
        {"LOOP-BACK", "a pod reaching itself through its Service (hairpin)"},
    };
    const char *name = g_str_has_prefix(set, "KUBE-6-") ? set + 7 : set + 5;
    for (gsize i = 0; i < G_N_ELEMENTS(sets); i++)
        if (g_str_has_prefix(name, sets[i].set))
            return sets[i].meaning;
    return "a Service front end";
}

/* Explains a rule of IPVS mode that matches an ipset, or NULL. (transfer full) */
static char *
ipvs_explain_set_rule(const char *chain, const char *rule, const char *set, const char *target)
{
    const char *what = ipvs_set_meaning(set);
    gboolean local = strstr(set, "-LOCAL") != NULL;
    if (strcmp(target, "KUBE-MARK-MASQ") == 0) {
        if (strstr(set, "NODE-PORT") != NULL)
            return g_strdup_printf("the port is %s (%s), externalTrafficPolicy Cluster: mark for "
                                   "SNAT - the chosen pod may be on another node",
                                   what, set);
        return g_strdup_printf("the destination is %s (%s)%s: mark for SNAT", what, set,
                               strstr(rule, "! -s ") || strstr(rule, "! -i ")
                                   ? " and the source is outside the pod network"
                                   : "");
    }
    if (strcmp(target, "RETURN") == 0) {
        if (strcmp(chain, "KUBE-IPVS-FILTER") == 0)
            return g_strdup_printf("the destination is %s (%s): on to IPVS", what, set);
        if (local)
            return g_strdup_printf("%s (%s): not marked, the client's address is kept", what, set);
        return g_strdup_printf("the connection is %s (%s): allowed", what, set);
    }
    if (strcmp(target, "ACCEPT") == 0 && strcmp(chain, "KUBE-NODE-PORT") == 0)
        return g_strdup("the healthCheckNodePort: kube-proxy's health server answers here");
    if (strcmp(target, "ACCEPT") == 0)
        return g_strdup_printf("the destination is %s (%s): accepted unchanged by iptables - IPVS "
                               "translates it after filter INPUT",
                               what, set);
    if (strcmp(target, "REJECT") == 0)
        return g_strdup("the destination is an address on kube-ipvs0 (a Service VIP) but no "
                        "Service uses this port: rejected (iptables mode would route it on)");
    if (strcmp(target, "MASQUERADE") == 0)
        return g_strdup("hairpin: the pod reached itself through its Service (KUBE-LOOP-BACK): "
                        "SNAT, so that its reply comes back through the node");
    return g_strdup_printf("the destination is %s (%s)", what, set);
}

/* Explains a rule of IPVS mode without an ipset, or NULL. (transfer full) */
static char *
ipvs_explain_plain_rule(const char *chain, const char *rule, const char *target)
{
    if (strcmp(chain, "KUBE-SERVICES") == 0 && strcmp(target, "RETURN") == 0)
        return g_strdup("the source is the node's loopback: IPVS mode's rules stop here, so "
                        "NodePorts do not answer on localhost");
    if (strcmp(target, "KUBE-NODE-PORT") == 0 && strcmp(chain, "KUBE-SERVICES") == 0)
        return g_strdup("the destination is local to this node (one of its addresses, or a "
                        "Service VIP on kube-ipvs0): the NodePort sets are checked");
    if (strcmp(target, "KUBE-NODE-PORT") == 0)
        return g_strdup("kube-proxy's filter rules for healthCheckNodePorts");
    if (strcmp(chain, "KUBE-LOAD-BALANCER") == 0)
        return g_strdup("load-balancer traffic of an externalTrafficPolicy Cluster Service: mark "
                        "for SNAT");
    if (strcmp(target, "KUBE-IPVS-FILTER") == 0)
        return g_strdup("kube-proxy's IPVS access filter: on a Service VIP only the Service's "
                        "ports may be reached");
    if (strcmp(target, "KUBE-IPVS-OUT-FILTER") == 0)
        return g_strdup("kube-proxy's filter for the node's own connections to load-balancer IPs "
                        "with loadBalancerSourceRanges");
    if (strcmp(chain, "KUBE-SOURCE-RANGES-FIREWALL") == 0)
        return g_strdup("the source is outside the Service's loadBalancerSourceRanges: dropped");
    if (strcmp(chain, "KUBE-IPVS-OUT-FILTER") == 0)
        return g_strdup("the node's own address is outside the loadBalancerSourceRanges: its "
                        "connection to the load-balancer IP is dropped");
    (void)rule;
    return NULL;
}

/* See kube_proxy.h. */
char *
kube_proxy_ipvs_explain_rule(const char *chain, const char *rule)
{
    g_return_val_if_fail(chain != NULL && rule != NULL, NULL);
    g_autofree char *set = ipvs_rule_set(rule);
    g_autofree char *target = ipvs_rule_target(rule);
    if (target == NULL)
        return NULL;
    if (set != NULL)
        return ipvs_explain_set_rule(chain, rule, set, target);
    return ipvs_explain_plain_rule(chain, rule, target);
}

/* The nodes other than p's that a DNAT branch of p sends the connection to, comma-joined, or
 * NULL when every branch stays on p's node. (transfer full) */
static char *
ipvs_remote_endpoint_nodes(const Probe *p)
{
    g_autoptr(GString) nodes = g_string_new(NULL);
    for (guint i = 0; i < p->branches->len; i++) {
        const ProbeBranch *pb = p->branches->pdata[i];
        const char *home = pb->pod != NULL ? pb->pod->node_name : NULL;
        if (!pb->branch->dnat || home == NULL || strcmp(home, p->node->name) == 0 ||
            strstr(nodes->str, home) != NULL)
            continue;
        g_string_append_printf(nodes, "%s%s", nodes->len > 0 ? ", " : "", home);
    }
    return nodes->len > 0 ? g_strdup(nodes->str) : NULL;
}

/* See kube_proxy.h. */
gboolean
kube_proxy_ipvs_trace_note(const Cluster *c, const Probe *p, GString *out)
{
    g_return_val_if_fail(c != NULL && p != NULL && out != NULL, FALSE);
    if (c->proxy->mode != KP_MODE_IPVS || p->source_kind != PROBE_SOURCE_EXTERNAL || p->masquerade)
        return FALSE;
    g_autofree char *remote = ipvs_remote_endpoint_nodes(p);
    if (remote == NULL)
        return FALSE;
    g_string_append_printf(
        out,
        "IPVS mode: the client's address is kept (externalTrafficPolicy Local), yet the real "
        "server may be a pod on %s. This node has no endpoint of its own, so kube-proxy lists "
        "every endpoint anyway (so that local pods can use the Service, kube-proxy #97081). The "
        "pod's reply goes from its node straight to the client, from the pod's address, without "
        "passing back through %s to be un-DNATed: the client discards it and the connection "
        "fails (it times out). iptables and nftables modes drop the connection on this node "
        "instead (datapath-semantics 4).\n",
        remote, p->node->name);
    return TRUE;
}

/* ---------------------------------------------------------------- report */

/* Orders ReportIpvsDest pointers as ipvsadm -Ln lists them: by service, then real server. */
static gint
ipvs_report_compare(gconstpointer a, gconstpointer b)
{
    const ReportIpvsDest *x = *(const ReportIpvsDest *const *)a;
    const ReportIpvsDest *y = *(const ReportIpvsDest *const *)b;
    int r = strcmp(x->service, y->service);
    return r != 0 ? r : strcmp(x->real_server, y->real_server);
}

/* See kube_proxy.h. */
GPtrArray *
kube_proxy_ipvs_report(const NfRuleset *rs, IpvsState *st, guint *idle)
{
    g_return_val_if_fail(rs != NULL && idle != NULL, NULL);
    *idle = 0;
    const IpvsTable *t = ipvs_ruleset_table(rs);
    if (t == NULL || st == NULL)
        return NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(report_ipvs_dest_free);
    for (guint i = 0; i < ipvs_table_service_count(t); i++) {
        const IpvsService *svc = ipvs_table_service(t, i);
        const IpvsServiceSpec *spec = ipvs_service_spec(svc);
        char vip[SIM_SOCKADDR_STRLEN], dst[SIM_SOCKADDR_STRLEN];
        for (guint k = 0; k < ipvs_service_dest_count(svc); k++) {
            SimSockAddr a;
            guint32 weight, active = 0, inactive = 0;
            ipvs_service_dest(svc, k, &a, &weight);
            ipvs_state_dest_counts(st, spec->proto, &spec->vip, &a, &weight, &active, &inactive);
            if (weight > 0 && active == 0 && inactive == 0) {
                (*idle)++;
                continue;
            }
            ReportIpvsDest *d = g_new0(ReportIpvsDest, 1);
            d->service = g_strdup_printf("%s %s %s", sim_proto_k8s_name(spec->proto),
                                         sim_sockaddr_to_string(&spec->vip, vip),
                                         ipvs_sched_name(spec->sched));
            d->real_server = g_strdup(sim_sockaddr_to_string(&a, dst));
            d->weight = weight;
            d->active = active;
            d->inactive = inactive;
            g_ptr_array_add(out, d);
        }
    }
    g_ptr_array_sort(out, ipvs_report_compare);
    return out;
}
