/* SPDX-License-Identifier: Apache-2.0 */
/* The results of a run as plain data (RunReport), and the few sentences that say what happened.
 *
 * A report is what `kpsim run` shows and what its JSON contract carries (docs/design.md, "run
 * report JSON"): per traffic what the clients saw, per pod what the servers saw, per node what
 * the kernel counted, per Service its shape, and a timeline. It holds no pointers into the
 * simulation, so it outlives the run and can be built by hand (tests do). Writers live in
 * tools/ (text and JSON); report_summarize() derives the sentences from the numbers alone.
 * Times are SimTime nanoseconds; a latency of -1 means "no successful connection".
 */
#ifndef KPSIM_REPORT_H
#define KPSIM_REPORT_H

#include "model/workload.h"

/* How connections failed (succeeded is counted apart). */
typedef struct {
    guint64 timeout, refused, reset, dropped;
} ReportFailures;

/* One `to` entry of a traffic. */
typedef struct {
    char *target;          /* "192.168.1.101:30080" */
    char *node;            /* (nullable) the node owning the address */
    char *service;         /* (nullable) "ns/name" of the Service the address:port belongs to */
    char *external_policy; /* (nullable) "Cluster" or "Local" when the target is external
                              (nodePort, load-balancer IP or externalIP) */
    gboolean node_has_endpoint; /* the node runs a ready endpoint of service */
    guint64 sent, succeeded;
    ReportFailures failed;
    /* Since the run's first fault (RunReport.first_fault; all 0/-1 without one): the first and
     * last second of start time with a failed connection (-1: none), and the failures. */
    gint64 fault_fail_first, fault_fail_last;
    guint64 fault_failed;
} ReportTarget;

typedef struct {
    char *name;
    char *from; /* client name */
    char *client_address;
    char *protocol;    /* "TCP", "UDP" */
    double rate;       /* connections per second, 0 for a closed loop */
    guint connections; /* closed-loop concurrency, 0 for an open loop */
    guint64 sent, succeeded;
    ReportFailures failed;
    SimTime p50, p99, max, mean; /* latency, connect to full response; -1 when none */
    GPtrArray *targets;          /* ReportTarget* */
    GArray *timeline;            /* WorkloadBucket per second of start time */
    /* The disruption (filled when the run had a fault): outcomes per second of start time
     * (WorkloadCounts, failure reasons included); the black hole from the first fault to the
     * end of the last second with a failed connection since (blackhole_end -1: none failed);
     * recovered: the start of the first second after which no connection failed (-1: failures
     * went on until the traffic stopped); lost: connections started since the fault that
     * failed. */
    GArray *outcomes;
    SimTime blackhole_start, blackhole_end, recovered;
    guint64 lost;
} ReportTraffic;

typedef struct {
    char *name, *namespace_;
    char *node;
    char *ip;
    guint64 connections; /* accepted (TCP) or first datagrams (UDP) */
    guint64 requests;    /* answered */
    guint64 bytes_received, bytes_sent;
    double share;             /* connections / all pods' connections (0 when none) */
    guint64 source_preserved; /* saw the client's own address */
    guint64 source_snat;      /* saw a node address */
    guint64 source_other;     /* saw anything else */
    guint64 queue_peak;       /* most requests waiting for a free worker at once */
    guint concurrency;
    guint64 connections_before; /* connections accepted before the first fault (all: none) */
    /* ReportPodEntry: where this pod's client connections entered the cluster, by node, in the
     * order of the report's nodes; only nodes that sent it any. */
    GArray *entries;
} ReportPod;

/* Client connections a pod accepted that had been addressed to one node. */
typedef struct {
    guint node; /* index in RunReport.nodes */
    guint64 connections;
} ReportPodEntry;

/* A drop counter: reason as sim_drop_reason_name() spells it. */
typedef struct {
    const char *reason; /* (static) */
    guint64 count;
} ReportDrop;

typedef struct {
    char *name;
    char *addresses;         /* "192.168.1.101" (comma-separated) */
    guint pods;              /* pods running here */
    guint64 ingress_packets; /* received from links */
    guint64 forwarded_packets;
    GArray *drops; /* ReportDrop, non-zero ones, in SimDropReason order */
    guint64 conntrack_peak, conntrack_max;
    guint64 snat_ports_peak;
    guint rules;                 /* nat + filter rules kube-proxy programmed */
    guint64 new_connections;     /* conntrack entries created */
    guint64 rules_evaluated;     /* rules the kernel walked for new connections */
    guint64 connections_entered; /* client connections addressed to this node */
    guint64 connections_served;  /* of those, reached a pod */
    guint64 connections_crossed; /* of those, served by a pod on another node */
    GPtrArray *ipvs; /* (nullable) ReportIpvsDest*: IPVS mode's real servers at the end that
                        have connections or drain (weight 0) */
    guint ipvs_idle; /* the other real servers (weight > 0, no connection), not listed */
} ReportNode;

/* One real server of one IPVS virtual service of a node, as `ipvsadm -Ln` shows it at the end of
 * a run (IPVS mode). */
typedef struct {
    char *service;            /* "TCP 10.96.0.10:80 rr" */
    char *real_server;        /* "10.1.0.2:80" */
    guint weight;             /* 0 while it drains (graceful termination) */
    guint64 active, inactive; /* ActiveConn, InActConn */
} ReportIpvsDest;
void report_ipvs_dest_free(gpointer d);

typedef struct {
    guint16 port;
    guint16 node_port;      /* 0 = none */
    guint16 target_port;    /* when target_port_name is NULL */
    char *target_port_name; /* (nullable) */
    char *protocol;
} ReportServicePort;

typedef struct {
    char *name, *namespace_;
    char *type;            /* "NodePort" */
    char *cluster_ip;      /* (nullable) */
    char *external_policy; /* "Cluster" / "Local" */
    GArray *ports;         /* ReportServicePort */
    guint endpoints;       /* ready endpoints */
} ReportService;

typedef struct {
    char *scenario;
    char *file;
    char *description; /* (nullable) */
    guint64 seed;
    SimTime duration; /* simulated, as the scenario asks */
    SimTime ended;    /* when the run stopped (duration plus the drain) */
    guint64 events_processed;
    double wall_seconds; /* set by the caller; the model never reads a clock */
    guint64 packets;     /* sent on links, all hosts */
    SimTime service_time;
    guint concurrency;
    GPtrArray *traffic;      /* ReportTraffic* */
    GPtrArray *pods;         /* ReportPod* */
    GPtrArray *nodes;        /* ReportNode* */
    GPtrArray *services;     /* ReportService* */
    GPtrArray *notes;        /* char*: what the run left out (events not simulated...) */
    GPtrArray *expectations; /* char*: the scenario's expectations, as text */
    GPtrArray *summary;      /* char*: sentences, filled by report_summarize() */
    /* ReportExpectation*, one per entry of expectations once they were evaluated (model/
     * expect.h, expect_fill_report); empty when they were only listed. */
    GPtrArray *expectation_results;
    SimTime first_fault;    /* when the first fault event struck, -1: none */
    GPtrArray *events;      /* ReportEvent*: what the events and the control plane did, in order */
    const char *proxy_mode; /* (static, nullable) "iptables", "nftables" or "ipvs"; NULL is read
                               as iptables */
} RunReport;

/* One step of the fault timeline: an event or what a controller or kube-proxy did. */
typedef struct {
    SimTime at;
    char *kind;    /* "node-down", "node-not-ready", "endpoints-updated", "proxy-synced", ... */
    char *subject; /* node name or "ns/name" */
    char *detail;  /* (nullable) */
} ReportEvent;

/* An evaluated expectation: its sentence, whether it held, and what was seen. */
typedef struct {
    char *text;
    gboolean ok;
    char *observed;
} ReportExpectation;

/* An empty report. (transfer full) */
RunReport *report_new(void);
void report_free(RunReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RunReport, report_free)

/* Empty rows, appended to r's arrays and owned by r. (transfer none) */
ReportTraffic *report_add_traffic(RunReport *r, const char *name);
ReportTarget *report_traffic_add_target(ReportTraffic *t, const char *target);
ReportPod *report_add_pod(RunReport *r, const char *name);
ReportNode *report_add_node(RunReport *r, const char *name);
ReportService *report_add_service(RunReport *r, const char *name);
ReportEvent *report_add_event(RunReport *r, SimTime at, const char *kind, const char *subject,
                              const char *detail);

/* Fills every pod's share from the connections counts. */
void report_compute_shares(RunReport *r);
/* Replaces r->summary with sentences derived from the numbers: outcomes and latency per
 * traffic, failing targets and why (when the data shows it), nodes that forwarded everything
 * elsewhere, how often the client's address reached the pods and why, the spread over pods
 * with its imbalance (largest share over the even split), the skew externalTrafficPolicy Local
 * gives pods spread unevenly over nodes, saturation and kernel drops. Never mentions anything the data does not show. */
void report_summarize(RunReport *r);

/* Formats a latency in milliseconds the way the report prints it ("1.2", "0.85", "1234");
 * "-" for -1. Writes into buf (at least 32 bytes) and returns it. */
const char *report_format_ms(SimTime t, char *buf);
/* Formats a fraction as a percentage ("50%", "33.3%", "0.1%", "<0.1%"). buf >= 16 bytes. */
const char *report_format_percent(double fraction, char *buf);
/* Total failures. */
guint64 report_failures_total(const ReportFailures *f);

#endif
