/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim check: judge a scenario's expectations (spec.expect) and exit 0 when all hold, 1 when
 * one fails, 2 on bad input - the command a CI pipeline runs on every commit.
 *
 * Expectations are typed and validated before anything runs (model/expect.h), so a mistyped
 * traffic name or threshold is an input error with its FILE:LINE:COLUMN, not a failure. The
 * simulation runs only when an expectation needs its results; probes alone are answered from
 * the nodes' rules. The verdicts go to stdout as "PASS|FAIL  TEXT  (observed: ...)" lines and a
 * summary, or as one JSON object (--json), and optionally to a JUnit XML file (--junit).
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "model/expect.h"
#include "model/loader.h"
#include "model/run.h"
#include "tools/cli.h"
#include "tools/report.h"

static int cmd_check_run(int argc, char **argv);

const KpsimCommand cmd_check_entry = {
    .name = "check",
    .args = "SCENARIO [-f MANIFEST]... [--seed N] [--junit FILE] [--json]",
    .summary = "evaluate the scenario's expectations (exit 1 when one fails)",
    .run = cmd_check_run,
};

static const char cmd_check_description[] =
    "Evaluates every entry of spec.expect: {traffic, succeeded}, {pods, maxShare|minShare|\n"
    "imbalance}, {traffic, sourceIPSeenByPods: preserved|snat}, {probe: {node, from, to,\n"
    "protocol}, verdict, endpoints, masquerade, [at: TIME]}, {node, drops: {REASON:\n"
    "THRESHOLD}} and {traffic, [target: IP:PORT], blackHole: \"<= DURATION\"}.\n"
    "The scenario is simulated only when an expectation needs the run's results.\n"
    "Exit status: 0 every expectation holds, 1 one fails, 2 bad input or usage.";

typedef struct {
    CliAdjust adjust; /* -f, --seed */
    char *junit;
    gboolean json;
    char *max_events, *max_memory; /* --max-events, --max-memory (tools/cli.h) */
    BudgetLimits limits;
} CheckArgs;

/* Frees the parsed options. */
static void
check_args_clear(CheckArgs *a)
{
    cli_adjust_clear(&a->adjust);
    g_free(a->junit);
    g_free(a->max_events);
    g_free(a->max_memory);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CheckArgs, check_args_clear)

/* Loads the scenario and manifests, applies --seed and builds the cluster; on failure prints
 * the error and returns the exit status. */
static int
check_load(const CheckArgs *a, const char *path, Scenario **sc_out, Cluster **cluster_out)
{
    GError *error = NULL;
    int status;
    g_autoptr(Scenario) sc = cli_load_adjusted(&cmd_check_entry, path, &a->adjust, &status, NULL);
    if (sc == NULL)
        return status;
    if (!cli_budget_check(sc, NULL, &a->limits))
        return KPSIM_EXIT_USAGE;
    g_autoptr(Cluster) cluster = cluster_build(sc, &error);
    if (cluster == NULL)
        return cli_input_error(error);
    for (guint i = 0; i < sc->warnings->len; i++)
        fprintf(stderr, "%s\n", (const char *)sc->warnings->pdata[i]);
    for (guint i = 0; i < cluster->warnings->len; i++)
        fprintf(stderr, "%s\n", (const char *)cluster->warnings->pdata[i]);
    *sc_out = g_steal_pointer(&sc);
    *cluster_out = g_steal_pointer(&cluster);
    return KPSIM_EXIT_OK;
}

/* What check_replay() loads again. */
typedef struct {
    const CheckArgs *args;
    const char *path;
} CheckReplay;

/* ExpectReplayFunc: the scenario, manifests and --seed loaded again, quietly (check_load()
 * already printed the warnings), for a probe `at` a time. */
static gboolean
check_replay(gpointer data, Scenario **sc, Cluster **c, GError **error)
{
    const CheckReplay *r = data;
    int status;
    *sc = cli_load_adjusted(NULL, r->path, &r->args->adjust, &status, error);
    if (*sc == NULL)
        return FALSE;
    *c = cluster_build(*sc, error);
    return *c != NULL;
}

/* The text output: one line per expectation, then a summary. */
static void
check_text(const GPtrArray *results, gboolean ran, GString *out)
{
    for (guint i = 0; i < results->len; i++) {
        const ExpectResult *r = results->pdata[i];
        g_string_append_printf(out, "%s  %s  (observed: %s)\n", r->ok ? "PASS" : "FAIL", r->text,
                               r->observed);
        if (!r->ok && r->pos.file != NULL)
            g_string_append_printf(out, "      expected at %s:%u:%u\n", r->pos.file, r->pos.line,
                                   r->pos.column);
    }
    guint failed = expect_count_failed(results);
    g_string_append_printf(out, "\n%u expectation%s: %u passed, %u failed%s\n", results->len,
                           results->len == 1 ? "" : "s", results->len - failed, failed,
                           ran ? "" : " (answered from the rules, no simulation needed)");
}

/* The JSON output: {scenario, file, seed, simulated, passed, failed, expectations[]}. */
static void
check_json(const Scenario *sc, const GPtrArray *results, gboolean ran, GString *out)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    guint failed = expect_count_failed(results);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "scenario");
    json_builder_add_string_value(b, sc->name != NULL ? sc->name : "");
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, sc->file);
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64)sc->seed);
    json_builder_set_member_name(b, "simulated");
    json_builder_add_boolean_value(b, ran);
    json_builder_set_member_name(b, "passed");
    json_builder_add_int_value(b, results->len - failed);
    json_builder_set_member_name(b, "failed");
    json_builder_add_int_value(b, failed);
    json_builder_set_member_name(b, "expectations");
    json_builder_begin_array(b);
    for (guint i = 0; i < results->len; i++) {
        const ExpectResult *r = results->pdata[i];
        g_autofree char *at =
            g_strdup_printf("%s:%u:%u", r->pos.file ? r->pos.file : "", r->pos.line, r->pos.column);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "text");
        json_builder_add_string_value(b, r->text);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, r->ok);
        json_builder_set_member_name(b, "observed");
        json_builder_add_string_value(b, r->observed);
        json_builder_set_member_name(b, "position");
        json_builder_add_string_value(b, at);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    cli_append_json(out, b, 2);
}

/* Runs the simulation of cluster and returns its report, or NULL after printing the error. */
static RunReport *
check_simulate(const Cluster *cluster, const BudgetLimits *limits)
{
    GError *error = NULL;
    g_autoptr(Run) run = run_new(cluster, &error);
    if (run == NULL) {
        cli_input_error(error);
        return NULL;
    }
    if (!cli_run_limited(&cmd_check_entry, run, limits->max_events))
        return NULL;
    return run_report(run);
}

/* kpsim check: load, type the expectations, simulate if needed, judge, report. */
static int
cmd_check_run(int argc, char **argv)
{
    g_auto(CheckArgs) a = {0};
    GOptionEntry entries[] = {
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &a.adjust.manifests, "Add a manifest",
         "MANIFEST"},
        {"seed", 0, 0, G_OPTION_ARG_STRING, &a.adjust.seed, "Replace spec.seed", "N"},
        {"junit", 0, 0, G_OPTION_ARG_FILENAME, &a.junit, "Also write a JUnit XML report to FILE",
         "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print a JSON object instead of the text", NULL},
        CLI_BUDGET_OPTION_ENTRIES(&a.max_events, &a.max_memory),
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_check_entry, cmd_check_description, entries, &argc, &argv, &status) ||
        !cli_budget_limits(&cmd_check_entry, a.max_events, a.max_memory, &a.limits, &status))
        return status;
    if (argc != 2)
        return cli_usage_error(&cmd_check_entry,
                               argc < 2 ? "a SCENARIO is required" : "too many arguments");
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    if ((status = check_load(&a, argv[1], &sc, &cluster)) != KPSIM_EXIT_OK)
        return status;
    GError *error = NULL;
    g_autoptr(GPtrArray) expectations = expect_parse_all(cluster, &error);
    if (expectations == NULL)
        return cli_input_error(error);
    if (expectations->len == 0)
        return cli_usage_error(&cmd_check_entry, "%s has no expectations (spec.expect)", argv[1]);
    gboolean ran = expect_needs_run(expectations);
    g_autoptr(GPtrArray) results = expect_evaluate_probes(expectations, cluster);
    CheckReplay replay = {.args = &a, .path = argv[1]};
    expect_evaluate_probes_at(results, expectations, check_replay, &replay);
    g_autoptr(RunReport) rep = ran ? check_simulate(cluster, &a.limits) : NULL;
    if (ran && rep == NULL)
        return KPSIM_EXIT_USAGE;
    expect_evaluate_run(results, expectations, cluster, rep);
    if (a.junit != NULL && !report_junit_write_file(a.junit, results, sc->name, &error)) {
        fprintf(stderr, "kpsim check: %s\n", error->message);
        g_error_free(error);
        return KPSIM_EXIT_USAGE;
    }
    g_autoptr(GString) out = g_string_new(NULL);
    if (a.json)
        check_json(sc, results, ran, out);
    else
        check_text(results, ran, out);
    if ((status = cli_write_stdout(out)) != KPSIM_EXIT_OK)
        return status;
    return expect_count_failed(results) > 0 ? KPSIM_EXIT_FAILED : KPSIM_EXIT_OK;
}
