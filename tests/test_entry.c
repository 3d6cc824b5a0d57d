/* SPDX-License-Identifier: Apache-2.0 */
/* Entry models: the flow hash and Linux's hash-threshold next-hop choice, MetalLB's layer-2
 * election, health-check thresholds, local endpoint counts, the loader's traffic.entry, and
 * each model's timing on a small cluster driven by its own event loop (probes, failover,
 * hold timers and BFD, the DNS cache).
 */
#include <check.h>
#include <string.h>

#include "model/entry.h"
#include "model/loader.h"
#include "model/run.h"
#include "test_util.h"

/* ------------------------------------------------------------------ pure decisions */

/* A TCP packet from 203.0.113.10:sport to 192.0.2.50:80. */
static SimPacket
flow(guint16 sport)
{
    SimPacket p = {0};
    p.src = sockaddr("203.0.113.10:1");
    p.src.port = sport;
    p.dst = sockaddr("192.0.2.50:80");
    p.proto = SIM_PROTO_TCP;
    return p;
}

START_TEST(flow_hash_is_stable_per_flow_and_key)
{
    SimPacket a = flow(40000), b = flow(40000), c = flow(40001);
    ck_assert_uint_eq(entry_flow_hash(7, &a), entry_flow_hash(7, &b));
    ck_assert_uint_ne(entry_flow_hash(7, &a), entry_flow_hash(7, &c));
    ck_assert_uint_ne(entry_flow_hash(7, &a), entry_flow_hash(8, &a));
    b.tcp_flags = SIM_TCP_ACK; /* only the 5-tuple counts */
    b.ttl = 3;
    ck_assert_uint_eq(entry_flow_hash(7, &a), entry_flow_hash(7, &b));
}
END_TEST

START_TEST(hash_threshold_matches_fib_rebalance_bounds)
{
    ck_assert_uint_eq(entry_hash_threshold(0xffffffffu, 1), 0);
    /* n = 2: next hop 0 takes 31-bit hashes up to 2^30 - 1. */
    ck_assert_uint_eq(entry_hash_threshold((guint32)((1u << 30) - 1) << 1, 2), 0);
    ck_assert_uint_eq(entry_hash_threshold((guint32)(1u << 30) << 1, 2), 1);
    /* n = 3: DIV_ROUND_CLOSEST(2^31, 3) - 1 = 715827882, DIV_ROUND_CLOSEST(2^32, 3) - 1 =
     * 1431655764. */
    ck_assert_uint_eq(entry_hash_threshold(715827882u << 1, 3), 0);
    ck_assert_uint_eq(entry_hash_threshold(715827883u << 1, 3), 1);
    ck_assert_uint_eq(entry_hash_threshold(1431655764u << 1, 3), 1);
    ck_assert_uint_eq(entry_hash_threshold(1431655765u << 1, 3), 2);
    ck_assert_uint_eq(entry_hash_threshold(0xffffffffu, 3), 2);
}
END_TEST

START_TEST(ecmp_spreads_flows_evenly_and_rehashes_on_withdrawal)
{
    guint count[4] = {0}, moved_between_survivors = 0, kept = 0;
    for (guint port = 32768; port < 32768 + 20000; port++) {
        SimPacket p = flow((guint16)port);
        guint32 h = entry_flow_hash(42, &p);
        guint four = entry_hash_threshold(h, 4);
        ck_assert_uint_eq(four, entry_hash_threshold(h, 4)); /* stable */
        count[four]++;
        if (four == 3)
            continue;
        /* next hop 3 withdrawn: hops 0..2 remain, in the same order */
        guint three = entry_hash_threshold(h, 3);
        if (three == four)
            kept++;
        else
            moved_between_survivors++;
    }
    for (guint i = 0; i < 4; i++)
        ck_assert_msg(count[i] > 4500 && count[i] < 5500, "next hop %u got %u of 20000", i,
                      count[i]);
    /* hash-threshold keeps most flows but moves some between surviving next hops - the BGP
     * rehash that breaks connections (datapath-semantics.md 9.2). */
    ck_assert_uint_gt(kept, moved_between_survivors);
    ck_assert_uint_gt(moved_between_survivors, 0);
}
END_TEST

/* The index of the smallest sha256(name#ip) among names, computed here from the hex digests. */
static guint
smallest_digest(const char *const *names, guint n, const char *ip)
{
    guint best = 0;
    g_autofree char *best_hex = NULL;
    for (guint i = 0; i < n; i++) {
        g_autofree char *s = g_strdup_printf("%s#%s", names[i], ip);
        g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, s, -1);
        if (best_hex == NULL || strcmp(hex, best_hex) < 0) {
            best = i;
            g_free(best_hex);
            best_hex = g_steal_pointer(&hex);
        }
    }
    return best;
}

START_TEST(l2_election_is_metallbs_sha256_order)
{
    const char *names[] = {"node1", "node2", "node3", "node4", "node5"};
    const char *ips[] = {"192.0.2.60", "192.0.2.61", "10.0.0.1", "198.51.100.9"};
    for (guint i = 0; i < G_N_ELEMENTS(ips); i++) {
        SimAddr ip = addr(ips[i]);
        guint w = entry_l2_elect(names, 5, &ip);
        ck_assert_uint_eq(w, smallest_digest(names, 5, ips[i]));
        /* Every speaker agrees whatever order it lists the nodes in. */
        const char *rev[] = {names[4], names[3], names[2], names[1], names[0]};
        ck_assert_str_eq(rev[entry_l2_elect(rev, 5, &ip)], names[w]);
    }
    /* The scenario's IP: node3 wins among three nodes, node2 once node3 is gone. */
    SimAddr ip = addr("192.0.2.60");
    ck_assert_uint_eq(entry_l2_elect(names, 3, &ip), 2);
    ck_assert_uint_eq(entry_l2_elect(names, 2, &ip), 1);
}
END_TEST

START_TEST(health_thresholds_count_consecutive_probes)
{
    EntryHealth h = {.healthy = TRUE};
    ck_assert(!entry_health_note(&h, FALSE, 1, 3));
    ck_assert(!entry_health_note(&h, FALSE, 1, 3));
    ck_assert(!entry_health_note(&h, TRUE, 1, 3)); /* a success resets the failures */
    ck_assert(!entry_health_note(&h, FALSE, 1, 3));
    ck_assert(!entry_health_note(&h, FALSE, 1, 3));
    ck_assert(h.healthy);
    ck_assert(entry_health_note(&h, FALSE, 1, 3));
    ck_assert(!h.healthy);
    ck_assert(!entry_health_note(&h, FALSE, 1, 3)); /* already out */
    /* healthy threshold 2: two successes in a row */
    ck_assert(!entry_health_note(&h, TRUE, 2, 3));
    ck_assert(!entry_health_note(&h, FALSE, 2, 3));
    ck_assert(!entry_health_note(&h, TRUE, 2, 3));
    ck_assert(entry_health_note(&h, TRUE, 2, 3));
    ck_assert(h.healthy);
}
END_TEST

/* ------------------------------------------------------------------ the sim/ next-hop hook */

/* A host on the fabric with eth0 at address and an on-link default route. */
static SimHost *
fabric_host(SimNet *net, const char *name, const char *address, gboolean forwarding)
{
    SimHost *h = sim_net_add_host(net, name, forwarding);
    guint eth0 = sim_host_add_iface(h, "eth0", NULL);
    SimAddr a = addr(address);
    sim_host_add_addr(h, eth0, &a);
    SimCidr any = cidr("0.0.0.0/0");
    sim_host_add_route(h, &any, eth0, NULL);
    sim_net_attach_fabric(net, h, eth0, 10 * SIM_USEC, 0);
    return h;
}

/* SimNextHopFunc: packets for 192.0.2.1 go to the address in data (NULL: unreachable). */
static SimNextHopChoice
hop_to(SimHost *h, const SimPacket *pkt, SimAddr *next_hop, gpointer data)
{
    SimAddr vip = addr("192.0.2.1");
    if (!sim_addr_equal(&pkt->dst.addr, &vip))
        return SIM_NEXT_HOP_ROUTE;
    if (data == NULL)
        return SIM_NEXT_HOP_UNREACHABLE;
    *next_hop = addr(data);
    return SIM_NEXT_HOP_VIA;
}

/* SimSocketOps.connected of the client: counts. */
static void
hook_connected(SimSocket *s, gpointer data)
{
    (*(guint *)data)++;
    sim_socket_abort(s);
}

/* Connects from client to 192.0.2.1:80 through a router whose selector sends it to via (NULL:
 * unreachable); returns the connections made and the router's no-route drops. */
static guint
connect_through_hook(const char *via, guint64 *no_route)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    SimNet *net = sim_net_new(loop, 1);
    SimHost *client = fabric_host(net, "client", "10.0.0.1", FALSE);
    SimHost *router = fabric_host(net, "router", "10.0.0.254", TRUE);
    SimHost *server = fabric_host(net, "server", "10.0.0.2", FALSE);
    SimAddr vip = addr("192.0.2.1"), gw = addr("10.0.0.254");
    sim_host_add_addr(server, 1, &vip); /* on lo, as a direct-server-return backend */
    SimCidr vip32 = cidr("192.0.2.1/32");
    sim_host_add_route(client, &vip32, 2, &gw);
    sim_host_set_next_hop_func(router, hop_to, (gpointer)via);
    static const SimSocketOps listen_ops = {0};
    sim_socket_listen(server, SIM_PROTO_TCP, 80, &listen_ops, NULL);
    guint connected = 0;
    static const SimSocketOps ops = {.connected = hook_connected};
    SimSockAddr dst = sockaddr("192.0.2.1:80");
    SimTcpOptions opts = {.connect_timeout = 2 * SIM_SEC, .syn_retries = 1};
    sim_socket_connect(client, SIM_PROTO_TCP, &dst, &opts, &ops, &connected);
    sim_loop_run_until(loop, 5 * SIM_SEC);
    SimHostStats st;
    sim_host_get_stats(router, &st);
    *no_route = st.drops[SIM_DROP_NO_ROUTE];
    sim_net_free(net);
    return connected;
}

START_TEST(next_hop_hook_steers_forwarded_packets)
{
    guint64 no_route = 0;
    ck_assert_uint_eq(connect_through_hook("10.0.0.2", &no_route), 1);
    ck_assert_uint_eq(no_route, 0);
    ck_assert_uint_eq(connect_through_hook(NULL, &no_route), 0);
    ck_assert_uint_eq(no_route, 2); /* the SYN and its retransmission */
}
END_TEST

/* ------------------------------------------------------------------ a small cluster */

/* Three nodes, two nginx pods (node1, node2), Service web (LoadBalancer, ingress 192.0.2.50,
 * policy POLICY) and one traffic with ENTRY. */
static const char cluster_yaml[] =
    "apiVersion: kpsim.io/v1alpha1\n"
    "kind: Scenario\n"
    "metadata: {name: t}\n"
    "spec:\n"
    "  duration: 120s\n"
    "  cluster:\n"
    TEST_THREE_NODES_AND_LAPTOP_YAML
    "  traffic:\n"
    "    - {name: web, from: laptop, rate: 1/s, entry: %s}\n"
    "---\n"
    TEST_NGINX_DEPLOYMENT_YAML
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: web}\n"
    "spec:\n"
    "  type: LoadBalancer\n"
    "  externalTrafficPolicy: %s\n"
    "  selector: {app: nginx}\n"
    "  ports: [{port: 80, targetPort: 80}]\n"
    "status: {loadBalancer: {ingress: [{ip: 192.0.2.50}]}}\n";

/* A loaded scenario, its cluster, a network and the traffic's entry. */
typedef struct {
    Scenario *sc;
    Cluster *c;
    SimLoop *loop;
    SimNet *net;
    Entry *e;
} Fixture;

/* Builds the fixture for entry (YAML flow text) and policy; starts the entry. */
static void
fixture_init(Fixture *f, const char *entry, const char *policy)
{
    g_autofree char *text = g_strdup_printf(cluster_yaml, entry, policy);
    g_autoptr(GError) error = NULL;
    f->sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_msg(f->sc != NULL, "%s", error ? error->message : "");
    f->c = cluster_build(f->sc, &error);
    ck_assert_msg(f->c != NULL, "%s", error ? error->message : "");
    entry_fill_targets(f->c);
    f->loop = sim_loop_new();
    f->net = sim_net_new(f->loop, 1);
    f->e = entry_new(f->c, f->net, f->sc->traffic->pdata[0], NULL, 0, 1, &error);
    ck_assert_msg(f->e != NULL, "%s", error ? error->message : "");
    entry_start(f->e);
}

/* Releases the fixture. */
static void
fixture_clear(Fixture *f)
{
    sim_net_free(f->net);
    entry_free(f->e);
    sim_loop_free(f->loop);
    cluster_free(f->c);
    scenario_free(f->sc);
}

/* The time of the first log record of kind about subject, or -1. */
static SimTime
logged_at(const Entry *e, const char *kind, const char *subject)
{
    const GPtrArray *log = entry_log(e);
    for (guint i = 0; i < log->len; i++) {
        const EntryRecord *r = log->pdata[i];
        if (strcmp(r->kind, kind) == 0 && strcmp(r->subject, subject) == 0)
            return r->at;
    }
    return -1;
}

/* Powers node off (up FALSE) or on at time at, running the loop there first. */
static void
power_at(Fixture *f, SimTime at, const char *node, gboolean up)
{
    sim_loop_run_until(f->loop, at);
    entry_node_power(f->e, cluster_find_node(f->c, node), up);
}

START_TEST(local_endpoints_count_ready_ips_on_the_node)
{
    Fixture f;
    fixture_init(&f, "{loadBalancer: {address: 192.0.2.50, port: 80}}", "Local");
    const K8sService *svc = entry_find_service(f.c, &(SimAddr){0}, 80, SIM_PROTO_TCP);
    ck_assert_ptr_null(svc);
    SimAddr lb = addr("192.0.2.50");
    svc = entry_find_service(f.c, &lb, 80, SIM_PROTO_TCP);
    ck_assert_ptr_nonnull(svc);
    ck_assert_ptr_null(entry_find_service(f.c, &lb, 81, SIM_PROTO_TCP));
    ck_assert_ptr_null(entry_find_service(f.c, &lb, 80, SIM_PROTO_UDP));
    ck_assert_uint_eq(entry_local_endpoints(f.c, svc, cluster_find_node(f.c, "node1")), 1);
    ck_assert_uint_eq(entry_local_endpoints(f.c, svc, cluster_find_node(f.c, "node2")), 1);
    ck_assert_uint_eq(entry_local_endpoints(f.c, svc, cluster_find_node(f.c, "node3")), 0);
    fixture_clear(&f);
}
END_TEST

START_TEST(lb_local_starts_without_the_node_lacking_a_pod)
{
    Fixture f;
    fixture_init(&f, "{loadBalancer: {address: 192.0.2.50, port: 80}}", "Local");
    ck_assert_int_eq(logged_at(f.e, "lb-out-of-rotation", "node3"), 0);
    ck_assert_int_eq(logged_at(f.e, "lb-out-of-rotation", "node1"), -1);
    ck_assert_ptr_nonnull(entry_router(f.e));
    sim_loop_run_until(f.loop, 60 * SIM_SEC);
    ck_assert_uint_eq(entry_log(f.e)->len, 1); /* nothing changes without a fault */
    fixture_clear(&f);
}
END_TEST

START_TEST(lb_takes_a_dead_node_out_after_three_timeouts_and_back_after_one_pass)
{
    Fixture f;
    fixture_init(&f, "{loadBalancer: {address: 192.0.2.50, port: 80}}", "Cluster");
    ck_assert_uint_eq(entry_log(f.e)->len, 0); /* Cluster: /healthz passes everywhere */
    power_at(&f, 10 * SIM_SEC, "node2", FALSE);
    /* probes at 16, 24 and 32 s time out 1 s later */
    sim_loop_run_until(f.loop, 60 * SIM_SEC);
    ck_assert_int_eq(logged_at(f.e, "lb-out-of-rotation", "node2"), 33 * SIM_SEC);
    power_at(&f, 61 * SIM_SEC, "node2", TRUE);
    sim_loop_run_until(f.loop, 100 * SIM_SEC);
    ck_assert_int_eq(logged_at(f.e, "lb-into-rotation", "node2"), 64 * SIM_SEC);
    fixture_clear(&f);
}
END_TEST

START_TEST(lb_thresholds_and_interval_are_configurable)
{
    Fixture f;
    fixture_init(&f,
                 "{loadBalancer: {address: 192.0.2.50, port: 80, healthCheck: {interval: 5s, "
                 "timeout: 2s, unhealthyThreshold: 2, healthyThreshold: 2}}}",
                 "Cluster");
    power_at(&f, 11 * SIM_SEC, "node1", FALSE);
    /* probes at 15 and 20 s, each failing 2 s later */
    power_at(&f, 29 * SIM_SEC, "node1", TRUE);
    sim_loop_run_until(f.loop, 60 * SIM_SEC);
    ck_assert_int_eq(logged_at(f.e, "lb-out-of-rotation", "node1"), 22 * SIM_SEC);
    /* passes at 30 and 35 s */
    ck_assert_int_eq(logged_at(f.e, "lb-into-rotation", "node1"), 35 * SIM_SEC);
    fixture_clear(&f);
}
END_TEST

START_TEST(l2_fails_over_after_the_memberlist_delay)
{
    Fixture f;
    fixture_init(&f, "{metallbL2: {address: 192.0.2.50, port: 80, failoverDelay: 7s}}", "Cluster");
    SimAddr ip = addr("192.0.2.50");
    const char *names[] = {"node1", "node2", "node3"};
    const char *winner = names[entry_l2_elect(names, 3, &ip)];
    ck_assert_int_eq(logged_at(f.e, "l2-announced", winner), 0);
    power_at(&f, 5 * SIM_SEC, winner, FALSE);
    sim_loop_run_until(f.loop, 20 * SIM_SEC);
    const GPtrArray *log = entry_log(f.e);
    ck_assert_uint_eq(log->len, 2);
    const EntryRecord *r = log->pdata[1];
    ck_assert_str_eq(r->kind, "l2-failover");
    ck_assert_int_eq(r->at, 12 * SIM_SEC);
    ck_assert_str_ne(r->subject, winner);
    fixture_clear(&f);
}
END_TEST

START_TEST(l2_local_only_elects_nodes_with_a_ready_endpoint)
{
    Fixture f;
    fixture_init(&f, "{metallbL2: {address: 192.0.2.50, port: 80}}", "Local");
    SimAddr ip = addr("192.0.2.50");
    const char *names[] = {"node1", "node2"};
    const char *winner = names[entry_l2_elect(names, 2, &ip)];
    ck_assert_int_eq(logged_at(f.e, "l2-announced", winner), 0);
    ck_assert_int_eq(logged_at(f.e, "l2-announced", "node3"), -1);
    power_at(&f, 1 * SIM_SEC, winner, FALSE);
    sim_loop_run_until(f.loop, 30 * SIM_SEC);
    /* default failoverDelay 10 s */
    ck_assert_int_eq(logged_at(f.e, "l2-failover", strcmp(winner, "node1") ? "node1" : "node2"),
                     11 * SIM_SEC);
    fixture_clear(&f);
}
END_TEST

START_TEST(speakers_withdraw_a_service_without_ready_endpoints)
{
    const char *models[] = {"{metallbL2: {address: 192.0.2.50, port: 80}}",
                            "{metallbBGP: {address: 192.0.2.50, port: 80}}"};
    const char *withdrawn[] = {"l2-withdrawn", "bgp-withdrawn"};
    for (guint m = 0; m < 2; m++) {
        Fixture f;
        fixture_init(&f, models[m], "Cluster");
        guint before = entry_log(f.e)->len;
        ck_assert_uint_gt(before, 0);
        sim_loop_run_until(f.loop, 3 * SIM_SEC);
        for (guint i = 0; i < f.c->slices->len; i++) {
            const K8sEndpointSlice *sl = f.c->slices->pdata[i];
            for (guint j = 0; j < sl->endpoints->len; j++)
                ((K8sEndpoint *)sl->endpoints->pdata[j])->ready = K8S_FALSE;
        }
        sim_loop_run_until(f.loop, 5 * SIM_SEC);
        const GPtrArray *log = entry_log(f.e);
        ck_assert_uint_gt(log->len, before);
        for (guint i = before; i < log->len; i++) {
            const EntryRecord *r = log->pdata[i];
            ck_assert_str_eq(r->kind, withdrawn[m]);
            ck_assert_int_eq(r->at, 4 * SIM_SEC); /* the next reconciliation */
        }
        fixture_clear(&f);
    }
}
END_TEST

START_TEST(bgp_withdraws_after_the_hold_time)
{
    Fixture f;
    fixture_init(&f, "{metallbBGP: {address: 192.0.2.50, port: 80}}", "Cluster");
    for (guint i = 1; i <= 3; i++) {
        g_autofree char *n = g_strdup_printf("node%u", i);
        ck_assert_int_eq(logged_at(f.e, "bgp-announced", n), 0);
    }
    power_at(&f, 5 * SIM_SEC, "node3", FALSE);
    sim_loop_run_until(f.loop, 120 * SIM_SEC);
    ck_assert_int_eq(logged_at(f.e, "bgp-withdrawn", "node3"), 95 * SIM_SEC);
    fixture_clear(&f);
}
END_TEST

START_TEST(bgp_with_bfd_withdraws_within_the_detection_time)
{
    Fixture f;
    fixture_init(&f,
                 "{metallbBGP: {address: 192.0.2.50, port: 80, bfd: {interval: 100ms, "
                 "multiplier: 5}}}",
                 "Local");
    ck_assert_int_eq(logged_at(f.e, "bgp-announced", "node3"), -1); /* no endpoint */
    power_at(&f, 5 * SIM_SEC, "node1", FALSE);
    sim_loop_run_until(f.loop, 10 * SIM_SEC);
    ck_assert_int_eq(logged_at(f.e, "bgp-withdrawn", "node1"), 5500 * SIM_MSEC);
    power_at(&f, 20 * SIM_SEC, "node1", TRUE);
    sim_loop_run_until(f.loop, 30 * SIM_SEC);
    const GPtrArray *log = entry_log(f.e);
    const EntryRecord *last = log->pdata[log->len - 1];
    ck_assert_str_eq(last->kind, "bgp-announced");
    ck_assert_str_eq(last->subject, "node1");
    ck_assert_int_le(last->at, 21 * SIM_SEC);
    fixture_clear(&f);
}
END_TEST

START_TEST(dns_rotates_and_keeps_a_dead_address_until_the_ttl)
{
    Fixture f;
    fixture_init(&f, "{dnsRoundRobin: {nodes: ready, port: 30080, ttl: 30s}}", "Cluster");
    const ScenarioTraffic *t = f.sc->traffic->pdata[0];
    ck_assert_uint_eq(t->to->len, 3);
    /* the first answer is in server order, taken in turn */
    ck_assert_uint_eq(entry_next_target(f.e, 0), 0);
    ck_assert_uint_eq(entry_next_target(f.e, SIM_SEC), 1);
    ck_assert_uint_eq(entry_next_target(f.e, 2 * SIM_SEC), 2);
    ck_assert_uint_eq(entry_next_target(f.e, 3 * SIM_SEC), 0);
    /* node3 becomes NotReady: its record leaves, the cache keeps it until 30 s */
    cluster_find_node(f.c, "node3")->ready = FALSE;
    gboolean saw3 = FALSE;
    for (SimTime at = 4 * SIM_SEC; at < 30 * SIM_SEC; at += SIM_SEC)
        saw3 |= entry_next_target(f.e, at) == 2;
    ck_assert(saw3);
    /* the next query's answer is rotated by one and has no node3 */
    ck_assert_uint_eq(entry_next_target(f.e, 30 * SIM_SEC), 1);
    ck_assert_uint_eq(entry_next_target(f.e, 31 * SIM_SEC), 0);
    ck_assert_uint_eq(entry_next_target(f.e, 32 * SIM_SEC), 1);
    ck_assert_int_eq(logged_at(f.e, "dns-resolved", "web"), 0);
    const GPtrArray *log = entry_log(f.e);
    ck_assert_uint_eq(log->len, 2);
    ck_assert_int_eq(((EntryRecord *)log->pdata[1])->at, 30 * SIM_SEC);
    fixture_clear(&f);
}
END_TEST

START_TEST(external_ip_via_one_node_needs_no_router)
{
    Fixture f;
    fixture_init(&f, "{externalIP: {address: 192.0.2.50, port: 80, via: node2}}", "Cluster");
    ck_assert_ptr_null(entry_router(f.e));
    ck_assert_uint_eq(entry_log(f.e)->len, 0);
    fixture_clear(&f);
    fixture_init(&f, "{externalIP: {address: 192.0.2.50, port: 80, via: [node1, node2]}}",
                 "Cluster");
    ck_assert_ptr_nonnull(entry_router(f.e));
    fixture_clear(&f);
}
END_TEST

START_TEST(dns_static_records_ignore_node_state)
{
    Fixture f;
    fixture_init(&f, "{dnsRoundRobin: {addresses: [192.168.1.101, 192.168.1.103], port: 30080}}",
                 "Cluster");
    cluster_find_node(f.c, "node3")->ready = FALSE;
    ck_assert_uint_eq(entry_next_target(f.e, 0), 0);
    ck_assert_uint_eq(entry_next_target(f.e, 31 * SIM_SEC), 1); /* rotated: [1, 0] */
    ck_assert_uint_eq(entry_next_target(f.e, 32 * SIM_SEC), 0);
    ck_assert_uint_eq(entry_log(f.e)->len, 1); /* the same addresses: logged once */
    fixture_clear(&f);
}
END_TEST

/* ------------------------------------------------------------------ whole runs */

START_TEST(real_probes_take_a_node_out_when_its_pod_goes)
{
    /* The fixture's cluster with a scale-down at 10 s: one pod goes, its node's
     * healthCheckNodePort answers 503 from the next kube-proxy sync on, and the load balancer's
     * HTTP probes (TCP from its router through the node's rules) count three of them. */
    g_autofree char *base =
        g_strdup_printf(cluster_yaml, "{loadBalancer: {address: 192.0.2.50, port: 80}}", "Local");
    GString *text = g_string_new(base);
    g_string_replace(text, "  traffic:\n",
                     "  events: [{at: 10s, scale: {deployment: nginx, replicas: 1}}]\n"
                     "  traffic:\n",
                     1);
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("t.yaml", text->str, text->len, &error);
    g_string_free(text, TRUE);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(Run) r = run_new(c, &error);
    ck_assert_msg(r != NULL, "%s", error ? error->message : "");
    run_execute(r, NULL, NULL);
    g_autoptr(RunReport) rep = run_report(r);
    const K8sService *svc = cluster_find_service(c, "default", "web");
    ck_assert_uint_ne(svc->health_check_node_port, 0);
    g_autofree char *port = g_strdup_printf(":%u/ failed 3 times", svc->health_check_node_port);
    guint out = 0;
    for (guint i = 0; i < rep->events->len; i++) {
        const ReportEvent *ev = rep->events->pdata[i];
        if (strcmp(ev->kind, "lb-out-of-rotation") != 0 || strcmp(ev->subject, "node3") == 0)
            continue;
        out++;
        ck_assert_ptr_nonnull(strstr(ev->detail, port));          /* the healthCheckNodePort */
        ck_assert_ptr_nonnull(strstr(ev->detail, "(HTTP 503)"));  /* the server's answer */
        ck_assert_int_gt(ev->at, 10 * SIM_SEC + 2 * 8 * SIM_SEC); /* three probes after */
        ck_assert_int_le(ev->at, 10 * SIM_SEC + 4 * 8 * SIM_SEC);
    }
    ck_assert_uint_eq(out, 1);
    for (guint i = 1; i < rep->events->len; i++) /* the merged timeline stays in order */
        ck_assert_int_le(((ReportEvent *)rep->events->pdata[i - 1])->at,
                         ((ReportEvent *)rep->events->pdata[i])->at);
}
END_TEST

/* ------------------------------------------------------------------ the loader */

START_TEST(loader_reads_entries_with_defaults)
{
    g_autofree char *text =
        g_strdup_printf(cluster_yaml, "{loadBalancer: {address: 192.0.2.50, port: 80}}", "Cluster");
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    const ScenarioTraffic *t = sc->traffic->pdata[0];
    ck_assert_ptr_nonnull(t->entry);
    ck_assert_int_eq(t->entry->kind, SCENARIO_ENTRY_LOAD_BALANCER);
    ck_assert_int_eq(t->entry->hc_interval, 8 * SIM_SEC);
    ck_assert_int_eq(t->entry->hc_timeout, SIM_SEC);
    ck_assert_uint_eq(t->entry->hc_healthy, 1);
    ck_assert_uint_eq(t->entry->hc_unhealthy, 3);
    ck_assert_uint_eq(t->to->len, 1);
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(sim_sockaddr_to_string(&g_array_index(t->to, SimSockAddr, 0), buf),
                     "192.0.2.50:80");
}
END_TEST

START_TEST(loader_rejects_bad_entries)
{
    const char *bad[][2] = {
        {"{metalLB: {address: 192.0.2.50, port: 80}}", "did you mean 'metallbL2'?"},
        {"{loadBalancer: {address: 192.0.2.50}}", "Required value: the port"},
        {"{loadBalancer: {port: 80}}", "Required value: the IP"},
        {"{loadBalancer: {address: 192.0.2.50, port: 80, healthCheck: {interval: 0s}}}",
         "must be positive"},
        {"{loadBalancer: {address: 192.0.2.50, port: 80, healthCheck: {unhealthyThreshold: 0}}}",
         "must be between 1 and 10"},
        {"{dnsRoundRobin: {port: 80}}", "exactly one of 'addresses'"},
        {"{dnsRoundRobin: {nodes: some, port: 80}}", "Unsupported value: \"some\""},
        {"{externalIP: {address: 192.0.2.9, port: 80}}", "the node (or nodes)"},
        {"{externalIP: {address: 192.0.2.9, port: 80, via: nodex}}", "node 'nodex'"},
        {"{metallbL2: {address: 192.0.2.50, port: 80}, metallbBGP: {}}", "exactly one entry"},
        {"metallbL2", "needs its settings"},
        {"{metallbL2: {address: \"2001:db8::1\", port: 80}}", "IPv4 only"},
        {"{dnsRoundRobin: {addresses: [\"2001:db8::1\"], port: 80}}", "IPv4 only"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *text = g_strdup_printf(cluster_yaml, bad[i][0], "Cluster");
        g_autoptr(GError) error = NULL;
        g_autoptr(Scenario) sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
        ck_assert_msg(sc == NULL, "accepted %s", bad[i][0]);
        ck_assert_msg(strstr(error->message, bad[i][1]) != NULL, "%s: %s", bad[i][0],
                      error->message);
    }
}
END_TEST

START_TEST(an_entry_without_a_service_is_an_error)
{
    g_autofree char *text =
        g_strdup_printf(cluster_yaml, "{metallbBGP: {address: 192.0.2.99, port: 80}}", "Cluster");
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert(sc != NULL);
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert(c != NULL);
    g_autoptr(SimLoop) loop = sim_loop_new();
    SimNet *net = sim_net_new(loop, 1);
    Entry *e = entry_new(c, net, sc->traffic->pdata[0], NULL, 0, 1, &error);
    ck_assert_ptr_null(e);
    ck_assert(g_error_matches(error, ENTRY_ERROR, ENTRY_ERROR_NO_SERVICE));
    ck_assert_ptr_nonnull(strstr(error->message, "no Service has 192.0.2.99"));
    sim_net_free(net);
}
END_TEST

static Suite *
entry_suite(void)
{
    Suite *s = suite_create("entry");
    TCase *pure = tcase_create("decisions");
    tcase_add_test(pure, flow_hash_is_stable_per_flow_and_key);
    tcase_add_test(pure, hash_threshold_matches_fib_rebalance_bounds);
    tcase_add_test(pure, ecmp_spreads_flows_evenly_and_rehashes_on_withdrawal);
    tcase_add_test(pure, l2_election_is_metallbs_sha256_order);
    tcase_add_test(pure, health_thresholds_count_consecutive_probes);
    tcase_add_test(pure, next_hop_hook_steers_forwarded_packets);
    suite_add_tcase(s, pure);
    TCase *timing = tcase_create("timing");
    tcase_add_test(timing, local_endpoints_count_ready_ips_on_the_node);
    tcase_add_test(timing, lb_local_starts_without_the_node_lacking_a_pod);
    tcase_add_test(timing, lb_takes_a_dead_node_out_after_three_timeouts_and_back_after_one_pass);
    tcase_add_test(timing, lb_thresholds_and_interval_are_configurable);
    tcase_add_test(timing, l2_fails_over_after_the_memberlist_delay);
    tcase_add_test(timing, l2_local_only_elects_nodes_with_a_ready_endpoint);
    tcase_add_test(timing, speakers_withdraw_a_service_without_ready_endpoints);
    tcase_add_test(timing, bgp_withdraws_after_the_hold_time);
    tcase_add_test(timing, bgp_with_bfd_withdraws_within_the_detection_time);
    tcase_add_test(timing, dns_rotates_and_keeps_a_dead_address_until_the_ttl);
    tcase_add_test(timing, dns_static_records_ignore_node_state);
    tcase_add_test(timing, external_ip_via_one_node_needs_no_router);
    suite_add_tcase(s, timing);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 60);
    tcase_add_test(runs, real_probes_take_a_node_out_when_its_pod_goes);
    suite_add_tcase(s, runs);
    TCase *loading = tcase_create("loading");
    tcase_add_test(loading, loader_reads_entries_with_defaults);
    tcase_add_test(loading, loader_rejects_bad_entries);
    tcase_add_test(loading, an_entry_without_a_service_is_an_error);
    suite_add_tcase(s, loading);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(entry_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
