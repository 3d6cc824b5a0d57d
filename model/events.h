/* SPDX-License-Identifier: Apache-2.0 */
/* The scenario's events (spec.events) as the run time applies them: typed, validated against
 * the cluster, in time order.
 *
 * The loader keeps every event as flattened text (ScenarioItem); events_compile() turns the
 * ones kpsim run simulates into RunEvent values and refuses the others with an error that
 * names the event and what is supported, so a scenario never silently loses an event:
 *   nodeDown: NODE        power loss: the node and its pods stop answering at once
 *   nodeUp: NODE          power back: the node answers again, Ready at the next monitor check
 *   patch: {service: NAME, [namespace: NS,] spec: {externalTrafficPolicy|internalTrafficPolicy:
 *           Cluster|Local}}   a Service change every kube-proxy picks up at its next sync
 *   proxyRestart: NODE    kube-proxy restarts on NODE: a full sync right away
 *   podKill: POD | {pod: POD, [namespace: NS,] [force: true,] [gracePeriodSeconds: N]}
 *                         a plain podKill is `kubectl delete pod`: graceful termination (see
 *                         model/controllers.h); force: true or gracePeriodSeconds: 0 kills it
 *                         at once and deletes it; its Deployment replaces it either way
 *   podCrash: POD | {pod: POD, [namespace: NS]}   the container exits; kubelet restarts it
 *                         after the CrashLoopBackOff delay; the pod keeps its IP
 *   podReady: {pod: POD, [namespace: NS,] ready: true|false}   the readiness probe starts
 *                         passing or failing (the app keeps answering); "ready" is an alias
 *   scale: {deployment: NAME, [namespace: NS,] replicas: N}   the Deployment's replicas
 *   nodeDrain: NODE | {node: NODE, [gracePeriodSeconds: N]}   kubectl drain: cordon, then evict
 *                         every pod gracefully; replacements go to other nodes
 *   nodeUncordon: NODE    kubectl uncordon: schedulable again
 *   patch: {deployment: NAME, [namespace: NS,] spec: {replicas, strategy, template: {metadata:
 *           {labels, annotations}, spec: {terminationGracePeriodSeconds}}}}   a template change
 *                         is a rollout (RollingUpdate or Recreate, as the strategy says)
 *   patch: {service: NAME, ..., spec: {type, selector, ports, sessionAffinity,
 *           sessionAffinityConfig, publishNotReadyAddresses, externalTrafficPolicy,
 *           internalTrafficPolicy}}   a strategic merge patch: ports merge by port number
 *   rolloutRestart: DEPLOYMENT | {deployment: NAME, [namespace: NS]}   kubectl rollout restart:
 *                         the template's restartedAt annotation changes, a rollout follows
 *   apply: FILE | {file: FILE}   kubectl apply -f FILE (relative to the scenario): Services and
 *                         Deployments are created, or replace the ones of the same name
 *   delete: {kind: Service|Deployment|Pod, name: N, [namespace: NS]}   kubectl delete: a
 *                         Deployment's pods and a Pod terminate gracefully
 * Prefix: events_.
 */
#ifndef KPSIM_EVENTS_H
#define KPSIM_EVENTS_H

#include "model/cluster.h"

#define EVENTS_ERROR (events_error_quark())
GQuark events_error_quark(void);
typedef enum {
    EVENTS_ERROR_UNSUPPORTED, /* an event kind kpsim run does not simulate */
    EVENTS_ERROR_INVALID,     /* a supported kind with a bad or unknown field or name */
} EventsError;

typedef enum {
    EVENT_NODE_DOWN,
    EVENT_NODE_UP,
    EVENT_PATCH_SERVICE,
    EVENT_PROXY_RESTART,
    EVENT_POD_KILL,
    EVENT_SCALE,
    EVENT_NODE_DRAIN,
    EVENT_NODE_UNCORDON,
    EVENT_POD_CRASH,
    EVENT_POD_READY,
    EVENT_PATCH_DEPLOYMENT,
    EVENT_ROLLOUT_RESTART,
    EVENT_APPLY,
    EVENT_DELETE,
} EventKind;

/* What delete removes. */
typedef enum {
    EVENTS_DELETE_SERVICE,
    EVENTS_DELETE_DEPLOYMENT,
    EVENTS_DELETE_POD,
} EventsDeleteKind;

/* One event, ready to apply. */
typedef struct {
    SimTime at;
    EventKind kind;
    char *node;       /* NODE_DOWN, NODE_UP, PROXY_RESTART: the node's name */
    char *namespace_; /* PATCH_SERVICE, POD_KILL: the namespace ("default" when not given) */
    char *pod;        /* POD_KILL: the pod's name */
    char *deployment; /* SCALE: the Deployment's name (namespace_ holds its namespace) */
    gint replicas;    /* SCALE: the new replica count */
    char *service;    /* PATCH_SERVICE: the Service's name */
    gboolean set_external_policy, set_internal_policy;
    K8sTrafficPolicy external_policy, internal_policy;
    K8sPos pos;
    /* The fields below were added with the later events. */
    gboolean force; /* POD_KILL: delete at once, no graceful termination */
    SimTime grace;  /* POD_KILL, NODE_DRAIN, DELETE: --grace-period; -1: the pod's own */
    gboolean ready; /* POD_READY: the readiness probe passes */
    /* PATCH_SERVICE: further fields (set_* FALSE: unchanged). selector maps keys to values, ""
     * removing a key (a merge patch); (nullable). */
    GHashTable *selector;
    gboolean set_type, set_affinity, set_affinity_timeout, set_publish_not_ready;
    K8sServiceType type;
    GPtrArray *ports; /* (nullable) K8sServicePort*: spec.ports entries merged by port number
                         (node_port 0: keep or allocate; protocol TCP unless written) */
    gboolean affinity_client_ip, publish_not_ready;
    guint affinity_timeout;
    /* PATCH_DEPLOYMENT (deployment, namespace_): replicas when set_replicas; template label and
     * annotation merges (nullable, "" removes); grace when template_grace >= 0; strategy. */
    gboolean set_replicas;
    GHashTable *template_labels, *template_annotations;
    SimTime template_grace;
    gboolean set_strategy, strategy_recreate;
    gboolean set_max_surge, set_max_unavailable;
    gint max_surge, max_unavailable;
    gboolean max_surge_percent, max_unavailable_percent;
    /* APPLY: the file as written and the objects it holds (owned). */
    char *file;
    GPtrArray *services;    /* K8sService* */
    GPtrArray *deployments; /* K8sDeployment* */
    /* DELETE: what, and its name (namespace_ holds the namespace). */
    EventsDeleteKind delete_kind;
    char *name;
} RunEvent;

void events_free(RunEvent *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RunEvent, events_free)

/* Compiles c's scenario events into RunEvent* (owned by the array), sorted by time, events at
 * the same time in scenario order. Fails with EVENTS_ERROR_UNSUPPORTED for a kind kpsim run does
 * not simulate and EVENTS_ERROR_INVALID for an unknown node or Service, an unknown field or a
 * bad value; messages are "FILE:LINE:COL: error: spec.events[i]: ...". (transfer full) */
GPtrArray *events_compile(const Cluster *c, GError **error);

/* The event's kind as the scenario spells it ("nodeDown", ...). (static) */
const char *events_kind_name(EventKind kind);

#endif
