/* SPDX-License-Identifier: Apache-2.0 */
/* The rule parser's state and its small helpers, shared by nf_rule_parse.c (the option loop and
 * the IP part), nf_rule_parse_match.c (matches) and nf_rule_parse_target.c (targets).
 *
 * A RuleParser reads one "-A CHAIN ..." argument vector the way iptables' command_default() and
 * the extensions' parse functions do: an option is offered to each part of the rule in turn,
 * which answers OPT_NOT_MINE, OPT_DONE or OPT_FAILED. The helpers below take option values and
 * "!" prefixes and word errors as iptables does. Nothing here is part of the public interface.
 */
#ifndef KPSIM_NF_RULE_PARSE_PRIVATE_H
#define KPSIM_NF_RULE_PARSE_PRIVATE_H

#include "sim/netfilter_private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define NF_IFNAME_MAX 15       /* IFNAMSIZ - 1 */
#define NF_COMMENT_MAX 255     /* XT_MAX_COMMENT_LEN - 1 */
#define NF_RECENT_NAME_MAX 199 /* XT_RECENT_NAME_LEN - 1 */
#define NF_NFACCT_NAME_MAX 31  /* NFACCT_NAME_MAX - 1 */

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
    NfMatch *matches;    /* n_matches of them (the ruleset's scratch; nf_parser_add_match() may
                          * move them) */
    guint n_matches;     /* the matches loaded so far */
    GError **error;
} RuleParser;

static inline OptResult parser_fail(RuleParser *p, NfError code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Sets the parser's error (prefixed with the chain name) and returns OPT_FAILED. */
static inline OptResult
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
static inline gboolean
opt_is(const char *opt, const char *a, const char *b)
{
    return strcmp(opt, a) == 0 || (b != NULL && strcmp(opt, b) == 0);
}

/* Returns the argument of opt and consumes it, or NULL (error set) when it is missing. */
static inline const char *
parser_value(RuleParser *p, const char *opt)
{
    if (p->next >= p->argc) {
        parser_fail(p, NF_ERROR_PARSE, "option \"%s\" requires an argument", opt);
        return NULL;
    }
    return p->argv[p->next++];
}

/* Takes a pending "!" for opt into *inv; fails when opt cannot be negated. */
static inline gboolean
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
static inline gboolean
parser_no_invert(RuleParser *p, const char *opt)
{
    gboolean inv;
    return parser_take_invert(p, opt, FALSE, &inv);
}

/* Parses an unsigned number in C syntax (decimal, 0x hex, 0 octal) up to max. */
static inline gboolean
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
static inline gboolean
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

/* ------------------------------------------------- matches (nf_rule_parse_match.c) */

/* Parses -m NAME. */
OptResult nf_parse_match_load(RuleParser *p, const char *opt);
/* Appends a match of kind with its defaults; returns it (valid until the next one is added). */
NfMatch *nf_parser_add_match(RuleParser *p, NfMatchKind kind);
/* Setters shared by the option parsers and the rule builder (nf_rule_parse.c): a comment's
 * text, a statistic probability (0 to 1), a recent list name, an nfacct name. */
OptResult nf_parser_set_comment(RuleParser *p, NfMatch *m, const char *v);
void nf_parser_set_probability(NfMatch *m, double probability);
OptResult nf_parser_set_recent_name(RuleParser *p, NfMatch *m, const char *v);
OptResult nf_parser_set_nfacct(RuleParser *p, NfMatch *m, const char *v);
/* Loads the -p protocol's match once, as iptables does for an option no loaded match knows. */
gboolean nf_parser_autoload_proto(RuleParser *p);
/* Offers opt to match m. */
OptResult nf_parse_match_option(RuleParser *p, NfMatch *m, const char *opt);
/* Checks that a match has its mandatory options and, for port matches, its protocol. */
gboolean nf_parser_check_match(RuleParser *p, const NfMatch *m);
/* The port match kind that belongs to a protocol, or -1. */
int nf_proto_match_kind(guint8 proto);

/* ------------------------------------------------ targets (nf_rule_parse_target.c) */

/* Parses -j TARGET: a built-in target or an existing user chain of the same table. */
OptResult nf_parse_jump(RuleParser *p, const char *opt);
/* Sets the target to v (a built-in target name or a user chain); the rule had none. */
OptResult nf_parser_set_jump(RuleParser *p, const char *v);
/* Sets the target to the built-in target kind (not NONE or JUMP), checked as
 * nf_parser_set_jump() checks it by name; the rule had none. */
OptResult nf_parser_set_target(RuleParser *p, NfTargetKind kind);
/* Sets the DNAT/SNAT target's address (and port when port is set); opt and text (nullable:
 * the address as given) are for errors. */
OptResult nf_parser_set_nat_to(RuleParser *p, const char *opt, const SimSockAddr *to,
                               gboolean port, const char *text);
/* Parses an option of the rule's target, if it has one. */
OptResult nf_parse_target_option(RuleParser *p, const char *opt);
/* Checks the target's mandatory options and refuses jumps that would close a loop. */
gboolean nf_parser_check_target(RuleParser *p);

#endif
