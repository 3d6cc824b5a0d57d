/* SPDX-License-Identifier: Apache-2.0 */
/* nftables tables: construction and evaluation inside the netfilter engine (see sim/nft.h);
 * `nft list table` printing and the words a trace uses are sim/nft_print.c.
 *
 * Models nf_tables as the kernel runs it for one table: base chains registered at a hook with a
 * priority, rules evaluated expression by expression (the first expression that does not match
 * ends the rule), verdicts with a jump stack (goto replaces the current frame), set and verdict
 * map lookups by exact key, numgen, dynamic sets, and the nat statements ending the chain with
 * accept.
 */
#include "sim/nft_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NFT_MAX_JUMP_DEPTH 16 /* NFT_JUMP_STACK_SIZE */

/* ------------------------------------------------------------------ construction */

/* Frees an NftRule and its expression copies. */
static void
rule_free(gpointer p)
{
    NftRule *r = p;
    for (guint i = 0; i < r->exprs->len; i++) {
        NftExpr *e = &g_array_index(r->exprs, NftExpr, i);
        g_free((gpointer)e->cidrs);
        g_free((gpointer)e->chains);
        g_free((gpointer)e->name);
    }
    g_array_unref(r->exprs);
    g_free(r->comment);
    g_free(r);
}

/* Frees an NftChain with its rules. */
static void
chain_free(gpointer p)
{
    NftChain *c = p;
    g_ptr_array_unref(c->rules);
    g_free(c->name);
    g_free(c->comment);
    g_free(c);
}

/* Frees an NftSet with its elements. */
static void
set_free(gpointer p)
{
    NftSet *s = p;
    for (guint i = 0; i < s->elems->len; i++)
        g_free(g_array_index(s->elems, NftElem, i).comment);
    g_hash_table_unref(s->index);
    g_array_unref(s->elems);
    g_free(s->name);
    g_free(s->comment);
    g_free(s);
}

NftTable *
nft_table_new(SimFamily family, const char *name, const char *comment)
{
    g_return_val_if_fail(family == SIM_AF_INET || family == SIM_AF_INET6, NULL);
    NftTable *t = g_new0(NftTable, 1);
    t->family = family;
    t->name = g_strdup(name);
    t->comment = g_strdup(comment);
    t->sets = g_ptr_array_new_with_free_func(set_free);
    t->chains = g_ptr_array_new_with_free_func(chain_free);
    t->set_names = g_hash_table_new(g_str_hash, g_str_equal);
    t->chain_names = g_hash_table_new(g_str_hash, g_str_equal);
    t->bases = g_ptr_array_new();
    return t;
}

void
nft_table_free(NftTable *t)
{
    if (t == NULL)
        return;
    g_hash_table_unref(t->set_names);
    g_hash_table_unref(t->chain_names);
    g_ptr_array_unref(t->bases);
    g_ptr_array_unref(t->chains); /* rules point at sets and chains: both go together */
    g_ptr_array_unref(t->sets);
    g_free(t->name);
    g_free(t->comment);
    g_free(t);
}

SimFamily
nft_table_family(const NftTable *t)
{
    return t->family;
}

NftChain *
nft_table_find_chain(const NftTable *t, const char *name)
{
    return g_hash_table_lookup(t->chain_names, name);
}

/* Adds a chain named name unless the name is taken. */
static NftChain *
table_new_chain(NftTable *t, const char *name, const char *comment)
{
    if (nft_table_find_chain(t, name) != NULL)
        return NULL;
    NftChain *c = g_new0(NftChain, 1);
    c->name = g_strdup(name);
    c->comment = g_strdup(comment);
    c->rules = g_ptr_array_new_with_free_func(rule_free);
    c->table = t;
    g_ptr_array_add(t->chains, c);
    g_hash_table_insert(t->chain_names, c->name, c);
    return c;
}

NftChain *
nft_table_add_base_chain(NftTable *t, const char *name, NftChainType type, NfHook hook,
                         int priority)
{
    NftChain *c = table_new_chain(t, name, NULL);
    if (c == NULL)
        return NULL;
    c->base = TRUE;
    c->type = type;
    c->hook = hook;
    c->priority = priority;
    guint at = t->bases->len; /* after every base chain of lower or equal priority */
    while (at > 0 && ((NftChain *)t->bases->pdata[at - 1])->priority > priority)
        at--;
    g_ptr_array_insert(t->bases, (gint)at, c);
    return c;
}

NftChain *
nft_table_add_chain(NftTable *t, const char *name, const char *comment)
{
    return table_new_chain(t, name, comment);
}

const char *
nft_chain_name(const NftChain *c)
{
    return c->name;
}

guint
nft_chain_length(const NftChain *c)
{
    return c->rules->len;
}

guint
nft_table_rule_count(const NftTable *t)
{
    guint n = 0;
    for (guint i = 0; i < t->chains->len; i++)
        n += ((const NftChain *)t->chains->pdata[i])->rules->len;
    return n;
}

/* GHashFunc over NftKey. */
static guint
key_hash(gconstpointer p)
{
    const NftKey *k = p;
    return sim_addr_hash(&k->addr) * 31u + ((guint)k->proto << 16 | k->port);
}

/* GEqualFunc over NftKey. */
static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    const NftKey *x = a, *y = b;
    return x->proto == y->proto && x->port == y->port && sim_addr_equal(&x->addr, &y->addr);
}

NftSet *
nft_table_add_set(NftTable *t, const char *name, NftKeyType key, gboolean map,
                  guint timeout_seconds, const char *comment)
{
    if (nft_table_find_set(t, name) != NULL)
        return NULL;
    NftSet *s = g_new0(NftSet, 1);
    s->name = g_strdup(name);
    s->key = key;
    s->map = map;
    s->timeout = timeout_seconds;
    s->comment = g_strdup(comment);
    s->elems = g_array_new(FALSE, TRUE, sizeof(NftElem));
    s->index = g_hash_table_new_full(key_hash, key_equal, g_free, NULL);
    s->table = t;
    g_ptr_array_add(t->sets, s);
    g_hash_table_insert(t->set_names, s->name, s);
    return s;
}

NftSet *
nft_table_find_set(const NftTable *t, const char *name)
{
    return g_hash_table_lookup(t->set_names, name);
}

const char *
nft_set_name(const NftSet *s)
{
    return s->name;
}

guint
nft_set_size(const NftSet *s)
{
    return s->elems->len;
}

/* The key with the fields s's key type does not use cleared. */
static NftKey
set_key(const NftSet *s, const NftKey *key)
{
    NftKey k = {0};
    if (s->key != NFT_KEY_PROTO_PORT)
        k.addr = key->addr;
    if (s->key != NFT_KEY_ADDR) {
        k.proto = key->proto;
        k.port = key->port;
    }
    return k;
}

gboolean
nft_set_add(NftSet *s, const NftKey *key, const NftVerdict *value, const char *comment)
{
    NftKey k = set_key(s, key);
    if (g_hash_table_contains(s->index, &k))
        return FALSE;
    NftElem e = {.key = k, .comment = g_strdup(comment)};
    if (s->map && value != NULL)
        e.value = *value;
    g_array_append_val(s->elems, e);
    g_hash_table_insert(s->index, g_memdup2(&k, sizeof k), GUINT_TO_POINTER(s->elems->len));
    return TRUE;
}

gint
nft_set_lookup(const NftSet *s, const NftKey *key)
{
    NftKey k = set_key(s, key);
    return (gint)GPOINTER_TO_UINT(g_hash_table_lookup(s->index, &k)) - 1;
}

NftRule *
nft_chain_add_rule(NftChain *c, const char *comment)
{
    NftRule *r = g_new0(NftRule, 1);
    r->chain = c;
    r->comment = g_strdup(comment);
    r->exprs = g_array_new(FALSE, TRUE, sizeof(NftExpr));
    g_ptr_array_add(c->rules, r);
    return r;
}

/* Orders CIDRs by address, then prefix length. */
static gint
cidr_compare(gconstpointer a, gconstpointer b)
{
    const SimCidr *x = a, *y = b;
    int c = sim_addr_compare(&x->addr, &y->addr);
    return c != 0 ? c : (x->prefix > y->prefix) - (x->prefix < y->prefix);
}

void
nft_rule_append(NftRule *r, const NftExpr *e)
{
    NftExpr copy = *e;
    copy.cidrs = NULL;
    if (e->kind == NFT_EXPR_ADDR) { /* an anonymous interval set: nft keeps it sorted */
        SimCidr *cidrs = g_memdup2(e->cidrs, e->n * sizeof(SimCidr));
        qsort(cidrs, e->n, sizeof(SimCidr), cidr_compare);
        copy.cidrs = cidrs;
    }
    copy.chains =
        e->kind == NFT_EXPR_NUMGEN ? g_memdup2(e->chains, e->n * sizeof(NftChain *)) : NULL;
    copy.name = e->kind == NFT_EXPR_IIFNAME ? g_strdup(e->name) : NULL;
    if (e->kind == NFT_EXPR_UPDATE_SADDR)
        e->set->dynset = TRUE;
    g_array_append_val(r->exprs, copy);
}

const NftChain *
nft_rule_chain(const NftRule *r)
{
    return r->chain;
}

void
nft_ruleset_attach(NfRuleset *rs, NftTable *t)
{
    g_return_if_fail(rs != NULL && t != NULL && rs->nft == NULL);
    rs->nft = t;
    rs->nft_free = (GDestroyNotify)nft_table_free;
}

const NftTable *
nft_ruleset_table(const NfRuleset *rs)
{
    return rs != NULL ? rs->nft : NULL;
}

/* ------------------------------------------------------------------ evaluation */

typedef struct {
    const NftChain *chain;
    guint pos; /* the next rule */
} NftFrame;

/* A branch on its way through one base chain; copied when a choice forks it. */
typedef struct {
    NfBranch *branch; /* (owned) */
    guint depth;      /* frames in use; frames[0] is the base chain */
    NftFrame frames[NFT_MAX_JUMP_DEPTH + 1];
} NftWalk;

typedef struct {
    const NftTable *table;
    const NftChain *base;
    NfHook hook;
    const char *iif, *oif;
    guint32 ctstate;
    const NfEnv *env;
    GPtrArray *pending; /* NftWalk*, forks still to run */
    GPtrArray *done;    /* finished NfBranch* */
} NftCtx;

/* The outcome of one expression. */
typedef enum {
    EXPR_NO,      /* did not match: the rule ends */
    EXPR_YES,     /* matched (or a statement ran): next expression */
    EXPR_VERDICT, /* a verdict was issued: *v holds it */
} ExprResult;

/* Frees a queued walk and its branch. */
static void
walk_free(gpointer p)
{
    NftWalk *w = p;
    nf_branch_free(w->branch);
    g_free(w);
}

/* A copy of w with its own branch. */
static NftWalk *
walk_copy(const NftWalk *w)
{
    NftWalk *c = g_new(NftWalk, 1);
    *c = *w;
    c->branch = nf_branch_copy(w->branch);
    return c;
}

/* Queues w for later. */
static void
ctx_queue(NftCtx *ctx, NftWalk *w)
{
    if (ctx->pending == NULL)
        ctx->pending = g_ptr_array_new_with_free_func(walk_free);
    g_ptr_array_add(ctx->pending, w);
}

/* Records that rule r (at pos of the top chain) acted, with choice (-1 for none). */
static void
walk_step(const NftCtx *ctx, NftWalk *w, const NftRule *r, guint pos, gint choice)
{
    if (ctx->env->no_steps)
        return;
    const NftChain *c = w->frames[w->depth - 1].chain;
    NfStep s = {.table = ctx->base->type == NFT_CHAIN_NAT ? NF_TABLE_NAT : NF_TABLE_FILTER,
                .chain = c->name,
                .index = pos,
                .nft_rule = r,
                .nft_choice = choice};
    g_array_append_val(w->branch->steps, s);
}

/* Ends w's walk with v (NONE: the policy, accept) and hands its branch to ctx->done. */
static void
walk_finish(NftCtx *ctx, NftWalk *w, NfVerdict v)
{
    if (v != NF_VERDICT_NONE)
        w->branch->verdict = v;
    w->branch->last_hook = ctx->hook;
    g_ptr_array_add(ctx->done, g_steal_pointer(&w->branch));
    g_free(w);
}

/* Whether the interface matches name (a trailing '*' matches a prefix). */
static gboolean
iifname_matches(const char *name, const char *iif)
{
    if (iif == NULL)
        return FALSE;
    gsize n = strlen(name);
    if (n > 0 && name[n - 1] == '*')
        return strncmp(iif, name, n - 1) == 0;
    return strcmp(iif, name) == 0;
}

/* The key a lookup builds from the packet for a set of key type k. */
static NftKey
packet_key(const SimPacket *pkt, NftField field)
{
    NftKey k = {.proto = pkt->proto, .port = pkt->dst.port};
    k.addr = field == NFT_FIELD_SADDR ? pkt->src.addr : pkt->dst.addr;
    return k;
}

/* A named-set address test. Dynamic sets with a timeout are the environment's (recent lists):
 * an open answer forks the walk, the copy taking the side where the set does not hold the
 * address and resuming at the next rule. */
static ExprResult
eval_addr_set(NftCtx *ctx, NftWalk *w, const NftExpr *e)
{
    const SimPacket *pkt = &w->branch->pkt;
    NftKey k = packet_key(pkt, e->field);
    gboolean in;
    if (e->set->timeout == 0) {
        in = nft_set_lookup(e->set, &k) >= 0;
    } else {
        NfChoice c =
            ctx->env->recent_check != NULL
                ? ctx->env->recent_check(ctx->env->data, e->set->name, &k.addr, e->set->timeout)
                : NF_CHOICE_BOTH;
        if (c == NF_CHOICE_BOTH) {
            NftWalk *other = walk_copy(w);
            ctx_queue(ctx, other);
            c = NF_CHOICE_YES;
            if (e->neq) /* the copy matches, this walk does not */
                return EXPR_NO;
        }
        in = c == NF_CHOICE_YES;
    }
    return in != e->neq ? EXPR_YES : EXPR_NO;
}

/* The 31-bit fraction the statistic match would use for kube-proxy's "%0.10f" of 1/k, so a
 * numgen draws exactly as the iptables ladder does. */
static guint32
ladder_probability(guint k)
{
    char text[32];
    g_snprintf(text, sizeof text, "%0.10f", 1.0 / (double)k);
    return (guint32)lround(2147483648.0 * g_ascii_strtod(text, NULL));
}

/* numgen random mod N: with an environment that chooses, the choice is drawn as the iptables
 * ladder draws it (rule i taken with probability 1/(N-i)); otherwise the walk forks into N
 * branches of probability 1/N, the copies queued with their goto already applied. Returns the
 * choice for this walk. */
static guint
eval_numgen(NftCtx *ctx, NftWalk *w, const NftExpr *e, const NftRule *r, guint pos)
{
    const NfEnv *env = ctx->env;
    if (env->statistic != NULL) {
        for (guint i = 0; i + 1 < e->n; i++) {
            guint32 p = ladder_probability(e->n - i);
            if (p >= 0x80000000u || env->statistic(env->data, p) == NF_CHOICE_YES)
                return i;
        }
        return e->n - 1;
    }
    for (guint i = e->n - 1; i >= 1; i--) { /* queued last first: run in numgen order */
        NftWalk *other = walk_copy(w);
        other->branch->probability /= e->n;
        walk_step(ctx, other, r, pos, (gint)i);
        other->frames[other->depth - 1] = (NftFrame){.chain = e->chains[i]};
        ctx_queue(ctx, other);
    }
    w->branch->probability /= e->n;
    return 0;
}

/* Rewrites the destination for DNAT and remembers the original one. */
static void
apply_dnat(NfBranch *b, const SimSockAddr *to)
{
    if (!b->dnat)
        b->orig_dst = b->pkt.dst;
    b->dnat = TRUE;
    b->pkt.dst = *to;
}

/* A test-only expression against the packet. */
static gboolean
eval_match(const NftCtx *ctx, const NftExpr *e, const SimPacket *pkt)
{
    const SimAddr *a = e->field == NFT_FIELD_SADDR ? &pkt->src.addr : &pkt->dst.addr;
    gboolean in = FALSE;
    switch (e->kind) {
    case NFT_EXPR_CT_STATE_NEW:
        return (ctx->ctstate & NF_CT_NEW) != 0;
    case NFT_EXPR_ADDR:
        for (guint i = 0; i < e->n && !in; i++)
            in = sim_cidr_contains(&e->cidrs[i], a);
        return in != e->neq;
    case NFT_EXPR_FIB_LOCAL:
        return ctx->env->is_local != NULL && ctx->env->is_local(ctx->env->data, a);
    case NFT_EXPR_IIFNAME:
        return iifname_matches(e->name, ctx->iif) != e->neq;
    case NFT_EXPR_L4PROTO:
        return pkt->proto == e->proto;
    case NFT_EXPR_DPORT:
        return pkt->proto == e->proto && pkt->dst.port == e->port;
    case NFT_EXPR_MARK_CLEAR:
        return (pkt->mark & e->mark) == 0;
    case NFT_EXPR_ADDR_SET: /* eval_addr_set() (it may fork) */
    case NFT_EXPR_MARK_OR:
    case NFT_EXPR_MARK_XOR:
    case NFT_EXPR_VMAP:
    case NFT_EXPR_NUMGEN:
    case NFT_EXPR_UPDATE_SADDR:
    case NFT_EXPR_DNAT:
    case NFT_EXPR_MASQUERADE:
    case NFT_EXPR_VERDICT:
        g_assert_not_reached();
    }
    return FALSE;
}

/* Evaluates expression e of rule r (at pos) for w. *stepped tells whether the rule's step was
 * recorded already. */
static ExprResult
eval_expr(NftCtx *ctx, NftWalk *w, const NftRule *r, guint pos, const NftExpr *e, NftVerdict *v,
          gboolean *stepped)
{
    NfBranch *b = w->branch;
    gint choice = -1;
    switch (e->kind) {
    case NFT_EXPR_ADDR_SET:
        return eval_addr_set(ctx, w, e);
    case NFT_EXPR_VMAP: {
        NftKey k = packet_key(&b->pkt, NFT_FIELD_DADDR);
        choice = nft_set_lookup(e->set, &k);
        if (choice < 0)
            return EXPR_NO;
        *v = g_array_index(e->set->elems, NftElem, choice).value;
        break;
    }
    case NFT_EXPR_NUMGEN:
        choice = (gint)eval_numgen(ctx, w, e, r, pos);
        *v = (NftVerdict){NFT_VERDICT_GOTO, e->chains[choice]};
        break;
    case NFT_EXPR_MARK_OR:
        b->pkt.mark |= e->mark;
        break;
    case NFT_EXPR_MARK_XOR:
        b->pkt.mark ^= e->mark;
        break;
    case NFT_EXPR_UPDATE_SADDR:
        if (ctx->env->recent_set != NULL)
            ctx->env->recent_set(ctx->env->data, e->set->name, &b->pkt.src.addr);
        break;
    case NFT_EXPR_DNAT:
        apply_dnat(b, &e->to);
        *v = (NftVerdict){NFT_VERDICT_ACCEPT, NULL};
        break;
    case NFT_EXPR_MASQUERADE:
        b->masquerade = TRUE;
        b->random_fully = TRUE;
        *v = (NftVerdict){NFT_VERDICT_ACCEPT, NULL};
        break;
    case NFT_EXPR_VERDICT:
        *v = e->verdict;
        break;
    case NFT_EXPR_CT_STATE_NEW:
    case NFT_EXPR_ADDR:
    case NFT_EXPR_FIB_LOCAL:
    case NFT_EXPR_IIFNAME:
    case NFT_EXPR_L4PROTO:
    case NFT_EXPR_DPORT:
    case NFT_EXPR_MARK_CLEAR:
        return eval_match(ctx, e, &b->pkt) ? EXPR_YES : EXPR_NO;
    }
    if (!*stepped)
        walk_step(ctx, w, r, pos, choice);
    *stepped = TRUE;
    return v->kind == NFT_VERDICT_CONTINUE ? EXPR_YES : EXPR_VERDICT;
}

/* Applies verdict v to w. Returns FALSE when the walk ended. */
static gboolean
walk_verdict(NftCtx *ctx, NftWalk *w, const NftVerdict *v)
{
    switch (v->kind) {
    case NFT_VERDICT_CONTINUE:
        return TRUE;
    case NFT_VERDICT_ACCEPT:
        walk_finish(ctx, w, NF_VERDICT_ACCEPT);
        return FALSE;
    case NFT_VERDICT_DROP:
        walk_finish(ctx, w, NF_VERDICT_DROP);
        return FALSE;
    case NFT_VERDICT_REJECT:
        w->branch->reject_with = NULL; /* icmp(v6) port-unreachable */
        walk_finish(ctx, w, NF_VERDICT_REJECT);
        return FALSE;
    case NFT_VERDICT_RETURN:
        if (w->depth == 1) {
            walk_finish(ctx, w, NF_VERDICT_NONE);
            return FALSE;
        }
        w->depth--;
        return TRUE;
    case NFT_VERDICT_JUMP:
        if (w->depth > NFT_MAX_JUMP_DEPTH) {
            walk_finish(ctx, w, NF_VERDICT_DROP);
            return FALSE;
        }
        w->frames[w->depth++] = (NftFrame){.chain = v->chain};
        return TRUE;
    case NFT_VERDICT_GOTO:
        w->frames[w->depth - 1] = (NftFrame){.chain = v->chain};
        return TRUE;
    }
    return TRUE;
}

/* Evaluates rule r at pos of w's top chain. Returns FALSE when the walk ended. */
static gboolean
walk_rule(NftCtx *ctx, NftWalk *w, const NftRule *r, guint pos)
{
    gboolean stepped = FALSE;
    for (guint i = 0; i < r->exprs->len; i++) {
        NftVerdict v = {NFT_VERDICT_CONTINUE, NULL};
        ExprResult res =
            eval_expr(ctx, w, r, pos, &g_array_index(r->exprs, NftExpr, i), &v, &stepped);
        if (res == EXPR_NO)
            return TRUE;
        if (res == EXPR_VERDICT)
            return walk_verdict(ctx, w, &v);
    }
    return TRUE;
}

/* Runs w until it ends, queueing the forks it meets. */
static void
walk_run(NftCtx *ctx, NftWalk *w)
{
    for (;;) {
        NftFrame *f = &w->frames[w->depth - 1];
        if (f->pos >= f->chain->rules->len) {
            if (w->depth == 1 && !ctx->env->no_steps) {
                NfStep s = {.table =
                                f->chain->type == NFT_CHAIN_NAT ? NF_TABLE_NAT : NF_TABLE_FILTER,
                            .chain = f->chain->name,
                            .index = f->pos,
                            .fell_through = TRUE,
                            .nft_choice = -1};
                g_array_append_val(w->branch->steps, s);
            }
            NftVerdict ret = {NFT_VERDICT_RETURN, NULL};
            if (!walk_verdict(ctx, w, &ret))
                return;
            continue;
        }
        guint pos = f->pos++;
        const NftRule *r = f->chain->rules->pdata[pos];
        w->branch->rules_evaluated++;
        w->branch->rules_examined++;
        if (!walk_rule(ctx, w, r, pos))
            return;
    }
}

/* The iptables call (table) whose turn a base chain of priority prio at hook takes: the first
 * call of the hook whose own priority is at least prio (nat -100 before filter 0 at output;
 * filter 0 before nat 100 at input), else the last one. */
static NfTableId
base_chain_call(NfHook hook, int prio)
{
    switch (hook) {
    case NF_HOOK_PRE_ROUTING:
    case NF_HOOK_POST_ROUTING:
        return NF_TABLE_NAT;
    case NF_HOOK_FORWARD:
        return NF_TABLE_FILTER;
    case NF_HOOK_LOCAL_IN:
        return prio <= 0 ? NF_TABLE_FILTER : NF_TABLE_NAT;
    case NF_HOOK_LOCAL_OUT:
        return prio <= -100 ? NF_TABLE_NAT : NF_TABLE_FILTER;
    }
    return NF_TABLE_FILTER;
}

/* Runs base chain c over every live branch in branches. */
static void
run_base_chain(NftCtx *ctx, const NftChain *c, GPtrArray *branches)
{
    gsize n = 0;
    gpointer *input = g_ptr_array_steal(branches, &n);
    ctx->base = c;
    ctx->done = branches;
    for (gsize i = 0; i < n; i++) {
        NfBranch *b = input[i];
        if (b->verdict == NF_VERDICT_DROP || b->verdict == NF_VERDICT_REJECT) {
            g_ptr_array_add(branches, b);
            continue;
        }
        NftWalk *w = g_new(NftWalk, 1);
        w->branch = b;
        w->depth = 1;
        w->frames[0] = (NftFrame){.chain = c};
        walk_run(ctx, w);
        while (ctx->pending != NULL && ctx->pending->len > 0)
            walk_run(ctx, g_ptr_array_steal_index(ctx->pending, ctx->pending->len - 1));
    }
    g_free(input);
}

void
nft_table_run_hook(gconstpointer table, NfTableId call, NfHook hook, GPtrArray *branches,
                   const char *iif, const char *oif, guint32 ctstate, const NfEnv *env)
{
    const NftTable *t = table;
    static const NfEnv no_env = {0};
    NftCtx ctx = {.table = t,
                  .hook = hook,
                  .iif = iif,
                  .oif = oif,
                  .ctstate = ctstate,
                  .env = env != NULL ? env : &no_env};
    for (guint i = 0; i < t->bases->len; i++) { /* in priority order */
        const NftChain *c = t->bases->pdata[i];
        if (c->hook == hook && base_chain_call(hook, c->priority) == call)
            run_base_chain(&ctx, c, branches);
    }
    g_clear_pointer(&ctx.pending, g_ptr_array_unref);
}
