/* SPDX-License-Identifier: Apache-2.0 */
/* kpsim run: simulate a scenario's traffic over time through the rules every node's kube-proxy
 * renders, and report what happened (model/run.h).
 *
 * The report goes to stdout (text, or --json), or with -o DIR into DIR/report.txt,
 * DIR/report.json and DIR/report.html (tools/report_html.c) beside one capture per node
 * (DIR/pcap/NODE.pcap, what `tcpdump -i any` shows on that node) and one for all clients
 * (DIR/pcap/clients.pcap). Every file is written under a
 * temporary name and renamed only when the run is complete, so an error leaves no half-written
 * file. The wall clock is read here, never in model/: for the report's wall_seconds (0 with
 * --no-wall-clock, which keeps golden files stable), the progress line (only on a terminal, only
 * for runs longer than about a second) and --stats.
 *
 * Limits: before anything is built, the run is estimated (model/budget.h) and refused with exit
 * status 2 and an error at the field responsible when it would pass --max-events or
 * --max-memory; while it runs, passing --max-events stops it (same status, nothing written).
 * SIGINT and SIGTERM (Ctrl-C) end the simulation at the next simulated second: the report of
 * the time simulated so far is written, marked as interrupted, the captures up to then are
 * kept, and kpsim exits with status 130.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/expect.h"
#include "model/loader.h"
#include "model/run.h"
#include "tools/cli.h"
#include "tools/report.h"

static int cmd_run_run(int argc, char **argv);

const KpsimCommand cmd_run_entry = {
    .name = "run",
    .args = "[SCENARIO] [-f MANIFEST]... [-o DIR] [--seed N] [--set PATH=VALUE]... [--json] "
            "[--no-pcap] [--quiet]",
    .summary = "simulate the traffic over time and report what happened (default: the seed "
               "example)",
    .run = cmd_run_run,
};

static const char cmd_run_description[] =
    "Without SCENARIO and -f, runs the built-in seed example. With -f MANIFEST only, the\n"
    "manifests run on the default cluster (node1..node3 at 192.168.1.101-103) with its client\n"
    "203.0.113.10; when a scenario has no traffic, the client sends 50 connections/s for the\n"
    "scenario's duration (60s by default) to every node address at every nodePort.\n"
    "\n"
    "-o DIR writes DIR/report.txt, DIR/report.json, DIR/report.html (one self-contained page\n"
    "with the topology, load, timeline, a packet's journey and the rules) and\n"
    "DIR/pcap/NODE.pcap (one per node) plus\n"
    "DIR/pcap/clients.pcap; without -o nothing but the report (on stdout) is written.\n"
    "--set PATH=VALUE changes the scenario before the run: seed, duration, pods.serviceTime,\n"
    "pods.concurrency, cluster.network.latency, proxy.mode (iptables, nftables or ipvs),\n"
    "proxy.ipvs.scheduler, traffic.NAME.rate (NAME or * for all),\n"
    "traffic.NAME.connections|start|stop|request.bytes|request.response|connectTimeout|\n"
    "synRetries|responseTimeout.\n"
    "The same scenario and seed give byte-identical report.json (with --no-wall-clock) and\n"
    "pcaps.\n"
    "\n"
    "A run that would process more than --max-events simulated events (default 1e9, about\n"
    "ten minutes) or need more than --max-memory (default 4G) is refused before it starts,\n"
    "with the field responsible; --max-events 0 or --max-memory 0 lifts the limit.\n"
    "Ctrl-C (SIGINT) or SIGTERM ends the run at the next simulated second: the report of the\n"
    "time simulated so far is written (marked as interrupted), with the captures up to then,\n"
    "and the exit status is 130.";

typedef struct {
    CliAdjust adjust; /* -f, --seed, --duration, --set */
    char *output;
    char *max_events;
    char *max_memory;
    gboolean json, no_pcap, quiet, no_wall_clock, stats;
    BudgetLimits limits; /* parsed from max_events and max_memory */
} RunArgs;

/* Frees the parsed options. */
static void
run_args_clear(RunArgs *a)
{
    cli_adjust_clear(&a->adjust);
    g_free(a->output);
    g_free(a->max_events);
    g_free(a->max_memory);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RunArgs, run_args_clear)

/* ------------------------------------------------------------------ loading */

/* Prints the loader's and controllers' warnings on stderr (unless quiet). */
static void
run_print_warnings(const GPtrArray *warnings, gboolean quiet)
{
    for (guint i = 0; !quiet && warnings != NULL && i < warnings->len; i++)
        fprintf(stderr, "%s\n", (const char *)g_ptr_array_index(warnings, i));
}

/* Loads the scenario (or the default cluster) and the manifests, applies --seed, --duration
 * and --set, checks the budget, builds the cluster. On failure prints the error and returns
 * the exit status. */
static int
run_load(const RunArgs *a, const char *path, Scenario **sc_out, Cluster **cluster_out)
{
    GError *error = NULL;
    int status;
    g_autoptr(Scenario) sc = cli_load_adjusted(&cmd_run_entry, path, &a->adjust, &status, NULL);
    if (sc == NULL)
        return status;
    if (!cli_budget_check(sc, NULL, &a->limits))
        return KPSIM_EXIT_USAGE;
    g_autoptr(Cluster) cluster = cluster_build(sc, &error);
    if (cluster == NULL)
        return cli_input_error(error);
    run_print_warnings(sc->warnings, a->quiet);
    run_print_warnings(cluster->warnings, a->quiet);
    *sc_out = g_steal_pointer(&sc);
    *cluster_out = g_steal_pointer(&cluster);
    return KPSIM_EXIT_OK;
}

/* ------------------------------------------------------------------ captures and files */

typedef struct {
    GPtrArray *pcaps; /* SimPcap*, open captures (aborted unless closed) */
} RunFiles;

/* Deletes every open capture's temporary file. */
static void
run_files_abort(RunFiles *f)
{
    for (guint i = 0; f->pcaps != NULL && i < f->pcaps->len; i++)
        sim_pcap_abort(f->pcaps->pdata[i]);
    g_clear_pointer(&f->pcaps, g_ptr_array_unref);
}

/* Opens DIR/pcap/NODE.pcap for every node and DIR/pcap/clients.pcap, and attaches them. */
static gboolean
run_open_captures(Run *run, const Cluster *c, const char *dir, RunFiles *f, GError **error)
{
    g_autofree char *pdir = g_build_filename(dir, "pcap", NULL);
    if (g_mkdir_with_parents(pdir, 0777) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", pdir,
                    g_strerror(errno));
        return FALSE;
    }
    f->pcaps = g_ptr_array_new();
    for (guint i = 0; i <= c->nodes->len; i++) {
        const char *name = i < c->nodes->len ? ((K8sNode *)c->nodes->pdata[i])->name : "clients";
        g_autofree char *file = g_strdup_printf("%s.pcap", name);
        g_autofree char *path = g_build_filename(pdir, file, NULL);
        SimPcap *pc = sim_pcap_open(path, 0, error);
        if (pc == NULL)
            return FALSE;
        g_ptr_array_add(f->pcaps, pc);
        if (i < c->nodes->len)
            run_set_node_capture(run, name, pc);
        else
            run_set_client_capture(run, pc);
    }
    return TRUE;
}

/* Closes (and so renames into place) every capture; on the first failure aborts the rest. */
static gboolean
run_close_captures(RunFiles *f, GError **error)
{
    gboolean ok = TRUE;
    for (guint i = 0; f->pcaps != NULL && i < f->pcaps->len; i++) {
        SimPcap *pc = f->pcaps->pdata[i];
        if (ok)
            ok = sim_pcap_close(pc, error);
        else
            sim_pcap_abort(pc);
    }
    g_clear_pointer(&f->pcaps, g_ptr_array_unref);
    return ok;
}

/* Writes text to PATH.tmp; the caller renames it into place. */
static gboolean
run_write_tmp(const char *path, const GString *text, GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    return g_file_set_contents(tmp, text->str, (gssize)text->len, error);
}

/* Writes DIR/report.txt and DIR/report.json, both or neither. */
static gboolean
run_write_reports(const char *dir, const GString *text, const GString *json, GError **error)
{
    g_autofree char *txt = g_build_filename(dir, "report.txt", NULL);
    g_autofree char *js = g_build_filename(dir, "report.json", NULL);
    g_autofree char *txt_tmp = g_strdup_printf("%s.tmp", txt);
    g_autofree char *js_tmp = g_strdup_printf("%s.tmp", js);
    if (g_mkdir_with_parents(dir, 0777) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    if (!run_write_tmp(txt, text, error) || !run_write_tmp(js, json, error) ||
        g_rename(txt_tmp, txt) != 0 || g_rename(js_tmp, js) != 0) {
        if (error != NULL && *error == NULL)
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dir,
                        g_strerror(errno));
        g_unlink(txt_tmp);
        g_unlink(js_tmp);
        return FALSE;
    }
    return TRUE;
}

/* Writes DIR/report.html (under a temporary name, renamed into place). */
static gboolean
run_write_html(const char *dir, const GString *html, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "report.html", NULL);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    if (!run_write_tmp(path, html, error))
        return FALSE;
    if (g_rename(tmp, path) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        g_unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ progress, limits, signals */

/* The signal (SIGINT, SIGTERM) that asked the run to end, 0 before one arrives. A handler can
 * only reach a file-scope flag; run_progress() turns it into run_request_stop(). */
static volatile sig_atomic_t run_signal;

/* SIGINT/SIGTERM handler: records the signal and nothing else (async-signal-safe). */
static void
run_on_signal(int signo)
{
    run_signal = signo;
}

/* The handlers in place before kpsim run installed its own. */
typedef struct {
    struct sigaction old_int, old_term;
} RunSignals;

/* Installs run_on_signal() for SIGINT and SIGTERM, saving the previous handlers. */
static void
run_signals_install(RunSignals *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = run_on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    run_signal = 0;
    sigaction(SIGINT, &sa, &saved->old_int);
    sigaction(SIGTERM, &sa, &saved->old_term);
}

/* Puts the previous handlers back. */
static void
run_signals_restore(const RunSignals *saved)
{
    sigaction(SIGINT, &saved->old_int, NULL);
    sigaction(SIGTERM, &saved->old_term, NULL);
}

/* The state of a run as it goes: the progress line, the event limit and the stop. */
typedef struct {
    Run *run;               /* (transfer none) while run_execute() runs */
    guint64 max_events;     /* 0: unlimited */
    gboolean show;          /* draw the progress line */
    gint64 started;         /* monotonic microseconds */
    gint64 last;            /* when the line was last drawn */
    gboolean shown;
    SimTime now;            /* simulated time at the last step */
    guint64 events;         /* events processed by then */
    gboolean over_events;   /* stopped because events passed max_events */
    gboolean interrupted;   /* stopped because of a signal */
    double wall;            /* seconds run_execute() took */
} RunProgress;

/* Called after every simulated second: stops the run on a signal or past --max-events, and
 * draws "kpsim run: 12s of 70s simulated, 1.2M events" on stderr once the run has taken a
 * second, at most 10 times a second. */
static void
run_progress(SimTime now, SimTime limit, guint64 events, gpointer data)
{
    RunProgress *p = data;
    p->now = now;
    p->events = events;
    if (p->max_events > 0 && events > p->max_events && !p->over_events) {
        p->over_events = TRUE;
        run_request_stop(p->run);
    }
    if (run_signal != 0)
        run_request_stop(p->run);
    gint64 t = g_get_monotonic_time();
    if (!p->show || t - p->started < G_USEC_PER_SEC || t - p->last < G_USEC_PER_SEC / 10)
        return;
    char n[SIM_TIME_STRLEN], l[SIM_TIME_STRLEN];
    fprintf(stderr, "\rkpsim run: %s of at most %s simulated, %" G_GUINT64_FORMAT " events\033[K",
            sim_time_format(now / SIM_SEC * SIM_SEC, n), sim_time_format(limit, l), events);
    fflush(stderr);
    p->last = t;
    p->shown = TRUE;
}

/* --stats: what a benchmark reads, on stderr. */
static void
run_print_stats(const RunReport *rep, double wall)
{
    guint64 conns = 0;
    for (guint i = 0; i < rep->traffic->len; i++)
        conns += ((ReportTraffic *)rep->traffic->pdata[i])->sent;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double w = wall > 0 ? wall : 1e-9;
    char b[G_ASCII_DTOSTR_BUF_SIZE];
    fprintf(stderr,
            "kpsim run stats: wall %s s, %" G_GUINT64_FORMAT " connections (%" G_GUINT64_FORMAT
            "/s), %" G_GUINT64_FORMAT " events (%" G_GUINT64_FORMAT "/s), %" G_GUINT64_FORMAT
            " packets (%" G_GUINT64_FORMAT "/s), peak RSS %ld KiB\n",
            g_ascii_formatd(b, sizeof b, "%.3f", wall), conns, (guint64)(conns / w),
            rep->events_processed, (guint64)(rep->events_processed / w), rep->packets,
            (guint64)(rep->packets / w), ru.ru_maxrss);
}

/* ------------------------------------------------------------------ the command */

/* Runs the simulation with captures (when dir is set and pcaps are wanted) and returns the
 * report, or NULL after printing an error, with *status the exit status: 2 when nothing could
 * start (bad input, an unusable DIR) or the run passed --max-events, 1 when the captures could
 * not be completed. progress says how the run ended. */
static RunReport *
run_simulate(const RunArgs *a, const Cluster *cluster, RunProgress *progress, int *status)
{
    GError *error = NULL;
    *status = KPSIM_EXIT_USAGE;
    g_autoptr(Run) run = run_new(cluster, &error);
    if (run == NULL) {
        cli_input_error(error);
        return NULL;
    }
    RunFiles files = {0};
    if (a->output != NULL && !a->no_pcap &&
        !run_open_captures(run, cluster, a->output, &files, &error)) {
        fprintf(stderr, "kpsim run: %s\n", error->message);
        g_error_free(error);
        run_files_abort(&files);
        return NULL;
    }
    *progress = (RunProgress){.run = run, .max_events = a->limits.max_events,
                              .show = !a->quiet && isatty(STDERR_FILENO),
                              .started = g_get_monotonic_time()};
    run_execute(run, run_progress, progress);
    progress->wall = (double)(g_get_monotonic_time() - progress->started) / G_USEC_PER_SEC;
    progress->interrupted = run_was_stopped(run) && !progress->over_events;
    progress->run = NULL;
    if (progress->shown)
        fputs("\r\033[K", stderr);
    if (progress->over_events) {
        char at[SIM_TIME_STRLEN];
        fprintf(stderr,
                "kpsim run: stopped at %s of simulated time after %" G_GUINT64_FORMAT
                " events, more than --max-events %" G_GUINT64_FORMAT
                " allows; nothing was written (raise --max-events, or shorten or slow the "
                "traffic)\n",
                sim_time_format(progress->now, at), progress->events, a->limits.max_events);
        run_files_abort(&files);
        return NULL;
    }
    *status = KPSIM_EXIT_FAILED;
    const GError *capture_error = run_capture_error(run);
    if (capture_error != NULL) {
        fprintf(stderr, "kpsim run: %s\n", capture_error->message);
        run_files_abort(&files);
        return NULL;
    }
    if (!run_close_captures(&files, &error)) {
        fprintf(stderr, "kpsim run: %s\n", error->message);
        g_error_free(error);
        return NULL;
    }
    return run_report(run);
}

/* Marks rep as covering only the simulated time before the signal (its duration becomes
 * that time, so that "Simulated ..." and the rates say what was simulated). */
static void
run_note_interrupted(RunReport *rep, const RunProgress *progress)
{
    char at[SIM_TIME_STRLEN], of[SIM_TIME_STRLEN];
    sim_time_format(rep->duration, of);
    rep->duration = MIN(rep->duration, progress->now);
    g_ptr_array_insert(rep->notes, 0,
                       g_strdup_printf("interrupted at %s of %s simulated (%s): the report "
                                       "covers the time simulated so far; connections still "
                                       "open then count as dropped",
                                       sim_time_format(progress->now, at), of,
                                       run_signal == SIGTERM ? "SIGTERM" : "SIGINT"));
}

/* Says on stderr what an interrupted run kept. */
static void
run_say_kept(const RunArgs *a, const RunProgress *progress)
{
    char at[SIM_TIME_STRLEN];
    sim_time_format(progress->now, at);
    if (a->output != NULL)
        fprintf(stderr,
                "kpsim run: interrupted at %s of simulated time; kept %s/report.txt, "
                "report.json and report.html%s, covering 0s-%s and marked as interrupted\n",
                at, a->output, a->no_pcap ? "" : " and the captures in pcap/", at);
    else
        fprintf(stderr,
                "kpsim run: interrupted at %s of simulated time; the report above covers "
                "0s-%s and is marked as interrupted\n",
                at, at);
}

/* Writes the report files and stdout. */
static int
run_output(const RunArgs *a, RunReport *rep, const Cluster *cluster)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GString) json = g_string_new(NULL);
    report_text_write(rep, text);
    report_json_write(rep, json);
    if (a->output != NULL) {
        GError *error = NULL;
        g_autoptr(GString) html = g_string_new(NULL);
        report_html_write(rep, cluster, html);
        if (!run_write_reports(a->output, text, json, &error) ||
            !run_write_html(a->output, html, &error)) {
            fprintf(stderr, "kpsim run: %s\n", error->message);
            g_error_free(error);
            return KPSIM_EXIT_FAILED;
        }
        g_string_append_printf(text, "\nWrote %s/report.txt, %s/report.json, %s/report.html%s\n",
                               a->output, a->output, a->output,
                               a->no_pcap ? "" : " and the captures in pcap/");
    }
    if (a->quiet)
        return KPSIM_EXIT_OK;
    return cli_write_stdout(a->json ? json : text);
}

/* Load, adjust, build, check the budget, simulate, judge the expectations, report. Exits 1
 * when an expectation fails (after writing the report), 128 + the signal when interrupted. */
static int
run_main(const RunArgs *a, const char *path)
{
    g_autoptr(Scenario) sc = NULL;
    g_autoptr(Cluster) cluster = NULL;
    int status;
    if ((status = run_load(a, path, &sc, &cluster)) != KPSIM_EXIT_OK)
        return status;
    guint defaulted = run_add_default_traffic(sc, cluster);
    if (defaulted > 0 && !cli_budget_check(sc, cluster, &a->limits))
        return KPSIM_EXIT_USAGE;
    GError *error = NULL;
    g_autoptr(GPtrArray) expectations = expect_parse_all(cluster, &error);
    if (expectations == NULL)
        return cli_input_error(error);
    g_autoptr(GPtrArray) results = expect_evaluate_probes(expectations, cluster);
    if (run_signal != 0) {
        fprintf(stderr, "kpsim run: interrupted before the simulation started; nothing was "
                        "written\n");
        return 128 + run_signal;
    }
    RunProgress progress;
    g_autoptr(RunReport) rep = run_simulate(a, cluster, &progress, &status);
    if (rep == NULL)
        return status;
    expect_evaluate_run(results, expectations, cluster, rep);
    if (results->len > 0)
        expect_fill_report(rep, results);
    rep->wall_seconds = a->no_wall_clock ? 0 : progress.wall;
    if (defaulted > 0)
        g_ptr_array_add(rep->notes,
                        g_strdup_printf("the scenario has no traffic: %s sends the default, 50 "
                                        "connections/s to every node address at every nodePort",
                                        ((ScenarioClient *)sc->clients->pdata[0])->name));
    if (progress.interrupted)
        run_note_interrupted(rep, &progress);
    if (a->stats)
        run_print_stats(rep, progress.wall);
    if ((status = run_output(a, rep, cluster)) != KPSIM_EXIT_OK)
        return status;
    if (progress.interrupted) {
        run_say_kept(a, &progress);
        return 128 + run_signal;
    }
    return expect_count_failed(results) > 0 ? KPSIM_EXIT_FAILED : KPSIM_EXIT_OK;
}

/* kpsim run: options, then run_main() with SIGINT and SIGTERM caught. */
static int
cmd_run_run(int argc, char **argv)
{
    g_auto(RunArgs) a = {0};
    GOptionEntry entries[] = {
        {"filename", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &a.adjust.manifests,
         "Add a manifest (without SCENARIO: on the default 3-node cluster)", "MANIFEST"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &a.output,
         "Write report.txt, report.json, report.html and pcap/*.pcap into DIR", "DIR"},
        {"seed", 0, 0, G_OPTION_ARG_STRING, &a.adjust.seed, "Replace spec.seed", "N"},
        {"duration", 0, 0, G_OPTION_ARG_STRING, &a.adjust.duration, "Same as --set duration=D",
         "D"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.adjust.set, "Change the scenario (see below)",
         "PATH=VALUE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print the JSON report instead of the text",
         NULL},
        {"no-pcap", 0, 0, G_OPTION_ARG_NONE, &a.no_pcap, "Write no captures with -o", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &a.quiet, "Print nothing but errors", NULL},
        {"no-wall-clock", 0, 0, G_OPTION_ARG_NONE, &a.no_wall_clock,
         "Report wall_seconds as 0 (stable output for golden files)", NULL},
        {"stats", 0, 0, G_OPTION_ARG_NONE, &a.stats,
         "Print wall time, rates and peak memory on stderr", NULL},
        CLI_BUDGET_OPTION_ENTRIES(&a.max_events, &a.max_memory),
        {NULL},
    };
    int status;
    if (!cli_parse(&cmd_run_entry, cmd_run_description, entries, &argc, &argv, &status))
        return status;
    if (argc > 2)
        return cli_usage_error(&cmd_run_entry, "too many arguments");
    if (!cli_budget_limits(&cmd_run_entry, a.max_events, a.max_memory, &a.limits, &status))
        return status;
    g_autofree char *path = argc == 2 ? g_strdup(argv[1]) : NULL;
    if (path == NULL && a.adjust.manifests == NULL && (path = cli_seed_scenario_path()) == NULL) {
        fprintf(stderr, "kpsim: the seed example (scenarios/seed-nginx-nodeport.yaml) was not "
                        "found beside the kpsim binary or in its data directory\n");
        return KPSIM_EXIT_USAGE;
    }
    RunSignals saved;
    run_signals_install(&saved);
    status = run_main(&a, path);
    run_signals_restore(&saved);
    return status;
}
