/* SPDX-License-Identifier: Apache-2.0 */
/* The Deployment controller's part of cluster_build(): Deployment validation and the pods of
 * each Deployment's replicas.
 *
 * Stands in for the Deployment and ReplicaSet controllers: each Deployment is validated as
 * ValidateDeploymentSpec does, then gets spec.replicas pods named
 * "<deployment>-<pod-template-hash>-<5 random chars>", copied from its pod template. Left out:
 * ReplicaSet objects, rollouts and their history.
 */
#include "model/cluster_private.h"

#include <string.h>

/* Characters the apiserver and the ReplicaSet controller use in generated names
 * (k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable digits). */
#define CLUSTER_NAME_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
/* generateName keeps at most this many characters of the base (maxGeneratedNameLength). */
#define CLUSTER_MAX_GENERATE_BASE 58

/* ---------------------------------------------------------------- Deployments */

/* Orders C strings held in a GPtrArray. */
static gint
cluster_strptr_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's %#v of a label map: map[string]string{"app":"nginx", "tier":"web"}, keys sorted.
 * (transfer full) */
static char *
cluster_labels_gostring(GHashTable *labels)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    if (labels != NULL) {
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, labels);
        while (g_hash_table_iter_next(&it, &k, NULL))
            g_ptr_array_add(keys, k);
    }
    g_ptr_array_sort(keys, cluster_strptr_compare);
    GString *s = g_string_new("map[string]string{");
    for (guint i = 0; i < keys->len; i++)
        g_string_append_printf(s, "%s\"%s\":\"%s\"", i > 0 ? ", " : "",
                               (const char *)keys->pdata[i],
                               (const char *)g_hash_table_lookup(labels, keys->pdata[i]));
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

/* ValidateDeploymentSpec's checks that matter here: replicas >= 0, a non-empty selector that
 * matches the template's labels. */
static gboolean
cluster_validate_deployment(const Scenario *sc, const K8sDeployment *d, GError **error)
{
    const char *name = d->meta.name;
    if (d->replicas < 0)
        return cluster_fail(error, sc, d->replicas_pos.line != 0 ? &d->replicas_pos : &d->meta.pos,
                            "The Deployment \"%s\" is invalid: spec.replicas: Invalid value: %d: "
                            "must be greater than or equal to 0",
                            name, d->replicas);
    const K8sPos *sel_pos = d->selector_pos.line != 0 ? &d->selector_pos : &d->meta.pos;
    guint n = d->match_labels != NULL ? g_hash_table_size(d->match_labels) : 0;
    if (n == 0 && !d->selector_has_expressions)
        return cluster_fail(error, sc, sel_pos,
                            "The Deployment \"%s\" is invalid: spec.selector: Invalid value: "
                            "\"{}\": empty selector is invalid for deployment",
                            name);
    /* matchExpressions are kept unevaluated: only matchLabels can be checked. */
    if (n > 0 && !k8s_selector_matches(d->match_labels, d->template_.labels)) {
        g_autofree char *labels = cluster_labels_gostring(d->template_.labels);
        const K8sPos *pos = d->template_labels_pos.line != 0 ? &d->template_labels_pos : sel_pos;
        return cluster_fail(error, sc, pos,
                            "The Deployment \"%s\" is invalid: spec.template.metadata.labels: "
                            "Invalid value: %s: `selector` does not match template `labels`",
                            name, labels);
    }
    return TRUE;
}

/* The pod-template-hash: 10 characters of the name alphabet from a 64-bit FNV-1a hash of the
 * Deployment's name and its template's labels. Real Kubernetes hashes the whole template; this
 * keeps the property that matters (stable for a template, different across templates).
 * (transfer full) */
char *
cluster_pod_template_hash(const K8sDeployment *d)
{
    g_autofree char *labels = k8s_labels_to_string(d->template_.labels);
    guint64 h = 0xcbf29ce484222325ull;
    const char *parts[] = {d->meta.namespace_, d->meta.name, labels};
    for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p != '\0'; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull; /* separator */
    }
    char *out = g_malloc(11);
    const guint n = sizeof CLUSTER_NAME_ALPHABET - 1;
    for (guint i = 0; i < 10; i++) {
        out[i] = CLUSTER_NAME_ALPHABET[h % n];
        h /= n;
    }
    out[10] = '\0';
    return out;
}

/* generateName: base cut to CLUSTER_MAX_GENERATE_BASE characters plus 5 random characters of
 * the name alphabet drawn from rng. (transfer full) */
static char *
cluster_generate_name(const char *base, SimRng *rng)
{
    GString *s = g_string_new_len(base, MIN(strlen(base), CLUSTER_MAX_GENERATE_BASE));
    for (guint i = 0; i < 5; i++)
        g_string_append_c(
            s, CLUSTER_NAME_ALPHABET[sim_rng_below(rng, sizeof CLUSTER_NAME_ALPHABET - 1)]);
    return g_string_free(s, FALSE);
}

/* A new pod of deployment d called name: the template's labels plus pod-template-hash, its
 * containers, grace period and nodeName. (transfer full) */
K8sPod *
cluster_deployment_pod(const K8sDeployment *d, const char *name, const char *hash)
{
    K8sPod *pod = k8s_pod_new();
    pod->meta.name = g_strdup(name);
    g_free(pod->meta.namespace_);
    pod->meta.namespace_ = g_strdup(d->meta.namespace_);
    pod->meta.pos = d->meta.pos;
    pod->meta.labels = k8s_string_table_new();
    if (d->template_.labels != NULL) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, d->template_.labels);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(pod->meta.labels, g_strdup(k), g_strdup(v));
    }
    g_hash_table_insert(pod->meta.labels, g_strdup("pod-template-hash"), g_strdup(hash));
    for (guint i = 0; i < d->template_.containers->len; i++)
        g_ptr_array_add(pod->spec.containers,
                        k8s_container_copy(d->template_.containers->pdata[i]));
    pod->spec.termination_grace = d->template_.termination_grace;
    pod->spec.node_name = g_strdup(d->template_.node_name);
    pod->ready = TRUE; /* until placement, IPAM or node state say otherwise */
    pod->owner = g_strdup(d->meta.name);
    return pod;
}

/* TRUE when namespace ns already has a pod called name. */
static gboolean
cluster_pod_name_taken(const ClusterBuild *b, const char *ns, const char *name)
{
    g_autofree char *key = g_strconcat(ns, "/", name, NULL);
    return g_hash_table_contains(b->pod_names, key);
}

/* Registers pod's "ns/name"; FALSE when a pod of that name exists. */
gboolean
cluster_add_pod_name(ClusterBuild *b, K8sPod *pod)
{
    char *key = g_strconcat(pod->meta.namespace_, "/", pod->meta.name, NULL);
    if (g_hash_table_contains(b->pod_names, key)) {
        g_free(key);
        return FALSE;
    }
    g_hash_table_insert(b->pod_names, key, pod);
    return TRUE;
}

/* The spread group of Deployment d's replicas, "owner:<namespace>/<deployment>": the group of
 * the scenario's pods owned by that name when there are some, else a new one (no other
 * Deployment has the same name, so nothing else looks it up). key is scratch. */
static guint
cluster_deployment_group(ClusterBuild *b, const K8sDeployment *d, GString *key)
{
    guint pods = (guint)MAX(d->replicas, 0);
    if (g_hash_table_size(b->groups) > 0) {
        g_string_assign(key, "owner:");
        g_string_append(key, d->meta.namespace_);
        g_string_append_c(key, '/');
        g_string_append(key, d->meta.name);
        guint g = cluster_group_find(b, key->str);
        if (g != G_MAXUINT)
            return g;
    }
    return cluster_group_new(b, pods);
}

/* Validates every Deployment and appends a slot per replica, in the spread group
 * "owner:<namespace>/<deployment>". */
gboolean
cluster_build_deployments(ClusterBuild *b, GError **error)
{
    g_autoptr(GHashTable) names = g_hash_table_new(cluster_meta_hash, cluster_meta_equal);
    g_autoptr(GString) key = g_string_sized_new(64);
    guint n = b->c->deployments->len;
    b->deployment_slot = g_new0(guint, MAX(n, 1));
    guint64 replicas = b->slots->len;
    for (guint i = 0; i < n; i++)
        replicas += (guint64)MAX(((const K8sDeployment *)b->c->deployments->pdata[i])->replicas, 0);
    if (replicas < G_MAXUINT / 2) { /* room for every slot at once, not by doubling */
        guint have = b->slots->len;
        g_array_set_size(b->slots, (guint)replicas);
        g_array_set_size(b->slots, have);
    }
    for (guint i = 0; i < n; i++) {
        K8sDeployment *d = b->c->deployments->pdata[i];
        if (!g_hash_table_add(names, &d->meta))
            return cluster_fail(error, b->sc, &d->meta.pos,
                                "deployments.apps \"%s\" already exists", d->meta.name);
        if (!cluster_validate_deployment(b->sc, d, error))
            return FALSE;
        ClusterSlot slot = {.deployment = i,
                            .group = cluster_deployment_group(b, d, key),
                            .node = CLUSTER_NO_NODE,
                            .ready = TRUE};
        guint first = b->deployment_slot[i] = b->slots->len;
        g_array_set_size(b->slots, first + (guint)MAX(d->replicas, 0));
        for (gint r = 0; r < d->replicas; r++)
            g_array_index(b->slots, ClusterSlot, first + (guint)r) = slot;
    }
    return TRUE;
}

/* The generateName base of d's pods as the name keeps it: "<deployment>-<hash>-" cut to
 * CLUSTER_MAX_GENERATE_BASE characters. (transfer full) */
static char *
cluster_deployment_base(const K8sDeployment *d)
{
    g_autofree char *hash = cluster_pod_template_hash(d);
    char *base = g_strconcat(d->meta.name, "-", hash, "-", NULL);
    if (strlen(base) > CLUSTER_MAX_GENERATE_BASE)
        base[CLUSTER_MAX_GENERATE_BASE] = '\0';
    return base;
}

/* TRUE when d's generateName base is cut (or exactly fills the limit), the only case where
 * its pods' names can be those of another Deployment's pods: shorter bases hold the whole
 * Deployment name, unique in its namespace. */
static gboolean
cluster_deployment_base_full(const K8sDeployment *d)
{
    return strlen(d->meta.name) + 12 >= CLUSTER_MAX_GENERATE_BASE;
}

/* want widened by every earlier Deployment of a wanted one's namespace with the same full
 * generateName base: their names decide which draws the wanted one's collisions redraw.
 * (transfer full) */
static gboolean *
cluster_named_set(ClusterBuild *b, const gboolean *want)
{
    GPtrArray *deps = b->c->deployments;
    gboolean *named = g_new0(gboolean, MAX(deps->len, 1));
    g_autoptr(GHashTable) last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) keys = g_ptr_array_new_full(deps->len, g_free);
    for (guint i = 0; i < deps->len; i++) {
        const K8sDeployment *d = deps->pdata[i];
        named[i] = want == NULL || want[i];
        char *key = NULL;
        if (want != NULL && cluster_deployment_base_full(d)) {
            g_autofree char *base = cluster_deployment_base(d);
            key = g_strconcat(d->meta.namespace_, "/", base, NULL);
            if (want[i])
                g_hash_table_insert(last, g_strdup(key), GUINT_TO_POINTER(i + 1));
        }
        g_ptr_array_add(keys, key);
    }
    for (guint i = 0; want != NULL && i < deps->len; i++) {
        guint upto = keys->pdata[i] != NULL
                         ? GPOINTER_TO_UINT(g_hash_table_lookup(last, keys->pdata[i]))
                         : 0;
        if (i + 1 < upto)
            named[i] = TRUE;
    }
    return named;
}

/* The names of d's replicas, drawn from the stream "deployment/<name>" and redrawn while the
 * namespace holds the name; each is registered in b->pod_names. (transfer full) */
static char **
cluster_name_replicas(ClusterBuild *b, const K8sDeployment *d)
{
    g_autofree char *hash = cluster_pod_template_hash(d);
    g_autofree char *base = g_strconcat(d->meta.name, "-", hash, "-", NULL);
    g_autofree char *stream = g_strconcat("deployment/", d->meta.name, NULL);
    SimRng rng;
    sim_rng_init(&rng, b->sc->seed, stream);
    char **names = g_new0(char *, (gsize)MAX(d->replicas, 0) + 1);
    for (gint r = 0; r < d->replicas; r++) {
        char *name = NULL;
        do {
            g_free(name);
            name = cluster_generate_name(base, &rng);
        } while (cluster_pod_name_taken(b, d->meta.namespace_, name));
        names[r] = name;
        g_hash_table_insert(b->pod_names, g_strconcat(d->meta.namespace_, "/", name, NULL), NULL);
    }
    return names;
}

/* Names the replicas of the Deployments want selects; see cluster_private.h. (transfer full) */
GPtrArray *
cluster_name_deployments(ClusterBuild *b, const gboolean *want)
{
    GPtrArray *deps = b->c->deployments;
    g_autofree gboolean *named = cluster_named_set(b, want);
    GPtrArray *out = g_ptr_array_new_full(deps->len, (GDestroyNotify)g_strfreev);
    for (guint i = 0; i < deps->len; i++)
        g_ptr_array_add(out, named[i] ? cluster_name_replicas(b, deps->pdata[i]) : NULL);
    return out;
}
