/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane's Service side over time: patches (type changes with their allocations,
 * traffic policies, ports, selector, affinity), deletion and apply, each followed by the
 * EndpointSlice controller and a kube-proxy sync, as model/controllers.h describes. Part of
 * the controllers (model/controllers_private.h).
 */
#include "model/controllers_private.h"

#include <string.h>

#include "model/allocator.h"
#include "model/endpointslice_controller.h"

/* kube-apiserver allocates what svc lacks (clusterIPs, nodePorts, healthCheckNodePort) with an
 * allocator rebuilt from every other Service of the cluster but exclude (nullable: the one svc
 * replaces), as its repair loop sees them. */
static gboolean
controllers_allocate(Controllers *ctl, K8sService *svc, const K8sService *exclude, GError **error)
{
    const Scenario *sc = ctl->c->scenario;
    g_autoptr(AllocServices) a =
        alloc_services_new(sc->service_cidrs, sc->node_port_low, sc->node_port_high, sc->seed);
    for (guint i = 0; i < ctl->c->services->len; i++) {
        K8sService *other = ctl->c->services->pdata[i];
        if (other != svc && other != exclude && other->type != K8S_SVC_EXTERNAL_NAME)
            alloc_services_reserve(a, other, NULL);
    }
    return alloc_services_reserve(a, svc, error) && alloc_services_allocate(a, svc, error);
}

/* spec.type changes (ResetFieldsForTypeChange): to ClusterIP drops the nodePorts and the
 * healthCheckNodePort; leaving LoadBalancer drops the load-balancer status; NodePort and
 * LoadBalancer get nodePorts allocated. No cloud provider assigns a new load-balancer IP.
 * FALSE (svc unchanged) when the allocation fails. */
static gboolean
controllers_set_type(Controllers *ctl, K8sService *svc, K8sServiceType type, GError **error)
{
    K8sServiceType before = svc->type;
    g_autoptr(GArray) ports = g_array_new(FALSE, FALSE, sizeof(guint16));
    for (guint i = 0; i < svc->ports->len; i++)
        g_array_append_val(ports, ((K8sServicePort *)svc->ports->pdata[i])->node_port);
    guint16 hc = svc->health_check_node_port;
    svc->type = type;
    if (type != K8S_SVC_LOAD_BALANCER)
        svc->health_check_node_port = 0;
    for (guint i = 0; type == K8S_SVC_CLUSTER_IP && i < svc->ports->len; i++)
        ((K8sServicePort *)svc->ports->pdata[i])->node_port = 0;
    if (type == K8S_SVC_CLUSTER_IP || controllers_allocate(ctl, svc, NULL, error)) {
        if (before == K8S_SVC_LOAD_BALANCER && type != before && svc->lb_ingress != NULL)
            g_ptr_array_set_size(svc->lb_ingress, 0);
        return TRUE;
    }
    svc->type = before;
    svc->health_check_node_port = hc;
    for (guint i = 0; i < svc->ports->len; i++)
        ((K8sServicePort *)svc->ports->pdata[i])->node_port = g_array_index(ports, guint16, i);
    return FALSE;
}

/* Applies the traffic-policy fields of patch e to svc, describing them into what. A
 * LoadBalancer Service switched back to Cluster releases its allocated healthCheckNodePort, and
 * one switched to Local gets one, as kube-apiserver does. */
static void
controllers_patch_policies(Controllers *ctl, K8sService *svc, const RunEvent *e, GString *what)
{
    if (e->set_external_policy) {
        svc->external_policy = e->external_policy;
        if (e->external_policy == K8S_POLICY_CLUSTER && !svc->health_check_node_port_explicit)
            svc->health_check_node_port = 0;
        else if (svc->type == K8S_SVC_LOAD_BALANCER)
            controllers_allocate(ctl, svc, NULL, NULL);
        g_string_append_printf(what, "externalTrafficPolicy: %s",
                               e->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    }
    if (e->set_internal_policy) {
        svc->internal_policy = e->internal_policy;
        g_string_append_printf(what, "%sinternalTrafficPolicy: %s", what->len ? ", " : "",
                               e->internal_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
    }
}

/* Merges the ports of a patch into svc (strategic merge by port number: an entry for an
 * existing port changes the fields it writes, a new number adds a port) and allocates the
 * nodePorts the new ports need. FALSE (svc unchanged) when the allocation fails. */
static gboolean
controllers_patch_ports(Controllers *ctl, K8sService *svc, const GPtrArray *ports, GError **error)
{
    g_autoptr(GPtrArray) before =
        g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_port_free);
    for (guint i = 0; i < svc->ports->len; i++) { /* kept to undo a failed allocation */
        const K8sServicePort *p = svc->ports->pdata[i];
        K8sServicePort *copy = g_new0(K8sServicePort, 1);
        *copy = *p;
        copy->name = g_strdup(p->name);
        copy->target_port_name = g_strdup(p->target_port_name);
        g_ptr_array_add(before, copy);
    }
    for (guint i = 0; i < ports->len; i++) {
        const K8sServicePort *src = ports->pdata[i];
        K8sServicePort *dst = NULL;
        for (guint j = 0; j < svc->ports->len && dst == NULL; j++)
            if (((K8sServicePort *)svc->ports->pdata[j])->port == src->port)
                dst = svc->ports->pdata[j];
        if (dst == NULL) {
            dst = g_new0(K8sServicePort, 1);
            dst->port = src->port;
            dst->target_port = src->port;
            dst->name = g_strdup("");
            dst->pos = src->pos;
            g_ptr_array_add(svc->ports, dst);
        }
        dst->protocol = src->protocol;
        if (src->name != NULL) {
            g_free(dst->name);
            dst->name = g_strdup(src->name);
        }
        if (src->target_port != 0 || src->target_port_name != NULL) {
            g_free(dst->target_port_name);
            dst->target_port_name = g_strdup(src->target_port_name);
            dst->target_port = src->target_port;
        }
        if (src->node_port != 0) {
            dst->node_port = src->node_port;
            dst->node_port_explicit = TRUE;
        }
    }
    if (svc->type == K8S_SVC_CLUSTER_IP || svc->type == K8S_SVC_EXTERNAL_NAME ||
        controllers_allocate(ctl, svc, NULL, error))
        return TRUE;
    g_ptr_array_set_size(svc->ports, 0);
    while (before->len > 0)
        g_ptr_array_add(svc->ports, g_ptr_array_steal_index(before, 0));
    return FALSE;
}

/* See model/controllers_private.h. */
void
controllers_patch_service(Controllers *ctl, const RunEvent *e)
{
    K8sService *svc = cluster_find_service(ctl->c, e->namespace_, e->service);
    g_autofree char *subject = g_strdup_printf("%s/%s", e->namespace_, e->service);
    g_autoptr(GString) what = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    if (svc == NULL) {
        controllers_record(ctl, CONTROLLERS_SERVICE_PATCHED, subject, "not found: deleted");
        return;
    }
    if ((e->set_type && !controllers_set_type(ctl, svc, e->type, &error)) ||
        (e->ports != NULL && !controllers_patch_ports(ctl, svc, e->ports, &error))) {
        controllers_record(ctl, CONTROLLERS_SERVICE_PATCHED, subject, "rejected: %s",
                           error->message);
        return;
    }
    if (e->set_type)
        g_string_append_printf(what, "type: %s", k8s_service_type_name(e->type));
    if (e->ports != NULL)
        g_string_append_printf(what, "%s%u port%s merged", what->len ? ", " : "", e->ports->len,
                               e->ports->len == 1 ? "" : "s");
    if (e->set_external_policy || e->set_internal_policy)
        g_string_append(what, what->len ? ", " : "");
    controllers_patch_policies(ctl, svc, e, what);
    if (e->selector != NULL) {
        controllers_merge_labels(&svc->selector, e->selector);
        g_autofree char *sel = k8s_labels_to_string(svc->selector);
        g_string_append_printf(what, "%sselector: %s", what->len ? ", " : "", sel);
    }
    if (e->set_affinity) {
        svc->affinity_client_ip = e->affinity_client_ip;
        g_string_append_printf(what, "%ssessionAffinity: %s", what->len ? ", " : "",
                               e->affinity_client_ip ? "ClientIP" : "None");
    }
    if (e->set_affinity_timeout) {
        svc->affinity_timeout = e->affinity_timeout;
        g_string_append_printf(what, "%stimeoutSeconds: %u", what->len ? ", " : "",
                               e->affinity_timeout);
    }
    if (e->set_publish_not_ready) {
        svc->publish_not_ready = e->publish_not_ready;
        g_string_append_printf(what, "%spublishNotReadyAddresses: %s", what->len ? ", " : "",
                               e->publish_not_ready ? "true" : "false");
    }
    controllers_record(ctl, CONTROLLERS_SERVICE_PATCHED, subject, "%s", what->str);
    if (e->selector != NULL || e->set_publish_not_ready || e->ports != NULL)
        controllers_service_dirty(ctl, svc);
    controllers_proxy_request_all(ctl);
}

/* See model/controllers_private.h. */
void
controllers_delete_service(Controllers *ctl, K8sService *svc)
{
    for (guint i = ctl->c->slices->len; i-- > 0;) {
        const K8sEndpointSlice *sl = ctl->c->slices->pdata[i];
        if (sl->managed && g_strcmp0(sl->service_name, svc->meta.name) == 0 &&
            g_strcmp0(sl->meta.namespace_, svc->meta.namespace_) == 0)
            g_ptr_array_remove_index(ctl->c->slices, i);
    }
    guint index;
    g_ptr_array_remove(ctl->dirty, svc);
    if (g_ptr_array_find(ctl->c->services, svc, &index))
        g_ptr_array_add(ctl->removed_services, g_ptr_array_steal_index(ctl->c->services, index));
    controllers_proxy_request_all(ctl);
}

/* The allocations of old that apply keeps in its replacement (a three-way merge leaves what
 * kubectl never wrote): clusterIPs, the nodePort of each port by port and protocol, the
 * healthCheckNodePort. */
static void
controllers_keep_allocations(K8sService *svc, const K8sService *old)
{
    if (svc->cluster_ips->len == 0 && !svc->cluster_ip_none)
        g_array_append_vals(svc->cluster_ips, old->cluster_ips->data, old->cluster_ips->len);
    for (guint i = 0; svc->type != K8S_SVC_CLUSTER_IP && i < svc->ports->len; i++) {
        K8sServicePort *p = svc->ports->pdata[i];
        for (guint j = 0; p->node_port == 0 && j < old->ports->len; j++) {
            const K8sServicePort *q = old->ports->pdata[j];
            if (q->port == p->port && q->protocol == p->protocol)
                p->node_port = q->node_port;
        }
    }
    if (svc->health_check_node_port == 0 && svc->type == K8S_SVC_LOAD_BALANCER &&
        svc->external_policy == K8S_POLICY_LOCAL)
        svc->health_check_node_port = old->health_check_node_port;
}

/* See model/controllers_private.h. */
void
controllers_apply_service(Controllers *ctl, const K8sService *src)
{
    g_autofree char *subject = g_strdup_printf("%s/%s", src->meta.namespace_, src->meta.name);
    K8sService *old = cluster_find_service(ctl->c, src->meta.namespace_, src->meta.name);
    g_autoptr(K8sService) svc = k8s_service_copy(src);
    g_autoptr(GError) error = NULL;
    if (old != NULL)
        controllers_keep_allocations(svc, old);
    if (svc->type != K8S_SVC_EXTERNAL_NAME && !controllers_allocate(ctl, svc, old, &error)) {
        controllers_record(ctl, CONTROLLERS_APPLIED, subject, "Service rejected: %s",
                           error->message);
        return;
    }
    if (old != NULL)
        controllers_delete_service(ctl, old);
    K8sService *s = g_steal_pointer(&svc);
    g_ptr_array_add(ctl->c->services, s);
    controllers_record(ctl, CONTROLLERS_APPLIED, subject, "Service %s",
                       old != NULL ? "configured" : "created");
    if (endpointslice_controller_manages(ctl->c, s))
        controllers_service_dirty(ctl, s);
    controllers_proxy_request_all(ctl);
}
