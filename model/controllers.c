/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane over time: node lifecycle, EndpointSlice updates and kube-proxy syncs
 * after the scenario's events (see model/controllers.h).
 *
 * Every decision is an event of the simulation loop: the events themselves at their times, a
 * node-monitor check per node whose state may change (the checks in between would find
 * nothing to do, so they are not simulated), one EndpointSlice batch endpointUpdateDelay after
 * the first pending change, and one pending sync per kube-proxy.
 */
#include "model/controllers.h"

#include <string.h>

#include "model/endpointslice_controller.h"

typedef struct {
    Controllers *ctl;
    K8sNode *node;
    gboolean powered;
    SimTime not_ready_since; /* -1 while Ready */
    SimEventId monitor;      /* pending node-monitor check */
    SimTime last_sync;       /* -1: none since the start of the run or of kube-proxy */
    SimEventId sync;         /* pending kube-proxy sync */
    gboolean sync_when_up;   /* a change arrived while the node was down */
    SimEventId evict;        /* pending taint-based eviction of its pods */
    guint64 next_ip;         /* host-local IPAM: the offset in the pod CIDR to try next (0:
                                not known yet) */
} CtlNode;

typedef struct {
    Controllers *ctl;
    const RunEvent *event;
} CtlEvent;

struct Controllers {
    Cluster *c;
    SimLoop *loop;
    ControllersConfig cfg;
    const GPtrArray *events;
    ControllersOps ops;
    gpointer data;
    CtlNode *nodes;
    guint n_nodes;
    CtlEvent *pending; /* one per event */
    GPtrArray *log;    /* ControllersRecord* */
    SimRng rng;        /* names of new slices */
    GPtrArray *dirty;  /* K8sService* whose slices need a sync, in discovery order */
    SimEventId endpoints;
    gboolean faulted; /* a fault was recorded */
    GPtrArray *graveyard; /* K8sPod* deleted from the cluster, kept for the caller's pointers */
    GPtrArray *starting;  /* CtlStart*, pods waiting to become Ready */
    SimRng sched_rng;     /* scheduler ties, new pod names */
};

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

/* Appends a log entry at the loop's time; detail is a printf format (nullable). */
static void G_GNUC_PRINTF(4, 5)
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

/* The controllers' state of the node named name, or NULL. */
static CtlNode *
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

/* Every node's kube-proxy learns of a Service or EndpointSlice change. */
static void
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

/* pod changed (readiness, deletion, creation): the Services selecting it get a slice update
 * endpointUpdateDelay from now (one batch for changes that arrive before it). */
static void
controllers_pod_changed(Controllers *ctl, const K8sPod *pod)
{
    for (guint i = 0; i < ctl->c->services->len; i++) {
        K8sService *svc = ctl->c->services->pdata[i];
        if (g_strcmp0(svc->meta.namespace_, pod->meta.namespace_) != 0 ||
            !endpointslice_controller_manages(ctl->c, svc) ||
            !k8s_selector_matches(svc->selector, pod->meta.labels) ||
            g_ptr_array_find(ctl->dirty, svc, NULL))
            continue;
        g_ptr_array_add(ctl->dirty, svc);
    }
    if (ctl->dirty->len > 0 && ctl->endpoints == SIM_EVENT_ID_NONE)
        ctl->endpoints = sim_loop_schedule_after(ctl->loop, ctl->cfg.endpoint_update_delay,
                                                 controllers_endpoints_fire, ctl);
}

/* ------------------------------------------------------------------ pods (ReplicaSet, scheduler) */

/* Pod startups in flight: freed with the controllers. */
typedef struct {
    Controllers *ctl;
    K8sPod *pod;
} CtlStart;

/* A new pod of the same template as src (labels, containers, grace period, owner), called name,
 * not yet placed. (transfer full) */
static K8sPod *
controllers_pod_copy(const K8sPod *src, const char *name)
{
    K8sPod *pod = k8s_pod_new();
    pod->meta.name = g_strdup(name);
    g_free(pod->meta.namespace_);
    pod->meta.namespace_ = g_strdup(src->meta.namespace_);
    pod->meta.pos = src->meta.pos;
    pod->meta.labels = k8s_string_table_new();
    if (src->meta.labels != NULL) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, src->meta.labels);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(pod->meta.labels, g_strdup(k), g_strdup(v));
    }
    for (guint i = 0; i < src->spec.containers->len; i++) {
        const K8sContainer *sc = src->spec.containers->pdata[i];
        K8sContainer *c = k8s_container_new();
        c->name = g_strdup(sc->name);
        for (guint j = 0; sc->ports != NULL && j < sc->ports->len; j++) {
            K8sContainerPort cp = g_array_index(sc->ports, K8sContainerPort, j);
            cp.name = g_strdup(cp.name);
            g_array_append_val(c->ports, cp);
        }
        g_ptr_array_add(pod->spec.containers, c);
    }
    pod->spec.termination_grace = src->spec.termination_grace;
    pod->owner = g_strdup(src->owner);
    return pod;
}

/* Is a pod called ns/name in the cluster or among the deleted ones? */
static gboolean
controllers_name_taken(const Controllers *ctl, const char *ns, const char *name)
{
    const GPtrArray *sets[] = {ctl->c->pods, ctl->graveyard};
    for (guint s = 0; s < G_N_ELEMENTS(sets); s++) {
        for (guint i = 0; i < sets[s]->len; i++) {
            const K8sPod *p = sets[s]->pdata[i];
            if (strcmp(p->meta.name, name) == 0 && g_strcmp0(p->meta.namespace_, ns) == 0)
                return TRUE;
        }
    }
    return FALSE;
}

/* generateName for a sibling of model: its ReplicaSet's name (model's name without the last 5
 * characters) plus 5 random characters of Kubernetes' name alphabet. (transfer full) */
static char *
controllers_sibling_name(Controllers *ctl, const K8sPod *model)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    gsize len = strlen(model->meta.name);
    g_autofree char *base = len > 5 ? g_strndup(model->meta.name, len - 5)
                                    : g_strdup_printf("%s-", model->meta.name);
    for (;;) {
        GString *s = g_string_new(base);
        for (guint i = 0; i < 5; i++)
            g_string_append_c(s, alphabet[sim_rng_below(&ctl->sched_rng, sizeof alphabet - 1)]);
        if (!controllers_name_taken(ctl, model->meta.namespace_, s->str))
            return g_string_free(s, FALSE);
        g_string_free(s, TRUE);
    }
}

/* Pods on node (not being deleted), and those of owner among them. */
static void
controllers_count_pods(const Controllers *ctl, const K8sNode *node, const char *owner,
                       guint *all, guint *group)
{
    *all = *group = 0;
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        const K8sPod *p = ctl->c->pods->pdata[i];
        if (p->terminating || g_strcmp0(p->node_name, node->name) != 0)
            continue;
        (*all)++;
        *group += g_strcmp0(p->owner, owner) == 0;
    }
}

/* kube-scheduler as cluster_build() models it: among Ready, schedulable nodes, the fewest pods of
 * pod's owner, then the fewest pods; ties drawn from the "controllers/scheduler" stream. NULL
 * when no node is eligible. */
static CtlNode *
controllers_schedule(Controllers *ctl, const K8sPod *pod)
{
    guint best_group = G_MAXUINT, best_all = G_MAXUINT, ties = 0;
    g_autofree guint *all = g_new0(guint, ctl->n_nodes), *group = g_new0(guint, ctl->n_nodes);
    for (guint i = 0; i < ctl->n_nodes; i++) {
        const K8sNode *node = ctl->nodes[i].node;
        if (!node->ready || node->unschedulable)
            continue;
        controllers_count_pods(ctl, node, pod->owner, &all[i], &group[i]);
        if (group[i] > best_group || (group[i] == best_group && all[i] > best_all))
            continue;
        ties = (group[i] == best_group && all[i] == best_all) ? ties + 1 : 1;
        best_group = group[i];
        best_all = all[i];
    }
    guint pick = ties > 1 ? (guint)sim_rng_below(&ctl->sched_rng, ties) : 0;
    for (guint i = 0; i < ctl->n_nodes && ties > 0; i++) {
        const K8sNode *node = ctl->nodes[i].node;
        if (node->ready && !node->unschedulable && group[i] == best_group &&
            all[i] == best_all && pick-- == 0)
            return &ctl->nodes[i];
    }
    return NULL;
}

/* host-local IPAM on n: the next free address of its pod CIDR after the last one handed out
 * (wrapping to offset 2; the network, gateway .1 and IPv4 broadcast addresses are never used).
 * FALSE when the range is full. */
static gboolean
controllers_next_ip(Controllers *ctl, CtlNode *n, SimAddr *out)
{
    const SimCidr *cidr = &n->node->pod_cidr;
    guint64 size = sim_cidr_size(cidr);
    guint64 last = cidr->addr.family == SIM_AF_INET ? size - 2 : size - 1;
    if (size < 4)
        return FALSE;
    g_autoptr(GHashTable) used = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    for (guint i = 0; i < ctl->c->pods->len; i++)
        g_hash_table_add(used, &((K8sPod *)ctl->c->pods->pdata[i])->ip);
    if (n->next_ip == 0) { /* after the highest address in use, as after a restart */
        n->next_ip = 2;
        for (guint64 k = 2; k <= last && sim_cidr_nth(cidr, k, out); k++)
            if (g_hash_table_contains(used, out))
                n->next_ip = k + 1;
    }
    for (guint64 tried = 0; tried <= last - 2; tried++, n->next_ip++) {
        if (n->next_ip > last)
            n->next_ip = 2;
        if (sim_cidr_nth(cidr, n->next_ip, out) && !g_hash_table_contains(used, out)) {
            n->next_ip++;
            return TRUE;
        }
    }
    return FALSE;
}

/* A started pod's container runs and its readiness probe passes: Ready. */
static SimTime
controllers_pod_ready_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlStart *st = data;
    Controllers *ctl = st->ctl;
    K8sPod *pod = st->pod;
    st->pod = NULL;
    if (pod == NULL || !g_ptr_array_find(ctl->c->pods, pod, NULL) || pod->terminating)
        return SIM_LOOP_NOMORE;
    const CtlNode *n = controllers_node(ctl, pod->node_name);
    if (n == NULL || !n->powered || !n->node->ready)
        return SIM_LOOP_NOMORE; /* Ready with its node */
    pod->ready = TRUE;
    controllers_record(ctl, CONTROLLERS_POD_READY, pod->meta.name, "on %s", pod->node_name);
    controllers_pod_changed(ctl, pod);
    return SIM_LOOP_NOMORE;
}

/* The ReplicaSet creates a pod like model; the scheduler binds it, kubelet starts it and it is
 * Ready podStartup later. Without an eligible node or a free IP it stays Pending (left out). */
static void
controllers_create_like(Controllers *ctl, const K8sPod *model)
{
    g_autofree char *name = controllers_sibling_name(ctl, model);
    g_autoptr(K8sPod) pod = controllers_pod_copy(model, name);
    CtlNode *n = controllers_schedule(ctl, pod);
    if (n == NULL || !controllers_next_ip(ctl, n, &pod->ip)) {
        controllers_record(ctl, CONTROLLERS_POD_CREATED, name,
                           "Pending: no Ready node with a free pod IP (not simulated further)");
        return;
    }
    pod->node_name = g_strdup(n->node->name);
    pod->ready = FALSE;
    K8sPod *p = g_steal_pointer(&pod);
    g_ptr_array_add(ctl->c->pods, p);
    ctl->ops.pod_added(p, ctl->data);
    char ip[SIM_ADDR_STRLEN];
    controllers_record(ctl, CONTROLLERS_POD_CREATED, p->meta.name, "on %s, IP %s",
                       n->node->name, sim_addr_to_string(&p->ip, ip));
    controllers_pod_changed(ctl, p);
    CtlStart *st = g_new0(CtlStart, 1);
    st->ctl = ctl;
    st->pod = p;
    g_ptr_array_add(ctl->starting, st);
    sim_loop_schedule_after(ctl->loop, ctl->cfg.pod_startup, controllers_pod_ready_fire, st);
}

/* The Deployment owning model wants its replicas: pods of it not being deleted are counted and
 * the missing ones created like model. */
static void
controllers_reconcile(Controllers *ctl, const K8sPod *model)
{
    const K8sDeployment *d = NULL;
    for (guint i = 0; model->owner != NULL && i < ctl->c->deployments->len && d == NULL; i++) {
        const K8sDeployment *x = ctl->c->deployments->pdata[i];
        if (strcmp(x->meta.name, model->owner) == 0 &&
            g_strcmp0(x->meta.namespace_, model->meta.namespace_) == 0)
            d = x;
    }
    if (d == NULL)
        return;
    gint active = 0;
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        const K8sPod *p = ctl->c->pods->pdata[i];
        active += !p->terminating && g_strcmp0(p->owner, model->owner) == 0 &&
                  g_strcmp0(p->meta.namespace_, model->meta.namespace_) == 0;
    }
    for (gint k = active; k < d->replicas; k++)
        controllers_create_like(ctl, model);
}

/* pod leaves the API (kept in the graveyard for pointers); its host goes away. */
static void
controllers_pod_delete(Controllers *ctl, K8sPod *pod, const char *why)
{
    guint index;
    if (!g_ptr_array_find(ctl->c->pods, pod, &index))
        return;
    controllers_pod_changed(ctl, pod);
    g_ptr_array_add(ctl->graveyard, g_ptr_array_steal_index(ctl->c->pods, index));
    ctl->ops.pod_removed(pod, ctl->data);
    controllers_record(ctl, CONTROLLERS_POD_DELETED, pod->meta.name, "%s", why);
}

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
        controllers_pod_changed(ctl, pod);
        g_ptr_array_add(evicted, pod);
    }
    controllers_record(ctl, CONTROLLERS_PODS_EVICTED, n->node->name,
                       "%u pod%s Terminating (NoExecute taint, tolerationSeconds %" G_GINT64_FORMAT
                       ")",
                       evicted->len, evicted->len == 1 ? "" : "s",
                       (gint64)(ctl->cfg.pod_eviction_timeout / SIM_SEC));
    for (guint i = 0; i < evicted->len; i++)
        controllers_reconcile(ctl, evicted->pdata[i]);
    return SIM_LOOP_NOMORE;
}

/* ------------------------------------------------------------------ node lifecycle */

/* Sets the Ready condition of every pod on node that is not being deleted. */
static guint
controllers_mark_pods(Controllers *ctl, const K8sNode *node, gboolean ready)
{
    guint n = 0;
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        K8sPod *pod = ctl->c->pods->pdata[i];
        if (g_strcmp0(pod->node_name, node->name) != 0 || pod->terminating)
            continue;
        pod->ready = ready;
        controllers_pod_changed(ctl, pod);
        n++;
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
    if (ready)
        controllers_record(ctl, CONTROLLERS_NODE_READY, n->node->name,
                           "Ready again; %u pod%s Ready", pods, pods == 1 ? "" : "s");
    else
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

/* patch: the Service's traffic policies change; every kube-proxy syncs. Switching a
 * LoadBalancer Service back to Cluster releases its allocated healthCheckNodePort, as
 * kube-apiserver does. */
static void
controllers_patch(Controllers *ctl, const RunEvent *e)
{
    K8sService *svc = cluster_find_service(ctl->c, e->namespace_, e->service);
    g_autofree char *subject = g_strdup_printf("%s/%s", e->namespace_, e->service);
    GString *what = g_string_new(NULL);
    if (e->set_external_policy) {
        svc->external_policy = e->external_policy;
        if (e->external_policy == K8S_POLICY_CLUSTER && !svc->health_check_node_port_explicit)
            svc->health_check_node_port = 0;
        g_string_append_printf(what, "externalTrafficPolicy: %s",
                               e->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    }
    if (e->set_internal_policy)
        g_string_append_printf(what, "%sinternalTrafficPolicy: %s", what->len ? ", " : "",
                               e->internal_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    if (e->set_internal_policy)
        svc->internal_policy = e->internal_policy;
    controllers_record(ctl, CONTROLLERS_SERVICE_PATCHED, subject, "%s", what->str);
    g_string_free(what, TRUE);
    controllers_proxy_request_all(ctl);
}

/* podKill: the pod dies at once and leaves the API; its Deployment replaces it. */
static void
controllers_pod_kill(Controllers *ctl, const RunEvent *e)
{
    K8sPod *pod = NULL;
    for (guint i = 0; i < ctl->c->pods->len && pod == NULL; i++) {
        K8sPod *p = ctl->c->pods->pdata[i];
        if (strcmp(p->meta.name, e->pod) == 0 && g_strcmp0(p->meta.namespace_, e->namespace_) == 0)
            pod = p;
    }
    if (pod == NULL) {
        controllers_record(ctl, CONTROLLERS_POD_KILLED, e->pod, "already gone");
        return;
    }
    controllers_record(ctl, CONTROLLERS_POD_KILLED, e->pod, "on %s: it stops answering at once",
                       pod->node_name != NULL ? pod->node_name : "no node");
    controllers_pod_delete(ctl, pod, "killed");
    controllers_reconcile(ctl, pod);
}

/* A pod of a Deployment being scaled down, with what the ReplicaSet ranks it by. */
typedef struct {
    K8sPod *pod;
    guint colocated; /* pods of the Deployment on its node */
    guint order;     /* creation order */
} CtlRanked;

/* ActivePodsWithRanks, the parts kpsim models: not Ready before Ready, more pods of the
 * Deployment on the same node first, newer first. */
static gint
controllers_rank_compare(gconstpointer a, gconstpointer b)
{
    const CtlRanked *x = a, *y = b;
    if (x->pod->ready != y->pod->ready)
        return x->pod->ready ? 1 : -1;
    if (x->colocated != y->colocated)
        return x->colocated > y->colocated ? -1 : 1;
    return x->order > y->order ? -1 : x->order < y->order;
}

/* The Deployment's pods not being deleted, ranked for deletion. (transfer full) */
static GArray *
controllers_ranked_pods(Controllers *ctl, const K8sDeployment *d)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(CtlRanked));
    g_autoptr(GHashTable) per_node = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        K8sPod *p = ctl->c->pods->pdata[i];
        if (p->terminating || g_strcmp0(p->owner, d->meta.name) != 0 ||
            g_strcmp0(p->meta.namespace_, d->meta.namespace_) != 0)
            continue;
        CtlRanked r = {p, 0, i};
        g_array_append_val(out, r);
        const char *node = p->node_name != NULL ? p->node_name : "";
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(per_node, node));
        g_hash_table_insert(per_node, (gpointer)node, GUINT_TO_POINTER(n + 1));
    }
    for (guint i = 0; i < out->len; i++) {
        CtlRanked *r = &g_array_index(out, CtlRanked, i);
        const char *node = r->pod->node_name != NULL ? r->pod->node_name : "";
        r->colocated = GPOINTER_TO_UINT(g_hash_table_lookup(per_node, node));
    }
    g_array_sort(out, controllers_rank_compare);
    return out;
}

/* A pod of d to copy from (the cluster's first, else a deleted one), or NULL. */
static const K8sPod *
controllers_model_pod(const Controllers *ctl, const K8sDeployment *d)
{
    const GPtrArray *sets[] = {ctl->c->pods, ctl->graveyard};
    for (guint s = 0; s < G_N_ELEMENTS(sets); s++) {
        for (guint i = 0; i < sets[s]->len; i++) {
            const K8sPod *p = sets[s]->pdata[i];
            if (g_strcmp0(p->owner, d->meta.name) == 0 &&
                g_strcmp0(p->meta.namespace_, d->meta.namespace_) == 0)
                return p;
        }
    }
    return NULL;
}

/* scale: the Deployment's replicas change; missing pods are created, extra ones (ranked as the
 * ReplicaSet does) deleted - they exit at SIGTERM, so new connections the proxies still send
 * them before their next sync time out. */
static void
controllers_scale(Controllers *ctl, const RunEvent *e)
{
    K8sDeployment *d = NULL;
    for (guint i = 0; i < ctl->c->deployments->len && d == NULL; i++) {
        K8sDeployment *x = ctl->c->deployments->pdata[i];
        if (strcmp(x->meta.name, e->deployment) == 0 &&
            g_strcmp0(x->meta.namespace_, e->namespace_) == 0)
            d = x;
    }
    g_autofree char *subject = g_strdup_printf("%s/%s", e->namespace_, e->deployment);
    controllers_record(ctl, CONTROLLERS_DEPLOYMENT_SCALED, subject, "replicas %d -> %d",
                       d->replicas, e->replicas);
    d->replicas = e->replicas;
    g_autoptr(GArray) ranked = controllers_ranked_pods(ctl, d);
    const K8sPod *model = controllers_model_pod(ctl, d);
    if ((gint)ranked->len < d->replicas && model != NULL)
        controllers_reconcile(ctl, model);
    for (gint k = 0; k < (gint)ranked->len - d->replicas; k++)
        controllers_pod_delete(ctl, g_array_index(ranked, CtlRanked, k).pod,
                               "scaled down: exits at SIGTERM");
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
    case EVENT_PATCH_SERVICE:
        controllers_patch(ctl, e);
        break;
    case EVENT_POD_KILL:
        controllers_pod_kill(ctl, e);
        break;
    case EVENT_SCALE:
        controllers_scale(ctl, e);
        break;
    case EVENT_PROXY_RESTART:
        controllers_record(ctl, CONTROLLERS_PROXY_RESTART, e->node,
                           n->powered ? "kube-proxy restarts and syncs"
                                      : "the node is down: nothing restarts");
        if (n->powered) {
            if (n->sync != SIM_EVENT_ID_NONE)
                sim_loop_cancel(loop, n->sync);
            n->sync = SIM_EVENT_ID_NONE;
            n->last_sync = -1;
            controllers_proxy_request(n);
        }
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
    ctl->pending = g_new0(CtlEvent, events->len);
    ctl->log = g_ptr_array_new_with_free_func((GDestroyNotify)controllers_record_free);
    ctl->dirty = g_ptr_array_new();
    ctl->graveyard = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_pod_free);
    ctl->starting = g_ptr_array_new_with_free_func(g_free);
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
    g_ptr_array_unref(ctl->starting);
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
