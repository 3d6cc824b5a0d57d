/* SPDX-License-Identifier: Apache-2.0 */
/* The run report as one self-contained HTML page (report.html): what a person opens in a
 * browser, or prints, to see a run.
 *
 * The page stands in for a dashboard (Grafana over kube-proxy's and the pods' metrics) and for
 * the whiteboard drawing an engineer makes of a NodePort Service: the topology with the paths
 * connections took, SNAT and cross-node hops and where packets were dropped; the load per pod
 * and per node against an even split and the client address each pod saw; a timeline per
 * traffic; one packet's journey through a node's rules (model/probe.h, as `kpsim trace`); and
 * every drawn node's iptables-save. Everything is drawn here as inline SVG (tools/svg.h): no
 * script, font, stylesheet or image is fetched, and a few lines of script only open the
 * collapsed rules before printing.
 *
 * Deterministic: a pure function of the report and the cluster (no clock, no wall_seconds).
 * Large clusters are aggregated: beyond REPORT_HTML_MAX_NODES nodes the busiest are drawn and
 * one box stands for the rest, beyond REPORT_HTML_MAX_PODS pods the busiest are listed, and
 * the page says so.
 */
#include "tools/report_html_private.h"

#include <string.h>

#include "model/kube_proxy.h"
#include "model/probe.h"
#include "tools/svg.h"

/* ------------------------------------------------------------------ helpers */

/* Frees a drawn node. */
static void
html_node_free(gpointer data)
{
    HtmlNode *n = data;
    g_ptr_array_unref(n->pods);
    g_free(n->snat_to);
    g_free(n);
}

/* Frees an edge. */
static void
html_edge_free(gpointer data)
{
    HtmlEdge *e = data;
    g_string_free(e->ports, TRUE);
    g_free(e);
}

/* "33.3%" of part in whole (0% when whole is 0). buf >= 16 bytes. */
const char *
html_percent(guint64 part, guint64 whole, char *buf)
{
    return report_format_percent(whole > 0 ? (double)part / (double)whole : 0, buf);
}

/* Appends printf-formatted text, escaped. */
void
html_printf(GString *out, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *text = g_strdup_vprintf(format, ap);
    va_end(ap);
    svg_escape(out, text);
}

/* Appends an SVG <text> whose content is printf-formatted. */
void
html_svg_textf(GString *out, double x, double y, const char *cls, const char *anchor,
               const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *text = g_strdup_vprintf(format, ap);
    va_end(ap);
    svg_text(out, x, y, cls, anchor, text);
}

/* The first address of a comma-separated list. (transfer full) */
char *
html_first_address(const char *addresses)
{
    const char *comma = addresses != NULL ? strchr(addresses, ',') : NULL;
    return comma != NULL ? g_strndup(addresses, (gsize)(comma - addresses)) : g_strdup(addresses);
}

/* Orders pods busiest first, then by name. */
gint
html_pod_busier(gconstpointer a, gconstpointer b)
{
    const ReportPod *x = *(const ReportPod *const *)a, *y = *(const ReportPod *const *)b;
    if (x->connections != y->connections)
        return x->connections > y->connections ? -1 : 1;
    return g_strcmp0(x->name, y->name);
}

/* ------------------------------------------------------------------ choosing what to draw */

/* The index of every node of r by name: name -> index + 1. (transfer full) */
static GHashTable *
html_node_indexes(const RunReport *r)
{
    GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < r->nodes->len; i++)
        g_hash_table_insert(t, ((ReportNode *)r->nodes->pdata[i])->name, GUINT_TO_POINTER(i + 1));
    return t;
}

/* The index in r's nodes of the node p runs on, or G_MAXUINT. */
static guint
html_pod_node(GHashTable *indexes, const ReportPod *p)
{
    guint i = p->node != NULL ? GPOINTER_TO_UINT(g_hash_table_lookup(indexes, p->node)) : 0;
    return i > 0 ? i - 1 : G_MAXUINT;
}

/* How busy each node is: connections addressed to it plus connections its pods accepted.
 * Cost: O(nodes + pods). (transfer full) */
static guint64 *
html_node_weights(const RunReport *r, GHashTable *indexes)
{
    guint64 *w = g_new0(guint64, r->nodes->len + 1);
    for (guint i = 0; i < r->nodes->len; i++)
        w[i] = ((const ReportNode *)r->nodes->pdata[i])->connections_entered;
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        guint n = html_pod_node(indexes, p);
        if (n != G_MAXUINT)
            w[n] += p->connections;
    }
    return w;
}

typedef struct {
    guint index;
    guint64 weight;
} HtmlRank;

/* Orders ranks heaviest first, then by report order. */
static gint
html_rank_cmp(gconstpointer a, gconstpointer b)
{
    const HtmlRank *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Orders ranks by report order. */
static gint
html_rank_index_cmp(gconstpointer a, gconstpointer b)
{
    const HtmlRank *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Fills a drawn node's pods (the busiest, at most cap) and its counters. */
static void
html_node_fill(Html *h, HtmlNode *hn, guint cap)
{
    hn->pods = g_ptr_array_new();
    for (guint i = 0; i < h->r->pods->len; i++) {
        const ReportPod *p = h->r->pods->pdata[i];
        if (g_strcmp0(p->node, hn->node->name) != 0)
            continue;
        g_ptr_array_add(hn->pods, (gpointer)p);
        hn->pod_conns += p->connections;
    }
    g_ptr_array_sort(hn->pods, html_pod_busier);
    if (hn->pods->len > cap) {
        hn->hidden_pods = hn->pods->len - cap;
        g_ptr_array_set_size(hn->pods, cap);
    }
}

/* Picks the nodes to draw: all of them, or beyond the threshold the busiest (one box stands
 * for the rest), kept in report order. */
static void
html_pick_nodes(Html *h)
{
    const RunReport *r = h->r;
    guint n = r->nodes->len;
    g_autofree guint64 *weights = html_node_weights(r, h->node_indexes);
    g_autoptr(GArray) ranks = g_array_sized_new(FALSE, FALSE, sizeof(HtmlRank), n);
    for (guint i = 0; i < n; i++) {
        HtmlRank k = {i, weights[i]};
        g_array_append_val(ranks, k);
    }
    guint keep = n <= REPORT_HTML_MAX_NODES ? n : REPORT_HTML_MAX_NODES - 1;
    g_array_sort(ranks, html_rank_cmp);
    for (guint i = keep; i < n; i++)
        h->hidden_entered +=
            ((const ReportNode *)r->nodes->pdata[g_array_index(ranks, HtmlRank, i).index])
                ->connections_entered;
    h->hidden_nodes = n - keep;
    g_array_set_size(ranks, keep);
    g_array_sort(ranks, html_rank_index_cmp);
    guint cap = CLAMP(REPORT_HTML_MAX_PODS / MAX(keep, 1), 1, REPORT_HTML_MAX_PODS_PER_NODE);
    for (guint i = 0; i < keep; i++) {
        HtmlNode *hn = g_new0(HtmlNode, 1);
        hn->index = g_array_index(ranks, HtmlRank, i).index;
        hn->drawn = i;
        hn->node = r->nodes->pdata[hn->index];
        html_node_fill(h, hn, cap);
        g_ptr_array_add(h->nodes, hn);
        h->drawn[hn->index] = hn;
    }
}

/* Counts, for every pair of drawn nodes, the client connections addressed to the first that a
 * pod on the second served (Html.crossed). Cost: O(pods + their entry nodes). */
static void
html_collect_paths(Html *h)
{
    guint n = h->nodes->len;
    h->crossed = g_new0(guint64, (gsize)n * n + 1);
    for (guint i = 0; i < h->r->pods->len; i++) {
        const ReportPod *p = h->r->pods->pdata[i];
        guint at = html_pod_node(h->node_indexes, p);
        const HtmlNode *b = at != G_MAXUINT ? h->drawn[at] : NULL;
        for (guint j = 0; b != NULL && j < p->entries->len; j++) {
            const ReportPodEntry *e = &g_array_index(p->entries, ReportPodEntry, j);
            const HtmlNode *a = e->node < h->r->nodes->len ? h->drawn[e->node] : NULL;
            if (a != NULL && a != b)
                h->crossed[a->drawn * n + b->drawn] += e->connections;
        }
    }
}

/* The drawn node named name, or NULL. */
static HtmlNode *
html_find_node(const Html *h, const char *name)
{
    for (guint i = 0; name != NULL && i < h->nodes->len; i++) {
        HtmlNode *hn = h->nodes->pdata[i];
        if (g_str_equal(hn->node->name, name))
            return hn;
    }
    return NULL;
}

/* The index of t's client among the drawn clients, adding it when there is room; -1 when the
 * client is not drawn. */
static gint
html_client_index(Html *h, const ReportTraffic *t)
{
    for (guint i = 0; i < h->clients->len; i++)
        if (g_strcmp0(((const ReportTraffic *)h->clients->pdata[i])->from, t->from) == 0)
            return (gint)i;
    if (h->clients->len >= REPORT_HTML_MAX_CLIENTS)
        return -1;
    g_ptr_array_add(h->clients, (gpointer)t);
    return (gint)h->clients->len - 1;
}

/* Adds one target's connections to the edge from client ci to hn. */
static void
html_add_edge(Html *h, guint ci, HtmlNode *hn, const ReportTarget *x)
{
    HtmlEdge *e = NULL;
    for (guint i = 0; i < h->edges->len && e == NULL; i++) {
        HtmlEdge *o = h->edges->pdata[i];
        if (o->client == ci && o->node == hn)
            e = o;
    }
    if (e == NULL) {
        e = g_new0(HtmlEdge, 1);
        e->client = ci;
        e->node = hn;
        e->ports = g_string_new(NULL);
        g_ptr_array_add(h->edges, e);
    }
    e->sent += x->sent;
    e->failed += report_failures_total(&x->failed);
    const char *colon = strrchr(x->target, ':');
    if (colon != NULL && strstr(e->ports->str, colon) == NULL)
        g_string_append_printf(e->ports, "%s%s", e->ports->len ? ", " : "", colon);
}

/* Whether hn's rules masquerade a connection from t's client to target x (a probe through
 * the node's rules, as `kpsim trace` runs it). */
static gboolean
html_target_masquerades(const Html *h, const HtmlNode *hn, const ReportTraffic *t,
                        const ReportTarget *x)
{
    SimSockAddr from, to;
    SimProto proto = SIM_PROTO_TCP;
    const K8sNode *node = cluster_find_node(h->c, hn->node->name);
    if (node == NULL || t->client_address == NULL ||
        !sim_addr_parse(t->client_address, &from.addr) ||
        !sim_sockaddr_parse(x->target, &to, FALSE) || !sim_proto_parse(t->protocol, &proto))
        return FALSE;
    from.port = 0;
    g_autoptr(Probe) p = probe_run(h->c, node, &from, &to, proto, NULL);
    return p != NULL && p->masquerade;
}

/* Collects clients, their edges into drawn nodes, failures per node and which nodes SNAT (the
 * first few targets of a node with traffic are probed: each probe renders the node's rules). */
static void
html_collect_traffic(Html *h)
{
    for (guint i = 0; i < h->r->traffic->len; i++) {
        const ReportTraffic *t = h->r->traffic->pdata[i];
        gint ci = html_client_index(h, t);
        h->total_sent += t->sent;
        for (guint j = 0; j < t->targets->len; j++) {
            const ReportTarget *x = t->targets->pdata[j];
            HtmlNode *hn = html_find_node(h, x->node);
            if (hn == NULL)
                continue;
            hn->failed += report_failures_total(&x->failed);
            if (ci >= 0)
                html_add_edge(h, (guint)ci, hn, x);
            if (hn->snat_to == NULL && x->sent > 0 && hn->probes++ < REPORT_HTML_MAX_PROBES &&
                html_target_masquerades(h, hn, t, x))
                hn->snat_to = html_first_address(hn->node->addresses);
        }
    }
    for (guint i = 0; i < h->r->pods->len; i++)
        h->pod_conns += ((const ReportPod *)h->r->pods->pdata[i])->connections;
}

/* "30080/TCP, 30443/TCP": every nodePort of every Service, which every node opens. */
static char *
html_node_ports(const RunReport *r)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < r->services->len; i++) {
        const ReportService *svc = r->services->pdata[i];
        for (guint j = 0; j < svc->ports->len; j++) {
            const ReportServicePort *p = &g_array_index(svc->ports, ReportServicePort, j);
            if (p->node_port != 0)
                g_string_append_printf(s, "%s%u/%s", s->len ? ", " : "", p->node_port, p->protocol);
        }
    }
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------------ page frame */

static const char html_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "color:#1a1a1a;background:#fff;margin:0;line-height:1.45}\n"
    ".page{max-width:1240px;margin:0 auto;padding:16px 20px}\n"
    "h1{font-size:1.6em;margin:.4em 0}h2{font-size:1.25em;margin:1.4em 0 .4em;"
    "border-bottom:1px solid #bbb}\n"
    "svg{max-width:100%;height:auto;display:block;margin:8px 0}\n"
    "svg text{font-size:12px;fill:#1a1a1a}svg .title{font-size:14px;font-weight:bold}\n"
    "svg .small{font-size:11px;fill:#333}svg .axis{font-size:11px;fill:#333}\n"
    ".node{fill:#f4f4f4;stroke:#1a1a1a;stroke-width:1.5}"
    ".node.drops{stroke:#d55e00;stroke-width:3;stroke-dasharray:8 3}\n"
    ".client{fill:#e8f1f8;stroke:#0072b2;stroke-width:1.5}"
    ".svc{fill:#fff;stroke:#1a1a1a;stroke-width:1}\n"
    ".more{fill:#fff;stroke:#555;stroke-width:1;stroke-dasharray:4 3}\n"
    ".pod{fill:#cde6f5;stroke:#0072b2}\n"
    ".badge-local{fill:#009e73}.badge-cluster{fill:#e69f00}"
    "svg text.badge{fill:#000;font-weight:bold;font-size:11px}\n"
    ".flow{stroke:#0072b2;fill:none}.flow.failed{stroke:#d55e00}\n"
    ".cross{stroke:#b35900;stroke-width:2;stroke-dasharray:7 4;fill:none}\n"
    "svg text.snat{fill:#8a4500;font-weight:bold}svg text.drop{fill:#b23c00;font-weight:bold}\n"
    "svg text.crossing{fill:#8a4500}\n"
    ".cell{fill:#0072b2;stroke:#ccc;stroke-width:1}.cell.local{stroke:#009e73;stroke-width:3}"
    "svg text.cellnum{font-size:10px;fill:#000;paint-order:stroke;stroke:#fff;stroke-width:3}\n"
    ".bar{fill:#0072b2}.kept{fill:#0072b2}.snat-bar{fill:#e69f00}.other{fill:#999}"
    ".succeeded{fill:#0072b2}.failed{fill:#d55e00}.track{fill:#eee}\n"
    ".blackhole{fill:#1a1a1a;fill-opacity:.12;stroke:#1a1a1a;stroke-dasharray:2 2}"
    ".event{stroke:#cc79a7;stroke-width:2;stroke-dasharray:2 2}\n"
    ".even{stroke:#1a1a1a;stroke-width:1.5;stroke-dasharray:5 3}"
    ".gridline{stroke:#ccc;stroke-width:1}\n"
    ".note{background:#fff7e0;border-left:4px solid #e69f00;padding:6px 10px}\n"
    ".legend{font-size:.9em;color:#333}code,pre{font-family:ui-monospace,Menlo,Consolas,"
    "monospace}\n"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:8px;overflow-x:auto;font-size:12px}\n"
    "ol.journey li{margin:.35em 0}.change{background:#fff1c2;padding:0 3px}\n"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
    "\n"
    "@media print{body{font-size:10pt}.page{max-width:none;padding:0}"
    "h2{break-after:avoid}svg{break-inside:avoid}pre{white-space:pre-wrap;font-size:8pt}}\n";

/* Opens every <details> before printing, so the rules are on paper too. */
static const char html_script[] =
    "window.addEventListener('beforeprint',function(){"
    "document.querySelectorAll('details').forEach(function(d){d.open=true;});});";

/* The page head and title block. */
static void
html_head(Html *h)
{
    GString *out = h->out;
    const RunReport *r = h->r;
    g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
                         "\n<title>");
    html_printf(out, "kpsim run: %s", r->scenario != NULL ? r->scenario : "");
    g_string_append_printf(out,
                           "</title>\n<style>\n%s</style>\n</head>\n<body>\n"
                           "<div class=\"page\">\n<h1>",
                           html_style);
    html_printf(out, "kpsim run: %s", r->scenario != NULL ? r->scenario : "");
    g_string_append(out, "</h1>\n");
    if (r->description != NULL)
        svg_element_text(out, "p", r->description);
    char d[SIM_TIME_STRLEN];
    g_string_append(out, "<p class=\"legend\">");
    html_printf(
        out,
        "%s, seed %" G_GUINT64_FORMAT ", %s simulated, %" G_GUINT64_FORMAT " packets on the wire.",
        r->file != NULL ? r->file : "", r->seed, sim_time_format(r->duration, d), r->packets);
    g_string_append(out, "</p>\n");
}

/* The sentences, expectations and notes. */
static void
html_summary(Html *h)
{
    GString *out = h->out;
    const RunReport *r = h->r;
    g_string_append(out, "<h2 id=\"summary\">What happened</h2>\n<ul>\n");
    for (guint i = 0; i < r->summary->len; i++)
        svg_element_text(out, "li", r->summary->pdata[i]);
    g_string_append(out, "</ul>\n");
    if (r->expectation_results != NULL && r->expectation_results->len > 0) {
        g_string_append(out, "<h2 id=\"expectations\">Expectations</h2>\n<ul>\n");
        for (guint i = 0; i < r->expectation_results->len; i++) {
            const ReportExpectation *e = r->expectation_results->pdata[i];
            g_string_append(out, "<li>");
            html_printf(out, "%s %s", e->ok ? "\u2714 PASS" : "\u2718 FAIL", e->text);
            if (e->observed != NULL)
                html_printf(out, " (observed: %s)", e->observed);
            g_string_append(out, "</li>\n");
        }
        g_string_append(out, "</ul>\n");
    }
    for (guint i = 0; i < r->notes->len; i++)
        svg_element_class_text(out, "p", "note", r->notes->pdata[i]);
}

/* The notice that a large cluster is aggregated. */
static void
html_aggregation_note(Html *h)
{
    guint hidden_pods = 0;
    for (guint i = 0; i < h->nodes->len; i++)
        hidden_pods += ((const HtmlNode *)h->nodes->pdata[i])->hidden_pods;
    if (h->hidden_nodes == 0 && hidden_pods == 0 && h->r->pods->len <= REPORT_HTML_MAX_PODS)
        return;
    g_string_append(h->out, "<p class=\"note\">");
    if (h->hidden_nodes > 0)
        html_printf(h->out,
                    "The cluster has %u nodes: the %u busiest are drawn and one box stands for "
                    "the other %u. ",
                    h->r->nodes->len, h->nodes->len, h->hidden_nodes);
    if (hidden_pods > 0)
        html_printf(
            h->out,
            "%u pods on the drawn nodes are not drawn (at most %u per node, the "
            "busiest). ",
            hidden_pods,
            CLAMP(REPORT_HTML_MAX_PODS / MAX(h->nodes->len, 1), 1, REPORT_HTML_MAX_PODS_PER_NODE));
    if (h->r->pods->len > REPORT_HTML_MAX_PODS)
        html_printf(h->out, "The pod chart shows the busiest %u of %u pods.", REPORT_HTML_MAX_PODS,
                    h->r->pods->len);
    g_string_append(h->out, "</p>\n");
}

/* ------------------------------------------------------------------ one packet's journey */

/* The rule of a step as iptables-save (or, in nftables mode, nft list) prints it.
 * (transfer full) */
static char *
journey_rule_text(const NfStep *st)
{
    GString *s = g_string_new(NULL);
    if (st->fell_through)
        g_string_append_printf(s, ":%s ACCEPT (end of chain, policy)", st->chain);
    else if (!kube_proxy_nft_step_rule(st, s) && !kube_proxy_ipvs_step_rule(st, s) &&
             st->rule != NULL)
        nf_rule_format(st->rule, s);
    return g_string_free(s, FALSE);
}

/* One step: table, chain, rule, and what a NAT changed. */
static void
journey_step(Html *h, const Probe *p, const ProbeBranch *pb, const NfStep *st)
{
    GString *out = h->out;
    g_autofree char *rule = journey_rule_text(st);
    char before[SIM_SOCKADDR_STRLEN], after[SIM_SOCKADDR_STRLEN];
    g_string_append(out, "<li><code>");
    html_printf(out, "%s %s", nf_table_name(st->table), st->chain);
    g_string_append(out, "</code>: <code>");
    svg_escape(out, rule);
    g_string_append(out, "</code>");
    gboolean dnat = strstr(rule, "-j DNAT") != NULL || strstr(rule, "dnat to") != NULL;
    /* iptables' MASQUERADE target, or nft's masquerade statement (not a jump to
     * mark-for-masquerade). */
    gboolean masq = strstr(rule, "-j MASQUERADE") != NULL || g_str_equal(rule, "masquerade") ||
                    g_str_has_prefix(rule, "masquerade ") || strstr(rule, " masquerade ") != NULL;
    if (!st->fell_through && dnat && pb->branch->dnat) {
        g_string_append(out, "<br/><span class=\"change\">");
        html_printf(out, "destination %s \u2192 %s",
                    sim_sockaddr_to_string(&pb->branch->orig_dst, before),
                    sim_sockaddr_to_string(&pb->endpoint, after));
        g_string_append(out, "</span>");
    }
    if (!st->fell_through && masq && p->node->addresses->len > 0) {
        sim_addr_to_string(&p->packet.src.addr, before);
        sim_addr_to_string(&g_array_index(p->node->addresses, SimAddr, 0), after);
        g_string_append(out, "<br/><span class=\"change\">");
        html_printf(out, "source %s \u2192 %s (%s's address; the port may change)", before, after,
                    p->node->name);
        g_string_append(out, "</span>");
    }
    g_string_append(out, "</li>\n");
}

/* The endpoints the rules could pick, and the verdict. */
static void
journey_outcome(Html *h, const Probe *p)
{
    GString *out = h->out;
    char buf[SIM_SOCKADDR_STRLEN];
    g_string_append(out, "<ul>\n");
    for (guint b = 0; b < p->branches->len; b++) {
        const ProbeBranch *pb = p->branches->pdata[b];
        if (!pb->branch->dnat)
            continue;
        char prob[SVG_NUM_STRLEN];
        g_string_append(out, "<li>");
        html_printf(out, "%s%% \u2192 %s%s%s%s%s",
                    svg_format_num(100 * pb->branch->probability, prob),
                    sim_sockaddr_to_string(&pb->endpoint, buf), pb->pod ? ", pod " : "",
                    pb->pod ? pb->pod->meta.name : "", pb->pod ? " on " : "",
                    pb->pod && pb->pod->node_name ? pb->pod->node_name : "");
        g_string_append(out, "</li>\n");
    }
    g_string_append(out, "</ul>\n<p>");
    html_printf(out, "Verdict: %s%s", nf_verdict_name(p->verdict),
                p->endpoints->len == 0 ? ""
                : p->masquerade        ? "; masquerade: the pod sees the node's address."
                                       : "; no masquerade: the pod sees the client's own address.");
    g_string_append(out, "</p>\n");
}

/* The first traffic's first target, followed through the rules of the node owning it. */
static void
html_journey(Html *h)
{
    GString *out = h->out;
    g_string_append(out, "<h2 id=\"journey\">One packet's journey</h2>\n");
    const ReportTraffic *t = h->r->traffic->len > 0 ? h->r->traffic->pdata[0] : NULL;
    const ReportTarget *x = t != NULL && t->targets->len > 0 ? t->targets->pdata[0] : NULL;
    const K8sNode *node = x != NULL && x->node != NULL ? cluster_find_node(h->c, x->node) : NULL;
    SimSockAddr from = {0}, to;
    SimProto proto = SIM_PROTO_TCP;
    g_autoptr(Probe) p = NULL;
    if (node != NULL && t->client_address != NULL &&
        sim_addr_parse(t->client_address, &from.addr) &&
        sim_sockaddr_parse(x->target, &to, FALSE) && sim_proto_parse(t->protocol, &proto))
        p = probe_run(h->c, node, &from, &to, proto, NULL);
    if (p == NULL || p->branches->len == 0) {
        g_string_append(out, "<p>The first traffic's first target is not an address of a node: "
                             "there is no node's rules to follow.</p>\n");
        return;
    }
    char src[SIM_SOCKADDR_STRLEN], dst[SIM_SOCKADDR_STRLEN];
    g_string_append(out, "<p>");
    html_printf(out,
                "The first packet (%s SYN for TCP) of a connection from %s %s to %s, through "
                "the rules of %s as the run left them, as kpsim trace follows it (the first of %u "
                "branches of kube-proxy's random endpoint choice):",
                sim_proto_k8s_name(proto), t->from, sim_sockaddr_to_string(&p->packet.src, src),
                sim_sockaddr_to_string(&p->packet.dst, dst), node->name, p->branches->len);
    g_string_append(out, "</p>\n<ol class=\"journey\">\n");
    const ProbeBranch *first = p->branches->pdata[0];
    for (guint i = 0; i < first->branch->steps->len; i++)
        journey_step(h, p, first, &g_array_index(first->branch->steps, NfStep, i));
    g_string_append(out, "</ol>\n<p>Endpoints kube-proxy's rules pick from, per new "
                         "connection:</p>\n");
    journey_outcome(h, p);
}

/* ------------------------------------------------------------------ rules */

/* Each drawn node's iptables-save, collapsed. */
static void
html_rules(Html *h)
{
    GString *out = h->out;
    g_string_append(out, "<h2 id=\"rules\">Rules</h2>\n");
    if (h->hidden_nodes > 0)
        g_string_append_printf(out,
                               "<p class=\"note\">The rules of the %u drawn nodes; run "
                               "<code>kpsim rules</code> for the others.</p>\n",
                               h->nodes->len);
    for (guint i = 0; i < h->nodes->len; i++) {
        const HtmlNode *hn = h->nodes->pdata[i];
        const K8sNode *node = cluster_find_node(h->c, hn->node->name);
        g_autoptr(GError) error = NULL;
        g_autoptr(NfRuleset) rs = node ? kube_proxy_render(h->c, node, SIM_AF_INET, &error) : NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        gboolean nft = rs != NULL && kube_proxy_nft_list(rs, text);
        g_string_append(out, "<details><summary>");
        gboolean ipvs = rs != NULL && !nft && kube_proxy_ipvs_list(rs, text);
        html_printf(out, "%s: %u rules (%s)", hn->node->name, hn->node->rules,
                    nft    ? "nft list table"
                    : ipvs ? "iptables-save, ipvsadm -Ln"
                           : "iptables-save");
        g_string_append(out, "</summary>\n<pre>");
        if (rs != NULL && !nft) {
            if (ipvs)
                g_string_append(text, "\n");
            nf_ruleset_save(rs, NF_TABLE_NAT, text);
            nf_ruleset_save(rs, NF_TABLE_FILTER, text);
        } else if (rs == NULL) {
            g_string_append_printf(text, "(no rules: %s)\n",
                                   error != NULL ? error->message : "unknown node");
        }
        svg_escape(out, text->str);
        g_string_append(out, "</pre></details>\n");
    }
}

/* ------------------------------------------------------------------ the page */

/* Writes the whole page of r; c is the cluster the run simulated (for the probe and rules). */
void
report_html_write(const RunReport *r, const Cluster *c, GString *out)
{
    g_return_if_fail(r != NULL && c != NULL && out != NULL);
    Html h = {.r = r, .c = c, .out = out};
    h.nodes = g_ptr_array_new_with_free_func(html_node_free);
    h.clients = g_ptr_array_new();
    h.edges = g_ptr_array_new_with_free_func(html_edge_free);
    h.node_ports = html_node_ports(r);
    h.node_indexes = html_node_indexes(r);
    h.drawn = g_new0(HtmlNode *, r->nodes->len + 1);
    html_pick_nodes(&h);
    html_collect_paths(&h);
    html_collect_traffic(&h);
    html_head(&h);
    html_summary(&h);
    html_aggregation_note(&h);
    html_topology(&h);
    html_paths(&h);
    html_load_pods(&h);
    html_load_nodes(&h);
    html_timeline(&h);
    html_journey(&h);
    html_rules(&h);
    g_string_append_printf(out, "</div>\n<script>%s</script>\n</body>\n</html>\n", html_script);
    g_ptr_array_unref(h.nodes);
    g_ptr_array_unref(h.clients);
    g_ptr_array_unref(h.edges);
    g_free(h.node_ports);
    g_hash_table_unref(h.node_indexes);
    g_free(h.drawn);
    g_free(h.crossed);
}
