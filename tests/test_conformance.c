/* SPDX-License-Identifier: Apache-2.0 */
/* kube-proxy's own packet-flow cases (tests/conformance/kube-proxy/flows.json) replayed
 * in-process through the loader, the cluster builder and model/probe.c - the same path
 * `kpsim trace` takes. tests/conformance.sh replays them through the kpsim binary as well.
 */
#include <check.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "model/loader.h"
#include "model/probe.h"

#define CASES KPSIM_SRCDIR "/tests/conformance"

static const char *const case_dirs[] = {"kube-proxy", "kube-proxy-extra"};
static JsonArray *flows;  /* every probe, each with its "dir" added */
static JsonParser *parsers[G_N_ELEMENTS(case_dirs)];

static void
load_flows(void)
{
    flows = json_array_new();
    for (guint d = 0; d < G_N_ELEMENTS(case_dirs); d++) {
        g_autofree char *path = g_build_filename(CASES, case_dirs[d], "flows.json", NULL);
        g_autoptr(GError) error = NULL;
        parsers[d] = json_parser_new();
        if (!json_parser_load_from_file(parsers[d], path, &error))
            g_error("%s: %s", path, error->message);
        JsonArray *a = json_node_get_array(json_parser_get_root(parsers[d]));
        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonObject *flow = json_array_get_object_element(a, i);
            json_object_set_string_member(flow, "dir", case_dirs[d]);
            json_array_add_object_element(flows, json_object_ref(flow));
        }
    }
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The expected endpoints, sorted, as one comma-joined string. */
static char *
expected_endpoints(JsonObject *expect)
{
    JsonNode *n = json_object_get_member(expect, "endpoints");
    g_autoptr(GPtrArray) list = g_ptr_array_new();
    if (n != NULL && !JSON_NODE_HOLDS_NULL(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++)
            g_ptr_array_add(list, (gpointer)json_array_get_string_element(a, i));
    }
    g_ptr_array_sort(list, compare_strings);
    g_ptr_array_add(list, NULL);
    return g_strjoinv(",", (char **)list->pdata);
}

static char *
probe_endpoints(const Probe *p)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < p->endpoints->len; i++) {
        char buf[SIM_SOCKADDR_STRLEN];
        g_string_append_printf(s, "%s%s", i ? "," : "",
                               sim_sockaddr_to_string(&g_array_index(p->endpoints, SimSockAddr, i), buf));
    }
    return g_string_free(s, FALSE);
}

START_TEST(test_flow_matches_kube_proxy)
{
    JsonObject *flow = json_array_get_object_element(flows, _i);
    JsonObject *expect = json_object_get_object_member(flow, "expect");
    g_autofree char *path = g_build_filename(CASES, json_object_get_string_member(flow, "dir"),
                                             json_object_get_string_member(flow, "case"), NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "?");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "?");
    const K8sNode *node = cluster_find_node(c, json_object_get_string_member(flow, "node"));
    ck_assert_ptr_nonnull(node);
    SimSockAddr from, to;
    SimProto proto;
    ck_assert(sim_sockaddr_parse(json_object_get_string_member(flow, "from"), &from, TRUE));
    ck_assert(sim_sockaddr_parse(json_object_get_string_member(flow, "to"), &to, FALSE));
    ck_assert(sim_proto_parse(json_object_get_string_member(flow, "protocol"), &proto));
    g_autoptr(Probe) p = probe_run(c, node, &from, &to, proto, &error);
    ck_assert_msg(p != NULL, "%s", error ? error->message : "?");

    const char *name = json_object_get_string_member(flow, "name");
    ck_assert_msg(g_str_equal(nf_verdict_name(p->verdict),
                              json_object_get_string_member(expect, "verdict")),
                  "%s: verdict %s", name, nf_verdict_name(p->verdict));
    g_autofree char *want = expected_endpoints(expect);
    g_autofree char *got = probe_endpoints(p);
    ck_assert_msg(g_str_equal(want, got), "%s: endpoints '%s', want '%s'", name, got, want);
    ck_assert_msg(p->masquerade == json_object_get_boolean_member(expect, "masquerade"),
                  "%s: masquerade %d", name, p->masquerade);
}
END_TEST

int
main(void)
{
    load_flows();
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("kube-proxy flows");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_flow_matches_kube_proxy, 0, (int)json_array_get_length(flows));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_array_unref(flows);
    for (guint d = 0; d < G_N_ELEMENTS(case_dirs); d++)
        g_object_unref(parsers[d]);
    return failed == 0 ? 0 : 1;
}
