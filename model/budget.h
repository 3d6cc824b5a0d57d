/* SPDX-License-Identifier: Apache-2.0 */
/* What a run will cost before it starts: simulated events and peak memory, estimated from the
 * scenario, and the limits (--max-events, --max-memory) that refuse an absurd one with an error
 * pointing at the field responsible instead of exhausting the machine.
 *
 * The estimate is deliberately coarse and errs on the high side: every connection opened over
 * the run (rate x active time, or closed-loop concurrency / the shortest possible connection),
 * about 40 events per connection plus 4 per extra TCP segment, connections in flight for as long
 * as their timeout, conntrack entries kept for the TIME_WAIT timeout and capped by
 * nf_conntrack_max, every pod, every kube-proxy rule on every node (a few per Service and per
 * endpoint), the per-second timeline, and the bytes of the captures `-o DIR` would write (shown,
 * not limited: they go to disk, not memory). The constants come from measuring kpsim itself on
 * the scenarios of scenarios/. Nothing here reads the machine: the limits come from the CLI.
 */
#ifndef KPSIM_BUDGET_H
#define KPSIM_BUDGET_H

#include "model/cluster.h"

#define BUDGET_ERROR (budget_error_quark())
GQuark budget_error_quark(void);
typedef enum {
    BUDGET_ERROR_EVENTS, /* the run would process more events than --max-events */
    BUDGET_ERROR_MEMORY, /* the run would need more memory than --max-memory */
} BudgetError;

/* Defaults of kpsim run/check --max-events and --max-memory: about ten minutes of simulation
 * at kpsim's measured ~1.7 million events per second, and 4 GiB. */
#define BUDGET_DEFAULT_MAX_EVENTS G_GUINT64_CONSTANT(1000000000)
#define BUDGET_DEFAULT_MAX_MEMORY (G_GUINT64_CONSTANT(4) << 30)

/* The limits a run must stay within; 0 means unlimited. */
typedef struct {
    guint64 max_events;
    guint64 max_memory; /* bytes */
} BudgetLimits;

/* The estimate of one run. Counts saturate at G_MAXUINT64. */
typedef struct {
    guint64 connections; /* connections the traffic opens over the run */
    guint64 in_flight;   /* connections open at once, at most */
    guint64 conntrack;   /* conntrack entries over all nodes, at most */
    guint64 pods;
    guint64 rules;       /* kube-proxy rules over all nodes */
    guint64 events;      /* simulated events */
    guint64 memory;      /* peak bytes */
    guint64 pcap_bytes;  /* bytes of the captures -o DIR writes */
    /* The biggest contributor to events and to memory: where it is written and what it is
     * ("traffic web: 1e+09 connections/s for 60s"). A position with line 0 is unknown. */
    K8sPos events_pos;
    char events_what[160];
    K8sPos memory_pos;
    char memory_what[160];
} BudgetEstimate;

/* Estimates the run of sc. Before cluster_build() pass c = NULL: the objects are read from sc
 * (Deployment replicas, Pods, Services). After it pass the cluster, which then owns the
 * objects. Traffic is read from sc in both cases (run_add_default_traffic() adds to it). */
void budget_estimate(const Scenario *sc, const Cluster *c, BudgetEstimate *out);
/* Checks est against limits. Fails with BUDGET_ERROR_EVENTS or BUDGET_ERROR_MEMORY and one
 * line "FILE:LINE:COLUMN: error: ..." naming the biggest contributor, the estimate, the limit
 * and the flag that raises it. */
gboolean budget_check(const BudgetEstimate *est, const BudgetLimits *limits, GError **error);

/* Parses a count for --max-events: "1000000", "2e9", "5k", "3M", "1G" (decimal suffixes), or
 * "0" (unlimited). FALSE on anything else or an overflow. */
gboolean budget_parse_count(const char *text, guint64 *out);
/* Parses a size for --max-memory: bytes, or with a suffix K, M, G, T (binary, an optional "iB"
 * or "B": "512M", "4GiB", "1.5G"), or "0" (unlimited). FALSE on anything else or an overflow. */
gboolean budget_parse_size(const char *text, guint64 *out);
/* "1.5 GiB", "512 MiB", "900 B": a byte count for messages. Writes into buf (>= 32 bytes). */
const char *budget_format_size(guint64 bytes, char *buf);

#endif
