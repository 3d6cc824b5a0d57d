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

/* Sets every timing of cfg to its default. */
void controllers_config_init(ControllersConfig *cfg);
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
    CONTROLLERS_NODE_DOWN,      /* power lost (event) */
    CONTROLLERS_NODE_UP,        /* power back (event) */
    CONTROLLERS_NODE_NOT_READY, /* node lifecycle controller: Ready=Unknown, pods Ready=false */
    CONTROLLERS_NODE_READY,     /* node lifecycle controller: Ready again */
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
} ControllersRecordKind;

typedef struct {
    SimTime at;
    ControllersRecordKind kind;
    char *subject; /* node name, or "ns/name" of a Service */
    char *detail;  /* (nullable) one short sentence */
} ControllersRecord;

/* The record kind as the report spells it ("node-down", "not-ready", ...). (static) */
const char *controllers_record_kind_name(ControllersRecordKind kind);
/* TRUE for the kinds that are faults the scenario injects (node down, pod killed, scale,
 * patch, kube-proxy restart). */
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
