/* SPDX-License-Identifier: Apache-2.0 */
/* report.html's charts: the load per pod and per node against the even split (with the client
 * address each pod saw and where each node's connections were served), and a timeline per
 * traffic with the fault events and the black-hole window. Part of tools/report_html.c.
 */
#include "tools/report_html_private.h"

#include "tools/svg.h"

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
void
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
void
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
void
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
