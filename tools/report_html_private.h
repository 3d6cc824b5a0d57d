/* SPDX-License-Identifier: Apache-2.0 */
/* What the parts of report.html share (tools/report_html*.c): the limits beyond which a large
 * cluster is aggregated, the choice of what is drawn (Html), small text helpers and the
 * sections each file writes. Not installed; prefix html_.
 */
#ifndef KPSIM_REPORT_HTML_PRIVATE_H
#define KPSIM_REPORT_HTML_PRIVATE_H

#include "tools/report.h"

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
    guint drawn;       /* in Html.nodes */
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
    char *node_ports;         /* "30080/TCP, ..." every node opens */
    GHashTable *node_indexes; /* node name -> index in the report's nodes + 1 */
    HtmlNode **drawn;         /* per report node: its drawn box, or NULL when aggregated */
    /* drawn nodes a, b: client connections addressed to a served by a pod on b, at
     * [a->drawn * nodes->len + b->drawn] */
    guint64 *crossed;
} Html;

/* "33.3%" of part in whole (0% when whole is 0). buf >= 16 bytes. */
const char *html_percent(guint64 part, guint64 whole, char *buf);
/* Appends printf-formatted text, escaped. */
void html_printf(GString *out, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* Appends an SVG <text> whose content is printf-formatted. */
void html_svg_textf(GString *out, double x, double y, const char *cls, const char *anchor,
                    const char *format, ...) G_GNUC_PRINTF(6, 7);
/* The first address of a comma-separated list. (transfer full) */
char *html_first_address(const char *addresses);
/* Orders pods (const ReportPod **) busiest first, then by name. */
gint html_pod_busier(gconstpointer a, gconstpointer b);

/* The sections, in page order. report_html_topology.c: */
void html_topology(Html *h);
void html_paths(Html *h);
/* report_html_charts.c: */
void html_load_pods(Html *h);
void html_load_nodes(Html *h);
void html_timeline(Html *h);

#endif
