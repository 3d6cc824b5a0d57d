/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl's `get` and `describe service` views of the simulated cluster.
 *
 * Reproduces kubectl's printers (pkg/printers/internalversion/printers.go) for the columns that
 * matter here, and its describer (describe.go, describeService), including their whitespace:
 * tables use tabwriter(minwidth 6, padding 3), describe uses tabwriter(minwidth 0, padding 2).
 * AGE is the simulated time since the object appeared: the scenario's objects exist from 0 s,
 * pods the controllers create (with --at) from their creation. `get events` lists the
 * controllers' log the way kubectl lists Events. Left out: columns about containers, images and
 * resources that kpsim does not model.
 */
#include "tools/kubectl_view_private.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "model/controllers.h"
#include "tools/cli.h"

#define KUBERNETES_VERSION "v1.31.0"

/* ------------------------------------------------------------------ tabwriter */

typedef struct {
    GPtrArray *lines; /* GStrv of cells; the last cell of a line is not tab-terminated */
    GArray *widths;   /* guint, the widths of the enclosing column blocks */
    guint minwidth, padding;
    GString *out;
} TabWriter;

/* Writes lines [line0, line1) with the current column widths. */
static void
tab_write_lines(TabWriter *tw, guint line0, guint line1)
{
    for (guint i = line0; i < line1; i++) {
        char **cells = g_ptr_array_index(tw->lines, i);
        guint n = g_strv_length(cells);
        for (guint j = 0; j < n; j++) {
            g_string_append(tw->out, cells[j]);
            if (j + 1 < n && j < tw->widths->len) {
                guint w = g_utf8_strlen(cells[j], -1);
                for (guint pad = w; pad < g_array_index(tw->widths, guint, j); pad++)
                    g_string_append_c(tw->out, ' ');
            }
        }
        g_string_append_c(tw->out, '\n');
    }
}

/* Go's tabwriter.format(): finds column blocks recursively and sizes each column per block. */
static void
tab_format(TabWriter *tw, guint line0, guint line1)
{
    guint column = tw->widths->len;
    for (guint this = line0; this < line1; this ++) {
        char **cells = g_ptr_array_index(tw->lines, this);
        if (column + 1 >= g_strv_length(cells))
            continue;
        tab_write_lines(tw, line0, this);
        line0 = this;
        guint width = tw->minwidth;
        for (; this < line1; this ++) {
            cells = g_ptr_array_index(tw->lines, this);
            if (column + 1 >= g_strv_length(cells))
                break;
            guint w = g_utf8_strlen(cells[column], -1) + tw->padding;
            width = MAX(width, w);
        }
        g_array_append_val(tw->widths, width);
        tab_format(tw, line0, this);
        g_array_set_size(tw->widths, tw->widths->len - 1);
        line0 = this; /* as in Go, the loop then skips this line: it has no cell here */
    }
    tab_write_lines(tw, line0, line1);
}

void
view_tabwrite(GString *out, const char *text, guint minwidth, guint padding)
{
    TabWriter tw = {.minwidth = minwidth, .padding = padding, .out = out};
    tw.lines = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    tw.widths = g_array_new(FALSE, FALSE, sizeof(guint));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = g_strv_length(lines);
    if (n > 0 && lines[n - 1][0] == '\0')
        n--; /* text ends with a newline */
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(tw.lines, g_strsplit(lines[i], "\t", -1));
    tab_format(&tw, 0, tw.lines->len);
    g_ptr_array_unref(tw.lines);
    g_array_unref(tw.widths);
}

/* ------------------------------------------------------------------ helpers */

/* See tools/kubectl_view_private.h. */
gint
view_compare_keys(gconstpointer a, gconstpointer b, gpointer unused)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

gboolean
view_resource_parse(const char *text, ViewResource *out)
{
    static const struct {
        const char *name;
        ViewResource res;
    } names[] = {
        {"nodes", VIEW_NODES},
        {"node", VIEW_NODES},
        {"no", VIEW_NODES},
        {"pods", VIEW_PODS},
        {"pod", VIEW_PODS},
        {"po", VIEW_PODS},
        {"services", VIEW_SERVICES},
        {"service", VIEW_SERVICES},
        {"svc", VIEW_SERVICES},
        {"endpointslices", VIEW_ENDPOINT_SLICES},
        {"endpointslice", VIEW_ENDPOINT_SLICES},
        {"endpointslices.discovery.k8s.io", VIEW_ENDPOINT_SLICES},
        {"deployments", VIEW_DEPLOYMENTS},
        {"deployment", VIEW_DEPLOYMENTS},
        {"deploy", VIEW_DEPLOYMENTS},
        {"deployments.apps", VIEW_DEPLOYMENTS},
    };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(text, names[i].name) == 0) {
            *out = names[i].res;
            return TRUE;
        }
    }
    return FALSE;
}

/* See tools/kubectl_view_private.h. */
char *
view_age(SimTime age)
{
    gint64 s = age / SIM_SEC;
    if (age < -SIM_SEC)
        return g_strdup("<invalid>");
    if (s < 0)
        s = 0;
    if (s < 120)
        return g_strdup_printf("%" G_GINT64_FORMAT "s", s);
    gint64 m = s / 60, h = s / 3600, d = h / 24;
    if (m < 10)
        return s % 60 ? g_strdup_printf("%" G_GINT64_FORMAT "m%" G_GINT64_FORMAT "s", m, s % 60)
                      : g_strdup_printf("%" G_GINT64_FORMAT "m", m);
    if (h < 3)
        return g_strdup_printf("%" G_GINT64_FORMAT "m", m);
    if (h < 8)
        return m % 60 ? g_strdup_printf("%" G_GINT64_FORMAT "h%" G_GINT64_FORMAT "m", h, m % 60)
                      : g_strdup_printf("%" G_GINT64_FORMAT "h", h);
    if (h < 48)
        return g_strdup_printf("%" G_GINT64_FORMAT "h", h);
    if (h < 24 * 8)
        return h % 24 ? g_strdup_printf("%" G_GINT64_FORMAT "d%" G_GINT64_FORMAT "h", d, h % 24)
                      : g_strdup_printf("%" G_GINT64_FORMAT "d", d);
    return g_strdup_printf("%" G_GINT64_FORMAT "d", d);
}

/* Orders objects whose first member is a K8sMeta by namespace, then name: the order in which
 * the apiserver lists them (etcd key order). */
static gint
view_compare_meta(gconstpointer a, gconstpointer b)
{
    const K8sMeta *ma = *(const K8sMeta *const *)a, *mb = *(const K8sMeta *const *)b;
    int c = g_strcmp0(ma->namespace_, mb->namespace_);
    return c != 0 ? c : g_strcmp0(ma->name, mb->name);
}

/* A copy of objects (each starting with a K8sMeta) in apiserver list order. (transfer container) */
static GPtrArray *
view_sorted(GPtrArray *objects, GCompareFunc compare)
{
    /* Not g_ptr_array_copy(): the copy would inherit the owner's free function. */
    GPtrArray *copy = g_ptr_array_sized_new(objects->len);
    for (guint i = 0; i < objects->len; i++)
        g_ptr_array_add(copy, g_ptr_array_index(objects, i));
    g_ptr_array_sort(copy, compare);
    return copy;
}

static gint
view_compare_nodes(gconstpointer a, gconstpointer b)
{
    return g_strcmp0((*(const K8sNode *const *)a)->name, (*(const K8sNode *const *)b)->name);
}

static const char *
view_addr(const SimAddr *a, char *buf)
{
    return a->family == SIM_AF_NONE ? "<none>" : sim_addr_to_string(a, buf);
}

/* See tools/kubectl_view_private.h. */
gboolean
view_selected(const ViewSelect *sel, const char *namespace_, const char *name)
{
    if (sel->namespace_ != NULL && namespace_ != NULL && g_strcmp0(namespace_, sel->namespace_) != 0)
        return FALSE;
    return sel->names == NULL || g_strv_contains(sel->names, name);
}

char *
view_service_ports(const K8sService *svc)
{
    if (svc->ports->len == 0)
        return g_strdup("<none>");
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *p = g_ptr_array_index(svc->ports, i);
        if (i > 0)
            g_string_append_c(s, ',');
        if (p->node_port != 0)
            g_string_append_printf(s, "%u:%u/%s", p->port, p->node_port,
                                   sim_proto_k8s_name(p->protocol));
        else
            g_string_append_printf(s, "%u/%s", p->port, sim_proto_k8s_name(p->protocol));
    }
    return g_string_free(s, FALSE);
}

/* See tools/kubectl_view_private.h. */
char *
view_join_addrs(GArray *arr)
{
    if (arr == NULL || arr->len == 0)
        return NULL;
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < arr->len; i++) {
        char buf[SIM_ADDR_STRLEN];
        g_string_append_printf(s, "%s%s", i ? "," : "",
                               sim_addr_to_string(&g_array_index(arr, SimAddr, i), buf));
    }
    return g_string_free(s, FALSE);
}

/* See tools/kubectl_view_private.h. */
char *
view_lb_ingress(const K8sService *svc)
{
    if (svc->lb_ingress == NULL || svc->lb_ingress->len == 0)
        return NULL;
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < svc->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *ing = g_ptr_array_index(svc->lb_ingress, i);
        char buf[SIM_ADDR_STRLEN];
        const char *text =
            ing->ip.family != SIM_AF_NONE ? sim_addr_to_string(&ing->ip, buf) : ing->hostname;
        if (text != NULL)
            g_string_append_printf(s, "%s%s", s->len ? "," : "", text);
    }
    return g_string_free(s, s->len == 0);
}

/* kubectl's getServiceExternalIP(). */
static char *
view_service_external_ip(const K8sService *svc)
{
    g_autofree char *ext = view_join_addrs(svc->external_ips);
    switch (svc->type) {
    case K8S_SVC_CLUSTER_IP:
    case K8S_SVC_NODE_PORT:
        return ext ? g_steal_pointer(&ext) : g_strdup("<none>");
    case K8S_SVC_LOAD_BALANCER: {
        g_autofree char *lb = view_lb_ingress(svc);
        if (ext && lb)
            return g_strdup_printf("%s,%s", ext, lb);
        if (ext || lb)
            return g_strdup(ext ? ext : lb);
        return g_strdup("<pending>");
    }
    case K8S_SVC_EXTERNAL_NAME:
        return g_strdup(svc->external_name ? svc->external_name : "<none>");
    }
    return g_strdup("<none>");
}

/* See tools/kubectl_view_private.h. */
char *
view_cluster_ip(const K8sService *svc)
{
    char buf[SIM_ADDR_STRLEN];
    if (svc->cluster_ip_none)
        return g_strdup("None");
    const SimAddr *ip = k8s_service_cluster_ip(svc);
    return g_strdup(ip ? sim_addr_to_string(ip, buf) : "<none>");
}

/* ------------------------------------------------------------------ get: tables */

/* Starts a row: the NAMESPACE cell when listing all namespaces. */
/* See tools/kubectl_view_private.h. */
void
view_row_start(GString *t, const ViewSelect *sel, const K8sMeta *meta)
{
    if (sel->namespace_ == NULL)
        g_string_append_printf(t, "%s\t", meta ? meta->namespace_ : "NAMESPACE");
}

static guint
view_nodes_table(const Cluster *c, ViewFormat fmt, const ViewSelect *sel, GString *t)
{
    guint rows = 0;
    g_string_append(t, "NAME\tSTATUS\tROLES\tAGE\tVERSION");
    if (fmt == VIEW_FORMAT_WIDE)
        g_string_append(t,
                        "\tINTERNAL-IP\tEXTERNAL-IP\tOS-IMAGE\tKERNEL-VERSION\tCONTAINER-RUNTIME");
    g_string_append_c(t, '\n');
    g_autoptr(GPtrArray) nodes = view_sorted(c->nodes, view_compare_nodes);
    for (guint i = 0; i < nodes->len; i++) {
        const K8sNode *n = g_ptr_array_index(nodes, i);
        if (!view_selected(sel, NULL, n->name))
            continue;
        g_autofree char *age = view_age(c->now);
        g_string_append_printf(
            t, "%s\t%s%s\t<none>\t%s\t%s", n->name, n->ready ? "Ready" : "NotReady",
            n->unschedulable ? ",SchedulingDisabled" : "", age, KUBERNETES_VERSION);
        if (fmt == VIEW_FORMAT_WIDE) {
            char buf[SIM_ADDR_STRLEN];
            const SimAddr *ip = n->addresses->len ? &g_array_index(n->addresses, SimAddr, 0) : NULL;
            g_string_append_printf(t, "\t%s\t<none>\tkpsim\t<unknown>\t<unknown>",
                                   ip ? sim_addr_to_string(ip, buf) : "<none>");
        }
        g_string_append_c(t, '\n');
        rows++;
    }
    return rows;
}

static const char *
view_pod_status(const K8sPod *p, const Timeline *tl)
{
    if (p->terminating)
        return "Terminating";
    if (tl != NULL && !timeline_container_running(tl, p, NULL))
        return "CrashLoopBackOff"; /* its container exited; kubelet waits out the back-off */
    if (p->node_name == NULL)
        return "Pending";
    return p->ip.family == SIM_AF_NONE ? "ContainerCreating" : "Running";
}

/* RESTARTS as kubectl 1.22+ prints it: "0", or "2 (35s ago)" since the last restart. */
static char *
view_pod_restarts(const Cluster *c, const Timeline *tl, const K8sPod *p)
{
    SimTime last = -1;
    if (tl != NULL)
        timeline_container_running(tl, p, &last);
    if (p->restart_count == 0 || last < 0)
        return g_strdup_printf("%u", p->restart_count);
    g_autofree char *ago = view_age(c->now - last);
    return g_strdup_printf("%u (%s ago)", p->restart_count, ago);
}

static guint
view_pods_table(const Cluster *c, const Timeline *tl, ViewFormat fmt, const ViewSelect *sel,
                GString *t)
{
    guint rows = 0;
    view_row_start(t, sel, NULL);
    g_string_append(t, "NAME\tREADY\tSTATUS\tRESTARTS\tAGE");
    if (fmt == VIEW_FORMAT_WIDE)
        g_string_append(t, "\tIP\tNODE\tNOMINATED NODE\tREADINESS GATES");
    g_string_append_c(t, '\n');
    g_autoptr(GPtrArray) pods = view_sorted(c->pods, view_compare_meta);
    for (guint i = 0; i < pods->len; i++) {
        const K8sPod *p = g_ptr_array_index(pods, i);
        if (!view_selected(sel, p->meta.namespace_, p->meta.name))
            continue;
        guint containers = MAX(1u, p->spec.containers ? p->spec.containers->len : 0);
        g_autofree char *age = view_age(c->now - (tl ? timeline_created_at(tl, p) : 0));
        g_autofree char *restarts = view_pod_restarts(c, tl, p);
        view_row_start(t, sel, &p->meta);
        g_string_append_printf(t, "%s\t%u/%u\t%s\t%s\t%s", p->meta.name, p->ready ? containers : 0,
                               containers, view_pod_status(p, tl), restarts, age);
        if (fmt == VIEW_FORMAT_WIDE) {
            char buf[SIM_ADDR_STRLEN];
            g_string_append_printf(t, "\t%s\t%s\t<none>\t<none>", view_addr(&p->ip, buf),
                                   p->node_name ? p->node_name : "<none>");
        }
        g_string_append_c(t, '\n');
        rows++;
    }
    return rows;
}

static guint
view_services_table(const Cluster *c, ViewFormat fmt, const ViewSelect *sel, GString *t)
{
    guint rows = 0;
    view_row_start(t, sel, NULL);
    g_string_append(t, "NAME\tTYPE\tCLUSTER-IP\tEXTERNAL-IP\tPORT(S)\tAGE");
    g_string_append(t, fmt == VIEW_FORMAT_WIDE ? "\tSELECTOR\n" : "\n");
    g_autoptr(GPtrArray) services = view_sorted(c->services, view_compare_meta);
    for (guint i = 0; i < services->len; i++) {
        const K8sService *s = g_ptr_array_index(services, i);
        if (!view_selected(sel, s->meta.namespace_, s->meta.name))
            continue;
        g_autofree char *cip = view_cluster_ip(s);
        g_autofree char *ext = view_service_external_ip(s);
        g_autofree char *ports = view_service_ports(s);
        g_autofree char *age = view_age(c->now);
        view_row_start(t, sel, &s->meta);
        g_string_append_printf(t, "%s\t%s\t%s\t%s\t%s\t%s", s->meta.name,
                               k8s_service_type_name(s->type), cip, ext, ports, age);
        if (fmt == VIEW_FORMAT_WIDE) {
            g_autofree char *selector = k8s_labels_to_string(s->selector);
            g_string_append_printf(t, "\t%s", selector);
        }
        g_string_append_c(t, '\n');
        rows++;
    }
    return rows;
}

/* kubectl's formatDiscoveryEndpoints(): up to three addresses, then "+ N more...". */
static char *
view_slice_endpoints(const K8sEndpointSlice *s)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < s->endpoints->len; i++) {
        const K8sEndpoint *e = g_ptr_array_index(s->endpoints, i);
        for (guint j = 0; j < e->addresses->len; j++) {
            char buf[SIM_ADDR_STRLEN];
            g_ptr_array_add(
                list, g_strdup(sim_addr_to_string(&g_array_index(e->addresses, SimAddr, j), buf)));
        }
    }
    if (list->len == 0)
        return g_strdup("<unset>");
    guint shown = MIN(list->len, 3u);
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < shown; i++)
        g_string_append_printf(out, "%s%s", i ? "," : "", (char *)g_ptr_array_index(list, i));
    if (list->len > shown)
        g_string_append_printf(out, " + %u more...", list->len - shown);
    return g_string_free(out, FALSE);
}

static guint
view_slices_table(const Cluster *c, const ViewSelect *sel, GString *t)
{
    guint rows = 0;
    view_row_start(t, sel, NULL);
    g_string_append(t, "NAME\tADDRESSTYPE\tPORTS\tENDPOINTS\tAGE\n");
    g_autoptr(GPtrArray) slices = view_sorted(c->slices, view_compare_meta);
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *s = g_ptr_array_index(slices, i);
        if (!view_selected(sel, s->meta.namespace_, s->meta.name))
            continue;
        GString *ports = g_string_new(NULL);
        for (guint j = 0; j < s->ports->len; j++) {
            const K8sEndpointPort *p = g_ptr_array_index(s->ports, j);
            g_string_append_printf(ports, "%s%u", j ? "," : "", p->port);
        }
        g_autofree char *ports_text = g_string_free(ports, ports->len == 0);
        g_autofree char *eps = view_slice_endpoints(s);
        g_autofree char *age = view_age(c->now);
        const char *type = s->address_type == SIM_AF_INET6  ? "IPv6"
                           : s->address_type == SIM_AF_INET ? "IPv4"
                                                            : "FQDN";
        view_row_start(t, sel, &s->meta);
        g_string_append_printf(t, "%s\t%s\t%s\t%s\t%s\n", s->meta.name, type,
                               ports_text ? ports_text : "<unset>", eps, age);
        rows++;
    }
    return rows;
}

/* ------------------------------------------------------------------ get: JSON */

/* See tools/kubectl_view_private.h. */
void
view_json_add_string(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, value);
}

/* See tools/kubectl_view_private.h. */
void
view_json_add_int(JsonBuilder *b, const char *key, gint64 value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_int_value(b, value);
}

/* Adds the member key with an address as text. */
static void
json_add_addr(JsonBuilder *b, const char *key, const SimAddr *a)
{
    char buf[SIM_ADDR_STRLEN];
    view_json_add_string(b, key, sim_addr_to_string(a, buf));
}

/* See tools/kubectl_view_private.h: a string map (labels, selector) with sorted keys. */
void
view_json_add_map(JsonBuilder *b, const char *key, GHashTable *map)
{
    if (map == NULL || g_hash_table_size(map) == 0)
        return;
    json_builder_set_member_name(b, key);
    json_builder_begin_object(b);
    g_autofree const char **keys = (const char **)g_hash_table_get_keys_as_array(map, NULL);
    g_qsort_with_data(keys, g_hash_table_size(map), sizeof(char *), view_compare_keys, NULL);
    for (guint i = 0; keys[i] != NULL; i++)
        view_json_add_string(b, keys[i], g_hash_table_lookup(map, keys[i]));
    json_builder_end_object(b);
}

/* See tools/kubectl_view_private.h. */
void
view_json_begin_object(JsonBuilder *b, const char *api, const char *kind, const K8sMeta *meta,
                       const char *name)
{
    json_builder_begin_object(b);
    view_json_add_string(b, "apiVersion", api);
    view_json_add_string(b, "kind", kind);
    json_builder_set_member_name(b, "metadata");
    json_builder_begin_object(b);
    view_json_add_string(b, "name", meta ? meta->name : name);
    if (meta != NULL) {
        view_json_add_string(b, "namespace", meta->namespace_);
        view_json_add_map(b, "labels", meta->labels);
    }
    json_builder_end_object(b);
}

static void
json_node(JsonBuilder *b, const K8sNode *n)
{
    view_json_begin_object(b, "v1", "Node", NULL, n->name);
    json_builder_set_member_name(b, "spec");
    json_builder_begin_object(b);
    if (n->pod_cidr.addr.family != SIM_AF_NONE) {
        char buf[SIM_CIDR_STRLEN];
        view_json_add_string(b, "podCIDR", sim_cidr_to_string(&n->pod_cidr, buf));
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "addresses");
    json_builder_begin_array(b);
    for (guint i = 0; i < n->addresses->len; i++) {
        json_builder_begin_object(b);
        view_json_add_string(b, "type", "InternalIP");
        json_add_addr(b, "address", &g_array_index(n->addresses, SimAddr, i));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "conditions");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    view_json_add_string(b, "type", "Ready");
    view_json_add_string(b, "status", n->ready ? "True" : "Unknown");
    json_builder_end_object(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void
json_pod(JsonBuilder *b, const K8sPod *p)
{
    view_json_begin_object(b, "v1", "Pod", &p->meta, NULL);
    json_builder_set_member_name(b, "spec");
    json_builder_begin_object(b);
    if (p->node_name)
        view_json_add_string(b, "nodeName", p->node_name);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_begin_object(b);
    view_json_add_string(b, "phase", p->node_name ? "Running" : "Pending");
    if (p->ip.family != SIM_AF_NONE)
        json_add_addr(b, "podIP", &p->ip);
    json_builder_set_member_name(b, "conditions");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    view_json_add_string(b, "type", "Ready");
    view_json_add_string(b, "status", p->ready ? "True" : "False");
    json_builder_end_object(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void
json_service_ports(JsonBuilder *b, const K8sService *s)
{
    json_builder_set_member_name(b, "ports");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->ports->len; i++) {
        const K8sServicePort *p = g_ptr_array_index(s->ports, i);
        json_builder_begin_object(b);
        if (p->name && *p->name)
            view_json_add_string(b, "name", p->name);
        view_json_add_string(b, "protocol", sim_proto_k8s_name(p->protocol));
        view_json_add_int(b, "port", p->port);
        if (p->target_port_name)
            view_json_add_string(b, "targetPort", p->target_port_name);
        else
            view_json_add_int(b, "targetPort", p->target_port);
        if (p->node_port)
            view_json_add_int(b, "nodePort", p->node_port);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
json_service(JsonBuilder *b, const K8sService *s)
{
    view_json_begin_object(b, "v1", "Service", &s->meta, NULL);
    json_builder_set_member_name(b, "spec");
    json_builder_begin_object(b);
    view_json_add_string(b, "type", k8s_service_type_name(s->type));
    g_autofree char *cip = view_cluster_ip(s);
    view_json_add_string(b, "clusterIP", cip);
    json_service_ports(b, s);
    view_json_add_map(b, "selector", s->selector);
    if (s->type == K8S_SVC_NODE_PORT || s->type == K8S_SVC_LOAD_BALANCER)
        view_json_add_string(b, "externalTrafficPolicy",
                             s->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    view_json_add_string(b, "internalTrafficPolicy",
                         s->internal_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    view_json_add_string(b, "sessionAffinity", s->affinity_client_ip ? "ClientIP" : "None");
    if (s->health_check_node_port)
        view_json_add_int(b, "healthCheckNodePort", s->health_check_node_port);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void
json_slice(JsonBuilder *b, const K8sEndpointSlice *s)
{
    view_json_begin_object(b, "discovery.k8s.io/v1", "EndpointSlice", &s->meta, NULL);
    view_json_add_string(b, "addressType", s->address_type == SIM_AF_INET6 ? "IPv6" : "IPv4");
    json_builder_set_member_name(b, "endpoints");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->endpoints->len; i++) {
        const K8sEndpoint *e = g_ptr_array_index(s->endpoints, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "addresses");
        json_builder_begin_array(b);
        for (guint j = 0; j < e->addresses->len; j++) {
            char buf[SIM_ADDR_STRLEN];
            json_builder_add_string_value(
                b, sim_addr_to_string(&g_array_index(e->addresses, SimAddr, j), buf));
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "conditions");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "ready");
        json_builder_add_boolean_value(b, k8s_endpoint_ready(e));
        json_builder_set_member_name(b, "serving");
        json_builder_add_boolean_value(b, k8s_endpoint_serving(e));
        json_builder_set_member_name(b, "terminating");
        json_builder_add_boolean_value(b, k8s_endpoint_terminating(e));
        json_builder_end_object(b);
        if (e->node_name)
            view_json_add_string(b, "nodeName", e->node_name);
        if (e->zone)
            view_json_add_string(b, "zone", e->zone);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "ports");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->ports->len; i++) {
        const K8sEndpointPort *p = g_ptr_array_index(s->ports, i);
        json_builder_begin_object(b);
        view_json_add_string(b, "name", p->name ? p->name : "");
        view_json_add_int(b, "port", p->port);
        view_json_add_string(b, "protocol", sim_proto_k8s_name(p->protocol));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* Adds every object of res that sel selects to b, each as its JSON object; returns how many. */
static guint
view_json_objects(const Cluster *c, const Timeline *tl, ViewResource res, const ViewSelect *sel,
                  JsonBuilder *b)
{
    guint n = 0;
    switch (res) {
    case VIEW_NODES:
        for (guint i = 0; i < c->nodes->len; i++) {
            const K8sNode *node = g_ptr_array_index(c->nodes, i);
            if (view_selected(sel, NULL, node->name) && ++n)
                json_node(b, node);
        }
        break;
    case VIEW_PODS:
        for (guint i = 0; i < c->pods->len; i++) {
            const K8sPod *p = g_ptr_array_index(c->pods, i);
            if (view_selected(sel, p->meta.namespace_, p->meta.name) && ++n)
                json_pod(b, p);
        }
        break;
    case VIEW_SERVICES:
        for (guint i = 0; i < c->services->len; i++) {
            const K8sService *s = g_ptr_array_index(c->services, i);
            if (view_selected(sel, s->meta.namespace_, s->meta.name) && ++n)
                json_service(b, s);
        }
        break;
    case VIEW_ENDPOINT_SLICES:
        for (guint i = 0; i < c->slices->len; i++) {
            const K8sEndpointSlice *s = g_ptr_array_index(c->slices, i);
            if (view_selected(sel, s->meta.namespace_, s->meta.name) && ++n)
                json_slice(b, s);
        }
        break;
    case VIEW_DEPLOYMENTS:
        n = view_deployments_json(c, tl, sel, b);
        break;
    }
    return n;
}

/* Appends `kubectl get -o json` for res: a List of the objects sel selects, or the object
 * itself when sel names exactly one (as kubectl get TYPE NAME -o json prints it). */
static void
view_get_json(const Cluster *c, const Timeline *tl, ViewResource res, const ViewSelect *sel,
              GString *out)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    gboolean single = sel->names != NULL && g_strv_length((char **)sel->names) == 1;
    if (!single) {
        json_builder_begin_object(b);
        view_json_add_string(b, "apiVersion", "v1");
        view_json_add_string(b, "kind", "List");
        json_builder_set_member_name(b, "items");
        json_builder_begin_array(b);
    }
    view_json_objects(c, tl, res, sel, b);
    if (!single) {
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    cli_append_json(out, b, 4);
}

gboolean
view_get(const Cluster *c, ViewResource res, ViewFormat fmt, const char *ns, GString *out,
         char **empty_message)
{
    ViewSelect sel = {ns, NULL};
    return view_get_select(c, NULL, res, fmt, &sel, out, empty_message);
}

gboolean
view_get_at(const Cluster *c, const Timeline *tl, ViewResource res, ViewFormat fmt, const char *ns,
            GString *out, char **empty_message)
{
    ViewSelect sel = {ns, NULL};
    return view_get_select(c, tl, res, fmt, &sel, out, empty_message);
}

/* Appends the table of res (cells separated by tabs) and returns its rows. */
static guint
view_table(const Cluster *c, const Timeline *tl, ViewResource res, ViewFormat fmt,
           const ViewSelect *sel, GString *t)
{
    switch (res) {
    case VIEW_NODES:
        return view_nodes_table(c, fmt, sel, t);
    case VIEW_PODS:
        return view_pods_table(c, tl, fmt, sel, t);
    case VIEW_SERVICES:
        return view_services_table(c, fmt, sel, t);
    case VIEW_ENDPOINT_SLICES:
        return view_slices_table(c, sel, t);
    case VIEW_DEPLOYMENTS:
        return view_deployments_table(c, tl, fmt, sel, t);
    }
    return 0;
}

gboolean
view_get_select(const Cluster *c, const Timeline *tl, ViewResource res, ViewFormat fmt,
                const ViewSelect *sel, GString *out, char **empty_message)
{
    if (fmt == VIEW_FORMAT_JSON) {
        view_get_json(c, tl, res, sel, out);
        return TRUE;
    }
    g_autoptr(GString) t = g_string_new(NULL);
    if (view_table(c, tl, res, fmt, sel, t) == 0) {
        *empty_message = sel->namespace_ && res != VIEW_NODES
                             ? g_strdup_printf("No resources found in %s namespace.",
                                               sel->namespace_)
                             : g_strdup("No resources found");
        return FALSE;
    }
    view_tabwrite(out, t->str, 6, 3);
    return TRUE;
}

/* See tools/kubectl_view.h. */
gboolean
view_exists(const Cluster *c, ViewResource res, const char *ns, const char *name)
{
    switch (res) {
    case VIEW_NODES:
        return cluster_find_node(c, name) != NULL;
    case VIEW_PODS:
        return cluster_find_pod(c, ns, name) != NULL;
    case VIEW_SERVICES:
        return cluster_find_service(c, ns, name) != NULL;
    case VIEW_DEPLOYMENTS:
        return cluster_find_deployment(c, ns, name) != NULL;
    case VIEW_ENDPOINT_SLICES:
        for (guint i = 0; i < c->slices->len; i++) {
            const K8sEndpointSlice *s = g_ptr_array_index(c->slices, i);
            if (g_strcmp0(s->meta.name, name) == 0 && g_strcmp0(s->meta.namespace_, ns) == 0)
                return TRUE;
        }
        return FALSE;
    }
    return FALSE;
}

/* See tools/kubectl_view.h. */
const char *
view_resource_api_name(ViewResource res)
{
    switch (res) {
    case VIEW_NODES:
        return "nodes";
    case VIEW_PODS:
        return "pods";
    case VIEW_SERVICES:
        return "services";
    case VIEW_ENDPOINT_SLICES:
        return "endpointslices.discovery.k8s.io";
    case VIEW_DEPLOYMENTS:
        return "deployments.apps";
    }
    return "";
}
