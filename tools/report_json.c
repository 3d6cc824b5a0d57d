/* SPDX-License-Identifier: Apache-2.0 */
/* The run report as JSON: the contract CI pipelines and tests read (docs/design.md, "run report
 * JSON"), plus a few extra members.
 *
 * The document is built with json-glib's JsonBuilder (members in the order written below) and
 * printed by a small printer of our own in json-glib's pretty layout, because json-glib prints
 * every double with 17 significant digits (1.2030000000000001); ours prints the shortest text
 * that reads back to the same double. Latencies are milliseconds rounded to the microsecond,
 * shares fractions rounded to 1e-4, so the output is byte-stable for a seed.
 */
#include "tools/report.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ building */

/* A string member, or null for NULL. */
static void
json_member_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

/* An integer member. */
static void
json_member_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

/* A number member. */
static void
json_member_double(JsonBuilder *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, value);
}

/* A latency in milliseconds rounded to the microsecond, or null for "none". */
static void
json_member_ms(JsonBuilder *b, const char *name, SimTime t)
{
    json_builder_set_member_name(b, name);
    if (t < 0)
        json_builder_add_null_value(b);
    else
        json_builder_add_double_value(b, (double)((t + 500) / 1000) / 1000.0);
}

/* A duration member in the report's short form ("1m", "200us"). */
static void
json_member_time(JsonBuilder *b, const char *name, SimTime t)
{
    char buf[SIM_TIME_STRLEN];
    json_member_string(b, name, sim_time_format(t, buf));
}

/* failed{timeout, refused, reset, dropped}. */
static void
json_failures(JsonBuilder *b, const ReportFailures *f)
{
    json_builder_set_member_name(b, "failed");
    json_builder_begin_object(b);
    json_member_int(b, "timeout", (gint64)f->timeout);
    json_member_int(b, "refused", (gint64)f->refused);
    json_member_int(b, "reset", (gint64)f->reset);
    json_member_int(b, "dropped", (gint64)f->dropped);
    json_builder_end_object(b);
}

/* One element of a traffic's targets[]. */
static void
json_target(JsonBuilder *b, const ReportTarget *x)
{
    json_builder_begin_object(b);
    json_member_string(b, "target", x->target);
    json_member_string(b, "node", x->node);
    json_member_string(b, "service", x->service);
    json_member_string(b, "external_traffic_policy", x->external_policy);
    json_builder_set_member_name(b, "node_has_endpoint");
    json_builder_add_boolean_value(b, x->node_has_endpoint);
    json_member_int(b, "sent", (gint64)x->sent);
    json_member_int(b, "succeeded", (gint64)x->succeeded);
    json_failures(b, &x->failed);
    json_builder_end_object(b);
}

/* One element of traffic[]. */
static void
json_traffic(JsonBuilder *b, const ReportTraffic *t)
{
    json_builder_begin_object(b);
    json_member_string(b, "name", t->name);
    json_member_string(b, "from", t->from);
    json_member_string(b, "client_address", t->client_address);
    json_member_string(b, "protocol", t->protocol);
    if (t->connections > 0)
        json_member_int(b, "connections", t->connections);
    else
        json_member_double(b, "rate", t->rate);
    json_member_int(b, "sent", (gint64)t->sent);
    json_member_int(b, "succeeded", (gint64)t->succeeded);
    json_failures(b, &t->failed);
    json_builder_set_member_name(b, "latency_ms");
    json_builder_begin_object(b);
    json_member_ms(b, "p50", t->p50);
    json_member_ms(b, "p99", t->p99);
    json_member_ms(b, "max", t->max);
    json_member_ms(b, "mean", t->mean);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "targets");
    json_builder_begin_array(b);
    for (guint i = 0; i < t->targets->len; i++)
        json_target(b, t->targets->pdata[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* One element of pods[] (r: the report, for node names). */
static void
json_pod(JsonBuilder *b, const RunReport *r, const ReportPod *p)
{
    json_builder_begin_object(b);
    json_member_string(b, "name", p->name);
    json_member_string(b, "namespace", p->namespace_);
    json_member_string(b, "node", p->node);
    json_member_string(b, "ip", p->ip);
    json_member_int(b, "connections", (gint64)p->connections);
    json_member_int(b, "requests", (gint64)p->requests);
    json_member_double(b, "share", round(p->share * 10000) / 10000);
    json_builder_set_member_name(b, "source_ips");
    json_builder_begin_object(b);
    json_member_int(b, "preserved", (gint64)p->source_preserved);
    json_member_int(b, "snat", (gint64)p->source_snat);
    json_member_int(b, "other", (gint64)p->source_other);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "bytes");
    json_builder_begin_object(b);
    json_member_int(b, "received", (gint64)p->bytes_received);
    json_member_int(b, "sent", (gint64)p->bytes_sent);
    json_builder_end_object(b);
    json_member_int(b, "queue_peak", (gint64)p->queue_peak);
    json_builder_set_member_name(b, "entered_via");
    json_builder_begin_object(b);
    for (guint i = 0; i < p->entries->len; i++) {
        const ReportPodEntry *e = &g_array_index(p->entries, ReportPodEntry, i);
        if (e->node >= r->nodes->len)
            continue;
        const ReportNode *n = r->nodes->pdata[e->node];
        json_member_int(b, n->name, (gint64)e->connections);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
}

/* nodes[].ipvs (IPVS mode): each real server of each virtual service at the end of the run. */
static void
json_node_ipvs(JsonBuilder *b, const ReportNode *n)
{
    json_builder_set_member_name(b, "ipvs");
    json_builder_begin_array(b);
    for (guint i = 0; i < n->ipvs->len; i++) {
        const ReportIpvsDest *d = n->ipvs->pdata[i];
        json_builder_begin_object(b);
        json_member_string(b, "service", d->service);
        json_member_string(b, "real_server", d->real_server);
        json_member_int(b, "weight", d->weight);
        json_member_int(b, "active_conns", (gint64)d->active);
        json_member_int(b, "inactive_conns", (gint64)d->inactive);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_member_int(b, "ipvs_idle_real_servers", n->ipvs_idle);
}

/* One element of nodes[]. */
static void
json_node(JsonBuilder *b, const ReportNode *n)
{
    json_builder_begin_object(b);
    json_member_string(b, "name", n->name);
    json_builder_set_member_name(b, "addresses");
    json_builder_begin_array(b);
    g_auto(GStrv) addrs = g_strsplit(n->addresses != NULL ? n->addresses : "", ",", -1);
    for (guint i = 0; addrs[i] != NULL; i++)
        if (addrs[i][0] != '\0')
            json_builder_add_string_value(b, addrs[i]);
    json_builder_end_array(b);
    json_member_int(b, "pods", n->pods);
    json_member_int(b, "ingress_packets", (gint64)n->ingress_packets);
    json_member_int(b, "forwarded_packets", (gint64)n->forwarded_packets);
    json_builder_set_member_name(b, "drops");
    json_builder_begin_object(b);
    for (guint i = 0; i < n->drops->len; i++) {
        const ReportDrop *d = &g_array_index(n->drops, ReportDrop, i);
        json_member_int(b, d->reason, (gint64)d->count);
    }
    json_builder_end_object(b);
    json_member_int(b, "conntrack_peak", (gint64)n->conntrack_peak);
    json_member_int(b, "conntrack_max", (gint64)n->conntrack_max);
    json_member_int(b, "snat_ports_peak", (gint64)n->snat_ports_peak);
    json_member_int(b, "rules", n->rules);
    json_member_int(b, "new_connections", (gint64)n->new_connections);
    json_member_int(b, "rules_evaluated", (gint64)n->rules_evaluated);
    json_member_int(b, "connections_entered", (gint64)n->connections_entered);
    json_member_int(b, "connections_served", (gint64)n->connections_served);
    json_member_int(b, "connections_crossed", (gint64)n->connections_crossed);
    if (n->ipvs != NULL)
        json_node_ipvs(b, n);
    json_builder_end_object(b);
}

/* One element of services[]; a named targetPort is a string. */
static void
json_service(JsonBuilder *b, const ReportService *s)
{
    json_builder_begin_object(b);
    json_member_string(b, "name", s->name);
    json_member_string(b, "namespace", s->namespace_);
    json_member_string(b, "type", s->type);
    json_member_string(b, "cluster_ip", s->cluster_ip);
    json_member_string(b, "external_traffic_policy", s->external_policy);
    json_builder_set_member_name(b, "ports");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->ports->len; i++) {
        const ReportServicePort *p = &g_array_index(s->ports, ReportServicePort, i);
        json_builder_begin_object(b);
        json_member_int(b, "port", p->port);
        json_builder_set_member_name(b, "node_port");
        if (p->node_port != 0)
            json_builder_add_int_value(b, p->node_port);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "target_port");
        if (p->target_port_name != NULL)
            json_builder_add_string_value(b, p->target_port_name);
        else
            json_builder_add_int_value(b, p->target_port);
        json_member_string(b, "protocol", p->protocol);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_member_int(b, "endpoints", s->endpoints);
    json_builder_end_object(b);
}

/* timeline[]: {t, traffic: {NAME: {succeeded, failed}}} per second of start time. */
static void
json_timeline(JsonBuilder *b, const RunReport *r)
{
    guint seconds = 0;
    for (guint i = 0; i < r->traffic->len; i++)
        seconds = MAX(seconds, ((ReportTraffic *)r->traffic->pdata[i])->timeline->len);
    json_builder_set_member_name(b, "timeline");
    json_builder_begin_array(b);
    for (guint s = 0; s < seconds; s++) {
        json_builder_begin_object(b);
        json_member_int(b, "t", s);
        json_builder_set_member_name(b, "traffic");
        json_builder_begin_object(b);
        for (guint i = 0; i < r->traffic->len; i++) {
            const ReportTraffic *t = r->traffic->pdata[i];
            WorkloadBucket zero = {0, 0};
            const WorkloadBucket *bk =
                s < t->timeline->len ? &g_array_index(t->timeline, WorkloadBucket, s) : &zero;
            json_builder_set_member_name(b, t->name);
            json_builder_begin_object(b);
            json_member_int(b, "succeeded", (gint64)bk->succeeded);
            json_member_int(b, "failed", (gint64)bk->failed);
            json_builder_end_object(b);
        }
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* events[]: {at, kind, subject, detail} - the scenario's events and what the control plane
 * did. */
static void
json_events(JsonBuilder *b, const RunReport *r)
{
    json_builder_set_member_name(b, "events");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->events->len; i++) {
        const ReportEvent *e = r->events->pdata[i];
        json_builder_begin_object(b);
        json_member_time(b, "at", e->at);
        json_member_string(b, "kind", e->kind);
        json_member_string(b, "subject", e->subject);
        json_member_string(b, "detail", e->detail);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* A member holding a time, or null for -1. */
static void
json_member_time_or_null(JsonBuilder *b, const char *name, SimTime t)
{
    if (t >= 0) {
        json_member_time(b, name, t);
        return;
    }
    json_builder_set_member_name(b, name);
    json_builder_add_null_value(b);
}

/* One traffic's disruption: lost, black hole, recovery, failing seconds per target and the
 * outcomes of every second. */
static void
json_traffic_disruption(JsonBuilder *b, const ReportTraffic *t)
{
    static const char *const names[WORKLOAD_OUTCOMES] = {"succeeded", "timeout", "refused",
                                                         "reset", "dropped"};
    json_builder_begin_object(b);
    json_member_string(b, "name", t->name);
    json_member_int(b, "lost", (gint64)t->lost);
    json_member_time_or_null(b, "black_hole_start", t->blackhole_end < 0 ? -1 : t->blackhole_start);
    json_member_time_or_null(b, "black_hole_end", t->blackhole_end);
    json_member_time_or_null(b, "recovered", t->recovered);
    json_builder_set_member_name(b, "targets");
    json_builder_begin_array(b);
    for (guint i = 0; i < t->targets->len; i++) {
        const ReportTarget *x = t->targets->pdata[i];
        json_builder_begin_object(b);
        json_member_string(b, "target", x->target);
        json_member_int(b, "failed", (gint64)x->fault_failed);
        json_member_int(b, "first_failing_second", x->fault_fail_first);
        json_member_int(b, "last_failing_second", x->fault_fail_last);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "seconds");
    json_builder_begin_array(b);
    for (guint s = 0; s < t->outcomes->len; s++) {
        const WorkloadCounts *c = &g_array_index(t->outcomes, WorkloadCounts, s);
        json_builder_begin_object(b);
        json_member_int(b, "t", s);
        json_member_int(b, "sent", (gint64)c->sent);
        for (guint o = 0; o < WORKLOAD_OUTCOMES; o++)
            json_member_int(b, names[o], (gint64)c->outcomes[o]);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* disruption{first_fault, traffic[], pods[{name, before, after}]}, when the run had a fault. */
static void
json_disruption(JsonBuilder *b, const RunReport *r)
{
    json_builder_set_member_name(b, "disruption");
    json_builder_begin_object(b);
    json_member_time(b, "first_fault", r->first_fault);
    json_builder_set_member_name(b, "traffic");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->traffic->len; i++)
        json_traffic_disruption(b, r->traffic->pdata[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "pods");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        json_builder_begin_object(b);
        json_member_string(b, "name", p->name);
        json_member_int(b, "before", (gint64)p->connections_before);
        json_member_int(b, "after", (gint64)(p->connections - p->connections_before));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* An array-of-strings member. */
static void
json_strings(JsonBuilder *b, const char *name, const GPtrArray *list)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++)
        json_builder_add_string_value(b, list->pdata[i]);
    json_builder_end_array(b);
}

/* expectations[]: {text, ok, observed}; null ok and observed when they were only listed. */
static void
json_expectations(JsonBuilder *b, const RunReport *r)
{
    gboolean evaluated = r->expectation_results->len == r->expectations->len;
    json_builder_set_member_name(b, "expectations");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->expectations->len; i++) {
        const ReportExpectation *x = evaluated ? r->expectation_results->pdata[i] : NULL;
        json_builder_begin_object(b);
        json_member_string(b, "text", r->expectations->pdata[i]);
        json_builder_set_member_name(b, "ok");
        if (x != NULL)
            json_builder_add_boolean_value(b, x->ok);
        else
            json_builder_add_null_value(b);
        json_member_string(b, "observed", x != NULL ? x->observed : NULL);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* The whole document, members in contract order. (transfer full) */
static JsonNode *
json_build(const RunReport *r)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_member_string(b, "scenario", r->scenario);
    json_member_string(b, "file", r->file);
    json_member_int(b, "seed", (gint64)r->seed);
    json_member_time(b, "duration", r->duration);
    json_member_time(b, "ended", r->ended);
    json_member_int(b, "events_processed", (gint64)r->events_processed);
    json_member_double(b, "wall_seconds", round(r->wall_seconds * 1000) / 1000);
    json_member_int(b, "packets", (gint64)r->packets);
    json_builder_set_member_name(b, "pod_server");
    json_builder_begin_object(b);
    json_member_time(b, "service_time", r->service_time);
    json_member_int(b, "concurrency", r->concurrency);
    json_builder_end_object(b);
    json_strings(b, "summary", r->summary);
    json_builder_set_member_name(b, "traffic");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->traffic->len; i++)
        json_traffic(b, r->traffic->pdata[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "pods");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->pods->len; i++)
        json_pod(b, r, r->pods->pdata[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "nodes");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->nodes->len; i++)
        json_node(b, r->nodes->pdata[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "services");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->services->len; i++)
        json_service(b, r->services->pdata[i]);
    json_builder_end_array(b);
    json_timeline(b, r);
    if (r->events->len > 0) /* only runs with events have these members */
        json_events(b, r);
    if (r->first_fault >= 0)
        json_disruption(b, r);
    json_expectations(b, r);
    json_strings(b, "notes", r->notes);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* ------------------------------------------------------------------ printing */

/* The shortest text of d that reads back as d, always with a '.' or an exponent, and without
 * an exponent for ordinary magnitudes (50.0, not 5e+01). */
static void
json_print_double(double d, GString *out)
{
    if (!isfinite(d)) {
        g_string_append(out, "null");
        return;
    }
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    gboolean plain = fabs(d) >= 1e-5 && fabs(d) < 1e16; /* no exponent wanted */
    for (int prec = 1; prec <= 17; prec++) {
        char fmt[8];
        g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
        g_ascii_formatd(buf, sizeof buf, fmt, d);
        if (g_ascii_strtod(buf, NULL) == d && (!plain || strchr(buf, 'e') == NULL))
            break;
    }
    g_string_append(out, buf);
    if (strpbrk(buf, ".eEn") == NULL)
        g_string_append(out, ".0");
}

/* Two spaces per depth, as json-glib indents. */
static void
json_indent(GString *out, guint depth)
{
    for (guint i = 0; i < depth; i++)
        g_string_append(out, "  ");
}

static void json_print(JsonNode *node, guint depth, GString *out);

/* A scalar: integers and booleans plainly, doubles shortest, strings escaped by json-glib. */
static void
json_print_value(JsonNode *node, GString *out)
{
    switch (json_node_get_value_type(node)) {
    case G_TYPE_INT64:
        g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
        return;
    case G_TYPE_DOUBLE:
        json_print_double(json_node_get_double(node), out);
        return;
    case G_TYPE_BOOLEAN:
        g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
        return;
    default: {
        g_autofree char *s = json_to_string(node, FALSE);
        g_string_append(out, s);
        return;
    }
    }
}

/* An object, members in insertion order, one per line. */
static void
json_print_object(JsonObject *o, guint depth, GString *out)
{
    g_autoptr(GList) members = json_object_get_members(o);
    if (members == NULL) {
        g_string_append(out, "{}");
        return;
    }
    g_string_append(out, "{\n");
    for (GList *m = members; m != NULL; m = m->next) {
        json_indent(out, depth + 1);
        JsonNode *key = json_node_init_string(json_node_alloc(), m->data);
        g_autofree char *k = json_to_string(key, FALSE);
        json_node_unref(key);
        g_string_append_printf(out, "%s : ", k);
        json_print(json_object_get_member(o, m->data), depth + 1, out);
        g_string_append(out, m->next ? ",\n" : "\n");
    }
    json_indent(out, depth);
    g_string_append_c(out, '}');
}

/* An array, one element per line. */
static void
json_print_array(JsonArray *a, guint depth, GString *out)
{
    guint n = json_array_get_length(a);
    if (n == 0) {
        g_string_append(out, "[]");
        return;
    }
    g_string_append(out, "[\n");
    for (guint i = 0; i < n; i++) {
        json_indent(out, depth + 1);
        json_print(json_array_get_element(a, i), depth + 1, out);
        g_string_append(out, i + 1 < n ? ",\n" : "\n");
    }
    json_indent(out, depth);
    g_string_append_c(out, ']');
}

/* Any node, pretty-printed at depth. */
static void
json_print(JsonNode *node, guint depth, GString *out)
{
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT:
        json_print_object(json_node_get_object(node), depth, out);
        return;
    case JSON_NODE_ARRAY:
        json_print_array(json_node_get_array(node), depth, out);
        return;
    case JSON_NODE_VALUE:
        json_print_value(node, out);
        return;
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        return;
    }
}

/* See tools/report.h. */
void
report_json_write(const RunReport *r, GString *out)
{
    g_return_if_fail(r != NULL && out != NULL);
    JsonNode *root = json_build(r);
    json_print(root, 0, out);
    g_string_append_c(out, '\n');
    json_node_unref(root);
}
