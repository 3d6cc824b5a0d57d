/* SPDX-License-Identifier: Apache-2.0 */
/* Pod applications (model/pod_apps.h): the proxy annotation read once per Deployment and Pod,
 * and each forwarded request as one upstream TCP connection from the proxy pod's host.
 *
 * An upstream connection registers the request it carries under its own source address and
 * port as soon as the port is chosen (before the SYN leaves), and unregisters it when the
 * connection is over, so the backend's server can look it up when it accepts.
 */
#include "model/pod_apps.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK(kpsim - pod - apps - error - quark, pod_apps_error)

/* Where an annotated object proxies to. */
typedef struct {
    SimSockAddr to; /* clusterIP:port */
} PodAppsProxy;

struct PodApps {
    const Cluster *cluster;
    GHashTable *proxies;  /* "d/NS/NAME" (Deployment) or "p/NS/NAME" (Pod) -> PodAppsProxy* */
    GHashTable *requests; /* "PROTO/IP:PORT" of an open upstream connection -> PodAppsForward* */
    GHashTable *forwards; /* PodAppsForward* running (owned) */
    guint64 forwarded;
};

struct PodAppsForward {
    PodApps *apps;
    SimSocket *socket; /* NULL once closed */
    char *key;         /* (nullable) its entry in requests */
    WorkloadRequest req;
    guint32 got; /* response bytes so far */
    PodAppsDoneFunc done;
    gpointer data;
};

/* The requests key of a connection from client over proto. (transfer full) */
static char *
pod_apps_key(SimProto proto, const SimSockAddr *client)
{
    char buf[SIM_SOCKADDR_STRLEN];
    return g_strdup_printf("%u/%s", (guint)proto, sim_sockaddr_to_string(client, buf));
}

/* Frees a forward's record (its socket belongs to the network). */
static void
pod_apps_forward_free(PodAppsForward *f)
{
    g_free(f->key);
    g_free(f);
}

/* ---------------------------------------------------------------- the annotation */

/* Finds the TCP port of svc named or numbered text; 0 when none. */
static guint16
pod_apps_service_port(const K8sService *svc, const char *text)
{
    char *end;
    long n = strtol(text, &end, 10);
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *sp = svc->ports->pdata[i];
        if (sp->protocol != SIM_PROTO_TCP)
            continue;
        if (*end == '\0' ? sp->port == n : g_strcmp0(sp->name, text) == 0)
            return sp->port;
    }
    return 0;
}

/* Parses "[NS/]SERVICE:PORT" of meta into p; FALSE with the reason in *why. */
static gboolean
pod_apps_parse(const Cluster *c, const K8sMeta *meta, const char *value, PodAppsProxy *p,
               char **why)
{
    const char *colon = strrchr(value, ':'), *slash = strchr(value, '/');
    if (colon == NULL || colon[1] == '\0' || colon == value || (slash != NULL && slash > colon)) {
        *why = g_strdup("expected \"[NAMESPACE/]SERVICE:PORT\", e.g. \"backend:80\"");
        return FALSE;
    }
    g_autofree char *ns = slash ? g_strndup(value, (gsize)(slash - value)) : NULL;
    const char *name_start = slash ? slash + 1 : value;
    g_autofree char *name = g_strndup(name_start, (gsize)(colon - name_start));
    const char *svc_ns = ns != NULL ? ns : meta->namespace_;
    const K8sService *svc = cluster_find_service(c, svc_ns, name);
    const SimAddr *ip = svc != NULL ? k8s_service_cluster_ip(svc) : NULL;
    if (svc == NULL) {
        *why = g_strdup_printf("no Service %s/%s", svc_ns, name);
        return FALSE;
    }
    if (ip == NULL || ip->family != SIM_AF_INET) {
        *why = g_strdup_printf("Service %s/%s has no IPv4 clusterIP to proxy to", svc_ns, name);
        return FALSE;
    }
    guint16 port = pod_apps_service_port(svc, colon + 1);
    if (port == 0) {
        *why = g_strdup_printf("Service %s/%s has no TCP port %s", svc_ns, name, colon + 1);
        return FALSE;
    }
    p->to = (SimSockAddr){*ip, port};
    return TRUE;
}

/* Reads meta's annotation (if any) into a->proxies under prefix; FALSE with error when bad. */
static gboolean
pod_apps_read(PodApps *a, const K8sMeta *meta, const char *kind, GError **error)
{
    const char *value =
        meta->annotations ? g_hash_table_lookup(meta->annotations, POD_APPS_PROXY_ANNOTATION)
                          : NULL;
    if (value == NULL)
        return TRUE;
    PodAppsProxy p;
    g_autofree char *why = NULL;
    if (!pod_apps_parse(a->cluster, meta, value, &p, &why)) {
        g_set_error(error, POD_APPS_ERROR, POD_APPS_ERROR_INVALID,
                    "%s:%u:%u: error: %s %s/%s: metadata.annotations[%s]: %s",
                    meta->pos.file ? meta->pos.file : "<input>", meta->pos.line, meta->pos.column,
                    kind, meta->namespace_, meta->name, POD_APPS_PROXY_ANNOTATION, why);
        return FALSE;
    }
    g_hash_table_insert(a->proxies,
                        g_strdup_printf("%c/%s/%s", kind[0] == 'D' ? 'd' : 'p', meta->namespace_,
                                        meta->name),
                        g_memdup2(&p, sizeof p));
    return TRUE;
}

/* See model/pod_apps.h. */
PodApps *
pod_apps_new(const Cluster *c, GError **error)
{
    g_return_val_if_fail(c != NULL, NULL);
    g_autoptr(PodApps) a = g_new0(PodApps, 1);
    a->cluster = c;
    a->proxies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    a->requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a->forwards = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                        (GDestroyNotify)pod_apps_forward_free, NULL);
    for (guint i = 0; i < c->deployments->len; i++)
        if (!pod_apps_read(a, &((K8sDeployment *)c->deployments->pdata[i])->meta, "Deployment",
                           error))
            return NULL;
    for (guint i = 0; i < c->pods->len; i++)
        if (!pod_apps_read(a, &((K8sPod *)c->pods->pdata[i])->meta, "Pod", error))
            return NULL;
    return g_steal_pointer(&a);
}

/* See model/pod_apps.h. */
void
pod_apps_free(PodApps *a)
{
    if (a == NULL)
        return;
    g_clear_pointer(&a->requests, g_hash_table_unref);
    g_clear_pointer(&a->forwards, g_hash_table_unref);
    g_clear_pointer(&a->proxies, g_hash_table_unref);
    g_free(a);
}

/* The proxy configuration of pod, or NULL. */
static const PodAppsProxy *
pod_apps_proxy_of(const PodApps *a, const K8sPod *pod)
{
    if (g_hash_table_size(a->proxies) == 0) /* the common case, asked once per request */
        return NULL;
    g_autofree char *own = g_strdup_printf("p/%s/%s", pod->meta.namespace_, pod->meta.name);
    const PodAppsProxy *p = g_hash_table_lookup(a->proxies, own);
    if (p != NULL || pod->owner == NULL)
        return p;
    g_autofree char *dep = g_strdup_printf("d/%s/%s", pod->meta.namespace_, pod->owner);
    return g_hash_table_lookup(a->proxies, dep);
}

/* See model/pod_apps.h. */
gboolean
pod_apps_is_proxy(const PodApps *a, const K8sPod *pod)
{
    g_return_val_if_fail(a != NULL && pod != NULL, FALSE);
    return pod_apps_proxy_of(a, pod) != NULL;
}

/* ---------------------------------------------------------------- forwarding */

/* Callbacks of an upstream socket the forward no longer follows. */
static const SimSocketOps pod_apps_detached_ops = {0};

/* The forward is over: it leaves the tables, its socket is let go, done is called, f freed. */
static void
pod_apps_finish(PodAppsForward *f, gboolean ok)
{
    PodApps *a = f->apps;
    if (f->key != NULL)
        g_hash_table_remove(a->requests, f->key);
    if (f->socket != NULL) {
        sim_socket_set_user_data(f->socket, &pod_apps_detached_ops, NULL);
        sim_socket_close(f->socket);
    }
    PodAppsDoneFunc done = f->done;
    gpointer data = f->data;
    g_hash_table_remove(a->forwards, f); /* frees f */
    done(ok, data);
}

/* The upstream handshake completed: the request goes out. */
static void
pod_apps_connected(SimSocket *s, gpointer data)
{
    PodAppsForward *f = data;
    if (f->req.request_bytes > 0)
        sim_socket_send(s, f->req.request_bytes);
}

/* Response bytes arrived; the whole response ends the forward. */
static void
pod_apps_data(SimSocket *s, guint32 bytes, gpointer data)
{
    PodAppsForward *f = data;
    f->got += bytes;
    if (f->req.response_bytes > 0 && f->got >= f->req.response_bytes)
        pod_apps_finish(f, TRUE);
}

/* The backend closed: a complete (possibly empty) response is a success. */
static void
pod_apps_peer_closed(SimSocket *s, gpointer data)
{
    PodAppsForward *f = data;
    pod_apps_finish(f, f->got >= f->req.response_bytes);
}

/* The upstream socket is gone before the response was complete. */
static void
pod_apps_closed(SimSocket *s, SimCloseReason reason, gpointer data)
{
    PodAppsForward *f = data;
    f->socket = NULL;
    pod_apps_finish(f, FALSE);
}

static const SimSocketOps pod_apps_upstream_ops = {
    .connected = pod_apps_connected,
    .data = pod_apps_data,
    .peer_closed = pod_apps_peer_closed,
    .closed = pod_apps_closed,
};

/* See model/pod_apps.h. */
PodAppsForward *
pod_apps_forward(PodApps *a, SimHost *host, const K8sPod *pod, const WorkloadRequest *req,
                 PodAppsDoneFunc done, gpointer data)
{
    g_return_val_if_fail(a != NULL && host != NULL && req != NULL && done != NULL, NULL);
    const PodAppsProxy *p = pod_apps_proxy_of(a, pod);
    g_return_val_if_fail(p != NULL, NULL);
    PodAppsForward *f = g_new0(PodAppsForward, 1);
    f->apps = a;
    f->req = *req;
    f->done = done;
    f->data = data;
    g_hash_table_add(a->forwards, f);
    a->forwarded++;
    f->socket = sim_socket_connect(host, SIM_PROTO_TCP, &p->to, NULL, &pod_apps_upstream_ops, f);
    const SimSockAddr *local = sim_socket_local(f->socket);
    if (local->port != 0) { /* a port was bound; else the connect fails from the loop */
        f->key = pod_apps_key(SIM_PROTO_TCP, local);
        g_hash_table_insert(a->requests, g_strdup(f->key), f);
    }
    return f;
}

/* See model/pod_apps.h. */
const WorkloadRequest *
pod_apps_lookup(const PodApps *a, SimProto proto, const SimSockAddr *client)
{
    g_return_val_if_fail(a != NULL && client != NULL, NULL);
    g_autofree char *key = pod_apps_key(proto, client);
    const PodAppsForward *f = g_hash_table_lookup(a->requests, key);
    return f != NULL ? &f->req : NULL;
}

/* See model/pod_apps.h. */
guint64
pod_apps_forwarded(const PodApps *a)
{
    g_return_val_if_fail(a != NULL, 0);
    return a->forwarded;
}
