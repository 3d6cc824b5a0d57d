/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim get: the simulated cluster's objects as `kubectl get` shows them.
 *
 * Supports nodes, pods, services, endpointslices, deployments and events, `-o wide` and
 * `-o json`, `-n NAMESPACE` and `-A`, and names after the resource (`kpsim get S service web`).
 * Prints kubectl's "No resources found ..." on stderr when there is nothing to show, and its
 * `Error from server (NotFound): services "x" not found` for each name that does not exist;
 * then, as for any bad input, nothing is shown and the exit status is 2. `--at TIME` shows the cluster as the API server had it at that time of the
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
    .args = "SCENARIO nodes|pods|services|endpointslices|deployments|events [NAME]... "
            "[-o wide|json] [-n NS | -A] [--at TIME] [-f MANIFEST]...",
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

/* What cmd_get_print() shows. */
typedef struct {
    gboolean events;
    ViewResource res;
    ViewFormat fmt;
    ViewSelect sel;
    SimTime at;
} GetRequest;

/* Prints kubectl's NotFound error for every name of r that c does not have and returns how
 * many there were. */
static guint
cmd_get_missing(const Cluster *c, const GetRequest *r)
{
    guint missing = 0;
    for (guint i = 0; r->sel.names != NULL && r->sel.names[i] != NULL; i++) {
        if (view_exists(c, r->res, r->sel.namespace_, r->sel.names[i]))
            continue;
        fprintf(stderr, "Error from server (NotFound): %s \"%s\" not found\n",
                view_resource_api_name(r->res), r->sel.names[i]);
        missing++;
    }
    return missing;
}

/* Prints the view of the loaded cluster, replayed to r->at (no replay when it is negative and
 * events are not asked for). */
static int
cmd_get_print(Cluster *cluster, const GetRequest *r)
{
    g_autoptr(Timeline) tl = NULL;
    GError *error = NULL;
    if (r->at >= 0 || r->events) {
        TimelineOptions opt = {.at = r->at >= 0 ? r->at : cluster->scenario->duration,
                               .no_rules = TRUE};
        tl = timeline_new(cluster, &opt, &error);
        if (tl == NULL)
            return cli_input_error(error);
    }
    if (cmd_get_missing(cluster, r) > 0)
        return KPSIM_EXIT_USAGE;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *empty = NULL;
    gboolean shown = r->events ? view_get_events(cluster, timeline_log(tl), r->fmt, out, &empty)
                               : view_get_select(cluster, tl, r->res, r->fmt, &r->sel, out, &empty);
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
                   "Resources: nodes (no), pods (po), services (svc), endpointslices, "
                   "deployments (deploy), events (ev: what the controllers did, up to --at or "
                   "the scenario's end). Names after the resource show only those objects.",
                   entries, &argc, &argv, &status))
        return status;
    /* SCENARIO RESOURCE [NAME]..., or with -f and no scenario file: RESOURCE [NAME]... */
    ViewResource first;
    gboolean has_scenario =
        !(manifests != NULL && argc >= 2 &&
          (cmd_get_is_events(argv[1]) || view_resource_parse(argv[1], &first)));
    if (argc < (has_scenario ? 3 : 2) || (argc < 3 && manifests == NULL))
        return cli_usage_error(&cmd_get_entry, "missing SCENARIO or RESOURCE");
    const char *scenario = has_scenario ? argv[1] : NULL;
    const char *resource = argv[has_scenario ? 2 : 1];
    GetRequest r = {.events = cmd_get_is_events(resource), .fmt = VIEW_FORMAT_TABLE};
    if (!r.events && !view_resource_parse(resource, &r.res))
        return cli_usage_error(&cmd_get_entry, "unknown resource type '%s'", resource);
    if (argc > (has_scenario ? 3 : 2))
        r.sel.names = (const char *const *)&argv[has_scenario ? 3 : 2];
    if (r.sel.names != NULL && (r.events || all_ns))
        return cli_usage_error(&cmd_get_entry, r.events ? "names are not supported for events"
                                                        : "a resource cannot be retrieved by name "
                                                          "across all namespaces");
    if (output != NULL && g_str_equal(output, "wide"))
        r.fmt = VIEW_FORMAT_WIDE;
    else if (output != NULL && g_str_equal(output, "json"))
        r.fmt = VIEW_FORMAT_JSON;
    else if (output != NULL)
        return cli_usage_error(&cmd_get_entry, "unknown output format '%s' (wide or json)", output);
    if (!cli_parse_at(&cmd_get_entry, at_text, &r.at))
        return KPSIM_EXIT_USAGE;
    r.sel.namespace_ = all_ns ? NULL : ns ? ns : "default";

    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    GError *error = NULL;
    if (!cli_load(scenario, manifests, &sc, &cluster, &error))
        return cli_input_error(error);
    int rc = cmd_get_print(cluster, &r);
    cli_release(g_steal_pointer(&cluster), (GDestroyNotify)cluster_free);
    cli_release(g_steal_pointer(&sc), (GDestroyNotify)scenario_free);
    return rc;
}
