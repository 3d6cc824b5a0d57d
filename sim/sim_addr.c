/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 and IPv6 addresses, CIDR prefixes and socket addresses as plain values.
 *
 * Models struct in_addr / in6_addr and the prefixes routes and iptables -s/-d use. Text
 * conversion goes through inet_pton()/inet_ntop(), so parsing accepts exactly the literal forms
 * the kernel tools accept and IPv6 output is RFC 5952 canonical. Host names, zone indices
 * ("fe80::1%eth0") and the old inet_aton() shorthands ("10.1") are deliberately not accepted.
 */
#include "sim/sim_addr.h"

#include "sim/sim_bytes.h"

#include <arpa/inet.h>
#include <string.h>

/* Number of address bytes of a family (4 or 16; 0 for SIM_AF_NONE). */
static guint
addr_len(guint8 family)
{
    switch ((SimFamily)family) {
    case SIM_AF_INET:
        return 4;
    case SIM_AF_INET6:
        return 16;
    case SIM_AF_NONE:
        return 0;
    }
    return 0;
}

/* Prefix length of a host route in family (32 or 128). */
static guint
addr_bits(guint8 family)
{
    return addr_len(family) * 8;
}

gboolean
sim_addr_parse(const char *text, SimAddr *out)
{
    g_return_val_if_fail(text != NULL && out != NULL, FALSE);
    SimAddr a = {0};
    if (strchr(text, ':') != NULL) {
        if (inet_pton(AF_INET6, text, a.b) != 1)
            return FALSE;
        a.family = SIM_AF_INET6;
    } else {
        if (inet_pton(AF_INET, text, a.b) != 1)
            return FALSE;
        a.family = SIM_AF_INET;
    }
    *out = a;
    return TRUE;
}

/* Parses a decimal prefix length of at most max; no sign, no spaces, no leading "+". */
static gboolean
parse_prefix(const char *text, guint max, guint8 *out)
{
    if (text[0] == '\0' || strlen(text) > 3)
        return FALSE;
    guint v = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
        v = v * 10 + (guint)(*p - '0');
    }
    if (v > max)
        return FALSE;
    *out = (guint8)v;
    return TRUE;
}

/* Clears every bit of c->addr beyond c->prefix. */
static void
cidr_clear_host_bits(SimCidr *c)
{
    guint len = addr_len(c->addr.family);
    for (guint i = 0; i < len; i++) {
        guint bit = i * 8;
        if (bit >= c->prefix)
            c->addr.b[i] = 0;
        else if (bit + 8 > c->prefix)
            c->addr.b[i] &= (guint8)(0xff << (8 - (c->prefix - bit)));
    }
}

gboolean
sim_cidr_parse(const char *text, SimCidr *out)
{
    g_return_val_if_fail(text != NULL && out != NULL, FALSE);
    SimCidr c = {0};
    const char *slash = strchr(text, '/');
    if (slash == NULL) {
        if (!sim_addr_parse(text, &c.addr))
            return FALSE;
        c.prefix = (guint8)addr_bits(c.addr.family);
        *out = c;
        return TRUE;
    }
    g_autofree char *addr = g_strndup(text, (gsize)(slash - text));
    if (!sim_addr_parse(addr, &c.addr))
        return FALSE;
    if (!parse_prefix(slash + 1, addr_bits(c.addr.family), &c.prefix))
        return FALSE;
    cidr_clear_host_bits(&c);
    *out = c;
    return TRUE;
}

/* Parses a decimal port 0..65535 with no sign and no spaces. */
static gboolean
parse_port(const char *text, guint16 *out)
{
    if (text[0] == '\0' || strlen(text) > 5)
        return FALSE;
    guint v = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
        v = v * 10 + (guint)(*p - '0');
    }
    if (v > 65535)
        return FALSE;
    *out = (guint16)v;
    return TRUE;
}

/* Parses "[v6]:PORT" or, with port_optional, "[v6]". */
static gboolean
sockaddr_parse_bracketed(const char *text, SimSockAddr *out, gboolean port_optional)
{
    const char *close = strchr(text, ']');
    if (close == NULL)
        return FALSE;
    g_autofree char *addr = g_strndup(text + 1, (gsize)(close - text - 1));
    SimSockAddr s = {0};
    if (!sim_addr_parse(addr, &s.addr) || s.addr.family != SIM_AF_INET6)
        return FALSE;
    if (close[1] == '\0') {
        if (!port_optional)
            return FALSE;
    } else if (close[1] != ':' || !parse_port(close + 2, &s.port)) {
        return FALSE;
    }
    *out = s;
    return TRUE;
}

gboolean
sim_sockaddr_parse(const char *text, SimSockAddr *out, gboolean port_optional)
{
    g_return_val_if_fail(text != NULL && out != NULL, FALSE);
    if (text[0] == '[')
        return sockaddr_parse_bracketed(text, out, port_optional);
    SimSockAddr s = {0};
    const char *colon = strchr(text, ':');
    if (colon == NULL || strchr(colon + 1, ':') != NULL) {
        /* No port, or an unbracketed IPv6 literal that can only be a bare address. */
        if (!port_optional || !sim_addr_parse(text, &s.addr))
            return FALSE;
        *out = s;
        return TRUE;
    }
    g_autofree char *addr = g_strndup(text, (gsize)(colon - text));
    if (!sim_addr_parse(addr, &s.addr) || s.addr.family != SIM_AF_INET)
        return FALSE;
    if (!parse_port(colon + 1, &s.port))
        return FALSE;
    *out = s;
    return TRUE;
}

/* Text forms are written by hand, not with printf: kube-proxy's render formats every endpoint
 * ("10.1.2.3:80", 150,000 of them on the 5,000-node cluster), and glibc's printf machinery -
 * which inet_ntop uses for IPv4 too - cost over 2,000 instructions per address. IPv6 keeps
 * inet_ntop for RFC 5952's zero compression. */

/* Writes a's text form at p (at most SIM_ADDR_STRLEN - 1 bytes) and returns the end (no NUL). */
static char *
put_addr(char *p, const SimAddr *a)
{
    switch ((SimFamily)a->family) {
    case SIM_AF_INET:
        for (guint i = 0; i < 4; i++) {
            if (i > 0)
                *p++ = '.';
            p = sim_put_decimal(p, a->b[i]);
        }
        return p;
    case SIM_AF_INET6:
        inet_ntop(AF_INET6, a->b, p, SIM_ADDR_STRLEN);
        return p + strlen(p);
    case SIM_AF_NONE:
        break;
    }
    memcpy(p, "<none>", 6);
    return p + 6;
}

const char *
sim_addr_to_string(const SimAddr *a, char *buf)
{
    g_return_val_if_fail(a != NULL && buf != NULL, NULL);
    *put_addr(buf, a) = '\0';
    return buf;
}

const char *
sim_cidr_to_string(const SimCidr *c, char *buf)
{
    g_return_val_if_fail(c != NULL && buf != NULL, NULL);
    char *p = put_addr(buf, &c->addr);
    *p++ = '/';
    *sim_put_decimal(p, c->prefix) = '\0';
    return buf;
}

const char *
sim_sockaddr_to_string(const SimSockAddr *s, char *buf)
{
    g_return_val_if_fail(s != NULL && buf != NULL, NULL);
    gboolean v6 = s->addr.family == SIM_AF_INET6;
    char *p = buf;
    if (v6)
        *p++ = '[';
    p = put_addr(p, &s->addr);
    if (v6)
        *p++ = ']';
    *p++ = ':';
    *sim_put_decimal(p, s->port) = '\0';
    return buf;
}

gboolean
sim_addr_equal(const SimAddr *a, const SimAddr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, sizeof a->b) == 0;
}

int
sim_addr_compare(const SimAddr *a, const SimAddr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    int c = memcmp(a->b, b->b, sizeof a->b);
    return (c > 0) - (c < 0);
}

guint
sim_addr_hash(gconstpointer p)
{
    const SimAddr *a = p;
    /* FNV-1a over family and bytes: cheap and good enough for hash buckets. */
    guint32 h = 2166136261u;
    h = (h ^ a->family) * 16777619u;
    guint len = addr_len(a->family);
    for (guint i = 0; i < len; i++)
        h = (h ^ a->b[i]) * 16777619u;
    return h;
}

gboolean
sim_addr_equal_func(gconstpointer a, gconstpointer b)
{
    return sim_addr_equal(a, b);
}

gboolean
sim_cidr_contains(const SimCidr *c, const SimAddr *a)
{
    if (c->addr.family != a->family)
        return FALSE;
    guint full = c->prefix / 8;
    if (memcmp(c->addr.b, a->b, full) != 0)
        return FALSE;
    guint rest = c->prefix % 8;
    if (rest == 0)
        return TRUE;
    guint8 mask = (guint8)(0xff << (8 - rest));
    return (a->b[full] & mask) == c->addr.b[full];
}

void
sim_cidr_from_addr(const SimAddr *a, SimCidr *out)
{
    out->addr = *a;
    out->prefix = (guint8)addr_bits(a->family);
}

gboolean
sim_cidr_is_host(const SimCidr *c)
{
    return c->addr.family != SIM_AF_NONE && c->prefix == addr_bits(c->addr.family);
}

guint64
sim_cidr_size(const SimCidr *c)
{
    guint host_bits = addr_bits(c->addr.family) - c->prefix;
    if (host_bits >= 64)
        return G_MAXUINT64;
    return (guint64)1 << host_bits;
}

gboolean
sim_cidr_nth(const SimCidr *c, guint64 offset, SimAddr *out)
{
    if (c->addr.family == SIM_AF_NONE)
        return FALSE;
    /* A prefix with 64 or more host bits saturates at G_MAXUINT64 and holds every offset. */
    guint64 size = sim_cidr_size(c);
    if (size != G_MAXUINT64 && offset >= size)
        return FALSE;
    SimAddr a = c->addr;
    guint len = addr_len(a.family);
    /* Add offset to the low 64 bits (host bits are zero, so no carry can reach the prefix). */
    for (guint i = 0; i < 8 && i < len; i++) {
        a.b[len - 1 - i] |= (guint8)(offset >> (8 * i));
    }
    *out = a;
    return TRUE;
}

guint64
sim_cidr_offset(const SimCidr *c, const SimAddr *a)
{
    g_return_val_if_fail(sim_cidr_contains(c, a), 0);
    guint len = addr_len(a->family);
    guint64 off = 0;
    for (guint i = (len > 8 ? len - 8 : 0); i < len; i++)
        off = (off << 8) | (guint64)(a->b[i] & ~c->addr.b[i]);
    return off;
}

gboolean
sim_addr_is_loopback(const SimAddr *a)
{
    static const guint8 v6_loopback[16] = {[15] = 1};
    switch ((SimFamily)a->family) {
    case SIM_AF_INET:
        return a->b[0] == 127;
    case SIM_AF_INET6:
        return memcmp(a->b, v6_loopback, 16) == 0;
    case SIM_AF_NONE:
        return FALSE;
    }
    return FALSE;
}

gboolean
sim_addr_is_unspecified(const SimAddr *a)
{
    static const guint8 zero[16] = {0};
    return a->family == SIM_AF_NONE || memcmp(a->b, zero, 16) == 0;
}

void
sim_addr_from_ipv4(guint32 host_order, SimAddr *out)
{
    memset(out, 0, sizeof *out);
    out->family = SIM_AF_INET;
    out->b[0] = (guint8)(host_order >> 24);
    out->b[1] = (guint8)(host_order >> 16);
    out->b[2] = (guint8)(host_order >> 8);
    out->b[3] = (guint8)host_order;
}

guint32
sim_addr_ipv4(const SimAddr *a)
{
    g_return_val_if_fail(a->family == SIM_AF_INET, 0);
    return ((guint32)a->b[0] << 24) | ((guint32)a->b[1] << 16) | ((guint32)a->b[2] << 8) |
           (guint32)a->b[3];
}
