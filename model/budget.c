/* SPDX-License-Identifier: Apache-2.0 */
/* The cost of a run, estimated before it starts, and the limits that refuse an absurd one
 * (model/budget.h).
 *
 * Every term is an upper bound built from the scenario's numbers and a few per-item costs
 * measured on kpsim itself (an open connection with its sockets, timers and conntrack entries,
 * a pod with its host, veth and server, a rule as text and as parsed match). Arithmetic
 * saturates, so 10^9 replicas or a rate of 1e300/s give a huge estimate, never an overflow.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/budget.h"
#include "model/kube_proxy.h"
#include "model/pod_apps.h"
#include "model/workload.h"

G_DEFINE_QUARK(kpsim - budget - error - quark, budget_error)

/* Measured costs (kpsim run --stats on scenarios/, rounded up). */
#define BUDGET_EVENTS_PER_CONNECTION 40       /* the seed example: 31 */
#define BUDGET_EVENTS_PER_SEGMENT 4           /* a data segment and its ACK, both directions */
#define BUDGET_SEGMENT_BYTES 1448             /* TCP payload per segment (MSS minus options) */
#define BUDGET_CONNECTION_BYTES 2048          /* two sockets, timers, the client's record */
#define BUDGET_CONNTRACK_BYTES 320            /* one nf_conn with both tuples */
#define BUDGET_CONNTRACK_HOLD (120 * SIM_SEC) /* nf_conntrack_tcp_timeout_time_wait */
#define BUDGET_POD_BYTES 16384                /* host, veth, routes, server, report line */
#define BUDGET_NODE_BYTES 262144              /* host, conntrack table, report, base rules */
#define BUDGET_RULE_BYTES 512                 /* rule text and its parsed form */
#define BUDGET_RULES_PER_NODE 40              /* the fixed chains and jumps of kube-proxy */
#define BUDGET_RULES_PER_PORT 12              /* per Service port: SVC, EXT, NODEPORTS, FW, ... */
#define BUDGET_RULES_PER_ENDPOINT 4      /* per endpoint and Service port: SEP jump, DNAT, ... */
#define BUDGET_SECOND_BYTES 256          /* one timeline second of one traffic entry */
#define BUDGET_PACKETS_PER_CONNECTION 10 /* SYN, SYN-ACK, ACK, request, response, FINs, ACKs */
#define BUDGET_CAPTURES_PER_PACKET 4     /* client, entry node in and out, the pod's veth */
#define BUDGET_RECORD_BYTES 100          /* pcap record header, SLL2 header, IP and TCP headers */
#define BUDGET_MAX_PROXY_HOPS 8          /* proxying workloads one connection may cross */
#define BUDGET_SHORTEST_CONNECTION (4 * 10 * SIM_USEC) /* two veth round trips */

/* ------------------------------------------------------------------ saturating arithmetic */

/* a + b, saturated. */
static guint64
budget_add(guint64 a, guint64 b)
{
    return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

/* a * b, saturated. */
static guint64
budget_mul(guint64 a, guint64 b)
{
    return a != 0 && b > G_MAXUINT64 / a ? G_MAXUINT64 : a * b;
}

/* A non-negative double as a count, saturated (NaN counts as huge). */
static guint64
budget_from_double(double v)
{
    if (!(v < 1.8e19))
        return G_MAXUINT64;
    return v <= 0 ? 0 : (guint64)ceil(v);
}

/* ------------------------------------------------------------------ terms */

/* The objects the estimate reads: the cluster's once built, else the scenario's. */
typedef struct {
    const GPtrArray *deployments, *pods, *services;
    gboolean built; /* pods already hold the Deployments' pods */
    guint nodes;
    gboolean shared_rules; /* one rendering serves every node (model/run.c does so) */
} BudgetObjects;

/* Pods the run will have: the explicit ones plus every Deployment's replicas (before the
 * cluster is built); the position of the biggest Deployment in *pos. */
static guint64
budget_pods(const BudgetObjects *o, K8sPos *pos, char *what, gsize what_len)
{
    guint64 pods = o->pods->len;
    gint biggest = -1;
    for (guint i = 0; !o->built && i < o->deployments->len; i++) {
        const K8sDeployment *d = o->deployments->pdata[i];
        pods = budget_add(pods, (guint64)MAX(d->replicas, 0));
        if (d->replicas > biggest) {
            biggest = d->replicas;
            *pos = d->replicas_pos.line > 0 ? d->replicas_pos : d->meta.pos;
            g_snprintf(what, what_len, "Deployment %s: replicas: %d", d->meta.name, d->replicas);
        }
    }
    if (biggest < 0)
        g_snprintf(what, what_len, "%" G_GUINT64_FORMAT " pods", pods);
    return pods;
}

/* One object a Service selector may pick: its labels and the endpoints it stands for. */
typedef struct {
    GHashTable *labels;
    guint64 endpoints;
} BudgetLabeled;

/* Files labels, standing for endpoints, under each of its "key=value" pairs in index
 * (char* -> GArray of BudgetLabeled). */
static void
budget_index_add(GHashTable *index, GHashTable *labels, guint64 endpoints)
{
    if (labels == NULL)
        return;
    GHashTableIter it;
    gpointer k, v;
    BudgetLabeled e = {labels, endpoints};
    g_hash_table_iter_init(&it, labels);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        char *pair = g_strconcat(k, "=", v, NULL);
        GArray *list = g_hash_table_lookup(index, pair);
        if (list == NULL) {
            list = g_array_new(FALSE, FALSE, sizeof(BudgetLabeled));
            g_hash_table_insert(index, pair, list);
        } else {
            g_free(pair);
        }
        g_array_append_val(list, e);
    }
}

/* The label index of the pods and (before the build) the Deployments' pod templates, so that
 * a selector is matched against the objects carrying one of its labels rather than against
 * every object: 10,000 Services over 150,000 pods would otherwise cost 1.5e9 matches.
 * (transfer full) */
static GHashTable *
budget_label_index(const BudgetObjects *o)
{
    GHashTable *index =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    for (guint i = 0; i < o->pods->len; i++)
        budget_index_add(index, ((const K8sPod *)o->pods->pdata[i])->meta.labels, 1);
    for (guint i = 0; !o->built && i < o->deployments->len; i++) {
        const K8sDeployment *d = o->deployments->pdata[i];
        budget_index_add(index, d->template_.labels, (guint64)MAX(d->replicas, 0));
    }
    return index;
}

/* Endpoints of svc: the pods (or Deployment replicas) its selector matches, among the objects
 * index files under the selector's rarest key=value. */
static guint64
budget_endpoints(GHashTable *index, const K8sService *svc)
{
    if (svc->selector == NULL || g_hash_table_size(svc->selector) == 0)
        return 0;
    GArray *fewest = NULL;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, svc->selector);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_autofree char *pair = g_strconcat(k, "=", v, NULL);
        GArray *list = g_hash_table_lookup(index, pair);
        if (list == NULL)
            return 0;
        if (fewest == NULL || list->len < fewest->len)
            fewest = list;
    }
    guint64 n = 0;
    for (guint i = 0; i < fewest->len; i++) {
        const BudgetLabeled *e = &g_array_index(fewest, BudgetLabeled, i);
        if (k8s_selector_matches(svc->selector, e->labels))
            n = budget_add(n, e->endpoints);
    }
    return n;
}

/* kube-proxy rules over all nodes: the fixed ones, and per Service port its chains and one
 * SEP chain per endpoint. */
static guint64
budget_rules(const BudgetObjects *o)
{
    g_autoptr(GHashTable) index = budget_label_index(o);
    guint64 per_node = BUDGET_RULES_PER_NODE;
    for (guint i = 0; i < o->services->len; i++) {
        const K8sService *svc = o->services->pdata[i];
        guint64 ports = svc->ports != NULL ? svc->ports->len : 0;
        guint64 eps = budget_endpoints(index, svc);
        guint64 per_port =
            budget_add(BUDGET_RULES_PER_PORT, budget_mul(eps, BUDGET_RULES_PER_ENDPOINT));
        per_node = budget_add(per_node, budget_mul(ports, per_port));
    }
    return o->shared_rules ? per_node : budget_mul(per_node, o->nodes);
}

/* One traffic entry's share of the run. */
typedef struct {
    guint64 connections, in_flight, conntrack, events, pcap_bytes;
} BudgetTraffic;

/* Estimates one traffic entry of sc. */
static void
budget_traffic(const Scenario *sc, const ScenarioTraffic *t, BudgetTraffic *out)
{
    SimTime stop = MIN(t->stop, sc->duration);
    double active = stop > t->start ? (double)(stop - t->start) / SIM_SEC : 0;
    double hold = (double)workload_timeout(t) / SIM_SEC;
    double rate = t->rate;
    if (t->connections > 0) {
        SimTime shortest =
            MAX(sc->pod_service_time + 4 * sc->net_latency, (SimTime)BUDGET_SHORTEST_CONNECTION);
        rate = t->connections / ((double)shortest / SIM_SEC);
    }
    double bytes = (double)t->request_bytes + t->response_bytes;
    double segments = bytes / BUDGET_SEGMENT_BYTES;
    out->connections = budget_from_double(rate * active);
    out->in_flight =
        t->connections > 0 ? t->connections : budget_from_double(rate * MIN(hold, active) + 1);
    out->conntrack =
        budget_from_double(2 * rate * MIN((double)BUDGET_CONNTRACK_HOLD / SIM_SEC, active + hold));
    out->events = budget_from_double(
        rate * active * (BUDGET_EVENTS_PER_CONNECTION + BUDGET_EVENTS_PER_SEGMENT * segments));
    out->pcap_bytes = budget_from_double(
        rate * active * BUDGET_CAPTURES_PER_PACKET *
        ((BUDGET_PACKETS_PER_CONNECTION + 2 * segments) * BUDGET_RECORD_BYTES + bytes));
}

/* Describes t for messages: "traffic web: 1e+09 connections/s for 60s". */
static void
budget_traffic_what(const Scenario *sc, const ScenarioTraffic *t, char *what, gsize len)
{
    char d[SIM_TIME_STRLEN];
    SimTime stop = MIN(t->stop, sc->duration);
    sim_time_format(stop > t->start ? stop - t->start : 0, d);
    if (t->connections > 0)
        g_snprintf(what, len, "traffic %s: connections: %u (closed loop) for %s", t->name,
                   t->connections, d);
    else
        g_snprintf(what, len, "traffic %s: rate %g connections/s for %s", t->name, t->rate, d);
}

/* Whether meta carries the annotation that makes a pod a proxy (model/pod_apps.h). */
static gboolean
budget_is_proxy(const K8sMeta *meta)
{
    return meta->annotations != NULL &&
           g_hash_table_contains(meta->annotations, POD_APPS_PROXY_ANNOTATION);
}

/* How many connections one client connection may become: itself plus one more per proxying
 * workload it can pass through (an Ingress controller opening its own connection to a backend),
 * at most BUDGET_MAX_PROXY_HOPS of them. */
static guint64
budget_proxy_factor(const BudgetObjects *o)
{
    guint64 hops = 0;
    for (guint i = 0; i < o->deployments->len; i++) {
        const K8sDeployment *d = o->deployments->pdata[i];
        hops += budget_is_proxy(&d->meta) ? 1 : 0;
    }
    for (guint i = 0; !o->built && i < o->pods->len; i++)
        hops += budget_is_proxy(&((const K8sPod *)o->pods->pdata[i])->meta) ? 1 : 0;
    return 1 + MIN(hops, BUDGET_MAX_PROXY_HOPS);
}

/* Scales one traffic entry's share by factor (budget_proxy_factor()). */
static void
budget_traffic_scale(BudgetTraffic *bt, guint64 factor)
{
    bt->connections = budget_mul(bt->connections, factor);
    bt->in_flight = budget_mul(bt->in_flight, factor);
    bt->conntrack = budget_mul(bt->conntrack, factor);
    bt->events = budget_mul(bt->events, factor);
    bt->pcap_bytes = budget_mul(bt->pcap_bytes, factor);
}

/* Adds every traffic entry to out, remembering the biggest contributors. */
static void
budget_all_traffic(const Scenario *sc, const BudgetObjects *o, guint64 conntrack_cap,
                   BudgetEstimate *out)
{
    guint64 factor = budget_proxy_factor(o);
    guint64 most_events = 0, most_memory = 0;
    for (guint i = 0; i < sc->traffic->len; i++) {
        const ScenarioTraffic *t = sc->traffic->pdata[i];
        BudgetTraffic bt;
        budget_traffic(sc, t, &bt);
        budget_traffic_scale(&bt, factor);
        out->connections = budget_add(out->connections, bt.connections);
        out->in_flight = budget_add(out->in_flight, bt.in_flight);
        out->conntrack = budget_add(out->conntrack, bt.conntrack);
        out->events = budget_add(out->events, bt.events);
        out->pcap_bytes = budget_add(out->pcap_bytes, bt.pcap_bytes);
        guint64 mem =
            budget_add(budget_mul(bt.in_flight, BUDGET_CONNECTION_BYTES),
                       budget_mul(MIN(bt.conntrack, conntrack_cap), BUDGET_CONNTRACK_BYTES));
        if (bt.events >= most_events) {
            most_events = bt.events;
            out->events_pos = t->load_pos.line != 0 ? t->load_pos : t->pos;
            budget_traffic_what(sc, t, out->events_what, sizeof out->events_what);
        }
        if (mem >= most_memory) {
            most_memory = mem;
            out->memory_pos = t->load_pos.line != 0 ? t->load_pos : t->pos;
            budget_traffic_what(sc, t, out->memory_what, sizeof out->memory_what);
        }
    }
    out->conntrack = MIN(out->conntrack, conntrack_cap);
}

/* nf_conntrack_max over all nodes, as run.c sizes it (kube-proxy's max(perCore x CPUs, min)). */
static guint64
budget_conntrack_cap(const Scenario *sc)
{
    guint64 per_node = MAX(budget_mul((guint64)MAX(sc->proxy.conntrack_max_per_core, 0), 4),
                           (guint64)MAX(sc->proxy.conntrack_min, 0));
    if (per_node == 0)
        per_node = G_MAXUINT32;
    return budget_mul(per_node, MAX(sc->nodes->len, 1));
}

/* See budget.h. */
void
budget_estimate(const Scenario *sc, const Cluster *c, BudgetEstimate *out)
{
    g_return_if_fail(sc != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    BudgetObjects o = {
        .deployments = c != NULL ? c->deployments : sc->deployments,
        .pods = c != NULL ? c->pods : sc->pods,
        .services = c != NULL ? c->services : sc->services,
        .built = c != NULL,
        .nodes = sc->nodes->len,
    };
    o.shared_rules = kube_proxy_rules_node_independent(&sc->proxy, o.services);
    budget_all_traffic(sc, &o, budget_conntrack_cap(sc), out);
    K8sPos pods_pos = {0};
    char pods_what[sizeof out->memory_what];
    out->pods = budget_pods(&o, &pods_pos, pods_what, sizeof pods_what);
    out->rules = budget_rules(&o);
    guint64 seconds = (guint64)(MAX(sc->duration, 0) / SIM_SEC) + 1;
    guint64 traffic_mem = budget_add(budget_mul(out->in_flight, BUDGET_CONNECTION_BYTES),
                                     budget_mul(out->conntrack, BUDGET_CONNTRACK_BYTES));
    guint64 pods_mem = budget_mul(out->pods, BUDGET_POD_BYTES);
    guint64 rules_mem = budget_mul(out->rules, BUDGET_RULE_BYTES);
    guint64 fixed =
        budget_add(budget_mul(o.nodes, BUDGET_NODE_BYTES),
                   budget_mul(budget_mul(seconds, sc->traffic->len + 1), BUDGET_SECOND_BYTES));
    out->memory = budget_add(budget_add(traffic_mem, pods_mem), budget_add(rules_mem, fixed));
    out->events = budget_add(out->events, budget_mul(seconds, budget_add(o.nodes, 1)));
    if (pods_mem > traffic_mem && pods_mem >= rules_mem) {
        out->memory_pos = pods_pos;
        memcpy(out->memory_what, pods_what, sizeof pods_what);
    } else if (rules_mem > traffic_mem) {
        out->memory_pos = pods_pos;
        g_snprintf(out->memory_what, sizeof out->memory_what,
                   "%" G_GUINT64_FORMAT " kube-proxy rules on %u nodes (%" G_GUINT64_FORMAT
                   " pods behind %u Services)",
                   out->rules, o.nodes, out->pods, o.services->len);
    }
}

/* ------------------------------------------------------------------ checking */

/* Sets error at pos (or at the scenario file when pos is unknown). */
static void budget_fail(GError **error, BudgetError code, const char *file, const K8sPos *pos,
                        const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static void
budget_fail(GError **error, BudgetError code, const char *file, const K8sPos *pos, const char *fmt,
            ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (pos->line > 0 && pos->file != NULL)
        g_set_error(error, BUDGET_ERROR, code, "%s:%u:%u: error: %s", pos->file, pos->line,
                    pos->column, msg);
    else
        g_set_error(error, BUDGET_ERROR, code, "%s: error: %s", file, msg);
}

/* See budget.h. */
gboolean
budget_check(const BudgetEstimate *est, const BudgetLimits *limits, GError **error)
{
    g_return_val_if_fail(est != NULL && limits != NULL, FALSE);
    const char *file = est->memory_pos.file ? est->memory_pos.file : "the scenario";
    if (limits->max_events > 0 && est->events > limits->max_events) {
        budget_fail(error, BUDGET_ERROR_EVENTS, file, &est->events_pos,
                    "the run would process about %.3g simulated events (%s), more than "
                    "--max-events %" G_GUINT64_FORMAT " allows; shorten or slow the traffic, "
                    "or raise --max-events",
                    (double)est->events, est->events_what, limits->max_events);
        return FALSE;
    }
    if (limits->max_memory > 0 && est->memory > limits->max_memory) {
        char need[32], have[32];
        budget_fail(error, BUDGET_ERROR_MEMORY, file, &est->memory_pos,
                    "the run would need about %s of memory (%s), more than --max-memory %s "
                    "allows; make the scenario smaller, or raise --max-memory",
                    budget_format_size(est->memory, need), est->memory_what,
                    budget_format_size(limits->max_memory, have));
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ parsing and formatting */

/* Parses a non-negative number with an optional suffix from suffixes (each a factor of base);
 * rest may be "", "B" or "iB" only when bytes is set. */
static gboolean
budget_parse(const char *text, double base, gboolean bytes, guint64 *out)
{
    static const char suffixes[] = "KMGT";
    if (text == NULL || !g_ascii_isdigit(*text))
        return FALSE;
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    const char *s = strchr(suffixes, g_ascii_toupper(*end));
    if (*end != '\0' && s != NULL) {
        v *= pow(base, (double)(s - suffixes + 1));
        end++;
    }
    gboolean tail_ok =
        *end == '\0' || (bytes && (g_str_equal(end, "B") || (s != NULL && g_str_equal(end, "iB"))));
    if (!tail_ok || !(v >= 0) || v >= 1.8e19)
        return FALSE;
    *out = (guint64)v;
    return TRUE;
}

/* See budget.h. */
gboolean
budget_parse_count(const char *text, guint64 *out)
{
    return budget_parse(text, 1000, FALSE, out);
}

/* See budget.h. */
gboolean
budget_parse_size(const char *text, guint64 *out)
{
    return budget_parse(text, 1024, TRUE, out);
}

/* See budget.h. */
const char *
budget_format_size(guint64 bytes, char *buf)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    guint u = 0;
    while (v >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        g_snprintf(buf, 32, "%" G_GUINT64_FORMAT " B", bytes);
    else
        g_snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}
