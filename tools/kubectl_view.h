/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl's views of the simulated cluster: `get` tables and `describe service`, in kubectl's
 * own layout (column widths as Go's text/tabwriter computes them), and `-o json` lists.
 */
#ifndef KPSIM_KUBECTL_VIEW_H
#define KPSIM_KUBECTL_VIEW_H

#include "model/cluster.h"
#include "model/timeline.h"

typedef enum {
    VIEW_NODES,
    VIEW_PODS,
    VIEW_SERVICES,
    VIEW_ENDPOINT_SLICES,
    VIEW_DEPLOYMENTS,
} ViewResource;

/* Which objects a `get` shows: kubectl's -n / -A and its NAME arguments. */
typedef struct {
    const char *namespace_;   /* NULL: every namespace (adds a NAMESPACE column, as -A does) */
    const char *const *names; /* NULL-terminated; NULL: every object */
} ViewSelect;

typedef enum {
    VIEW_FORMAT_TABLE,
    VIEW_FORMAT_WIDE,
    VIEW_FORMAT_JSON,
} ViewFormat;

/* Parses a resource name as kubectl accepts it ("services", "svc", "service", "po", "no",
 * "endpointslices", "endpointslice", "deployments", "deploy"...). */
gboolean view_resource_parse(const char *text, ViewResource *out);

/* Appends `kubectl get RESOURCE` output. namespace NULL means all namespaces (adds a NAMESPACE
 * column, as -A does). Appends nothing and returns FALSE when there is nothing to show in that
 * namespace, setting *empty_message to kubectl's "No resources found in default namespace.". */
gboolean view_get(const Cluster *c, ViewResource res, ViewFormat fmt, const char *namespace_,
                  GString *out, char **empty_message);
/* view_get() for the cluster as a timeline left it (tl nullable: as built): AGE columns are
 * relative to c->now and pods the controllers created are as old as they are. */
gboolean view_get_at(const Cluster *c, const Timeline *tl, ViewResource res, ViewFormat fmt,
                     const char *namespace_, GString *out, char **empty_message);
/* view_get_at() for the objects sel selects: `kubectl get RESOURCE NAME...` lists the named
 * ones in the usual order, and with exactly one name -o json prints that object rather than a
 * List. Names that do not exist are simply not shown (view_exists() tells them apart). */
gboolean view_get_select(const Cluster *c, const Timeline *tl, ViewResource res, ViewFormat fmt,
                         const ViewSelect *sel, GString *out, char **empty_message);
/* Is there an object of res called name in namespace ns (ignored for nodes)? */
gboolean view_exists(const Cluster *c, ViewResource res, const char *ns, const char *name);
/* The resource as the API server names it in errors: "services", "deployments.apps". */
const char *view_resource_api_name(ViewResource res);

/* Appends `kubectl get events` output for the controllers' log (ControllersRecord*) as it
 * stands at c->now: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, oldest first; -o json lists
 * them as core/v1 Events. FALSE (nothing appended, *empty_message set) when the log is empty. */
gboolean view_get_events(const Cluster *c, const GPtrArray *log, ViewFormat fmt, GString *out,
                         char **empty_message);
/* Appends `kubectl describe service NAME` output. FALSE when there is no such Service. */
gboolean view_describe_service(const Cluster *c, const char *namespace_, const char *name,
                               GString *out);

/* view_describe_service() for the cluster as a timeline left it (tl nullable): the Events
 * section lists the controllers' records about the Service up to then. */
gboolean view_describe_service_at(const Cluster *c, const Timeline *tl, const char *namespace_,
                                  const char *name, GString *out);

/* Formats text (cells separated by '\t', lines by '\n') the way Go's text/tabwriter does with
 * the given minimum width and padding, appending to out. */
void view_tabwrite(GString *out, const char *text, guint minwidth, guint padding);

/* "80:30080/TCP,443:31443/TCP" as kubectl prints PORT(S). (transfer full) */
char *view_service_ports(const K8sService *svc);

#endif
