/* SPDX-License-Identifier: Apache-2.0 */
/* What one node's kube-proxy knows before it writes a single rule: its service ports with their
 * endpoints sorted into the Cluster and Local sets, its local-traffic detector and the
 * addresses that serve NodePorts. Symbols of this module use the prefix kp_.
 *
 * Models the mode-independent half of kube-proxy: pkg/proxy/serviceport.go (BaseServicePortInfo:
 * the per-family clusterIP, externalIPs, loadBalancer VIPs and source ranges, traffic-policy
 * predicates), pkg/proxy/endpointslicecache.go (merging EndpointSlices into one deduplicated,
 * sorted endpoint list per service port), pkg/proxy/topology.go (CategorizeEndpoints with the
 * terminating fallback and topology hints), pkg/proxy/util/nodeport_addresses.go and
 * pkg/proxy/util/localdetector.go. The iptables backend and the trace explanation read these
 * records; later backends (nftables, IPVS) are meant to as well.
 *
 * Ownership: a KpServiceMap owns its KpServicePorts, their KpEndpoints, names and lists (all
 * carved from the map's memory blocks); the cluster objects they point to are borrowed and must
 * outlive the map.
 */
#ifndef KPSIM_KUBE_PROXY_ENDPOINTS_H
#define KPSIM_KUBE_PROXY_ENDPOINTS_H

#include "model/cluster.h"

/* One endpoint of a service port as kube-proxy's endpointInfo holds it. */
typedef struct {
    SimSockAddr addr;
    char str[SIM_SOCKADDR_STRLEN]; /* "10.1.0.5:80" / "[fd00::5]:80": identity and sort key */
    const K8sEndpoint *source;     /* (transfer none) the EndpointSlice entry it came from */
    gboolean ready;                /* conditions.ready, unset = TRUE */
    gboolean serving;              /* conditions.serving, unset = TRUE */
    gboolean terminating;          /* conditions.terminating, unset = FALSE */
    gboolean local;                /* nodeName is this node's name */
    guint index;                   /* position in KpServicePort.endpoints */
} KpEndpoint;

/* A list of pointers carved from a KpServiceMap's blocks: read len and pdata
 * (g_ptr_array_index() works on it as on a GPtrArray). It is not a GPtrArray - no GLib
 * function takes it - so nothing can resize, sort, reference or free it by mistake. */
typedef struct {
    gpointer *pdata;
    guint len;
} KpPtrList;

/* The same for values: read len and data (g_array_index() works on it as on a GArray). */
typedef struct {
    gchar *data;
    guint len;
} KpValueList;

/* One port of one Service, for one node and one IP family (kube-proxy's servicePortInfo plus
 * the result of CategorizeEndpoints for it). The four endpoint lists share the KpEndpoints of
 * `endpoints`, keep its order (sorted by str) and hold no references of their own.
 *
 * The lists are never NULL and are carved from the map's blocks (a 10,000-Service node would
 * otherwise allocate seven arrays per port, most of them empty), as is name. */
typedef struct {
    const K8sService *service;      /* (transfer none) */
    const K8sServicePort *port;     /* (transfer none) */
    char *name;                     /* svcPortNameString: "ns/svc" or "ns/svc:port" (map's) */
    const char *protocol;           /* "tcp", "udp" or "sctp" (static) */
    SimAddr cluster_ip;             /* the clusterIP of this family */
    KpValueList *external_ips;      /* SimAddr: spec.externalIPs of this family */
    KpValueList *lb_vips;           /* SimAddr: ingress IPs of this family with ipMode VIP/unset */
    KpValueList *source_ranges;     /* SimCidr: loadBalancerSourceRanges of this family */
    guint16 health_check_node_port; /* 0 unless type LoadBalancer with ETP Local */
    guint sticky_seconds;           /* ClientIP affinity timeout; 0 = no affinity */

    gboolean externally_accessible;  /* nodePort, LB VIPs or externalIPs */
    gboolean external_policy_local;  /* ETP Local on an externally reachable type */
    gboolean internal_policy_local;  /* ITP Local */
    gboolean uses_cluster_endpoints; /* !internal_policy_local || externally_accessible */
    gboolean uses_local_endpoints;   /* internal_policy_local || external_policy_local */

    KpPtrList *endpoints;       /* KpEndpoint*: every endpoint, deduplicated, sorted */
    KpEndpoint *endpoint_block; /* the storage of the KpEndpoints (in the map's blocks) */
    KpPtrList *cluster;         /* KpEndpoint*: the Cluster-policy set */
    KpPtrList *local;           /* KpEndpoint*: the Local-policy set */
    KpPtrList *all_reachable;   /* KpEndpoint*: cluster U local, what this node may DNAT to */
    gboolean has_endpoints;     /* a usable endpoint exists anywhere in the cluster */
    gboolean used_topology;     /* the cluster set was filtered by zone hints */

    /* A summarised port (a Service the focused build summarised, Cluster.summaries): the four
     * endpoint lists stay empty and these say whether the Cluster and Local sets would not be.
     * Read them through kp_service_port_has_cluster() / kp_service_port_has_local(). */
    gboolean summarised;
    gboolean summary_cluster; /* the Cluster set is not empty */
    gboolean summary_local;   /* the Local set is not empty */
} KpServicePort;

/* TRUE when sp's Cluster / Local endpoint set is not empty (for a summarised port, what the
 * summary says). */
gboolean kp_service_port_has_cluster(const KpServicePort *sp);
gboolean kp_service_port_has_local(const KpServicePort *sp);

/* Every service port one node's proxier for one family handles. */
typedef struct {
    const Cluster *cluster; /* (transfer none) */
    const K8sNode *node;    /* (transfer none) */
    SimFamily family;
    GPtrArray *ports;       /* KpServicePort*, owned, sorted by (name, protocol) */
    guint total_endpoints;  /* endpoints over all ports (kube-proxy's large-cluster test) */
    guint listed_endpoints; /* those in the ports' endpoint lists (not summarised) */

    /* private: the memory the KpServicePorts and KpEndpoints are carved from (one allocation
     * per 64 KiB instead of two per port: a 10,000-Service map has 10,000 ports) */
    GPtrArray *blocks; /* owned blocks (g_free) */
    guint8 *block_next;
    gsize block_left;
} KpServiceMap;

/* Builds the view of node's kube-proxy for family: one KpServicePort per port of every Service
 * that has a clusterIP of family (headless and ExternalName Services are skipped), with the
 * endpoints of the Service's EndpointSlices of that address type, categorized for node. The
 * Services a focused cluster summarised (Cluster.summaries; node must then be its focus node)
 * get summarised ports: flags and counts, no endpoint lists.
 * Cost: O((services + slices + endpoints) log). (transfer full) */
KpServiceMap *kp_service_map_new(const Cluster *c, const K8sNode *node, SimFamily family);
void kp_service_map_free(KpServiceMap *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KpServiceMap, kp_service_map_free)
/* The service port named name ("ns/svc[:port]") with protocol proto, or NULL. Cost: O(log n).
 * (transfer none) */
const KpServicePort *kp_service_map_find(const KpServiceMap *m, const char *name, SimProto proto);

/* The node's IP of family as kube-proxy learns it (its first address of that family); FALSE
 * when the node has none. */
gboolean kp_node_primary_ip(const K8sNode *node, SimFamily family, SimAddr *out);

/* The local-traffic detector (detectLocalMode) of one family. */
typedef struct {
    gboolean implemented; /* FALSE: no usable detector, its rules are not written */
    KpDetectLocalMode mode;
    SimCidr cidr;      /* ClusterCIDR / NodeCIDR modes */
    const char *iface; /* (transfer none) bridge name or interface-name prefix */
} KpLocalDetector;

/* Sets d up from cfg for node and family: ClusterCIDR uses the first clusterCIDR of family
 * (none = not implemented), NodeCIDR the node's pod CIDR of family, BridgeInterface and
 * InterfaceNamePrefix their (non-empty) interface names. d borrows strings from cfg. */
void kp_local_detector_init(KpLocalDetector *d, const KubeProxyConfig *cfg, const K8sNode *node,
                            SimFamily family);
/* TRUE when the detector counts a packet from src arriving on iif (nullable) as cluster
 * traffic; FALSE when it is not implemented. */
gboolean kp_local_detector_is_local(const KpLocalDetector *d, const SimAddr *src, const char *iif);

/* Sets error to KUBE_PROXY_ERROR_CONFIG: "FILE:LINE:COLUMN: error: MESSAGE" with cfg's position
 * (just "error: MESSAGE" when it has none). For settings kube-proxy's validation rejects. */
void kp_config_error(GError **error, const KubeProxyConfig *cfg, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* nodePortAddresses for one family: which local addresses serve NodePorts. */
typedef struct {
    gboolean match_all; /* no restriction: every local address (addrtype LOCAL) */
    GArray *cidrs;      /* SimCidr of the family; empty when match_all */
} KpNodePortAddresses;

/* Parses cfg->node_port_addresses for family: CIDRs of the other family are ignored, "primary"
 * stands for the node's primary IP of family, and no CIDR of family (or a zero CIDR) means
 * match-all. Fails with KUBE_PROXY_ERROR_CONFIG on an entry that is neither a CIDR nor
 * "primary"; npa is then left cleared. In nftables mode an empty list means "primary" (that
 * proxier's default) rather than match-all. Release with kp_node_port_addresses_clear(). */
gboolean kp_node_port_addresses_init(KpNodePortAddresses *npa, const KubeProxyConfig *cfg,
                                     const K8sNode *node, SimFamily family, GError **error);
void kp_node_port_addresses_clear(KpNodePortAddresses *npa);
/* The node's local addresses of family inside npa (GetNodeIPs): loopback first (127.0.0.1 or
 * ::1), then the node's addresses in order, without duplicates. (transfer full) SimAddr array */
GArray *kp_node_port_addresses_node_ips(const KpNodePortAddresses *npa, const K8sNode *node,
                                        SimFamily family);

#endif
