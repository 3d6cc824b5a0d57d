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
 * This file holds the rulesets, their chains and chain indexes, and the memory rules and chains
 * are carved from. nf_rule_parse.c (with nf_rule_parse_match.c and nf_rule_parse_target.c)
 * builds rules from iptables arguments, or from values through the rule builder;
 * nf_rule_save.c prints them.
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

/* ------------------------------------------------------------------ hashing and interning */

#define NF_HASH_K1 G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)
#define NF_HASH_K2 G_GUINT64_CONSTANT(0xff51afd7ed558ccd)
#define NF_HASH_K3 G_GUINT64_CONSTANT(0xc4ceb9fe1a85ec53)

/* See netfilter_private.h. Each 8-byte word is mixed in with a multiply whose high half is
 * folded down; a last partial word is read as the string's last eight bytes (overlapping the
 * word before), or byte by byte when the string is shorter, so nothing past s + len is read. */
guint
nf_str_hash(const char *s, gsize len)
{
    guint64 h = (len + 1) * NF_HASH_K1;
    gsize i = 0;
    for (; i + sizeof(guint64) <= len; i += sizeof(guint64)) {
        guint64 w;
        memcpy(&w, s + i, sizeof w);
        h = (h ^ w) * NF_HASH_K1;
        h ^= h >> 32;
    }
    guint64 tail = 0;
    if (i < len && len >= sizeof tail) {
        memcpy(&tail, s + len - sizeof tail, sizeof tail); /* overlaps the last whole word */
    } else {
        for (gsize j = len; j > i; j--)
            tail = tail << 8 | (guchar)s[j - 1];
    }
    h ^= tail; /* then MurmurHash3's finaliser, so every input bit reaches the low bits */
    h = (h ^ (h >> 33)) * NF_HASH_K2;
    h = (h ^ (h >> 33)) * NF_HASH_K3;
    return (guint)(h ^ (h >> 33));
}

#define NF_STR_TABLE_MIN 64

/* The slot of t holding the len bytes at s (whose nf_str_hash() is hash), or else the empty
 * slot where they belong. */
static guint
str_table_slot(const NfStrTable *t, const char *s, gsize len, guint hash)
{
    guint i = hash & t->mask;
    for (; t->slots[i].str != NULL; i = (i + 1) & t->mask) {
        const NfStrSlot *e = &t->slots[i];
        if (e->hash == hash && e->len == len && memcmp(e->str, s, len) == 0)
            break;
    }
    return i;
}

/* Makes room in t for one more string: allocates its slots on first use, doubles them (placing
 * the strings again by their stored hashes) when they would be more than half full. */
static void
str_table_make_room(NfStrTable *t)
{
    if (t->slots == NULL) {
        t->slots = g_new0(NfStrSlot, NF_STR_TABLE_MIN);
        t->mask = NF_STR_TABLE_MIN - 1;
        return;
    }
    const guint size = t->mask + 1;
    if (t->n + 1 <= size / 2 || size > G_MAXUINT / 4)
        return;
    NfStrSlot *old = t->slots;
    t->slots = g_new0(NfStrSlot, 2 * (gsize)size);
    t->mask = 2 * size - 1;
    for (guint i = 0; i < size; i++) {
        if (old[i].str == NULL)
            continue;
        guint j = old[i].hash & t->mask;
        while (t->slots[j].str != NULL)
            j = (j + 1) & t->mask;
        t->slots[j] = old[i];
    }
    g_free(old);
}

/* See netfilter_private.h. */
const char *
nf_intern_len(NfRuleset *rs, const char *s, gsize len)
{
    g_return_val_if_fail(len < G_MAXUINT, NULL);
    NfStrTable *t = &rs->interned;
    str_table_make_room(t);
    guint hash = nf_str_hash(s, len);
    guint i = str_table_slot(t, s, len, hash);
    if (t->slots[i].str == NULL) {
        const char *copy = g_string_chunk_insert_len(rs->strings, s, (gssize)len);
        t->slots[i] = (NfStrSlot){copy, hash, (guint)len};
        t->n++;
    }
    return t->slots[i].str;
}

/* ------------------------------------------------------------------ rulesets and chains */

/* Allocates an empty chain named name (len bytes, nf_str_hash() hash), the chain and its name
 * carved from rs's blocks (a 10,000-Service node has 180,000 chains; a chain's name is unique in
 * its table, so it is not interned). */
static NfChain *
chain_new(NfRuleset *rs, NfTableId table, const char *name, gsize len, guint hash,
          gboolean builtin)
{
    NfChain *c = nf_ruleset_alloc_rule(rs, sizeof(NfChain) + len + 1);
    char *copy = (char *)(c + 1);
    memcpy(copy, name, len + 1);
    *c = (NfChain){.name = copy, .hash = hash, .builtin = builtin, .table = (guint8)table};
    g_ptr_array_add(rs->chain_list, c);
    return c;
}

#define NF_CHAIN_TABLE_MIN 64

/* The slot of t that holds the chain named name (whose nf_str_hash() is hash), or else the
 * empty slot where it belongs. */
static guint
chain_table_slot(const NfChainTable *t, const char *name, guint hash)
{
    guint i = hash & t->mask;
    for (; t->slots[i].chain != NULL; i = (i + 1) & t->mask) {
        if (t->slots[i].hash == hash && strcmp(t->slots[i].chain->name, name) == 0)
            break;
    }
    return i;
}

/* Sets t up empty. Release with g_free(t->slots). */
static void
chain_table_init(NfChainTable *t)
{
    t->slots = g_new0(NfChainSlot, NF_CHAIN_TABLE_MIN);
    t->mask = NF_CHAIN_TABLE_MIN - 1;
    t->n = 0;
}

/* Makes room for n chains in t in all: grows the slots (a power of two) until n of them fill at
 * most half, re-placing the chains by their stored hashes. */
static void
chain_table_reserve(NfChainTable *t, guint n)
{
    const guint size = t->mask + 1;
    guint grown = size;
    while (grown / 2 < n && grown <= G_MAXUINT / 4)
        grown *= 2;
    if (grown == size)
        return;
    NfChainSlot *old = t->slots;
    t->slots = g_new0(NfChainSlot, grown);
    t->mask = grown - 1;
    for (guint i = 0; i < size; i++) {
        if (old[i].chain == NULL)
            continue;
        guint j = old[i].hash & t->mask;
        while (t->slots[j].chain != NULL)
            j = (j + 1) & t->mask;
        t->slots[j] = old[i];
    }
    g_free(old);
}

/* Adds c, whose name t does not hold, to t. */
static void
chain_table_add(NfChainTable *t, NfChain *c)
{
    chain_table_reserve(t, t->n + 1);
    t->slots[chain_table_slot(t, c->name, c->hash)] = (NfChainSlot){c, c->hash};
    t->n++;
}

/* See netfilter_private.h. */
NfChain *
nf_chain_table_next(const NfChainTable *t, guint *pos)
{
    for (; *pos <= t->mask; (*pos)++) {
        if (t->slots[*pos].chain != NULL)
            return t->slots[(*pos)++].chain;
    }
    return NULL;
}

/* Frees what every chain of rs owns outside the blocks: its evaluation index, if any (the
 * chains and their rule lists live in the blocks). */
static void
chains_clear(NfRuleset *rs)
{
    for (guint i = 0; i < rs->chain_list->len; i++) {
        NfChain *c = rs->chain_list->pdata[i];
        if (c->index != NULL)
            nf_chain_index_free(c->index);
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
    rs->rule_blocks = g_ptr_array_new_with_free_func(g_free);
    rs->reach_todo = g_ptr_array_new();
    rs->chain_list = g_ptr_array_new();
    for (guint t = 0; t < NF_TABLE_COUNT; t++) {
        NfTable *tab = &rs->tables[t];
        chain_table_init(&tab->chains);
        for (guint h = 0; h < NF_HOOK_COUNT; h++) {
            const char *name = hook_chain_names[t][h];
            if (name == NULL)
                continue;
            gsize len = strlen(name);
            NfChain *c = chain_new(rs, (NfTableId)t, name, len, nf_str_hash(name, len), TRUE);
            chain_table_add(&tab->chains, c);
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

/* See netfilter_private.h. */
void
nf_chain_add_rule(NfRuleset *rs, NfChain *c, NfRule *r)
{
    if (c->n_rules == c->rules_room) {
        guint room = c->rules_room == 0 ? 2 : c->rules_room * 2;
        NfRule **rules = nf_ruleset_alloc_rule(rs, room * sizeof *rules);
        if (c->n_rules > 0)
            memcpy(rules, c->rules, c->n_rules * sizeof *rules);
        c->rules = rules;
        c->rules_room = room;
    }
    c->rules[c->n_rules++] = r;
}

void
nf_ruleset_free(NfRuleset *rs)
{
    if (rs == NULL)
        return;
    chains_clear(rs);
    for (guint t = 0; t < NF_TABLE_COUNT; t++)
        g_free(rs->tables[t].chains.slots);
    g_ptr_array_unref(rs->chain_list);
    g_string_chunk_free(rs->strings);
    g_free(rs->interned.slots);
    g_ptr_array_unref(rs->rule_blocks);
    g_ptr_array_unref(rs->reach_todo);
    nf_rule_builder_free(rs->builder);
    g_free(rs->scratch_rule);
    g_free(rs->scratch_matches);
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
    const NfChainTable *t = &rs->tables[table].chains;
    return t->slots[chain_table_slot(t, name, nf_str_hash(name, strlen(name)))].chain;
}

/* The built-in targets and match-free words a chain may not be named after, with their
 * lengths. */
#define NF_RESERVED(name) {name, sizeof name - 1}
static const struct {
    const char *name;
    gsize len;
} reserved_chain_names[] = {
    NF_RESERVED("ACCEPT"), NF_RESERVED("DROP"), NF_RESERVED("QUEUE"),
    NF_RESERVED("RETURN"), NF_RESERVED("REJECT"), NF_RESERVED("DNAT"),
    NF_RESERVED("SNAT"), NF_RESERVED("MASQUERADE"), NF_RESERVED("MARK"),
};
#undef NF_RESERVED
#define NF_RESERVED_LEN_MAX 10 /* "MASQUERADE", the longest: longer names need no compare */

#define NF_BYTES_ONES G_GUINT64_CONSTANT(0x0101010101010101)
#define NF_BYTES_HIGHS (NF_BYTES_ONES * 0x80)

/* TRUE when every byte of the len bytes at s is printable and not a space (g_ascii_isgraph):
 * eight at a time, a byte below 0x21 or above 0x7e showing in the high bits of the
 * subtraction or addition below (each test is exact for "some byte of the word"). */
static gboolean
bytes_graph(const char *s, gsize len)
{
    gsize i = 0;
    for (; i + sizeof(guint64) <= len; i += sizeof(guint64)) {
        guint64 w;
        memcpy(&w, s + i, sizeof w);
        guint64 below = (w - NF_BYTES_ONES * 0x21) & ~w & NF_BYTES_HIGHS;
        guint64 above = ((w + NF_BYTES_ONES) | w) & NF_BYTES_HIGHS;
        if ((below | above) != 0)
            return FALSE;
    }
    for (; i < len; i++) {
        if (!g_ascii_isgraph(s[i]))
            return FALSE;
    }
    return TRUE;
}

/* Checks a user chain name of len bytes the way iptables does; sets error and returns FALSE if
 * invalid. */
static gboolean
chain_name_valid(const char *name, gsize len, GError **error)
{
    gboolean ok = len > 0 && len <= NF_CHAIN_NAME_MAX && name[0] != '-' && name[0] != '!' &&
                  bytes_graph(name, len);
    for (gsize i = 0; ok && len <= NF_RESERVED_LEN_MAX && i < G_N_ELEMENTS(reserved_chain_names);
         i++) {
        ok = len != reserved_chain_names[i].len ||
             memcmp(name, reserved_chain_names[i].name, len) != 0;
    }
    if (!ok)
        g_set_error(error, NF_ERROR, NF_ERROR_PARSE, "invalid chain name \"%s\"", name);
    return ok;
}

gboolean
nf_ruleset_new_chain(NfRuleset *rs, NfTableId table, const char *chain, GError **error)
{
    g_return_val_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && chain != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    NfChainTable *t = &rs->tables[table].chains;
    chain_table_reserve(t, t->n + 1);
    gsize len = strlen(chain);
    guint hash = nf_str_hash(chain, len);
    guint slot = chain_table_slot(t, chain, hash); /* one probe for both uses */
    if (t->slots[slot].chain != NULL) {
        g_set_error(error, NF_ERROR, NF_ERROR_EXISTS, "chain \"%s\" already exists in table %s",
                    chain, nf_table_name(table));
        return FALSE;
    }
    if (!chain_name_valid(chain, len, error))
        return FALSE;
    t->slots[slot] = (NfChainSlot){chain_new(rs, table, chain, len, hash, FALSE), hash};
    t->n++;
    return TRUE;
}

void
nf_ruleset_reserve_chains(NfRuleset *rs, NfTableId table, guint n)
{
    g_return_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT);
    chain_table_reserve(&rs->tables[table].chains, n);
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
    return c == NULL ? -1 : (gint)c->n_rules;
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
        guint pos = 0;
        for (NfChain *c; (c = nf_chain_table_next(&rs->tables[table].chains, &pos)) != NULL;)
            c->visit = 0;
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
        for (guint i = 0; i < c->n_rules; i++) {
            const NfRule *r = c->rules[i];
            if (r->target.kind != NF_TARGET_JUMP || r->target.chain->visit == rs->visit_epoch)
                continue;
            r->target.chain->visit = rs->visit_epoch;
            g_ptr_array_add(todo, r->target.chain);
        }
    }
    return FALSE;
}
