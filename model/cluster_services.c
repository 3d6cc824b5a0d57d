/* SPDX-License-Identifier: Apache-2.0 */
/* The apiserver's side of Services in cluster_build(): validation, then clusterIP and nodePort
 * allocation.
 *
 * Stands in for kube-apiserver's ValidateService (port names, numbers, protocols and
 * targetPorts, duplicate ports and nodePorts, the rules for ExternalName and headless Services)
 * with its errors worded as kubectl prints them, for the storage's refusal of a second Service
 * of the same name, and for the Service IP and nodePort allocators (model/allocator.c): every
 * Service is validated, then stated values are reserved, then the rest allocated, in scenario
 * order.
 */
#include "model/cluster_private.h"

#include <string.h>

#include "model/allocator.h"

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
gboolean
cluster_build_services(ClusterBuild *b, GError **error)
{
    GPtrArray *services = b->c->services;
    g_autoptr(GHashTable) names = g_hash_table_new(cluster_meta_hash, cluster_meta_equal);
    for (guint i = 0; i < services->len; i++) {
        K8sService *svc = services->pdata[i];
        if (!g_hash_table_add(names, &svc->meta))
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
