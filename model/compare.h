/* SPDX-License-Identifier: Apache-2.0 */
/* One scenario under several kube-proxy modes, side by side: where a cluster migration from
 * iptables to nftables (or IPVS) changes what happens to traffic.
 *
 * Two parts. Probes: every (node, source, destination) a user would ask `kpsim trace` about -
 * each address and port any mode exposes from outside (`kpsim expose`: NodePorts on every
 * address nodePortAddresses allows, 127.0.0.1 for the node itself, health-check ports,
 * externalIPs, load-balancer IPs), each Service port's clusterIP from a pod on every node that
 * has one, the same clusterIP on a port no Service defines, and an address of the Service CIDR
 * no Service holds - judged through each mode's own rules (verdict, endpoints, masquerade).
 * Runs: the scenario's traffic under each mode with the same seed - success per traffic, each
 * pod's share and the client address it saw, each node's drops. A row differs when the modes
 * disagree beyond chance: any probe difference, success ratios more than 1 point apart, pod
 * shares more than 5 points apart, the client address kept under one mode and SNATed under
 * another, drops under one mode only. Differences that datapath-semantics.md documents
 * (sections 4 and 5) are named as such.
 *
 * Prefix compare_.
 */
#ifndef KPSIM_COMPARE_H
#define KPSIM_COMPARE_H

#include "model/cluster.h"
#include "model/report.h"

/* Which part of the comparison a row belongs to. */
typedef enum {
    COMPARE_PROBE, /* a new connection through one node's rules */
    COMPARE_RUN,   /* a result of the run */
} CompareSection;

typedef struct {
    CompareSection section;
    char *subject;     /* "node1 192.168.1.101:30080/TCP", "traffic web", "pod NAME" */
    char *aspect;      /* "from outside 203.0.113.1", "succeeded", "share", ... */
    GPtrArray *values; /* char*, one per mode, in the report's mode order */
    gboolean differs;
    const char *why; /* (static) (nullable) the documented difference, when it differs */
} CompareRow;

typedef struct {
    GArray *modes;   /* KpMode, in the order given */
    GPtrArray *rows; /* CompareRow*: the probes, then the run's rows */
    guint differences;
} CompareReport;

/* The mode as kube-proxy's configuration spells it ("iptables", "nftables", "ipvs"). (static) */
const char *compare_mode_name(KpMode mode);
/* Parses "iptables,nftables": at least one mode, each once. Returns FALSE when a name is not a
 * mode or repeats. (transfer full) into *modes */
gboolean compare_parse_modes(const char *text, GArray **modes);

/* An empty comparison of the n modes. (transfer full) */
CompareReport *compare_report_new(const KpMode *modes, guint n);
void compare_report_free(CompareReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CompareReport, compare_report_free)

/* Adds the probe rows. clusters[i] is the scenario's cluster with kube-proxy in r's mode i, all
 * built from the same scenario (same nodes, pods and Services), before any run changed them.
 * Fails (KUBE_PROXY_ERROR) when a mode cannot render a node's rules. Cost: a probe per row and
 * mode, each rendering the node's rules. */
gboolean compare_add_probes(CompareReport *r, Cluster *const *clusters, GError **error);

/* Adds the run rows from reports[i], the report of the same scenario and seed run under r's
 * mode i. */
void compare_add_runs(CompareReport *r, RunReport *const *reports);

#endif
