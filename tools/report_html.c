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
#include "tools/report.h"

#include <string.h>

#include "model/kube_proxy.h"
#include "model/probe.h"
#include "tools/svg.h"

#define REPORT_HTML_MAX_NODES 24
#define REPORT_HTML_MAX_PODS 64
#define REPORT_HTML_MAX_PODS_PER_NODE 8
#define REPORT_HTML_MAX_CLIENTS 6
#define REPORT_HTML_MAX_SERVICES 3
#define REPORT_HTML_COLS 4
#define REPORT_HTML_WIDTH 1200.0
#define REPORT_HTML_MAX_COLUMNS 120 /* timeline columns */
#define REPORT_HTML_MAX_PROBES 4    /* targets probed per node for the SNAT label */

/* A drawn node and where its box is. */
typedef struct {
    const ReportNode *node;
    guint index;       /* in the report's nodes */
    GPtrArray *pods;   /* const ReportPod*, the drawn ones, busiest first */
    guint hidden_pods; /* pods on the node not drawn */
    guint64 pod_conns; /* connections accepted by all pods on the node */
    guint64 failed;    /* failed client connections addressed to the node */
    char *snat_to;     /* (nullable) the node's address when its rules masquerade */
    guint probes;      /* targets on the node probed for masquerading so far */
    double x, y, w, h;
} HtmlNode;

/* A client's connections into one node. */
typedef struct {
    guint client; /* index in Html.clients */
    HtmlNode *node;
    guint64 sent, failed;
    GString *ports; /* ":30080, :30081" */
} HtmlEdge;

typedef struct {
    const RunReport *r;
    const Cluster *c;
    GString *out;
    GPtrArray *nodes;   /* HtmlNode*, drawn, in report order */
    guint hidden_nodes; /* nodes beyond the threshold */
    guint64 hidden_entered;
    GPtrArray *clients; /* const ReportTraffic*, first traffic of each client */
    GPtrArray *edges;   /* HtmlEdge* */
    guint64 total_sent;
    guint64 pod_conns;
    char *node_ports; /* "30080/TCP, ..." every node opens */
} Html;

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
static const char *
html_percent(guint64 part, guint64 whole, char *buf)
{
    return report_format_percent(whole > 0 ? (double)part / (double)whole : 0, buf);
}

/* Appends printf-formatted text, escaped. */
static void G_GNUC_PRINTF(2, 3) html_printf(GString *out, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *text = g_strdup_vprintf(format, ap);
    va_end(ap);
    svg_escape(out, text);
}

/* Appends an SVG <text> whose content is printf-formatted. */
static void G_GNUC_PRINTF(6, 7) html_svg_textf(GString *out, double x, double y, const char *cls,
                                               const char *anchor, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *text = g_strdup_vprintf(format, ap);
    va_end(ap);
    svg_text(out, x, y, cls, anchor, text);
}

/* The first address of a comma-separated list. (transfer full) */
static char *
html_first_address(const char *addresses)
{
    const char *comma = addresses != NULL ? strchr(addresses, ',') : NULL;
    return comma != NULL ? g_strndup(addresses, (gsize)(comma - addresses)) : g_strdup(addresses);
}

/* Orders pods busiest first, then by name. */
static gint
html_pod_busier(gconstpointer a, gconstpointer b)
{
    const ReportPod *x = *(const ReportPod *const *)a, *y = *(const ReportPod *const *)b;
    if (x->connections != y->connections)
        return x->connections > y->connections ? -1 : 1;
    return g_strcmp0(x->name, y->name);
}

/* ------------------------------------------------------------------ choosing what to draw */

/* How busy a node is: connections addressed to it plus connections its pods accepted. */
static guint64
html_node_weight(const RunReport *r, const ReportNode *n)
{
    guint64 w = n->connections_entered;
    for (guint i = 0; i < r->pods->len; i++) {
        const ReportPod *p = r->pods->pdata[i];
        if (g_strcmp0(p->node, n->name) == 0)
            w += p->connections;
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
    g_autoptr(GArray) ranks = g_array_sized_new(FALSE, FALSE, sizeof(HtmlRank), n);
    for (guint i = 0; i < n; i++) {
        HtmlRank k = {i, html_node_weight(r, r->nodes->pdata[i])};
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
        hn->node = r->nodes->pdata[hn->index];
        html_node_fill(h, hn, cap);
        g_ptr_array_add(h->nodes, hn);
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

/* ------------------------------------------------------------------ topology */

#define TOPO_CLIENT_W 200.0
#define TOPO_CLIENT_H 56.0
#define TOPO_SVC_W 330.0
#define TOPO_SVC_H 62.0
#define TOPO_GAP 24.0
#define TOPO_LINE 16.0
#define TOPO_POD_H 22.0

/* Lines of text a node box holds besides its pods. */
static guint
topo_node_lines(const HtmlNode *hn)
{
    guint lines = 4 + hn->node->drops->len + (hn->hidden_pods > 0);
    lines += hn->node->connections_crossed > 0;
    lines += hn->snat_to != NULL && hn->node->connections_served > 0;
    lines += hn->failed > 0;
    return lines;
}

/* Places the node boxes on a grid below y0; returns the grid's bottom. */
static double
topo_layout(Html *h, double y0, double row_gap)
{
    guint boxes = h->nodes->len + (h->hidden_nodes > 0);
    guint cols = CLAMP(boxes, 1, REPORT_HTML_COLS);
    double w = (REPORT_HTML_WIDTH - 40 - (cols - 1) * TOPO_GAP) / cols;
    double box_h = 0;
    for (guint i = 0; i < h->nodes->len; i++) {
        const HtmlNode *hn = h->nodes->pdata[i];
        box_h = MAX(box_h, 12 + topo_node_lines(hn) * TOPO_LINE + hn->pods->len * TOPO_POD_H + 10);
    }
    box_h = MAX(box_h, 80);
    guint rows = (boxes + cols - 1) / cols;
    for (guint i = 0; i < h->nodes->len; i++) {
        HtmlNode *hn = h->nodes->pdata[i];
        hn->x = 20 + (i % cols) * (w + TOPO_GAP);
        hn->y = y0 + (i / cols) * (box_h + row_gap);
        hn->w = w;
        hn->h = box_h;
    }
    return y0 + rows * box_h + (rows - 1) * row_gap;
}

/* The clients along the top. */
static void
topo_clients(Html *h)
{
    for (guint i = 0; i < h->clients->len; i++) {
        const ReportTraffic *t = h->clients->pdata[i];
        double x = 20 + i * (TOPO_CLIENT_W + TOPO_GAP);
        svg_tag_begin(h->out, "g");
        svg_attr(h->out, "role", "group");
        svg_attr_printf(h->out, "id", "client-%s", t->from);
        svg_attr_printf(h->out, "aria-label", "client %s at %s", t->from, t->client_address);
        svg_tag_end(h->out, FALSE);
        svg_rect(h->out, x, 20, TOPO_CLIENT_W, TOPO_CLIENT_H, "client");
        html_svg_textf(h->out, x + 10, 40, "title", NULL, "client %s", t->from);
        svg_text(h->out, x + 10, 58, "small", NULL, t->client_address);
        svg_close(h->out, "g");
        g_string_append_c(h->out, '\n');
    }
}

/* One Service box with its policy badge. */
static void
topo_service(Html *h, const ReportService *svc, double x, double y)
{
    gboolean local = g_strcmp0(svc->external_policy, "Local") == 0;
    GString *out = h->out;
    svg_tag_begin(out, "g");
    svg_attr(out, "role", "group");
    svg_attr_printf(out, "id", "svc-%s-%s", svc->namespace_, svc->name);
    svg_attr_printf(out, "aria-label",
                    "Service %s/%s, type %s, externalTrafficPolicy %s, %u ready "
                    "endpoints",
                    svc->namespace_, svc->name, svc->type, svc->external_policy, svc->endpoints);
    svg_tag_end(out, FALSE);
    svg_rect(out, x, y, TOPO_SVC_W, TOPO_SVC_H, "svc");
    html_svg_textf(out, x + 10, y + 18, "title", NULL, "Service %s", svc->name);
    g_autoptr(GString) ports = g_string_new(NULL);
    for (guint j = 0; j < svc->ports->len; j++) {
        const ReportServicePort *p = &g_array_index(svc->ports, ReportServicePort, j);
        g_string_append_printf(ports, "%s%u", j ? ", " : "", p->port);
        if (p->node_port != 0)
            g_string_append_printf(ports, ":%u", p->node_port);
        g_string_append_printf(ports, "/%s", p->protocol);
    }
    html_svg_textf(out, x + 10, y + 36, "small", NULL, "%s %s, %u ready endpoints", svc->type,
                   ports->str, svc->endpoints);
    svg_rect(out, x + 10, y + 42, 220, 16, local ? "badge-local" : "badge-cluster");
    html_svg_textf(out, x + 16, y + 54, "badge", NULL, "%s externalTrafficPolicy: %s",
                   local ? "\u25cf" : "\u25b2", svc->external_policy);
    svg_close(out, "g");
    g_string_append_c(out, '\n');
}

/* The Services in the top right corner; returns the height they take. */
static double
topo_services(Html *h)
{
    const RunReport *r = h->r;
    double x = REPORT_HTML_WIDTH - 20 - TOPO_SVC_W, y = 20;
    guint shown = MIN(r->services->len, REPORT_HTML_MAX_SERVICES);
    for (guint i = 0; i < shown; i++, y += TOPO_SVC_H + 8)
        topo_service(h, r->services->pdata[i], x, y);
    if (r->services->len > shown) {
        html_svg_textf(h->out, x, y + 12, "small", NULL, "+ %u more Services (see the report)",
                       r->services->len - shown);
        y += TOPO_LINE;
    }
    return y - 20;
}

/* One pod inside its node's box. */
static void
topo_pod(Html *h, const HtmlNode *hn, const ReportPod *p, double y)
{
    char b[16];
    svg_tag_begin(h->out, "g");
    svg_attr(h->out, "role", "group");
    svg_attr_printf(h->out, "id", "pod-%s", p->name);
    svg_attr_printf(h->out, "aria-label",
                    "pod %s at %s on %s: %" G_GUINT64_FORMAT " connections, %s of all", p->name,
                    p->ip, hn->node->name, p->connections,
                    html_percent(p->connections, h->pod_conns, b));
    svg_tag_end(h->out, FALSE);
    svg_rect(h->out, hn->x + 10, y, hn->w - 20, TOPO_POD_H - 4, "pod");
    html_svg_textf(h->out, hn->x + 16, y + 13, NULL, NULL, "%s  %s  %s", p->name, p->ip,
                   html_percent(p->connections, h->pod_conns, b));
    svg_close(h->out, "g");
    g_string_append_c(h->out, '\n');
}

/* The lines below a node's pods: crossings, SNAT, failures and drops. */
static void
topo_node_notes(Html *h, const HtmlNode *hn, double y)
{
    const ReportNode *n = hn->node;
    GString *out = h->out;
    double x = hn->x + 10;
    char b[16];
    if (hn->hidden_pods > 0)
        html_svg_textf(out, x, y += TOPO_LINE, "small", NULL, "+ %u more pods", hn->hidden_pods);
    if (n->connections_crossed > 0)
        html_svg_textf(out, x, y += TOPO_LINE, "crossing", NULL,
                       "\u21b7 %s on to other nodes' pods",
                       html_percent(n->connections_crossed, h->total_sent, b));
    if (hn->snat_to != NULL && n->connections_served > 0)
        html_svg_textf(out, x, y += TOPO_LINE, "snat", NULL, "SNAT to %s", hn->snat_to);
    if (hn->failed > 0)
        html_svg_textf(out, x, y += TOPO_LINE, "drop", NULL,
                       "\u2716 %" G_GUINT64_FORMAT " client connections failed here", hn->failed);
    for (guint i = 0; i < n->drops->len; i++) {
        const ReportDrop *d = &g_array_index(n->drops, ReportDrop, i);
        html_svg_textf(out, x, y += TOPO_LINE, "drop", NULL,
                       "\u2716 %" G_GUINT64_FORMAT " packets dropped: %s", d->count, d->reason);
    }
}

/* One node's box: name, addresses, NodePorts, shares, its pods and notes. */
static void
topo_node(Html *h, const HtmlNode *hn)
{
    const ReportNode *n = hn->node;
    GString *out = h->out;
    char b1[16], b2[16];
    svg_tag_begin(out, "g");
    svg_attr(out, "role", "group");
    svg_attr_printf(out, "id", "node-%s", n->name);
    svg_attr_printf(out, "aria-label",
                    "node %s (%s): %" G_GUINT64_FORMAT " connections entered, %" G_GUINT64_FORMAT
                    " reached a pod, %" G_GUINT64_FORMAT " of them on another node, %u drop "
                    "reasons%s%s",
                    n->name, n->addresses, n->connections_entered, n->connections_served,
                    n->connections_crossed, n->drops->len, hn->snat_to ? ", SNAT to " : "",
                    hn->snat_to ? hn->snat_to : "");
    svg_tag_end(out, FALSE);
    svg_rect(out, hn->x, hn->y, hn->w, hn->h, n->drops->len > 0 ? "node drops" : "node");
    double y = hn->y + 18;
    html_svg_textf(out, hn->x + 10, y, "title", NULL, "%s%s", n->name,
                   n->drops->len > 0 ? "  \u2716 drops" : "");
    svg_text(out, hn->x + 10, y += TOPO_LINE, "small", NULL, n->addresses);
    html_svg_textf(out, hn->x + 10, y += TOPO_LINE, "small", NULL, "NodePorts: %s",
                   *h->node_ports ? h->node_ports : "none");
    html_svg_textf(out, hn->x + 10, y += TOPO_LINE, "small", NULL, "entered %s, served here %s",
                   html_percent(n->connections_entered, h->total_sent, b1),
                   html_percent(n->connections_served - n->connections_crossed, h->total_sent, b2));
    y += 6;
    for (guint i = 0; i < hn->pods->len; i++, y += TOPO_POD_H)
        topo_pod(h, hn, hn->pods->pdata[i], y);
    topo_node_notes(h, hn, y - 6);
    svg_close(out, "g");
    g_string_append_c(out, '\n');
}

/* The box standing for the nodes not drawn. */
static void
topo_more_nodes(Html *h, const HtmlNode *first, double row_gap)
{
    guint i = h->nodes->len;
    guint cols = CLAMP(h->nodes->len + 1, 1, REPORT_HTML_COLS);
    double x = 20 + (i % cols) * (first->w + TOPO_GAP);
    double y = first->y + (i / cols) * (first->h + row_gap);
    char b[16];
    svg_tag_begin(h->out, "g");
    svg_attr(h->out, "role", "group");
    svg_attr(h->out, "id", "node-more");
    svg_attr_printf(h->out, "aria-label", "%u more nodes, not drawn", h->hidden_nodes);
    svg_tag_end(h->out, FALSE);
    svg_rect(h->out, x, y, first->w, 60, "more");
    html_svg_textf(h->out, x + 10, y + 22, "title", NULL, "+ %u more nodes", h->hidden_nodes);
    html_svg_textf(h->out, x + 10, y + 40, "small", NULL, "%s of the connections entered there",
                   html_percent(h->hidden_entered, h->total_sent, b));
    svg_close(h->out, "g");
    g_string_append_c(h->out, '\n');
}

/* The arrow-head marker the flows use. */
static void
topo_defs(GString *out)
{
    g_string_append(out, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                         "markerUnits=\"userSpaceOnUse\" markerWidth=\"12\" markerHeight=\"12\" "
                         "orient=\"auto-start-reverse\">"
                         "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#1a1a1a\"/></marker></defs>\n");
}

/* An arrow for a client's connections into a node: a full line from the client when the
 * nodes fit in one row, else a short arrow into the node's box naming the client. */
static void
topo_edge(Html *h, const HtmlEdge *e, gboolean one_row)
{
    const ReportTraffic *t = h->clients->pdata[e->client];
    const HtmlNode *hn = e->node;
    GString *out = h->out;
    char b[16];
    double share = h->total_sent > 0 ? (double)e->sent / (double)h->total_sent : 0;
    double x1 = 20 + e->client * (TOPO_CLIENT_W + TOPO_GAP) + TOPO_CLIENT_W / 2,
           y1 = 20 + TOPO_CLIENT_H;
    double x2 = hn->x + hn->w / 2, y2 = hn->y - 2;
    if (!one_row) {
        x1 = x2;
        y1 = y2 - 34;
    }
    svg_tag_begin(out, "g");
    svg_attr(out, "role", "group");
    svg_attr_printf(out, "aria-label", "%s to %s%s: %" G_GUINT64_FORMAT " connections (%s)%s",
                    t->from, hn->node->name, e->ports->str, e->sent,
                    html_percent(e->sent, h->total_sent, b), e->failed > 0 ? ", some failed" : "");
    svg_tag_end(out, FALSE);
    svg_tag_begin(out, "line");
    svg_attr_num(out, "x1", x1);
    svg_attr_num(out, "y1", y1);
    svg_attr_num(out, "x2", x2);
    svg_attr_num(out, "y2", y2);
    svg_attr(out, "class", e->failed > 0 ? "flow failed" : "flow");
    svg_attr_num(out, "stroke-width", 1.5 + 6 * share);
    svg_attr(out, "marker-end", "url(#arrow)");
    svg_tag_end(out, TRUE);
    double lx = one_row ? x1 + (x2 - x1) * 0.7 : x2 + 6,
           ly = one_row ? y1 + (y2 - y1) * 0.7 : y2 - 20;
    html_svg_textf(out, lx + 4, ly, "small", NULL, "%s%s %s %s%s", one_row ? "" : t->from,
                   one_row ? "" : " \u2192", e->ports->str, html_percent(e->sent, h->total_sent, b),
                   e->failed > 0 ? " \u2716" : "");
    svg_close(out, "g");
    g_string_append_c(out, '\n');
}

/* A dashed arc below the row from a node whose connections crossed to a node whose pods took
 * connections. */
static void
topo_cross_arc(Html *h, const HtmlNode *a, const HtmlNode *b)
{
    gboolean right = b->x > a->x;
    /* Arcs leave 10 px from a node's centre and arrive 30 px from it, and leftward arcs run
     * deeper, so the two directions between a pair of nodes stay apart. */
    double ax = a->x + a->w / 2 + (right ? 10 : -10), bx = b->x + b->w / 2 + (right ? -30 : 30);
    double y = a->y + a->h, d = (right ? 24 : 36) + 14 * (ABS(b->x - a->x) / (a->w + TOPO_GAP));
    char p1[SVG_NUM_STRLEN], p2[SVG_NUM_STRLEN], p3[SVG_NUM_STRLEN], p4[SVG_NUM_STRLEN];
    svg_tag_begin(h->out, "path");
    svg_attr_printf(h->out, "d", "M %s %s C %s %s %s %s %s %s", svg_format_num(ax, p1),
                    svg_format_num(y, p2), p1, svg_format_num(y + d, p3), svg_format_num(bx, p4),
                    p3, p4, p2);
    svg_attr(h->out, "class", "cross");
    svg_attr(h->out, "marker-end", "url(#arrow)");
    svg_attr_printf(h->out, "aria-label", "cross-node hop from %s to pods on %s", a->node->name,
                    b->node->name);
    svg_tag_end(h->out, TRUE);
    g_string_append_c(h->out, '\n');
}

/* The cross-node hops: arcs when the nodes fit in one row, else a dashed stub below each node
 * that forwarded connections elsewhere. */
static void
topo_crossings(Html *h, gboolean one_row)
{
    for (guint i = 0; i < h->nodes->len; i++) {
        const HtmlNode *a = h->nodes->pdata[i];
        if (a->node->connections_crossed == 0)
            continue;
        if (!one_row) {
            double x = a->x + a->w / 2, y = a->y + a->h;
            svg_tag_begin(h->out, "path");
            svg_attr_printf(h->out, "d", "M %d %d l 0 30", (int)x, (int)y);
            svg_attr(h->out, "class", "cross");
            svg_attr(h->out, "marker-end", "url(#arrow)");
            svg_attr_printf(h->out, "aria-label", "cross-node hops from %s", a->node->name);
            svg_tag_end(h->out, TRUE);
            g_string_append_c(h->out, '\n');
            continue;
        }
        for (guint j = 0; j < h->nodes->len; j++) {
            const HtmlNode *b = h->nodes->pdata[j];
            if (b != a && b->pod_conns > 0)
                topo_cross_arc(h, a, b);
        }
    }
}

/* What the drawing's marks mean. */
static void
topo_legend(GString *out, double y)
{
    svg_text(
        out, 20, y, "small", NULL,
        "Solid arrows: client connections into a node's NodePort (width: share of all "
        "connections; \u2716 and red: some failed). Dashed arcs: connections a node sent on to "
        "a pod on another node.");
    svg_text(out, 20, y + TOPO_LINE, "small", NULL,
             "An SNAT label: the node's rules masquerade the client, so its pods see that "
             "address. Dashed red border and \u2716: the node dropped packets.");
    svg_text(out, 20, y + 2 * TOPO_LINE, "small", NULL,
             "Badges: \u25b2 Cluster (the pods of any node, source NAT) or \u25cf Local (only "
             "the node's own pods, the client's address kept).");
}

/* The height the Services take in the top right corner. */
static double
topo_services_height(const RunReport *r)
{
    guint shown = MIN(r->services->len, REPORT_HTML_MAX_SERVICES);
    return shown * (TOPO_SVC_H + 8) + (r->services->len > shown ? TOPO_LINE : 0);
}

/* The topology drawing: clients and Services on top, the nodes with their pods below, the
 * flows between them, a legend. */
static void
html_topology(Html *h)
{
    GString *out = h->out;
    guint boxes = h->nodes->len + (h->hidden_nodes > 0);
    gboolean one_row = boxes <= REPORT_HTML_COLS;
    double row_gap = one_row ? 0 : 80;
    double y0 = 20 + MAX(TOPO_CLIENT_H, topo_services_height(h->r)) + (one_row ? 100 : 70);
    double bottom = topo_layout(h, y0, row_gap);
    double legend = bottom + (one_row ? 100 : 60);
    g_string_append(out, "<h2 id=\"topology\">Topology and paths</h2>\n");
    g_autofree char *desc = g_strdup_printf(
        "%u clients, %u nodes (%u drawn), %u pods and %u Services. Arrows show where the "
        "clients' connections entered and, dashed, where nodes sent them on to pods on other "
        "nodes; SNAT labels mark nodes whose rules masquerade the client's address.",
        h->clients->len, h->r->nodes->len, h->nodes->len, h->r->pods->len, h->r->services->len);
    svg_begin(out, "topology-svg", REPORT_HTML_WIDTH, legend + 3 * TOPO_LINE + 10,
              "Cluster topology with the paths connections took", desc);
    topo_defs(out);
    topo_clients(h);
    topo_services(h);
    for (guint i = 0; i < h->nodes->len; i++)
        topo_node(h, h->nodes->pdata[i]);
    if (h->hidden_nodes > 0 && h->nodes->len > 0)
        topo_more_nodes(h, h->nodes->pdata[0], row_gap);
    for (guint i = 0; i < h->edges->len; i++)
        topo_edge(h, h->edges->pdata[i], one_row);
    topo_crossings(h, one_row);
    topo_legend(out, legend);
    svg_close(out, "svg");
    g_string_append_c(out, '\n');
}

/* ------------------------------------------------------------------ load distribution */

/* One bar of a load chart and its three-part split. */
typedef struct {
    char *label;
    guint64 value;
    guint64 split[3]; /* kept / SNATed / other, or here / elsewhere / nowhere */
} LoadRow;

/* Frees a row's label (a GArray clear function). */
static void
load_row_clear(gpointer data)
{
    g_free(((LoadRow *)data)->label);
}

#define LOAD_X0 340.0
#define LOAD_W 440.0
#define LOAD_SPLIT_X 920.0
#define LOAD_SPLIT_W 260.0
#define LOAD_ROW 24.0

/* One row: label, bar, value and share, and the split bar. */
static void
load_row(GString *out, const LoadRow *row, double y, double scale, guint64 total,
         const char *const names[3])
{
    static const char *const classes[3] = {"kept", "snat-bar", "other"};
    char b[16], s0[16], s1[16], s2[16];
    guint64 parts = row->split[0] + row->split[1] + row->split[2];
    svg_tag_begin(out, "g");
    svg_attr(out, "role", "group");
    svg_attr_printf(out, "aria-label", "%s: %" G_GUINT64_FORMAT " (%s); %s %s, %s %s, %s %s",
                    row->label, row->value, html_percent(row->value, total, b), names[0],
                    html_percent(row->split[0], parts, s0), names[1],
                    html_percent(row->split[1], parts, s1), names[2],
                    html_percent(row->split[2], parts, s2));
    svg_tag_end(out, FALSE);
    svg_text(out, 20, y + 15, NULL, NULL, row->label);
    svg_rect(out, LOAD_X0, y + 3, LOAD_W, LOAD_ROW - 6, "track");
    svg_rect(out, LOAD_X0, y + 3, scale > 0 ? LOAD_W * (double)row->value / scale : 0, LOAD_ROW - 6,
             "bar");
    html_svg_textf(out, LOAD_X0 + LOAD_W + 10, y + 15, NULL, NULL, "%" G_GUINT64_FORMAT " (%s)",
                   row->value, b);
    double x = LOAD_SPLIT_X;
    for (guint k = 0; k < 3; k++) {
        double w = parts > 0 ? LOAD_SPLIT_W * (double)row->split[k] / (double)parts : 0;
        svg_rect(out, x, y + 3, w, LOAD_ROW - 6, classes[k]);
        x += w;
    }
    if (parts == 0)
        svg_rect(out, LOAD_SPLIT_X, y + 3, LOAD_SPLIT_W, LOAD_ROW - 6, "track");
    svg_close(out, "g");
    g_string_append_c(out, '\n');
}

/* A bar chart of rows against the even split (a dashed line at total / even_of), with a
 * split bar per row. */
static void
load_chart(GString *out, const char *id, const char *title, const GArray *rows, guint64 total,
           guint even_of, const char *const names[3], const char *split_title)
{
    guint64 max = 0;
    for (guint i = 0; i < rows->len; i++)
        max = MAX(max, g_array_index(rows, LoadRow, i).value);
    double even = even_of > 0 ? (double)total / even_of : 0;
    double scale = MAX((double)max, even) * 1.05;
    double height = 40 + rows->len * LOAD_ROW + 50;
    char e[SVG_NUM_STRLEN];
    g_autofree char *desc = g_strdup_printf(
        "%u bars; the dashed line is the even split, %s. The split bars show %s: %s, %s, %s.",
        rows->len, svg_format_num(even, e), split_title, names[0], names[1], names[2]);
    svg_begin(out, id, REPORT_HTML_WIDTH, height, title, desc);
    svg_text(out, LOAD_X0, 20, "small", NULL, "connections (dashed line: the even split)");
    svg_text(out, LOAD_SPLIT_X, 20, "small", NULL, split_title);
    for (guint i = 0; i < rows->len; i++)
        load_row(out, &g_array_index(rows, LoadRow, i), 30 + i * LOAD_ROW, scale, total, names);
    double ex = LOAD_X0 + (scale > 0 ? LOAD_W * even / scale : 0);
    double bottom = 30 + rows->len * LOAD_ROW;
    svg_line(out, ex, 26, ex, bottom + 4, "even");
    html_svg_textf(out, ex, bottom + 18, "axis", "middle", "even split %s", e);
    static const char *const classes[3] = {"kept", "snat-bar", "other"};
    for (guint k = 0; k < 3; k++) {
        double x = LOAD_SPLIT_X + (k % 2) * LOAD_SPLIT_W / 2, y = bottom + 8 + (k / 2) * 14;
        svg_rect(out, x, y, 10, 10, classes[k]);
        svg_text(out, x + 14, y + 10, "axis", NULL, names[k]);
    }
    svg_close(out, "svg");
    g_string_append_c(out, '\n');
}

/* Per pod: connections against the even split, and the client address the pod saw. */
static void
html_load_pods(Html *h)
{
    static const char *const names[3] = {"client kept", "SNATed", "other"};
    g_autoptr(GPtrArray) pods = g_ptr_array_new();
    for (guint i = 0; i < h->r->pods->len; i++)
        g_ptr_array_add(pods, h->r->pods->pdata[i]);
    guint hidden = 0;
    if (pods->len > REPORT_HTML_MAX_PODS) {
        g_ptr_array_sort(pods, html_pod_busier);
        hidden = pods->len - REPORT_HTML_MAX_PODS;
        g_ptr_array_set_size(pods, REPORT_HTML_MAX_PODS);
    }
    g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(LoadRow));
    g_array_set_clear_func(rows, load_row_clear);
    for (guint i = 0; i < pods->len; i++) {
        const ReportPod *p = pods->pdata[i];
        LoadRow row = {g_strdup_printf("%s (%s)", p->name, p->node ? p->node : "?"),
                       p->connections,
                       {p->source_preserved, p->source_snat, p->source_other}};
        g_array_append_val(rows, row);
    }
    g_string_append(h->out, "<h2 id=\"load\">Load distribution</h2>\n");
    if (hidden > 0)
        g_string_append_printf(h->out,
                               "<p class=\"note\">The busiest %u of %u pods are "
                               "shown.</p>\n",
                               pods->len, h->r->pods->len);
    load_chart(h->out, "load-pods", "Connections per pod", rows, h->pod_conns, h->r->pods->len,
               names, "client address the pod saw");
}

/* Per drawn node: connections entered against the even split, and where they were served. */
static void
html_load_nodes(Html *h)
{
    static const char *const names[3] = {"served here", "on another node", "not served"};
    g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(LoadRow));
    g_array_set_clear_func(rows, load_row_clear);
    guint64 entered = 0;
    for (guint i = 0; i < h->r->nodes->len; i++)
        entered += ((const ReportNode *)h->r->nodes->pdata[i])->connections_entered;
    for (guint i = 0; i < h->nodes->len; i++) {
        const ReportNode *n = ((const HtmlNode *)h->nodes->pdata[i])->node;
        guint64 served = MIN(n->connections_served, n->connections_entered);
        LoadRow row = {g_strdup(n->name),
                       n->connections_entered,
                       {served - MIN(n->connections_crossed, served),
                        MIN(n->connections_crossed, served), n->connections_entered - served}};
        g_array_append_val(rows, row);
    }
    load_chart(h->out, "load-nodes", "Client connections per node", rows, entered, h->r->nodes->len,
               names, "where they reached a pod");
}

/* ------------------------------------------------------------------ timeline */

#define TL_X0 70.0
#define TL_W 1080.0
#define TL_H 160.0
#define TL_TOP 20.0

/* The y axis: gridlines and labels at 0, half and the top. */
static void
timeline_axes(GString *out, double top, guint seconds, guint group, guint columns)
{
    char v[SVG_NUM_STRLEN];
    for (guint k = 0; k <= 2; k++) {
        double y = TL_TOP + TL_H - TL_H * k / 2;
        svg_line(out, TL_X0, y, TL_X0 + TL_W, y, "gridline");
        svg_text(out, TL_X0 - 6, y + 4, "axis", "end", svg_format_num(top * k / 2, v));
    }
    guint step = MAX(1, (columns + 9) / 10);
    for (guint c = 0; c <= columns; c += step) {
        double x = TL_X0 + TL_W * c / MAX(columns, 1);
        html_svg_textf(out, x, TL_TOP + TL_H + 16, "axis", "middle", "%us",
                       MIN(c * group, seconds));
    }
    html_svg_textf(out, TL_X0 + TL_W / 2, TL_TOP + TL_H + 34, "axis", "middle",
                   "seconds since the start%s",
                   group > 1 ? " (columns average several seconds)" : "");
    svg_tag_begin(out, "text");
    svg_attr_num(out, "x", 14);
    svg_attr_num(out, "y", TL_TOP + TL_H / 2);
    svg_attr(out, "class", "axis");
    svg_attr(out, "text-anchor", "middle");
    char cy[SVG_NUM_STRLEN];
    svg_attr_printf(out, "transform", "rotate(-90 14 %s)", svg_format_num(TL_TOP + TL_H / 2, cy));
    svg_tag_end(out, FALSE);
    g_string_append(out, "connections/s</text>\n");
}

#define TL_MAX_EVENTS 24 /* event markers drawn per timeline */

/* The x of a moment on a timeline of columns columns of group seconds each. */
static double
timeline_x(SimTime at, guint group, guint columns)
{
    double seconds = (double)at / (double)SIM_SEC;
    return TL_X0 + TL_W * CLAMP(seconds / group / MAX(columns, 1), 0.0, 1.0);
}

/* The black-hole window (shaded, from the first fault until the last failed second) and the
 * fault events (dotted lines with their kind and subject) over a timeline. */
static void
timeline_marks(GString *out, const RunReport *r, const ReportTraffic *t, guint group, guint columns)
{
    if (t->blackhole_start >= 0) {
        SimTime end = t->blackhole_end >= 0 ? t->blackhole_end : t->blackhole_start;
        double x1 = timeline_x(t->blackhole_start, group, columns);
        double x2 = MAX(timeline_x(end, group, columns), x1 + 2);
        char from[SIM_TIME_STRLEN], to[SIM_TIME_STRLEN];
        svg_tag_begin(out, "g");
        svg_attr(out, "role", "group");
        svg_attr_printf(out, "aria-label", "black hole from %s to %s",
                        sim_time_format(t->blackhole_start, from), sim_time_format(end, to));
        svg_tag_end(out, FALSE);
        svg_rect(out, x1, TL_TOP, x2 - x1, TL_H, "blackhole");
        svg_text(out, x1 + 3, TL_TOP + 12, "axis", NULL, "black hole");
        svg_close(out, "g");
        g_string_append_c(out, '\n');
    }
    for (guint i = 0; r->events != NULL && i < MIN(r->events->len, TL_MAX_EVENTS); i++) {
        const ReportEvent *e = r->events->pdata[i];
        double x = timeline_x(e->at, group, columns);
        svg_line(out, x, TL_TOP - 4, x, TL_TOP + TL_H, "event");
        html_svg_textf(out, x + 2, TL_TOP + 24 + (i % 4) * 12, "axis", NULL, "%s %s", e->kind,
                       e->subject != NULL ? e->subject : "");
    }
}

/* One traffic's columns: succeeded below, failed on top, per second (or per group of
 * seconds when the run is long). */
static void
timeline_traffic(GString *out, const RunReport *r, const ReportTraffic *t, guint index)
{
    guint seconds = t->timeline->len;
    guint group = MAX(1, (seconds + REPORT_HTML_MAX_COLUMNS - 1) / REPORT_HTML_MAX_COLUMNS);
    guint columns = (seconds + group - 1) / group;
    double top = 1;
    for (guint c = 0; c < columns; c++) {
        guint64 sum = 0;
        for (guint s = c * group; s < MIN(seconds, (c + 1) * group); s++) {
            const WorkloadBucket *b = &g_array_index(t->timeline, WorkloadBucket, s);
            sum += b->succeeded + b->failed;
        }
        top = MAX(top, (double)sum / group);
    }
    g_autofree char *id = g_strdup_printf("timeline-%u", index);
    g_autofree char *title = g_strdup_printf("Traffic %s: connections per second", t->name);
    g_autofree char *desc = g_strdup_printf(
        "%s from %s: %" G_GUINT64_FORMAT " connections over %u s, %" G_GUINT64_FORMAT
        " succeeded (blue, below) and %" G_GUINT64_FORMAT " failed (red, on top).",
        t->name, t->from, t->sent, seconds, t->succeeded, report_failures_total(&t->failed));
    html_printf(out, "Traffic %s (%s from %s):", t->name, t->protocol, t->from);
    svg_begin(out, id, REPORT_HTML_WIDTH, TL_TOP + TL_H + 44, title, desc);
    timeline_axes(out, top, seconds, group, columns);
    double cw = TL_W / MAX(columns, 1);
    for (guint c = 0; c < columns; c++) {
        guint64 ok = 0, failed = 0;
        for (guint s = c * group; s < MIN(seconds, (c + 1) * group); s++) {
            ok += g_array_index(t->timeline, WorkloadBucket, s).succeeded;
            failed += g_array_index(t->timeline, WorkloadBucket, s).failed;
        }
        double hs = TL_H * ok / group / top, hf = TL_H * failed / group / top;
        double x = TL_X0 + c * cw + cw * 0.1, base = TL_TOP + TL_H;
        svg_rect(out, x, base - hs, cw * 0.8, hs, "succeeded");
        svg_rect(out, x, base - hs - hf, cw * 0.8, hf, "failed");
    }
    timeline_marks(out, r, t, group, columns);
    svg_close(out, "svg");
    g_string_append_c(out, '\n');
}

/* The fault events and what the control plane did, in order (the first of them are marked
 * on the timelines). */
static void
html_events(Html *h)
{
    const GPtrArray *events = h->r->events;
    if (events == NULL || events->len == 0)
        return;
    g_string_append(h->out, "<details><summary>");
    html_printf(h->out, "%u events (dotted lines below; the shaded window is the black hole)",
                events->len);
    g_string_append(h->out, "</summary>\n<ul>\n");
    for (guint i = 0; i < events->len; i++) {
        const ReportEvent *e = events->pdata[i];
        char at[SIM_TIME_STRLEN];
        g_string_append(h->out, "<li>");
        html_printf(h->out, "%s %s %s%s%s", sim_time_format(e->at, at), e->kind,
                    e->subject != NULL ? e->subject : "", e->detail != NULL ? ": " : "",
                    e->detail != NULL ? e->detail : "");
        g_string_append(h->out, "</li>\n");
    }
    g_string_append(h->out, "</ul></details>\n");
}

/* A timeline per traffic. */
static void
html_timeline(Html *h)
{
    g_string_append(h->out, "<h2 id=\"timeline\">Timeline</h2>\n<p class=\"legend\">Connections "
                            "by the second they started: \u25a0 blue succeeded, \u25a0 red "
                            "(on top) failed.</p>\n");
    html_events(h);
    for (guint i = 0; i < h->r->traffic->len; i++) {
        const ReportTraffic *t = h->r->traffic->pdata[i];
        g_string_append(h->out, "<div class=\"legend\">");
        timeline_traffic(h->out, h->r, t, i);
        g_string_append(h->out, "</div>\n");
    }
}

/* ------------------------------------------------------------------ one packet's journey */

/* The rule of a step as iptables-save prints it. (transfer full) */
static char *
journey_rule_text(const NfStep *st)
{
    GString *s = g_string_new(NULL);
    if (st->fell_through)
        g_string_append_printf(s, ":%s ACCEPT (end of chain, policy)", st->chain);
    else
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
    if (!st->fell_through && strstr(rule, "-j DNAT") != NULL && pb->branch->dnat) {
        g_string_append(out, "<br/><span class=\"change\">");
        html_printf(out, "destination %s \u2192 %s",
                    sim_sockaddr_to_string(&pb->branch->orig_dst, before),
                    sim_sockaddr_to_string(&pb->endpoint, after));
        g_string_append(out, "</span>");
    }
    if (!st->fell_through && strstr(rule, "-j MASQUERADE") != NULL && p->node->addresses->len > 0) {
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
        g_string_append(out, "<details><summary>");
        html_printf(out, "%s: %u rules (iptables-save)", hn->node->name, hn->node->rules);
        g_string_append(out, "</summary>\n<pre>");
        g_autoptr(GString) text = g_string_new(NULL);
        if (rs != NULL) {
            nf_ruleset_save(rs, NF_TABLE_NAT, text);
            nf_ruleset_save(rs, NF_TABLE_FILTER, text);
        } else {
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
    html_pick_nodes(&h);
    html_collect_traffic(&h);
    html_head(&h);
    html_summary(&h);
    html_aggregation_note(&h);
    html_topology(&h);
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
}
