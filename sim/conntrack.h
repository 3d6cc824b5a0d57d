/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tracking: one host's table of connections, their states and their NAT bindings.
 *
 * Models Linux nf_conntrack with nf_nat (prefix ct_, as the kernel's nf_ct_): every connection
 * is one CtEntry holding an ORIGINAL tuple (as the first packet looked) and a REPLY tuple (what
 * answers look like, after NAT), both findable in one hash table; the conntrack match's states
 * NEW / ESTABLISHED / INVALID; the TCP state machine (the kernel's tcp_conntracks table,
 * SYN_SENT .. CLOSE) with the kernel's timeouts, UDP's unreplied / stream timeouts, NAT
 * bindings made once per connection (DNAT, then SNAT or MASQUERADE with the kernel's source-port
 * choice), the table limit nf_conntrack_max with early drop, and lazy expiry.
 *
 * Time is the caller's: every call that can see time takes `now`, which must not go backwards.
 * An entry is gone once now reaches its expiry, exactly when the kernel's nf_ct_is_expired()
 * says so; expired entries are unlinked when a lookup meets them or when the reaper, which does
 * a bounded amount of work per call (ct_reap), passes them. Nothing scans the whole table per
 * packet.
 *
 * Left out, and why: TCP window tracking (sequence checks, and the 300 s timeouts the kernel
 * applies to unacknowledged data and to retransmissions) - the simulated TCP stacks do not
 * misbehave; RELATED connections and helpers (FTP, ICMP errors); zones and marks; the
 * per-source "reuse the existing mapping" step of SNAT (it only matters without --random-fully)
 * and ICMP id remapping; SCTP's chunk state machine (see ct_new()); UDP clash resolution
 * between parallel unconfirmed entries, which cannot happen in a single-threaded simulator.
 * Early drop looks at the 64 hash slots next to the new tuple instead of 8 kernel hash chains.
 *
 * The path of a packet through a host, as the kernel runs it:
 *   e = ct_lookup(t, &tuple, now, &dir);
 *   if (e) { switch (ct_packet(t, e, dir, pkt, now, &state)) ... }   (REOPEN: treat as new)
 *   else   { ct_new(t, pkt, now, &e); run nat rules; ct_setup_dnat(); ... ct_setup_snat();
 *            ct_confirm(t, e, rng) or ct_abort(t, e) when the packet is dropped }
 *   ct_nat_packet(e, dir, CT_MANIP_DST, pkt) in PREROUTING / OUTPUT,
 *   ct_nat_packet(e, dir, CT_MANIP_SRC, pkt) in POSTROUTING / INPUT.
 *
 * Memory: 112 bytes per entry plus 2 hash slots of 8 bytes at a load factor between 1/3 and
 * 2/3 (24 to 48 bytes), so 136 to 160 bytes per connection in a big table; entry storage grows
 * in segments of up to 1024 entries and is never returned before ct_table_free(), so memory
 * follows the peak number of connections.
 */
#ifndef KPSIM_CONNTRACK_H
#define KPSIM_CONNTRACK_H

#include "sim/sim_packet.h"
#include "sim/sim_rng.h"
#include "sim/sim_time.h"

typedef enum {
    CT_DIR_ORIGINAL = 0, /* the way the first packet went */
    CT_DIR_REPLY = 1,    /* the way answers go */
} CtDir;
#define CT_DIR_MAX 2

/* A connection as seen in one direction. A plain value; compare it with ct_tuple_equal(), not
 * memcmp (it has padding). Protocols without ports (ICMP, others) keep their identifiers in
 * the port fields or leave them 0. */
typedef struct {
    SimAddr src, dst;
    guint16 sport, dport;
    guint8 proto; /* SimProto */
} CtTuple;

/* Status bits (struct nf_conn's status), at the kernel's bit positions. */
/* A packet went in the REPLY direction. Set once, never cleared. */
#define IPS_SEEN_REPLY (1u << 1)
/* The connection proved two-way (TCP handshake done, UDP stream, SCTP answered); exempt from
 * early drop. Set once, never cleared. */
#define IPS_ASSURED (1u << 2)
/* In the table: ct_confirm() succeeded. Never cleared. */
#define IPS_CONFIRMED (1u << 3)
/* The source is rewritten (SNAT, MASQUERADE, or a source port moved to avoid a clash). Fixed
 * before confirmation, never changes after. */
#define IPS_SRC_NAT (1u << 4)
/* The destination is rewritten (DNAT). Fixed before confirmation, never changes after. */
#define IPS_DST_NAT (1u << 5)
/* Killed by a packet (a RST before any reply, a SYN reopening a closed connection): the entry
 * has expired and is unlinked by the next call that meets it. Never cleared. */
#define IPS_DYING (1u << 9)

/* The conntrack match's view of a packet (ctstate). */
typedef enum {
    CT_STATE_INVALID,     /* conntrack could not place the packet; it has no entry */
    CT_STATE_NEW,         /* the first packet, or an ORIGINAL packet before any reply */
    CT_STATE_ESTABLISHED, /* a REPLY packet, or an ORIGINAL one after a reply was seen */
} CtState;

/* TCP connection states, in the kernel's order (enum tcp_conntrack). */
typedef enum {
    CT_TCP_NONE,
    CT_TCP_SYN_SENT,
    CT_TCP_SYN_RECV,
    CT_TCP_ESTABLISHED,
    CT_TCP_FIN_WAIT,
    CT_TCP_CLOSE_WAIT,
    CT_TCP_LAST_ACK,
    CT_TCP_TIME_WAIT,
    CT_TCP_CLOSE,
    CT_TCP_SYN_SENT2, /* simultaneous open */
} CtTcpState;
#define CT_TCP_N_STATES 10

/* Which half of a NAT binding applies at a hook: DST in PREROUTING and OUTPUT, SRC in
 * POSTROUTING and INPUT (the kernel's HOOK2MANIP). */
typedef enum {
    CT_MANIP_SRC,
    CT_MANIP_DST,
} CtManip;

/* A table's settings: the sysctls of one host. ct_config_init() fills in a node as kube-proxy
 * leaves it. */
typedef struct {
    guint max;          /* nf_conntrack_max; 0 = no limit */
    gboolean tcp_loose; /* nf_conntrack_tcp_loose: pick up connections mid-stream */
    SimTime tcp_timeout[CT_TCP_N_STATES]; /* nf_conntrack_tcp_timeout_* by state */
    SimTime tcp_unacknowledged; /* caps ESTABLISHED until a reply is seen (mid-stream pickup) */
    SimTime udp_unreplied;      /* nf_conntrack_udp_timeout */
    SimTime udp_stream;         /* nf_conntrack_udp_timeout_stream */
    SimTime sctp_unreplied;     /* nf_conntrack_sctp_timeout_cookie_wait */
    SimTime sctp_established;   /* nf_conntrack_sctp_timeout_established */
    SimTime icmp;               /* nf_conntrack_icmp_timeout (and icmpv6) */
    SimTime generic;            /* nf_conntrack_generic_timeout */
} CtConfig;

typedef struct {
    guint64 current;          /* entries held, unconfirmed and expired-but-not-reaped included */
    guint64 peak;             /* most entries ever held */
    guint64 created;          /* entries confirmed */
    guint64 deleted;          /* entries unlinked for any reason (expiry, kill, flush, destroy) */
    guint64 expired;          /* of deleted: by timeout */
    guint64 early_drop;       /* of deleted: evicted to make room for a new connection */
    guint64 drops_table_full; /* new connections refused: table full, nothing to evict */
    guint64 insert_failed;    /* new connections refused at confirmation: tuple clash */
    guint64 invalid;          /* packets conntrack marked INVALID */
    guint64 snat_clashes;     /* candidate SNAT source ports found in use */
    guint64 snat_current;     /* confirmed entries holding a translated source port */
    guint64 snat_peak;        /* most such entries at once */
    guint64 memory_bytes;     /* entry storage plus hash slots allocated now */
} CtStats;

typedef struct CtTable CtTable;
typedef struct CtEntry CtEntry;

typedef enum {
    CT_NEW_OK,
    CT_NEW_INVALID,    /* the packet cannot start a connection (a TCP FIN, RST or SYN-ACK) */
    CT_NEW_TABLE_FULL, /* nf_conntrack_max reached and nothing could be evicted: drop it */
} CtNewResult;

typedef enum {
    CT_PACKET_ACCEPT,  /* state holds the packet's ctstate; the entry may now be IPS_DYING */
    CT_PACKET_INVALID, /* conntrack marks the packet INVALID; the entry is unchanged */
    CT_PACKET_REOPEN,  /* a SYN reopened a closed connection: the old entry is dying; handle
                          the packet as the first of a new connection (ct_new) */
} CtPacketResult;

/* Fills c with the kernel's defaults and the two timeouts kube-proxy sets: TCP established
 * 86400 s (kernel 432000 s) and close_wait 3600 s (kernel 60 s); syn_sent 120 s, syn_recv
 * 60 s, fin_wait 120 s, last_ack 30 s, time_wait 120 s, close 10 s; UDP 30 s / 120 s; SCTP 3 s
 * / 210 s; ICMP 30 s; others 600 s; max 131072 (kube-proxy's conntrack.min, which wins on
 * hosts with up to 4 CPUs). */
void ct_config_init(CtConfig *c);
/* max(per_cpu * cpus, minimum), saturated at G_MAXUINT, the way kube-proxy sizes
 * nf_conntrack_max from conntrack.maxPerCore and conntrack.min; 0 when per_cpu is 0 (kube-proxy
 * then leaves the sysctl alone). */
guint ct_max_scaled(guint per_cpu, guint minimum, guint cpus);

/* An empty table with a copy of config. (transfer full) */
CtTable *ct_table_new(const CtConfig *config);
/* Releases the table and every entry in it. */
void ct_table_free(CtTable *t);

/* The ORIGINAL-direction tuple of pkt. */
void ct_tuple_from_packet(const SimPacket *pkt, CtTuple *out);
/* The tuple of an answer to t: addresses and ports swapped. */
void ct_tuple_invert(const CtTuple *t, CtTuple *out);
/* TRUE when every field of a and b is equal. */
gboolean ct_tuple_equal(const CtTuple *a, const CtTuple *b);

/* Finds the confirmed entry one of whose tuples is tuple, and which of them (dir may be NULL).
 * An expired entry met here is deleted and not returned. Returns NULL when none. (transfer
 * none: valid until the entry is deleted by a later call on t) O(1) expected. */
CtEntry *ct_lookup(CtTable *t, const CtTuple *tuple, SimTime now, CtDir *dir);
/* Runs a packet of an existing connection through its entry: the TCP state machine, timeout
 * refresh, IPS_SEEN_REPLY / IPS_ASSURED. pkt's tuple must be e's tuple for dir. On
 * CT_PACKET_ACCEPT *state is the packet's ctstate. A dying entry stays readable (to translate
 * this packet) until the next call on t that can delete entries. */
CtPacketResult ct_packet(CtTable *t, CtEntry *e, CtDir dir, const SimPacket *pkt, SimTime now,
                         CtState *state);

/* Creates the unconfirmed entry for the first packet of a connection that ct_lookup() did not
 * find, with both tuples set from pkt (no NAT yet) and its first timeout. It counts toward
 * nf_conntrack_max at once; on a full table an expired or non-assured entry near it is evicted
 * first (the kernel's early drop), failing that the packet is refused. TCP starts from a SYN, or
 * from any plain ACK when tcp_loose is set. SCTP is simplified to two timeouts: sctp_unreplied
 * until the first reply, then sctp_established (and assured), whatever the chunks. On CT_NEW_OK
 * *out is the entry (transfer none); the caller must pass it to exactly one of ct_confirm() or
 * ct_abort(), and may set up NAT in between. */
CtNewResult ct_new(CtTable *t, const SimPacket *pkt, SimTime now, CtEntry **out);
/* DNAT on an unconfirmed entry: answers will come from to, and ORIGINAL packets are rewritten
 * to it at CT_MANIP_DST. Call before ct_setup_snat(). */
void ct_setup_dnat(CtTable *t, CtEntry *e, const SimSockAddr *to);
/* SNAT / MASQUERADE to addr on an unconfirmed entry, choosing the source port as the kernel's
 * get_unique_tuple() does: keep the original port when the resulting reply tuple is free (never
 * with random_fully), otherwise start at a random offset drawn from rng inside the port's class
 * (1-511, 600-1023 or 1024-65535) and probe upward, at most 128 tries, halving the tries with a
 * new offset while more than 16 remain. Every port found in use counts a snat_clash. If no
 * port is free the clashing tuple is kept and ct_confirm() fails. Returns whether a free tuple
 * was found. Cost: one hash lookup per try. */
gboolean ct_setup_snat(CtTable *t, CtEntry *e, const SimAddr *addr, gboolean random_fully,
                       SimRng *rng);
/* Inserts an unconfirmed entry under both tuples. When the reply tuple is taken and no SNAT was
 * set up, the kernel's implicit source-port change (the null binding) is tried with rng. On a
 * clash that cannot be avoided the entry is released, insert_failed counts, and FALSE means
 * the packet is dropped. */
gboolean ct_confirm(CtTable *t, CtEntry *e, SimRng *rng);
/* Releases an unconfirmed entry whose packet was dropped before confirmation. */
void ct_abort(CtTable *t, CtEntry *e);

/* Applies e's NAT binding for a packet travelling in dir: at CT_MANIP_DST an ORIGINAL packet
 * gets the DNAT destination and a REPLY packet loses the SNAT (its destination becomes the
 * original source); at CT_MANIP_SRC an ORIGINAL packet gets the SNAT source and a REPLY packet
 * loses the DNAT (its source becomes the original destination). No-op without that binding. */
void ct_nat_packet(const CtEntry *e, CtDir dir, CtManip manip, SimPacket *pkt);

/* Deletes a confirmed entry now (conntrack -D). */
void ct_destroy(CtTable *t, CtEntry *e);
/* Deletes every confirmed entry for which pred returns TRUE (conntrack -D with filters; what
 * kube-proxy does to stale UDP entries). pred must not call into t. Returns the number deleted.
 * Cost: a walk over every entry slot ever used. */
guint ct_flush(CtTable *t, gboolean (*pred)(const CtEntry *e, gpointer data), gpointer data);
/* The incremental garbage collector, like the kernel's gc worker: examines the next `budget`
 * entry slots (wrapping around) and deletes expired entries. For one full pass after
 * ct_new() refused a connection on a full table it also evicts, while the table is at least 95%
 * full, entries that are not assured and TCP connections that are closing (FIN_WAIT,
 * CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE), counted as early_drop. The caller decides the pace
 * (a periodic event, a few slots per packet). Returns the number deleted. Cost O(budget). */
guint ct_reap(CtTable *t, SimTime now, guint budget);

/* Copies the table's counters into out. */
void ct_get_stats(const CtTable *t, CtStats *out);

/* The entry's tuple for dir. (transfer none) */
const CtTuple *ct_entry_tuple(const CtEntry *e, CtDir dir);
/* The entry's IPS_* bits. */
guint32 ct_entry_status(const CtEntry *e);
/* The TCP state; CT_TCP_NONE for other protocols. */
CtTcpState ct_entry_tcp_state(const CtEntry *e);
/* The time at which the entry expires. */
SimTime ct_entry_expires(const CtEntry *e);
/* Appends e the way `conntrack -L` prints it: "tcp 6 86399 ESTABLISHED src=.. dst=.. sport=..
 * dport=.. src=.. dst=.. sport=.. dport=.. [ASSURED]", with the seconds left at now. */
void ct_entry_format(const CtEntry *e, SimTime now, GString *out);
/* The kernel's name of a TCP state ("SYN_SENT", "TIME_WAIT"). */
const char *ct_tcp_state_name(CtTcpState s);

/* A table's observer: called when an observed entry (ct_entry_observe()) changes its TCP state
 * (dying FALSE, after the change) and when it leaves the table for any reason - expiry, kill,
 * flush, destroy, a failed confirmation (dying TRUE; e is still readable, and released right
 * after the call). now is the table's current time. It must not call into the table. */
typedef void (*CtObserverFunc)(CtEntry *e, gboolean dying, SimTime now, gpointer data);
/* Installs func (NULL: none) as t's observer. Entries are not observed unless marked. */
void ct_table_set_observer(CtTable *t, CtObserverFunc func, gpointer data);
/* Marks e (confirmed or not) so that t's observer hears of it. Costs nothing per packet for
 * other entries, and one call per state change for e. */
void ct_entry_observe(CtEntry *e);
/* A number unique among the table's live entries, stable while e lives (its slot). */
guint32 ct_entry_id(const CtEntry *e);
/* When the last packet that refreshed e's timeout went through: its expiry minus the timeout
 * its current state gets from t's configuration (exact while the configuration is unchanged,
 * except for entries a RST killed, which look older). Never later than t's current time. */
SimTime ct_entry_last_seen(const CtTable *t, const CtEntry *e);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtTable, ct_table_free)

#endif
