/* SPDX-License-Identifier: Apache-2.0 */
/* Rule construction from iptables arguments: the option loop, the IP part (-s -d -p -i -o) and
 * the checks run once the whole rule is read, before it is appended to its chain.
 *
 * One "-A CHAIN ..." argument vector is parsed the way iptables does: "!" negates the option
 * after it, each option is offered to the IP part, then the target, then the loaded matches (most
 * recent first), and the protocol's match is loaded on demand (--dport after -p tcp). The rule is
 * then checked the way the kernel checks it at load time. Matches are in nf_rule_parse_match.c,
 * targets in nf_rule_parse_target.c, the parser's state in nf_rule_parse_private.h.
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
    int hook = nf_chain_hook(p->rs, p->table, p->chain);
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
    for (guint i = p->matches->len; r == OPT_NOT_MINE && i > 0; i--)
        r = nf_parse_match_option(p, &g_array_index(p->matches, NfMatch, i - 1), opt);
    if (r == OPT_NOT_MINE && nf_parser_autoload_proto(p))
        r = nf_parse_match_option(p, &g_array_index(p->matches, NfMatch, p->matches->len - 1), opt);
    if (r == OPT_NOT_MINE)
        r = parser_fail(p, NF_ERROR_PARSE, "unknown option \"%s\"", opt);
    return r;
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
        if (!nf_parser_check_match(p, &g_array_index(p->matches, NfMatch, i)))
            return FALSE;
    }
    return nf_parser_check_target(p);
}

/* Copies the parsed rule into its final allocation and appends it to the chain. */
static void
parser_commit(RuleParser *p)
{
    guint n = p->matches->len;
    NfRule *r = nf_ruleset_alloc_rule(p->rs, sizeof(NfRule) + n * sizeof(NfMatch));
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
