/* SPDX-License-Identifier: Apache-2.0 */
/* kube-proxy: the rules one node's kube-proxy programs for the Services and EndpointSlices of a
 * cluster, behind one interface for every proxy mode.
 *
 * The iptables backend (kube_proxy_iptables.c) reproduces pkg/proxy/iptables/proxier.go
 * syncProxyRules(): the same chains, chain-name hashes, rule order, comments, marks and
 * probabilities, so `kpsim rules` prints what `iptables-save` shows on a real node.
 */
#ifndef KPSIM_KUBE_PROXY_H
#define KPSIM_KUBE_PROXY_H

#include "model/cluster.h"
#include "sim/netfilter.h"

/* Errors for kube-proxy configuration this node cannot use (kube-proxy would refuse to start). */
#define KUBE_PROXY_ERROR (kube_proxy_error_quark())
GQuark kube_proxy_error_quark(void);
typedef enum {
    KUBE_PROXY_ERROR_CONFIG, /* e.g. an unparsable nodePortAddresses entry */
} KubeProxyError;

/* Renders node's ruleset for family (one proxier per IP family, as kube-proxy runs). Services
 * of the other family are skipped. Fails with KUBE_PROXY_ERROR_CONFIG when c->proxy holds a
 * setting kube-proxy would reject (an unparsable nodePortAddresses entry). Service ports are
 * rendered in (service-port name, protocol) order: kube-proxy walks a Go map, whose order is
 * not meaningful, so kpsim picks a stable one. Cost: linear in services + endpoints.
 * (transfer full) */
NfRuleset *kube_proxy_render(const Cluster *c, const K8sNode *node, SimFamily family,
                             GError **error);

/* kube-proxy's chain-name hash (portProtoHash): the first 16 characters of the base32 encoding of
 * SHA-256(service_port_name + proto). (transfer full) */
char *kube_proxy_port_proto_hash(const char *service_port_name, const char *proto);
/* The endpoint chain hash: base32(SHA-256(service_port_name + proto + endpoint))[:16], where
 * endpoint is "IP:port" ("[IPv6]:port"). (transfer full) */
char *kube_proxy_endpoint_hash(const char *service_port_name, const char *proto,
                               const char *endpoint);

#endif
