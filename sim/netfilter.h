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
#include "sim/sim_addr.h"

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

/* Appends table as iptables-save prints it (counters zeroed, no "# Generated" lines):
 * "*nat", the built-in chains in kernel order with their policies, user chains sorted by name
 * as ":NAME - [0:0]", then every rule as "-A CHAIN ..." in iptables-save's normal form
 * (-s/-d/-i/-o/-p first with /32 prefixes, then matches in the order given with their options
 * in the extension's own order, then the target), and "COMMIT". */
void nf_ruleset_save(const NfRuleset *rs, NfTableId table, GString *out);
/* Appends one rule in the same form as it appears in the save output ("-A CHAIN ..."),
 * without the newline. */
void nf_rule_format(const NfRule *rule, GString *out);

#endif
