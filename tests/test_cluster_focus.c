/* SPDX-License-Identifier: Apache-2.0 */
/* Check suite for model/cluster_focus.c: cluster_build_focused() against cluster_build() on the
 * same scenario - the same errors and warnings, the same pods (names, nodes, IPs, readiness)
 * for every pod the focused build makes, and Service summaries that say what the full build's
 * KpServiceMap says of every port it summarised - on generated clusters with NotReady and
 * unschedulable nodes and exhausted pod CIDRs, and on every scenario of scenarios/ in iptables
 * mode.
 */
#include <check.h>
#include <string.h>

#include "model/cluster.h"
#include "model/kube_proxy_endpoints.h"
#include "model/loader.h"
#include "test_util.h"

/* A generated cluster: 6 nodes (node1 with a /29 pod CIDR that runs out of IPs), 12
 * Deployments of 5 replicas behind NodePort Services, one of them ETP Local, plus a bare pod. */
static const char generated[] =
    "apiVersion: kpsim.io/v1alpha1\n"
    "kind: Scenario\n"
    "metadata: {name: g}\n"
    "spec:\n"
    "  seed: 7\n"
    "  cluster:\n"
    "    nodes:\n"
    "      - {name: node1, addresses: [192.168.1.1], podCIDR: 10.200.0.0/29}\n"
    "      - {name: node2, addresses: [192.168.1.2]}\n"
    "      - {name: node3, addresses: [192.168.1.3]}\n"
    "      - {name: node4, addresses: [192.168.1.4]}\n"
    "      - {name: node5, addresses: [192.168.1.5]}\n"
    "      - {name: node6, addresses: [192.168.1.6]}\n"
    "    clusterCIDR: 10.1.0.0/16\n"
    "    serviceCIDR: 10.96.0.0/12\n"
    "  proxy: {mode: iptables}\n"
    "  generate:\n"
    "    deployments: {count: 12, replicas: 5, namePrefix: app, ports: [80]}\n"
    "    services: {perDeployment: 1, type: NodePort, nodePortBase: 30000}\n";

/* The same with externalTrafficPolicy Local: the summaries' Local sets matter. */
#define GENERATED_LOCAL_SERVICES                                                                   \
    "    services: {perDeployment: 1, type: NodePort, nodePortBase: 30000,\n"                      \
    "               externalTrafficPolicy: Local}\n"

/* Loads text (path NULL) or the file path, with node readiness changed as the test asks
 * (notready / unschedulable: node indices, -1 for none). (transfer full) */
static Scenario *
focus_load(const char *path, const char *text, gint notready, gint unschedulable)
{
    g_autoptr(GError) error = NULL;
    Scenario *sc = path != NULL ? loader_load_scenario(path, &error)
                                : loader_load_scenario_text("g.yaml", text, strlen(text), &error);
    ck_assert_msg(sc != NULL, "%s", error != NULL ? error->message : "?");
    if (notready >= 0)
        ((K8sNode *)sc->nodes->pdata[notready])->ready = FALSE;
    if (unschedulable >= 0)
        ((K8sNode *)sc->nodes->pdata[unschedulable])->unschedulable = TRUE;
    return sc;
}

/* Every pod of focused is in full with the same node, IP and readiness; returns how many. */
static guint
focus_same_pods(const Cluster *full, const Cluster *focused)
{
    for (guint i = 0; i < focused->pods->len; i++) {
        const K8sPod *p = focused->pods->pdata[i];
        const K8sPod *q = cluster_find_pod(full, p->meta.namespace_, p->meta.name);
        ck_assert_msg(q != NULL, "pod %s is not in the full build", p->meta.name);
        ck_assert_str_eq(p->node_name != NULL ? p->node_name : "-",
                         q->node_name != NULL ? q->node_name : "-");
        ck_assert_msg(sim_addr_equal(&p->ip, &q->ip), "pod %s: another IP", p->meta.name);
        ck_assert_int_eq(p->ready, q->ready);
    }
    return focused->pods->len;
}

/* The warnings of both builds are the same lines in the same order. */
static void
focus_same_warnings(const Cluster *full, const Cluster *focused)
{
    ck_assert_uint_eq(full->warnings->len, focused->warnings->len);
    for (guint i = 0; i < full->warnings->len; i++)
        ck_assert_str_eq(full->warnings->pdata[i], focused->warnings->pdata[i]);
}

/* Every summarised port of the focused map says what the full map's port says; returns how
 * many were summarised. */
static guint
focus_same_summaries(const Cluster *full, const Cluster *focused, const K8sNode *node,
                     SimFamily family)
{
    const K8sNode *full_node = cluster_find_node(full, node->name);
    g_autoptr(KpServiceMap) a = kp_service_map_new(full, full_node, family);
    g_autoptr(KpServiceMap) b = kp_service_map_new(focused, node, family);
    ck_assert_uint_eq(a->ports->len, b->ports->len);
    ck_assert_uint_eq(a->total_endpoints, b->total_endpoints);
    guint summarised = 0;
    for (guint i = 0; i < b->ports->len; i++) {
        const KpServicePort *x = a->ports->pdata[i], *y = b->ports->pdata[i];
        ck_assert_str_eq(x->name, y->name);
        ck_assert_int_eq(x->has_endpoints, y->has_endpoints);
        ck_assert_int_eq(kp_service_port_has_cluster(x), kp_service_port_has_cluster(y));
        ck_assert_int_eq(kp_service_port_has_local(x), kp_service_port_has_local(y));
        if (!y->summarised)
            ck_assert_uint_eq(x->endpoints->len, y->endpoints->len);
        summarised += y->summarised;
    }
    return summarised;
}

/* Builds sc twice (full and focused on node / from / to) and compares them; returns the number
 * of summarised ports. */
static guint
focus_compare(Scenario *full_sc, Scenario *focus_sc, const char *node, const char *from,
              const char *to)
{
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    ClusterFocus focus = {
        .node = node, .from = addr(from), .to = sockaddr(to), .proto = SIM_PROTO_TCP};
    g_autoptr(Cluster) full = cluster_build(full_sc, &e1);
    g_autoptr(Cluster) focused = cluster_build_focused(focus_sc, &focus, &e2);
    ck_assert_int_eq(full == NULL, focused == NULL);
    if (full == NULL) {
        ck_assert_str_eq(e1->message, e2->message);
        return 0;
    }
    focus_same_warnings(full, focused);
    focus_same_pods(full, focused);
    const K8sNode *n = cluster_find_node(focused, node);
    return focused->summaries != NULL ? focus_same_summaries(full, focused, n, focus.to.addr.family)
                                      : 0;
}

START_TEST(test_focused_pods_match_full_build_with_bad_nodes)
{
    static const gint notready[] = {-1, 1, 2, 4};
    static const gint unschedulable[] = {-1, 2, 3, 5};
    g_autofree char *head =
        g_strndup(generated, (gsize)(strstr(generated, "    services:") - generated));
    g_autofree char *local = g_strconcat(head, GENERATED_LOCAL_SERVICES, NULL);
    const char *texts[] = {generated, local};
    for (guint t = 0; t < G_N_ELEMENTS(texts); t++) {
        for (guint k = 0; k < G_N_ELEMENTS(notready); k++) {
            g_autoptr(Scenario) a = focus_load(NULL, texts[t], notready[k], unschedulable[k]);
            g_autoptr(Scenario) b = focus_load(NULL, texts[t], notready[k], unschedulable[k]);
            /* the nodePort of app3 on node2: app3's pods are made, the other 11 summarised */
            guint summarised = focus_compare(a, b, "node2", "203.0.113.10", "192.168.1.2:30002");
            ck_assert_uint_eq(summarised, 11);
        }
    }
}
END_TEST

START_TEST(test_exhausted_pod_cidr_warns_with_the_full_builds_names)
{
    g_autoptr(Scenario) a = focus_load(NULL, generated, -1, -1);
    g_autoptr(Scenario) b = focus_load(NULL, generated, -1, -1);
    g_autoptr(GError) error = NULL;
    ClusterFocus focus = {.node = "node1",
                          .from = addr("203.0.113.10"),
                          .to = sockaddr("192.168.1.1:30000"),
                          .proto = SIM_PROTO_TCP};
    g_autoptr(Cluster) full = cluster_build(a, &error);
    g_autoptr(Cluster) focused = cluster_build_focused(b, &focus, &error);
    ck_assert_ptr_nonnull(focused);
    guint no_ip = 0;
    for (guint i = 0; i < focused->warnings->len; i++)
        no_ip += strstr(focused->warnings->pdata[i], "gets no IP") != NULL;
    ck_assert_uint_gt(no_ip, 0); /* node1's /29 holds 5 pods of the 60 */
    focus_same_warnings(full, focused);
    focus_same_pods(full, focused);
    ck_assert_uint_lt(focused->pods->len, full->pods->len);
}
END_TEST

START_TEST(test_source_pod_is_made)
{
    g_autoptr(Scenario) a = focus_load(NULL, generated, -1, -1);
    g_autoptr(GError) error = NULL;
    g_autoptr(Cluster) full = cluster_build(a, &error);
    const K8sPod *last = full->pods->pdata[full->pods->len - 1];
    g_autoptr(Scenario) b = focus_load(NULL, generated, -1, -1);
    ClusterFocus focus = {
        .node = "node2", .from = last->ip, .to = sockaddr("10.96.0.10:53"), .proto = SIM_PROTO_UDP};
    g_autoptr(Cluster) focused = cluster_build_focused(b, &focus, &error);
    const K8sPod *src = cluster_find_pod_by_ip(focused, &last->ip);
    ck_assert_ptr_nonnull(src);
    ck_assert_str_eq(src->meta.name, last->meta.name);
    ck_assert_str_eq(src->node_name, last->node_name);
}
END_TEST

START_TEST(test_every_scenario_focused_as_full)
{
    g_autofree char *dir = g_build_filename(KPSIM_SRCDIR, "scenarios", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    ck_assert_ptr_nonnull(d);
    guint compared = 0;
    for (const char *name = g_dir_read_name(d); name != NULL; name = g_dir_read_name(d)) {
        if (!g_str_has_suffix(name, ".yaml") || strcmp(name, "capacity-5000-nodes.yaml") == 0)
            continue;
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(Scenario) a = focus_load(path, NULL, -1, -1);
        g_autoptr(Scenario) b = focus_load(path, NULL, -1, -1);
        const K8sNode *n = a->nodes->pdata[0];
        char to[SIM_SOCKADDR_STRLEN];
        SimSockAddr dst = {.addr = g_array_index(n->addresses, SimAddr, 0), .port = 30080};
        sim_sockaddr_to_string(&dst, to);
        focus_compare(a, b, n->name,
                      dst.addr.family == SIM_AF_INET ? "203.0.113.10" : "2001:db8::10", to);
        compared++;
    }
    ck_assert_uint_gt(compared, 10);
}
END_TEST

static Suite *
cluster_focus_suite(void)
{
    Suite *s = suite_create("cluster_focus");
    TCase *t = tcase_create("focused build");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_focused_pods_match_full_build_with_bad_nodes);
    tcase_add_test(t, test_exhausted_pod_cidr_warns_with_the_full_builds_names);
    tcase_add_test(t, test_source_pod_is_made);
    tcase_add_test(t, test_every_scenario_focused_as_full);
    suite_add_tcase(s, t);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cluster_focus_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
