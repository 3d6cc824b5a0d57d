/* SPDX-License-Identifier: Apache-2.0 */
/* What every kpsim subcommand shares: the command table, option parsing, loading a scenario into
 * a cluster, and reporting errors the one way users and CI scripts expect.
 *
 * Exit status: 0 success, 1 an expectation failed, 2 bad input or usage. Errors in input files
 * are printed as "FILE:LINE:COLUMN: error: MESSAGE"; a command prints nothing on stdout unless
 * it succeeds (output is built in memory and written at the end).
 */
#ifndef KPSIM_CLI_H
#define KPSIM_CLI_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include "model/budget.h"
#include "model/cluster.h"
#include "model/run.h"

#define KPSIM_EXIT_OK 0
#define KPSIM_EXIT_FAILED 1
#define KPSIM_EXIT_USAGE 2

typedef struct {
    const char *name;
    const char *args;    /* synopsis after the name, e.g. "SCENARIO --node NODE ..." */
    const char *summary; /* one line for `kpsim --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
} KpsimCommand;

extern const KpsimCommand cmd_trace_entry;
extern const KpsimCommand cmd_rules_entry;
extern const KpsimCommand cmd_get_entry;
extern const KpsimCommand cmd_describe_entry;
extern const KpsimCommand cmd_tour_entry;
extern const KpsimCommand cmd_run_entry;
extern const KpsimCommand cmd_check_entry;
extern const KpsimCommand cmd_expose_entry;
extern const KpsimCommand cmd_compare_entry;

/* Parses argv with entries (a GOptionEntry table) for cmd, leaving positional arguments in
 * argv. On --help prints the help and returns FALSE with *status = 0; on an error prints
 * "kpsim NAME: MESSAGE" and the usage line and returns FALSE with *status = 2. */
gboolean cli_parse(const KpsimCommand *cmd, const char *description, GOptionEntry *entries,
                   int *argc, char ***argv, int *status);
/* Prints "kpsim NAME: MESSAGE" and the usage line on stderr; returns KPSIM_EXIT_USAGE. */
int cli_usage_error(const KpsimCommand *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Prints an input error (already "FILE:LINE:COL: error: ...") on stderr; returns
 * KPSIM_EXIT_USAGE. Takes the error. */
int cli_input_error(GError *error);

/* Loads scenario_path (or, when NULL, the default 3-node cluster) plus the -f manifests, builds
 * the cluster, and prints warnings on stderr. The cluster owns nothing of the scenario; free the
 * cluster first, then the scenario. */
gboolean cli_load(const char *scenario_path, char **manifests, Scenario **sc, Cluster **cluster,
                  GError **error);
/* cli_load() through cluster_build_focused() for focus (nullable: cluster_build()): the same
 * errors, validation and warnings, only what focus's probe can reach built. */
gboolean cli_load_focused(const char *scenario_path, char **manifests, const ClusterFocus *focus,
                          Scenario **sc, Cluster **cluster, GError **error);
/* The options run, check and compare apply to a scenario before building it, in this order:
 * -f manifests, --seed, --duration, then each --set PATH=VALUE (model/run.h run_override()).
 * Every field is nullable. */
typedef struct {
    char **manifests;
    char *seed;
    char *duration;
    char **set;
} CliAdjust;

/* Frees a's strings (a itself is the caller's). */
void cli_adjust_clear(CliAdjust *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliAdjust, cli_adjust_clear)

/* The GOptionEntry lines of --max-events and --max-memory (run, check), for cli_budget_limits(). */
#define CLI_BUDGET_OPTION_ENTRIES(max_events, max_memory)                                          \
    {"max-events",                                                                                 \
     0,                                                                                            \
     0,                                                                                            \
     G_OPTION_ARG_STRING,                                                                          \
     (max_events),                                                                                 \
     "Refuse or stop a run past N simulated events (default 1e9; 0: no limit)",                    \
     "N"},                                                                                         \
    {                                                                                              \
        "max-memory", 0, 0, G_OPTION_ARG_STRING, (max_memory),                                     \
            "Refuse a run estimated to need more memory (default 4G; 0: no limit)", "SIZE"         \
    }

/* Loads path (NULL: the default 3-node cluster) and applies a, without building the cluster.
 * On failure prints the error for cmd ("FILE:LINE:COL: error: ..." for input, a usage error
 * for a bad --seed, --duration or --set), sets *status to KPSIM_EXIT_USAGE and returns NULL;
 * with cmd NULL prints nothing and leaves the message in *error instead (error and status are
 * then nullable and non-nullable respectively as usual). (transfer full) */
Scenario *cli_load_adjusted(const KpsimCommand *cmd, const char *path, const CliAdjust *a,
                            int *status, GError **error);

/* Parses an --at TIME value (a time since the scenario began: "72s", "1m30s", "500ms", "0").
 * text NULL (no --at) sets *at to -1. On a bad value prints a usage error and returns FALSE. */
gboolean cli_parse_at(const KpsimCommand *cmd, const char *text, SimTime *at);
/* The built-in seed example's path: scenarios/seed-nginx-nodeport.yaml beside the executable,
 * in the source tree, or in the installed data directory. (transfer full) (nullable) */
char *cli_seed_scenario_path(void);
/* "node1, node2, node3": the node names for an "unknown node" message. (transfer full) */
char *cli_node_names(const Cluster *c);
/* The node named name, or NULL after printing a usage error naming the known nodes. */
const K8sNode *cli_find_node(const KpsimCommand *cmd, const Cluster *c, const char *name);
/* Appends the document built in b as indented JSON and a newline (member order as built, so
 * the text is stable). */
void cli_append_json(GString *out, JsonBuilder *b, guint indent);
/* Readies malloc for a one-shot command about to allocate about bytes in small objects and
 * exit: the heap grows by at least bytes at a time, is never trimmed, and is backed by
 * transparent huge pages where the system allows it (far fewer page faults). Process-wide. */
void cli_heap_prepare(gsize bytes);
/* Hands obj (nullable), which a one-shot command is done with just before it exits, to
 * free_func, or keeps it reachable until the process exits. Freeing a 5,000-node cluster object
 * by object takes longer than tracing a packet through it, and exiting returns every page at
 * once; compilers skip that teardown the same way (clang's -disable-free, git's UNLEAK). Leak
 * checkers see nothing lost: the object stays reachable. KPSIM_FREE_AT_EXIT=1 in the
 * environment, and every sanitizer build, free at once, so the teardown code stays tested. */
void cli_release(gpointer obj, GDestroyNotify free_func);
/* Writes out to stdout in one go; returns KPSIM_EXIT_OK or, on a write error, 1. */
int cli_write_stdout(const GString *out);

/* --max-events and --max-memory (run, check): parses their texts (NULL: the defaults of
 * model/budget.h) into *limits; on a bad value prints a usage error for cmd, sets *status and
 * returns FALSE. */
gboolean cli_budget_limits(const KpsimCommand *cmd, const char *max_events, const char *max_memory,
                           BudgetLimits *limits, int *status);
/* Estimates the run of sc (c NULL before cluster_build()) and checks it against limits; prints
 * the "FILE:LINE:COL: error: ..." line and returns FALSE when it is over. */
gboolean cli_budget_check(const Scenario *sc, const Cluster *c, const BudgetLimits *limits);
/* run_execute(run) that stops once more than max_events events (0: no limit) were processed;
 * then prints "kpsim NAME: stopped at ..." and returns FALSE. */
gboolean cli_run_limited(const KpsimCommand *cmd, Run *run, guint64 max_events);

#endif
