/* SPDX-License-Identifier: Apache-2.0 */
/* A run: the cluster turned into a simulated network, traffic pushed through it over time, and
 * the report of what happened.
 *
 * Builds what a real cluster is made of underneath Kubernetes (prefix run_): one forwarding
 * host per node with eth0 on the shared fabric, the node's conntrack sized as kube-proxy sizes
 * it, the node's kube-proxy rules (the very ruleset `kpsim rules` prints), routes to every
 * other node's pod CIDR through that node and to each local pod through its veth; one host per
 * pod behind its veth, running a server on every containerPort with a service time and a
 * concurrency limit; and the scenario's clients and traffic (model/workload.h). Then it runs
 * the event loop for the scenario's duration, lets connections in flight finish for up to their
 * timeout, and reports per traffic, pod, node and Service.
 *
 * The scenario's events (model/events.h) drive the control plane (model/controllers.h): nodes
 * lose and regain power, go NotReady, EndpointSlices change, and every node's kube-proxy
 * re-renders its rules no sooner than minSyncPeriod after its previous sync.
 *
 * Left out for now: events other than nodeDown, nodeUp, podKill, scale, patch and
 * proxyRestart (refused by run_new), expectations, host-network pods and SCTP traffic.
 * The report's notes say so when a scenario asks for them.
 */
#ifndef KPSIM_RUN_H
#define KPSIM_RUN_H

#include "model/cluster.h"
#include "model/report.h"
#include "model/workload.h"

#define RUN_ERROR (run_error_quark())
GQuark run_error_quark(void);
typedef enum {
    RUN_ERROR_OVERRIDE, /* a --set assignment names an unknown path or holds a bad value */
} RunError;

/* The CPUs kpsim gives each node when sizing nf_conntrack_max (kube-proxy's
 * max(maxPerCore * CPUs, min)). */
#define RUN_NODE_CPUS 4
/* One-way latency of a pod's veth pair. */
#define RUN_VETH_LATENCY (10 * SIM_USEC)

typedef struct Run Run;

/* Called after every simulated second (and at the end) with the clock, the time the run will
 * stop at the latest, and the events processed so far. */
typedef void (*RunProgressFunc)(SimTime now, SimTime limit, guint64 events, gpointer data);

/* Builds the network of c (whose scenario is c->scenario; its seed derives every random
 * stream). Fails when a node's kube-proxy cannot render its rules (KUBE_PROXY_ERROR) or an
 * event cannot be simulated (EVENTS_ERROR). c must outlive the run, and run_execute() changes
 * it as the events do (node and pod conditions, Services, EndpointSlices): build one cluster
 * per run. (transfer full) */
Run *run_new(const Cluster *c, GError **error);
void run_free(Run *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Run, run_free)

/* Captures everything the node named node sends and receives (its eth0 and pod veths, as
 * `tcpdump -i any` on the node) into pcap. Returns FALSE when there is no such node. */
gboolean run_set_node_capture(Run *r, const char *node, SimPcap *pcap);
/* Captures every client host into pcap. */
void run_set_client_capture(Run *r, SimPcap *pcap);
/* The first error a capture write met during the run (capturing stopped there), or NULL.
 * (transfer none) */
const GError *run_capture_error(const Run *r);

/* Runs the scenario: traffic from its start until min(stop, duration), then up to the longest
 * client timeout more for connections in flight; connections still undecided count as dropped.
 * progress may be NULL. Call once. */
void run_execute(Run *r, RunProgressFunc progress, gpointer data);
/* Asks run_execute() to end at the end of the current simulated step (at most one simulated
 * second later; the progress callback runs after every step): the traffic stops, connections
 * still open count as dropped and the report covers the simulated time so far. Only sets a
 * flag, atomically, so it may be called from the progress callback or another thread. */
void run_request_stop(Run *r);
/* TRUE when run_execute() ended early because of run_request_stop(). */
gboolean run_was_stopped(const Run *r);

/* The report of an executed run, sentences included (wall_seconds left 0). (transfer full) */
RunReport *run_report(const Run *r);

/* Applies one --set assignment "PATH=VALUE" to sc before its cluster is built. Paths (an
 * optional "spec." prefix is accepted): seed, duration (traffic that stopped at the old
 * duration now stops at the new one), pods.serviceTime, pods.concurrency,
 * cluster.network.latency, controllers.FIELD (nodeMonitorPeriod, nodeMonitorGracePeriod,
 * podEvictionTimeout, endpointUpdateDelay, podStartupTime: spec.controllers), and
 * traffic.NAME.FIELD with NAME a traffic name or "*" (all) and
 * FIELD one of rate, connections, start, stop, request.bytes, request.response,
 * connectTimeout, synRetries, responseTimeout. Setting rate clears connections and the other
 * way round. Fails with RUN_ERROR_OVERRIDE naming the path. */
gboolean run_override(Scenario *sc, const char *assignment, GError **error);

/* When sc has no traffic but a client: adds the default traffic of `kpsim run -f`, from the
 * first client to every node address at every nodePort of every NodePort and LoadBalancer
 * Service (one entry per protocol: "nodeports" for TCP, "nodeports-udp" for UDP), 50
 * connections/s from 0 s to the scenario's duration, 100-byte requests and 1000-byte
 * responses. Returns the number of entries added. */
guint run_add_default_traffic(Scenario *sc, const Cluster *c);

#endif
