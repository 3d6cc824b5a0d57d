/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim describe: `kubectl describe service NAME` for the simulated cluster.
 *
 * The layout is kubectl's describeService(), so the article's NodePort and Endpoints lines read
 * the same. Events are those of the simulation, and none exist before time starts. With --at
 * TIME the Service is described as the API server had it at that time of the scenario
 * (model/timeline.h): its endpoints then, and the controllers' records about it as Events.
 */
#include <stdio.h>

#include "model/timeline.h"
#include "tools/cli.h"
#include "tools/kubectl_view.h"

static int cmd_describe_run(int argc, char **argv);

const KpsimCommand cmd_describe_entry = {
    .name = "describe",
    .args = "SCENARIO service NAME [-n NS] [--at TIME] [-f MANIFEST]...",
    .summary = "show one Service in detail as kubectl describe does",
    .run = cmd_describe_run,
};

static int
cmd_describe_run(int argc, char **argv)
{
    g_autofree char *ns = NULL, *at_text = NULL;
    g_auto(GStrv) manifests = NULL;
    GOptionEntry entries[] = {
        {"namespace", 'n', 0, G_OPTION_ARG_STRING, &ns, "Namespace (default: default)", "NS"},
        {"at", 0, 0, G_OPTION_ARG_STRING, &at_text,
         "The Service at this time of the scenario (events and controllers up to it)", "TIME"},
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &manifests,
         "Add a manifest (without SCENARIO: on the default 3-node cluster)", "MANIFEST"},
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_describe_entry, NULL, entries, &argc, &argv, &status))
        return status;
    const char *scenario = NULL, *kind, *name;
    if (argc == 4) {
        scenario = argv[1];
        kind = argv[2];
        name = argv[3];
    } else if (argc == 3 && manifests != NULL) {
        kind = argv[1];
        name = argv[2];
    } else {
        return cli_usage_error(&cmd_describe_entry, "expected SCENARIO service NAME");
    }
    if (!g_str_equal(kind, "service") && !g_str_equal(kind, "services") &&
        !g_str_equal(kind, "svc"))
        return cli_usage_error(&cmd_describe_entry, "can only describe services, not '%s'", kind);
    SimTime at;
    if (!cli_parse_at(&cmd_describe_entry, at_text, &at))
        return KPSIM_EXIT_USAGE;

    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    GError *error = NULL;
    if (!cli_load(scenario, manifests, &sc, &cluster, &error))
        return cli_input_error(error);
    g_autoptr(Timeline) tl = NULL;
    if (at >= 0) {
        TimelineOptions opt = {.at = at, .no_rules = TRUE};
        tl = timeline_new(cluster, &opt, &error);
        if (tl == NULL)
            return cli_input_error(error);
    }
    g_autoptr(GString) out = g_string_new(NULL);
    if (!view_describe_service_at(cluster, tl, ns ? ns : "default", name, out)) {
        fprintf(stderr, "Error from server (NotFound): services \"%s\" not found\n", name);
        return KPSIM_EXIT_USAGE;
    }
    int rc = cli_write_stdout(out);
    cli_release(g_steal_pointer(&tl), (GDestroyNotify)timeline_free);
    cli_release(g_steal_pointer(&cluster), (GDestroyNotify)cluster_free);
    cli_release(g_steal_pointer(&sc), (GDestroyNotify)scenario_free);
    return rc;
}
