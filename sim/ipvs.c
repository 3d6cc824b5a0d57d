/* SPDX-License-Identifier: Apache-2.0 */
/* IPVS tables: the configuration one sync wants (services hashed by protocol, address and port,
 * their destinations - a new one at the head of its service's list, as ip_vs_ctl.c adds it - and
 * the dummy interface's addresses), attached to a ruleset. The run-time state a host keeps
 * across syncs is sim/ipvs_state.c.
 */
#include "sim/ipvs_private.h"

#include "sim/netfilter_private.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(ipvs-error-quark, ipvs_error)
/* clang-format on */

/* ------------------------------------------------------------------ keys */

guint
ipvs_key_hash(gconstpointer p)
{
    const IpvsKey *k = p;
    return sim_addr_hash(&k->addr) * 31u + ((guint)k->proto << 16 | k->port);
}

gboolean
ipvs_key_equal(gconstpointer a, gconstpointer b)
{
    const IpvsKey *x = a, *y = b;
    return x->proto == y->proto && x->port == y->port && sim_addr_equal(&x->addr, &y->addr);
}

guint
ipvs_sockaddr_hash(gconstpointer p)
{
    const SimSockAddr *s = p;
    return sim_addr_hash(&s->addr) * 31u + s->port;
}

gboolean
ipvs_sockaddr_equal(gconstpointer a, gconstpointer b)
{
    const SimSockAddr *x = a, *y = b;
    return x->port == y->port && sim_addr_equal(&x->addr, &y->addr);
}

void
ipvs_key_from_spec(const IpvsServiceSpec *spec, IpvsKey *out)
{
    memset(out, 0, sizeof *out);
    out->addr = spec->vip.addr;
    out->port = spec->vip.port;
    out->proto = spec->proto;
}

/* ------------------------------------------------------------------ schedulers' names */

static const char *const sched_names[] = {"rr",    "wrr", "lc", "wlc", "lblc",
                                          "lblcr", "dh",  "sh", "sed", "nq"};

const char *
ipvs_sched_name(IpvsSched s)
{
    return sched_names[s];
}

gboolean
ipvs_sched_parse(const char *name, IpvsSched *out, GError **error)
{
    g_return_val_if_fail(name != NULL && out != NULL, FALSE);
    if (name[0] == '\0') {
        *out = IPVS_SCHED_RR;
        return TRUE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(sched_names); i++) {
        if (strcmp(name, sched_names[i]) == 0) {
            *out = (IpvsSched)i;
            return TRUE;
        }
    }
    if (strcmp(name, "mh") == 0 || strcmp(name, "fo") == 0 || strcmp(name, "ovf") == 0 ||
        strcmp(name, "twos") == 0) {
        g_set_error(error, IPVS_ERROR, IPVS_ERROR_UNSUPPORTED,
                    "IPVS scheduler \"%s\" is not modelled (supported: rr, wrr, lc, wlc, lblc, "
                    "lblcr, dh, sh, sed, nq)",
                    name);
        return FALSE;
    }
    g_set_error(error, IPVS_ERROR, IPVS_ERROR_INVALID, "unknown IPVS scheduler \"%s\"", name);
    return FALSE;
}

/* ------------------------------------------------------------------ tables */

/* Releases a service of a table. */
static void
service_free(gpointer p)
{
    IpvsService *svc = p;
    g_array_unref(svc->dests);
    g_hash_table_unref(svc->by_addr);
    g_free(svc);
}

IpvsTable *
ipvs_table_new(SimFamily family)
{
    g_return_val_if_fail(family == SIM_AF_INET || family == SIM_AF_INET6, NULL);
    IpvsTable *t = g_new0(IpvsTable, 1);
    t->family = family;
    t->services = g_ptr_array_new_with_free_func(service_free);
    t->by_key = g_hash_table_new(ipvs_key_hash, ipvs_key_equal);
    t->local = g_array_new(FALSE, FALSE, sizeof(SimAddr));
    t->local_set = g_hash_table_new_full(sim_addr_hash, sim_addr_equal_func, g_free, NULL);
    return t;
}

void
ipvs_table_free(IpvsTable *t)
{
    if (t == NULL)
        return;
    g_hash_table_unref(t->by_key);
    g_ptr_array_unref(t->services);
    g_array_unref(t->local);
    g_hash_table_unref(t->local_set);
    g_free(t);
}

SimFamily
ipvs_table_family(const IpvsTable *t)
{
    g_return_val_if_fail(t != NULL, SIM_AF_NONE);
    return t->family;
}

/* Whether spec can describe a service of t; sets error when not. */
static gboolean
spec_valid(const IpvsTable *t, const IpvsServiceSpec *spec, GError **error)
{
    const char *why = NULL;
    if (spec->proto != SIM_PROTO_TCP && spec->proto != SIM_PROTO_UDP &&
        spec->proto != SIM_PROTO_SCTP)
        why = "protocol must be TCP, UDP or SCTP";
    else if (spec->vip.addr.family != t->family)
        why = "address family does not match the table's";
    else if (spec->vip.port == 0)
        why = "a virtual service needs a port";
    else if ((guint)spec->sched >= G_N_ELEMENTS(sched_names))
        why = "unknown scheduler";
    else if (spec->netmask_len > (t->family == SIM_AF_INET ? 32 : 128))
        why = "persistence netmask too long";
    if (why != NULL)
        g_set_error(error, IPVS_ERROR, IPVS_ERROR_INVALID, "%s", why);
    return why == NULL;
}

IpvsService *
ipvs_table_add_service(IpvsTable *t, const IpvsServiceSpec *spec, GError **error)
{
    g_return_val_if_fail(t != NULL && spec != NULL, NULL);
    if (!spec_valid(t, spec, error))
        return NULL;
    IpvsKey key;
    ipvs_key_from_spec(spec, &key);
    if (g_hash_table_contains(t->by_key, &key)) {
        g_set_error(error, IPVS_ERROR, IPVS_ERROR_EXISTS, "Service already exists");
        return NULL;
    }
    IpvsService *svc = g_new0(IpvsService, 1);
    svc->spec = *spec;
    svc->spec.flags |= IPVS_SVC_HASHED;
    if (svc->spec.netmask_len == 0)
        svc->spec.netmask_len = t->family == SIM_AF_INET ? 32 : 128;
    svc->key = key;
    svc->dests = g_array_new(FALSE, FALSE, sizeof(IpvsDestCfg));
    svc->by_addr = g_hash_table_new_full(ipvs_sockaddr_hash, ipvs_sockaddr_equal, g_free, NULL);
    svc->table = t;
    g_ptr_array_add(t->services, svc);
    g_hash_table_insert(t->by_key, &svc->key, svc);
    return svc;
}

IpvsService *
ipvs_table_lookup(const IpvsTable *t, guint8 proto, const SimSockAddr *vip)
{
    g_return_val_if_fail(t != NULL && vip != NULL, NULL);
    IpvsKey key;
    memset(&key, 0, sizeof key);
    key.addr = vip->addr;
    key.port = vip->port;
    key.proto = proto;
    return g_hash_table_lookup(t->by_key, &key);
}

guint
ipvs_table_service_count(const IpvsTable *t)
{
    g_return_val_if_fail(t != NULL, 0);
    return t->services->len;
}

const IpvsService *
ipvs_table_service(const IpvsTable *t, guint i)
{
    g_return_val_if_fail(t != NULL && i < t->services->len, NULL);
    return g_ptr_array_index(t->services, i);
}

gboolean
ipvs_service_add_dest(IpvsService *svc, const SimSockAddr *addr, guint32 weight, GError **error)
{
    g_return_val_if_fail(svc != NULL && addr != NULL, FALSE);
    if (addr->addr.family != svc->table->family || weight > G_MAXUINT16) {
        g_set_error(error, IPVS_ERROR, IPVS_ERROR_INVALID,
                    weight > G_MAXUINT16 ? "weight out of range"
                                         : "address family does not match the service's");
        return FALSE;
    }
    if (g_hash_table_contains(svc->by_addr, addr)) {
        g_set_error(error, IPVS_ERROR, IPVS_ERROR_EXISTS, "Destination already exists");
        return FALSE;
    }
    IpvsDestCfg d = {.addr = *addr, .weight = weight};
    g_array_append_val(svc->dests, d);
    g_hash_table_insert(svc->by_addr, g_memdup2(addr, sizeof *addr),
                        GUINT_TO_POINTER(svc->dests->len));
    return TRUE;
}

const IpvsServiceSpec *
ipvs_service_spec(const IpvsService *svc)
{
    g_return_val_if_fail(svc != NULL, NULL);
    return &svc->spec;
}

guint
ipvs_service_dest_count(const IpvsService *svc)
{
    g_return_val_if_fail(svc != NULL, 0);
    return svc->dests->len;
}

void
ipvs_service_dest(const IpvsService *svc, guint i, SimSockAddr *addr, guint32 *weight)
{
    g_return_if_fail(svc != NULL && i < svc->dests->len);
    const IpvsDestCfg *d = &g_array_index(svc->dests, IpvsDestCfg, svc->dests->len - 1 - i);
    if (addr != NULL)
        *addr = d->addr;
    if (weight != NULL)
        *weight = d->weight;
}

void
ipvs_table_add_local_addr(IpvsTable *t, const SimAddr *addr)
{
    g_return_if_fail(t != NULL && addr != NULL);
    if (g_hash_table_contains(t->local_set, addr))
        return;
    g_array_append_val(t->local, *addr);
    g_hash_table_add(t->local_set, g_memdup2(addr, sizeof *addr));
}

gboolean
ipvs_table_is_local(const IpvsTable *t, const SimAddr *addr)
{
    return t != NULL && addr != NULL && g_hash_table_size(t->local_set) > 0 &&
           g_hash_table_contains(t->local_set, addr);
}

void
ipvs_table_set_graceful(IpvsTable *t, gboolean graceful)
{
    g_return_if_fail(t != NULL);
    t->graceful = graceful;
}

void
ipvs_ruleset_attach(NfRuleset *rs, IpvsTable *t)
{
    g_return_if_fail(rs != NULL && t != NULL && rs->ipvs == NULL);
    g_return_if_fail(t->family == rs->family);
    rs->ipvs = t;
    rs->ipvs_free = (GDestroyNotify)ipvs_table_free;
}

const IpvsTable *
ipvs_ruleset_table(const NfRuleset *rs)
{
    return rs != NULL ? rs->ipvs : NULL;
}
