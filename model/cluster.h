/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster at one moment: nodes, pods, Services and EndpointSlices after the control plane
 * has done its work on a scenario's objects.
 *
 * Stands in for kube-apiserver's allocators (clusterIPs, nodePorts with static/dynamic bands,
 * healthCheckNodePorts) and validation, the node IPAM controller (a /24 per node from
 * clusterCIDR), kube-scheduler (a deterministic spread over Ready nodes), kubelet's pod IPs and
 * readiness, the Deployment controller and the EndpointSlice controller. Leaves out everything
 * that does not change where a packet goes.
 */
#ifndef KPSIM_CLUSTER_H
#define KPSIM_CLUSTER_H

#include "model/scenario.h"
#include "sim/sim_rng.h"

/* What the focused build keeps of a Service it did not build (no EndpointSlices): its
 * endpoints as kube-proxy would count them, for one address family. */
typedef struct {
    SimFamily family;
    guint endpoints;   /* selected pods with an IP of family */
    guint ready;       /* of them Ready (every one under publishNotReadyAddresses) */
    guint local_ready; /* of them Ready and on the focus node */
} ClusterServiceSummary;

typedef struct {
    Scenario *scenario;     /* (transfer none) the definitions, kept for the non-object spec */
    GPtrArray *nodes;       /* K8sNode*, (transfer none) owned by the scenario */
    GPtrArray *pods;        /* K8sPod*, owned: the scenario's Pods and the Deployments' */
    GPtrArray *deployments; /* K8sDeployment*, owned */
    GPtrArray *services;    /* K8sService*, owned */
    GPtrArray *slices;      /* K8sEndpointSlice*, owned: explicit ones and generated ones */
    KubeProxyConfig *proxy; /* (transfer none) &scenario->proxy */
    GPtrArray *warnings;    /* char*, "FILE:LINE:COL: warning: ..." */
    SimTime now;
    GHashTable *node_index;    /* (nullable) node name -> the first K8sNode of that name, built by
                                * cluster_build() for cluster_find_node(); NULL: a scan */
    const K8sNode *focus_node; /* (nullable) cluster_build_focused()'s node */
    GHashTable *summaries;     /* (nullable) K8sService* -> ClusterServiceSummary*: the
                                * Services cluster_build_focused() summarised */
    GArray *summary_block;     /* (nullable) ClusterServiceSummary: summaries' storage, sized
                                * once (its elements never move) */
} Cluster;

/* Builds the cluster from sc, moving sc's objects into it (sc keeps its nodes). Allocates and
 * validates clusterIPs and nodePorts, schedules Deployment pods, assigns pod IPs and writes
 * EndpointSlices. Errors are "FILE:LINE:COLUMN: error: ..." as kubectl would word them. */
Cluster *cluster_build(Scenario *sc, GError **error);
void cluster_free(Cluster *c);

/* The probe a focused build is for: a new connection from `from` to `to` over proto, arriving
 * at the node called node. */
typedef struct {
    const char *node;
    SimAddr from;
    SimSockAddr to;
    SimProto proto;
} ClusterFocus;

/* cluster_build() for one `kpsim trace` in iptables mode: every check, error and warning of
 * the full build, every Service and Deployment and every pod's placement, but K8sPods only
 * for the Deployments the probe's Services select, for the source pod and for the scenario's
 * own pods, and EndpointSlices only for the Services the probe can reach (and any Service a
 * summary could not describe exactly). The other Services get a ClusterServiceSummary
 * (c->summaries), enough for kube_proxy_render() of focus->node to write every rule the
 * probe can visit as the full build's rules have it. Falls back to cluster_build() where that
 * does not hold: another proxy mode, spec.expect (its selectors may need any pod), a focus
 * node that does not exist. Cost: O(pods) for placement, the rest in the focus. (model/
 * cluster_focus.c) (transfer full) */
Cluster *cluster_build_focused(Scenario *sc, const ClusterFocus *focus, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Cluster, cluster_free)

K8sNode *cluster_find_node(const Cluster *c, const char *name);
K8sService *cluster_find_service(const Cluster *c, const char *ns, const char *name);
/* The pod with this IP, or NULL. */
K8sPod *cluster_find_pod_by_ip(const Cluster *c, const SimAddr *ip);
/* The pod / Deployment ns/name, or NULL. Cost: linear in pods / Deployments. (transfer none) */
K8sPod *cluster_find_pod(const Cluster *c, const char *ns, const char *name);
K8sDeployment *cluster_find_deployment(const Cluster *c, const char *ns, const char *name);
/* The EndpointSlices of a Service, in name order. (transfer container) */
GPtrArray *cluster_service_slices(const Cluster *c, const K8sService *svc);
/* TRUE when addr is local to node as the kernel's addrtype LOCAL sees it: the node's addresses
 * and the loopback range. */
gboolean cluster_node_is_local(const Cluster *c, const K8sNode *node, const SimAddr *addr);
/* The node whose pod CIDR holds addr, or NULL. */
K8sNode *cluster_node_for_pod_ip(const Cluster *c, const SimAddr *addr);
/* The interface a pod's veth has on its node ("veth" + 8 hex digits, stable for the pod). */
char *cluster_pod_veth_name(const K8sPod *pod);

#endif
