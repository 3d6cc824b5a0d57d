/* SPDX-License-Identifier: Apache-2.0 */
/* Shared internals of conntrack: the entry and table layout and the helpers that conntrack.c
 * (the table), conntrack_proto.c (the protocol trackers) and conntrack_nat.c (NAT bindings and
 * confirmation) call across files.
 *
 * Nothing here is part of the public interface; sim/conntrack.h is. CtEntry and CtTable stay
 * opaque to every other module.
 */
#ifndef KPSIM_CONNTRACK_PRIVATE_H
#define KPSIM_CONNTRACK_PRIVATE_H

#include "sim/conntrack.h"

typedef enum {
    SLOT_FREE,
    SLOT_UNCONFIRMED,
    SLOT_CONFIRMED,
} SlotState;

/* TCP bookkeeping bits in CtEntry.tcp (the kernel's seen[].flags, last_dir, last_index). */
#define TCP_CLOSE_INIT_ORIG 0x01u  /* FIN_WAIT was entered by an ORIGINAL packet */
#define TCP_CLOSE_INIT_REPLY 0x02u /* ... by a REPLY packet */
#define TCP_SIMULTANEOUS_OPEN 0x04u
#define TCP_LAST_DIR_REPLY 0x08u
#define TCP_LAST_INDEX_SHIFT 4 /* 3 bits: the TcpIndex of the last packet that moved the state */

struct CtEntry {
    CtTuple tuple[CT_DIR_MAX];
    SimTime expires;
    SimTime created; /* time of the first packet: NAT setup runs at it; UDP streams count from it */
    union {
        guint32 status;    /* IPS_* while in use */
        guint32 next_free; /* free-list link while free */
    };
    guint32 index;    /* own number in the segmented array */
    guint32 last_end; /* TCP: sequence number after the last ignored packet (resync check) */
    guint8 slot;      /* SlotState */
    guint8 state;     /* CtTcpState for TCP, else 0 */
    guint8 tcp;       /* TCP_* bookkeeping bits */
    guint8 observed;  /* the table's observer hears of this entry (ct_entry_observe()) */
};

typedef struct {
    guint32 hash; /* low 32 bits of the tuple's hash: home slot and quick filter */
    guint32 ref;  /* entry index << 1 | direction, or EMPTY_REF */
} Bucket;

struct CtTable {
    CtConfig cfg;
    CtEntry **seg; /* entry segments, allocated as entry numbers reach them */
    guint n_seg;
    guint32 n_slots; /* entry numbers handed out at least once */
    guint32 free_head;
    Bucket *buckets;
    guint32 mask; /* number of buckets - 1 */
    guint32 used; /* buckets holding a tuple */
    guint32 reap_cursor;
    guint32 gc_pressure; /* slots the reaper still scans in early-drop mode after a refusal */
    SimTime now;         /* the latest time seen; time must not go backwards */
    CtStats stats;
    CtObserverFunc observer; /* (nullable) told of observed entries' changes */
    gpointer observer_data;
};

/* Packet classes of the TCP state table (get_conntrack_index). */
typedef enum {
    TCP_SYN_SET,
    TCP_SYNACK_SET,
    TCP_FIN_SET,
    TCP_ACK_SET,
    TCP_RST_SET,
    TCP_NONE_SET,
} TcpIndex;

/* The packet class of a TCP packet's flags (get_conntrack_index). */
static inline TcpIndex
tcp_index(guint8 flags)
{
    if (flags & SIM_TCP_RST)
        return TCP_RST_SET;
    if (flags & SIM_TCP_SYN)
        return (flags & SIM_TCP_ACK) ? TCP_SYNACK_SET : TCP_SYN_SET;
    if (flags & SIM_TCP_FIN)
        return TCP_FIN_SET;
    if (flags & SIM_TCP_ACK)
        return TCP_ACK_SET;
    return TCP_NONE_SET;
}

/* Records dir and index as the last packet that moved e's TCP state (last_dir, last_index). */
static inline void
tcp_set_last(CtEntry *e, CtDir dir, TcpIndex index)
{
    e->tcp = (guint8)((e->tcp & 0x07u) | (dir == CT_DIR_REPLY ? TCP_LAST_DIR_REPLY : 0) |
                      ((guint)index << TCP_LAST_INDEX_SHIFT));
}

/* TRUE for protocols whose port fields NAT may rewrite. */
static inline gboolean
proto_has_ports(guint8 proto)
{
    switch ((SimProto)proto) {
    case SIM_PROTO_TCP:
    case SIM_PROTO_UDP:
    case SIM_PROTO_SCTP:
        return TRUE;
    case SIM_PROTO_ICMP:
    case SIM_PROTO_ICMPV6:
        return FALSE;
    }
    return FALSE;
}

/* ---------------------------------------------------------------- the table (conntrack.c) */

/* Returns e to the free list; it stops counting toward the table. */
void ct_entry_release(CtTable *t, CtEntry *e);
/* Links entry e under its tuple for dir, growing the table first to stay at most 2/3 full. */
void ct_hash_insert(CtTable *t, CtEntry *e, CtDir dir);
/* Is tuple used by a live entry (in either direction)? An expired holder is deleted on the way,
 * as the kernel's lookups do. */
gboolean ct_tuple_taken(CtTable *t, const CtTuple *tuple, SimTime now);

/* ---------------------------------------------------------- trackers (conntrack_proto.c) */

/* The state and timeout of a connection's first packet, or FALSE when that packet cannot start
 * one (tcp_new() refusing it). */
gboolean ct_first_packet(const CtTable *t, const SimPacket *pkt, CtTcpState *state,
                         SimTime *timeout);

#endif
