/* SPDX-License-Identifier: Apache-2.0 */
/* The EndpointSlice controller: turns a Service's selector and the pods it selects into
 * EndpointSlices.
 *
 * Models kube-controller-manager's endpointslice controller (pkg/controller/endpointslice and
 * staging/src/k8s.io/endpointslice): one set of slices per address family of the Service, pods
 * grouped by their resolved port set (a named targetPort may map to different numbers in
 * different pods), at most ENDPOINTSLICE_MAX_ENDPOINTS endpoints per slice, a placeholder slice
 * with no endpoints when nothing is selected, and the endpoint conditions of podToEndpoint.
 * Pods without an IP are not published; terminating pods are. Services without a selector,
 * ExternalName Services and Services with a user-written slice get nothing from it. Left out:
 * slice churn minimisation across updates (a sync rewrites the Service's slices, reusing their
 * names), topology hints and FQDN slices.
 *
 * Prefix: endpointslice_controller_. The controller owns nothing: slices go into
 * Cluster.slices, warnings into the caller's array.
 */
#ifndef KPSIM_ENDPOINTSLICE_CONTROLLER_H
#define KPSIM_ENDPOINTSLICE_CONTROLLER_H

#include "model/cluster.h"

/* --max-endpoints-per-slice default. */
#define ENDPOINTSLICE_MAX_ENDPOINTS 100

/* TRUE when the controller writes svc's slices: svc has a (non-empty) selector, is not
 * ExternalName, and no user-written (unmanaged) slice in c is labelled with its name. */
gboolean endpointslice_controller_manages(const Cluster *c, const K8sService *svc);

/* FindPort: the pod port svc_port's targetPort means for pod. A numeric targetPort is itself; a
 * named one is the containerPort with that name and the service port's protocol. FALSE when pod
 * has no such port. */
gboolean endpointslice_controller_find_port(const K8sPod *pod, const K8sServicePort *svc_port,
                                            guint16 *out);

/* Writes the slices of every Service the controller manages, replacing managed slices already
 * in c (whose names are reused first; new names are "<service>-<5 chars>" drawn from rng).
 * Appends "FILE:LINE:COL: warning: ..." lines to warnings (nullable) for a selector that matches
 * no pod and a named targetPort that no selected pod has. Cost: O(pods + services + slices) plus
 * the selected pods. */
void endpointslice_controller_sync_all(Cluster *c, SimRng *rng, GPtrArray *warnings);

/* endpointslice_controller_sync_all() for the Services in services (of c, in that order) only:
 * the managed slices of every other Service are dropped. The focused build (cluster_focus.c)
 * uses it for the Services its probe can reach. */
void endpointslice_controller_sync_some(Cluster *c, const GPtrArray *services, SimRng *rng,
                                        GPtrArray *warnings);

/* The same for one Service of c, after its pods or its spec changed. A Service the controller
 * no longer manages loses its managed slices. Cost: O(pods + slices). */
void endpointslice_controller_sync_service(Cluster *c, const K8sService *svc, SimRng *rng,
                                           GPtrArray *warnings);

#endif
