/* SPDX-License-Identifier: Apache-2.0 */
/* The exposure of a cluster: every (address, port, protocol) of every node that answers from
 * outside because of kube-proxy's rules, the Service behind it, and what restricts it.
 *
 * This is the security cost the NodePort article warns about, read off the same per-node view
 * kube-proxy renders its rules from (model/kube_proxy_endpoints.h): every node opens every
 * NodePort on each address nodePortAddresses allows (and on 127.0.0.1 when iptables mode's
 * localhost NodePorts are on), every healthCheckNodePort, and captures every externalIP and
 * load-balancer IP routed to it. What a connection from outside meets there is answered with a
 * probe (model/probe.h) from a synthetic outside address, EXPOSE_OUTSIDE_SOURCE (or, for a
 * load-balancer IP with loadBalancerSourceRanges, from inside the first range). Symbols use the
 * prefix expose_. Left out: hostPort/hostNetwork pods and anything a cloud firewall adds.
 */
#ifndef KPSIM_EXPOSE_H
#define KPSIM_EXPOSE_H

#include "model/cluster.h"
#include "sim/nf_eval.h"

/* The outside client every exposure is probed from (TEST-NET-3, RFC 5737). */
#define EXPOSE_OUTSIDE_SOURCE "203.0.113.1"

typedef enum {
    EXPOSE_NODE_PORT,     /* spec.ports[].nodePort on a node address */
    EXPOSE_HEALTH_CHECK,  /* spec.healthCheckNodePort: kube-proxy's HTTP health server */
    EXPOSE_EXTERNAL_IP,   /* spec.externalIPs[]:port, captured on every node */
    EXPOSE_LOAD_BALANCER, /* status.loadBalancer.ingress[].ip:port, captured on every node */
} ExposeKind;

typedef struct {
    ExposeKind kind;
    SimSockAddr address; /* where it answers */
    SimProto protocol;
    gboolean localhost_only; /* 127.0.0.1: only processes on the node reach it */
    char *service;           /* "ns/name:port" as kube-proxy names the service port */
    const char *type;        /* (static) "NodePort", "LoadBalancer", ... */
    const char *policy;      /* (static) externalTrafficPolicy: "Cluster" or "Local" */
    NfVerdict verdict;       /* of the probe from outside (accept for health checks) */
    guint endpoints;         /* DNAT targets the probe could reach */
    char *outcome;           /* "forwarded to 2 endpoints, client address SNATed" */
    GPtrArray *restrictions; /* char*: "nodePortAddresses: 192.168.1.0/24", ... (may be empty) */
} ExposeEntry;

typedef struct {
    const K8sNode *node; /* (transfer none) */
    GPtrArray *entries;  /* ExposeEntry*, by family, Service port, kind, address */
    guint outside_pairs; /* distinct (address, port) reachable from outside */
} ExposeNode;

typedef struct {
    GPtrArray *nodes; /* ExposeNode*, in cluster order */
    char *summary;    /* the closing sentence */
} ExposeReport;

const char *expose_kind_name(ExposeKind k); /* "nodePort", "healthCheckNodePort", ... */

/* Builds the exposure of every node of c. Fails (KUBE_PROXY_ERROR) when nodePortAddresses is
 * invalid or a probe cannot run. (transfer full) */
ExposeReport *expose_build(const Cluster *c, GError **error);
void expose_report_free(ExposeReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ExposeReport, expose_report_free)

#endif
