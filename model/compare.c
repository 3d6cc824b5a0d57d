/* SPDX-License-Identifier: Apache-2.0 */
/* One scenario under several kube-proxy modes, side by side (see model/compare.h).
 *
 * The probes are gathered once over all modes (a question one mode's exposure raises is asked
 * of every mode) and each is answered by probe_run() through the mode's own rendering of the
 * node's rules, exactly as `kpsim trace` would. Run rows compare the reports of runs with the
 * same seed; the random endpoint choice of each mode draws differently, so shares are compared
 * with a tolerance rather than exactly.
 */
#include "model/compare.h"

#include <math.h>
#include <string.h>

#include "model/expose.h"
#include "model/kube_proxy.h"
#include "model/probe.h"

/* Success ratios further apart than this differ (fractions). */
#define COMPARE_SUCCESS_TOLERANCE 0.01
/* Pod shares further apart than this differ (fractions). */
#define COMPARE_SHARE_TOLERANCE 0.05

/* Documented reasons a probe may differ between modes. */
typedef enum {
    WHY_NONE,
    WHY_LOCALHOST,        /* a NodePort on 127.0.0.1 */
    WHY_NON_PRIMARY,      /* a NodePort on a node address other than the first */
    WHY_UNKNOWN_PORT,     /* a clusterIP on a port no Service port defines */
    WHY_UNALLOCATED,      /* a Service-CIDR address no Service holds */
    WHY_LOCAL_NO_ENDPOINT /* an external address of a Local Service */
} CompareWhy;

/* One probe to ask of every mode. */
typedef struct {
    char *node;
    SimSockAddr from, to;
    SimProto proto;
    char *subject, *aspect;
    CompareWhy why;
} CompareSpec;

/* See model/compare.h. */
const char *
compare_mode_name(KpMode mode)
{
    switch (mode) {
    case KP_MODE_IPTABLES:
        return "iptables";
    case KP_MODE_NFTABLES:
        return "nftables";
    case KP_MODE_IPVS:
        return "ipvs";
    }
    return "?";
}

/* See model/compare.h. */
gboolean
compare_parse_modes(const char *text, GArray **modes)
{
    static const KpMode all[] = {KP_MODE_IPTABLES, KP_MODE_NFTABLES, KP_MODE_IPVS};
    g_auto(GStrv) names = g_strsplit(text != NULL ? text : "", ",", -1);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(KpMode));
    for (guint i = 0; names[i] != NULL; i++) {
        const char *name = g_strstrip(names[i]);
        gint found = -1;
        for (guint k = 0; k < G_N_ELEMENTS(all); k++)
            if (g_str_equal(name, compare_mode_name(all[k])))
                found = (gint)k;
        for (guint j = 0; found >= 0 && j < out->len; j++)
            if (g_array_index(out, KpMode, j) == all[found])
                return FALSE;
        if (found < 0)
            return FALSE;
        g_array_append_val(out, all[found]);
    }
    if (out->len == 0)
        return FALSE;
    *modes = g_steal_pointer(&out);
    return TRUE;
}

/* Frees a row. */
static void
compare_row_free(gpointer data)
{
    CompareRow *row = data;
    g_free(row->subject);
    g_free(row->aspect);
    g_ptr_array_unref(row->values);
    g_free(row);
}

/* See model/compare.h. */
CompareReport *
compare_report_new(const KpMode *modes, guint n)
{
    CompareReport *r = g_new0(CompareReport, 1);
    r->modes = g_array_new(FALSE, FALSE, sizeof(KpMode));
    g_array_append_vals(r->modes, modes, n);
    r->rows = g_ptr_array_new_with_free_func(compare_row_free);
    return r;
}

/* See model/compare.h. */
void
compare_report_free(CompareReport *r)
{
    if (r == NULL)
        return;
    g_array_unref(r->modes);
    g_ptr_array_unref(r->rows);
    g_free(r);
}

/* Adds a row with no values yet. (transfer none) */
static CompareRow *
compare_add_row(CompareReport *r, CompareSection section, char *subject, char *aspect)
{
    CompareRow *row = g_new0(CompareRow, 1);
    row->section = section;
    row->subject = subject;
    row->aspect = aspect;
    row->values = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(r->rows, row);
    return row;
}

/* Marks row as differing when it does, with the documented reason. */
static void
compare_judge(CompareReport *r, CompareRow *row, gboolean differs, const char *why)
{
    row->differs = differs;
    row->why = differs ? why : NULL;
    r->differences += differs;
}

/* ------------------------------------------------------------------ probes */

static void
compare_spec_free(gpointer data)
{
    CompareSpec *s = data;
    g_free(s->node);
    g_free(s->subject);
    g_free(s->aspect);
    g_free(s);
}

/* Adds a probe unless one with the same subject and aspect is there (seen: "subject\naspect").
 * Takes subject and aspect. */
static void
compare_spec_add(GPtrArray *specs, GHashTable *seen, const char *node, const SimSockAddr *from,
                 const SimSockAddr *to, SimProto proto, char *subject, char *aspect, CompareWhy why)
{
    char *key = g_strdup_printf("%s\n%s", subject, aspect);
    if (!g_hash_table_add(seen, key)) {
        g_free(subject);
        g_free(aspect);
        return;
    }
    CompareSpec *s = g_new0(CompareSpec, 1);
    *s = (CompareSpec){g_strdup(node), *from, *to, proto, subject, aspect, why};
    g_ptr_array_add(specs, s);
}

/* "node1 192.168.1.101:30080/TCP". (transfer full) */
static char *
compare_subject(const char *node, const SimSockAddr *to, SimProto proto)
{
    char buf[SIM_SOCKADDR_STRLEN];
    return g_strdup_printf("%s %s/%s", node, sim_sockaddr_to_string(to, buf),
                           sim_proto_k8s_name(proto));
}

/* Why an exposure entry may differ between modes. */
static CompareWhy
compare_expose_why(const ExposeEntry *e, const K8sNode *node, gboolean ipvs)
{
    if (e->localhost_only)
        return WHY_LOCALHOST;
    if (e->kind == EXPOSE_NODE_PORT && node->addresses->len > 0 &&
        !sim_addr_equal(&e->address.addr, &g_array_index(node->addresses, SimAddr, 0)))
        return WHY_NON_PRIMARY;
    if (ipvs && g_strcmp0(e->policy, "Local") == 0)
        return WHY_LOCAL_NO_ENDPOINT;
    return WHY_NONE;
}

/* Adds a probe per exposure entry of c (on the first max_nodes nodes). */
static gboolean
compare_specs_exposure(GPtrArray *specs, GHashTable *seen, const Cluster *c, gboolean ipvs,
                       guint max_nodes, GError **error)
{
    g_autoptr(ExposeReport) x = expose_build(c, error);
    if (x == NULL)
        return FALSE;
    SimSockAddr outside = {0}, loopback = {0};
    sim_addr_parse(EXPOSE_OUTSIDE_SOURCE, &outside.addr);
    sim_addr_parse("127.0.0.1", &loopback.addr);
    for (guint i = 0; i < MIN(x->nodes->len, max_nodes); i++) {
        const ExposeNode *n = x->nodes->pdata[i];
        for (guint j = 0; j < n->entries->len; j++) {
            const ExposeEntry *e = n->entries->pdata[j];
            const SimSockAddr *from = e->localhost_only ? &loopback : &outside;
            char *aspect = e->localhost_only ? g_strdup("the node itself")
                                             : g_strdup_printf("outside %s", EXPOSE_OUTSIDE_SOURCE);
            compare_spec_add(specs, seen, n->node->name, from, &e->address, e->protocol,
                             compare_subject(n->node->name, &e->address, e->protocol), aspect,
                             compare_expose_why(e, n->node, ipvs));
        }
    }
    return TRUE;
}

/* The first pod of c on a node that has one (NULL when no pod has an address). */
static const K8sPod *
compare_first_pod(const Cluster *c)
{
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = c->pods->pdata[i];
        if (p->node_name != NULL && p->ip.family != SIM_AF_NONE)
            return p;
    }
    return NULL;
}

/* The lowest port above svc's first port of protocol proto that none of its ports use. */
static guint16
compare_unused_port(const K8sService *svc, SimProto proto)
{
    guint port = ((const K8sServicePort *)svc->ports->pdata[0])->port;
    for (guint tries = 0; tries < 65535; tries++) {
        port = port >= 65535 ? 1 : port + 1;
        gboolean used = FALSE;
        for (guint i = 0; i < svc->ports->len; i++) {
            const K8sServicePort *sp = svc->ports->pdata[i];
            used |= sp->protocol == proto && sp->port == port;
        }
        if (!used)
            break;
    }
    return (guint16)port;
}

/* The highest address of c's first IPv4 Service CIDR that no Service holds; FALSE if none. */
static gboolean
compare_unallocated(const Cluster *c, SimAddr *out)
{
    const GArray *cidrs = c->scenario->service_cidrs;
    for (guint i = 0; cidrs != NULL && i < cidrs->len; i++) {
        const SimCidr *cidr = &g_array_index(cidrs, SimCidr, i);
        guint64 size = sim_cidr_size(cidr);
        for (guint64 off = size - 2; off > 0 && off + 64 > size; off--) {
            gboolean used = FALSE;
            if (!sim_cidr_nth(cidr, off, out))
                break;
            for (guint s = 0; s < c->services->len && !used; s++) {
                const SimAddr *ip = k8s_service_cluster_ip(c->services->pdata[s]);
                used = ip != NULL && sim_addr_equal(ip, out);
            }
            if (!used)
                return TRUE;
        }
    }
    return FALSE;
}

/* Adds the clusterIP probes from the first pod: every Service port, the first Service's
 * clusterIP on an unused port, and an unallocated Service-CIDR address. */
static void
compare_specs_cluster_ips(GPtrArray *specs, GHashTable *seen, const Cluster *c)
{
    const K8sPod *pod = compare_first_pod(c);
    if (pod == NULL)
        return;
    SimSockAddr from = {pod->ip, 0}, to;
    g_autofree char *aspect = g_strdup_printf("pod %s", pod->meta.name);
    gboolean unknown_done = FALSE;
    for (guint i = 0; i < c->services->len; i++) {
        const K8sService *svc = c->services->pdata[i];
        const SimAddr *ip = k8s_service_cluster_ip(svc);
        if (ip == NULL || ip->family != pod->ip.family || svc->ports->len == 0)
            continue;
        for (guint j = 0; j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            to = (SimSockAddr){*ip, sp->port};
            compare_spec_add(specs, seen, pod->node_name, &from, &to, sp->protocol,
                             compare_subject(pod->node_name, &to, sp->protocol), g_strdup(aspect),
                             WHY_NONE);
        }
        if (unknown_done)
            continue;
        SimProto proto = ((const K8sServicePort *)svc->ports->pdata[0])->protocol;
        to = (SimSockAddr){*ip, compare_unused_port(svc, proto)};
        g_autofree char *where = compare_subject(pod->node_name, &to, proto);
        compare_spec_add(specs, seen, pod->node_name, &from, &to, proto,
                         g_strdup_printf("%s (a port no Service defines)", where), g_strdup(aspect),
                         WHY_UNKNOWN_PORT);
        unknown_done = TRUE;
    }
    if (pod->ip.family == SIM_AF_INET && compare_unallocated(c, &to.addr)) {
        to.port = 80;
        g_autofree char *where = compare_subject(pod->node_name, &to, SIM_PROTO_TCP);
        compare_spec_add(specs, seen, pod->node_name, &from, &to, SIM_PROTO_TCP,
                         g_strdup_printf("%s (no Service holds it)", where), g_strdup(aspect),
                         WHY_UNALLOCATED);
    }
}

/* What a probe found, in a few words: "accept: 2 endpoints, SNAT". (transfer full) */
static char *
compare_probe_text(const Probe *p)
{
    if (p->endpoints->len == 0 &&
        (p->verdict == NF_VERDICT_NONE || p->verdict == NF_VERDICT_ACCEPT))
        return g_strdup("not translated (no Service rule)");
    if (p->endpoints->len == 0)
        return g_strdup(nf_verdict_name(p->verdict));
    return g_strdup_printf("%s: %u endpoint%s, %s", nf_verdict_name(p->verdict), p->endpoints->len,
                           p->endpoints->len == 1 ? "" : "s",
                           p->masquerade ? "SNAT" : "client address kept");
}

/* The documented difference behind why. (static) */
static const char *
compare_why_text(CompareWhy why)
{
    switch (why) {
    case WHY_NONE:
        return NULL;
    case WHY_LOCALHOST:
        return "only iptables mode answers NodePorts on 127.0.0.1 (localhostNodePorts; "
               "datapath-semantics 3.7, 4, 5)";
    case WHY_NON_PRIMARY:
        return "nftables mode's nodePortAddresses defaults to the node's primary addresses "
               "(datapath-semantics 5)";
    case WHY_UNKNOWN_PORT:
        return "nftables mode (cluster-ips-check) and IPVS mode (KUBE-IPVS-FILTER) reject a "
               "clusterIP on a port no Service defines; iptables leaves it to routing "
               "(datapath-semantics 4, 5)";
    case WHY_UNALLOCATED:
        return "nftables mode drops Service-CIDR addresses no Service holds; iptables leaves "
               "them to routing (datapath-semantics 5)";
    case WHY_LOCAL_NO_ENDPOINT:
        return "IPVS installs every endpoint for a Local Service on a node without a local one, "
               "where iptables and nftables drop; an outside client is not SNATed, so its "
               "connection fails anyway: the reply takes another path (datapath-semantics 4)";
    }
    return NULL;
}

/* Asks spec of every mode and adds its row. */
static gboolean
compare_run_spec(CompareReport *r, Cluster *const *clusters, const CompareSpec *s, GError **error)
{
    CompareRow *row = compare_add_row(r, COMPARE_PROBE, g_strdup(s->subject), g_strdup(s->aspect));
    gboolean differs = FALSE;
    for (guint m = 0; m < r->modes->len; m++) {
        const K8sNode *node = cluster_find_node(clusters[m], s->node);
        g_autoptr(Probe) p =
            node != NULL ? probe_run(clusters[m], node, &s->from, &s->to, s->proto, error) : NULL;
        if (p == NULL)
            return FALSE;
        char *text = compare_probe_text(p);
        differs |= m > 0 && g_strcmp0(text, row->values->pdata[0]) != 0;
        g_ptr_array_add(row->values, text);
    }
    compare_judge(r, row, differs, compare_why_text(s->why));
    return TRUE;
}

/* How mode's kube-proxy picks an endpoint for a new connection. (transfer full) */
static char *
compare_choice_text(const Cluster *c)
{
    switch (c->proxy->mode) {
    case KP_MODE_IPTABLES:
    case KP_MODE_NFTABLES:
        return g_strdup("at random");
    case KP_MODE_IPVS:
        return g_strdup_printf("%s (IPVS scheduler)",
                               c->proxy->ipvs_scheduler != NULL && c->proxy->ipvs_scheduler[0]
                                   ? c->proxy->ipvs_scheduler
                                   : "rr");
    }
    return g_strdup("?");
}

/* Whether node's kube-proxy makes addr a local address (IPVS: bound to kube-ipvs0), so that
 * the node answers ping for it. */
static gboolean
compare_vip_is_local(const Cluster *c, const K8sNode *node, const SimAddr *addr)
{
    g_autoptr(NfRuleset) rs = kube_proxy_render(c, node, addr->family, NULL);
    return rs != NULL && ipvs_table_is_local(ipvs_ruleset_table(rs), addr);
}

/* Rows for what differs between modes without a connection to probe: how an endpoint is
 * picked, and whether a node answers ping for a clusterIP (datapath-semantics 4). */
static void
compare_add_facts(CompareReport *r, Cluster *const *clusters)
{
    CompareRow *row = compare_add_row(r, COMPARE_PROBE, g_strdup("endpoint choice on every node"),
                                      g_strdup("any client"));
    for (guint m = 0; m < r->modes->len; m++) {
        char *text = compare_choice_text(clusters[m]);
        row->differs |= m > 0 && g_strcmp0(text, row->values->pdata[0]) != 0;
        g_ptr_array_add(row->values, text);
    }
    compare_judge(r, row, row->differs,
                  "IPVS schedules connections (rr by default, ipvs.scheduler) where iptables and "
                  "nftables pick at random (datapath-semantics 4)");
    const K8sService *svc = NULL;
    for (guint i = 0; i < clusters[0]->services->len && svc == NULL; i++)
        if (k8s_service_cluster_ip(clusters[0]->services->pdata[i]) != NULL)
            svc = clusters[0]->services->pdata[i];
    if (svc == NULL || clusters[0]->nodes->len == 0)
        return;
    const K8sNode *node0 = clusters[0]->nodes->pdata[0];
    char ip[SIM_ADDR_STRLEN];
    sim_addr_to_string(k8s_service_cluster_ip(svc), ip);
    row = compare_add_row(r, COMPARE_PROBE, g_strdup_printf("%s %s (ping)", node0->name, ip),
                          g_strdup("a pod on it"));
    gboolean differs = FALSE;
    for (guint m = 0; m < r->modes->len; m++) {
        const K8sNode *node = cluster_find_node(clusters[m], node0->name);
        const SimAddr *cip = k8s_service_cluster_ip(
            cluster_find_service(clusters[m], svc->meta.namespace_, svc->meta.name));
        gboolean local =
            node != NULL && cip != NULL && compare_vip_is_local(clusters[m], node, cip);
        char *text = g_strdup(local ? "answered (kube-ipvs0 holds it)" : "no answer (not local)");
        differs |= m > 0 && g_strcmp0(text, row->values->pdata[0]) != 0;
        g_ptr_array_add(row->values, text);
    }
    compare_judge(r, row, differs,
                  "IPVS binds every clusterIP to kube-ipvs0: nodes answer ping for it and list it "
                  "in `ip addr` (datapath-semantics 4)");
}

/* The most nodes whose exposure is probed. */
#define COMPARE_MAX_NODES 16

/* See model/compare.h. */
gboolean
compare_add_probes(CompareReport *r, Cluster *const *clusters, GError **error)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func(compare_spec_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean ipvs = FALSE;
    for (guint m = 0; m < r->modes->len; m++)
        ipvs |= g_array_index(r->modes, KpMode, m) == KP_MODE_IPVS;
    for (guint m = 0; m < r->modes->len; m++)
        if (!compare_specs_exposure(specs, seen, clusters[m], ipvs, COMPARE_MAX_NODES, error))
            return FALSE;
    compare_specs_cluster_ips(specs, seen, clusters[0]);
    for (guint i = 0; i < specs->len; i++)
        if (!compare_run_spec(r, clusters, specs->pdata[i], error))
            return FALSE;
    compare_add_facts(r, clusters);
    return TRUE;
}

/* ------------------------------------------------------------------ runs */

/* "98.5% (2970 of 3018)". (transfer full) */
static char *
compare_ratio_text(guint64 part, guint64 whole)
{
    char b[16];
    return g_strdup_printf("%s (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ")",
                           report_format_percent(whole > 0 ? (double)part / whole : 0, b), part,
                           whole);
}

/* One row per traffic: the share of its connections that succeeded. */
static void
compare_runs_traffic(CompareReport *r, RunReport *const *reports)
{
    const RunReport *first = reports[0];
    for (guint i = 0; i < first->traffic->len; i++) {
        const ReportTraffic *t0 = first->traffic->pdata[i];
        CompareRow *row = compare_add_row(r, COMPARE_RUN, g_strdup_printf("traffic %s", t0->name),
                                          g_strdup("succeeded"));
        double lo = 1, hi = 0;
        for (guint m = 0; m < r->modes->len; m++) {
            const ReportTraffic *t =
                i < reports[m]->traffic->len ? reports[m]->traffic->pdata[i] : NULL;
            guint64 ok = t != NULL ? t->succeeded : 0, sent = t != NULL ? t->sent : 0;
            double ratio = sent > 0 ? (double)ok / sent : 0;
            lo = MIN(lo, ratio);
            hi = MAX(hi, ratio);
            g_ptr_array_add(row->values, compare_ratio_text(ok, sent));
        }
        compare_judge(r, row, hi - lo > COMPARE_SUCCESS_TOLERANCE, NULL);
    }
}

/* The pod of report rep named name, or NULL. */
static const ReportPod *
compare_find_pod(const RunReport *rep, const char *name)
{
    for (guint i = 0; i < rep->pods->len; i++) {
        const ReportPod *p = rep->pods->pdata[i];
        if (g_str_equal(p->name, name))
            return p;
    }
    return NULL;
}

/* What client address a pod saw: "kept", "SNATed", "mixed (40% kept)" or "none". */
static char *
compare_source_text(const ReportPod *p)
{
    guint64 all = p != NULL ? p->source_preserved + p->source_snat + p->source_other : 0;
    char b[16];
    if (all == 0)
        return g_strdup("none");
    if (p->source_preserved == all)
        return g_strdup("kept");
    if (p->source_snat == all)
        return g_strdup("SNATed");
    return g_strdup_printf("mixed (%s kept)",
                           report_format_percent((double)p->source_preserved / all, b));
}

/* Two rows per pod: its share of all connections, and the client address it saw. */
static void
compare_runs_pods(CompareReport *r, RunReport *const *reports)
{
    for (guint i = 0; i < reports[0]->pods->len; i++) {
        const char *name = ((const ReportPod *)reports[0]->pods->pdata[i])->name;
        CompareRow *share =
            compare_add_row(r, COMPARE_RUN, g_strdup_printf("pod %s", name), g_strdup("share"));
        CompareRow *source = compare_add_row(r, COMPARE_RUN, g_strdup_printf("pod %s", name),
                                             g_strdup("client address"));
        double lo = 1, hi = 0;
        gboolean source_differs = FALSE;
        for (guint m = 0; m < r->modes->len; m++) {
            const ReportPod *p = compare_find_pod(reports[m], name);
            double s = p != NULL ? p->share : 0;
            char b[16];
            lo = MIN(lo, s);
            hi = MAX(hi, s);
            g_ptr_array_add(share->values, g_strdup(report_format_percent(s, b)));
            char *text = compare_source_text(p);
            source_differs |= m > 0 && g_strcmp0(text, source->values->pdata[0]) != 0 &&
                              !g_str_has_prefix(text, "mixed");
            g_ptr_array_add(source->values, text);
        }
        compare_judge(r, share, hi - lo > COMPARE_SHARE_TOLERANCE, NULL);
        compare_judge(r, source, source_differs, NULL);
    }
}

/* "none" or "netfilter-drop 4024, no-route 3". (transfer full) */
static char *
compare_drops_text(const ReportNode *n)
{
    if (n == NULL || n->drops->len == 0)
        return g_strdup("none");
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < n->drops->len; i++) {
        const ReportDrop *d = &g_array_index(n->drops, ReportDrop, i);
        g_string_append_printf(s, "%s%s %" G_GUINT64_FORMAT, i ? ", " : "", d->reason, d->count);
    }
    return g_string_free(s, FALSE);
}

/* One row per node: the packets it dropped, by reason; it differs when a reason shows under
 * one mode and not another. */
static void
compare_runs_nodes(CompareReport *r, RunReport *const *reports)
{
    for (guint i = 0; i < reports[0]->nodes->len; i++) {
        const ReportNode *n0 = reports[0]->nodes->pdata[i];
        CompareRow *row = compare_add_row(r, COMPARE_RUN, g_strdup_printf("node %s", n0->name),
                                          g_strdup("drops"));
        g_autoptr(GString) reasons0 = g_string_new(NULL);
        gboolean differs = FALSE;
        for (guint m = 0; m < r->modes->len; m++) {
            const ReportNode *n = i < reports[m]->nodes->len ? reports[m]->nodes->pdata[i] : NULL;
            g_autoptr(GString) reasons = g_string_new(NULL);
            for (guint k = 0; n != NULL && k < n->drops->len; k++)
                g_string_append_printf(reasons, "%s,",
                                       g_array_index(n->drops, ReportDrop, k).reason);
            if (m == 0)
                g_string_assign(reasons0, reasons->str);
            differs |= !g_str_equal(reasons->str, reasons0->str);
            g_ptr_array_add(row->values, compare_drops_text(n));
        }
        compare_judge(r, row, differs, NULL);
    }
}

/* See model/compare.h. */
void
compare_add_runs(CompareReport *r, RunReport *const *reports)
{
    g_return_if_fail(r != NULL && reports != NULL);
    compare_runs_traffic(r, reports);
    compare_runs_pods(r, reports);
    compare_runs_nodes(r, reports);
}
