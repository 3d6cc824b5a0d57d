/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster at a moment of its scenario: events and controllers replayed without traffic.
 *
 * Models what an operator sees with kubectl and iptables-save at a given second of an incident:
 * the API server's objects (kube-controller-manager's work so far) and, on each node, the rules
 * kube-proxy last wrote, which lag behind the API server until its next sync and freeze while
 * the node is down. The controllers are model/controllers.c, driven through the same
 * ControllersOps as model/run.c; this file only renders and keeps rules, and remembers node
 * power and pod creation times. Left out: conntrack and everything that carries packets.
 */
#include "model/timeline.h"

#include "model/controllers.h"
#include "model/events.h"
#include "model/kube_proxy.h"

typedef struct {
    const K8sNode *node;
    NfRuleset *rules; /* (owned) (nullable) the last programmed, when kept */
    SimTime synced;   /* when they were programmed */
    gboolean down;
    SimTime down_since;
} TimelineNode;

struct Timeline {
    Cluster *c;
    SimTime at;
    SimFamily family;
    char *only; /* (nullable) the one node whose rules are kept */
    gboolean no_rules;
    SimLoop *loop;
    GPtrArray *events; /* RunEvent* */
    Controllers *ctl;
    TimelineNode *nodes;
    guint n_nodes;
    GHashTable *by_node;  /* K8sNode* -> TimelineNode* */
    GHashTable *created;  /* K8sPod* -> SimTime* (owned), pods the controllers created */
    GHashTable *stopped;  /* K8sPod* whose container is not running (crashed) */
    GHashTable *started;  /* K8sPod* -> SimTime* (owned): its container's last restart */
    GError *render_error; /* the first sync that could not render (nullable) */
};

/* The timeline's state of node (one of the cluster's, or a node of the same name), or NULL for
 * a node the cluster does not have. O(1) for the cluster's own nodes. */
static TimelineNode *
timeline_node(const Timeline *tl, const K8sNode *node)
{
    TimelineNode *n = g_hash_table_lookup(tl->by_node, node);
    for (guint i = 0; n == NULL && i < tl->n_nodes; i++)
        if (g_strcmp0(tl->nodes[i].node->name, node->name) == 0)
            n = &tl->nodes[i];
    return n;
}

/* Does the timeline keep node's rules? */
static gboolean
timeline_keeps(const Timeline *tl, const K8sNode *node)
{
    return !tl->no_rules && (tl->only == NULL || g_strcmp0(tl->only, node->name) == 0);
}

/* ControllersOps.power: remembers whether (and since when) the node is off. */
static void
timeline_power(const K8sNode *node, gboolean up, gpointer data)
{
    Timeline *tl = data;
    TimelineNode *n = timeline_node(tl, node);
    n->down = !up;
    if (!up)
        n->down_since = sim_loop_now(tl->loop);
}

/* ControllersOps.proxy_sync: the node's kube-proxy programs the rules of the cluster as it is
 * now; they are kept until its next sync. No conntrack here, so nothing is flushed. */
static guint
timeline_proxy_sync(const K8sNode *node, gpointer data)
{
    Timeline *tl = data;
    TimelineNode *n = timeline_node(tl, node);
    n->synced = sim_loop_now(tl->loop);
    if (!timeline_keeps(tl, node))
        return 0;
    GError *error = NULL;
    NfRuleset *rules = kube_proxy_render(tl->c, node, tl->family, &error);
    if (rules == NULL) { /* rendered at 0 s, so a later failure is a change it cannot take */
        if (tl->render_error == NULL)
            tl->render_error = error;
        else
            g_error_free(error);
        return 0;
    }
    nf_ruleset_free(n->rules);
    n->rules = rules;
    return 0;
}

/* ControllersOps.pod_added: remembers the new pod's creation time. */
static void
timeline_pod_added(const K8sPod *pod, gpointer data)
{
    Timeline *tl = data;
    SimTime *t = g_new(SimTime, 1);
    *t = sim_loop_now(tl->loop);
    g_hash_table_insert(tl->created, (gpointer)pod, t);
}

/* ControllersOps.pod_removed: nothing to do (the controllers keep the pod's memory). */
static void
timeline_pod_removed(const K8sPod *pod, gpointer data)
{
}

/* ControllersOps.container: remembers crashed containers and when they last started. */
static void
timeline_container(const K8sPod *pod, gboolean running, gpointer data)
{
    Timeline *tl = data;
    if (!running) {
        g_hash_table_add(tl->stopped, (gpointer)pod);
        return;
    }
    g_hash_table_remove(tl->stopped, pod);
    SimTime *t = g_new(SimTime, 1);
    *t = sim_loop_now(tl->loop);
    g_hash_table_insert(tl->started, (gpointer)pod, t);
}

static const ControllersOps timeline_ops = {
    .power = timeline_power,
    .proxy_sync = timeline_proxy_sync,
    .pod_added = timeline_pod_added,
    .pod_removed = timeline_pod_removed,
    .container = timeline_container,
};

/* The nodes' state at 0 s: powered, every kept node's rules rendered (the sync at start). */
static gboolean
timeline_init_nodes(Timeline *tl, GError **error)
{
    tl->n_nodes = tl->c->nodes->len;
    tl->nodes = g_new0(TimelineNode, tl->n_nodes);
    for (guint i = 0; i < tl->n_nodes; i++) {
        TimelineNode *n = &tl->nodes[i];
        n->node = tl->c->nodes->pdata[i];
        g_hash_table_insert(tl->by_node, (gpointer)n->node, n);
        if (!timeline_keeps(tl, n->node))
            continue;
        n->rules = kube_proxy_render(tl->c, n->node, tl->family, error);
        if (n->rules == NULL)
            return FALSE;
    }
    return TRUE;
}

/* See model/timeline.h. */
Timeline *
timeline_new(Cluster *c, const TimelineOptions *opt, GError **error)
{
    g_return_val_if_fail(c != NULL && c->scenario != NULL && opt != NULL && opt->at >= 0, NULL);
    g_autoptr(Timeline) tl = g_new0(Timeline, 1);
    tl->c = c;
    tl->at = opt->at;
    tl->family = opt->family != SIM_AF_NONE ? opt->family : SIM_AF_INET;
    tl->only = g_strdup(opt->node);
    tl->no_rules = opt->no_rules;
    tl->created = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    tl->stopped = g_hash_table_new(g_direct_hash, g_direct_equal);
    tl->by_node = g_hash_table_new(g_direct_hash, g_direct_equal);
    tl->started = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    tl->events = events_compile(c, error);
    if (tl->events == NULL || !timeline_init_nodes(tl, error))
        return NULL;
    tl->loop = sim_loop_new();
    ControllersConfig cfg;
    controllers_config_from_scenario(&cfg, c->scenario);
    tl->ctl = controllers_new(c, tl->loop, &cfg, tl->events, &timeline_ops, tl);
    controllers_start(tl->ctl);
    sim_loop_run_until(tl->loop, tl->at);
    if (tl->render_error != NULL) {
        g_propagate_error(error, g_steal_pointer(&tl->render_error));
        return NULL;
    }
    c->now = tl->at;
    return g_steal_pointer(&tl);
}

/* See model/timeline.h. The loop goes first: its pending events point into the controllers. */
void
timeline_free(Timeline *tl)
{
    if (tl == NULL)
        return;
    g_clear_pointer(&tl->loop, sim_loop_free);
    g_clear_pointer(&tl->ctl, controllers_free);
    g_clear_pointer(&tl->events, g_ptr_array_unref);
    for (guint i = 0; tl->nodes != NULL && i < tl->n_nodes; i++)
        nf_ruleset_free(tl->nodes[i].rules);
    g_free(tl->nodes);
    g_clear_pointer(&tl->by_node, g_hash_table_unref);
    g_clear_pointer(&tl->created, g_hash_table_unref);
    g_clear_pointer(&tl->stopped, g_hash_table_unref);
    g_clear_pointer(&tl->started, g_hash_table_unref);
    g_clear_error(&tl->render_error);
    g_free(tl->only);
    g_free(tl);
}

/* See model/timeline.h. */
SimTime
timeline_at(const Timeline *tl)
{
    g_return_val_if_fail(tl != NULL, 0);
    return tl->at;
}

/* See model/timeline.h. */
const NfRuleset *
timeline_rules(const Timeline *tl, const K8sNode *node)
{
    g_return_val_if_fail(tl != NULL && node != NULL, NULL);
    const TimelineNode *n = timeline_node(tl, node);
    return n != NULL ? n->rules : NULL;
}

/* See model/timeline.h. */
SimTime
timeline_synced_at(const Timeline *tl, const K8sNode *node)
{
    g_return_val_if_fail(tl != NULL && node != NULL, 0);
    const TimelineNode *n = timeline_node(tl, node);
    return n != NULL ? n->synced : 0;
}

/* rs as text: both tables as iptables-save prints them, the nftables table (nftables mode) as
 * nft lists it, and the ipsets and virtual services (IPVS mode, whose iptables rules do not
 * change with the endpoints). (transfer full) */
static char *
timeline_rules_text(const NfRuleset *rs)
{
    GString *s = g_string_new(NULL);
    nf_ruleset_save(rs, NF_TABLE_NAT, s);
    nf_ruleset_save(rs, NF_TABLE_FILTER, s);
    kube_proxy_nft_list(rs, s);
    kube_proxy_ipset_list(rs, s);
    kube_proxy_ipvs_list(rs, s);
    return g_string_free(s, FALSE);
}

/* See model/timeline.h. */
gboolean
timeline_rules_stale(const Timeline *tl, const K8sNode *node)
{
    g_return_val_if_fail(tl != NULL && node != NULL, FALSE);
    const TimelineNode *n = timeline_node(tl, node);
    if (n == NULL || n->rules == NULL)
        return FALSE;
    NfRuleset *now = kube_proxy_render(tl->c, n->node, tl->family, NULL);
    if (now == NULL)
        return TRUE; /* kube-proxy could not take the change: its rules stay behind */
    g_autofree char *kept = timeline_rules_text(n->rules);
    g_autofree char *fresh = timeline_rules_text(now);
    nf_ruleset_free(now);
    return g_strcmp0(kept, fresh) != 0;
}

/* See model/timeline.h. */
gboolean
timeline_node_down(const Timeline *tl, const K8sNode *node, SimTime *since)
{
    g_return_val_if_fail(tl != NULL && node != NULL, FALSE);
    const TimelineNode *n = timeline_node(tl, node);
    if (n == NULL || !n->down)
        return FALSE;
    if (since != NULL)
        *since = n->down_since;
    return TRUE;
}

/* See model/timeline.h. */
SimTime
timeline_created_at(const Timeline *tl, const K8sPod *pod)
{
    g_return_val_if_fail(tl != NULL && pod != NULL, 0);
    const SimTime *t = g_hash_table_lookup(tl->created, pod);
    return t != NULL ? *t : 0;
}

/* See model/timeline.h. */
gboolean
timeline_container_running(const Timeline *tl, const K8sPod *pod, SimTime *restarted)
{
    g_return_val_if_fail(tl != NULL && pod != NULL, TRUE);
    const SimTime *t = g_hash_table_lookup(tl->started, pod);
    if (restarted != NULL)
        *restarted = t != NULL ? *t : -1;
    return !g_hash_table_contains(tl->stopped, pod);
}

/* See model/timeline.h. */
const GPtrArray *
timeline_log(const Timeline *tl)
{
    g_return_val_if_fail(tl != NULL, NULL);
    return controllers_log(tl->ctl); /* the loop stopped at tl->at: nothing later is in it */
}
