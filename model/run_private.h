/* SPDX-License-Identifier: Apache-2.0 */
/* What the parts of a run share (model/run.c: building and running; run_pods.c: the pods'
 * servers; run_control.c: the control plane's datapath; run_report.c: the report;
 * run_override.c: --set and default traffic): the run's state and the functions each calls of
 * the others. Not installed.
 */
#ifndef KPSIM_RUN_PRIVATE_H
#define KPSIM_RUN_PRIVATE_H

#include "model/run.h"

#include "model/controllers.h"
#include "model/entry.h"
#include "model/healthcheck.h"
#include "model/kube_proxy.h"
#include "model/pod_apps.h"

typedef struct {
    const K8sNode *node;
    SimHost *host;
    guint eth0;
    NfRuleset *rules;      /* kept alive for the run: owned, or one of Run.shared_rules */
    gboolean rules_shared; /* rules belongs to Run.shared_rules */
    guint pods;
    guint64 served;  /* client connections that entered here and reached a pod */
    guint64 crossed; /* of those, served on another node */
    gboolean down;   /* powered off by an event */
} RunNode;

typedef struct RunPod RunPod;

/* A server-side connection (TCP) or a peer's datagram socket (UDP). */
typedef struct RunConn {
    RunPod *pod;
    SimSocket *socket; /* NULL once the socket is gone */
    SimProto proto;
    guint32 need, got;           /* TCP: request bytes expected and received so far */
    guint32 response;            /* TCP: response bytes */
    gboolean submitted;          /* TCP: the request went to the workers */
    WorkloadRequest req;         /* TCP: what the client asked for (a proxy forwards it) */
    guint refs;                  /* one for the socket, one per request in the pod */
    struct RunConn *prev, *next; /* the run's live connections (for teardown) */
} RunConn;

/* A request waiting for, or held by, a worker. */
typedef struct RunRequest {
    RunConn *conn;
    guint32 response;
    struct RunRequest *prev, *next; /* the pod's requests held by workers (for teardown) */
} RunRequest;

struct RunPod {
    Run *run;
    const K8sPod *pod;
    RunNode *node;
    SimHost *host;
    guint busy;
    RunRequest *serving;   /* requests held by workers */
    GQueue waiting;        /* RunRequest* */
    GHashTable *udp_peers; /* SimSocket* -> RunConn*: datagram sockets with requests */
    guint64 connections, requests, bytes_in, bytes_out;
    guint64 preserved, snat, other, queue_peak;
    guint64 connections_before; /* connections when the first fault struck */
    /* (nullable) node index + 1 -> client connections that had been addressed to that node */
    GHashTable *entered;
    gboolean deleted;     /* the pod is gone (killed, or evicted and its node back) */
    GPtrArray *listeners; /* (nullable) SimSocket*: its listening sockets (the net's) */
};

struct Run {
    Cluster *cluster; /* changed by the events (see run_new()) */
    const Scenario *sc;
    SimLoop *loop;
    SimNet *net;
    RunNode *nodes;
    guint n_nodes;
    GPtrArray *pods;          /* RunPod*, those of time 0 then those created by events */
    guint unplaced;           /* pods of time 0 without a node or an IPv4 address */
    GHashTable *node_by_addr; /* SimAddr* -> RunNode* */
    GHashTable *node_by_name; /* node name -> RunNode* */
    GPtrArray *shared_rules;  /* NfRuleset*: the time-0 rules of nodes whose rules are alike */
    RunConn *conns;           /* live server connections */
    Workload *workload;
    GPtrArray *events;        /* RunEvent*, the scenario's, in time order */
    Controllers *controllers; /* the control plane acting on them */
    GPtrArray *entries;       /* Entry*: the traffic's entry models (model/entry.h) */
    HealthCheck *health;      /* kube-proxy's health servers on every node */
    PodApps *apps;            /* the pods' applications other than the plain server */
    SimTime first_fault;      /* -1: none */
    gboolean executed;
    SimTime ended;
    gint stop_requested; /* run_request_stop(): atomic, read after every step */
    gboolean stopped;    /* run_execute() ended early on that request */
};

/* ---- model/run.c */
/* conntrack as kube-proxy leaves a node: nf_conntrack_max = max(maxPerCore * CPUs, min)
 * (left at the kernel's value when maxPerCore is 0) and its two TCP timeouts. */
void run_conntrack_config(const KubeProxyConfig *kp, CtConfig *cfg);
/* A node host: eth0 on the fabric, conntrack, kube-proxy's rules, an on-link default route
 * (the fabric carries node and client addresses). */
gboolean run_add_node(Run *r, RunNode *rn, const K8sNode *node, GError **error);
/* Routes from every node to every other node's pod CIDR, through that node's address. */
void run_add_pod_routes(Run *r);
/* The run's node named name, or NULL. */
RunNode *run_find_node(const Run *r, const char *name);
/* A pod host behind a veth on its node: eth0 with the pod IP, default route to the node; the
 * node routes the pod's /32 to the veth. The pod joins the run's list. */
void run_add_pod(Run *r, const K8sPod *pod, RunNode *rn);

/* ---- model/run_pods.c */
/* Callbacks for sockets the servers no longer follow (none). */
extern const SimSocketOps run_detached_ops;
/* Listens on every containerPort of the pod's containers (TCP or UDP; SCTP is not served). */
void run_pod_listen(RunPod *p);
/* Drops one reference to c, freeing it (and taking it off the run's list) with the last. */
void run_conn_unref(RunConn *c);

#endif
