/* SPDX-License-Identifier: Apache-2.0 */
/* Check suite for the plain-value modules of sim/: addresses and prefixes (sim_addr), durations
 * (sim_time), random streams (sim_rng) and protocol names (sim_packet).
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "sim/sim_addr.h"
#include "sim/sim_packet.h"
#include "sim/sim_rng.h"
#include "sim/sim_time.h"
#include "tests/test_util.h"

/* Parses text as an address and returns its canonical text form in buf ("" when invalid). */
static const char *
addr_roundtrip(const char *text, char *buf)
{
    SimAddr a;
    if (!sim_addr_parse(text, &a))
        return "";
    return sim_addr_to_string(&a, buf);
}

/* Parses text as a CIDR and returns its text form in buf ("" when invalid). */
static const char *
cidr_roundtrip(const char *text, char *buf)
{
    SimCidr c;
    if (!sim_cidr_parse(text, &c))
        return "";
    return sim_cidr_to_string(&c, buf);
}

START_TEST(addr_parse_formats_ipv4_and_ipv6_canonically)
{
    char buf[SIM_ADDR_STRLEN];
    ck_assert_str_eq(addr_roundtrip("10.244.1.5", buf), "10.244.1.5");
    ck_assert_str_eq(addr_roundtrip("0.0.0.0", buf), "0.0.0.0");
    ck_assert_str_eq(addr_roundtrip("255.255.255.255", buf), "255.255.255.255");
    /* RFC 5952: lowercase, no leading zeros, longest zero run compressed, first on a tie. */
    ck_assert_str_eq(addr_roundtrip("2001:0DB8:0000:0000:0000:0000:0000:0001", buf), "2001:db8::1");
    ck_assert_str_eq(addr_roundtrip("2001:db8:0:0:1:0:0:1", buf), "2001:db8::1:0:0:1");
    ck_assert_str_eq(addr_roundtrip("2001:db8:0:1:1:1:1:1", buf), "2001:db8:0:1:1:1:1:1");
    ck_assert_str_eq(addr_roundtrip("::", buf), "::");
    ck_assert_str_eq(addr_roundtrip("::1", buf), "::1");
    ck_assert_str_eq(addr_roundtrip("fd00::a:0", buf), "fd00::a:0");
    ck_assert_str_eq(addr_roundtrip("::ffff:10.1.2.3", buf), "::ffff:10.1.2.3");

    SimAddr a = addr("10.244.1.5");
    ck_assert_int_eq(a.family, SIM_AF_INET);
    ck_assert_int_eq(a.b[0], 10);
    ck_assert_int_eq(a.b[3], 5);
    for (int i = 4; i < 16; i++)
        ck_assert_int_eq(a.b[i], 0);
    ck_assert_int_eq(addr("fd00::1").family, SIM_AF_INET6);
}
END_TEST

START_TEST(addr_parse_rejects_malformed_text)
{
    static const char *const bad[] = {
        "",          " 10.0.0.1", "10.0.0.1 ",   "10.0.0",       "10.0.0.1.2", "256.0.0.1",
        "10.0.0.-1", "1e1.0.0.1", "10.0.0.1/32", "fd00::1::2",   "fd00:::1",   "12345::1",
        "fd00::g",   "[fd00::1]", "localhost",   "fe80::1%eth0",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        SimAddr a;
        ck_assert_msg(!sim_addr_parse(bad[i], &a), "accepted \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(cidr_parse_clears_host_bits_and_checks_the_prefix)
{
    char buf[SIM_CIDR_STRLEN];
    ck_assert_str_eq(cidr_roundtrip("10.244.1.7/16", buf), "10.244.0.0/16");
    ck_assert_str_eq(cidr_roundtrip("10.96.45.10", buf), "10.96.45.10/32");
    ck_assert_str_eq(cidr_roundtrip("10.255.255.255/9", buf), "10.128.0.0/9");
    ck_assert_str_eq(cidr_roundtrip("1.2.3.4/0", buf), "0.0.0.0/0");
    ck_assert_str_eq(cidr_roundtrip("fd00::1:2/64", buf), "fd00::/64");
    ck_assert_str_eq(cidr_roundtrip("fd00:ffff::/17", buf), "fd00:8000::/17");
    ck_assert_str_eq(cidr_roundtrip("fd00::1", buf), "fd00::1/128");
    static const char *const bad[] = {
        "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1",   "10.0.0.0/+8", "10.0.0.0/1x", "10.0.0.0/0008",
        "fd00::/129",  "/24",       "10.0.0.0/24/1", "10.0.0/24",   "10.0.0.0/ 8",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        SimCidr c;
        ck_assert_msg(!sim_cidr_parse(bad[i], &c), "accepted \"%s\"", bad[i]);
    }
    SimCidr host = cidr("10.0.0.1");
    ck_assert(sim_cidr_is_host(&host));
    SimCidr net = cidr("10.0.0.0/31");
    ck_assert(!sim_cidr_is_host(&net));
}
END_TEST

START_TEST(cidr_contains_respects_prefix_and_family)
{
    SimCidr c = cidr("10.244.0.0/16");
    SimAddr in = addr("10.244.255.1"), out = addr("10.245.0.1"), v6 = addr("::a0a:1");
    ck_assert(sim_cidr_contains(&c, &in));
    ck_assert(!sim_cidr_contains(&c, &out));
    ck_assert(!sim_cidr_contains(&c, &v6));
    SimCidr odd = cidr("10.96.0.0/12");
    SimAddr last = addr("10.111.255.255"), past = addr("10.112.0.0");
    ck_assert(sim_cidr_contains(&odd, &last));
    ck_assert(!sim_cidr_contains(&odd, &past));
    SimCidr all = cidr("0.0.0.0/0");
    ck_assert(sim_cidr_contains(&all, &out));
    ck_assert(!sim_cidr_contains(&all, &v6));
    SimCidr v6net = cidr("fd00:0:0:80::/57");
    SimAddr v6in = addr("fd00:0:0:ff::1"), v6out = addr("fd00:0:0:7f::1");
    ck_assert(sim_cidr_contains(&v6net, &v6in));
    ck_assert(!sim_cidr_contains(&v6net, &v6out));
    SimCidr host = cidr("10.1.2.3/32");
    SimAddr same = addr("10.1.2.3"), next = addr("10.1.2.4");
    ck_assert(sim_cidr_contains(&host, &same));
    ck_assert(!sim_cidr_contains(&host, &next));
}
END_TEST

START_TEST(cidr_nth_and_offset_walk_the_range)
{
    char buf[SIM_ADDR_STRLEN];
    SimCidr c = cidr("10.96.0.0/12");
    ck_assert_uint_eq(sim_cidr_size(&c), 1u << 20);
    SimAddr a;
    ck_assert(sim_cidr_nth(&c, 0, &a));
    ck_assert_str_eq(sim_addr_to_string(&a, buf), "10.96.0.0");
    ck_assert(sim_cidr_nth(&c, 256 + 7, &a));
    ck_assert_str_eq(sim_addr_to_string(&a, buf), "10.96.1.7");
    ck_assert(sim_cidr_nth(&c, (1u << 20) - 1, &a));
    ck_assert_str_eq(sim_addr_to_string(&a, buf), "10.111.255.255");
    ck_assert(!sim_cidr_nth(&c, 1u << 20, &a));
    SimAddr x = addr("10.100.45.10");
    guint64 off = sim_cidr_offset(&c, &x);
    ck_assert_uint_eq(off, (4u << 16) + (45u << 8) + 10);
    ck_assert(sim_cidr_nth(&c, off, &a));
    ck_assert(sim_addr_equal(&a, &x));

    SimCidr host = cidr("192.168.1.1/32");
    ck_assert_uint_eq(sim_cidr_size(&host), 1);
    ck_assert(!sim_cidr_nth(&host, 1, &a));
    SimCidr all = cidr("0.0.0.0/0");
    ck_assert_uint_eq(sim_cidr_size(&all), G_GUINT64_CONSTANT(1) << 32);

    SimCidr v6 = cidr("fd00:1::/64");
    ck_assert_uint_eq(sim_cidr_size(&v6), G_MAXUINT64); /* saturated */
    ck_assert(sim_cidr_nth(&v6, G_GUINT64_CONSTANT(0x0102030405060708), &a));
    ck_assert_str_eq(sim_addr_to_string(&a, buf), "fd00:1::102:304:506:708");
    ck_assert_uint_eq(sim_cidr_offset(&v6, &a), G_GUINT64_CONSTANT(0x0102030405060708));
    SimCidr v6small = cidr("fd00::/120");
    ck_assert_uint_eq(sim_cidr_size(&v6small), 256);
    ck_assert(sim_cidr_nth(&v6small, 255, &a));
    ck_assert_str_eq(sim_addr_to_string(&a, buf), "fd00::ff");
    ck_assert(!sim_cidr_nth(&v6small, 256, &a));
}
END_TEST

START_TEST(sockaddr_parse_and_format_both_families)
{
    char buf[SIM_SOCKADDR_STRLEN];
    SimSockAddr s;
    ck_assert(sim_sockaddr_parse("10.244.1.5:80", &s, FALSE));
    ck_assert_uint_eq(s.port, 80);
    ck_assert_str_eq(sim_sockaddr_to_string(&s, buf), "10.244.1.5:80");
    ck_assert(sim_sockaddr_parse("[2001:DB8::1]:65535", &s, FALSE));
    ck_assert_uint_eq(s.port, 65535);
    ck_assert_str_eq(sim_sockaddr_to_string(&s, buf), "[2001:db8::1]:65535");
    ck_assert(sim_sockaddr_parse("203.0.113.50", &s, TRUE));
    ck_assert_uint_eq(s.port, 0);
    ck_assert(sim_sockaddr_parse("fd00::5", &s, TRUE));
    ck_assert_int_eq(s.addr.family, SIM_AF_INET6);
    ck_assert(sim_sockaddr_parse("[fd00::5]", &s, TRUE));
    ck_assert_str_eq(sim_sockaddr_to_string(&s, buf), "[fd00::5]:0");

    static const char *const bad[] = {
        "10.0.0.1",  "10.0.0.1:",    "10.0.0.1:65536", "10.0.0.1:-1", "10.0.0.1:80x",
        "[fd00::1]", "fd00::1:80",   "[10.0.0.1]:80",  "[fd00::1]80", "[fd00::1:80",
        ":80",       "10.0.0.1:8 0",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(!sim_sockaddr_parse(bad[i], &s, FALSE), "accepted \"%s\"", bad[i]);
    ck_assert(!sim_sockaddr_parse("10.0.0.1:", &s, TRUE));
    ck_assert(!sim_sockaddr_parse("nonsense", &s, TRUE));
}
END_TEST

START_TEST(text_forms_equal_the_printf_and_inet_ntop_ones)
{
    /* The text forms are written by hand; compare them with the libc forms they replace, over
     * the corner values (0, 9, 10, 99, 100, 255; ports 0 and 65535; the all-zero and all-one
     * IPv6 addresses) and random addresses of both families. */
    static const guint8 corners[] = {0, 1, 9, 10, 99, 100, 199, 200, 255};
    static const guint ports[] = {0, 1, 9, 10, 80, 8080, 9999, 10000, 30080, 65535};
    GRand *rand = g_rand_new_with_seed(42);
    for (guint k = 0; k < 20000; k++) {
        SimSockAddr s = {.addr = {.family = k % 3 == 2 ? SIM_AF_INET6 : SIM_AF_INET}};
        gboolean v6 = s.addr.family == SIM_AF_INET6;
        for (guint i = 0; i < (v6 ? 16u : 4u); i++) {
            guint r = g_rand_int(rand);
            if (k < 600)
                s.addr.b[i] = corners[(k + i * 7) % G_N_ELEMENTS(corners)];
            else /* with runs of zeros in IPv6, for the compression */
                s.addr.b[i] = v6 && r % 3 == 0 ? 0 : (guint8)(r >> 8);
        }
        s.port = k < 600 ? ports[k % G_N_ELEMENTS(ports)] : (guint16)g_rand_int(rand);
        char addr[SIM_ADDR_STRLEN], want[SIM_SOCKADDR_STRLEN], got[SIM_SOCKADDR_STRLEN];
        ck_assert_ptr_nonnull(inet_ntop(v6 ? AF_INET6 : AF_INET, s.addr.b, addr, sizeof addr));
        ck_assert_str_eq(sim_addr_to_string(&s.addr, got), addr);
        g_snprintf(want, sizeof want, v6 ? "[%s]:%u" : "%s:%u", addr, (guint)s.port);
        ck_assert_str_eq(sim_sockaddr_to_string(&s, got), want);
        SimCidr c = {.addr = s.addr, .prefix = (guint8)(s.port % (v6 ? 129 : 33))};
        g_snprintf(want, sizeof want, "%s/%u", addr, (guint)c.prefix);
        ck_assert_str_eq(sim_cidr_to_string(&c, got), want);
    }
    g_rand_free(rand);
    SimSockAddr none = {.port = 80};
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(sim_addr_to_string(&none.addr, buf), "<none>");
    ck_assert_str_eq(sim_sockaddr_to_string(&none, buf), "<none>:80");
}
END_TEST

START_TEST(addr_compare_hash_and_predicates)
{
    SimAddr a = addr("10.0.0.1"), b = addr("10.0.0.2"), c = addr("::1"), a2 = addr("10.0.0.1");
    ck_assert_int_lt(sim_addr_compare(&a, &b), 0);
    ck_assert_int_gt(sim_addr_compare(&b, &a), 0);
    ck_assert_int_lt(sim_addr_compare(&b, &c), 0); /* IPv4 sorts before IPv6 */
    ck_assert_int_eq(sim_addr_compare(&a, &a2), 0);
    ck_assert(sim_addr_equal(&a, &a2));
    ck_assert(!sim_addr_equal(&a, &b));
    ck_assert(sim_addr_equal_func(&a, &a2));
    ck_assert_uint_eq(sim_addr_hash(&a), sim_addr_hash(&a2));
    ck_assert_uint_ne(sim_addr_hash(&a), sim_addr_hash(&b));

    SimAddr lo4 = addr("127.0.0.53"), lo6 = addr("::1"), not_lo = addr("128.0.0.1");
    ck_assert(sim_addr_is_loopback(&lo4));
    ck_assert(sim_addr_is_loopback(&lo6));
    ck_assert(!sim_addr_is_loopback(&not_lo));
    SimAddr any4 = addr("0.0.0.0"), any6 = addr("::");
    ck_assert(sim_addr_is_unspecified(&any4));
    ck_assert(sim_addr_is_unspecified(&any6));
    ck_assert(!sim_addr_is_unspecified(&a));

    SimAddr x;
    sim_addr_from_ipv4(0xc0a80a0b, &x);
    ck_assert(sim_addr_equal(&x, &(SimAddr){.family = SIM_AF_INET, .b = {192, 168, 10, 11}}));
    ck_assert_uint_eq(sim_addr_ipv4(&x), 0xc0a80a0b);
    SimCidr h;
    sim_cidr_from_addr(&c, &h);
    ck_assert_uint_eq(h.prefix, 128);
}
END_TEST

/* ------------------------------------------------------------------ sim_time */

START_TEST(time_parse_accepts_go_durations_and_bare_seconds)
{
    static const struct {
        const char *text;
        SimTime ns;
    } good[] = {
        {"60s", 60 * SIM_SEC},
        {"200us", 200 * SIM_USEC},
        {"200\xc2\xb5s", 200 * SIM_USEC},
        {"1.5s", 1500 * SIM_MSEC},
        {"2m", 120 * SIM_SEC},
        {"1h", 3600 * SIM_SEC},
        {"500ms", 500 * SIM_MSEC},
        {"10ns", 10},
        {"0", 0},
        {"0s", 0},
        {"5", 5 * SIM_SEC},
        {"0.25", 250 * SIM_MSEC},
        {"2m30s", 150 * SIM_SEC},
        {"1h30m", 5400 * SIM_SEC},
        {"1.5ms", 1500 * SIM_USEC},
        {"0.000000001s", 1},
        {"1.1h", 3960 * SIM_SEC},
        {".5s", 500 * SIM_MSEC},
        {"9223372036854775807ns", G_MAXINT64},
        {"9223372036.854775807s", G_MAXINT64},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        SimTime t = -1;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(sim_time_parse(good[i].text, &t, &error), "rejected \"%s\": %s", good[i].text,
                      error ? error->message : "");
        ck_assert_msg(t == good[i].ns, "\"%s\" gave %" G_GINT64_FORMAT, good[i].text, t);
    }
}
END_TEST

START_TEST(time_parse_rejects_negative_overflow_and_garbage)
{
    static const char *const bad[] = {
        "",
        "-1s",
        "-0",
        "abc",
        "5x",
        "s",
        "1.5ns",
        "1.0000000001s",
        "9223372036854775808ns",
        "9223372037s",
        "3000000h",
        "1e3s",
        " 5s",
        "5s ",
        "5 s",
        "1..5s",
        "1.5.s",
        "5s3",
        "1sm",
        "ms",
        ".s",
        "99999999999999999999999s",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        SimTime t = 42;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(!sim_time_parse(bad[i], &t, &error), "accepted \"%s\"", bad[i]);
        ck_assert(g_error_matches(error, SIM_TIME_ERROR, 0));
        ck_assert_ptr_nonnull(strstr(error->message, bad[i]));
        ck_assert_int_eq(t, 42); /* untouched on failure */
    }
}
END_TEST

START_TEST(time_format_is_compact_and_round_trips)
{
    static const struct {
        SimTime ns;
        const char *text;
    } cases[] = {
        {0, "0s"},
        {1500 * SIM_MSEC, "1.5s"},
        {200 * SIM_USEC, "200us"},
        {150 * SIM_SEC, "2m30s"},
        {3600 * SIM_SEC, "1h"},
        {1, "1ns"},
        {1500, "1.5us"},
        {1001, "1.001us"},
        {250 * SIM_MSEC, "250ms"},
        {SIM_SEC, "1s"},
        {3661 * SIM_SEC, "1h1m1s"},
        {5400 * SIM_SEC, "1h30m"},
        {3600 * SIM_SEC + 500 * SIM_MSEC, "1h0.5s"},
        {60 * SIM_SEC + 1, "1m0.000000001s"},
        {-1500 * SIM_MSEC, "-1.5s"},
        {SIM_TIME_NEVER, "never"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char buf[SIM_TIME_STRLEN];
        ck_assert_str_eq(sim_time_format(cases[i].ns, buf), cases[i].text);
        SimTime back;
        if (cases[i].ns >= 0 && cases[i].ns != SIM_TIME_NEVER) {
            ck_assert(sim_time_parse(buf, &back, NULL));
            ck_assert_int_eq(back, cases[i].ns);
        }
    }
    char buf[SIM_TIME_STRLEN];
    sim_time_format(G_MININT64, buf);
    ck_assert_str_eq(buf, "-2562047h47m16.854775808s");
    sim_time_format(G_MAXINT64 - 1, buf);
    ck_assert_str_eq(buf, "2562047h47m16.854775806s");
}
END_TEST

/* ------------------------------------------------------------------ sim_rng */

START_TEST(rng_is_seeded_with_splitmix64_from_seed_and_name)
{
    /* FNV-1a of "" is the offset basis, so this seeds SplitMix64 with 0, whose first four
     * outputs are the published reference values. */
    SimRng r;
    sim_rng_init(&r, G_GUINT64_CONSTANT(0xcbf29ce484222325), "");
    ck_assert_uint_eq(r.s[0], G_GUINT64_CONSTANT(0xe220a8397b1dcdaf));
    ck_assert_uint_eq(r.s[1], G_GUINT64_CONSTANT(0x6e789e6aa1b965f4));
    ck_assert_uint_eq(r.s[2], G_GUINT64_CONSTANT(0x06c45d188009454f));
    ck_assert_uint_eq(r.s[3], G_GUINT64_CONSTANT(0xf88bb8a8724c81ec));
    /* xoshiro256**: the output is rotl(s1 * 5, 7) * 9 of the state before the step. */
    guint64 s1 = r.s[1] * 5;
    guint64 expect = ((s1 << 7) | (s1 >> 57)) * 9;
    ck_assert_uint_eq(sim_rng_next(&r), expect);
}
END_TEST

START_TEST(rng_streams_are_deterministic_and_independent)
{
    SimRng a, b, c, d;
    sim_rng_init(&a, 1, "node1/endpoints");
    sim_rng_init(&b, 1, "node1/endpoints");
    sim_rng_init(&c, 1, "node2/endpoints");
    sim_rng_init(&d, 2, "node1/endpoints");
    gboolean differs_c = FALSE, differs_d = FALSE;
    for (int i = 0; i < 100; i++) {
        guint64 x = sim_rng_next(&a);
        ck_assert_uint_eq(x, sim_rng_next(&b));
        differs_c |= x != sim_rng_next(&c);
        differs_d |= x != sim_rng_next(&d);
    }
    ck_assert(differs_c);
    ck_assert(differs_d);
    /* The state is a plain value: a saved copy replays the same draws. */
    SimRng saved = a;
    guint64 first = sim_rng_next(&a);
    ck_assert_uint_eq(sim_rng_next(&saved), first);
}
END_TEST

START_TEST(rng_below_is_in_range_and_even)
{
    SimRng r;
    sim_rng_init(&r, 7, "below");
    guint counts[3] = {0};
    for (int i = 0; i < 30000; i++) {
        guint64 v = sim_rng_below(&r, 3);
        ck_assert_uint_lt(v, 3);
        counts[v]++;
    }
    for (int k = 0; k < 3; k++)
        ck_assert_msg(counts[k] > 9500 && counts[k] < 10500, "bucket %d got %u", k, counts[k]);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(sim_rng_below(&r, 1), 0);
    /* A bound just above 2^63 rejects almost half of the raw draws. */
    guint64 big = (G_GUINT64_CONSTANT(1) << 63) + 1;
    for (int i = 0; i < 100; i++)
        ck_assert_uint_lt(sim_rng_below(&r, big), big);
    for (int i = 0; i < 1000; i++) {
        ck_assert_uint_lt(sim_rng_u31(&r), G_GUINT64_CONSTANT(1) << 31);
        double x = sim_rng_double(&r);
        ck_assert(x >= 0.0 && x < 1.0);
    }
}
END_TEST

/* ------------------------------------------------------------------ sim_packet */

START_TEST(proto_names_in_iptables_and_kubernetes_spelling)
{
    ck_assert_str_eq(sim_proto_name(SIM_PROTO_TCP), "tcp");
    ck_assert_str_eq(sim_proto_name(SIM_PROTO_UDP), "udp");
    ck_assert_str_eq(sim_proto_name(SIM_PROTO_SCTP), "sctp");
    ck_assert_str_eq(sim_proto_name(SIM_PROTO_ICMP), "icmp");
    ck_assert_str_eq(sim_proto_k8s_name(SIM_PROTO_TCP), "TCP");
    ck_assert_str_eq(sim_proto_k8s_name(SIM_PROTO_SCTP), "SCTP");
    SimProto p;
    ck_assert(sim_proto_parse("TCP", &p));
    ck_assert_int_eq(p, SIM_PROTO_TCP);
    ck_assert(sim_proto_parse("Udp", &p));
    ck_assert_int_eq(p, SIM_PROTO_UDP);
    ck_assert(sim_proto_parse("sctp", &p));
    ck_assert_int_eq(p, SIM_PROTO_SCTP);
    ck_assert(!sim_proto_parse("tcpx", &p));
    ck_assert(!sim_proto_parse("", &p));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("sim_addr");
    TCase *tc = tcase_create("addr");
    tcase_add_test(tc, addr_parse_formats_ipv4_and_ipv6_canonically);
    tcase_add_test(tc, addr_parse_rejects_malformed_text);
    tcase_add_test(tc, cidr_parse_clears_host_bits_and_checks_the_prefix);
    tcase_add_test(tc, cidr_contains_respects_prefix_and_family);
    tcase_add_test(tc, cidr_nth_and_offset_walk_the_range);
    tcase_add_test(tc, sockaddr_parse_and_format_both_families);
    tcase_add_test(tc, text_forms_equal_the_printf_and_inet_ntop_ones);
    tcase_add_test(tc, addr_compare_hash_and_predicates);
    suite_add_tcase(s, tc);
    tc = tcase_create("time");
    tcase_add_test(tc, time_parse_accepts_go_durations_and_bare_seconds);
    tcase_add_test(tc, time_parse_rejects_negative_overflow_and_garbage);
    tcase_add_test(tc, time_format_is_compact_and_round_trips);
    suite_add_tcase(s, tc);
    tc = tcase_create("rng");
    tcase_add_test(tc, rng_is_seeded_with_splitmix64_from_seed_and_name);
    tcase_add_test(tc, rng_streams_are_deterministic_and_independent);
    tcase_add_test(tc, rng_below_is_in_range_and_even);
    suite_add_tcase(s, tc);
    tc = tcase_create("packet");
    tcase_add_test(tc, proto_names_in_iptables_and_kubernetes_spelling);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
