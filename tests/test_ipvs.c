/* SPDX-License-Identifier: Apache-2.0 */
/* IPVS and IP sets: every scheduler's choices against the kernel's code worked by hand, the
 * host state across syncs (counters kept, graceful removal, persistence), `ipvsadm -Ln`,
 * `ipset list` / `ipset save`, ipset matching through iptables rules (-m set, -m physdev,
 * -m ipvs) and iptables-save round trips, the trace's IPVS branches, and a small network
 * (client - node with IPVS - two pods) carrying real TCP and UDP connections.
 */
#include <check.h>
#include <string.h>

#include "sim/ipset.h"
#include "sim/ipvs.h"
#include "sim/net.h"
#include "sim/nf_eval.h"
#include "tests/test_util.h"

#define S SIM_SEC

/* Appends one rule (NULL-terminated arguments) and asserts it was accepted. */
#define RULE(rs, table, chain, ...)                                                                \
    do {                                                                                           \
        g_autoptr(GError) rule_error = NULL;                                                       \
        ck_assert_msg(nf_ruleset_append(rs, table, chain, &rule_error, __VA_ARGS__, NULL), "%s",   \
                      rule_error != NULL ? rule_error->message : "");                              \
    } while (0)

/* A TCP SYN from src to dst. */
static SimPacket
syn(const char *src, const char *dst)
{
    SimPacket p = {.src = sockaddr(src),
                   .dst = sockaddr(dst),
                   .proto = SIM_PROTO_TCP,
                   .tcp_flags = SIM_TCP_SYN};
    return p;
}

/* Runs n picks of sched over d and writes the chosen indices into out. */
static void
picks(IpvsSchedState *st, IpvsSched sched, const IpvsSchedDest *d, guint n, guint count, gint *out)
{
    SimPacket p = syn("10.0.0.1:40000", "10.96.0.10:80");
    for (guint i = 0; i < count; i++)
        out[i] = ipvs_sched_pick(st, sched, 0, d, n, &p);
}

/* ------------------------------------------------------------------ schedulers */

START_TEST(test_rr_keeps_position_and_skips_weight_zero)
{
    IpvsSchedDest d[3] = {{.weight = 1}, {.weight = 0}, {.weight = 1}};
    IpvsSchedState st;
    ipvs_sched_state_init(&st, IPVS_SCHED_RR, d, 3);
    gint got[5];
    picks(&st, IPVS_SCHED_RR, d, 3, 5, got);
    gint want[5] = {0, 2, 0, 2, 0};
    for (guint i = 0; i < 5; i++)
        ck_assert_int_eq(got[i], want[i]);
    d[1].weight = 3; /* weights do not move the position: next after 0 is 1 */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_RR, 0, d, 3, &(SimPacket){0}), 1);
    d[1].overloaded = TRUE;
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_RR, 0, d, 3, &(SimPacket){0}), 2);
    d[0].weight = d[1].weight = d[2].weight = 0;
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_RR, 0, d, 3, &(SimPacket){0}), -1);
}
END_TEST

START_TEST(test_rr_removal_moves_position_back)
{
    IpvsSchedDest d[3] = {{.weight = 1}, {.weight = 1}, {.weight = 1}};
    IpvsSchedState st;
    ipvs_sched_state_init(&st, IPVS_SCHED_RR, d, 3);
    SimPacket p = {0};
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_RR, 0, d, 3, &p), 0);
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_RR, 0, d, 3, &p), 1);
    /* ip_vs_rr_del_dest(): the position on the removed dest 1 moves to dest 0, so the next is
     * the old dest 2, now at index 1. */
    ipvs_sched_dests_changed(&st, IPVS_SCHED_RR, d, 2, 1, FALSE);
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_RR, 0, d, 2, &p), 1);
    /* A dest added at the head shifts the position with the list. */
    ipvs_sched_dests_changed(&st, IPVS_SCHED_RR, d, 3, -1, TRUE);
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_RR, 0, d, 3, &p), 0);
}
END_TEST

START_TEST(test_wrr_kernel_sequence_4_3_2)
{
    IpvsSchedDest d[3] = {{.weight = 4}, {.weight = 3}, {.weight = 2}};
    IpvsSchedState st;
    ipvs_sched_state_init(&st, IPVS_SCHED_WRR, d, 3);
    gint got[18];
    picks(&st, IPVS_SCHED_WRR, d, 3, 18, got);
    /* cw 4: A; cw 3: A B; cw 2: A B C; cw 1: A B C; then again from cw 4. */
    gint want[9] = {0, 0, 1, 0, 1, 2, 0, 1, 2};
    for (guint i = 0; i < 18; i++)
        ck_assert_int_eq(got[i], want[i % 9]);
}
END_TEST

START_TEST(test_wrr_gcd_steps)
{
    IpvsSchedDest d[2] = {{.weight = 2}, {.weight = 4}};
    IpvsSchedState st;
    ipvs_sched_state_init(&st, IPVS_SCHED_WRR, d, 2);
    ck_assert_int_eq(st.di, 2);
    ck_assert_int_eq(st.mw, 3); /* max - (gcd - 1) */
    gint got[6];
    picks(&st, IPVS_SCHED_WRR, d, 2, 6, got);
    gint want[6] = {1, 0, 1, 1, 0, 1};
    for (guint i = 0; i < 6; i++)
        ck_assert_int_eq(got[i], want[i]);
    IpvsSchedDest none[2] = {{.weight = 0}, {.weight = 0}};
    ipvs_sched_dests_changed(&st, IPVS_SCHED_WRR, none, 2, -1, FALSE);
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_WRR, 0, none, 2, &(SimPacket){0}), -1);
}
END_TEST

START_TEST(test_least_connection_family)
{
    IpvsSched s = IPVS_SCHED_LC;
    IpvsSchedState st;
    SimPacket p = {0};
    /* lc: overheads 256, 5, 5: the first minimum. */
    IpvsSchedDest lc[3] = {
        {.weight = 1, .active = 1}, {.weight = 1, .inactive = 5}, {.weight = 1, .inactive = 5}};
    ipvs_sched_state_init(&st, s, lc, 3);
    ck_assert_int_eq(ipvs_sched_pick(&st, s, 0, lc, 3, &p), 1);
    lc[1].weight = 0;
    ck_assert_int_eq(ipvs_sched_pick(&st, s, 0, lc, 3, &p), 2);
    /* wlc: 10 * 2 > 15 * 1, so the weight-2 server with more connections wins. */
    IpvsSchedDest wlc[2] = {{.weight = 1, .inactive = 10}, {.weight = 2, .inactive = 15}};
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_WLC, 0, wlc, 2, &p), 1);
    wlc[1].inactive = 21;
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_WLC, 0, wlc, 2, &p), 0);
    /* sed: (1 + 1) * 3 > (3 + 1) * 1. */
    IpvsSchedDest sed[2] = {{.weight = 1, .active = 1}, {.weight = 3, .active = 3}};
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SED, 0, sed, 2, &p), 1);
    sed[1].active = 6; /* 2 * 3 > 7 * 1 is false */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SED, 0, sed, 2, &p), 0);
    /* nq: an idle server wins at once, even with a small weight. */
    IpvsSchedDest nq[3] = {{.weight = 5, .active = 1}, {.weight = 1}, {.weight = 9}};
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_NQ, 0, nq, 3, &p), 1);
    nq[1].active = 4; /* no idle server left but 2: */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_NQ, 0, nq, 3, &p), 2);
}
END_TEST

START_TEST(test_sh_hash_buckets_and_fallback)
{
    IpvsSchedDest d[3] = {{.weight = 1}, {.weight = 1}, {.weight = 1}};
    IpvsSchedState st;
    ipvs_sched_state_init(&st, IPVS_SCHED_SH, d, 3);
    SimPacket a = syn("10.0.0.1:1000", "10.96.0.10:80"), b = syn("10.0.0.2:1000", "10.96.0.10:80");
    /* hash_32(0x0a000001, 8) = 39 and hash_32(0x0a000002, 8) = 137; buckets go 0,1,2,0,... */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SH, 0, d, 3, &a), 0);
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SH, 0, d, 3, &b), 2);
    a.src.port = 2000; /* the source port does not count without sh-port */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SH, 0, d, 3, &a), 0);
    IpvsSchedDest w[2] = {{.weight = 2}, {.weight = 1}};
    ipvs_sched_state_init(&st, IPVS_SCHED_SH, w, 2);
    ck_assert_int_eq(st.tab[0], 0);
    ck_assert_int_eq(st.tab[1], 0);
    ck_assert_int_eq(st.tab[2], 1);
    ck_assert_int_eq(st.tab[255], 0);
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SH, 0, w, 2, &b), 1); /* 137 % 3 == 2 */
    /* A weight-0 server keeps one bucket: without sh-fallback its clients get nothing. */
    d[0].weight = 0;
    ipvs_sched_state_init(&st, IPVS_SCHED_SH, d, 3);
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SH, 0, d, 3, &a), -1);
    /* With it, the kernel probes (offset + 39) + 39: bucket 78 (dest 0), then 79 (dest 1). */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_SH, IPVS_SVC_SH_FALLBACK, d, 3, &a), 1);
}
END_TEST

START_TEST(test_sh_spreads_and_dh_hashes_destination)
{
    IpvsSchedDest d[4] = {{.weight = 1}, {.weight = 1}, {.weight = 1}, {.weight = 1}};
    IpvsSchedState st;
    ipvs_sched_state_init(&st, IPVS_SCHED_SH, d, 4);
    guint hits[4] = {0};
    for (guint i = 1; i <= 1000; i++) {
        g_autofree char *src =
            g_strdup_printf("10.%u.%u.%u:5000", i / 65536, (i / 256) % 256, i % 256);
        SimPacket p = syn(src, "10.96.0.10:80");
        gint k = ipvs_sched_pick(&st, IPVS_SCHED_SH, 0, d, 4, &p);
        ck_assert_int_ge(k, 0);
        hits[k]++;
    }
    for (guint k = 0; k < 4; k++)
        ck_assert_msg(hits[k] > 150, "dest %u got %u of 1000", k, hits[k]);
    IpvsSchedDest h[3] = {{.weight = 1}, {.weight = 9}, {.weight = 1}};
    ipvs_sched_state_init(&st, IPVS_SCHED_DH, h, 3);
    ck_assert_int_eq(st.tab[3], 0); /* dh fills one bucket each, whatever the weight */
    SimPacket p = syn("1.2.3.4:5", "10.96.0.10:80"), q = syn("1.2.3.4:5", "10.96.0.11:80");
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_DH, 0, h, 3, &p), 0); /* 234 % 3 */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_DH, 0, h, 3, &q), 2); /* 155 % 3 */
}
END_TEST

START_TEST(test_lblc_sticks_until_overloaded)
{
    IpvsSchedDest d[2] = {{.weight = 1}, {.weight = 2}};
    IpvsSchedState st;
    ipvs_sched_state_init(&st, IPVS_SCHED_LBLC, d, 2);
    SimPacket p = {0};
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_LBLC, 0, d, 2, &p), 0);
    d[0].active = 1; /* at its weight: not overloaded */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_LBLC, 0, d, 2, &p), 0);
    d[0].active = 2; /* above its weight while dest 1 is idle: re-chosen by wlc */
    ck_assert_int_eq(ipvs_sched_pick(&st, IPVS_SCHED_LBLC, 0, d, 2, &p), 1);
}
END_TEST

START_TEST(test_sched_names)
{
    IpvsSched s;
    g_autoptr(GError) error = NULL;
    ck_assert(ipvs_sched_parse("", &s, NULL) && s == IPVS_SCHED_RR);
    ck_assert(ipvs_sched_parse("wlc", &s, NULL) && s == IPVS_SCHED_WLC);
    ck_assert_str_eq(ipvs_sched_name(IPVS_SCHED_NQ), "nq");
    ck_assert(!ipvs_sched_parse("mh", &s, &error));
    ck_assert(g_error_matches(error, IPVS_ERROR, IPVS_ERROR_UNSUPPORTED));
    g_clear_error(&error);
    ck_assert(!ipvs_sched_parse("fastest", &s, &error));
    ck_assert(g_error_matches(error, IPVS_ERROR, IPVS_ERROR_INVALID));
}
END_TEST

/* ------------------------------------------------------------------ tables and printing */

/* A table with TCP 10.96.45.10:80 rr over two pods, the nodePort on two node addresses, and
 * a persistent UDP service. */
static IpvsTable *
sample_table(void)
{
    IpvsTable *t = ipvs_table_new(SIM_AF_INET);
    struct {
        const char *vip;
        guint8 proto;
        guint32 flags, timeout;
    } svcs[] = {{"192.168.10.11:30080", SIM_PROTO_TCP, 0, 0},
                {"10.96.45.10:80", SIM_PROTO_TCP, 0, 0},
                {"10.96.0.10:53", SIM_PROTO_UDP, IPVS_SVC_PERSISTENT, 10800},
                {"10.244.0.1:30080", SIM_PROTO_TCP, 0, 0}};
    for (gsize i = 0; i < G_N_ELEMENTS(svcs); i++) {
        IpvsServiceSpec sp = {.proto = svcs[i].proto,
                              .vip = sockaddr(svcs[i].vip),
                              .sched = IPVS_SCHED_RR,
                              .flags = svcs[i].flags,
                              .timeout = svcs[i].timeout};
        IpvsService *svc = ipvs_table_add_service(t, &sp, NULL);
        ck_assert(svc != NULL);
        SimSockAddr a =
            sockaddr(svcs[i].proto == SIM_PROTO_UDP ? "10.244.2.9:53" : "10.244.2.7:80");
        SimSockAddr b =
            sockaddr(svcs[i].proto == SIM_PROTO_UDP ? "10.244.1.3:53" : "10.244.1.5:80");
        ck_assert(ipvs_service_add_dest(svc, &a, 1, NULL));
        ck_assert(ipvs_service_add_dest(svc, &b, 1, NULL));
    }
    return t;
}

START_TEST(test_ipvsadm_list_text)
{
    g_autoptr(IpvsTable) t = sample_table();
    g_autoptr(GString) out = g_string_new(NULL);
    ipvs_table_list(t, NULL, out);
    const char *want = "IP Virtual Server version 1.2.1 (size=4096)\n"
                       "Prot LocalAddress:Port Scheduler Flags\n"
                       "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                       "TCP  10.96.45.10:80 rr\n"
                       "  -> 10.244.1.5:80                Masq    1      0          0         \n"
                       "  -> 10.244.2.7:80                Masq    1      0          0         \n"
                       "TCP  10.244.0.1:30080 rr\n"
                       "  -> 10.244.1.5:80                Masq    1      0          0         \n"
                       "  -> 10.244.2.7:80                Masq    1      0          0         \n"
                       "TCP  192.168.10.11:30080 rr\n"
                       "  -> 10.244.1.5:80                Masq    1      0          0         \n"
                       "  -> 10.244.2.7:80                Masq    1      0          0         \n"
                       "UDP  10.96.0.10:53 rr persistent 10800\n"
                       "  -> 10.244.1.3:53                Masq    1      0          0         \n"
                       "  -> 10.244.2.9:53                Masq    1      0          0         \n";
    ck_assert_str_eq(out->str, want);
}
END_TEST

START_TEST(test_ipvsadm_list_ipv6_and_persistence_mask)
{
    g_autoptr(IpvsTable) t = ipvs_table_new(SIM_AF_INET6);
    IpvsServiceSpec sp = {.proto = SIM_PROTO_TCP,
                          .vip = sockaddr("[fd00:10:96::a]:80"),
                          .sched = IPVS_SCHED_SH,
                          .flags = IPVS_SVC_PERSISTENT | IPVS_SVC_SH_PORT,
                          .timeout = 300,
                          .netmask_len = 64};
    IpvsService *svc = ipvs_table_add_service(t, &sp, NULL);
    SimSockAddr d = sockaddr("[fd00:10:244::5]:8080");
    ck_assert(ipvs_service_add_dest(svc, &d, 3, NULL));
    g_autoptr(GString) out = g_string_new(NULL);
    ipvs_table_list(t, NULL, out);
    ck_assert(strstr(out->str, "\nTCP  [fd00:10:96::a]:80 sh persistent 300 mask 64 sh-port\n"
                               "  -> [fd00:10:244::5]:8080        Masq    3      0          0   "
                               "      \n") != NULL);
}
END_TEST

START_TEST(test_table_refuses_duplicates_and_keeps_kernel_order)
{
    g_autoptr(IpvsTable) t = sample_table();
    g_autoptr(GError) error = NULL;
    IpvsServiceSpec sp = {.proto = SIM_PROTO_TCP, .vip = sockaddr("10.96.45.10:80")};
    ck_assert(ipvs_table_add_service(t, &sp, &error) == NULL);
    ck_assert(g_error_matches(error, IPVS_ERROR, IPVS_ERROR_EXISTS));
    g_clear_error(&error);
    sp.vip = sockaddr("[fd00::1]:80");
    ck_assert(ipvs_table_add_service(t, &sp, &error) == NULL);
    ck_assert(g_error_matches(error, IPVS_ERROR, IPVS_ERROR_INVALID));
    SimSockAddr vip = sockaddr("10.96.45.10:80");
    IpvsService *svc = ipvs_table_lookup(t, SIM_PROTO_TCP, &vip);
    ck_assert(svc != NULL);
    ck_assert(ipvs_table_lookup(t, SIM_PROTO_UDP, &vip) == NULL);
    SimSockAddr first;
    ipvs_service_dest(svc, 0, &first, NULL); /* the last one added is the list head */
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(sim_sockaddr_to_string(&first, buf), "10.244.1.5:80");
    SimSockAddr dup = sockaddr("10.244.1.5:80");
    ck_assert(!ipvs_service_add_dest(svc, &dup, 1, NULL));
}
END_TEST

START_TEST(test_dummy_interface_addresses)
{
    g_autoptr(IpvsTable) t = ipvs_table_new(SIM_AF_INET);
    SimAddr a = addr("10.96.0.1"), b = addr("10.96.45.10");
    ipvs_table_add_local_addr(t, &a);
    ipvs_table_add_local_addr(t, &b);
    ipvs_table_add_local_addr(t, &a);
    ck_assert(ipvs_table_is_local(t, &b));
    SimAddr c = addr("10.96.0.2");
    ck_assert(!ipvs_table_is_local(t, &c));
    g_autoptr(GString) out = g_string_new(NULL);
    ipvs_table_list_addrs(t, "kube-ipvs0", 5, out);
    ck_assert(g_str_has_prefix(out->str, "5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop "
                                         "state DOWN group default qlen 1000\n"));
    ck_assert(strstr(out->str, "    inet 10.96.0.1/32 scope global kube-ipvs0\n"
                               "       valid_lft forever preferred_lft forever\n"
                               "    inet 10.96.45.10/32 scope global kube-ipvs0\n") != NULL);
}
END_TEST

/* A table with TCP 10.96.0.10:80 over the given real servers, added in that order. */
static IpvsTable *
rr_table(IpvsSched sched, const char *const *dests, guint n)
{
    IpvsTable *t = ipvs_table_new(SIM_AF_INET);
    IpvsServiceSpec sp = {.proto = SIM_PROTO_TCP, .vip = sockaddr("10.96.0.10:80"), .sched = sched};
    IpvsService *svc = ipvs_table_add_service(t, &sp, NULL);
    for (guint i = 0; i < n; i++) {
        SimSockAddr a = sockaddr(dests[i]);
        ck_assert(ipvs_service_add_dest(svc, &a, 1, NULL));
    }
    return t;
}

/* The real server st schedules the next connection of t's service to, as text. */
static const char *
next_dest(IpvsState *st, const IpvsTable *t, char *buf)
{
    SimSockAddr vip = sockaddr("10.96.0.10:80");
    SimPacket p = syn("203.0.113.10:40000", "10.96.0.10:80");
    IpvsPick pick;
    if (!ipvs_state_schedule(st, ipvs_table_lookup(t, SIM_PROTO_TCP, &vip), &p, 0, &pick))
        return "none";
    return sim_sockaddr_to_string(&pick.to, buf);
}

START_TEST(test_state_keeps_rr_position_across_table_swaps)
{
    IpvsConfig c;
    ipvs_config_init(&c);
    IpvsState *st = ipvs_state_new(&c);
    const char *ab[] = {"10.1.1.1:80", "10.1.1.2:80"},
               *abc[] = {"10.1.1.1:80", "10.1.1.2:80", "10.1.1.3:80"};
    char buf[SIM_SOCKADDR_STRLEN];
    IpvsTable *t1 = rr_table(IPVS_SCHED_RR, ab, 2);
    ipvs_state_sync(st, t1, 0);
    ck_assert_str_eq(next_dest(st, t1, buf), "10.1.1.2:80"); /* the head: added last */
    IpvsTable *t2 = rr_table(IPVS_SCHED_RR, ab, 2);          /* a resync: a new, equal table */
    ipvs_state_sync(st, t2, 0);
    ck_assert_str_eq(next_dest(st, t2, buf), "10.1.1.1:80"); /* the position was kept */
    IpvsTable *t3 = rr_table(IPVS_SCHED_RR, abc, 3);         /* 10.1.1.3 joins at the head */
    ipvs_state_sync(st, t3, 0);
    ck_assert_str_eq(next_dest(st, t3, buf), "10.1.1.3:80"); /* wrapped to the head */
    ck_assert_str_eq(next_dest(st, t3, buf), "10.1.1.2:80");
    IpvsTable *t4 = rr_table(IPVS_SCHED_WRR, abc, 3); /* a new scheduler starts afresh */
    ipvs_state_sync(st, t4, 0);
    ck_assert_str_eq(next_dest(st, t4, buf), "10.1.1.3:80");
    ipvs_state_sync(st, NULL, 0);                            /* no table: the services are gone */
    ck_assert_str_eq(next_dest(st, t4, buf), "10.1.1.3:80"); /* re-learnt lazily from t4 */
    ipvs_state_free(st);
    ipvs_table_free(t1);
    ipvs_table_free(t2);
    ipvs_table_free(t3);
    ipvs_table_free(t4);
}
END_TEST

/* ------------------------------------------------------------------ ipsets */

START_TEST(test_ipset_types_and_directions)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    IpsetSpec sp = {.type = IPSET_HASH_IP_PORT, .comment = TRUE};
    Ipset *ipp = ipset_create(rs, "IPP", &sp, NULL);
    ck_assert(ipset_add(ipp, "10.96.0.1,tcp:443", NULL));
    ck_assert(ipset_add(ipp, "10.96.0.10,udp:53", NULL));
    ck_assert(ipset_add(ipp, "10.96.0.11,80", NULL)); /* tcp when not given */
    g_autoptr(GError) error = NULL;
    ck_assert(!ipset_add(ipp, "10.96.0.1,tcp:443", &error));
    ck_assert(g_error_matches(error, IPSET_ERROR, IPSET_ERROR_EXISTS));
    sp.type = IPSET_HASH_IP_PORT_IP;
    Ipset *ippi = ipset_create(rs, "IPPI", &sp, NULL);
    ck_assert(ipset_add(ippi, "10.244.1.5,tcp:80,10.244.1.5", NULL));
    sp.type = IPSET_HASH_IP_PORT_NET;
    Ipset *ippn = ipset_create(rs, "IPPN", &sp, NULL);
    ck_assert(ipset_add(ippn, "1.2.3.4,tcp:80,10.0.0.0/8", NULL));
    ck_assert(ipset_add(ippn, "1.2.3.4,tcp:80,192.168.1.7", NULL));
    sp.type = IPSET_BITMAP_PORT;
    Ipset *bp = ipset_create(rs, "BP", &sp, NULL);
    ck_assert(ipset_add(bp, "30080", NULL));
    sp.type = IPSET_HASH_IP;
    Ipset *ip = ipset_create(rs, "IP", &sp, NULL);
    ck_assert(ipset_add(ip, "10.96.0.1", NULL));
    gboolean dd[3] = {FALSE, FALSE, FALSE}, dds[3] = {FALSE, FALSE, TRUE};
    gboolean sd[3] = {TRUE, FALSE, FALSE};
    SimPacket p = syn("10.244.1.5:40000", "10.96.0.1:443");
    ck_assert(ipset_match(ipp, &p, dd, 2));
    ck_assert(!ipset_match(ipp, &p, dd, 1)); /* fewer directions than dimensions */
    ck_assert(!ipset_match(ipp, &p, sd, 2)); /* source address 10.244.1.5 is not in it */
    ck_assert(ipset_match(ip, &p, dd, 1));
    p.proto = SIM_PROTO_UDP;
    ck_assert(!ipset_match(ipp, &p, dd, 2)); /* udp:443 is not tcp:443 */
    SimPacket hp = syn("10.244.1.5:40000", "10.244.1.5:80");
    ck_assert(ipset_match(ippi, &hp, dds, 3));
    SimPacket other = syn("10.244.1.6:40000", "10.244.1.5:80");
    ck_assert(!ipset_match(ippi, &other, dds, 3));
    SimPacket lb = syn("10.9.8.7:1234", "1.2.3.4:80"), lb2 = syn("192.168.1.7:1", "1.2.3.4:80");
    SimPacket lb3 = syn("192.168.1.8:1", "1.2.3.4:80");
    ck_assert(ipset_match(ippn, &lb, dds, 3));
    ck_assert(ipset_match(ippn, &lb2, dds, 3));
    ck_assert(!ipset_match(ippn, &lb3, dds, 3));
    SimPacket np = syn("203.0.113.5:1", "192.168.1.101:30080");
    ck_assert(ipset_match(bp, &np, dd, 1));
    np.dst.port = 30081;
    ck_assert(!ipset_match(bp, &np, dd, 1));
    ck_assert(ipset_test(ippn, "1.2.3.4,tcp:80,10.0.0.0/8") &&
              ipset_del(ippn, "1.2.3.4,tcp:80,10.0.0.0/8"));
    ck_assert(!ipset_match(ippn, &lb, dds, 3));
    ck_assert_uint_eq(ipset_count(rs), 5);
}
END_TEST

START_TEST(test_ipset_refuses_bad_members)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    IpsetSpec sp = {.type = IPSET_BITMAP_PORT, .range_from = 30000, .range_to = 32767};
    Ipset *bp = ipset_create(rs, "NP", &sp, NULL);
    g_autoptr(GError) error = NULL;
    ck_assert(!ipset_add(bp, "8080", &error));
    ck_assert(g_error_matches(error, IPSET_ERROR, IPSET_ERROR_RANGE));
    g_clear_error(&error);
    sp.type = IPSET_HASH_IP_PORT;
    Ipset *s = ipset_create(rs, "S", &sp, NULL);
    ck_assert(!ipset_add(s, "fd00::1,tcp:80", &error));
    ck_assert(g_error_matches(error, IPSET_ERROR, IPSET_ERROR_FAMILY));
    g_clear_error(&error);
    ck_assert(!ipset_add(s, "10.0.0.1,icmp:80", &error));
    ck_assert(g_error_matches(error, IPSET_ERROR, IPSET_ERROR_PARSE));
    g_clear_error(&error);
    ck_assert(!ipset_add(s, "10.0.0.1", &error));
    g_clear_error(&error);
    ck_assert(ipset_create(rs, "S", &sp, &error) == NULL);
    ck_assert(g_error_matches(error, IPSET_ERROR, IPSET_ERROR_EXISTS));
    ck_assert_uint_eq(ipset_size(s), 0);
}
END_TEST

START_TEST(test_ipset_list_and_save_text)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    IpsetSpec sp = {.type = IPSET_HASH_IP_PORT, .comment = TRUE};
    Ipset *s = ipset_create(rs, "KUBE-CLUSTER-IP", &sp, NULL);
    ck_assert(ipset_add(s, "10.96.45.10,tcp:80", NULL));
    ck_assert(ipset_add(s, "10.96.0.10,udp:53", NULL));
    ck_assert(ipset_add(s, "10.96.0.10,tcp:53", NULL));
    sp = (IpsetSpec){.type = IPSET_BITMAP_PORT, .comment = TRUE};
    Ipset *np = ipset_create(rs, "KUBE-NODE-PORT-TCP", &sp, NULL);
    ck_assert(ipset_add(np, "30080", NULL));
    RULE(rs, NF_TABLE_NAT, "PREROUTING", "-m", "set", "--match-set", "KUBE-CLUSTER-IP", "dst,dst",
         "-j", "ACCEPT");
    RULE(rs, NF_TABLE_NAT, "OUTPUT", "-m", "set", "!", "--match-set", "KUBE-CLUSTER-IP", "dst,dst",
         "-j", "ACCEPT");
    g_autoptr(GString) out = g_string_new(NULL);
    ipset_list_all(rs, out);
    ck_assert_str_eq(out->str, "Name: KUBE-CLUSTER-IP\n"
                               "Type: hash:ip,port\n"
                               "Revision: 6\n"
                               "Header: family inet hashsize 1024 maxelem 65536 comment\n"
                               "Size in memory: 412\n"
                               "References: 2\n"
                               "Number of entries: 3\n"
                               "Members:\n"
                               "10.96.0.10,tcp:53\n"
                               "10.96.0.10,udp:53\n"
                               "10.96.45.10,tcp:80\n"
                               "\n"
                               "Name: KUBE-NODE-PORT-TCP\n"
                               "Type: bitmap:port\n"
                               "Revision: 3\n"
                               "Header: range 0-65535 comment\n"
                               "Size in memory: 532680\n"
                               "References: 0\n"
                               "Number of entries: 1\n"
                               "Members:\n"
                               "30080\n");
    g_string_truncate(out, 0);
    ipset_save_all(rs, out);
    ck_assert_str_eq(out->str,
                     "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem "
                     "65536 comment\n"
                     "add KUBE-CLUSTER-IP 10.96.0.10,tcp:53\n"
                     "add KUBE-CLUSTER-IP 10.96.0.10,udp:53\n"
                     "add KUBE-CLUSTER-IP 10.96.45.10,tcp:80\n"
                     "create KUBE-NODE-PORT-TCP bitmap:port range 0-65535 comment\n"
                     "add KUBE-NODE-PORT-TCP 30080\n");
}
END_TEST

/* Splits a saved rule ("-A CHAIN ...") into arguments after the chain, honouring quotes. */
static gchar **
rule_args(const char *saved, char **chain)
{
    gchar **argv = NULL;
    ck_assert(g_shell_parse_argv(saved, NULL, &argv, NULL));
    *chain = g_strdup(argv[1]);
    guint n = g_strv_length(argv);
    gchar **rest = g_new0(gchar *, n - 1);
    for (guint i = 2; i < n; i++)
        rest[i - 2] = g_strdup(argv[i]);
    g_strfreev(argv);
    return rest;
}

/* Appends rule args to table, prints it, re-parses that and asserts the same text. */
static void
assert_round_trip(NfRuleset *rs, NfTableId table, const char *chain, const char *const *args,
                  const char *want)
{
    g_autoptr(GError) error = NULL;
    ck_assert_msg(
        nf_ruleset_append_argv(rs, table, chain, args, g_strv_length((gchar **)args), &error), "%s",
        error != NULL ? error->message : "");
    g_autoptr(GString) save = g_string_new(NULL);
    nf_ruleset_save(rs, table, save);
    ck_assert_msg(strstr(save->str, want) != NULL, "%s not in\n%s", want, save->str);
    g_autofree char *name = NULL;
    g_auto(GStrv) again = rule_args(want, &name);
    g_autoptr(NfRuleset) copy = nf_ruleset_new(SIM_AF_INET);
    IpsetSpec sp = {.type = IPSET_HASH_IP_PORT};
    ck_assert(ipset_create(copy, "KUBE-CLUSTER-IP", &sp, NULL) != NULL);
    if (!nf_ruleset_has_chain(copy, table, name))
        ck_assert(nf_ruleset_new_chain(copy, table, name, NULL));
    if (table == NF_TABLE_NAT)
        ck_assert(nf_ruleset_new_chain(copy, table, "KUBE-MARK-MASQ", NULL));
    ck_assert(nf_ruleset_append_argv(copy, table, name, (const char *const *)again,
                                     g_strv_length(again), NULL));
    g_autoptr(GString) save2 = g_string_new(NULL);
    nf_ruleset_save(copy, table, save2);
    ck_assert_msg(strstr(save2->str, want) != NULL, "%s not in\n%s", want, save2->str);
}

START_TEST(test_set_physdev_ipvs_matches_save_round_trip)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    IpsetSpec sp = {.type = IPSET_HASH_IP_PORT};
    ck_assert(ipset_create(rs, "KUBE-CLUSTER-IP", &sp, NULL) != NULL);
    ck_assert(nf_ruleset_new_chain(rs, NF_TABLE_NAT, "KUBE-SERVICES", NULL));
    ck_assert(nf_ruleset_new_chain(rs, NF_TABLE_NAT, "KUBE-MARK-MASQ", NULL));
    ck_assert(nf_ruleset_new_chain(rs, NF_TABLE_FILTER, "KUBE-IPVS-OUT-FILTER", NULL));
    const char *a1[] = {"-m",
                        "comment",
                        "--comment",
                        "Kubernetes service cluster ip + port for "
                        "masquerade purpose",
                        "-m",
                        "set",
                        "--match-set",
                        "KUBE-CLUSTER-IP",
                        "dst,dst",
                        "!",
                        "-s",
                        "10.244.0.0/16",
                        "-j",
                        "KUBE-MARK-MASQ",
                        NULL};
    assert_round_trip(rs, NF_TABLE_NAT, "KUBE-SERVICES", a1,
                      "-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment \"Kubernetes "
                      "service cluster ip + port for masquerade purpose\" -m set --match-set "
                      "KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ");
    const char *a2[] = {"-m",      "set",    "!",       "--match-set", "KUBE-CLUSTER-IP",
                        "src,dst", "-m",     "physdev", "!",           "--physdev-is-in",
                        "-j",      "ACCEPT", NULL};
    assert_round_trip(rs, NF_TABLE_NAT, "KUBE-SERVICES", a2,
                      "-A KUBE-SERVICES -m set ! --match-set KUBE-CLUSTER-IP src,dst -m physdev ! "
                      "--physdev-is-in -j ACCEPT");
    const char *a3[] = {"-s",  "192.0.2.50", "-m", "ipvs", "--vaddr", "192.0.2.50", "--vproto",
                        "tcp", "--vport",    "80", "-j",   "DROP",    NULL};
    assert_round_trip(rs, NF_TABLE_FILTER, "KUBE-IPVS-OUT-FILTER", a3,
                      "-A KUBE-IPVS-OUT-FILTER -s 192.0.2.50/32 -m ipvs --vproto 6 --vaddr "
                      "192.0.2.50 --vport 80 -j DROP");
    g_autoptr(GError) error = NULL;
    ck_assert(!nf_ruleset_append(rs, NF_TABLE_NAT, "KUBE-SERVICES", &error, "-m", "set",
                                 "--match-set", "NO-SUCH-SET", "dst", "-j", "ACCEPT", NULL));
    ck_assert(strstr(error->message, "NO-SUCH-SET") != NULL);
    g_clear_error(&error);
    ck_assert(!nf_ruleset_append(rs, NF_TABLE_NAT, "KUBE-SERVICES", &error, "-m", "set",
                                 "--match-set", "KUBE-CLUSTER-IP", "dst,sideways", "-j", "ACCEPT",
                                 NULL));
}
END_TEST

/* One packet through table's chain at hook; returns the verdict. */
static NfVerdict
verdict_of(const NfRuleset *rs, NfTableId table, NfHook hook, const SimPacket *pkt,
           const IpvsService *ipvs)
{
    g_autoptr(GPtrArray) bs = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    NfBranch *b = nf_branch_new(pkt);
    b->ipvs_service = ipvs;
    g_ptr_array_add(bs, b);
    nf_run_hook(rs, table, hook, bs, "eth0", "eth0", NF_CT_NEW, NULL);
    ck_assert_uint_eq(bs->len, 1);
    return ((NfBranch *)g_ptr_array_index(bs, 0))->verdict;
}

START_TEST(test_set_match_in_rules_with_negation)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    IpsetSpec sp = {.type = IPSET_HASH_IP_PORT};
    Ipset *s = ipset_create(rs, "KUBE-CLUSTER-IP", &sp, NULL);
    ck_assert(ipset_add(s, "10.96.0.1,tcp:443", NULL));
    sp.type = IPSET_HASH_IP;
    Ipset *ips = ipset_create(rs, "KUBE-IPVS-IPS", &sp, NULL);
    ck_assert(ipset_add(ips, "10.96.0.1", NULL));
    RULE(rs, NF_TABLE_FILTER, "INPUT", "-p", "tcp", "-m", "tcp", "--dport", "443", "-m", "set",
         "--match-set", "KUBE-CLUSTER-IP", "dst,dst", "-j", "ACCEPT");
    RULE(rs, NF_TABLE_FILTER, "INPUT", "-m", "set", "!", "--match-set", "KUBE-IPVS-IPS", "dst",
         "-j", "DROP");
    RULE(rs, NF_TABLE_FILTER, "INPUT", "-j", "REJECT");
    SimPacket in_set = syn("10.244.1.5:1000", "10.96.0.1:443");
    SimPacket vip_other_port = syn("10.244.1.5:1000", "10.96.0.1:80");
    SimPacket not_vip = syn("10.244.1.5:1000", "10.96.0.2:443");
    ck_assert_int_eq(verdict_of(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_IN, &in_set, NULL),
                     NF_VERDICT_ACCEPT);
    ck_assert_int_eq(verdict_of(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_IN, &vip_other_port, NULL),
                     NF_VERDICT_REJECT);
    ck_assert_int_eq(verdict_of(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_IN, &not_vip, NULL),
                     NF_VERDICT_DROP);
    ck_assert_uint_eq(ipset_references(s), 1);
    ck_assert_uint_eq(ipset_references(ips), 1);
}
END_TEST

START_TEST(test_ipvs_and_physdev_match_evaluation)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    IpvsTable *t = sample_table();
    ipvs_ruleset_attach(rs, t);
    RULE(rs, NF_TABLE_FILTER, "OUTPUT", "-m", "physdev", "--physdev-is-in", "-j", "DROP");
    RULE(rs, NF_TABLE_FILTER, "OUTPUT", "-m", "ipvs", "--vaddr", "10.96.45.0/24", "--vport", "80",
         "-j", "REJECT");
    RULE(rs, NF_TABLE_FILTER, "OUTPUT", "-m", "ipvs", "!", "--ipvs", "-j", "ACCEPT");
    RULE(rs, NF_TABLE_FILTER, "OUTPUT", "-j", "DROP");
    SimSockAddr vip = sockaddr("10.96.45.10:80"), np = sockaddr("192.168.10.11:30080");
    const IpvsService *svc = ipvs_table_lookup(t, SIM_PROTO_TCP, &vip);
    const IpvsService *other = ipvs_table_lookup(t, SIM_PROTO_TCP, &np);
    SimPacket p = syn("10.0.0.1:1000", "10.244.1.5:80");
    ck_assert_int_eq(verdict_of(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_OUT, &p, svc),
                     NF_VERDICT_REJECT);
    ck_assert_int_eq(verdict_of(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_OUT, &p, other),
                     NF_VERDICT_DROP);
    ck_assert_int_eq(verdict_of(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_OUT, &p, NULL),
                     NF_VERDICT_ACCEPT);
    ck_assert(ipvs_ruleset_table(rs) == t);
}
END_TEST

/* ------------------------------------------------------------------ trace */

/* The node's addresses for the trace environment. */
static gboolean
trace_is_local(gpointer data, const SimAddr *a)
{
    SimAddr node = addr("192.168.1.101");
    return sim_addr_equal(a, &node);
}

/* The node's ruleset for traces and the network: masquerade by mark, KUBE-CLUSTER-IP marking
 * of off-cluster clients, and an IPVS table with a two-pod service, an empty service and a
 * persistent UDP one. */
static NfRuleset *
node_ruleset(IpvsSched sched, gboolean graceful, gboolean with_b)
{
    NfRuleset *rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId N = NF_TABLE_NAT;
    IpsetSpec sp = {.type = IPSET_HASH_IP_PORT, .comment = TRUE};
    Ipset *cip = ipset_create(rs, "KUBE-CLUSTER-IP", &sp, NULL);
    ck_assert(ipset_add(cip, "10.96.0.10,tcp:80", NULL));
    ck_assert(ipset_add(cip, "10.96.0.11,tcp:80", NULL));
    ck_assert(ipset_add(cip, "10.96.0.12,udp:53", NULL));
    ck_assert(nf_ruleset_new_chain(rs, N, "KUBE-SERVICES", NULL));
    ck_assert(nf_ruleset_new_chain(rs, N, "KUBE-POSTROUTING", NULL));
    ck_assert(nf_ruleset_new_chain(rs, N, "KUBE-MARK-MASQ", NULL));
    RULE(rs, N, "PREROUTING", "-j", "KUBE-SERVICES");
    RULE(rs, N, "OUTPUT", "-j", "KUBE-SERVICES");
    RULE(rs, N, "POSTROUTING", "-j", "KUBE-POSTROUTING");
    RULE(rs, N, "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x4000");
    sp.type = IPSET_HASH_IP_PORT_IP;
    Ipset *loop = ipset_create(rs, "KUBE-LOOP-BACK", &sp, NULL);
    ck_assert(ipset_add(loop, "10.1.1.5,tcp:8080,10.1.1.5", NULL));
    ck_assert(ipset_add(loop, "10.1.1.6,tcp:8080,10.1.1.6", NULL));
    RULE(rs, N, "KUBE-POSTROUTING", "-m", "comment", "--comment",
         "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose", "-m", "set",
         "--match-set", "KUBE-LOOP-BACK", "dst,dst,src", "-j", "MASQUERADE");
    RULE(rs, N, "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", "0x4000/0x4000", "-j", "RETURN");
    RULE(rs, N, "KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", "0x4000");
    RULE(rs, N, "KUBE-POSTROUTING", "-j", "MASQUERADE", "--random-fully");
    RULE(rs, N, "KUBE-SERVICES", "!", "-s", "10.1.0.0/16", "-m", "set", "--match-set",
         "KUBE-CLUSTER-IP", "dst,dst", "-j", "KUBE-MARK-MASQ");
    RULE(rs, N, "KUBE-SERVICES", "-m", "set", "--match-set", "KUBE-CLUSTER-IP", "dst,dst", "-j",
         "ACCEPT");
    IpvsTable *t = ipvs_table_new(SIM_AF_INET);
    ipvs_table_set_graceful(t, graceful);
    const char *vips[] = {"10.96.0.10", "10.96.0.11", "10.96.0.12"};
    for (guint i = 0; i < 3; i++) {
        SimAddr a = addr(vips[i]);
        ipvs_table_add_local_addr(t, &a);
    }
    IpvsServiceSpec s1 = {.proto = SIM_PROTO_TCP, .vip = sockaddr("10.96.0.10:80"), .sched = sched};
    IpvsService *web = ipvs_table_add_service(t, &s1, NULL);
    SimSockAddr a = sockaddr("10.1.1.5:8080"), b = sockaddr("10.1.1.6:8080");
    ck_assert(ipvs_service_add_dest(web, &a, 1, NULL));
    if (with_b)
        ck_assert(ipvs_service_add_dest(web, &b, 1, NULL));
    IpvsServiceSpec s2 = {.proto = SIM_PROTO_TCP, .vip = sockaddr("10.96.0.11:80")};
    ck_assert(ipvs_table_add_service(t, &s2, NULL) != NULL);
    IpvsServiceSpec s3 = {.proto = SIM_PROTO_UDP,
                          .vip = sockaddr("10.96.0.12:53"),
                          .flags = IPVS_SVC_PERSISTENT,
                          .timeout = 60};
    IpvsService *dns = ipvs_table_add_service(t, &s3, NULL);
    SimSockAddr da = sockaddr("10.1.1.5:5353"), db = sockaddr("10.1.1.6:5353");
    ck_assert(ipvs_service_add_dest(dns, &da, 1, NULL));
    ck_assert(ipvs_service_add_dest(dns, &db, 1, NULL));
    ipvs_ruleset_attach(rs, t);
    return rs;
}

START_TEST(test_trace_forks_per_real_server_and_masquerades)
{
    g_autoptr(NfRuleset) rs = node_ruleset(IPVS_SCHED_RR, FALSE, TRUE);
    NfEnv env = {.is_local = trace_is_local};
    SimPacket p = syn("203.0.113.10:40000", "10.96.0.10:80");
    g_autoptr(GPtrArray) bs =
        nf_path_new_connection(rs, &p, NF_ORIGIN_REMOTE, "eth0", "veth1", &env);
    ck_assert_uint_eq(bs->len, 2);
    const char *want[2] = {"10.1.1.6:8080", "10.1.1.5:8080"}; /* the list head first */
    for (guint i = 0; i < 2; i++) {
        const NfBranch *b = g_ptr_array_index(bs, i);
        char buf[SIM_SOCKADDR_STRLEN];
        ck_assert_str_eq(sim_sockaddr_to_string(&b->pkt.dst, buf), want[i]);
        ck_assert(b->dnat && b->masquerade);
        ck_assert_str_eq(sim_sockaddr_to_string(&b->orig_dst, buf), "10.96.0.10:80");
        ck_assert_double_eq_tol(b->probability, 0.5, 1e-12);
        ck_assert_int_ne(b->verdict, NF_VERDICT_REJECT);
        const NfStep *st = NULL;
        for (guint k = 0; k < b->steps->len; k++) {
            const NfStep *s = &g_array_index(b->steps, NfStep, k);
            if (s->ipvs_service != NULL)
                st = s;
        }
        ck_assert(st != NULL);
        g_autoptr(GString) text = g_string_new(NULL);
        ipvs_step_describe(st, text);
        g_autofree char *expect = g_strdup_printf(
            "IPVS TCP 10.96.0.10:80 rr -> %s Masq (%u of 2); each new connection takes the "
            "next real server",
            want[i], i + 1);
        ck_assert_str_eq(text->str, expect);
    }
    /* From inside the cluster the mark is not set: no masquerade, except for the hairpin the
     * KUBE-LOOP-BACK set catches with the post-IPVS destination. */
    SimPacket q = syn("10.1.1.5:40000", "10.96.0.10:80");
    g_autoptr(GPtrArray) cs =
        nf_path_new_connection(rs, &q, NF_ORIGIN_REMOTE, "veth1", "veth1", &env);
    ck_assert_uint_eq(cs->len, 2);
    ck_assert(!((NfBranch *)g_ptr_array_index(cs, 0))->masquerade); /* to 10.1.1.6 */
    ck_assert(((NfBranch *)g_ptr_array_index(cs, 1))->masquerade);  /* back to itself */
}
END_TEST

START_TEST(test_trace_empty_service_rejects_and_local_origin)
{
    g_autoptr(NfRuleset) rs = node_ruleset(IPVS_SCHED_SH, FALSE, TRUE);
    NfEnv env = {.is_local = trace_is_local};
    SimPacket p = syn("203.0.113.10:40000", "10.96.0.11:80");
    g_autoptr(GPtrArray) bs =
        nf_path_new_connection(rs, &p, NF_ORIGIN_REMOTE, "eth0", "veth1", &env);
    ck_assert_uint_eq(bs->len, 1);
    const NfBranch *b = g_ptr_array_index(bs, 0);
    ck_assert_int_eq(b->verdict, NF_VERDICT_REJECT);
    ck_assert_str_eq(b->reject_with, "icmp-port-unreachable");
    const NfStep *st = &g_array_index(b->steps, NfStep, b->steps->len - 1);
    g_autoptr(GString) text = g_string_new(NULL);
    ipvs_step_describe(st, text);
    ck_assert_str_eq(text->str, "IPVS TCP 10.96.0.11:80 rr: no real server: ICMP port unreachable "
                                "(ip_vs_leave)");
    /* sh from the node itself: one branch, the one the source hash picks. */
    SimPacket l = syn("192.168.1.101:40000", "10.96.0.10:80");
    g_autoptr(GPtrArray) ls = nf_path_new_connection(rs, &l, NF_ORIGIN_LOCAL, NULL, "veth1", &env);
    ck_assert_uint_eq(ls->len, 1);
    b = g_ptr_array_index(ls, 0);
    ck_assert(b->dnat);
    ck_assert_double_eq_tol(b->probability, 1.0, 1e-12);
    ck_assert_int_eq(b->last_hook, NF_HOOK_POST_ROUTING);
    /* A port the table does not serve on a VIP is plain local delivery. */
    SimPacket o = syn("203.0.113.10:40000", "10.96.0.10:81");
    g_autoptr(GPtrArray) os =
        nf_path_new_connection(rs, &o, NF_ORIGIN_REMOTE, "eth0", "veth1", &env);
    ck_assert_uint_eq(os->len, 1);
    ck_assert(!((NfBranch *)g_ptr_array_index(os, 0))->dnat);
}
END_TEST

/* ------------------------------------------------------------------ the network */

typedef struct {
    SimLoop *loop;
    SimNet *net;
    SimHost *client, *node, *pod[2];
    NfRuleset *rs, *old_rs;
    guint served[2];     /* connections each pod accepted */
    SimSockAddr peer[2]; /* the last peer each pod saw */
    guint connected, closed[4], datagrams_back;
    guint32 received;
} Lab;

static void
pod_data(SimSocket *s, guint32 bytes, gpointer data)
{
    sim_socket_send(s, 1000);
}

static void
pod_peer_closed(SimSocket *s, gpointer data)
{
    sim_socket_close(s);
}

static const SimSocketOps pod_conn_ops = {.data = pod_data, .peer_closed = pod_peer_closed};

static void
pod_connected(SimSocket *s, gpointer data)
{
    Lab *lab = data;
    guint i = sim_socket_host(s) == lab->pod[0] ? 0 : 1;
    lab->served[i]++;
    lab->peer[i] = *sim_socket_peer(s);
    sim_socket_set_user_data(s, &pod_conn_ops, lab);
}

static const SimSocketOps pod_listen_ops = {.connected = pod_connected};

static void
pod_udp(SimSocket *s, guint32 bytes, gpointer data)
{
    Lab *lab = data;
    guint i = sim_socket_host(s) == lab->pod[0] ? 0 : 1;
    lab->served[i]++;
    sim_socket_send(s, 100);
    sim_socket_close(s);
}

static const SimSocketOps pod_udp_ops = {.data = pod_udp};

/* client 203.0.113.10 - node 192.168.1.101 (IPVS) - pods 10.1.1.5 (veth1), 10.1.1.6 (veth2). */
static Lab *
lab_new(IpvsSched sched)
{
    Lab *lab = g_new0(Lab, 1);
    lab->loop = sim_loop_new();
    lab->net = sim_net_new(lab->loop, 7);
    lab->client = sim_net_add_host(lab->net, "client", FALSE);
    guint c0 = sim_host_add_iface(lab->client, "eth0", NULL);
    SimAddr ca = addr("203.0.113.10"), na = addr("192.168.1.101");
    sim_host_add_addr(lab->client, c0, &ca);
    sim_net_attach_fabric(lab->net, lab->client, c0, 100 * SIM_USEC, 0);
    SimCidr any = cidr("0.0.0.0/0");
    sim_host_add_route(lab->client, &any, c0, &na);
    lab->node = sim_net_add_host(lab->net, "node", TRUE);
    guint n0 = sim_host_add_iface(lab->node, "eth0", NULL);
    sim_host_add_addr(lab->node, n0, &na);
    sim_net_attach_fabric(lab->net, lab->node, n0, 100 * SIM_USEC, 0);
    sim_host_add_route(lab->node, &any, n0, NULL);
    const char *pod_ips[2] = {"10.1.1.5", "10.1.1.6"};
    for (guint i = 0; i < 2; i++) {
        g_autofree char *vname = g_strdup_printf("veth%u", i + 1);
        guint v = sim_host_add_iface(lab->node, vname, NULL);
        SimCidr c32 = cidr(pod_ips[i]);
        sim_host_add_route(lab->node, &c32, v, NULL);
        lab->pod[i] = sim_net_add_host(lab->net, pod_ips[i], FALSE);
        guint p0 = sim_host_add_iface(lab->pod[i], "eth0", NULL);
        SimAddr pa = addr(pod_ips[i]);
        sim_host_add_addr(lab->pod[i], p0, &pa);
        sim_host_add_route(lab->pod[i], &any, p0, NULL);
        sim_net_link(lab->net, lab->node, v, lab->pod[i], p0, 10 * SIM_USEC);
        ck_assert(sim_socket_listen(lab->pod[i], SIM_PROTO_TCP, 8080, &pod_listen_ops, lab));
        ck_assert(sim_socket_listen(lab->pod[i], SIM_PROTO_UDP, 5353, &pod_udp_ops, lab));
    }
    CtConfig ct;
    ct_config_init(&ct);
    sim_host_enable_conntrack(lab->node, &ct);
    IpvsConfig ic;
    ipvs_config_init(&ic);
    sim_host_enable_ipvs(lab->node, &ic);
    lab->rs = node_ruleset(sched, TRUE, TRUE);
    sim_host_set_ruleset(lab->node, lab->rs);
    return lab;
}

static void
lab_free(Lab *lab)
{
    sim_net_free(lab->net);
    sim_loop_free(lab->loop);
    nf_ruleset_free(lab->rs);
    nf_ruleset_free(lab->old_rs);
    g_free(lab);
}

static void
client_connected(SimSocket *s, gpointer data)
{
    Lab *lab = data;
    lab->connected++;
    sim_socket_send(s, 100);
}

static void
client_data(SimSocket *s, guint32 bytes, gpointer data)
{
    Lab *lab = data;
    lab->received += bytes;
    if (sim_socket_peer(s)->port == 53) {
        lab->datagrams_back++;
        sim_socket_close(s);
    }
}

static void
client_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    Lab *lab = data;
    lab->closed[reason]++;
}

static const SimSocketOps client_ops = {
    .connected = client_connected, .data = client_data, .closed = client_closed};

/* Keeps the connection open until the client closes it (at close_at). */
static SimSocket *
lab_connect(Lab *lab, SimProto proto, const char *dst)
{
    SimSockAddr to = sockaddr(dst);
    return sim_socket_connect(lab->client, proto, &to, NULL, &client_ops, lab);
}

/* The node's counts for real server rs of TCP 10.96.0.10:80. */
static void
counts(Lab *lab, const char *rs, guint32 *weight, guint32 *active, guint32 *inactive)
{
    SimSockAddr vip = sockaddr("10.96.0.10:80"), r = sockaddr(rs);
    ck_assert(ipvs_state_dest_counts(sim_host_ipvs(lab->node), SIM_PROTO_TCP, &vip, &r, weight,
                                     active, inactive));
}

START_TEST(test_tcp_through_vip_is_served_and_counted)
{
    Lab *lab = lab_new(IPVS_SCHED_RR);
    SimSocket *s = lab_connect(lab, SIM_PROTO_TCP, "10.96.0.10:80");
    sim_loop_run_until(lab->loop, 1 * S);
    ck_assert_uint_eq(lab->connected, 1);
    ck_assert_uint_eq(lab->received, 1000); /* replies came back de-NATed */
    ck_assert_uint_eq(lab->served[1], 1);   /* rr: the list head, 10.1.1.6, first */
    ck_assert_uint_eq(lab->served[0], 0);
    char buf[SIM_SOCKADDR_STRLEN];
    sim_sockaddr_to_string(&lab->peer[1], buf);
    ck_assert(g_str_has_prefix(buf, "192.168.1.101:")); /* masqueraded by mark */
    guint32 w, act, inact;
    counts(lab, "10.1.1.6:8080", &w, &act, &inact);
    ck_assert_uint_eq(w, 1);
    ck_assert_uint_eq(act, 1);
    ck_assert_uint_eq(inact, 0);
    g_autoptr(GString) out = g_string_new(NULL);
    sim_host_ipvs_list(lab->node, out);
    ck_assert(strstr(out->str,
                     "  -> 10.1.1.6:8080                Masq    1      1          0         \n") !=
              NULL);
    sim_socket_close(s);
    sim_loop_run_until(lab->loop, 2 * S);
    ck_assert_uint_eq(lab->closed[SIM_CLOSE_NORMAL], 1);
    counts(lab, "10.1.1.6:8080", &w, &act, &inact);
    ck_assert_uint_eq(act, 0);
    ck_assert_uint_eq(inact, 1); /* TIME_WAIT: InActConn for two minutes */
    sim_loop_run_until(lab->loop, 200 * S);
    counts(lab, "10.1.1.6:8080", &w, &act, &inact);
    ck_assert_uint_eq(inact, 0);
    ck_assert_uint_eq(ipvs_state_conn_count(sim_host_ipvs(lab->node)), 0);
    /* The next connection takes the next real server. */
    lab_connect(lab, SIM_PROTO_TCP, "10.96.0.10:80");
    sim_loop_run_until(lab->loop, 201 * S);
    ck_assert_uint_eq(lab->served[0], 1);
    lab_free(lab);
}
END_TEST

START_TEST(test_empty_service_refuses_and_vip_is_local)
{
    Lab *lab = lab_new(IPVS_SCHED_RR);
    lab_connect(lab, SIM_PROTO_TCP, "10.96.0.11:80");
    sim_loop_run_until(lab->loop, 1 * S);
    ck_assert_uint_eq(lab->closed[SIM_CLOSE_REFUSED], 1);
    ck_assert_uint_eq(lab->connected, 0);
    SimHostStats st;
    sim_host_get_stats(lab->node, &st);
    ck_assert_uint_eq(st.drops[SIM_DROP_REJECT], 1);
    SimAddr vip = addr("10.96.0.11"), other = addr("10.96.0.99");
    ck_assert(sim_host_is_local(lab->node, &vip));
    ck_assert(!sim_host_is_local(lab->node, &other));
    lab_free(lab);
}
END_TEST

START_TEST(test_resync_keeps_counts_and_drains_gracefully)
{
    Lab *lab = lab_new(IPVS_SCHED_RR);
    lab_connect(lab, SIM_PROTO_TCP, "10.96.0.10:80"); /* to 10.1.1.6, left open */
    sim_loop_run_until(lab->loop, 1 * S);
    ck_assert_uint_eq(lab->served[1], 1);
    /* A sync without 10.1.1.6: it stays with weight 0 while its connection lives. */
    lab->old_rs = lab->rs;
    lab->rs = node_ruleset(IPVS_SCHED_RR, TRUE, FALSE);
    sim_host_set_ruleset(lab->node, lab->rs);
    guint32 w, act, inact;
    counts(lab, "10.1.1.6:8080", &w, &act, &inact);
    ck_assert_uint_eq(w, 0);
    ck_assert_uint_eq(act, 1);
    g_autoptr(GString) out = g_string_new(NULL);
    sim_host_ipvs_list(lab->node, out);
    ck_assert(strstr(out->str, "  -> 10.1.1.6:8080                Masq    0      1") != NULL);
    for (guint i = 0; i < 3; i++) /* new connections never pick it */
        lab_connect(lab, SIM_PROTO_TCP, "10.96.0.10:80");
    sim_loop_run_until(lab->loop, 2 * S);
    ck_assert_uint_eq(lab->served[0], 3);
    ck_assert_uint_eq(lab->served[1], 1);
    counts(lab, "10.1.1.5:8080", &w, &act, &inact);
    ck_assert_uint_eq(act, 3);
    lab_free(lab);
}
END_TEST

START_TEST(test_udp_persistence_sticks_to_one_pod)
{
    Lab *lab = lab_new(IPVS_SCHED_RR);
    for (guint i = 0; i < 4; i++) {
        lab_connect(lab, SIM_PROTO_UDP, "10.96.0.12:53");
        sim_loop_run_until(lab->loop, (i + 1) * S);
    }
    ck_assert_uint_eq(lab->datagrams_back, 4);
    /* Persistent: every new "connection" (new source port) of the client goes to one pod. */
    ck_assert(lab->served[0] == 4 || lab->served[1] == 4);
    SimSockAddr vip = sockaddr("10.96.0.12:53");
    SimSockAddr r = sockaddr(lab->served[0] == 4 ? "10.1.1.5:5353" : "10.1.1.6:5353");
    guint32 act, inact;
    ck_assert(ipvs_state_dest_counts(sim_host_ipvs(lab->node), SIM_PROTO_UDP, &vip, &r, NULL, &act,
                                     &inact));
    ck_assert_uint_eq(act, 0);
    ck_assert_uint_eq(inact, 4); /* UDP counts as inactive, for the udp timeout (300 s) */
    sim_loop_run_until(lab->loop, 250 * S); /* conntrack's 30 s are long over; IPVS's are not */
    ck_assert(ipvs_state_dest_counts(sim_host_ipvs(lab->node), SIM_PROTO_UDP, &vip, &r, NULL, &act,
                                     &inact));
    ck_assert_uint_eq(inact, 4);
    sim_loop_run_until(lab->loop, 400 * S);
    ck_assert(ipvs_state_dest_counts(sim_host_ipvs(lab->node), SIM_PROTO_UDP, &vip, &r, NULL, &act,
                                     &inact));
    ck_assert_uint_eq(inact, 0);
    /* The template (60 s) was kept alive by its connections and died at the first timer tick
     * after the last one ended: the next datagram is scheduled again, and rr moves on. */
    guint before[2] = {lab->served[0], lab->served[1]};
    lab_connect(lab, SIM_PROTO_UDP, "10.96.0.12:53");
    sim_loop_run_until(lab->loop, 401 * S);
    ck_assert_uint_eq(lab->datagrams_back, 5);
    ck_assert_uint_eq(lab->served[0] + lab->served[1], 5);
    ck_assert(lab->served[0] == before[0] + (before[0] == 0 ? 1u : 0u));
    ck_assert(lab->served[1] == before[1] + (before[1] == 0 ? 1u : 0u));
    lab_free(lab);
}
END_TEST

START_TEST(test_idle_connection_ends_after_the_ipvs_tcp_timeout)
{
    Lab *lab = lab_new(IPVS_SCHED_RR);
    IpvsConfig ic;
    ipvs_config_init(&ic);
    ck_assert_int_eq(ic.tcp, 900 * S);
    ck_assert_int_eq(ic.tcpfin, 120 * S);
    ck_assert_int_eq(ic.udp, 300 * S);
    ic.tcp = 60 * S; /* --ipvs-tcp-timeout 60s */
    sim_host_enable_ipvs(lab->node, &ic);
    lab_connect(lab, SIM_PROTO_TCP, "10.96.0.10:80"); /* stays open and idle */
    sim_loop_run_until(lab->loop, 30 * S);
    guint32 w, act, inact;
    counts(lab, "10.1.1.6:8080", &w, &act, &inact);
    ck_assert_uint_eq(act, 1);
    sim_loop_run_until(lab->loop, 70 * S);
    counts(lab, "10.1.1.6:8080", &w, &act, &inact);
    ck_assert_uint_eq(act, 0);
    ck_assert_uint_eq(inact, 0);
    /* conntrack still knows the connection (kube-proxy's 24 h): only IPVS forgot it. */
    CtStats cs;
    ct_get_stats(sim_host_conntrack(lab->node), &cs);
    ck_assert_uint_eq(cs.current, 1);
    lab_free(lab);
}
END_TEST

START_TEST(test_removal_without_graceful_deletes_at_once)
{
    Lab *lab = lab_new(IPVS_SCHED_RR);
    lab_connect(lab, SIM_PROTO_TCP, "10.96.0.10:80"); /* to 10.1.1.6, left open */
    sim_loop_run_until(lab->loop, 1 * S);
    lab->old_rs = lab->rs;
    lab->rs = node_ruleset(IPVS_SCHED_RR, FALSE, FALSE);
    sim_host_set_ruleset(lab->node, lab->rs);
    SimSockAddr vip = sockaddr("10.96.0.10:80"), gone = sockaddr("10.1.1.6:8080");
    ck_assert(!ipvs_state_dest_counts(sim_host_ipvs(lab->node), SIM_PROTO_TCP, &vip, &gone, NULL,
                                      NULL, NULL));
    g_autoptr(GString) out = g_string_new(NULL);
    sim_host_ipvs_list(lab->node, out);
    ck_assert(strstr(out->str, "10.1.1.6:8080") == NULL);
    ck_assert(strstr(out->str, "10.1.1.5:8080") != NULL);
    /* The kernel keeps the connection (its dest sits in the trash): it is still counted. */
    ck_assert_uint_eq(ipvs_state_conn_count(sim_host_ipvs(lab->node)), 1);
    lab_free(lab);
}
END_TEST

/* The node's own process: IPVS schedules at LOCAL_OUT; the source is the node's address. */
START_TEST(test_host_process_reaches_vip)
{
    Lab *lab = lab_new(IPVS_SCHED_RR);
    SimSockAddr to = sockaddr("10.96.0.10:80");
    sim_socket_connect(lab->node, SIM_PROTO_TCP, &to, NULL, &client_ops, lab);
    sim_loop_run_until(lab->loop, 1 * S);
    ck_assert_uint_eq(lab->connected, 1);
    ck_assert_uint_eq(lab->received, 1000);
    ck_assert_uint_eq(lab->served[1], 1);
    guint32 w, act, inact;
    counts(lab, "10.1.1.6:8080", &w, &act, &inact);
    ck_assert_uint_eq(act, 1);
    lab_free(lab);
}
END_TEST

static Suite *
ipvs_suite(void)
{
    Suite *s = suite_create("ipvs");
    TCase *sched = tcase_create("schedulers");
    tcase_add_test(sched, test_rr_keeps_position_and_skips_weight_zero);
    tcase_add_test(sched, test_rr_removal_moves_position_back);
    tcase_add_test(sched, test_wrr_kernel_sequence_4_3_2);
    tcase_add_test(sched, test_wrr_gcd_steps);
    tcase_add_test(sched, test_least_connection_family);
    tcase_add_test(sched, test_sh_hash_buckets_and_fallback);
    tcase_add_test(sched, test_sh_spreads_and_dh_hashes_destination);
    tcase_add_test(sched, test_lblc_sticks_until_overloaded);
    tcase_add_test(sched, test_sched_names);
    suite_add_tcase(s, sched);
    TCase *tables = tcase_create("tables");
    tcase_add_test(tables, test_ipvsadm_list_text);
    tcase_add_test(tables, test_ipvsadm_list_ipv6_and_persistence_mask);
    tcase_add_test(tables, test_table_refuses_duplicates_and_keeps_kernel_order);
    tcase_add_test(tables, test_dummy_interface_addresses);
    tcase_add_test(tables, test_state_keeps_rr_position_across_table_swaps);
    suite_add_tcase(s, tables);
    TCase *sets = tcase_create("ipset");
    tcase_add_test(sets, test_ipset_types_and_directions);
    tcase_add_test(sets, test_ipset_refuses_bad_members);
    tcase_add_test(sets, test_ipset_list_and_save_text);
    tcase_add_test(sets, test_set_physdev_ipvs_matches_save_round_trip);
    tcase_add_test(sets, test_set_match_in_rules_with_negation);
    tcase_add_test(sets, test_ipvs_and_physdev_match_evaluation);
    suite_add_tcase(s, sets);
    TCase *trace = tcase_create("trace");
    tcase_add_test(trace, test_trace_forks_per_real_server_and_masquerades);
    tcase_add_test(trace, test_trace_empty_service_rejects_and_local_origin);
    suite_add_tcase(s, trace);
    TCase *run = tcase_create("run");
    tcase_add_test(run, test_tcp_through_vip_is_served_and_counted);
    tcase_add_test(run, test_empty_service_refuses_and_vip_is_local);
    tcase_add_test(run, test_resync_keeps_counts_and_drains_gracefully);
    tcase_add_test(run, test_udp_persistence_sticks_to_one_pod);
    tcase_add_test(run, test_idle_connection_ends_after_the_ipvs_tcp_timeout);
    tcase_add_test(run, test_removal_without_graceful_deletes_at_once);
    tcase_add_test(run, test_host_process_reaches_vip);
    suite_add_tcase(s, run);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ipvs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
