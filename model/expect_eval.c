/* SPDX-License-Identifier: Apache-2.0 */
/* Judging expectations: probes on the nodes' rules (now or replayed at a time), everything else
 * on a run's report, each result with the observed value in the expectation's own terms
 * (model/expect.h). Typing spec.expect is model/expect.c.
 */
#include "model/expect.h"
#include "model/expect_private.h"

#include <math.h>
#include <string.h>

#include "model/loader.h"
#include "model/probe.h"
#include "model/timeline.h"
#include "sim/net.h"

/* TRUE when observed satisfies t (equality within a rounding error). */
static gboolean
expect_holds(const ExpectThreshold *t, double observed)
{
    const double eps = 1e-9;
    switch (t->op) {
    case EXPECT_OP_GE:
        return observed >= t->value - eps;
    case EXPECT_OP_LE:
        return observed <= t->value + eps;
    case EXPECT_OP_GT:
        return observed > t->value + eps;
    case EXPECT_OP_LT:
        return observed < t->value - eps;
    case EXPECT_OP_EQ:
        return fabs(observed - t->value) <= eps;
    }
    return FALSE;
}

/* A result for e. (transfer full) */
static ExpectResult *
expect_result_new(const Expectation *e, gboolean ok, char *observed)
{
    ExpectResult *r = g_new0(ExpectResult, 1);
    r->text = g_strdup(e->text);
    r->ok = ok;
    r->observed = observed;
    r->pos = e->pos;
    return r;
}

/* The report's traffic named name, or NULL. */
static const ReportTraffic *
expect_find_traffic(const RunReport *rep, const char *name)
{
    for (guint i = 0; i < rep->traffic->len; i++)
        if (g_str_equal(((ReportTraffic *)rep->traffic->pdata[i])->name, name))
            return rep->traffic->pdata[i];
    return NULL;
}

/* {traffic, succeeded}: succeeded over sent. */
static ExpectResult *
expect_eval_succeeded(const Expectation *e, const RunReport *rep)
{
    const ReportTraffic *t = expect_find_traffic(rep, e->traffic);
    if (t == NULL || t->sent == 0)
        return expect_result_new(e, FALSE, g_strdup("no connection was sent"));
    double ratio = (double)t->succeeded / (double)t->sent;
    char pct[16];
    return expect_result_new(e, expect_holds(&e->threshold, ratio),
                             g_strdup_printf("%s (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ")",
                                             report_format_percent(ratio, pct), t->succeeded,
                                             t->sent));
}

/* The cluster pod a report row stands for, or NULL. */
static const K8sPod *
expect_cluster_pod(const Cluster *c, const ReportPod *rp)
{
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = c->pods->pdata[i];
        if (g_str_equal(p->meta.name, rp->name) &&
            g_strcmp0(p->meta.namespace_, rp->namespace_) == 0)
            return p;
    }
    return NULL;
}

/* {pods, maxShare|minShare|imbalance}: shares among the selected pods' connections. */
static ExpectResult *
expect_eval_share(const Expectation *e, const Cluster *c, const RunReport *rep)
{
    guint n = 0;
    guint64 total = 0;
    const ReportPod *max = NULL, *min = NULL;
    for (guint i = 0; i < rep->pods->len; i++) {
        const ReportPod *rp = rep->pods->pdata[i];
        const K8sPod *p = expect_cluster_pod(c, rp);
        if (p == NULL || !k8s_selector_matches(e->selector, p->meta.labels))
            continue;
        n++;
        total += rp->connections;
        if (max == NULL || rp->connections > max->connections)
            max = rp;
        if (min == NULL || rp->connections < min->connections)
            min = rp;
    }
    if (n == 0)
        return expect_result_new(e, FALSE,
                                 g_strdup_printf("no running pod has labels %s", e->pods));
    if (total == 0)
        return expect_result_new(
            e, FALSE, g_strdup_printf("no connection reached the %u pod%s", n, n == 1 ? "" : "s"));
    char pct[16], mean[16];
    const ReportPod *pick = e->kind == EXPECT_MIN_SHARE ? min : max;
    double share = (double)pick->connections / (double)total;
    if (e->kind == EXPECT_IMBALANCE) {
        double ratio = share * n;
        char r[G_ASCII_DTOSTR_BUF_SIZE];
        return expect_result_new(
            e, expect_holds(&e->threshold, ratio),
            g_strdup_printf("%s (largest share %s on %s, mean %s over %u pods)",
                            g_ascii_formatd(r, sizeof r, "%.3f", ratio),
                            report_format_percent(share, pct), pick->name,
                            report_format_percent(1.0 / n, mean), n));
    }
    return expect_result_new(e, expect_holds(&e->threshold, share),
                             g_strdup_printf("%s on %s (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                                             " connections over %u pods)",
                                             report_format_percent(share, pct), pick->name,
                                             pick->connections, total, n));
}

/* TRUE when ip (text) is the first address of an endpoint in svc's EndpointSlices. */
static gboolean
expect_ip_in_slices(const Cluster *c, const K8sService *svc, const char *ip)
{
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    for (guint j = 0; j < slices->len; j++) {
        const K8sEndpointSlice *s = slices->pdata[j];
        for (guint k = 0; k < s->endpoints->len; k++) {
            const K8sEndpoint *ep = s->endpoints->pdata[k];
            char buf[SIM_ADDR_STRLEN];
            if (ep->addresses->len > 0 &&
                g_str_equal(sim_addr_to_string(&g_array_index(ep->addresses, SimAddr, 0), buf), ip))
                return TRUE;
        }
    }
    return FALSE;
}

/* TRUE when the pod of row rp backs a Service one of t's targets belongs to: its labels match
 * the Service's selector (so pods that lost their endpoint during the run still count), or, for
 * a Service without a selector, its IP is in the Service's EndpointSlices. */
static gboolean
expect_pod_serves_traffic(const Cluster *c, const ReportTraffic *t, const ReportPod *rp)
{
    const K8sPod *pod = expect_cluster_pod(c, rp);
    for (guint i = 0; i < t->targets->len; i++) {
        const ReportTarget *tg = t->targets->pdata[i];
        if (tg->service == NULL)
            continue;
        g_auto(GStrv) nsname = g_strsplit(tg->service, "/", 2);
        const K8sService *svc = nsname[1] ? cluster_find_service(c, nsname[0], nsname[1]) : NULL;
        if (svc == NULL)
            continue;
        if (svc->selector != NULL
                ? pod != NULL && k8s_selector_matches(svc->selector, pod->meta.labels)
                : rp->ip != NULL && expect_ip_in_slices(c, svc, rp->ip))
            return TRUE;
    }
    return FALSE;
}

/* {traffic, sourceIPSeenByPods}: what the pods behind the traffic's Services saw. */
static ExpectResult *
expect_eval_source_ip(const Expectation *e, const Cluster *c, const RunReport *rep)
{
    const ReportTraffic *t = expect_find_traffic(rep, e->traffic);
    guint64 kept = 0, snat = 0, other = 0;
    for (guint i = 0; t != NULL && i < rep->pods->len; i++) {
        const ReportPod *rp = rep->pods->pdata[i];
        if (!expect_pod_serves_traffic(c, t, rp))
            continue;
        kept += rp->source_preserved;
        snat += rp->source_snat;
        other += rp->source_other;
    }
    guint64 total = kept + snat + other;
    if (total == 0)
        return expect_result_new(
            e, FALSE, g_strdup_printf("no connection of traffic %s reached a pod", e->traffic));
    gboolean ok = e->preserved ? kept == total : snat == total;
    return expect_result_new(
        e, ok,
        g_strdup_printf("of %" G_GUINT64_FORMAT " connections at the pods behind its Services, "
                        "%" G_GUINT64_FORMAT " kept the client's address, %" G_GUINT64_FORMAT
                        " were SNATed to a node's%s",
                        total, kept, snat, other ? ", others came from elsewhere" : ""));
}

/* The probe's outcome as "verdict V, endpoints [..], masquerade B". (transfer full) */
static char *
expect_probe_observed(const Probe *p, const GPtrArray *endpoints)
{
    g_autofree char *list = expect_join(endpoints);
    return g_strdup_printf("verdict %s, endpoints [%s], masquerade %s", nf_verdict_name(p->verdict),
                           list, p->masquerade ? "true" : "false");
}

static ExpectResult *expect_probe_result(const Expectation *e, const Probe *p);

/* {probe, verdict, endpoints, masquerade}: probe_run on the node's rules as built. */
static ExpectResult *
expect_eval_probe(const Expectation *e, const Cluster *c)
{
    const K8sNode *node = cluster_find_node(c, e->node);
    GError *error = NULL;
    g_autoptr(Probe) p = node ? probe_run(c, node, &e->from, &e->to, e->protocol, &error) : NULL;
    if (p == NULL) {
        char *msg =
            g_strdup_printf("the probe could not run: %s", error ? error->message : "no such node");
        g_clear_error(&error);
        return expect_result_new(e, FALSE, msg);
    }
    return expect_probe_result(e, p);
}

/* Compares what probe p found with what e expects. */
static ExpectResult *
expect_probe_result(const Expectation *e, const Probe *p)
{
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < p->endpoints->len; i++) {
        char buf[SIM_SOCKADDR_STRLEN];
        g_ptr_array_add(seen, g_strdup(sim_sockaddr_to_string(
                                  &g_array_index(p->endpoints, SimSockAddr, i), buf)));
    }
    g_ptr_array_sort(seen, expect_compare_strings);
    gboolean ok = p->verdict == e->verdict;
    if (e->masquerade >= 0 && (p->masquerade != 0) != (e->masquerade != 0))
        ok = FALSE;
    if (e->endpoints != NULL && e->endpoints->len != seen->len)
        ok = FALSE;
    for (guint i = 0; ok && e->endpoints != NULL && i < seen->len; i++)
        ok = g_str_equal(e->endpoints->pdata[i], seen->pdata[i]);
    return expect_result_new(e, ok, expect_probe_observed(p, seen));
}

/* {probe, at}: the probe on the rules node had programmed by e->at, in a cluster replay()
 * builds and the timeline replays. */
static ExpectResult *
expect_eval_probe_at(const Expectation *e, ExpectReplayFunc replay, gpointer data)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = NULL;
    g_autoptr(Timeline) tl = NULL;
    g_autoptr(Probe) p = NULL;
    GError *error = NULL;
    const K8sNode *node = NULL;
    if (replay(data, &sc, &c, &error) && (node = cluster_find_node(c, e->node)) != NULL) {
        TimelineOptions opt = {.at = e->at, .family = e->to.addr.family, .node = e->node};
        tl = timeline_new(c, &opt, &error);
    }
    if (tl != NULL)
        p = probe_run_rules(c, node, timeline_rules(tl, node), &e->from, &e->to, e->protocol,
                            &error);
    if (p == NULL) {
        char *msg =
            g_strdup_printf("the probe could not run: %s",
                            error ? error->message : "the replayed cluster has no such node");
        g_clear_error(&error);
        return expect_result_new(e, FALSE, msg);
    }
    return expect_probe_result(e, p);
}

/* ExpectReplayFunc loading the scenario file of the Cluster data again, with its seed. */
static gboolean
expect_replay_file(gpointer data, Scenario **sc, Cluster **c, GError **error)
{
    const Scenario *orig = ((const Cluster *)data)->scenario;
    *sc = loader_load_scenario(orig->file, error);
    if (*sc == NULL)
        return FALSE;
    (*sc)->seed = orig->seed;
    *c = cluster_build(*sc, error);
    return *c != NULL;
}

/* {node, drops}: the reason's counter on the node (or summed over every node). */
static ExpectResult *
expect_eval_drops(const Expectation *e, const RunReport *rep)
{
    const char *reason = sim_drop_reason_name((SimDropReason)e->reason);
    guint64 count = 0;
    for (guint i = 0; i < rep->nodes->len; i++) {
        const ReportNode *n = rep->nodes->pdata[i];
        if (e->node != NULL && !g_str_equal(n->name, e->node))
            continue;
        for (guint j = 0; j < n->drops->len; j++) {
            const ReportDrop *d = &g_array_index(n->drops, ReportDrop, j);
            if (g_str_equal(d->reason, reason))
                count += d->count;
        }
    }
    return expect_result_new(e, expect_holds(&e->threshold, (double)count),
                             g_strdup_printf("%" G_GUINT64_FORMAT " packet%s dropped (%s)", count,
                                             count == 1 ? "" : "s", reason));
}

/* {traffic, [target], blackHole}: the window from the first fault to the end of the last second
 * with a failure (of the target, or of any target). Open until the traffic stopped: at least
 * that long, so upper bounds fail. */
static ExpectResult *
expect_eval_black_hole(const Expectation *e, const RunReport *rep)
{
    const ReportTraffic *t = expect_find_traffic(rep, e->traffic);
    const ReportTarget *tg = NULL;
    for (guint i = 0; t != NULL && e->target != NULL && i < t->targets->len; i++)
        if (g_str_equal(((ReportTarget *)t->targets->pdata[i])->target, e->target))
            tg = t->targets->pdata[i];
    if (t == NULL || (e->target != NULL && tg == NULL))
        return expect_result_new(e, FALSE, g_strdup("the traffic was not run"));
    if (rep->first_fault < 0)
        return expect_result_new(e, expect_holds(&e->threshold, 0.0),
                                 g_strdup("0s (the run had no fault event)"));
    SimTime end = tg != NULL ? (tg->fault_fail_last >= 0 ? (tg->fault_fail_last + 1) * SIM_SEC : -1)
                             : t->blackhole_end;
    SimTime len = end >= 0 ? end - rep->first_fault : 0;
    /* still failing in the traffic's last second: the hole had not closed */
    gboolean open = end >= 0 && t->recovered < 0 && end >= t->blackhole_end;
    gboolean ok = expect_holds(&e->threshold, (double)len / (double)SIM_SEC);
    if (open && e->threshold.op != EXPECT_OP_GE && e->threshold.op != EXPECT_OP_GT)
        ok = FALSE;
    guint64 lost = tg != NULL ? tg->fault_failed : t->lost;
    char d[SIM_TIME_STRLEN], f[SIM_TIME_STRLEN];
    g_autofree char *why = end < 0 ? g_strdup("no connection failed since")
                           : open
                               ? g_strdup("still failing when the traffic stopped")
                               : g_strdup_printf("%" G_GUINT64_FORMAT " connection%s failed in it",
                                                 lost, lost == 1 ? "" : "s");
    return expect_result_new(e, ok,
                             g_strdup_printf("%s%s from the first fault at %s (%s)",
                                             open ? "at least " : "", sim_time_format(len, d),
                                             sim_time_format(rep->first_fault, f), why));
}

/* See model/expect.h. */
ExpectResult *
expect_evaluate(const Expectation *e, const Cluster *c, const RunReport *rep)
{
    g_return_val_if_fail(e != NULL && c != NULL, NULL);
    g_return_val_if_fail(rep != NULL || e->kind == EXPECT_PROBE, NULL);
    switch (e->kind) {
    case EXPECT_SUCCEEDED:
        return expect_eval_succeeded(e, rep);
    case EXPECT_MAX_SHARE:
    case EXPECT_MIN_SHARE:
    case EXPECT_IMBALANCE:
        return expect_eval_share(e, c, rep);
    case EXPECT_SOURCE_IP:
        return expect_eval_source_ip(e, c, rep);
    case EXPECT_PROBE:
        return e->at > 0 ? expect_eval_probe_at(e, expect_replay_file, (gpointer)c)
                         : expect_eval_probe(e, c);
    case EXPECT_DROPS:
        return expect_eval_drops(e, rep);
    case EXPECT_BLACK_HOLE:
        return expect_eval_black_hole(e, rep);
    }
    g_assert_not_reached();
}

/* See model/expect.h. */
GPtrArray *
expect_evaluate_probes(const GPtrArray *expectations, const Cluster *c)
{
    g_return_val_if_fail(expectations != NULL && c != NULL, NULL);
    GPtrArray *results = g_ptr_array_new_with_free_func((GDestroyNotify)expect_result_free);
    for (guint i = 0; i < expectations->len; i++) {
        const Expectation *e = expectations->pdata[i];
        g_ptr_array_add(results,
                        e->kind == EXPECT_PROBE && e->at == 0 ? expect_evaluate(e, c, NULL) : NULL);
    }
    return results;
}

/* See model/expect.h. */
void
expect_evaluate_probes_at(GPtrArray *results, const GPtrArray *expectations,
                          ExpectReplayFunc replay, gpointer data)
{
    g_return_if_fail(results != NULL && expectations != NULL && replay != NULL);
    g_return_if_fail(results->len == expectations->len);
    for (guint i = 0; i < expectations->len; i++) {
        const Expectation *e = expectations->pdata[i];
        if (e->kind == EXPECT_PROBE && e->at > 0 && results->pdata[i] == NULL)
            results->pdata[i] = expect_eval_probe_at(e, replay, data);
    }
}

/* See model/expect.h. */
void
expect_evaluate_run(GPtrArray *results, const GPtrArray *expectations, const Cluster *c,
                    const RunReport *rep)
{
    g_return_if_fail(results != NULL && expectations != NULL && results->len == expectations->len);
    for (guint i = 0; i < expectations->len; i++)
        if (results->pdata[i] == NULL)
            results->pdata[i] = expect_evaluate(expectations->pdata[i], c, rep);
}

/* See model/expect.h. */
GPtrArray *
expect_evaluate_all(const GPtrArray *expectations, const Cluster *c, const RunReport *rep)
{
    GPtrArray *results = expect_evaluate_probes(expectations, c);
    expect_evaluate_run(results, expectations, c, rep);
    return results;
}

/* See model/expect.h. */
guint
expect_count_failed(const GPtrArray *results)
{
    guint n = 0;
    for (guint i = 0; i < results->len; i++)
        n += !((const ExpectResult *)results->pdata[i])->ok;
    return n;
}

/* See model/expect.h. The note is recognised by its opening words, as model/run.c writes it. */
void
expect_fill_report(RunReport *rep, const GPtrArray *results)
{
    g_return_if_fail(rep != NULL && results != NULL);
    g_ptr_array_set_size(rep->expectations, 0);
    g_ptr_array_set_size(rep->expectation_results, 0);
    for (guint i = 0; i < results->len; i++) {
        const ExpectResult *r = results->pdata[i];
        ReportExpectation *x = g_new0(ReportExpectation, 1);
        x->text = g_strdup(r->text);
        x->ok = r->ok;
        x->observed = g_strdup(r->observed);
        g_ptr_array_add(rep->expectations, g_strdup(r->text));
        g_ptr_array_add(rep->expectation_results, x);
    }
    for (guint i = rep->notes->len; i > 0; i--)
        if (g_str_has_prefix(rep->notes->pdata[i - 1], "the scenario's expectations (spec.expect)"))
            g_ptr_array_remove_index(rep->notes, i - 1);
}
