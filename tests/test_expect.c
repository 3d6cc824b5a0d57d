/* SPDX-License-Identifier: Apache-2.0 */
/* Expectations (model/expect.h) and the exposure report (model/expose.h): thresholds, typing
 * each kind of spec.expect entry with its sentence, input errors with their positions,
 * judgement against hand-built run reports, probe expectations and exposure on real scenarios,
 * and the JUnit and JSON writers.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "model/expect.h"
#include "model/expose.h"
#include "model/loader.h"
#include "sim/net.h"
#include "tools/report.h"

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
    "    nodes:\n"
    "      - {name: node1, addresses: [192.168.1.101]}\n"
    "      - {name: node2, addresses: [192.168.1.102]}\n"
    "      - {name: node3, addresses: [192.168.1.103]}\n"
    "    clusterCIDR: 10.1.0.0/16\n"
    "  clients: [{name: laptop, address: 203.0.113.10}]\n"
    "  traffic:\n"
    "    - {name: web, from: laptop, to: [192.168.1.101:30080], rate: 10/s}\n"
    "  expect:\n"
    "%s"
    "---\n"
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: nginx}\n"
    "spec:\n"
    "  replicas: 2\n"
    "  selector: {matchLabels: {app: nginx}}\n"
    "  template:\n"
    "    metadata: {labels: {app: nginx}}\n"
    "    spec: {containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]}\n"
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
        "probe on node3 from 203.0.113.10 to 192.168.1.103:30080/TCP: verdict accept, endpoints "
        "[10.1.0.2:80, 10.1.1.2:80], masquerade true",
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
    tcase_add_test(eval, report_carries_evaluated_expectations);
    tcase_add_test(eval, junit_escapes_and_reports_failures);
    suite_add_tcase(s, eval);
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
