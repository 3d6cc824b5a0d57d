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
 */
#include "sim/netfilter_private.h"

#include "sim/nf_eval.h"
#include "sim/sim_packet.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(nf-error-quark, nf_error)
/* clang-format on */

#define NF_CHAIN_NAME_MAX 28   /* XT_EXTENSION_MAXNAMELEN - 1 */
#define NF_IFNAME_MAX 15       /* IFNAMSIZ - 1 */
#define NF_COMMENT_MAX 255     /* XT_MAX_COMMENT_LEN - 1 */
#define NF_RECENT_NAME_MAX 199 /* XT_RECENT_NAME_LEN - 1 */
#define NF_NFACCT_NAME_MAX 31  /* NFACCT_NAME_MAX - 1 */

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

/* Returns the ruleset's copy of s, shared by every equal string (freed with the ruleset). */
static const char *
nf_intern(NfRuleset *rs, const char *s)
{
    return g_string_chunk_insert_const(rs->strings, s);
}

/* Allocates an empty chain named name (already interned). */
static NfChain *
chain_new(const char *name, gboolean builtin)
{
    NfChain *c = g_new0(NfChain, 1);
    c->name = name;
    c->builtin = builtin;
    c->rules = g_ptr_array_new_with_free_func(g_free);
    return c;
}

/* Frees a chain, its rules and its evaluation index (GDestroyNotify). */
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

void
nf_ruleset_free(NfRuleset *rs)
{
    if (rs == NULL)
        return;
    for (guint t = 0; t < NF_TABLE_COUNT; t++)
        g_hash_table_unref(rs->tables[t].chains);
    g_string_chunk_free(rs->strings);
    g_free(rs->scratch_rule);
    g_array_unref(rs->scratch_matches);
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
static int
chain_hook(const NfRuleset *rs, NfTableId table, const NfChain *c)
{
    for (guint h = 0; h < NF_HOOK_COUNT; h++) {
        if (rs->tables[table].builtin[h] == c)
            return (int)h;
    }
    return -1;
}

/* TRUE when goal can be reached from start by following jumps. Visits each chain once, so the
 * cost is the size of the part of the jump graph below start. */
static gboolean
chain_reaches(NfRuleset *rs, NfTableId table, NfChain *start, const NfChain *goal)
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

/* ------------------------------------------------------------------ the argument parser */

typedef enum {
    OPT_NOT_MINE, /* the option belongs to someone else */
    OPT_DONE,
    OPT_FAILED, /* error is set */
} OptResult;

typedef struct {
    NfRuleset *rs;
    NfTableId table;
    NfChain *chain;
    const char *const *argv;
    guint argc;
    guint next;          /* index of the next unread argument */
    gboolean invert;     /* a "!" waits for the next option */
    gboolean has_target; /* -j was given */
    gboolean proto_used; /* the -p protocol's match was loaded automatically */
    NfRule *rule;        /* the rule so far, without its matches (the ruleset's scratch) */
    GArray *matches;     /* of NfMatch */
    GError **error;
} RuleParser;

static OptResult parser_fail(RuleParser *p, NfError code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Sets the parser's error (prefixed with the chain name) and returns OPT_FAILED. */
static OptResult
parser_fail(RuleParser *p, NfError code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(p->error, NF_ERROR, code, "-A %s: %s", p->chain->name, msg);
    return OPT_FAILED;
}

/* parser_fail() for functions that return a gboolean: sets the error, evaluates to FALSE. */
#define parser_refuse(...) (parser_fail(__VA_ARGS__), FALSE)

/* TRUE when opt is one of the (up to two) spellings given; b may be NULL. */
static gboolean
opt_is(const char *opt, const char *a, const char *b)
{
    return strcmp(opt, a) == 0 || (b != NULL && strcmp(opt, b) == 0);
}

/* Returns the argument of opt and consumes it, or NULL (error set) when it is missing. */
static const char *
parser_value(RuleParser *p, const char *opt)
{
    if (p->next >= p->argc) {
        parser_fail(p, NF_ERROR_PARSE, "option \"%s\" requires an argument", opt);
        return NULL;
    }
    return p->argv[p->next++];
}

/* Takes a pending "!" for opt into *inv; fails when opt cannot be negated. */
static gboolean
parser_take_invert(RuleParser *p, const char *opt, gboolean allowed, gboolean *inv)
{
    *inv = p->invert;
    p->invert = FALSE;
    if (*inv && !allowed) {
        parser_fail(p, NF_ERROR_PARSE, "\"!\" is not allowed before \"%s\"", opt);
        return FALSE;
    }
    return TRUE;
}

/* Like parser_take_invert() for options that cannot be negated. */
static gboolean
parser_no_invert(RuleParser *p, const char *opt)
{
    gboolean inv;
    return parser_take_invert(p, opt, FALSE, &inv);
}

/* Parses an unsigned number in C syntax (decimal, 0x hex, 0 octal) up to max. */
static gboolean
parse_uint(const char *text, guint64 max, guint64 *out)
{
    if (!g_ascii_isdigit(text[0]))
        return FALSE;
    char *end = NULL;
    errno = 0;
    guint64 v = g_ascii_strtoull(text, &end, 0);
    if (errno != 0 || *end != '\0' || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

/* Parses "VALUE[/MASK]" as xtables_parse_mark_mask() does; the mask defaults to all ones. */
static gboolean
parse_mark_mask(const char *text, guint32 *value, guint32 *mask)
{
    g_autofree char *copy = g_strdup(text);
    char *slash = strchr(copy, '/');
    guint64 v, m = G_MAXUINT32;
    if (slash != NULL)
        *slash = '\0';
    if (!parse_uint(copy, G_MAXUINT32, &v))
        return FALSE;
    if (slash != NULL && !parse_uint(slash + 1, G_MAXUINT32, &m))
        return FALSE;
    *value = (guint32)v;
    *mask = (guint32)m;
    return TRUE;
}

/* ---- the IP part: -s -d -p -i -o */

/* Parses -s/-d ADDR[/LEN] into *out. */
static OptResult
parse_addr(RuleParser *p, const char *opt, SimCidr *out, guint16 given, guint16 inv_flag)
{
    gboolean inv;
    if (!parser_take_invert(p, opt, TRUE, &inv))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    if (p->rule->flags & given)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (!sim_cidr_parse(v, out))
        return parser_fail(p, NF_ERROR_PARSE, "invalid address \"%s\" for \"%s\"", v, opt);
    if (out->addr.family != p->rs->family)
        return parser_fail(p, NF_ERROR_PARSE, "address \"%s\" is not IPv%d", v, p->rs->family);
    p->rule->flags |= given | (inv ? inv_flag : 0);
    return OPT_DONE;
}

/* The modelled protocol with IANA number num, if there is one. */
static gboolean
proto_from_number(guint64 num, SimProto *out)
{
    static const SimProto known[] = {SIM_PROTO_ICMP, SIM_PROTO_TCP, SIM_PROTO_UDP, SIM_PROTO_ICMPV6,
                                     SIM_PROTO_SCTP};
    for (gsize i = 0; i < G_N_ELEMENTS(known); i++) {
        if ((guint64)known[i] == num) {
            *out = known[i];
            return TRUE;
        }
    }
    return FALSE;
}

/* Parses -p PROTO ("all" and "0" mean any protocol, as in iptables). */
static OptResult
parse_proto(RuleParser *p, const char *opt)
{
    gboolean inv;
    if (!parser_take_invert(p, opt, TRUE, &inv))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    if (p->rule->flags & NF_RF_PROTO)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (g_ascii_strcasecmp(v, "all") == 0 || strcmp(v, "0") == 0)
        return OPT_DONE; /* the kernel ignores an inverted "all" as well */
    SimProto proto;
    guint64 num;
    gboolean ok =
        parse_uint(v, 255, &num) ? proto_from_number(num, &proto) : sim_proto_parse(v, &proto);
    if (!ok)
        return parser_fail(p, NF_ERROR_UNSUPPORTED, "protocol \"%s\" is not supported", v);
    p->rule->proto = (guint8)proto;
    p->rule->flags |= NF_RF_PROTO | (inv ? NF_RF_INV_PROTO : 0);
    return OPT_DONE;
}

/* Parses -i/-o NAME[+]; the kernel refuses -i on output hooks and -o on input hooks. */
static OptResult
parse_iface(RuleParser *p, const char *opt, gboolean input)
{
    gboolean inv;
    if (!parser_take_invert(p, opt, TRUE, &inv))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    guint16 given = input ? NF_RF_IIF : NF_RF_OIF;
    if (p->rule->flags & given)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    gsize len = strlen(v);
    if (len == 0 || len > NF_IFNAME_MAX || strpbrk(v, "/ \t\n") != NULL)
        return parser_fail(p, NF_ERROR_PARSE, "invalid interface name \"%s\"", v);
    int hook = chain_hook(p->rs, p->table, p->chain);
    gboolean out_hook = hook == NF_HOOK_LOCAL_OUT || hook == NF_HOOK_POST_ROUTING;
    gboolean in_hook = hook == NF_HOOK_PRE_ROUTING || hook == NF_HOOK_LOCAL_IN;
    if ((input && out_hook) || (!input && in_hook))
        return parser_fail(p, NF_ERROR_PARSE, "can't use \"%s\" with %s", opt, p->chain->name);
    gboolean plus = v[len - 1] == '+';
    g_autofree char *name = g_strndup(v, plus ? len - 1 : len);
    p->rule->flags |= given;
    if (inv)
        p->rule->flags |= input ? NF_RF_INV_IIF : NF_RF_INV_OIF;
    if (plus)
        p->rule->flags |= input ? NF_RF_IIF_PLUS : NF_RF_OIF_PLUS;
    *(input ? &p->rule->iif : &p->rule->oif) = nf_intern(p->rs, name);
    return OPT_DONE;
}

/* ---- -m: loading matches */

static const struct {
    const char *name;
    NfMatchKind kind;
} match_names[] = {
    {"comment", NF_MATCH_COMMENT},
    {"tcp", NF_MATCH_TCP},
    {"udp", NF_MATCH_UDP},
    {"sctp", NF_MATCH_SCTP},
    {"addrtype", NF_MATCH_ADDRTYPE},
    {"mark", NF_MATCH_MARK},
    {"statistic", NF_MATCH_STATISTIC},
    {"recent", NF_MATCH_RECENT},
    {"conntrack", NF_MATCH_CONNTRACK},
    {"nfacct", NF_MATCH_NFACCT},
};

/* The name iptables prints after "-m" for a match kind. */
static const char *
match_name(NfMatchKind kind)
{
    for (gsize i = 0; i < G_N_ELEMENTS(match_names); i++) {
        if (match_names[i].kind == kind)
            return match_names[i].name;
    }
    g_assert_not_reached();
}

/* Appends a match of kind with its defaults to the rule being parsed. */
static void
parser_add_match(RuleParser *p, NfMatchKind kind)
{
    NfMatch m = {.kind = (guint8)kind};
    switch (kind) {
    case NF_MATCH_TCP:
    case NF_MATCH_UDP:
    case NF_MATCH_SCTP:
        m.u.ports.sport[1] = m.u.ports.dport[1] = G_MAXUINT16;
        break;
    case NF_MATCH_RECENT:
        m.u.recent.mask.family = (guint8)p->rs->family;
        memset(m.u.recent.mask.b, 0xff, p->rs->family == SIM_AF_INET ? 4 : 16);
        break;
    case NF_MATCH_COMMENT:
    case NF_MATCH_ADDRTYPE:
    case NF_MATCH_MARK:
    case NF_MATCH_STATISTIC:
    case NF_MATCH_CONNTRACK:
    case NF_MATCH_NFACCT:
        break;
    }
    g_array_append_val(p->matches, m);
}

/* Parses -m NAME. */
static OptResult
parse_match_load(RuleParser *p, const char *opt)
{
    if (!parser_no_invert(p, opt))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    if (p->matches->len >= G_MAXUINT8)
        return parser_fail(p, NF_ERROR_PARSE, "too many matches");
    for (gsize i = 0; i < G_N_ELEMENTS(match_names); i++) {
        if (strcmp(v, match_names[i].name) == 0) {
            parser_add_match(p, match_names[i].kind);
            return OPT_DONE;
        }
    }
    return parser_fail(p, NF_ERROR_UNSUPPORTED, "match \"%s\" is not supported", v);
}

/* The port match kind that belongs to a protocol, or -1. */
static int
proto_match_kind(guint8 proto)
{
    switch (proto) {
    case SIM_PROTO_TCP:
        return NF_MATCH_TCP;
    case SIM_PROTO_UDP:
        return NF_MATCH_UDP;
    case SIM_PROTO_SCTP:
        return NF_MATCH_SCTP;
    default:
        return -1; /* a plain protocol number, not our enum */
    }
}

/* Loads the -p protocol's match once, as iptables does for an option no loaded match knows. */
static gboolean
parser_autoload_proto(RuleParser *p)
{
    if (p->proto_used || !(p->rule->flags & NF_RF_PROTO) || (p->rule->flags & NF_RF_INV_PROTO))
        return FALSE;
    int kind = proto_match_kind(p->rule->proto);
    if (kind < 0 || p->matches->len >= G_MAXUINT8)
        return FALSE;
    p->proto_used = TRUE;
    parser_add_match(p, (NfMatchKind)kind);
    return TRUE;
}

/* ---- -j: targets */

static const struct {
    const char *name;
    NfTargetKind kind;
} target_names[] = {
    {"ACCEPT", NF_TARGET_ACCEPT},         {"DROP", NF_TARGET_DROP}, {"RETURN", NF_TARGET_RETURN},
    {"REJECT", NF_TARGET_REJECT},         {"DNAT", NF_TARGET_DNAT}, {"SNAT", NF_TARGET_SNAT},
    {"MASQUERADE", NF_TARGET_MASQUERADE}, {"MARK", NF_TARGET_MARK},
};

/* Targets iptables has but this model does not: they fail as unsupported, not as missing
 * chains. */
static const char *const unsupported_targets[] = {
    "AUDIT",   "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK",    "CONNSECMARK", "CT",
    "DSCP",    "ECN",      "HL",       "HMARK",     "IDLETIMER",   "LED",         "LOG",
    "NETMAP",  "NFLOG",    "NFQUEUE",  "NOTRACK",   "QUEUE",       "RATEEST",     "REDIRECT",
    "SECMARK", "SET",      "SYNPROXY", "TCPMSS",    "TCPOPTSTRIP", "TEE",         "TOS",
    "TPROXY",  "TRACE",    "TTL",      "ULOG",
};

/* The name iptables prints after "-j" for a (non-jump) target kind. */
static const char *
target_name(NfTargetKind kind)
{
    for (gsize i = 0; i < G_N_ELEMENTS(target_names); i++) {
        if (target_names[i].kind == kind)
            return target_names[i].name;
    }
    g_assert_not_reached();
}

/* The table a target is restricted to (x_tables .table), or -1 when any table will do. */
static int
target_table(NfTargetKind kind)
{
    switch (kind) {
    case NF_TARGET_DNAT:
    case NF_TARGET_SNAT:
    case NF_TARGET_MASQUERADE:
        return NF_TABLE_NAT;
    case NF_TARGET_REJECT:
        return NF_TABLE_FILTER;
    case NF_TARGET_NONE:
    case NF_TARGET_JUMP:
    case NF_TARGET_ACCEPT:
    case NF_TARGET_DROP:
    case NF_TARGET_RETURN:
    case NF_TARGET_MARK:
        return -1;
    }
    return -1;
}

/* The hooks a target may run at (x_tables .hooks), as a bit mask over NfHook. */
static guint
target_hooks(NfTargetKind kind)
{
    switch (kind) {
    case NF_TARGET_DNAT:
        return 1u << NF_HOOK_PRE_ROUTING | 1u << NF_HOOK_LOCAL_OUT;
    case NF_TARGET_SNAT:
        return 1u << NF_HOOK_POST_ROUTING | 1u << NF_HOOK_LOCAL_IN;
    case NF_TARGET_MASQUERADE:
        return 1u << NF_HOOK_POST_ROUTING;
    case NF_TARGET_REJECT:
        return 1u << NF_HOOK_LOCAL_IN | 1u << NF_HOOK_FORWARD | 1u << NF_HOOK_LOCAL_OUT;
    case NF_TARGET_NONE:
    case NF_TARGET_JUMP:
    case NF_TARGET_ACCEPT:
    case NF_TARGET_DROP:
    case NF_TARGET_RETURN:
    case NF_TARGET_MARK:
        break;
    }
    return (1u << NF_HOOK_COUNT) - 1;
}

/* Sets the rule's target to the built-in target kind after checking table and hook. */
static OptResult
parser_set_builtin_target(RuleParser *p, const char *name, NfTargetKind kind)
{
    int table = target_table(kind);
    if (table >= 0 && table != (int)p->table)
        return parser_fail(p, NF_ERROR_PARSE, "target %s is only valid in the %s table", name,
                           nf_table_name((NfTableId)table));
    int hook = chain_hook(p->rs, p->table, p->chain);
    if (hook >= 0 && !(target_hooks(kind) & (1u << hook)))
        return parser_fail(p, NF_ERROR_PARSE, "target %s is not valid in chain %s", name,
                           p->chain->name);
    p->rule->target.kind = (guint8)kind;
    if (kind == NF_TARGET_REJECT)
        p->rule->target.name =
            p->rs->family == SIM_AF_INET ? "icmp-port-unreachable" : "icmp6-port-unreachable";
    return OPT_DONE;
}

/* Parses -j TARGET: a built-in target or an existing user chain of the same table. */
static OptResult
parse_jump(RuleParser *p, const char *opt)
{
    if (!parser_no_invert(p, opt))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    if (p->has_target)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    p->has_target = TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(target_names); i++) {
        if (strcmp(v, target_names[i].name) == 0)
            return parser_set_builtin_target(p, v, target_names[i].kind);
    }
    NfChain *c = nf_ruleset_lookup_chain(p->rs, p->table, v);
    if (c != NULL && c->builtin)
        return parser_fail(p, NF_ERROR_PARSE, "cannot jump to built-in chain %s", v);
    if (c != NULL) {
        p->rule->target.kind = NF_TARGET_JUMP;
        p->rule->target.name = c->name;
        p->rule->target.chain = c;
        return OPT_DONE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(unsupported_targets); i++) {
        if (strcmp(v, unsupported_targets[i]) == 0)
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "target %s is not supported", v);
    }
    return parser_fail(p, NF_ERROR_NO_CHAIN, "chain \"%s\" does not exist in table %s", v,
                       nf_table_name(p->table));
}

/* Parses the options of the IP part and -m/-j; OPT_NOT_MINE for everything else. */
static OptResult
parse_ip_option(RuleParser *p, const char *opt)
{
    if (opt_is(opt, "-s", "--source") || opt_is(opt, "--src", NULL))
        return parse_addr(p, opt, &p->rule->src, NF_RF_SRC, NF_RF_INV_SRC);
    if (opt_is(opt, "-d", "--destination") || opt_is(opt, "--dst", NULL))
        return parse_addr(p, opt, &p->rule->dst, NF_RF_DST, NF_RF_INV_DST);
    if (opt_is(opt, "-p", "--protocol"))
        return parse_proto(p, opt);
    if (opt_is(opt, "-i", "--in-interface"))
        return parse_iface(p, opt, TRUE);
    if (opt_is(opt, "-o", "--out-interface"))
        return parse_iface(p, opt, FALSE);
    if (opt_is(opt, "-m", "--match"))
        return parse_match_load(p, opt);
    if (opt_is(opt, "-j", "--jump"))
        return parse_jump(p, opt);
    if (opt_is(opt, "-g", "--goto") || opt_is(opt, "-f", "--fragment") ||
        opt_is(opt, "-c", "--set-counters"))
        return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
    return OPT_NOT_MINE;
}

/* ---- target options */

static const char *const reject_types_v4[][2] = {
    {"icmp-net-unreachable", "net-unreach"},
    {"icmp-host-unreachable", "host-unreach"},
    {"icmp-port-unreachable", "port-unreach"},
    {"icmp-proto-unreachable", "proto-unreach"},
    {"icmp-net-prohibited", "net-prohib"},
    {"icmp-host-prohibited", "host-prohib"},
    {"tcp-reset", "tcp-rst"},
    {"icmp-admin-prohibited", "admin-prohib"},
};
static const char *const reject_types_v6[][2] = {
    {"icmp6-no-route", "no-route"},
    {"icmp6-adm-prohibited", "adm-prohibited"},
    {"icmp6-addr-unreachable", "addr-unreach"},
    {"icmp6-port-unreachable", "port-unreach"},
    {"tcp-reset", "tcp-rst"},
    {"icmp6-policy-fail", "policy-fail"},
    {"icmp6-reject-route", "reject-route"},
};

/* Parses REJECT --reject-with TYPE (either spelling); stores the canonical name. */
static OptResult
parse_reject_option(RuleParser *p, const char *opt)
{
    if (!opt_is(opt, "--reject-with", NULL))
        return OPT_NOT_MINE;
    const char *v;
    if (!parser_no_invert(p, opt) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    gboolean v4 = p->rs->family == SIM_AF_INET;
    gsize n = v4 ? G_N_ELEMENTS(reject_types_v4) : G_N_ELEMENTS(reject_types_v6);
    for (gsize i = 0; i < n; i++) {
        const char *const *t = v4 ? reject_types_v4[i] : reject_types_v6[i];
        if (strcmp(v, t[0]) == 0 || strcmp(v, t[1]) == 0) {
            p->rule->target.name = t[0];
            return OPT_DONE;
        }
    }
    return parser_fail(p, NF_ERROR_PARSE, "unknown reject type \"%s\"", v);
}

/* Whether a NAT address text carries a port ("IP:PORT" or "[IPv6]:PORT"). */
static gboolean
nat_text_has_port(const char *v)
{
    if (v[0] == '[')
        return strstr(v, "]:") != NULL;
    const char *colon = strchr(v, ':');
    return colon != NULL && strchr(colon + 1, ':') == NULL;
}

/* Parses DNAT --to-destination / SNAT --to-source ADDR[:PORT]. */
static OptResult
parse_nat_option(RuleParser *p, const char *opt)
{
    gboolean dnat = p->rule->target.kind == NF_TARGET_DNAT;
    if (!opt_is(opt, dnat ? "--to-destination" : "--to-source", NULL)) {
        if (opt_is(opt, "--random", "--persistent") || opt_is(opt, "--random-fully", NULL))
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
        return OPT_NOT_MINE;
    }
    const char *v;
    if (!parser_no_invert(p, opt) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    if (p->rule->target.flags & NF_TF_SEEN)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    SimSockAddr to;
    if (!sim_sockaddr_parse(v, &to, TRUE) || to.addr.family != p->rs->family)
        return parser_fail(p, NF_ERROR_PARSE, "invalid address \"%s\" for \"%s\"", v, opt);
    /* A port, when given, cannot be 0 (libxt_DNAT: "Port `0' not valid"). */
    gboolean has_port = nat_text_has_port(v);
    if (has_port && to.port == 0)
        return parser_fail(p, NF_ERROR_PARSE, "port 0 is not valid in \"%s\"", v);
    p->rule->target.to = to;
    p->rule->target.flags |= NF_TF_SEEN | (has_port ? NF_TF_PORT : 0);
    return OPT_DONE;
}

/* Parses MASQUERADE --random / --random-fully. */
static OptResult
parse_masquerade_option(RuleParser *p, const char *opt)
{
    guint8 flag = 0;
    if (opt_is(opt, "--random", NULL))
        flag = NF_TF_RANDOM;
    else if (opt_is(opt, "--random-fully", NULL))
        flag = NF_TF_RANDOM_FULLY;
    else if (opt_is(opt, "--to-ports", NULL))
        return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
    else
        return OPT_NOT_MINE;
    if (!parser_no_invert(p, opt))
        return OPT_FAILED;
    p->rule->target.flags |= flag;
    return OPT_DONE;
}

/* Parses the MARK target's options into the kernel's (value, mask) form, as libxt_MARK. */
static OptResult
parse_mark_target_option(RuleParser *p, const char *opt)
{
    static const char *const names[] = {"--set-xmark", "--set-mark", "--and-mark", "--or-mark",
                                        "--xor-mark"};
    gsize which = G_N_ELEMENTS(names);
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(opt, names[i]) == 0)
            which = i;
    }
    if (which == G_N_ELEMENTS(names))
        return OPT_NOT_MINE;
    const char *v;
    if (!parser_no_invert(p, opt) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    if (p->rule->target.flags & NF_TF_SEEN)
        return parser_fail(p, NF_ERROR_PARSE,
                           "MARK takes only one of --set-xmark, --set-mark, "
                           "--and-mark, --or-mark, --xor-mark");
    guint32 value, mask;
    gboolean ok = which <= 1 ? parse_mark_mask(v, &value, &mask)
                             : parse_mark_mask(v, &value, &mask) && mask == G_MAXUINT32 &&
                                   strchr(v, '/') == NULL;
    if (!ok)
        return parser_fail(p, NF_ERROR_PARSE, "invalid mark \"%s\" for \"%s\"", v, opt);
    NfTarget *t = &p->rule->target;
    t->flags |= NF_TF_SEEN;
    switch (which) {
    case 0: /* --set-xmark V/M */
        t->value = value, t->mask = mask;
        break;
    case 1: /* --set-mark V/M: zero the bits of M and V, then set V */
        t->value = value, t->mask = value | mask;
        break;
    case 2: /* --and-mark V */
        t->value = 0, t->mask = ~value;
        break;
    case 3: /* --or-mark V */
        t->value = value, t->mask = value;
        break;
    default: /* --xor-mark V */
        t->value = value, t->mask = 0;
        break;
    }
    return OPT_DONE;
}

/* Parses an option of the rule's target, if it has one. */
static OptResult
parse_target_option(RuleParser *p, const char *opt)
{
    switch ((NfTargetKind)p->rule->target.kind) {
    case NF_TARGET_REJECT:
        return parse_reject_option(p, opt);
    case NF_TARGET_DNAT:
    case NF_TARGET_SNAT:
        return parse_nat_option(p, opt);
    case NF_TARGET_MASQUERADE:
        return parse_masquerade_option(p, opt);
    case NF_TARGET_MARK:
        return parse_mark_target_option(p, opt);
    case NF_TARGET_NONE:
    case NF_TARGET_JUMP:
    case NF_TARGET_ACCEPT:
    case NF_TARGET_DROP:
    case NF_TARGET_RETURN:
        break;
    }
    return OPT_NOT_MINE;
}

/* ---- match options */

/* Parses a port or an inclusive range "LOW:HIGH" (either side may be empty) into r. */
static gboolean
parse_port_range(const char *text, guint16 r[2])
{
    g_autofree char *copy = g_strdup(text);
    char *colon = strchr(copy, ':');
    guint64 lo, hi;
    if (colon == NULL) {
        if (!parse_uint(copy, G_MAXUINT16, &lo))
            return FALSE;
        r[0] = r[1] = (guint16)lo;
        return TRUE;
    }
    *colon = '\0';
    lo = 0;
    hi = G_MAXUINT16;
    if (copy[0] != '\0' && !parse_uint(copy, G_MAXUINT16, &lo))
        return FALSE;
    if (colon[1] != '\0' && !parse_uint(colon + 1, G_MAXUINT16, &hi))
        return FALSE;
    if (lo > hi)
        return FALSE;
    r[0] = (guint16)lo;
    r[1] = (guint16)hi;
    return TRUE;
}

/* tcp/udp/sctp: [!] --sport, [!] --dport (and their long spellings). */
static OptResult
parse_ports_option(RuleParser *p, NfMatch *m, const char *opt)
{
    gboolean sport = opt_is(opt, "--sport", "--source-port");
    if (!sport && !opt_is(opt, "--dport", "--destination-port")) {
        if (opt_is(opt, "--tcp-flags", "--syn") || opt_is(opt, "--tcp-option", "--chunk-types"))
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
        return OPT_NOT_MINE;
    }
    gboolean inv;
    const char *v;
    if (!parser_take_invert(p, opt, TRUE, &inv) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    guint8 given = sport ? NF_MF_SPORT : NF_MF_DPORT;
    if (m->flags & given)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (!parse_port_range(v, sport ? m->u.ports.sport : m->u.ports.dport))
        return parser_fail(p, NF_ERROR_PARSE, "invalid port \"%s\" for \"%s\"", v, opt);
    m->flags |= given;
    if (inv)
        m->flags |= sport ? NF_MF_INV_SPORT : NF_MF_INV_DPORT;
    return OPT_DONE;
}

static const char *const addrtype_names[] = {
    "UNSPEC",    "UNICAST",     "LOCAL",    "BROADCAST", "ANYCAST", "MULTICAST",
    "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW",     "NAT",     "XRESOLVE",
};

/* Parses a comma list of address types; only LOCAL is modelled. */
static OptResult
parse_addrtype_list(RuleParser *p, const char *v, guint16 *out)
{
    g_auto(GStrv) words = g_strsplit(v, ",", -1);
    for (guint i = 0; words[i] != NULL; i++) {
        gsize k = 0;
        while (k < G_N_ELEMENTS(addrtype_names) &&
               g_ascii_strcasecmp(words[i], addrtype_names[k]) != 0)
            k++;
        if (k == G_N_ELEMENTS(addrtype_names))
            return parser_fail(p, NF_ERROR_PARSE, "unknown address type \"%s\"", words[i]);
        if ((1u << k) != NF_ADDRTYPE_LOCAL)
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "address type %s is not supported",
                               addrtype_names[k]);
        *out |= (guint16)(1u << k);
    }
    return OPT_DONE;
}

/* addrtype: [!] --src-type T, [!] --dst-type T. */
static OptResult
parse_addrtype_option(RuleParser *p, NfMatch *m, const char *opt)
{
    gboolean src = opt_is(opt, "--src-type", NULL);
    if (!src && !opt_is(opt, "--dst-type", NULL)) {
        if (opt_is(opt, "--limit-iface-in", "--limit-iface-out"))
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
        return OPT_NOT_MINE;
    }
    gboolean inv;
    const char *v;
    if (!parser_take_invert(p, opt, TRUE, &inv) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    guint8 given = src ? NF_MF_SRC_TYPE : NF_MF_DST_TYPE;
    if (m->flags & given)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (parse_addrtype_list(p, v, src ? &m->u.addrtype.src : &m->u.addrtype.dst) != OPT_DONE)
        return OPT_FAILED;
    m->flags |= given;
    if (inv)
        m->flags |= src ? NF_MF_INV_SRC_TYPE : NF_MF_INV_DST_TYPE;
    return OPT_DONE;
}

/* comment: --comment TEXT. */
static OptResult
parse_comment_option(RuleParser *p, NfMatch *m, const char *opt)
{
    if (!opt_is(opt, "--comment", NULL))
        return OPT_NOT_MINE;
    const char *v;
    if (!parser_no_invert(p, opt) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    if (m->flags & NF_MF_GIVEN)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (strlen(v) > NF_COMMENT_MAX)
        return parser_fail(p, NF_ERROR_PARSE, "comment may not exceed %d characters",
                           NF_COMMENT_MAX);
    m->u.comment = nf_intern(p->rs, v);
    m->flags |= NF_MF_GIVEN;
    return OPT_DONE;
}

/* mark: [!] --mark VALUE[/MASK]. */
static OptResult
parse_mark_option(RuleParser *p, NfMatch *m, const char *opt)
{
    if (!opt_is(opt, "--mark", NULL))
        return OPT_NOT_MINE;
    gboolean inv;
    const char *v;
    if (!parser_take_invert(p, opt, TRUE, &inv) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    if (m->flags & NF_MF_GIVEN)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (!parse_mark_mask(v, &m->u.mark.value, &m->u.mark.mask))
        return parser_fail(p, NF_ERROR_PARSE, "invalid mark \"%s\"", v);
    m->flags |= NF_MF_GIVEN | (inv ? NF_MF_INVERT : 0);
    return OPT_DONE;
}

/* statistic: --mode random, [!] --probability P (stored as the kernel's 31-bit fraction). */
static OptResult
parse_statistic_option(RuleParser *p, NfMatch *m, const char *opt)
{
    gboolean mode = opt_is(opt, "--mode", NULL);
    if (!mode && !opt_is(opt, "--probability", NULL)) {
        if (opt_is(opt, "--every", "--packet"))
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
        return OPT_NOT_MINE;
    }
    gboolean inv;
    const char *v;
    if (!parser_take_invert(p, opt, !mode, &inv) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    guint8 given = mode ? NF_MF_MODE : NF_MF_GIVEN;
    if (m->flags & given)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    m->flags |= given | (inv ? NF_MF_INVERT : 0);
    if (mode && strcmp(v, "nth") == 0)
        return parser_fail(p, NF_ERROR_UNSUPPORTED, "statistic mode nth is not supported");
    if (mode)
        return strcmp(v, "random") == 0 ? OPT_DONE
                                        : parser_fail(p, NF_ERROR_PARSE, "bad mode \"%s\"", v);
    char *end = NULL;
    double prob = g_ascii_strtod(v, &end);
    if (end == v || *end != '\0' || !(prob >= 0.0 && prob <= 1.0))
        return parser_fail(p, NF_ERROR_PARSE, "invalid probability \"%s\"", v);
    m->u.probability = (guint32)lround(2147483648.0 * prob);
    return OPT_DONE;
}

/* recent: the options without a value ([!] --set, [!] --rcheck, --reap, --rsource, --rdest). */
static OptResult
parse_recent_flag(RuleParser *p, NfMatch *m, const char *opt)
{
    gboolean mode = opt_is(opt, "--set", "--rcheck");
    gboolean inv;
    if (!parser_take_invert(p, opt, mode, &inv))
        return OPT_FAILED;
    if (mode && (m->flags & (NF_MF_SET | NF_MF_RCHECK)))
        return parser_fail(p, NF_ERROR_PARSE, "recent takes only one of --set, --rcheck");
    if (mode) {
        m->flags |= (opt_is(opt, "--set", NULL) ? NF_MF_SET : NF_MF_RCHECK);
        m->flags |= inv ? NF_MF_INVERT : 0;
    } else if (opt_is(opt, "--reap", NULL)) {
        m->u.recent.reap = TRUE;
    } else {
        if (m->flags & NF_MF_SIDE)
            return parser_fail(p, NF_ERROR_PARSE, "recent takes only one of --rsource, --rdest");
        m->flags |= NF_MF_SIDE | (opt_is(opt, "--rdest", NULL) ? NF_MF_RDEST : 0);
    }
    return OPT_DONE;
}

/* recent: the options with a value (--name N, --seconds S, --mask M). */
static OptResult
parse_recent_value(RuleParser *p, NfMatch *m, const char *opt)
{
    const char *v;
    if (!parser_no_invert(p, opt) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    guint8 given = opt_is(opt, "--name", NULL)      ? NF_MF_NAME
                   : opt_is(opt, "--seconds", NULL) ? NF_MF_SECONDS
                                                    : NF_MF_MASK;
    if (m->flags & given)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    m->flags |= given;
    guint64 seconds;
    switch (given) {
    case NF_MF_NAME:
        if (v[0] == '\0' || strlen(v) > NF_RECENT_NAME_MAX)
            return parser_fail(p, NF_ERROR_PARSE, "invalid recent list name \"%s\"", v);
        m->u.recent.name = nf_intern(p->rs, v);
        return OPT_DONE;
    case NF_MF_SECONDS:
        if (!parse_uint(v, G_MAXUINT32, &seconds))
            return parser_fail(p, NF_ERROR_PARSE, "invalid number of seconds \"%s\"", v);
        m->u.recent.seconds = (guint32)seconds;
        return OPT_DONE;
    default:
        if (!sim_addr_parse(v, &m->u.recent.mask) || m->u.recent.mask.family != p->rs->family)
            return parser_fail(p, NF_ERROR_PARSE, "invalid mask \"%s\"", v);
        return OPT_DONE;
    }
}

/* recent: dispatches to the flag and value options; --update and friends are not modelled. */
static OptResult
parse_recent_option(RuleParser *p, NfMatch *m, const char *opt)
{
    if (opt_is(opt, "--set", "--rcheck") || opt_is(opt, "--reap", NULL) ||
        opt_is(opt, "--rsource", "--rdest"))
        return parse_recent_flag(p, m, opt);
    if (opt_is(opt, "--name", "--seconds") || opt_is(opt, "--mask", NULL))
        return parse_recent_value(p, m, opt);
    if (opt_is(opt, "--update", "--remove") || opt_is(opt, "--hitcount", "--rttl"))
        return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
    return OPT_NOT_MINE;
}

/* conntrack state names in the order of their NF_CT_* bits (and of iptables-save). */
static const char *const ctstate_names[] = {
    "INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT",
};

/* conntrack: [!] --ctstate S[,S...]; the other --ct* options are not modelled. */
static OptResult
parse_conntrack_option(RuleParser *p, NfMatch *m, const char *opt)
{
    if (!opt_is(opt, "--ctstate", NULL)) {
        if (g_str_has_prefix(opt, "--ct"))
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
        return OPT_NOT_MINE;
    }
    gboolean inv;
    const char *v;
    if (!parser_take_invert(p, opt, TRUE, &inv) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    if (m->flags & NF_MF_GIVEN)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    g_auto(GStrv) words = g_strsplit(v, ",", -1);
    for (guint i = 0; words[i] != NULL; i++) {
        gsize k = 0;
        while (k < G_N_ELEMENTS(ctstate_names) &&
               g_ascii_strcasecmp(words[i], ctstate_names[k]) != 0)
            k++;
        if (k == G_N_ELEMENTS(ctstate_names))
            return parser_fail(p, NF_ERROR_PARSE, "bad ctstate \"%s\"", words[i]);
        m->u.ctstate |= 1u << k;
    }
    m->flags |= NF_MF_GIVEN | (inv ? NF_MF_INVERT : 0);
    return OPT_DONE;
}

/* nfacct: --nfacct-name N. */
static OptResult
parse_nfacct_option(RuleParser *p, NfMatch *m, const char *opt)
{
    if (!opt_is(opt, "--nfacct-name", NULL))
        return OPT_NOT_MINE;
    const char *v;
    if (!parser_no_invert(p, opt) || (v = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    if (m->flags & NF_MF_GIVEN)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (v[0] == '\0' || strlen(v) > NF_NFACCT_NAME_MAX)
        return parser_fail(p, NF_ERROR_PARSE, "invalid nfacct name \"%s\"", v);
    m->u.nfacct = nf_intern(p->rs, v);
    m->flags |= NF_MF_GIVEN;
    return OPT_DONE;
}

/* Offers opt to match m. */
static OptResult
parse_match_option(RuleParser *p, NfMatch *m, const char *opt)
{
    switch ((NfMatchKind)m->kind) {
    case NF_MATCH_COMMENT:
        return parse_comment_option(p, m, opt);
    case NF_MATCH_TCP:
    case NF_MATCH_UDP:
    case NF_MATCH_SCTP:
        return parse_ports_option(p, m, opt);
    case NF_MATCH_ADDRTYPE:
        return parse_addrtype_option(p, m, opt);
    case NF_MATCH_MARK:
        return parse_mark_option(p, m, opt);
    case NF_MATCH_STATISTIC:
        return parse_statistic_option(p, m, opt);
    case NF_MATCH_RECENT:
        return parse_recent_option(p, m, opt);
    case NF_MATCH_CONNTRACK:
        return parse_conntrack_option(p, m, opt);
    case NF_MATCH_NFACCT:
        return parse_nfacct_option(p, m, opt);
    }
    return OPT_NOT_MINE;
}

/* Parses one option: the IP part, then the target's options, then the loaded matches' (most
 * recent first), then the protocol's match loaded on demand. */
static OptResult
parse_option(RuleParser *p, const char *opt)
{
    OptResult r = parse_ip_option(p, opt);
    if (r == OPT_NOT_MINE)
        r = parse_target_option(p, opt);
    for (guint i = p->matches->len; r == OPT_NOT_MINE && i > 0; i--)
        r = parse_match_option(p, &g_array_index(p->matches, NfMatch, i - 1), opt);
    if (r == OPT_NOT_MINE && parser_autoload_proto(p))
        r = parse_match_option(p, &g_array_index(p->matches, NfMatch, p->matches->len - 1), opt);
    if (r == OPT_NOT_MINE)
        r = parser_fail(p, NF_ERROR_PARSE, "unknown option \"%s\"", opt);
    return r;
}

/* Checks that a match has its mandatory options and, for port matches, its protocol. */
static gboolean
parser_check_match(RuleParser *p, const NfMatch *m)
{
    const char *name = match_name((NfMatchKind)m->kind);
    const char *missing = NULL;
    switch ((NfMatchKind)m->kind) {
    case NF_MATCH_TCP:
    case NF_MATCH_UDP:
    case NF_MATCH_SCTP:
        if (!(p->rule->flags & NF_RF_PROTO) || (p->rule->flags & NF_RF_INV_PROTO) ||
            proto_match_kind(p->rule->proto) != m->kind)
            return parser_refuse(p, NF_ERROR_PARSE, "match %s needs \"-p %s\"", name, name);
        return TRUE;
    case NF_MATCH_ADDRTYPE:
        missing = m->flags & (NF_MF_SRC_TYPE | NF_MF_DST_TYPE) ? NULL : "--src-type or --dst-type";
        break;
    case NF_MATCH_STATISTIC:
        missing = m->flags & NF_MF_MODE ? NULL : "--mode";
        break;
    case NF_MATCH_RECENT:
        missing = m->flags & (NF_MF_SET | NF_MF_RCHECK) ? NULL : "--set or --rcheck";
        if (m->u.recent.seconds != 0 && !(m->flags & NF_MF_RCHECK))
            return parser_refuse(p, NF_ERROR_PARSE, "recent: --seconds needs --rcheck");
        if (m->u.recent.reap && m->u.recent.seconds == 0)
            return parser_refuse(p, NF_ERROR_PARSE, "recent: --reap needs --seconds");
        break;
    case NF_MATCH_COMMENT:
        missing = m->flags & NF_MF_GIVEN ? NULL : "--comment";
        break;
    case NF_MATCH_MARK:
        missing = m->flags & NF_MF_GIVEN ? NULL : "--mark";
        break;
    case NF_MATCH_CONNTRACK:
        missing = m->flags & NF_MF_GIVEN ? NULL : "--ctstate";
        break;
    case NF_MATCH_NFACCT:
        missing = m->flags & NF_MF_GIVEN ? NULL : "--nfacct-name";
        break;
    }
    if (missing != NULL)
        return parser_refuse(p, NF_ERROR_PARSE, "match %s needs %s", name, missing);
    return TRUE;
}

/* TRUE when the rule matches exactly one of the port protocols, not inverted. */
static gboolean
rule_has_port_proto(const NfRule *r)
{
    return (r->flags & NF_RF_PROTO) && !(r->flags & NF_RF_INV_PROTO) &&
           proto_match_kind(r->proto) >= 0;
}

/* Checks the target's mandatory options and refuses jumps that would close a loop. */
static gboolean
parser_check_target(RuleParser *p)
{
    const NfTarget *t = &p->rule->target;
    switch ((NfTargetKind)t->kind) {
    case NF_TARGET_DNAT:
    case NF_TARGET_SNAT:
        if (!(t->flags & NF_TF_SEEN))
            return parser_refuse(p, NF_ERROR_PARSE, "target %s needs %s", target_name(t->kind),
                                 t->kind == NF_TARGET_DNAT ? "--to-destination" : "--to-source");
        if ((t->flags & NF_TF_PORT) && !rule_has_port_proto(p->rule))
            return parser_refuse(p, NF_ERROR_PARSE, "a NAT port needs -p tcp, udp or sctp");
        return TRUE;
    case NF_TARGET_MARK:
        if (!(t->flags & NF_TF_SEEN))
            return parser_refuse(p, NF_ERROR_PARSE,
                                 "target MARK needs --set-xmark, --set-mark, "
                                 "--and-mark, --or-mark or --xor-mark");
        return TRUE;
    case NF_TARGET_REJECT:
        if (strcmp(t->name, "tcp-reset") == 0 &&
            !(rule_has_port_proto(p->rule) && p->rule->proto == SIM_PROTO_TCP))
            return parser_refuse(p, NF_ERROR_PARSE, "--reject-with tcp-reset needs -p tcp");
        return TRUE;
    case NF_TARGET_JUMP:
        /* A loop needs a way back into this chain, so only chains something jumps to can
         * close one; for those, search the jump graph below the target. */
        if (t->chain == p->chain ||
            (p->chain->refs > 0 && chain_reaches(p->rs, p->table, t->chain, p->chain)))
            return parser_refuse(p, NF_ERROR_PARSE, "jump to %s would create a loop",
                                 t->chain->name);
        return TRUE;
    case NF_TARGET_NONE:
    case NF_TARGET_ACCEPT:
    case NF_TARGET_DROP:
    case NF_TARGET_RETURN:
    case NF_TARGET_MASQUERADE:
        return TRUE;
    }
    return TRUE;
}

/* Parses every argument, then checks the rule as a whole. */
static gboolean
parser_run(RuleParser *p)
{
    while (p->next < p->argc) {
        const char *arg = p->argv[p->next++];
        if (strcmp(arg, "!") == 0) {
            if (p->invert)
                return parser_refuse(p, NF_ERROR_PARSE, "multiple \"!\" in a row");
            p->invert = TRUE;
        } else if (arg[0] != '-' || arg[1] == '\0') {
            return parser_refuse(p, NF_ERROR_PARSE, "unexpected argument \"%s\"", arg);
        } else if (parse_option(p, arg) == OPT_FAILED) {
            return FALSE;
        }
    }
    if (p->invert)
        return parser_refuse(p, NF_ERROR_PARSE, "\"!\" without an option after it");
    for (guint i = 0; i < p->matches->len; i++) {
        if (!parser_check_match(p, &g_array_index(p->matches, NfMatch, i)))
            return FALSE;
    }
    return parser_check_target(p);
}

/* Copies the parsed rule into its final allocation and appends it to the chain. */
static void
parser_commit(RuleParser *p)
{
    guint n = p->matches->len;
    NfRule *r = g_malloc(sizeof(NfRule) + n * sizeof(NfMatch));
    memcpy(r, p->rule, sizeof(NfRule));
    r->n_matches = (guint8)n;
    if (n > 0)
        memcpy(r->matches, p->matches->data, n * sizeof(NfMatch));
    g_ptr_array_add(p->chain->rules, r);
    nf_chain_index_free(g_steal_pointer(&p->chain->index));
    if (r->target.kind == NF_TARGET_JUMP)
        r->target.chain->refs++;
    p->rs->tables[p->table].rule_count++;
}

gboolean
nf_ruleset_append_argv(NfRuleset *rs, NfTableId table, const char *chain, const char *const *argv,
                       guint argc, GError **error)
{
    g_return_val_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && chain != NULL, FALSE);
    g_return_val_if_fail(argv != NULL || argc == 0, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    for (guint i = 0; i < argc; i++)
        g_return_val_if_fail(argv[i] != NULL, FALSE);
    NfChain *c = nf_ruleset_lookup_chain(rs, table, chain);
    if (c == NULL) {
        g_set_error(error, NF_ERROR, NF_ERROR_NO_CHAIN, "chain \"%s\" does not exist in table %s",
                    chain, nf_table_name(table));
        return FALSE;
    }
    RuleParser p = {.rs = rs, .table = table, .chain = c, .argv = argv, .argc = argc};
    p.error = error;
    p.rule = rs->scratch_rule;
    memset(p.rule, 0, sizeof(NfRule));
    p.rule->chain = c->name;
    p.rule->family = (guint8)rs->family;
    p.matches = rs->scratch_matches;
    g_array_set_size(p.matches, 0);
    gboolean ok = parser_run(&p);
    if (ok)
        parser_commit(&p);
    return ok;
}

gboolean
nf_ruleset_append(NfRuleset *rs, NfTableId table, const char *chain, GError **error, ...)
{
    const char *stack_args[64];
    g_autoptr(GPtrArray) heap_args = NULL;
    guint argc = 0;
    va_list ap;
    va_start(ap, error);
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
        if (argc == G_N_ELEMENTS(stack_args)) {
            heap_args = g_ptr_array_new();
            for (guint i = 0; i < argc; i++)
                g_ptr_array_add(heap_args, (gpointer)stack_args[i]);
        }
        if (heap_args != NULL)
            g_ptr_array_add(heap_args, (gpointer)a);
        else
            stack_args[argc] = a;
        argc++;
    }
    va_end(ap);
    const char *const *argv =
        heap_args != NULL ? (const char *const *)heap_args->pdata : stack_args;
    return nf_ruleset_append_argv(rs, table, chain, argv, argc, error);
}

/* ------------------------------------------------------------------ iptables-save output */

/* Appends " VALUE" as xtables_save_string() prints it: bare when the value is non-empty and
 * only has [A-Za-z0-9_-], otherwise in double quotes with ", \ and ' escaped. */
static void
save_string(GString *out, const char *s)
{
    static const char bare[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    gsize n = strspn(s, bare);
    g_string_append_c(out, ' ');
    if (n > 0 && s[n] == '\0') {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\' || *c == '\'')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *c);
    }
    g_string_append_c(out, '"');
}

/* Appends " [!] -s ADDR/LEN"; a /0 that is not negated prints nothing, as in iptables. */
static void
save_cidr(GString *out, const char *opt, const SimCidr *c, gboolean inv)
{
    if (c->prefix == 0 && !inv)
        return;
    char buf[SIM_CIDR_STRLEN];
    g_string_append_printf(out, "%s %s %s", inv ? " !" : "", opt, sim_cidr_to_string(c, buf));
}

/* Appends " [!] -i NAME[+]"; a bare "+" matches every interface and prints nothing. */
static void
save_iface(GString *out, char letter, const char *name, gboolean plus, gboolean inv)
{
    if (name[0] == '\0' && plus)
        return;
    g_string_append_printf(out, "%s -%c %s%s", inv ? " !" : "", letter, name, plus ? "+" : "");
}

/* Appends " [!] --sport LOW[:HIGH]". */
static void
save_port(GString *out, const char *opt, const guint16 r[2], gboolean inv)
{
    g_string_append_printf(out, "%s %s %u", inv ? " !" : "", opt, (guint)r[0]);
    if (r[0] != r[1])
        g_string_append_printf(out, ":%u", (guint)r[1]);
}

/* Appends the options of a tcp, udp or sctp match. tcp and udp print a port when its range is
 * not 0:65535; sctp prints the ports that were given. */
static void
save_ports(GString *out, const NfMatch *m)
{
    gboolean sctp = m->kind == NF_MATCH_SCTP;
    const guint16 *sp = m->u.ports.sport, *dp = m->u.ports.dport;
    if (sctp ? (m->flags & NF_MF_SPORT) != 0 : sp[0] != 0 || sp[1] != G_MAXUINT16)
        save_port(out, "--sport", sp, m->flags & NF_MF_INV_SPORT);
    if (sctp ? (m->flags & NF_MF_DPORT) != 0 : dp[0] != 0 || dp[1] != G_MAXUINT16)
        save_port(out, "--dport", dp, m->flags & NF_MF_INV_DPORT);
}

/* Appends " [!] --src-type T[,T]" for one side of an addrtype match. */
static void
save_addrtype(GString *out, const char *opt, guint16 types, gboolean inv)
{
    g_string_append_printf(out, "%s %s ", inv ? " !" : "", opt);
    const char *sep = "";
    for (gsize k = 0; k < G_N_ELEMENTS(addrtype_names); k++) {
        if (types & (1u << k)) {
            g_string_append_printf(out, "%s%s", sep, addrtype_names[k]);
            sep = ",";
        }
    }
}

/* Appends a recent match's options in libxt_recent's save order. */
static void
save_recent(GString *out, const NfMatch *m)
{
    char mask[SIM_ADDR_STRLEN];
    if (m->flags & NF_MF_INVERT)
        g_string_append(out, " !");
    g_string_append(out, m->flags & NF_MF_SET ? " --set" : " --rcheck");
    if (m->u.recent.seconds != 0)
        g_string_append_printf(out, " --seconds %u", m->u.recent.seconds);
    if (m->u.recent.reap)
        g_string_append(out, " --reap");
    g_string_append_printf(out, " --name %s",
                           m->u.recent.name != NULL ? m->u.recent.name : "DEFAULT");
    g_string_append_printf(out, " --mask %s", sim_addr_to_string(&m->u.recent.mask, mask));
    g_string_append(out, m->flags & NF_MF_RDEST ? " --rdest" : " --rsource");
}

/* Appends " --ctstate A,B" with the states in the kernel's bit order. */
static void
save_ctstate(GString *out, guint32 states, gboolean inv)
{
    g_string_append_printf(out, "%s --ctstate ", inv ? " !" : "");
    const char *sep = "";
    for (gsize k = 0; k < G_N_ELEMENTS(ctstate_names); k++) {
        if (states & (1u << k)) {
            g_string_append_printf(out, "%s%s", sep, ctstate_names[k]);
            sep = ",";
        }
    }
}

/* Appends " --mark 0xV[/0xM]" as print_mark() does (no mask when it is all ones). */
static void
save_mark_value(GString *out, guint32 value, guint32 mask)
{
    if (mask != G_MAXUINT32)
        g_string_append_printf(out, " 0x%x/0x%x", value, mask);
    else
        g_string_append_printf(out, " 0x%x", value);
}

/* Appends " -m NAME" and the match's options in the extension's own order. */
static void
save_match(GString *out, const NfMatch *m)
{
    gboolean inv = (m->flags & NF_MF_INVERT) != 0;
    char prob[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf(out, " -m %s", match_name((NfMatchKind)m->kind));
    switch ((NfMatchKind)m->kind) {
    case NF_MATCH_COMMENT:
        g_string_append(out, " --comment");
        save_string(out, m->u.comment);
        break;
    case NF_MATCH_TCP:
    case NF_MATCH_UDP:
    case NF_MATCH_SCTP:
        save_ports(out, m);
        break;
    case NF_MATCH_ADDRTYPE:
        if (m->flags & NF_MF_SRC_TYPE)
            save_addrtype(out, "--src-type", m->u.addrtype.src, m->flags & NF_MF_INV_SRC_TYPE);
        if (m->flags & NF_MF_DST_TYPE)
            save_addrtype(out, "--dst-type", m->u.addrtype.dst, m->flags & NF_MF_INV_DST_TYPE);
        break;
    case NF_MATCH_MARK:
        g_string_append(out, inv ? " ! --mark" : " --mark");
        save_mark_value(out, m->u.mark.value, m->u.mark.mask);
        break;
    case NF_MATCH_STATISTIC:
        g_ascii_formatd(prob, sizeof prob, "%.11f", m->u.probability / 2147483648.0);
        g_string_append_printf(out, " --mode random%s --probability %s", inv ? " !" : "", prob);
        break;
    case NF_MATCH_RECENT:
        save_recent(out, m);
        break;
    case NF_MATCH_CONNTRACK:
        save_ctstate(out, m->u.ctstate, inv);
        break;
    case NF_MATCH_NFACCT:
        g_string_append(out, " --nfacct-name");
        save_string(out, m->u.nfacct);
        break;
    }
}

/* Appends " -j TARGET" and its options as the target's save function prints them. */
static void
save_target(GString *out, const NfRule *r)
{
    const NfTarget *t = &r->target;
    char to[SIM_SOCKADDR_STRLEN];
    switch ((NfTargetKind)t->kind) {
    case NF_TARGET_NONE:
        return;
    case NF_TARGET_JUMP:
        g_string_append_printf(out, " -j %s", t->name);
        return;
    case NF_TARGET_ACCEPT:
    case NF_TARGET_DROP:
    case NF_TARGET_RETURN:
        g_string_append_printf(out, " -j %s", target_name(t->kind));
        return;
    case NF_TARGET_REJECT:
        g_string_append_printf(out, " -j REJECT --reject-with %s", t->name);
        return;
    case NF_TARGET_DNAT:
    case NF_TARGET_SNAT:
        if (t->flags & NF_TF_PORT)
            sim_sockaddr_to_string(&t->to, to);
        else
            sim_addr_to_string(&t->to.addr, to);
        g_string_append_printf(out, " -j %s %s %s", target_name(t->kind),
                               t->kind == NF_TARGET_DNAT ? "--to-destination" : "--to-source", to);
        return;
    case NF_TARGET_MASQUERADE:
        g_string_append(out, " -j MASQUERADE");
        g_string_append(out, t->flags & NF_TF_RANDOM ? " --random" : "");
        g_string_append(out, t->flags & NF_TF_RANDOM_FULLY ? " --random-fully" : "");
        return;
    case NF_TARGET_MARK:
        g_string_append_printf(out, " -j MARK --set-xmark 0x%x/0x%x", t->value, t->mask);
        return;
    }
}

void
nf_rule_format(const NfRule *r, GString *out)
{
    g_return_if_fail(r != NULL && out != NULL);
    guint16 f = r->flags;
    g_string_append_printf(out, "-A %s", r->chain);
    if (f & NF_RF_SRC)
        save_cidr(out, "-s", &r->src, f & NF_RF_INV_SRC);
    if (f & NF_RF_DST)
        save_cidr(out, "-d", &r->dst, f & NF_RF_INV_DST);
    if (f & NF_RF_IIF)
        save_iface(out, 'i', r->iif, f & NF_RF_IIF_PLUS, f & NF_RF_INV_IIF);
    if (f & NF_RF_OIF)
        save_iface(out, 'o', r->oif, f & NF_RF_OIF_PLUS, f & NF_RF_INV_OIF);
    if (f & NF_RF_PROTO)
        g_string_append_printf(out, "%s -p %s", f & NF_RF_INV_PROTO ? " !" : "",
                               sim_proto_name((SimProto)r->proto));
    for (guint i = 0; i < r->n_matches; i++)
        save_match(out, &r->matches[i]);
    save_target(out, r);
}

/* Compares chains by name with strcmp(), the order libiptc keeps user chains in. */
static gint
chain_name_cmp(gconstpointer a, gconstpointer b)
{
    const NfChain *x = *(const NfChain *const *)a, *y = *(const NfChain *const *)b;
    return strcmp(x->name, y->name);
}

/* Appends every rule of c, one line each. */
static void
save_chain_rules(GString *out, const NfChain *c)
{
    for (guint i = 0; i < c->rules->len; i++) {
        nf_rule_format(g_ptr_array_index(c->rules, i), out);
        g_string_append_c(out, '\n');
    }
}

void
nf_ruleset_save(const NfRuleset *rs, NfTableId table, GString *out)
{
    g_return_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && out != NULL);
    const NfTable *t = &rs->tables[table];
    g_autoptr(GPtrArray) users = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, t->chains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        if (!((NfChain *)value)->builtin)
            g_ptr_array_add(users, value);
    }
    g_ptr_array_sort(users, chain_name_cmp);
    g_string_append_printf(out, "*%s\n", nf_table_name(table));
    for (guint h = 0; h < NF_HOOK_COUNT; h++) {
        if (t->builtin[h] != NULL)
            g_string_append_printf(out, ":%s ACCEPT [0:0]\n", t->builtin[h]->name);
    }
    for (guint i = 0; i < users->len; i++)
        g_string_append_printf(out, ":%s - [0:0]\n", ((NfChain *)users->pdata[i])->name);
    for (guint h = 0; h < NF_HOOK_COUNT; h++) {
        if (t->builtin[h] != NULL)
            save_chain_rules(out, t->builtin[h]);
    }
    for (guint i = 0; i < users->len; i++)
        save_chain_rules(out, users->pdata[i]);
    g_string_append(out, "COMMIT\n");
}
