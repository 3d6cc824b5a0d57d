/* SPDX-License-Identifier: Apache-2.0 */
/* The fuzz harnesses of tests/fuzz/: one function per target that takes arbitrary bytes and
 * drives a part of kpsim with them, aborting (so that libFuzzer or the replay test reports it)
 * when a contract is broken.
 *
 * Each harness file also defines LLVMFuzzerTestOneInput() when built with -DKPSIM_LIBFUZZER
 * (`./configure CC=clang --enable-fuzz && make fuzz`); tests/fuzz_replay links all three into
 * one ordinary program that replays the committed corpus and regressions under `make check`.
 */
#ifndef KPSIM_TESTS_FUZZ_H
#define KPSIM_TESTS_FUZZ_H

#include <glib.h>

/* Scenario bytes (up to the first NUL) and manifest bytes (after it, a -f file) through the
 * loader, cluster_build(), the expectations, the events and the run's budget. */
int fuzz_loader_one(const guint8 *data, gsize size);
/* Probe parameters picked from the bytes, traced through a loaded seed scenario, in text and in
 * the --json form of kpsim trace. */
int fuzz_trace_one(const guint8 *data, gsize size);
/* Packet fields and bytes through the wire encoder, the parser and the pcap writer. */
int fuzz_pcap_one(const guint8 *data, gsize size);

/* Once per process: makes criticals and warnings fatal and creates a private directory for the
 * harnesses' files (removed at exit). Returns that directory. (transfer none) */
const char *fuzz_init(void);
/* Writes len bytes to DIR/name and returns the path. (transfer full) */
char *fuzz_write_file(const char *name, const guint8 *data, gsize len);
/* Aborts unless error is an input error the way the CLI prints it: one line containing
 * ": error: ". Frees error. */
void fuzz_check_error(GError *error);

/* Reads bytes off the front of the fuzz input; past its end every read gives zeros. */
typedef struct {
    const guint8 *data;
    gsize size;
} FuzzInput;

guint8 fuzz_u8(FuzzInput *in);
guint16 fuzz_u16(FuzzInput *in);
guint32 fuzz_u32(FuzzInput *in);
/* Up to max bytes of the input as a NUL-terminated string (stops at a NUL). (transfer full) */
char *fuzz_string(FuzzInput *in, gsize max);

#endif
