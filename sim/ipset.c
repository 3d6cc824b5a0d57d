/* SPDX-License-Identifier: Apache-2.0 */
/* IP sets attached to a ruleset: creation, members in ipset's syntax, packet matching for
 * xt_set, and printing as `ipset list` / `ipset save`.
 *
 * Models net/netfilter/ipset (ip_set_core.c and the hash:ip, hash:ip,port, hash:ip,port,ip,
 * hash:ip,port,net and bitmap:port types) as sim/ipset.h describes. A member is one IpsetKey;
 * hash types keep them in a GHashTable, hash:ip,port,net with its last address masked to its
 * cidr and a count of members per cidr, so a lookup probes each cidr in use, most specific
 * first, as the kernel's mtype_test_cidrs() does; bitmap:port keeps a bit per port.
 */
#include "sim/ipset.h"

#include "sim/netfilter_private.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(ipset-error-quark, ipset_error)
/* clang-format on */

/* One member: address, protocol and port, second address with its cidr (unused parts 0). */
typedef struct {
    SimAddr a;
    SimAddr b;
    guint16 port;
    guint8 proto;
    guint8 cidr; /* hash:ip,port,net: b's prefix length */
} IpsetKey;

struct Ipset {
    char *name;
    IpsetSpec spec;
    SimFamily family;
    const NfRuleset *rs;   /* the owner, for References */
    GHashTable *members;   /* IpsetKey* (owned) -> itself; hash types */
    guint cidr_count[129]; /* hash:ip,port,net: members per cidr */
    guint8 *bits;          /* bitmap:port: 65536 bits */
    guint n;
};

/* The sets of one ruleset. */
typedef struct {
    GPtrArray *sets;     /* Ipset*, owned, in creation order */
    GHashTable *by_name; /* name -> Ipset* */
} IpsetRegistry;

static const struct {
    const char *name;
    IpsetType type;
    guint dims;
    guint revision; /* as Linux 6.x reports it */
} ipset_types[] = {
    {"hash:ip", IPSET_HASH_IP, 1, 6},
    {"hash:ip,port", IPSET_HASH_IP_PORT, 2, 6},
    {"hash:ip,port,ip", IPSET_HASH_IP_PORT_IP, 3, 6},
    {"hash:ip,port,net", IPSET_HASH_IP_PORT_NET, 3, 8},
    {"bitmap:port", IPSET_BITMAP_PORT, 1, 3},
};

const char *
ipset_type_name(IpsetType type)
{
    return ipset_types[type].name;
}

gboolean
ipset_type_parse(const char *name, IpsetType *out)
{
    g_return_val_if_fail(name != NULL && out != NULL, FALSE);
    for (gsize i = 0; i < G_N_ELEMENTS(ipset_types); i++) {
        if (strcmp(name, ipset_types[i].name) == 0) {
            *out = ipset_types[i].type;
            return TRUE;
        }
    }
    return FALSE;
}

guint
ipset_type_dimensions(IpsetType type)
{
    return ipset_types[type].dims;
}

/* ------------------------------------------------------------------ keys */

/* GHashFunc over IpsetKey. */
static guint
key_hash(gconstpointer p)
{
    const IpsetKey *k = p;
    guint h = sim_addr_hash(&k->a);
    h = h * 31u + ((guint)k->proto << 16 | k->port);
    if (k->b.family != SIM_AF_NONE)
        h = h * 31u + sim_addr_hash(&k->b) + k->cidr;
    return h;
}

/* GEqualFunc over IpsetKey. */
static gboolean
key_equal(gconstpointer x, gconstpointer y)
{
    const IpsetKey *a = x, *b = y;
    return a->port == b->port && a->proto == b->proto && a->cidr == b->cidr &&
           sim_addr_equal(&a->a, &b->a) &&
           (a->b.family == SIM_AF_NONE ? b->b.family == SIM_AF_NONE : sim_addr_equal(&a->b, &b->b));
}

/* Clears the host bits of addr beyond prefix len. */
static void
addr_mask(SimAddr *addr, guint len)
{
    guint bytes = addr->family == SIM_AF_INET ? 4 : 16;
    for (guint i = 0; i < bytes; i++) {
        guint keep = len >= (i + 1) * 8 ? 8 : (len > i * 8 ? len - i * 8 : 0);
        addr->b[i] &= (guint8)(keep == 0 ? 0 : 0xff << (8 - keep));
    }
}

/* ------------------------------------------------------------------ the registry */

/* Releases a set. */
static void
ipset_free(gpointer p)
{
    Ipset *s = p;
    g_free(s->name);
    if (s->members != NULL)
        g_hash_table_unref(s->members);
    g_free(s->bits);
    g_free(s);
}

/* Releases a registry and its sets (the ruleset's ipsets_free). */
static void
registry_free(gpointer p)
{
    IpsetRegistry *r = p;
    g_hash_table_unref(r->by_name);
    g_ptr_array_unref(r->sets);
    g_free(r);
}

/* The registry of rs, created on first use when create is TRUE. */
static IpsetRegistry *
registry_get(const NfRuleset *rs, gboolean create)
{
    if (rs->ipsets != NULL || !create)
        return rs->ipsets;
    NfRuleset *w = (NfRuleset *)rs;
    IpsetRegistry *r = g_new0(IpsetRegistry, 1);
    r->sets = g_ptr_array_new_with_free_func(ipset_free);
    r->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    w->ipsets = r;
    w->ipsets_free = registry_free;
    return r;
}

Ipset *
ipset_create(NfRuleset *rs, const char *name, const IpsetSpec *spec, GError **error)
{
    g_return_val_if_fail(rs != NULL && name != NULL && spec != NULL, NULL);
    g_return_val_if_fail((guint)spec->type < G_N_ELEMENTS(ipset_types), NULL);
    if (name[0] == '\0' || strlen(name) > 31) { /* IPSET_MAXNAMELEN - 1 */
        g_set_error(error, IPSET_ERROR, IPSET_ERROR_PARSE, "invalid set name \"%s\"", name);
        return NULL;
    }
    IpsetRegistry *r = registry_get(rs, TRUE);
    if (g_hash_table_contains(r->by_name, name)) {
        g_set_error(error, IPSET_ERROR, IPSET_ERROR_EXISTS,
                    "Set cannot be created: set with the same name already exists");
        return NULL;
    }
    Ipset *s = g_new0(Ipset, 1);
    s->name = g_strdup(name);
    s->spec = *spec;
    s->family = rs->family;
    s->rs = rs;
    if (spec->type == IPSET_BITMAP_PORT) {
        if (spec->range_from == 0 && spec->range_to == 0)
            s->spec.range_to = G_MAXUINT16;
        s->bits = g_new0(guint8, 65536 / 8);
    } else {
        s->spec.hashsize = spec->hashsize != 0 ? spec->hashsize : 1024;
        s->spec.maxelem = spec->maxelem != 0 ? spec->maxelem : 65536;
        s->members = g_hash_table_new_full(key_hash, key_equal, g_free, NULL);
    }
    g_ptr_array_add(r->sets, s);
    g_hash_table_insert(r->by_name, s->name, s);
    return s;
}

Ipset *
ipset_lookup(const NfRuleset *rs, const char *name)
{
    g_return_val_if_fail(rs != NULL && name != NULL, NULL);
    IpsetRegistry *r = registry_get(rs, FALSE);
    return r != NULL ? g_hash_table_lookup(r->by_name, name) : NULL;
}

guint
ipset_count(const NfRuleset *rs)
{
    g_return_val_if_fail(rs != NULL, 0);
    IpsetRegistry *r = registry_get(rs, FALSE);
    return r != NULL ? r->sets->len : 0;
}

const char *
ipset_name(const Ipset *s)
{
    return s->name;
}

IpsetType
ipset_type(const Ipset *s)
{
    return s->spec.type;
}

guint
ipset_size(const Ipset *s)
{
    return s->n;
}

/* The number of rules of table that reference s. */
static guint
table_references(const NfTable *t, const Ipset *s)
{
    guint n = 0;
    guint pos = 0;
    for (const NfChain *c; (c = nf_chain_table_next(&t->chains, &pos)) != NULL;) {
        for (guint i = 0; i < c->n_rules; i++) {
            const NfRule *r = c->rules[i];
            gboolean uses = FALSE;
            for (guint m = 0; m < r->n_matches; m++)
                uses |= r->matches[m].kind == NF_MATCH_SET && r->matches[m].u.set.set == s;
            n += uses ? 1 : 0;
        }
    }
    return n;
}

guint
ipset_references(const Ipset *s)
{
    g_return_val_if_fail(s != NULL, 0);
    guint n = 0;
    for (guint t = 0; t < NF_TABLE_COUNT; t++)
        n += table_references(&s->rs->tables[t], s);
    return n;
}

/* ------------------------------------------------------------------ members */

/* Parses "[PROTO:]PORT" (tcp when no protocol is given, as ipset does). */
static gboolean
parse_proto_port(const char *text, guint8 *proto, guint16 *port)
{
    const char *colon = strchr(text, ':');
    const char *num = text;
    *proto = SIM_PROTO_TCP;
    if (colon != NULL) {
        g_autofree char *name = g_strndup(text, (gsize)(colon - text));
        SimProto p;
        if (!sim_proto_parse(name, &p) ||
            (p != SIM_PROTO_TCP && p != SIM_PROTO_UDP && p != SIM_PROTO_SCTP))
            return FALSE;
        *proto = (guint8)p;
        num = colon + 1;
    }
    guint64 v;
    if (!g_ascii_string_to_unsigned(num, 10, 0, G_MAXUINT16, &v, NULL))
        return FALSE;
    *port = (guint16)v;
    return TRUE;
}

/* Parses one address of the set's family into out (cidr: "A/LEN" allowed, length in *len). */
static gboolean
parse_member_addr(const Ipset *s, const char *text, gboolean cidr, SimAddr *out, guint *len,
                  GError **error)
{
    SimCidr c;
    gboolean ok = cidr ? sim_cidr_parse(text, &c) : sim_addr_parse(text, &c.addr);
    if (!ok) {
        g_set_error(error, IPSET_ERROR, IPSET_ERROR_PARSE, "invalid address \"%s\"", text);
        return FALSE;
    }
    if (c.addr.family != s->family) {
        g_set_error(error, IPSET_ERROR, IPSET_ERROR_FAMILY,
                    "%s: address family does not match the set's", text);
        return FALSE;
    }
    *out = c.addr;
    if (len != NULL) {
        *len = cidr ? c.prefix : (s->family == SIM_AF_INET ? 32 : 128);
        if (*len == 0) { /* the kernel refuses /0 in hash:*net */
            g_set_error(error, IPSET_ERROR, IPSET_ERROR_PARSE, "invalid cidr in \"%s\"", text);
            return FALSE;
        }
        addr_mask(out, *len);
    }
    return TRUE;
}

/* Parses member for s into k. */
static gboolean
parse_member(const Ipset *s, const char *member, IpsetKey *k, GError **error)
{
    memset(k, 0, sizeof *k);
    g_auto(GStrv) parts = g_strsplit(member, ",", -1);
    guint dims = ipset_type_dimensions(s->spec.type);
    if (g_strv_length(parts) != dims) {
        g_set_error(error, IPSET_ERROR, IPSET_ERROR_PARSE, "\"%s\" is not a %s member", member,
                    ipset_type_name(s->spec.type));
        return FALSE;
    }
    if (s->spec.type == IPSET_BITMAP_PORT) {
        guint8 proto;
        if (!parse_proto_port(parts[0], &proto, &k->port)) {
            g_set_error(error, IPSET_ERROR, IPSET_ERROR_PARSE, "invalid port \"%s\"", member);
            return FALSE;
        }
        return TRUE;
    }
    if (!parse_member_addr(s, parts[0], FALSE, &k->a, NULL, error))
        return FALSE;
    if (dims >= 2 && !parse_proto_port(parts[1], &k->proto, &k->port)) {
        g_set_error(error, IPSET_ERROR, IPSET_ERROR_PARSE, "invalid protocol:port \"%s\"",
                    parts[1]);
        return FALSE;
    }
    guint len = 0;
    gboolean net = s->spec.type == IPSET_HASH_IP_PORT_NET;
    if (dims == 3 && !parse_member_addr(s, parts[2], net, &k->b, &len, error))
        return FALSE;
    k->cidr = net ? (guint8)len : 0;
    return TRUE;
}

/* Whether key k is in s (the test all of add, del and test share). */
static gboolean
key_present(const Ipset *s, const IpsetKey *k)
{
    if (s->spec.type == IPSET_BITMAP_PORT)
        return (s->bits[k->port / 8] & (1u << (k->port % 8))) != 0;
    return g_hash_table_contains(s->members, k);
}

gboolean
ipset_add(Ipset *s, const char *member, GError **error)
{
    g_return_val_if_fail(s != NULL && member != NULL, FALSE);
    IpsetKey k;
    if (!parse_member(s, member, &k, error))
        return FALSE;
    gboolean bitmap = s->spec.type == IPSET_BITMAP_PORT;
    const char *why = NULL;
    IpsetError code = IPSET_ERROR_RANGE;
    if (bitmap && (k.port < s->spec.range_from || k.port > s->spec.range_to)) {
        why = "Element is out of the range of the set";
    } else if (key_present(s, &k)) {
        why = "Element cannot be added to the set: it's already added";
        code = IPSET_ERROR_EXISTS;
    } else if (!bitmap && s->n >= s->spec.maxelem) {
        why = "Hash is full, cannot add more elements";
    }
    if (why != NULL) {
        g_set_error(error, IPSET_ERROR, code, "%s", why);
        return FALSE;
    }
    if (bitmap) {
        s->bits[k.port / 8] |= (guint8)(1u << (k.port % 8));
    } else {
        g_hash_table_add(s->members, g_memdup2(&k, sizeof k));
        s->cidr_count[k.cidr]++;
    }
    s->n++;
    return TRUE;
}

gboolean
ipset_del(Ipset *s, const char *member)
{
    g_return_val_if_fail(s != NULL && member != NULL, FALSE);
    IpsetKey k;
    if (!parse_member(s, member, &k, NULL) || !ipset_test(s, member))
        return FALSE;
    if (s->spec.type == IPSET_BITMAP_PORT) {
        s->bits[k.port / 8] &= (guint8) ~(1u << (k.port % 8));
    } else {
        g_hash_table_remove(s->members, &k);
        s->cidr_count[k.cidr]--;
    }
    s->n--;
    return TRUE;
}

gboolean
ipset_test(const Ipset *s, const char *member)
{
    g_return_val_if_fail(s != NULL && member != NULL, FALSE);
    IpsetKey k;
    return parse_member(s, member, &k, NULL) && key_present(s, &k);
}

/* ------------------------------------------------------------------ matching */

/* Whether a hash:ip,port,net key k (b unmasked) is in s under one of the cidrs in use, most
 * specific first. */
static gboolean
match_nets(const Ipset *s, IpsetKey *k)
{
    SimAddr full = k->b;
    for (gint len = s->family == SIM_AF_INET ? 32 : 128; len > 0; len--) {
        if (s->cidr_count[len] == 0)
            continue;
        k->b = full;
        addr_mask(&k->b, (guint)len);
        k->cidr = (guint8)len;
        if (g_hash_table_contains(s->members, k))
            return TRUE;
    }
    return FALSE;
}

gboolean
ipset_match(const Ipset *s, const SimPacket *pkt, const gboolean *src, guint n)
{
    g_return_val_if_fail(s != NULL && pkt != NULL && src != NULL, FALSE);
    guint dims = ipset_type_dimensions(s->spec.type);
    if (n < dims || pkt->src.addr.family != s->family)
        return FALSE;
    gboolean ports =
        pkt->proto == SIM_PROTO_TCP || pkt->proto == SIM_PROTO_UDP || pkt->proto == SIM_PROTO_SCTP;
    if (s->spec.type == IPSET_BITMAP_PORT) {
        guint16 port = src[0] ? pkt->src.port : pkt->dst.port;
        return ports && port >= s->spec.range_from && port <= s->spec.range_to &&
               (s->bits[port / 8] & (1u << (port % 8))) != 0;
    }
    IpsetKey k;
    memset(&k, 0, sizeof k);
    k.a = src[0] ? pkt->src.addr : pkt->dst.addr;
    if (dims >= 2) {
        if (!ports)
            return FALSE;
        k.proto = pkt->proto;
        k.port = src[1] ? pkt->src.port : pkt->dst.port;
    }
    if (dims == 3)
        k.b = src[2] ? pkt->src.addr : pkt->dst.addr;
    if (s->spec.type == IPSET_HASH_IP_PORT_NET)
        return match_nets(s, &k);
    return g_hash_table_contains(s->members, &k);
}

/* ------------------------------------------------------------------ printing */

/* Orders keys: first address, protocol, port, second address, cidr. */
static gint
key_compare(gconstpointer x, gconstpointer y)
{
    const IpsetKey *a = *(const IpsetKey *const *)x, *b = *(const IpsetKey *const *)y;
    int c = memcmp(a->a.b, b->a.b, sizeof a->a.b);
    if (c != 0)
        return c;
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    c = memcmp(a->b.b, b->b.b, sizeof a->b.b);
    if (c != 0)
        return c;
    return (int)a->cidr - (int)b->cidr;
}

/* Appends key k of s as ipset prints a member. */
static void
format_key(const Ipset *s, const IpsetKey *k, GString *out)
{
    char a[SIM_ADDR_STRLEN];
    guint dims = ipset_type_dimensions(s->spec.type);
    g_string_append(out, sim_addr_to_string(&k->a, a));
    if (dims >= 2)
        g_string_append_printf(out, ",%s:%u", sim_proto_name((SimProto)k->proto), k->port);
    if (dims == 3)
        g_string_append_printf(out, ",%s", sim_addr_to_string(&k->b, a));
    guint full = s->family == SIM_AF_INET ? 32 : 128;
    if (s->spec.type == IPSET_HASH_IP_PORT_NET && k->cidr != full)
        g_string_append_printf(out, "/%u", k->cidr);
}

/* Calls func on each member of s as text, in sorted order. */
static void
foreach_member(const Ipset *s, void (*func)(const Ipset *s, const char *m, gpointer data),
               gpointer data)
{
    g_autoptr(GString) text = g_string_new(NULL);
    if (s->spec.type == IPSET_BITMAP_PORT) {
        for (guint p = s->spec.range_from; p <= s->spec.range_to; p++) {
            if (!(s->bits[p / 8] & (1u << (p % 8))))
                continue;
            g_string_printf(text, "%u", p);
            func(s, text->str, data);
        }
        return;
    }
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(s->members, NULL);
    qsort(keys, s->n, sizeof *keys, key_compare);
    for (guint i = 0; i < s->n; i++) {
        g_string_truncate(text, 0);
        format_key(s, keys[i], text);
        func(s, text->str, data);
    }
}

/* Appends the header options after the type, as `ipset save` and "Header:" spell them. */
static void
format_header(const Ipset *s, GString *out)
{
    if (s->spec.type == IPSET_BITMAP_PORT)
        g_string_append_printf(out, "range %u-%u", s->spec.range_from, s->spec.range_to);
    else
        g_string_append_printf(out, "family %s hashsize %u maxelem %u",
                               s->family == SIM_AF_INET ? "inet" : "inet6", s->spec.hashsize,
                               s->spec.maxelem);
    if (s->spec.comment)
        g_string_append(out, " comment");
}

/* An estimate of the kernel's "Size in memory": the set header, the bucket array (hash) or
 * bitmap, and each member's element with its comment extension. */
static guint
memory_estimate(const Ipset *s)
{
    static const guint elem[] = {16, 20, 36, 40, 0};
    guint ext = s->spec.comment ? 8 : 0;
    if (s->spec.type == IPSET_BITMAP_PORT) { /* the bitmap, and an extension per port */
        guint ports = s->spec.range_to - s->spec.range_from + 1u;
        return 200 + (ports + 7) / 8 + ports * ext;
    }
    return 200 + 8u * s->spec.hashsize / 64u + s->n * (elem[s->spec.type] + ext);
}

/* foreach_member() callback: one member line. */
static void
list_member(const Ipset *s, const char *m, gpointer data)
{
    g_string_append_printf(data, "%s\n", m);
}

void
ipset_list(const Ipset *s, GString *out)
{
    g_return_if_fail(s != NULL && out != NULL);
    g_string_append_printf(out, "Name: %s\nType: %s\nRevision: %u\nHeader: ", s->name,
                           ipset_type_name(s->spec.type), ipset_types[s->spec.type].revision);
    format_header(s, out);
    g_string_append_printf(out,
                           "\nSize in memory: %u\nReferences: %u\nNumber of entries: %u\n"
                           "Members:\n",
                           memory_estimate(s), ipset_references(s), s->n);
    foreach_member(s, list_member, out);
}

void
ipset_list_all(const NfRuleset *rs, GString *out)
{
    g_return_if_fail(rs != NULL && out != NULL);
    IpsetRegistry *r = registry_get(rs, FALSE);
    for (guint i = 0; r != NULL && i < r->sets->len; i++) {
        if (i > 0)
            g_string_append_c(out, '\n');
        ipset_list(g_ptr_array_index(r->sets, i), out);
    }
}

/* foreach_member() callback: one "add" line. */
static void
save_member(const Ipset *s, const char *m, gpointer data)
{
    g_string_append_printf(data, "add %s %s\n", s->name, m);
}

void
ipset_save_all(const NfRuleset *rs, GString *out)
{
    g_return_if_fail(rs != NULL && out != NULL);
    IpsetRegistry *r = registry_get(rs, FALSE);
    for (guint i = 0; r != NULL && i < r->sets->len; i++) {
        const Ipset *s = g_ptr_array_index(r->sets, i);
        g_string_append_printf(out, "create %s %s ", s->name, ipset_type_name(s->spec.type));
        format_header(s, out);
        g_string_append_c(out, '\n');
        foreach_member(s, save_member, out);
    }
}
