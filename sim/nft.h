/* SPDX-License-Identifier: Apache-2.0 */
/* An nftables table: base chains at their hooks and priorities, regular chains, named sets and
 * verdict maps with concatenated keys, and rules made of the expressions a service proxy uses;
 * printing as `nft list table` does, and evaluation by the netfilter engine of nf_eval.h.
 *
 * Models the part of nf_tables a kube-proxy-style ruleset needs: ct state, address matches
 * (plain, anonymous sets, named sets), fib ... type local, iifname, meta l4proto, th/tcp dport,
 * meta mark arithmetic, vmap lookups keyed by "addr . l4proto . dport" or "l4proto . dport",
 * "numgen random mod N vmap", dynamic sets with a timeout ("update @set { ip saddr }"), dnat,
 * masquerade, reject, and the verdicts accept, drop, return, jump and goto. A table is attached to
 * an NfRuleset (nft_ruleset_attach()); nf_run_hook() then runs the table's base chains of a hook
 * before the ruleset's own built-in chain, in priority order, each in the iptables table call
 * nearest to its priority (so filter chains at dstnat-10 see pre-DNAT addresses). Branches,
 * steps, probabilities and verdicts are those of nf_eval.h: a numgen forks into N branches of
 * probability 1/N when the environment leaves the choice open; with a statistic callback it
 * draws as an iptables ladder over the same choices would (1/N, 1/(N-1), ... as kube-proxy's
 * "%0.10f" text gives them), so a run draws the same endpoints under both backends. An affinity
 * set lookup asks the environment's recent_check (the set's name is the list name, its timeout
 * the seconds) and "update" its recent_set. Steps carry NfStep.nft_rule and nft_choice; their
 * table is the type (filter or nat) of the base chain the walk started in. Left out: every other
 * expression, set flags other than dynamic and timeout, interval sets (anonymous CIDR sets are
 * matched directly), counters, and per-element timeouts.
 */
#ifndef KPSIM_SIM_NFT_H
#define KPSIM_SIM_NFT_H

#include <glib.h>

#include "sim/nf_eval.h"
#include "sim/netfilter.h"
#include "sim/sim_addr.h"

typedef struct NftTable NftTable;
typedef struct NftChain NftChain;
typedef struct NftSet NftSet;
typedef struct NftRule NftRule;

/* Key types of sets and maps. */
typedef enum {
    NFT_KEY_ADDR,            /* ipv4_addr / ipv6_addr */
    NFT_KEY_ADDR_PROTO_PORT, /* ipvX_addr . inet_proto . inet_service */
    NFT_KEY_PROTO_PORT,      /* inet_proto . inet_service */
} NftKeyType;

/* Verdicts, as statements and as map values. */
typedef enum {
    NFT_VERDICT_CONTINUE, /* not a verdict: go on with the next expression / rule */
    NFT_VERDICT_ACCEPT,
    NFT_VERDICT_DROP,
    NFT_VERDICT_REJECT, /* the reject statement (icmp port-unreachable) */
    NFT_VERDICT_RETURN,
    NFT_VERDICT_JUMP,
    NFT_VERDICT_GOTO,
} NftVerdictKind;

typedef struct {
    NftVerdictKind kind;
    NftChain *chain; /* JUMP, GOTO */
} NftVerdict;

/* A set or map key: the fields the key type uses. */
typedef struct {
    SimAddr addr;
    guint8 proto; /* SimProto value (IP protocol number) */
    guint16 port;
} NftKey;

typedef enum {
    NFT_FIELD_SADDR,
    NFT_FIELD_DADDR,
} NftField;

typedef enum {
    NFT_EXPR_CT_STATE_NEW, /* ct state new */
    NFT_EXPR_ADDR,         /* ip saddr|daddr [!=] CIDR, or [!=] { CIDR, ... } */
    NFT_EXPR_ADDR_SET,     /* ip saddr|daddr [!=] @set */
    NFT_EXPR_FIB_LOCAL,    /* fib saddr|daddr type local */
    NFT_EXPR_IIFNAME,      /* iifname [!=] "name" (a trailing '*' matches a prefix) */
    NFT_EXPR_L4PROTO,      /* meta l4proto P */
    NFT_EXPR_DPORT,        /* P dport N (implies meta l4proto P) */
    NFT_EXPR_MARK_CLEAR,   /* meta mark & M == 0 */
    NFT_EXPR_MARK_OR,      /* meta mark set meta mark | M */
    NFT_EXPR_MARK_XOR,     /* meta mark set meta mark ^ M */
    NFT_EXPR_VMAP,         /* KEY vmap @map, the key as the map's key type says */
    NFT_EXPR_NUMGEN,       /* numgen random mod N vmap { 0 : goto c0, ... } */
    NFT_EXPR_UPDATE_SADDR, /* update @set { ip saddr } */
    NFT_EXPR_DNAT,         /* dnat to ADDR:PORT */
    NFT_EXPR_MASQUERADE,   /* masquerade fully-random */
    NFT_EXPR_VERDICT,      /* accept, drop, reject, return, jump C, goto C */
} NftExprKind;

/* One expression of a rule. Only the fields of its kind are read; arrays are copied by
 * nft_rule_append(). */
typedef struct {
    NftExprKind kind;
    NftField field;          /* ADDR, ADDR_SET, FIB_LOCAL */
    gboolean neq;            /* ADDR, ADDR_SET, IIFNAME: "!=" */
    const SimCidr *cidrs;    /* ADDR: n of them (more than one prints as an anonymous set) */
    guint n;                 /* ADDR: cidrs; NUMGEN: chains */
    NftSet *set;             /* ADDR_SET, VMAP, UPDATE_SADDR */
    const char *name;        /* IIFNAME */
    guint8 proto;            /* L4PROTO, DPORT, DNAT (the protocol it follows) */
    guint16 port;            /* DPORT */
    guint32 mark;            /* MARK_* */
    NftChain *const *chains; /* NUMGEN: n goto targets */
    SimSockAddr to;          /* DNAT */
    NftVerdict verdict;      /* VERDICT */
} NftExpr;

/* A new empty table "FAMILY NAME" (family SIM_AF_INET = ip, SIM_AF_INET6 = ip6), with an
 * optional comment. (transfer full) */
NftTable *nft_table_new(SimFamily family, const char *name, const char *comment);
void nft_table_free(NftTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NftTable, nft_table_free)
SimFamily nft_table_family(const NftTable *t);

typedef enum {
    NFT_CHAIN_FILTER,
    NFT_CHAIN_NAT,
} NftChainType;

/* Adds a base chain of type at hook with priority (policy accept). Chains are listed in the
 * order they were added. Returns NULL when the name is taken. (transfer none) */
NftChain *nft_table_add_base_chain(NftTable *t, const char *name, NftChainType type, NfHook hook,
                                   int priority);
/* Adds a regular chain with an optional comment; NULL when the name is taken. (transfer none) */
NftChain *nft_table_add_chain(NftTable *t, const char *name, const char *comment);
NftChain *nft_table_find_chain(const NftTable *t, const char *name);
const char *nft_chain_name(const NftChain *c);
guint nft_chain_length(const NftChain *c);
/* The number of rules in all of t's chains (what `nft list` shows; map elements not counted). */
guint nft_table_rule_count(const NftTable *t);

/* Adds a named set (map FALSE) or verdict map (map TRUE) keyed by key, with an optional comment;
 * timeout_seconds > 0 makes it "flags dynamic,timeout" with that timeout. NULL when the name is
 * taken. (transfer none) */
NftSet *nft_table_add_set(NftTable *t, const char *name, NftKeyType key, gboolean map,
                          guint timeout_seconds, const char *comment);
NftSet *nft_table_find_set(const NftTable *t, const char *name);
const char *nft_set_name(const NftSet *s);
guint nft_set_size(const NftSet *s);
/* Adds an element (value: the verdict of a map, ignored for a set) with an optional comment.
 * FALSE when the key is already there. */
gboolean nft_set_add(NftSet *s, const NftKey *key, const NftVerdict *value, const char *comment);
/* The element of s for key, as its index in insertion order, or -1. */
gint nft_set_lookup(const NftSet *s, const NftKey *key);

/* Appends an empty rule to c, with an optional comment. (transfer none) */
NftRule *nft_chain_add_rule(NftChain *c, const char *comment);
/* Appends expression e to r. */
void nft_rule_append(NftRule *r, const NftExpr *e);
/* The rule's chain. */
const NftChain *nft_rule_chain(const NftRule *r);

/* Appends r as `nft list` prints it (no indentation, no newline). */
void nft_rule_format(const NftRule *r, GString *out);
/* Appends the table as `nft list table FAMILY NAME` prints it: the comment, the sets and maps,
 * then the chains, each in the order added; elements sorted by key (a real kernel lists hash
 * sets in hash order, which carries no meaning). */
void nft_table_list(const NftTable *t, GString *out);

/* Appends what the rule of step st (an nftables step: st->nft_rule set) did, in nft's terms:
 * the map element that matched ("@service-ips: 10.96.0.1 . tcp . 80 : goto svc"), the numgen
 * result ("numgen gave 1 of 2: goto ep"), "dnat to A:P", "masquerade fully-random", the mark
 * change, or the verdict. Appends nothing for other steps. */
void nft_step_describe(const NfStep *st, GString *out);
/* The first expression of r that acts (not a pure match), or NULL. (transfer none) */
const NftExpr *nft_rule_action(const NftRule *r);
/* The rule's comment, or NULL. */
const char *nft_rule_comment(const NftRule *r);

/* Gives t to rs (transfer full): from then on nf_run_hook() on rs evaluates t's base chains. */
void nft_ruleset_attach(NfRuleset *rs, NftTable *t);
/* The table attached to rs, or NULL. (transfer none) */
const NftTable *nft_ruleset_table(const NfRuleset *rs);

/* Runs the base chains of t that belong to the iptables call (table, hook) over branches, with
 * the arguments of nf_run_hook() (which calls this; see the file comment for the assignment). */
void nft_table_run_hook(gconstpointer t, NfTableId table, NfHook hook, GPtrArray *branches,
                        const char *iif, const char *oif, guint32 ctstate, const NfEnv *env);

#endif
