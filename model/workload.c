/* SPDX-License-Identifier: Apache-2.0 */
/* Workloads: external client hosts, their traffic generators, and what each connection saw.
 *
 * Models a load generator outside the cluster (wrk, hey, browsers): Poisson arrivals or a
 * closed loop of concurrent connections, round-robin over targets, a client TCP stack that
 * gives up after a connect timeout and a number of SYN retries (net.ipv4.tcp_syn_retries), and
 * UDP request/answer exchanges with a response timeout. A traffic with failover on skips, for
 * a while, a target whose last connections all failed, then probes it with one connection, as
 * client libraries with a circuit breaker or outlier detection do. It leaves out think times,
 * keep-alive (one request per connection, as HTTP/1.0 or `Connection: close`), and DNS.
 *
 * A TCP client reads until the server closes (HTTP/1.0 style), so the server, not the client,
 * holds TIME_WAIT, as with real short-lived HTTP connections. A connection is decided when its
 * full response arrives (succeeded) or when it ends without it; its socket may stay open a
 * little longer for the FIN exchange.
 */
#include "model/workload.h"

#include <math.h>
#include <string.h>

/* net.ipv4.ip_local_port_range, Linux's default. */
#define WORKLOAD_PORT_LOW 32768
#define WORKLOAD_PORT_HIGH 60999

/* ------------------------------------------------------------------ histogram */

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS) /* buckets per power of two */

struct WorkloadHist {
    guint64 *buckets;
    guint n_buckets; /* allocated */
    guint64 count;
    guint64 sum; /* saturates at G_MAXUINT64 */
    SimTime min, max;
};

/* The bucket of a value: the value itself below 2 * HIST_SUB, then HIST_SUB buckets per
 * power of two, indexed by the top HIST_SUB_BITS + 1 bits of the value. */
static guint
hist_index(guint64 v)
{
    if (v < 2 * HIST_SUB)
        return (guint)v;
    guint msb = 63 - (guint)__builtin_clzll(v);
    guint shift = msb - HIST_SUB_BITS;
    return shift * HIST_SUB + (guint)(v >> shift);
}

/* The smallest value of bucket idx and the bucket's width. */
static void
hist_bucket_range(guint idx, guint64 *lower, guint64 *width)
{
    if (idx < 2 * HIST_SUB) {
        *lower = idx;
        *width = 1;
        return;
    }
    guint shift = idx / HIST_SUB - 1;
    guint64 sub = idx - shift * HIST_SUB;
    *lower = sub << shift;
    *width = G_GUINT64_CONSTANT(1) << shift;
}

/* See model/workload.h. */
WorkloadHist *
workload_hist_new(void)
{
    return g_new0(WorkloadHist, 1);
}

/* See model/workload.h. */
void
workload_hist_free(WorkloadHist *h)
{
    if (h == NULL)
        return;
    g_free(h->buckets);
    g_free(h);
}

/* See model/workload.h. The bucket array grows by doubling to the largest value seen. */
void
workload_hist_add(WorkloadHist *h, SimTime value)
{
    g_return_if_fail(h != NULL);
    guint64 v = value < 0 ? 0 : (guint64)value;
    guint idx = hist_index(v);
    if (idx >= h->n_buckets) {
        guint n = MAX(h->n_buckets * 2, 4 * HIST_SUB);
        while (n <= idx)
            n *= 2;
        h->buckets = g_renew(guint64, h->buckets, n);
        memset(h->buckets + h->n_buckets, 0, (n - h->n_buckets) * sizeof(guint64));
        h->n_buckets = n;
    }
    h->buckets[idx]++;
    h->sum = h->sum + v < h->sum ? G_MAXUINT64 : h->sum + v;
    if (h->count == 0 || (SimTime)v < h->min)
        h->min = (SimTime)v;
    if ((SimTime)v > h->max)
        h->max = (SimTime)v;
    h->count++;
}

/* See model/workload.h. */
guint64
workload_hist_count(const WorkloadHist *h)
{
    g_return_val_if_fail(h != NULL, 0);
    return h->count;
}

/* See model/workload.h. */
SimTime
workload_hist_percentile(const WorkloadHist *h, double p)
{
    g_return_val_if_fail(h != NULL && p > 0 && p <= 100, 0);
    if (h->count == 0)
        return 0;
    guint64 rank = (guint64)ceil(p / 100.0 * (double)h->count);
    rank = CLAMP(rank, 1, h->count);
    guint64 seen = 0;
    for (guint i = 0; i < h->n_buckets; i++) {
        seen += h->buckets[i];
        if (seen < rank)
            continue;
        guint64 lower, width;
        hist_bucket_range(i, &lower, &width);
        SimTime mid = (SimTime)(lower + (width - 1) / 2);
        return CLAMP(mid, h->min, h->max);
    }
    return h->max;
}

/* See model/workload.h. */
SimTime
workload_hist_max(const WorkloadHist *h)
{
    g_return_val_if_fail(h != NULL, 0);
    return h->max;
}

/* See model/workload.h. */
SimTime
workload_hist_mean(const WorkloadHist *h)
{
    g_return_val_if_fail(h != NULL, 0);
    return h->count ? (SimTime)((h->sum + h->count / 2) / h->count) : 0;
}

/* ------------------------------------------------------------------ arrivals */

/* ln(x) for finite x > 0 from frexp() and the series 2 atanh(t), t = (m-1)/(m+1), with m in
 * [sqrt(1/2), sqrt(2)): |t| <= 0.1716, so 12 odd terms reach double precision. Only exact
 * IEEE-754 operations are used (no libm transcendental whose last bit may differ between C
 * libraries), so every machine computes the same gaps. */
static double
workload_ln(double x)
{
    int e;
    double m = frexp(x, &e);
    if (m < M_SQRT1_2) {
        m *= 2;
        e--;
    }
    double t = (m - 1) / (m + 1), t2 = t * t, term = t, sum = 0;
    for (int k = 1; k <= 23; k += 2) {
        sum += term / k;
        term *= t2;
    }
    return 2 * sum + e * 0.69314718055994530942;
}

/* See model/workload.h. */
void
workload_arrivals_init(WorkloadArrivals *a, guint64 seed, const char *name, double rate)
{
    g_return_if_fail(a != NULL && name != NULL && rate > 0);
    g_autofree char *stream = g_strdup_printf("traffic/%s", name);
    sim_rng_init(&a->rng, seed, stream);
    a->mean_gap_ns = 1e9 / rate;
}

/* See model/workload.h. Inverse transform: -ln(U) times the mean gap, U uniform in (0, 1]. */
SimTime
workload_arrivals_next(WorkloadArrivals *a)
{
    g_return_val_if_fail(a != NULL, 0);
    double u = 1.0 - sim_rng_double(&a->rng); /* (0, 1] */
    double gap = -workload_ln(u) * a->mean_gap_ns;
    if (gap >= 9e18)
        return (SimTime)9e18;
    return MAX((SimTime)(gap + 0.5), 1); /* time always moves on, even at absurd rates */
}

/* ------------------------------------------------------------------ run-time state */

/* See model/workload.h. */
SimTime
workload_timeout(const ScenarioTraffic *t)
{
    g_return_val_if_fail(t != NULL, 0);
    if (t->protocol == SIM_PROTO_UDP)
        return t->response_timeout > 0 ? t->response_timeout : SCENARIO_RESPONSE_TIMEOUT;
    return t->connect_timeout > 0 ? t->connect_timeout : SCENARIO_CONNECT_TIMEOUT;
}

/* See model/workload.h. */
const char *
workload_outcome_name(WorkloadOutcome o)
{
    switch (o) {
    case WORKLOAD_SUCCEEDED:
        return "succeeded";
    case WORKLOAD_TIMEOUT:
        return "timeout";
    case WORKLOAD_REFUSED:
        return "refused";
    case WORKLOAD_RESET:
        return "reset";
    case WORKLOAD_DROPPED:
        return "dropped";
    }
    return "?";
}

typedef struct WorkloadTraffic WorkloadTraffic;

/* How a connection is found: protocol, the client's address and port, the target it dialled. */
typedef struct {
    SimSockAddr client;
    SimSockAddr target;
    guint8 proto;
} WorkloadKey;

/* One client connection, from its start until its socket is gone. */
typedef struct WorkloadConn {
    WorkloadKey key; /* first: the registry's key points here */
    WorkloadRequest req;
    WorkloadTraffic *traffic;
    SimSocket *socket;
    SimTime started;
    guint32 received;
    SimEventId timer; /* UDP response timeout */
    gboolean decided;
    gboolean registered;
    struct WorkloadConn *prev, *next; /* the workload's list of open connections */
} WorkloadConn;

/* What a traffic with failover knows of one target. */
typedef struct {
    guint failures;     /* consecutive failed connections, in the order they were decided */
    SimTime skip_until; /* left out of the round-robin before this time */
} WorkloadTargetHealth;

struct WorkloadTraffic {
    Workload *w;
    guint index;
    const ScenarioTraffic *spec;
    SimHost *host;
    const SimAddr *src; /* the client's address (NULL: unknown client) */
    WorkloadArrivals arrivals;
    guint next_target;
    WorkloadTargetHealth *health; /* one per target of spec->to */
    SimTime stop;                 /* min(spec->stop, end of run) */
    WorkloadTrafficStats stats;
    WorkloadTargetFunc target_func; /* (nullable) replaces round-robin */
    gpointer target_data;
};

struct Workload {
    SimNet *net;
    SimLoop *loop;
    const Scenario *sc;
    guint64 seed;
    GPtrArray *client_hosts; /* SimHost*, parallel to sc->clients */
    WorkloadTraffic *traffic;
    guint n_traffic;
    GHashTable *open;    /* WorkloadKey* -> WorkloadConn* */
    GHashTable *perturb; /* WorkloadKey* (client port 0, owned) -> guint32*: TCP port offsets */
    SimRng ports;        /* stream "workload/ports" */
    WorkloadConn *conns; /* open connections, newest first */
    guint64 undecided;
    gboolean stop_when_idle;
    gboolean finished; /* workload_finish() ran: nothing starts any more */
};

/* GHashFunc over a WorkloadKey. */
static guint
workload_key_hash(gconstpointer p)
{
    const WorkloadKey *k = p;
    guint h = sim_addr_hash(&k->client.addr) * 31u + k->client.port;
    h = h * 31u + sim_addr_hash(&k->target.addr);
    return (h * 31u + k->target.port) * 31u + k->proto;
}

/* GEqualFunc over WorkloadKeys. */
static gboolean
workload_key_equal(gconstpointer a, gconstpointer b)
{
    const WorkloadKey *x = a, *y = b;
    return x->proto == y->proto && x->client.port == y->client.port &&
           x->target.port == y->target.port && sim_addr_equal(&x->client.addr, &y->client.addr) &&
           sim_addr_equal(&x->target.addr, &y->target.addr);
}

/* Adds a client host: eth0 with the client's address on the fabric, on-link default route. */
static SimHost *
workload_add_client(Workload *w, const ScenarioClient *c)
{
    SimHost *h = sim_net_add_host(w->net, c->name, FALSE);
    guint eth0 = sim_host_add_iface(h, "eth0", NULL);
    sim_host_add_addr(h, eth0, &c->address);
    SimCidr any = {.addr = {.family = c->address.family}, .prefix = 0};
    sim_host_add_route(h, &any, eth0, NULL);
    sim_net_attach_fabric(w->net, h, eth0, w->sc->net_latency, w->sc->net_bandwidth);
    return h;
}

/* Linux's TCP source port for connect() (__inet_hash_connect: RFC 6056 algorithm 3 with a
 * per-destination perturbation): the scan starts at the destination's offset in
 * ip_local_port_range, even ports first, skipping 4-tuples in use; the offset then moves on by
 * max(ports scanned, 2 * random(0..7)) + 2. Successive connections to one destination thus
 * walk the range, and a port comes back only after thousands of connections - so a new
 * connection does not land on the conntrack entry a recent failed one left on a node, as it
 * would with ports drawn at random. 0 when every port is in use (the kernel's EADDRNOTAVAIL;
 * the socket layer then fails the connect). */
static guint16
workload_tcp_port(Workload *w, const SimAddr *src, const SimSockAddr *dst)
{
    WorkloadKey probe = {.client = {*src, 0}, .target = *dst, .proto = SIM_PROTO_TCP};
    guint32 *perturb = g_hash_table_lookup(w->perturb, &probe);
    if (perturb == NULL) {
        perturb = g_new(guint32, 1);
        *perturb = (guint32)sim_rng_next(&w->ports);
        g_hash_table_insert(w->perturb, g_memdup2(&probe, sizeof probe), perturb);
    }
    const guint range = WORKLOAD_PORT_HIGH - WORKLOAD_PORT_LOW + 1; /* even: parity kept */
    guint offset = (*perturb % range) & ~1u;
    for (guint parity = 0; parity < 2; parity++, offset++) {
        for (guint i = 0; i < range; i += 2) {
            probe.client.port = (guint16)(WORKLOAD_PORT_LOW + (offset + i) % range);
            if (g_hash_table_contains(w->open, &probe))
                continue;
            *perturb += MAX(i, (guint)sim_rng_below(&w->ports, 8) * 2) + 2;
            return probe.client.port;
        }
    }
    return 0;
}

/* See model/workload.h. */
Workload *
workload_new(SimNet *net, const Scenario *sc, guint64 seed)
{
    g_return_val_if_fail(net != NULL && sc != NULL, NULL);
    Workload *w = g_new0(Workload, 1);
    w->net = net;
    w->loop = sim_net_loop(net);
    w->sc = sc;
    w->seed = seed;
    w->client_hosts = g_ptr_array_new();
    for (guint i = 0; i < sc->clients->len; i++)
        g_ptr_array_add(w->client_hosts, workload_add_client(w, sc->clients->pdata[i]));
    w->open = g_hash_table_new(workload_key_hash, workload_key_equal);
    w->perturb = g_hash_table_new_full(workload_key_hash, workload_key_equal, g_free, g_free);
    sim_rng_init(&w->ports, seed, "workload/ports");
    w->n_traffic = sc->traffic->len;
    w->traffic = g_new0(WorkloadTraffic, w->n_traffic);
    for (guint i = 0; i < w->n_traffic; i++) {
        WorkloadTraffic *t = &w->traffic[i];
        t->w = w;
        t->index = i;
        t->spec = sc->traffic->pdata[i];
        t->host = workload_client_host(w, t->spec->from);
        for (guint j = 0; j < sc->clients->len; j++) {
            const ScenarioClient *cl = sc->clients->pdata[j];
            if (g_strcmp0(cl->name, t->spec->from) == 0)
                t->src = &cl->address;
        }
        t->stats.targets = g_new0(WorkloadCounts, t->spec->to->len);
        t->health = g_new0(WorkloadTargetHealth, t->spec->to->len);
        t->stats.latency = workload_hist_new();
        t->stats.timeline = g_array_new(FALSE, TRUE, sizeof(WorkloadBucket));
        t->stats.target_timeline = g_array_new(FALSE, TRUE, sizeof(WorkloadCounts));
        if (t->spec->rate > 0)
            workload_arrivals_init(&t->arrivals, seed, t->spec->name, t->spec->rate);
    }
    return w;
}

/* See model/workload.h. */
void
workload_free(Workload *w)
{
    if (w == NULL)
        return;
    while (w->conns != NULL) {
        WorkloadConn *c = w->conns;
        w->conns = c->next;
        g_free(c);
    }
    for (guint i = 0; i < w->n_traffic; i++) {
        g_free(w->traffic[i].stats.targets);
        g_free(w->traffic[i].health);
        workload_hist_free(w->traffic[i].stats.latency);
        g_array_unref(w->traffic[i].stats.timeline);
        g_array_unref(w->traffic[i].stats.target_timeline);
    }
    g_free(w->traffic);
    g_hash_table_unref(w->open);
    g_hash_table_unref(w->perturb);
    g_ptr_array_unref(w->client_hosts);
    g_free(w);
}

/* See model/workload.h. */
SimHost *
workload_client_host(const Workload *w, const char *name)
{
    g_return_val_if_fail(w != NULL, NULL);
    for (guint i = 0; i < w->sc->clients->len; i++) {
        const ScenarioClient *c = w->sc->clients->pdata[i];
        if (g_strcmp0(c->name, name) == 0)
            return w->client_hosts->pdata[i];
    }
    return NULL;
}

/* See model/workload.h. */
void
workload_set_capture(Workload *w, SimPcap *pcap)
{
    g_return_if_fail(w != NULL);
    for (guint i = 0; i < w->client_hosts->len; i++)
        sim_host_set_capture(w->client_hosts->pdata[i], pcap);
}

/* See model/workload.h. */
const WorkloadTrafficStats *
workload_traffic_stats(const Workload *w, guint i)
{
    g_return_val_if_fail(w != NULL && i < w->n_traffic, NULL);
    return &w->traffic[i].stats;
}

/* See model/workload.h. */
void
workload_set_target_func(Workload *w, guint i, WorkloadTargetFunc func, gpointer data)
{
    g_return_if_fail(w != NULL && i < w->n_traffic);
    w->traffic[i].target_func = func;
    w->traffic[i].target_data = data;
}

/* See model/workload.h. */
guint64
workload_undecided(const Workload *w)
{
    g_return_val_if_fail(w != NULL, 0);
    return w->undecided;
}

/* See model/workload.h. */
void
workload_stop_when_idle(Workload *w)
{
    g_return_if_fail(w != NULL);
    w->stop_when_idle = TRUE;
    if (w->undecided == 0)
        sim_loop_stop(w->loop);
}

/* See model/workload.h. */
const WorkloadRequest *
workload_lookup(const Workload *w, SimProto proto, const SimSockAddr *client,
                const SimSockAddr *target)
{
    g_return_val_if_fail(w != NULL && client != NULL && target != NULL, NULL);
    WorkloadKey key = {.client = *client, .target = *target, .proto = proto};
    const WorkloadConn *c = g_hash_table_lookup(w->open, &key);
    return c != NULL ? &c->req : NULL;
}

/* ------------------------------------------------------------------ connections */

static void workload_start_closed_loop_one(WorkloadTraffic *t, SimTime delay);

/* How long a closed loop waits before replacing a connection that failed the instant it
 * started (no route, no free port), so that simulated time moves on. */
#define WORKLOAD_RETRY_PAUSE SIM_MSEC

/* With failover on, counts the outcome o of a connection to target of t: a success clears
 * the target's failures; the failover_after-th consecutive failure, and every later one,
 * leaves the target out of the round-robin until failover_retry_after from now. */
static void
workload_failover_note(WorkloadTraffic *t, guint target, WorkloadOutcome o, SimTime now)
{
    if (t->spec->failover_after == 0 || o == WORKLOAD_DROPPED)
        return;
    WorkloadTargetHealth *h = &t->health[target];
    if (o == WORKLOAD_SUCCEEDED) {
        h->failures = 0;
        h->skip_until = 0;
        return;
    }
    h->failures++;
    if (h->failures >= t->spec->failover_after)
        h->skip_until = MAX(h->skip_until, now + t->spec->failover_retry_after);
}

/* The target of t's next connection: the next one round-robin that failover does not skip
 * (the plain next one when failover is off or skips them all). A skipped target whose time
 * is up is probed by this one connection and skipped again until it is decided. */
static guint
workload_next_target(WorkloadTraffic *t, SimTime now)
{
    guint n = t->spec->to->len, pick = t->next_target;
    if (t->target_func != NULL) {
        pick = t->target_func(t->index, now, t->target_data);
        g_assert(pick < n);
        return pick;
    }
    if (t->spec->failover_after > 0) {
        for (guint i = 0; i < n; i++) {
            guint j = (t->next_target + i) % n;
            if (t->health[j].skip_until <= now) {
                pick = j;
                break;
            }
        }
        WorkloadTargetHealth *h = &t->health[pick];
        if (h->failures >= t->spec->failover_after)
            h->skip_until = MAX(h->skip_until, now + t->spec->failover_retry_after);
    }
    t->next_target = (pick + 1) % n;
    return pick;
}

/* Records the outcome of c (once), and lets a closed loop start the next connection. */
static void
workload_decide(WorkloadConn *c, WorkloadOutcome o)
{
    if (c->decided)
        return;
    WorkloadTraffic *t = c->traffic;
    Workload *w = t->w;
    SimTime now = sim_loop_now(w->loop);
    c->decided = TRUE;
    w->undecided--;
    t->stats.total.outcomes[o]++;
    t->stats.targets[c->req.target].outcomes[o]++;
    workload_failover_note(t, c->req.target, o, now);
    guint second = (guint)(c->started / SIM_SEC);
    if (second >= t->stats.timeline->len)
        g_array_set_size(t->stats.timeline, second + 1);
    WorkloadBucket *b = &g_array_index(t->stats.timeline, WorkloadBucket, second);
    guint n_to = t->spec->to->len, slot = second * n_to + c->req.target;
    if (slot >= t->stats.target_timeline->len)
        g_array_set_size(t->stats.target_timeline, (second + 1) * n_to);
    WorkloadCounts *tc = &g_array_index(t->stats.target_timeline, WorkloadCounts, slot);
    tc->sent++;
    tc->outcomes[o]++;
    if (o == WORKLOAD_SUCCEEDED) {
        b->succeeded++;
        workload_hist_add(t->stats.latency, now - c->started);
    } else {
        b->failed++;
    }
    if (t->spec->connections > 0 && now < t->stop && !w->finished)
        workload_start_closed_loop_one(t, now > c->started ? 0 : WORKLOAD_RETRY_PAUSE);
    if (w->stop_when_idle && w->undecided == 0)
        sim_loop_stop(w->loop);
}

/* Forgets c: out of the registry and the open list, freed. Its socket must be gone or
 * detached. */
static void
workload_release(WorkloadConn *c)
{
    Workload *w = c->traffic->w;
    if (c->registered)
        g_hash_table_remove(w->open, &c->key);
    if (c->timer != SIM_EVENT_ID_NONE)
        sim_loop_cancel(w->loop, c->timer);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    g_free(c);
}

/* What a socket's end means for a connection that had no full response yet. */
static WorkloadOutcome
workload_outcome_of_close(SimCloseReason r)
{
    switch (r) {
    case SIM_CLOSE_NORMAL: /* the server closed before the full response */
    case SIM_CLOSE_RESET:
        return WORKLOAD_RESET;
    case SIM_CLOSE_REFUSED:
        return WORKLOAD_REFUSED;
    case SIM_CLOSE_TIMEOUT:
        return WORKLOAD_TIMEOUT;
    }
    return WORKLOAD_RESET;
}

/* The handshake completed: the request goes out. */
static void
tcp_connected(SimSocket *s, gpointer data)
{
    WorkloadConn *c = data;
    if (c->req.request_bytes > 0)
        sim_socket_send(s, c->req.request_bytes);
}

/* Response bytes arrived: the connection succeeds once all of them are in. */
static void
tcp_data(SimSocket *s, guint32 bytes, gpointer data)
{
    WorkloadConn *c = data;
    c->received += bytes;
    if (c->req.response_bytes > 0 && c->received >= c->req.response_bytes)
        workload_decide(c, WORKLOAD_SUCCEEDED);
}

/* The server closed (after its response, normally): the client closes too. */
static void
tcp_peer_closed(SimSocket *s, gpointer data)
{
    WorkloadConn *c = data;
    workload_decide(c, c->received >= c->req.response_bytes ? WORKLOAD_SUCCEEDED : WORKLOAD_RESET);
    sim_socket_close(s);
}

/* The socket is gone: a connection without its full response failed; forget it. */
static void
tcp_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    WorkloadConn *c = data;
    workload_decide(c, workload_outcome_of_close(reason));
    c->socket = NULL;
    workload_release(c);
}

static const SimSocketOps tcp_client_ops = {
    .connected = tcp_connected,
    .data = tcp_data,
    .peer_closed = tcp_peer_closed,
    .closed = tcp_closed,
};

/* Callbacks for a socket the workload has let go of: nothing happens any more. */
static const SimSocketOps detached_ops = {0};

/* Ends a UDP exchange: the socket is detached and released, the connection forgotten. */
static void
udp_finish(WorkloadConn *c, WorkloadOutcome o)
{
    workload_decide(c, o);
    if (c->socket != NULL) {
        sim_socket_set_user_data(c->socket, &detached_ops, NULL);
        sim_socket_close(c->socket);
        c->socket = NULL;
    }
    workload_release(c);
}

/* No answer within the traffic's response timeout. */
static SimTime
udp_timeout(SimLoop *loop, SimEventId id, gpointer data)
{
    WorkloadConn *c = data;
    c->timer = SIM_EVENT_ID_NONE;
    udp_finish(c, WORKLOAD_TIMEOUT);
    return SIM_LOOP_NOMORE;
}

/* Answer bytes arrived: the exchange succeeds once all of them are in. */
static void
udp_data(SimSocket *s, guint32 bytes, gpointer data)
{
    WorkloadConn *c = data;
    c->received += bytes;
    if (c->received >= c->req.response_bytes)
        udp_finish(c, WORKLOAD_SUCCEEDED);
}

/* An ICMP error closed the socket (port unreachable, for instance): refused. */
static void
udp_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    WorkloadConn *c = data;
    c->socket = NULL;
    udp_finish(c, workload_outcome_of_close(reason));
}

static const SimSocketOps udp_client_ops = {
    .data = udp_data,
    .closed = udp_closed,
};

/* Starts one connection of t to its next target. */
static void
workload_connect(WorkloadTraffic *t)
{
    Workload *w = t->w;
    const ScenarioTraffic *spec = t->spec;
    WorkloadConn *c = g_new0(WorkloadConn, 1);
    c->traffic = t;
    c->started = sim_loop_now(w->loop);
    c->req.traffic = t->index;
    c->req.target = workload_next_target(t, c->started);
    c->req.request_bytes = spec->request_bytes;
    c->req.response_bytes = spec->response_bytes;
    c->key.target = g_array_index(spec->to, SimSockAddr, c->req.target);
    c->key.proto = (guint8)spec->protocol;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    w->undecided++;
    t->stats.total.sent++;
    t->stats.targets[c->req.target].sent++;

    gboolean udp = spec->protocol == SIM_PROTO_UDP;
    SimTcpOptions opts = {.connect_timeout = workload_timeout(spec),
                          .syn_retries = spec->syn_retries};
    if (spec->source_port != 0)
        opts.local_port = spec->source_port;
    else if (!udp && t->src != NULL && t->src->family == c->key.target.addr.family)
        opts.local_port = workload_tcp_port(w, t->src, &c->key.target);
    c->socket = t->host == NULL ? NULL
                                : sim_socket_connect(t->host, spec->protocol, &c->key.target, &opts,
                                                     udp ? &udp_client_ops : &tcp_client_ops, c);
    if (c->socket == NULL) { /* no route, no port: connect() fails at once */
        workload_decide(c, WORKLOAD_REFUSED);
        workload_release(c);
        return;
    }
    c->key.client = *sim_socket_local(c->socket);
    c->req.client = c->key.client;
    /* A socket pair is open once, so the key is free; never let a stale one hide the new. */
    if (!g_hash_table_contains(w->open, &c->key)) {
        g_hash_table_insert(w->open, &c->key, c);
        c->registered = TRUE;
    }
    if (udp) {
        sim_socket_send(c->socket, spec->request_bytes);
        c->timer = sim_loop_schedule_after(w->loop, workload_timeout(spec), udp_timeout, c);
    }
}

/* An open loop's next arrival. */
static SimTime
workload_arrival(SimLoop *loop, SimEventId id, gpointer data)
{
    WorkloadTraffic *t = data;
    SimTime now = sim_loop_now(loop);
    if (now >= t->stop)
        return SIM_LOOP_NOMORE;
    workload_connect(t);
    SimTime gap = workload_arrivals_next(&t->arrivals);
    return now + gap < t->stop ? gap : SIM_LOOP_NOMORE;
}

/* A closed loop's connection starts (while the traffic has not stopped). */
static SimTime
workload_closed_loop_event(SimLoop *loop, SimEventId id, gpointer data)
{
    WorkloadTraffic *t = data;
    if (sim_loop_now(loop) < t->stop)
        workload_connect(t);
    return SIM_LOOP_NOMORE;
}

/* Starts a closed loop's next connection delay from now, from the event loop (never from
 * inside a socket callback, so the network is not re-entered while it delivers). */
static void
workload_start_closed_loop_one(WorkloadTraffic *t, SimTime delay)
{
    sim_loop_schedule_after(t->w->loop, delay, workload_closed_loop_event, t);
}

/* See model/workload.h. */
void
workload_start(Workload *w, SimTime end)
{
    g_return_if_fail(w != NULL);
    for (guint i = 0; i < w->n_traffic; i++) {
        WorkloadTraffic *t = &w->traffic[i];
        t->stop = MIN(t->spec->stop, end);
        guint seconds = (guint)((MAX(t->stop, 0) + SIM_SEC - 1) / SIM_SEC);
        g_array_set_size(t->stats.timeline, seconds);
        gboolean supported =
            t->spec->protocol == SIM_PROTO_TCP || t->spec->protocol == SIM_PROTO_UDP;
        if (t->spec->start >= t->stop || !supported)
            continue;
        if (t->spec->connections > 0) {
            for (guint j = 0; j < t->spec->connections; j++)
                sim_loop_schedule_at(w->loop, t->spec->start, workload_closed_loop_event, t);
            continue;
        }
        SimTime first = t->spec->start + workload_arrivals_next(&t->arrivals);
        if (first < t->stop)
            sim_loop_schedule_at(w->loop, first, workload_arrival, t);
    }
}

/* See model/workload.h. */
void
workload_finish(Workload *w)
{
    g_return_if_fail(w != NULL);
    w->stop_when_idle = FALSE;
    w->finished = TRUE;
    for (WorkloadConn *c = w->conns; c != NULL; c = c->next)
        workload_decide(c, WORKLOAD_DROPPED);
}
