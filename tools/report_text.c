/* SPDX-License-Identifier: Apache-2.0 */
/* The run report as text: what a person reads on a terminal after `kpsim run`.
 *
 * Sentences first (what happened, in words), then the numbers behind them in tables aligned
 * the way kubectl aligns its columns (three spaces between columns, upper-case headers), then
 * a compact timeline. Deterministic: the same report gives the same text.
 */
#include "tools/report.h"

#include <string.h>

/* Above this many nodes the paths matrix is left to report.json and report.html. */
#define TEXT_PATHS_MAX_NODES 8

/* ------------------------------------------------------------------ aligned tables */

typedef struct {
    guint ncols;
    GPtrArray *cells; /* char*, row-major; the first row is the header */
} TextTable;

/* A table of ncols columns, no rows yet. */
static TextTable *
text_table_new(guint ncols)
{
    TextTable *t = g_new0(TextTable, 1);
    t->ncols = ncols;
    t->cells = g_ptr_array_new_with_free_func(g_free);
    return t;
}

/* Frees t and its cells. */
static void
text_table_free(TextTable *t)
{
    g_ptr_array_unref(t->cells);
    g_free(t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TextTable, text_table_free)

/* Appends the next cell (rows fill left to right). */
static void G_GNUC_PRINTF(2, 3) text_cell(TextTable *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(t->cells, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/* Appends several literal cells (a header row, typically); NULL-terminated. */
static void G_GNUC_NULL_TERMINATED
text_cells(TextTable *t, ...)
{
    va_list ap;
    va_start(ap, t);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
        g_ptr_array_add(t->cells, g_strdup(s));
    va_end(ap);
}

static void
text_cell_u64(TextTable *t, guint64 v)
{
    text_cell(t, "%" G_GUINT64_FORMAT, v);
}

/* Prints the table: every column as wide as its widest cell, three spaces apart, no trailing
 * blanks. */
static void
text_table_print(const TextTable *t, GString *out)
{
    g_assert(t->cells->len % t->ncols == 0);
    g_autofree guint *width = g_new0(guint, t->ncols);
    for (guint i = 0; i < t->cells->len; i++)
        width[i % t->ncols] = MAX(width[i % t->ncols], g_utf8_strlen(t->cells->pdata[i], -1));
    for (guint i = 0; i < t->cells->len; i++) {
        const char *cell = t->cells->pdata[i];
        guint col = i % t->ncols;
        g_string_append(out, cell);
        if (col + 1 == t->ncols) {
            g_string_append_c(out, '\n');
            continue;
        }
        for (guint pad = g_utf8_strlen(cell, -1); pad < width[col] + 3; pad++)
            g_string_append_c(out, ' ');
    }
}

/* ------------------------------------------------------------------ sections */

/* "50/s" or "20 concurrent". */
static char *
text_load(const ReportTraffic *t)
{
    if (t->connections > 0)
        return g_strdup_printf("%u concurrent", t->connections);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup_printf("%s/s", g_ascii_formatd(buf, sizeof buf, "%.6g", t->rate));
}

/* The first lines: what was run, its size, and the sentences. */
static void
text_header(const RunReport *r, GString *out)
{
    char d[SIM_TIME_STRLEN], e[SIM_TIME_STRLEN], st[SIM_TIME_STRLEN];
    guint64 sent = 0;
    for (guint i = 0; i < r->traffic->len; i++)
        sent += ((ReportTraffic *)r->traffic->pdata[i])->sent;
    g_string_append_printf(out, "kpsim run: scenario %s (%s), seed %" G_GUINT64_FORMAT "\n",
                           r->scenario, r->file, r->seed);
    g_string_append_printf(out, "Simulated %s", sim_time_format(r->duration, d));
    if (r->ended > r->duration)
        g_string_append_printf(out, " (and until %s for connections in flight)",
                               sim_time_format(r->ended, e));
    g_string_append_printf(
        out,
        ": %u node%s, %u pod%s, %u Service%s, %" G_GUINT64_FORMAT " connections, %" G_GUINT64_FORMAT
        " packets, %" G_GUINT64_FORMAT " events\n",
        r->nodes->len, r->nodes->len == 1 ? "" : "s", r->pods->len, r->pods->len == 1 ? "" : "s",
        r->services->len, r->services->len == 1 ? "" : "s", sent, r->packets, r->events_processed);
    g_string_append_printf(out, "Pods serve each request in %s, %u at a time (spec.pods)\n",
                           sim_time_format(r->service_time, st), r->concurrency);
    g_string_append(out, "\nWhat happened:\n");
    for (guint i = 0; i < r->summary->len; i++)
        g_string_append_printf(out, "  - %s\n", (const char *)r->summary->pdata[i]);
}

/* The traffic table and the per-target table. */
static void
text_traffic(const RunReport *r, GString *out)
{
    char b1[32], b2[32], b3[32];
    if (r->traffic->len == 0)
        return;
    g_string_append(out, "\nTraffic (latency from connect to the full response):\n");
    g_autoptr(TextTable) t = text_table_new(14);
    text_cells(t, "NAME", "FROM", "PROTO", "LOAD", "SENT", "SUCCEEDED", "FAILED", "TIMEOUT",
               "REFUSED", "RESET", "DROPPED", "P50(ms)", "P99(ms)", "MAX(ms)", NULL);
    for (guint i = 0; i < r->traffic->len; i++) {
        const ReportTraffic *x = r->traffic->pdata[i];
        g_autofree char *load = text_load(x);
        text_cells(t, x->name, x->from, x->protocol, load, NULL);
        text_cell_u64(t, x->sent);
        text_cell_u64(t, x->succeeded);
        text_cell_u64(t, report_failures_total(&x->failed));
        text_cell_u64(t, x->failed.timeout);
        text_cell_u64(t, x->failed.refused);
        text_cell_u64(t, x->failed.reset);
        text_cell_u64(t, x->failed.dropped);
        text_cells(t, report_format_ms(x->p50, b1), report_format_ms(x->p99, b2),
                   report_format_ms(x->max, b3), NULL);
    }
    text_table_print(t, out);

    g_string_append(out, "\nTargets (round-robin):\n");
    g_autoptr(TextTable) tt = text_table_new(9);
    text_cells(tt, "TRAFFIC", "TARGET", "NODE", "SERVICE", "POLICY", "SENT", "SUCCEEDED", "FAILED",
               "FAILURES", NULL);
    for (guint i = 0; i < r->traffic->len; i++) {
        const ReportTraffic *x = r->traffic->pdata[i];
        for (guint j = 0; j < x->targets->len; j++) {
            const ReportTarget *g = x->targets->pdata[j];
            text_cells(tt, x->name, g->target, g->node ? g->node : "-",
                       g->service ? g->service : "-", g->external_policy ? g->external_policy : "-",
                       NULL);
            text_cell_u64(tt, g->sent);
            text_cell_u64(tt, g->succeeded);
            text_cell_u64(tt, report_failures_total(&g->failed));
            GString *f = g_string_new(NULL);
            const ReportFailures *fl = &g->failed;
            const guint64 n[] = {fl->timeout, fl->refused, fl->reset, fl->dropped};
            const char *names[] = {"timeout", "refused", "reset", "dropped"};
            for (guint k = 0; k < G_N_ELEMENTS(n); k++)
                if (n[k] > 0)
                    g_string_append_printf(f, "%s%s=%" G_GUINT64_FORMAT, f->len ? "," : "",
                                           names[k], n[k]);
            text_cell(tt, "%s", f->len ? f->str : "-");
            g_string_free(f, TRUE);
        }
    }
    text_table_print(tt, out);
}

/* The pods table: load, share, source addresses seen, queueing. */
static void
text_pods(const RunReport *r, GString *out)
{
    char b[16];
    if (r->pods->len == 0)
        return;
    g_string_append(out, "\nPods (SOURCE: connections that came from the client's own address / "
                         "a node address / elsewhere):\n");
    g_autoptr(TextTable) t = text_table_new(8);
    text_cells(t, "NAME", "NODE", "IP", "CONNECTIONS", "SHARE", "REQUESTS", "SOURCE", "QUEUE-PEAK",
               NULL);
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        text_cells(t, p->name, p->node, p->ip, NULL);
        text_cell_u64(t, p->connections);
        text_cell(t, "%s", report_format_percent(p->share, b));
        text_cell_u64(t, p->requests);
        text_cell(t, "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                  p->source_preserved, p->source_snat, p->source_other);
        text_cell_u64(t, p->queue_peak);
    }
    text_table_print(t, out);
}

/* Connections p accepted that had been addressed to node index node. */
static guint64
text_pod_entered(const ReportPod *p, guint node)
{
    for (guint i = 0; i < p->entries->len; i++) {
        const ReportPodEntry *e = &g_array_index(p->entries, ReportPodEntry, i);
        if (e->node == node)
            return e->connections;
    }
    return 0;
}

/* The paths matrix: per pod, the client connections it served by the node they were addressed
 * to. Printed for clusters of up to TEXT_PATHS_MAX_NODES nodes (report.json has it always). */
static void
text_paths(const RunReport *r, GString *out)
{
    guint64 any = 0;
    for (guint i = 0; i < r->pods->len; i++)
        any += ((const ReportPod *)r->pods->pdata[i])->entries->len;
    if (any == 0 || r->nodes->len > TEXT_PATHS_MAX_NODES)
        return;
    g_string_append(out, "\nPaths (each pod's connections by the node they were addressed to; "
                         "* = the pod's own node):\n");
    g_autoptr(TextTable) t = text_table_new(2 + r->nodes->len);
    text_cells(t, "POD", "NODE", NULL);
    for (guint j = 0; j < r->nodes->len; j++)
        text_cell(t, "VIA %s", ((const ReportNode *)r->nodes->pdata[j])->name);
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        text_cells(t, p->name, p->node, NULL);
        for (guint j = 0; j < r->nodes->len; j++) {
            const ReportNode *n = r->nodes->pdata[j];
            text_cell(t, "%" G_GUINT64_FORMAT "%s", text_pod_entered(p, j),
                      g_strcmp0(n->name, p->node) == 0 ? "*" : "");
        }
    }
    text_table_print(t, out);
}

/* IPVS mode: each node's real servers as ipvsadm -Ln shows them at the end of the run. */
static void
text_nodes_ipvs(const RunReport *r, GString *out)
{
    if (r->nodes->len == 0 || ((const ReportNode *)r->nodes->pdata[0])->ipvs == NULL)
        return;
    guint idle = 0;
    for (guint i = 0; i < r->nodes->len; i++)
        idle += ((const ReportNode *)r->nodes->pdata[i])->ipvs_idle;
    g_string_append_printf(out,
                           "\nIPVS real servers at the end (ipvsadm -Ln on each node; "
                           "ACTIVE/INACTIVE: ActiveConn/InActConn; %u idle ones not shown):\n",
                           idle);
    g_autoptr(TextTable) t = text_table_new(6);
    text_cells(t, "NODE", "VIRTUAL-SERVICE", "REAL-SERVER", "WEIGHT", "ACTIVE", "INACTIVE", NULL);
    for (guint i = 0; i < r->nodes->len; i++) {
        const ReportNode *n = r->nodes->pdata[i];
        for (guint k = 0; n->ipvs != NULL && k < n->ipvs->len; k++) {
            const ReportIpvsDest *d = n->ipvs->pdata[k];
            text_cells(t, n->name, d->service, d->real_server, NULL);
            text_cell(t, "%u", d->weight);
            text_cell_u64(t, d->active);
            text_cell_u64(t, d->inactive);
        }
    }
    text_table_print(t, out);
}

/* The nodes table: where connections went and what the kernel counted. */
static void
text_nodes(const RunReport *r, GString *out)
{
    g_string_append(out, "\nNodes (ENTERED: client connections addressed to the node; "
                         "CROSSED: of those, served by a pod on another node):\n");
    g_autoptr(TextTable) t = text_table_new(11);
    text_cells(t, "NAME", "PODS", "ENTERED", "CROSSED", "INGRESS-PKTS", "FORWARDED",
               "CONNTRACK-PEAK", "CONNTRACK-MAX", "SNAT-PEAK", "RULES", "DROPS", NULL);
    for (guint i = 0; i < r->nodes->len; i++) {
        const ReportNode *n = r->nodes->pdata[i];
        text_cells(t, n->name, NULL);
        text_cell(t, "%u", n->pods);
        text_cell_u64(t, n->connections_entered);
        text_cell_u64(t, n->connections_crossed);
        text_cell_u64(t, n->ingress_packets);
        text_cell_u64(t, n->forwarded_packets);
        text_cell_u64(t, n->conntrack_peak);
        text_cell_u64(t, n->conntrack_max);
        text_cell_u64(t, n->snat_ports_peak);
        text_cell(t, "%u", n->rules);
        GString *d = g_string_new(NULL);
        for (guint j = 0; j < n->drops->len; j++) {
            const ReportDrop *x = &g_array_index(n->drops, ReportDrop, j);
            g_string_append_printf(d, "%s%s=%" G_GUINT64_FORMAT, j ? "," : "", x->reason, x->count);
        }
        text_cell(t, "%s", d->len ? d->str : "-");
        g_string_free(d, TRUE);
    }
    text_table_print(t, out);
    text_nodes_ipvs(r, out);
}

/* "80:30080/TCP,443:30443/TCP" as kubectl's PORT(S) column prints them. */
static char *
text_service_ports(const ReportService *s)
{
    GString *p = g_string_new(NULL);
    for (guint i = 0; i < s->ports->len; i++) {
        const ReportServicePort *sp = &g_array_index(s->ports, ReportServicePort, i);
        g_string_append_printf(p, "%s%u", i ? "," : "", sp->port);
        if (sp->node_port != 0)
            g_string_append_printf(p, ":%u", sp->node_port);
        g_string_append_printf(p, "/%s", sp->protocol);
    }
    return g_string_free(p, FALSE);
}

/* The Services table, ports as kubectl prints them. */
static void
text_services(const RunReport *r, GString *out)
{
    if (r->services->len == 0)
        return;
    g_string_append(out, "\nServices:\n");
    g_autoptr(TextTable) t = text_table_new(7);
    text_cells(t, "NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "ENDPOINTS",
               "EXTERNAL-POLICY", NULL);
    for (guint i = 0; i < r->services->len; i++) {
        const ReportService *s = r->services->pdata[i];
        g_autofree char *ports = text_service_ports(s);
        text_cells(t, s->namespace_, s->name, s->type, s->cluster_ip ? s->cluster_ip : "<none>",
                   ports[0] ? ports : "<none>", NULL);
        text_cell(t, "%u", s->endpoints);
        text_cell(t, "%s", s->external_policy ? s->external_policy : "-");
    }
    text_table_print(t, out);
}

/* Seconds per timeline row: the smallest round step giving at most 12 rows. */
static guint
text_timeline_step(guint seconds)
{
    static const guint steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++)
        if ((seconds + steps[i] - 1) / steps[i] <= 12)
            return steps[i];
    return (seconds + 11) / 12;
}

/* Succeeded/failed connections per row of a few seconds, per traffic. */
static void
text_timeline(const RunReport *r, GString *out)
{
    guint seconds = 0;
    for (guint i = 0; i < r->traffic->len; i++)
        seconds = MAX(seconds, ((ReportTraffic *)r->traffic->pdata[i])->timeline->len);
    if (seconds == 0)
        return;
    guint step = text_timeline_step(seconds);
    g_string_append_printf(out,
                           "\nTimeline (connections by the second they started: "
                           "succeeded/failed, %us per row):\n",
                           step);
    g_autoptr(TextTable) t = text_table_new(1 + r->traffic->len);
    text_cells(t, "TIME", NULL);
    for (guint i = 0; i < r->traffic->len; i++)
        text_cell(t, "%s", ((ReportTraffic *)r->traffic->pdata[i])->name);
    for (guint s = 0; s < seconds; s += step) {
        text_cell(t, "%us-%us", s, MIN(s + step, seconds));
        for (guint i = 0; i < r->traffic->len; i++) {
            const ReportTraffic *x = r->traffic->pdata[i];
            guint64 ok = 0, failed = 0;
            for (guint k = s; k < s + step && k < x->timeline->len; k++) {
                ok += g_array_index(x->timeline, WorkloadBucket, k).succeeded;
                failed += g_array_index(x->timeline, WorkloadBucket, k).failed;
            }
            text_cell(t, "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, ok, failed);
        }
    }
    text_table_print(t, out);
}

/* ------------------------------------------------------------------ faults (events) */

/* The fault timeline: every event and what the control plane did after it. */
static void
text_events(const RunReport *r, GString *out)
{
    char at[SIM_TIME_STRLEN];
    g_string_append(out, "\nEvents (the scenario's, and what the control plane did):\n");
    g_autoptr(TextTable) t = text_table_new(4);
    text_cells(t, "TIME", "EVENT", "SUBJECT", "DETAIL", NULL);
    for (guint i = 0; i < r->events->len; i++) {
        const ReportEvent *e = r->events->pdata[i];
        text_cells(t, sim_time_format(e->at, at), e->kind, e->subject ? e->subject : "-",
                   e->detail ? e->detail : "", NULL);
    }
    text_table_print(t, out);
}

/* One disruption row: the seconds [first, last] with failures, how many, and the recovery
 * (the second after the last failure, unless failures lasted as long as the traffic). */
static void
text_disruption_row(TextTable *t, gint64 first, gint64 last, guint64 failed, guint seconds)
{
    if (first < 0)
        text_cell(t, "-");
    else
        text_cell(t, "%" G_GINT64_FORMAT "s-%" G_GINT64_FORMAT "s", first, last + 1);
    text_cell_u64(t, failed);
    if (first < 0)
        text_cell(t, "-");
    else if (last + 1 < (gint64)seconds)
        text_cell(t, "%" G_GINT64_FORMAT "s", last + 1);
    else
        text_cell(t, "not recovered");
}

/* Per traffic and target: which start seconds had failed connections since the first fault,
 * how many failed, and when they stopped failing. */
static void
text_disruption(const RunReport *r, GString *out)
{
    char at[SIM_TIME_STRLEN];
    g_string_append_printf(out,
                           "\nDisruption since the first fault at %s (connections by the second "
                           "they started):\n",
                           sim_time_format(r->first_fault, at));
    g_autoptr(TextTable) t = text_table_new(6);
    text_cells(t, "TRAFFIC", "TARGET", "NODE", "FAILING", "FAILED", "RECOVERED", NULL);
    for (guint i = 0; i < r->traffic->len; i++) {
        const ReportTraffic *x = r->traffic->pdata[i];
        gint64 from = r->first_fault / SIM_SEC;
        text_cells(t, x->name, "all", "", NULL);
        text_disruption_row(t, x->blackhole_end < 0 ? -1 : from,
                            x->blackhole_end / SIM_SEC - 1, x->lost, x->timeline->len);
        for (guint j = 0; j < x->targets->len; j++) {
            const ReportTarget *g = x->targets->pdata[j];
            text_cells(t, "", g->target, g->node != NULL ? g->node : "-", NULL);
            text_disruption_row(t, g->fault_fail_first, g->fault_fail_last, g->fault_failed,
                                x->timeline->len);
        }
    }
    text_table_print(t, out);
}

/* Which pods served before the first fault and after it. */
static void
text_pods_fault(const RunReport *r, GString *out)
{
    guint64 before = 0, after = 0;
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        before += p->connections_before;
        after += p->connections - p->connections_before;
    }
    char b1[16], b2[16];
    g_string_append(out, "\nPods before and after the first fault (connections accepted):\n");
    g_autoptr(TextTable) t = text_table_new(6);
    text_cells(t, "NAME", "NODE", "BEFORE", "SHARE", "AFTER", "SHARE", NULL);
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        guint64 a = p->connections - p->connections_before;
        text_cells(t, p->name, p->node ? p->node : "-", NULL);
        text_cell_u64(t, p->connections_before);
        text_cell(t, "%s",
                  report_format_percent(before ? (double)p->connections_before / before : 0, b1));
        text_cell_u64(t, a);
        text_cell(t, "%s", report_format_percent(after ? (double)a / after : 0, b2));
    }
    text_table_print(t, out);
}

/* The events of second s, as "node-down node2, ...". (transfer full) */
static char *
text_second_events(const RunReport *r, guint s)
{
    GString *b = g_string_new(NULL);
    for (guint i = 0; i < r->events->len; i++) {
        const ReportEvent *e = r->events->pdata[i];
        if (e->at / SIM_SEC == (SimTime)s)
            g_string_append_printf(b, "%s%s %s", b->len ? ", " : "", e->kind,
                                   e->subject ? e->subject : "");
    }
    return g_string_free(b, FALSE);
}

/* Second by second from the first fault until a few seconds after each traffic's black hole:
 * outcomes by reason and the events of that second. */
static void
text_seconds(const RunReport *r, GString *out)
{
    for (guint i = 0; i < r->traffic->len; i++) {
        const ReportTraffic *x = r->traffic->pdata[i];
        guint from = (guint)(r->first_fault / SIM_SEC);
        guint to = x->blackhole_end < 0 ? from : (guint)(x->blackhole_end / SIM_SEC);
        for (guint k = 0; k < r->events->len; k++)
            to = MAX(to, (guint)(((ReportEvent *)r->events->pdata[k])->at / SIM_SEC));
        to = MIN(to + 2, x->outcomes->len);
        if (from >= to)
            continue;
        g_string_append_printf(out, "\nSecond by second, traffic %s (by start second):\n",
                               x->name);
        g_autoptr(TextTable) t = text_table_new(8);
        text_cells(t, "SECOND", "SENT", "SUCCEEDED", "TIMEOUT", "REFUSED", "RESET", "DROPPED",
                   "EVENTS", NULL);
        for (guint s = from; s < to; s++) {
            const WorkloadCounts *c = &g_array_index(x->outcomes, WorkloadCounts, s);
            text_cell(t, "%us", s);
            text_cell_u64(t, c->sent);
            for (guint o = 0; o < WORKLOAD_OUTCOMES; o++)
                text_cell_u64(t, c->outcomes[o]);
            g_autofree char *ev = text_second_events(r, s);
            text_cell(t, "%s", ev);
        }
        text_table_print(t, out);
    }
}

/* The fault sections, when the run had a fault. */
static void
text_faults(const RunReport *r, GString *out)
{
    if (r->events->len > 0)
        text_events(r, out);
    if (r->first_fault < 0)
        return;
    text_disruption(r, out);
    text_pods_fault(r, out);
    text_seconds(r, out);
}

/* What the run left out, the expectations (PASS/FAIL once evaluated), and the wall time. */
static void
text_notes(const RunReport *r, GString *out)
{
    if (r->notes->len > 0) {
        g_string_append(out, "\nNotes:\n");
        for (guint i = 0; i < r->notes->len; i++)
            g_string_append_printf(out, "  - %s\n", (const char *)r->notes->pdata[i]);
    }
    gboolean evaluated = r->expectation_results->len == r->expectations->len;
    if (r->expectations->len > 0)
        g_string_append(out, evaluated ? "\nExpectations:\n"
                                       : "\nExpectations (not evaluated):\n");
    for (guint i = 0; i < r->expectations->len; i++) {
        const ReportExpectation *x = evaluated ? r->expectation_results->pdata[i] : NULL;
        if (x != NULL)
            g_string_append_printf(out, "  %s  %s  (observed: %s)\n", x->ok ? "PASS" : "FAIL",
                                   x->text, x->observed);
        else
            g_string_append_printf(out, "  - %s\n", (const char *)r->expectations->pdata[i]);
    }
    char b[G_ASCII_DTOSTR_BUF_SIZE];
    if (r->wall_seconds > 0)
        g_string_append_printf(out, "\nWall time: %s s\n",
                               g_ascii_formatd(b, sizeof b, "%.2f", r->wall_seconds));
}

/* See tools/report.h. */
void
report_text_write(const RunReport *r, GString *out)
{
    g_return_if_fail(r != NULL && out != NULL);
    text_header(r, out);
    text_traffic(r, out);
    text_pods(r, out);
    text_paths(r, out);
    text_nodes(r, out);
    text_services(r, out);
    text_timeline(r, out);
    text_faults(r, out);
    text_notes(r, out);
}
