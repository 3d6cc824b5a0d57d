/* SPDX-License-Identifier: Apache-2.0 */
/* kube-proxy's health servers (model/healthcheck.h): per node, the counts its last sync saw,
 * the listeners on the node host, and the HTTP answers built from them.
 *
 * The counts follow EndpointsMap.LocalReadyEndpoints of the kube-proxy release the semantics
 * document describes: per Service (not per port), the distinct IPs of endpoints that are local
 * to the node and ready. Servers are keyed by port, as kube-proxy's ServiceHealthServer is (one
 * HTTP server per healthCheckNodePort), and reconciled at every sync like SyncServices.
 */
#include "model/healthcheck.h"

#include <string.h>

#include "model/kube_proxy_endpoints.h"

/* One healthCheckNodePort server of a node. */
typedef struct {
    char *namespace_, *name;
    guint16 port;
    guint local_endpoints; /* distinct local ready endpoint IPs at the last sync */
    SimSocket *listener;   /* (nullable) */
} HcService;

typedef struct {
    HealthCheck *hc;
    const K8sNode *node;
    SimHost *host;        /* (nullable) status only */
    GArray *bind;         /* SimAddr the servers answer on; NULL = every address */
    GPtrArray *services;  /* HcService*, by port */
    SimTime last_updated; /* the last sync, -1: none */
    SimTime queued_since; /* the oldest update waiting for a sync, -1: none */
    gboolean down;
} HcNode;

struct HealthCheck {
    SimLoop *loop;
    SimTime timeout;  /* 2 x syncPeriod */
    GPtrArray *nodes; /* HcNode* */
};

/* Frees a server record (its listener belongs to the network). */
static void
healthcheck_service_free(HcService *s)
{
    g_free(s->namespace_);
    g_free(s->name);
    g_free(s);
}

/* Frees a node's records. */
static void
healthcheck_node_free(HcNode *n)
{
    g_clear_pointer(&n->bind, g_array_unref);
    g_ptr_array_unref(n->services);
    g_free(n);
}

/* See model/healthcheck.h. */
HealthCheck *
healthcheck_new(SimLoop *loop, const KubeProxyConfig *kp)
{
    g_return_val_if_fail(loop != NULL && kp != NULL, NULL);
    HealthCheck *hc = g_new0(HealthCheck, 1);
    hc->loop = loop;
    hc->timeout = 2 * kp->sync_period;
    hc->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)healthcheck_node_free);
    return hc;
}

/* See model/healthcheck.h. */
void
healthcheck_free(HealthCheck *hc)
{
    if (hc == NULL)
        return;
    g_ptr_array_unref(hc->nodes);
    g_free(hc);
}

/* The HcNode named name, or NULL. */
static HcNode *
healthcheck_find_node(const HealthCheck *hc, const char *name)
{
    for (guint i = 0; name != NULL && i < hc->nodes->len; i++) {
        HcNode *n = hc->nodes->pdata[i];
        if (g_str_equal(n->node->name, name))
            return n;
    }
    return NULL;
}

/* The node's server on port, or NULL. */
static HcService *
healthcheck_find_service(const HcNode *n, guint16 port)
{
    for (guint i = 0; i < n->services->len; i++) {
        HcService *s = n->services->pdata[i];
        if (s->port == port)
            return s;
    }
    return NULL;
}

/* ---------------------------------------------------------------- HTTP answers */

/* Go's time.Time.String() of the simulated time t counted from the Unix epoch, UTC:
 * "1970-01-01 00:00:05.25 +0000 UTC" (trailing zeros of the fraction dropped). (transfer full) */
static char *
healthcheck_go_time(SimTime t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t / SIM_SEC);
    g_autofree char *date = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
    char frac[16] = "";
    gint64 ns = t % SIM_SEC;
    if (ns > 0) {
        g_snprintf(frac, sizeof frac, ".%09" G_GINT64_FORMAT, ns);
        for (gsize len = strlen(frac); frac[len - 1] == '0'; len--)
            frac[len - 1] = '\0';
    }
    return g_strdup_printf("%s%s +0000 UTC", date, frac);
}

/* kube-proxy is healthy: no update has waited longer than the health timeout. */
static gboolean
healthcheck_proxy_fresh(const HcNode *n, SimTime now)
{
    return n->queued_since < 0 || now <= n->queued_since + n->hc->timeout;
}

/* The proxy server's answer for path: status and body. */
static guint
healthcheck_proxy_answer(const HcNode *n, const char *path, char **body)
{
    SimTime now = sim_loop_now(n->hc->loop);
    gboolean fresh = healthcheck_proxy_fresh(n, now);
    gboolean livez = g_strcmp0(path, "/livez") == 0;
    if (!livez && g_strcmp0(path, "/healthz") != 0) {
        *body = g_strdup("404 page not found\n");
        return 404;
    }
    g_autofree char *updated = healthcheck_go_time(MAX(n->last_updated, 0));
    g_autofree char *current = healthcheck_go_time(now);
    if (livez)
        *body =
            g_strdup_printf("{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\"}", updated, current);
    else /* nodeEligible: kpsim's Nodes are never being deleted (see the header) */
        *body = g_strdup_printf(
            "{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\", \"nodeEligible\": true}", updated,
            current);
    return fresh ? 200 : 503;
}

/* A healthCheckNodePort server's answer (any path). */
static guint
healthcheck_service_answer(const HcNode *n, const HcService *s, char **body)
{
    gboolean fresh = healthcheck_proxy_fresh(n, sim_loop_now(n->hc->loop));
    *body = g_strdup_printf("{\"service\": {\"namespace\": \"%s\", \"name\": \"%s\"}, "
                            "\"localEndpoints\": %u, \"serviceProxyHealthy\": %s}",
                            s->namespace_, s->name, s->local_endpoints, fresh ? "true" : "false");
    return s->local_endpoints > 0 && fresh ? 200 : 503;
}

/* See model/healthcheck.h. */
guint
healthcheck_status(const HealthCheck *hc, const char *node, guint16 port, const char *path,
                   char **body)
{
    g_return_val_if_fail(hc != NULL, 0);
    g_autofree char *text = NULL;
    const HcNode *n = healthcheck_find_node(hc, node);
    const HcService *s = n != NULL ? healthcheck_find_service(n, port) : NULL;
    guint code = 0;
    if (n == NULL || n->down)
        code = 0;
    else if (port == HEALTHCHECK_PROXY_PORT)
        code = healthcheck_proxy_answer(n, path, &text);
    else if (s != NULL)
        code = healthcheck_service_answer(n, s, &text);
    if (body != NULL)
        *body = g_steal_pointer(&text);
    return code;
}

/* Go's StatusText for the codes the servers send. */
static const char *
healthcheck_reason(guint code)
{
    return code == 200 ? "OK" : code == 503 ? "Service Unavailable" : "Not Found";
}

/* See model/healthcheck.h. Headers as Go's net/http writes them for kube-proxy's handlers. */
char *
healthcheck_response(const HealthCheck *hc, const char *node, guint16 port, const char *path)
{
    g_autofree char *body = NULL;
    guint code = healthcheck_status(hc, node, port, path, &body);
    if (code == 0)
        return NULL;
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(sim_loop_now(hc->loop) / SIM_SEC);
    GString *r = g_string_new(NULL);
    g_string_append_printf(r, "HTTP/1.1 %u %s\r\n", code, healthcheck_reason(code));
    if (code == 404)
        g_string_append(r, "Content-Type: text/plain; charset=utf-8\r\n");
    else
        g_string_append(r, "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n");
    const HcNode *n = healthcheck_find_node(hc, node);
    const HcService *s = port != HEALTHCHECK_PROXY_PORT ? healthcheck_find_service(n, port) : NULL;
    if (s != NULL)
        g_string_append_printf(r, "X-Load-Balancing-Endpoint-Weight: %u\r\n", s->local_endpoints);
    g_string_append_printf(r, "Date: %s, %02d %s %d %02d:%02d:%02d GMT\r\n",
                           days[g_date_time_get_day_of_week(dt) - 1],
                           g_date_time_get_day_of_month(dt), months[g_date_time_get_month(dt) - 1],
                           g_date_time_get_year(dt), g_date_time_get_hour(dt),
                           g_date_time_get_minute(dt), g_date_time_get_second(dt));
    g_string_append_printf(r, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    return g_string_free(r, FALSE);
}

/* ---------------------------------------------------------------- servers on the node host */

/* Callbacks of a connection already answered: further bytes are ignored. */
static const SimSocketOps healthcheck_answered_ops = {0};

/* The request's first bytes arrived: the answer goes out and the server closes. */
static void
healthcheck_data(SimSocket *s, guint32 bytes, gpointer data)
{
    HcNode *n = data;
    g_autofree char *resp =
        healthcheck_response(n->hc, n->node->name, sim_socket_local(s)->port, "/healthz");
    sim_socket_set_user_data(s, &healthcheck_answered_ops, NULL);
    if (resp == NULL) { /* the server went away under the connection */
        sim_socket_abort(s);
        return;
    }
    sim_socket_send(s, (guint32)strlen(resp));
    sim_socket_close(s);
}

/* The client closed without asking: close too. */
static void
healthcheck_peer_closed(SimSocket *s, gpointer data)
{
    sim_socket_close(s);
}

static const SimSocketOps healthcheck_conn_ops = {
    .data = healthcheck_data,
    .peer_closed = healthcheck_peer_closed,
};

/* A connection was accepted: a health check port answers on the bound addresses only (the
 * proxy server binds healthzBindAddress, every address). */
static void
healthcheck_accept(SimSocket *s, gpointer data)
{
    HcNode *n = data;
    gboolean bound = n->bind == NULL || sim_socket_local(s)->port == HEALTHCHECK_PROXY_PORT;
    for (guint i = 0; !bound && i < n->bind->len; i++)
        bound = sim_addr_equal(&g_array_index(n->bind, SimAddr, i), &sim_socket_local(s)->addr);
    if (!bound) {
        sim_socket_set_user_data(s, &healthcheck_answered_ops, NULL);
        sim_socket_abort(s);
        return;
    }
    sim_socket_set_user_data(s, &healthcheck_conn_ops, n);
}

static const SimSocketOps healthcheck_listen_ops = {.connected = healthcheck_accept};

/* Opens a listener for port on the node host, when there is one. */
static SimSocket *
healthcheck_listen(HcNode *n, guint16 port)
{
    if (n->host == NULL)
        return NULL;
    return sim_socket_listen(n->host, SIM_PROTO_TCP, port, &healthcheck_listen_ops, n);
}

/* ---------------------------------------------------------------- syncs */

/* Counts, per "ns/name" of a Service with a health check port, its distinct local ready
 * endpoint IPs in node's view of c; fills ports ("ns/name" -> port). (transfer full) */
static GHashTable *
healthcheck_count(const Cluster *c, const K8sNode *node, GHashTable *ports)
{
    GHashTable *ips =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
    gboolean any = FALSE;
    for (guint i = 0; i < c->services->len && !any; i++)
        any = ((const K8sService *)c->services->pdata[i])->health_check_node_port != 0;
    if (!any) /* the node's view of every Service would cost O(endpoints) for nothing */
        return ips;
    g_autoptr(KpServiceMap) m = kp_service_map_new(c, node, SIM_AF_INET);
    for (guint i = 0; i < m->ports->len; i++) {
        const KpServicePort *sp = m->ports->pdata[i];
        if (sp->health_check_node_port == 0)
            continue;
        char *key = g_strdup_printf("%s/%s", sp->service->meta.namespace_, sp->service->meta.name);
        g_hash_table_insert(ports, g_strdup(key), GUINT_TO_POINTER(sp->health_check_node_port));
        GHashTable *set = g_hash_table_lookup(ips, key);
        if (set == NULL) {
            set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            g_hash_table_insert(ips, key, set);
        } else {
            g_free(key);
        }
        for (guint j = 0; j < sp->endpoints->len; j++) {
            const KpEndpoint *ep = sp->endpoints->pdata[j];
            char buf[SIM_ADDR_STRLEN];
            if (ep->local && ep->ready)
                g_hash_table_add(set, g_strdup(sim_addr_to_string(&ep->addr.addr, buf)));
        }
    }
    return ips;
}

/* Drops the servers whose port no Service of ports uses any more. */
static void
healthcheck_drop_gone(HcNode *n, GHashTable *ports)
{
    for (guint i = n->services->len; i > 0; i--) {
        HcService *s = n->services->pdata[i - 1];
        g_autofree char *key = g_strdup_printf("%s/%s", s->namespace_, s->name);
        if (GPOINTER_TO_UINT(g_hash_table_lookup(ports, key)) == s->port)
            continue;
        if (s->listener != NULL)
            sim_socket_close(s->listener);
        g_ptr_array_remove_index(n->services, i - 1);
    }
}

/* See model/healthcheck.h. */
void
healthcheck_sync(HealthCheck *hc, const Cluster *c, const K8sNode *node)
{
    g_return_if_fail(hc != NULL && c != NULL && node != NULL);
    HcNode *n = healthcheck_find_node(hc, node->name);
    g_return_if_fail(n != NULL);
    g_autoptr(GHashTable) ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) ips = healthcheck_count(c, node, ports);
    healthcheck_drop_gone(n, ports);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, ports);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        guint16 port = (guint16)GPOINTER_TO_UINT(value);
        HcService *s = healthcheck_find_service(n, port);
        if (s == NULL) {
            g_auto(GStrv) nsname = g_strsplit(key, "/", 2);
            s = g_new0(HcService, 1);
            s->namespace_ = g_strdup(nsname[0]);
            s->name = g_strdup(nsname[1]);
            s->port = port;
            s->listener = healthcheck_listen(n, port);
            g_ptr_array_add(n->services, s);
        }
        s->local_endpoints = g_hash_table_size(g_hash_table_lookup(ips, key));
    }
    n->last_updated = sim_loop_now(hc->loop);
    n->queued_since = -1;
}

/* The node's addresses inside nodePortAddresses, or NULL when it does not restrict them. */
static gboolean
healthcheck_bind(HcNode *n, const Cluster *c, GError **error)
{
    KpNodePortAddresses npa;
    if (!kp_node_port_addresses_init(&npa, c->proxy, n->node, SIM_AF_INET, error))
        return FALSE;
    if (!npa.match_all)
        n->bind = kp_node_port_addresses_node_ips(&npa, n->node, SIM_AF_INET);
    kp_node_port_addresses_clear(&npa);
    return TRUE;
}

/* See model/healthcheck.h. */
gboolean
healthcheck_add_node(HealthCheck *hc, const Cluster *c, const K8sNode *node, SimHost *host,
                     GError **error)
{
    g_return_val_if_fail(hc != NULL && c != NULL && node != NULL, FALSE);
    g_return_val_if_fail(healthcheck_find_node(hc, node->name) == NULL, FALSE);
    HcNode *n = g_new0(HcNode, 1);
    n->hc = hc;
    n->node = node;
    n->host = host;
    n->services = g_ptr_array_new_with_free_func((GDestroyNotify)healthcheck_service_free);
    n->last_updated = -1;
    n->queued_since = -1;
    if (!healthcheck_bind(n, c, error)) {
        healthcheck_node_free(n);
        return FALSE;
    }
    g_ptr_array_add(hc->nodes, n);
    healthcheck_listen(n, HEALTHCHECK_PROXY_PORT);
    healthcheck_sync(hc, c, node);
    return TRUE;
}

/* See model/healthcheck.h. */
void
healthcheck_queued(HealthCheck *hc, const char *node)
{
    g_return_if_fail(hc != NULL);
    HcNode *n = healthcheck_find_node(hc, node);
    if (n != NULL && n->queued_since < 0)
        n->queued_since = sim_loop_now(hc->loop);
}

/* See model/healthcheck.h. */
void
healthcheck_set_node_up(HealthCheck *hc, const char *node, gboolean up)
{
    g_return_if_fail(hc != NULL);
    HcNode *n = healthcheck_find_node(hc, node);
    if (n != NULL)
        n->down = !up;
}
