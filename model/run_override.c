/* SPDX-License-Identifier: Apache-2.0 */
/* Scenario adjustments before a run: --set assignments (run_override) and the default
 * traffic of `kpsim run -f` (run_add_default_traffic). Part of model/run.c.
 */
#include "model/run_private.h"

#include <string.h>

/* ------------------------------------------------------------------ scenario adjustments */

/* Parses "50/s", "3000/m", "2/h" or a bare number (per second), as spec.traffic[].rate. */
static gboolean
run_parse_rate(const char *text, double *out)
{
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || !(v > 0) || v > 1e12)
        return FALSE;
    double per = *end == '\0' || strcmp(end, "/s") == 0               ? 1
                 : strcmp(end, "/m") == 0 || strcmp(end, "/min") == 0 ? 60
                 : strcmp(end, "/h") == 0                             ? 3600
                                                                      : 0;
    if (per == 0)
        return FALSE;
    *out = v / per;
    return TRUE;
}

/* Parses an unsigned integer in [lo, hi]. */
static gboolean
run_parse_uint(const char *text, guint64 lo, guint64 hi, guint64 *out)
{
    return g_ascii_string_to_unsigned(text, 10, lo, hi, out, NULL);
}

/* Sets field of one traffic entry from value. */
static gboolean
run_override_traffic(ScenarioTraffic *t, const char *field, const char *value)
{
    guint64 n;
    SimTime d;
    if (strcmp(field, "rate") == 0) {
        if (!run_parse_rate(value, &t->rate))
            return FALSE;
        t->connections = 0;
    } else if (strcmp(field, "connections") == 0) {
        if (!run_parse_uint(value, 1, 10000000, &n))
            return FALSE;
        t->connections = (guint)n;
        t->rate = 0;
    } else if (strcmp(field, "request.bytes") == 0 || strcmp(field, "request.response") == 0) {
        if (!run_parse_uint(value, 0, G_MAXUINT32, &n))
            return FALSE;
        *(strcmp(field, "request.bytes") == 0 ? &t->request_bytes : &t->response_bytes) = (guint)n;
    } else if (strcmp(field, "synRetries") == 0) {
        if (!run_parse_uint(value, 0, 255, &n))
            return FALSE;
        t->syn_retries = (guint)n;
    } else if (strcmp(field, "failover.after") == 0) {
        if (!run_parse_uint(value, 0, 1000000, &n)) /* 0 turns failover off, as the loader */
            return FALSE;
        t->failover_after = (guint)n;
    } else {
        SimTime *slot = strcmp(field, "start") == 0                 ? &t->start
                        : strcmp(field, "stop") == 0                ? &t->stop
                        : strcmp(field, "connectTimeout") == 0      ? &t->connect_timeout
                        : strcmp(field, "responseTimeout") == 0     ? &t->response_timeout
                        : strcmp(field, "failover.retryAfter") == 0 ? &t->failover_retry_after
                                                                    : NULL;
        if (slot == NULL || !sim_time_parse(value, &d, NULL))
            return FALSE;
        *slot = d;
    }
    return t->start < t->stop && t->connect_timeout > 0 && t->response_timeout > 0 &&
           t->failover_retry_after > 0;
}

/* traffic.NAME.FIELD: NAME a traffic entry's name or "*". FALSE when nothing matches or a
 * value is refused. */
static gboolean
run_override_traffic_path(Scenario *sc, const char *rest, const char *value)
{
    const char *dot = strchr(rest, '.');
    if (dot == NULL)
        return FALSE;
    g_autofree char *name = g_strndup(rest, dot - rest);
    guint matched = 0;
    for (guint i = 0; i < sc->traffic->len; i++) {
        ScenarioTraffic *t = sc->traffic->pdata[i];
        if (strcmp(name, "*") != 0 && strcmp(name, t->name) != 0)
            continue;
        if (!run_override_traffic(t, dot + 1, value))
            return FALSE;
        matched++;
    }
    return matched > 0;
}

/* proxy.mode (iptables, nftables or ipvs) and proxy.ipvs.scheduler (checked when the IPVS
 * rules are rendered, as kube-proxy checks it at start-up). */
static gboolean
run_override_proxy(KubeProxyConfig *kp, const char *path, const char *value)
{
    static const char *const modes[] = {"iptables", "nftables", "ipvs"};
    static const KpMode values[] = {KP_MODE_IPTABLES, KP_MODE_NFTABLES, KP_MODE_IPVS};
    if (strcmp(path, "proxy.ipvs.scheduler") == 0) {
        g_free(kp->ipvs_scheduler);
        kp->ipvs_scheduler = g_strdup(value);
        return TRUE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(modes); i++)
        if (strcmp(value, modes[i]) == 0) {
            kp->mode = values[i];
            return TRUE;
        }
    return FALSE;
}

/* Sets the scenario-wide path from value. */
static gboolean
run_override_scenario(Scenario *sc, const char *path, const char *value)
{
    guint64 n;
    SimTime d;
    if (g_str_has_prefix(path, "proxy."))
        return run_override_proxy(&sc->proxy, path, value);
    if (strcmp(path, "seed") == 0)
        return run_parse_uint(value, 0, G_MAXUINT64, &sc->seed);
    if (strcmp(path, "pods.concurrency") == 0) {
        if (!run_parse_uint(value, 1, 1000000, &n))
            return FALSE;
        sc->pod_concurrency = (guint)n;
        return TRUE;
    }
    if (!sim_time_parse(value, &d, NULL))
        return FALSE;
    if (strcmp(path, "pods.serviceTime") == 0)
        sc->pod_service_time = d;
    else if (strcmp(path, "controllers.nodeMonitorPeriod") == 0 && d > 0)
        sc->node_monitor_period = d;
    else if (strcmp(path, "controllers.nodeMonitorGracePeriod") == 0)
        sc->node_monitor_grace = d;
    else if (strcmp(path, "controllers.podEvictionTimeout") == 0)
        sc->pod_eviction_timeout = d;
    else if (strcmp(path, "controllers.endpointUpdateDelay") == 0)
        sc->endpoint_update_delay = d;
    else if (strcmp(path, "controllers.podStartupTime") == 0)
        sc->pod_startup = d;
    else if (strcmp(path, "cluster.network.latency") == 0)
        sc->net_latency = d;
    else if (strcmp(path, "duration") == 0 && d > 0) {
        for (guint i = 0; i < sc->traffic->len; i++) {
            ScenarioTraffic *t = sc->traffic->pdata[i];
            if (t->stop == sc->duration && t->start < d)
                t->stop = d;
        }
        sc->duration = d;
    } else
        return FALSE;
    return TRUE;
}

/* See model/run.h. */
gboolean
run_override(Scenario *sc, const char *assignment, GError **error)
{
    g_return_val_if_fail(sc != NULL && assignment != NULL, FALSE);
    const char *eq = strchr(assignment, '=');
    g_autofree char *path = eq ? g_strndup(assignment, eq - assignment) : g_strdup(assignment);
    const char *p = g_str_has_prefix(path, "spec.") ? path + 5 : path;
    gboolean ok = eq != NULL && eq[1] != '\0' &&
                  (g_str_has_prefix(p, "traffic.") ? run_override_traffic_path(sc, p + 8, eq + 1)
                                                   : run_override_scenario(sc, p, eq + 1));
    if (!ok)
        g_set_error(error, RUN_ERROR, RUN_ERROR_OVERRIDE,
                    "--set %s: unknown path or invalid value (paths: seed, duration, proxy.mode, "
                    "proxy.ipvs.scheduler, "
                    "pods.serviceTime, pods.concurrency, cluster.network.latency, "
                    "controllers.nodeMonitorPeriod|nodeMonitorGracePeriod|podEvictionTimeout|"
                    "endpointUpdateDelay|podStartupTime, "
                    "traffic.NAME|*.rate|connections|start|stop|request.bytes|request.response|"
                    "connectTimeout|synRetries|responseTimeout|failover.after|"
                    "failover.retryAfter)",
                    assignment);
    return ok;
}

/* A traffic entry of the default workload for proto, or NULL when no nodePort uses it. */
static ScenarioTraffic *
run_default_traffic_for(const Scenario *sc, const Cluster *c, const ScenarioClient *client,
                        SimProto proto, const char *name)
{
    GArray *to = g_array_new(FALSE, TRUE, sizeof(SimSockAddr));
    for (guint i = 0; i < c->services->len; i++) {
        const K8sService *svc = c->services->pdata[i];
        if (svc->type != K8S_SVC_NODE_PORT && svc->type != K8S_SVC_LOAD_BALANCER)
            continue;
        for (guint j = 0; j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            if (sp->protocol != proto || sp->node_port == 0)
                continue;
            for (guint k = 0; k < c->nodes->len; k++) {
                const K8sNode *n = c->nodes->pdata[k];
                for (guint a = 0; a < n->addresses->len; a++) {
                    SimSockAddr sa = {g_array_index(n->addresses, SimAddr, a), sp->node_port};
                    if (sa.addr.family == client->address.family)
                        g_array_append_val(to, sa);
                }
            }
        }
    }
    if (to->len == 0) {
        g_array_unref(to);
        return NULL;
    }
    ScenarioTraffic *t = g_new0(ScenarioTraffic, 1);
    t->name = g_strdup(name);
    t->from = g_strdup(client->name);
    t->to = to;
    t->protocol = proto;
    t->rate = 50;
    t->request_bytes = 100;
    t->response_bytes = 1000;
    t->start = 0;
    t->stop = sc->duration;
    t->pos = client->pos;
    t->connect_timeout = SCENARIO_CONNECT_TIMEOUT;
    t->syn_retries = SCENARIO_SYN_RETRIES;
    t->response_timeout = SCENARIO_RESPONSE_TIMEOUT;
    return t;
}

/* See model/run.h. */
guint
run_add_default_traffic(Scenario *sc, const Cluster *c)
{
    g_return_val_if_fail(sc != NULL && c != NULL, 0);
    if (sc->traffic->len > 0 || sc->clients->len == 0)
        return 0;
    const ScenarioClient *client = sc->clients->pdata[0];
    ScenarioTraffic *tcp = run_default_traffic_for(sc, c, client, SIM_PROTO_TCP, "nodeports");
    ScenarioTraffic *udp = run_default_traffic_for(sc, c, client, SIM_PROTO_UDP, "nodeports-udp");
    if (tcp != NULL)
        g_ptr_array_add(sc->traffic, tcp);
    if (udp != NULL)
        g_ptr_array_add(sc->traffic, udp);
    return (tcp != NULL) + (udp != NULL);
}
