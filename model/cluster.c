/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane's work on a loaded scenario: node pod CIDRs, Service validation and
 * allocation, Deployment pods, scheduling, pod IPs and EndpointSlices, plus lookups.
 *
 * Stands in for kube-controller-manager's node IPAM (range allocator: a /24, or /64 for IPv6,
 * per node in node order from clusterCIDR), kube-apiserver's Service validation and allocators
 * (model/allocator.c), the Deployment/ReplicaSet controllers (pods named
 * "<deployment>-<pod-template-hash>-<5 random chars>"), kube-scheduler's default spreading (fewest
 * pods of the same owner, then fewest pods, ties broken at random), the host-local IPAM of a
 * bridge CNI (pod IPs from .2 upward; .1 is the node's gateway), the node lifecycle
 * controller's rule that pods on a NotReady node are not Ready, and the EndpointSlice controller
 * (model/endpointslice_controller.c). Everything is decided once, at build time, from SimRng
 * streams of the scenario's seed. Left out: resource requests, taints and tolerations, affinity,
 * ReplicaSet objects and rollout history.
 */
#include "model/cluster.h"

#include <string.h>

#include "model/allocator.h"
#include "model/endpointslice_controller.h"
#include "model/loader.h"

/* Characters the apiserver and the ReplicaSet controller use in generated names
 * (k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable digits). */
#define CLUSTER_NAME_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
/* generateName keeps at most this many characters of the base (maxGeneratedNameLength). */
#define CLUSTER_MAX_GENERATE_BASE 58

/* The working state of one cluster_build() call. */
typedef struct {
    Cluster *c;
    const Scenario *sc;
    GHashTable *node_by_name; /* char* (node's) -> K8sNode* */
    GHashTable *node_index;   /* K8sNode* -> index + 1 */
    guint *pods_on_node;      /* pods per node, by node index */
    guint *group_on_node;     /* scratch: the scheduled pod's group per node, else all 0 */
    gboolean *schedulable;    /* Ready and schedulable, by node index */
    guint64 *next_ip;         /* host-local's next offset in each node's pod CIDR */
    GHashTable *groups;       /* char* spread group -> GArray of guint node indices */
    GHashTable *pod_by_ip;    /* SimAddr* (pod's) -> K8sPod* */
    GHashTable *pod_names;    /* "ns/name" (owned) -> K8sPod* */
    SimRng sched_rng;
} ClusterBuild;

/* ---------------------------------------------------------------- errors */

/* Sets error to "FILE:LINE:COL: error: MESSAGE" at pos (the scenario file when pos has none).
 * Returns FALSE. */
static gboolean G_GNUC_PRINTF(4, 5)
    cluster_fail(GError **error, const Scenario *sc, const K8sPos *pos, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    const char *file = pos->file != NULL ? pos->file : sc->file;
    g_set_error(error, LOADER_ERROR, LOADER_ERROR_INVALID, "%s:%u:%u: error: %s", file, pos->line,
                pos->column, msg);
    return FALSE;
}

/* Appends "FILE:LINE:COL: warning: MESSAGE" to the cluster's warnings. */
static void G_GNUC_PRINTF(3, 4)
    cluster_warn(ClusterBuild *b, const K8sPos *pos, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    const char *file = pos->file != NULL ? pos->file : b->sc->file;
    g_ptr_array_add(b->c->warnings,
                    g_strdup_printf("%s:%u:%u: warning: %s", file, pos->line, pos->column, msg));
}

/* ---------------------------------------------------------------- nodes */

/* addr + (index << shift) for an address of either family; FALSE on overflow of the address. */
static gboolean
cluster_addr_add_shifted(const SimAddr *addr, guint64 index, guint shift, SimAddr *out)
{
    guint len = addr->family == SIM_AF_INET6 ? 16 : 4;
    *out = *addr;
    /* Add index << shift byte by byte from the least significant end, carrying upward. */
    guint carry = 0;
    for (guint k = 0; k < len; k++) {
        guint bit = 8 * k; /* weight of byte len-1-k */
        guint64 part = 0;
        if (bit + 8 > shift && bit < shift + 64) {
            gint rel = (gint)bit - (gint)shift;
            part = rel >= 0 ? (index >> rel) & 0xff : (index << -rel) & 0xff;
        }
        guint sum = out->b[len - 1 - k] + (guint)part + carry;
        out->b[len - 1 - k] = (guint8)sum;
        carry = sum >> 8;
    }
    return carry == 0;
}

/* TRUE when the two prefixes share an address. */
static gboolean
cluster_cidrs_overlap(const SimCidr *a, const SimCidr *b)
{
    return sim_cidr_contains(a, &b->addr) || sim_cidr_contains(b, &a->addr);
}

/* TRUE when slot overlaps one of the pod CIDRs (SimCidr) that nodes state. */
static gboolean
cluster_pod_cidr_taken(const GArray *stated, const SimCidr *slot)
{
    for (guint i = 0; i < stated->len; i++) {
        if (cluster_cidrs_overlap(&g_array_index(stated, SimCidr, i), slot))
            return TRUE;
    }
    return FALSE;
}

/* The node IPAM range allocator: every node without a pod CIDR gets the next free /24 (/64 for
 * IPv6) of clusterCIDR, in node order; CIDRs that nodes state are skipped. */
static gboolean
cluster_assign_pod_cidrs(ClusterBuild *b, GError **error)
{
    const SimCidr *cc = &b->sc->cluster_cidr;
    guint node_prefix = cc->addr.family == SIM_AF_INET6 ? 64 : 24;
    guint64 slots = 0;
    if (cc->addr.family != SIM_AF_NONE && cc->prefix <= node_prefix)
        slots = node_prefix - cc->prefix >= 63
                    ? G_MAXUINT64
                    : G_GUINT64_CONSTANT(1) << (node_prefix - cc->prefix);
    guint shift = (cc->addr.family == SIM_AF_INET6 ? 128 : 32) - node_prefix;
    g_autoptr(GArray) stated = g_array_new(FALSE, FALSE, sizeof(SimCidr));
    for (guint i = 0; i < b->c->nodes->len; i++) {
        const K8sNode *n = b->c->nodes->pdata[i];
        if (n->pod_cidr.addr.family != SIM_AF_NONE)
            g_array_append_val(stated, n->pod_cidr);
    }
    char buf[SIM_CIDR_STRLEN];
    guint64 next = 0;
    for (guint i = 0; i < b->c->nodes->len; i++) {
        K8sNode *n = b->c->nodes->pdata[i];
        if (n->pod_cidr.addr.family != SIM_AF_NONE)
            continue;
        SimCidr slot = {.prefix = (guint8)node_prefix};
        gboolean found = FALSE;
        for (; next < slots && !found; next++)
            found = cluster_addr_add_shifted(&cc->addr, next, shift, &slot.addr) &&
                    !cluster_pod_cidr_taken(stated, &slot);
        if (!found)
            return cluster_fail(error, b->sc, &n->pos,
                                "node \"%s\" gets no pod CIDR: clusterCIDR %s has no free /%u "
                                "left for it (CIDRNotAvailable)",
                                n->name, sim_cidr_to_string(cc, buf), node_prefix);
        n->pod_cidr = slot;
    }
    return TRUE;
}

/* Indexes the nodes by name and rejects duplicate names and addresses. */
static gboolean
cluster_index_nodes(ClusterBuild *b, GError **error)
{
    g_autoptr(GHashTable) by_addr = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < b->c->nodes->len; i++) {
        K8sNode *n = b->c->nodes->pdata[i];
        if (g_hash_table_contains(b->node_by_name, n->name))
            return cluster_fail(error, b->sc, &n->pos, "nodes \"%s\" already exists", n->name);
        g_hash_table_insert(b->node_by_name, n->name, n);
        g_hash_table_insert(b->node_index, n, GUINT_TO_POINTER(i + 1));
        for (guint a = 0; a < n->addresses->len; a++) {
            SimAddr *addr = &g_array_index(n->addresses, SimAddr, a);
            const K8sNode *other = g_hash_table_lookup(by_addr, addr);
            if (other != NULL)
                return cluster_fail(error, b->sc, &n->pos,
                                    "node \"%s\": address %s is already the address of node \"%s\"",
                                    n->name, sim_addr_to_string(addr, buf), other->name);
            g_hash_table_insert(by_addr, addr, n);
        }
    }
    return TRUE;
}

/* The index of node in c->nodes. */
static guint
cluster_node_index(const ClusterBuild *b, const K8sNode *node)
{
    guint i = GPOINTER_TO_UINT(g_hash_table_lookup(b->node_index, node));
    g_assert(i > 0);
    return i - 1;
}

/* ---------------------------------------------------------------- Service validation */

/* Why name is not an RFC 1123 label (IsDNS1123Label), or NULL when it is one. */
static const char *
cluster_dns_label_problem(const char *name)
{
    gsize len = strlen(name);
    if (len > 63)
        return "must be no more than 63 characters";
    gboolean ok = len > 0 && g_ascii_isalnum(name[0]) && !g_ascii_isupper(name[0]) &&
                  g_ascii_isalnum(name[len - 1]) && !g_ascii_isupper(name[len - 1]);
    for (gsize i = 0; ok && i < len; i++)
        ok = g_ascii_isdigit(name[i]) || g_ascii_islower(name[i]) || name[i] == '-';
    if (ok)
        return NULL;
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
           "and must start and end with an alphanumeric character (e.g. 'my-name',  or "
           "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
}

/* Why name is not an IANA service name usable as a named port (IsValidPortName), or NULL. */
static const char *
cluster_port_name_problem(const char *name)
{
    gsize len = strlen(name);
    if (len < 1 || len > 15)
        return "must be no more than 15 characters";
    gboolean letter = FALSE;
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isdigit(name[i]) && !g_ascii_islower(name[i]) && name[i] != '-')
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        letter = letter || g_ascii_islower(name[i]);
    }
    if (!letter)
        return "must contain at least one letter (a-z)";
    if (strstr(name, "--") != NULL)
        return "must not contain consecutive hyphens";
    if (name[0] == '-' || name[len - 1] == '-')
        return "must not begin or end with a hyphen";
    return NULL;
}

/* Sets error to kubectl's "The Service \"x\" is invalid: " + message at pos. Returns FALSE. */
static gboolean G_GNUC_PRINTF(5, 6)
    cluster_service_fail(GError **error, const Scenario *sc, const K8sService *svc,
                         const K8sPos *pos, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    const K8sPos *at = pos->line != 0 ? pos : &svc->meta.pos;
    return cluster_fail(error, sc, at, "The Service \"%s\" is invalid: %s", svc->meta.name, msg);
}

/* validateServicePort for ports[i]: name, port number, protocol and targetPort. Also applies
 * the targetPort default (targetPort 0 means the same as port). */
static gboolean
cluster_validate_service_port(const Scenario *sc, const K8sService *svc, guint i, GError **error)
{
    K8sServicePort *p = svc->ports->pdata[i];
    const char *name = p->name != NULL ? p->name : "";
    if (name[0] == '\0' && svc->ports->len > 1)
        return cluster_service_fail(error, sc, svc, &p->pos, "spec.ports[%u].name: Required value",
                                    i);
    const char *problem = name[0] != '\0' ? cluster_dns_label_problem(name) : NULL;
    if (problem != NULL)
        return cluster_service_fail(error, sc, svc, &p->pos,
                                    "spec.ports[%u].name: Invalid value: \"%s\": %s", i, name,
                                    problem);
    for (guint j = 0; j < i && name[0] != '\0'; j++) {
        if (g_strcmp0(((K8sServicePort *)svc->ports->pdata[j])->name, name) == 0)
            return cluster_service_fail(error, sc, svc, &p->pos,
                                        "spec.ports[%u].name: Duplicate value: \"%s\"", i, name);
    }
    if (p->port == 0)
        return cluster_service_fail(error, sc, svc, &p->pos,
                                    "spec.ports[%u].port: Invalid value: 0: must be between 1 and "
                                    "65535, inclusive",
                                    i);
    if (p->protocol != SIM_PROTO_TCP && p->protocol != SIM_PROTO_UDP &&
        p->protocol != SIM_PROTO_SCTP)
        return cluster_service_fail(error, sc, svc, &p->pos,
                                    "spec.ports[%u].protocol: Unsupported value: \"%s\": supported "
                                    "values: \"SCTP\", \"TCP\", \"UDP\"",
                                    i, sim_proto_k8s_name(p->protocol));
    if (p->target_port_name != NULL) {
        problem = cluster_port_name_problem(p->target_port_name);
        if (problem != NULL)
            return cluster_service_fail(error, sc, svc, &p->pos,
                                        "spec.ports[%u].targetPort: Invalid value: \"%s\": %s", i,
                                        p->target_port_name, problem);
    } else if (p->target_port == 0) {
        p->target_port = p->port;
    }
    return TRUE;
}

/* The port-list checks of ValidateService: duplicate (protocol, port) pairs, duplicate
 * (protocol, nodePort) pairs, and nodePorts on a ClusterIP Service. */
static gboolean
cluster_validate_service_port_sets(const Scenario *sc, const K8sService *svc, GError **error)
{
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *p = svc->ports->pdata[i];
        for (guint j = 0; j < i; j++) {
            const K8sServicePort *q = svc->ports->pdata[j];
            if (q->protocol == p->protocol && q->port == p->port)
                return cluster_service_fail(
                    error, sc, svc, &p->pos,
                    "spec.ports[%u]: Duplicate value: core.ServicePort{Name:\"\", "
                    "Protocol:\"%s\", AppProtocol:(*string)(nil), Port:%u, "
                    "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
                    i, sim_proto_k8s_name(p->protocol), (guint)p->port);
        }
    }
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *p = svc->ports->pdata[i];
        const K8sPos *pos = p->node_port_pos.line != 0 ? &p->node_port_pos : &p->pos;
        if (p->node_port == 0)
            continue;
        if (svc->type == K8S_SVC_CLUSTER_IP)
            return cluster_service_fail(error, sc, svc, pos,
                                        "spec.ports[%u].nodePort: Forbidden: may not be used when "
                                        "`type` is 'ClusterIP'",
                                        i);
        for (guint j = 0; j < i; j++) {
            const K8sServicePort *q = svc->ports->pdata[j];
            if (q->protocol == p->protocol && q->node_port == p->node_port)
                return cluster_service_fail(error, sc, svc, pos,
                                            "spec.ports[%u].nodePort: Duplicate value: %u", i,
                                            (guint)p->node_port);
        }
    }
    return TRUE;
}

/* The parts of ValidateService that do not depend on other objects. */
static gboolean
cluster_validate_service(const Scenario *sc, K8sService *svc, GError **error)
{
    const K8sPos *pos = &svc->meta.pos;
    if (svc->type == K8S_SVC_EXTERNAL_NAME) {
        if (svc->cluster_ips->len > 0)
            return cluster_service_fail(error, sc, svc, &svc->cluster_ip_pos,
                                        "spec.clusterIPs: Forbidden: may not be set for "
                                        "ExternalName services");
        if (svc->external_name == NULL || svc->external_name[0] == '\0')
            return cluster_service_fail(error, sc, svc, &svc->type_pos,
                                        "spec.externalName: Required value");
    }
    if (svc->cluster_ip_none &&
        (svc->type == K8S_SVC_NODE_PORT || svc->type == K8S_SVC_LOAD_BALANCER))
        return cluster_service_fail(error, sc, svc, &svc->cluster_ip_pos,
                                    "spec.clusterIPs[0]: Invalid value: \"None\": may not be set "
                                    "to 'None' for %s services",
                                    k8s_service_type_name(svc->type));
    if (svc->ports->len == 0 && !svc->cluster_ip_none && svc->type != K8S_SVC_EXTERNAL_NAME)
        return cluster_service_fail(error, sc, svc, pos, "spec.ports: Required value");
    for (guint i = 0; i < svc->ports->len; i++) {
        if (!cluster_validate_service_port(sc, svc, i, error))
            return FALSE;
    }
    return cluster_validate_service_port_sets(sc, svc, error);
}

/* Validates every Service, then reserves every stated clusterIP and nodePort, then allocates
 * the rest, all in scenario order. */
static gboolean
cluster_build_services(ClusterBuild *b, GError **error)
{
    GPtrArray *services = b->c->services;
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < services->len; i++) {
        K8sService *svc = services->pdata[i];
        char *key = g_strdup_printf("%s/%s", svc->meta.namespace_, svc->meta.name);
        if (!g_hash_table_add(names, key))
            return cluster_fail(error, b->sc, &svc->meta.pos, "services \"%s\" already exists",
                                svc->meta.name);
        if (!cluster_validate_service(b->sc, svc, error))
            return FALSE;
    }
    g_autoptr(AllocServices) alloc = alloc_services_new(b->sc->service_cidrs, b->sc->node_port_low,
                                                        b->sc->node_port_high, b->sc->seed);
    for (guint i = 0; i < services->len; i++) {
        if (!alloc_services_reserve(alloc, services->pdata[i], error))
            return FALSE;
    }
    for (guint i = 0; i < services->len; i++) {
        if (!alloc_services_allocate(alloc, services->pdata[i], error))
            return FALSE;
    }
    return TRUE;
}

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
static char *
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

/* A deep copy of a container. (transfer full) */
static K8sContainer *
cluster_container_copy(const K8sContainer *src)
{
    K8sContainer *c = k8s_container_new();
    c->name = g_strdup(src->name);
    for (guint i = 0; src->ports != NULL && i < src->ports->len; i++) {
        K8sContainerPort cp = g_array_index(src->ports, K8sContainerPort, i);
        cp.name = g_strdup(cp.name);
        g_array_append_val(c->ports, cp);
    }
    return c;
}

/* A new pod of deployment d called name: the template's labels plus pod-template-hash, its
 * containers, grace period and nodeName. (transfer full) */
static K8sPod *
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
                        cluster_container_copy(d->template_.containers->pdata[i]));
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
    g_autofree char *key = g_strdup_printf("%s/%s", ns, name);
    return g_hash_table_contains(b->pod_names, key);
}

/* Registers pod's "ns/name"; FALSE when a pod of that name exists. */
static gboolean
cluster_add_pod_name(ClusterBuild *b, K8sPod *pod)
{
    char *key = g_strdup_printf("%s/%s", pod->meta.namespace_, pod->meta.name);
    if (g_hash_table_contains(b->pod_names, key)) {
        g_free(key);
        return FALSE;
    }
    g_hash_table_insert(b->pod_names, key, pod);
    return TRUE;
}

/* Validates every Deployment and appends its replicas to the cluster's pods, named
 * "<deployment>-<pod-template-hash>-<5 chars>" with the suffix drawn from the stream
 * "deployment/<name>". */
static gboolean
cluster_build_deployments(ClusterBuild *b, GError **error)
{
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < b->c->deployments->len; i++) {
        const K8sDeployment *d = b->c->deployments->pdata[i];
        char *key = g_strdup_printf("%s/%s", d->meta.namespace_, d->meta.name);
        if (!g_hash_table_add(names, key))
            return cluster_fail(error, b->sc, &d->meta.pos,
                                "deployments.apps \"%s\" already exists", d->meta.name);
        if (!cluster_validate_deployment(b->sc, d, error))
            return FALSE;
        g_autofree char *hash = cluster_pod_template_hash(d);
        g_autofree char *base = g_strdup_printf("%s-%s-", d->meta.name, hash);
        g_autofree char *stream = g_strdup_printf("deployment/%s", d->meta.name);
        SimRng rng;
        sim_rng_init(&rng, b->sc->seed, stream);
        for (gint r = 0; r < d->replicas; r++) {
            g_autofree char *name = NULL;
            do {
                g_free(name);
                name = cluster_generate_name(base, &rng);
            } while (cluster_pod_name_taken(b, d->meta.namespace_, name));
            K8sPod *pod = cluster_deployment_pod(d, name, hash);
            cluster_add_pod_name(b, pod);
            g_ptr_array_add(b->c->pods, pod);
        }
    }
    return TRUE;
}

/* ---------------------------------------------------------------- pods: scheduling and IPs */

/* The scheduler's spread group of pod: its owner, or, for a bare pod, its namespace and labels.
 * (transfer full) */
static char *
cluster_spread_group(const K8sPod *pod)
{
    if (pod->owner != NULL)
        return g_strdup_printf("owner:%s/%s", pod->meta.namespace_, pod->owner);
    g_autofree char *labels = k8s_labels_to_string(pod->meta.labels);
    return g_strdup_printf("labels:%s/%s", pod->meta.namespace_, labels);
}

/* TRUE when the scheduler may place pods on node. */
static gboolean
cluster_node_schedulable(const K8sNode *node)
{
    return node->ready && !node->unschedulable;
}

/* The node index of every pod of pod's spread group placed so far (one entry per pod),
 * created on first use. Sparse, so 10,000 groups over 5,000 nodes cost only their pods.
 * (transfer none) */
static GArray *
cluster_group(ClusterBuild *b, const K8sPod *pod)
{
    char *key = cluster_spread_group(pod);
    GArray *placed = g_hash_table_lookup(b->groups, key);
    if (placed != NULL) {
        g_free(key);
        return placed;
    }
    placed = g_array_new(FALSE, FALSE, sizeof(guint));
    g_hash_table_insert(b->groups, key, placed);
    return placed;
}

/* The node for pod: among Ready, schedulable nodes, the one with the fewest pods of pod's
 * spread group, then the fewest pods; ties drawn from the "scheduler" stream. NULL when no node
 * is eligible. Cost: O(nodes + pods of the group). */
static K8sNode *
cluster_schedule(ClusterBuild *b, const K8sPod *pod)
{
    GArray *placed = cluster_group(b, pod);
    guint *group = b->group_on_node;
    for (guint k = 0; k < placed->len; k++)
        group[g_array_index(placed, guint, k)]++;
    guint n = b->c->nodes->len, best_group = G_MAXUINT, best_total = G_MAXUINT, ties = 0;
    for (guint i = 0; i < n; i++) {
        guint g = group[i], t = b->pods_on_node[i];
        if (!b->schedulable[i] || g > best_group || (g == best_group && t > best_total))
            continue;
        ties = (g == best_group && t == best_total) ? ties + 1 : 1;
        best_group = g;
        best_total = t;
    }
    K8sNode *chosen = NULL;
    guint pick = ties > 1 ? (guint)sim_rng_below(&b->sched_rng, ties) : 0;
    for (guint i = 0; i < n && ties > 0 && chosen == NULL; i++) {
        if (b->schedulable[i] && group[i] == best_group && b->pods_on_node[i] == best_total &&
            pick-- == 0)
            chosen = b->c->nodes->pdata[i];
    }
    for (guint k = 0; k < placed->len; k++)
        group[g_array_index(placed, guint, k)] = 0;
    return chosen;
}

/* host-local IPAM: the lowest free address of the node's pod CIDR from offset 2 upward (the
 * network address and the gateway .1 are never handed out, nor the IPv4 broadcast address).
 * FALSE when the range is exhausted. */
static gboolean
cluster_next_pod_ip(ClusterBuild *b, const K8sNode *node, SimAddr *out)
{
    guint i = cluster_node_index(b, node);
    guint64 size = sim_cidr_size(&node->pod_cidr);
    guint64 last = node->pod_cidr.addr.family == SIM_AF_INET ? size - 2 : size - 1;
    if (size < 4)
        return FALSE;
    for (; b->next_ip[i] <= last; b->next_ip[i]++) {
        if (!sim_cidr_nth(&node->pod_cidr, b->next_ip[i], out))
            return FALSE;
        if (!g_hash_table_contains(b->pod_by_ip, out)) {
            b->next_ip[i]++;
            return TRUE;
        }
    }
    return FALSE;
}

/* Binds pod to node: counts it for spreading, gives it an IP when it has none, and marks it not
 * Ready when the node is NotReady or no IP was left. */
static void
cluster_place_pod(ClusterBuild *b, K8sPod *pod, K8sNode *node)
{
    guint i = cluster_node_index(b, node);
    if (g_strcmp0(pod->node_name, node->name) != 0) {
        g_free(pod->node_name);
        pod->node_name = g_strdup(node->name);
    }
    b->pods_on_node[i]++;
    g_array_append_val(cluster_group(b, pod), i);
    if (pod->ip.family == SIM_AF_NONE) {
        if (cluster_next_pod_ip(b, node, &pod->ip)) {
            g_hash_table_insert(b->pod_by_ip, &pod->ip, pod);
        } else {
            char buf[SIM_CIDR_STRLEN];
            cluster_warn(b, &pod->meta.pos,
                         "pod \"%s\" on node \"%s\" gets no IP: no IP addresses available in "
                         "range %s",
                         pod->meta.name, node->name, sim_cidr_to_string(&node->pod_cidr, buf));
            pod->ready = FALSE;
        }
    }
    if (!node->ready)
        pod->ready = FALSE;
}

/* Checks every pod's nodeName and reserves every pod IP a scenario states. */
static gboolean
cluster_check_pods(ClusterBuild *b, GError **error)
{
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < b->c->pods->len; i++) {
        K8sPod *pod = b->c->pods->pdata[i];
        const char *want = pod->node_name != NULL ? pod->node_name : pod->spec.node_name;
        if (want != NULL && !g_hash_table_contains(b->node_by_name, want))
            return cluster_fail(error, b->sc, &pod->meta.pos,
                                "pod \"%s\": spec.nodeName: node \"%s\" does not exist",
                                pod->meta.name, want);
        if (pod->ip.family == SIM_AF_NONE)
            continue;
        const K8sPod *other = g_hash_table_lookup(b->pod_by_ip, &pod->ip);
        if (other != NULL)
            return cluster_fail(error, b->sc, &pod->meta.pos,
                                "pod \"%s\": status.podIP %s is already the IP of pod \"%s\"",
                                pod->meta.name, sim_addr_to_string(&pod->ip, buf),
                                other->meta.name);
        g_hash_table_insert(b->pod_by_ip, &pod->ip, pod);
    }
    return TRUE;
}

/* Warns about pods the scheduler could not place: one warning per Deployment, one per bare
 * pod. */
static void
cluster_warn_pending(ClusterBuild *b, GHashTable *pending_by_owner)
{
    GPtrArray *pods = b->c->pods;
    guint nodes = b->c->nodes->len;
    for (guint i = 0; i < b->c->deployments->len; i++) {
        const K8sDeployment *d = b->c->deployments->pdata[i];
        g_autofree char *key = g_strdup_printf("%s/%s", d->meta.namespace_, d->meta.name);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(pending_by_owner, key));
        if (n > 0)
            cluster_warn(b, &d->meta.pos,
                         "Deployment \"%s\": %u of %d pods stay Pending: 0/%u nodes are "
                         "available (no node is Ready and schedulable)",
                         d->meta.name, n, d->replicas, nodes);
    }
    for (guint i = 0; i < pods->len; i++) {
        const K8sPod *pod = pods->pdata[i];
        if (pod->owner == NULL && pod->node_name == NULL)
            cluster_warn(b, &pod->meta.pos,
                         "pod \"%s\" stays Pending: 0/%u nodes are available (no node is Ready "
                         "and schedulable)",
                         pod->meta.name, nodes);
    }
}

/* Places every pod: first those whose nodeName is given, then the others one at a time through
 * the scheduler, each getting its IP as it is placed. Pods left without a node are Pending: no
 * IP (unless stated) and not Ready. */
static gboolean
cluster_build_pods(ClusterBuild *b, GError **error)
{
    if (!cluster_check_pods(b, error))
        return FALSE;
    GPtrArray *pods = b->c->pods;
    for (guint i = 0; i < pods->len; i++) {
        K8sPod *pod = pods->pdata[i];
        const char *want = pod->node_name != NULL ? pod->node_name : pod->spec.node_name;
        if (want != NULL)
            cluster_place_pod(b, pod, g_hash_table_lookup(b->node_by_name, want));
    }
    g_autoptr(GHashTable) pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < pods->len; i++) {
        K8sPod *pod = pods->pdata[i];
        if (pod->node_name != NULL)
            continue;
        K8sNode *node = cluster_schedule(b, pod);
        if (node != NULL) {
            cluster_place_pod(b, pod, node);
            continue;
        }
        pod->ready = FALSE;
        if (pod->owner == NULL)
            continue;
        char *key = g_strdup_printf("%s/%s", pod->meta.namespace_, pod->owner);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(pending, key));
        g_hash_table_insert(pending, key, GUINT_TO_POINTER(n + 1));
    }
    cluster_warn_pending(b, pending);
    return TRUE;
}

/* ---------------------------------------------------------------- build */

/* Moves the objects of array *from into a new array with the same free function, leaving an
 * empty array (with that free function) in *from. (transfer full) */
static GPtrArray *
cluster_steal_array(GPtrArray **from, GDestroyNotify free_func)
{
    GPtrArray *taken = g_steal_pointer(from);
    *from = g_ptr_array_new_with_free_func(free_func);
    return taken;
}

/* Registers the names of the scenario's pods; duplicates are errors. */
static gboolean
cluster_index_pods(ClusterBuild *b, GError **error)
{
    for (guint i = 0; i < b->c->pods->len; i++) {
        K8sPod *pod = b->c->pods->pdata[i];
        if (!cluster_add_pod_name(b, pod))
            return cluster_fail(error, b->sc, &pod->meta.pos, "pods \"%s\" already exists",
                                pod->meta.name);
    }
    return TRUE;
}

/* Releases the working state of a build (not the cluster). */
static void
cluster_build_clear(ClusterBuild *b)
{
    g_clear_pointer(&b->node_by_name, g_hash_table_unref);
    g_clear_pointer(&b->node_index, g_hash_table_unref);
    g_clear_pointer(&b->groups, g_hash_table_unref);
    g_clear_pointer(&b->group_on_node, g_free);
    g_clear_pointer(&b->schedulable, g_free);
    g_clear_pointer(&b->pod_by_ip, g_hash_table_unref);
    g_clear_pointer(&b->pod_names, g_hash_table_unref);
    g_clear_pointer(&b->pods_on_node, g_free);
    g_clear_pointer(&b->next_ip, g_free);
}

/* Runs the controllers in the order a cluster comes up: node IPAM, the apiserver's Service
 * admission, the Deployment controller, the scheduler with kubelet/IPAM, the EndpointSlice
 * controller. */
static gboolean
cluster_build_run(ClusterBuild *b, GError **error)
{
    guint nodes = b->c->nodes->len;
    b->pods_on_node = g_new0(guint, MAX(nodes, 1));
    b->group_on_node = g_new0(guint, MAX(nodes, 1));
    b->schedulable = g_new0(gboolean, MAX(nodes, 1));
    for (guint i = 0; i < nodes; i++)
        b->schedulable[i] = cluster_node_schedulable(b->c->nodes->pdata[i]);
    b->next_ip = g_new0(guint64, MAX(nodes, 1));
    for (guint i = 0; i < nodes; i++)
        b->next_ip[i] = 2;
    if (!cluster_index_nodes(b, error) || !cluster_assign_pod_cidrs(b, error))
        return FALSE;
    if (!cluster_build_services(b, error))
        return FALSE;
    if (!cluster_index_pods(b, error) || !cluster_build_deployments(b, error))
        return FALSE;
    if (!cluster_build_pods(b, error))
        return FALSE;
    SimRng rng;
    sim_rng_init(&rng, b->sc->seed, "endpointslice");
    endpointslice_controller_sync_all(b->c, &rng, b->c->warnings);
    return TRUE;
}

/* Builds the cluster from sc; see cluster.h. On error the objects moved out of sc are freed
 * with the half-built cluster. (transfer full) */
Cluster *
cluster_build(Scenario *sc, GError **error)
{
    g_return_val_if_fail(sc != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    Cluster *c = g_new0(Cluster, 1);
    c->scenario = sc;
    c->nodes = g_ptr_array_ref(sc->nodes);
    c->services = cluster_steal_array(&sc->services, (GDestroyNotify)k8s_service_free);
    c->deployments = cluster_steal_array(&sc->deployments, (GDestroyNotify)k8s_deployment_free);
    c->pods = cluster_steal_array(&sc->pods, (GDestroyNotify)k8s_pod_free);
    c->slices = cluster_steal_array(&sc->slices, (GDestroyNotify)k8s_endpoint_slice_free);
    c->proxy = &sc->proxy;
    c->warnings = g_ptr_array_new_with_free_func(g_free);
    c->now = 0;

    ClusterBuild b = {.c = c, .sc = sc};
    b.node_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    b.node_index = g_hash_table_new(g_direct_hash, g_direct_equal);
    b.groups =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    b.pod_by_ip = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    b.pod_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sim_rng_init(&b.sched_rng, sc->seed, "scheduler");
    gboolean ok = cluster_build_run(&b, error);
    cluster_build_clear(&b);
    if (!ok) {
        cluster_free(c);
        return NULL;
    }
    return c;
}

/* Frees the cluster and the objects it owns; the nodes stay the scenario's. NULL-safe. */
void
cluster_free(Cluster *c)
{
    if (c == NULL)
        return;
    g_clear_pointer(&c->nodes, g_ptr_array_unref);
    g_clear_pointer(&c->pods, g_ptr_array_unref);
    g_clear_pointer(&c->deployments, g_ptr_array_unref);
    g_clear_pointer(&c->services, g_ptr_array_unref);
    g_clear_pointer(&c->slices, g_ptr_array_unref);
    g_clear_pointer(&c->warnings, g_ptr_array_unref);
    g_free(c);
}

/* ---------------------------------------------------------------- lookups */

/* The node called name, or NULL. Cost: O(nodes). (transfer none) */
K8sNode *
cluster_find_node(const Cluster *c, const char *name)
{
    g_return_val_if_fail(c != NULL, NULL);
    for (guint i = 0; name != NULL && i < c->nodes->len; i++) {
        K8sNode *n = c->nodes->pdata[i];
        if (g_strcmp0(n->name, name) == 0)
            return n;
    }
    return NULL;
}

/* The Service ns/name, or NULL. Cost: O(services). (transfer none) */
K8sService *
cluster_find_service(const Cluster *c, const char *ns, const char *name)
{
    g_return_val_if_fail(c != NULL, NULL);
    for (guint i = 0; i < c->services->len; i++) {
        K8sService *s = c->services->pdata[i];
        if (g_strcmp0(s->meta.name, name) == 0 && g_strcmp0(s->meta.namespace_, ns) == 0)
            return s;
    }
    return NULL;
}

/* The pod whose IP is ip, or NULL. Cost: O(pods). (transfer none) */
K8sPod *
cluster_find_pod_by_ip(const Cluster *c, const SimAddr *ip)
{
    g_return_val_if_fail(c != NULL && ip != NULL, NULL);
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *p = c->pods->pdata[i];
        if (sim_addr_equal(&p->ip, ip))
            return p;
    }
    return NULL;
}

/* Orders EndpointSlices by name. */
static gint
cluster_slice_name_compare(gconstpointer a, gconstpointer b)
{
    const K8sEndpointSlice *x = *(K8sEndpointSlice *const *)a;
    const K8sEndpointSlice *y = *(K8sEndpointSlice *const *)b;
    return g_strcmp0(x->meta.name, y->meta.name);
}

/* The slices labelled with svc's name in svc's namespace, sorted by name. Cost: O(slices).
 * (transfer container) */
GPtrArray *
cluster_service_slices(const Cluster *c, const K8sService *svc)
{
    g_return_val_if_fail(c != NULL && svc != NULL, NULL);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < c->slices->len; i++) {
        K8sEndpointSlice *s = c->slices->pdata[i];
        if (g_strcmp0(s->service_name, svc->meta.name) == 0 &&
            g_strcmp0(s->meta.namespace_, svc->meta.namespace_) == 0)
            g_ptr_array_add(out, s);
    }
    g_ptr_array_sort(out, cluster_slice_name_compare);
    return out;
}

/* TRUE when addr is one of node's addresses or a loopback address (127.0.0.0/8, ::1). */
gboolean
cluster_node_is_local(const Cluster *c, const K8sNode *node, const SimAddr *addr)
{
    g_return_val_if_fail(node != NULL && addr != NULL, FALSE);
    if (sim_addr_is_loopback(addr))
        return TRUE;
    for (guint i = 0; i < node->addresses->len; i++) {
        if (sim_addr_equal(&g_array_index(node->addresses, SimAddr, i), addr))
            return TRUE;
    }
    return FALSE;
}

/* The node whose pod CIDR contains addr, or NULL. Cost: O(nodes). (transfer none) */
K8sNode *
cluster_node_for_pod_ip(const Cluster *c, const SimAddr *addr)
{
    g_return_val_if_fail(c != NULL && addr != NULL, NULL);
    for (guint i = 0; i < c->nodes->len; i++) {
        K8sNode *n = c->nodes->pdata[i];
        if (n->pod_cidr.addr.family != SIM_AF_NONE && sim_cidr_contains(&n->pod_cidr, addr))
            return n;
    }
    return NULL;
}

/* "veth" + 8 lowercase hex digits of the 32-bit FNV-1a hash of "namespace/name": stable for a
 * pod across runs, like the CNI's host-side interface names. (transfer full) */
char *
cluster_pod_veth_name(const K8sPod *pod)
{
    g_return_val_if_fail(pod != NULL, NULL);
    g_autofree char *key = g_strdup_printf("%s/%s", pod->meta.namespace_, pod->meta.name);
    guint32 h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return g_strdup_printf("veth%08x", h);
}
