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

/* Decodes how a traffic entry's clients connect and give up: connectTimeout and synRetries
 * (TCP), responseTimeout (UDP) and sourcePort. The defaults are set by ld_traffic(). */
static gboolean
ld_traffic_timeouts(const YtNode *item, const char *p, ScenarioTraffic *t, GError **error)
{
    g_autofree char *cp = ld_path(p, "connectTimeout"), *rp = ld_path(p, "responseTimeout");
    gint64 retries = t->syn_retries, port = 0;
    if (!ld_duration(yt_map_get(item, "connectTimeout"), cp, &t->connect_timeout, error) ||
        !ld_duration(yt_map_get(item, "responseTimeout"), rp, &t->response_timeout, error) ||
        !ld_get_int(item, "synRetries", p, &retries, error) ||
        !ld_get_int(item, "sourcePort", p, &port, error))
        return FALSE;
    if (port < 0 || port > 65535 || (port == 0 && yt_map_get(item, "sourcePort") != NULL))
        return ld_fail(error, yt_map_get(item, "sourcePort"),
                       "%s.sourcePort: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 1 and 65535, inclusive",
                       p, port);
    t->source_port = (guint16)port;
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

/* ---------------------------------------------------------------- traffic.entry */

/* The entry models as `entry:` spells them, in ScenarioEntryKind order. */
static const char *const ld_entry_kinds[] = {
    "direct", "dnsRoundRobin", "loadBalancer", "metallbL2", "metallbBGP", "externalIP", NULL};

/* Decodes a positive duration field key of map n (kept when absent). */
static gboolean
ld_entry_duration(const YtNode *n, const char *key, const char *path, SimTime *out, GError **error)
{
    g_autofree char *p = ld_path(path, key);
    if (!ld_duration(yt_map_get(n, key), p, out, error))
        return FALSE;
    if (*out <= 0)
        return ld_fail(error, yt_map_get(n, key), "%s: Invalid value: must be positive", p);
    return TRUE;
}

/* Decodes a count field key of map n between lo and hi (kept when absent). */
static gboolean
ld_entry_count(const YtNode *n, const char *key, const char *path, guint lo, guint hi, guint *out,
               GError **error)
{
    gint64 v = *out;
    if (!ld_get_int(n, key, path, &v, error))
        return FALSE;
    if (v < lo || v > hi)
        return ld_fail(error, yt_map_get(n, key),
                       "%s.%s: Invalid value: %" G_GINT64_FORMAT ": must be between %u and %u",
                       path, key, v, lo, hi);
    *out = (guint)v;
    return TRUE;
}

/* Decodes dnsRoundRobin {addresses | nodes, port, ttl}. */
static gboolean
ld_entry_dns(const YtNode *n, const char *path, ScenarioEntry *e, GError **error)
{
    static const char *const nodes_values[] = {"all", "ready", NULL};
    g_autofree char *ap = ld_path(path, "addresses"), *np = ld_path(path, "nodes");
    const YtNode *addrs = yt_map_get(n, "addresses");
    guint nodes = 0;
    if (!ld_enum(NULL, yt_map_get(n, "nodes"), np, nodes_values, &nodes, error) ||
        !ld_entry_duration(n, "ttl", path, &e->ttl, error))
        return FALSE;
    e->nodes_ready = nodes == 1;
    if ((addrs != NULL) == (yt_map_get(n, "nodes") != NULL))
        return ld_fail(error, n,
                       "%s: give exactly one of 'addresses' (A records) and 'nodes' "
                       "(all or ready: every node's address)",
                       path);
    guint len = addrs != NULL ? (addrs->type == YT_SEQUENCE ? addrs->items->len : 0) : 0;
    if (addrs != NULL && (addrs->type != YT_SEQUENCE || len == 0))
        return ld_fail(error, addrs, "%s: Required value: a list of at least one IP address", ap);
    for (guint i = 0; i < len; i++) {
        g_autofree char *ip = ld_path_index(ap, i);
        SimAddr a = {0};
        if (!ld_ip(NULL, addrs->items->pdata[i], ip, &a, error))
            return FALSE;
        if (a.family != SIM_AF_INET)
            return ld_fail(error, addrs->items->pdata[i],
                           "%s: Unsupported value: entry models are simulated over IPv4 only", ip);
        g_array_append_val(e->records, a);
    }
    return TRUE;
}

/* Decodes the fields of one entry model's map n (address and port already read). */
static gboolean
ld_entry_model(Loader *ld, const YtNode *n, const char *path, ScenarioEntry *e, GError **error)
{
    g_autofree char *hp = ld_path(path, "healthCheck"), *bp = ld_path(path, "bfd");
    const YtNode *hc = yt_map_get(n, "healthCheck"), *bfd = yt_map_get(n, "bfd");
    static const char *const hc_fields[] = {"interval", "timeout", "healthyThreshold",
                                            "unhealthyThreshold", NULL};
    static const char *const bfd_fields[] = {"interval", "multiplier", NULL};
    switch (e->kind) {
    case SCENARIO_ENTRY_DIRECT:
        return TRUE;
    case SCENARIO_ENTRY_DNS_ROUND_ROBIN:
        return ld_entry_dns(n, path, e, error);
    case SCENARIO_ENTRY_LOAD_BALANCER:
        return ld_check_fields(hc, hc_fields, "Scenario", hp, error) &&
               ld_entry_duration(hc, "interval", hp, &e->hc_interval, error) &&
               ld_entry_duration(hc, "timeout", hp, &e->hc_timeout, error) &&
               ld_entry_count(hc, "healthyThreshold", hp, 1, 10, &e->hc_healthy, error) &&
               ld_entry_count(hc, "unhealthyThreshold", hp, 1, 10, &e->hc_unhealthy, error) &&
               ld_entry_duration(n, "flowIdleTimeout", path, &e->flow_idle_timeout, error);
    case SCENARIO_ENTRY_METALLB_L2:
        return ld_entry_duration(n, "failoverDelay", path, &e->failover_delay, error);
    case SCENARIO_ENTRY_METALLB_BGP: {
        SimTime interval = 300 * SIM_MSEC; /* FRR's bfd defaults: 300 ms, multiplier 3 */
        guint mult = 3;
        if (!ld_check_fields(bfd, bfd_fields, "Scenario", bp, error) ||
            !ld_entry_duration(n, "holdTime", path, &e->hold_time, error) ||
            !ld_entry_duration(bfd, "interval", bp, &interval, error) ||
            !ld_entry_count(bfd, "multiplier", bp, 1, 255, &mult, error))
            return FALSE;
        e->bfd_detect = bfd != NULL ? interval * mult : 0;
        return TRUE;
    }
    case SCENARIO_ENTRY_EXTERNAL_IP: {
        g_autofree char *vp = ld_path(path, "via");
        g_autoptr(GPtrArray) via = NULL;
        if (!ld_string_list(yt_map_get(n, "via"), vp, TRUE, &via, error))
            return FALSE;
        if (via == NULL || via->len == 0)
            return ld_fail(error, n,
                           "%s: Required value: the node (or nodes) the external IP is "
                           "routed to",
                           vp);
        const YtNode *v = yt_map_get(n, "via");
        for (guint i = 0; i < via->len; i++) {
            g_ptr_array_add(e->via, g_strdup(via->pdata[i]));
            g_autofree char *ip = ld_path_index(vp, i);
            ld_add_node_ref(ld, v->type == YT_SEQUENCE ? v->items->pdata[i] : v, ip);
        }
        return TRUE;
    }
    }
    return TRUE;
}

/* Decodes traffic.entry: `direct` or a one-key map {MODEL: {...}} (see ScenarioEntry). The
 * result is NULL for direct. */
static gboolean
ld_traffic_entry(Loader *ld, const YtNode *n, const char *path, ScenarioEntry **out, GError **error)
{
    static const char *const fields[][12] = {
        {NULL},
        {"addresses", "nodes", "port", "ttl", NULL},
        {"address", "port", "healthCheck", "flowIdleTimeout", NULL},
        {"address", "port", "failoverDelay", NULL},
        {"address", "port", "holdTime", "bfd", NULL},
        {"address", "port", "via", NULL},
    };
    guint kind = 0;
    if (yt_is_null(n) || n->type == YT_SCALAR)
        return ld_enum(NULL, n, path, ld_entry_kinds, &kind, error) &&
               (kind == SCENARIO_ENTRY_DIRECT ||
                ld_fail(error, n, "%s: %s needs its settings: {%s: {...}}", path,
                        ld_entry_kinds[kind], ld_entry_kinds[kind]));
    if (!ld_expect_map(n, path, error))
        return FALSE;
    if (n->pairs->len != 1)
        return ld_fail(error, n,
                       "%s: give exactly one entry model (direct, dnsRoundRobin, "
                       "loadBalancer, metallbL2, metallbBGP or externalIP)",
                       path);
    const YtNode *key = g_array_index(n->pairs, YtPair, 0).key;
    const YtNode *body = g_array_index(n->pairs, YtPair, 0).value;
    if (!ld_enum(NULL, key, path, ld_entry_kinds, &kind, error))
        return FALSE;
    g_autofree char *p = ld_path(path, ld_entry_kinds[kind]);
    if (kind == SCENARIO_ENTRY_DIRECT)
        return ld_check_fields(body, fields[0], "Scenario", p, error);
    if (!ld_check_fields(body, fields[kind], "Scenario", p, error) ||
        !ld_expect_map(body, p, error))
        return FALSE;
    g_autoptr(ScenarioEntry) e = scenario_entry_new(kind);
    g_autofree char *ap = ld_path(p, "address"), *pp = ld_path(p, "port");
    e->pos = ld_pos(body);
    if (!ld_ip(NULL, yt_map_get(body, "address"), ap, &e->address, error) ||
        !ld_port(NULL, yt_map_get(body, "port"), pp, FALSE, &e->port, error))
        return FALSE;
    if (e->port == 0)
        return ld_fail(error, body, "%s: Required value: the port clients connect to", pp);
    if (kind != SCENARIO_ENTRY_DNS_ROUND_ROBIN && e->address.family == SIM_AF_NONE)
        return ld_fail(error, body, "%s: Required value: the IP clients connect to", ap);
    if (e->address.family == SIM_AF_INET6)
        return ld_fail(error, yt_map_get(body, "address"),
                       "%s: Unsupported value: entry models are simulated over IPv4 only", ap);
    if (!ld_entry_model(ld, body, p, e, error))
        return FALSE;
    *out = g_steal_pointer(&e);
    return TRUE;
}

/* Fills `to` from the entry: its address:port, or one target per A record (dnsRoundRobin
 * over nodes: filled when the run is built). Fails when `to` was given as well. */
static gboolean
ld_traffic_entry_targets(const YtNode *item, const char *p, ScenarioTraffic *t, GError **error)
{
    const ScenarioEntry *e = t->entry;
    if (yt_map_get(item, "to") != NULL)
        return ld_fail(error, yt_map_get(item, "to"),
                       "%s: give either 'to' (direct) or 'entry' (%s), not both", p,
                       ld_entry_kinds[e->kind]);
    if (e->kind != SCENARIO_ENTRY_DNS_ROUND_ROBIN) {
        SimSockAddr sa = {e->address, e->port};
        g_array_append_val(t->to, sa);
        return TRUE;
    }
    for (guint i = 0; i < e->records->len; i++) {
        SimSockAddr sa = {g_array_index(e->records, SimAddr, i), e->port};
        g_array_append_val(t->to, sa);
    }
    return TRUE;
}

/* Decodes the scalar fields of one traffic entry into t. */
static gboolean
ld_traffic_fields(Loader *ld, const YtNode *item, const char *p, ScenarioTraffic *t, GError **error)
{
    g_autofree char *fp = ld_path(p, "from"), *tp = ld_path(p, "to"), *rp = ld_path(p, "rate");
    g_autofree char *np = ld_path(p, "entry");
    g_autofree char *pp = ld_path(p, "protocol"), *qp = ld_path(p, "request");
    g_autofree char *sp = ld_path(p, "start"), *ep = ld_path(p, "stop");
    g_autofree char *op = ld_path(p, "failover");
    g_autofree char *rate = NULL;
    gint64 conns = 0;
    const YtNode *rate_node = yt_map_get(item, "rate");
    if (!ld_get_string(item, "name", p, &t->name, error) ||
        !ld_string(yt_map_get(item, "from"), fp, &t->from, error) ||
        !ld_traffic_entry(ld, yt_map_get(item, "entry"), np, &t->entry, error) ||
        !(t->entry != NULL ? ld_traffic_entry_targets(item, p, t, error)
                           : ld_traffic_targets(item, tp, t->to, error)) ||
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
    const YtNode *load = rate_node != NULL ? rate_node : yt_map_get(item, "connections");
    if (load != NULL)
        t->load_pos = ld_pos(load);
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
    scenario_entry_free(t->entry);
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
        "failover", "entry",  "sourcePort", NULL};
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
        if (!ld_traffic_fields(ld, item, p, t, error) ||
            !ld_traffic_check(ld, item, p, t, error)) {
            ld_traffic_free(t);
            return FALSE;
        }
        g_ptr_array_add(ld->sc->traffic, t);
    }
    return TRUE;
}
