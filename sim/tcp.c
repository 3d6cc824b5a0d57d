/* SPDX-License-Identifier: Apache-2.0 */
/* Sockets: TCP connections and listeners, UDP sockets, ephemeral ports, and the demultiplexing
 * of packets that reached their local destination.
 *
 * Models what applications notice of the Linux TCP stack (tcp_input.c, tcp_output.c,
 * tcp_timer.c, inet_hashtables.c): the three-way handshake with SYN retransmission at 1, 3, 7,
 * 15, 31, 63 s (tcp_syn_retries 6) and SYN-ACK retransmission (tcp_synack_retries 5); data in
 * segments of at most 1460 bytes (1440 over IPv6), PSH on the last segment of a burst, a partial
 * last segment held until the end of the current event (autocorking), so that a close() right
 * after the send() puts the FIN on it ("[FP.]"), in-order delivery, an ACK for every segment
 * that carries data, as in the kernel's quick-ack mode at the start of a connection
 * (piggybacked when the application answers in the same event); retransmission after an RTO of
 * 200 ms doubling up to 120 s, 15 times
 * (tcp_retries2), going back to the first unacknowledged byte; FIN in both orders, simultaneous
 * close, TIME_WAIT on the active closer (1 s by default, shorter than Linux's 60 s so that
 * ports are reusable in long simulations; see sim_net_set_time_wait()), FIN_WAIT_2 closed after
 * tcp_fin_timeout (60 s); RST on a closed port, on abort, and as "connection refused" in
 * SYN_SENT, like ICMP destination unreachable. Ephemeral ports come from 32768-60999, even
 * ports first from a random offset as __inet_hash_connect() does, skipping ports of listeners
 * and 4-tuples in use. UDP sockets send datagrams of at most 1472 bytes (1452 over IPv6); a
 * listener's datagrams from each peer arrive on a per-peer socket. Left out: congestion control
 * (the sender only stops at the peer's scaled window, 64240 << 7 bytes), delayed ACKs, SACK,
 * fast retransmit, out-of-order queues (segments after a gap are dropped and re-ACKed),
 * keepalive, urgent data, TCP Fast Open, accept queues and backlog limits.
 *
 * Callbacks only run from loop events. A socket whose callback is running is freed only when
 * the callback returns; code that calls back checks afterwards whether the socket died.
 *
 * Cost: sockets are found through one hash table of 5-tuples (listeners: a short list per
 * host). Timers of the common fixed durations (the first RTO, the SYN timeout, TIME_WAIT,
 * FIN_WAIT_2) wait in FIFO queues served by one loop event each, so arming, moving and
 * cancelling them is O(1) and the loop's heap holds little more than the packets in flight.
 */
#include "sim/net_private.h"

#include <string.h>

#define TCP_MSS4 1460
#define TCP_MSS6 1440
#define UDP_MAX4 1472
#define UDP_MAX6 1452
#define TCP_WINDOW ((guint32)64240 << 7)
#define TCP_TIMEOUT_INIT SIM_SEC       /* SYN and SYN-ACK RTO */
#define TCP_RTO_MIN (200 * SIM_MSEC)   /* first data RTO */
#define TCP_RTO_MAX (120 * SIM_SEC)
#define TCP_RETRIES2 15
#define TCP_SYNACK_RETRIES 5
#define TCP_SYN_RETRIES 6
#define TCP_CONNECT_TIMEOUT (75 * SIM_SEC)
#define TCP_FIN_TIMEOUT (60 * SIM_SEC)

typedef enum {
    SOCK_TCP_LISTEN,
    SOCK_TCP,
    SOCK_UDP_LISTEN,
    SOCK_UDP,
} SockKind;

typedef enum {
    TCP_CLOSED,
    TCP_SYN_SENT,
    TCP_SYN_RECV,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT1,
    TCP_FIN_WAIT2,
    TCP_CLOSING,
    TCP_TIME_WAIT,
    TCP_CLOSE_WAIT,
    TCP_LAST_ACK,
} TcpState;

/* Work the socket's timer does besides TCP's own timeouts. */
typedef enum {
    JOB_NONE,
    JOB_CONNECTED, /* UDP connect: call `connected` from the loop */
    JOB_FAIL,      /* connect failed at once (no route, no port): report REFUSED */
} SockJob;

struct SimSocket {
    SockKey key;
    SimHost *host;
    SimSocketOps ops;
    gpointer user_data;
    guint index;      /* in SimNet.all_sockets */
    guint8 kind;      /* SockKind */
    guint8 state;     /* TcpState */
    guint8 job;       /* SockJob */
    guint8 busy;      /* callbacks of this socket running */
    guint8 dead : 1;      /* destroyed; freed when busy drops to 0 */
    guint8 in_table : 1;  /* in SimNet.sockets */
    guint8 reported : 1;  /* `closed` was called (or will never be) */
    guint8 user_closed : 1; /* close() called: FIN after the queued data */
    guint8 fin_sent : 1;  /* our FIN has a sequence number (data_end) */
    guint8 ack_now : 1;   /* an ACK is owed */
    guint8 corked : 1;    /* a partial segment waits in SimNet.corked for the end of the event */
    SimEventId timer;         /* a loop event of its own, for a duration no queue has */
    SockTimerQueue *tq;       /* or the timer queue it waits in */
    SimSocket *tq_prev, *tq_next;
    SimTime deadline;         /* when the timer's work is due; SIM_TIME_NEVER: none */
    SimTime connect_deadline; /* SYN_SENT: give up at */
    SimTime rto;
    guint retries;
    guint syn_retries;
    guint32 iss;
    guint32 snd_una;  /* oldest unacknowledged sequence number */
    guint32 snd_nxt;  /* next sequence number to send (goes back on a timeout) */
    guint32 snd_max;  /* highest sequence number sent, plus one */
    guint32 data_end; /* sequence number after the last data byte given a number */
    guint32 rcv_nxt;
    guint64 backlog;  /* bytes queued by the application, not yet given sequence numbers */
};

static void tcp_output(SimSocket *s, gboolean push);

/* ------------------------------------------------------------------ sequence numbers */

/* Whether sequence number a comes before b (modulo 2^32, as the kernel's before()). */
static inline gboolean
seq_lt(guint32 a, guint32 b)
{
    return (gint32)(a - b) < 0;
}

/* ------------------------------------------------------------------ the socket table */

/* GHashFunc over SockKey (field by field: the struct has padding). */
static guint
sock_key_hash(gconstpointer p)
{
    const SockKey *k = p;
    guint h = k->host * 2654435761u ^ k->proto;
    h = h * 31u + sim_addr_hash(&k->local.addr);
    h = h * 31u + k->local.port;
    h = h * 31u + sim_addr_hash(&k->peer.addr);
    return h * 31u + k->peer.port;
}

/* GEqualFunc over SockKey. */
static gboolean
sock_key_equal(gconstpointer a, gconstpointer b)
{
    const SockKey *x = a, *y = b;
    return x->host == y->host && x->proto == y->proto && x->local.port == y->local.port &&
           x->peer.port == y->peer.port && net_addr_equal(&x->local.addr, &y->local.addr) &&
           net_addr_equal(&x->peer.addr, &y->peer.addr);
}

/* Adds a timer queue for delay. */
static void
timer_queue_add(SimNet *net, SimTime delay)
{
    g_assert(net->n_timer_queues < NET_TIMER_QUEUES);
    net->timer_queues[net->n_timer_queues++] = (SockTimerQueue){.delay = delay};
}

void
net_sockets_init(SimNet *net)
{
    net->sockets = g_hash_table_new(sock_key_hash, sock_key_equal);
    net->all_sockets = g_ptr_array_new();
    net->corked = g_ptr_array_new();
    timer_queue_add(net, TCP_RTO_MIN);
    timer_queue_add(net, TCP_TIMEOUT_INIT);
    timer_queue_add(net, TCP_FIN_TIMEOUT);
}

void
net_sockets_free(SimNet *net)
{
    if (net->flush_event != SIM_EVENT_ID_NONE)
        sim_loop_cancel(net->loop, net->flush_event);
    g_ptr_array_unref(net->corked);
    for (guint i = 0; i < net->n_timer_queues; i++)
        if (net->timer_queues[i].event != SIM_EVENT_ID_NONE)
            sim_loop_cancel(net->loop, net->timer_queues[i].event);
    for (guint i = 0; i < net->all_sockets->len; i++) {
        SimSocket *s = g_ptr_array_index(net->all_sockets, i);
        if (s->timer != SIM_EVENT_ID_NONE)
            sim_loop_cancel(net->loop, s->timer);
        g_free(s);
    }
    g_ptr_array_unref(net->all_sockets);
    g_hash_table_unref(net->sockets);
}

/* A new socket of kind on h (not in the table yet). */
static SimSocket *
sock_new(SimHost *h, SockKind kind, const SimSocketOps *ops, gpointer user_data)
{
    SimNet *net = h->net;
    SimSocket *s = g_new0(SimSocket, 1);
    s->host = h;
    s->kind = (guint8)kind;
    s->key.host = h->id;
    s->key.proto = kind == SOCK_TCP || kind == SOCK_TCP_LISTEN ? SIM_PROTO_TCP : SIM_PROTO_UDP;
    if (ops != NULL)
        s->ops = *ops;
    s->user_data = user_data;
    s->deadline = SIM_TIME_NEVER;
    s->index = net->all_sockets->len;
    g_ptr_array_add(net->all_sockets, s);
    return s;
}

static void sock_timer_set(SimSocket *s, SimTime when);

/* Releases s's memory. */
static void
sock_free(SimSocket *s)
{
    g_assert(s->tq == NULL && s->timer == SIM_EVENT_ID_NONE);
    GPtrArray *all = s->host->net->all_sockets;
    g_ptr_array_remove_index_fast(all, s->index);
    if (s->index < all->len)
        ((SimSocket *)g_ptr_array_index(all, s->index))->index = s->index;
    g_free(s);
}

/* Removes s from the model: out of the tables, timer cancelled, never calls back again. The
 * memory goes at once, or when the running callback of s returns. */
static void
sock_destroy(SimSocket *s)
{
    if (s->dead)
        return;
    SimNet *net = s->host->net;
    s->dead = TRUE;
    s->reported = TRUE;
    if (s->in_table)
        g_hash_table_remove(net->sockets, &s->key);
    s->in_table = FALSE;
    if (s->kind == SOCK_TCP_LISTEN || s->kind == SOCK_UDP_LISTEN)
        g_ptr_array_remove(s->host->listeners, s);
    if (s->corked)
        g_ptr_array_remove(net->corked, s);
    s->corked = FALSE;
    sock_timer_set(s, SIM_TIME_NEVER);
    if (s->busy == 0)
        sock_free(s);
}

/* Ends a callback of s. FALSE when s died meanwhile (and is freed, or will be by an outer
 * callback's end): the caller must not touch it again. */
static gboolean
sock_unbusy(SimSocket *s)
{
    s->busy--;
    if (!s->dead)
        return TRUE;
    if (s->busy == 0)
        sock_free(s);
    return FALSE;
}

/* Calls `connected`. FALSE when s died in it. */
static gboolean
sock_call_connected(SimSocket *s)
{
    if (s->ops.connected == NULL)
        return TRUE;
    s->busy++;
    s->ops.connected(s, s->user_data);
    return sock_unbusy(s);
}

/* Calls `data`. FALSE when s died in it. */
static gboolean
sock_call_data(SimSocket *s, guint32 bytes)
{
    if (s->ops.data == NULL)
        return TRUE;
    s->busy++;
    s->ops.data(s, bytes, s->user_data);
    return sock_unbusy(s);
}

/* Calls `peer_closed`. FALSE when s died in it. */
static gboolean
sock_call_peer_closed(SimSocket *s)
{
    if (s->ops.peer_closed == NULL)
        return TRUE;
    s->busy++;
    s->ops.peer_closed(s, s->user_data);
    return sock_unbusy(s);
}

/* Calls `closed` once; afterwards s never calls back. FALSE when s died in it. */
static gboolean
sock_report(SimSocket *s, SimCloseReason reason)
{
    if (s->reported)
        return !s->dead;
    s->reported = TRUE;
    if (s->ops.closed == NULL)
        return TRUE;
    s->busy++;
    s->ops.closed(s, reason, s->user_data);
    return sock_unbusy(s);
}

/* Reports reason and destroys s. The socket is CLOSED while `closed` runs, so that what the
 * callback does with it sends nothing. */
static void
sock_finish(SimSocket *s, SimCloseReason reason)
{
    s->state = TCP_CLOSED;
    if (sock_report(s, reason))
        sock_destroy(s);
}

/* Puts s in the demultiplexing table under its key. */
static void
sock_hash(SimSocket *s)
{
    g_hash_table_insert(s->host->net->sockets, &s->key, s);
    s->in_table = TRUE;
}

/* The listener of h for proto on port, or NULL. */
static SimSocket *
sock_listener(const SimHost *h, guint8 proto, guint16 port)
{
    for (guint i = 0; i < h->listeners->len; i++) {
        SimSocket *l = g_ptr_array_index(h->listeners, i);
        if (l->key.proto == proto && l->key.local.port == port)
            return l;
    }
    return NULL;
}

/* ------------------------------------------------------------------ the timer */

static SimTime sock_timer_fire(SimLoop *loop, SimEventId id, gpointer data);
static SimTime timer_queue_fire(SimLoop *loop, SimEventId id, gpointer data);
static void sock_timer_expired(SimSocket *s);

/* The queue for timers of delay, or NULL. */
static SockTimerQueue *
timer_queue_for(SimNet *net, SimTime delay)
{
    for (guint i = 0; i < net->n_timer_queues; i++)
        if (net->timer_queues[i].delay == delay)
            return &net->timer_queues[i];
    if (delay == net->time_wait && net->n_timer_queues < NET_TIMER_QUEUES) {
        timer_queue_add(net, delay);
        return &net->timer_queues[net->n_timer_queues - 1];
    }
    return NULL;
}

/* Takes s out of its timer queue. O(1). The queue's event stays while other sockets wait (it
 * re-arms itself for the next head), and goes with the last one, so an idle network has no
 * events left. */
static void
timer_unqueue(SimSocket *s)
{
    SockTimerQueue *q = s->tq;
    if (q == NULL)
        return;
    if (q->head == s && q->tail == s && q->event != SIM_EVENT_ID_NONE &&
        sim_loop_event_time(s->host->net->loop, q->event) != SIM_TIME_NEVER) {
        sim_loop_cancel(s->host->net->loop, q->event); /* not while it runs */
        q->event = SIM_EVENT_ID_NONE;
    }
    if (s->tq_prev != NULL)
        s->tq_prev->tq_next = s->tq_next;
    else
        q->head = s->tq_next;
    if (s->tq_next != NULL)
        s->tq_next->tq_prev = s->tq_prev;
    else
        q->tail = s->tq_prev;
    s->tq = NULL;
    s->tq_prev = s->tq_next = NULL;
}

/* Appends s (due at s->deadline, the latest in q) to q. O(1), plus scheduling q's event when q
 * has none. */
static void
timer_enqueue(SimNet *net, SockTimerQueue *q, SimSocket *s)
{
    s->tq = q;
    s->tq_prev = q->tail;
    s->tq_next = NULL;
    if (q->tail != NULL)
        q->tail->tq_next = s;
    else
        q->head = s;
    q->tail = s;
    if (q->event == SIM_EVENT_ID_NONE)
        q->event = sim_loop_schedule_at(net->loop, s->deadline, timer_queue_fire, q);
}

/* Makes the socket's timer due at when (SIM_TIME_NEVER: no work). A fixed duration goes into its
 * queue; any other gets a loop event of its own (an earlier pending one is kept and re-arms
 * itself when it finds the deadline moved; a later one is replaced). */
static void
sock_timer_set(SimSocket *s, SimTime when)
{
    SimNet *net = s->host->net;
    SimLoop *loop = net->loop;
    s->deadline = when;
    timer_unqueue(s);
    SockTimerQueue *q = NULL;
    if (when != SIM_TIME_NEVER && !s->dead)
        q = timer_queue_for(net, when - sim_loop_now(loop));
    if (when == SIM_TIME_NEVER || s->dead || q != NULL) {
        if (s->timer != SIM_EVENT_ID_NONE)
            sim_loop_cancel(loop, s->timer);
        s->timer = SIM_EVENT_ID_NONE;
        if (q != NULL)
            timer_enqueue(net, q, s);
        return;
    }
    if (s->timer != SIM_EVENT_ID_NONE) {
        if (sim_loop_event_time(loop, s->timer) <= when)
            return;
        sim_loop_cancel(loop, s->timer);
    }
    s->timer = sim_loop_schedule_at(loop, when, sock_timer_fire, s);
}

/* Sets the timer delay after now. */
static void
sock_timer_after(SimSocket *s, SimTime delay)
{
    sock_timer_set(s, sim_loop_now(s->host->net->loop) + delay);
}

/* A socket's own timer event: runs the due work, or waits on when the deadline moved. */
static SimTime
sock_timer_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    SimSocket *s = data;
    s->timer = SIM_EVENT_ID_NONE;
    if (s->deadline == SIM_TIME_NEVER || s->tq != NULL)
        return SIM_LOOP_NOMORE;
    SimTime now = sim_loop_now(loop);
    if (now < s->deadline) {
        s->timer = id;
        return s->deadline - now;
    }
    s->deadline = SIM_TIME_NEVER;
    SimNet *net = s->host->net;
    net->in_event++;
    sock_timer_expired(s);
    net_event_done(net);
    return SIM_LOOP_NOMORE;
}

/* A timer queue's event: runs every socket due, then waits for the next head. */
static SimTime
timer_queue_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    SockTimerQueue *q = data;
    SimTime now = sim_loop_now(loop);
    SimNet *net = NULL;
    while (q->head != NULL && q->head->deadline <= now) {
        SimSocket *s = q->head;
        net = s->host->net;
        timer_unqueue(s);
        s->deadline = SIM_TIME_NEVER;
        net->in_event++;
        sock_timer_expired(s);
        net_event_done(net);
    }
    if (q->head == NULL) {
        q->event = SIM_EVENT_ID_NONE;
        return SIM_LOOP_NOMORE;
    }
    return q->head->deadline - now;
}

/* ------------------------------------------------------------------ sending */

/* Maximum segment size of s's family. */
static guint32
tcp_mss(const SimSocket *s)
{
    return s->key.local.addr.family == SIM_AF_INET6 ? TCP_MSS6 : TCP_MSS4;
}

/* Sends one TCP segment from s. */
static void
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

static SimTime sock_flush_fire(SimLoop *loop, SimEventId id, gpointer data);

/* Holds s's partial last segment until the end of the current event (autocorking: Linux holds
 * it while the previous segment is still queued), so that more data or the FIN of a close()
 * that follows the send() at once can ride on it. */
static void
sock_cork(SimSocket *s)
{
    SimNet *net = s->host->net;
    if (s->corked)
        return;
    s->corked = TRUE;
    g_ptr_array_add(net->corked, s);
    if (net->in_event == 0 && net->flush_event == SIM_EVENT_ID_NONE)
        net->flush_event = sim_loop_schedule_at(net->loop, sim_loop_now(net->loop),
                                                sock_flush_fire, net);
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
sock_flush_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    SimNet *net = data;
    net->flush_event = SIM_EVENT_ID_NONE;
    net_sockets_flush(net);
    return SIM_LOOP_NOMORE;
}

/* Sends what s may: segments from snd_nxt within the peer's window (data sent before and gone
 * back to after a timeout, then queued data), with the FIN once the data is out. A partial last
 * segment waits for the end of the event unless push or close() says otherwise. Arms the
 * retransmission timer when something is unacknowledged. */
static void
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
                sock_cork(s);
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

/* Sends a UDP datagram of len bytes from s. */
static void
udp_send(SimSocket *s, guint32 len)
{
    NetPkt *np = net_pkt_alloc(s->host->net);
    np->pkt.src = s->key.local;
    np->pkt.dst = s->key.peer;
    np->pkt.proto = SIM_PROTO_UDP;
    np->pkt.payload = len;
    net_host_output(s->host, np);
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
    gboolean can_receive = s->state == TCP_ESTABLISHED || s->state == TCP_FIN_WAIT1 ||
                           s->state == TCP_FIN_WAIT2;
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

/* Runs what the socket's timer was set for. */
static void
sock_timer_expired(SimSocket *s)
{
    SimTime now = sim_loop_now(s->host->net->loop);
    switch ((SockJob)s->job) {
    case JOB_CONNECTED:
        s->job = JOB_NONE;
        sock_call_connected(s);
        return;
    case JOB_FAIL:
        sock_finish(s, SIM_CLOSE_REFUSED);
        return;
    case JOB_NONE:
        break;
    }
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

/* ------------------------------------------------------------------ UDP and ICMP input */

/* A datagram for h's UDP socket s, or for listener l (a per-peer socket is made). */
static void
udp_input(SimHost *h, SimSocket *s, SimSocket *l, const SimPacket *pkt)
{
    if (s == NULL) {
        s = sock_new(h, SOCK_UDP, &l->ops, l->user_data);
        s->key.local = pkt->dst;
        s->key.peer = pkt->src;
        sock_hash(s);
        if (!sock_call_connected(s))
            return;
    }
    sock_call_data(s, pkt->payload);
}

/* Whether an ICMP error of type/code is fatal for a connected UDP socket (icmp_err_convert[],
 * icmpv6_err_convert()). */
static gboolean
icmp_fatal(guint8 proto, guint8 type, guint8 code)
{
    if (proto == SIM_PROTO_ICMPV6) {
        return type == SIM_ICMPV6_DEST_UNREACH &&
               (code == SIM_ICMPV6_ADM_PROHIBITED || code == SIM_ICMPV6_PORT_UNREACH ||
                code == SIM_ICMPV6_POLICY_FAIL || code == SIM_ICMPV6_REJECT_ROUTE);
    }
    static const gboolean fatal[] = {FALSE, FALSE, TRUE, TRUE, FALSE, FALSE, TRUE,
                                     TRUE,  TRUE,  TRUE, TRUE, FALSE, FALSE, TRUE};
    return type == SIM_ICMP_DEST_UNREACH && code < G_N_ELEMENTS(fatal) && fatal[code];
}

/* An ICMP error for one of h's sockets: destination unreachable refuses a TCP connect in
 * SYN_SENT whose SYN it quotes, and a connected UDP socket when the error is fatal. Other errors
 * are soft and ignored. */
static void
icmp_input(SimHost *h, const SimPacket *pkt)
{
    const SimPacketQuote *q = &pkt->quote;
    guint8 unreach = pkt->proto == SIM_PROTO_ICMP ? SIM_ICMP_DEST_UNREACH : SIM_ICMPV6_DEST_UNREACH;
    if (pkt->icmp_type != unreach)
        return;
    SockKey key = {.host = h->id, .proto = q->proto, .local = q->src, .peer = q->dst};
    SimSocket *s = g_hash_table_lookup(h->net->sockets, &key);
    if (s == NULL)
        return;
    if (s->kind == SOCK_TCP && s->state == TCP_SYN_SENT && q->seq == s->snd_una)
        sock_finish(s, SIM_CLOSE_REFUSED);
    else if (s->kind == SOCK_UDP && icmp_fatal(pkt->proto, pkt->icmp_type, pkt->icmp_code))
        sock_finish(s, SIM_CLOSE_REFUSED);
}

/* A TCP segment that reached h: its socket, a listener, or a RST. */
static void
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

void
net_socket_deliver(SimHost *h, NetPkt *np)
{
    const SimPacket *pkt = &np->pkt;
    switch ((SimProto)pkt->proto) {
    case SIM_PROTO_TCP:
        tcp_deliver(h, pkt);
        break;
    case SIM_PROTO_UDP: {
        SockKey key = {.host = h->id, .proto = SIM_PROTO_UDP, .local = pkt->dst, .peer = pkt->src};
        SimSocket *s = g_hash_table_lookup(h->net->sockets, &key);
        SimSocket *l = s == NULL ? sock_listener(h, SIM_PROTO_UDP, pkt->dst.port) : NULL;
        if (s != NULL || l != NULL) {
            udp_input(h, s, l, pkt);
            break;
        }
        net_host_drop(h, SIM_DROP_NO_SOCKET);
        gboolean v4 = pkt->src.addr.family == SIM_AF_INET;
        net_host_send_error(h, pkt, FALSE, v4 ? SIM_ICMP_DEST_UNREACH : SIM_ICMPV6_DEST_UNREACH,
                            v4 ? SIM_ICMP_PORT_UNREACH : SIM_ICMPV6_PORT_UNREACH, NULL,
                            CT_DIR_ORIGINAL);
        break;
    }
    case SIM_PROTO_ICMP:
    case SIM_PROTO_ICMPV6:
        icmp_input(h, pkt);
        break;
    case SIM_PROTO_SCTP:
        net_host_drop(h, SIM_DROP_NO_SOCKET);
        break;
    }
    net_pkt_free(h->net, np);
}

/* ------------------------------------------------------------------ the public API */

SimSocket *
sim_socket_listen(SimHost *h, SimProto proto, guint16 port, const SimSocketOps *ops,
                  gpointer user_data)
{
    g_return_val_if_fail(h != NULL && ops != NULL, NULL);
    g_return_val_if_fail(proto == SIM_PROTO_TCP || proto == SIM_PROTO_UDP, NULL);
    g_return_val_if_fail(sock_listener(h, (guint8)proto, port) == NULL, NULL);
    SimSocket *s =
        sock_new(h, proto == SIM_PROTO_TCP ? SOCK_TCP_LISTEN : SOCK_UDP_LISTEN, ops, user_data);
    s->key.local.port = port;
    g_ptr_array_add(h->listeners, s);
    return s;
}

/* An ephemeral port for a connection from src to dst: even ports first from a random offset,
 * then odd ones, skipping listeners' ports and 4-tuples in use. 0 when none is free. */
static guint16
sock_ephemeral_port(SimHost *h, guint8 proto, const SimAddr *src, const SimSockAddr *dst)
{
    const guint range = NET_EPHEMERAL_HIGH - NET_EPHEMERAL_LOW + 1;
    guint offset = (guint)sim_rng_below(&h->rng_ports, range) & ~1u;
    SockKey key = {.host = h->id, .proto = proto, .local.addr = *src, .peer = *dst};
    for (guint parity = 0; parity < 2; parity++, offset++) {
        for (guint i = 0; i < range; i += 2) {
            key.local.port = (guint16)(NET_EPHEMERAL_LOW + (offset + i) % range);
            if (sock_listener(h, proto, key.local.port) == NULL &&
                !g_hash_table_contains(h->net->sockets, &key))
                return key.local.port;
        }
    }
    return 0;
}

/* port for a connection from src to dst when nothing uses it (bind() then connect()), else 0. */
static guint16
sock_bound_port(SimHost *h, guint8 proto, const SimAddr *src, const SimSockAddr *dst,
                guint16 port)
{
    SockKey key = {.host = h->id, .proto = proto, .local = {*src, port}, .peer = *dst};
    if (sock_listener(h, proto, port) != NULL || g_hash_table_contains(h->net->sockets, &key))
        return 0;
    return port;
}

/* The source address h uses toward dst: dst itself when local, else the address of the
 * route's interface. FALSE when there is no route or no address. */
static gboolean
sock_source(SimHost *h, const SimAddr *dst, SimAddr *out)
{
    if (sim_host_is_local(h, dst)) {
        *out = *dst;
        return TRUE;
    }
    const HostRoute *route = net_route_lookup(h, dst);
    return route != NULL && net_iface_source(h, route->iface, dst->family, out);
}

/* Fails a connect at once: `closed` with REFUSED from the loop. */
static void
sock_connect_fail(SimSocket *s)
{
    s->job = JOB_FAIL;
    sock_timer_after(s, 0);
}

SimSocket *
sim_socket_connect(SimHost *h, SimProto proto, const SimSockAddr *dst,
                   const SimTcpOptions *options, const SimSocketOps *ops, gpointer user_data)
{
    g_return_val_if_fail(h != NULL && dst != NULL && ops != NULL, NULL);
    g_return_val_if_fail(proto == SIM_PROTO_TCP || proto == SIM_PROTO_UDP, NULL);
    SimSocket *s = sock_new(h, proto == SIM_PROTO_TCP ? SOCK_TCP : SOCK_UDP, ops, user_data);
    s->key.peer = *dst;
    SimAddr src = {0};
    guint16 port = 0;
    if (sock_source(h, &dst->addr, &src))
        port = options != NULL && options->local_port != 0
                   ? sock_bound_port(h, (guint8)proto, &src, dst, options->local_port)
                   : sock_ephemeral_port(h, (guint8)proto, &src, dst);
    if (port == 0) {
        s->key.local.addr = src;
        sock_connect_fail(s);
        return s;
    }
    s->key.local.addr = src;
    s->key.local.port = port;
    sock_hash(s);
    if (proto == SIM_PROTO_UDP) {
        s->job = JOB_CONNECTED;
        sock_timer_after(s, 0);
        return s;
    }
    SimTime now = sim_loop_now(h->net->loop);
    SimTime timeout = options != NULL && options->connect_timeout > 0 ? options->connect_timeout
                                                                      : TCP_CONNECT_TIMEOUT;
    s->syn_retries = options != NULL && options->syn_retries > 0 ? options->syn_retries
                                                                 : TCP_SYN_RETRIES;
    s->connect_deadline = now + timeout;
    s->iss = (guint32)sim_rng_next(&h->rng_isn);
    s->snd_una = s->iss;
    s->snd_nxt = s->snd_max = s->data_end = s->iss + 1;
    s->state = TCP_SYN_SENT;
    s->rto = TCP_TIMEOUT_INIT;
    tcp_send(s, SIM_TCP_SYN, s->iss, 0);
    sock_timer_set(s, MIN(now + s->rto, s->connect_deadline));
    return s;
}

void
sim_socket_send(SimSocket *s, guint32 bytes)
{
    g_return_if_fail(s != NULL && !s->dead && !s->user_closed);
    if (s->job == JOB_FAIL)
        return; /* the connect failed; `closed` is on its way */
    switch ((SockKind)s->kind) {
    case SOCK_TCP:
        s->backlog += bytes;
        tcp_output(s, FALSE);
        return;
    case SOCK_UDP: {
        guint32 max = s->key.local.addr.family == SIM_AF_INET6 ? UDP_MAX6 : UDP_MAX4;
        do {
            guint32 len = MIN(bytes, max);
            udp_send(s, len);
            bytes -= len;
        } while (bytes > 0);
        return;
    }
    case SOCK_TCP_LISTEN:
    case SOCK_UDP_LISTEN:
        g_return_if_reached();
    }
}

void
sim_socket_close(SimSocket *s)
{
    g_return_if_fail(s != NULL && !s->dead);
    if (s->kind != SOCK_TCP) {
        sock_destroy(s);
        return;
    }
    switch ((TcpState)s->state) {
    case TCP_ESTABLISHED:
        s->state = TCP_FIN_WAIT1;
        break;
    case TCP_CLOSE_WAIT:
        s->state = TCP_LAST_ACK;
        break;
    case TCP_CLOSED:
    case TCP_SYN_SENT:
    case TCP_SYN_RECV:
        sock_destroy(s); /* close() before the handshake completed: nothing is sent */
        return;
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
    case TCP_CLOSING:
    case TCP_TIME_WAIT:
    case TCP_LAST_ACK:
        return;
    }
    s->user_closed = TRUE;
    tcp_output(s, FALSE);
}

void
sim_socket_abort(SimSocket *s)
{
    g_return_if_fail(s != NULL && !s->dead);
    if (s->kind == SOCK_TCP) {
        switch ((TcpState)s->state) {
        case TCP_SYN_RECV:
        case TCP_ESTABLISHED:
        case TCP_FIN_WAIT1:
        case TCP_FIN_WAIT2:
        case TCP_CLOSE_WAIT:
            tcp_send(s, SIM_TCP_RST | SIM_TCP_ACK, s->snd_nxt, 0); /* tcp_need_reset() */
            break;
        case TCP_CLOSED:
        case TCP_SYN_SENT:
        case TCP_CLOSING:
        case TCP_TIME_WAIT:
        case TCP_LAST_ACK:
            break;
        }
    }
    sock_destroy(s);
}

const SimSockAddr *
sim_socket_local(const SimSocket *s)
{
    g_return_val_if_fail(s != NULL, NULL);
    return &s->key.local;
}

const SimSockAddr *
sim_socket_peer(const SimSocket *s)
{
    g_return_val_if_fail(s != NULL, NULL);
    return &s->key.peer;
}

SimHost *
sim_socket_host(const SimSocket *s)
{
    g_return_val_if_fail(s != NULL, NULL);
    return s->host;
}

void
sim_socket_set_user_data(SimSocket *s, const SimSocketOps *ops, gpointer user_data)
{
    g_return_if_fail(s != NULL && ops != NULL);
    if (s->reported)
        return; /* after `closed` a socket never calls back */
    s->ops = *ops;
    s->user_data = user_data;
}
