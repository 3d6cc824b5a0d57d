/* SPDX-License-Identifier: Apache-2.0 */
/* IPVS: a table of virtual services with their real servers and schedulers, the addresses of
 * the dummy interface that makes the virtual addresses local, a host's run-time IPVS state
 * (scheduler positions, connection counts, persistence templates), and printing as
 * `ipvsadm -Ln` and `ip addr show DEV` print them.
 *
 * Models Linux's ip_vs with the NAT ("Masq") forwarding method and conntrack=1, the way a
 * service proxy drives it: a table (IpvsTable) is the configuration one sync wants, attached to
 * the NfRuleset of that sync (ipvs_ruleset_attach(), like nft_ruleset_attach()); the host keeps
 * an IpvsState that outlives tables, keyed as the kernel keys services (protocol, address, port)
 * and destinations (address, port), so re-adding the same service keeps its scheduler position
 * and its connection counts, and a destination that a new table leaves out stays, with weight 0,
 * until its connections end when the table asks for graceful removal. The kernel's list order
 * is kept: a new destination goes to the head of its service's list (list_add_rcu()), which is
 * the order rr, wrr, lc and the hash schedulers walk.
 *
 * Evaluation: nf_path_new_connection() (nf_eval.h) adds an IPVS step after filter INPUT for a
 * packet to a virtual service and forks one branch per usable real server; a host
 * (sim_host_enable_ipvs(), net.h) schedules new connections with its IpvsState, DNATs them
 * through their conntrack entry and sends them on through filter OUTPUT and nat POSTROUTING,
 * as ip_vs_nat_xmit() does. Left out: fwmark services, the Route/Tunnel/Local forwarding
 * methods, upper/lower connection thresholds (no destination is ever overloaded unless a test
 * says so), one-packet scheduling, the mh scheduler (refused), sync daemons, statistics other
 * than ActiveConn/InActConn, and the per-packet IPVS NAT (conntrack does the translation, see
 * net_host.c).
 */
#ifndef KPSIM_SIM_IPVS_H
#define KPSIM_SIM_IPVS_H

#include <glib.h>

#include "sim/conntrack.h"
#include "sim/nf_eval.h"
#include "sim/netfilter.h"
#include "sim/sim_addr.h"
#include "sim/sim_packet.h"
#include "sim/sim_time.h"

typedef struct IpvsTable IpvsTable;
typedef struct IpvsService IpvsService;
typedef struct IpvsState IpvsState;

#define IPVS_ERROR (ipvs_error_quark())
GQuark ipvs_error_quark(void);
typedef enum {
    IPVS_ERROR_INVALID,     /* a bad protocol, family, port, weight or scheduler */
    IPVS_ERROR_EXISTS,      /* the service or destination exists already ("File exists") */
    IPVS_ERROR_UNSUPPORTED, /* a scheduler this model does not implement (mh) */
} IpvsError;

/* The schedulers, named as ipvsadm names them. */
typedef enum {
    IPVS_SCHED_RR,
    IPVS_SCHED_WRR,
    IPVS_SCHED_LC,
    IPVS_SCHED_WLC,
    IPVS_SCHED_LBLC,
    IPVS_SCHED_LBLCR,
    IPVS_SCHED_DH,
    IPVS_SCHED_SH,
    IPVS_SCHED_SED,
    IPVS_SCHED_NQ,
} IpvsSched;

/* Service flags (IP_VS_SVC_F_*, at the kernel's values). */
#define IPVS_SVC_PERSISTENT 0x0001u  /* persistence ("persistent N" in ipvsadm -Ln) */
#define IPVS_SVC_HASHED 0x0002u      /* set by every service add; not printed */
#define IPVS_SVC_SH_FALLBACK 0x0008u /* IP_VS_SVC_F_SCHED1: sh skips unavailable dests */
#define IPVS_SVC_SH_PORT 0x0010u     /* IP_VS_SVC_F_SCHED2: sh hashes the source port too */

/* What ipvsadm -A takes. */
typedef struct {
    guint8 proto;    /* SIM_PROTO_TCP, _UDP or _SCTP */
    SimSockAddr vip; /* the virtual address and port */
    IpvsSched sched;
    guint32 flags;      /* IPVS_SVC_* */
    guint32 timeout;    /* persistence timeout in seconds (with IPVS_SVC_PERSISTENT) */
    guint8 netmask_len; /* persistence netmask as a prefix length; 0 = /32 (IPv6 /128) */
} IpvsServiceSpec;

/* The scheduler name ("rr"). */
const char *ipvs_sched_name(IpvsSched s);
/* Parses a scheduler name as kube-proxy's --ipvs-scheduler takes it ("" means rr). "mh" fails
 * with IPVS_ERROR_UNSUPPORTED (not modelled), unknown names with IPVS_ERROR_INVALID. */
gboolean ipvs_sched_parse(const char *name, IpvsSched *out, GError **error);

/* ------------------------------------------------------------------ tables */

/* An empty table for family (SIM_AF_INET or SIM_AF_INET6), graceful removal off. (transfer
 * full) */
IpvsTable *ipvs_table_new(SimFamily family);
void ipvs_table_free(IpvsTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IpvsTable, ipvs_table_free)
SimFamily ipvs_table_family(const IpvsTable *t);

/* Adds a virtual service (ipvsadm -A). Fails with IPVS_ERROR_EXISTS for a (proto, vip) already
 * there, IPVS_ERROR_INVALID for another family, protocol or a zero port. (transfer none) */
IpvsService *ipvs_table_add_service(IpvsTable *t, const IpvsServiceSpec *spec, GError **error);
/* The service for (proto, vip), or NULL. One hash lookup. (transfer none) */
IpvsService *ipvs_table_lookup(const IpvsTable *t, guint8 proto, const SimSockAddr *vip);
/* The number of services. */
guint ipvs_table_service_count(const IpvsTable *t);
/* The i-th service in the order added. (transfer none) */
const IpvsService *ipvs_table_service(const IpvsTable *t, guint i);

/* Adds a real server with the Masq forwarding method (ipvsadm -a -m -w WEIGHT). It goes to the
 * head of the service's list, as in the kernel. Fails with IPVS_ERROR_EXISTS for an address and
 * port already there, IPVS_ERROR_INVALID for another family or a weight above 65535. */
gboolean ipvs_service_add_dest(IpvsService *svc, const SimSockAddr *addr, guint32 weight,
                               GError **error);
/* The service's settings. (transfer none) */
const IpvsServiceSpec *ipvs_service_spec(const IpvsService *svc);
/* The number of real servers. */
guint ipvs_service_dest_count(const IpvsService *svc);
/* The i-th real server in the kernel's list order (newest first): its address and weight. */
void ipvs_service_dest(const IpvsService *svc, guint i, SimSockAddr *addr, guint32 *weight);

/* Binds addr to the table's dummy interface (kube-ipvs0): a host running a ruleset that
 * carries this table treats addr as local. Adding an address twice is harmless. */
void ipvs_table_add_local_addr(IpvsTable *t, const SimAddr *addr);
/* Whether addr is bound to the dummy interface. One hash lookup; FALSE for a NULL table. */
gboolean ipvs_table_is_local(const IpvsTable *t, const SimAddr *addr);
/* Graceful removal (kube-proxy's graceful termination): destinations that this table no
 * longer lists but that still have connections stay in the host's state with weight 0 until
 * their connections are gone, instead of being deleted at once. */
void ipvs_table_set_graceful(IpvsTable *t, gboolean graceful);

/* Gives t to rs (transfer full); rs must have no table yet. */
void ipvs_ruleset_attach(NfRuleset *rs, IpvsTable *t);
/* The table attached to rs, or NULL. (transfer none) */
const IpvsTable *ipvs_ruleset_table(const NfRuleset *rs);

/* ------------------------------------------------------------------ printing */

/* Appends the table as `ipvsadm -Ln` prints it: the three header lines
 *   IP Virtual Server version 1.2.1 (size=4096)
 *   Prot LocalAddress:Port Scheduler Flags
 *     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
 * then each service ("TCP  10.96.0.1:443 rr" [" persistent 10800" [" mask M"]]
 * [" sh-fallback,sh-port"]), sorted by protocol number, address and port, each followed by its
 * real servers sorted by address and port, printed with ipvsadm's "  -> %-28s %-7s %-6d %-10u
 * %-10u" (IPv6 addresses in brackets). state (nullable) supplies the weights and connection
 * counts the host holds now, including destinations kept for graceful removal; without it the
 * table's weights and zero counts are printed. ipvsadm compares addresses with a signed
 * difference that wraps above 2^31 apart; this printer sorts by the intended unsigned order. */
void ipvs_table_list(const IpvsTable *t, const IpvsState *state, GString *out);
/* Appends the dummy interface as `ip addr show IFNAME` prints it (interface number ifindex,
 * state DOWN, NOARP, qlen 1000 as dummy devices have since Linux 4.7, a MAC derived from the
 * name, every address as "inet A/32 scope global IFNAME" / "inet6 A/128 scope global", in the
 * order added). */
void ipvs_table_list_addrs(const IpvsTable *t, const char *ifname, guint ifindex, GString *out);
/* Appends what an IPVS step (st->ipvs_service set) did, in ipvsadm's terms:
 * "IPVS TCP 10.96.45.10:80 rr -> 10.244.1.5:80 Masq (1 of 2)" followed by how the scheduler
 * really chooses (rr: "; each new connection takes the next real server"), or
 * "IPVS TCP 10.96.45.10:80 rr: no real server: ICMP port unreachable (ip_vs_leave)". Appends
 * nothing for other steps. */
void ipvs_step_describe(const NfStep *st, GString *out);

/* ------------------------------------------------------------------ schedulers */

/* A destination as a scheduler sees it. */
typedef struct {
    guint32 weight;
    guint32 active;      /* activeconns */
    guint32 inactive;    /* inactconns */
    gboolean overloaded; /* IP_VS_DEST_F_OVERLOAD */
} IpvsSchedDest;

#define IPVS_SH_TAB_SIZE 256 /* sh and dh buckets (IP_VS_SH_TAB_BITS 8) */

/* A service's scheduler data (svc->sched_data), a plain value. Initialise with
 * ipvs_sched_state_init(); call ipvs_sched_dests_changed() after every change of the
 * destination list or weights (the kernel's add_dest / del_dest / upd_dest callbacks). */
typedef struct {
    gint cl;         /* rr, wrr: index of the last chosen destination; -1 = the list head */
    gint cw, mw, di; /* wrr: current weight, max weight - (gcd - 1), gcd */
    gint assigned;   /* lblc / lblcr: the destination assigned to the service's address, or -1 */
    gboolean tab_valid;
    guint16 tab[IPVS_SH_TAB_SIZE]; /* sh, dh: destination index per bucket; G_MAXUINT16 none */
} IpvsSchedState;

/* Sets st up for sched over the n destinations d (init_service). */
void ipvs_sched_state_init(IpvsSchedState *st, IpvsSched sched, const IpvsSchedDest *d, guint n);
/* Tells st that destination removed (an index before the change, -1 when none was removed)
 * left the list, or that weights or the list changed otherwise (inserted TRUE when a
 * destination was put at the head), and refreshes what the scheduler derives from the list. */
void ipvs_sched_dests_changed(IpvsSchedState *st, IpvsSched sched, const IpvsSchedDest *d, guint n,
                              gint removed, gboolean inserted);
/* Chooses a destination for the first packet pkt of a new connection as the kernel's
 * scheduler sched does, updating st (rr/wrr position, lblc assignment); flags are the service's
 * (sh-fallback, sh-port). Returns the index in d, or -1 when none is available ("no destination
 * available"). O(n) at most; sh/dh O(1) once their table is built. */
gint ipvs_sched_pick(IpvsSchedState *st, IpvsSched sched, guint32 flags, const IpvsSchedDest *d,
                     guint n, const SimPacket *pkt);

/* ------------------------------------------------------------------ a host's run-time state */

/* IPVS timeouts (ipvsadm --set TCP TCPFIN UDP), the kernel's defaults 900 s, 120 s, 300 s. */
typedef struct {
    SimTime tcp;    /* ESTABLISHED */
    SimTime tcpfin; /* FIN_WAIT (after a FIN) */
    SimTime udp;
} IpvsConfig;

/* Fills c with the kernel's defaults. */
void ipvs_config_init(IpvsConfig *c);

/* A host's IPVS state with config c (copied), holding no service yet. (transfer full) */
IpvsState *ipvs_state_new(const IpvsConfig *c);
void ipvs_state_free(IpvsState *st);
/* The state's configuration. (transfer none) */
const IpvsConfig *ipvs_state_config(const IpvsState *st);
/* The host's conntrack table (borrowed, nullable): the state reads its entries' last packet
 * times (ct_entry_last_seen()) to apply IPVS's idle timeouts. */
void ipvs_state_set_conntrack(IpvsState *st, const CtTable *ct);
/* Makes t (nullable: none) the configuration: services and destinations are matched by key,
 * keep their counters and scheduler data, get t's weights and schedulers; new destinations go
 * to the head of their service's list; destinations t leaves out are deleted, or with t's
 * graceful removal kept with weight 0 while they have connections. Services t leaves out stop
 * accepting new connections. Cost: proportional to t's size when t differs from the previous
 * table, O(1) when it is the same. */
void ipvs_state_sync(IpvsState *st, const IpvsTable *t, SimTime now);

/* What a scheduling decision gives the host for its new connection. */
typedef struct {
    SimSockAddr to; /* the chosen real server */
    gpointer dest;  /* (transfer none) the state's destination record */
    gpointer tmpl;  /* (transfer none, nullable) the persistence template used */
} IpvsPick;

/* Schedules the first packet pkt of a new connection to service svc of the current table at
 * now (persistence first: a live template for the client's masked address sends it to the
 * template's destination, even one with weight 0, as with expire_quiescent_template=0).
 * Returns FALSE when no destination is available: the kernel's ip_vs_leave() then answers with
 * ICMP port unreachable, TCP included ("the TCP RST packet cannot be sent, instead that
 * ICMP_PORT_UNREACH is sent here no matter it is TCP/UDP"). */
gboolean ipvs_state_schedule(IpvsState *st, const IpvsService *svc, const SimPacket *pkt,
                             SimTime now, IpvsPick *out);
/* Starts accounting the confirmed connection e for pick: InActConn until its TCP state is
 * ESTABLISHED, ActiveConn while it is, InActConn again while closing (UDP and SCTP always
 * InActConn). It ends when it has been idle for IPVS's timeout of its state - tcp for
 * ESTABLISHED, tcpfin for FIN_WAIT, udp for UDP, the kernel's fixed values for the other TCP
 * states (TIME_WAIT 2 min, CLOSE 10 s, ...) - idleness measured from e's last packet while e
 * lives and from its last one after e is gone (so UDP's 300 s outlive conntrack's 30 s).
 * Requires the host's conntrack table to report to ipvs_state_ct_event() and to be given with
 * ipvs_state_set_conntrack(). */
void ipvs_state_conn_start(IpvsState *st, const IpvsPick *pick, CtEntry *e, SimTime now);
/* The conntrack observer the host installs (ct_table_set_observer()): e changed state, or is
 * being released (dying). data is the IpvsState. */
void ipvs_state_ct_event(CtEntry *e, gboolean dying, SimTime now, gpointer data);
/* Ends connections whose IPVS timeout passed by now. Amortised O(1) per connection. */
void ipvs_state_expire(IpvsState *st, SimTime now);
/* The host's counts for real server rs of service (proto, vip): FALSE when the state has no
 * such destination. Any pointer may be NULL. */
gboolean ipvs_state_dest_counts(const IpvsState *st, guint8 proto, const SimSockAddr *vip,
                                const SimSockAddr *rs, guint32 *weight, guint32 *active,
                                guint32 *inactive);
/* The number of connections the state accounts (all services). */
guint ipvs_state_conn_count(const IpvsState *st);

#endif
