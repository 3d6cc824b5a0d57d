/* SPDX-License-Identifier: Apache-2.0 */
/* iptables-save output: rules and whole tables printed in iptables-save's normal form.
 *
 * Nothing keeps a rule's original arguments: as iptables-save does from the kernel's blob, the
 * text is regenerated from the parsed rule - the IP part, each match's options in the order its
 * extension's save function prints them, then the target. Counters always print as [0:0] and
 * built-in chains always with policy ACCEPT.
 *
 * A 10,000-Service nat table is 680,000 lines (50 MB), so the hot path is printf-free (numbers,
 * IPv4 addresses and the statistic's 11 decimals are formatted by hand, exactly as printf
 * would), appends are plain copies, and nf_ruleset_save_stream() hands the text to a stream in
 * 256 KiB chunks instead of holding all of it.
 */
#include "sim/netfilter_private.h"

#include "sim/ipset.h"

#include "sim/sim_packet.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends n bytes of s: a memcpy when out has room, as it has but every few hundred KiB (a
 * 10,000-Service table's save makes ten million appends; g_string_append_len() is a call that
 * checks for overlap each time). */
static inline void
save_bytes(GString *out, const char *s, gsize n)
{
    if (G_LIKELY(out->len + n < out->allocated_len)) {
        memcpy(out->str + out->len, s, n);
        out->len += n;
        out->str[out->len] = '\0';
        return;
    }
    g_string_append_len(out, s, (gssize)n);
}

/* Appends a string literal. */
#define save_lit(out, lit) save_bytes(out, "" lit "", sizeof(lit) - 1)

/* Appends the string s. */
static inline void
save_str(GString *out, const char *s)
{
    save_bytes(out, s, strlen(s));
}

/* Appends the strings, a NULL-terminated list: the printf-free path for the parts every rule
 * has (a table of 10,000 Services saves hundreds of thousands of rules). */
static void save_strs(GString *out, ...) G_GNUC_NULL_TERMINATED;

static void
save_strs(GString *out, ...)
{
    va_list ap;
    va_start(ap, out);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
        save_str(out, s);
    va_end(ap);
}

/* Writes n in decimal ending just before end; returns where the digits start. */
static char *
save_digits(char *end, guint64 n)
{
    do {
        *--end = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    return end;
}

/* Appends n in decimal. */
static void
save_uint(GString *out, guint n)
{
    char buf[24];
    char *start = save_digits(buf + sizeof buf, n);
    save_bytes(out, start, (gsize)(buf + sizeof buf - start));
}

/* Appends an address as inet_ntop() prints it (sim_addr_to_string() writes IPv4 without
 * printf: every rule of a 10,000-Service table has one or two). */
static void
save_addr(GString *out, const SimAddr *a)
{
    char text[SIM_ADDR_STRLEN];
    save_str(out, sim_addr_to_string(a, text));
}

/* Appends " VALUE" as xtables_save_string() prints it: bare when the value is non-empty and
 * only has [A-Za-z0-9_-], otherwise in double quotes with ", \ and ' escaped. */
static void
save_string(GString *out, const char *s)
{
    static const char bare[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    gsize n = strspn(s, bare);
    g_string_append_c(out, ' ');
    if (n > 0 && s[n] == '\0') {
        save_str(out, s);
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
    save_str(out, inv ? " ! " : " ");
    save_str(out, opt);
    save_lit(out, " ");
    save_addr(out, &c->addr);
    g_string_append_c(out, '/');
    save_uint(out, c->prefix);
}

/* Appends " [!] -i NAME[+]"; a bare "+" matches every interface and prints nothing. */
static void
save_iface(GString *out, char letter, const char *name, gboolean plus, gboolean inv)
{
    if (name[0] == '\0' && plus)
        return;
    save_strs(out, inv ? " ! -" : " -", NULL);
    g_string_append_c(out, letter);
    save_strs(out, " ", name, plus ? "+" : "", NULL);
}

/* Appends " [!] --sport LOW[:HIGH]". */
static void
save_port(GString *out, const char *opt, const guint16 r[2], gboolean inv)
{
    save_strs(out, inv ? " ! " : " ", opt, " ", NULL);
    save_uint(out, r[0]);
    if (r[0] != r[1]) {
        g_string_append_c(out, ':');
        save_uint(out, r[1]);
    }
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
    for (gsize k = 0; k < G_N_ELEMENTS(nf_addrtype_names); k++) {
        if (types & (1u << k)) {
            g_string_append_printf(out, "%s%s", sep, nf_addrtype_names[k]);
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
        save_str(out, " !");
    save_str(out, m->flags & NF_MF_SET ? " --set" : " --rcheck");
    if (m->u.recent.seconds != 0)
        g_string_append_printf(out, " --seconds %u", m->u.recent.seconds);
    if (m->u.recent.reap)
        save_str(out, " --reap");
    g_string_append_printf(out, " --name %s",
                           m->u.recent.name != NULL ? m->u.recent.name : "DEFAULT");
    g_string_append_printf(out, " --mask %s", sim_addr_to_string(&m->u.recent.mask, mask));
    save_str(out, m->flags & NF_MF_RDEST ? " --rdest" : " --rsource");
}

/* Appends " --ctstate A,B" with the states in the kernel's bit order. */
static void
save_ctstate(GString *out, guint32 states, gboolean inv)
{
    g_string_append_printf(out, "%s --ctstate ", inv ? " !" : "");
    const char *sep = "";
    for (gsize k = 0; k < G_N_ELEMENTS(nf_ctstate_names); k++) {
        if (states & (1u << k)) {
            g_string_append_printf(out, "%s%s", sep, nf_ctstate_names[k]);
            sep = ",";
        }
    }
}

/* Appends the statistic match's probability, the 31-bit fraction f / 2^31, as iptables-save's
 * "%.11f" prints it. f / 2^31 * 10^11 = f * 5^11 / 2^20 exactly (below 2^57), rounded to
 * nearest with ties to even as glibc's printf rounds an exact binary value. */
static void
save_probability(GString *out, guint32 fraction)
{
    const guint64 scaled = (guint64)fraction * G_GUINT64_CONSTANT(48828125); /* 5^11 */
    guint64 q = scaled >> 20, rem = scaled & ((1u << 20) - 1);
    if (rem > (1u << 19) || (rem == (1u << 19) && (q & 1) != 0))
        q++;
    char buf[24], *end = buf + sizeof buf;
    char *p = save_digits(end, q % G_GUINT64_CONSTANT(100000000000));
    while (end - p < 11)
        *--p = '0';
    *--p = '.';
    p = save_digits(p, q / G_GUINT64_CONSTANT(100000000000));
    save_bytes(out, p, (gsize)(end - p));
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

/* Appends set's "[!] --match-set NAME DIRS" as libxt_set's save function does. */
static void
save_set(GString *out, const NfMatch *m, gboolean inv)
{
    g_string_append_printf(out, "%s --match-set %s ", inv ? " !" : "", ipset_name(m->u.set.set));
    for (guint i = 0; i < m->u.set.n_dirs; i++)
        g_string_append_printf(out, "%s%s", i > 0 ? "," : "",
                               (m->u.set.src_dirs & (1u << i)) ? "src" : "dst");
}

/* Appends physdev's options in libxt_physdev's save order. */
static void
save_physdev(GString *out, const NfMatch *m)
{
    guint8 g = m->u.physdev.given, inv = m->u.physdev.inv;
#define PHYSDEV_NEG(bit) ((inv & (bit)) ? " !" : "")
    if (g & NF_PHYSDEV_IN)
        g_string_append_printf(out, "%s --physdev-in %s", PHYSDEV_NEG(NF_PHYSDEV_IN),
                               m->u.physdev.in);
    if (g & NF_PHYSDEV_ISIN)
        g_string_append_printf(out, "%s --physdev-is-in", PHYSDEV_NEG(NF_PHYSDEV_ISIN));
    if (g & NF_PHYSDEV_OUT)
        g_string_append_printf(out, "%s --physdev-out %s", PHYSDEV_NEG(NF_PHYSDEV_OUT),
                               m->u.physdev.out);
    if (g & NF_PHYSDEV_ISOUT)
        g_string_append_printf(out, "%s --physdev-is-out", PHYSDEV_NEG(NF_PHYSDEV_ISOUT));
    if (g & NF_PHYSDEV_BRIDGED)
        g_string_append_printf(out, "%s --physdev-is-bridged", PHYSDEV_NEG(NF_PHYSDEV_BRIDGED));
#undef PHYSDEV_NEG
}

/* Appends ipvs's options as libxt_ipvs's save does ("--vproto 6", "--vaddr A[/LEN]" without
 * "/32"). */
static void
save_ipvs(GString *out, const NfMatch *m)
{
    guint8 g = m->u.ipvs.given, inv = m->u.ipvs.inv;
    char a[SIM_ADDR_STRLEN];
#define IPVS_NEG(bit) ((inv & (bit)) ? " !" : "")
    if (g == NF_IPVS_PROPERTY)
        g_string_append_printf(out, "%s --ipvs", IPVS_NEG(NF_IPVS_PROPERTY));
    if (g & NF_IPVS_PROTO)
        g_string_append_printf(out, "%s --vproto %u", IPVS_NEG(NF_IPVS_PROTO), m->u.ipvs.proto);
    if (g & NF_IPVS_VADDR) {
        const SimCidr *c = &m->u.ipvs.vaddr;
        g_string_append_printf(out, "%s --vaddr %s", IPVS_NEG(NF_IPVS_VADDR),
                               sim_addr_to_string(&c->addr, a));
        if (!sim_cidr_is_host(c))
            g_string_append_printf(out, "/%u", c->prefix);
    }
    if (g & NF_IPVS_VPORT)
        g_string_append_printf(out, "%s --vport %u", IPVS_NEG(NF_IPVS_VPORT), m->u.ipvs.vport);
    if (g & NF_IPVS_DIR)
        g_string_append_printf(out, "%s --vdir %s", IPVS_NEG(NF_IPVS_DIR),
                               m->u.ipvs.reply ? "REPLY" : "ORIGINAL");
    if (g & NF_IPVS_METHOD)
        g_string_append_printf(out, "%s --vmethod MASQ", IPVS_NEG(NF_IPVS_METHOD));
#undef IPVS_NEG
}

/* Appends " -m NAME" and the match's options in the extension's own order. */
static void
save_match(GString *out, const NfMatch *m)
{
    gboolean inv = (m->flags & NF_MF_INVERT) != 0;
    save_lit(out, " -m ");
    save_str(out, nf_match_name((NfMatchKind)m->kind));
    switch ((NfMatchKind)m->kind) {
    case NF_MATCH_COMMENT:
        save_lit(out, " --comment");
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
        save_str(out, inv ? " ! --mark" : " --mark");
        save_mark_value(out, m->u.mark.value, m->u.mark.mask);
        break;
    case NF_MATCH_STATISTIC:
        save_strs(out, " --mode random", inv ? " !" : "", " --probability ", NULL);
        save_probability(out, m->u.probability);
        break;
    case NF_MATCH_RECENT:
        save_recent(out, m);
        break;
    case NF_MATCH_CONNTRACK:
        save_ctstate(out, m->u.ctstate, inv);
        break;
    case NF_MATCH_NFACCT:
        save_str(out, " --nfacct-name");
        save_string(out, m->u.nfacct);
        break;
    case NF_MATCH_SET:
        save_set(out, m, inv);
        break;
    case NF_MATCH_PHYSDEV:
        save_physdev(out, m);
        break;
    case NF_MATCH_IPVS:
        save_ipvs(out, m);
        break;
    }
}

/* Appends a NAT target's address, "IP", "IP:PORT" or "[IPv6]:PORT", as sim_sockaddr_to_string()
 * would. */
static void
save_nat_to(GString *out, const SimSockAddr *to, gboolean port)
{
    gboolean brackets = port && to->addr.family == SIM_AF_INET6;
    if (brackets)
        g_string_append_c(out, '[');
    save_addr(out, &to->addr);
    if (brackets)
        g_string_append_c(out, ']');
    if (port) {
        g_string_append_c(out, ':');
        save_uint(out, to->port);
    }
}

/* Appends " -j TARGET" and its options as the target's save function prints them. */
static void
save_target(GString *out, const NfRule *r)
{
    const NfTarget *t = &r->target;
    switch ((NfTargetKind)t->kind) {
    case NF_TARGET_NONE:
        return;
    case NF_TARGET_JUMP:
        save_lit(out, " -j ");
        save_str(out, t->name);
        return;
    case NF_TARGET_ACCEPT:
    case NF_TARGET_DROP:
    case NF_TARGET_RETURN:
        save_strs(out, " -j ", nf_target_name(t->kind), NULL);
        return;
    case NF_TARGET_REJECT:
        g_string_append_printf(out, " -j REJECT --reject-with %s", t->name);
        return;
    case NF_TARGET_DNAT:
    case NF_TARGET_SNAT:
        save_strs(out, " -j ", nf_target_name(t->kind),
                  t->kind == NF_TARGET_DNAT ? " --to-destination " : " --to-source ", NULL);
        save_nat_to(out, &t->to, (t->flags & NF_TF_PORT) != 0);
        return;
    case NF_TARGET_MASQUERADE:
        save_str(out, " -j MASQUERADE");
        save_str(out, t->flags & NF_TF_RANDOM ? " --random" : "");
        save_str(out, t->flags & NF_TF_RANDOM_FULLY ? " --random-fully" : "");
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
    save_lit(out, "-A ");
    save_str(out, r->chain);
    if (f & NF_RF_SRC)
        save_cidr(out, "-s", &r->src, f & NF_RF_INV_SRC);
    if (f & NF_RF_DST)
        save_cidr(out, "-d", &r->dst, f & NF_RF_INV_DST);
    if (f & NF_RF_IIF)
        save_iface(out, 'i', r->iif, f & NF_RF_IIF_PLUS, f & NF_RF_INV_IIF);
    if (f & NF_RF_OIF)
        save_iface(out, 'o', r->oif, f & NF_RF_OIF_PLUS, f & NF_RF_INV_OIF);
    if (f & NF_RF_PROTO)
        save_strs(out, f & NF_RF_INV_PROTO ? " ! -p " : " -p ", sim_proto_name((SimProto)r->proto),
                  NULL);
    for (guint i = 0; i < r->n_matches; i++)
        save_match(out, &r->matches[i]);
    save_target(out, r);
}

/* A user chain to save, with a copy of its name zero-padded to 32 bytes: sorting 180,000 of
 * these compares names eight bytes at a time in one array instead of chasing 180,000 chains
 * scattered through 100 MB of rules. */
typedef struct {
    char name[32]; /* NF_CHAIN_NAME_MAX + 1 fits */
    NfChain *chain;
} SaveChain;

/* Compares SaveChains by name in strcmp() order (unsigned bytes, a shorter name first: its zero
 * padding sorts low), the order libiptc keeps user chains in. */
static gint
save_chain_cmp(gconstpointer a, gconstpointer b)
{
    const char *x = ((const SaveChain *)a)->name, *y = ((const SaveChain *)b)->name;
    for (gsize w = 0; w < 32; w += 8) {
        guint64 p, q;
        memcpy(&p, x + w, 8);
        memcpy(&q, y + w, 8);
        if (p != q)
            return GUINT64_FROM_BE(p) < GUINT64_FROM_BE(q) ? -1 : 1;
    }
    return 0;
}

/* The user chains of table in rs, sorted by name. Walks the ruleset's chain list, which is in
 * creation order and so close to memory order. (transfer full) */
static GArray *
save_user_chains(const NfRuleset *rs, NfTableId table)
{
    G_STATIC_ASSERT(NF_CHAIN_NAME_MAX < sizeof(((SaveChain *)NULL)->name));
    GArray *users = g_array_sized_new(FALSE, FALSE, sizeof(SaveChain), rs->tables[table].chains.n);
    for (guint i = 0; i < rs->chain_list->len; i++) {
        NfChain *c = rs->chain_list->pdata[i];
        if (c->table != table || c->builtin)
            continue;
        SaveChain sc = {.chain = c};
        memcpy(sc.name, c->name, MIN(strlen(c->name), sizeof sc.name - 1));
        g_array_append_val(users, sc);
    }
    g_array_sort(users, save_chain_cmp);
    return users;
}

/* Where the save goes: a GString, and optionally a stream the GString is emptied into whenever
 * it holds NF_SAVE_CHUNK bytes, so that a 50 MB table is never held in memory at once. */
typedef struct {
    GString *out;
    FILE *fp;    /* (nullable) */
    gboolean ok; /* FALSE once a write to fp failed */
    int error;   /* errno of that failure */
} NfSaveSink;

#define NF_SAVE_CHUNK (256 * 1024)

/* Writes what sink holds to its stream, if it has one and holds at least min bytes. */
static void
save_flush(NfSaveSink *sink, gsize min)
{
    if (sink->fp == NULL || sink->out->len < min || sink->out->len == 0)
        return;
    if (sink->ok && fwrite(sink->out->str, 1, sink->out->len, sink->fp) != sink->out->len) {
        sink->ok = FALSE;
        sink->error = errno;
    }
    g_string_truncate(sink->out, 0);
}

/* Appends every rule of c, one line each. */
static void
save_chain_rules(NfSaveSink *sink, const NfChain *c)
{
    for (guint i = 0; i < c->n_rules; i++) {
        nf_rule_format(c->rules[i], sink->out);
        g_string_append_c(sink->out, '\n');
        save_flush(sink, NF_SAVE_CHUNK);
    }
}

/* Appends ":NAME POLICY [0:0]" for a chain named name. */
static void
save_chain_header(GString *out, const char *name, gboolean builtin)
{
    save_strs(out, ":", name, builtin ? " ACCEPT [0:0]\n" : " - [0:0]\n", NULL);
}

/* The table's save into sink: header, chains, rules, COMMIT. */
static void
save_table(const NfRuleset *rs, NfTableId table, NfSaveSink *sink)
{
    const NfTable *t = &rs->tables[table];
    g_autoptr(GArray) users = save_user_chains(rs, table);
    const SaveChain *u = (const SaveChain *)(gpointer)users->data;
    save_strs(sink->out, "*", nf_table_name(table), "\n", NULL);
    for (guint h = 0; h < NF_HOOK_COUNT; h++) {
        if (t->builtin[h] != NULL)
            save_chain_header(sink->out, t->builtin[h]->name, TRUE);
    }
    for (guint i = 0; i < users->len; i++) {
        save_chain_header(sink->out, u[i].name, FALSE);
        save_flush(sink, NF_SAVE_CHUNK);
    }
    for (guint h = 0; h < NF_HOOK_COUNT; h++) {
        if (t->builtin[h] != NULL)
            save_chain_rules(sink, t->builtin[h]);
    }
    for (guint i = 0; i < users->len; i++) {
        /* The chains are in name order, so in no useful memory order: prefetch what the next
         * ones will read - the chain, its rule list, its first rule - or a
         * 10,000-Service table's save waits on a cache miss at every step. (In the loop body:
         * GCC 12 drops these prefetches from a helper function.) */
        if (i + 24 < users->len)
            __builtin_prefetch(u[i + 24].chain);
        if (i + 12 < users->len)
            __builtin_prefetch(u[i + 12].chain->rules);
        const NfChain *next = i + 4 < users->len ? u[i + 4].chain : NULL;
        if (next != NULL && next->n_rules > 0)
            __builtin_prefetch(next->rules[0]);
        save_chain_rules(sink, u[i].chain);
    }
    save_str(sink->out, "COMMIT\n");
}

void
nf_ruleset_save(const NfRuleset *rs, NfTableId table, GString *out)
{
    g_return_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT && out != NULL);
    NfSaveSink sink = {.out = out, .ok = TRUE};
    save_table(rs, table, &sink);
}

gboolean
nf_ruleset_save_stream(const NfRuleset *rs, NfTableId table, GString *buf, FILE *fp)
{
    g_return_val_if_fail(rs != NULL && (guint)table < NF_TABLE_COUNT, FALSE);
    g_return_val_if_fail(buf != NULL && fp != NULL, FALSE);
    NfSaveSink sink = {.out = buf, .fp = fp, .ok = TRUE};
    save_flush(&sink, 0);
    if (buf->allocated_len < NF_SAVE_CHUNK + 64 * 1024) { /* room for a chunk and a long rule */
        gsize len = buf->len;
        g_string_set_size(buf, NF_SAVE_CHUNK + 64 * 1024);
        g_string_truncate(buf, len);
    }
    save_table(rs, table, &sink);
    save_flush(&sink, NF_SAVE_CHUNK);
    if (!sink.ok)
        errno = sink.error;
    return sink.ok;
}
