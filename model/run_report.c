/* SPDX-License-Identifier: Apache-2.0 */
/* The report of a run (model/report.h): per traffic, target, pod, node and Service, the
 * disruption a fault caused, and the events. Part of model/run.c.
 */
#include "model/run_private.h"

#include <string.h>

/* ------------------------------------------------------------------ the report */

/* Is addr one of the addresses in a (SimAddr) array? */
static gboolean
run_addr_in(const GArray *a, const SimAddr *addr)
{
    for (guint i = 0; a != NULL && i < a->len; i++)
        if (sim_addr_equal(&g_array_index(a, SimAddr, i), addr))
            return TRUE;
    return FALSE;
}

/* Is addr a load-balancer IP kube-proxy captures (VIP mode) of svc? */
static gboolean
run_lb_ip(const K8sService *svc, const SimAddr *addr)
{
    for (guint i = 0; svc->lb_ingress != NULL && i < svc->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *in = svc->lb_ingress->pdata[i];
        if (!in->ip_mode_proxy && sim_addr_equal(&in->ip, addr))
            return TRUE;
    }
    return FALSE;
}

/* The Service whose front end to:proto is, and whether that front end is external (a
 * nodePort, load-balancer IP or externalIP), or NULL. */
static const K8sService *
run_target_service(const Run *r, const SimSockAddr *to, SimProto proto, gboolean *external)
{
    gboolean on_node = g_hash_table_contains(r->node_by_addr, &to->addr);
    for (guint i = 0; i < r->cluster->services->len; i++) {
        const K8sService *svc = r->cluster->services->pdata[i];
        for (guint j = 0; svc->type != K8S_SVC_EXTERNAL_NAME && j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            if (sp->protocol != proto)
                continue;
            *external = TRUE;
            if (on_node && sp->node_port == to->port && sp->node_port != 0)
                return svc;
            if (sp->port != to->port)
                continue;
            if (run_addr_in(svc->external_ips, &to->addr) || run_lb_ip(svc, &to->addr))
                return svc;
            *external = FALSE;
            if (run_addr_in(svc->cluster_ips, &to->addr))
                return svc;
        }
    }
    *external = FALSE;
    return NULL;
}

/* Does node run a ready endpoint of svc? */
static gboolean
run_node_has_endpoint(const Run *r, const K8sService *svc, const K8sNode *node)
{
    g_autoptr(GPtrArray) slices = cluster_service_slices(r->cluster, svc);
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++) {
            const K8sEndpoint *e = sl->endpoints->pdata[j];
            if (k8s_endpoint_ready(e) && g_strcmp0(e->node_name, node->name) == 0)
                return TRUE;
        }
    }
    return FALSE;
}

/* Splits a counter set into succeeded and the failure kinds. */
static void
run_failures(const WorkloadCounts *wc, guint64 *succeeded, ReportFailures *f)
{
    *succeeded = wc->outcomes[WORKLOAD_SUCCEEDED];
    f->timeout = wc->outcomes[WORKLOAD_TIMEOUT];
    f->refused = wc->outcomes[WORKLOAD_REFUSED];
    f->reset = wc->outcomes[WORKLOAD_RESET];
    f->dropped = wc->outcomes[WORKLOAD_DROPPED];
}

/* One traffic target's row. */
static void
run_report_target(const Run *r, ReportTraffic *rt, const ScenarioTraffic *t,
                  const WorkloadCounts *wc, const SimSockAddr *to)
{
    char buf[SIM_SOCKADDR_STRLEN];
    ReportTarget *x = report_traffic_add_target(rt, sim_sockaddr_to_string(to, buf));
    const RunNode *rn = g_hash_table_lookup(r->node_by_addr, &to->addr);
    gboolean external = FALSE;
    const K8sService *svc = run_target_service(r, to, t->protocol, &external);
    x->node = rn != NULL ? g_strdup(rn->node->name) : NULL;
    if (svc != NULL) {
        x->service = g_strdup_printf("%s/%s", svc->meta.namespace_, svc->meta.name);
        if (external)
            x->external_policy =
                g_strdup(svc->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
        x->node_has_endpoint = rn != NULL && run_node_has_endpoint(r, svc, rn->node);
    }
    x->sent = wc->sent;
    run_failures(wc, &x->succeeded, &x->failed);
}

/* Adds the per-second outcomes of st to rt and, from the second of fault on, which targets
 * failed when, the connections lost, the black hole and the recovery. */
static void
run_report_disruption(const Run *r, ReportTraffic *rt, const ScenarioTraffic *t,
                      const WorkloadTrafficStats *st, SimTime fault)
{
    guint n_to = t->to->len, seconds = n_to > 0 ? st->target_timeline->len / n_to : 0;
    gint64 from = fault / SIM_SEC, last = -1;
    g_array_set_size(rt->outcomes, seconds);
    for (guint sec = 0; sec < seconds; sec++) {
        WorkloadCounts *sum = &g_array_index(rt->outcomes, WorkloadCounts, sec);
        for (guint j = 0; j < n_to; j++) {
            const WorkloadCounts *wc =
                &g_array_index(st->target_timeline, WorkloadCounts, sec * n_to + j);
            guint64 failed = wc->sent - wc->outcomes[WORKLOAD_SUCCEEDED];
            sum->sent += wc->sent;
            for (guint o = 0; o < WORKLOAD_OUTCOMES; o++)
                sum->outcomes[o] += wc->outcomes[o];
            if ((gint64)sec < from || failed == 0)
                continue;
            ReportTarget *x = rt->targets->pdata[j];
            if (x->fault_fail_first < 0)
                x->fault_fail_first = sec;
            x->fault_fail_last = sec;
            x->fault_failed += failed;
            rt->lost += failed;
            last = sec;
        }
    }
    SimTime stop = MIN(t->stop, r->sc->duration);
    rt->blackhole_start = fault;
    rt->blackhole_end = last >= 0 ? (last + 1) * SIM_SEC : -1;
    rt->recovered = last < 0 ? fault : (last + 1) * SIM_SEC < stop ? (last + 1) * SIM_SEC : -1;
}

/* GCompareFunc over ReportEvent** by time. */
static gint
run_event_cmp(gconstpointer a, gconstpointer b)
{
    const ReportEvent *x = *(ReportEvent *const *)a, *y = *(ReportEvent *const *)b;
    return (x->at > y->at) - (x->at < y->at);
}

/* The fault timeline: what the events, the control plane and the entry models did, as report
 * events. */
static void
run_report_events(const Run *r, RunReport *rep)
{
    rep->first_fault = r->first_fault;
    const GPtrArray *log = controllers_log(r->controllers);
    for (guint i = 0; i < log->len; i++) {
        const ControllersRecord *rec = log->pdata[i];
        report_add_event(rep, rec->at, controllers_record_kind_name(rec->kind), rec->subject,
                         rec->detail);
    }
    for (guint i = 0; i < r->entries->len; i++) {
        const GPtrArray *elog = entry_log(r->entries->pdata[i]);
        for (guint j = 0; j < elog->len; j++) {
            const EntryRecord *rec = elog->pdata[j];
            report_add_event(rep, rec->at, rec->kind, rec->subject, rec->detail);
        }
    }
    g_ptr_array_sort(rep->events, run_event_cmp); /* stable: equal times keep their order */
}

/* One row per traffic entry, with its targets, latencies and timeline. */
static void
run_report_traffic(const Run *r, RunReport *rep)
{
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < r->sc->traffic->len; i++) {
        const ScenarioTraffic *t = r->sc->traffic->pdata[i];
        const WorkloadTrafficStats *st = workload_traffic_stats(r->workload, i);
        ReportTraffic *rt = report_add_traffic(rep, t->name);
        rt->from = g_strdup(t->from);
        for (guint j = 0; j < r->sc->clients->len; j++) {
            const ScenarioClient *c = r->sc->clients->pdata[j];
            if (g_strcmp0(c->name, t->from) == 0)
                rt->client_address = g_strdup(sim_addr_to_string(&c->address, buf));
        }
        rt->protocol = g_strdup(sim_proto_k8s_name(t->protocol));
        rt->rate = t->rate;
        rt->connections = t->connections;
        rt->sent = st->total.sent;
        run_failures(&st->total, &rt->succeeded, &rt->failed);
        if (workload_hist_count(st->latency) > 0) {
            rt->p50 = workload_hist_percentile(st->latency, 50);
            rt->p99 = workload_hist_percentile(st->latency, 99);
            rt->max = workload_hist_max(st->latency);
            rt->mean = workload_hist_mean(st->latency);
        }
        for (guint j = 0; j < t->to->len; j++)
            run_report_target(r, rt, t, &st->targets[j], &g_array_index(t->to, SimSockAddr, j));
        g_array_append_vals(rt->timeline, st->timeline->data, st->timeline->len);
        if (r->first_fault >= 0)
            run_report_disruption(r, rt, t, st, r->first_fault);
    }
}

/* Orders pod entries by node index. */
static gint
run_entry_cmp(gconstpointer a, gconstpointer b)
{
    guint x = ((const ReportPodEntry *)a)->node, y = ((const ReportPodEntry *)b)->node;
    return x < y ? -1 : x > y;
}

/* Copies p's counts by entry node into rp->entries, in node order. */
static void
run_report_pod_entries(const RunPod *p, ReportPod *rp)
{
    if (p->entered == NULL)
        return;
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, p->entered);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        ReportPodEntry e = {GPOINTER_TO_UINT(key) - 1, GPOINTER_TO_SIZE(value)};
        g_array_append_val(rp->entries, e);
    }
    g_array_sort(rp->entries, run_entry_cmp);
}

/* One row per pod that took part, with what its server saw. */
static void
run_report_pods(const Run *r, RunReport *rep)
{
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < r->pods->len; i++) {
        const RunPod *p = r->pods->pdata[i];
        ReportPod *rp = report_add_pod(rep, p->pod->meta.name);
        rp->namespace_ = g_strdup(p->pod->meta.namespace_);
        rp->node = g_strdup(p->node->node->name);
        rp->ip = g_strdup(sim_addr_to_string(&p->pod->ip, buf));
        rp->connections = p->connections;
        rp->requests = p->requests;
        rp->bytes_received = p->bytes_in;
        rp->bytes_sent = p->bytes_out;
        run_report_pod_entries(p, rp);
        rp->source_preserved = p->preserved;
        rp->source_snat = p->snat;
        rp->source_other = p->other;
        rp->queue_peak = p->queue_peak;
        rp->concurrency = r->sc->pod_concurrency;
        rp->connections_before = r->first_fault >= 0 ? p->connections_before : p->connections;
    }
}

/* Client connections addressed to rn (all traffic, all targets). */
static guint64
run_node_entered(const Run *r, const RunNode *rn)
{
    guint64 n = 0;
    for (guint i = 0; i < r->sc->traffic->len; i++) {
        const ScenarioTraffic *t = r->sc->traffic->pdata[i];
        const WorkloadTrafficStats *st = workload_traffic_stats(r->workload, i);
        for (guint j = 0; j < t->to->len; j++)
            if (g_hash_table_lookup(r->node_by_addr, &g_array_index(t->to, SimSockAddr, j).addr) ==
                rn)
                n += st->targets[j].sent;
    }
    return n;
}

/* One row per node: kernel counters, conntrack peaks, rules and where connections went. */
static void
run_report_nodes(const Run *r, RunReport *rep)
{
    for (guint i = 0; i < r->n_nodes; i++) {
        const RunNode *rn = &r->nodes[i];
        ReportNode *n = report_add_node(rep, rn->node->name);
        GString *addrs = g_string_new(NULL);
        char buf[SIM_ADDR_STRLEN];
        for (guint j = 0; j < rn->node->addresses->len; j++)
            g_string_append_printf(
                addrs, "%s%s", j ? "," : "",
                sim_addr_to_string(&g_array_index(rn->node->addresses, SimAddr, j), buf));
        n->addresses = g_string_free(addrs, FALSE);
        SimHostStats hs;
        sim_host_get_stats(rn->host, &hs);
        CtStats cs;
        ct_get_stats(sim_host_conntrack(rn->host), &cs);
        CtConfig cfg;
        run_conntrack_config(r->cluster->proxy, &cfg);
        n->pods = rn->pods;
        n->ingress_packets = hs.rx_packets;
        n->forwarded_packets = hs.forwarded;
        for (guint d = 0; d < SIM_DROP_COUNT; d++) {
            ReportDrop drop = {sim_drop_reason_name((SimDropReason)d), hs.drops[d]};
            if (drop.count > 0)
                g_array_append_val(n->drops, drop);
        }
        n->conntrack_peak = cs.peak;
        n->conntrack_max = cfg.max;
        n->snat_ports_peak = cs.snat_peak;
        n->rules = kube_proxy_rule_count(rn->rules);
        n->new_connections = hs.new_connections;
        n->rules_evaluated = hs.rules_evaluated;
        n->connections_entered = run_node_entered(r, rn);
        n->connections_served = rn->served;
        n->connections_crossed = rn->crossed;
        n->ipvs = kube_proxy_ipvs_report(rn->rules, sim_host_ipvs(rn->host), &n->ipvs_idle);
    }
}

/* Ready endpoints of svc (distinct addresses over its slices, found in by_service: see
 * run_slices_by_service()). */
static guint
run_service_endpoints(GHashTable *by_service, const K8sService *svc)
{
    g_autofree char *key = g_strdup_printf("%s/%s", svc->meta.namespace_, svc->meta.name);
    const GPtrArray *slices = g_hash_table_lookup(by_service, key);
    g_autoptr(GHashTable) seen = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    for (guint i = 0; slices != NULL && i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++) {
            const K8sEndpoint *e = sl->endpoints->pdata[j];
            if (k8s_endpoint_ready(e) && e->addresses->len > 0)
                g_hash_table_add(seen, &g_array_index(e->addresses, SimAddr, 0));
        }
    }
    return g_hash_table_size(seen);
}

/* The cluster's EndpointSlices by "namespace/service" (GPtrArray, unordered): one pass, where
 * cluster_service_slices() per Service is a pass per Service (10,000 x 10,000 at the largest).
 * (transfer full) */
static GHashTable *
run_slices_by_service(const Run *r)
{
    GHashTable *by = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)g_ptr_array_unref);
    for (guint i = 0; i < r->cluster->slices->len; i++) {
        K8sEndpointSlice *sl = r->cluster->slices->pdata[i];
        if (sl->service_name == NULL)
            continue;
        char *key = g_strdup_printf("%s/%s", sl->meta.namespace_, sl->service_name);
        GPtrArray *list = g_hash_table_lookup(by, key);
        if (list == NULL)
            g_hash_table_insert(by, key, list = g_ptr_array_new());
        else
            g_free(key);
        g_ptr_array_add(list, sl);
    }
    return by;
}

/* One row per Service: type, cluster IP, ports and ready endpoints. */
static void
run_report_services(const Run *r, RunReport *rep)
{
    char buf[SIM_ADDR_STRLEN];
    g_autoptr(GHashTable) by_service = run_slices_by_service(r);
    for (guint i = 0; i < r->cluster->services->len; i++) {
        const K8sService *svc = r->cluster->services->pdata[i];
        ReportService *s = report_add_service(rep, svc->meta.name);
        s->namespace_ = g_strdup(svc->meta.namespace_);
        s->type = g_strdup(k8s_service_type_name(svc->type));
        const SimAddr *ip = k8s_service_cluster_ip(svc);
        s->cluster_ip = svc->cluster_ip_none ? g_strdup("None")
                        : ip != NULL         ? g_strdup(sim_addr_to_string(ip, buf))
                                             : NULL;
        if (svc->type == K8S_SVC_NODE_PORT || svc->type == K8S_SVC_LOAD_BALANCER)
            s->external_policy =
                g_strdup(svc->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
        for (guint j = 0; j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            ReportServicePort p = {.port = sp->port,
                                   .node_port = sp->node_port,
                                   .target_port = sp->target_port,
                                   .target_port_name = g_strdup(sp->target_port_name),
                                   .protocol = g_strdup(sim_proto_k8s_name(sp->protocol))};
            g_array_append_val(s->ports, p);
        }
        s->endpoints = run_service_endpoints(by_service, svc);
    }
}

/* An expectation as one line: its fields "key: value" in key order. */
static char *
run_expectation_text(const ScenarioItem *it)
{
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(it->fields), (GCompareFunc)strcmp);
    GString *s = g_string_new(NULL);
    for (GList *k = keys; k != NULL; k = k->next)
        g_string_append_printf(s, "%s%s: %s", s->len ? ", " : "", (const char *)k->data,
                               (const char *)g_hash_table_lookup(it->fields, k->data));
    return g_string_free(s, FALSE);
}

/* What the run left out of the scenario, said plainly. */
static void
run_report_notes(const Run *r, RunReport *rep)
{
    const Scenario *sc = r->sc;
    for (guint i = 0; i < sc->traffic->len; i++) {
        const ScenarioTraffic *t = sc->traffic->pdata[i];
        if (t->protocol != SIM_PROTO_TCP && t->protocol != SIM_PROTO_UDP)
            g_ptr_array_add(rep->notes,
                            g_strdup_printf("traffic %s uses %s, which kpsim run does not simulate "
                                            "yet: none of it was sent",
                                            t->name, sim_proto_k8s_name(t->protocol)));
    }
    guint unplaced = r->unplaced;
    if (unplaced > 0)
        g_ptr_array_add(rep->notes,
                        g_strdup_printf("%u pod%s without a node or an IPv4 address did not take "
                                        "part",
                                        unplaced, unplaced == 1 ? "" : "s"));
    for (guint i = 0; i < sc->expect->len; i++)
        g_ptr_array_add(rep->expectations, run_expectation_text(sc->expect->pdata[i]));
    if (sc->expect->len > 0)
        g_ptr_array_add(rep->notes, g_strdup("the scenario's expectations (spec.expect) are "
                                             "listed but not evaluated by kpsim run"));
}

/* Packets sent on links by every host of the run. */
static guint64
run_packets(const Run *r)
{
    guint64 n = 0;
    SimHostStats hs;
    for (guint i = 0; i < r->n_nodes; i++) {
        sim_host_get_stats(r->nodes[i].host, &hs);
        n += hs.tx_packets;
    }
    for (guint i = 0; i < r->pods->len; i++) {
        sim_host_get_stats(((RunPod *)r->pods->pdata[i])->host, &hs);
        n += hs.tx_packets;
    }
    for (guint i = 0; i < r->sc->clients->len; i++) {
        const ScenarioClient *c = r->sc->clients->pdata[i];
        sim_host_get_stats(workload_client_host(r->workload, c->name), &hs);
        n += hs.tx_packets;
    }
    return n;
}

/* See model/run.h. */
RunReport *
run_report(const Run *r)
{
    g_return_val_if_fail(r != NULL && r->executed, NULL);
    RunReport *rep = report_new();
    rep->scenario = g_strdup(r->sc->name);
    rep->file = g_strdup(r->sc->file);
    rep->description = g_strdup(r->sc->description);
    rep->seed = r->sc->seed;
    rep->proxy_mode = r->cluster->proxy->mode == KP_MODE_IPVS       ? "ipvs"
                      : r->cluster->proxy->mode == KP_MODE_NFTABLES ? "nftables"
                                                                    : "iptables";
    rep->duration = r->sc->duration;
    rep->ended = r->ended;
    SimLoopStats st;
    sim_loop_get_stats(r->loop, &st);
    rep->events_processed = st.events_processed;
    rep->packets = run_packets(r);
    rep->service_time = r->sc->pod_service_time;
    rep->concurrency = r->sc->pod_concurrency;
    run_report_events(r, rep);
    run_report_traffic(r, rep);
    run_report_pods(r, rep);
    run_report_nodes(r, rep);
    run_report_services(r, rep);
    run_report_notes(r, rep);
    report_compute_shares(rep);
    report_summarize(rep);
    return rep;
}
