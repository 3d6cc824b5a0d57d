/* SPDX-License-Identifier: Apache-2.0 */
/* Rule construction from iptables arguments: the option loop, the IP part (-s -d -p -i -o) and
 * the checks run once the whole rule is read, before it is appended to its chain.
 *
 * One "-A CHAIN ..." argument vector is parsed the way iptables does: "!" negates the option
 * after it, each option is offered to the IP part, then the target, then the loaded matches (most
 * recent first), and the protocol's match is loaded on demand (--dport after -p tcp). The rule is
 * then checked the way the kernel checks it at load time. Matches are in nf_rule_parse_match.c,
 * targets in nf_rule_parse_target.c, the parser's state in nf_rule_parse_private.h.
 *
 * The rule builder (netfilter.h) fills the same parser state from values instead of text - the
 * renderers' path for rules written by the hundred thousand - through the setters the option
 * parsers use, and ends with the same checks and the same commit.
 */
#include "sim/nf_rule_parse_private.h"

#include "sim/sim_packet.h"

#include <stdarg.h>
#include <string.h>

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

/* Sets -i/-o NAME[+] (v) on the rule; the kernel refuses -i on output hooks and -o on input
 * hooks. */
static OptResult
set_iface(RuleParser *p, const char *opt, const char *v, gboolean inv, gboolean input)
{
    guint16 given = input ? NF_RF_IIF : NF_RF_OIF;
    if (p->rule->flags & given)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    gsize len = strlen(v);
    if (len == 0 || len > NF_IFNAME_MAX || strpbrk(v, "/ \t\n") != NULL)
        return parser_fail(p, NF_ERROR_PARSE, "invalid interface name \"%s\"", v);
    int hook = nf_chain_hook(p->rs, p->table, p->chain);
    gboolean out_hook = hook == NF_HOOK_LOCAL_OUT || hook == NF_HOOK_POST_ROUTING;
    gboolean in_hook = hook == NF_HOOK_PRE_ROUTING || hook == NF_HOOK_LOCAL_IN;
    if ((input && out_hook) || (!input && in_hook))
        return parser_fail(p, NF_ERROR_PARSE, "can't use \"%s\" with %s", opt, p->chain->name);
    gboolean plus = v[len - 1] == '+';
    p->rule->flags |= given;
    if (inv)
        p->rule->flags |= input ? NF_RF_INV_IIF : NF_RF_INV_OIF;
    if (plus)
        p->rule->flags |= input ? NF_RF_IIF_PLUS : NF_RF_OIF_PLUS;
    *(input ? &p->rule->iif : &p->rule->oif) = nf_intern_len(p->rs, v, plus ? len - 1 : len);
    return OPT_DONE;
}

/* Parses -i/-o NAME[+]. */
static OptResult
parse_iface(RuleParser *p, const char *opt, gboolean input)
{
    gboolean inv;
    if (!parser_take_invert(p, opt, TRUE, &inv))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    return set_iface(p, opt, v, inv, input);
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
        return nf_parse_match_load(p, opt);
    if (opt_is(opt, "-j", "--jump"))
        return nf_parse_jump(p, opt);
    if (opt_is(opt, "-g", "--goto") || opt_is(opt, "-f", "--fragment") ||
        opt_is(opt, "-c", "--set-counters"))
        return parser_fail(p, NF_ERROR_UNSUPPORTED, "option \"%s\" is not supported", opt);
    return OPT_NOT_MINE;
}

/* Parses one option: the IP part, then the target's options, then the loaded matches' (most
 * recent first), then the protocol's match loaded on demand. */
static OptResult
parse_option(RuleParser *p, const char *opt)
{
    OptResult r = parse_ip_option(p, opt);
    if (r == OPT_NOT_MINE)
        r = nf_parse_target_option(p, opt);
    for (guint i = p->n_matches; r == OPT_NOT_MINE && i > 0; i--)
        r = nf_parse_match_option(p, &p->matches[i - 1], opt);
    if (r == OPT_NOT_MINE && nf_parser_autoload_proto(p))
        r = nf_parse_match_option(p, &p->matches[p->n_matches - 1], opt);
    if (r == OPT_NOT_MINE)
        r = parser_fail(p, NF_ERROR_PARSE, "unknown option \"%s\"", opt);
    return r;
}

/* Checks the rule as a whole once every option is in: each match's mandatory options, then the
 * target's (and jump loops). */
static gboolean
parser_check(RuleParser *p)
{
    for (guint i = 0; i < p->n_matches; i++) {
        if (!nf_parser_check_match(p, &p->matches[i]))
            return FALSE;
    }
    return nf_parser_check_target(p);
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
    return parser_check(p);
}

/* Copies the parsed rule into its final allocation and appends it to the chain. */
static void
parser_commit(RuleParser *p)
{
    guint n = p->n_matches;
    NfRule *r = nf_ruleset_alloc_rule(p->rs, sizeof(NfRule) + n * sizeof(NfMatch));
    memcpy(r, p->rule, sizeof(NfRule));
    r->n_matches = (guint8)n;
    if (n > 0)
        memcpy(r->matches, p->matches, n * sizeof(NfMatch));
    nf_chain_add_rule(p->rs, p->chain, r);
    nf_chain_index_free(g_steal_pointer(&p->chain->index));
    if (r->target.kind == NF_TARGET_JUMP)
        r->target.chain->refs++;
    if (r->target.kind == NF_TARGET_JUMP && !p->chain->builtin)
        r->target.chain->user_refs++;
    p->rs->tables[p->table].rule_count++;
}

/* Sets p up for a new rule of chain c (nullable: the builder's unknown chain) in rs's scratch
 * space, errors going to error. */
static void
parser_begin(RuleParser *p, NfRuleset *rs, NfTableId table, NfChain *c, GError **error)
{
    *p = (RuleParser){.rs = rs, .table = table, .chain = c, .error = error};
    p->rule = rs->scratch_rule;
    memset(p->rule, 0, sizeof(NfRule));
    p->rule->chain = c != NULL ? c->name : NULL;
    p->rule->family = (guint8)rs->family;
    p->matches = rs->scratch_matches;
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
    RuleParser p;
    parser_begin(&p, rs, table, c, error);
    p.argv = argv;
    p.argc = argc;
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

/* ---- the rule builder: the same rule from values (netfilter.h) */

struct NfRuleBuilder {
    RuleParser p;   /* p.error points at error */
    GError *error;  /* the first failure, reported by commit */
    gboolean started;
    /* The chain of the last rule started in each table (nullable): renderers write runs of
     * rules into one chain, and chains are never deleted. */
    NfChain *last_chain[NF_TABLE_COUNT];
};

/* See netfilter_private.h. */
void
nf_rule_builder_free(NfRuleBuilder *b)
{
    if (b == NULL)
        return;
    g_clear_error(&b->error);
    g_free(b);
}

NfRuleBuilder *
nf_rule_builder_start(NfRuleset *rs, NfTableId table, const char *chain)
{
    g_return_val_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && chain != NULL, NULL);
    if (rs->builder == NULL)
        rs->builder = g_new0(NfRuleBuilder, 1);
    NfRuleBuilder *b = rs->builder;
    g_clear_error(&b->error);
    NfChain *c = b->last_chain[table];
    if (c == NULL || strcmp(c->name, chain) != 0)
        c = b->last_chain[table] = nf_ruleset_lookup_chain(rs, table, chain);
    parser_begin(&b->p, rs, table, c, &b->error);
    b->started = TRUE;
    if (c == NULL)
        g_set_error(&b->error, NF_ERROR, NF_ERROR_NO_CHAIN,
                    "chain \"%s\" does not exist in table %s", chain, nf_table_name(table));
    return b;
}

/* TRUE when b has a rule started and no setter has failed yet. */
static gboolean
builder_ok(const NfRuleBuilder *b)
{
    g_return_val_if_fail(b != NULL && b->started, FALSE);
    return b->error == NULL;
}

/* Appends a match of kind to b's rule; NULL when b failed or the rule is full. */
static NfMatch *
builder_match(NfRuleBuilder *b, NfMatchKind kind)
{
    if (!builder_ok(b))
        return NULL;
    if (b->p.n_matches >= G_MAXUINT8) {
        parser_fail(&b->p, NF_ERROR_PARSE, "too many matches");
        return NULL;
    }
    return nf_parser_add_match(&b->p, kind);
}

/* Sets -s (src) or -d to cidr, its host bits cleared as sim_cidr_parse() clears them. */
static void
builder_cidr(NfRuleBuilder *b, const SimCidr *cidr, gboolean invert, gboolean src)
{
    RuleParser *p = &b->p;
    guint16 given = src ? NF_RF_SRC : NF_RF_DST;
    char text[SIM_CIDR_STRLEN];
    if (!builder_ok(b))
        return;
    if (p->rule->flags & given) {
        parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", src ? "-s" : "-d");
        return;
    }
    if (cidr->addr.family != p->rs->family) {
        parser_fail(p, NF_ERROR_PARSE, "address \"%s\" is not IPv%d",
                    sim_cidr_to_string(cidr, text), p->rs->family);
        return;
    }
    SimCidr c = *cidr;
    gsize full = c.prefix / 8u; /* bytes kept whole; the rest is cleared from the next bit on */
    if (full < sizeof c.addr.b) {
        c.addr.b[full] &= (guint8)(0xff00u >> (c.prefix % 8u));
        memset(c.addr.b + full + 1, 0, sizeof c.addr.b - full - 1);
    }
    *(src ? &p->rule->src : &p->rule->dst) = c;
    p->rule->flags |= given;
    if (invert)
        p->rule->flags |= src ? NF_RF_INV_SRC : NF_RF_INV_DST;
}

void
nf_rule_builder_src(NfRuleBuilder *b, const SimCidr *cidr, gboolean invert)
{
    g_return_if_fail(cidr != NULL);
    builder_cidr(b, cidr, invert, TRUE);
}

void
nf_rule_builder_dst(NfRuleBuilder *b, const SimCidr *cidr, gboolean invert)
{
    g_return_if_fail(cidr != NULL);
    builder_cidr(b, cidr, invert, FALSE);
}

void
nf_rule_builder_in_iface(NfRuleBuilder *b, const char *name, gboolean invert)
{
    g_return_if_fail(name != NULL);
    if (builder_ok(b))
        set_iface(&b->p, "-i", name, invert, TRUE);
}

void
nf_rule_builder_proto(NfRuleBuilder *b, SimProto proto)
{
    if (!builder_ok(b))
        return;
    if (b->p.rule->flags & NF_RF_PROTO) {
        parser_fail(&b->p, NF_ERROR_PARSE, "multiple \"-p\" options");
        return;
    }
    b->p.rule->proto = (guint8)proto;
    b->p.rule->flags |= NF_RF_PROTO;
}

void
nf_rule_builder_comment(NfRuleBuilder *b, const char *text)
{
    g_return_if_fail(text != NULL);
    NfMatch *m = builder_match(b, NF_MATCH_COMMENT);
    if (m != NULL)
        nf_parser_set_comment(&b->p, m, text);
}

/* Appends proto's port match (tcp, udp or sctp) to b's rule; NULL when b failed or proto has
 * none. */
static NfMatch *
builder_port_match(NfRuleBuilder *b, SimProto proto)
{
    int kind = nf_proto_match_kind((guint8)proto);
    if (builder_ok(b) && kind < 0) {
        parser_fail(&b->p, NF_ERROR_UNSUPPORTED, "protocol %u has no port match", (guint)proto);
        return NULL;
    }
    return builder_match(b, (NfMatchKind)kind);
}

void
nf_rule_builder_proto_match(NfRuleBuilder *b, SimProto proto)
{
    builder_port_match(b, proto);
}

void
nf_rule_builder_dport(NfRuleBuilder *b, SimProto proto, guint16 port)
{
    NfMatch *m = builder_port_match(b, proto);
    if (m == NULL)
        return;
    m->u.ports.dport[0] = m->u.ports.dport[1] = port;
    m->flags |= NF_MF_DPORT;
}

void
nf_rule_builder_addrtype_local(NfRuleBuilder *b, gboolean src, gboolean invert)
{
    NfMatch *m = builder_match(b, NF_MATCH_ADDRTYPE);
    if (m == NULL)
        return;
    *(src ? &m->u.addrtype.src : &m->u.addrtype.dst) = NF_ADDRTYPE_LOCAL;
    m->flags |= src ? NF_MF_SRC_TYPE : NF_MF_DST_TYPE;
    if (invert)
        m->flags |= src ? NF_MF_INV_SRC_TYPE : NF_MF_INV_DST_TYPE;
}

void
nf_rule_builder_statistic(NfRuleBuilder *b, double probability)
{
    if (builder_ok(b) && !(probability >= 0.0 && probability <= 1.0)) {
        parser_fail(&b->p, NF_ERROR_PARSE, "invalid probability %g", probability);
        return;
    }
    NfMatch *m = builder_match(b, NF_MATCH_STATISTIC);
    if (m == NULL)
        return;
    m->flags |= NF_MF_MODE | NF_MF_GIVEN;
    nf_parser_set_probability(m, probability);
}

void
nf_rule_builder_recent(NfRuleBuilder *b, const char *name, gboolean set, guint seconds,
                       gboolean reap)
{
    g_return_if_fail(name != NULL);
    NfMatch *m = builder_match(b, NF_MATCH_RECENT);
    if (m == NULL || nf_parser_set_recent_name(&b->p, m, name) != OPT_DONE)
        return;
    m->flags |= set ? NF_MF_SET : NF_MF_RCHECK;
    if (seconds != 0)
        m->flags |= NF_MF_SECONDS;
    m->u.recent.seconds = seconds;
    m->u.recent.reap = reap;
}

void
nf_rule_builder_nfacct(NfRuleBuilder *b, const char *name)
{
    g_return_if_fail(name != NULL);
    NfMatch *m = builder_match(b, NF_MATCH_NFACCT);
    if (m != NULL)
        nf_parser_set_nfacct(&b->p, m, name);
}

/* Claims b's rule's one target; FALSE (error set) when it has one already or b failed. */
static gboolean
builder_target(NfRuleBuilder *b)
{
    if (!builder_ok(b))
        return FALSE;
    if (b->p.has_target)
        return parser_refuse(&b->p, NF_ERROR_PARSE, "multiple \"-j\" options");
    return TRUE;
}

void
nf_rule_builder_jump(NfRuleBuilder *b, const char *target)
{
    g_return_if_fail(target != NULL);
    if (builder_target(b))
        nf_parser_set_jump(&b->p, target);
}

void
nf_rule_builder_dnat(NfRuleBuilder *b, const SimSockAddr *to, gboolean port)
{
    g_return_if_fail(to != NULL);
    if (builder_target(b) && nf_parser_set_target(&b->p, NF_TARGET_DNAT) == OPT_DONE)
        nf_parser_set_nat_to(&b->p, "--to-destination", to, port, NULL);
}

gboolean
nf_rule_builder_commit(NfRuleBuilder *b, GError **error)
{
    g_return_val_if_fail(b != NULL && b->started, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    b->started = FALSE;
    if (b->error == NULL && parser_check(&b->p))
        parser_commit(&b->p);
    if (b->error == NULL)
        return TRUE;
    g_propagate_error(error, g_steal_pointer(&b->error));
    return FALSE;
}
