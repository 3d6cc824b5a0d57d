/* SPDX-License-Identifier: Apache-2.0 */
/* The pods' life over a run (see model/controllers.h): the ReplicaSet and Deployment
 * controllers creating pods from a Deployment's template and rolling it out, kubelet's graceful
 * termination (preStop, SIGTERM, grace period), container crashes with CrashLoopBackOff, and
 * readiness.
 *
 * A pod's Ready condition is derived, never set directly: Ready when its node is Ready, its
 * container runs and has passed its first readiness check, and its probe passes
 * (controllers_pod_refresh_ready()). Every pod timer carries a generation number so a crash or
 * a deletion cancels what was pending for the pod without touching the loop.
 */
#include "model/controllers_private.h"

#include <string.h>

/* Kubernetes' name alphabet (k8s.io/apimachinery/pkg/util/rand). */
static const char controllers_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

/* ------------------------------------------------------------------ scheduler and IPAM */

/* Pods on node (not being deleted), and those of owner among them. */
static void
controllers_count_pods(const Controllers *ctl, const K8sNode *node, const char *owner, guint *all,
                       guint *group)
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
 * when no node is eligible. See controllers_private.h. */
CtlNode *
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
        if (node->ready && !node->unschedulable && group[i] == best_group && all[i] == best_all &&
            pick-- == 0)
            return &ctl->nodes[i];
    }
    return NULL;
}

/* Moves n's lastReservedIP past ip when ip is a pod address of n's range (offset 2 up to the
 * last usable one). */
static void
controllers_ipam_note(CtlNode *n, const SimAddr *ip)
{
    const SimCidr *cidr = &n->node->pod_cidr;
    guint64 size = sim_cidr_size(cidr);
    guint64 last = cidr->addr.family == SIM_AF_INET ? size - 2 : size - 1;
    if (size < 4 || !sim_cidr_contains(cidr, ip))
        return;
    guint64 k = sim_cidr_offset(cidr, ip);
    if (k >= 2 && k <= last && k + 1 > n->next_ip)
        n->next_ip = k + 1;
}

/* host-local IPAM's lastReservedIP for n at the start: the highest pod address in use on it
 * (the next allocation goes after it, so a deleted pod's address is not handed out again at
 * once). Cost: O(pods). */
void
controllers_ipam_init(Controllers *ctl, CtlNode *n)
{
    n->next_ip = 2;
    for (guint i = 0; i < ctl->c->pods->len; i++)
        controllers_ipam_note(n, &((const K8sPod *)ctl->c->pods->pdata[i])->ip);
}

/* a with every bit past its first prefix bits cleared. */
static SimAddr
controllers_masked(const SimAddr *a, guint prefix)
{
    SimAddr m = *a;
    for (guint i = 0; i < sizeof m.b; i++) {
        guint keep = prefix > 8 * i ? MIN(prefix - 8 * i, 8) : 0;
        m.b[i] &= (guint8)(0xff00 >> keep);
    }
    return m;
}

/* controllers_ipam_init() for every node with a pod CIDR, in one pass over the pods: each pod
 * address, cut to each prefix length the nodes' pod CIDRs use, is looked up among those CIDRs
 * (nodes may share or nest ranges). Cost: O(pods x distinct prefix lengths + nodes), where a
 * call per node costs O(pods x nodes): 750 million prefix tests at 5,000 nodes and 150,000
 * pods. */
void
controllers_ipam_init_all(Controllers *ctl)
{
    GHashTable *by_len[129] = {NULL};
    for (guint i = 0; i < ctl->n_nodes; i++) {
        CtlNode *n = &ctl->nodes[i];
        const SimCidr *cidr = &n->node->pod_cidr;
        if (cidr->addr.family == SIM_AF_NONE || cidr->prefix > 128)
            continue;
        n->next_ip = 2;
        GHashTable **t = &by_len[cidr->prefix];
        if (*t == NULL)
            *t = g_hash_table_new_full(sim_addr_hash, sim_addr_equal_func, NULL,
                                       (GDestroyNotify)g_ptr_array_unref);
        GPtrArray *same = g_hash_table_lookup(*t, &cidr->addr);
        if (same == NULL)
            g_hash_table_insert(*t, (gpointer)&cidr->addr, same = g_ptr_array_new());
        g_ptr_array_add(same, n);
    }
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        const SimAddr *ip = &((const K8sPod *)ctl->c->pods->pdata[i])->ip;
        for (guint len = 0; ip->family != SIM_AF_NONE && len <= 128; len++) {
            SimAddr net = controllers_masked(ip, len);
            GPtrArray *same = by_len[len] != NULL ? g_hash_table_lookup(by_len[len], &net) : NULL;
            for (guint j = 0; same != NULL && j < same->len; j++)
                controllers_ipam_note(same->pdata[j], ip);
        }
    }
    for (guint len = 0; len <= 128; len++)
        g_clear_pointer(&by_len[len], g_hash_table_unref);
}

/* host-local IPAM on n: the next free address of its pod CIDR after the last one handed out
 * (wrapping to offset 2; the network, gateway .1 and IPv4 broadcast addresses are never used).
 * FALSE when the range is full. See controllers_private.h. */
gboolean
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
    if (n->next_ip == 0) /* after the highest address in use, as after a restart */
        controllers_ipam_init(ctl, n);
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

/* ------------------------------------------------------------------ pod state and timers */

/* See controllers_private.h. */
CtlPod *
controllers_pod_state(Controllers *ctl, const K8sPod *pod)
{
    CtlPod *st = g_hash_table_lookup(ctl->pod_state, pod);
    if (st == NULL) {
        st = g_new0(CtlPod, 1);
        st->last_start = -1;
        g_hash_table_insert(ctl->pod_state, (gpointer)pod, st);
    }
    return st;
}

/* Runs fn for pod after delay, unless the pod's generation moves on (or it leaves the API)
 * meanwhile. */
static void
controllers_pod_timer(Controllers *ctl, K8sPod *pod, SimTime delay, SimEventFunc fn)
{
    CtlTimer *t = g_new0(CtlTimer, 1);
    t->ctl = ctl;
    t->pod = pod;
    t->gen = controllers_pod_state(ctl, pod)->gen;
    g_ptr_array_add(ctl->timers, t);
    sim_loop_schedule_after(ctl->loop, delay, fn, t);
}

/* The timer's pod when the timer is still current, else NULL. */
static K8sPod *
controllers_timer_pod(const CtlTimer *t)
{
    if (!g_ptr_array_find(t->ctl->c->pods, t->pod, NULL))
        return NULL;
    return controllers_pod_state(t->ctl, t->pod)->gen == t->gen ? t->pod : NULL;
}

/* See controllers_private.h. */
gboolean
controllers_pod_refresh_ready(Controllers *ctl, K8sPod *pod)
{
    const CtlPod *st = controllers_pod_state(ctl, pod);
    const CtlNode *n = pod->node_name != NULL ? controllers_node(ctl, pod->node_name) : NULL;
    gboolean ready =
        n != NULL && n->node->ready && !st->crashed && !st->starting && !st->probe_failing;
    if (ready == pod->ready)
        return FALSE;
    pod->ready = ready;
    controllers_pod_changed(ctl, pod);
    return TRUE;
}

/* A started (or restarted) container passes its first readiness check: Ready, and its
 * Deployment may move on. */
static SimTime
controllers_started_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlTimer *t = data;
    K8sPod *pod = controllers_timer_pod(t);
    if (pod == NULL || pod->terminating)
        return SIM_LOOP_NOMORE;
    controllers_pod_state(t->ctl, pod)->starting = FALSE;
    if (!controllers_pod_refresh_ready(t->ctl, pod))
        return SIM_LOOP_NOMORE; /* Ready with its node, or once its probe passes */
    controllers_record(t->ctl, CONTROLLERS_POD_READY, pod->meta.name, "on %s", pod->node_name);
    controllers_deployment_sync(t->ctl, controllers_owner(t->ctl, pod));
    return SIM_LOOP_NOMORE;
}

/* ------------------------------------------------------------------ deletion */

/* See controllers_private.h. */
void
controllers_pod_delete(Controllers *ctl, K8sPod *pod, const char *why)
{
    guint index;
    if (!g_ptr_array_find(ctl->c->pods, pod, &index))
        return;
    controllers_pod_state(ctl, pod)->gen++;
    controllers_pod_changed(ctl, pod);
    g_ptr_array_add(ctl->graveyard, g_ptr_array_steal_index(ctl->c->pods, index));
    ctl->ops.pod_removed(pod, ctl->data);
    controllers_record(ctl, CONTROLLERS_POD_DELETED, pod->meta.name, "%s", why);
}

/* How long pod's app keeps serving once deleted with grace: its longest preStop sleep, capped by
 * the grace period (kubelet then sends SIGTERM, at which the app exits); 0 without a hook. */
static SimTime
controllers_serves_for(const K8sPod *pod, SimTime grace, gboolean *has_hook)
{
    SimTime longest = 0;
    *has_hook = FALSE;
    for (guint i = 0; i < pod->spec.containers->len; i++) {
        const K8sContainer *c = pod->spec.containers->pdata[i];
        if (c->has_pre_stop) {
            *has_hook = TRUE;
            longest = MAX(longest, c->pre_stop);
        }
    }
    return MIN(longest, grace);
}

/* A terminating pod's app exits (SIGTERM after its preStop hook, or the grace period's end):
 * the pod leaves the API and its Deployment may move on. */
static SimTime
controllers_exit_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlTimer *t = data;
    K8sPod *pod = controllers_timer_pod(t);
    if (pod == NULL)
        return SIM_LOOP_NOMORE;
    Controllers *ctl = t->ctl;
    controllers_pod_delete(ctl, pod, "the app exited at SIGTERM after its preStop hook");
    controllers_deployment_sync(ctl, controllers_owner(ctl, pod));
    return SIM_LOOP_NOMORE;
}

/* See controllers_private.h. */
void
controllers_pod_terminate(Controllers *ctl, K8sPod *pod, SimTime grace, const char *why)
{
    if (pod->terminating || !g_ptr_array_find(ctl->c->pods, pod, NULL))
        return;
    CtlPod *st = controllers_pod_state(ctl, pod);
    SimTime now = sim_loop_now(ctl->loop);
    grace = grace >= 0 ? grace : pod->spec.termination_grace;
    gboolean hook;
    SimTime serve = controllers_serves_for(pod, grace, &hook);
    pod->terminating = TRUE;
    pod->deletion_at = now;
    st->gen++;
    controllers_pod_changed(ctl, pod);
    if (!hook || serve == 0) {
        controllers_record(ctl, CONTROLLERS_POD_TERMINATING, pod->meta.name,
                           "%s: no preStop sleep, the app exits at SIGTERM", why);
        controllers_pod_delete(ctl, pod, "exited at SIGTERM");
        return;
    }
    controllers_record(ctl, CONTROLLERS_POD_TERMINATING, pod->meta.name,
                       "%s: serving for %.3g s (preStop, grace period %.3g s)", why,
                       (double)serve / SIM_SEC, (double)grace / SIM_SEC);
    const CtlNode *n = pod->node_name != NULL ? controllers_node(ctl, pod->node_name) : NULL;
    if (n != NULL && n->powered) /* a dead node's kubelet finishes it when the node is back */
        controllers_pod_timer(ctl, pod, serve, controllers_exit_fire);
}

/* ------------------------------------------------------------------ crashes and readiness */

/* kubelet restarts a crashed container: it runs again and is Ready podStartup later. */
static SimTime
controllers_restart_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    CtlTimer *t = data;
    K8sPod *pod = controllers_timer_pod(t);
    if (pod == NULL || pod->terminating)
        return SIM_LOOP_NOMORE;
    Controllers *ctl = t->ctl;
    CtlPod *st = controllers_pod_state(ctl, pod);
    st->crashed = FALSE;
    st->starting = TRUE;
    st->last_start = sim_loop_now(loop);
    pod->restart_count++;
    if (ctl->ops.container != NULL)
        ctl->ops.container(pod, TRUE, ctl->data);
    controllers_record(ctl, CONTROLLERS_POD_RESTARTED, pod->meta.name, "restartCount %u",
                       pod->restart_count);
    controllers_pod_timer(ctl, pod, ctl->cfg.pod_startup, controllers_started_fire);
    return SIM_LOOP_NOMORE;
}

/* See controllers_private.h. */
void
controllers_pod_crash(Controllers *ctl, K8sPod *pod)
{
    CtlPod *st = controllers_pod_state(ctl, pod);
    if (st->crashed || pod->terminating) {
        controllers_record(ctl, CONTROLLERS_POD_CRASHED, pod->meta.name,
                           "its container is not running: nothing happens");
        return;
    }
    SimTime now = sim_loop_now(ctl->loop);
    SimTime ran_since = MAX(st->last_start, 0);
    if (st->backoff > 0 && now - ran_since >= CONTROLLERS_CRASH_BACKOFF_RESET)
        st->backoff = 0; /* it ran 10 minutes: the back-off starts over */
    st->backoff = st->backoff == 0 ? CONTROLLERS_CRASH_BACKOFF
                                   : MIN(st->backoff * 2, CONTROLLERS_CRASH_BACKOFF_MAX);
    st->crashed = TRUE;
    st->starting = FALSE;
    st->gen++;
    if (ctl->ops.container != NULL)
        ctl->ops.container(pod, FALSE, ctl->data);
    controllers_record(ctl, CONTROLLERS_POD_CRASHED, pod->meta.name,
                       "the container exited; CrashLoopBackOff: restart in %.3g s",
                       (double)st->backoff / SIM_SEC);
    controllers_pod_refresh_ready(ctl, pod);
    controllers_pod_timer(ctl, pod, st->backoff, controllers_restart_fire);
    controllers_deployment_sync(ctl, controllers_owner(ctl, pod));
}

/* See controllers_private.h. */
void
controllers_pod_probe(Controllers *ctl, K8sPod *pod, gboolean passing)
{
    CtlPod *st = controllers_pod_state(ctl, pod);
    st->probe_failing = !passing;
    controllers_record(ctl, CONTROLLERS_POD_PROBE, pod->meta.name,
                       passing ? "the readiness probe passes"
                               : "the readiness probe fails "
                                 "(the app still answers)");
    if (controllers_pod_refresh_ready(ctl, pod))
        controllers_deployment_sync(ctl, controllers_owner(ctl, pod));
}

/* ------------------------------------------------------------------ Deployments */

/* 10 characters of the name alphabet from FNV-1a over the Deployment's identity, the previous
 * hash and the revision: a new ReplicaSet's pod-template-hash. (transfer full) */
static char *
controllers_template_hash(const K8sDeployment *d, const char *prev, guint revision)
{
    g_autofree char *rev = g_strdup_printf("%u", revision);
    const char *parts[] = {d->meta.namespace_, d->meta.name, prev != NULL ? prev : "", rev};
    guint64 h = 0xcbf29ce484222325ull;
    for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p != '\0'; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull;
    }
    char *out = g_malloc(11);
    for (guint i = 0; i < 10; i++) {
        out[i] = controllers_alphabet[h % (sizeof controllers_alphabet - 1)];
        h /= sizeof controllers_alphabet - 1;
    }
    out[10] = '\0';
    return out;
}

/* Is pod one of d's (owner and namespace)? */
static gboolean
controllers_owned_by(const K8sPod *pod, const K8sDeployment *d)
{
    return g_strcmp0(pod->owner, d->meta.name) == 0 &&
           g_strcmp0(pod->meta.namespace_, d->meta.namespace_) == 0;
}

/* See controllers_private.h. */
CtlDeploy *
controllers_deploy(Controllers *ctl, K8sDeployment *d)
{
    for (guint i = 0; i < ctl->deploys->len; i++) {
        CtlDeploy *cd = ctl->deploys->pdata[i];
        if (cd->d == d)
            return cd;
    }
    CtlDeploy *cd = g_new0(CtlDeploy, 1);
    cd->d = d;
    cd->revision = 1;
    cd->annotations = k8s_string_table_new();
    for (guint i = 0; i < ctl->c->pods->len && cd->hash == NULL; i++) {
        const K8sPod *p = ctl->c->pods->pdata[i];
        const char *h = p->meta.labels != NULL
                            ? g_hash_table_lookup(p->meta.labels, "pod-template-hash")
                            : NULL;
        if (h != NULL && controllers_owned_by(p, d))
            cd->hash = g_strdup(h);
    }
    if (cd->hash == NULL)
        cd->hash = controllers_template_hash(d, NULL, cd->revision);
    g_ptr_array_add(ctl->deploys, cd);
    return cd;
}

/* See controllers_private.h. */
K8sDeployment *
controllers_owner(Controllers *ctl, const K8sPod *pod)
{
    for (guint i = 0; pod != NULL && pod->owner != NULL && i < ctl->c->deployments->len; i++) {
        K8sDeployment *d = ctl->c->deployments->pdata[i];
        if (controllers_owned_by(pod, d))
            return d;
    }
    return NULL;
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

/* A new pod of d's current ReplicaSet, not yet placed: "<deployment>-<hash>-<5 random>", the
 * template's labels plus pod-template-hash, its containers and grace period. (transfer full) */
static K8sPod *
controllers_pod_from_template(Controllers *ctl, const K8sDeployment *d, const char *hash)
{
    g_autofree char *base = g_strdup_printf("%s-%s-", d->meta.name, hash);
    char *name = NULL;
    while (name == NULL || controllers_name_taken(ctl, d->meta.namespace_, name)) {
        g_free(name);
        GString *s = g_string_new(base);
        for (guint i = 0; i < 5; i++)
            g_string_append_c(s, controllers_alphabet[sim_rng_below(
                                     &ctl->sched_rng, sizeof controllers_alphabet - 1)]);
        name = g_string_free(s, FALSE);
    }
    K8sPod *pod = k8s_pod_new();
    pod->meta.name = name;
    g_free(pod->meta.namespace_);
    pod->meta.namespace_ = g_strdup(d->meta.namespace_);
    pod->meta.pos = d->meta.pos;
    pod->meta.labels = k8s_string_table_new();
    GHashTableIter it;
    gpointer k, v;
    if (d->template_.labels != NULL) {
        g_hash_table_iter_init(&it, d->template_.labels);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(pod->meta.labels, g_strdup(k), g_strdup(v));
    }
    g_hash_table_insert(pod->meta.labels, g_strdup("pod-template-hash"), g_strdup(hash));
    for (guint i = 0; i < d->template_.containers->len; i++) {
        g_ptr_array_add(pod->spec.containers,
                        k8s_container_copy(d->template_.containers->pdata[i]));
    }
    pod->spec.termination_grace = d->template_.termination_grace;
    pod->owner = g_strdup(d->meta.name);
    return pod;
}

/* The ReplicaSet creates a pod of d's current template; the scheduler binds it, kubelet starts
 * it and it is Ready podStartup later. Without an eligible node or a free IP it stays Pending
 * (left out; a later sync tries again). */
static void
controllers_create_pod(Controllers *ctl, K8sDeployment *d)
{
    g_autoptr(K8sPod) pod = controllers_pod_from_template(ctl, d, controllers_deploy(ctl, d)->hash);
    CtlNode *n = controllers_schedule(ctl, pod);
    if (n == NULL || !controllers_next_ip(ctl, n, &pod->ip)) {
        controllers_record(ctl, CONTROLLERS_POD_CREATED, pod->meta.name,
                           "Pending: no Ready node with a free pod IP (not simulated further)");
        return;
    }
    pod->node_name = g_strdup(n->node->name);
    pod->ready = FALSE;
    K8sPod *p = g_steal_pointer(&pod);
    g_ptr_array_add(ctl->c->pods, p);
    controllers_pod_state(ctl, p)->starting = TRUE;
    ctl->ops.pod_added(p, ctl->data);
    char ip[SIM_ADDR_STRLEN];
    controllers_record(ctl, CONTROLLERS_POD_CREATED, p->meta.name, "on %s, IP %s", n->node->name,
                       sim_addr_to_string(&p->ip, ip));
    controllers_pod_changed(ctl, p);
    controllers_pod_timer(ctl, p, ctl->cfg.pod_startup, controllers_started_fire);
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

/* d's active (not terminating) pods, of the current ReplicaSet (current TRUE) or the old ones,
 * ranked for deletion; co-location counts every active pod of d, as the ReplicaSet controller's
 * related pods are all the Deployment's (getPodsRankedByRelatedPodsOnSameNode). (transfer
 * full) */
static GArray *
controllers_ranked_pods(Controllers *ctl, const K8sDeployment *d, gboolean current)
{
    const char *hash = controllers_deploy(ctl, (K8sDeployment *)d)->hash;
    GArray *out = g_array_new(FALSE, FALSE, sizeof(CtlRanked));
    g_autoptr(GHashTable) per_node = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        K8sPod *p = ctl->c->pods->pdata[i];
        const char *h = p->meta.labels != NULL
                            ? g_hash_table_lookup(p->meta.labels, "pod-template-hash")
                            : NULL;
        if (p->terminating || !controllers_owned_by(p, d))
            continue;
        const char *node = p->node_name != NULL ? p->node_name : "";
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(per_node, node));
        g_hash_table_insert(per_node, (gpointer)node, GUINT_TO_POINTER(n + 1));
        if ((g_strcmp0(h, hash) == 0) != current)
            continue;
        CtlRanked r = {p, 0, i};
        g_array_append_val(out, r);
    }
    for (guint i = 0; i < out->len; i++) {
        CtlRanked *r = &g_array_index(out, CtlRanked, i);
        const char *node = r->pod->node_name != NULL ? r->pod->node_name : "";
        r->colocated = GPOINTER_TO_UINT(g_hash_table_lookup(per_node, node));
    }
    g_array_sort(out, controllers_rank_compare);
    return out;
}

/* Ready pods among ranked. */
static gint
controllers_count_ready(const GArray *ranked)
{
    gint n = 0;
    for (guint i = 0; i < ranked->len; i++)
        n += g_array_index(ranked, CtlRanked, i).pod->ready;
    return n;
}

/* Terminates up to n pods of ranked from the front (only not Ready ones when unready_only);
 * returns how many. */
static gint
controllers_scale_down(Controllers *ctl, GArray *ranked, gint n, gboolean unready_only,
                       const char *why)
{
    gint done = 0;
    for (guint i = 0; i < ranked->len && done < n; i++) {
        K8sPod *p = g_array_index(ranked, CtlRanked, i).pod;
        if (p->terminating || (unready_only && p->ready))
            continue;
        controllers_pod_terminate(ctl, p, -1, why);
        done++;
    }
    return done;
}

/* Does any pod of d outside its current ReplicaSet still exist (terminating or not)? */
static gboolean
controllers_old_pods_left(Controllers *ctl, const K8sDeployment *d, const char *hash)
{
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        const K8sPod *p = ctl->c->pods->pdata[i];
        const char *h = p->meta.labels != NULL
                            ? g_hash_table_lookup(p->meta.labels, "pod-template-hash")
                            : NULL;
        if (controllers_owned_by(p, d) && g_strcmp0(h, hash) != 0)
            return TRUE;
    }
    return FALSE;
}

/* maxSurge (rounded up) and maxUnavailable (rounded down) of d for its replicas; both 0
 * becomes 1 unavailable (deploymentutil.ResolveFenceposts). */
static void
controllers_fenceposts(const K8sDeployment *d, gint *surge, gint *unavailable)
{
    gint64 r = d->replicas;
    *surge = d->max_surge_percent ? (gint)((r * d->max_surge + 99) / 100) : d->max_surge;
    *unavailable =
        d->max_unavailable_percent ? (gint)(r * d->max_unavailable / 100) : d->max_unavailable;
    if (*surge == 0 && *unavailable == 0)
        *unavailable = 1;
}

/* One rolloutRolling step: scale the new ReplicaSet up within maxSurge, then the old ones down
 * keeping replicas - maxUnavailable available (unhealthy old pods first). TRUE when it created
 * or deleted a pod (the controller then syncs again, as the informer's event would make it). */
static gboolean
controllers_rolling_step(Controllers *ctl, K8sDeployment *d, GArray *cur, GArray *old)
{
    gint surge, unavailable;
    controllers_fenceposts(d, &surge, &unavailable);
    gint total = (gint)(cur->len + old->len);
    gint add = MIN(d->replicas + surge - total, d->replicas - (gint)cur->len);
    for (gint k = 0; k < add; k++)
        controllers_create_pod(ctl, d);
    g_autoptr(GArray) now_cur = controllers_ranked_pods(ctl, d, TRUE);
    gint min_available = d->replicas - unavailable;
    gint new_unavailable = (gint)now_cur->len - controllers_count_ready(now_cur);
    gint max_down = (gint)(now_cur->len + old->len) - min_available - new_unavailable;
    if (max_down <= 0)
        return add > 0;
    gint cleaned = controllers_scale_down(ctl, old, max_down, TRUE, "rollout: unhealthy old pod");
    gint available = controllers_count_ready(now_cur) + controllers_count_ready(old);
    gint down = 0;
    if (available > min_available)
        down = controllers_scale_down(ctl, old, MIN(available - min_available, max_down - cleaned),
                                      FALSE, "rollout: old pod");
    return add > 0 || cleaned > 0 || down > 0;
}

/* See controllers_private.h. */
void
controllers_deployment_sync(Controllers *ctl, K8sDeployment *d)
{
    if (d == NULL)
        return;
    CtlDeploy *cd = controllers_deploy(ctl, d);
    g_autoptr(GArray) cur = controllers_ranked_pods(ctl, d, TRUE);
    g_autoptr(GArray) old = controllers_ranked_pods(ctl, d, FALSE);
    if (old->len == 0 && d->strategy_recreate && controllers_old_pods_left(ctl, d, cd->hash))
        return; /* Recreate: the new ReplicaSet waits until every old pod is gone */
    if (old->len == 0) {
        for (gint k = (gint)cur->len; k < d->replicas; k++)
            controllers_create_pod(ctl, d);
        controllers_scale_down(ctl, cur, (gint)cur->len - d->replicas, FALSE, "scaled down");
        g_autoptr(GArray) now_cur = controllers_ranked_pods(ctl, d, TRUE);
        if (cd->rolling && controllers_count_ready(now_cur) == d->replicas &&
            (gint)now_cur->len == d->replicas) { /* DeploymentComplete: terminating pods are
                                                    not replicas any more */
            cd->rolling = FALSE;
            g_autofree char *subject = g_strdup_printf("%s/%s", d->meta.namespace_, d->meta.name);
            controllers_record(ctl, CONTROLLERS_ROLLOUT_COMPLETE, subject, "revision %u, %d pods",
                               cd->revision, d->replicas);
        }
        return;
    }
    if (d->strategy_recreate) {
        controllers_scale_down(ctl, old, (gint)old->len, FALSE, "rollout (Recreate): old pod");
        return;
    }
    if (controllers_rolling_step(ctl, d, cur, old))
        controllers_deployment_sync(ctl, d); /* bounded: each step creates or deletes a pod */
}

/* See controllers_private.h. */
void
controllers_deployment_sync_all(Controllers *ctl)
{
    for (guint i = 0; i < ctl->c->deployments->len; i++)
        controllers_deployment_sync(ctl, ctl->c->deployments->pdata[i]);
}

/* See controllers_private.h. */
void
controllers_deployment_new_revision(Controllers *ctl, K8sDeployment *d, const char *why)
{
    CtlDeploy *cd = controllers_deploy(ctl, d);
    cd->revision++;
    char *hash = controllers_template_hash(d, cd->hash, cd->revision);
    g_free(cd->hash);
    cd->hash = hash;
    cd->rolling = TRUE;
    g_autofree char *subject = g_strdup_printf("%s/%s", d->meta.namespace_, d->meta.name);
    controllers_record(ctl, CONTROLLERS_DEPLOYMENT_PATCHED, subject,
                       "%s: revision %u (pod-template-hash %s), %s", why, cd->revision, cd->hash,
                       d->strategy_recreate ? "Recreate" : "RollingUpdate");
    controllers_deployment_sync(ctl, d);
}

/* Frees a Deployment's rollout state. */
static void
controllers_deploy_free(CtlDeploy *cd)
{
    g_free(cd->hash);
    g_hash_table_unref(cd->annotations);
    g_free(cd);
}

/* See controllers_private.h. */
void
controllers_pods_free(Controllers *ctl)
{
    for (guint i = 0; i < ctl->deploys->len; i++)
        controllers_deploy_free(ctl->deploys->pdata[i]);
    g_ptr_array_unref(ctl->deploys);
    g_hash_table_unref(ctl->pod_state);
    g_ptr_array_unref(ctl->timers);
}

/* ------------------------------------------------------------------ Deployment events */

/* See model/controllers_private.h. *map may be shared with other objects (model/k8s.h), so a
 * change goes into a copy that then replaces it (copy-on-write); a table made here is new. */
gboolean
controllers_merge_labels(GHashTable **map, GHashTable *patch)
{
    GHashTableIter it;
    gpointer k, v;
    gboolean changed = FALSE;
    GHashTable *own = NULL; /* the table written to: new, or *map's copy */
    if (*map == NULL)
        *map = own = k8s_string_table_new();
    g_hash_table_iter_init(&it, patch);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        gboolean drop = ((const char *)v)[0] == '\0';
        GHashTable *now = own != NULL ? own : *map;
        if (drop ? !g_hash_table_contains(now, k) : g_strcmp0(g_hash_table_lookup(now, k), v) == 0)
            continue;
        if (own == NULL)
            own = k8s_string_table_copy(*map);
        if (drop)
            g_hash_table_remove(own, k);
        else
            g_hash_table_replace(own, g_strdup(k), g_strdup(v));
        changed = TRUE;
    }
    if (own != NULL && own != *map) {
        g_hash_table_unref(*map);
        *map = own;
    }
    return changed;
}

/* Applies the strategy fields of e to d. */
static void
controllers_patch_strategy(K8sDeployment *d, const RunEvent *e)
{
    if (e->set_strategy)
        d->strategy_recreate = e->strategy_recreate;
    if (e->set_max_surge) {
        d->max_surge = e->max_surge;
        d->max_surge_percent = e->max_surge_percent;
    }
    if (e->set_max_unavailable) {
        d->max_unavailable = e->max_unavailable;
        d->max_unavailable_percent = e->max_unavailable_percent;
    }
}

/* See controllers_private.h. */
void
controllers_deployment_event(Controllers *ctl, const RunEvent *e)
{
    K8sDeployment *d = cluster_find_deployment(ctl->c, e->namespace_, e->deployment);
    g_autofree char *subject = g_strdup_printf("%s/%s", e->namespace_, e->deployment);
    ControllersRecordKind kind =
        e->kind == EVENT_SCALE ? CONTROLLERS_DEPLOYMENT_SCALED : CONTROLLERS_DEPLOYMENT_PATCHED;
    if (d == NULL) {
        controllers_record(ctl, kind, subject, "not found: deleted");
        return;
    }
    CtlDeploy *cd = controllers_deploy(ctl, d);
    if (e->set_replicas && e->replicas != d->replicas)
        controllers_record(ctl, kind, subject, "replicas %d -> %d", d->replicas, e->replicas);
    if (e->set_replicas)
        d->replicas = e->replicas;
    controllers_patch_strategy(d, e);
    gboolean changed = FALSE;
    if (e->template_labels != NULL)
        changed |= controllers_merge_labels(&d->template_.labels, e->template_labels);
    if (e->template_annotations != NULL)
        changed |= controllers_merge_labels(&cd->annotations, e->template_annotations);
    if (e->template_grace >= 0 && e->template_grace != d->template_.termination_grace) {
        d->template_.termination_grace = e->template_grace;
        changed = TRUE;
    }
    if (e->kind == EVENT_ROLLOUT_RESTART) { /* kubectl rollout restart's annotation */
        g_autofree char *at = g_strdup_printf("%.3fs", (double)e->at / SIM_SEC);
        g_hash_table_replace(cd->annotations, g_strdup("kubectl.kubernetes.io/restartedAt"),
                             g_steal_pointer(&at));
        changed = TRUE;
    }
    if (changed)
        controllers_deployment_new_revision(
            ctl, d, e->kind == EVENT_ROLLOUT_RESTART ? "rollout restart" : "template changed");
    else
        controllers_deployment_sync(ctl, d);
}

/* Do two containers run the same (name, image, ports, preStop)? */
static gboolean
controllers_container_equal(const K8sContainer *a, const K8sContainer *b)
{
    if (g_strcmp0(a->name, b->name) != 0 || g_strcmp0(a->image, b->image) != 0 ||
        a->has_pre_stop != b->has_pre_stop ||
        a->pre_stop != b->pre_stop || a->ports->len != b->ports->len)
        return FALSE;
    for (guint i = 0; i < a->ports->len; i++) {
        const K8sContainerPort *p = &g_array_index(a->ports, K8sContainerPort, i);
        const K8sContainerPort *q = &g_array_index(b->ports, K8sContainerPort, i);
        if (p->container_port != q->container_port || p->protocol != q->protocol ||
            g_strcmp0(p->name, q->name) != 0)
            return FALSE;
    }
    return TRUE;
}

/* Do two pod templates differ in what kpsim models (labels, containers, grace period)? */
static gboolean
controllers_template_differs(const K8sPodSpec *a, const K8sPodSpec *b)
{
    g_autofree char *la = k8s_labels_to_string(a->labels);
    g_autofree char *lb = k8s_labels_to_string(b->labels);
    if (strcmp(la, lb) != 0 || a->termination_grace != b->termination_grace ||
        a->containers->len != b->containers->len)
        return TRUE;
    for (guint i = 0; i < a->containers->len; i++)
        if (!controllers_container_equal(a->containers->pdata[i], b->containers->pdata[i]))
            return TRUE;
    return FALSE;
}

/* Replaces dst's template with a copy of src's. */
static void
controllers_copy_template(K8sPodSpec *dst, const K8sPodSpec *src)
{
    g_clear_pointer(&dst->labels, g_hash_table_unref);
    dst->labels = k8s_string_table_new();
    if (src->labels != NULL)
        controllers_merge_labels(&dst->labels, src->labels);
    g_ptr_array_set_size(dst->containers, 0);
    for (guint i = 0; i < src->containers->len; i++) {
        const K8sContainer *s = src->containers->pdata[i];
        K8sContainer *c = k8s_container_new();
        c->name = g_strdup(s->name);
        c->has_pre_stop = s->has_pre_stop;
        c->pre_stop = s->pre_stop;
        for (guint j = 0; j < s->ports->len; j++) {
            K8sContainerPort cp = g_array_index(s->ports, K8sContainerPort, j);
            cp.name = g_strdup(cp.name);
            g_array_append_val(c->ports, cp);
        }
        g_ptr_array_add(dst->containers, c);
    }
    dst->termination_grace = src->termination_grace;
}

/* See controllers_private.h. */
void
controllers_apply_deployment(Controllers *ctl, const K8sDeployment *src)
{
    g_autofree char *subject = g_strdup_printf("%s/%s", src->meta.namespace_, src->meta.name);
    K8sDeployment *d = cluster_find_deployment(ctl->c, src->meta.namespace_, src->meta.name);
    if (d == NULL) {
        d = k8s_deployment_new();
        d->meta.name = g_strdup(src->meta.name);
        g_free(d->meta.namespace_);
        d->meta.namespace_ = g_strdup(src->meta.namespace_);
        d->meta.pos = src->meta.pos;
        d->match_labels = k8s_string_table_new();
        controllers_merge_labels(&d->match_labels, src->match_labels);
        g_ptr_array_add(ctl->c->deployments, d);
        controllers_record(ctl, CONTROLLERS_APPLIED, subject, "Deployment created");
    } else {
        g_autofree char *a = k8s_labels_to_string(d->match_labels);
        g_autofree char *b = k8s_labels_to_string(src->match_labels);
        if (strcmp(a, b) != 0) {
            controllers_record(ctl, CONTROLLERS_APPLIED, subject,
                               "Deployment rejected: spec.selector: field is immutable");
            return;
        }
        controllers_record(ctl, CONTROLLERS_APPLIED, subject, "Deployment configured");
    }
    gboolean fresh = d->template_.containers->len == 0;
    gboolean changed = controllers_template_differs(&d->template_, &src->template_);
    d->replicas = src->replicas;
    d->strategy_recreate = src->strategy_recreate;
    d->max_surge = src->max_surge;
    d->max_unavailable = src->max_unavailable;
    d->max_surge_percent = src->max_surge_percent;
    d->max_unavailable_percent = src->max_unavailable_percent;
    if (changed)
        controllers_copy_template(&d->template_, &src->template_);
    if (changed && !fresh)
        controllers_deployment_new_revision(ctl, d, "template changed");
    else
        controllers_deployment_sync(ctl, d);
}

/* See controllers_private.h. */
void
controllers_deployment_delete(Controllers *ctl, const char *ns, const char *name, SimTime grace)
{
    g_autofree char *subject = g_strdup_printf("%s/%s", ns, name);
    K8sDeployment *d = cluster_find_deployment(ctl->c, ns, name);
    if (d == NULL) {
        controllers_record(ctl, CONTROLLERS_DELETED, subject, "Deployment: already gone");
        return;
    }
    guint index;
    if (g_ptr_array_find(ctl->c->deployments, d, &index))
        g_ptr_array_add(ctl->removed_deployments,
                        g_ptr_array_steal_index(ctl->c->deployments, index));
    g_autoptr(GPtrArray) pods = g_ptr_array_new();
    for (guint i = 0; i < ctl->c->pods->len; i++) {
        K8sPod *p = ctl->c->pods->pdata[i];
        if (controllers_owned_by(p, d) && !p->terminating)
            g_ptr_array_add(pods, p);
    }
    controllers_record(ctl, CONTROLLERS_DELETED, subject, "Deployment and its %u pod%s", pods->len,
                       pods->len == 1 ? "" : "s");
    for (guint i = 0; i < pods->len; i++)
        controllers_pod_terminate(ctl, pods->pdata[i], grace, "its Deployment was deleted");
}
