/* SPDX-License-Identifier: Apache-2.0 */
/* The run time: latency histograms, arrival processes, report sentences and writers from
 * synthetic data, scenario overrides, and whole runs of the seed examples and of small
 * scenarios that exercise UDP, closed loops, saturation and refused connections.
 */
#include <check.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "model/kube_proxy.h"
#include "model/loader.h"
#include "model/controllers.h"
#include "model/run.h"
#include "model/timeline.h"
#include "tools/report.h"

#ifndef KPSIM_SRCDIR
#define KPSIM_SRCDIR "."
#endif

/* ------------------------------------------------------------------ histogram */

static int
cmp_time(gconstpointer a, gconstpointer b)
{
    SimTime x = *(const SimTime *)a, y = *(const SimTime *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted values. */
static SimTime
exact_percentile(const GArray *sorted, double p)
{
    guint64 rank = (guint64)ceil(p / 100.0 * sorted->len);
    return g_array_index(sorted, SimTime, MAX(rank, 1) - 1);
}

START_TEST(hist_percentiles_within_one_percent)
{
    /* Latencies spread log-uniformly from 1 us to 10 s, plus a cluster near 1.2 ms. */
    SimRng rng;
    sim_rng_init(&rng, 7, "test/hist");
    g_autoptr(WorkloadHist) h = workload_hist_new();
    g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(SimTime));
    for (guint i = 0; i < 200000; i++) {
        SimTime v = i % 3 == 0 ? 1200000 + (SimTime)sim_rng_below(&rng, 50000)
                               : (SimTime)(1000.0 * pow(10.0, 7.0 * sim_rng_double(&rng)));
        workload_hist_add(h, v);
        g_array_append_val(all, v);
    }
    g_array_sort(all, cmp_time);
    ck_assert_uint_eq(workload_hist_count(h), 200000);
    const double ps[] = {1, 10, 50, 90, 99, 99.9, 100};
    for (guint i = 0; i < G_N_ELEMENTS(ps); i++) {
        SimTime want = exact_percentile(all, ps[i]), got = workload_hist_percentile(h, ps[i]);
        ck_assert_msg(fabs((double)(got - want)) <= 0.01 * (double)want,
                      "p%g: %" G_GINT64_FORMAT " vs exact %" G_GINT64_FORMAT, ps[i], got, want);
    }
    ck_assert_int_eq(workload_hist_max(h), g_array_index(all, SimTime, all->len - 1));
    ck_assert_int_eq(workload_hist_percentile(h, 100), workload_hist_max(h));
}
END_TEST

START_TEST(hist_small_values_are_exact)
{
    g_autoptr(WorkloadHist) h = workload_hist_new();
    for (SimTime v = 1; v <= 200; v++)
        workload_hist_add(h, v);
    ck_assert_int_eq(workload_hist_percentile(h, 50), 100);
    ck_assert_int_eq(workload_hist_percentile(h, 99), 198);
    ck_assert_int_eq(workload_hist_percentile(h, 0.1), 1);
    ck_assert_int_eq(workload_hist_mean(h), 101); /* 100.5 rounds up */
    ck_assert_int_eq(workload_hist_max(h), 200);
}
END_TEST

START_TEST(hist_empty_and_extreme_values)
{
    g_autoptr(WorkloadHist) h = workload_hist_new();
    ck_assert_int_eq(workload_hist_percentile(h, 99), 0);
    ck_assert_int_eq(workload_hist_max(h), 0);
    ck_assert_int_eq(workload_hist_mean(h), 0);
    workload_hist_add(h, -5);                                     /* counts as 0 */
    workload_hist_add(h, G_GINT64_CONSTANT(4611686018427387904)); /* 2^62 */
    ck_assert_uint_eq(workload_hist_count(h), 2);
    ck_assert_int_eq(workload_hist_percentile(h, 50), 0);
    ck_assert_int_eq(workload_hist_percentile(h, 100), G_GINT64_CONSTANT(4611686018427387904));
}
END_TEST

/* A single repeated value is reported exactly, whatever its bucket's width. */
START_TEST(hist_single_value_is_exact)
{
    g_autoptr(WorkloadHist) h = workload_hist_new();
    for (guint i = 0; i < 10; i++)
        workload_hist_add(h, 1234567);
    ck_assert_int_eq(workload_hist_percentile(h, 50), 1234567);
    ck_assert_int_eq(workload_hist_percentile(h, 99), 1234567);
    ck_assert_int_eq(workload_hist_mean(h), 1234567);
}
END_TEST

/* ------------------------------------------------------------------ arrivals */

START_TEST(arrivals_same_stream_same_gaps)
{
    WorkloadArrivals a, b, c, d;
    workload_arrivals_init(&a, 1, "web", 50);
    workload_arrivals_init(&b, 1, "web", 50);
    workload_arrivals_init(&c, 1, "api", 50);
    workload_arrivals_init(&d, 2, "web", 50);
    guint differ_name = 0, differ_seed = 0;
    for (guint i = 0; i < 1000; i++) {
        SimTime x = workload_arrivals_next(&a);
        ck_assert_int_eq(x, workload_arrivals_next(&b));
        ck_assert_int_ge(x, 1);
        differ_name += x != workload_arrivals_next(&c);
        differ_seed += x != workload_arrivals_next(&d);
    }
    ck_assert_uint_gt(differ_name, 990);
    ck_assert_uint_gt(differ_seed, 990);
}
END_TEST

/* The gaps are exponential with mean 1/rate: the mean and P(gap > mean) = 1/e match. */
START_TEST(arrivals_are_exponential_at_the_rate)
{
    WorkloadArrivals a;
    workload_arrivals_init(&a, 42, "web", 50);
    const guint n = 400000;
    double sum = 0;
    guint above = 0;
    for (guint i = 0; i < n; i++) {
        SimTime g = workload_arrivals_next(&a);
        sum += (double)g;
        above += g > 20 * SIM_MSEC;
    }
    double mean = sum / n;
    ck_assert_msg(fabs(mean - 20e6) < 0.01 * 20e6, "mean gap %f ns", mean);
    ck_assert_msg(fabs((double)above / n - exp(-1)) < 0.005, "P(gap > mean) = %f",
                  (double)above / n);
}
END_TEST

/* The first gaps of a known stream never change (the logarithm is computed portably). */
START_TEST(arrivals_known_values)
{
    WorkloadArrivals a;
    workload_arrivals_init(&a, 1, "web", 50);
    SimRng rng;
    sim_rng_init(&rng, 1, "traffic/web");
    for (guint i = 0; i < 100; i++) {
        double u = 1.0 - sim_rng_double(&rng);
        SimTime want = (SimTime)(-log(u) * 20e6 + 0.5);
        SimTime got = workload_arrivals_next(&a);
        ck_assert_msg(llabs(got - want) <= 1,
                      "gap %u: %" G_GINT64_FORMAT " vs libm %" G_GINT64_FORMAT, i, got, want);
    }
}
END_TEST

/* ------------------------------------------------------------------ synthetic reports */

static ReportTarget *
add_target(ReportTraffic *t, const char *target, const char *node, const char *policy,
           gboolean has_endpoint, guint64 sent, guint64 timeouts)
{
    ReportTarget *x = report_traffic_add_target(t, target);
    x->node = g_strdup(node);
    x->service = g_strdup("default/nginx-service-nodeport");
    x->external_policy = g_strdup(policy);
    x->node_has_endpoint = has_endpoint;
    x->sent = sent;
    x->failed.timeout = timeouts;
    x->succeeded = sent - timeouts;
    return x;
}

static ReportNode *
add_node(RunReport *r, const char *name, guint pods, guint64 entered, guint64 served,
         guint64 crossed)
{
    ReportNode *n = report_add_node(r, name);
    n->addresses = g_strdup("192.0.2.1");
    n->pods = pods;
    n->connections_entered = entered;
    n->connections_served = served;
    n->connections_crossed = crossed;
    return n;
}

static ReportPod *
add_pod(RunReport *r, const char *name, const char *node, guint64 conns, guint64 preserved)
{
    ReportPod *p = report_add_pod(r, name);
    p->namespace_ = g_strdup("default");
    p->node = g_strdup(node);
    p->ip = g_strdup("10.1.0.2");
    p->connections = p->requests = conns;
    p->source_preserved = preserved;
    p->source_snat = conns - preserved;
    p->concurrency = 64;
    return p;
}

/* The seed example under Cluster policy, as numbers. */
static RunReport *
synthetic_cluster_report(const char *n1, const char *n2, const char *n3)
{
    RunReport *r = report_new();
    r->scenario = g_strdup("synthetic");
    r->file = g_strdup("synthetic.yaml");
    r->seed = 1;
    r->duration = r->ended = 60 * SIM_SEC;
    ReportTraffic *t = report_add_traffic(r, "web");
    t->from = g_strdup("laptop");
    t->protocol = g_strdup("TCP");
    t->rate = 50;
    t->sent = t->succeeded = 3000;
    t->p50 = 850000;
    t->p99 = 1200000;
    t->max = 2345678;
    t->mean = 900000;
    WorkloadBucket b = {50, 0};
    for (guint i = 0; i < 60; i++)
        g_array_append_val(t->timeline, b);
    add_target(t, "192.168.1.101:30080", n1, "Cluster", TRUE, 1000, 0);
    add_target(t, "192.168.1.102:30080", n2, "Cluster", TRUE, 1000, 0);
    add_target(t, "192.168.1.103:30080", n3, "Cluster", FALSE, 1000, 0);
    add_node(r, n1, 1, 1000, 1000, 500);
    add_node(r, n2, 1, 1000, 1000, 500);
    add_node(r, n3, 0, 1000, 1000, 1000);
    add_pod(r, "nginx-a", n1, 1510, 0);
    add_pod(r, "nginx-b", n2, 1490, 0);
    ReportService *s = report_add_service(r, "nginx-service-nodeport");
    s->namespace_ = g_strdup("default");
    s->type = g_strdup("NodePort");
    s->cluster_ip = g_strdup("10.107.227.230");
    s->external_policy = g_strdup("Cluster");
    s->endpoints = 2;
    ReportServicePort sp = {80, 30080, 80, NULL, g_strdup("TCP")};
    g_array_append_val(s->ports, sp);
    report_compute_shares(r);
    report_summarize(r);
    return r;
}

/* Is there a sentence equal to want? */
static gboolean
has_sentence(const RunReport *r, const char *want)
{
    for (guint i = 0; i < r->summary->len; i++)
        if (strcmp(r->summary->pdata[i], want) == 0)
            return TRUE;
    return FALSE;
}

/* Every sentence, one per line, for failure messages. (transfer full) */
static char *
all_sentences(const RunReport *r)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < r->summary->len; i++)
        g_string_append_printf(s, "  %s\n", (const char *)r->summary->pdata[i]);
    return g_string_free(s, FALSE);
}

#define ck_assert_sentence(r, want)                                                                \
    do {                                                                                           \
        g_autofree char *all_ = all_sentences(r);                                                  \
        ck_assert_msg(has_sentence(r, want), "missing \"%s\"; the sentences are:\n%s", want,       \
                      all_);                                                                       \
    } while (0)

START_TEST(sentences_for_cluster_policy)
{
    g_autoptr(RunReport) r = synthetic_cluster_report("node1", "node2", "node3");
    ck_assert_sentence(r, "all 3000 connections succeeded; p99 latency 1.2 ms");
    ck_assert_sentence(r, "node3 runs no pod but forwarded 33.3% of connections (1000 of "
                          "3000) to pods on other nodes");
    ck_assert_sentence(r, "66.7% of connections (2000 of 3000) crossed to a pod on another "
                          "node after entering the cluster");
    ck_assert_sentence(r, "pods saw the client's address on 0% of connections: "
                          "externalTrafficPolicy Cluster SNATs at the entry node");
    ck_assert_sentence(r, "connections spread over 2 pods: nginx-a 50.3%, nginx-b 49.7%; "
                          "imbalance 1.01 (the busiest pod's share over the even split 50%)");
    ck_assert_uint_eq(r->summary->len, 5);
}
END_TEST

/* The sentences come from the data: other names and numbers give other sentences. */
START_TEST(sentences_follow_the_data)
{
    g_autoptr(RunReport) r = synthetic_cluster_report("alpha", "beta", "gamma");
    ReportNode *beta = r->nodes->pdata[1];
    beta->pods = 3; /* runs pods, but none that served */
    ReportPod *b = r->pods->pdata[1];
    g_free(b->node);
    b->node = g_strdup("alpha");
    beta->connections_crossed = beta->connections_served;
    report_summarize(r);
    ck_assert_sentence(r, "gamma runs no pod but forwarded 33.3% of connections (1000 of "
                          "3000) to pods on other nodes");
    ck_assert_sentence(r, "beta runs none of the pods that served but forwarded 33.3% of "
                          "connections (1000 of 3000) to pods on other nodes");
    ck_assert(!has_sentence(r, "node3 runs no pod but forwarded 33.3% of connections (1000 of "
                               "3000) to pods on other nodes"));
}
END_TEST

START_TEST(sentences_for_local_policy_and_failures)
{
    RunReport *r = report_new();
    r->scenario = g_strdup("local");
    r->file = g_strdup("local.yaml");
    ReportTraffic *t = report_add_traffic(r, "web");
    t->from = g_strdup("laptop");
    t->protocol = g_strdup("TCP");
    t->sent = 3000;
    t->succeeded = 2000;
    t->failed.timeout = 1000;
    t->p99 = 800000;
    add_target(t, "192.168.1.101:30080", "node1", "Local", TRUE, 1000, 0);
    add_target(t, "192.168.1.102:30080", "node2", "Local", TRUE, 1000, 0);
    add_target(t, "192.168.1.103:30080", "node3", "Local", FALSE, 1000, 1000);
    add_node(r, "node1", 1, 1000, 1000, 0);
    add_node(r, "node2", 1, 1000, 1000, 0);
    ReportNode *n3 = add_node(r, "node3", 0, 1000, 0, 0);
    ReportDrop d = {"netfilter-drop", 4000};
    g_array_append_val(n3->drops, d);
    add_pod(r, "nginx-a", "node1", 1000, 1000);
    ReportPod *p = add_pod(r, "nginx-b", "node2", 1000, 1000);
    p->queue_peak = 7;
    report_compute_shares(r);
    report_summarize(r);
    ck_assert_sentence(r, "2000 of 3000 connections succeeded (66.7%); 1000 failed (1000 "
                          "timeout); p99 latency of the successful ones 0.8 ms");
    ck_assert_sentence(r, "all 1000 connections to 192.168.1.103:30080 (node3) failed: 1000 "
                          "timeout - node3 runs no endpoint of "
                          "default/nginx-service-nodeport, and with externalTrafficPolicy "
                          "Local it drops them (kube-proxy's KUBE-EXTERNAL-SERVICES rule), "
                          "so the client's SYNs time out");
    ck_assert_sentence(r, "every connection was served by a pod on the node it entered");
    ck_assert_sentence(r, "pods saw the client's address on 100% of connections: "
                          "externalTrafficPolicy Local keeps it");
    ck_assert_sentence(r, "pod nginx-b was saturated: up to 7 requests waited for one of its "
                          "64 workers");
    ck_assert_sentence(r, "node3 dropped 4000 packets (netfilter-drop 4000)");
    report_free(r);
}
END_TEST

START_TEST(sentences_for_local_skew_with_uneven_pods)
{
    g_autoptr(RunReport) r = report_new();
    ReportTraffic *t = report_add_traffic(r, "web");
    t->from = g_strdup("laptop");
    t->protocol = g_strdup("TCP");
    t->sent = t->succeeded = 2000;
    add_target(t, "192.168.1.101:30080", "node1", "Local", TRUE, 1000, 0);
    add_target(t, "192.168.1.102:30080", "node2", "Local", TRUE, 1000, 0);
    add_node(r, "node1", 2, 1000, 1000, 0);
    add_node(r, "node2", 1, 1000, 1000, 0);
    add_pod(r, "web-a", "node1", 500, 500);
    add_pod(r, "web-b", "node1", 500, 500);
    add_pod(r, "web-c", "node2", 1000, 1000);
    report_compute_shares(r);
    report_summarize(r);
    ck_assert_sentence(r, "connections spread over 3 pods: web-a 25%, web-b 25%, web-c 50%; "
                          "imbalance 1.50 (the busiest pod's share over the even split 33.3%)");
    ck_assert_sentence(r, "under externalTrafficPolicy Local each node splits the connections "
                          "entering it over its own pods only: node1 2 pods, 50% (25% each); "
                          "node2 1 pod, 50%. The busiest pod gets 50% against an even 33.3%; "
                          "Cluster policy would even it out at the cost of SNAT and hops");
    ck_assert_sentence(r, "pods saw the client's address on 100% of connections: "
                          "externalTrafficPolicy Local keeps it");
    /* Evenly spread pods (or Cluster targets) skew nothing: no such sentence. A pod that saw
     * another pod's address (a proxy's upstream connection) is counted apart. */
    g_autoptr(RunReport) even = report_new();
    ReportTraffic *t2 = report_add_traffic(even, "web");
    t2->sent = t2->succeeded = 2000;
    add_target(t2, "192.168.1.101:30080", "node1", "Local", TRUE, 1000, 0);
    add_node(even, "node1", 1, 1000, 1000, 0);
    add_node(even, "node2", 1, 1000, 1000, 0);
    add_pod(even, "web-a", "node1", 1000, 1000);
    add_pod(even, "web-c", "node2", 1000, 1000);
    ReportPod *backend = add_pod(even, "backend", "node3", 1000, 0);
    backend->source_snat = 0;
    backend->source_other = 1000;
    report_compute_shares(even);
    report_summarize(even);
    ck_assert_sentence(even, "pods saw the client's address on 66.7% of connections; 33.3% came "
                             "from neither the client's nor a node's address (other pods, e.g. a "
                             "proxy's upstream connections)");
    for (guint i = 0; i < even->summary->len; i++)
        ck_assert_ptr_null(strstr(even->summary->pdata[i], "each node splits"));
}
END_TEST

START_TEST(sentences_without_traffic)
{
    g_autoptr(RunReport) r = report_new();
    report_summarize(r);
    ck_assert_uint_eq(r->summary->len, 1);
    ck_assert_str_eq(r->summary->pdata[0], "the scenario sends no traffic");
}
END_TEST

START_TEST(format_helpers)
{
    char b[32];
    ck_assert_str_eq(report_format_ms(1203456, b), "1.203");
    ck_assert_str_eq(report_format_ms(1200000, b), "1.2");
    ck_assert_str_eq(report_format_ms(2000000, b), "2");
    ck_assert_str_eq(report_format_ms(123456789, b), "123.5");
    ck_assert_str_eq(report_format_ms(10 * SIM_SEC + 4 * SIM_MSEC, b), "10004");
    ck_assert_str_eq(report_format_ms(400, b), "0");
    ck_assert_str_eq(report_format_ms(-1, b), "-");
    ck_assert_str_eq(report_format_percent(1.0 / 3, b), "33.3%");
    ck_assert_str_eq(report_format_percent(0.5, b), "50%");
    ck_assert_str_eq(report_format_percent(0, b), "0%");
    ck_assert_str_eq(report_format_percent(1, b), "100%");
    ck_assert_str_eq(report_format_percent(0.0004, b), "<0.1%");
    ck_assert_str_eq(report_format_percent(0.99999, b), "99.9%");
}
END_TEST

/* ------------------------------------------------------------------ writers */

static JsonNode *
parse_json(const GString *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    ck_assert_msg(json_parser_load_from_data(p, text->str, (gssize)text->len, &error), "%s",
                  error ? error->message : "");
    return json_node_copy(json_parser_get_root(p));
}

START_TEST(json_report_has_the_contract_fields)
{
    g_autoptr(RunReport) r = synthetic_cluster_report("node1", "node2", "node3");
    g_autoptr(GString) out = g_string_new(NULL);
    report_json_write(r, out);
    ck_assert(g_str_has_prefix(out->str, "{\n  \"scenario\" : \"synthetic\",\n"));
    ck_assert(strstr(out->str, "\"p99\" : 1.2,") != NULL);
    ck_assert(strstr(out->str, "\"p50\" : 0.85,") != NULL);
    ck_assert(strstr(out->str, "\"wall_seconds\" : 0.0,") != NULL);
    g_autoptr(JsonNode) root = parse_json(out);
    JsonObject *o = json_node_get_object(root);
    const char *top[] = {"scenario",     "seed",     "duration",    "events_processed",
                         "wall_seconds", "traffic",  "pods",        "nodes",
                         "services",     "timeline", "expectations"};
    for (guint i = 0; i < G_N_ELEMENTS(top); i++)
        ck_assert_msg(json_object_has_member(o, top[i]), "missing %s", top[i]);
    JsonObject *t = json_array_get_object_element(json_object_get_array_member(o, "traffic"), 0);
    ck_assert_int_eq(json_object_get_int_member(t, "sent"), 3000);
    ck_assert_int_eq(
        json_object_get_int_member(json_object_get_object_member(t, "failed"), "timeout"), 0);
    JsonObject *lat = json_object_get_object_member(t, "latency_ms");
    ck_assert(json_object_get_double_member(lat, "max") == 2.346);
    JsonObject *pod = json_array_get_object_element(json_object_get_array_member(o, "pods"), 0);
    ck_assert(json_object_get_double_member(pod, "share") == 0.5033);
    ck_assert_int_eq(
        json_object_get_int_member(json_object_get_object_member(pod, "source_ips"), "snat"), 1510);
    JsonObject *node = json_array_get_object_element(json_object_get_array_member(o, "nodes"), 2);
    ck_assert_str_eq(json_object_get_string_member(node, "name"), "node3");
    ck_assert(json_object_has_member(node, "drops"));
    JsonObject *svc = json_array_get_object_element(json_object_get_array_member(o, "services"), 0);
    JsonObject *port = json_array_get_object_element(json_object_get_array_member(svc, "ports"), 0);
    ck_assert_int_eq(json_object_get_int_member(port, "node_port"), 30080);
    JsonArray *tl = json_object_get_array_member(o, "timeline");
    ck_assert_uint_eq(json_array_get_length(tl), 60);
    JsonObject *t0 = json_array_get_object_element(tl, 0);
    JsonObject *web =
        json_object_get_object_member(json_object_get_object_member(t0, "traffic"), "web");
    ck_assert_int_eq(json_object_get_int_member(web, "succeeded"), 50);
}
END_TEST

START_TEST(text_report_is_aligned)
{
    g_autoptr(RunReport) r = synthetic_cluster_report("node1", "node2", "node3");
    g_autoptr(GString) out = g_string_new(NULL);
    report_text_write(r, out);
    ck_assert(strstr(out->str, "  - all 3000 connections succeeded; p99 latency 1.2 ms\n"));
    ck_assert(strstr(out->str, "80:30080/TCP") != NULL);
    ck_assert_msg(strstr(out->str, "\nTIME      web\n0s-5s     250/0\n") != NULL, "%s", out->str);
    /* Pods table: the CONNECTIONS column starts where its header does on every row. */
    const char *hdr = strstr(out->str, "NAME      NODE");
    ck_assert(hdr != NULL);
    const char *row = strstr(out->str, "nginx-a   node1");
    ck_assert(row != NULL);
    ck_assert(strstr(out->str, "Wall time") == NULL);
    r->wall_seconds = 1.5;
    g_string_truncate(out, 0);
    report_text_write(r, out);
    ck_assert(strstr(out->str, "Wall time: 1.50 s") != NULL);
}
END_TEST

/* ------------------------------------------------------------------ overrides */

static Scenario *
load_text(const char *text)
{
    g_autoptr(GError) error = NULL;
    Scenario *sc = loader_load_scenario_text("test.yaml", text, strlen(text), &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    return sc;
}

static const char two_traffic[] =
    "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\n"
    "spec:\n"
    "  duration: 30s\n"
    "  cluster: {nodes: [{name: n1, addresses: [192.168.1.101]}]}\n"
    "  pods: {serviceTime: 5ms, concurrency: 2}\n"
    "  clients: [{name: c, address: 203.0.113.10}]\n"
    "  traffic:\n"
    "    - {name: a, from: c, to: [192.168.1.101:30080], rate: 10/s, synRetries: 2,\n"
    "       connectTimeout: 3s}\n"
    "    - {name: b, from: c, to: [192.168.1.101:30081], connections: 3, stop: 10s,\n"
    "       protocol: UDP, responseTimeout: 500ms}\n";

START_TEST(loader_reads_pods_and_timeouts)
{
    g_autoptr(Scenario) sc = load_text(two_traffic);
    ck_assert_int_eq(sc->pod_service_time, 5 * SIM_MSEC);
    ck_assert_uint_eq(sc->pod_concurrency, 2);
    ScenarioTraffic *a = sc->traffic->pdata[0], *b = sc->traffic->pdata[1];
    ck_assert_uint_eq(a->syn_retries, 2);
    ck_assert_int_eq(a->connect_timeout, 3 * SIM_SEC);
    ck_assert_int_eq(a->response_timeout, SCENARIO_RESPONSE_TIMEOUT);
    ck_assert_int_eq(b->response_timeout, 500 * SIM_MSEC);
    ck_assert_uint_eq(b->syn_retries, SCENARIO_SYN_RETRIES);
    ck_assert_uint_eq(a->failover_after, 0); /* failover is off unless asked for */
    ck_assert_int_eq(a->failover_retry_after, SCENARIO_FAILOVER_RETRY_AFTER);
    g_autoptr(Scenario) dflt = scenario_new("x.yaml");
    ck_assert_int_eq(dflt->pod_service_time, SIM_MSEC);
    ck_assert_uint_eq(dflt->pod_concurrency, 64);
}
END_TEST

START_TEST(loader_rejects_bad_pod_fields)
{
    const char *bad[] = {
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nspec:\n  pods: {concurrency: 0}\n",
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nspec:\n  pods: {servicetime: 1ms}\n",
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nspec:\n  pods: {serviceTime: fast}\n",
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nspec:\n  clients: [{name: c, address: "
        "1.2.3.4}]\n  traffic: [{name: t, "
        "from: c, to: [1.2.3.5:80], rate: 1, synRetries: 300}]\n",
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nspec:\n  clients: [{name: c, address: "
        "1.2.3.4}]\n  traffic: [{name: t, "
        "from: c, to: [1.2.3.5:80], rate: 1, failover: {after: -1}}]\n",
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nspec:\n  clients: [{name: c, address: "
        "1.2.3.4}]\n  traffic: [{name: t, "
        "from: c, to: [1.2.3.5:80], rate: 1, failover: {after: 3, retryAfter: 0s}}]\n",
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nspec:\n  clients: [{name: c, address: "
        "1.2.3.4}]\n  traffic: [{name: t, "
        "from: c, to: [1.2.3.5:80], rate: 1, failover: {afterr: 3}}]\n",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(Scenario) sc =
            loader_load_scenario_text("bad.yaml", bad[i], strlen(bad[i]), &error);
        ck_assert_msg(sc == NULL, "accepted: %s", bad[i]);
        ck_assert(g_str_has_prefix(error->message, "bad.yaml:"));
    }
}
END_TEST

START_TEST(overrides_change_the_scenario)
{
    g_autoptr(Scenario) sc = load_text(two_traffic);
    ScenarioTraffic *a = sc->traffic->pdata[0], *b = sc->traffic->pdata[1];
    g_autoptr(GError) error = NULL;
    ck_assert(run_override(sc, "traffic.*.rate=20000/s", &error));
    ck_assert(a->rate == 20000 && b->rate == 20000 && b->connections == 0);
    ck_assert(run_override(sc, "spec.traffic.b.connections=7", &error));
    ck_assert(b->rate == 0 && b->connections == 7);
    ck_assert(run_override(sc, "duration=50s", &error));
    ck_assert_int_eq(sc->duration, 50 * SIM_SEC);
    ck_assert_int_eq(a->stop, 50 * SIM_SEC); /* it ran until the end */
    ck_assert_int_eq(b->stop, 10 * SIM_SEC); /* its own stop stays */
    ck_assert(run_override(sc, "seed=99", &error) && sc->seed == 99);
    ck_assert(run_override(sc, "pods.serviceTime=2ms", &error));
    ck_assert_int_eq(sc->pod_service_time, 2 * SIM_MSEC);
    ck_assert(run_override(sc, "traffic.a.request.response=5000", &error));
    ck_assert_uint_eq(a->response_bytes, 5000);
    ck_assert(run_override(sc, "traffic.a.failover.after=3", &error));
    ck_assert(run_override(sc, "traffic.a.failover.retryAfter=10s", &error));
    ck_assert_uint_eq(a->failover_after, 3);
    ck_assert_int_eq(a->failover_retry_after, 10 * SIM_SEC);
    /* only the named entry */
    ck_assert_uint_eq(b->failover_after, 0);
    ck_assert(run_override(sc, "traffic.*.failover.after=0", &error)); /* off again */
    ck_assert_uint_eq(a->failover_after, 0);
    const char *bad[] = {"nope=1",
                         "traffic.zzz.rate=1",
                         "traffic.a.rate=fast",
                         "duration",
                         "traffic.a.start=60s",
                         "pods.concurrency=0",
                         "traffic.a.failover.after=-1",
                         "traffic.a.failover.after=1000001",
                         "traffic.a.failover.retryAfter=0s",
                         "traffic.a.failover.retryAfter=soon",
                         "traffic.a.failover=3"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&error);
        ck_assert_msg(!run_override(sc, bad[i], &error), "accepted %s", bad[i]);
        ck_assert(g_error_matches(error, RUN_ERROR, RUN_ERROR_OVERRIDE));
    }
}
END_TEST

/* ------------------------------------------------------------------ timeline (--at) */

/* scenarios/node-failure.yaml loaded and built, with an optional --set. */
static void
load_node_failure(const char *override, Scenario **sc, Cluster **c)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", "node-failure.yaml", NULL);
    g_autoptr(GError) error = NULL;
    *sc = loader_load_scenario(path, &error);
    ck_assert_msg(*sc != NULL, "%s", error ? error->message : "");
    if (override != NULL)
        ck_assert(run_override(*sc, override, NULL));
    *c = cluster_build(*sc, &error);
    ck_assert_msg(*c != NULL, "%s", error ? error->message : "");
}

/* The pod of c on node, or NULL. */
static const K8sPod *
pod_on(const Cluster *c, const char *node)
{
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = c->pods->pdata[i];
        if (g_strcmp0(p->node_name, node) == 0)
            return p;
    }
    return NULL;
}

/* Does rs DNAT anything to the address ip? */
static gboolean
rules_reach(const NfRuleset *rs, const char *ip)
{
    g_autoptr(GString) text = g_string_new(NULL);
    nf_ruleset_save(rs, NF_TABLE_NAT, text);
    g_autofree char *needle = g_strdup_printf("--to-destination %s:", ip);
    return strstr(text->str, needle) != NULL;
}

/* A timeline of c at at, every node's rules kept. */
static Timeline *
timeline_at_time(Cluster *c, SimTime at)
{
    TimelineOptions opt = {.at = at};
    g_autoptr(GError) error = NULL;
    Timeline *tl = timeline_new(c, &opt, &error);
    ck_assert_msg(tl != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq(timeline_at(tl), at);
    ck_assert_int_eq(c->now, at);
    return tl;
}

START_TEST(timeline_before_the_fault_is_the_start)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = NULL;
    load_node_failure(NULL, &sc, &c);
    g_autoptr(Timeline) tl = timeline_at_time(c, 10 * SIM_SEC);
    for (guint i = 0; i < c->nodes->len; i++) {
        const K8sNode *n = c->nodes->pdata[i];
        ck_assert(n->ready);
        ck_assert(!timeline_node_down(tl, n, NULL));
        ck_assert_int_eq(timeline_synced_at(tl, n), 0);
        ck_assert(!timeline_rules_stale(tl, n));
        ck_assert(rules_reach(timeline_rules(tl, n), "10.1.1.2"));
    }
    ck_assert_uint_eq(timeline_log(tl)->len, 0);
}
END_TEST

/* From 20 s to 70 s the API server knows nothing: every node still sends to node2's pod. */
START_TEST(timeline_during_the_grace_period_nothing_has_noticed)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = NULL;
    load_node_failure(NULL, &sc, &c);
    g_autoptr(Timeline) tl = timeline_at_time(c, 69 * SIM_SEC);
    const K8sNode *node1 = cluster_find_node(c, "node1"), *node2 = cluster_find_node(c, "node2");
    SimTime since = -1;
    ck_assert(timeline_node_down(tl, node2, &since));
    ck_assert_int_eq(since, 20 * SIM_SEC);
    ck_assert(node2->ready);
    ck_assert(pod_on(c, "node2")->ready);
    ck_assert(rules_reach(timeline_rules(tl, node1), "10.1.1.2"));
    ck_assert(!timeline_rules_stale(tl, node1));
    const GPtrArray *log = timeline_log(tl);
    ck_assert_uint_eq(log->len, 1);
    ck_assert_int_eq(((ControllersRecord *)log->pdata[0])->kind, CONTROLLERS_NODE_DOWN);
}
END_TEST

/* At 70 s (a check exactly then: included) node2 is NotReady and its pod not ready, but the
 * EndpointSlice changes at 71 s: the rules are still the old ones, and not stale yet. */
START_TEST(timeline_not_ready_then_resync_one_second_later)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = NULL;
    load_node_failure(NULL, &sc, &c);
    const K8sNode *node1 = cluster_find_node(c, "node1"), *node2 = cluster_find_node(c, "node2");
    {
        g_autoptr(Timeline) tl = timeline_at_time(c, 70 * SIM_SEC);
        ck_assert(!node2->ready);
        ck_assert(!pod_on(c, "node2")->ready);
        ck_assert(rules_reach(timeline_rules(tl, node1), "10.1.1.2"));
        ck_assert_int_eq(timeline_synced_at(tl, node1), 0);
    }
    g_autoptr(Scenario) sc2 = NULL;
    g_autoptr(Cluster) c2 = NULL;
    load_node_failure(NULL, &sc2, &c2);
    node1 = cluster_find_node(c2, "node1");
    node2 = cluster_find_node(c2, "node2");
    g_autoptr(Timeline) tl = timeline_at_time(c2, 71 * SIM_SEC);
    ck_assert_int_eq(timeline_synced_at(tl, node1), 71 * SIM_SEC);
    ck_assert(!rules_reach(timeline_rules(tl, node1), "10.1.1.2"));
    ck_assert(rules_reach(timeline_rules(tl, node1), "10.1.0.2"));
    ck_assert(!timeline_rules_stale(tl, node1));
    /* node2 is down: it keeps the rules of 0 s, which the API server has moved past. */
    ck_assert_int_eq(timeline_synced_at(tl, node2), 0);
    ck_assert(rules_reach(timeline_rules(tl, node2), "10.1.1.2"));
    ck_assert(timeline_rules_stale(tl, node2));
}
END_TEST

/* The grace period is a scenario field: 20 s moves NotReady from 70 s to 40 s. */
START_TEST(timeline_follows_the_grace_period)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = NULL;
    load_node_failure("controllers.nodeMonitorGracePeriod=20s", &sc, &c);
    const K8sNode *node1 = cluster_find_node(c, "node1");
    g_autoptr(Timeline) tl = timeline_at_time(c, 41 * SIM_SEC);
    ck_assert(!cluster_find_node(c, "node2")->ready);
    ck_assert_int_eq(timeline_synced_at(tl, node1), 41 * SIM_SEC);
    ck_assert(!rules_reach(timeline_rules(tl, node1), "10.1.1.2"));
}
END_TEST

/* 300 s after NotReady the pod is evicted (Terminating) and replaced on a Ready node; the
 * replacement is as old as its creation, and only the node asked for keeps rules. */
START_TEST(timeline_after_eviction_has_the_replacement)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = NULL;
    load_node_failure(NULL, &sc, &c);
    TimelineOptions opt = {.at = 400 * SIM_SEC, .node = "node3"};
    g_autoptr(Timeline) tl = timeline_new(c, &opt, NULL);
    ck_assert(tl != NULL);
    ck_assert_uint_eq(c->pods->len, 3);
    const K8sPod *old = pod_on(c, "node2"), *fresh = NULL;
    ck_assert(old->terminating && !old->ready);
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = c->pods->pdata[i];
        if (timeline_created_at(tl, p) > 0)
            fresh = p;
    }
    ck_assert(fresh != NULL && fresh->ready && !fresh->terminating);
    ck_assert_int_eq(timeline_created_at(tl, fresh), 370 * SIM_SEC);
    ck_assert_int_eq(timeline_created_at(tl, old), 0);
    char ip[SIM_ADDR_STRLEN];
    const K8sNode *node3 = cluster_find_node(c, "node3");
    ck_assert(rules_reach(timeline_rules(tl, node3), sim_addr_to_string(&fresh->ip, ip)));
    ck_assert(timeline_rules(tl, cluster_find_node(c, "node1")) == NULL);
    ck_assert(!timeline_rules_stale(tl, cluster_find_node(c, "node1")));
    const GPtrArray *log = timeline_log(tl);
    for (guint i = 0; i < log->len; i++)
        ck_assert_int_le(((ControllersRecord *)log->pdata[i])->at, 400 * SIM_SEC);
}
END_TEST

/* A crashed container is down until kubelet restarts it after the back-off (10 s), then
 * Ready again podStartupTime later; the timeline knows when it restarted. */
START_TEST(timeline_tracks_crashed_containers)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", "node-failure.yaml", NULL);
    g_autofree char *text = NULL;
    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    g_autoptr(GString) crash = g_string_new(text);
    ck_assert(g_string_replace(crash, "{at: 20s, nodeDown: node2}",
                               "{at: 20s, podCrash: nginx-deployment-lw5gknqv2p-npzb7}", 1) == 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text(path, crash->str, crash->len, &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    const K8sPod *pod = pod_on(c, "node2");
    SimTime restarted = 0;
    {
        g_autoptr(Timeline) tl = timeline_at_time(c, 25 * SIM_SEC);
        ck_assert(!timeline_container_running(tl, pod, &restarted));
        ck_assert_int_eq(restarted, -1);
        ck_assert(!pod->ready);
    }
    g_autoptr(Scenario) sc2 = loader_load_scenario_text(path, crash->str, crash->len, NULL);
    g_autoptr(Cluster) c2 = cluster_build(sc2, NULL);
    pod = pod_on(c2, "node2");
    g_autoptr(Timeline) tl = timeline_at_time(c2, 40 * SIM_SEC);
    ck_assert(timeline_container_running(tl, pod, &restarted));
    ck_assert_int_eq(restarted, 30 * SIM_SEC);
    ck_assert_uint_eq(pod->restart_count, 1);
    ck_assert(pod->ready);
}
END_TEST

/* ------------------------------------------------------------------ whole runs */

typedef struct {
    Scenario *sc;
    Cluster *cluster;
    RunReport *report;
} RunResult;

static void
run_result_clear(RunResult *r)
{
    report_free(r->report);
    cluster_free(r->cluster);
    scenario_free(r->sc);
}

/* Builds and runs sc (taken), filling res. */
static void
run_scenario(Scenario *sc, RunResult *res)
{
    g_autoptr(GError) error = NULL;
    res->sc = sc;
    res->cluster = cluster_build(sc, &error);
    ck_assert_msg(res->cluster != NULL, "%s", error ? error->message : "");
    run_add_default_traffic(sc, res->cluster);
    g_autoptr(Run) run = run_new(res->cluster, &error);
    ck_assert_msg(run != NULL, "%s", error ? error->message : "");
    run_execute(run, NULL, NULL);
    res->report = run_report(run);
}

static void
run_file(const char *name, RunResult *res)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", name, NULL);
    g_autoptr(GError) error = NULL;
    Scenario *sc = loader_load_scenario(path, &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    run_scenario(sc, res);
}

static ReportTraffic *
traffic_at(const RunResult *res, guint i)
{
    return res->report->traffic->pdata[i];
}

START_TEST(seed_every_connection_succeeds_and_pods_see_nodes)
{
    RunResult res = {0};
    run_file("seed-nginx-nodeport.yaml", &res);
    ReportTraffic *t = traffic_at(&res, 0);
    ck_assert_uint_gt(t->sent, 2800);
    ck_assert_uint_lt(t->sent, 3200);
    ck_assert_uint_eq(t->succeeded, t->sent);
    ck_assert(t->p99 > 0 && t->p99 < 10 * SIM_MSEC);
    ck_assert_uint_eq(res.report->pods->len, 2);
    guint64 served = 0;
    for (guint i = 0; i < 2; i++) {
        ReportPod *p = res.report->pods->pdata[i];
        ck_assert_msg(p->share >= 0.4 && p->share <= 0.6, "%s share %f", p->name, p->share);
        ck_assert_uint_eq(p->source_preserved, 0);
        ck_assert_uint_eq(p->source_snat, p->connections);
        ck_assert_uint_eq(p->requests, p->connections);
        served += p->connections;
    }
    ck_assert_uint_eq(served, t->sent);
    for (guint i = 0; i < res.report->nodes->len; i++) {
        ReportNode *n = res.report->nodes->pdata[i];
        ck_assert_uint_gt(n->connections_entered, 0);
        ck_assert_uint_eq(n->drops->len, 0);
        ck_assert_uint_gt(n->conntrack_peak, 0);
        ck_assert_uint_gt(n->rules, 0);
    }
    ReportNode *node3 = res.report->nodes->pdata[2];
    ck_assert_uint_eq(node3->connections_crossed, node3->connections_entered);
    ck_assert_sentence(res.report, "pods saw the client's address on 0% of connections: "
                                   "externalTrafficPolicy Cluster SNATs at the entry node");
    run_result_clear(&res);
}
END_TEST

START_TEST(seed_local_drops_at_the_node_without_a_pod)
{
    RunResult res = {0};
    run_file("seed-nginx-nodeport-local.yaml", &res);
    ReportTraffic *t = traffic_at(&res, 0);
    for (guint i = 0; i < t->targets->len; i++) {
        ReportTarget *x = t->targets->pdata[i];
        if (x->node_has_endpoint) {
            ck_assert_uint_eq(x->succeeded, x->sent);
        } else {
            ck_assert_uint_gt(x->sent, 0);
            ck_assert_uint_eq(x->failed.timeout, x->sent);
            ck_assert_uint_eq(x->succeeded, 0);
        }
    }
    ck_assert_uint_eq(t->failed.timeout + t->succeeded, t->sent);
    for (guint i = 0; i < res.report->pods->len; i++) {
        ReportPod *p = res.report->pods->pdata[i];
        ck_assert_uint_gt(p->connections, 0);
        ck_assert_uint_eq(p->source_preserved, p->connections);
    }
    ck_assert_sentence(res.report, "pods saw the client's address on 100% of connections: "
                                   "externalTrafficPolicy Local keeps it");
    run_result_clear(&res);
}
END_TEST

static char *
report_json(const RunReport *r)
{
    GString *s = g_string_new(NULL);
    report_json_write(r, s);
    return g_string_free(s, FALSE);
}

START_TEST(same_seed_same_json)
{
    RunResult a = {0}, b = {0}, c = {0};
    run_file("seed-nginx-nodeport.yaml", &a);
    run_file("seed-nginx-nodeport.yaml", &b);
    g_autofree char *path =
        g_build_filename(KPSIM_SRCDIR, "scenarios", "seed-nginx-nodeport.yaml", NULL);
    Scenario *sc = loader_load_scenario(path, NULL);
    ck_assert(run_override(sc, "seed=2", NULL));
    run_scenario(sc, &c);
    g_autofree char *ja = report_json(a.report), *jb = report_json(b.report);
    g_autofree char *jc = report_json(c.report);
    ck_assert_str_eq(ja, jb);
    ck_assert_str_ne(ja, jc);
    run_result_clear(&a);
    run_result_clear(&b);
    run_result_clear(&c);
}
END_TEST

static const char udp_and_closed_loop[] =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: dns}\n"
    "spec:\n"
    "  replicas: 2\n"
    "  selector: {matchLabels: {app: dns}}\n"
    "  template:\n"
    "    metadata: {labels: {app: dns}}\n"
    "    spec:\n"
    "      containers:\n"
    "        - name: dns\n"
    "          image: coredns\n"
    "          ports: [{containerPort: 53, protocol: UDP}, {containerPort: 8080}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: dns}\n"
    "spec:\n"
    "  type: NodePort\n"
    "  selector: {app: dns}\n"
    "  ports:\n"
    "    - {name: dns, port: 53, protocol: UDP, nodePort: 30053}\n"
    "    - {name: web, port: 80, targetPort: 8080, nodePort: 30080}\n"
    "---\n"
    "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\n"
    "metadata: {name: udp-and-closed-loop}\n"
    "spec:\n"
    "  duration: 5s\n"
    "  pods: {serviceTime: 20ms, concurrency: 1}\n"
    "  cluster:\n"
    "    nodes:\n"
    "      - {name: n1, addresses: [192.168.1.101]}\n"
    "      - {name: n2, addresses: [192.168.1.102]}\n"
    "  clients: [{name: c, address: 203.0.113.10}]\n"
    "  traffic:\n"
    "    - {name: dns, from: c, to: [192.168.1.101:30053, 192.168.1.102:30053], protocol: UDP,\n"
    "       rate: 20/s, request: {bytes: 40, response: 120}}\n"
    "    - {name: busy, from: c, to: [192.168.1.101:30080], connections: 8}\n"
    "    - {name: closed, from: c, to: [192.168.1.102:31999], rate: 5/s}\n";

START_TEST(udp_closed_loop_saturation_and_refusals)
{
    RunResult res = {0};
    run_scenario(load_text(udp_and_closed_loop), &res);
    ReportTraffic *dns = traffic_at(&res, 0), *busy = traffic_at(&res, 1);
    ReportTraffic *closed = traffic_at(&res, 2);
    ck_assert_uint_gt(dns->sent, 60);
    ck_assert_uint_eq(dns->succeeded, dns->sent);
    ck_assert_str_eq(dns->protocol, "UDP");
    /* 8 connections over 2 pods that each serve one request per 20 ms: about 100/s. */
    ck_assert_uint_gt(busy->sent, 300);
    ck_assert_uint_lt(busy->sent, 600);
    ck_assert_uint_eq(busy->failed.timeout + busy->failed.refused + busy->failed.reset, 0);
    ck_assert(busy->p50 > 40 * SIM_MSEC); /* queued behind the others */
    /* Nothing listens on 31999: the node answers the SYN with a RST. */
    ck_assert_uint_gt(closed->sent, 5);
    ck_assert_uint_eq(closed->failed.refused, closed->sent);
    guint64 queued = 0;
    for (guint i = 0; i < res.report->pods->len; i++)
        queued += ((ReportPod *)res.report->pods->pdata[i])->queue_peak;
    ck_assert_uint_gt(queued, 0);
    run_result_clear(&res);
}
END_TEST

/* A closed loop whose connections fail the instant they start (no route: an IPv6 target for
 * an IPv4-only client) waits a moment between them instead of spinning at one instant. */
START_TEST(closed_loop_of_immediate_failures_moves_on)
{
    static const char text[] =
        "apiVersion: kpsim.io/v1alpha1\n"
        "kind: Scenario\n"
        "spec:\n"
        "  duration: 2s\n"
        "  cluster: {nodes: [{name: n1, addresses: [192.168.1.101]}]}\n"
        "  clients: [{name: c, address: 203.0.113.10}]\n"
        "  traffic: [{name: t, from: c, to: [\"[2001:db8::99]:80\"], connections: 2}]\n";
    RunResult res = {0};
    run_scenario(load_text(text), &res);
    ReportTraffic *t = traffic_at(&res, 0);
    ck_assert_uint_eq(t->sent, 4000); /* 2 at a time, one every millisecond, for 2 s */
    ck_assert_uint_eq(t->failed.refused, t->sent);
    ck_assert_sentence(res.report, "all 4000 connections to [2001:db8::99]:80 failed: 4000 "
                                   "refused - [2001:db8::99]:80 is neither a node's address nor a "
                                   "Service's");
    run_result_clear(&res);
}
END_TEST

START_TEST(default_traffic_for_manifests)
{
    g_autoptr(Scenario) sc = scenario_new_default();
    g_autofree char *d = g_build_filename(KPSIM_SRCDIR, "scenarios", "nginx-deployment.yaml", NULL);
    g_autofree char *s =
        g_build_filename(KPSIM_SRCDIR, "scenarios", "nginx-service-nodeport.yaml", NULL);
    ck_assert(loader_add_manifest(sc, d, NULL) && loader_add_manifest(sc, s, NULL));
    g_autoptr(Cluster) c = cluster_build(sc, NULL);
    ck_assert(c != NULL);
    ck_assert_uint_eq(run_add_default_traffic(sc, c), 1);
    ScenarioTraffic *t = sc->traffic->pdata[0];
    ck_assert_str_eq(t->name, "nodeports");
    ck_assert_str_eq(t->from, "client");
    ck_assert(t->rate == 50);
    ck_assert_uint_eq(t->to->len, 3);
    K8sService *svc = c->services->pdata[0];
    guint16 np = ((K8sServicePort *)svc->ports->pdata[0])->node_port;
    ck_assert_uint_eq(g_array_index(t->to, SimSockAddr, 2).port, np);
    ck_assert_uint_eq(run_add_default_traffic(sc, c), 0); /* only when there is none */
}
END_TEST

static Suite *
run_suite(void)
{
    Suite *s = suite_create("run");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, hist_percentiles_within_one_percent);
    tcase_add_test(unit, hist_small_values_are_exact);
    tcase_add_test(unit, hist_empty_and_extreme_values);
    tcase_add_test(unit, hist_single_value_is_exact);
    tcase_add_test(unit, arrivals_same_stream_same_gaps);
    tcase_add_test(unit, arrivals_are_exponential_at_the_rate);
    tcase_add_test(unit, arrivals_known_values);
    tcase_add_test(unit, sentences_for_cluster_policy);
    tcase_add_test(unit, sentences_follow_the_data);
    tcase_add_test(unit, sentences_for_local_policy_and_failures);
    tcase_add_test(unit, sentences_for_local_skew_with_uneven_pods);
    tcase_add_test(unit, sentences_without_traffic);
    tcase_add_test(unit, format_helpers);
    tcase_add_test(unit, json_report_has_the_contract_fields);
    tcase_add_test(unit, text_report_is_aligned);
    tcase_add_test(unit, loader_reads_pods_and_timeouts);
    tcase_add_test(unit, loader_rejects_bad_pod_fields);
    tcase_add_test(unit, overrides_change_the_scenario);
    suite_add_tcase(s, unit);
    TCase *timeline = tcase_create("timeline");
    tcase_add_test(timeline, timeline_before_the_fault_is_the_start);
    tcase_add_test(timeline, timeline_during_the_grace_period_nothing_has_noticed);
    tcase_add_test(timeline, timeline_not_ready_then_resync_one_second_later);
    tcase_add_test(timeline, timeline_follows_the_grace_period);
    tcase_add_test(timeline, timeline_after_eviction_has_the_replacement);
    tcase_add_test(timeline, timeline_tracks_crashed_containers);
    suite_add_tcase(s, timeline);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 120);
    tcase_add_test(runs, seed_every_connection_succeeds_and_pods_see_nodes);
    tcase_add_test(runs, seed_local_drops_at_the_node_without_a_pod);
    tcase_add_test(runs, same_seed_same_json);
    tcase_add_test(runs, udp_closed_loop_saturation_and_refusals);
    tcase_add_test(runs, closed_loop_of_immediate_failures_moves_on);
    tcase_add_test(runs, default_traffic_for_manifests);
    suite_add_tcase(s, runs);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(run_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
