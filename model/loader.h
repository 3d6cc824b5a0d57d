/* SPDX-License-Identifier: Apache-2.0 */
/* Reading scenario files and Kubernetes manifests (YAML streams, via libyaml) into a Scenario.
 *
 * Stands in for `kubectl apply`'s decoding and validation: kinds and fields are checked against
 * the API's names (unknown ones are errors with a "did you mean" hint), values against their
 * types and ranges. Every error is one line, "FILE:LINE:COLUMN: error: MESSAGE", in the GError's
 * message, and a failed load leaves nothing behind.
 */
#ifndef KPSIM_LOADER_H
#define KPSIM_LOADER_H

#include "model/scenario.h"

#define LOADER_ERROR (loader_error_quark())
GQuark loader_error_quark(void);
typedef enum {
    LOADER_ERROR_IO,
    LOADER_ERROR_SYNTAX,
    LOADER_ERROR_INVALID,
} LoaderError;

/* Loads a scenario file: its kind: Scenario document (at most one; a stream without one gets
 * scenario_new_default()'s cluster), the Kubernetes objects of the same stream, and the files of
 * spec.manifests (relative to the scenario's directory). (transfer full) */
Scenario *loader_load_scenario(const char *path, GError **error);
/* Adds the Kubernetes objects of a manifest file (a -f argument) to sc. A kind: Scenario document
 * in it is an error. */
gboolean loader_add_manifest(Scenario *sc, const char *path, GError **error);
/* Resolves entry, a manifest a scenario file names (spec.manifests, an apply event), against
 * the scenario file's directory into *path. Returns FALSE when the file exists but, symlinks
 * and ".." followed, lies outside that directory: a scenario only reads files of its own tree,
 * so one from an untrusted change cannot make a CI runner read (and quote in its errors) other
 * files. A file that does not exist passes: reading it reports the error; so do the manifests
 * of a scenario that is not a file (loaded from text under a name). (transfer full) */
gboolean loader_resolve_manifest(const char *scenario_file, const char *entry, char **path);
/* The same for a YAML text already in memory; name is used in error positions. */
gboolean loader_add_manifest_text(Scenario *sc, const char *name, const char *text, gsize len,
                                  GError **error);
Scenario *loader_load_scenario_text(const char *name, const char *text, gsize len, GError **error);

#endif
