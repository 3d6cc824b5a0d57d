/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated network: hosts, their interfaces, addresses and routes, the links between them,
 * packets in flight and what tcpdump would capture.
 *
 * Models an L3 network as a routed cluster sees it: one shared segment (the "fabric") on which a
 * packet goes to whoever owns its next-hop address - a gateway, or the destination itself when
 * the route is on-link - after a propagation latency and a serialisation delay behind the
 * packets queued before it on the same interface (size * 8 / bandwidth, FIFO); and veth pairs,
 * which hand every packet to the other end after a fixed latency. Addresses resolve like ARP
 * that always succeeds and never costs time; an address nobody owns is "no route to host" at the
 * sender. Left out: MTU, fragmentation, queue limits and loss on links, ARP and neighbour
 * timeouts, multicast and broadcast, more than one fabric.
 *
 * Each delivery is one event of the loop; packets are pooled records, so a warm network sends
 * and delivers without allocating. Routes resolve through a hash table per host keyed by prefix
 * length and network, probed longest length first (nodes of a big cluster have one route per
 * other node, so neither adding nor looking up may walk them); fabric addresses resolve through
 * an open-addressing table. Captures serialise a packet only when its host captures.
 */
#include "sim/net_private.h"

#include "sim/sim_wire.h"

#include <string.h>

#define NET_PKT_CHUNK 256
/* Up to this many routes, an IPv4 lookup scans them instead of probing the index. */
#define NET_ROUTE_SCAN_MAX 6
/* TIME_WAIT: Linux keeps 60 s (TCP_TIMEWAIT_LEN); a short default keeps ports reusable in
 * simulations that open millions of connections from a few clients. */
#define NET_DEFAULT_TIME_WAIT SIM_SEC

/* ------------------------------------------------------------------ names */

const char *
sim_drop_reason_name(SimDropReason r)
{
    switch (r) {
    case SIM_DROP_NETFILTER:
        return "netfilter-drop";
    case SIM_DROP_REJECT:
        return "netfilter-reject";
    case SIM_DROP_NO_ROUTE:
        return "no-route";
    case SIM_DROP_NO_SOCKET:
        return "no-socket";
    case SIM_DROP_CT_FULL:
        return "conntrack-full";
    case SIM_DROP_CT_INSERT:
        return "conntrack-insert-failed";
    case SIM_DROP_CT_INVALID:
        return "conntrack-invalid";
    case SIM_DROP_HOST_DOWN:
        return "host-down";
    }
    return "unknown";
}

const char *
sim_close_reason_name(SimCloseReason r)
{
    switch (r) {
    case SIM_CLOSE_NORMAL:
        return "normal";
    case SIM_CLOSE_RESET:
        return "reset";
    case SIM_CLOSE_REFUSED:
        return "refused";
    case SIM_CLOSE_TIMEOUT:
        return "timeout";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ the fabric's address map */

/* A hash of an address that does not depend on the machine's byte order. */
static guint32
addr_hash(const SimAddr *a)
{
    guint64 w0 = 0, w1 = 0;
    for (guint i = 0; i < 8; i++) {
        w0 = w0 << 8 | a->b[i];
        w1 = w1 << 8 | a->b[8 + i];
    }
    guint64 h = (w0 ^ a->family) * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 29) ^ w1) * 0xbf58476d1ce4e5b9ull;
    return (guint32)(h ^ (h >> 32));
}

/* The slot of a in m: where it is, or the empty slot where it would go. */
static guint32
addrmap_slot(const AddrMap *m, const SimAddr *a)
{
    guint32 i = addr_hash(a) & m->mask;
    while (m->values[i] != NULL && !net_addr_equal(&m->keys[i], a))
        i = (i + 1) & m->mask;
    return i;
}

/* The interface owning a on the fabric, or NULL. O(1) expected. */
static SimIface *
addrmap_get(const AddrMap *m, const SimAddr *a)
{
    if (m->values == NULL)
        return NULL;
    return m->values[addrmap_slot(m, a)];
}

/* Makes iface the owner of a (the last attachment of an address wins, like a gratuitous ARP). */
static void
addrmap_put(AddrMap *m, const SimAddr *a, SimIface *iface)
{
    if (m->values == NULL || (m->used + 1) * 3 > (m->mask + 1) * 2) {
        AddrMap old = *m;
        guint32 n = old.values == NULL ? 64 : (old.mask + 1) * 2;
        m->keys = g_new0(SimAddr, n);
        m->values = g_new0(SimIface *, n);
        m->mask = n - 1;
        m->used = 0;
        for (guint32 i = 0; old.values != NULL && i <= old.mask; i++)
            if (old.values[i] != NULL)
                addrmap_put(m, &old.keys[i], old.values[i]);
        g_free(old.keys);
        g_free(old.values);
    }
    guint32 i = addrmap_slot(m, a);
    if (m->values[i] == NULL)
        m->used++;
    m->keys[i] = *a;
    m->values[i] = iface;
}

/* ------------------------------------------------------------------ the network */

SimNet *
sim_net_new(SimLoop *loop, guint64 seed)
{
    g_return_val_if_fail(loop != NULL, NULL);
    SimNet *net = g_new0(SimNet, 1);
    net->loop = loop;
    net->seed = seed;
    net->hosts = g_ptr_array_new();
    net->pkt_chunks = g_ptr_array_new_with_free_func(g_free);
    net->branches = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    SimPacket zero = {0};
    net->spare = nf_branch_new(&zero);
    net->time_wait = NET_DEFAULT_TIME_WAIT;
    net_sockets_init(net);
    return net;
}

/* Releases a host and everything it owns. */
static void
host_free(SimHost *h)
{
    for (guint i = 0; i < h->ifaces->len; i++) {
        SimIface *iface = g_ptr_array_index(h->ifaces, i);
        g_free(iface->name);
        g_free(iface);
    }
    g_ptr_array_unref(h->ifaces);
    g_array_unref(h->addrs);
    g_array_unref(h->routes);
    g_free(h->route_index.slots);
    ipvs_state_free(h->ipvs);
    ct_table_free(h->ct);
    net_host_tables_free(h);
    g_ptr_array_unref(h->listeners);
    g_free(h->name);
    g_free(h);
}

void
sim_net_free(SimNet *net)
{
    if (net == NULL)
        return;
    net_sockets_free(net);
    /* Packets still in flight: their delivery events must never run. */
    for (guint c = 0; c < net->pkt_chunks->len; c++) {
        NetPkt *chunk = g_ptr_array_index(net->pkt_chunks, c);
        for (guint i = 0; i < NET_PKT_CHUNK; i++)
            if (chunk[i].in_flight)
                sim_loop_cancel(net->loop, chunk[i].event);
    }
    for (guint i = 0; i < net->hosts->len; i++)
        host_free(g_ptr_array_index(net->hosts, i));
    g_ptr_array_unref(net->hosts);
    g_ptr_array_unref(net->pkt_chunks);
    g_ptr_array_unref(net->branches);
    nf_branch_free(net->spare);
    g_free(net->fabric.keys);
    g_free(net->fabric.values);
    g_clear_error(&net->capture_error);
    g_free(net);
}

SimLoop *
sim_net_loop(SimNet *net)
{
    g_return_val_if_fail(net != NULL, NULL);
    return net->loop;
}

void
sim_net_set_time_wait(SimNet *net, SimTime duration)
{
    g_return_if_fail(net != NULL && duration >= 0);
    net->time_wait = duration;
}

const GError *
sim_net_capture_error(const SimNet *net)
{
    g_return_val_if_fail(net != NULL, NULL);
    return net->capture_error;
}

/* ------------------------------------------------------------------ hosts */

/* Initialises rng as the stream "host/NAME/what" of the net's seed. */
static void
host_rng_init(SimHost *h, SimRng *rng, const char *what)
{
    g_autofree char *name = g_strdup_printf("host/%s/%s", h->name, what);
    sim_rng_init(rng, h->net->seed, name);
}

SimHost *
sim_net_add_host(SimNet *net, const char *name, gboolean forwarding)
{
    g_return_val_if_fail(net != NULL && name != NULL, NULL);
    SimHost *h = g_new0(SimHost, 1);
    h->net = net;
    h->name = g_strdup(name);
    h->id = net->hosts->len;
    h->forwarding = forwarding;
    h->up = TRUE;
    h->ifaces = g_ptr_array_new();
    h->addrs = g_array_new(FALSE, FALSE, sizeof(HostAddr));
    h->routes = g_array_new(FALSE, FALSE, sizeof(HostRoute));
    h->listeners = g_ptr_array_new();
    host_rng_init(h, &h->rng_statistic, "statistic");
    host_rng_init(h, &h->rng_snat, "snat");
    host_rng_init(h, &h->rng_ports, "ports");
    host_rng_init(h, &h->rng_isn, "isn");
    h->ip_id = (guint16)sim_rng_next(&h->rng_isn);
    h->memo_gen = 1;
    h->memo_pure = -1;
    net_host_env_init(h);
    g_ptr_array_add(net->hosts, h);
    sim_host_add_iface(h, "lo", NULL);
    return h;
}

const char *
sim_host_name(const SimHost *h)
{
    g_return_val_if_fail(h != NULL, NULL);
    return h->name;
}

void
sim_host_enable_conntrack(SimHost *h, const CtConfig *config)
{
    g_return_if_fail(h != NULL && config != NULL);
    ct_table_free(h->ct);
    h->ct = ct_table_new(config);
    if (h->ipvs != NULL) /* its connections were entries of the old table: start over */
        sim_host_enable_ipvs(h, ipvs_state_config(h->ipvs));
}

void
sim_host_set_ruleset(SimHost *h, const NfRuleset *rs)
{
    g_return_if_fail(h != NULL);
    h->rs = rs;
    net_host_memo_invalidate(h);
    if (h->ipvs != NULL)
        ipvs_state_sync(h->ipvs, ipvs_ruleset_table(rs), sim_loop_now(h->net->loop));
}

void
sim_host_enable_ipvs(SimHost *h, const IpvsConfig *config)
{
    g_return_if_fail(h != NULL && config != NULL && h->ct != NULL);
    IpvsState *old = h->ipvs;
    h->ipvs = ipvs_state_new(config); /* config may point into old */
    ipvs_state_free(old);
    ct_table_set_observer(h->ct, ipvs_state_ct_event, h->ipvs);
    ipvs_state_set_conntrack(h->ipvs, h->ct);
    ipvs_state_sync(h->ipvs, ipvs_ruleset_table(h->rs), sim_loop_now(h->net->loop));
}

IpvsState *
sim_host_ipvs(SimHost *h)
{
    g_return_val_if_fail(h != NULL, NULL);
    if (h->ipvs != NULL)
        ipvs_state_expire(h->ipvs, sim_loop_now(h->net->loop));
    return h->ipvs;
}

void
sim_host_ipvs_list(SimHost *h, GString *out)
{
    g_return_if_fail(h != NULL && out != NULL);
    const IpvsTable *t = ipvs_ruleset_table(h->rs);
    if (t != NULL)
        ipvs_table_list(t, sim_host_ipvs(h), out);
}

void
sim_host_set_up(SimHost *h, gboolean up)
{
    g_return_if_fail(h != NULL);
    h->up = up;
}

void
sim_host_set_capture(SimHost *h, SimPcap *pcap)
{
    g_return_if_fail(h != NULL);
    h->pcap = pcap;
}

void
sim_host_get_stats(const SimHost *h, SimHostStats *out)
{
    g_return_if_fail(h != NULL && out != NULL);
    *out = h->stats;
}

CtTable *
sim_host_conntrack(SimHost *h)
{
    g_return_val_if_fail(h != NULL, NULL);
    return h->ct;
}

SimNet *
sim_host_net(const SimHost *h)
{
    g_return_val_if_fail(h != NULL, NULL);
    return h->net;
}

/* ------------------------------------------------------------------ interfaces and addresses */

guint
sim_host_add_iface(SimHost *h, const char *name, const guint8 *mac)
{
    g_return_val_if_fail(h != NULL && name != NULL, 0);
    gboolean lo = h->ifaces->len == 0;
    if (!lo && strcmp(name, "lo") == 0)
        return 1; /* "lo" always exists */
    SimIface *iface = g_new0(SimIface, 1);
    iface->host = h;
    iface->name = g_strdup(name);
    iface->ifindex = h->ifaces->len + 1;
    iface->kind = lo ? IFACE_LOOPBACK : IFACE_UNLINKED;
    if (mac != NULL) {
        memcpy(iface->mac, mac, sizeof iface->mac);
    } else if (!lo) {
        /* Locally administered: 02:HH:HH:HH:II:II from the host's number and the index. */
        guint8 derived[6] = {0x02,
                             (guint8)(h->id >> 16),
                             (guint8)(h->id >> 8),
                             (guint8)h->id,
                             (guint8)(iface->ifindex >> 8),
                             (guint8)iface->ifindex};
        memcpy(iface->mac, derived, sizeof derived);
    }
    g_ptr_array_add(h->ifaces, iface);
    return iface->ifindex;
}

SimIface *
net_host_iface(const SimHost *h, guint ifindex)
{
    if (ifindex == 0 || ifindex > h->ifaces->len)
        return NULL;
    return g_ptr_array_index(h->ifaces, ifindex - 1);
}

void
sim_host_add_addr(SimHost *h, guint ifindex, const SimAddr *addr)
{
    g_return_if_fail(h != NULL && addr != NULL);
    SimIface *iface = net_host_iface(h, ifindex);
    g_return_if_fail(iface != NULL);
    g_return_if_fail(addr->family == SIM_AF_INET || addr->family == SIM_AF_INET6);
    HostAddr ha = {.addr = *addr, .ifindex = ifindex};
    g_array_append_val(h->addrs, ha);
    net_host_memo_invalidate(h); /* addrtype LOCAL answers change */
    if (iface->kind == IFACE_FABRIC)
        addrmap_put(&h->net->fabric, addr, iface);
}

gboolean
sim_host_is_local(const SimHost *h, const SimAddr *addr)
{
    g_return_val_if_fail(h != NULL && addr != NULL, FALSE);
    if (sim_addr_is_loopback(addr))
        return TRUE;
    const HostAddr *a = (const HostAddr *)(gpointer)h->addrs->data;
    for (guint i = 0; i < h->addrs->len; i++)
        if (net_addr_equal(&a[i].addr, addr))
            return TRUE;
    /* The addresses of kube-ipvs0, when the current ruleset brings an IPVS table. */
    return h->rs != NULL && ipvs_table_is_local(ipvs_ruleset_table(h->rs), addr);
}

gboolean
net_iface_source(const SimHost *h, const SimIface *iface, guint8 family, SimAddr *out)
{
    const HostAddr *a = (const HostAddr *)(gpointer)h->addrs->data;
    for (guint i = 0; iface != NULL && i < h->addrs->len; i++) {
        if (a[i].ifindex == iface->ifindex && a[i].addr.family == family) {
            *out = a[i].addr;
            return TRUE;
        }
    }
    for (guint i = 0; i < h->addrs->len; i++) {
        if (a[i].addr.family == family && !sim_addr_is_loopback(&a[i].addr)) {
            *out = a[i].addr;
            return TRUE;
        }
    }
    return FALSE;
}

/* ------------------------------------------------------------------ routes */

/* a with the bits past prefix cleared. */
static void
route_mask_addr(const SimAddr *a, guint8 prefix, SimAddr *out)
{
    *out = (SimAddr){.family = a->family};
    guint full = prefix / 8, rest = prefix % 8;
    memcpy(out->b, a->b, full);
    if (rest != 0)
        out->b[full] = (guint8)(a->b[full] & (0xff << (8 - rest)));
}

/* The index slot hash of the IPv4 network net (host order, host bits clear) of length prefix. */
static inline guint32
route_v4_hash(guint32 net, guint8 prefix)
{
    guint64 x = ((guint64)net << 8 | prefix) * 0x9e3779b97f4a7c15ull;
    return (guint32)(x >> 32);
}

/* The index slot hash of the network net (host bits clear) of length prefix. */
static guint32
route_key_hash(const SimAddr *net, guint8 prefix)
{
    if (net->family == SIM_AF_INET)
        return route_v4_hash(sim_addr_ipv4(net), prefix);
    return addr_hash(net) ^ (guint32)prefix * 0x85ebca6bu;
}

/* Whether route r has the key (net, prefix); net has its host bits clear. */
static gboolean
route_has_key(const HostRoute *r, const SimAddr *net, guint8 prefix)
{
    if (r->dst.prefix != prefix || r->dst.addr.family != net->family)
        return FALSE;
    if (net->family == SIM_AF_INET)
        return r->v4_net == sim_addr_ipv4(net);
    return memcmp(r->dst.addr.b, net->b, sizeof net->b) == 0;
}

/* The slot of the key (net, prefix) in h's route index: where its route is, or the empty slot
 * where it would go. The index must have slots. */
static guint32
route_index_slot(const SimHost *h, const SimAddr *net, guint8 prefix)
{
    const RouteIndex *ix = &h->route_index;
    const HostRoute *routes = (const HostRoute *)(gpointer)h->routes->data;
    guint32 i = route_key_hash(net, prefix) & ix->mask;
    while (ix->slots[i] != 0 && !route_has_key(&routes[ix->slots[i] - 1], net, prefix))
        i = (i + 1) & ix->mask;
    return i;
}

/* Makes room in h's route index for one more key (load at most 2/3). */
static void
route_index_grow(SimHost *h)
{
    RouteIndex *ix = &h->route_index;
    if (ix->slots != NULL && (ix->used + 1) * 3 <= (ix->mask + 1) * 2)
        return;
    guint32 *old = ix->slots, old_n = old == NULL ? 0 : ix->mask + 1;
    guint32 n = old == NULL ? 16 : old_n * 2;
    ix->slots = g_new0(guint32, n);
    ix->mask = n - 1;
    const HostRoute *routes = (const HostRoute *)(gpointer)h->routes->data;
    for (guint32 i = 0; i < old_n; i++) {
        if (old[i] == 0)
            continue;
        const HostRoute *r = &routes[old[i] - 1];
        guint32 j = route_key_hash(&r->dst.addr, r->dst.prefix) & ix->mask;
        while (ix->slots[j] != 0)
            j = (j + 1) & ix->mask;
        ix->slots[j] = old[i];
    }
    g_free(old);
}

/* Records that h has a route of length prefix in family (lengths stay longest first). */
static void
route_index_add_len(RouteIndex *ix, guint8 family, guint8 prefix)
{
    gboolean v4 = family == SIM_AF_INET;
    guint8 *lens = v4 ? ix->v4_lens : ix->v6_lens;
    guint8 *n = v4 ? &ix->n_v4 : &ix->n_v6;
    guint pos = 0;
    while (pos < *n && lens[pos] > prefix)
        pos++;
    if (pos < *n && lens[pos] == prefix)
        return;
    memmove(&lens[pos + 1], &lens[pos], *n - pos);
    lens[pos] = prefix;
    (*n)++;
}

void
sim_host_add_route(SimHost *h, const SimCidr *dst, guint ifindex, const SimAddr *gateway)
{
    g_return_if_fail(h != NULL && dst != NULL);
    g_return_if_fail(dst->addr.family == SIM_AF_INET || dst->addr.family == SIM_AF_INET6);
    g_return_if_fail(dst->prefix <= (dst->addr.family == SIM_AF_INET ? 32 : 128));
    SimIface *iface = net_host_iface(h, ifindex);
    g_return_if_fail(iface != NULL);
    HostRoute r = {.dst.prefix = dst->prefix, .iface = iface};
    route_mask_addr(&dst->addr, dst->prefix, &r.dst.addr);
    if (gateway != NULL)
        r.gateway = *gateway;
    if (dst->addr.family == SIM_AF_INET) {
        r.v4_mask = dst->prefix == 0 ? 0 : ~0u << (32 - dst->prefix);
        r.v4_net = sim_addr_ipv4(&r.dst.addr);
    }
    g_array_append_val(h->routes, r);
    route_index_grow(h);
    guint32 slot = route_index_slot(h, &r.dst.addr, r.dst.prefix);
    if (h->route_index.slots[slot] != 0)
        return; /* the first route added with this prefix keeps winning */
    h->route_index.slots[slot] = h->routes->len;
    h->route_index.used++;
    route_index_add_len(&h->route_index, r.dst.addr.family, r.dst.prefix);
}

/* The route h uses toward the IPv4 address a (host order), or NULL: net_route_lookup() on
 * integers. */
static const HostRoute *
route_lookup_v4(const SimHost *h, guint32 a)
{
    const RouteIndex *ix = &h->route_index;
    const HostRoute *routes = (const HostRoute *)(gpointer)h->routes->data;
    if (h->routes->len <= NET_ROUTE_SCAN_MAX) { /* a pod or a small node: a scan is cheaper */
        const HostRoute *best = NULL;
        for (guint i = 0; i < h->routes->len; i++) {
            const HostRoute *r = &routes[i];
            if (r->dst.addr.family == SIM_AF_INET && (a & r->v4_mask) == r->v4_net &&
                (best == NULL || r->dst.prefix > best->dst.prefix))
                best = r;
        }
        return best;
    }
    for (guint i = 0; i < ix->n_v4; i++) {
        guint8 len = ix->v4_lens[i];
        guint32 net = len == 0 ? 0 : a & (~0u << (32 - len));
        for (guint32 j = route_v4_hash(net, len) & ix->mask; ix->slots[j] != 0;
             j = (j + 1) & ix->mask) {
            const HostRoute *r = &routes[ix->slots[j] - 1];
            if (r->dst.prefix == len && r->dst.addr.family == SIM_AF_INET && r->v4_net == net)
                return r;
        }
    }
    return NULL;
}

const HostRoute *
net_route_lookup(SimHost *h, const SimAddr *dst)
{
    const RouteIndex *ix = &h->route_index;
    if (ix->slots == NULL)
        return NULL;
    if (dst->family == SIM_AF_INET)
        return route_lookup_v4(h, sim_addr_ipv4(dst));
    for (guint i = 0; dst->family == SIM_AF_INET6 && i < ix->n_v6; i++) {
        SimAddr net;
        route_mask_addr(dst, ix->v6_lens[i], &net);
        guint32 slot = route_index_slot(h, &net, ix->v6_lens[i]);
        if (ix->slots[slot] != 0)
            return &g_array_index(h->routes, HostRoute, ix->slots[slot] - 1);
    }
    return NULL;
}

/* ------------------------------------------------------------------ links */

void
sim_net_attach_fabric(SimNet *net, SimHost *h, guint ifindex, SimTime latency,
                      guint64 bandwidth_bps)
{
    g_return_if_fail(net != NULL && h != NULL && h->net == net && latency >= 0);
    SimIface *iface = net_host_iface(h, ifindex);
    g_return_if_fail(iface != NULL && iface->kind == IFACE_UNLINKED);
    iface->kind = IFACE_FABRIC;
    iface->latency = latency;
    iface->bandwidth_bps = bandwidth_bps;
    const HostAddr *a = (const HostAddr *)(gpointer)h->addrs->data;
    for (guint i = 0; i < h->addrs->len; i++)
        if (a[i].ifindex == ifindex)
            addrmap_put(&net->fabric, &a[i].addr, iface);
}

void
sim_net_link(SimNet *net, SimHost *a, guint ifa, SimHost *b, guint ifb, SimTime latency)
{
    g_return_if_fail(net != NULL && a != NULL && b != NULL && latency >= 0);
    g_return_if_fail(a->net == net && b->net == net);
    SimIface *x = net_host_iface(a, ifa), *y = net_host_iface(b, ifb);
    g_return_if_fail(x != NULL && y != NULL && x != y);
    g_return_if_fail(x->kind == IFACE_UNLINKED && y->kind == IFACE_UNLINKED);
    x->kind = y->kind = IFACE_VETH;
    x->peer = y;
    y->peer = x;
    x->latency = y->latency = latency;
}

/* ------------------------------------------------------------------ packets */

NetPkt *
net_pkt_alloc(SimNet *net)
{
    if (net->free_pkts == NULL) {
        NetPkt *chunk = g_new0(NetPkt, NET_PKT_CHUNK);
        for (guint i = NET_PKT_CHUNK; i-- > 0;) {
            chunk[i].next_free = net->free_pkts;
            net->free_pkts = &chunk[i];
        }
        g_ptr_array_add(net->pkt_chunks, chunk);
    }
    NetPkt *np = net->free_pkts;
    net->free_pkts = np->next_free;
    memset(np, 0, sizeof *np);
    return np;
}

void
net_pkt_free(SimNet *net, NetPkt *np)
{
    np->in_flight = FALSE;
    np->next_free = net->free_pkts;
    net->free_pkts = np;
}

/* A delivery event: np reaches the interface it was sent to. */
static SimTime
net_deliver(SimLoop *loop, SimEventId id, gpointer data)
{
    NetPkt *np = data;
    SimNet *net = np->to->host->net;
    np->in_flight = FALSE;
    np->event = SIM_EVENT_ID_NONE;
    net->in_event++;
    net_host_receive(np->to, np);
    net_event_done(net);
    return SIM_LOOP_NOMORE;
}

/* Puts np on its way to `to`, arriving at when. */
static void
net_schedule(SimNet *net, NetPkt *np, SimIface *to, const SimIface *from, SimTime when)
{
    np->to = to;
    np->from = from;
    np->in_flight = TRUE;
    np->event = sim_loop_schedule_at(net->loop, when, net_deliver, np);
    g_assert(np->event != SIM_EVENT_ID_NONE);
}

/* When a packet of len bytes sent on iface now arrives at the other end: behind the packets
 * queued before it, plus its own serialisation, plus the latency. */
static SimTime
iface_arrival(SimIface *iface, SimTime now, guint32 len)
{
    if (iface->kind != IFACE_FABRIC || iface->bandwidth_bps == 0)
        return now + iface->latency;
    SimTime start = MAX(now, iface->busy_until);
    guint64 bits = (guint64)len * 8u * (guint64)SIM_SEC;
    SimTime tx = (SimTime)((bits + iface->bandwidth_bps - 1) / iface->bandwidth_bps);
    iface->busy_until = start + tx;
    return iface->busy_until + iface->latency;
}

SimHost *
net_iface_transmit(SimIface *oif, const SimAddr *next_hop, NetPkt *np)
{
    SimHost *h = oif->host;
    SimNet *net = h->net;
    SimIface *to = NULL;
    switch ((IfaceKind)oif->kind) {
    case IFACE_VETH:
        to = oif->peer;
        break;
    case IFACE_FABRIC:
        to = addrmap_get(&net->fabric, next_hop);
        break;
    case IFACE_UNLINKED:
    case IFACE_LOOPBACK:
        break;
    }
    if (to == NULL || to == oif) {
        net_host_drop(h, SIM_DROP_NO_ROUTE);
        net_pkt_free(net, np);
        return NULL;
    }
    net_capture(h, oif, SIM_PCAP_OUTGOING, np);
    h->stats.tx_packets++;
    np->pkt.mark = 0; /* the skb is scrubbed on its way into the next host */
    np->ct_done = FALSE;
    np->ctstate = 0;
    SimTime now = sim_loop_now(net->loop);
    net_schedule(net, np, to, oif, iface_arrival(oif, now, np->pkt.length));
    return to->host;
}

void
net_loopback(SimHost *h, NetPkt *np)
{
    SimIface *lo = g_ptr_array_index(h->ifaces, 0);
    net_schedule(h->net, np, lo, lo, sim_loop_now(h->net->loop));
}

/* ------------------------------------------------------------------ capture */

void
net_capture_write(SimHost *h, const SimIface *iface, SimPcapPacketType pkttype, const NetPkt *np)
{
    SimNet *net = h->net;
    if (h->pcap == NULL || net->capture_error != NULL)
        return;
    /* Serialised straight into the capture's buffer: no copy of the datagram. */
    guint8 *wire = sim_pcap_reserve(h->pcap, &net->capture_error);
    if (wire == NULL)
        return;
    SimWireParams params = {.ip_id = np->pkt.ip_id, .ttl = np->pkt.ttl};
    gsize len =
        sim_wire_write(&np->pkt, &params, wire, SIM_PCAP_MAX_DATAGRAM, &net->capture_error);
    if (len == 0)
        return;
    gboolean lo = iface->kind == IFACE_LOOPBACK;
    /* The frame's source MAC: our own when sending, the sender's when receiving. */
    const SimIface *src = pkttype == SIM_PCAP_OUTGOING ? iface : np->from;
    SimPcapLink link = {.ifindex = iface->ifindex,
                        .hatype = lo ? SIM_PCAP_ARPHRD_LOOPBACK : SIM_PCAP_ARPHRD_ETHER,
                        .pkttype = (guint8)pkttype,
                        .addr_len = 6};
    if (!lo && src != NULL)
        memcpy(link.addr, src->mac, 6);
    sim_pcap_write(h->pcap, sim_loop_now(net->loop), &link, wire, len, &net->capture_error);
}
