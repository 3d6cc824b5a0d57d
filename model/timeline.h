/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster at a moment of its scenario: the events and the controllers replayed, without
 * traffic, up to a time, and what each node's kube-proxy had programmed by then.
 *
 * A Timeline drives model/controllers.h on its own SimLoop exactly as `kpsim run` does, minus
 * the network: events at or before the time (events at exactly the time included) change the
 * Cluster it is given, and every kube-proxy sync renders that node's rules from the cluster as
 * it is at that sync and keeps them. So the rules of a node are those it last programmed: a node
 * that is down keeps its old rules, and a node whose kube-proxy has not synced since a change
 * still has the old ones (the stale window that `kpsim trace --at` shows). Left out: conntrack
 * (no traffic, so no UDP entries to flush) and everything that moves packets.
 *
 * Prefix: timeline_.
 */
#ifndef KPSIM_MODEL_TIMELINE_H
#define KPSIM_MODEL_TIMELINE_H

#include "model/cluster.h"
#include "sim/netfilter.h"

typedef struct Timeline Timeline;

/* What to keep while replaying. */
typedef struct {
    SimTime at;        /* replay every event due at or before this time */
    SimFamily family;  /* the address family of the rules kept (SIM_AF_INET by default) */
    const char *node;  /* (nullable) keep only this node's rules; NULL: every node's */
    gboolean no_rules; /* keep no node's rules (the API server's view is all that is needed) */
} TimelineOptions;

/* Replays c's scenario (its spec.events and spec.controllers timings) until opt->at, changing
 * c into the cluster as the API server has it then (c->now = opt->at). c must outlive the
 * timeline, and c's pods stay valid only while it lives (pods deleted by the controllers are
 * kept by them). Fails with the events' errors (EVENTS_ERROR: unsupported or invalid event)
 * or kube-proxy's (a configuration that cannot be rendered). Cost: one rendering of the kept
 * nodes' rules per kube-proxy sync up to opt->at. (transfer full) */
Timeline *timeline_new(Cluster *c, const TimelineOptions *opt, GError **error);
void timeline_free(Timeline *tl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Timeline, timeline_free)

/* The time the timeline stands at. */
SimTime timeline_at(const Timeline *tl);
/* The rules node's kube-proxy last programmed at or before the timeline's time, or NULL for a
 * node whose rules were not kept (TimelineOptions.node). (transfer none) */
const NfRuleset *timeline_rules(const Timeline *tl, const K8sNode *node);
/* When node's kube-proxy last synced (0: the sync every node has at the start). */
SimTime timeline_synced_at(const Timeline *tl, const K8sNode *node);
/* TRUE when node's kept rules differ from what kube-proxy would render from the cluster as the
 * API server has it now: a change is waiting for its next sync (or for the node to come back).
 * FALSE for a node whose rules were not kept. Cost: one rendering. */
gboolean timeline_rules_stale(const Timeline *tl, const K8sNode *node);
/* TRUE when node is powered off at the timeline's time; *since (nullable) is when it lost
 * power. */
gboolean timeline_node_down(const Timeline *tl, const K8sNode *node, SimTime *since);
/* When pod was created: its creation time for pods the controllers created, 0 for those of the
 * scenario. */
SimTime timeline_created_at(const Timeline *tl, const K8sPod *pod);
/* FALSE while pod's container is down (crashed, waiting for its restart); *restarted
 * (nullable) is when kubelet last restarted it, -1 if never. */
gboolean timeline_container_running(const Timeline *tl, const K8sPod *pod, SimTime *restarted);
/* The controllers' log up to the timeline's time, in time order: ControllersRecord*.
 * (transfer none) */
const GPtrArray *timeline_log(const Timeline *tl);

#endif
