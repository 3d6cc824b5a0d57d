/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tracking and NAT bindings for one host, after Linux nf_conntrack and nf_nat.
 *
 * Storage: entries live in a segmented array (segments of 64, 64, 128, 256, 512, then 1024
 * entries, so a host with three connections does not pay for a thousand, a big table wastes at
 * most one segment, and entry pointers never move) and are reused through a free list. Both
 * tuples of every confirmed entry sit in one open-addressing hash table with linear probing: a
 * slot is 8 bytes (32 bits of hash, the entry's number and the direction), the table doubles
 * at 2/3 load and deletion shifts the run back instead of leaving tombstones. The hash does not
 * depend on the machine's byte order, so the layout, and with it early drop's choice of victim,
 * is the same everywhere.
 *
 * Time: an entry is expired once now >= its expiry, like nf_ct_is_expired(). Expired entries
 * count toward the table until a lookup, a clash check, early drop or the reaper meets them,
 * as in the kernel, where only the gc worker and lookups free them. Entries killed by a packet
 * (a RST before any reply, a SYN reopening a closed connection) are simply made to expire now.
 *
 * The TCP table and the special cases around it follow nf_conntrack_proto_tcp.c (tcp_packet);
 * window tracking is not modelled. The SNAT port search follows nf_nat_core.c
 * (get_unique_tuple, nf_nat_l4proto_unique_tuple).
 *
 * This file holds the table: storage, hashing, lookups, new entries, early drop, deletion and
 * the reaper. The protocol trackers are in conntrack_proto.c, NAT bindings and confirmation in
 * conntrack_nat.c, the shared layout in conntrack_private.h.
 */
#include "sim/conntrack_private.h"

#include <string.h>

/* ------------------------------------------------------------------ storage */

#define SEG0_BITS 6 /* the first two segments hold 64 entries each */
#define SEG0_SIZE (1u << SEG0_BITS)
#define SEG_BITS 10 /* segments double up to 1024 entries, then stay at that */
#define SEG_SIZE (1u << SEG_BITS)
#define GEO_SEGMENTS (SEG_BITS - SEG0_BITS + 2) /* 64, 64, 128, 256, 512, 1024 */
#define GEO_ENTRIES (2 * SEG_SIZE)              /* entries covered by the doubling segments */
#define MAX_ENTRIES (1u << 31)
#define NO_ENTRY G_MAXUINT32
#define EMPTY_REF G_MAXUINT32

/* Entries examined around a new tuple's hash when the table is full. The kernel looks at 8
 * hash chains (NF_CT_EVICTION_RANGE); with kube-proxy's hashsize = max/4 a chain holds about 8
 * tuples at a full table, so this looks at about as many candidates. */
#define EARLY_DROP_SCAN 64

typedef enum {
    DELETE_EXPIRED,
    DELETE_EARLY_DROP,
    DELETE_REMOVED, /* destroy, flush */
} DeleteReason;

/* Segment number of entry i: 0 and 1 hold 64 entries, each next one twice as many up to
 * 1024, and from there on every segment holds 1024. A small table stays small, a big one
 * wastes at most one segment, and entries never move. */
static inline guint
seg_of(guint32 i)
{
    if (i < SEG0_SIZE)
        return 0;
    if (i < GEO_ENTRIES)
        return g_bit_storage(i) - SEG0_BITS;
    return GEO_SEGMENTS + ((i - GEO_ENTRIES) >> SEG_BITS);
}

/* First entry number of segment s. */
static inline guint32
seg_start(guint s)
{
    if (s == 0)
        return 0;
    if (s < GEO_SEGMENTS)
        return SEG0_SIZE << (s - 1);
    return GEO_ENTRIES + ((guint32)(s - GEO_SEGMENTS) << SEG_BITS);
}

/* Entries in segment s. */
static inline guint32
seg_size(guint s)
{
    return s == 0 ? SEG0_SIZE : s < GEO_SEGMENTS ? SEG0_SIZE << (s - 1) : SEG_SIZE;
}

static inline CtEntry *
entry_at(const CtTable *t, guint32 i)
{
    guint s = seg_of(i);
    return &t->seg[s][i - seg_start(s)];
}

/* Takes an entry from the free list, or the next never-used one (allocating its segment). */
static CtEntry *
entry_alloc(CtTable *t)
{
    guint32 i = t->free_head;
    if (i != NO_ENTRY) {
        CtEntry *e = entry_at(t, i);
        t->free_head = e->next_free;
        return e;
    }
    g_assert(t->n_slots < MAX_ENTRIES);
    i = t->n_slots++;
    guint s = seg_of(i);
    if (s == t->n_seg) { /* i is the first entry of a new segment */
        t->seg = g_renew(CtEntry *, t->seg, t->n_seg + 1);
        t->seg[t->n_seg++] = g_new(CtEntry, seg_size(s));
        t->stats.memory_bytes += seg_size(s) * sizeof(CtEntry) + sizeof(CtEntry *);
    }
    CtEntry *e = entry_at(t, i);
    e->index = i;
    return e;
}

/* Returns e to the free list; it stops counting toward the table. */
void
ct_entry_release(CtTable *t, CtEntry *e)
{
    g_assert(e->slot != SLOT_FREE);
    g_assert(t->stats.current > 0);
    if (e->observed) {
        e->observed = 0;
        if (t->observer != NULL)
            t->observer(e, TRUE, t->now, t->observer_data);
    }
    e->slot = SLOT_FREE;
    e->next_free = t->free_head;
    t->free_head = e->index;
    t->stats.current--;
}

void
ct_table_set_observer(CtTable *t, CtObserverFunc func, gpointer data)
{
    g_return_if_fail(t != NULL);
    t->observer = func;
    t->observer_data = data;
}

void
ct_entry_observe(CtEntry *e)
{
    g_return_if_fail(e != NULL);
    e->observed = 1;
}

guint32
ct_entry_id(const CtEntry *e)
{
    g_return_val_if_fail(e != NULL, 0);
    return e->index;
}

SimTime
ct_entry_last_seen(const CtTable *t, const CtEntry *e)
{
    g_return_val_if_fail(t != NULL && e != NULL, 0);
    const CtConfig *c = &t->cfg;
    guint8 proto = e->tuple[CT_DIR_ORIGINAL].proto;
    SimTime timeout = c->generic;
    if (proto == SIM_PROTO_TCP) {
        timeout = c->tcp_timeout[e->state];
        if (e->state == CT_TCP_ESTABLISHED && !(e->status & IPS_SEEN_REPLY))
            timeout = MIN(timeout, c->tcp_unacknowledged);
    } else if (proto == SIM_PROTO_UDP) {
        timeout = (e->status & IPS_ASSURED) ? c->udp_stream : c->udp_unreplied;
    } else if (proto == SIM_PROTO_SCTP) {
        timeout = (e->status & IPS_SEEN_REPLY) ? c->sctp_established : c->sctp_unreplied;
    } else if (proto == SIM_PROTO_ICMP || proto == SIM_PROTO_ICMPV6) {
        timeout = c->icmp;
    }
    return MIN(e->expires - timeout, t->now);
}

/* ------------------------------------------------------------------ tuples and hashing */

void
ct_tuple_from_packet(const SimPacket *pkt, CtTuple *out)
{
    g_return_if_fail(pkt != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    out->src = pkt->src.addr;
    out->dst = pkt->dst.addr;
    out->sport = pkt->src.port;
    out->dport = pkt->dst.port;
    out->proto = pkt->proto;
}

void
ct_tuple_invert(const CtTuple *t, CtTuple *out)
{
    g_return_if_fail(t != NULL && out != NULL);
    CtTuple r;
    memset(&r, 0, sizeof(r));
    r.src = t->dst;
    r.dst = t->src;
    r.sport = t->dport;
    r.dport = t->sport;
    r.proto = t->proto;
    *out = r;
}

gboolean
ct_tuple_equal(const CtTuple *a, const CtTuple *b)
{
    return a->sport == b->sport && a->dport == b->dport && a->proto == b->proto &&
           memcmp(&a->src, &b->src, sizeof(SimAddr)) == 0 &&
           memcmp(&a->dst, &b->dst, sizeof(SimAddr)) == 0;
}

/* Eight address bytes as a little-endian number, whatever the host's byte order. */
static inline guint64
load_le64(const guint8 *p)
{
    guint64 v;
    memcpy(&v, p, sizeof(v));
    return GUINT64_FROM_LE(v);
}

/* One multiply-rotate mixing step. */
static inline guint64
hash_step(guint64 h, guint64 word)
{
    h = (h ^ word) * 0x9e3779b97f4a7c15ull;
    return (h << 31) | (h >> 33);
}

/* The tuple's hash: every field, mixed and finished with murmur3's 64-bit finaliser. */
static guint32
tuple_hash(const CtTuple *t)
{
    guint64 h = 0x243f6a8885a308d3ull;
    h = hash_step(h, load_le64(t->src.b));
    h = hash_step(h, load_le64(t->src.b + 8));
    h = hash_step(h, load_le64(t->dst.b));
    h = hash_step(h, load_le64(t->dst.b + 8));
    h = hash_step(h, ((guint64)t->sport << 32) | ((guint64)t->dport << 16) |
                         ((guint64)t->proto << 8) | t->src.family);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (guint32)h;
}

/* ------------------------------------------------------------------ the hash table */

static void
buckets_alloc(CtTable *t, guint32 n)
{
    t->buckets = g_new(Bucket, n);
    for (guint32 i = 0; i < n; i++)
        t->buckets[i].ref = EMPTY_REF;
    t->mask = n - 1;
}

/* Places (hash, ref) in the first free bucket of its run. The table must have room. */
static void
bucket_put(CtTable *t, guint32 hash, guint32 ref)
{
    guint32 pos = hash & t->mask;
    while (t->buckets[pos].ref != EMPTY_REF)
        pos = (pos + 1) & t->mask;
    t->buckets[pos] = (Bucket){.hash = hash, .ref = ref};
}

/* Doubles the bucket array and reinserts every tuple (hashes are stored, not recomputed). */
static void
buckets_grow(CtTable *t)
{
    Bucket *old = t->buckets;
    guint32 old_n = t->mask + 1;
    t->stats.memory_bytes -= old_n * sizeof(Bucket);
    buckets_alloc(t, old_n * 2);
    t->stats.memory_bytes += (old_n * 2) * sizeof(Bucket);
    for (guint32 i = 0; i < old_n; i++) {
        if (old[i].ref != EMPTY_REF)
            bucket_put(t, old[i].hash, old[i].ref);
    }
    g_free(old);
}

/* Links entry e under its tuple for dir, growing the table first to stay at most 2/3 full. */
void
ct_hash_insert(CtTable *t, CtEntry *e, CtDir dir)
{
    if ((guint64)(t->used + 1) * 3 > (guint64)(t->mask + 1) * 2)
        buckets_grow(t);
    bucket_put(t, tuple_hash(&e->tuple[dir]), (e->index << 1) | (guint32)dir);
    t->used++;
}

/* Empties bucket pos, shifting later members of its run back so every tuple stays reachable
 * from its home bucket without tombstones. */
static void
bucket_delete(CtTable *t, guint32 pos)
{
    guint32 mask = t->mask;
    guint32 hole = pos;
    for (guint32 j = (pos + 1) & mask; t->buckets[j].ref != EMPTY_REF; j = (j + 1) & mask) {
        guint32 home = t->buckets[j].hash & mask;
        /* The member at j may fill the hole when the hole lies on its probe path. */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            t->buckets[hole] = t->buckets[j];
            hole = j;
        }
    }
    t->buckets[hole].ref = EMPTY_REF;
    t->used--;
}

/* Unlinks the tuple of entry e for dir. */
static void
hash_remove(CtTable *t, CtEntry *e, CtDir dir)
{
    guint32 ref = (e->index << 1) | (guint32)dir;
    guint32 pos = tuple_hash(&e->tuple[dir]) & t->mask;
    while (t->buckets[pos].ref != ref) {
        g_assert(t->buckets[pos].ref != EMPTY_REF);
        pos = (pos + 1) & t->mask;
    }
    bucket_delete(t, pos);
}

/* The linked entry with tuple tu (hash h), expired or not, and its direction. */
static CtEntry *
hash_find(const CtTable *t, const CtTuple *tu, guint32 h, CtDir *dir)
{
    for (guint32 pos = h & t->mask;; pos = (pos + 1) & t->mask) {
        const Bucket *b = &t->buckets[pos];
        if (b->ref == EMPTY_REF)
            return NULL;
        if (b->hash != h)
            continue;
        CtEntry *e = entry_at(t, b->ref >> 1);
        CtDir d = (CtDir)(b->ref & 1u);
        if (ct_tuple_equal(&e->tuple[d], tu)) {
            *dir = d;
            return e;
        }
    }
}

/* Unlinks and releases a confirmed entry, counting why. */
static void
entry_delete(CtTable *t, CtEntry *e, DeleteReason why)
{
    g_assert(e->slot == SLOT_CONFIRMED);
    hash_remove(t, e, CT_DIR_ORIGINAL);
    hash_remove(t, e, CT_DIR_REPLY);
    t->stats.deleted++;
    switch (why) {
    case DELETE_EXPIRED:
        if (!(e->status & IPS_DYING))
            t->stats.expired++;
        break;
    case DELETE_EARLY_DROP:
        t->stats.early_drop++;
        break;
    case DELETE_REMOVED:
        break;
    }
    if (e->status & IPS_SRC_NAT)
        t->stats.snat_current--;
    ct_entry_release(t, e);
}

static inline gboolean
entry_expired(const CtEntry *e, SimTime now)
{
    return e->expires <= now;
}

/* Is tuple used by a live entry (in either direction)? An expired holder is deleted on the way,
 * as the kernel's lookups do. */
gboolean
ct_tuple_taken(CtTable *t, const CtTuple *tuple, SimTime now)
{
    CtDir dir;
    CtEntry *e = hash_find(t, tuple, tuple_hash(tuple), &dir);
    if (e == NULL)
        return FALSE;
    if (entry_expired(e, now)) {
        entry_delete(t, e, DELETE_EXPIRED);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------ configuration, lifecycle */

void
ct_config_init(CtConfig *c)
{
    g_return_if_fail(c != NULL);
    memset(c, 0, sizeof(*c));
    c->max = 131072;
    c->tcp_loose = TRUE;
    c->tcp_timeout[CT_TCP_NONE] = 0;
    c->tcp_timeout[CT_TCP_SYN_SENT] = 120 * SIM_SEC;
    c->tcp_timeout[CT_TCP_SYN_RECV] = 60 * SIM_SEC;
    c->tcp_timeout[CT_TCP_ESTABLISHED] = 86400 * SIM_SEC; /* kube-proxy's; kernel 432000 s */
    c->tcp_timeout[CT_TCP_FIN_WAIT] = 120 * SIM_SEC;
    c->tcp_timeout[CT_TCP_CLOSE_WAIT] = 3600 * SIM_SEC; /* kube-proxy's; kernel 60 s */
    c->tcp_timeout[CT_TCP_LAST_ACK] = 30 * SIM_SEC;
    c->tcp_timeout[CT_TCP_TIME_WAIT] = 120 * SIM_SEC;
    c->tcp_timeout[CT_TCP_CLOSE] = 10 * SIM_SEC;
    c->tcp_timeout[CT_TCP_SYN_SENT2] = 120 * SIM_SEC;
    c->tcp_unacknowledged = 300 * SIM_SEC;
    c->udp_unreplied = 30 * SIM_SEC;
    c->udp_stream = 120 * SIM_SEC;
    c->sctp_unreplied = 3 * SIM_SEC;
    c->sctp_established = 210 * SIM_SEC;
    c->icmp = 30 * SIM_SEC;
    c->generic = 600 * SIM_SEC;
}

guint
ct_max_scaled(guint per_cpu, guint minimum, guint cpus)
{
    if (per_cpu == 0)
        return 0;
    guint64 scaled = (guint64)per_cpu * cpus;
    return (guint)MIN(MAX(scaled, (guint64)minimum), (guint64)G_MAXUINT);
}

CtTable *
ct_table_new(const CtConfig *config)
{
    g_return_val_if_fail(config != NULL, NULL);
    CtTable *t = g_new0(CtTable, 1);
    t->cfg = *config;
    t->free_head = NO_ENTRY;
    buckets_alloc(t, 16);
    t->stats.memory_bytes = sizeof(CtTable) + 16 * sizeof(Bucket);
    return t;
}

void
ct_table_free(CtTable *t)
{
    if (t == NULL)
        return;
    for (guint s = 0; s < t->n_seg; s++)
        g_free(t->seg[s]);
    g_free(t->seg);
    g_free(t->buckets);
    g_free(t);
}

/* ------------------------------------------------------------------ packets */

CtEntry *
ct_lookup(CtTable *t, const CtTuple *tuple, SimTime now, CtDir *dir)
{
    g_return_val_if_fail(t != NULL && tuple != NULL, NULL);
    g_return_val_if_fail(now >= t->now, NULL); /* time never goes backwards */
    t->now = now;
    CtDir d;
    CtEntry *e = hash_find(t, tuple, tuple_hash(tuple), &d);
    if (e == NULL)
        return NULL;
    if (entry_expired(e, now)) {
        entry_delete(t, e, DELETE_EXPIRED);
        return NULL;
    }
    if (dir != NULL)
        *dir = d;
    return e;
}

/* Frees room for one entry on a full table the way early_drop() does: looks at the entries
 * hashed next to the new tuple and deletes the first that is expired or not assured. */
static gboolean
early_drop(CtTable *t, guint32 hash, SimTime now)
{
    guint32 pos = hash & t->mask;
    for (guint k = 0; k < EARLY_DROP_SCAN && k <= t->mask; k++, pos = (pos + 1) & t->mask) {
        guint32 ref = t->buckets[pos].ref;
        if (ref == EMPTY_REF)
            continue;
        CtEntry *e = entry_at(t, ref >> 1);
        if (entry_expired(e, now)) {
            entry_delete(t, e, DELETE_EXPIRED);
            return TRUE;
        }
        if (!(e->status & IPS_ASSURED)) {
            entry_delete(t, e, DELETE_EARLY_DROP);
            return TRUE;
        }
    }
    return FALSE;
}

CtNewResult
ct_new(CtTable *t, const SimPacket *pkt, SimTime now, CtEntry **out)
{
    g_return_val_if_fail(t != NULL && pkt != NULL && out != NULL, CT_NEW_INVALID);
    *out = NULL;
    g_return_val_if_fail(now >= t->now, CT_NEW_INVALID); /* time never goes backwards */
    t->now = now;
    CtTcpState state;
    SimTime timeout;
    if (!ct_first_packet(t, pkt, &state, &timeout)) {
        t->stats.invalid++;
        return CT_NEW_INVALID;
    }
    CtTuple orig;
    ct_tuple_from_packet(pkt, &orig);
    if (t->cfg.max != 0 && t->stats.current >= t->cfg.max &&
        !early_drop(t, tuple_hash(&orig), now)) {
        t->stats.drops_table_full++;
        t->gc_pressure = t->n_slots; /* one full gc pass in early-drop mode, as the kernel's */
        return CT_NEW_TABLE_FULL;
    }
    CtEntry *e = entry_alloc(t);
    e->tuple[CT_DIR_ORIGINAL] = orig;
    ct_tuple_invert(&orig, &e->tuple[CT_DIR_REPLY]);
    e->status = 0;
    e->created = now;
    e->expires = now + timeout;
    e->slot = SLOT_UNCONFIRMED;
    e->state = (guint8)state;
    e->tcp = 0;
    e->observed = 0;
    e->last_end = 0;
    if (pkt->proto == SIM_PROTO_TCP)
        tcp_set_last(e, CT_DIR_ORIGINAL, tcp_index(pkt->tcp_flags));
    t->stats.current++;
    t->stats.peak = MAX(t->stats.peak, t->stats.current);
    *out = e;
    return CT_NEW_OK;
}

/* ------------------------------------------------------------------ deletion and the reaper */

void
ct_destroy(CtTable *t, CtEntry *e)
{
    g_return_if_fail(t != NULL && e != NULL);
    g_return_if_fail(e->slot == SLOT_CONFIRMED);
    entry_delete(t, e, DELETE_REMOVED);
}

guint
ct_flush(CtTable *t, gboolean (*pred)(const CtEntry *e, gpointer data), gpointer data)
{
    g_return_val_if_fail(t != NULL && pred != NULL, 0);
    guint n = 0;
    for (guint32 i = 0; i < t->n_slots; i++) {
        CtEntry *e = entry_at(t, i);
        if (e->slot != SLOT_CONFIRMED)
            continue;
        if (entry_expired(e, t->now)) {
            entry_delete(t, e, DELETE_EXPIRED); /* already gone; not the predicate's */
        } else if (pred(e, data)) {
            entry_delete(t, e, DELETE_REMOVED);
            n++;
        }
    }
    return n;
}

/* gc_worker_can_early_drop(): not assured, or a TCP connection on its way out. */
static gboolean
can_early_drop(const CtEntry *e)
{
    if (!(e->status & IPS_ASSURED))
        return TRUE;
    if (e->tuple[CT_DIR_ORIGINAL].proto != SIM_PROTO_TCP)
        return FALSE;
    switch ((CtTcpState)e->state) {
    case CT_TCP_FIN_WAIT:
    case CT_TCP_LAST_ACK:
    case CT_TCP_TIME_WAIT:
    case CT_TCP_CLOSE:
    case CT_TCP_CLOSE_WAIT:
        return TRUE;
    case CT_TCP_NONE:
    case CT_TCP_SYN_SENT:
    case CT_TCP_SYN_RECV:
    case CT_TCP_ESTABLISHED:
    case CT_TCP_SYN_SENT2:
        return FALSE;
    }
    return FALSE;
}

guint
ct_reap(CtTable *t, SimTime now, guint budget)
{
    g_return_val_if_fail(t != NULL, 0);
    g_return_val_if_fail(now >= t->now, 0); /* time never goes backwards */
    t->now = now;
    guint n = 0;
    budget = MIN(budget, t->n_slots);
    for (guint k = 0; k < budget; k++) {
        if (t->reap_cursor >= t->n_slots)
            t->reap_cursor = 0;
        CtEntry *e = entry_at(t, t->reap_cursor++);
        gboolean pressure =
            t->gc_pressure > 0 && t->stats.current >= (guint64)t->cfg.max * 95 / 100;
        if (t->gc_pressure > 0)
            t->gc_pressure--;
        if (e->slot != SLOT_CONFIRMED)
            continue;
        if (entry_expired(e, now)) {
            entry_delete(t, e, DELETE_EXPIRED);
            n++;
        } else if (pressure && can_early_drop(e)) {
            entry_delete(t, e, DELETE_EARLY_DROP);
            n++;
        }
    }
    return n;
}

void
ct_get_stats(const CtTable *t, CtStats *out)
{
    g_return_if_fail(t != NULL && out != NULL);
    *out = t->stats;
}

/* ------------------------------------------------------------------ reading entries */

const CtTuple *
ct_entry_tuple(const CtEntry *e, CtDir dir)
{
    g_return_val_if_fail(e != NULL, NULL);
    return &e->tuple[dir];
}

guint32
ct_entry_status(const CtEntry *e)
{
    g_return_val_if_fail(e != NULL, 0);
    return e->status;
}

CtTcpState
ct_entry_tcp_state(const CtEntry *e)
{
    g_return_val_if_fail(e != NULL, CT_TCP_NONE);
    return (CtTcpState)e->state;
}

SimTime
ct_entry_expires(const CtEntry *e)
{
    g_return_val_if_fail(e != NULL, 0);
    return e->expires;
}

const char *
ct_tcp_state_name(CtTcpState s)
{
    switch (s) {
    case CT_TCP_NONE:
        return "NONE";
    case CT_TCP_SYN_SENT:
        return "SYN_SENT";
    case CT_TCP_SYN_RECV:
        return "SYN_RECV";
    case CT_TCP_ESTABLISHED:
        return "ESTABLISHED";
    case CT_TCP_FIN_WAIT:
        return "FIN_WAIT";
    case CT_TCP_CLOSE_WAIT:
        return "CLOSE_WAIT";
    case CT_TCP_LAST_ACK:
        return "LAST_ACK";
    case CT_TCP_TIME_WAIT:
        return "TIME_WAIT";
    case CT_TCP_CLOSE:
        return "CLOSE";
    case CT_TCP_SYN_SENT2:
        return "SYN_SENT2";
    }
    return "UNKNOWN";
}

/* conntrack's name of a protocol. */
static const char *
ct_proto_name(guint8 proto)
{
    switch ((SimProto)proto) {
    case SIM_PROTO_TCP:
        return "tcp";
    case SIM_PROTO_UDP:
        return "udp";
    case SIM_PROTO_SCTP:
        return "sctp";
    case SIM_PROTO_ICMP:
        return "icmp";
    case SIM_PROTO_ICMPV6:
        return "icmpv6";
    }
    return "unknown";
}

/* Appends "src=A dst=B sport=P dport=Q" for a tuple. */
static void
format_tuple(const CtTuple *tu, GString *out)
{
    char a[SIM_ADDR_STRLEN], b[SIM_ADDR_STRLEN];
    g_string_append_printf(out, "src=%s dst=%s", sim_addr_to_string(&tu->src, a),
                           sim_addr_to_string(&tu->dst, b));
    if (proto_has_ports(tu->proto))
        g_string_append_printf(out, " sport=%u dport=%u", tu->sport, tu->dport);
}

void
ct_entry_format(const CtEntry *e, SimTime now, GString *out)
{
    g_return_if_fail(e != NULL && out != NULL);
    guint8 proto = e->tuple[CT_DIR_ORIGINAL].proto;
    SimTime left = e->expires > now ? (e->expires - now) / SIM_SEC : 0;
    g_string_append_printf(out, "%-8s %u %" G_GINT64_FORMAT " ", ct_proto_name(proto), proto, left);
    if (proto == SIM_PROTO_TCP)
        g_string_append_printf(out, "%s ", ct_tcp_state_name((CtTcpState)e->state));
    format_tuple(&e->tuple[CT_DIR_ORIGINAL], out);
    if (!(e->status & IPS_SEEN_REPLY))
        g_string_append(out, " [UNREPLIED]");
    g_string_append_c(out, ' ');
    format_tuple(&e->tuple[CT_DIR_REPLY], out);
    if (e->status & IPS_ASSURED)
        g_string_append(out, " [ASSURED]");
    g_string_append(out, " mark=0 use=1");
}
