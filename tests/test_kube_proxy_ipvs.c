/* SPDX-License-Identifier: Apache-2.0 */
/* The IPVS proxy mode (model/kube_proxy_ipvs.c): kube-ipvs0, the virtual and real servers,
 * the ipsets and the iptables rules kube-proxy's IPVS proxier programs, its configuration, and
 * probes through them.
 *
 * Expected values follow pkg/proxy/ipvs/proxier.go (v1.29-v1.33) and datapath-semantics.md
 * section 4: the seed example on each node, Local policies with and without local endpoints,
 * internalTrafficPolicy Local, ClientIP affinity as persistence, the scheduler setting,
 * nodePortAddresses, load-balancer and external IPs, and a Service without endpoints.
 */
#include <check.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "model/kube_proxy.h"
#include "model/loader.h"
#include "model/probe.h"
#include "model/report.h"
#include "model/run.h"
#include "sim/ipset.h"
#include "sim/ipvs.h"
#include "test_util.h"

#define SEED_IPVS KPSIM_SRCDIR "/scenarios/seed-nginx-nodeport-ipvs.yaml"
#define SEED_LOCAL_IPVS KPSIM_SRCDIR "/scenarios/seed-nginx-nodeport-local-ipvs.yaml"

/* ---------------------------------------------------------------- helpers */

/* node's IPv4 ruleset; fails the test on errors. (transfer full) */
static NfRuleset *
render(const Cluster *c, const char *node)
{
    g_autoptr(GError) error = NULL;
    const K8sNode *n = cluster_find_node(c, node);
    ck_assert_ptr_nonnull(n);
    NfRuleset *rs = kube_proxy_render(c, n, SIM_AF_INET, &error);
    ck_assert_msg(rs != NULL, "%s", error ? error->message : "?");
    ck_assert_ptr_nonnull(ipvs_ruleset_table(rs));
    return rs;
}

/* Orders char* array elements. */
static gint
str_ptr_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The real servers of virtual service "PROTO VIP:PORT" (proto tcp/udp) as "A:P,B:Q" sorted,
 * "" for none, or NULL when there is no such service. (transfer full) */
static char *
real_servers(const NfRuleset *rs, guint8 proto, const char *vip)
{
    SimSockAddr v = sockaddr(vip);
    IpvsService *svc = ipvs_table_lookup(ipvs_ruleset_table(rs), proto, &v);
    if (svc == NULL)
        return NULL;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < ipvs_service_dest_count(svc); i++) {
        SimSockAddr a;
        guint32 weight;
        char buf[SIM_SOCKADDR_STRLEN];
        ipvs_service_dest(svc, i, &a, &weight);
        ck_assert_uint_eq(weight, 1);
        g_ptr_array_add(list, g_strdup(sim_sockaddr_to_string(&a, buf)));
    }
    g_ptr_array_sort(list, str_ptr_compare);
    g_ptr_array_add(list, NULL);
    return g_strjoinv(",", (char **)list->pdata);
}

/* Asserts the real servers of vip. */
#define ck_assert_rs(rs, vip, want)                                                                \
    do {                                                                                           \
        g_autofree char *got_ = real_servers(rs, SIM_PROTO_TCP, vip);                              \
        ck_assert_msg(got_ != NULL, "no virtual service %s", vip);                                 \
        ck_assert_str_eq(got_, want);                                                              \
    } while (0)

/* The members of set name, one per line as `ipset list` prints them. (transfer full) */
static char *
set_members(const NfRuleset *rs, const char *name)
{
    const Ipset *s = ipset_lookup(rs, name);
    ck_assert_msg(s != NULL, "no ipset %s", name);
    g_autoptr(GString) out = g_string_new(NULL);
    ipset_list(s, out);
    const char *m = strstr(out->str, "Members:\n");
    ck_assert_ptr_nonnull(m);
    return g_strdup(m + strlen("Members:\n"));
}

/* table of rs as iptables-save prints it. (transfer full) */
static char *
save(const NfRuleset *rs, NfTableId table)
{
    GString *out = g_string_new(NULL);
    nf_ruleset_save(rs, table, out);
    return g_string_free(out, FALSE);
}

/* Asserts that text holds line (a whole line). */
static void
assert_line(const char *text, const char *line)
{
    g_autofree char *needle = g_strconcat("\n", line, "\n", NULL);
    ck_assert_msg(strstr(text, needle) != NULL, "missing line:\n%s\nin:\n%s", line, text);
}

/* Probes node for from -> to over TCP. (transfer full) */
static Probe *
probe(const Cluster *c, const char *node, const char *from, const char *to)
{
    g_autoptr(GError) error = NULL;
    SimSockAddr f, t;
    ck_assert(sim_sockaddr_parse(from, &f, TRUE));
    ck_assert(sim_sockaddr_parse(to, &t, FALSE));
    Probe *p = probe_run(c, cluster_find_node(c, node), &f, &t, SIM_PROTO_TCP, &error);
    ck_assert_msg(p != NULL, "%s", error ? error->message : "?");
    return p;
}

/* A scenario: three nodes, pods a (node1) and b (node2), Service web selecting them, with
 * extra Service spec lines and extra proxy settings. (transfer full) */
static char *
scenario_text(const char *proxy, const char *service_spec)
{
    return g_strdup_printf(
        "apiVersion: kpsim.io/v1alpha1\n"
        "kind: Scenario\n"
        "metadata: {name: t}\n"
        "spec:\n"
        "  cluster:\n"
        "    nodes:\n"
        "      - {name: node1, addresses: [192.168.1.101]}\n"
        "      - {name: node2, addresses: [192.168.1.102]}\n"
        "      - {name: node3, addresses: [192.168.1.103]}\n"
        "    clusterCIDR: 10.1.0.0/16\n"
        "    serviceCIDR: 10.96.0.0/12\n"
        "  proxy: {mode: ipvs%s}\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata: {name: a, labels: {app: web}}\n"
        "spec: {nodeName: node1, containers: [{name: c, image: nginx, ports: [{containerPort: "
        "80}]}]}\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata: {name: b, labels: {app: web}}\n"
        "spec: {nodeName: node2, containers: [{name: c, image: nginx, ports: [{containerPort: "
        "80}]}]}\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata: {name: web}\n"
        "spec:\n"
        "  selector: {app: web}\n"
        "  clusterIP: 10.96.0.50\n"
        "%s",
        proxy, service_spec);
}

/* The cluster of scenario_text(). (transfer full) */
static Cluster *
web_cluster(const char *proxy, const char *service_spec, Scenario **sc)
{
    g_autofree char *text = scenario_text(proxy, service_spec);
    return test_cluster_text(text, sc);
}

/* The pod IP of pod name. */
static const char *
pod_ip(const Cluster *c, const char *name, char *buf)
{
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = c->pods->pdata[i];
        if (g_str_equal(p->meta.name, name))
            return sim_addr_to_string(&p->ip, buf);
    }
    ck_abort_msg("no pod %s", name);
    return NULL;
}

/* ---------------------------------------------------------------- the seed */

START_TEST(test_seed_virtual_servers)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_IPVS, &sc);
    static const char *const nodes[] = {"node1", "node2", "node3"};
    static const char *const addrs[] = {"192.168.1.101", "192.168.1.102", "192.168.1.103"};
    static const char *const gateways[] = {"10.1.0.1", "10.1.1.1", "10.1.2.1"};
    for (guint i = 0; i < G_N_ELEMENTS(nodes); i++) {
        g_autoptr(NfRuleset) rs = render(c, nodes[i]);
        const IpvsTable *t = ipvs_ruleset_table(rs);
        /* clusterIP, the node's address and its pod-network gateway; never 127.0.0.1 */
        ck_assert_uint_eq(ipvs_table_service_count(t), 3);
        ck_assert_rs(rs, "10.107.227.230:80", "10.1.0.2:80,10.1.1.2:80");
        g_autofree char *np = g_strdup_printf("%s:30080", addrs[i]);
        g_autofree char *gw = g_strdup_printf("%s:30080", gateways[i]);
        ck_assert_rs(rs, np, "10.1.0.2:80,10.1.1.2:80");
        ck_assert_rs(rs, gw, "10.1.0.2:80,10.1.1.2:80");
        ck_assert_ptr_null(real_servers(rs, SIM_PROTO_TCP, "127.0.0.1:30080"));
        SimSockAddr v = sockaddr("10.107.227.230:80");
        const IpvsServiceSpec *spec = ipvs_service_spec(ipvs_table_lookup(t, SIM_PROTO_TCP, &v));
        ck_assert_int_eq(spec->sched, IPVS_SCHED_RR);
        ck_assert_uint_eq(spec->flags & IPVS_SVC_PERSISTENT, 0);
        /* kube-ipvs0 holds the clusterIP only; the node's own addresses stay off it */
        ck_assert(ipvs_table_is_local(t, &v.addr));
        SimAddr node_ip = addr(addrs[i]);
        ck_assert(!ipvs_table_is_local(t, &node_ip));
    }
}
END_TEST

START_TEST(test_seed_ipsets)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_IPVS, &sc);
    g_autoptr(NfRuleset) rs1 = render(c, "node1");
    g_autoptr(NfRuleset) rs3 = render(c, "node3");
    static const char *const all[] = {"KUBE-LOOP-BACK",
                                      "KUBE-CLUSTER-IP",
                                      "KUBE-EXTERNAL-IP",
                                      "KUBE-EXTERNAL-IP-LOCAL",
                                      "KUBE-LOAD-BALANCER",
                                      "KUBE-LOAD-BALANCER-FW",
                                      "KUBE-LOAD-BALANCER-LOCAL",
                                      "KUBE-LOAD-BALANCER-SOURCE-IP",
                                      "KUBE-LOAD-BALANCER-SOURCE-CIDR",
                                      "KUBE-NODE-PORT-TCP",
                                      "KUBE-NODE-PORT-LOCAL-TCP",
                                      "KUBE-NODE-PORT-UDP",
                                      "KUBE-NODE-PORT-LOCAL-UDP",
                                      "KUBE-NODE-PORT-SCTP-HASH",
                                      "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
                                      "KUBE-HEALTH-CHECK-NODE-PORT",
                                      "KUBE-IPVS-IPS"};
    ck_assert_uint_eq(ipset_count(rs1), G_N_ELEMENTS(all));
    for (gsize i = 0; i < G_N_ELEMENTS(all); i++)
        ck_assert_msg(ipset_lookup(rs1, all[i]) != NULL, "no %s", all[i]);
    g_autofree char *cip = set_members(rs1, "KUBE-CLUSTER-IP");
    g_autofree char *loop1 = set_members(rs1, "KUBE-LOOP-BACK");
    g_autofree char *loop3 = set_members(rs3, "KUBE-LOOP-BACK");
    g_autofree char *np = set_members(rs1, "KUBE-NODE-PORT-TCP");
    g_autofree char *np_local = set_members(rs1, "KUBE-NODE-PORT-LOCAL-TCP");
    g_autofree char *ips = set_members(rs1, "KUBE-IPVS-IPS");
    ck_assert_str_eq(cip, "10.107.227.230,tcp:80\n");
    ck_assert_str_eq(loop1, "10.1.0.2,tcp:80,10.1.0.2\n"); /* node1's own pod only */
    ck_assert_str_eq(loop3, "");
    ck_assert_str_eq(np, "30080\n");
    ck_assert_str_eq(np_local, "");
    ck_assert_str_eq(ips, "10.107.227.230\n");
}
END_TEST

START_TEST(test_seed_nat_rules)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_IPVS, &sc);
    g_autoptr(NfRuleset) rs = render(c, "node1");
    g_autofree char *nat = save(rs, NF_TABLE_NAT);
    static const char *const want[] = {
        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
        "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
        "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j "
        "KUBE-POSTROUTING",
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-NODE-PORT -p tcp -m comment --comment \"Kubernetes nodeport TCP port for "
        "masquerade purpose\" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ",
        "-A KUBE-POSTROUTING -m comment --comment \"Kubernetes endpoints dst ip:port, source ip "
        "for solving hairpin purpose\" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j "
        "MASQUERADE",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "
        "-j MASQUERADE --random-fully",
        "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
        "-A KUBE-SERVICES ! -s 10.1.0.0/16 -m comment --comment \"Kubernetes service cluster ip "
        "+ port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j "
        "KUBE-MARK-MASQ",
        "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
        "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
        "-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
        assert_line(nat, want[i]);
    /* the first rule of KUBE-SERVICES dismisses localhost: no localhost NodePorts */
    const char *first = strstr(nat, "\n-A KUBE-SERVICES ");
    ck_assert_ptr_nonnull(first);
    ck_assert(g_str_has_prefix(first + 1, "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN\n"));
    /* no per-Service chains: a constant number of rules */
    ck_assert_ptr_null(strstr(nat, "KUBE-SVC-"));
    ck_assert_ptr_null(strstr(nat, "KUBE-SEP-"));
    ck_assert_ptr_null(strstr(nat, "KUBE-LOAD-BALANCER-LOCAL")); /* empty sets: no rule */
}
END_TEST

START_TEST(test_seed_filter_rules)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_IPVS, &sc);
    g_autoptr(NfRuleset) rs = render(c, "node2");
    g_autofree char *filter = save(rs, NF_TABLE_FILTER);
    static const char *const want[] = {
        "-A INPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER",
        "-A INPUT -m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL",
        "-A INPUT -m comment --comment \"kubernetes health check rules\" -j KUBE-NODE-PORT",
        "-A INPUT -j KUBE-FIREWALL",
        "-A FORWARD -m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL",
        "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD",
        "-A OUTPUT -m comment --comment \"kubernetes ipvs access filter\" -j "
        "KUBE-IPVS-OUT-FILTER",
        "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
        "0x4000/0x4000 -j ACCEPT",
        "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m "
        "conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j "
        "REJECT --reject-with icmp-port-unreachable",
        "-A KUBE-NODE-PORT -m comment --comment \"Kubernetes health check node port\" -m set "
        "--match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT",
        "-A KUBE-SOURCE-RANGES-FIREWALL -j DROP",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
        assert_line(filter, want[i]);
    ck_assert_ptr_null(strstr(filter, "KUBE-EXTERNAL-SERVICES"));
}
END_TEST

/* ---------------------------------------------------------------- traffic policies */

START_TEST(test_local_policy_with_and_without_local_endpoints)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_LOCAL_IPVS, &sc);
    g_autoptr(NfRuleset) with_pod = render(c, "node1");
    g_autoptr(NfRuleset) without = render(c, "node3");
    /* the clusterIP ignores externalTrafficPolicy */
    ck_assert_rs(with_pod, "10.107.227.230:80", "10.1.0.2:80,10.1.1.2:80");
    ck_assert_rs(without, "10.107.227.230:80", "10.1.0.2:80,10.1.1.2:80");
    /* with a local endpoint: only it */
    ck_assert_rs(with_pod, "192.168.1.101:30080", "10.1.0.2:80");
    ck_assert_rs(with_pod, "10.1.0.1:30080", "10.1.0.2:80");
    /* without: every endpoint anyway (kube-proxy #97081), unlike iptables' DROP */
    ck_assert_rs(without, "192.168.1.103:30080", "10.1.0.2:80,10.1.1.2:80");
    g_autofree char *local = set_members(without, "KUBE-NODE-PORT-LOCAL-TCP");
    g_autofree char *all = set_members(without, "KUBE-NODE-PORT-TCP");
    ck_assert_str_eq(local, "30080\n");
    ck_assert_str_eq(all, "30080\n");
    g_autofree char *nat = save(without, NF_TABLE_NAT);
    assert_line(nat, "-A KUBE-NODE-PORT -p tcp -m comment --comment \"Kubernetes nodeport TCP "
                     "port with externalTrafficPolicy=local\" -m set --match-set "
                     "KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN");
    /* the RETURN comes before the masquerade mark */
    ck_assert(strstr(nat, "KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN") <
              strstr(nat, "KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ"));
}
END_TEST

START_TEST(test_local_without_endpoints_probe_keeps_client_address)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_LOCAL_IPVS, &sc);
    g_autoptr(Probe) p = probe(c, "node3", "203.0.113.10", "192.168.1.103:30080");
    ck_assert_int_eq(p->verdict, NF_VERDICT_ACCEPT);
    ck_assert_uint_eq(p->endpoints->len, 2);
    ck_assert(!p->masquerade); /* forwarded without SNAT: the reply goes another way */
    g_autoptr(Probe) q = probe(c, "node1", "203.0.113.10", "192.168.1.101:30080");
    ck_assert_uint_eq(q->endpoints->len, 1);
    ck_assert(!q->masquerade);
}
END_TEST

START_TEST(test_internal_traffic_policy_local)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c =
        web_cluster("", "  internalTrafficPolicy: Local\n  ports: [{port: 80}]\n", &sc);
    g_autoptr(NfRuleset) rs1 = render(c, "node1");
    g_autoptr(NfRuleset) rs3 = render(c, "node3");
    char a[SIM_ADDR_STRLEN];
    g_autofree char *want = g_strdup_printf("%s:80", pod_ip(c, "a", a));
    ck_assert_rs(rs1, "10.96.0.50:80", want);
    ck_assert_rs(rs3, "10.96.0.50:80", ""); /* no fallback to other nodes */
}
END_TEST

START_TEST(test_external_local_with_internal_local_gets_nothing)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = web_cluster("",
                                       "  type: NodePort\n"
                                       "  internalTrafficPolicy: Local\n"
                                       "  externalTrafficPolicy: Local\n"
                                       "  ports: [{port: 80, nodePort: 30111}]\n",
                                       &sc);
    g_autoptr(NfRuleset) rs3 = render(c, "node3");
    ck_assert_rs(rs3, "192.168.1.103:30111", "");
    ck_assert_rs(rs3, "10.96.0.50:80", "");
}
END_TEST

START_TEST(test_client_ip_affinity_is_persistence)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c =
        web_cluster("",
                    "  sessionAffinity: ClientIP\n"
                    "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}\n"
                    "  ports: [{port: 80}]\n",
                    &sc);
    g_autoptr(NfRuleset) rs = render(c, "node1");
    SimSockAddr v = sockaddr("10.96.0.50:80");
    const IpvsServiceSpec *spec =
        ipvs_service_spec(ipvs_table_lookup(ipvs_ruleset_table(rs), SIM_PROTO_TCP, &v));
    ck_assert_uint_eq(spec->flags & IPVS_SVC_PERSISTENT, IPVS_SVC_PERSISTENT);
    ck_assert_uint_eq(spec->timeout, 600);
    GString *out = g_string_new(NULL);
    ck_assert(kube_proxy_ipvs_list(rs, out));
    ck_assert_ptr_nonnull(strstr(out->str, "TCP  10.96.0.50:80 rr persistent 600\n"));
    g_string_free(out, TRUE);
}
END_TEST

/* ---------------------------------------------------------------- configuration */

START_TEST(test_scheduler_setting)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = web_cluster(", ipvs: {scheduler: lc}", "  ports: [{port: 80}]\n", &sc);
    g_autoptr(NfRuleset) rs = render(c, "node1");
    SimSockAddr v = sockaddr("10.96.0.50:80");
    const IpvsServiceSpec *spec =
        ipvs_service_spec(ipvs_table_lookup(ipvs_ruleset_table(rs), SIM_PROTO_TCP, &v));
    ck_assert_int_eq(spec->sched, IPVS_SCHED_LC);
    ck_assert(kube_proxy_ipvs_scheduler_valid(""));
    ck_assert(kube_proxy_ipvs_scheduler_valid("sed"));
    ck_assert(!kube_proxy_ipvs_scheduler_valid("mh"));
    ck_assert(!kube_proxy_ipvs_scheduler_valid("RR"));
}
END_TEST

START_TEST(test_bad_scheduler_is_a_config_error)
{
    g_autofree char *text = scenario_text(", ipvs: {scheduler: random}", "  ports: [{port: 80}]\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_ptr_null(sc);
    ck_assert_str_eq(error->message,
                     "t.yaml:12:41: error: spec.proxy.ipvs.scheduler: Invalid value: \"random\": "
                     "must be in [rr wrr lc wlc lblc lblcr sh dh sed nq ], scheduler is not "
                     "supported");
}
END_TEST

START_TEST(test_bad_scheduler_outside_ipvs_mode_waits_for_render)
{
    g_autoptr(Scenario) sc = NULL;
    g_autofree char *text = scenario_text(", ipvs: {scheduler: mh}", "  ports: [{port: 80}]\n");
    g_autoptr(GString) s = g_string_new(text);
    ck_assert_uint_eq(g_string_replace(s, "mode: ipvs", "mode: iptables", 1), 1);
    g_autoptr(Cluster) c = test_cluster_text(s->str, &sc); /* iptables mode ignores the section */
    c->proxy->mode = KP_MODE_IPVS; /* as `kpsim compare` or --set proxy.mode=ipvs do */
    g_autoptr(GError) error = NULL;
    NfRuleset *rs = kube_proxy_render(c, cluster_find_node(c, "node1"), SIM_AF_INET, &error);
    ck_assert_ptr_null(rs);
    ck_assert(g_error_matches(error, KUBE_PROXY_ERROR, KUBE_PROXY_ERROR_CONFIG));
    ck_assert_ptr_nonnull(strstr(error->message, "\"mh\": must be in [rr wrr"));
}
END_TEST

START_TEST(test_ipvs_section_settings_are_kept)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = web_cluster(", ipvs: {strictARP: true, tcpTimeout: 10m, tcpFinTimeout: "
                                       "30s, udpTimeout: 0s, excludeCIDRs: [10.0.0.0/8]}",
                                       "  ports: [{port: 80}]\n", &sc);
    ck_assert(c->proxy->ipvs_strict_arp);
    ck_assert_int_eq(c->proxy->ipvs_tcp_timeout, 600 * SIM_SEC);
    ck_assert_int_eq(c->proxy->ipvs_tcp_fin_timeout, 30 * SIM_SEC);
    ck_assert_int_eq(c->proxy->ipvs_udp_timeout, 0);
}
END_TEST

START_TEST(test_bad_exclude_cidr_is_an_error)
{
    g_autofree char *text =
        scenario_text(", ipvs: {excludeCIDRs: [10.0.0.0/33]}", "  ports: [{port: 80}]\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_ptr_null(sc);
    ck_assert_ptr_nonnull(strstr(error->message, "t.yaml:12:"));
    ck_assert_ptr_nonnull(strstr(error->message, "excludeCIDRs[0]"));
}
END_TEST

START_TEST(test_node_port_addresses_restrict_virtual_services)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c =
        web_cluster(", nodePortAddresses: [192.168.1.0/24]",
                    "  type: NodePort\n  ports: [{port: 80, nodePort: 30222}]\n", &sc);
    g_autoptr(NfRuleset) rs = render(c, "node2");
    ck_assert_uint_eq(ipvs_table_service_count(ipvs_ruleset_table(rs)), 2);
    ck_assert_rs(rs, "192.168.1.102:30222", "10.1.0.2:80,10.1.1.2:80");
    ck_assert_ptr_null(real_servers(rs, SIM_PROTO_TCP, "10.1.1.1:30222"));
}
END_TEST

/* ---------------------------------------------------------------- front ends */

/* A LoadBalancer Service with ETP Local, source ranges, and two externalIPs, one of them node1's
 * own address. */
static const char lb_spec[] = "  type: LoadBalancer\n"
                              "  externalTrafficPolicy: Local\n"
                              "  healthCheckNodePort: 32000\n"
                              "  externalIPs: [198.51.100.9, 192.168.1.101]\n"
                              "  loadBalancerSourceRanges: [203.0.113.0/24]\n"
                              "  ports: [{port: 80, nodePort: 30333}]\n"
                              "status: {loadBalancer: {ingress: [{ip: 192.0.2.50}]}}\n";

START_TEST(test_load_balancer_and_external_ips)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = web_cluster("", lb_spec, &sc);
    g_autoptr(NfRuleset) rs = render(c, "node1");
    const IpvsTable *t = ipvs_ruleset_table(rs);
    ck_assert_rs(rs, "192.0.2.50:80", "10.1.0.2:80");
    ck_assert_rs(rs, "198.51.100.9:80", "10.1.0.2:80");
    ck_assert_rs(rs, "192.168.1.101:80", "10.1.0.2:80");
    ck_assert_rs(rs, "192.168.1.101:30333", "10.1.0.2:80");
    ck_assert_rs(rs, "10.96.0.50:80", "10.1.0.2:80,10.1.1.2:80");
    ck_assert_uint_eq(ipvs_table_service_count(t), 6);
    static const struct {
        const char *set, *members;
    } want[] = {
        {"KUBE-LOAD-BALANCER", "192.0.2.50,tcp:80\n"},
        {"KUBE-LOAD-BALANCER-LOCAL", "192.0.2.50,tcp:80\n"},
        {"KUBE-LOAD-BALANCER-FW", "192.0.2.50,tcp:80\n"},
        {"KUBE-LOAD-BALANCER-SOURCE-CIDR", "192.0.2.50,tcp:80,203.0.113.0/24\n"},
        {"KUBE-LOAD-BALANCER-SOURCE-IP", ""},
        {"KUBE-EXTERNAL-IP", ""},
        {"KUBE-EXTERNAL-IP-LOCAL", "192.168.1.101,tcp:80\n198.51.100.9,tcp:80\n"},
        {"KUBE-HEALTH-CHECK-NODE-PORT", "32000\n"},
        {"KUBE-NODE-PORT-LOCAL-TCP", "30333\n"},
        /* node1's own address stays off kube-ipvs0 */
        {"KUBE-IPVS-IPS", "10.96.0.50\n192.0.2.50\n198.51.100.9\n"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *m = set_members(rs, want[i].set);
        ck_assert_msg(g_str_equal(m, want[i].members), "%s: %s", want[i].set, m);
    }
    g_autofree char *filter = save(rs, NF_TABLE_FILTER);
    assert_line(filter, "-A KUBE-PROXY-FIREWALL -m comment --comment \"Kubernetes service load "
                        "balancer ip + port for load balancer with sourceRange\" -m set "
                        "--match-set KUBE-LOAD-BALANCER-FW dst,dst -j "
                        "KUBE-SOURCE-RANGES-FIREWALL");
    assert_line(filter, "-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment \"Kubernetes "
                        "service load balancer ip + port + source cidr for packet filter "
                        "purpose\" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR "
                        "dst,dst,src -j RETURN");
    ck_assert_ptr_nonnull(strstr(filter, "\n-A KUBE-IPVS-OUT-FILTER -s 192.0.2.50/32 -m ipvs "));
    g_autofree char *nat = save(rs, NF_TABLE_NAT);
    assert_line(nat, "-A KUBE-SERVICES -m comment --comment \"Kubernetes service lb portal\" -m "
                     "set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER");
    assert_line(nat, "-A KUBE-LOAD-BALANCER -m comment --comment \"Kubernetes service load "
                     "balancer ip + port with externalTrafficPolicy=local\" -m set --match-set "
                     "KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN");
    assert_line(nat, "-A KUBE-SERVICES -m comment --comment \"Kubernetes service external ip + "
                     "port with externalTrafficPolicy=local\" -m set --match-set "
                     "KUBE-EXTERNAL-IP-LOCAL dst,dst -m addrtype --dst-type LOCAL -j ACCEPT");
    assert_line(nat, "-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT");
}
END_TEST

START_TEST(test_external_ip_of_another_node_is_bound)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = web_cluster("", lb_spec, &sc);
    g_autoptr(NfRuleset) rs = render(c, "node2");
    SimAddr other = addr("192.168.1.101");
    ck_assert(ipvs_table_is_local(ipvs_ruleset_table(rs), &other));
}
END_TEST

START_TEST(test_source_range_holding_the_node_allows_the_lb_ip)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(GString) spec = g_string_new(lb_spec);
    g_string_replace(spec, "[203.0.113.0/24]", "[192.168.1.0/24]", 1);
    g_autoptr(Cluster) c = web_cluster("", spec->str, &sc);
    g_autoptr(NfRuleset) rs = render(c, "node1");
    g_autofree char *ip = set_members(rs, "KUBE-LOAD-BALANCER-SOURCE-IP");
    ck_assert_str_eq(ip, "192.0.2.50,tcp:80,192.0.2.50\n");
    g_autofree char *filter = save(rs, NF_TABLE_FILTER);
    ck_assert_ptr_null(strstr(filter, "-A KUBE-IPVS-OUT-FILTER"));
}
END_TEST

START_TEST(test_service_without_endpoints)
{
    g_autoptr(Scenario) sc2 = NULL;
    g_autoptr(GString) text = g_string_new(NULL);
    g_autofree char *base = scenario_text("", "  type: NodePort\n  ports: [{port: 80, nodePort: "
                                              "30444}]\n");
    g_string_assign(text, base);
    g_string_replace(text, "selector: {app: web}", "selector: {app: nobody}", 1);
    g_autoptr(Cluster) c2 = test_cluster_text(text->str, &sc2);
    g_autoptr(NfRuleset) rs2 = render(c2, "node1");
    ck_assert_rs(rs2, "10.96.0.50:80", "");
    ck_assert_rs(rs2, "192.168.1.101:30444", "");
    g_autofree char *cip = set_members(rs2, "KUBE-CLUSTER-IP");
    ck_assert_str_eq(cip, "10.96.0.50,tcp:80\n"); /* still a VIP, still on kube-ipvs0 */
    g_autoptr(Probe) p = probe(c2, "node1", "203.0.113.10", "192.168.1.101:30444");
    ck_assert_uint_eq(p->endpoints->len, 0);
    ck_assert_int_eq(p->verdict, NF_VERDICT_REJECT); /* ip_vs_leave(): ICMP port unreachable */
}
END_TEST

/* ---------------------------------------------------------------- probes */

START_TEST(test_probe_cluster_ip_unknown_port_is_rejected)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_IPVS, &sc);
    g_autoptr(Probe) p = probe(c, "node1", "10.1.0.2", "10.107.227.230:81");
    ck_assert_int_eq(p->verdict, NF_VERDICT_REJECT); /* KUBE-IPVS-FILTER */
    g_autoptr(Probe) q = probe(c, "node1", "10.1.0.2", "10.107.227.230:80");
    ck_assert_int_eq(q->verdict, NF_VERDICT_ACCEPT);
    ck_assert_uint_eq(q->endpoints->len, 2);
    ck_assert(q->masquerade); /* hairpin branch: the pod may reach itself (KUBE-LOOP-BACK) */
}
END_TEST

START_TEST(test_probe_localhost_node_port_is_not_served)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_IPVS, &sc);
    g_autoptr(Probe) p = probe(c, "node1", "127.0.0.1", "127.0.0.1:30080");
    ck_assert_uint_eq(p->endpoints->len, 0);
    g_autoptr(Probe) q = probe(c, "node1", "203.0.113.10", "192.168.1.101:30080");
    ck_assert_int_eq(q->verdict, NF_VERDICT_ACCEPT);
    ck_assert_uint_eq(q->endpoints->len, 2);
    ck_assert(q->masquerade);
}
END_TEST

/* ---------------------------------------------------------------- IPv6 */

/* web6's EndpointSlice: fd00:10:244:1::5 on node1 and fd00:10:244:2::7 on node2, port 8080.
 * (transfer full) */
static K8sEndpointSlice *
ipv6_slice(void)
{
    K8sEndpointSlice *sl = k8s_endpoint_slice_new();
    sl->meta.name = g_strdup("web6-a");
    sl->service_name = g_strdup("web6");
    sl->address_type = SIM_AF_INET6;
    K8sEndpointPort *ep = g_new0(K8sEndpointPort, 1);
    *ep = (K8sEndpointPort){.name = g_strdup("http"), .port = 8080, .protocol = SIM_PROTO_TCP};
    g_ptr_array_add(sl->ports, ep);
    static const char *const eps[][2] = {{"fd00:10:244:1::5", "node1"},
                                         {"fd00:10:244:2::7", "node2"}};
    for (guint i = 0; i < G_N_ELEMENTS(eps); i++) {
        K8sEndpoint *e = k8s_endpoint_new();
        SimAddr a = addr(eps[i][0]);
        g_array_append_val(e->addresses, a);
        e->node_name = g_strdup(eps[i][1]);
        g_ptr_array_add(sl->endpoints, e);
    }
    return sl;
}

/* An IPv6 cluster built by hand: node1 (fd00:10::11, pod CIDR fd00:10:244:1::/64) and node2,
 * LoadBalancer Service web6 with a source range, endpoints on both nodes. The cluster owns
 * everything but the configuration kp. (transfer full) */
static Cluster *
ipv6_cluster(KubeProxyConfig *kp)
{
    kube_proxy_config_init(kp);
    kp->mode = KP_MODE_IPVS;
    SimCidr cc = cidr("fd00:10:244::/56");
    g_array_append_val(kp->cluster_cidrs, cc);
    kp->cluster_cidr_set = TRUE;
    Cluster *c = g_new0(Cluster, 1);
    c->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_node_free);
    c->pods = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_pod_free);
    c->deployments = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_deployment_free);
    c->services = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_free);
    c->slices = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_slice_free);
    c->warnings = g_ptr_array_new_with_free_func(g_free);
    c->proxy = kp;
    static const char *const nodes[][3] = {{"node1", "fd00:10::11", "fd00:10:244:1::/64"},
                                           {"node2", "fd00:10::12", "fd00:10:244:2::/64"}};
    for (guint i = 0; i < G_N_ELEMENTS(nodes); i++) {
        K8sNode *n = k8s_node_new();
        n->name = g_strdup(nodes[i][0]);
        n->ready = TRUE;
        n->pod_cidr = cidr(nodes[i][2]);
        SimAddr a = addr(nodes[i][1]);
        g_array_append_val(n->addresses, a);
        g_ptr_array_add(c->nodes, n);
    }
    K8sService *s = k8s_service_new();
    s->meta.name = g_strdup("web6");
    s->type = K8S_SVC_LOAD_BALANCER;
    SimAddr cip = addr("fd00:96::10");
    g_array_append_val(s->cluster_ips, cip);
    SimCidr range = cidr("2001:db8:77::/48");
    g_array_append_val(s->source_ranges, range);
    K8sLoadBalancerIngress *in = g_new0(K8sLoadBalancerIngress, 1);
    in->ip = addr("2001:db8:1::50");
    g_ptr_array_add(s->lb_ingress, in);
    K8sServicePort *sp = g_new0(K8sServicePort, 1);
    *sp = (K8sServicePort){.name = g_strdup("http"),
                           .protocol = SIM_PROTO_TCP,
                           .port = 80,
                           .target_port = 8080,
                           .node_port = 30081};
    g_ptr_array_add(s->ports, sp);
    g_ptr_array_add(c->services, s);
    g_ptr_array_add(c->slices, ipv6_slice());
    return c;
}

START_TEST(test_ipv6_sets_and_virtual_services)
{
    KubeProxyConfig kp;
    g_autoptr(Cluster) c = ipv6_cluster(&kp);
    g_autoptr(GError) error = NULL;
    g_autoptr(NfRuleset) rs =
        kube_proxy_render(c, cluster_find_node(c, "node1"), SIM_AF_INET6, &error);
    ck_assert_msg(rs != NULL, "%s", error ? error->message : "?");
    /* IPv6 sets are KUBE-6-..., cut to ipset's 31 characters (NewIPSet) */
    ck_assert_ptr_nonnull(ipset_lookup(rs, "KUBE-6-CLUSTER-IP"));
    ck_assert_ptr_nonnull(ipset_lookup(rs, "KUBE-6-LOAD-BALANCER-SOURCE-CID"));
    ck_assert_ptr_null(ipset_lookup(rs, "KUBE-CLUSTER-IP"));
    g_autofree char *cips = set_members(rs, "KUBE-6-CLUSTER-IP");
    ck_assert_str_eq(cips, "fd00:96::10,tcp:80\n");
    const IpvsTable *t = ipvs_ruleset_table(rs);
    /* clusterIP, LB IP, NodePort on the node address and on the pod-network gateway */
    ck_assert_uint_eq(ipvs_table_service_count(t), 4);
    SimSockAddr gw = sockaddr("[fd00:10:244:1::1]:30081");
    ck_assert_ptr_nonnull(ipvs_table_lookup(t, SIM_PROTO_TCP, &gw));
    SimSockAddr v = sockaddr("[fd00:96::10]:80");
    ck_assert_uint_eq(ipvs_service_dest_count(ipvs_table_lookup(t, SIM_PROTO_TCP, &v)), 2);
    g_autofree char *nat = save(rs, NF_TABLE_NAT);
    assert_line(nat, "-A KUBE-SERVICES -s ::1/128 -j RETURN");
    assert_line(nat, "-A KUBE-SERVICES ! -s fd00:10:244::/56 -m comment --comment \"Kubernetes "
                     "service cluster ip + port for masquerade purpose\" -m set --match-set "
                     "KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ");
    g_autofree char *filter = save(rs, NF_TABLE_FILTER);
    ck_assert_ptr_null(strstr(filter, "KUBE-FIREWALL")); /* kubelet's guard is IPv4 only */
    ck_assert_ptr_nonnull(strstr(filter, "-A KUBE-IPVS-OUT-FILTER -s 2001:db8:1::50/128 -m ipvs"));
    g_autoptr(NfRuleset) rs4 =
        kube_proxy_render(c, cluster_find_node(c, "node1"), SIM_AF_INET, &error);
    ck_assert_uint_eq(ipvs_table_service_count(ipvs_ruleset_table(rs4)), 0);
    g_clear_pointer(&c, cluster_free);
    kube_proxy_config_clear(&kp);
}
END_TEST

/* ---------------------------------------------------------------- run */

/* Runs the scenario at path and returns its report. (transfer full) */
static RunReport *
run_file(const char *path, const char *set)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "?");
    if (set != NULL)
        ck_assert_msg(run_override(sc, set, &error), "%s", error ? error->message : "?");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "?");
    g_autoptr(Run) r = run_new(c, &error);
    ck_assert_msg(r != NULL, "%s", error ? error->message : "?");
    run_execute(r, NULL, NULL);
    return run_report(r);
}

/* The connections pod name received through node (ReportPodEntry). */
static guint64
pod_via(const RunReport *rep, const char *pod, const char *node)
{
    for (guint i = 0; i < rep->pods->len; i++) {
        const ReportPod *p = rep->pods->pdata[i];
        if (!g_str_equal(p->name, pod))
            continue;
        for (guint k = 0; k < p->entries->len; k++) {
            const ReportPodEntry *e = &g_array_index(p->entries, ReportPodEntry, k);
            if (g_str_equal(((const ReportNode *)rep->nodes->pdata[e->node])->name, node))
                return e->connections;
        }
    }
    return 0;
}

START_TEST(test_seed_run_round_robin)
{
    g_autoptr(RunReport) rep = run_file(SEED_IPVS, NULL);
    ck_assert_str_eq(rep->proxy_mode, "ipvs");
    const ReportTraffic *t = rep->traffic->pdata[0];
    ck_assert_uint_eq(t->succeeded, t->sent);
    ck_assert_uint_eq(rep->pods->len, 2);
    const ReportPod *a = rep->pods->pdata[0], *b = rep->pods->pdata[1];
    /* rr alternates on each node: the two pods get the same count through every node */
    static const char *const nodes[] = {"node1", "node2", "node3"};
    for (guint i = 0; i < G_N_ELEMENTS(nodes); i++) {
        guint64 x = pod_via(rep, a->name, nodes[i]), y = pod_via(rep, b->name, nodes[i]);
        ck_assert_uint_gt(x, 400);
        ck_assert(x == y || x == y + 1 || y == x + 1);
    }
    ck_assert_uint_eq(a->source_preserved + b->source_preserved, 0); /* ETP Cluster: SNAT */
    /* the report lists each node's real servers */
    const ReportNode *n1 = rep->nodes->pdata[0];
    ck_assert_ptr_nonnull(n1->ipvs);
    /* 3 virtual services x 2 real servers; only the node address's took connections (the
     * clusterIP and the pod-network gateway's NodePort are idle and only counted) */
    ck_assert_uint_eq(n1->ipvs->len, 2);
    ck_assert_uint_eq(n1->ipvs_idle, 4);
    const ReportIpvsDest *d = n1->ipvs->pdata[0];
    ck_assert_str_eq(d->service, "TCP 192.168.1.101:30080 rr");
    ck_assert_uint_eq(d->weight, 1);
    ck_assert_uint_gt(d->active + d->inactive, 0);
}
END_TEST

START_TEST(test_run_set_proxy_mode_ipvs)
{
    g_autoptr(RunReport) rep =
        run_file(KPSIM_SRCDIR "/scenarios/seed-nginx-nodeport.yaml", "proxy.mode=ipvs");
    ck_assert_str_eq(rep->proxy_mode, "ipvs");
    ck_assert_ptr_nonnull(((const ReportNode *)rep->nodes->pdata[0])->ipvs);
    const ReportTraffic *t = rep->traffic->pdata[0];
    ck_assert_uint_eq(t->succeeded, t->sent);
}
END_TEST

START_TEST(test_local_without_endpoints_run_fails_differently)
{
    g_autoptr(RunReport) rep = run_file(SEED_LOCAL_IPVS, NULL);
    const ReportTraffic *t = rep->traffic->pdata[0];
    for (guint i = 0; i < t->targets->len; i++) {
        const ReportTarget *x = t->targets->pdata[i];
        if (g_str_equal(x->node, "node3")) {
            ck_assert_uint_eq(x->succeeded, 0);
            ck_assert_uint_eq(x->failed.timeout, x->sent);
        } else {
            ck_assert_uint_eq(x->succeeded, x->sent);
        }
    }
    /* node3 forwarded the connections (no netfilter drop there, unlike iptables) */
    for (guint i = 0; i < rep->nodes->len; i++) {
        const ReportNode *n = rep->nodes->pdata[i];
        if (g_str_equal(n->name, "node3"))
            ck_assert_uint_gt(n->forwarded_packets, 0);
    }
    report_summarize(rep);
    gboolean said = FALSE;
    for (guint i = 0; i < rep->summary->len; i++)
        said |= strstr(rep->summary->pdata[i], "IPVS mode still forwards them") != NULL;
    ck_assert(said);
}
END_TEST

START_TEST(test_ipvs_timeouts_config)
{
    KubeProxyConfig kp;
    kube_proxy_config_init(&kp);
    IpvsConfig c;
    kube_proxy_ipvs_config(&kp, &c);
    ck_assert_int_eq(c.tcp, 900 * SIM_SEC);
    ck_assert_int_eq(c.tcpfin, 120 * SIM_SEC);
    ck_assert_int_eq(c.udp, 300 * SIM_SEC);
    kp.ipvs_tcp_timeout = 60 * SIM_SEC;
    kp.ipvs_udp_timeout = 5 * SIM_SEC;
    kube_proxy_ipvs_config(&kp, &c);
    ck_assert_int_eq(c.tcp, 60 * SIM_SEC);
    ck_assert_int_eq(c.tcpfin, 120 * SIM_SEC); /* 0: the kernel's */
    ck_assert_int_eq(c.udp, 5 * SIM_SEC);
    kube_proxy_config_clear(&kp);
}
END_TEST

/* ---------------------------------------------------------------- conformance */

#define CASES KPSIM_SRCDIR "/tests/conformance/ipvs"

static JsonParser *flows_parser;
static JsonArray *flows;

/* The probe's endpoints, comma-joined. (transfer full) */
static char *
probe_endpoints(const Probe *p)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < p->endpoints->len; i++) {
        char buf[SIM_SOCKADDR_STRLEN];
        g_string_append_printf(
            s, "%s%s", i ? "," : "",
            sim_sockaddr_to_string(&g_array_index(p->endpoints, SimSockAddr, i), buf));
    }
    return g_string_free(s, FALSE);
}

/* The expected endpoints of a flow, comma-joined. (transfer full) */
static char *
flow_endpoints(JsonObject *expect)
{
    GString *want = g_string_new(NULL);
    JsonNode *n = json_object_get_member(expect, "endpoints");
    if (n != NULL && !JSON_NODE_HOLDS_NULL(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++)
            g_string_append_printf(want, "%s%s", i ? "," : "", json_array_get_string_element(a, i));
    }
    return g_string_free(want, FALSE);
}

START_TEST(test_conformance_flow)
{
    JsonObject *flow = json_array_get_object_element(flows, _i);
    JsonObject *expect = json_object_get_object_member(flow, "expect");
    g_autofree char *path =
        g_build_filename(CASES, json_object_get_string_member(flow, "case"), NULL);
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(path, &sc);
    const K8sNode *node = cluster_find_node(c, json_object_get_string_member(flow, "node"));
    ck_assert_ptr_nonnull(node);
    SimSockAddr from, to;
    SimProto proto;
    ck_assert(sim_sockaddr_parse(json_object_get_string_member(flow, "from"), &from, TRUE));
    ck_assert(sim_sockaddr_parse(json_object_get_string_member(flow, "to"), &to, FALSE));
    ck_assert(sim_proto_parse(json_object_get_string_member(flow, "protocol"), &proto));
    g_autoptr(GError) error = NULL;
    g_autoptr(Probe) p = probe_run(c, node, &from, &to, proto, &error);
    ck_assert_msg(p != NULL, "%s", error ? error->message : "?");
    const char *name = json_object_get_string_member(flow, "name");
    ck_assert_msg(
        g_str_equal(nf_verdict_name(p->verdict), json_object_get_string_member(expect, "verdict")),
        "%s: verdict %s", name, nf_verdict_name(p->verdict));
    g_autofree char *got = probe_endpoints(p);
    g_autofree char *wanted = flow_endpoints(expect);
    ck_assert_msg(g_str_equal(wanted, got), "%s: endpoints '%s', want '%s'", name, got, wanted);
    ck_assert_msg(p->masquerade == json_object_get_boolean_member(expect, "masquerade"),
                  "%s: masquerade %d", name, p->masquerade);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *
kube_proxy_ipvs_suite(void)
{
    Suite *s = suite_create("kube_proxy_ipvs");
    TCase *tc = tcase_create("render");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_seed_virtual_servers);
    tcase_add_test(tc, test_seed_ipsets);
    tcase_add_test(tc, test_seed_nat_rules);
    tcase_add_test(tc, test_seed_filter_rules);
    tcase_add_test(tc, test_local_policy_with_and_without_local_endpoints);
    tcase_add_test(tc, test_local_without_endpoints_probe_keeps_client_address);
    tcase_add_test(tc, test_internal_traffic_policy_local);
    tcase_add_test(tc, test_external_local_with_internal_local_gets_nothing);
    tcase_add_test(tc, test_client_ip_affinity_is_persistence);
    tcase_add_test(tc, test_scheduler_setting);
    tcase_add_test(tc, test_bad_scheduler_is_a_config_error);
    tcase_add_test(tc, test_bad_scheduler_outside_ipvs_mode_waits_for_render);
    tcase_add_test(tc, test_ipvs_section_settings_are_kept);
    tcase_add_test(tc, test_bad_exclude_cidr_is_an_error);
    tcase_add_test(tc, test_node_port_addresses_restrict_virtual_services);
    tcase_add_test(tc, test_load_balancer_and_external_ips);
    tcase_add_test(tc, test_external_ip_of_another_node_is_bound);
    tcase_add_test(tc, test_source_range_holding_the_node_allows_the_lb_ip);
    tcase_add_test(tc, test_service_without_endpoints);
    tcase_add_test(tc, test_probe_cluster_ip_unknown_port_is_rejected);
    tcase_add_test(tc, test_probe_localhost_node_port_is_not_served);
    tcase_add_test(tc, test_ipv6_sets_and_virtual_services);
    suite_add_tcase(s, tc);
    tc = tcase_create("run");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_seed_run_round_robin);
    tcase_add_test(tc, test_run_set_proxy_mode_ipvs);
    tcase_add_test(tc, test_local_without_endpoints_run_fails_differently);
    tcase_add_test(tc, test_ipvs_timeouts_config);
    suite_add_tcase(s, tc);
    tc = tcase_create("conformance");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_conformance_flow, 0, (int)json_array_get_length(flows));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    g_autoptr(GError) error = NULL;
    flows_parser = json_parser_new();
    if (!json_parser_load_from_file(flows_parser, CASES "/flows.json", &error))
        g_error("%s", error->message);
    flows = json_node_get_array(json_parser_get_root(flows_parser));
    SRunner *sr = srunner_create(kube_proxy_ipvs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    g_object_unref(flows_parser);
    return failed == 0 ? 0 : 1;
}
