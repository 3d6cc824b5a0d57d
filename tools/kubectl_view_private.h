/* SPDX-License-Identifier: Apache-2.0 */
/* What tools/kubectl_view.c (tabwriter, helpers, get) and tools/kubectl_view_describe.c
 * (describe service, get events) share. Not installed.
 */
#ifndef KPSIM_KUBECTL_VIEW_PRIVATE_H
#define KPSIM_KUBECTL_VIEW_PRIVATE_H

#include <json-glib/json-glib.h>

#include "tools/kubectl_view.h"

/* ---- tools/kubectl_view.c */
/* Orders an array of C strings (a GCompareDataFunc over char* elements). */
gint view_compare_keys(gconstpointer a, gconstpointer b, gpointer unused);
/* kubectl's duration.HumanDuration for an object's age. */
char *view_age(SimTime age);
/* Comma-joined addresses of arr (SimAddr), or NULL when empty. */
char *view_join_addrs(GArray *arr);
/* The LoadBalancer status as kubectl prints it: IPs or hostnames, comma-joined, or NULL. */
char *view_lb_ingress(const K8sService *svc);
/* kubectl's CLUSTER-IP column: the clusterIP, "None" when headless, else "<none>".
 * (transfer full) */
char *view_cluster_ip(const K8sService *svc);
/* Adds the member key with a string value. */
void view_json_add_string(JsonBuilder *b, const char *key, const char *value);
/* Opens an object of apiVersion api and kind with its metadata (name, namespace, labels) from
 * meta, or only name when meta is NULL. Close it with json_builder_end_object(). */
void view_json_begin_object(JsonBuilder *b, const char *api, const char *kind, const K8sMeta *meta,
                            const char *name);

/* Does sel select the object name of namespace_ (NULL for cluster-scoped objects)? */
gboolean view_selected(const ViewSelect *sel, const char *namespace_, const char *name);
/* Starts a table row: the NAMESPACE cell when sel lists every namespace (meta NULL: the
 * header's cell). */
void view_row_start(GString *t, const ViewSelect *sel, const K8sMeta *meta);
/* JSON helpers shared by the views. */
void view_json_add_int(JsonBuilder *b, const char *key, gint64 value);
void view_json_add_map(JsonBuilder *b, const char *key, GHashTable *map);

/* kubectl_view_deployments.c: the Deployments table (READY, UP-TO-DATE, AVAILABLE; -o wide adds
 * CONTAINERS, IMAGES, SELECTOR) and their apps/v1 JSON objects; each returns the objects shown. */
guint view_deployments_table(const Cluster *c, const Timeline *tl, ViewFormat fmt,
                             const ViewSelect *sel, GString *t);
guint view_deployments_json(const Cluster *c, const Timeline *tl, const ViewSelect *sel,
                            JsonBuilder *b);

#endif
