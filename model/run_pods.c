/* SPDX-License-Identifier: Apache-2.0 */
/* The pods' servers in a run: a listener per containerPort, requests served by `concurrency`
 * workers in the pod's service time with a FIFO queue, the response, then the close; what each
 * pod saw (connections, the client address, where the connection entered). Part of
 * model/run.c.
 */
#include "model/run_private.h"

#include <string.h>

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

/* See model/run_private.h. */
void
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
const SimSocketOps run_detached_ops = {0};

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

/* Counts one client connection of p that had been addressed to node index node. */
static void
run_pod_count_entry(RunPod *p, guint node)
{
    if (p->entered == NULL)
        p->entered = g_hash_table_new(g_direct_hash, g_direct_equal);
    gpointer key = GUINT_TO_POINTER(node + 1);
    guint64 n = GPOINTER_TO_SIZE(g_hash_table_lookup(p->entered, key));
    g_hash_table_insert(p->entered, key, GSIZE_TO_POINTER((gsize)(n + 1)));
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
    if (req == NULL) /* a request a proxy pod forwards */
        req = pod_apps_lookup(r->apps, proto, &client);
    if (req != NULL && sim_addr_equal(&peer->addr, &req->client.addr))
        p->preserved++;
    else if (snat_node != NULL)
        p->snat++;
    else
        p->other++;
    RunNode *entry = g_hash_table_lookup(r->node_by_addr, &target.addr);
    /* A target that is no node address (a load-balancer or external IP an entry model routed
     * to a node): the node that translated it, which SNATed it or else is the pod's own. */
    if (entry == NULL && req != NULL && r->sc->traffic->len > req->traffic &&
        ((const ScenarioTraffic *)r->sc->traffic->pdata[req->traffic])->entry != NULL)
        entry = snat_node != NULL ? snat_node : p->node;
    if (req != NULL && entry != NULL) {
        entry->served++;
        entry->crossed += entry != p->node;
        run_pod_count_entry(p, (guint)(entry - r->nodes));
    }
    return req;
}

/* A proxy's upstream request is over: the response goes to the client (none after a failed
 * upstream: the proxy closes, as a 502 looks to a client counting bytes). */
static void
run_proxy_done(gboolean ok, gpointer data)
{
    RunConn *c = data;
    RunPod *p = c->pod;
    p->requests++;
    if (c->socket != NULL) {
        if (ok && c->response > 0)
            sim_socket_send(c->socket, c->response);
        p->bytes_out += ok ? c->response : 0;
        sim_socket_close(c->socket);
    }
    run_conn_unref(c);
}

/* A complete TCP request of c goes to the pod's application: a proxy forwards it upstream
 * (model/pod_apps.h), the plain server hands it to its workers. */
static void
run_pod_handle(RunConn *c)
{
    RunPod *p = c->pod;
    c->submitted = TRUE;
    if (!pod_apps_is_proxy(p->run->apps, p->pod)) {
        run_pod_submit(c, c->response);
        return;
    }
    c->refs++;
    pod_apps_forward(p->run->apps, p->host, p->pod, &c->req, run_proxy_done, c);
}

/* Request bytes arrived: once all of them are in, the request goes to the application. */
static void
run_tcp_data(SimSocket *s, guint32 bytes, gpointer data)
{
    RunConn *c = data;
    c->got += bytes;
    c->pod->bytes_in += bytes;
    if (!c->submitted && c->got >= c->need)
        run_pod_handle(c);
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
    c->req = *req;
    c->need = req->request_bytes;
    c->response = req->response_bytes;
    if (c->need == 0)
        run_pod_handle(c);
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

/* See model/run_private.h. */
void
run_pod_listen(RunPod *p)
{
    const GPtrArray *containers = p->pod->spec.containers;
    for (guint i = 0; containers != NULL && i < containers->len; i++) {
        const K8sContainer *c = containers->pdata[i];
        for (guint j = 0; c->ports != NULL && j < c->ports->len; j++) {
            const K8sContainerPort *cp = &g_array_index(c->ports, K8sContainerPort, j);
            SimSocket *l = NULL;
            if (cp->protocol == SIM_PROTO_TCP)
                l = sim_socket_listen(p->host, SIM_PROTO_TCP, cp->container_port,
                                      &run_tcp_listen_ops, p);
            else if (cp->protocol == SIM_PROTO_UDP)
                l = sim_socket_listen(p->host, SIM_PROTO_UDP, cp->container_port,
                                      &run_udp_listen_ops, p);
            if (l != NULL && p->listeners == NULL)
                p->listeners = g_ptr_array_new();
            if (l != NULL)
                g_ptr_array_add(p->listeners, l);
        }
    }
}
