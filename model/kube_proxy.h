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
#include "model/probe.h"
#include "sim/ipvs.h"
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

/* The schedulers kube-proxy's configuration validation accepts for ipvs.scheduler, as its
 * error message lists them ("" means rr). */
#define KUBE_PROXY_IPVS_SCHEDULERS "[rr wrr lc wlc lblc lblcr sh dh sed nq ]"
/* TRUE when kube-proxy's validation accepts scheduler for ipvs.scheduler ("" included). */
gboolean kube_proxy_ipvs_scheduler_valid(const char *scheduler);
/* The IPVS backend (kube_proxy_ipvs.c), which kube_proxy_render() calls for proxy.mode ipvs:
 * the nat and filter rules of pkg/proxy/ipvs/proxier.go, with the ipsets (sim/ipset.h) and the
 * IPVS table (sim/ipvs.h) attached to the ruleset. Fails with KUBE_PROXY_ERROR_CONFIG on a
 * scheduler kube-proxy rejects. (transfer full) */
NfRuleset *kube_proxy_render_ipvs(const Cluster *c, const K8sNode *node, SimFamily family,
                                  GError **error);
/* The IPVS timeouts kube-proxy sets (ipvsadm --set) from kp's ipvs section: tcpTimeout,
 * tcpFinTimeout and udpTimeout, each 0 leaving the kernel's default (900 s, 120 s, 300 s). */
void kube_proxy_ipvs_config(const KubeProxyConfig *kp, IpvsConfig *out);
/* The real servers of rs's IPVS table with st's counts (ReportIpvsDest*, model/report.h), in
 * `ipvsadm -Ln` order, leaving out the idle ones (weight > 0 and no connection at all: a
 * 1,000-Service node has tens of thousands, and ipvsadm -Ln lists them) and counting those in
 * *idle; NULL when rs carries no IPVS table or st is NULL. (transfer full) */
GPtrArray *kube_proxy_ipvs_report(const NfRuleset *rs, IpvsState *st, guint *idle);
/* When rs carries an IPVS table, appends `ipset list` of its ipsets (IPVS mode) and returns
 * TRUE; FALSE (nothing appended) otherwise. */
gboolean kube_proxy_ipset_list(const NfRuleset *rs, GString *out);
/* When rs carries an IPVS table, appends it as `ipvsadm -Ln` prints it and returns TRUE; FALSE
 * (nothing appended) otherwise. */
gboolean kube_proxy_ipvs_list(const NfRuleset *rs, GString *out);
/* When rs carries an IPVS table, appends its dummy interface as `ip addr show kube-ipvs0`
 * prints it (the interface index is illustrative) and returns TRUE; FALSE otherwise. */
gboolean kube_proxy_ipvs_addrs(const NfRuleset *rs, GString *out);

/* For an IPVS scheduling step (st->ipvs_service set), appends what `kpsim trace` prints for it -
 * "  ipvs   SERVICE", the virtual service and the real server chosen in ipvsadm's terms, and "=> "
 * what that means for the connection - and returns TRUE; FALSE (nothing appended) otherwise. */
gboolean kube_proxy_ipvs_trace_step(const NfStep *st, GString *out);
/* For an IPVS scheduling step, appends its one-line description (the trace JSON's "rule") and
 * returns TRUE; FALSE (nothing appended) otherwise. */
gboolean kube_proxy_ipvs_step_rule(const NfStep *st, GString *out);
/* When c runs IPVS mode and p is an external client's connection that IPVS forwards to a pod on
 * another node without SNAT (externalTrafficPolicy Local on a node without local endpoints),
 * appends why that connection fails in IPVS mode and returns TRUE; FALSE otherwise. */
gboolean kube_proxy_ipvs_trace_note(const Cluster *c, const Probe *p, GString *out);
/* One sentence on what an iptables rule of IPVS mode does (rule as iptables-save prints it, in
 * chain), in terms of its ipset; NULL when the rule is not one IPVS mode alone writes.
 * (transfer full) */
char *kube_proxy_ipvs_explain_rule(const char *chain, const char *rule);

/* kube-proxy's chain-name hash (portProtoHash): the first 16 characters of the base32 encoding of
 * SHA-256(service_port_name + proto). (transfer full) */
char *kube_proxy_port_proto_hash(const char *service_port_name, const char *proto);
/* The endpoint chain hash: base32(SHA-256(service_port_name + proto + endpoint))[:16], where
 * endpoint is "IP:port" ("[IPv6]:port"). (transfer full) */
char *kube_proxy_endpoint_hash(const char *service_port_name, const char *proto,
                               const char *endpoint);

/* The length of a chain-name hash plus its NUL. */
#define KUBE_PROXY_HASH_SIZE 17
/* kube_proxy_port_proto_hash() written into out instead of allocated: no allocation, for the
 * renderers that name hundreds of thousands of chains. */
void kube_proxy_port_proto_hash_into(const char *service_port_name, const char *proto,
                                     char out[KUBE_PROXY_HASH_SIZE]);
/* kube_proxy_endpoint_hash() written into out instead of allocated. */
void kube_proxy_endpoint_hash_into(const char *service_port_name, const char *proto,
                                   const char *endpoint, char out[KUBE_PROXY_HASH_SIZE]);

#endif
