/* SPDX-License-Identifier: Apache-2.0 */
/* Evaluating a netfilter ruleset: one packet through the chains of a hook, and the whole hook
 * path of the first packet of a new connection through a host.
 *
 * Models ipt_do_table(): rules in order, jumps with a return stack, RETURN, terminal targets,
 * and the per-table effect of targets (DNAT and MARK rewrite the packet, MASQUERADE marks it for
 * source NAT). Two things are added for a simulator: a random choice (statistic, recent) may be
 * explored both ways, which turns one packet into several weighted branches (as kube-proxy's own
 * test tracer does), and every branch counts how many rules the kernel would have evaluated.
 *
 * Cost: a chain is indexed on first use after it changes, by exact destination address +
 * protocol + destination port and by protocol + destination port; a packet only evaluates the
 * rules that can match it, so a 10,000-Service KUBE-SERVICES costs a few hash lookups, while
 * rules_evaluated still reports what the linear kernel walk would have done.
 */
#ifndef KPSIM_NF_EVAL_H
#define KPSIM_NF_EVAL_H

#include "sim/netfilter.h"
#include "sim/sim_packet.h"

typedef enum {
    NF_CHOICE_NO,
    NF_CHOICE_YES,
    NF_CHOICE_BOTH, /* explore both branches (tracing) */
} NfChoice;

/* conntrack states as the conntrack match sees them (bits; a packet has one of the first five,
 * plus SNAT/DNAT when its connection is NATed). */
#define NF_CT_INVALID (1u << 0)
#define NF_CT_NEW (1u << 1)
#define NF_CT_RELATED (1u << 2)
#define NF_CT_ESTABLISHED (1u << 3)
#define NF_CT_UNTRACKED (1u << 4)
#define NF_CT_SNAT (1u << 5)
#define NF_CT_DNAT (1u << 6)

/* What the rules need from the host around them. Every callback may be NULL: is_local then
 * says FALSE, statistic and recent_check say NF_CHOICE_BOTH, recent_set does nothing. */
typedef struct {
    gpointer data;
    /* addrtype LOCAL: is addr one of this host's local addresses? */
    gboolean (*is_local)(gpointer data, const SimAddr *addr);
    /* statistic --mode random: probability is the kernel's 31-bit fraction (match when
     * (prandom_u32() & 0x7fffffff) < probability). */
    NfChoice (*statistic)(gpointer data, guint32 probability);
    /* recent --rcheck: was src set in list within the last seconds (0 = ever)? */
    NfChoice (*recent_check)(gpointer data, const char *list, const SimAddr *src, guint seconds);
    /* recent --set: record src in list now. */
    void (*recent_set)(gpointer data, const char *list, const SimAddr *src);
    /* TRUE when nobody reads NfBranch.steps (the run time): the walk records none. */
    gboolean no_steps;
} NfEnv;

typedef enum {
    NF_VERDICT_NONE,   /* no rule decided; the built-in chain's policy (ACCEPT) applies */
    NF_VERDICT_ACCEPT, /* a rule said ACCEPT (or, in nat, DNAT/SNAT/MASQUERADE ended the walk) */
    NF_VERDICT_DROP,
    NF_VERDICT_REJECT,
} NfVerdict;

/* One rule that matched on the way (a jump, a mark, a NAT, a verdict). */
typedef struct {
    NfTableId table;
    const char *chain;   /* (transfer none) owned by the ruleset */
    guint index;         /* 0-based position in chain */
    const NfRule *rule;  /* (transfer none) */
    gboolean fell_through; /* TRUE for the pseudo-step "end of chain, policy applies" */
    /* Added by sim/nft.c: a step of an nftables rule (rule is then NULL); nft_choice is the
     * numgen result or the index of the map element that matched, -1 for neither. */
    const struct NftRule *nft_rule;
    gint nft_choice;
    /* Added by sim/ipvs.c: an IPVS scheduling step (rule and nft_rule NULL, table NF_TABLE_NAT,
     * chain "IPVS", index 0): the virtual service, the chosen real server's index in the
     * service's list (-1: none, the packet is refused with ICMP port unreachable), and this
     * branch's position among the branches the step forked (1-based; count 1 when the
     * scheduler's choice is known, as for sh and dh). ipvs_step_describe() prints it. */
    const struct IpvsService *ipvs_service;
    gint ipvs_dest;
    guint ipvs_branch, ipvs_branches;
} NfStep;

/* One way a packet can go. Branches of one packet partition the probability space, except
 * that a recent --rcheck explored both ways (NF_CHOICE_BOTH) has no known probability: both of
 * its branches keep the parent's probability, so the sum may then exceed 1. */
typedef struct {
    SimPacket pkt;       /* rewritten: mark and destination (DNAT); the source is left as it
                            was, see masquerade and snat */
    NfVerdict verdict;
    gboolean dnat;       /* a DNAT target rewrote the destination (pkt.dst holds it) */
    SimSockAddr orig_dst;
    gboolean masquerade; /* MASQUERADE or SNAT ran in POSTROUTING */
    gboolean random_fully;
    const char *reject_with; /* (transfer none) REJECT's --reject-with, or NULL */
    GArray *steps;       /* of NfStep */
    guint64 rules_evaluated; /* rules the kernel's linear walk would have evaluated */
    double probability;  /* of this branch, product of the choices taken */
    NfHook last_hook;
    /* Added by the netfilter module: */
    gboolean snat;       /* an SNAT target ran; with masquerade also set */
    SimSockAddr snat_to; /* its --to-source (port 0: keep the source port); the caller rewrites */
    guint64 rules_examined; /* rules the indexed evaluator actually tested (a debug counter for
                               tests and benchmarks; never more than rules_evaluated) */
    /* Added by sim/ipvs.c: the virtual service IPVS scheduled this packet for (the kernel's
     * skb->ipvs_property and its connection), or NULL; what `-m ipvs` tests. */
    const struct IpvsService *ipvs_service;
} NfBranch;

void nf_branch_free(NfBranch *b);
/* nf_branch_free() as a GDestroyNotify, for arrays of branches. */
void nf_branch_free_notify(gpointer b);
/* A branch for pkt with probability 1 and no steps. (transfer full) */
NfBranch *nf_branch_new(const SimPacket *pkt);
/* A deep copy of b (its own steps array). (transfer full) */
NfBranch *nf_branch_copy(const NfBranch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NfBranch, nf_branch_free)

/* Runs table's built-in chain at hook for every branch in branches (each continues from its own
 * packet), replacing branches' contents with the resulting branches. iif/oif are the input and
 * output interface names (NULL when not known at this hook). ctstate is NF_CT_* bits. A branch
 * whose verdict is DROP or REJECT is left untouched. When an nftables table is attached to rs
 * (sim/nft.h), its base chains that belong to this (table, hook) call run first, and an empty
 * built-in chain is then skipped (it would only add an "end of chain" step). */
void nf_run_hook(const NfRuleset *rs, NfTableId table, NfHook hook, GPtrArray *branches,
                 const char *iif, const char *oif, guint32 ctstate, const NfEnv *env);

/* Where the first packet of a connection starts on a host. */
typedef enum {
    NF_ORIGIN_REMOTE, /* arrives on interface iif (from outside or from a local pod's veth) */
    NF_ORIGIN_LOCAL,  /* sent by a process of the host itself */
} NfOrigin;

/* The whole path of a new connection's first packet through a host, as Linux runs it:
 *   remote: nat PREROUTING, route, then filter INPUT (+ nat INPUT) when the destination is
 *           local, else filter FORWARD and nat POSTROUTING;
 *   local:  nat OUTPUT, filter OUTPUT, route, nat POSTROUTING, and when the destination is
 *           local, filter INPUT with iif "lo" after looping back (nat INPUT is not consulted
 *           again: the connection's source NAT was already decided in POSTROUTING).
 * The route decision uses env->is_local on the destination after DNAT; oif is "lo" for local
 * destinations and out_iface otherwise (nat and filter OUTPUT see the route of the original
 * destination). ctstate is NF_CT_NEW, plus NF_CT_DNAT once the branch was DNATed and
 * NF_CT_SNAT once it was source-NATed. A DROP or REJECT ends a branch.
 * With an IPVS table attached to rs (sim/ipvs.h), its dummy-interface addresses count as local
 * and a packet addressed to one of its virtual services meets IPVS where the kernel runs it:
 * remote - after filter INPUT (before nat INPUT), then, for a real server on another host,
 * filter OUTPUT (oif out_iface) and nat POSTROUTING as ip_vs_nat_xmit() sends it, or nat INPUT
 * for a local one; local - after nat OUTPUT, before filter OUTPUT. IPVS forks the branch per
 * real server (NfStep.ipvs_service set, NfBranch.ipvs_service set, dnat with orig_dst), or
 * rejects it with icmp-port-unreachable when there is none. Returns the branches, an array
 * that frees them. (transfer full) */
GPtrArray *nf_path_new_connection(const NfRuleset *rs, const SimPacket *pkt, NfOrigin origin,
                                  const char *iif, const char *out_iface, const NfEnv *env);

const char *nf_verdict_name(NfVerdict v); /* "none", "accept", "drop", "reject" */

#endif
