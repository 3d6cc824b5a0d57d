/* SPDX-License-Identifier: Apache-2.0 */
/* One host's packet path: conntrack, the netfilter hooks, NAT, routing, forwarding and local
 * delivery, as the Linux IPv4/IPv6 stack runs them.
 *
 * Models ip_rcv / ip_forward / ip_local_deliver / ip_local_out / ip_output with their
 * NF_INET_* hooks at the kernel's priorities: conntrack first (PRE_ROUTING, LOCAL_OUT), then
 * nat's destination manipulation, filter, nat's source manipulation (POST_ROUTING, LOCAL_IN)
 * and confirmation last. The nat table only sees the first packet of a connection; every later
 * packet is translated from its conntrack entry. ICMP errors are RELATED to the connection of
 * the datagram they quote and are translated as nf_nat_icmp_reply_translation() does, inside
 * and out. REJECT and unanswered packets produce a TCP RST or an ICMP error the way
 * nf_send_reset() / icmp_send() do, ICMP errors rate-limited per destination like
 * inet_peer_xrlim_allow() (a burst of 6, then one per second). The nat and filter rules see a
 * single-choice environment: statistic matches draw from the host's "statistic" stream, recent
 * matches read a per-host xt_recent table (100 addresses per list, least recently set evicted,
 * as ip_list_tot). Conntrack's garbage collector runs a few slots per new connection. Left out:
 * the mangle and raw tables, policy routing, rp_filter, ICMP redirects, time-exceeded and the
 * net/host unreachable a router sends for a packet it cannot route (such packets are dropped
 * silently as "no-route"), the global ICMP rate limit, IP options.
 *
 * Cost: per packet one conntrack lookup, a route lookup, a few address compares, and the filter
 * table's outcome taken from a memo (see below) once a connection is known; the nat table and a
 * first filter evaluation only for a connection's first packet on each host. Nothing here
 * allocates per packet once warm.
 */
#include "sim/net_private.h"

#include "sim/sim_wire.h"

#include <string.h>

/* Conntrack slots the reaper examines before each new connection: garbage is collected four
 * times faster than connections are created, so expired entries do not pile up. */
#define NET_CT_REAP_BUDGET 4
/* xt_recent's ip_list_tot: addresses remembered per list. */
#define RECENT_LIST_MAX 100
/* icmp_ratelimit (ms) and XRLIM_BURST_FACTOR. */
#define ICMP_RATE_INTERVAL SIM_SEC
#define ICMP_RATE_BURST 6

/* One packet on its way through a host. */
typedef struct {
    SimHost *h;
    NetPkt *np;
    const SimIface *iif;  /* (nullable) NULL for locally generated packets */
    const NfRuleset *rs;  /* the ruleset for the packet's family, or NULL */
    CtEntry *e;           /* (nullable) the packet's connection */
    CtDir dir;
    gboolean fresh;       /* e is this packet's unconfirmed new entry */
    gboolean related;     /* the packet is an ICMP error RELATED to e */
    guint32 ctstate;      /* NF_CT_* bits for the conntrack match */
    const IpvsService *ipvs; /* (nullable) the virtual service IPVS scheduled the packet for */
} Path;

/* ------------------------------------------------------------------ xt_recent */

typedef struct {
    SimAddr addr;
    SimTime last; /* the latest --set */
    GList link;   /* in RecentList.lru, data = this entry */
} RecentEntry;

typedef struct {
    GHashTable *by_addr; /* SimAddr* (the entry's) -> RecentEntry*, owned */
    GQueue lru;          /* least recently set first */
} RecentList;

/* Releases a list and its entries. */
static void
recent_list_free(gpointer p)
{
    RecentList *l = p;
    g_hash_table_unref(l->by_addr);
    g_free(l);
}

void
net_host_tables_free(SimHost *h)
{
    g_free(h->memo);
    if (h->recent != NULL)
        g_hash_table_unref(h->recent);
    if (h->icmp_peers != NULL)
        g_hash_table_unref(h->icmp_peers);
}

/* Removes e from l. */
static void
recent_remove(RecentList *l, RecentEntry *e)
{
    g_queue_unlink(&l->lru, &e->link);
    g_hash_table_remove(l->by_addr, &e->addr); /* frees e */
}

/* recent --rcheck [--seconds S]: whether addr was --set in list within the last S seconds (ever
 * when 0). An entry found stale is removed, as --reap does; kube-proxy always passes --reap with
 * --seconds, and NfEnv does not say whether the rule had it. */
static NfChoice
env_recent_check(gpointer data, const char *list, const SimAddr *src, guint seconds)
{
    SimHost *h = data;
    RecentList *l = h->recent != NULL ? g_hash_table_lookup(h->recent, list) : NULL;
    RecentEntry *e = l != NULL ? g_hash_table_lookup(l->by_addr, src) : NULL;
    if (e == NULL)
        return NF_CHOICE_NO;
    SimTime now = sim_loop_now(h->net->loop);
    if (seconds == 0 || now - e->last <= (SimTime)seconds * SIM_SEC)
        return NF_CHOICE_YES;
    recent_remove(l, e);
    return NF_CHOICE_NO;
}

/* recent --set: records src in list now, evicting the least recently set address of a full
 * list. */
static void
env_recent_set(gpointer data, const char *list, const SimAddr *src)
{
    SimHost *h = data;
    if (h->recent == NULL)
        h->recent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, recent_list_free);
    RecentList *l = g_hash_table_lookup(h->recent, list);
    if (l == NULL) {
        l = g_new0(RecentList, 1);
        l->by_addr = g_hash_table_new_full(sim_addr_hash, sim_addr_equal_func, NULL, g_free);
        g_hash_table_insert(h->recent, g_strdup(list), l);
    }
    RecentEntry *e = g_hash_table_lookup(l->by_addr, src);
    if (e != NULL) {
        g_queue_unlink(&l->lru, &e->link);
    } else {
        if (g_hash_table_size(l->by_addr) >= RECENT_LIST_MAX)
            recent_remove(l, g_queue_peek_head(&l->lru));
        e = g_new0(RecentEntry, 1);
        e->addr = *src;
        e->link.data = e;
        g_hash_table_insert(l->by_addr, &e->addr, e);
    }
    e->last = sim_loop_now(h->net->loop);
    g_queue_push_tail_link(&l->lru, &e->link);
}

/* ------------------------------------------------------------------ the rules' environment */

/* addrtype LOCAL. */
static gboolean
env_is_local(gpointer data, const SimAddr *addr)
{
    return sim_host_is_local(data, addr);
}

/* statistic --mode random: one draw, as (prandom_u32() & 0x7fffffff) < probability. */
static NfChoice
env_statistic(gpointer data, guint32 probability)
{
    SimHost *h = data;
    return sim_rng_u31(&h->rng_statistic) < probability ? NF_CHOICE_YES : NF_CHOICE_NO;
}

void
net_host_env_init(SimHost *h)
{
    h->env = (NfEnv){.data = h,
                     .is_local = env_is_local,
                     .statistic = env_statistic,
                     .recent_check = env_recent_check,
                     .recent_set = env_recent_set,
                     .no_steps = TRUE};
}

/* ------------------------------------------------------------------ small helpers */

void
net_host_drop(SimHost *h, SimDropReason why)
{
    h->stats.drops[why]++;
}

/* Whether pkt is an ICMP or ICMPv6 error (the only ICMP the simulator sends). */
static gboolean
pkt_is_icmp(const SimPacket *pkt)
{
    return pkt->proto == SIM_PROTO_ICMP || pkt->proto == SIM_PROTO_ICMPV6;
}

/* The ruleset h runs for packets of pkt's family, or NULL. */
static const NfRuleset *
host_ruleset(const SimHost *h, const SimPacket *pkt)
{
    if (h->ct == NULL || h->rs == NULL || nf_ruleset_family(h->rs) != pkt->src.addr.family)
        return NULL;
    return h->rs;
}

/* The conntrack match's SNAT / DNAT bits for e. */
static guint32
ct_nat_bits(const CtEntry *e)
{
    guint32 st = ct_entry_status(e);
    return ((st & IPS_SRC_NAT) ? NF_CT_SNAT : 0) | ((st & IPS_DST_NAT) ? NF_CT_DNAT : 0);
}

/* nf_nat_icmp_reply_translation(): translates an ICMP error RELATED to e travelling in dir at
 * manip - the quoted datagram gets the inverse manipulation, the outer header the same one as
 * any packet of dir (addresses only). */
static void
icmp_translate(const CtEntry *e, CtDir dir, CtManip manip, SimPacket *pkt)
{
    guint32 bit = manip == CT_MANIP_SRC ? IPS_SRC_NAT : IPS_DST_NAT;
    if (dir == CT_DIR_REPLY)
        bit ^= IPS_SRC_NAT | IPS_DST_NAT;
    if (!(ct_entry_status(e) & bit))
        return;
    const CtTuple *t = ct_entry_tuple(e, dir == CT_DIR_ORIGINAL ? CT_DIR_REPLY : CT_DIR_ORIGINAL);
    SimPacketQuote *q = &pkt->quote;
    switch (manip) {
    case CT_MANIP_SRC:
        q->dst.addr = t->dst;
        q->dst.port = t->dport;
        pkt->src.addr = t->dst;
        break;
    case CT_MANIP_DST:
        q->src.addr = t->src;
        q->src.port = t->sport;
        pkt->dst.addr = t->src;
        break;
    }
}

/* Applies the path's connection's translation at manip, if it has one. */
static void
path_manip(Path *p, CtManip manip)
{
    if (p->e == NULL)
        return;
    if (p->related)
        icmp_translate(p->e, p->dir, manip, &p->np->pkt);
    else
        ct_nat_packet(p->e, p->dir, manip, &p->np->pkt);
}

/* Drops the path's packet for why, releasing an unconfirmed entry. */
static void
path_drop(Path *p, SimDropReason why)
{
    if (p->fresh)
        ct_abort(p->h->ct, p->e);
    p->fresh = FALSE;
    p->e = NULL;
    net_host_drop(p->h, why);
    net_pkt_free(p->h->net, p->np);
    p->np = NULL;
}

/* Runs table's chain at hook over the path's packet with the host's single-choice environment
 * and returns the one resulting branch (transfer none: valid until the next evaluation on this
 * net). Counts the rules of a new connection's packet. */
static const NfBranch *
path_eval(Path *p, NfTableId table, NfHook hook, const char *iif, const char *oif)
{
    SimNet *net = p->h->net;
    NfBranch *b = net->spare;
    GArray *steps = b->steps;
    memset(b, 0, sizeof *b);
    g_array_set_size(steps, 0);
    b->steps = steps;
    b->pkt = p->np->pkt;
    b->probability = 1.0;
    b->ipvs_service = p->ipvs;
    net->spare = NULL;
    g_ptr_array_add(net->branches, b);
    nf_run_hook(p->rs, table, hook, net->branches, iif, oif, p->ctstate, &p->h->env);
    /* Every choice is made (never NF_CHOICE_BOTH), so the walk never forks. */
    g_assert(net->branches->len == 1);
    net->spare = g_ptr_array_steal_index(net->branches, 0);
    if (p->fresh)
        p->h->stats.rules_evaluated += net->spare->rules_evaluated;
    return net->spare;
}

/* ------------------------------------------------------------------ the filter verdict memo */

/* The filter table runs for every packet, but for a packet of a known connection its outcome
 * only depends on what nf_run_hook() reads - the ruleset, the hook, addresses, ports, protocol,
 * mark, interfaces, ctstate and which addresses are local - as long as the table has no random
 * match (statistic, recent). Such outcomes are remembered in a small direct-mapped table per
 * host that grows with the number of flows it sees, so a busy node evaluates its filter rules
 * about once per connection and direction. A connection's first packet is always evaluated: its
 * rules are counted (rules_evaluated). */

#define MEMO_MIN_SLOTS 16
#define MEMO_MAX_SLOTS 4096

struct FilterMemo {
    SimSockAddr src, dst;
    guint32 mark;
    guint32 gen; /* 0: empty */
    guint32 ctstate;
    guint16 iif, oif; /* ifindex, 0: none */
    guint8 proto;
    guint8 hook;
    guint8 verdict;      /* the outcome: NfVerdict, */
    guint32 mark_out;    /* the mark after the table, */
    const char *reject_with; /* and REJECT's type */
};

void
net_host_memo_invalidate(SimHost *h)
{
    h->memo_pure = -1;
    if (++h->memo_gen != 0)
        return;
    if (h->memo != NULL) /* the generation wrapped: old memos could look valid again */
        memset(h->memo, 0, (h->memo_mask + 1) * sizeof(FilterMemo));
    h->memo_gen = 1;
}

/* Whether the filter table of rs is a pure function of the packet (no statistic or recent
 * match). Cost: printing the filter table once per ruleset generation. */
static gboolean
memo_table_pure(const NfRuleset *rs)
{
    g_autoptr(GString) text = g_string_new(NULL);
    nf_ruleset_save(rs, NF_TABLE_FILTER, text);
    return strstr(text->str, "-m statistic") == NULL && strstr(text->str, "-m recent") == NULL;
}

/* Whether filter outcomes of the path's packet may be remembered. */
static gboolean
memo_usable(Path *p)
{
    SimHost *h = p->h;
    if (p->fresh || p->rs == NULL)
        return FALSE;
    guint rules = nf_ruleset_rule_count(p->rs, NF_TABLE_FILTER);
    if (rules != h->memo_rules) { /* rules were appended in place */
        net_host_memo_invalidate(h);
        h->memo_rules = rules;
    }
    if (h->memo_pure < 0)
        h->memo_pure = memo_table_pure(p->rs) ? 1 : 0;
    return h->memo_pure == 1;
}

/* Mixes 16 address bytes into h. */
static inline guint64
memo_mix_addr(guint64 h, const SimAddr *a)
{
    guint64 w[2];
    memcpy(w, a->b, sizeof w);
    h = (h ^ w[0]) * 0x9e3779b97f4a7c15ull;
    h = (h ^ w[1] ^ a->family) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

/* Fills m's key for the path's packet at hook between iif and oif. */
static void
memo_key(const Path *p, NfHook hook, const SimIface *iif, const SimIface *oif, FilterMemo *m)
{
    const SimPacket *pkt = &p->np->pkt;
    m->src = pkt->src;
    m->dst = pkt->dst;
    m->mark = pkt->mark;
    m->ctstate = p->ctstate;
    m->iif = iif != NULL ? (guint16)iif->ifindex : 0;
    m->oif = oif != NULL ? (guint16)oif->ifindex : 0;
    m->proto = pkt->proto;
    m->hook = (guint8)hook;
}

/* Whether memo a holds the same inputs as key k. */
static gboolean
memo_key_equal(const FilterMemo *a, const FilterMemo *k)
{
    return a->src.port == k->src.port && a->dst.port == k->dst.port && a->proto == k->proto &&
           a->hook == k->hook && a->mark == k->mark && a->ctstate == k->ctstate &&
           a->iif == k->iif && a->oif == k->oif && net_addr_equal(&a->src.addr, &k->src.addr) &&
           net_addr_equal(&a->dst.addr, &k->dst.addr);
}

/* The slot of key k in h's memo table (allocated on first use). */
static FilterMemo *
memo_slot(SimHost *h, const FilterMemo *k)
{
    if (h->memo == NULL) {
        h->memo = g_new0(FilterMemo, MEMO_MIN_SLOTS);
        h->memo_mask = MEMO_MIN_SLOTS - 1;
    }
    guint64 x = memo_mix_addr(0x243f6a8885a308d3ull, &k->src.addr);
    x = memo_mix_addr(x, &k->dst.addr);
    x ^= ((guint64)k->src.port << 48) | ((guint64)k->dst.port << 32) |
         ((guint64)k->proto << 24) | ((guint64)k->hook << 16) | ((guint64)k->iif << 8) | k->oif;
    x = (x ^ k->mark ^ ((guint64)k->ctstate << 40)) * 0xc4ceb9fe1a85ec53ull;
    return &h->memo[(guint32)(x ^ (x >> 32)) & h->memo_mask];
}

/* Remembers outcome m (key and result) in slot, doubling the table when flows keep evicting
 * each other. */
static void
memo_store(SimHost *h, FilterMemo *slot, const FilterMemo *m)
{
    if (slot->gen == h->memo_gen && ++h->memo_evictions > h->memo_mask &&
        h->memo_mask + 1 < MEMO_MAX_SLOTS) {
        guint32 n = (h->memo_mask + 1) * 2;
        g_free(h->memo);
        h->memo = g_new0(FilterMemo, n); /* the old memos are simply forgotten */
        h->memo_mask = n - 1;
        h->memo_evictions = 0;
        slot = memo_slot(h, m);
    }
    *slot = *m;
    slot->gen = h->memo_gen;
}

/* ------------------------------------------------------------------ errors: RST and ICMP */

/* An ICMP error destination's token bucket (struct inet_peer's rate_tokens, rate_last). */
typedef struct {
    SimAddr addr;
    SimTime last;
    SimTime tokens;
} IcmpPeer;

/* inet_peer_xrlim_allow() with icmp_ratelimit 1 s: whether h may send an ICMP error to dst
 * now. A new peer starts with a full bucket of ICMP_RATE_BURST errors. */
static gboolean
icmp_rate_allow(SimHost *h, const SimAddr *dst)
{
    SimTime now = sim_loop_now(h->net->loop);
    if (h->icmp_peers == NULL)
        h->icmp_peers = g_hash_table_new_full(sim_addr_hash, sim_addr_equal_func, NULL, g_free);
    IcmpPeer *peer = g_hash_table_lookup(h->icmp_peers, dst);
    if (peer == NULL) {
        peer = g_new0(IcmpPeer, 1);
        peer->addr = *dst;
        peer->last = now - 60 * SIM_SEC; /* as inet_getpeer(): the first burst is full */
        g_hash_table_insert(h->icmp_peers, &peer->addr, peer);
    }
    SimTime tokens = peer->tokens + (now - peer->last);
    peer->last = now;
    tokens = MIN(tokens, ICMP_RATE_BURST * ICMP_RATE_INTERVAL);
    gboolean ok = tokens >= ICMP_RATE_INTERVAL;
    if (ok)
        tokens -= ICMP_RATE_INTERVAL;
    peer->tokens = tokens;
    return ok;
}

/* Builds the RST answering TCP packet pkt (nf_send_reset(), tcp_v4_send_reset()). */
static void
build_rst(const SimPacket *pkt, SimPacket *r)
{
    r->src = pkt->dst;
    r->dst = pkt->src;
    r->proto = SIM_PROTO_TCP;
    if (pkt->tcp_flags & SIM_TCP_ACK) {
        r->seq = pkt->ack;
        r->tcp_flags = SIM_TCP_RST;
    } else {
        r->ack = pkt->seq + pkt->payload + ((pkt->tcp_flags & SIM_TCP_SYN) ? 1 : 0) +
                 ((pkt->tcp_flags & SIM_TCP_FIN) ? 1 : 0);
        r->tcp_flags = SIM_TCP_RST | SIM_TCP_ACK;
    }
}

/* Builds the ICMP error of type/code answering pkt at h (icmp_send()): from pkt's destination
 * when h owns it, else from h's address toward pkt's source. FALSE when h has no address to
 * send it from. */
static gboolean
build_icmp(SimHost *h, const SimPacket *pkt, guint8 type, guint8 code, SimPacket *r)
{
    gboolean v4 = pkt->src.addr.family == SIM_AF_INET;
    r->proto = v4 ? SIM_PROTO_ICMP : SIM_PROTO_ICMPV6;
    r->icmp_type = type;
    r->icmp_code = code;
    r->dst.addr = pkt->src.addr;
    if (sim_host_is_local(h, &pkt->dst.addr)) {
        r->src.addr = pkt->dst.addr;
    } else {
        const HostRoute *route = net_route_lookup(h, &pkt->src.addr);
        if (!net_iface_source(h, route != NULL ? route->iface : NULL, pkt->src.addr.family,
                              &r->src.addr))
            return FALSE;
    }
    r->quote = (SimPacketQuote){.src = pkt->src,
                                .dst = pkt->dst,
                                .proto = pkt->proto,
                                .ttl = pkt->ttl,
                                .ip_id = pkt->ip_id,
                                .length = (guint16)MIN(pkt->length, G_MAXUINT16),
                                .seq = pkt->seq};
    return TRUE;
}

void
net_host_send_error(SimHost *h, const SimPacket *pkt, gboolean rst, guint8 icmp_type,
                    guint8 icmp_code, CtEntry *e, CtDir dir)
{
    if (pkt_is_icmp(pkt) || (pkt->proto == SIM_PROTO_TCP && (pkt->tcp_flags & SIM_TCP_RST)))
        return; /* never answer an error with an error */
    if (rst && pkt->proto != SIM_PROTO_TCP)
        return;
    if (!rst && !sim_host_is_local(h, &pkt->src.addr) && !icmp_rate_allow(h, &pkt->src.addr))
        return;
    NetPkt *np = net_pkt_alloc(h->net);
    SimPacket *r = &np->pkt;
    if (rst) {
        build_rst(pkt, r);
    } else if (!build_icmp(h, pkt, icmp_type, icmp_code, r)) {
        net_pkt_free(h->net, np);
        return;
    }
    if (e != NULL) {
        /* nf_ct_attach(): the answer is the RELATED reply of pkt's connection, translated
         * at once (the entry may be unconfirmed and about to go). */
        CtDir back = dir == CT_DIR_ORIGINAL ? CT_DIR_REPLY : CT_DIR_ORIGINAL;
        for (CtManip m = CT_MANIP_SRC; m <= CT_MANIP_DST; m++) {
            if (rst)
                ct_nat_packet(e, back, m, r);
            else
                icmp_translate(e, back, m, r);
        }
        np->ct_done = TRUE;
        np->ctstate = NF_CT_RELATED | ct_nat_bits(e);
    }
    net_host_output(h, np);
}

/* The answer REJECT --reject-with with (NULL: the default port unreachable) sends for family:
 * a RST, or an ICMP type and code. */
static void
reject_kind(const char *with, guint8 family, gboolean *rst, guint8 *type, guint8 *code)
{
    static const struct {
        const char *name;
        guint8 type, code;
    } kinds[] = {
        {"icmp-net-unreachable", SIM_ICMP_DEST_UNREACH, SIM_ICMP_NET_UNREACH},
        {"icmp-host-unreachable", SIM_ICMP_DEST_UNREACH, SIM_ICMP_HOST_UNREACH},
        {"icmp-port-unreachable", SIM_ICMP_DEST_UNREACH, SIM_ICMP_PORT_UNREACH},
        {"icmp-proto-unreachable", SIM_ICMP_DEST_UNREACH, SIM_ICMP_PROT_UNREACH},
        {"icmp-net-prohibited", SIM_ICMP_DEST_UNREACH, SIM_ICMP_NET_ANO},
        {"icmp-host-prohibited", SIM_ICMP_DEST_UNREACH, SIM_ICMP_HOST_ANO},
        {"icmp-admin-prohibited", SIM_ICMP_DEST_UNREACH, SIM_ICMP_PKT_FILTERED},
        {"icmp6-no-route", SIM_ICMPV6_DEST_UNREACH, SIM_ICMPV6_NOROUTE},
        {"icmp6-adm-prohibited", SIM_ICMPV6_DEST_UNREACH, SIM_ICMPV6_ADM_PROHIBITED},
        {"icmp6-addr-unreachable", SIM_ICMPV6_DEST_UNREACH, SIM_ICMPV6_ADDR_UNREACH},
        {"icmp6-port-unreachable", SIM_ICMPV6_DEST_UNREACH, SIM_ICMPV6_PORT_UNREACH},
        {"icmp6-policy-fail", SIM_ICMPV6_DEST_UNREACH, SIM_ICMPV6_POLICY_FAIL},
        {"icmp6-reject-route", SIM_ICMPV6_DEST_UNREACH, SIM_ICMPV6_REJECT_ROUTE},
    };
    *rst = with != NULL && strcmp(with, "tcp-reset") == 0;
    gboolean v4 = family == SIM_AF_INET;
    *type = v4 ? SIM_ICMP_DEST_UNREACH : SIM_ICMPV6_DEST_UNREACH;
    *code = v4 ? SIM_ICMP_PORT_UNREACH : SIM_ICMPV6_PORT_UNREACH;
    for (gsize i = 0; with != NULL && i < G_N_ELEMENTS(kinds); i++) {
        if (strcmp(with, kinds[i].name) == 0) {
            *type = kinds[i].type;
            *code = kinds[i].code;
        }
    }
}

/* ------------------------------------------------------------------ conntrack and the hooks */

/* An ICMP error meets conntrack: RELATED to the connection of the datagram it quotes, found by
 * that datagram's inverted tuple, or INVALID (no entry is ever created for an error). */
static void
path_conntrack_icmp(Path *p, SimTime now)
{
    const SimPacketQuote *q = &p->np->pkt.quote;
    CtTuple inner = {.src = q->dst.addr,
                     .dst = q->src.addr,
                     .sport = q->dst.port,
                     .dport = q->src.port,
                     .proto = q->proto};
    CtDir dir;
    CtEntry *e = ct_lookup(p->h->ct, &inner, now, &dir);
    if (e == NULL) {
        p->ctstate = NF_CT_INVALID;
        return;
    }
    p->e = e;
    p->dir = dir;
    p->related = TRUE;
    p->ctstate = NF_CT_RELATED | ct_nat_bits(e);
}

static gboolean path_conntrack_new(Path *p, NfHook hook, const char *iif, const char *oif,
                                   SimTime now);

/* The conntrack hook (PRE_ROUTING or LOCAL_OUT) and, for a connection's first packet, the nat
 * table's destination NAT at the same hook. Translates later packets at CT_MANIP_DST. Returns
 * FALSE when the packet was dropped (freed). */
static gboolean
path_conntrack(Path *p, NfHook hook, const char *iif, const char *oif)
{
    SimHost *h = p->h;
    SimPacket *pkt = &p->np->pkt;
    if (h->ct == NULL)
        return TRUE;
    if (p->np->ct_done) { /* looped back, or an answer the stack already translated */
        p->ctstate = p->np->ctstate;
        return TRUE;
    }
    SimTime now = sim_loop_now(h->net->loop);
    if (pkt_is_icmp(pkt)) {
        path_conntrack_icmp(p, now);
        path_manip(p, CT_MANIP_DST);
        return TRUE;
    }
    CtTuple tuple;
    ct_tuple_from_packet(pkt, &tuple);
    CtEntry *e = ct_lookup(h->ct, &tuple, now, &p->dir);
    if (e != NULL) {
        CtState st;
        switch (ct_packet(h->ct, e, p->dir, pkt, now, &st)) {
        case CT_PACKET_ACCEPT:
            p->e = e;
            p->ctstate = (st == CT_STATE_NEW ? NF_CT_NEW : NF_CT_ESTABLISHED) | ct_nat_bits(e);
            path_manip(p, CT_MANIP_DST);
            return TRUE;
        case CT_PACKET_INVALID:
            p->ctstate = NF_CT_INVALID;
            return TRUE;
        case CT_PACKET_REOPEN:
            break;
        }
    }
    return path_conntrack_new(p, hook, iif, oif, now);
}

/* The first packet of a connection: a new unconfirmed entry (the reaper runs a few steps
 * first), then the nat table's DNAT at hook. Returns FALSE when the packet was dropped. */
static gboolean
path_conntrack_new(Path *p, NfHook hook, const char *iif, const char *oif, SimTime now)
{
    SimHost *h = p->h;
    SimPacket *pkt = &p->np->pkt;
    CtEntry *e;
    ct_reap(h->ct, now, NET_CT_REAP_BUDGET);
    switch (ct_new(h->ct, pkt, now, &e)) {
    case CT_NEW_OK:
        break;
    case CT_NEW_INVALID:
        p->ctstate = NF_CT_INVALID;
        return TRUE;
    case CT_NEW_TABLE_FULL:
        path_drop(p, SIM_DROP_CT_FULL);
        return FALSE;
    }
    p->e = e;
    p->dir = CT_DIR_ORIGINAL;
    p->fresh = TRUE;
    p->ctstate = NF_CT_NEW;
    if (p->rs == NULL)
        return TRUE;
    const NfBranch *b = path_eval(p, NF_TABLE_NAT, hook, iif, oif);
    pkt->mark = b->pkt.mark;
    if (b->verdict == NF_VERDICT_DROP || b->verdict == NF_VERDICT_REJECT) {
        path_drop(p, SIM_DROP_NETFILTER);
        return FALSE;
    }
    if (b->dnat) {
        SimSockAddr to = b->pkt.dst;
        ct_setup_dnat(h->ct, e, &to);
        p->ctstate |= ct_nat_bits(e);
        ct_nat_packet(e, CT_DIR_ORIGINAL, CT_MANIP_DST, pkt);
    }
    return TRUE;
}

/* The filter table at hook, for a packet between iif and oif (each nullable), remembered for
 * later packets when that is sound. DROP drops (conntrack-invalid when conntrack had marked the
 * packet INVALID, the work of KUBE-FORWARD's rule); REJECT answers and drops. Returns FALSE
 * when the packet was dropped. */
static gboolean
path_filter(Path *p, NfHook hook, const SimIface *iif, const SimIface *oif)
{
    if (p->rs == NULL)
        return TRUE;
    FilterMemo m, *slot = NULL;
    if (memo_usable(p)) {
        memo_key(p, hook, iif, oif, &m);
        slot = memo_slot(p->h, &m);
    }
    if (slot != NULL && slot->gen == p->h->memo_gen && memo_key_equal(slot, &m)) {
        m = *slot;
    } else {
        const NfBranch *b = path_eval(p, NF_TABLE_FILTER, hook, iif != NULL ? iif->name : NULL,
                                      oif != NULL ? oif->name : NULL);
        if (slot == NULL)
            memo_key(p, hook, iif, oif, &m);
        m.verdict = (guint8)b->verdict;
        m.mark_out = b->pkt.mark;
        m.reject_with = b->reject_with;
        if (slot != NULL)
            memo_store(p->h, slot, &m);
    }
    p->np->pkt.mark = m.mark_out;
    switch ((NfVerdict)m.verdict) {
    case NF_VERDICT_NONE:
    case NF_VERDICT_ACCEPT:
        return TRUE;
    case NF_VERDICT_DROP:
        path_drop(p, p->ctstate == NF_CT_INVALID ? SIM_DROP_CT_INVALID : SIM_DROP_NETFILTER);
        return FALSE;
    case NF_VERDICT_REJECT: {
        gboolean rst;
        guint8 type, code;
        reject_kind(m.reject_with, p->np->pkt.src.addr.family, &rst, &type, &code);
        net_host_send_error(p->h, &p->np->pkt, rst, type, code, p->related ? NULL : p->e,
                            p->dir);
        path_drop(p, SIM_DROP_REJECT);
        return FALSE;
    }
    }
    return TRUE;
}

/* nat POSTROUTING for a new connection (MASQUERADE / SNAT), confirmation, then the source
 * translation. oif is the outgoing interface (NULL for lo). Returns FALSE when dropped. */
static gboolean
path_postrouting(Path *p, const SimIface *oif, const char *oif_name)
{
    SimHost *h = p->h;
    SimPacket *pkt = &p->np->pkt;
    if (p->fresh && p->rs != NULL) {
        const NfBranch *b = path_eval(p, NF_TABLE_NAT, NF_HOOK_POST_ROUTING, NULL, oif_name);
        pkt->mark = b->pkt.mark;
        if (b->verdict == NF_VERDICT_DROP || b->verdict == NF_VERDICT_REJECT) {
            path_drop(p, SIM_DROP_NETFILTER);
            return FALSE;
        }
        if (b->masquerade) {
            /* SNAT --to-source ADDR:PORT: the port is not honoured (ct_setup_snat() chooses
             * ports itself); kube-proxy only ever uses MASQUERADE. */
            SimAddr to = b->snat_to.addr;
            gboolean random_fully = b->random_fully;
            if (!b->snat && !net_iface_source(h, oif, pkt->src.addr.family, &to)) {
                path_drop(p, SIM_DROP_NETFILTER); /* MASQUERADE without an address: NF_DROP */
                return FALSE;
            }
            ct_setup_snat(h->ct, p->e, &to, random_fully, &h->rng_snat);
        }
    }
    if (p->fresh) {
        p->fresh = FALSE;
        if (!ct_confirm(h->ct, p->e, &h->rng_snat)) { /* releases the entry */
            p->e = NULL;
            path_drop(p, SIM_DROP_CT_INSERT);
            return FALSE;
        }
        h->stats.new_connections++;
    }
    path_manip(p, CT_MANIP_SRC);
    return TRUE;
}

/* ------------------------------------------------------------------ local delivery and forwarding */

/* ------------------------------------------------------------------ IPVS */

/* What IPVS did with a new connection's first packet. */
typedef enum {
    IPVS_PASS,  /* not addressed to a virtual service */
    IPVS_LOCAL, /* scheduled to a real server on this host: local delivery goes on */
    IPVS_TAKEN, /* scheduled and sent on, or refused; the packet is gone */
} IpvsOutcome;

/* The virtual service of the IPVS table of h's ruleset that the path's new connection is
 * addressed to, or NULL. IPVS schedules a TCP connection only on its SYN (tcp_conn_schedule()
 * without sloppy_tcp), UDP and SCTP on any packet. */
static const IpvsService *
path_ipvs_service(const Path *p)
{
    const SimPacket *pkt = &p->np->pkt;
    if (!p->fresh || p->h->ipvs == NULL || p->rs == NULL)
        return NULL;
    const IpvsTable *t = ipvs_ruleset_table(p->rs);
    if (t == NULL || (pkt->proto == SIM_PROTO_TCP &&
                      (pkt->tcp_flags & (SIM_TCP_SYN | SIM_TCP_RST | SIM_TCP_ACK)) != SIM_TCP_SYN))
        return NULL;
    return ipvs_table_lookup(t, pkt->proto, &pkt->dst);
}

/* Schedules the path's new connection to svc with h's IPVS state and DNATs it through its
 * conntrack entry (pick filled in). Without a usable real server answers as ip_vs_leave() does,
 * ICMP port unreachable whatever the protocol, and drops the packet: returns FALSE. */
static gboolean
path_ipvs_schedule(Path *p, const IpvsService *svc, IpvsPick *pick)
{
    SimHost *h = p->h;
    SimPacket *pkt = &p->np->pkt;
    if (!ipvs_state_schedule(h->ipvs, svc, pkt, sim_loop_now(h->net->loop), pick)) {
        gboolean v4 = pkt->src.addr.family == SIM_AF_INET;
        net_host_send_error(h, pkt, FALSE, v4 ? SIM_ICMP_DEST_UNREACH : SIM_ICMPV6_DEST_UNREACH,
                            v4 ? SIM_ICMP_PORT_UNREACH : SIM_ICMPV6_PORT_UNREACH, p->e, p->dir);
        path_drop(p, SIM_DROP_REJECT);
        return FALSE;
    }
    ct_setup_dnat(h->ct, p->e, &pick->to);
    p->ipvs = svc;
    p->ctstate |= ct_nat_bits(p->e);
    ct_nat_packet(p->e, CT_DIR_ORIGINAL, CT_MANIP_DST, pkt);
    return TRUE;
}

/* IPVS at LOCAL_IN (ip_vs_remote_request4: after filter INPUT, before nat INPUT) for a new
 * connection: scheduled to a real server elsewhere, the packet leaves as ip_vs_nat_xmit()
 * sends it - TTL decremented, the LOCAL_OUT hooks (filter OUTPUT), routing, nat POSTROUTING
 * (MASQUERADE by mark), confirmation - and the connection is accounted. */
static IpvsOutcome
path_ipvs_in(Path *p, IpvsPick *pick)
{
    const IpvsService *svc = path_ipvs_service(p);
    if (svc == NULL)
        return IPVS_PASS;
    if (!path_ipvs_schedule(p, svc, pick))
        return IPVS_TAKEN;
    SimHost *h = p->h;
    SimPacket *pkt = &p->np->pkt;
    if (sim_host_is_local(h, &pkt->dst.addr))
        return IPVS_LOCAL;
    const HostRoute *route = net_route_lookup(h, &pkt->dst.addr);
    if (route == NULL || pkt->ttl <= 1) {
        path_drop(p, SIM_DROP_NO_ROUTE);
        return IPVS_TAKEN;
    }
    pkt->ttl--;
    if (!path_filter(p, NF_HOOK_LOCAL_OUT, NULL, route->iface) ||
        !path_postrouting(p, route->iface, route->iface->name))
        return IPVS_TAKEN;
    ipvs_state_conn_start(h->ipvs, pick, p->e, sim_loop_now(h->net->loop));
    SimAddr hop = route->gateway.family != SIM_AF_NONE ? route->gateway : pkt->dst.addr;
    net_iface_transmit(route->iface, &hop, p->np);
    p->np = NULL;
    return IPVS_TAKEN;
}

/* IPVS at LOCAL_OUT (ip_vs_local_request4: after nat OUTPUT, before filter OUTPUT) for a host
 * process's new connection: schedules it and routes the packet again toward the real server
 * (*local and *route updated). Returns FALSE when the packet was dropped. */
static gboolean
path_ipvs_out(Path *p, IpvsPick *pick, gboolean *local, const HostRoute **route)
{
    const IpvsService *svc = path_ipvs_service(p);
    if (svc == NULL)
        return TRUE;
    if (!path_ipvs_schedule(p, svc, pick))
        return FALSE;
    const SimAddr *dst = &p->np->pkt.dst.addr;
    *local = sim_host_is_local(p->h, dst);
    *route = *local ? NULL : net_route_lookup(p->h, dst);
    if (!*local && *route == NULL) {
        path_drop(p, SIM_DROP_NO_ROUTE);
        return FALSE;
    }
    return TRUE;
}

/* LOCAL_IN: filter INPUT, IPVS, nat INPUT of a new connection (SNAT only), the source
 * translation, confirmation, then the socket layer. */
static void
path_local_in(Path *p)
{
    SimHost *h = p->h;
    const char *iif = p->iif->name;
    if (!path_filter(p, NF_HOOK_LOCAL_IN, p->iif, NULL))
        return;
    IpvsPick pick = {0};
    if (p->fresh && path_ipvs_in(p, &pick) == IPVS_TAKEN)
        return;
    if (p->fresh && p->rs != NULL) {
        const NfBranch *b = path_eval(p, NF_TABLE_NAT, NF_HOOK_LOCAL_IN, iif, NULL);
        p->np->pkt.mark = b->pkt.mark;
        if (b->snat)
            ct_setup_snat(h->ct, p->e, &b->snat_to.addr, b->random_fully, &h->rng_snat);
    }
    if (p->fresh) {
        p->fresh = FALSE;
        if (!ct_confirm(h->ct, p->e, &h->rng_snat)) {
            p->e = NULL;
            path_drop(p, SIM_DROP_CT_INSERT);
            return;
        }
        h->stats.new_connections++;
        if (pick.dest != NULL)
            ipvs_state_conn_start(h->ipvs, &pick, p->e, sim_loop_now(h->net->loop));
    }
    if (!p->np->ct_done)
        path_manip(p, CT_MANIP_SRC);
    net_socket_deliver(h, p->np);
}

/* See sim/net.h. */
void
sim_host_set_next_hop_func(SimHost *h, SimNextHopFunc func, gpointer data)
{
    g_return_if_fail(h != NULL);
    h->next_hop_func = func;
    h->next_hop_data = data;
}

/* The route h forwards pkt by: the host's next-hop selector's choice when it has one (the
 * route toward the chosen next hop, with that address as the next hop), else the table's
 * route toward the destination. NULL when there is none. */
static const HostRoute *
path_forward_route(SimHost *h, const SimPacket *pkt, SimAddr *hop)
{
    SimNextHopChoice c = SIM_NEXT_HOP_ROUTE;
    if (h->next_hop_func != NULL)
        c = h->next_hop_func(h, pkt, hop, h->next_hop_data);
    switch (c) {
    case SIM_NEXT_HOP_VIA:
        return net_route_lookup(h, hop);
    case SIM_NEXT_HOP_UNREACHABLE:
        return NULL;
    case SIM_NEXT_HOP_ROUTE:
        break;
    }
    const HostRoute *route = net_route_lookup(h, &pkt->dst.addr);
    if (route != NULL)
        *hop = route->gateway.family != SIM_AF_NONE ? route->gateway : pkt->dst.addr;
    return route;
}

/* FORWARD: route, TTL, filter FORWARD, POSTROUTING, out the interface toward the next hop. */
static void
path_forward(Path *p)
{
    SimHost *h = p->h;
    SimPacket *pkt = &p->np->pkt;
    SimAddr hop;
    const HostRoute *route = path_forward_route(h, pkt, &hop);
    if (route == NULL || pkt->ttl <= 1) {
        path_drop(p, SIM_DROP_NO_ROUTE);
        return;
    }
    pkt->ttl--;
    if (!path_filter(p, NF_HOOK_FORWARD, p->iif, route->iface))
        return;
    if (!path_postrouting(p, route->iface, route->iface->name))
        return;
    SimHost *to = net_iface_transmit(route->iface, &hop, p->np);
    p->np = NULL;
    if (to == NULL)
        return;
    h->stats.forwarded++;
    if (to->forwarding)
        h->stats.forwarded_to_hosts++;
}

void
net_host_receive(SimIface *iif, NetPkt *np)
{
    SimHost *h = iif->host;
    if (!h->up) {
        net_host_drop(h, SIM_DROP_HOST_DOWN);
        net_pkt_free(h->net, np);
        return;
    }
    if (iif->kind != IFACE_LOOPBACK)
        h->stats.rx_packets++;
    net_capture(h, iif, SIM_PCAP_HOST, np);
    Path p = {.h = h, .np = np, .iif = iif, .rs = host_ruleset(h, &np->pkt)};
    if (!path_conntrack(&p, NF_HOOK_PRE_ROUTING, iif->name, NULL))
        return;
    if (sim_host_is_local(h, &np->pkt.dst.addr))
        path_local_in(&p);
    else if (h->forwarding && iif->kind != IFACE_LOOPBACK)
        path_forward(&p);
    else
        path_drop(&p, SIM_DROP_NO_ROUTE);
}

/* ------------------------------------------------------------------ local output */

void
net_host_output(SimHost *h, NetPkt *np)
{
    SimPacket *pkt = &np->pkt;
    if (!h->up) {
        net_host_drop(h, SIM_DROP_HOST_DOWN);
        net_pkt_free(h->net, np);
        return;
    }
    if (pkt->ttl == 0)
        pkt->ttl = NET_DEFAULT_TTL;
    if (pkt->src.addr.family == SIM_AF_INET)
        pkt->ip_id = h->ip_id++;
    pkt->length = (guint32)sim_wire_length(pkt);
    Path p = {.h = h, .np = np, .rs = host_ruleset(h, pkt)};
    gboolean local = sim_host_is_local(h, &pkt->dst.addr);
    const HostRoute *route = local ? NULL : net_route_lookup(h, &pkt->dst.addr);
    if (!local && route == NULL) {
        path_drop(&p, SIM_DROP_NO_ROUTE);
        return;
    }
    const char *oif = local ? "lo" : route->iface->name;
    if (!path_conntrack(&p, NF_HOOK_LOCAL_OUT, NULL, oif))
        return;
    IpvsPick pick = {0};
    if (p.fresh && !path_ipvs_out(&p, &pick, &local, &route))
        return;
    if (!path_filter(&p, NF_HOOK_LOCAL_OUT, NULL,
                     local ? g_ptr_array_index(h->ifaces, 0) : route->iface))
        return;
    /* ip_route_me_harder(): a DNATed packet is routed again. */
    local = sim_host_is_local(h, &pkt->dst.addr);
    route = local ? NULL : net_route_lookup(h, &pkt->dst.addr);
    if (!local && route == NULL) {
        path_drop(&p, SIM_DROP_NO_ROUTE);
        return;
    }
    if (!path_postrouting(&p, local ? NULL : route->iface, local ? "lo" : route->iface->name))
        return;
    if (pick.dest != NULL)
        ipvs_state_conn_start(h->ipvs, &pick, p.e, sim_loop_now(h->net->loop));
    if (local) {
        np->ct_done = h->ct != NULL;
        np->ctstate = p.ctstate;
        net_loopback(h, np);
        return;
    }
    SimAddr hop = route->gateway.family != SIM_AF_NONE ? route->gateway : pkt->dst.addr;
    net_iface_transmit(route->iface, &hop, np);
}
