/* SPDX-License-Identifier: Apache-2.0 */
/* The run report: construction and release of its plain rows, and the sentences that say what
 * happened, derived from the numbers.
 *
 * The sentences play the part of an engineer reading the tables for a colleague: how many
 * connections succeeded and how fast, which targets failed and (when the data shows it) why,
 * which nodes only forwarded, whether pods saw the client's address, how evenly the pods were
 * loaded, where requests queued and where the kernel dropped packets. They are computed from
 * the report's own fields only, so a report built by hand gets the same sentences as one built
 * by a run.
 */
#include "model/report.h"

#include <string.h>

/* ------------------------------------------------------------------ rows */

/* Frees a target row. */
static void
report_target_free(ReportTarget *t)
{
    g_free(t->target);
    g_free(t->node);
    g_free(t->service);
    g_free(t->external_policy);
    g_free(t);
}

/* Frees a traffic row and its targets. */
static void
report_traffic_free(ReportTraffic *t)
{
    g_free(t->name);
    g_free(t->from);
    g_free(t->client_address);
    g_free(t->protocol);
    g_ptr_array_unref(t->targets);
    g_array_unref(t->timeline);
    g_array_unref(t->outcomes);
    g_free(t);
}

/* Frees a pod row. */
static void
report_pod_free(ReportPod *p)
{
    g_free(p->name);
    g_free(p->namespace_);
    g_free(p->node);
    g_free(p->ip);
    g_array_unref(p->entries);
    g_free(p);
}

/* Frees a node row. */
static void
report_node_free(ReportNode *n)
{
    g_free(n->name);
    g_free(n->addresses);
    g_array_unref(n->drops);
    g_clear_pointer(&n->ipvs, g_ptr_array_unref);
    g_free(n);
}

/* See model/report.h. */
void
report_ipvs_dest_free(gpointer d)
{
    ReportIpvsDest *x = d;
    g_free(x->service);
    g_free(x->real_server);
    g_free(x);
}

/* Clears a Service port row (the array owns the struct). */
static void
report_service_port_clear(ReportServicePort *p)
{
    g_free(p->target_port_name);
    g_free(p->protocol);
}

/* Frees a Service row and its ports. */
static void
report_service_free(ReportService *s)
{
    g_free(s->name);
    g_free(s->namespace_);
    g_free(s->type);
    g_free(s->cluster_ip);
    g_free(s->external_policy);
    g_array_unref(s->ports);
    g_free(s);
}

/* Frees a ReportExpectation; a GDestroyNotify. */
static void
report_expectation_free(gpointer p)
{
    ReportExpectation *e = p;
    g_free(e->text);
    g_free(e->observed);
    g_free(e);
}

/* Frees a ReportEvent; a GDestroyNotify. */
static void
report_event_free(gpointer p)
{
    ReportEvent *e = p;
    g_free(e->kind);
    g_free(e->subject);
    g_free(e->detail);
    g_free(e);
}

/* See model/report.h. */
ReportEvent *
report_add_event(RunReport *r, SimTime at, const char *kind, const char *subject,
                 const char *detail)
{
    g_return_val_if_fail(r != NULL && kind != NULL, NULL);
    ReportEvent *e = g_new0(ReportEvent, 1);
    e->at = at;
    e->kind = g_strdup(kind);
    e->subject = g_strdup(subject);
    e->detail = g_strdup(detail);
    g_ptr_array_add(r->events, e);
    return e;
}

/* See model/report.h. */
RunReport *
report_new(void)
{
    RunReport *r = g_new0(RunReport, 1);
    r->traffic = g_ptr_array_new_with_free_func((GDestroyNotify)report_traffic_free);
    r->pods = g_ptr_array_new_with_free_func((GDestroyNotify)report_pod_free);
    r->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)report_node_free);
    r->services = g_ptr_array_new_with_free_func((GDestroyNotify)report_service_free);
    r->notes = g_ptr_array_new_with_free_func(g_free);
    r->expectations = g_ptr_array_new_with_free_func(g_free);
    r->summary = g_ptr_array_new_with_free_func(g_free);
    r->expectation_results = g_ptr_array_new_with_free_func(report_expectation_free);
    r->first_fault = -1;
    r->events = g_ptr_array_new_with_free_func(report_event_free);
    return r;
}

/* See model/report.h. */
void
report_free(RunReport *r)
{
    if (r == NULL)
        return;
    g_free(r->scenario);
    g_free(r->file);
    g_free(r->description);
    g_ptr_array_unref(r->traffic);
    g_ptr_array_unref(r->pods);
    g_ptr_array_unref(r->nodes);
    g_ptr_array_unref(r->services);
    g_ptr_array_unref(r->notes);
    g_ptr_array_unref(r->expectations);
    g_ptr_array_unref(r->summary);
    g_ptr_array_unref(r->expectation_results);
    g_ptr_array_unref(r->events);
    g_free(r);
}

/* See model/report.h. Latencies start at -1 (none). */
ReportTraffic *
report_add_traffic(RunReport *r, const char *name)
{
    g_return_val_if_fail(r != NULL && name != NULL, NULL);
    ReportTraffic *t = g_new0(ReportTraffic, 1);
    t->name = g_strdup(name);
    t->p50 = t->p99 = t->max = t->mean = -1;
    t->targets = g_ptr_array_new_with_free_func((GDestroyNotify)report_target_free);
    t->timeline = g_array_new(FALSE, TRUE, sizeof(WorkloadBucket));
    t->outcomes = g_array_new(FALSE, TRUE, sizeof(WorkloadCounts));
    t->blackhole_start = t->blackhole_end = t->recovered = -1;
    g_ptr_array_add(r->traffic, t);
    return t;
}

/* See model/report.h. */
ReportTarget *
report_traffic_add_target(ReportTraffic *t, const char *target)
{
    g_return_val_if_fail(t != NULL && target != NULL, NULL);
    ReportTarget *x = g_new0(ReportTarget, 1);
    x->target = g_strdup(target);
    x->fault_fail_first = x->fault_fail_last = -1;
    g_ptr_array_add(t->targets, x);
    return x;
}

/* See model/report.h. */
ReportPod *
report_add_pod(RunReport *r, const char *name)
{
    g_return_val_if_fail(r != NULL && name != NULL, NULL);
    ReportPod *p = g_new0(ReportPod, 1);
    p->name = g_strdup(name);
    p->entries = g_array_new(FALSE, FALSE, sizeof(ReportPodEntry));
    g_ptr_array_add(r->pods, p);
    return p;
}

/* See model/report.h. */
ReportNode *
report_add_node(RunReport *r, const char *name)
{
    g_return_val_if_fail(r != NULL && name != NULL, NULL);
    ReportNode *n = g_new0(ReportNode, 1);
    n->name = g_strdup(name);
    n->drops = g_array_new(FALSE, TRUE, sizeof(ReportDrop));
    g_ptr_array_add(r->nodes, n);
    return n;
}

/* See model/report.h. */
ReportService *
report_add_service(RunReport *r, const char *name)
{
    g_return_val_if_fail(r != NULL && name != NULL, NULL);
    ReportService *s = g_new0(ReportService, 1);
    s->name = g_strdup(name);
    s->ports = g_array_new(FALSE, TRUE, sizeof(ReportServicePort));
    g_array_set_clear_func(s->ports, (GDestroyNotify)report_service_port_clear);
    g_ptr_array_add(r->services, s);
    return s;
}

/* See model/report.h. */
void
report_compute_shares(RunReport *r)
{
    g_return_if_fail(r != NULL);
    guint64 total = 0;
    for (guint i = 0; i < r->pods->len; i++)
        total += ((ReportPod *)r->pods->pdata[i])->connections;
    for (guint i = 0; i < r->pods->len; i++) {
        ReportPod *p = r->pods->pdata[i];
        p->share = total ? (double)p->connections / (double)total : 0;
    }
}

/* See model/report.h. */
guint64
report_failures_total(const ReportFailures *f)
{
    return f->timeout + f->refused + f->reset + f->dropped;
}

/* ------------------------------------------------------------------ formatting */

/* See model/report.h. Microsecond precision below 100 ms, then tenths, then whole milliseconds;
 * integer arithmetic only. */
const char *
report_format_ms(SimTime t, char *buf)
{
    if (t < 0) {
        g_strlcpy(buf, "-", 32);
        return buf;
    }
    gint64 us = (t + 500) / 1000;
    if (us >= 1000000) {
        g_snprintf(buf, 32, "%" G_GINT64_FORMAT, (us + 500) / 1000);
    } else if (us >= 100000) {
        gint64 tenths = (us + 50) / 100;
        g_snprintf(buf, 32, "%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT, tenths / 10, tenths % 10);
    } else {
        g_snprintf(buf, 32, "%" G_GINT64_FORMAT ".%03" G_GINT64_FORMAT, us / 1000, us % 1000);
    }
    if (strchr(buf, '.') != NULL) {
        char *end = buf + strlen(buf) - 1;
        while (*end == '0')
            *end-- = '\0';
        if (*end == '.')
            *end = '\0';
    }
    return buf;
}

/* See model/report.h. */
const char *
report_format_percent(double fraction, char *buf)
{
    if (fraction <= 0) {
        g_strlcpy(buf, "0%", 16);
        return buf;
    }
    if (fraction >= 1) {
        g_strlcpy(buf, "100%", 16);
        return buf;
    }
    /* tenths of a percent, never rounded to 0 or 100 for a fraction strictly between */
    gint64 tenths = (gint64)(fraction * 1000 + 0.5);
    if (tenths == 0) {
        g_strlcpy(buf, "<0.1%", 16);
        return buf;
    }
    tenths = MIN(tenths, 999);
    if (tenths % 10 == 0)
        g_snprintf(buf, 16, "%" G_GINT64_FORMAT "%%", tenths / 10);
    else
        g_snprintf(buf, 16, "%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT "%%", tenths / 10,
                   tenths % 10);
    return buf;
}

/* "1000 timeout, 3 refused": the non-zero failure counts. */
static void
report_append_failures(GString *s, const ReportFailures *f)
{
    const struct {
        const char *name;
        guint64 n;
    } parts[] = {{"timeout", f->timeout},
                 {"refused", f->refused},
                 {"reset", f->reset},
                 {"dropped", f->dropped}};
    gboolean first = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
        if (parts[i].n == 0)
            continue;
        g_string_append_printf(s, "%s%" G_GUINT64_FORMAT " %s", first ? "" : ", ", parts[i].n,
                               parts[i].name);
        first = FALSE;
    }
}

/* Adds the sentence s to the summary (s is taken). */
static void
report_say(RunReport *r, GString *s)
{
    g_ptr_array_add(r->summary, g_string_free(s, FALSE));
}

/* ------------------------------------------------------------------ sentences */

/* Why a target failed, when the report's data shows it; appended to s. */
static void
report_target_reason(GString *s, const RunReport *r, const ReportTarget *x)
{
    if (x->service == NULL && x->node != NULL) {
        g_string_append_printf(s, " - no Service listens on %s", x->target);
        return;
    }
    if (x->service == NULL) {
        g_string_append_printf(s, " - %s is neither a node's address nor a Service's", x->target);
        return;
    }
    if (x->node != NULL && !x->node_has_endpoint && g_strcmp0(x->external_policy, "Local") == 0 &&
        g_strcmp0(r->proxy_mode, "ipvs") == 0)
        g_string_append_printf(s,
                               " - %s runs no endpoint of %s; with externalTrafficPolicy Local "
                               "IPVS mode still forwards them to the other nodes' pods without "
                               "SNAT, and the replies go back to the client another way%s",
                               x->node, x->service,
                               x->failed.timeout ? ", so the client's connections time out" : "");
    else if (x->node != NULL && !x->node_has_endpoint &&
             g_strcmp0(x->external_policy, "Local") == 0)
        g_string_append_printf(s,
                               " - %s runs no endpoint of %s, and with externalTrafficPolicy "
                               "Local it drops them (kube-proxy's KUBE-EXTERNAL-SERVICES rule)%s",
                               x->node, x->service,
                               x->failed.timeout ? ", so the client's SYNs time out" : "");
}

/* Outcome and latency of one traffic entry, then its failing targets. */
static void
report_summarize_traffic(RunReport *r, const ReportTraffic *t)
{
    char b1[32], b2[16];
    GString *s = g_string_new(NULL);
    if (r->traffic->len > 1)
        g_string_append_printf(s, "traffic %s: ", t->name);
    guint64 failed = report_failures_total(&t->failed);
    if (t->sent == 0) {
        g_string_append(s, "no connection was started");
    } else if (failed == 0) {
        g_string_append_printf(s,
                               "all %" G_GUINT64_FORMAT " connections succeeded; p99 latency %s ms",
                               t->sent, report_format_ms(t->p99, b1));
    } else {
        g_string_append_printf(s,
                               "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                               " connections succeeded (%s); %" G_GUINT64_FORMAT " failed (",
                               t->succeeded, t->sent,
                               report_format_percent((double)t->succeeded / (double)t->sent, b2),
                               failed);
        report_append_failures(s, &t->failed);
        g_string_append(s, ")");
        if (t->succeeded > 0)
            g_string_append_printf(s, "; p99 latency of the successful ones %s ms",
                                   report_format_ms(t->p99, b1));
    }
    report_say(r, s);
    for (guint i = 0; i < t->targets->len; i++) {
        const ReportTarget *x = t->targets->pdata[i];
        guint64 xf = report_failures_total(&x->failed);
        if (xf == 0 || xf * 10 < x->sent)
            continue; /* fewer than 10% failed: the traffic's sentence says enough */
        s = g_string_new(NULL);
        if (xf == x->sent)
            g_string_append_printf(s, "all %" G_GUINT64_FORMAT " connections to %s", x->sent,
                                   x->target);
        else
            g_string_append_printf(
                s, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " connections to %s", xf, x->sent,
                x->target);
        if (x->node != NULL)
            g_string_append_printf(s, " (%s)", x->node);
        g_string_append(s, " failed: ");
        report_append_failures(s, &x->failed);
        report_target_reason(s, r, x);
        report_say(r, s);
    }
}

/* Does some pod on node serve connections? */
static gboolean
report_node_serves(const RunReport *r, const char *node)
{
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        if (p->connections > 0 && g_strcmp0(p->node, node) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Nodes that only forwarded, and how often connections crossed to another node. */
static void
report_summarize_nodes(RunReport *r)
{
    char b[16];
    guint64 served = 0, crossed = 0;
    for (guint i = 0; i < r->nodes->len; i++) {
        const ReportNode *n = r->nodes->pdata[i];
        served += n->connections_served;
        crossed += n->connections_crossed;
    }
    if (served == 0)
        return;
    for (guint i = 0; i < r->nodes->len; i++) {
        const ReportNode *n = r->nodes->pdata[i];
        if (n->connections_crossed == 0 || n->connections_crossed != n->connections_served ||
            report_node_serves(r, n->name))
            continue;
        GString *s = g_string_new(NULL);
        g_string_append_printf(s,
                               "%s runs %s but forwarded %s of connections (%" G_GUINT64_FORMAT
                               " of %" G_GUINT64_FORMAT ") to pods on other nodes",
                               n->name, n->pods == 0 ? "no pod" : "none of the pods that served",
                               report_format_percent((double)n->connections_crossed / served, b),
                               n->connections_crossed, served);
        report_say(r, s);
    }
    GString *s = g_string_new(NULL);
    if (crossed == 0)
        g_string_append(s, "every connection was served by a pod on the node it entered");
    else
        g_string_append_printf(s,
                               "%s of connections (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                               ") crossed to a pod on another node after entering the cluster",
                               report_format_percent((double)crossed / served, b), crossed, served);
    report_say(r, s);
}

/* The one external traffic policy of every target that reached a pod, or NULL when they
 * differ or none has one. */
static const char *
report_common_policy(const RunReport *r)
{
    const char *policy = NULL;
    for (guint i = 0; i < r->traffic->len; i++) {
        const ReportTraffic *t = r->traffic->pdata[i];
        for (guint j = 0; j < t->targets->len; j++) {
            const ReportTarget *x = t->targets->pdata[j];
            if (x->succeeded == 0)
                continue;
            if (x->external_policy == NULL ||
                (policy != NULL && strcmp(policy, x->external_policy) != 0))
                return NULL;
            policy = x->external_policy;
        }
    }
    return policy;
}

/* Which source address the pods saw, and why when one policy explains it. */
static void
report_summarize_sources(RunReport *r)
{
    char b[16];
    guint64 preserved = 0, snat = 0, total = 0;
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        preserved += p->source_preserved;
        snat += p->source_snat;
        total += p->source_preserved + p->source_snat + p->source_other;
    }
    if (total == 0)
        return;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "pods saw the client's address on %s of connections",
                           report_format_percent((double)preserved / total, b));
    const char *policy = report_common_policy(r);
    if (preserved == 0 && snat == total && g_strcmp0(policy, "Cluster") == 0)
        g_string_append(s, ": externalTrafficPolicy Cluster SNATs at the entry node");
    else if (preserved == total && g_strcmp0(policy, "Local") == 0)
        g_string_append(s, ": externalTrafficPolicy Local keeps it");
    else if (snat > 0)
        g_string_append_printf(s, "; %s saw a node address (SNAT)",
                               report_format_percent((double)snat / total, b));
    guint64 other = total - preserved - snat;
    if (other > 0)
        g_string_append_printf(s, "; %s came from neither the client's nor a node's address "
                                  "(other pods, e.g. a proxy's upstream connections)",
                               report_format_percent((double)other / total, b));
    report_say(r, s);
}

/* How the connections spread over the pods that got any, and the imbalance: the largest share
 * over the even split among them. */
static void
report_summarize_spread(RunReport *r)
{
    char b[16], c[16];
    g_autoptr(GPtrArray) busy = g_ptr_array_new();
    double lo = 1, hi = 0;
    for (guint i = 0; i < r->pods->len; i++) {
        ReportPod *p = r->pods->pdata[i];
        if (p->connections == 0)
            continue;
        g_ptr_array_add(busy, p);
        lo = MIN(lo, p->share);
        hi = MAX(hi, p->share);
    }
    if (busy->len == 0)
        return;
    GString *s = g_string_new(NULL);
    if (busy->len == 1) {
        g_string_append_printf(s, "one pod, %s, served every connection",
                               ((ReportPod *)busy->pdata[0])->name);
    } else if (busy->len <= 4) {
        g_string_append_printf(s, "connections spread over %u pods:", busy->len);
        for (guint i = 0; i < busy->len; i++) {
            const ReportPod *p = busy->pdata[i];
            g_string_append_printf(s, "%s %s %s", i ? "," : "", p->name,
                                   report_format_percent(p->share, b));
        }
    } else {
        g_string_append_printf(s, "connections spread over %u pods, each getting %s to %s",
                               busy->len, report_format_percent(lo, b),
                               report_format_percent(hi, c));
    }
    if (busy->len > 1) {
        char d[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append_printf(s, "; imbalance %s (the busiest pod's share over the even split %s)",
                               g_ascii_formatd(d, sizeof d, "%.2f", hi * busy->len),
                               report_format_percent(1.0 / busy->len, b));
    }
    report_say(r, s);
}

/* TRUE when some traffic target is external with externalTrafficPolicy Local. */
static gboolean
report_has_local_target(const RunReport *r)
{
    for (guint i = 0; i < r->traffic->len; i++) {
        const ReportTraffic *t = r->traffic->pdata[i];
        for (guint j = 0; j < t->targets->len; j++)
            if (g_strcmp0(((ReportTarget *)t->targets->pdata[j])->external_policy, "Local") == 0)
                return TRUE;
    }
    return FALSE;
}

/* The Local skew: with externalTrafficPolicy Local a node splits what enters it over its own
 * pods only, so when the busy pods are spread unevenly over nodes the pods' shares follow the
 * nodes' ("node1 2 pods, 50% (25% each); node2 1 pod, 50%"), against the even split 1/n. */
static void
report_summarize_local_skew(RunReport *r)
{
    if (!report_has_local_target(r))
        return;
    guint pods = 0, least = G_MAXUINT, most = 0;
    double top = 0;
    GString *s = g_string_new("under externalTrafficPolicy Local each node splits the connections "
                              "entering it over its own pods only:");
    for (guint i = 0; i < r->nodes->len; i++) {
        const ReportNode *n = r->nodes->pdata[i];
        guint k = 0;
        double share = 0;
        for (guint j = 0; j < r->pods->len; j++) {
            const ReportPod *p = r->pods->pdata[j];
            if (p->connections > 0 && g_strcmp0(p->node, n->name) == 0) {
                k++;
                share += p->share;
                top = MAX(top, p->share);
            }
        }
        if (k == 0)
            continue;
        char b[16], c[16];
        g_string_append_printf(s, "%s %s %u pod%s, %s", pods ? ";" : "", n->name, k,
                               k == 1 ? "" : "s", report_format_percent(share, b));
        if (k > 1)
            g_string_append_printf(s, " (%s each)", report_format_percent(share / k, c));
        pods += k;
        least = MIN(least, k);
        most = MAX(most, k);
    }
    if (pods < 2 || least == most) {
        g_string_free(s, TRUE);
        return;
    }
    char b[16], c[16];
    g_string_append_printf(s, ". The busiest pod gets %s against an even %s; Cluster policy "
                              "would even it out at the cost of SNAT and hops",
                           report_format_percent(top, b), report_format_percent(1.0 / pods, c));
    report_say(r, s);
}

/* Pods whose requests had to wait for a worker. */
static void
report_summarize_saturation(RunReport *r)
{
    guint saturated = 0;
    const ReportPod *worst = NULL;
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        if (p->queue_peak == 0)
            continue;
        saturated++;
        if (worst == NULL || p->queue_peak > worst->queue_peak)
            worst = p;
    }
    if (worst == NULL)
        return;
    GString *s = g_string_new(NULL);
    if (saturated == 1)
        g_string_append_printf(s,
                               "pod %s was saturated: up to %" G_GUINT64_FORMAT
                               " requests waited for one of its %u workers",
                               worst->name, worst->queue_peak, worst->concurrency);
    else
        g_string_append_printf(s,
                               "%u pods were saturated; the longest queue was %" G_GUINT64_FORMAT
                               " requests at %s (%u workers)",
                               saturated, worst->queue_peak, worst->name, worst->concurrency);
    report_say(r, s);
}

/* Packets the nodes' kernels dropped, by reason. */
static void
report_summarize_drops(RunReport *r)
{
    for (guint i = 0; i < r->nodes->len; i++) {
        const ReportNode *n = r->nodes->pdata[i];
        if (n->drops->len == 0)
            continue;
        guint64 total = 0;
        for (guint j = 0; j < n->drops->len; j++)
            total += g_array_index(n->drops, ReportDrop, j).count;
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "%s dropped %" G_GUINT64_FORMAT " packet%s (", n->name, total,
                               total == 1 ? "" : "s");
        for (guint j = 0; j < n->drops->len; j++) {
            const ReportDrop *d = &g_array_index(n->drops, ReportDrop, j);
            g_string_append_printf(s, "%s%s %" G_GUINT64_FORMAT, j ? ", " : "", d->reason,
                                   d->count);
        }
        g_string_append(s, ")");
        report_say(r, s);
    }
}

/* See model/report.h. */
void
report_summarize(RunReport *r)
{
    g_return_if_fail(r != NULL);
    g_ptr_array_set_size(r->summary, 0);
    if (r->traffic->len == 0)
        g_ptr_array_add(r->summary, g_strdup("the scenario sends no traffic"));
    for (guint i = 0; i < r->traffic->len; i++)
        report_summarize_traffic(r, r->traffic->pdata[i]);
    report_summarize_nodes(r);
    report_summarize_sources(r);
    report_summarize_spread(r);
    report_summarize_local_skew(r);
    report_summarize_saturation(r);
    report_summarize_drops(r);
}
