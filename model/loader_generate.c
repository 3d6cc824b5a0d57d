/* SPDX-License-Identifier: Apache-2.0 */
/* spec.generate: many Deployments and Services from one short description, so a capacity
 * what-if (thousands of Services, a hundred thousand pods) needs no huge manifest files.
 *
 *   generate:
 *     deployments: {count: 10000, replicas: 15, namePrefix: app, namespace: default,
 *                   ports: [80, {port: 53, protocol: UDP, name: dns}]}
 *     services: {perDeployment: 1, type: NodePort, nodePortBase: 20000,
 *                externalTrafficPolicy: Cluster}
 *
 * Deployment i (1-based) is PREFIXi, its pods are labelled app: PREFIXi and run one container
 * "app" listening on every port. Each Deployment gets perDeployment Services selecting its
 * pods: PREFIXi, then PREFIXi-2, PREFIXi-3...; each Service port is a container port (port =
 * targetPort). With nodePortBase, the k-th NodePort written (in Service, then port order) is
 * nodePortBase + k; without it the allocator picks. The objects are exactly what the equivalent
 * manifests would decode to, positioned at the generate entry, and they go through the same
 * name checks and final validation as manifests do. To stay cheap at 10^4-10^5 objects, the
 * names are registered as two ranges rather than one by one (ld_register_name_range()), and
 * Deployment i's matchLabels, template labels and Services' selectors are one shared table.
 */
#include "model/loader_private.h"
#include "sim/sim_bytes.h"

#include <string.h>

#define LD_GEN_MAX_DEPLOYMENTS 1000000
#define LD_GEN_MAX_REPLICAS 100000
#define LD_GEN_MAX_PER_DEPLOYMENT 16

/* A decoded spec.generate. */
typedef struct {
    gint64 count, replicas, per_deployment;
    char *prefix;
    char *ns;
    GArray *ports; /* K8sContainerPort, names owned */
    K8sServiceType type;
    K8sTrafficPolicy external_policy;
    gint64 node_port_base; /* 0: allocated */
    const YtNode *deployments_at, *services_at, *node_port_base_at;
    const YtNode *policy_at; /* (nullable) externalTrafficPolicy, when written */
} LdGenerate;

/* Frees what g owns. */
static void
ld_generate_clear(LdGenerate *g)
{
    for (guint i = 0; g->ports != NULL && i < g->ports->len; i++)
        g_free(g_array_index(g->ports, K8sContainerPort, i).name);
    g_clear_pointer(&g->ports, g_array_unref);
    g_clear_pointer(&g->prefix, g_free);
    g_clear_pointer(&g->ns, g_free);
}

/* Reads an integer field key of map into *out, checking lo <= value <= hi. */
static gboolean
ld_gen_int(const YtNode *map, const char *key, const char *path, gint64 lo, gint64 hi,
           gint64 *out, GError **error)
{
    g_autofree char *p = ld_path(path, key);
    const YtNode *n = yt_map_get(map, key);
    if (!ld_int(n, p, out, error))
        return FALSE;
    if (n != NULL && !yt_is_null(n) && (*out < lo || *out > hi))
        return ld_fail(error, n,
                       "%s: Invalid value: %" G_GINT64_FORMAT ": must be between %" G_GINT64_FORMAT
                       " and %" G_GINT64_FORMAT ", inclusive",
                       p, *out, lo, hi);
    return TRUE;
}

/* Decodes one entry of deployments.ports: a port number, or {port, protocol, name}. */
static gboolean
ld_gen_port(const YtNode *item, const char *path, K8sContainerPort *cp, GError **error)
{
    static const char *const fields[] = {"port", "protocol", "name", NULL};
    cp->protocol = SIM_PROTO_TCP;
    if (item->type == YT_SCALAR)
        return ld_port(NULL, item, path, FALSE, &cp->container_port, error);
    g_autofree char *pp = ld_path(path, "port"), *rp = ld_path(path, "protocol");
    g_autofree char *np = ld_path(path, "name");
    const YtNode *port = yt_map_get(item, "port");
    if (!ld_check_fields(item, fields, "Scenario", path, error) ||
        !ld_port(NULL, port, pp, FALSE, &cp->container_port, error) ||
        !ld_protocol(NULL, yt_map_get(item, "protocol"), rp, &cp->protocol, error) ||
        !ld_string(yt_map_get(item, "name"), np, &cp->name, error))
        return FALSE;
    if (cp->container_port == 0)
        return ld_fail(error, item, "%s: Required value", pp);
    if (cp->protocol == SIM_PROTO_SCTP)
        return ld_fail(error, yt_map_get(item, "protocol"),
                       "%s: Unsupported value: \"SCTP\": supported values: \"TCP\", \"UDP\"", rp);
    return TRUE;
}

/* Decodes deployments.ports (default: [80]). */
static gboolean
ld_gen_ports(const YtNode *map, const char *path, LdGenerate *g, GError **error)
{
    g_autofree char *p = ld_path(path, "ports");
    const YtNode *n = yt_map_get(map, "ports");
    g->ports = g_array_new(FALSE, TRUE, sizeof(K8sContainerPort));
    if (yt_is_null(n)) {
        K8sContainerPort cp = {.container_port = 80, .protocol = SIM_PROTO_TCP};
        g_array_append_val(g->ports, cp);
        return TRUE;
    }
    if (!ld_expect_seq(n, p, error))
        return FALSE;
    for (guint i = 0; i < n->items->len; i++) {
        g_autofree char *ip = ld_path_index(p, i);
        K8sContainerPort cp = {0};
        gboolean ok = ld_gen_port(n->items->pdata[i], ip, &cp, error);
        g_array_append_val(g->ports, cp); /* owned by g even when bad */
        if (!ok)
            return FALSE;
        for (guint j = 0; j < i; j++) {
            const K8sContainerPort *o = &g_array_index(g->ports, K8sContainerPort, j);
            if (o->container_port == cp.container_port && o->protocol == cp.protocol)
                return ld_fail(error, n->items->pdata[i], "%s: Duplicate value: %u/%s", ip,
                               cp.container_port, sim_proto_k8s_name(cp.protocol));
        }
    }
    if (g->ports->len == 0)
        return ld_fail(error, n, "%s: Required value: at least one port", p);
    return TRUE;
}

/* Decodes generate.deployments. */
static gboolean
ld_gen_deployments(const YtNode *map, const char *path, LdGenerate *g, GError **error)
{
    static const char *const fields[] = {"count",     "replicas", "namePrefix",
                                         "namespace", "ports",    NULL};
    g->deployments_at = map;
    g->replicas = 1;
    if (!ld_expect_map(map, path, error) ||
        !ld_check_fields(map, fields, "Scenario", path, error) ||
        !ld_gen_int(map, "count", path, 1, LD_GEN_MAX_DEPLOYMENTS, &g->count, error) ||
        !ld_gen_int(map, "replicas", path, 0, LD_GEN_MAX_REPLICAS, &g->replicas, error) ||
        !ld_get_string(map, "namePrefix", path, &g->prefix, error) ||
        !ld_get_string(map, "namespace", path, &g->ns, error) ||
        !ld_gen_ports(map, path, g, error))
        return FALSE;
    if (g->count == 0) {
        g_autofree char *cp = ld_path(path, "count");
        return ld_fail(error, map, "%s: Required value", cp);
    }
    if (g->prefix == NULL)
        g->prefix = g_strdup("app");
    if (g->ns == NULL)
        g->ns = g_strdup("default");
    return TRUE;
}

/* Decodes generate.services. */
static gboolean
ld_gen_services(const YtNode *map, const char *path, LdGenerate *g, GError **error)
{
    static const char *const fields[] = {"perDeployment", "type", "nodePortBase",
                                         "externalTrafficPolicy", NULL};
    static const char *const types[] = {"ClusterIP", "NodePort", NULL};
    static const char *const policies[] = {"Cluster", "Local", NULL};
    g->services_at = map;
    g->per_deployment = 1;
    if (!ld_expect_map(map, path, error) ||
        !ld_check_fields(map, fields, "Scenario", path, error) ||
        !ld_gen_int(map, "perDeployment", path, 0, LD_GEN_MAX_PER_DEPLOYMENT, &g->per_deployment,
                    error) ||
        !ld_gen_int(map, "nodePortBase", path, 1, 65535, &g->node_port_base, error))
        return FALSE;
    g_autofree char *tp = ld_path(path, "type"), *pp = ld_path(path, "externalTrafficPolicy");
    guint type = 0, policy = 0;
    if (!ld_enum(NULL, yt_map_get(map, "type"), tp, types, &type, error) ||
        !ld_enum(NULL, yt_map_get(map, "externalTrafficPolicy"), pp, policies, &policy, error))
        return FALSE;
    g->type = type == 1 ? K8S_SVC_NODE_PORT : K8S_SVC_CLUSTER_IP;
    g->external_policy = policy == 1 ? K8S_POLICY_LOCAL : K8S_POLICY_CLUSTER;
    g->node_port_base_at = yt_map_get(map, "nodePortBase");
    g->policy_at = yt_map_get(map, "externalTrafficPolicy");
    if (g->node_port_base != 0 && g->type != K8S_SVC_NODE_PORT)
        return ld_fail(error, g->node_port_base_at,
                       "%s.nodePortBase: Forbidden: only for type NodePort", path);
    if (policy == 1 && g->type != K8S_SVC_NODE_PORT)
        return ld_fail(error, yt_map_get(map, "externalTrafficPolicy"),
                       "%s: Invalid value: \"Local\": may only be set when `type` is 'NodePort' "
                       "or 'LoadBalancer'",
                       pp);
    return TRUE;
}

/* Checks that the generated names are valid and nodePortBase leaves room for every port. */
static gboolean
ld_gen_check(Loader *ld, const LdGenerate *g, const char *path, GError **error)
{
    /* The longest names: the last Deployment's, and its last Service's. */
    g_autofree char *dname = g_strdup_printf("%s%" G_GINT64_FORMAT, g->prefix, g->count);
    g_autofree char *sname =
        g->per_deployment > 1
            ? g_strdup_printf("%s-%" G_GINT64_FORMAT, dname, g->per_deployment)
            : g_strdup(dname);
    g_autofree char *pp = ld_path(path, "deployments.namePrefix");
    g_autofree char *np = ld_path(path, "deployments.namespace");
    const YtNode *prefix_at = yt_map_get(g->deployments_at, "namePrefix");
    const YtNode *at = prefix_at != NULL ? prefix_at : g->deployments_at;
    LdObject o = {ld, "Scenario", NULL};
    if (!ld_check_name(&o, at, pp, dname, LD_NAME_DNS1123_SUBDOMAIN, error) ||
        (g->per_deployment > 0 &&
         !ld_check_name(&o, at, pp, sname, LD_NAME_DNS1035_LABEL, error)) ||
        !ld_check_name(&o, yt_map_get(g->deployments_at, "namespace"), np, g->ns,
                       LD_NAME_DNS1123_LABEL, error))
        return FALSE;
    gint64 ports = g->count * g->per_deployment * (gint64)g->ports->len;
    if (g->node_port_base != 0 && g->node_port_base + ports - 1 > 65535)
        return ld_fail(error, g->node_port_base_at,
                       "%s.services.nodePortBase: Invalid value: %" G_GINT64_FORMAT
                       ": %" G_GINT64_FORMAT " node ports do not fit below 65536",
                       path, g->node_port_base, ports);
    return TRUE;
}

/* A label table holding the one pair app=value. (transfer full) */
static GHashTable *
ld_gen_app_labels(const char *value)
{
    GHashTable *t = k8s_string_table_new();
    g_hash_table_insert(t, g_strdup("app"), g_strdup(value));
    return t;
}

/* Sets m's namespace to ns, keeping the default's copy when it already says so. */
static void
ld_gen_namespace(K8sMeta *m, const char *ns)
{
    if (strcmp(m->namespace_, ns) == 0)
        return;
    g_free(m->namespace_);
    m->namespace_ = g_strdup(ns);
}

/* The Deployment named name of g; its matchLabels and template labels are one table, labels
 * (transfer none: the Deployment takes its own references). (transfer full) */
static K8sDeployment *
ld_gen_deployment(const LdGenerate *g, const char *name, GHashTable *labels)
{
    K8sDeployment *d = k8s_deployment_new();
    d->meta.name = g_strdup(name);
    ld_gen_namespace(&d->meta, g->ns);
    d->meta.pos = ld_pos(g->deployments_at);
    d->replicas = (gint)g->replicas;
    d->replicas_pos = d->selector_pos = d->template_labels_pos = d->meta.pos;
    d->match_labels = g_hash_table_ref(labels);
    d->template_.labels = g_hash_table_ref(labels);
    K8sContainer *c = k8s_container_new();
    c->name = g_strdup("app");
    g_array_set_size(c->ports, g->ports->len);
    for (guint i = 0; i < g->ports->len; i++) {
        K8sContainerPort *cp = &g_array_index(c->ports, K8sContainerPort, i);
        *cp = g_array_index(g->ports, K8sContainerPort, i);
        cp->name = g_strdup(cp->name);
    }
    g_ptr_array_add(d->template_.containers, c);
    return d;
}

/* The Service named name whose selector is labels, its Deployment's pod labels (transfer none:
 * the Service takes a reference); *next_node_port counts up. (transfer full) */
static K8sService *
ld_gen_service(const LdGenerate *g, const char *name, GHashTable *labels, gint64 *next_node_port)
{
    K8sService *s = k8s_service_new();
    s->meta.name = g_strdup(name);
    ld_gen_namespace(&s->meta, g->ns);
    s->meta.pos = ld_pos(g->services_at);
    s->type = g->type;
    s->type_pos = s->meta.pos;
    if (g->policy_at != NULL)
        s->external_policy_pos = ld_pos(g->policy_at);
    s->external_policy = g->external_policy;
    s->selector = g_hash_table_ref(labels);
    for (guint i = 0; i < g->ports->len; i++) {
        const K8sContainerPort *cp = &g_array_index(g->ports, K8sContainerPort, i);
        K8sServicePort *p = g_new0(K8sServicePort, 1);
        /* Several ports must be named: the container's name, else p1, p2... */
        if (g->ports->len == 1)
            p->name = g_strdup("");
        else
            p->name = cp->name != NULL ? g_strdup(cp->name) : g_strdup_printf("p%u", i + 1);
        p->protocol = cp->protocol;
        p->port = p->target_port = cp->container_port;
        p->pos = p->node_port_pos = s->meta.pos;
        if (*next_node_port != 0) {
            p->node_port = (guint16)(*next_node_port)++;
            p->node_port_explicit = TRUE;
        }
        g_ptr_array_add(s->ports, p);
    }
    return s;
}

/* Appends n (>= 0) in decimal to out, without printf. */
static void
ld_gen_append_number(GString *out, gint64 n)
{
    char digits[20];
    g_string_append_len(out, digits, sim_put_decimal(digits, (guint64)n) - digits);
}

/* See loader_private.h. */
void
ld_gen_name(GString *name, const char *prefix, gint64 i, gint64 k)
{
    g_string_assign(name, prefix);
    ld_gen_append_number(name, i);
    if (k > 1) {
        g_string_append_c(name, '-');
        ld_gen_append_number(name, k);
    }
}

/* Registers g's names as one range per resource. A name some object already has fails as
 * registering the names one by one, Deployment i then its Services, would have failed: at the
 * first generated name that collides. */
static gboolean
ld_gen_register(Loader *ld, const LdGenerate *g, GError **error)
{
    gint64 di = 0, dk = 0, si = 0, sk = 0;
    const K8sPos *dfirst =
        ld_name_range_taken(ld, "deployments", g->ns, g->prefix, g->count, 1, &di, &dk);
    const K8sPos *sfirst = g->per_deployment > 0
                               ? ld_name_range_taken(ld, "services", g->ns, g->prefix, g->count,
                                                     g->per_deployment, &si, &sk)
                               : NULL;
    if (dfirst != NULL && (sfirst == NULL || di <= si)) {
        g_autoptr(GString) name = g_string_new(NULL);
        ld_gen_name(name, g->prefix, di, 1);
        return ld_name_exists(error, g->deployments_at, "deployments", g->ns, name->str, dfirst);
    }
    if (sfirst != NULL) {
        g_autoptr(GString) name = g_string_new(NULL);
        ld_gen_name(name, g->prefix, si, sk);
        return ld_name_exists(error, g->services_at, "services", g->ns, name->str, sfirst);
    }
    ld_register_name_range(ld, "deployments", g->ns, g->prefix, g->count, 1, g->deployments_at);
    if (g->per_deployment > 0)
        ld_register_name_range(ld, "services", g->ns, g->prefix, g->count, g->per_deployment,
                               g->services_at);
    return TRUE;
}

/* Adds g's objects to the scenario once their names are registered. Deployment i's matchLabels
 * and template labels and its Services' selectors share one table (copied before any change,
 * see model/k8s.h). */
static gboolean
ld_gen_objects(Loader *ld, const LdGenerate *g, GError **error)
{
    if (!ld_gen_register(ld, g, error))
        return FALSE;
    gint64 next_node_port = g->node_port_base;
    g_autoptr(GString) dname = g_string_sized_new(64);
    g_autoptr(GString) sname = g_string_sized_new(64);
    for (gint64 i = 1; i <= g->count; i++) {
        ld_gen_name(dname, g->prefix, i, 1);
        g_autoptr(GHashTable) labels = ld_gen_app_labels(dname->str);
        g_ptr_array_add(ld->sc->deployments, ld_gen_deployment(g, dname->str, labels));
        for (gint64 k = 1; k <= g->per_deployment; k++) {
            ld_gen_name(sname, g->prefix, i, k);
            g_ptr_array_add(ld->sc->services,
                            ld_gen_service(g, sname->str, labels, &next_node_port));
        }
    }
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_generate(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"deployments", "services", NULL};
    if (yt_is_null(n))
        return TRUE;
    if (!ld_expect_map(n, path, error) || !ld_check_fields(n, fields, "Scenario", path, error))
        return FALSE;
    const YtNode *deployments = yt_map_get(n, "deployments");
    const YtNode *services = yt_map_get(n, "services");
    if (yt_is_null(deployments)) {
        g_autofree char *dp = ld_path(path, "deployments");
        return ld_fail(error, n, "%s: Required value", dp);
    }
    LdGenerate g = {0};
    g_autofree char *dp = ld_path(path, "deployments"), *sp = ld_path(path, "services");
    gboolean ok = ld_gen_deployments(deployments, dp, &g, error);
    if (ok && !yt_is_null(services))
        ok = ld_gen_services(services, sp, &g, error);
    else
        g.services_at = deployments; /* per_deployment stays 0 */
    ok = ok && ld_gen_check(ld, &g, path, error) && ld_gen_objects(ld, &g, error);
    ld_generate_clear(&g);
    return ok;
}
