/* SPDX-License-Identifier: Apache-2.0 */
/* Typing spec.expect: each flattened ScenarioItem becomes an Expectation with a sentence, or a
 * FILE:LINE:COLUMN error naming the entry and the field (model/expect.h).
 *
 * A CI pipeline's assertions must fail loudly when they are mistyped: an unknown traffic,
 * node or reason, a selector that selects nothing, or a threshold that could mean two things
 * ("95" - a percent or a count?) is an input error (exit 2), never an expectation that quietly
 * holds. model/expect_eval.c judges them.
 */
#include "model/expect.h"
#include "model/expect_private.h"

#include <math.h>
#include <string.h>

#include "model/probe.h"
#include "sim/net.h"

G_DEFINE_QUARK(kpsim-expect-error-quark, expect_error)

/* ---------------------------------------------------------------- lifecycle */

void
expectation_free(Expectation *e)
{
    if (e == NULL)
        return;
    g_free(e->text);
    g_free(e->traffic);
    g_free(e->target);
    g_free(e->pods);
    g_clear_pointer(&e->selector, g_hash_table_unref);
    g_free(e->threshold.text);
    g_free(e->node);
    g_clear_pointer(&e->endpoints, g_ptr_array_unref);
    g_free(e);
}

void
expect_result_free(ExpectResult *r)
{
    if (r == NULL)
        return;
    g_free(r->text);
    g_free(r->observed);
    g_free(r);
}

/* ---------------------------------------------------------------- thresholds */

/* See model/expect.h. */
const char *
expect_op_name(ExpectOp op)
{
    switch (op) {
    case EXPECT_OP_GE:
        return ">=";
    case EXPECT_OP_LE:
        return "<=";
    case EXPECT_OP_GT:
        return ">";
    case EXPECT_OP_LT:
        return "<";
    case EXPECT_OP_EQ:
        return "==";
    }
    return "?";
}

/* Reads a leading comparison operator of *p, advancing past it; FALSE when there is none. */
static gboolean
expect_read_op(const char **p, ExpectOp *op)
{
    static const struct {
        const char *text;
        ExpectOp op;
    } ops[] = {{">=", EXPECT_OP_GE}, {"<=", EXPECT_OP_LE}, {"==", EXPECT_OP_EQ},
               {">", EXPECT_OP_GT},  {"<", EXPECT_OP_LT},  {"=", EXPECT_OP_EQ}};
    for (gsize i = 0; i < G_N_ELEMENTS(ops); i++) {
        if (g_str_has_prefix(*p, ops[i].text)) {
            *p += strlen(ops[i].text);
            *op = ops[i].op;
            return TRUE;
        }
    }
    return FALSE;
}

/* See model/expect.h. */
gboolean
expect_threshold_parse(const char *text, ExpectOp default_op, ExpectThreshold *t)
{
    const char *p = text;
    while (g_ascii_isspace(*p))
        p++;
    t->op = default_op;
    expect_read_op(&p, &t->op);
    while (g_ascii_isspace(*p))
        p++;
    if (!g_ascii_isdigit(*p) && *p != '.')
        return FALSE;
    char *end = NULL;
    double v = g_ascii_strtod(p, &end);
    if (end == p || !isfinite(v) || v < 0)
        return FALSE;
    g_autofree char *number = g_strndup(p, (gsize)(end - p));
    gboolean percent = *end == '%';
    if (percent)
        end++;
    while (g_ascii_isspace(*end))
        end++;
    if (*end != '\0')
        return FALSE;
    t->value = percent ? v / 100.0 : v;
    g_free(t->text);
    t->text = percent ? g_strdup_printf("%s%%", number) : g_steal_pointer(&number);
    return TRUE;
}

/* ---------------------------------------------------------------- errors and fields */

typedef struct {
    const Cluster *c;
    const ScenarioItem *item;
    guint index;
} ExpectParse;

static gboolean expect_fail(const ExpectParse *ep, GError **error, const char *field,
                            const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Sets "FILE:LINE:COL: error: spec.expect[i]FIELD: MESSAGE" and returns FALSE. */
static gboolean
expect_fail(const ExpectParse *ep, GError **error, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    const K8sPos *pos = &ep->item->pos;
    g_set_error(error, EXPECT_ERROR, EXPECT_ERROR_INVALID,
                "%s:%u:%u: error: spec.expect[%u]%s%s: %s", pos->file ? pos->file : "<input>",
                pos->line, pos->column, ep->index, field ? "." : "", field ? field : "", msg);
    return FALSE;
}

/* The text of field, or NULL. (transfer none) */
static const char *
expect_field(const ExpectParse *ep, const char *field)
{
    return g_hash_table_lookup(ep->item->fields, field);
}

/* TRUE when some field is key or starts with "key." / "key[". */
static gboolean
expect_has(const ExpectParse *ep, const char *key)
{
    GHashTableIter it;
    gpointer k;
    gsize n = strlen(key);
    g_hash_table_iter_init(&it, ep->item->fields);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        const char *s = k;
        if (strncmp(s, key, n) == 0 && (s[n] == '\0' || s[n] == '.' || s[n] == '['))
            return TRUE;
    }
    return FALSE;
}

/* Fails unless every field belongs to one of the allowed keys (NULL-terminated). */
static gboolean
expect_only(const ExpectParse *ep, const char *const *allowed, const char *what, GError **error)
{
    g_autoptr(GList) keys =
        g_list_sort(g_hash_table_get_keys(ep->item->fields), (GCompareFunc)strcmp);
    for (GList *k = keys; k != NULL; k = k->next) {
        const char *s = k->data;
        gboolean ok = FALSE;
        for (guint i = 0; !ok && allowed[i] != NULL; i++) {
            gsize n = strlen(allowed[i]);
            ok = strncmp(s, allowed[i], n) == 0 && (s[n] == '\0' || s[n] == '.' || s[n] == '[');
        }
        if (!ok) {
            g_autofree char *top = g_strndup(s, strcspn(s, ".["));
            return expect_fail(ep, error, top, "does not belong in %s expectation", what);
        }
    }
    return TRUE;
}

/* ---------------------------------------------------------------- kinds */

/* Reads a threshold field; ratio kinds take a percentage or a fraction in [0, 1]. */
static gboolean
expect_parse_threshold(const ExpectParse *ep, Expectation *e, const char *field, ExpectOp def,
                       gboolean ratio, GError **error)
{
    const char *text = expect_field(ep, field);
    if (text == NULL)
        return expect_fail(ep, error, field, "expected a threshold such as \"%s\"",
                           ratio ? ">= 95%" : "<= 0");
    if (!expect_threshold_parse(text, def, &e->threshold))
        return expect_fail(ep, error, field,
                           "invalid threshold \"%s\": write [>=|<=|>|<|==] NUMBER[%%], e.g. "
                           "\"%s\"",
                           text, ratio ? ">= 95%" : "<= 0");
    gboolean percent = g_str_has_suffix(e->threshold.text, "%");
    if (ratio && e->threshold.value > 1.0)
        return expect_fail(ep, error, field,
                           "invalid threshold \"%s\": a share is at most 100%% (or 1.0); "
                           "write 95%% or 0.95",
                           text);
    if (!ratio && percent)
        return expect_fail(
            ep, error, field, "invalid threshold \"%s\": not a percentage here; write a %s", text,
            g_str_has_prefix(field, "drops") ? "count, e.g. \"<= 0\"" : "ratio, e.g. \"<= 1.2\"");
    return TRUE;
}

/* Reads {traffic: NAME} and checks the scenario has it. */
static gboolean
expect_parse_traffic(const ExpectParse *ep, Expectation *e, GError **error)
{
    const char *name = expect_field(ep, "traffic");
    const Scenario *sc = ep->c->scenario;
    if (name == NULL || name[0] == '\0')
        return expect_fail(ep, error, "traffic", "expected the name of a spec.traffic entry");
    GString *known = g_string_new(NULL);
    for (guint i = 0; i < sc->traffic->len; i++) {
        const ScenarioTraffic *t = sc->traffic->pdata[i];
        if (g_str_equal(t->name, name)) {
            g_string_free(known, TRUE);
            e->traffic = g_strdup(name);
            return TRUE;
        }
        g_string_append_printf(known, "%s%s", known->len ? ", " : "", t->name);
    }
    g_autofree char *names = g_string_free(known, FALSE);
    return expect_fail(ep, error, "traffic", "unknown traffic '%s' (the scenario has: %s)", name,
                       names[0] ? names : "none");
}

/* TRUE when selector selects a pod of c or the pod template of a Deployment. */
static gboolean
expect_selector_selects(const Cluster *c, GHashTable *selector)
{
    for (guint i = 0; i < c->pods->len; i++)
        if (k8s_selector_matches(selector, ((K8sPod *)c->pods->pdata[i])->meta.labels))
            return TRUE;
    for (guint i = 0; i < c->deployments->len; i++)
        if (k8s_selector_matches(selector,
                                 ((K8sDeployment *)c->deployments->pdata[i])->template_.labels))
            return TRUE;
    return FALSE;
}

/* Reads {pods: "k=v[,k=v]"} (equality-based, as kubectl -l takes it). */
static gboolean
expect_parse_pods(const ExpectParse *ep, Expectation *e, GError **error)
{
    const char *text = expect_field(ep, "pods");
    if (text == NULL || text[0] == '\0')
        return expect_fail(ep, error, "pods", "expected a label selector such as app=nginx");
    e->pods = g_strdup(text);
    e->selector = k8s_string_table_new();
    g_auto(GStrv) terms = g_strsplit(text, ",", -1);
    for (guint i = 0; terms[i] != NULL; i++) {
        char *term = g_strstrip(terms[i]);
        char *eq = strchr(term, '=');
        if (eq == NULL || eq == term)
            return expect_fail(ep, error, "pods",
                               "invalid label selector \"%s\": write KEY=VALUE[,KEY=VALUE]", text);
        char *value = eq + (eq[1] == '=' ? 2 : 1);
        *eq = '\0';
        g_hash_table_insert(e->selector, g_strdup(g_strstrip(term)), g_strdup(g_strstrip(value)));
    }
    if (!expect_selector_selects(ep->c, e->selector))
        return expect_fail(ep, error, "pods", "no pod or Deployment template has labels %s", text);
    return TRUE;
}

/* Reads a duration threshold "[OP] DURATION" ("<= 80s", "1m30s") of field into e (value in
 * seconds), upper bound by default. */
static gboolean
expect_parse_duration(const ExpectParse *ep, Expectation *e, const char *field, GError **error)
{
    const char *text = expect_field(ep, field);
    const char *p = text != NULL ? text : "";
    while (g_ascii_isspace(*p))
        p++;
    e->threshold.op = EXPECT_OP_LE;
    expect_read_op(&p, &e->threshold.op);
    while (g_ascii_isspace(*p))
        p++;
    SimTime d;
    if (*p == '\0' || !sim_time_parse(p, &d, NULL) || d < 0)
        return expect_fail(ep, error, field,
                           "invalid duration bound \"%s\": write [>=|<=|>|<|==] DURATION, e.g. "
                           "\"<= 80s\"",
                           text ? text : "");
    e->threshold.value = (double)d / (double)SIM_SEC;
    e->threshold.text = g_strdup(p);
    return TRUE;
}

/* Reads {target: IP:PORT} (optional) and checks it is one of the traffic's `to` entries. */
static gboolean
expect_parse_target(const ExpectParse *ep, Expectation *e, GError **error)
{
    const char *text = expect_field(ep, "target");
    if (text == NULL)
        return TRUE;
    const Scenario *sc = ep->c->scenario;
    SimSockAddr want;
    char norm[SIM_SOCKADDR_STRLEN];
    if (!sim_sockaddr_parse(text, &want, FALSE))
        return expect_fail(ep, error, "target", "expected IP:PORT, got \"%s\"", text);
    sim_sockaddr_to_string(&want, norm);
    g_autoptr(GString) known = g_string_new(NULL);
    for (guint i = 0; i < sc->traffic->len; i++) {
        const ScenarioTraffic *t = sc->traffic->pdata[i];
        for (guint j = 0; g_str_equal(t->name, e->traffic) && j < t->to->len; j++) {
            char buf[SIM_SOCKADDR_STRLEN];
            const char *to = sim_sockaddr_to_string(&g_array_index(t->to, SimSockAddr, j), buf);
            if (g_str_equal(norm, to)) {
                e->target = g_strdup(to);
                return TRUE;
            }
            g_string_append_printf(known, "%s%s", known->len ? ", " : "", to);
        }
    }
    return expect_fail(ep, error, "target", "traffic %s does not send to %s (its targets: %s)",
                       e->traffic, text, known->str);
}

/* {traffic, [target], blackHole}. */
static gboolean
expect_parse_black_hole(const ExpectParse *ep, Expectation *e, GError **error)
{
    static const char *const allowed[] = {"traffic", "target", "blackHole", "at", NULL};
    e->kind = EXPECT_BLACK_HOLE;
    if (!expect_only(ep, allowed, "a blackHole", error) || !expect_parse_traffic(ep, e, error) ||
        !expect_parse_target(ep, e, error) ||
        !expect_parse_duration(ep, e, "blackHole", error))
        return FALSE;
    e->text = g_strdup_printf("traffic %s%s%s: black hole %s %s", e->traffic,
                              e->target ? " to " : "", e->target ? e->target : "",
                              expect_op_name(e->threshold.op), e->threshold.text);
    return TRUE;
}

/* Reads a node name (nullable field) and checks the cluster has the node. */
static gboolean
expect_parse_node(const ExpectParse *ep, const char *field, gboolean required, char **out,
                  GError **error)
{
    const char *name = expect_field(ep, field);
    if (name == NULL && !required)
        return TRUE;
    if (name == NULL || cluster_find_node(ep->c, name) == NULL) {
        g_autoptr(GString) known = g_string_new(NULL);
        for (guint i = 0; i < ep->c->nodes->len; i++)
            g_string_append_printf(known, "%s%s", known->len ? ", " : "",
                                   ((K8sNode *)ep->c->nodes->pdata[i])->name);
        if (name == NULL)
            return expect_fail(ep, error, field, "expected a node name (one of %s)", known->str);
        return expect_fail(ep, error, field, "unknown node '%s' (the cluster has: %s)", name,
                           known->str);
    }
    *out = g_strdup(name);
    return TRUE;
}

/* {traffic, succeeded}. */
static gboolean
expect_parse_succeeded(const ExpectParse *ep, Expectation *e, GError **error)
{
    static const char *const allowed[] = {"traffic", "succeeded", "at", NULL};
    e->kind = EXPECT_SUCCEEDED;
    if (!expect_only(ep, allowed, "a succeeded", error) || !expect_parse_traffic(ep, e, error) ||
        !expect_parse_threshold(ep, e, "succeeded", EXPECT_OP_GE, TRUE, error))
        return FALSE;
    e->text = g_strdup_printf("traffic %s succeeded %s %s", e->traffic,
                              expect_op_name(e->threshold.op), e->threshold.text);
    return TRUE;
}

/* {traffic, sourceIPSeenByPods: preserved|snat}. */
static gboolean
expect_parse_source_ip(const ExpectParse *ep, Expectation *e, GError **error)
{
    static const char *const allowed[] = {"traffic", "sourceIPSeenByPods", "at", NULL};
    e->kind = EXPECT_SOURCE_IP;
    if (!expect_only(ep, allowed, "a sourceIPSeenByPods", error) ||
        !expect_parse_traffic(ep, e, error))
        return FALSE;
    const char *v = expect_field(ep, "sourceIPSeenByPods");
    if (v == NULL || (!g_str_equal(v, "preserved") && !g_str_equal(v, "snat")))
        return expect_fail(ep, error, "sourceIPSeenByPods",
                           "expected preserved (the client's address) or snat (a node's), "
                           "got \"%s\"",
                           v ? v : "");
    e->preserved = g_str_equal(v, "preserved");
    e->text = g_strdup_printf("traffic %s: pods see %s", e->traffic,
                              e->preserved ? "the client's address (preserved)"
                                           : "a node's address (snat)");
    return TRUE;
}

/* {pods, maxShare | minShare | imbalance}. */
static gboolean
expect_parse_share(const ExpectParse *ep, Expectation *e, const char *key, GError **error)
{
    const char *const allowed[] = {"pods", key, "at", NULL};
    gboolean imbalance = g_str_equal(key, "imbalance");
    e->kind = imbalance                      ? EXPECT_IMBALANCE
              : g_str_equal(key, "maxShare") ? EXPECT_MAX_SHARE
                                             : EXPECT_MIN_SHARE;
    ExpectOp def = e->kind == EXPECT_MIN_SHARE ? EXPECT_OP_GE : EXPECT_OP_LE;
    if (!expect_only(ep, allowed, "a pod-share", error) || !expect_parse_pods(ep, e, error) ||
        !expect_parse_threshold(ep, e, key, def, !imbalance, error))
        return FALSE;
    const char *what = imbalance                     ? "imbalance"
                       : e->kind == EXPECT_MAX_SHARE ? "largest share"
                                                     : "smallest share";
    e->text = g_strdup_printf("pods %s: %s %s %s", e->pods, what, expect_op_name(e->threshold.op),
                              e->threshold.text);
    return TRUE;
}

/* {node, drops: {REASON: threshold}}: one reason per expectation. */
static gboolean
expect_parse_drops(const ExpectParse *ep, Expectation *e, GError **error)
{
    static const char *const allowed[] = {"node", "drops", "at", NULL};
    e->kind = EXPECT_DROPS;
    if (!expect_only(ep, allowed, "a drops", error) ||
        !expect_parse_node(ep, "node", FALSE, &e->node, error))
        return FALSE;
    const char *field = NULL;
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, ep->item->fields);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        if (!g_str_has_prefix(k, "drops."))
            continue;
        if (field != NULL)
            return expect_fail(ep, error, "drops",
                               "one reason per expectation; write one entry "
                               "per reason");
        field = k;
    }
    if (field == NULL)
        return expect_fail(ep, error, "drops",
                           "expected {REASON: THRESHOLD}, e.g. {netfilter-drop: \"<= 0\"}");
    const char *reason = field + strlen("drops.");
    e->reason = -1;
    g_autoptr(GString) known = g_string_new(NULL);
    for (int r = 0; r < SIM_DROP_COUNT; r++) {
        if (g_str_equal(reason, sim_drop_reason_name((SimDropReason)r)))
            e->reason = r;
        g_string_append_printf(known, "%s%s", r ? ", " : "", sim_drop_reason_name(r));
    }
    if (e->reason < 0)
        return expect_fail(ep, error, field, "unknown drop reason '%s' (one of %s)", reason,
                           known->str);
    if (!expect_parse_threshold(ep, e, field, EXPECT_OP_LE, FALSE, error))
        return FALSE;
    e->text = g_strdup_printf("%s%s drops %s %s %s", e->node ? "node " : "every node",
                              e->node ? e->node : "", reason, expect_op_name(e->threshold.op),
                              e->threshold.text);
    return TRUE;
}

/* Reads probe.FIELD, falling back to the flat FIELD. (transfer none) (nullable) */
static const char *
expect_probe_field(const ExpectParse *ep, const char *field, const char **path)
{
    g_autofree char *nested = g_strdup_printf("probe.%s", field);
    const char *v = g_hash_table_lookup(ep->item->fields, nested);
    *path = v != NULL ? g_intern_string(nested) : field;
    return v != NULL ? v : expect_field(ep, field);
}

/* Reads the probe's node, from, to and protocol. */
static gboolean
expect_parse_probe_packet(const ExpectParse *ep, Expectation *e, GError **error)
{
    const char *path;
    const char *node = expect_probe_field(ep, "node", &path);
    if (node == NULL)
        path = "probe.node";
    if (!expect_parse_node(ep, path, TRUE, &e->node, error))
        return FALSE;
    const char *from = expect_probe_field(ep, "from", &path);
    if (from == NULL || !sim_sockaddr_parse(from, &e->from, TRUE))
        return expect_fail(ep, error, from ? path : "probe.from",
                           "expected the source IP[:PORT], got \"%s\"", from ? from : "");
    const char *to = expect_probe_field(ep, "to", &path);
    if (to == NULL || !sim_sockaddr_parse(to, &e->to, FALSE))
        return expect_fail(ep, error, to ? path : "probe.to",
                           "expected the destination IP:PORT, got \"%s\"", to ? to : "");
    if (e->from.addr.family != e->to.addr.family)
        return expect_fail(ep, error, "probe", "from and to are of different address families");
    const char *proto = expect_probe_field(ep, "protocol", &path);
    e->protocol = SIM_PROTO_TCP;
    if (proto != NULL && !sim_proto_parse(proto, &e->protocol))
        return expect_fail(ep, error, path, "expected TCP, UDP or SCTP, got \"%s\"", proto);
    return TRUE;
}

/* See expect_private.h. */
gint
expect_compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads verdict, endpoints[] (sorted IP:PORTs; null means none) and masquerade. */
static gboolean
expect_parse_probe_outcome(const ExpectParse *ep, Expectation *e, GError **error)
{
    static const NfVerdict verdicts[] = {NF_VERDICT_ACCEPT, NF_VERDICT_DROP, NF_VERDICT_REJECT,
                                         NF_VERDICT_NONE};
    const char *v = expect_field(ep, "verdict");
    gboolean found = FALSE;
    for (gsize i = 0; v != NULL && !found && i < G_N_ELEMENTS(verdicts); i++)
        if ((found = g_str_equal(v, nf_verdict_name(verdicts[i]))))
            e->verdict = verdicts[i];
    if (!found)
        return expect_fail(ep, error, "verdict",
                           "expected accept, drop, reject or none, got "
                           "\"%s\"",
                           v ? v : "");
    if (expect_has(ep, "endpoints")) {
        e->endpoints = g_ptr_array_new_with_free_func(g_free);
        const char *single = expect_field(ep, "endpoints");
        gboolean none = single != NULL && (single[0] == '\0' || g_str_equal(single, "none"));
        for (guint i = 0; !none; i++) {
            g_autofree char *f = g_strdup_printf("endpoints[%u]", i);
            const char *text = expect_field(ep, f);
            SimSockAddr sa;
            char buf[SIM_SOCKADDR_STRLEN];
            if (text == NULL && i > 0)
                break;
            if (text == NULL || !sim_sockaddr_parse(text, &sa, FALSE))
                return expect_fail(ep, error, text ? f : "endpoints",
                                   "expected a list of IP:PORT (as kpsim trace prints them), "
                                   "or none");
            g_ptr_array_add(e->endpoints, g_strdup(sim_sockaddr_to_string(&sa, buf)));
        }
        g_ptr_array_sort(e->endpoints, expect_compare_strings);
    }
    const char *m = expect_field(ep, "masquerade");
    e->masquerade = -1;
    if (m != NULL && !g_str_equal(m, "true") && !g_str_equal(m, "false"))
        return expect_fail(ep, error, "masquerade", "expected true or false, got \"%s\"", m);
    if (m != NULL)
        e->masquerade = g_str_equal(m, "true");
    return TRUE;
}

/* See expect_private.h. */
char *
expect_join(const GPtrArray *list)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", (const char *)list->pdata[i]);
    return g_string_free(s, FALSE);
}

/* {probe: {node, from, to, protocol}, verdict, endpoints, masquerade}. */
static gboolean
expect_parse_probe(const ExpectParse *ep, Expectation *e, GError **error)
{
    static const char *const allowed[] = {"probe",   "node",      "from",       "to", "protocol",
                                          "verdict", "endpoints", "masquerade", "at", NULL};
    e->kind = EXPECT_PROBE;
    if (!expect_only(ep, allowed, "a probe", error) || !expect_parse_probe_packet(ep, e, error) ||
        !expect_parse_probe_outcome(ep, e, error))
        return FALSE;
    char from[SIM_SOCKADDR_STRLEN], to[SIM_SOCKADDR_STRLEN];
    GString *t = g_string_new(NULL);
    char at[SIM_TIME_STRLEN];
    e->at = ep->item->at;
    g_string_append_printf(t, "probe on %s%s%s from %s to %s/%s: verdict %s", e->node,
                           e->at > 0 ? " at " : "", e->at > 0 ? sim_time_format(e->at, at) : "",
                           e->from.port ? sim_sockaddr_to_string(&e->from, from)
                                        : sim_addr_to_string(&e->from.addr, from),
                           sim_sockaddr_to_string(&e->to, to), sim_proto_k8s_name(e->protocol),
                           nf_verdict_name(e->verdict));
    if (e->endpoints != NULL) {
        g_autofree char *list = expect_join(e->endpoints);
        g_string_append_printf(t, ", endpoints [%s]", list);
    }
    if (e->masquerade >= 0)
        g_string_append_printf(t, ", masquerade %s", e->masquerade ? "true" : "false");
    e->text = g_string_free(t, FALSE);
    return TRUE;
}

/* Picks the kind from the keys present and parses it. */
static gboolean
expect_parse_kind(const ExpectParse *ep, Expectation *e, GError **error)
{
    static const char *const shares[] = {"maxShare", "minShare", "imbalance"};
    if (expect_has(ep, "blackHole"))
        return expect_parse_black_hole(ep, e, error);
    if (expect_has(ep, "probe") || expect_has(ep, "verdict"))
        return expect_parse_probe(ep, e, error);
    if (expect_has(ep, "succeeded"))
        return expect_parse_succeeded(ep, e, error);
    if (expect_has(ep, "sourceIPSeenByPods"))
        return expect_parse_source_ip(ep, e, error);
    if (expect_has(ep, "drops"))
        return expect_parse_drops(ep, e, error);
    for (gsize i = 0; i < G_N_ELEMENTS(shares); i++)
        if (expect_has(ep, shares[i]))
            return expect_parse_share(ep, e, shares[i], error);
    return expect_fail(ep, error, NULL,
                       "an expectation needs one of succeeded, sourceIPSeenByPods (with "
                       "traffic), maxShare, minShare, imbalance (with pods), probe with "
                       "verdict, drops, or blackHole (with traffic)");
}

/* See model/expect.h. */
Expectation *
expect_parse(const Cluster *c, const ScenarioItem *item, guint index, GError **error)
{
    g_return_val_if_fail(c != NULL && item != NULL, NULL);
    ExpectParse ep = {.c = c, .item = item, .index = index};
    g_autoptr(Expectation) e = g_new0(Expectation, 1);
    e->pos = item->pos;
    e->masquerade = -1;
    if (!expect_parse_kind(&ep, e, error))
        return NULL;
    if (item->at != 0 && e->kind != EXPECT_PROBE) {
        expect_fail(&ep, error, "at",
                    "'at' is not supported here: only probes are judged at a time, the other "
                    "expectations over the whole run");
        return NULL;
    }
    return g_steal_pointer(&e);
}

/* See model/expect.h. */
GPtrArray *
expect_parse_all(const Cluster *c, GError **error)
{
    g_return_val_if_fail(c != NULL && c->scenario != NULL, NULL);
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)expectation_free);
    for (guint i = 0; i < c->scenario->expect->len; i++) {
        Expectation *e = expect_parse(c, c->scenario->expect->pdata[i], i, error);
        if (e == NULL)
            return NULL;
        g_ptr_array_add(list, e);
    }
    return g_steal_pointer(&list);
}

/* See model/expect.h. */
gboolean
expect_needs_run(const GPtrArray *expectations)
{
    for (guint i = 0; expectations != NULL && i < expectations->len; i++)
        if (((const Expectation *)expectations->pdata[i])->kind != EXPECT_PROBE)
            return TRUE;
    return FALSE;
}
