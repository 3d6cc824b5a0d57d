/* SPDX-License-Identifier: Apache-2.0 */
/* The bytes of a simulated packet: serialising SimPacket to IPv4/IPv6 datagrams and parsing back.
 *
 * Models the headers the Linux stack writes for TCP, UDP and SCTP sockets (see sim_wire.h for
 * the exact field mapping and what is simplified). The IP, TCP and UDP headers, which every
 * captured packet is written with at every interface, are stored at fixed offsets into a buffer
 * sized first by wire_layout(). The rarer SCTP and ICMP headers, and all parsing, go through two
 * small cursors whose big-endian accessors check bounds on every access; an overrun is recorded
 * in the cursor and turned into a GError (or an assertion) once, at the end, so the serialisers
 * stay straight-line code.
 * The checksums are the RFC 1071 Internet checksum (IPv4 header, TCP, UDP) over a 64-bit
 * accumulator and table-driven CRC-32C (SCTP).
 */
#include "sim/sim_wire.h"

#include "sim/sim_bytes.h"

#include <string.h>

G_DEFINE_QUARK(sim-wire-error-quark, sim_wire_error)

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define TCP_SYN_OPTLEN 12 /* MSS 4, NOP NOP SACK-permitted 4, NOP window-scale 4 */
#define UDP_HLEN 8
#define ICMP_HLEN 8  /* type, code, checksum, 4 unused bytes */
#define ICMP_QUOTE_L4 8 /* transport bytes an error quotes after the IP header */
#define SCTP_HLEN 12
#define SCTP_INIT_LEN 20
#define SCTP_DATA_HLEN 16
#define SCTP_CHUNK_DATA 0
#define SCTP_CHUNK_INIT 1
#define IPV4_DF 0x4000
#define IPV4_FRAG_MASK 0x3fff /* MF and the fragment offset */
#define TCP_WSCALE 7          /* what Linux offers with default buffer sizes */
#define SCTP_INIT_A_RWND 106496
#define SCTP_INIT_OUT_STREAMS 10 /* Linux's default sinit_num_ostreams */
#define SCTP_INIT_IN_STREAMS 65535

/* ---------------------------------------------------------------- bounds-checked cursors */

/* A write cursor; once a write would overrun, nothing more is written and overrun is set. */
typedef struct {
    guint8 *buf;
    gsize cap;
    gsize pos;
    gboolean overrun;
} WireOut;

/* Reserves n bytes at the cursor and returns them, or NULL (setting overrun) if they don't fit. */
static guint8 *
out_take(WireOut *w, gsize n)
{
    if (w->overrun || n > w->cap - w->pos) {
        w->overrun = TRUE;
        return NULL;
    }
    guint8 *p = w->buf + w->pos;
    w->pos += n;
    return p;
}

/* Appends one byte. */
static void
out_u8(WireOut *w, guint8 v)
{
    guint8 *p = out_take(w, 1);
    if (p != NULL)
        p[0] = v;
}

/* Appends a 16-bit value, most significant byte first. */
static void
out_be16(WireOut *w, guint16 v)
{
    guint8 *p = out_take(w, 2);
    if (p != NULL)
        sim_put_be16(p, v);
}

/* Appends a 32-bit value, most significant byte first. */
static void
out_be32(WireOut *w, guint32 v)
{
    guint8 *p = out_take(w, 4);
    if (p != NULL)
        sim_put_be32(p, v);
}

/* Stores a 16-bit value big-endian at buf[off], which must lie inside buf[0..cap). */
static void
wire_set_be16(guint8 *buf, gsize cap, gsize off, guint16 v)
{
    g_assert(off <= cap && cap - off >= 2);
    sim_put_be16(buf + off, v);
}

/* Stores a 32-bit value least-significant byte first at buf[off] (SCTP's CRC-32C field). */
static void
wire_set_le32(guint8 *buf, gsize cap, gsize off, guint32 v)
{
    g_assert(off <= cap && cap - off >= 4);
    sim_put_le32(buf + off, v);
}

/* A read cursor over buf[0..len); reading past the end yields zeros and sets short_read. */
typedef struct {
    const guint8 *buf;
    gsize len;
    gsize pos;
    gboolean short_read;
} WireIn;

/* Consumes n bytes and returns them, or NULL (setting short_read) when fewer remain. */
static const guint8 *
in_take(WireIn *r, gsize n)
{
    if (r->short_read || n > r->len - r->pos) {
        r->short_read = TRUE;
        return NULL;
    }
    const guint8 *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

/* Reads one byte. */
static guint8
in_u8(WireIn *r)
{
    const guint8 *p = in_take(r, 1);
    return p != NULL ? p[0] : 0;
}

/* Reads a big-endian 16-bit value. */
static guint16
in_be16(WireIn *r)
{
    const guint8 *p = in_take(r, 2);
    return p != NULL ? (guint16)((p[0] << 8) | p[1]) : 0;
}

/* Reads a big-endian 32-bit value. */
static guint32
in_be32(WireIn *r)
{
    const guint8 *p = in_take(r, 4);
    if (p == NULL)
        return 0;
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* Reads a 32-bit value stored least-significant byte first. */
static guint32
in_le32(WireIn *r)
{
    const guint8 *p = in_take(r, 4);
    if (p == NULL)
        return 0;
    return ((guint32)p[3] << 24) | ((guint32)p[2] << 16) | ((guint32)p[1] << 8) | p[0];
}

/* A sub-cursor over the next n bytes of r (which are consumed), for one header or chunk. */
static WireIn
in_sub(WireIn *r, gsize n)
{
    const guint8 *p = in_take(r, n);
    return (WireIn){.buf = p, .len = p != NULL ? n : 0, .short_read = p == NULL};
}

/* ---------------------------------------------------------------- checksums */

/* Adds data's big-endian 16-bit words to sum. Only the last chunk of a sum may have odd
 * length; its last byte is padded with zero. */
static inline guint64
csum_add(guint64 sum, const guint8 *data, gsize len)
{
    gsize i = 0;
    /* A big-endian 32-bit word is two 16-bit ones, hi * 2^16 + lo, and 2^16 is 1 in one's
     * complement arithmetic (mod 2^16 - 1): summing whole words folds to the same result. */
    for (; i + 4 <= len; i += 4) {
        guint32 w;
        memcpy(&w, data + i, 4);
        sum += GUINT32_FROM_BE(w);
    }
    for (; i + 1 < len; i += 2)
        sum += (guint32)((data[i] << 8) | data[i + 1]);
    if (i < len)
        sum += (guint32)(data[i] << 8);
    return sum;
}

/* Folds a wide one's complement sum to 16 bits (not complemented). */
static guint16
csum_fold(guint64 sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (guint16)sum;
}

guint16
sim_wire_inet_checksum(const guint8 *data, gsize len)
{
    g_return_val_if_fail(data != NULL || len == 0, 0);
    return (guint16)~csum_fold(csum_add(0, data, len));
}

/* CRC-32C lookup table for the reflected polynomial 0x82F63B78, one byte at a time. */
static const guint32 crc32c_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
    0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
    0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
    0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
    0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
    0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
    0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
    0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
    0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
    0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
    0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
    0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
    0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
    0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
    0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
    0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
    0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
    0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
    0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
    0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
    0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
    0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
    0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
    0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
    0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
    0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
    0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
    0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
    0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
    0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
    0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
    0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
    0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

/* Feeds data into a running (pre-inverted) CRC-32C value. */
static guint32
crc32c_update(guint32 crc, const guint8 *data, gsize len)
{
    for (gsize i = 0; i < len; i++)
        crc = crc32c_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

guint32
sim_wire_crc32c(const guint8 *data, gsize len)
{
    g_return_val_if_fail(data != NULL || len == 0, 0);
    return crc32c_update(0xffffffffu, data, len) ^ 0xffffffffu;
}

/* Bytes of an address of the packet's family (4 or 16). */
static gsize
wire_addr_len(const SimPacket *p)
{
    return p->src.addr.family == SIM_AF_INET ? 4 : 16;
}

/* Bytes of transport payload p carries on the wire: ICMP errors carry a quote, not payload. */
static guint32
wire_payload(const SimPacket *p)
{
    return (p->proto == SIM_PROTO_ICMP || p->proto == SIM_PROTO_ICMPV6) ? 0 : p->payload;
}

/* The one's complement sum of the TCP/UDP pseudo-header (RFC 793 for IPv4, RFC 8200 section 8.1
 * for IPv6). Both forms add up to the same words: the two addresses, the protocol and the
 * transport length (whose upper half is zero for IPv4). */
static guint64
pseudo_header_sum(const SimPacket *p, guint32 l4len)
{
    gsize alen = wire_addr_len(p);
    guint64 sum = csum_add(0, p->src.addr.b, alen);
    sum = csum_add(sum, p->dst.addr.b, alen);
    return sum + p->proto + (l4len >> 16) + (l4len & 0xffff);
}

/* ---------------------------------------------------------------- serialising */

/* Where the parts of a datagram go. */
typedef struct {
    gsize ip_hlen; /* 20 or 40 */
    gsize l4_hlen; /* transport header bytes before the payload (SCTP: common + chunk header) */
    gsize pad;     /* zero bytes after the payload (SCTP chunk padding) */
    gsize total;   /* the whole datagram */
} WireLayout;

/* Transport header length for p (SYN options and SCTP chunk headers included), or 0 when p's
 * protocol has no wire form here. */
static gsize
wire_l4_hlen(const SimPacket *p)
{
    switch ((SimProto)p->proto) {
    case SIM_PROTO_TCP:
        return TCP_HLEN + ((p->tcp_flags & SIM_TCP_SYN) != 0 ? TCP_SYN_OPTLEN : 0);
    case SIM_PROTO_UDP:
        return UDP_HLEN;
    case SIM_PROTO_SCTP:
        return SCTP_HLEN + (p->payload == 0 ? SCTP_INIT_LEN : SCTP_DATA_HLEN);
    case SIM_PROTO_ICMP:
    case SIM_PROTO_ICMPV6: {
        /* Only error messages (the types the parser accepts), which quote a datagram of their
         * own family. */
        guint8 fam = p->proto == SIM_PROTO_ICMP ? SIM_AF_INET : SIM_AF_INET6;
        guint8 t = p->icmp_type;
        gboolean error_type = fam == SIM_AF_INET6 ? t < 128
                                                  : (t == 3 || t == 4 || t == 5 || t == 11 ||
                                                     t == 12);
        if (!error_type || p->src.addr.family != fam || p->quote.src.addr.family != fam ||
            p->quote.dst.addr.family != fam)
            return 0;
        return ICMP_HLEN + (fam == SIM_AF_INET ? IPV4_HLEN : IPV6_HLEN) + ICMP_QUOTE_L4;
    }
    }
    return 0;
}

/* Computes the layout of p's datagram. Fails with UNSUPPORTED or TOO_BIG. */
static gboolean
wire_layout(const SimPacket *p, WireLayout *l, GError **error)
{
    guint8 fam = p->src.addr.family;
    if ((fam != SIM_AF_INET && fam != SIM_AF_INET6) || p->dst.addr.family != fam) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED,
                    "packet addresses are not both IPv4 or both IPv6");
        return FALSE;
    }
    *l = (WireLayout){.ip_hlen = fam == SIM_AF_INET ? IPV4_HLEN : IPV6_HLEN};
    l->l4_hlen = wire_l4_hlen(p);
    if (l->l4_hlen == 0) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED,
                    "no wire form for protocol %s", sim_proto_name((SimProto)p->proto));
        return FALSE;
    }
    if (p->proto == SIM_PROTO_SCTP)
        l->pad = (4 - p->payload % 4) % 4;
    guint64 l4 = (guint64)l->l4_hlen + wire_payload(p) + l->pad;
    guint64 limit = fam == SIM_AF_INET ? G_MAXUINT16 - IPV4_HLEN : G_MAXUINT16;
    if (l4 > limit) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_TOO_BIG,
                    "a %" G_GUINT32_FORMAT "-byte payload does not fit one %s datagram",
                    p->payload, fam == SIM_AF_INET ? "IPv4" : "IPv6");
        return FALSE;
    }
    l->total = l->ip_hlen + (gsize)l4;
    return TRUE;
}

gsize
sim_wire_length(const SimPacket *p)
{
    g_return_val_if_fail(p != NULL, 0);
    WireLayout l;
    return wire_layout(p, &l, NULL) ? l.total : 0;
}

/* Writes the IPv4 or IPv6 header (l->ip_hlen bytes at b), the IPv4 header checksum included. */
static void
write_ip_header(guint8 *b, const SimPacket *p, const SimWireParams *params, const WireLayout *l)
{
    guint8 ttl = params->ttl != 0 ? params->ttl : SIM_WIRE_DEFAULT_TTL;
    if (p->src.addr.family == SIM_AF_INET6) {
        sim_put_be32(b, 0x60000000u); /* version 6, traffic class 0, flow label 0 */
        sim_put_be16(b + 4, (guint16)(l->total - IPV6_HLEN));
        b[6] = p->proto;
        b[7] = ttl;
        memcpy(b + 8, p->src.addr.b, 16);
        memcpy(b + 24, p->dst.addr.b, 16);
        return;
    }
    guint16 frag = p->proto == SIM_PROTO_TCP ? IPV4_DF : 0;
    b[0] = 0x45; /* version 4, 5 words of header */
    b[1] = 0;    /* DSCP 0, ECN not-ECT */
    sim_put_be16(b + 2, (guint16)l->total);
    sim_put_be16(b + 4, params->ip_id);
    sim_put_be16(b + 6, frag);
    b[8] = ttl;
    b[9] = p->proto;
    memcpy(b + 12, p->src.addr.b, 4);
    memcpy(b + 16, p->dst.addr.b, 4);
    /* The header checksum: the words above added as values, then the two addresses. */
    guint64 sum =
        0x4500u + (guint16)l->total + params->ip_id + frag + ((guint32)ttl << 8 | p->proto);
    sim_put_be16(b + 10, (guint16)~csum_fold(csum_add(sum, b + 12, 8)));
}

/* Writes a TCP header (l->l4_hlen bytes at b, checksum zero) with the SYN options when SYN is
 * set. */
static void
write_tcp_header(guint8 *b, const SimPacket *p, const WireLayout *l)
{
    gboolean ack = (p->tcp_flags & SIM_TCP_ACK) != 0;
    sim_put_be16(b, p->src.port);
    sim_put_be16(b + 2, p->dst.port);
    sim_put_be32(b + 4, p->seq);
    sim_put_be32(b + 8, ack ? p->ack : 0);
    b[12] = (guint8)((l->l4_hlen / 4) << 4);
    b[13] = p->tcp_flags;
    sim_put_be16(b + 14, SIM_WIRE_TCP_WINDOW);
    sim_put_be16(b + 16, 0); /* checksum */
    sim_put_be16(b + 18, 0); /* urgent pointer */
    if ((p->tcp_flags & SIM_TCP_SYN) == 0)
        return;
    static const guint8 options[TCP_SYN_OPTLEN] = {
        2, 4, 0, 0,         /* MSS, its value below */
        1, 1, 4, 2,         /* NOP, NOP, SACK-permitted */
        1, 3, 3, TCP_WSCALE /* NOP, window scale */
    };
    memcpy(b + TCP_HLEN, options, sizeof options);
    sim_put_be16(b + TCP_HLEN + 2, p->src.addr.family == SIM_AF_INET ? 1460 : 1440);
}

/* Writes a UDP header (checksum zero). */
static void
write_udp_header(guint8 *b, const SimPacket *p, const WireLayout *l)
{
    sim_put_be16(b, p->src.port);
    sim_put_be16(b + 2, p->dst.port);
    sim_put_be16(b + 4, (guint16)(l->total - l->ip_hlen));
    sim_put_be16(b + 6, 0); /* checksum */
}

/* Writes an SCTP common header (checksum zero) and the INIT or DATA chunk header. */
static void
write_sctp_header(WireOut *w, const SimPacket *p)
{
    gboolean init = p->payload == 0;
    out_be16(w, p->src.port);
    out_be16(w, p->dst.port);
    out_be32(w, init ? 0 : p->ack); /* an INIT always carries verification tag 0 */
    out_be32(w, 0);                 /* CRC-32C, filled in later */
    if (init) {
        out_u8(w, SCTP_CHUNK_INIT);
        out_u8(w, 0);
        out_be16(w, SCTP_INIT_LEN);
        out_be32(w, p->ack); /* initiate tag */
        out_be32(w, SCTP_INIT_A_RWND);
        out_be16(w, SCTP_INIT_OUT_STREAMS);
        out_be16(w, SCTP_INIT_IN_STREAMS);
        out_be32(w, p->seq); /* initial TSN */
        return;
    }
    out_u8(w, SCTP_CHUNK_DATA);
    out_u8(w, 0x03); /* B and E: an unfragmented message */
    out_be16(w, (guint16)(SCTP_DATA_HLEN + p->payload));
    out_be32(w, p->seq); /* TSN */
    out_be16(w, 0);      /* stream identifier */
    out_be16(w, 0);      /* stream sequence number */
    out_be32(w, 0);      /* payload protocol identifier: unspecified */
}

/* Writes the IP header of an ICMP error's quoted datagram (the IPv4 header checksum included)
 * and its first 8 transport bytes: ports and sequence number (TCP), ports, length and checksum
 * (UDP, computed as if the payload was all zeros, which is what the simulator sends), ports and
 * a zero verification tag (SCTP). */
static void
write_icmp_quote(WireOut *w, const SimPacket *p)
{
    const SimPacketQuote *q = &p->quote;
    SimPacket inner = {.src = q->src, .dst = q->dst, .proto = q->proto};
    gsize ip_hlen = p->src.addr.family == SIM_AF_INET ? IPV4_HLEN : IPV6_HLEN;
    guint16 length = MAX(q->length, (guint16)(ip_hlen + ICMP_QUOTE_L4));
    WireLayout l = {.ip_hlen = ip_hlen, .total = length};
    SimWireParams params = {.ip_id = q->ip_id, .ttl = q->ttl};
    guint8 *ip = out_take(w, ip_hlen);
    if (ip != NULL)
        write_ip_header(ip, &inner, &params, &l);
    gsize start = w->pos;
    out_be16(w, q->src.port);
    out_be16(w, q->dst.port);
    if (q->proto == SIM_PROTO_TCP) {
        out_be32(w, q->seq);
    } else if (q->proto == SIM_PROTO_UDP) {
        guint16 ulen = (guint16)(length - ip_hlen);
        out_be16(w, ulen);
        out_be16(w, 0);
        if (!w->overrun) {
            guint64 sum = csum_add(pseudo_header_sum(&inner, ulen), w->buf + start, UDP_HLEN);
            guint16 csum = (guint16)~csum_fold(sum);
            wire_set_be16(w->buf, w->cap, start + 6, csum != 0 ? csum : 0xffff);
        }
    } else {
        out_be32(w, 0);
    }
}

/* Writes an ICMP or ICMPv6 error message (checksum zero): type, code, 4 unused bytes and the
 * quote. */
static void
write_icmp_header(WireOut *w, const SimPacket *p)
{
    out_u8(w, p->icmp_type);
    out_u8(w, p->icmp_code);
    out_be16(w, 0); /* checksum */
    out_be32(w, 0); /* unused (or the next-hop MTU, which is never sent) */
    write_icmp_quote(w, p);
}

/* Fills in the transport checksum of the datagram in buf. When the payload is all zeros it adds
 * nothing to an Internet checksum, so only the (even-length) header is summed. */
static void
write_l4_checksum(guint8 *buf, const WireLayout *l, const SimPacket *p, gboolean have_payload)
{
    guint8 *seg = buf + l->ip_hlen;
    gsize seg_len = l->total - l->ip_hlen;
    if (p->proto == SIM_PROTO_SCTP) {
        wire_set_le32(seg, seg_len, 8, sim_wire_crc32c(seg, seg_len));
        return;
    }
    if (p->proto == SIM_PROTO_ICMP || p->proto == SIM_PROTO_ICMPV6) {
        /* ICMP sums the message alone, ICMPv6 adds the pseudo-header (RFC 4443 2.3). */
        guint64 isum = p->proto == SIM_PROTO_ICMPV6 ? pseudo_header_sum(p, (guint32)seg_len) : 0;
        wire_set_be16(seg, seg_len, 2, (guint16)~csum_fold(csum_add(isum, seg, seg_len)));
        return;
    }
    gsize summed = have_payload ? seg_len : l->l4_hlen;
    guint64 sum = csum_add(pseudo_header_sum(p, (guint32)seg_len), seg, summed);
    guint16 csum = (guint16)~csum_fold(sum);
    if (p->proto == SIM_PROTO_UDP) {
        wire_set_be16(seg, seg_len, 6, csum != 0 ? csum : 0xffff); /* 0 means "none" */
        return;
    }
    wire_set_be16(seg, seg_len, 16, csum);
}

gsize
sim_wire_write(const SimPacket *p, const SimWireParams *params, guint8 *buf, gsize cap,
               GError **error)
{
    g_return_val_if_fail(p != NULL, 0);
    g_return_val_if_fail(buf != NULL || cap == 0, 0);
    static const SimWireParams defaults = {0};
    if (params == NULL)
        params = &defaults;
    WireLayout l;
    if (!wire_layout(p, &l, error))
        return 0;
    if (cap < l.total) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_NO_SPACE,
                    "a %" G_GSIZE_FORMAT "-byte datagram does not fit a %" G_GSIZE_FORMAT
                    "-byte buffer", l.total, cap);
        return 0;
    }
    write_ip_header(buf, p, params, &l);
    guint8 *seg = buf + l.ip_hlen;
    if (p->proto == SIM_PROTO_TCP) {
        write_tcp_header(seg, p, &l);
    } else if (p->proto == SIM_PROTO_UDP) {
        write_udp_header(seg, p, &l);
    } else {
        WireOut w = {.buf = seg, .cap = l.l4_hlen};
        if (p->proto == SIM_PROTO_SCTP)
            write_sctp_header(&w, p);
        else
            write_icmp_header(&w, p);
        g_assert(!w.overrun && w.pos == l.l4_hlen);
    }
    guint8 *payload = seg + l.l4_hlen;
    gsize n = wire_payload(p);
    if (params->payload != NULL)
        memcpy(payload, params->payload, n);
    else
        memset(payload, 0, n);
    if (l.pad != 0)
        memset(payload + n, 0, l.pad);
    write_l4_checksum(buf, &l, p, params->payload != NULL);
    return l.total;
}

GBytes *
sim_wire_encode(const SimPacket *p, const SimWireParams *params, GError **error)
{
    g_return_val_if_fail(p != NULL, NULL);
    WireLayout l;
    if (!wire_layout(p, &l, error))
        return NULL;
    guint8 *buf = g_malloc(l.total);
    gsize n = sim_wire_write(p, params, buf, l.total, error);
    g_assert(n == l.total);
    return g_bytes_new_take(buf, n);
}

/* ---------------------------------------------------------------- parsing */

/* Parses a 20-byte IPv4 header without options into p and info and returns the transport
 * segment as *seg (its length from the header's total length). */
static gboolean
parse_ipv4(WireIn *r, SimPacket *p, SimWireInfo *info, WireIn *seg, GError **error)
{
    const guint8 *hdr = r->buf + r->pos;
    WireIn h = in_sub(r, IPV4_HLEN);
    guint8 vihl = in_u8(&h);
    in_u8(&h); /* DSCP/ECN */
    guint16 total = in_be16(&h);
    info->ip_id = in_be16(&h);
    guint16 frag = in_be16(&h);
    info->ttl = in_u8(&h);
    p->proto = in_u8(&h);
    in_be16(&h); /* checksum, verified over the whole header below */
    p->src.addr.family = p->dst.addr.family = SIM_AF_INET;
    const guint8 *src = in_take(&h, 4);
    const guint8 *dst = in_take(&h, 4);
    if (h.short_read || total > r->len) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_TRUNCATED, "IPv4 datagram truncated");
        return FALSE;
    }
    memcpy(p->src.addr.b, src, 4);
    memcpy(p->dst.addr.b, dst, 4);
    if (vihl != 0x45 || total < IPV4_HLEN || (frag & IPV4_FRAG_MASK) != 0) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED,
                    "IPv4 options and fragments are not supported");
        return FALSE;
    }
    if (sim_wire_inet_checksum(hdr, IPV4_HLEN) != 0) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_CHECKSUM, "bad IPv4 header checksum");
        return FALSE;
    }
    info->dont_fragment = (frag & IPV4_DF) != 0;
    *seg = in_sub(r, total - IPV4_HLEN);
    return TRUE;
}

/* Parses a 40-byte IPv6 header into p and info and returns the payload as *seg. */
static gboolean
parse_ipv6(WireIn *r, SimPacket *p, SimWireInfo *info, WireIn *seg, GError **error)
{
    WireIn h = in_sub(r, IPV6_HLEN);
    in_be32(&h); /* version, traffic class, flow label */
    guint16 plen = in_be16(&h);
    p->proto = in_u8(&h);
    info->ttl = in_u8(&h);
    p->src.addr.family = p->dst.addr.family = SIM_AF_INET6;
    const guint8 *src = in_take(&h, 16);
    const guint8 *dst = in_take(&h, 16);
    if (h.short_read || plen > r->len - r->pos) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_TRUNCATED, "IPv6 datagram truncated");
        return FALSE;
    }
    memcpy(p->src.addr.b, src, 16);
    memcpy(p->dst.addr.b, dst, 16);
    *seg = in_sub(r, plen);
    return TRUE;
}

/* Reads the TCP options in o, remembering the MSS. */
static gboolean
parse_tcp_options(WireIn *o, SimWireInfo *info, GError **error)
{
    while (o->pos < o->len) {
        guint8 kind = in_u8(o);
        if (kind == 0) /* end of option list */
            break;
        if (kind == 1) /* NOP */
            continue;
        guint8 olen = in_u8(o);
        WireIn val = in_sub(o, olen >= 2 ? olen - 2u : 0);
        if (o->short_read || olen < 2) {
            g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_MALFORMED, "bad TCP option length");
            return FALSE;
        }
        if (kind == 2 && olen == 4)
            info->tcp_mss = in_be16(&val);
    }
    return TRUE;
}

/* Verifies a TCP or UDP checksum: the pseudo-header plus the segment (checksum included) must
 * sum to 0xffff. */
static gboolean
l4_checksum_ok(const SimPacket *p, const WireIn *seg)
{
    guint64 sum = csum_add(pseudo_header_sum(p, (guint32)seg->len), seg->buf, seg->len);
    return csum_fold(sum) == 0xffff;
}

/* Parses a TCP segment. */
static gboolean
parse_tcp(WireIn *seg, SimPacket *p, SimWireInfo *info, GError **error)
{
    p->src.port = in_be16(seg);
    p->dst.port = in_be16(seg);
    p->seq = in_be32(seg);
    p->ack = in_be32(seg);
    gsize doff = (in_u8(seg) >> 4) * 4u;
    p->tcp_flags = in_u8(seg);
    info->tcp_window = in_be16(seg);
    if (seg->short_read || doff < TCP_HLEN || doff > seg->len) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_MALFORMED, "bad TCP header length");
        return FALSE;
    }
    if (!l4_checksum_ok(p, seg)) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_CHECKSUM, "bad TCP checksum");
        return FALSE;
    }
    in_take(seg, 4); /* checksum (verified above) and urgent pointer */
    WireIn opts = in_sub(seg, doff - TCP_HLEN);
    if (!parse_tcp_options(&opts, info, error))
        return FALSE;
    p->payload = (guint32)(seg->len - doff);
    info->payload_offset = doff;
    return TRUE;
}

/* Parses a UDP datagram; a zero checksum means "none" over IPv4 and is invalid over IPv6. */
static gboolean
parse_udp(WireIn *seg, SimPacket *p, SimWireInfo *info, GError **error)
{
    p->src.port = in_be16(seg);
    p->dst.port = in_be16(seg);
    guint16 ulen = in_be16(seg);
    guint16 csum = in_be16(seg);
    if (seg->short_read || ulen != seg->len) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_MALFORMED, "bad UDP length");
        return FALSE;
    }
    gboolean none = csum == 0 && p->src.addr.family == SIM_AF_INET;
    if (!none && (csum == 0 || !l4_checksum_ok(p, seg))) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_CHECKSUM, "bad UDP checksum");
        return FALSE;
    }
    p->payload = (guint32)(seg->len - UDP_HLEN);
    info->payload_offset = UDP_HLEN;
    return TRUE;
}

/* Verifies an SCTP packet's CRC-32C, computed with its checksum field taken as zero. */
static gboolean
sctp_checksum_ok(const WireIn *seg, guint32 stored)
{
    static const guint8 zeros[4] = {0};
    guint32 crc = crc32c_update(0xffffffffu, seg->buf, 8);
    crc = crc32c_update(crc, zeros, sizeof zeros);
    crc = crc32c_update(crc, seg->buf + SCTP_HLEN, seg->len - SCTP_HLEN);
    return (crc ^ 0xffffffffu) == stored;
}

/* Parses the single INIT or DATA chunk c (its value, after the 4-byte chunk header) of an SCTP
 * packet with verification tag vtag. */
static gboolean
parse_sctp_chunk(WireIn *c, guint8 type, guint32 vtag, SimPacket *p, SimWireInfo *info,
                 GError **error)
{
    if (type == SCTP_CHUNK_INIT && vtag != 0) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_MALFORMED,
                    "SCTP INIT with a nonzero verification tag");
        return FALSE;
    }
    if (type == SCTP_CHUNK_INIT && c->len + 4 >= SCTP_INIT_LEN) {
        p->ack = in_be32(c); /* initiate tag */
        in_be32(c);          /* a_rwnd */
        in_be32(c);          /* stream counts */
        p->seq = in_be32(c); /* initial TSN */
        p->payload = 0;
        info->payload_offset = SCTP_HLEN + 4 + c->len;
        return TRUE;
    }
    if (type == SCTP_CHUNK_DATA && c->len + 4 > SCTP_DATA_HLEN) {
        p->seq = in_be32(c); /* TSN */
        p->ack = vtag;
        p->payload = (guint32)(c->len + 4 - SCTP_DATA_HLEN);
        info->payload_offset = SCTP_HLEN + SCTP_DATA_HLEN;
        return TRUE;
    }
    g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED,
                "SCTP chunk type %u of %" G_GSIZE_FORMAT " bytes is not a lone INIT or DATA",
                type, c->len);
    return FALSE;
}

/* Parses an SCTP packet made of one chunk (plus its padding). */
static gboolean
parse_sctp(WireIn *seg, SimPacket *p, SimWireInfo *info, GError **error)
{
    p->src.port = in_be16(seg);
    p->dst.port = in_be16(seg);
    guint32 vtag = in_be32(seg);
    guint32 crc = in_le32(seg);
    guint8 type = in_u8(seg);
    in_u8(seg); /* chunk flags */
    guint16 clen = in_be16(seg);
    gsize padded = ((gsize)clen + 3) & ~(gsize)3;
    if (seg->short_read || clen < 4 || SCTP_HLEN + padded != seg->len) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_MALFORMED,
                    "SCTP packet is not exactly one chunk");
        return FALSE;
    }
    if (!sctp_checksum_ok(seg, crc)) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_CHECKSUM, "bad SCTP checksum");
        return FALSE;
    }
    WireIn chunk = in_sub(seg, clen - 4u);
    return parse_sctp_chunk(&chunk, type, vtag, p, info, error);
}

/* Parses the quoted datagram of an ICMP error (IP header, 8 transport bytes) into p->quote. The
 * quoted IPv4 header's checksum must be right. */
static gboolean
parse_icmp_quote(WireIn *seg, SimPacket *p, GError **error)
{
    SimPacketQuote *q = &p->quote;
    gboolean v4 = p->src.addr.family == SIM_AF_INET;
    const guint8 *hdr = seg->buf + seg->pos;
    WireIn h = in_sub(seg, v4 ? IPV4_HLEN : IPV6_HLEN);
    guint8 vihl = in_u8(&h);
    if (v4) {
        in_u8(&h);
        q->length = in_be16(&h);
        q->ip_id = in_be16(&h);
        in_be16(&h);
        q->ttl = in_u8(&h);
        q->proto = in_u8(&h);
        in_be16(&h);
    } else {
        in_take(&h, 3);
        q->length = (guint16)(in_be16(&h) + IPV6_HLEN);
        q->proto = in_u8(&h);
        q->ttl = in_u8(&h);
    }
    gsize alen = v4 ? 4 : 16;
    const guint8 *src = in_take(&h, alen);
    const guint8 *dst = in_take(&h, alen);
    WireIn l4 = in_sub(seg, ICMP_QUOTE_L4);
    if (h.short_read || l4.short_read || (vihl >> 4) != (v4 ? 4 : 6) || (v4 && vihl != 0x45)) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_MALFORMED, "bad ICMP quoted datagram");
        return FALSE;
    }
    if (v4 && sim_wire_inet_checksum(hdr, IPV4_HLEN) != 0) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_CHECKSUM,
                    "bad IPv4 header checksum in an ICMP quote");
        return FALSE;
    }
    q->src.addr.family = q->dst.addr.family = p->src.addr.family;
    memcpy(q->src.addr.b, src, alen);
    memcpy(q->dst.addr.b, dst, alen);
    q->src.port = in_be16(&l4);
    q->dst.port = in_be16(&l4);
    q->seq = q->proto == SIM_PROTO_TCP ? in_be32(&l4) : 0;
    return TRUE;
}

/* Parses an ICMP or ICMPv6 error message: destination unreachable, time exceeded and the other
 * error types that quote the offending datagram. Informational messages (echo) are refused. */
static gboolean
parse_icmp(WireIn *seg, SimPacket *p, SimWireInfo *info, GError **error)
{
    gboolean v6 = p->proto == SIM_PROTO_ICMPV6;
    if (v6 != (p->src.addr.family == SIM_AF_INET6)) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_MALFORMED,
                    "ICMP in the wrong IP version");
        return FALSE;
    }
    guint64 sum = v6 ? pseudo_header_sum(p, (guint32)seg->len) : 0;
    if (seg->len >= ICMP_HLEN && csum_fold(csum_add(sum, seg->buf, seg->len)) != 0xffff) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_CHECKSUM, "bad ICMP checksum");
        return FALSE;
    }
    p->icmp_type = in_u8(seg);
    p->icmp_code = in_u8(seg);
    in_take(seg, 6); /* checksum (verified above) and the unused word */
    if (seg->short_read) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_TRUNCATED, "ICMP header truncated");
        return FALSE;
    }
    gboolean error_type = v6 ? p->icmp_type < 128
                             : (p->icmp_type == 3 || p->icmp_type == 4 || p->icmp_type == 5 ||
                                p->icmp_type == 11 || p->icmp_type == 12);
    if (!error_type) {
        g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED,
                    "ICMP type %u is not an error message", p->icmp_type);
        return FALSE;
    }
    if (!parse_icmp_quote(seg, p, error))
        return FALSE;
    p->payload = 0;
    info->payload_offset = seg->len;
    return TRUE;
}

/* Parses the transport segment seg of protocol p->proto. */
static gboolean
parse_transport(WireIn *seg, SimPacket *p, SimWireInfo *info, GError **error)
{
    switch ((SimProto)p->proto) {
    case SIM_PROTO_TCP:
        return parse_tcp(seg, p, info, error);
    case SIM_PROTO_UDP:
        return parse_udp(seg, p, info, error);
    case SIM_PROTO_SCTP:
        return parse_sctp(seg, p, info, error);
    case SIM_PROTO_ICMP:
    case SIM_PROTO_ICMPV6:
        return parse_icmp(seg, p, info, error);
    }
    g_set_error(error, SIM_WIRE_ERROR, SIM_WIRE_ERROR_UNSUPPORTED,
                "no parser for IP protocol %u", p->proto);
    return FALSE;
}

gboolean
sim_wire_parse(const guint8 *buf, gsize len, SimPacket *out, SimWireInfo *info, GError **error)
{
    g_return_val_if_fail(buf != NULL || len == 0, FALSE);
    g_return_val_if_fail(out != NULL, FALSE);
    WireIn r = {.buf = buf, .len = len};
    SimPacket p = {0};
    SimWireInfo in = {0};
    WireIn seg;
    guint version = len > 0 ? buf[0] >> 4 : 0;
    gboolean ok;
    if (version == 4)
        ok = parse_ipv4(&r, &p, &in, &seg, error);
    else if (version == 6)
        ok = parse_ipv6(&r, &p, &in, &seg, error);
    else {
        SimWireError code = len > 0 ? SIM_WIRE_ERROR_MALFORMED : SIM_WIRE_ERROR_TRUNCATED;
        g_set_error(error, SIM_WIRE_ERROR, code, "not an IPv4 or IPv6 datagram");
        return FALSE;
    }
    if (!ok)
        return FALSE;
    if (!parse_transport(&seg, &p, &in, error))
        return FALSE;
    p.length = (guint32)r.pos;
    in.payload_offset += (gsize)(seg.buf - buf);
    *out = p;
    if (info != NULL)
        *info = in;
    return TRUE;
}
