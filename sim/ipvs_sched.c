/* SPDX-License-Identifier: Apache-2.0 */
/* IPVS schedulers: which real server a new connection gets, as the kernel's scheduler modules
 * choose it.
 *
 * Models net/netfilter/ipvs/ip_vs_rr.c, ip_vs_wrr.c, ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sed.c,
 * ip_vs_nq.c, ip_vs_sh.c and ip_vs_dh.c choice for choice, over an array that stands for the
 * service's destination list (index 0 is the list head's successor, the newest destination):
 * rr keeps its position across calls and moves it back when the destination under it leaves;
 * wrr keeps (cl, cw, mw, di) and restarts at the head when destinations change; lc uses the
 * overhead (activeconns << 8) + inactconns; wlc/sed/nq compare overhead * weight products;
 * sh/dh fill 256 buckets (sh by weight) and hash with hash_32() / the multiplicative hash.
 * lblc and lblcr are approximated: a virtual service's connections all have the same
 * destination address, so the kernel's per-address cache is one assignment, kept until its
 * real server is unavailable or overloaded (activeconns > weight while another is at less
 * than half its weight) and then re-chosen by the wlc rule; lblcr's server sets and their
 * expiry are not modelled (it behaves as lblc). mh is not implemented.
 */
#include "sim/ipvs_private.h"

#include <string.h>

#define TAB_NONE G_MAXUINT16
#define GOLDEN_RATIO_32 0x61C88647u

/* Whether d is usable at all: positive weight and not overloaded. */
static inline gboolean
dest_ok(const IpvsSchedDest *d)
{
    return d->weight > 0 && !d->overloaded;
}

/* ip_vs_dest_conn_overhead(): (activeconns << 8) + inactconns. */
static inline gint64
conn_overhead(const IpvsSchedDest *d)
{
    return ((gint64)d->active << 8) + d->inactive;
}

/* The greatest common divisor of a and b. */
static gint
gcd(gint a, gint b)
{
    while (b != 0) {
        gint c = a % b;
        a = b;
        b = c;
    }
    return a;
}

/* ip_vs_wrr_gcd_weight() and ip_vs_wrr_max_weight(): sets di and mw (max - (gcd - 1)). */
static void
wrr_weights(IpvsSchedState *st, const IpvsSchedDest *d, guint n)
{
    gint g = 0, max = 0;
    for (guint i = 0; i < n; i++) {
        gint w = (gint)d[i].weight;
        if (w > 0)
            g = g > 0 ? gcd(w, g) : w;
        max = MAX(max, w);
    }
    st->di = g > 0 ? g : 1;
    st->mw = max - (st->di - 1);
}

/* ip_vs_sh_reassign() (by weight) or ip_vs_dh_reassign() (one bucket each, in turn). */
static void
hash_fill(IpvsSchedState *st, const IpvsSchedDest *d, guint n, gboolean weighted)
{
    guint p = 0;
    guint count = 0;
    for (guint i = 0; i < IPVS_SH_TAB_SIZE; i++) {
        if (n == 0) {
            st->tab[i] = TAB_NONE;
            continue;
        }
        st->tab[i] = (guint16)p;
        if (!weighted || ++count >= d[p].weight) {
            p = (p + 1) % n;
            count = 0;
        }
    }
    st->tab_valid = TRUE;
}

void
ipvs_sched_state_init(IpvsSchedState *st, IpvsSched sched, const IpvsSchedDest *d, guint n)
{
    g_return_if_fail(st != NULL);
    memset(st, 0, sizeof *st);
    st->cl = -1;
    st->assigned = -1;
    wrr_weights(st, d, n);
    st->cw = st->mw;
    if (sched == IPVS_SCHED_SH || sched == IPVS_SCHED_DH)
        hash_fill(st, d, n, sched == IPVS_SCHED_SH);
}

void
ipvs_sched_dests_changed(IpvsSchedState *st, IpvsSched sched, const IpvsSchedDest *d, guint n,
                         gint removed, gboolean inserted)
{
    g_return_if_fail(st != NULL);
    /* rr's del_dest: a position on the removed destination moves to the one before it. */
    if (removed >= 0 && st->cl >= removed)
        st->cl--;
    if (inserted && st->cl >= 0)
        st->cl++;
    if (removed >= 0 && st->assigned == removed)
        st->assigned = -1;
    else if (removed >= 0 && st->assigned > removed)
        st->assigned--;
    if (inserted && st->assigned >= 0)
        st->assigned++;
    if (sched == IPVS_SCHED_WRR) { /* ip_vs_wrr_dest_changed() */
        st->cl = -1;
        wrr_weights(st, d, n);
        if (st->cw > st->mw || st->cw == 0)
            st->cw = st->mw;
        else if (st->di > 1)
            st->cw = (st->cw / st->di) * st->di + 1;
    }
    if (sched == IPVS_SCHED_SH || sched == IPVS_SCHED_DH)
        hash_fill(st, d, n, sched == IPVS_SCHED_SH);
}

/* ip_vs_rr_schedule(): the next usable destination after the last one, wrapping once. */
static gint
pick_rr(IpvsSchedState *st, const IpvsSchedDest *d, guint n)
{
    if (n == 0)
        return -1;
    gint last = MIN(st->cl, (gint)n - 1);
    for (guint k = 1; k <= n; k++) {
        gint i = (gint)(((guint)(last + 1) + k - 1) % n);
        if (dest_ok(&d[i])) {
            st->cl = i;
            return i;
        }
    }
    return -1;
}

/* ip_vs_wrr_schedule(), its passes over the list and the cw/di steps included. */
static gint
pick_wrr(IpvsSchedState *st, const IpvsSchedDest *d, guint n)
{
    if (st->mw <= 0)
        return -1;
    gint last = MIN(st->cl, (gint)n - 1), pos = last, stop = -2;
    gboolean last_pass = FALSE, restarted = FALSE;
    for (;;) {
        for (gint i = pos + 1; i < (gint)n; i++) {
            if (!d[i].overloaded && (gint)d[i].weight >= st->cw) {
                st->cl = i;
                return i;
            }
            if (i == stop) {
                st->cl = i;
                return -1;
            }
        }
        pos = -1;
        st->cw -= st->di;
        if (st->cw <= 0) {
            st->cw = st->mw;
            if (last_pass || last == -1) {
                st->cl = -1;
                return -1;
            }
            restarted = TRUE;
        }
        last_pass = st->cw <= st->di;
        if (last_pass && restarted && last != -1)
            stop = last;
    }
}

/* ip_vs_lc_schedule(): the first destination with the least overhead. */
static gint
pick_lc(const IpvsSchedDest *d, guint n)
{
    gint least = -1;
    gint64 loh = 0;
    for (guint i = 0; i < n; i++) {
        if (!dest_ok(&d[i]))
            continue;
        gint64 doh = conn_overhead(&d[i]);
        if (least < 0 || doh < loh) {
            least = (gint)i;
            loh = doh;
        }
    }
    return least;
}

/* The overhead wlc / sed / nq compare. */
static gint64
weighted_overhead(IpvsSched sched, const IpvsSchedDest *d)
{
    return sched == IPVS_SCHED_WLC || sched == IPVS_SCHED_LBLC || sched == IPVS_SCHED_LBLCR
               ? conn_overhead(d)
               : (gint64)d->active + 1;
}

/* ip_vs_wlc_schedule() / ip_vs_sed_schedule(): the first usable destination, then any later
 * one with loh * weight > doh * least's weight. */
static gint
pick_weighted(IpvsSched sched, const IpvsSchedDest *d, guint n)
{
    guint i = 0;
    while (i < n && !dest_ok(&d[i]))
        i++;
    if (i == n)
        return -1;
    gint least = (gint)i;
    gint64 loh = weighted_overhead(sched, &d[i]);
    for (i++; i < n; i++) {
        if (d[i].overloaded)
            continue;
        gint64 doh = weighted_overhead(sched, &d[i]);
        if (loh * d[i].weight > doh * d[least].weight) {
            least = (gint)i;
            loh = doh;
        }
    }
    return least;
}

/* ip_vs_nq_schedule(): an idle destination at once, else the sed rule. */
static gint
pick_nq(const IpvsSchedDest *d, guint n)
{
    gint least = -1;
    gint64 loh = 0;
    for (guint i = 0; i < n; i++) {
        if (!dest_ok(&d[i]))
            continue;
        gint64 doh = (gint64)d[i].active + 1;
        if (d[i].active == 0)
            return (gint)i;
        if (least < 0 || loh * d[i].weight > doh * d[least].weight) {
            least = (gint)i;
            loh = doh;
        }
    }
    return least;
}

/* lblc's is_overloaded(): activeconns above the weight while some destination is below half
 * of its weight. */
static gboolean
lblc_overloaded(const IpvsSchedDest *d, guint n, guint i)
{
    if (d[i].active <= d[i].weight)
        return FALSE;
    for (guint k = 0; k < n; k++)
        if ((guint64)d[k].active * 2 < d[k].weight)
            return TRUE;
    return FALSE;
}

/* lblc (and lblcr, approximated): keep the assignment while usable, else re-choose by wlc. */
static gint
pick_lblc(IpvsSchedState *st, IpvsSched sched, const IpvsSchedDest *d, guint n)
{
    gint a = st->assigned;
    if (a >= 0 && a < (gint)n && dest_ok(&d[a]) && !lblc_overloaded(d, n, (guint)a))
        return a;
    a = pick_weighted(sched, d, n);
    if (a >= 0)
        st->assigned = a;
    return a;
}

/* The folded address a hash scheduler hashes, in host order. */
static guint32
addr_fold(const SimAddr *a)
{
    guint32 w[4];
    memcpy(w, a->b, sizeof w);
    guint32 v = a->family == SIM_AF_INET ? w[0] : w[0] ^ w[1] ^ w[2] ^ w[3];
    return GUINT32_FROM_BE(v);
}

/* ip_vs_sh_hashkey(): (offset + hash_32(port + addr, 8)) & 255. */
static guint
sh_hashkey(const SimAddr *a, guint16 port, guint offset)
{
    guint32 v = (guint32)port + addr_fold(a);
    return (offset + ((v * GOLDEN_RATIO_32) >> (32 - 8))) & (IPVS_SH_TAB_SIZE - 1);
}

/* Whether bucket dest t is unusable for sh (is_unavailable()). */
static gboolean
sh_unavailable(guint16 t, const IpvsSchedDest *d, guint n)
{
    return t == TAB_NONE || t >= n || !dest_ok(&d[t]);
}

/* ip_vs_sh_schedule(): the source address's bucket, with the fallback walk when the service
 * has sh-fallback. */
static gint
pick_sh(IpvsSchedState *st, guint32 flags, const IpvsSchedDest *d, guint n, const SimPacket *pkt)
{
    guint16 port = 0;
    if (flags & IPVS_SVC_SH_PORT)
        port = pkt->src.port;
    guint ihash = sh_hashkey(&pkt->src.addr, port, 0);
    guint16 t = st->tab[ihash];
    if (t == TAB_NONE)
        return -1;
    if (!sh_unavailable(t, d, n))
        return t;
    if (!(flags & IPVS_SVC_SH_FALLBACK))
        return -1;
    for (guint off = 0; off < IPVS_SH_TAB_SIZE; off++) {
        guint roff = (off + ihash) % IPVS_SH_TAB_SIZE;
        t = st->tab[sh_hashkey(&pkt->src.addr, port, roff)];
        if (!sh_unavailable(t, d, n))
            return t;
    }
    return -1;
}

/* ip_vs_dh_schedule(): the destination address's bucket, (addr * 2654435761) & 255. */
static gint
pick_dh(IpvsSchedState *st, const IpvsSchedDest *d, guint n, const SimPacket *pkt)
{
    guint32 h = (guint32)(addr_fold(&pkt->dst.addr) * 2654435761u) & (IPVS_SH_TAB_SIZE - 1);
    guint16 t = st->tab[h];
    return sh_unavailable(t, d, n) ? -1 : t;
}

gint
ipvs_sched_pick(IpvsSchedState *st, IpvsSched sched, guint32 flags, const IpvsSchedDest *d, guint n,
                const SimPacket *pkt)
{
    g_return_val_if_fail(st != NULL && (d != NULL || n == 0) && pkt != NULL, -1);
    if ((sched == IPVS_SCHED_SH || sched == IPVS_SCHED_DH) && !st->tab_valid)
        hash_fill(st, d, n, sched == IPVS_SCHED_SH);
    switch (sched) {
    case IPVS_SCHED_RR:
        return pick_rr(st, d, n);
    case IPVS_SCHED_WRR:
        return pick_wrr(st, d, n);
    case IPVS_SCHED_LC:
        return pick_lc(d, n);
    case IPVS_SCHED_WLC:
    case IPVS_SCHED_SED:
        return pick_weighted(sched, d, n);
    case IPVS_SCHED_NQ:
        return pick_nq(d, n);
    case IPVS_SCHED_LBLC:
    case IPVS_SCHED_LBLCR:
        return pick_lblc(st, sched, d, n);
    case IPVS_SCHED_SH:
        return pick_sh(st, flags, d, n, pkt);
    case IPVS_SCHED_DH:
        return pick_dh(st, d, n, pkt);
    }
    return -1;
}
