/* SPDX-License-Identifier: Apache-2.0 */
/* Expectations (model/expect.h) and the exposure report (model/expose.h): thresholds, typing
 * each kind of spec.expect entry with its sentence, input errors with their positions,
 * judgement against hand-built run reports, probe expectations and exposure on real scenarios,
 * and the JUnit and JSON writers. Also kube-proxy's health servers (model/healthcheck.h) over
 * endpoint changes and the proxy pod application (model/pod_apps.h), which the expectations of
 * the load-balancer and Ingress scenarios rest on.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "model/expect.h"
#include "model/expose.h"
#include "model/healthcheck.h"
#include "model/loader.h"
#include "model/pod_apps.h"
#include "model/run.h"
#include "sim/net.h"
#include "tools/report.h"

#include "test_util.h"

#ifndef KPSIM_SRCDIR
#define KPSIM_SRCDIR "."
#endif

/* A three-node cluster with two nginx pods behind NodePort 30080 and a traffic "web"; the
 * expectations follow "  expect:\n" and must be indented by four spaces. */
static const char base_yaml[] =
    "apiVersion: kpsim.io/v1alpha1\n"
    "kind: Scenario\n"
    "metadata: {name: t}\n"
    "spec:\n"
    "  cluster:\n"
    TEST_THREE_NODES_AND_LAPTOP_YAML
    "  traffic:\n"
    "    - {name: web, from: laptop, to: [192.168.1.101:30080], rate: 10/s}\n"
    "  expect:\n"
    "%s"
    "---\n"
    TEST_NGINX_DEPLOYMENT_YAML
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: web}\n"
    "spec:\n"
    "  type: NodePort\n"
    "  selector: {app: nginx}\n"
    "  ports: [{port: 80, nodePort: 30080}]\n";

/* The line of base_yaml's first expectation (1-based). */
#define FIRST_EXPECT_LINE 15

typedef struct {
    Scenario *sc;
    Cluster *c;
} Fixture;

/* Loads base_yaml with expect_lines and builds the cluster. */
static void
fixture_load(Fixture *f, const char *expect_lines)
{
    g_autofree char *yaml = g_strdup_printf(base_yaml, expect_lines);
    GError *error = NULL;
    f->sc = loader_load_scenario_text("t.yaml", yaml, strlen(yaml), &error);
    ck_assert_msg(f->sc != NULL, "%s", error ? error->message : "");
    f->c = cluster_build(f->sc, &error);
    ck_assert_msg(f->c != NULL, "%s", error ? error->message : "");
}

/* Frees the cluster, then the scenario. */
static void
fixture_clear(Fixture *f)
{
    cluster_free(f->c);
    scenario_free(f->sc);
}

/* Parses expect_lines and returns the error message (or NULL when they parse). */
static char *
parse_error(const char *expect_lines)
{
    Fixture f;
    fixture_load(&f, expect_lines);
    GError *error = NULL;
    GPtrArray *list = expect_parse_all(f.c, &error);
    char *msg = NULL;
    if (list == NULL) {
        ck_assert(g_error_matches(error, EXPECT_ERROR, EXPECT_ERROR_INVALID));
        msg = g_strdup(error->message);
        g_error_free(error);
    } else {
        g_ptr_array_unref(list);
    }
    fixture_clear(&f);
    return msg;
}

/* ------------------------------------------------------------------ thresholds */

START_TEST(thresholds_accept_percent_fraction_and_operators)
{
    ExpectThreshold t = {0};
    ck_assert(expect_threshold_parse("95%", EXPECT_OP_GE, &t));
    ck_assert_int_eq(t.op, EXPECT_OP_GE);
    ck_assert_double_eq_tol(t.value, 0.95, 1e-12);
    ck_assert_str_eq(t.text, "95%");
    ck_assert(expect_threshold_parse(">= 95%", EXPECT_OP_LE, &t));
    ck_assert_int_eq(t.op, EXPECT_OP_GE);
    ck_assert(expect_threshold_parse("<= 60%", EXPECT_OP_GE, &t));
    ck_assert_int_eq(t.op, EXPECT_OP_LE);
    ck_assert_double_eq_tol(t.value, 0.6, 1e-12);
    ck_assert(expect_threshold_parse("0.95", EXPECT_OP_GE, &t));
    ck_assert_double_eq_tol(t.value, 0.95, 1e-12);
    ck_assert_str_eq(t.text, "0.95");
    ck_assert(expect_threshold_parse(" < 1.2 ", EXPECT_OP_GE, &t));
    ck_assert_int_eq(t.op, EXPECT_OP_LT);
    ck_assert(expect_threshold_parse("==0", EXPECT_OP_GE, &t));
    ck_assert_int_eq(t.op, EXPECT_OP_EQ);
    ck_assert_double_eq(t.value, 0);
    g_free(t.text);
}
END_TEST

START_TEST(thresholds_reject_malformed_text)
{
    const char *bad[] = {"", "abc", ">=", "-1", "95%%", "95 %x", "=> 5", "5 apples", "1e999"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        ExpectThreshold t = {0};
        ck_assert_msg(!expect_threshold_parse(bad[i], EXPECT_OP_GE, &t), "accepted '%s'", bad[i]);
        g_free(t.text);
    }
}
END_TEST

/* ------------------------------------------------------------------ parsing kinds */

START_TEST(every_kind_gets_a_type_and_a_sentence)
{
    Fixture f;
    fixture_load(&f, "    - {traffic: web, succeeded: \">= 95%\"}\n"
                     "    - {pods: app=nginx, maxShare: \"60%\"}\n"
                     "    - {pods: \"app=nginx\", minShare: \"0.4\"}\n"
                     "    - {pods: app=nginx, imbalance: \"<= 1.2\"}\n"
                     "    - {traffic: web, sourceIPSeenByPods: snat}\n"
                     "    - {probe: {node: node3, from: 203.0.113.10, to: 192.168.1.103:30080},"
                     " verdict: accept, endpoints: [10.1.1.2:80, 10.1.0.2:80], masquerade: true}\n"
                     "    - {node: node2, drops: {netfilter-drop: \"<= 0\"}}\n");
    GError *error = NULL;
    g_autoptr(GPtrArray) list = expect_parse_all(f.c, &error);
    ck_assert_msg(list != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(list->len, 7);
    const char *texts[] = {
        "traffic web succeeded >= 95%",
        "pods app=nginx: largest share <= 60%",
        "pods app=nginx: smallest share >= 0.4",
        "pods app=nginx: imbalance <= 1.2",
        "traffic web: pods see a node's address (snat)",
        ("probe on node3 from 203.0.113.10 to 192.168.1.103:30080/TCP: verdict accept, endpoints "
         "[10.1.0.2:80, 10.1.1.2:80], masquerade true"),
        "node node2 drops netfilter-drop <= 0",
    };
    const ExpectKind kinds[] = {EXPECT_SUCCEEDED, EXPECT_MAX_SHARE, EXPECT_MIN_SHARE,
                                EXPECT_IMBALANCE, EXPECT_SOURCE_IP, EXPECT_PROBE,
                                EXPECT_DROPS};
    for (guint i = 0; i < list->len; i++) {
        const Expectation *e = list->pdata[i];
        ck_assert_str_eq(e->text, texts[i]);
        ck_assert_int_eq(e->kind, kinds[i]);
        ck_assert_uint_eq(e->pos.line, FIRST_EXPECT_LINE + i);
    }
    const Expectation *probe = list->pdata[5];
    ck_assert_int_eq(probe->verdict, NF_VERDICT_ACCEPT);
    ck_assert_int_eq(probe->masquerade, 1);
    ck_assert_int_eq(probe->protocol, SIM_PROTO_TCP);
    const Expectation *drops = list->pdata[6];
    ck_assert_int_eq(drops->reason, SIM_DROP_NETFILTER);
    ck_assert(expect_needs_run(list));
    g_ptr_array_remove_range(list, 0, 5);
    g_ptr_array_remove_index(list, 1);
    ck_assert(!expect_needs_run(list));
    g_clear_pointer(&list, g_ptr_array_unref);
    fixture_clear(&f);
}
END_TEST

/* Asserts that expect_lines fail with a message holding every fragment. */
static void
assert_error(const char *expect_lines, const char *const *fragments)
{
    g_autofree char *msg = parse_error(expect_lines);
    ck_assert_msg(msg != NULL, "no error for %s", expect_lines);
    for (guint i = 0; fragments[i] != NULL; i++)
        ck_assert_msg(strstr(msg, fragments[i]) != NULL, "'%s' not in '%s'", fragments[i], msg);
}

START_TEST(errors_name_the_file_position_and_field)
{
    const char *unknown_traffic[] = {
        "t.yaml:16:7: error: spec.expect[1].traffic:", "unknown traffic 'nope'", "web", NULL};
    assert_error("    - {traffic: web, succeeded: \"95%\"}\n"
                 "    - {traffic: nope, succeeded: \"95%\"}\n",
                 unknown_traffic);
    const char *unknown_node[] = {"t.yaml:15:7:", "spec.expect[0].probe.node",
                                  "unknown node 'node9'", "node1, node2, node3", NULL};
    assert_error("    - {probe: {node: node9, from: 1.2.3.4, to: 192.168.1.101:30080}, "
                 "verdict: drop}\n",
                 unknown_node);
    const char *no_pods[] = {"spec.expect[0].pods", "no pod or Deployment template", NULL};
    assert_error("    - {pods: app=redis, maxShare: \"60%\"}\n", no_pods);
    const char *bad_selector[] = {"invalid label selector", NULL};
    assert_error("    - {pods: nginx, maxShare: \"60%\"}\n", bad_selector);
    const char *bad_threshold[] = {"spec.expect[0].succeeded", "invalid threshold \"lots\"", NULL};
    assert_error("    - {traffic: web, succeeded: lots}\n", bad_threshold);
    const char *ambiguous[] = {"at most 100%", "write 95% or 0.95", NULL};
    assert_error("    - {traffic: web, succeeded: \"95\"}\n", ambiguous);
    const char *reason[] = {"spec.expect[0].drops.dropped", "unknown drop reason 'dropped'",
                            "netfilter-drop", NULL};
    assert_error("    - {node: node1, drops: {dropped: \"<= 0\"}}\n", reason);
    const char *verdict[] = {"spec.expect[0].verdict", "accept, drop, reject or none", NULL};
    assert_error("    - {probe: {node: node1, from: 1.2.3.4, to: 192.168.1.101:30080}, "
                 "verdict: maybe}\n",
                 verdict);
    const char *mixed[] = {"spec.expect[0].maxShare", "does not belong", NULL};
    assert_error("    - {traffic: web, succeeded: \"95%\", maxShare: \"60%\"}\n", mixed);
    const char *at[] = {"spec.expect[0].at", "not supported", NULL};
    assert_error("    - {at: 5s, traffic: web, succeeded: \"95%\"}\n", at);
    const char *imbalance_percent[] = {"spec.expect[0].imbalance", "not a percentage here", NULL};
    assert_error("    - {pods: app=nginx, imbalance: \"120%\"}\n", imbalance_percent);
}
END_TEST

/* ------------------------------------------------------------------ evaluation */

/* A report for f: traffic web with sent/succeeded, the two pods with the given connections and
 * sources, and node3 with drops. */
static RunReport *
synthetic_report(const Fixture *f, guint64 sent, guint64 ok, guint64 a, guint64 b, gboolean snat)
{
    RunReport *r = report_new();
    r->scenario = g_strdup("t");
    r->file = g_strdup("t.yaml");
    ReportTraffic *t = report_add_traffic(r, "web");
    t->from = g_strdup("laptop");
    t->client_address = g_strdup("203.0.113.10");
    t->protocol = g_strdup("TCP");
    t->sent = sent;
    t->succeeded = ok;
    ReportTarget *tg = report_traffic_add_target(t, "192.168.1.101:30080");
    tg->service = g_strdup("default/web");
    const guint64 conns[] = {a, b};
    for (guint i = 0; i < 2; i++) {
        const K8sPod *p = f->c->pods->pdata[i];
        char ip[SIM_ADDR_STRLEN];
        ReportPod *rp = report_add_pod(r, p->meta.name);
        rp->namespace_ = g_strdup(p->meta.namespace_);
        rp->node = g_strdup(p->node_name);
        rp->ip = g_strdup(sim_addr_to_string(&p->ip, ip));
        rp->connections = conns[i];
        if (snat)
            rp->source_snat = conns[i];
        else
            rp->source_preserved = conns[i];
    }
    ReportNode *n = report_add_node(r, "node3");
    ReportDrop d = {.reason = sim_drop_reason_name(SIM_DROP_NETFILTER), .count = 7};
    g_array_append_val(n->drops, d);
    report_add_node(r, "node1");
    return r;
}

/* Parses f's expectations and judges them against rep. (transfer full) */
static GPtrArray *
judge(const Fixture *f, const RunReport *rep)
{
    GError *error = NULL;
    g_autoptr(GPtrArray) list = expect_parse_all(f->c, &error);
    ck_assert_msg(list != NULL, "%s", error ? error->message : "");
    return expect_evaluate_all(list, f->c, rep);
}

START_TEST(traffic_and_pod_expectations_judge_a_report)
{
    Fixture f;
    fixture_load(&f, "    - {traffic: web, succeeded: \">= 95%\"}\n"
                     "    - {traffic: web, succeeded: \">= 99%\"}\n"
                     "    - {pods: app=nginx, maxShare: \"60%\"}\n"
                     "    - {pods: app=nginx, minShare: \"45%\"}\n"
                     "    - {pods: app=nginx, imbalance: \"<= 1.2\"}\n"
                     "    - {traffic: web, sourceIPSeenByPods: snat}\n"
                     "    - {traffic: web, sourceIPSeenByPods: preserved}\n"
                     "    - {node: node3, drops: {netfilter-drop: \"<= 0\"}}\n"
                     "    - {node: node1, drops: {netfilter-drop: \"<= 0\"}}\n"
                     "    - {drops: {netfilter-drop: \"== 7\"}}\n");
    g_autoptr(RunReport) rep = synthetic_report(&f, 1000, 972, 580, 392, TRUE);
    g_autoptr(GPtrArray) res = judge(&f, rep);
    const gboolean ok[] = {TRUE, FALSE, TRUE, FALSE, TRUE, TRUE, FALSE, FALSE, TRUE, TRUE};
    for (guint i = 0; i < res->len; i++) {
        const ExpectResult *r = res->pdata[i];
        ck_assert_msg(r->ok == ok[i], "%s: %s", r->text, r->observed);
    }
    ck_assert_uint_eq(expect_count_failed(res), 4);
    ck_assert_str_eq(((ExpectResult *)res->pdata[0])->observed, "97.2% (972 of 1000)");
    ck_assert_ptr_nonnull(strstr(((ExpectResult *)res->pdata[3])->observed, "40.3%"));
    ck_assert_ptr_nonnull(strstr(((ExpectResult *)res->pdata[4])->observed, "1.193"));
    ck_assert_ptr_nonnull(strstr(((ExpectResult *)res->pdata[6])->observed, "0 kept"));
    ck_assert_str_eq(((ExpectResult *)res->pdata[7])->observed,
                     "7 packets dropped (netfilter-drop)");
    fixture_clear(&f);
}
END_TEST

START_TEST(nothing_observed_fails_with_a_reason)
{
    Fixture f;
    fixture_load(&f, "    - {traffic: web, succeeded: \">= 0%\"}\n"
                     "    - {pods: app=nginx, minShare: \"0%\"}\n"
                     "    - {traffic: web, sourceIPSeenByPods: preserved}\n");
    g_autoptr(RunReport) rep = synthetic_report(&f, 0, 0, 0, 0, FALSE);
    g_autoptr(GPtrArray) res = judge(&f, rep);
    ck_assert_uint_eq(expect_count_failed(res), 3);
    ck_assert_str_eq(((ExpectResult *)res->pdata[0])->observed, "no connection was sent");
    ck_assert_str_eq(((ExpectResult *)res->pdata[1])->observed, "no connection reached the 2 pods");
    ck_assert_str_eq(((ExpectResult *)res->pdata[2])->observed,
                     "no connection of traffic web reached a pod");
    fixture_clear(&f);
}
END_TEST

START_TEST(probe_expectations_need_no_run)
{
    Fixture f;
    GError *error = NULL;
    f.sc = loader_load_scenario(KPSIM_SRCDIR "/scenarios/expect-seed.yaml", &error);
    ck_assert_msg(f.sc != NULL, "%s", error ? error->message : "");
    f.c = cluster_build(f.sc, &error);
    ck_assert_msg(f.c != NULL, "%s", error ? error->message : "");
    g_autoptr(GPtrArray) list = expect_parse_all(f.c, &error);
    ck_assert(list != NULL);
    const Expectation *probe = list->pdata[list->len - 1];
    ck_assert_int_eq(probe->kind, EXPECT_PROBE);
    g_autoptr(ExpectResult) r = expect_evaluate(probe, f.c, NULL);
    ck_assert_msg(r->ok, "%s", r->observed);
    ck_assert_str_eq(r->observed,
                     "verdict accept, endpoints [10.1.0.2:80, 10.1.1.2:80], masquerade true");
    /* The same probe expecting a drop fails and says what the rules did. */
    Expectation *e = (Expectation *)probe;
    e->verdict = NF_VERDICT_DROP;
    g_autoptr(ExpectResult) r2 = expect_evaluate(e, f.c, NULL);
    ck_assert(!r2->ok);
    ck_assert_str_eq(r2->observed, r->observed);
    e->verdict = NF_VERDICT_ACCEPT;
    g_ptr_array_remove_index(e->endpoints, 0);
    g_autoptr(ExpectResult) r3 = expect_evaluate(e, f.c, NULL);
    ck_assert(!r3->ok);
    g_clear_pointer(&list, g_ptr_array_unref);
    fixture_clear(&f);
}
END_TEST

/* ExpectReplayFunc building a fresh scenario and cluster from the text data. */
static gboolean
replay_text(gpointer data, Scenario **sc, Cluster **c, GError **error)
{
    const char *yaml = data;
    *sc = loader_load_scenario_text("t.yaml", yaml, strlen(yaml), error);
    if (*sc == NULL)
        return FALSE;
    *c = cluster_build(*sc, error);
    return *c != NULL;
}

START_TEST(probes_at_a_time_see_the_rules_of_then)
{
    /* node2 (pod 10.1.1.2) loses power at 10 s: NotReady at 60 s, node1 resyncs at 61 s. */
    g_autofree char *yaml = g_strdup_printf(
        base_yaml,
        "    - {probe: {node: node1, from: 203.0.113.10, to: 192.168.1.101:30080}, at: 30s,"
        " verdict: accept, endpoints: [10.1.0.2:80, 10.1.1.2:80]}\n"
        "    - {probe: {node: node1, from: 203.0.113.10, to: 192.168.1.101:30080}, at: 70s,"
        " verdict: accept, endpoints: [10.1.0.2:80]}\n"
        "    - {probe: {node: node1, from: 203.0.113.10, to: 192.168.1.101:30080}, at: 70s,"
        " verdict: accept, endpoints: [10.1.0.2:80, 10.1.1.2:80]}\n"
        "    - {probe: {node: node1, from: 203.0.113.10, to: 192.168.1.101:30080},"
        " verdict: accept, endpoints: [10.1.0.2:80, 10.1.1.2:80]}\n"
        "  events: [{at: 10s, nodeDown: node2}]\n");
    Fixture f;
    GError *error = NULL;
    f.sc = loader_load_scenario_text("t.yaml", yaml, strlen(yaml), &error);
    ck_assert_msg(f.sc != NULL, "%s", error ? error->message : "");
    f.c = cluster_build(f.sc, &error);
    ck_assert_msg(f.c != NULL, "%s", error ? error->message : "");
    g_autoptr(GPtrArray) list = expect_parse_all(f.c, &error);
    ck_assert_msg(list != NULL, "%s", error ? error->message : "");
    const Expectation *e0 = list->pdata[0];
    ck_assert_int_eq(e0->at, 30 * SIM_SEC);
    ck_assert(g_str_has_prefix(e0->text, "probe on node1 at 30s from 203.0.113.10 to "));
    ck_assert(!expect_needs_run(list));
    g_autoptr(GPtrArray) res = expect_evaluate_probes(list, f.c);
    ck_assert_ptr_null(res->pdata[0]); /* timed probes wait for a replay */
    ck_assert_ptr_nonnull(res->pdata[3]);
    expect_evaluate_probes_at(res, list, replay_text, yaml);
    const gboolean ok[] = {TRUE, TRUE, FALSE, TRUE};
    for (guint i = 0; i < res->len; i++) {
        const ExpectResult *r = res->pdata[i];
        ck_assert_msg(r->ok == ok[i], "%s: %s", r->text, r->observed);
    }
    ck_assert_str_eq(((ExpectResult *)res->pdata[2])->observed,
                     "verdict accept, endpoints [10.1.0.2:80], masquerade true");
    g_clear_pointer(&list, g_ptr_array_unref);
    fixture_clear(&f);
}
END_TEST

/* ------------------------------------------------------------------ writers */

START_TEST(report_carries_evaluated_expectations)
{
    Fixture f;
    fixture_load(&f, "    - {traffic: web, succeeded: \">= 95%\"}\n");
    g_autoptr(RunReport) rep = synthetic_report(&f, 10, 10, 5, 5, TRUE);
    g_ptr_array_add(rep->expectations, g_strdup("succeeded: >= 95%, traffic: web"));
    g_ptr_array_add(rep->notes, g_strdup("the scenario's expectations (spec.expect) are listed "
                                         "but not evaluated by kpsim run"));
    g_autoptr(GPtrArray) res = judge(&f, rep);
    expect_fill_report(rep, res);
    ck_assert_uint_eq(rep->expectations->len, 1);
    ck_assert_str_eq(rep->expectations->pdata[0], "traffic web succeeded >= 95%");
    ck_assert_uint_eq(rep->notes->len, 0);
    g_autoptr(GString) json = g_string_new(NULL);
    report_json_write(rep, json);
    g_autoptr(JsonParser) parser = json_parser_new();
    ck_assert(json_parser_load_from_data(parser, json->str, -1, NULL));
    JsonArray *list = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(parser)), "expectations");
    JsonObject *x = json_array_get_object_element(list, 0);
    ck_assert(json_object_get_boolean_member(x, "ok"));
    ck_assert_str_eq(json_object_get_string_member(x, "observed"), "100% (10 of 10)");
    g_autoptr(GString) text = g_string_new(NULL);
    report_text_write(rep, text);
    ck_assert_ptr_nonnull(strstr(text->str, "PASS  traffic web succeeded >= 95%"));
    fixture_clear(&f);
}
END_TEST

START_TEST(junit_escapes_and_reports_failures)
{
    g_autoptr(GPtrArray) res = g_ptr_array_new_with_free_func((GDestroyNotify)expect_result_free);
    ExpectResult *a = g_new0(ExpectResult, 1);
    a->text = g_strdup("pods a=<b> & \"c\"");
    a->ok = FALSE;
    a->observed = g_strdup("x < y\001");
    a->pos = (K8sPos){.file = "s&t.yaml", .line = 3, .column = 5};
    g_ptr_array_add(res, a);
    ExpectResult *b = g_new0(ExpectResult, 1);
    b->text = g_strdup("ok one");
    b->ok = TRUE;
    b->observed = g_strdup("fine");
    g_ptr_array_add(res, b);
    g_autoptr(GString) xml = g_string_new(NULL);
    report_junit_write(res, "scen<1>", xml);
    ck_assert_ptr_nonnull(strstr(xml->str, "<testsuite name=\"kpsim\" tests=\"2\" failures=\"1\""));
    ck_assert_ptr_nonnull(strstr(xml->str, "name=\"pods a=&lt;b&gt; &amp; &quot;c&quot;\""));
    ck_assert_ptr_nonnull(strstr(xml->str, "classname=\"scen&lt;1&gt;\""));
    ck_assert_ptr_nonnull(strstr(xml->str, "observed: x &lt; y?"));
    ck_assert_ptr_nonnull(strstr(xml->str, "file=\"s&amp;t.yaml\" line=\"3\""));
    ck_assert_ptr_nonnull(
        strstr(xml->str, "<testcase classname=\"scen&lt;1&gt;\" name=\"ok one\"/>"));
    ck_assert_ptr_null(strchr(xml->str, '\001'));
    /* Written through a temporary file: the result is complete and nothing else is left. */
    g_autofree char *dir = g_dir_make_tmp("kpsim-junit-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "junit.xml", NULL);
    ck_assert(report_junit_write_file(path, res, "scen<1>", NULL));
    g_autofree char *back = NULL;
    ck_assert(g_file_get_contents(path, &back, NULL, NULL));
    ck_assert_str_eq(back, xml->str);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    ck_assert_str_eq(g_dir_read_name(d), "junit.xml");
    ck_assert_ptr_null(g_dir_read_name(d));
    g_remove(path);
    g_rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ exposure */

START_TEST(expose_lists_every_node_port_on_every_node)
{
    Fixture f;
    fixture_load(&f, "");
    GError *error = NULL;
    g_autoptr(ExposeReport) r = expose_build(f.c, &error);
    ck_assert_msg(r != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(r->nodes->len, 3);
    for (guint i = 0; i < 3; i++) {
        const ExposeNode *n = r->nodes->pdata[i];
        ck_assert_uint_eq(n->outside_pairs, 1);
        ck_assert_uint_eq(n->entries->len, 2); /* 127.0.0.1 (localhost only) and the node IP */
        const ExposeEntry *lo = n->entries->pdata[0], *ext = n->entries->pdata[1];
        ck_assert(lo->localhost_only);
        ck_assert(!ext->localhost_only);
        ck_assert_int_eq(ext->kind, EXPOSE_NODE_PORT);
        ck_assert_uint_eq(ext->address.port, 30080);
        ck_assert_int_eq(ext->verdict, NF_VERDICT_ACCEPT);
        ck_assert_uint_eq(ext->endpoints, 2);
        ck_assert_str_eq(ext->service, "default/web");
        ck_assert_str_eq(ext->policy, "Cluster");
        ck_assert_uint_eq(ext->restrictions->len, 0);
    }
    ck_assert_ptr_nonnull(strstr(r->summary, "3 (address, port) pairs answer from outside"));
    fixture_clear(&f);
}
END_TEST

START_TEST(expose_source_ranges_restrict_only_the_lb_ip)
{
    Fixture f;
    GError *error = NULL;
    f.sc = loader_load_scenario(KPSIM_SRCDIR "/scenarios/lb-source-ranges-nodeport.yaml", &error);
    ck_assert_msg(f.sc != NULL, "%s", error ? error->message : "");
    f.c = cluster_build(f.sc, &error);
    ck_assert_msg(f.c != NULL, "%s", error ? error->message : "");
    g_autoptr(ExposeReport) r = expose_build(f.c, &error);
    ck_assert(r != NULL);
    const ExposeNode *n = r->nodes->pdata[0];
    gboolean saw_np = FALSE, saw_lb = FALSE;
    for (guint i = 0; i < n->entries->len; i++) {
        const ExposeEntry *e = n->entries->pdata[i];
        if (e->kind == EXPOSE_NODE_PORT && !e->localhost_only) {
            saw_np = TRUE;
            ck_assert_int_eq(e->verdict, NF_VERDICT_ACCEPT);
            ck_assert_ptr_nonnull(strstr(e->restrictions->pdata[0], "never the NodePort"));
        }
        if (e->kind == EXPOSE_LOAD_BALANCER) {
            saw_lb = TRUE;
            ck_assert_ptr_nonnull(strstr(e->outcome, "others (203.0.113.1): dropped"));
            ck_assert_ptr_nonnull(strstr(e->restrictions->pdata[0], "198.51.100.0/24"));
        }
    }
    ck_assert(saw_np && saw_lb);
    fixture_clear(&f);
}
END_TEST

/* ------------------------------------------------------------------ black holes */

START_TEST(black_hole_expectations_parse_with_their_sentence)
{
    Fixture f;
    fixture_load(&f, "    - {traffic: web, blackHole: \"<= 80s\"}\n"
                     "    - {traffic: web, target: 192.168.1.101:30080, blackHole: \">= 1m\"}\n"
                     "    - {traffic: web, blackHole: 500ms}\n");
    GError *error = NULL;
    g_autoptr(GPtrArray) list = expect_parse_all(f.c, &error);
    ck_assert_msg(list != NULL, "%s", error ? error->message : "");
    const Expectation *a = list->pdata[0], *b = list->pdata[1], *c = list->pdata[2];
    ck_assert_int_eq(a->kind, EXPECT_BLACK_HOLE);
    ck_assert_str_eq(a->text, "traffic web: black hole <= 80s");
    ck_assert(a->threshold.value == 80.0);
    ck_assert_ptr_null(a->target);
    ck_assert_str_eq(b->text, "traffic web to 192.168.1.101:30080: black hole >= 1m");
    ck_assert_int_eq(b->threshold.op, EXPECT_OP_GE);
    ck_assert(b->threshold.value == 60.0);
    ck_assert_str_eq(c->text, "traffic web: black hole <= 500ms");
    ck_assert(c->threshold.value == 0.5);
    ck_assert(expect_needs_run(list));
    g_clear_pointer(&list, g_ptr_array_unref);
    fixture_clear(&f);
    const char *bad_duration[] = {"spec.expect[0].blackHole", "invalid duration bound \"80%\"",
                                  "<= 80s", NULL};
    assert_error("    - {traffic: web, blackHole: \"80%\"}\n", bad_duration);
    const char *unknown_target[] = {"spec.expect[0].target", "does not send to 10.0.0.1:80",
                                    "192.168.1.101:30080", NULL};
    assert_error("    - {traffic: web, target: 10.0.0.1:80, blackHole: 80s}\n", unknown_target);
    const char *no_traffic[] = {"spec.expect[0].traffic", "expected the name", NULL};
    assert_error("    - {blackHole: 80s}\n", no_traffic);
    const char *stray[] = {"spec.expect[0].pods", "does not belong in a blackHole", NULL};
    assert_error("    - {traffic: web, pods: app=nginx, blackHole: 80s}\n", stray);
}
END_TEST

/* f's report with a fault at 20 s: the traffic failed until the end of second last_failed
 * (-1: never), recovering afterwards unless open. */
static RunReport *
fault_report(const Fixture *f, gint64 last_failed, gboolean open)
{
    RunReport *r = synthetic_report(f, 1000, 900, 450, 450, TRUE);
    ReportTraffic *t = r->traffic->pdata[0];
    ReportTarget *tg = t->targets->pdata[0];
    r->first_fault = 20 * SIM_SEC;
    t->blackhole_start = r->first_fault;
    t->blackhole_end = last_failed >= 0 ? (last_failed + 1) * SIM_SEC : -1;
    t->recovered = open ? -1 : last_failed >= 0 ? t->blackhole_end : r->first_fault;
    t->lost = last_failed >= 0 ? 100 : 0;
    tg->fault_fail_first = last_failed >= 0 ? 20 : -1;
    tg->fault_fail_last = last_failed;
    tg->fault_failed = t->lost;
    return r;
}

START_TEST(black_hole_expectations_judge_the_fault_window)
{
    Fixture f;
    fixture_load(&f, "    - {traffic: web, blackHole: \"<= 80s\"}\n"
                     "    - {traffic: web, blackHole: \"<= 30s\"}\n"
                     "    - {traffic: web, target: 192.168.1.101:30080, blackHole: \"> 50s\"}\n");
    g_autoptr(RunReport) closed = fault_report(&f, 71, FALSE);
    g_autoptr(GPtrArray) res = judge(&f, closed);
    const ExpectResult *r0 = res->pdata[0], *r1 = res->pdata[1], *r2 = res->pdata[2];
    ck_assert_msg(r0->ok, "%s", r0->observed);
    ck_assert(!r1->ok);
    ck_assert_str_eq(r1->observed, "52s from the first fault at 20s (100 connections failed in it)");
    ck_assert_msg(r2->ok, "%s", r2->observed);
    /* Still failing when the traffic stopped: no upper bound holds, lower bounds may. */
    g_autoptr(RunReport) open = fault_report(&f, 59, TRUE);
    g_autoptr(GPtrArray) res2 = judge(&f, open);
    const ExpectResult *o0 = res2->pdata[0];
    ck_assert(!o0->ok);
    ck_assert_str_eq(o0->observed,
                     "at least 40s from the first fault at 20s (still failing when the traffic "
                     "stopped)");
    ck_assert(!((ExpectResult *)res2->pdata[2])->ok); /* 40s is not > 50s */
    /* Nothing failed after the fault, and a run without a fault: no black hole at all. */
    g_autoptr(RunReport) none = fault_report(&f, -1, FALSE);
    g_autoptr(GPtrArray) res3 = judge(&f, none);
    ck_assert(((ExpectResult *)res3->pdata[0])->ok);
    ck_assert_str_eq(((ExpectResult *)res3->pdata[0])->observed,
                     "0s from the first fault at 20s (no connection failed since)");
    g_autoptr(RunReport) calm = synthetic_report(&f, 10, 10, 5, 5, TRUE);
    g_autoptr(GPtrArray) res4 = judge(&f, calm);
    ck_assert(((ExpectResult *)res4->pdata[1])->ok);
    ck_assert(!((ExpectResult *)res4->pdata[2])->ok);
    ck_assert_str_eq(((ExpectResult *)res4->pdata[2])->observed, "0s (the run had no fault event)");
    fixture_clear(&f);
}
END_TEST

/* ------------------------------------------------------------------ health check servers */

/* Three nodes; a LoadBalancer Service with externalTrafficPolicy Local and healthCheckNodePort
 * 32000 over pods on node1 and node2 given as Pods with explicit EndpointSlice conditions. */
static const char hc_yaml[] =
    "apiVersion: kpsim.io/v1alpha1\n"
    "kind: Scenario\n"
    "metadata: {name: hc}\n"
    "spec:\n"
    "  cluster:\n"
    "    nodes:\n"
    "      - {name: node1, addresses: [192.168.1.101]}\n"
    "      - {name: node2, addresses: [192.168.1.102]}\n"
    "      - {name: node3, addresses: [192.168.1.103]}\n"
    "    clusterCIDR: 10.1.0.0/16\n"
    "---\n"
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: web}\n"
    "spec:\n"
    "  replicas: 2\n"
    "  selector: {matchLabels: {app: web}}\n"
    "  template:\n"
    "    metadata: {labels: {app: web}}\n"
    "    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80},"
    " {containerPort: 443}]}]}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: web, namespace: default}\n"
    "spec:\n"
    "  type: LoadBalancer\n"
    "  externalTrafficPolicy: Local\n"
    "  healthCheckNodePort: 32000\n"
    "  selector: {app: web}\n"
    "  ports: [{name: http, port: 80, nodePort: 30080}, {name: https, port: 443,"
    " targetPort: 443, nodePort: 30443}]\n";

/* The EndpointSlice endpoint of the pod running on node. */
static K8sEndpoint *
hc_endpoint_on(const Cluster *c, const char *node)
{
    for (guint i = 0; i < c->slices->len; i++) {
        const K8sEndpointSlice *s = c->slices->pdata[i];
        for (guint j = 0; j < s->endpoints->len; j++) {
            K8sEndpoint *e = s->endpoints->pdata[j];
            if (g_strcmp0(e->node_name, node) == 0)
                return e;
        }
    }
    return NULL;
}

START_TEST(health_check_port_answers_from_the_last_sync)
{
    GError *error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("hc.yaml", hc_yaml, strlen(hc_yaml), &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(SimLoop) loop = sim_loop_new();
    g_autoptr(HealthCheck) hc = healthcheck_new(loop, c->proxy);
    for (guint i = 0; i < c->nodes->len; i++)
        ck_assert(healthcheck_add_node(hc, c, c->nodes->pdata[i], NULL, NULL));
    const K8sEndpoint *e1 = hc_endpoint_on(c, "node1");
    ck_assert_ptr_nonnull(e1);
    const char *n1 = e1->node_name;
    g_autofree char *body = NULL;
    /* Two ports, one pod: one endpoint IP. */
    ck_assert_uint_eq(healthcheck_status(hc, n1, 32000, "/healthz", &body), 200);
    ck_assert_str_eq(body, "{\"service\": {\"namespace\": \"default\", \"name\": \"web\"}, "
                           "\"localEndpoints\": 1, \"serviceProxyHealthy\": true}");
    g_autofree char *resp = healthcheck_response(hc, n1, 32000, "/anything");
    ck_assert(g_str_has_prefix(resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(resp, "\r\nX-Load-Balancing-Endpoint-Weight: 1\r\n"));
    ck_assert_ptr_nonnull(strstr(resp, "\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
    ck_assert(g_str_has_suffix(resp, body));
    g_clear_pointer(&body, g_free);
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 32000, "/healthz", &body), 503);
    ck_assert_ptr_nonnull(strstr(body, "\"localEndpoints\": 0, \"serviceProxyHealthy\": true"));
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 32001, "/healthz", NULL), 0);
    ck_assert_uint_eq(healthcheck_status(hc, "node9", 32000, "/healthz", NULL), 0);
    /* The pod on node1 terminates: kube-proxy's view changes only at its next sync, and a
     * serving terminating endpoint is not counted. */
    K8sEndpoint *ep = (K8sEndpoint *)e1;
    ep->ready = K8S_FALSE;
    ep->serving = K8S_TRUE;
    ep->terminating = K8S_TRUE;
    ck_assert_uint_eq(healthcheck_status(hc, n1, 32000, "/", NULL), 200);
    healthcheck_sync(hc, c, cluster_find_node(c, n1));
    ck_assert_uint_eq(healthcheck_status(hc, n1, 32000, "/", NULL), 503);
    /* A node that is down answers nothing. */
    healthcheck_set_node_up(hc, "node2", FALSE);
    ck_assert_uint_eq(healthcheck_status(hc, "node2", 32000, "/", NULL), 0);
    ck_assert_uint_eq(healthcheck_status(hc, "node2", HEALTHCHECK_PROXY_PORT, "/healthz", NULL), 0);
    healthcheck_set_node_up(hc, "node2", TRUE);
    ck_assert_uint_eq(healthcheck_status(hc, "node2", 32000, "/", NULL), 200);
}
END_TEST

START_TEST(proxy_healthz_turns_503_when_an_update_waits_too_long)
{
    GError *error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("hc.yaml", hc_yaml, strlen(hc_yaml), &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(SimLoop) loop = sim_loop_new();
    g_autoptr(HealthCheck) hc = healthcheck_new(loop, c->proxy);
    const K8sNode *node = cluster_find_node(c, "node3");
    ck_assert(healthcheck_add_node(hc, c, node, NULL, NULL));
    sim_loop_run_until(loop, 5 * SIM_SEC);
    g_autofree char *body = NULL;
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 10256, "/healthz", &body), 200);
    ck_assert_str_eq(body, "{\"lastUpdated\": \"1970-01-01 00:00:00 +0000 UTC\",\"currentTime\": "
                           "\"1970-01-01 00:00:05 +0000 UTC\", \"nodeEligible\": true}");
    healthcheck_queued(hc, "node3");
    sim_loop_run_until(loop, 65 * SIM_SEC); /* 60 s waited: the timeout, not past it */
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 10256, "/healthz", NULL), 200);
    sim_loop_run_until(loop, 65 * SIM_SEC + 250 * SIM_MSEC);
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 10256, "/healthz", NULL), 503);
    g_clear_pointer(&body, g_free);
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 10256, "/livez", &body), 503);
    ck_assert_str_eq(body, "{\"lastUpdated\": \"1970-01-01 00:00:00 +0000 UTC\",\"currentTime\": "
                           "\"1970-01-01 00:01:05.25 +0000 UTC\"}");
    g_clear_pointer(&body, g_free);
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 32000, "/healthz", &body), 503);
    ck_assert_ptr_nonnull(strstr(body, "\"serviceProxyHealthy\": false"));
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 10256, "/metrics", NULL), 404);
    healthcheck_sync(hc, c, node);
    ck_assert_uint_eq(healthcheck_status(hc, "node3", 10256, "/healthz", NULL), 200);
}
END_TEST

/* A scenario with a client sending traffic to every node's health check port, run. */
START_TEST(health_check_servers_listen_on_the_node_hosts)
{
    g_autofree char *yaml = g_strdup_printf(
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: hc2}\n"
        "spec:\n  duration: 3s\n  cluster:\n    nodes:\n"
        "      - {name: node1, addresses: [192.168.1.101]}\n"
        "      - {name: node2, addresses: [192.168.1.102]}\n"
        "    clusterCIDR: 10.1.0.0/16\n"
        "  clients: [{name: lb, address: 203.0.113.10}]\n"
        "  traffic:\n"
        "    - {name: probes, from: lb, to: [192.168.1.101:32000, 192.168.1.102:10256], rate: 10/s,"
        " request: {bytes: 80, response: 150}}\n"
        "    - {name: closed, from: lb, to: [192.168.1.101:32001], rate: 5/s,"
        " request: {bytes: 80, response: 150}}\n"
        "---\n%s",
        strstr(hc_yaml, "---\n") + 4); /* hc_yaml's objects */
    GError *error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("hc2.yaml", yaml, strlen(yaml), &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(Run) r = run_new(c, &error);
    ck_assert_msg(r != NULL, "%s", error ? error->message : "");
    run_execute(r, NULL, NULL);
    g_autoptr(RunReport) rep = run_report(r);
    const ReportTraffic *t = rep->traffic->pdata[0], *closed = rep->traffic->pdata[1];
    ck_assert_uint_gt(t->sent, 10);
    ck_assert_uint_eq(t->succeeded, t->sent); /* 200 or 503, both answer with a JSON body */
    ck_assert_uint_gt(closed->sent, 5);
    ck_assert_uint_eq(closed->failed.refused, closed->sent); /* no listener: RST */
}
END_TEST

/* ------------------------------------------------------------------ pod applications */

START_TEST(proxy_annotation_errors_name_the_object)
{
    const char *cases[][2] = {
        {"backend", "expected \"[NAMESPACE/]SERVICE:PORT\""},
        {"nope:80", "no Service default/nope"},
        {"web:81", "Service default/web has no TCP port 81"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *yaml = g_strdup_printf(base_yaml, "    - {traffic: web, succeeded: 1%}\n");
        g_autofree char *annotated = g_strdup_printf(
            "%s---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: edge\n  annotations:\n"
            "    kpsim.io/proxy-to: \"%s\"\nspec:\n  nodeName: node1\n"
            "  containers: [{name: c, image: x}]\n",
            yaml, cases[i][0]);
        GError *error = NULL;
        g_autoptr(Scenario) sc =
            loader_load_scenario_text("t.yaml", annotated, strlen(annotated), &error);
        ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
        g_autoptr(Cluster) c = cluster_build(sc, &error);
        ck_assert_msg(c != NULL, "%s", error ? error->message : "");
        g_autoptr(PodApps) a = pod_apps_new(c, &error);
        ck_assert_ptr_null(a);
        ck_assert(g_error_matches(error, POD_APPS_ERROR, POD_APPS_ERROR_INVALID));
        ck_assert_msg(strstr(error->message, "t.yaml:") != NULL &&
                          strstr(error->message, "Pod default/edge: metadata.annotations"
                                                 "[kpsim.io/proxy-to]") != NULL &&
                          strstr(error->message, cases[i][1]) != NULL,
                      "%s", error->message);
        g_error_free(error);
    }
}
END_TEST

START_TEST(ingress_proxy_opens_new_connections_to_the_backend)
{
    GError *error = NULL;
    g_autoptr(Scenario) sc =
        loader_load_scenario(KPSIM_SRCDIR "/scenarios/ingress-controller-nodeport.yaml", &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    ck_assert(run_override(sc, "duration=4s", NULL));
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(PodApps) a = pod_apps_new(c, &error);
    ck_assert_msg(a != NULL, "%s", error ? error->message : "");
    guint proxies = 0;
    for (guint i = 0; i < c->pods->len; i++)
        proxies += pod_apps_is_proxy(a, c->pods->pdata[i]);
    ck_assert_uint_eq(proxies, 2);
    g_autoptr(Run) r = run_new(c, &error);
    ck_assert_msg(r != NULL, "%s", error ? error->message : "");
    run_execute(r, NULL, NULL);
    g_autoptr(RunReport) rep = run_report(r);
    const ReportTraffic *t = rep->traffic->pdata[0];
    ck_assert_uint_gt(t->sent, 100);
    ck_assert_uint_eq(t->succeeded, t->sent);
    guint64 front = 0, back = 0;
    for (guint i = 0; i < rep->pods->len; i++) {
        const ReportPod *p = rep->pods->pdata[i];
        if (g_str_has_prefix(p->name, "ingress-nginx")) {
            front += p->connections;
            ck_assert_uint_eq(p->source_snat, p->connections); /* Cluster policy */
        } else {
            back += p->connections;
            ck_assert_uint_gt(p->connections, 0);
            ck_assert_uint_eq(p->source_other, p->connections); /* a controller pod's IP */
            ck_assert_uint_eq(p->requests, p->connections);
        }
    }
    ck_assert_uint_eq(front, t->sent);
    ck_assert_uint_eq(back, t->sent); /* one new upstream connection per request */
}
END_TEST

static Suite *
expect_suite(void)
{
    Suite *s = suite_create("expect");
    TCase *parse = tcase_create("parse");
    tcase_add_test(parse, thresholds_accept_percent_fraction_and_operators);
    tcase_add_test(parse, thresholds_reject_malformed_text);
    tcase_add_test(parse, every_kind_gets_a_type_and_a_sentence);
    tcase_add_test(parse, errors_name_the_file_position_and_field);
    suite_add_tcase(s, parse);
    TCase *eval = tcase_create("evaluate");
    tcase_add_test(eval, traffic_and_pod_expectations_judge_a_report);
    tcase_add_test(eval, nothing_observed_fails_with_a_reason);
    tcase_add_test(eval, probe_expectations_need_no_run);
    tcase_add_test(eval, probes_at_a_time_see_the_rules_of_then);
    tcase_add_test(eval, report_carries_evaluated_expectations);
    tcase_add_test(eval, junit_escapes_and_reports_failures);
    tcase_add_test(eval, black_hole_expectations_parse_with_their_sentence);
    tcase_add_test(eval, black_hole_expectations_judge_the_fault_window);
    suite_add_tcase(s, eval);
    TCase *hc = tcase_create("healthcheck");
    tcase_add_test(hc, health_check_port_answers_from_the_last_sync);
    tcase_add_test(hc, proxy_healthz_turns_503_when_an_update_waits_too_long);
    tcase_add_test(hc, health_check_servers_listen_on_the_node_hosts);
    tcase_set_timeout(hc, 60);
    suite_add_tcase(s, hc);
    TCase *apps = tcase_create("pod_apps");
    tcase_add_test(apps, proxy_annotation_errors_name_the_object);
    tcase_add_test(apps, ingress_proxy_opens_new_connections_to_the_backend);
    tcase_set_timeout(apps, 60);
    suite_add_tcase(s, apps);
    TCase *expose = tcase_create("expose");
    tcase_add_test(expose, expose_lists_every_node_port_on_every_node);
    tcase_add_test(expose, expose_source_ranges_restrict_only_the_lb_ip);
    suite_add_tcase(s, expose);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(expect_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
