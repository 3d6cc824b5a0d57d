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
#include "sim/nf_eval.h"

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

/* The nftables backend (kube_proxy_nftables.c), which kube_proxy_render() calls for proxy.mode
 * nftables: a ruleset whose iptables tables are empty and which carries the `kube-proxy` table
 * of sim/nft.h (pkg/proxy/nftables/proxier.go). (transfer full) */
NfRuleset *kube_proxy_render_nftables(const Cluster *c, const K8sNode *node, SimFamily family,
                                      GError **error);
/* When rs carries an nftables table, appends it as `nft list table` prints it and returns TRUE;
 * FALSE (nothing appended) for an iptables ruleset. */
gboolean kube_proxy_nft_list(const NfRuleset *rs, GString *out);
/* The rules kube-proxy programmed in rs, whatever the mode: nat and filter rules, plus the rules
 * of the nftables table when there is one. */
guint kube_proxy_rule_count(const NfRuleset *rs);
/* Whether kube_proxy_render() gives every node the same rules for these Services under kp:
 * nothing in them depends on the node (its endpoints being local, its zone, its addresses or
 * pod CIDR), as in iptables mode with Cluster traffic policies, no topology, no load balancers
 * or health check ports, every address taking NodePorts and the cluster-CIDR (or interface)
 * local detector. Then one rendering can serve every node - 10,000 Services on 5,000 nodes
 * would otherwise render (and hold) the same rules 5,000 times. Conservative: FALSE whenever
 * in doubt. Keep it in step with what the renderer reads of the node. */
gboolean kube_proxy_rules_node_independent(const KubeProxyConfig *kp, const GPtrArray *services);
/* For a step of an nftables rule (st->nft_rule set), appends what `kpsim trace` prints for it -
 * "  TYPE   CHAIN", the rule as `nft list` shows it, and "=> " what it did in nft's terms and what
 * that means for the connection - and returns TRUE; FALSE (nothing appended) otherwise. */
gboolean kube_proxy_nft_trace_step(const NfStep *st, GString *out);
/* For a step of an nftables rule, appends the rule as `nft list` shows it and returns TRUE;
 * FALSE (nothing appended) otherwise. */
gboolean kube_proxy_nft_step_rule(const NfStep *st, GString *out);

/* kube-proxy's chain-name hash (portProtoHash): the first 16 characters of the base32 encoding of
 * SHA-256(service_port_name + proto). (transfer full) */
char *kube_proxy_port_proto_hash(const char *service_port_name, const char *proto);
/* The endpoint chain hash: base32(SHA-256(service_port_name + proto + endpoint))[:16], where
 * endpoint is "IP:port" ("[IPv6]:port"). (transfer full) */
char *kube_proxy_endpoint_hash(const char *service_port_name, const char *proto,
                               const char *endpoint);

#endif
