/* SPDX-License-Identifier: Apache-2.0 */
/* Shared internals of cluster_build(): the working state of one build and the steps that
 * cluster.c (nodes, pods, the build itself and lookups), cluster_services.c (Service validation
 * and allocation) and cluster_deployments.c (Deployment pods) call across files.
 *
 * Nothing here is part of the public interface; model/cluster.h is.
 */
#ifndef KPSIM_CLUSTER_PRIVATE_H
#define KPSIM_CLUSTER_PRIVATE_H

#include "model/cluster.h"

/* The working state of one cluster_build() call. */
typedef struct {
    Cluster *c;
    const Scenario *sc;
    GHashTable *node_by_name; /* char* (node's) -> K8sNode* */
    GHashTable *node_index;   /* K8sNode* -> index + 1 */
    guint *pods_on_node;      /* pods per node, by node index */
    guint *group_on_node;     /* scratch: the scheduled pod's group per node, else all 0 */
    gboolean *schedulable;    /* Ready and schedulable, by node index */
    guint sched_leaves;       /* leaves of the scheduler's tree: nodes rounded up to 2^k */
    guint *sched_min;         /* tree (root 1, leaf sched_leaves + i): fewest pods below */
    guint *sched_count;       /* tree: schedulable nodes below holding sched_min pods */
    GArray *sched_scratch;    /* scratch: the distinct nodes of the scheduled pod's group */
    guint64 *next_ip;         /* host-local's next offset in each node's pod CIDR */
    GHashTable *groups;       /* char* spread group -> GArray of guint node indices */
    GHashTable *pod_by_ip;    /* SimAddr* (pod's) -> K8sPod* */
    GHashTable *pod_names;    /* "ns/name" (owned) -> K8sPod* */
    SimRng sched_rng;
} ClusterBuild;

/* Sets error to "FILE:LINE:COL: error: MESSAGE" at pos (the scenario file when pos has none).
 * Returns FALSE. (cluster.c) */
gboolean cluster_fail(GError **error, const Scenario *sc, const K8sPos *pos, const char *format,
                      ...) G_GNUC_PRINTF(4, 5);

/* Validates every Service, then reserves every stated clusterIP and nodePort, then allocates
 * the rest, all in scenario order (cluster_services.c). */
gboolean cluster_build_services(ClusterBuild *b, GError **error);

/* Registers pod's "ns/name"; FALSE when a pod of that name exists (cluster_deployments.c). */
gboolean cluster_add_pod_name(ClusterBuild *b, K8sPod *pod);

/* Validates every Deployment and appends its replicas to the cluster's pods, named
 * "<deployment>-<pod-template-hash>-<5 chars>" with the suffix drawn from the stream
 * "deployment/<name>" (cluster_deployments.c). */
gboolean cluster_build_deployments(ClusterBuild *b, GError **error);

#endif
