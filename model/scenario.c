/* SPDX-License-Identifier: Apache-2.0 */
/* The Scenario record: construction with docs/design.md's defaults, the built-in default
 * cluster, lookup and release.
 *
 * A scenario stands for what a kind/kubeadm cluster and a load generator would be in real life:
 * the defaults are kubeadm's (pod network 10.244.0.0/16, service network 10.96.0.0/12, NodePort
 * range 30000-32767) and kube-proxy's (KubeProxyConfiguration v1alpha1 defaults). Reading files
 * into a scenario is the job of model/loader*.c; this file only owns the record.
 */
#include "model/scenario.h"

#include <string.h>

/* Frees a client; NULL-safe. */
static void
scenario_client_free(ScenarioClient *c)
{
    if (c == NULL)
        return;
    g_free(c->name);
    g_free(c);
}

/* See model/scenario.h. */
ScenarioEntry *
scenario_entry_new(ScenarioEntryKind kind)
{
    ScenarioEntry *e = g_new0(ScenarioEntry, 1);
    e->kind = kind;
    e->records = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    e->ttl = SCENARIO_ENTRY_DNS_TTL;
    e->hc_interval = SCENARIO_ENTRY_HC_INTERVAL;
    e->hc_timeout = SCENARIO_ENTRY_HC_TIMEOUT;
    e->hc_healthy = SCENARIO_ENTRY_HC_HEALTHY;
    e->hc_unhealthy = SCENARIO_ENTRY_HC_UNHEALTHY;
    e->flow_idle_timeout = SCENARIO_ENTRY_FLOW_IDLE;
    e->failover_delay = SCENARIO_ENTRY_L2_FAILOVER;
    e->hold_time = SCENARIO_ENTRY_BGP_HOLD;
    e->via = g_ptr_array_new_with_free_func(g_free);
    return e;
}

/* See model/scenario.h. NULL-safe. */
void
scenario_entry_free(ScenarioEntry *e)
{
    if (e == NULL)
        return;
    g_array_unref(e->records);
    g_ptr_array_unref(e->via);
    g_free(e);
}

/* Frees a traffic description; NULL-safe. */
static void
scenario_traffic_free(ScenarioTraffic *t)
{
    if (t == NULL)
        return;
    g_free(t->name);
    g_free(t->from);
    g_clear_pointer(&t->to, g_array_unref);
    scenario_entry_free(t->entry);
    g_free(t);
}

/* Frees an event or expectation; NULL-safe. */
static void
scenario_item_free(ScenarioItem *it)
{
    if (it == NULL)
        return;
    g_free(it->kind);
    g_clear_pointer(&it->fields, g_hash_table_unref);
    g_free(it);
}

/* The scenario's name when nothing names it: the file's base name without its extension. */
static char *
scenario_default_name(const char *file)
{
    g_autofree char *base = g_path_get_basename(file);
    char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
        *dot = '\0';
    return g_strdup(base);
}

/* An empty scenario with every default of docs/design.md: seed 1, 60 s, clusterCIDR
 * 10.244.0.0/16, serviceCIDR 10.96.0.0/12, NodePort range 30000-32767, 200 us latency, 10 Gbps,
 * kube-proxy's defaults with clusterCIDR taken from the cluster, pods serving a request in 1 ms
 * with 64 at once, and no nodes. (transfer full) */
Scenario *
scenario_new(const char *file)
{
    g_return_val_if_fail(file != NULL, NULL);
    Scenario *sc = g_new0(Scenario, 1);
    sc->file = g_strdup(file);
    sc->name = scenario_default_name(file);
    sc->seed = 1;
    sc->duration = 60 * SIM_SEC;
    sc->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_node_free);
    gboolean ok = sim_cidr_parse("10.244.0.0/16", &sc->cluster_cidr);
    g_assert(ok);
    sc->service_cidrs = g_array_new(FALSE, TRUE, sizeof(SimCidr));
    SimCidr svc;
    ok = sim_cidr_parse("10.96.0.0/12", &svc);
    g_assert(ok);
    g_array_append_val(sc->service_cidrs, svc);
    sc->node_port_low = 30000;
    sc->node_port_high = 32767;
    sc->net_latency = 200 * SIM_USEC;
    sc->net_bandwidth = G_GUINT64_CONSTANT(10000000000);
    kube_proxy_config_init(&sc->proxy);
    sc->proxy_cluster_cidr_from_cluster = TRUE;
    g_array_append_val(sc->proxy.cluster_cidrs, sc->cluster_cidr);
    sc->clients = g_ptr_array_new_with_free_func((GDestroyNotify)scenario_client_free);
    sc->traffic = g_ptr_array_new_with_free_func((GDestroyNotify)scenario_traffic_free);
    sc->events = g_ptr_array_new_with_free_func((GDestroyNotify)scenario_item_free);
    sc->expect = g_ptr_array_new_with_free_func((GDestroyNotify)scenario_item_free);
    sc->services = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_free);
    sc->deployments = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_deployment_free);
    sc->pods = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_pod_free);
    sc->slices = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_slice_free);
    sc->warnings = g_ptr_array_new_with_free_func(g_free);
    sc->pod_service_time = SIM_MSEC;
    sc->pod_concurrency = 64;
    sc->node_monitor_period = 5 * SIM_SEC;
    sc->node_monitor_grace = 50 * SIM_SEC;
    sc->pod_eviction_timeout = 300 * SIM_SEC;
    sc->endpoint_update_delay = SIM_SEC;
    sc->pod_startup = 2 * SIM_SEC;
    return sc;
}

/* Adds a Ready node called name with one InternalIP address. */
static void
scenario_add_default_node(Scenario *sc, const char *name, const char *address)
{
    K8sNode *n = k8s_node_new();
    n->name = g_strdup(name);
    n->pos.file = g_intern_string(sc->file);
    SimAddr a;
    gboolean ok = sim_addr_parse(address, &a);
    g_assert(ok);
    g_array_append_val(n->addresses, a);
    n->ready = TRUE;
    g_ptr_array_add(sc->nodes, n);
}

/* The cluster `kpsim run -f` uses: scenario_new()'s defaults plus nodes node1..node3 at
 * 192.168.1.101-103 and a client "client" at 203.0.113.10. (transfer full) */
Scenario *
scenario_new_default(void)
{
    Scenario *sc = scenario_new("<built-in>");
    g_free(sc->name);
    sc->name = g_strdup("default");
    scenario_add_default_node(sc, "node1", "192.168.1.101");
    scenario_add_default_node(sc, "node2", "192.168.1.102");
    scenario_add_default_node(sc, "node3", "192.168.1.103");
    ScenarioClient *c = g_new0(ScenarioClient, 1);
    c->name = g_strdup("client");
    gboolean ok = sim_addr_parse("203.0.113.10", &c->address);
    g_assert(ok);
    c->pos.file = g_intern_string(sc->file);
    g_ptr_array_add(sc->clients, c);
    return sc;
}

/* Finds a node by name, or NULL. Cost: O(nodes). (transfer none) */
K8sNode *
scenario_find_node(const Scenario *sc, const char *name)
{
    g_return_val_if_fail(sc != NULL, NULL);
    if (name == NULL)
        return NULL;
    for (guint i = 0; i < sc->nodes->len; i++) {
        K8sNode *n = sc->nodes->pdata[i];
        if (g_strcmp0(n->name, name) == 0)
            return n;
    }
    return NULL;
}

/* Frees a scenario and everything it owns; NULL-safe. */
void
scenario_free(Scenario *sc)
{
    if (sc == NULL)
        return;
    g_free(sc->name);
    g_free(sc->description);
    g_free(sc->file);
    g_clear_pointer(&sc->nodes, g_ptr_array_unref);
    g_clear_pointer(&sc->service_cidrs, g_array_unref);
    kube_proxy_config_clear(&sc->proxy);
    g_clear_pointer(&sc->clients, g_ptr_array_unref);
    g_clear_pointer(&sc->traffic, g_ptr_array_unref);
    g_clear_pointer(&sc->events, g_ptr_array_unref);
    g_clear_pointer(&sc->expect, g_ptr_array_unref);
    g_clear_pointer(&sc->services, g_ptr_array_unref);
    g_clear_pointer(&sc->deployments, g_ptr_array_unref);
    g_clear_pointer(&sc->pods, g_ptr_array_unref);
    g_clear_pointer(&sc->slices, g_ptr_array_unref);
    g_clear_pointer(&sc->warnings, g_ptr_array_unref);
    g_free(sc);
}
