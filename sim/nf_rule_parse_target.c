/* SPDX-License-Identifier: Apache-2.0 */
/* The rule parser's targets: -j, the targets' options, and the checks of the finished target.
 *
 * Models the x_tables restrictions on targets (DNAT, SNAT and MASQUERADE only in nat and at
 * their hooks, REJECT only in filter), jumps to user chains of the same table with the kernel's
 * loop check, and the options of REJECT, DNAT/SNAT, MASQUERADE and MARK as their libxt_*
 * extensions parse them. Other iptables targets fail with NF_ERROR_UNSUPPORTED.
 */
#include "sim/nf_rule_parse_private.h"

#include "sim/sim_packet.h"

#include <string.h>

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
const char *
nf_target_name(NfTargetKind kind)
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
    int hook = nf_chain_hook(p->rs, p->table, p->chain);
    if (hook >= 0 && !(target_hooks(kind) & (1u << hook)))
        return parser_fail(p, NF_ERROR_PARSE, "target %s is not valid in chain %s", name,
                           p->chain->name);
    p->rule->target.kind = (guint8)kind;
    if (kind == NF_TARGET_REJECT)
        p->rule->target.name =
            p->rs->family == SIM_AF_INET ? "icmp-port-unreachable" : "icmp6-port-unreachable";
    return OPT_DONE;
}

/* Sets the rule's target to the built-in target kind (not NF_TARGET_NONE or NF_TARGET_JUMP),
 * as nf_parser_set_jump() does with its name but without looking the name up; the rule had
 * none (the rule builder's path). */
OptResult
nf_parser_set_target(RuleParser *p, NfTargetKind kind)
{
    g_return_val_if_fail(kind != NF_TARGET_NONE && kind != NF_TARGET_JUMP, OPT_FAILED);
    p->has_target = TRUE;
    return parser_set_builtin_target(p, nf_target_name(kind), kind);
}

/* Parses -j TARGET: a built-in target or an existing user chain of the same table. */
OptResult
nf_parse_jump(RuleParser *p, const char *opt)
{
    if (!parser_no_invert(p, opt))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    if (p->has_target)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    return nf_parser_set_jump(p, v);
}

/* Sets the rule's target to v, a built-in target or an existing user chain of the table (the
 * rule builder's path too). */
OptResult
nf_parser_set_jump(RuleParser *p, const char *v)
{
    p->has_target = TRUE;
    /* The chain first (most jumps go to one): no chain is named after a target
     * (chain_name_valid() reserves the names) and no built-in chain is either. */
    NfChain *c = nf_ruleset_lookup_chain(p->rs, p->table, v);
    if (c != NULL && c->builtin)
        return parser_fail(p, NF_ERROR_PARSE, "cannot jump to built-in chain %s", v);
    if (c != NULL) {
        p->rule->target.kind = NF_TARGET_JUMP;
        p->rule->target.name = c->name;
        p->rule->target.chain = c;
        return OPT_DONE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(target_names); i++) {
        if (strcmp(v, target_names[i].name) == 0)
            return parser_set_builtin_target(p, v, target_names[i].kind);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(unsupported_targets); i++) {
        if (strcmp(v, unsupported_targets[i]) == 0)
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "target %s is not supported", v);
    }
    return parser_fail(p, NF_ERROR_NO_CHAIN, "chain \"%s\" does not exist in table %s", v,
                       nf_table_name(p->table));
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
    if (!sim_sockaddr_parse(v, &to, TRUE))
        return parser_fail(p, NF_ERROR_PARSE, "invalid address \"%s\" for \"%s\"", v, opt);
    return nf_parser_set_nat_to(p, opt, &to, nat_text_has_port(v), v);
}

/* Sets the DNAT/SNAT target's address, and its port when port is set (the rule builder's path
 * too); text (nullable) is the address as given, for error messages. */
OptResult
nf_parser_set_nat_to(RuleParser *p, const char *opt, const SimSockAddr *to, gboolean port,
                     const char *text)
{
    /* A port, when given, cannot be 0 (libxt_DNAT: "Port `0' not valid"). */
    gboolean bad_family = to->addr.family != p->rs->family, bad_port = port && to->port == 0;
    if (bad_family || bad_port) {
        char buf[SIM_SOCKADDR_STRLEN];
        if (text == NULL)
            text = port ? sim_sockaddr_to_string(to, buf) : sim_addr_to_string(&to->addr, buf);
        if (bad_family)
            return parser_fail(p, NF_ERROR_PARSE, "invalid address \"%s\" for \"%s\"", text,
                               opt);
        return parser_fail(p, NF_ERROR_PARSE, "port 0 is not valid in \"%s\"", text);
    }
    p->rule->target.to = *to;
    p->rule->target.flags |= NF_TF_SEEN | (port ? NF_TF_PORT : 0);
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
OptResult
nf_parse_target_option(RuleParser *p, const char *opt)
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

/* TRUE when the rule matches exactly one of the port protocols, not inverted. */
static gboolean
rule_has_port_proto(const NfRule *r)
{
    return (r->flags & NF_RF_PROTO) && !(r->flags & NF_RF_INV_PROTO) &&
           nf_proto_match_kind(r->proto) >= 0;
}

/* Checks the target's mandatory options and refuses jumps that would close a loop. */
gboolean
nf_parser_check_target(RuleParser *p)
{
    const NfTarget *t = &p->rule->target;
    switch ((NfTargetKind)t->kind) {
    case NF_TARGET_DNAT:
    case NF_TARGET_SNAT:
        if (!(t->flags & NF_TF_SEEN))
            return parser_refuse(p, NF_ERROR_PARSE, "target %s needs %s", nf_target_name(t->kind),
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
        /* A loop needs a way back into this chain from a chain the target reaches - a user
         * chain, as built-in chains are never jump targets - so only chains some user chain
         * jumps to can close one (a 10,000-Service KUBE-SERVICES is jumped to from built-in
         * chains alone); for those, search the jump graph below the target. */
        if (t->chain == p->chain ||
            (p->chain->user_refs > 0 && nf_chain_reaches(p->rs, p->table, t->chain, p->chain)))
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
