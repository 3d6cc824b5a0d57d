/* SPDX-License-Identifier: Apache-2.0 */
/* What model/entry.c (decisions, run-time state, the router, life cycle) and
 * model/entry_speakers.c (health checks, MetalLB speakers, DNS) share. Not installed.
 */
#ifndef KPSIM_ENTRY_PRIVATE_H
#define KPSIM_ENTRY_PRIVATE_H

#include "model/entry.h"

/* Reconciliation period of the speakers and the router (MetalLB reacts to endpoint changes
 * within milliseconds; one second bounds the simulated lag). */
#define ENTRY_TICK SIM_SEC
/* How often the load balancer forgets idle flows. */
#define ENTRY_FLOW_SWEEP (60 * SIM_SEC)

/* What an entry knows of one node. */
typedef struct {
    const K8sNode *node;
    SimAddr addr;       /* the node's first IPv4 address (family NONE: none) */
    gboolean up;        /* powered */
    SimTime down_at;    /* when it lost power (while !up) */
    EntryHealth health; /* loadBalancer: the health checker's view */
    gboolean probing;   /* loadBalancer: a probe waits for its timeout */
    gboolean next_hop;  /* the router sends to it (in rotation, advertised, via) */
} EntryNode;

/* A flow the load balancer has placed: the client's 5-tuple and its node. */
typedef struct {
    SimSockAddr src, dst;
    guint8 proto;
} EntryFlowKey;

typedef struct {
    EntryFlowKey key; /* first: the table's key points here */
    guint node;
    SimTime last_seen;
} EntryFlow;

struct Entry {
    const Cluster *c;
    SimLoop *loop;
    const ScenarioTraffic *t;
    const ScenarioEntry *spec;
    char *svc_ns, *svc_name; /* (nullable) the Service behind the address */
    EntryNode *nodes;        /* one per cluster node, in the cluster's order */
    guint n_nodes;
    SimHost *router;       /* (nullable) */
    guint64 key;           /* flow hash key */
    GPtrArray *log;        /* EntryRecord* */
    gint announcer;        /* metallbL2: the node the router's ARP entry points at, or -1 */
    GHashTable *flows;     /* loadBalancer: EntryFlowKey* -> EntryFlow* */
    GArray *scratch;       /* guint: candidate next hops */
    const HealthCheck *hc; /* (nullable) the nodes' health servers: probes are real */
    GHashTable *probes;    /* EntryProbe*: real probes in flight (a set) */
    /* dnsRoundRobin */
    GArray *dns_nodes; /* gint per `to` entry: its node's index, -1 for addresses: records */
    GArray *cache;     /* guint: `to` indices of the cached answer, in answer order */
    guint cursor, rotation;
    SimTime expires;
    gboolean resolved;
};

/* ---- model/entry.c */
/* Appends a record at time at; takes detail. */
void entry_record_at(Entry *e, SimTime at, const char *kind, const char *subject, char *detail);
/* Appends a record at the current time; takes detail. */
void entry_record(Entry *e, const char *kind, const char *subject, char *detail);
/* The entry's address as text, in buf. */
const char *entry_address_text(const Entry *e, char *buf);
/* The Service behind the entry as the cluster holds it now (patches replace fields, not the
 * object, but look it up by name anyway), or NULL. */
const K8sService *entry_service(const Entry *e);
/* Does the entry's Service use externalTrafficPolicy Local? */
gboolean entry_policy_local(const Entry *e);
/* Has node i a ready local endpoint of the entry's Service? */
gboolean entry_node_has_endpoint(const Entry *e, guint i);
/* Has the entry's Service a ready endpoint anywhere? MetalLB's speakers announce a Service
 * only then (Cluster policy; Local asks for a local one). */
gboolean entry_service_has_endpoint(const Entry *e);

/* ---- model/entry_speakers.c */
/* What the probe of up node i gets: 200 (TRUE) or 503, and in why the reason of a 503. A
 * Local Service's healthCheckNodePort answers 200 with a local ready endpoint; kube-proxy's
 * /healthz answers 200 while it runs (node deletion and the ToBeDeletedByClusterAutoscaler
 * taint are not modelled). */
gboolean entry_probe_answer(const Entry *e, guint i, const char **why);
/* The URL the load balancer probes on node i. (transfer full) */
char *entry_probe_url(const Entry *e, guint i);
/* One round of health checks: every node is probed; live ones answer at once, dead ones fail
 * when the timeout runs out. Runs every interval. */
SimTime entry_probe_round(SimLoop *loop, SimEventId id, gpointer data);
/* Forgets flows idle for longer than flowIdleTimeout. Runs every ENTRY_FLOW_SWEEP. */
SimTime entry_flow_sweep(SimLoop *loop, SimEventId id, gpointer data);
/* Runs the speakers' and the router's reconciliation now. */
void entry_reconcile(Entry *e);
/* Periodic reconciliation (ENTRY_TICK), and the one-off ones at a failure detection time. */
SimTime entry_tick(SimLoop *loop, SimEventId id, gpointer data);
/* A one-off reconciliation at the moment a dead node's failure is detected. */
SimTime entry_detect(SimLoop *loop, SimEventId id, gpointer data);

#endif
