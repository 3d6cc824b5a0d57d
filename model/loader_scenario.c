/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding the kind: Scenario document: metadata, spec.seed, spec.duration, spec.cluster,
 * spec.proxy, spec.pods, spec.events and spec.expect, and the order the rest is read in.
 *
 * spec.cluster stands in for the cluster a test would be run against: nodes (listed, or a count
 * expanded to PREFIX1..PREFIXn), the clusterCIDR, the Service CIDRs and nodePort range as the
 * apiserver's flags give them, and the fabric's latency and bandwidth. Events and expectations
 * are checked for shape (an event's node name once every node is known) and kept flattened for
 * the run to interpret. spec.clients and spec.traffic are decoded in loader_workload.c;
 * spec.manifests and spec.patches in loader.c.
 */
#include "model/loader_private.h"

#include <string.h>

/* ---------------------------------------------------------------- Scenario: cluster */

/* Adds offset to an address (big-endian carry). FALSE when it runs past the family's end. */
static gboolean
ld_addr_add(SimAddr *a, guint64 offset)
{
    int last = a->family == SIM_AF_INET ? 3 : 15;
    for (int i = last; i >= 0 && offset > 0; i--) {
        guint64 sum = (guint64)a->b[i] + (offset & 0xff);
        a->b[i] = (guint8)sum;
        offset = (offset >> 8) + (sum >> 8);
    }
    return offset == 0;
}

/* Appends a Ready scenario node, registering its name. */
static gboolean
ld_add_cluster_node(Loader *ld, K8sNode *n, const YtNode *name_node, guint *insert_at,
                    GError **error)
{
    if (!ld_register_name(ld, "nodes", NULL, n->name, name_node, error)) {
        k8s_node_free(n);
        return FALSE;
    }
    n->ready = TRUE;
    g_ptr_array_insert(ld->sc->nodes, (gint)(*insert_at)++, n);
    return TRUE;
}

/* Sets the zone label of a node. */
static void
ld_node_set_zone(K8sNode *n, const char *zone)
{
    if (n->labels == NULL)
        n->labels = k8s_string_table_new();
    g_hash_table_insert(n->labels, g_strdup("topology.kubernetes.io/zone"), g_strdup(zone));
}

/* Decodes one spec.cluster.nodes[] entry {name, addresses, zone, labels, podCIDR}. */
static gboolean
ld_cluster_node(Loader *ld, const YtNode *item, const char *path, guint *insert_at, GError **error)
{
    static const char *const fields[] = {"name", "addresses", "zone", "labels", "podCIDR", NULL};
    if (!ld_check_fields(item, fields, "Scenario", path, error))
        return FALSE;
    if (yt_is_null(item))
        return ld_fail(error, item, "%s: expected a node {name, addresses}", path);
    g_autoptr(GPtrArray) addrs = NULL;
    g_autofree char *zone = NULL;
    g_autofree char *ap = ld_path(path, "addresses"), *np = ld_path(path, "name");
    const YtNode *name_node = yt_map_get(item, "name");
    K8sNode *n = k8s_node_new();
    n->pos = ld_pos(name_node != NULL ? name_node : item);
    gboolean ok = ld_string(name_node, np, &n->name, error) &&
                  ld_string_list(yt_map_get(item, "addresses"), ap, TRUE, &addrs, error) &&
                  ld_get_string(item, "zone", path, &zone, error) &&
                  ld_get_string_map(item, "labels", path, &n->labels, error);
    if (ok && n->name == NULL)
        ok = ld_fail(error, item, "%s: Required value: a node needs a name", np);
    if (ok)
        ok = ld_check_name(NULL, name_node, np, n->name, LD_NAME_DNS1123_SUBDOMAIN, error);
    if (ok && (addrs == NULL || addrs->len == 0))
        ok = ld_fail(error, item, "%s: Required value: a node needs at least one address", ap);
    const YtNode *an = yt_map_get(item, "addresses");
    for (guint i = 0; ok && i < addrs->len; i++) {
        g_autofree char *p = ld_path_index(ap, i);
        SimAddr a;
        ok = ld_ip(NULL, an->type == YT_SEQUENCE ? an->items->pdata[i] : an, p, &a, error);
        if (ok)
            g_array_append_val(n->addresses, a);
    }
    g_autofree char *cp = ld_path(path, "podCIDR");
    if (ok)
        ok = ld_cidr(NULL, yt_map_get(item, "podCIDR"), cp, FALSE, &n->pod_cidr, error);
    if (ok && zone != NULL)
        ld_node_set_zone(n, zone);
    if (!ok) {
        k8s_node_free(n);
        return FALSE;
    }
    return ld_add_cluster_node(ld, n, name_node != NULL ? name_node : item, insert_at, error);
}

/* Expands the count form {count, addressBase, zones, namePrefix}: nodes PREFIX1..PREFIXn with
 * addresses addressBase+1..addressBase+n and zones assigned round-robin. */
static gboolean
ld_cluster_node_count(Loader *ld, const YtNode *map, const char *path, GError **error)
{
    static const char *const fields[] = {"count", "addressBase", "zones", "namePrefix", NULL};
    if (!ld_check_fields(map, fields, "Scenario", path, error))
        return FALSE;
    gint64 count = 0;
    SimAddr base = {0};
    g_autoptr(GPtrArray) zones = NULL;
    g_autofree char *prefix = NULL;
    g_autofree char *cp = ld_path(path, "count"), *bp = ld_path(path, "addressBase");
    g_autofree char *zp = ld_path(path, "zones");
    const YtNode *count_node = yt_map_get(map, "count");
    if (!ld_int(count_node, cp, &count, error) ||
        !ld_ip(NULL, yt_map_get(map, "addressBase"), bp, &base, error) ||
        !ld_string_list(yt_map_get(map, "zones"), zp, FALSE, &zones, error) ||
        !ld_get_string(map, "namePrefix", path, &prefix, error))
        return FALSE;
    if (count < 1 || count > 100000)
        return ld_fail(error, count_node != NULL ? count_node : map,
                       "%s: Invalid value: %" G_GINT64_FORMAT ": must be between 1 and 100000", cp,
                       count);
    if (base.family == SIM_AF_NONE)
        return ld_fail(error, map, "%s: Required value: the count form needs addressBase", bp);
    /* The names are registered as one range (100,000 keys would cost more than the nodes):
     * the first already taken fails where registering them one by one would have. */
    const char *pfx = prefix != NULL ? prefix : "node";
    gint64 taken = count + 1, k = 1;
    const K8sPos *first = ld_name_range_taken(ld, "nodes", NULL, pfx, count, 1, &taken, &k);
    guint insert_at = 0;
    g_autoptr(GString) name = g_string_sized_new(32);
    for (gint64 i = 1; i <= count; i++) {
        SimAddr a = base;
        if (!ld_addr_add(&a, (guint64)i))
            return ld_fail(error, yt_map_get(map, "addressBase"),
                           "%s: %" G_GINT64_FORMAT " nodes do not fit after this address", bp,
                           count);
        ld_gen_name(name, pfx, i, 1);
        if (first != NULL && i == taken)
            return ld_name_exists(error, map, "nodes", NULL, name->str, first);
        K8sNode *n = k8s_node_new();
        n->name = g_strndup(name->str, name->len);
        n->pos = ld_pos(map);
        n->ready = TRUE;
        g_array_append_val(n->addresses, a);
        if (zones != NULL && zones->len > 0)
            ld_node_set_zone(n, zones->pdata[(guint)(i - 1) % zones->len]);
        g_ptr_array_insert(ld->sc->nodes, (gint)insert_at++, n);
    }
    ld_register_name_range(ld, "nodes", NULL, pfx, count, 1, map);
    return TRUE;
}

/* Parses "LOW-HIGH", "BASE+OFFSET" or a single port into a range. */
static gboolean
ld_parse_port_range(const char *text, guint *low, guint *high)
{
    guint64 a, b;
    g_auto(GStrv) parts = NULL;
    char sep = strchr(text, '+') != NULL ? '+' : '-';
    char seps[2] = {sep, '\0'};
    parts = g_strsplit(text, seps, 3);
    guint n = g_strv_length(parts);
    if (n < 1 || n > 2)
        return FALSE;
    if (!g_ascii_string_to_unsigned(g_strstrip(parts[0]), 10, 0, 65535, &a, NULL))
        return FALSE;
    b = a;
    if (n == 2 && !g_ascii_string_to_unsigned(g_strstrip(parts[1]), 10, 0, 65535, &b, NULL))
        return FALSE;
    if (sep == '+')
        b += a;
    *low = (guint)a;
    *high = (guint)b;
    return TRUE;
}

/* Decodes serviceNodePortRange into sc->node_port_low/high. */
static gboolean
ld_node_port_range(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    if (!ld_text(n, path, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    guint low = 0, high = 0;
    if (!ld_parse_port_range(text, &low, &high) || low < 1 || low > high || high > 65535)
        return ld_fail(error, n,
                       "%s: Invalid value: \"%s\": must be LOW-HIGH (or a single port) with "
                       "1 <= LOW <= HIGH <= 65535",
                       path, text);
    ld->sc->node_port_low = (guint16)low;
    ld->sc->node_port_high = (guint16)high;
    return TRUE;
}

/* Decodes serviceCIDR: one CIDR or a comma-separated (or YAML) list, at most one per family. */
static gboolean
ld_service_cidrs(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    g_autoptr(GPtrArray) texts = NULL;
    if (!ld_string_list(n, path, TRUE, &texts, error))
        return FALSE;
    g_autoptr(GArray) cidrs = g_array_new(FALSE, TRUE, sizeof(SimCidr));
    for (guint i = 0; i < texts->len; i++) {
        g_auto(GStrv) parts = g_strsplit(texts->pdata[i], ",", -1);
        for (guint j = 0; parts[j] != NULL; j++) {
            SimCidr c;
            char *t = g_strstrip(parts[j]);
            if (strchr(t, '/') == NULL || !sim_cidr_parse(t, &c))
                return ld_fail(error, n,
                               "%s: Invalid value: \"%s\": must be a valid CIDR value, (e.g. "
                               "10.9.8.0/24 or 2001:db8::/64)",
                               path, t);
            for (guint k = 0; k < cidrs->len; k++)
                if (g_array_index(cidrs, SimCidr, k).addr.family == c.addr.family)
                    return ld_fail(error, n,
                                   "%s: Invalid value: \"%s\": may specify no more than one CIDR "
                                   "for each IP family",
                                   path, (const char *)texts->pdata[i]);
            g_array_append_val(cidrs, c);
        }
    }
    if (cidrs->len == 0)
        return ld_fail(error, n, "%s: Required value: at least one CIDR", path);
    g_array_unref(ld->sc->service_cidrs);
    ld->sc->service_cidrs = g_steal_pointer(&cidrs);
    return TRUE;
}

/* Parses "10Gbps", "100Mbps", "2.5Gbps", "1000bps" or a bare number of bits per second. */
static gboolean
ld_parse_bandwidth(const char *text, guint64 *out)
{
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {{"Tbps", 1e12}, {"Gbps", 1e9}, {"Mbps", 1e6},
                 {"Kbps", 1e3},  {"kbps", 1e3}, {"bps", 1.0}};
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || !(v > 0))
        return FALSE;
    double scale = 0;
    if (*end == '\0')
        scale = 1.0;
    for (gsize i = 0; scale == 0 && i < G_N_ELEMENTS(units); i++)
        if (strcmp(end, units[i].suffix) == 0)
            scale = units[i].scale;
    if (scale == 0 || v * scale < 1 || v * scale > 1e18)
        return FALSE;
    *out = (guint64)(v * scale + 0.5);
    return TRUE;
}

/* Decodes spec.cluster.network {latency, bandwidth}. */
static gboolean
ld_network(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"latency", "bandwidth", NULL};
    if (!ld_check_fields(n, fields, "Scenario", path, error))
        return FALSE;
    g_autofree char *lp = ld_path(path, "latency"), *bp = ld_path(path, "bandwidth");
    g_autofree char *bw = NULL;
    const YtNode *bw_node = yt_map_get(n, "bandwidth");
    if (!ld_duration(yt_map_get(n, "latency"), lp, &ld->sc->net_latency, error) ||
        !ld_text(bw_node, bp, &bw, error))
        return FALSE;
    if (bw != NULL && !ld_parse_bandwidth(bw, &ld->sc->net_bandwidth))
        return ld_fail(error, bw_node,
                       "%s: Invalid value: \"%s\": must be a rate such as 10Gbps, 1Gbps or "
                       "100Mbps",
                       bp, bw);
    return TRUE;
}

/* Decodes spec.cluster. */
static gboolean
ld_cluster(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {
        "nodes", "clusterCIDR", "serviceCIDR", "serviceNodePortRange", "network", NULL};
    if (!ld_check_fields(n, fields, "Scenario", path, error))
        return FALSE;
    g_autofree char *np = ld_path(path, "nodes"), *cp = ld_path(path, "clusterCIDR");
    g_autofree char *sp = ld_path(path, "serviceCIDR");
    g_autofree char *rp = ld_path(path, "serviceNodePortRange");
    g_autofree char *wp = ld_path(path, "network");
    const YtNode *nodes = yt_map_get(n, "nodes");
    if (nodes != NULL && nodes->type == YT_MAPPING) {
        if (!ld_cluster_node_count(ld, nodes, np, error))
            return FALSE;
    } else if (!yt_is_null(nodes)) {
        if (!ld_expect_seq(nodes, np, error))
            return FALSE;
        guint insert_at = 0;
        for (guint i = 0; i < nodes->items->len; i++) {
            g_autofree char *p = ld_path_index(np, i);
            if (!ld_cluster_node(ld, nodes->items->pdata[i], p, &insert_at, error))
                return FALSE;
        }
    }
    return ld_cidr(NULL, yt_map_get(n, "clusterCIDR"), cp, FALSE, &ld->sc->cluster_cidr, error) &&
           ld_service_cidrs(ld, yt_map_get(n, "serviceCIDR"), sp, error) &&
           ld_node_port_range(ld, yt_map_get(n, "serviceNodePortRange"), rp, error) &&
           ld_network(ld, yt_map_get(n, "network"), wp, error);
}

/* ------------------------------------------------ Scenario: events and expectations */

/* Flattens a YAML value into "a.b[0].c" -> scalar text entries of fields. */
static void
ld_flatten(const YtNode *n, const char *prefix, GHashTable *fields)
{
    switch (n->type) {
    case YT_SCALAR:
        g_hash_table_insert(fields, g_strdup(prefix), g_strdup(yt_is_null(n) ? "" : n->text));
        return;
    case YT_SEQUENCE:
        for (guint i = 0; i < n->items->len; i++) {
            g_autofree char *p = ld_path_index(prefix, i);
            ld_flatten(n->items->pdata[i], p, fields);
        }
        return;
    case YT_MAPPING:
        for (guint i = 0; i < n->pairs->len; i++) {
            const YtPair *pair = &g_array_index(n->pairs, YtPair, i);
            g_autofree char *p = ld_path(prefix, pair->key->text);
            ld_flatten(pair->value, p, fields);
        }
        return;
    }
}

static const char *const ld_event_kinds[] = {
    "nodeDown",       "nodeUp",   "nodeDrain", "nodeUncordon", "podKill",
    "podCrash",       "podReady", "ready",     "scale",        "patch",
    "rolloutRestart", "apply",    "delete",    "proxyRestart", NULL};

/* Picks the one action key of an event, with did-you-mean for unknown keys. */
static gboolean
ld_event_kind(const YtNode *item, const char *path, const YtPair **action, GError **error)
{
    const char *known[G_N_ELEMENTS(ld_event_kinds) + 1];
    known[0] = "at";
    for (gsize i = 0; ld_event_kinds[i] != NULL; i++)
        known[i + 1] = ld_event_kinds[i];
    known[G_N_ELEMENTS(ld_event_kinds)] = NULL;
    if (!ld_check_fields(item, known, "Scenario", path, error))
        return FALSE;
    *action = NULL;
    for (guint i = 0; item != NULL && item->type == YT_MAPPING && i < item->pairs->len; i++) {
        const YtPair *p = &g_array_index(item->pairs, YtPair, i);
        if (strcmp(p->key->text, "at") == 0)
            continue;
        if (*action != NULL)
            return ld_fail(error, p->key,
                           "%s: an event holds one action, and '%s' follows '%s'; write two "
                           "events",
                           path, p->key->text, (*action)->key->text);
        *action = p;
    }
    if (*action == NULL)
        return ld_fail(error, item,
                       "%s: an event needs an action: nodeDown, nodeUp, nodeDrain, "
                       "nodeUncordon, podKill, podCrash, podReady, scale, patch, rolloutRestart, "
                       "apply, delete or proxyRestart",
                       path);
    return TRUE;
}

/* Builds a ScenarioItem with its fields flattened. (transfer full) */
static ScenarioItem *
ld_item_new(const char *kind, const YtNode *item, SimTime at)
{
    ScenarioItem *it = g_new0(ScenarioItem, 1);
    it->kind = g_strdup(kind);
    it->at = at;
    it->pos = ld_pos(item);
    it->fields = k8s_string_table_new();
    return it;
}

/* Decodes spec.events [{at, ACTION: ...}]. Node names of node actions are checked at the end. */
static gboolean
ld_events(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *atp = ld_path(p, "at");
        const YtPair *action = NULL;
        SimTime at = -1;
        if (!ld_event_kind(item, p, &action, error) ||
            !ld_duration(yt_map_get(item, "at"), atp, &at, error))
            return FALSE;
        if (at < 0)
            return ld_fail(error, item, "%s: Required value: when the event happens", atp);
        const char *kind = action->key->text;
        gboolean node_action = strcmp(kind, "nodeDown") == 0 || strcmp(kind, "nodeUp") == 0 ||
                               strcmp(kind, "nodeDrain") == 0 ||
                               strcmp(kind, "nodeUncordon") == 0 ||
                               strcmp(kind, "proxyRestart") == 0;
        if (node_action && action->value->type == YT_SCALAR && !yt_is_null(action->value)) {
            g_autofree char *kp = ld_path(p, kind);
            ld_add_node_ref(ld, action->value, kp);
        }
        ScenarioItem *it = ld_item_new(kind, item, at);
        ld_flatten(action->value, kind, it->fields);
        g_ptr_array_add(ld->sc->events, it);
    }
    return TRUE;
}

/* Decodes spec.expect: mappings with known keys, kept flattened for the run-time to judge. */
static gboolean
ld_expect(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const keys[] = {"traffic",    "pods",      "probe",     "succeeded",
                                       "maxShare",   "minShare",  "imbalance", "sourceIPSeenByPods",
                                       "verdict",    "endpoints", "blackHole", "drops",
                                       "node",       "from",      "to",        "protocol",
                                       "masquerade", "at",        "target",    NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *atp = ld_path(p, "at");
        SimTime at = 0;
        if (!ld_check_fields(item, keys, "Scenario", p, error) ||
            !ld_duration(yt_map_get(item, "at"), atp, &at, error))
            return FALSE;
        if (yt_is_null(item) || item->pairs->len == 0)
            return ld_fail(error, item, "%s: an expectation needs at least one key", p);
        ScenarioItem *it = ld_item_new("expect", item, at);
        ld_flatten(item, "", it->fields);
        g_ptr_array_add(ld->sc->expect, it);
    }
    return TRUE;
}

/* ---------------------------------------------------------------- Scenario document */

/* Decodes the Scenario's metadata {name, description, labels, annotations}. */
static gboolean
ld_scenario_meta(Loader *ld, const YtNode *n, GError **error)
{
    static const char *const fields[] = {"name", "description", "labels", "annotations", NULL};
    GHashTable *ignored = NULL;
    gboolean ok = ld_check_fields(n, fields, "Scenario", "metadata", error) &&
                  ld_get_string(n, "name", "metadata", &ld->sc->name, error) &&
                  ld_get_string(n, "description", "metadata", &ld->sc->description, error) &&
                  ld_get_string_map(n, "labels", "metadata", &ignored, error) &&
                  ld_get_string_map(n, "annotations", "metadata", &ignored, error);
    if (ignored != NULL)
        g_hash_table_unref(ignored);
    return ok;
}

/* Decodes spec.seed: an unsigned 64-bit integer. */
static gboolean
ld_seed(Loader *ld, const YtNode *n, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    guint64 v;
    if (n->type != YT_SCALAR || yt_scalar_kind(n) != YT_VALUE_INT ||
        !g_ascii_string_to_unsigned(n->text, 10, 0, G_MAXUINT64, &v, NULL))
        return ld_fail(error, n, "spec.seed: expected an unsigned integer, got %s%s%s%s",
                       n->type == YT_SCALAR ? "'" : "", n->type == YT_SCALAR ? n->text : "",
                       n->type == YT_SCALAR ? "'" : "", n->type == YT_SCALAR ? "" : yt_describe(n));
    ld->sc->seed = v;
    return TRUE;
}

/* Decodes spec.pods {serviceTime, concurrency}: how every pod's server handles requests. */
static gboolean
ld_pods(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"serviceTime", "concurrency", NULL};
    if (yt_is_null(n))
        return TRUE;
    g_autofree char *sp = ld_path(path, "serviceTime");
    gint64 concurrency = ld->sc->pod_concurrency;
    if (!ld_expect_map(n, path, error) || !ld_check_fields(n, fields, "Scenario", path, error) ||
        !ld_duration(yt_map_get(n, "serviceTime"), sp, &ld->sc->pod_service_time, error) ||
        !ld_get_int(n, "concurrency", path, &concurrency, error))
        return FALSE;
    if (concurrency < 1 || concurrency > 1000000)
        return ld_fail(error, yt_map_get(n, "concurrency"),
                       "%s.concurrency: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 1 and 1000000",
                       path, concurrency);
    ld->sc->pod_concurrency = (guint)concurrency;
    return TRUE;
}

/* Decodes spec.controllers {nodeMonitorPeriod, nodeMonitorGracePeriod, podEvictionTimeout,
 * endpointUpdateDelay, podStartupTime}: the control plane's timings for events. */
static gboolean
ld_controllers(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"nodeMonitorPeriod", "nodeMonitorGracePeriod",
                                         "podEvictionTimeout", "endpointUpdateDelay",
                                         "podStartupTime",     NULL};
    SimTime *slots[] = {&ld->sc->node_monitor_period, &ld->sc->node_monitor_grace,
                        &ld->sc->pod_eviction_timeout, &ld->sc->endpoint_update_delay,
                        &ld->sc->pod_startup};
    if (yt_is_null(n))
        return TRUE;
    if (!ld_expect_map(n, path, error) || !ld_check_fields(n, fields, "Scenario", path, error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(slots); i++) {
        g_autofree char *fp = ld_path(path, fields[i]);
        if (!ld_duration(yt_map_get(n, fields[i]), fp, slots[i], error))
            return FALSE;
    }
    if (ld->sc->node_monitor_period <= 0)
        return ld_fail(error, yt_map_get(n, "nodeMonitorPeriod"),
                       "%s.nodeMonitorPeriod: Invalid value: must be positive", path);
    return TRUE;
}

/* Decodes the Scenario's spec, in dependency order: duration before traffic, clients before
 * traffic; manifests are read as they are met. */
static gboolean
ld_scenario_spec(Loader *ld, const YtNode *spec, GError **error)
{
    static const char *const fields[] = {"seed",      "duration", "cluster", "proxy",
                                         "manifests", "clients",  "traffic", "events",
                                         "expect",    "patches",  "pods",    "controllers",
                                         "generate",  NULL};
    if (!ld_check_fields(spec, fields, "Scenario", "spec", error))
        return FALSE;
    const YtNode *proxy = yt_map_get(spec, "proxy");
    if (!ld_seed(ld, yt_map_get(spec, "seed"), error) ||
        !ld_duration(yt_map_get(spec, "duration"), "spec.duration", &ld->sc->duration, error) ||
        !ld_cluster(ld, yt_map_get(spec, "cluster"), "spec.cluster", error) ||
        !ld_generate(ld, yt_map_get(spec, "generate"), "spec.generate", error) ||
        !ld_expect_map(proxy, "spec.proxy", error) ||
        (!yt_is_null(proxy) && !ld_proxy_config(ld, proxy, "spec.proxy", FALSE, error)) ||
        !ld_pods(ld, yt_map_get(spec, "pods"), "spec.pods", error) ||
        !ld_controllers(ld, yt_map_get(spec, "controllers"), "spec.controllers", error) ||
        !ld_clients(ld, yt_map_get(spec, "clients"), "spec.clients", error) ||
        !ld_traffic(ld, yt_map_get(spec, "traffic"), "spec.traffic", error) ||
        !ld_events(ld, yt_map_get(spec, "events"), "spec.events", error) ||
        !ld_expect(ld, yt_map_get(spec, "expect"), "spec.expect", error) ||
        !ld_patches(ld, yt_map_get(spec, "patches"), "spec.patches", error))
        return FALSE;
    if (ld->sc->duration <= 0)
        return ld_fail(error, yt_map_get(spec, "duration"), "spec.duration: must be positive");
    return ld_manifests(ld, yt_map_get(spec, "manifests"), "spec.manifests", error);
}

/* Decodes the kind: Scenario document (at most one, only in a scenario file). */
gboolean
ld_scenario_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    const YtNode *kind = yt_map_get(root, "kind");
    if (!ld->scenario_file)
        return ld_fail(error, kind,
                       "a kind: Scenario document belongs in a scenario file, not "
                       "in a manifest");
    if (ld->scenario != NULL)
        return ld_fail(error, kind,
                       "a scenario file holds one kind: Scenario document; the first is at "
                       "%s:%u:%u",
                       ld->scenario->file, ld->scenario->line, ld->scenario->column);
    ld->scenario = root;
    const YtNode *spec = yt_map_get(root, "spec");
    return ld_check_fields(root, fields, "Scenario", "", error) &&
           ld_expect_map(yt_map_get(root, "metadata"), "metadata", error) &&
           ld_scenario_meta(ld, yt_map_get(root, "metadata"), error) &&
           ld_expect_map(spec, "spec", error) && ld_scenario_spec(ld, spec, error);
}
