/* SPDX-License-Identifier: Apache-2.0 */
/* Events in a run: compiling spec.events, the control plane's timings (node lifecycle,
 * EndpointSlice updates, kube-proxy syncs under minSyncPeriod), kube-proxy's UDP conntrack
 * cleanup, and the node-failure scenario's observable outcome and determinism.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "model/controllers.h"
#include "model/endpointslice_controller.h"
#include "model/events.h"
#include "model/loader.h"
#include "model/run.h"
#include "tools/cli.h"
#include "tools/report.h"

#include "test_util.h"

#ifndef KPSIM_SRCDIR
#define KPSIM_SRCDIR "."
#endif

/* ------------------------------------------------------------------ helpers */

/* A Deployment "web" of replicas pods on port 8080 and a NodePort Service over it (TCP 80 ->
 * 8080 at 30080, UDP 53 -> 5353 at 30053), then a Scenario document with three nodes, the
 * given proxy and events blocks. (transfer full) */
static char *
scenario_text(guint replicas, const char *proxy, const char *events)
{
    return g_strdup_printf(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec:\n  replicas: %u\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
        "        - name: web\n          image: nginx\n"
        "          ports: [{containerPort: 8080}, {containerPort: 5353, protocol: UDP}]\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec:\n  type: NodePort\n  selector: {app: web}\n  ports:\n"
        "    - {name: http, port: 80, targetPort: 8080, nodePort: 30080}\n"
        "    - {name: dns, port: 53, targetPort: 5353, protocol: UDP, nodePort: 30053}\n"
        "---\napiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: t}\n"
        "spec:\n  duration: 100s\n"
        "  cluster:\n    nodes:\n"
        "      - {name: n1, addresses: [192.168.1.101]}\n"
        "      - {name: n2, addresses: [192.168.1.102]}\n"
        "      - {name: n3, addresses: [192.168.1.103]}\n"
        "%s%s",
        replicas, proxy, events);
}

/* The n-th (from 0) report event of kind on subject, or NULL. */
static const ReportEvent *
find_event(const RunReport *r, const char *kind, const char *subject, guint n)
{
    for (guint i = 0; i < r->events->len; i++) {
        const ReportEvent *e = r->events->pdata[i];
        if (strcmp(e->kind, kind) == 0 && g_strcmp0(e->subject, subject) == 0 && n-- == 0)
            return e;
    }
    return NULL;
}

/* Asserts that the n-th event of kind on subject happened at `at` seconds. */
static void
assert_event_at(const RunReport *r, const char *kind, const char *subject, guint n, double at)
{
    const ReportEvent *e = find_event(r, kind, subject, n);
    ck_assert_msg(e != NULL, "no %s #%u of %s", kind, n, subject);
    ck_assert_msg(e->at == (SimTime)(at * SIM_SEC), "%s #%u of %s at %" G_GINT64_FORMAT " ns", kind,
                  n, subject, (gint64)e->at);
}

/* Builds, runs and reports text; the scenario and cluster are freed before returning. */
static RunReport *
run_text(const char *text)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(Run) run = run_new(c, &error);
    ck_assert_msg(run != NULL, "%s", error ? error->message : "");
    run_execute(run, NULL, NULL);
    return run_report(run);
}

/* ------------------------------------------------------------------ timings */

START_TEST(not_ready_at_first_monitor_check_past_grace)
{
    ControllersConfig cfg;
    controllers_config_init(&cfg);
    ck_assert_int_eq(cfg.node_monitor_grace, 50 * SIM_SEC);
    ck_assert_int_eq(cfg.node_monitor_period, 5 * SIM_SEC);
    ck_assert_int_eq(cfg.pod_eviction_timeout, 300 * SIM_SEC);
    ck_assert_int_eq(controllers_not_ready_at(&cfg, 20 * SIM_SEC), 70 * SIM_SEC);
    ck_assert_int_eq(controllers_not_ready_at(&cfg, 21 * SIM_SEC), 75 * SIM_SEC);
    ck_assert_int_eq(controllers_not_ready_at(&cfg, 0), 50 * SIM_SEC);
    ck_assert_int_eq(controllers_ready_at(&cfg, 33 * SIM_SEC), 35 * SIM_SEC);
    ck_assert_int_eq(controllers_ready_at(&cfg, 35 * SIM_SEC), 35 * SIM_SEC);
    cfg.node_monitor_grace = 40 * SIM_SEC; /* v1.31 and before */
    ck_assert_int_eq(controllers_not_ready_at(&cfg, 12 * SIM_SEC), 55 * SIM_SEC);
}
END_TEST

START_TEST(proxy_sync_waits_for_min_sync_period)
{
    ck_assert_int_eq(controllers_proxy_sync_at(10 * SIM_SEC, 9 * SIM_SEC + SIM_SEC / 2, SIM_SEC),
                     10 * SIM_SEC + SIM_SEC / 2);
    ck_assert_int_eq(controllers_proxy_sync_at(10 * SIM_SEC, 2 * SIM_SEC, SIM_SEC), 10 * SIM_SEC);
    ck_assert_int_eq(controllers_proxy_sync_at(3 * SIM_SEC, -1, 10 * SIM_SEC), 3 * SIM_SEC);
}
END_TEST

/* ------------------------------------------------------------------ compiling events */

START_TEST(events_compile_sorted_by_time)
{
    g_autofree char *text = scenario_text(
        2, "",
        "  events:\n"
        "    - {at: 30s, nodeUp: n2}\n"
        "    - {at: 10s, nodeDown: n2}\n"
        "    - {at: 10s, patch: {service: web, spec: {externalTrafficPolicy: Local}}}\n"
        "    - {at: 40s, proxyRestart: n1}\n");
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ev = events_compile(c, &error);
    ck_assert_msg(ev != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(ev->len, 4);
    const RunEvent *e0 = ev->pdata[0], *e1 = ev->pdata[1], *e2 = ev->pdata[2], *e3 = ev->pdata[3];
    ck_assert(e0->kind == EVENT_NODE_DOWN && e0->at == 10 * SIM_SEC);
    ck_assert_str_eq(e0->node, "n2");
    ck_assert(e1->kind == EVENT_PATCH_SERVICE && e1->set_external_policy);
    ck_assert(e1->external_policy == K8S_POLICY_LOCAL && !e1->set_internal_policy);
    ck_assert_str_eq(e1->namespace_, "default");
    ck_assert(e2->kind == EVENT_NODE_UP && e3->kind == EVENT_PROXY_RESTART);
    ck_assert_str_eq(events_kind_name(e3->kind), "proxyRestart");
}
END_TEST

/* Asserts that events compile with error code and a message holding needle. */
static void
assert_refused(const char *events, EventsError code, const char *needle)
{
    g_autofree char *text = scenario_text(2, "", events);
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ev = events_compile(c, &error);
    ck_assert(ev == NULL);
    ck_assert_msg(g_error_matches(error, EVENTS_ERROR, code), "%s", error->message);
    ck_assert_msg(strstr(error->message, needle) != NULL, "%s", error->message);
    ck_assert_msg(g_str_has_prefix(error->message, "t.yaml:"), "%s", error->message);
    g_clear_error(&error);
    g_autoptr(Run) run = run_new(c, &error); /* and the run refuses them too */
    ck_assert(run == NULL && g_error_matches(error, EVENTS_ERROR, code));
}

START_TEST(unsupported_events_are_refused_not_ignored)
{
    assert_refused("  events: [{at: 5s, apply: {file: x.yaml}}]\n", EVENTS_ERROR_INVALID,
                   "spec.events[0]: apply: x.yaml: error: cannot read manifest");
    assert_refused("  events: [{at: 5s, scale: {deployment: api, replicas: 3}}]\n",
                   EVENTS_ERROR_INVALID, "deployment \"api\"");
    assert_refused("  events: [{at: 5s, scale: {deployment: web, replicas: many}}]\n",
                   EVENTS_ERROR_INVALID, "scale.replicas: Invalid value");
    assert_refused("  events: [{at: 5s, podKill: web-1}]\n", EVENTS_ERROR_INVALID,
                   "podKill: Not found: pod \"web-1\" in namespace \"default\"");
    assert_refused("  events: [{at: 5s, podCrash: web-1}]\n", EVENTS_ERROR_INVALID,
                   "podCrash: Not found: pod \"web-1\" in namespace \"default\"");
    assert_refused("  events: [{at: 5s, patch: {service: web, spec: {externalIPs: [1.2.3.4]}}}]\n",
                   EVENTS_ERROR_UNSUPPORTED,
                   "patch.spec.externalIPs[0]: kpsim run does not simulate patching this field");
    assert_refused("  events: [{at: 5s, patch: {service: web, spec: {ports: [{port: 81, "
                   "appProtocol: http}]}}}]\n",
                   EVENTS_ERROR_UNSUPPORTED,
                   "patch.spec.ports[0].appProtocol: kpsim run does not simulate patching");
    assert_refused(
        "  events: [{at: 5s, patch: {service: web, spec: {ports: [{targetPort: 81}]}}}]\n",
        EVENTS_ERROR_INVALID, "patch.spec.ports[0].port: Required value");
    assert_refused("  events: [{at: 5s, patch: {service: nope, spec: "
                   "{externalTrafficPolicy: Local}}}]\n",
                   EVENTS_ERROR_INVALID, "service \"nope\"");
    assert_refused("  events: [{at: 5s, patch: {service: web, spec: "
                   "{externalTrafficPolicy: local}}}]\n",
                   EVENTS_ERROR_INVALID, "Unsupported value: \"local\"");
}
END_TEST

/* The name of the first pod of scenario_text(2, "", ""). (transfer full) */
static char *
some_pod_name(void)
{
    g_autofree char *text = scenario_text(2, "", "");
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    return g_strdup(((const K8sPod *)c->pods->pdata[0])->meta.name);
}

START_TEST(new_events_compile_with_their_fields)
{
    g_autofree char *pod = some_pod_name();
    g_autofree char *events = g_strdup_printf(
        "  events:\n"
        "    - {at: 1s, nodeDrain: {node: n1, gracePeriodSeconds: 4}}\n"
        "    - {at: 2s, nodeUncordon: n1}\n"
        "    - {at: 3s, podKill: {pod: %s, force: true}}\n"
        "    - {at: 4s, podCrash: %s}\n"
        "    - {at: 5s, podReady: {pod: %s, ready: false}}\n"
        "    - {at: 6s, patch: {deployment: web, spec: {replicas: 4, strategy: {rollingUpdate: "
        "{maxSurge: 50%%, maxUnavailable: 0}}, template: {spec: "
        "{terminationGracePeriodSeconds: 9}}}}}\n"
        "    - {at: 7s, rolloutRestart: web}\n"
        "    - {at: 8s, delete: {kind: Service, name: web}}\n"
        "    - {at: 9s, patch: {service: web, spec: {selector: {tier: x, app: \"\"}, "
        "sessionAffinity: ClientIP, publishNotReadyAddresses: true}}}\n",
        pod, pod, pod);
    g_autofree char *text = scenario_text(2, "", events);
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ev = events_compile(c, &error);
    ck_assert_msg(ev != NULL, "%s", error ? error->message : "");
    const RunEvent *drain = ev->pdata[0], *kill = ev->pdata[2], *ready = ev->pdata[4];
    const RunEvent *patch = ev->pdata[5], *del = ev->pdata[7], *svc = ev->pdata[8];
    ck_assert(drain->kind == EVENT_NODE_DRAIN && drain->grace == 4 * SIM_SEC);
    ck_assert(((const RunEvent *)ev->pdata[1])->kind == EVENT_NODE_UNCORDON);
    ck_assert(kill->kind == EVENT_POD_KILL && kill->force && kill->grace == -1);
    ck_assert(((const RunEvent *)ev->pdata[3])->kind == EVENT_POD_CRASH);
    ck_assert(ready->kind == EVENT_POD_READY && !ready->ready);
    ck_assert(patch->kind == EVENT_PATCH_DEPLOYMENT && patch->set_replicas && patch->replicas == 4);
    ck_assert(patch->set_max_surge && patch->max_surge == 50 && patch->max_surge_percent);
    ck_assert(patch->set_max_unavailable && patch->max_unavailable == 0);
    ck_assert(patch->template_grace == 9 * SIM_SEC);
    ck_assert(((const RunEvent *)ev->pdata[6])->kind == EVENT_ROLLOUT_RESTART);
    ck_assert(del->kind == EVENT_DELETE && del->delete_kind == EVENTS_DELETE_SERVICE);
    ck_assert_str_eq(g_hash_table_lookup(svc->selector, "tier"), "x");
    ck_assert_str_eq(g_hash_table_lookup(svc->selector, "app"), "");
    ck_assert(svc->set_affinity && svc->affinity_client_ip);
    ck_assert(svc->set_publish_not_ready && svc->publish_not_ready);
    ck_assert_str_eq(events_kind_name(EVENT_ROLLOUT_RESTART), "rolloutRestart");
}
END_TEST

START_TEST(new_events_refuse_bad_fields_with_their_position)
{
    g_autofree char *pod = some_pod_name();
    g_autofree char *no_ready = g_strdup_printf("  events: [{at: 5s, podReady: {pod: %s}}]\n", pod);
    assert_refused(no_ready, EVENTS_ERROR_INVALID, "podReady.ready: Required value");
    g_autofree char *force =
        g_strdup_printf("  events: [{at: 5s, podKill: {pod: %s, force: maybe}}]\n", pod);
    assert_refused(force, EVENTS_ERROR_INVALID,
                   "podKill.force: Invalid value: \"maybe\": expected true or false");
    assert_refused("  events: [{at: 5s, delete: {kind: Secret, name: x}}]\n", EVENTS_ERROR_INVALID,
                   "delete.kind: Unsupported value: \"Secret\"");
    assert_refused("  events: [{at: 5s, delete: {kind: Deployment, name: api}}]\n",
                   EVENTS_ERROR_INVALID, "delete: Not found: Deployment \"api\"");
    assert_refused("  events: [{at: 5s, patch: {service: web, deployment: web, spec: "
                   "{replicas: 1}}}]\n",
                   EVENTS_ERROR_INVALID, "exactly one of patch.service and patch.deployment");
    assert_refused("  events: [{at: 5s, patch: {deployment: web, spec: {template: {metadata: "
                   "{labels: {app: api}}}}}}]\n",
                   EVENTS_ERROR_INVALID, "`selector` does not match template `labels`");
    assert_refused("  events: [{at: 5s, patch: {deployment: web, spec: {strategy: "
                   "{type: BlueGreen}}}}]\n",
                   EVENTS_ERROR_INVALID, "patch.spec.strategy.type: Unsupported value");
    assert_refused("  events: [{at: 5s, patch: {deployment: web, spec: {strategy: "
                   "{rollingUpdate: {maxUnavailable: 150%}}}}}]\n",
                   EVENTS_ERROR_INVALID,
                   "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\"");
    assert_refused("  events: [{at: 5s, patch: {deployment: web, spec: {template: {spec: "
                   "{containers: [{name: web, image: x}]}}}}}]\n",
                   EVENTS_ERROR_UNSUPPORTED, "kpsim run does not simulate patching this field");
    assert_refused("  events: [{at: 5s, patch: {service: web, spec: {type: ExternalName}}}]\n",
                   EVENTS_ERROR_INVALID, "patch.spec.type: Unsupported value: \"ExternalName\"");
    assert_refused("  events: [{at: 5s, patch: {service: web, spec: {sessionAffinityConfig: "
                   "{clientIP: {timeoutSeconds: 0}}}}}]\n",
                   EVENTS_ERROR_INVALID, "timeoutSeconds: Invalid value: 0");
    assert_refused("  events: [{at: 5s, rolloutRestart: api}]\n", EVENTS_ERROR_INVALID,
                   "rolloutRestart: Not found: deployment \"api\" in namespace \"default\"");
    assert_refused("  events: [{at: 5s, nodeDrain: {node: n1, force: true}}]\n",
                   EVENTS_ERROR_INVALID, "spec.events[0]: nodeDrain.force: unknown field");
    assert_refused("  events: [{at: 5s, apply: {}}]\n", EVENTS_ERROR_INVALID,
                   "apply: Required value: a manifest file");
}
END_TEST

START_TEST(apply_refuses_pods_in_its_manifest)
{
    g_autofree char *dir = g_dir_make_tmp("kpsim-events-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "pod.yaml", NULL);
    const char *pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                      "spec: {containers: [{name: c, image: i}]}\n";
    ck_assert(g_file_set_contents(file, pod, -1, NULL));
    g_autofree char *events = g_strdup_printf("  events: [{at: 5s, apply: %s}]\n", file);
    assert_refused(events, EVENTS_ERROR_UNSUPPORTED,
                   "kpsim run applies Services and Deployments only");
    g_unlink(file);
    g_rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ the control plane's chain */

START_TEST(chain_respects_grace_period_and_min_sync_period)
{
    /* minSyncPeriod 10 s makes the rate limit visible: syncs at 0 s (the start). */
    g_autofree char *text = scenario_text(
        3, "  proxy: {mode: iptables, iptables: {minSyncPeriod: 10s}}\n",
        "  events:\n"
        "    - {at: 5s, patch: {service: web, spec: {externalTrafficPolicy: Local}}}\n"
        "    - {at: 12s, nodeDown: n3}\n"
        "    - {at: 67s, patch: {service: web, spec: {externalTrafficPolicy: Cluster}}}\n"
        "    - {at: 80s, nodeUp: n3}\n");
    g_autoptr(RunReport) r = run_text(text);
    ck_assert_int_eq(r->first_fault, 5 * SIM_SEC);
    /* The patch at 5 s: no node synced for 10 s since 0 s, so all wait until 10 s. */
    assert_event_at(r, "service-patched", "default/web", 0, 5);
    for (guint i = 1; i <= 3; i++) {
        g_autofree char *n = g_strdup_printf("n%u", i);
        assert_event_at(r, "proxy-synced", n, 0, 10);
    }
    /* n3 down at 12 s: NotReady at the first 5 s check at or after 62 s, slices 1 s later. */
    assert_event_at(r, "node-down", "n3", 0, 12);
    assert_event_at(r, "node-not-ready", "n3", 0, 65);
    assert_event_at(r, "endpoints-updated", "default/web", 0, 66);
    const ReportEvent *eu = find_event(r, "endpoints-updated", "default/web", 0);
    ck_assert_str_eq(eu->detail, "2 of 3 endpoints ready");
    assert_event_at(r, "proxy-synced", "n1", 1, 66);
    assert_event_at(r, "proxy-synced", "n2", 1, 66);
    /* The patch at 67 s waits for 76 s (10 s after 66 s); the dead n3 does not sync. */
    assert_event_at(r, "proxy-synced", "n1", 2, 76);
    ck_assert(find_event(r, "proxy-synced", "n3", 1) == NULL ||
              find_event(r, "proxy-synced", "n3", 1)->at >= 80 * SIM_SEC);
    /* n3 back at 80 s: its fresh kube-proxy syncs at once, Ready at the 80 s check, slices at
     * 81 s; n1 synced at 76 s so it waits until 86 s, n3 (80 s) until 90 s. */
    assert_event_at(r, "node-up", "n3", 0, 80);
    assert_event_at(r, "proxy-synced", "n3", 1, 80);
    assert_event_at(r, "node-ready", "n3", 0, 80);
    assert_event_at(r, "endpoints-updated", "default/web", 1, 81);
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 1)->detail,
                     "3 of 3 endpoints ready");
    assert_event_at(r, "proxy-synced", "n1", 3, 86);
    assert_event_at(r, "proxy-synced", "n3", 2, 90);
    /* Node down then up within the grace period: never NotReady. */
    ck_assert(find_event(r, "node-not-ready", "n3", 1) == NULL);
}
END_TEST

START_TEST(node_back_within_grace_period_is_never_not_ready)
{
    g_autofree char *text = scenario_text(2, "",
                                          "  events:\n"
                                          "    - {at: 10s, nodeDown: n1}\n"
                                          "    - {at: 40s, nodeUp: n1}\n");
    g_autoptr(RunReport) r = run_text(text);
    ck_assert(find_event(r, "node-not-ready", "n1", 0) == NULL);
    ck_assert(find_event(r, "endpoints-updated", "default/web", 0) == NULL);
    assert_event_at(r, "proxy-synced", "n1", 0, 40); /* kube-proxy starts with the node */
}
END_TEST

START_TEST(spec_controllers_timings_are_used)
{
    g_autofree char *text =
        scenario_text(2,
                      "  controllers: {nodeMonitorGracePeriod: 40s, nodeMonitorPeriod: 2s, "
                      "endpointUpdateDelay: 3s}\n",
                      "  events: [{at: 11s, nodeDown: n1}]\n");
    g_autoptr(RunReport) r = run_text(text);
    assert_event_at(r, "node-not-ready", "n1", 0, 52);
    assert_event_at(r, "endpoints-updated", "default/web", 0, 55);
    assert_event_at(r, "proxy-synced", "n2", 0, 55);
}
END_TEST

/* The name of the first pod of the cluster text builds. (transfer full) */
static char *
first_pod_name(const char *text, char **node)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    const K8sPod *p = c->pods->pdata[0];
    *node = g_strdup(p->node_name);
    return g_strdup(p->meta.name);
}

START_TEST(pod_kill_is_replaced_on_a_ready_node)
{
    g_autofree char *probe = scenario_text(2, "", "");
    g_autofree char *node = NULL;
    g_autofree char *victim = first_pod_name(probe, &node);
    g_autofree char *events = g_strdup_printf("  events: [{at: 10s, podKill: %s}]\n"
                                              "  clients: [{name: c, address: 203.0.113.10}]\n"
                                              "  traffic:\n"
                                              "    - {name: t, from: c, to: [192.168.1.101:30080],"
                                              " rate: 20/s, start: 0s, stop: 30s}\n",
                                              victim);
    g_autofree char *text = scenario_text(2, "", events);
    g_autoptr(RunReport) r = run_text(text);
    assert_event_at(r, "pod-killed", victim, 0, 10);
    assert_event_at(r, "pod-deleted", victim, 0, 10);
    const ReportEvent *created = NULL;
    for (guint i = 0; i < r->events->len && created == NULL; i++)
        if (strcmp(((ReportEvent *)r->events->pdata[i])->kind, "pod-created") == 0)
            created = r->events->pdata[i];
    ck_assert(created != NULL && created->at == 10 * SIM_SEC);
    /* Same ReplicaSet prefix, new suffix; spread to the node without a pod of it. */
    ck_assert(strncmp(created->subject, victim, strlen(victim) - 5) == 0);
    ck_assert_str_ne(created->subject, victim);
    ck_assert(strstr(created->detail, "n3") != NULL);
    assert_event_at(r, "pod-ready", created->subject, 0, 12);
    assert_event_at(r, "endpoints-updated", "default/web", 0, 11);
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 0)->detail,
                     "1 of 2 endpoints ready");
    assert_event_at(r, "endpoints-updated", "default/web", 1, 13);
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 1)->detail,
                     "2 of 2 endpoints ready");
    /* Only connections started before the sync at 11 s can fail; the new pod serves. */
    const ReportTraffic *x = r->traffic->pdata[0];
    const ReportTarget *g = x->targets->pdata[0];
    ck_assert_uint_gt(g->fault_failed, 0);
    ck_assert_int_ge(g->fault_fail_first, 10);
    ck_assert_int_le(g->fault_fail_last, 11);
    ck_assert_uint_eq(r->pods->len, 3);
    const ReportPod *np = r->pods->pdata[2];
    ck_assert_str_eq(np->name, created->subject);
    ck_assert_uint_gt(np->connections, 50);
    ck_assert_uint_eq(np->connections_before, 0);
}
END_TEST

START_TEST(eviction_replaces_pods_of_an_unreachable_node)
{
    g_autofree char *probe = scenario_text(2, "", "");
    g_autofree char *node = NULL;
    g_autofree char *victim = first_pod_name(probe, &node);
    g_autofree char *events = g_strdup_printf("  duration: 420s\n"
                                              "  events:\n"
                                              "    - {at: 10s, nodeDown: %s}\n"
                                              "    - {at: 400s, nodeUp: %s}\n",
                                              node, node);
    g_autofree char *text = scenario_text(2, "", events);
    /* duration given twice: drop the default one */
    char *d = strstr(text, "  duration: 100s\n");
    memmove(d, d + strlen("  duration: 100s\n"), strlen(d + strlen("  duration: 100s\n")) + 1);
    g_autoptr(RunReport) r = run_text(text);
    assert_event_at(r, "node-not-ready", node, 0, 60);
    assert_event_at(r, "pods-evicted", node, 0, 360);
    const ReportEvent *created = find_event(r, "pods-evicted", node, 0);
    ck_assert_str_eq(created->detail, "1 pod Terminating (NoExecute taint, tolerationSeconds 300)");
    assert_event_at(r, "endpoints-updated", "default/web", 1, 361);
    ck_assert_uint_eq(r->pods->len, 3);
    const ReportPod *np = r->pods->pdata[2];
    ck_assert_str_ne(np->node, node);
    assert_event_at(r, "pod-ready", np->name, 0, 362);
    assert_event_at(r, "endpoints-updated", "default/web", 2, 363);
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 2)->detail,
                     "2 of 3 endpoints ready");
    /* The node returns: kubelet removes the evicted pod, which never comes back. */
    assert_event_at(r, "pod-deleted", victim, 0, 400);
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 3)->detail,
                     "2 of 2 endpoints ready");
}
END_TEST

START_TEST(scale_creates_and_deletes_pods)
{
    g_autofree char *text =
        scenario_text(2, "",
                      "  events:\n"
                      "    - {at: 5s, scale: {deployment: web, replicas: 4}}\n"
                      "    - {at: 20s, scale: {deployment: web, replicas: 1}}\n");
    g_autoptr(RunReport) r = run_text(text);
    assert_event_at(r, "deployment-scaled", "default/web", 0, 5);
    ck_assert_str_eq(find_event(r, "deployment-scaled", "default/web", 0)->detail,
                     "replicas 2 -> 4");
    ck_assert_uint_eq(r->pods->len, 4);
    const ReportPod *third = r->pods->pdata[2];
    assert_event_at(r, "pod-created", third->name, 0, 5);
    ck_assert_str_eq(third->node, "n3"); /* the node without a pod of it first */
    assert_event_at(r, "pod-ready", third->name, 0, 7);
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 0)->detail,
                     "2 of 4 endpoints ready");
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 1)->detail,
                     "4 of 4 endpoints ready");
    assert_event_at(r, "endpoints-updated", "default/web", 1, 8);
    /* Down to 1: three deletions at 20 s, one of the two original pods stays. */
    guint deleted = 0;
    for (guint i = 0; i < r->events->len; i++) {
        const ReportEvent *e = r->events->pdata[i];
        if (strcmp(e->kind, "pod-deleted") == 0) {
            ck_assert_int_eq(e->at, 20 * SIM_SEC);
            ck_assert_str_eq(e->detail, "exited at SIGTERM");
            ck_assert_str_eq(find_event(r, "pod-terminating", e->subject, 0)->detail,
                             "scaled down: no preStop sleep, the app exits at SIGTERM");
            deleted++;
        }
    }
    ck_assert_uint_eq(deleted, 3);
    const ReportPod *first = r->pods->pdata[0], *second = r->pods->pdata[1];
    ck_assert((find_event(r, "pod-deleted", first->name, 0) == NULL) !=
              (find_event(r, "pod-deleted", second->name, 0) == NULL));
    assert_event_at(r, "endpoints-updated", "default/web", 2, 21);
    ck_assert_str_eq(find_event(r, "endpoints-updated", "default/web", 2)->detail,
                     "1 of 1 endpoints ready");
}
END_TEST

START_TEST(spec_controllers_rejects_bad_values)
{
    g_autofree char *text = scenario_text(2, "  controllers: {nodeMonitorPeriod: 0s}\n", "");
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert(sc == NULL);
    ck_assert(strstr(error->message, "spec.controllers.nodeMonitorPeriod") != NULL);
    g_clear_error(&error);
    g_autofree char *t2 = scenario_text(2, "  controllers: {nodeGrace: 1s}\n", "");
    g_autoptr(Scenario) sc2 = loader_load_scenario_text("t.yaml", t2, strlen(t2), &error);
    ck_assert(sc2 == NULL);
}
END_TEST

/* ------------------------------------------------------------------ UDP conntrack cleanup */

/* Adds a confirmed UDP or TCP entry from the client to node:port, DNATed to backend. */
static void
ct_add(CtTable *t, SimProto proto, guint16 sport, const char *node, guint16 port,
       const char *backend, guint16 bport)
{
    SimPacket p = {0};
    sim_addr_parse("203.0.113.10", &p.src.addr);
    p.src.port = sport;
    sim_addr_parse(node, &p.dst.addr);
    p.dst.port = port;
    p.proto = (guint8)proto;
    p.tcp_flags = proto == SIM_PROTO_TCP ? SIM_TCP_SYN : 0;
    CtEntry *e = NULL;
    ck_assert_int_eq(ct_new(t, &p, 0, &e), CT_NEW_OK);
    SimSockAddr to = {.port = bport};
    sim_addr_parse(backend, &to.addr);
    ct_setup_dnat(t, e, &to);
    SimRng rng;
    sim_rng_init(&rng, 1, "test");
    ck_assert(ct_confirm(t, e, &rng));
}

START_TEST(udp_cleanup_deletes_entries_to_endpoints_no_longer_serving)
{
    g_autofree char *text = scenario_text(2, "", "");
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    K8sPod *a = c->pods->pdata[0], *b = c->pods->pdata[1];
    char ia[SIM_ADDR_STRLEN], ib[SIM_ADDR_STRLEN];
    sim_addr_to_string(&a->ip, ia);
    sim_addr_to_string(&b->ip, ib);
    CtConfig cfg;
    ct_config_init(&cfg);
    CtTable *t = ct_table_new(&cfg);
    ct_add(t, SIM_PROTO_UDP, 40000, "192.168.1.101", 30053, ia, 5353);
    ct_add(t, SIM_PROTO_UDP, 40001, "192.168.1.101", 30053, ib, 5353);
    ct_add(t, SIM_PROTO_TCP, 40002, "192.168.1.101", 30080, ib, 8080);
    ct_add(t, SIM_PROTO_UDP, 40003, "192.168.1.101", 31111, ib, 5353); /* not a Service */
    ck_assert_uint_eq(controllers_udp_cleanup(c, t), 0);               /* both serve */
    b->ready = FALSE;
    SimRng rng;
    sim_rng_init(&rng, 1, "names");
    const K8sService *svc = cluster_find_service(c, "default", "web");
    endpointslice_controller_sync_service(c, svc, &rng, NULL);
    ck_assert_uint_eq(controllers_udp_cleanup(c, t), 1); /* only UDP toward b via the Service */
    CtStats st;
    ct_get_stats(t, &st);
    ck_assert_uint_eq(st.current, 3);
    /* No serving endpoint at all: v1.32 skips the Service (issue #139628). */
    a->ready = FALSE;
    endpointslice_controller_sync_service(c, svc, &rng, NULL);
    ck_assert_uint_eq(controllers_udp_cleanup(c, t), 0);
    ct_table_free(t);
}
END_TEST

/* ------------------------------------------------------------------ the node-failure scenario */

/* Runs scenarios/node-failure.yaml (optionally with a --set) and returns its report. */
static RunReport *
run_node_failure(const char *set)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", "node-failure.yaml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    if (set != NULL)
        ck_assert(run_override(sc, set, &error));
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(Run) run = run_new(c, &error);
    ck_assert_msg(run != NULL, "%s", error ? error->message : "");
    run_execute(run, NULL, NULL);
    return run_report(run);
}

/* Failed connections of the first traffic started in seconds [from, to), all targets. */
static guint64
failed_between(const RunReport *r, guint from, guint to, guint64 *sent)
{
    const ReportTraffic *x = r->traffic->pdata[0];
    ck_assert_uint_eq(x->targets->len, 3);
    guint64 failed = 0;
    *sent = 0;
    for (guint s = from; s < to && s < x->outcomes->len; s++) {
        const WorkloadCounts *c = &g_array_index(x->outcomes, WorkloadCounts, s);
        *sent += c->sent;
        failed += c->sent - c->outcomes[WORKLOAD_SUCCEEDED];
    }
    return failed;
}

/* Runs scenarios/NAME.yaml with extra_events appended to its spec.events (nullable) and returns
 * its report. */
static RunReport *
run_scenario_with(const char *name, const char *extra_events)
{
    g_autofree char *file = g_strdup_printf("%s.yaml", name);
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", file, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    if (extra_events != NULL) {
        char *at = strstr(text, "  events:\n");
        ck_assert(at != NULL);
        at += strlen("  events:\n");
        g_autofree char *head = g_strndup(text, (gsize)(at - text));
        g_autofree char *joined = g_strconcat(head, extra_events, at, NULL);
        g_free(text);
        text = g_steal_pointer(&joined);
    }
    g_autoptr(Scenario) sc = loader_load_scenario_text(path, text, strlen(text), &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(Run) run = run_new(c, &error);
    ck_assert_msg(run != NULL, "%s", error ? error->message : "");
    run_execute(run, NULL, NULL);
    return run_report(run);
}

/* Connections of traffic index ti started in seconds [from, to) that ended as outcome. */
static guint64
outcome_between(const RunReport *r, guint ti, WorkloadOutcome outcome, guint from, guint to)
{
    const ReportTraffic *x = r->traffic->pdata[ti];
    guint64 n = 0;
    for (guint s = from; s < to && s < x->outcomes->len; s++)
        n += g_array_index(x->outcomes, WorkloadCounts, s).outcomes[outcome];
    return n;
}

START_TEST(rolling_restart_is_lossless_only_with_a_pre_stop_sleep)
{
    g_autoptr(RunReport) r = run_scenario_with("rolling-restart-local", NULL);
    guint64 lost[2] = {0, 0};
    for (guint t = 0; t < 2; t++)
        for (guint o = 0; o < WORKLOAD_OUTCOMES; o++)
            if (o != WORKLOAD_SUCCEEDED)
                lost[t] += outcome_between(r, t, (WorkloadOutcome)o, 0, 60);
    ck_assert_uint_eq(lost[0], 0);  /* prestop */
    ck_assert_uint_gt(lost[1], 10); /* plain: nginx exits at SIGTERM */
    assert_event_at(r, "rollout-complete", "default/web-prestop", 0, 26);
}
END_TEST

START_TEST(crashed_container_refuses_connections_until_kubelet_restarts_it)
{
    g_autoptr(RunReport) probe = run_scenario_with("scale-up-under-load", NULL);
    const ReportPod *only = probe->pods->pdata[0];
    g_autofree char *crash = g_strdup_printf("    - {at: 5s, podCrash: %s}\n", only->name);
    g_autoptr(RunReport) r = run_scenario_with("scale-up-under-load", crash);
    assert_event_at(r, "pod-crashed", only->name, 0, 5);
    assert_event_at(r, "pod-restarted", only->name, 0, 15);
    ck_assert_uint_eq(outcome_between(r, 0, WORKLOAD_REFUSED, 0, 5), 0);
    ck_assert_uint_gt(outcome_between(r, 0, WORKLOAD_REFUSED, 5, 6), 100); /* RST, not silence */
    ck_assert_uint_eq(outcome_between(r, 0, WORKLOAD_REFUSED, 18, 20), 0); /* Ready again */
}
END_TEST

START_TEST(node_failure_strands_the_dead_nodes_clients_and_half_of_the_others)
{
    g_autoptr(RunReport) r = run_node_failure(NULL);
    ck_assert_int_eq(r->first_fault, 20 * SIM_SEC);
    assert_event_at(r, "node-down", "node2", 0, 20);
    assert_event_at(r, "node-not-ready", "node2", 0, 70);
    assert_event_at(r, "endpoints-updated", "default/nginx-service-nodeport", 0, 71);
    assert_event_at(r, "proxy-synced", "node1", 0, 71);
    assert_event_at(r, "proxy-synced", "node3", 0, 71);
    ck_assert(find_event(r, "proxy-synced", "node2", 0) == NULL); /* dead: no kube-proxy */
    const ReportTraffic *x = r->traffic->pdata[0];
    /* Before the fault everything succeeds. */
    guint64 sent;
    ck_assert_uint_eq(failed_between(r, 0, 20, &sent), 0);
    ck_assert_uint_gt(sent, 800);
    for (guint j = 0; j < 3; j++) {
        const ReportTarget *g = x->targets->pdata[j];
        ck_assert_int_eq(g->fault_fail_first, 20);
        if (strcmp(g->node, "node2") == 0) { /* stranded: fails until the end */
            ck_assert_int_eq(g->fault_fail_last, 119);
            ck_assert_uint_gt(g->fault_failed, 1500);
        } else { /* half of the new connections until kube-proxy drops the dead pod */
            ck_assert_int_ge(g->fault_fail_last, 69);
            ck_assert_int_le(g->fault_fail_last, 71);
        }
    }
    /* Through node1 and node3 about half fail in 21-69 s: of all targets, 1/3 + 2/3 * 1/2. */
    guint64 failed = failed_between(r, 21, 69, &sent);
    ck_assert_msg(failed * 100 > sent * 58 && failed * 100 < sent * 76,
                  "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT, failed, sent);
    /* After the sync only the dead node's address fails: a third. */
    failed = failed_between(r, 72, 120, &sent);
    ck_assert_msg(failed * 100 > sent * 28 && failed * 100 < sent * 39,
                  "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT, failed, sent);
    ck_assert_int_eq(x->recovered, -1); /* the stranded clients never recover */
    ck_assert_int_eq(x->blackhole_start, 20 * SIM_SEC);
    ck_assert_int_eq(x->blackhole_end, 120 * SIM_SEC);
    /* The pod on node2 serves nothing after the fault, the one on node1 everything. */
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        ck_assert_uint_gt(p->connections_before, 400);
        if (strcmp(p->node, "node2") == 0)
            ck_assert_uint_eq(p->connections, p->connections_before);
        else
            ck_assert_uint_gt(p->connections - p->connections_before, 2000);
    }
    /* TCP never retried onto a live pod: failures are timeouts. */
    ck_assert_uint_eq(x->failed.timeout, x->lost);
}
END_TEST

START_TEST(node_failure_grace_period_moves_recovery)
{
    /* With the v1.31 grace period (40 s) the others recover 10 s sooner. */
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", "node-failure.yaml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
    ck_assert(sc != NULL);
    sc->node_monitor_grace = 40 * SIM_SEC;
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert(c != NULL);
    g_autoptr(Run) run = run_new(c, &error);
    ck_assert(run != NULL);
    run_execute(run, NULL, NULL);
    g_autoptr(RunReport) r40 = run_report(run);
    assert_event_at(r40, "node-not-ready", "node2", 0, 60);
    const ReportTraffic *x = r40->traffic->pdata[0];
    for (guint j = 0; j < 3; j++) {
        const ReportTarget *g = x->targets->pdata[j];
        if (strcmp(g->node, "node2") != 0)
            ck_assert_int_le(g->fault_fail_last, 61);
    }
}
END_TEST

START_TEST(set_changes_controller_timings)
{
    g_autoptr(RunReport) r = run_node_failure("controllers.nodeMonitorGracePeriod=30s");
    assert_event_at(r, "node-not-ready", "node2", 0, 50);
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", "node-failure.yaml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
    ck_assert(sc != NULL);
    ck_assert(!run_override(sc, "controllers.nodeMonitorPeriod=0s", &error));
    ck_assert(strstr(error->message, "controllers.nodeMonitorPeriod") != NULL);
}
END_TEST

START_TEST(node_failure_report_is_deterministic_and_written)
{
    g_autoptr(RunReport) a = run_node_failure(NULL);
    g_autoptr(RunReport) b = run_node_failure(NULL);
    g_autoptr(GString) ja = g_string_new(NULL), jb = g_string_new(NULL);
    report_json_write(a, ja);
    report_json_write(b, jb);
    ck_assert_str_eq(ja->str, jb->str);
    ck_assert(strstr(ja->str, "\"disruption\"") != NULL);
    ck_assert(strstr(ja->str, "\"kind\" : \"node-not-ready\"") != NULL);
    g_autoptr(GString) text = g_string_new(NULL);
    report_text_write(a, text);
    ck_assert(strstr(text->str, "Disruption since the first fault at 20s") != NULL);
    ck_assert(strstr(text->str, "node-down           node2") != NULL);
    ck_assert(strstr(text->str, "not recovered") != NULL);
    ck_assert(strstr(text->str, "Second by second, traffic web") != NULL);
    g_autoptr(RunReport) c = run_node_failure("seed=2");
    g_autoptr(GString) jc = g_string_new(NULL);
    report_json_write(c, jc);
    ck_assert_str_ne(ja->str, jc->str);
}
END_TEST

/* Runs scenarios/FILE and returns its report. */
static RunReport *
run_scenario_file(const char *file)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "scenarios", file, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
    ck_assert_msg(sc != NULL, "%s", error ? error->message : "");
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    g_autoptr(Run) run = run_new(c, &error);
    ck_assert_msg(run != NULL, "%s", error ? error->message : "");
    run_execute(run, NULL, NULL);
    return run_report(run);
}

/* The target row of r's first traffic on node, which must exist. */
static const ReportTarget *
target_on_node(const RunReport *r, const char *node)
{
    const ReportTraffic *x = r->traffic->pdata[0];
    for (guint j = 0; j < x->targets->len; j++) {
        const ReportTarget *g = x->targets->pdata[j];
        if (g_strcmp0(g->node, node) == 0)
            return g;
    }
    ck_abort_msg("no target on %s", node);
    return NULL;
}

START_TEST(failover_stops_sending_to_the_dead_nodes_address_and_keeps_probing_it)
{
    g_autoptr(RunReport) pinned = run_node_failure(NULL);
    g_autoptr(RunReport) fo = run_scenario_file("node-failure-failover.yaml");
    const ReportTarget *dead_pinned = target_on_node(pinned, "node2");
    const ReportTarget *dead_fo = target_on_node(fo, "node2");
    /* Pinned round-robin strands a third of the connections on the dead address; failover
     * loses the ones in flight until the first timeouts, then one probe per retryAfter. */
    ck_assert_uint_gt(dead_pinned->fault_failed, 1500);
    ck_assert_msg(dead_fo->fault_failed * 3 < dead_pinned->fault_failed,
                  "%" G_GUINT64_FORMAT " vs %" G_GUINT64_FORMAT, dead_fo->fault_failed,
                  dead_pinned->fault_failed);
    ck_assert_uint_lt(dead_fo->sent, dead_pinned->sent / 2);
    ck_assert_int_ge(dead_fo->fault_fail_last, 80); /* still probed long after the fault */
    const ReportTraffic *xp = pinned->traffic->pdata[0], *xf = fo->traffic->pdata[0];
    ck_assert_uint_eq(xf->sent, xp->sent); /* the same arrivals, spread differently */
    ck_assert_uint_lt(xf->lost, xp->lost);
    ck_assert_uint_gt(xf->succeeded, xp->succeeded);
    /* The same seed gives the same run. */
    g_autoptr(RunReport) again = run_scenario_file("node-failure-failover.yaml");
    g_autoptr(GString) ja = g_string_new(NULL), jb = g_string_new(NULL);
    report_json_write(fo, ja);
    report_json_write(again, jb);
    ck_assert_str_eq(ja->str, jb->str);
}
END_TEST

START_TEST(run_without_events_has_no_fault_sections)
{
    g_autofree char *text = scenario_text(2, "", "");
    g_autoptr(RunReport) r = run_text(text);
    ck_assert_int_eq(r->first_fault, -1);
    ck_assert_uint_eq(r->events->len, 0);
    g_autoptr(GString) j = g_string_new(NULL);
    report_json_write(r, j);
    ck_assert(strstr(j->str, "\"disruption\"") == NULL);
    ck_assert(strstr(j->str, "\"events\"") == NULL);
}
END_TEST

/* The run-time backstop of --max-events (tools/cli.c): when the estimate was too low, the run
 * still stops at the end of the simulated second in which it passed the limit, and says so. */
START_TEST(event_limit_stops_a_run_that_outgrows_it)
{
    const char *traffic = "  clients: [{name: c, address: 203.0.113.10}]\n"
                          "  traffic:\n"
                          "    - {name: web, from: c, to: [192.168.1.101:30080], rate: 200/s}\n";
    g_autofree char *text = scenario_text(2, traffic, "");
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) c = test_cluster_text(text, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(Run) full = run_new(c, &error);
    ck_assert_msg(full != NULL, "%s", error ? error->message : "");
    ck_assert(cli_run_limited(&cmd_run_entry, full, 0)); /* 0: no limit */
    ck_assert(!run_was_stopped(full));
    g_autoptr(RunReport) all = run_report(full);
    g_autoptr(Scenario) sc2 = NULL;
    g_autoptr(Cluster) c2 = test_cluster_text(text, &sc2);
    g_autoptr(Run) limited = run_new(c2, &error);
    guint64 limit = all->events_processed / 10;
    ck_assert(!cli_run_limited(&cmd_run_entry, limited, limit));
    ck_assert(run_was_stopped(limited));
    g_autoptr(RunReport) part = run_report(limited);
    ck_assert_uint_gt(part->events_processed, limit);
    /* 200 connections/s of ~31 events each: one more simulated second is at most ~10k events */
    ck_assert_uint_lt(part->events_processed, limit + 20000);
    ck_assert_uint_lt(part->events_processed, all->events_processed / 2);
}
END_TEST

static Suite *
events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, not_ready_at_first_monitor_check_past_grace);
    tcase_add_test(tc, proxy_sync_waits_for_min_sync_period);
    tcase_add_test(tc, events_compile_sorted_by_time);
    tcase_add_test(tc, unsupported_events_are_refused_not_ignored);
    tcase_add_test(tc, new_events_compile_with_their_fields);
    tcase_add_test(tc, new_events_refuse_bad_fields_with_their_position);
    tcase_add_test(tc, apply_refuses_pods_in_its_manifest);
    tcase_add_test(tc, chain_respects_grace_period_and_min_sync_period);
    tcase_add_test(tc, node_back_within_grace_period_is_never_not_ready);
    tcase_add_test(tc, spec_controllers_timings_are_used);
    tcase_add_test(tc, spec_controllers_rejects_bad_values);
    tcase_add_test(tc, pod_kill_is_replaced_on_a_ready_node);
    tcase_add_test(tc, scale_creates_and_deletes_pods);
    tcase_add_test(tc, eviction_replaces_pods_of_an_unreachable_node);
    tcase_add_test(tc, udp_cleanup_deletes_entries_to_endpoints_no_longer_serving);
    tcase_add_test(tc, node_failure_strands_the_dead_nodes_clients_and_half_of_the_others);
    tcase_add_test(tc, node_failure_grace_period_moves_recovery);
    tcase_add_test(tc, node_failure_report_is_deterministic_and_written);
    tcase_add_test(tc, set_changes_controller_timings);
    tcase_add_test(tc, failover_stops_sending_to_the_dead_nodes_address_and_keeps_probing_it);
    tcase_add_test(tc, run_without_events_has_no_fault_sections);
    tcase_add_test(tc, event_limit_stops_a_run_that_outgrows_it);
    tcase_add_test(tc, rolling_restart_is_lossless_only_with_a_pre_stop_sleep);
    tcase_add_test(tc, crashed_container_refuses_connections_until_kubelet_restarts_it);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(events_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
