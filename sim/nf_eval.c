/* SPDX-License-Identifier: Apache-2.0 */
/* Evaluating netfilter rulesets: one hook for a set of packet branches, and the hook path of a
 * new connection's first packet.
 *
 * Models ipt_do_table(): rules in order, a rule matching when its IP part and every match do,
 * jumps with a return stack, RETURN, terminal verdicts, and the targets' effect on the packet
 * (MARK, DNAT) or on the connection (SNAT, MASQUERADE, left to the caller to apply). A random
 * match may be explored both ways, forking the walk; each fork is an NfBranch weighted by the
 * probability of the choices it took. Evaluation is indexed: once a chain has been walked
 * NF_INDEX_AFTER_WALKS times, it is bucketed (again after each change) by exact destination +
 * protocol + destination port, so a packet only tests the rules that can match it, while
 * rules_evaluated still counts what the kernel's linear walk costs. Its first walks go rule by
 * rule: for a one-shot trace, building the index would cost more than it saves.
 * Left out: counters, fragments, TCP flags, and the address types other than LOCAL.
 */
#include "sim/nf_eval.h"

#include "sim/netfilter_private.h"
#include "sim/ipset.h"
#include "sim/ipvs.h"
#include "sim/nft.h"

#include <math.h>
#include <string.h>

/* Chains shorter than this are walked rule by rule; an index would not pay for itself. */
#define NF_INDEX_MIN_RULES 8

/* ------------------------------------------------------------------ branches */

NfBranch *
nf_branch_new(const SimPacket *pkt)
{
    g_return_val_if_fail(pkt != NULL, NULL);
    NfBranch *b = g_new0(NfBranch, 1);
    b->pkt = *pkt;
    b->verdict = NF_VERDICT_NONE;
    b->steps = g_array_new(FALSE, FALSE, sizeof(NfStep));
    b->probability = 1.0;
    return b;
}

NfBranch *
nf_branch_copy(const NfBranch *b)
{
    g_return_val_if_fail(b != NULL, NULL);
    NfBranch *c = g_new(NfBranch, 1);
    *c = *b;
    c->steps = g_array_copy(b->steps);
    return c;
}

void
nf_branch_free(NfBranch *b)
{
    if (b == NULL)
        return;
    g_array_unref(b->steps);
    g_free(b);
}

void
nf_branch_free_notify(gpointer b)
{
    nf_branch_free(b);
}

const char *
nf_verdict_name(NfVerdict v)
{
    switch (v) {
    case NF_VERDICT_NONE:
        return "none";
    case NF_VERDICT_ACCEPT:
        return "accept";
    case NF_VERDICT_DROP:
        return "drop";
    case NF_VERDICT_REJECT:
        return "reject";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ the chain index */

/* A bucket key: (destination, protocol, destination port); the address family is
 * SIM_AF_NONE in the protocol + port table. */
typedef struct {
    SimAddr addr;
    guint8 proto;
    guint16 port;
} IndexKey;

struct NfChainIndex {
    GHashTable *exact;   /* IndexKey -> GArray of guint rule positions, ascending */
    GHashTable *by_port; /* IndexKey (no address) -> GArray of guint */
    GArray *always;      /* positions of every other rule */
};

/* GHashFunc over IndexKey. */
static guint
index_key_hash(gconstpointer p)
{
    const IndexKey *k = p;
    return sim_addr_hash(&k->addr) * 31u + ((guint)k->proto << 16 | k->port);
}

/* GEqualFunc over IndexKey. */
static gboolean
index_key_equal(gconstpointer a, gconstpointer b)
{
    const IndexKey *x = a, *y = b;
    return x->proto == y->proto && x->port == y->port && sim_addr_equal(&x->addr, &y->addr);
}

/* g_array_unref() as a GDestroyNotify. */
static void
index_list_free(gpointer list)
{
    g_array_unref(list);
}

void
nf_chain_index_free(NfChainIndex *ix)
{
    if (ix == NULL)
        return;
    g_hash_table_unref(ix->exact);
    g_hash_table_unref(ix->by_port);
    g_array_unref(ix->always);
    g_free(ix);
}

/* Fills key for a rule that can only match one protocol + destination port (and, when it has a
 * non-negated host -d, one destination). FALSE when the rule must be tested for every packet. */
static gboolean
rule_index_key(const NfRule *r, IndexKey *key)
{
    if (!(r->flags & NF_RF_PROTO) || (r->flags & NF_RF_INV_PROTO))
        return FALSE;
    const NfMatch *port_match = NULL;
    for (guint i = 0; i < r->n_matches && port_match == NULL; i++) {
        const NfMatch *m = &r->matches[i];
        gboolean ports =
            m->kind == NF_MATCH_TCP || m->kind == NF_MATCH_UDP || m->kind == NF_MATCH_SCTP;
        if (ports && !(m->flags & NF_MF_INV_DPORT) && m->u.ports.dport[0] == m->u.ports.dport[1])
            port_match = m;
    }
    if (port_match == NULL)
        return FALSE;
    *key = (IndexKey){.proto = r->proto, .port = port_match->u.ports.dport[0]};
    if ((r->flags & NF_RF_DST) && !(r->flags & NF_RF_INV_DST) && sim_cidr_is_host(&r->dst))
        key->addr = r->dst.addr;
    return TRUE;
}

/* The position list for key in table, created empty when missing. */
static GArray *
index_bucket(GHashTable *table, const IndexKey *key)
{
    GArray *list = g_hash_table_lookup(table, key);
    if (list == NULL) {
        list = g_array_new(FALSE, FALSE, sizeof(guint));
        IndexKey *copy = g_new(IndexKey, 1);
        *copy = *key;
        g_hash_table_insert(table, copy, list);
    }
    return list;
}

/* Builds the index of chain c. Cost: one pass over the rules. */
static NfChainIndex *
index_build(const NfChain *c)
{
    NfChainIndex *ix = g_new0(NfChainIndex, 1);
    ix->exact = g_hash_table_new_full(index_key_hash, index_key_equal, g_free, index_list_free);
    ix->by_port = g_hash_table_new_full(index_key_hash, index_key_equal, g_free, index_list_free);
    ix->always = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < c->n_rules; i++) {
        IndexKey key;
        GArray *list = ix->always;
        if (rule_index_key(c->rules[i], &key))
            list = index_bucket(key.addr.family == SIM_AF_NONE ? ix->by_port : ix->exact, &key);
        g_array_append_val(list, i);
    }
    return ix;
}

/* ------------------------------------------------------------------ walks */

/* One chain on the walk's stack, with the rules still to consider. */
typedef struct {
    NfChain *chain;
    guint pos;              /* the next rule position to consider */
    guint seg_start;        /* where the current run through this chain began (rules_evaluated) */
    gboolean all;           /* not indexed: every rule is a candidate */
    const GArray *lists[3]; /* else: candidate positions, ascending (nullable) */
    guint cursor[3];
} NfFrame;

/* A packet branch on its way through one table, with its own call stack, so that it can be
 * copied when a random match forks it. */
typedef struct NfWalk NfWalk;
struct NfWalk {
    NfBranch *branch; /* (owned) */
    guint depth;      /* frames in use; frames[0] is the built-in chain */
    NfFrame frames[NF_MAX_JUMP_DEPTH + 1];
};

typedef struct {
    const NfRuleset *rs;
    NfTableId table;
    NfHook hook;
    const char *iif, *oif;
    guint32 ctstate;
    const NfEnv *env;
    GPtrArray *pending; /* NfWalk forks still to run, last first; created on the first fork */
    GPtrArray *done;    /* finished branches */
    gboolean record_steps;
} EvalCtx;

/* Sets up f to walk chain c from its start for pkt: rule by rule while c is short or has been
 * walked at most NF_INDEX_AFTER_WALKS times, else through c's index, built if it is stale. */
static void
frame_enter(NfFrame *f, NfChain *c, const SimPacket *pkt)
{
    *f = (NfFrame){.chain = c, .all = TRUE};
    if (c->n_rules < NF_INDEX_MIN_RULES)
        return;
    if (c->index == NULL && c->walks < NF_INDEX_AFTER_WALKS) {
        c->walks++; /* the mutable cache behind a const ruleset, like the index */
        return;
    }
    if (c->index == NULL)
        c->index = index_build(c);
    f->all = FALSE;
    IndexKey key = {.addr = pkt->dst.addr, .proto = pkt->proto, .port = pkt->dst.port};
    f->lists[0] = g_hash_table_lookup(c->index->exact, &key);
    key.addr = (SimAddr){0};
    f->lists[1] = g_hash_table_lookup(c->index->by_port, &key);
    f->lists[2] = c->index->always;
}

/* The position of the next candidate rule at or after f->pos, or G_MAXUINT at the end. */
static guint
frame_next(NfFrame *f)
{
    if (f->all)
        return f->pos < f->chain->n_rules ? f->pos : G_MAXUINT;
    guint best = G_MAXUINT;
    for (guint k = 0; k < G_N_ELEMENTS(f->lists); k++) {
        const GArray *l = f->lists[k];
        if (l == NULL)
            continue;
        while (f->cursor[k] < l->len && g_array_index(l, guint, f->cursor[k]) < f->pos)
            f->cursor[k]++;
        if (f->cursor[k] < l->len)
            best = MIN(best, g_array_index(l, guint, f->cursor[k]));
    }
    return best;
}

/* A new walk of chain c for branch b (taking ownership of b). The ruleset's scratch walk is
 * used when it is free (the common case: no fork), so a packet's walk allocates nothing; the
 * ruleset is const to callers but the scratch, like the chain indexes, is a mutable cache
 * (single-threaded). */
static NfWalk *
walk_new(const NfRuleset *rs, NfBranch *b, NfChain *c)
{
    NfRuleset *mut = (NfRuleset *)rs;
    NfWalk *w;
    if (mut->eval_scratch != NULL && !mut->eval_scratch_busy) {
        w = mut->eval_scratch;
        mut->eval_scratch_busy = TRUE;
    } else if (mut->eval_scratch == NULL) {
        w = mut->eval_scratch = g_new(NfWalk, 1);
        mut->eval_scratch_busy = TRUE;
    } else {
        w = g_new(NfWalk, 1);
    }
    w->branch = b;
    w->depth = 1;
    frame_enter(&w->frames[0], c, &b->pkt);
    return w;
}

/* A copy of w with its own branch; only the frames in use are copied. */
static NfWalk *
walk_copy(const NfWalk *w)
{
    NfWalk *c = g_new(NfWalk, 1);
    c->branch = nf_branch_copy(w->branch);
    c->depth = w->depth;
    memcpy(c->frames, w->frames, w->depth * sizeof(NfFrame));
    return c;
}

/* Releases the memory of walk w: back to the ruleset when it is the scratch walk. */
static void
walk_release(const NfRuleset *rs, NfWalk *w)
{
    NfRuleset *mut = (NfRuleset *)rs;
    if (w == mut->eval_scratch)
        mut->eval_scratch_busy = FALSE;
    else
        g_free(w);
}

/* Frees a walk that never finished, with its branch (forks are never the scratch walk). */
static void
walk_free(gpointer p)
{
    NfWalk *w = p;
    nf_branch_free(w->branch);
    g_free(w);
}

void
nf_eval_scratch_free(gpointer scratch)
{
    g_free(scratch);
}

/* Records a step of the current chain. */
static void
walk_step(EvalCtx *ctx, NfWalk *w, guint pos, const NfRule *r, gboolean fell_through)
{
    if (!ctx->record_steps)
        return;
    NfStep s = {.table = ctx->table,
                .chain = w->frames[w->depth - 1].chain->name,
                .index = pos,
                .rule = r,
                .fell_through = fell_through};
    g_array_append_val(w->branch->steps, s);
}

/* Counts the rules the kernel evaluated in the current run of the top chain, up to and
 * including position pos. */
static void
walk_count_to(NfWalk *w, guint pos)
{
    NfFrame *f = &w->frames[w->depth - 1];
    w->branch->rules_evaluated += pos + 1 - f->seg_start;
}

/* Ends the walk with verdict v (NONE leaves the branch's earlier verdict) and hands the
 * branch over to ctx->done. */
static void
walk_finish(EvalCtx *ctx, NfWalk *w, NfVerdict v)
{
    if (v != NF_VERDICT_NONE)
        w->branch->verdict = v;
    w->branch->last_hook = ctx->hook;
    g_ptr_array_add(ctx->done, g_steal_pointer(&w->branch));
    walk_release(ctx->rs, w);
}

/* Forks w on a random match: the copy takes the "no match" side with probability
 * 1 - p_match and resumes after the current rule; w continues with p_match. A NaN p_match
 * (unknown) leaves both probabilities as they were. */
static void
walk_fork(EvalCtx *ctx, NfWalk *w, double p_match)
{
    NfWalk *other = walk_copy(w);
    if (!isnan(p_match)) {
        other->branch->probability *= 1.0 - p_match;
        w->branch->probability *= p_match;
    }
    if (ctx->pending == NULL)
        ctx->pending = g_ptr_array_new_with_free_func(walk_free);
    g_ptr_array_add(ctx->pending, other);
}

/* ------------------------------------------------------------------ matching */

/* v, inverted when inv is set. */
static inline gboolean
inv_if(gboolean v, gboolean inv)
{
    return (v != 0) != (inv != 0);
}

/* Whether iface matches a rule's interface name (with '+', a prefix). NULL never matches. */
static gboolean
iface_matches(const char *name, gboolean plus, const char *iface)
{
    if (iface == NULL)
        return FALSE;
    return plus ? g_str_has_prefix(iface, name) : strcmp(iface, name) == 0;
}

/* The IP part of a rule: -s, -d, -i, -o, -p. */
static gboolean
rule_ip_matches(const EvalCtx *ctx, const NfRule *r, const SimPacket *pkt)
{
    guint16 f = r->flags;
    if ((f & NF_RF_SRC) && !inv_if(sim_cidr_contains(&r->src, &pkt->src.addr), f & NF_RF_INV_SRC))
        return FALSE;
    if ((f & NF_RF_DST) && !inv_if(sim_cidr_contains(&r->dst, &pkt->dst.addr), f & NF_RF_INV_DST))
        return FALSE;
    if ((f & NF_RF_IIF) &&
        !inv_if(iface_matches(r->iif, f & NF_RF_IIF_PLUS, ctx->iif), f & NF_RF_INV_IIF))
        return FALSE;
    if ((f & NF_RF_OIF) &&
        !inv_if(iface_matches(r->oif, f & NF_RF_OIF_PLUS, ctx->oif), f & NF_RF_INV_OIF))
        return FALSE;
    if ((f & NF_RF_PROTO) && !inv_if(pkt->proto == r->proto, f & NF_RF_INV_PROTO))
        return FALSE;
    return TRUE;
}

/* Whether port lies in the inclusive range r. */
static inline gboolean
port_in(const guint16 r[2], guint16 port)
{
    return port >= r[0] && port <= r[1];
}

/* Whether addr is local, asking the environment (FALSE without a callback). */
static gboolean
env_is_local(const NfEnv *env, const SimAddr *addr)
{
    return env->is_local != NULL && env->is_local(env->data, addr);
}

/* addrtype with only LOCAL modelled: an address is LOCAL or (for the match) nothing else. */
static gboolean
addrtype_matches(const NfEnv *env, const NfMatch *m, const SimPacket *pkt)
{
    if ((m->flags & NF_MF_SRC_TYPE) &&
        !inv_if((m->u.addrtype.src & NF_ADDRTYPE_LOCAL) && env_is_local(env, &pkt->src.addr),
                m->flags & NF_MF_INV_SRC_TYPE))
        return FALSE;
    if ((m->flags & NF_MF_DST_TYPE) &&
        !inv_if((m->u.addrtype.dst & NF_ADDRTYPE_LOCAL) && env_is_local(env, &pkt->dst.addr),
                m->flags & NF_MF_INV_DST_TYPE))
        return FALSE;
    return TRUE;
}

/* The address a recent match keys on: source (or destination with --rdest), masked. */
static SimAddr
recent_key(const NfMatch *m, const SimPacket *pkt)
{
    SimAddr a = m->flags & NF_MF_RDEST ? pkt->dst.addr : pkt->src.addr;
    for (guint i = 0; i < sizeof a.b; i++)
        a.b[i] &= m->u.recent.mask.b[i];
    return a;
}

/* statistic --mode random: asks the environment unless the outcome is certain. *p_match gets
 * the match probability for NF_CHOICE_BOTH. */
static NfChoice
statistic_choice(const NfEnv *env, const NfMatch *m, double *p_match)
{
    guint32 p = m->u.probability;
    gboolean inv = (m->flags & NF_MF_INVERT) != 0;
    NfChoice c;
    if (p == 0)
        c = NF_CHOICE_NO; /* (random & 0x7fffffff) < 0 never holds */
    else if (p >= 0x80000000u)
        c = NF_CHOICE_YES;
    else
        c = env->statistic != NULL ? env->statistic(env->data, p) : NF_CHOICE_BOTH;
    double q = p / 2147483648.0;
    *p_match = inv ? 1.0 - q : q;
    if (c == NF_CHOICE_BOTH)
        return c;
    return inv_if(c == NF_CHOICE_YES, inv) ? NF_CHOICE_YES : NF_CHOICE_NO;
}

/* recent: --set always matches (the address is recorded when the rule's target runs);
 * --rcheck asks the environment. A fork has no known probability (*p_match = NaN). */
static NfChoice
recent_choice(const NfEnv *env, const NfMatch *m, const SimPacket *pkt, double *p_match)
{
    gboolean inv = (m->flags & NF_MF_INVERT) != 0;
    *p_match = NAN;
    if (m->flags & NF_MF_SET)
        return inv ? NF_CHOICE_NO : NF_CHOICE_YES;
    if (env->recent_check == NULL)
        return NF_CHOICE_BOTH;
    SimAddr key = recent_key(m, pkt);
    const char *name = m->u.recent.name != NULL ? m->u.recent.name : "DEFAULT";
    NfChoice c = env->recent_check(env->data, name, &key, m->u.recent.seconds);
    if (c == NF_CHOICE_BOTH)
        return c;
    return inv_if(c == NF_CHOICE_YES, inv) ? NF_CHOICE_YES : NF_CHOICE_NO;
}

/* ipvs (xt_ipvs's ipvs_mt()): whether the branch's packet was scheduled by IPVS, and for the
 * other options, whether its virtual service has that protocol, address and port. Every packet
 * evaluated here travels in its connection's ORIGINAL direction and is masqueraded. */
static gboolean
ipvs_matches(const NfMatch *m, const NfBranch *b)
{
    guint8 g = m->u.ipvs.given, inv = m->u.ipvs.inv;
    if (g == NF_IPVS_PROPERTY)
        return inv_if(b->ipvs_service != NULL, inv & NF_IPVS_PROPERTY);
    if (b->ipvs_service == NULL)
        return FALSE;
    const IpvsServiceSpec *sp = ipvs_service_spec(b->ipvs_service);
    SimCidr vaddr = m->u.ipvs.vaddr;
    if ((g & NF_IPVS_PROTO) && !inv_if(sp->proto == m->u.ipvs.proto, inv & NF_IPVS_PROTO))
        return FALSE;
    if ((g & NF_IPVS_VADDR) &&
        !inv_if(sim_cidr_contains(&vaddr, &sp->vip.addr), inv & NF_IPVS_VADDR))
        return FALSE;
    if ((g & NF_IPVS_VPORT) && !inv_if(sp->vip.port == m->u.ipvs.vport, inv & NF_IPVS_VPORT))
        return FALSE;
    if ((g & NF_IPVS_DIR) && m->u.ipvs.reply)
        return FALSE;
    return !((g & NF_IPVS_METHOD) && (inv & NF_IPVS_METHOD));
}

/* physdev (physdev_mt() without bridge info): a given option matches only when negated. */
static gboolean
physdev_matches(const NfMatch *m)
{
    return (m->u.physdev.given & ~m->u.physdev.inv) == 0;
}

/* set: whether the packet is in the match's set with its directions (sim/ipset.h). A rule with
 * a set match is never indexed by its destination: the index only uses -d and --dport. */
static gboolean
set_matches(const NfMatch *m, const SimPacket *pkt)
{
    gboolean src[3];
    for (guint i = 0; i < 3; i++)
        src[i] = (m->u.set.src_dirs & (1u << i)) != 0;
    return ipset_match(m->u.set.set, pkt, src, m->u.set.n_dirs);
}

/* Evaluates one match against the packet. For NF_CHOICE_BOTH, *p_match is the probability
 * of the matching side (NaN when unknown). */
static NfChoice
match_eval(const EvalCtx *ctx, const NfMatch *m, const NfBranch *b, double *p_match)
{
    const SimPacket *pkt = &b->pkt;
    gboolean yes = TRUE;
    gboolean inv = (m->flags & NF_MF_INVERT) != 0;
    switch ((NfMatchKind)m->kind) {
    case NF_MATCH_COMMENT:
    case NF_MATCH_NFACCT:
        break;
    case NF_MATCH_TCP:
    case NF_MATCH_UDP:
    case NF_MATCH_SCTP:
        yes = inv_if(port_in(m->u.ports.sport, pkt->src.port), m->flags & NF_MF_INV_SPORT) &&
              inv_if(port_in(m->u.ports.dport, pkt->dst.port), m->flags & NF_MF_INV_DPORT);
        break;
    case NF_MATCH_ADDRTYPE:
        yes = addrtype_matches(ctx->env, m, pkt);
        break;
    case NF_MATCH_MARK:
        yes = inv_if((pkt->mark & m->u.mark.mask) == m->u.mark.value, inv);
        break;
    case NF_MATCH_CONNTRACK:
        yes = inv_if((ctx->ctstate & m->u.ctstate) != 0, inv);
        break;
    case NF_MATCH_STATISTIC:
        return statistic_choice(ctx->env, m, p_match);
    case NF_MATCH_RECENT:
        return recent_choice(ctx->env, m, pkt, p_match);
    case NF_MATCH_SET:
        yes = inv_if(set_matches(m, pkt), inv);
        break;
    case NF_MATCH_PHYSDEV:
        yes = physdev_matches(m);
        break;
    case NF_MATCH_IPVS:
        yes = ipvs_matches(m, b);
        break;
    }
    return yes ? NF_CHOICE_YES : NF_CHOICE_NO;
}

/* Whether rule r matches w's packet. A random match explored both ways forks the walk: the
 * copy (queued in ctx->pending) takes the side where the rule does not match. */
static gboolean
rule_matches(EvalCtx *ctx, NfWalk *w, const NfRule *r)
{
    if (!rule_ip_matches(ctx, r, &w->branch->pkt))
        return FALSE;
    for (guint i = 0; i < r->n_matches; i++) {
        double p_match = 1.0;
        NfChoice c = match_eval(ctx, &r->matches[i], w->branch, &p_match);
        if (c == NF_CHOICE_NO)
            return FALSE;
        if (c == NF_CHOICE_BOTH)
            walk_fork(ctx, w, p_match);
    }
    return TRUE;
}

/* ------------------------------------------------------------------ targets */

/* Records the packet's address in every recent --set list of r (the rule's target runs). */
static void
recent_set_all(const EvalCtx *ctx, const NfRule *r, const SimPacket *pkt)
{
    if (ctx->env->recent_set == NULL)
        return;
    for (guint i = 0; i < r->n_matches; i++) {
        const NfMatch *m = &r->matches[i];
        if (m->kind != NF_MATCH_RECENT || !(m->flags & NF_MF_SET))
            continue;
        SimAddr key = recent_key(m, pkt);
        ctx->env->recent_set(ctx->env->data,
                             m->u.recent.name != NULL ? m->u.recent.name : "DEFAULT", &key);
    }
}

/* Enters chain c from the top of w's stack. A jump deeper than NF_MAX_JUMP_DEPTH, or into a
 * chain already on the stack (a loop, which iptables refuses at load time and
 * nf_ruleset_append() refuses too), ends the walk with DROP. Returns FALSE when the walk ended. */
static gboolean
walk_push(EvalCtx *ctx, NfWalk *w, NfChain *c)
{
    gboolean loop = w->depth > NF_MAX_JUMP_DEPTH;
    for (guint i = 0; i < w->depth && !loop; i++)
        loop = w->frames[i].chain == c;
    if (loop) {
        walk_finish(ctx, w, NF_VERDICT_DROP);
        return FALSE;
    }
    frame_enter(&w->frames[w->depth++], c, &w->branch->pkt);
    return TRUE;
}

/* Returns from the top chain: to the caller, or for the built-in chain, ends the walk with the
 * policy (verdict NONE). Returns FALSE when the walk ended. */
static gboolean
walk_return(EvalCtx *ctx, NfWalk *w)
{
    if (w->depth > 1) {
        w->depth--;
        return TRUE;
    }
    walk_finish(ctx, w, NF_VERDICT_NONE);
    return FALSE;
}

/* Rewrites the destination for DNAT and remembers the original one. */
static void
apply_dnat(NfBranch *b, const NfTarget *t)
{
    if (!b->dnat)
        b->orig_dst = b->pkt.dst;
    b->dnat = TRUE;
    b->pkt.dst.addr = t->to.addr;
    if (t->flags & NF_TF_PORT)
        b->pkt.dst.port = t->to.port;
}

/* Runs the target of rule r, which matched at position pos of the top chain. Returns FALSE
 * when the walk ended. */
static gboolean
walk_target(EvalCtx *ctx, NfWalk *w, const NfRule *r, guint pos)
{
    NfBranch *b = w->branch;
    const NfTarget *t = &r->target;
    walk_step(ctx, w, pos, r, FALSE);
    recent_set_all(ctx, r, &b->pkt);
    switch ((NfTargetKind)t->kind) {
    case NF_TARGET_NONE:
        return TRUE;
    case NF_TARGET_MARK:
        b->pkt.mark = (b->pkt.mark & ~t->mask) ^ t->value;
        return TRUE;
    case NF_TARGET_JUMP:
        walk_count_to(w, pos);
        w->frames[w->depth - 1].seg_start = pos + 1;
        return walk_push(ctx, w, t->chain);
    case NF_TARGET_RETURN:
        walk_count_to(w, pos);
        return walk_return(ctx, w);
    case NF_TARGET_ACCEPT:
    case NF_TARGET_DROP:
        walk_count_to(w, pos);
        walk_finish(ctx, w, t->kind == NF_TARGET_ACCEPT ? NF_VERDICT_ACCEPT : NF_VERDICT_DROP);
        return FALSE;
    case NF_TARGET_REJECT:
        walk_count_to(w, pos);
        b->reject_with = t->name;
        walk_finish(ctx, w, NF_VERDICT_REJECT);
        return FALSE;
    case NF_TARGET_DNAT:
        apply_dnat(b, t);
        break;
    case NF_TARGET_SNAT:
        b->snat = TRUE;
        b->snat_to = t->to;
        b->masquerade = TRUE;
        break;
    case NF_TARGET_MASQUERADE:
        b->masquerade = TRUE;
        b->random_fully = (t->flags & NF_TF_RANDOM_FULLY) != 0;
        break;
    }
    /* The NAT targets end the nat table's walk with NF_ACCEPT. */
    walk_count_to(w, pos);
    walk_finish(ctx, w, NF_VERDICT_ACCEPT);
    return FALSE;
}

/* Runs w until it ends, queueing the forks it meets in ctx->pending. */
static void
walk_run(EvalCtx *ctx, NfWalk *w)
{
    for (;;) {
        NfFrame *f = &w->frames[w->depth - 1];
        guint pos = frame_next(f);
        if (pos == G_MAXUINT) {
            guint len = f->chain->n_rules;
            w->branch->rules_evaluated += len - f->seg_start;
            if (w->depth == 1)
                walk_step(ctx, w, len, NULL, TRUE);
            if (!walk_return(ctx, w))
                return;
            continue;
        }
        const NfRule *r = f->chain->rules[pos];
        f->pos = pos + 1; /* a fork that does not match resumes after this rule */
        w->branch->rules_examined++;
        if (rule_matches(ctx, w, r) && !walk_target(ctx, w, r, pos))
            return;
    }
}

void
nf_run_hook(const NfRuleset *rs, NfTableId table, NfHook hook, GPtrArray *branches, const char *iif,
            const char *oif, guint32 ctstate, const NfEnv *env)
{
    g_return_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && branches != NULL);
    g_return_if_fail((guint)hook < NF_HOOK_COUNT);
    NfChain *start = rs->tables[table].builtin[hook];
    if (rs->nft != NULL) /* an nftables table's base chains run first (sim/nft.h) */
        nft_table_run_hook(rs->nft, table, hook, branches, iif, oif, ctstate, env);
    if (start == NULL || (rs->nft != NULL && start->n_rules == 0))
        return;
    static const NfEnv no_env = {0};
    EvalCtx ctx = {.rs = rs,
                   .table = table,
                   .hook = hook,
                   .iif = iif,
                   .oif = oif,
                   .ctstate = ctstate,
                   .env = env != NULL ? env : &no_env,
                   .done = branches};
    ctx.record_steps = !ctx.env->no_steps;
    /* Take the input branches out without reallocating the array (the common case is one). */
    NfBranch *local[8];
    guint n = branches->len;
    NfBranch **input = n <= G_N_ELEMENTS(local) ? local : g_new(NfBranch *, n);
    for (guint i = n; i > 0; i--)
        input[i - 1] = g_ptr_array_steal_index_fast(branches, i - 1);
    for (guint i = 0; i < n; i++) {
        NfBranch *b = input[i];
        if (b->verdict == NF_VERDICT_DROP || b->verdict == NF_VERDICT_REJECT) {
            g_ptr_array_add(branches, b);
            continue;
        }
        walk_run(&ctx, walk_new(rs, b, start));
        while (ctx.pending != NULL && ctx.pending->len > 0)
            walk_run(&ctx, g_ptr_array_steal_index(ctx.pending, ctx.pending->len - 1));
    }
    if (input != local)
        g_free(input);
    g_clear_pointer(&ctx.pending, g_ptr_array_unref);
}

/* ------------------------------------------------------------------ the hook path */

/* Runs one hook over every live branch, each with its own conntrack state. */
static void
path_hook(const NfRuleset *rs, NfTableId table, NfHook hook, GPtrArray *branches, const char *iif,
          const char *oif, const NfEnv *env)
{
    gsize n = 0;
    gpointer *input = g_ptr_array_steal(branches, &n);
    g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    for (gsize i = 0; i < n; i++) {
        NfBranch *b = input[i];
        guint32 ct = NF_CT_NEW | (b->dnat ? NF_CT_DNAT : 0) | (b->masquerade ? NF_CT_SNAT : 0);
        g_ptr_array_add(one, b);
        nf_run_hook(rs, table, hook, one, iif, oif, ct, env);
        gsize m = 0;
        gpointer *results = g_ptr_array_steal(one, &m);
        for (gsize j = 0; j < m; j++)
            g_ptr_array_add(branches, results[j]);
        g_free(results);
    }
    g_free(input);
}

/* Whether dst is local: the environment says so, or it is an address of the dummy interface of
 * the ruleset's IPVS table (a host owns those as soon as the table is loaded). */
static gboolean
path_is_local(const NfRuleset *rs, const NfEnv *env, const SimAddr *dst)
{
    return env_is_local(env, dst) || ipvs_table_is_local(rs->ipvs, dst);
}

/* The interface a packet to dst leaves by: "lo" for local addresses, else out_iface. */
static const char *
path_route(const NfRuleset *rs, const NfEnv *env, const SimAddr *dst, const char *out_iface)
{
    return path_is_local(rs, env, dst) ? "lo" : out_iface;
}

/* Moves every branch of from to the end of to. */
static void
path_move(GPtrArray *from, GPtrArray *to)
{
    gsize n = 0;
    gpointer *results = g_ptr_array_steal(from, &n);
    for (gsize i = 0; i < n; i++)
        g_ptr_array_add(to, results[i]);
    g_free(results);
}

/* The virtual service of the ruleset's IPVS table that b's packet is addressed to, or NULL
 * (also for a branch that was dropped or rejected). */
static const IpvsService *
path_ipvs_service(const NfRuleset *rs, const NfBranch *b)
{
    if (rs->ipvs == NULL || b->verdict == NF_VERDICT_DROP || b->verdict == NF_VERDICT_REJECT)
        return NULL;
    return ipvs_table_lookup(rs->ipvs, b->pkt.proto, &b->pkt.dst);
}

/* Records b's IPVS step: real server dest (-1: none), branch k of n. */
static void
ipvs_record(NfBranch *b, const IpvsService *svc, gint dest, guint k, guint n, const NfEnv *env)
{
    if (env->no_steps)
        return;
    NfStep s = {.table = NF_TABLE_NAT,
                .chain = "IPVS",
                .nft_choice = -1,
                .ipvs_service = svc,
                .ipvs_dest = dest,
                .ipvs_branch = k,
                .ipvs_branches = n};
    g_array_append_val(b->steps, s);
}

/* ip_vs_schedule() for a trace: one branch per real server of positive weight, with a
 * weight-proportional probability (what rr, wrr, lc... average to over many connections; the
 * step says how the scheduler really chooses), or for sh and dh the one real server the hash
 * gives for this packet; with none, a REJECT (ip_vs_leave(): ICMP port unreachable). The
 * branches go to out; the packet's destination becomes the real server (dnat set, orig_dst
 * kept), as ip_vs_nat_xmit() rewrites it. */
static void
ipvs_fork(const IpvsService *svc, NfBranch *b, NfHook hook, const NfEnv *env, GPtrArray *out)
{
    const IpvsServiceSpec *spec = ipvs_service_spec(svc);
    guint n = ipvs_service_dest_count(svc), usable = 0;
    g_autofree IpvsSchedDest *sd = g_new0(IpvsSchedDest, n + 1);
    guint64 total = 0;
    for (guint i = 0; i < n; i++) {
        ipvs_service_dest(svc, i, NULL, &sd[i].weight);
        total += sd[i].weight;
        usable += sd[i].weight > 0 ? 1 : 0;
    }
    gint only = -1;
    if (spec->sched == IPVS_SCHED_SH || spec->sched == IPVS_SCHED_DH) {
        IpvsSchedState st;
        ipvs_sched_state_init(&st, spec->sched, sd, n);
        only = ipvs_sched_pick(&st, spec->sched, spec->flags, sd, n, &b->pkt);
        usable = only >= 0 ? 1 : 0;
    }
    if (usable == 0) {
        b->verdict = NF_VERDICT_REJECT;
        b->reject_with = "icmp-port-unreachable";
        b->last_hook = hook;
        ipvs_record(b, svc, -1, 1, 1, env);
        g_ptr_array_add(out, b);
        return;
    }
    for (guint i = 0, k = 0; i < n; i++) {
        if (only >= 0 ? (gint)i != only : sd[i].weight == 0)
            continue;
        NfBranch *c = ++k == usable ? b : nf_branch_copy(b);
        if (only < 0)
            c->probability *= (double)sd[i].weight / (double)total;
        if (!c->dnat)
            c->orig_dst = c->pkt.dst;
        c->dnat = TRUE;
        c->ipvs_service = svc;
        ipvs_service_dest(svc, i, &c->pkt.dst, NULL);
        ipvs_record(c, svc, (gint)i, k, usable, env);
        g_ptr_array_add(out, c);
    }
}

/* What follows IPVS at LOCAL_IN for the branches in bs: a real server on this host continues
 * through the rest of LOCAL_IN (nat INPUT); any other leaves as ip_vs_nat_xmit() sends it,
 * through the LOCAL_OUT hooks (filter OUTPUT) and nat POSTROUTING. Results go to out. */
static void
path_ipvs_xmit(const NfRuleset *rs, GPtrArray *bs, const char *iif, const char *out_iface,
               const NfEnv *env, GPtrArray *out)
{
    gsize n = 0;
    gpointer *in = g_ptr_array_steal(bs, &n);
    g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    for (gsize i = 0; i < n; i++) {
        NfBranch *b = in[i];
        g_ptr_array_add(one, b);
        if (b->verdict != NF_VERDICT_REJECT && path_is_local(rs, env, &b->pkt.dst.addr)) {
            path_hook(rs, NF_TABLE_NAT, NF_HOOK_LOCAL_IN, one, iif, NULL, env);
        } else if (b->verdict != NF_VERDICT_REJECT) {
            path_hook(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_OUT, one, NULL, out_iface, env);
            path_hook(rs, NF_TABLE_NAT, NF_HOOK_POST_ROUTING, one, NULL, out_iface, env);
        }
        path_move(one, out);
    }
    g_free(in);
}

/* LOCAL_IN after filter INPUT: IPVS (ip_vs_remote_request4, before nat INPUT) for a branch
 * addressed to a virtual service, else nat INPUT. Results go to out. */
static void
path_local_in(const NfRuleset *rs, GPtrArray *bs, const char *iif, const char *out_iface,
              const NfEnv *env, GPtrArray *out)
{
    gsize n = 0;
    gpointer *in = g_ptr_array_steal(bs, &n);
    g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    for (gsize i = 0; i < n; i++) {
        NfBranch *b = in[i];
        const IpvsService *svc = path_ipvs_service(rs, b);
        if (svc == NULL) {
            g_ptr_array_add(one, b);
            path_hook(rs, NF_TABLE_NAT, NF_HOOK_LOCAL_IN, one, iif, NULL, env);
            path_move(one, out);
        } else {
            ipvs_fork(svc, b, NF_HOOK_LOCAL_IN, env, one);
            path_ipvs_xmit(rs, one, iif, out_iface, env, out);
        }
    }
    g_free(in);
}

/* filter OUTPUT of a host process's packet after nat OUTPUT, with IPVS's LOCAL_OUT hook
 * (ip_vs_local_request4, between nat OUTPUT and filter OUTPUT) first for a branch addressed to
 * a virtual service: filter OUTPUT then sees the real server and its route. */
static void
path_local_out(const NfRuleset *rs, GPtrArray *bs, const char *oif, const char *out_iface,
               const NfEnv *env)
{
    gsize n = 0;
    gpointer *in = g_ptr_array_steal(bs, &n);
    g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    for (gsize i = 0; i < n; i++) {
        NfBranch *b = in[i];
        const IpvsService *svc = path_ipvs_service(rs, b);
        if (svc == NULL)
            g_ptr_array_add(one, b);
        else
            ipvs_fork(svc, b, NF_HOOK_LOCAL_OUT, env, one);
        gsize m = 0;
        gpointer *forks = g_ptr_array_steal(one, &m);
        for (gsize j = 0; j < m; j++) {
            NfBranch *c = forks[j];
            g_ptr_array_add(one, c);
            const char *o = svc != NULL ? path_route(rs, env, &c->pkt.dst.addr, out_iface) : oif;
            path_hook(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_OUT, one, NULL, o, env);
            path_move(one, bs);
        }
        g_free(forks);
    }
    g_free(in);
}

/* Continues branch b after the routing decision that follows nat PREROUTING or OUTPUT, and
 * moves the resulting branches into out. */
static void
path_after_route(const NfRuleset *rs, NfBranch *b, NfOrigin origin, const char *iif,
                 const char *out_iface, const NfEnv *env, GPtrArray *out)
{
    g_autoptr(GPtrArray) bs = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    g_ptr_array_add(bs, b);
    gboolean local = path_is_local(rs, env, &b->pkt.dst.addr);
    const char *oif = local ? "lo" : out_iface;
    if (origin == NF_ORIGIN_LOCAL) {
        path_hook(rs, NF_TABLE_NAT, NF_HOOK_POST_ROUTING, bs, NULL, oif, env);
        if (local)
            path_hook(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_IN, bs, "lo", NULL, env);
    } else if (local) {
        path_hook(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_IN, bs, iif, NULL, env);
        path_local_in(rs, bs, iif, out_iface, env, out);
        return;
    } else {
        path_hook(rs, NF_TABLE_FILTER, NF_HOOK_FORWARD, bs, iif, oif, env);
        path_hook(rs, NF_TABLE_NAT, NF_HOOK_POST_ROUTING, bs, NULL, oif, env);
    }
    path_move(bs, out);
}

GPtrArray *
nf_path_new_connection(const NfRuleset *rs, const SimPacket *pkt, NfOrigin origin, const char *iif,
                       const char *out_iface, const NfEnv *env)
{
    g_return_val_if_fail(rs != NULL && pkt != NULL, NULL);
    static const NfEnv no_env = {0};
    if (env == NULL)
        env = &no_env;
    GPtrArray *out = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    g_autoptr(GPtrArray) first = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    g_ptr_array_add(first, nf_branch_new(pkt));
    if (origin == NF_ORIGIN_LOCAL) {
        const char *oif = path_route(rs, env, &pkt->dst.addr, out_iface);
        path_hook(rs, NF_TABLE_NAT, NF_HOOK_LOCAL_OUT, first, NULL, oif, env);
        if (rs->ipvs != NULL)
            path_local_out(rs, first, oif, out_iface, env);
        else
            path_hook(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_OUT, first, NULL, oif, env);
    } else {
        path_hook(rs, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, first, iif, NULL, env);
    }
    gsize n = 0;
    gpointer *branches = g_ptr_array_steal(first, &n);
    for (gsize i = 0; i < n; i++) {
        NfBranch *b = branches[i];
        if (b->verdict == NF_VERDICT_DROP || b->verdict == NF_VERDICT_REJECT)
            g_ptr_array_add(out, b);
        else
            path_after_route(rs, b, origin, iif, out_iface, env, out);
    }
    g_free(branches);
    return out;
}
