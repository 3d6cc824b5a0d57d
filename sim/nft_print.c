/* SPDX-License-Identifier: Apache-2.0 */
/* nftables tables as `nft list table` prints them, and the words `kpsim trace` uses for a step
 * through one (see sim/nft.h).
 *
 * Printing follows nft 1.0's listing: tabs, "type ... : verdict", standard priority names
 * within 10 of dstnat/srcnat where the hook allows them, "meta mark & 0x00004000 == 0x00000000",
 * single-element anonymous sets as plain values, and the element line breaks of set_expr_print().
 */
#include "sim/nft_private.h"

#include <string.h>

/* ------------------------------------------------------------------ printing */

/* "ip" or "ip6". */
static const char *
family_word(SimFamily f)
{
    return f == SIM_AF_INET6 ? "ip6" : "ip";
}

/* nft's name of an L4 protocol. */
static const char *
proto_word(guint8 proto)
{
    switch (proto) {
    case SIM_PROTO_TCP:
        return "tcp";
    case SIM_PROTO_UDP:
        return "udp";
    case SIM_PROTO_SCTP:
        return "sctp";
    default:
        return "unknown";
    }
}

/* A CIDR as nft prints it: host prefixes without "/N". */
static void
append_cidr(GString *out, const SimCidr *c)
{
    char buf[SIM_CIDR_STRLEN];
    if (sim_cidr_is_host(c))
        g_string_append(out, sim_addr_to_string(&c->addr, buf));
    else
        g_string_append(out, sim_cidr_to_string(c, buf));
}

/* The chain's name as a verdict's target. */
static void
append_verdict(GString *out, const NftVerdict *v)
{
    static const char *const words[] = {"continue", "accept", "drop", "reject",
                                        "return",   "jump",   "goto"};
    g_string_append(out, words[v->kind]);
    if (v->kind == NFT_VERDICT_JUMP || v->kind == NFT_VERDICT_GOTO)
        g_string_append_printf(out, " %s", v->chain->name);
}

/* The selector of a map's key: "ip daddr . meta l4proto . th dport" or without the address. */
static void
append_key_selector(GString *out, SimFamily f, NftKeyType key)
{
    if (key == NFT_KEY_ADDR_PROTO_PORT)
        g_string_append_printf(out, "%s daddr . ", family_word(f));
    g_string_append(out, "meta l4proto . th dport");
}

/* Appends the match part of e (the kinds that only test the packet). */
static void
append_match(GString *out, SimFamily f, const NftExpr *e)
{
    const char *field = e->field == NFT_FIELD_SADDR ? "saddr" : "daddr";
    switch (e->kind) {
    case NFT_EXPR_CT_STATE_NEW:
        g_string_append(out, "ct state new");
        return;
    case NFT_EXPR_ADDR:
        g_string_append_printf(out, "%s %s %s", family_word(f), field, e->neq ? "!= " : "");
        if (e->n == 1) {
            append_cidr(out, &e->cidrs[0]);
            return;
        }
        g_string_append(out, "{ ");
        for (guint i = 0; i < e->n; i++) {
            if (i > 0)
                g_string_append(out, ", ");
            append_cidr(out, &e->cidrs[i]);
        }
        g_string_append(out, " }");
        return;
    case NFT_EXPR_ADDR_SET:
        g_string_append_printf(out, "%s %s %s@%s", family_word(f), field, e->neq ? "!= " : "",
                               e->set->name);
        return;
    case NFT_EXPR_FIB_LOCAL:
        g_string_append_printf(out, "fib %s type local", field);
        return;
    case NFT_EXPR_IIFNAME:
        g_string_append_printf(out, "iifname %s\"%s\"", e->neq ? "!= " : "", e->name);
        return;
    case NFT_EXPR_L4PROTO:
        g_string_append_printf(out, "meta l4proto %s", proto_word(e->proto));
        return;
    case NFT_EXPR_DPORT:
        g_string_append_printf(out, "%s dport %u", proto_word(e->proto), e->port);
        return;
    case NFT_EXPR_MARK_CLEAR:
        g_string_append_printf(out, "meta mark & 0x%08x == 0x00000000", e->mark);
        return;
    case NFT_EXPR_MARK_OR:
    case NFT_EXPR_MARK_XOR:
    case NFT_EXPR_VMAP:
    case NFT_EXPR_NUMGEN:
    case NFT_EXPR_UPDATE_SADDR:
    case NFT_EXPR_DNAT:
    case NFT_EXPR_MASQUERADE:
    case NFT_EXPR_VERDICT:
        g_assert_not_reached(); /* append_expr() prints statements */
    }
}

/* Appends one expression of a rule. */
static void
append_expr(GString *out, SimFamily f, const NftExpr *e)
{
    char buf[SIM_SOCKADDR_STRLEN];
    switch (e->kind) {
    case NFT_EXPR_MARK_OR:
    case NFT_EXPR_MARK_XOR:
        g_string_append_printf(out, "meta mark set meta mark %c 0x%08x",
                               e->kind == NFT_EXPR_MARK_OR ? '|' : '^', e->mark);
        return;
    case NFT_EXPR_VMAP:
        append_key_selector(out, f, e->set->key);
        g_string_append_printf(out, " vmap @%s", e->set->name);
        return;
    case NFT_EXPR_NUMGEN:
        g_string_append_printf(out, "numgen random mod %u vmap { ", e->n);
        for (guint i = 0; i < e->n; i++)
            g_string_append_printf(out, "%s%u : goto %s", i ? ", " : "", i, e->chains[i]->name);
        g_string_append(out, " }");
        return;
    case NFT_EXPR_UPDATE_SADDR:
        g_string_append_printf(out, "update @%s { %s saddr }", e->set->name, family_word(f));
        return;
    case NFT_EXPR_DNAT:
        g_string_append_printf(out, "dnat to %s", sim_sockaddr_to_string(&e->to, buf));
        return;
    case NFT_EXPR_MASQUERADE:
        g_string_append(out, "masquerade fully-random");
        return;
    case NFT_EXPR_VERDICT:
        append_verdict(out, &e->verdict);
        return;
    case NFT_EXPR_CT_STATE_NEW:
    case NFT_EXPR_ADDR:
    case NFT_EXPR_ADDR_SET:
    case NFT_EXPR_FIB_LOCAL:
    case NFT_EXPR_IIFNAME:
    case NFT_EXPR_L4PROTO:
    case NFT_EXPR_DPORT:
    case NFT_EXPR_MARK_CLEAR:
        append_match(out, f, e);
    }
}

void
nft_rule_format(const NftRule *r, GString *out)
{
    SimFamily f = r->chain->table->family;
    for (guint i = 0; i < r->exprs->len; i++) {
        if (i > 0)
            g_string_append_c(out, ' ');
        append_expr(out, f, &g_array_index(r->exprs, NftExpr, i));
    }
    if (r->comment != NULL)
        g_string_append_printf(out, " comment \"%s\"", r->comment);
}

/* The key type as nft names it. */
static void
append_key_type(GString *out, SimFamily f, NftKeyType key)
{
    const char *addr = f == SIM_AF_INET6 ? "ipv6_addr" : "ipv4_addr";
    switch (key) {
    case NFT_KEY_ADDR:
        g_string_append(out, addr);
        return;
    case NFT_KEY_ADDR_PROTO_PORT:
        g_string_append_printf(out, "%s . inet_proto . inet_service", addr);
        return;
    case NFT_KEY_PROTO_PORT:
        g_string_append(out, "inet_proto . inet_service");
        return;
    }
}

/* A duration as nft prints it: "3h", "1h1m40s", "1d", "10s". */
static void
append_duration(GString *out, guint seconds)
{
    static const guint units[] = {86400, 3600, 60, 1};
    static const char names[] = "dhms";
    for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
        if (seconds >= units[i]) {
            g_string_append_printf(out, "%u%c", seconds / units[i], names[i]);
            seconds %= units[i];
        }
    }
}

/* Orders elements by key: address, then protocol number, then port. */
static gint
elem_compare(gconstpointer a, gconstpointer b)
{
    const NftElem *x = *(NftElem *const *)a, *y = *(NftElem *const *)b;
    int c = sim_addr_compare(&x->key.addr, &y->key.addr);
    if (c != 0)
        return c;
    if (x->key.proto != y->key.proto)
        return x->key.proto < y->key.proto ? -1 : 1;
    return x->key.port < y->key.port ? -1 : x->key.port > y->key.port;
}

/* One element: "KEY [comment "C"] [: VERDICT]". */
static void
append_elem(GString *out, const NftSet *s, const NftElem *e)
{
    char buf[SIM_ADDR_STRLEN];
    if (s->key != NFT_KEY_PROTO_PORT)
        g_string_append(out, sim_addr_to_string(&e->key.addr, buf));
    if (s->key == NFT_KEY_ADDR_PROTO_PORT)
        g_string_append(out, " . ");
    if (s->key != NFT_KEY_ADDR)
        g_string_append_printf(out, "%s . %u", proto_word(e->key.proto), e->key.port);
    if (e->comment != NULL)
        g_string_append_printf(out, " comment \"%s\"", e->comment);
    if (s->map) {
        g_string_append(out, " : ");
        append_verdict(out, &e->value);
    }
}

/* The "elements = { ... }" line: maps, concatenations and IPv6 addresses one per line, IPv4
 * addresses two per line (nft's calculate_delimiter()). */
static void
append_elements(GString *out, const NftSet *s)
{
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    for (guint i = 0; i < s->elems->len; i++)
        g_ptr_array_add(sorted, &g_array_index(s->elems, NftElem, i));
    g_ptr_array_sort(sorted, elem_compare);
    guint per_line = s->map || s->key != NFT_KEY_ADDR || s->table->family == SIM_AF_INET6 ? 1 : 2;
    g_string_append(out, "\t\telements = { ");
    for (guint i = 0; i < sorted->len; i++) {
        if (i > 0)
            g_string_append(out, i % per_line == 0 ? ",\n\t\t\t     " : ", ");
        append_elem(out, s, sorted->pdata[i]);
    }
    g_string_append(out, " }\n");
}

/* A set or map declaration with its elements. */
static void
append_set(GString *out, const NftSet *s)
{
    g_string_append_printf(out, "\t%s %s {\n\t\ttype ", s->map ? "map" : "set", s->name);
    append_key_type(out, s->table->family, s->key);
    g_string_append(out, s->map ? " : verdict\n" : "\n");
    if (s->timeout > 0) {
        if (s->dynset)
            g_string_append(out, "\t\tsize 65535\n");
        g_string_append(out, "\t\tflags dynamic,timeout\n\t\ttimeout ");
        append_duration(out, s->timeout);
        g_string_append_c(out, '\n');
    }
    if (s->comment != NULL)
        g_string_append_printf(out, "\t\tcomment \"%s\"\n", s->comment);
    if (s->elems->len > 0)
        append_elements(out, s);
    g_string_append(out, "\t}\n");
}

/* nft's hook names. */
static const char *
hook_word(NfHook h)
{
    static const char *const names[] = {"prerouting", "input", "forward", "output", "postrouting"};
    return names[h];
}

/* A base chain's priority as nft prints it (prio2str): dstnat (-100) at prerouting and srcnat
 * (100) at postrouting by name when within 10 of them, numbers otherwise (nft 1.0.6 prints
 * "output priority -110", checked against the real tool). */
static void
append_priority(GString *out, const NftChain *c)
{
    static const struct {
        int prio;
        const char *name;
    } std[] = {{-300, "raw"}, {-150, "mangle"}, {-100, "dstnat"},
               {0, "filter"}, {50, "security"}, {100, "srcnat"}};
    for (guint i = 0; i < G_N_ELEMENTS(std); i++) {
        int off = c->priority - std[i].prio;
        if (ABS(off) > 10)
            continue;
        gboolean ok = (std[i].prio == -100 && c->hook == NF_HOOK_PRE_ROUTING) ||
                      (std[i].prio == 100 && c->hook == NF_HOOK_POST_ROUTING) ||
                      (std[i].prio != -100 && std[i].prio != 100);
        if (!ok)
            break;
        g_string_append(out, std[i].name);
        if (off != 0)
            g_string_append_printf(out, " %c %d", off > 0 ? '+' : '-', ABS(off));
        return;
    }
    g_string_append_printf(out, "%d", c->priority);
}

/* A chain with its rules. */
static void
append_chain(GString *out, const NftChain *c)
{
    g_string_append_printf(out, "\tchain %s {\n", c->name);
    if (c->base) {
        g_string_append_printf(out, "\t\ttype %s hook %s priority ",
                               c->type == NFT_CHAIN_NAT ? "nat" : "filter", hook_word(c->hook));
        append_priority(out, c);
        g_string_append(out, "; policy accept;\n");
    }
    if (c->comment != NULL)
        g_string_append_printf(out, "\t\tcomment \"%s\"\n", c->comment);
    for (guint i = 0; i < c->rules->len; i++) {
        g_string_append(out, "\t\t");
        nft_rule_format(c->rules->pdata[i], out);
        g_string_append_c(out, '\n');
    }
    g_string_append(out, "\t}\n");
}

void
nft_table_list(const NftTable *t, GString *out)
{
    g_string_append_printf(out, "table %s %s {\n", family_word(t->family), t->name);
    if (t->comment != NULL)
        g_string_append_printf(out, "\tcomment \"%s\"\n", t->comment);
    const char *delim = "";
    for (guint i = 0; i < t->sets->len; i++) {
        g_string_append(out, delim);
        append_set(out, t->sets->pdata[i]);
        delim = "\n";
    }
    for (guint i = 0; i < t->chains->len; i++) {
        g_string_append(out, delim);
        append_chain(out, t->chains->pdata[i]);
        delim = "\n";
    }
    g_string_append(out, "}\n");
}

/* ------------------------------------------------------------------ describing steps */

const NftExpr *
nft_rule_action(const NftRule *r)
{
    for (guint i = 0; i < r->exprs->len; i++) {
        const NftExpr *e = &g_array_index(r->exprs, NftExpr, i);
        switch (e->kind) {
        case NFT_EXPR_MARK_OR:
        case NFT_EXPR_MARK_XOR:
        case NFT_EXPR_VMAP:
        case NFT_EXPR_NUMGEN:
        case NFT_EXPR_UPDATE_SADDR:
        case NFT_EXPR_DNAT:
        case NFT_EXPR_MASQUERADE:
        case NFT_EXPR_VERDICT:
            return e;
        case NFT_EXPR_CT_STATE_NEW:
        case NFT_EXPR_ADDR:
        case NFT_EXPR_ADDR_SET:
        case NFT_EXPR_FIB_LOCAL:
        case NFT_EXPR_IIFNAME:
        case NFT_EXPR_L4PROTO:
        case NFT_EXPR_DPORT:
        case NFT_EXPR_MARK_CLEAR:
            break;
        }
    }
    return NULL;
}

const char *
nft_rule_comment(const NftRule *r)
{
    return r->comment;
}

void
nft_step_describe(const NfStep *st, GString *out)
{
    const NftRule *r = st->nft_rule;
    const NftExpr *e = r != NULL ? nft_rule_action(r) : NULL;
    if (e == NULL)
        return;
    SimFamily f = r->chain->table->family;
    if (e->kind == NFT_EXPR_VMAP && st->nft_choice >= 0 &&
        (guint)st->nft_choice < e->set->elems->len) {
        g_string_append_printf(out, "@%s: ", e->set->name);
        append_elem(out, e->set, &g_array_index(e->set->elems, NftElem, st->nft_choice));
    } else if (e->kind == NFT_EXPR_NUMGEN && st->nft_choice >= 0 && (guint)st->nft_choice < e->n) {
        g_string_append_printf(out, "numgen gave %d of %u: goto %s", st->nft_choice, e->n,
                               e->chains[st->nft_choice]->name);
    } else {
        append_expr(out, f, e);
    }
}
