/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated network: hosts with interfaces, addresses and routes, the links between them, the
 * Linux packet path of each host (conntrack, netfilter hooks, NAT, forwarding, local delivery),
 * and TCP/UDP sockets on top.
 *
 * Models a routed L3 fabric (one shared segment for node and client addresses, veth pairs
 * between a node and each of its pods), the kernel's receive/forward/output paths with
 * nf_conntrack and iptables as sim/nf_eval.c evaluates them, and the parts of TCP users notice:
 * the handshake, SYN retransmission (1 s, 3 s, 7 s, ...), data and FIN, RST on a closed port or a
 * REJECT, ICMP port unreachable as "connection refused", timeouts. Left out: ARP, MTU/PMTU,
 * congestion control, window scaling, SACK, IP fragments, IP options.
 *
 * Ownership: the SimNet owns hosts, interfaces, links and sockets; rulesets and pcap writers
 * given to it are borrowed ((transfer none)) and must outlive it. All times come from the
 * SimLoop given at creation; all randomness from streams derived from the seed.
 */
#ifndef KPSIM_SIM_NET_H
#define KPSIM_SIM_NET_H

#include "sim/conntrack.h"
#include "sim/ipvs.h"
#include "sim/netfilter.h"
#include "sim/pcap_writer.h"
#include "sim/sim_loop.h"
#include "sim/sim_packet.h"

typedef struct SimNet SimNet;
typedef struct SimHost SimHost;
typedef struct SimSocket SimSocket;

/* Why a host dropped a packet (counted per host; names as the report prints them). */
typedef enum {
    SIM_DROP_NETFILTER,     /* "netfilter-drop": a DROP rule */
    SIM_DROP_REJECT,        /* "netfilter-reject": a REJECT rule (an ICMP error or RST was sent) */
    SIM_DROP_NO_ROUTE,      /* "no-route" */
    SIM_DROP_NO_SOCKET,     /* "no-socket": nothing listens (answered with RST / ICMP) */
    SIM_DROP_CT_FULL,       /* "conntrack-full": nf_conntrack: table full, dropping packet */
    SIM_DROP_CT_INSERT,     /* "conntrack-insert-failed": SNAT tuple clash */
    SIM_DROP_CT_INVALID,    /* "conntrack-invalid": dropped by KUBE-FORWARD's INVALID rule */
    SIM_DROP_HOST_DOWN,     /* "host-down": sent to or through a host that is down */
} SimDropReason;
#define SIM_DROP_COUNT 8
const char *sim_drop_reason_name(SimDropReason r);

typedef struct {
    guint64 rx_packets;       /* packets received from links (not from local sockets) */
    guint64 tx_packets;       /* packets sent on links */
    guint64 forwarded;        /* packets forwarded (rx then tx) */
    guint64 forwarded_to_hosts; /* forwarded packets whose next hop is another forwarding host */
    guint64 drops[SIM_DROP_COUNT];
    guint64 rules_evaluated;  /* rules the kernel would have traversed, summed over new conns */
    guint64 new_connections;  /* conntrack entries created */
} SimHostStats;

/* ------------------------------------------------------------------ network and hosts */

/* A network driven by loop; seed derives every random stream (statistic matches, ephemeral and
 * SNAT ports, ISNs). (transfer full) */
SimNet *sim_net_new(SimLoop *loop, guint64 seed);
/* Releases the network, its hosts and sockets (no callbacks run) and cancels the loop events it
 * scheduled; the loop itself stays usable. */
void sim_net_free(SimNet *net);
SimLoop *sim_net_loop(SimNet *net);
/* How long a TCP socket stays in TIME_WAIT after an active close (default 1 s; Linux keeps 60 s,
 * which would exhaust ephemeral ports in simulations with millions of connections). Applies to
 * sockets entering TIME_WAIT afterwards. */
void sim_net_set_time_wait(SimNet *net, SimTime duration);
/* The first error a capture write met, or NULL. Capturing stops on every host after an error;
 * the caller should then abort its captures. (transfer none) */
const GError *sim_net_capture_error(const SimNet *net);

/* Adds a host. forwarding: IP forwarding on (nodes) or off (clients, pods). (transfer none) */
SimHost *sim_net_add_host(SimNet *net, const char *name, gboolean forwarding);
const char *sim_host_name(const SimHost *h);
/* The network h belongs to. (transfer none) */
SimNet *sim_host_net(const SimHost *h);
/* Enables conntrack on h with config (copied). Hosts without conntrack run no netfilter. */
void sim_host_enable_conntrack(SimHost *h, const CtConfig *config);
/* The ruleset h's netfilter runs, or NULL for none. It may be replaced at any time (a kube-proxy
 * sync); established connections keep their conntrack state. The rules apply to packets of the
 * ruleset's family only (iptables or ip6tables). (transfer none) */
void sim_host_set_ruleset(SimHost *h, const NfRuleset *rs);

/* Adds an interface ("lo" gets ifindex 1 automatically; others count up from 2 in the order
 * added) and returns its ifindex. mac may be NULL (derived from host and index). */
guint sim_host_add_iface(SimHost *h, const char *name, const guint8 *mac);
void sim_host_add_addr(SimHost *h, guint ifindex, const SimAddr *addr);
/* Routes dst via interface ifindex; gateway NULL means on-link. Longest prefix wins. */
void sim_host_add_route(SimHost *h, const SimCidr *dst, guint ifindex, const SimAddr *gateway);
/* Is addr local to h (any interface address, or loopback)? */
gboolean sim_host_is_local(const SimHost *h, const SimAddr *addr);

/* Attaches interface ifindex of h to the shared fabric: packets sent on it reach the host that
 * owns the next-hop address on the fabric after latency plus size*8/bandwidth (FIFO per
 * sending interface). */
void sim_net_attach_fabric(SimNet *net, SimHost *h, guint ifindex, SimTime latency,
                           guint64 bandwidth_bps);
/* A point-to-point link (a veth pair) between a's ifa and b's ifb. */
void sim_net_link(SimNet *net, SimHost *a, guint ifa, SimHost *b, guint ifb, SimTime latency);

/* Power: a host that is down drops everything it receives and sends nothing (both counted as
 * host-down drops on it). Its sockets, timers and conntrack table are left as they are. */
void sim_host_set_up(SimHost *h, gboolean up);

/* Captures everything h sends and receives on every interface into pcap, as tcpdump -i any:
 * each packet as it crosses each interface (so NAT is visible between the in and out copies).
 * Several hosts may share one writer. (transfer none) Received packets carry SLL2 packet type
 * PACKET_HOST - every frame is addressed to the receiving interface's MAC in a routed network,
 * forwarded ones included, as on a real node - and sent ones PACKET_OUTGOING; loopback traffic
 * appears once, as received on lo (libpcap hides lo's outgoing copy). NULL stops capturing. */
void sim_host_set_capture(SimHost *h, SimPcap *pcap);

/* What a next-hop selector decides for a packet its host forwards. */
typedef enum {
    SIM_NEXT_HOP_ROUTE,       /* no opinion: the route table decides */
    SIM_NEXT_HOP_VIA,         /* send it on-link to *next_hop (out of the interface the route
                                 table uses toward that address) */
    SIM_NEXT_HOP_UNREACHABLE, /* no next hop: dropped as no-route */
} SimNextHopChoice;

/* A next-hop selector: chooses where h forwards pkt (addresses as they are after PREROUTING).
 * It stands for whatever a real router consults before its plain table: an ECMP route group
 * with next hops that come and go (Linux fib_select_multipath() with
 * fib_multipath_hash_policy=1), a neighbour entry for an address that moved (gratuitous
 * ARP), a load balancer's flow table. It must not send or free anything. */
typedef SimNextHopChoice (*SimNextHopFunc)(SimHost *h, const SimPacket *pkt, SimAddr *next_hop,
                                           gpointer data);
/* Installs func (NULL: none) as h's next-hop selector for the packets h forwards (not for the
 * ones it sends itself). data is borrowed. */
void sim_host_set_next_hop_func(SimHost *h, SimNextHopFunc func, gpointer data);

void sim_host_get_stats(const SimHost *h, SimHostStats *out);
/* h's conntrack table, or NULL. (transfer none) */
CtTable *sim_host_conntrack(SimHost *h);

/* Enables IPVS on h (which needs conntrack) with config (copied; ipvs_config_init() gives the
 * kernel's timeouts), as loading ip_vs with conntrack=1 does. From then on, when h's ruleset
 * carries an IPVS table (ipvs_ruleset_attach()): the table's dummy-interface addresses are local
 * to h (sim_host_is_local(), ping included); the first packet of a new connection that reaches
 * local delivery and is addressed to one of the table's virtual services, after filter INPUT,
 * is scheduled by h's IpvsState, DNATed through its conntrack entry (so later packets and
 * replies are translated by conntrack, as after an iptables DNAT - the kernel's IPVS NATs each
 * packet itself; here later packets take the FORWARD path instead of LOCAL_IN + LOCAL_OUT),
 * then sent through filter OUTPUT, routing and nat POSTROUTING (where KUBE-MARK-MASQ's mark
 * decides MASQUERADE), as ip_vs_nat_xmit() does; a host process's connection to a virtual
 * service is scheduled after nat OUTPUT the same way. A service without a usable real server
 * answers the SYN / datagram with ICMP port unreachable (ip_vs_leave()), counted as a
 * netfilter-reject drop. Each sim_host_set_ruleset() syncs h's state with the new table
 * (ipvs_state_sync()), so counters and scheduler positions survive a resync. Calling it again
 * replaces the state (counts start over). */
void sim_host_enable_ipvs(SimHost *h, const IpvsConfig *config);
/* h's IPVS state (expired connections already ended at the current time), or NULL when IPVS
 * is not enabled. (transfer none) */
IpvsState *sim_host_ipvs(SimHost *h);
/* Appends `ipvsadm -Ln` for h now: its current table with the counts of h's state (nothing
 * when h has no IPVS table). */
void sim_host_ipvs_list(SimHost *h, GString *out);

/* ------------------------------------------------------------------ sockets */

typedef enum {
    SIM_CLOSE_NORMAL,  /* FIN exchange completed */
    SIM_CLOSE_RESET,   /* RST received after the connection was established */
    SIM_CLOSE_REFUSED, /* RST or ICMP port/host unreachable in answer to the SYN */
    SIM_CLOSE_TIMEOUT, /* connect timeout or retransmissions exhausted */
} SimCloseReason;
const char *sim_close_reason_name(SimCloseReason r);

typedef struct {
    /* Client: the handshake completed. Server: a new connection was accepted (child socket). */
    void (*connected)(SimSocket *s, gpointer user_data);
    /* bytes of in-order application data arrived (a segment's payload). */
    void (*data)(SimSocket *s, guint32 bytes, gpointer user_data);
    /* The peer sent FIN (after all its data). The socket stays open for sending. */
    void (*peer_closed)(SimSocket *s, gpointer user_data);
    /* The socket is gone; s must not be used after this returns. */
    void (*closed)(SimSocket *s, SimCloseReason reason, gpointer user_data);
} SimSocketOps;

typedef struct {
    SimTime connect_timeout; /* give up a connect after this long (default 75 s, 0 = default) */
    guint syn_retries;       /* SYN retransmissions (default 6: 1, 3, 7, 15, 31, 63 s; 0 =
                                default, as Linux's tcp_syn_retries is at least 1) */
    guint16 local_port;      /* bind() to this source port first (0: an ephemeral port); the
                                connect fails (REFUSED) when the 4-tuple or a listener has it.
                                Also applies to UDP. */
} SimTcpOptions;

/* Listens on port of every local address of h (TCP or UDP per proto). Accepted connections get
 * ops/user_data; for UDP, `data` is called per datagram on a per-peer pseudo-socket. */
SimSocket *sim_socket_listen(SimHost *h, SimProto proto, guint16 port, const SimSocketOps *ops,
                             gpointer user_data);
/* Opens a connection from h (source address: the route's interface address, ephemeral port
 * from 32768-60999) to dst. For UDP the "connection" is immediately connected (`connected` is
 * called from the loop at the current time). Callbacks only run from the event loop, never from
 * inside this call. When h has no route or no source address toward dst, or no free port, the
 * socket reports `closed` with SIM_CLOSE_REFUSED from the loop (Linux: connect() fails at once
 * with ENETUNREACH / EADDRNOTAVAIL). (transfer none) */
SimSocket *sim_socket_connect(SimHost *h, SimProto proto, const SimSockAddr *dst,
                              const SimTcpOptions *options, const SimSocketOps *ops,
                              gpointer user_data);
/* Queues bytes of application data (segmented by MSS 1460, 1440 over IPv6). Full segments
 * leave at once; a partial last one at the end of the current event (autocorking), so that a
 * sim_socket_close() in the same event puts the FIN on it. UDP: sends them at once as datagrams
 * of at most 1472 bytes (1452 over IPv6); 0 bytes sends one empty datagram. */
void sim_socket_send(SimSocket *s, guint32 bytes);
/* Sends FIN after queued data; `closed` follows when the FIN exchange completes (NORMAL), or
 * fails. A TCP socket still in SYN_SENT is dropped silently like close() in the kernel (no FIN,
 * no `closed`). UDP sockets and listeners are released at once without `closed`. */
void sim_socket_close(SimSocket *s);
/* Sends RST and releases the socket at once; `closed` is not called. */
void sim_socket_abort(SimSocket *s);
const SimSockAddr *sim_socket_local(const SimSocket *s);
const SimSockAddr *sim_socket_peer(const SimSocket *s);
SimHost *sim_socket_host(const SimSocket *s);
void sim_socket_set_user_data(SimSocket *s, const SimSocketOps *ops, gpointer user_data);

#endif
