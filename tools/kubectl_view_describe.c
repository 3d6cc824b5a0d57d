/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl's `describe service` and `get events` views of the simulated cluster (see
 * tools/kubectl_view.h): describeService's layout (tabwriter minwidth 0, padding 2) and the
 * controllers' log listed the way kubectl lists Events. Part of tools/kubectl_view.c.
 */
#include "tools/kubectl_view_private.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "model/controllers.h"
#include "tools/cli.h"

/* ------------------------------------------------------------------ describe service */

/* Every record is a Normal Event: Kubernetes' own for these changes (NodeNotReady, Killing,
 * SuccessfulCreate...) are Normal too; Warning is for failures of the controllers themselves. */
#define VIEW_EVENT_TYPE "Normal"

static char *view_event_reason(ControllersRecordKind kind);
static char *view_event_message(const ControllersRecord *rec);

/* kubectl's formatEndpointSlices(): "IP:port" of ready endpoints for the port named port_name,
 * at most three, then "+ N more...". */
static char *
view_describe_endpoints(const Cluster *c, const K8sService *svc, const char *port_name)
{
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    GString *out = g_string_new(NULL);
    guint count = 0;
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *s = g_ptr_array_index(slices, i);
        for (guint j = 0; j < s->ports->len; j++) {
            const K8sEndpointPort *p = g_ptr_array_index(s->ports, j);
            if (g_strcmp0(p->name ? p->name : "", port_name ? port_name : "") != 0)
                continue;
            for (guint k = 0; k < s->endpoints->len; k++) {
                const K8sEndpoint *e = g_ptr_array_index(s->endpoints, k);
                if (!k8s_endpoint_ready(e) || e->addresses->len == 0)
                    continue;
                SimSockAddr sa = {g_array_index(e->addresses, SimAddr, 0), p->port};
                char buf[SIM_SOCKADDR_STRLEN];
                if (count++ < 3)
                    g_string_append_printf(out, "%s%s", count > 1 ? "," : "",
                                           sim_sockaddr_to_string(&sa, buf));
            }
        }
    }
    if (count > 3)
        g_string_append_printf(out, " + %u more...", count - 3);
    if (count == 0)
        g_string_append(out, "<none>");
    return g_string_free(out, FALSE);
}

/* "Labels:\tk=v\n\tk2=v2\n" as printLabelsMultiline() writes it. */
static void
view_describe_map(GString *t, const char *title, GHashTable *map)
{
    if (map == NULL || g_hash_table_size(map) == 0) {
        g_string_append_printf(t, "%s\t<none>\n", title);
        return;
    }
    g_autofree const char **keys = (const char **)g_hash_table_get_keys_as_array(map, NULL);
    g_qsort_with_data(keys, g_hash_table_size(map), sizeof(char *), view_compare_keys, NULL);
    for (guint i = 0; keys[i] != NULL; i++)
        g_string_append_printf(t, "%s\t%s=%s\n", i == 0 ? title : "", keys[i],
                               (const char *)g_hash_table_lookup(map, keys[i]));
}

static void
view_describe_ips(GString *t, const K8sService *svc)
{
    if (svc->ip_family_policy != NULL || svc->cluster_ips->len > 0)
        g_string_append_printf(t, "IP Family Policy:\t%s\n",
                               svc->ip_family_policy ? svc->ip_family_policy : "SingleStack");
    GString *fam = g_string_new(NULL);
    for (guint i = 0; i < svc->cluster_ips->len; i++) {
        const SimAddr *a = &g_array_index(svc->cluster_ips, SimAddr, i);
        g_string_append_printf(fam, "%s%s", i ? "," : "",
                               a->family == SIM_AF_INET6 ? "IPv6" : "IPv4");
    }
    g_autofree char *families = g_string_free(fam, fam->len == 0);
    g_string_append_printf(t, "IP Families:\t%s\n", families ? families : "<none>");
    g_autofree char *cip = view_cluster_ip(svc);
    g_autofree char *ips = view_join_addrs(svc->cluster_ips);
    g_string_append_printf(t, "IP:\t%s\n", cip);
    g_string_append_printf(t, "IPs:\t%s\n", svc->cluster_ip_none ? "None" : ips ? ips : "<none>");
    g_autofree char *ext = view_join_addrs(svc->external_ips);
    if (ext)
        g_string_append_printf(t, "External IPs:\t%s\n", ext);
    if (svc->external_name)
        g_string_append_printf(t, "External Name:\t%s\n", svc->external_name);
    g_autofree char *lb = view_lb_ingress(svc);
    if (lb)
        g_string_append_printf(t, "LoadBalancer Ingress:\t%s\n", lb);
}

static void
view_describe_ports(GString *t, const Cluster *c, const K8sService *svc)
{
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *p = g_ptr_array_index(svc->ports, i);
        const char *name = p->name && *p->name ? p->name : "<unset>";
        const char *proto = sim_proto_k8s_name(p->protocol);
        g_string_append_printf(t, "Port:\t%s\t%u/%s\n", name, p->port, proto);
        if (p->target_port_name)
            g_string_append_printf(t, "TargetPort:\t%s/%s\n", p->target_port_name, proto);
        else
            g_string_append_printf(t, "TargetPort:\t%u/%s\n", p->target_port, proto);
        if (p->node_port)
            g_string_append_printf(t, "NodePort:\t%s\t%u/%s\n", name, p->node_port, proto);
        g_autofree char *eps = view_describe_endpoints(c, svc, p->name);
        g_string_append_printf(t, "Endpoints:\t%s\n", eps);
    }
}

/* The Events: section: the controllers' records about svc (its EndpointSlices rewritten, its
 * patches) as kubectl's DescribeEvents() lists them, or <none>. */
static void
view_describe_events(GString *t, const Cluster *c, const Timeline *tl, const K8sService *svc)
{
    g_autofree char *subject = g_strdup_printf("%s/%s", svc->meta.namespace_, svc->meta.name);
    const GPtrArray *log = tl != NULL ? timeline_log(tl) : NULL;
    guint rows = 0;
    for (guint i = 0; log != NULL && i < log->len; i++) {
        const ControllersRecord *rec = log->pdata[i];
        if (g_strcmp0(rec->subject, subject) != 0)
            continue;
        if (rows++ == 0)
            g_string_append(t, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n"
                               "  ----\t------\t----\t----\t-------\n");
        g_autofree char *reason = view_event_reason(rec->kind);
        g_autofree char *age = view_age(c->now - rec->at);
        g_autofree char *message = view_event_message(rec);
        g_string_append_printf(t, "  %s\t%s\t%s\tkpsim\t%s\n", VIEW_EVENT_TYPE, reason, age,
                               message);
    }
    if (rows == 0)
        g_string_append(t, "Events:\t<none>\n");
}

gboolean
view_describe_service(const Cluster *c, const char *ns, const char *name, GString *out)
{
    return view_describe_service_at(c, NULL, ns, name, out);
}

gboolean
view_describe_service_at(const Cluster *c, const Timeline *tl, const char *ns, const char *name,
                         GString *out)
{
    const K8sService *svc = cluster_find_service(c, ns, name);
    if (svc == NULL)
        return FALSE;
    g_autoptr(GString) t = g_string_new(NULL);
    g_string_append_printf(t, "Name:\t%s\nNamespace:\t%s\n", svc->meta.name, svc->meta.namespace_);
    view_describe_map(t, "Labels:", svc->meta.labels);
    view_describe_map(t, "Annotations:", svc->meta.annotations);
    g_autofree char *sel = k8s_labels_to_string(svc->selector);
    g_string_append_printf(t, "Selector:\t%s\nType:\t%s\n", svc->selector ? sel : "<none>",
                           k8s_service_type_name(svc->type));
    view_describe_ips(t, svc);
    view_describe_ports(t, c, svc);
    g_string_append_printf(t, "Session Affinity:\t%s\n",
                           svc->affinity_client_ip ? "ClientIP" : "None");
    if (svc->type == K8S_SVC_NODE_PORT || svc->type == K8S_SVC_LOAD_BALANCER)
        g_string_append_printf(t, "External Traffic Policy:\t%s\n",
                               svc->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    if (svc->type != K8S_SVC_EXTERNAL_NAME)
        g_string_append_printf(t, "Internal Traffic Policy:\t%s\n",
                               svc->internal_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    if (svc->health_check_node_port && svc->type == K8S_SVC_LOAD_BALANCER &&
        svc->external_policy == K8S_POLICY_LOCAL)
        g_string_append_printf(t, "HealthCheck NodePort:\t%u\n", svc->health_check_node_port);
    if (svc->source_ranges && svc->source_ranges->len) {
        g_string_append(t, "LoadBalancer Source Ranges:\t");
        for (guint i = 0; i < svc->source_ranges->len; i++) {
            char buf[SIM_CIDR_STRLEN];
            g_string_append_printf(
                t, "%s%s", i ? "," : "",
                sim_cidr_to_string(&g_array_index(svc->source_ranges, SimCidr, i), buf));
        }
        g_string_append_c(t, '\n');
    }
    view_describe_events(t, c, tl, svc);
    view_tabwrite(out, t->str, 0, 2);
    return TRUE;
}

/* ------------------------------------------------------------------ get events */

/* An Event's reason from a log record's kind: "node-not-ready" -> "NodeNotReady" (the node
 * lifecycle controller's own reason for that change). (transfer full) */
static char *
view_event_reason(ControllersRecordKind kind)
{
    const char *name = controllers_record_kind_name(kind);
    GString *s = g_string_new(NULL);
    gboolean upper = TRUE;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '-') {
            upper = TRUE;
            continue;
        }
        g_string_append_c(s, upper ? g_ascii_toupper(*p) : *p);
        upper = FALSE;
    }
    return g_string_free(s, FALSE);
}

/* The Kind of an API object the word names ("pods", "rollout", "Service"...), or NULL. */
static const char *
view_event_kind(const char *word, gsize len)
{
    static const struct {
        const char *word, *kind;
    } kinds[] = {
        {"pod", "Pod"},
        {"pods", "Pod"},
        {"service", "Service"},
        {"endpoints", "Endpoints"},
        {"deployment", "Deployment"},
        {"rollout", "Deployment"},
        {"node", "Node"},
        {"proxy", "Node"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
        if (strlen(kinds[i].word) == len && g_ascii_strncasecmp(word, kinds[i].word, len) == 0)
            return kinds[i].kind;
    return NULL;
}

/* The Event's involved object as kubectl prints it ("node/node2", "pod/nginx-x",
 * "service/web"), namespace left out: a node when the subject names one, else the kind the
 * record's name starts with ("pods-evicted": Pod), else the one its detail starts with
 * ("applied": "Service created"). (transfer full) */
static char *
view_event_object(const Cluster *c, const ControllersRecord *rec, const char **kind_out)
{
    const char *subject = rec->subject != NULL ? rec->subject : "";
    const char *name = controllers_record_kind_name(rec->kind);
    const char *detail = rec->detail != NULL ? rec->detail : "";
    const char *kind = cluster_find_node(c, subject) != NULL ? "Node" : NULL;
    if (kind == NULL)
        kind = view_event_kind(name, strcspn(name, "-"));
    if (kind == NULL)
        kind = view_event_kind(detail, strcspn(detail, " :"));
    *kind_out = kind != NULL ? kind : "Object";
    g_autofree char *lower = g_ascii_strdown(*kind_out, -1);
    const char *slash = strrchr(subject, '/');
    return g_strdup_printf("%s/%s", lower, slash != NULL ? slash + 1 : subject);
}

/* The Event's message: the record's detail, or its kind in words ("proxy synced").
 * (transfer full) */
static char *
view_event_message(const ControllersRecord *rec)
{
    if (rec->detail != NULL)
        return g_strdup(rec->detail);
    char *text = g_strdup(controllers_record_kind_name(rec->kind));
    g_strdelimit(text, "-", ' ');
    return text;
}

/* One Event of -o json. */
static void
json_event(JsonBuilder *b, const Cluster *c, const ControllersRecord *rec, guint index)
{
    const char *kind = NULL;
    g_autofree char *object = view_event_object(c, rec, &kind);
    g_autofree char *reason = view_event_reason(rec->kind);
    g_autofree char *name = g_strdup_printf("%s.%u", strchr(object, '/') + 1, index);
    char at[SIM_TIME_STRLEN];
    view_json_begin_object(b, "v1", "Event", NULL, name);
    json_builder_set_member_name(b, "involvedObject");
    json_builder_begin_object(b);
    view_json_add_string(b, "kind", kind);
    view_json_add_string(b, "name", strchr(object, '/') + 1);
    json_builder_end_object(b);
    view_json_add_string(b, "reason", reason);
    g_autofree char *message = view_event_message(rec);
    view_json_add_string(b, "message", message);
    view_json_add_string(b, "type", VIEW_EVENT_TYPE);
    view_json_add_string(b, "simulatedTime", sim_time_format(rec->at, at));
    json_builder_end_object(b);
}

gboolean
view_get_events(const Cluster *c, const GPtrArray *log, ViewFormat fmt, GString *out,
                char **empty_message)
{
    if (fmt == VIEW_FORMAT_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        view_json_add_string(b, "apiVersion", "v1");
        view_json_add_string(b, "kind", "List");
        json_builder_set_member_name(b, "items");
        json_builder_begin_array(b);
        for (guint i = 0; i < log->len; i++)
            json_event(b, c, log->pdata[i], i);
        json_builder_end_array(b);
        json_builder_end_object(b);
        cli_append_json(out, b, 4);
        return TRUE;
    }
    if (log->len == 0) {
        *empty_message = g_strdup("No resources found in default namespace.");
        return FALSE;
    }
    g_autoptr(GString) t = g_string_new("LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n");
    for (guint i = 0; i < log->len; i++) {
        const ControllersRecord *rec = log->pdata[i];
        const char *kind = NULL;
        g_autofree char *age = view_age(c->now - rec->at);
        g_autofree char *reason = view_event_reason(rec->kind);
        g_autofree char *object = view_event_object(c, rec, &kind);
        g_autofree char *message = view_event_message(rec);
        g_string_append_printf(t, "%s\t%s\t%s\t%s\t%s\n", age, VIEW_EVENT_TYPE, reason, object,
                               message);
    }
    view_tabwrite(out, t->str, 6, 3);
    return TRUE;
}
