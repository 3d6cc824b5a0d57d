/* SPDX-License-Identifier: Apache-2.0 */
/* What sim/sock.c (sockets, ports, timers, UDP) and sim/tcp.c (TCP's state machine) share: the
 * socket itself and the functions each calls of the other. Not installed.
 */
#ifndef KPSIM_SOCK_PRIVATE_H
#define KPSIM_SOCK_PRIVATE_H

#include "sim/net_private.h"

#define TCP_MSS4 1460
#define TCP_MSS6 1440
#define UDP_MAX4 1472
#define UDP_MAX6 1452
#define TCP_WINDOW ((guint32)64240 << 7)
#define TCP_TIMEOUT_INIT SIM_SEC     /* SYN and SYN-ACK RTO */
#define TCP_RTO_MIN (200 * SIM_MSEC) /* first data RTO */
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
    guint index;            /* in SimNet.all_sockets */
    guint8 kind;            /* SockKind */
    guint8 state;           /* TcpState */
    guint8 job;             /* SockJob */
    guint8 busy;            /* callbacks of this socket running */
    guint8 dead : 1;        /* destroyed; freed when busy drops to 0 */
    guint8 in_table : 1;    /* in SimNet.sockets */
    guint8 reported : 1;    /* `closed` was called (or will never be) */
    guint8 user_closed : 1; /* close() called: FIN after the queued data */
    guint8 fin_sent : 1;    /* our FIN has a sequence number (data_end) */
    guint8 ack_now : 1;     /* an ACK is owed */
    guint8 corked : 1;      /* a partial segment waits in SimNet.corked for the end of the event */
    SimEventId timer;       /* a loop event of its own, for a duration no queue has */
    SockTimerQueue *tq;     /* or the timer queue it waits in */
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
    guint64 backlog; /* bytes queued by the application, not yet given sequence numbers */
};

/* ---- sim/sock.c */
/* Sets the timer delay after now. */
void sock_timer_after(SimSocket *s, SimTime delay);
/* Makes the socket's timer due at when (SIM_TIME_NEVER: no work). A fixed duration goes into its
 * queue; any other gets a loop event of its own (an earlier pending one is kept and re-arms
 * itself when it finds the deadline moved; a later one is replaced). */
void sock_timer_set(SimSocket *s, SimTime when);
/* Calls `closed` once; afterwards s never calls back. FALSE when s died in it. */
gboolean sock_report(SimSocket *s, SimCloseReason reason);
/* Reports reason and destroys s. The socket is CLOSED while `closed` runs, so that what the
 * callback does with it sends nothing. */
void sock_finish(SimSocket *s, SimCloseReason reason);
/* Calls `peer_closed`. FALSE when s died in it. */
gboolean sock_call_peer_closed(SimSocket *s);
/* Calls `connected`. FALSE when s died in it. */
gboolean sock_call_connected(SimSocket *s);
/* Removes s from the model: out of the tables, timer cancelled, never calls back again. The
 * memory goes at once, or when the running callback of s returns. */
void sock_destroy(SimSocket *s);
/* Calls `data`. FALSE when s died in it. */
gboolean sock_call_data(SimSocket *s, guint32 bytes);
/* A new socket of kind on h (not in the table yet). */
SimSocket *sock_new(SimHost *h, SockKind kind, const SimSocketOps *ops, gpointer user_data);
/* Puts s in the demultiplexing table under its key. */
void sock_hash(SimSocket *s);
/* The listener of h for proto on port, or NULL. */
SimSocket *sock_listener(const SimHost *h, guint8 proto, guint16 port);

/* ---- sim/tcp.c */
/* Sends one TCP segment from s. */
void tcp_send(SimSocket *s, guint8 flags, guint32 seq, guint32 len);
/* Sends what s may: segments from snd_nxt within the peer's window (data sent before and gone
 * back to after a timeout, then queued data), with the FIN once the data is out. A partial last
 * segment waits for the end of the event unless push or close() says otherwise. Arms the
 * retransmission timer when something is unacknowledged. */
void tcp_output(SimSocket *s, gboolean push);
/* The socket's timer fired with no job of the socket's own: TCP's timeout for its state (SYN
 * or SYN-ACK retransmission, FIN_WAIT_2 and TIME_WAIT ends, retransmission). */
void tcp_timeout(SimSocket *s);
/* A TCP segment that reached h: its socket, a listener, or a RST. */
void tcp_deliver(SimHost *h, const SimPacket *pkt);

#endif
