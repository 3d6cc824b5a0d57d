/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim get: the simulated cluster's objects as `kubectl get` shows them.
 *
 * Supports nodes, pods, services and endpointslices, `-o wide` and `-o json`, `-n NAMESPACE`
 * and `-A`. Prints kubectl's "No resources found ..." on stderr when there is nothing to show.
 */
#include <stdio.h>

#include "tools/cli.h"
#include "tools/kubectl_view.h"

static int cmd_get_run(int argc, char **argv);

const KpsimCommand cmd_get_entry = {
    .name = "get",
    .args =
        "SCENARIO nodes|pods|services|endpointslices [-o wide|json] [-n NS | -A] [-f MANIFEST]...",
    .summary = "list the cluster's objects as kubectl get does",
    .run = cmd_get_run,
};

static int
cmd_get_run(int argc, char **argv)
{
    g_autofree char *output = NULL, *ns = NULL;
    g_auto(GStrv) manifests = NULL;
    gboolean all_ns = FALSE;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: wide or json", "FORMAT"},
        {"namespace", 'n', 0, G_OPTION_ARG_STRING, &ns, "Namespace (default: default)", "NS"},
        {"all-namespaces", 'A', 0, G_OPTION_ARG_NONE, &all_ns, "List every namespace", NULL},
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &manifests,
         "Add a manifest (without SCENARIO: on the default 3-node cluster)", "MANIFEST"},
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_get_entry,
                   "Resources: nodes (no), pods (po), services (svc), endpointslices.", entries,
                   &argc, &argv, &status))
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
    ViewResource res;
    if (!view_resource_parse(resource, &res))
        return cli_usage_error(&cmd_get_entry, "unknown resource type '%s'", resource);
    ViewFormat fmt = VIEW_FORMAT_TABLE;
    if (output != NULL && g_str_equal(output, "wide"))
        fmt = VIEW_FORMAT_WIDE;
    else if (output != NULL && g_str_equal(output, "json"))
        fmt = VIEW_FORMAT_JSON;
    else if (output != NULL)
        return cli_usage_error(&cmd_get_entry, "unknown output format '%s' (wide or json)", output);

    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    GError *error = NULL;
    if (!cli_load(scenario, manifests, &sc, &cluster, &error))
        return cli_input_error(error);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *empty = NULL;
    if (!view_get(cluster, res, fmt, all_ns ? NULL : ns ? ns : "default", out, &empty)) {
        fprintf(stderr, "%s\n", empty);
        return KPSIM_EXIT_OK;
    }
    return cli_write_stdout(out);
}
