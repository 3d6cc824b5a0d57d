/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the wire encoder and parser (sim/sim_wire.h) and the pcap writer
 * (sim/pcap_writer.h).
 *
 * The input describes a packet field by field (family, protocol, addresses, ports, TCP flags,
 * sequence numbers, payload size and bytes, ICMP type and quote). It is encoded; an encoding
 * must be exactly sim_wire_length() bytes and parse back to the same addresses, ports,
 * protocol and payload size, and a refusal must be a SIM_WIRE_ERROR with sim_wire_length() 0.
 * The rest of the input is parsed as a raw datagram too. Then a capture with a fuzzed snap
 * length and epoch gets the encoded datagram and the raw bytes as records at fuzzed times and
 * interfaces; libpcap must read back exactly the records written, each with the original and
 * the kept length the header promises.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/pcap_writer.h"
#include "sim/sim_wire.h"
#include "tests/fuzz/fuzz.h"

/* Aborts with a message. */
G_GNUC_NORETURN static void
fuzz_pcap_fail(const char *what)
{
    fprintf(stderr, "fuzz_pcap: %s\n", what);
    abort();
}

/* ------------------------------------------------------------------ the packet */

/* Reads an address of family (4 or 16 bytes of the input). */
static void
fuzz_pcap_addr(FuzzInput *in, SimFamily family, SimAddr *out)
{
    memset(out, 0, sizeof *out);
    out->family = family;
    for (guint i = 0; i < (family == SIM_AF_INET ? 4u : 16u); i++)
        out->b[i] = fuzz_u8(in);
}

/* Reads a packet; its payload size is at most 70000 bytes (so some are too big). */
static void
fuzz_pcap_packet(FuzzInput *in, SimPacket *p)
{
    static const guint8 protos[] = {SIM_PROTO_TCP, SIM_PROTO_UDP, SIM_PROTO_SCTP,
                                    SIM_PROTO_ICMP, SIM_PROTO_ICMPV6};
    memset(p, 0, sizeof *p);
    guint8 shape = fuzz_u8(in);
    SimFamily fam = shape & 1 ? SIM_AF_INET6 : SIM_AF_INET;
    SimFamily other = shape & 2 ? (fam == SIM_AF_INET ? SIM_AF_INET6 : SIM_AF_INET) : fam;
    p->proto = shape >= 0xf8 ? fuzz_u8(in) : protos[(shape >> 2) % G_N_ELEMENTS(protos)];
    fuzz_pcap_addr(in, fam, &p->src.addr);
    fuzz_pcap_addr(in, shape & 0x80 ? other : fam, &p->dst.addr);
    p->src.port = fuzz_u16(in);
    p->dst.port = fuzz_u16(in);
    p->tcp_flags = fuzz_u8(in);
    p->seq = fuzz_u32(in);
    p->ack = fuzz_u32(in);
    p->payload = fuzz_u32(in) % 70001;
    p->ip_id = fuzz_u16(in);
    p->ttl = fuzz_u8(in);
    p->icmp_type = fuzz_u8(in);
    p->icmp_code = fuzz_u8(in);
    p->quote.proto = protos[fuzz_u8(in) % 3];
    fuzz_pcap_addr(in, shape & 0x40 ? other : fam, &p->quote.src.addr);
    fuzz_pcap_addr(in, shape & 0x40 ? other : fam, &p->quote.dst.addr);
    p->quote.src.port = fuzz_u16(in);
    p->quote.dst.port = fuzz_u16(in);
    p->quote.length = fuzz_u16(in);
    p->quote.ip_id = fuzz_u16(in);
    p->quote.ttl = fuzz_u8(in);
    p->quote.seq = fuzz_u32(in);
}

/* Aborts unless q, parsed from the encoding of p, carries p's addresses, ports, protocol and
 * payload size, and is len bytes long. */
static void
fuzz_pcap_check_roundtrip(const SimPacket *p, const SimPacket *q, gsize len)
{
    if (!sim_addr_equal(&p->src.addr, &q->src.addr) || !sim_addr_equal(&p->dst.addr, &q->dst.addr))
        fuzz_pcap_fail("addresses changed in a round trip");
    if (p->proto != q->proto || q->length != len)
        fuzz_pcap_fail("protocol or length changed in a round trip");
    gboolean ports = p->proto == SIM_PROTO_TCP || p->proto == SIM_PROTO_UDP ||
                     p->proto == SIM_PROTO_SCTP;
    if (ports && (p->src.port != q->src.port || p->dst.port != q->dst.port))
        fuzz_pcap_fail("ports changed in a round trip");
    if (ports && p->payload != q->payload)
        fuzz_pcap_fail("payload size changed in a round trip");
    if (p->proto == SIM_PROTO_TCP && (p->tcp_flags != q->tcp_flags || p->seq != q->seq))
        fuzz_pcap_fail("TCP flags or sequence number changed in a round trip");
}

/* Encodes p (payload bytes from the input when it has enough); returns the datagram or NULL
 * after checking the refusal. (transfer full) */
static GBytes *
fuzz_pcap_encode(FuzzInput *in, const SimPacket *p)
{
    SimWireParams params = {.ip_id = p->ip_id, .ttl = p->ttl};
    if (p->payload <= in->size)
        params.payload = in->data;
    GError *error = NULL;
    GBytes *wire = sim_wire_encode(p, &params, &error);
    gsize expected = sim_wire_length(p);
    if (wire == NULL) {
        if (error == NULL || error->domain != SIM_WIRE_ERROR)
            fuzz_pcap_fail("sim_wire_encode failed without a SIM_WIRE_ERROR");
        if (expected != 0)
            fuzz_pcap_fail("sim_wire_encode refused a packet sim_wire_length() sizes");
        g_error_free(error);
        return NULL;
    }
    if (g_bytes_get_size(wire) != expected)
        fuzz_pcap_fail("sim_wire_encode wrote a different length than sim_wire_length()");
    SimPacket q;
    if (!sim_wire_parse(g_bytes_get_data(wire, NULL), expected, &q, NULL, &error)) {
        fprintf(stderr, "fuzz_pcap: cannot parse what was encoded: %s\n", error->message);
        abort();
    }
    fuzz_pcap_check_roundtrip(p, &q, expected);
    return wire;
}

/* Parses raw bytes as a datagram; a success must re-encode to a datagram of the same size
 * when the input had no padding. */
static void
fuzz_pcap_parse_raw(const guint8 *data, gsize size)
{
    SimPacket q;
    SimWireInfo info;
    GError *error = NULL;
    if (!sim_wire_parse(data, size, &q, &info, &error)) {
        if (error == NULL || error->domain != SIM_WIRE_ERROR)
            fuzz_pcap_fail("sim_wire_parse failed without a SIM_WIRE_ERROR");
        g_error_free(error);
        return;
    }
    if (q.length > size || info.payload_offset > q.length)
        fuzz_pcap_fail("sim_wire_parse returned lengths past the buffer");
}

/* ------------------------------------------------------------------ the capture */

/* One record as written, to compare with what libpcap reads. */
typedef struct {
    guint32 sec, nsec, caplen, len;
} FuzzPcapRecord;

/* Writes ip as a record at a fuzzed time and interface; remembers it in records when written,
 * and checks a refusal is a timestamp error. */
static void
fuzz_pcap_record(FuzzInput *in, SimPcap *pc, gint64 epoch, guint32 snaplen, const guint8 *ip,
                 gsize len, GArray *records)
{
    SimPcapLink link = {.ifindex = fuzz_u32(in), .hatype = fuzz_u16(in), .pkttype = fuzz_u8(in)};
    link.addr_len = fuzz_u8(in) % (SIM_PCAP_SLL2_ADDRLEN + 1);
    for (guint i = 0; i < link.addr_len; i++)
        link.addr[i] = fuzz_u8(in);
    SimTime t = (SimTime)((guint64)fuzz_u32(in) << 32 | fuzz_u32(in));
    GError *error = NULL;
    if (!sim_pcap_write(pc, t, &link, ip, len, &error)) {
        if (error == NULL || !g_error_matches(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_TIMESTAMP))
            fuzz_pcap_fail("sim_pcap_write failed without a timestamp error");
        g_error_free(error);
        return;
    }
    gint64 q = t / SIM_SEC, r = t % SIM_SEC;
    if (r < 0) {
        q--;
        r += SIM_SEC;
    }
    guint32 orig = (guint32)(SIM_PCAP_SLL2_HLEN + len);
    FuzzPcapRecord rec = {(guint32)(epoch + q), (guint32)r, MIN(orig, snaplen), orig};
    g_array_append_val(records, rec);
}

/* Aborts unless libpcap reads exactly records from path. */
static void
fuzz_pcap_read_back(const char *path, guint32 snaplen, const GArray *records)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (p == NULL) {
        fprintf(stderr, "fuzz_pcap: libpcap cannot open the capture: %s\n", errbuf);
        abort();
    }
    if (pcap_datalink(p) != SIM_PCAP_LINKTYPE_LINUX_SLL2 || (guint32)pcap_snapshot(p) != snaplen)
        fuzz_pcap_fail("wrong link type or snap length in the capture");
    struct pcap_pkthdr *h;
    const u_char *bytes;
    guint n = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &bytes)) == 1) {
        if (n >= records->len)
            fuzz_pcap_fail("more records read than written");
        const FuzzPcapRecord *r = &g_array_index(records, FuzzPcapRecord, n++);
        if ((guint32)h->ts.tv_sec != r->sec || (guint32)h->ts.tv_usec != r->nsec ||
            h->caplen != r->caplen || h->len != r->len)
            fuzz_pcap_fail("a record reads back differently");
    }
    if (rc != PCAP_ERROR_BREAK || n != records->len)
        fuzz_pcap_fail("fewer records read than written, or a read error");
    pcap_close(p);
}

/* Writes wire and the raw bytes into a capture and reads it back. */
static void
fuzz_pcap_capture(FuzzInput *in, GBytes *wire, const guint8 *raw, gsize raw_len)
{
    guint32 snaplen = fuzz_u8(in) & 1 ? fuzz_u16(in) : 0;
    gint64 epoch = fuzz_u8(in) & 1 ? fuzz_u32(in) : SIM_PCAP_DEFAULT_EPOCH;
    g_autofree char *path = g_build_filename(fuzz_init(), "fuzz.pcap", NULL);
    GError *error = NULL;
    SimPcap *pc = sim_pcap_open(path, snaplen, &error);
    if (pc == NULL)
        fuzz_pcap_fail(error->message);
    sim_pcap_set_epoch(pc, epoch);
    g_autoptr(GArray) records = g_array_new(FALSE, FALSE, sizeof(FuzzPcapRecord));
    if (wire != NULL)
        fuzz_pcap_record(in, pc, epoch, snaplen ? snaplen : SIM_PCAP_DEFAULT_SNAPLEN,
                         g_bytes_get_data(wire, NULL), g_bytes_get_size(wire), records);
    g_autofree guint8 *copy = NULL;
    if (raw_len > 0 && raw_len <= G_MAXUINT16 + 40u) {
        copy = g_memdup2(raw, raw_len);
        copy[0] = (guint8)((copy[0] & 0x0f) | (copy[0] & 0x10 ? 0x60 : 0x40));
        fuzz_pcap_record(in, pc, epoch, snaplen ? snaplen : SIM_PCAP_DEFAULT_SNAPLEN, copy,
                         raw_len, records);
    }
    if (!sim_pcap_close(pc, &error))
        fuzz_pcap_fail(error->message);
    fuzz_pcap_read_back(path, snaplen ? snaplen : SIM_PCAP_DEFAULT_SNAPLEN, records);
}

/* See fuzz.h. Layout: the packet's fields, then the capture's parameters, then the payload
 * and raw datagram bytes (the rest). */
int
fuzz_pcap_one(const guint8 *data, gsize size)
{
    fuzz_init();
    FuzzInput in = {data, size};
    SimPacket p;
    fuzz_pcap_packet(&in, &p);
    guint8 params[64];
    for (guint i = 0; i < sizeof params; i++)
        params[i] = fuzz_u8(&in);
    g_autoptr(GBytes) wire = fuzz_pcap_encode(&in, &p);
    fuzz_pcap_parse_raw(in.data, in.size);
    FuzzInput capture = {params, sizeof params};
    fuzz_pcap_capture(&capture, wire, in.data, in.size);
    return 0;
}

#ifdef KPSIM_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_pcap_one(data, size);
}
#endif
