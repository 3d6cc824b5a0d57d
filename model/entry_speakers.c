/* SPDX-License-Identifier: Apache-2.0 */
/* The entry models that watch the cluster over time (see model/entry.h): the cloud load
 * balancer's health checker and rotation, MetalLB's speakers (layer 2 announcer election and
 * failover, BGP advertisements with hold timers or BFD), and the DNS round-robin server with the
 * client's TTL cache. Part of model/entry.c.
 */
#include "model/entry_private.h"

#include <string.h>

/* ------------------------------------------------------------------ loadBalancer health checks */

/* See model/entry_private.h. */
gboolean
entry_probe_answer(const Entry *e, guint i, const char **why)
{
    const K8sService *svc = entry_service(e);
    *why = "503: the Service is gone";
    if (svc == NULL)
        return FALSE;
    if (svc->external_policy != K8S_POLICY_LOCAL || svc->health_check_node_port == 0)
        return TRUE;
    *why = "503: no local ready endpoint";
    return entry_local_endpoints(e->c, svc, e->nodes[i].node) > 0;
}

/* See model/entry_private.h. */
char *
entry_probe_url(const Entry *e, guint i)
{
    const K8sService *svc = entry_service(e);
    char ip[SIM_ADDR_STRLEN];
    sim_addr_to_string(&e->nodes[i].addr, ip);
    if (svc != NULL && svc->external_policy == K8S_POLICY_LOCAL && svc->health_check_node_port)
        return g_strdup_printf("http://%s:%u/", ip, svc->health_check_node_port);
    return g_strdup_printf("http://%s:%u/healthz", ip, HEALTHCHECK_PROXY_PORT);
}

/* Counts one probe outcome of node i; a change of state moves it in or out of rotation and is
 * logged. */
static void
entry_probe_note(Entry *e, guint i, gboolean ok, const char *why)
{
    EntryNode *n = &e->nodes[i];
    const ScenarioEntry *s = e->spec;
    if (!entry_health_note(&n->health, ok, s->hc_healthy, s->hc_unhealthy))
        return;
    n->next_hop = n->health.healthy;
    g_autofree char *url = entry_probe_url(e, i);
    if (ok)
        entry_record(e, "lb-into-rotation", n->node->name,
                     g_strdup_printf("%s passed %u time(s) in a row", url, s->hc_healthy));
    else
        entry_record(
            e, "lb-out-of-rotation", n->node->name,
            g_strdup_printf("%s failed %u times in a row (%s)", url, s->hc_unhealthy, why));
}

/* A real health probe in flight: an HTTP request over TCP from the router to a node. */
typedef struct {
    Entry *e;
    guint node;
    guint16 port;
    const char *path; /* (static) */
    gboolean decided;
} EntryProbe;

/* The port and path a probe of the entry's Service asks: healthCheckNodePort "/" for Local,
 * kube-proxy's 10256 "/healthz" for Cluster. */
static guint16
entry_probe_target(const Entry *e, const char **path)
{
    const K8sService *svc = entry_service(e);
    if (svc != NULL && svc->external_policy == K8S_POLICY_LOCAL && svc->health_check_node_port) {
        *path = "/";
        return svc->health_check_node_port;
    }
    *path = "/healthz";
    return HEALTHCHECK_PROXY_PORT;
}

/* Counts the probe's outcome once. */
static void
entry_probe_decide(EntryProbe *p, gboolean ok, const char *why)
{
    if (p->decided)
        return;
    p->decided = TRUE;
    entry_probe_note(p->e, p->node, ok, why);
}

/* The probe connected: the request goes out ("GET PATH HTTP/1.1", Host, a blank line). */
static void
entry_probe_connected(SimSocket *s, gpointer data)
{
    EntryProbe *p = data;
    g_autofree char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", p->path,
                                           p->e->nodes[p->node].node->name);
    sim_socket_send(s, (guint32)strlen(req));
}

/* The server answered and closed: its status decides (200 passes). */
static void
entry_probe_peer_closed(SimSocket *s, gpointer data)
{
    EntryProbe *p = data;
    guint status =
        healthcheck_status(p->e->hc, p->e->nodes[p->node].node->name, p->port, p->path, NULL);
    g_autofree char *why = g_strdup_printf("HTTP %u", status);
    entry_probe_decide(p, status == 200, why);
    sim_socket_close(s);
}

/* The probe's socket is gone: without an answer it failed; forget it. */
static void
entry_probe_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    EntryProbe *p = data;
    entry_probe_decide(p, FALSE,
                       reason == SIM_CLOSE_TIMEOUT   ? "timeout"
                       : reason == SIM_CLOSE_REFUSED ? "connection refused"
                                                     : "connection reset");
    g_hash_table_remove(p->e->probes, p);
}

static const SimSocketOps entry_probe_ops = {
    .connected = entry_probe_connected,
    .peer_closed = entry_probe_peer_closed,
    .closed = entry_probe_closed,
};

/* Sends a real probe from the router to node i; it must connect within the timeout. */
static void
entry_probe_send(Entry *e, guint i)
{
    EntryProbe *p = g_new0(EntryProbe, 1);
    p->e = e;
    p->node = i;
    p->port = entry_probe_target(e, &p->path);
    SimSockAddr dst = {e->nodes[i].addr, p->port};
    SimTcpOptions opts = {.connect_timeout = e->spec->hc_timeout, .syn_retries = 1};
    g_hash_table_add(e->probes, p);
    sim_socket_connect(e->router, SIM_PROTO_TCP, &dst, &opts, &entry_probe_ops, p);
}

/* The probes sent to dead nodes time out. */
static SimTime
entry_probe_timeout(SimLoop *loop, SimEventId id, gpointer data)
{
    Entry *e = data;
    for (guint i = 0; i < e->n_nodes; i++) {
        if (!e->nodes[i].probing)
            continue;
        e->nodes[i].probing = FALSE;
        entry_probe_note(e, i, FALSE, "timeout");
    }
    return SIM_LOOP_NOMORE;
}

/* See model/entry_private.h. */
SimTime
entry_probe_round(SimLoop *loop, SimEventId id, gpointer data)
{
    Entry *e = data;
    gboolean waiting = FALSE;
    for (guint i = 0; i < e->n_nodes; i++) {
        EntryNode *n = &e->nodes[i];
        if (n->addr.family == SIM_AF_NONE)
            continue;
        if (e->hc != NULL && e->router != NULL) {
            entry_probe_send(e, i);
            continue;
        }
        if (!n->up) {
            n->probing = waiting = TRUE;
            continue;
        }
        const char *why = NULL;
        gboolean ok = entry_probe_answer(e, i, &why);
        entry_probe_note(e, i, ok, why);
    }
    if (waiting)
        sim_loop_schedule_after(loop, e->spec->hc_timeout, entry_probe_timeout, e);
    return e->spec->hc_interval;
}

/* See model/entry_private.h. */
SimTime
entry_flow_sweep(SimLoop *loop, SimEventId id, gpointer data)
{
    Entry *e = data;
    SimTime now = sim_loop_now(loop);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, e->flows);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const EntryFlow *f = value;
        if (now - f->last_seen >= e->spec->flow_idle_timeout)
            g_hash_table_iter_remove(&it);
    }
    return ENTRY_FLOW_SWEEP;
}

/* ------------------------------------------------------------------ MetalLB speakers */

/* Does the rest of the cluster still count node i as a live speaker at now? A dead node stays
 * a member until the failure detection delay has passed. */
static gboolean
entry_member(const Entry *e, guint i, SimTime now, SimTime detect)
{
    const EntryNode *n = &e->nodes[i];
    return n->up || now < n->down_at + detect;
}

/* metallbL2: elects the announcer among the eligible members; a new one sends a gratuitous
 * ARP, so the router's ARP entry follows at once. */
static void
entry_l2_reconcile(Entry *e, SimTime now)
{
    gboolean local = entry_policy_local(e), any = local || entry_service_has_endpoint(e);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GArray) index = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < e->n_nodes; i++) {
        if (!any || e->nodes[i].addr.family == SIM_AF_NONE ||
            !entry_member(e, i, now, e->spec->failover_delay))
            continue;
        if (local && !entry_node_has_endpoint(e, i))
            continue;
        g_ptr_array_add(names, e->nodes[i].node->name);
        g_array_append_val(index, i);
    }
    gint winner = -1;
    if (names->len > 0)
        winner = (gint)g_array_index(
            index, guint,
            entry_l2_elect((const char *const *)names->pdata, names->len, &e->spec->address));
    if (winner == e->announcer)
        return;
    char ip[SIM_ADDR_STRLEN];
    entry_address_text(e, ip);
    gint old = e->announcer;
    e->announcer = winner;
    if (winner < 0) {
        entry_record(e, "l2-withdrawn", ip,
                     g_strdup_printf("no eligible node announces %s any more", ip));
        return;
    }
    const char *name = e->nodes[winner].node->name;
    if (old < 0)
        entry_record(e, "l2-announced", name, g_strdup_printf("%s answers ARP for %s", name, ip));
    else
        entry_record(e, "l2-failover", name,
                     g_strdup_printf("gratuitous ARP: %s moves from %s to %s", ip,
                                     e->nodes[old].node->name, name));
}

/* metallbBGP: the router's next hops. An advertising node (alive; for Local with a ready local
 * endpoint) is one; a live node that stops advertising withdraws at once; a dead one stays
 * until its session's hold time (or BFD) expires. */
static void
entry_bgp_reconcile(Entry *e, SimTime now)
{
    gboolean local = entry_policy_local(e), any = local || entry_service_has_endpoint(e);
    SimTime detect = e->spec->bfd_detect > 0 ? e->spec->bfd_detect : e->spec->hold_time;
    char ip[SIM_ADDR_STRLEN];
    entry_address_text(e, ip);
    for (guint i = 0; i < e->n_nodes; i++) {
        EntryNode *n = &e->nodes[i];
        if (n->addr.family == SIM_AF_NONE)
            continue;
        gboolean advertises = n->up && any && (!local || entry_node_has_endpoint(e, i));
        gboolean hop = advertises || (!n->up && n->next_hop && entry_member(e, i, now, detect));
        if (hop == n->next_hop)
            continue;
        n->next_hop = hop;
        if (hop)
            entry_record(
                e, "bgp-announced", n->node->name,
                g_strdup_printf("the router adds %s as a next hop for %s/32", n->node->name, ip));
        else
            entry_record(e, "bgp-withdrawn", n->node->name,
                         g_strdup_printf("the router removes next hop %s for %s/32 (%s)",
                                         n->node->name, ip,
                                         n->up                     ? "withdrawn: no ready endpoint"
                                         : e->spec->bfd_detect > 0 ? "BFD session down"
                                                                   : "hold timer expired"));
    }
}

/* See model/entry_private.h. */
void
entry_reconcile(Entry *e)
{
    SimTime now = sim_loop_now(e->loop);
    if (e->spec->kind == SCENARIO_ENTRY_METALLB_L2)
        entry_l2_reconcile(e, now);
    else if (e->spec->kind == SCENARIO_ENTRY_METALLB_BGP)
        entry_bgp_reconcile(e, now);
}

/* See model/entry_private.h. */
SimTime
entry_tick(SimLoop *loop, SimEventId id, gpointer data)
{
    entry_reconcile(data);
    return ENTRY_TICK;
}

/* See model/entry_private.h. */
SimTime
entry_detect(SimLoop *loop, SimEventId id, gpointer data)
{
    entry_reconcile(data);
    return SIM_LOOP_NOMORE;
}

/* ------------------------------------------------------------------ dnsRoundRobin */

/* Is `to` entry i a current A record? Addresses given as records always are; node addresses
 * are with nodes: all, and with nodes: ready while the node is Ready. */
static gboolean
entry_dns_record_live(const Entry *e, guint i)
{
    gint node = g_array_index(e->dns_nodes, gint, i);
    return node < 0 || !e->spec->nodes_ready || e->nodes[node].node->ready;
}

/* The client resolves the name: the server's answer (its records, rotated by one per query)
 * replaces the cache for the TTL. An empty answer keeps the stale cache (serve-stale, RFC
 * 8767). A changed set of addresses is logged. */
static void
entry_dns_resolve(Entry *e, SimTime now)
{
    g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < e->t->to->len; i++)
        if (entry_dns_record_live(e, i))
            g_array_append_val(live, i);
    e->expires = now + e->spec->ttl;
    if (live->len == 0)
        return;
    gboolean same = e->resolved && live->len == e->cache->len;
    for (guint i = 0; same && i < live->len; i++) {
        gboolean found = FALSE;
        for (guint j = 0; j < e->cache->len && !found; j++)
            found = g_array_index(e->cache, guint, j) == g_array_index(live, guint, i);
        same = found;
    }
    guint shift = e->rotation++ % live->len;
    g_array_set_size(e->cache, 0);
    for (guint i = 0; i < live->len; i++)
        g_array_append_val(e->cache, g_array_index(live, guint, (i + shift) % live->len));
    e->cursor = 0;
    e->resolved = TRUE;
    if (same)
        return;
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; i < e->cache->len; i++) {
        char buf[SIM_ADDR_STRLEN];
        const SimSockAddr *sa =
            &g_array_index(e->t->to, SimSockAddr, g_array_index(e->cache, guint, i));
        g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", sim_addr_to_string(&sa->addr, buf));
    }
    entry_record_at(e, now, "dns-resolved", e->t->name,
                    g_strdup_printf("the client caches %s for %" G_GINT64_FORMAT " s", s->str,
                                    e->spec->ttl / SIM_SEC));
}

/* See model/entry.h. */
guint
entry_next_target(Entry *e, SimTime now)
{
    g_return_val_if_fail(e != NULL, 0);
    if (e->spec->kind != SCENARIO_ENTRY_DNS_ROUND_ROBIN)
        return 0;
    if (!e->resolved || now >= e->expires)
        entry_dns_resolve(e, now);
    if (e->cache->len == 0)
        return 0;
    return g_array_index(e->cache, guint, e->cursor++ % e->cache->len);
}
