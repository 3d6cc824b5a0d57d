/* SPDX-License-Identifier: Apache-2.0 */
/* The kpsim command: dispatches to one subcommand per file (tools/cmd_*.c).
 *
 * `kpsim` alone runs the built-in seed example (the article's NodePort Service on three nodes)
 * and prints its report, as `kpsim run` does; `kpsim --help` lists the subcommands; `kpsim CMD
 * --help` explains one.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"

static const KpsimCommand *const commands[] = {
    &cmd_run_entry,   &cmd_tour_entry, &cmd_trace_entry,
    &cmd_rules_entry, &cmd_get_entry,  &cmd_describe_entry,
    &cmd_check_entry, &cmd_expose_entry, &cmd_compare_entry,
};

static void
kpsim_usage(FILE *out)
{
    fputs("kpsim - simulate how traffic reaches Pods through kube-proxy\n\n"
          "usage: kpsim [COMMAND] [ARGS...]\n\n"
          "With no command, kpsim runs the built-in seed example and prints its report (run).\n\n"
          "Commands:\n",
          out);
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\nRun 'kpsim COMMAND --help' for a command's options.\n"
          "Exit status: 0 success, 1 an expectation failed, 2 bad input or usage.\n",
          out);
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc < 2) {
        char *run_argv[] = {(char *)"run", NULL};
        return cmd_run_entry.run(1, run_argv);
    }
    if (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h") ||
        g_str_equal(argv[1], "help")) {
        kpsim_usage(stdout);
        return KPSIM_EXIT_OK;
    }
    if (g_str_equal(argv[1], "--version")) {
        printf("kpsim %s\n", PACKAGE_VERSION);
        return KPSIM_EXIT_OK;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (g_str_equal(argv[1], commands[i]->name))
            return commands[i]->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "kpsim: unknown command '%s'\n", argv[1]);
    kpsim_usage(stderr);
    return KPSIM_EXIT_USAGE;
}
