/* SPDX-License-Identifier: Apache-2.0 */
/* Expectations: the promises of a scenario's spec.expect, typed, validated and judged against
 * the cluster and a run's report.
 *
 * What a CI pipeline asserts about a Service's datapath: the share of a traffic's connections
 * that succeeded, how evenly the pods of a label selector were loaded (largest and smallest
 * share, imbalance = largest share over the mean share), whether the pods saw the client's own
 * address or a node's (externalTrafficPolicy), what one node's rules do with a new connection
 * (the verdict, DNAT targets and masquerade of `kpsim trace`), how many packets a node
 * dropped for one reason, and how long a fault left a traffic (or one of its targets) failing:
 * the black hole, from the run's first fault to the end of the last second of start time with
 * a failed connection (model/report.h), 0 s when nothing failed after the fault or the run had
 * no fault. A black hole still open when the traffic stopped fails every upper bound. The loader keeps each expectation as flattened text (ScenarioItem);
 * this module gives it a type, a readable sentence and FILE:LINE:COLUMN errors, then evaluates
 * it. Symbols use the prefix expect_.
 *
 * Probes are judged on the cluster at 0 s, before a run's events change it, or - with `at` - on
 * the rules the node's kube-proxy had programmed by then (the scenario replayed up to that time
 * by model/timeline.h, as `kpsim trace --at` does); the rest at the end of the run. A pod's
 * counters are not kept per traffic, so sourceIPSeenByPods is judged over the pods behind the
 * Services the traffic's targets belong to. `at` on another kind is rejected with an error
 * (they are judged over the whole run), never ignored.
 */
#ifndef KPSIM_EXPECT_H
#define KPSIM_EXPECT_H

#include "model/cluster.h"
#include "model/report.h"
#include "sim/nf_eval.h"

#define EXPECT_ERROR (expect_error_quark())
GQuark expect_error_quark(void);
typedef enum {
    EXPECT_ERROR_INVALID, /* a malformed or unknown field; the message has FILE:LINE:COL */
} ExpectError;

typedef enum {
    EXPECT_SUCCEEDED, /* {traffic, succeeded} */
    EXPECT_MAX_SHARE, /* {pods, maxShare} */
    EXPECT_MIN_SHARE, /* {pods, minShare} */
    EXPECT_IMBALANCE, /* {pods, imbalance} */
    EXPECT_SOURCE_IP, /* {traffic, sourceIPSeenByPods: preserved|snat} */
    EXPECT_PROBE,     /* {probe: {node, from, to, protocol}, verdict, endpoints, masquerade} */
    EXPECT_DROPS,     /* {node, drops: {REASON: threshold}} */
    EXPECT_BLACK_HOLE, /* {traffic, [target: IP:PORT], blackHole: "<= 80s"} */
} ExpectKind;

typedef enum {
    EXPECT_OP_GE,
    EXPECT_OP_LE,
    EXPECT_OP_GT,
    EXPECT_OP_LT,
    EXPECT_OP_EQ,
} ExpectOp;

/* "OP VALUE": value is a fraction when percent or for ratio kinds, a count for drops, seconds
 * for blackHole (text then the duration as written, "80s"). */
typedef struct {
    ExpectOp op;
    double value;
    char *text; /* "95%", "0.95", "1.2": the value as written */
} ExpectThreshold;

typedef struct {
    ExpectKind kind;
    char *text; /* "traffic web succeeded >= 95%" */
    K8sPos pos;
    char *traffic;        /* (nullable) SUCCEEDED, SOURCE_IP, BLACK_HOLE */
    char *target;         /* (nullable) BLACK_HOLE: one `to` entry of traffic, as written */
    char *pods;           /* (nullable) the selector as written, share kinds */
    GHashTable *selector; /* (nullable) key -> value of pods */
    ExpectThreshold threshold;
    gboolean preserved;   /* SOURCE_IP: TRUE preserved, FALSE snat */
    char *node;           /* (nullable) PROBE, DROPS (NULL = every node) */
    SimSockAddr from, to; /* PROBE */
    SimProto protocol;    /* PROBE */
    NfVerdict verdict;    /* PROBE */
    /* (nullable) PROBE: char* "ip:port", sorted; NULL = not checked. `endpoints: none` (or
     * null) expects no endpoint; `endpoints: []` reaches us as no field at all (the loader
     * flattens an empty list away), so it means "not checked". */
    GPtrArray *endpoints;
    int masquerade; /* PROBE: -1 not checked, else 0/1 */
    int reason;     /* DROPS: SimDropReason */
    SimTime at;     /* PROBE: judged on the rules of this time; 0: the cluster before the run */
} Expectation;

/* One evaluated expectation. */
typedef struct {
    char *text; /* the expectation */
    gboolean ok;
    char *observed; /* "97.2% (2934 of 3018)" */
    K8sPos pos;
} ExpectResult;

void expectation_free(Expectation *e);
void expect_result_free(ExpectResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Expectation, expectation_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ExpectResult, expect_result_free)

/* Types item (the index-th entry of spec.expect) against c: traffic names must exist in the
 * scenario, nodes in the cluster, a pod selector must select a pod or a Deployment template,
 * thresholds must be "[OP] NUMBER[%]" with OP one of >=, <=, >, <, ==. Fails with
 * EXPECT_ERROR_INVALID and "FILE:LINE:COLUMN: error: spec.expect[i].FIELD: ...". (transfer full) */
Expectation *expect_parse(const Cluster *c, const ScenarioItem *item, guint index, GError **error);
/* Every expectation of c->scenario, in order; NULL on the first error. (transfer full) */
GPtrArray *expect_parse_all(const Cluster *c, GError **error);

/* TRUE when some expectation needs a run's report (probes alone do not). */
gboolean expect_needs_run(const GPtrArray *expectations);

/* Judges e against c (probes) and rep (the rest; rep may be NULL only when e is a probe).
 * (transfer full) */
ExpectResult *expect_evaluate(const Expectation *e, const Cluster *c, const RunReport *rep);
/* Judges the probe expectations without `at` on c as it is now - before a run, whose events
 * change the cluster - and leaves NULL in the slots of the others. (transfer full) */
GPtrArray *expect_evaluate_probes(const GPtrArray *expectations, const Cluster *c);

/* Builds a fresh scenario and cluster, as the caller loaded them (same file, manifests and
 * overrides), for a probe `at` a time to replay. (transfer full: both, sc outliving c) */
typedef gboolean (*ExpectReplayFunc)(gpointer data, Scenario **sc, Cluster **c, GError **error);
/* Fills the slots of the probes with `at`: for each, replay() builds a cluster that is replayed
 * up to the time (events and controllers, model/timeline.h) and the probe runs on the node's
 * rules of then. A replay that fails leaves a failed result saying why. */
void expect_evaluate_probes_at(GPtrArray *results, const GPtrArray *expectations,
                               ExpectReplayFunc replay, gpointer data);
/* Fills the NULL slots of results (from expect_evaluate_probes) from rep and c after the run.
 * Probes with `at` still unevaluated are replayed from c->scenario->file (its spec.manifests
 * included; -f manifests are not known here: use expect_evaluate_probes_at() for them). */
void expect_evaluate_run(GPtrArray *results, const GPtrArray *expectations, const Cluster *c,
                         const RunReport *rep);
/* Every expectation judged, ExpectResult* in order: expect_evaluate_probes() then
 * expect_evaluate_run(). (transfer full) */
GPtrArray *expect_evaluate_all(const GPtrArray *expectations, const Cluster *c,
                               const RunReport *rep);
/* The number of results that failed. */
guint expect_count_failed(const GPtrArray *results);

/* Writes results into rep: the expectations' sentences replace rep->expectations, the results
 * go to rep->expectation_results, and the note saying they were not evaluated is dropped. */
void expect_fill_report(RunReport *rep, const GPtrArray *results);

/* Parses "[OP] NUMBER[%]" into t (t->text set); percent divides by 100. default_op applies when
 * no operator is written. FALSE on anything else. */
gboolean expect_threshold_parse(const char *text, ExpectOp default_op, ExpectThreshold *t);
const char *expect_op_name(ExpectOp op); /* ">=", "<=", ">", "<", "==" */

#endif
