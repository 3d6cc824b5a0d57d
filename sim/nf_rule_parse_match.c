/* SPDX-License-Identifier: Apache-2.0 */
/* The rule parser's matches: loading them with -m, their options, and their mandatory options.
 *
 * Models the libxt_* match extensions kube-proxy uses - comment, tcp/udp/sctp ports, addrtype,
 * mark, statistic, recent, conntrack, nfacct, set (sim/ipset.h), physdev and ipvs - with
 * iptables' option syntax and checks. Other
 * matches, and the options of these that kube-proxy never writes (--tcp-flags, --every,
 * --update, --ctorigdst...), fail with NF_ERROR_UNSUPPORTED.
 */
#include "sim/nf_rule_parse_private.h"

#include "sim/ipset.h"
#include "sim/sim_packet.h"

#include <math.h>
#include <string.h>

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
    {"set", NF_MATCH_SET},
    {"physdev", NF_MATCH_PHYSDEV},
    {"ipvs", NF_MATCH_IPVS},
};

/* The name iptables prints after "-m" for a match kind. */
const char *
nf_match_name(NfMatchKind kind)
{
    /* The table is in enum order, so this is one look (every match of every rule asks). */
    if ((guint)kind < G_N_ELEMENTS(match_names) && match_names[kind].kind == kind)
        return match_names[kind].name;
    for (gsize i = 0; i < G_N_ELEMENTS(match_names); i++) {
        if (match_names[i].kind == kind)
            return match_names[i].name;
    }
    g_assert_not_reached();
}

/* Appends a match of kind with its defaults to the rule being parsed and returns it (valid
 * until the next match is added). */
NfMatch *
nf_parser_add_match(RuleParser *p, NfMatchKind kind)
{
    NfRuleset *rs = p->rs;
    if (p->n_matches == rs->scratch_room) {
        rs->scratch_room = MAX(8u, 2 * rs->scratch_room);
        rs->scratch_matches = g_renew(NfMatch, rs->scratch_matches, rs->scratch_room);
        p->matches = rs->scratch_matches;
    }
    NfMatch *m = &p->matches[p->n_matches++];
    memset(m, 0, sizeof *m);
    m->kind = (guint8)kind;
    switch (kind) {
    case NF_MATCH_TCP:
    case NF_MATCH_UDP:
    case NF_MATCH_SCTP:
        m->u.ports.sport[1] = m->u.ports.dport[1] = G_MAXUINT16;
        break;
    case NF_MATCH_RECENT:
        m->u.recent.mask.family = (guint8)rs->family;
        memset(m->u.recent.mask.b, 0xff, rs->family == SIM_AF_INET ? 4 : 16);
        break;
    case NF_MATCH_COMMENT:
    case NF_MATCH_ADDRTYPE:
    case NF_MATCH_MARK:
    case NF_MATCH_STATISTIC:
    case NF_MATCH_CONNTRACK:
    case NF_MATCH_NFACCT:
    case NF_MATCH_SET:
    case NF_MATCH_PHYSDEV:
    case NF_MATCH_IPVS:
        break;
    }
    return m;
}

/* Parses -m NAME. */
OptResult
nf_parse_match_load(RuleParser *p, const char *opt)
{
    if (!parser_no_invert(p, opt))
        return OPT_FAILED;
    const char *v = parser_value(p, opt);
    if (v == NULL)
        return OPT_FAILED;
    if (p->n_matches >= G_MAXUINT8)
        return parser_fail(p, NF_ERROR_PARSE, "too many matches");
    for (gsize i = 0; i < G_N_ELEMENTS(match_names); i++) {
        if (strcmp(v, match_names[i].name) == 0) {
            nf_parser_add_match(p, match_names[i].kind);
            return OPT_DONE;
        }
    }
    return parser_fail(p, NF_ERROR_UNSUPPORTED, "match \"%s\" is not supported", v);
}

/* The port match kind that belongs to a protocol, or -1. */
int
nf_proto_match_kind(guint8 proto)
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
gboolean
nf_parser_autoload_proto(RuleParser *p)
{
    if (p->proto_used || !(p->rule->flags & NF_RF_PROTO) || (p->rule->flags & NF_RF_INV_PROTO))
        return FALSE;
    int kind = nf_proto_match_kind(p->rule->proto);
    if (kind < 0 || p->n_matches >= G_MAXUINT8)
        return FALSE;
    p->proto_used = TRUE;
    nf_parser_add_match(p, (NfMatchKind)kind);
    return TRUE;
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

const char *const nf_addrtype_names[] = {
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
        while (k < G_N_ELEMENTS(nf_addrtype_names) &&
               g_ascii_strcasecmp(words[i], nf_addrtype_names[k]) != 0)
            k++;
        if (k == G_N_ELEMENTS(nf_addrtype_names))
            return parser_fail(p, NF_ERROR_PARSE, "unknown address type \"%s\"", words[i]);
        if ((1u << k) != NF_ADDRTYPE_LOCAL)
            return parser_fail(p, NF_ERROR_UNSUPPORTED, "address type %s is not supported",
                               nf_addrtype_names[k]);
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
    return nf_parser_set_comment(p, m, v);
}

/* Sets comment m's text v (the rule builder's path too). */
OptResult
nf_parser_set_comment(RuleParser *p, NfMatch *m, const char *v)
{
    gsize len = strlen(v);
    if (len > NF_COMMENT_MAX)
        return parser_fail(p, NF_ERROR_PARSE, "comment may not exceed %d characters",
                           NF_COMMENT_MAX);
    m->u.comment = nf_intern_len(p->rs, v, len);
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
    nf_parser_set_probability(m, prob);
    return OPT_DONE;
}

/* Sets statistic m's probability (0 to 1) as the kernel's 31-bit fraction, as libxt_statistic
 * rounds it. */
void
nf_parser_set_probability(NfMatch *m, double probability)
{
    m->u.probability = (guint32)lround(2147483648.0 * probability);
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
        return nf_parser_set_recent_name(p, m, v);
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

/* Sets recent m's list name v (the rule builder's path too). */
OptResult
nf_parser_set_recent_name(RuleParser *p, NfMatch *m, const char *v)
{
    gsize len = strlen(v);
    if (len == 0 || len > NF_RECENT_NAME_MAX)
        return parser_fail(p, NF_ERROR_PARSE, "invalid recent list name \"%s\"", v);
    m->u.recent.name = nf_intern_len(p->rs, v, len);
    m->flags |= NF_MF_NAME;
    return OPT_DONE;
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
const char *const nf_ctstate_names[] = {
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
        while (k < G_N_ELEMENTS(nf_ctstate_names) &&
               g_ascii_strcasecmp(words[i], nf_ctstate_names[k]) != 0)
            k++;
        if (k == G_N_ELEMENTS(nf_ctstate_names))
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
    return nf_parser_set_nfacct(p, m, v);
}

/* Sets nfacct m's accounting object name v (the rule builder's path too). */
OptResult
nf_parser_set_nfacct(RuleParser *p, NfMatch *m, const char *v)
{
    gsize len = strlen(v);
    if (len == 0 || len > NF_NFACCT_NAME_MAX)
        return parser_fail(p, NF_ERROR_PARSE, "invalid nfacct name \"%s\"", v);
    m->u.nfacct = nf_intern_len(p->rs, v, len);
    m->flags |= NF_MF_GIVEN;
    return OPT_DONE;
}

/* Parses set's "DIR[,DIR[,DIR]]" flags (each "src" or "dst") into m, as xt_set's
 * parse_dirs() does. */
static gboolean
parse_set_dirs(const char *text, NfMatch *m)
{
    g_auto(GStrv) dirs = g_strsplit(text, ",", -1);
    guint n = g_strv_length(dirs);
    if (n == 0 || n > 3) /* IPSET_DIM_MAX - 3 in the kernel's xt_set revisions kube-proxy uses */
        return FALSE;
    m->u.set.src_dirs = 0;
    for (guint i = 0; i < n; i++) {
        if (strcmp(dirs[i], "src") == 0)
            m->u.set.src_dirs |= (guint8)(1u << i);
        else if (strcmp(dirs[i], "dst") != 0)
            return FALSE;
    }
    m->u.set.n_dirs = (guint8)n;
    return TRUE;
}

/* set: [!] --match-set NAME DIRS; the set must exist on the ruleset already, as the kernel's
 * xt_set checkentry refuses an unknown set ("Set NAME doesn't exist"). */
static OptResult
parse_set_option(RuleParser *p, NfMatch *m, const char *opt)
{
    if (!opt_is(opt, "--match-set", "--set"))
        return OPT_NOT_MINE;
    gboolean inv;
    const char *name, *dirs;
    if (!parser_take_invert(p, opt, TRUE, &inv) || (name = parser_value(p, opt)) == NULL ||
        (dirs = parser_value(p, opt)) == NULL)
        return OPT_FAILED;
    if (m->flags & NF_MF_GIVEN)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    Ipset *set = ipset_lookup(p->rs, name);
    if (set == NULL)
        return parser_fail(p, NF_ERROR_PARSE, "set %s doesn't exist", name);
    if (!parse_set_dirs(dirs, m))
        return parser_fail(p, NF_ERROR_PARSE, "invalid set flags \"%s\"", dirs);
    m->u.set.set = set;
    m->flags |= NF_MF_GIVEN | (inv ? NF_MF_INVERT : 0);
    return OPT_DONE;
}

/* physdev: [!] --physdev-is-in | --physdev-is-out | --physdev-is-bridged, [!] --physdev-in
 * NAME, [!] --physdev-out NAME (libxt_physdev). */
static OptResult
parse_physdev_option(RuleParser *p, NfMatch *m, const char *opt)
{
    static const struct {
        const char *name;
        guint8 bit;
        gboolean value;
    } opts[] = {{"--physdev-in", NF_PHYSDEV_IN, TRUE},
                {"--physdev-out", NF_PHYSDEV_OUT, TRUE},
                {"--physdev-is-bridged", NF_PHYSDEV_BRIDGED, FALSE},
                {"--physdev-is-in", NF_PHYSDEV_ISIN, FALSE},
                {"--physdev-is-out", NF_PHYSDEV_ISOUT, FALSE}};
    gsize k = 0;
    while (k < G_N_ELEMENTS(opts) && strcmp(opt, opts[k].name) != 0)
        k++;
    if (k == G_N_ELEMENTS(opts))
        return OPT_NOT_MINE;
    gboolean inv;
    const char *v = NULL;
    if (!parser_take_invert(p, opt, TRUE, &inv) ||
        (opts[k].value && (v = parser_value(p, opt)) == NULL))
        return OPT_FAILED;
    if (m->u.physdev.given & opts[k].bit)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (v != NULL && (v[0] == '\0' || strlen(v) > NF_IFNAME_MAX))
        return parser_fail(p, NF_ERROR_PARSE, "invalid interface name \"%s\"", v);
    m->u.physdev.given |= opts[k].bit;
    m->u.physdev.inv |= inv ? opts[k].bit : 0;
    if (opts[k].bit == NF_PHYSDEV_IN)
        m->u.physdev.in = nf_intern(p->rs, v);
    else if (opts[k].bit == NF_PHYSDEV_OUT)
        m->u.physdev.out = nf_intern(p->rs, v);
    return OPT_DONE;
}

/* Takes the value of an ipvs option into m; FALSE when it is malformed. */
static gboolean
parse_ipvs_value(RuleParser *p, NfMatch *m, guint8 bit, const char *v)
{
    guint64 n;
    SimProto proto;
    switch (bit) {
    case NF_IPVS_PROTO:
        if (sim_proto_parse(v, &proto))
            n = proto;
        else if (!parse_uint(v, G_MAXUINT8, &n))
            return FALSE;
        m->u.ipvs.proto = (guint8)n;
        return TRUE;
    case NF_IPVS_VADDR:
        return sim_cidr_parse(v, &m->u.ipvs.vaddr) &&
               m->u.ipvs.vaddr.addr.family == (guint8)p->rs->family;
    case NF_IPVS_VPORT:
        if (!parse_uint(v, G_MAXUINT16, &n))
            return FALSE;
        m->u.ipvs.vport = (guint16)n;
        return TRUE;
    case NF_IPVS_DIR:
        m->u.ipvs.reply = g_ascii_strcasecmp(v, "REPLY") == 0;
        return m->u.ipvs.reply || g_ascii_strcasecmp(v, "ORIGINAL") == 0;
    case NF_IPVS_METHOD: /* only masquerading exists in this model */
        return g_ascii_strcasecmp(v, "MASQ") == 0;
    }
    return TRUE;
}

/* ipvs: [!] --ipvs, [!] --vproto P, [!] --vaddr A[/M], [!] --vport N, [!] --vdir ORIGINAL|REPLY,
 * [!] --vmethod MASQ (libxt_ipvs; --vportctl and the GATE / IPIP methods are not modelled). */
static OptResult
parse_ipvs_option(RuleParser *p, NfMatch *m, const char *opt)
{
    static const struct {
        const char *name;
        guint8 bit;
    } opts[] = {{"--ipvs", NF_IPVS_PROPERTY}, {"--vproto", NF_IPVS_PROTO},
                {"--vaddr", NF_IPVS_VADDR},   {"--vport", NF_IPVS_VPORT},
                {"--vdir", NF_IPVS_DIR},      {"--vmethod", NF_IPVS_METHOD}};
    gsize k = 0;
    while (k < G_N_ELEMENTS(opts) && strcmp(opt, opts[k].name) != 0)
        k++;
    if (k == G_N_ELEMENTS(opts))
        return opt_is(opt, "--vportctl", NULL)
                   ? parser_fail(p, NF_ERROR_UNSUPPORTED, "ipvs --vportctl is not supported")
                   : OPT_NOT_MINE;
    gboolean inv;
    const char *v = NULL;
    guint8 bit = opts[k].bit;
    if (!parser_take_invert(p, opt, TRUE, &inv) ||
        (bit != NF_IPVS_PROPERTY && (v = parser_value(p, opt)) == NULL))
        return OPT_FAILED;
    if (m->u.ipvs.given & bit)
        return parser_fail(p, NF_ERROR_PARSE, "multiple \"%s\" options", opt);
    if (v != NULL && !parse_ipvs_value(p, m, bit, v))
        return parser_fail(p, NF_ERROR_PARSE, "invalid value \"%s\" for \"%s\"", v, opt);
    m->u.ipvs.given |= bit;
    if (bit == NF_IPVS_DIR && inv) /* "! --vdir ORIGINAL" is "--vdir REPLY", as libxt_ipvs keeps */
        m->u.ipvs.reply = !m->u.ipvs.reply;
    else if (inv)
        m->u.ipvs.inv |= bit;
    return OPT_DONE;
}

/* Offers opt to match m. */
OptResult
nf_parse_match_option(RuleParser *p, NfMatch *m, const char *opt)
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
    case NF_MATCH_SET:
        return parse_set_option(p, m, opt);
    case NF_MATCH_PHYSDEV:
        return parse_physdev_option(p, m, opt);
    case NF_MATCH_IPVS:
        return parse_ipvs_option(p, m, opt);
    }
    return OPT_NOT_MINE;
}

/* Checks that a match has its mandatory options and, for port matches, its protocol. */
gboolean
nf_parser_check_match(RuleParser *p, const NfMatch *m)
{
    const char *name = nf_match_name((NfMatchKind)m->kind);
    const char *missing = NULL;
    switch ((NfMatchKind)m->kind) {
    case NF_MATCH_TCP:
    case NF_MATCH_UDP:
    case NF_MATCH_SCTP:
        if (!(p->rule->flags & NF_RF_PROTO) || (p->rule->flags & NF_RF_INV_PROTO) ||
            nf_proto_match_kind(p->rule->proto) != m->kind)
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
    case NF_MATCH_SET:
        missing = m->flags & NF_MF_GIVEN ? NULL : "--match-set";
        break;
    case NF_MATCH_PHYSDEV:
        missing = m->u.physdev.given != 0 ? NULL : "an option";
        break;
    case NF_MATCH_IPVS:
        missing = m->u.ipvs.given != 0 ? NULL : "an option";
        break;
    }
    if (missing != NULL)
        return parser_refuse(p, NF_ERROR_PARSE, "match %s needs %s", name, missing);
    return TRUE;
}
