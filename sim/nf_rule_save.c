/* SPDX-License-Identifier: Apache-2.0 */
/* iptables-save output: rules and whole tables printed in iptables-save's normal form.
 *
 * Nothing keeps a rule's original arguments: as iptables-save does from the kernel's blob, the
 * text is regenerated from the parsed rule - the IP part, each match's options in the order its
 * extension's save function prints them, then the target. Counters always print as [0:0] and
 * built-in chains always with policy ACCEPT.
 */
#include "sim/netfilter_private.h"

#include "sim/ipset.h"

#include "sim/sim_packet.h"

#include <stdarg.h>
#include <string.h>

/* Appends the strings, a NULL-terminated list: the printf-free path for the parts every rule
 * has (a table of 10,000 Services saves hundreds of thousands of rules). */
static void save_strs(GString *out, ...) G_GNUC_NULL_TERMINATED;

static void
save_strs(GString *out, ...)
{
    va_list ap;
    va_start(ap, out);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
        g_string_append(out, s);
    va_end(ap);
}

/* Appends n in decimal. */
static void
save_uint(GString *out, guint n)
{
    char buf[16];
    gsize i = sizeof buf;
    do {
        buf[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    g_string_append_len(out, buf + i, (gssize)(sizeof buf - i));
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
    save_strs(out, inv ? " ! " : " ", opt, " ", sim_cidr_to_string(c, buf), NULL);
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
    for (gsize k = 0; k < G_N_ELEMENTS(nf_ctstate_names); k++) {
        if (states & (1u << k)) {
            g_string_append_printf(out, "%s%s", sep, nf_ctstate_names[k]);
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
    char prob[G_ASCII_DTOSTR_BUF_SIZE];
    save_strs(out, " -m ", nf_match_name((NfMatchKind)m->kind), NULL);
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
        save_strs(out, " -j ", t->name, NULL);
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
        if (t->flags & NF_TF_PORT)
            sim_sockaddr_to_string(&t->to, to);
        else
            sim_addr_to_string(&t->to.addr, to);
        save_strs(out, " -j ", nf_target_name(t->kind),
                  t->kind == NF_TARGET_DNAT ? " --to-destination " : " --to-source ", to, NULL);
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
    save_strs(out, "-A ", r->chain, NULL);
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
