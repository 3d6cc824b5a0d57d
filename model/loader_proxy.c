/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding KubeProxyConfiguration, as a document or as a Scenario's spec.proxy mapping.
 *
 * Accepts every field of kubeproxy.config.k8s.io/v1alpha1 and decodes what shapes the
 * datapath: the mode and its section (iptables, ipvs, nftables), clusterCIDR and detectLocal,
 * nodePortAddresses, the sync periods and the conntrack settings, validated and worded as
 * kube-proxy's own validation does.
 */
#include "model/loader_private.h"
#include "model/kube_proxy.h"

#include <string.h>

/* ---------------------------------------------------------------- KubeProxyConfiguration */

/* The settings one mode section (iptables, ipvs, nftables) may give. */
typedef struct {
    gboolean masquerade_all, localhost_node_ports;
    gint64 masquerade_bit;
    SimTime min_sync, sync;
    char *scheduler;
    gboolean strict_arp;
    SimTime timeouts[3]; /* ipvs tcpTimeout, tcpFinTimeout, udpTimeout */
    gboolean has_masquerade_all, has_localhost_node_ports, has_masquerade_bit, has_min_sync,
        has_sync, has_strict_arp, has_timeouts[3];
} LdProxySection;

/* The ipvs section's timeout fields, in LdProxySection.timeouts order. */
static const char *const ld_proxy_ipvs_timeouts[] = {"tcpTimeout", "tcpFinTimeout", "udpTimeout"};

/* Decodes a mode section into sec; which fields exist depends on the section. */
static gboolean
ld_proxy_section(const LdObject *o, const YtNode *n, const char *path, const char *const *fields,
                 LdProxySection *sec, GError **error)
{
    g_autofree char *bp = ld_path(path, "masqueradeBit"), *mp = ld_path(path, "minSyncPeriod");
    g_autofree char *sp = ld_path(path, "syncPeriod"), *ep = ld_path(path, "excludeCIDRs");
    g_autoptr(GPtrArray) exclude = NULL;
    const YtNode *bit = yt_map_get(n, "masqueradeBit");
    memset(sec, 0, sizeof *sec);
    if (!ld_expect_map(n, path, error) || !ld_check_fields(n, fields, o->kind, path, error) ||
        !ld_get_bool(n, "masqueradeAll", path, &sec->masquerade_all, error) ||
        !ld_get_bool(n, "localhostNodePorts", path, &sec->localhost_node_ports, error) ||
        !ld_get_bool(n, "strictARP", path, &sec->strict_arp, error) ||
        !ld_int(bit, bp, &sec->masquerade_bit, error) ||
        !ld_duration(yt_map_get(n, "minSyncPeriod"), mp, &sec->min_sync, error) ||
        !ld_duration(yt_map_get(n, "syncPeriod"), sp, &sec->sync, error) ||
        !ld_get_string(n, "scheduler", path, &sec->scheduler, error) ||
        !ld_string_list(yt_map_get(n, "excludeCIDRs"), ep, FALSE, &exclude, error))
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(ld_proxy_ipvs_timeouts); i++) {
        g_autofree char *tp = ld_path(path, ld_proxy_ipvs_timeouts[i]);
        const YtNode *t = yt_map_get(n, ld_proxy_ipvs_timeouts[i]);
        if (!ld_duration(t, tp, &sec->timeouts[i], error))
            return FALSE;
        sec->has_timeouts[i] = !yt_is_null(t);
    }
    if (!yt_is_null(bit) && (sec->masquerade_bit < 0 || sec->masquerade_bit > 31))
        return ld_invalid(o, error, bit,
                          "%s: Invalid value: %" G_GINT64_FORMAT
                          ": must be within the range [0, 31]",
                          bp, sec->masquerade_bit);
    for (guint i = 0; exclude != NULL && i < exclude->len; i++) {
        g_autofree char *p = ld_path_index(ep, i);
        SimCidr c;
        if (!ld_cidr(o, yt_map_get(n, "excludeCIDRs")->items->pdata[i], p, FALSE, &c, error))
            return FALSE;
    }
    sec->has_masquerade_all = !yt_is_null(yt_map_get(n, "masqueradeAll"));
    sec->has_localhost_node_ports = !yt_is_null(yt_map_get(n, "localhostNodePorts"));
    sec->has_masquerade_bit = !yt_is_null(bit);
    sec->has_min_sync = !yt_is_null(yt_map_get(n, "minSyncPeriod"));
    sec->has_sync = !yt_is_null(yt_map_get(n, "syncPeriod"));
    sec->has_strict_arp = !yt_is_null(yt_map_get(n, "strictARP"));
    return TRUE;
}

/* Applies a decoded section to the configuration. */
static void
ld_proxy_apply_section(KubeProxyConfig *c, LdProxySection *sec, gboolean masquerade, gboolean sync)
{
    if (masquerade && sec->has_masquerade_all)
        c->masquerade_all = sec->masquerade_all;
    if (masquerade && sec->has_masquerade_bit)
        c->masquerade_bit = (guint)sec->masquerade_bit;
    if (masquerade && sec->has_localhost_node_ports)
        c->localhost_node_ports = sec->localhost_node_ports;
    if (sync && sec->has_min_sync)
        c->min_sync_period = sec->min_sync;
    if (sync && sec->has_sync)
        c->sync_period = sec->sync;
    if (sync && sec->scheduler != NULL && sec->scheduler[0] != '\0') {
        g_free(c->ipvs_scheduler);
        c->ipvs_scheduler = g_steal_pointer(&sec->scheduler);
    }
    g_clear_pointer(&sec->scheduler, g_free);
}

/* Applies the ipvs section's own settings (scheduler, strictARP and the IPVS timeouts) whatever
 * the mode: only the IPVS proxier reads them, and `kpsim compare` or `--set proxy.mode=ipvs`
 * may switch a scenario to it (its renderer validates the scheduler again). */
static void
ld_proxy_apply_ipvs(KubeProxyConfig *c, LdProxySection *sec)
{
    SimTime *dst[] = {&c->ipvs_tcp_timeout, &c->ipvs_tcp_fin_timeout, &c->ipvs_udp_timeout};
    if (sec->scheduler != NULL && sec->scheduler[0] != '\0') {
        g_free(c->ipvs_scheduler);
        c->ipvs_scheduler = g_steal_pointer(&sec->scheduler);
    }
    if (sec->has_strict_arp)
        c->ipvs_strict_arp = sec->strict_arp;
    for (gsize i = 0; i < G_N_ELEMENTS(dst); i++)
        if (sec->has_timeouts[i])
            *dst[i] = sec->timeouts[i];
}

/* validateIPVSSchedulerMethod(): in ipvs mode the scheduler must be one kube-proxy supports
 * ("" = rr). kube-proxy words it "KubeProxyConfiguration.KubeProxyIPVSConfiguration.Scheduler:
 * Invalid value: ..."; kpsim names the field by its path in the file, as for every error. */
static gboolean
ld_proxy_ipvs_scheduler(const LdObject *o, const YtNode *ipvs, const char *path,
                        const LdProxySection *sec, GError **error)
{
    if (sec->scheduler == NULL || kube_proxy_ipvs_scheduler_valid(sec->scheduler))
        return TRUE;
    g_autofree char *sp = ld_path(path, "scheduler");
    return ld_invalid(o, error, yt_map_get(ipvs, "scheduler"),
                      "%s: Invalid value: \"%s\": must be in %s, scheduler is not supported", sp,
                      sec->scheduler, KUBE_PROXY_IPVS_SCHEDULERS);
}

/* Decodes the iptables, ipvs and nftables sections; each applies when its mode is the one in
 * effect (ipvs mode also takes iptables' masquerade settings, as kube-proxy does). */
static gboolean
ld_proxy_sections(const LdObject *o, const YtNode *map, const char *path, KubeProxyConfig *c,
                  GError **error)
{
    static const char *const ipt[] = {"masqueradeAll", "masqueradeBit", "localhostNodePorts",
                                      "minSyncPeriod", "syncPeriod",    NULL};
    static const char *const ipvs[] = {"scheduler",  "syncPeriod",   "minSyncPeriod",
                                       "strictARP",  "tcpTimeout",   "tcpFinTimeout",
                                       "udpTimeout", "excludeCIDRs", NULL};
    static const char *const nft[] = {"masqueradeAll", "masqueradeBit", "minSyncPeriod",
                                      "syncPeriod", NULL};
    const char *names[] = {"iptables", "ipvs", "nftables"};
    const char *const *fields[] = {ipt, ipvs, nft};
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = ld_path(path, names[i]);
        LdProxySection sec;
        if (!ld_proxy_section(o, yt_map_get(map, names[i]), p, fields[i], &sec, error)) {
            g_free(sec.scheduler);
            return FALSE;
        }
        gboolean masq =
            (i == 0 && c->mode != KP_MODE_NFTABLES) || (i == 2 && c->mode == KP_MODE_NFTABLES);
        gboolean sync = (i == 0 && c->mode == KP_MODE_IPTABLES) ||
                        (i == 1 && c->mode == KP_MODE_IPVS) ||
                        (i == 2 && c->mode == KP_MODE_NFTABLES);
        if (i == 1 && c->mode == KP_MODE_IPVS &&
            !ld_proxy_ipvs_scheduler(o, yt_map_get(map, names[i]), p, &sec, error)) {
            g_free(sec.scheduler);
            return FALSE;
        }
        if (i == 1)
            ld_proxy_apply_ipvs(c, &sec);
        ld_proxy_apply_section(c, &sec, masq, sync);
    }
    return TRUE;
}

/* Decodes mode and detectLocalMode ("" means the default: iptables, ClusterCIDR). */
static gboolean
ld_proxy_modes(const LdObject *o, const YtNode *map, const char *path, KubeProxyConfig *c,
               GError **error)
{
    static const char *const modes[] = {"iptables", "ipvs", "nftables", NULL};
    static const KpMode mode_values[] = {KP_MODE_IPTABLES, KP_MODE_IPVS, KP_MODE_NFTABLES};
    static const char *const detect[] = {"BridgeInterface", "ClusterCIDR", "InterfaceNamePrefix",
                                         "NodeCIDR", NULL};
    static const KpDetectLocalMode detect_values[] = {
        KP_DETECT_BRIDGE_INTERFACE, KP_DETECT_CLUSTER_CIDR, KP_DETECT_INTERFACE_NAME_PREFIX,
        KP_DETECT_NODE_CIDR};
    g_autofree char *mp = ld_path(path, "mode"), *dp = ld_path(path, "detectLocalMode");
    const YtNode *mode = yt_map_get(map, "mode"), *dl = yt_map_get(map, "detectLocalMode");
    guint m = G_MAXUINT, d = G_MAXUINT;
    if (mode != NULL && mode->type == YT_SCALAR && mode->text[0] == '\0')
        m = 0;
    else if (!ld_enum(o, mode, mp, modes, &m, error))
        return FALSE;
    if (dl != NULL && dl->type == YT_SCALAR && dl->text[0] == '\0')
        d = 1;
    else if (!ld_enum(o, dl, dp, detect, &d, error))
        return FALSE;
    if (m != G_MAXUINT)
        c->mode = mode_values[m];
    if (d != G_MAXUINT)
        c->detect_local_mode = detect_values[d];
    return TRUE;
}

/* Decodes clusterCIDR: comma-separated CIDRs; explicitly "" means no ClusterCIDR detector. */
static gboolean
ld_proxy_cluster_cidr(Loader *ld, const LdObject *o, const YtNode *n, const char *path,
                      GError **error)
{
    g_autofree char *text = NULL;
    if (yt_is_null(n))
        return TRUE;
    if (!ld_string(n, path, &text, error))
        return FALSE;
    KubeProxyConfig *c = &ld->sc->proxy;
    g_array_set_size(c->cluster_cidrs, 0);
    c->cluster_cidr_set = TRUE;
    ld->sc->proxy_cluster_cidr_from_cluster = FALSE;
    if (text == NULL || text[0] == '\0')
        return TRUE;
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    for (guint i = 0; parts[i] != NULL; i++) {
        SimCidr cidr;
        char *t = g_strstrip(parts[i]);
        if (strchr(t, '/') == NULL || !sim_cidr_parse(t, &cidr))
            return ld_invalid(o, error, n,
                              "%s: Invalid value: \"%s\": must be a valid CIDR value, (e.g. "
                              "10.9.8.0/24 or 2001:db8::/64)",
                              path, t);
        g_array_append_val(c->cluster_cidrs, cidr);
    }
    return TRUE;
}

/* Decodes nodePortAddresses: CIDRs or "primary"; replaces the list. */
static gboolean
ld_proxy_node_port_addresses(const LdObject *o, const YtNode *n, const char *path,
                             KubeProxyConfig *c, GError **error)
{
    g_autoptr(GPtrArray) list = NULL;
    if (!ld_string_list(n, path, FALSE, &list, error))
        return FALSE;
    if (list == NULL)
        return TRUE;
    for (guint i = 0; i < list->len; i++) {
        SimCidr cidr;
        const char *t = list->pdata[i];
        if (strcmp(t, "primary") == 0 || (strchr(t, '/') != NULL && sim_cidr_parse(t, &cidr)))
            continue;
        g_autofree char *p = ld_path_index(path, i);
        return ld_invalid(o, error, n->items->pdata[i],
                          "%s: Invalid value: \"%s\": must be a valid CIDR or \"primary\"", p, t);
    }
    g_ptr_array_unref(c->node_port_addresses);
    c->node_port_addresses = g_steal_pointer(&list);
    return TRUE;
}

/* Decodes a non-negative integer field of conntrack into *out. */
static gboolean
ld_proxy_count(const LdObject *o, const YtNode *map, const char *key, const char *path, guint *out,
               GError **error)
{
    g_autofree char *p = ld_path(path, key);
    const YtNode *n = yt_map_get(map, key);
    gint64 v = *out;
    if (!ld_int(n, p, &v, error))
        return FALSE;
    if (v < 0 || v > G_MAXINT32)
        return ld_invalid(
            o, error, n,
            "%s: Invalid value: %" G_GINT64_FORMAT ": must be greater than or equal to 0", p, v);
    *out = (guint)v;
    return TRUE;
}

/* Decodes conntrack {maxPerCore, min, tcpEstablishedTimeout, tcpCloseWaitTimeout, tcpBeLiberal,
 * udpTimeout, udpStreamTimeout}. */
static gboolean
ld_proxy_conntrack(const LdObject *o, const YtNode *n, const char *path, KubeProxyConfig *c,
                   GError **error)
{
    static const char *const fields[] = {
        "maxPerCore",   "min",        "tcpEstablishedTimeout", "tcpCloseWaitTimeout",
        "tcpBeLiberal", "udpTimeout", "udpStreamTimeout",      NULL};
    g_autofree char *ep = ld_path(path, "tcpEstablishedTimeout");
    g_autofree char *wp = ld_path(path, "tcpCloseWaitTimeout");
    g_autofree char *up = ld_path(path, "udpTimeout"), *sp = ld_path(path, "udpStreamTimeout");
    SimTime ignored;
    return ld_expect_map(n, path, error) && ld_check_fields(n, fields, o->kind, path, error) &&
           ld_proxy_count(o, n, "maxPerCore", path, &c->conntrack_max_per_core, error) &&
           ld_proxy_count(o, n, "min", path, &c->conntrack_min, error) &&
           ld_duration(yt_map_get(n, "tcpEstablishedTimeout"), ep, &c->tcp_established_timeout,
                       error) &&
           ld_duration(yt_map_get(n, "tcpCloseWaitTimeout"), wp, &c->tcp_close_wait_timeout,
                       error) &&
           ld_get_bool(n, "tcpBeLiberal", path, &c->tcp_be_liberal, error) &&
           ld_duration(yt_map_get(n, "udpTimeout"), up, &ignored, error) &&
           ld_duration(yt_map_get(n, "udpStreamTimeout"), sp, &ignored, error);
}

static const char *const ld_proxy_fields[] = {"apiVersion",
                                              "kind",
                                              "mode",
                                              "clusterCIDR",
                                              "detectLocalMode",
                                              "detectLocal",
                                              "iptables",
                                              "ipvs",
                                              "nftables",
                                              "nodePortAddresses",
                                              "conntrack",
                                              "bindAddress",
                                              "healthzBindAddress",
                                              "metricsBindAddress",
                                              "hostnameOverride",
                                              "featureGates",
                                              "clientConnection",
                                              "configSyncPeriod",
                                              "oomScoreAdj",
                                              "portRange",
                                              "showHiddenMetricsForVersion",
                                              "logging",
                                              "enableProfiling",
                                              "bindAddressHardFail",
                                              "winkernel",
                                              "syncPeriod",
                                              "minSyncPeriod",
                                              NULL};

/* See loader_private.h. */
gboolean
ld_proxy_config(Loader *ld, const YtNode *map, const char *path, gboolean is_doc, GError **error)
{
    static const char *const detect_fields[] = {"bridgeInterface", "interfaceNamePrefix", NULL};
    KubeProxyConfig *c = &ld->sc->proxy;
    const char *what = is_doc ? "KubeProxyConfiguration" : "Scenario";
    LdObject o = {ld, what, NULL}; /* kube-proxy's errors carry no object-name prefix */
    g_autofree char *dp = ld_path(path, "detectLocal"), *cp = ld_path(path, "clusterCIDR");
    g_autofree char *np = ld_path(path, "nodePortAddresses"), *tp = ld_path(path, "conntrack");
    g_autofree char *sp = ld_path(path, "syncPeriod"), *mp = ld_path(path, "minSyncPeriod");
    const YtNode *detect = yt_map_get(map, "detectLocal");
    if (!ld_check_fields(map, is_doc ? ld_proxy_fields : ld_proxy_fields + 2, what, path, error) ||
        !ld_proxy_modes(&o, map, path, c, error) ||
        !ld_proxy_cluster_cidr(ld, &o, yt_map_get(map, "clusterCIDR"), cp, error) ||
        !ld_expect_map(detect, dp, error) ||
        !ld_check_fields(detect, detect_fields, what, dp, error) ||
        !ld_get_string(detect, "bridgeInterface", dp, &c->bridge_interface, error) ||
        !ld_get_string(detect, "interfaceNamePrefix", dp, &c->interface_name_prefix, error) ||
        !ld_duration(yt_map_get(map, "syncPeriod"), sp, &c->sync_period, error) ||
        !ld_duration(yt_map_get(map, "minSyncPeriod"), mp, &c->min_sync_period, error) ||
        !ld_proxy_sections(&o, map, path, c, error) ||
        !ld_proxy_node_port_addresses(&o, yt_map_get(map, "nodePortAddresses"), np, c, error) ||
        !ld_proxy_conntrack(&o, yt_map_get(map, "conntrack"), tp, c, error))
        return FALSE;
    c->pos = ld_pos(map);
    return TRUE;
}
