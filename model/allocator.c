/* SPDX-License-Identifier: Apache-2.0 */
/* Banded bitmap allocators for Service IPs and node ports, as kube-apiserver keeps them.
 *
 * Models pkg/registry/core/service/allocator/bitmap.go (randomScanStrategyWithOffset), the
 * ipallocator's Range (base = network + 1, the IPv4 broadcast address never handed out) and the
 * portallocator's PortRange. The apiserver draws from math/rand; here every draw comes from the
 * caller's SimRng stream so a seed reproduces the same addresses and ports. The bitmap is a plain
 * array of 64-bit words; scans skip full words, so an allocation costs O(size / 64) at worst.
 */
#include "model/allocator.h"

#include <string.h>

struct AllocBitmap {
    guint64 size;   /* members */
    guint64 offset; /* members [0, offset) are the static band */
    guint64 used;
    guint64 *words;
};

/* Allocates a bitmap of size members with a static band of offset members. (transfer full) */
AllocBitmap *
alloc_bitmap_new(guint64 size, guint64 offset)
{
    g_return_val_if_fail(size <= ALLOC_MAX_BITS, NULL);
    g_return_val_if_fail(offset < size || (offset == 0 && size == 0), NULL);
    AllocBitmap *b = g_new0(AllocBitmap, 1);
    b->size = size;
    b->offset = offset;
    b->words = g_new0(guint64, (size + 63) / 64 + 1);
    return b;
}

/* Frees the bitmap; NULL-safe. */
void
alloc_bitmap_free(AllocBitmap *b)
{
    if (b == NULL)
        return;
    g_free(b->words);
    g_free(b);
}

/* The number of members. */
guint64
alloc_bitmap_size(const AllocBitmap *b)
{
    return b->size;
}

/* The number of members taken. */
guint64
alloc_bitmap_used(const AllocBitmap *b)
{
    return b->used;
}

/* TRUE when member i is taken; members past the end count as taken. */
gboolean
alloc_bitmap_is_set(const AllocBitmap *b, guint64 i)
{
    if (i >= b->size)
        return TRUE;
    return (b->words[i / 64] >> (i % 64)) & 1;
}

/* Takes member i; FALSE when it is taken or past the end. */
gboolean
alloc_bitmap_allocate(AllocBitmap *b, guint64 i)
{
    if (alloc_bitmap_is_set(b, i))
        return FALSE;
    b->words[i / 64] |= G_GUINT64_CONSTANT(1) << (i % 64);
    b->used++;
    return TRUE;
}

/* Frees member i; a no-op for a free member or one past the end. */
void
alloc_bitmap_release(AllocBitmap *b, guint64 i)
{
    if (i >= b->size || !alloc_bitmap_is_set(b, i))
        return;
    b->words[i / 64] &= ~(G_GUINT64_CONSTANT(1) << (i % 64));
    b->used--;
}

/* The first free member in [from, to), or to when there is none. Skips full words. */
static guint64
alloc_bitmap_find_free(const AllocBitmap *b, guint64 from, guint64 to)
{
    guint64 i = from;
    while (i < to) {
        guint64 word = b->words[i / 64] >> (i % 64);
        guint64 span = 64 - i % 64; /* bits of this word at or after i */
        if (~word == 0 || (span < 64 && word == (G_GUINT64_CONSTANT(1) << span) - 1)) {
            i += span;
            continue;
        }
        guint64 bit = (guint64)__builtin_ctzll(~word);
        return MIN(i + bit, to);
    }
    return to;
}

/* Takes the first free member of [lo, hi), scanning upward from a random start and wrapping
 * around; FALSE when the band is full. Draws one value from rng when the band is not empty. */
static gboolean
alloc_bitmap_scan_band(AllocBitmap *b, SimRng *rng, guint64 lo, guint64 hi, guint64 *out)
{
    if (hi <= lo)
        return FALSE;
    guint64 start = lo + sim_rng_below(rng, hi - lo);
    guint64 at = alloc_bitmap_find_free(b, start, hi);
    if (at == hi) {
        at = alloc_bitmap_find_free(b, lo, start);
        if (at == start)
            return FALSE;
    }
    gboolean ok = alloc_bitmap_allocate(b, at);
    g_assert(ok);
    *out = at;
    return TRUE;
}

/* Takes a free member: dynamic band first, then the static band; FALSE when full. */
gboolean
alloc_bitmap_allocate_next(AllocBitmap *b, SimRng *rng, guint64 *out)
{
    g_return_val_if_fail(b != NULL && rng != NULL && out != NULL, FALSE);
    if (b->used >= b->size)
        return FALSE;
    if (alloc_bitmap_scan_band(b, rng, b->offset, b->size, out))
        return TRUE;
    return alloc_bitmap_scan_band(b, rng, 0, b->offset, out);
}

/* min(max(floor, size / step), cap), or 0 when size <= floor: the apiserver's band formula. */
static guint64
alloc_band_offset(guint64 size, guint64 floor, guint64 step, guint64 cap)
{
    if (size <= floor)
        return 0;
    return MIN(MAX(floor, size / step), cap);
}

/* KEP-3668: min(max(16, size/32), 128), 0 when size <= 16. */
guint64
alloc_port_band_offset(guint64 size)
{
    return alloc_band_offset(size, 16, 32, 128);
}

/* KEP-3070: min(max(16, size/16), 256), 0 when size <= 16. */
guint64
alloc_ip_band_offset(guint64 cidr_size)
{
    return alloc_band_offset(cidr_size, 16, 16, 256);
}

/* ---------------------------------------------------------------- node ports */

struct AllocPorts {
    guint16 low, high;
    char range[16];
    AllocBitmap *bits; /* member i is port low + i */
};

/* A port allocator over low-high inclusive. (transfer full) */
AllocPorts *
alloc_ports_new(guint16 low, guint16 high)
{
    g_return_val_if_fail(low <= high, NULL);
    AllocPorts *p = g_new0(AllocPorts, 1);
    p->low = low;
    p->high = high;
    g_snprintf(p->range, sizeof p->range, "%u-%u", (guint)low, (guint)high);
    guint64 size = (guint64)high - low + 1;
    p->bits = alloc_bitmap_new(size, alloc_port_band_offset(size));
    return p;
}

/* Frees the allocator; NULL-safe. */
void
alloc_ports_free(AllocPorts *p)
{
    if (p == NULL)
        return;
    alloc_bitmap_free(p->bits);
    g_free(p);
}

/* Reserves port: ALLOC_OK, ALLOC_NOT_IN_RANGE or ALLOC_ALREADY_ALLOCATED. */
AllocResult
alloc_ports_allocate(AllocPorts *p, guint port)
{
    g_return_val_if_fail(p != NULL, ALLOC_NOT_IN_RANGE);
    if (port < p->low || port > p->high)
        return ALLOC_NOT_IN_RANGE;
    return alloc_bitmap_allocate(p->bits, port - p->low) ? ALLOC_OK : ALLOC_ALREADY_ALLOCATED;
}

/* Allocates a free port into *out: ALLOC_OK or ALLOC_FULL. */
AllocResult
alloc_ports_allocate_next(AllocPorts *p, SimRng *rng, guint16 *out)
{
    g_return_val_if_fail(p != NULL && out != NULL, ALLOC_FULL);
    guint64 i;
    if (!alloc_bitmap_allocate_next(p->bits, rng, &i))
        return ALLOC_FULL;
    *out = (guint16)(p->low + i);
    return ALLOC_OK;
}

/* TRUE when port is in range and taken. */
gboolean
alloc_ports_is_allocated(const AllocPorts *p, guint port)
{
    if (port < p->low || port > p->high)
        return FALSE;
    return alloc_bitmap_is_set(p->bits, port - p->low);
}

/* Frees port; a no-op when it is free or out of range. */
void
alloc_ports_release(AllocPorts *p, guint port)
{
    if (port >= p->low && port <= p->high)
        alloc_bitmap_release(p->bits, port - p->low);
}

/* "LOW-HIGH". (transfer none) */
const char *
alloc_ports_range_string(const AllocPorts *p)
{
    return p->range;
}

/* ---------------------------------------------------------------- Service IPs */

struct AllocIps {
    SimCidr cidr;
    AllocBitmap *bits; /* member i is the address at offset i + 1 of cidr */
};

/* An IP allocator over cidr without its network (and IPv4 broadcast) address. (transfer full) */
AllocIps *
alloc_ips_new(const SimCidr *cidr)
{
    g_return_val_if_fail(cidr != NULL && cidr->addr.family != SIM_AF_NONE, NULL);
    AllocIps *r = g_new0(AllocIps, 1);
    r->cidr = *cidr;
    guint64 cidr_size = sim_cidr_size(cidr);
    guint64 reserved = cidr->addr.family == SIM_AF_INET ? 2 : 1;
    guint64 size = cidr_size > reserved ? cidr_size - reserved : 0;
    size = MIN(size, ALLOC_MAX_BITS);
    guint64 offset = alloc_ip_band_offset(cidr_size);
    if (offset >= size)
        offset = 0;
    r->bits = alloc_bitmap_new(size, offset);
    return r;
}

/* Frees the allocator; NULL-safe. */
void
alloc_ips_free(AllocIps *r)
{
    if (r == NULL)
        return;
    alloc_bitmap_free(r->bits);
    g_free(r);
}

/* The CIDR. (transfer none) */
const SimCidr *
alloc_ips_cidr(const AllocIps *r)
{
    return &r->cidr;
}

/* The bitmap member of ip, or FALSE when ip is not one of the range's addresses. */
static gboolean
alloc_ips_member(const AllocIps *r, const SimAddr *ip, guint64 *out)
{
    if (!sim_cidr_contains(&r->cidr, ip))
        return FALSE;
    guint64 off = sim_cidr_offset(&r->cidr, ip);
    SimAddr back;
    /* The offset keeps only the low 64 bits: check it really names ip. */
    if (off == 0 || !sim_cidr_nth(&r->cidr, off, &back) || !sim_addr_equal(&back, ip))
        return FALSE;
    if (off - 1 >= alloc_bitmap_size(r->bits))
        return FALSE;
    *out = off - 1;
    return TRUE;
}

/* Reserves ip: ALLOC_OK, ALLOC_NOT_IN_RANGE or ALLOC_ALREADY_ALLOCATED. */
AllocResult
alloc_ips_allocate(AllocIps *r, const SimAddr *ip)
{
    g_return_val_if_fail(r != NULL && ip != NULL, ALLOC_NOT_IN_RANGE);
    guint64 i;
    if (!alloc_ips_member(r, ip, &i))
        return ALLOC_NOT_IN_RANGE;
    return alloc_bitmap_allocate(r->bits, i) ? ALLOC_OK : ALLOC_ALREADY_ALLOCATED;
}

/* Allocates a free address into *out: ALLOC_OK or ALLOC_FULL. */
AllocResult
alloc_ips_allocate_next(AllocIps *r, SimRng *rng, SimAddr *out)
{
    g_return_val_if_fail(r != NULL && out != NULL, ALLOC_FULL);
    guint64 i;
    if (!alloc_bitmap_allocate_next(r->bits, rng, &i))
        return ALLOC_FULL;
    gboolean ok = sim_cidr_nth(&r->cidr, i + 1, out);
    g_assert(ok);
    return ALLOC_OK;
}

/* Frees ip; a no-op when it is free or not in the range. */
void
alloc_ips_release(AllocIps *r, const SimAddr *ip)
{
    guint64 i;
    if (alloc_ips_member(r, ip, &i))
        alloc_bitmap_release(r->bits, i);
}

/* ---------------------------------------------------------------- Services */

G_DEFINE_QUARK(kpsim - alloc - error - quark, alloc_error)

struct AllocServices {
    GPtrArray *ips[2]; /* AllocIps*, [0] IPv4 and [1] IPv6, in CIDR order */
    SimFamily default_family;
    AllocPorts *ports;
    SimRng ip_rng, port_rng;
};

/* The slot of family in AllocServices.ips. */
static guint
alloc_family_slot(SimFamily family)
{
    return family == SIM_AF_INET6 ? 1 : 0;
}

/* "IPv4" or "IPv6", as the API writes an IP family. */
static const char *
alloc_family_name(SimFamily family)
{
    return family == SIM_AF_INET6 ? "IPv6" : "IPv4";
}

/* The allocators of a cluster; see allocator.h. (transfer full) */
AllocServices *
alloc_services_new(const GArray *service_cidrs, guint16 node_port_low, guint16 node_port_high,
                   guint64 seed)
{
    g_return_val_if_fail(service_cidrs != NULL, NULL);
    AllocServices *a = g_new0(AllocServices, 1);
    for (guint f = 0; f < 2; f++)
        a->ips[f] = g_ptr_array_new_with_free_func((GDestroyNotify)alloc_ips_free);
    for (guint i = 0; i < service_cidrs->len; i++) {
        const SimCidr *cidr = &g_array_index(service_cidrs, SimCidr, i);
        if (cidr->addr.family == SIM_AF_NONE)
            continue;
        if (a->default_family == SIM_AF_NONE)
            a->default_family = cidr->addr.family;
        g_ptr_array_add(a->ips[alloc_family_slot(cidr->addr.family)], alloc_ips_new(cidr));
    }
    if (a->default_family == SIM_AF_NONE)
        a->default_family = SIM_AF_INET;
    a->ports = alloc_ports_new(MIN(node_port_low, node_port_high), node_port_high);
    sim_rng_init(&a->ip_rng, seed, "apiserver/clusterip");
    sim_rng_init(&a->port_rng, seed, "apiserver/nodeport");
    return a;
}

/* Frees the allocators; NULL-safe. */
void
alloc_services_free(AllocServices *a)
{
    if (a == NULL)
        return;
    for (guint f = 0; f < 2; f++)
        g_ptr_array_unref(a->ips[f]);
    alloc_ports_free(a->ports);
    g_free(a);
}

/* The node-port allocator. (transfer none) */
AllocPorts *
alloc_services_node_ports(AllocServices *a)
{
    return a->ports;
}

/* TRUE when the cluster has a Service CIDR of family. */
static gboolean
alloc_has_family(const AllocServices *a, SimFamily family)
{
    return a->ips[alloc_family_slot(family)]->len > 0;
}

/* TRUE when the cluster has Service CIDRs of both families. */
static gboolean
alloc_dual_stack(const AllocServices *a)
{
    return alloc_has_family(a, SIM_AF_INET) && alloc_has_family(a, SIM_AF_INET6);
}

/* Sets error to "FILE:LINE:COL: error: " + the kubectl wording: "The Service \"x\" is invalid: "
 * + message for ALLOC_ERROR_INVALID, "Internal error occurred: " + message otherwise. Returns
 * FALSE so callers can `return alloc_fail(...)`. */
static gboolean G_GNUC_PRINTF(5, 6)
    alloc_fail(GError **error, AllocError code, const K8sService *svc, const K8sPos *pos,
               const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    const K8sPos *at = (pos != NULL && pos->line != 0) ? pos : &svc->meta.pos;
    const char *file = at->file != NULL ? at->file : "<unknown>";
    if (code == ALLOC_ERROR_INVALID)
        g_set_error(error, ALLOC_ERROR, code, "%s:%u:%u: error: The Service \"%s\" is invalid: %s",
                    file, at->line, at->column, svc->meta.name, msg);
    else
        g_set_error(error, ALLOC_ERROR, code, "%s:%u:%u: error: Internal error occurred: %s", file,
                    at->line, at->column, msg);
    return FALSE;
}

/* Go's %#v of svc's clusterIPs: []string{"a", "b"}. (transfer full) */
static char *
alloc_cluster_ips_gostring(const K8sService *svc)
{
    GString *s = g_string_new("[]string{");
    for (guint i = 0; i < svc->cluster_ips->len; i++) {
        char buf[SIM_ADDR_STRLEN];
        g_string_append_printf(
            s, "%s\"%s\"", i > 0 ? ", " : "",
            sim_addr_to_string(&g_array_index(svc->cluster_ips, SimAddr, i), buf));
    }
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

/* Go's %#v of svc's ipFamilies: []core.IPFamily{"IPv4"}. (transfer full) */
static char *
alloc_families_gostring(const K8sService *svc)
{
    GString *s = g_string_new("[]core.IPFamily{");
    for (guint i = 0; i < svc->ip_families->len; i++)
        g_string_append_printf(s, "%s\"%s\"", i > 0 ? ", " : "",
                               alloc_family_name(g_array_index(svc->ip_families, guint8, i)));
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

/* The checks of ValidateServiceClusterIPsRelatedFields that concern families: at most two
 * clusterIPs of different families, at most two distinct ipFamilies, a known ipFamilyPolicy
 * that allows what is listed, and clusterIPs matching ipFamilies index by index. */
static gboolean
alloc_validate_families(const K8sService *svc, GError **error)
{
    GArray *ips = svc->cluster_ips, *fams = svc->ip_families;
    const char *policy = svc->ip_family_policy;
    if (ips->len > 2 || (ips->len == 2 && g_array_index(ips, SimAddr, 0).family ==
                                              g_array_index(ips, SimAddr, 1).family)) {
        g_autofree char *v = alloc_cluster_ips_gostring(svc);
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, &svc->cluster_ip_pos,
                          "spec.clusterIPs: Invalid value: %s: %s", v,
                          ips->len > 2 ? "may only hold up to 2 values"
                                       : "may specify no more than one IP for each IP family");
    }
    if (fams->len > 2) {
        g_autofree char *v = alloc_families_gostring(svc);
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, NULL,
                          "spec.ipFamilies: Invalid value: %s: may only hold up to 2 values", v);
    }
    if (fams->len == 2 && g_array_index(fams, guint8, 0) == g_array_index(fams, guint8, 1))
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, NULL,
                          "spec.ipFamilies[1]: Duplicate value: \"%s\"",
                          alloc_family_name(g_array_index(fams, guint8, 1)));
    if (policy != NULL && g_strcmp0(policy, "SingleStack") != 0 &&
        g_strcmp0(policy, "PreferDualStack") != 0 && g_strcmp0(policy, "RequireDualStack") != 0)
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, NULL,
                          "spec.ipFamilyPolicy: Unsupported value: \"%s\": supported values: "
                          "\"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"",
                          policy);
    if (g_strcmp0(policy, "SingleStack") == 0 && (ips->len == 2 || fams->len == 2))
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, NULL,
                          "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be "
                          "RequireDualStack or PreferDualStack when multiple %s are specified",
                          ips->len == 2 ? "cluster IPs" : "IP families");
    for (guint i = 0; i < ips->len && i < fams->len; i++) {
        const SimAddr *ip = &g_array_index(ips, SimAddr, i);
        guint8 fam = g_array_index(fams, guint8, i);
        if (ip->family == fam)
            continue;
        char buf[SIM_ADDR_STRLEN];
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, &svc->cluster_ip_pos,
                          "spec.clusterIPs[%u]: Invalid value: \"%s\": expected an %s value as "
                          "indicated by `ipFamilies[%u]`",
                          i, sim_addr_to_string(ip, buf), alloc_family_name(fam), i);
    }
    return TRUE;
}

/* Appends the other family to svc's ipFamilies when it lists exactly one. */
static void
alloc_add_other_family(K8sService *svc)
{
    if (svc->ip_families->len != 1)
        return;
    guint8 other =
        g_array_index(svc->ip_families, guint8, 0) == SIM_AF_INET ? SIM_AF_INET6 : SIM_AF_INET;
    g_array_append_val(svc->ip_families, other);
}

/* initIPFamilyFields: defaults ipFamilyPolicy and ipFamilies the way the apiserver does and
 * checks that the cluster serves every family asked for. ExternalName Services get neither. */
static gboolean
alloc_init_families(AllocServices *a, K8sService *svc, GError **error)
{
    if (svc->type == K8S_SVC_EXTERNAL_NAME) {
        g_array_set_size(svc->ip_families, 0);
        g_clear_pointer(&svc->ip_family_policy, g_free);
        return TRUE;
    }
    if (!alloc_validate_families(svc, error))
        return FALSE;
    gboolean selectorless_headless =
        svc->cluster_ip_none && (svc->selector == NULL || g_hash_table_size(svc->selector) == 0);
    if (svc->ip_family_policy == NULL) {
        gboolean two = svc->cluster_ips->len == 2 || svc->ip_families->len == 2;
        svc->ip_family_policy =
            g_strdup(two || selectorless_headless ? "RequireDualStack" : "SingleStack");
    }
    if (selectorless_headless) {
        /* Headless Services without a selector may list families the cluster lacks. */
        if (svc->ip_families->len == 0)
            g_array_append_val(svc->ip_families, a->default_family);
        if (g_strcmp0(svc->ip_family_policy, "SingleStack") != 0)
            alloc_add_other_family(svc);
        return TRUE;
    }
    if (g_strcmp0(svc->ip_family_policy, "RequireDualStack") == 0 && !alloc_dual_stack(a))
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, NULL,
                          "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster "
                          "is not configured for dual-stack services");
    for (guint i = svc->ip_families->len; i < svc->cluster_ips->len; i++)
        g_array_append_val(svc->ip_families, g_array_index(svc->cluster_ips, SimAddr, i).family);
    for (guint i = 0; i < svc->ip_families->len; i++) {
        SimFamily fam = g_array_index(svc->ip_families, guint8, i);
        if (alloc_has_family(a, fam))
            continue;
        g_autofree char *v = alloc_families_gostring(svc);
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, NULL,
                          "spec.ipFamilies[%u]: Invalid value: %s: ipfamily %s is not configured "
                          "on cluster",
                          i, v, alloc_family_name(fam));
    }
    if (svc->ip_families->len == 0)
        g_array_append_val(svc->ip_families, a->default_family);
    if (g_strcmp0(svc->ip_family_policy, "SingleStack") != 0 && alloc_dual_stack(a))
        alloc_add_other_family(svc);
    return TRUE;
}

/* Reserves svc's i-th explicit clusterIP in a range of its family. */
static gboolean
alloc_reserve_cluster_ip(AllocServices *a, K8sService *svc, guint i, GError **error)
{
    const SimAddr *ip = &g_array_index(svc->cluster_ips, SimAddr, i);
    GPtrArray *ranges = a->ips[alloc_family_slot(ip->family)];
    g_assert(ranges->len > 0); /* alloc_init_families checked the family */
    AllocIps *range = ranges->pdata[0];
    for (guint r = 0; r < ranges->len; r++) {
        if (sim_cidr_contains(alloc_ips_cidr(ranges->pdata[r]), ip)) {
            range = ranges->pdata[r];
            break;
        }
    }
    char ipbuf[SIM_ADDR_STRLEN], cidrbuf[SIM_CIDR_STRLEN];
    sim_addr_to_string(ip, ipbuf);
    switch (alloc_ips_allocate(range, ip)) {
    case ALLOC_OK:
        return TRUE;
    case ALLOC_NOT_IN_RANGE:
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, &svc->cluster_ip_pos,
                          "spec.clusterIPs[%u]: Invalid value: \"%s\": provided IP is not in the "
                          "valid range. The range of valid IPs is %s",
                          i, ipbuf, sim_cidr_to_string(alloc_ips_cidr(range), cidrbuf));
    case ALLOC_ALREADY_ALLOCATED:
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, &svc->cluster_ip_pos,
                          "spec.clusterIPs[%u]: Invalid value: \"%s\": provided IP is already "
                          "allocated",
                          i, ipbuf);
    case ALLOC_FULL:
        break;
    }
    g_assert_not_reached();
}

/* Allocates a clusterIP of family from the first of its ranges with room. */
static gboolean
alloc_next_cluster_ip(AllocServices *a, K8sService *svc, SimFamily family, GError **error)
{
    GPtrArray *ranges = a->ips[alloc_family_slot(family)];
    for (guint r = 0; r < ranges->len; r++) {
        SimAddr ip;
        if (alloc_ips_allocate_next(ranges->pdata[r], &a->ip_rng, &ip) == ALLOC_OK) {
            g_array_append_val(svc->cluster_ips, ip);
            return TRUE;
        }
    }
    return alloc_fail(error, ALLOC_ERROR_INTERNAL, svc, NULL,
                      "failed to allocate a serviceIP: range is full");
}

/* TRUE when the type gets nodePorts at all (needsNodePort). */
static gboolean
alloc_needs_node_ports(const K8sService *svc)
{
    return svc->type == K8S_SVC_NODE_PORT || svc->type == K8S_SVC_LOAD_BALANCER;
}

/* TRUE when ports without a requested nodePort get one (shouldAllocateNodePorts). */
static gboolean
alloc_should_allocate_node_ports(const K8sService *svc)
{
    return svc->type == K8S_SVC_NODE_PORT ||
           (svc->type == K8S_SVC_LOAD_BALANCER && svc->allocate_lb_node_ports);
}

/* TRUE when the Service gets a healthCheckNodePort (LoadBalancer with ETP Local). */
static gboolean
alloc_needs_health_check(const K8sService *svc)
{
    return svc->type == K8S_SVC_LOAD_BALANCER && svc->external_policy == K8S_POLICY_LOCAL;
}

/* findRequestedNodePort: the first nodePort held by an entry of svc with this port number
 * (requested by the user, or allocated before), or 0. */
static guint16
alloc_requested_node_port(const K8sService *svc, guint16 port)
{
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *p = svc->ports->pdata[i];
        if (p->port == port && p->node_port != 0)
            return p->node_port;
    }
    return 0;
}

/* Reserves nodePort np for svc's i-th port; errors are worded as initNodePorts words them. */
static gboolean
alloc_reserve_node_port(AllocServices *a, K8sService *svc, guint i, guint16 np, GError **error)
{
    const K8sServicePort *p = svc->ports->pdata[i];
    const K8sPos *pos = p->node_port_pos.line != 0 ? &p->node_port_pos : &p->pos;
    switch (alloc_ports_allocate(a->ports, np)) {
    case ALLOC_OK:
        return TRUE;
    case ALLOC_NOT_IN_RANGE:
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, pos,
                          "spec.ports[%u].nodePort: Invalid value: %u: provided port is not in the "
                          "valid range. The range of valid ports is %s",
                          i, (guint)np, alloc_ports_range_string(a->ports));
    case ALLOC_ALREADY_ALLOCATED:
        return alloc_fail(error, ALLOC_ERROR_INVALID, svc, pos,
                          "spec.ports[%u].nodePort: Invalid value: %u: provided port is already "
                          "allocated",
                          i, (guint)np);
    case ALLOC_FULL:
        break;
    }
    g_assert_not_reached();
}

/* The explicit half of initNodePorts: every requested nodePort is reserved, and entries that
 * share a port number with a requested one take it. Entries left at 0 get theirs from
 * alloc_allocate_node_ports(). */
static gboolean
alloc_reserve_node_ports(AllocServices *a, K8sService *svc, GError **error)
{
    if (!alloc_needs_node_ports(svc))
        return TRUE;
    for (guint i = 0; i < svc->ports->len; i++) {
        K8sServicePort *p = svc->ports->pdata[i];
        if (p->node_port == 0 && !alloc_should_allocate_node_ports(svc))
            continue;
        /* What an earlier entry with this port number already holds. */
        guint16 held = 0;
        for (guint j = 0; j < i && held == 0; j++) {
            const K8sServicePort *q = svc->ports->pdata[j];
            if (q->port == p->port)
                held = q->node_port;
        }
        if (held == 0) {
            guint16 np = alloc_requested_node_port(svc, p->port);
            if (np == 0)
                continue; /* dynamic: the second pass allocates it */
            if (!alloc_reserve_node_port(a, svc, i, np, error))
                return FALSE;
            p->node_port = np;
        } else if (p->node_port != held) {
            if (p->node_port == 0)
                p->node_port = held;
            else if (!alloc_reserve_node_port(a, svc, i, p->node_port, error))
                return FALSE;
        }
    }
    return TRUE;
}

/* The dynamic half of initNodePorts: entries still without a nodePort get a random one, shared
 * by entries with the same port number. */
static gboolean
alloc_allocate_node_ports(AllocServices *a, K8sService *svc, GError **error)
{
    if (!alloc_should_allocate_node_ports(svc))
        return TRUE;
    for (guint i = 0; i < svc->ports->len; i++) {
        K8sServicePort *p = svc->ports->pdata[i];
        if (p->node_port != 0)
            continue;
        guint16 np = alloc_requested_node_port(svc, p->port);
        if (np == 0 && alloc_ports_allocate_next(a->ports, &a->port_rng, &np) != ALLOC_OK)
            return alloc_fail(error, ALLOC_ERROR_INTERNAL, svc, &p->pos,
                              "failed to allocate a nodePort: range is full");
        p->node_port = np;
    }
    return TRUE;
}

/* Reserves a requested healthCheckNodePort (LoadBalancer + ETP Local only; on other Services a
 * written value is kept but, like kube-proxy, nothing uses it). */
static gboolean
alloc_reserve_health_check(AllocServices *a, K8sService *svc, GError **error)
{
    if (!alloc_needs_health_check(svc) || svc->health_check_node_port == 0)
        return TRUE;
    guint16 hc = svc->health_check_node_port;
    switch (alloc_ports_allocate(a->ports, hc)) {
    case ALLOC_OK:
        return TRUE;
    case ALLOC_NOT_IN_RANGE:
        return alloc_fail(error, ALLOC_ERROR_INTERNAL, svc, &svc->health_check_node_port_pos,
                          "failed to allocate requested HealthCheck NodePort %u: provided port is "
                          "not in the valid range. The range of valid ports is %s",
                          (guint)hc, alloc_ports_range_string(a->ports));
    case ALLOC_ALREADY_ALLOCATED:
        return alloc_fail(error, ALLOC_ERROR_INTERNAL, svc, &svc->health_check_node_port_pos,
                          "failed to allocate requested HealthCheck NodePort %u: provided port is "
                          "already allocated",
                          (guint)hc);
    case ALLOC_FULL:
        break;
    }
    g_assert_not_reached();
}

/* Allocates a healthCheckNodePort for a LoadBalancer + ETP Local Service that has none. */
static gboolean
alloc_allocate_health_check(AllocServices *a, K8sService *svc, GError **error)
{
    if (!alloc_needs_health_check(svc) || svc->health_check_node_port != 0)
        return TRUE;
    if (alloc_ports_allocate_next(a->ports, &a->port_rng, &svc->health_check_node_port) != ALLOC_OK)
        return alloc_fail(error, ALLOC_ERROR_INTERNAL, svc, NULL,
                          "failed to allocate a HealthCheck NodePort 0: range is full");
    return TRUE;
}

/* Defaults families and reserves what svc states; see allocator.h. */
gboolean
alloc_services_reserve(AllocServices *a, K8sService *svc, GError **error)
{
    g_return_val_if_fail(a != NULL && svc != NULL, FALSE);
    if (!alloc_init_families(a, svc, error))
        return FALSE;
    if (svc->type != K8S_SVC_EXTERNAL_NAME && !svc->cluster_ip_none) {
        for (guint i = 0; i < svc->cluster_ips->len; i++)
            if (!alloc_reserve_cluster_ip(a, svc, i, error))
                return FALSE;
    }
    return alloc_reserve_node_ports(a, svc, error) && alloc_reserve_health_check(a, svc, error);
}

/* Allocates what svc still lacks; see allocator.h. */
gboolean
alloc_services_allocate(AllocServices *a, K8sService *svc, GError **error)
{
    g_return_val_if_fail(a != NULL && svc != NULL, FALSE);
    if (svc->type != K8S_SVC_EXTERNAL_NAME && !svc->cluster_ip_none) {
        for (guint i = svc->cluster_ips->len; i < svc->ip_families->len; i++)
            if (!alloc_next_cluster_ip(a, svc, g_array_index(svc->ip_families, guint8, i), error))
                return FALSE;
    }
    return alloc_allocate_node_ports(a, svc, error) && alloc_allocate_health_check(a, svc, error);
}

/* Gives back svc's clusterIPs, nodePorts and (LoadBalancer + Local) healthCheckNodePort. */
void
alloc_services_release(AllocServices *a, const K8sService *svc)
{
    g_return_if_fail(a != NULL && svc != NULL);
    for (guint i = 0; i < svc->cluster_ips->len; i++) {
        const SimAddr *ip = &g_array_index(svc->cluster_ips, SimAddr, i);
        GPtrArray *ranges = a->ips[alloc_family_slot(ip->family)];
        for (guint r = 0; r < ranges->len; r++)
            alloc_ips_release(ranges->pdata[r], ip);
    }
    if (alloc_needs_node_ports(svc)) {
        for (guint i = 0; i < svc->ports->len; i++)
            alloc_ports_release(a->ports,
                                ((const K8sServicePort *)svc->ports->pdata[i])->node_port);
    }
    if (alloc_needs_health_check(svc))
        alloc_ports_release(a->ports, svc->health_check_node_port);
}
