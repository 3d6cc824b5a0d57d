/* SPDX-License-Identifier: Apache-2.0 */
/* TCP connections: what applications notice of the Linux TCP stack (tcp_input.c,
 * tcp_output.c, tcp_timer.c). The socket table, ports, UDP and the sockets' timers are
 * sim/sock.c; the socket itself is sim/sock_private.h.
 *
 * The three-way handshake with SYN retransmission at 1, 3, 7, 15, 31, 63 s (tcp_syn_retries 6)
 * and SYN-ACK retransmission (tcp_synack_retries 5); data in segments of at most 1460 bytes
 * (1440 over IPv6), PSH on the last segment of a burst, a partial last segment held until the
 * end of the current event (autocorking), so that a close() right after the send() puts the FIN
 * on it ("[FP.]"), in-order delivery, an ACK for every segment that carries data, as in the
 * kernel's quick-ack mode at the start of a connection (piggybacked when the application
 * answers in the same event); retransmission after an RTO of 200 ms doubling up to 120 s, 15
 * times (tcp_retries2), going back to the first unacknowledged byte; FIN in both orders,
 * simultaneous close, TIME_WAIT on the active closer (1 s by default, shorter than Linux's 60 s
 * so that ports are reusable in long simulations; see sim_net_set_time_wait()), FIN_WAIT_2
 * closed after tcp_fin_timeout (60 s); RST on a closed port, on abort, and as "connection
 * refused" in SYN_SENT. Left out: congestion control (the sender only stops at the peer's
 * scaled window, 64240 << 7 bytes), delayed ACKs, SACK, fast retransmit, out-of-order queues
 * (segments after a gap are dropped and re-ACKed), keepalive, urgent data, TCP Fast Open,
 * accept queues and backlog limits.
 */
#include "sim/sock_private.h"

/* ------------------------------------------------------------------ sequence numbers */

/* Whether sequence number a comes before b (modulo 2^32, as the kernel's before()). */
static inline gboolean
seq_lt(guint32 a, guint32 b)
{
    return (gint32)(a - b) < 0;
}

/* ------------------------------------------------------------------ sending */

/* Maximum segment size of s's family. */
static guint32
tcp_mss(const SimSocket *s)
{
    return s->key.local.addr.family == SIM_AF_INET6 ? TCP_MSS6 : TCP_MSS4;
}

/* See sim/sock_private.h. */
void
tcp_send(SimSocket *s, guint8 flags, guint32 seq, guint32 len)
{
    NetPkt *np = net_pkt_alloc(s->host->net);
    SimPacket *p = &np->pkt;
    p->src = s->key.local;
    p->dst = s->key.peer;
    p->proto = SIM_PROTO_TCP;
    p->tcp_flags = flags;
    p->seq = seq;
    p->ack = (flags & SIM_TCP_ACK) ? s->rcv_nxt : 0;
    p->payload = len;
    if (flags & SIM_TCP_ACK)
        s->ack_now = FALSE;
    net_host_output(s->host, np);
}

/* Sends the segment at snd_nxt: numbered data (at most one MSS; the FIN rides on the segment
 * that ends the data once close() was called, "[FP.]"), or the FIN alone. */
static void
tcp_send_one(SimSocket *s)
{
    guint32 len = 0;
    if (seq_lt(s->snd_nxt, s->data_end))
        len = MIN(tcp_mss(s), s->data_end - s->snd_nxt);
    gboolean last = s->snd_nxt + len == s->data_end && s->backlog == 0;
    gboolean fin = last && s->fin_sent;
    if (len == 0 && !fin)
        return;
    guint8 flags = SIM_TCP_ACK | (len > 0 && last ? SIM_TCP_PSH : 0) | (fin ? SIM_TCP_FIN : 0);
    tcp_send(s, flags, s->snd_nxt, len);
    s->snd_nxt += len + (fin ? 1 : 0);
}

/* Whether s may send data and FIN in its state. */
static gboolean
tcp_can_send(const SimSocket *s)
{
    switch ((TcpState)s->state) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT1:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        return TRUE;
    case TCP_CLOSED:
    case TCP_SYN_SENT:
    case TCP_SYN_RECV:
    case TCP_FIN_WAIT2:
    case TCP_TIME_WAIT:
        break;
    }
    return FALSE;
}

static SimTime tcp_flush_fire(SimLoop *loop, SimEventId id, gpointer data);

/* Holds s's partial last segment until the end of the current event (autocorking: Linux holds
 * it while the previous segment is still queued), so that more data or the FIN of a close()
 * that follows the send() at once can ride on it. */
static void
tcp_cork(SimSocket *s)
{
    SimNet *net = s->host->net;
    if (s->corked)
        return;
    s->corked = TRUE;
    g_ptr_array_add(net->corked, s);
    if (net->in_event == 0 && net->flush_event == SIM_EVENT_ID_NONE)
        net->flush_event =
            sim_loop_schedule_at(net->loop, sim_loop_now(net->loop), tcp_flush_fire, net);
}

void
net_sockets_flush(SimNet *net)
{
    for (guint i = 0; i < net->corked->len; i++) {
        SimSocket *s = g_ptr_array_index(net->corked, i);
        s->corked = FALSE;
        tcp_output(s, TRUE);
        if (s->ack_now && s->state != TCP_TIME_WAIT && s->state != TCP_CLOSED)
            tcp_send(s, SIM_TCP_ACK, s->snd_nxt, 0);
    }
    g_ptr_array_set_size(net->corked, 0);
}

/* The flush event, for sends made outside the network's own events. */
static SimTime
tcp_flush_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    SimNet *net = data;
    net->flush_event = SIM_EVENT_ID_NONE;
    net_sockets_flush(net);
    return SIM_LOOP_NOMORE;
}

/* See sim/sock_private.h. */
void
tcp_output(SimSocket *s, gboolean push)
{
    if (!tcp_can_send(s))
        return;
    guint32 mss = tcp_mss(s);
    while (s->snd_nxt - s->snd_una < TCP_WINDOW) {
        if (!seq_lt(s->snd_nxt, s->data_end)) {
            if (s->backlog == 0)
                break;
            guint32 len = (guint32)MIN((guint64)mss, s->backlog);
            if (len < mss && !push && !s->user_closed) {
                tcp_cork(s);
                break;
            }
            s->backlog -= len;
            s->data_end += len;
        }
        if (s->user_closed && s->backlog == 0)
            s->fin_sent = TRUE;
        tcp_send_one(s);
    }
    if (s->user_closed && s->backlog == 0 && s->snd_nxt == s->data_end) {
        s->fin_sent = TRUE; /* nothing left to carry it: the FIN alone */
        tcp_send_one(s);
    }
    if (seq_lt(s->snd_max, s->snd_nxt))
        s->snd_max = s->snd_nxt;
    if (s->snd_una != s->snd_max && s->deadline == SIM_TIME_NEVER)
        sock_timer_after(s, s->rto);
}

/* ------------------------------------------------------------------ state changes */

/* Enters TIME_WAIT: reports the normal end and keeps the 4-tuple for net->time_wait. */
static void
tcp_time_wait(SimSocket *s)
{
    s->state = TCP_TIME_WAIT;
    sock_timer_after(s, s->host->net->time_wait);
    if (sock_report(s, SIM_CLOSE_NORMAL))
        s->ops = (SimSocketOps){0};
}

/* Our FIN was acknowledged. Returns FALSE when s is gone. */
static gboolean
tcp_fin_acked(SimSocket *s)
{
    switch ((TcpState)s->state) {
    case TCP_FIN_WAIT1:
        s->state = TCP_FIN_WAIT2;
        sock_timer_after(s, TCP_FIN_TIMEOUT);
        return TRUE;
    case TCP_CLOSING:
        tcp_time_wait(s);
        return !s->dead;
    case TCP_LAST_ACK:
        sock_finish(s, SIM_CLOSE_NORMAL);
        return FALSE;
    case TCP_CLOSED:
    case TCP_SYN_SENT:
    case TCP_SYN_RECV:
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT2:
    case TCP_TIME_WAIT:
    case TCP_CLOSE_WAIT:
        break;
    }
    return TRUE;
}

/* What became of a segment's acknowledgement. */
typedef enum {
    ACK_OK,      /* processed; go on with the segment's data */
    ACK_DISCARD, /* it acknowledges what was never sent: answer with an ACK, drop the rest */
    ACK_GONE,    /* the socket is gone */
} AckResult;

/* Processes the acknowledgement of pkt. */
static AckResult
tcp_ack(SimSocket *s, const SimPacket *pkt)
{
    guint32 ack = pkt->ack;
    if (seq_lt(s->snd_max, ack))
        return ACK_DISCARD;
    if (!seq_lt(s->snd_una, ack))
        return ACK_OK; /* old or duplicate */
    s->snd_una = ack;
    if (seq_lt(s->snd_nxt, ack))
        s->snd_nxt = ack;
    s->retries = 0;
    s->rto = TCP_RTO_MIN;
    if (s->snd_una != s->snd_max)
        sock_timer_after(s, s->rto);
    else if (s->state != TCP_FIN_WAIT2 && s->state != TCP_TIME_WAIT)
        sock_timer_set(s, SIM_TIME_NEVER);
    if (s->fin_sent && ack == s->data_end + 1 && !tcp_fin_acked(s))
        return ACK_GONE;
    return ACK_OK;
}

/* The peer's FIN, in order, was received. Returns FALSE when s is gone. */
static gboolean
tcp_fin(SimSocket *s)
{
    s->rcv_nxt++;
    s->ack_now = TRUE;
    switch ((TcpState)s->state) {
    case TCP_ESTABLISHED:
        s->state = TCP_CLOSE_WAIT;
        return sock_call_peer_closed(s);
    case TCP_FIN_WAIT1:
        s->state = TCP_CLOSING;
        return TRUE;
    case TCP_FIN_WAIT2:
        tcp_send(s, SIM_TCP_ACK, s->snd_nxt, 0);
        tcp_time_wait(s);
        return !s->dead;
    case TCP_CLOSED:
    case TCP_SYN_SENT:
    case TCP_SYN_RECV:
    case TCP_CLOSING:
    case TCP_TIME_WAIT:
    case TCP_CLOSE_WAIT:
    case TCP_LAST_ACK:
        break;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ receiving */

/* A segment for a socket in SYN_SENT: the SYN-ACK completes the handshake, an acceptable RST
 * refuses the connection. */
static void
tcp_input_syn_sent(SimSocket *s, const SimPacket *pkt)
{
    guint8 f = pkt->tcp_flags;
    if ((f & SIM_TCP_ACK) && pkt->ack != s->iss + 1) {
        if (!(f & SIM_TCP_RST))
            tcp_send(s, SIM_TCP_RST, pkt->ack, 0);
        return;
    }
    if (f & SIM_TCP_RST) {
        if (f & SIM_TCP_ACK)
            sock_finish(s, SIM_CLOSE_REFUSED);
        return;
    }
    if ((f & (SIM_TCP_SYN | SIM_TCP_ACK)) != (SIM_TCP_SYN | SIM_TCP_ACK))
        return; /* simultaneous open is not modelled */
    s->rcv_nxt = pkt->seq + 1;
    s->snd_una = pkt->ack;
    s->state = TCP_ESTABLISHED;
    s->retries = 0;
    s->rto = TCP_RTO_MIN;
    sock_timer_set(s, SIM_TIME_NEVER);
    tcp_send(s, SIM_TCP_ACK, s->snd_nxt, 0);
    if (!sock_call_connected(s))
        return;
    tcp_output(s, FALSE);
}

/* The handshake's last ACK reached a socket in SYN_RECV. Returns FALSE when s is gone or the
 * segment is not acceptable. */
static gboolean
tcp_established_passive(SimSocket *s, const SimPacket *pkt)
{
    if (pkt->ack != s->iss + 1) {
        tcp_send(s, SIM_TCP_RST, pkt->ack, 0);
        return FALSE;
    }
    s->snd_una = pkt->ack;
    s->state = TCP_ESTABLISHED;
    s->retries = 0;
    s->rto = TCP_RTO_MIN;
    sock_timer_set(s, SIM_TIME_NEVER);
    return sock_call_connected(s);
}

/* A RST for a synchronized socket: a connection never accepted just goes, others report
 * RESET. Only a RST at the expected sequence number counts. */
static void
tcp_input_rst(SimSocket *s, const SimPacket *pkt)
{
    if (pkt->seq - s->rcv_nxt >= TCP_WINDOW)
        return;
    if (s->state == TCP_SYN_RECV)
        sock_destroy(s);
    else
        sock_finish(s, SIM_CLOSE_RESET);
}

/* The data and FIN of a segment, after its ACK. Returns FALSE when s is gone. */
static gboolean
tcp_input_data(SimSocket *s, const SimPacket *pkt)
{
    gboolean can_receive =
        s->state == TCP_ESTABLISHED || s->state == TCP_FIN_WAIT1 || s->state == TCP_FIN_WAIT2;
    if (pkt->payload > 0) {
        s->ack_now = TRUE;
        if (pkt->seq == s->rcv_nxt && can_receive) {
            s->rcv_nxt += pkt->payload;
            if (!sock_call_data(s, pkt->payload))
                return FALSE;
        }
    }
    if (!(pkt->tcp_flags & SIM_TCP_FIN))
        return TRUE;
    guint32 fin_seq = pkt->seq + pkt->payload;
    if (fin_seq == s->rcv_nxt && can_receive)
        return tcp_fin(s);
    s->ack_now = TRUE; /* a retransmitted FIN, or one after a gap */
    return TRUE;
}

/* A segment for a synchronized socket (or one in SYN_RECV). */
static void
tcp_input_sync(SimSocket *s, const SimPacket *pkt)
{
    guint8 f = pkt->tcp_flags;
    if (f & SIM_TCP_RST) {
        tcp_input_rst(s, pkt);
        return;
    }
    if (f & SIM_TCP_SYN) {
        if (s->state == TCP_SYN_RECV && !(f & SIM_TCP_ACK))
            tcp_send(s, SIM_TCP_SYN | SIM_TCP_ACK, s->iss, 0); /* the SYN again */
        else
            tcp_send(s, SIM_TCP_ACK, s->snd_nxt, 0); /* our ACK of the SYN-ACK was lost */
        return;
    }
    if (!(f & SIM_TCP_ACK))
        return;
    if (s->state == TCP_SYN_RECV && !tcp_established_passive(s, pkt))
        return;
    switch (tcp_ack(s, pkt)) {
    case ACK_OK:
        break;
    case ACK_DISCARD:
        tcp_send(s, SIM_TCP_ACK, s->snd_nxt, 0);
        return;
    case ACK_GONE:
        return;
    }
    if (!tcp_input_data(s, pkt))
        return;
    tcp_output(s, FALSE);
    if (s->ack_now && !s->corked && s->state != TCP_TIME_WAIT)
        tcp_send(s, SIM_TCP_ACK, s->snd_nxt, 0); /* else the corked segment carries it */
}

/* A segment for a socket in TIME_WAIT: a retransmitted FIN is acknowledged again and restarts
 * the wait; a RST ends it. */
static void
tcp_input_time_wait(SimSocket *s, const SimPacket *pkt)
{
    if (pkt->tcp_flags & SIM_TCP_RST) {
        sock_destroy(s);
        return;
    }
    if (pkt->tcp_flags & SIM_TCP_FIN) {
        tcp_send(s, SIM_TCP_ACK, s->snd_nxt, 0);
        sock_timer_after(s, s->host->net->time_wait);
    }
}

/* Hands a segment to its socket. */
static void
tcp_input(SimSocket *s, const SimPacket *pkt)
{
    switch ((TcpState)s->state) {
    case TCP_SYN_SENT:
        tcp_input_syn_sent(s, pkt);
        return;
    case TCP_TIME_WAIT:
        tcp_input_time_wait(s, pkt);
        return;
    case TCP_SYN_RECV:
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
    case TCP_CLOSING:
    case TCP_CLOSE_WAIT:
    case TCP_LAST_ACK:
        tcp_input_sync(s, pkt);
        return;
    case TCP_CLOSED:
        return;
    }
}

/* A SYN for listener l: a child socket in SYN_RECV answers with a SYN-ACK. */
static void
tcp_accept(SimSocket *l, const SimPacket *pkt)
{
    SimHost *h = l->host;
    SimSocket *c = sock_new(h, SOCK_TCP, &l->ops, l->user_data);
    c->key.local = pkt->dst;
    c->key.peer = pkt->src;
    c->iss = (guint32)sim_rng_next(&h->rng_isn);
    c->snd_una = c->iss;
    c->snd_nxt = c->snd_max = c->data_end = c->iss + 1;
    c->rcv_nxt = pkt->seq + 1;
    c->state = TCP_SYN_RECV;
    c->rto = TCP_TIMEOUT_INIT;
    sock_hash(c);
    tcp_send(c, SIM_TCP_SYN | SIM_TCP_ACK, c->iss, 0);
    sock_timer_after(c, c->rto);
}

/* ------------------------------------------------------------------ timeouts */

/* SYN_SENT's timer: retransmit the SYN or give up. */
static void
tcp_syn_timeout(SimSocket *s, SimTime now)
{
    if (now >= s->connect_deadline || s->retries >= s->syn_retries) {
        sock_finish(s, SIM_CLOSE_TIMEOUT);
        return;
    }
    s->retries++;
    s->rto = MIN(s->rto * 2, TCP_RTO_MAX);
    tcp_send(s, SIM_TCP_SYN, s->iss, 0);
    sock_timer_set(s, MIN(now + s->rto, s->connect_deadline));
}

/* The retransmission timeout of a synchronized socket: send the first unacknowledged segment
 * again and go back to it, or give up after TCP_RETRIES2. */
static void
tcp_rto_timeout(SimSocket *s)
{
    if (s->snd_una == s->snd_max)
        return;
    if (s->retries >= TCP_RETRIES2) {
        sock_finish(s, SIM_CLOSE_TIMEOUT);
        return;
    }
    s->retries++;
    s->rto = MIN(s->rto * 2, TCP_RTO_MAX);
    s->snd_nxt = s->snd_una;
    tcp_send_one(s);
    sock_timer_after(s, s->rto);
}

/* See sim/sock_private.h. */
void
tcp_timeout(SimSocket *s)
{
    SimTime now = sim_loop_now(s->host->net->loop);
    switch ((TcpState)s->state) {
    case TCP_SYN_SENT:
        tcp_syn_timeout(s, now);
        return;
    case TCP_SYN_RECV:
        if (s->retries >= TCP_SYNACK_RETRIES) {
            sock_destroy(s); /* never accepted: nobody to tell */
            return;
        }
        s->retries++;
        s->rto = MIN(s->rto * 2, TCP_RTO_MAX);
        tcp_send(s, SIM_TCP_SYN | SIM_TCP_ACK, s->iss, 0);
        sock_timer_after(s, s->rto);
        return;
    case TCP_FIN_WAIT2:
        sock_finish(s, SIM_CLOSE_TIMEOUT);
        return;
    case TCP_TIME_WAIT:
        sock_destroy(s);
        return;
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT1:
    case TCP_CLOSING:
    case TCP_CLOSE_WAIT:
    case TCP_LAST_ACK:
        tcp_rto_timeout(s);
        return;
    case TCP_CLOSED:
        return;
    }
}

/* See sim/sock_private.h. */
void
tcp_deliver(SimHost *h, const SimPacket *pkt)
{
    SockKey key = {.host = h->id, .proto = SIM_PROTO_TCP, .local = pkt->dst, .peer = pkt->src};
    SimSocket *s = g_hash_table_lookup(h->net->sockets, &key);
    guint8 f = pkt->tcp_flags;
    gboolean syn = (f & (SIM_TCP_SYN | SIM_TCP_ACK | SIM_TCP_RST)) == SIM_TCP_SYN;
    if (s != NULL && s->state == TCP_TIME_WAIT && syn) {
        sock_destroy(s); /* a new connection reuses the 4-tuple (tcp_timewait_state_process) */
        s = NULL;
    }
    if (s != NULL) {
        tcp_input(s, pkt);
        return;
    }
    SimSocket *l = sock_listener(h, SIM_PROTO_TCP, pkt->dst.port);
    if (l != NULL && syn) {
        tcp_accept(l, pkt);
        return;
    }
    net_host_drop(h, SIM_DROP_NO_SOCKET);
    net_host_send_error(h, pkt, TRUE, 0, 0, NULL, CT_DIR_ORIGINAL);
}
