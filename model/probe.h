/* SPDX-License-Identifier: Apache-2.0 */
/* A probe: the first packet of a new connection, offered to one node's kube-proxy rules, followed
 * through every branch of the rules' random choices.
 *
 * This is what kube-proxy's own unit tests do with their packet tracer, and what an engineer does
 * by reading `iptables-save` with a packet in mind: classify the source (a pod, the node itself,
 * or an outside client), run the node's hook path (PREROUTING or OUTPUT, routing, filter,
 * POSTROUTING), and report the verdict, the possible DNAT targets, and whether the node would
 * masquerade the packet.
 */
#ifndef KPSIM_PROBE_H
#define KPSIM_PROBE_H

#include "model/cluster.h"
#include "sim/nf_eval.h"

typedef enum {
    PROBE_SOURCE_POD,      /* inside the cluster CIDR (or a known pod IP) */
    PROBE_SOURCE_NODE,     /* one of this node's own addresses: a host process */
    PROBE_SOURCE_EXTERNAL, /* anything else */
} ProbeSourceKind;

typedef struct {
    NfBranch *branch;     /* (owned) */
    SimSockAddr endpoint; /* valid when branch->dnat */
    const K8sPod *pod;    /* (nullable) the pod behind endpoint */
} ProbeBranch;

typedef struct {
    const K8sNode *node;
    SimPacket packet; /* as it arrives */
    ProbeSourceKind source_kind;
    const char *in_iface;     /* "eth0", a pod's veth name, or NULL for a host process */
    const K8sPod *source_pod; /* (nullable) */
    NfVerdict verdict;        /* accept when any branch was DNATed or accepted */
    GArray *endpoints;        /* SimSockAddr, every DNAT target, sorted, unique */
    gboolean masquerade;      /* any branch was masqueraded */
    GPtrArray *branches;      /* ProbeBranch*, in rule order */
    NfRuleset *ruleset;       /* (owned) probe_run()'s rules; NULL from probe_run_rules() */
} Probe;

#define PROBE_ERROR (probe_error_quark())
GQuark probe_error_quark(void);

void probe_free(Probe *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Probe, probe_free)

/* Runs a probe on node for a new connection from -> to over proto. from's port 0 means "an
 * ephemeral port" (40000 is used). (transfer full) */
Probe *probe_run(const Cluster *c, const K8sNode *node, const SimSockAddr *from,
                 const SimSockAddr *to, SimProto proto, GError **error);

/* probe_run() through rules (transfer none: they must outlive the probe, whose steps point
 * into them), a ruleset of to's family such as the ones a node programmed at some time. */
Probe *probe_run_rules(const Cluster *c, const K8sNode *node, const NfRuleset *rules,
                       const SimSockAddr *from, const SimSockAddr *to, SimProto proto,
                       GError **error);

const char *probe_source_kind_name(ProbeSourceKind k); /* "pod", "node", "external" */

#endif
