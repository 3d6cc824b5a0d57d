/* SPDX-License-Identifier: Apache-2.0 */
/* Check suite for packet bytes (sim_wire) and capture files (pcap_writer).
 *
 * The wire tests check the checksums against published vectors, compare two serialised packets
 * with bytes computed independently, and round-trip every protocol and family through the
 * parser. The capture tests write a NodePort connection as `tcpdump -i any` would see it on the
 * node that DNATs and SNATs it, read the file back with libpcap at nanosecond precision, and,
 * when tshark is installed, let Wireshark's dissectors validate every header and checksum.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "sim/pcap_writer.h"
#include "sim/sim_wire.h"

/* ---------------------------------------------------------------- helpers */

/* A socket address the test knows to be valid. */
static SimSockAddr
sa(const char *text)
{
    SimSockAddr s;
    ck_assert_msg(sim_sockaddr_parse(text, &s, FALSE), "bad test address %s", text);
    return s;
}

/* A packet from src to dst. */
static SimPacket
pkt(const char *src, const char *dst, SimProto proto, guint8 flags, guint32 seq, guint32 ack,
    guint32 payload)
{
    SimPacket p = {.src = sa(src),
                   .dst = sa(dst),
                   .proto = proto,
                   .tcp_flags = flags,
                   .seq = seq,
                   .ack = ack,
                   .payload = payload};
    p.length = (guint32)sim_wire_length(&p);
    ck_assert_uint_ne(p.length, 0);
    return p;
}

/* Asserts that a and b are the same packet, field by field. */
static void
assert_packet_eq(const SimPacket *a, const SimPacket *b)
{
    ck_assert(sim_addr_equal(&a->src.addr, &b->src.addr));
    ck_assert(sim_addr_equal(&a->dst.addr, &b->dst.addr));
    ck_assert_uint_eq(a->src.port, b->src.port);
    ck_assert_uint_eq(a->dst.port, b->dst.port);
    ck_assert_uint_eq(a->proto, b->proto);
    ck_assert_uint_eq(a->tcp_flags, b->tcp_flags);
    ck_assert_uint_eq(a->mark, b->mark);
    ck_assert_uint_eq(a->length, b->length);
    ck_assert_uint_eq(a->seq, b->seq);
    ck_assert_uint_eq(a->ack, b->ack);
    ck_assert_uint_eq(a->payload, b->payload);
}

/* A deterministic payload of n bytes (caller frees). */
static guint8 *
pattern(gsize n, guint8 salt)
{
    guint8 *b = g_malloc(n + 1);
    for (gsize i = 0; i < n; i++)
        b[i] = (guint8)(i * 7 + salt);
    return b;
}

/* Serialises p, parses it back and checks that everything survived; returns the bytes. */
static GBytes *
roundtrip(const SimPacket *p, const SimWireParams *params)
{
    g_autoptr(GError) error = NULL;
    GBytes *bytes = sim_wire_encode(p, params, &error);
    ck_assert_msg(bytes != NULL, "encode: %s", error ? error->message : "");
    gsize len;
    const guint8 *buf = g_bytes_get_data(bytes, &len);
    ck_assert_uint_eq(len, p->length);
    SimPacket back;
    SimWireInfo info;
    ck_assert_msg(sim_wire_parse(buf, len, &back, &info, &error), "parse: %s",
                  error ? error->message : "");
    assert_packet_eq(p, &back);
    ck_assert_uint_eq(info.ttl, params->ttl ? params->ttl : SIM_WIRE_DEFAULT_TTL);
    ck_assert_uint_le(info.payload_offset + p->payload, len);
    if (params->payload != NULL)
        ck_assert_mem_eq(buf + info.payload_offset, params->payload, p->payload);
    if (p->src.addr.family == SIM_AF_INET) {
        ck_assert_uint_eq(info.ip_id, params->ip_id);
        ck_assert(info.dont_fragment == (p->proto == SIM_PROTO_TCP));
    }
    return bytes;
}

/* ---------------------------------------------------------------- checksums */

START_TEST(inet_checksum_matches_rfc1071_and_a_real_ipv4_header)
{
    /* RFC 1071 section 3: the words sum to 0xddf2, so the checksum is 0x220d. */
    static const guint8 rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ck_assert_uint_eq(sim_wire_inet_checksum(rfc, sizeof rfc), 0x220d);
    /* A captured header whose checksum field (0xb861) was zeroed. */
    guint8 hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                    0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    ck_assert_uint_eq(sim_wire_inet_checksum(hdr, sizeof hdr), 0xb861);
    hdr[10] = 0xb8;
    hdr[11] = 0x61;
    ck_assert_uint_eq(sim_wire_inet_checksum(hdr, sizeof hdr), 0);
    /* An odd last byte is the high half of a zero-padded word. */
    static const guint8 odd[] = {0x01};
    ck_assert_uint_eq(sim_wire_inet_checksum(odd, 1), 0xfeff);
    ck_assert_uint_eq(sim_wire_inet_checksum(NULL, 0), 0xffff);
}
END_TEST

/* RFC 1071's definition, one 16-bit word at a time, for comparison with the word-at-a-time
 * implementation. */
static guint16
reference_checksum(const guint8 *data, gsize len)
{
    guint32 sum = 0;
    for (gsize i = 0; i < len; i += 2) {
        sum += (guint32)data[i] << 8 | (i + 1 < len ? data[i + 1] : 0);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (guint16)~sum;
}

START_TEST(inet_checksum_equals_the_16_bit_definition_at_every_length_and_offset)
{
    /* 32-bit words are summed whole; the result must not depend on length, alignment or on
     * carries out of the top (all 0xff bytes). */
    guint8 buf[300];
    GRand *rand = g_rand_new_with_seed(7);
    for (int round = 0; round < 3; round++) {
        for (gsize i = 0; i < sizeof buf; i++)
            buf[i] = round == 0 ? 0xff : (guint8)g_rand_int_range(rand, 0, 256);
        for (gsize off = 0; off < 8; off++)
            for (gsize len = 0; off + len <= sizeof buf; len++)
                ck_assert_uint_eq(sim_wire_inet_checksum(buf + off, len),
                                  reference_checksum(buf + off, len));
    }
    g_rand_free(rand);
}
END_TEST

START_TEST(crc32c_matches_rfc3720_and_check_vectors)
{
    ck_assert_uint_eq(sim_wire_crc32c((const guint8 *)"123456789", 9), 0xe3069283);
    guint8 buf[32];
    memset(buf, 0, sizeof buf); /* RFC 3720 B.4: 32 bytes of zeros */
    ck_assert_uint_eq(sim_wire_crc32c(buf, sizeof buf), 0x8a9136aa);
    memset(buf, 0xff, sizeof buf);
    ck_assert_uint_eq(sim_wire_crc32c(buf, sizeof buf), 0x62a8ab43);
    for (guint i = 0; i < 32; i++)
        buf[i] = (guint8)i;
    ck_assert_uint_eq(sim_wire_crc32c(buf, sizeof buf), 0x46dd794e);
    for (guint i = 0; i < 32; i++)
        buf[i] = (guint8)(31 - i);
    ck_assert_uint_eq(sim_wire_crc32c(buf, sizeof buf), 0x113fdb5c);
    ck_assert_uint_eq(sim_wire_crc32c(NULL, 0), 0);
}
END_TEST

/* ---------------------------------------------------------------- sim_wire */

START_TEST(udp_bytes_match_an_independent_encoding)
{
    /* Computed by hand (Python struct + RFC 1071) for 10.244.1.5:40000 -> 10.96.0.10:8080. */
    static const guint8 want[] = {
        0x45, 0x00, 0x00, 0x21, 0x01, 0x02, 0x00, 0x00, 0x40, 0x11, 0x63,
        0x68, 0x0a, 0xf4, 0x01, 0x05, 0x0a, 0x60, 0x00, 0x0a, 0x9c, 0x40,
        0x1f, 0x90, 0x00, 0x0d, 0xe9, 0xce, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
    };
    SimPacket p = pkt("10.244.1.5:40000", "10.96.0.10:8080", SIM_PROTO_UDP, 0, 0, 0, 5);
    SimWireParams params = {.ip_id = 0x0102, .payload = (const guint8 *)"hello"};
    guint8 buf[64];
    g_autoptr(GError) error = NULL;
    ck_assert_uint_eq(sim_wire_write(&p, &params, buf, sizeof buf, &error), sizeof want);
    ck_assert_mem_eq(buf, want, sizeof want);
}
END_TEST

START_TEST(tcp_syn_bytes_match_an_independent_encoding)
{
    /* DF, TTL 64, data offset 8, MSS 1460, NOP NOP SACK-permitted, NOP wscale 7, window 64240. */
    static const guint8 want[] = {
        0x45, 0x00, 0x00, 0x34, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x2a, 0x78, 0xcb,
        0x00, 0x71, 0x0a, 0xc0, 0xa8, 0x01, 0x65, 0x9c, 0x40, 0x75, 0x80, 0x00, 0x00,
        0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x80, 0x02, 0xfa, 0xf0, 0x60, 0x5f, 0x00,
        0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07,
    };
    /* An ack number without the ACK flag is not written, as the kernel never does. */
    SimPacket p =
        pkt("203.0.113.10:40000", "192.168.1.101:30080", SIM_PROTO_TCP, SIM_TCP_SYN, 1000, 777, 0);
    SimWireParams params = {.ip_id = 0x1234};
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) b = sim_wire_encode(&p, &params, &error);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(g_bytes_get_size(b), sizeof want);
    ck_assert_mem_eq(g_bytes_get_data(b, NULL), want, sizeof want);
    SimWireInfo info;
    SimPacket back;
    ck_assert(sim_wire_parse(want, sizeof want, &back, &info, &error));
    ck_assert_uint_eq(back.ack, 0);
    ck_assert_uint_eq(info.tcp_mss, 1460);
    ck_assert_uint_eq(info.tcp_window, SIM_WIRE_TCP_WINDOW);
}
END_TEST

START_TEST(tcp_round_trips_over_ipv4_and_ipv6)
{
    static const char *const ends[][2] = {
        {"203.0.113.10:40000", "192.168.1.101:30080"},
        {"[2001:db8::10]:40000", "[fd00:10:96::1]:443"},
    };
    static const guint8 flags[] = {SIM_TCP_SYN,
                                   SIM_TCP_SYN | SIM_TCP_ACK,
                                   SIM_TCP_ACK,
                                   SIM_TCP_PSH | SIM_TCP_ACK,
                                   SIM_TCP_FIN | SIM_TCP_ACK,
                                   SIM_TCP_RST};
    g_autofree guint8 *data = pattern(1461, 3);
    for (gsize e = 0; e < G_N_ELEMENTS(ends); e++) {
        for (gsize f = 0; f < G_N_ELEMENTS(flags); f++) {
            guint32 n = flags[f] & SIM_TCP_PSH ? 1 + 730 * (guint32)e : 0;
            guint32 ack = flags[f] & SIM_TCP_ACK ? 0x80000001u : 0;
            SimPacket p = pkt(ends[e][0], ends[e][1], SIM_PROTO_TCP, flags[f], 0xfffffff0u, ack, n);
            SimWireParams params = {.ip_id = (guint16)(f * 1000), .ttl = 63, .payload = data};
            g_autoptr(GBytes) b = roundtrip(&p, &params);
            gsize hdr = (e == 0 ? 20 : 40) + 20 + (flags[f] & SIM_TCP_SYN ? 12 : 0);
            ck_assert_uint_eq(g_bytes_get_size(b), hdr + n);
        }
    }
    /* The MSS follows the family: 1500 minus the IP and TCP headers. */
    SimPacket syn6 =
        pkt("[2001:db8::10]:1", "[2001:db8::20]:2", SIM_PROTO_TCP, SIM_TCP_SYN, 1, 0, 0);
    g_autoptr(GBytes) b6 = sim_wire_encode(&syn6, NULL, NULL);
    SimWireInfo info;
    SimPacket back;
    ck_assert(sim_wire_parse(g_bytes_get_data(b6, NULL), g_bytes_get_size(b6), &back, &info, NULL));
    ck_assert_uint_eq(info.tcp_mss, 1440);
    ck_assert_uint_eq(info.ttl, 64);
    ck_assert_uint_eq(g_bytes_get_size(b6), SIM_WIRE_MAX_HEADERS); /* the biggest header */
}
END_TEST

START_TEST(udp_and_sctp_round_trip_over_ipv4_and_ipv6)
{
    static const char *const ends[][2] = {
        {"10.244.1.5:5353", "10.96.0.10:5353"},
        {"[fd00:10:244:1::5]:38412", "[fd00:10:96::a]:38412"},
    };
    g_autofree guint8 *data = pattern(1201, 9);
    static const guint32 sizes[] = {0, 1, 2, 3, 4, 5, 1201};
    for (gsize e = 0; e < G_N_ELEMENTS(ends); e++) {
        for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
            SimWireParams params = {.ip_id = (guint16)(e + i), .payload = i % 2 ? data : NULL};
            SimPacket u = pkt(ends[e][0], ends[e][1], SIM_PROTO_UDP, 0, 0, 0, sizes[i]);
            g_autoptr(GBytes) ub = roundtrip(&u, &params);
            ck_assert_uint_eq(g_bytes_get_size(ub), (e ? 40 : 20) + 8 + sizes[i]);
            /* INIT without payload (initiate tag in ack), DATA with: TSN in seq, vtag in ack. */
            SimPacket s = pkt(ends[e][0], ends[e][1], SIM_PROTO_SCTP, 0, 0x10000 + (guint32)i,
                              0xcafe0000u + (guint32)i, sizes[i]);
            g_autoptr(GBytes) sb = roundtrip(&s, &params);
            gsize chunk = sizes[i] == 0 ? 20 : 16 + ((sizes[i] + 3) & ~3u);
            ck_assert_uint_eq(g_bytes_get_size(sb), (e ? 40 : 20) + 12 + chunk);
        }
    }
}
END_TEST

START_TEST(null_payload_writes_the_same_bytes_as_explicit_zeros)
{
    /* The checksum shortcut for NULL payloads must agree with summing real zero bytes. */
    static const guint8 zeros[999] = {0};
    static const SimProto protos[] = {SIM_PROTO_TCP, SIM_PROTO_UDP, SIM_PROTO_SCTP};
    for (gsize i = 0; i < G_N_ELEMENTS(protos); i++) {
        for (guint32 n = 0; n < sizeof zeros; n += 111) {
            guint8 flags = protos[i] == SIM_PROTO_TCP ? SIM_TCP_ACK | SIM_TCP_PSH : 0;
            SimPacket p = pkt("[fd00::1]:1000", "[fd00::2]:2000", protos[i], flags, 5, 6, n);
            SimWireParams with = {.payload = zeros}, without = {0};
            g_autoptr(GBytes) a = sim_wire_encode(&p, &with, NULL);
            g_autoptr(GBytes) b = sim_wire_encode(&p, &without, NULL);
            ck_assert(g_bytes_equal(a, b));
        }
    }
}
END_TEST

START_TEST(write_rejects_what_has_no_wire_form)
{
    guint8 buf[128];
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
    SimPacket icmp = {.src = sa("10.0.0.1:0"), .dst = sa("10.0.0.2:0"), .proto = SIM_PROTO_ICMP};
    ck_assert_uint_eq(sim_wire_length(&icmp), 0);
    ck_assert_uint_eq(sim_wire_write(&icmp, NULL, buf, sizeof buf, &e1), 0);
    ck_assert(g_error_matches(e1, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED));
    SimPacket mixed = {.src = sa("10.0.0.1:1"), .dst = sa("[fd00::2]:2"), .proto = SIM_PROTO_UDP};
    ck_assert_uint_eq(sim_wire_write(&mixed, NULL, buf, sizeof buf, &e2), 0);
    ck_assert(g_error_matches(e2, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED));
    /* 65535 - 20 - 8 is the largest UDP payload over IPv4; IPv6 allows 20 more. */
    SimPacket big = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, 65507);
    ck_assert_uint_eq(big.length, 65535);
    big.payload++;
    ck_assert_uint_eq(sim_wire_write(&big, NULL, buf, sizeof buf, &e3), 0);
    ck_assert(g_error_matches(e3, SIM_WIRE_ERROR, SIM_WIRE_ERROR_TOO_BIG));
    SimPacket big6 = pkt("[fd00::1]:1", "[fd00::2]:2", SIM_PROTO_UDP, 0, 0, 0, 65527);
    ck_assert_uint_eq(big6.length, 65575);
    SimPacket small = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, 100);
    ck_assert_uint_eq(sim_wire_write(&small, NULL, buf, 127, &e4), 0);
    ck_assert(g_error_matches(e4, SIM_WIRE_ERROR, SIM_WIRE_ERROR_NO_SPACE));
    ck_assert_uint_eq(sim_wire_write(&small, NULL, buf, 128, NULL), 128);
}
END_TEST

/* Parses buf and asserts that it fails with code. */
static void
assert_parse_fails(const guint8 *buf, gsize len, SimWireError code)
{
    g_autoptr(GError) error = NULL;
    SimPacket p = {.seq = 42};
    ck_assert(!sim_wire_parse(buf, len, &p, NULL, &error));
    ck_assert_msg(g_error_matches(error, SIM_WIRE_ERROR, (gint)code), "got %s",
                  error ? error->message : "no error");
    ck_assert_uint_eq(p.seq, 42); /* untouched */
}

START_TEST(parse_rejects_corruption_and_truncation)
{
    g_autofree guint8 *data = pattern(100, 1);
    SimPacket t = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_TCP, SIM_TCP_ACK, 1, 2, 100);
    SimWireParams params = {.payload = data};
    guint8 buf[256];
    gsize n = sim_wire_write(&t, &params, buf, sizeof buf, NULL);
    guint8 copy[256];
    memcpy(copy, buf, n);
    copy[8] ^= 1; /* TTL: IPv4 header checksum */
    assert_parse_fails(copy, n, SIM_WIRE_ERROR_CHECKSUM);
    memcpy(copy, buf, n);
    copy[n - 1] ^= 0x80; /* payload: TCP checksum */
    assert_parse_fails(copy, n, SIM_WIRE_ERROR_CHECKSUM);
    assert_parse_fails(buf, n - 1, SIM_WIRE_ERROR_TRUNCATED);
    assert_parse_fails(buf, 10, SIM_WIRE_ERROR_TRUNCATED);
    assert_parse_fails(buf, 0, SIM_WIRE_ERROR_TRUNCATED);
    memcpy(copy, buf, n);
    copy[0] = 0x55;
    assert_parse_fails(copy, n, SIM_WIRE_ERROR_MALFORMED);
    /* Link-layer padding after the datagram is not part of it. */
    SimPacket back;
    ck_assert(sim_wire_parse(buf, sizeof buf, &back, NULL, NULL));
    ck_assert_uint_eq(back.length, n);

    SimPacket u = pkt("[fd00::1]:1", "[fd00::2]:2", SIM_PROTO_UDP, 0, 0, 0, 10);
    n = sim_wire_write(&u, NULL, buf, sizeof buf, NULL);
    buf[46] = buf[47] = 0; /* a zero UDP checksum is not allowed over IPv6 */
    assert_parse_fails(buf, n, SIM_WIRE_ERROR_CHECKSUM);

    SimPacket s = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_SCTP, 0, 7, 8, 10);
    n = sim_wire_write(&s, NULL, buf, sizeof buf, NULL);
    buf[n - 3] = 1; /* chunk padding is covered by the CRC too */
    assert_parse_fails(buf, n, SIM_WIRE_ERROR_CHECKSUM);
}
END_TEST

/* TRUE when flipping bit `bit` of byte i of an IPv6 datagram of protocol proto goes unnoticed
 * by every check: the traffic class, the flow label and the hop limit are covered by no
 * checksum, and SCTP's CRC has no pseudo-header, so neither are its addresses. */
static gboolean
ipv6_unprotected(guint8 proto, gsize i, guint bit)
{
    if (proto == SIM_PROTO_SCTP && i >= 8 && i < 40)
        return TRUE;
    return (i == 0 && bit < 4) || (i >= 1 && i <= 3) || i == 7;
}

START_TEST(parse_rejects_every_truncation_and_every_covered_bit_flip)
{
    g_autofree guint8 *data = pattern(37, 11);
    const SimPacket pkts[] = {
        pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_TCP, SIM_TCP_SYN | SIM_TCP_ACK, 1, 2, 0),
        pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_TCP, SIM_TCP_PSH | SIM_TCP_ACK, 1, 2, 37),
        pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, 37),
        pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_SCTP, 0, 1, 2, 0),
        pkt("[fd00::1]:1", "[fd00::2]:2", SIM_PROTO_TCP, SIM_TCP_SYN, 1, 0, 0),
        pkt("[fd00::1]:1", "[fd00::2]:2", SIM_PROTO_UDP, 0, 0, 0, 37),
        pkt("[fd00::1]:1", "[fd00::2]:2", SIM_PROTO_SCTP, 0, 1, 2, 37),
    };
    SimWireParams params = {.ip_id = 0x5555, .payload = data};
    for (gsize k = 0; k < G_N_ELEMENTS(pkts); k++) {
        guint8 buf[160];
        gsize n = sim_wire_write(&pkts[k], &params, buf, sizeof buf, NULL);
        ck_assert_uint_gt(n, 0);
        SimPacket back;
        for (gsize cut = 0; cut < n; cut++) { /* exact-size copies let ASan see any overread */
            g_autofree guint8 *copy = g_malloc(cut);
            if (cut > 0)
                memcpy(copy, buf, cut);
            ck_assert(!sim_wire_parse(copy, cut, &back, NULL, NULL));
        }
        for (gsize i = 0; i < n * 8; i++) {
            buf[i / 8] ^= (guint8)(1u << (i % 8));
            gboolean ok = sim_wire_parse(buf, n, &back, NULL, NULL);
            gboolean covered = pkts[k].src.addr.family == SIM_AF_INET ||
                               !ipv6_unprotected(pkts[k].proto, i / 8, (guint)(i % 8));
            ck_assert_msg(!ok || !covered, "packet %zu: flip of bit %zu unnoticed", k, i);
            buf[i / 8] ^= (guint8)(1u << (i % 8));
        }
        ck_assert(sim_wire_parse(buf, n, &back, NULL, NULL));
    }
}
END_TEST

/* ---------------------------------------------------------------- capture files */

/* A temporary directory removed (with the files the tests put in it) by tmpdir_free(). */
static char *
tmpdir_new(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("kpsim-pcap-XXXXXX", &error);
    ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
    return dir;
}

/* Removes dir and the plain files in it. */
static void
tmpdir_free(char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    for (const char *name; d != NULL && (name = g_dir_read_name(d)) != NULL;) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_remove(path);
    }
    if (d != NULL)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
}

/* The whole content of a file. */
static GBytes *
slurp(const char *path)
{
    char *data;
    gsize len;
    ck_assert_msg(g_file_get_contents(path, &data, &len, NULL), "cannot read %s", path);
    return g_bytes_new_take(data, len);
}

/* One record the tests expect to find in a capture. */
typedef struct {
    SimTime t;
    SimPcapLink link;
    SimPacket p;
    SimWireParams params;
} Rec;

/* Writes recs to pc; the payload pointers in recs must stay valid meanwhile. */
static void
write_recs(SimPcap *pc, const GArray *recs)
{
    for (guint i = 0; i < recs->len; i++) {
        const Rec *r = &g_array_index(recs, Rec, i);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) b = sim_wire_encode(&r->p, &r->params, &error);
        ck_assert_msg(b != NULL, "%s", error ? error->message : "");
        gsize len;
        const guint8 *ip = g_bytes_get_data(b, &len);
        ck_assert_msg(sim_pcap_write(pc, r->t, &r->link, ip, len, &error), "%s",
                      error ? error->message : "");
    }
}

/* Reads a big-endian 16-bit value from the SLL2 header. */
static guint
be16_at(const guint8 *b)
{
    return (guint)(b[0] << 8 | b[1]);
}

/* Checks one record read back by libpcap against the record that was written. */
static void
check_rec(const struct pcap_pkthdr *h, const guint8 *data, const Rec *r, gint64 epoch)
{
    g_autoptr(GBytes) want = sim_wire_encode(&r->p, &r->params, NULL);
    gsize ip_len;
    const guint8 *ip = g_bytes_get_data(want, &ip_len);
    ck_assert_int_eq(h->ts.tv_sec, epoch + r->t / SIM_SEC);
    ck_assert_int_eq(h->ts.tv_usec, r->t % SIM_SEC); /* nanoseconds at NANO precision */
    ck_assert_uint_eq(h->len, SIM_PCAP_SLL2_HLEN + ip_len);
    ck_assert_uint_eq(h->caplen, h->len);
    ck_assert_uint_eq(be16_at(data), (ip[0] >> 4) == 4 ? 0x0800 : 0x86dd);
    ck_assert_uint_eq(be16_at(data + 2), 0);
    ck_assert_uint_eq(be16_at(data + 4) << 16 | be16_at(data + 6), r->link.ifindex);
    ck_assert_uint_eq(be16_at(data + 8), r->link.hatype);
    ck_assert_uint_eq(data[10], r->link.pkttype);
    ck_assert_uint_eq(data[11], r->link.addr_len);
    ck_assert_mem_eq(data + 12, r->link.addr, SIM_PCAP_SLL2_ADDRLEN);
    ck_assert_mem_eq(data + SIM_PCAP_SLL2_HLEN, ip, ip_len);
    SimPacket back;
    ck_assert(sim_wire_parse(data + SIM_PCAP_SLL2_HLEN, h->caplen - SIM_PCAP_SLL2_HLEN, &back, NULL,
                             NULL));
    assert_packet_eq(&back, &r->p);
}

/* Reads path with libpcap at nanosecond precision and checks it holds exactly recs. */
static void
check_capture(const char *path, const GArray *recs, gint64 epoch)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    ck_assert_msg(in != NULL, "%s", errbuf);
    ck_assert_int_eq(pcap_datalink(in), SIM_PCAP_LINKTYPE_LINUX_SLL2);
    ck_assert_int_eq(pcap_get_tstamp_precision(in), PCAP_TSTAMP_PRECISION_NANO);
    ck_assert_int_eq(pcap_snapshot(in), SIM_PCAP_DEFAULT_SNAPLEN);
    struct pcap_pkthdr *h;
    const u_char *data;
    guint i = 0;
    int rc;
    while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
        ck_assert_uint_lt(i, recs->len);
        check_rec(h, data, &g_array_index(recs, Rec, i), epoch);
        i++;
    }
    ck_assert_int_eq(rc, PCAP_ERROR_BREAK); /* a clean end of file */
    ck_assert_uint_eq(i, recs->len);
    pcap_close(in);
}

/* Runs `tshark -z expert -q` over path with every checksum check on and returns (transfer
 * full) its standard output and error concatenated, or NULL when tshark is not installed. */
static char *
tshark_expert(const char *path)
{
    g_autofree char *tshark = g_find_program_in_path("tshark");
    if (tshark == NULL) {
        fprintf(stderr, "test_pcap: tshark not installed, skipping the tshark check of %s\n", path);
        return NULL;
    }
    const char *argv[] = {tshark,
                          "-r",
                          path,
                          "-o",
                          "tcp.check_checksum:TRUE",
                          "-o",
                          "ip.check_checksum:TRUE",
                          "-o",
                          "udp.check_checksum:TRUE",
                          "-o",
                          "sctp.checksum:crc-32c",
                          "-z",
                          "expert",
                          "-q",
                          NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status;
    g_autoptr(GError) error = NULL;
    ck_assert_msg(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error),
                  "%s", error ? error->message : "");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tshark failed: %s", err);
    return g_strconcat(out, err, NULL);
}

/* Asserts that tshark finds no error-level expert item, nothing malformed and no checksum
 * complaint in path; with no_warnings also no warning-level item. Skipped (with a message) when
 * tshark is not installed. */
static void
tshark_check(const char *path, gboolean no_warnings)
{
    g_autofree char *out = tshark_expert(path);
    if (out == NULL)
        return;
    ck_assert_msg(strstr(out, "Errors (") == NULL, "tshark errors:\n%s", out);
    ck_assert_msg(strstr(out, "Malformed") == NULL, "tshark: malformed packets:\n%s", out);
    ck_assert_msg(strstr(out, "hecksum") == NULL, "tshark checksum items:\n%s", out);
    if (no_warnings)
        ck_assert_msg(strstr(out, "Warns (") == NULL && strstr(out, "Warnings (") == NULL,
                      "tshark warnings:\n%s", out);
}

START_TEST(capture_appears_only_when_closed_with_the_nanosecond_sll2_header)
{
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "node-1.pcap", NULL);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    g_autoptr(GError) error = NULL;
    SimPcap *pc = sim_pcap_open(path, 0, &error);
    ck_assert_ptr_nonnull(pc);
    ck_assert(g_file_test(tmp, G_FILE_TEST_EXISTS));
    ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
    ck_assert(sim_pcap_close(pc, &error));
    ck_assert(!g_file_test(tmp, G_FILE_TEST_EXISTS));
    g_autoptr(GBytes) b = slurp(path);
    static const guint8 want[24] = {
        0x4d, 0x3c, 0xb2, 0xa1, 2,    0,    4,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    /* magic, 2.4, zone, sigfigs */
        0x00, 0x00, 0x04, 0x00, 0x14, 0x01, 0x00, 0x00, /* snaplen 262144, linktype 276 */
    };
    ck_assert_uint_eq(g_bytes_get_size(b), sizeof want);
    ck_assert_mem_eq(g_bytes_get_data(b, NULL), want, sizeof want);
    tmpdir_free(dir);
}
END_TEST

START_TEST(abort_removes_the_temporary_and_keeps_the_old_capture)
{
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "clients.pcap", NULL);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    ck_assert(g_file_set_contents(path, "old", 3, NULL));
    SimPcap *pc = sim_pcap_open(path, 0, NULL);
    SimPacket p = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, 1);
    guint8 ip[64];
    gsize n = sim_wire_write(&p, NULL, ip, sizeof ip, NULL);
    SimPcapLink link = {.ifindex = 2, .hatype = SIM_PCAP_ARPHRD_ETHER, .addr_len = 6};
    ck_assert(sim_pcap_write(pc, 0, &link, ip, n, NULL));
    sim_pcap_abort(pc);
    ck_assert(!g_file_test(tmp, G_FILE_TEST_EXISTS));
    g_autoptr(GBytes) b = slurp(path);
    ck_assert_uint_eq(g_bytes_get_size(b), 3);
    {
        g_autoptr(SimPcap) scoped = sim_pcap_open(path, 0, NULL); /* autoptr aborts */
        ck_assert_ptr_nonnull(scoped);
        ck_assert(g_file_test(tmp, G_FILE_TEST_EXISTS));
    }
    ck_assert(!g_file_test(tmp, G_FILE_TEST_EXISTS));
    g_autoptr(GError) error = NULL;
    g_autofree char *bad = g_build_filename(dir, "no-such-dir", "x.pcap", NULL);
    ck_assert_ptr_null(sim_pcap_open(bad, 0, &error));
    ck_assert(g_error_matches(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO));
    tmpdir_free(dir);
}
END_TEST

#define NODE_IP "192.168.1.101"

/* One TCP segment of the test connection, in the client's terms. */
typedef struct {
    gboolean from_client;
    guint8 flags;
    guint32 seq, ack;
    const char *payload;
} Segment;

/* Appends the two records one segment leaves on the node's eth0 (index 2): as received, and
 * as forwarded after NAT - client 203.0.113.10:40000 -> NodePort 192.168.1.101:30080 is DNATed
 * to Pod 10.1.1.2:80 and SNATed to 192.168.1.101:51234; replies are un-NATed. */
static void
add_segment(GArray *recs, const Segment *s, SimTime t, guint16 ip_id)
{
    static const char *const legs[2][2][2] = {
        {{"10.1.1.2:80", NODE_IP ":51234"}, {NODE_IP ":30080", "203.0.113.10:40000"}},
        {{"203.0.113.10:40000", NODE_IP ":30080"}, {NODE_IP ":51234", "10.1.1.2:80"}},
    };
    static const guint8 node_mac[6] = {0x02, 0x00, 0xc0, 0xa8, 0x01, 0x65};
    static const guint8 router_mac[6] = {0x02, 0x00, 0xc0, 0xa8, 0x01, 0x01};
    static const guint8 node3_mac[6] = {0x02, 0x00, 0xc0, 0xa8, 0x01, 0x67};
    guint32 n = s->payload != NULL ? (guint32)strlen(s->payload) : 0;
    for (int leg = 0; leg < 2; leg++) {
        const char *const *ends = legs[s->from_client][leg];
        Rec r = {.t = t + leg * 40 * SIM_USEC,
                 .link = {.ifindex = 2, .hatype = SIM_PCAP_ARPHRD_ETHER, .addr_len = 6},
                 .p = pkt(ends[0], ends[1], SIM_PROTO_TCP, s->flags, s->seq, s->ack, n),
                 .params = {.ip_id = ip_id,
                            .ttl = leg == 0 ? 64 : 63,
                            .payload = (const guint8 *)s->payload}};
        r.link.pkttype = leg == 0 ? SIM_PCAP_HOST : SIM_PCAP_OUTGOING;
        const guint8 *mac = leg == 1 ? node_mac : s->from_client ? router_mac : node3_mac;
        memcpy(r.link.addr, mac, 6);
        g_array_append_val(recs, r);
    }
}

/* The records of a whole NodePort HTTP exchange: handshake, request, response, FIN/ACK. */
static GArray *
nodeport_flow(void)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: " NODE_IP ":30080\r\n"
                              "User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nServer: nginx/1.27.0\r\n"
                               "Content-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
    const guint32 c = 1000, s = 5000, q = sizeof req - 1, r = sizeof resp - 1;
    const guint8 A = SIM_TCP_ACK, PA = SIM_TCP_PSH | SIM_TCP_ACK, FA = SIM_TCP_FIN | SIM_TCP_ACK;
    const Segment segs[] = {
        {TRUE, SIM_TCP_SYN, c, 0, NULL},         {FALSE, SIM_TCP_SYN | A, s, c + 1, NULL},
        {TRUE, A, c + 1, s + 1, NULL},           {TRUE, PA, c + 1, s + 1, req},
        {FALSE, A, s + 1, c + 1 + q, NULL},      {FALSE, PA, s + 1, c + 1 + q, resp},
        {TRUE, A, c + 1 + q, s + 1 + r, NULL},   {TRUE, FA, c + 1 + q, s + 1 + r, NULL},
        {FALSE, FA, s + 1 + r, c + 2 + q, NULL}, {TRUE, A, c + 2 + q, s + 2 + r, NULL},
    };
    GArray *recs = g_array_new(FALSE, FALSE, sizeof(Rec));
    guint16 ids[2] = {0x1f00, 0x7a00}; /* per sender: server, client */
    for (gsize i = 0; i < G_N_ELEMENTS(segs); i++)
        add_segment(recs, &segs[i], (SimTime)i * 250 * SIM_USEC + 3 * SIM_SEC + 17,
                    ids[segs[i].from_client]++);
    return recs;
}

START_TEST(nodeport_flow_shows_dnat_and_snat_on_eth0)
{
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "node-1.pcap", NULL);
    g_autoptr(GArray) recs = nodeport_flow();
    g_autoptr(GError) error = NULL;
    SimPcap *pc = sim_pcap_open(path, 0, &error);
    ck_assert_ptr_nonnull(pc);
    write_recs(pc, recs);
    ck_assert_uint_eq(sim_pcap_count(pc), 20);
    ck_assert(sim_pcap_close(pc, &error));
    check_capture(path, recs, SIM_PCAP_DEFAULT_EPOCH);
    /* Spot checks in the terms a reader of the capture uses. */
    const Rec *syn_in = &g_array_index(recs, Rec, 0), *syn_out = &g_array_index(recs, Rec, 1);
    ck_assert_uint_eq(syn_in->link.pkttype, SIM_PCAP_HOST);
    ck_assert_uint_eq(syn_out->link.pkttype, SIM_PCAP_OUTGOING);
    ck_assert_uint_eq(syn_out->p.dst.port, 80);
    ck_assert_uint_eq(syn_out->p.src.port, 51234);
    tshark_check(path, TRUE);
    tmpdir_free(dir);
}
END_TEST

START_TEST(udp_sctp_and_loopback_records_are_well_formed)
{
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "node-2.pcap", NULL);
    g_autoptr(GArray) recs = g_array_new(FALSE, FALSE, sizeof(Rec));
    static const char *const ends[][2] = {
        {"10.244.1.5:40001", "10.96.0.10:8125"},
        {"[fd00:10:244:1::5]:40001", "[fd00:10:96::a]:8125"},
    };
    g_autofree guint8 *data = pattern(333, 5);
    for (gsize e = 0; e < G_N_ELEMENTS(ends); e++) {
        Rec r = {.t = (SimTime)e * SIM_MSEC,
                 .link = {.ifindex = 1, .hatype = SIM_PCAP_ARPHRD_LOOPBACK, .addr_len = 6},
                 .p = pkt(ends[e][0], ends[e][1], SIM_PROTO_UDP, 0, 0, 0, 333),
                 .params = {.ip_id = 9, .payload = data}};
        g_array_append_val(recs, r);
        r.t += 10 * SIM_USEC;
        r.link = (SimPcapLink){.ifindex = 3,
                               .hatype = SIM_PCAP_ARPHRD_ETHER,
                               .pkttype = SIM_PCAP_OUTGOING,
                               .addr_len = 6,
                               .addr = {2, 0, 0x0a, 0xf4, 1, 1}};
        r.p = pkt(ends[e][0], ends[e][1], SIM_PROTO_SCTP, 0, 77, 0xabc, 0); /* INIT */
        g_array_append_val(recs, r);
        r.t += 10 * SIM_USEC;
        r.p = pkt(ends[e][1], ends[e][0], SIM_PROTO_SCTP, 0, 78 + 100 * (guint32)e, 0xabc,
                  33); /* DATA to the INIT's sender, with its initiate tag */
        g_array_append_val(recs, r);
    }
    SimPcap *pc = sim_pcap_open(path, 0, NULL);
    sim_pcap_set_epoch(pc, 0);
    write_recs(pc, recs);
    ck_assert(sim_pcap_close(pc, NULL));
    check_capture(path, recs, 0);
    tshark_check(path, FALSE);
    tmpdir_free(dir);
}
END_TEST

START_TEST(tshark_check_catches_a_corrupted_checksum)
{
    /* Guards the harness above: if tshark validates nothing, the flow tests prove nothing. */
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "bad.pcap", NULL);
    SimPacket p = pkt("10.0.0.1:40000", "10.0.0.2:80", SIM_PROTO_TCP, SIM_TCP_SYN, 1, 0, 0);
    guint8 ip[128];
    gsize n = sim_wire_write(&p, NULL, ip, sizeof ip, NULL);
    ip[37] ^= 0x01; /* low byte of the TCP checksum */
    SimPcap *pc = sim_pcap_open(path, 0, NULL);
    SimPcapLink link = {.ifindex = 2, .hatype = SIM_PCAP_ARPHRD_ETHER, .addr_len = 6};
    ck_assert(sim_pcap_write(pc, 0, &link, ip, n, NULL));
    ck_assert(sim_pcap_close(pc, NULL));
    g_autofree char *out = tshark_expert(path);
    if (out != NULL)
        ck_assert_msg(strstr(out, "Errors (") != NULL && strstr(out, "hecksum") != NULL,
                      "tshark missed a bad TCP checksum:\n%s", out);
    tmpdir_free(dir);
}
END_TEST

START_TEST(records_larger_than_the_buffer_or_snaplen_are_kept_in_order)
{
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "big.pcap", NULL);
    SimPcap *pc = sim_pcap_open(path, 0, NULL);
    SimPcapLink link = {.ifindex = 2, .hatype = SIM_PCAP_ARPHRD_ETHER, .addr_len = 6};
    g_autofree guint8 *ip = g_malloc(65535);
    const guint32 sizes[] = {65507, 1, 30000, 40000, 65507, 3}; /* crosses 64 KiB each time */
    for (guint round = 0; round < 50; round++) {
        for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
            SimPacket p = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, sizes[i]);
            SimWireParams params = {.ip_id = (guint16)(round * 10 + i)};
            gsize n = sim_wire_write(&p, &params, ip, 65535, NULL);
            ck_assert(
                sim_pcap_write(pc, (SimTime)round * SIM_SEC + (SimTime)i, &link, ip, n, NULL));
        }
    }
    ck_assert(sim_pcap_close(pc, NULL));
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    ck_assert_msg(in != NULL, "%s", errbuf);
    struct pcap_pkthdr *h;
    const u_char *data;
    for (guint k = 0; k < 50 * G_N_ELEMENTS(sizes); k++) {
        ck_assert_int_eq(pcap_next_ex(in, &h, &data), 1);
        SimPacket back;
        SimWireInfo info;
        ck_assert(sim_wire_parse(data + 20, h->caplen - 20, &back, &info, NULL));
        ck_assert_uint_eq(back.payload, sizes[k % G_N_ELEMENTS(sizes)]);
        ck_assert_uint_eq(info.ip_id, (k / G_N_ELEMENTS(sizes)) * 10 + k % G_N_ELEMENTS(sizes));
        ck_assert_int_eq(h->ts.tv_usec, k % G_N_ELEMENTS(sizes));
    }
    ck_assert_int_eq(pcap_next_ex(in, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(in);

    /* A 96-byte snap length keeps the headers and records the original length. */
    pc = sim_pcap_open(path, 96, NULL);
    SimPacket p = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, 500);
    gsize n = sim_wire_write(&p, NULL, ip, 65535, NULL);
    ck_assert(sim_pcap_write(pc, 5, &link, ip, n, NULL));
    ck_assert(sim_pcap_close(pc, NULL));
    in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    ck_assert_int_eq(pcap_snapshot(in), 96);
    ck_assert_int_eq(pcap_next_ex(in, &h, &data), 1);
    ck_assert_uint_eq(h->caplen, 96);
    ck_assert_uint_eq(h->len, 20 + 528);
    ck_assert_mem_eq(data + 20, ip, 76);
    pcap_close(in);
    tmpdir_free(dir);
}
END_TEST

/* Writes rounds x the sizes below to path with snap length snaplen, each datagram either
 * serialised into sim_pcap_reserve()'s room or copied from a buffer of its own. */
static void
write_mixed_capture(const char *path, guint32 snaplen, guint rounds, gboolean in_place)
{
    SimPcap *pc = sim_pcap_open(path, snaplen, NULL);
    ck_assert_ptr_nonnull(pc);
    SimPcapLink link = {.ifindex = 3, .hatype = SIM_PCAP_ARPHRD_ETHER, .addr_len = 6};
    g_autofree guint8 *own = g_malloc(SIM_PCAP_MAX_DATAGRAM);
    const guint32 sizes[] = {65507, 1, 1472, 30000, 100, 65507, 3};
    for (guint round = 0; round < rounds; round++) {
        for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
            SimPacket p = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, sizes[i]);
            SimWireParams params = {.ip_id = (guint16)(round * 10 + i)};
            guint8 *ip = in_place ? sim_pcap_reserve(pc, NULL) : own;
            ck_assert_ptr_nonnull(ip);
            gsize n = sim_wire_write(&p, &params, ip, SIM_PCAP_MAX_DATAGRAM, NULL);
            ck_assert(
                sim_pcap_write(pc, (SimTime)round * SIM_SEC + (SimTime)i, &link, ip, n, NULL));
        }
    }
    ck_assert(sim_pcap_close(pc, NULL));
}

START_TEST(reserved_records_are_the_same_bytes_as_copied_ones)
{
    char *dir = tmpdir_new();
    g_autofree char *a = g_build_filename(dir, "copied.pcap", NULL);
    g_autofree char *b = g_build_filename(dir, "in-place.pcap", NULL);
    /* 350 rounds of ~167 KB: 58 MB, through the 1 MiB buffer and the 32 MiB write-behind
     * windows; then snap lengths cutting the datagram (96) and the headers themselves (24). */
    const guint32 snaplens[] = {0, 96, 24};
    const guint rounds[] = {350, 20, 20};
    for (gsize k = 0; k < G_N_ELEMENTS(snaplens); k++) {
        write_mixed_capture(a, snaplens[k], rounds[k], FALSE);
        write_mixed_capture(b, snaplens[k], rounds[k], TRUE);
        g_autoptr(GBytes) want = slurp(a);
        g_autoptr(GBytes) got = slurp(b);
        ck_assert_msg(g_bytes_equal(want, got), "snaplen %u: %zu vs %zu bytes", snaplens[k],
                      g_bytes_get_size(want), g_bytes_get_size(got));
    }
    tmpdir_free(dir);
}
END_TEST

/* Writes 60,000-byte records to a capture limited to 3 MB by RLIMIT_FSIZE: the failure is
 * reported as "write failed: File too large" by the write that hits it, later writes and the
 * close fail too, and no file is left behind. */
START_TEST(a_failed_write_is_reported_and_leaves_no_file)
{
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "full.pcap", NULL);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    signal(SIGXFSZ, SIG_IGN); /* the test runs in a child of its own (CK_FORK) */
    struct rlimit limit = {.rlim_cur = 3 << 20, .rlim_max = RLIM_INFINITY};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    SimPcap *pc = sim_pcap_open(path, 0, NULL);
    SimPcapLink link = {.ifindex = 2, .hatype = SIM_PCAP_ARPHRD_ETHER, .addr_len = 6};
    g_autofree guint8 *ip = g_malloc(SIM_PCAP_MAX_DATAGRAM);
    g_autoptr(GError) error = NULL;
    gboolean ok = TRUE;
    for (guint k = 0; ok && k < 200; k++) {
        SimPacket p = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, 60000);
        gsize n = sim_wire_write(&p, NULL, ip, SIM_PCAP_MAX_DATAGRAM, NULL);
        ok = sim_pcap_write(pc, (SimTime)k, &link, ip, n, &error);
    }
    ck_assert(!ok);
    ck_assert(g_error_matches(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO));
    ck_assert_msg(strstr(error->message, "full.pcap.tmp: write failed: File too large") != NULL,
                  "%s", error->message);
    g_autoptr(GError) again = NULL;
    ck_assert(!sim_pcap_write(pc, 0, &link, ip, 100, &again)); /* stays failed */
    ck_assert(!sim_pcap_close(pc, NULL));
    ck_assert(!g_file_test(tmp, G_FILE_TEST_EXISTS));
    ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
    limit.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &limit);
    tmpdir_free(dir);
}
END_TEST

START_TEST(timestamps_come_from_the_epoch_and_are_bounded)
{
    char *dir = tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "t.pcap", NULL);
    SimPcap *pc = sim_pcap_open(path, 0, NULL);
    SimPacket p = pkt("10.0.0.1:1", "10.0.0.2:2", SIM_PROTO_UDP, 0, 0, 0, 0);
    guint8 ip[64];
    gsize n = sim_wire_write(&p, NULL, ip, sizeof ip, NULL);
    SimPcapLink link = {.ifindex = 2, .hatype = SIM_PCAP_ARPHRD_ETHER, .addr_len = 6};
    g_autoptr(GError) e1 = NULL, e2 = NULL;
    sim_pcap_set_epoch(pc, 10);
    ck_assert(sim_pcap_write(pc, -SIM_SEC / 2, &link, ip, n, NULL)); /* 9.5 s */
    ck_assert(!sim_pcap_write(pc, -11 * SIM_SEC, &link, ip, n, &e1));
    ck_assert(g_error_matches(e1, SIM_PCAP_ERROR, SIM_PCAP_ERROR_TIMESTAMP));
    sim_pcap_set_epoch(pc, G_MAXUINT32);
    ck_assert(sim_pcap_write(pc, SIM_SEC - 1, &link, ip, n, NULL));
    ck_assert(!sim_pcap_write(pc, SIM_SEC, &link, ip, n, &e2));
    ck_assert(g_error_matches(e2, SIM_PCAP_ERROR, SIM_PCAP_ERROR_TIMESTAMP));
    ck_assert_uint_eq(sim_pcap_count(pc), 2);
    ck_assert(sim_pcap_close(pc, NULL));
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    struct pcap_pkthdr *h;
    const u_char *data;
    ck_assert_int_eq(pcap_next_ex(in, &h, &data), 1);
    ck_assert_int_eq(h->ts.tv_sec, 9);
    ck_assert_int_eq(h->ts.tv_usec, 500000000);
    ck_assert_int_eq(pcap_next_ex(in, &h, &data), 1);
    ck_assert_uint_eq((guint32)h->ts.tv_sec, G_MAXUINT32);
    ck_assert_int_eq(h->ts.tv_usec, 999999999);
    pcap_close(in);
    tmpdir_free(dir);
}
END_TEST

START_TEST(equal_runs_write_byte_identical_files)
{
    char *dir = tmpdir_new();
    g_autofree char *a = g_build_filename(dir, "a.pcap", NULL);
    g_autofree char *b = g_build_filename(dir, "b.pcap", NULL);
    g_autoptr(GArray) recs = nodeport_flow();
    const char *paths[] = {a, b};
    for (int i = 0; i < 2; i++) {
        SimPcap *pc = sim_pcap_open(paths[i], 0, NULL);
        write_recs(pc, recs);
        ck_assert(sim_pcap_close(pc, NULL));
    }
    g_autoptr(GBytes) ba = slurp(a);
    g_autoptr(GBytes) bb = slurp(b);
    ck_assert_uint_gt(g_bytes_get_size(ba), 24 + 20 * 36);
    ck_assert(g_bytes_equal(ba, bb));
    tmpdir_free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pcap");
    TCase *tc = tcase_create("checksum");
    tcase_add_test(tc, inet_checksum_matches_rfc1071_and_a_real_ipv4_header);
    tcase_add_test(tc, inet_checksum_equals_the_16_bit_definition_at_every_length_and_offset);
    tcase_add_test(tc, crc32c_matches_rfc3720_and_check_vectors);
    suite_add_tcase(s, tc);
    tc = tcase_create("wire");
    tcase_add_test(tc, udp_bytes_match_an_independent_encoding);
    tcase_add_test(tc, tcp_syn_bytes_match_an_independent_encoding);
    tcase_add_test(tc, tcp_round_trips_over_ipv4_and_ipv6);
    tcase_add_test(tc, udp_and_sctp_round_trip_over_ipv4_and_ipv6);
    tcase_add_test(tc, null_payload_writes_the_same_bytes_as_explicit_zeros);
    tcase_add_test(tc, write_rejects_what_has_no_wire_form);
    tcase_add_test(tc, parse_rejects_corruption_and_truncation);
    tcase_add_test(tc, parse_rejects_every_truncation_and_every_covered_bit_flip);
    suite_add_tcase(s, tc);
    tc = tcase_create("capture");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, capture_appears_only_when_closed_with_the_nanosecond_sll2_header);
    tcase_add_test(tc, abort_removes_the_temporary_and_keeps_the_old_capture);
    tcase_add_test(tc, nodeport_flow_shows_dnat_and_snat_on_eth0);
    tcase_add_test(tc, udp_sctp_and_loopback_records_are_well_formed);
    tcase_add_test(tc, tshark_check_catches_a_corrupted_checksum);
    tcase_add_test(tc, records_larger_than_the_buffer_or_snaplen_are_kept_in_order);
    tcase_add_test(tc, reserved_records_are_the_same_bytes_as_copied_ones);
    tcase_add_test(tc, a_failed_write_is_reported_and_leaves_no_file);
    tcase_add_test(tc, timestamps_come_from_the_epoch_and_are_bounded);
    tcase_add_test(tc, equal_runs_write_byte_identical_files);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
