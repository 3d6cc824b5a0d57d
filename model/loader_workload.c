/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding a Scenario's workload: spec.clients and spec.traffic.
 *
 * Clients are the hosts outside the cluster that send traffic; each traffic entry names one,
 * its targets (IP:PORT), protocol, an open-loop rate or a closed-loop number of connections,
 * request and response sizes, start and stop times, how its clients give up (connect
 * timeout, SYN retries, response timeout) and whether they fail over to the next target
 * (failover). model/workload.c runs them.
 */
#include "model/loader_private.h"

#include <string.h>

/* ---------------------------------------------------------------- Scenario: workload */

/* Finds a client by name, or NULL. */
static const ScenarioClient *
ld_find_client(const Scenario *sc, const char *name)
{
    for (guint i = 0; i < sc->clients->len; i++) {
        const ScenarioClient *c = sc->clients->pdata[i];
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* Decodes spec.clients [{name, address}]. */
gboolean
ld_clients(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"name", "address", NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *np = ld_path(p, "name"), *ap = ld_path(p, "address");
        if (!ld_check_fields(item, fields, "Scenario", p, error))
            return FALSE;
        g_autofree char *name = NULL;
        SimAddr addr = {0};
        const YtNode *name_node = yt_map_get(item, "name");
        if (!ld_string(name_node, np, &name, error) ||
            !ld_ip(NULL, yt_map_get(item, "address"), ap, &addr, error))
            return FALSE;
        if (name == NULL)
            return ld_fail(error, item, "%s: Required value: a client needs a name", np);
        if (addr.family == SIM_AF_NONE)
            return ld_fail(error, item, "%s: Required value: a client needs an address", ap);
        if (ld_find_client(ld->sc, name) != NULL)
            return ld_fail(error, name_node, "%s: Duplicate value: \"%s\"", np, name);
        ScenarioClient *c = g_new0(ScenarioClient, 1);
        c->name = g_steal_pointer(&name);
        c->address = addr;
        c->pos = ld_pos(item);
        g_ptr_array_add(ld->sc->clients, c);
    }
    return TRUE;
}

/* Parses "50/s", "3000/m", "2/h" or a bare number (per second) into connections per second. */
static gboolean
ld_parse_rate(const char *text, double *out)
{
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || !(v > 0) || v > 1e12)
        return FALSE;
    double per = 0;
    if (*end == '\0' || strcmp(end, "/s") == 0)
        per = 1;
    else if (strcmp(end, "/m") == 0 || strcmp(end, "/min") == 0)
        per = 60;
    else if (strcmp(end, "/h") == 0)
        per = 3600;
    if (per == 0)
        return FALSE;
    *out = v / per;
    return TRUE;
}

/* Decodes a traffic entry's to: one IP:PORT or a list of them (item positions a missing one). */
static gboolean
ld_traffic_targets(const YtNode *item, const char *path, GArray *to, GError **error)
{
    const YtNode *n = yt_map_get(item, "to");
    g_autoptr(GPtrArray) texts = NULL;
    if (!ld_string_list(n, path, TRUE, &texts, error))
        return FALSE;
    for (guint i = 0; texts != NULL && i < texts->len; i++) {
        const YtNode *at = n->type == YT_SEQUENCE ? n->items->pdata[i] : n;
        SimSockAddr sa;
        if (!sim_sockaddr_parse(texts->pdata[i], &sa, FALSE) || sa.port == 0)
            return ld_fail(error, at,
                           "%s[%u]: Invalid value: \"%s\": must be IP:PORT (e.g. "
                           "192.168.1.101:30080 or [2001:db8::1]:80)",
                           path, i, (const char *)texts->pdata[i]);
        g_array_append_val(to, sa);
    }
    if (to->len == 0)
        return ld_fail(error, n != NULL ? n : item,
                       "%s: Required value: at least one IP:PORT target", path);
    return TRUE;
}

/* Decodes request {bytes, response} of a traffic entry. */
static gboolean
ld_traffic_request(const YtNode *n, const char *path, ScenarioTraffic *t, GError **error)
{
    static const char *const fields[] = {"bytes", "response", NULL};
    gint64 bytes = t->request_bytes, response = t->response_bytes;
    if (!ld_check_fields(n, fields, "Scenario", path, error) ||
        !ld_get_int(n, "bytes", path, &bytes, error) ||
        !ld_get_int(n, "response", path, &response, error))
        return FALSE;
    if (bytes < 0 || bytes > G_MAXUINT32 || response < 0 || response > G_MAXUINT32)
        return ld_fail(error, n, "%s: byte counts must be between 0 and %u", path, G_MAXUINT32);
    t->request_bytes = (guint)bytes;
    t->response_bytes = (guint)response;
    return TRUE;
}

/* Decodes how a traffic entry's clients give up: connectTimeout and synRetries (TCP) and
 * responseTimeout (UDP). The defaults are set by ld_traffic(). */
static gboolean
ld_traffic_timeouts(const YtNode *item, const char *p, ScenarioTraffic *t, GError **error)
{
    g_autofree char *cp = ld_path(p, "connectTimeout"), *rp = ld_path(p, "responseTimeout");
    gint64 retries = t->syn_retries;
    if (!ld_duration(yt_map_get(item, "connectTimeout"), cp, &t->connect_timeout, error) ||
        !ld_duration(yt_map_get(item, "responseTimeout"), rp, &t->response_timeout, error) ||
        !ld_get_int(item, "synRetries", p, &retries, error))
        return FALSE;
    if (t->connect_timeout <= 0)
        return ld_fail(error, yt_map_get(item, "connectTimeout"),
                       "%s: Invalid value: must be positive", cp);
    if (t->response_timeout <= 0)
        return ld_fail(error, yt_map_get(item, "responseTimeout"),
                       "%s: Invalid value: must be positive", rp);
    if (retries < 0 || retries > 255)
        return ld_fail(error, yt_map_get(item, "synRetries"),
                       "%s.synRetries: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 0 and 255 (net.ipv4.tcp_syn_retries)",
                       p, retries);
    t->syn_retries = (guint)retries;
    return TRUE;
}

/* Decodes a traffic entry's failover {after, retryAfter} (absent: off). */
static gboolean
ld_traffic_failover(const YtNode *n, const char *path, ScenarioTraffic *t, GError **error)
{
    static const char *const fields[] = {"after", "retryAfter", NULL};
    g_autofree char *rp = ld_path(path, "retryAfter");
    gint64 after = t->failover_after;
    if (!ld_check_fields(n, fields, "Scenario", path, error) ||
        !ld_get_int(n, "after", path, &after, error) ||
        !ld_duration(yt_map_get(n, "retryAfter"), rp, &t->failover_retry_after, error))
        return FALSE;
    if (after < 0 || after > 1000000)
        return ld_fail(error, yt_map_get(n, "after"),
                       "%s.after: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 0 (no failover) and 1000000",
                       path, after);
    if (t->failover_retry_after <= 0)
        return ld_fail(error, yt_map_get(n, "retryAfter"), "%s: Invalid value: must be positive",
                       rp);
    t->failover_after = (guint)after;
    return TRUE;
}

/* Decodes the scalar fields of one traffic entry into t. */
static gboolean
ld_traffic_fields(const YtNode *item, const char *p, ScenarioTraffic *t, GError **error)
{
    g_autofree char *fp = ld_path(p, "from"), *tp = ld_path(p, "to"), *rp = ld_path(p, "rate");
    g_autofree char *pp = ld_path(p, "protocol"), *qp = ld_path(p, "request");
    g_autofree char *sp = ld_path(p, "start"), *ep = ld_path(p, "stop");
    g_autofree char *op = ld_path(p, "failover");
    g_autofree char *rate = NULL;
    gint64 conns = 0;
    const YtNode *rate_node = yt_map_get(item, "rate");
    if (!ld_get_string(item, "name", p, &t->name, error) ||
        !ld_string(yt_map_get(item, "from"), fp, &t->from, error) ||
        !ld_traffic_targets(item, tp, t->to, error) ||
        !ld_protocol(NULL, yt_map_get(item, "protocol"), pp, &t->protocol, error) ||
        !ld_text(rate_node, rp, &rate, error) ||
        !ld_get_int(item, "connections", p, &conns, error) ||
        !ld_traffic_request(yt_map_get(item, "request"), qp, t, error) ||
        !ld_duration(yt_map_get(item, "start"), sp, &t->start, error) ||
        !ld_duration(yt_map_get(item, "stop"), ep, &t->stop, error) ||
        !ld_traffic_failover(yt_map_get(item, "failover"), op, t, error))
        return FALSE;
    if (rate != NULL && !ld_parse_rate(rate, &t->rate))
        return ld_fail(error, rate_node,
                       "%s: Invalid value: \"%s\": must be a positive rate such as 50/s or 3000/m",
                       rp, rate);
    if (conns < 0 || conns > 10000000)
        return ld_fail(error, yt_map_get(item, "connections"),
                       "%s.connections: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 1 and 10000000",
                       p, conns);
    t->connections = (guint)conns;
    return ld_traffic_timeouts(item, p, t, error);
}

/* Checks a traffic entry's cross-field rules: a name, a known client, rate xor connections and
 * start before stop. */
static gboolean
ld_traffic_check(Loader *ld, const YtNode *item, const char *p, const ScenarioTraffic *t,
                 GError **error)
{
    if (t->name == NULL)
        return ld_fail(error, item, "%s.name: Required value: traffic needs a name", p);
    for (guint i = 0; i < ld->sc->traffic->len; i++)
        if (strcmp(((ScenarioTraffic *)ld->sc->traffic->pdata[i])->name, t->name) == 0)
            return ld_fail(error, yt_map_get(item, "name"), "%s.name: Duplicate value: \"%s\"", p,
                           t->name);
    const YtNode *from = yt_map_get(item, "from");
    if (t->from == NULL)
        return ld_fail(error, item, "%s.from: Required value: the client that sends", p);
    if (ld_find_client(ld->sc, t->from) == NULL) {
        g_autofree const char **names = g_new0(const char *, ld->sc->clients->len + 1);
        for (guint i = 0; i < ld->sc->clients->len; i++)
            names[i] = ((ScenarioClient *)ld->sc->clients->pdata[i])->name;
        const char *hint = yt_closest(t->from, names);
        g_autofree char *dym = hint != NULL ? g_strdup_printf("; did you mean '%s'?", hint) : NULL;
        return ld_fail(error, from, "%s.from: unknown client '%s' (declare it in spec.clients)%s",
                       p, t->from, dym != NULL ? dym : "");
    }
    if ((t->rate > 0) == (t->connections > 0))
        return ld_fail(error, item,
                       "%s: give exactly one of 'rate' (open loop, e.g. 50/s) and "
                       "'connections' (closed loop)",
                       p);
    if (t->start >= t->stop)
        return ld_fail(error, yt_map_get(item, "stop") != NULL ? yt_map_get(item, "stop") : item,
                       "%s: stop must come after start", p);
    return TRUE;
}

/* Frees a traffic entry being built (the scenario's own free function is private). */
static void
ld_traffic_free(ScenarioTraffic *t)
{
    g_free(t->name);
    g_free(t->from);
    g_array_unref(t->to);
    g_free(t);
}

/* Decodes spec.traffic. Defaults: protocol TCP, request 100 bytes, response 1000 bytes,
 * start 0, stop at the scenario's duration, no failover (retryAfter 30 s when it is on). */
gboolean
ld_traffic(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {
        "name",     "from",  "to",   "protocol",       "rate",       "connections",
        "request",  "start", "stop", "connectTimeout", "synRetries", "responseTimeout",
        "failover", NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        if (!ld_check_fields(item, fields, "Scenario", p, error))
            return FALSE;
        ScenarioTraffic *t = g_new0(ScenarioTraffic, 1);
        t->to = g_array_new(FALSE, TRUE, sizeof(SimSockAddr));
        t->protocol = SIM_PROTO_TCP;
        t->request_bytes = 100;
        t->response_bytes = 1000;
        t->stop = ld->sc->duration;
        t->pos = ld_pos(item);
        t->connect_timeout = SCENARIO_CONNECT_TIMEOUT;
        t->syn_retries = SCENARIO_SYN_RETRIES;
        t->response_timeout = SCENARIO_RESPONSE_TIMEOUT;
        t->failover_retry_after = SCENARIO_FAILOVER_RETRY_AFTER;
        if (!ld_traffic_fields(item, p, t, error) || !ld_traffic_check(ld, item, p, t, error)) {
            ld_traffic_free(t);
            return FALSE;
        }
        g_ptr_array_add(ld->sc->traffic, t);
    }
    return TRUE;
}
