/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tracking: lookups in both directions, NAT bindings and their translation, SNAT
 * port choice, the TCP state machine and timeouts, UDP and SCTP timeouts, the table limit,
 * flushing and reaping. Addresses follow the seed scenario of docs/datapath-semantics.md.
 */
#include <check.h>
#include <string.h>

#include "sim/conntrack.h"
#include "tests/test_util.h"

#define S SIM_SEC

static SimPacket
packet(const char *src, const char *dst, SimProto proto, guint8 flags)
{
    SimPacket p;
    memset(&p, 0, sizeof(p));
    p.src = sockaddr(src);
    p.dst = sockaddr(dst);
    p.proto = (guint8)proto;
    p.tcp_flags = flags;
    return p;
}

/* A packet travelling along tuple (as it looks on the wire in that direction). */
static SimPacket
packet_on(const CtTuple *tu, guint8 flags)
{
    SimPacket p;
    memset(&p, 0, sizeof(p));
    p.src.addr = tu->src;
    p.src.port = tu->sport;
    p.dst.addr = tu->dst;
    p.dst.port = tu->dport;
    p.proto = tu->proto;
    p.tcp_flags = flags;
    return p;
}

static char *
sock_str(const SimSockAddr *s)
{
    char buf[SIM_SOCKADDR_STRLEN];
    return g_strdup(sim_sockaddr_to_string(s, buf));
}

static void
assert_sock(const SimSockAddr *s, const char *want)
{
    g_autofree char *got = sock_str(s);
    ck_assert_str_eq(got, want);
}

static CtTable *
table_new(guint max)
{
    CtConfig c;
    ct_config_init(&c);
    c.max = max;
    return ct_table_new(&c);
}

/* Runs a connection's first packet through conntrack and NAT setup, as PREROUTING, routing and
 * POSTROUTING would; dnat and snat may be NULL. Returns the confirmed entry or NULL. */
static CtEntry *
open_conn(CtTable *t, const SimPacket *p, SimTime now, const char *dnat, const char *snat,
          gboolean random_fully, SimRng *rng)
{
    CtTuple tu;
    ct_tuple_from_packet(p, &tu);
    ck_assert_ptr_null(ct_lookup(t, &tu, now, NULL));
    CtEntry *e = NULL;
    if (ct_new(t, p, now, &e) != CT_NEW_OK)
        return NULL;
    if (dnat != NULL) {
        SimSockAddr to = sockaddr(dnat);
        ct_setup_dnat(t, e, &to);
    }
    if (snat != NULL) {
        SimAddr a = addr(snat);
        ct_setup_snat(t, e, &a, random_fully, rng);
    }
    return ct_confirm(t, e, rng) ? e : NULL;
}

/* Looks up p's tuple and runs it through its entry. Returns the result; *dir and *state are
 * set when the entry exists. A missing entry gives CT_PACKET_INVALID with *dir untouched. */
static CtPacketResult
send(CtTable *t, const SimPacket *p, SimTime now, CtDir *dir, CtState *state)
{
    CtTuple tu;
    ct_tuple_from_packet(p, &tu);
    CtDir d;
    CtEntry *e = ct_lookup(t, &tu, now, &d);
    if (e == NULL)
        return CT_PACKET_INVALID;
    if (dir != NULL)
        *dir = d;
    CtState st;
    CtPacketResult r = ct_packet(t, e, d, p, now, &st);
    if (state != NULL)
        *state = st;
    return r;
}

static CtEntry *
find(CtTable *t, const CtTuple *tu, SimTime now)
{
    return ct_lookup(t, tu, now, NULL);
}

static CtStats
stats(const CtTable *t)
{
    CtStats s;
    ct_get_stats(t, &s);
    return s;
}

/* ---------------------------------------------------------------- lookups and NAT */

START_TEST(entry_is_found_by_original_and_reply_tuple)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("10.244.1.5:41000", "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, NULL, NULL, FALSE, &rng);
    ck_assert_ptr_nonnull(e);
    CtTuple orig, reply;
    ct_tuple_from_packet(&syn, &orig);
    ct_tuple_invert(&orig, &reply);
    CtDir dir = CT_DIR_REPLY;
    ck_assert_ptr_eq(ct_lookup(t, &orig, 1, &dir), e);
    ck_assert_int_eq(dir, CT_DIR_ORIGINAL);
    ck_assert_ptr_eq(ct_lookup(t, &reply, 1, &dir), e);
    ck_assert_int_eq(dir, CT_DIR_REPLY);
    ck_assert(ct_tuple_equal(ct_entry_tuple(e, CT_DIR_REPLY), &reply));
    ck_assert_uint_eq(ct_entry_status(e) & (IPS_SRC_NAT | IPS_DST_NAT), 0);
    ck_assert(ct_entry_status(e) & IPS_CONFIRMED);
    /* Another port is another connection. */
    CtTuple other = orig;
    other.sport++;
    ck_assert_ptr_null(ct_lookup(t, &other, 1, NULL));
    ck_assert_uint_eq(stats(t).current, 1);
    ck_assert_uint_eq(stats(t).created, 1);
}
END_TEST

START_TEST(dnat_and_snat_round_trip_of_syn_and_syn_ack)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    /* client -> node-1:30080, DNAT to pod B on node-3, MASQUERADE to node-1 (section 3.12). */
    SimPacket syn = packet("203.0.113.50:51000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = NULL;
    ck_assert_int_eq(ct_new(t, &syn, 0, &e), CT_NEW_OK);
    SimSockAddr pod = sockaddr("10.244.2.7:80");
    ct_setup_dnat(t, e, &pod);
    SimAddr node = addr("192.168.10.11");
    ck_assert(ct_setup_snat(t, e, &node, FALSE, &rng));
    ck_assert(ct_confirm(t, e, &rng));
    ck_assert_uint_eq(ct_entry_status(e) & (IPS_SRC_NAT | IPS_DST_NAT), IPS_SRC_NAT | IPS_DST_NAT);

    /* PREROUTING rewrites the destination, POSTROUTING the source; the port is kept. */
    SimPacket out = syn;
    ct_nat_packet(e, CT_DIR_ORIGINAL, CT_MANIP_DST, &out);
    assert_sock(&out.src, "203.0.113.50:51000");
    assert_sock(&out.dst, "10.244.2.7:80");
    ct_nat_packet(e, CT_DIR_ORIGINAL, CT_MANIP_SRC, &out);
    assert_sock(&out.src, "192.168.10.11:51000");

    /* The SYN-ACK from the pod is found as the REPLY and turned back for the client. */
    SimPacket synack =
        packet("10.244.2.7:80", "192.168.10.11:51000", SIM_PROTO_TCP, SIM_TCP_SYN | SIM_TCP_ACK);
    CtDir dir = CT_DIR_ORIGINAL;
    CtState st = CT_STATE_INVALID;
    ck_assert_int_eq(send(t, &synack, 1 * SIM_MSEC, &dir, &st), CT_PACKET_ACCEPT);
    ck_assert_int_eq(dir, CT_DIR_REPLY);
    ck_assert_int_eq(st, CT_STATE_ESTABLISHED);
    ct_nat_packet(e, CT_DIR_REPLY, CT_MANIP_DST, &synack);
    assert_sock(&synack.dst, "203.0.113.50:51000");
    assert_sock(&synack.src, "10.244.2.7:80");
    ct_nat_packet(e, CT_DIR_REPLY, CT_MANIP_SRC, &synack);
    assert_sock(&synack.src, "192.168.10.11:30080");
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_SYN_RECV);
    ck_assert(ct_entry_status(e) & IPS_SEEN_REPLY);
    ck_assert(!(ct_entry_status(e) & IPS_ASSURED));

    /* The client's ACK completes the handshake. */
    SimPacket ack = packet("203.0.113.50:51000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_ACK);
    ck_assert_int_eq(send(t, &ack, 2 * SIM_MSEC, &dir, &st), CT_PACKET_ACCEPT);
    ck_assert_int_eq(dir, CT_DIR_ORIGINAL);
    ck_assert_int_eq(st, CT_STATE_ESTABLISHED);
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_ESTABLISHED);
    ck_assert(ct_entry_status(e) & IPS_ASSURED);
    ck_assert_uint_eq(stats(t).snat_current, 1);
    ck_assert_uint_eq(stats(t).snat_peak, 1);
}
END_TEST

START_TEST(dnat_only_keeps_client_address)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("203.0.113.50:51000", "192.168.10.12:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, "10.244.1.5:80", NULL, FALSE, &rng);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(ct_entry_status(e) & (IPS_SRC_NAT | IPS_DST_NAT), IPS_DST_NAT);
    SimPacket out = syn;
    ct_nat_packet(e, CT_DIR_ORIGINAL, CT_MANIP_DST, &out);
    ct_nat_packet(e, CT_DIR_ORIGINAL, CT_MANIP_SRC, &out);
    assert_sock(&out.src, "203.0.113.50:51000");
    assert_sock(&out.dst, "10.244.1.5:80");
    SimPacket reply = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_SYN | SIM_TCP_ACK);
    ct_nat_packet(e, CT_DIR_REPLY, CT_MANIP_DST, &reply);
    ct_nat_packet(e, CT_DIR_REPLY, CT_MANIP_SRC, &reply);
    assert_sock(&reply.src, "192.168.10.12:30080");
    assert_sock(&reply.dst, "203.0.113.50:51000");
    ck_assert_uint_eq(stats(t).snat_current, 0);
}
END_TEST

START_TEST(masqueraded_clients_with_same_port_get_distinct_ports)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 7, "ct");
    SimPacket a = packet("10.0.0.1:40000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    SimPacket b = packet("10.0.0.2:40000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *ea = open_conn(t, &a, 0, "10.244.2.7:80", "192.168.10.11", FALSE, &rng);
    CtEntry *eb = open_conn(t, &b, 0, "10.244.2.7:80", "192.168.10.11", FALSE, &rng);
    ck_assert_ptr_nonnull(ea);
    ck_assert_ptr_nonnull(eb);
    guint16 pa = ct_entry_tuple(ea, CT_DIR_REPLY)->dport;
    guint16 pb = ct_entry_tuple(eb, CT_DIR_REPLY)->dport;
    ck_assert_uint_eq(pa, 40000); /* the first keeps its port */
    ck_assert_uint_ne(pb, 40000);
    ck_assert_uint_ge(pb, 1024);
    ck_assert_uint_ge(stats(t).snat_clashes, 1);
    ck_assert_uint_eq(stats(t).snat_current, 2);
    /* Each reply finds its own connection and goes back to its own client. */
    SimPacket rb = packet_on(ct_entry_tuple(eb, CT_DIR_REPLY), SIM_TCP_SYN | SIM_TCP_ACK);
    CtDir dir;
    ck_assert_int_eq(send(t, &rb, 1, &dir, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(dir, CT_DIR_REPLY);
    ct_nat_packet(eb, CT_DIR_REPLY, CT_MANIP_DST, &rb);
    assert_sock(&rb.dst, "10.0.0.2:40000");
    ck_assert_int_eq(ct_entry_tcp_state(ea), CT_TCP_SYN_SENT);
    ck_assert_int_eq(ct_entry_tcp_state(eb), CT_TCP_SYN_RECV);
}
END_TEST

/* Opens n masqueraded connections from distinct clients with the same port and records the
 * SNAT ports chosen. */
static void
masquerade_ports(guint64 seed, gboolean random_fully, guint n, guint16 *ports)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, seed, "node-1/masquerade");
    for (guint i = 0; i < n; i++) {
        g_autofree char *src = g_strdup_printf("10.0.%u.%u:40000", i / 200, 1 + i % 200);
        SimPacket p = packet(src, "10.96.45.10:80", SIM_PROTO_TCP, SIM_TCP_SYN);
        CtEntry *e = open_conn(t, &p, 0, "10.244.2.7:80", "192.168.10.11", random_fully, &rng);
        ck_assert_ptr_nonnull(e);
        ports[i] = ct_entry_tuple(e, CT_DIR_REPLY)->dport;
    }
}

START_TEST(random_fully_is_deterministic_for_a_seed)
{
    enum { N = 64 };
    guint16 a[N], b[N], c[N];
    masquerade_ports(1, TRUE, N, a);
    masquerade_ports(1, TRUE, N, b);
    masquerade_ports(2, TRUE, N, c);
    ck_assert_mem_eq(a, b, sizeof(a));
    gboolean differs = FALSE, kept = FALSE;
    for (guint i = 0; i < N; i++) {
        ck_assert_uint_ge(a[i], 1024);
        differs |= a[i] != c[i];
        kept |= a[i] == 40000;
        for (guint j = 0; j < i; j++)
            ck_assert_uint_ne(a[i], a[j]);
    }
    ck_assert(differs);
    ck_assert(!kept); /* --random-fully never tries the original port first */
}
END_TEST

START_TEST(snat_port_stays_in_its_privilege_class_and_exhausts)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 3, "ct");
    /* Source port 100 maps inside 1-511: 511 ports toward one endpoint. */
    guint ok = 0;
    gboolean *seen = g_new0(gboolean, 512);
    for (guint i = 0; i < 600; i++) {
        g_autofree char *src = g_strdup_printf("10.1.%u.%u:100", i / 250, 1 + i % 250);
        SimPacket p = packet(src, "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
        CtEntry *e = open_conn(t, &p, 0, "10.244.2.7:80", "192.168.10.11", TRUE, &rng);
        if (e == NULL)
            continue;
        guint16 port = ct_entry_tuple(e, CT_DIR_REPLY)->dport;
        ck_assert_uint_ge(port, 1);
        ck_assert_uint_le(port, 511);
        ck_assert(!seen[port]);
        seen[port] = TRUE;
        ok++;
    }
    g_free(seen);
    CtStats s = stats(t);
    ck_assert_uint_le(ok, 511);
    ck_assert_uint_ge(ok, 400);
    ck_assert_uint_eq(s.insert_failed, 600 - ok);
    ck_assert_uint_eq(s.current, ok);
    ck_assert_uint_eq(s.created, ok);
    ck_assert_uint_eq(s.snat_peak, ok);
    ck_assert_uint_gt(s.snat_clashes, 0);
}
END_TEST

START_TEST(reply_clash_without_snat_moves_the_source_port)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 5, "ct");
    /* One client port reaches the same pod through the clusterIP and a nodePort. */
    SimPacket a = packet("10.244.0.9:45000", "10.96.45.10:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    SimPacket b = packet("10.244.0.9:45000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *ea = open_conn(t, &a, 0, "10.244.2.7:80", NULL, FALSE, &rng);
    CtEntry *eb = open_conn(t, &b, 0, "10.244.2.7:80", NULL, FALSE, &rng);
    ck_assert_ptr_nonnull(ea);
    ck_assert_ptr_nonnull(eb);
    ck_assert_uint_eq(ct_entry_status(ea) & IPS_SRC_NAT, 0);
    ck_assert(ct_entry_status(eb) & IPS_SRC_NAT);
    const CtTuple *rb = ct_entry_tuple(eb, CT_DIR_REPLY);
    ck_assert_uint_ne(rb->dport, 45000);
    ck_assert(sim_addr_equal(&rb->dst, &a.src.addr)); /* same address, other port */
    SimPacket out = b;
    ct_nat_packet(eb, CT_DIR_ORIGINAL, CT_MANIP_SRC, &out);
    ck_assert_uint_eq(out.src.port, rb->dport);
}
END_TEST

/* ---------------------------------------------------------------- TCP */

START_TEST(tcp_lifecycle_walks_the_states_with_their_timeouts)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("10.244.0.9:45000", "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, NULL, NULL, FALSE, &rng);
    const CtTuple *o = ct_entry_tuple(e, CT_DIR_ORIGINAL);
    const CtTuple *r = ct_entry_tuple(e, CT_DIR_REPLY);
    CtTuple orig = *o;
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_SYN_SENT);
    ck_assert_int_eq(ct_entry_expires(e), 120 * S);

    static const struct {
        CtDir dir;
        guint8 flags;
        CtTcpState state;
        SimTime timeout;
    } steps[] = {
        {CT_DIR_REPLY, SIM_TCP_SYN | SIM_TCP_ACK, CT_TCP_SYN_RECV, 60 * S},
        {CT_DIR_ORIGINAL, SIM_TCP_ACK, CT_TCP_ESTABLISHED, 86400 * S},
        {CT_DIR_ORIGINAL, SIM_TCP_ACK | SIM_TCP_PSH, CT_TCP_ESTABLISHED, 86400 * S},
        {CT_DIR_ORIGINAL, SIM_TCP_FIN | SIM_TCP_ACK, CT_TCP_FIN_WAIT, 120 * S},
        {CT_DIR_REPLY, SIM_TCP_ACK, CT_TCP_CLOSE_WAIT, 3600 * S},
        {CT_DIR_REPLY, SIM_TCP_FIN | SIM_TCP_ACK, CT_TCP_LAST_ACK, 30 * S},
        {CT_DIR_ORIGINAL, SIM_TCP_ACK, CT_TCP_TIME_WAIT, 120 * S},
    };
    SimTime now = 0;
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        now += SIM_MSEC;
        SimPacket p = packet_on(steps[i].dir == CT_DIR_ORIGINAL ? o : r, steps[i].flags);
        CtState st;
        ck_assert_int_eq(send(t, &p, now, NULL, &st), CT_PACKET_ACCEPT);
        ck_assert_int_eq(st, CT_STATE_ESTABLISHED);
        ck_assert_msg(ct_entry_tcp_state(e) == steps[i].state, "step %u: %s", i,
                      ct_tcp_state_name(ct_entry_tcp_state(e)));
        ck_assert_int_eq(ct_entry_expires(e), now + steps[i].timeout);
    }
    ck_assert(ct_entry_status(e) & IPS_ASSURED);
    /* TIME_WAIT lasts exactly 120 s. */
    ck_assert_ptr_eq(find(t, &orig, now + 120 * S - 1), e);
    ck_assert_ptr_null(find(t, &orig, now + 120 * S));
    CtStats s = stats(t);
    ck_assert_uint_eq(s.current, 0);
    ck_assert_uint_eq(s.expired, 1);
    ck_assert_uint_eq(s.deleted, 1);
}
END_TEST

START_TEST(syn_retransmission_is_new_and_keeps_the_timeout)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("203.0.113.50:51000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, "10.244.2.7:80", NULL, FALSE, &rng);
    CtState st = CT_STATE_INVALID;
    ck_assert_int_eq(send(t, &syn, 1 * S, NULL, &st), CT_PACKET_ACCEPT);
    ck_assert_int_eq(st, CT_STATE_NEW); /* no reply yet: still NEW to the conntrack match */
    ck_assert_int_eq(send(t, &syn, 3 * S, NULL, &st), CT_PACKET_ACCEPT);
    ck_assert_int_eq(ct_entry_expires(e), 120 * S);
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_SYN_SENT);
    /* An unanswered SYN is forgotten after syn_sent's 120 s. */
    CtTuple orig;
    ct_tuple_from_packet(&syn, &orig);
    ck_assert_ptr_null(find(t, &orig, 120 * S));
}
END_TEST

START_TEST(rst_as_only_answer_deletes_the_entry)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("203.0.113.50:51000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, "10.244.2.7:80", NULL, FALSE, &rng);
    SimPacket rst = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_RST | SIM_TCP_ACK);
    CtState st;
    ck_assert_int_eq(send(t, &rst, 5 * SIM_MSEC, NULL, &st), CT_PACKET_ACCEPT);
    ck_assert(ct_entry_status(e) & IPS_DYING);
    /* The RST itself is still translated back to the client... */
    ct_nat_packet(e, CT_DIR_REPLY, CT_MANIP_SRC, &rst);
    assert_sock(&rst.src, "192.168.10.11:30080");
    /* ...but the connection is gone at once. */
    CtTuple orig;
    ct_tuple_from_packet(&syn, &orig);
    ck_assert_ptr_null(find(t, &orig, 5 * SIM_MSEC));
    ck_assert_uint_eq(stats(t).current, 0);
    ck_assert_uint_eq(stats(t).expired, 0);
}
END_TEST

START_TEST(rst_after_handshake_closes_for_ten_seconds)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("203.0.113.50:51000", "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, NULL, NULL, FALSE, &rng);
    SimPacket synack = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_SYN | SIM_TCP_ACK);
    SimPacket ack = packet_on(ct_entry_tuple(e, CT_DIR_ORIGINAL), SIM_TCP_ACK);
    SimPacket rst = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_RST);
    ck_assert_int_eq(send(t, &synack, 1, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(send(t, &ack, 2, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(send(t, &rst, 3, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_CLOSE);
    ck_assert_int_eq(ct_entry_expires(e), 3 + 10 * S);
    CtTuple orig;
    ct_tuple_from_packet(&syn, &orig);
    ck_assert_ptr_eq(find(t, &orig, 3 + 10 * S - 1), e);
    ck_assert_ptr_null(find(t, &orig, 3 + 10 * S));
}
END_TEST

START_TEST(syn_on_time_wait_reopens_the_connection)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("10.244.0.9:45000", "10.96.45.10:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, "10.244.1.5:80", NULL, FALSE, &rng);
    const CtTuple *o = ct_entry_tuple(e, CT_DIR_ORIGINAL);
    const CtTuple *r = ct_entry_tuple(e, CT_DIR_REPLY);
    guint8 seq[][2] = {{CT_DIR_REPLY, SIM_TCP_SYN | SIM_TCP_ACK},
                       {CT_DIR_ORIGINAL, SIM_TCP_ACK},
                       {CT_DIR_ORIGINAL, SIM_TCP_FIN | SIM_TCP_ACK},
                       {CT_DIR_REPLY, SIM_TCP_FIN | SIM_TCP_ACK},
                       {CT_DIR_ORIGINAL, SIM_TCP_ACK}};
    for (guint i = 0; i < G_N_ELEMENTS(seq); i++) {
        SimPacket p = packet_on(seq[i][0] == CT_DIR_ORIGINAL ? o : r, seq[i][1]);
        ck_assert_int_eq(send(t, &p, 1 + i, NULL, NULL), CT_PACKET_ACCEPT);
    }
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_TIME_WAIT);
    /* The client reuses its port 10 s later: the old entry dies, the SYN starts afresh and
     * can be balanced to another endpoint. */
    ck_assert_int_eq(send(t, &syn, 10 * S, NULL, NULL), CT_PACKET_REOPEN);
    CtEntry *again = open_conn(t, &syn, 10 * S, "10.244.2.7:80", NULL, FALSE, &rng);
    ck_assert_ptr_nonnull(again);
    ck_assert_int_eq(ct_entry_tcp_state(again), CT_TCP_SYN_SENT);
    assert_sock(&(SimSockAddr){.addr = ct_entry_tuple(again, CT_DIR_REPLY)->src,
                               .port = ct_entry_tuple(again, CT_DIR_REPLY)->sport},
                "10.244.2.7:80");
    ck_assert_uint_eq(stats(t).current, 1);
    ck_assert_uint_eq(stats(t).created, 2);
}
END_TEST

START_TEST(packets_that_cannot_start_a_connection_are_invalid)
{
    g_autoptr(CtTable) t = table_new(0);
    static const guint8 bad[] = {SIM_TCP_FIN | SIM_TCP_ACK, SIM_TCP_SYN | SIM_TCP_ACK, SIM_TCP_RST,
                                 0};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        SimPacket p = packet("10.0.0.1:1234", "10.0.0.2:80", SIM_PROTO_TCP, bad[i]);
        CtEntry *e = (CtEntry *)&p; /* must be reset to NULL */
        ck_assert_int_eq(ct_new(t, &p, 0, &e), CT_NEW_INVALID);
        ck_assert_ptr_null(e);
    }
    CtStats s = stats(t);
    ck_assert_uint_eq(s.invalid, G_N_ELEMENTS(bad));
    ck_assert_uint_eq(s.current, 0);
}
END_TEST

START_TEST(mid_stream_ack_is_picked_up_with_a_short_timeout)
{
    SimPacket ack = packet("10.0.0.1:1234", "10.0.0.2:80", SIM_PROTO_TCP, SIM_TCP_ACK);
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    CtEntry *e = open_conn(t, &ack, 0, NULL, NULL, FALSE, &rng);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_ESTABLISHED);
    ck_assert_int_eq(ct_entry_expires(e), 300 * S); /* unacknowledged cap until a reply */
    ck_assert(!(ct_entry_status(e) & IPS_ASSURED));
    SimPacket back = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_ACK);
    ck_assert_int_eq(send(t, &back, 1, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(send(t, &ack, 2, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(ct_entry_expires(e), 2 + 86400 * S);
    ck_assert(ct_entry_status(e) & IPS_ASSURED);

    /* With nf_conntrack_tcp_loose=0 the same packet is INVALID. */
    CtConfig c;
    ct_config_init(&c);
    c.tcp_loose = FALSE;
    g_autoptr(CtTable) strict = ct_table_new(&c);
    CtEntry *none = NULL;
    ck_assert_int_eq(ct_new(strict, &ack, 0, &none), CT_NEW_INVALID);
}
END_TEST

START_TEST(out_of_state_packet_is_invalid_and_changes_nothing)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("10.0.0.1:1234", "10.0.0.2:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, NULL, NULL, FALSE, &rng);
    /* The client cannot send a SYN-ACK, nor a FIN before the server answered. */
    SimPacket synack =
        packet("10.0.0.1:1234", "10.0.0.2:80", SIM_PROTO_TCP, SIM_TCP_SYN | SIM_TCP_ACK);
    SimPacket fin = packet("10.0.0.1:1234", "10.0.0.2:80", SIM_PROTO_TCP, SIM_TCP_FIN);
    ck_assert_int_eq(send(t, &synack, 1 * S, NULL, NULL), CT_PACKET_INVALID);
    ck_assert_int_eq(send(t, &fin, 2 * S, NULL, NULL), CT_PACKET_INVALID);
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_SYN_SENT);
    ck_assert_int_eq(ct_entry_expires(e), 120 * S);
    ck_assert_uint_eq(stats(t).invalid, 2);
    /* A retransmitted SYN-ACK after the handshake is ignored, not invalid, and does not
     * refresh the timeout. */
    SimPacket sa = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_SYN | SIM_TCP_ACK);
    SimPacket ack = packet_on(ct_entry_tuple(e, CT_DIR_ORIGINAL), SIM_TCP_ACK);
    ck_assert_int_eq(send(t, &sa, 3 * S, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(send(t, &ack, 4 * S, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(send(t, &sa, 5 * S, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(ct_entry_tcp_state(e), CT_TCP_ESTABLISHED);
    ck_assert_int_eq(ct_entry_expires(e), 4 * S + 86400 * S);
}
END_TEST

/* ---------------------------------------------------------------- UDP, SCTP */

START_TEST(udp_unreplied_flow_expires_after_30s)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket q = packet("10.244.0.9:5353", "10.96.0.10:53", SIM_PROTO_UDP, 0);
    CtEntry *e = open_conn(t, &q, 0, "10.244.1.8:53", NULL, FALSE, &rng);
    ck_assert_int_eq(ct_entry_expires(e), 30 * S);
    CtState st;
    ck_assert_int_eq(send(t, &q, 10 * S, NULL, &st), CT_PACKET_ACCEPT);
    ck_assert_int_eq(st, CT_STATE_NEW);
    ck_assert_int_eq(ct_entry_expires(e), 40 * S);
    CtTuple orig;
    ct_tuple_from_packet(&q, &orig);
    ck_assert_ptr_eq(find(t, &orig, 40 * S - 1), e);
    ck_assert_ptr_null(find(t, &orig, 40 * S));
}
END_TEST

START_TEST(udp_stream_gets_120s_and_assured_only_after_2s)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket q = packet("10.244.0.9:5353", "10.96.0.10:53", SIM_PROTO_UDP, 0);
    CtEntry *e = open_conn(t, &q, 0, "10.244.1.8:53", NULL, FALSE, &rng);
    SimPacket a = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), 0);
    /* A quick query and answer (DNS) stays on the 30 s timeout and is not assured. */
    ck_assert_int_eq(send(t, &a, 1 * SIM_MSEC, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(send(t, &q, 1 * S, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(ct_entry_expires(e), 31 * S);
    ck_assert(!(ct_entry_status(e) & IPS_ASSURED));
    /* Still talking after 2 s: a stream. */
    CtState st;
    ck_assert_int_eq(send(t, &q, 2 * S + 1, NULL, &st), CT_PACKET_ACCEPT);
    ck_assert_int_eq(st, CT_STATE_ESTABLISHED);
    ck_assert_int_eq(ct_entry_expires(e), 2 * S + 1 + 120 * S);
    ck_assert(ct_entry_status(e) & IPS_ASSURED);
}
END_TEST

START_TEST(sctp_uses_unreplied_then_established_timeout)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket init = packet("10.244.0.9:3868", "10.96.0.20:3868", SIM_PROTO_SCTP, 0);
    CtEntry *e = open_conn(t, &init, 0, "10.244.1.9:3868", NULL, FALSE, &rng);
    ck_assert_int_eq(ct_entry_expires(e), 3 * S);
    SimPacket ack = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), 0);
    ck_assert_int_eq(send(t, &ack, 1 * S, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(ct_entry_expires(e), 211 * S);
    ck_assert(ct_entry_status(e) & IPS_ASSURED);
}
END_TEST

/* ---------------------------------------------------------------- limits, flush, reap */

/* Opens an assured TCP connection from 10.9.<i>:<port> to the pod. */
static CtEntry *
open_assured(CtTable *t, guint i, SimTime now, SimRng *rng)
{
    g_autofree char *src = g_strdup_printf("10.9.%u.%u:%u", i / 250, 1 + i % 250, 20000 + i);
    SimPacket syn = packet(src, "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, now, NULL, NULL, FALSE, rng);
    if (e == NULL)
        return NULL;
    SimPacket sa = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_SYN | SIM_TCP_ACK);
    SimPacket ack = packet_on(ct_entry_tuple(e, CT_DIR_ORIGINAL), SIM_TCP_ACK);
    ck_assert_int_eq(send(t, &sa, now, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert_int_eq(send(t, &ack, now, NULL, NULL), CT_PACKET_ACCEPT);
    ck_assert(ct_entry_status(e) & IPS_ASSURED);
    return e;
}

START_TEST(full_table_of_assured_connections_drops_new_ones)
{
    g_autoptr(CtTable) t = table_new(8);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    for (guint i = 0; i < 8; i++)
        ck_assert_ptr_nonnull(open_assured(t, i, 0, &rng));
    SimPacket syn = packet("198.51.100.1:1000", "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = NULL;
    ck_assert_int_eq(ct_new(t, &syn, 1, &e), CT_NEW_TABLE_FULL);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(ct_new(t, &syn, 2, &e), CT_NEW_TABLE_FULL);
    CtStats s = stats(t);
    ck_assert_uint_eq(s.drops_table_full, 2);
    ck_assert_uint_eq(s.current, 8);
    ck_assert_uint_eq(s.peak, 8);
    ck_assert_uint_eq(s.early_drop, 0);
}
END_TEST

START_TEST(full_table_evicts_an_unassured_or_expired_entry)
{
    g_autoptr(CtTable) t = table_new(4);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    /* Four unanswered SYNs (not assured) fill the table. */
    for (guint i = 0; i < 4; i++) {
        g_autofree char *src = g_strdup_printf("10.8.0.%u:3000", i + 1);
        SimPacket syn = packet(src, "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
        ck_assert_ptr_nonnull(open_conn(t, &syn, 0, NULL, NULL, FALSE, &rng));
    }
    SimPacket syn = packet("198.51.100.1:1000", "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    ck_assert_ptr_nonnull(open_conn(t, &syn, 1, NULL, NULL, FALSE, &rng));
    CtStats s = stats(t);
    ck_assert_uint_eq(s.early_drop, 1);
    ck_assert_uint_eq(s.current, 4);
    ck_assert_uint_eq(s.drops_table_full, 0);

    /* A table of assured but expired connections makes room too. */
    g_autoptr(CtTable) u = table_new(4);
    for (guint i = 0; i < 4; i++)
        ck_assert_ptr_nonnull(open_assured(u, i, 0, &rng));
    SimPacket late = packet("198.51.100.2:1000", "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    ck_assert_ptr_nonnull(open_conn(u, &late, 86400 * S, NULL, NULL, FALSE, &rng));
    ck_assert_uint_eq(stats(u).expired, 1);
    ck_assert_uint_eq(stats(u).early_drop, 0);
}
END_TEST

START_TEST(refused_connection_makes_reaper_evict_closing_ones)
{
    g_autoptr(CtTable) t = table_new(20);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    CtEntry *e[20];
    for (guint i = 0; i < 20; i++)
        e[i] = open_assured(t, i, 0, &rng);
    /* Half of them close (TIME_WAIT, still assured). */
    for (guint i = 0; i < 10; i++) {
        SimPacket f1 = packet_on(ct_entry_tuple(e[i], CT_DIR_ORIGINAL), SIM_TCP_FIN | SIM_TCP_ACK);
        SimPacket f2 = packet_on(ct_entry_tuple(e[i], CT_DIR_REPLY), SIM_TCP_FIN | SIM_TCP_ACK);
        SimPacket a = packet_on(ct_entry_tuple(e[i], CT_DIR_ORIGINAL), SIM_TCP_ACK);
        send(t, &f1, 1, NULL, NULL);
        send(t, &f2, 1, NULL, NULL);
        send(t, &a, 1, NULL, NULL);
        ck_assert_int_eq(ct_entry_tcp_state(e[i]), CT_TCP_TIME_WAIT);
    }
    ck_assert_uint_eq(ct_reap(t, 2, 100), 0); /* no pressure yet: nothing to do */
    SimPacket syn = packet("198.51.100.1:1000", "10.244.2.7:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *n = NULL;
    ck_assert_int_eq(ct_new(t, &syn, 3, &n), CT_NEW_TABLE_FULL);
    /* The gc pass evicts closing connections until the table is below 95 % full. */
    guint evicted = ct_reap(t, 4, 20);
    ck_assert_uint_eq(evicted, 2);
    ck_assert_uint_eq(stats(t).current, 18);
    ck_assert_uint_eq(stats(t).early_drop, 2);
    ck_assert_int_eq(ct_new(t, &syn, 5, &n), CT_NEW_OK);
    ct_abort(t, n);
    ck_assert_uint_eq(stats(t).current, 18);
}
END_TEST

static gboolean
is_udp_to_dns(const CtEntry *e, gpointer data)
{
    const CtTuple *o = ct_entry_tuple(e, CT_DIR_ORIGINAL);
    const SimAddr *vip = data;
    return o->proto == SIM_PROTO_UDP && sim_addr_equal(&o->dst, vip) && o->dport == 53;
}

START_TEST(flush_deletes_only_matching_entries)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    for (guint i = 0; i < 30; i++) {
        g_autofree char *src = g_strdup_printf("10.244.0.%u:5000", i + 2);
        SimPacket u = packet(src, "10.96.0.10:53", SIM_PROTO_UDP, 0);
        SimPacket tc = packet(src, "10.96.0.10:53", SIM_PROTO_TCP, SIM_TCP_SYN);
        SimPacket other = packet(src, "10.96.0.11:53", SIM_PROTO_UDP, 0);
        ck_assert_ptr_nonnull(open_conn(t, &u, 0, "10.244.1.8:53", NULL, FALSE, &rng));
        ck_assert_ptr_nonnull(open_conn(t, &tc, 0, "10.244.1.8:53", NULL, FALSE, &rng));
        ck_assert_ptr_nonnull(open_conn(t, &other, 0, "10.244.1.9:53", NULL, FALSE, &rng));
    }
    SimAddr vip = addr("10.96.0.10");
    ck_assert_uint_eq(ct_flush(t, is_udp_to_dns, &vip), 30);
    ck_assert_uint_eq(stats(t).current, 60);
    ck_assert_uint_eq(ct_flush(t, is_udp_to_dns, &vip), 0);
    SimPacket u = packet("10.244.0.2:5000", "10.96.0.10:53", SIM_PROTO_UDP, 0);
    SimPacket tc = packet("10.244.0.2:5000", "10.96.0.10:53", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtTuple tu;
    ct_tuple_from_packet(&u, &tu);
    ck_assert_ptr_null(find(t, &tu, 1));
    ct_tuple_from_packet(&tc, &tu);
    ck_assert_ptr_nonnull(find(t, &tu, 1));
}
END_TEST

START_TEST(reaper_does_bounded_work_and_collects_everything)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    for (guint i = 0; i < 1000; i++) {
        g_autofree char *src = g_strdup_printf("10.7.%u.%u:6000", i / 250, 1 + i % 250);
        SimPacket u = packet(src, "10.96.0.10:53", SIM_PROTO_UDP, 0);
        ck_assert_ptr_nonnull(
            open_conn(t, &u, (SimTime)(i / 500) * 60 * S, NULL, NULL, FALSE, &rng));
    }
    /* At 61 s the 500 opened at 0 are expired, the 500 opened at 60 s are not. */
    guint total = 0;
    for (guint round = 0; round < 20; round++) {
        guint n = ct_reap(t, 61 * S, 64);
        ck_assert_uint_le(n, 64);
        total += n;
    }
    ck_assert_uint_eq(total, 500);
    CtStats s = stats(t);
    ck_assert_uint_eq(s.current, 500);
    ck_assert_uint_eq(s.expired, 500);
    ck_assert_uint_eq(ct_reap(t, 91 * S, 100000), 500);
    ck_assert_uint_eq(stats(t).current, 0);
}
END_TEST

START_TEST(aborted_entry_is_released)
{
    g_autoptr(CtTable) t = table_new(1);
    SimPacket syn = packet("10.0.0.1:1234", "10.0.0.2:80", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = NULL;
    ck_assert_int_eq(ct_new(t, &syn, 0, &e), CT_NEW_OK);
    ck_assert_uint_eq(stats(t).current, 1); /* an unconfirmed entry counts toward the limit */
    ct_abort(t, e);
    ck_assert_uint_eq(stats(t).current, 0);
    ck_assert_uint_eq(stats(t).created, 0);
    ck_assert_int_eq(ct_new(t, &syn, 0, &e), CT_NEW_OK);
    ct_abort(t, e);
    CtTuple tu;
    ct_tuple_from_packet(&syn, &tu);
    ck_assert_ptr_null(find(t, &tu, 0));
}
END_TEST

/* ---------------------------------------------------------------- table mechanics */

START_TEST(hash_table_survives_random_inserts_and_deletes)
{
    enum { N = 4000 };
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 9, "ct-hash");
    CtEntry **live = g_new0(CtEntry *, N);
    CtTuple *tuples = g_new0(CtTuple, N);
    for (guint round = 0; round < 40000; round++) {
        guint i = (guint)sim_rng_below(&rng, N);
        if (live[i] != NULL) {
            ck_assert_ptr_eq(find(t, &tuples[i], 0), live[i]);
            ct_destroy(t, live[i]);
            live[i] = NULL;
            ck_assert_ptr_null(find(t, &tuples[i], 0));
            continue;
        }
        /* Few distinct addresses and ports, so home buckets collide. */
        g_autofree char *src = g_strdup_printf("10.6.0.%u:%u", i % 7, 1000 + i);
        SimPacket u = packet(src, "10.96.0.10:53", SIM_PROTO_UDP, 0);
        live[i] = open_conn(t, &u, 0, "10.244.1.8:53", NULL, FALSE, &rng);
        ck_assert_ptr_nonnull(live[i]);
        ct_tuple_from_packet(&u, &tuples[i]);
    }
    guint64 n = 0;
    for (guint i = 0; i < N; i++) {
        if (live[i] == NULL)
            continue;
        n++;
        CtDir dir;
        ck_assert_ptr_eq(ct_lookup(t, &tuples[i], 0, &dir), live[i]);
        ck_assert_ptr_eq(ct_lookup(t, ct_entry_tuple(live[i], CT_DIR_REPLY), 0, &dir), live[i]);
        ck_assert_int_eq(dir, CT_DIR_REPLY);
    }
    ck_assert_uint_eq(stats(t).current, n);
    g_free(live);
    g_free(tuples);
}
END_TEST

START_TEST(entry_memory_stays_under_200_bytes)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimSockAddr pod = sockaddr("10.244.2.7:80");
    static const guint checkpoints[] = {10000, 16385, 65537, 100000, 262145};
    guint i = 0;
    for (guint c = 0; c < G_N_ELEMENTS(checkpoints); c++) {
        for (; i < checkpoints[c]; i++) {
            SimPacket p;
            memset(&p, 0, sizeof(p));
            sim_addr_from_ipv4(0x0a000000u + i, &p.src.addr);
            sim_addr_from_ipv4(0xc0a80a0bu, &p.dst.addr);
            p.src.port = 40000;
            p.dst.port = 30080;
            p.proto = SIM_PROTO_TCP;
            p.tcp_flags = SIM_TCP_SYN;
            CtEntry *e = NULL;
            ck_assert_int_eq(ct_new(t, &p, 0, &e), CT_NEW_OK);
            ct_setup_dnat(t, e, &pod);
            ck_assert(ct_confirm(t, e, &rng));
        }
        CtStats s = stats(t);
        ck_assert_uint_eq(s.current, i);
        ck_assert_msg(s.memory_bytes / i < 200, "%" G_GUINT64_FORMAT " bytes per entry at %u",
                      s.memory_bytes / i, i);
    }
}
END_TEST

START_TEST(entry_prints_like_conntrack_list)
{
    g_autoptr(CtTable) t = table_new(0);
    SimRng rng;
    sim_rng_init(&rng, 1, "ct");
    SimPacket syn = packet("203.0.113.50:51000", "192.168.10.11:30080", SIM_PROTO_TCP, SIM_TCP_SYN);
    CtEntry *e = open_conn(t, &syn, 0, "10.244.2.7:80", "192.168.10.11", FALSE, &rng);
    g_autoptr(GString) s = g_string_new(NULL);
    ct_entry_format(e, 500 * SIM_MSEC, s);
    ck_assert_str_eq(s->str, "tcp      6 119 SYN_SENT src=203.0.113.50 dst=192.168.10.11 "
                             "sport=51000 dport=30080 [UNREPLIED] src=10.244.2.7 "
                             "dst=192.168.10.11 sport=80 dport=51000 mark=0 use=1");
    SimPacket sa = packet_on(ct_entry_tuple(e, CT_DIR_REPLY), SIM_TCP_SYN | SIM_TCP_ACK);
    SimPacket ack = packet_on(ct_entry_tuple(e, CT_DIR_ORIGINAL), SIM_TCP_ACK);
    send(t, &sa, 1 * S, NULL, NULL);
    send(t, &ack, 1 * S, NULL, NULL);
    g_string_truncate(s, 0);
    ct_entry_format(e, 1 * S, s);
    ck_assert_str_eq(s->str, "tcp      6 86400 ESTABLISHED src=203.0.113.50 dst=192.168.10.11 "
                             "sport=51000 dport=30080 src=10.244.2.7 dst=192.168.10.11 "
                             "sport=80 dport=51000 [ASSURED] mark=0 use=1");
}
END_TEST

START_TEST(max_scales_with_cpus_like_kube_proxy)
{
    ck_assert_uint_eq(ct_max_scaled(32768, 131072, 2), 131072);
    ck_assert_uint_eq(ct_max_scaled(32768, 131072, 4), 131072);
    ck_assert_uint_eq(ct_max_scaled(32768, 131072, 8), 262144);
    ck_assert_uint_eq(ct_max_scaled(32768, 131072, 32), 1048576);
    ck_assert_uint_eq(ct_max_scaled(0, 131072, 32), 0);
    CtConfig c;
    ct_config_init(&c);
    ck_assert_uint_eq(c.max, 131072);
    ck_assert_int_eq(c.tcp_timeout[CT_TCP_ESTABLISHED], 86400 * S);
    ck_assert_int_eq(c.tcp_timeout[CT_TCP_CLOSE_WAIT], 3600 * S);
}
END_TEST

static Suite *
conntrack_suite(void)
{
    Suite *s = suite_create("conntrack");
    TCase *nat = tcase_create("nat");
    tcase_add_test(nat, entry_is_found_by_original_and_reply_tuple);
    tcase_add_test(nat, dnat_and_snat_round_trip_of_syn_and_syn_ack);
    tcase_add_test(nat, dnat_only_keeps_client_address);
    tcase_add_test(nat, masqueraded_clients_with_same_port_get_distinct_ports);
    tcase_add_test(nat, random_fully_is_deterministic_for_a_seed);
    tcase_add_test(nat, snat_port_stays_in_its_privilege_class_and_exhausts);
    tcase_add_test(nat, reply_clash_without_snat_moves_the_source_port);
    suite_add_tcase(s, nat);
    TCase *tcp = tcase_create("tcp");
    tcase_add_test(tcp, tcp_lifecycle_walks_the_states_with_their_timeouts);
    tcase_add_test(tcp, syn_retransmission_is_new_and_keeps_the_timeout);
    tcase_add_test(tcp, rst_as_only_answer_deletes_the_entry);
    tcase_add_test(tcp, rst_after_handshake_closes_for_ten_seconds);
    tcase_add_test(tcp, syn_on_time_wait_reopens_the_connection);
    tcase_add_test(tcp, packets_that_cannot_start_a_connection_are_invalid);
    tcase_add_test(tcp, mid_stream_ack_is_picked_up_with_a_short_timeout);
    tcase_add_test(tcp, out_of_state_packet_is_invalid_and_changes_nothing);
    suite_add_tcase(s, tcp);
    TCase *udp = tcase_create("udp");
    tcase_add_test(udp, udp_unreplied_flow_expires_after_30s);
    tcase_add_test(udp, udp_stream_gets_120s_and_assured_only_after_2s);
    tcase_add_test(udp, sctp_uses_unreplied_then_established_timeout);
    suite_add_tcase(s, udp);
    TCase *table = tcase_create("table");
    tcase_add_test(table, full_table_of_assured_connections_drops_new_ones);
    tcase_add_test(table, full_table_evicts_an_unassured_or_expired_entry);
    tcase_add_test(table, refused_connection_makes_reaper_evict_closing_ones);
    tcase_add_test(table, flush_deletes_only_matching_entries);
    tcase_add_test(table, reaper_does_bounded_work_and_collects_everything);
    tcase_add_test(table, aborted_entry_is_released);
    tcase_add_test(table, hash_table_survives_random_inserts_and_deletes);
    tcase_add_test(table, entry_memory_stays_under_200_bytes);
    tcase_add_test(table, entry_prints_like_conntrack_list);
    tcase_add_test(table, max_scales_with_cpus_like_kube_proxy);
    tcase_set_timeout(table, 60);
    suite_add_tcase(s, table);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(conntrack_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
