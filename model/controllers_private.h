/* SPDX-License-Identifier: Apache-2.0 */
/* What model/controllers.c and model/controllers_pods.c share: the controllers' state and the
 * helpers each side calls. Not a public header.
 *
 * controllers.c holds the node lifecycle, EndpointSlice batching, kube-proxy syncs and the
 * events' dispatch; controllers_services.c the Service events; controllers_pods.c holds the pods' life: creation from a Deployment's
 * template, graceful termination, container crashes and kubelet's back-off, readiness, and the
 * Deployment controller's rollouts.
 */
#ifndef KPSIM_CONTROLLERS_PRIVATE_H
#define KPSIM_CONTROLLERS_PRIVATE_H

#include "model/controllers.h"

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
    gboolean faulted;      /* a fault was recorded */
    GPtrArray *graveyard;  /* K8sPod* deleted from the cluster, kept for the caller's pointers */
    GPtrArray *timers;     /* CtlTimer*, pod timers in flight (freed with the controllers) */
    SimRng sched_rng;      /* scheduler ties, new pod names */
    GHashTable *pod_state; /* K8sPod* -> CtlPod* (kubelet's view of each pod it touched) */
    GPtrArray *deploys;    /* CtlDeploy*, one per Deployment (including deleted ones) */
    GPtrArray *removed_services;    /* K8sService* deleted, kept for pointers */
    GPtrArray *removed_deployments; /* K8sDeployment* deleted, kept for pointers */
};

/* A pod timer: startup (Ready), exit after termination, or a container restart. gen must still
 * match the pod's CtlPod.gen when it fires, or it is stale. */
typedef struct {
    Controllers *ctl;
    K8sPod *pod;
    guint gen;
} CtlTimer;

/* kubelet's state of one pod, beyond K8sPod. */
typedef struct {
    gboolean probe_failing; /* podReady false: the readiness probe fails */
    gboolean crashed;       /* the container exited and waits for its restart */
    gboolean starting;      /* created or restarted, its readiness not yet passed */
    guint gen;              /* bumped to cancel pending timers */
    SimTime backoff;        /* the next CrashLoopBackOff delay (0: the first, 10 s) */
    SimTime last_start;     /* when the container last started (-1: at the run's start) */
} CtlPod;

/* A Deployment's rollout state (the ReplicaSets, as their pod-template-hash). */
typedef struct {
    K8sDeployment *d;
    char *hash;              /* the current template's pod-template-hash */
    guint revision;          /* deployment.kubernetes.io/revision */
    GHashTable *annotations; /* the template's annotations (char* -> char*) */
    gboolean rolling;        /* a rollout is in progress */
} CtlDeploy;

/* controllers.c */
void controllers_record(Controllers *ctl, ControllersRecordKind kind, const char *subject,
                        const char *detail, ...) G_GNUC_PRINTF(4, 5);
CtlNode *controllers_node(Controllers *ctl, const char *name);
void controllers_pod_changed(Controllers *ctl, const K8sPod *pod);
void controllers_proxy_request_all(Controllers *ctl);
/* svc's slices need a sync endpointUpdateDelay from now (batched with pending changes). */
void controllers_service_dirty(Controllers *ctl, K8sService *svc);
/* Merges a label-style patch into *map (created when NULL; a "" value removes the key), as a
 * strategic merge patch of labels, selector or annotations does; TRUE when *map changed. */
gboolean controllers_merge_labels(GHashTable **map, GHashTable *patch);

/* controllers_pods.c */
/* kube-scheduler: the node for pod, or NULL when none is eligible. */
CtlNode *controllers_schedule(Controllers *ctl, const K8sPod *pod);
/* host-local IPAM: the next free pod address of n; FALSE when its range is full. */
gboolean controllers_next_ip(Controllers *ctl, CtlNode *n, SimAddr *out);
/* host-local IPAM's state for n from the pods in the cluster now. */
void controllers_ipam_init(Controllers *ctl, CtlNode *n);
/* controllers_ipam_init() for every node that has a pod CIDR, in one pass over the pods. */
void controllers_ipam_init_all(Controllers *ctl);
/* The state kubelet keeps for pod (created on first use). */
CtlPod *controllers_pod_state(Controllers *ctl, const K8sPod *pod);
/* pod leaves the API now (kept in the graveyard for pointers); its host goes away. */
void controllers_pod_delete(Controllers *ctl, K8sPod *pod, const char *why);
/* Graceful deletion: a deletionTimestamp now; the app serves until its preStop hook ends
 * (capped by the grace period: grace >= 0 overrides the pod's), then exits and the pod leaves
 * the API. why goes to the log. Does nothing to a pod already terminating. */
void controllers_pod_terminate(Controllers *ctl, K8sPod *pod, SimTime grace, const char *why);
/* The container of pod exits (podCrash); kubelet restarts it after its back-off. */
void controllers_pod_crash(Controllers *ctl, K8sPod *pod);
/* The readiness probe of pod starts passing (TRUE) or failing. */
void controllers_pod_probe(Controllers *ctl, K8sPod *pod, gboolean passing);
/* Recomputes pod's Ready condition from its node, container and probe (an EndpointSlice update
 * follows a change; nothing is logged); TRUE when it changed. */
gboolean controllers_pod_refresh_ready(Controllers *ctl, K8sPod *pod);
/* The Deployment's state, created for d on first use. */
CtlDeploy *controllers_deploy(Controllers *ctl, K8sDeployment *d);
/* The Deployment named by pod's owner, or NULL. */
K8sDeployment *controllers_owner(Controllers *ctl, const K8sPod *pod);
/* The Deployment controller syncs d: replicas, and a rollout's next step. */
void controllers_deployment_sync(Controllers *ctl, K8sDeployment *d);
/* Every live Deployment syncs (after a node became Ready or schedulable). */
void controllers_deployment_sync_all(Controllers *ctl);
/* d's template changed: a new revision (pod-template-hash) and a rollout. why for the log. */
void controllers_deployment_new_revision(Controllers *ctl, K8sDeployment *d, const char *why);
/* scale, patch of a Deployment, rolloutRestart: replicas, strategy and template changes. */
void controllers_deployment_event(Controllers *ctl, const RunEvent *e);
/* apply of a Deployment: created (its pods follow), or updated like a patch. */
void controllers_apply_deployment(Controllers *ctl, const K8sDeployment *src);
/* delete of the Deployment ns/name: it leaves the cluster, its pods terminate gracefully (grace
 * >= 0 overrides theirs) and are not replaced. */
void controllers_deployment_delete(Controllers *ctl, const char *ns, const char *name,
                                   SimTime grace);
/* Frees the pods side's state (timers, pod and Deployment states). */
void controllers_pods_free(Controllers *ctl);

/* ---- controllers_services.c: the Service events ---- */

/* patch of a Service: the fields change at once; kube-proxy syncs, and the EndpointSlice
 * controller rewrites the slices when the selector or publishNotReadyAddresses changed. */
void controllers_patch_service(Controllers *ctl, const RunEvent *e);
/* Removes svc from the cluster (kept for pointers) with the slices the controller made for it
 * (garbage-collected through their ownerReference); kube-proxy syncs. */
void controllers_delete_service(Controllers *ctl, K8sService *svc);
/* apply of a Service: created, or replacing the one of the same name (keeping its
 * allocations); its slices follow endpointUpdateDelay later, kube-proxy syncs. */
void controllers_apply_service(Controllers *ctl, const K8sService *src);

#endif
