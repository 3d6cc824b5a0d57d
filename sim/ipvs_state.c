/* SPDX-License-Identifier: Apache-2.0 */
/* A host's run-time IPVS state: what the kernel keeps across syncs - destinations with their
 * counters, scheduler data, persistence templates, connections.
 *
 * Models ip_vs_ctl.c's destination management (a destination's counters kept while kube-proxy
 * re-adds it; graceful removal by weight 0) and ip_vs_conn.c's accounting (activeconns /
 * inactconns, connection templates with n_control), driven by the host's conntrack entries
 * rather than by IPVS's own per-packet state machine: a connection's IPVS state follows its
 * conntrack TCP state (ESTABLISHED counts as active, every other state and every UDP/SCTP
 * connection as inactive), and it ends when it has been idle for IPVS's timeout of that state
 * (tcp for ESTABLISHED, tcpfin for FIN_WAIT, udp, and the kernel's fixed values such as
 * TIME_WAIT 2 min), idleness read from the conntrack entry's expiry while the entry lives
 * (ct_entry_last_seen()), so nothing runs per packet. An IPVS connection outlives its conntrack
 * entry when its timeout is the longer one (UDP: 300 s against 30 s); the opposite case (an idle
 * TCP connection IPVS forgot after 900 s) keeps flowing through conntrack's DNAT, where the
 * kernel would answer its next packet with a RST. Expiry is lazy: ipvs_state_expire() runs
 * before every scheduling decision and every query through the host.
 */
#include "sim/ipvs_private.h"

#include <string.h>

/* A connection the state accounts for (struct ip_vs_conn). While its conntrack entry lives it
 * is found by the entry's id; after that it lives on, detached, until its IPVS timeout. */
typedef struct {
    IpvsDestState *dest; /* holds a ref */
    IpvsTemplate *tmpl;  /* (nullable) holds an n_control */
    CtEntry *e;          /* (nullable) the entry, until it is released */
    SimTime last_seen;   /* the last packet seen (from the entry's expiry, or a state change) */
    guint32 id;          /* the entry's id while attached */
    guint32 gen;         /* bumped on every state change: older heap items are void */
    guint heap_refs;     /* heap items pointing here */
    guint8 counted;      /* COUNT_* */
    guint8 proto;
    guint8 tcp_state; /* CtTcpState of the entry when last seen */
    gboolean ended;   /* no longer counted; freed when no heap item points here */
} IpvsConn;

enum { COUNT_NONE, COUNT_ACTIVE, COUNT_INACTIVE };

/* A pending expiry check of a connection. */
typedef struct {
    SimTime when;
    IpvsConn *c;
    guint32 gen;
} HeapItem;

struct IpvsState {
    IpvsConfig cfg;
    const CtTable *ct;    /* (nullable) the host's table, for the entries' last packet times */
    GHashTable *services; /* IpvsKey* (the record's) -> IpvsSvcState*, owned */
    GHashTable *conns;    /* GUINT_TO_POINTER(ct id + 1) -> IpvsConn*, the attached ones */
    GArray *heap;         /* HeapItem, a binary min-heap on when; every live conn has one */
    guint live;           /* connections not ended */
    guint sync_round;
};

void
ipvs_config_init(IpvsConfig *c)
{
    g_return_if_fail(c != NULL);
    c->tcp = 900 * SIM_SEC;
    c->tcpfin = 120 * SIM_SEC;
    c->udp = 300 * SIM_SEC;
}

/* Frees d when nothing lists or references it any more. */
static void
dest_maybe_free(IpvsDestState *d)
{
    if (!d->listed && d->refs == 0)
        g_free(d);
}

/* Drops one reference to d. */
static void
dest_unref(IpvsDestState *d)
{
    g_assert(d->refs > 0);
    d->refs--;
    dest_maybe_free(d);
}

/* Frees template tp, dropping its destination reference. */
static void
template_free(gpointer p)
{
    IpvsTemplate *tp = p;
    dest_unref(tp->dest);
    g_free(tp);
}

/* The destinations of ss as the scheduler reads them, refreshed from the records. */
static void
svc_mirror(IpvsSvcState *ss)
{
    g_array_set_size(ss->sd, ss->dests->len);
    for (guint i = 0; i < ss->dests->len; i++) {
        IpvsDestState *d = g_ptr_array_index(ss->dests, i);
        d->idx = i;
        g_array_index(ss->sd, IpvsSchedDest, i) =
            (IpvsSchedDest){.weight = d->weight, .active = d->active, .inactive = d->inactive};
    }
}

/* The position of d in ss's list, or -1. */
static gint
svc_index(const IpvsSvcState *ss, const IpvsDestState *d)
{
    for (guint i = 0; d != NULL && i < ss->dests->len; i++)
        if (g_ptr_array_index(ss->dests, i) == d)
            return (gint)i;
    return -1;
}

/* Takes d out of its service's list (ip_vs_del_dest()); it lives on while referenced. */
static void
svc_unlink_dest(IpvsSvcState *ss, IpvsDestState *d)
{
    gint i = (gint)d->idx;
    g_assert(d->listed && g_ptr_array_index(ss->dests, i) == d);
    g_hash_table_remove(ss->by_addr, &d->addr);
    g_ptr_array_remove_index(ss->dests, (guint)i);
    d->listed = FALSE;
    d->svc = NULL;
    svc_mirror(ss);
    ipvs_sched_dests_changed(&ss->sched, ss->spec.sched, (const IpvsSchedDest *)ss->sd->data,
                             ss->sd->len, i, FALSE);
    dest_maybe_free(d);
}

/* Releases a service record: its destinations leave it (kept while connections use them) and
 * its templates go, or are orphaned while connections still count on them. */
static void
svc_free(gpointer p)
{
    IpvsSvcState *ss = p;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, ss->templates);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        IpvsTemplate *tp = value;
        g_hash_table_iter_steal(&it);
        if (tp->n_control == 0)
            template_free(tp);
        else
            tp->zero_since = -1; /* orphaned: freed by its last connection */
    }
    g_hash_table_unref(ss->templates);
    for (guint i = 0; i < ss->dests->len; i++) {
        IpvsDestState *d = g_ptr_array_index(ss->dests, i);
        d->listed = FALSE;
        d->svc = NULL;
        dest_maybe_free(d);
    }
    g_ptr_array_unref(ss->dests);
    g_array_unref(ss->sd);
    g_hash_table_unref(ss->by_addr);
    g_free(ss);
}

IpvsState *
ipvs_state_new(const IpvsConfig *c)
{
    g_return_val_if_fail(c != NULL, NULL);
    IpvsState *st = g_new0(IpvsState, 1);
    st->cfg = *c;
    st->services = g_hash_table_new_full(ipvs_key_hash, ipvs_key_equal, NULL, svc_free);
    st->conns = g_hash_table_new(g_direct_hash, g_direct_equal);
    st->heap = g_array_new(FALSE, FALSE, sizeof(HeapItem));
    return st;
}

static void conn_end(IpvsState *st, IpvsConn *c, SimTime now);

void
ipvs_state_free(IpvsState *st)
{
    if (st == NULL)
        return;
    /* Every live connection has a heap item: end them there (they hold references on
     * destinations and templates), then free each with its last item. */
    for (guint i = 0; i < st->heap->len; i++) {
        IpvsConn *c = g_array_index(st->heap, HeapItem, i).c;
        if (!c->ended)
            conn_end(st, c, 0);
        if (--c->heap_refs == 0)
            g_free(c);
    }
    g_hash_table_unref(st->conns);
    g_hash_table_unref(st->services);
    g_array_unref(st->heap);
    g_free(st);
}

void
ipvs_state_set_conntrack(IpvsState *st, const CtTable *ct)
{
    g_return_if_fail(st != NULL);
    st->ct = ct;
}

const IpvsConfig *
ipvs_state_config(const IpvsState *st)
{
    g_return_val_if_fail(st != NULL, NULL);
    return &st->cfg;
}

/* ------------------------------------------------------------------ expiry heap */

/* Adds an expiry check for c's current generation at when. O(log n). */
static void
heap_push(IpvsState *st, SimTime when, IpvsConn *c)
{
    HeapItem item = {.when = when, .c = c, .gen = c->gen};
    c->heap_refs++;
    g_array_append_val(st->heap, item);
    HeapItem *h = (HeapItem *)(gpointer)st->heap->data;
    for (guint i = st->heap->len - 1; i > 0;) {
        guint parent = (i - 1) / 2;
        if (h[parent].when <= h[i].when)
            break;
        HeapItem tmp = h[parent];
        h[parent] = h[i];
        h[i] = tmp;
        i = parent;
    }
}

/* Removes the earliest check into *out. O(log n). */
static void
heap_pop(IpvsState *st, HeapItem *out)
{
    HeapItem *h = (HeapItem *)(gpointer)st->heap->data;
    guint n = st->heap->len - 1;
    *out = h[0];
    h[0] = h[n];
    g_array_set_size(st->heap, n);
    for (guint i = 0;;) {
        guint l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].when < h[m].when)
            m = l;
        if (r < n && h[r].when < h[m].when)
            m = r;
        if (m == i)
            break;
        HeapItem tmp = h[m];
        h[m] = h[i];
        h[i] = tmp;
        i = m;
    }
}

/* ------------------------------------------------------------------ sync */

/* A new, empty service record for table service svc. */
static IpvsSvcState *
svc_new(const IpvsService *svc)
{
    IpvsSvcState *ss = g_new0(IpvsSvcState, 1);
    ss->key = svc->key;
    ss->spec = svc->spec;
    ss->dests = g_ptr_array_new();
    ss->sd = g_array_new(FALSE, TRUE, sizeof(IpvsSchedDest));
    ss->by_addr = g_hash_table_new(ipvs_sockaddr_hash, ipvs_sockaddr_equal);
    ss->templates = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    ipvs_sched_state_init(&ss->sched, ss->spec.sched, NULL, 0);
    return ss;
}

/* Whether d may leave its service now: not listed by the table, and drained. */
static gboolean
dest_drained(const IpvsDestState *d)
{
    return d->drain && d->active == 0 && d->inactive == 0;
}

/* Applies table service svc to its record ss: weights, new destinations at the head in the
 * order added, left-out ones deleted or drained (graceful). Keeps rr/lblc positions on the
 * same destinations. */
static void
svc_sync(IpvsSvcState *ss, const IpvsService *svc, gboolean graceful)
{
    gboolean resched = ss->spec.sched != svc->spec.sched;
    ss->spec = svc->spec;
    gint cl = ss->sched.cl, as = ss->sched.assigned;
    IpvsDestState *cl_dest = cl >= 0 ? g_ptr_array_index(ss->dests, cl) : NULL;
    IpvsDestState *as_dest =
        as >= 0 && as < (gint)ss->dests->len ? g_ptr_array_index(ss->dests, as) : NULL;
    g_autoptr(GPtrArray) keep = g_ptr_array_new();
    for (guint i = 0; i < ss->dests->len; i++) { /* the old list, head first */
        IpvsDestState *d = g_ptr_array_index(ss->dests, i);
        gpointer pos = g_hash_table_lookup(svc->by_addr, &d->addr);
        if (pos != NULL) {
            d->weight = g_array_index(svc->dests, IpvsDestCfg, GPOINTER_TO_UINT(pos) - 1).weight;
            d->drain = FALSE;
        } else if (graceful && (d->active > 0 || d->inactive > 0)) {
            d->weight = 0;
            d->drain = TRUE;
        } else {
            if (cl_dest == d) /* rr's del_dest: the position moves to the previous one */
                cl_dest = keep->len > 0 ? g_ptr_array_index(keep, keep->len - 1) : NULL;
            if (as_dest == d)
                as_dest = NULL;
            g_hash_table_remove(ss->by_addr, &d->addr);
            d->listed = FALSE;
            d->svc = NULL;
            dest_maybe_free(d);
            continue;
        }
        g_ptr_array_add(keep, d);
    }
    g_ptr_array_set_size(ss->dests, 0);
    for (guint i = svc->dests->len; i > 0; i--) { /* new ones: the last added is the head */
        const IpvsDestCfg *c = &g_array_index(svc->dests, IpvsDestCfg, i - 1);
        if (g_hash_table_contains(ss->by_addr, &c->addr))
            continue;
        IpvsDestState *d = g_new0(IpvsDestState, 1);
        d->addr = c->addr;
        d->weight = c->weight;
        d->listed = TRUE;
        d->svc = ss;
        g_hash_table_insert(ss->by_addr, &d->addr, d);
        g_ptr_array_add(ss->dests, d);
    }
    for (guint i = 0; i < keep->len; i++)
        g_ptr_array_add(ss->dests, g_ptr_array_index(keep, i));
    svc_mirror(ss);
    const IpvsSchedDest *sd = (const IpvsSchedDest *)(gpointer)ss->sd->data;
    if (resched) {
        ipvs_sched_state_init(&ss->sched, ss->spec.sched, sd, ss->sd->len);
        return;
    }
    ss->sched.cl = svc_index(ss, cl_dest);
    ss->sched.assigned = svc_index(ss, as_dest);
    ipvs_sched_dests_changed(&ss->sched, ss->spec.sched, sd, ss->sd->len, -1, FALSE);
}

void
ipvs_state_sync(IpvsState *st, const IpvsTable *t, SimTime now)
{
    g_return_if_fail(st != NULL);
    ipvs_state_expire(st, now);
    guint round = ++st->sync_round;
    for (guint i = 0; t != NULL && i < t->services->len; i++) {
        const IpvsService *svc = g_ptr_array_index(t->services, i);
        IpvsSvcState *ss = g_hash_table_lookup(st->services, &svc->key);
        if (ss == NULL) {
            ss = svc_new(svc);
            g_hash_table_insert(st->services, &ss->key, ss);
        }
        svc_sync(ss, svc, t->graceful);
        ss->sync_mark = round;
    }
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, st->services);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const IpvsSvcState *ss = value;
        if (ss->sync_mark != round)
            g_hash_table_iter_remove(&it); /* ipvsadm -D: connections go on without it */
    }
}

/* ------------------------------------------------------------------ persistence */

/* Whether template tp still lives at now (ip_vs_conn_expire() re-arms a template's timer for
 * another timeout while connections it controls live), moving its expiry on as the timer
 * would have. */
static gboolean
template_alive(IpvsTemplate *tp, SimTime timeout, SimTime now)
{
    if (now < tp->expires)
        return TRUE;
    if (timeout <= 0)
        return FALSE;
    if (tp->n_control > 0) {
        tp->expires += ((now - tp->expires) / timeout + 1) * timeout;
        return TRUE;
    }
    /* No connection since zero_since: the first timer tick at or after it ends the template. */
    if (tp->expires >= tp->zero_since)
        return FALSE;
    SimTime ticks = (tp->zero_since - tp->expires + timeout - 1) / timeout;
    tp->expires += ticks * timeout;
    return now < tp->expires;
}

/* The client's template key: its address masked with the service's persistence netmask. */
static SimAddr
template_key(const IpvsSvcState *ss, const SimAddr *client)
{
    SimAddr a = *client;
    guint len = ss->spec.netmask_len;
    guint bytes = a.family == SIM_AF_INET ? 4 : 16;
    for (guint i = 0; i < bytes; i++) {
        guint keep = len >= (i + 1) * 8 ? 8 : (len > i * 8 ? len - i * 8 : 0);
        a.b[i] &= (guint8)(keep == 0 ? 0 : 0xff << (8 - keep));
    }
    return a;
}

/* ip_vs_sched_persist(): the live template's destination (weight 0 included, as with
 * expire_quiescent_template=0), else a scheduled one recorded in a new template. Returns the
 * destination's index or -1. */
static gint
schedule_persist(IpvsSvcState *ss, const SimPacket *pkt, SimTime now, IpvsTemplate **tmpl)
{
    SimAddr key = template_key(ss, &pkt->src.addr);
    SimTime timeout = (SimTime)ss->spec.timeout * SIM_SEC;
    IpvsTemplate *tp = g_hash_table_lookup(ss->templates, &key);
    if (tp != NULL && tp->dest->listed && template_alive(tp, timeout, now)) {
        tp->expires = now + timeout;
        *tmpl = tp;
        return (gint)tp->dest->idx;
    }
    if (tp != NULL) { /* dead or pointing at a deleted destination */
        g_hash_table_steal(ss->templates, &key);
        if (tp->n_control == 0)
            template_free(tp);
        else
            tp->zero_since = -1;
    }
    gint i = ipvs_sched_pick(&ss->sched, ss->spec.sched, ss->spec.flags,
                             (const IpvsSchedDest *)(gpointer)ss->sd->data, ss->sd->len, pkt);
    if (i < 0)
        return -1;
    tp = g_new0(IpvsTemplate, 1);
    tp->client = key;
    tp->dest = g_ptr_array_index(ss->dests, i);
    tp->dest->refs++;
    tp->expires = now + timeout;
    tp->zero_since = now;
    g_hash_table_insert(ss->templates, &tp->client, tp);
    *tmpl = tp;
    return i;
}

gboolean
ipvs_state_schedule(IpvsState *st, const IpvsService *svc, const SimPacket *pkt, SimTime now,
                    IpvsPick *out)
{
    g_return_val_if_fail(st != NULL && svc != NULL && pkt != NULL && out != NULL, FALSE);
    memset(out, 0, sizeof *out);
    ipvs_state_expire(st, now);
    IpvsSvcState *ss = g_hash_table_lookup(st->services, &svc->key);
    if (ss == NULL) { /* added to the table after the host took it: sync it now */
        ss = svc_new(svc);
        g_hash_table_insert(st->services, &ss->key, ss);
        svc_sync(ss, svc, svc->table->graceful);
        ss->sync_mark = st->sync_round;
    }
    IpvsTemplate *tp = NULL;
    gint i;
    if (ss->spec.flags & IPVS_SVC_PERSISTENT)
        i = schedule_persist(ss, pkt, now, &tp);
    else
        i = ipvs_sched_pick(&ss->sched, ss->spec.sched, ss->spec.flags,
                            (const IpvsSchedDest *)(gpointer)ss->sd->data, ss->sd->len, pkt);
    if (i < 0)
        return FALSE;
    IpvsDestState *d = g_ptr_array_index(ss->dests, i);
    out->to = d->addr;
    out->dest = d;
    out->tmpl = tp;
    return TRUE;
}

/* ------------------------------------------------------------------ connections */

/* Adds delta to d's active or inactive count (which: COUNT_*), mirrored for its scheduler. */
static void
dest_count(IpvsDestState *d, guint8 which, gint delta)
{
    if (which == COUNT_NONE)
        return;
    guint32 *c = which == COUNT_ACTIVE ? &d->active : &d->inactive;
    g_assert(delta > 0 || *c > 0);
    *c = (guint32)((gint64)*c + delta);
    if (d->svc == NULL || !d->listed)
        return;
    IpvsSchedDest *sd = &g_array_index(d->svc->sd, IpvsSchedDest, d->idx);
    sd->active = d->active;
    sd->inactive = d->inactive;
}

/* IPVS's timeout for c in its current state: the configured tcp (ESTABLISHED), tcpfin
 * (FIN_WAIT) and udp ones, the kernel's fixed values for the other TCP states (SYN_RECV 1 min,
 * CLOSE_WAIT 1 min, LAST_ACK 30 s, TIME_WAIT 2 min, CLOSE 10 s), 15 min for SCTP. */
static SimTime
conn_timeout(const IpvsState *st, const IpvsConn *c)
{
    static const SimTime fixed[CT_TCP_N_STATES] = {
        [CT_TCP_NONE] = 60 * SIM_SEC,     [CT_TCP_SYN_SENT] = 60 * SIM_SEC,
        [CT_TCP_SYN_RECV] = 60 * SIM_SEC, [CT_TCP_CLOSE_WAIT] = 60 * SIM_SEC,
        [CT_TCP_LAST_ACK] = 30 * SIM_SEC, [CT_TCP_TIME_WAIT] = 120 * SIM_SEC,
        [CT_TCP_CLOSE] = 10 * SIM_SEC,    [CT_TCP_SYN_SENT2] = 60 * SIM_SEC,
    };
    if (c->proto == SIM_PROTO_UDP)
        return st->cfg.udp;
    if (c->proto != SIM_PROTO_TCP)
        return 900 * SIM_SEC;
    if (c->tcp_state == CT_TCP_ESTABLISHED)
        return st->cfg.tcp;
    return c->tcp_state == CT_TCP_FIN_WAIT ? st->cfg.tcpfin : fixed[c->tcp_state];
}

/* Moves c's last packet time up to what its conntrack entry shows. */
static void
conn_refresh(IpvsState *st, IpvsConn *c)
{
    if (c->e != NULL && st->ct != NULL)
        c->last_seen = MAX(c->last_seen, ct_entry_last_seen(st->ct, c->e));
}

/* Re-counts c after its conntrack entry moved to a new state at now (ActiveConn only while
 * ESTABLISHED) and schedules its next expiry check. */
static void
conn_update(IpvsState *st, IpvsConn *c, SimTime now)
{
    c->tcp_state = c->proto == SIM_PROTO_TCP ? (guint8)ct_entry_tcp_state(c->e) : 0;
    guint8 which = c->tcp_state == CT_TCP_ESTABLISHED ? COUNT_ACTIVE : COUNT_INACTIVE;
    if (which != c->counted) {
        dest_count(c->dest, c->counted, -1);
        dest_count(c->dest, which, +1);
        c->counted = which;
    }
    c->last_seen = MAX(c->last_seen, now);
    c->gen++;
    heap_push(st, c->last_seen + conn_timeout(st, c), c);
}

/* Ends c (the kernel's ip_vs_conn_expire()): counts, template, destination. c is freed once
 * no heap item points at it. */
static void
conn_end(IpvsState *st, IpvsConn *c, SimTime now)
{
    if (c->e != NULL)
        g_hash_table_remove(st->conns, GUINT_TO_POINTER(c->id + 1));
    c->e = NULL;
    c->ended = TRUE;
    st->live--;
    dest_count(c->dest, c->counted, -1);
    IpvsTemplate *tp = c->tmpl;
    if (tp != NULL && --tp->n_control == 0) {
        if (tp->zero_since < 0)
            template_free(tp); /* orphaned */
        else
            tp->zero_since = now;
    }
    IpvsDestState *d = c->dest;
    if (d->listed && dest_drained(d)) /* graceful removal done: ipvsadm -d */
        svc_unlink_dest(d->svc, d);
    dest_unref(d);
    if (c->heap_refs == 0)
        g_free(c);
}

void
ipvs_state_conn_start(IpvsState *st, const IpvsPick *pick, CtEntry *e, SimTime now)
{
    g_return_if_fail(st != NULL && pick != NULL && pick->dest != NULL && e != NULL);
    guint32 id = ct_entry_id(e);
    IpvsConn *old = g_hash_table_lookup(st->conns, GUINT_TO_POINTER(id + 1));
    if (old != NULL) { /* the previous entry of this slot left unseen: detach it */
        g_hash_table_remove(st->conns, GUINT_TO_POINTER(id + 1));
        old->e = NULL;
    }
    IpvsConn *c = g_new0(IpvsConn, 1);
    c->dest = pick->dest;
    c->dest->refs++;
    c->tmpl = pick->tmpl;
    if (c->tmpl != NULL)
        c->tmpl->n_control++;
    c->e = e;
    c->id = id;
    c->proto = ct_entry_tuple(e, CT_DIR_ORIGINAL)->proto;
    c->last_seen = now;
    st->live++;
    g_hash_table_insert(st->conns, GUINT_TO_POINTER(id + 1), c);
    ct_entry_observe(e);
    conn_update(st, c, now);
}

void
ipvs_state_ct_event(CtEntry *e, gboolean dying, SimTime now, gpointer data)
{
    IpvsState *st = data;
    IpvsConn *c = g_hash_table_lookup(st->conns, GUINT_TO_POINTER(ct_entry_id(e) + 1));
    if (c == NULL || c->e != e)
        return;
    if (!dying) {
        conn_update(st, c, now);
        return;
    }
    /* The entry goes; the IPVS connection runs on until its own timeout (UDP's 300 s outlive
     * conntrack's 30 s). */
    conn_refresh(st, c);
    g_hash_table_remove(st->conns, GUINT_TO_POINTER(c->id + 1));
    c->e = NULL;
}

void
ipvs_state_expire(IpvsState *st, SimTime now)
{
    g_return_if_fail(st != NULL);
    while (st->heap->len > 0 && g_array_index(st->heap, HeapItem, 0).when <= now) {
        HeapItem item;
        heap_pop(st, &item);
        IpvsConn *c = item.c;
        c->heap_refs--;
        if (c->ended || c->gen != item.gen) {
            if (c->ended && c->heap_refs == 0)
                g_free(c);
            continue;
        }
        conn_refresh(st, c);
        SimTime deadline = c->last_seen + conn_timeout(st, c);
        if (deadline > now)
            heap_push(st, deadline, c); /* traffic went on */
        else
            conn_end(st, c, deadline); /* when the kernel's timer would have fired */
    }
}

const IpvsSvcState *
ipvs_state_find_service(const IpvsState *st, const IpvsKey *key)
{
    return g_hash_table_lookup(st->services, key);
}

const IpvsDestState *
ipvs_state_find_dest(const IpvsState *st, const IpvsKey *key, const SimSockAddr *rs)
{
    const IpvsSvcState *ss = g_hash_table_lookup(st->services, key);
    return ss != NULL ? g_hash_table_lookup(ss->by_addr, rs) : NULL;
}

gboolean
ipvs_state_dest_counts(const IpvsState *st, guint8 proto, const SimSockAddr *vip,
                       const SimSockAddr *rs, guint32 *weight, guint32 *active, guint32 *inactive)
{
    g_return_val_if_fail(st != NULL && vip != NULL && rs != NULL, FALSE);
    IpvsKey key;
    memset(&key, 0, sizeof key);
    key.addr = vip->addr;
    key.port = vip->port;
    key.proto = proto;
    const IpvsDestState *d = ipvs_state_find_dest(st, &key, rs);
    if (d == NULL)
        return FALSE;
    if (weight != NULL)
        *weight = d->weight;
    if (active != NULL)
        *active = d->active;
    if (inactive != NULL)
        *inactive = d->inactive;
    return TRUE;
}

guint
ipvs_state_conn_count(const IpvsState *st)
{
    g_return_val_if_fail(st != NULL, 0);
    return st->live;
}
