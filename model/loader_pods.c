/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding kind: Pod and kind: Deployment, and the containers and PodSpec they share.
 *
 * Accepts every field of the v1 Pod and apps/v1 Deployment types and decodes what kpsim
 * simulates: containers with their ports, nodeName, the termination grace period, a pod's
 * status (podIP, phase, Ready), a Deployment's replicas, selector and template. Subtrees kpsim
 * does not use (probes, volumes, resources, affinity, ...) are accepted unread. As a patch, a
 * Deployment spec merges containers by name.
 */
#include "model/loader_private.h"

#include <string.h>

/* The most replicas a Deployment may ask for: Kubernetes' documented largest cluster (150000
 * pods, "Considerations for large clusters"). More is refused, not allocated. */
#define LD_MAX_REPLICAS 150000

/* ---------------------------------------------------------------- containers and PodSpec */

/* Decodes one container ports[] entry {name, containerPort, protocol, hostPort, hostIP}. */
static gboolean
ld_container_port(const LdObject *o, const YtNode *item, const char *path, K8sContainerPort *p,
                  GError **error)
{
    static const char *const fields[] = {"name",     "containerPort", "protocol",
                                         "hostPort", "hostIP",        NULL};
    g_autofree char *np = ld_path(path, "name"), *cp = ld_path(path, "containerPort");
    g_autofree char *pp = ld_path(path, "protocol"), *hp = ld_path(path, "hostPort");
    g_autofree char *ip = ld_path(path, "hostIP");
    guint16 host_port = 0;
    SimAddr host_ip;
    if (!ld_check_fields(item, fields, o->kind, path, error) ||
        !ld_string(yt_map_get(item, "name"), np, &p->name, error) ||
        !ld_port(o, yt_map_get(item, "containerPort"), cp, FALSE, &p->container_port, error) ||
        !ld_protocol(o, yt_map_get(item, "protocol"), pp, &p->protocol, error) ||
        !ld_port(o, yt_map_get(item, "hostPort"), hp, TRUE, &host_port, error) ||
        !ld_ip(o, yt_map_get(item, "hostIP"), ip, &host_ip, error))
        return FALSE;
    if (p->container_port == 0)
        return ld_invalid(o, error, item, "%s: Required value", cp);
    if (p->name != NULL && !ld_check_port_name(o, yt_map_get(item, "name"), np, p->name, error))
        return FALSE;
    return TRUE;
}

static const char *const ld_container_fields[] = {"name",
                                                  "image",
                                                  "ports",
                                                  "command",
                                                  "args",
                                                  "env",
                                                  "envFrom",
                                                  "resources",
                                                  "livenessProbe",
                                                  "readinessProbe",
                                                  "startupProbe",
                                                  "volumeMounts",
                                                  "volumeDevices",
                                                  "imagePullPolicy",
                                                  "securityContext",
                                                  "workingDir",
                                                  "lifecycle",
                                                  "stdin",
                                                  "stdinOnce",
                                                  "tty",
                                                  "terminationMessagePath",
                                                  "terminationMessagePolicy",
                                                  "resizePolicy",
                                                  "restartPolicy",
                                                  NULL};

/* The seconds of the first "sleep N" in an exec hook's command: ["sleep", "N"] or a shell
 * (["sh", "-c", "sleep N; ..."]). FALSE when the command does not start by sleeping. */
static gboolean
ld_exec_sleep(const YtNode *cmd, gint64 *out)
{
    if (cmd == NULL || cmd->type != YT_SEQUENCE || cmd->items->len == 0)
        return FALSE;
    g_autoptr(GString) line = g_string_new(NULL);
    for (guint i = 0; i < cmd->items->len; i++) {
        const YtNode *w = cmd->items->pdata[i];
        if (w->type != YT_SCALAR)
            return FALSE;
        if (i == 1 && strcmp(w->text, "-c") == 0)
            continue;
        g_string_append_printf(line, "%s ", w->text);
    }
    g_auto(GStrv) words = g_strsplit_set(line->str, " ;&|\n\t", -1);
    guint k = 0;
    while (words[k] != NULL && words[k][0] == '\0')
        k++;
    if (words[k] != NULL &&
        (g_str_has_suffix(words[k], "sh") || g_str_has_suffix(words[k], "bash")))
        for (k++; words[k] != NULL && words[k][0] == '\0'; k++)
            ;
    if (words[k] == NULL ||
        (strcmp(words[k], "sleep") != 0 && !g_str_has_suffix(words[k], "/sleep")))
        return FALSE;
    for (k++; words[k] != NULL && words[k][0] == '\0'; k++)
        ;
    return words[k] != NULL && g_ascii_string_to_signed(words[k], 10, 0, 86400, out, NULL);
}

/* Decodes lifecycle.preStop onto c: sleep.seconds (PodLifecycleSleepAction, beta and on by
 * default since v1.30) or an exec hook that sleeps; other hooks count as instant (warned). */
static gboolean
ld_pre_stop(const LdObject *o, const YtNode *lifecycle, const char *path, K8sContainer *c,
            GError **error)
{
    const YtNode *pre = yt_map_get(lifecycle, "preStop");
    if (yt_is_null(pre))
        return TRUE;
    g_autofree char *pp = ld_path(path, "preStop");
    g_autofree char *sp = ld_path(pp, "sleep");
    gint64 seconds = -1;
    if (!ld_expect_map(pre, pp, error) ||
        !ld_get_int(yt_map_get(pre, "sleep"), "seconds", sp, &seconds, error))
        return FALSE;
    const YtNode *exec = yt_map_get(pre, "exec");
    if (seconds < 0 && !ld_exec_sleep(yt_map_get(exec, "command"), &seconds)) {
        ld_warn(o->ld, pre,
                "%s: kpsim models a preStop hook only as a sleep; this one is taken "
                "as instant",
                pp);
        seconds = 0;
    }
    c->has_pre_stop = TRUE;
    c->pre_stop = seconds * SIM_SEC;
    return TRUE;
}

/* Decodes a container onto c; a new one needs a name and an image. Ports, when given, replace
 * the container's ports. */
static gboolean
ld_container(const LdObject *o, const YtNode *item, const char *path, K8sContainer *c,
             gboolean is_new, GError **error)
{
    g_autofree char *np = ld_path(path, "name"), *pp = ld_path(path, "ports");
    g_autofree char *image = NULL;
    if (!ld_check_fields(item, ld_container_fields, o->kind, path, error) ||
        !ld_string(yt_map_get(item, "name"), np, &c->name, error) ||
        !ld_get_string(item, "image", path, &image, error))
        return FALSE;
    if (is_new && c->name == NULL)
        return ld_invalid(o, error, item, "%s: Required value", np);
    if (is_new && image == NULL)
        return ld_invalid(o, error, item, "%s.image: Required value", path);
    if (image != NULL) {
        g_free(c->image);
        c->image = g_steal_pointer(&image);
    }
    const YtNode *lifecycle = yt_map_get(item, "lifecycle");
    g_autofree char *lp = ld_path(path, "lifecycle");
    if (!yt_is_null(lifecycle) &&
        (!ld_expect_map(lifecycle, lp, error) || !ld_pre_stop(o, lifecycle, lp, c, error)))
        return FALSE;
    const YtNode *ports = yt_map_get(item, "ports");
    gboolean ok;
    guint len = ld_seq_len(ports, pp, &ok, error);
    if (!ok)
        return FALSE;
    if (!yt_is_null(ports)) {
        for (guint i = 0; i < c->ports->len; i++)
            g_free(g_array_index(c->ports, K8sContainerPort, i).name);
        g_array_set_size(c->ports, 0);
    }
    for (guint i = 0; i < len; i++) {
        g_autofree char *p = ld_path_index(pp, i);
        K8sContainerPort cp = {NULL, 0, SIM_PROTO_TCP};
        gboolean port_ok = ld_container_port(o, ports->items->pdata[i], p, &cp, error);
        g_array_append_val(c->ports, cp);
        if (!port_ok)
            return FALSE;
    }
    return TRUE;
}

/* Finds the container a patch entry merges into (same name), or NULL. */
static K8sContainer *
ld_find_container(const K8sPodSpec *ps, const YtNode *item)
{
    const YtNode *name = yt_map_get(item, "name");
    if (name == NULL || name->type != YT_SCALAR)
        return NULL;
    for (guint i = 0; i < ps->containers->len; i++) {
        K8sContainer *c = ps->containers->pdata[i];
        if (g_strcmp0(c->name, name->text) == 0)
            return c;
    }
    return NULL;
}

/* Decodes containers: a new list, or (patch) merged by name. */
static gboolean
ld_containers(const LdObject *o, const YtNode *n, const char *path, K8sPodSpec *ps, gboolean patch,
              GError **error)
{
    gboolean ok;
    guint len = ld_seq_len(n, path, &ok, error);
    if (!ok)
        return FALSE;
    if (!patch && !yt_is_null(n))
        g_ptr_array_set_size(ps->containers, 0);
    for (guint i = 0; i < len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        K8sContainer *existing = patch ? ld_find_container(ps, item) : NULL;
        if (existing != NULL) {
            if (!ld_container(o, item, p, existing, FALSE, error))
                return FALSE;
            continue;
        }
        K8sContainer *c = k8s_container_new();
        if (!ld_container(o, item, p, c, TRUE, error)) {
            k8s_container_free(c);
            return FALSE;
        }
        g_ptr_array_add(ps->containers, c);
    }
    return TRUE;
}

static const char *const ld_pod_spec_fields[] = {"containers",
                                                 "initContainers",
                                                 "ephemeralContainers",
                                                 "nodeName",
                                                 "nodeSelector",
                                                 "affinity",
                                                 "tolerations",
                                                 "terminationGracePeriodSeconds",
                                                 "activeDeadlineSeconds",
                                                 "restartPolicy",
                                                 "serviceAccountName",
                                                 "serviceAccount",
                                                 "automountServiceAccountToken",
                                                 "volumes",
                                                 "hostNetwork",
                                                 "hostPID",
                                                 "hostIPC",
                                                 "shareProcessNamespace",
                                                 "dnsPolicy",
                                                 "dnsConfig",
                                                 "securityContext",
                                                 "imagePullSecrets",
                                                 "hostname",
                                                 "subdomain",
                                                 "schedulerName",
                                                 "topologySpreadConstraints",
                                                 "priorityClassName",
                                                 "priority",
                                                 "readinessGates",
                                                 "runtimeClassName",
                                                 "enableServiceLinks",
                                                 "preemptionPolicy",
                                                 "overhead",
                                                 "hostAliases",
                                                 "os",
                                                 "hostUsers",
                                                 "schedulingGates",
                                                 "resourceClaims",
                                                 "setHostnameAsFQDN",
                                                 "resources",
                                                 NULL};

/* Decodes a PodSpec onto ps. at positions a missing spec's errors. */
static gboolean
ld_pod_spec(const LdObject *o, const YtNode *spec, const YtNode *at, const char *path,
            K8sPodSpec *ps, gboolean patch, GError **error)
{
    g_autofree char *cp = ld_path(path, "containers"), *gp = NULL;
    gint64 grace = -1;
    gboolean host_network = FALSE;
    const YtNode *grace_node = yt_map_get(spec, "terminationGracePeriodSeconds");
    if (!ld_expect_map(spec, path, error) ||
        !ld_check_fields(spec, ld_pod_spec_fields, o->kind, path, error) ||
        !ld_containers(o, yt_map_get(spec, "containers"), cp, ps, patch, error) ||
        !ld_get_string(spec, "nodeName", path, &ps->node_name, error) ||
        !ld_get_int(spec, "terminationGracePeriodSeconds", path, &grace, error) ||
        !ld_get_bool(spec, "hostNetwork", path, &host_network, error))
        return FALSE;
    if (!patch && ps->containers->len == 0)
        return ld_invalid(o, error, spec != NULL ? spec : at, "%s: Required value", cp);
    if (!yt_is_null(grace_node)) {
        gp = ld_path(path, "terminationGracePeriodSeconds");
        if (grace < 0)
            return ld_invalid(o, error, grace_node,
                              "%s: Invalid value: %" G_GINT64_FORMAT
                              ": must be greater than or equal to 0",
                              gp, grace);
        ps->termination_grace = grace * SIM_SEC;
    }
    const YtNode *node = yt_map_get(spec, "nodeName");
    if (!yt_is_null(node)) {
        g_autofree char *np = ld_path(path, "nodeName");
        ld_add_node_ref(o->ld, node, np);
    }
    if (host_network)
        ld_warn(o->ld, yt_map_get(spec, "hostNetwork"),
                "hostNetwork pods are simulated as ordinary pods with their own IP");
    return TRUE;
}

/* ---------------------------------------------------------------- Pod */

/* Decodes Pod status: IP, phase and the Ready condition. A Pod without status is taken as
 * running and Ready; a phase other than Running or a Ready condition not True makes it not
 * Ready. */
static gboolean
ld_pod_status(const LdObject *o, const YtNode *st, K8sPod *p, GError **error)
{
    static const char *const fields[] = {"podIP",
                                         "podIPs",
                                         "phase",
                                         "conditions",
                                         "hostIP",
                                         "hostIPs",
                                         "startTime",
                                         "containerStatuses",
                                         "initContainerStatuses",
                                         "ephemeralContainerStatuses",
                                         "qosClass",
                                         "message",
                                         "reason",
                                         "nominatedNodeName",
                                         "resize",
                                         "resourceClaimStatuses",
                                         "observedGeneration",
                                         NULL};
    static const char *const phases[] = {"Failed",    "Pending", "Running",
                                         "Succeeded", "Unknown", NULL};
    static const char *const cond_fields[] = {
        "type",   "status",  "lastProbeTime",      "lastTransitionTime",
        "reason", "message", "observedGeneration", NULL};
    static const char *const statuses[] = {"False", "True", "Unknown", NULL};
    SimAddr host_ip;
    guint phase = G_MAXUINT;
    const YtNode *ips = yt_map_get(st, "podIPs"), *conds = yt_map_get(st, "conditions");
    gboolean ok = ld_expect_map(st, "status", error) &&
                  ld_check_fields(st, fields, "Pod", "status", error) &&
                  ld_ip(o, yt_map_get(st, "podIP"), "status.podIP", &p->ip, error) &&
                  ld_ip(o, yt_map_get(st, "hostIP"), "status.hostIP", &host_ip, error) &&
                  ld_enum(o, yt_map_get(st, "phase"), "status.phase", phases, &phase, error);
    guint n = ok ? ld_seq_len(ips, "status.podIPs", &ok, error) : 0;
    for (guint i = 0; ok && i < n; i++) {
        static const char *const ip_fields[] = {"ip", NULL};
        g_autofree char *path = ld_path_index("status.podIPs", i), *ipp = ld_path(path, "ip");
        SimAddr a = {0};
        const YtNode *item = ips->items->pdata[i];
        ok = ld_check_fields(item, ip_fields, "Pod", path, error) &&
             ld_ip(o, yt_map_get(item, "ip"), ipp, &a, error);
        if (ok && i == 0 && p->ip.family == SIM_AF_NONE)
            p->ip = a;
    }
    p->ready = phase == G_MAXUINT || phase == 2;
    n = ok ? ld_seq_len(conds, "status.conditions", &ok, error) : 0;
    for (guint i = 0; ok && i < n; i++) {
        g_autofree char *path = ld_path_index("status.conditions", i);
        g_autofree char *type = NULL;
        g_autofree char *sp = ld_path(path, "status");
        guint status = G_MAXUINT;
        const YtNode *item = conds->items->pdata[i];
        ok = ld_check_fields(item, cond_fields, "Pod", path, error) &&
             ld_get_string(item, "type", path, &type, error) &&
             ld_enum(o, yt_map_get(item, "status"), sp, statuses, &status, error);
        if (ok && g_strcmp0(type, "Ready") == 0)
            p->ready = status == 1;
    }
    return ok;
}

/* See loader_private.h. Decodes a kind: Pod document. */
gboolean
ld_pod_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    g_autoptr(K8sPod) p = k8s_pod_new();
    if (!ld_check_fields(root, fields, "Pod", "", error) ||
        !ld_object_meta(ld, root, "Pod", "pods", LD_NAME_DNS1123_SUBDOMAIN, TRUE, &p->meta, error))
        return FALSE;
    LdObject o = {ld, "Pod", p->meta.name};
    if (!ld_pod_spec(&o, yt_map_get(root, "spec"), root, "spec", &p->spec, FALSE, error) ||
        !ld_pod_status(&o, yt_map_get(root, "status"), p, error))
        return FALSE;
    p->node_name = g_strdup(p->spec.node_name);
    p->terminating = !yt_is_null(yt_map_get(yt_map_get(root, "metadata"), "deletionTimestamp"));
    g_ptr_array_add(ld->sc->pods, g_steal_pointer(&p));
    return TRUE;
}

/* ---------------------------------------------------------------- Deployment */

/* Decodes spec.selector {matchLabels, matchExpressions}. */
static gboolean
ld_deployment_selector(const LdObject *o, const YtNode *sel, K8sDeployment *d, GError **error)
{
    static const char *const fields[] = {"matchLabels", "matchExpressions", NULL};
    const YtNode *exprs = yt_map_get(sel, "matchExpressions");
    gboolean ok;
    if (yt_is_null(sel))
        return TRUE;
    if (!ld_expect_map(sel, "spec.selector", error) ||
        !ld_check_fields(sel, fields, o->kind, "spec.selector", error) ||
        !ld_get_string_map(sel, "matchLabels", "spec.selector", &d->match_labels, error))
        return FALSE;
    guint n = ld_seq_len(exprs, "spec.selector.matchExpressions", &ok, error);
    if (!ok)
        return FALSE;
    d->selector_pos = ld_pos(sel);
    if (n > 0) {
        d->selector_has_expressions = TRUE;
        ld_warn(o->ld, exprs, "matchExpressions are accepted but not evaluated by kpsim");
    }
    return TRUE;
}

/* Decodes spec.template {metadata, spec}. */
static gboolean
ld_deployment_template(const LdObject *o, const YtNode *spec, K8sDeployment *d, gboolean patch,
                       GError **error)
{
    static const char *const fields[] = {"metadata", "spec", NULL};
    const YtNode *tpl = yt_map_get(spec, "template");
    const YtNode *meta = yt_map_get(tpl, "metadata");
    const YtNode *labels = yt_map_get(meta, "labels");
    if (!ld_expect_map(tpl, "spec.template", error) ||
        !ld_check_fields(tpl, fields, o->kind, "spec.template", error) ||
        !ld_expect_map(meta, "spec.template.metadata", error) ||
        !ld_check_fields(meta, ld_meta_fields, o->kind, "spec.template.metadata", error) ||
        !ld_string_map(labels, "spec.template.metadata.labels", &d->template_.labels, error))
        return FALSE;
    if (!yt_is_null(tpl))
        d->template_labels_pos = ld_pos(!yt_is_null(labels) ? labels : tpl);
    if (patch && yt_is_null(tpl))
        return TRUE;
    return ld_pod_spec(o, yt_map_get(tpl, "spec"), tpl != NULL ? tpl : spec, "spec.template.spec",
                       &d->template_, patch, error);
}

/* Decodes an IntOrString of rollingUpdate ("25%" or 1) into *value / *percent; a percentage
 * above 100% is refused when at_most_100 (maxUnavailable, as IsNotMoreThan100Percent). */
static gboolean
ld_int_or_percent(const LdObject *o, const YtNode *n, const char *path, gboolean at_most_100,
                  gint *value, gboolean *percent, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    gint64 v = -1;
    const char *text = n->type == YT_SCALAR ? n->text : "";
    gsize len = strlen(text);
    if (len > 1 && text[len - 1] == '%') {
        g_autofree char *digits = g_strndup(text, len - 1);
        if (!g_ascii_string_to_signed(digits, 10, 0, G_MAXINT32, &v, NULL))
            return ld_invalid(o, error, n,
                              "%s: Invalid value: \"%s\": a valid percent string "
                              "must be a numeric string followed by an ending '%%'",
                              path, text);
        if (at_most_100 && v > 100)
            return ld_invalid(o, error, n,
                              "%s: Invalid value: \"%s\": must not be greater "
                              "than 100%%",
                              path, text);
        *percent = TRUE;
    } else {
        if (!ld_int(n, path, &v, error))
            return FALSE;
        if (v < 0 || v > G_MAXINT32)
            return ld_invalid(o, error, n,
                              "%s: Invalid value: %" G_GINT64_FORMAT ": must be "
                              "greater than or equal to 0",
                              path, v);
        *percent = FALSE;
    }
    *value = (gint)v;
    return TRUE;
}

/* Decodes spec.strategy {type: RollingUpdate|Recreate, rollingUpdate: {maxSurge,
 * maxUnavailable}}; both limits 0 is invalid, as the API says. */
static gboolean
ld_deployment_strategy(const LdObject *o, const YtNode *n, K8sDeployment *d, GError **error)
{
    static const char *const fields[] = {"type", "rollingUpdate", NULL};
    static const char *const ru_fields[] = {"maxSurge", "maxUnavailable", NULL};
    static const char *const types[] = {"RollingUpdate", "Recreate", NULL};
    if (yt_is_null(n))
        return TRUE;
    const YtNode *type = yt_map_get(n, "type"), *ru = yt_map_get(n, "rollingUpdate");
    guint type_index = 0;
    if (!ld_expect_map(n, "spec.strategy", error) ||
        !ld_check_fields(n, fields, o->kind, "spec.strategy", error) ||
        !ld_enum(o, type, "spec.strategy.type", types, &type_index, error) ||
        !ld_check_fields(ru, ru_fields, o->kind, "spec.strategy.rollingUpdate", error) ||
        !ld_int_or_percent(o, yt_map_get(ru, "maxSurge"), "spec.strategy.rollingUpdate.maxSurge",
                           FALSE, &d->max_surge, &d->max_surge_percent, error) ||
        !ld_int_or_percent(o, yt_map_get(ru, "maxUnavailable"),
                           "spec.strategy.rollingUpdate.maxUnavailable", TRUE, &d->max_unavailable,
                           &d->max_unavailable_percent, error))
        return FALSE;
    d->strategy_recreate = type_index == 1;
    if (d->strategy_recreate && !yt_is_null(ru))
        return ld_invalid(o, error, ru,
                          "spec.strategy.rollingUpdate: Forbidden: may not be "
                          "specified when strategy `type` is 'Recreate'");
    if (!d->strategy_recreate && d->max_surge == 0 && d->max_unavailable == 0)
        return ld_invalid(o, error, ru != NULL ? ru : n,
                          "spec.strategy.rollingUpdate."
                          "maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0");
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_deployment_spec(const LdObject *o, const YtNode *spec, K8sDeployment *d, gboolean patch,
                   GError **error)
{
    static const char *const fields[] = {"replicas",
                                         "selector",
                                         "template",
                                         "strategy",
                                         "minReadySeconds",
                                         "revisionHistoryLimit",
                                         "progressDeadlineSeconds",
                                         "paused",
                                         NULL};
    gint64 replicas = d->replicas;
    const YtNode *rn = yt_map_get(spec, "replicas");
    if (!ld_check_fields(spec, fields, o->kind, "spec", error) ||
        !ld_int(rn, "spec.replicas", &replicas, error))
        return FALSE;
    if (replicas < 0 || replicas > G_MAXINT32)
        return ld_invalid(o, error, rn,
                          "spec.replicas: Invalid value: %" G_GINT64_FORMAT
                          ": must be greater than or equal to 0",
                          replicas);
    if (replicas > LD_MAX_REPLICAS) /* refused before any pod is allocated */
        return ld_invalid(o, error, rn,
                          "spec.replicas: Invalid value: %" G_GINT64_FORMAT
                          ": must be less than or equal to %d (the most pods a Kubernetes "
                          "cluster supports, kpsim's limit)",
                          replicas, LD_MAX_REPLICAS);
    d->replicas = (gint)replicas;
    if (!yt_is_null(rn))
        d->replicas_pos = ld_pos(rn);
    return ld_deployment_strategy(o, yt_map_get(spec, "strategy"), d, error) &&
           ld_deployment_selector(o, yt_map_get(spec, "selector"), d, error) &&
           ld_deployment_template(o, spec, d, patch, error);
}

/* Appends text as Go's strconv.Quote does for printable UTF-8 (%#v quotes map keys and values). */
static void
ld_go_quote(GString *out, const char *text)
{
    g_string_append_c(out, '"');
    ld_append_escaped(out, text, TRUE);
    g_string_append_c(out, '"');
}

/* Formats labels as Go's %#v prints a map[string]string (keys sorted). (transfer full) */
static char *
ld_go_map(GHashTable *labels)
{
    if (labels == NULL)
        return g_strdup("map[string]string(nil)");
    GString *out = g_string_new("map[string]string{");
    GList *keys = g_list_sort(g_hash_table_get_keys(labels), (GCompareFunc)strcmp);
    for (GList *k = keys; k != NULL; k = k->next) {
        if (k != keys)
            g_string_append(out, ", ");
        ld_go_quote(out, k->data);
        g_string_append_c(out, ':');
        ld_go_quote(out, g_hash_table_lookup(labels, k->data));
    }
    g_list_free(keys);
    g_string_append_c(out, '}');
    return g_string_free(out, FALSE);
}

/* See loader_private.h. */
gboolean
ld_deployment_validate(const K8sDeployment *d, GError **error)
{
    LdObject o = {NULL, "Deployment", d->meta.name};
    gsize n = d->match_labels != NULL ? g_hash_table_size(d->match_labels) : 0;
    if (d->selector_pos.line == 0)
        return ld_invalid_pos(&o, error, &d->meta.pos, "spec.selector: Required value");
    if (n == 0 && !d->selector_has_expressions)
        return ld_invalid_pos(&o, error, &d->selector_pos,
                              "spec.selector: Invalid value: \"{}\": empty selector is invalid "
                              "for deployment");
    GHashTableIter it;
    gpointer k, v;
    if (d->match_labels != NULL)
        g_hash_table_iter_init(&it, d->match_labels);
    while (n > 0 && g_hash_table_iter_next(&it, &k, &v)) {
        const char *have =
            d->template_.labels != NULL ? g_hash_table_lookup(d->template_.labels, k) : NULL;
        if (have != NULL && strcmp(have, v) == 0)
            continue;
        g_autofree char *map = ld_go_map(d->template_.labels);
        const K8sPos *pos =
            d->template_labels_pos.line != 0 ? &d->template_labels_pos : &d->selector_pos;
        return ld_invalid_pos(&o, error, pos,
                              "spec.template.metadata.labels: Invalid value: %s: `selector` does "
                              "not match template `labels`",
                              map);
    }
    return TRUE;
}

/* See loader_private.h. Decodes a kind: Deployment document. */
gboolean
ld_deployment_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    g_autoptr(K8sDeployment) d = k8s_deployment_new();
    if (!ld_check_fields(root, fields, "Deployment", "", error) ||
        !ld_object_meta(ld, root, "Deployment", "deployments", LD_NAME_DNS1123_SUBDOMAIN, TRUE,
                        &d->meta, error))
        return FALSE;
    LdObject o = {ld, "Deployment", d->meta.name};
    const YtNode *spec = yt_map_get(root, "spec");
    if (yt_is_null(spec))
        return ld_invalid(&o, error, root, "spec.template.spec.containers: Required value");
    if (!ld_expect_map(spec, "spec", error) || !ld_deployment_spec(&o, spec, d, FALSE, error))
        return FALSE;
    g_ptr_array_add(ld->sc->deployments, g_steal_pointer(&d));
    return TRUE;
}
