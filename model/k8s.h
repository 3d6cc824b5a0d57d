/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes objects as kpsim holds them: Node, Pod, Deployment, Service, EndpointSlice and the
 * KubeProxyConfiguration, each with just the fields that shape the datapath.
 *
 * These are the API types (core/v1, apps/v1, discovery.k8s.io/v1, kubeproxy.config.k8s.io/
 * v1alpha1), flattened into plain C records. Every object remembers where it was written
 * (file, line, column) so later checks can point at it. Strings are owned by the object.
 * Status fields that a real cluster's controllers would fill (pod IPs, node pod CIDRs,
 * allocated clusterIPs and nodePorts, EndpointSlices) are filled by model/cluster*.c.
 */
#ifndef KPSIM_K8S_H
#define KPSIM_K8S_H

#include <glib.h>
#include "sim/sim_addr.h"
#include "sim/sim_packet.h"
#include "sim/sim_time.h"

/* Where something was written: file:line:column (1-based). file is interned (g_intern_string). */
typedef struct {
    const char *file;
    guint line;
    guint column;
} K8sPos;

/* A tri-state for optional booleans (EndpointSlice conditions). */
typedef enum {
    K8S_UNSET = -1,
    K8S_FALSE = 0,
    K8S_TRUE = 1,
} K8sBool;

typedef struct {
    char *name;
    char *namespace_; /* "default" when not given */
    GHashTable *labels;      /* char* -> char*, (nullable) */
    GHashTable *annotations; /* char* -> char*, (nullable) */
    K8sPos pos;
} K8sMeta;

/* ---------------------------------------------------------------- Node */

typedef struct {
    char *name;
    K8sPos pos;
    GArray *addresses;    /* SimAddr, the first of each family is the InternalIP */
    SimCidr pod_cidr;     /* assigned from clusterCIDR when not given (family NONE until then) */
    GHashTable *labels;   /* (nullable) topology.kubernetes.io/zone etc. */
    gboolean ready;       /* Ready condition True */
    gboolean unschedulable;
    gboolean explicit_object; /* came from a kind: Node document rather than spec.cluster */
} K8sNode;

/* ---------------------------------------------------------------- Pod template and Pod */

typedef struct {
    char *name; /* (nullable) port name, used by named targetPorts */
    guint16 container_port;
    SimProto protocol;
} K8sContainerPort;

typedef struct {
    char *name;
    char *image;   /* (nullable) only a container patched in may lack one */
    GArray *ports; /* K8sContainerPort */
    /* lifecycle.preStop as a pause before SIGTERM: sleep.seconds (PodLifecycleSleepAction) or
     * an exec hook running `sleep N` (directly or through `sh -c`). Other hooks are taken as
     * instant. */
    gboolean has_pre_stop;
    SimTime pre_stop;
} K8sContainer;

typedef struct {
    GHashTable *labels;       /* (nullable) */
    GPtrArray *containers;    /* K8sContainer* */
    SimTime termination_grace; /* terminationGracePeriodSeconds, default 30 s */
    char *node_name;          /* (nullable) spec.nodeName */
} K8sPodSpec;

typedef struct {
    K8sMeta meta;
    K8sPodSpec spec;
    char *node_name;      /* (nullable) where it runs */
    SimAddr ip;           /* family NONE while it has no IP */
    gboolean ready;       /* Ready condition */
    gboolean terminating; /* has a deletionTimestamp */
    char *owner;          /* (nullable) Deployment name that created it */
    SimTime deletion_at;  /* the deletionTimestamp, when terminating (run time; 0 otherwise) */
    guint restart_count;  /* containers restarted by kubelet (podCrash) */
} K8sPod;

/* ---------------------------------------------------------------- Deployment */

typedef struct {
    K8sMeta meta;
    gint replicas;             /* default 1 */
    GHashTable *match_labels;  /* spec.selector.matchLabels */
    K8sPodSpec template_;      /* spec.template */
    K8sPos replicas_pos;
    /* Where the loader read these (line 0 = not written), for errors found after patches. */
    K8sPos selector_pos;        /* spec.selector */
    K8sPos template_labels_pos; /* spec.template.metadata.labels (or spec.template) */
    gboolean selector_has_expressions; /* matchExpressions given (kept unevaluated) */
    /* spec.strategy: RollingUpdate (default) with maxSurge / maxUnavailable as an int or a
     * percentage (default 25% each), or Recreate. */
    gboolean strategy_recreate;
    gint max_surge, max_unavailable;
    gboolean max_surge_percent, max_unavailable_percent;
} K8sDeployment;

/* ---------------------------------------------------------------- Service */

typedef enum {
    K8S_SVC_CLUSTER_IP,
    K8S_SVC_NODE_PORT,
    K8S_SVC_LOAD_BALANCER,
    K8S_SVC_EXTERNAL_NAME,
} K8sServiceType;

typedef enum {
    K8S_POLICY_CLUSTER,
    K8S_POLICY_LOCAL,
} K8sTrafficPolicy;

typedef struct {
    char *name;          /* "" when unnamed */
    SimProto protocol;   /* default TCP */
    guint16 port;
    guint16 target_port; /* numeric targetPort (default: port) when target_port_name is NULL */
    char *target_port_name; /* (nullable) named targetPort */
    guint16 node_port;   /* 0 = none (yet) */
    gboolean node_port_explicit;
    K8sPos pos;          /* of the ports[] entry */
    K8sPos node_port_pos;
} K8sServicePort;

typedef struct {
    SimAddr ip;      /* family NONE for hostname-only entries */
    char *hostname;  /* (nullable) */
    gboolean ip_mode_proxy; /* ipMode: Proxy */
} K8sLoadBalancerIngress;

typedef struct {
    K8sMeta meta;
    K8sServiceType type;
    GArray *cluster_ips;    /* SimAddr; empty until allocated; headless => cluster_ip_none */
    gboolean cluster_ip_none;
    GArray *ip_families;    /* guint8 SimFamily, as written (may be empty) */
    char *ip_family_policy; /* (nullable) */
    GPtrArray *ports;       /* K8sServicePort* */
    GHashTable *selector;   /* (nullable) no selector => user-managed EndpointSlices */
    K8sTrafficPolicy external_policy;
    K8sTrafficPolicy internal_policy;
    gboolean affinity_client_ip;
    guint affinity_timeout; /* seconds, default 10800 */
    GArray *external_ips;   /* SimAddr */
    GArray *source_ranges;  /* SimCidr, loadBalancerSourceRanges */
    gboolean allocate_lb_node_ports; /* default TRUE */
    guint16 health_check_node_port;  /* 0 = none */
    gboolean health_check_node_port_explicit;
    gboolean publish_not_ready;
    char *external_name;    /* (nullable) */
    GPtrArray *lb_ingress;  /* K8sLoadBalancerIngress* */
    char *topology_mode;    /* (nullable) annotation or trafficDistribution */
    /* Where the loader read these (line 0 = not written), for errors found after patches. */
    K8sPos type_pos;
    K8sPos cluster_ip_pos;
    K8sPos external_policy_pos;
    K8sPos health_check_node_port_pos;
} K8sService;

/* ---------------------------------------------------------------- EndpointSlice */

typedef struct {
    char *name;         /* (nullable) matches the Service port name ("" or NULL = unnamed) */
    guint16 port;
    SimProto protocol;
} K8sEndpointPort;

typedef struct {
    GArray *addresses;  /* SimAddr; kube-proxy uses the first */
    K8sBool ready, serving, terminating;
    char *node_name;    /* (nullable) */
    char *zone;         /* (nullable) */
    GPtrArray *hint_zones; /* char*, (nullable) */
    char *target_pod;   /* (nullable) targetRef name */
    K8sPos pos;
    K8sPos node_name_pos; /* of the nodeName value */
} K8sEndpoint;

typedef struct {
    K8sMeta meta;
    char *service_name;  /* label kubernetes.io/service-name */
    SimFamily address_type; /* NONE for FQDN */
    GPtrArray *ports;     /* K8sEndpointPort* */
    GPtrArray *endpoints; /* K8sEndpoint* */
    gboolean managed;     /* created by kpsim's endpointslice controller */
} K8sEndpointSlice;

/* ---------------------------------------------------------------- KubeProxyConfiguration */

typedef enum {
    KP_MODE_IPTABLES,
    KP_MODE_NFTABLES,
    KP_MODE_IPVS,
} KpMode;

typedef enum {
    KP_DETECT_CLUSTER_CIDR,
    KP_DETECT_NODE_CIDR,
    KP_DETECT_BRIDGE_INTERFACE,
    KP_DETECT_INTERFACE_NAME_PREFIX,
} KpDetectLocalMode;

typedef struct {
    KpMode mode;
    GArray *cluster_cidrs;     /* SimCidr; empty = no ClusterCIDR detector */
    gboolean cluster_cidr_set; /* clusterCIDR was written (even as "") */
    KpDetectLocalMode detect_local_mode;
    char *bridge_interface;    /* (nullable) detectLocal.bridgeInterface */
    char *interface_name_prefix; /* (nullable) detectLocal.interfaceNamePrefix */
    gboolean masquerade_all;
    guint masquerade_bit;      /* default 14 */
    gboolean localhost_node_ports; /* default TRUE */
    GPtrArray *node_port_addresses; /* char*: CIDRs or "primary"; empty = all */
    SimTime min_sync_period;   /* default 1 s */
    SimTime sync_period;       /* default 30 s */
    gboolean tcp_be_liberal;   /* conntrack.tcpBeLiberal */
    guint conntrack_max_per_core; /* default 32768 */
    guint conntrack_min;       /* default 131072 */
    SimTime tcp_established_timeout; /* default 24 h */
    SimTime tcp_close_wait_timeout;  /* default 1 h */
    char *ipvs_scheduler;      /* (nullable) default rr */
    gboolean ipvs_strict_arp;  /* ipvs.strictARP: arp_ignore=1, arp_announce=2 on the node */
    SimTime ipvs_tcp_timeout;  /* ipvs.tcpTimeout; 0 = leave the kernel's (900 s) */
    SimTime ipvs_tcp_fin_timeout; /* ipvs.tcpFinTimeout; 0 = leave the kernel's (120 s) */
    SimTime ipvs_udp_timeout;  /* ipvs.udpTimeout; 0 = leave the kernel's (300 s) */
    K8sPos pos;
} KubeProxyConfig;

/* ---------------------------------------------------------------- helpers */

void k8s_meta_clear(K8sMeta *m);
void k8s_node_free(K8sNode *n);
void k8s_pod_free(K8sPod *p);
void k8s_pod_spec_clear(K8sPodSpec *s);
void k8s_deployment_free(K8sDeployment *d);
void k8s_service_port_free(K8sServicePort *p);
void k8s_service_free(K8sService *s);
void k8s_endpoint_free(K8sEndpoint *e);
void k8s_endpoint_slice_free(K8sEndpointSlice *s);
void kube_proxy_config_init(KubeProxyConfig *c); /* the defaults above */
void kube_proxy_config_clear(KubeProxyConfig *c);
/* Deep copies (used when a scenario patches or replicates objects). (transfer full) */
K8sService *k8s_service_copy(const K8sService *s);
K8sPod *k8s_pod_new(void);
K8sService *k8s_service_new(void);
K8sDeployment *k8s_deployment_new(void);
K8sEndpointSlice *k8s_endpoint_slice_new(void);
K8sNode *k8s_node_new(void);
/* A container with no ports (ports array allocated). (transfer full) */
K8sContainer *k8s_container_new(void);
void k8s_container_free(K8sContainer *c);
/* A deep copy of src. (transfer full) */
K8sContainer *k8s_container_copy(const K8sContainer *src);
/* An endpoint with ready/serving/terminating unset and no addresses. (transfer full) */
K8sEndpoint *k8s_endpoint_new(void);
/* An empty char* -> char* table owning its keys and values, as labels/selectors use.
 * (transfer full) */
GHashTable *k8s_string_table_new(void);
/* A deep copy of a char* -> char* table, or NULL for NULL. (transfer full)
 * Label and selector tables may be shared between objects (g_hash_table_ref: a generated
 * Deployment's matchLabels, template labels and its Services' selectors are one table), so
 * code that changes one in place must first replace it with its own copy (copy, change, swap
 * the pointer, unref the old one), as ld_string_map() and controllers_merge_labels() do. */
GHashTable *k8s_string_table_copy(GHashTable *src);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(K8sNode, k8s_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(K8sPod, k8s_pod_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(K8sDeployment, k8s_deployment_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(K8sServicePort, k8s_service_port_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(K8sService, k8s_service_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(K8sEndpoint, k8s_endpoint_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(K8sEndpointSlice, k8s_endpoint_slice_free)

/* TRUE when every key=value of selector is in labels (an empty selector matches nothing, as a
 * Service selector does). */
gboolean k8s_selector_matches(GHashTable *selector, GHashTable *labels);
/* "app=nginx,tier=web" with keys sorted, or "<none>". (transfer full) */
char *k8s_labels_to_string(GHashTable *labels);
/* The first cluster IP, or NULL. */
const SimAddr *k8s_service_cluster_ip(const K8sService *s);
/* "ns/name" or "ns/name:port" - the service-port name kube-proxy hashes and prints. (transfer full) */
char *k8s_service_port_name(const K8sService *s, const K8sServicePort *p);
const char *k8s_service_type_name(K8sServiceType t); /* "NodePort" etc. */
/* The endpoint's effective conditions as kube-proxy reads them (unset ready/serving = TRUE,
 * unset terminating = FALSE). */
gboolean k8s_endpoint_ready(const K8sEndpoint *e);
gboolean k8s_endpoint_serving(const K8sEndpoint *e);
gboolean k8s_endpoint_terminating(const K8sEndpoint *e);

#endif
