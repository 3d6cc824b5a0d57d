/* SPDX-License-Identifier: Apache-2.0 */
/* Capture files: what `tcpdump -i any` would write on a node, as a nanosecond pcap.
 *
 * Models the Linux "any" capture device: every record carries a Linux cooked capture v2 header
 * (LINKTYPE_LINUX_SLL2, 276) with the interface index, the ARPHRD type, the packet type (the
 * direction as AF_PACKET reports it: PACKET_HOST for received, PACKET_OUTGOING for sent) and a
 * link-layer address, followed by the IP datagram (see sim_wire.h). A packet that crosses two
 * interfaces is written twice, once per interface, so NAT is visible. Timestamps come only from
 * the simulated clock, offset by a fixed epoch; the wall clock is never read. The pcap headers
 * are always little-endian (the magic reads 4d 3c b2 a1 on disk) whatever the host's byte
 * order, so equal runs give byte-identical files on every machine. SLL2 carries no interface
 * names, and none are written; pcapng with interface description blocks is not provided.
 *
 * A capture is written to "PATH.tmp" and only renamed to PATH by a successful sim_pcap_close(),
 * so a failed or interrupted run never leaves a half-written PATH. Writes are buffered (64 KiB,
 * one fwrite() per full buffer).
 */
#ifndef KPSIM_SIM_PCAP_WRITER_H
#define KPSIM_SIM_PCAP_WRITER_H

#include "sim/sim_time.h"

#define SIM_PCAP_ERROR (sim_pcap_error_quark())
GQuark sim_pcap_error_quark(void);

typedef enum {
    SIM_PCAP_ERROR_IO,        /* the file could not be created, written, flushed or renamed */
    SIM_PCAP_ERROR_TIMESTAMP, /* a time before the epoch or past 2106 (32-bit seconds) */
} SimPcapError;

#define SIM_PCAP_LINKTYPE_LINUX_SLL2 276
#define SIM_PCAP_MAGIC_NSEC 0xa1b23c4du
#define SIM_PCAP_DEFAULT_SNAPLEN 262144 /* tcpdump's default */
#define SIM_PCAP_SLL2_HLEN 20
#define SIM_PCAP_SLL2_ADDRLEN 8
/* 2026-01-01T00:00:00Z as seconds since the Unix epoch: the default time of simulated time 0. */
#define SIM_PCAP_DEFAULT_EPOCH G_GINT64_CONSTANT(1767225600)

/* sll2_pkttype: the direction of a packet as AF_PACKET sockets (linux/if_packet.h) report it. */
typedef enum {
    SIM_PCAP_HOST = 0,      /* PACKET_HOST: received, addressed to this host */
    SIM_PCAP_BROADCAST = 1, /* PACKET_BROADCAST */
    SIM_PCAP_MULTICAST = 2, /* PACKET_MULTICAST */
    SIM_PCAP_OTHERHOST = 3, /* PACKET_OTHERHOST: received, addressed to another host */
    SIM_PCAP_OUTGOING = 4,  /* PACKET_OUTGOING: sent by this host (locally or forwarded) */
} SimPcapPacketType;

/* sll2_hatype values (linux/if_arp.h) the simulator uses. */
#define SIM_PCAP_ARPHRD_ETHER 1
#define SIM_PCAP_ARPHRD_LOOPBACK 772

/* The link-layer part of one record: the interface a packet crosses and how. */
typedef struct {
    guint32 ifindex; /* 1-based interface index, as `ip link` numbers them (lo is 1) */
    guint16 hatype;  /* SIM_PCAP_ARPHRD_ETHER or SIM_PCAP_ARPHRD_LOOPBACK */
    guint8 pkttype;  /* SimPcapPacketType */
    guint8 addr_len; /* bytes of addr used, at most SIM_PCAP_SLL2_ADDRLEN (6 for Ethernet) */
    guint8 addr[SIM_PCAP_SLL2_ADDRLEN]; /* the frame's source MAC (zeros on lo) */
} SimPcapLink;

typedef struct SimPcap SimPcap;

/* Creates "PATH.tmp" (truncating an old one) and writes the pcap global header: nanosecond
 * magic, version 2.4, the snap length (0 means SIM_PCAP_DEFAULT_SNAPLEN) and
 * LINKTYPE_LINUX_SLL2. The epoch starts as SIM_PCAP_DEFAULT_EPOCH. Returns (transfer full) the
 * writer, or NULL with SIM_PCAP_ERROR_IO. */
SimPcap *sim_pcap_open(const char *path, guint32 snaplen, GError **error);

/* Sets the Unix time (seconds, >= 0) that simulated time 0 maps to; affects later records. */
void sim_pcap_set_epoch(SimPcap *pc, gint64 unix_seconds);

/* Appends one record: timestamp epoch + t, the SLL2 header for link (protocol 0x0800 or 0x86DD
 * from the datagram's version nibble), then ip[0..len) cut to the snap length (the record keeps
 * the original length). Fails with SIM_PCAP_ERROR_TIMESTAMP for a time that a pcap cannot hold,
 * or SIM_PCAP_ERROR_IO when a buffer flush fails; after an I/O error every later write fails
 * too and the capture should be aborted. Cost: a memcpy into the buffer (none for a datagram
 * written where sim_pcap_reserve() said), plus an fwrite() every 1 MiB. */
gboolean sim_pcap_write(SimPcap *pc, SimTime t, const SimPcapLink *link, const guint8 *ip,
                        gsize len, GError **error);

/* The largest datagram a record holds: an IPv6 header and a 65,535-byte payload. */
#define SIM_PCAP_MAX_DATAGRAM (G_MAXUINT16 + 40u)

/* Room for the datagram of the next record, SIM_PCAP_MAX_DATAGRAM bytes inside the writer's
 * buffer (flushed first when it lacks them): serialise the datagram there and hand the same
 * pointer to sim_pcap_write(), which then puts the headers in front of it instead of copying
 * it. Valid until the next call on pc. NULL with SIM_PCAP_ERROR_IO when the flush fails or an
 * earlier write did. (transfer none) */
guint8 *sim_pcap_reserve(SimPcap *pc, GError **error);

/* Records written so far. */
guint64 sim_pcap_count(const SimPcap *pc);

/* Flushes, closes and renames "PATH.tmp" to PATH. Frees pc (transfer full) whatever happens; on
 * failure the temporary file is removed and SIM_PCAP_ERROR_IO returned. */
gboolean sim_pcap_close(SimPcap *pc, GError **error);

/* Closes and deletes "PATH.tmp" without touching PATH, and frees pc (transfer full). For runs
 * that fail after opening their captures. NULL is allowed. */
void sim_pcap_abort(SimPcap *pc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimPcap, sim_pcap_abort)

#endif
