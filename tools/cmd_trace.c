/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim trace: where does this packet go, and why?
 *
 * Follows the first packet of a new connection through one node's kube-proxy rules (see
 * model/probe.h) and explains every rule it matched in words a learner understands, or prints
 * the JSON contract of docs/design.md ("trace JSON") that tests and CI read. With --at TIME the
 * rules are those the node's kube-proxy last programmed at or before that time of the scenario
 * (model/timeline.h), possibly stale, and a node that is down then answers nothing. Without it,
 * the cluster is built focused on the probe (cluster_build_focused(): only what the packet can
 * reach), unless --whole-cluster asks for the full build; the output is the same.
 */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "model/kube_proxy.h"
#include "model/probe.h"
#include "model/timeline.h"
#include "tools/cli.h"

static int cmd_trace_run(int argc, char **argv);

const KpsimCommand cmd_trace_entry = {
    .name = "trace",
    .args = "SCENARIO --node NODE --from IP[:PORT] --to IP:PORT [--proto tcp|udp|sctp] [--at TIME] "
            "[--whole-cluster] [--json]",
    .summary = "follow a new connection's first packet through a node's rules",
    .run = cmd_trace_run,
};

/* ------------------------------------------------------------------ reading a rule's text */

/* The value after option in rule text ("-j", "--comment", "--to-destination"), unquoted.
 * (transfer full) (nullable) */
static char *
rule_option(const char *rule, const char *option)
{
    g_autofree char *needle = g_strdup_printf(" %s ", option);
    const char *at = strstr(rule, needle);
    if (at == NULL)
        return NULL;
    at += strlen(needle);
    GString *v = g_string_new(NULL);
    if (*at == '"') {
        for (at++; *at && *at != '"'; at++) {
            if (*at == '\\' && at[1])
                at++;
            g_string_append_c(v, *at);
        }
    } else {
        for (; *at && *at != ' '; at++)
            g_string_append_c(v, *at);
    }
    return g_string_free(v, FALSE);
}

/* The Service named in a kube-proxy comment ("ns/svc:port cluster IP" -> "ns/svc:port"). */
static char *
comment_service(const char *comment)
{
    if (comment == NULL)
        return g_strdup("the Service");
    const char *space = strchr(comment, ' ');
    return space ? g_strndup(comment, space - comment) : g_strdup(comment);
}

/* ------------------------------------------------------------------ explanations */

typedef struct {
    const Probe *probe;
    const char *node;
    char dst[SIM_ADDR_STRLEN];
} Explainer;

/* Explains a jump into one of kube-proxy's per-Service chains. (transfer full) (nullable) */
static char *
explain_jump(const Explainer *ex, const char *chain, const char *target, const char *comment,
             const char *rule)
{
    g_autofree char *svc = comment_service(comment);
    gboolean pod_ext = comment && g_str_has_prefix(comment, "pod traffic for ");
    gboolean local_route = comment && g_str_has_prefix(comment, "route LOCAL traffic");
    if (g_str_has_prefix(target, "KUBE-SERVICES"))
        return g_strdup_printf(
            ex->probe->source_kind == PROBE_SOURCE_NODE
                ? "connections opened on %s itself are offered to kube-proxy's Service rules"
                : "every new connection entering %s is offered to kube-proxy's Service rules",
            ex->node);
    if (g_str_equal(target, "KUBE-POSTROUTING"))
        return g_strdup("leaving the node: kube-proxy decides whether to SNAT");
    if (g_str_equal(target, "KUBE-NODEPORTS") && g_str_equal(chain, "KUBE-SERVICES"))
        return g_strdup_printf("no ClusterIP, external IP or load-balancer IP matched; %s is an "
                               "address of %s, so the NodePorts are checked",
                               ex->dst, ex->node);
    if (g_str_has_prefix(target, "KUBE-EXT-") && g_str_equal(chain, "KUBE-NODEPORTS"))
        return g_strdup_printf("port %u is the nodePort of %s - every node opens it",
                               ex->probe->packet.dst.port, svc);
    if (g_str_has_prefix(target, "KUBE-EXT-"))
        return g_strdup_printf(
            "%s is %s of %s", ex->dst,
            strstr(rule, "loadbalancer IP") ? "a load-balancer IP" : "an external IP", svc);
    if (g_str_has_prefix(target, "KUBE-FW-"))
        return g_strdup_printf("%s is a load-balancer IP of %s with loadBalancerSourceRanges: the "
                               "source is checked",
                               ex->dst, svc);
    if (pod_ext) {
        g_autofree char *pod_svc = comment_service(comment + strlen("pod traffic for "));
        return g_strdup_printf("the source is a pod: it may use every endpoint of %s and keeps "
                               "its address (as if it had gone out to the load balancer and back)",
                               pod_svc);
    }
    if (local_route)
        return g_strdup("the source is the node itself: it may use every endpoint");
    if (g_str_has_prefix(target, "KUBE-SVL-") && g_str_has_prefix(chain, "KUBE-EXT-"))
        return g_strdup("externalTrafficPolicy: Local - only endpoints on this node, and the "
                        "client's address is kept");
    if (g_str_has_prefix(target, "KUBE-SVC-") && g_str_has_prefix(chain, "KUBE-EXT-"))
        return g_strdup("on to all endpoints of the Service, wherever they run");
    if (g_str_has_prefix(target, "KUBE-SVC-") || g_str_has_prefix(target, "KUBE-SVL-"))
        return g_strdup_printf("%s:%u is the ClusterIP of %s", ex->dst, ex->probe->packet.dst.port,
                               svc);
    if (g_str_has_prefix(target, "KUBE-SEP-")) {
        g_autofree char *p = rule_option(rule, "--probability");
        if (strstr(rule, "--rcheck"))
            return g_strdup("session affinity: this client was sent to this endpoint recently");
        if (p)
            return g_strdup_printf("random pick with probability %.4g among the endpoints left",
                                   g_ascii_strtod(p, NULL));
        return g_strdup("no random draw left: the last (or only) endpoint in the list");
    }
    return NULL;
}

/* One sentence on why a rule matters. (transfer full) (nullable) */
static char *
explain_rule(const Explainer *ex, const char *chain, const char *rule)
{
    g_autofree char *target = rule_option(rule, "-j");
    g_autofree char *comment = rule_option(rule, "--comment");
    char *ipvs = kube_proxy_ipvs_explain_rule(chain, rule); /* IPVS mode's ipset rules */
    if (ipvs != NULL)
        return ipvs;
    if (target == NULL)
        return g_strdup_printf("no rule let it through: %s", comment ? comment : "falls through");
    if (g_str_equal(target, "KUBE-MARK-MASQ")) {
        if (g_str_has_prefix(chain, "KUBE-SEP-"))
            return g_strdup("hairpin: the pod is reaching itself through the Service, so it "
                            "must be SNATed for the reply to come back");
        if (comment && g_str_has_prefix(comment, "masquerade traffic for"))
            return g_strdup("externalTrafficPolicy: Cluster - mark for SNAT, because the chosen "
                            "pod may be on another node and its reply must return through here");
        if (comment && g_str_has_prefix(comment, "masquerade LOCAL"))
            return g_strdup("the node itself is the source: mark for SNAT");
        return g_strdup("the source is outside the pod network: mark for SNAT");
    }
    if (g_str_equal(target, "MARK"))
        return g_strdup(strstr(rule, "0x4000/0x0")
                            ? "clear the mark so the packet is not SNATed twice"
                            : "set mark 0x4000: SNAT at POSTROUTING");
    if (g_str_equal(target, "DNAT")) {
        g_autofree char *to = rule_option(rule, "--to-destination");
        return g_strdup_printf("DNAT: the destination becomes %s", to);
    }
    if (g_str_equal(target, "MASQUERADE"))
        return g_strdup_printf("SNAT: the source becomes %s's address (random port), so the pod "
                               "sees the node, not the client",
                               ex->node);
    if (g_str_equal(target, "RETURN"))
        return g_strdup("not marked: no SNAT");
    if (g_str_equal(target, "DROP"))
        return g_strdup(comment && strstr(comment, "has no local endpoints")
                            ? "externalTrafficPolicy: Local and no endpoint on this node: dropped "
                              "silently (the client retries its SYN, then times out)"
                            : "dropped");
    if (g_str_equal(target, "REJECT"))
        return g_strdup("no endpoints at all: rejected with ICMP port unreachable (the client "
                        "sees \"connection refused\")");
    if (g_str_equal(target, "ACCEPT")) {
        if (comment && strstr(comment, "health check node port"))
            return g_strdup("the healthCheckNodePort: kube-proxy's health server answers here");
        if (strstr(rule, "--mark 0x"))
            return g_strdup("forwarding allowed: kube-proxy marked this connection (so it passes "
                            "even where the FORWARD policy is DROP)");
        return g_strdup("accepted");
    }
    if (g_str_equal(target, "KUBE-PROXY-FIREWALL"))
        return g_strdup("kube-proxy's load-balancer source-range firewall (only LB IPs with "
                        "loadBalancerSourceRanges have rules there)");
    if (g_str_equal(target, "KUBE-FORWARD"))
        return g_strdup("kube-proxy's forwarding rules: let its own traffic through");
    if (g_str_equal(target, "KUBE-NODEPORTS") && g_str_equal(chain, "INPUT"))
        return g_strdup("kube-proxy's filter rules for healthCheckNodePorts");
    if (g_str_equal(target, "KUBE-EXTERNAL-SERVICES") ||
        (g_str_equal(target, "KUBE-SERVICES") && strstr(rule, "--ctstate NEW") != NULL))
        return g_strdup("kube-proxy's filter rules for Services without usable endpoints");
    if (g_str_equal(target, "KUBE-FIREWALL"))
        return g_strdup("kubelet's guard against outside packets to 127.0.0.0/8");
    return explain_jump(ex, chain, target, comment, rule);
}

/* ------------------------------------------------------------------ text output */

static void
trace_text_step(GString *out, const Explainer *ex, const NfStep *st)
{
    g_autoptr(GString) rule = g_string_new(NULL);
    if (st->fell_through) {
        g_string_append_printf(out, "  %-6s %s: end of chain, policy ACCEPT\n",
                               nf_table_name(st->table), st->chain);
        return;
    }
    if (kube_proxy_nft_trace_step(st, out)) /* nftables mode: explained in nft's terms */
        return;
    if (kube_proxy_ipvs_trace_step(st, out)) /* IPVS mode's scheduling step */
        return;
    nf_rule_format(st->rule, rule);
    g_autofree char *why = explain_rule(ex, st->chain, rule->str);
    g_string_append_printf(out, "  %-6s %s\n         %s\n", nf_table_name(st->table), st->chain,
                           rule->str);
    if (why != NULL)
        g_string_append_printf(out, "         => %s\n", why);
}

static gboolean
steps_equal(const NfStep *a, const NfStep *b)
{
    return a->rule == b->rule && a->fell_through == b->fell_through && a->table == b->table &&
           g_strcmp0(a->chain, b->chain) == 0 && a->nft_rule == b->nft_rule &&
           (a->nft_rule == NULL || a->nft_choice == b->nft_choice) &&
           a->ipvs_service == b->ipvs_service && a->ipvs_dest == b->ipvs_dest;
}

static const char *
verdict_upper(NfVerdict v)
{
    switch (v) {
    case NF_VERDICT_NONE:
        return "NONE";
    case NF_VERDICT_ACCEPT:
        return "ACCEPT";
    case NF_VERDICT_DROP:
        return "DROP";
    case NF_VERDICT_REJECT:
        return "REJECT";
    }
    return "NONE";
}

/* Where an endpoint lives, seen from the tracing node; with a timeline (nullable), whether
 * the pod is still in the API and its node up. (transfer full) */
static char *
endpoint_place(const Cluster *c, const Timeline *tl, const Probe *p, const ProbeBranch *pb)
{
    if (pb->pod == NULL)
        return g_strdup(tl != NULL ? "(no pod has this address any more: a stale rule, the "
                                     "connection goes nowhere)"
                                   : "(no pod known at this address)");
    const K8sNode *home = pb->pod->node_name ? cluster_find_node(c, pb->pod->node_name) : NULL;
    SimTime since = 0;
    char buf[SIM_TIME_STRLEN];
    g_autofree char *down = tl != NULL && home != NULL && timeline_node_down(tl, home, &since)
                                ? g_strdup_printf(" - %s is down since %s: no answer", home->name,
                                                  sim_time_format(since, buf))
                                : g_strdup("");
    if (g_strcmp0(pb->pod->node_name, p->node->name) == 0)
        return g_strdup_printf("pod %s on %s (this node)%s", pb->pod->meta.name, p->node->name,
                               down);
    return g_strdup_printf("pod %s on %s (another node: one more hop)%s", pb->pod->meta.name,
                           pb->pod->node_name ? pb->pod->node_name : "?", down);
}

/* The text lines on the rules' age at the timeline's time, and the verdict for a node that is
 * down. */
static void
trace_text_when(GString *out, const Timeline *tl, const K8sNode *node)
{
    char synced[SIM_TIME_STRLEN];
    g_string_append_printf(out, "Rules: programmed by %s's kube-proxy at %s", node->name,
                           sim_time_format(timeline_synced_at(tl, node), synced));
    g_string_append(out,
                    timeline_rules_stale(tl, node)
                        ? "; the Services or EndpointSlices have changed since: stale until its "
                          "next sync.\n"
                        : ", up to date with the Services and EndpointSlices.\n");
}

/* The share of new connections the rules send to a pod whose node is down (what the API
 * server has not noticed yet, or what a stale node still believes). */
static void
trace_text_dead_share(GString *out, const Cluster *c, const Timeline *tl, const Probe *p)
{
    double share = 0;
    for (guint b = 0; b < p->branches->len; b++) {
        const ProbeBranch *pb = g_ptr_array_index(p->branches, b);
        const K8sNode *home = pb->pod != NULL && pb->pod->node_name != NULL
                                  ? cluster_find_node(c, pb->pod->node_name)
                                  : NULL;
        if (pb->branch->dnat &&
            (pb->pod == NULL || (home != NULL && timeline_node_down(tl, home, NULL))))
            share += pb->branch->probability;
    }
    if (share > 0)
        g_string_append_printf(out,
                               "%.1f%% of new connections go to a pod that is gone or on a node "
                               "that is down: they get no answer.\n",
                               100.0 * share);
}

static void
trace_text_source(GString *out, const Cluster *c, const Probe *p)
{
    char src[SIM_ADDR_STRLEN];
    sim_addr_to_string(&p->packet.src.addr, src);
    switch (p->source_kind) {
    case PROBE_SOURCE_NODE:
        g_string_append_printf(out,
                               "Source: %s is an address of %s: a process on the node "
                               "opens the connection (the output hook).\n",
                               src, p->node->name);
        break;
    case PROBE_SOURCE_POD:
        if (p->source_pod)
            g_string_append_printf(out, "Source: pod %s (%s), arriving on %s.\n",
                                   p->source_pod->meta.name, src, p->in_iface);
        else
            g_string_append_printf(out,
                                   "Source: %s is inside the pod network: treated as a pod, "
                                   "arriving on %s.\n",
                                   src, p->in_iface);
        break;
    case PROBE_SOURCE_EXTERNAL:
        g_string_append_printf(out,
                               "Source: %s is outside the cluster (not a pod, not an "
                               "address of %s), arriving on %s.\n",
                               src, p->node->name, p->in_iface);
        break;
    }
}

static void
trace_text_verdict(GString *out, const Timeline *tl, const Probe *p)
{
    SimTime since = 0;
    char when[SIM_TIME_STRLEN];
    if (tl != NULL && timeline_node_down(tl, p->node, &since)) {
        g_string_append_printf(out,
                               "\nVerdict: NO ANSWER - %s is down since %s: the packet is lost.\n"
                               "%s The rules above are frozen as %s last programmed them.\n",
                               p->node->name, sim_time_format(since, when),
                               p->packet.proto == SIM_PROTO_TCP
                                   ? "The client resends its SYN, then times out."
                                   : "The client waits for an answer that never comes.",
                               p->node->name);
        return;
    }
    g_string_append_printf(out, "\nVerdict: %s", verdict_upper(p->verdict));
    for (guint i = 0; i < p->endpoints->len; i++) {
        char buf[SIM_SOCKADDR_STRLEN];
        g_string_append_printf(
            out, "%s%s",
            i == 0                       ? ", DNAT to "
            : i + 1 == p->endpoints->len ? " or "
                                         : ", ",
            sim_sockaddr_to_string(&g_array_index(p->endpoints, SimSockAddr, i), buf));
    }
    g_string_append_c(out, '\n');
    if (p->verdict == NF_VERDICT_NONE)
        g_string_append(out, "No kube-proxy rule claimed the packet: it is routed as it is.\n");
    else if (p->endpoints->len > 0)
        g_string_append(
            out, p->masquerade
                     ? "Masquerade: yes - the pod sees the node's address, not the client's.\n"
                     : "Masquerade: no - the pod sees the client's own address.\n");
}

static void
trace_text(GString *out, const Cluster *c, const Timeline *tl, const Probe *p)
{
    char src[SIM_SOCKADDR_STRLEN], dst[SIM_SOCKADDR_STRLEN];
    Explainer ex = {.probe = p, .node = p->node->name};
    sim_addr_to_string(&p->packet.dst.addr, ex.dst);
    g_string_append_printf(out, "Trace: %s %s -> %s, the first packet of a new connection, at %s\n",
                           sim_proto_k8s_name(p->packet.proto),
                           sim_sockaddr_to_string(&p->packet.src, src),
                           sim_sockaddr_to_string(&p->packet.dst, dst), p->node->name);
    if (tl != NULL) {
        char at[SIM_TIME_STRLEN];
        g_string_truncate(out, out->len - 1);
        g_string_append_printf(out, ", %s into the scenario\n",
                               sim_time_format(timeline_at(tl), at));
        trace_text_when(out, tl, p->node);
    }
    trace_text_source(out, c, p);
    const ProbeBranch *first = g_ptr_array_index(p->branches, 0);
    g_string_append_c(out, '\n');
    for (guint i = 0; i < first->branch->steps->len; i++)
        trace_text_step(out, &ex, &g_array_index(first->branch->steps, NfStep, i));
    for (guint b = 1; b < p->branches->len; b++) {
        const ProbeBranch *pb = g_ptr_array_index(p->branches, b);
        guint k = 0;
        while (k < pb->branch->steps->len && k < first->branch->steps->len &&
               steps_equal(&g_array_index(pb->branch->steps, NfStep, k),
                           &g_array_index(first->branch->steps, NfStep, k)))
            k++;
        g_string_append_printf(out, "\n  -- or (branch %u), from step %u on:\n", b + 1, k + 1);
        for (; k < pb->branch->steps->len; k++)
            trace_text_step(out, &ex, &g_array_index(pb->branch->steps, NfStep, k));
    }
    if (p->endpoints->len > 0 && c->proxy->mode == KP_MODE_IPVS) {
        const char *sched = c->proxy->ipvs_scheduler;
        g_string_append_printf(out,
                               "\nEndpoints (IPVS's %s scheduler picks one per new connection; "
                               "the shares are over many connections):\n",
                               sched != NULL && sched[0] != '\0' ? sched : "rr");
    } else if (p->endpoints->len > 0) {
        g_string_append(out, "\nEndpoints (kube-proxy picks one per new connection):\n");
    }
    if (p->endpoints->len > 0) {
        for (guint b = 0; b < p->branches->len; b++) {
            const ProbeBranch *pb = g_ptr_array_index(p->branches, b);
            if (!pb->branch->dnat)
                continue;
            g_autofree char *place = endpoint_place(c, tl, p, pb);
            g_string_append_printf(out, "  %5.1f%%  %-22s %s\n", 100.0 * pb->branch->probability,
                                   sim_sockaddr_to_string(&pb->endpoint, dst), place);
        }
    }
    trace_text_verdict(out, tl, p);
    kube_proxy_ipvs_trace_note(c, p, out);
    if (tl != NULL && !timeline_node_down(tl, p->node, NULL))
        trace_text_dead_share(out, c, tl, p);
}

/* ------------------------------------------------------------------ JSON output */

static void
trace_json_steps(JsonBuilder *b, const NfBranch *br)
{
    json_builder_begin_array(b);
    for (guint i = 0; i < br->steps->len; i++) {
        const NfStep *st = &g_array_index(br->steps, NfStep, i);
        g_autoptr(GString) rule = g_string_new(NULL);
        if (st->fell_through)
            g_string_append_printf(rule, ":%s ACCEPT", st->chain);
        else if (!kube_proxy_nft_step_rule(st, rule) && /* nftables mode: nft's rule text */
                 !kube_proxy_ipvs_step_rule(st, rule))  /* IPVS: the scheduling decision */
            nf_rule_format(st->rule, rule);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "table");
        json_builder_add_string_value(b, nf_table_name(st->table));
        json_builder_set_member_name(b, "chain");
        json_builder_add_string_value(b, st->chain);
        json_builder_set_member_name(b, "rule");
        json_builder_add_string_value(b, rule->str);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
trace_json_member_string(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, value);
}

static void
trace_json_branches(JsonBuilder *b, const Probe *p)
{
    json_builder_set_member_name(b, "branches");
    json_builder_begin_array(b);
    for (guint i = 0; i < p->branches->len; i++) {
        const ProbeBranch *pb = g_ptr_array_index(p->branches, i);
        char buf[SIM_SOCKADDR_STRLEN];
        json_builder_begin_object(b);
        trace_json_member_string(b, "verdict", nf_verdict_name(pb->branch->verdict));
        json_builder_set_member_name(b, "endpoint");
        if (pb->branch->dnat)
            json_builder_add_string_value(b, sim_sockaddr_to_string(&pb->endpoint, buf));
        else
            json_builder_add_null_value(b);
        if (pb->pod) {
            trace_json_member_string(b, "pod", pb->pod->meta.name);
            trace_json_member_string(b, "podNode", pb->pod->node_name ? pb->pod->node_name : "");
        }
        json_builder_set_member_name(b, "probability");
        json_builder_add_double_value(b, pb->branch->probability);
        json_builder_set_member_name(b, "masquerade");
        json_builder_add_boolean_value(b, pb->branch->masquerade);
        json_builder_set_member_name(b, "rulesEvaluated");
        json_builder_add_int_value(b, (gint64)pb->branch->rules_evaluated);
        json_builder_set_member_name(b, "steps");
        trace_json_steps(b, pb->branch);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* The members on the rules' age (syncedAt, stale) and the node's power (nodeDown). */
static void
trace_json_when(JsonBuilder *b, const Timeline *tl, const K8sNode *node)
{
    char buf[SIM_TIME_STRLEN];
    trace_json_member_string(b, "syncedAt", sim_time_format(timeline_synced_at(tl, node), buf));
    json_builder_set_member_name(b, "stale");
    json_builder_add_boolean_value(b, timeline_rules_stale(tl, node));
    json_builder_set_member_name(b, "nodeDown");
    json_builder_add_boolean_value(b, timeline_node_down(tl, node, NULL));
}

static void
trace_json(GString *out, const Timeline *tl, const Probe *p)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    char buf[SIM_SOCKADDR_STRLEN];
    char at[SIM_TIME_STRLEN];
    gboolean down = tl != NULL && timeline_node_down(tl, p->node, NULL);
    json_builder_begin_object(b);
    trace_json_member_string(b, "node", p->node->name);
    trace_json_member_string(b, "at", sim_time_format(tl != NULL ? timeline_at(tl) : 0, at));
    if (tl != NULL)
        trace_json_when(b, tl, p->node);
    json_builder_set_member_name(b, "packet");
    json_builder_begin_object(b);
    trace_json_member_string(b, "protocol", sim_proto_k8s_name(p->packet.proto));
    trace_json_member_string(b, "source", sim_sockaddr_to_string(&p->packet.src, buf));
    trace_json_member_string(b, "destination", sim_sockaddr_to_string(&p->packet.dst, buf));
    json_builder_end_object(b);
    trace_json_member_string(b, "sourceKind", probe_source_kind_name(p->source_kind));
    trace_json_member_string(b, "verdict", down ? "down" : nf_verdict_name(p->verdict));
    json_builder_set_member_name(b, "endpoints");
    json_builder_begin_array(b);
    for (guint i = 0; i < p->endpoints->len; i++)
        json_builder_add_string_value(
            b, sim_sockaddr_to_string(&g_array_index(p->endpoints, SimSockAddr, i), buf));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "masquerade");
    json_builder_add_boolean_value(b, p->masquerade);
    json_builder_set_member_name(b, "steps");
    trace_json_steps(b, ((ProbeBranch *)g_ptr_array_index(p->branches, 0))->branch);
    trace_json_branches(b, p);
    json_builder_end_object(b);
    cli_append_json(out, b, 2);
}

/* ------------------------------------------------------------------ the command */

/* Loads the cluster, replays it to at when at is not negative, runs the probe through the
 * node's rules of that time and prints the trace. Without at and unless whole, the cluster is
 * built focused on the probe (cluster_build_focused(), which itself falls back to the full
 * build outside iptables mode): the output is the same, the cost a fraction. With at, the
 * timeline replays the controllers over every pod, so it needs the full build. */
static int
cmd_trace_print(const char *scenario, char **manifests, const char *node_name,
                const SimSockAddr *src, const SimSockAddr *dst, SimProto proto, SimTime at,
                gboolean whole, gboolean json)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    GError *error = NULL;
    ClusterFocus focus = {.node = node_name, .from = src->addr, .to = *dst, .proto = proto};
    gboolean focused = at < 0 && !whole;
    if (!cli_load_focused(scenario, manifests, focused ? &focus : NULL, &sc, &cluster, &error))
        return cli_input_error(error);
    const K8sNode *node = cli_find_node(&cmd_trace_entry, cluster, node_name);
    if (node == NULL)
        return KPSIM_EXIT_USAGE;
    g_autoptr(Timeline) tl = NULL;
    if (at >= 0) {
        TimelineOptions opt = {.at = at, .family = dst->addr.family, .node = node->name};
        tl = timeline_new(cluster, &opt, &error);
        if (tl == NULL)
            return cli_input_error(error);
    }
    g_autoptr(Probe) probe = tl != NULL ? probe_run_rules(cluster, node, timeline_rules(tl, node),
                                                          src, dst, proto, &error)
                                        : probe_run(cluster, node, src, dst, proto, &error);
    if (probe == NULL) {
        int rc = cli_usage_error(&cmd_trace_entry, "%s", error->message);
        g_error_free(error);
        return rc;
    }
    g_autoptr(GString) out = g_string_new(NULL);
    if (json)
        trace_json(out, tl, probe);
    else
        trace_text(out, cluster, tl, probe);
    int rc = cli_write_stdout(out);
    g_clear_pointer(&probe, probe_free);
    cli_release(g_steal_pointer(&tl), (GDestroyNotify)timeline_free);
    cli_release(g_steal_pointer(&cluster), (GDestroyNotify)cluster_free);
    cli_release(g_steal_pointer(&sc), (GDestroyNotify)scenario_free);
    return rc;
}

static int
cmd_trace_run(int argc, char **argv)
{
    g_autofree char *node_name = NULL, *from = NULL, *to = NULL, *proto_text = NULL;
    g_autofree char *at_text = NULL;
    g_auto(GStrv) manifests = NULL;
    gboolean json = FALSE, whole = FALSE;
    GOptionEntry entries[] = {
        {"node", 0, 0, G_OPTION_ARG_STRING, &node_name, "The node the packet arrives at", "NODE"},
        {"from", 0, 0, G_OPTION_ARG_STRING, &from, "Source address (port optional)", "IP[:PORT]"},
        {"to", 0, 0, G_OPTION_ARG_STRING, &to, "Destination address and port", "IP:PORT"},
        {"proto", 'p', 0, G_OPTION_ARG_STRING, &proto_text, "tcp (default), udp or sctp", "PROTO"},
        {"at", 0, 0, G_OPTION_ARG_STRING, &at_text,
         "Through the rules the node had programmed at this time of the scenario", "TIME"},
        {"whole-cluster", 0, 0, G_OPTION_ARG_NONE, &whole,
         "Build the whole cluster, not only what the packet can reach (same output, slower)", NULL},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the JSON contract of docs/design.md", NULL},
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &manifests,
         "Add a manifest (without SCENARIO: on the default 3-node cluster)", "MANIFEST"},
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_trace_entry,
                   "Every branch of kube-proxy's random endpoint choice is "
                   "followed; --json prints verdict, endpoints, masquerade, sourceKind and steps.",
                   entries, &argc, &argv, &status))
        return status;
    if (argc > 2 || (argc < 2 && manifests == NULL))
        return cli_usage_error(&cmd_trace_entry,
                               argc > 2 ? "too many arguments" : "missing SCENARIO");
    if (node_name == NULL || from == NULL || to == NULL)
        return cli_usage_error(&cmd_trace_entry, "--node, --from and --to are required");
    SimSockAddr src, dst;
    SimProto proto = SIM_PROTO_TCP;
    if (!sim_sockaddr_parse(from, &src, TRUE))
        return cli_usage_error(&cmd_trace_entry, "invalid --from address '%s'", from);
    if (!sim_sockaddr_parse(to, &dst, FALSE) || dst.port == 0)
        return cli_usage_error(&cmd_trace_entry, "invalid --to '%s' (expected IP:PORT)", to);
    if (proto_text != NULL && (!sim_proto_parse(proto_text, &proto) || proto == SIM_PROTO_ICMP ||
                               proto == SIM_PROTO_ICMPV6))
        return cli_usage_error(&cmd_trace_entry, "unknown protocol '%s' (tcp, udp or sctp)",
                               proto_text);
    SimTime at;
    if (!cli_parse_at(&cmd_trace_entry, at_text, &at))
        return KPSIM_EXIT_USAGE;
    return cmd_trace_print(argc == 2 ? argv[1] : NULL, manifests, node_name, &src, &dst, proto, at,
                           whole, json);
}
