/* SPDX-License-Identifier: Apache-2.0 */
/* Entry models: how a traffic's connections reach the cluster (traffic.entry), and the parts
 * of the outside world each model stands for. Prefix: entry_.
 *
 * - direct: the client dials node addresses itself, round-robin (model/workload.c; nothing
 *   here).
 * - dnsRoundRobin: the client resolves a name whose A records are node addresses. The server
 *   rotates its answer by one record per query (BIND's rrset-order cyclic); the client caches
 *   the answer for the record TTL and takes its addresses in turn, one per connection. With
 *   `nodes: ready` the records follow the Nodes' Ready condition (as external-dns publishing
 *   node addresses would); a dead node's address stays in the client's cache until the TTL
 *   runs out, and with `nodes: ready` until the node is NotReady and then the TTL runs out.
 * - loadBalancer: a passthrough cloud load balancer for a type LoadBalancer Service (GCE's
 *   network load balancer, Azure's): packets keep the load-balancer IP as destination, each
 *   new flow goes to one node in rotation by a 5-tuple hash and stays there (the LB's
 *   connection tracking, flowIdleTimeout), replies go straight back from the node (direct
 *   server return). Health checks every `interval` with `timeout`, healthy after
 *   `healthyThreshold` successes and unhealthy after `unhealthyThreshold` failures - GCE's
 *   defaults 8 s, 1 s, 1 and 3 (datapath-semantics.md 6.4). For externalTrafficPolicy Local
 *   they probe http://NODE:healthCheckNodePort/ (200 only with a local ready endpoint), for
 *   Cluster kube-proxy's http://NODE:10256/healthz (6.3). Nodes leave and rejoin the rotation
 *   as the thresholds are crossed; when no node is healthy the LB sends to all of them (GCE's
 *   fail-open). The LB's state starts converged: at 0 s every node is in rotation exactly
 *   when its check passes.
 * - metallbL2: one node per IP answers ARP, elected as MetalLB's speaker does (the eligible
 *   node whose sha256(node + "#" + IP) is smallest; eligible: every live speaker for Cluster
 *   while the Service has a ready endpoint, only nodes with a ready local endpoint for Local). All
 * traffic for the IP enters there. When the announcer dies the others notice after `failoverDelay`
 * (memberlist's failure detection; 10 s default, an order of magnitude from memberlist's LAN probe
 * interval and suspicion timeout - MetalLB's docs speak of "a few seconds" to tens of seconds) and
 * the new announcer's gratuitous ARP moves the IP; until then the router's ARP entry points at the
 * dead node (a black hole).
 * - metallbBGP: every eligible node (Cluster: every live node while the Service has a ready
 *   endpoint; Local: nodes with a ready local endpoint) advertises the IP to an upstream router
 * that spreads flows by ECMP (Linux hash-threshold, fib_multipath_hash_policy=1: the L4 5-tuple). A
 * live node withdraws at once; a dead one stays a next hop until the BGP hold time (90 s default,
 * RFC 4271's suggested value and FRR's/MetalLB's default) or the BFD detection time runs out. The
 *   router keeps no flow state, so a change of next hops rehashes existing flows.
 * - externalIP: a Service's spec.externalIPs routed by the client's network to one node
 *   (`via: NODE`), or by a router over several nodes (ECMP, static routes).
 *
 * Routers are forwarding hosts on the fabric with a link-local address (169.254.200.0/21,
 * one per traffic); the client routes the entry IP through its router (or, for one external
 * IP node, straight through that node). The models' decisions are recorded in a log the run
 * report shows with the control plane's (EntryRecord).
 *
 * Health probes are HTTP requests over simulated TCP from the router to kube-proxy's health
 * servers (model/healthcheck.h) when the run gives the entry those servers
 * (entry_set_health_servers()); without them (unit tests) a probe's answer is decided from
 * the cluster as the node's kube-proxy would give it (local ready endpoints of the Service
 * from the EndpointSlices; healthz healthy while the node runs).
 */
#ifndef KPSIM_ENTRY_H
#define KPSIM_ENTRY_H

#include "model/cluster.h"
#include "model/healthcheck.h"
#include "sim/net.h"

/* ------------------------------------------------------------------ decisions, pure */

/* The L4 flow hash of pkt's 5-tuple (addresses, protocol, ports) under key, as a router with
 * fib_multipath_hash_policy=1 computes one (the kernel's hash function and key differ; the
 * property kept is that one flow always hashes alike). */
guint32 entry_flow_hash(guint64 key, const SimPacket *pkt);
/* Linux's hash-threshold next-hop choice (fib_select_multipath()) among n equal-weight next
 * hops: the first i with hash >> 1 <= round((i + 1) * 2^31 / n) - 1. n > 0. */
guint entry_hash_threshold(guint32 hash, guint n);
/* MetalLB's layer-2 election: the index in names (n > 0) of the node whose sha256(name + "#"
 * + ip) is smallest, ip in its text form. */
guint entry_l2_elect(const char *const *names, guint n, const SimAddr *ip);

/* A health checker's view of one backend. A plain value. */
typedef struct {
    gboolean healthy;
    guint successes; /* consecutive, since the last failure */
    guint failures;  /* consecutive, since the last success */
} EntryHealth;

/* Counts one probe outcome; the backend becomes healthy at the healthy-th consecutive
 * success and unhealthy at the unhealthy-th consecutive failure. Returns TRUE when its state
 * changed. */
gboolean entry_health_note(EntryHealth *h, gboolean ok, guint healthy, guint unhealthy);

/* Distinct IPs of ready endpoints of svc on node, from the EndpointSlices: the number
 * healthCheckNodePort reports (datapath-semantics.md 6.2). */
guint entry_local_endpoints(const Cluster *c, const K8sService *svc, const K8sNode *node);
/* The Service with address among its load-balancer ingress IPs or externalIPs and a port
 * port (protocol proto), or NULL. (transfer none) */
const K8sService *entry_find_service(const Cluster *c, const SimAddr *address, guint16 port,
                                     SimProto proto);

/* ------------------------------------------------------------------ at run time */

/* One step an entry model took. */
typedef struct {
    SimTime at;
    char *kind;    /* "lb-out-of-rotation", "l2-failover", "bgp-withdrawn", "dns-resolved"... */
    char *subject; /* node name, or the entry IP */
    char *detail;  /* (nullable) one short sentence */
} EntryRecord;

typedef struct Entry Entry;

#define ENTRY_ERROR (entry_error_quark())
GQuark entry_error_quark(void);
typedef enum {
    ENTRY_ERROR_NO_SERVICE, /* no Service answers at the entry's address and port */
    ENTRY_ERROR_NO_NODE,    /* a node the entry names does not exist or has no IPv4 */
} EntryError;

/* The entry of traffic t (t->entry must not be NULL) for the cluster c on net: adds the router
 * host when the model needs one and routes client (the traffic's client host, nullable)
 * toward the entry. seed derives the flow hash key. Fails with ENTRY_ERROR_NO_SERVICE when a
 * loadBalancer, metallbL2 or metallbBGP finds no Service with the address as ingress IP (or
 * externalIP) and the port, and with ENTRY_ERROR_NO_NODE for a bad `via`. c, t and net must
 * outlive the entry. (transfer full) */
Entry *entry_new(const Cluster *c, SimNet *net, const ScenarioTraffic *t, SimHost *client,
                 guint index, guint64 seed, GError **error);
/* Releases the entry (call after its SimNet is freed or before the loop runs again). */
void entry_free(Entry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Entry, entry_free)

/* Starts the entry's timers (health checks, speaker reconciliation). Call once at 0 s. */
void entry_start(Entry *e);
/* Tells the entry that node lost (up FALSE) or regained power now. */
void entry_node_power(Entry *e, const K8sNode *node, gboolean up);
/* dnsRoundRobin: the index in the traffic's `to` of the next connection's address, from the
 * client's cache (resolved again once the TTL has run out). Other models: 0. */
guint entry_next_target(Entry *e, SimTime now);
/* loadBalancer: from now on the health checks are real HTTP probes - TCP connections from the
 * router to each node's health-check port through the node's rules (visible in its pcap),
 * judged by the status hc's server gives (200 passes; 503, a refused or reset connection or
 * no answer within the timeout fail). Without it (NULL, the default) each probe is decided
 * from the cluster as kube-proxy's server would answer it. hc is borrowed and must outlive
 * the entry's probes (the SimNet). */
void entry_set_health_servers(Entry *e, const HealthCheck *hc);
/* The model's log so far, in time order: EntryRecord*. (transfer none) */
const GPtrArray *entry_log(const Entry *e);
/* The router host (nullable: dnsRoundRobin, externalIP via one node). (transfer none) */
SimHost *entry_router(const Entry *e);

/* Fills `to` of every dnsRoundRobin traffic of c's scenario over nodes (nodes: all|ready):
 * one IP:PORT per node with an IPv4 address, in node order. Call before the workload is
 * built. */
void entry_fill_targets(const Cluster *c);

#endif
