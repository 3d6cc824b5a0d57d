/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim compare: one scenario under several kube-proxy modes, and where they differ.
 *
 * Loads the scenario once per mode (--modes, default iptables,nftables,ipvs), sets
 * KubeProxyConfiguration's mode, and prints model/compare.h's rows: the new connections each
 * node's rules answer differently (with the documented reason when datapath-semantics.md gives
 * one), then the run's results per traffic, pod and node under each mode with the same seed.
 * What a cluster migration would change, checked before it happens; --fail-on-difference makes
 * it a CI gate. --json prints the same rows as one object.
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "model/compare.h"
#include "model/loader.h"
#include "model/run.h"
#include "tools/cli.h"
#include "tools/kubectl_view.h"

static int cmd_compare_run(int argc, char **argv);

const KpsimCommand cmd_compare_entry = {
    .name = "compare",
    .args = "SCENARIO [-f MANIFEST]... [--modes MODE,MODE...] [--seed N] [--set PATH=VALUE]... "
            "[--no-run] [--json] [--fail-on-difference]",
    .summary = "run one scenario under several kube-proxy modes and show where they differ",
    .run = cmd_compare_run,
};

static const char cmd_compare_description[] =
    "MODE is iptables, nftables or ipvs (default: all three). For every mode the\n"
    "scenario is loaded with KubeProxyConfiguration's mode set to it. First, new connections\n"
    "through the nodes' rules: every address and port a mode exposes from outside, each\n"
    "Service port's clusterIP from a pod, a clusterIP on a port no Service defines and a\n"
    "Service-CIDR address no Service holds; then, unless --no-run, the scenario's traffic\n"
    "with the same seed: success per traffic, each pod's share and the client address it\n"
    "saw, each node's drops. Rows that differ are marked DIFFERS, with the documented reason\n"
    "when there is one. Exit status 0, or 1 with --fail-on-difference when a row differs.";

typedef struct {
    CliAdjust adjust; /* -f, --seed, --set */
    char *modes;
    gboolean no_run, json, fail_on_difference;
} CompareArgs;

/* Loads path once under mode with the manifests, --seed and --set applied, and builds the
 * cluster (adding the default traffic when the scenario has a client and no traffic). On
 * failure prints the error and returns FALSE with *status set. */
static gboolean
compare_load(const CompareArgs *a, const char *path, KpMode mode, gboolean warn, Scenario **sc_out,
             Cluster **c_out, int *status)
{
    GError *error = NULL;
    g_autoptr(Scenario) sc = cli_load_adjusted(&cmd_compare_entry, path, &a->adjust, status, NULL);
    if (sc == NULL)
        return FALSE;
    sc->proxy.mode = mode;
    g_autoptr(Cluster) c = cluster_build(sc, &error);
    if (c == NULL) {
        *status = cli_input_error(error);
        return FALSE;
    }
    for (guint i = 0; warn && i < c->warnings->len; i++)
        fprintf(stderr, "%s\n", (const char *)c->warnings->pdata[i]);
    run_add_default_traffic(sc, c);
    *sc_out = g_steal_pointer(&sc);
    *c_out = g_steal_pointer(&c);
    return TRUE;
}

/* Runs c (its scenario's traffic) and returns the report. NULL after printing the error.
 * (transfer full) */
static RunReport *
compare_run_mode(Cluster *c, KpMode mode)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Run) run = run_new(c, &error);
    if (run == NULL) {
        fprintf(stderr, "kpsim compare: %s: %s\n", compare_mode_name(mode), error->message);
        return NULL;
    }
    run_execute(run, NULL, NULL);
    return run_report(run);
}

/* The rows of one section as a kubectl-style table with a header. */
static void
compare_text_section(const CompareReport *r, CompareSection section, const char *h1, const char *h2,
                     GString *out)
{
    g_autoptr(GString) t = g_string_new(NULL);
    g_string_append_printf(t, "%s\t%s", h1, h2);
    for (guint m = 0; m < r->modes->len; m++)
        g_string_append_printf(t, "\t%s", compare_mode_name(g_array_index(r->modes, KpMode, m)));
    g_string_append(t, "\t\n");
    for (guint i = 0; i < r->rows->len; i++) {
        const CompareRow *row = r->rows->pdata[i];
        if (row->section != section)
            continue;
        g_string_append_printf(t, "%s\t%s", row->subject, row->aspect);
        for (guint m = 0; m < row->values->len; m++)
            g_string_append_printf(t, "\t%s", (const char *)row->values->pdata[m]);
        g_string_append_printf(t, "\t%s\n", row->differs ? "DIFFERS" : "");
    }
    view_tabwrite(out, t->str, 0, 3);
}

/* The differences, one sentence each. */
static void
compare_text_differences(const CompareReport *r, GString *out)
{
    if (r->differences == 0) {
        g_string_append(out, "\nNo differences: every mode treats this scenario the same.\n");
        return;
    }
    g_string_append_printf(out, "\n%u difference%s:\n", r->differences,
                           r->differences == 1 ? "" : "s");
    for (guint i = 0; i < r->rows->len; i++) {
        const CompareRow *row = r->rows->pdata[i];
        if (!row->differs)
            continue;
        g_string_append_printf(out, "  - %s%s %s:", row->subject,
                               row->section == COMPARE_PROBE ? " from" : ",", row->aspect);
        for (guint m = 0; m < row->values->len; m++)
            g_string_append_printf(out, "%s %s %s", m ? ";" : "",
                                   compare_mode_name(g_array_index(r->modes, KpMode, m)),
                                   (const char *)row->values->pdata[m]);
        g_string_append_printf(out, "%s%s\n", row->why ? " - " : "", row->why ? row->why : "");
    }
}

/* The whole comparison as text. */
static void
compare_text(const CompareReport *r, const Scenario *sc, gboolean ran, GString *out)
{
    g_string_append_printf(
        out, "kube-proxy modes compared on %s:", sc->name != NULL ? sc->name : "the scenario");
    for (guint m = 0; m < r->modes->len; m++)
        g_string_append_printf(out, "%s %s", m ? "," : "",
                               compare_mode_name(g_array_index(r->modes, KpMode, m)));
    g_string_append(out, "\n\nNew connections through each node's rules (as kpsim trace answers "
                         "them):\n");
    compare_text_section(r, COMPARE_PROBE, "WHERE", "FROM", out);
    if (ran) {
        g_string_append_printf(
            out, "\nThe run (seed %" G_GUINT64_FORMAT ", the same traffic under every mode):\n",
            sc->seed);
        compare_text_section(r, COMPARE_RUN, "WHAT", "ASPECT", out);
    }
    compare_text_differences(r, out);
}

/* The whole comparison as one JSON object. */
static void
compare_json(const CompareReport *r, const Scenario *sc, GString *out)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "scenario");
    json_builder_add_string_value(b, sc->name != NULL ? sc->name : "");
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64)sc->seed);
    json_builder_set_member_name(b, "modes");
    json_builder_begin_array(b);
    for (guint m = 0; m < r->modes->len; m++)
        json_builder_add_string_value(b, compare_mode_name(g_array_index(r->modes, KpMode, m)));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "rows");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->rows->len; i++) {
        const CompareRow *row = r->rows->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "section");
        json_builder_add_string_value(b, row->section == COMPARE_PROBE ? "probe" : "run");
        json_builder_set_member_name(b, "subject");
        json_builder_add_string_value(b, row->subject);
        json_builder_set_member_name(b, "aspect");
        json_builder_add_string_value(b, row->aspect);
        json_builder_set_member_name(b, "values");
        json_builder_begin_object(b);
        for (guint m = 0; m < row->values->len; m++) {
            json_builder_set_member_name(b, compare_mode_name(g_array_index(r->modes, KpMode, m)));
            json_builder_add_string_value(b, row->values->pdata[m]);
        }
        json_builder_end_object(b);
        json_builder_set_member_name(b, "differs");
        json_builder_add_boolean_value(b, row->differs);
        json_builder_set_member_name(b, "why");
        if (row->why != NULL)
            json_builder_add_string_value(b, row->why);
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "differences");
    json_builder_add_int_value(b, r->differences);
    json_builder_end_object(b);
    cli_append_json(out, b, 2);
}

/* Frees the per-mode scenarios and clusters. */
static void
compare_free_loaded(GPtrArray *scs, GPtrArray *clusters)
{
    for (guint i = 0; i < clusters->len; i++)
        cluster_free(clusters->pdata[i]);
    for (guint i = 0; i < scs->len; i++)
        scenario_free(scs->pdata[i]);
    g_ptr_array_unref(clusters);
    g_ptr_array_unref(scs);
}

/* Adds the run rows: each mode's cluster runs its traffic. FALSE after printing an error. */
static gboolean
compare_runs(CompareReport *r, GPtrArray *clusters)
{
    g_autoptr(GPtrArray) reports = g_ptr_array_new_with_free_func((GDestroyNotify)report_free);
    for (guint m = 0; m < clusters->len; m++) {
        RunReport *rep = compare_run_mode(clusters->pdata[m], g_array_index(r->modes, KpMode, m));
        if (rep == NULL)
            return FALSE;
        g_ptr_array_add(reports, rep);
    }
    compare_add_runs(r, (RunReport *const *)reports->pdata);
    return TRUE;
}

/* Loads every mode, compares, prints. */
static int
compare_main(const CompareArgs *a, const char *path, const GArray *modes)
{
    GPtrArray *scs = g_ptr_array_new(), *clusters = g_ptr_array_new();
    int status = KPSIM_EXIT_OK;
    for (guint m = 0; m < modes->len; m++) {
        Scenario *sc = NULL;
        Cluster *c = NULL;
        if (!compare_load(a, path, g_array_index(modes, KpMode, m), m == 0, &sc, &c, &status)) {
            compare_free_loaded(scs, clusters);
            return status;
        }
        g_ptr_array_add(scs, sc);
        g_ptr_array_add(clusters, c);
    }
    g_autoptr(CompareReport) r =
        compare_report_new((const KpMode *)(gconstpointer)modes->data, modes->len);
    g_autoptr(GError) error = NULL;
    const Scenario *sc0 = scs->pdata[0];
    gboolean ran = !a->no_run && sc0->traffic->len > 0;
    if (!compare_add_probes(r, (Cluster *const *)clusters->pdata, &error)) {
        fprintf(stderr, "kpsim compare: %s\n", error->message);
        status = KPSIM_EXIT_USAGE;
    } else if (ran && !compare_runs(r, clusters)) {
        status = KPSIM_EXIT_USAGE;
    }
    if (status == KPSIM_EXIT_OK) {
        g_autoptr(GString) out = g_string_new(NULL);
        if (a->json)
            compare_json(r, sc0, out);
        else
            compare_text(r, sc0, ran, out);
        status = cli_write_stdout(out);
        if (status == KPSIM_EXIT_OK && a->fail_on_difference && r->differences > 0)
            status = KPSIM_EXIT_FAILED;
    }
    compare_free_loaded(scs, clusters);
    return status;
}

/* kpsim compare: parse, check the modes, compare. */
static int
cmd_compare_run(int argc, char **argv)
{
    CompareArgs a = {0};
    GOptionEntry entries[] = {
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &a.adjust.manifests, "Add a manifest",
         "MANIFEST"},
        {"modes", 0, 0, G_OPTION_ARG_STRING, &a.modes,
         "The kube-proxy modes to compare (default iptables,nftables,ipvs)", "MODE,MODE..."},
        {"seed", 0, 0, G_OPTION_ARG_STRING, &a.adjust.seed, "Replace spec.seed", "N"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.adjust.set, "Change the scenario (as kpsim run)",
         "PATH=VALUE"},
        {"no-run", 0, 0, G_OPTION_ARG_NONE, &a.no_run, "Compare the rules only", NULL},
        {"json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print a JSON object instead of the text", NULL},
        {"fail-on-difference", 0, 0, G_OPTION_ARG_NONE, &a.fail_on_difference,
         "Exit with status 1 when any row differs", NULL},
        {NULL},
    };
    int status;
    gboolean parsed =
        cli_parse(&cmd_compare_entry, cmd_compare_description, entries, &argc, &argv, &status);
    g_autoptr(GArray) modes = NULL;
    if (!parsed)
        ; /* --help or a parse error: status says which */
    else if (argc != 2)
        status = cli_usage_error(&cmd_compare_entry,
                                 argc < 2 ? "a SCENARIO is required" : "too many arguments");
    else if (!compare_parse_modes(a.modes != NULL ? a.modes : "iptables,nftables,ipvs", &modes))
        status = cli_usage_error(&cmd_compare_entry,
                                 "--modes %s: a comma-separated list of iptables, nftables and "
                                 "ipvs, each at most once",
                                 a.modes);
    else
        status = compare_main(&a, argv[1], modes);
    cli_adjust_clear(&a.adjust);
    g_free(a.modes);
    return status;
}
