/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim get: the simulated cluster's objects as `kubectl get` shows them.
 *
 * Supports nodes, pods, services, endpointslices and events, `-o wide` and `-o json`,
 * `-n NAMESPACE` and `-A`. Prints kubectl's "No resources found ..." on stderr when there is
 * nothing to show. `--at TIME` shows the cluster as the API server had it at that time of the
 * scenario (model/timeline.h); `events` lists what the controllers did up to then (up to the
 * scenario's end without --at).
 */
#include <stdio.h>

#include "model/timeline.h"
#include "tools/cli.h"
#include "tools/kubectl_view.h"

static int cmd_get_run(int argc, char **argv);

const KpsimCommand cmd_get_entry = {
    .name = "get",
    .args = "SCENARIO nodes|pods|services|endpointslices|events [-o wide|json] [-n NS | -A] "
            "[--at TIME] [-f MANIFEST]...",
    .summary = "list the cluster's objects as kubectl get does",
    .run = cmd_get_run,
};

/* Is text kubectl's name for Events ("events", "event", "ev")? */
static gboolean
cmd_get_is_events(const char *text)
{
    return g_ascii_strcasecmp(text, "events") == 0 || g_ascii_strcasecmp(text, "event") == 0 ||
           g_ascii_strcasecmp(text, "ev") == 0;
}

/* Prints the view of the loaded cluster, replayed to at (no replay when at is negative and
 * events are not asked for). */
static int
cmd_get_print(Cluster *cluster, gboolean events, ViewResource res, ViewFormat fmt, const char *ns,
              SimTime at)
{
    g_autoptr(Timeline) tl = NULL;
    GError *error = NULL;
    if (at >= 0 || events) {
        TimelineOptions opt = {.at = at >= 0 ? at : cluster->scenario->duration, .no_rules = TRUE};
        tl = timeline_new(cluster, &opt, &error);
        if (tl == NULL)
            return cli_input_error(error);
    }
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *empty = NULL;
    gboolean shown = events ? view_get_events(cluster, timeline_log(tl), fmt, out, &empty)
                            : view_get_at(cluster, tl, res, fmt, ns, out, &empty);
    if (!shown) {
        fprintf(stderr, "%s\n", empty);
        return KPSIM_EXIT_OK;
    }
    return cli_write_stdout(out);
}

static int
cmd_get_run(int argc, char **argv)
{
    g_autofree char *output = NULL, *ns = NULL, *at_text = NULL;
    g_auto(GStrv) manifests = NULL;
    gboolean all_ns = FALSE;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: wide or json", "FORMAT"},
        {"namespace", 'n', 0, G_OPTION_ARG_STRING, &ns, "Namespace (default: default)", "NS"},
        {"all-namespaces", 'A', 0, G_OPTION_ARG_NONE, &all_ns, "List every namespace", NULL},
        {"at", 0, 0, G_OPTION_ARG_STRING, &at_text,
         "The cluster at this time of the scenario (events and controllers up to it)", "TIME"},
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &manifests,
         "Add a manifest (without SCENARIO: on the default 3-node cluster)", "MANIFEST"},
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_get_entry,
                   "Resources: nodes (no), pods (po), services (svc), endpointslices, events "
                   "(ev: what the controllers did, up to --at or the scenario's end).",
                   entries, &argc, &argv, &status))
        return status;
    const char *scenario = NULL, *resource = NULL;
    if (argc == 3) {
        scenario = argv[1];
        resource = argv[2];
    } else if (argc == 2 && manifests != NULL) {
        resource = argv[1];
    } else {
        return cli_usage_error(&cmd_get_entry,
                               argc < 3 ? "missing SCENARIO or RESOURCE" : "too many arguments");
    }
    ViewResource res = VIEW_NODES;
    gboolean events = cmd_get_is_events(resource);
    if (!events && !view_resource_parse(resource, &res))
        return cli_usage_error(&cmd_get_entry, "unknown resource type '%s'", resource);
    ViewFormat fmt = VIEW_FORMAT_TABLE;
    if (output != NULL && g_str_equal(output, "wide"))
        fmt = VIEW_FORMAT_WIDE;
    else if (output != NULL && g_str_equal(output, "json"))
        fmt = VIEW_FORMAT_JSON;
    else if (output != NULL)
        return cli_usage_error(&cmd_get_entry, "unknown output format '%s' (wide or json)", output);
    SimTime at;
    if (!cli_parse_at(&cmd_get_entry, at_text, &at))
        return KPSIM_EXIT_USAGE;

    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    GError *error = NULL;
    if (!cli_load(scenario, manifests, &sc, &cluster, &error))
        return cli_input_error(error);
    return cmd_get_print(cluster, events, res, fmt, all_ns ? NULL : ns ? ns : "default", at);
}
