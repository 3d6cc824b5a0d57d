/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane's work on a loaded scenario: node pod CIDRs, Service validation and
 * allocation, Deployment pods, scheduling, pod IPs and EndpointSlices, plus lookups.
 *
 * Stands in for kube-controller-manager's node IPAM (range allocator: a /24, or /64 for IPv6,
 * per node in node order from clusterCIDR), kube-apiserver's Service validation and allocators
 * (model/allocator.c), the Deployment/ReplicaSet controllers (pods named
 * "<deployment>-<pod-template-hash>-<5 random chars>"), kube-scheduler's default spreading (fewest
 * pods of the same owner, then fewest pods, ties broken at random), the host-local IPAM of a
 * bridge CNI (pod IPs from .2 upward; .1 is the node's gateway), the node lifecycle
 * controller's rule that pods on a NotReady node are not Ready, and the EndpointSlice controller
 * (model/endpointslice_controller.c). Everything is decided once, at build time, from SimRng
 * streams of the scenario's seed. Left out: resource requests, taints and tolerations, affinity,
 * ReplicaSet objects and rollout history.
 *
 * This file holds node IPAM, scheduling, pod IPs, the build itself and the lookups; Service
 * validation and allocation are in cluster_services.c, Deployment pods in cluster_deployments.c.
 */
#include "model/cluster_private.h"

#include <string.h>

#include "model/endpointslice_controller.h"
#include "model/loader.h"

/* ---------------------------------------------------------------- errors */

/* Sets error to "FILE:LINE:COL: error: MESSAGE" at pos (the scenario file when pos has none).
 * Returns FALSE. */
gboolean G_GNUC_PRINTF(4, 5)
    cluster_fail(GError **error, const Scenario *sc, const K8sPos *pos, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    const char *file = pos->file != NULL ? pos->file : sc->file;
    g_set_error(error, LOADER_ERROR, LOADER_ERROR_INVALID, "%s:%u:%u: error: %s", file, pos->line,
                pos->column, msg);
    return FALSE;
}

/* Appends "FILE:LINE:COL: warning: MESSAGE" to the cluster's warnings. */
static void G_GNUC_PRINTF(3, 4)
    cluster_warn(ClusterBuild *b, const K8sPos *pos, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    const char *file = pos->file != NULL ? pos->file : b->sc->file;
    g_ptr_array_add(b->c->warnings,
                    g_strdup_printf("%s:%u:%u: warning: %s", file, pos->line, pos->column, msg));
}

/* ---------------------------------------------------------------- nodes */

/* addr + (index << shift) for an address of either family; FALSE on overflow of the address. */
static gboolean
cluster_addr_add_shifted(const SimAddr *addr, guint64 index, guint shift, SimAddr *out)
{
    guint len = addr->family == SIM_AF_INET6 ? 16 : 4;
    *out = *addr;
    /* Add index << shift byte by byte from the least significant end, carrying upward. */
    guint carry = 0;
    for (guint k = 0; k < len; k++) {
        guint bit = 8 * k; /* weight of byte len-1-k */
        guint64 part = 0;
        if (bit + 8 > shift && bit < shift + 64) {
            gint rel = (gint)bit - (gint)shift;
            part = rel >= 0 ? (index >> rel) & 0xff : (index << -rel) & 0xff;
        }
        guint sum = out->b[len - 1 - k] + (guint)part + carry;
        out->b[len - 1 - k] = (guint8)sum;
        carry = sum >> 8;
    }
    return carry == 0;
}

/* TRUE when the two prefixes share an address. */
static gboolean
cluster_cidrs_overlap(const SimCidr *a, const SimCidr *b)
{
    return sim_cidr_contains(a, &b->addr) || sim_cidr_contains(b, &a->addr);
}

/* TRUE when slot overlaps one of the pod CIDRs (SimCidr) that nodes state. */
static gboolean
cluster_pod_cidr_taken(const GArray *stated, const SimCidr *slot)
{
    for (guint i = 0; i < stated->len; i++) {
        if (cluster_cidrs_overlap(&g_array_index(stated, SimCidr, i), slot))
            return TRUE;
    }
    return FALSE;
}

/* The node IPAM range allocator: every node without a pod CIDR gets the next free /24 (/64 for
 * IPv6) of clusterCIDR, in node order; CIDRs that nodes state are skipped. */
static gboolean
cluster_assign_pod_cidrs(ClusterBuild *b, GError **error)
{
    const SimCidr *cc = &b->sc->cluster_cidr;
    guint node_prefix = cc->addr.family == SIM_AF_INET6 ? 64 : 24;
    guint64 slots = 0;
    if (cc->addr.family != SIM_AF_NONE && cc->prefix <= node_prefix)
        slots = node_prefix - cc->prefix >= 63
                    ? G_MAXUINT64
                    : G_GUINT64_CONSTANT(1) << (node_prefix - cc->prefix);
    guint shift = (cc->addr.family == SIM_AF_INET6 ? 128 : 32) - node_prefix;
    g_autoptr(GArray) stated = g_array_new(FALSE, FALSE, sizeof(SimCidr));
    for (guint i = 0; i < b->c->nodes->len; i++) {
        const K8sNode *n = b->c->nodes->pdata[i];
        if (n->pod_cidr.addr.family != SIM_AF_NONE)
            g_array_append_val(stated, n->pod_cidr);
    }
    char buf[SIM_CIDR_STRLEN];
    guint64 next = 0;
    for (guint i = 0; i < b->c->nodes->len; i++) {
        K8sNode *n = b->c->nodes->pdata[i];
        if (n->pod_cidr.addr.family != SIM_AF_NONE)
            continue;
        SimCidr slot = {.prefix = (guint8)node_prefix};
        gboolean found = FALSE;
        for (; next < slots && !found; next++)
            found = cluster_addr_add_shifted(&cc->addr, next, shift, &slot.addr) &&
                    !cluster_pod_cidr_taken(stated, &slot);
        if (!found)
            return cluster_fail(error, b->sc, &n->pos,
                                "node \"%s\" gets no pod CIDR: clusterCIDR %s has no free /%u "
                                "left for it (CIDRNotAvailable)",
                                n->name, sim_cidr_to_string(cc, buf), node_prefix);
        n->pod_cidr = slot;
    }
    return TRUE;
}

/* Indexes the nodes by name and rejects duplicate names and addresses. */
static gboolean
cluster_index_nodes(ClusterBuild *b, GError **error)
{
    g_autoptr(GHashTable) by_addr = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < b->c->nodes->len; i++) {
        K8sNode *n = b->c->nodes->pdata[i];
        if (g_hash_table_contains(b->node_by_name, n->name))
            return cluster_fail(error, b->sc, &n->pos, "nodes \"%s\" already exists", n->name);
        g_hash_table_insert(b->node_by_name, n->name, n);
        g_hash_table_insert(b->node_index, n, GUINT_TO_POINTER(i + 1));
        for (guint a = 0; a < n->addresses->len; a++) {
            SimAddr *addr = &g_array_index(n->addresses, SimAddr, a);
            const K8sNode *other = g_hash_table_lookup(by_addr, addr);
            if (other != NULL)
                return cluster_fail(error, b->sc, &n->pos,
                                    "node \"%s\": address %s is already the address of node \"%s\"",
                                    n->name, sim_addr_to_string(addr, buf), other->name);
            g_hash_table_insert(by_addr, addr, n);
        }
    }
    return TRUE;
}

/* See cluster_private.h. */
guint
cluster_meta_hash(gconstpointer meta)
{
    const K8sMeta *m = meta;
    return (m->namespace_ != NULL ? g_str_hash(m->namespace_) : 0) * 31 +
           (m->name != NULL ? g_str_hash(m->name) : 0);
}

/* See cluster_private.h. */
gboolean
cluster_meta_equal(gconstpointer a, gconstpointer b)
{
    const K8sMeta *x = a, *y = b;
    return g_strcmp0(x->name, y->name) == 0 && g_strcmp0(x->namespace_, y->namespace_) == 0;
}

/* The index of node in c->nodes. */
static guint
cluster_node_index(const ClusterBuild *b, const K8sNode *node)
{
    guint i = GPOINTER_TO_UINT(g_hash_table_lookup(b->node_index, node));
    g_assert(i > 0);
    return i - 1;
}

/* ---------------------------------------------------------------- pods: scheduling and IPs */

/* TRUE when the scheduler may place pods on node. */
static gboolean
cluster_node_schedulable(const K8sNode *node)
{
    return node->ready && !node->unschedulable;
}

/* See cluster_private.h. A group's part of the pool holds the node index of every pod of the
 * group placed so far (one entry per pod): sparse, so 10,000 groups over 5,000 nodes cost only
 * their pods, and one array for all of them. */
guint
cluster_group_new(ClusterBuild *b, guint pods)
{
    ClusterGroup g = {.start = b->group_pool->len, .len = 0, .cap = pods};
    g_array_set_size(b->group_pool, b->group_pool->len + pods);
    g_array_append_val(b->group_list, g);
    return b->group_list->len - 1;
}

/* See cluster_private.h. */
guint
cluster_group_find(const ClusterBuild *b, const char *key)
{
    guint i = GPOINTER_TO_UINT(g_hash_table_lookup(b->groups, key));
    return i > 0 ? i - 1 : G_MAXUINT;
}

/* See cluster_private.h. */
guint
cluster_group_index(ClusterBuild *b, const char *key, guint pods)
{
    guint i = cluster_group_find(b, key);
    if (i != G_MAXUINT)
        return i;
    i = cluster_group_new(b, pods);
    g_hash_table_insert(b->groups, g_strdup(key), GUINT_TO_POINTER(i + 1));
    return i;
}

/* The node indices of group g's placed pods (transfer none), and their number in *n. */
static const guint *
cluster_group_nodes(const ClusterBuild *b, guint g, guint *n)
{
    const ClusterGroup *grp = &g_array_index(b->group_list, ClusterGroup, g);
    *n = grp->len;
    return grp->len > 0 ? &g_array_index(b->group_pool, guint, grp->start) : NULL;
}

/* Records a pod of group g placed on node i; a full group moves to the pool's end with twice
 * the room. */
static void
cluster_group_push(ClusterBuild *b, guint g, guint i)
{
    ClusterGroup *grp = &g_array_index(b->group_list, ClusterGroup, g);
    if (grp->len == grp->cap) {
        guint start = b->group_pool->len, cap = MAX(4, 2 * grp->cap);
        g_array_set_size(b->group_pool, start + cap);
        guint *pool = (guint *)(void *)b->group_pool->data;
        memcpy(pool + start, pool + grp->start, grp->len * sizeof *pool);
        grp->start = start;
        grp->cap = cap;
    }
    g_array_index(b->group_pool, guint, grp->start + grp->len++) = i;
}

/* The scheduler's index of the eligible (Ready, schedulable) nodes holding the fewest pods,
 * "the minimum level": their number and a Fenwick tree over node index marking them, which
 * answers "how many of them come before node i" and "the k-th of them in node order" in
 * O(log nodes). Pod counts only grow while a build places pods, so the level only loses nodes;
 * once empty, the next query rebuilds it at the new minimum (O(nodes), at most once per
 * minimum). */

/* TRUE when the scheduler may place pods on node i. */
static gboolean
cluster_sched_eligible(const ClusterBuild *b, guint i)
{
    return b->schedulable[i];
}

/* Adds delta to node i's mark in the minimum level's Fenwick tree. */
static void
cluster_sched_bit_add(ClusterBuild *b, guint i, gint delta)
{
    guint n = b->c->nodes->len;
    for (guint k = i + 1; k <= n; k += k & -k)
        b->sched_bit[k] += (guint)delta;
}

/* Recomputes the minimum level from pods_on_node: the fewest pods of an eligible node and
 * which nodes hold that many (none when no node is eligible). */
static void
cluster_sched_rebuild(ClusterBuild *b)
{
    guint n = b->c->nodes->len, min = G_MAXUINT, at = 0;
    for (guint i = 0; i < n; i++) {
        if (cluster_sched_eligible(b, i))
            min = MIN(min, b->pods_on_node[i]);
    }
    memset(b->sched_bit, 0, (n + 1) * sizeof *b->sched_bit);
    for (guint k = 1; k <= n; k++) { /* linear construction: each vertex feeds its parent */
        if (cluster_sched_eligible(b, k - 1) && b->pods_on_node[k - 1] == min) {
            b->sched_bit[k]++;
            at++;
        }
        guint parent = k + (k & -k);
        if (parent <= n)
            b->sched_bit[parent] += b->sched_bit[k];
    }
    b->sched_min_pods = min;
    b->sched_at_min = at;
    b->sched_valid = TRUE;
}

/* Sets up the scheduler's index for b's nodes; built on the first query. */
static void
cluster_sched_init(ClusterBuild *b)
{
    guint n = b->c->nodes->len;
    b->sched_top = 1;
    while (b->sched_top * 2 <= n)
        b->sched_top *= 2;
    /* Past n, up to what cluster_sched_nth() may read, vertices that are never taken. */
    b->sched_bit = g_new0(guint, 2 * b->sched_top);
    for (guint k = n + 1; k < 2 * b->sched_top; k++)
        b->sched_bit[k] = G_MAXUINT;
    b->sched_valid = FALSE;
    b->sched_scratch = g_array_new(FALSE, FALSE, sizeof(guint));
    b->sched_skip = g_array_new(FALSE, FALSE, sizeof(guint));
}

/* Node i (eligible or not) is about to get one more pod: it leaves the minimum level when it
 * was on it, and an emptied level is rebuilt on the next query. */
static void
cluster_sched_placing(ClusterBuild *b, guint i)
{
    if (!b->sched_valid || !cluster_sched_eligible(b, i) || b->pods_on_node[i] != b->sched_min_pods)
        return;
    cluster_sched_bit_add(b, i, -1);
    if (--b->sched_at_min == 0)
        b->sched_valid = FALSE;
}

/* The number of nodes of the minimum level whose index is below i. */
static guint
cluster_sched_rank(const ClusterBuild *b, guint i)
{
    guint rank = 0;
    for (guint k = i; k > 0; k -= k & -k)
        rank += b->sched_bit[k];
    return rank;
}

/* The index of the pick-th (from 0, in node order) node of the minimum level, which has more
 * than pick nodes. */
static guint
cluster_sched_nth(const ClusterBuild *b, guint pick)
{
    guint pos = 0;
    /* Without branches: whether each step is taken is a coin toss the CPU cannot predict. */
    for (guint step = b->sched_top; step > 0; step /= 2) {
        guint below = b->sched_bit[pos + step];
        guint take = below <= pick;
        pos += take * step;
        pick -= take * below;
    }
    return pos; /* the 1-based position pos + 1 */
}

/* A list of node indices in one of the scheduler's scratch arrays. */
typedef struct {
    guint *v;
    guint n;
} ClusterNodeList;

/* The storage of scratch (whose len is its capacity), grown to hold n node indices.
 * (transfer none) */
static guint *
cluster_scratch(GArray *scratch, guint n)
{
    if (scratch->len < n)
        g_array_set_size(scratch, MAX(n, 2 * scratch->len));
    return (guint *)(void *)scratch->data;
}

/* Sorts the (few) entries of list in increasing order and drops repeated ones. */
static void
cluster_node_list_sort_unique(ClusterNodeList *list)
{
    for (guint k = 1; k < list->n; k++) {
        guint v = list->v[k], j = k;
        for (; j > 0 && list->v[j - 1] > v; j--)
            list->v[j] = list->v[j - 1];
        list->v[j] = v;
    }
    guint kept = 0;
    for (guint k = 0; k < list->n; k++) {
        if (kept == 0 || list->v[kept - 1] != list->v[k])
            list->v[kept++] = list->v[k];
    }
    list->n = kept;
}

/* cluster_schedule() through the minimum level, for a pod whose group holds pods on nodes
 * (placed entries, a node once per pod): when a node outside the group is on the level, the
 * fewest pods are the level's and the tie is drawn among its nodes outside the group (the
 * group's are counted out and stepped over), as the scan draws it. Returns FALSE, having drawn
 * nothing, when every node of the level holds a pod of the group (or none is eligible), or
 * when the group spans so many nodes that a scan is cheaper: the scan decides then. */
static gboolean
cluster_schedule_level(ClusterBuild *b, const guint *nodes, guint placed, guint *chosen)
{
    guint64 work = (guint64)placed * 2 * g_bit_storage(b->c->nodes->len);
    if (work >= b->c->nodes->len)
        return FALSE;
    if (!b->sched_valid)
        cluster_sched_rebuild(b);
    ClusterNodeList skip = {cluster_scratch(b->sched_skip, placed), 0};
    for (guint k = 0; k < placed; k++) {
        guint i = nodes[k];
        if (cluster_sched_eligible(b, i) && b->pods_on_node[i] == b->sched_min_pods)
            skip.v[skip.n++] = i;
    }
    cluster_node_list_sort_unique(&skip);
    if (skip.n >= b->sched_at_min)
        return FALSE;
    guint ties = b->sched_at_min - skip.n;
    guint pick = ties > 1 ? (guint)sim_rng_below(&b->sched_rng, ties) : 0;
    for (guint k = 0; k < skip.n && cluster_sched_rank(b, skip.v[k]) <= pick; k++)
        pick++;
    *chosen = cluster_sched_nth(b, pick);
    return TRUE;
}

/* cluster_schedule() by a scan of every node, with group holding the pods of the pod's group
 * per node. Cost: O(nodes). */
static guint
cluster_schedule_scan(ClusterBuild *b, const guint *group)
{
    guint n = b->c->nodes->len, best_group = G_MAXUINT, best_total = G_MAXUINT, ties = 0;
    for (guint i = 0; i < n; i++) {
        guint g = group[i], t = b->pods_on_node[i];
        if (!b->schedulable[i] || g > best_group || (g == best_group && t > best_total))
            continue;
        ties = (g == best_group && t == best_total) ? ties + 1 : 1;
        best_group = g;
        best_total = t;
    }
    guint chosen = CLUSTER_NO_NODE;
    guint pick = ties > 1 ? (guint)sim_rng_below(&b->sched_rng, ties) : 0;
    for (guint i = 0; i < n && ties > 0 && chosen == CLUSTER_NO_NODE; i++) {
        if (b->schedulable[i] && group[i] == best_group && b->pods_on_node[i] == best_total &&
            pick-- == 0)
            chosen = i;
    }
    return chosen;
}

/* The node index for a pod of spread group `group`: among Ready, schedulable nodes, the one
 * with the fewest pods of the group, then the fewest pods; ties drawn from the "scheduler"
 * stream. CLUSTER_NO_NODE when no node is eligible. Cost: O(pods of the group x log nodes)
 * while a node of the minimum level holds none of them, else O(nodes + pods of the group). */
static guint
cluster_schedule(ClusterBuild *b, guint group)
{
    guint placed, chosen;
    const guint *nodes = cluster_group_nodes(b, group, &placed);
    if (cluster_schedule_level(b, nodes, placed, &chosen))
        return chosen;
    ClusterNodeList distinct = {cluster_scratch(b->sched_scratch, placed), 0};
    guint *count = b->group_on_node;
    for (guint k = 0; k < placed; k++) {
        if (count[nodes[k]]++ == 0)
            distinct.v[distinct.n++] = nodes[k];
    }
    chosen = cluster_schedule_scan(b, count);
    for (guint k = 0; k < distinct.n; k++)
        count[distinct.v[k]] = 0;
    return chosen;
}

/* The last offset host-local hands out in a pod CIDR: not the IPv4 broadcast address; 0 for
 * a range too small to hand out any. */
static guint64
cluster_last_pod_ip(const SimCidr *cidr)
{
    guint64 size = sim_cidr_size(cidr);
    if (size < 4)
        return 0;
    return cidr->addr.family == SIM_AF_INET ? size - 2 : size - 1;
}

/* host-local IPAM: the lowest free address of node i's pod CIDR from offset 2 upward (the
 * network address and the gateway .1 are never handed out, nor the IPv4 broadcast address),
 * and its offset. Addresses are only looked up in pod_by_ip when one can be taken
 * (b->ip_check); out (nullable then) is only written when asked for. FALSE when the range is
 * exhausted. */
static gboolean
cluster_next_pod_ip(ClusterBuild *b, guint i, SimAddr *out, guint64 *offset)
{
    const K8sNode *node = b->c->nodes->pdata[i];
    if (out == NULL && !b->ip_check) { /* the offset alone: no address to check */
        if (b->next_ip[i] > b->last_ip[i])
            return FALSE;
        *offset = b->next_ip[i]++;
        return TRUE;
    }
    for (; b->next_ip[i] <= b->last_ip[i]; b->next_ip[i]++) {
        if (!sim_cidr_nth(&node->pod_cidr, b->next_ip[i], out))
            return FALSE;
        if (!b->ip_check || !g_hash_table_contains(b->pod_by_ip, out)) {
            *offset = b->next_ip[i]++;
            return TRUE;
        }
    }
    return FALSE;
}

/* See cluster_private.h. */
gboolean
cluster_slot_ip(const ClusterBuild *b, const ClusterSlot *slot, SimAddr *out)
{
    if (slot->ip == 0)
        return FALSE;
    const K8sNode *node = b->c->nodes->pdata[slot->node];
    return sim_cidr_nth(&node->pod_cidr, slot->ip, out);
}

/* Gives the pod of slot s, placed on node i, the node's next IP: a scenario pod in its own
 * ip, a replica as an offset. FALSE when the node has none left. */
static gboolean
cluster_slot_take_ip(ClusterBuild *b, guint s, guint i)
{
    ClusterSlot *slot = &g_array_index(b->slots, ClusterSlot, s);
    guint64 offset;
    if (s < b->first_replica_slot) {
        K8sPod *pod = b->c->pods->pdata[s];
        if (!cluster_next_pod_ip(b, i, &pod->ip, &offset))
            return FALSE;
        if (b->ip_check)
            g_hash_table_insert(b->pod_by_ip, &pod->ip, pod);
        return TRUE;
    }
    SimAddr ip;
    if (!cluster_next_pod_ip(b, i, b->ip_check ? &ip : NULL, &offset))
        return FALSE;
    g_assert(offset <= G_MAXUINT32); /* a node holds fewer pods than that */
    slot->ip = (guint32)offset;
    if (b->ip_check) {
        SimAddr *key = g_memdup2(&ip, sizeof ip);
        g_ptr_array_add(b->ip_keys, key);
        g_hash_table_insert(b->pod_by_ip, key, NULL);
    }
    return TRUE;
}

/* Warns that the pod of slot s on node i got no IP; a replica's warning waits for its name
 * (cluster_materialise()). */
static void
cluster_warn_no_ip(ClusterBuild *b, guint s, guint i)
{
    const K8sNode *node = b->c->nodes->pdata[i];
    char buf[SIM_CIDR_STRLEN];
    if (s >= b->first_replica_slot) {
        guint pair[2] = {b->c->warnings->len, s};
        g_array_append_vals(b->no_ip, pair, 2);
        g_ptr_array_add(b->c->warnings, NULL);
        return;
    }
    const K8sPod *pod = b->c->pods->pdata[s];
    cluster_warn(b, &pod->meta.pos,
                 "pod \"%s\" on node \"%s\" gets no IP: no IP addresses available in range %s",
                 pod->meta.name, node->name, sim_cidr_to_string(&node->pod_cidr, buf));
}

/* Binds slot s to node i: counts it for spreading, gives it an IP when it has none, and marks
 * it not Ready when the node is NotReady or no IP was left. */
static void
cluster_place_slot(ClusterBuild *b, guint s, guint i)
{
    ClusterSlot *slot = &g_array_index(b->slots, ClusterSlot, s);
    slot->node = i;
    cluster_sched_placing(b, i);
    b->pods_on_node[i]++;
    cluster_group_push(b, slot->group, i);
    gboolean has_ip = s < b->first_replica_slot &&
                      ((const K8sPod *)b->c->pods->pdata[s])->ip.family != SIM_AF_NONE;
    if (!has_ip && !cluster_slot_take_ip(b, s, i)) {
        cluster_warn_no_ip(b, s, i);
        slot->ready = FALSE;
    }
    if (!b->node_ready[i])
        slot->ready = FALSE;
}

/* The nodeName slot s asks for, or NULL. (transfer none) */
static const char *
cluster_slot_wants(const ClusterBuild *b, guint s)
{
    if (s < b->first_replica_slot) {
        const K8sPod *pod = b->c->pods->pdata[s];
        return pod->node_name != NULL ? pod->node_name : pod->spec.node_name;
    }
    const ClusterSlot *slot = &g_array_index(b->slots, ClusterSlot, s);
    const K8sDeployment *d = b->c->deployments->pdata[slot->deployment];
    return d->template_.node_name;
}

/* The error for the first replica of Deployment i asking for a node that does not exist: its
 * name is drawn as the build would draw it. Returns FALSE. */
static gboolean
cluster_fail_replica_node(ClusterBuild *b, guint i, GError **error)
{
    const K8sDeployment *d = b->c->deployments->pdata[i];
    g_autofree gboolean *want = g_new0(gboolean, b->c->deployments->len);
    want[i] = TRUE;
    g_autoptr(GPtrArray) names = cluster_name_deployments(b, want);
    const char *const *mine = names->pdata[i];
    return cluster_fail(error, b->sc, &d->meta.pos,
                        "pod \"%s\": spec.nodeName: node \"%s\" does not exist", mine[0],
                        d->template_.node_name);
}

/* Checks every pod's nodeName and reserves every pod IP a scenario states. */
static gboolean
cluster_check_pods(ClusterBuild *b, GError **error)
{
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < b->c->pods->len; i++) {
        K8sPod *pod = b->c->pods->pdata[i];
        const char *want = pod->node_name != NULL ? pod->node_name : pod->spec.node_name;
        if (want != NULL && !g_hash_table_contains(b->node_by_name, want))
            return cluster_fail(error, b->sc, &pod->meta.pos,
                                "pod \"%s\": spec.nodeName: node \"%s\" does not exist",
                                pod->meta.name, want);
        if (pod->ip.family == SIM_AF_NONE)
            continue;
        const K8sPod *other = g_hash_table_lookup(b->pod_by_ip, &pod->ip);
        if (other != NULL)
            return cluster_fail(error, b->sc, &pod->meta.pos,
                                "pod \"%s\": status.podIP %s is already the IP of pod \"%s\"",
                                pod->meta.name, sim_addr_to_string(&pod->ip, buf),
                                other->meta.name);
        g_hash_table_insert(b->pod_by_ip, &pod->ip, pod);
        b->ip_check = TRUE;
    }
    for (guint i = 0; i < b->c->deployments->len; i++) {
        const K8sDeployment *d = b->c->deployments->pdata[i];
        const char *want = d->template_.node_name;
        if (d->replicas > 0 && want != NULL && !g_hash_table_contains(b->node_by_name, want))
            return cluster_fail_replica_node(b, i, error);
    }
    return TRUE;
}

/* Warns about pods the scheduler could not place: one warning per Deployment (counting the
 * Pending pods by "namespace/owner"), one per bare pod. */
static void
cluster_warn_pending(ClusterBuild *b)
{
    g_autoptr(GHashTable) pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint s = 0; s < b->slots->len; s++) {
        const ClusterSlot *slot = &g_array_index(b->slots, ClusterSlot, s);
        const K8sPod *pod = s < b->first_replica_slot ? b->c->pods->pdata[s] : NULL;
        if (slot->node != CLUSTER_NO_NODE || (pod != NULL && pod->owner == NULL))
            continue;
        const K8sDeployment *d = pod == NULL ? b->c->deployments->pdata[slot->deployment] : NULL;
        char *key = d != NULL ? g_strdup_printf("%s/%s", d->meta.namespace_, d->meta.name)
                              : g_strdup_printf("%s/%s", pod->meta.namespace_, pod->owner);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(pending, key));
        g_hash_table_insert(pending, key, GUINT_TO_POINTER(n + 1));
    }
    guint nodes = b->c->nodes->len;
    for (guint i = 0; g_hash_table_size(pending) > 0 && i < b->c->deployments->len; i++) {
        const K8sDeployment *d = b->c->deployments->pdata[i];
        g_autofree char *key = g_strdup_printf("%s/%s", d->meta.namespace_, d->meta.name);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(pending, key));
        if (n > 0)
            cluster_warn(b, &d->meta.pos,
                         "Deployment \"%s\": %u of %d pods stay Pending: 0/%u nodes are "
                         "available (no node is Ready and schedulable)",
                         d->meta.name, n, d->replicas, nodes);
    }
    for (guint s = 0; s < b->first_replica_slot; s++) {
        const ClusterSlot *slot = &g_array_index(b->slots, ClusterSlot, s);
        const K8sPod *pod = b->c->pods->pdata[s];
        if (pod->owner == NULL && slot->node == CLUSTER_NO_NODE)
            cluster_warn(b, &pod->meta.pos,
                         "pod \"%s\" stays Pending: 0/%u nodes are available (no node is Ready "
                         "and schedulable)",
                         pod->meta.name, nodes);
    }
}

/* Places every slot: first those whose nodeName is given, then the others one at a time through
 * the scheduler, each getting its IP as it is placed. Slots left without a node are Pending: no
 * IP (unless stated) and not Ready. Scenario pods get their placement at once. */
gboolean
cluster_place_slots(ClusterBuild *b, GError **error)
{
    if (!cluster_check_pods(b, error))
        return FALSE;
    GArray *slots = b->slots;
    for (guint s = 0; s < slots->len; s++) {
        const char *want = cluster_slot_wants(b, s);
        if (want != NULL)
            cluster_place_slot(b, s,
                               cluster_node_index(b, g_hash_table_lookup(b->node_by_name, want)));
    }
    for (guint s = 0; s < slots->len; s++) {
        ClusterSlot *slot = &g_array_index(slots, ClusterSlot, s);
        if (slot->node != CLUSTER_NO_NODE)
            continue;
        guint i = cluster_schedule(b, slot->group);
        if (i != CLUSTER_NO_NODE)
            cluster_place_slot(b, s, i);
        else
            slot->ready = FALSE;
    }
    for (guint s = 0; s < b->first_replica_slot; s++) {
        ClusterSlot *slot = &g_array_index(slots, ClusterSlot, s);
        K8sPod *pod = b->c->pods->pdata[s];
        const K8sNode *node = slot->node != CLUSTER_NO_NODE ? b->c->nodes->pdata[slot->node] : NULL;
        if (node != NULL && g_strcmp0(pod->node_name, node->name) != 0) {
            g_free(pod->node_name);
            pod->node_name = g_strdup(node->name);
        }
        pod->ready = slot->ready;
    }
    cluster_warn_pending(b);
    return TRUE;
}

/* The pods of Deployment i, named names, with their slots' placement, appended to c->pods. */
static void
cluster_materialise_deployment(ClusterBuild *b, guint i, char **names)
{
    const K8sDeployment *d = b->c->deployments->pdata[i];
    g_autofree char *hash = cluster_pod_template_hash(d);
    for (gint r = 0; r < d->replicas; r++) {
        const ClusterSlot *slot =
            &g_array_index(b->slots, ClusterSlot, b->deployment_slot[i] + (guint)r);
        K8sPod *pod = cluster_deployment_pod(d, names[r], hash);
        if (slot->node != CLUSTER_NO_NODE) {
            const K8sNode *node = b->c->nodes->pdata[slot->node];
            g_free(pod->node_name);
            pod->node_name = g_strdup(node->name);
        }
        cluster_slot_ip(b, slot, &pod->ip);
        pod->ready = slot->ready;
        g_ptr_array_add(b->c->pods, pod);
    }
}

/* Makes the pods of the Deployments b->materialise selects and of those with a replica that
 * got no IP (whose warning needs its name), and writes those warnings; see
 * cluster_private.h. */
void
cluster_materialise(ClusterBuild *b)
{
    guint n = b->c->deployments->len;
    g_autofree gboolean *want = NULL;
    if (b->materialise != NULL) {
        want = g_memdup2(b->materialise, sizeof(gboolean) * MAX(n, 1));
        for (guint k = 0; k < b->no_ip->len; k += 2) {
            guint s = g_array_index(b->no_ip, guint, k + 1);
            want[g_array_index(b->slots, ClusterSlot, s).deployment] = TRUE;
        }
    }
    g_autoptr(GPtrArray) names = cluster_name_deployments(b, want);
    for (guint i = 0; i < n; i++) {
        if (want == NULL || want[i])
            cluster_materialise_deployment(b, i, names->pdata[i]);
    }
    for (guint k = 0; k < b->no_ip->len; k += 2) {
        guint w = g_array_index(b->no_ip, guint, k), s = g_array_index(b->no_ip, guint, k + 1);
        const ClusterSlot *slot = &g_array_index(b->slots, ClusterSlot, s);
        const K8sDeployment *d = b->c->deployments->pdata[slot->deployment];
        const K8sNode *node = b->c->nodes->pdata[slot->node];
        const char *const *mine = names->pdata[slot->deployment];
        guint replica = s - b->deployment_slot[slot->deployment];
        char buf[SIM_CIDR_STRLEN];
        const char *file = d->meta.pos.file != NULL ? d->meta.pos.file : b->sc->file;
        b->c->warnings->pdata[w] = g_strdup_printf(
            "%s:%u:%u: warning: pod \"%s\" on node \"%s\" gets no IP: no IP addresses available "
            "in range %s",
            file, d->meta.pos.line, d->meta.pos.column, mine[replica], node->name,
            sim_cidr_to_string(&node->pod_cidr, buf));
    }
}

/* ---------------------------------------------------------------- build */

/* Moves the objects of array *from into a new array with the same free function, leaving an
 * empty array (with that free function) in *from. (transfer full) */
static GPtrArray *
cluster_steal_array(GPtrArray **from, GDestroyNotify free_func)
{
    GPtrArray *taken = g_steal_pointer(from);
    *from = g_ptr_array_new_with_free_func(free_func);
    return taken;
}

/* Registers the names of the scenario's pods (duplicates are errors) and gives each a slot in
 * its spread group: its owner's, or its namespace and labels. */
static gboolean
cluster_index_pods(ClusterBuild *b, GError **error)
{
    for (guint i = 0; i < b->c->pods->len; i++) {
        K8sPod *pod = b->c->pods->pdata[i];
        if (!cluster_add_pod_name(b, pod))
            return cluster_fail(error, b->sc, &pod->meta.pos, "pods \"%s\" already exists",
                                pod->meta.name);
        g_autofree char *labels = k8s_labels_to_string(pod->meta.labels);
        g_autofree char *key =
            pod->owner != NULL ? g_strdup_printf("owner:%s/%s", pod->meta.namespace_, pod->owner)
                               : g_strdup_printf("labels:%s/%s", pod->meta.namespace_, labels);
        ClusterSlot slot = {.deployment = CLUSTER_BARE_POD,
                            .group = cluster_group_index(b, key, 1),
                            .node = CLUSTER_NO_NODE,
                            .ready = pod->ready != FALSE};
        g_array_append_val(b->slots, slot);
    }
    b->first_replica_slot = b->slots->len;
    return TRUE;
}

/* TRUE when two nodes' pod CIDRs share an address. Called before the range allocator runs,
 * which never hands out an overlapping one, so only the stated CIDRs are compared.
 * Conservative past 64 stated CIDRs. */
static gboolean
cluster_pod_cidrs_overlap(const ClusterBuild *b)
{
    g_autoptr(GArray) stated = g_array_new(FALSE, FALSE, sizeof(SimCidr));
    for (guint i = 0; i < b->c->nodes->len; i++) {
        const K8sNode *n = b->c->nodes->pdata[i];
        if (n->pod_cidr.addr.family != SIM_AF_NONE)
            g_array_append_val(stated, n->pod_cidr);
    }
    if (stated->len > 64)
        return TRUE;
    for (guint i = 0; i < stated->len; i++) {
        for (guint j = i + 1; j < stated->len; j++) {
            if (cluster_cidrs_overlap(&g_array_index(stated, SimCidr, i),
                                      &g_array_index(stated, SimCidr, j)))
                return TRUE;
        }
    }
    return FALSE;
}

/* Sets up b's tables for c and sc; see cluster_private.h. */
void
cluster_build_init(ClusterBuild *b, Cluster *c, Scenario *sc)
{
    memset(b, 0, sizeof *b);
    b->c = c;
    b->sc = sc;
    b->node_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    b->node_index = g_hash_table_new(g_direct_hash, g_direct_equal);
    b->groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b->group_list = g_array_new(FALSE, FALSE, sizeof(ClusterGroup));
    b->group_pool = g_array_new(FALSE, FALSE, sizeof(guint));
    b->pod_by_ip = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    b->pod_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b->slots = g_array_new(FALSE, FALSE, sizeof(ClusterSlot));
    b->ip_keys = g_ptr_array_new_with_free_func(g_free);
    b->no_ip = g_array_new(FALSE, FALSE, sizeof(guint));
    sim_rng_init(&b->sched_rng, sc->seed, "scheduler");
}

/* Releases the working state of a build (not the cluster). */
void
cluster_build_clear(ClusterBuild *b)
{
    g_clear_pointer(&b->node_by_name, g_hash_table_unref);
    g_clear_pointer(&b->node_index, g_hash_table_unref);
    g_clear_pointer(&b->groups, g_hash_table_unref);
    g_clear_pointer(&b->group_list, g_array_unref);
    g_clear_pointer(&b->group_pool, g_array_unref);
    g_clear_pointer(&b->group_on_node, g_free);
    g_clear_pointer(&b->schedulable, g_free);
    g_clear_pointer(&b->node_ready, g_free);
    g_clear_pointer(&b->sched_bit, g_free);
    g_clear_pointer(&b->sched_scratch, g_array_unref);
    g_clear_pointer(&b->sched_skip, g_array_unref);
    g_clear_pointer(&b->pod_by_ip, g_hash_table_unref);
    g_clear_pointer(&b->pod_names, g_hash_table_unref);
    g_clear_pointer(&b->pods_on_node, g_free);
    g_clear_pointer(&b->next_ip, g_free);
    g_clear_pointer(&b->slots, g_array_unref);
    g_clear_pointer(&b->no_ip, g_array_unref);
    g_clear_pointer(&b->ip_keys, g_ptr_array_unref);
    g_clear_pointer(&b->last_ip, g_free);
    g_clear_pointer(&b->deployment_slot, g_free);
}

/* Runs node IPAM, the apiserver's Service admission and the Deployment controller's
 * validation, then the scheduler with kubelet/IPAM over every pod's slot. */
gboolean
cluster_build_place(ClusterBuild *b, GError **error)
{
    guint nodes = b->c->nodes->len;
    b->pods_on_node = g_new0(guint, MAX(nodes, 1));
    b->group_on_node = g_new0(guint, MAX(nodes, 1));
    b->schedulable = g_new0(gboolean, MAX(nodes, 1));
    b->node_ready = g_new0(gboolean, MAX(nodes, 1));
    for (guint i = 0; i < nodes; i++) {
        const K8sNode *node = b->c->nodes->pdata[i];
        b->schedulable[i] = cluster_node_schedulable(node);
        b->node_ready[i] = node->ready;
    }
    cluster_sched_init(b);
    b->next_ip = g_new0(guint64, MAX(nodes, 1));
    for (guint i = 0; i < nodes; i++)
        b->next_ip[i] = 2;
    b->ip_check = cluster_pod_cidrs_overlap(b);
    if (!cluster_index_nodes(b, error) || !cluster_assign_pod_cidrs(b, error))
        return FALSE;
    b->last_ip = g_new0(guint64, MAX(nodes, 1));
    for (guint i = 0; i < nodes; i++)
        b->last_ip[i] = cluster_last_pod_ip(&((const K8sNode *)b->c->nodes->pdata[i])->pod_cidr);
    if (!cluster_build_services(b, error))
        return FALSE;
    if (!cluster_index_pods(b, error) || !cluster_build_deployments(b, error))
        return FALSE;
    return cluster_place_slots(b, error);
}

/* Moves sc's objects into a new cluster; see cluster_private.h. (transfer full) */
Cluster *
cluster_new_from(Scenario *sc)
{
    Cluster *c = g_new0(Cluster, 1);
    c->scenario = sc;
    c->nodes = g_ptr_array_ref(sc->nodes);
    c->node_index = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < c->nodes->len; i++) {
        K8sNode *n = c->nodes->pdata[i];
        if (n->name != NULL && !g_hash_table_contains(c->node_index, n->name))
            g_hash_table_insert(c->node_index, n->name, n);
    }
    c->services = cluster_steal_array(&sc->services, (GDestroyNotify)k8s_service_free);
    c->deployments = cluster_steal_array(&sc->deployments, (GDestroyNotify)k8s_deployment_free);
    c->pods = cluster_steal_array(&sc->pods, (GDestroyNotify)k8s_pod_free);
    c->slices = cluster_steal_array(&sc->slices, (GDestroyNotify)k8s_endpoint_slice_free);
    c->proxy = &sc->proxy;
    c->warnings = g_ptr_array_new_with_free_func(g_free);
    c->now = 0;
    return c;
}

/* Builds the cluster from sc; see cluster.h. On error the objects moved out of sc are freed
 * with the half-built cluster. (transfer full) */
Cluster *
cluster_build(Scenario *sc, GError **error)
{
    g_return_val_if_fail(sc != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    Cluster *c = cluster_new_from(sc);
    ClusterBuild b;
    cluster_build_init(&b, c, sc);
    gboolean ok = cluster_build_place(&b, error);
    if (ok) {
        cluster_materialise(&b);
        SimRng rng;
        sim_rng_init(&rng, sc->seed, "endpointslice");
        endpointslice_controller_sync_all(c, &rng, c->warnings);
    }
    cluster_build_clear(&b);
    if (!ok) {
        cluster_free(c);
        return NULL;
    }
    return c;
}

/* Frees the cluster and the objects it owns; the nodes stay the scenario's. NULL-safe. */
void
cluster_free(Cluster *c)
{
    if (c == NULL)
        return;
    g_clear_pointer(&c->nodes, g_ptr_array_unref);
    g_clear_pointer(&c->pods, g_ptr_array_unref);
    g_clear_pointer(&c->deployments, g_ptr_array_unref);
    g_clear_pointer(&c->services, g_ptr_array_unref);
    g_clear_pointer(&c->slices, g_ptr_array_unref);
    g_clear_pointer(&c->warnings, g_ptr_array_unref);
    g_clear_pointer(&c->node_index, g_hash_table_unref);
    g_clear_pointer(&c->summaries, g_hash_table_unref);
    g_clear_pointer(&c->summary_block, g_array_unref);
    g_free(c);
}

/* ---------------------------------------------------------------- lookups */

/* The node called name, or NULL. Cost: O(1) through the index cluster_build() makes; a name not
 * in it (or a cluster without one, as tests build) costs a scan. (transfer none) */
K8sNode *
cluster_find_node(const Cluster *c, const char *name)
{
    g_return_val_if_fail(c != NULL, NULL);
    K8sNode *found =
        c->node_index != NULL && name != NULL ? g_hash_table_lookup(c->node_index, name) : NULL;
    if (found != NULL)
        return found;
    for (guint i = 0; name != NULL && i < c->nodes->len; i++) {
        K8sNode *n = c->nodes->pdata[i];
        if (g_strcmp0(n->name, name) == 0)
            return n;
    }
    return NULL;
}

/* The Service ns/name, or NULL. Cost: O(services). (transfer none) */
K8sService *
cluster_find_service(const Cluster *c, const char *ns, const char *name)
{
    g_return_val_if_fail(c != NULL, NULL);
    for (guint i = 0; i < c->services->len; i++) {
        K8sService *s = c->services->pdata[i];
        if (g_strcmp0(s->meta.name, name) == 0 && g_strcmp0(s->meta.namespace_, ns) == 0)
            return s;
    }
    return NULL;
}

/* The pod ns/name, or NULL (it may have left since the scenario started). Cost: O(pods).
 * (transfer none) */
K8sPod *
cluster_find_pod(const Cluster *c, const char *ns, const char *name)
{
    g_return_val_if_fail(c != NULL, NULL);
    for (guint i = 0; name != NULL && i < c->pods->len; i++) {
        K8sPod *p = c->pods->pdata[i];
        if (strcmp(p->meta.name, name) == 0 && g_strcmp0(p->meta.namespace_, ns) == 0)
            return p;
    }
    return NULL;
}

/* The Deployment ns/name, or NULL. Cost: O(deployments). (transfer none) */
K8sDeployment *
cluster_find_deployment(const Cluster *c, const char *ns, const char *name)
{
    g_return_val_if_fail(c != NULL, NULL);
    for (guint i = 0; name != NULL && i < c->deployments->len; i++) {
        K8sDeployment *d = c->deployments->pdata[i];
        if (strcmp(d->meta.name, name) == 0 && g_strcmp0(d->meta.namespace_, ns) == 0)
            return d;
    }
    return NULL;
}

/* The pod whose IP is ip, or NULL. Cost: O(pods). (transfer none) */
K8sPod *
cluster_find_pod_by_ip(const Cluster *c, const SimAddr *ip)
{
    g_return_val_if_fail(c != NULL && ip != NULL, NULL);
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *p = c->pods->pdata[i];
        if (sim_addr_equal(&p->ip, ip))
            return p;
    }
    return NULL;
}

/* Orders EndpointSlices by name. */
static gint
cluster_slice_name_compare(gconstpointer a, gconstpointer b)
{
    const K8sEndpointSlice *x = *(K8sEndpointSlice *const *)a;
    const K8sEndpointSlice *y = *(K8sEndpointSlice *const *)b;
    return g_strcmp0(x->meta.name, y->meta.name);
}

/* The slices labelled with svc's name in svc's namespace, sorted by name. Cost: O(slices).
 * (transfer container) */
GPtrArray *
cluster_service_slices(const Cluster *c, const K8sService *svc)
{
    g_return_val_if_fail(c != NULL && svc != NULL, NULL);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < c->slices->len; i++) {
        K8sEndpointSlice *s = c->slices->pdata[i];
        if (g_strcmp0(s->service_name, svc->meta.name) == 0 &&
            g_strcmp0(s->meta.namespace_, svc->meta.namespace_) == 0)
            g_ptr_array_add(out, s);
    }
    g_ptr_array_sort(out, cluster_slice_name_compare);
    return out;
}

/* TRUE when addr is one of node's addresses or a loopback address (127.0.0.0/8, ::1). */
gboolean
cluster_node_is_local(const Cluster *c, const K8sNode *node, const SimAddr *addr)
{
    g_return_val_if_fail(node != NULL && addr != NULL, FALSE);
    if (sim_addr_is_loopback(addr))
        return TRUE;
    for (guint i = 0; i < node->addresses->len; i++) {
        if (sim_addr_equal(&g_array_index(node->addresses, SimAddr, i), addr))
            return TRUE;
    }
    return FALSE;
}

/* The node whose pod CIDR contains addr, or NULL. Cost: O(nodes). (transfer none) */
K8sNode *
cluster_node_for_pod_ip(const Cluster *c, const SimAddr *addr)
{
    g_return_val_if_fail(c != NULL && addr != NULL, NULL);
    for (guint i = 0; i < c->nodes->len; i++) {
        K8sNode *n = c->nodes->pdata[i];
        if (n->pod_cidr.addr.family != SIM_AF_NONE && sim_cidr_contains(&n->pod_cidr, addr))
            return n;
    }
    return NULL;
}

/* "veth" + 8 lowercase hex digits of the 32-bit FNV-1a hash of "namespace/name": stable for a
 * pod across runs, like the CNI's host-side interface names. (transfer full) */
char *
cluster_pod_veth_name(const K8sPod *pod)
{
    g_return_val_if_fail(pod != NULL, NULL);
    g_autofree char *key = g_strdup_printf("%s/%s", pod->meta.namespace_, pod->meta.name);
    guint32 h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return g_strdup_printf("veth%08x", h);
}
