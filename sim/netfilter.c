/* SPDX-License-Identifier: Apache-2.0 */
/* Netfilter rulesets: tables, chains, rule construction from iptables arguments, and
 * iptables-save output.
 *
 * Models iptables-legacy as kube-proxy drives it through iptables-restore: the filter and nat
 * tables of one family with their built-in chains (policy ACCEPT), user chains, and rules built
 * from the argument vector of one "-A CHAIN ..." line. The arguments are parsed the way iptables
 * does (the "!" prefix, options resolved against the loaded matches, the protocol match loaded
 * automatically for --dport after -p tcp) and checked the way the kernel checks them at load time
 * (a port match needs its protocol, NAT targets only in nat, no jump loops). Rules are kept as
 * parsed structures and printed back in iptables-save's normal form. Left out: the mangle and raw
 * tables, chain policies other than ACCEPT, counters, and every match or target kube-proxy does
 * not use (they fail with NF_ERROR_UNSUPPORTED).
 *
 * This file holds the rulesets and their chains, and the memory both are carved from. nf_rule_parse.c
 * (with nf_rule_parse_match.c and nf_rule_parse_target.c) builds rules from iptables arguments,
 * or from values through the rule builder; nf_rule_save.c prints them.
 */
#include "sim/netfilter_private.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* clang-format off */
G_DEFINE_QUARK(nf-error-quark, nf_error)
/* clang-format on */


/* Built-in chain names by table and hook, in the kernel's hook order. */
static const char *const hook_chain_names[NF_TABLE_COUNT][NF_HOOK_COUNT] = {
    [NF_TABLE_FILTER] = {NULL, "INPUT", "FORWARD", "OUTPUT", NULL},
    [NF_TABLE_NAT] = {"PREROUTING", "INPUT", NULL, "OUTPUT", "POSTROUTING"},
};

const char *
nf_table_name(NfTableId table)
{
    switch (table) {
    case NF_TABLE_FILTER:
        return "filter";
    case NF_TABLE_NAT:
        return "nat";
    }
    return "unknown";
}

const char *
nf_hook_chain_name(NfTableId table, NfHook hook)
{
    g_return_val_if_fail((guint)table < NF_TABLE_COUNT && (guint)hook < NF_HOOK_COUNT, NULL);
    return hook_chain_names[table][hook];
}

/* ------------------------------------------------------------------ rulesets and chains */

/* Allocates an empty chain named name, the chain and its name carved from rs's blocks (a
 * 10,000-Service node has 180,000 chains; a chain's name is unique in its table, so it is not
 * interned). */
static NfChain *
chain_new(NfRuleset *rs, NfTableId table, const char *name, gboolean builtin)
{
    gsize len = strlen(name);
    NfChain *c = nf_ruleset_alloc_rule(rs, sizeof(NfChain) + len + 1);
    char *copy = (char *)(c + 1);
    memcpy(copy, name, len + 1);
    *c = (NfChain){.name = copy, .builtin = builtin, .table = (guint8)table};
    c->rules = g_ptr_array_new(); /* the rules live in the ruleset's blocks */
    g_ptr_array_add(rs->chain_list, c);
    return c;
}

/* Frees what every chain of rs owns, its rule list and its evaluation index (the chains
 * themselves live in the blocks), in creation order: the rule lists were allocated in that
 * order, so the walk is close to sequential, and the next chains' lists are prefetched (a
 * 10,000-Service node has 180,000). */
static void
chains_clear(NfRuleset *rs)
{
    const guint n = rs->chain_list->len, ahead = 8;
    for (guint i = 0; i < n; i++) {
        if (i + ahead < n)
            __builtin_prefetch(((NfChain *)rs->chain_list->pdata[i + ahead])->rules);
        NfChain *c = rs->chain_list->pdata[i];
        nf_chain_index_free(c->index);
        g_ptr_array_unref(c->rules);
    }
}

NfRuleset *
nf_ruleset_new(SimFamily family)
{
    g_return_val_if_fail(family == SIM_AF_INET || family == SIM_AF_INET6, NULL);
    NfRuleset *rs = g_new0(NfRuleset, 1);
    rs->family = family;
    rs->strings = g_string_chunk_new(4096);
    rs->scratch_rule = g_new0(NfRule, 1);
    rs->scratch_matches = g_array_new(FALSE, TRUE, sizeof(NfMatch));
    rs->rule_blocks = g_ptr_array_new_with_free_func(g_free);
    rs->reach_todo = g_ptr_array_new();
    rs->chain_list = g_ptr_array_new();
    for (guint t = 0; t < NF_TABLE_COUNT; t++) {
        NfTable *tab = &rs->tables[t];
        tab->chains = g_hash_table_new(g_str_hash, g_str_equal); /* chains: rs->chain_list */
        for (guint h = 0; h < NF_HOOK_COUNT; h++) {
            const char *name = hook_chain_names[t][h];
            if (name == NULL)
                continue;
            NfChain *c = chain_new(rs, (NfTableId)t, name, TRUE);
            g_hash_table_insert(tab->chains, (gpointer)c->name, c);
            tab->builtin[h] = c;
        }
    }
    return rs;
}

#define NF_RULE_BLOCK_SIZE (256 * 1024)
/* Once a ruleset holds this much, its blocks are transparent huge pages: a 10,000-Service node's
 * 110 MB of rules and chains then costs 4,000 page faults instead of 28,000, and walking its
 * chains in name order (the save) misses the TLB far less. A huge page is resident as soon as
 * it is touched, so only large rulesets get them: the last block's unused part is then at most
 * 2 MiB of at least 16. */
#define NF_RULE_HUGE_AFTER (16 * 1024 * 1024)
#define NF_RULE_HUGE_BLOCK (2 * 1024 * 1024)

/* A new block of size bytes (freed with g_free(), which is free()): a 2 MiB-aligned one advised
 * as a huge page for NF_RULE_HUGE_BLOCK where the system has them, else a plain allocation. */
static gpointer
block_new(gsize size)
{
#ifdef MADV_HUGEPAGE
    gpointer block = NULL;
    if (size == NF_RULE_HUGE_BLOCK && posix_memalign(&block, NF_RULE_HUGE_BLOCK, size) == 0) {
        (void)madvise(block, size, MADV_HUGEPAGE); /* advice: ignoring a refusal is fine */
        return block;
    }
#endif
    return g_malloc(size);
}

/* See netfilter_private.h. */
gpointer
nf_ruleset_alloc_rule(NfRuleset *rs, gsize size)
{
    const gsize align = _Alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size > rs->block_left) {
        gsize block = rs->block_bytes >= NF_RULE_HUGE_AFTER ? NF_RULE_HUGE_BLOCK
                                                            : NF_RULE_BLOCK_SIZE;
        block = MAX(size, block);
        rs->block_next = block_new(block);
        rs->block_left = block;
        rs->block_bytes += block;
        g_ptr_array_add(rs->rule_blocks, rs->block_next);
    }
    gpointer r = rs->block_next;
    rs->block_next += size;
    rs->block_left -= size;
    return r;
}

void
nf_ruleset_free(NfRuleset *rs)
{
    if (rs == NULL)
        return;
    chains_clear(rs);
    for (guint t = 0; t < NF_TABLE_COUNT; t++)
        g_hash_table_unref(rs->tables[t].chains);
    g_ptr_array_unref(rs->chain_list);
    g_string_chunk_free(rs->strings);
    g_ptr_array_unref(rs->rule_blocks);
    g_ptr_array_unref(rs->reach_todo);
    nf_rule_builder_free(rs->builder);
    g_free(rs->scratch_rule);
    g_array_unref(rs->scratch_matches);
    nf_eval_scratch_free(rs->eval_scratch);
    if (rs->nft != NULL)
        rs->nft_free(rs->nft);
    if (rs->ipsets != NULL)
        rs->ipsets_free(rs->ipsets);
    if (rs->ipvs != NULL)
        rs->ipvs_free(rs->ipvs);
    g_free(rs);
}

SimFamily
nf_ruleset_family(const NfRuleset *rs)
{
    g_return_val_if_fail(rs != NULL, SIM_AF_NONE);
    return rs->family;
}

NfChain *
nf_ruleset_lookup_chain(const NfRuleset *rs, NfTableId table, const char *name)
{
    g_return_val_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && name != NULL, NULL);
    return g_hash_table_lookup(rs->tables[table].chains, name);
}

/* The built-in targets and match-free words a chain may not be named after. */
static const char *const reserved_chain_names[] = {
    "ACCEPT", "DROP", "QUEUE", "RETURN", "REJECT", "DNAT", "SNAT", "MASQUERADE", "MARK",
};

/* Checks a user chain name the way iptables does; sets error and returns FALSE if invalid. */
static gboolean
chain_name_valid(const char *name, GError **error)
{
    gsize len = strlen(name);
    gboolean ok = len > 0 && len <= NF_CHAIN_NAME_MAX && name[0] != '-' && name[0] != '!';
    for (const char *p = name; ok && *p != '\0'; p++)
        ok = g_ascii_isgraph(*p);
    for (gsize i = 0; ok && i < G_N_ELEMENTS(reserved_chain_names); i++)
        ok = strcmp(name, reserved_chain_names[i]) != 0;
    if (!ok)
        g_set_error(error, NF_ERROR, NF_ERROR_PARSE, "invalid chain name \"%s\"", name);
    return ok;
}

gboolean
nf_ruleset_new_chain(NfRuleset *rs, NfTableId table, const char *chain, GError **error)
{
    g_return_val_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && chain != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (nf_ruleset_has_chain(rs, table, chain)) {
        g_set_error(error, NF_ERROR, NF_ERROR_EXISTS, "chain \"%s\" already exists in table %s",
                    chain, nf_table_name(table));
        return FALSE;
    }
    if (!chain_name_valid(chain, error))
        return FALSE;
    NfChain *c = chain_new(rs, table, chain, FALSE);
    g_hash_table_insert(rs->tables[table].chains, (gpointer)c->name, c);
    return TRUE;
}

gboolean
nf_ruleset_has_chain(const NfRuleset *rs, NfTableId table, const char *chain)
{
    return nf_ruleset_lookup_chain(rs, table, chain) != NULL;
}

gint
nf_ruleset_chain_length(const NfRuleset *rs, NfTableId table, const char *chain)
{
    const NfChain *c = nf_ruleset_lookup_chain(rs, table, chain);
    return c == NULL ? -1 : (gint)c->rules->len;
}

guint
nf_ruleset_rule_count(const NfRuleset *rs, NfTableId table)
{
    g_return_val_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT, 0);
    return rs->tables[table].rule_count;
}

/* The hook of a built-in chain, or -1 for a user chain. */
int
nf_chain_hook(const NfRuleset *rs, NfTableId table, const NfChain *c)
{
    for (guint h = 0; h < NF_HOOK_COUNT; h++) {
        if (rs->tables[table].builtin[h] == c)
            return (int)h;
    }
    return -1;
}

/* TRUE when goal can be reached from start by following jumps. Visits each chain once, so the
 * cost is the size of the part of the jump graph below start. */
gboolean
nf_chain_reaches(NfRuleset *rs, NfTableId table, NfChain *start, const NfChain *goal)
{
    if (++rs->visit_epoch == 0) {
        /* The epoch wrapped: forget every old mark so none can collide. */
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, rs->tables[table].chains);
        while (g_hash_table_iter_next(&it, NULL, &value))
            ((NfChain *)value)->visit = 0;
        rs->visit_epoch = 1;
    }
    GPtrArray *todo = rs->reach_todo;
    g_ptr_array_set_size(todo, 0);
    start->visit = rs->visit_epoch;
    g_ptr_array_add(todo, start);
    while (todo->len > 0) {
        NfChain *c = g_ptr_array_steal_index_fast(todo, todo->len - 1);
        if (c == goal)
            return TRUE;
        for (guint i = 0; i < c->rules->len; i++) {
            const NfRule *r = g_ptr_array_index(c->rules, i);
            if (r->target.kind != NF_TARGET_JUMP || r->target.chain->visit == rs->visit_epoch)
                continue;
            r->target.chain->visit = rs->visit_epoch;
            g_ptr_array_add(todo, r->target.chain);
        }
    }
    return FALSE;
}
