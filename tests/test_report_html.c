/* SPDX-License-Identifier: Apache-2.0 */
/* report.html (tools/report_html*.c) and the path counts behind it: every connection a pod
 * served is counted once under the node it had been addressed to (ReportPod.entries), the
 * cross-node arcs and the paths matrix carry those exact counts, Local policy draws no hop, and
 * a 5,000-node / 150,000-pod report stays a page of bounded size with the aggregation said.
 */
#include <check.h>
#include <string.h>

#include "model/loader.h"
#include "model/run.h"
#include "tools/report.h"

#ifndef KPSIM_SRCDIR
#define KPSIM_SRCDIR "."
#endif

typedef struct {
    Scenario *sc;
    Cluster *cluster;
    RunReport *report;
} Ran;

/* Loads scenarios/NAME, runs it and keeps the report. */
static void
ran_file(const char *name, Ran *res)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", name, NULL);
    g_autoptr(GError) error = NULL;
    res->sc = loader_load_scenario(path, &error);
    ck_assert_msg(res->sc != NULL, "%s", error ? error->message : "");
    res->cluster = cluster_build(res->sc, &error);
    ck_assert_msg(res->cluster != NULL, "%s", error ? error->message : "");
    g_autoptr(Run) run = run_new(res->cluster, &error);
    ck_assert_msg(run != NULL, "%s", error ? error->message : "");
    run_execute(run, NULL, NULL);
    res->report = run_report(run);
}

static void
ran_clear(Ran *res)
{
    report_free(res->report);
    cluster_free(res->cluster);
    scenario_free(res->sc);
}

/* Occurrences of needle in haystack. */
static guint
count(const char *haystack, const char *needle)
{
    guint n = 0;
    for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Connections pod p served that had been addressed to node index node. */
static guint64
entered(const ReportPod *p, guint node)
{
    for (guint i = 0; i < p->entries->len; i++)
        if (g_array_index(p->entries, ReportPodEntry, i).node == node)
            return g_array_index(p->entries, ReportPodEntry, i).connections;
    return 0;
}

/* Index of the node named name in r. */
static guint
node_index(const RunReport *r, const char *name)
{
    for (guint i = 0; i < r->nodes->len; i++)
        if (g_str_equal(((ReportNode *)r->nodes->pdata[i])->name, name))
            return i;
    ck_abort_msg("no node %s", name);
    return 0;
}

START_TEST(test_entries_add_up_to_what_nodes_served)
{
    Ran res = {0};
    ran_file("seed-nginx-nodeport.yaml", &res);
    const RunReport *r = res.report;
    for (guint n = 0; n < r->nodes->len; n++) {
        const ReportNode *node = r->nodes->pdata[n];
        guint64 served = 0, crossed = 0;
        for (guint i = 0; i < r->pods->len; i++) {
            const ReportPod *p = r->pods->pdata[i];
            served += entered(p, n);
            if (g_strcmp0(p->node, node->name) != 0)
                crossed += entered(p, n);
        }
        ck_assert_uint_eq(served, node->connections_served);
        ck_assert_uint_eq(crossed, node->connections_crossed);
    }
    /* node3 runs no pod: everything addressed to it crossed, and it did get traffic. */
    guint n3 = node_index(r, "node3");
    ck_assert_uint_gt(((ReportNode *)r->nodes->pdata[n3])->connections_crossed, 0);
    ran_clear(&res);
}
END_TEST

START_TEST(test_cluster_policy_arcs_carry_exact_counts)
{
    Ran res = {0};
    ran_file("seed-nginx-nodeport.yaml", &res);
    const RunReport *r = res.report;
    g_autoptr(GString) html = g_string_new(NULL);
    report_html_write(r, res.cluster, html);
    /* One arc per (entry node, other node with the serving pod) pair that carried any. */
    guint pairs = 0;
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        for (guint j = 0; j < p->entries->len; j++) {
            const ReportPodEntry *e = &g_array_index(p->entries, ReportPodEntry, j);
            const ReportNode *a = r->nodes->pdata[e->node];
            if (g_strcmp0(a->name, p->node) == 0)
                continue;
            pairs++;
            g_autofree char *label = g_strdup_printf(
                "cross-node hop: %" G_GUINT64_FORMAT " connections", e->connections);
            ck_assert_msg(strstr(html->str, label) != NULL, "missing arc '%s'", label);
        }
    }
    ck_assert_uint_eq(count(html->str, "aria-label=\"cross-node hop: "), pairs);
    /* The matrix: a row per node, a column per pod, the pods' own nodes outlined. */
    ck_assert_ptr_nonnull(strstr(html->str, "id=\"paths-svg\""));
    ck_assert_uint_eq(count(html->str, "class=\"cell local\""), r->pods->len);
    ck_assert_uint_eq(count(html->str, "class=\"cell\"") + r->pods->len,
                      r->nodes->len * r->pods->len);
    ran_clear(&res);
}
END_TEST

START_TEST(test_local_policy_draws_no_hop)
{
    Ran res = {0};
    ran_file("seed-nginx-nodeport-local.yaml", &res);
    const RunReport *r = res.report;
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        for (guint j = 0; j < p->entries->len; j++) {
            const ReportPodEntry *e = &g_array_index(p->entries, ReportPodEntry, j);
            ck_assert_str_eq(((ReportNode *)r->nodes->pdata[e->node])->name, p->node);
        }
    }
    g_autoptr(GString) html = g_string_new(NULL);
    report_html_write(r, res.cluster, html);
    ck_assert_ptr_null(strstr(html->str, "cross-node hop: "));
    ran_clear(&res);
}
END_TEST

/* A report of nodes nodes and pods_per_node pods on each, every pod taking connections that
 * had been addressed to itself and to the next node. */
static RunReport *
big_report(guint nodes, guint pods_per_node)
{
    RunReport *r = report_new();
    r->scenario = g_strdup("big");
    ReportTraffic *t = report_add_traffic(r, "web");
    t->from = g_strdup("laptop");
    t->client_address = g_strdup("203.0.113.10");
    t->protocol = g_strdup("TCP");
    for (guint n = 0; n < nodes; n++) {
        g_autofree char *name = g_strdup_printf("node%u", n + 1);
        ReportNode *rn = report_add_node(r, name);
        rn->addresses = g_strdup_printf("10.%u.%u.1", n / 256, n % 256);
        rn->connections_entered = rn->connections_served = 2 * pods_per_node;
        rn->connections_crossed = pods_per_node;
        for (guint k = 0; k < pods_per_node; k++) {
            g_autofree char *pod = g_strdup_printf("app-%u-%u", n, k);
            ReportPod *p = report_add_pod(r, pod);
            p->node = g_strdup(name);
            p->ip = g_strdup_printf("10.1.%u.%u", n % 256, k + 2);
            p->connections = 2 + (n % 7 == 0);
            ReportPodEntry own = {n, 1}, next = {(n + 1) % nodes, 1 + (n % 7 == 0)};
            g_array_append_val(p->entries, own);
            g_array_append_val(p->entries, next);
        }
        t->sent += 2 * pods_per_node;
    }
    t->succeeded = t->sent;
    return r;
}

START_TEST(test_five_thousand_nodes_stay_readable)
{
    g_autofree char *path =
        g_build_filename(KPSIM_SRCDIR, "scenarios", "seed-nginx-nodeport.yaml", NULL);
    g_autoptr(GError) error = NULL;
    Scenario *sc = loader_load_scenario(path, &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    Cluster *c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    RunReport *r = big_report(5000, 30);
    g_autoptr(GString) html = g_string_new(NULL);
    report_html_write(r, c, html);
    /* 23 busiest nodes drawn (the nodes every 7th, which took more), one box for the rest. */
    ck_assert_uint_eq(count(html->str, "id=\"node-node"), 23);
    ck_assert_uint_eq(count(html->str, "id=\"node-more\""), 1);
    ck_assert_ptr_nonnull(strstr(html->str, "The cluster has 5000 nodes"));
    ck_assert_ptr_nonnull(strstr(html->str, "4977 other nodes"));
    ck_assert_ptr_nonnull(strstr(html->str, "149976 other pods"));
    /* The matrix is 24 rows of 25 cells, whatever the size. */
    ck_assert_uint_eq(count(html->str, "class=\"cell\"") + count(html->str, "class=\"cell local\""),
                      24 * 25);
    ck_assert_uint_eq(count(html->str, "<g"), count(html->str, "</g>"));
    ck_assert_uint_lt(html->len, 2 * 1024 * 1024);
    report_free(r);
    cluster_free(c);
    scenario_free(sc);
}
END_TEST

static Suite *
report_html_suite(void)
{
    Suite *s = suite_create("report_html");
    TCase *tc = tcase_create("paths");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_entries_add_up_to_what_nodes_served);
    tcase_add_test(tc, test_cluster_policy_arcs_carry_exact_counts);
    tcase_add_test(tc, test_local_policy_draws_no_hop);
    tcase_add_test(tc, test_five_thousand_nodes_stay_readable);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(report_html_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
