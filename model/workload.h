/* SPDX-License-Identifier: Apache-2.0 */
/* Workloads: the external clients of a scenario and the traffic they send (spec.clients and
 * spec.traffic), with what each connection's client saw.
 *
 * Stands in for a load generator outside the cluster (wrk, hey, a fleet of browsers): one host
 * per client on the fabric, and per traffic entry either an open loop of Poisson arrivals at
 * `rate` or a closed loop of `connections` concurrent connections, each starting the next when
 * it ends. Targets are taken round-robin; TCP source ports are chosen as Linux's connect()
 * does (sequentially per destination, from a random offset). A TCP connection connects (SYN retransmissions, a
 * connect timeout), sends its request, reads the full response and closes once the server has
 * closed; a UDP one sends one datagram and waits for one answer up to a response timeout.
 *
 * Records are bounded by connections in flight, not by connections simulated: per traffic and
 * per target counters, a log-linear latency histogram (WorkloadHist) and one bucket per second
 * of start time. Connections still undecided when the run ends count as dropped.
 *
 * What a request asks for (its size and the response size, which an HTTP request line would
 * say) is not carried in simulated bytes: servers look it up with workload_lookup() by the
 * connection's original addresses (the client's own address and port and the target it
 * dialled, as the conntrack entry of the node that translated it remembers them).
 */
#ifndef KPSIM_WORKLOAD_H
#define KPSIM_WORKLOAD_H

#include "model/scenario.h"
#include "sim/net.h"
#include "sim/sim_rng.h"

/* ------------------------------------------------------------------ latency histogram */

/* A histogram of non-negative durations with log-linear buckets: exact below 256 ns, then 128
 * buckets per power of two, so any recorded value lies in a bucket no wider than 1/128 of its
 * lower bound and a percentile is reported within 0.4% of a value of that rank. The count,
 * sum, minimum and maximum are exact. Memory: 8 bytes per bucket up to the largest value seen
 * (about 34 KiB for values up to 100 s). */
typedef struct WorkloadHist WorkloadHist;

/* An empty histogram. (transfer full) */
WorkloadHist *workload_hist_new(void);
void workload_hist_free(WorkloadHist *h);
/* Records one value (negative values count as 0). O(1) amortised. */
void workload_hist_add(WorkloadHist *h, SimTime value);
guint64 workload_hist_count(const WorkloadHist *h);
/* The value at percentile p (0 < p <= 100) by the nearest-rank rule: the middle of the bucket
 * holding the ceil(p/100 * count)-th smallest value, clamped to the exact minimum and maximum.
 * 0 for an empty histogram. Cost: a walk over the buckets. */
SimTime workload_hist_percentile(const WorkloadHist *h, double p);
/* The exact largest value, or 0 when empty. */
SimTime workload_hist_max(const WorkloadHist *h);
/* The mean, rounded to the nanosecond, or 0 when empty. */
SimTime workload_hist_mean(const WorkloadHist *h);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WorkloadHist, workload_hist_free)

/* ------------------------------------------------------------------ arrivals */

/* A Poisson arrival process: exponential gaps with mean 1/rate, drawn from the stream
 * "traffic/NAME" of the seed so that no other component's draws shift it. A plain value. */
typedef struct {
    SimRng rng;
    double mean_gap_ns;
} WorkloadArrivals;

/* Starts the process of traffic name at rate arrivals per second (> 0). */
void workload_arrivals_init(WorkloadArrivals *a, guint64 seed, const char *name, double rate);
/* The gap to the next arrival, in nanoseconds (>= 1). The logarithm is computed with basic
 * IEEE-754 operations only, so a seed gives the same gaps on every machine. */
SimTime workload_arrivals_next(WorkloadArrivals *a);

/* ------------------------------------------------------------------ traffic at run time */

typedef enum {
    WORKLOAD_SUCCEEDED, /* the full response arrived */
    WORKLOAD_TIMEOUT,   /* connect timeout / SYN retries exhausted, or no UDP answer in time */
    WORKLOAD_REFUSED,   /* RST or ICMP unreachable in answer to the SYN / datagram */
    WORKLOAD_RESET,     /* the connection was reset, or closed before the full response */
    WORKLOAD_DROPPED,   /* still undecided when the run ended */
} WorkloadOutcome;
#define WORKLOAD_OUTCOMES 5

/* How long a connection of t waits before it gives up: the connect timeout for TCP, the
 * response timeout for UDP (SCENARIO_CONNECT_TIMEOUT / SCENARIO_RESPONSE_TIMEOUT when 0). */
SimTime workload_timeout(const ScenarioTraffic *t);

/* Lowercase name as the report prints it ("succeeded", "timeout", ...). */
const char *workload_outcome_name(WorkloadOutcome o);

typedef struct {
    guint64 sent;                        /* connections started */
    guint64 outcomes[WORKLOAD_OUTCOMES]; /* how they ended */
} WorkloadCounts;

typedef struct {
    guint64 succeeded;
    guint64 failed;
} WorkloadBucket;

/* What one traffic entry recorded. */
typedef struct {
    WorkloadCounts total;
    WorkloadCounts *targets; /* one per entry of the traffic's `to`, in order */
    WorkloadHist *latency;   /* connect to full response, successful connections only */
    GArray *timeline;        /* WorkloadBucket per second of start time, [0, duration) */
    /* WorkloadCounts per second of start time and target: index second * targets + target
     * (sent counts the connections decided so far; outcomes as in total). Grows like timeline. */
    GArray *target_timeline;
} WorkloadTrafficStats;

/* What a server learns about a connection from its request (see the file comment). */
typedef struct {
    guint traffic; /* index in the scenario's traffic */
    guint target;  /* index in that traffic's `to` */
    guint32 request_bytes;
    guint32 response_bytes;
    SimSockAddr client; /* the client's own address and port */
} WorkloadRequest;

typedef struct Workload Workload;

/* Adds one host per client of sc to net (eth0 with the client's address on the fabric with the
 * scenario's latency and bandwidth, an on-link default route) and prepares sc's traffic. Random
 * streams derive from seed. sc and net must outlive the workload. (transfer full) */
Workload *workload_new(SimNet *net, const Scenario *sc, guint64 seed);
/* Releases the workload's records and connection state. Call after the SimNet is freed or
 * before it runs again: sockets still open keep pointers into the workload. */
void workload_free(Workload *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Workload, workload_free)

/* Captures every client host into pcap (one file for all clients). (transfer none) */
void workload_set_capture(Workload *w, SimPcap *pcap);
/* Schedules every traffic entry: arrivals from its start until min(stop, end). Traffic over
 * a protocol other than TCP and UDP sends nothing. */
void workload_start(Workload *w, SimTime end);
/* From now on, stops the loop as soon as no connection is undecided (the drain after the end). */
void workload_stop_when_idle(Workload *w);
/* Connections started and not yet decided. */
guint64 workload_undecided(const Workload *w);
/* Counts every undecided connection as dropped. Call once, when the run is over. */
void workload_finish(Workload *w);

/* The request of the open connection over proto from client (the client's own address and
 * port) to target (the address and port it dialled), or NULL when there is none. (transfer
 * none: valid until the loop runs on) O(1). */
const WorkloadRequest *workload_lookup(const Workload *w, SimProto proto, const SimSockAddr *client,
                                       const SimSockAddr *target);

/* Chooses the `to` index of traffic's next connection at now (an entry model's client-side
 * choice, e.g. a DNS cache); it replaces round-robin and failover. */
typedef guint (*WorkloadTargetFunc)(guint traffic, SimTime now, gpointer data);
/* Installs func (NULL: round-robin again) as the target chooser of traffic index i; data is
 * borrowed. */
void workload_set_target_func(Workload *w, guint i, WorkloadTargetFunc func, gpointer data);

/* The records of traffic index i (the scenario's order). (transfer none) */
const WorkloadTrafficStats *workload_traffic_stats(const Workload *w, guint i);
/* The host of the client named name, or NULL. (transfer none) */
SimHost *workload_client_host(const Workload *w, const char *name);

#endif
