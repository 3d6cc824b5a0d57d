/* SPDX-License-Identifier: Apache-2.0 */
/* Loading scenario files and manifests: the stream, the kind: Scenario document, spec.manifests,
 * spec.patches, the checks that need every object, and the typed field readers the decoders
 * share.
 *
 * Stands in for `kubectl apply -f`'s client side (decoding, strict field checking) plus the
 * apiserver's validation of the fields kpsim uses, with errors worded as those tools word them
 * and positioned at the offending key or value. A load is all or nothing: on error the target is
 * left exactly as it was. Left out: server-side defaulting kpsim does not use, admission
 * plugins, and every kind that does not shape the datapath (those are ignored with a warning).
 *
 * spec.patches are applied here, right after the stream and its manifests are read, with
 * strategic-merge semantics (Service ports keyed by port number, containers by name); the
 * Scenario record does not keep them.
 *
 * This file holds the stream and its documents, spec.manifests, spec.patches, the end of a load
 * and the public entry points. The error wording and typed field readers are in
 * loader_values.c, the kind: Scenario document in loader_scenario.c (spec.clients and
 * spec.traffic in loader_workload.c), the Kubernetes kinds in loader_objects.c and its siblings.
 */
#include "model/loader_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK(kpsim - loader - error - quark, loader_error)

/* ---------------------------------------------------------------- files */

/* Reads a whole file. On failure returns FALSE with *err_no set to the errno that explains it.
 * Reading stops one byte past the YAML size limit so the parser can report it. */
static gboolean
ld_read_file(const char *path, char **text, gsize *len, int *err_no)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *err_no = errno;
        return FALSE;
    }
    GString *buf = g_string_new(NULL);
    char chunk[65536];
    size_t n;
    while (buf->len <= YT_MAX_INPUT_BYTES && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        g_string_append_len(buf, chunk, (gssize)n);
    gboolean failed = ferror(f) != 0;
    *err_no = errno;
    fclose(f);
    if (failed) {
        g_string_free(buf, TRUE);
        return FALSE;
    }
    *len = buf->len;
    *text = g_string_free(buf, FALSE);
    return TRUE;
}

/* A manifest path as written in spec.manifests, resolved against the scenario file's
 * directory (kept relative when the scenario path is). (transfer full) */
static char *
ld_resolve_manifest(const char *scenario_file, const char *entry)
{
    if (g_path_is_absolute(entry))
        return g_strdup(entry);
    g_autofree char *dir = g_path_get_dirname(scenario_file);
    if (strcmp(dir, ".") == 0)
        return g_strdup(entry);
    return g_build_filename(dir, entry, NULL);
}

/* See loader.h. */
gboolean
loader_resolve_manifest(const char *scenario_file, const char *entry, char **path)
{
    g_return_val_if_fail(scenario_file != NULL && entry != NULL && path != NULL, FALSE);
    *path = ld_resolve_manifest(scenario_file, entry);
    g_autofree char *dir = g_path_get_dirname(scenario_file);
    char *real_scenario = realpath(scenario_file, NULL);
    char *real_dir = real_scenario != NULL ? realpath(dir, NULL) : NULL;
    char *real_file = real_dir != NULL ? realpath(*path, NULL) : NULL;
    gsize n = real_dir != NULL ? strlen(real_dir) : 0;
    free(real_scenario);
    gboolean inside = real_file == NULL || real_dir == NULL ||
                      (strncmp(real_file, real_dir, n) == 0 &&
                       (real_file[n] == '/' || (n == 1 && real_dir[0] == '/')));
    free(real_dir);
    free(real_file);
    return inside;
}

/* ---------------------------------------------------------------- documents */

static gboolean ld_document(Loader *ld, const YtNode *root, gboolean in_list, GError **error);

/* A kind kpsim knows: decoded (decode set) or ignored with a warning (note set). */
typedef struct {
    const char *kind;
    const char *api_version; /* NULL: any (ignored kinds) */
    gboolean (*decode)(Loader *ld, const YtNode *root, GError **error);
    const char *note;
} LdKind;

/* A GCopyFunc for string arrays. */
static gpointer
ld_strdup_copy(gconstpointer src, gpointer data)
{
    return g_strdup(src);
}

/* Decodes a KubeProxyConfiguration document, saving the previous configuration first so a
 * failed manifest load can restore it. */
static gboolean
ld_proxy_doc(Loader *ld, const YtNode *root, GError **error)
{
    if (!ld->scenario_file && !ld->proxy_saved) {
        KubeProxyConfig *c = &ld->proxy_backup;
        *c = ld->sc->proxy;
        c->cluster_cidrs = g_array_copy(ld->sc->proxy.cluster_cidrs);
        c->bridge_interface = g_strdup(ld->sc->proxy.bridge_interface);
        c->interface_name_prefix = g_strdup(ld->sc->proxy.interface_name_prefix);
        c->node_port_addresses =
            g_ptr_array_copy(ld->sc->proxy.node_port_addresses, ld_strdup_copy, NULL);
        g_ptr_array_set_free_func(c->node_port_addresses, g_free);
        c->ipvs_scheduler = g_strdup(ld->sc->proxy.ipvs_scheduler);
        ld->proxy_from_cluster_backup = ld->sc->proxy_cluster_cidr_from_cluster;
        ld->proxy_saved = TRUE;
    }
    return ld_proxy_config(ld, root, "", TRUE, error);
}

/* Decodes the items of a kind: List as documents of their own. */
static gboolean
ld_list_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "items", NULL};
    if (!ld_check_fields(root, fields, "List", "", error))
        return FALSE;
    const YtNode *items = yt_map_get(root, "items");
    if (!ld_expect_seq(items, "items", error))
        return FALSE;
    for (guint i = 0; items != NULL && items->type == YT_SEQUENCE && i < items->items->len; i++)
        if (!ld_document(ld, items->items->pdata[i], TRUE, error))
            return FALSE;
    return TRUE;
}

static const LdKind ld_kinds[] = {
    {"Service", "v1", ld_service_doc, NULL},
    {"Deployment", "apps/v1", ld_deployment_doc, NULL},
    {"Pod", "v1", ld_pod_doc, NULL},
    {"EndpointSlice", "discovery.k8s.io/v1", ld_endpoint_slice_doc, NULL},
    {"Node", "v1", ld_node_doc, NULL},
    {"KubeProxyConfiguration", "kubeproxy.config.k8s.io/v1alpha1", ld_proxy_doc, NULL},
    {"Scenario", "kpsim.io/v1alpha1", ld_scenario_doc, NULL},
    {"List", "v1", ld_list_doc, NULL},
    {"Namespace", NULL, NULL, "namespaces need no setup in kpsim"},
    {"ConfigMap", NULL, NULL, "it does not affect the datapath"},
    {"Secret", NULL, NULL, "it does not affect the datapath"},
    {"ServiceAccount", NULL, NULL, "it does not affect the datapath"},
    {"Endpoints", NULL, NULL, "kube-proxy reads EndpointSlices, not Endpoints"},
    {"PersistentVolumeClaim", NULL, NULL, "it does not affect the datapath"},
    {"PersistentVolume", NULL, NULL, "it does not affect the datapath"},
    {"StorageClass", NULL, NULL, "it does not affect the datapath"},
    {"Role", NULL, NULL, "it does not affect the datapath"},
    {"RoleBinding", NULL, NULL, "it does not affect the datapath"},
    {"ClusterRole", NULL, NULL, "it does not affect the datapath"},
    {"ClusterRoleBinding", NULL, NULL, "it does not affect the datapath"},
    {"PodDisruptionBudget", NULL, NULL, "it does not affect the datapath"},
    {"PriorityClass", NULL, NULL, "it does not affect the datapath"},
    {"LimitRange", NULL, NULL, "it does not affect the datapath"},
    {"ResourceQuota", NULL, NULL, "it does not affect the datapath"},
    {"HorizontalPodAutoscaler", NULL, NULL, "replicas stay as written"},
    {"CustomResourceDefinition", NULL, NULL, "it does not affect the datapath"},
    {"Ingress", NULL, NULL, "Ingress is not simulated yet"},
    {"IngressClass", NULL, NULL, "Ingress is not simulated yet"},
    {"NetworkPolicy", NULL, NULL, "NetworkPolicy is not simulated"},
    {"StatefulSet", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"DaemonSet", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"ReplicaSet", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"Job", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"CronJob", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
};

/* Looks a kind up; returns NULL and an error with a did-you-mean hint for unknown kinds. */
static const LdKind *
ld_find_kind(const YtNode *kind_node, const char *kind, GError **error)
{
    const char *names[G_N_ELEMENTS(ld_kinds) + 1];
    for (gsize i = 0; i < G_N_ELEMENTS(ld_kinds); i++) {
        if (strcmp(ld_kinds[i].kind, kind) == 0)
            return &ld_kinds[i];
        names[i] = ld_kinds[i].kind;
    }
    names[G_N_ELEMENTS(ld_kinds)] = NULL;
    const char *hint = yt_closest(kind, names);
    if (hint != NULL)
        ld_fail(error, kind_node, "unknown kind '%s'; did you mean '%s'?", kind, hint);
    else
        ld_fail(error, kind_node, "unknown kind '%s'", kind);
    return NULL;
}

/* Decodes one document (or List item): checks apiVersion and kind, then dispatches. Empty
 * documents are skipped. */
static gboolean
ld_document(Loader *ld, const YtNode *root, gboolean in_list, GError **error)
{
    if (yt_is_null(root))
        return TRUE;
    if (root->type != YT_MAPPING)
        return ld_fail(error, root,
                       "expected a Kubernetes object (a mapping with apiVersion and kind), got %s",
                       yt_describe(root));
    g_autofree char *api_version = NULL, *kind = NULL;
    const YtNode *kind_node = yt_map_get(root, "kind");
    const YtNode *api_node = yt_map_get(root, "apiVersion");
    if (!ld_string(api_node, "apiVersion", &api_version, error) ||
        !ld_string(kind_node, "kind", &kind, error))
        return FALSE;
    if (kind == NULL || kind[0] == '\0')
        return ld_fail(error, root, "'kind' is not set; every document needs apiVersion and kind");
    const LdKind *k = ld_find_kind(kind_node, kind, error);
    if (k == NULL)
        return FALSE;
    if (api_version == NULL || api_version[0] == '\0')
        return ld_fail(error, root, "'apiVersion' is not set; a %s needs apiVersion: %s", kind,
                       k->api_version != NULL ? k->api_version : "...");
    if (k->api_version != NULL && strcmp(k->api_version, api_version) != 0)
        return ld_fail(error, api_node,
                       "no matches for kind \"%s\" in version \"%s\"; use apiVersion: %s", kind,
                       api_version, k->api_version);
    if (k->decode == NULL) {
        ld_warn(ld, kind_node, "kind %s is not simulated and was ignored: %s", kind, k->note);
        return TRUE;
    }
    if (in_list && k->decode == ld_scenario_doc)
        return ld_fail(error, kind_node, "a kind: Scenario document cannot be a List item");
    return k->decode(ld, root, error);
}

/* Parses a YAML text and decodes its documents; the trees stay alive in ld->docs (decoded
 * objects' node references point into them). */
static gboolean
ld_stream(Loader *ld, const char *name, const char *text, gsize len, GError **error)
{
    g_autoptr(GError) yerr = NULL;
    GPtrArray *docs = yt_parse(name, text, len, &yerr);
    if (docs == NULL) {
        g_set_error_literal(error, LOADER_ERROR, LOADER_ERROR_SYNTAX, yerr->message);
        return FALSE;
    }
    guint first = ld->docs->len;
    for (guint i = 0; i < docs->len; i++)
        g_ptr_array_add(ld->docs, docs->pdata[i]);
    g_ptr_array_set_free_func(docs, NULL);
    g_ptr_array_unref(docs);
    guint end = ld->docs->len, objects = 0;
    for (guint i = first; i < end; i++) {
        const YtDocument *d = ld->docs->pdata[i];
        if (!ld_document(ld, d->root, FALSE, error))
            return FALSE;
        objects += !yt_is_null(d->root);
    }
    if (objects == 0) {
        /* kubectl apply says "no objects passed to apply"; a scenario needs at least itself. */
        g_set_error(error, LOADER_ERROR, LOADER_ERROR_INVALID,
                    "%s:1:1: error: no objects in %s: it holds neither a Kubernetes object nor a "
                    "kind: Scenario document",
                    name, name);
        return FALSE;
    }
    return TRUE;
}

/* Reads the files of spec.manifests, relative to the scenario file's directory. */
gboolean
ld_manifests(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    g_autoptr(GPtrArray) entries = NULL;
    if (!ld_string_list(n, path, FALSE, &entries, error))
        return FALSE;
    for (guint i = 0; entries != NULL && i < entries->len; i++) {
        const YtNode *at = n->items->pdata[i];
        const char *entry = entries->pdata[i];
        g_autofree char *file = NULL;
        if (!loader_resolve_manifest(at->file, entry, &file))
            return ld_fail(error, at,
                           "manifest '%s' lies outside the scenario's directory (after symlinks "
                           "and ..): a scenario reads only files below its own directory",
                           entry);
        g_autofree char *text = NULL;
        gsize len = 0;
        int err_no = 0;
        if (!ld_read_file(file, &text, &len, &err_no))
            return ld_fail(error, at, "cannot read manifest '%s': %s", entry, g_strerror(err_no));
        gboolean was_scenario_file = ld->scenario_file;
        ld->scenario_file = FALSE;
        gboolean ok = ld_stream(ld, file, text, len, error);
        ld->scenario_file = was_scenario_file;
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- patches */

/* Checks spec.patches entries and keeps them to apply once every object is loaded. */
gboolean
ld_patches(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"service", "deployment", "namespace", "spec", NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *sp = ld_path(p, "spec");
        g_autofree char *svc = NULL, *dep = NULL, *ns = NULL;
        if (!ld_check_fields(item, fields, "Scenario", p, error) ||
            !ld_get_string(item, "service", p, &svc, error) ||
            !ld_get_string(item, "deployment", p, &dep, error) ||
            !ld_get_string(item, "namespace", p, &ns, error))
            return FALSE;
        if (yt_is_null(item) || (svc == NULL) == (dep == NULL))
            return ld_fail(error, item,
                           "%s: a patch names exactly one 'service' or "
                           "'deployment'",
                           p);
        const YtNode *spec = yt_map_get(item, "spec");
        if (yt_is_null(spec))
            return ld_fail(error, item, "%s: Required value: the fields to change", sp);
        if (!ld_expect_map(spec, sp, error))
            return FALSE;
        g_ptr_array_add(ld->patches, (gpointer)item);
    }
    return TRUE;
}

/* Finds a service or deployment by namespace and name in the scenario, or NULL. */
static gpointer
ld_find_object(const Scenario *sc, gboolean service, const char *ns, const char *name)
{
    GPtrArray *list = service ? sc->services : sc->deployments;
    for (guint i = 0; i < list->len; i++) {
        const K8sMeta *m = service ? &((K8sService *)list->pdata[i])->meta
                                   : &((K8sDeployment *)list->pdata[i])->meta;
        if (strcmp(m->namespace_, ns) == 0 && strcmp(m->name, name) == 0)
            return list->pdata[i];
    }
    return NULL;
}

/* Applies one spec.patches entry to the object it names. */
static gboolean
ld_apply_patch(Loader *ld, const YtNode *item, GError **error)
{
    const YtNode *svc = yt_map_get(item, "service");
    const YtNode *target = svc != NULL ? svc : yt_map_get(item, "deployment");
    const YtNode *ns_node = yt_map_get(item, "namespace");
    const char *ns = yt_is_null(ns_node) ? "default" : ns_node->text;
    gpointer obj = ld_find_object(ld->sc, svc != NULL, ns, target->text);
    if (obj == NULL) {
        GPtrArray *list = svc != NULL ? ld->sc->services : ld->sc->deployments;
        g_autofree const char **names = g_new0(const char *, list->len + 1);
        for (guint i = 0; i < list->len; i++)
            names[i] = svc != NULL ? ((K8sService *)list->pdata[i])->meta.name
                                   : ((K8sDeployment *)list->pdata[i])->meta.name;
        const char *hint = yt_closest(target->text, names);
        g_autofree char *dym = hint != NULL ? g_strdup_printf("; did you mean '%s'?", hint) : NULL;
        return ld_fail(error, target, "patch target %s \"%s\" not found in namespace \"%s\"%s",
                       svc != NULL ? "service" : "deployment", target->text, ns,
                       dym != NULL ? dym : "");
    }
    const YtNode *spec = yt_map_get(item, "spec");
    if (svc != NULL) {
        K8sService *s = obj;
        LdObject o = {ld, "Service", s->meta.name};
        return ld_service_spec(&o, spec, s, TRUE, error);
    }
    K8sDeployment *d = obj;
    LdObject o = {ld, "Deployment", d->meta.name};
    return ld_deployment_spec(&o, spec, d, TRUE, error);
}

/* ---------------------------------------------------------------- the end of a load */

/* Checks every recorded node name against the declared nodes. */
static gboolean
ld_check_node_refs(Loader *ld, GError **error)
{
    const Scenario *sc = ld->sc;
    for (guint i = 0; i < ld->node_refs->len; i++) {
        const LdNodeRef *r = ld->node_refs->pdata[i];
        if (scenario_find_node(sc, r->at->text) != NULL)
            continue;
        g_autofree const char **names = g_new0(const char *, sc->nodes->len + 1);
        for (guint j = 0; j < sc->nodes->len; j++)
            names[j] = ((K8sNode *)sc->nodes->pdata[j])->name;
        const char *hint = yt_closest(r->at->text, names);
        g_autofree char *dym = hint != NULL ? g_strdup_printf("; did you mean '%s'?", hint) : NULL;
        return ld_fail(error, r->at,
                       "%s: node '%s' is not declared in spec.cluster.nodes or by a kind: Node "
                       "document%s",
                       r->path, r->at->text, dym != NULL ? dym : "");
    }
    return TRUE;
}

/* Runs what needs the whole load: patches, cross-field validation of the new Services and
 * Deployments, node references, and kube-proxy's clusterCIDR default. */
static gboolean
ld_finish(Loader *ld, GError **error)
{
    Scenario *sc = ld->sc;
    for (guint i = 0; i < ld->patches->len; i++)
        if (!ld_apply_patch(ld, ld->patches->pdata[i], error))
            return FALSE;
    for (guint i = ld->first_service; i < sc->services->len; i++)
        if (!ld_service_validate(sc->services->pdata[i], error))
            return FALSE;
    for (guint i = ld->first_deployment; i < sc->deployments->len; i++)
        if (!ld_deployment_validate(sc->deployments->pdata[i], error))
            return FALSE;
    if (!ld_check_node_refs(ld, error))
        return FALSE;
    if (sc->proxy_cluster_cidr_from_cluster) {
        g_array_set_size(sc->proxy.cluster_cidrs, 0);
        g_array_append_val(sc->proxy.cluster_cidrs, sc->cluster_cidr);
    }
    return TRUE;
}

/* Records the names of objects already in sc, so duplicates across loads are caught. */
static void
ld_seed_names(Loader *ld)
{
    const Scenario *sc = ld->sc;
    struct {
        GPtrArray *list;
        const char *resource;
    } kinds[] = {{sc->services, "services"},
                 {sc->deployments, "deployments"},
                 {sc->pods, "pods"},
                 {sc->slices, "endpointslices"}};
    for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (guint i = 0; i < kinds[k].list->len; i++) {
            const K8sMeta *m = kinds[k].list->pdata[i]; /* meta is each object's first field */
            K8sPos *pos = g_new(K8sPos, 1);
            *pos = m->pos;
            g_hash_table_insert(
                ld->names, g_strdup_printf("%s/%s/%s", kinds[k].resource, m->namespace_, m->name),
                pos);
        }
    }
    for (guint i = 0; i < sc->nodes->len; i++) {
        const K8sNode *n = sc->nodes->pdata[i];
        K8sPos *pos = g_new(K8sPos, 1);
        *pos = n->pos;
        g_hash_table_insert(ld->names, g_strdup_printf("nodes//%s", n->name), pos);
    }
}

/* Prepares a load into sc. */
static void
ld_init(Loader *ld, Scenario *sc, gboolean scenario_file)
{
    memset(ld, 0, sizeof *ld);
    ld->sc = sc;
    ld->scenario_file = scenario_file;
    ld->docs = g_ptr_array_new_with_free_func((GDestroyNotify)yt_document_free);
    ld->patches = g_ptr_array_new();
    ld->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ld->node_refs = g_ptr_array_new_with_free_func((GDestroyNotify)ld_node_ref_free);
    ld->first_service = sc->services->len;
    ld->first_deployment = sc->deployments->len;
    ld->first_pod = sc->pods->len;
    ld->first_slice = sc->slices->len;
    ld->first_node = sc->nodes->len;
    ld->first_warning = sc->warnings->len;
    ld_seed_names(ld);
}

/* Undoes a failed load's additions to sc (only needed when sc outlives the load). */
static void
ld_rollback(Loader *ld)
{
    Scenario *sc = ld->sc;
    g_ptr_array_set_size(sc->services, (gint)ld->first_service);
    g_ptr_array_set_size(sc->deployments, (gint)ld->first_deployment);
    g_ptr_array_set_size(sc->pods, (gint)ld->first_pod);
    g_ptr_array_set_size(sc->slices, (gint)ld->first_slice);
    g_ptr_array_set_size(sc->warnings, (gint)ld->first_warning);
    /* Manifests add Node documents at the end; scenario nodes never reach this path. */
    g_ptr_array_set_size(sc->nodes, (gint)ld->first_node);
    if (ld->proxy_saved) {
        kube_proxy_config_clear(&sc->proxy);
        sc->proxy = ld->proxy_backup;
        sc->proxy_cluster_cidr_from_cluster = ld->proxy_from_cluster_backup;
        ld->proxy_saved = FALSE;
    }
}

/* Releases the load state (not the scenario). */
static void
ld_clear(Loader *ld)
{
    if (ld->proxy_saved)
        kube_proxy_config_clear(&ld->proxy_backup);
    g_ptr_array_unref(ld->node_refs);
    g_hash_table_unref(ld->names);
    g_ptr_array_unref(ld->patches);
    g_ptr_array_unref(ld->docs);
}

/* ---------------------------------------------------------------- public */

/* See loader.h. A stream without a kind: Scenario document gets the default cluster's nodes
 * (when it declares none with kind: Node) and its client. */
Scenario *
loader_load_scenario_text(const char *name, const char *text, gsize len, GError **error)
{
    g_return_val_if_fail(name != NULL && (text != NULL || len == 0), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    g_autoptr(Scenario) sc = scenario_new(name);
    Loader ld;
    ld_init(&ld, sc, TRUE);
    gboolean ok = ld_stream(&ld, name, text, len, error);
    if (ok && ld.scenario == NULL) {
        g_autoptr(Scenario) def = scenario_new_default();
        if (sc->nodes->len == 0)
            while (def->nodes->len > 0)
                g_ptr_array_add(sc->nodes, g_ptr_array_steal_index(def->nodes, 0));
        g_ptr_array_add(sc->clients, g_ptr_array_steal_index(def->clients, 0));
    }
    ok = ok && ld_finish(&ld, error);
    ld_clear(&ld);
    return ok ? g_steal_pointer(&sc) : NULL;
}

/* See loader.h. */
Scenario *
loader_load_scenario(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    int err_no = 0;
    if (!ld_read_file(path, &text, &len, &err_no)) {
        g_set_error(error, LOADER_ERROR, LOADER_ERROR_IO, "%s: error: cannot read scenario: %s",
                    path, g_strerror(err_no));
        return NULL;
    }
    return loader_load_scenario_text(path, text, len, error);
}

/* See loader.h. On error sc is left as it was. */
gboolean
loader_add_manifest_text(Scenario *sc, const char *name, const char *text, gsize len,
                         GError **error)
{
    g_return_val_if_fail(sc != NULL && name != NULL && (text != NULL || len == 0), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    Loader ld;
    ld_init(&ld, sc, FALSE);
    gboolean ok = ld_stream(&ld, name, text, len, error) && ld_finish(&ld, error);
    if (!ok)
        ld_rollback(&ld);
    ld_clear(&ld);
    return ok;
}

/* See loader.h. */
gboolean
loader_add_manifest(Scenario *sc, const char *path, GError **error)
{
    g_return_val_if_fail(sc != NULL && path != NULL, FALSE);
    g_autofree char *text = NULL;
    gsize len = 0;
    int err_no = 0;
    if (!ld_read_file(path, &text, &len, &err_no)) {
        g_set_error(error, LOADER_ERROR, LOADER_ERROR_IO, "%s: error: cannot read manifest: %s",
                    path, g_strerror(err_no));
        return FALSE;
    }
    return loader_add_manifest_text(sc, path, text, len, error);
}
