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
 * This file holds the rulesets and their chains. nf_rule_parse.c (with nf_rule_parse_match.c and
 * nf_rule_parse_target.c) builds rules from iptables arguments; nf_rule_save.c prints them.
 */
#include "sim/netfilter_private.h"

#include <stddef.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(nf-error-quark, nf_error)
/* clang-format on */

#define NF_CHAIN_NAME_MAX 28 /* XT_EXTENSION_MAXNAMELEN - 1 */

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

/* Allocates an empty chain named name (already interned). */
static NfChain *
chain_new(const char *name, gboolean builtin)
{
    NfChain *c = g_new0(NfChain, 1);
    c->name = name;
    c->builtin = builtin;
    c->rules = g_ptr_array_new(); /* the rules live in the ruleset's blocks */
    return c;
}

/* Frees a chain, its rule list and its evaluation index (GDestroyNotify). */
static void
chain_free(gpointer data)
{
    NfChain *c = data;
    nf_chain_index_free(c->index);
    g_ptr_array_unref(c->rules);
    g_free(c);
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
    for (guint t = 0; t < NF_TABLE_COUNT; t++) {
        NfTable *tab = &rs->tables[t];
        tab->chains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, chain_free);
        for (guint h = 0; h < NF_HOOK_COUNT; h++) {
            const char *name = hook_chain_names[t][h];
            if (name == NULL)
                continue;
            NfChain *c = chain_new(nf_intern(rs, name), TRUE);
            g_hash_table_insert(tab->chains, (gpointer)c->name, c);
            tab->builtin[h] = c;
        }
    }
    return rs;
}

#define NF_RULE_BLOCK_SIZE (256 * 1024)

/* See netfilter_private.h. */
gpointer
nf_ruleset_alloc_rule(NfRuleset *rs, gsize size)
{
    const gsize align = _Alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size > rs->block_left) {
        gsize block = MAX(size, NF_RULE_BLOCK_SIZE);
        rs->block_next = g_malloc(block);
        rs->block_left = block;
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
    for (guint t = 0; t < NF_TABLE_COUNT; t++)
        g_hash_table_unref(rs->tables[t].chains);
    g_string_chunk_free(rs->strings);
    g_ptr_array_unref(rs->rule_blocks);
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
    NfChain *c = chain_new(nf_intern(rs, chain), FALSE);
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
    g_autoptr(GPtrArray) todo = g_ptr_array_new();
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
