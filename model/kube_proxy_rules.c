/* SPDX-License-Identifier: Apache-2.0 */
/* The rule-building helpers and the rules the iptables and IPVS renderers share
 * (model/kube_proxy_private.h).
 */
#include "model/kube_proxy_private.h"

#include <stdarg.h>

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
