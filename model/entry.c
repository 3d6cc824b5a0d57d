/* SPDX-License-Identifier: Apache-2.0 */
/* Entry models: DNS round-robin with a client cache, a health-checking passthrough cloud load
 * balancer, MetalLB's layer 2 and BGP modes, and externalIPs routed to nodes.
 *
 * Models the part of each that decides which node a packet enters: the DNS server's rotation
 * and the client resolver's TTL cache; the cloud LB's health checker (interval, timeout,
 * thresholds), rotation and flow table (GCE's network load balancer); MetalLB's speaker
 * election and memberlist failure detection; an upstream router's ECMP over BGP next hops with
 * hold timers or BFD. Left out: the DNS wire protocol and negative caching, the LB's own
 * probes as packets (health is read from the cluster as the node's kube-proxy would answer),
 * ARP and BGP messages, BGP session re-establishment delays, weighted next hops, IPv6.
 * model/entry.h has the behaviour and the sources of every default. This file has the pure
 * decisions, the run-time state, the router and the life cycle; the health checker, MetalLB's
 * speakers and DNS are model/entry_speakers.c.
 */
#include "model/entry_private.h"

#include <string.h>

G_DEFINE_QUARK(kpsim - entry - error - quark, entry_error)
/* ------------------------------------------------------------------ decisions, pure */

/* splitmix64's finaliser: a full-avalanche mix of v. */
static guint64
entry_mix(guint64 v)
{
    v ^= v >> 30;
    v *= G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
    v ^= v >> 27;
    v *= G_GUINT64_CONSTANT(0x94d049bb133111eb);
    return v ^ (v >> 31);
}

/* Folds the bytes of a (4 for IPv4, 16 for IPv6) into h. */
static guint64
entry_mix_addr(guint64 h, const SimAddr *a)
{
    guint len = a->family == SIM_AF_INET ? 4 : 16;
    for (guint i = 0; i < len; i += 4) {
        guint32 w = (guint32)a->b[i] << 24 | (guint32)a->b[i + 1] << 16 |
                    (guint32)a->b[i + 2] << 8 | a->b[i + 3];
        h = entry_mix(h ^ w);
    }
    return h;
}

/* See model/entry.h. */
guint32
entry_flow_hash(guint64 key, const SimPacket *pkt)
{
    g_return_val_if_fail(pkt != NULL, 0);
    guint64 h = entry_mix(key);
    h = entry_mix_addr(h, &pkt->src.addr);
    h = entry_mix_addr(h, &pkt->dst.addr);
    h = entry_mix(h ^ ((guint64)pkt->proto << 32 | (guint64)pkt->src.port << 16 | pkt->dst.port));
    return (guint32)(h >> 32);
}

/* See model/entry.h. fib_rebalance() gives next hop i the upper bound
 * DIV_ROUND_CLOSEST((i + 1) << 31, n) - 1 and fib_select_multipath() takes the first whose
 * bound is at least the 31-bit hash. */
guint
entry_hash_threshold(guint32 hash, guint n)
{
    g_return_val_if_fail(n > 0, 0);
    guint64 h31 = hash >> 1;
    for (guint i = 0; i < n; i++) {
        guint64 bound = ((((guint64)(i + 1)) << 31) + n / 2) / n - 1;
        if (h31 <= bound)
            return i;
    }
    return n - 1;
}

/* See model/entry.h. MetalLB's layer2 controller (speaker/layer2_controller.go, ShouldAnnounce)
 * sorts the usable nodes by sha256(node + "#" + ip) and the first one announces. */
guint
entry_l2_elect(const char *const *names, guint n, const SimAddr *ip)
{
    g_return_val_if_fail(names != NULL && n > 0 && ip != NULL, 0);
    char text[SIM_ADDR_STRLEN];
    sim_addr_to_string(ip, text);
    guint best = 0;
    guint8 best_sum[32], sum[32];
    for (guint i = 0; i < n; i++) {
        g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);
        g_autofree char *s = g_strdup_printf("%s#%s", names[i], text);
        gsize len = sizeof sum;
        g_checksum_update(ck, (const guchar *)s, (gssize)strlen(s));
        g_checksum_get_digest(ck, sum, &len);
        if (i == 0 || memcmp(sum, best_sum, sizeof sum) < 0) {
            best = i;
            memcpy(best_sum, sum, sizeof sum);
        }
    }
    return best;
}

/* See model/entry.h. */
gboolean
entry_health_note(EntryHealth *h, gboolean ok, guint healthy, guint unhealthy)
{
    g_return_val_if_fail(h != NULL, FALSE);
    if (ok) {
        h->successes++;
        h->failures = 0;
        if (!h->healthy && h->successes >= healthy) {
            h->healthy = TRUE;
            return TRUE;
        }
        return FALSE;
    }
    h->failures++;
    h->successes = 0;
    if (h->healthy && h->failures >= unhealthy) {
        h->healthy = FALSE;
        return TRUE;
    }
    return FALSE;
}

/* See model/entry.h. Cost: the Service's endpoints times the distinct IPs found. */
guint
entry_local_endpoints(const Cluster *c, const K8sService *svc, const K8sNode *node)
{
    g_return_val_if_fail(c != NULL && svc != NULL && node != NULL, 0);
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(SimAddr));
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++) {
            const K8sEndpoint *ep = sl->endpoints->pdata[j];
            if (g_strcmp0(ep->node_name, node->name) != 0 || !k8s_endpoint_ready(ep) ||
                ep->addresses->len == 0)
                continue;
            const SimAddr *a = &g_array_index(ep->addresses, SimAddr, 0);
            gboolean dup = FALSE;
            for (guint k = 0; k < seen->len && !dup; k++)
                dup = sim_addr_equal(a, &g_array_index(seen, SimAddr, k));
            if (!dup)
                g_array_append_val(seen, *a);
        }
    }
    return seen->len;
}

/* Does svc answer at address (an ingress IP or an externalIP)? */
static gboolean
entry_service_has_address(const K8sService *svc, const SimAddr *address)
{
    for (guint i = 0; svc->lb_ingress != NULL && i < svc->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *in = svc->lb_ingress->pdata[i];
        if (sim_addr_equal(&in->ip, address))
            return TRUE;
    }
    for (guint i = 0; svc->external_ips != NULL && i < svc->external_ips->len; i++)
        if (sim_addr_equal(&g_array_index(svc->external_ips, SimAddr, i), address))
            return TRUE;
    return FALSE;
}

/* See model/entry.h. */
const K8sService *
entry_find_service(const Cluster *c, const SimAddr *address, guint16 port, SimProto proto)
{
    g_return_val_if_fail(c != NULL && address != NULL, NULL);
    for (guint i = 0; i < c->services->len; i++) {
        const K8sService *svc = c->services->pdata[i];
        if (!entry_service_has_address(svc, address))
            continue;
        for (guint j = 0; j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            if (sp->port == port && sp->protocol == proto)
                return svc;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ run-time state */

/* GHashFunc over an EntryFlowKey. */
static guint
entry_flow_key_hash(gconstpointer p)
{
    const EntryFlowKey *k = p;
    guint h = sim_addr_hash(&k->src.addr) * 31u + k->src.port;
    h = h * 31u + sim_addr_hash(&k->dst.addr);
    return (h * 31u + k->dst.port) * 31u + k->proto;
}

/* GEqualFunc over EntryFlowKeys. */
static gboolean
entry_flow_key_equal(gconstpointer a, gconstpointer b)
{
    const EntryFlowKey *x = a, *y = b;
    return x->proto == y->proto && x->src.port == y->src.port && x->dst.port == y->dst.port &&
           sim_addr_equal(&x->src.addr, &y->src.addr) && sim_addr_equal(&x->dst.addr, &y->dst.addr);
}

/* Frees a log record. */
static void
entry_record_free(EntryRecord *rec)
{
    g_free(rec->kind);
    g_free(rec->subject);
    g_free(rec->detail);
    g_free(rec);
}

/* See model/entry_private.h. */
void
entry_record_at(Entry *e, SimTime at, const char *kind, const char *subject, char *detail)
{
    EntryRecord *rec = g_new0(EntryRecord, 1);
    rec->at = at;
    rec->kind = g_strdup(kind);
    rec->subject = g_strdup(subject);
    rec->detail = detail;
    g_ptr_array_add(e->log, rec);
}

/* See model/entry_private.h. */
void
entry_record(Entry *e, const char *kind, const char *subject, char *detail)
{
    entry_record_at(e, sim_loop_now(e->loop), kind, subject, detail);
}

/* See model/entry_private.h. */
const char *
entry_address_text(const Entry *e, char *buf)
{
    return sim_addr_to_string(&e->spec->address, buf);
}

/* See model/entry_private.h. */
const K8sService *
entry_service(const Entry *e)
{
    if (e->svc_name == NULL)
        return NULL;
    return cluster_find_service(e->c, e->svc_ns, e->svc_name);
}

/* See model/entry_private.h. */
gboolean
entry_policy_local(const Entry *e)
{
    const K8sService *svc = entry_service(e);
    return svc != NULL && svc->external_policy == K8S_POLICY_LOCAL;
}

/* See model/entry_private.h. */
gboolean
entry_node_has_endpoint(const Entry *e, guint i)
{
    const K8sService *svc = entry_service(e);
    return svc != NULL && entry_local_endpoints(e->c, svc, e->nodes[i].node) > 0;
}

/* See model/entry_private.h. */
gboolean
entry_service_has_endpoint(const Entry *e)
{
    const K8sService *svc = entry_service(e);
    if (svc == NULL)
        return FALSE;
    g_autoptr(GPtrArray) slices = cluster_service_slices(e->c, svc);
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++)
            if (k8s_endpoint_ready(sl->endpoints->pdata[j]))
                return TRUE;
    }
    return FALSE;
}

/* ------------------------------------------------------------------ the router */

/* Picks among the nodes flagged next_hop by the flow hash of pkt (hash-threshold over them in
 * node order); all nodes with an address when none is flagged and fail_open. -1: none. */
static gint
entry_pick(Entry *e, const SimPacket *pkt, gboolean fail_open)
{
    g_array_set_size(e->scratch, 0);
    for (guint pass = 0; pass < 2 && e->scratch->len == 0; pass++) {
        if (pass == 1 && !fail_open)
            break;
        for (guint i = 0; i < e->n_nodes; i++)
            if (e->nodes[i].addr.family != SIM_AF_NONE && (pass == 1 || e->nodes[i].next_hop))
                g_array_append_val(e->scratch, i);
    }
    if (e->scratch->len == 0)
        return -1;
    guint k = entry_hash_threshold(entry_flow_hash(e->key, pkt), e->scratch->len);
    return (gint)g_array_index(e->scratch, guint, k);
}

/* The load balancer's flow table: a known flow keeps its node; a new one is placed on a node
 * in rotation (any node when none is: fail-open) and remembered. */
static gint
entry_lb_pick(Entry *e, const SimPacket *pkt)
{
    EntryFlowKey k = {.src = pkt->src, .dst = pkt->dst, .proto = pkt->proto};
    EntryFlow *f = g_hash_table_lookup(e->flows, &k);
    SimTime now = sim_loop_now(e->loop);
    if (f == NULL) {
        gint node = entry_pick(e, pkt, TRUE);
        if (node < 0)
            return -1;
        f = g_new0(EntryFlow, 1);
        f->key = k;
        f->node = (guint)node;
        g_hash_table_insert(e->flows, &f->key, f);
    }
    f->last_seen = now;
    return (gint)f->node;
}

/* SimNextHopFunc of the router: where a packet for the entry's address goes. */
static SimNextHopChoice
entry_next_hop(SimHost *h, const SimPacket *pkt, SimAddr *next_hop, gpointer data)
{
    Entry *e = data;
    if (!sim_addr_equal(&pkt->dst.addr, &e->spec->address))
        return SIM_NEXT_HOP_ROUTE;
    gint node = -1;
    switch (e->spec->kind) {
    case SCENARIO_ENTRY_LOAD_BALANCER:
        node = entry_lb_pick(e, pkt);
        break;
    case SCENARIO_ENTRY_METALLB_L2:
        node = e->announcer;
        break;
    case SCENARIO_ENTRY_METALLB_BGP:
    case SCENARIO_ENTRY_EXTERNAL_IP:
        node = entry_pick(e, pkt, FALSE);
        break;
    case SCENARIO_ENTRY_DIRECT:
    case SCENARIO_ENTRY_DNS_ROUND_ROBIN:
        return SIM_NEXT_HOP_ROUTE;
    }
    if (node < 0)
        return SIM_NEXT_HOP_UNREACHABLE;
    *next_hop = e->nodes[node].addr;
    return SIM_NEXT_HOP_VIA;
}

/* Adds the router: a forwarding host on the fabric at 169.254.200.0/21 + index + 1, with an
 * on-link default route and the entry's next-hop selector. Returns its address. */
static SimAddr
entry_add_router(Entry *e, SimNet *net, guint index)
{
    g_autofree char *name = g_strdup_printf("router-%s", e->t->name);
    e->router = sim_net_add_host(net, name, TRUE);
    guint eth0 = sim_host_add_iface(e->router, "eth0", NULL);
    guint n = index + 1;
    SimAddr a = {.family = SIM_AF_INET};
    a.b[0] = 169;
    a.b[1] = 254;
    a.b[2] = (guint8)(200 + (n >> 8) % 8);
    a.b[3] = (guint8)(n & 0xff);
    sim_host_add_addr(e->router, eth0, &a);
    SimCidr any = {.addr = {.family = SIM_AF_INET}, .prefix = 0};
    sim_host_add_route(e->router, &any, eth0, NULL);
    sim_net_attach_fabric(net, e->router, eth0, e->c->scenario->net_latency,
                          e->c->scenario->net_bandwidth);
    sim_host_set_next_hop_func(e->router, entry_next_hop, e);
    return a;
}

/* Routes the entry's address from client through gw (the client's eth0 is its first
 * interface, ifindex 2, as model/workload.c adds it). */
static void
entry_route_client(SimHost *client, const SimAddr *address, const SimAddr *gw)
{
    SimCidr dst;
    sim_cidr_from_addr(address, &dst);
    sim_host_add_route(client, &dst, 2, gw);
}

/* ------------------------------------------------------------------ life cycle */

/* The first IPv4 address of node into out; FALSE when it has none. */
static gboolean
entry_node_ipv4(const K8sNode *node, SimAddr *out)
{
    for (guint i = 0; i < node->addresses->len; i++) {
        const SimAddr *a = &g_array_index(node->addresses, SimAddr, i);
        if (a->family == SIM_AF_INET) {
            *out = *a;
            return TRUE;
        }
    }
    return FALSE;
}

/* See model/entry.h. */
void
entry_fill_targets(const Cluster *c)
{
    g_return_if_fail(c != NULL);
    const Scenario *sc = c->scenario;
    for (guint i = 0; i < sc->traffic->len; i++) {
        ScenarioTraffic *t = sc->traffic->pdata[i];
        if (t->entry == NULL || t->entry->kind != SCENARIO_ENTRY_DNS_ROUND_ROBIN ||
            t->entry->records->len > 0 || t->to->len > 0)
            continue;
        for (guint j = 0; j < c->nodes->len; j++) {
            SimSockAddr sa = {.port = t->entry->port};
            if (entry_node_ipv4(c->nodes->pdata[j], &sa.addr))
                g_array_append_val(t->to, sa);
        }
    }
}

/* Finds the Service behind the entry (required for loadBalancer and MetalLB). */
static gboolean
entry_bind_service(Entry *e, GError **error)
{
    const ScenarioEntry *s = e->spec;
    const K8sService *svc = entry_find_service(e->c, &s->address, s->port, e->t->protocol);
    if (svc != NULL) {
        e->svc_ns = g_strdup(svc->meta.namespace_);
        e->svc_name = g_strdup(svc->meta.name);
        return TRUE;
    }
    if (s->kind == SCENARIO_ENTRY_EXTERNAL_IP)
        return TRUE;
    char ip[SIM_ADDR_STRLEN];
    g_set_error(error, ENTRY_ERROR, ENTRY_ERROR_NO_SERVICE,
                "%s:%u:%u: error: traffic %s: no Service has %s in "
                "status.loadBalancer.ingress (or spec.externalIPs) with port %u/%s",
                e->c->scenario->file, s->pos.line, s->pos.column, e->t->name,
                sim_addr_to_string(&s->address, ip), s->port, sim_proto_name(e->t->protocol));
    return FALSE;
}

/* externalIP: the via nodes become the next hops; fails on a node without IPv4. Returns the
 * number of next hops in *n. */
static gboolean
entry_bind_via(Entry *e, guint *n, GError **error)
{
    *n = 0;
    for (guint v = 0; v < e->spec->via->len; v++) {
        const char *name = e->spec->via->pdata[v];
        guint i = 0;
        while (i < e->n_nodes && g_strcmp0(e->nodes[i].node->name, name) != 0)
            i++;
        if (i == e->n_nodes || e->nodes[i].addr.family == SIM_AF_NONE) {
            g_set_error(error, ENTRY_ERROR, ENTRY_ERROR_NO_NODE,
                        "%s:%u:%u: error: traffic %s: via node '%s' has no IPv4 address",
                        e->c->scenario->file, e->spec->pos.line, e->spec->pos.column, e->t->name,
                        name);
            return FALSE;
        }
        *n += !e->nodes[i].next_hop;
        e->nodes[i].next_hop = TRUE;
    }
    return TRUE;
}

/* dnsRoundRobin: which node each `to` entry belongs to (-1: an addresses: record). */
static void
entry_bind_dns(Entry *e)
{
    e->dns_nodes = g_array_new(FALSE, FALSE, sizeof(gint));
    e->cache = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < e->t->to->len; i++) {
        const SimSockAddr *sa = &g_array_index(e->t->to, SimSockAddr, i);
        gint node = -1;
        for (guint j = 0; j < e->n_nodes && e->spec->records->len == 0 && node < 0; j++)
            if (sim_addr_equal(&e->nodes[j].addr, &sa->addr))
                node = (gint)j;
        g_array_append_val(e->dns_nodes, node);
    }
}

/* loadBalancer: the converged state at 0 s - a node is in rotation exactly when its check
 * passes; nodes out of rotation are logged. */
static void
entry_init_health(Entry *e)
{
    for (guint i = 0; i < e->n_nodes; i++) {
        EntryNode *n = &e->nodes[i];
        if (n->addr.family == SIM_AF_NONE)
            continue;
        const char *why = NULL;
        n->health.healthy = n->next_hop = entry_probe_answer(e, i, &why);
        if (n->health.healthy)
            continue;
        g_autofree char *url = entry_probe_url(e, i);
        entry_record(e, "lb-out-of-rotation", n->node->name,
                     g_strdup_printf("%s fails (%s)", url, why));
    }
}

/* See model/entry.h. */
Entry *
entry_new(const Cluster *c, SimNet *net, const ScenarioTraffic *t, SimHost *client, guint index,
          guint64 seed, GError **error)
{
    g_return_val_if_fail(c != NULL && net != NULL && t != NULL && t->entry != NULL, NULL);
    g_autoptr(Entry) e = g_new0(Entry, 1);
    e->c = c;
    e->loop = sim_net_loop(net);
    e->t = t;
    e->spec = t->entry;
    e->announcer = -1;
    e->log = g_ptr_array_new_with_free_func((GDestroyNotify)entry_record_free);
    e->scratch = g_array_new(FALSE, FALSE, sizeof(guint));
    e->flows = g_hash_table_new_full(entry_flow_key_hash, entry_flow_key_equal, NULL, g_free);
    e->probes = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_free, NULL);
    g_autofree char *stream = g_strdup_printf("entry/%s", t->name);
    SimRng rng;
    sim_rng_init(&rng, seed, stream);
    e->key = sim_rng_next(&rng);
    e->n_nodes = c->nodes->len;
    e->nodes = g_new0(EntryNode, e->n_nodes);
    for (guint i = 0; i < e->n_nodes; i++) {
        e->nodes[i].node = c->nodes->pdata[i];
        e->nodes[i].up = TRUE;
        entry_node_ipv4(e->nodes[i].node, &e->nodes[i].addr);
    }
    if (e->spec->kind == SCENARIO_ENTRY_DNS_ROUND_ROBIN) {
        if (t->to->len == 0) {
            g_set_error(error, ENTRY_ERROR, ENTRY_ERROR_NO_NODE,
                        "%s:%u:%u: error: traffic %s: no node has an IPv4 address for the "
                        "name's A records",
                        c->scenario->file, e->spec->pos.line, e->spec->pos.column, t->name);
            return NULL;
        }
        entry_bind_dns(e);
        return g_steal_pointer(&e);
    }
    guint hops = 0;
    if (!entry_bind_service(e, error) ||
        (e->spec->kind == SCENARIO_ENTRY_EXTERNAL_IP && !entry_bind_via(e, &hops, error)))
        return NULL;
    if (e->spec->kind == SCENARIO_ENTRY_LOAD_BALANCER)
        entry_init_health(e);
    if (hops == 1) { /* externalIP via one node: the client's network routes it there */
        for (guint i = 0; client != NULL && i < e->n_nodes; i++)
            if (e->nodes[i].next_hop)
                entry_route_client(client, &e->spec->address, &e->nodes[i].addr);
        return g_steal_pointer(&e);
    }
    SimAddr gw = entry_add_router(e, net, index);
    if (client != NULL)
        entry_route_client(client, &e->spec->address, &gw);
    return g_steal_pointer(&e);
}

/* See model/entry.h. */
void
entry_free(Entry *e)
{
    if (e == NULL)
        return;
    g_free(e->svc_ns);
    g_free(e->svc_name);
    g_free(e->nodes);
    g_ptr_array_unref(e->log);
    g_array_unref(e->scratch);
    g_hash_table_unref(e->flows);
    g_hash_table_unref(e->probes);
    g_clear_pointer(&e->dns_nodes, g_array_unref);
    g_clear_pointer(&e->cache, g_array_unref);
    g_free(e);
}

/* See model/entry.h. */
void
entry_start(Entry *e)
{
    g_return_if_fail(e != NULL);
    switch (e->spec->kind) {
    case SCENARIO_ENTRY_LOAD_BALANCER:
        sim_loop_schedule_after(e->loop, e->spec->hc_interval, entry_probe_round, e);
        sim_loop_schedule_after(e->loop, ENTRY_FLOW_SWEEP, entry_flow_sweep, e);
        break;
    case SCENARIO_ENTRY_METALLB_L2:
    case SCENARIO_ENTRY_METALLB_BGP:
        entry_reconcile(e);
        sim_loop_schedule_after(e->loop, ENTRY_TICK, entry_tick, e);
        break;
    case SCENARIO_ENTRY_DIRECT:
    case SCENARIO_ENTRY_DNS_ROUND_ROBIN:
    case SCENARIO_ENTRY_EXTERNAL_IP:
        break;
    }
}

/* See model/entry.h. A death is noticed by the others after the model's detection time
 * (memberlist for layer 2, the hold timer or BFD for BGP): a reconciliation runs then. */
void
entry_node_power(Entry *e, const K8sNode *node, gboolean up)
{
    g_return_if_fail(e != NULL && node != NULL);
    for (guint i = 0; i < e->n_nodes; i++) {
        EntryNode *n = &e->nodes[i];
        if (n->node != node || n->up == up)
            continue;
        n->up = up;
        if (up)
            continue;
        n->down_at = sim_loop_now(e->loop);
        SimTime detect = e->spec->kind == SCENARIO_ENTRY_METALLB_L2 ? e->spec->failover_delay
                         : e->spec->bfd_detect > 0                  ? e->spec->bfd_detect
                                                                    : e->spec->hold_time;
        if (e->spec->kind == SCENARIO_ENTRY_METALLB_L2 ||
            e->spec->kind == SCENARIO_ENTRY_METALLB_BGP)
            sim_loop_schedule_after(e->loop, detect, entry_detect, e);
    }
}

/* See model/entry.h. */
void
entry_set_health_servers(Entry *e, const HealthCheck *hc)
{
    g_return_if_fail(e != NULL);
    e->hc = hc;
}

/* See model/entry.h. */
const GPtrArray *
entry_log(const Entry *e)
{
    g_return_val_if_fail(e != NULL, NULL);
    return e->log;
}

/* See model/entry.h. */
SimHost *
entry_router(const Entry *e)
{
    g_return_val_if_fail(e != NULL, NULL);
    return e->router;
}
