/* SPDX-License-Identifier: Apache-2.0 */
/* What the fuzz harnesses share: set-up, a private scratch directory, input readers and the
 * error-message oracle (see fuzz.h). */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static char *fuzz_dir;

/* Removes the scratch directory and what the harnesses left in it (atexit). */
static void
fuzz_cleanup(void)
{
    if (fuzz_dir == NULL)
        return;
    GDir *d = g_dir_open(fuzz_dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(fuzz_dir, name, NULL);
        g_unlink(path);
    }
    if (d != NULL)
        g_dir_close(d);
    g_rmdir(fuzz_dir);
    g_clear_pointer(&fuzz_dir, g_free);
}

/* See fuzz.h. */
const char *
fuzz_init(void)
{
    if (fuzz_dir != NULL)
        return fuzz_dir;
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    GError *error = NULL;
    fuzz_dir = g_dir_make_tmp("kpsim-fuzz-XXXXXX", &error);
    if (fuzz_dir == NULL) {
        fprintf(stderr, "fuzz: %s\n", error->message);
        abort();
    }
    atexit(fuzz_cleanup);
    return fuzz_dir;
}

/* See fuzz.h. */
char *
fuzz_write_file(const char *name, const guint8 *data, gsize len)
{
    char *path = g_build_filename(fuzz_init(), name, NULL);
    FILE *f = fopen(path, "wb"); /* not g_file_set_contents(): no fsync per input */
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* See fuzz.h. */
void
fuzz_check_error(GError *error)
{
    if (error == NULL || error->message == NULL || strchr(error->message, '\n') != NULL ||
        strstr(error->message, ": error: ") == NULL) {
        fprintf(stderr, "fuzz: malformed error message: %s\n",
                error != NULL && error->message != NULL ? error->message : "(none)");
        abort();
    }
    g_error_free(error);
}

/* See fuzz.h. */
guint8
fuzz_u8(FuzzInput *in)
{
    if (in->size == 0)
        return 0;
    guint8 v = in->data[0];
    in->data++;
    in->size--;
    return v;
}

/* See fuzz.h. */
guint16
fuzz_u16(FuzzInput *in)
{
    guint16 hi = fuzz_u8(in);
    return (guint16)(hi << 8 | fuzz_u8(in));
}

/* See fuzz.h. */
guint32
fuzz_u32(FuzzInput *in)
{
    guint32 hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

/* See fuzz.h. */
char *
fuzz_string(FuzzInput *in, gsize max)
{
    gsize n = 0;
    while (n < in->size && n < max && in->data[n] != 0)
        n++;
    char *s = g_strndup((const char *)in->data, n);
    gsize used = n < in->size && in->data[n] == 0 ? n + 1 : n;
    in->data += used;
    in->size -= used;
    return s;
}
