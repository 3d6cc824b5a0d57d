/* SPDX-License-Identifier: Apache-2.0 */
/* What the iptables and IPVS renderers (model/kube_proxy_iptables.c, model/kube_proxy_ipvs.c)
 * share: building a rule's argument vector, appending it and creating chains (a refusal is a
 * bug in the renderer, reported with g_critical()), and the rules both modes write alike -
 * kubelet's KUBE-FIREWALL and kube-proxy's KUBE-POSTROUTING / KUBE-MARK-MASQ. Not public.
 */
#ifndef KPSIM_KUBE_PROXY_PRIVATE_H
#define KPSIM_KUBE_PROXY_PRIVATE_H

#include "model/kube_proxy_endpoints.h"
#include "sim/netfilter.h"

#define KP_MAX_ARGS 40

/* An argument vector for one rule, of borrowed strings. */
typedef struct {
    const char *v[KP_MAX_ARGS];
    guint n;
} KpArgs;

/* The iptables arguments of detector d's "this is cluster traffic" test: sets *opt to "-s" or
 * "-i" and returns (transfer full) the CIDR, bridge name or interface prefix + "+". */
char *kp_detector_args(const KpLocalDetector *d, const char **opt);
/* Appends the NULL-terminated strings to a. */
void kp_args_add(KpArgs *a, ...) G_GNUC_NULL_TERMINATED;
/* Appends a's rule to chain of rs. */
void kp_append(NfRuleset *rs, NfTableId table, const char *chain, const KpArgs *a);
/* Commits b's rule (nf_rule_builder_commit(); a refusal is a renderer bug, reported with
 * g_critical()). */
void kp_commit(NfRuleBuilder *b);
/* The protocol of a service port's protocol text ("tcp", "udp" or "sctp"). */
SimProto kp_proto(const char *protocol);
/* The probability kube-proxy's random ladder gives the first of n remaining endpoints, 1/n, as
 * it writes it ("%0.10f") and iptables reads it back; cache (a GArray of double indexed by n,
 * created on first use, freed by the caller) keeps every value computed. */
double kp_probability(GArray **cache, guint n);
/* Writes prefix + hash ("KUBE-SEP-" + "ABC...") into buf of size bytes, truncated as
 * g_snprintf() would, without its cost (a 10,000-Service node names 190,000 chains). */
void kp_chain_name(char *buf, gsize size, const char *prefix, const char *hash);
/* The SHA-256 digest (FIPS 180-4) of the len bytes at data, into out; allocates nothing
 * (model/kube_proxy_hash.c, which hashes chain names with it). With the SHA extensions' block
 * function where the processor has them, unless portable. */
void kp_sha256_using(gboolean portable, const guint8 *data, gsize len, guint8 out[32]);
/* Creates the user chain. */
void kp_new_chain(NfRuleset *rs, NfTableId table, const char *chain);
/* kubelet's KUBE-FIREWALL chain and its rule (IPv4 nodes): drop traffic to 127.0.0.0/8 that does
 * not come from loopback, the guard that makes route_localnet safe. */
void kp_kubelet_firewall(NfRuleset *rs);
/* KUBE-POSTROUTING's mark test, mark clearing and MASQUERADE, and KUBE-MARK-MASQ, for the
 * masquerade bit mark ("0x004000") and mark_mask ("0x004000/0x004000"); the chains exist. */
void kp_masquerade_rules(NfRuleset *rs, const char *mark, const char *mark_mask);

#endif
