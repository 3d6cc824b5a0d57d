/* SPDX-License-Identifier: Apache-2.0 */
/* spec.events compiled for the run time: the loader's flattened text checked against the
 * cluster and turned into typed RunEvents, sorted by time (see model/events.h).
 */
#include "model/events.h"

#include <string.h>

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
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "%s: Not found: node \"%s\"", it->kind, name);
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

/* patch: {service, namespace, spec: {externalTrafficPolicy, internalTrafficPolicy}} into e. */
static gboolean
events_patch(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const known[] = {"patch.service", "patch.namespace",
                                        "patch.spec.externalTrafficPolicy",
                                        "patch.spec.internalTrafficPolicy", NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                           "%s: kpsim run does not simulate patching this field (supported: "
                           "patch.service, patch.namespace, patch.spec.externalTrafficPolicy, "
                           "patch.spec.internalTrafficPolicy)",
                           unknown);
    const char *name = g_hash_table_lookup(it->fields, "patch.service");
    const char *ns = g_hash_table_lookup(it->fields, "patch.namespace");
    if (name == NULL || name[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.service: Required value: the Service to patch");
    e->namespace_ = g_strdup(ns != NULL && ns[0] != '\0' ? ns : "default");
    e->service = g_strdup(name);
    if (cluster_find_service(c, e->namespace_, name) == NULL)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.service: Not found: service \"%s\" in namespace \"%s\"", name,
                           e->namespace_);
    if (!events_policy(it, index, "patch.spec.externalTrafficPolicy", &e->set_external_policy,
                       &e->external_policy, error) ||
        !events_policy(it, index, "patch.spec.internalTrafficPolicy", &e->set_internal_policy,
                       &e->internal_policy, error))
        return FALSE;
    if (!e->set_external_policy && !e->set_internal_policy)
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "patch.spec: Required value: a field to change");
    return TRUE;
}

/* podKill: POD or {pod, namespace} into e. */
static gboolean
events_pod_kill(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e,
                GError **error)
{
    static const char *const known[] = {"podKill", "podKill.pod", "podKill.namespace", NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    const char *name = g_hash_table_lookup(it->fields, "podKill");
    if (name == NULL)
        name = g_hash_table_lookup(it->fields, "podKill.pod");
    const char *ns = g_hash_table_lookup(it->fields, "podKill.namespace");
    if (name == NULL || name[0] == '\0')
        return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                           "podKill: Required value: the pod to kill");
    e->pod = g_strdup(name);
    e->namespace_ = g_strdup(ns != NULL && ns[0] != '\0' ? ns : "default");
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = c->pods->pdata[i];
        if (strcmp(p->meta.name, name) == 0 && g_strcmp0(p->meta.namespace_, e->namespace_) == 0)
            return TRUE;
    }
    return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                       "podKill: Not found: pod \"%s\" in namespace \"%s\"", name,
                       e->namespace_);
}

/* scale: {deployment, namespace, replicas} into e. Scaling up needs a pod of the Deployment at
 * the start to copy (kpsim does not rebuild pods from the template at run time). */
static gboolean
events_scale(const Cluster *c, const ScenarioItem *it, guint index, RunEvent *e, GError **error)
{
    static const char *const known[] = {"scale.deployment", "scale.namespace", "scale.replicas",
                                        NULL};
    const char *unknown = NULL;
    if (events_has_unknown_field(it, known, &unknown))
        return events_fail(error, EVENTS_ERROR_INVALID, it, index, "%s: unknown field", unknown);
    const char *name = g_hash_table_lookup(it->fields, "scale.deployment");
    const char *ns = g_hash_table_lookup(it->fields, "scale.namespace");
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
    e->namespace_ = g_strdup(ns != NULL && ns[0] != '\0' ? ns : "default");
    e->replicas = (gint)replicas;
    for (guint i = 0; i < c->deployments->len; i++) {
        const K8sDeployment *d = c->deployments->pdata[i];
        if (strcmp(d->meta.name, name) != 0 || g_strcmp0(d->meta.namespace_, e->namespace_) != 0)
            continue;
        for (guint j = 0; j < c->pods->len; j++) {
            const K8sPod *p = c->pods->pdata[j];
            if (g_strcmp0(p->owner, name) == 0 && g_strcmp0(p->meta.namespace_, e->namespace_) == 0)
                return TRUE;
        }
        return events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                           "scale: kpsim run scales only Deployments that have a pod at the "
                           "start (\"%s\" has none)",
                           name);
    }
    return events_fail(error, EVENTS_ERROR_INVALID, it, index,
                       "scale.deployment: Not found: deployment \"%s\" in namespace \"%s\"",
                       name, e->namespace_);
}

/* One ScenarioItem as a RunEvent, or NULL with error set. (transfer full) */
static RunEvent *
events_compile_one(const Cluster *c, const ScenarioItem *it, guint index, GError **error)
{
    g_autoptr(RunEvent) e = g_new0(RunEvent, 1);
    e->at = it->at;
    e->pos = it->pos;
    gboolean ok;
    if (strcmp(it->kind, "nodeDown") == 0 || strcmp(it->kind, "nodeUp") == 0 ||
        strcmp(it->kind, "proxyRestart") == 0) {
        e->kind = strcmp(it->kind, "nodeDown") == 0 ? EVENT_NODE_DOWN
                  : strcmp(it->kind, "nodeUp") == 0 ? EVENT_NODE_UP
                                                    : EVENT_PROXY_RESTART;
        ok = events_node(c, it, index, e, error);
    } else if (strcmp(it->kind, "scale") == 0) {
        e->kind = EVENT_SCALE;
        ok = events_scale(c, it, index, e, error);
    } else if (strcmp(it->kind, "podKill") == 0) {
        e->kind = EVENT_POD_KILL;
        ok = events_pod_kill(c, it, index, e, error);
    } else if (strcmp(it->kind, "patch") == 0) {
        e->kind = EVENT_PATCH_SERVICE;
        ok = events_patch(c, it, index, e, error);
    } else {
        ok = events_fail(error, EVENTS_ERROR_UNSUPPORTED, it, index,
                         "%s: kpsim run does not simulate this event yet (supported: nodeDown, "
                         "nodeUp, podKill, scale, patch, proxyRestart)",
                         it->kind);
    }
    return ok ? g_steal_pointer(&e) : NULL;
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
