/* SPDX-License-Identifier: Apache-2.0 */
/* Sockets: the socket table, listeners, UDP sockets, ephemeral ports, the sockets' timers, and
 * the demultiplexing of packets that reached their local destination. TCP's state machine is
 * sim/tcp.c; what both share is sim/sock_private.h.
 *
 * Models what applications notice of Linux's socket layer (inet_hashtables.c, udp.c, icmp.c):
 * ephemeral ports from 32768-60999, even ports first from a random offset as
 * __inet_hash_connect() does, skipping ports of listeners and 4-tuples in use; UDP sockets
 * send datagrams of at most 1472 bytes (1452 over IPv6), and a listener's datagrams from each
 * peer arrive on a per-peer socket; an ICMP destination unreachable refuses a TCP connect in
 * SYN_SENT and a connected UDP socket when the error is fatal (icmp_err_convert[]); a packet
 * for no socket is answered with a RST (TCP) or port unreachable (UDP).
 *
 * Callbacks only run from loop events. A socket whose callback is running is freed only when
 * the callback returns; code that calls back checks afterwards whether the socket died.
 *
 * Cost: sockets are found through one hash table of 5-tuples (listeners: a short list per
 * host). Timers of the common fixed durations (the first RTO, the SYN timeout, TIME_WAIT,
 * FIN_WAIT_2) wait in FIFO queues served by one loop event each, so arming, moving and
 * cancelling them is O(1) and the loop's heap holds little more than the packets in flight.
 */
#include "sim/sock_private.h"

#include <string.h>

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

/* See sim/sock_private.h. */
SimSocket *
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

/* See sim/sock_private.h. */
void
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

/* See sim/sock_private.h. */
gboolean
sock_call_connected(SimSocket *s)
{
    if (s->ops.connected == NULL)
        return TRUE;
    s->busy++;
    s->ops.connected(s, s->user_data);
    return sock_unbusy(s);
}

/* See sim/sock_private.h. */
gboolean
sock_call_data(SimSocket *s, guint32 bytes)
{
    if (s->ops.data == NULL)
        return TRUE;
    s->busy++;
    s->ops.data(s, bytes, s->user_data);
    return sock_unbusy(s);
}

/* See sim/sock_private.h. */
gboolean
sock_call_peer_closed(SimSocket *s)
{
    if (s->ops.peer_closed == NULL)
        return TRUE;
    s->busy++;
    s->ops.peer_closed(s, s->user_data);
    return sock_unbusy(s);
}

/* See sim/sock_private.h. */
gboolean
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

/* See sim/sock_private.h. */
void
sock_finish(SimSocket *s, SimCloseReason reason)
{
    s->state = TCP_CLOSED;
    if (sock_report(s, reason))
        sock_destroy(s);
}

/* See sim/sock_private.h. */
void
sock_hash(SimSocket *s)
{
    g_hash_table_insert(s->host->net->sockets, &s->key, s);
    s->in_table = TRUE;
}

/* See sim/sock_private.h. */
SimSocket *
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

/* See sim/sock_private.h. */
void
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

/* See sim/sock_private.h. */
void
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

/* Runs what the socket's timer was set for: its own job, or TCP's timeout. */
static void
sock_timer_expired(SimSocket *s)
{
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
    tcp_timeout(s);
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
sock_bound_port(SimHost *h, guint8 proto, const SimAddr *src, const SimSockAddr *dst, guint16 port)
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
sim_socket_connect(SimHost *h, SimProto proto, const SimSockAddr *dst, const SimTcpOptions *options,
                   const SimSocketOps *ops, gpointer user_data)
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
    s->syn_retries =
        options != NULL && options->syn_retries > 0 ? options->syn_retries : TCP_SYN_RETRIES;
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
