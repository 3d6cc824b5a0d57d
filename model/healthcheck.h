/* SPDX-License-Identifier: Apache-2.0 */
/* kube-proxy's HTTP health servers on every node: one per healthCheckNodePort of a Service
 * with externalTrafficPolicy Local (pkg/proxy/healthcheck/service_health.go), and the proxy's
 * own /healthz and /livez on port 10256 (proxy_health.go). Prefix healthcheck_.
 *
 * A healthCheckNodePort server answers any path with 200 when the node has at least one local
 * ready endpoint of the Service in kube-proxy's view - the EndpointSlices as of the node's last
 * kube-proxy sync, not the API's current state - and kube-proxy is healthy, else 503; the body
 * is {"service": {"namespace": NS, "name": NAME}, "localEndpoints": N, "serviceProxyHealthy":
 * B} with the header X-Load-Balancing-Endpoint-Weight: N, N counting distinct ready local
 * endpoint IPs over the Service's ports (terminating ones are not counted). The proxy server
 * answers /healthz with 503 when an update has waited longer than the health timeout
 * (2 x syncPeriod) without a sync, or the node is not eligible (kpsim's Nodes carry neither a
 * deletionTimestamp nor the ToBeDeletedByClusterAutoscaler taint, so it always is); /livez
 * applies only the staleness test; any other path gets Go's 404. Timestamps are Go's
 * time.Time strings of the simulated clock counted from the Unix epoch.
 *
 * The servers listen on the node host of a run's network, so connections to them cross the
 * node's rules (filter KUBE-NODEPORTS accepts the health check ports) and show in pcaps.
 * Simulated TCP carries byte counts, not contents: a server answers the first bytes of a
 * connection with a response as long as the HTTP/1.1 response it stands for (the healthz
 * server as if for /healthz, the path cloud load balancers probe), then closes. What a request
 * with a given path would get is healthcheck_status(). With nodePortAddresses set the servers
 * answer only on the node's addresses inside it (others are reset, as with no listener).
 */
#ifndef KPSIM_HEALTHCHECK_H
#define KPSIM_HEALTHCHECK_H

#include "model/cluster.h"
#include "sim/net.h"

/* healthzBindAddress's port (kube-proxy's default 0.0.0.0:10256). */
#define HEALTHCHECK_PROXY_PORT 10256

typedef struct HealthCheck HealthCheck;

/* Health servers reading the clock of loop, with kp's syncPeriod for the health timeout.
 * (transfer full) */
HealthCheck *healthcheck_new(SimLoop *loop, const KubeProxyConfig *kp);
/* Frees hc. Call after the network its servers listen on is freed (as workload_free()): it
 * never touches a socket. */
void healthcheck_free(HealthCheck *hc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HealthCheck, healthcheck_free)

/* Starts node's servers on host (NULL: answer healthcheck_status() only, no sockets) as
 * kube-proxy's first sync leaves them: the proxy server, and one per healthCheckNodePort of c.
 * Fails (KUBE_PROXY_ERROR) when nodePortAddresses cannot be parsed. c and node must outlive hc. */
gboolean healthcheck_add_node(HealthCheck *hc, const Cluster *c, const K8sNode *node,
                              SimHost *host, GError **error);
/* node's kube-proxy synced now: the endpoint counts are taken from c as it is, health check
 * ports that appeared get a server, those that went away lose theirs, staleness is cleared. */
void healthcheck_sync(HealthCheck *hc, const Cluster *c, const K8sNode *node);
/* An update (a Service or EndpointSlice change) is queued for node's kube-proxy now; the
 * oldest queued one counts for staleness until the next healthcheck_sync(). */
void healthcheck_queued(HealthCheck *hc, const char *node);
/* node lost (up FALSE) or regained power: its servers stop or resume answering. */
void healthcheck_set_node_up(HealthCheck *hc, const char *node, gboolean up);

/* What a request to NODE:port with path would get now: the HTTP status (200, 503 or 404) and,
 * when body is not NULL, the response body (transfer full). 0 (body NULL) when nothing answers
 * there: unknown node, node down, or no server on port. */
guint healthcheck_status(const HealthCheck *hc, const char *node, guint16 port, const char *path,
                         char **body);
/* The whole HTTP/1.1 response text (status line, headers, body) of that request, or NULL when
 * nothing answers. (transfer full) */
char *healthcheck_response(const HealthCheck *hc, const char *node, guint16 port,
                           const char *path);

#endif
