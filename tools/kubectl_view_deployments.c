/* SPDX-License-Identifier: Apache-2.0 */
/* `kubectl get deployments`: the table (NAME, READY, UP-TO-DATE, AVAILABLE, AGE; -o wide adds
 * CONTAINERS, IMAGES, SELECTOR) and the apps/v1 Deployment objects of -o json.
 *
 * The status is counted from the pods the Deployment owns, as the Deployment controller sums its
 * ReplicaSets: replicas are the owned pods not being deleted, ready ones are Ready, available
 * ones are Ready (minReadySeconds is 0 in kpsim), and up-to-date ones carry the newest
 * ReplicaSet's pod-template-hash (the hash of the most recently created pod).
 */
#include "tools/kubectl_view_private.h"

#include <string.h>

/* A Deployment's status as the controller reports it. */
typedef struct {
    gint64 replicas, updated, ready, available;
    const char *newest_hash; /* (transfer none) pod-template-hash of the newest pod */
    SimTime newest_at;
} ViewDeploymentStatus;

/* "NAMESPACE/NAME" of a Deployment or of a pod's owner. (transfer full) */
static char *
view_owner_key(const char *ns, const char *name)
{
    return g_strconcat(ns != NULL ? ns : "", "/", name, NULL);
}

/* The status entry of the Deployment that owns p, or NULL when p has none or is being deleted
 * (a ReplicaSet no longer counts such pods). */
static ViewDeploymentStatus *
view_owner_status(GHashTable *status, const K8sPod *p)
{
    if (p->owner == NULL || p->terminating)
        return NULL;
    g_autofree char *key = view_owner_key(p->meta.namespace_, p->owner);
    return g_hash_table_lookup(status, key);
}

/* The newest pod-template-hash of every Deployment, keyed by view_owner_key(). */
static void
view_deployment_newest(const Cluster *c, const Timeline *tl, GHashTable *status)
{
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = g_ptr_array_index(c->pods, i);
        ViewDeploymentStatus *st = view_owner_status(status, p);
        if (st == NULL)
            continue;
        SimTime at = tl != NULL ? timeline_created_at(tl, p) : 0;
        if (st->newest_hash == NULL || at > st->newest_at) {
            st->newest_hash = g_hash_table_lookup(p->meta.labels, "pod-template-hash");
            st->newest_at = at;
        }
    }
}

/* The status of every Deployment of c, keyed by view_owner_key(), counted in one pass over the
 * pods. (transfer full) */
static GHashTable *
view_deployment_status(const Cluster *c, const Timeline *tl)
{
    GHashTable *status = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < c->deployments->len; i++) {
        const K8sDeployment *d = g_ptr_array_index(c->deployments, i);
        g_hash_table_insert(status, view_owner_key(d->meta.namespace_, d->meta.name),
                            g_new0(ViewDeploymentStatus, 1));
    }
    view_deployment_newest(c, tl, status);
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *p = g_ptr_array_index(c->pods, i);
        ViewDeploymentStatus *st = view_owner_status(status, p);
        if (st == NULL)
            continue;
        st->replicas++;
        st->ready += p->ready ? 1 : 0;
        st->available += p->ready ? 1 : 0;
        const char *hash = g_hash_table_lookup(p->meta.labels, "pod-template-hash");
        st->updated += g_strcmp0(hash, st->newest_hash) == 0 ? 1 : 0;
    }
    return status;
}

/* Joins the containers' names (images when images) with ",", as kubectl's wide columns do.
 * (transfer full) */
static char *
view_containers(const K8sDeployment *d, gboolean images)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < d->template_.containers->len; i++) {
        const K8sContainer *k = g_ptr_array_index(d->template_.containers, i);
        const char *text = images ? k->image : k->name;
        g_string_append_printf(out, "%s%s", i ? "," : "", text != NULL ? text : "");
    }
    return g_string_free(out, FALSE);
}

/* Orders Deployments by namespace, then name (the apiserver's list order). */
static gint
view_compare_deployments(gconstpointer a, gconstpointer b)
{
    const K8sDeployment *x = *(const K8sDeployment *const *)a;
    const K8sDeployment *y = *(const K8sDeployment *const *)b;
    int ns = g_strcmp0(x->meta.namespace_, y->meta.namespace_);
    return ns != 0 ? ns : g_strcmp0(x->meta.name, y->meta.name);
}

/* Appends one table row for d (without the newline). */
static void
view_deployment_row(const Cluster *c, const K8sDeployment *d, const ViewDeploymentStatus *st,
                    ViewFormat fmt, GString *t)
{
    g_autofree char *age = view_age(c->now);
    g_string_append_printf(t,
                           "%s\t%" G_GINT64_FORMAT "/%d\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
                           "\t%s",
                           d->meta.name, st->ready, d->replicas, st->updated, st->available, age);
    if (fmt == VIEW_FORMAT_WIDE) {
        g_autofree char *names = view_containers(d, FALSE);
        g_autofree char *images = view_containers(d, TRUE);
        g_autofree char *selector = k8s_labels_to_string(d->match_labels);
        g_string_append_printf(t, "\t%s\t%s\t%s", names, images, selector);
    }
}

/* See tools/kubectl_view_private.h. */
guint
view_deployments_table(const Cluster *c, const Timeline *tl, ViewFormat fmt, const ViewSelect *sel,
                       GString *t)
{
    guint rows = 0;
    view_row_start(t, sel, NULL);
    g_string_append(t, "NAME\tREADY\tUP-TO-DATE\tAVAILABLE\tAGE");
    g_string_append(t, fmt == VIEW_FORMAT_WIDE ? "\tCONTAINERS\tIMAGES\tSELECTOR\n" : "\n");
    g_autoptr(GHashTable) status = view_deployment_status(c, tl);
    g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(c->deployments->len);
    for (guint i = 0; i < c->deployments->len; i++)
        g_ptr_array_add(sorted, g_ptr_array_index(c->deployments, i));
    g_ptr_array_sort(sorted, view_compare_deployments);
    for (guint i = 0; i < sorted->len; i++) {
        const K8sDeployment *d = g_ptr_array_index(sorted, i);
        if (!view_selected(sel, d->meta.namespace_, d->meta.name))
            continue;
        g_autofree char *key = view_owner_key(d->meta.namespace_, d->meta.name);
        view_row_start(t, sel, &d->meta);
        view_deployment_row(c, d, g_hash_table_lookup(status, key), fmt, t);
        g_string_append_c(t, '\n');
        rows++;
    }
    return rows;
}

/* Adds a container of the pod template: name, image and ports. */
static void
view_json_container(JsonBuilder *b, const K8sContainer *k)
{
    json_builder_begin_object(b);
    view_json_add_string(b, "name", k->name);
    if (k->image != NULL)
        view_json_add_string(b, "image", k->image);
    if (k->ports->len > 0) {
        json_builder_set_member_name(b, "ports");
        json_builder_begin_array(b);
        for (guint i = 0; i < k->ports->len; i++) {
            const K8sContainerPort *p = &g_array_index(k->ports, K8sContainerPort, i);
            json_builder_begin_object(b);
            if (p->name != NULL)
                view_json_add_string(b, "name", p->name);
            view_json_add_int(b, "containerPort", p->container_port);
            view_json_add_string(b, "protocol", sim_proto_k8s_name(p->protocol));
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
}

/* Adds d's spec: replicas, selector, strategy and the pod template. */
static void
view_json_deployment_spec(JsonBuilder *b, const K8sDeployment *d)
{
    json_builder_set_member_name(b, "spec");
    json_builder_begin_object(b);
    view_json_add_int(b, "replicas", d->replicas);
    json_builder_set_member_name(b, "selector");
    json_builder_begin_object(b);
    view_json_add_map(b, "matchLabels", d->match_labels);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "strategy");
    json_builder_begin_object(b);
    view_json_add_string(b, "type", d->strategy_recreate ? "Recreate" : "RollingUpdate");
    json_builder_end_object(b);
    json_builder_set_member_name(b, "template");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "metadata");
    json_builder_begin_object(b);
    view_json_add_map(b, "labels", d->template_.labels);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "spec");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "containers");
    json_builder_begin_array(b);
    for (guint i = 0; i < d->template_.containers->len; i++)
        view_json_container(b, g_ptr_array_index(d->template_.containers, i));
    json_builder_end_array(b);
    view_json_add_int(b, "terminationGracePeriodSeconds", d->template_.termination_grace / SIM_SEC);
    json_builder_end_object(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

/* Adds the status, leaving out zero counts as the API server's omitempty does. */
static void
view_json_deployment_status(JsonBuilder *b, const ViewDeploymentStatus *st)
{
    json_builder_set_member_name(b, "status");
    json_builder_begin_object(b);
    const struct {
        const char *key;
        gint64 value;
    } fields[] = {{"replicas", st->replicas},
                  {"updatedReplicas", st->updated},
                  {"readyReplicas", st->ready},
                  {"availableReplicas", st->available}};
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
        if (fields[i].value != 0)
            view_json_add_int(b, fields[i].key, fields[i].value);
    json_builder_end_object(b);
}

/* See tools/kubectl_view_private.h. */
guint
view_deployments_json(const Cluster *c, const Timeline *tl, const ViewSelect *sel, JsonBuilder *b)
{
    guint n = 0;
    g_autoptr(GHashTable) status = view_deployment_status(c, tl);
    for (guint i = 0; i < c->deployments->len; i++) {
        const K8sDeployment *d = g_ptr_array_index(c->deployments, i);
        if (!view_selected(sel, d->meta.namespace_, d->meta.name))
            continue;
        g_autofree char *key = view_owner_key(d->meta.namespace_, d->meta.name);
        view_json_begin_object(b, "apps/v1", "Deployment", &d->meta, NULL);
        view_json_deployment_spec(b, d);
        view_json_deployment_status(b, g_hash_table_lookup(status, key));
        json_builder_end_object(b);
        n++;
    }
    return n;
}
