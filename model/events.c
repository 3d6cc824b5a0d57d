/* SPDX-License-Identifier: Apache-2.0 */
/* spec.events compiled for the run time: the loader's flattened text checked against the
 * cluster and turned into typed RunEvents, sorted by time (see model/events.h).
 */
#include "model/events.h"

#include <string.h>

#include "model/loader.h"

G_DEFINE_QUARK(events - error - quark, events_error)

/* See model/events.h. */
void
events_free(RunEvent *e)
{
    if (e == NULL)
        return;
    g_free(e->node);
    g_free(e->namespace_);
    g_free(e->service);
    g_free(e->pod);
    g_free(e->deployment);
    g_free(e->file);
    g_free(e->name);
    g_clear_pointer(&e->selector, g_hash_table_unref);
    g_clear_pointer(&e->ports, g_ptr_array_unref);
    g_clear_pointer(&e->template_labels, g_hash_table_unref);
    g_clear_pointer(&e->template_annotations, g_hash_table_unref);
    g_clear_pointer(&e->services, g_ptr_array_unref);
    g_clear_pointer(&e->deployments, g_ptr_array_unref);
    g_free(e);
}

/* See model/events.h. */
const char *
events_kind_name(EventKind kind)
{
    switch (kind) {
    case EVENT_NODE_DOWN:
        return "nodeDown";
    case EVENT_NODE_UP:
        return "nodeUp";
    case EVENT_PATCH_SERVICE:
        return "patch";
    case EVENT_PROXY_RESTART:
        return "proxyRestart";
    case EVENT_POD_KILL:
        return "podKill";
    case EVENT_SCALE:
        return "scale";
    case EVENT_NODE_DRAIN:
        return "nodeDrain";
    case EVENT_NODE_UNCORDON:
        return "nodeUncordon";
    case EVENT_POD_CRASH:
        return "podCrash";
    case EVENT_POD_READY:
        return "podReady";
    case EVENT_PATCH_DEPLOYMENT:
        return "patch";
    case EVENT_ROLLOUT_RESTART:
        return "rolloutRestart";
    case EVENT_APPLY:
        return "apply";
    case EVENT_DELETE:
        return "delete";
    }
    return "?";
}

/* Sets error to "FILE:LINE:COL: error: spec.events[index]: MESSAGE" at it's position.
 * Returns FALSE. */
static gboolean G_GNUC_PRINTF(5, 6)
    events_fail(GError **error, EventsError code, const ScenarioItem *it, guint index,
                const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error(error, EVENTS_ERROR, code, "%s:%u:%u: error: spec.events[%u]: %s",
                it->pos.file != NULL ? it->pos.file : "<scenario>", it->pos.line, it->pos.column,
                index, msg);
    return FALSE;
}

/* Does it hold a field other than those listed? Sets *unknown to the first one (key order). */
static gboolean
events_has_unknown_field(const ScenarioItem *it, const char *const *known, const char **unknown)
{
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(it->fields), (GCompareFunc)strcmp);
    for (GList *k = keys; k != NULL; k = k->next) {
        if (!g_strv_contains(known, k->data)) {
            *unknown = k->data;
            return TRUE;
        }
    }
    return FALSE;
}

/* A node event (nodeDown, nodeUp, proxyRestart: NODE) into e. */
static gboolean
events_node(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    const char *name = g_hash_table_lookup(it->fields, it->kind);
    if (name == NULL || name[0] == '\0' || g_hash_table_size(it->fields) != 1)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "%s: Invalid value: expected a node name", it->kind);
    if (cluster_find_node(c, name) == NULL)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: Not found: node \"%s\"",
                           it->kind, name);
    e->node = g_strdup(name);
    return TRUE;
}

/* Parses a traffic policy value of field into *out and sets *set; TRUE when absent. */
static gboolean
events_policy(const ScenarioItem *it, guint index, const char *field, gboolean *set,
              K8sTrafficPolicy *out, GError **error)
{
    const char *v = g_hash_table_lookup(it->fields, field);
    if (v == NULL)
        return TRUE;
    *set = TRUE;
    if (strcmp(v, "Cluster") == 0)
        *out = K8S_POLICY_CLUSTER;
    else if (strcmp(v, "Local") == 0)
        *out = K8S_POLICY_LOCAL;
    else
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "%s: Unsupported value: \"%s\": supported values: \"Cluster\", "
                           "\"Local\"",
                           field, v);
    return TRUE;
}

/* Parses field as a boolean ("true"/"false") into *out and sets *set; TRUE when absent. */
static gboolean
events_bool(const ScenarioItem *it, guint index, const char *field, gboolean *set, gboolean *out,
            GError **error)
{
    const char *v = g_hash_table_lookup(it->fields, field);
    if (v == NULL)
        return TRUE;
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "%s: Invalid value: \"%s\": expected true or false", field, v);
    if (set != NULL)
        *set = TRUE;
    *out = strcmp(v, "true") == 0;
    return TRUE;
}

/* Parses field as an integer from 0 to max into *out; *out untouched when absent. */
static gboolean
events_uint(const ScenarioItem *it, guint index, const char *field, guint64 max, gint64 *out,
            GError **error)
{
    const char *v = g_hash_table_lookup(it->fields, field);
    guint64 n;
    if (v == NULL)
        return TRUE;
    if (!g_ascii_string_to_unsigned(v, 10, 0, max, &n, NULL))
        return events_fail(
            error, EVENTS_ERROR_INVALID, it, index,
            "%s: Invalid value: \"%s\": must be an integer from 0 to %" G_GUINT64_FORMAT, field, v,
            max);
    *out = (gint64)n;
    return TRUE;
}

/* Parses field as whole seconds (0 to max) into *out; *out untouched when absent. */
static gboolean
events_seconds(const ScenarioItem *it, guint index, const char *field, guint64 max, SimTime *out,
               GError **error)
{
    gint64 n = -1;
    if (!events_uint(it, index, field, max, &n, error))
        return FALSE;
    if (n >= 0)
        *out = n * SIM_SEC;
    return TRUE;
}

/* The fields of it under prefix ("patch.spec.selector.") as a merge map: key -> value, ""
 * removing the key. NULL when there is none. (transfer full) */
static GHashTable *
events_map_fields(const ScenarioItem *it, const char *prefix)
{
    GHashTable *out = NULL;
    GHashTableIter iter;
    gpointer k, v;
    g_hash_table_iter_init(&iter, it->fields);
    while (g_hash_table_iter_next(&iter, &k, &v)) {
        if (!g_str_has_prefix(k, prefix) || ((const char *)k)[strlen(prefix)] == '\0')
            continue;
        if (out == NULL)
            out = k8s_string_table_new();
        g_hash_table_insert(out, g_strdup((const char *)k + strlen(prefix)), g_strdup(v));
    }
    return out;
}

/* Does it hold a field other than those listed or starting with one of prefixes (nullable)?
 * Sets *unknown to the first one (key order). */
static gboolean
events_has_unknown_prefixed(const ScenarioItem *it, const char *const *known,
                            const char *const *prefixes, const char **unknown)
{
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(it->fields), (GCompareFunc)strcmp);
    for (GList *k = keys; k != NULL; k = k->next) {
        gboolean ok = g_strv_contains(known, k->data);
        for (guint i = 0; !ok && prefixes != NULL && prefixes[i] != NULL; i++)
            ok = g_str_has_prefix(k->data, prefixes[i]);
        if (!ok) {
            *unknown = k->data;
            return TRUE;
        }
    }
    return FALSE;
}

/* The namespace field of it ("default" when absent or empty). (transfer full) */
static char *
events_namespace(const ScenarioItem *it, const char *field)
{
    const char *ns = g_hash_table_lookup(it->fields, field);
    return g_strdup(ns != NULL && ns[0] != '\0' ? ns : "default");
}

/* Service patch fields beyond the traffic policies: type, selector, sessionAffinity(+Config),
 * publishNotReadyAddresses. */
static gboolean
events_patch_service_more(const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer", NULL};
    const char *type = g_hash_table_lookup(it->fields, "patch.spec.type");
    const char *aff = g_hash_table_lookup(it->fields, "patch.spec.sessionAffinity");
    SimTime timeout = -1;
    e->selector = events_map_fields(it, "patch.spec.selector.");
    for (guint i = 0; type != NULL && types[i] != NULL && !e->set_type; i++)
        if (strcmp(type, types[i]) == 0) {
            e->set_type = TRUE;
            e->type = (K8sServiceType)i;
        }
    if (type != NULL && !e->set_type)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec.type: Unsupported value: \"%s\": supported values: "
                           "\"ClusterIP\", \"NodePort\", \"LoadBalancer\"",
                           type);
    if (aff != NULL && strcmp(aff, "None") != 0 && strcmp(aff, "ClientIP") != 0)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec.sessionAffinity: Unsupported value: \"%s\": supported "
                           "values: \"ClientIP\", \"None\"",
                           aff);
    e->set_affinity = aff != NULL;
    e->affinity_client_ip = aff != NULL && strcmp(aff, "ClientIP") == 0;
    if (!events_seconds(it, index, "patch.spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                        86400, &timeout, error) ||
        !events_bool(it, index, "patch.spec.publishNotReadyAddresses", &e->set_publish_not_ready,
                     &e->publish_not_ready, error))
        return FALSE;
    if (timeout == 0)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid "
                           "value: 0: must be greater than 0 and less than 86400");
    e->set_affinity_timeout = timeout > 0;
    e->affinity_timeout = timeout > 0 ? (guint)(timeout / SIM_SEC) : 0;
    return TRUE;
}

/* The spec.ports entries of a Service patch into e->ports: port (required), targetPort
 * (number or name), nodePort, name, protocol. */
static gboolean
events_patch_ports(const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const known[] = {"port", "targetPort", "nodePort", "name", "protocol", NULL};
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(it->fields), (GCompareFunc)strcmp);
    for (GList *k = keys; k != NULL; k = k->next) {
        const char *close =
            g_str_has_prefix(k->data, "patch.spec.ports[") ? strchr(k->data, ']') : NULL;
        if (close != NULL && (close[1] != '.' || !g_strv_contains(known, close + 2)))
            return events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                               "%s: kpsim run does not simulate patching this field (supported "
                               "in ports: port, targetPort, nodePort, name, protocol)",
                               (const char *)k->data);
    }
    for (guint i = 0;; i++) {
        g_autofree char *base = g_strdup_printf("patch.spec.ports[%u]", i);
        g_autofree char *f_port = g_strdup_printf("%s.port", base);
        g_autofree char *f_target = g_strdup_printf("%s.targetPort", base);
        g_autofree char *f_node = g_strdup_printf("%s.nodePort", base);
        g_autofree char *f_name = g_strdup_printf("%s.name", base);
        g_autofree char *f_proto = g_strdup_printf("%s.protocol", base);
        gboolean any = FALSE;
        const char *fields[] = {f_port, f_target, f_node, f_name, f_proto};
        for (guint k = 0; k < G_N_ELEMENTS(fields); k++)
            any = any || g_hash_table_contains(it->fields, fields[k]);
        if (!any)
            return TRUE;
        gint64 port = -1, node_port = 0, target = -1;
        const char *target_text = g_hash_table_lookup(it->fields, f_target);
        const char *proto = g_hash_table_lookup(it->fields, f_proto);
        if (!events_uint(it, index, f_port, 65535, &port, error) ||
            !events_uint(it, index, f_node, 65535, &node_port, error))
            return FALSE;
        if (port <= 0)
            return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                               "%s: Required value: the port number (ports merge by it)", f_port);
        if (proto != NULL && strcmp(proto, "TCP") != 0 && strcmp(proto, "UDP") != 0 &&
            strcmp(proto, "SCTP") != 0)
            return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                               "%s: Unsupported value: \"%s\": supported values: \"SCTP\", "
                               "\"TCP\", \"UDP\"",
                               f_proto, proto);
        K8sServicePort *p = g_new0(K8sServicePort, 1);
        if (e->ports == NULL)
            e->ports = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_port_free);
        g_ptr_array_add(e->ports, p);
        p->port = (guint16)port;
        p->node_port = (guint16)node_port;
        p->node_port_explicit = node_port > 0;
        p->protocol = proto == NULL || strcmp(proto, "TCP") == 0 ? SIM_PROTO_TCP
                      : strcmp(proto, "UDP") == 0                ? SIM_PROTO_UDP
                                                                 : SIM_PROTO_SCTP;
        p->name = g_strdup(g_hash_table_lookup(it->fields, f_name));
        p->pos = it->pos;
        if (target_text != NULL &&
            g_ascii_string_to_signed(target_text, 10, 1, 65535, &target, NULL))
            p->target_port = (guint16)target;
        else
            p->target_port_name = g_strdup(target_text);
    }
}

/* patch: {service, namespace, spec: {...}} into e. */
static gboolean
events_patch_service(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e,
                     GError **error)
{
    static const char *const known[] = {"patch.service",
                                        "patch.namespace",
                                        "patch.spec.externalTrafficPolicy",
                                        "patch.spec.internalTrafficPolicy",
                                        "patch.spec.type",
                                        "patch.spec.sessionAffinity",
                                        "patch.spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                                        "patch.spec.publishNotReadyAddresses",
                                        NULL};
    static const char *const prefixes[] = {"patch.spec.selector.", "patch.spec.ports[", NULL};
    const char *unknown = NULL;
    if (events_has_unknown_prefixed(it, known, prefixes, &unknown))
        return events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                           "%s: kpsim run does not simulate patching this field (supported: "
                           "spec.type, spec.selector, spec.ports, spec.sessionAffinity, "
                           "spec.sessionAffinityConfig, spec.publishNotReadyAddresses, "
                           "spec.externalTrafficPolicy, spec.internalTrafficPolicy)",
                           unknown);
    const char *name = g_hash_table_lookup(it->fields, "patch.service");
    e->namespace_ = events_namespace(it, "patch.namespace");
    e->service = g_strdup(name);
    const K8sService *svc = cluster_find_service(c, e->namespace_, name);
    if (svc == NULL)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.service: Not found: service \"%s\" in namespace \"%s\"", name,
                           e->namespace_);
    if (!events_policy(it, index, "patch.spec.externalTrafficPolicy", &e->set_external_policy,
                       &e->external_policy, error) ||
        !events_policy(it, index, "patch.spec.internalTrafficPolicy", &e->set_internal_policy,
                       &e->internal_policy, error) ||
        !events_patch_service_more(it, index, e, error) || !events_patch_ports(it, index, e, error))
        return FALSE;
    if (svc->type == K8S_SVC_EXTERNAL_NAME && e->set_type)
        return events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                           "patch.spec.type: kpsim run does not change an ExternalName "
                           "Service's type");
    if (!e->set_external_policy && !e->set_internal_policy && e->selector == NULL &&
        e->ports == NULL && !e->set_type && !e->set_affinity && !e->set_affinity_timeout &&
        !e->set_publish_not_ready)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec: Required value: a field to change");
    return TRUE;
}

/* Parses the strategy fields of a Deployment patch into e. */
static gboolean
events_patch_strategy(const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    const char *type = g_hash_table_lookup(it->fields, "patch.spec.strategy.type");
    const char *fields[] = {"patch.spec.strategy.rollingUpdate.maxSurge",
                            "patch.spec.strategy.rollingUpdate.maxUnavailable"};
    gboolean *set[] = {&e->set_max_surge, &e->set_max_unavailable};
    gint *value[] = {&e->max_surge, &e->max_unavailable};
    gboolean *percent[] = {&e->max_surge_percent, &e->max_unavailable_percent};
    if (type != NULL && strcmp(type, "RollingUpdate") != 0 && strcmp(type, "Recreate") != 0)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec.strategy.type: Unsupported value: \"%s\": supported "
                           "values: \"Recreate\", \"RollingUpdate\"",
                           type);
    e->set_strategy = type != NULL;
    e->strategy_recreate = type != NULL && strcmp(type, "Recreate") == 0;
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        const char *v = g_hash_table_lookup(it->fields, fields[i]);
        if (v == NULL)
            continue;
        gsize len = strlen(v);
        g_autofree char *digits = g_strndup(v, len > 0 && v[len - 1] == '%' ? len - 1 : len);
        guint64 n;
        *percent[i] = len > 0 && v[len - 1] == '%';
        guint64 max = *percent[i] && i == 1 ? 100 : G_MAXINT32; /* maxUnavailable <= 100% */
        if (!g_ascii_string_to_unsigned(digits, 10, 0, max, &n, NULL))
            return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                               "%s: Invalid value: \"%s\": must be an integer or a percentage%s",
                               fields[i] + strlen("patch."), v,
                               i == 1 ? " not greater than 100%" : "");
        *set[i] = TRUE;
        *value[i] = (gint)n;
    }
    return TRUE;
}

/* The first key of d's selector that the label merge changes or removes, or NULL. */
static const char *
events_selector_broken(const K8sDeployment *d, GHashTable *merge)
{
    if (merge == NULL || d->match_labels == NULL)
        return NULL;
    GHashTableIter i;
    gpointer k, v;
    g_hash_table_iter_init(&i, d->match_labels);
    while (g_hash_table_iter_next(&i, &k, &v)) {
        const char *now = g_hash_table_lookup(merge, k);
        if (now != NULL && strcmp(now, v) != 0)
            return k;
    }
    return NULL;
}

/* patch: {deployment, namespace, spec: {replicas, strategy, template}} into e. */
static gboolean
events_patch_deployment(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e,
                        GError **error)
{
    static const char *const known[] = {"patch.deployment",
                                        "patch.namespace",
                                        "patch.spec.replicas",
                                        "patch.spec.strategy.type",
                                        "patch.spec.strategy.rollingUpdate.maxSurge",
                                        "patch.spec.strategy.rollingUpdate.maxUnavailable",
                                        "patch.spec.template.spec.terminationGracePeriodSeconds",
                                        NULL};
    static const char *const prefixes[] = {"patch.spec.template.metadata.labels.",
                                           "patch.spec.template.metadata.annotations.", NULL};
    const char *unknown = NULL, *name = g_hash_table_lookup(it->fields, "patch.deployment");
    if (events_has_unknown_prefixed(it, known, prefixes, &unknown))
        return events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                           "%s: kpsim run does not simulate patching this field (supported: "
                           "spec.replicas, spec.strategy, spec.template.metadata.labels, "
                           "spec.template.metadata.annotations, "
                           "spec.template.spec.terminationGracePeriodSeconds)",
                           unknown);
    e->kind = EVENT_PATCH_DEPLOYMENT;
    e->namespace_ = events_namespace(it, "patch.namespace");
    e->deployment = g_strdup(name);
    const K8sDeployment *d = cluster_find_deployment(c, e->namespace_, name);
    if (d == NULL)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.deployment: Not found: deployment \"%s\" in namespace \"%s\"",
                           name, e->namespace_);
    gint64 replicas = -1;
    e->template_grace = -1;
    e->template_labels = events_map_fields(it, "patch.spec.template.metadata.labels.");
    e->template_annotations = events_map_fields(it, "patch.spec.template.metadata.annotations.");
    if (!events_uint(it, index, "patch.spec.replicas", 10000, &replicas, error) ||
        !events_seconds(it, index, "patch.spec.template.spec.terminationGracePeriodSeconds",
                        G_MAXINT32, &e->template_grace, error) ||
        !events_patch_strategy(it, index, e, error))
        return FALSE;
    e->set_replicas = replicas >= 0;
    e->replicas = replicas >= 0 ? (gint)replicas : d->replicas;
    const char *bad = events_selector_broken(d, e->template_labels);
    if (bad != NULL)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec.template.metadata.labels: Invalid value: \"%s\": "
                           "`selector` does not match template `labels`",
                           bad);
    if (!e->set_replicas && e->template_grace < 0 && e->template_labels == NULL &&
        e->template_annotations == NULL && !e->set_strategy && !e->set_max_surge &&
        !e->set_max_unavailable)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec: Required value: a field to change");
    return TRUE;
}

/* patch: a Service or a Deployment into e. */
static gboolean
events_patch(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    const char *svc = g_hash_table_lookup(it->fields, "patch.service");
    const char *dep = g_hash_table_lookup(it->fields, "patch.deployment");
    if ((svc == NULL || svc[0] == '\0') == (dep == NULL || dep[0] == '\0'))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch: Required value: exactly one of patch.service and "
                           "patch.deployment");
    return svc != NULL ? events_patch_service(c, it, index, e, error)
                       : events_patch_deployment(c, it, index, e, error);
}

/* A pod reference, KIND: POD or {pod, namespace} plus the extra fields listed, into e. */
static gboolean
events_pod_ref(const Cluster *c, const ScenarioItem *it, guint index, const char *const *known,
               RunEvent *e, GError **error)
{
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    g_autofree char *pod_field = g_strdup_printf("%s.pod", it->kind);
    g_autofree char *ns_field = g_strdup_printf("%s.namespace", it->kind);
    const char *name = g_hash_table_lookup(it->fields, it->kind);
    if (name == NULL)
        name = g_hash_table_lookup(it->fields, pod_field);
    if (name == NULL || name[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: Required value: the pod",
                           it->kind);
    e->pod = g_strdup(name);
    e->namespace_ = events_namespace(it, ns_field);
    if (cluster_find_pod(c, e->namespace_, name) != NULL)
        return TRUE;
    return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                       "%s: Not found: pod \"%s\" in namespace \"%s\"", it->kind, name,
                       e->namespace_);
}

/* podKill: POD or {pod, namespace, force, gracePeriodSeconds} into e. */
static gboolean
events_pod_kill(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const known[] = {"podKill",
                                        "podKill.pod",
                                        "podKill.namespace",
                                        "podKill.force",
                                        "podKill.gracePeriodSeconds",
                                        NULL};
    e->grace = -1;
    if (!events_pod_ref(c, it, index, known, e, error) ||
        !events_bool(it, index, "podKill.force", NULL, &e->force, error) ||
        !events_seconds(it, index, "podKill.gracePeriodSeconds", G_MAXINT32, &e->grace, error))
        return FALSE;
    e->force = e->force || e->grace == 0;
    return TRUE;
}

/* podReady (or ready): {pod, namespace, ready} into e. */
static gboolean
events_pod_ready(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    g_autofree char *f_pod = g_strdup_printf("%s.pod", it->kind);
    g_autofree char *f_ns = g_strdup_printf("%s.namespace", it->kind);
    g_autofree char *f_ready = g_strdup_printf("%s.ready", it->kind);
    const char *known[] = {f_pod, f_ns, f_ready, NULL};
    gboolean set = FALSE;
    if (!events_pod_ref(c, it, index, known, e, error) ||
        !events_bool(it, index, f_ready, &set, &e->ready, error))
        return FALSE;
    if (!set)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "%s: Required value: true (the readiness probe passes) or false",
                           f_ready);
    return TRUE;
}

/* scale: {deployment, namespace, replicas} into e. */
static gboolean
events_scale(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const known[] = {"scale.deployment", "scale.namespace", "scale.replicas",
                                        NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    const char *name = g_hash_table_lookup(it->fields, "scale.deployment");
    const char *n = g_hash_table_lookup(it->fields, "scale.replicas");
    guint64 replicas;
    if (name == NULL || name[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "scale.deployment: Required value");
    if (n == NULL || !g_ascii_string_to_unsigned(n, 10, 0, 10000, &replicas, NULL))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "scale.replicas: Invalid value: \"%s\": must be 0 to 10000",
                           n != NULL ? n : "");
    e->deployment = g_strdup(name);
    e->namespace_ = events_namespace(it, "scale.namespace");
    e->replicas = (gint)replicas;
    e->set_replicas = TRUE;
    if (cluster_find_deployment(c, e->namespace_, name) != NULL)
        return TRUE;
    return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                       "scale.deployment: Not found: deployment \"%s\" in namespace \"%s\"", name,
                       e->namespace_);
}

/* nodeDrain: NODE or {node, gracePeriodSeconds} into e. */
static gboolean
events_node_drain(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e,
                  GError **error)
{
    static const char *const known[] = {"nodeDrain", "nodeDrain.node",
                                        "nodeDrain.gracePeriodSeconds", NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    const char *name = g_hash_table_lookup(it->fields, "nodeDrain");
    if (name == NULL)
        name = g_hash_table_lookup(it->fields, "nodeDrain.node");
    e->grace = -1;
    if (name == NULL || name[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "nodeDrain: Invalid value: expected a node name");
    if (cluster_find_node(c, name) == NULL)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "nodeDrain: Not found: node \"%s\"", name);
    e->node = g_strdup(name);
    return events_seconds(it, index, "nodeDrain.gracePeriodSeconds", G_MAXINT32, &e->grace, error);
}

/* rolloutRestart: NAME or {deployment, namespace} into e. */
static gboolean
events_rollout_restart(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e,
                       GError **error)
{
    static const char *const known[] = {"rolloutRestart", "rolloutRestart.deployment",
                                        "rolloutRestart.namespace", NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    const char *name = g_hash_table_lookup(it->fields, "rolloutRestart");
    if (name == NULL)
        name = g_hash_table_lookup(it->fields, "rolloutRestart.deployment");
    if (name == NULL || name[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "rolloutRestart: Required value: the Deployment");
    e->deployment = g_strdup(name);
    e->namespace_ = events_namespace(it, "rolloutRestart.namespace");
    if (cluster_find_deployment(c, e->namespace_, name) != NULL)
        return TRUE;
    return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                       "rolloutRestart: Not found: deployment \"%s\" in namespace \"%s\"", name,
                       e->namespace_);
}

/* delete: {kind, name, namespace} into e. */
static gboolean
events_delete(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const known[] = {"delete.kind", "delete.name", "delete.namespace",
                                        "delete.gracePeriodSeconds", NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    const char *kind = g_hash_table_lookup(it->fields, "delete.kind");
    const char *name = g_hash_table_lookup(it->fields, "delete.name");
    if (name == NULL || name[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "delete.name: Required value");
    e->name = g_strdup(name);
    e->namespace_ = events_namespace(it, "delete.namespace");
    e->grace = -1;
    gboolean found;
    if (g_strcmp0(kind, "Service") == 0) {
        e->delete_kind = EVENTS_DELETE_SERVICE;
        found = cluster_find_service(c, e->namespace_, name) != NULL;
    } else if (g_strcmp0(kind, "Deployment") == 0) {
        e->delete_kind = EVENTS_DELETE_DEPLOYMENT;
        found = cluster_find_deployment(c, e->namespace_, name) != NULL;
    } else if (g_strcmp0(kind, "Pod") == 0) {
        e->delete_kind = EVENTS_DELETE_POD;
        found = cluster_find_pod(c, e->namespace_, name) != NULL;
    } else
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "delete.kind: Unsupported value: \"%s\": supported values: "
                           "\"Deployment\", \"Pod\", \"Service\"",
                           kind != NULL ? kind : "");
    if (!found)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "delete: Not found: %s \"%s\" in namespace \"%s\"", kind, name,
                           e->namespace_);
    return events_seconds(it, index, "delete.gracePeriodSeconds", G_MAXINT32, &e->grace, error);
}

/* apply: FILE or {file}: the manifest read now (relative to the scenario's directory) into e's
 * Services and Deployments; Pods and EndpointSlices in it are refused. */
static gboolean
events_apply(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const known[] = {"apply", "apply.file", NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    const char *file = g_hash_table_lookup(it->fields, "apply");
    if (file == NULL)
        file = g_hash_table_lookup(it->fields, "apply.file");
    if (file == NULL || file[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "apply: Required value: a manifest file");
    e->file = g_strdup(file);
    const char *base = c->scenario->file;
    g_autofree char *path = NULL;
    if (base == NULL || base[0] == '<')
        path = g_strdup(file);
    else if (!loader_resolve_manifest(base, file, &path))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "apply: %s lies outside the scenario's directory (after symlinks and "
                           "..): a scenario reads only files below its own directory",
                           file);
    g_autoptr(Scenario) scratch = scenario_new(path);
    g_autoptr(GError) local = NULL;
    if (!loader_add_manifest(scratch, path, &local))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "apply: %s", local->message);
    if (scratch->pods->len > 0 || scratch->slices->len > 0)
        return events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                           "apply: %s: kpsim run applies Services and Deployments only", file);
    e->services = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_free);
    e->deployments = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_deployment_free);
    while (scratch->services->len > 0)
        g_ptr_array_add(e->services, g_ptr_array_steal_index(scratch->services, 0));
    while (scratch->deployments->len > 0)
        g_ptr_array_add(e->deployments, g_ptr_array_steal_index(scratch->deployments, 0));
    return TRUE;
}

/* The kinds compiled by events_compile_one(), in the order of the error message. */
typedef gboolean (*EventsParse)(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e,
                                GError **error);

/* One ScenarioItem as a RunEvent, or NULL with error set. (transfer full) */
static RunEvent *
events_compile_one(const Cluster *c, const ScenarioItem *it, guint index, GError **error)
{
    static const struct {
        const char *name;
        EventKind kind;
        EventsParse parse;
    } table[] = {
        {"nodeDown", EVENT_NODE_DOWN, events_node},
        {"nodeUp", EVENT_NODE_UP, events_node},
        {"nodeDrain", EVENT_NODE_DRAIN, events_node_drain},
        {"nodeUncordon", EVENT_NODE_UNCORDON, events_node},
        {"podKill", EVENT_POD_KILL, events_pod_kill},
        {"podCrash", EVENT_POD_CRASH, NULL},
        {"podReady", EVENT_POD_READY, events_pod_ready},
        {"ready", EVENT_POD_READY, events_pod_ready},
        {"scale", EVENT_SCALE, events_scale},
        {"patch", EVENT_PATCH_SERVICE, events_patch},
        {"rolloutRestart", EVENT_ROLLOUT_RESTART, events_rollout_restart},
        {"apply", EVENT_APPLY, events_apply},
        {"delete", EVENT_DELETE, events_delete},
        {"proxyRestart", EVENT_PROXY_RESTART, events_node},
    };
    static const char *const crash_known[] = {"podCrash", "podCrash.pod", "podCrash.namespace",
                                              NULL};
    g_autoptr(RunEvent) e = g_new0(RunEvent, 1);
    e->at = it->at;
    e->pos = it->pos;
    e->grace = -1;
    e->template_grace = -1;
    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        if (strcmp(it->kind, table[i].name) != 0)
            continue;
        e->kind = table[i].kind;
        gboolean ok = table[i].parse != NULL ? table[i].parse(c, it, index, e, error)
                                             : events_pod_ref(c, it, index, crash_known, e, error);
        return ok ? g_steal_pointer(&e) : NULL;
    }
    events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                "%s: kpsim run does not simulate this event", it->kind);
    return NULL;
}

/* Orders events by time (g_ptr_array_sort is stable: equal times keep scenario order). */
static gint
events_compare(gconstpointer a, gconstpointer b)
{
    const RunEvent *x = *(RunEvent *const *)a, *y = *(RunEvent *const *)b;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* See model/events.h. Cost: O(events log events). */
GPtrArray *
events_compile(const Cluster *c, GError **error)
{
    g_return_val_if_fail(c != NULL && c->scenario != NULL, NULL);
    const Scenario *sc = c->scenario;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)events_free);
    for (guint i = 0; i < sc->events->len; i++) {
        RunEvent *e = events_compile_one(c, sc->events->pdata[i], i, error);
        if (e == NULL)
            return NULL;
        g_ptr_array_add(out, e);
    }
    g_ptr_array_sort(out, events_compare);
    return g_steal_pointer(&out);
}
