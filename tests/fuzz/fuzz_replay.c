/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz_replay: the fuzz harnesses without libFuzzer, as a `make check` test.
 *
 * Without arguments it replays every file of tests/fuzz/corpus/TARGET/ and
 * tests/fuzz/regressions/TARGET/ (TARGET: fuzz_loader, fuzz_trace, fuzz_pcap) through its
 * harness, so that inputs the fuzzers once found keep being checked in every build, sanitizer
 * builds included. `tests/fuzz_replay TARGET FILE...` replays the given files (to reproduce a
 * crash libFuzzer reported). A harness aborts on a broken contract; the name of the input being
 * replayed is printed first.
 */
#include <stdio.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

typedef struct {
    const char *name;
    int (*one)(const guint8 *data, gsize size);
} FuzzReplayTarget;

static const FuzzReplayTarget fuzz_replay_targets[] = {
    {"fuzz_loader", fuzz_loader_one},
    {"fuzz_trace", fuzz_trace_one},
    {"fuzz_pcap", fuzz_pcap_one},
};

/* Replays one file through target; FALSE when it cannot be read. */
static gboolean
fuzz_replay_file(const FuzzReplayTarget *target, const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    GError *error = NULL;
    if (!g_file_get_contents(path, &data, &len, &error)) {
        fprintf(stderr, "fuzz_replay: %s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    fprintf(stderr, "%s %s\n", target->name, path);
    target->one((const guint8 *)data, len);
    return TRUE;
}

/* Orders file names (a GCompareFunc over char** elements). */
static gint
fuzz_replay_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every file of DIR (sorted by name; a missing directory has none); returns how many. */
static guint
fuzz_replay_dir(const FuzzReplayTarget *target, const char *dir, gboolean *ok)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d == NULL)
        return 0;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL)
        if (name[0] != '.')
            g_ptr_array_add(names, g_strdup(name));
    g_dir_close(d);
    g_ptr_array_sort(names, fuzz_replay_compare);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
        *ok = fuzz_replay_file(target, path) && *ok;
    }
    return names->len;
}

/* The target named name, or NULL. */
static const FuzzReplayTarget *
fuzz_replay_find(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(fuzz_replay_targets); i++)
        if (g_str_equal(fuzz_replay_targets[i].name, name))
            return &fuzz_replay_targets[i];
    return NULL;
}

int
main(int argc, char **argv)
{
    gboolean ok = TRUE;
    if (argc >= 2) {
        const FuzzReplayTarget *t = fuzz_replay_find(argv[1]);
        if (t == NULL) {
            fprintf(stderr, "usage: fuzz_replay [fuzz_loader|fuzz_trace|fuzz_pcap FILE...]\n");
            return 2;
        }
        for (int i = 2; i < argc; i++)
            ok = fuzz_replay_file(t, argv[i]) && ok;
        return ok ? 0 : 1;
    }
    guint total = 0;
    for (guint i = 0; i < G_N_ELEMENTS(fuzz_replay_targets); i++) {
        const FuzzReplayTarget *t = &fuzz_replay_targets[i];
        guint n = 0;
        for (guint k = 0; k < 2; k++) {
            g_autofree char *dir = g_build_filename(KPSIM_SRCDIR, "tests", "fuzz",
                                                    k == 0 ? "corpus" : "regressions", t->name,
                                                    NULL);
            n += fuzz_replay_dir(t, dir, &ok);
        }
        if (n == 0) {
            fprintf(stderr, "fuzz_replay: no inputs for %s\n", t->name);
            ok = FALSE;
        }
        printf("%s: %u inputs replayed\n", t->name, n);
        total += n;
    }
    printf("fuzz_replay: %u inputs, %s\n", total, ok ? "all passed" : "FAILED");
    return ok ? 0 : 1;
}
