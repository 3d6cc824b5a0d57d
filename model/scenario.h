/* SPDX-License-Identifier: Apache-2.0 */
/* The kind: Scenario document and everything loaded with it: the cluster's shape, kube-proxy's
 * configuration, clients, traffic, events, expectations, and the Kubernetes objects of the
 * stream, of spec.manifests and of -f files.
 *
 * A scenario is what a kind/kubeadm cluster plus a load generator would be in real life; kpsim
 * only keeps the parts that shape the datapath. Field names follow docs/design.md.
 */
#ifndef KPSIM_SCENARIO_H
#define KPSIM_SCENARIO_H

#include "model/k8s.h"

typedef struct {
    char *name;
    SimAddr address;
    K8sPos pos;
} ScenarioClient;

/* How a traffic's connections reach the cluster (traffic.entry; model/entry.h runs them). */
typedef enum {
    SCENARIO_ENTRY_DIRECT,          /* to: node addresses, round-robin per connection */
    SCENARIO_ENTRY_DNS_ROUND_ROBIN, /* a name with rotating A records, cached for a TTL */
    SCENARIO_ENTRY_LOAD_BALANCER,   /* a health-checking passthrough cloud load balancer */
    SCENARIO_ENTRY_METALLB_L2,      /* MetalLB layer 2: one announcing node, ARP failover */
    SCENARIO_ENTRY_METALLB_BGP,     /* MetalLB BGP: an upstream router's ECMP over nodes */
    SCENARIO_ENTRY_EXTERNAL_IP,     /* spec.externalIPs routed to chosen nodes */
} ScenarioEntryKind;

/* traffic.entry: one of dnsRoundRobin, loadBalancer, metallbL2, metallbBGP, externalIP (the
 * loader fills the defaults; absent = direct over `to`). */
typedef struct {
    ScenarioEntryKind kind;
    SimAddr address; /* the load-balancer / external IP (all but dnsRoundRobin) */
    guint16 port;
    K8sPos pos;
    /* dnsRoundRobin */
    GArray *records;      /* SimAddr: addresses: [...] (empty with nodes:) */
    gboolean nodes_ready; /* nodes: ready (only Ready nodes' addresses) vs nodes: all */
    SimTime ttl;          /* ttl: client cache lifetime, default 30 s */
    /* loadBalancer */
    SimTime hc_interval;       /* healthCheck.interval, default 8 s (GCE) */
    SimTime hc_timeout;        /* healthCheck.timeout, default 1 s */
    guint hc_healthy;          /* healthCheck.healthyThreshold, default 1 */
    guint hc_unhealthy;        /* healthCheck.unhealthyThreshold, default 3 */
    SimTime flow_idle_timeout; /* flowIdleTimeout: the LB's connection tracking, 600 s */
    /* metallbL2 */
    SimTime failover_delay; /* failoverDelay: memberlist failure detection, default 10 s */
    /* metallbBGP */
    SimTime hold_time;  /* holdTime: BGP hold timer, default 90 s */
    SimTime bfd_detect; /* bfd: {interval, multiplier}: detection time, 0 = no BFD */
    /* externalIP */
    GPtrArray *via; /* char*: node names the router sends the IP to (ECMP when more) */
} ScenarioEntry;

/* Defaults of the entry fields above (docs in model/entry.h). */
#define SCENARIO_ENTRY_DNS_TTL (30 * SIM_SEC)
#define SCENARIO_ENTRY_HC_INTERVAL (8 * SIM_SEC)
#define SCENARIO_ENTRY_HC_TIMEOUT (1 * SIM_SEC)
#define SCENARIO_ENTRY_HC_HEALTHY 1
#define SCENARIO_ENTRY_HC_UNHEALTHY 3
#define SCENARIO_ENTRY_FLOW_IDLE (600 * SIM_SEC)
#define SCENARIO_ENTRY_L2_FAILOVER (10 * SIM_SEC)
#define SCENARIO_ENTRY_BGP_HOLD (90 * SIM_SEC)

/* An entry of kind with every default. (transfer full) */
ScenarioEntry *scenario_entry_new(ScenarioEntryKind kind);
void scenario_entry_free(ScenarioEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScenarioEntry, scenario_entry_free)

typedef struct {
    char *name;
    char *from;          /* client name */
    GArray *to;          /* SimSockAddr, round-robin targets */
    SimProto protocol;
    double rate;         /* connections per second (Poisson); 0 when closed loop */
    guint connections;   /* closed-loop concurrency; 0 when rate is used */
    guint request_bytes;
    guint response_bytes;
    SimTime start, stop;
    K8sPos pos;
    K8sPos load_pos; /* the rate: or connections: value; line 0 when neither is written */
    /* How the clients give up (added for the run time; the loader fills the defaults). */
    SimTime connect_timeout;  /* connectTimeout: TCP connect timeout, default 10 s */
    guint syn_retries;        /* synRetries: TCP SYN retransmissions, default 6 */
    SimTime response_timeout; /* responseTimeout: UDP wait for the answer, default 2 s */
    /* sourcePort: every connection's client port (a DNS forwarder, a statsd or syslog sender
     * that keeps one socket); 0 (default) = an ephemeral port per connection. A connection
     * whose 4-tuple is still in use fails at once (EADDRINUSE, counted as refused), so pair it
     * with a closed loop of one connection. */
    guint16 source_port;
    /* Client-side failover (failover: {after, retryAfter}): a target whose last failover_after
     * connections all failed is left out of the round-robin for failover_retry_after, then
     * probed again by one connection; a success clears it. */
    guint failover_after;         /* failover.after: consecutive failures; 0 (default) = off */
    SimTime failover_retry_after; /* failover.retryAfter: how long to skip it, default 30 s */
    /* entry: how connections reach the cluster; NULL = direct to `to`. With an entry, `to`
     * holds the entry's IP:PORT (dnsRoundRobin: one per record; with nodes:, filled from the
     * cluster's nodes when the run is built). (owned, nullable) */
    ScenarioEntry *entry;
} ScenarioTraffic;

/* Defaults of the traffic fields above. */
#define SCENARIO_CONNECT_TIMEOUT (10 * SIM_SEC)
#define SCENARIO_SYN_RETRIES 6
#define SCENARIO_RESPONSE_TIMEOUT (2 * SIM_SEC)
#define SCENARIO_FAILOVER_RETRY_AFTER (30 * SIM_SEC)

/* An event or expectation, kept as validated text key/values until the run-time issues
 * interpret them. */
typedef struct {
    SimTime at;
    char *kind;          /* "nodeDown", "patch", ... or "expect" */
    GHashTable *fields;  /* char* -> char*: flattened "a.b.c" -> scalar text */
    K8sPos pos;
} ScenarioItem;

typedef struct {
    char *name;
    char *description;   /* (nullable) */
    char *file;          /* the scenario's own path, or "<built-in>" */
    guint64 seed;
    SimTime duration;

    /* spec.cluster */
    GPtrArray *nodes;      /* K8sNode*, in declaration order (spec.cluster.nodes, Node docs) */
    SimCidr cluster_cidr;  /* default 10.244.0.0/16 */
    GArray *service_cidrs; /* SimCidr, default 10.96.0.0/12 */
    guint16 node_port_low, node_port_high; /* default 30000-32767 */
    SimTime net_latency;   /* default 200 us */
    guint64 net_bandwidth; /* bits per second, default 10 Gbps */

    KubeProxyConfig proxy;
    gboolean proxy_cluster_cidr_from_cluster; /* proxy.clusterCIDR not given: use cluster's */

    GPtrArray *clients;    /* ScenarioClient* */
    GPtrArray *traffic;    /* ScenarioTraffic* */
    GPtrArray *events;     /* ScenarioItem* */
    GPtrArray *expect;     /* ScenarioItem* */

    /* Kubernetes objects, in the order they were read. */
    GPtrArray *services;    /* K8sService* */
    GPtrArray *deployments; /* K8sDeployment* */
    GPtrArray *pods;        /* K8sPod* */
    GPtrArray *slices;      /* K8sEndpointSlice* */

    GPtrArray *warnings;    /* char*: "FILE:LINE:COL: warning: MESSAGE" */

    /* spec.pods: how every pod's server handles requests (added for the run time). */
    SimTime pod_service_time; /* serviceTime: per request, default 1 ms */
    guint pod_concurrency;    /* concurrency: requests served at once, default 64 */

    /* spec.controllers: control-plane timings for events (model/controllers.h has the
     * defaults: Kubernetes'). */
    SimTime node_monitor_period;   /* nodeMonitorPeriod, default 5 s */
    SimTime node_monitor_grace;    /* nodeMonitorGracePeriod, default 50 s */
    SimTime pod_eviction_timeout;  /* podEvictionTimeout (tolerationSeconds), default 300 s */
    SimTime endpoint_update_delay; /* endpointUpdateDelay, default 1 s */
    SimTime pod_startup;           /* podStartupTime: new pod to Ready, default 2 s */
} Scenario;

void scenario_free(Scenario *sc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scenario, scenario_free)

/* An empty scenario with every default of docs/design.md and no nodes. (transfer full) */
Scenario *scenario_new(const char *file);
/* The default cluster `kpsim run -f` uses: nodes node1..node3 at 192.168.1.101-103 and a
 * client "client" at 203.0.113.10. (transfer full) */
Scenario *scenario_new_default(void);
/* Finds a node by name, or NULL. (transfer none) */
K8sNode *scenario_find_node(const Scenario *sc, const char *name);

#endif
