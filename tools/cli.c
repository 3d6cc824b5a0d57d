/* SPDX-License-Identifier: Apache-2.0 */
/* Shared plumbing of the kpsim subcommands: option parsing, loading, errors, output.
 *
 * Mirrors kubectl's habits where users expect them (errors on stderr, nothing half-printed on
 * stdout) and tmux's one-file-per-command layout: each cmd_*.c holds its options and run
 * function, this file holds what they share.
 */
#include "tools/cli.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/expect.h"
#include "model/loader.h"

#define CLI_HEAP_STEP (64 << 20) /* bytes the heap grows by at least, and keeps */

#ifndef KPSIM_DATADIR
#define KPSIM_DATADIR "/usr/local/share/kpsim"
#endif
#ifndef KPSIM_SOURCE_DIR
#define KPSIM_SOURCE_DIR "."
#endif

#define SEED_SCENARIO "scenarios/seed-nginx-nodeport.yaml"

int
cli_usage_error(const KpsimCommand *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "kpsim %s: %s\nusage: kpsim %s %s\n", cmd->name, msg, cmd->name, cmd->args);
    return KPSIM_EXIT_USAGE;
}

/* Shortens every word of text longer than CLI_LONG_WORD characters (a 200 kB name quoted back
 * in an error, say) to its head and tail, so an error stays one readable line. (transfer full) */
#define CLI_LONG_WORD 120
static char *
cli_shorten_words(const char *text)
{
    GString *out = g_string_new(NULL);
    const char *p = text;
    while (*p != '\0') {
        gsize n = strcspn(p, " ");
        if (g_utf8_strlen(p, n) > CLI_LONG_WORD) {
            const char *head_end = g_utf8_offset_to_pointer(p, 60);
            const char *tail = g_utf8_offset_to_pointer(p, g_utf8_strlen(p, n) - 20);
            g_string_append_len(out, p, head_end - p);
            g_string_append_printf(out, "...(%ld characters)...", g_utf8_strlen(p, n) - 80);
            g_string_append_len(out, tail, p + n - tail);
        } else {
            g_string_append_len(out, p, n);
        }
        p += n;
        if (*p == ' ')
            g_string_append_c(out, *p++);
    }
    return g_string_free(out, FALSE);
}

int
cli_input_error(GError *error)
{
    g_autofree char *line = cli_shorten_words(error->message);
    fprintf(stderr, "%s\n", line);
    g_error_free(error);
    return KPSIM_EXIT_USAGE;
}

gboolean
cli_parse(const KpsimCommand *cmd, const char *description, GOptionEntry *entries, int *argc,
          char ***argv, int *status)
{
    g_autofree char *param = g_strdup_printf("%s - %s", cmd->args, cmd->summary);
    g_autoptr(GOptionContext) ctx = g_option_context_new(param);
    g_autofree char *prgname = g_strdup_printf("kpsim %s", cmd->name);
    g_set_prgname(prgname);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx, description);
    g_option_context_set_help_enabled(ctx, TRUE);
    for (int i = 1; i < *argc; i++) {
        if (g_str_equal((*argv)[i], "--help") || g_str_equal((*argv)[i], "-h")) {
            g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
            fputs(help, stdout);
            *status = KPSIM_EXIT_OK;
            return FALSE;
        }
    }
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        *status = cli_usage_error(cmd, "%s", error->message);
        return FALSE;
    }
    return TRUE;
}

/* Prints the loader's and controllers' warnings, in order, on stderr. */
static void
cli_print_warnings(const GPtrArray *warnings)
{
    for (guint i = 0; warnings != NULL && i < warnings->len; i++)
        fprintf(stderr, "%s\n", (const char *)g_ptr_array_index(warnings, i));
}

gboolean
cli_load(const char *scenario_path, char **manifests, Scenario **sc_out, Cluster **cluster_out,
         GError **error)
{
    return cli_load_focused(scenario_path, manifests, NULL, sc_out, cluster_out, error);
}

gboolean
cli_load_focused(const char *scenario_path, char **manifests, const ClusterFocus *focus,
                 Scenario **sc_out, Cluster **cluster_out, GError **error)
{
    /* Every caller is a one-shot command (get, describe, rules, trace, tour, expose) that
     * builds tens of MiB of small objects and exits. */
    cli_heap_prepare(CLI_HEAP_STEP);
    g_autoptr(Scenario) sc =
        scenario_path ? loader_load_scenario(scenario_path, error) : scenario_new_default();
    if (sc == NULL)
        return FALSE;
    for (guint i = 0; manifests != NULL && manifests[i] != NULL; i++) {
        if (!loader_add_manifest(sc, manifests[i], error))
            return FALSE;
    }
    g_autoptr(Cluster) cluster =
        focus != NULL ? cluster_build_focused(sc, focus, error) : cluster_build(sc, error);
    if (cluster == NULL)
        return FALSE;
    /* Every command validates spec.expect, so a bad expectation is caught by `get` as well. */
    g_autoptr(GPtrArray) expectations = expect_parse_all(cluster, error);
    if (expectations == NULL)
        return FALSE;
    cli_print_warnings(sc->warnings);
    cli_print_warnings(cluster->warnings);
    *sc_out = g_steal_pointer(&sc);
    *cluster_out = g_steal_pointer(&cluster);
    return TRUE;
}

void
cli_adjust_clear(CliAdjust *a)
{
    g_strfreev(a->manifests);
    g_free(a->seed);
    g_free(a->duration);
    g_strfreev(a->set);
}

/* Applies --seed, --duration and --set to sc; on a bad value sets *error to the usage message
 * ("--seed X: not an unsigned integer") and returns FALSE. */
static gboolean
cli_adjust_apply(Scenario *sc, const CliAdjust *a, GError **error)
{
    g_autofree char *seed = a->seed != NULL ? g_strdup_printf("seed=%s", a->seed) : NULL;
    if (seed != NULL && !run_override(sc, seed, NULL)) {
        g_set_error(error, RUN_ERROR, RUN_ERROR_OVERRIDE, "--seed %s: not an unsigned integer",
                    a->seed);
        return FALSE;
    }
    g_autofree char *duration =
        a->duration != NULL ? g_strdup_printf("duration=%s", a->duration) : NULL;
    if (duration != NULL && !run_override(sc, duration, NULL)) {
        g_set_error(error, RUN_ERROR, RUN_ERROR_OVERRIDE, "--duration %s: not a positive duration",
                    a->duration);
        return FALSE;
    }
    for (guint i = 0; a->set != NULL && a->set[i] != NULL; i++)
        if (!run_override(sc, a->set[i], error))
            return FALSE;
    return TRUE;
}

Scenario *
cli_load_adjusted(const KpsimCommand *cmd, const char *path, const CliAdjust *a, int *status,
                  GError **error)
{
    GError *local = NULL;
    g_autoptr(Scenario) sc = path ? loader_load_scenario(path, &local) : scenario_new_default();
    for (guint i = 0; sc != NULL && a->manifests != NULL && a->manifests[i] != NULL; i++)
        if (!loader_add_manifest(sc, a->manifests[i], &local))
            g_clear_pointer(&sc, scenario_free);
    gboolean usage = FALSE;
    if (sc != NULL && !cli_adjust_apply(sc, a, &local)) {
        g_clear_pointer(&sc, scenario_free);
        usage = TRUE;
    }
    if (sc != NULL)
        return g_steal_pointer(&sc);
    *status = KPSIM_EXIT_USAGE;
    if (cmd == NULL)
        g_propagate_error(error, local);
    else if (usage) {
        cli_usage_error(cmd, "%s", local->message);
        g_error_free(local);
    } else
        cli_input_error(local);
    return NULL;
}

gboolean
cli_parse_at(const KpsimCommand *cmd, const char *text, SimTime *at)
{
    *at = -1;
    if (text == NULL)
        return TRUE;
    if (sim_time_parse(text, at, NULL))
        return TRUE;
    cli_usage_error(cmd,
                    "invalid --at '%s' (a time since the scenario began, such as 72s, 1m30s "
                    "or 500ms)",
                    text);
    return FALSE;
}

/* The directory holding the running executable, or NULL. */
static char *
cli_exe_dir(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    return exe ? g_path_get_dirname(exe) : NULL;
}

char *
cli_seed_scenario_path(void)
{
    g_autofree char *exe_dir = cli_exe_dir();
    const char *dirs[] = {exe_dir, KPSIM_SOURCE_DIR, KPSIM_DATADIR};
    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (dirs[i] == NULL)
            continue;
        g_autofree char *path = g_build_filename(dirs[i], SEED_SCENARIO, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            return g_steal_pointer(&path);
    }
    return NULL;
}

/* See cli.h. The heap is grown once by a block the mmap threshold keeps on the heap, then the
 * whole region up to the new break is marked for transparent huge pages (MADV_HUGEPAGE, what
 * glibc's glibc.malloc.hugetlb=1 tunable does for every sbrk): a no-op where THP is off, and
 * under a sanitizer's allocator, whose memory is not the brk heap. */
#define CLI_HUGE_PAGE ((guintptr)2 << 20)
void
cli_heap_prepare(gsize bytes)
{
    mallopt(M_TOP_PAD, (int)MIN(bytes, (gsize)G_MAXINT));
    mallopt(M_TRIM_THRESHOLD, G_MAXINT);
    mallopt(M_MMAP_THRESHOLD, (int)(4 * CLI_HUGE_PAGE));
    /* No fastbins: a small free coalesces at once, instead of every large free (a 10,000-slot
     * pointer array) sweeping all the small chunks freed since. */
    mallopt(M_MXFAST, 0);
    char *grow = malloc(2 * CLI_HUGE_PAGE); /* more than the initial heap's top: sbrk(+pad) */
    char *end = sbrk(0);
    guintptr from = ((guintptr)grow + CLI_HUGE_PAGE - 1) & ~(CLI_HUGE_PAGE - 1);
    if (grow != NULL && end != (void *)-1 && (guintptr)end > from)
        (void)madvise((void *)from, (guintptr)end - from, MADV_HUGEPAGE);
    free(grow);
}

/* Whether cli_release() frees at once: in sanitizer builds (configure defines
 * KPSIM_FREE_AT_EXIT) and when the environment asks for it. */
static gboolean
cli_free_at_exit(void)
{
#ifdef KPSIM_FREE_AT_EXIT
    return TRUE;
#else
    const char *v = g_getenv("KPSIM_FREE_AT_EXIT");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
#endif
}

void
cli_release(gpointer obj, GDestroyNotify free_func)
{
    /* Reachable until exit, so no leak checker reports them; volatile, or the compiler drops
     * the stores, which nothing reads. */
    static gpointer volatile kept[8];
    static guint n_kept;
    if (obj == NULL)
        return;
    if (cli_free_at_exit() || n_kept == G_N_ELEMENTS(kept))
        free_func(obj);
    else
        kept[n_kept++] = obj;
}

int
cli_write_stdout(const GString *out)
{
    if (fwrite(out->str, 1, out->len, stdout) != out->len || fflush(stdout) != 0) {
        perror("kpsim: writing output");
        return KPSIM_EXIT_FAILED;
    }
    return KPSIM_EXIT_OK;
}

char *
cli_node_names(const Cluster *c)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < c->nodes->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               ((K8sNode *)g_ptr_array_index(c->nodes, i))->name);
    return g_string_free(s, FALSE);
}

const K8sNode *
cli_find_node(const KpsimCommand *cmd, const Cluster *c, const char *name)
{
    const K8sNode *node = cluster_find_node(c, name);
    if (node == NULL) {
        g_autofree char *names = cli_node_names(c);
        cli_usage_error(cmd, "unknown node '%s' (nodes: %s)", name, names);
    }
    return node;
}

void
cli_append_json(GString *out, JsonBuilder *b, guint indent)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, indent);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_string_append_printf(out, "%s\n", text);
}

gboolean
cli_budget_limits(const KpsimCommand *cmd, const char *max_events, const char *max_memory,
                  BudgetLimits *limits, int *status)
{
    *limits = (BudgetLimits){BUDGET_DEFAULT_MAX_EVENTS, BUDGET_DEFAULT_MAX_MEMORY};
    if (max_events != NULL && !budget_parse_count(max_events, &limits->max_events)) {
        *status = cli_usage_error(cmd,
                                  "--max-events %s: not a count (e.g. 1000000, 2e9, 500M; 0 "
                                  "for no limit)",
                                  max_events);
        return FALSE;
    }
    if (max_memory != NULL && !budget_parse_size(max_memory, &limits->max_memory)) {
        *status = cli_usage_error(cmd,
                                  "--max-memory %s: not a size (e.g. 512M, 4G, 8GiB; 0 for no "
                                  "limit)",
                                  max_memory);
        return FALSE;
    }
    return TRUE;
}

gboolean
cli_budget_check(const Scenario *sc, const Cluster *c, const BudgetLimits *limits)
{
    BudgetEstimate est;
    budget_estimate(sc, c, &est);
    GError *error = NULL;
    if (budget_check(&est, limits, &error))
        return TRUE;
    cli_input_error(error);
    return FALSE;
}

/* What cli_run_limited()'s progress callback needs. */
typedef struct {
    Run *run;
    guint64 max_events;
    guint64 events;
    SimTime now;
    gboolean over;
} CliRunLimit;

/* Stops the run once it passes its event limit (a RunProgressFunc). */
static void
cli_run_limit_progress(SimTime now, SimTime limit, guint64 events, gpointer data)
{
    CliRunLimit *l = data;
    l->now = now;
    l->events = events;
    if (l->max_events > 0 && events > l->max_events && !l->over) {
        l->over = TRUE;
        run_request_stop(l->run);
    }
}

gboolean
cli_run_limited(const KpsimCommand *cmd, Run *run, guint64 max_events)
{
    CliRunLimit l = {.run = run, .max_events = max_events};
    run_execute(run, cli_run_limit_progress, &l);
    if (!l.over)
        return TRUE;
    char at[SIM_TIME_STRLEN];
    fprintf(stderr,
            "kpsim %s: stopped at %s of simulated time after %" G_GUINT64_FORMAT
            " events, more than --max-events %" G_GUINT64_FORMAT
            " allows (raise --max-events, or shorten or slow the traffic)\n",
            cmd->name, sim_time_format(l.now, at), l.events, max_events);
    return FALSE;
}
