/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane over time: node lifecycle, EndpointSlice updates and kube-proxy syncs
 * after the scenario's events (see model/controllers.h).
 *
 * Every decision is an event of the simulation loop: the events themselves at their times, a
 * node-monitor check per node whose state may change (the checks in between would find
 * nothing to do, so they are not simulated), one EndpointSlice batch endpointUpdateDelay after
 * the first pending change, and one pending sync per kube-proxy.
 */
#include "model/controllers_private.h"

#include <string.h>

#include "model/endpointslice_controller.h"
#include "model/allocator.h"

/* See model/controllers.h. */
void
controllers_config_init(ControllersConfig *cfg)
{
    g_return_if_fail(cfg != NULL);
    cfg->node_monitor_period = CONTROLLERS_NODE_MONITOR_PERIOD;
    cfg->node_monitor_grace = CONTROLLERS_NODE_MONITOR_GRACE;
    cfg->pod_eviction_timeout = CONTROLLERS_POD_EVICTION_TIMEOUT;
    cfg->endpoint_update_delay = CONTROLLERS_ENDPOINT_UPDATE_DELAY;
    cfg->pod_startup = CONTROLLERS_POD_STARTUP;
}

/* See model/controllers.h. */
void
controllers_config_from_scenario(ControllersConfig *cfg, const Scenario *sc)
{
    g_return_if_fail(cfg != NULL && sc != NULL);
    controllers_config_init(cfg);
    cfg->node_monitor_period = sc->node_monitor_period;
    cfg->node_monitor_grace = sc->node_monitor_grace;
    cfg->pod_eviction_timeout = sc->pod_eviction_timeout;
    cfg->endpoint_update_delay = sc->endpoint_update_delay;
    cfg->pod_startup = sc->pod_startup;
}

/* The first multiple of period at or after t (t itself when period is 0). */
static SimTime
controllers_tick_at(SimTime period, SimTime t)
{
    if (period <= 0 || t <= 0)
        return MAX(t, 0);
    return (t + period - 1) / period * period;
}

/* See model/controllers.h. */
SimTime
controllers_not_ready_at(const ControllersConfig *cfg, SimTime down)
{
    return controllers_tick_at(cfg->node_monitor_period, down + cfg->node_monitor_grace);
}

/* See model/controllers.h. */
SimTime
controllers_ready_at(const ControllersConfig *cfg, SimTime up)
{
    return controllers_tick_at(cfg->node_monitor_period, up);
}

/* See model/controllers.h. */
SimTime
controllers_proxy_sync_at(SimTime change_at, SimTime last_sync, SimTime min_sync)
{
    if (last_sync < 0)
        return change_at;
    return MAX(change_at, last_sync + min_sync);
}

/* See model/controllers.h. */
const char *
controllers_record_kind_name(ControllersRecordKind kind)
{
    switch (kind) {
    case CONTROLLERS_NODE_DOWN:
        return "node-down";
    case CONTROLLERS_NODE_UP:
        return "node-up";
    case CONTROLLERS_NODE_NOT_READY:
        return "node-not-ready";
    case CONTROLLERS_NODE_READY:
        return "node-ready";
    case CONTROLLERS_SERVICE_PATCHED:
        return "service-patched";
    case CONTROLLERS_PROXY_RESTART:
        return "proxy-restart";
    case CONTROLLERS_ENDPOINTS_UPDATED:
        return "endpoints-updated";
    case CONTROLLERS_PROXY_SYNCED:
        return "proxy-synced";
    case CONTROLLERS_POD_KILLED:
        return "pod-killed";
    case CONTROLLERS_PODS_EVICTED:
        return "pods-evicted";
    case CONTROLLERS_POD_CREATED:
        return "pod-created";
    case CONTROLLERS_POD_READY:
        return "pod-ready";
    case CONTROLLERS_POD_DELETED:
        return "pod-deleted";
    case CONTROLLERS_DEPLOYMENT_SCALED:
        return "deployment-scaled";
    case CONTROLLERS_NODE_DRAINED:
        return "node-drained";
    case CONTROLLERS_NODE_UNCORDONED:
        return "node-uncordoned";
    case CONTROLLERS_POD_TERMINATING:
        return "pod-terminating";
    case CONTROLLERS_POD_CRASHED:
        return "pod-crashed";
    case CONTROLLERS_POD_RESTARTED:
        return "pod-restarted";
    case CONTROLLERS_POD_PROBE:
        return "pod-readiness";
    case CONTROLLERS_DEPLOYMENT_PATCHED:
        return "deployment-patched";
    case CONTROLLERS_ROLLOUT_COMPLETE:
        return "rollout-complete";
    case CONTROLLERS_APPLIED:
        return "applied";
    case CONTROLLERS_DELETED:
        return "deleted";
    }
    return "?";
}

/* See model/controllers.h. */
gboolean
controllers_record_is_fault(ControllersRecordKind kind)
{
    switch (kind) {
    case CONTROLLERS_NODE_DOWN:
    case CONTROLLERS_SERVICE_PATCHED:
    case CONTROLLERS_PROXY_RESTART:
    case CONTROLLERS_POD_KILLED:
    case CONTROLLERS_DEPLOYMENT_SCALED:
    case CONTROLLERS_NODE_DRAINED:
    case CONTROLLERS_POD_CRASHED:
    case CONTROLLERS_POD_PROBE:
    case CONTROLLERS_DEPLOYMENT_PATCHED:
    case CONTROLLERS_APPLIED:
    case CONTROLLERS_DELETED:
        return TRUE;
    case CONTROLLERS_NODE_UP:
    case CONTROLLERS_NODE_NOT_READY:
    case CONTROLLERS_NODE_READY:
    case CONTROLLERS_ENDPOINTS_UPDATED:
    case CONTROLLERS_PROXY_SYNCED:
    case CONTROLLERS_PODS_EVICTED:
    case CONTROLLERS_POD_CREATED:
    case CONTROLLERS_POD_READY:
    case CONTROLLERS_POD_DELETED:
    case CONTROLLERS_NODE_UNCORDONED:
    case CONTROLLERS_POD_TERMINATING:
    case CONTROLLERS_POD_RESTARTED:
    case CONTROLLERS_ROLLOUT_COMPLETE:
        return FALSE;
    }
    return FALSE;
}

/* Frees one log entry. */
static void
controllers_record_free(ControllersRecord *rec)
{
    g_free(rec->subject);
    g_free(rec->detail);
    g_free(rec);
}

/* See controllers_private.h: appends a log entry at the loop's time; detail is a printf format
 * (nullable). */
void
controllers_record(Controllers *ctl, ControllersRecordKind kind, const char *subject,
                   const char *detail, ...)
{
    ControllersRecord *rec = g_new0(ControllersRecord, 1);
    rec->at = sim_loop_now(ctl->loop);
    rec->kind = kind;
    if (controllers_record_is_fault(kind) && !ctl->faulted) {
        ctl->faulted = TRUE;
        if (ctl->ops.first_fault != NULL)
            ctl->ops.first_fault(ctl->data);
    }
    rec->subject = g_strdup(subject);
    if (detail != NULL) {
        va_list ap;
        va_start(ap, detail);
        rec->detail = g_strdup_vprintf(detail, ap);
        va_end(ap);
    }
    g_ptr_array_add(ctl->log, rec);
}

/* See controllers_private.h: the controllers' state of the node named name, or NULL. */
CtlNode *
controllers_node(Controllers *ctl, const char *name)
{
    for (guint i = 0; i < ctl->n_nodes; i++)
        if (g_strcmp0(ctl->nodes[i].node->name, name) == 0)
            return &ctl->nodes[i];
    return NULL;
}

/* ------------------------------------------------------------------ kube-proxy */

/* A node's kube-proxy sync fires: rules of the cluster as it is now (unless the node went down
 * meanwhile: then it syncs when it is back). */
static SimTime
controllers_proxy_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlNode *n = data;
    Controllers *ctl = n->ctl;
    n->sync = SIM_EVENT_ID_NONE;
    if (!n->powered) {
        n->sync_when_up = TRUE;
        return SIM_LOOP_NOMORE;
    }
    guint flushed = ctl->ops.proxy_sync(n->node, ctl->data);
    n->last_sync = sim_loop_now(loop);
    if (flushed > 0)
        controllers_record(ctl, CONTROLLERS_PROXY_SYNCED, n->node->name,
                           "%u stale UDP conntrack entr%s deleted", flushed,
                           flushed == 1 ? "y" : "ies");
    else
        controllers_record(ctl, CONTROLLERS_PROXY_SYNCED, n->node->name, NULL);
    return SIM_LOOP_NOMORE;
}

/* A change reaches n's kube-proxy: a sync is scheduled unless one is pending, no sooner than
 * minSyncPeriod after the previous one. A node that is down syncs once it is back. */
static void
controllers_proxy_request(CtlNode *n)
{
    Controllers *ctl = n->ctl;
    if (!n->powered) {
        n->sync_when_up = TRUE;
        return;
    }
    if (n->sync != SIM_EVENT_ID_NONE)
        return;
    SimTime at = controllers_proxy_sync_at(sim_loop_now(ctl->loop), n->last_sync,
                                           ctl->c->proxy->min_sync_period);
    n->sync = sim_loop_schedule_at(ctl->loop, at, controllers_proxy_fire, n);
}

/* See controllers_private.h: every node's kube-proxy learns of a Service or EndpointSlice
 * change. */
void
controllers_proxy_request_all(Controllers *ctl)
{
    for (guint i = 0; i < ctl->n_nodes; i++)
        controllers_proxy_request(&ctl->nodes[i]);
}

/* ------------------------------------------------------------------ EndpointSlice controller */

/* Ready endpoints and all endpoints of svc's slices. */
static void
controllers_count_endpoints(const Cluster *c, const K8sService *svc, guint *ready, guint *all)
{
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    *ready = *all = 0;
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++) {
            (*all)++;
            *ready += k8s_endpoint_ready(sl->endpoints->pdata[j]);
        }
    }
}

/* The batch of slice updates fires: every dirty Service's slices are rewritten, then every
 * kube-proxy learns of it. */
static SimTime
controllers_endpoints_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    Controllers *ctl = data;
    ctl->endpoints = SIM_EVENT_ID_NONE;
    for (guint i = 0; i < ctl->dirty->len; i++) {
        const K8sService *svc = ctl->dirty->pdata[i];
        endpointslice_controller_sync_service(ctl->c, svc, &ctl->rng, NULL);
        guint ready, all;
        controllers_count_endpoints(ctl->c, svc, &ready, &all);
        g_autofree char *subject = g_strdup_printf("%s/%s", svc->meta.namespace_, svc->meta.name);
        controllers_record(ctl, CONTROLLERS_ENDPOINTS_UPDATED, subject, "%u of %u endpoints ready",
                           ready, all);
    }
    g_ptr_array_set_size(ctl->dirty, 0);
    controllers_proxy_request_all(ctl);
    return SIM_LOOP_NOMORE;
}

/* See controllers_private.h: pod changed (readiness, deletion, creation): the Services
 * selecting it get a slice update endpointUpdateDelay from now (one batch for changes that
 * arrive before it). */
void
controllers_pod_changed(Controllers *ctl, const K8sPod *pod)
{
    for (guint i = 0; i < ctl->c->services->len; i++) {
        K8sService *svc = ctl->c->services->pdata[i];
        if (g_strcmp0(svc->meta.namespace_, pod->meta.namespace_) == 0 &&
            endpointslice_controller_manages(ctl->c, svc) &&
            k8s_selector_matches(svc->selector, pod->meta.labels))
            controllers_service_dirty(ctl, svc);
    }
}

/* See model/controllers_private.h. */
void
controllers_service_dirty(Controllers *ctl, K8sService *svc)
{
    if (!g_ptr_array_find(ctl->dirty, svc, NULL))
        g_ptr_array_add(ctl->dirty, svc);
    if (ctl->endpoints == SIM_EVENT_ID_NONE)
        ctl->endpoints = sim_loop_schedule_after(ctl->loop, ctl->cfg.endpoint_update_delay,
                                                 controllers_endpoints_fire, ctl);
}

/* ------------------------------------------------------------------ node lifecycle */

/* Taint-based eviction (tolerationSeconds after NotReady): the node's pods get a
 * deletionTimestamp (they stay Terminating while the node is unreachable) and their
 * Deployments replace them on Ready nodes. */
static SimTime
controllers_evict_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlNode *n = data;
    Controllers *ctl = n->ctl;
    n->evict = SIM_EVENT_ID_NONE;
    g_autoptr(GPtrArray) evicted = g_ptr_array_new();
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        K8sPod *pod = ctl->c->pods->pdata[i];
        if (g_strcmp0(pod->node_name, n->node->name) != 0 || pod->terminating)
            continue;
        pod->terminating = TRUE;
        pod->deletion_at = sim_loop_now(loop);
        controllers_pod_changed(ctl, pod);
        g_ptr_array_add(evicted, pod);
    }
    controllers_record(ctl, CONTROLLERS_PODS_EVICTED, n->node->name,
                       "%u pod%s Terminating (NoExecute taint, tolerationSeconds %" G_GINT64_FORMAT
                       ")",
                       evicted->len, evicted->len == 1 ? "" : "s",
                       (gint64)(ctl->cfg.pod_eviction_timeout / SIM_SEC));
    for (guint i = 0; i < evicted->len; i++)
        controllers_deployment_sync(ctl, controllers_owner(ctl, evicted->pdata[i]));
    return SIM_LOOP_NOMORE;
}

/* Sets the Ready condition of every pod on node that is not being deleted. */
static guint
controllers_mark_pods(Controllers *ctl, const K8sNode *node, gboolean ready)
{
    guint n = 0;
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        K8sPod *pod = ctl->c->pods->pdata[i];
        if (g_strcmp0(pod->node_name, node->name) != 0 || pod->terminating)
            continue;
        if (ready) { /* kubelet reports again: Ready as its containers and probes say */
            controllers_pod_refresh_ready(ctl, pod);
        } else if (pod->ready) { /* MarkPodsNotReady */
            pod->ready = FALSE;
            controllers_pod_changed(ctl, pod);
        }
        n += pod->ready == ready;
    }
    return n;
}

/* A node-monitor check of one node: it becomes NotReady when it has stopped reporting (it was
 * scheduled at the first check past the grace period), Ready when it reports again. */
static SimTime
controllers_monitor_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlNode *n = data;
    Controllers *ctl = n->ctl;
    n->monitor = SIM_EVENT_ID_NONE;
    gboolean ready = n->powered;
    if (ready == n->node->ready)
        return SIM_LOOP_NOMORE;
    n->node->ready = ready;
    n->not_ready_since = ready ? -1 : sim_loop_now(loop);
    guint pods = controllers_mark_pods(ctl, n->node, ready);
    if (ready) {
        controllers_record(ctl, CONTROLLERS_NODE_READY, n->node->name,
                           "Ready again; %u pod%s Ready", pods, pods == 1 ? "" : "s");
        controllers_deployment_sync_all(ctl); /* Pending replicas can go there now */
    } else
        controllers_record(ctl, CONTROLLERS_NODE_NOT_READY, n->node->name,
                           "no status for %" G_GINT64_FORMAT " s: Ready=Unknown, %u pod%s "
                           "Ready=false",
                           (gint64)(ctl->cfg.node_monitor_grace / SIM_SEC), pods,
                           pods == 1 ? "" : "s");
    if (n->evict != SIM_EVENT_ID_NONE)
        sim_loop_cancel(loop, n->evict);
    n->evict = ready ? SIM_EVENT_ID_NONE
                     : sim_loop_schedule_after(loop, ctl->cfg.pod_eviction_timeout,
                                               controllers_evict_fire, n);
    return SIM_LOOP_NOMORE;
}

/* Schedules n's next relevant node-monitor check at when, replacing a pending one. */
static void
controllers_monitor_at(CtlNode *n, SimTime when)
{
    Controllers *ctl = n->ctl;
    if (n->monitor != SIM_EVENT_ID_NONE)
        sim_loop_cancel(ctl->loop, n->monitor);
    n->monitor = sim_loop_schedule_at(ctl->loop, when, controllers_monitor_fire, n);
}

/* nodeDown: power off; the node lifecycle controller notices after the grace period. */
static void
controllers_node_down(Controllers *ctl, CtlNode *n)
{
    if (!n->powered)
        return;
    n->powered = FALSE;
    ctl->ops.power(n->node, FALSE, ctl->data);
    controllers_record(ctl, CONTROLLERS_NODE_DOWN, n->node->name,
                       "power lost: the node and its pods stop answering");
    if (n->sync != SIM_EVENT_ID_NONE) {
        sim_loop_cancel(ctl->loop, n->sync);
        n->sync = SIM_EVENT_ID_NONE;
        n->sync_when_up = TRUE;
    }
    if (n->node->ready)
        controllers_monitor_at(n, controllers_not_ready_at(&ctl->cfg, sim_loop_now(ctl->loop)));
    else if (n->monitor != SIM_EVENT_ID_NONE) {
        sim_loop_cancel(ctl->loop, n->monitor);
        n->monitor = SIM_EVENT_ID_NONE;
    }
}

/* nodeUp: power on; kube-proxy starts and syncs, the node is Ready at the next check. */
static void
controllers_node_up(Controllers *ctl, CtlNode *n)
{
    if (n->powered)
        return;
    n->powered = TRUE;
    controllers_record(ctl, CONTROLLERS_NODE_UP, n->node->name, "power back");
    for (guint i = ctl->c->pods->len; i-- > 0;) { /* kubelet finishes the evicted pods */
        K8sPod *pod = ctl->c->pods->pdata[i];
        if (pod->terminating && g_strcmp0(pod->node_name, n->node->name) == 0)
            controllers_pod_delete(ctl, pod, "evicted: its node is back and kubelet removes it");
    }
    ctl->ops.power(n->node, TRUE, ctl->data);
    if (n->monitor != SIM_EVENT_ID_NONE) { /* back within the grace period */
        sim_loop_cancel(ctl->loop, n->monitor);
        n->monitor = SIM_EVENT_ID_NONE;
    }
    if (!n->node->ready)
        controllers_monitor_at(n, controllers_ready_at(&ctl->cfg, sim_loop_now(ctl->loop)));
    n->last_sync = -1; /* a fresh kube-proxy: its first sync is not rate-limited */
    n->sync_when_up = FALSE;
    controllers_proxy_request(n);
}

/* ------------------------------------------------------------------ events */

/* podKill: a graceful delete (kubectl delete pod), or with force / grace 0 the pod dies at once
 * and leaves the API; its Deployment replaces it either way. */
static void
controllers_pod_kill(Controllers *ctl, const RunEvent *e)
{
    K8sPod *pod = cluster_find_pod(ctl->c, e->namespace_, e->pod);
    if (pod == NULL) {
        controllers_record(ctl, CONTROLLERS_POD_KILLED, e->pod, "already gone");
        return;
    }
    K8sDeployment *d = controllers_owner(ctl, pod);
    if (e->force) {
        controllers_record(ctl, CONTROLLERS_POD_KILLED, e->pod,
                           "on %s: force-deleted, it stops answering at once",
                           pod->node_name != NULL ? pod->node_name : "no node");
        controllers_pod_delete(ctl, pod, "killed");
    } else {
        controllers_record(ctl, CONTROLLERS_POD_KILLED, e->pod, "on %s: deleted gracefully",
                           pod->node_name != NULL ? pod->node_name : "no node");
        controllers_pod_terminate(ctl, pod, e->grace, "deleted");
    }
    controllers_deployment_sync(ctl, d);
}

/* nodeDrain: cordon, then evict every pod of the node at once (kubectl drain evicts in
 * parallel); each terminates gracefully and its Deployment replaces it on another node. */
static void
controllers_node_drain(Controllers *ctl, CtlNode *n, SimTime grace)
{
    n->node->unschedulable = TRUE;
    g_autoptr(GPtrArray) evicted = g_ptr_array_new();
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        K8sPod *pod = ctl->c->pods->pdata[i];
        if (g_strcmp0(pod->node_name, n->node->name) == 0 && !pod->terminating)
            g_ptr_array_add(evicted, pod);
    }
    controllers_record(ctl, CONTROLLERS_NODE_DRAINED, n->node->name,
                       "cordoned (unschedulable); %u pod%s evicted", evicted->len,
                       evicted->len == 1 ? "" : "s");
    for (guint i = 0; i < evicted->len; i++)
        controllers_pod_terminate(ctl, evicted->pdata[i], grace, "evicted by drain");
    controllers_deployment_sync_all(ctl);
}

/* delete: a Service (its slices go with it), a Deployment (its pods terminate gracefully, none
 * replaced) or a Pod (graceful, replaced by its Deployment). */
static void
controllers_delete(Controllers *ctl, const RunEvent *e)
{
    g_autofree char *subject = g_strdup_printf("%s/%s", e->namespace_, e->name);
    K8sService *svc = cluster_find_service(ctl->c, e->namespace_, e->name);
    K8sPod *pod = cluster_find_pod(ctl->c, e->namespace_, e->name);
    switch (e->delete_kind) {
    case EVENTS_DELETE_SERVICE:
        controllers_record(ctl, CONTROLLERS_DELETED, subject, "Service%s",
                           svc != NULL ? "" : ": already gone");
        if (svc != NULL)
            controllers_delete_service(ctl, svc);
        return;
    case EVENTS_DELETE_DEPLOYMENT:
        controllers_deployment_delete(ctl, e->namespace_, e->name, e->grace);
        return;
    case EVENTS_DELETE_POD:
        controllers_record(ctl, CONTROLLERS_DELETED, subject, "Pod%s",
                           pod != NULL ? "" : ": already gone");
        if (pod != NULL) {
            K8sDeployment *d = controllers_owner(ctl, pod);
            controllers_pod_terminate(ctl, pod, e->grace, "deleted");
            controllers_deployment_sync(ctl, d);
        }
        return;
    }
}

/* A pod event (podCrash, podReady) on a pod that may have left meanwhile. */
static void
controllers_pod_event(Controllers *ctl, const RunEvent *e)
{
    K8sPod *pod = cluster_find_pod(ctl->c, e->namespace_, e->pod);
    if (pod == NULL) {
        controllers_record(
            ctl, e->kind == EVENT_POD_CRASH ? CONTROLLERS_POD_CRASHED : CONTROLLERS_POD_PROBE,
            e->pod, "already gone");
        return;
    }
    if (e->kind == EVENT_POD_CRASH)
        controllers_pod_crash(ctl, pod);
    else
        controllers_pod_probe(ctl, pod, e->ready);
}

/* proxyRestart: kube-proxy restarts on the node and syncs at once (nothing on a dead node). */
static void
controllers_proxy_restart(Controllers *ctl, CtlNode *n)
{
    controllers_record(ctl, CONTROLLERS_PROXY_RESTART, n->node->name,
                       n->powered ? "kube-proxy restarts and syncs"
                                  : "the node is down: nothing restarts");
    if (!n->powered)
        return;
    if (n->sync != SIM_EVENT_ID_NONE)
        sim_loop_cancel(ctl->loop, n->sync);
    n->sync = SIM_EVENT_ID_NONE;
    n->last_sync = -1;
    controllers_proxy_request(n);
}

/* An event's time has come. */
static SimTime
controllers_event_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlEvent *ev = data;
    Controllers *ctl = ev->ctl;
    const RunEvent *e = ev->event;
    CtlNode *n = e->node != NULL ? controllers_node(ctl, e->node) : NULL;
    switch (e->kind) {
    case EVENT_NODE_DOWN:
        controllers_node_down(ctl, n);
        break;
    case EVENT_NODE_UP:
        controllers_node_up(ctl, n);
        break;
    case EVENT_NODE_DRAIN:
        controllers_node_drain(ctl, n, e->grace);
        break;
    case EVENT_NODE_UNCORDON:
        n->node->unschedulable = FALSE;
        controllers_record(ctl, CONTROLLERS_NODE_UNCORDONED, n->node->name, "schedulable again");
        controllers_deployment_sync_all(ctl);
        break;
    case EVENT_PATCH_SERVICE:
        controllers_patch_service(ctl, e);
        break;
    case EVENT_POD_KILL:
        controllers_pod_kill(ctl, e);
        break;
    case EVENT_POD_CRASH:
    case EVENT_POD_READY:
        controllers_pod_event(ctl, e);
        break;
    case EVENT_SCALE:
    case EVENT_PATCH_DEPLOYMENT:
    case EVENT_ROLLOUT_RESTART:
        controllers_deployment_event(ctl, e);
        break;
    case EVENT_APPLY:
        for (guint i = 0; i < e->services->len; i++)
            controllers_apply_service(ctl, e->services->pdata[i]);
        for (guint i = 0; i < e->deployments->len; i++)
            controllers_apply_deployment(ctl, e->deployments->pdata[i]);
        break;
    case EVENT_DELETE:
        controllers_delete(ctl, e);
        break;
    case EVENT_PROXY_RESTART:
        controllers_proxy_restart(ctl, n);
        break;
    }
    return SIM_LOOP_NOMORE;
}

/* ------------------------------------------------------------------ life cycle */

/* See model/controllers.h. */
Controllers *
controllers_new(Cluster *c, SimLoop *loop, const ControllersConfig *cfg, const GPtrArray *events,
                const ControllersOps *ops, gpointer data)
{
    g_return_val_if_fail(c != NULL && loop != NULL && cfg != NULL && events != NULL, NULL);
    g_return_val_if_fail(ops != NULL && ops->power != NULL && ops->proxy_sync != NULL, NULL);
    Controllers *ctl = g_new0(Controllers, 1);
    ctl->c = c;
    ctl->loop = loop;
    ctl->cfg = *cfg;
    ctl->events = events;
    ctl->ops = *ops;
    ctl->data = data;
    ctl->n_nodes = c->nodes->len;
    ctl->nodes = g_new0(CtlNode, ctl->n_nodes);
    for (guint i = 0; i < ctl->n_nodes; i++) {
        CtlNode *n = &ctl->nodes[i];
        n->ctl = ctl;
        n->node = c->nodes->pdata[i];
        n->powered = TRUE;
        n->not_ready_since = -1; /* a node NotReady from the start stays as declared */
        n->last_sync = 0;
    }
    controllers_ipam_init_all(ctl);
    ctl->pending = g_new0(CtlEvent, events->len);
    ctl->log = g_ptr_array_new_with_free_func((GDestroyNotify)controllers_record_free);
    ctl->dirty = g_ptr_array_new();
    ctl->graveyard = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_pod_free);
    ctl->timers = g_ptr_array_new_with_free_func(g_free);
    ctl->pod_state = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    ctl->deploys = g_ptr_array_new();
    ctl->removed_services = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_free);
    ctl->removed_deployments = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_deployment_free);
    for (guint i = 0; i < c->pods->len; i++) { /* a pod declared not Ready fails its probe */
        const K8sPod *pod = c->pods->pdata[i];
        const K8sNode *node = pod->node_name != NULL ? cluster_find_node(c, pod->node_name) : NULL;
        controllers_pod_state(ctl, pod)->probe_failing = !pod->ready && node != NULL && node->ready;
    }
    sim_rng_init(&ctl->sched_rng, c->scenario->seed, "controllers/scheduler");
    sim_rng_init(&ctl->rng, c->scenario->seed, "controllers/endpointslice");
    return ctl;
}

/* See model/controllers.h. Pending loop events point into ctl: free it with (or after) the
 * loop's last run. */
void
controllers_free(Controllers *ctl)
{
    if (ctl == NULL)
        return;
    g_free(ctl->nodes);
    g_free(ctl->pending);
    g_ptr_array_unref(ctl->log);
    g_ptr_array_unref(ctl->dirty);
    g_ptr_array_unref(ctl->graveyard);
    controllers_pods_free(ctl);
    g_ptr_array_unref(ctl->removed_services);
    g_ptr_array_unref(ctl->removed_deployments);
    g_free(ctl);
}

/* See model/controllers.h. */
void
controllers_start(Controllers *ctl)
{
    g_return_if_fail(ctl != NULL);
    for (guint i = 0; i < ctl->events->len; i++) {
        ctl->pending[i] = (CtlEvent){ctl, ctl->events->pdata[i]};
        sim_loop_schedule_at(ctl->loop, ctl->pending[i].event->at, controllers_event_fire,
                             &ctl->pending[i]);
    }
}

/* See model/controllers.h. */
const GPtrArray *
controllers_log(const Controllers *ctl)
{
    g_return_val_if_fail(ctl != NULL, NULL);
    return ctl->log;
}

/* ------------------------------------------------------------------ UDP conntrack cleanup */

/* "ADDR|PORT" (a service IP front end) or "N|PORT" (a nodePort) of the UDP port. (transfer
 * full) */
static char *
controllers_front_key(const SimAddr *addr, guint16 port)
{
    char buf[SIM_ADDR_STRLEN];
    return addr != NULL ? g_strdup_printf("%s|%u", sim_addr_to_string(addr, buf), port)
                        : g_strdup_printf("N|%u", port);
}

/* Does the slice port p carry the service port sp? */
static gboolean
controllers_port_matches(const K8sEndpointPort *p, const K8sServicePort *sp)
{
    const char *a = p->name != NULL ? p->name : "", *b = sp->name != NULL ? sp->name : "";
    return p->protocol == sp->protocol && strcmp(a, b) == 0;
}

/* The serving endpoints "IP:port" of svc's port sp. (transfer full) set of char* */
static GHashTable *
controllers_serving(const Cluster *c, const K8sService *svc, const K8sServicePort *sp)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; sl->ports != NULL && j < sl->ports->len; j++) {
            const K8sEndpointPort *p = sl->ports->pdata[j];
            if (!controllers_port_matches(p, sp))
                continue;
            for (guint k = 0; k < sl->endpoints->len; k++) {
                const K8sEndpoint *e = sl->endpoints->pdata[k];
                if (!k8s_endpoint_serving(e) || e->addresses->len == 0)
                    continue;
                const SimAddr *a = &g_array_index(e->addresses, SimAddr, 0);
                g_hash_table_add(set,
                                 g_strdup_printf("%s:%u", sim_addr_to_string(a, buf), p->port));
            }
        }
    }
    return set;
}

/* Registers every front end of svc's port sp with its serving set (shared, refcounted). */
static void
controllers_add_fronts(GHashTable *fronts, const K8sService *svc, const K8sServicePort *sp,
                       GHashTable *serving)
{
    for (guint i = 0; i < svc->cluster_ips->len; i++)
        g_hash_table_replace(
            fronts, controllers_front_key(&g_array_index(svc->cluster_ips, SimAddr, i), sp->port),
            g_hash_table_ref(serving));
    for (guint i = 0; svc->external_ips != NULL && i < svc->external_ips->len; i++)
        g_hash_table_replace(
            fronts, controllers_front_key(&g_array_index(svc->external_ips, SimAddr, i), sp->port),
            g_hash_table_ref(serving));
    for (guint i = 0; svc->lb_ingress != NULL && i < svc->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *in = svc->lb_ingress->pdata[i];
        if (in->ip.family != SIM_AF_NONE)
            g_hash_table_replace(fronts, controllers_front_key(&in->ip, sp->port),
                                 g_hash_table_ref(serving));
    }
    if (sp->node_port != 0)
        g_hash_table_replace(fronts, controllers_front_key(NULL, sp->node_port),
                             g_hash_table_ref(serving));
}

/* ct_flush predicate: a UDP entry toward a front end whose backend no longer serves. */
static gboolean
controllers_udp_stale(const CtEntry *e, gpointer data)
{
    GHashTable *fronts = data;
    const CtTuple *o = ct_entry_tuple(e, CT_DIR_ORIGINAL), *r = ct_entry_tuple(e, CT_DIR_REPLY);
    if (o->proto != SIM_PROTO_UDP)
        return FALSE;
    g_autofree char *k = controllers_front_key(&o->dst, o->dport);
    GHashTable *serving = g_hash_table_lookup(fronts, k);
    if (serving == NULL) {
        g_free(k);
        k = controllers_front_key(NULL, o->dport);
        serving = g_hash_table_lookup(fronts, k);
    }
    if (serving == NULL)
        return FALSE;
    char buf[SIM_ADDR_STRLEN];
    g_autofree char *backend = g_strdup_printf("%s:%u", sim_addr_to_string(&r->src, buf), r->sport);
    return !g_hash_table_contains(serving, backend);
}

/* See model/controllers.h. */
guint
controllers_udp_cleanup(const Cluster *c, CtTable *ct)
{
    g_return_val_if_fail(c != NULL && ct != NULL, 0);
    g_autoptr(GHashTable) fronts =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
    for (guint i = 0; i < c->services->len; i++) {
        const K8sService *svc = c->services->pdata[i];
        for (guint j = 0; svc->type != K8S_SVC_EXTERNAL_NAME && j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            if (sp->protocol != SIM_PROTO_UDP)
                continue;
            g_autoptr(GHashTable) serving = controllers_serving(c, svc, sp);
            if (g_hash_table_size(serving) > 0)
                controllers_add_fronts(fronts, svc, sp, serving);
        }
    }
    if (g_hash_table_size(fronts) == 0)
        return 0;
    return ct_flush(ct, controllers_udp_stale, fronts);
}
