/* SPDX-License-Identifier: Apache-2.0 */
/* A netfilter ruleset: the filter and nat tables of one address family, their chains and rules,
 * rule construction from iptables-restore arguments, and printing as iptables-save does.
 *
 * Models x_tables as iptables-legacy shows it: built-in chains with policies, user chains, rules
 * with the matches and targets kube-proxy uses (see nf_ruleset_append() for the list). Counters
 * are always zero. The mangle and raw tables, and every match kube-proxy does not use, are left
 * out: appending such a rule fails with NF_ERROR_UNSUPPORTED.
 *
 * Evaluation lives in nf_eval.h.
 */
#ifndef KPSIM_NETFILTER_H
#define KPSIM_NETFILTER_H

#include <glib.h>
#include <stdio.h>
#include "sim/sim_addr.h"
#include "sim/sim_packet.h"

typedef enum {
    NF_TABLE_FILTER,
    NF_TABLE_NAT,
} NfTableId;
#define NF_TABLE_COUNT 2

/* The five hooks, named as in linux/netfilter.h. */
typedef enum {
    NF_HOOK_PRE_ROUTING,
    NF_HOOK_LOCAL_IN,
    NF_HOOK_FORWARD,
    NF_HOOK_LOCAL_OUT,
    NF_HOOK_POST_ROUTING,
} NfHook;
#define NF_HOOK_COUNT 5

#define NF_ERROR (nf_error_quark())
GQuark nf_error_quark(void);
typedef enum {
    NF_ERROR_PARSE,       /* malformed arguments */
    NF_ERROR_NO_CHAIN,    /* a chain or jump target that does not exist */
    NF_ERROR_UNSUPPORTED, /* a match or target this model does not implement */
    NF_ERROR_EXISTS,      /* creating a chain that already exists */
} NfError;

typedef struct NfRuleset NfRuleset;
typedef struct NfRule NfRule;

/* A ruleset for family (SIM_AF_INET = iptables, SIM_AF_INET6 = ip6tables) with the built-in
 * chains of filter (INPUT, FORWARD, OUTPUT) and nat (PREROUTING, INPUT, OUTPUT, POSTROUTING), all
 * with policy ACCEPT. (transfer full) */
NfRuleset *nf_ruleset_new(SimFamily family);
void nf_ruleset_free(NfRuleset *rs);
SimFamily nf_ruleset_family(const NfRuleset *rs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(NfRuleset, nf_ruleset_free)

/* Table and chain names as iptables spells them ("nat", "PREROUTING"). */
const char *nf_table_name(NfTableId table);
/* The built-in chain of table at hook, or NULL when the table has none there. */
const char *nf_hook_chain_name(NfTableId table, NfHook hook);

/* Creates an empty user chain. Fails with NF_ERROR_EXISTS if it exists (built-ins always do). */
gboolean nf_ruleset_new_chain(NfRuleset *rs, NfTableId table, const char *chain, GError **error);
/* Makes room for n chains in table in all, so that creating them never grows its chain index (a
 * hint: more chains still fit, fewer waste some memory). For renderers that know how many chains
 * they are about to make. */
void nf_ruleset_reserve_chains(NfRuleset *rs, NfTableId table, guint n);
gboolean nf_ruleset_has_chain(const NfRuleset *rs, NfTableId table, const char *chain);
/* Number of rules in chain, or -1 when it does not exist. */
gint nf_ruleset_chain_length(const NfRuleset *rs, NfTableId table, const char *chain);
/* Total number of rules in table. */
guint nf_ruleset_rule_count(const NfRuleset *rs, NfTableId table);

/* Appends one rule to chain, given as the arguments kube-proxy passes to iptables-restore after
 * "-A CHAIN", NULL-terminated: for example
 *   nf_ruleset_append(rs, NF_TABLE_NAT, "KUBE-SERVICES", &err,
 *                     "-m", "comment", "--comment", "ns/svc cluster IP",
 *                     "-m", "tcp", "-p", "tcp", "-d", "10.96.0.10", "--dport", "80",
 *                     "-j", "KUBE-SVC-XXXX", NULL);
 * A comment argument is the comment's text itself (no shell quoting). "!" before an option
 * negates it. Supported: [!] -s/-d ADDR[/LEN], -p PROTO, [!] -i/-o IFACE[+];
 * -m comment --comment TEXT; -m tcp|udp|sctp [!] --dport N [!] --sport N;
 * -m addrtype [!] --src-type LOCAL [!] --dst-type LOCAL; -m mark [!] --mark V[/M];
 * -m statistic --mode random --probability P; -m recent --name N (--set | --rcheck [--seconds S]
 * [--reap]) [--mask M] [--rsource]; -m conntrack [!] --ctstate S[,S...];
 * -m nfacct --nfacct-name N. Targets: -j CHAIN, RETURN, ACCEPT, DROP, REJECT [--reject-with T],
 * DNAT --to-destination IP[:PORT], SNAT --to-source IP[:PORT], MASQUERADE [--random-fully],
 * MARK --set-xmark V/M | --or-mark V | --xor-mark V | --set-mark V[/M]; or no -j at all (a rule
 * that only counts). A jump target must exist already.
 * Also accepted, as iptables does: long option spellings (--source, --dport, ...), port ranges
 * "LOW:HIGH", -p tcp --dport without -m tcp (the match is loaded where --dport appears),
 * recent --rdest, MARK --and-mark, MASQUERADE --random, REJECT type aliases ("tcp-rst").
 * Refused as the kernel refuses them at load time (NF_ERROR_PARSE): a port match without its
 * -p, NAT targets outside nat and REJECT outside filter, targets and -i/-o in built-in chains
 * whose hook does not allow them, jumps to built-in chains, and jumps that would close a loop.
 * Cost: proportional to the arguments, plus a search of the jump graph below the target when
 * a jump is appended to a chain that other rules jump to.
 * Returns FALSE, appending nothing, on any error; the message names the offending argument. */
gboolean nf_ruleset_append(NfRuleset *rs, NfTableId table, const char *chain, GError **error,
                           ...) G_GNUC_NULL_TERMINATED;
/* The same with an argument vector of argc strings. */
gboolean nf_ruleset_append_argv(NfRuleset *rs, NfTableId table, const char *chain,
                                const char *const *argv, guint argc, GError **error);

/* Building a rule from values instead of text, for renderers that write rules by the hundred
 * thousand (kube-proxy's KUBE-SEP, KUBE-SVC, KUBE-SERVICES and KUBE-NODEPORTS rules): the same
 * rule as nf_ruleset_append() builds from the equivalent arguments, with the same checks, and
 * no text to parse. Call nf_rule_builder_start(), then the setters in the order the options
 * would appear in the argument vector (matches keep that order), then nf_rule_builder_commit().
 * A setter that fails records the error and makes the later ones no-ops; commit reports it.
 *
 *   NfRuleBuilder *b = nf_rule_builder_start(rs, NF_TABLE_NAT, "KUBE-SERVICES");
 *   nf_rule_builder_comment(b, "ns/svc cluster IP");     -m comment --comment "ns/svc ..."
 *   nf_rule_builder_proto(b, SIM_PROTO_TCP);             -p tcp
 *   nf_rule_builder_dst(b, &cluster_ip, FALSE);          -d 10.96.0.10/32
 *   nf_rule_builder_dport(b, SIM_PROTO_TCP, 80);         -m tcp --dport 80
 *   nf_rule_builder_jump(b, "KUBE-SVC-XXXX");            -j KUBE-SVC-XXXX
 *   nf_rule_builder_commit(b, &err);
 */
typedef struct NfRuleBuilder NfRuleBuilder;

/* Starts a rule for chain of table, dropping any rule started and not committed. Returns rs's
 * builder (transfer none), valid until rs is freed. */
NfRuleBuilder *nf_rule_builder_start(NfRuleset *rs, NfTableId table, const char *chain);
/* [!] -s / -d CIDR (an address of the ruleset's family; a host address is a /32 or /128). */
void nf_rule_builder_src(NfRuleBuilder *b, const SimCidr *cidr, gboolean invert);
void nf_rule_builder_dst(NfRuleBuilder *b, const SimCidr *cidr, gboolean invert);
/* [!] -i NAME, a trailing '+' making it a prefix match. */
void nf_rule_builder_in_iface(NfRuleBuilder *b, const char *name, gboolean invert);
/* -p PROTO. */
void nf_rule_builder_proto(NfRuleBuilder *b, SimProto proto);
/* -m comment --comment TEXT. */
void nf_rule_builder_comment(NfRuleBuilder *b, const char *text);
/* -m tcp|udp|sctp, the match of proto without options (the rule needs -p proto too). */
void nf_rule_builder_proto_match(NfRuleBuilder *b, SimProto proto);
/* -m tcp|udp|sctp --dport PORT, the match of proto (the rule needs -p proto too). */
void nf_rule_builder_dport(NfRuleBuilder *b, SimProto proto, guint16 port);
/* -m addrtype [!] --src-type LOCAL (src) or [!] --dst-type LOCAL. */
void nf_rule_builder_addrtype_local(NfRuleBuilder *b, gboolean src, gboolean invert);
/* -m statistic --mode random --probability P, P in [0, 1] (rounded to the kernel's 31-bit
 * fraction as iptables rounds the text). */
void nf_rule_builder_statistic(NfRuleBuilder *b, double probability);
/* -m recent --name NAME, then --set (set) or --rcheck [--seconds S [--reap]] (seconds 0: no
 * --seconds). */
void nf_rule_builder_recent(NfRuleBuilder *b, const char *name, gboolean set, guint seconds,
                            gboolean reap);
/* -m nfacct --nfacct-name NAME. */
void nf_rule_builder_nfacct(NfRuleBuilder *b, const char *name);
/* -j TARGET: a built-in target without options (ACCEPT, DROP, RETURN, REJECT, MASQUERADE) or
 * an existing user chain of the table. */
void nf_rule_builder_jump(NfRuleBuilder *b, const char *target);
/* -j DNAT --to-destination IP[:PORT] (the port only when port is set). */
void nf_rule_builder_dnat(NfRuleBuilder *b, const SimSockAddr *to, gboolean port);
/* Checks the rule as nf_ruleset_append() does and appends it. Returns FALSE, appending nothing,
 * when it or a setter failed (error set, its message as nf_ruleset_append() words it). */
gboolean nf_rule_builder_commit(NfRuleBuilder *b, GError **error);

/* Appends table as iptables-save prints it (counters zeroed, no "# Generated" lines):
 * "*nat", the built-in chains in kernel order with their policies, user chains sorted by name
 * as ":NAME - [0:0]", then every rule as "-A CHAIN ..." in iptables-save's normal form
 * (-s/-d/-i/-o/-p first with /32 prefixes, then matches in the order given with their options
 * in the extension's own order, then the target), and "COMMIT". */
void nf_ruleset_save(const NfRuleset *rs, NfTableId table, GString *out);
/* nf_ruleset_save() for output too large to hold at once (a 10,000-Service nat table is 50 MB):
 * appends to buf, and whenever buf holds 256 KiB or more writes it to fp and empties it; what
 * buf held before the call is written first, and what is left at the end stays in buf for the
 * caller to write. Returns FALSE when a write to fp failed (errno set; the rest is discarded). */
gboolean nf_ruleset_save_stream(const NfRuleset *rs, NfTableId table, GString *buf, FILE *fp);
/* Appends one rule in the same form as it appears in the save output ("-A CHAIN ..."),
 * without the newline. */
void nf_rule_format(const NfRule *rule, GString *out);

#endif
