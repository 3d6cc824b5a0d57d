/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane in a run: the datapath side of model/controllers.h's operations - node
 * and container power, each node's kube-proxy sync (new rules, UDP conntrack cleanup, health
 * servers), pods joining and leaving the network. Part of model/run.c.
 */
#include "model/run_private.h"

#include <string.h>

/* ------------------------------------------------------------------ the control plane */

/* ct_flush predicate matching every entry. */
static gboolean
run_ct_any(const CtEntry *e, gpointer data)
{
    return TRUE;
}

/* ControllersOps.power: the node host and its pods' hosts stop (or start) answering. A node
 * that boots again starts with an empty conntrack table. */
static void
run_power(const K8sNode *node, gboolean up, gpointer data)
{
    Run *r = data;
    RunNode *rn = run_find_node(r, node->name);
    rn->down = !up;
    sim_host_set_up(rn->host, up);
    for (guint i = 0; i < r->entries->len; i++)
        entry_node_power(r->entries->pdata[i], node, up);
    healthcheck_set_node_up(r->health, node->name, up);
    if (up)
        ct_flush(sim_host_conntrack(rn->host), run_ct_any, NULL);
    for (guint i = 0; i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        if (p->node == rn && !p->deleted)
            sim_host_set_up(p->host, up);
    }
}

/* ControllersOps.proxy_sync: the node's kube-proxy programs the rules of the cluster as it is
 * now, then cleans stale UDP conntrack entries. */
static guint
run_proxy_sync(const K8sNode *node, gpointer data)
{
    Run *r = data;
    RunNode *rn = run_find_node(r, node->name);
    g_autoptr(GError) error = NULL;
    NfRuleset *rules = kube_proxy_render(r->cluster, node, SIM_AF_INET, &error);
    if (rules == NULL) { /* the configuration rendered at 0 s, so this cannot happen */
        g_critical("kube-proxy on %s: %s", node->name, error->message);
        return 0;
    }
    sim_host_set_ruleset(rn->host, rules);
    if (!rn->rules_shared)
        nf_ruleset_free(rn->rules);
    rn->rules = rules;
    rn->rules_shared = FALSE;
    healthcheck_sync(r->health, r->cluster, node);
    return controllers_udp_cleanup(r->cluster, sim_host_conntrack(rn->host));
}

/* ControllersOps.pod_added: the new pod's host behind a veth on its node, serving. */
static void
run_pod_added(const K8sPod *pod, gpointer data)
{
    Run *r = data;
    RunNode *rn = run_find_node(r, pod->node_name);
    if (rn == NULL || pod->ip.family != SIM_AF_INET)
        return;
    run_add_pod(r, pod, rn);
    RunPod *p = r->pods->pdata[r->pods->len - 1];
    if (r->first_fault < 0)
        p->connections_before = 0;
    sim_host_set_up(p->host, !rn->down);
}

/* ControllersOps.pod_removed: the pod's host stops answering for good. */
static void
run_pod_removed(const K8sPod *pod, gpointer data)
{
    Run *r = data;
    for (guint i = 0; i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        if (p->pod == pod) {
            p->deleted = TRUE;
            sim_host_set_up(p->host, FALSE);
        }
    }
}

/* ControllersOps.container: a crashed container's process exits: its listeners close (a SYN
 * now gets a RST, as from a pod whose network namespace is still there) and its TCP
 * connections are reset; a restarted container listens again. */
static void
run_container(const K8sPod *pod, gboolean running, gpointer data)
{
    Run *r = data;
    RunPod *p = NULL;
    for (guint i = 0; i < r->pods->len && p == NULL; i++)
        if (((RunPod *)r->pods->pdata[i])->pod == pod)
            p = r->pods->pdata[i];
    if (p == NULL || p->deleted)
        return;
    if (running) {
        run_pod_listen(p);
        return;
    }
    for (guint i = 0; p->listeners != NULL && i < p->listeners->len; i++)
        sim_socket_close(p->listeners->pdata[i]);
    g_clear_pointer(&p->listeners, g_ptr_array_unref);
    RunConn *next;
    for (RunConn *c = r->conns; c != NULL; c = next) {
        next = c->next;
        if (c->pod != p || c->socket == NULL || c->proto != SIM_PROTO_TCP)
            continue;
        SimSocket *s = c->socket;
        sim_socket_set_user_data(s, &run_detached_ops, NULL);
        c->socket = NULL;
        sim_socket_abort(s);
        run_conn_unref(c);
    }
}

/* ControllersOps.first_fault: remembers when, and what the pods had served until then. */
static void
run_first_fault(gpointer data)
{
    Run *r = data;
    r->first_fault = sim_loop_now(r->loop);
    for (guint i = 0; i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        p->connections_before = p->connections;
    }
}

/* WorkloadTargetFunc of a traffic with an entry model: the entry chooses (data: the Entry). */
static guint
run_entry_target(guint traffic, SimTime now, gpointer data)
{
    return entry_next_target(data, now);
}

/* The entry model of every traffic that has one: its router, its client's route and, for DNS,
 * the client's choice of address. */
static gboolean
run_add_entries(Run *r, GError **error)
{
    r->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    for (guint i = 0; i < r->sc->traffic->len; i++) {
        const ScenarioTraffic *t = r->sc->traffic->pdata[i];
        if (t->entry == NULL)
            continue;
        SimHost *client = workload_client_host(r->workload, t->from);
        Entry *e = entry_new(r->cluster, r->net, t, client, r->entries->len, r->sc->seed, error);
        if (e == NULL)
            return FALSE;
        g_ptr_array_add(r->entries, e);
        entry_set_health_servers(e, r->health);
        if (t->entry->kind == SCENARIO_ENTRY_DNS_ROUND_ROBIN)
            workload_set_target_func(r->workload, i, run_entry_target, e);
    }
    return TRUE;
}

static const ControllersOps run_controllers_ops = {
    .power = run_power,
    .proxy_sync = run_proxy_sync,
    .first_fault = run_first_fault,
    .pod_added = run_pod_added,
    .pod_removed = run_pod_removed,
    .container = run_container,
};

/* See model/run.h. Cost: linear in nodes squared (pod CIDR routes) plus pods and services. */
Run *
run_new(const Cluster *c, GError **error)
{
    g_return_val_if_fail(c != NULL && c->scenario != NULL, NULL);
    g_autoptr(Run) r = g_new0(Run, 1);
    r->cluster = (Cluster *)c; /* events change it, as run.h says */
    r->sc = c->scenario;
    r->first_fault = -1;
    r->events = events_compile(c, error);
    if (r->events == NULL)
        return NULL;
    r->loop = sim_loop_new();
    r->net = sim_net_new(r->loop, r->sc->seed);
    r->node_by_addr = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    r->node_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    r->shared_rules = g_ptr_array_new_with_free_func((GDestroyNotify)nf_ruleset_free);
    r->nodes = g_new0(RunNode, c->nodes->len);
    for (guint i = 0; i < c->nodes->len; i++, r->n_nodes++)
        if (!run_add_node(r, &r->nodes[i], c->nodes->pdata[i], error))
            return NULL;
    run_add_pod_routes(r);
    r->health = healthcheck_new(r->loop, c->proxy);
    for (guint i = 0; i < r->n_nodes; i++)
        if (!healthcheck_add_node(r->health, c, r->nodes[i].node, r->nodes[i].host, error))
            return NULL;
    r->apps = pod_apps_new(c, error);
    if (r->apps == NULL)
        return NULL;
    r->pods = g_ptr_array_new();
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *pod = c->pods->pdata[i];
        RunNode *rn = run_find_node(r, pod->node_name);
        if (rn == NULL || pod->ip.family != SIM_AF_INET) {
            r->unplaced++;
            continue;
        }
        run_add_pod(r, pod, rn);
    }
    entry_fill_targets(r->cluster);
    r->workload = workload_new(r->net, r->sc, r->sc->seed);
    if (!run_add_entries(r, error))
        return NULL;
    ControllersConfig cfg;
    controllers_config_from_scenario(&cfg, r->sc);
    r->controllers = controllers_new(r->cluster, r->loop, &cfg, r->events, &run_controllers_ops, r);
    return g_steal_pointer(&r);
}

/* See model/run.h. */
void
run_free(Run *r)
{
    if (r == NULL)
        return;
    /* The network first: its sockets point into the pods' and the workload's state. */
    g_clear_pointer(&r->net, sim_net_free);
    g_clear_pointer(&r->workload, workload_free);
    g_clear_pointer(&r->entries, g_ptr_array_unref);
    g_clear_pointer(&r->health, healthcheck_free);
    g_clear_pointer(&r->apps, pod_apps_free);
    for (guint i = 0; r->pods != NULL && i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        RunRequest *req;
        while ((req = g_queue_pop_head(&p->waiting)) != NULL)
            g_free(req);
        while ((req = p->serving) != NULL) {
            p->serving = req->next;
            g_free(req);
        }
        g_hash_table_unref(p->udp_peers);
        g_clear_pointer(&p->entered, g_hash_table_unref);
        g_clear_pointer(&p->listeners, g_ptr_array_unref);
        g_free(p);
    }
    while (r->conns != NULL) {
        RunConn *c = r->conns;
        r->conns = c->next;
        g_free(c);
    }
    for (guint i = 0; r->nodes != NULL && i < r->n_nodes; i++)
        if (!r->nodes[i].rules_shared)
            nf_ruleset_free(r->nodes[i].rules);
    g_clear_pointer(&r->shared_rules, g_ptr_array_unref);
    g_clear_pointer(&r->node_by_name, g_hash_table_unref);
    g_clear_pointer(&r->loop, sim_loop_free);
    g_clear_pointer(&r->controllers, controllers_free);
    g_clear_pointer(&r->events, g_ptr_array_unref);
    g_clear_pointer(&r->pods, g_ptr_array_unref);
    g_free(r->nodes);
    g_clear_pointer(&r->node_by_addr, g_hash_table_unref);
    g_free(r);
}

/* See model/run.h. */
gboolean
run_set_node_capture(Run *r, const char *node, SimPcap *pcap)
{
    g_return_val_if_fail(r != NULL && node != NULL, FALSE);
    RunNode *rn = run_find_node(r, node);
    if (rn == NULL)
        return FALSE;
    sim_host_set_capture(rn->host, pcap);
    return TRUE;
}

/* See model/run.h. */
void
run_set_client_capture(Run *r, SimPcap *pcap)
{
    g_return_if_fail(r != NULL);
    workload_set_capture(r->workload, pcap);
}

/* See model/run.h. */
const GError *
run_capture_error(const Run *r)
{
    g_return_val_if_fail(r != NULL, NULL);
    return sim_net_capture_error(r->net);
}
