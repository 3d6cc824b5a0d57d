/* SPDX-License-Identifier: Apache-2.0 */
/* Check suite for sim/netfilter (rules from iptables arguments, iptables-save output) and
 * sim/nf_eval (walking the rules, forks, the hook path and the index).
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "sim/ipset.h"
#include "sim/netfilter.h"
#include "sim/netfilter_private.h" /* the chains' index state, for the lazy-index tests */
#include "sim/nf_eval.h"
#include "sim/sim_rng.h"

/* Appends a rule and fails the test with the error message if that fails. */
#define ADD(rs, table, chain, ...)                                                                 \
    do {                                                                                           \
        g_autoptr(GError) add_err_ = NULL;                                                         \
        ck_assert_msg(nf_ruleset_append(rs, table, chain, &add_err_, __VA_ARGS__, NULL), "%s",     \
                      add_err_ != NULL ? add_err_->message : "");                                  \
    } while (0)

/* Creates a user chain and fails the test if that fails. */
static void
new_chain(NfRuleset *rs, NfTableId table, const char *name)
{
    g_autoptr(GError) error = NULL;
    ck_assert_msg(nf_ruleset_new_chain(rs, table, name, &error), "%s",
                  error != NULL ? error->message : "");
}

/* The table as iptables-save prints it. (transfer full) */
static char *
save(const NfRuleset *rs, NfTableId table)
{
    GString *s = g_string_new(NULL);
    nf_ruleset_save(rs, table, s);
    return g_string_free(s, FALSE);
}

/* Appends argv (NULL-terminated) to chain of a fresh ruleset that also has user chains USER and
 * TARGET, and returns the rule as saved, without the newline. (transfer full) */
static char *
saved_rule(SimFamily family, NfTableId table, const char *chain, const char *const *argv)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(family);
    new_chain(rs, table, "USER");
    new_chain(rs, table, "TARGET");
    guint argc = g_strv_length((char **)argv);
    g_autoptr(GError) error = NULL;
    ck_assert_msg(nf_ruleset_append_argv(rs, table, chain, argv, argc, &error), "%s",
                  error != NULL ? error->message : "");
    g_autofree char *text = save(rs, table);
    g_autofree char *prefix = g_strdup_printf("\n-A %s", chain);
    const char *line = strstr(text, prefix);
    ck_assert_ptr_nonnull(line);
    line++;
    return g_strndup(line, strcspn(line, "\n"));
}

#define SAVED4(chain, ...)                                                                         \
    saved_rule(SIM_AF_INET, NF_TABLE_NAT, chain, (const char *const[]){__VA_ARGS__, NULL})
#define SAVED6(chain, ...)                                                                         \
    saved_rule(SIM_AF_INET6, NF_TABLE_NAT, chain, (const char *const[]){__VA_ARGS__, NULL})
#define SAVEDF(chain, ...)                                                                         \
    saved_rule(SIM_AF_INET, NF_TABLE_FILTER, chain, (const char *const[]){__VA_ARGS__, NULL})

/* Asserts that saving the rule built from the arguments gives expected. */
#define ASSERT_SAVED(expected, saved_call)                                                         \
    do {                                                                                           \
        g_autofree char *got_ = saved_call;                                                        \
        ck_assert_str_eq(got_, expected);                                                          \
    } while (0)

/* Asserts that appending the arguments to chain fails with code and a message containing
 * needle, and that nothing was appended. */
static void
expect_error(NfRuleset *rs, NfTableId table, const char *chain, NfError code, const char *needle,
             const char *const *argv)
{
    gint before = nf_ruleset_chain_length(rs, table, chain);
    guint total = nf_ruleset_rule_count(rs, table);
    g_autoptr(GError) error = NULL;
    guint argc = g_strv_length((char **)argv);
    ck_assert(!nf_ruleset_append_argv(rs, table, chain, argv, argc, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_error_matches(error, NF_ERROR, (gint)code), "wrong code %d for: %s",
                  error->code, error->message);
    ck_assert_msg(strstr(error->message, needle) != NULL, "\"%s\" not in \"%s\"", needle,
                  error->message);
    ck_assert_int_eq(nf_ruleset_chain_length(rs, table, chain), before);
    ck_assert_uint_eq(nf_ruleset_rule_count(rs, table), total);
}

#define EXPECT_ERROR(rs, table, chain, code, needle, ...)                                          \
    expect_error(rs, table, chain, code, needle, (const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------ the seed Service */

static const char seed_nat_save[] =
    "*nat\n"
    ":PREROUTING ACCEPT [0:0]\n"
    ":INPUT ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [0:0]\n"
    ":KUBE-EXT-SW7F3NCRFKRM23GY - [0:0]\n"
    ":KUBE-MARK-MASQ - [0:0]\n"
    ":KUBE-NODEPORTS - [0:0]\n"
    ":KUBE-POSTROUTING - [0:0]\n"
    ":KUBE-PROXY-CANARY - [0:0]\n"
    ":KUBE-SEP-LXLUHS7SMGZB2VF5 - [0:0]\n"
    ":KUBE-SEP-SCQ73FPSOLNXZRH2 - [0:0]\n"
    ":KUBE-SERVICES - [0:0]\n"
    ":KUBE-SVC-SW7F3NCRFKRM23GY - [0:0]\n"
    "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
    "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
    "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
    "-A KUBE-EXT-SW7F3NCRFKRM23GY -m comment --comment \"masquerade traffic for "
    "default/nginx-service-nodeport external destinations\" -j KUBE-MARK-MASQ\n"
    "-A KUBE-EXT-SW7F3NCRFKRM23GY -j KUBE-SVC-SW7F3NCRFKRM23GY\n"
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
    "-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp -m comment --comment "
    "\"default/nginx-service-nodeport\" -m tcp --dport 30080 -m nfacct --nfacct-name "
    "localhost_nps_accepted_pkts -j KUBE-EXT-SW7F3NCRFKRM23GY\n"
    "-A KUBE-NODEPORTS -p tcp -m comment --comment \"default/nginx-service-nodeport\" -m tcp "
    "--dport 30080 -j KUBE-EXT-SW7F3NCRFKRM23GY\n"
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
    "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j "
    "MASQUERADE --random-fully\n"
    "-A KUBE-SEP-LXLUHS7SMGZB2VF5 -s 10.244.2.7/32 -m comment --comment "
    "\"default/nginx-service-nodeport\" -j KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-LXLUHS7SMGZB2VF5 -p tcp -m comment --comment \"default/nginx-service-nodeport\" "
    "-m tcp -j DNAT --to-destination 10.244.2.7:80\n"
    "-A KUBE-SEP-SCQ73FPSOLNXZRH2 -s 10.244.1.5/32 -m comment --comment "
    "\"default/nginx-service-nodeport\" -j KUBE-MARK-MASQ\n"
    "-A KUBE-SEP-SCQ73FPSOLNXZRH2 -p tcp -m comment --comment \"default/nginx-service-nodeport\" "
    "-m tcp -j DNAT --to-destination 10.244.1.5:80\n"
    "-A KUBE-SERVICES -d 10.96.45.10/32 -p tcp -m comment --comment "
    "\"default/nginx-service-nodeport cluster IP\" -m tcp --dport 80 -j "
    "KUBE-SVC-SW7F3NCRFKRM23GY\n"
    "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the "
    "last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"
    "-A KUBE-SVC-SW7F3NCRFKRM23GY ! -s 10.244.0.0/16 -d 10.96.45.10/32 -p tcp -m comment "
    "--comment \"default/nginx-service-nodeport cluster IP\" -m tcp --dport 80 -j "
    "KUBE-MARK-MASQ\n"
    "-A KUBE-SVC-SW7F3NCRFKRM23GY -m comment --comment \"default/nginx-service-nodeport -> "
    "10.244.1.5:80\" -m statistic --mode random --probability 0.50000000000 -j "
    "KUBE-SEP-SCQ73FPSOLNXZRH2\n"
    "-A KUBE-SVC-SW7F3NCRFKRM23GY -m comment --comment \"default/nginx-service-nodeport -> "
    "10.244.2.7:80\" -j KUBE-SEP-LXLUHS7SMGZB2VF5\n"
    "COMMIT\n";

#define SVC "KUBE-SVC-SW7F3NCRFKRM23GY"
#define EXT "KUBE-EXT-SW7F3NCRFKRM23GY"
#define SEP_A "KUBE-SEP-SCQ73FPSOLNXZRH2"
#define SEP_B "KUBE-SEP-LXLUHS7SMGZB2VF5"
#define SVC_NAME "default/nginx-service-nodeport"

/* The nat table kube-proxy writes for the seed Service (datapath-semantics.md section 3.10),
 * in kube-proxy's own restore-input argument order and spelling. */
static NfRuleset *
seed_ruleset(void)
{
    NfRuleset *rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId T = NF_TABLE_NAT;
    static const char *const chains[] = {"KUBE-SERVICES",
                                         "KUBE-POSTROUTING",
                                         "KUBE-NODEPORTS",
                                         "KUBE-MARK-MASQ",
                                         "KUBE-PROXY-CANARY",
                                         SVC,
                                         EXT,
                                         SEP_A,
                                         SEP_B};
    for (gsize i = 0; i < G_N_ELEMENTS(chains); i++)
        new_chain(rs, T, chains[i]);
    ADD(rs, T, "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j",
        "KUBE-SERVICES");
    ADD(rs, T, "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j",
        "KUBE-SERVICES");
    ADD(rs, T, "POSTROUTING", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j",
        "KUBE-POSTROUTING");
    ADD(rs, T, "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", "0x00004000/0x00004000", "-j",
        "RETURN");
    ADD(rs, T, "KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", "0x00004000");
    ADD(rs, T, "KUBE-POSTROUTING", "-m", "comment", "--comment",
        "kubernetes service traffic requiring SNAT", "-j", "MASQUERADE", "--random-fully");
    ADD(rs, T, "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x00004000");
    ADD(rs, T, "KUBE-SERVICES", "-m", "comment", "--comment", SVC_NAME " cluster IP", "-m", "tcp",
        "-p", "tcp", "-d", "10.96.45.10", "--dport", "80", "-j", SVC);
    ADD(rs, T, "KUBE-NODEPORTS", "-m", "comment", "--comment", SVC_NAME, "-m", "tcp", "-p", "tcp",
        "-d", "127.0.0.0/8", "--dport", "30080", "-m", "nfacct", "--nfacct-name",
        "localhost_nps_accepted_pkts", "-j", EXT);
    ADD(rs, T, "KUBE-NODEPORTS", "-m", "comment", "--comment", SVC_NAME, "-m", "tcp", "-p", "tcp",
        "--dport", "30080", "-j", EXT);
    ADD(rs, T, SVC, "-m", "comment", "--comment", SVC_NAME " cluster IP", "-m", "tcp", "-p", "tcp",
        "-d", "10.96.45.10", "--dport", "80", "!", "-s", "10.244.0.0/16", "-j", "KUBE-MARK-MASQ");
    ADD(rs, T, EXT, "-m", "comment", "--comment",
        "masquerade traffic for " SVC_NAME " external destinations", "-j", "KUBE-MARK-MASQ");
    ADD(rs, T, EXT, "-j", SVC);
    ADD(rs, T, SVC, "-m", "comment", "--comment", SVC_NAME " -> 10.244.1.5:80", "-m", "statistic",
        "--mode", "random", "--probability", "0.5000000000", "-j", SEP_A);
    ADD(rs, T, SEP_A, "-m", "comment", "--comment", SVC_NAME, "-s", "10.244.1.5", "-j",
        "KUBE-MARK-MASQ");
    ADD(rs, T, SEP_A, "-m", "comment", "--comment", SVC_NAME, "-m", "tcp", "-p", "tcp", "-j",
        "DNAT", "--to-destination", "10.244.1.5:80");
    ADD(rs, T, SVC, "-m", "comment", "--comment", SVC_NAME " -> 10.244.2.7:80", "-j", SEP_B);
    ADD(rs, T, SEP_B, "-m", "comment", "--comment", SVC_NAME, "-s", "10.244.2.7", "-j",
        "KUBE-MARK-MASQ");
    ADD(rs, T, SEP_B, "-m", "comment", "--comment", SVC_NAME, "-m", "tcp", "-p", "tcp", "-j",
        "DNAT", "--to-destination", "10.244.2.7:80");
    ADD(rs, T, "KUBE-SERVICES", "-m", "comment", "--comment",
        "kubernetes service nodeports; NOTE: this must be the last rule in this chain", "-m",
        "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODEPORTS");
    return rs;
}

START_TEST(save_reproduces_the_seed_service_golden)
{
    g_autoptr(NfRuleset) rs = seed_ruleset();
    g_autofree char *text = save(rs, NF_TABLE_NAT);
    ck_assert_str_eq(text, seed_nat_save);
    ck_assert_uint_eq(nf_ruleset_rule_count(rs, NF_TABLE_NAT), 20);
    ck_assert_int_eq(nf_ruleset_chain_length(rs, NF_TABLE_NAT, "KUBE-SERVICES"), 2);
    ck_assert_int_eq(nf_ruleset_chain_length(rs, NF_TABLE_NAT, "KUBE-PROXY-CANARY"), 0);
    ck_assert_int_eq(nf_ruleset_chain_length(rs, NF_TABLE_NAT, "NOPE"), -1);
}
END_TEST

START_TEST(chains_stay_found_through_index_growth_and_reserve)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const guint n = 3000;
    for (guint i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("C-%u", i);
        new_chain(rs, NF_TABLE_NAT, name);
        if (i % 2 == 0)
            new_chain(rs, NF_TABLE_FILTER, name); /* the tables' names are independent */
        if (i == n / 2)
            nf_ruleset_reserve_chains(rs, NF_TABLE_NAT, 4 * n); /* grows mid-way */
        for (guint k = 0; k < i % 4; k++)
            ADD(rs, NF_TABLE_NAT, name, "-j", "ACCEPT");
    }
    nf_ruleset_reserve_chains(rs, NF_TABLE_NAT, 1); /* never shrinks */
    for (guint i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("C-%u", i);
        ck_assert_int_eq(nf_ruleset_chain_length(rs, NF_TABLE_NAT, name), (gint)(i % 4));
        ck_assert(nf_ruleset_has_chain(rs, NF_TABLE_FILTER, name) == (i % 2 == 0));
        g_autoptr(GError) error = NULL;
        ck_assert(!nf_ruleset_new_chain(rs, NF_TABLE_NAT, name, &error));
        ck_assert(g_error_matches(error, NF_ERROR, NF_ERROR_EXISTS));
    }
    ck_assert(!nf_ruleset_has_chain(rs, NF_TABLE_NAT, "C-3000"));
    ck_assert(nf_ruleset_has_chain(rs, NF_TABLE_NAT, "PREROUTING"));
    ck_assert_uint_eq(nf_ruleset_rule_count(rs, NF_TABLE_NAT), n / 4 * (0 + 1 + 2 + 3));
    /* A jump to a chain created before the growth still resolves, and runs. */
    ADD(rs, NF_TABLE_NAT, "PREROUTING", "-j", "C-3");
    g_autofree char *text = save(rs, NF_TABLE_NAT);
    ck_assert_ptr_nonnull(strstr(text, ":C-2999 - [0:0]\n"));
    ck_assert_ptr_nonnull(strstr(text, "-A PREROUTING -j C-3\n-A C-1 -j ACCEPT\n"));
}
END_TEST

START_TEST(a_chain_keeps_hundreds_of_rules_in_order)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    new_chain(rs, NF_TABLE_FILTER, "MANY");
    GString *want = g_string_new("");
    for (guint i = 1; i <= 300; i++) {
        g_autofree char *port = g_strdup_printf("%u", i);
        ADD(rs, NF_TABLE_FILTER, "MANY", "-p", "tcp", "-m", "tcp", "--dport", port, "-j", "DROP");
        g_string_append_printf(want, "-A MANY -p tcp -m tcp --dport %u -j DROP\n", i);
    }
    ck_assert_int_eq(nf_ruleset_chain_length(rs, NF_TABLE_FILTER, "MANY"), 300);
    g_autofree char *text = save(rs, NF_TABLE_FILTER);
    g_autofree char *rules = g_string_free(want, FALSE);
    ck_assert_ptr_nonnull(strstr(text, rules));
}
END_TEST

START_TEST(save_prints_builtins_in_kernel_order_and_user_chains_sorted)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    new_chain(rs, NF_TABLE_FILTER, "b");
    new_chain(rs, NF_TABLE_FILTER, "KUBE-Z");
    new_chain(rs, NF_TABLE_FILTER, "KUBE-A");
    ADD(rs, NF_TABLE_FILTER, "b", "-j", "ACCEPT");
    ADD(rs, NF_TABLE_FILTER, "OUTPUT", "-j", "KUBE-A");
    ADD(rs, NF_TABLE_FILTER, "INPUT", "-j", "KUBE-Z");
    ADD(rs, NF_TABLE_FILTER, "KUBE-A", "-j", "DROP");
    g_autofree char *text = save(rs, NF_TABLE_FILTER);
    ck_assert_str_eq(text, "*filter\n"
                           ":INPUT ACCEPT [0:0]\n"
                           ":FORWARD ACCEPT [0:0]\n"
                           ":OUTPUT ACCEPT [0:0]\n"
                           ":KUBE-A - [0:0]\n"
                           ":KUBE-Z - [0:0]\n"
                           ":b - [0:0]\n"
                           "-A INPUT -j KUBE-Z\n"
                           "-A OUTPUT -j KUBE-A\n"
                           "-A KUBE-A -j DROP\n"
                           "-A b -j ACCEPT\n"
                           "COMMIT\n");
    g_autofree char *nat = save(rs, NF_TABLE_NAT);
    ck_assert_str_eq(nat, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
                          ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n");
    ck_assert_str_eq(nf_hook_chain_name(NF_TABLE_NAT, NF_HOOK_PRE_ROUTING), "PREROUTING");
    ck_assert_ptr_null(nf_hook_chain_name(NF_TABLE_NAT, NF_HOOK_FORWARD));
    ck_assert_ptr_null(nf_hook_chain_name(NF_TABLE_FILTER, NF_HOOK_POST_ROUTING));
    ck_assert_str_eq(nf_hook_chain_name(NF_TABLE_FILTER, NF_HOOK_LOCAL_OUT), "OUTPUT");
    ck_assert_str_eq(nf_table_name(NF_TABLE_FILTER), "filter");
    ck_assert_int_eq(nf_ruleset_family(rs), SIM_AF_INET);
}
END_TEST

START_TEST(comments_are_quoted_like_xtables_save_string)
{
    ASSERT_SAVED("-A USER -m comment --comment plain_WORD-1",
                 SAVED4("USER", "-m", "comment", "--comment", "plain_WORD-1"));
    ASSERT_SAVED("-A USER -m comment --comment \"ns/svc\"",
                 SAVED4("USER", "-m", "comment", "--comment", "ns/svc"));
    ASSERT_SAVED("-A USER -m comment --comment \"two words\"",
                 SAVED4("USER", "-m", "comment", "--comment", "two words"));
    ASSERT_SAVED("-A USER -m comment --comment \"\"",
                 SAVED4("USER", "-m", "comment", "--comment", ""));
    ASSERT_SAVED("-A USER -m comment --comment \"a\\\"b\\\\c\\'d\"",
                 SAVED4("USER", "-m", "comment", "--comment", "a\"b\\c'd"));
    ASSERT_SAVED("-A USER -m comment --comment \"x:80\"",
                 SAVED4("USER", "-m", "comment", "--comment", "x:80"));
}
END_TEST

START_TEST(statistic_probability_prints_the_kernel_fraction)
{
    ASSERT_SAVED("-A USER -m statistic --mode random --probability 0.33333333349 -j TARGET",
                 SAVED4("USER", "-m", "statistic", "--mode", "random", "--probability",
                        "0.3333333333", "-j", "TARGET"));
    ASSERT_SAVED("-A USER -m statistic --mode random --probability 0.20000000019 -j TARGET",
                 SAVED4("USER", "-m", "statistic", "--mode", "random", "--probability",
                        "0.2000000000", "-j", "TARGET"));
    ASSERT_SAVED("-A USER -m statistic --mode random --probability 0.50000000000 -j TARGET",
                 SAVED4("USER", "-m", "statistic", "--mode", "random", "--probability",
                        "0.5000000000", "-j", "TARGET"));
    ASSERT_SAVED("-A USER -m statistic --mode random --probability 0.25000000000",
                 SAVED4("USER", "-m", "statistic", "--probability", "0.25", "--mode", "random"));
    ASSERT_SAVED("-A USER -m statistic --mode random ! --probability 1.00000000000",
                 SAVED4("USER", "-m", "statistic", "--mode", "random", "!", "--probability", "1"));
    ASSERT_SAVED("-A USER -m statistic --mode random --probability 0.00000000000",
                 SAVED4("USER", "-m", "statistic", "--mode", "random", "--probability", "0"));
}
END_TEST

START_TEST(recent_conntrack_and_mark_print_in_extension_order)
{
    ASSERT_SAVED("-A USER -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask "
                 "255.255.255.255 --rsource -j TARGET",
                 SAVED4("USER", "-m", "recent", "--name", "KUBE-SEP-X", "--rcheck", "--seconds",
                        "10800", "--reap", "-j", "TARGET"));
    ASSERT_SAVED("-A USER -p tcp -m recent --set --name KUBE-SEP-X --mask 255.255.255.255 "
                 "--rsource -m tcp -j DNAT --to-destination 10.244.1.5:80",
                 SAVED4("USER", "-m", "recent", "--name", "KUBE-SEP-X", "--set", "-m", "tcp", "-p",
                        "tcp", "-j", "DNAT", "--to-destination", "10.244.1.5:80"));
    ASSERT_SAVED("-A USER -m recent --rcheck --name DEFAULT --mask 255.255.0.0 --rdest",
                 SAVED4("USER", "-m", "recent", "--rdest", "--mask", "255.255.0.0", "--rcheck"));
    ASSERT_SAVED("-A USER -m recent ! --rcheck --seconds 5 --name L --mask "
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource",
                 SAVED6("USER", "-m", "recent", "--rsource", "--seconds", "5", "--name", "L", "!",
                        "--rcheck"));
    ASSERT_SAVED(
        "-A USER -m conntrack --ctstate INVALID,NEW,ESTABLISHED -j TARGET",
        SAVED4("USER", "-m", "conntrack", "--ctstate", "ESTABLISHED,new,INVALID", "-j", "TARGET"));
    ASSERT_SAVED(
        "-A USER -m conntrack ! --ctstate RELATED,UNTRACKED,SNAT,DNAT",
        SAVED4("USER", "-m", "conntrack", "!", "--ctstate", "DNAT,SNAT,UNTRACKED,RELATED"));
    ASSERT_SAVED("-A USER -m mark --mark 0x4000", SAVED4("USER", "-m", "mark", "--mark", "16384"));
    ASSERT_SAVED("-A USER -m mark ! --mark 0x4000/0x4000",
                 SAVED4("USER", "-m", "mark", "!", "--mark", "0x4000/0x4000"));
    ASSERT_SAVED("-A USER -j MARK --set-xmark 0x4000/0x4000",
                 SAVED4("USER", "-j", "MARK", "--or-mark", "0x00004000"));
    ASSERT_SAVED("-A USER -j MARK --set-xmark 0x4000/0x0",
                 SAVED4("USER", "-j", "MARK", "--xor-mark", "0x4000"));
    ASSERT_SAVED("-A USER -j MARK --set-xmark 0x1/0xffffffff",
                 SAVED4("USER", "-j", "MARK", "--set-mark", "1"));
    ASSERT_SAVED("-A USER -j MARK --set-xmark 0x10/0xf0",
                 SAVED4("USER", "-j", "MARK", "--set-xmark", "0x10/0xf0"));
    /* libxt_MARK: --set-mark V/M clears M and V, so the saved mask is V|M. */
    ASSERT_SAVED("-A USER -j MARK --set-xmark 0x4000/0xc000",
                 SAVED4("USER", "-j", "MARK", "--set-mark", "0x4000/0x8000"));
    ASSERT_SAVED("-A USER -j MARK --set-xmark 0x0/0xffffbfff",
                 SAVED4("USER", "-j", "MARK", "--and-mark", "0x4000"));
    ASSERT_SAVED("-A USER -m nfacct --nfacct-name localhost_nps_accepted_pkts",
                 SAVED4("USER", "-m", "nfacct", "--nfacct-name", "localhost_nps_accepted_pkts"));
}
END_TEST

START_TEST(ip_part_prints_first_with_prefixes_and_negations)
{
    ASSERT_SAVED("-A USER ! -s 10.244.0.0/16 -d 10.96.0.1/32 -i veth+ ! -o eth0 ! -p udp",
                 SAVED4("USER", "!", "-p", "udp", "!", "-o", "eth0", "-i", "veth+", "-d",
                        "10.96.0.1", "!", "-s", "10.244.3.3/16"));
    ASSERT_SAVED("-A USER", SAVED4("USER", "-s", "1.2.3.4/0"));
    ASSERT_SAVED("-A USER ! -s 0.0.0.0/0", SAVED4("USER", "!", "-s", "0.0.0.0/0"));
    ASSERT_SAVED("-A USER", SAVED4("USER", "-s", "0.0.0.0/0", "-p", "all"));
    ASSERT_SAVED("-A USER -d fd00::/64 -p tcp -m tcp --dport 80 -j DNAT --to-destination "
                 "[fd00::1]:8080",
                 SAVED6("USER", "-p", "tcp", "-d", "fd00::5/64", "--dport", "80", "-j", "DNAT",
                        "--to-destination", "[fd00::1]:8080"));
    ASSERT_SAVED("-A USER -s fd00::5/128 -j DNAT --to-destination fd00::1",
                 SAVED6("USER", "-s", "fd00::5", "-j", "DNAT", "--to-destination", "fd00::1"));
    ASSERT_SAVED("-A POSTROUTING -j SNAT --to-source 192.168.10.11",
                 SAVED4("POSTROUTING", "-j", "SNAT", "--to-source", "192.168.10.11"));
    ASSERT_SAVED("-A POSTROUTING -j MASQUERADE", SAVED4("POSTROUTING", "-j", "MASQUERADE"));
    ASSERT_SAVED("-A POSTROUTING -j MASQUERADE --random --random-fully",
                 SAVED4("POSTROUTING", "-j", "MASQUERADE", "--random-fully", "--random"));
}
END_TEST

START_TEST(port_matches_load_automatically_and_keep_their_place)
{
    /* --dport after -p tcp without -m tcp: iptables loads tcp where the option appears. */
    ASSERT_SAVED("-A USER -p tcp -m comment --comment x -m tcp --dport 80 -m mark --mark 0x1",
                 SAVED4("USER", "-m", "comment", "--comment", "x", "-p", "tcp", "--dport", "80",
                        "-m", "mark", "--mark", "1"));
    ASSERT_SAVED("-A USER -p tcp -m tcp --sport 1000:2000 ! --dport 53",
                 SAVED4("USER", "-p", "tcp", "!", "--dport", "53", "--sport", "1000:2000"));
    ASSERT_SAVED("-A USER -p udp -m udp --sport 0:1023 --dport 1024:65535",
                 SAVED4("USER", "-p", "udp", "-m", "udp", "--sport", ":1023", "--dport", "1024:"));
    ASSERT_SAVED("-A USER -p udp -m udp",
                 SAVED4("USER", "-p", "udp", "-m", "udp", "--dport", "0:"));
    ASSERT_SAVED("-A USER -p sctp -m sctp --dport 0:65535",
                 SAVED4("USER", "-p", "sctp", "--dport", "0:65535"));
    ASSERT_SAVED(
        "-A USER -p tcp -m tcp --dport 80 -m tcp --sport 9",
        SAVED4("USER", "-p", "tcp", "-m", "tcp", "--dport", "80", "-m", "tcp", "--sport", "9"));
    ASSERT_SAVED(
        "-A USER -p tcp -m addrtype ! --src-type LOCAL --dst-type LOCAL -m tcp --dport 30080",
        SAVED4("USER", "-p", "tcp", "-m", "addrtype", "--dst-type", "local", "!", "--src-type",
               "LOCAL", "--dport", "30080"));
}
END_TEST

START_TEST(targets_print_with_their_defaults)
{
    ASSERT_SAVED("-A INPUT -j REJECT --reject-with icmp-port-unreachable",
                 SAVEDF("INPUT", "-j", "REJECT"));
    ASSERT_SAVED("-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
                 SAVEDF("INPUT", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-rst"));
    ASSERT_SAVED("-A USER -j REJECT --reject-with icmp-host-prohibited",
                 SAVEDF("USER", "-j", "REJECT", "--reject-with", "host-prohib"));
    ASSERT_SAVED("-A USER -j REJECT --reject-with icmp6-port-unreachable",
                 saved_rule(SIM_AF_INET6, NF_TABLE_FILTER, "USER",
                            (const char *const[]){"-j", "REJECT", NULL}));
    ASSERT_SAVED("-A USER -j ACCEPT", SAVEDF("USER", "-j", "ACCEPT"));
    ASSERT_SAVED("-A USER -j DROP", SAVEDF("USER", "-j", "DROP"));
    ASSERT_SAVED("-A USER -j RETURN", SAVEDF("USER", "--jump", "RETURN"));
    ASSERT_SAVED("-A USER -j TARGET", SAVEDF("USER", "-j", "TARGET"));
    ASSERT_SAVED("-A USER -m comment --comment count-only",
                 SAVEDF("USER", "-m", "comment", "--comment", "count-only"));
}
END_TEST

START_TEST(bad_rules_fail_with_a_named_argument_and_append_nothing)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId N = NF_TABLE_NAT, F = NF_TABLE_FILTER;
    new_chain(rs, N, "A");
    new_chain(rs, N, "B");
    new_chain(rs, F, "FA");
    ADD(rs, N, "A", "-j", "B");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "--bogus", "--bogus", "1");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "--dport", "--dport", "80");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_UNSUPPORTED, "multiport", "-m", "multiport", "--dports", "1");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_UNSUPPORTED, "LOG", "-j", "LOG");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_UNSUPPORTED, "--tcp-flags", "-p", "tcp", "--tcp-flags", "SYN",
                 "SYN");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_UNSUPPORTED, "-g", "-g", "B");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_UNSUPPORTED, "gre", "-p", "gre");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_NO_CHAIN, "KUBE-SVC-MISSING", "-j", "KUBE-SVC-MISSING");
    EXPECT_ERROR(rs, N, "MISSING", NF_ERROR_NO_CHAIN, "MISSING", "-j", "ACCEPT");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "-d", "-d");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "10.0.0.300", "-d", "10.0.0.300");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "fd00::1", "-d", "fd00::1");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "\"!\"", "-j", "B", "!");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "-m", "!", "-m", "comment", "--comment", "x");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "--comment", "-m", "comment", "!", "--comment", "x");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "-p tcp", "-m", "tcp", "--dport", "80");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "-p udp", "-p", "tcp", "-m", "udp", "--dport", "80");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "--comment", "-m", "comment");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "multiple", "-p", "tcp", "--dport", "1", "--dport",
                 "2");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "70000", "-p", "tcp", "--dport", "70000");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "1.5", "-m", "statistic", "--mode", "random",
                 "--probability", "1.5");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "--seconds", "-m", "recent", "--set", "--seconds",
                 "5");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "--reap", "-m", "recent", "--rcheck", "--reap");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "BOGUS", "-m", "conntrack", "--ctstate", "BOGUS");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_UNSUPPORTED, "BROADCAST", "-m", "addrtype", "--dst-type",
                 "BROADCAST");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "--to-destination", "-j", "DNAT");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "-p tcp", "-j", "DNAT", "--to-destination",
                 "10.0.0.1:80");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "multiple", "-j", "B", "-j", "B");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "unexpected", "KUBE");
    /* Table and hook restrictions the kernel enforces at load time. */
    EXPECT_ERROR(rs, F, "FA", NF_ERROR_PARSE, "nat table", "-j", "DNAT", "--to-destination",
                 "10.0.0.1");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "filter table", "-j", "REJECT");
    EXPECT_ERROR(rs, N, "POSTROUTING", NF_ERROR_PARSE, "POSTROUTING", "-j", "DNAT",
                 "--to-destination", "10.0.0.1");
    EXPECT_ERROR(rs, N, "PREROUTING", NF_ERROR_PARSE, "PREROUTING", "-j", "MASQUERADE");
    EXPECT_ERROR(rs, N, "OUTPUT", NF_ERROR_PARSE, "OUTPUT", "-i", "eth0");
    EXPECT_ERROR(rs, N, "PREROUTING", NF_ERROR_PARSE, "PREROUTING", "-o", "eth0");
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "built-in", "-j", "PREROUTING");
    EXPECT_ERROR(rs, F, "INPUT", NF_ERROR_PARSE, "tcp-reset", "-j", "REJECT", "--reject-with",
                 "tcp-reset");
    /* Loops: a chain jumping to itself, or back to a chain that leads to it. */
    EXPECT_ERROR(rs, N, "A", NF_ERROR_PARSE, "loop", "-j", "A");
    EXPECT_ERROR(rs, N, "B", NF_ERROR_PARSE, "loop", "-j", "A");
    ck_assert_int_eq(nf_ruleset_chain_length(rs, N, "A"), 1);
    ck_assert_uint_eq(nf_ruleset_rule_count(rs, N), 1);

    g_autoptr(GError) error = NULL;
    ck_assert(!nf_ruleset_new_chain(rs, N, "A", &error));
    ck_assert(g_error_matches(error, NF_ERROR, NF_ERROR_EXISTS));
    g_clear_error(&error);
    ck_assert(!nf_ruleset_new_chain(rs, N, "PREROUTING", &error));
    ck_assert(g_error_matches(error, NF_ERROR, NF_ERROR_EXISTS));
    g_clear_error(&error);
    ck_assert(!nf_ruleset_new_chain(rs, N, "A-CHAIN-NAME-LONGER-THAN-28-CHARS", &error));
    ck_assert(g_error_matches(error, NF_ERROR, NF_ERROR_PARSE));
    g_clear_error(&error);
    ck_assert(!nf_ruleset_new_chain(rs, N, "ACCEPT", &error));
    ck_assert(g_error_matches(error, NF_ERROR, NF_ERROR_PARSE));
    ck_assert(nf_ruleset_has_chain(rs, N, "A"));
    ck_assert(!nf_ruleset_has_chain(rs, F, "A"));
}
END_TEST

/* ------------------------------------------------------------------ evaluation helpers */

/* A host for the evaluator: its local addresses and canned random choices. */
typedef struct {
    SimAddr local[4];
    guint n_local;
    NfChoice statistic;          /* what statistic answers */
    const char *recent_yes_list; /* recent --rcheck says YES for this list, NO for others */
    gboolean recent_both;        /* recent --rcheck says BOTH */
    guint recent_sets;
    char last_set_list[64];
    SimAddr last_set_addr;
} TestHost;

static gboolean
host_is_local(gpointer data, const SimAddr *a)
{
    const TestHost *h = data;
    if (a->family == SIM_AF_INET && a->b[0] == 127)
        return TRUE;
    for (guint i = 0; i < h->n_local; i++) {
        if (sim_addr_equal(&h->local[i], a))
            return TRUE;
    }
    return FALSE;
}

static NfChoice
host_statistic(gpointer data, guint32 probability)
{
    const TestHost *h = data;
    return h->statistic;
}

static NfChoice
host_recent_check(gpointer data, const char *list, const SimAddr *src, guint seconds)
{
    const TestHost *h = data;
    if (h->recent_both)
        return NF_CHOICE_BOTH;
    return g_strcmp0(list, h->recent_yes_list) == 0 ? NF_CHOICE_YES : NF_CHOICE_NO;
}

static void
host_recent_set(gpointer data, const char *list, const SimAddr *src)
{
    TestHost *h = data;
    h->recent_sets++;
    g_strlcpy(h->last_set_list, list, sizeof h->last_set_list);
    h->last_set_addr = *src;
}

/* node-1 of the seed: 192.168.10.11; random choices explored both ways. */
static TestHost
seed_host(void)
{
    TestHost h = {.statistic = NF_CHOICE_BOTH, .recent_both = TRUE, .n_local = 1};
    sim_addr_parse("192.168.10.11", &h.local[0]);
    return h;
}

static NfEnv
host_env(TestHost *h)
{
    return (NfEnv){.data = h,
                   .is_local = host_is_local,
                   .statistic = host_statistic,
                   .recent_check = host_recent_check,
                   .recent_set = host_recent_set};
}

/* A TCP SYN from src to dst ("IP:PORT" each). */
static SimPacket
tcp_packet(const char *src, const char *dst)
{
    SimPacket p = {.proto = SIM_PROTO_TCP, .tcp_flags = SIM_TCP_SYN, .length = 60};
    ck_assert(sim_sockaddr_parse(src, &p.src, FALSE));
    ck_assert(sim_sockaddr_parse(dst, &p.dst, FALSE));
    return p;
}

/* Runs one hook for one packet and returns the branches. (transfer full) */
static GPtrArray *
run_one(const NfRuleset *rs, NfTableId table, NfHook hook, const SimPacket *pkt, const char *iif,
        const char *oif, guint32 ctstate, const NfEnv *env)
{
    GPtrArray *bs = g_ptr_array_new_with_free_func(nf_branch_free_notify);
    g_ptr_array_add(bs, nf_branch_new(pkt));
    nf_run_hook(rs, table, hook, bs, iif, oif, ctstate, env);
    return bs;
}

/* The branch's steps as "CHAIN#INDEX" words (fell-through steps as "CHAIN#end"). */
static char *
steps_text(const NfBranch *b)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < b->steps->len; i++) {
        const NfStep *st = &g_array_index(b->steps, NfStep, i);
        if (i > 0)
            g_string_append_c(s, ' ');
        if (st->fell_through)
            g_string_append_printf(s, "%s#end", st->chain);
        else
            g_string_append_printf(s, "%s#%u", st->chain, st->index);
    }
    return g_string_free(s, FALSE);
}

#define ASSERT_STEPS(branch, expected)                                                             \
    do {                                                                                           \
        g_autofree char *steps_ = steps_text(branch);                                              \
        ck_assert_str_eq(steps_, expected);                                                        \
    } while (0)

/* The branch's destination as "IP:PORT" in buf. */
static const char *
dst_text(const NfBranch *b, char *buf)
{
    return sim_sockaddr_to_string(&b->pkt.dst, buf);
}

/* ------------------------------------------------------------------ evaluation tests */

START_TEST(eval_jump_and_return_walk_the_stack)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId F = NF_TABLE_FILTER;
    new_chain(rs, F, "OUTER");
    new_chain(rs, F, "INNER");
    ADD(rs, F, "INPUT", "-p", "udp", "-j", "DROP");
    ADD(rs, F, "INPUT", "-j", "OUTER");
    ADD(rs, F, "INPUT", "-j", "ACCEPT");
    ADD(rs, F, "OUTER", "-s", "10.0.0.0/8", "-j", "INNER");
    ADD(rs, F, "OUTER", "-m", "comment", "--comment", "counts only");
    ADD(rs, F, "INNER", "-p", "tcp", "--dport", "22", "-j", "RETURN");
    ADD(rs, F, "INNER", "-j", "DROP");
    ADD(rs, F, "OUTER", "-j", "RETURN");
    ADD(rs, F, "OUTER", "-j", "DROP");

    SimPacket ssh = tcp_packet("10.1.1.1:4000", "192.168.10.11:22");
    g_autoptr(GPtrArray) bs = run_one(rs, F, NF_HOOK_LOCAL_IN, &ssh, "eth0", NULL, NF_CT_NEW, NULL);
    ck_assert_uint_eq(bs->len, 1);
    NfBranch *b = bs->pdata[0];
    ASSERT_STEPS(b, "INPUT#1 OUTER#0 INNER#0 OUTER#1 OUTER#2 INPUT#2");
    ck_assert_int_eq(b->verdict, NF_VERDICT_ACCEPT);
    /* INPUT 0..1, OUTER 0, INNER 0, OUTER 1..2, INPUT 2 */
    ck_assert_uint_eq(b->rules_evaluated, 2 + 1 + 1 + 2 + 1);
    ck_assert_int_eq(b->last_hook, NF_HOOK_LOCAL_IN);
    const NfStep *first = &g_array_index(b->steps, NfStep, 0);
    g_autoptr(GString) line = g_string_new(NULL);
    nf_rule_format(first->rule, line);
    ck_assert_str_eq(line->str, "-A INPUT -j OUTER");
    ck_assert_int_eq(first->table, F);

    SimPacket web = tcp_packet("10.1.1.1:4000", "192.168.10.11:80");
    g_autoptr(GPtrArray) bs2 =
        run_one(rs, F, NF_HOOK_LOCAL_IN, &web, "eth0", NULL, NF_CT_NEW, NULL);
    NfBranch *b2 = bs2->pdata[0];
    ASSERT_STEPS(b2, "INPUT#1 OUTER#0 INNER#1");
    ck_assert_int_eq(b2->verdict, NF_VERDICT_DROP);
    ck_assert_uint_eq(b2->rules_evaluated, 2 + 1 + 2);

    /* A user chain that falls off its end returns; the built-in chain's policy applies. */
    g_autoptr(NfRuleset) rs2 = nf_ruleset_new(SIM_AF_INET);
    new_chain(rs2, F, "EMPTY");
    ADD(rs2, F, "FORWARD", "-j", "EMPTY");
    ADD(rs2, F, "FORWARD", "-p", "udp", "-j", "ACCEPT");
    g_autoptr(GPtrArray) bs3 =
        run_one(rs2, F, NF_HOOK_FORWARD, &web, "eth0", "eth1", NF_CT_NEW, NULL);
    NfBranch *b3 = bs3->pdata[0];
    ASSERT_STEPS(b3, "FORWARD#0 FORWARD#end");
    ck_assert_int_eq(b3->verdict, NF_VERDICT_NONE);
    ck_assert_uint_eq(b3->rules_evaluated, 2);
    const NfStep *end = &g_array_index(b3->steps, NfStep, 1);
    ck_assert(end->fell_through);
    ck_assert_ptr_null(end->rule);
    ck_assert_uint_eq(end->index, 2);

    /* RETURN in a built-in chain ends the walk with the policy. */
    ADD(rs2, F, "INPUT", "-j", "RETURN");
    ADD(rs2, F, "INPUT", "-j", "DROP");
    g_autoptr(GPtrArray) bs4 =
        run_one(rs2, F, NF_HOOK_LOCAL_IN, &web, "eth0", NULL, NF_CT_NEW, NULL);
    ck_assert_int_eq(((NfBranch *)bs4->pdata[0])->verdict, NF_VERDICT_NONE);
    ASSERT_STEPS(bs4->pdata[0], "INPUT#0");
}
END_TEST

START_TEST(eval_dnat_rewrites_the_destination_for_pod_traffic)
{
    g_autoptr(NfRuleset) rs = seed_ruleset();
    TestHost h = seed_host();
    h.statistic = NF_CHOICE_YES;
    NfEnv env = host_env(&h);
    SimPacket p = tcp_packet("10.244.0.9:40000", "10.96.45.10:80");
    g_autoptr(GPtrArray) bs =
        run_one(rs, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, &env);
    ck_assert_uint_eq(bs->len, 1);
    NfBranch *b = bs->pdata[0];
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert(b->dnat);
    ck_assert_str_eq(dst_text(b, buf), "10.244.1.5:80");
    ck_assert_str_eq(sim_sockaddr_to_string(&b->orig_dst, buf), "10.96.45.10:80");
    ck_assert_int_eq(b->verdict, NF_VERDICT_ACCEPT);
    ck_assert_uint_eq(b->pkt.mark, 0); /* an in-cluster source is not marked */
    ck_assert(!b->masquerade);
    ck_assert_double_eq(b->probability, 1.0);
    ASSERT_STEPS(b, "PREROUTING#0 KUBE-SERVICES#0 " SVC "#1 " SEP_A "#1");
    ck_assert_uint_eq(b->rules_evaluated, 1 + 1 + 2 + 2);

    /* A statistic that says NO takes the last rule of the ladder. */
    h.statistic = NF_CHOICE_NO;
    g_autoptr(GPtrArray) bs2 =
        run_one(rs, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, &env);
    ck_assert_str_eq(dst_text(bs2->pdata[0], buf), "10.244.2.7:80");

    /* A host source (not in the cluster CIDR) is marked for masquerade by the SVC chain. */
    SimPacket host = tcp_packet("192.168.10.11:40000", "10.96.45.10:80");
    g_autoptr(GPtrArray) bs3 =
        run_one(rs, NF_TABLE_NAT, NF_HOOK_LOCAL_OUT, &host, NULL, "eth0", NF_CT_NEW, &env);
    NfBranch *b3 = bs3->pdata[0];
    ck_assert_uint_eq(b3->pkt.mark, 0x4000);
    ASSERT_STEPS(b3, "OUTPUT#0 KUBE-SERVICES#0 " SVC "#0 KUBE-MARK-MASQ#0 " SVC "#2 " SEP_B "#1");
    ck_assert_int_eq(b3->last_hook, NF_HOOK_LOCAL_OUT);
}
END_TEST

/* Builds PREROUTING -> KUBE-SERVICES -> a 3-endpoint ladder with SEP chains. */
static NfRuleset *
ladder_ruleset(void)
{
    NfRuleset *rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId N = NF_TABLE_NAT;
    static const char *const chains[] = {"KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-SVC-3",
                                         "KUBE-SEP-A",    "KUBE-SEP-B",     "KUBE-SEP-C"};
    for (gsize i = 0; i < G_N_ELEMENTS(chains); i++)
        new_chain(rs, N, chains[i]);
    ADD(rs, N, "PREROUTING", "-j", "KUBE-SERVICES");
    ADD(rs, N, "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x4000");
    ADD(rs, N, "KUBE-SERVICES", "-m", "tcp", "-p", "tcp", "-d", "10.96.0.30", "--dport", "80", "-j",
        "KUBE-SVC-3");
    ADD(rs, N, "KUBE-SVC-3", "-m", "tcp", "-p", "tcp", "-d", "10.96.0.30", "--dport", "80", "!",
        "-s", "10.244.0.0/16", "-j", "KUBE-MARK-MASQ");
    ADD(rs, N, "KUBE-SVC-3", "-m", "statistic", "--mode", "random", "--probability", "0.3333333333",
        "-j", "KUBE-SEP-A");
    ADD(rs, N, "KUBE-SVC-3", "-m", "statistic", "--mode", "random", "--probability", "0.5000000000",
        "-j", "KUBE-SEP-B");
    ADD(rs, N, "KUBE-SVC-3", "-j", "KUBE-SEP-C");
    static const char *const seps[][2] = {
        {"KUBE-SEP-A", "10.244.1.1"}, {"KUBE-SEP-B", "10.244.1.2"}, {"KUBE-SEP-C", "10.244.2.3"}};
    for (gsize i = 0; i < G_N_ELEMENTS(seps); i++) {
        g_autofree char *to = g_strdup_printf("%s:8080", seps[i][1]);
        ADD(rs, N, seps[i][0], "-s", seps[i][1], "-j", "KUBE-MARK-MASQ");
        ADD(rs, N, seps[i][0], "-m", "tcp", "-p", "tcp", "-j", "DNAT", "--to-destination", to);
    }
    return rs;
}

START_TEST(eval_statistic_ladder_traced_both_ways_gives_equal_branches)
{
    g_autoptr(NfRuleset) rs = ladder_ruleset();
    SimPacket p = tcp_packet("10.244.0.9:40000", "10.96.0.30:80");
    /* No callbacks at all: statistic explores both ways. */
    g_autoptr(GPtrArray) bs =
        run_one(rs, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, NULL);
    ck_assert_uint_eq(bs->len, 3);
    static const char *const want_dst[] = {"10.244.1.1:8080", "10.244.1.2:8080", "10.244.2.3:8080"};
    static const guint64 want_evaluated[] = {1 + 1 + 2 + 2, 1 + 1 + 3 + 2, 1 + 1 + 4 + 2};
    double total = 0;
    for (guint i = 0; i < 3; i++) {
        NfBranch *b = bs->pdata[i];
        char buf[SIM_SOCKADDR_STRLEN];
        ck_assert_str_eq(dst_text(b, buf), want_dst[i]);
        ck_assert_msg(fabs(b->probability - 1.0 / 3.0) < 1e-9, "branch %u has %.12f", i,
                      b->probability);
        ck_assert_uint_eq(b->rules_evaluated, want_evaluated[i]);
        ck_assert_int_eq(b->verdict, NF_VERDICT_ACCEPT);
        ck_assert_uint_eq(b->pkt.mark, 0);
        total += b->probability;
    }
    ck_assert(fabs(total - 1.0) < 1e-12);
    /* The first branch took the kernel's rounded 31-bit fraction exactly. */
    ck_assert_double_eq(((NfBranch *)bs->pdata[0])->probability, 715827883 / 2147483648.0);
    ASSERT_STEPS(bs->pdata[1], "PREROUTING#0 KUBE-SERVICES#0 KUBE-SVC-3#2 KUBE-SEP-B#1");
    ASSERT_STEPS(bs->pdata[2], "PREROUTING#0 KUBE-SERVICES#0 KUBE-SVC-3#3 KUBE-SEP-C#1");
}
END_TEST

START_TEST(eval_recent_affinity_forks_and_records)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId N = NF_TABLE_NAT;
    new_chain(rs, N, "SVC");
    new_chain(rs, N, "SEP-A");
    new_chain(rs, N, "SEP-B");
    ADD(rs, N, "PREROUTING", "-j", "SVC");
    ADD(rs, N, "SVC", "-m", "recent", "--name", "SEP-A", "--rcheck", "--seconds", "10800", "--reap",
        "-j", "SEP-A");
    ADD(rs, N, "SVC", "-m", "recent", "--name", "SEP-B", "--rcheck", "--seconds", "10800", "--reap",
        "-j", "SEP-B");
    ADD(rs, N, "SVC", "-m", "statistic", "--mode", "random", "--probability", "0.5000000000", "-j",
        "SEP-A");
    ADD(rs, N, "SVC", "-j", "SEP-B");
    ADD(rs, N, "SEP-A", "-m", "recent", "--name", "SEP-A", "--set", "-m", "tcp", "-p", "tcp", "-j",
        "DNAT", "--to-destination", "10.244.1.5:80");
    ADD(rs, N, "SEP-B", "-m", "recent", "--name", "SEP-B", "--set", "-m", "tcp", "-p", "tcp", "-j",
        "DNAT", "--to-destination", "10.244.2.7:80");
    SimPacket p = tcp_packet("203.0.113.50:51000", "10.96.45.10:80");
    char buf[SIM_SOCKADDR_STRLEN];

    /* The client is in SEP-B's list: it sticks to 10.244.2.7, and the list is refreshed. */
    TestHost h = {.statistic = NF_CHOICE_YES, .recent_yes_list = "SEP-B"};
    NfEnv env = host_env(&h);
    g_autoptr(GPtrArray) bs =
        run_one(rs, N, NF_HOOK_PRE_ROUTING, &p, "eth0", NULL, NF_CT_NEW, &env);
    ck_assert_uint_eq(bs->len, 1);
    ck_assert_str_eq(dst_text(bs->pdata[0], buf), "10.244.2.7:80");
    ck_assert_uint_eq(h.recent_sets, 1);
    ck_assert_str_eq(h.last_set_list, "SEP-B");
    ck_assert(sim_addr_equal(&h.last_set_addr, &p.src.addr));

    /* Explored both ways: a recent fork keeps the parent's probability on both sides. */
    h = (TestHost){.statistic = NF_CHOICE_BOTH, .recent_both = TRUE};
    g_autoptr(GPtrArray) all =
        run_one(rs, N, NF_HOOK_PRE_ROUTING, &p, "eth0", NULL, NF_CT_NEW, &env);
    ck_assert_uint_eq(all->len, 4);
    static const char *const want[] = {"10.244.1.5:80", "10.244.2.7:80", "10.244.1.5:80",
                                       "10.244.2.7:80"};
    static const double want_p[] = {1.0, 1.0, 0.5, 0.5};
    for (guint i = 0; i < all->len; i++) {
        ck_assert_str_eq(dst_text(all->pdata[i], buf), want[i]);
        ck_assert_double_eq(((NfBranch *)all->pdata[i])->probability, want_p[i]);
    }
    ck_assert_uint_eq(h.recent_sets, 4);
}
END_TEST

START_TEST(eval_index_finds_the_last_of_10000_services_cheaply)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId N = NF_TABLE_NAT;
    const guint n = 10000;
    new_chain(rs, N, "KUBE-SERVICES");
    new_chain(rs, N, "KUBE-NODEPORTS");
    ADD(rs, N, "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j",
        "KUBE-SERVICES");
    for (guint i = 0; i < n; i++) {
        char chain[32], comment[64], ip[32], to[32];
        g_snprintf(chain, sizeof chain, "KUBE-SVC-%06u", i);
        g_snprintf(comment, sizeof comment, "ns/svc-%u cluster IP", i);
        g_snprintf(ip, sizeof ip, "10.96.%u.%u", i / 256, i % 256);
        g_snprintf(to, sizeof to, "10.244.%u.%u:8080", i / 256, i % 256);
        new_chain(rs, N, chain);
        ADD(rs, N, chain, "-m", "comment", "--comment", comment, "-m", "tcp", "-p", "tcp", "-j",
            "DNAT", "--to-destination", to);
        ADD(rs, N, "KUBE-SERVICES", "-m", "comment", "--comment", comment, "-m", "tcp", "-p", "tcp",
            "-d", ip, "--dport", "80", "-j", chain);
    }
    ADD(rs, N, "KUBE-SERVICES", "-m", "comment", "--comment", "kubernetes service nodeports", "-m",
        "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODEPORTS");
    TestHost h = seed_host();
    NfEnv env = host_env(&h);

    SimPacket last = tcp_packet("10.244.0.9:40000", "10.96.39.15:80"); /* service 9999 */
    char buf[SIM_SOCKADDR_STRLEN];
    /* The first walks of KUBE-SERVICES are linear: they test every rule up to the match. */
    for (guint i = 0; i < NF_INDEX_AFTER_WALKS; i++) {
        g_autoptr(GPtrArray) warm =
            run_one(rs, N, NF_HOOK_PRE_ROUTING, &last, "veth1", NULL, NF_CT_NEW, &env);
        NfBranch *w = warm->pdata[0];
        ck_assert_str_eq(dst_text(w, buf), "10.244.39.15:8080");
        ck_assert_uint_eq(w->rules_evaluated, 1 + n + 1);
        ck_assert_uint_eq(w->rules_examined, 1 + n + 1);
    }
    g_autoptr(GPtrArray) bs =
        run_one(rs, N, NF_HOOK_PRE_ROUTING, &last, "veth1", NULL, NF_CT_NEW, &env);
    ck_assert_uint_eq(bs->len, 1);
    NfBranch *b = bs->pdata[0];
    ck_assert_str_eq(dst_text(b, buf), "10.244.39.15:8080");
    /* The kernel walks PREROUTING (1), KUBE-SERVICES up to rule 9999 (10000), the SVC (1)... */
    ck_assert_uint_eq(b->rules_evaluated, 1 + n + 1);
    /* ...while the index, built on this walk, tested one rule per chain. */
    ck_assert_uint_eq(b->rules_examined, 3);
    ASSERT_STEPS(b, "PREROUTING#0 KUBE-SERVICES#9999 KUBE-SVC-009999#0");

    /* A miss walks the whole chain in the kernel, and only the non-indexed rule here. */
    SimPacket miss = tcp_packet("10.244.0.9:40000", "10.200.0.1:80");
    g_autoptr(GPtrArray) bs2 =
        run_one(rs, N, NF_HOOK_PRE_ROUTING, &miss, "veth1", NULL, NF_CT_NEW, &env);
    NfBranch *b2 = bs2->pdata[0];
    ck_assert_int_eq(b2->verdict, NF_VERDICT_NONE);
    ck_assert(!b2->dnat);
    ck_assert_uint_eq(b2->rules_evaluated, 1 + n + 1);
    ck_assert_uint_eq(b2->rules_examined, 2);

    /* Appending invalidates the index: a new rule for the missed address is found. */
    new_chain(rs, N, "KUBE-SVC-NEW");
    ADD(rs, N, "KUBE-SVC-NEW", "-p", "tcp", "-j", "DNAT", "--to-destination", "10.244.200.1:80");
    ADD(rs, N, "KUBE-SERVICES", "-p", "tcp", "-d", "10.200.0.1", "--dport", "80", "-j",
        "KUBE-SVC-NEW");
    g_autoptr(GPtrArray) bs3 =
        run_one(rs, N, NF_HOOK_PRE_ROUTING, &miss, "veth1", NULL, NF_CT_NEW, &env);
    ck_assert_str_eq(dst_text(bs3->pdata[0], buf), "10.244.200.1:80");
    ck_assert_uint_eq(((NfBranch *)bs3->pdata[0])->rules_evaluated, 1 + n + 2 + 1);
}
END_TEST

/* Whether the test's own model of a generated rule matches a packet. */
typedef struct {
    int dst;   /* 0 none, 1 = 10.0.0.1/32, 2 = 10.0.0.2/32, 3 = ! 10.0.0.1/32, 4 = 10.0.0.0/24 */
    int proto; /* 0 none, 1 tcp, 2 udp */
    int dport; /* 0 none, 1 = 80, 2 = 443, 3 = 1000:2000, 4 = ! 80 */
} GenRule;

static gboolean
gen_matches(const GenRule *r, guint8 last_octet, gboolean in_24, SimProto proto, guint16 port)
{
    gboolean d = r->dst == 0 || (r->dst == 1 && last_octet == 1 && in_24) ||
                 (r->dst == 2 && last_octet == 2 && in_24) ||
                 (r->dst == 3 && !(last_octet == 1 && in_24)) || (r->dst == 4 && in_24);
    gboolean p = r->proto == 0 || (r->proto == 1 && proto == SIM_PROTO_TCP) ||
                 (r->proto == 2 && proto == SIM_PROTO_UDP);
    gboolean dp = r->dport == 0 || (r->dport == 1 && port == 80) ||
                  (r->dport == 2 && port == 443) ||
                  (r->dport == 3 && port >= 1000 && port <= 2000) || (r->dport == 4 && port != 80);
    return d && p && dp;
}

START_TEST(eval_index_agrees_with_a_linear_walk)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId F = NF_TABLE_FILTER;
    SimRng rng;
    sim_rng_init(&rng, 1, "test_netfilter/index");
    GenRule rules[60];
    static const char *const dsts[] = {NULL, "10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.0/24"};
    static const char *const dports[] = {NULL, "80", "443", "1000:2000", "80"};
    for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
        GenRule *r = &rules[i];
        r->dst = (int)sim_rng_below(&rng, 5);
        r->proto = (int)sim_rng_below(&rng, 3);
        r->dport = r->proto ? (int)sim_rng_below(&rng, 5) : 0;
        const char *argv[16];
        guint argc = 0;
        if (r->dst == 3)
            argv[argc++] = "!";
        if (r->dst)
            argv[argc++] = "-d", argv[argc++] = dsts[r->dst];
        if (r->proto)
            argv[argc++] = "-p", argv[argc++] = r->proto == 1 ? "tcp" : "udp";
        if (r->dport == 4)
            argv[argc++] = "!";
        if (r->dport)
            argv[argc++] = "--dport", argv[argc++] = dports[r->dport];
        argv[argc++] = "-j", argv[argc++] = "MARK", argv[argc++] = "--xor-mark", argv[argc++] = "1";
        g_autoptr(GError) error = NULL;
        ck_assert_msg(nf_ruleset_append_argv(rs, F, "FORWARD", argv, argc, &error), "%s",
                      error ? error->message : "");
    }
    static const char *const pdst[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.1.0.1"};
    static const guint16 pports[] = {80, 443, 1500, 53};
    for (guint d = 0; d < G_N_ELEMENTS(pdst); d++) {
        for (guint pr = 0; pr < 2; pr++) {
            for (guint pp = 0; pp < G_N_ELEMENTS(pports); pp++) {
                SimPacket pkt = {.proto = pr ? SIM_PROTO_UDP : SIM_PROTO_TCP};
                sim_addr_parse("10.9.9.9", &pkt.src.addr);
                sim_addr_parse(pdst[d], &pkt.dst.addr);
                pkt.dst.port = pports[pp];
                g_autoptr(GPtrArray) bs =
                    run_one(rs, F, NF_HOOK_FORWARD, &pkt, "a", "b", NF_CT_NEW, NULL);
                NfBranch *b = bs->pdata[0];
                GString *want = g_string_new(NULL);
                for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
                    if (gen_matches(&rules[i], pkt.dst.addr.b[3], d < 3, pkt.proto, pports[pp]))
                        g_string_append_printf(want, "FORWARD#%u ", i);
                }
                g_string_append(want, "FORWARD#end");
                g_autofree char *got = steps_text(b);
                ck_assert_str_eq(got, want->str);
                g_string_free(want, TRUE);
                ck_assert_uint_eq(b->rules_evaluated, G_N_ELEMENTS(rules));
                ck_assert_uint_le(b->rules_examined, b->rules_evaluated);
            }
        }
    }
}
END_TEST

/* Sets every chain of rs to walk linearly on its next NF_INDEX_AFTER_WALKS walks (indexed:
 * FALSE) or through its index at once (TRUE), dropping built indexes. */
static void
set_index_state(NfRuleset *rs, gboolean indexed)
{
    for (guint i = 0; i < rs->chain_list->len; i++) {
        NfChain *c = rs->chain_list->pdata[i];
        nf_chain_index_free(g_steal_pointer(&c->index));
        c->walks = indexed ? NF_INDEX_AFTER_WALKS : 0;
    }
}

/* How many chains of rs have an index. */
static guint
count_indexed(const NfRuleset *rs)
{
    guint n = 0;
    for (guint i = 0; i < rs->chain_list->len; i++)
        n += ((NfChain *)rs->chain_list->pdata[i])->index != NULL;
    return n;
}

/* A kube-proxy-like nat table: 300 services in KUBE-SERVICES (some on two ports), each with a
 * KUBE-SVC ladder of 1 + i % 10 endpoints, NodePorts for every third, and the nodeports tail. */
static NfRuleset *
lazy_index_ruleset(void)
{
    NfRuleset *rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId N = NF_TABLE_NAT;
    new_chain(rs, N, "KUBE-SERVICES");
    new_chain(rs, N, "KUBE-NODEPORTS");
    ADD(rs, N, "PREROUTING", "-j", "KUBE-SERVICES");
    for (guint i = 0; i < 300; i++) {
        char svc[32], ip[32], np[8], port[8];
        g_snprintf(svc, sizeof svc, "KUBE-SVC-%u", i);
        g_snprintf(ip, sizeof ip, "10.96.%u.%u", i / 100, i % 100);
        g_snprintf(np, sizeof np, "%u", 30000 + i);
        g_snprintf(port, sizeof port, "%u", i % 7 == 0 ? 443 : 80);
        new_chain(rs, N, svc);
        for (guint e = 0, n = 1 + i % 10; e < n; e++) {
            char prob[32], to[32];
            g_snprintf(prob, sizeof prob, "%0.10f", 1.0 / (n - e));
            g_snprintf(to, sizeof to, "10.244.%u.%u:8080", i % 250, e + 1);
            if (e + 1 < n)
                ADD(rs, N, svc, "-m", "statistic", "--mode", "random", "--probability", prob, "-p",
                    "tcp", "-j", "DNAT", "--to-destination", to);
            else
                ADD(rs, N, svc, "-p", "tcp", "-j", "DNAT", "--to-destination", to);
        }
        ADD(rs, N, "KUBE-SERVICES", "-d", ip, "-p", "tcp", "-m", "tcp", "--dport", port, "-j", svc);
        if (i % 5 == 0)
            ADD(rs, N, "KUBE-SERVICES", "-d", ip, "-p", "udp", "-m", "udp", "--dport", "53", "-j",
                svc);
        if (i % 3 == 0)
            ADD(rs, N, "KUBE-NODEPORTS", "-p", "tcp", "-m", "tcp", "--dport", np, "-j", svc);
    }
    ADD(rs, N, "KUBE-SERVICES", "-d", "10.96.0.0/16", "-j", "RETURN");
    ADD(rs, N, "KUBE-SERVICES", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODEPORTS");
    return rs;
}

/* What one packet's walk produced, every branch: verdict, DNAT destination, probability, the
 * rules the kernel evaluated and the steps. (transfer full) */
static char *
walk_text(const GPtrArray *bs)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < bs->len; i++) {
        const NfBranch *b = bs->pdata[i];
        char buf[SIM_SOCKADDR_STRLEN];
        g_autofree char *steps = steps_text(b);
        g_string_append_printf(s, "%s %s p=%.12g n=%" G_GUINT64_FORMAT " [%s]\n",
                               nf_verdict_name(b->verdict), dst_text(b, buf), b->probability,
                               b->rules_evaluated, steps);
    }
    return g_string_free(s, FALSE);
}

START_TEST(eval_lazy_index_gives_what_the_index_gives)
{
    g_autoptr(NfRuleset) lin = lazy_index_ruleset();
    g_autoptr(NfRuleset) idx = lazy_index_ruleset();
    TestHost h = seed_host(); /* statistic matches fork both ways */
    NfEnv env = host_env(&h);
    guint64 examined_lin = 0, examined_idx = 0;
    guint packets = 0;
    for (guint i = 0; i < 320; i += 3) {
        for (guint kind = 0; kind < 4; kind++) {
            char dst[32];
            if (kind == 0) /* clusterIP: hit on 80 or 443, miss beyond 300 */
                g_snprintf(dst, sizeof dst, "10.96.%u.%u:%u", i / 100, i % 100,
                           i % 7 == 0 ? 443 : 80);
            else if (kind == 1) /* the port a service lacks */
                g_snprintf(dst, sizeof dst, "10.96.%u.%u:8443", i / 100, i % 100);
            else /* NodePort on the node's address, then off-node */
                g_snprintf(dst, sizeof dst, "%s:%u", kind == 2 ? "192.168.10.11" : "192.168.10.99",
                           30000 + i);
            SimPacket p = tcp_packet("10.244.0.9:40000", dst);
            set_index_state(lin, FALSE);
            set_index_state(idx, TRUE);
            g_autoptr(GPtrArray) a =
                run_one(lin, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, &env);
            g_autoptr(GPtrArray) b =
                run_one(idx, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, &env);
            g_autofree char *want = walk_text(a);
            g_autofree char *got = walk_text(b);
            ck_assert_str_eq(got, want);
            ck_assert_uint_eq(count_indexed(lin), 0); /* really walked linearly */
            ck_assert_uint_gt(count_indexed(idx), 0); /* really used the index */
            for (guint k = 0; k < a->len; k++)
                examined_lin += ((NfBranch *)a->pdata[k])->rules_examined;
            for (guint k = 0; k < b->len; k++)
                examined_idx += ((NfBranch *)b->pdata[k])->rules_examined;
            packets++;
        }
    }
    ck_assert_uint_eq(packets, 428);
    ck_assert_uint_lt(examined_idx * 4, examined_lin);
}
END_TEST

START_TEST(eval_chain_is_indexed_on_its_walk_after_the_linear_ones)
{
    g_autoptr(NfRuleset) rs = lazy_index_ruleset();
    TestHost h = seed_host();
    h.statistic = NF_CHOICE_NO; /* one branch: the last endpoint */
    NfEnv env = host_env(&h);
    NfChain *services = nf_ruleset_lookup_chain(rs, NF_TABLE_NAT, "KUBE-SERVICES");
    SimPacket p = tcp_packet("10.244.0.9:40000", "10.96.2.99:80"); /* service 299 */
    for (guint i = 0; i <= NF_INDEX_AFTER_WALKS + 1; i++) {
        g_autoptr(GPtrArray) bs =
            run_one(rs, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, &env);
        NfBranch *b = bs->pdata[0];
        char buf[SIM_SOCKADDR_STRLEN];
        ck_assert_str_eq(dst_text(b, buf), "10.244.49.10:8080");
        ck_assert_uint_eq(b->rules_evaluated, 1 + 300 + 60 + 10);
        if (i < NF_INDEX_AFTER_WALKS) { /* linear: the kernel's count */
            ck_assert_ptr_null(services->index);
            ck_assert_uint_eq(b->rules_examined, b->rules_evaluated);
        } else { /* PREROUTING, the one candidate in KUBE-SERVICES, the SVC ladder */
            ck_assert_ptr_nonnull(services->index);
            ck_assert_uint_eq(b->rules_examined, 1 + 1 + 10);
        }
    }
    /* A change drops the index; the chain was walked often enough to be indexed again. */
    ADD(rs, NF_TABLE_NAT, "KUBE-SERVICES", "-d", "10.96.9.9", "-p", "tcp", "--dport", "80", "-j",
        "ACCEPT");
    ck_assert_ptr_null(services->index);
    g_autoptr(GPtrArray) bs =
        run_one(rs, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, &env);
    ck_assert_ptr_nonnull(services->index);
    ck_assert_uint_eq(((NfBranch *)bs->pdata[0])->rules_examined, 1 + 1 + 10);
}
END_TEST

START_TEST(eval_addrtype_negation_and_mark_take_the_nodeport_path)
{
    g_autoptr(NfRuleset) rs = seed_ruleset();
    TestHost h = seed_host();
    NfEnv env = host_env(&h);
    /* An external client to node-1's NodePort: addrtype LOCAL, EXT marks, both endpoints. */
    SimPacket p = tcp_packet("203.0.113.50:51000", "192.168.10.11:30080");
    g_autoptr(GPtrArray) bs =
        nf_path_new_connection(rs, &p, NF_ORIGIN_REMOTE, "eth0", "eth0", &env);
    ck_assert_uint_eq(bs->len, 2);
    static const char *const want[] = {"10.244.1.5:80", "10.244.2.7:80"};
    for (guint i = 0; i < 2; i++) {
        NfBranch *b = bs->pdata[i];
        char buf[SIM_SOCKADDR_STRLEN];
        ck_assert_str_eq(dst_text(b, buf), want[i]);
        ck_assert_str_eq(sim_sockaddr_to_string(&b->orig_dst, buf), "192.168.10.11:30080");
        ck_assert_double_eq(b->probability, 0.5);
        ck_assert_int_eq(b->verdict, NF_VERDICT_ACCEPT);
        ck_assert(b->masquerade);
        ck_assert(b->random_fully);
        ck_assert_uint_eq(b->pkt.mark, 0); /* KUBE-POSTROUTING cleared the bit with XOR */
        ck_assert(sim_addr_equal(&b->pkt.src.addr, &p.src.addr)); /* rewriting is the caller's */
        ck_assert_int_eq(b->last_hook, NF_HOOK_POST_ROUTING);
    }
    ASSERT_STEPS(bs->pdata[0],
                 "PREROUTING#0 KUBE-SERVICES#1 KUBE-NODEPORTS#1 " EXT "#0 KUBE-MARK-MASQ#0 " EXT
                 "#1 " SVC "#1 " SEP_A "#1 FORWARD#end POSTROUTING#0 KUBE-POSTROUTING#1 "
                 "KUBE-POSTROUTING#2");
    /* PREROUTING 1, SERVICES 2, NODEPORTS 2, EXT 1+1, MARK-MASQ 1, SVC 2, SEP 2 and then
     * POSTROUTING 1, KUBE-POSTROUTING 3. */
    ck_assert_uint_eq(((NfBranch *)bs->pdata[0])->rules_evaluated, 1 + 2 + 2 + 2 + 1 + 2 + 2 + 4);

    /* Another host's address is not LOCAL: nothing matches and nothing is marked. */
    SimPacket other = tcp_packet("203.0.113.50:51000", "192.168.10.12:30080");
    g_autoptr(GPtrArray) bs2 =
        nf_path_new_connection(rs, &other, NF_ORIGIN_REMOTE, "eth0", "eth0", &env);
    ck_assert_uint_eq(bs2->len, 1);
    NfBranch *b2 = bs2->pdata[0];
    ck_assert_int_eq(b2->verdict, NF_VERDICT_NONE);
    ck_assert(!b2->dnat);
    ck_assert(!b2->masquerade);
    ASSERT_STEPS(b2, "PREROUTING#0 PREROUTING#end FORWARD#end POSTROUTING#0 KUBE-POSTROUTING#0 "
                     "POSTROUTING#end");

    /* The loopback copy of the NodePort rule counts (nfacct) and matches 127.0.0.1. */
    SimPacket lo = tcp_packet("127.0.0.1:40000", "127.0.0.1:30080");
    g_autoptr(GPtrArray) bs3 = nf_path_new_connection(rs, &lo, NF_ORIGIN_LOCAL, NULL, "eth0", &env);
    ck_assert_uint_eq(bs3->len, 2);
    ASSERT_STEPS(bs3->pdata[1],
                 "OUTPUT#0 KUBE-SERVICES#1 KUBE-NODEPORTS#0 " EXT "#0 KUBE-MARK-MASQ#0 " EXT
                 "#1 " SVC "#2 " SEP_B "#1 OUTPUT#end POSTROUTING#0 KUBE-POSTROUTING#1 "
                 "KUBE-POSTROUTING#2");
}
END_TEST

START_TEST(eval_interfaces_and_conntrack_states)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId F = NF_TABLE_FILTER;
    ADD(rs, F, "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP");
    ADD(rs, F, "FORWARD", "-i", "veth+", "-o", "eth0", "-j", "MARK", "--or-mark", "1");
    ADD(rs, F, "FORWARD", "!", "-i", "cni0", "-j", "MARK", "--or-mark", "2");
    ADD(rs, F, "FORWARD", "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT");
    ADD(rs, F, "FORWARD", "-m", "conntrack", "!", "--ctstate", "NEW,DNAT", "-j", "DROP");
    SimPacket p = tcp_packet("10.244.0.9:40000", "10.244.1.5:80");

    g_autoptr(GPtrArray) a = run_one(rs, F, NF_HOOK_FORWARD, &p, "veth12", "eth0", NF_CT_NEW, NULL);
    NfBranch *b = a->pdata[0];
    ck_assert_uint_eq(b->pkt.mark, 3);
    ck_assert_int_eq(b->verdict, NF_VERDICT_NONE);
    g_autoptr(GPtrArray) c =
        run_one(rs, F, NF_HOOK_FORWARD, &p, "cni0", "eth1", NF_CT_NEW | NF_CT_DNAT, NULL);
    b = c->pdata[0];
    ck_assert_uint_eq(b->pkt.mark, 0);
    ck_assert_int_eq(b->verdict, NF_VERDICT_ACCEPT);
    /* Unknown interfaces: a positive -i never matches, a negated one always does. */
    g_autoptr(GPtrArray) d =
        run_one(rs, F, NF_HOOK_FORWARD, &p, NULL, NULL, NF_CT_ESTABLISHED, NULL);
    b = d->pdata[0];
    ck_assert_uint_eq(b->pkt.mark, 2);
    ck_assert_int_eq(b->verdict, NF_VERDICT_DROP);
    g_autoptr(GPtrArray) e =
        run_one(rs, F, NF_HOOK_FORWARD, &p, "veth1", "eth0", NF_CT_INVALID, NULL);
    ASSERT_STEPS(e->pdata[0], "FORWARD#0");
    /* A dropped branch is left alone by later hooks. */
    nf_run_hook(rs, F, NF_HOOK_FORWARD, e, "veth1", "eth0", NF_CT_NEW, NULL);
    ck_assert_uint_eq(e->len, 1);
    ASSERT_STEPS(e->pdata[0], "FORWARD#0");
    ck_assert_str_eq(nf_verdict_name(NF_VERDICT_DROP), "drop");
}
END_TEST

/* A filter table that rejects a Service without endpoints, hooked as kube-proxy does. */
static NfRuleset *
reject_ruleset(void)
{
    NfRuleset *rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId F = NF_TABLE_FILTER, N = NF_TABLE_NAT;
    new_chain(rs, F, "KUBE-SERVICES");
    for (guint i = 0; i < 2; i++)
        ADD(rs, F, i == 0 ? "FORWARD" : "OUTPUT", "-m", "conntrack", "--ctstate", "NEW", "-m",
            "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES");
    ADD(rs, F, "KUBE-SERVICES", "-m", "comment", "--comment", "default/web has no endpoints", "-m",
        "tcp", "-p", "tcp", "-d", "10.96.0.20", "--dport", "80", "-j", "REJECT");
    ADD(rs, F, "INPUT", "-i", "lo", "-j", "ACCEPT");
    ADD(rs, N, "POSTROUTING", "-m", "comment", "--comment", "seen in POSTROUTING");
    ADD(rs, N, "INPUT", "-m", "comment", "--comment", "seen in nat INPUT");
    return rs;
}

START_TEST(path_reject_for_remote_and_local_origins)
{
    g_autoptr(NfRuleset) rs = reject_ruleset();
    TestHost h = seed_host();
    NfEnv env = host_env(&h);
    SimPacket from_pod = tcp_packet("10.244.0.9:40000", "10.96.0.20:80");
    g_autoptr(GPtrArray) r =
        nf_path_new_connection(rs, &from_pod, NF_ORIGIN_REMOTE, "veth1", "eth0", &env);
    ck_assert_uint_eq(r->len, 1);
    NfBranch *b = r->pdata[0];
    ck_assert_int_eq(b->verdict, NF_VERDICT_REJECT);
    ck_assert_str_eq(b->reject_with, "icmp-port-unreachable");
    ck_assert_int_eq(b->last_hook, NF_HOOK_FORWARD);
    ASSERT_STEPS(b, "PREROUTING#end FORWARD#0 KUBE-SERVICES#0"); /* POSTROUTING never runs */

    SimPacket from_host = tcp_packet("192.168.10.11:40000", "10.96.0.20:80");
    g_autoptr(GPtrArray) l =
        nf_path_new_connection(rs, &from_host, NF_ORIGIN_LOCAL, NULL, "eth0", &env);
    b = l->pdata[0];
    ck_assert_int_eq(b->verdict, NF_VERDICT_REJECT);
    ck_assert_int_eq(b->last_hook, NF_HOOK_LOCAL_OUT);
    ASSERT_STEPS(b, "OUTPUT#end OUTPUT#0 KUBE-SERVICES#0");

    /* Another port of the same address is not rejected and leaves by eth0. */
    SimPacket other = tcp_packet("10.244.0.9:40000", "10.96.0.20:443");
    g_autoptr(GPtrArray) o =
        nf_path_new_connection(rs, &other, NF_ORIGIN_REMOTE, "veth1", "eth0", &env);
    b = o->pdata[0];
    ck_assert_int_eq(b->verdict, NF_VERDICT_NONE);
    ck_assert_int_eq(b->last_hook, NF_HOOK_POST_ROUTING);
    ASSERT_STEPS(b, "PREROUTING#end FORWARD#0 FORWARD#end POSTROUTING#0 POSTROUTING#end");
}
END_TEST

START_TEST(path_local_destinations_loop_back_through_input)
{
    g_autoptr(NfRuleset) rs = reject_ruleset();
    TestHost h = seed_host();
    NfEnv env = host_env(&h);
    /* A host process to its own address: POSTROUTING, then filter INPUT on "lo"; nat INPUT
     * is not consulted again. */
    SimPacket self = tcp_packet("192.168.10.11:40000", "192.168.10.11:22");
    g_autoptr(GPtrArray) s = nf_path_new_connection(rs, &self, NF_ORIGIN_LOCAL, NULL, "eth0", &env);
    NfBranch *b = s->pdata[0];
    ASSERT_STEPS(b, "OUTPUT#end OUTPUT#0 OUTPUT#end POSTROUTING#0 POSTROUTING#end INPUT#0");
    ck_assert_int_eq(b->verdict, NF_VERDICT_ACCEPT);
    ck_assert_int_eq(b->last_hook, NF_HOOK_LOCAL_IN);
    /* From outside: filter INPUT (not on lo), then nat INPUT. */
    SimPacket in = tcp_packet("203.0.113.50:51000", "192.168.10.11:22");
    g_autoptr(GPtrArray) i =
        nf_path_new_connection(rs, &in, NF_ORIGIN_REMOTE, "eth0", "eth0", &env);
    b = i->pdata[0];
    ASSERT_STEPS(b, "PREROUTING#end INPUT#end INPUT#0 INPUT#end");
    ck_assert_int_eq(b->verdict, NF_VERDICT_NONE);
    ck_assert_int_eq(b->last_hook, NF_HOOK_LOCAL_IN);
    ck_assert_uint_eq(b->rules_evaluated, 0 + 1 + 1);
}
END_TEST

START_TEST(eval_jump_depth_is_limited_to_64)
{
    for (guint chains = 64; chains <= 65; chains++) {
        g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
        for (guint i = 0; i < chains; i++) {
            char name[16];
            g_snprintf(name, sizeof name, "C%u", i);
            new_chain(rs, NF_TABLE_FILTER, name);
        }
        for (guint i = 0; i + 1 < chains; i++) {
            char name[16], next[16];
            g_snprintf(name, sizeof name, "C%u", i);
            g_snprintf(next, sizeof next, "C%u", i + 1);
            ADD(rs, NF_TABLE_FILTER, name, "-j", next);
        }
        ADD(rs, NF_TABLE_FILTER, "INPUT", "-j", "C0");
        SimPacket p = tcp_packet("10.0.0.1:1", "10.0.0.2:2");
        g_autoptr(GPtrArray) bs =
            run_one(rs, NF_TABLE_FILTER, NF_HOOK_LOCAL_IN, &p, "eth0", NULL, NF_CT_NEW, NULL);
        NfBranch *b = bs->pdata[0];
        ck_assert_int_eq(b->verdict, chains == 64 ? NF_VERDICT_NONE : NF_VERDICT_DROP);
    }
}
END_TEST

START_TEST(set_matches_need_their_set_and_are_never_indexed_by_address)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const NfTableId N = NF_TABLE_NAT;
    new_chain(rs, N, "KUBE-SERVICES");
    EXPECT_ERROR(rs, N, "KUBE-SERVICES", NF_ERROR_PARSE, "KUBE-CLUSTER-IP", "-m", "set",
                 "--match-set", "KUBE-CLUSTER-IP", "dst,dst", "-j", "ACCEPT");
    IpsetSpec sp = {.type = IPSET_HASH_IP_PORT};
    Ipset *set = ipset_create(rs, "KUBE-CLUSTER-IP", &sp, NULL);
    ck_assert_ptr_nonnull(set);
    ck_assert(ipset_add(set, "10.96.7.7,tcp:80", NULL));
    for (guint i = 0; i < 200; i++) { /* indexed rules that never match 10.96.7.7 */
        char ip[32];
        g_snprintf(ip, sizeof ip, "10.97.%u.%u", i / 256, i % 256);
        ADD(rs, N, "KUBE-SERVICES", "-p", "tcp", "-d", ip, "--dport", "80", "-j", "DROP");
    }
    ADD(rs, N, "PREROUTING", "-j", "KUBE-SERVICES");
    ADD(rs, N, "KUBE-SERVICES", "-p", "tcp", "-m", "tcp", "--dport", "80", "-m", "set", "!",
        "--match-set", "KUBE-CLUSTER-IP", "dst,dst", "-j", "DROP");
    ADD(rs, N, "KUBE-SERVICES", "-m", "set", "--match-set", "KUBE-CLUSTER-IP", "dst,dst", "-j",
        "MARK", "--or-mark", "0x4000");
    g_autofree char *text = save(rs, N);
    ck_assert_ptr_nonnull(strstr(text, "-A KUBE-SERVICES -p tcp -m tcp --dport 80 -m set ! "
                                       "--match-set KUBE-CLUSTER-IP dst,dst -j DROP\n"));
    SimPacket in = tcp_packet("10.244.0.9:40000", "10.96.7.7:80");
    /* As if walked often already: this walk uses (and builds) the index. */
    nf_ruleset_lookup_chain(rs, N, "KUBE-SERVICES")->walks = NF_INDEX_AFTER_WALKS;
    g_autoptr(GPtrArray) bs = run_one(rs, N, NF_HOOK_PRE_ROUTING, &in, "veth1", NULL, NF_CT_NEW,
                                      NULL);
    NfBranch *b = bs->pdata[0];
    ck_assert_int_eq(b->verdict, NF_VERDICT_NONE);
    ck_assert_uint_eq(b->pkt.mark, 0x4000);
    ck_assert_uint_eq(b->rules_examined, 3); /* PREROUTING and the two set rules */
    SimPacket out = tcp_packet("10.244.0.9:40000", "10.96.7.8:80");
    g_autoptr(GPtrArray) bs2 = run_one(rs, N, NF_HOOK_PRE_ROUTING, &out, "veth1", NULL,
                                       NF_CT_NEW, NULL);
    ck_assert_int_eq(((NfBranch *)bs2->pdata[0])->verdict, NF_VERDICT_DROP);
    ck_assert_uint_eq(ipset_references(set), 2);
}
END_TEST

START_TEST(ipv6_rulesets_use_ipv6_forms)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET6);
    const NfTableId N = NF_TABLE_NAT;
    new_chain(rs, N, "KUBE-SEP-V6");
    ADD(rs, N, "PREROUTING", "-p", "tcp", "-d", "fd00:10:96::a", "--dport", "80", "-j",
        "KUBE-SEP-V6");
    ADD(rs, N, "KUBE-SEP-V6", "-m", "tcp", "-p", "tcp", "-j", "DNAT", "--to-destination",
        "[fd00:10:244:1::5]:8080");
    g_autofree char *text = save(rs, N);
    ck_assert_ptr_nonnull(strstr(text, "-A PREROUTING -d fd00:10:96::a/128 -p tcp -m tcp --dport "
                                       "80 -j KUBE-SEP-V6\n"));
    ck_assert_ptr_nonnull(strstr(text, "-j DNAT --to-destination [fd00:10:244:1::5]:8080\n"));
    SimPacket p = tcp_packet("[fd00:10:244:2::9]:40000", "[fd00:10:96::a]:80");
    g_autoptr(GPtrArray) bs =
        run_one(rs, N, NF_HOOK_PRE_ROUTING, &p, "veth1", NULL, NF_CT_NEW, NULL);
    char buf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(dst_text(bs->pdata[0], buf), "[fd00:10:244:1::5]:8080");
    EXPECT_ERROR(rs, N, "PREROUTING", NF_ERROR_PARSE, "10.0.0.1", "-d", "10.0.0.1");
}
END_TEST

/* ------------------------------------------------------------------ the rule builder */

/* The chains of a small kube-proxy nat table, KUBE-SERVICES reached from PREROUTING. */
static NfRuleset *
builder_ruleset(void)
{
    NfRuleset *rs = nf_ruleset_new(SIM_AF_INET);
    static const char *const chains[] = {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-MARK-MASQ",
                                         "KUBE-EXT-X",    "KUBE-SVC-X",     "KUBE-SEP-A",
                                         "KUBE-SEP-B"};
    for (gsize i = 0; i < G_N_ELEMENTS(chains); i++)
        new_chain(rs, NF_TABLE_NAT, chains[i]);
    ADD(rs, NF_TABLE_NAT, "PREROUTING", "-j", "KUBE-SERVICES");
    ADD(rs, NF_TABLE_NAT, "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x4000");
    return rs;
}

/* Commits b's rule and fails the test with the error if that fails. */
static void
commit_ok(NfRuleBuilder *b)
{
    g_autoptr(GError) error = NULL;
    ck_assert_msg(nf_rule_builder_commit(b, &error), "%s", error != NULL ? error->message : "");
}

/* The kube-proxy rules of one ClientIP-affinity NodePort Service with two endpoints, through
 * the builder; builder_rules_argv() appends the same rules as arguments. */
static void
builder_rules_built(NfRuleset *rs)
{
    const NfTableId N = NF_TABLE_NAT;
    SimCidr vip, loopback, pods, any_host, lb_local;
    SimSockAddr ep_a, ep_b;
    ck_assert(sim_cidr_parse("10.96.0.10", &vip) && sim_cidr_parse("127.0.0.0/8", &loopback));
    ck_assert(sim_cidr_parse("10.244.1.5", &any_host) && sim_cidr_parse("192.168.9.9", &lb_local));
    pods = (SimCidr){.addr = any_host.addr, .prefix = 16}; /* host bits set: 10.244.1.5/16 */
    ck_assert(sim_sockaddr_parse("10.244.1.5:8080", &ep_a, FALSE));
    ck_assert(sim_sockaddr_parse("10.244.2.6:8080", &ep_b, FALSE));
    NfRuleBuilder *b = nf_rule_builder_start(rs, N, "KUBE-SERVICES");
    nf_rule_builder_comment(b, "ns/svc:http cluster IP");
    nf_rule_builder_dport(b, SIM_PROTO_TCP, 80);
    nf_rule_builder_proto(b, SIM_PROTO_TCP);
    nf_rule_builder_dst(b, &vip, FALSE);
    nf_rule_builder_jump(b, "KUBE-SVC-X");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-SERVICES");
    nf_rule_builder_comment(b, "kubernetes service nodeports; NOTE: this must be the last rule");
    nf_rule_builder_addrtype_local(b, FALSE, FALSE);
    nf_rule_builder_dst(b, &loopback, TRUE);
    nf_rule_builder_jump(b, "KUBE-NODEPORTS");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-NODEPORTS");
    nf_rule_builder_comment(b, "ns/svc:http");
    nf_rule_builder_dport(b, SIM_PROTO_TCP, 30080);
    nf_rule_builder_proto(b, SIM_PROTO_TCP);
    nf_rule_builder_dst(b, &loopback, FALSE);
    nf_rule_builder_nfacct(b, "localhost_nps_accepted_pkts");
    nf_rule_builder_jump(b, "KUBE-EXT-X");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-NODEPORTS");
    nf_rule_builder_dport(b, SIM_PROTO_TCP, 30080);
    nf_rule_builder_proto(b, SIM_PROTO_TCP);
    nf_rule_builder_jump(b, "KUBE-EXT-X");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-EXT-X");
    nf_rule_builder_in_iface(b, "veth+", TRUE);
    nf_rule_builder_src(b, &pods, FALSE);
    nf_rule_builder_jump(b, "KUBE-MARK-MASQ");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-EXT-X");
    nf_rule_builder_addrtype_local(b, TRUE, FALSE);
    nf_rule_builder_jump(b, "KUBE-SVC-X");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-EXT-X");
    nf_rule_builder_jump(b, "KUBE-SVC-X");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-SVC-X");
    nf_rule_builder_recent(b, "KUBE-SEP-A", FALSE, 10800, TRUE);
    nf_rule_builder_jump(b, "KUBE-SEP-A");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-SVC-X");
    nf_rule_builder_comment(b, "ns/svc:http -> 10.244.1.5:8080");
    nf_rule_builder_statistic(b, 0.5);
    nf_rule_builder_jump(b, "KUBE-SEP-A");
    commit_ok(b);
    b = nf_rule_builder_start(rs, N, "KUBE-SVC-X");
    nf_rule_builder_jump(b, "KUBE-SEP-B");
    commit_ok(b);
    const char *const seps[] = {"KUBE-SEP-A", "KUBE-SEP-B"};
    const SimSockAddr *eps[] = {&ep_a, &ep_b};
    for (guint i = 0; i < 2; i++) {
        SimCidr host;
        sim_cidr_from_addr(&eps[i]->addr, &host);
        b = nf_rule_builder_start(rs, N, seps[i]);
        nf_rule_builder_src(b, &host, FALSE);
        nf_rule_builder_jump(b, "KUBE-MARK-MASQ");
        commit_ok(b);
        b = nf_rule_builder_start(rs, N, seps[i]);
        nf_rule_builder_recent(b, seps[i], TRUE, 0, FALSE);
        nf_rule_builder_proto_match(b, SIM_PROTO_TCP);
        nf_rule_builder_proto(b, SIM_PROTO_TCP);
        nf_rule_builder_dnat(b, eps[i], TRUE);
        commit_ok(b);
    }
}

/* builder_rules_built()'s rules as iptables-restore arguments. */
static void
builder_rules_argv(NfRuleset *rs)
{
    const NfTableId N = NF_TABLE_NAT;
    ADD(rs, N, "KUBE-SERVICES", "-m", "comment", "--comment", "ns/svc:http cluster IP", "-m",
        "tcp", "-p", "tcp", "-d", "10.96.0.10", "--dport", "80", "-j", "KUBE-SVC-X");
    ADD(rs, N, "KUBE-SERVICES", "-m", "comment", "--comment",
        "kubernetes service nodeports; NOTE: this must be the last rule", "-m", "addrtype",
        "--dst-type", "LOCAL", "!", "-d", "127.0.0.0/8", "-j", "KUBE-NODEPORTS");
    ADD(rs, N, "KUBE-NODEPORTS", "-m", "comment", "--comment", "ns/svc:http", "-m", "tcp", "-p",
        "tcp", "-d", "127.0.0.0/8", "--dport", "30080", "-m", "nfacct", "--nfacct-name",
        "localhost_nps_accepted_pkts", "-j", "KUBE-EXT-X");
    ADD(rs, N, "KUBE-NODEPORTS", "-m", "tcp", "-p", "tcp", "--dport", "30080", "-j",
        "KUBE-EXT-X");
    ADD(rs, N, "KUBE-EXT-X", "!", "-i", "veth+", "-s", "10.244.1.5/16", "-j", "KUBE-MARK-MASQ");
    ADD(rs, N, "KUBE-EXT-X", "-m", "addrtype", "--src-type", "LOCAL", "-j", "KUBE-SVC-X");
    ADD(rs, N, "KUBE-EXT-X", "-j", "KUBE-SVC-X");
    ADD(rs, N, "KUBE-SVC-X", "-m", "recent", "--name", "KUBE-SEP-A", "--rcheck", "--seconds",
        "10800", "--reap", "-j", "KUBE-SEP-A");
    ADD(rs, N, "KUBE-SVC-X", "-m", "comment", "--comment", "ns/svc:http -> 10.244.1.5:8080", "-m",
        "statistic", "--mode", "random", "--probability", "0.5000000000", "-j", "KUBE-SEP-A");
    ADD(rs, N, "KUBE-SVC-X", "-j", "KUBE-SEP-B");
    ADD(rs, N, "KUBE-SEP-A", "-s", "10.244.1.5/32", "-j", "KUBE-MARK-MASQ");
    ADD(rs, N, "KUBE-SEP-A", "-m", "recent", "--name", "KUBE-SEP-A", "--set", "-m", "tcp", "-p",
        "tcp", "-j", "DNAT", "--to-destination", "10.244.1.5:8080");
    ADD(rs, N, "KUBE-SEP-B", "-s", "10.244.2.6/32", "-j", "KUBE-MARK-MASQ");
    ADD(rs, N, "KUBE-SEP-B", "-m", "recent", "--name", "KUBE-SEP-B", "--set", "-m", "tcp", "-p",
        "tcp", "-j", "DNAT", "--to-destination", "10.244.2.6:8080");
}

/* Every branch of pkt through nat PREROUTING: its steps, destination and mark, one line each.
 * (transfer full) */
static char *
branches_text(const NfRuleset *rs, const SimPacket *pkt)
{
    TestHost h = seed_host();
    NfEnv env = host_env(&h);
    g_autoptr(GPtrArray) bs =
        run_one(rs, NF_TABLE_NAT, NF_HOOK_PRE_ROUTING, pkt, "eth0", NULL, NF_CT_NEW, &env);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < bs->len; i++) {
        const NfBranch *b = bs->pdata[i];
        char buf[SIM_SOCKADDR_STRLEN];
        g_autofree char *steps = steps_text(b);
        g_string_append_printf(s, "%s => %s mark %#x\n", steps, dst_text(b, buf), b->pkt.mark);
    }
    return g_string_free(s, FALSE);
}

START_TEST(builder_and_argv_build_the_same_rules)
{
    g_autoptr(NfRuleset) built = builder_ruleset();
    g_autoptr(NfRuleset) parsed = builder_ruleset();
    builder_rules_built(built);
    builder_rules_argv(parsed);
    g_autofree char *built_text = save(built, NF_TABLE_NAT);
    g_autofree char *parsed_text = save(parsed, NF_TABLE_NAT);
    ck_assert_str_eq(built_text, parsed_text);
    ck_assert_ptr_nonnull(strstr(built_text, "-A KUBE-EXT-X -s 10.244.0.0/16 ! -i veth+ -j "
                                             "KUBE-MARK-MASQ\n"));
    ck_assert_ptr_nonnull(strstr(built_text, "-A KUBE-SEP-B -p tcp -m recent --set --name "
                                             "KUBE-SEP-B --mask 255.255.255.255 --rsource -m tcp "
                                             "-j DNAT --to-destination 10.244.2.6:8080\n"));
    static const char *const dsts[] = {"10.96.0.10:80", "192.168.10.11:30080",
                                       "127.0.0.1:30080", "10.96.0.11:80"};
    for (gsize i = 0; i < G_N_ELEMENTS(dsts); i++) {
        SimPacket pkt = tcp_packet("10.244.7.7:40000", dsts[i]);
        g_autofree char *want = branches_text(parsed, &pkt);
        g_autofree char *got = branches_text(built, &pkt);
        ck_assert_str_eq(got, want);
        /* The Service's VIP and NodePort are DNATed; loopback NodePorts are not (the tail
         * rule's "! -d 127.0.0.0/8"), nor other addresses. */
        ck_assert_ptr_nonnull(strstr(want, i < 2 ? "10.244.2.6:8080" : dsts[i]));
    }
}
END_TEST

/* Asserts that b's rule fails to commit with code and a message containing needle, and that
 * chain of rs kept its length. */
static void
expect_builder_error(NfRuleBuilder *b, NfRuleset *rs, NfTableId table, const char *chain,
                     gint before, NfError code, const char *needle)
{
    g_autoptr(GError) error = NULL;
    ck_assert(!nf_rule_builder_commit(b, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_error_matches(error, NF_ERROR, code), "%s", error->message);
    ck_assert_msg(strstr(error->message, needle) != NULL, "%s", error->message);
    ck_assert_int_eq(nf_ruleset_chain_length(rs, table, chain), before);
}

START_TEST(builder_refuses_what_the_parser_refuses)
{
    g_autoptr(NfRuleset) rs = builder_ruleset();
    const NfTableId N = NF_TABLE_NAT, F = NF_TABLE_FILTER;
    SimSockAddr to = {0};
    ck_assert(sim_sockaddr_parse("10.244.1.5:0", &to, FALSE));
    NfRuleBuilder *b = nf_rule_builder_start(rs, N, "NO-SUCH-CHAIN");
    nf_rule_builder_jump(b, "KUBE-SVC-X");
    expect_builder_error(b, rs, N, "NO-SUCH-CHAIN", -1, NF_ERROR_NO_CHAIN, "NO-SUCH-CHAIN");
    b = nf_rule_builder_start(rs, N, "KUBE-SVC-X");
    nf_rule_builder_jump(b, "KUBE-SEP-NONE");
    expect_builder_error(b, rs, N, "KUBE-SVC-X", 0, NF_ERROR_NO_CHAIN, "KUBE-SEP-NONE");
    b = nf_rule_builder_start(rs, N, "KUBE-SEP-A");
    nf_rule_builder_dport(b, SIM_PROTO_TCP, 80);
    nf_rule_builder_jump(b, "ACCEPT");
    expect_builder_error(b, rs, N, "KUBE-SEP-A", 0, NF_ERROR_PARSE, "match tcp needs");
    b = nf_rule_builder_start(rs, N, "KUBE-SEP-A");
    nf_rule_builder_proto(b, SIM_PROTO_TCP);
    nf_rule_builder_dnat(b, &to, TRUE);
    expect_builder_error(b, rs, N, "KUBE-SEP-A", 0, NF_ERROR_PARSE, "port 0");
    b = nf_rule_builder_start(rs, N, "KUBE-SEP-A");
    nf_rule_builder_statistic(b, 1.5);
    nf_rule_builder_jump(b, "KUBE-SEP-B");
    expect_builder_error(b, rs, N, "KUBE-SEP-A", 0, NF_ERROR_PARSE, "probability");
    b = nf_rule_builder_start(rs, N, "KUBE-SEP-A");
    nf_rule_builder_jump(b, "ACCEPT");
    nf_rule_builder_jump(b, "DROP");
    expect_builder_error(b, rs, N, "KUBE-SEP-A", 0, NF_ERROR_PARSE, "multiple");
    new_chain(rs, F, "KUBE-FORWARD");
    b = nf_rule_builder_start(rs, F, "KUBE-FORWARD");
    nf_rule_builder_dnat(b, &to, FALSE);
    expect_builder_error(b, rs, F, "KUBE-FORWARD", 0, NF_ERROR_PARSE, "only valid in the nat");
    /* A loop: KUBE-SERVICES -> KUBE-SVC-X -> KUBE-SERVICES. */
    ADD(rs, N, "KUBE-SERVICES", "-j", "KUBE-SVC-X");
    b = nf_rule_builder_start(rs, N, "KUBE-SVC-X");
    nf_rule_builder_jump(b, "KUBE-SERVICES");
    expect_builder_error(b, rs, N, "KUBE-SVC-X", 0, NF_ERROR_PARSE, "loop");
    /* The builder is reusable after a refusal. */
    b = nf_rule_builder_start(rs, N, "KUBE-SVC-X");
    nf_rule_builder_jump(b, "KUBE-SEP-A");
    commit_ok(b);
    ck_assert_int_eq(nf_ruleset_chain_length(rs, N, "KUBE-SVC-X"), 1);
}
END_TEST

START_TEST(statistic_probability_prints_as_printf_rounds_it)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    new_chain(rs, NF_TABLE_NAT, "USER");
    GString *want = g_string_new(NULL);
    guint32 k = 12345;
    for (guint i = 0; i < 3000; i++) {
        /* Edges, exact ties of the 11th decimal (2^19 times an odd number), and a spread of
         * others. */
        static const guint32 edges[] = {0, 1, 0x80000000u, 0x7fffffffu, 1u << 19};
        guint32 fraction;
        if (i < G_N_ELEMENTS(edges))
            fraction = edges[i];
        else if (i < 1000)
            fraction = ((2u * i + 1u) % 4096u) << 19;
        else
            fraction = (k = k * 1103515245u + 12345u) & 0x7fffffffu;
        double p = fraction / 2147483648.0;
        NfRuleBuilder *b = nf_rule_builder_start(rs, NF_TABLE_NAT, "USER");
        nf_rule_builder_statistic(b, p);
        commit_ok(b);
        char text[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append_printf(want, "-A USER -m statistic --mode random --probability %s\n",
                               g_ascii_formatd(text, sizeof text, "%.11f", p));
    }
    g_autofree char *got = save(rs, NF_TABLE_NAT);
    ck_assert_ptr_nonnull(strstr(got, want->str));
    /* 2^-12 = 0.000244140625 exactly: a tie, rounded to even. */
    ck_assert_ptr_nonnull(strstr(got, "--probability 0.00024414062\n"));
    g_string_free(want, TRUE);
}
END_TEST

/* Compares strings for g_ptr_array_sort(). */
static gint
strcmp_ptrs(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

START_TEST(save_sorts_user_chains_as_strcmp_does)
{
    /* Prefixes of each other, names differing only past byte 8, 16 and 24, 28-character names
     * (the longest), punctuation and lower case: the order is strcmp()'s, as libiptc's. */
    static const char *const names[] = {
        "KUBE-SEP-ABCDEFGHIJKLMNOPQRS", "KUBE-SEP-ABCDEFGHIJKLMNOPQRT", "KUBE-SEP-ABCDEFGHIJKLMNOP",
        "KUBE-SEP-ABCDEFGH",            "KUBE-SEP-ABCDEFGI",            "KUBE-SEP",
        "KUBE-SE",                      "KUBE-SVC-ABCDEFGHIJKLMNOP",    "KUBE-SEP-B",
        "a",                            "Z",                            "_x",
        "KUBE-SEP-abcdefghijklmnopqrs", "9",                            "KUBE-SEP-ABCDEFGHIJKLMNOP.",
    };
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        new_chain(rs, NF_TABLE_NAT, names[i]);
        g_ptr_array_add(sorted, (gpointer)names[i]);
    }
    new_chain(rs, NF_TABLE_FILTER, "KUBE-SEP-B"); /* the other table's chains stay out */
    g_ptr_array_sort(sorted, strcmp_ptrs);
    GString *want = g_string_new("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
                                 ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
    for (guint i = 0; i < sorted->len; i++)
        g_string_append_printf(want, ":%s - [0:0]\n", (const char *)sorted->pdata[i]);
    g_string_append(want, "COMMIT\n");
    g_autofree char *got = save(rs, NF_TABLE_NAT);
    ck_assert_str_eq(got, want->str);
    g_string_free(want, TRUE);
}
END_TEST

START_TEST(save_stream_writes_what_save_appends)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    new_chain(rs, NF_TABLE_NAT, "KUBE-SERVICES");
    for (guint i = 0; i < 5000; i++) {
        g_autofree char *comment = g_strdup_printf("ns/svc-%u cluster IP", i);
        g_autofree char *ip = g_strdup_printf("10.96.%u.%u", i / 250, i % 250);
        ADD(rs, NF_TABLE_NAT, "KUBE-SERVICES", "-m", "comment", "--comment", comment, "-m", "tcp",
            "-p", "tcp", "-d", ip, "--dport", "80", "-j", "ACCEPT");
    }
    g_autofree char *whole = save(rs, NF_TABLE_NAT);
    ck_assert_uint_gt(strlen(whole), 2 * 256 * 1024); /* several chunks */
    FILE *fp = tmpfile();
    ck_assert_ptr_nonnull(fp);
    g_autoptr(GString) buf = g_string_new("# before\n");
    ck_assert(nf_ruleset_save_stream(rs, NF_TABLE_NAT, buf, fp));
    ck_assert_uint_lt(buf->len, 256 * 1024);
    ck_assert_uint_eq(fwrite(buf->str, 1, buf->len, fp), buf->len);
    long size = ftell(fp);
    ck_assert_int_eq(size, (long)(strlen("# before\n") + strlen(whole)));
    g_autofree char *back = g_malloc((gsize)size + 1);
    rewind(fp);
    ck_assert_uint_eq(fread(back, 1, (gsize)size, fp), (gsize)size);
    back[size] = '\0';
    fclose(fp);
    ck_assert(g_str_has_prefix(back, "# before\n*nat\n"));
    ck_assert_str_eq(back + strlen("# before\n"), whole);
    /* A stream that cannot be written. */
    fp = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(fp);
    g_string_truncate(buf, 0);
    ck_assert(!nf_ruleset_save_stream(rs, NF_TABLE_NAT, buf, fp));
    fclose(fp);
}
END_TEST

/* TRUE when nf_ruleset_new_chain() accepts name in a fresh ruleset's filter table; a refusal
 * must be NF_ERROR_PARSE. */
static gboolean
chain_name_accepted(const char *name)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    g_autoptr(GError) error = NULL;
    gboolean ok = nf_ruleset_new_chain(rs, NF_TABLE_FILTER, name, &error);
    ck_assert(ok || g_error_matches(error, NF_ERROR, NF_ERROR_PARSE));
    ck_assert(ok == nf_ruleset_has_chain(rs, NF_TABLE_FILTER, name));
    return ok;
}

START_TEST(chain_names_are_checked_byte_by_byte_as_iptables_checks_them)
{
    /* Every printable byte, in a whole eight-byte word and in the partial word after it. */
    ck_assert(chain_name_accepted("KUBE-SEP-ABCDEFGHIJKLMNOP"));
    ck_assert(chain_name_accepted("#$%&'()*+,./09:;<=>?@AZ[\\]^")); /* 27 bytes */
    ck_assert(chain_name_accepted("_`az{|}~!-"));
    ck_assert(chain_name_accepted("A~~~~~~~~~~~~~~~~~~~~~~~~~~!"));
    ck_assert(chain_name_accepted("X"));
    ck_assert(chain_name_accepted("1234567890123456789012345678")); /* the longest */
    ck_assert(!chain_name_accepted("12345678901234567890123456789"));
    ck_assert(!chain_name_accepted(""));
    ck_assert(!chain_name_accepted("-CHAIN"));
    ck_assert(!chain_name_accepted("!CHAIN"));
    /* A bad byte at each position of a 16-byte name (two whole words) and of a 13-byte one. */
    const char bad[] = {' ', '\t', '\n', 0x01, 0x7f, (char)0x80, (char)0xc3, (char)0xff};
    for (gsize len = 13; len <= 16; len += 3) {
        for (gsize pos = 0; pos < len; pos++) {
            for (gsize k = 0; k < G_N_ELEMENTS(bad); k++) {
                char name[17];
                memset(name, 'K', len);
                name[len] = '\0';
                name[pos] = bad[k];
                ck_assert_msg(!chain_name_accepted(name), "byte 0x%02x at %zu of %zu",
                              (guint)(guchar)bad[k], pos, len);
            }
        }
    }
    /* The reserved target names, and only they. */
    const char *const reserved[] = {"ACCEPT", "DROP", "QUEUE",      "RETURN", "REJECT",
                                    "DNAT",   "SNAT", "MASQUERADE", "MARK"};
    for (gsize i = 0; i < G_N_ELEMENTS(reserved); i++) {
        ck_assert(!chain_name_accepted(reserved[i]));
        g_autofree char *longer = g_strconcat(reserved[i], "X", NULL);
        g_autofree char *shorter = g_strndup(reserved[i], strlen(reserved[i]) - 1);
        g_autofree char *lower = g_ascii_strdown(reserved[i], -1);
        ck_assert(chain_name_accepted(longer));
        ck_assert(chain_name_accepted(shorter));
        ck_assert(chain_name_accepted(lower));
    }
}
END_TEST

START_TEST(str_hash_reads_only_its_bytes_and_depends_on_all_of_them)
{
    /* Exactly len bytes on the heap, no NUL after them: the sanitizer build catches any read
     * past the end. */
    const char text[] = "default/my-service-0123456789:https cluster IP";
    for (gsize len = 0; len < sizeof text; len++) {
        g_autofree char *heap = g_memdup2(text, len);
        char stack[sizeof text];
        memcpy(stack, text, len);
        ck_assert_uint_eq(nf_str_hash(heap, len), nf_str_hash(stack, len));
        if (len == 0)
            continue;
        guint same = nf_str_hash(heap, len);
        for (gsize pos = 0; pos < len; pos++) {
            heap[pos] ^= 0x10; /* any one byte changed changes the hash here */
            ck_assert_uint_ne(nf_str_hash(heap, len), same);
            heap[pos] ^= 0x10;
        }
    }
    /* The length counts: a shorter prefix, or trailing zero bytes, hash differently. */
    const char zeros[16] = {0};
    for (gsize len = 1; len < sizeof zeros; len++)
        ck_assert_uint_ne(nf_str_hash(zeros, len), nf_str_hash(zeros, len - 1));
}
END_TEST

START_TEST(interned_strings_are_shared_exact_and_survive_growth)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    const guint n = 5000;
    const char **first = g_new0(const char *, n);
    for (guint round = 0; round < 2; round++) {
        for (guint i = 0; i < n; i++) {
            /* Lengths 1 to 40, each string a prefix of longer ones of the same i. */
            g_autofree char *full = g_strdup_printf("ns-%u/svc-%u:port-%u -> 10.0.0.1", i % 7,
                                                    i, i * 31u);
            gsize len = 1 + i % MIN(40u, (guint)strlen(full));
            const char *s = nf_intern_len(rs, full, len);
            ck_assert_uint_eq(strlen(s), len); /* NUL-terminated at len */
            ck_assert(strncmp(s, full, len) == 0);
            if (round == 0)
                first[i] = s;
            else
                ck_assert_ptr_eq(s, first[i]); /* equal strings share one copy, after growth */
        }
    }
    for (guint i = 0; i + 1 < n; i++) {
        if (strcmp(first[i], first[i + 1]) != 0)
            ck_assert_ptr_ne(first[i], first[i + 1]);
    }
    ck_assert_ptr_eq(nf_intern(rs, "a"), nf_intern_len(rs, "abc", 1));
    ck_assert_ptr_ne(nf_intern(rs, "a"), nf_intern(rs, "ab"));
    g_free(first);
    /* Rules with equal comments and nfacct names share them, and print them. */
    new_chain(rs, NF_TABLE_NAT, "C");
    for (guint i = 0; i < 3; i++) {
        g_autofree char *comment = g_strdup_printf("svc %u", i % 2);
        NfRuleBuilder *b = nf_rule_builder_start(rs, NF_TABLE_NAT, "C");
        nf_rule_builder_comment(b, comment);
        nf_rule_builder_nfacct(b, "localhost_nps_accepted_pkts");
        ck_assert(nf_rule_builder_commit(b, NULL));
    }
    NfChain *c = nf_ruleset_lookup_chain(rs, NF_TABLE_NAT, "C");
    ck_assert_ptr_eq(c->rules[0]->matches[0].u.comment, c->rules[2]->matches[0].u.comment);
    ck_assert_ptr_ne(c->rules[0]->matches[0].u.comment, c->rules[1]->matches[0].u.comment);
    ck_assert_ptr_eq(c->rules[0]->matches[1].u.nfacct, c->rules[1]->matches[1].u.nfacct);
    g_autofree char *text = save(rs, NF_TABLE_NAT);
    ck_assert_ptr_nonnull(strstr(text, "-A C -m comment --comment \"svc 1\" -m nfacct "
                                       "--nfacct-name localhost_nps_accepted_pkts\n"));
}
END_TEST

START_TEST(builder_dnat_is_checked_as_the_parser_checks_it)
{
    g_autoptr(NfRuleset) rs = nf_ruleset_new(SIM_AF_INET);
    SimSockAddr to = {0};
    ck_assert(sim_sockaddr_parse("10.244.1.5:80", &to, FALSE));
    /* DNAT at a hook that does not allow it: the same refusal, word for word. */
    g_autoptr(GError) argv_err = NULL;
    ck_assert(!nf_ruleset_append(rs, NF_TABLE_NAT, "POSTROUTING", &argv_err, "-p", "tcp", "-j",
                                 "DNAT", "--to-destination", "10.244.1.5:80", NULL));
    g_autoptr(GError) err = NULL;
    NfRuleBuilder *b = nf_rule_builder_start(rs, NF_TABLE_NAT, "POSTROUTING");
    nf_rule_builder_proto(b, SIM_PROTO_TCP);
    nf_rule_builder_dnat(b, &to, TRUE);
    ck_assert(!nf_rule_builder_commit(b, &err));
    ck_assert(g_error_matches(err, NF_ERROR, NF_ERROR_PARSE));
    ck_assert_str_eq(err->message, argv_err->message);
    g_clear_error(&err);
    /* A second target. */
    b = nf_rule_builder_start(rs, NF_TABLE_NAT, "PREROUTING");
    nf_rule_builder_jump(b, "ACCEPT");
    nf_rule_builder_dnat(b, &to, FALSE);
    ck_assert(!nf_rule_builder_commit(b, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "multiple \"-j\""));
    ck_assert_int_eq(nf_ruleset_chain_length(rs, NF_TABLE_NAT, "PREROUTING"), 0);
    /* Where DNAT belongs it is appended and prints as the parser's. */
    b = nf_rule_builder_start(rs, NF_TABLE_NAT, "OUTPUT");
    nf_rule_builder_proto(b, SIM_PROTO_TCP);
    nf_rule_builder_dnat(b, &to, TRUE);
    ck_assert(nf_rule_builder_commit(b, NULL));
    ADD(rs, NF_TABLE_NAT, "OUTPUT", "-p", "tcp", "-j", "DNAT", "--to-destination",
        "10.244.1.5:80");
    g_autofree char *text = save(rs, NF_TABLE_NAT);
    const char *line = "-A OUTPUT -p tcp -j DNAT --to-destination 10.244.1.5:80\n";
    const char *first = strstr(text, line);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(strstr(first + strlen(line), line));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("netfilter");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, save_reproduces_the_seed_service_golden);
    tcase_add_test(tc, save_prints_builtins_in_kernel_order_and_user_chains_sorted);
    tcase_add_test(tc, chains_stay_found_through_index_growth_and_reserve);
    tcase_add_test(tc, a_chain_keeps_hundreds_of_rules_in_order);
    tcase_add_test(tc, comments_are_quoted_like_xtables_save_string);
    tcase_add_test(tc, statistic_probability_prints_the_kernel_fraction);
    tcase_add_test(tc, recent_conntrack_and_mark_print_in_extension_order);
    tcase_add_test(tc, ip_part_prints_first_with_prefixes_and_negations);
    tcase_add_test(tc, port_matches_load_automatically_and_keep_their_place);
    tcase_add_test(tc, targets_print_with_their_defaults);
    tcase_add_test(tc, bad_rules_fail_with_a_named_argument_and_append_nothing);
    tcase_add_test(tc, ipv6_rulesets_use_ipv6_forms);
    tcase_add_test(tc, set_matches_need_their_set_and_are_never_indexed_by_address);
    tcase_add_test(tc, statistic_probability_prints_as_printf_rounds_it);
    tcase_add_test(tc, save_stream_writes_what_save_appends);
    tcase_add_test(tc, save_sorts_user_chains_as_strcmp_does);
    tcase_add_test(tc, builder_refuses_what_the_parser_refuses);
    tcase_add_test(tc, chain_names_are_checked_byte_by_byte_as_iptables_checks_them);
    tcase_add_test(tc, str_hash_reads_only_its_bytes_and_depends_on_all_of_them);
    tcase_add_test(tc, interned_strings_are_shared_exact_and_survive_growth);
    tcase_add_test(tc, builder_dnat_is_checked_as_the_parser_checks_it);
    suite_add_tcase(s, tc);
    tc = tcase_create("eval");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, eval_jump_and_return_walk_the_stack);
    tcase_add_test(tc, eval_dnat_rewrites_the_destination_for_pod_traffic);
    tcase_add_test(tc, eval_statistic_ladder_traced_both_ways_gives_equal_branches);
    tcase_add_test(tc, eval_recent_affinity_forks_and_records);
    tcase_add_test(tc, eval_index_finds_the_last_of_10000_services_cheaply);
    tcase_add_test(tc, eval_index_agrees_with_a_linear_walk);
    tcase_add_test(tc, eval_lazy_index_gives_what_the_index_gives);
    tcase_add_test(tc, eval_chain_is_indexed_on_its_walk_after_the_linear_ones);
    tcase_add_test(tc, eval_addrtype_negation_and_mark_take_the_nodeport_path);
    tcase_add_test(tc, eval_interfaces_and_conntrack_states);
    tcase_add_test(tc, eval_jump_depth_is_limited_to_64);
    tcase_add_test(tc, builder_and_argv_build_the_same_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("path");
    tcase_add_test(tc, path_reject_for_remote_and_local_origins);
    tcase_add_test(tc, path_local_destinations_loop_back_through_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
