/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated network: two clients and a node forwarding to a pod behind a veth, with a small
 * kube-proxy-style ruleset (a NodePort that masquerades, a clusterIP that does not, DROP and
 * REJECT rules). Covers TCP and UDP through DNAT and SNAT, SNAT port choice, SYN
 * retransmission and timeouts, REJECT and RST as "connection refused", conntrack limits, the
 * node's capture read back with libpcap, determinism, and ICMP on the wire.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>

#include "sim/net.h"
#include "sim/net_private.h" /* net_route_lookup() */
#include "sim/sim_wire.h"
#include "tests/test_util.h"

#define MS SIM_MSEC
#define S SIM_SEC

static void
assert_sock(const SimSockAddr *s, const char *want)
{
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(sim_sockaddr_to_string(s, buf), want);
}

/* ------------------------------------------------------------------ the ruleset */

/* Appends one rule (NULL-terminated arguments) and asserts it was accepted. */
#define RULE(rs, table, chain, ...)                                                         \
    do {                                                                                    \
        g_autoptr(GError) rule_error = NULL;                                                \
        ck_assert_msg(nf_ruleset_append(rs, table, chain, &rule_error, __VA_ARGS__, NULL),  \
                      "%s", rule_error != NULL ? rule_error->message : "");                 \
    } while (0)

static void
chain(NfRuleset *rs, NfTableId table, const char *name)
{
    ck_assert(nf_ruleset_new_chain(rs, table, name, NULL));
}

/* The nat side: NodePort 30080 (masqueraded) and clusterIP 10.96.0.10:80 (not) to the pod's
 * 8080, a UDP clusterIP 10.96.0.10:53 to 5353, and 10.96.0.12 to ports nothing listens on. */
static void
nat_rules(NfRuleset *rs, gboolean random_fully)
{
    const NfTableId N = NF_TABLE_NAT;
    const char *chains[] = {"KUBE-SERVICES",   "KUBE-NODEPORTS", "KUBE-POSTROUTING",
                            "KUBE-MARK-MASQ",  "KUBE-EXT-WEB",   "KUBE-SVC-WEB",
                            "KUBE-SEP-WEB",    "KUBE-SVC-DNS",   "KUBE-SEP-DNS",
                            "KUBE-SVC-CLOSED", "KUBE-SEP-CLOSED", "KUBE-SVC-AFF",
                            "KUBE-SEP-AFF-A",  "KUBE-SEP-AFF-B", "KUBE-SVC-RR",
                            "KUBE-SEP-RR-A",   "KUBE-SEP-RR-B"};
    for (gsize i = 0; i < G_N_ELEMENTS(chains); i++)
        chain(rs, N, chains[i]);
    RULE(rs, N, "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j",
         "KUBE-SERVICES");
    RULE(rs, N, "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j",
         "KUBE-SERVICES");
    RULE(rs, N, "POSTROUTING", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j",
         "KUBE-POSTROUTING");
    RULE(rs, N, "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", "0x4000/0x4000", "-j", "RETURN");
    RULE(rs, N, "KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", "0x4000");
    if (random_fully)
        RULE(rs, N, "KUBE-POSTROUTING", "-j", "MASQUERADE", "--random-fully");
    else
        RULE(rs, N, "KUBE-POSTROUTING", "-j", "MASQUERADE");
    RULE(rs, N, "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x4000");
    RULE(rs, N, "KUBE-SERVICES", "-d", "10.96.0.10/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
         "-j", "KUBE-SVC-WEB");
    RULE(rs, N, "KUBE-SERVICES", "-d", "10.96.0.10/32", "-p", "udp", "-m", "udp", "--dport", "53",
         "-j", "KUBE-SVC-DNS");
    RULE(rs, N, "KUBE-SERVICES", "-d", "10.96.0.12/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
         "-j", "KUBE-SVC-CLOSED");
    RULE(rs, N, "KUBE-SERVICES", "-d", "10.96.0.12/32", "-p", "udp", "-m", "udp", "--dport", "53",
         "-j", "KUBE-SVC-CLOSED");
    RULE(rs, N, "KUBE-SERVICES", "-d", "10.96.0.20/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
         "-j", "KUBE-SVC-AFF");
    RULE(rs, N, "KUBE-SERVICES", "-d", "10.96.0.21/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
         "-j", "KUBE-SVC-RR");
    RULE(rs, N, "KUBE-SERVICES", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODEPORTS");
    RULE(rs, N, "KUBE-NODEPORTS", "-p", "tcp", "-m", "tcp", "--dport", "30080", "-j",
         "KUBE-EXT-WEB");
    RULE(rs, N, "KUBE-EXT-WEB", "-j", "KUBE-MARK-MASQ");
    RULE(rs, N, "KUBE-EXT-WEB", "-j", "KUBE-SVC-WEB");
    RULE(rs, N, "KUBE-SVC-WEB", "-j", "KUBE-SEP-WEB");
    RULE(rs, N, "KUBE-SEP-WEB", "-s", "10.1.1.5/32", "-j", "KUBE-MARK-MASQ");
    RULE(rs, N, "KUBE-SEP-WEB", "-p", "tcp", "-m", "tcp", "-j", "DNAT", "--to-destination",
         "10.1.1.5:8080");
    RULE(rs, N, "KUBE-SVC-DNS", "-j", "KUBE-SEP-DNS");
    RULE(rs, N, "KUBE-SEP-DNS", "-p", "udp", "-m", "udp", "-j", "DNAT", "--to-destination",
         "10.1.1.5:5353");
    /* ClientIP affinity over the pod's ports 8080 and 8081, and the same without affinity. */
    RULE(rs, N, "KUBE-SVC-AFF", "-m", "recent", "--name", "KUBE-SEP-AFF-A", "--rcheck",
         "--seconds", "10", "--reap", "-j", "KUBE-SEP-AFF-A");
    RULE(rs, N, "KUBE-SVC-AFF", "-m", "recent", "--name", "KUBE-SEP-AFF-B", "--rcheck",
         "--seconds", "10", "--reap", "-j", "KUBE-SEP-AFF-B");
    RULE(rs, N, "KUBE-SVC-AFF", "-m", "statistic", "--mode", "random", "--probability",
         "0.5000000000", "-j", "KUBE-SEP-AFF-A");
    RULE(rs, N, "KUBE-SVC-AFF", "-j", "KUBE-SEP-AFF-B");
    RULE(rs, N, "KUBE-SEP-AFF-A", "-p", "tcp", "-m", "recent", "--name", "KUBE-SEP-AFF-A", "--set",
         "-m", "tcp", "-j", "DNAT", "--to-destination", "10.1.1.5:8080");
    RULE(rs, N, "KUBE-SEP-AFF-B", "-p", "tcp", "-m", "recent", "--name", "KUBE-SEP-AFF-B", "--set",
         "-m", "tcp", "-j", "DNAT", "--to-destination", "10.1.1.5:8081");
    RULE(rs, N, "KUBE-SVC-RR", "-m", "statistic", "--mode", "random", "--probability",
         "0.5000000000", "-j", "KUBE-SEP-RR-A");
    RULE(rs, N, "KUBE-SVC-RR", "-j", "KUBE-SEP-RR-B");
    RULE(rs, N, "KUBE-SEP-RR-A", "-p", "tcp", "-m", "tcp", "-j", "DNAT", "--to-destination",
         "10.1.1.5:8080");
    RULE(rs, N, "KUBE-SEP-RR-B", "-p", "tcp", "-m", "tcp", "-j", "DNAT", "--to-destination",
         "10.1.1.5:8081");
    RULE(rs, N, "KUBE-SVC-CLOSED", "-j", "KUBE-SEP-CLOSED");
    RULE(rs, N, "KUBE-SEP-CLOSED", "-p", "tcp", "-m", "tcp", "-j", "DNAT", "--to-destination",
         "10.1.1.5:9999");
    RULE(rs, N, "KUBE-SEP-CLOSED", "-p", "udp", "-m", "udp", "-j", "DNAT", "--to-destination",
         "10.1.1.5:9999");
}

/* The filter side: KUBE-FORWARD, a REJECT (ICMP) for 10.96.0.11:80, a REJECT with a RST for
 * 10.96.0.13:80, and a DROP for NodePort 30081. */
static void
filter_rules(NfRuleset *rs)
{
    const NfTableId F = NF_TABLE_FILTER;
    chain(rs, F, "KUBE-SERVICES");
    chain(rs, F, "KUBE-EXTERNAL-SERVICES");
    chain(rs, F, "KUBE-FORWARD");
    RULE(rs, F, "INPUT", "-m", "conntrack", "--ctstate", "NEW", "-j", "KUBE-EXTERNAL-SERVICES");
    RULE(rs, F, "FORWARD", "-m", "comment", "--comment", "kubernetes forwarding rules", "-j",
         "KUBE-FORWARD");
    RULE(rs, F, "FORWARD", "-m", "conntrack", "--ctstate", "NEW", "-j", "KUBE-SERVICES");
    RULE(rs, F, "FORWARD", "-m", "conntrack", "--ctstate", "NEW", "-j", "KUBE-EXTERNAL-SERVICES");
    RULE(rs, F, "KUBE-FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP");
    RULE(rs, F, "KUBE-FORWARD", "-m", "mark", "--mark", "0x4000/0x4000", "-j", "ACCEPT");
    RULE(rs, F, "KUBE-FORWARD", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j",
         "ACCEPT");
    RULE(rs, F, "KUBE-SERVICES", "-d", "10.96.0.11/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
         "-j", "REJECT");
    RULE(rs, F, "KUBE-SERVICES", "-d", "10.96.0.13/32", "-p", "tcp", "-m", "tcp", "--dport", "80",
         "-j", "REJECT", "--reject-with", "tcp-reset");
    RULE(rs, F, "KUBE-EXTERNAL-SERVICES", "-m", "addrtype", "--dst-type", "LOCAL", "-p", "tcp",
         "-m", "tcp", "--dport", "30081", "-j", "DROP");
}

/* ------------------------------------------------------------------ the pod's servers */

typedef struct Net Net;
static const SimSocketOps server_conn_ops;

typedef struct {
    Net *n;
    guint32 got;
} ServerConn;

struct Net {
    SimLoop *loop;
    SimNet *net;
    SimHost *client[2];
    SimHost *node;
    SimHost *pod;
    NfRuleset *rs;
    SimPcap *pcap;
    GArray *peers;      /* SimSockAddr: the peers the pod's servers saw, in order */
    GArray *locals;     /* SimSockAddr: the local addresses they were accepted on */
    gboolean server_keeps_open; /* answer without closing: the client closes first */
    GPtrArray *conns;   /* ServerConn, owned: connections still open on the pod */
    guint server_closed;
    guint32 request;    /* bytes the TCP server waits for */
    guint32 response;   /* bytes it answers with */
};

static void
server_connected(SimSocket *s, gpointer data)
{
    Net *n = data;
    ServerConn *c = g_new0(ServerConn, 1);
    c->n = n;
    g_ptr_array_add(n->conns, c);
    g_array_append_val(n->peers, *sim_socket_peer(s));
    g_array_append_val(n->locals, *sim_socket_local(s));
    sim_socket_set_user_data(s, &server_conn_ops, c);
}

static void
server_data(SimSocket *s, guint32 bytes, gpointer data)
{
    ServerConn *c = data;
    c->got += bytes;
    if (c->got >= c->n->request && c->got - bytes < c->n->request) {
        sim_socket_send(s, c->n->response);
        if (!c->n->server_keeps_open)
            sim_socket_close(s);
    }
}

/* The client closed first: close too. */
static void
server_peer_closed(SimSocket *s, gpointer data)
{
    sim_socket_close(s);
}

static void
server_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    ServerConn *c = data;
    c->n->server_closed++;
    g_ptr_array_remove_fast(c->n->conns, c); /* frees c */
}

static const SimSocketOps server_conn_ops = {
    .data = server_data, .peer_closed = server_peer_closed, .closed = server_closed};
static const SimSocketOps server_listen_ops = {.connected = server_connected};

/* A datagram on the pod's UDP port: answered with 200 bytes from the per-peer socket. */
static void
udp_server_data(SimSocket *s, guint32 bytes, gpointer data)
{
    Net *n = data;
    g_array_append_val(n->peers, *sim_socket_peer(s));
    sim_socket_send(s, 200);
    sim_socket_close(s);
}

static const SimSocketOps udp_server_ops = {.data = udp_server_data};

/* ------------------------------------------------------------------ the network */

typedef struct {
    guint ct_max;
    gboolean no_tcp_loose; /* nf_conntrack_tcp_loose = 0 */
    gboolean random_fully;
    const char *pcap_path; /* capture the node into this file */
    guint64 seed;
} NetConfig;

/* client-1 203.0.113.10 and client-2 203.0.113.11 on the fabric with node 192.168.1.101, which
 * forwards to pod 10.1.1.5 over veth1; the pod serves TCP 8080 and UDP 5353. */
static Net *
net_build(const NetConfig *cfg)
{
    Net *n = g_new0(Net, 1);
    n->loop = sim_loop_new();
    n->net = sim_net_new(n->loop, cfg->seed != 0 ? cfg->seed : 1);
    n->peers = g_array_new(FALSE, FALSE, sizeof(SimSockAddr));
    n->locals = g_array_new(FALSE, FALSE, sizeof(SimSockAddr));
    n->conns = g_ptr_array_new_with_free_func(g_free);
    n->request = 300;
    n->response = 2000;
    const char *client_addr[2] = {"203.0.113.10", "203.0.113.11"};
    for (guint i = 0; i < 2; i++) {
        g_autofree char *name = g_strdup_printf("client-%u", i + 1);
        SimHost *c = n->client[i] = sim_net_add_host(n->net, name, FALSE);
        guint eth0 = sim_host_add_iface(c, "eth0", NULL);
        SimAddr a = addr(client_addr[i]), gw = addr("192.168.1.101");
        sim_host_add_addr(c, eth0, &a);
        sim_net_attach_fabric(n->net, c, eth0, 100 * SIM_USEC, 1000000000);
        SimCidr lan = cidr("192.168.1.0/24"), svc = cidr("10.96.0.0/12");
        sim_host_add_route(c, &lan, eth0, NULL);
        sim_host_add_route(c, &svc, eth0, &gw);
    }
    n->node = sim_net_add_host(n->net, "node-1", TRUE);
    guint eth0 = sim_host_add_iface(n->node, "eth0", NULL);
    guint veth = sim_host_add_iface(n->node, "veth1", NULL);
    SimAddr node_ip = addr("192.168.1.101");
    sim_host_add_addr(n->node, eth0, &node_ip);
    sim_net_attach_fabric(n->net, n->node, eth0, 100 * SIM_USEC, 1000000000);
    SimCidr any = cidr("0.0.0.0/0"), pod32 = cidr("10.1.1.5/32");
    sim_host_add_route(n->node, &any, eth0, NULL);
    sim_host_add_route(n->node, &pod32, veth, NULL);
    CtConfig ct;
    ct_config_init(&ct);
    ct.max = cfg->ct_max;
    ct.tcp_loose = !cfg->no_tcp_loose;
    sim_host_enable_conntrack(n->node, &ct);
    n->rs = nf_ruleset_new(SIM_AF_INET);
    nat_rules(n->rs, cfg->random_fully);
    filter_rules(n->rs);
    sim_host_set_ruleset(n->node, n->rs);
    n->pod = sim_net_add_host(n->net, "pod-a", FALSE);
    guint pod_eth0 = sim_host_add_iface(n->pod, "eth0", NULL);
    SimAddr pod_ip = addr("10.1.1.5");
    sim_host_add_addr(n->pod, pod_eth0, &pod_ip);
    sim_net_link(n->net, n->node, veth, n->pod, pod_eth0, 10 * SIM_USEC);
    sim_host_add_route(n->pod, &any, pod_eth0, NULL);
    ck_assert(sim_socket_listen(n->pod, SIM_PROTO_TCP, 8080, &server_listen_ops, n) != NULL);
    ck_assert(sim_socket_listen(n->pod, SIM_PROTO_TCP, 8081, &server_listen_ops, n) != NULL);
    ck_assert(sim_socket_listen(n->pod, SIM_PROTO_UDP, 5353, &udp_server_ops, n) != NULL);
    if (cfg->pcap_path != NULL) {
        g_autoptr(GError) error = NULL;
        n->pcap = sim_pcap_open(cfg->pcap_path, 0, &error);
        ck_assert_msg(n->pcap != NULL, "%s", error != NULL ? error->message : "");
        sim_host_set_capture(n->node, n->pcap);
    }
    return n;
}

static void
net_free(Net *n)
{
    sim_net_free(n->net);
    sim_loop_free(n->loop);
    if (n->pcap != NULL)
        ck_assert(sim_pcap_close(n->pcap, NULL));
    nf_ruleset_free(n->rs);
    g_array_unref(n->peers);
    g_array_unref(n->locals);
    g_ptr_array_unref(n->conns); /* sim_net_free() released their sockets without callbacks */
    g_free(n);
}

static SimHostStats
stats(SimHost *h)
{
    SimHostStats st;
    sim_host_get_stats(h, &st);
    return st;
}

/* ------------------------------------------------------------------ clients */

typedef struct {
    Net *n;
    SimSocket *s;
    SimSockAddr local;
    guint32 request;
    guint32 received;
    guint32 close_after; /* close once this many bytes arrived (0: wait for the server) */
    gboolean connected;
    gboolean peer_closed;
    gboolean done;
    SimCloseReason reason;
    SimTime connected_at;
    SimTime closed_at;
} Client;

static void
client_connected(SimSocket *s, gpointer data)
{
    Client *c = data;
    c->connected = TRUE;
    c->connected_at = sim_loop_now(c->n->loop);
    if (c->request > 0)
        sim_socket_send(s, c->request);
}

static void
client_data(SimSocket *s, guint32 bytes, gpointer data)
{
    Client *c = data;
    c->received += bytes;
    if (c->close_after > 0 && c->received >= c->close_after && c->received - bytes < c->close_after)
        sim_socket_close(s);
}

static void
client_peer_closed(SimSocket *s, gpointer data)
{
    Client *c = data;
    c->peer_closed = TRUE;
    sim_socket_close(s);
}

static void
client_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    Client *c = data;
    c->done = TRUE;
    c->reason = reason;
    c->closed_at = sim_loop_now(c->n->loop);
    c->s = NULL;
}

static const SimSocketOps client_ops = {
    .connected = client_connected,
    .data = client_data,
    .peer_closed = client_peer_closed,
    .closed = client_closed,
};

/* Connects client i to dst over TCP. */
static void
client_start(Client *c, Net *n, guint i, const char *dst, const SimTcpOptions *opt)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    c->request = 300;
    SimSockAddr to = sockaddr(dst);
    c->s = sim_socket_connect(n->client[i], SIM_PROTO_TCP, &to, opt, &client_ops, c);
    ck_assert(c->s != NULL);
    c->local = *sim_socket_local(c->s);
    assert_sock(sim_socket_peer(c->s), dst);
}

/* ------------------------------------------------------------------ TCP through NAT */

START_TEST(tcp_request_response_through_a_nodeport_is_masqueraded)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c;
    client_start(&c, n, 0, "192.168.1.101:30080", NULL);
    ck_assert_uint_ge(c.local.port, 32768);
    ck_assert_uint_le(c.local.port, 60999);
    assert_sock(&(SimSockAddr){c.local.addr, 0}, "203.0.113.10:0");
    ck_assert(!c.connected); /* callbacks only from the loop */
    sim_loop_run(n->loop);
    ck_assert(c.connected);
    ck_assert_uint_eq(c.received, 2000);
    ck_assert(c.peer_closed);
    ck_assert(c.done);
    ck_assert_int_eq(c.reason, SIM_CLOSE_NORMAL);
    ck_assert_uint_eq(n->server_closed, 1);
    /* The pod saw the node's address (MASQUERADE), on a port other than the client's. */
    ck_assert_uint_eq(n->peers->len, 1);
    SimSockAddr seen = g_array_index(n->peers, SimSockAddr, 0);
    ck_assert_uint_ne(seen.port, c.local.port); /* --random-fully: a 1-in-64k coincidence */
    SimAddr node_ip = addr("192.168.1.101");
    ck_assert(sim_addr_equal(&seen.addr, &node_ip));
    SimHostStats st = stats(n->node);
    ck_assert_uint_eq(st.new_connections, 1);
    ck_assert_uint_gt(st.forwarded, 0);
    ck_assert_uint_eq(st.forwarded, st.rx_packets); /* every packet crossed the node */
    ck_assert_uint_eq(st.forwarded, st.tx_packets);
    ck_assert_uint_eq(st.forwarded_to_hosts, 0); /* clients and pods do not forward */
    ck_assert_uint_gt(st.rules_evaluated, 0);
    for (guint d = 0; d < SIM_DROP_COUNT; d++)
        ck_assert_uint_eq(st.drops[d], 0);
    /* The client sent everything it received an answer for: SYN, ACK, data, FIN, ACKs. */
    ck_assert_uint_eq(stats(n->client[0]).tx_packets + stats(n->pod).tx_packets, st.forwarded);
    net_free(n);
}
END_TEST

START_TEST(tcp_to_a_cluster_ip_keeps_the_client_address)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c;
    client_start(&c, n, 0, "10.96.0.10:80", NULL);
    sim_loop_run(n->loop);
    ck_assert_uint_eq(c.received, 2000);
    ck_assert_int_eq(c.reason, SIM_CLOSE_NORMAL);
    ck_assert_uint_eq(n->peers->len, 1);
    SimSockAddr seen = g_array_index(n->peers, SimSockAddr, 0);
    ck_assert(sim_addr_equal(&seen.addr, &c.local.addr));
    ck_assert_uint_eq(seen.port, c.local.port);
    /* The client's socket is keyed on the address it dialled: replies were un-DNATed. */
    net_free(n);
}
END_TEST

/* Connects both clients from source port 40000 to the NodePort and returns the pod's view. */
static void
two_clients_same_port(gboolean random_fully, SimSockAddr seen[2])
{
    Net *n = net_build(&(NetConfig){.random_fully = random_fully});
    SimTcpOptions opt = {.local_port = 40000};
    Client c[2];
    for (guint i = 0; i < 2; i++) {
        client_start(&c[i], n, i, "192.168.1.101:30080", &opt);
        ck_assert_uint_eq(c[i].local.port, 40000);
    }
    sim_loop_run(n->loop);
    for (guint i = 0; i < 2; i++) {
        ck_assert_uint_eq(c[i].received, 2000);
        ck_assert_int_eq(c[i].reason, SIM_CLOSE_NORMAL);
    }
    ck_assert_uint_eq(n->peers->len, 2);
    seen[0] = g_array_index(n->peers, SimSockAddr, 0);
    seen[1] = g_array_index(n->peers, SimSockAddr, 1);
    CtStats cs;
    ct_get_stats(sim_host_conntrack(n->node), &cs);
    ck_assert_uint_eq(cs.created, 2);
    ck_assert_uint_eq(cs.insert_failed, 0);
    if (!random_fully)
        ck_assert_uint_ge(cs.snat_clashes, 1); /* the second kept port was taken */
    net_free(n);
}

START_TEST(two_clients_with_one_source_port_get_different_snat_ports)
{
    SimSockAddr seen[2];
    two_clients_same_port(FALSE, seen);
    SimAddr node_ip = addr("192.168.1.101");
    ck_assert(sim_addr_equal(&seen[0].addr, &node_ip));
    ck_assert(sim_addr_equal(&seen[1].addr, &node_ip));
    ck_assert_uint_eq(seen[0].port, 40000); /* plain MASQUERADE keeps a free port */
    ck_assert_uint_ne(seen[1].port, 40000);
    two_clients_same_port(TRUE, seen);
    ck_assert_uint_ne(seen[0].port, seen[1].port);
    ck_assert(sim_addr_equal(&seen[0].addr, &node_ip));
}
END_TEST

/* ------------------------------------------------------------------ failures */

START_TEST(a_drop_rule_makes_the_client_retransmit_and_time_out)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c;
    SimTcpOptions opt = {.connect_timeout = 5 * S};
    client_start(&c, n, 0, "192.168.1.101:30081", &opt);
    /* SYNs at 0 s, 1 s and 3 s reach the node and are dropped there. */
    const struct {
        SimTime until;
        guint64 drops;
    } steps[] = {{500 * MS, 1}, {1500 * MS, 2}, {2900 * MS, 2}, {3500 * MS, 3}, {4900 * MS, 3}};
    for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
        sim_loop_run_until(n->loop, steps[i].until);
        ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_NETFILTER], steps[i].drops);
        ck_assert(!c.done);
    }
    sim_loop_run(n->loop);
    ck_assert(c.done);
    ck_assert(!c.connected);
    ck_assert_int_eq(c.reason, SIM_CLOSE_TIMEOUT);
    ck_assert_int_eq(c.closed_at, 5 * S);
    ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_NETFILTER], 3);
    ck_assert_uint_eq(stats(n->client[0]).tx_packets, 3);
    ck_assert_uint_eq(stats(n->node).new_connections, 0);
    net_free(n);
}
END_TEST

START_TEST(syn_retransmissions_follow_the_kernel_schedule)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c;
    client_start(&c, n, 0, "192.168.1.101:30081", NULL);
    sim_loop_run(n->loop);
    /* tcp_syn_retries 6: SYNs at 0, 1, 3, 7, 15, 31, 63 s, then 64 s more: 127 s > 75 s. */
    ck_assert_int_eq(c.reason, SIM_CLOSE_TIMEOUT);
    ck_assert_int_eq(c.closed_at, 75 * S);
    ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_NETFILTER], 7);
    Client d;
    SimTcpOptions opt = {.connect_timeout = 1000 * S, .syn_retries = 2};
    client_start(&d, n, 1, "192.168.1.101:30081", &opt);
    SimTime start = sim_loop_now(n->loop);
    sim_loop_run(n->loop);
    ck_assert_int_eq(d.reason, SIM_CLOSE_TIMEOUT);
    ck_assert_int_eq(d.closed_at - start, 7 * S); /* SYNs at 0, 1, 3 s; gives up at 7 s */
    net_free(n);
}
END_TEST

START_TEST(a_reject_rule_refuses_within_one_round_trip)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c, r;
    client_start(&c, n, 0, "10.96.0.11:80", NULL);
    client_start(&r, n, 1, "10.96.0.13:80", NULL); /* --reject-with tcp-reset */
    sim_loop_run(n->loop);
    ck_assert(c.done && !c.connected);
    ck_assert_int_eq(c.reason, SIM_CLOSE_REFUSED);
    ck_assert_int_lt(c.closed_at, 1 * MS); /* two fabric crossings of 100 us and change */
    ck_assert(r.done && !r.connected);
    ck_assert_int_eq(r.reason, SIM_CLOSE_REFUSED);
    ck_assert_int_lt(r.closed_at, 1 * MS);
    ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_REJECT], 2);
    ck_assert_uint_eq(stats(n->client[0]).tx_packets, 1); /* no retransmission */
    ck_assert_uint_eq(stats(n->node).new_connections, 0);
    net_free(n);
}
END_TEST

START_TEST(no_listener_answers_with_a_reset_seen_as_refused)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c;
    client_start(&c, n, 0, "10.96.0.12:80", NULL);
    sim_loop_run(n->loop);
    ck_assert_int_eq(c.reason, SIM_CLOSE_REFUSED);
    ck_assert(!c.connected);
    ck_assert_uint_eq(stats(n->pod).drops[SIM_DROP_NO_SOCKET], 1);
    ck_assert_uint_eq(stats(n->pod).tx_packets, 1); /* the RST */
    /* The RST killed the node's conntrack entry (a RST before any reply). */
    CtStats cs;
    ct_get_stats(sim_host_conntrack(n->node), &cs);
    ck_assert_uint_eq(cs.created, 1);
    ck_assert_uint_eq(ct_reap(sim_host_conntrack(n->node), sim_loop_now(n->loop), 1000), 1);
    net_free(n);
}
END_TEST

START_TEST(a_full_conntrack_table_drops_new_connections)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE, .ct_max = 1});
    n->request = G_MAXUINT32; /* the server waits for more: the first connection stays open */
    Client a, b;
    client_start(&a, n, 0, "10.96.0.10:80", NULL);
    sim_loop_run_until(n->loop, 50 * MS);
    ck_assert(a.connected);
    SimTcpOptions opt = {.connect_timeout = 2 * S};
    client_start(&b, n, 1, "10.96.0.10:80", &opt);
    sim_loop_run(n->loop);
    ck_assert_int_eq(b.reason, SIM_CLOSE_TIMEOUT);
    ck_assert(!b.connected);
    ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_CT_FULL], 2); /* SYNs at 0 s and 1 s */
    CtStats cs;
    ct_get_stats(sim_host_conntrack(n->node), &cs);
    ck_assert_uint_eq(cs.drops_table_full, 2);
    /* Once the first connection closes, the garbage collector's early-drop pass evicts it
     * (closing TCP entries go first on a full table) and a new connection gets through. */
    sim_socket_abort(a.s);
    Client c;
    client_start(&c, n, 1, "10.96.0.10:80", &opt);
    sim_socket_send(c.s, 0);
    sim_loop_run_until(n->loop, sim_loop_now(n->loop) + 1500 * MS);
    ck_assert(c.connected);
    sim_socket_abort(c.s);
    sim_loop_run(n->loop);
    net_free(n);
}
END_TEST

START_TEST(a_lost_entry_makes_midstream_packets_invalid)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE, .no_tcp_loose = TRUE});
    n->request = 600; /* the client sends 300 now and 300 later */
    Client c;
    client_start(&c, n, 0, "10.96.0.10:80", NULL);
    sim_loop_run_until(n->loop, 50 * MS);
    ck_assert(c.connected);
    /* The connection vanishes from the node (conntrack -D); the next segment is INVALID. */
    CtTable *ct = sim_host_conntrack(n->node);
    SimSockAddr svc = sockaddr("10.96.0.10:80");
    CtTuple t = {.src = c.local.addr, .dst = svc.addr, .sport = c.local.port, .dport = 80,
                 .proto = SIM_PROTO_TCP};
    CtEntry *e = ct_lookup(ct, &t, sim_loop_now(n->loop), NULL);
    ck_assert(e != NULL);
    ct_destroy(ct, e);
    sim_socket_send(c.s, 300);
    sim_loop_run_until(n->loop, 100 * MS);
    ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_CT_INVALID], 1);
    sim_socket_abort(c.s);
    sim_loop_run(n->loop);
    net_free(n);
}
END_TEST

START_TEST(a_lost_entry_is_picked_up_mid_stream_with_tcp_loose)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    n->request = 600;
    Client c;
    client_start(&c, n, 0, "10.96.0.10:80", NULL);
    sim_loop_run_until(n->loop, 50 * MS);
    CtTable *ct = sim_host_conntrack(n->node);
    SimSockAddr svc = sockaddr("10.96.0.10:80");
    CtTuple t = {.src = c.local.addr, .dst = svc.addr, .sport = c.local.port, .dport = 80,
                 .proto = SIM_PROTO_TCP};
    ct_destroy(ct, ct_lookup(ct, &t, sim_loop_now(n->loop), NULL));
    /* nf_conntrack_tcp_loose (the default) adopts the next segment; the nat rules run again
     * and DNAT it to the same pod, so the connection survives. */
    sim_socket_send(c.s, 300);
    sim_loop_run(n->loop);
    ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_CT_INVALID], 0);
    ck_assert_uint_eq(stats(n->node).new_connections, 2);
    ck_assert_uint_eq(c.received, 2000);
    ck_assert_int_eq(c.reason, SIM_CLOSE_NORMAL);
    net_free(n);
}
END_TEST

START_TEST(the_fin_rides_on_the_last_data_segment)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c;
    client_start(&c, n, 0, "10.96.0.10:80", NULL);
    sim_loop_run(n->loop);
    ck_assert_int_eq(c.reason, SIM_CLOSE_NORMAL);
    /* Client: SYN, ACK, request, ACK of the first response segment, FIN. Server: SYN-ACK, the
     * first segment, the second with the FIN ("[FP.]"), the last ACK. */
    ck_assert_uint_eq(stats(n->client[0]).tx_packets, 5);
    ck_assert_uint_eq(stats(n->pod).tx_packets, 4);
    net_free(n);
}
END_TEST

START_TEST(time_wait_holds_the_active_closers_port)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    n->server_keeps_open = TRUE;
    SimTcpOptions opt = {.local_port = 40000};
    Client a, b, c;
    client_start(&a, n, 0, "10.96.0.10:80", &opt);
    a.close_after = 2000; /* the client closes first and keeps TIME_WAIT */
    sim_loop_run_until(n->loop, 500 * MS);
    ck_assert(a.done);
    ck_assert_int_eq(a.reason, SIM_CLOSE_NORMAL);
    ck_assert_uint_eq(n->server_closed, 1);
    client_start(&b, n, 0, "10.96.0.10:80", &opt); /* bind() fails: EADDRINUSE */
    sim_loop_run_until(n->loop, 600 * MS);
    ck_assert_int_eq(b.reason, SIM_CLOSE_REFUSED);
    ck_assert_int_eq(b.closed_at, 500 * MS);
    sim_loop_run_until(n->loop, 1100 * MS); /* TIME_WAIT (1 s) is over */
    client_start(&c, n, 0, "10.96.0.10:80", &opt);
    c.close_after = 2000;
    sim_loop_run(n->loop);
    ck_assert_int_eq(c.reason, SIM_CLOSE_NORMAL);
    ck_assert_uint_eq(c.received, 2000);
    ck_assert_uint_eq(stats(n->node).new_connections, 2); /* conntrack reopened the tuple */
    /* A longer TIME_WAIT applies to sockets that enter it afterwards. */
    sim_net_set_time_wait(n->net, 30 * S);
    client_start(&a, n, 0, "10.96.0.10:80", &(SimTcpOptions){.local_port = 40002});
    a.close_after = 2000;
    SimTime start = sim_loop_now(n->loop);
    sim_loop_run(n->loop);
    ck_assert_int_ge(sim_loop_now(n->loop) - start, 30 * S);
    net_free(n);
}
END_TEST

/* Starts count connections from client i to dst at once and runs them to the end. */
static void
run_connections(Net *n, guint i, const char *dst, guint count)
{
    Client *c = g_new0(Client, count);
    for (guint k = 0; k < count; k++)
        client_start(&c[k], n, i, dst, NULL);
    sim_loop_run(n->loop);
    for (guint k = 0; k < count; k++)
        ck_assert_uint_eq(c[k].received, 2000);
    g_free(c);
}

/* How many of the pod's accepted connections from first on arrived on port. */
static guint
count_port(const Net *n, guint first, guint16 port)
{
    guint hits = 0;
    for (guint k = first; k < n->locals->len; k++)
        hits += g_array_index(n->locals, SimSockAddr, k).port == port;
    return hits;
}

START_TEST(client_ip_affinity_keeps_a_client_on_one_endpoint)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    run_connections(n, 0, "10.96.0.20:80", 20);
    guint a = count_port(n, 0, 8080), b = count_port(n, 0, 8081);
    ck_assert(a == 20 || b == 20); /* recent --rcheck sends all to the first one's endpoint */
    run_connections(n, 1, "10.96.0.20:80", 20);
    ck_assert(count_port(n, 20, 8080) == 20 || count_port(n, 20, 8081) == 20);
    /* Without affinity the statistic ladder spreads them (all 40 on one side: p = 2^-39). */
    run_connections(n, 0, "10.96.0.21:80", 40);
    guint rr_a = count_port(n, 40, 8080), rr_b = count_port(n, 40, 8081);
    ck_assert_uint_eq(rr_a + rr_b, 40);
    ck_assert_uint_gt(rr_a, 0);
    ck_assert_uint_gt(rr_b, 0);
    net_free(n);
}
END_TEST

START_TEST(host_processes_use_output_and_the_loopback)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    ck_assert(sim_socket_listen(n->node, SIM_PROTO_TCP, 10250, &server_listen_ops, n) != NULL);
    Client c[5];
    SimHost *node = n->node;
    client_start(&c[0], n, 0, "192.168.1.101:10250", NULL); /* INPUT: a host-network server */
    const char *from_node[] = {"192.168.1.101:10250", "127.0.0.1:10250", "192.168.1.101:30080",
                               "10.96.0.10:80"};
    for (guint i = 0; i < G_N_ELEMENTS(from_node); i++) {
        memset(&c[i + 1], 0, sizeof c[i + 1]);
        c[i + 1].n = n;
        c[i + 1].request = 300;
        SimSockAddr to = sockaddr(from_node[i]);
        c[i + 1].s = sim_socket_connect(node, SIM_PROTO_TCP, &to, NULL, &client_ops, &c[i + 1]);
    }
    sim_loop_run(n->loop);
    for (guint i = 0; i < 5; i++) {
        ck_assert_uint_eq(c[i].received, 2000);
        ck_assert_int_eq(c[i].reason, SIM_CLOSE_NORMAL);
    }
    /* The servers saw, in some order: the client, the node (twice: its own address, the NodePort
     * masqueraded, and the clusterIP from its own address) and 127.0.0.1. */
    ck_assert_uint_eq(n->peers->len, 5);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < 5; i++) {
        char buf[SIM_ADDR_STRLEN];
        SimSockAddr peer = g_array_index(n->peers, SimSockAddr, i);
        char *key = g_strdup(sim_addr_to_string(&peer.addr, buf));
        guint count = GPOINTER_TO_UINT(g_hash_table_lookup(seen, key));
        g_hash_table_replace(seen, key, GUINT_TO_POINTER(count + 1));
        guint16 port = g_array_index(n->locals, SimSockAddr, i).port;
        ck_assert(port == 10250 || port == 8080); /* NodePort and clusterIP: DNAT in OUTPUT */
    }
    ck_assert_uint_eq(GPOINTER_TO_UINT(g_hash_table_lookup(seen, "203.0.113.10")), 1);
    ck_assert_uint_eq(GPOINTER_TO_UINT(g_hash_table_lookup(seen, "192.168.1.101")), 3);
    ck_assert_uint_eq(GPOINTER_TO_UINT(g_hash_table_lookup(seen, "127.0.0.1")), 1);
    ck_assert_uint_eq(count_port(n, 0, 8080), 2);
    /* Loopback traffic is not link traffic: the node received only the client's and the pod's. */
    ck_assert_uint_eq(stats(node).rx_packets,
                      stats(n->client[0]).tx_packets + stats(n->pod).tx_packets);
    net_free(n);
}
END_TEST

/* ------------------------------------------------------------------ UDP */

typedef struct {
    Net *n;
    SimSocket *s;
    guint32 received;
    gboolean connected;
    gboolean done;
    SimCloseReason reason;
} UdpClient;

static void
udp_client_connected(SimSocket *s, gpointer data)
{
    UdpClient *u = data;
    u->connected = TRUE;
}

static void
udp_client_data(SimSocket *s, guint32 bytes, gpointer data)
{
    UdpClient *u = data;
    u->received += bytes;
    sim_socket_close(s);
    u->s = NULL;
}

static void
udp_client_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    UdpClient *u = data;
    u->done = TRUE;
    u->reason = reason;
    u->s = NULL;
}

static const SimSocketOps udp_client_ops = {
    .connected = udp_client_connected,
    .data = udp_client_data,
    .closed = udp_client_closed,
};

START_TEST(udp_request_response_through_dnat)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    UdpClient u = {.n = n};
    SimSockAddr dns = sockaddr("10.96.0.10:53");
    u.s = sim_socket_connect(n->client[0], SIM_PROTO_UDP, &dns, NULL, &udp_client_ops, &u);
    SimSockAddr local = *sim_socket_local(u.s);
    sim_socket_send(u.s, 100);
    sim_loop_run(n->loop);
    ck_assert(u.connected);
    ck_assert_uint_eq(u.received, 200); /* the reply came from 10.96.0.10:53 */
    ck_assert(!u.done);
    ck_assert_uint_eq(n->peers->len, 1);
    SimSockAddr seen = g_array_index(n->peers, SimSockAddr, 0);
    ck_assert(sim_addr_equal(&seen.addr, &local.addr)); /* clusterIP: not masqueraded */
    ck_assert_uint_eq(seen.port, local.port);
    ck_assert_uint_eq(stats(n->node).new_connections, 1);
    net_free(n);
}
END_TEST

START_TEST(udp_to_a_closed_port_is_refused_through_dnat)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    UdpClient u = {.n = n};
    SimSockAddr dst = sockaddr("10.96.0.12:53");
    u.s = sim_socket_connect(n->client[0], SIM_PROTO_UDP, &dst, NULL, &udp_client_ops, &u);
    sim_socket_send(u.s, 3000); /* three datagrams, three ICMP errors, one close */
    sim_loop_run(n->loop);
    ck_assert(u.done);
    ck_assert_int_eq(u.reason, SIM_CLOSE_REFUSED);
    ck_assert_uint_eq(stats(n->pod).drops[SIM_DROP_NO_SOCKET], 3);
    ck_assert_uint_eq(stats(n->client[0]).rx_packets, 3);
    net_free(n);
}
END_TEST

START_TEST(icmp_errors_are_rate_limited_per_destination)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    UdpClient u = {.n = n};
    SimSockAddr dst = sockaddr("10.96.0.12:53");
    u.s = sim_socket_connect(n->client[0], SIM_PROTO_UDP, &dst, NULL, &udp_client_ops, &u);
    sim_socket_send(u.s, 10 * 1472); /* ten datagrams at once: a burst of six answers */
    sim_loop_run(n->loop);
    ck_assert_uint_eq(stats(n->pod).drops[SIM_DROP_NO_SOCKET], 10);
    ck_assert_uint_eq(stats(n->pod).tx_packets, 6);
    net_free(n);
}
END_TEST

START_TEST(ipv6_connections_and_icmpv6_errors)
{
    Net *n = g_new0(Net, 1);
    n->loop = sim_loop_new();
    n->net = sim_net_new(n->loop, 3);
    n->peers = g_array_new(FALSE, FALSE, sizeof(SimSockAddr));
    n->locals = g_array_new(FALSE, FALSE, sizeof(SimSockAddr));
    n->conns = g_ptr_array_new_with_free_func(g_free);
    n->request = 300;
    n->response = 3000;
    SimHost *h[2];
    const char *ip[2] = {"fd00::1", "fd00::2"};
    for (guint i = 0; i < 2; i++) {
        h[i] = sim_net_add_host(n->net, ip[i], FALSE);
        guint eth0 = sim_host_add_iface(h[i], "eth0", NULL);
        SimAddr a = addr(ip[i]);
        sim_host_add_addr(h[i], eth0, &a);
        sim_net_attach_fabric(n->net, h[i], eth0, 50 * SIM_USEC, 0);
        SimCidr lan = cidr("fd00::/64");
        sim_host_add_route(h[i], &lan, eth0, NULL);
    }
    CtConfig ct;
    ct_config_init(&ct);
    sim_host_enable_conntrack(h[1], &ct);
    ck_assert(sim_socket_listen(h[1], SIM_PROTO_TCP, 80, &server_listen_ops, n) != NULL);
    Client c = {.n = n, .request = 300};
    SimSockAddr to = sockaddr("[fd00::2]:80");
    c.s = sim_socket_connect(h[0], SIM_PROTO_TCP, &to, NULL, &client_ops, &c);
    UdpClient u = {.n = n};
    SimSockAddr dns = sockaddr("[fd00::2]:53");
    u.s = sim_socket_connect(h[0], SIM_PROTO_UDP, &dns, NULL, &udp_client_ops, &u);
    sim_socket_send(u.s, 10);
    sim_loop_run(n->loop);
    ck_assert_uint_eq(c.received, 3000);
    ck_assert_int_eq(c.reason, SIM_CLOSE_NORMAL);
    /* 3000 bytes in 1440-byte segments (MSS over IPv6): 3 data segments, FIN on the last. */
    ck_assert_uint_eq(stats(h[1]).tx_packets, 1 + 3 + 1 + 1); /* + the ICMPv6 error */
    ck_assert_int_eq(u.reason, SIM_CLOSE_REFUSED);
    ck_assert_uint_eq(stats(h[1]).drops[SIM_DROP_NO_SOCKET], 1);
    CtStats cs;
    ct_get_stats(sim_host_conntrack(h[1]), &cs);
    ck_assert_uint_eq(cs.created, 2);
    net_free(n);
}
END_TEST

/* ------------------------------------------------------------------ capture */

typedef struct {
    guint32 ifindex;
    guint8 pkttype;
    guint8 ttl;
    SimPacket pkt;
    SimTime t;
} Record;

/* Reads every record of a capture file written by the simulator. */
static GArray *
read_capture(const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    ck_assert_msg(pc != NULL, "%s", errbuf);
    ck_assert_int_eq(pcap_datalink(pc), DLT_LINUX_SLL2);
    GArray *records = g_array_new(FALSE, TRUE, sizeof(Record));
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        ck_assert_uint_eq(h->caplen, h->len);
        Record r = {0};
        r.ifindex = (guint32)data[4] << 24 | (guint32)data[5] << 16 | data[6] << 8 | data[7];
        r.pkttype = data[10];
        r.t = ((SimTime)h->ts.tv_sec - SIM_PCAP_DEFAULT_EPOCH) * S + h->ts.tv_usec;
        g_autoptr(GError) error = NULL;
        SimWireInfo info;
        ck_assert_msg(sim_wire_parse(data + 20, h->caplen - 20, &r.pkt, &info, &error), "%s",
                      error != NULL ? error->message : "");
        r.ttl = info.ttl;
        g_array_append_val(records, r);
    }
    pcap_close(pc);
    return records;
}

/* Finds the first record on ifindex with pkttype and the given TCP flags from src to dst. */
static const Record *
find_record(GArray *records, guint32 ifindex, guint8 pkttype, guint8 flags, const char *src,
            const char *dst)
{
    for (guint i = 0; i < records->len; i++) {
        const Record *r = &g_array_index(records, Record, i);
        char a[SIM_SOCKADDR_STRLEN], b[SIM_SOCKADDR_STRLEN];
        if (r->ifindex == ifindex && r->pkttype == pkttype && r->pkt.tcp_flags == flags &&
            strcmp(sim_sockaddr_to_string(&r->pkt.src, a), src) == 0 &&
            strcmp(sim_sockaddr_to_string(&r->pkt.dst, b), dst) == 0)
            return r;
    }
    return NULL;
}

/* Runs the NodePort exchange of client-1 with the node captured into path; returns the
 * client's local address. */
static SimSockAddr
capture_exchange(const char *path, guint64 seed)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE, .pcap_path = path, .seed = seed});
    Client c;
    client_start(&c, n, 0, "192.168.1.101:30080", NULL);
    Client r;
    client_start(&r, n, 1, "10.96.0.11:80", NULL); /* an ICMP error in the capture too */
    sim_loop_run(n->loop);
    ck_assert_uint_eq(c.received, 2000);
    ck_assert(sim_net_capture_error(n->net) == NULL);
    SimSockAddr local = c.local;
    net_free(n);
    return local;
}

START_TEST(the_node_capture_shows_the_dnat_and_snat_copies)
{
    g_autofree char *dir = g_dir_make_tmp("kpsim-net-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "node.pcap", NULL);
    SimSockAddr client = capture_exchange(path, 1);
    g_autoptr(GArray) recs = read_capture(path);
    char cs[SIM_SOCKADDR_STRLEN];
    sim_sockaddr_to_string(&client, cs);
    /* The SYN in on eth0 (ifindex 2) as the client sent it... */
    const Record *in = find_record(recs, 2, SIM_PCAP_HOST, SIM_TCP_SYN, cs, "192.168.1.101:30080");
    ck_assert(in != NULL);
    /* ...and out on veth1 (ifindex 3), DNATed to the pod and SNATed to the node. */
    const Record *out = NULL;
    for (guint i = 0; i < recs->len && out == NULL; i++) {
        const Record *r = &g_array_index(recs, Record, i);
        char d[SIM_SOCKADDR_STRLEN], s[SIM_ADDR_STRLEN];
        if (r->ifindex == 3 && r->pkttype == SIM_PCAP_OUTGOING && r->pkt.tcp_flags == SIM_TCP_SYN)
            out = r;
        if (out != NULL) {
            ck_assert_str_eq(sim_sockaddr_to_string(&r->pkt.dst, d), "10.1.1.5:8080");
            ck_assert_str_eq(sim_addr_to_string(&r->pkt.src.addr, s), "192.168.1.101");
        }
    }
    ck_assert(out != NULL);
    ck_assert_int_ge(out->t, in->t);
    ck_assert_uint_eq(out->pkt.seq, in->pkt.seq); /* the same segment */
    char snat[SIM_SOCKADDR_STRLEN];
    sim_sockaddr_to_string(&out->pkt.src, snat);
    /* The SYN-ACK comes back to the SNAT address and leaves un-NATed toward the client. */
    const Record *back_in =
        find_record(recs, 3, SIM_PCAP_HOST, SIM_TCP_SYN | SIM_TCP_ACK, "10.1.1.5:8080", snat);
    const Record *back_out = find_record(recs, 2, SIM_PCAP_OUTGOING, SIM_TCP_SYN | SIM_TCP_ACK,
                                         "192.168.1.101:30080", cs);
    ck_assert(back_in != NULL && back_out != NULL);
    ck_assert_uint_eq(back_in->pkt.ack, in->pkt.seq + 1);
    ck_assert_uint_eq(back_out->pkt.seq, back_in->pkt.seq);
    ck_assert_uint_eq(back_out->ttl, 63); /* forwarded: one hop less than the pod sent */
    /* The response's last segment carries the FIN and leaves toward the client. */
    const Record *fin = find_record(recs, 2, SIM_PCAP_OUTGOING,
                                    SIM_TCP_FIN | SIM_TCP_PSH | SIM_TCP_ACK,
                                    "192.168.1.101:30080", cs);
    ck_assert(fin != NULL);
    ck_assert_uint_eq(fin->pkt.payload, 2000 - 1460);
    ck_assert_uint_eq(fin->pkt.seq, back_out->pkt.seq + 1 + 1460);
    /* The REJECT's ICMP port unreachable leaves eth0 quoting the client's SYN. */
    gboolean icmp = FALSE;
    for (guint i = 0; i < recs->len; i++) {
        const Record *r = &g_array_index(recs, Record, i);
        if (r->pkt.proto != SIM_PROTO_ICMP)
            continue;
        icmp = TRUE;
        ck_assert_uint_eq(r->pkttype, SIM_PCAP_OUTGOING);
        ck_assert_uint_eq(r->pkt.icmp_type, SIM_ICMP_DEST_UNREACH);
        ck_assert_uint_eq(r->pkt.icmp_code, SIM_ICMP_PORT_UNREACH);
        assert_sock(&r->pkt.quote.dst, "10.96.0.11:80");
        assert_sock(&(SimSockAddr){r->pkt.src.addr, 0}, "192.168.1.101:0");
    }
    ck_assert(icmp);
    g_unlink(path);
    g_rmdir(dir);
}
END_TEST

START_TEST(the_same_seed_gives_identical_captures)
{
    g_autofree char *dir = g_dir_make_tmp("kpsim-net-XXXXXX", NULL);
    g_autofree char *a = g_build_filename(dir, "a.pcap", NULL);
    g_autofree char *b = g_build_filename(dir, "b.pcap", NULL);
    g_autofree char *c = g_build_filename(dir, "c.pcap", NULL);
    capture_exchange(a, 7);
    capture_exchange(b, 7);
    capture_exchange(c, 8);
    g_autofree char *da = NULL, *db = NULL, *dc = NULL;
    gsize la, lb, lc;
    ck_assert(g_file_get_contents(a, &da, &la, NULL));
    ck_assert(g_file_get_contents(b, &db, &lb, NULL));
    ck_assert(g_file_get_contents(c, &dc, &lc, NULL));
    ck_assert_uint_gt(la, 24);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(da, db, la);
    ck_assert(la != lc || memcmp(da, dc, la) != 0); /* another seed: other ports and ISNs */
    g_unlink(a);
    g_unlink(b);
    g_unlink(c);
    g_rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ ICMP on the wire */

START_TEST(icmp_errors_round_trip_through_the_wire_format)
{
    const struct {
        const char *src, *dst, *qsrc, *qdst;
        guint8 proto, qproto, type, code;
        gsize len;
    } cases[] = {
        {"192.168.1.101:0", "203.0.113.10:0", "203.0.113.10:40000", "10.96.0.11:80",
         SIM_PROTO_ICMP, SIM_PROTO_TCP, 3, 3, 56},
        {"10.1.1.5:0", "203.0.113.10:0", "203.0.113.10:40001", "10.1.1.5:53", SIM_PROTO_ICMP,
         SIM_PROTO_UDP, 3, 3, 56},
        {"[fd00::1]:0", "[fd00::2]:0", "[fd00::2]:40000", "[fd00::1]:443", SIM_PROTO_ICMPV6,
         SIM_PROTO_TCP, 1, 4, 96},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        SimPacket p = {.src = sockaddr(cases[i].src),
                       .dst = sockaddr(cases[i].dst),
                       .proto = cases[i].proto,
                       .icmp_type = cases[i].type,
                       .icmp_code = cases[i].code};
        p.quote = (SimPacketQuote){.src = sockaddr(cases[i].qsrc),
                                   .dst = sockaddr(cases[i].qdst),
                                   .proto = cases[i].qproto,
                                   .ttl = 63,
                                   .ip_id = 4242,
                                   .length = 60,
                                   .seq = cases[i].qproto == SIM_PROTO_TCP ? 0xdeadbeef : 0};
        ck_assert_uint_eq(sim_wire_length(&p), cases[i].len);
        SimWireParams params = {.ip_id = 7, .ttl = 64};
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = sim_wire_encode(&p, &params, &error);
        ck_assert_msg(bytes != NULL, "%s", error != NULL ? error->message : "");
        gsize len;
        const guint8 *buf = g_bytes_get_data(bytes, &len);
        ck_assert_uint_eq(len, cases[i].len);
        SimPacket back;
        SimWireInfo info;
        ck_assert_msg(sim_wire_parse(buf, len, &back, &info, &error), "%s",
                      error != NULL ? error->message : "");
        ck_assert_uint_eq(back.proto, p.proto);
        ck_assert_uint_eq(back.icmp_type, p.icmp_type);
        ck_assert_uint_eq(back.icmp_code, p.icmp_code);
        ck_assert(sim_addr_equal(&back.src.addr, &p.src.addr));
        ck_assert(sim_addr_equal(&back.dst.addr, &p.dst.addr));
        ck_assert(sim_addr_equal(&back.quote.src.addr, &p.quote.src.addr));
        ck_assert(sim_addr_equal(&back.quote.dst.addr, &p.quote.dst.addr));
        ck_assert_uint_eq(back.quote.src.port, p.quote.src.port);
        ck_assert_uint_eq(back.quote.dst.port, p.quote.dst.port);
        ck_assert_uint_eq(back.quote.proto, p.quote.proto);
        ck_assert_uint_eq(back.quote.length, 60);
        ck_assert_uint_eq(back.quote.ttl, 63);
        ck_assert_uint_eq(back.quote.seq, p.quote.seq);
        if (p.proto == SIM_PROTO_ICMP)
            ck_assert_uint_eq(back.quote.ip_id, 4242);
        /* Any flipped byte is caught by a checksum. */
        g_autofree guint8 *copy = g_memdup2(buf, len);
        copy[len - 1] ^= 0x40;
        ck_assert(!sim_wire_parse(copy, len, &back, NULL, NULL));
    }
    /* An ICMP packet without a quote of its own family has no wire form. */
    SimPacket bad = {.src = sockaddr("10.0.0.1:0"), .dst = sockaddr("10.0.0.2:0"),
                     .proto = SIM_PROTO_ICMP};
    ck_assert_uint_eq(sim_wire_length(&bad), 0);
}
END_TEST

/* ------------------------------------------------------------------ lifecycle */

START_TEST(freeing_the_network_cancels_its_events)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c[2];
    client_start(&c[0], n, 0, "192.168.1.101:30080", NULL);
    client_start(&c[1], n, 1, "192.168.1.101:30081", NULL);
    sim_loop_run_until(n->loop, 150 * SIM_USEC); /* packets in flight, timers pending */
    SimLoopStats ls;
    sim_loop_get_stats(n->loop, &ls);
    ck_assert_uint_gt(ls.pending, 0);
    sim_net_free(n->net);
    sim_loop_get_stats(n->loop, &ls);
    ck_assert_uint_eq(ls.pending, 0);
    n->net = sim_net_new(n->loop, 1);
    ck_assert_uint_eq(sim_loop_run(n->loop), 0);
    net_free(n);
}
END_TEST

START_TEST(a_host_that_is_down_drops_everything)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    sim_host_set_up(n->node, FALSE);
    Client c;
    SimTcpOptions opt = {.connect_timeout = 2 * S};
    client_start(&c, n, 0, "192.168.1.101:30080", &opt);
    sim_loop_run(n->loop);
    ck_assert_int_eq(c.reason, SIM_CLOSE_TIMEOUT);
    ck_assert_uint_eq(stats(n->node).drops[SIM_DROP_HOST_DOWN], 2);
    ck_assert_uint_eq(stats(n->node).rx_packets, 0);
    sim_host_set_up(n->node, TRUE);
    client_start(&c, n, 0, "192.168.1.101:30080", NULL);
    sim_loop_run(n->loop);
    ck_assert_uint_eq(c.received, 2000);
    net_free(n);
}
END_TEST

START_TEST(an_unroutable_destination_fails_at_once)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    Client c;
    client_start(&c, n, 0, "198.51.100.1:80", NULL); /* no route on the client */
    ck_assert(!c.done);
    sim_loop_run(n->loop);
    ck_assert(c.done);
    ck_assert_int_eq(c.reason, SIM_CLOSE_REFUSED);
    ck_assert_int_eq(c.closed_at, 0);
    ck_assert_uint_eq(stats(n->client[0]).tx_packets, 0);
    /* An on-link address nobody owns: no-route at the sender, then a timeout. */
    Client d;
    SimTcpOptions opt = {.connect_timeout = 2 * S};
    client_start(&d, n, 0, "192.168.1.200:80", &opt);
    sim_loop_run(n->loop);
    ck_assert_int_eq(d.reason, SIM_CLOSE_TIMEOUT);
    ck_assert_uint_eq(stats(n->client[0]).drops[SIM_DROP_NO_ROUTE], 2);
    net_free(n);
}
END_TEST

START_TEST(bulk_data_is_segmented_and_delivered_in_order)
{
    Net *n = net_build(&(NetConfig){.random_fully = TRUE});
    n->request = 1000000;
    n->response = 3000000;
    Client c;
    client_start(&c, n, 0, "10.96.0.10:80", NULL);
    c.request = 1000000;
    sim_loop_run(n->loop);
    ck_assert_int_eq(c.reason, SIM_CLOSE_NORMAL);
    ck_assert_uint_eq(c.received, 3000000);
    /* 1 MB in 1460-byte segments takes 685 segments, each crossing the node once. */
    ck_assert_uint_ge(stats(n->client[0]).tx_packets, 685);
    /* At 1 Gbit/s 3 MB of responses need at least 24 ms on the fabric. */
    ck_assert_int_gt(c.closed_at, 24 * MS);
    net_free(n);
}
END_TEST

/* The gateway of the route h uses toward text ("" for on-link, "none" without a route). */
static const char *
route_via(SimHost *h, const char *text, char *buf)
{
    SimAddr a;
    ck_assert(sim_addr_parse(text, &a));
    const HostRoute *r = net_route_lookup(h, &a);
    if (r == NULL)
        return "none";
    return r->gateway.family == SIM_AF_NONE ? "" : sim_addr_to_string(&r->gateway, buf);
}

/* Adds the route dst (CIDR text) via gateway text (NULL: on-link) on interface ifindex. */
static void
route_add(SimHost *h, const char *dst, guint ifindex, const char *via)
{
    SimCidr c;
    SimAddr gw;
    ck_assert(sim_cidr_parse(dst, &c));
    if (via != NULL)
        ck_assert(sim_addr_parse(via, &gw));
    sim_host_add_route(h, &c, ifindex, via != NULL ? &gw : NULL);
}

START_TEST(routes_pick_the_longest_prefix_then_the_first_added)
{
    SimLoop *loop = sim_loop_new();
    SimNet *net = sim_net_new(loop, 1);
    SimHost *h = sim_net_add_host(net, "node", TRUE);
    guint eth0 = sim_host_add_iface(h, "eth0", NULL);
    char buf[SIM_ADDR_STRLEN];
    ck_assert_str_eq(route_via(h, "10.0.0.1", buf), "none");
    route_add(h, "0.0.0.0/0", eth0, NULL);
    /* A node of a big cluster: one /24 per other node, in the order they were added. */
    for (guint i = 0; i < 3000; i++) {
        char dst[32], via[32];
        g_snprintf(dst, sizeof dst, "10.%u.%u.0/24", 128 + i / 256, i % 256);
        g_snprintf(via, sizeof via, "172.%u.%u.1", 16 + i / 256, i % 256);
        route_add(h, dst, eth0, via);
    }
    route_add(h, "10.128.5.0/24", eth0, "192.0.2.99"); /* added later: never used */
    route_add(h, "10.128.5.7/32", eth0, NULL);         /* a local pod */
    route_add(h, "10.200.0.0/16", eth0, "192.0.2.16");
    route_add(h, "10.200.1.99/24", eth0, "192.0.2.24"); /* host bits ignored */
    ck_assert_str_eq(route_via(h, "10.128.5.8", buf), "172.16.5.1");
    ck_assert_str_eq(route_via(h, "10.128.5.7", buf), "");
    ck_assert_str_eq(route_via(h, "10.138.183.200", buf), "172.26.183.1");
    ck_assert_str_eq(route_via(h, "10.200.1.1", buf), "192.0.2.24");
    ck_assert_str_eq(route_via(h, "10.200.2.1", buf), "192.0.2.16");
    ck_assert_str_eq(route_via(h, "10.140.0.1", buf), "");
    ck_assert_str_eq(route_via(h, "2001:db8::1", buf), "none");
    route_add(h, "2001:db8::/32", eth0, "2001:db8:ff::1");
    route_add(h, "2001:db8:1::/48", eth0, "2001:db8:ff::2");
    route_add(h, "2001:db8:1::/48", eth0, "2001:db8:ff::3");
    ck_assert_str_eq(route_via(h, "2001:db8:1::5", buf), "2001:db8:ff::2");
    ck_assert_str_eq(route_via(h, "2001:db8:2::5", buf), "2001:db8:ff::1");
    ck_assert_str_eq(route_via(h, "10.128.0.1", buf), "172.16.0.1");
    /* A host with a handful of routes (the scan path) answers the same way. */
    SimHost *pod = sim_net_add_host(net, "pod", FALSE);
    guint pe = sim_host_add_iface(pod, "eth0", NULL);
    route_add(pod, "0.0.0.0/0", pe, "10.0.0.1");
    route_add(pod, "10.0.0.0/8", pe, "10.0.0.2");
    route_add(pod, "10.0.0.0/8", pe, "10.0.0.3");
    ck_assert_str_eq(route_via(pod, "10.1.1.1", buf), "10.0.0.2");
    ck_assert_str_eq(route_via(pod, "192.0.2.1", buf), "10.0.0.1");
    sim_net_free(net);
    sim_loop_free(loop);
}
END_TEST

static Suite *
net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("datapath");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tcp_request_response_through_a_nodeport_is_masqueraded);
    tcase_add_test(tc, tcp_to_a_cluster_ip_keeps_the_client_address);
    tcase_add_test(tc, two_clients_with_one_source_port_get_different_snat_ports);
    tcase_add_test(tc, a_drop_rule_makes_the_client_retransmit_and_time_out);
    tcase_add_test(tc, syn_retransmissions_follow_the_kernel_schedule);
    tcase_add_test(tc, a_reject_rule_refuses_within_one_round_trip);
    tcase_add_test(tc, no_listener_answers_with_a_reset_seen_as_refused);
    tcase_add_test(tc, a_full_conntrack_table_drops_new_connections);
    tcase_add_test(tc, a_lost_entry_makes_midstream_packets_invalid);
    tcase_add_test(tc, a_lost_entry_is_picked_up_mid_stream_with_tcp_loose);
    tcase_add_test(tc, the_fin_rides_on_the_last_data_segment);
    tcase_add_test(tc, time_wait_holds_the_active_closers_port);
    tcase_add_test(tc, client_ip_affinity_keeps_a_client_on_one_endpoint);
    tcase_add_test(tc, host_processes_use_output_and_the_loopback);
    tcase_add_test(tc, ipv6_connections_and_icmpv6_errors);
    tcase_add_test(tc, udp_request_response_through_dnat);
    tcase_add_test(tc, udp_to_a_closed_port_is_refused_through_dnat);
    tcase_add_test(tc, icmp_errors_are_rate_limited_per_destination);
    tcase_add_test(tc, the_node_capture_shows_the_dnat_and_snat_copies);
    tcase_add_test(tc, the_same_seed_gives_identical_captures);
    tcase_add_test(tc, icmp_errors_round_trip_through_the_wire_format);
    tcase_add_test(tc, freeing_the_network_cancels_its_events);
    tcase_add_test(tc, a_host_that_is_down_drops_everything);
    tcase_add_test(tc, an_unroutable_destination_fails_at_once);
    tcase_add_test(tc, bulk_data_is_segmented_and_delivered_in_order);
    tcase_add_test(tc, routes_pick_the_longest_prefix_then_the_first_added);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
