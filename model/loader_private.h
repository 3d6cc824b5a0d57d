/* SPDX-License-Identifier: Apache-2.0 */
/* Shared internals of the loader: the load state, error wording and typed field readers.
 *
 * loader.c owns the stream, manifests, patches and the final cross-object checks;
 * loader_values.c holds the readers below; loader_scenario.c (with loader_workload.c) decodes
 * the kind: Scenario document; loader_objects.c (with loader_service.c, loader_pods.c and
 * loader_proxy.c) decodes the Kubernetes kinds. All of them read YAML trees
 * (model/yaml_tree.h) through the readers below, which word errors the way kubectl and the
 * apiserver do: "PATH: expected an integer, got 'two'", "unknown field 'x' in Service spec; did
 * you mean 'y'?", "The Service \"web\" is invalid: spec.ports[0].port: Invalid value: ...".
 * Nothing here is part of the public interface.
 */
#ifndef KPSIM_LOADER_PRIVATE_H
#define KPSIM_LOADER_PRIVATE_H

#include "model/loader.h"
#include "model/yaml_tree.h"

/* A node name written somewhere (pod spec.nodeName, endpoint nodeName, node events), checked
 * against the declared nodes at the end of the load. */
typedef struct {
    const YtNode *at;
    char *path;
} LdNodeRef;

/* One load: a scenario file with its manifests, or one manifest added to a scenario. */
typedef struct {
    Scenario *sc;           /* (transfer none) the target */
    gboolean scenario_file; /* kind: Scenario documents are allowed */
    const YtNode *scenario; /* (nullable) the Scenario document's root, once read */
    GPtrArray *docs;        /* YtDocument*, kept alive until the patches are applied */
    GPtrArray *patches;     /* const YtNode*: spec.patches entries (transfer none) */
    GHashTable *names;      /* "services/NS/NAME" -> K8sPos*: where each object was defined;
                             * "~services/NS/PREFIX" -> a range of generated names (private to
                             * loader_values.c, starting with its K8sPos) */
    guint name_ranges;      /* ranges registered by ld_register_name_range() */
    GPtrArray *node_refs;   /* LdNodeRef*: nodeName values to check once all nodes are known */
    guint first_service, first_deployment, first_pod, first_slice, first_node, first_warning;
    gboolean proxy_saved; /* proxy_backup holds sc->proxy as it was before this load */
    KubeProxyConfig proxy_backup;
    gboolean proxy_from_cluster_backup;
} Loader;

/* The object a decoder works on: kind names it in unknown-field messages, and with a name it
 * gives validation errors the apiserver's "The Service \"web\" is invalid: " prefix. name NULL
 * (scenario fields, KubeProxyConfiguration): no prefix. */
typedef struct {
    Loader *ld;
    const char *kind;
    const char *name;
} LdObject;

/* ---------------------------------------------------------------- errors (loader_values.c) */

/* Sets "FILE:LINE:COL: error: MESSAGE" at node at (LOADER_ERROR_INVALID); returns FALSE. */
gboolean ld_fail(GError **error, const YtNode *at, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* The same at a recorded position. */
gboolean ld_fail_pos(GError **error, const K8sPos *pos, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* A validation error: like ld_fail with the "The KIND \"NAME\" is invalid: " prefix when o
 * names an object. */
gboolean ld_invalid(const LdObject *o, GError **error, const YtNode *at, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
gboolean ld_invalid_pos(const LdObject *o, GError **error, const K8sPos *pos, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* Appends "FILE:LINE:COL: warning: MESSAGE" to the scenario's warnings. */
void ld_warn(Loader *ld, const YtNode *at, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
K8sPos ld_pos(const YtNode *n);
/* Appends text with control characters escaped as Go's %q does ("\n", "\t", "\x01"), and
 * with quotes also '"' and '\' (as inside a Go quoted string). */
void ld_append_escaped(GString *out, const char *text, gboolean quotes);

/* ---------------------------------------------------------------- paths (loader_values.c) */

/* "parent.key", or "key" when parent is empty. (transfer full) */
char *ld_path(const char *parent, const char *key);
/* "parent[i]". (transfer full) */
char *ld_path_index(const char *parent, guint i);

/* ---------------------------------------------------------------- structure (loader_values.c) */

/* Checks that n is a mapping whose keys are all in known (NULL-terminated); what names the
 * object part in messages ("Service spec.ports[0]"). Unknown keys get a did-you-mean hint. */
gboolean ld_check_fields(const YtNode *n, const char *const *known, const char *what,
                         const char *path, GError **error);
/* Checks that n is a mapping (null, meaning absent, is accepted). */
gboolean ld_expect_map(const YtNode *n, const char *path, GError **error);
/* Checks that n is a sequence (null, meaning absent, is accepted). */
gboolean ld_expect_seq(const YtNode *n, const char *path, GError **error);

/* ---------------------------------------------------------------- values (loader_values.c) */
/* Each reader takes the value node and its field path; a null value leaves *out unchanged and
 * returns TRUE. The ld_get_* forms look key up in a mapping first (absent = null). */

gboolean ld_string(const YtNode *n, const char *path, char **out, GError **error);
/* Any scalar's text (durations, rates and other scenario shorthands that may be plain numbers). */
gboolean ld_text(const YtNode *n, const char *path, char **out, GError **error);
gboolean ld_int(const YtNode *n, const char *path, gint64 *out, GError **error);
gboolean ld_bool(const YtNode *n, const char *path, gboolean *out, GError **error);
gboolean ld_duration(const YtNode *n, const char *path, SimTime *out, GError **error);
/* A mapping of strings merged into *out (created when NULL), as labels and selectors are. The
 * merge goes into a copy that replaces *out (which may be shared, see model/k8s.h); on error
 * *out is left as it was. */
gboolean ld_string_map(const YtNode *n, const char *path, GHashTable **out, GError **error);
/* A sequence of strings (a single scalar is accepted as a one-element list when
 * scalar_ok). (transfer full) into *out, replacing it. */
gboolean ld_string_list(const YtNode *n, const char *path, gboolean scalar_ok, GPtrArray **out,
                        GError **error);
/* An IP address, worded as the apiserver words bad ones. */
gboolean ld_ip(const LdObject *o, const YtNode *n, const char *path, SimAddr *out, GError **error);
/* A CIDR; surrounding spaces are trimmed when trim (loadBalancerSourceRanges). */
gboolean ld_cidr(const LdObject *o, const YtNode *n, const char *path, gboolean trim, SimCidr *out,
                 GError **error);
/* A port number 1-65535 ("Invalid value: 70000: must be between 1 and 65535, inclusive"). When
 * zero_ok, 0 is accepted and means unset. */
gboolean ld_port(const LdObject *o, const YtNode *n, const char *path, gboolean zero_ok,
                 guint16 *out, GError **error);
/* One of the allowed values (NULL-terminated), else "Unsupported value" with a hint. */
gboolean ld_enum(const LdObject *o, const YtNode *n, const char *path, const char *const *allowed,
                 guint *index, GError **error);
/* Protocol TCP/UDP/SCTP as the API spells them. */
gboolean ld_protocol(const LdObject *o, const YtNode *n, const char *path, SimProto *out,
                     GError **error);

gboolean ld_get_string(const YtNode *map, const char *key, const char *path, char **out,
                       GError **error);
gboolean ld_get_int(const YtNode *map, const char *key, const char *path, gint64 *out,
                    GError **error);
gboolean ld_get_bool(const YtNode *map, const char *key, const char *path, gboolean *out,
                     GError **error);
gboolean ld_get_string_map(const YtNode *map, const char *key, const char *path, GHashTable **out,
                           GError **error);

/* ---------------------------------------------------------------- names (loader_values.c) */

/* Records an object's name; a second object of the same kind, namespace and name is an error
 * at the name ("services \"web\" already exists in namespace \"default\" (first defined at
 * ...)"). resource is the plural ("services"); ns may be NULL for cluster-scoped kinds. */
gboolean ld_register_name(Loader *ld, const char *resource, const char *ns, const char *name,
                          const YtNode *at, GError **error);
/* The largest count and max_k of a name range. */
#define LD_NAME_RANGE_MAX G_GINT64_CONSTANT(1000000000)
/* Records the generated names PREFIX1 ... PREFIXcount of resource in ns, each also followed by
 * "-2" ... "-max_k" (none when max_k is 1), as defined at at, without storing each name: later
 * ld_register_name() calls fail for them as if each had been registered. The caller first
 * checks that none is taken (ld_name_range_taken()); ranges of one resource and namespace must
 * not overlap (spec.generate, the only user, is read once per load). */
void ld_register_name_range(Loader *ld, const char *resource, const char *ns, const char *prefix,
                            gint64 count, gint64 max_k, const YtNode *at);
/* Where the first name of that range (ordered by I, then K; "PREFIXI" is K = 1) that is
 * already registered one by one was defined, with its I and K; NULL when none is. Cost: a scan
 * of every registered name. */
const K8sPos *ld_name_range_taken(Loader *ld, const char *resource, const char *ns,
                                  const char *prefix, gint64 count, gint64 max_k, gint64 *first_i,
                                  gint64 *first_k);
/* Sets name to prefix, then i, then "-k" when k > 1, without printf: the names of a range
 * (spec.generate's objects, the node count form's nodes) (loader_generate.c). */
void ld_gen_name(GString *name, const char *prefix, gint64 i, gint64 k);
/* The error ld_register_name() reports for a name already defined at first; returns FALSE. */
gboolean ld_name_exists(GError **error, const YtNode *at, const char *resource, const char *ns,
                        const char *name, const K8sPos *first);
typedef enum {
    LD_NAME_DNS1123_SUBDOMAIN, /* most object names */
    LD_NAME_DNS1123_LABEL,     /* namespaces */
    LD_NAME_DNS1035_LABEL,     /* Service names */
} LdNameRule;

/* Validates a name by the apiserver's rule, worded as the apiserver words it. */
gboolean ld_check_name(const LdObject *o, const YtNode *at, const char *path, const char *name,
                       LdNameRule rule, GError **error);
/* Records a node name to check once every node is known. */
void ld_add_node_ref(Loader *ld, const YtNode *at, const char *path);
/* Frees a recorded node name (GDestroyNotify for Loader.node_refs). */
void ld_node_ref_free(LdNodeRef *r);

/* ---------------------------------------------------------------- the Scenario document */

/* Decodes the kind: Scenario document (at most one, only in a scenario file)
 * (loader_scenario.c). */
gboolean ld_scenario_doc(Loader *ld, const YtNode *root, GError **error);
/* Decodes spec.generate and adds the Deployments and Services it describes
 * (loader_generate.c). */
gboolean ld_generate(Loader *ld, const YtNode *n, const char *path, GError **error);
/* Decodes spec.clients [{name, address}] (loader_workload.c). */
gboolean ld_clients(Loader *ld, const YtNode *n, const char *path, GError **error);
/* Decodes spec.traffic (loader_workload.c). Defaults: protocol TCP, request 100 bytes, response
 * 1000 bytes, start 0, stop at the scenario's duration. */
gboolean ld_traffic(Loader *ld, const YtNode *n, const char *path, GError **error);
/* Checks spec.patches entries and keeps them to apply once every object is loaded (loader.c). */
gboolean ld_patches(Loader *ld, const YtNode *n, const char *path, GError **error);
/* Reads the files of spec.manifests, relative to the scenario file's directory (loader.c). */
gboolean ld_manifests(Loader *ld, const YtNode *n, const char *path, GError **error);

/* ---------------------------------------------------------------- objects (loader_objects.c) */

/* The fields of ObjectMeta, accepted in metadata and in a pod template's metadata. */
extern const char *const ld_meta_fields[];
/* Decodes metadata into m (name required); kind is used in messages. */
gboolean ld_meta(Loader *ld, const YtNode *root, const char *kind, gboolean namespaced, K8sMeta *m,
                 const YtNode **name_node, GError **error);
/* Decodes metadata, checks the name by rule and registers it under resource. */
gboolean ld_object_meta(Loader *ld, const YtNode *root, const char *kind, const char *resource,
                        LdNameRule rule, gboolean namespaced, K8sMeta *m, GError **error);
/* Checks a named port (targetPort, containerPort name) as IsValidPortName does (IANA_SVC_NAME);
 * reports the first failed rule. */
gboolean ld_check_port_name(const LdObject *o, const YtNode *at, const char *path, const char *name,
                            GError **error);
/* Iterates a sequence field: NULL/null is an empty list, anything else must be a sequence.
 * Returns the number of items (0 on error, with *ok FALSE). */
guint ld_seq_len(const YtNode *n, const char *path, gboolean *ok, GError **error);
gboolean ld_endpoint_slice_doc(Loader *ld, const YtNode *root, GError **error);
gboolean ld_node_doc(Loader *ld, const YtNode *root, GError **error);

/* ---------------------------------------------------------------- Service (loader_service.c) */

gboolean ld_service_doc(Loader *ld, const YtNode *root, GError **error);
/* Applies a service spec (patch TRUE: strategic merge, ports keyed by port number) onto s. */
gboolean ld_service_spec(const LdObject *o, const YtNode *spec, K8sService *s, gboolean patch,
                         GError **error);
/* The apiserver's cross-field checks of a Service, run after patches. */
gboolean ld_service_validate(const K8sService *s, GError **error);

/* ------------------------------------------------------- Pod and Deployment (loader_pods.c) */

gboolean ld_pod_doc(Loader *ld, const YtNode *root, GError **error);
gboolean ld_deployment_doc(Loader *ld, const YtNode *root, GError **error);
/* Applies a deployment spec (patch TRUE: strategic merge, containers keyed by name) onto d. */
gboolean ld_deployment_spec(const LdObject *o, const YtNode *spec, K8sDeployment *d, gboolean patch,
                            GError **error);
/* The apiserver's cross-field checks of a Deployment, run after patches. */
gboolean ld_deployment_validate(const K8sDeployment *d, GError **error);

/* ----------------------------------------------------- KubeProxyConfiguration (loader_proxy.c) */

/* Decodes KubeProxyConfiguration fields (a document when is_doc, else the Scenario's `proxy:`
 * mapping) onto sc->proxy. */
gboolean ld_proxy_config(Loader *ld, const YtNode *map, const char *path, gboolean is_doc,
                         GError **error);

#endif
