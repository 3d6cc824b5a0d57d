/* SPDX-License-Identifier: Apache-2.0 */
/* Printing IPVS as its tools do: `ipvsadm -Ln`, `ip addr show kube-ipvs0`, and the words a
 * trace uses for an IPVS step.
 *
 * Models ipvsadm 1.31's list_all() / print_service_entry() / print_dest_entry() output in the
 * numeric (-n) form, with its sorting (libipvs ipvs_sort_services / ipvs_sort_dests) done in
 * the intended unsigned order, and iproute2's `ip addr show` for a dummy interface. Left out:
 * --stats, --rate, --exact, fwmark services and the connection listing (-Lc).
 */
#include "sim/ipvs_private.h"

#include <string.h>

/* Appends "A:P" or "[A]:P" as ipvsadm -n prints an address and port. */
static void
append_sockaddr(GString *out, const SimSockAddr *s)
{
    char buf[SIM_SOCKADDR_STRLEN];
    g_string_append(out, sim_sockaddr_to_string(s, buf));
}

/* Compares two addresses as unsigned numbers (IPv4 before IPv6). */
static int
addr_cmp(const SimAddr *a, const SimAddr *b)
{
    return sim_addr_compare(a, b);
}

/* Orders services as ipvsadm does: protocol number, address, port. */
static gint
service_cmp(gconstpointer x, gconstpointer y)
{
    const IpvsService *a = *(const IpvsService *const *)x;
    const IpvsService *b = *(const IpvsService *const *)y;
    if (a->spec.proto != b->spec.proto)
        return a->spec.proto < b->spec.proto ? -1 : 1;
    int c = addr_cmp(&a->spec.vip.addr, &b->spec.vip.addr);
    if (c != 0)
        return c;
    return (int)a->spec.vip.port - (int)b->spec.vip.port;
}

/* Orders destinations as ipvsadm does: address, port. */
static gint
dest_cmp(gconstpointer x, gconstpointer y)
{
    const SimSockAddr *a = x, *b = y;
    int c = addr_cmp(&a->addr, &b->addr);
    return c != 0 ? c : (int)a->port - (int)b->port;
}

/* One real server line's data. */
typedef struct {
    SimSockAddr addr; /* first, for dest_cmp */
    guint32 weight, active, inactive;
} DestLine;

/* Appends the service line: "TCP  A:P rr[ persistent T[ mask M]][ flags]". */
static void
print_service_line(const IpvsService *svc, GString *out)
{
    const IpvsServiceSpec *sp = &svc->spec;
    g_string_append_printf(out, "%s  ", sim_proto_k8s_name((SimProto)sp->proto));
    append_sockaddr(out, &sp->vip);
    g_string_append_printf(out, " %s", ipvs_sched_name(sp->sched));
    if (sp->flags & IPVS_SVC_PERSISTENT) {
        g_string_append_printf(out, " persistent %u", sp->timeout);
        guint full = sp->vip.addr.family == SIM_AF_INET ? 32 : 128;
        if (sp->netmask_len != full && sp->vip.addr.family == SIM_AF_INET) {
            guint32 m = sp->netmask_len == 0 ? 0 : G_MAXUINT32 << (32 - sp->netmask_len);
            g_string_append_printf(out, " mask %u.%u.%u.%u", m >> 24, (m >> 16) & 0xff,
                                   (m >> 8) & 0xff, m & 0xff);
        } else if (sp->netmask_len != full) {
            g_string_append_printf(out, " mask %u", sp->netmask_len);
        }
    }
    if (sp->sched == IPVS_SCHED_SH && (sp->flags & (IPVS_SVC_SH_FALLBACK | IPVS_SVC_SH_PORT))) {
        gboolean both = (sp->flags & IPVS_SVC_SH_FALLBACK) && (sp->flags & IPVS_SVC_SH_PORT);
        g_string_append_printf(out, " %s%s%s",
                               sp->flags & IPVS_SVC_SH_FALLBACK ? "sh-fallback" : "",
                               both ? "," : "", sp->flags & IPVS_SVC_SH_PORT ? "sh-port" : "");
    }
    g_string_append_c(out, '\n');
}

/* Collects the real servers of svc to print: the table's, with the host's weights and counts
 * when state knows them, plus the destinations the state keeps for graceful removal. */
static GArray *
collect_dests(const IpvsService *svc, const IpvsState *state)
{
    GArray *lines = g_array_new(FALSE, TRUE, sizeof(DestLine));
    for (guint i = 0; i < svc->dests->len; i++) {
        const IpvsDestCfg *d = &g_array_index(svc->dests, IpvsDestCfg, i);
        DestLine l = {.addr = d->addr, .weight = d->weight};
        const IpvsDestState *ds =
            state != NULL ? ipvs_state_find_dest(state, &svc->key, &d->addr) : NULL;
        if (ds != NULL) {
            l.weight = ds->weight;
            l.active = ds->active;
            l.inactive = ds->inactive;
        }
        g_array_append_val(lines, l);
    }
    const IpvsSvcState *ss = state != NULL ? ipvs_state_find_service(state, &svc->key) : NULL;
    for (guint i = 0; ss != NULL && i < ss->dests->len; i++) {
        const IpvsDestState *ds = g_ptr_array_index(ss->dests, i);
        if (!ds->drain || g_hash_table_contains(svc->by_addr, &ds->addr))
            continue;
        DestLine l = {.addr = ds->addr, .active = ds->active, .inactive = ds->inactive};
        g_array_append_val(lines, l);
    }
    g_array_sort(lines, dest_cmp);
    return lines;
}

void
ipvs_table_list(const IpvsTable *t, const IpvsState *state, GString *out)
{
    g_return_if_fail(t != NULL && out != NULL);
    g_string_append(out, "IP Virtual Server version 1.2.1 (size=4096)\n"
                         "Prot LocalAddress:Port Scheduler Flags\n"
                         "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    g_autofree gpointer *svcs = g_new(gpointer, t->services->len + 1);
    for (guint i = 0; i < t->services->len; i++)
        svcs[i] = g_ptr_array_index(t->services, i);
    qsort(svcs, t->services->len, sizeof *svcs, service_cmp);
    for (guint i = 0; i < t->services->len; i++) {
        const IpvsService *svc = svcs[i];
        print_service_line(svc, out);
        g_autoptr(GArray) lines = collect_dests(svc, state);
        for (guint j = 0; j < lines->len; j++) {
            const DestLine *l = &g_array_index(lines, DestLine, j);
            char buf[SIM_SOCKADDR_STRLEN];
            g_string_append_printf(out, "  -> %-28s %-7s %-6u %-10u %-10u\n",
                                   sim_sockaddr_to_string(&l->addr, buf), "Masq", l->weight,
                                   l->active, l->inactive);
        }
    }
}

void
ipvs_table_list_addrs(const IpvsTable *t, const char *ifname, guint ifindex, GString *out)
{
    g_return_if_fail(t != NULL && ifname != NULL && out != NULL);
    guint h = g_str_hash(ifname);
    g_string_append_printf(out,
                           "%u: %s: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group "
                           "default qlen 1000\n"
                           "    link/ether %02x:%02x:%02x:%02x:%02x:%02x brd ff:ff:ff:ff:ff:ff\n",
                           ifindex, ifname, ((h >> 24) & 0xfe) | 0x02, (h >> 16) & 0xff,
                           (h >> 8) & 0xff, h & 0xff, (h >> 4) & 0xff, (h >> 12) & 0xff);
    for (guint i = 0; i < t->local->len; i++) {
        const SimAddr *a = &g_array_index(t->local, SimAddr, i);
        char buf[SIM_ADDR_STRLEN];
        gboolean v4 = a->family == SIM_AF_INET;
        g_string_append_printf(out,
                               "    %s %s/%u scope global %s\n"
                               "       valid_lft forever preferred_lft forever\n",
                               v4 ? "inet" : "inet6", sim_addr_to_string(a, buf), v4 ? 32 : 128,
                               v4 ? ifname : "");
    }
}

/* How sched really chooses among the branches a trace shows. */
static const char *
sched_note(IpvsSched s)
{
    switch (s) {
    case IPVS_SCHED_RR:
        return "each new connection takes the next real server";
    case IPVS_SCHED_WRR:
        return "new connections follow the weighted round-robin sequence";
    case IPVS_SCHED_LC:
        return "each new connection takes the real server with the fewest connections";
    case IPVS_SCHED_WLC:
        return "each new connection takes the least connections per weight";
    case IPVS_SCHED_SED:
        return "each new connection takes the shortest expected delay";
    case IPVS_SCHED_NQ:
        return "an idle real server first, else the shortest expected delay";
    case IPVS_SCHED_LBLC:
    case IPVS_SCHED_LBLCR:
        return "the destination address stays on one real server until it is overloaded";
    case IPVS_SCHED_SH:
        return "the client address hashes to this real server";
    case IPVS_SCHED_DH:
        return "the destination address hashes to this real server";
    }
    return "";
}

void
ipvs_step_describe(const NfStep *st, GString *out)
{
    g_return_if_fail(st != NULL && out != NULL);
    const IpvsService *svc = st->ipvs_service;
    if (svc == NULL)
        return;
    g_string_append_printf(out, "IPVS %s ", sim_proto_k8s_name((SimProto)svc->spec.proto));
    append_sockaddr(out, &svc->spec.vip);
    g_string_append_printf(out, " %s", ipvs_sched_name(svc->spec.sched));
    if (st->ipvs_dest < 0 || (guint)st->ipvs_dest >= svc->dests->len) {
        g_string_append(out, ": no real server: ICMP port unreachable (ip_vs_leave)");
        return;
    }
    SimSockAddr to;
    ipvs_service_dest(svc, (guint)st->ipvs_dest, &to, NULL);
    g_string_append(out, " -> ");
    append_sockaddr(out, &to);
    g_string_append_printf(out, " Masq (%u of %u)", st->ipvs_branch, st->ipvs_branches);
    g_string_append_printf(out, "; %s", sched_note(svc->spec.sched));
    if (svc->spec.flags & IPVS_SVC_PERSISTENT)
        g_string_append_printf(out, "; persistent %u s per client", svc->spec.timeout);
}
