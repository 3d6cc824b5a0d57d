/* SPDX-License-Identifier: Apache-2.0 */
/* A run: the cluster as a simulated network, its pods' servers, its traffic over time, and the
 * report of what happened.
 *
 * Underneath Kubernetes a node is a Linux router: eth0 on the node network, a veth per pod
 * (routed CNI, no bridge, no overlay - so MASQUERADE picks the node address, as with Calico
 * or a cloud's routed pod network), conntrack sized by kube-proxy, kube-proxy's iptables rules,
 * routes to the other nodes' pod CIDRs. A pod is a network namespace with one address and a
 * default route to its node, running one server per containerPort: each request (its bytes
 * fully received) takes the pod's service time on one of `concurrency` workers, and waits in a
 * FIFO queue when all are busy; then the response is sent and the server closes (HTTP/1.0
 * style). Everything else a pod does (readiness probes, its own conntrack, hostNetwork) is left
 * out. The scenario's events go to the control plane (model/controllers.h), which changes
 * the cluster over time; each node's kube-proxy sync then swaps that node's rules and cleans its
 * UDP conntrack entries, and node power takes the node's and its pods' hosts off the network.
 */
#include "model/run.h"

#include <string.h>

#include "model/controllers.h"
#include "model/kube_proxy.h"

G_DEFINE_QUARK(run - error - quark, run_error)

typedef struct {
    const K8sNode *node;
    SimHost *host;
    guint eth0;
    NfRuleset *rules; /* (owned) kept alive for the run */
    guint pods;
    guint64 served;  /* client connections that entered here and reached a pod */
    guint64 crossed; /* of those, served on another node */
    gboolean down;   /* powered off by an event */
} RunNode;

typedef struct RunPod RunPod;

/* A server-side connection (TCP) or a peer's datagram socket (UDP). */
typedef struct RunConn {
    RunPod *pod;
    SimSocket *socket; /* NULL once the socket is gone */
    SimProto proto;
    guint32 need, got;           /* TCP: request bytes expected and received so far */
    guint32 response;            /* TCP: response bytes */
    gboolean submitted;          /* TCP: the request went to the workers */
    guint refs;                  /* one for the socket, one per request in the pod */
    struct RunConn *prev, *next; /* the run's live connections (for teardown) */
} RunConn;

/* A request waiting for, or held by, a worker. */
typedef struct RunRequest {
    RunConn *conn;
    guint32 response;
    struct RunRequest *prev, *next; /* the pod's requests held by workers (for teardown) */
} RunRequest;

struct RunPod {
    Run *run;
    const K8sPod *pod;
    RunNode *node;
    SimHost *host;
    guint busy;
    RunRequest *serving;   /* requests held by workers */
    GQueue waiting;        /* RunRequest* */
    GHashTable *udp_peers; /* SimSocket* -> RunConn*: datagram sockets with requests */
    guint64 connections, requests, bytes_in, bytes_out;
    guint64 preserved, snat, other, queue_peak;
    guint64 connections_before; /* connections when the first fault struck */
    gboolean deleted;           /* the pod is gone (killed, or evicted and its node back) */
};

struct Run {
    Cluster *cluster; /* changed by the events (see run_new()) */
    const Scenario *sc;
    SimLoop *loop;
    SimNet *net;
    RunNode *nodes;
    guint n_nodes;
    GPtrArray *pods;          /* RunPod*, those of time 0 then those created by events */
    guint unplaced;           /* pods of time 0 without a node or an IPv4 address */
    GHashTable *node_by_addr; /* SimAddr* -> RunNode* */
    RunConn *conns;           /* live server connections */
    Workload *workload;
    GPtrArray *events;         /* RunEvent*, the scenario's, in time order */
    Controllers *controllers;  /* the control plane acting on them */
    SimTime first_fault;       /* -1: none */
    gboolean executed;
    SimTime ended;
};

/* ------------------------------------------------------------------ pod servers */

/* A server connection with one reference (its socket's), on the run's list. */
static RunConn *
run_conn_new(RunPod *p, SimSocket *s, SimProto proto)
{
    RunConn *c = g_new0(RunConn, 1);
    c->pod = p;
    c->socket = s;
    c->proto = proto;
    c->refs = 1;
    c->next = p->run->conns;
    if (c->next != NULL)
        c->next->prev = c;
    p->run->conns = c;
    return c;
}

/* Drops one reference to c, freeing it (and taking it off the run's list) with the last. */
static void
run_conn_unref(RunConn *c)
{
    g_assert(c->refs > 0);
    if (--c->refs > 0)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->pod->run->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    g_free(c);
}

static void run_pod_start(RunPod *p, RunRequest *req);

/* Callbacks for sockets the servers no longer follow. */
static const SimSocketOps run_detached_ops = {0};

/* Lets go of a UDP peer socket once no request of it is left. */
static void
run_udp_release(RunConn *c)
{
    if (c->refs != 1 || c->socket == NULL)
        return;
    g_hash_table_remove(c->pod->udp_peers, c->socket);
    sim_socket_set_user_data(c->socket, &run_detached_ops, NULL);
    sim_socket_close(c->socket);
    c->socket = NULL;
    run_conn_unref(c);
}

/* A worker finished a request: the response goes out, the next waiting request starts. */
static SimTime
run_request_done(SimLoop *loop, SimEventId id, gpointer data)
{
    RunRequest *req = data;
    RunConn *c = req->conn;
    RunPod *p = c->pod;
    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        p->serving = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    p->busy--;
    p->requests++;
    if (c->socket != NULL) {
        if (req->response > 0 || c->proto == SIM_PROTO_UDP) /* UDP: even an empty answer */
            sim_socket_send(c->socket, req->response);
        p->bytes_out += req->response;
        if (c->proto == SIM_PROTO_TCP)
            sim_socket_close(c->socket);
    }
    g_free(req);
    if (c->proto == SIM_PROTO_UDP)
        run_udp_release(c);
    run_conn_unref(c);
    RunRequest *next = g_queue_pop_head(&p->waiting);
    if (next != NULL)
        run_pod_start(p, next);
    return SIM_LOOP_NOMORE;
}

/* Gives req to a free worker of p: the response goes out one service time later. */
static void
run_pod_start(RunPod *p, RunRequest *req)
{
    p->busy++;
    req->prev = NULL;
    req->next = p->serving;
    if (req->next != NULL)
        req->next->prev = req;
    p->serving = req;
    sim_loop_schedule_after(p->run->loop, p->run->sc->pod_service_time, run_request_done, req);
}

/* Hands a complete request of c to the pod's workers, or to its queue when all are busy. */
static void
run_pod_submit(RunConn *c, guint32 response)
{
    RunPod *p = c->pod;
    RunRequest *req = g_new0(RunRequest, 1);
    req->conn = c;
    req->response = response;
    c->refs++;
    if (p->busy < p->run->sc->pod_concurrency) {
        run_pod_start(p, req);
        return;
    }
    g_queue_push_tail(&p->waiting, req);
    p->queue_peak = MAX(p->queue_peak, p->waiting.length);
}

/* What the client of a connection asked for, found through the conntrack entry of the node
 * that translated it (the SNAT node when the pod sees a node address, else the pod's own
 * node): its ORIGINAL tuple is the client's address and port and the target it dialled. Also
 * counts which source the pod saw and where the connection entered. */
static const WorkloadRequest *
run_resolve(RunPod *p, SimProto proto, const SimSockAddr *local, const SimSockAddr *peer)
{
    Run *r = p->run;
    RunNode *snat_node = g_hash_table_lookup(r->node_by_addr, &peer->addr);
    RunNode *n = snat_node != NULL ? snat_node : p->node;
    CtTuple reply = {.src = local->addr,
                     .dst = peer->addr,
                     .sport = local->port,
                     .dport = peer->port,
                     .proto = (guint8)proto};
    SimSockAddr client = *peer, target = *local;
    CtTable *ct = n != NULL ? sim_host_conntrack(n->host) : NULL;
    CtDir dir;
    CtEntry *e = ct != NULL ? ct_lookup(ct, &reply, sim_loop_now(r->loop), &dir) : NULL;
    if (e != NULL && dir == CT_DIR_REPLY) {
        const CtTuple *o = ct_entry_tuple(e, CT_DIR_ORIGINAL);
        client = (SimSockAddr){o->src, o->sport};
        target = (SimSockAddr){o->dst, o->dport};
    }
    const WorkloadRequest *req = workload_lookup(r->workload, proto, &client, &target);
    if (req != NULL && sim_addr_equal(&peer->addr, &req->client.addr))
        p->preserved++;
    else if (snat_node != NULL)
        p->snat++;
    else
        p->other++;
    RunNode *entry = g_hash_table_lookup(r->node_by_addr, &target.addr);
    if (req != NULL && entry != NULL) {
        entry->served++;
        entry->crossed += entry != p->node;
    }
    return req;
}

/* Request bytes arrived: once all of them are in, the request goes to the workers. */
static void
run_tcp_data(SimSocket *s, guint32 bytes, gpointer data)
{
    RunConn *c = data;
    c->got += bytes;
    c->pod->bytes_in += bytes;
    if (!c->submitted && c->got >= c->need) {
        c->submitted = TRUE;
        run_pod_submit(c, c->response);
    }
}

/* The client closed its side: a server whose request never completed closes too. */
static void
run_tcp_peer_closed(SimSocket *s, gpointer data)
{
    RunConn *c = data;
    if (!c->submitted) /* the client gave up before its request was complete */
        sim_socket_close(s);
}

/* The server socket is gone; a request still with the workers keeps the connection. */
static void
run_tcp_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    RunConn *c = data;
    c->socket = NULL;
    run_conn_unref(c);
}

static const SimSocketOps run_tcp_conn_ops = {
    .data = run_tcp_data,
    .peer_closed = run_tcp_peer_closed,
    .closed = run_tcp_closed,
};

/* A TCP connection was accepted on one of the pod's ports. */
static void
run_tcp_accept(SimSocket *s, gpointer data)
{
    RunPod *p = data;
    RunConn *c = run_conn_new(p, s, SIM_PROTO_TCP);
    p->connections++;
    sim_socket_set_user_data(s, &run_tcp_conn_ops, c);
    const WorkloadRequest *req =
        run_resolve(p, SIM_PROTO_TCP, sim_socket_local(s), sim_socket_peer(s));
    if (req == NULL) { /* not a workload connection: nothing to answer */
        sim_socket_close(s);
        return;
    }
    c->need = req->request_bytes;
    c->response = req->response_bytes;
    if (c->need == 0) {
        c->submitted = TRUE;
        run_pod_submit(c, c->response);
    }
}

static const SimSocketOps run_tcp_listen_ops = {.connected = run_tcp_accept};

/* A peer's datagram socket was closed under the server (an ICMP error). */
static void
run_udp_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    RunPod *p = data;
    RunConn *c = g_hash_table_lookup(p->udp_peers, s);
    if (c == NULL)
        return;
    g_hash_table_remove(p->udp_peers, s);
    c->socket = NULL;
    run_conn_unref(c);
}

/* A datagram arrived at one of the pod's UDP ports: one request. */
static void
run_udp_datagram(SimSocket *s, guint32 bytes, gpointer data)
{
    RunPod *p = data;
    RunConn *c = g_hash_table_lookup(p->udp_peers, s);
    if (c == NULL) {
        c = run_conn_new(p, s, SIM_PROTO_UDP);
        g_hash_table_insert(p->udp_peers, s, c);
    }
    p->connections++;
    p->bytes_in += bytes;
    const WorkloadRequest *req =
        run_resolve(p, SIM_PROTO_UDP, sim_socket_local(s), sim_socket_peer(s));
    if (req != NULL) {
        run_pod_submit(c, req->response_bytes);
        return;
    }
    run_udp_release(c);
}

static const SimSocketOps run_udp_listen_ops = {
    .data = run_udp_datagram,
    .closed = run_udp_closed,
};

/* ------------------------------------------------------------------ building the network */

/* The first IPv4 address of node, or NULL. */
static const SimAddr *
run_node_ipv4(const K8sNode *node)
{
    for (guint i = 0; i < node->addresses->len; i++) {
        const SimAddr *a = &g_array_index(node->addresses, SimAddr, i);
        if (a->family == SIM_AF_INET)
            return a;
    }
    return NULL;
}

/* conntrack as kube-proxy leaves a node: nf_conntrack_max = max(maxPerCore * CPUs, min)
 * (left at the kernel's value when maxPerCore is 0) and its two TCP timeouts. */
static void
run_conntrack_config(const KubeProxyConfig *kp, CtConfig *cfg)
{
    ct_config_init(cfg);
    guint max = ct_max_scaled(kp->conntrack_max_per_core, kp->conntrack_min, RUN_NODE_CPUS);
    if (max > 0)
        cfg->max = max;
    if (kp->tcp_established_timeout > 0)
        cfg->tcp_timeout[CT_TCP_ESTABLISHED] = kp->tcp_established_timeout;
    if (kp->tcp_close_wait_timeout > 0)
        cfg->tcp_timeout[CT_TCP_CLOSE_WAIT] = kp->tcp_close_wait_timeout;
}

/* A node host: eth0 on the fabric, conntrack, kube-proxy's rules, an on-link default route
 * (the fabric carries node and client addresses). */
static gboolean
run_add_node(Run *r, RunNode *rn, const K8sNode *node, GError **error)
{
    rn->node = node;
    rn->rules = kube_proxy_render(r->cluster, node, SIM_AF_INET, error);
    if (rn->rules == NULL)
        return FALSE;
    rn->host = sim_net_add_host(r->net, node->name, TRUE);
    rn->eth0 = sim_host_add_iface(rn->host, "eth0", NULL);
    for (guint i = 0; i < node->addresses->len; i++) {
        SimAddr *a = &g_array_index(node->addresses, SimAddr, i);
        sim_host_add_addr(rn->host, rn->eth0, a);
        g_hash_table_insert(r->node_by_addr, a, rn);
    }
    sim_net_attach_fabric(r->net, rn->host, rn->eth0, r->sc->net_latency, r->sc->net_bandwidth);
    CtConfig cfg;
    run_conntrack_config(r->cluster->proxy, &cfg);
    sim_host_enable_conntrack(rn->host, &cfg);
    sim_host_set_ruleset(rn->host, rn->rules);
    SimCidr any = {.addr = {.family = SIM_AF_INET}, .prefix = 0};
    sim_host_add_route(rn->host, &any, rn->eth0, NULL);
    return TRUE;
}

/* Routes from every node to every other node's pod CIDR, through that node's address. */
static void
run_add_pod_routes(Run *r)
{
    for (guint i = 0; i < r->n_nodes; i++) {
        for (guint j = 0; j < r->n_nodes; j++) {
            const K8sNode *other = r->nodes[j].node;
            const SimAddr *via = run_node_ipv4(other);
            if (i == j || via == NULL || other->pod_cidr.addr.family != SIM_AF_INET)
                continue;
            sim_host_add_route(r->nodes[i].host, &other->pod_cidr, r->nodes[i].eth0, via);
        }
    }
}

/* The run's node named name, or NULL. */
static RunNode *
run_find_node(const Run *r, const char *name)
{
    for (guint i = 0; i < r->n_nodes; i++)
        if (g_strcmp0(r->nodes[i].node->name, name) == 0)
            return &r->nodes[i];
    return NULL;
}

/* Listens on every containerPort of the pod's containers (TCP or UDP; SCTP is not served). */
static void
run_pod_listen(RunPod *p)
{
    const GPtrArray *containers = p->pod->spec.containers;
    for (guint i = 0; containers != NULL && i < containers->len; i++) {
        const K8sContainer *c = containers->pdata[i];
        for (guint j = 0; c->ports != NULL && j < c->ports->len; j++) {
            const K8sContainerPort *cp = &g_array_index(c->ports, K8sContainerPort, j);
            if (cp->protocol == SIM_PROTO_TCP)
                sim_socket_listen(p->host, SIM_PROTO_TCP, cp->container_port, &run_tcp_listen_ops,
                                  p);
            else if (cp->protocol == SIM_PROTO_UDP)
                sim_socket_listen(p->host, SIM_PROTO_UDP, cp->container_port, &run_udp_listen_ops,
                                  p);
        }
    }
}

/* A pod host behind a veth on its node: eth0 with the pod IP, default route to the node; the
 * node routes the pod's /32 to the veth. The pod joins the run's list. */
static void
run_add_pod(Run *r, const K8sPod *pod, RunNode *rn)
{
    RunPod *p = g_new0(RunPod, 1);
    g_ptr_array_add(r->pods, p);
    p->run = r;
    p->pod = pod;
    p->node = rn;
    g_queue_init(&p->waiting);
    p->udp_peers = g_hash_table_new(g_direct_hash, g_direct_equal);
    rn->pods++;
    g_autofree char *veth = cluster_pod_veth_name(pod);
    guint node_if = sim_host_add_iface(rn->host, veth, NULL);
    p->host = sim_net_add_host(r->net, pod->meta.name, FALSE);
    guint eth0 = sim_host_add_iface(p->host, "eth0", NULL);
    sim_host_add_addr(p->host, eth0, &pod->ip);
    sim_net_link(r->net, rn->host, node_if, p->host, eth0, RUN_VETH_LATENCY);
    SimCidr any = {.addr = {.family = pod->ip.family}, .prefix = 0}, self;
    sim_host_add_route(p->host, &any, eth0, NULL);
    sim_cidr_from_addr(&pod->ip, &self);
    sim_host_add_route(rn->host, &self, node_if, NULL);
    run_pod_listen(p);
}

/* ------------------------------------------------------------------ the control plane */

/* ct_flush predicate matching every entry. */
static gboolean
run_ct_any(const CtEntry *e, gpointer data)
{
    return TRUE;
}

/* ControllersOps.power: the node host and its pods' hosts stop (or start) answering. A node
 * that boots again starts with an empty conntrack table. */
static void
run_power(const K8sNode *node, gboolean up, gpointer data)
{
    Run *r = data;
    RunNode *rn = run_find_node(r, node->name);
    rn->down = !up;
    sim_host_set_up(rn->host, up);
    if (up)
        ct_flush(sim_host_conntrack(rn->host), run_ct_any, NULL);
    for (guint i = 0; i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        if (p->node == rn && !p->deleted)
            sim_host_set_up(p->host, up);
    }
}

/* ControllersOps.proxy_sync: the node's kube-proxy programs the rules of the cluster as it is
 * now, then cleans stale UDP conntrack entries. */
static guint
run_proxy_sync(const K8sNode *node, gpointer data)
{
    Run *r = data;
    RunNode *rn = run_find_node(r, node->name);
    g_autoptr(GError) error = NULL;
    NfRuleset *rules = kube_proxy_render(r->cluster, node, SIM_AF_INET, &error);
    if (rules == NULL) { /* the configuration rendered at 0 s, so this cannot happen */
        g_critical("kube-proxy on %s: %s", node->name, error->message);
        return 0;
    }
    sim_host_set_ruleset(rn->host, rules);
    nf_ruleset_free(rn->rules);
    rn->rules = rules;
    return controllers_udp_cleanup(r->cluster, sim_host_conntrack(rn->host));
}

/* ControllersOps.pod_added: the new pod's host behind a veth on its node, serving. */
static void
run_pod_added(const K8sPod *pod, gpointer data)
{
    Run *r = data;
    RunNode *rn = run_find_node(r, pod->node_name);
    if (rn == NULL || pod->ip.family != SIM_AF_INET)
        return;
    run_add_pod(r, pod, rn);
    RunPod *p = r->pods->pdata[r->pods->len - 1];
    if (r->first_fault < 0)
        p->connections_before = 0;
    sim_host_set_up(p->host, !rn->down);
}

/* ControllersOps.pod_removed: the pod's host stops answering for good. */
static void
run_pod_removed(const K8sPod *pod, gpointer data)
{
    Run *r = data;
    for (guint i = 0; i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        if (p->pod == pod) {
            p->deleted = TRUE;
            sim_host_set_up(p->host, FALSE);
        }
    }
}

/* ControllersOps.first_fault: remembers when, and what the pods had served until then. */
static void
run_first_fault(gpointer data)
{
    Run *r = data;
    r->first_fault = sim_loop_now(r->loop);
    for (guint i = 0; i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        p->connections_before = p->connections;
    }
}

/* The controllers' timings from the scenario's spec.controllers. */
static void
run_controllers_config(const Scenario *sc, ControllersConfig *cfg)
{
    controllers_config_init(cfg);
    cfg->node_monitor_period = sc->node_monitor_period;
    cfg->node_monitor_grace = sc->node_monitor_grace;
    cfg->pod_eviction_timeout = sc->pod_eviction_timeout;
    cfg->endpoint_update_delay = sc->endpoint_update_delay;
    cfg->pod_startup = sc->pod_startup;
}

static const ControllersOps run_controllers_ops = {
    .power = run_power,
    .proxy_sync = run_proxy_sync,
    .first_fault = run_first_fault,
    .pod_added = run_pod_added,
    .pod_removed = run_pod_removed,
};

/* See model/run.h. Cost: linear in nodes squared (pod CIDR routes) plus pods and services. */
Run *
run_new(const Cluster *c, GError **error)
{
    g_return_val_if_fail(c != NULL && c->scenario != NULL, NULL);
    g_autoptr(Run) r = g_new0(Run, 1);
    r->cluster = (Cluster *)c; /* events change it, as run.h says */
    r->sc = c->scenario;
    r->first_fault = -1;
    r->events = events_compile(c, error);
    if (r->events == NULL)
        return NULL;
    r->loop = sim_loop_new();
    r->net = sim_net_new(r->loop, r->sc->seed);
    r->node_by_addr = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    r->nodes = g_new0(RunNode, c->nodes->len);
    for (guint i = 0; i < c->nodes->len; i++, r->n_nodes++)
        if (!run_add_node(r, &r->nodes[i], c->nodes->pdata[i], error))
            return NULL;
    run_add_pod_routes(r);
    r->pods = g_ptr_array_new();
    for (guint i = 0; i < c->pods->len; i++) {
        const K8sPod *pod = c->pods->pdata[i];
        RunNode *rn = run_find_node(r, pod->node_name);
        if (rn == NULL || pod->ip.family != SIM_AF_INET) {
            r->unplaced++;
            continue;
        }
        run_add_pod(r, pod, rn);
    }
    r->workload = workload_new(r->net, r->sc, r->sc->seed);
    ControllersConfig cfg;
    run_controllers_config(r->sc, &cfg);
    r->controllers =
        controllers_new(r->cluster, r->loop, &cfg, r->events, &run_controllers_ops, r);
    return g_steal_pointer(&r);
}

/* See model/run.h. */
void
run_free(Run *r)
{
    if (r == NULL)
        return;
    /* The network first: its sockets point into the pods' and the workload's state. */
    g_clear_pointer(&r->net, sim_net_free);
    g_clear_pointer(&r->workload, workload_free);
    for (guint i = 0; r->pods != NULL && i < r->pods->len; i++) {
        RunPod *p = r->pods->pdata[i];
        RunRequest *req;
        while ((req = g_queue_pop_head(&p->waiting)) != NULL)
            g_free(req);
        while ((req = p->serving) != NULL) {
            p->serving = req->next;
            g_free(req);
        }
        g_hash_table_unref(p->udp_peers);
        g_free(p);
    }
    while (r->conns != NULL) {
        RunConn *c = r->conns;
        r->conns = c->next;
        g_free(c);
    }
    for (guint i = 0; r->nodes != NULL && i < r->n_nodes; i++)
        nf_ruleset_free(r->nodes[i].rules);
    g_clear_pointer(&r->loop, sim_loop_free);
    g_clear_pointer(&r->controllers, controllers_free);
    g_clear_pointer(&r->events, g_ptr_array_unref);
    g_clear_pointer(&r->pods, g_ptr_array_unref);
    g_free(r->nodes);
    g_clear_pointer(&r->node_by_addr, g_hash_table_unref);
    g_free(r);
}

/* See model/run.h. */
gboolean
run_set_node_capture(Run *r, const char *node, SimPcap *pcap)
{
    g_return_val_if_fail(r != NULL && node != NULL, FALSE);
    RunNode *rn = run_find_node(r, node);
    if (rn == NULL)
        return FALSE;
    sim_host_set_capture(rn->host, pcap);
    return TRUE;
}

/* See model/run.h. */
void
run_set_client_capture(Run *r, SimPcap *pcap)
{
    g_return_if_fail(r != NULL);
    workload_set_capture(r->workload, pcap);
}

/* See model/run.h. */
const GError *
run_capture_error(const Run *r)
{
    g_return_val_if_fail(r != NULL, NULL);
    return sim_net_capture_error(r->net);
}

/* ------------------------------------------------------------------ running */

/* How long connections in flight at the end may still take: the longest client timeout. */
static SimTime
run_drain_time(const Scenario *sc)
{
    SimTime drain = 0;
    for (guint i = 0; i < sc->traffic->len; i++)
        drain = MAX(drain, workload_timeout(sc->traffic->pdata[i]));
    return drain;
}

/* See model/run.h. The loop runs one simulated second at a time so that progress can be shown;
 * after the duration, workload_stop_when_idle() ends the drain as soon as every connection is
 * decided. */
void
run_execute(Run *r, RunProgressFunc progress, gpointer data)
{
    g_return_if_fail(r != NULL && !r->executed);
    r->executed = TRUE;
    SimTime end = r->sc->duration, limit = end + run_drain_time(r->sc);
    workload_start(r->workload, end);
    controllers_start(r->controllers);
    for (;;) {
        SimTime now = sim_loop_now(r->loop);
        if (now >= end) {
            if (workload_undecided(r->workload) == 0 || now >= limit)
                break;
            workload_stop_when_idle(r->workload);
        }
        SimTime target = MIN((now / SIM_SEC + 1) * SIM_SEC, now < end ? end : limit);
        sim_loop_run_until(r->loop, target);
        SimLoopStats st;
        sim_loop_get_stats(r->loop, &st);
        if (progress != NULL)
            progress(sim_loop_now(r->loop), limit, st.events_processed, data);
        if (sim_loop_now(r->loop) < target) /* stopped: the drain is over */
            break;
    }
    r->ended = sim_loop_now(r->loop);
    workload_finish(r->workload);
}

/* ------------------------------------------------------------------ the report */

/* Is addr one of the addresses in a (SimAddr) array? */
static gboolean
run_addr_in(const GArray *a, const SimAddr *addr)
{
    for (guint i = 0; a != NULL && i < a->len; i++)
        if (sim_addr_equal(&g_array_index(a, SimAddr, i), addr))
            return TRUE;
    return FALSE;
}

/* Is addr a load-balancer IP kube-proxy captures (VIP mode) of svc? */
static gboolean
run_lb_ip(const K8sService *svc, const SimAddr *addr)
{
    for (guint i = 0; svc->lb_ingress != NULL && i < svc->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *in = svc->lb_ingress->pdata[i];
        if (!in->ip_mode_proxy && sim_addr_equal(&in->ip, addr))
            return TRUE;
    }
    return FALSE;
}

/* The Service whose front end to:proto is, and whether that front end is external (a
 * nodePort, load-balancer IP or externalIP), or NULL. */
static const K8sService *
run_target_service(const Run *r, const SimSockAddr *to, SimProto proto, gboolean *external)
{
    gboolean on_node = g_hash_table_contains(r->node_by_addr, &to->addr);
    for (guint i = 0; i < r->cluster->services->len; i++) {
        const K8sService *svc = r->cluster->services->pdata[i];
        for (guint j = 0; svc->type != K8S_SVC_EXTERNAL_NAME && j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            if (sp->protocol != proto)
                continue;
            *external = TRUE;
            if (on_node && sp->node_port == to->port && sp->node_port != 0)
                return svc;
            if (sp->port != to->port)
                continue;
            if (run_addr_in(svc->external_ips, &to->addr) || run_lb_ip(svc, &to->addr))
                return svc;
            *external = FALSE;
            if (run_addr_in(svc->cluster_ips, &to->addr))
                return svc;
        }
    }
    *external = FALSE;
    return NULL;
}

/* Does node run a ready endpoint of svc? */
static gboolean
run_node_has_endpoint(const Run *r, const K8sService *svc, const K8sNode *node)
{
    g_autoptr(GPtrArray) slices = cluster_service_slices(r->cluster, svc);
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++) {
            const K8sEndpoint *e = sl->endpoints->pdata[j];
            if (k8s_endpoint_ready(e) && g_strcmp0(e->node_name, node->name) == 0)
                return TRUE;
        }
    }
    return FALSE;
}

/* Splits a counter set into succeeded and the failure kinds. */
static void
run_failures(const WorkloadCounts *wc, guint64 *succeeded, ReportFailures *f)
{
    *succeeded = wc->outcomes[WORKLOAD_SUCCEEDED];
    f->timeout = wc->outcomes[WORKLOAD_TIMEOUT];
    f->refused = wc->outcomes[WORKLOAD_REFUSED];
    f->reset = wc->outcomes[WORKLOAD_RESET];
    f->dropped = wc->outcomes[WORKLOAD_DROPPED];
}

/* One traffic target's row. */
static void
run_report_target(const Run *r, ReportTraffic *rt, const ScenarioTraffic *t,
                  const WorkloadCounts *wc, const SimSockAddr *to)
{
    char buf[SIM_SOCKADDR_STRLEN];
    ReportTarget *x = report_traffic_add_target(rt, sim_sockaddr_to_string(to, buf));
    const RunNode *rn = g_hash_table_lookup(r->node_by_addr, &to->addr);
    gboolean external = FALSE;
    const K8sService *svc = run_target_service(r, to, t->protocol, &external);
    x->node = rn != NULL ? g_strdup(rn->node->name) : NULL;
    if (svc != NULL) {
        x->service = g_strdup_printf("%s/%s", svc->meta.namespace_, svc->meta.name);
        if (external)
            x->external_policy =
                g_strdup(svc->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
        x->node_has_endpoint = rn != NULL && run_node_has_endpoint(r, svc, rn->node);
    }
    x->sent = wc->sent;
    run_failures(wc, &x->succeeded, &x->failed);
}

/* Adds the per-second outcomes of st to rt and, from the second of fault on, which targets
 * failed when, the connections lost, the black hole and the recovery. */
static void
run_report_disruption(const Run *r, ReportTraffic *rt, const ScenarioTraffic *t,
                      const WorkloadTrafficStats *st, SimTime fault)
{
    guint n_to = t->to->len, seconds = n_to > 0 ? st->target_timeline->len / n_to : 0;
    gint64 from = fault / SIM_SEC, last = -1;
    g_array_set_size(rt->outcomes, seconds);
    for (guint sec = 0; sec < seconds; sec++) {
        WorkloadCounts *sum = &g_array_index(rt->outcomes, WorkloadCounts, sec);
        for (guint j = 0; j < n_to; j++) {
            const WorkloadCounts *wc =
                &g_array_index(st->target_timeline, WorkloadCounts, sec * n_to + j);
            guint64 failed = wc->sent - wc->outcomes[WORKLOAD_SUCCEEDED];
            sum->sent += wc->sent;
            for (guint o = 0; o < WORKLOAD_OUTCOMES; o++)
                sum->outcomes[o] += wc->outcomes[o];
            if ((gint64)sec < from || failed == 0)
                continue;
            ReportTarget *x = rt->targets->pdata[j];
            if (x->fault_fail_first < 0)
                x->fault_fail_first = sec;
            x->fault_fail_last = sec;
            x->fault_failed += failed;
            rt->lost += failed;
            last = sec;
        }
    }
    SimTime stop = MIN(t->stop, r->sc->duration);
    rt->blackhole_start = fault;
    rt->blackhole_end = last >= 0 ? (last + 1) * SIM_SEC : -1;
    rt->recovered = last < 0 ? fault : (last + 1) * SIM_SEC < stop ? (last + 1) * SIM_SEC : -1;
}

/* The fault timeline: what the events and the control plane did, as report events. */
static void
run_report_events(const Run *r, RunReport *rep)
{
    rep->first_fault = r->first_fault;
    const GPtrArray *log = controllers_log(r->controllers);
    for (guint i = 0; i < log->len; i++) {
        const ControllersRecord *rec = log->pdata[i];
        report_add_event(rep, rec->at, controllers_record_kind_name(rec->kind), rec->subject,
                         rec->detail);
    }
}

/* One row per traffic entry, with its targets, latencies and timeline. */
static void
run_report_traffic(const Run *r, RunReport *rep)
{
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < r->sc->traffic->len; i++) {
        const ScenarioTraffic *t = r->sc->traffic->pdata[i];
        const WorkloadTrafficStats *st = workload_traffic_stats(r->workload, i);
        ReportTraffic *rt = report_add_traffic(rep, t->name);
        rt->from = g_strdup(t->from);
        for (guint j = 0; j < r->sc->clients->len; j++) {
            const ScenarioClient *c = r->sc->clients->pdata[j];
            if (g_strcmp0(c->name, t->from) == 0)
                rt->client_address = g_strdup(sim_addr_to_string(&c->address, buf));
        }
        rt->protocol = g_strdup(sim_proto_k8s_name(t->protocol));
        rt->rate = t->rate;
        rt->connections = t->connections;
        rt->sent = st->total.sent;
        run_failures(&st->total, &rt->succeeded, &rt->failed);
        if (workload_hist_count(st->latency) > 0) {
            rt->p50 = workload_hist_percentile(st->latency, 50);
            rt->p99 = workload_hist_percentile(st->latency, 99);
            rt->max = workload_hist_max(st->latency);
            rt->mean = workload_hist_mean(st->latency);
        }
        for (guint j = 0; j < t->to->len; j++)
            run_report_target(r, rt, t, &st->targets[j], &g_array_index(t->to, SimSockAddr, j));
        g_array_append_vals(rt->timeline, st->timeline->data, st->timeline->len);
        if (r->first_fault >= 0)
            run_report_disruption(r, rt, t, st, r->first_fault);
    }
}

/* One row per pod that took part, with what its server saw. */
static void
run_report_pods(const Run *r, RunReport *rep)
{
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < r->pods->len; i++) {
        const RunPod *p = r->pods->pdata[i];
        ReportPod *rp = report_add_pod(rep, p->pod->meta.name);
        rp->namespace_ = g_strdup(p->pod->meta.namespace_);
        rp->node = g_strdup(p->node->node->name);
        rp->ip = g_strdup(sim_addr_to_string(&p->pod->ip, buf));
        rp->connections = p->connections;
        rp->requests = p->requests;
        rp->bytes_received = p->bytes_in;
        rp->bytes_sent = p->bytes_out;
        rp->source_preserved = p->preserved;
        rp->source_snat = p->snat;
        rp->source_other = p->other;
        rp->queue_peak = p->queue_peak;
        rp->concurrency = r->sc->pod_concurrency;
        rp->connections_before = r->first_fault >= 0 ? p->connections_before : p->connections;
    }
}

/* Client connections addressed to rn (all traffic, all targets). */
static guint64
run_node_entered(const Run *r, const RunNode *rn)
{
    guint64 n = 0;
    for (guint i = 0; i < r->sc->traffic->len; i++) {
        const ScenarioTraffic *t = r->sc->traffic->pdata[i];
        const WorkloadTrafficStats *st = workload_traffic_stats(r->workload, i);
        for (guint j = 0; j < t->to->len; j++)
            if (g_hash_table_lookup(r->node_by_addr, &g_array_index(t->to, SimSockAddr, j).addr) ==
                rn)
                n += st->targets[j].sent;
    }
    return n;
}

/* One row per node: kernel counters, conntrack peaks, rules and where connections went. */
static void
run_report_nodes(const Run *r, RunReport *rep)
{
    for (guint i = 0; i < r->n_nodes; i++) {
        const RunNode *rn = &r->nodes[i];
        ReportNode *n = report_add_node(rep, rn->node->name);
        GString *addrs = g_string_new(NULL);
        char buf[SIM_ADDR_STRLEN];
        for (guint j = 0; j < rn->node->addresses->len; j++)
            g_string_append_printf(
                addrs, "%s%s", j ? "," : "",
                sim_addr_to_string(&g_array_index(rn->node->addresses, SimAddr, j), buf));
        n->addresses = g_string_free(addrs, FALSE);
        SimHostStats hs;
        sim_host_get_stats(rn->host, &hs);
        CtStats cs;
        ct_get_stats(sim_host_conntrack(rn->host), &cs);
        CtConfig cfg;
        run_conntrack_config(r->cluster->proxy, &cfg);
        n->pods = rn->pods;
        n->ingress_packets = hs.rx_packets;
        n->forwarded_packets = hs.forwarded;
        for (guint d = 0; d < SIM_DROP_COUNT; d++) {
            ReportDrop drop = {sim_drop_reason_name((SimDropReason)d), hs.drops[d]};
            if (drop.count > 0)
                g_array_append_val(n->drops, drop);
        }
        n->conntrack_peak = cs.peak;
        n->conntrack_max = cfg.max;
        n->snat_ports_peak = cs.snat_peak;
        n->rules = nf_ruleset_rule_count(rn->rules, NF_TABLE_NAT) +
                   nf_ruleset_rule_count(rn->rules, NF_TABLE_FILTER);
        n->new_connections = hs.new_connections;
        n->rules_evaluated = hs.rules_evaluated;
        n->connections_entered = run_node_entered(r, rn);
        n->connections_served = rn->served;
        n->connections_crossed = rn->crossed;
    }
}

/* Ready endpoints of svc (distinct addresses over its slices). */
static guint
run_service_endpoints(const Run *r, const K8sService *svc)
{
    g_autoptr(GPtrArray) slices = cluster_service_slices(r->cluster, svc);
    g_autoptr(GHashTable) seen = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    for (guint i = 0; i < slices->len; i++) {
        const K8sEndpointSlice *sl = slices->pdata[i];
        for (guint j = 0; j < sl->endpoints->len; j++) {
            const K8sEndpoint *e = sl->endpoints->pdata[j];
            if (k8s_endpoint_ready(e) && e->addresses->len > 0)
                g_hash_table_add(seen, &g_array_index(e->addresses, SimAddr, 0));
        }
    }
    return g_hash_table_size(seen);
}

/* One row per Service: type, cluster IP, ports and ready endpoints. */
static void
run_report_services(const Run *r, RunReport *rep)
{
    char buf[SIM_ADDR_STRLEN];
    for (guint i = 0; i < r->cluster->services->len; i++) {
        const K8sService *svc = r->cluster->services->pdata[i];
        ReportService *s = report_add_service(rep, svc->meta.name);
        s->namespace_ = g_strdup(svc->meta.namespace_);
        s->type = g_strdup(k8s_service_type_name(svc->type));
        const SimAddr *ip = k8s_service_cluster_ip(svc);
        s->cluster_ip = svc->cluster_ip_none ? g_strdup("None")
                        : ip != NULL         ? g_strdup(sim_addr_to_string(ip, buf))
                                             : NULL;
        if (svc->type == K8S_SVC_NODE_PORT || svc->type == K8S_SVC_LOAD_BALANCER)
            s->external_policy =
                g_strdup(svc->external_policy == K8S_POLICY_LOCAL ? "Local" : "Cluster");
        for (guint j = 0; j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            ReportServicePort p = {.port = sp->port,
                                   .node_port = sp->node_port,
                                   .target_port = sp->target_port,
                                   .target_port_name = g_strdup(sp->target_port_name),
                                   .protocol = g_strdup(sim_proto_k8s_name(sp->protocol))};
            g_array_append_val(s->ports, p);
        }
        s->endpoints = run_service_endpoints(r, svc);
    }
}

/* An expectation as one line: its fields "key: value" in key order. */
static char *
run_expectation_text(const ScenarioItem *it)
{
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(it->fields), (GCompareFunc)strcmp);
    GString *s = g_string_new(NULL);
    for (GList *k = keys; k != NULL; k = k->next)
        g_string_append_printf(s, "%s%s: %s", s->len ? ", " : "", (const char *)k->data,
                               (const char *)g_hash_table_lookup(it->fields, k->data));
    return g_string_free(s, FALSE);
}

/* What the run left out of the scenario, said plainly. */
static void
run_report_notes(const Run *r, RunReport *rep)
{
    const Scenario *sc = r->sc;
    for (guint i = 0; i < sc->traffic->len; i++) {
        const ScenarioTraffic *t = sc->traffic->pdata[i];
        if (t->protocol != SIM_PROTO_TCP && t->protocol != SIM_PROTO_UDP)
            g_ptr_array_add(rep->notes,
                            g_strdup_printf("traffic %s uses %s, which kpsim run does not simulate "
                                            "yet: none of it was sent",
                                            t->name, sim_proto_k8s_name(t->protocol)));
    }
    guint unplaced = r->unplaced;
    if (unplaced > 0)
        g_ptr_array_add(rep->notes,
                        g_strdup_printf("%u pod%s without a node or an IPv4 address did not take "
                                        "part",
                                        unplaced, unplaced == 1 ? "" : "s"));
    for (guint i = 0; i < sc->expect->len; i++)
        g_ptr_array_add(rep->expectations, run_expectation_text(sc->expect->pdata[i]));
    if (sc->expect->len > 0)
        g_ptr_array_add(rep->notes, g_strdup("the scenario's expectations (spec.expect) are "
                                             "listed but not evaluated by kpsim run"));
}

/* Packets sent on links by every host of the run. */
static guint64
run_packets(const Run *r)
{
    guint64 n = 0;
    SimHostStats hs;
    for (guint i = 0; i < r->n_nodes; i++) {
        sim_host_get_stats(r->nodes[i].host, &hs);
        n += hs.tx_packets;
    }
    for (guint i = 0; i < r->pods->len; i++) {
        sim_host_get_stats(((RunPod *)r->pods->pdata[i])->host, &hs);
        n += hs.tx_packets;
    }
    for (guint i = 0; i < r->sc->clients->len; i++) {
        const ScenarioClient *c = r->sc->clients->pdata[i];
        sim_host_get_stats(workload_client_host(r->workload, c->name), &hs);
        n += hs.tx_packets;
    }
    return n;
}

/* See model/run.h. */
RunReport *
run_report(const Run *r)
{
    g_return_val_if_fail(r != NULL && r->executed, NULL);
    RunReport *rep = report_new();
    rep->scenario = g_strdup(r->sc->name);
    rep->file = g_strdup(r->sc->file);
    rep->description = g_strdup(r->sc->description);
    rep->seed = r->sc->seed;
    rep->duration = r->sc->duration;
    rep->ended = r->ended;
    SimLoopStats st;
    sim_loop_get_stats(r->loop, &st);
    rep->events_processed = st.events_processed;
    rep->packets = run_packets(r);
    rep->service_time = r->sc->pod_service_time;
    rep->concurrency = r->sc->pod_concurrency;
    run_report_events(r, rep);
    run_report_traffic(r, rep);
    run_report_pods(r, rep);
    run_report_nodes(r, rep);
    run_report_services(r, rep);
    run_report_notes(r, rep);
    report_compute_shares(rep);
    report_summarize(rep);
    return rep;
}

/* ------------------------------------------------------------------ scenario adjustments */

/* Parses "50/s", "3000/m", "2/h" or a bare number (per second), as spec.traffic[].rate. */
static gboolean
run_parse_rate(const char *text, double *out)
{
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || !(v > 0) || v > 1e12)
        return FALSE;
    double per = *end == '\0' || strcmp(end, "/s") == 0               ? 1
                 : strcmp(end, "/m") == 0 || strcmp(end, "/min") == 0 ? 60
                 : strcmp(end, "/h") == 0                             ? 3600
                                                                      : 0;
    if (per == 0)
        return FALSE;
    *out = v / per;
    return TRUE;
}

/* Parses an unsigned integer in [lo, hi]. */
static gboolean
run_parse_uint(const char *text, guint64 lo, guint64 hi, guint64 *out)
{
    return g_ascii_string_to_unsigned(text, 10, lo, hi, out, NULL);
}

/* Sets field of one traffic entry from value. */
static gboolean
run_override_traffic(ScenarioTraffic *t, const char *field, const char *value)
{
    guint64 n;
    SimTime d;
    if (strcmp(field, "rate") == 0) {
        if (!run_parse_rate(value, &t->rate))
            return FALSE;
        t->connections = 0;
    } else if (strcmp(field, "connections") == 0) {
        if (!run_parse_uint(value, 1, 10000000, &n))
            return FALSE;
        t->connections = (guint)n;
        t->rate = 0;
    } else if (strcmp(field, "request.bytes") == 0 || strcmp(field, "request.response") == 0) {
        if (!run_parse_uint(value, 0, G_MAXUINT32, &n))
            return FALSE;
        *(strcmp(field, "request.bytes") == 0 ? &t->request_bytes : &t->response_bytes) = (guint)n;
    } else if (strcmp(field, "synRetries") == 0) {
        if (!run_parse_uint(value, 0, 255, &n))
            return FALSE;
        t->syn_retries = (guint)n;
    } else {
        SimTime *slot = strcmp(field, "start") == 0             ? &t->start
                        : strcmp(field, "stop") == 0            ? &t->stop
                        : strcmp(field, "connectTimeout") == 0  ? &t->connect_timeout
                        : strcmp(field, "responseTimeout") == 0 ? &t->response_timeout
                                                                : NULL;
        if (slot == NULL || !sim_time_parse(value, &d, NULL))
            return FALSE;
        *slot = d;
    }
    return t->start < t->stop && t->connect_timeout > 0 && t->response_timeout > 0;
}

/* traffic.NAME.FIELD: NAME a traffic entry's name or "*". FALSE when nothing matches or a
 * value is refused. */
static gboolean
run_override_traffic_path(Scenario *sc, const char *rest, const char *value)
{
    const char *dot = strchr(rest, '.');
    if (dot == NULL)
        return FALSE;
    g_autofree char *name = g_strndup(rest, dot - rest);
    guint matched = 0;
    for (guint i = 0; i < sc->traffic->len; i++) {
        ScenarioTraffic *t = sc->traffic->pdata[i];
        if (strcmp(name, "*") != 0 && strcmp(name, t->name) != 0)
            continue;
        if (!run_override_traffic(t, dot + 1, value))
            return FALSE;
        matched++;
    }
    return matched > 0;
}

/* Sets the scenario-wide path from value. */
static gboolean
run_override_scenario(Scenario *sc, const char *path, const char *value)
{
    guint64 n;
    SimTime d;
    if (strcmp(path, "seed") == 0)
        return run_parse_uint(value, 0, G_MAXUINT64, &sc->seed);
    if (strcmp(path, "pods.concurrency") == 0) {
        if (!run_parse_uint(value, 1, 1000000, &n))
            return FALSE;
        sc->pod_concurrency = (guint)n;
        return TRUE;
    }
    if (!sim_time_parse(value, &d, NULL))
        return FALSE;
    if (strcmp(path, "pods.serviceTime") == 0)
        sc->pod_service_time = d;
    else if (strcmp(path, "controllers.nodeMonitorPeriod") == 0 && d > 0)
        sc->node_monitor_period = d;
    else if (strcmp(path, "controllers.nodeMonitorGracePeriod") == 0)
        sc->node_monitor_grace = d;
    else if (strcmp(path, "controllers.podEvictionTimeout") == 0)
        sc->pod_eviction_timeout = d;
    else if (strcmp(path, "controllers.endpointUpdateDelay") == 0)
        sc->endpoint_update_delay = d;
    else if (strcmp(path, "controllers.podStartupTime") == 0)
        sc->pod_startup = d;
    else if (strcmp(path, "cluster.network.latency") == 0)
        sc->net_latency = d;
    else if (strcmp(path, "duration") == 0 && d > 0) {
        for (guint i = 0; i < sc->traffic->len; i++) {
            ScenarioTraffic *t = sc->traffic->pdata[i];
            if (t->stop == sc->duration && t->start < d)
                t->stop = d;
        }
        sc->duration = d;
    } else
        return FALSE;
    return TRUE;
}

/* See model/run.h. */
gboolean
run_override(Scenario *sc, const char *assignment, GError **error)
{
    g_return_val_if_fail(sc != NULL && assignment != NULL, FALSE);
    const char *eq = strchr(assignment, '=');
    g_autofree char *path = eq ? g_strndup(assignment, eq - assignment) : g_strdup(assignment);
    const char *p = g_str_has_prefix(path, "spec.") ? path + 5 : path;
    gboolean ok = eq != NULL && eq[1] != '\0' &&
                  (g_str_has_prefix(p, "traffic.") ? run_override_traffic_path(sc, p + 8, eq + 1)
                                                   : run_override_scenario(sc, p, eq + 1));
    if (!ok)
        g_set_error(error, RUN_ERROR, RUN_ERROR_OVERRIDE,
                    "--set %s: unknown path or invalid value (paths: seed, duration, "
                    "pods.serviceTime, pods.concurrency, cluster.network.latency, "
                    "controllers.nodeMonitorPeriod|nodeMonitorGracePeriod|podEvictionTimeout|"
                    "endpointUpdateDelay|podStartupTime, "
                    "traffic.NAME|*.rate|connections|start|stop|request.bytes|request.response|"
                    "connectTimeout|synRetries|responseTimeout)",
                    assignment);
    return ok;
}

/* A traffic entry of the default workload for proto, or NULL when no nodePort uses it. */
static ScenarioTraffic *
run_default_traffic_for(const Scenario *sc, const Cluster *c, const ScenarioClient *client,
                        SimProto proto, const char *name)
{
    GArray *to = g_array_new(FALSE, TRUE, sizeof(SimSockAddr));
    for (guint i = 0; i < c->services->len; i++) {
        const K8sService *svc = c->services->pdata[i];
        if (svc->type != K8S_SVC_NODE_PORT && svc->type != K8S_SVC_LOAD_BALANCER)
            continue;
        for (guint j = 0; j < svc->ports->len; j++) {
            const K8sServicePort *sp = svc->ports->pdata[j];
            if (sp->protocol != proto || sp->node_port == 0)
                continue;
            for (guint k = 0; k < c->nodes->len; k++) {
                const K8sNode *n = c->nodes->pdata[k];
                for (guint a = 0; a < n->addresses->len; a++) {
                    SimSockAddr sa = {g_array_index(n->addresses, SimAddr, a), sp->node_port};
                    if (sa.addr.family == client->address.family)
                        g_array_append_val(to, sa);
                }
            }
        }
    }
    if (to->len == 0) {
        g_array_unref(to);
        return NULL;
    }
    ScenarioTraffic *t = g_new0(ScenarioTraffic, 1);
    t->name = g_strdup(name);
    t->from = g_strdup(client->name);
    t->to = to;
    t->protocol = proto;
    t->rate = 50;
    t->request_bytes = 100;
    t->response_bytes = 1000;
    t->start = 0;
    t->stop = sc->duration;
    t->pos = client->pos;
    t->connect_timeout = SCENARIO_CONNECT_TIMEOUT;
    t->syn_retries = SCENARIO_SYN_RETRIES;
    t->response_timeout = SCENARIO_RESPONSE_TIMEOUT;
    return t;
}

/* See model/run.h. */
guint
run_add_default_traffic(Scenario *sc, const Cluster *c)
{
    g_return_val_if_fail(sc != NULL && c != NULL, 0);
    if (sc->traffic->len > 0 || sc->clients->len == 0)
        return 0;
    const ScenarioClient *client = sc->clients->pdata[0];
    ScenarioTraffic *tcp = run_default_traffic_for(sc, c, client, SIM_PROTO_TCP, "nodeports");
    ScenarioTraffic *udp = run_default_traffic_for(sc, c, client, SIM_PROTO_UDP, "nodeports-udp");
    if (tcp != NULL)
        g_ptr_array_add(sc->traffic, tcp);
    if (udp != NULL)
        g_ptr_array_add(sc->traffic, udp);
    return (tcp != NULL) + (udp != NULL);
}
