/* SPDX-License-Identifier: Apache-2.0 */
/* Building the exposure report: per node, per IP family, what kube-proxy's rules open to the
 * outside, each entry probed the way `kpsim trace` follows a packet (model/expose.h).
 *
 * The entries come from the same KpServiceMap and nodePortAddresses parsing the iptables
 * backend renders from, so the report cannot disagree with `kpsim rules`: a NodePort appears on
 * exactly the addresses KUBE-SERVICES hands to KUBE-NODEPORTS, the localhost copy only where
 * iptables mode writes it, and a healthCheckNodePort wherever the health server listens.
 */
#include "model/expose.h"

#include <string.h>

#include "model/kube_proxy.h"
#include "model/kube_proxy_endpoints.h"
#include "model/probe.h"

/* See model/expose.h. */
const char *
expose_kind_name(ExposeKind k)
{
    switch (k) {
    case EXPOSE_NODE_PORT:
        return "nodePort";
    case EXPOSE_HEALTH_CHECK:
        return "healthCheckNodePort";
    case EXPOSE_EXTERNAL_IP:
        return "externalIP";
    case EXPOSE_LOAD_BALANCER:
        return "loadBalancerIP";
    }
    return "?";
}

/* Frees an entry; a GDestroyNotify. */
static void
expose_entry_free(gpointer p)
{
    ExposeEntry *e = p;
    g_free(e->service);
    g_free(e->outcome);
    g_ptr_array_unref(e->restrictions);
    g_free(e);
}

/* Frees a node's entries; a GDestroyNotify. */
static void
expose_node_free(gpointer p)
{
    ExposeNode *n = p;
    g_ptr_array_unref(n->entries);
    g_free(n);
}

/* See model/expose.h. */
void
expose_report_free(ExposeReport *r)
{
    if (r == NULL)
        return;
    g_ptr_array_unref(r->nodes);
    g_free(r->summary);
    g_free(r);
}

/* What one node and family's pass needs. */
typedef struct {
    const Cluster *c;
    const K8sNode *node;
    SimFamily family;
    KpNodePortAddresses npa;
    ExposeNode *out;
} ExposeCtx;

/* Adds "nodePortAddresses: ..." to list when it narrows the NodePort addresses. */
static void
expose_npa_restriction(const ExposeCtx *x, GPtrArray *list)
{
    if (x->npa.match_all)
        return;
    GString *s = g_string_new("nodePortAddresses: ");
    const GPtrArray *given = x->c->proxy->node_port_addresses;
    for (guint i = 0; given != NULL && i < given->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", (const char *)given->pdata[i]);
    if (given == NULL || given->len == 0)
        g_string_append(s, "primary (nftables mode's default)");
    g_ptr_array_add(list, g_string_free(s, FALSE));
}

/* Joins the source ranges as "a, b". (transfer full) */
static char *
expose_ranges(const KpServicePort *sp)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < sp->source_ranges->len; i++) {
        char buf[SIM_CIDR_STRLEN];
        g_string_append_printf(
            s, "%s%s", i ? ", " : "",
            sim_cidr_to_string(&g_array_index(sp->source_ranges, SimCidr, i), buf));
    }
    return g_string_free(s, FALSE);
}

/* The source a probe of e comes from: 127.0.0.1 for the localhost NodePort, an address inside
 * the first loadBalancerSourceRange for a restricted LB IP, else the outside client. */
static void
expose_probe_source(const ExposeCtx *x, const KpServicePort *sp, const ExposeEntry *e,
                    SimSockAddr *from)
{
    memset(from, 0, sizeof *from);
    if (e->localhost_only) {
        sim_addr_parse("127.0.0.1", &from->addr);
        return;
    }
    if (e->kind == EXPOSE_LOAD_BALANCER && sp->source_ranges->len > 0) {
        const SimCidr *r = &g_array_index(sp->source_ranges, SimCidr, 0);
        if (sim_cidr_nth(r, sim_cidr_size(r) > 1 ? 1 : 0, &from->addr))
            return;
    }
    sim_addr_parse(x->family == SIM_AF_INET6 ? "2001:db8::1" : EXPOSE_OUTSIDE_SOURCE, &from->addr);
}

/* Describes what the probe met. (transfer full) */
static char *
expose_outcome(const KpServicePort *sp, const Probe *p)
{
    guint n = p->endpoints->len;
    switch (p->verdict) {
    case NF_VERDICT_ACCEPT:
        if (n == 0)
            return g_strdup("accepted by the node itself, not forwarded");
        return g_strdup_printf("forwarded to %u endpoint%s, client address %s", n,
                               n == 1 ? "" : "s", p->masquerade ? "SNATed to the node" : "kept");
    case NF_VERDICT_DROP:
        if (sp->external_policy_local && sp->local->len == 0)
            return g_strdup("dropped: no local endpoint on this node (externalTrafficPolicy: "
                            "Local)");
        return g_strdup("dropped");
    case NF_VERDICT_REJECT:
        return g_strdup("rejected: the Service has no endpoints");
    case NF_VERDICT_NONE:
        return g_strdup("no kube-proxy rule matched: it reaches the node's own sockets");
    }
    return g_strdup("?");
}

/* For a load-balancer IP probed from inside its source ranges: adds what a source outside them
 * meets to e's outcome. */
static gboolean
expose_outside_too(const ExposeCtx *x, const KpServicePort *sp, ExposeEntry *e, GError **error)
{
    SimSockAddr from = {0};
    sim_addr_parse(x->family == SIM_AF_INET6 ? "2001:db8::1" : EXPOSE_OUTSIDE_SOURCE, &from.addr);
    g_autoptr(Probe) p = probe_run(x->c, x->node, &from, &e->address, e->protocol, error);
    if (p == NULL)
        return FALSE;
    char src[SIM_ADDR_STRLEN];
    g_autofree char *outside = expose_outcome(sp, p);
    char *both = g_strdup_printf("sources in loadBalancerSourceRanges: %s; others (%s): %s",
                                 e->outcome, sim_addr_to_string(&from.addr, src), outside);
    g_free(e->outcome);
    e->outcome = both;
    return TRUE;
}

/* Adds one entry of kind at addr:port for sp, probing it unless it is a health check. */
static gboolean
expose_add(ExposeCtx *x, const KpServicePort *sp, ExposeKind kind, const SimAddr *addr,
           guint16 port, GError **error)
{
    ExposeEntry *e = g_new0(ExposeEntry, 1);
    g_ptr_array_add(x->out->entries, e);
    e->kind = kind;
    e->address.addr = *addr;
    e->address.port = port;
    e->protocol = kind == EXPOSE_HEALTH_CHECK ? SIM_PROTO_TCP : sp->port->protocol;
    e->localhost_only = sim_addr_is_loopback(addr);
    e->service = g_strdup(sp->name);
    e->type = k8s_service_type_name(sp->service->type);
    e->policy = sp->service->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster";
    e->restrictions = g_ptr_array_new_with_free_func(g_free);
    if (kind == EXPOSE_HEALTH_CHECK) {
        guint local = sp->local->len;
        e->verdict = NF_VERDICT_ACCEPT;
        e->outcome = local > 0 ? g_strdup_printf("kube-proxy's health server: HTTP 200, %u local "
                                                 "endpoint%s",
                                                 local, local == 1 ? "" : "s")
                               : g_strdup("kube-proxy's health server: HTTP 503, no local "
                                          "endpoint");
        return TRUE;
    }
    SimSockAddr from;
    expose_probe_source(x, sp, e, &from);
    g_autoptr(Probe) p = probe_run(x->c, x->node, &from, &e->address, e->protocol, error);
    if (p == NULL)
        return FALSE;
    e->verdict = p->verdict;
    e->endpoints = p->endpoints->len;
    e->outcome = expose_outcome(sp, p);
    if (kind == EXPOSE_LOAD_BALANCER && sp->source_ranges->len > 0)
        return expose_outside_too(x, sp, e, error);
    return TRUE;
}

/* Restrictions of a NodePort or health-check entry. */
static void
expose_node_port_restrictions(const ExposeCtx *x, const KpServicePort *sp, ExposeEntry *e)
{
    if (e->localhost_only)
        g_ptr_array_add(e->restrictions,
                        g_strdup("localhost only: localhostNodePorts (route_localnet) lets "
                                 "processes on the node reach it"));
    expose_npa_restriction(x, e->restrictions);
    if (e->kind == EXPOSE_NODE_PORT && sp->source_ranges->len > 0) {
        g_autofree char *ranges = expose_ranges(sp);
        g_ptr_array_add(e->restrictions,
                        g_strdup_printf("not loadBalancerSourceRanges (%s): they restrict only "
                                        "the load-balancer IP, never the NodePort",
                                        ranges));
    }
}

/* The NodePort and healthCheckNodePort entries of sp on every address npa selects. */
static gboolean
expose_node_ports(ExposeCtx *x, const KpServicePort *sp, GError **error)
{
    g_autoptr(GArray) ips = kp_node_port_addresses_node_ips(&x->npa, x->node, x->family);
    gboolean localhost = x->family == SIM_AF_INET && x->c->proxy->mode == KP_MODE_IPTABLES &&
                         x->c->proxy->localhost_node_ports;
    for (guint i = 0; sp->port->node_port != 0 && i < ips->len; i++) {
        const SimAddr *ip = &g_array_index(ips, SimAddr, i);
        if (sim_addr_is_loopback(ip) && !localhost)
            continue;
        if (!expose_add(x, sp, EXPOSE_NODE_PORT, ip, sp->port->node_port, error))
            return FALSE;
        expose_node_port_restrictions(x, sp, x->out->entries->pdata[x->out->entries->len - 1]);
    }
    for (guint i = 0; sp->health_check_node_port != 0 && i < ips->len; i++) {
        const SimAddr *ip = &g_array_index(ips, SimAddr, i);
        if (sim_addr_is_loopback(ip))
            continue;
        if (!expose_add(x, sp, EXPOSE_HEALTH_CHECK, ip, sp->health_check_node_port, error))
            return FALSE;
        expose_node_port_restrictions(x, sp, x->out->entries->pdata[x->out->entries->len - 1]);
    }
    return TRUE;
}

/* The externalIP and load-balancer IP entries of sp. */
static gboolean
expose_captured_ips(ExposeCtx *x, const KpServicePort *sp, GError **error)
{
    for (guint i = 0; i < sp->external_ips->len; i++)
        if (!expose_add(x, sp, EXPOSE_EXTERNAL_IP, &g_array_index(sp->external_ips, SimAddr, i),
                        sp->port->port, error))
            return FALSE;
    for (guint i = 0; i < sp->lb_vips->len; i++) {
        if (!expose_add(x, sp, EXPOSE_LOAD_BALANCER, &g_array_index(sp->lb_vips, SimAddr, i),
                        sp->port->port, error))
            return FALSE;
        if (sp->source_ranges->len == 0)
            continue;
        ExposeEntry *e = x->out->entries->pdata[x->out->entries->len - 1];
        g_autofree char *ranges = expose_ranges(sp);
        g_ptr_array_add(e->restrictions,
                        g_strdup_printf("loadBalancerSourceRanges: %s (other sources are dropped "
                                        "by KUBE-PROXY-FIREWALL)",
                                        ranges));
    }
    return TRUE;
}

/* Adds the entries of node for one family. */
static gboolean
expose_node_family(const Cluster *c, const K8sNode *node, SimFamily family, ExposeNode *out,
                   GError **error)
{
    ExposeCtx x = {.c = c, .node = node, .family = family, .out = out};
    if (!kp_node_port_addresses_init(&x.npa, c->proxy, node, family, error))
        return FALSE;
    g_autoptr(KpServiceMap) map = kp_service_map_new(c, node, family);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < map->ports->len; i++) {
        const KpServicePort *sp = map->ports->pdata[i];
        ok = expose_node_ports(&x, sp, error) && expose_captured_ips(&x, sp, error);
    }
    kp_node_port_addresses_clear(&x.npa);
    return ok;
}

/* Counts the distinct (address, port, protocol) of n that answer from outside. */
static guint
expose_count_pairs(const ExposeNode *n)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < n->entries->len; i++) {
        const ExposeEntry *e = n->entries->pdata[i];
        char buf[SIM_SOCKADDR_STRLEN];
        if (!e->localhost_only)
            g_hash_table_add(seen,
                             g_strdup_printf("%s/%d", sim_sockaddr_to_string(&e->address, buf),
                                             (int)e->protocol));
    }
    return g_hash_table_size(seen);
}

/* The closing sentence: the pairs each node opens. (transfer full) */
static char *
expose_summary(const ExposeReport *r)
{
    guint total = 0;
    gboolean node_ports = FALSE;
    GString *per = g_string_new(NULL);
    for (guint i = 0; i < r->nodes->len; i++) {
        const ExposeNode *n = r->nodes->pdata[i];
        total += n->outside_pairs;
        for (guint j = 0; j < n->entries->len; j++)
            node_ports |= ((const ExposeEntry *)n->entries->pdata[j])->kind == EXPOSE_NODE_PORT;
        g_string_append_printf(per, "%s%s %u", i ? ", " : "", n->node->name, n->outside_pairs);
    }
    g_autofree char *list = g_string_free(per, FALSE);
    if (total == 0)
        return g_strdup("No node answers on a Service port from outside.");
    return g_strdup_printf("%s%u (address, port) pair%s from outside (%s).",
                           node_ports ? "Every node opens every NodePort, whether or not it runs "
                                        "a pod of the Service: "
                                      : "",
                           total, total == 1 ? " answers" : "s answer", list);
}

/* See model/expose.h. Cost: one probe per entry. */
ExposeReport *
expose_build(const Cluster *c, GError **error)
{
    g_return_val_if_fail(c != NULL, NULL);
    g_autoptr(ExposeReport) r = g_new0(ExposeReport, 1);
    r->nodes = g_ptr_array_new_with_free_func(expose_node_free);
    static const SimFamily families[] = {SIM_AF_INET, SIM_AF_INET6};
    for (guint i = 0; i < c->nodes->len; i++) {
        const K8sNode *node = c->nodes->pdata[i];
        ExposeNode *n = g_new0(ExposeNode, 1);
        n->node = node;
        n->entries = g_ptr_array_new_with_free_func(expose_entry_free);
        g_ptr_array_add(r->nodes, n);
        for (gsize f = 0; f < G_N_ELEMENTS(families); f++) {
            SimAddr primary;
            if (kp_node_primary_ip(node, families[f], &primary) &&
                !expose_node_family(c, node, families[f], n, error))
                return NULL;
        }
        n->outside_pairs = expose_count_pairs(n);
    }
    r->summary = expose_summary(r);
    return g_steal_pointer(&r);
}
