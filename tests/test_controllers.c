/* SPDX-License-Identifier: Apache-2.0 */
/* The controllers' pod and workload behaviours over time, driven event by event on a bare
 * simulation loop: drain and uncordon, graceful termination (terminating + serving endpoints
 * for the preStop sleep, capped by the grace period), podKill graceful and forced, container
 * crashes with CrashLoopBackOff, readiness flips, rollouts (RollingUpdate within maxSurge and
 * maxUnavailable, Recreate), Deployment and Service patches, delete and apply.
 *
 * The datapath is a recording stub: what the controllers ask of it (pods added and removed,
 * containers stopped and started) is kept with its time.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "model/controllers.h"
#include "model/events.h"
#include "model/loader.h"

/* ------------------------------------------------------------------ the bench */

typedef struct {
    Scenario *sc;
    Cluster *c;
    GPtrArray *events;
    SimLoop *loop;
    Controllers *ctl;
    GPtrArray *calls; /* char*: "added NAME", "removed NAME", "container NAME up|down", each
                         followed by " @SECONDS" */
} Bench;

/* Records one datapath call with the loop's time. */
static void
bench_call(Bench *b, const char *what, const char *name)
{
    g_ptr_array_add(b->calls, g_strdup_printf("%s %s @%g", what, name,
                                              (double)sim_loop_now(b->loop) / SIM_SEC));
}

static void
stub_power(const K8sNode *node, gboolean up, gpointer data)
{
    bench_call(data, up ? "power-up" : "power-down", node->name);
}

static guint
stub_proxy_sync(const K8sNode *node, gpointer data)
{
    return 0;
}

static void
stub_pod_added(const K8sPod *pod, gpointer data)
{
    bench_call(data, "added", pod->meta.name);
}

static void
stub_pod_removed(const K8sPod *pod, gpointer data)
{
    bench_call(data, "removed", pod->meta.name);
}

static void
stub_container(const K8sPod *pod, gboolean running, gpointer data)
{
    bench_call(data, running ? "container-up" : "container-down", pod->meta.name);
}

static const ControllersOps stub_ops = {
    .power = stub_power,
    .proxy_sync = stub_proxy_sync,
    .pod_added = stub_pod_added,
    .pod_removed = stub_pod_removed,
    .container = stub_container,
};

/* A Deployment "web" of replicas pods on port 8080 (strategy: lines of its spec; pod_spec:
 * lines of its pod spec; container: lines of its container) behind a NodePort Service "web"
 * (80 -> 8080 at 30080), three nodes, and the events block. (transfer full) */
static char *
bench_text(guint replicas, const char *strategy, const char *pod_spec, const char *container,
           const char *events)
{
    return g_strdup_printf(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec:\n  replicas: %u\n%s  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n%s      containers:\n"
        "        - name: web\n          image: nginx\n          ports: [{containerPort: 8080}]\n"
        "%s"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec:\n  type: NodePort\n  selector: {app: web}\n"
        "  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]\n"
        "---\napiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: t}\n"
        "spec:\n  duration: 1500s\n  cluster:\n    nodes:\n"
        "      - {name: n1, addresses: [192.168.1.101]}\n"
        "      - {name: n2, addresses: [192.168.1.102]}\n"
        "      - {name: n3, addresses: [192.168.1.103]}\n"
        "  events:\n%s",
        replicas, strategy, pod_spec, container, events);
}

/* The container lines of a preStop sleep of seconds. (transfer full) */
static char *
pre_stop(guint seconds)
{
    return g_strdup_printf("          lifecycle: {preStop: {sleep: {seconds: %u}}}\n", seconds);
}

/* Loads text, builds its cluster, compiles its events and starts the controllers on a stub
 * datapath. (transfer full) */
static Bench *
bench_new(const char *text)
{
    g_autoptr(GError) error = NULL;
    Bench *b = g_new0(Bench, 1);
    b->sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_msg(b->sc != NULL, "%s", error ? error->message : "");
    b->c = cluster_build(b->sc, &error);
    ck_assert_msg(b->c != NULL, "%s", error ? error->message : "");
    b->events = events_compile(b->c, &error);
    ck_assert_msg(b->events != NULL, "%s", error ? error->message : "");
    b->loop = sim_loop_new();
    b->calls = g_ptr_array_new_with_free_func(g_free);
    ControllersConfig cfg;
    controllers_config_init(&cfg);
    b->ctl = controllers_new(b->c, b->loop, &cfg, b->events, &stub_ops, b);
    controllers_start(b->ctl);
    return b;
}

static void
bench_free(Bench *b)
{
    controllers_free(b->ctl);
    sim_loop_free(b->loop);
    g_ptr_array_unref(b->events);
    cluster_free(b->c);
    scenario_free(b->sc);
    g_ptr_array_unref(b->calls);
    g_free(b);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Bench, bench_free)

/* Runs the loop up to seconds. */
static void
bench_run_to(Bench *b, double seconds)
{
    sim_loop_run_until(b->loop, (SimTime)(seconds * SIM_SEC));
}

/* TRUE when the datapath got exactly the call "WHAT NAME @SECONDS". */
static gboolean
bench_called(const Bench *b, const char *what, const char *name, double seconds)
{
    g_autofree char *call = g_strdup_printf("%s %s @%g", what, name, seconds);
    for (guint i = 0; i < b->calls->len; i++)
        if (strcmp(b->calls->pdata[i], call) == 0)
            return TRUE;
    return FALSE;
}

/* How many calls start with "WHAT NAME ". */
static guint
bench_count_calls(const Bench *b, const char *what, const char *name)
{
    g_autofree char *prefix = g_strdup_printf("%s %s @", what, name);
    guint n = 0;
    for (guint i = 0; i < b->calls->len; i++)
        n += g_str_has_prefix(b->calls->pdata[i], prefix);
    return n;
}

/* The first pod of web on node (NULL: on any node), not terminating, or NULL. */
static K8sPod *
pod_on(const Bench *b, const char *node)
{
    for (guint i = 0; i < b->c->pods->len; i++) {
        K8sPod *p = b->c->pods->pdata[i];
        if ((node == NULL || g_strcmp0(p->node_name, node) == 0) && !p->terminating)
            return p;
    }
    return NULL;
}

/* Is a pod called name in the cluster? */
static gboolean
has_pod(const Bench *b, const char *name)
{
    for (guint i = 0; i < b->c->pods->len; i++)
        if (strcmp(((K8sPod *)b->c->pods->pdata[i])->meta.name, name) == 0)
            return TRUE;
    return FALSE;
}

/* The endpoint of Service web for the pod called name, or NULL. */
static const K8sEndpoint *
endpoint_of(const Bench *b, const char *name)
{
    const K8sService *svc = cluster_find_service(b->c, "default", "web");
    ck_assert(svc != NULL);
    g_autoptr(GPtrArray) slices = cluster_service_slices(b->c, svc);
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++) {
            const K8sEndpoint *e = sl->endpoints->pdata[j];
            if (g_strcmp0(e->target_pod, name) == 0)
                return e;
        }
    }
    return NULL;
}

/* Asserts the endpoint of pod name has the conditions ready/serving/terminating. */
static void
assert_conditions(const Bench *b, const char *name, gboolean ready, gboolean serving,
                  gboolean terminating)
{
    const K8sEndpoint *e = endpoint_of(b, name);
    ck_assert_msg(e != NULL, "no endpoint for %s", name);
    ck_assert_msg(k8s_endpoint_ready(e) == ready && k8s_endpoint_serving(e) == serving &&
                      k8s_endpoint_terminating(e) == terminating,
                  "%s: ready %d serving %d terminating %d", name, k8s_endpoint_ready(e),
                  k8s_endpoint_serving(e), k8s_endpoint_terminating(e));
}

/* The log's n-th (from 0) record of kind on subject, or NULL. */
static const ControllersRecord *
record_of(const Bench *b, ControllersRecordKind kind, const char *subject, guint n)
{
    const GPtrArray *log = controllers_log(b->ctl);
    for (guint i = 0; i < log->len; i++) {
        const ControllersRecord *r = log->pdata[i];
        if (r->kind == kind && g_strcmp0(r->subject, subject) == 0 && n-- == 0)
            return r;
    }
    return NULL;
}

/* Active (not terminating) pods of web, and the Ready ones among them. */
static void
count_pods(const Bench *b, guint *active, guint *ready)
{
    *active = *ready = 0;
    for (guint i = 0; i < b->c->pods->len; i++) {
        const K8sPod *p = b->c->pods->pdata[i];
        if (p->terminating)
            continue;
        (*active)++;
        *ready += p->ready;
    }
}

/* ------------------------------------------------------------------ drain and termination */

START_TEST(drained_pod_serves_as_terminating_until_its_pre_stop_ends)
{
    g_autofree char *hook = pre_stop(20);
    g_autofree char *text = bench_text(3, "", "      terminationGracePeriodSeconds: 30\n", hook,
                                       "    - {at: 10s, nodeDrain: n1}\n");
    g_autoptr(Bench) b = bench_new(text);
    g_autofree char *victim = g_strdup(pod_on(b, "n1")->meta.name);
    bench_run_to(b, 10.5);
    ck_assert(cluster_find_node(b->c, "n1")->unschedulable);
    ck_assert(pod_on(b, "n1") == NULL);
    assert_conditions(b, victim, TRUE, TRUE, FALSE); /* the slice is not updated yet */
    bench_run_to(b, 11.5);
    assert_conditions(b, victim, FALSE, TRUE, TRUE);
    /* The replacement went to another node at once. */
    const ControllersRecord *created = NULL;
    for (guint i = 0; i < controllers_log(b->ctl)->len && created == NULL; i++) {
        const ControllersRecord *r = controllers_log(b->ctl)->pdata[i];
        if (r->kind == CONTROLLERS_POD_CREATED)
            created = r;
    }
    ck_assert(created != NULL && created->at == 10 * SIM_SEC);
    ck_assert(strstr(created->detail, "on n1") == NULL);
    bench_run_to(b, 29.9);
    ck_assert(has_pod(b, victim));
    assert_conditions(b, victim, FALSE, TRUE, TRUE);
    bench_run_to(b, 31.5);
    ck_assert(!has_pod(b, victim));
    ck_assert(bench_called(b, "removed", victim, 30));
    ck_assert(endpoint_of(b, victim) == NULL);
    ck_assert(record_of(b, CONTROLLERS_NODE_DRAINED, "n1", 0) != NULL);
}
END_TEST

START_TEST(grace_period_caps_the_pre_stop_sleep_and_moves_the_window)
{
    const guint graces[] = {5, 12, 40};
    const double removed_at[] = {15, 22, 30}; /* drain at 10 s, preStop 20 s */
    for (guint i = 0; i < G_N_ELEMENTS(graces); i++) {
        g_autofree char *hook = pre_stop(20);
        g_autofree char *spec =
            g_strdup_printf("      terminationGracePeriodSeconds: %u\n", graces[i]);
        g_autofree char *text = bench_text(3, "", spec, hook, "    - {at: 10s, nodeDrain: n2}\n");
        g_autoptr(Bench) b = bench_new(text);
        g_autofree char *victim = g_strdup(pod_on(b, "n2")->meta.name);
        bench_run_to(b, 100);
        ck_assert_msg(bench_called(b, "removed", victim, removed_at[i]), "grace %u", graces[i]);
    }
}
END_TEST

START_TEST(drain_grace_period_overrides_the_pods)
{
    g_autofree char *hook = pre_stop(20);
    g_autofree char *text = bench_text(
        3, "", "", hook, "    - {at: 10s, nodeDrain: {node: n3, gracePeriodSeconds: 4}}\n");
    g_autoptr(Bench) b = bench_new(text);
    g_autofree char *victim = g_strdup(pod_on(b, "n3")->meta.name);
    bench_run_to(b, 100);
    ck_assert(bench_called(b, "removed", victim, 14));
}
END_TEST

START_TEST(uncordon_makes_a_drained_node_schedulable_again)
{
    g_autofree char *text = bench_text(3, "", "", "",
                                       "    - {at: 10s, nodeDrain: n1}\n"
                                       "    - {at: 20s, nodeUncordon: n1}\n"
                                       "    - {at: 30s, scale: {deployment: web, replicas: 6}}\n");
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 15);
    ck_assert(cluster_find_node(b->c, "n1")->unschedulable);
    ck_assert(pod_on(b, "n1") == NULL);
    bench_run_to(b, 25);
    ck_assert(!cluster_find_node(b->c, "n1")->unschedulable);
    ck_assert(record_of(b, CONTROLLERS_NODE_UNCORDONED, "n1", 0) != NULL);
    bench_run_to(b, 40);
    ck_assert(pod_on(b, "n1") != NULL); /* the fewest pods of web: n1 gets two of the three */
}
END_TEST

/* The name of web's pod on node in a fresh cluster of text (scheduling is deterministic).
 * (transfer full) */
static char *
name_on(const char *text, const char *node)
{
    g_autoptr(Bench) b = bench_new(text);
    const K8sPod *pod = pod_on(b, node);
    ck_assert_msg(pod != NULL, "no pod on %s", node != NULL ? node : "any node");
    return g_strdup(pod->meta.name);
}

START_TEST(without_pre_stop_the_app_exits_at_sigterm)
{
    g_autofree char *base = bench_text(2, "", "", "", "");
    g_autofree char *victim = name_on(base, "n1");
    g_autofree char *events = g_strdup_printf("    - {at: 10s, podKill: %s}\n", victim);
    g_autofree char *text = bench_text(2, "", "", "", events);
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 10.5);
    ck_assert(bench_called(b, "removed", victim, 10));
    const ControllersRecord *r = record_of(b, CONTROLLERS_POD_TERMINATING, victim, 0);
    ck_assert(r != NULL);
    ck_assert_str_eq(r->detail, "deleted: no preStop sleep, the app exits at SIGTERM");
    bench_run_to(b, 11.5);
    ck_assert(endpoint_of(b, victim) == NULL);
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 2); /* replaced */
}
END_TEST

START_TEST(pod_kill_graceful_forced_and_with_grace_period)
{
    g_autofree char *hook = pre_stop(20);
    g_autofree char *base = bench_text(3, "", "", hook, "");
    g_autofree char *p1 = name_on(base, "n1"), *p2 = name_on(base, "n2"), *p3 = name_on(base, "n3");
    g_autofree char *events =
        g_strdup_printf("    - {at: 10s, podKill: %s}\n"
                        "    - {at: 10s, podKill: {pod: %s, force: true}}\n"
                        "    - {at: 10s, podKill: {pod: %s, gracePeriodSeconds: 3}}\n",
                        p1, p2, p3);
    g_autofree char *text = bench_text(3, "", "", hook, events);
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 100);
    ck_assert(bench_called(b, "removed", p1, 30)); /* preStop 20 s < grace 30 s */
    ck_assert(bench_called(b, "removed", p2, 10)); /* forced */
    ck_assert(bench_called(b, "removed", p3, 13)); /* capped by the 3 s grace period */
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 3);
    ck_assert_uint_eq(ready, 3);
}
END_TEST

/* ------------------------------------------------------------------ crashes and readiness */

START_TEST(crash_restarts_after_10s_then_20s_keeping_the_ip)
{
    g_autofree char *base = bench_text(2, "", "", "", "");
    g_autofree char *victim = name_on(base, "n1");
    g_autofree char *events = g_strdup_printf("    - {at: 10s, podCrash: %s}\n"
                                              "    - {at: 30s, podCrash: {pod: %s}}\n",
                                              victim, victim);
    g_autofree char *text = bench_text(2, "", "", "", events);
    g_autoptr(Bench) b = bench_new(text);
    K8sPod *pod = pod_on(b, "n1");
    SimAddr ip = pod->ip;
    bench_run_to(b, 10.5);
    ck_assert(bench_called(b, "container-down", victim, 10));
    ck_assert(!pod->ready);
    assert_conditions(b, victim, TRUE, TRUE, FALSE);
    bench_run_to(b, 11.5);
    assert_conditions(b, victim, FALSE, FALSE, FALSE);
    bench_run_to(b, 21.5);
    ck_assert(bench_called(b, "container-up", victim, 20));
    ck_assert(!pod->ready); /* restarted, its readiness probe not passed yet */
    bench_run_to(b, 23.5);
    ck_assert(pod->ready);
    assert_conditions(b, victim, TRUE, TRUE, FALSE);
    bench_run_to(b, 60);
    ck_assert(bench_called(b, "container-down", victim, 30));
    ck_assert(bench_called(b, "container-up", victim, 50)); /* the back-off doubled */
    ck_assert_uint_eq(pod->restart_count, 2);
    ck_assert(sim_addr_equal(&pod->ip, &ip));
    ck_assert_uint_eq(bench_count_calls(b, "removed", victim), 0);
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 2); /* a crashed pod is not replaced */
}
END_TEST

START_TEST(crash_back_off_caps_at_300s_and_resets_after_10_minutes)
{
    g_autofree char *base = bench_text(1, "", "", "", "");
    g_autofree char *victim = name_on(base, NULL);
    /* Each crash 1 s after the previous restart: delays 10, 20, 40, 80, 160, 300 (capped);
     * the last crash comes 10 minutes after a restart, so the back-off starts over. */
    const double crashes[] = {10, 21, 42, 83, 164, 325, 1226};
    const double restarts[] = {20, 41, 82, 163, 324, 625, 1236};
    GString *events = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(crashes); i++)
        g_string_append_printf(events, "    - {at: %gs, podCrash: %s}\n", crashes[i], victim);
    g_autofree char *text = bench_text(1, "", "", "", events->str);
    g_string_free(events, TRUE);
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 1300);
    for (guint i = 0; i < G_N_ELEMENTS(restarts); i++)
        ck_assert_msg(bench_called(b, "container-up", victim, restarts[i]), "restart %u", i);
}
END_TEST

START_TEST(readiness_flips_the_endpoint_but_the_app_keeps_answering)
{
    g_autofree char *base = bench_text(2, "", "", "", "");
    g_autofree char *victim = name_on(base, "n2");
    g_autofree char *events = g_strdup_printf("    - {at: 10s, podReady: {pod: %s, ready: false}}\n"
                                              "    - {at: 20s, podReady: {pod: %s, ready: true}}\n",
                                              victim, victim);
    g_autofree char *text = bench_text(2, "", "", "", events);
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 10.5);
    ck_assert(!pod_on(b, "n2")->ready);
    assert_conditions(b, victim, TRUE, TRUE, FALSE);
    bench_run_to(b, 11.5);
    assert_conditions(b, victim, FALSE, FALSE, FALSE);
    bench_run_to(b, 21.5);
    assert_conditions(b, victim, TRUE, TRUE, FALSE);
    ck_assert_uint_eq(bench_count_calls(b, "container-down", victim), 0);
    ck_assert_uint_eq(bench_count_calls(b, "removed", victim), 0);
    ck_assert(record_of(b, CONTROLLERS_POD_PROBE, victim, 1) != NULL);
}
END_TEST

START_TEST(not_ready_pod_being_deleted_is_terminating_and_not_serving)
{
    g_autofree char *hook = pre_stop(20);
    g_autofree char *base = bench_text(2, "", "", hook, "");
    g_autofree char *victim = name_on(base, "n1");
    g_autofree char *events = g_strdup_printf("    - {at: 10s, podReady: {pod: %s, ready: false}}\n"
                                              "    - {at: 15s, podKill: %s}\n",
                                              victim, victim);
    g_autofree char *text = bench_text(2, "", "", hook, events);
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 16.5);
    assert_conditions(b, victim, FALSE, FALSE, TRUE);
}
END_TEST

/* ------------------------------------------------------------------ Deployments */

START_TEST(rollout_restart_stays_within_max_surge_and_max_unavailable)
{
    /* 4 replicas: maxSurge 25% = 1, maxUnavailable 25% = 1. */
    g_autofree char *text = bench_text(4, "", "", "", "    - {at: 10s, rolloutRestart: web}\n");
    g_autoptr(Bench) b = bench_new(text);
    const char *old_hash = g_hash_table_lookup(pod_on(b, "n1")->meta.labels, "pod-template-hash");
    g_autofree char *old = g_strdup(old_hash);
    for (double t = 9.0; t <= 40.0; t += 0.25) {
        bench_run_to(b, t);
        guint active, ready;
        count_pods(b, &active, &ready);
        ck_assert_msg(active <= 5, "%u active pods at %g s", active, t);
        ck_assert_msg(ready >= 3, "%u ready pods at %g s", ready, t);
    }
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 4);
    ck_assert_uint_eq(ready, 4);
    for (guint i = 0; i < b->c->pods->len; i++) {
        const K8sPod *p = b->c->pods->pdata[i];
        ck_assert_str_ne(g_hash_table_lookup(p->meta.labels, "pod-template-hash"), old);
        ck_assert(g_str_has_prefix(p->meta.name, "web-"));
    }
    ck_assert(record_of(b, CONTROLLERS_ROLLOUT_COMPLETE, "default/web", 0) != NULL);
    const ControllersRecord *r = record_of(b, CONTROLLERS_DEPLOYMENT_PATCHED, "default/web", 0);
    ck_assert(r != NULL && r->at == 10 * SIM_SEC);
}
END_TEST

START_TEST(max_unavailable_zero_waits_for_each_new_pod)
{
    g_autofree char *text =
        bench_text(3, "  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n", "", "",
                   "    - {at: 10s, rolloutRestart: web}\n");
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 11);
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 4); /* one surge pod, no old pod gone yet */
    ck_assert_uint_eq(ready, 3);
    bench_run_to(b, 12); /* the new pod is Ready: one old pod goes, the next new one starts */
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 4);
    ck_assert_uint_eq(ready, 3);
    bench_run_to(b, 16);
    ck_assert(record_of(b, CONTROLLERS_ROLLOUT_COMPLETE, "default/web", 0)->at == 16 * SIM_SEC);
}
END_TEST

START_TEST(recreate_starts_new_pods_after_old_ones_are_gone)
{
    g_autofree char *hook = pre_stop(5);
    g_autofree char *text = bench_text(2, "  strategy: {type: Recreate}\n", "", hook,
                                       "    - {at: 10s, rolloutRestart: {deployment: web}}\n");
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 14.9);
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 0);
    ck_assert_uint_eq(b->c->pods->len, 2); /* still terminating */
    bench_run_to(b, 15.1);
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 2);
    ck_assert_uint_eq(ready, 0);
    bench_run_to(b, 17.1);
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(ready, 2);
}
END_TEST

START_TEST(patching_the_template_grace_period_rolls_out_new_pods)
{
    g_autofree char *text = bench_text(
        2, "", "", "",
        "    - {at: 10s, patch: {deployment: web, spec: {replicas: 3, template: {spec: "
        "{terminationGracePeriodSeconds: 7}}}}}\n"
        "    - {at: 30s, patch: {deployment: web, spec: {template: {metadata: {annotations: "
        "{a: b}}}}}}\n");
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 25);
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 3);
    for (guint i = 0; i < b->c->pods->len; i++)
        ck_assert_int_eq(((K8sPod *)b->c->pods->pdata[i])->spec.termination_grace, 7 * SIM_SEC);
    ck_assert(record_of(b, CONTROLLERS_DEPLOYMENT_PATCHED, "default/web", 1) != NULL);
    bench_run_to(b, 60);
    ck_assert(record_of(b, CONTROLLERS_ROLLOUT_COMPLETE, "default/web", 1) != NULL);
}
END_TEST

START_TEST(scale_down_terminates_gracefully)
{
    g_autofree char *hook = pre_stop(20);
    g_autofree char *text =
        bench_text(3, "", "", hook, "    - {at: 10s, scale: {deployment: web, replicas: 1}}\n");
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 11.5);
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 1);
    ck_assert_uint_eq(b->c->pods->len, 3);
    for (guint i = 0; i < b->c->pods->len; i++) {
        const K8sPod *p = b->c->pods->pdata[i];
        if (p->terminating)
            assert_conditions(b, p->meta.name, FALSE, TRUE, TRUE);
    }
    bench_run_to(b, 30.5);
    ck_assert_uint_eq(b->c->pods->len, 1);
}
END_TEST

/* ------------------------------------------------------------------ Services, delete, apply */

START_TEST(patching_a_service_selector_type_and_affinity)
{
    g_autofree char *text = bench_text(
        2, "", "", "",
        "    - {at: 10s, patch: {service: web, spec: {selector: {app: other}}}}\n"
        "    - {at: 20s, patch: {service: web, spec: {selector: {app: web}, type: ClusterIP}}}\n"
        "    - {at: 30s, patch: {service: web, spec: {type: NodePort, sessionAffinity: ClientIP, "
        "sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}}}}\n");
    g_autoptr(Bench) b = bench_new(text);
    const K8sService *svc = cluster_find_service(b->c, "default", "web");
    bench_run_to(b, 11.5);
    ck_assert(endpoint_of(b, pod_on(b, "n1") != NULL ? pod_on(b, "n1")->meta.name
                                                     : pod_on(b, "n2")->meta.name) == NULL);
    bench_run_to(b, 21.5);
    ck_assert(svc->type == K8S_SVC_CLUSTER_IP);
    ck_assert_uint_eq(((K8sServicePort *)svc->ports->pdata[0])->node_port, 0);
    g_autoptr(GPtrArray) slices = cluster_service_slices(b->c, svc);
    ck_assert_uint_eq(((K8sEndpointSlice *)slices->pdata[0])->endpoints->len, 2);
    bench_run_to(b, 31);
    guint16 np = ((K8sServicePort *)svc->ports->pdata[0])->node_port;
    ck_assert(svc->type == K8S_SVC_NODE_PORT && np >= 30000 && np <= 32767);
    ck_assert(svc->affinity_client_ip);
    ck_assert_uint_eq(svc->affinity_timeout, 60);
}
END_TEST

START_TEST(patching_service_ports_merges_by_port_number)
{
    g_autofree char *text = bench_text(
        2, "", "", "",
        "    - {at: 10s, patch: {service: web, spec: {ports: [{port: 80, targetPort: 9090}, "
        "{port: 443, targetPort: 8443, name: https}]}}}\n");
    g_autoptr(Bench) b = bench_new(text);
    const K8sService *svc = cluster_find_service(b->c, "default", "web");
    bench_run_to(b, 10.5);
    ck_assert_uint_eq(svc->ports->len, 2);
    const K8sServicePort *http = svc->ports->pdata[0], *https = svc->ports->pdata[1];
    ck_assert_uint_eq(http->target_port, 9090);
    ck_assert_uint_eq(http->node_port, 30080); /* kept */
    ck_assert_str_eq(http->name, "http");
    ck_assert_uint_eq(https->target_port, 8443);
    ck_assert(https->node_port >= 30000 && https->node_port <= 32767 && https->node_port != 30080);
    bench_run_to(b, 11.5);
    g_autoptr(GPtrArray) slices = cluster_service_slices(b->c, svc);
    const K8sEndpointSlice *sl = slices->pdata[0];
    ck_assert_uint_eq(sl->ports->len, 2);
    guint16 ports[2] = {((K8sEndpointPort *)sl->ports->pdata[0])->port,
                        ((K8sEndpointPort *)sl->ports->pdata[1])->port};
    ck_assert((ports[0] == 9090 && ports[1] == 8443) || (ports[0] == 8443 && ports[1] == 9090));
}
END_TEST

START_TEST(delete_service_deployment_and_pod)
{
    g_autofree char *base = bench_text(3, "", "", "", "");
    g_autofree char *victim = name_on(base, "n3");
    g_autofree char *events =
        g_strdup_printf("    - {at: 5s, delete: {kind: Pod, name: %s}}\n"
                        "    - {at: 10s, delete: {kind: Service, name: web}}\n"
                        "    - {at: 20s, delete: {kind: Deployment, name: web}}\n",
                        victim);
    g_autofree char *text = bench_text(3, "", "", "", events);
    g_autoptr(Bench) b = bench_new(text);
    bench_run_to(b, 9);
    ck_assert(!has_pod(b, victim));
    guint active, ready;
    count_pods(b, &active, &ready);
    ck_assert_uint_eq(active, 3); /* a deleted pod is replaced */
    bench_run_to(b, 11);
    ck_assert(cluster_find_service(b->c, "default", "web") == NULL);
    ck_assert_uint_eq(b->c->slices->len, 0);
    bench_run_to(b, 30);
    ck_assert_uint_eq(b->c->pods->len, 0); /* a deleted Deployment's pods are not replaced */
    ck_assert_uint_eq(b->c->deployments->len, 0);
}
END_TEST

START_TEST(apply_creates_and_replaces_objects)
{
    g_autofree char *dir = g_dir_make_tmp("kpsim-apply-XXXXXX", NULL);
    ck_assert(dir != NULL);
    g_autofree char *file = g_build_filename(dir, "more.yaml", NULL);
    const char *manifest =
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec:\n  type: NodePort\n  externalTrafficPolicy: Local\n  selector: {app: web}\n"
        "  ports: [{name: http, port: 80, targetPort: 8080}]\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: api}\n"
        "spec: {selector: {app: api}, ports: [{port: 90, targetPort: 9090}]}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n"
        "spec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n"
        "  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n"
        "        - {name: api, image: api, ports: [{containerPort: 9090}]}\n";
    ck_assert(g_file_set_contents(file, manifest, -1, NULL));
    g_autofree char *events = g_strdup_printf("    - {at: 10s, apply: %s}\n", file);
    g_autofree char *text = bench_text(2, "", "", "", events);
    g_autoptr(Bench) b = bench_new(text);
    SimAddr web_ip = *k8s_service_cluster_ip(cluster_find_service(b->c, "default", "web"));
    bench_run_to(b, 15);
    const K8sService *web = cluster_find_service(b->c, "default", "web");
    const K8sService *api = cluster_find_service(b->c, "default", "api");
    ck_assert(web != NULL && api != NULL);
    ck_assert(web->external_policy == K8S_POLICY_LOCAL);
    ck_assert(sim_addr_equal(k8s_service_cluster_ip(web), &web_ip));               /* kept */
    ck_assert_uint_eq(((K8sServicePort *)web->ports->pdata[0])->node_port, 30080); /* kept */
    ck_assert(k8s_service_cluster_ip(api) != NULL);
    guint api_pods = 0;
    for (guint i = 0; i < b->c->pods->len; i++) {
        const K8sPod *p = b->c->pods->pdata[i];
        api_pods += g_strcmp0(p->owner, "api") == 0 && p->ready;
    }
    ck_assert_uint_eq(api_pods, 2);
    g_autoptr(GPtrArray) slices = cluster_service_slices(b->c, api);
    ck_assert_uint_eq(((K8sEndpointSlice *)slices->pdata[0])->endpoints->len, 2);
    g_unlink(file);
    g_rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ suite */

static Suite *
controllers_suite(void)
{
    Suite *s = suite_create("controllers");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, drained_pod_serves_as_terminating_until_its_pre_stop_ends);
    tcase_add_test(tc, grace_period_caps_the_pre_stop_sleep_and_moves_the_window);
    tcase_add_test(tc, drain_grace_period_overrides_the_pods);
    tcase_add_test(tc, uncordon_makes_a_drained_node_schedulable_again);
    tcase_add_test(tc, without_pre_stop_the_app_exits_at_sigterm);
    tcase_add_test(tc, pod_kill_graceful_forced_and_with_grace_period);
    tcase_add_test(tc, crash_restarts_after_10s_then_20s_keeping_the_ip);
    tcase_add_test(tc, crash_back_off_caps_at_300s_and_resets_after_10_minutes);
    tcase_add_test(tc, readiness_flips_the_endpoint_but_the_app_keeps_answering);
    tcase_add_test(tc, not_ready_pod_being_deleted_is_terminating_and_not_serving);
    tcase_add_test(tc, rollout_restart_stays_within_max_surge_and_max_unavailable);
    tcase_add_test(tc, max_unavailable_zero_waits_for_each_new_pod);
    tcase_add_test(tc, recreate_starts_new_pods_after_old_ones_are_gone);
    tcase_add_test(tc, patching_the_template_grace_period_rolls_out_new_pods);
    tcase_add_test(tc, scale_down_terminates_gracefully);
    tcase_add_test(tc, patching_a_service_selector_type_and_affinity);
    tcase_add_test(tc, patching_service_ports_merges_by_port_number);
    tcase_add_test(tc, delete_service_deployment_and_pod);
    tcase_add_test(tc, apply_creates_and_replaces_objects);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(controllers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
