/* SPDX-License-Identifier: Apache-2.0 */
/* The bytes of a simulated packet: SimPacket to IPv4/IPv6 + TCP/UDP/SCTP and back.
 *
 * Models what the Linux stack puts on the wire for a socket's packet (ip_queue_xmit /
 * ip6_xmit, tcp_transmit_skb, udp_send_skb, sctp_packet_transmit) closely enough that tcpdump and
 * Wireshark decode every field and validate every checksum. It is deliberately simple: no IP
 * options or extension headers, DSCP/ECN and the IPv6 flow label are zero, no TCP timestamps,
 * the TCP window is always 64240, SCTP packets carry exactly one chunk, and ICMP is limited to
 * error messages (destination unreachable and its kind).
 *
 * Field mapping. The datagram length follows from the protocol, the TCP flags and p->payload;
 * p->length is not read (sim_wire_length() gives the value to keep in it). p->mark has no wire
 * form. IPv4 sets DF on TCP only (the kernel sets it on most UDP and SCTP traffic too, which
 * nothing here depends on). TCP: p->seq and p->ack are the sequence and acknowledgement numbers; the acknowledgement
 * field is written as zero unless SIM_TCP_ACK is set, as the kernel does. SYN and SYN-ACK carry
 * the options Linux sends minus timestamps: MSS (1460 over IPv4, 1440 over IPv6, a 1500-byte
 * MTU), NOP, NOP, SACK-permitted, NOP, window scale 7. The window field is always 64240; scaled
 * by 2^7 after the handshake that is about 8 MB, the size an autotuned Linux receiver grows to,
 * so simulated bulk transfers never look window-limited. SCTP (a simplification): a packet
 * without payload is an INIT chunk without parameters (verification tag 0, initiate tag =
 * p->ack, initial TSN = p->seq, 10 outbound and 65535 inbound streams, a_rwnd 106496); a packet
 * with payload is one unfragmented DATA chunk (verification tag = p->ack, TSN = p->seq, stream
 * 0, stream sequence 0, PPID 0) padded to four bytes. INIT-ACK, COOKIE-ECHO/ACK, SACK,
 * SHUTDOWN, ABORT and multi-chunk bundles are not modelled; the caller that wants a
 * plausible association passes, as p->ack of its DATA, the initiate tag its peer announced.
 * ICMP (over IPv4) and ICMPv6 (over IPv6): an error message - type p->icmp_type, code
 * p->icmp_code, four zero bytes (no next-hop MTU) - quoting the offending datagram described by
 * p->quote: its IP header (total length quote.length, identification quote.ip_id, TTL
 * quote.ttl, DF for TCP) and its first 8 transport bytes (TCP: ports and quote.seq; UDP: ports,
 * length and the checksum of an all-zero payload; SCTP: ports and a zero tag). p->payload is
 * ignored. ICMPv6's checksum covers the pseudo-header, ICMP's does not. A packet of either
 * protocol whose quote is not of its own family has no wire form. The parser accepts the error
 * types (ICMP 3, 4, 5, 11, 12; ICMPv6 below 128) and fills p->quote from the quoted bytes
 * (quote.seq only for TCP); informational messages such as echo are refused.
 *
 * All byte access goes through the bounds-checked big-endian helpers in sim_wire.c; no struct is
 * ever cast onto a buffer.
 */
#ifndef KPSIM_SIM_WIRE_H
#define KPSIM_SIM_WIRE_H

#include "sim/sim_packet.h"

#define SIM_WIRE_ERROR (sim_wire_error_quark())
GQuark sim_wire_error_quark(void);

typedef enum {
    SIM_WIRE_ERROR_UNSUPPORTED, /* a protocol or address family without a wire form here */
    SIM_WIRE_ERROR_TOO_BIG,     /* the datagram would not fit its 16-bit length field */
    SIM_WIRE_ERROR_NO_SPACE,    /* the caller's buffer is too small */
    SIM_WIRE_ERROR_TRUNCATED,   /* parsing: fewer bytes than the headers announce */
    SIM_WIRE_ERROR_MALFORMED,   /* parsing: a field holds an impossible value */
    SIM_WIRE_ERROR_CHECKSUM,    /* parsing: an IPv4, TCP, UDP or SCTP checksum is wrong */
} SimWireError;

#define SIM_WIRE_DEFAULT_TTL 64   /* net.ipv4.ip_default_ttl, net.ipv6.conf.*.hop_limit */
#define SIM_WIRE_TCP_WINDOW 64240 /* what Linux advertises in a SYN on a 1500-byte MTU */
#define SIM_WIRE_MAX_HEADERS 72   /* largest IP + transport (+ SCTP chunk) header written */

/* How to write one datagram, beyond what the SimPacket says. Zero-initialise, then set. */
typedef struct {
    /* IPv4 identification. The caller keeps the counter (one per sending host is enough) and
     * passes the SAME value when it re-serialises a packet it forwards or NATs, as routers do
     * not rewrite it. Ignored for IPv6. */
    guint16 ip_id;
    /* TTL or hop limit; 0 means SIM_WIRE_DEFAULT_TTL. Forwarders pass the decremented value. */
    guint8 ttl;
    /* (nullable) (transfer none) p->payload bytes of transport payload; NULL writes zeros. */
    const guint8 *payload;
} SimWireParams;

/* What the parser found besides the SimPacket fields. */
typedef struct {
    guint16 ip_id;          /* IPv4 identification (0 for IPv6) */
    guint8 ttl;             /* TTL or hop limit */
    gboolean dont_fragment; /* IPv4 DF bit (FALSE for IPv6) */
    guint16 tcp_window;     /* TCP window field (0 for other protocols) */
    guint16 tcp_mss;        /* MSS option of a SYN, 0 when absent */
    gsize payload_offset;   /* where the transport payload starts in the buffer */
} SimWireInfo;

/* Bytes of the IP datagram sim_wire_write() produces for p, or 0 when p's family or protocol
 * has no wire form or the datagram exceeds 65535 bytes of (IPv4) total / (IPv6) payload length.
 * Cost: constant. */
gsize sim_wire_length(const SimPacket *p);

/* Serialises p into buf[0..cap) as described at the top of this file and returns the number of
 * bytes written (= sim_wire_length(p)), or 0 with SIM_WIRE_ERROR_UNSUPPORTED, _TOO_BIG or
 * _NO_SPACE (buf is then unspecified). params may be NULL for all defaults. Every checksum is
 * computed. Cost: linear in the payload when params->payload is given, else in the headers plus
 * a memset of the payload. */
gsize sim_wire_write(const SimPacket *p, const SimWireParams *params, guint8 *buf, gsize cap,
                     GError **error);

/* Like sim_wire_write() into a new buffer. Returns (transfer full) the datagram, or NULL with
 * the same errors. */
GBytes *sim_wire_encode(const SimPacket *p, const SimWireParams *params, GError **error);

/* Parses an IPv4 or IPv6 datagram written by this module (or any datagram using only what this
 * module writes: no IP options or extension headers, one SCTP chunk of type INIT or DATA) into
 * *out, inverting the mapping described at the top of this file; out->length is the datagram
 * length, out->mark 0. Verifies every length field and checksum. Bytes past the datagram's
 * announced length (link-layer padding) are ignored. info may be NULL. On failure returns FALSE
 * with a SIM_WIRE_ERROR and leaves *out and *info untouched. */
gboolean sim_wire_parse(const guint8 *buf, gsize len, SimPacket *out, SimWireInfo *info,
                        GError **error);

/* The RFC 1071 Internet checksum of data: the one's complement of the one's complement sum of
 * its big-endian 16-bit words (an odd last byte is padded with zero), i.e. the value to store in
 * a header whose checksum field was zero while summing. A buffer that already contains its
 * correct checksum yields 0. */
guint16 sim_wire_inet_checksum(const guint8 *data, gsize len);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF)
 * of data, as RFC 3309 / RFC 9260 define it for SCTP and RFC 3720 for iSCSI. SCTP stores the
 * result least-significant byte first. */
guint32 sim_wire_crc32c(const guint8 *data, gsize len);

#endif
