/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane over time: what kube-controller-manager and every node's kube-proxy do
 * after the scenario's events, with Kubernetes' default timings.
 *
 * Models, as far as they move packets:
 * - the node lifecycle controller (pkg/controller/nodelifecycle, monitorNodeHealth): it checks
 *   nodes every nodeMonitorPeriod (5 s, ticks at 0, 5 s, 10 s ...); a node that stopped
 *   reporting becomes NotReady at the first check at or after down + nodeMonitorGracePeriod
 *   (50 s since v1.32) and its pods Ready=false (MarkPodsNotReady); a node that reports again
 *   becomes Ready at the next check. podEvictionTimeout (tolerationSeconds, 300 s) after
 *   NotReady, taint-based eviction gives its pods a deletionTimestamp (Terminating until the
 *   node returns, when kubelet removes them);
 * - the ReplicaSet controller and kube-scheduler: a Deployment's pods that are killed or
 *   evicted are replaced at once on a Ready node (fewest pods of the Deployment, then fewest
 *   pods), with the next free IP of that node's pod CIDR; the new pod is Ready podStartup
 *   later. scale creates or deletes pods the same way (deleted ones ranked as the ReplicaSet
 *   does, exiting at SIGTERM);
 * - the EndpointSlice controller: endpointUpdateDelay (1 s) after pods or a Service change, it
 *   rewrites the Service's slices (endpoints ready=false, serving=false for NotReady pods);
 * - kube-proxy on every node (BoundedFrequencyRunner): a change schedules a sync, no sooner
 *   than minSyncPeriod (proxy.iptables.minSyncPeriod, 1 s) after the node's previous sync; a
 *   node that is down syncs when it comes back; a restart syncs at once. What a sync does to
 *   the datapath (new rules, UDP conntrack cleanup) is the caller's (ControllersOps).
 * - graceful termination (kubelet, pkg/kubelet/kuberuntime killContainer; datapath-semantics.md
 *   8.3): a pod deleted by scale down, drain, podKill, delete or a rollout gets a
 *   deletionTimestamp; its endpoint turns ready=false, serving=<still Ready>, terminating=true
 *   (the EndpointSlice controller's podToEndpoint) and kube-proxy falls back to such endpoints
 *   only when no ready one is left (KEP-1669, section 6.5). kubelet runs the preStop hook (a sleep,
 *   as kpsim models it), then sends SIGTERM; the app exits at SIGTERM, so it serves new and
 *   in-flight connections until min(preStop, terminationGracePeriodSeconds) and not a moment
 *   longer (with no preStop hook: it stops at once). Then the pod leaves the API;
 * - container crashes (podCrash): the pod keeps its IP and stays bound, Ready=false at once;
 *   kubelet restarts the container after the CrashLoopBackOff delay (10 s, doubling, capped at
 *   300 s, reset once the container ran 10 minutes; pkg/kubelet/kubelet.go
 *   backOffPeriod/MaxContainerBackOff), Ready again podStartup after that;
 * - readiness (podReady): the probe's result is the pod's Ready condition (the app keeps
 *   answering either way);
 * - the Deployment controller (pkg/controller/deployment): replicas, and rollouts after a
 *   template change (rolloutRestart, a patch, apply) - RollingUpdate within maxSurge (rounded
 *   up) and maxUnavailable (rounded down, both 25% by default; both 0 means 1 unavailable) as
 *   rolloutRolling's reconcileNewReplicaSet / reconcileOldReplicaSets do, or Recreate (old pods
 *   gone before new ones start). ReplicaSets are told apart by the pod-template-hash label;
 * - kubectl drain: cordon (spec.unschedulable) then evict every pod of the node at once, each
 *   terminating gracefully; uncordon makes the node schedulable again.
 * Node power (nodeDown/nodeUp) is applied at the event's time through ControllersOps too.
 *
 * Prefix: controllers_. The controllers change the Cluster they are given (node and pod
 * conditions, Services, EndpointSlices) and record what they did in a log (ControllersRecord).
 */
#ifndef KPSIM_CONTROLLERS_H
#define KPSIM_CONTROLLERS_H

#include "model/cluster.h"
#include "model/events.h"
#include "sim/conntrack.h"
#include "sim/sim_loop.h"

/* The controllers' timings; controllers_config_init() sets Kubernetes' defaults. */
typedef struct {
    SimTime node_monitor_period;   /* --node-monitor-period, default 5 s */
    SimTime node_monitor_grace;    /* --node-monitor-grace-period, default 50 s (v1.32+) */
    SimTime pod_eviction_timeout;  /* default tolerationSeconds for unreachable, 300 s */
    SimTime endpoint_update_delay; /* EndpointSlice controller reaction, default 1 s */
    SimTime pod_startup; /* a new pod: created and bound to Ready, default 2 s (not a Kubernetes
                            setting: image pull, container start and readiness probe) */
} ControllersConfig;

#define CONTROLLERS_NODE_MONITOR_PERIOD (5 * SIM_SEC)
#define CONTROLLERS_NODE_MONITOR_GRACE (50 * SIM_SEC)
#define CONTROLLERS_POD_EVICTION_TIMEOUT (300 * SIM_SEC)
#define CONTROLLERS_ENDPOINT_UPDATE_DELAY (1 * SIM_SEC)
#define CONTROLLERS_POD_STARTUP (2 * SIM_SEC)
/* kubelet's CrashLoopBackOff: first delay, cap, and how long a container must run for the
 * back-off to start over (pkg/kubelet/kubelet.go: backOffPeriod 10 s, MaxContainerBackOff 300 s;
 * the reset after 10 minutes is documented in "Pod Lifecycle: Container restarts"). */
#define CONTROLLERS_CRASH_BACKOFF (10 * SIM_SEC)
#define CONTROLLERS_CRASH_BACKOFF_MAX (300 * SIM_SEC)
#define CONTROLLERS_CRASH_BACKOFF_RESET (600 * SIM_SEC)

/* Sets every timing of cfg to its default. */
void controllers_config_init(ControllersConfig *cfg);
/* Sets cfg to the timings of sc's spec.controllers (each defaulted as controllers_config_init()
 * does when the scenario does not set it). */
void controllers_config_from_scenario(ControllersConfig *cfg, const Scenario *sc);
/* When a node that stopped reporting at down becomes NotReady: the first node-monitor check
 * (a multiple of the period) at or after down + grace. */
SimTime controllers_not_ready_at(const ControllersConfig *cfg, SimTime down);
/* When a node that reports again from up on becomes Ready: the first check at or after up. */
SimTime controllers_ready_at(const ControllersConfig *cfg, SimTime up);
/* When kube-proxy syncs for a change at change_at, its previous sync having been at last_sync
 * (negative: never): max(change_at, last_sync + min_sync). */
SimTime controllers_proxy_sync_at(SimTime change_at, SimTime last_sync, SimTime min_sync);

/* What the log records. */
typedef enum {
    CONTROLLERS_NODE_DOWN,         /* power lost (event) */
    CONTROLLERS_NODE_UP,           /* power back (event) */
    CONTROLLERS_NODE_NOT_READY,    /* node lifecycle controller: Ready=Unknown, pods Ready=false */
    CONTROLLERS_NODE_READY,        /* node lifecycle controller: Ready again */
    CONTROLLERS_SERVICE_PATCHED,   /* patch event */
    CONTROLLERS_PROXY_RESTART,     /* proxyRestart event */
    CONTROLLERS_ENDPOINTS_UPDATED, /* EndpointSlice controller rewrote a Service's slices */
    CONTROLLERS_PROXY_SYNCED,      /* a node's kube-proxy programmed new rules */
    CONTROLLERS_POD_KILLED,        /* podKill event */
    CONTROLLERS_PODS_EVICTED,      /* taint-based eviction: a node's pods Terminating */
    CONTROLLERS_POD_CREATED,       /* the ReplicaSet created a pod, the scheduler bound it */
    CONTROLLERS_POD_READY,         /* a new pod became Ready */
    CONTROLLERS_POD_DELETED,       /* a pod left the API */
    CONTROLLERS_DEPLOYMENT_SCALED, /* scale event */
    /* Added with the later events. */
    CONTROLLERS_NODE_DRAINED,       /* nodeDrain event: cordoned, its pods evicted */
    CONTROLLERS_NODE_UNCORDONED,    /* nodeUncordon event */
    CONTROLLERS_POD_TERMINATING,    /* a pod got its deletionTimestamp (graceful deletion) */
    CONTROLLERS_POD_CRASHED,        /* podCrash event: the container exited */
    CONTROLLERS_POD_RESTARTED,      /* kubelet restarted a crashed container */
    CONTROLLERS_POD_PROBE,          /* podReady event: the readiness probe flips */
    CONTROLLERS_DEPLOYMENT_PATCHED, /* patch event on a Deployment, or rolloutRestart */
    CONTROLLERS_ROLLOUT_COMPLETE,   /* a rollout's old pods are all gone and the new ones Ready */
    CONTROLLERS_APPLIED,            /* apply event: one object created or replaced */
    CONTROLLERS_DELETED,            /* delete event */
} ControllersRecordKind;

typedef struct {
    SimTime at;
    ControllersRecordKind kind;
    char *subject; /* node name, or "ns/name" of a Service */
    char *detail;  /* (nullable) one short sentence */
} ControllersRecord;

/* The record kind as the report spells it ("node-down", "not-ready", ...). (static) */
const char *controllers_record_kind_name(ControllersRecordKind kind);
/* TRUE for the kinds that are faults or changes the scenario injects (node down, drain, pod
 * killed or crashed, readiness flip, scale, patch, rollout restart, apply, delete, kube-proxy
 * restart). */
gboolean controllers_record_is_fault(ControllersRecordKind kind);

/* kube-proxy's UDP conntrack cleanup after a sync (v1.32+ reconciler, pkg/proxy/conntrack
 * CleanStaleEntries): deletes from ct every UDP entry whose original destination is a front end
 * of a UDP Service port of c (clusterIP, externalIP or load-balancer IP with the port, or the
 * nodePort, matched by port as upstream does) and whose reply source is not a serving endpoint
 * of that port. Service ports with no serving endpoint are skipped (the v1.32 gap, issue
 * #139628). TCP and SCTP entries are never touched. Returns the entries deleted. Cost:
 * O(endpoints + conntrack entries). */
guint controllers_udp_cleanup(const Cluster *c, CtTable *ct);

/* What the datapath does for the controllers. */
typedef struct {
    /* The node and every pod on it lose (up FALSE) or regain power. */
    void (*power)(const K8sNode *node, gboolean up, gpointer data);
    /* node's kube-proxy syncs: program the rules of the cluster as it is now and clean UDP
     * conntrack entries; returns the entries deleted. */
    guint (*proxy_sync)(const K8sNode *node, gpointer data);
    /* (nullable) Called once, before the first fault is applied (a node down, a patch, a
     * kube-proxy restart). */
    void (*first_fault)(gpointer data);
    /* A pod was created and bound to a node (it has its IP; Ready comes later): its host
     * joins the network. pod stays valid while the controllers live. */
    void (*pod_added)(const K8sPod *pod, gpointer data);
    /* A pod left the API (killed, or evicted and finished by its returning node): its host
     * stops answering for good. */
    void (*pod_removed)(const K8sPod *pod, gpointer data);
    /* (nullable) The pod's container stops (running FALSE: its listeners close and its
     * connections are reset, as when a process exits; the pod keeps its IP and network) or
     * starts again (TRUE). */
    void (*container)(const K8sPod *pod, gboolean running, gpointer data);
} ControllersOps;

typedef struct Controllers Controllers;

/* Controllers for c (which they change; it must outlive them) driven by loop, applying events
 * (RunEvent*, sorted, transfer none: must outlive the controllers). Nodes already synced at
 * time 0. (transfer full) */
Controllers *controllers_new(Cluster *c, SimLoop *loop, const ControllersConfig *cfg,
                             const GPtrArray *events, const ControllersOps *ops, gpointer data);
void controllers_free(Controllers *ctl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Controllers, controllers_free)

/* Schedules every event. Call once, before the loop runs. */
void controllers_start(Controllers *ctl);
/* The log so far, in time order: ControllersRecord*. (transfer none) */
const GPtrArray *controllers_log(const Controllers *ctl);

#endif
