/* SPDX-License-Identifier: Apache-2.0 */
/* conntrack's NAT bindings and the confirmation of new entries, after Linux nf_nat.
 *
 * DNAT and SNAT rewrite an unconfirmed entry's reply tuple; confirmation links both tuples into
 * the table and, like the kernel's null binding, moves the source port when the reply tuple is
 * already taken; packets are then rewritten from the tuples. The SNAT port search follows
 * nf_nat_core.c (get_unique_tuple, nf_nat_l4proto_unique_tuple).
 */
#include "sim/conntrack_private.h"

#include "sim/sim_rng.h"

/* SNAT port search limits, as in nf_nat_l4proto_unique_tuple(). */
#define NAT_MAX_ATTEMPTS 128
#define NAT_MIN_ATTEMPTS 16

/* ------------------------------------------------------------------ NAT */

void
ct_setup_dnat(CtTable *t, CtEntry *e, const SimSockAddr *to)
{
    g_return_if_fail(t != NULL && e != NULL && to != NULL);
    g_return_if_fail(e->slot == SLOT_UNCONFIRMED);
    g_return_if_fail(!(e->status & (IPS_DST_NAT | IPS_SRC_NAT)));
    CtTuple *r = &e->tuple[CT_DIR_REPLY];
    CtTuple want = *r;
    want.src = to->addr;
    if (proto_has_ports(r->proto))
        want.sport = to->port;
    if (ct_tuple_equal(&want, r))
        return; /* a DNAT to where the packet already goes changes nothing */
    *r = want;
    e->status |= IPS_DST_NAT;
}

/* The port class a source port is remapped within (nf_nat_l4proto_unique_tuple): privileged
 * ports stay privileged, 1-511 and 600-1023, everything else goes to 1024-65535. */
static void
snat_port_class(guint16 port, guint *min, guint *range)
{
    if (port < 512) {
        *min = 1;
        *range = 511;
    } else if (port < 1024) {
        *min = 600;
        *range = 1023 - 600 + 1;
    } else {
        *min = 1024;
        *range = 65535 - 1024 + 1;
    }
}

/* Searches a source port that makes the reply tuple cand unique (its dport is the translated
 * source port): random start in the class of orig_port, linear probing, shrinking rounds.
 * Leaves the last candidate in cand when none is free. */
static gboolean
snat_search_port(CtTable *t, CtTuple *cand, guint16 orig_port, SimRng *rng, SimTime now)
{
    guint min, range;
    snat_port_class(orig_port, &min, &range);
    guint attempts = MIN(range, NAT_MAX_ATTEMPTS);
    guint16 off = (guint16)sim_rng_next(rng); /* get_random_u16(); wraps like the kernel's u16 */
    for (;;) {
        for (guint i = 0; i < attempts; i++, off++) {
            cand->dport = (guint16)(min + off % range);
            if (!ct_tuple_taken(t, cand, now))
                return TRUE;
            t->stats.snat_clashes++;
        }
        if (attempts >= range || attempts < NAT_MIN_ATTEMPTS)
            return FALSE;
        attempts /= 2;
        off = (guint16)sim_rng_next(rng);
    }
}

/* Makes cand e's reply tuple, marking the source as translated when it differs. */
static void
snat_apply(CtEntry *e, const CtTuple *cand)
{
    if (ct_tuple_equal(cand, &e->tuple[CT_DIR_REPLY]))
        return;
    e->tuple[CT_DIR_REPLY] = *cand;
    e->status |= IPS_SRC_NAT;
}

gboolean
ct_setup_snat(CtTable *t, CtEntry *e, const SimAddr *addr, gboolean random_fully, SimRng *rng)
{
    g_return_val_if_fail(t != NULL && e != NULL && addr != NULL && rng != NULL, FALSE);
    g_return_val_if_fail(e->slot == SLOT_UNCONFIRMED, FALSE);
    g_return_val_if_fail(!(e->status & IPS_SRC_NAT), FALSE);
    CtTuple cand = e->tuple[CT_DIR_REPLY];
    cand.dst = *addr;
    gboolean found = TRUE;
    if (!proto_has_ports(cand.proto)) {
        found = !ct_tuple_taken(t, &cand, e->created);
    } else if (random_fully || ct_tuple_taken(t, &cand, e->created)) {
        if (!random_fully)
            t->stats.snat_clashes++;
        found = snat_search_port(t, &cand, e->tuple[CT_DIR_ORIGINAL].sport, rng, e->created);
    }
    snat_apply(e, &cand);
    return found;
}

gboolean
ct_confirm(CtTable *t, CtEntry *e, SimRng *rng)
{
    g_return_val_if_fail(t != NULL && e != NULL && rng != NULL, FALSE);
    g_return_val_if_fail(e->slot == SLOT_UNCONFIRMED, FALSE);
    SimTime now = e->created;
    gboolean ok = !ct_tuple_taken(t, &e->tuple[CT_DIR_ORIGINAL], now);
    if (ok && ct_tuple_taken(t, &e->tuple[CT_DIR_REPLY], now)) {
        /* The null binding: without a SNAT rule the kernel still moves the source port when
         * the reply tuple is taken (it cannot move a DNAT destination port). */
        ok = FALSE;
        if (!(e->status & IPS_SRC_NAT) && proto_has_ports(e->tuple[CT_DIR_REPLY].proto)) {
            CtTuple cand = e->tuple[CT_DIR_REPLY];
            ok = snat_search_port(t, &cand, e->tuple[CT_DIR_ORIGINAL].sport, rng, now);
            if (ok)
                snat_apply(e, &cand);
        }
    }
    if (!ok) {
        t->stats.insert_failed++;
        ct_entry_release(t, e);
        return FALSE;
    }
    ct_hash_insert(t, e, CT_DIR_ORIGINAL);
    ct_hash_insert(t, e, CT_DIR_REPLY);
    e->slot = SLOT_CONFIRMED;
    e->status |= IPS_CONFIRMED;
    t->stats.created++;
    if (e->status & IPS_SRC_NAT) {
        t->stats.snat_current++;
        t->stats.snat_peak = MAX(t->stats.snat_peak, t->stats.snat_current);
    }
    return TRUE;
}

void
ct_abort(CtTable *t, CtEntry *e)
{
    g_return_if_fail(t != NULL && e != NULL);
    g_return_if_fail(e->slot == SLOT_UNCONFIRMED);
    ct_entry_release(t, e);
}

void
ct_nat_packet(const CtEntry *e, CtDir dir, CtManip manip, SimPacket *pkt)
{
    g_return_if_fail(e != NULL && pkt != NULL);
    guint32 bit = manip == CT_MANIP_SRC ? IPS_SRC_NAT : IPS_DST_NAT;
    if (dir == CT_DIR_REPLY)
        bit ^= IPS_SRC_NAT | IPS_DST_NAT; /* a reply undoes the other side's translation */
    if (!(e->status & bit))
        return;
    /* The packet is made to look like the inverse of the other direction's tuple. */
    const CtTuple *other = &e->tuple[dir == CT_DIR_ORIGINAL ? CT_DIR_REPLY : CT_DIR_ORIGINAL];
    switch (manip) {
    case CT_MANIP_SRC:
        pkt->src.addr = other->dst;
        pkt->src.port = other->dport;
        break;
    case CT_MANIP_DST:
        pkt->dst.addr = other->src;
        pkt->dst.port = other->sport;
        break;
    }
}
