/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim tour: a scenario at a glance - its nodes, pods and Services as kubectl shows them, and
 * where each of its traffic targets sends a new connection.
 *
 * `kpsim` with no arguments runs this on the built-in seed example (the article's nginx
 * NodePort Service on three nodes), so a first-time user sees the NodePort path, the random
 * choice between pods, the extra hop and the SNAT without reading anything first.
 */
#include <stdio.h>

#include "model/kube_proxy.h"
#include "model/probe.h"
#include "tools/cli.h"
#include "tools/kubectl_view.h"

static int cmd_tour_run(int argc, char **argv);

const KpsimCommand cmd_tour_entry = {
    .name = "tour",
    .args = "[SCENARIO] [-f MANIFEST]...",
    .summary = "show a scenario's cluster and where its traffic goes (default: the seed example)",
    .run = cmd_tour_run,
};

static void
tour_section(GString *out, const char *title)
{
    g_string_append_printf(out, "\n== %s\n\n", title);
}

/* The node that owns addr as one of its addresses, or NULL. */
static const K8sNode *
tour_node_for(const Cluster *c, const SimAddr *addr)
{
    for (guint i = 0; i < c->nodes->len; i++) {
        const K8sNode *n = g_ptr_array_index(c->nodes, i);
        for (guint j = 0; j < n->addresses->len; j++)
            if (sim_addr_equal(&g_array_index(n->addresses, SimAddr, j), addr))
                return n;
    }
    return NULL;
}

/* One line per target: verdict, endpoints with their share and place, SNAT. */
static void
tour_target(GString *out, const Cluster *c, const ScenarioClient *client, const SimSockAddr *to,
            SimProto proto)
{
    char buf[SIM_SOCKADDR_STRLEN];
    const K8sNode *node = tour_node_for(c, &to->addr);
    g_string_append_printf(out, "  %s -> %s", client->name, sim_sockaddr_to_string(to, buf));
    if (node == NULL) {
        g_string_append(out, ": no node has this address\n");
        return;
    }
    SimSockAddr from = {client->address, 0};
    g_autoptr(GError) error = NULL;
    g_autoptr(Probe) p = probe_run(c, node, &from, to, proto, &error);
    if (p == NULL) {
        g_string_append_printf(out, ": %s\n", error->message);
        return;
    }
    g_string_append_printf(out, " (enters %s): %s\n", node->name, nf_verdict_name(p->verdict));
    for (guint i = 0; i < p->branches->len; i++) {
        const ProbeBranch *pb = g_ptr_array_index(p->branches, i);
        if (!pb->branch->dnat)
            continue;
        const char *where = pb->pod == NULL ? "?" : pb->pod->node_name ? pb->pod->node_name : "?";
        gboolean local = g_strcmp0(where, node->name) == 0;
        g_string_append_printf(out, "      %5.1f%% -> %-18s on %s%s, pod sees source %s\n",
                               100.0 * pb->branch->probability,
                               sim_sockaddr_to_string(&pb->endpoint, buf), where,
                               local ? " (same node)" : " (one more hop)",
                               pb->branch->masquerade ? node->name : client->name);
    }
    g_autoptr(GString) note = g_string_new(NULL);
    if (kube_proxy_ipvs_trace_note(c, p, note))
        g_string_append(out, "      but the connection fails: IPVS forwards it without SNAT, so "
                             "the pod's reply bypasses this node (kpsim trace explains)\n");
    if (p->verdict == NF_VERDICT_DROP)
        g_string_append(out, "      dropped on this node: no local endpoint for a Local policy\n");
    else if (p->verdict == NF_VERDICT_REJECT)
        g_string_append(out, "      rejected: the Service has no endpoints\n");
}

static void
tour_traffic(GString *out, const Cluster *c, const Scenario *sc)
{
    tour_section(out, "Where each traffic target sends a new connection (kpsim trace)");
    if (sc->traffic->len == 0)
        g_string_append(out, "  (the scenario has no traffic)\n");
    for (guint i = 0; i < sc->traffic->len; i++) {
        const ScenarioTraffic *t = g_ptr_array_index(sc->traffic, i);
        const ScenarioClient *client = NULL;
        for (guint j = 0; j < sc->clients->len && client == NULL; j++) {
            const ScenarioClient *cl = g_ptr_array_index(sc->clients, j);
            if (g_strcmp0(cl->name, t->from) == 0)
                client = cl;
        }
        if (client == NULL)
            continue;
        g_string_append_printf(out, "traffic %s (%s, from %s):\n", t->name,
                               sim_proto_k8s_name(t->protocol), client->name);
        for (guint j = 0; j < t->to->len; j++)
            tour_target(out, c, client, &g_array_index(t->to, SimSockAddr, j), t->protocol);
    }
}

static void
tour_views(GString *out, const Cluster *c)
{
    g_autofree char *empty = NULL;
    tour_section(out, "kubectl get nodes -o wide");
    view_get(c, VIEW_NODES, VIEW_FORMAT_WIDE, NULL, out, &empty);
    tour_section(out, "kubectl get deployments -A");
    if (!view_get(c, VIEW_DEPLOYMENTS, VIEW_FORMAT_TABLE, NULL, out, &empty))
        g_string_append_printf(out, "%s\n", empty);
    g_clear_pointer(&empty, g_free);
    tour_section(out, "kubectl get pods -o wide -A");
    if (!view_get(c, VIEW_PODS, VIEW_FORMAT_WIDE, NULL, out, &empty))
        g_string_append_printf(out, "%s\n", empty);
    tour_section(out, "kubectl get services -A");
    g_clear_pointer(&empty, g_free);
    if (!view_get(c, VIEW_SERVICES, VIEW_FORMAT_TABLE, NULL, out, &empty))
        g_string_append_printf(out, "%s\n", empty);
    for (guint i = 0; i < c->services->len; i++) {
        const K8sService *s = g_ptr_array_index(c->services, i);
        if (s->type != K8S_SVC_NODE_PORT && s->type != K8S_SVC_LOAD_BALANCER)
            continue;
        g_autofree char *title =
            g_strdup_printf("kubectl describe service %s -n %s", s->meta.name, s->meta.namespace_);
        tour_section(out, title);
        view_describe_service(c, s->meta.namespace_, s->meta.name, out);
    }
}

static int
cmd_tour_run(int argc, char **argv)
{
    g_auto(GStrv) manifests = NULL;
    GOptionEntry entries[] = {
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &manifests,
         "Add a manifest (without SCENARIO: on the default 3-node cluster)", "MANIFEST"},
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_tour_entry, NULL, entries, &argc, &argv, &status))
        return status;
    if (argc > 2)
        return cli_usage_error(&cmd_tour_entry, "too many arguments");
    g_autofree char *path = argc == 2 ? g_strdup(argv[1]) : NULL;
    if (path == NULL && manifests == NULL && (path = cli_seed_scenario_path()) == NULL) {
        fprintf(stderr, "kpsim: the seed example (scenarios/seed-nginx-nodeport.yaml) was not "
                        "found beside the kpsim binary or in its data directory\n");
        return KPSIM_EXIT_USAGE;
    }
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    GError *error = NULL;
    if (!cli_load(path, manifests, &sc, &cluster, &error))
        return cli_input_error(error);
    g_autoptr(GString) out = g_string_new(NULL);
    g_string_append_printf(out, "kpsim: scenario %s (%s)\n", sc->name ? sc->name : "-", sc->file);
    if (sc->description)
        g_string_append_printf(out, "%s\n", sc->description);
    tour_views(out, cluster);
    tour_traffic(out, cluster, sc);
    g_string_append_printf(out,
                           "\nNext: kpsim trace %s --node NODE --from IP --to IP:PORT, "
                           "kpsim rules %s --node NODE\n",
                           sc->file, sc->file);
    return cli_write_stdout(out);
}
