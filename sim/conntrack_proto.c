/* SPDX-License-Identifier: Apache-2.0 */
/* The conntrack protocol trackers: how a packet moves an entry's state and timeout.
 *
 * The TCP table and the special cases around it follow nf_conntrack_proto_tcp.c (tcp_packet,
 * tcp_new); window tracking is not modelled. UDP follows nf_conntrack_proto_udp.c (unreplied and
 * stream timeouts); SCTP is simplified to an unreplied and an established timeout, without its
 * chunk state machine; ICMP and every other protocol get one fixed timeout.
 */
#include "sim/conntrack_private.h"

/* UDP switches to the stream timeout only for flows older than this (udp_packet's stream_ts). */
#define UDP_STREAM_AGE (2 * SIM_SEC)

/* ------------------------------------------------------------------ TCP */

#define sNO CT_TCP_NONE
#define sSS CT_TCP_SYN_SENT
#define sSR CT_TCP_SYN_RECV
#define sES CT_TCP_ESTABLISHED
#define sFW CT_TCP_FIN_WAIT
#define sCW CT_TCP_CLOSE_WAIT
#define sLA CT_TCP_LAST_ACK
#define sTW CT_TCP_TIME_WAIT
#define sCL CT_TCP_CLOSE
#define sS2 CT_TCP_SYN_SENT2
#define sIV CT_TCP_N_STATES       /* invalid packet */
#define sIG (CT_TCP_N_STATES + 1) /* ignored packet: accepted, state and timeout untouched */

/* tcp_conntracks[dir][index][old state] = new state, as in nf_conntrack_proto_tcp.c. */
static const guint8 tcp_conntracks[CT_DIR_MAX][6][CT_TCP_N_STATES] = {
    {
        /* ORIGINAL   sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
        /* syn    */ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
        /* synack */ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
        /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
        /* ack    */ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
        /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
        /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
    {
        /* REPLY      sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
        /* syn    */ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
        /* synack */ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
        /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
        /* ack    */ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
        /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
        /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
};

/* Sequence number just after pkt's segment (segment_seq_plus_len). */
static guint32
tcp_seq_end(const SimPacket *pkt)
{
    return pkt->seq + pkt->payload + ((pkt->tcp_flags & SIM_TCP_SYN) ? 1 : 0) +
           ((pkt->tcp_flags & SIM_TCP_FIN) ? 1 : 0);
}

static TcpIndex
tcp_last_index(const CtEntry *e)
{
    return (TcpIndex)(e->tcp >> TCP_LAST_INDEX_SHIFT);
}

static CtDir
tcp_last_dir(const CtEntry *e)
{
    return (e->tcp & TCP_LAST_DIR_REPLY) ? CT_DIR_REPLY : CT_DIR_ORIGINAL;
}

/* Makes e expire now: the kernel's nf_ct_kill() for a packet that ends the connection. */
static void
entry_kill(CtEntry *e, SimTime now)
{
    e->status |= IPS_DYING;
    e->expires = now;
}

/* An ignored packet (sIG): remembered for resynchronisation, otherwise no effect. Returns the
 * state to continue with when it is the SYN-ACK answering a SYN ignored earlier (the kernel's
 * case b), else sIG. */
static guint
tcp_ignored(CtEntry *e, CtDir dir, TcpIndex index, const SimPacket *pkt, CtTcpState *old)
{
    if (index == TCP_SYNACK_SET && tcp_last_index(e) == TCP_SYN_SET && tcp_last_dir(e) != dir &&
        pkt->ack == e->last_end) {
        *old = CT_TCP_SYN_SENT;
        return CT_TCP_SYN_RECV;
    }
    tcp_set_last(e, dir, index);
    e->last_end = tcp_seq_end(pkt);
    return sIG;
}

/* The timeout after a packet moved e from old to new state, or -1 when the timeout is not
 * renewed. Sets IPS_ASSURED and kills the entry like tcp_packet()'s tail. */
static SimTime
tcp_timeout_after(const CtTable *t, CtEntry *e, CtTcpState old, guint new_state, TcpIndex index,
                  SimTime now)
{
    SimTime timeout = t->cfg.tcp_timeout[new_state];
    if (!(e->status & IPS_SEEN_REPLY)) {
        if (index == TCP_RST_SET) {
            entry_kill(e, now); /* only a RST answered: no connection worth keeping */
            return -1;
        }
        if (index == TCP_SYN_SET && old == CT_TCP_SYN_SENT)
            return -1; /* a retransmitted SYN does not extend the wait */
        if (new_state == CT_TCP_ESTABLISHED && timeout > t->cfg.tcp_unacknowledged)
            timeout = t->cfg.tcp_unacknowledged;
    } else if (!(e->status & IPS_ASSURED) &&
               (old == CT_TCP_SYN_RECV || old == CT_TCP_ESTABLISHED) &&
               new_state == CT_TCP_ESTABLISHED) {
        e->status |= IPS_ASSURED;
    }
    return timeout;
}

/* tcp_packet(): moves e's TCP state for a packet going in dir. */
static CtPacketResult
tcp_packet(CtTable *t, CtEntry *e, CtDir dir, const SimPacket *pkt, SimTime now)
{
    TcpIndex index = tcp_index(pkt->tcp_flags);
    CtTcpState old = (CtTcpState)e->state;
    guint new_state = tcp_conntracks[dir][index][old];

    if (new_state == CT_TCP_SYN_SENT && old >= CT_TCP_TIME_WAIT) {
        /* A SYN on a closed connection reopens it when the close was seen (a FIN) or when the
         * same side reset it; otherwise it is ignored like any out-of-sync packet. */
        if ((e->tcp & (TCP_CLOSE_INIT_ORIG | TCP_CLOSE_INIT_REPLY)) ||
            (tcp_last_dir(e) == dir && tcp_last_index(e) == TCP_RST_SET)) {
            entry_kill(e, now);
            return CT_PACKET_REOPEN;
        }
        new_state = sIG;
    }
    if (new_state == sIG)
        new_state = tcp_ignored(e, dir, index, pkt, &old);
    if (new_state == sIG)
        return CT_PACKET_ACCEPT;
    if (new_state == sIV)
        return CT_PACKET_INVALID;
    if (new_state == CT_TCP_SYN_SENT2)
        e->tcp |= TCP_SIMULTANEOUS_OPEN;
    if (new_state == CT_TCP_SYN_RECV && dir == CT_DIR_REPLY && index == TCP_ACK_SET &&
        (e->tcp & TCP_SIMULTANEOUS_OPEN))
        new_state = CT_TCP_ESTABLISHED;

    tcp_set_last(e, dir, index);
    if (old != new_state && new_state == CT_TCP_FIN_WAIT)
        e->tcp |= dir == CT_DIR_ORIGINAL ? TCP_CLOSE_INIT_ORIG : TCP_CLOSE_INIT_REPLY;
    e->state = (guint8)new_state;
    SimTime timeout = tcp_timeout_after(t, e, old, new_state, index, now);
    if (timeout >= 0)
        e->expires = now + timeout;
    if (e->observed && old != new_state && t->observer != NULL)
        t->observer(e, FALSE, now, t->observer_data);
    return CT_PACKET_ACCEPT;
}

/* ------------------------------------------------------------------ other protocols */

/* udp_packet(): unreplied timeout until a reply; a flow that has seen replies and is older
 * than 2 s gets the stream timeout and becomes assured. */
static void
udp_packet(const CtTable *t, CtEntry *e, SimTime now)
{
    SimTime timeout = t->cfg.udp_unreplied;
    if ((e->status & IPS_SEEN_REPLY) && now > e->created + UDP_STREAM_AGE) {
        timeout = t->cfg.udp_stream;
        e->status |= IPS_ASSURED;
    }
    e->expires = now + timeout;
}

/* SCTP, simplified: sctp_unreplied until the first reply, then sctp_established (assured). */
static void
sctp_packet(const CtTable *t, CtEntry *e, CtDir dir, SimTime now)
{
    if (dir == CT_DIR_REPLY || (e->status & IPS_SEEN_REPLY)) {
        e->status |= IPS_ASSURED;
        e->expires = now + t->cfg.sctp_established;
    } else {
        e->expires = now + t->cfg.sctp_unreplied;
    }
}

/* The fixed timeout of ICMP and protocols conntrack has no tracker for. */
static SimTime
other_timeout(const CtTable *t, guint8 proto)
{
    return (proto == SIM_PROTO_ICMP || proto == SIM_PROTO_ICMPV6) ? t->cfg.icmp : t->cfg.generic;
}

/* ------------------------------------------------------------------ packets */

CtPacketResult
ct_packet(CtTable *t, CtEntry *e, CtDir dir, const SimPacket *pkt, SimTime now, CtState *state)
{
    g_return_val_if_fail(t != NULL && e != NULL && pkt != NULL, CT_PACKET_INVALID);
    g_return_val_if_fail(e->slot == SLOT_CONFIRMED, CT_PACKET_INVALID);
    g_return_val_if_fail(now >= t->now, CT_PACKET_INVALID); /* time never goes backwards */
    t->now = now;
    CtState st =
        (dir == CT_DIR_REPLY || (e->status & IPS_SEEN_REPLY)) ? CT_STATE_ESTABLISHED : CT_STATE_NEW;
    CtPacketResult r = CT_PACKET_ACCEPT;
    guint8 proto = e->tuple[CT_DIR_ORIGINAL].proto;
    if (proto == SIM_PROTO_TCP)
        r = tcp_packet(t, e, dir, pkt, now);
    else if (proto == SIM_PROTO_UDP)
        udp_packet(t, e, now);
    else if (proto == SIM_PROTO_SCTP)
        sctp_packet(t, e, dir, now);
    else
        e->expires = now + other_timeout(t, proto);
    if (r == CT_PACKET_INVALID) {
        t->stats.invalid++;
        return r;
    }
    if (r == CT_PACKET_ACCEPT && dir == CT_DIR_REPLY)
        e->status |= IPS_SEEN_REPLY;
    if (state != NULL)
        *state = st;
    return r;
}

/* The state and timeout of a connection's first packet, or FALSE when that packet cannot start
 * one (tcp_new() refusing it). */
gboolean
ct_first_packet(const CtTable *t, const SimPacket *pkt, CtTcpState *state, SimTime *timeout)
{
    *state = CT_TCP_NONE;
    switch ((SimProto)pkt->proto) {
    case SIM_PROTO_TCP: {
        guint s = tcp_conntracks[CT_DIR_ORIGINAL][tcp_index(pkt->tcp_flags)][CT_TCP_NONE];
        if (s != CT_TCP_SYN_SENT && !(s == CT_TCP_ESTABLISHED && t->cfg.tcp_loose))
            return FALSE;
        *state = (CtTcpState)s;
        *timeout = t->cfg.tcp_timeout[s];
        if (s == CT_TCP_ESTABLISHED) /* picked up mid-stream: nothing seen from the peer */
            *timeout = MIN(*timeout, t->cfg.tcp_unacknowledged);
        return TRUE;
    }
    case SIM_PROTO_UDP:
        *timeout = t->cfg.udp_unreplied;
        return TRUE;
    case SIM_PROTO_SCTP:
        *timeout = t->cfg.sctp_unreplied;
        return TRUE;
    case SIM_PROTO_ICMP:
    case SIM_PROTO_ICMPV6:
        break;
    }
    *timeout = other_timeout(t, pkt->proto);
    return TRUE;
}
