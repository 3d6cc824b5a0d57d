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
 *   podKill: POD | {pod: POD, namespace: NS}   the pod dies at once and is deleted (as a
 *                         forced delete); its Deployment replaces it
 *   scale: {deployment: NAME, [namespace: NS,] replicas: N}   the Deployment's replicas;
 *                         removed pods exit at SIGTERM (no preStop hook)
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
} EventKind;

/* One event, ready to apply. */
typedef struct {
    SimTime at;
    EventKind kind;
    char *node;          /* NODE_DOWN, NODE_UP, PROXY_RESTART: the node's name */
    char *namespace_;    /* PATCH_SERVICE, POD_KILL: the namespace ("default" when not given) */
    char *pod;           /* POD_KILL: the pod's name */
    char *deployment;    /* SCALE: the Deployment's name (namespace_ holds its namespace) */
    gint replicas;       /* SCALE: the new replica count */
    char *service;       /* PATCH_SERVICE: the Service's name */
    gboolean set_external_policy, set_internal_policy;
    K8sTrafficPolicy external_policy, internal_policy;
    K8sPos pos;
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
