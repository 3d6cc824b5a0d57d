/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim expose: what every node answers from outside, and what restricts it.
 *
 * Lists, node by node, every address and port kube-proxy's rules open to the outside
 * (model/expose.h): NodePorts on the addresses nodePortAddresses allows, healthCheckNodePorts,
 * externalIPs and load-balancer IPs, with the Service behind each, its externalTrafficPolicy,
 * what a new connection from outside meets, and the settings that narrow it. It ends with the
 * count of exposed (address, port) pairs - the security cost of NodePort: every node opens every
 * NodePort. --json prints the same as one object.
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "model/expose.h"
#include "tools/cli.h"

static int cmd_expose_run(int argc, char **argv);

const KpsimCommand cmd_expose_entry = {
    .name = "expose",
    .args = "SCENARIO [-f MANIFEST]... [--json]",
    .summary = "list every node address and port that answers from outside",
    .run = cmd_expose_run,
};

static const char cmd_expose_description[] =
    "For every node: each NodePort on each address nodePortAddresses allows (127.0.0.1 is\n"
    "marked localhost only), each healthCheckNodePort, externalIP and load-balancer IP the\n"
    "node captures; the Service, its type and externalTrafficPolicy; what a new connection\n"
    "from " EXPOSE_OUTSIDE_SOURCE " meets (as kpsim trace would show); and what restricts it.\n"
    "loadBalancerSourceRanges restrict only the load-balancer IP, never the NodePort.";

/* "none" or the restrictions joined with "; ". (transfer full) */
static char *
expose_restrictions_text(const ExposeEntry *e)
{
    if (e->restrictions->len == 0)
        return g_strdup("none");
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < e->restrictions->len; i++)
        g_string_append_printf(s, "%s%s", i ? "; " : "", (const char *)e->restrictions->pdata[i]);
    return g_string_free(s, FALSE);
}

/* One node's block: a header, then one aligned line per entry and its restrictions. */
static void
expose_text_node(const ExposeNode *n, GString *out)
{
    g_string_append_printf(out, "%s: %u (address, port) pair%s from outside\n", n->node->name,
                           n->outside_pairs, n->outside_pairs == 1 ? " answers" : "s answer");
    if (n->entries->len == 0)
        g_string_append(out, "  nothing\n");
    for (guint i = 0; i < n->entries->len; i++) {
        const ExposeEntry *e = n->entries->pdata[i];
        char addr[SIM_SOCKADDR_STRLEN];
        g_autofree char *where = g_strdup_printf("%s/%s", sim_sockaddr_to_string(&e->address, addr),
                                                 sim_proto_k8s_name(e->protocol));
        g_autofree char *restr = expose_restrictions_text(e);
        g_string_append_printf(out, "  %-26s %-19s %s (%s, externalTrafficPolicy %s)%s\n", where,
                               expose_kind_name(e->kind), e->service, e->type, e->policy,
                               e->localhost_only ? " - localhost only" : "");
        g_string_append_printf(out, "  %-26s %s: %s\n", "",
                               e->localhost_only ? "from the node itself" : "from outside",
                               e->outcome);
        g_string_append_printf(out, "  %-26s restricted by: %s\n", "", restr);
    }
}

/* One entry as a JSON object. */
static void
expose_json_entry(JsonBuilder *b, const ExposeEntry *e)
{
    char addr[SIM_ADDR_STRLEN];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "address");
    json_builder_add_string_value(b, sim_addr_to_string(&e->address.addr, addr));
    json_builder_set_member_name(b, "port");
    json_builder_add_int_value(b, e->address.port);
    json_builder_set_member_name(b, "protocol");
    json_builder_add_string_value(b, sim_proto_k8s_name(e->protocol));
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, expose_kind_name(e->kind));
    json_builder_set_member_name(b, "localhost_only");
    json_builder_add_boolean_value(b, e->localhost_only);
    json_builder_set_member_name(b, "service");
    json_builder_add_string_value(b, e->service);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, e->type);
    json_builder_set_member_name(b, "external_traffic_policy");
    json_builder_add_string_value(b, e->policy);
    json_builder_set_member_name(b, "verdict");
    json_builder_add_string_value(b, nf_verdict_name(e->verdict));
    json_builder_set_member_name(b, "endpoints");
    json_builder_add_int_value(b, e->endpoints);
    json_builder_set_member_name(b, "outcome");
    json_builder_add_string_value(b, e->outcome);
    json_builder_set_member_name(b, "restrictions");
    json_builder_begin_array(b);
    for (guint i = 0; i < e->restrictions->len; i++)
        json_builder_add_string_value(b, e->restrictions->pdata[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* The whole report as {nodes: [{name, outside_pairs, exposed: [...]}], summary}. */
static void
expose_json(const ExposeReport *r, GString *out)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "nodes");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->nodes->len; i++) {
        const ExposeNode *n = r->nodes->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, n->node->name);
        json_builder_set_member_name(b, "outside_pairs");
        json_builder_add_int_value(b, n->outside_pairs);
        json_builder_set_member_name(b, "exposed");
        json_builder_begin_array(b);
        for (guint j = 0; j < n->entries->len; j++)
            expose_json_entry(b, n->entries->pdata[j]);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "summary");
    json_builder_add_string_value(b, r->summary);
    json_builder_end_object(b);
    cli_append_json(out, b, 2);
}

/* kpsim expose: load, build the exposure, print it. */
static int
cmd_expose_run(int argc, char **argv)
{
    g_auto(GStrv) manifests = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &manifests, "Add a manifest", "MANIFEST"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON object instead of the text", NULL},
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_expose_entry, cmd_expose_description, entries, &argc, &argv, &status))
        return status;
    if (argc != 2)
        return cli_usage_error(&cmd_expose_entry,
                               argc < 2 ? "a SCENARIO is required" : "too many arguments");
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    GError *error = NULL;
    if (!cli_load(argv[1], manifests, &sc, &cluster, &error))
        return cli_input_error(error);
    g_autoptr(ExposeReport) r = expose_build(cluster, &error);
    if (r == NULL)
        return cli_input_error(error);
    g_autoptr(GString) out = g_string_new(NULL);
    if (json) {
        expose_json(r, out);
    } else {
        for (guint i = 0; i < r->nodes->len; i++) {
            expose_text_node(r->nodes->pdata[i], out);
            g_string_append_c(out, '\n');
        }
        g_string_append_printf(out, "%s\n", r->summary);
    }
    return cli_write_stdout(out);
}
