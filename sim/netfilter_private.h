/* SPDX-License-Identifier: Apache-2.0 */
/* Internal representation of rulesets, shared by netfilter.c (rulesets and chains),
 * nf_rule_parse*.c (construction), nf_rule_save.c (printing) and nf_eval.c (evaluation).
 *
 * Models the parts of struct ipt_entry the simulator needs: the IP header part (addresses,
 * interfaces, protocol with their inversion flags), a list of matches with their parsed options,
 * and one target. Nothing keeps the original argument vector: printing regenerates the text
 * from these fields, as iptables-save does from the kernel's blob.
 */
#ifndef KPSIM_NETFILTER_PRIVATE_H
#define KPSIM_NETFILTER_PRIVATE_H

#include "sim/netfilter.h"

#include <string.h>

/* The longest chain name (XT_EXTENSION_MAXNAMELEN - 1); built-in names are shorter. */
#define NF_CHAIN_NAME_MAX 28

/* Jump depth beyond which evaluation gives up with DROP (the kernel refuses loops at load). */
#define NF_MAX_JUMP_DEPTH 64

typedef enum {
    NF_MATCH_COMMENT,
    NF_MATCH_TCP,
    NF_MATCH_UDP,
    NF_MATCH_SCTP,
    NF_MATCH_ADDRTYPE,
    NF_MATCH_MARK,
    NF_MATCH_STATISTIC,
    NF_MATCH_RECENT,
    NF_MATCH_CONNTRACK,
    NF_MATCH_NFACCT,
    NF_MATCH_SET,     /* -m set [!] --match-set NAME DIRS (sim/ipset.h) */
    NF_MATCH_PHYSDEV, /* -m physdev: the simulator has no bridges */
    NF_MATCH_IPVS,    /* -m ipvs: packets IPVS scheduled (sim/ipvs.h) */
} NfMatchKind;

/* physdev option bits (XT_PHYSDEV_OP_*), in NfMatch.u.physdev.given / .inv. */
enum {
    NF_PHYSDEV_IN = 1 << 0,
    NF_PHYSDEV_OUT = 1 << 1,
    NF_PHYSDEV_BRIDGED = 1 << 2,
    NF_PHYSDEV_ISIN = 1 << 3,
    NF_PHYSDEV_ISOUT = 1 << 4,
};

/* ipvs option bits (XT_IPVS_*), in NfMatch.u.ipvs.given / .inv. */
enum {
    NF_IPVS_PROPERTY = 1 << 0,
    NF_IPVS_PROTO = 1 << 1,
    NF_IPVS_VADDR = 1 << 2,
    NF_IPVS_VPORT = 1 << 3,
    NF_IPVS_DIR = 1 << 4,
    NF_IPVS_METHOD = 1 << 5,
};

/* Option bits of a match (NfMatch.flags). The meaning depends on the kind, so values repeat. */
enum {
    /* tcp, udp, sctp */
    NF_MF_SPORT = 1 << 0,
    NF_MF_DPORT = 1 << 1,
    NF_MF_INV_SPORT = 1 << 2,
    NF_MF_INV_DPORT = 1 << 3,
    /* addrtype */
    NF_MF_SRC_TYPE = 1 << 0,
    NF_MF_DST_TYPE = 1 << 1,
    NF_MF_INV_SRC_TYPE = 1 << 2,
    NF_MF_INV_DST_TYPE = 1 << 3,
    /* comment, mark, statistic (--probability), conntrack, nfacct: the main option */
    NF_MF_GIVEN = 1 << 0,
    NF_MF_MODE = 1 << 1, /* statistic --mode random */
    NF_MF_INVERT = 1 << 2,
    /* recent (NF_MF_INVERT inverts the whole match, as "! --rcheck" does) */
    NF_MF_SET = 1 << 0,
    NF_MF_RCHECK = 1 << 1,
    NF_MF_NAME = 1 << 3,
    NF_MF_MASK = 1 << 4,
    NF_MF_SIDE = 1 << 5,
    NF_MF_RDEST = 1 << 6,
    NF_MF_SECONDS = 1 << 7,
};

/* addrtype types: only LOCAL is modelled. */
#define NF_ADDRTYPE_LOCAL (1u << 2) /* XT_ADDRTYPE_LOCAL, RTN_LOCAL */

typedef struct {
    guint8 kind;  /* NfMatchKind */
    guint8 flags; /* NF_MF_* */
    union {
        const char *comment; /* (interned) */
        struct {
            guint16 sport[2], dport[2]; /* inclusive ranges; 0:65535 when not given */
        } ports;
        struct {
            guint16 src, dst; /* NF_ADDRTYPE_* bits */
        } addrtype;
        struct {
            guint32 value, mask;
        } mark;
        guint32 probability; /* statistic: the kernel's 31-bit fraction */
        struct {
            const char *name; /* (interned) */
            guint32 seconds;  /* 0 = not given */
            gboolean reap;
            SimAddr mask;
        } recent;
        guint32 ctstate;    /* conntrack: NF_CT_* bits */
        const char *nfacct; /* (interned) */
        struct {
            struct Ipset *set; /* (transfer none) owned by the ruleset, referenced */
            guint8 n_dirs;     /* directions given (1-3) */
            guint8 src_dirs;   /* bit i: dimension i is "src" (else "dst") */
        } set;
        struct {
            guint8 given, inv;      /* NF_PHYSDEV_* */
            const char *in, *out;   /* (interned, nullable) --physdev-in / -out names */
        } physdev;
        struct {
            guint8 given, inv;      /* NF_IPVS_* */
            guint8 proto;           /* --vproto */
            gboolean reply;         /* --vdir REPLY (else ORIGINAL) */
            guint16 vport;          /* --vport */
            SimCidr vaddr;          /* --vaddr A[/M] */
        } ipvs;
    } u;
} NfMatch;

typedef enum {
    NF_TARGET_NONE, /* no -j: the rule only counts */
    NF_TARGET_JUMP,
    NF_TARGET_ACCEPT,
    NF_TARGET_DROP,
    NF_TARGET_RETURN,
    NF_TARGET_REJECT,
    NF_TARGET_DNAT,
    NF_TARGET_SNAT,
    NF_TARGET_MASQUERADE,
    NF_TARGET_MARK,
} NfTargetKind;

/* Target option bits (NfTarget.flags). */
enum {
    NF_TF_PORT = 1 << 0,         /* DNAT/SNAT: a port was given */
    NF_TF_RANDOM = 1 << 1,       /* MASQUERADE --random */
    NF_TF_RANDOM_FULLY = 1 << 2, /* MASQUERADE --random-fully */
    NF_TF_SEEN = 1 << 3,         /* parser bookkeeping: the main option was given */
};

typedef struct NfChain NfChain;

typedef struct {
    guint8 kind;  /* NfTargetKind */
    guint8 flags; /* NF_TF_* */
    /* JUMP: the chain's interned name; REJECT: the --reject-with name (static string). */
    const char *name;
    NfChain *chain;      /* JUMP: the target chain (chains are never deleted) */
    SimSockAddr to;      /* DNAT --to-destination, SNAT --to-source */
    guint32 value, mask; /* MARK: skb->mark = (skb->mark & ~mask) ^ value */
} NfTarget;

/* Rule flags (NfRule.flags). */
enum {
    NF_RF_SRC = 1 << 0, /* -s given */
    NF_RF_DST = 1 << 1,
    NF_RF_IIF = 1 << 2,
    NF_RF_OIF = 1 << 3,
    NF_RF_PROTO = 1 << 4,
    NF_RF_INV_SRC = 1 << 5,
    NF_RF_INV_DST = 1 << 6,
    NF_RF_INV_IIF = 1 << 7,
    NF_RF_INV_OIF = 1 << 8,
    NF_RF_INV_PROTO = 1 << 9,
    NF_RF_IIF_PLUS = 1 << 10, /* the interface name ended in '+': prefix match */
    NF_RF_OIF_PLUS = 1 << 11,
};

struct NfRule {
    const char *chain; /* (interned) the chain the rule is in */
    const char *iif;   /* (interned, nullable) without the trailing '+' */
    const char *oif;
    SimCidr src, dst;
    guint16 flags; /* NF_RF_* */
    guint8 family; /* SimFamily of the ruleset */
    guint8 proto;  /* with NF_RF_PROTO */
    guint8 n_matches;
    NfTarget target;
    NfMatch matches[]; /* n_matches, in the order given */
};

typedef struct NfChainIndex NfChainIndex;

struct NfChain {
    const char *name; /* (owned by the ruleset: in its blocks, right after the chain) */
    guint hash;       /* nf_str_hash(name), for the table's probes and growth */
    gboolean builtin;
    guint8 table;     /* NfTableId */
    NfRule **rules;      /* n_rules rules in order, in the ruleset's blocks (not owned) */
    guint n_rules;       /* how many rules the chain has */
    guint rules_room;    /* the capacity of rules; nf_chain_add_rule() grows it */
    guint refs;          /* rules that jump here */
    guint user_refs;     /* those of them in user chains: only these can close a loop */
    guint visit;         /* loop-check bookkeeping (netfilter.c) */
    NfChainIndex *index; /* (nullable) evaluation cache, built by nf_eval.c; NULL when stale */
    guint walks;         /* walks nf_eval.c made without an index (up to NF_INDEX_AFTER_WALKS) */
};

/* nf_eval.c walks a chain rule by rule this many times before it indexes it (on the next walk,
 * and at once again after a change), so a one-shot trace of a 10,000-Service node does not
 * bucket 20,000 rules to walk them once. Results never depend on it. */
#define NF_INDEX_AFTER_WALKS 3

/* A table's chains by name: open addressing with linear probing over a power-of-two array, at
 * most half full (a 10,000-Service nat table has 180,000 chains; GHashTable rehashed them often
 * and hashed every name twice on creation). Walk it with nf_chain_table_next(). */
typedef struct {
    NfChain *chain; /* NULL = empty (the chains are NfRuleset.chain_list's) */
    guint hash;     /* chain->hash: probes and growth need not touch the chain */
} NfChainSlot;

typedef struct {
    NfChainSlot *slots; /* owned */
    guint mask;         /* the number of slots - 1 */
    guint n;         /* the chains held */
} NfChainTable;

/* The chain of t at or after slot *pos, advancing *pos past it; NULL when there is none.
 * Start with *pos = 0. The order is the table's, not a meaningful one. */
NfChain *nf_chain_table_next(const NfChainTable *t, guint *pos);

/* The ruleset's interned strings (comments, nfacct and recent names, interfaces): open
 * addressing with linear probing over a power-of-two array, at most half full. A 10,000-Service
 * node interns 30,000 comments, many of them twice or more; GStringChunk's own table hashed each
 * new one twice with g_str_hash(). The texts live in NfRuleset.strings. */
typedef struct {
    const char *str; /* NULL = empty */
    guint hash;      /* nf_str_hash(str, len) */
    guint len;       /* strlen(str) */
} NfStrSlot;

typedef struct {
    NfStrSlot *slots; /* owned */
    guint mask;       /* the number of slots - 1 */
    guint n;          /* the strings held */
} NfStrTable;

/* The hash of the len bytes at s (no NUL needed), as the chain and string tables use it: a
 * word at a time, so a 25-byte chain name costs a few multiplies, not 25 steps. */
guint nf_str_hash(const char *s, gsize len);

typedef struct {
    NfChainTable chains;             /* name -> NfChain */
    NfChain *builtin[NF_HOOK_COUNT]; /* by hook, NULL where the table has no chain */
    guint rule_count;
} NfTable;

struct NfRuleset {
    SimFamily family;
    GStringChunk *strings; /* the texts of interned strings (comments, names, interfaces) */
    NfStrTable interned;   /* their index, for nf_intern() */
    NfTable tables[NF_TABLE_COUNT];
    guint visit_epoch;
    GPtrArray *chain_list; /* every chain of both tables in creation order (owns what they own;
                            * the chains themselves live in the blocks) */
    GPtrArray *reach_todo; /* nf_chain_reaches()'s work list, reused (of NfChain, not owned) */
    /* Scratch space reused by every append (so parsing a rule allocates only the rule). */
    NfRule *scratch_rule;     /* room for the fixed part of one rule */
    NfMatch *scratch_matches; /* (owned, nullable) room for scratch_room matches */
    guint scratch_room;       /* grown by nf_rule_parse_match.c as rules need it */
    /* (owned, nullable) the rule builder (nf_rule_parse.c), made on first use and reused. */
    NfRuleBuilder *builder;
    /* The evaluator's reusable walk (nf_eval.c), so evaluating a packet allocates nothing. */
    gpointer eval_scratch;
    gboolean eval_scratch_busy;
    /* The rules' and chains' memory: blocks they are carved from (freed with the ruleset, after
     * the chains' rule lists; rules and chains are never freed one by one), so that 600,000
     * rules cost a few hundred allocations, not 600,000. */
    GPtrArray *rule_blocks; /* of g_malloc'd blocks, owned */
    guint8 *block_next;     /* free space in the last block */
    gsize block_left;
    gsize block_bytes; /* the blocks' total size */
    /* (owned, nullable) an nftables table evaluated together with the tables above, at its base
     * chains' hooks and priorities (sim/nft.c: nft_ruleset_attach()). */
    gpointer nft;
    GDestroyNotify nft_free;
    /* (owned, nullable) the IP sets rules may reference (sim/ipset.c: ipset_create()), and an
     * IPVS table (sim/ipvs.c: ipvs_ruleset_attach()). Freed after the rules. */
    gpointer ipsets;
    GDestroyNotify ipsets_free;
    gpointer ipvs;
    GDestroyNotify ipvs_free;
};

/* size bytes for one rule (or chain), carved from rs's blocks (max_align_t-aligned,
 * uninitialised); they live as long as rs. */
gpointer nf_ruleset_alloc_rule(NfRuleset *rs, gsize size);
/* Appends r (in rs's blocks) to c's rule list, growing the list inside rs's blocks (doubling;
 * the outgrown lists stay there unused until rs is freed). */
void nf_chain_add_rule(NfRuleset *rs, NfChain *c, NfRule *r);

/* Frees a ruleset's rule builder (nf_rule_parse.c); safe on NULL. */
void nf_rule_builder_free(NfRuleBuilder *b);

/* Frees the evaluator's scratch walk (nf_eval.c); safe on NULL. */
void nf_eval_scratch_free(gpointer scratch);

/* The chain named name in table, or NULL. */
NfChain *nf_ruleset_lookup_chain(const NfRuleset *rs, NfTableId table, const char *name);

/* Frees a chain's evaluation index (nf_eval.c); safe on NULL. */
void nf_chain_index_free(NfChainIndex *index);

/* Returns the ruleset's copy of the len bytes at s (no NUL among them), shared by every equal
 * string and NUL-terminated (freed with the ruleset): callers that measured s already pass its
 * length (netfilter.c). */
const char *nf_intern_len(NfRuleset *rs, const char *s, gsize len);

/* Returns the ruleset's copy of s, shared by every equal string (freed with the ruleset). */
static inline const char *
nf_intern(NfRuleset *rs, const char *s)
{
    return nf_intern_len(rs, s, strlen(s));
}

/* The hook of a built-in chain, or -1 for a user chain (netfilter.c). */
int nf_chain_hook(const NfRuleset *rs, NfTableId table, const NfChain *c);

/* TRUE when goal can be reached from start by following jumps (netfilter.c). Visits each chain
 * once, so the cost is the size of the part of the jump graph below start. */
gboolean nf_chain_reaches(NfRuleset *rs, NfTableId table, NfChain *start, const NfChain *goal);

/* The name iptables prints after "-m" for a match kind (nf_rule_parse_match.c). */
const char *nf_match_name(NfMatchKind kind);

/* The name iptables prints after "-j" for a (non-jump) target kind (nf_rule_parse_target.c). */
const char *nf_target_name(NfTargetKind kind);

/* addrtype type names, indexed by bit number (RTN_*) (nf_rule_parse_match.c). */
extern const char *const nf_addrtype_names[12];

/* conntrack state names in the order of their NF_CT_* bits (nf_rule_parse_match.c). */
extern const char *const nf_ctstate_names[7];

#endif
