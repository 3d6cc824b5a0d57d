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

/* A slot's node while it has none (Pending). */
#define CLUSTER_NO_NODE G_MAXUINT
/* A slot's deployment for a scenario pod. */
#define CLUSTER_BARE_POD G_MAXUINT

/* One pod as the scheduler and host-local IPAM see it: the build places slots, not K8sPods, so
 * the focused build (cluster_focus.c) can place 150,000 pods without making 150,000 objects
 * (20 bytes each). Slots are in the order of the full build's pods: the scenario's own (slot s
 * is c->pods->pdata[s], which holds its IP), then every Deployment's replicas in Deployment
 * order. */
typedef struct {
    guint deployment; /* index in c->deployments, or CLUSTER_BARE_POD */
    guint group;      /* the spread group's index in ClusterBuild.group_list */
    guint node;       /* node index, or CLUSTER_NO_NODE */
    guint32 ip;       /* a replica's IP as its offset in its node's pod CIDR; 0: none */
    guint8 ready;     /* the pod's Ready condition after placement */
} ClusterSlot;

/* A spread group's placed pods: the node index of each, at [start, start + len) of
 * ClusterBuild.group_pool, with room for cap before the group must move to the pool's end. */
typedef struct {
    guint start;
    guint len;
    guint cap;
} ClusterGroup;

/* The working state of one cluster_build() call. */
typedef struct {
    Cluster *c;
    const Scenario *sc;
    GHashTable *node_by_name;    /* char* (node's) -> K8sNode* */
    GHashTable *node_index;      /* K8sNode* -> index + 1 */
    guint *pods_on_node;         /* pods per node, by node index */
    guint *group_on_node;        /* scratch: the scheduled pod's group per node, else all 0 */
    gboolean *schedulable;       /* Ready and schedulable, by node index */
    gboolean *node_ready;        /* Ready, by node index (an array: a K8sNode per pod placed
                                  * was a cache miss each) */
    gboolean sched_valid;        /* the scheduler's minimum level is up to date (cluster.c) */
    guint sched_min_pods;        /* its pods per node: the fewest of an eligible node */
    guint sched_at_min;          /* its eligible nodes (0: none is eligible) */
    guint *sched_bit;            /* Fenwick tree (1-based) marking its nodes by node index */
    guint sched_top;             /* the highest power of two <= nodes, for its search */
    GArray *sched_scratch;       /* scratch: the distinct nodes of the scheduled pod's group */
    GArray *sched_skip;          /* scratch: those of them on the minimum level */
    guint64 *next_ip;            /* host-local's next offset in each node's pod CIDR */
    guint64 *last_ip;            /* the last offset it hands out there (0: none) */
    GHashTable *groups;          /* char* spread group -> its index + 1 in group_list; only the
                                  * groups a later pod or Deployment may look up */
    GArray *group_list;          /* ClusterGroup by group index */
    GArray *group_pool;          /* guint node indices of the groups' placed pods, see above */
    GHashTable *pod_by_ip;       /* SimAddr* (pod's or slot's) -> K8sPod* (NULL for a slot) */
    gboolean ip_check;           /* a handed-out pod IP may be taken: stated pod IPs or pod CIDRs
                                  * that overlap; FALSE skips pod_by_ip for generated IPs */
    GPtrArray *ip_keys;          /* SimAddr*, owned: pod_by_ip's keys for replicas' IPs */
    GHashTable *pod_names;       /* "ns/name" (owned) -> K8sPod* */
    GArray *slots;               /* ClusterSlot, see above */
    guint first_replica_slot;    /* slots before it are the scenario's pods */
    guint *deployment_slot;      /* by Deployment: the index of its first slot */
    GArray *no_ip;               /* guint pairs (warning index, slot) of replicas that got no IP:
                                  * their warning is written once the pod has a name */
    const gboolean *materialise; /* (nullable) by Deployment: make its pods; NULL: all of them */
    SimRng sched_rng;
} ClusterBuild;

/* Sets error to "FILE:LINE:COL: error: MESSAGE" at pos (the scenario file when pos has none).
 * Returns FALSE. (cluster.c) */
gboolean cluster_fail(GError **error, const Scenario *sc, const K8sPos *pos, const char *format,
                      ...) G_GNUC_PRINTF(4, 5);

/* A hash of a K8sMeta's namespace and name, and their equality: a set of objects by
 * "namespace/name" without building that string (cluster.c). */
guint cluster_meta_hash(gconstpointer meta);
gboolean cluster_meta_equal(gconstpointer a, gconstpointer b);

/* Validates every Service, then reserves every stated clusterIP and nodePort, then allocates
 * the rest, all in scenario order (cluster_services.c). */
gboolean cluster_build_services(ClusterBuild *b, GError **error);

/* Registers pod's "ns/name"; FALSE when a pod of that name exists (cluster_deployments.c). */
gboolean cluster_add_pod_name(ClusterBuild *b, K8sPod *pod);

/* Validates every Deployment and appends a slot per replica (cluster_deployments.c). */
gboolean cluster_build_deployments(ClusterBuild *b, GError **error);

/* The index of the spread group called key, created on first use with room for pods
 * (cluster.c). */
guint cluster_group_index(ClusterBuild *b, const char *key, guint pods);

/* The index of the spread group called key, or G_MAXUINT when there is none (cluster.c). */
guint cluster_group_find(const ClusterBuild *b, const char *key);

/* A new spread group that no key names, with room for pods: for a group nothing will look up
 * (cluster.c). */
guint cluster_group_new(ClusterBuild *b, guint pods);

/* Names the replicas of every Deployment i with want[i] set (want NULL: every Deployment), in
 * Deployment order, each "<deployment>-<pod-template-hash>-<5 chars>" with the suffix drawn from
 * the stream "deployment/<name>" and redrawn while the namespace holds that name. Deployments
 * whose names could collide with a wanted one (the same 58-character generateName base) are
 * named first, so the draws are those of the full build. Returns the names by Deployment
 * (NULL where not named), each a GStrv of its replicas (cluster_deployments.c).
 * (transfer full) */
GPtrArray *cluster_name_deployments(ClusterBuild *b, const gboolean *want);

/* The pod-template-hash of d (cluster_deployments.c). (transfer full) */
char *cluster_pod_template_hash(const K8sDeployment *d);

/* A new pod of Deployment d called name: the template's labels plus pod-template-hash (hash),
 * its containers, grace period and nodeName (cluster_deployments.c). (transfer full) */
K8sPod *cluster_deployment_pod(const K8sDeployment *d, const char *name, const char *hash);

/* The IP of the replica in slot (one of b->slots); FALSE when it has none. */
gboolean cluster_slot_ip(const ClusterBuild *b, const ClusterSlot *slot, SimAddr *out);

/* Places every slot: first those whose nodeName is given, then the others through the
 * scheduler, each getting its IP as it is placed; warns about Pending pods (cluster.c). */
gboolean cluster_place_slots(ClusterBuild *b, GError **error);

/* Makes the pods of the Deployments b->materialise selects (every one when NULL), appends them
 * to c->pods in slot order with their placement, and writes the deferred no-IP warnings
 * (cluster.c). */
void cluster_materialise(ClusterBuild *b);

/* Sets up b for c and sc (the tables every build uses); release with cluster_build_clear()
 * (cluster.c). */
void cluster_build_init(ClusterBuild *b, Cluster *c, Scenario *sc);
void cluster_build_clear(ClusterBuild *b);

/* Moves sc's objects into a new cluster (sc keeps its nodes). (transfer full) (cluster.c) */
Cluster *cluster_new_from(Scenario *sc);

/* Runs node IPAM, Service admission and Deployment validation, then places every pod's slot
 * (cluster.c). */
gboolean cluster_build_place(ClusterBuild *b, GError **error);

#endif
