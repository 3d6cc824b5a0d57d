/* SPDX-License-Identifier: Apache-2.0 */
/* report.html's topology: clients, nodes with their NodePorts and pods, Services with their
 * policy, the client connections into each node and the cross-node hops to the pods that
 * served them, SNAT and drops; and the paths matrix (which node each pod's connections had
 * been addressed to). Part of tools/report_html.c.
 */
#include "tools/report_html_private.h"

#include "tools/svg.h"

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

/* A dashed arc below the row for the connections addressed to a that pods on b served: its
 * width is their share of all connections, its label the share. */
static void
topo_cross_arc(Html *h, const HtmlNode *a, const HtmlNode *b, guint64 crossed)
{
    gboolean right = b->x > a->x;
    /* Arcs leave 10 px from a node's centre and arrive 30 px from it, and leftward arcs run
     * deeper, so the two directions between a pair of nodes stay apart. */
    double ax = a->x + a->w / 2 + (right ? 10 : -10), bx = b->x + b->w / 2 + (right ? -30 : 30);
    double y = a->y + a->h, d = (right ? 24 : 36) + 14 * (ABS(b->x - a->x) / (a->w + TOPO_GAP));
    double share = h->total_sent > 0 ? (double)crossed / (double)h->total_sent : 0;
    char p1[SVG_NUM_STRLEN], p2[SVG_NUM_STRLEN], p3[SVG_NUM_STRLEN], p4[SVG_NUM_STRLEN];
    char pct[16];
    svg_tag_begin(h->out, "g");
    svg_attr(h->out, "role", "group");
    svg_attr_printf(h->out, "aria-label",
                    "cross-node hop: %" G_GUINT64_FORMAT " connections (%s) addressed to %s were "
                    "served by pods on %s",
                    crossed, html_percent(crossed, h->total_sent, pct), a->node->name,
                    b->node->name);
    svg_tag_end(h->out, FALSE);
    svg_tag_begin(h->out, "path");
    svg_attr_printf(h->out, "d", "M %s %s C %s %s %s %s %s %s", svg_format_num(ax, p1),
                    svg_format_num(y, p2), p1, svg_format_num(y + d, p3), svg_format_num(bx, p4),
                    p3, p4, p2);
    svg_attr(h->out, "class", "cross");
    svg_attr_num(h->out, "stroke-width", 1.5 + 6 * share);
    svg_attr(h->out, "marker-end", "url(#arrow)");
    svg_tag_end(h->out, TRUE);
    /* The curve's lowest point is 3/4 d below the row, halfway across. */
    html_svg_textf(h->out, (ax + bx) / 2, y + 0.75 * d + (right ? -4 : 12), "small", "middle", "%s",
                   pct);
    svg_close(h->out, "g");
    g_string_append_c(h->out, '\n');
}

/* The cross-node hops: exact arcs between the drawn nodes when they fit in one row, else a
 * dashed stub below each node that sent connections on to another node. */
static void
topo_crossings(Html *h, gboolean one_row)
{
    guint n = h->nodes->len;
    for (guint i = 0; i < n; i++) {
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
        for (guint j = 0; j < n; j++) {
            guint64 crossed = h->crossed[i * n + j];
            if (crossed > 0)
                topo_cross_arc(h, a, h->nodes->pdata[j], crossed);
        }
    }
}

/* What the drawing's marks mean. */
static void
topo_legend(GString *out, double y)
{
    svg_text(out, 20, y, "small", NULL,
             "Solid arrows: client connections into a node's NodePort (width: share of all "
             "connections; \u2716 and red: some failed).");
    svg_text(out, 20, y + TOPO_LINE, "small", NULL,
             "Dashed arcs: connections addressed to one node that a pod on another node served "
             "(width and label: share of all connections).");
    svg_text(out, 20, y + 2 * TOPO_LINE, "small", NULL,
             "An SNAT label: the node's rules masquerade the client, so its pods see that "
             "address. Dashed red border and \u2716: the node dropped packets.");
    svg_text(out, 20, y + 3 * TOPO_LINE, "small", NULL,
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
void
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
    svg_begin(out, "topology-svg", REPORT_HTML_WIDTH, legend + 4 * TOPO_LINE + 10,
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

/* ------------------------------------------------------------------ paths matrix */

#define PATHS_MAX_PODS 24 /* rows; the other pods share one */
#define PATHS_X0 360.0
#define PATHS_Y0 70.0
#define PATHS_CELL_W 58.0
#define PATHS_CELL_H 24.0

/* One matrix row: a pod (or all the pods not listed) and its connections by entry node. */
typedef struct {
    const ReportPod *pod; /* NULL: the other pods */
    guint64 *by_node;     /* per drawn node, then the nodes not drawn together */
} PathsRow;

/* Adds pod p's connections by entry node to row w (columns: drawn nodes, then the rest). */
static void
paths_add_pod(const Html *h, PathsRow *w, const ReportPod *p)
{
    for (guint i = 0; i < p->entries->len; i++) {
        const ReportPodEntry *e = &g_array_index(p->entries, ReportPodEntry, i);
        const HtmlNode *a = e->node < h->r->nodes->len ? h->drawn[e->node] : NULL;
        w->by_node[a != NULL ? a->drawn : h->nodes->len] += e->connections;
    }
}

/* The rows: the busiest pods, then one for the rest when there are more. (transfer full) */
static GArray *
paths_rows(const Html *h)
{
    g_autoptr(GPtrArray) pods = g_ptr_array_new();
    for (guint i = 0; i < h->r->pods->len; i++)
        g_ptr_array_add(pods, h->r->pods->pdata[i]);
    g_ptr_array_sort(pods, html_pod_busier);
    guint shown = MIN(pods->len, PATHS_MAX_PODS);
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(PathsRow));
    for (guint i = 0; i < pods->len; i++) {
        if (i <= shown) {
            PathsRow w = {i < shown ? pods->pdata[i] : NULL, g_new0(guint64, h->nodes->len + 1)};
            g_array_append_val(rows, w);
        }
        paths_add_pod(h, &g_array_index(rows, PathsRow, MIN(i, shown)), pods->pdata[i]);
    }
    return rows;
}

/* One cell: shaded by its share of the largest cell, outlined when the pod runs on the node
 * the connections were addressed to (the path without a hop). */
static void
paths_cell(Html *h, double x, double y, guint64 v, guint64 max, gboolean local, const char *node,
           const char *pod)
{
    char b[16];
    svg_tag_begin(h->out, "g");
    svg_attr(h->out, "role", "group");
    svg_attr_printf(h->out, "aria-label",
                    "%" G_GUINT64_FORMAT " connections (%s) addressed to %s served by %s%s", v,
                    html_percent(v, h->total_sent, b), node, pod,
                    local ? ", on the same node" : "");
    svg_tag_end(h->out, FALSE);
    svg_tag_begin(h->out, "rect");
    svg_attr_num(h->out, "x", x);
    svg_attr_num(h->out, "y", y);
    svg_attr_num(h->out, "width", PATHS_CELL_W - 2);
    svg_attr_num(h->out, "height", PATHS_CELL_H - 2);
    svg_attr(h->out, "class", local ? "cell local" : "cell");
    svg_attr_num(h->out, "fill-opacity", max > 0 ? 0.08 + 0.92 * (double)v / (double)max : 0.08);
    svg_tag_end(h->out, TRUE);
    if (v > 0)
        html_svg_textf(h->out, x + PATHS_CELL_W / 2 - 1, y + 15, "cellnum", "middle", "%s", b);
    svg_close(h->out, "g");
    g_string_append_c(h->out, '\n');
}

/* The name of column j: a drawn node's, or the nodes not drawn. (transfer full) */
static char *
paths_column_name(const Html *h, guint j)
{
    if (j < h->nodes->len)
        return g_strdup(((const HtmlNode *)h->nodes->pdata[j])->node->name);
    return g_strdup_printf("%u other nodes", h->hidden_nodes);
}

/* The column headings, slanted: "via NODE". */
static void
paths_headings(Html *h, guint columns)
{
    for (guint j = 0; j < columns; j++) {
        double x = PATHS_X0 + j * PATHS_CELL_W + 8, y = PATHS_Y0 - 6;
        char cx[SVG_NUM_STRLEN], cy[SVG_NUM_STRLEN];
        g_autofree char *name = paths_column_name(h, j);
        svg_tag_begin(h->out, "text");
        svg_attr_num(h->out, "x", x);
        svg_attr_num(h->out, "y", y);
        svg_attr(h->out, "class", "small");
        svg_attr_printf(h->out, "transform", "rotate(-30 %s %s)", svg_format_num(x, cx),
                        svg_format_num(y, cy));
        svg_tag_end(h->out, FALSE);
        html_printf(h->out, "via %s", name);
        g_string_append(h->out, "</text>\n");
    }
}

/* Row i: the connections a listed pod (or the other pods) served, by entry node. */
static void
paths_row(Html *h, const PathsRow *w, guint i, guint columns, guint64 max)
{
    double y = PATHS_Y0 + i * PATHS_CELL_H;
    g_autofree char *pod =
        w->pod != NULL ? g_strdup_printf("pod %s", w->pod->name) : g_strdup("the other pods");
    if (w->pod != NULL)
        html_svg_textf(h->out, PATHS_X0 - 8, y + 15, NULL, "end", "%s (%s)", w->pod->name,
                       w->pod->node != NULL ? w->pod->node : "?");
    else
        html_svg_textf(h->out, PATHS_X0 - 8, y + 15, NULL, "end", "%u other pods",
                       h->r->pods->len - PATHS_MAX_PODS);
    for (guint j = 0; j < columns; j++) {
        g_autofree char *node = paths_column_name(h, j);
        gboolean local = j < h->nodes->len && w->pod != NULL && g_strcmp0(w->pod->node, node) == 0;
        paths_cell(h, PATHS_X0 + j * PATHS_CELL_W, y, w->by_node[j], max, local, node, pod);
    }
}

/* The paths matrix: for every pod (rows) and drawn node (columns), the client connections
 * addressed to the node that the pod served; the outlined cells are the paths without a
 * cross-node hop. Aggregated beyond REPORT_HTML_MAX_NODES nodes and PATHS_MAX_PODS pods. */
void
html_paths(Html *h)
{
    g_autoptr(GArray) rows = paths_rows(h);
    if (rows->len == 0 || h->total_sent == 0)
        return;
    guint columns = h->nodes->len + (h->hidden_nodes > 0);
    guint64 max = 0;
    for (guint i = 0; i < rows->len; i++)
        for (guint j = 0; j < columns; j++)
            max = MAX(max, g_array_index(rows, PathsRow, i).by_node[j]);
    g_string_append(h->out, "<h2 id=\"paths\">Paths: entry node to pod</h2>\n<p class=\"legend\">"
                            "Each cell: the share of all client connections that were addressed "
                            "to the column's node and served by the row's pod. Outlined cells "
                            "stay on one node; every other filled cell is a cross-node hop.</p>\n");
    g_autofree char *desc = g_strdup_printf(
        "%u rows (pods) by %u columns (entry nodes); darker cells carried more connections.",
        rows->len, columns);
    double width = MAX(REPORT_HTML_WIDTH * 0.75, PATHS_X0 + columns * PATHS_CELL_W + 60);
    svg_begin(h->out, "paths-svg", width, PATHS_Y0 + rows->len * PATHS_CELL_H + 10,
              "Client connections by serving pod and entry node", desc);
    paths_headings(h, columns);
    for (guint i = 0; i < rows->len; i++)
        paths_row(h, &g_array_index(rows, PathsRow, i), i, columns, max);
    svg_close(h->out, "svg");
    g_string_append_c(h->out, '\n');
    for (guint i = 0; i < rows->len; i++)
        g_free(g_array_index(rows, PathsRow, i).by_node);
}
