/* SPDX-License-Identifier: Apache-2.0 */
/* Pod applications other than the plain server: a reverse proxy, as an Ingress controller
 * runs. Prefix pod_apps_.
 *
 * By default a pod of a run answers each request itself (model/run.c: service time, workers,
 * response). A pod whose Deployment (or the Pod itself) carries the annotation
 *
 *     kpsim.io/proxy-to: "[NAMESPACE/]SERVICE:PORT"
 *
 * is a reverse proxy instead: for every request it receives in full it opens a NEW TCP
 * connection from its own address to the Service's clusterIP and port (PORT a number or a port
 * name; NAMESPACE defaults to the annotated object's), sends the request's bytes, waits for the
 * response's, then answers its client with them and closes. This is ingress-nginx with
 * `service-upstream: "true"` (or NGINX Inc's `use-cluster-ip`): the upstream leg leaves the
 * controller's network namespace, enters its node's PREROUTING from the pod's veth and is
 * DNATed by that node's kube-proxy rules, so the backend sees the controller pod's address and
 * the client's address survives only in headers (datapath-semantics.md section 10). A failed
 * upstream connection (refused, timed out, reset, short) makes the proxy close its client
 * connection without a response: what a 502 Bad Gateway is to a client that counts bytes.
 * The proxy takes no service time of its own and does not keep upstream connections alive;
 * it proxies TCP only (a datagram to a proxy pod is answered by the plain server).
 *
 * Simulated TCP carries byte counts only (model/workload.h), so the backend learns what the
 * proxied request asks for with pod_apps_lookup(), keyed by the proxy's own address and port,
 * the way it would read the forwarded request line.
 */
#ifndef KPSIM_POD_APPS_H
#define KPSIM_POD_APPS_H

#include "model/cluster.h"
#include "model/workload.h"
#include "sim/net.h"

#define POD_APPS_PROXY_ANNOTATION "kpsim.io/proxy-to"

#define POD_APPS_ERROR (pod_apps_error_quark())
GQuark pod_apps_error_quark(void);
typedef enum {
    POD_APPS_ERROR_INVALID, /* a malformed annotation or an unknown Service or port;
                               "FILE:LINE:COLUMN: error: ..." at the annotated object */
} PodAppsError;

typedef struct PodApps PodApps;
typedef struct PodAppsForward PodAppsForward;

/* Called once when a forwarded request is over: ok when the full response came back. */
typedef void (*PodAppsDoneFunc)(gboolean ok, gpointer data);

/* Reads the proxy annotations of c's Deployments and Pods and checks their Services (an IPv4
 * clusterIP and a TCP port). c must outlive the result. (transfer full) */
PodApps *pod_apps_new(const Cluster *c, GError **error);
/* Frees a; forwards still running are dropped without their callback. Call after the network
 * is freed (it never touches a socket). */
void pod_apps_free(PodApps *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PodApps, pod_apps_free)

/* TRUE when pod runs the proxy (its own annotation, else its Deployment's). */
gboolean pod_apps_is_proxy(const PodApps *a, const K8sPod *pod);
/* Forwards req, received by pod (a proxy) on host, to its upstream; done(ok, data) follows from
 * the event loop. (transfer none: the forward frees itself after done) */
PodAppsForward *pod_apps_forward(PodApps *a, SimHost *host, const K8sPod *pod,
                                 const WorkloadRequest *req, PodAppsDoneFunc done, gpointer data);
/* The request a proxy sends over the open upstream connection from client (the proxy's address
 * and port) over proto, or NULL. Its traffic, target, sizes and client (the original client's
 * address) are those of the request the proxy received. (transfer none) */
const WorkloadRequest *pod_apps_lookup(const PodApps *a, SimProto proto,
                                       const SimSockAddr *client);
/* Upstream connections opened so far. */
guint64 pod_apps_forwarded(const PodApps *a);

#endif
