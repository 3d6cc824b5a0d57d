/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the scenario and manifest loader, and what `kpsim run` and `kpsim check` do
 * with a loaded scenario before simulating anything.
 *
 * The input's bytes up to the first NUL become a scenario file, the bytes after it (when there
 * is a NUL) a manifest passed as with -f; both are real files in a private directory, so that
 * the file-reading paths run too. A load either succeeds or fails with one well-formed error
 * line; a loaded scenario is then built into a cluster, given the default traffic, its
 * expectations and events are compiled and its run is estimated (model/budget.h). Nothing may
 * crash, leak, hang or print a critical.
 */
#include <stdint.h>
#include <string.h>

#include "model/budget.h"
#include "model/events.h"
#include "model/expect.h"
#include "model/loader.h"
#include "model/run.h"
#include "tests/fuzz/fuzz.h"

/* The limits the harness runs scenarios under: kpsim's default events, and less memory than
 * the default so that an accepted scenario stays quick to build under the fuzzer's limits. */
static const BudgetLimits fuzz_loader_limits = {
    .max_events = BUDGET_DEFAULT_MAX_EVENTS,
    .max_memory = G_GUINT64_CONSTANT(256) << 20,
};

/* Estimates the run of sc (c NULL before the cluster is built); FALSE when over the limits. */
static gboolean
fuzz_loader_budget(const Scenario *sc, const Cluster *c)
{
    BudgetEstimate est;
    budget_estimate(sc, c, &est);
    GError *error = NULL;
    if (budget_check(&est, &fuzz_loader_limits, &error))
        return TRUE;
    fuzz_check_error(error);
    return FALSE;
}

/* Compiles what run_new() and expect_parse_all() compile for cluster, as kpsim run does. */
static void
fuzz_loader_cluster(Scenario *sc, Cluster *cluster)
{
    run_add_default_traffic(sc, cluster);
    if (!fuzz_loader_budget(sc, cluster))
        return;
    GError *error = NULL;
    g_autoptr(GPtrArray) expectations = expect_parse_all(cluster, &error);
    if (expectations == NULL)
        fuzz_check_error(g_steal_pointer(&error));
    g_autoptr(GPtrArray) events = events_compile(cluster, &error);
    if (events == NULL)
        fuzz_check_error(g_steal_pointer(&error));
}

/* See fuzz.h. */
int
fuzz_loader_one(const guint8 *data, gsize size)
{
    fuzz_init();
    const guint8 *nul = memchr(data, 0, size);
    gsize scenario_len = nul != NULL ? (gsize)(nul - data) : size;
    g_autofree char *scenario_path = fuzz_write_file("scenario.yaml", data, scenario_len);
    g_autofree char *manifest_path = NULL;
    if (nul != NULL)
        manifest_path = fuzz_write_file("manifest.yaml", nul + 1, size - scenario_len - 1);
    GError *error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(scenario_path, &error);
    if (sc != NULL && manifest_path != NULL && !loader_add_manifest(sc, manifest_path, &error))
        g_clear_pointer(&sc, scenario_free);
    if (sc == NULL) {
        fuzz_check_error(error);
        return 0;
    }
    if (!fuzz_loader_budget(sc, NULL))
        return 0;
    g_autoptr(Cluster) cluster = cluster_build(sc, &error);
    if (cluster == NULL) {
        fuzz_check_error(error);
        return 0;
    }
    fuzz_loader_cluster(sc, cluster);
    return 0;
}

#ifdef KPSIM_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_loader_one(data, size);
}
#endif
