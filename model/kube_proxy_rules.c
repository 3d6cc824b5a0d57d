/* SPDX-License-Identifier: Apache-2.0 */
/* The rule-building helpers and the rules the iptables and IPVS renderers share
 * (model/kube_proxy_private.h).
 */
#include "model/kube_proxy_private.h"

#include "sim/sim_packet.h"

#include <stdarg.h>
#include <string.h>

/* See kube_proxy_private.h. */
void
kp_args_add(KpArgs *a, ...)
{
    va_list ap;
    va_start(ap, a);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *)) {
        g_assert(a->n < KP_MAX_ARGS);
        a->v[a->n++] = s;
    }
    va_end(ap);
}

/* See kube_proxy_private.h. */
char *
kp_detector_args(const KpLocalDetector *d, const char **opt)
{
    char cidr[SIM_CIDR_STRLEN];
    switch (d->mode) {
    case KP_DETECT_CLUSTER_CIDR:
    case KP_DETECT_NODE_CIDR:
        *opt = "-s";
        return g_strdup(sim_cidr_to_string(&d->cidr, cidr));
    case KP_DETECT_BRIDGE_INTERFACE:
        *opt = "-i";
        return g_strdup(d->iface);
    case KP_DETECT_INTERFACE_NAME_PREFIX:
        *opt = "-i";
        return g_strconcat(d->iface, "+", NULL);
    }
    g_return_val_if_reached(NULL);
}

/* See kube_proxy_private.h. */
void
kp_append(NfRuleset *rs, NfTableId table, const char *chain, const KpArgs *a)
{
    g_autoptr(GError) err = NULL;
    if (!nf_ruleset_append_argv(rs, table, chain, a->v, a->n, &err))
        g_critical("kube-proxy rule for %s %s rejected: %s", nf_table_name(table), chain,
                   err->message);
}

/* See kube_proxy_private.h. */
void
kp_commit(NfRuleBuilder *b)
{
    g_autoptr(GError) err = NULL;
    if (!nf_rule_builder_commit(b, &err))
        g_critical("kube-proxy rule rejected: %s", err->message);
}

/* See kube_proxy_private.h. */
SimProto
kp_proto(const char *protocol)
{
    SimProto proto = SIM_PROTO_TCP;
    if (!sim_proto_parse(protocol, &proto))
        g_critical("kube-proxy: unknown protocol \"%s\"", protocol);
    return proto;
}

/* See kube_proxy_private.h. */
double
kp_probability(GArray **cache, guint n)
{
    g_return_val_if_fail(n > 0, 1.0);
    if (*cache == NULL)
        *cache = g_array_new(FALSE, TRUE, sizeof(double));
    if ((*cache)->len <= n)
        g_array_set_size(*cache, n + 1);
    double *p = &g_array_index(*cache, double, n);
    if (*p == 0.0) { /* 1/n is never 0: not computed yet */
        char text[32];
        g_snprintf(text, sizeof text, "%0.10f", 1.0 / (double)n);
        *p = g_ascii_strtod(text, NULL);
    }
    return *p;
}

/* See kube_proxy_private.h. */
void
kp_chain_name(char *buf, gsize size, const char *prefix, const char *hash)
{
    gsize np = strlen(prefix), nh = strlen(hash);
    if (np + nh < size) { /* always, for chain names: two copies */
        memcpy(buf, prefix, np);
        memcpy(buf + np, hash, nh + 1);
        return;
    }
    gsize n = g_strlcpy(buf, prefix, size);
    if (n < size)
        g_strlcpy(buf + n, hash, size - n);
}

/* See kube_proxy_private.h. */
void
kp_new_chain(NfRuleset *rs, NfTableId table, const char *chain)
{
    g_autoptr(GError) err = NULL;
    if (!nf_ruleset_new_chain(rs, table, chain, &err))
        g_critical("kube-proxy chain %s %s: %s", nf_table_name(table), chain, err->message);
}

/* See kube_proxy_private.h. */
void
kp_kubelet_firewall(NfRuleset *rs)
{
    KpArgs a = {0};
    kp_new_chain(rs, NF_TABLE_FILTER, "KUBE-FIREWALL");
    kp_args_add(&a, "-m", "comment", "--comment", "block incoming localnet connections", "-d",
                "127.0.0.0/8", "!", "-s", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate",
                "RELATED,ESTABLISHED,DNAT", "-j", "DROP", NULL);
    kp_append(rs, NF_TABLE_FILTER, "KUBE-FIREWALL", &a);
}

/* See kube_proxy_private.h. */
void
kp_masquerade_rules(NfRuleset *rs, const char *mark, const char *mark_mask)
{
    KpArgs a = {0};
    kp_args_add(&a, "-m", "mark", "!", "--mark", mark_mask, "-j", "RETURN", NULL);
    kp_append(rs, NF_TABLE_NAT, "KUBE-POSTROUTING", &a);
    a.n = 0;
    kp_args_add(&a, "-j", "MARK", "--xor-mark", mark, NULL);
    kp_append(rs, NF_TABLE_NAT, "KUBE-POSTROUTING", &a);
    a.n = 0;
    kp_args_add(&a, "-m", "comment", "--comment", "kubernetes service traffic requiring SNAT", "-j",
                "MASQUERADE", "--random-fully", NULL);
    kp_append(rs, NF_TABLE_NAT, "KUBE-POSTROUTING", &a);
    a.n = 0;
    kp_args_add(&a, "-j", "MARK", "--or-mark", mark, NULL);
    kp_append(rs, NF_TABLE_NAT, "KUBE-MARK-MASQ", &a);
}
