/* SPDX-License-Identifier: Apache-2.0 */
/* The nftables proxy mode: sim/nft.c (tables, `nft list` printing, evaluation inside the
 * netfilter engine) and model/kube_proxy_nftables.c (kube-proxy's `ip kube-proxy` table).
 *
 * Expected listings were checked against nft 1.0.6 (the rendered text loaded with `nft -f` and
 * listed again in a network namespace), and the datapath-semantics document's section 5 example
 * is reproduced on its own seed cluster. Probes of tests/conformance/nftables (kube-proxy's own
 * flow tables, ported to the nftables mode where its semantics differ) run in-process here and
 * through the binary in tests/conformance.sh.
 */
#include <check.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "model/kube_proxy.h"
#include "model/loader.h"
#include "model/probe.h"
#include "model/run.h"
#include "sim/nft.h"
#include "test_util.h"

#define SEED_NFT KPSIM_SRCDIR "/scenarios/seed-nginx-nodeport-nft.yaml"
#define SEED_IPT KPSIM_SRCDIR "/scenarios/seed-nginx-nodeport.yaml"
#define SEED_LOCAL_NFT KPSIM_SRCDIR "/scenarios/seed-nginx-nodeport-local-nft.yaml"
#define CASES KPSIM_SRCDIR "/tests/conformance/nftables"

/* ---------------------------------------------------------------- helpers */

/* node's `nft list table ip kube-proxy`. (transfer full) */
static char *
listing(const Cluster *c, const char *node)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(NfRuleset) rs = kube_proxy_render(c, cluster_find_node(c, node), SIM_AF_INET, &error);
    ck_assert_msg(rs != NULL, "%s", error ? error->message : "?");
    GString *out = g_string_new(NULL);
    ck_assert(kube_proxy_nft_list(rs, out));
    return g_string_free(out, FALSE);
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

/* ---------------------------------------------------------------- sim/nft.c */

/* A small table exercising every printed form. */
static NftTable *
sample_table(void)
{
    NftTable *t = nft_table_new(SIM_AF_INET, "t", "rules");
    NftSet *ips = nft_table_add_set(t, "ips", NFT_KEY_ADDR, FALSE, 0, "some addresses");
    const char *const addrs[] = {"10.0.0.9", "10.0.0.10", "10.0.0.1"};
    for (guint i = 0; i < G_N_ELEMENTS(addrs); i++) {
        NftKey k = {.addr = addr(addrs[i])};
        ck_assert(nft_set_add(ips, &k, NULL, NULL));
    }
    NftSet *aff = nft_table_add_set(t, "aff", NFT_KEY_ADDR, FALSE, 3700, NULL);
    NftSet *map = nft_table_add_set(t, "m", NFT_KEY_ADDR_PROTO_PORT, TRUE, 0, NULL);
    NftChain *pre = nft_table_add_base_chain(t, "pre", NFT_CHAIN_NAT, NF_HOOK_PRE_ROUTING, -100);
    NftChain *out = nft_table_add_base_chain(t, "out", NFT_CHAIN_FILTER, NF_HOOK_LOCAL_OUT, -110);
    NftChain *ep = nft_table_add_chain(t, "ep", "an endpoint");
    NftVerdict go = {NFT_VERDICT_GOTO, ep};
    NftKey k1 = {.addr = addr("10.96.0.10"), .proto = SIM_PROTO_UDP, .port = 53};
    NftKey k2 = {.addr = addr("10.96.0.9"), .proto = SIM_PROTO_TCP, .port = 80};
    ck_assert(nft_set_add(map, &k1, &go, "ns/dns"));
    ck_assert(nft_set_add(map, &k2, &go, NULL));
    ck_assert(!nft_set_add(map, &k2, &go, NULL));
    NftExpr vmap = {.kind = NFT_EXPR_VMAP, .set = map};
    nft_rule_append(nft_chain_add_rule(pre, NULL), &vmap);
    SimCidr src[] = {cidr("198.51.100.0/24"), cidr("192.0.2.50/32")};
    NftRule *r = nft_chain_add_rule(out, "not allowed");
    nft_rule_append(
        r, &(NftExpr){
               .kind = NFT_EXPR_ADDR, .field = NFT_FIELD_SADDR, .neq = TRUE, .cidrs = src, .n = 2});
    nft_rule_append(r, &(NftExpr){.kind = NFT_EXPR_VERDICT, .verdict = {NFT_VERDICT_DROP}});
    r = nft_chain_add_rule(ep, NULL);
    nft_rule_append(r, &(NftExpr){.kind = NFT_EXPR_UPDATE_SADDR, .set = aff});
    r = nft_chain_add_rule(ep, NULL);
    nft_rule_append(r, &(NftExpr){.kind = NFT_EXPR_MARK_CLEAR, .mark = 0x4000});
    nft_rule_append(r, &(NftExpr){.kind = NFT_EXPR_VERDICT, .verdict = {NFT_VERDICT_RETURN}});
    r = nft_chain_add_rule(ep, NULL);
    nft_rule_append(r, &(NftExpr){.kind = NFT_EXPR_L4PROTO, .proto = SIM_PROTO_TCP});
    nft_rule_append(r, &(NftExpr){.kind = NFT_EXPR_DNAT, .to = sockaddr("10.1.0.5:8080")});
    return t;
}

START_TEST(test_listing_is_nft_list_format)
{
    g_autoptr(NftTable) t = sample_table();
    g_autoptr(GString) out = g_string_new(NULL);
    nft_table_list(t, out);
    ck_assert_str_eq(
        out->str, "table ip t {\n"
                  "\tcomment \"rules\"\n"
                  "\tset ips {\n"
                  "\t\ttype ipv4_addr\n"
                  "\t\tcomment \"some addresses\"\n"
                  "\t\telements = { 10.0.0.1, 10.0.0.9,\n"
                  "\t\t\t     10.0.0.10 }\n"
                  "\t}\n"
                  "\n"
                  "\tset aff {\n"
                  "\t\ttype ipv4_addr\n"
                  "\t\tsize 65535\n"
                  "\t\tflags dynamic,timeout\n"
                  "\t\ttimeout 1h1m40s\n"
                  "\t}\n"
                  "\n"
                  "\tmap m {\n"
                  "\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n"
                  "\t\telements = { 10.96.0.9 . tcp . 80 : goto ep,\n"
                  "\t\t\t     10.96.0.10 . udp . 53 comment \"ns/dns\" : goto ep }\n"
                  "\t}\n"
                  "\n"
                  "\tchain pre {\n"
                  "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
                  "\t\tip daddr . meta l4proto . th dport vmap @m\n"
                  "\t}\n"
                  "\n"
                  "\tchain out {\n"
                  "\t\ttype filter hook output priority -110; policy accept;\n"
                  "\t\tip saddr != { 192.0.2.50, 198.51.100.0/24 } drop comment \"not allowed\"\n"
                  "\t}\n"
                  "\n"
                  "\tchain ep {\n"
                  "\t\tcomment \"an endpoint\"\n"
                  "\t\tupdate @aff { ip saddr }\n"
                  "\t\tmeta mark & 0x00004000 == 0x00000000 return\n"
                  "\t\tmeta l4proto tcp dnat to 10.1.0.5:8080\n"
                  "\t}\n"
                  "}\n");
}
END_TEST

START_TEST(test_map_lookup_uses_only_the_key_fields)
{
    g_autoptr(NftTable) t = sample_table();
    NftSet *map = nft_table_find_set(t, "m");
    NftKey hit = {.addr = addr("10.96.0.10"), .proto = SIM_PROTO_UDP, .port = 53};
    NftKey miss = {.addr = addr("10.96.0.10"), .proto = SIM_PROTO_TCP, .port = 53};
    ck_assert_int_eq(nft_set_lookup(map, &hit), 0);
    ck_assert_int_eq(nft_set_lookup(map, &miss), -1);
    NftSet *ips = nft_table_find_set(t, "ips");
    NftKey with_port = {.addr = addr("10.0.0.9"), .proto = SIM_PROTO_TCP, .port = 1};
    ck_assert_int_eq(nft_set_lookup(ips, &with_port), 0);
    ck_assert_uint_eq(nft_set_size(ips), 3);
    ck_assert_uint_eq(nft_table_rule_count(t), 5);
    ck_assert_uint_eq(nft_chain_length(nft_table_find_chain(t, "ep")), 3);
}
END_TEST

/* A statistic callback that answers from a script and records the probabilities asked. */
typedef struct {
    const NfChoice *answers;
    guint n, asked;
    guint32 probability[8];
} Script;

static NfChoice
script_statistic(gpointer data, guint32 probability)
{
    Script *s = data;
    ck_assert_uint_lt(s->asked, G_N_ELEMENTS(s->probability));
    s->probability[s->asked] = probability;
    return s->asked < s->n ? s->answers[s->asked++] : NF_CHOICE_NO;
}

/* A ruleset whose nat PREROUTING is one "numgen random mod 3" over three DNAT chains. */
static NfRuleset *
numgen_ruleset(void)
{
    NftTable *t = nft_table_new(SIM_AF_INET, "t", NULL);
    NftChain *pre = nft_table_add_base_chain(t, "pre", NFT_CHAIN_NAT, NF_HOOK_PRE_ROUTING, -100);
    NftChain *eps[3];
    for (guint i = 0; i < 3; i++) {
        char name[8], to[32];
        g_snprintf(name, sizeof name, "ep%u", i);
        g_snprintf(to, sizeof to, "10.1.0.%u:80", i + 1);
        eps[i] = nft_table_add_chain(t, name, NULL);
        nft_rule_append(nft_chain_add_rule(eps[i], NULL),
                        &(NftExpr){.kind = NFT_EXPR_DNAT, .to = sockaddr(to)});
    }
    nft_rule_append(nft_chain_add_rule(pre, NULL),
                    &(NftExpr){.kind = NFT_EXPR_NUMGEN, .n = 3, .chains = eps});
    NfRuleset *rs = nf_ruleset_new(SIM_AF_INET);
    nft_ruleset_attach(rs, t);
    return rs;
}

/* The packet of a new TCP connection from -> to. */
static SimPacket
syn(const char *from, const char *to)
{
    return (SimPacket){.src = sockaddr(from), .dst = sockaddr(to), .proto = SIM_PROTO_TCP};
}

START_TEST(test_numgen_forks_into_equal_branches)
{
    g_autoptr(NfRuleset) rs = numgen_ruleset();
    SimPacket pkt = syn("203.0.113.1:4000", "10.96.0.1:80");
    g_autoptr(GPtrArray) bs =
        nf_path_new_connection(rs, &pkt, NF_ORIGIN_REMOTE, "eth0", "eth0", NULL);
    ck_assert_uint_eq(bs->len, 3);
    for (guint i = 0; i < 3; i++) {
        const NfBranch *b = bs->pdata[i];
        char buf[SIM_SOCKADDR_STRLEN];
        ck_assert(b->dnat);
        ck_assert_double_eq_tol(b->probability, 1.0 / 3.0, 1e-12);
        g_autofree char *want = g_strdup_printf("10.1.0.%u:80", i + 1);
        ck_assert_str_eq(sim_sockaddr_to_string(&b->pkt.dst, buf), want);
        const NfStep *st = &g_array_index(b->steps, NfStep, 0);
        ck_assert_ptr_nonnull(st->nft_rule);
        ck_assert_int_eq(st->nft_choice, (gint)i);
    }
}
END_TEST

START_TEST(test_numgen_draws_as_the_iptables_ladder)
{
    /* The iptables ladder for 3 endpoints asks statistic with 1/3 then 1/2, as parsed from
     * kube-proxy's "%0.10f" text; numgen asks the same so runs draw identically. */
    g_autoptr(NfRuleset) ipt = nf_ruleset_new(SIM_AF_INET);
    ck_assert(nf_ruleset_append(ipt, NF_TABLE_NAT, "PREROUTING", NULL, "-m", "statistic", "--mode",
                                "random", "--probability", "0.3333333333", "-j", "ACCEPT", NULL));
    ck_assert(nf_ruleset_append(ipt, NF_TABLE_NAT, "PREROUTING", NULL, "-m", "statistic", "--mode",
                                "random", "--probability", "0.5000000000", "-j", "ACCEPT", NULL));
    static const NfChoice no_no[] = {NF_CHOICE_NO, NF_CHOICE_NO};
    Script ipt_script = {.answers = no_no, .n = 2};
    NfEnv env = {.data = &ipt_script, .statistic = script_statistic, .no_steps = TRUE};
    SimPacket pkt = syn("203.0.113.1:4000", "10.96.0.1:80");
    g_autoptr(GPtrArray) a =
        nf_path_new_connection(ipt, &pkt, NF_ORIGIN_REMOTE, "eth0", "eth0", &env);
    ck_assert_uint_eq(a->len, 1);
    ck_assert_uint_eq(ipt_script.asked, 2);

    static const NfChoice no_yes[] = {NF_CHOICE_NO, NF_CHOICE_YES};
    Script nft_script = {.answers = no_yes, .n = 2};
    env.data = &nft_script;
    g_autoptr(NfRuleset) rs = numgen_ruleset();
    g_autoptr(GPtrArray) b =
        nf_path_new_connection(rs, &pkt, NF_ORIGIN_REMOTE, "eth0", "eth0", &env);
    ck_assert_uint_eq(b->len, 1);
    ck_assert_uint_eq(nft_script.asked, 2);
    ck_assert_uint_eq(nft_script.probability[0], ipt_script.probability[0]);
    ck_assert_uint_eq(nft_script.probability[1], ipt_script.probability[1]);
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(sim_sockaddr_to_string(&((NfBranch *)b->pdata[0])->pkt.dst, buf),
                     "10.1.0.2:80");
}
END_TEST

/* ---------------------------------------------------------------- the renderer */

/* datapath-semantics.md's own seed cluster, with the endpoints it names. */
static const char doc_seed[] = "apiVersion: kpsim.io/v1alpha1\n"
                               "kind: Scenario\n"
                               "metadata: {name: doc-seed}\n"
                               "spec:\n"
                               "  cluster:\n"
                               "    nodes:\n"
                               "      - {name: node-1, addresses: [192.168.10.11]}\n"
                               "      - {name: node-2, addresses: [192.168.10.12]}\n"
                               "      - {name: node-3, addresses: [192.168.10.13]}\n"
                               "    clusterCIDR: 10.244.0.0/16\n"
                               "    serviceCIDR: 10.96.0.0/12\n"
                               "  proxy: {mode: nftables}\n"
                               "---\n"
                               "apiVersion: v1\n"
                               "kind: Service\n"
                               "metadata: {name: nginx-service-nodeport}\n"
                               "spec:\n"
                               "  type: NodePort\n"
                               "  clusterIP: 10.96.45.10\n"
                               "  ports: [{port: 80, targetPort: 80, nodePort: 30080}]\n"
                               "---\n"
                               "apiVersion: discovery.k8s.io/v1\n"
                               "kind: EndpointSlice\n"
                               "metadata:\n"
                               "  name: nginx-service-nodeport-1\n"
                               "  labels: {kubernetes.io/service-name: nginx-service-nodeport}\n"
                               "addressType: IPv4\n"
                               "ports: [{port: 80, protocol: TCP}]\n"
                               "endpoints:\n"
                               "  - {addresses: [10.244.1.5], nodeName: node-2}\n"
                               "  - {addresses: [10.244.2.7], nodeName: node-3}\n";

START_TEST(test_semantics_seed_example)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(doc_seed, &sc);
    g_autofree char *l = listing(c, "node-1");
    static const char *const want[] = {
        "elements = { 10.96.45.10 . tcp . 80 : goto "
        "service-T4K27W33-default/nginx-service-nodeport/tcp/ }",
        "elements = { tcp . 30080 : goto external-T4K27W33-default/nginx-service-nodeport/tcp/ }",
        "elements = { 192.168.10.11 }",
        "\tchain service-T4K27W33-default/nginx-service-nodeport/tcp/ {\n"
        "\t\tip daddr 10.96.45.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump "
        "mark-for-masquerade\n"
        "\t\tnumgen random mod 2 vmap { 0 : goto "
        "endpoint-GTIZKWV6-default/nginx-service-nodeport/tcp/__10.244.1.5/80, 1 : goto "
        "endpoint-CM6CY7ET-default/nginx-service-nodeport/tcp/__10.244.2.7/80 }\n\t}\n",
        "\tchain external-T4K27W33-default/nginx-service-nodeport/tcp/ {\n"
        "\t\tjump mark-for-masquerade\n"
        "\t\tgoto service-T4K27W33-default/nginx-service-nodeport/tcp/\n\t}\n",
        "\tchain endpoint-GTIZKWV6-default/nginx-service-nodeport/tcp/__10.244.1.5/80 {\n"
        "\t\tip saddr 10.244.1.5 jump mark-for-masquerade\n"
        "\t\tmeta l4proto tcp dnat to 10.244.1.5:80\n\t}\n",
        "\tchain mark-for-masquerade {\n\t\tmeta mark set meta mark | 0x00004000\n\t}\n",
        "\tchain masquerading {\n"
        "\t\tmeta mark & 0x00004000 == 0x00000000 return\n"
        "\t\tmeta mark set meta mark ^ 0x00004000\n"
        "\t\tmasquerade fully-random\n\t}\n",
        "\t\tip daddr 10.96.0.0/12 drop comment \"Drop traffic to unallocated ClusterIPs\"\n",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
        ck_assert_msg(strstr(l, want[i]) != NULL, "missing:\n%s\nin:\n%s", want[i], l);
}
END_TEST

START_TEST(test_local_policy_tables)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_LOCAL_NFT, &sc);
    g_autofree char *with_pod = listing(c, "node1");
    g_autofree char *without = listing(c, "node3");
    const char *ext = "\tchain external-T4K27W33-default/nginx-service-nodeport/tcp/ {\n"
                      "\t\tip saddr 10.1.0.0/16 goto service-T4K27W33-default/"
                      "nginx-service-nodeport/tcp/ comment \"short-circuit pod traffic\"\n"
                      "\t\tfib saddr type local jump mark-for-masquerade comment "
                      "\"masquerade local traffic\"\n"
                      "\t\tfib saddr type local goto service-T4K27W33-default/"
                      "nginx-service-nodeport/tcp/ comment \"short-circuit local traffic\"\n";
    ck_assert_ptr_nonnull(strstr(with_pod, ext));
    ck_assert_ptr_nonnull(strstr(without, ext));
    ck_assert_ptr_nonnull(
        strstr(with_pod, "\t\tgoto local-T4K27W33-default/nginx-service-nodeport/tcp/\n"));
    ck_assert_ptr_null(strstr(without, "local-T4K27W33"));
    const char *drop = "elements = { tcp . 30080 comment \"default/nginx-service-nodeport\" : "
                       "drop }";
    ck_assert_ptr_nonnull(strstr(without, drop));
    ck_assert_ptr_null(strstr(with_pod, drop));
}
END_TEST

START_TEST(test_seed_rules_match_golden_file)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_NFT, &sc);
    g_autofree char *l = listing(c, "node1");
    g_autofree char *golden = NULL;
    g_autoptr(GError) error = NULL;
    ck_assert_msg(g_file_get_contents(KPSIM_SRCDIR "/tests/golden/seed-nft-rules-node1.out",
                                      &golden, NULL, &error),
                  "%s", error ? error->message : "?");
    const char *body = strchr(golden, '\n'); /* after the "# Generated by kpsim" line */
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(l, body + 1);
}
END_TEST

START_TEST(test_ipvs_mode_is_refused)
{
    /* IPVS mode is rendered by model/kube_proxy_ipvs.c now: no nftables table then. */
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_NFT, &sc);
    c->proxy->mode = KP_MODE_IPVS;
    g_autoptr(GError) error = NULL;
    g_autoptr(NfRuleset) rs =
        kube_proxy_render(c, cluster_find_node(c, "node1"), SIM_AF_INET, &error);
    ck_assert_msg(rs != NULL, "%s", error ? error->message : "?");
    g_autoptr(GString) out = g_string_new(NULL);
    ck_assert(!kube_proxy_nft_list(rs, out));
    ck_assert(kube_proxy_ipvs_list(rs, out));
}
END_TEST

/* ---------------------------------------------------------------- evaluation via probes */

START_TEST(test_nodeport_balances_and_masquerades)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_NFT, &sc);
    g_autoptr(Probe) p = probe(c, "node3", "203.0.113.10", "192.168.1.103:30080");
    ck_assert_str_eq(nf_verdict_name(p->verdict), "accept");
    g_autofree char *eps = probe_endpoints(p);
    ck_assert_str_eq(eps, "10.1.0.2:80,10.1.1.2:80");
    ck_assert(p->masquerade);
    ck_assert_uint_eq(p->branches->len, 2);
    for (guint i = 0; i < 2; i++) {
        const ProbeBranch *pb = g_ptr_array_index(p->branches, i);
        ck_assert_double_eq_tol(pb->branch->probability, 0.5, 1e-12);
        ck_assert(pb->branch->masquerade);
    }
}
END_TEST

START_TEST(test_local_policy_verdicts)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_LOCAL_NFT, &sc);
    g_autoptr(Probe) kept = probe(c, "node1", "203.0.113.10", "192.168.1.101:30080");
    ck_assert_str_eq(nf_verdict_name(kept->verdict), "accept");
    g_autofree char *eps = probe_endpoints(kept);
    ck_assert_str_eq(eps, "10.1.0.2:80");
    ck_assert(!kept->masquerade);
    g_autoptr(Probe) dropped = probe(c, "node3", "203.0.113.10", "192.168.1.103:30080");
    ck_assert_str_eq(nf_verdict_name(dropped->verdict), "drop");
    ck_assert_uint_eq(dropped->endpoints->len, 0);
    /* A pod (not an endpoint, so no hairpin) is short-circuited to every endpoint, unSNATed. */
    g_autoptr(Probe) pod = probe(c, "node3", "10.1.2.50", "192.168.1.103:30080");
    ck_assert_str_eq(nf_verdict_name(pod->verdict), "accept");
    ck_assert_uint_eq(pod->endpoints->len, 2);
    ck_assert(!pod->masquerade);
}
END_TEST

START_TEST(test_cluster_ip_checks)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_NFT, &sc);
    g_autoptr(Probe) unknown_port = probe(c, "node2", "10.1.1.2", "10.107.227.230:8080");
    ck_assert_str_eq(nf_verdict_name(unknown_port->verdict), "reject");
    g_autoptr(Probe) unallocated = probe(c, "node2", "10.1.1.2", "10.96.0.99:80");
    ck_assert_str_eq(nf_verdict_name(unallocated->verdict), "drop");
    g_autoptr(Probe) outside = probe(c, "node2", "10.1.1.2", "10.200.0.1:80");
    ck_assert_str_eq(nf_verdict_name(outside->verdict), "none");
    g_autoptr(Probe) host = probe(c, "node2", "192.168.1.102", "10.107.227.230:8080");
    ck_assert_str_eq(nf_verdict_name(host->verdict), "reject");
    /* The same packets under iptables: not matched, routed as they are. */
    c->proxy->mode = KP_MODE_IPTABLES;
    g_autoptr(Probe) ipt = probe(c, "node2", "10.1.1.2", "10.107.227.230:8080");
    ck_assert_str_eq(nf_verdict_name(ipt->verdict), "none");
}
END_TEST

START_TEST(test_nodeports_only_on_the_primary_address)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c =
        test_cluster_file(CASES "/nftables-testexternaltrafficpolicycluster.yaml", &sc);
    g_autoptr(Probe) primary = probe(c, "test-node", "203.0.113.2", "192.168.0.2:3001");
    ck_assert_str_eq(nf_verdict_name(primary->verdict), "accept");
    g_autoptr(Probe) secondary = probe(c, "test-node", "203.0.113.2", "192.168.1.2:3001");
    ck_assert_str_eq(nf_verdict_name(secondary->verdict), "none");
    g_autoptr(Probe) localhost = probe(c, "test-node", "127.0.0.1", "127.0.0.1:3001");
    ck_assert_str_eq(nf_verdict_name(localhost->verdict), "none");
    c->proxy->mode = KP_MODE_IPTABLES; /* iptables answers both */
    g_autoptr(Probe) ipt_secondary = probe(c, "test-node", "203.0.113.2", "192.168.1.2:3001");
    ck_assert_str_eq(nf_verdict_name(ipt_secondary->verdict), "accept");
    g_autoptr(Probe) ipt_localhost = probe(c, "test-node", "127.0.0.1", "127.0.0.1:3001");
    ck_assert_str_eq(nf_verdict_name(ipt_localhost->verdict), "accept");
}
END_TEST

/* A recent_check that says "seen" only for one list. */
static NfChoice
only_list(gpointer data, const char *list, const SimAddr *src, guint seconds)
{
    (void)src;
    ck_assert_uint_eq(seconds, 10800);
    return strcmp(list, data) == 0 ? NF_CHOICE_YES : NF_CHOICE_NO;
}

START_TEST(test_affinity_sets)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(SEED_NFT, &sc);
    K8sService *svc = cluster_find_service(c, "default", "nginx-service-nodeport");
    ck_assert_ptr_nonnull(svc);
    svc->affinity_client_ip = TRUE; /* sessionAffinity: ClientIP, the default timeout */
    svc->affinity_timeout = 10800;
    const K8sNode *node = cluster_find_node(c, "node1");
    g_autoptr(NfRuleset) rs = kube_proxy_render(c, node, SIM_AF_INET, NULL);
    ck_assert_ptr_nonnull(rs);
    g_autoptr(GString) l = g_string_new(NULL);
    ck_assert(kube_proxy_nft_list(rs, l));
    const char *set = "affinity-2NRFEPQS-default/nginx-service-nodeport/tcp/__10.1.1.2/80";
    ck_assert_ptr_nonnull(strstr(l->str, "\t\tflags dynamic,timeout\n\t\ttimeout 3h\n"));
    g_autofree char *update = g_strdup_printf("\t\tupdate @%s { ip saddr }\n", set);
    ck_assert_ptr_nonnull(strstr(l->str, update));

    /* Unknown affinity state: each set lookup forks, then numgen forks: 2 + 2 branches. */
    SimPacket pkt = syn("203.0.113.10:4000", "10.107.227.230:80");
    g_autoptr(GPtrArray) open =
        nf_path_new_connection(rs, &pkt, NF_ORIGIN_REMOTE, "eth0", "eth0", NULL);
    ck_assert_uint_eq(open->len, 4);
    /* The client was seen for 10.1.1.2: no random choice, that endpoint. */
    NfEnv env = {.data = (gpointer)set, .recent_check = only_list};
    g_autoptr(GPtrArray) sticky =
        nf_path_new_connection(rs, &pkt, NF_ORIGIN_REMOTE, "eth0", "eth0", &env);
    ck_assert_uint_eq(sticky->len, 1);
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(sim_sockaddr_to_string(&((NfBranch *)sticky->pdata[0])->pkt.dst, buf),
                     "10.1.1.2:80");
}
END_TEST

/* ---------------------------------------------------------------- runs */

/* Runs the scenario at path. (transfer full) */
static RunReport *
run_file(const char *path)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_file(path, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(Run) r = run_new(c, &error);
    ck_assert_msg(r != NULL, "%s", error ? error->message : "?");
    run_execute(r, NULL, NULL);
    return run_report(r);
}

START_TEST(test_seed_run_matches_iptables)
{
    g_autoptr(RunReport) ipt = run_file(SEED_IPT);
    g_autoptr(RunReport) nft = run_file(SEED_NFT);
    ck_assert_uint_eq(ipt->pods->len, nft->pods->len);
    guint64 total = 0;
    for (guint i = 0; i < ipt->pods->len; i++) {
        const ReportPod *a = ipt->pods->pdata[i], *b = nft->pods->pdata[i];
        ck_assert_str_eq(a->name, b->name);
        ck_assert_uint_eq(a->connections, b->connections);
        ck_assert_double_eq(a->share, b->share);
        ck_assert_uint_eq(a->source_preserved, b->source_preserved);
        ck_assert_uint_eq(a->source_snat, b->source_snat);
        ck_assert_uint_eq(b->source_preserved, 0); /* ETP Cluster: SNAT at the entry node */
        total += b->connections;
    }
    ck_assert_uint_gt(total, 1000);
}
END_TEST

/* ---------------------------------------------------------------- conformance */

static JsonParser *flows_parser;
static JsonArray *flows;

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
    GString *want = g_string_new(NULL);
    JsonNode *n = json_object_get_member(expect, "endpoints");
    if (n != NULL && !JSON_NODE_HOLDS_NULL(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++)
            g_string_append_printf(want, "%s%s", i ? "," : "", json_array_get_string_element(a, i));
    }
    g_autofree char *got = probe_endpoints(p);
    g_autofree char *wanted = g_string_free(want, FALSE);
    ck_assert_msg(g_str_equal(wanted, got), "%s: endpoints '%s', want '%s'", name, got, wanted);
    ck_assert_msg(p->masquerade == json_object_get_boolean_member(expect, "masquerade"),
                  "%s: masquerade %d", name, p->masquerade);
}
END_TEST

/* Loads tests/conformance/nftables/flows.json. */
static void
load_flows(void)
{
    g_autoptr(GError) error = NULL;
    flows_parser = json_parser_new();
    if (!json_parser_load_from_file(flows_parser, CASES "/flows.json", &error))
        g_error("%s", error->message);
    flows = json_node_get_array(json_parser_get_root(flows_parser));
}

int
main(void)
{
    load_flows();
    Suite *s = suite_create("nftables");
    TCase *tc = tcase_create("sim");
    tcase_add_test(tc, test_listing_is_nft_list_format);
    tcase_add_test(tc, test_map_lookup_uses_only_the_key_fields);
    tcase_add_test(tc, test_numgen_forks_into_equal_branches);
    tcase_add_test(tc, test_numgen_draws_as_the_iptables_ladder);
    suite_add_tcase(s, tc);
    tc = tcase_create("render");
    tcase_add_test(tc, test_semantics_seed_example);
    tcase_add_test(tc, test_local_policy_tables);
    tcase_add_test(tc, test_seed_rules_match_golden_file);
    tcase_add_test(tc, test_ipvs_mode_is_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("probe");
    tcase_add_test(tc, test_nodeport_balances_and_masquerades);
    tcase_add_test(tc, test_local_policy_verdicts);
    tcase_add_test(tc, test_cluster_ip_checks);
    tcase_add_test(tc, test_nodeports_only_on_the_primary_address);
    tcase_add_test(tc, test_affinity_sets);
    suite_add_tcase(s, tc);
    tc = tcase_create("run");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_seed_run_matches_iptables);
    suite_add_tcase(s, tc);
    tc = tcase_create("conformance");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_conformance_flow, 0, (int)json_array_get_length(flows));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    g_object_unref(flows_parser);
    return failed == 0 ? 0 : 1;
}
