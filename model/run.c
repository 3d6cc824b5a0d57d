/* SPDX-License-Identifier: Apache-2.0 */
/* A run: the cluster as a simulated network, its pods' servers, its traffic over time, and the
 * report of what happened.
 *
 * Underneath Kubernetes a node is a Linux router: eth0 on the node network, a veth per pod
 * (routed CNI, no bridge, no overlay - so MASQUERADE picks the node address, as with Calico
 * or a cloud's routed pod network), conntrack sized by kube-proxy, kube-proxy's iptables rules,
 * routes to the other nodes' pod CIDRs. A pod is a network namespace with one address and a
 * default route to its node, running one server per containerPort: each request (its bytes
 * fully received) takes the pod's service time on one of `concurrency` workers, and waits in a
 * FIFO queue when all are busy; then the response is sent and the server closes (HTTP/1.0
 * style); a pod annotated kpsim.io/proxy-to forwards each request over a new connection to a
 * Service instead (model/pod_apps.h). Every node host runs kube-proxy's health servers
 * (model/healthcheck.h), updated at each of its syncs. Everything else a pod does (readiness
 * probes, its own conntrack, hostNetwork) is left out. The scenario's events go to the control
 * plane (model/controllers.h), which changes the cluster over time; each node's kube-proxy sync
 * then swaps that node's rules and cleans its UDP conntrack entries, and node power takes the
 * node's and its pods' hosts off the network.
 *
 * This file builds the network and runs it; the pods' servers are run_pods.c, the control
 * plane's datapath run_control.c, the report run_report.c and --set run_override.c, sharing
 * model/run_private.h.
 */
#include "model/run_private.h"

#include <string.h>

G_DEFINE_QUARK(run - error - quark, run_error)

/* ------------------------------------------------------------------ building the network */

/* The first IPv4 address of node, or NULL. */
static const SimAddr *
run_node_ipv4(const K8sNode *node)
{
    for (guint i = 0; i < node->addresses->len; i++) {
        const SimAddr *a = &g_array_index(node->addresses, SimAddr, i);
        if (a->family == SIM_AF_INET)
            return a;
    }
    return NULL;
}

/* See model/run_private.h. */
void
run_conntrack_config(const KubeProxyConfig *kp, CtConfig *cfg)
{
    ct_config_init(cfg);
    guint max = ct_max_scaled(kp->conntrack_max_per_core, kp->conntrack_min, RUN_NODE_CPUS);
    if (max > 0)
        cfg->max = max;
    if (kp->tcp_established_timeout > 0)
        cfg->tcp_timeout[CT_TCP_ESTABLISHED] = kp->tcp_established_timeout;
    if (kp->tcp_close_wait_timeout > 0)
        cfg->tcp_timeout[CT_TCP_CLOSE_WAIT] = kp->tcp_close_wait_timeout;
}

/* Sets rn's time-0 rules: rendered for its node, or the rules every node shares. */
static gboolean
run_node_rules(Run *r, RunNode *rn, GError **error)
{
    if (r->shared_rules->len > 0) {
        rn->rules = r->shared_rules->pdata[0];
        rn->rules_shared = TRUE;
        return TRUE;
    }
    rn->rules = kube_proxy_render(r->cluster, rn->node, SIM_AF_INET, error);
    if (rn->rules == NULL)
        return FALSE;
    if (r->n_nodes == 0 && kube_proxy_rules_node_independent(r->cluster->proxy, r->cluster->services)) {
        g_ptr_array_add(r->shared_rules, rn->rules);
        rn->rules_shared = TRUE;
    }
    return TRUE;
}

/* See model/run_private.h. */
gboolean
run_add_node(Run *r, RunNode *rn, const K8sNode *node, GError **error)
{
    rn->node = node;
    if (!run_node_rules(r, rn, error))
        return FALSE;
    g_hash_table_insert(r->node_by_name, node->name, rn);
    rn->host = sim_net_add_host(r->net, node->name, TRUE);
    rn->eth0 = sim_host_add_iface(rn->host, "eth0", NULL);
    for (guint i = 0; i < node->addresses->len; i++) {
        SimAddr *a = &g_array_index(node->addresses, SimAddr, i);
        sim_host_add_addr(rn->host, rn->eth0, a);
        g_hash_table_insert(r->node_by_addr, a, rn);
    }
    sim_net_attach_fabric(r->net, rn->host, rn->eth0, r->sc->net_latency, r->sc->net_bandwidth);
    CtConfig cfg;
    run_conntrack_config(r->cluster->proxy, &cfg);
    sim_host_enable_conntrack(rn->host, &cfg);
    if (r->cluster->proxy->mode == KP_MODE_IPVS) { /* ip_vs with kube-proxy's timeouts */
        IpvsConfig ipvs;
        kube_proxy_ipvs_config(r->cluster->proxy, &ipvs);
        sim_host_enable_ipvs(rn->host, &ipvs);
    }
    sim_host_set_ruleset(rn->host, rn->rules);
    SimCidr any = {.addr = {.family = SIM_AF_INET}, .prefix = 0};
    sim_host_add_route(rn->host, &any, rn->eth0, NULL);
    return TRUE;
}

/* See model/run_private.h. */
void
run_add_pod_routes(Run *r)
{
    for (guint i = 0; i < r->n_nodes; i++) {
        for (guint j = 0; j < r->n_nodes; j++) {
            const K8sNode *other = r->nodes[j].node;
            const SimAddr *via = run_node_ipv4(other);
            if (i == j || via == NULL || other->pod_cidr.addr.family != SIM_AF_INET)
                continue;
            sim_host_add_route(r->nodes[i].host, &other->pod_cidr, r->nodes[i].eth0, via);
        }
    }
}

/* See model/run_private.h. */
RunNode *
run_find_node(const Run *r, const char *name)
{
    return name != NULL ? g_hash_table_lookup(r->node_by_name, name) : NULL;
}

/* See model/run_private.h. */
void
run_add_pod(Run *r, const K8sPod *pod, RunNode *rn)
{
    RunPod *p = g_new0(RunPod, 1);
    g_ptr_array_add(r->pods, p);
    p->run = r;
    p->pod = pod;
    p->node = rn;
    g_queue_init(&p->waiting);
    p->udp_peers = g_hash_table_new(g_direct_hash, g_direct_equal);
    rn->pods++;
    g_autofree char *veth = cluster_pod_veth_name(pod);
    guint node_if = sim_host_add_iface(rn->host, veth, NULL);
    p->host = sim_net_add_host(r->net, pod->meta.name, FALSE);
    guint eth0 = sim_host_add_iface(p->host, "eth0", NULL);
    sim_host_add_addr(p->host, eth0, &pod->ip);
    sim_net_link(r->net, rn->host, node_if, p->host, eth0, RUN_VETH_LATENCY);
    SimCidr any = {.addr = {.family = pod->ip.family}, .prefix = 0}, self;
    sim_host_add_route(p->host, &any, eth0, NULL);
    sim_cidr_from_addr(&pod->ip, &self);
    sim_host_add_route(rn->host, &self, node_if, NULL);
    run_pod_listen(p);
}

/* ------------------------------------------------------------------ running */

/* How long connections in flight at the end may still take: the longest client timeout. */
static SimTime
run_drain_time(const Scenario *sc)
{
    SimTime drain = 0;
    for (guint i = 0; i < sc->traffic->len; i++)
        drain = MAX(drain, workload_timeout(sc->traffic->pdata[i]));
    return drain;
}

/* See model/run.h. The loop runs one simulated second at a time so that progress can be shown;
 * after the duration, workload_stop_when_idle() ends the drain as soon as every connection is
 * decided. */
void
run_execute(Run *r, RunProgressFunc progress, gpointer data)
{
    g_return_if_fail(r != NULL && !r->executed);
    r->executed = TRUE;
    SimTime end = r->sc->duration, limit = end + run_drain_time(r->sc);
    workload_start(r->workload, end);
    controllers_start(r->controllers);
    for (guint i = 0; i < r->entries->len; i++)
        entry_start(r->entries->pdata[i]);
    for (;;) {
        SimTime now = sim_loop_now(r->loop);
        if (now >= end) {
            if (workload_undecided(r->workload) == 0 || now >= limit)
                break;
            workload_stop_when_idle(r->workload);
        }
        SimTime target = MIN((now / SIM_SEC + 1) * SIM_SEC, now < end ? end : limit);
        sim_loop_run_until(r->loop, target);
        SimLoopStats st;
        sim_loop_get_stats(r->loop, &st);
        if (progress != NULL)
            progress(sim_loop_now(r->loop), limit, st.events_processed, data);
        r->stopped = g_atomic_int_get(&r->stop_requested) != 0;
        if (r->stopped)
            break;
        if (sim_loop_now(r->loop) < target) /* stopped: the drain is over */
            break;
    }
    r->ended = sim_loop_now(r->loop);
    workload_finish(r->workload);
}

/* See model/run.h. */
void
run_request_stop(Run *r)
{
    g_return_if_fail(r != NULL);
    g_atomic_int_set(&r->stop_requested, 1);
}

/* See model/run.h. */
gboolean
run_was_stopped(const Run *r)
{
    g_return_val_if_fail(r != NULL, FALSE);
    return r->stopped;
}
