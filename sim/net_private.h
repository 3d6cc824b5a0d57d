/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated network's insides, shared by net.c (hosts, links, packets in flight, capture),
 * net_host.c (each host's packet path: conntrack, netfilter, routing, local delivery), sock.c
 * (sockets, ports, UDP) and tcp.c (TCP).
 *
 * Packets in flight are NetPkt records from a pool owned by the SimNet: one is taken when a
 * socket (or the stack, for a RST or an ICMP error) sends, travels through hosts and links as
 * one record, and goes back to the pool where it is dropped or delivered. Every function here
 * that takes a NetPkt takes ownership of it.
 */
#ifndef KPSIM_SIM_NET_PRIVATE_H
#define KPSIM_SIM_NET_PRIVATE_H

#include "sim/net.h"
#include "sim/nf_eval.h"
#include "sim/sim_rng.h"

#include <string.h>

typedef struct SimIface SimIface;

typedef enum {
    IFACE_UNLINKED, /* added, not attached to anything: sending on it fails */
    IFACE_LOOPBACK, /* "lo" */
    IFACE_FABRIC,   /* attached to the shared fabric */
    IFACE_VETH,     /* one end of a point-to-point link */
} IfaceKind;

struct SimIface {
    SimHost *host;
    char *name;
    guint ifindex;
    guint8 kind; /* IfaceKind */
    guint8 mac[6];
    SimIface *peer;         /* IFACE_VETH: the other end */
    SimTime latency;        /* fabric and veth */
    guint64 bandwidth_bps;  /* fabric: 0 means no serialisation delay */
    SimTime busy_until;     /* fabric: when the last queued packet has left (FIFO) */
};

/* An address of a host and the interface that holds it. */
typedef struct {
    SimAddr addr;
    guint ifindex;
} HostAddr;

/* A route, in SimHost.routes in the order added; SimHost.route_index finds the one a lookup
 * uses. dst's host bits are zero. */
typedef struct {
    SimCidr dst;
    SimIface *iface;
    SimAddr gateway; /* family SIM_AF_NONE: on-link */
    guint32 v4_net, v4_mask; /* IPv4: the prefix in host order, for a fast match */
} HostRoute;

/* The longest-prefix-match index of a host's routes, as Linux's fib_hash kept one hash zone per
 * prefix length: one open-addressing table keyed by (family, prefix length, network) giving the
 * first route added with that key, and per family the prefix lengths in use, longest first. A
 * lookup probes once per length in use (a node of a big cluster has three: /32 for its pods,
 * /24 for the other nodes' pod CIDRs, /0), whatever the number of routes; adding is O(1)
 * amortised. */
typedef struct {
    guint32 *slots; /* index in SimHost.routes + 1; 0: empty */
    guint32 mask;   /* slots - 1 */
    guint32 used;
    guint8 n_v4, n_v6;   /* lengths in use */
    guint8 v4_lens[33];  /* longest first */
    guint8 v6_lens[129]; /* longest first */
} RouteIndex;

/* A packet in flight, or in a host's packet path. */
typedef struct NetPkt NetPkt;
struct NetPkt {
    SimPacket pkt;
    NetPkt *next_free;    /* pool free list (and the pool's walk at teardown) */
    SimIface *to;         /* in flight: the interface that will receive it */
    const SimIface *from; /* in flight: the interface that sent it (its MAC is captured) */
    SimEventId event;     /* in flight: the delivery event */
    guint32 ctstate;      /* NF_CT_* bits when ct_done */
    guint8 in_flight;
    guint8 ct_done;       /* conntrack already handled it (looped back on lo, or a RST / ICMP
                             error the stack generated, translated as RELATED at birth) */
};

/* One remembered filter-table evaluation (net_host.c): the inputs nf_run_hook() reads and what
 * came out. */
typedef struct FilterMemo FilterMemo;

/* Demultiplexing key of a socket (a 5-tuple on one host). */
typedef struct {
    guint32 host; /* SimHost.id */
    guint8 proto;
    SimSockAddr local;
    SimSockAddr peer;
} SockKey;

struct SimHost {
    SimNet *net;
    char *name;
    guint id;
    gboolean forwarding;
    gboolean up;
    GPtrArray *ifaces; /* SimIface, owned; ifindex i at position i - 1 */
    GArray *addrs;     /* HostAddr, in the order added */
    GArray *routes;    /* HostRoute, in the order added */
    RouteIndex route_index; /* which route a lookup uses: longest prefix, then first added */
    CtTable *ct;       /* (owned, nullable) */
    const NfRuleset *rs; /* (nullable) (transfer none) */
    SimPcap *pcap;     /* (nullable) (transfer none) */
    NfEnv env;
    SimRng rng_statistic; /* statistic --mode random */
    SimRng rng_snat;      /* SNAT / MASQUERADE source ports, conntrack's null binding */
    SimRng rng_ports;     /* ephemeral ports */
    SimRng rng_isn;       /* TCP initial sequence numbers */
    GHashTable *recent;   /* xt_recent: list name -> RecentList, created on first use */
    GHashTable *icmp_peers; /* ICMP error rate limit: SimAddr* -> IcmpPeer, on first use */
    FilterMemo *memo;     /* filter verdicts of packets of known connections, on first use */
    guint32 memo_mask;    /* slots - 1 */
    guint32 memo_gen;     /* memos of other generations are void */
    guint32 memo_evictions; /* valid memos overwritten at this size */
    guint memo_rules;     /* the filter table's rule count the generation was made for */
    gint8 memo_pure;      /* 1: the filter table has no random match; 0: it has; -1: unknown */
    GPtrArray *listeners; /* listening SimSockets (transfer none; the net's socket set owns) */
    guint16 ip_id;        /* next IPv4 identification */
    SimHostStats stats;
    SimNextHopFunc next_hop_func; /* (nullable) forwarding's next-hop selector (net_host.c) */
    gpointer next_hop_data;
    IpvsState *ipvs;      /* (owned, nullable) IPVS run-time state (sim_host_enable_ipvs()) */
};

/* Sockets whose timers run for the same fixed duration (the first RTO, the SYN timeout,
 * TIME_WAIT, FIN_WAIT_2), in expiry order - a FIFO, since they all start now - served by one
 * loop event for the head (sock.c). Arming and disarming are O(1) and the loop's heap only holds
 * one event per queue, whatever the number of connections. */
typedef struct {
    SimTime delay;
    SimSocket *head, *tail;
    SimEventId event;
} SockTimerQueue;
#define NET_TIMER_QUEUES 6

/* An address -> interface map for the fabric (open addressing, never shrinks). */
typedef struct {
    SimAddr *keys;
    SimIface **values;
    guint32 mask;
    guint32 used;
} AddrMap;

struct SimNet {
    SimLoop *loop;
    guint64 seed;
    GPtrArray *hosts;     /* SimHost, owned, by id */
    AddrMap fabric;       /* fabric address -> attached interface owning it */
    GHashTable *sockets;  /* SockKey* -> SimSocket*: connected sockets and TIME_WAIT */
    GPtrArray *all_sockets; /* every live SimSocket (owned through net_socket_free()) */
    NetPkt *free_pkts;
    GPtrArray *pkt_chunks; /* NetPkt arrays, owned */
    NfBranch *spare;      /* the one branch the single-choice evaluation reuses */
    GPtrArray *branches;  /* scratch for nf_run_hook */
    GError *capture_error; /* the first capture write that failed; capture stops after it */
    SimTime time_wait;    /* TCP TIME_WAIT duration */
    SockTimerQueue timer_queues[NET_TIMER_QUEUES];
    guint n_timer_queues;
    GPtrArray *corked;    /* SimSocket with a partial segment held until the event ends */
    guint in_event;       /* inside one of the network's own events */
    SimEventId flush_event; /* flushes corked sockets after a send from a foreign event */
};

/* ---- net.c: packets, links, capture */

/* A zeroed packet record from the pool. O(1); allocates only when the pool is empty. */
NetPkt *net_pkt_alloc(SimNet *net);
/* Returns np to the pool. */
void net_pkt_free(SimNet *net, NetPkt *np);
/* Sends np out of oif toward next_hop (on a veth the peer receives it whatever next_hop is):
 * resolves the receiving interface, writes the OUT capture record, schedules the delivery.
 * Returns the receiving host, or NULL when nobody owns next_hop (np dropped, no-route counted
 * on oif's host). */
SimHost *net_iface_transmit(SimIface *oif, const SimAddr *next_hop, NetPkt *np);
/* Delivers np to h's loopback at once (an event at now): captured as received on lo. */
void net_loopback(SimHost *h, NetPkt *np);
/* Writes np as it crosses iface in direction pkttype into h's capture (h must capture). */
void net_capture_write(SimHost *h, const SimIface *iface, SimPcapPacketType pkttype,
                       const NetPkt *np);
/* Writes np as it crosses iface in direction pkttype into h's capture, if h captures. */
static inline void
net_capture(SimHost *h, const SimIface *iface, SimPcapPacketType pkttype, const NetPkt *np)
{
    if (h->pcap != NULL)
        net_capture_write(h, iface, pkttype, np);
}
/* The interface of h with index ifindex, or NULL. */
SimIface *net_host_iface(const SimHost *h, guint ifindex);
/* The route h uses toward dst (longest prefix, then the first added), or NULL. Cost: one hash
 * probe per prefix length in use on h, whatever the number of routes. The pointer is valid
 * until the next route is added. */
const HostRoute *net_route_lookup(SimHost *h, const SimAddr *dst);
/* Whether a and b are the same address (an inline sim_addr_equal()). */
static inline gboolean
net_addr_equal(const SimAddr *a, const SimAddr *b)
{
    if (a->family != b->family)
        return FALSE;
    if (a->family == SIM_AF_INET)
        return a->b[0] == b->b[0] && a->b[1] == b->b[1] && a->b[2] == b->b[2] &&
               a->b[3] == b->b[3];
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}
/* The source address h uses on iface for family (the interface's first address, else the
 * host's first non-loopback one, as inet_select_addr()). FALSE when h has none. */
gboolean net_iface_source(const SimHost *h, const SimIface *iface, guint8 family, SimAddr *out);

/* ---- net_host.c: the packet path */

/* Sets up h's NfEnv. */
void net_host_env_init(SimHost *h);
/* Releases h's xt_recent lists, ICMP rate-limit buckets and filter memo. */
void net_host_tables_free(SimHost *h);
/* The packet path of a packet h's stack sends (a socket's, a RST, an ICMP error): conntrack,
 * nat/filter OUTPUT, routing, POSTROUTING, then the link or the loopback. */
void net_host_output(SimHost *h, NetPkt *np);
/* The packet path of a packet arriving on iif (a link or lo): PREROUTING, routing, INPUT and
 * local delivery, or FORWARD and POSTROUTING. */
void net_host_receive(SimIface *iif, NetPkt *np);
/* Answers pkt, which arrived at h and is not wanted, with a TCP RST (reject TRUE for
 * --reject-with tcp-reset) or an ICMP error of type/code, sent through h's output path.
 * Nothing answers a RST or an ICMP error. e/dir, when not NULL, is pkt's connection: the
 * answer is translated as its RELATED reply at once and bypasses conntrack. */
void net_host_send_error(SimHost *h, const SimPacket *pkt, gboolean rst, guint8 icmp_type,
                         guint8 icmp_code, CtEntry *e, CtDir dir);
/* Forgets h's remembered filter outcomes (its ruleset or addresses changed). */
void net_host_memo_invalidate(SimHost *h);
/* Counts a drop on h. */
void net_host_drop(SimHost *h, SimDropReason why);

/* ---- sock.c and tcp.c: sockets */

/* Creates the socket tables of net. */
void net_sockets_init(SimNet *net);
/* Releases every socket (timers cancelled, no callbacks). */
void net_sockets_free(SimNet *net);
/* Sends the segments corked during the current event (see tcp.c's tcp_cork()). */
void net_sockets_flush(SimNet *net);
/* Ends one of the network's own events: corked segments go out when the outermost ends. */
static inline void
net_event_done(SimNet *net)
{
    if (--net->in_event == 0 && net->corked->len > 0)
        net_sockets_flush(net);
}
/* Hands a packet that reached its local destination on h to the socket layer: a socket's
 * segment or datagram, a SYN for a listener, an ICMP error for a socket; answers with a RST or
 * an ICMP port unreachable (no-socket drop) when nothing wants it. Takes np. */
void net_socket_deliver(SimHost *h, NetPkt *np);

/* ---- helpers */

/* The kernel's TTL / hop limit default for a new packet. */
#define NET_DEFAULT_TTL 64
/* Ports a connect() may choose (net.ipv4.ip_local_port_range). */
#define NET_EPHEMERAL_LOW 32768
#define NET_EPHEMERAL_HIGH 60999

#endif
