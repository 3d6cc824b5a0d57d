/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for kube-proxy's iptables mode: chain-name hashes, the per-node endpoint view, and the
 * rendered rules compared with iptables-save output from docs/datapath-semantics.md.
 *
 * Golden files live in tests/golden/rules/. Running with UPDATE_GOLDEN=1 rewrites them instead
 * of comparing (review every regenerated file by hand: seed-cluster-node1.nat is the document's
 * own §3.10 block: it is only read, never rewritten). Clusters are built directly in C; the
 * conformance scenarios transcribed from kube-proxy's unit tests (tests/conformance/kube-proxy
 * when the project has its copy, else shared/conformance/kube-proxy beside the source tree) are
 * loaded through the YAML loader, and their probes replayed through sim/nf_eval.
 */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "model/kube_proxy.h"
#include "model/kube_proxy_endpoints.h"
#include "model/kube_proxy_private.h"
#include "model/loader.h"
#include "sim/nf_eval.h"
#include "tests/test_util.h"

#include <json-glib/json-glib.h>

#define SEED_SVC "default/nginx-service-nodeport"
#define SEED_H "SW7F3NCRFKRM23GY"
#define SEP_A "KUBE-SEP-SCQ73FPSOLNXZRH2" /* 10.244.1.5:80 on node-2 */
#define SEP_B "KUBE-SEP-LXLUHS7SMGZB2VF5" /* 10.244.2.7:80 on node-3 */

/* ---------------------------------------------------------------- fixture: a cluster in C */

/* A cluster built by hand, with the kube-proxy configuration it points to. */
typedef struct {
    KubeProxyConfig cfg;
    Cluster *c;
} Fx;

/* Frees a fixture and everything in its cluster. */
static void
fx_free(Fx *fx)
{
    cluster_free(fx->c);
    kube_proxy_config_clear(&fx->cfg);
    g_free(fx);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fx, fx_free)

/* An empty cluster with kube-proxy's defaults and clusterCIDR cluster_cidr (nullable). */
static Fx *
fx_new(const char *cluster_cidr)
{
    Fx *fx = g_new0(Fx, 1);
    kube_proxy_config_init(&fx->cfg);
    if (cluster_cidr != NULL) {
        SimCidr cc = cidr(cluster_cidr);
        g_array_append_val(fx->cfg.cluster_cidrs, cc);
        fx->cfg.cluster_cidr_set = TRUE;
    }
    Cluster *c = g_new0(Cluster, 1);
    c->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_node_free);
    c->pods = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_pod_free);
    c->deployments = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_deployment_free);
    c->services = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_service_free);
    c->slices = g_ptr_array_new_with_free_func((GDestroyNotify)k8s_endpoint_slice_free);
    c->warnings = g_ptr_array_new_with_free_func(g_free);
    c->proxy = &fx->cfg;
    fx->c = c;
    return fx;
}

/* Adds a Ready node with addresses (a NULL-terminated list) and pod CIDR pod_cidr (nullable). */
static K8sNode *
fx_node(Fx *fx, const char *name, const char *pod_cidr, const char *first, ...)
{
    K8sNode *n = k8s_node_new();
    n->name = g_strdup(name);
    n->ready = TRUE;
    if (pod_cidr != NULL)
        n->pod_cidr = cidr(pod_cidr);
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        SimAddr ip = addr(a);
        g_array_append_val(n->addresses, ip);
    }
    va_end(ap);
    g_ptr_array_add(fx->c->nodes, n);
    return n;
}

/* The node called name. */
static const K8sNode *
fx_find_node(Fx *fx, const char *name)
{
    for (guint i = 0; i < fx->c->nodes->len; i++) {
        const K8sNode *n = fx->c->nodes->pdata[i];
        if (strcmp(n->name, name) == 0)
            return n;
    }
    ck_abort_msg("no node %s", name);
    return NULL;
}

/* Adds a Service ns/name of type with clusterIP cluster_ip ("None" = headless). */
static K8sService *
fx_service(Fx *fx, const char *ns, const char *name, K8sServiceType type, const char *cluster_ip)
{
    K8sService *s = k8s_service_new();
    g_free(s->meta.namespace_);
    s->meta.namespace_ = g_strdup(ns);
    s->meta.name = g_strdup(name);
    s->type = type;
    if (cluster_ip != NULL && strcmp(cluster_ip, "None") == 0) {
        s->cluster_ip_none = TRUE;
    } else if (cluster_ip != NULL) {
        SimAddr ip = addr(cluster_ip);
        g_array_append_val(s->cluster_ips, ip);
    }
    g_ptr_array_add(fx->c->services, s);
    return s;
}

/* Adds a port (name "" = unnamed) to s. */
static K8sServicePort *
svc_port(K8sService *s, const char *name, SimProto proto, guint16 port, guint16 target,
         guint16 node_port)
{
    K8sServicePort *p = g_new0(K8sServicePort, 1);
    p->name = g_strdup(name);
    p->protocol = proto;
    p->port = port;
    p->target_port = target;
    p->node_port = node_port;
    g_ptr_array_add(s->ports, p);
    return p;
}

/* Adds a status.loadBalancer.ingress IP to s. */
static void
svc_lb_ingress(K8sService *s, const char *ip, gboolean proxy_mode)
{
    K8sLoadBalancerIngress *in = g_new0(K8sLoadBalancerIngress, 1);
    in->ip = addr(ip);
    in->ip_mode_proxy = proxy_mode;
    g_ptr_array_add(s->lb_ingress, in);
}

/* Adds an EndpointSlice for service ns/svc of family with one port. */
static K8sEndpointSlice *
fx_slice(Fx *fx, const char *ns, const char *svc, const char *name, SimFamily family,
         const char *port_name, SimProto proto, guint16 port)
{
    K8sEndpointSlice *s = k8s_endpoint_slice_new();
    g_free(s->meta.namespace_);
    s->meta.namespace_ = g_strdup(ns);
    s->meta.name = g_strdup(name);
    s->service_name = g_strdup(svc);
    s->address_type = family;
    K8sEndpointPort *p = g_new0(K8sEndpointPort, 1);
    p->name = g_strdup(port_name);
    p->protocol = proto;
    p->port = port;
    g_ptr_array_add(s->ports, p);
    g_ptr_array_add(fx->c->slices, s);
    return s;
}

/* Adds an endpoint at ip on node (nullable) with unset conditions. */
static K8sEndpoint *
slice_ep(K8sEndpointSlice *s, const char *ip, const char *node)
{
    K8sEndpoint *e = k8s_endpoint_new();
    SimAddr a = addr(ip);
    g_array_append_val(e->addresses, a);
    e->node_name = g_strdup(node);
    g_ptr_array_add(s->endpoints, e);
    return e;
}

/* The seed of docs/datapath-semantics.md: three nodes, default/nginx-service-nodeport (NodePort
 * 30080 -> 80) with pod A 10.244.1.5 on node-2 and pod B 10.244.2.7 on node-3. */
static Fx *
fx_seed(K8sTrafficPolicy etp)
{
    Fx *fx = fx_new("10.244.0.0/16");
    fx_node(fx, "node-1", "10.244.0.0/24", "192.168.10.11", NULL);
    fx_node(fx, "node-2", "10.244.1.0/24", "192.168.10.12", NULL);
    fx_node(fx, "node-3", "10.244.2.0/24", "192.168.10.13", NULL);
    K8sService *s =
        fx_service(fx, "default", "nginx-service-nodeport", K8S_SVC_NODE_PORT, "10.96.45.10");
    s->external_policy = etp;
    svc_port(s, "", SIM_PROTO_TCP, 80, 80, 30080);
    K8sEndpointSlice *sl =
        fx_slice(fx, "default", "nginx-service-nodeport", "nginx-service-nodeport-x7k2p",
                 SIM_AF_INET, "", SIM_PROTO_TCP, 80);
    slice_ep(sl, "10.244.1.5", "node-2");
    slice_ep(sl, "10.244.2.7", "node-3");
    return fx;
}

/* The seed service of fx. */
static K8sService *
seed_service(Fx *fx)
{
    return fx->c->services->pdata[0];
}

/* ---------------------------------------------------------------- rendering helpers */

/* Renders node's ruleset of family and returns table in iptables-save form. (transfer full) */
static char *
render_table(Fx *fx, const char *node, SimFamily family, NfTableId table)
{
    g_autoptr(GError) err = NULL;
    NfRuleset *rs = kube_proxy_render(fx->c, fx_find_node(fx, node), family, &err);
    ck_assert_msg(rs != NULL, "render failed: %s", err != NULL ? err->message : "?");
    GString *out = g_string_new(NULL);
    nf_ruleset_save(rs, table, out);
    nf_ruleset_free(rs);
    return g_string_free(out, FALSE);
}

/* The nat table of node (IPv4). (transfer full) */
static char *
nat(Fx *fx, const char *node)
{
    return render_table(fx, node, SIM_AF_INET, NF_TABLE_NAT);
}

/* The filter table of node (IPv4). (transfer full) */
static char *
filter(Fx *fx, const char *node)
{
    return render_table(fx, node, SIM_AF_INET, NF_TABLE_FILTER);
}

/* TRUE when save holds line as a whole line. */
static gboolean
has_line(const char *save, const char *line)
{
    g_autofree char *needle = g_strdup_printf("\n%s\n", line);
    g_autofree char *hay = g_strdup_printf("\n%s", save);
    return strstr(hay, needle) != NULL;
}

/* Asserts save holds line. */
#define ck_assert_line(save, line)                                                                 \
    ck_assert_msg(has_line((save), (line)), "missing line:\n%s\nin:\n%s", (line), (save))
/* Asserts save does not hold line. */
#define ck_assert_no_line(save, line)                                                              \
    ck_assert_msg(!has_line((save), (line)), "unexpected line:\n%s\nin:\n%s", (line), (save))
/* Asserts save does not contain the text anywhere. */
#define ck_assert_no_text(save, text)                                                              \
    ck_assert_msg(strstr((save), (text)) == NULL, "unexpected \"%s\" in:\n%s", (text), (save))

/* The "-A CHAIN ..." lines of chain in save, in order, joined by "\n". (transfer full) */
static char *
chain_rules(const char *save, const char *chain)
{
    g_autofree char *prefix = g_strdup_printf("-A %s ", chain);
    g_auto(GStrv) lines = g_strsplit(save, "\n", -1);
    GString *out = g_string_new(NULL);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], prefix))
            g_string_append_printf(out, "%s\n", lines[i]);
    }
    return g_string_free(out, FALSE);
}

/* Asserts that chain's rules in save are exactly expected ("\n"-terminated lines). */
static void
assert_chain(const char *save, const char *chain, const char *expected)
{
    g_autofree char *got = chain_rules(save, chain);
    ck_assert_msg(strcmp(got, expected) == 0, "chain %s:\n--- expected\n%s--- got\n%s", chain,
                  expected, got);
}

/* Compares actual with tests/golden/rules/name, or rewrites the file when UPDATE_GOLDEN=1. */
static void
assert_golden(const char *name, const char *actual)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "tests", "golden", "rules", name, NULL);
    g_autoptr(GError) err = NULL;
    if (g_strcmp0(g_getenv("UPDATE_GOLDEN"), "1") == 0) {
        ck_assert_msg(g_file_set_contents(path, actual, -1, &err), "%s", err->message);
        return;
    }
    g_autofree char *expected = NULL;
    ck_assert_msg(g_file_get_contents(path, &expected, NULL, &err), "%s", err->message);
    if (strcmp(expected, actual) == 0)
        return;
    g_auto(GStrv) e = g_strsplit(expected, "\n", -1);
    g_auto(GStrv) a = g_strsplit(actual, "\n", -1);
    guint i = 0;
    while (e[i] != NULL && a[i] != NULL && strcmp(e[i], a[i]) == 0)
        i++;
    ck_abort_msg("%s differs at line %u:\n  expected: %s\n  actual:   %s\nfull output:\n%s", name,
                 i + 1, e[i] != NULL ? e[i] : "<end>", a[i] != NULL ? a[i] : "<end>", actual);
}

/* ---------------------------------------------------------------- hashes */

START_TEST(test_hash_matches_upstream_vectors)
{
    static const struct {
        const char *svc, *proto, *ep, *want;
    } cases[] = {
        {"ns1/svc1:p80", "tcp", NULL, "XPGD46QRK7WJZT7O"},
        {"ns1/svc1:p80", "tcp", "10.180.0.1:80", "SXIVWICOYRO3J4NJ"},
        {SEED_SVC, "tcp", NULL, SEED_H},
        {SEED_SVC, "tcp", "10.244.1.5:80", "SCQ73FPSOLNXZRH2"},
        {SEED_SVC, "tcp", "10.244.2.7:80", "LXLUHS7SMGZB2VF5"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *h =
            cases[i].ep == NULL
                ? kube_proxy_port_proto_hash(cases[i].svc, cases[i].proto)
                : kube_proxy_endpoint_hash(cases[i].svc, cases[i].proto, cases[i].ep);
        ck_assert_str_eq(h, cases[i].want);
    }
}
END_TEST

START_TEST(test_hash_differs_by_protocol_and_is_16_base32_chars)
{
    g_autofree char *tcp = kube_proxy_port_proto_hash("ns/svc:dns", "tcp");
    g_autofree char *udp = kube_proxy_port_proto_hash("ns/svc:dns", "udp");
    g_autofree char *v6 = kube_proxy_endpoint_hash("ns/svc:dns", "udp", "[fd00::5]:53");
    ck_assert_str_ne(tcp, udp);
    const char *all[] = {tcp, udp, v6};
    for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
        ck_assert_uint_eq(strlen(all[i]), 16);
        ck_assert_uint_eq(strspn(all[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 16);
    }
}
END_TEST

START_TEST(test_hash_into_writes_what_the_allocating_hash_returns)
{
    static const struct {
        const char *svc, *proto, *ep;
    } cases[] = {
        {"ns1/svc1:p80", "tcp", "10.180.0.1:80"},
        {SEED_SVC, "udp", "[fd00::5]:53"},
        {"", "", ""},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char port[KUBE_PROXY_HASH_SIZE], ep[KUBE_PROXY_HASH_SIZE];
        memset(port, 'x', sizeof port);
        memset(ep, 'x', sizeof ep);
        kube_proxy_port_proto_hash_into(cases[i].svc, cases[i].proto, port);
        kube_proxy_endpoint_hash_into(cases[i].svc, cases[i].proto, cases[i].ep, ep);
        g_autofree char *want_port = kube_proxy_port_proto_hash(cases[i].svc, cases[i].proto);
        g_autofree char *want_ep =
            kube_proxy_endpoint_hash(cases[i].svc, cases[i].proto, cases[i].ep);
        ck_assert_str_eq(port, want_port);
        ck_assert_str_eq(ep, want_ep);
        if (cases[i].ep[0] != '\0') /* an empty endpoint leaves the same input */
            ck_assert_str_ne(port, ep);
    }
}
END_TEST

START_TEST(test_sha256_matches_gchecksum_at_every_length_to_300)
{
    /* Every length 0..300 covers the padding edges (55/56 bytes: the length still fits the last
     * block or not; 63/64, 119/120: one and two full blocks), with bytes of every value. */
    guint8 data[301];
    for (guint i = 0; i < sizeof data; i++)
        data[i] = (guint8)(i * 167u + 13u);
    for (gsize len = 0; len < sizeof data; len++) {
        guint8 got[32], portable[32], want[32];
        gsize want_len = sizeof want;
        kp_sha256_using(FALSE, data, len, got); /* the SHA extensions where there are some */
        kp_sha256_using(TRUE, data, len, portable);
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(sum, data, (gssize)len);
        g_checksum_get_digest(sum, want, &want_len);
        ck_assert_uint_eq(want_len, 32);
        ck_assert_msg(memcmp(got, want, 32) == 0, "SHA-256 of %zu bytes differs", len);
        ck_assert_msg(memcmp(portable, want, 32) == 0, "portable SHA-256 of %zu bytes", len);
    }
}
END_TEST

START_TEST(test_sha256_known_answers)
{
    /* FIPS 180-4 examples ("abc", the 448-bit two-block message) and the empty message. */
    static const struct {
        const char *in, *hex;
    } cases[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (gsize i = 0; i < 2 * G_N_ELEMENTS(cases); i++) {
        const char *in = cases[i / 2].in;
        guint8 d[32];
        char hex[65];
        kp_sha256_using(i % 2 == 1, (const guint8 *)in, strlen(in), d);
        for (guint k = 0; k < 32; k++)
            g_snprintf(hex + 2 * k, 3, "%02x", d[k]);
        ck_assert_str_eq(hex, cases[i / 2].hex);
    }
}
END_TEST

START_TEST(test_hash_of_parts_is_the_hash_of_their_concatenation_at_any_split)
{
    /* The hashes feed name, protocol and endpoint in turn; each split of a long text across the
     * three parts (block boundaries fall anywhere) gives the hash of the whole text. */
    char text[200];
    for (guint i = 0; i < sizeof text - 1; i++)
        text[i] = "abcdefghijklmnopqrstuvwxyz0123456789/:.-"[i % 40];
    text[sizeof text - 1] = '\0';
    for (gsize len = 0; len < sizeof text; len += 7) {
        g_autofree char *whole = g_strndup(text, len);
        char want[KUBE_PROXY_HASH_SIZE];
        kube_proxy_endpoint_hash_into(whole, "", "", want);
        for (gsize a = 0; a <= len; a += 5) {
            for (gsize b = a; b <= len; b += 11) {
                g_autofree char *p1 = g_strndup(text, a);
                g_autofree char *p2 = g_strndup(text + a, b - a);
                g_autofree char *p3 = g_strndup(text + b, len - b);
                char got[KUBE_PROXY_HASH_SIZE];
                kube_proxy_endpoint_hash_into(p1, p2, p3, got);
                ck_assert_str_eq(got, want);
            }
        }
    }
}
END_TEST

/* ---------------------------------------------------------------- endpoint view */

START_TEST(test_each_service_gets_only_its_own_slices_in_slice_name_order)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    fx_node(fx, "node-1", NULL, "192.168.10.11", NULL);
    /* Names that share prefixes across namespaces, slices added out of order. */
    static const char *const names[][2] = {
        {"ns", "web"}, {"ns", "web-a"}, {"ns-a", "web"}, {"n", "s-web"}, {"ns", "zz"}};
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *ip = g_strdup_printf("10.96.0.%zu", 10 + i);
        K8sService *s = fx_service(fx, names[i][0], names[i][1], K8S_SVC_CLUSTER_IP, ip);
        svc_port(s, "http", SIM_PROTO_TCP, 80, 8080, 0);
        svc_port(s, "dns", SIM_PROTO_UDP, 53, 53, 0);
    }
    for (gsize k = G_N_ELEMENTS(names); k-- > 0;) {
        g_autofree char *slice = g_strdup_printf("%s-z", names[k][1]);
        g_autofree char *ip = g_strdup_printf("10.244.%zu.1", k);
        K8sEndpointSlice *sl =
            fx_slice(fx, names[k][0], names[k][1], slice, SIM_AF_INET, "http", SIM_PROTO_TCP, 8080);
        slice_ep(sl, ip, "node-8"); /* remote: the earlier slice by name keeps its copy */
    }
    for (gsize k = 0; k < G_N_ELEMENTS(names) - 1; k++) { /* "zz" has only its "-z" slice */
        g_autofree char *slice = g_strdup_printf("%s-a", names[k][1]);
        g_autofree char *ip1 = g_strdup_printf("10.244.%zu.1", k);
        g_autofree char *ip2 = g_strdup_printf("10.244.%zu.2", k);
        K8sEndpointSlice *sl =
            fx_slice(fx, names[k][0], names[k][1], slice, SIM_AF_INET, "http", SIM_PROTO_TCP, 8080);
        slice_ep(sl, ip1, "node-9");
        slice_ep(sl, ip2, "node-9");
    }

    g_autoptr(KpServiceMap) m = kp_service_map_new(fx->c, fx_find_node(fx, "node-1"), SIM_AF_INET);
    ck_assert_uint_eq(m->ports->len, 2 * G_N_ELEMENTS(names));
    for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
        g_autofree char *name = g_strdup_printf("%s/%s:http", names[k][0], names[k][1]);
        const KpServicePort *sp = kp_service_map_find(m, name, SIM_PROTO_TCP);
        ck_assert_ptr_nonnull(sp);
        gboolean last = k == G_N_ELEMENTS(names) - 1;
        ck_assert_uint_eq(sp->endpoints->len, last ? 1 : 2);
        g_autofree char *ip = g_strdup_printf("10.244.%zu.1:8080", k);
        const KpEndpoint *ep = sp->endpoints->pdata[0];
        ck_assert_str_eq(ep->str, ip);
        ck_assert_str_eq(ep->source->node_name, last ? "node-8" : "node-9");
        ck_assert_uint_eq(ep->index, 0);
        g_autofree char *dns = g_strdup_printf("%s/%s:dns", names[k][0], names[k][1]);
        const KpServicePort *udp = kp_service_map_find(m, dns, SIM_PROTO_UDP);
        ck_assert_ptr_nonnull(udp);
        ck_assert_uint_eq(udp->endpoints->len, 0);
        ck_assert(!udp->has_endpoints);
    }
    ck_assert_uint_eq(m->total_endpoints, 2 * (G_N_ELEMENTS(names) - 1) + 1);
    ck_assert_uint_eq(m->listed_endpoints, m->total_endpoints);
}
END_TEST

START_TEST(test_endpoints_sorted_as_strings_and_deduplicated_preferring_local)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    fx_node(fx, "node-1", NULL, "192.168.10.11", NULL);
    K8sService *s = fx_service(fx, "ns", "web", K8S_SVC_CLUSTER_IP, "10.96.0.20");
    svc_port(s, "http", SIM_PROTO_TCP, 80, 8080, 0);
    K8sEndpointSlice *a =
        fx_slice(fx, "ns", "web", "web-a", SIM_AF_INET, "http", SIM_PROTO_TCP, 8080);
    slice_ep(a, "10.244.9.1", "node-9");
    slice_ep(a, "10.244.10.2", "node-7");
    K8sEndpointSlice *b =
        fx_slice(fx, "ns", "web", "web-b", SIM_AF_INET, "http", SIM_PROTO_TCP, 8080);
    slice_ep(b, "10.244.10.2", "node-1"); /* duplicate, local: replaces the first */
    slice_ep(b, "10.244.9.1", "node-8");  /* duplicate, remote: the first stays */
    /* Ports that must not match: another name, another protocol, port 0. */
    fx_slice(fx, "ns", "web", "web-c", SIM_AF_INET, "metrics", SIM_PROTO_TCP, 9090);
    slice_ep(fx->c->slices->pdata[2], "10.244.3.3", "node-1");
    slice_ep(fx_slice(fx, "ns", "web", "web-d", SIM_AF_INET, "http", SIM_PROTO_UDP, 8080),
             "10.244.4.4", "node-1");
    slice_ep(fx_slice(fx, "ns", "web", "web-e", SIM_AF_INET, "http", SIM_PROTO_TCP, 0),
             "10.244.5.5", "node-1");
    /* Another namespace's slice with the same service name. */
    slice_ep(fx_slice(fx, "other", "web", "web-f", SIM_AF_INET, "http", SIM_PROTO_TCP, 8080),
             "10.244.6.6", "node-1");

    g_autoptr(KpServiceMap) m = kp_service_map_new(fx->c, fx_find_node(fx, "node-1"), SIM_AF_INET);
    ck_assert_uint_eq(m->ports->len, 1);
    const KpServicePort *sp = kp_service_map_find(m, "ns/web:http", SIM_PROTO_TCP);
    ck_assert_ptr_nonnull(sp);
    ck_assert_ptr_null(kp_service_map_find(m, "ns/web:http", SIM_PROTO_UDP));
    ck_assert_str_eq(sp->name, "ns/web:http");
    ck_assert_uint_eq(sp->endpoints->len, 2);
    const KpEndpoint *e0 = sp->endpoints->pdata[0], *e1 = sp->endpoints->pdata[1];
    ck_assert_str_eq(e0->str, "10.244.10.2:8080"); /* "10.244.10" < "10.244.9." as strings */
    ck_assert(e0->local);
    ck_assert_str_eq(e0->source->node_name, "node-1");
    ck_assert_str_eq(e1->str, "10.244.9.1:8080");
    ck_assert(!e1->local);
    ck_assert_str_eq(e1->source->node_name, "node-9");
    ck_assert_uint_eq(e1->index, 1);
    ck_assert_uint_eq(m->total_endpoints, 2);
}
END_TEST

START_TEST(test_endpoints_skip_headless_external_name_and_other_family)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    fx_node(fx, "node-1", NULL, "192.168.10.11", "fd00:10::11", NULL);
    svc_port(fx_service(fx, "ns", "headless", K8S_SVC_CLUSTER_IP, "None"), "", SIM_PROTO_TCP, 80,
             80, 0);
    K8sService *ext = fx_service(fx, "ns", "ext", K8S_SVC_EXTERNAL_NAME, NULL);
    ext->external_name = g_strdup("db.example.com");
    svc_port(ext, "", SIM_PROTO_TCP, 5432, 5432, 0);
    svc_port(fx_service(fx, "ns", "v6", K8S_SVC_CLUSTER_IP, "fd00:96::10"), "", SIM_PROTO_TCP, 80,
             80, 0);
    K8sService *v4 = fx_service(fx, "ns", "v4", K8S_SVC_CLUSTER_IP, "10.96.0.10");
    svc_port(v4, "", SIM_PROTO_TCP, 80, 80, 0);
    K8sEndpointSlice *sl = fx_slice(fx, "ns", "v4", "v4-a", SIM_AF_INET, "", SIM_PROTO_TCP, 80);
    slice_ep(sl, "fd00:244::5", "node-1"); /* wrong family inside an IPv4 slice */
    slice_ep(sl, "10.244.0.5", "node-1");

    const K8sNode *n = fx_find_node(fx, "node-1");
    g_autoptr(KpServiceMap) m4 = kp_service_map_new(fx->c, n, SIM_AF_INET);
    ck_assert_uint_eq(m4->ports->len, 1);
    const KpServicePort *sp = m4->ports->pdata[0];
    ck_assert_str_eq(sp->name, "ns/v4");
    ck_assert_uint_eq(sp->endpoints->len, 1);
    ck_assert_str_eq(((KpEndpoint *)sp->endpoints->pdata[0])->str, "10.244.0.5:80");
    g_autoptr(KpServiceMap) m6 = kp_service_map_new(fx->c, n, SIM_AF_INET6);
    ck_assert_uint_eq(m6->ports->len, 1);
    ck_assert_str_eq(((KpServicePort *)m6->ports->pdata[0])->name, "ns/v6");
}
END_TEST

START_TEST(test_service_port_front_ends_are_split_by_family_and_named_as_kube_proxy_does)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    fx_node(fx, "node-1", NULL, "192.168.10.11", "fd00:10::11", NULL);
    K8sService *s = fx_service(fx, "shop", "front", K8S_SVC_LOAD_BALANCER, "10.96.0.30");
    SimAddr cip6 = addr("fd00:96::30");
    g_array_append_val(s->cluster_ips, cip6);
    svc_port(s, "https", SIM_PROTO_TCP, 443, 8443, 30443);
    svc_port(s, "", SIM_PROTO_UDP, 53, 53, 0);
    const char *ext[] = {"203.0.113.7", "2001:db8::7", "203.0.113.8"};
    for (gsize i = 0; i < G_N_ELEMENTS(ext); i++) {
        SimAddr a = addr(ext[i]);
        g_array_append_val(s->external_ips, a);
    }
    svc_lb_ingress(s, "198.51.100.1", FALSE);
    svc_lb_ingress(s, "198.51.100.2", TRUE); /* ipMode Proxy: no VIP */
    svc_lb_ingress(s, "2001:db8::1", FALSE);
    SimCidr r4 = cidr("198.18.0.0/15"), r6 = cidr("2001:db8::/32");
    g_array_append_val(s->source_ranges, r6);
    g_array_append_val(s->source_ranges, r4);

    const K8sNode *n = fx_find_node(fx, "node-1");
    g_autoptr(KpServiceMap) m4 = kp_service_map_new(fx->c, n, SIM_AF_INET);
    g_autoptr(KpServiceMap) m6 = kp_service_map_new(fx->c, n, SIM_AF_INET6);
    ck_assert_uint_eq(m4->ports->len, 2);
    ck_assert_uint_eq(m6->ports->len, 2);
    const KpServicePort *https4 = kp_service_map_find(m4, "shop/front:https", SIM_PROTO_TCP);
    const KpServicePort *dns6 = kp_service_map_find(m6, "shop/front", SIM_PROTO_UDP);
    ck_assert_ptr_nonnull(https4);
    ck_assert_ptr_nonnull(dns6);
    char buf[SIM_CIDR_STRLEN];
    ck_assert_uint_eq(https4->external_ips->len, 2);
    ck_assert_str_eq(sim_addr_to_string(&g_array_index(https4->external_ips, SimAddr, 0), buf),
                     "203.0.113.7");
    ck_assert_str_eq(sim_addr_to_string(&g_array_index(https4->external_ips, SimAddr, 1), buf),
                     "203.0.113.8");
    ck_assert_uint_eq(https4->lb_vips->len, 1);
    ck_assert_str_eq(sim_addr_to_string(&g_array_index(https4->lb_vips, SimAddr, 0), buf),
                     "198.51.100.1");
    ck_assert_uint_eq(https4->source_ranges->len, 1);
    ck_assert_str_eq(sim_cidr_to_string(&g_array_index(https4->source_ranges, SimCidr, 0), buf),
                     "198.18.0.0/15");
    ck_assert_uint_eq(dns6->external_ips->len, 1);
    ck_assert_str_eq(sim_addr_to_string(&g_array_index(dns6->external_ips, SimAddr, 0), buf),
                     "2001:db8::7");
    ck_assert_uint_eq(dns6->lb_vips->len, 1);
    ck_assert_uint_eq(dns6->source_ranges->len, 1);
    ck_assert_str_eq(sim_cidr_to_string(&g_array_index(dns6->source_ranges, SimCidr, 0), buf),
                     "2001:db8::/32");
    /* No slices: every endpoint list exists and is empty. */
    ck_assert(https4->externally_accessible && !https4->has_endpoints);
    const KpPtrList *lists[] = {https4->endpoints, https4->cluster, https4->local,
                                https4->all_reachable};
    for (gsize i = 0; i < G_N_ELEMENTS(lists); i++) {
        ck_assert_ptr_nonnull(lists[i]);
        ck_assert_uint_eq(lists[i]->len, 0);
    }
    /* The names are k8s_service_port_name()'s. */
    for (guint i = 0; i < s->ports->len; i++) {
        g_autofree char *want = k8s_service_port_name(s, s->ports->pdata[i]);
        const K8sServicePort *p = s->ports->pdata[i];
        ck_assert_ptr_nonnull(kp_service_map_find(m4, want, p->protocol));
    }
}
END_TEST

START_TEST(test_categorize_terminating_fallback)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    fx_node(fx, "node-1", NULL, "192.168.10.11", NULL);
    K8sService *s = fx_service(fx, "ns", "web", K8S_SVC_NODE_PORT, "10.96.0.20");
    s->external_policy = K8S_POLICY_LOCAL;
    svc_port(s, "", SIM_PROTO_TCP, 80, 80, 30001);
    K8sEndpointSlice *sl = fx_slice(fx, "ns", "web", "web-a", SIM_AF_INET, "", SIM_PROTO_TCP, 80);
    K8sEndpoint *gone = slice_ep(sl, "10.244.0.1", "node-1"); /* terminating, not serving */
    gone->ready = K8S_FALSE;
    gone->serving = K8S_FALSE;
    gone->terminating = K8S_TRUE;
    K8sEndpoint *draining = slice_ep(sl, "10.244.0.2", "node-1");
    draining->ready = K8S_FALSE;
    draining->serving = K8S_TRUE;
    draining->terminating = K8S_TRUE;
    K8sEndpoint *remote = slice_ep(sl, "10.244.1.3", "node-2"); /* unset serving counts true */
    remote->ready = K8S_FALSE;
    remote->terminating = K8S_TRUE;
    K8sEndpoint *unready = slice_ep(sl, "10.244.1.4", "node-2");
    unready->ready = K8S_FALSE;

    g_autoptr(KpServiceMap) m = kp_service_map_new(fx->c, fx_find_node(fx, "node-1"), SIM_AF_INET);
    const KpServicePort *sp = m->ports->pdata[0];
    ck_assert(sp->has_endpoints);
    ck_assert(sp->uses_cluster_endpoints && sp->uses_local_endpoints);
    ck_assert_uint_eq(sp->cluster->len, 2);
    ck_assert_str_eq(((KpEndpoint *)sp->cluster->pdata[0])->str, "10.244.0.2:80");
    ck_assert_str_eq(((KpEndpoint *)sp->cluster->pdata[1])->str, "10.244.1.3:80");
    ck_assert_uint_eq(sp->local->len, 1);
    ck_assert_str_eq(((KpEndpoint *)sp->local->pdata[0])->str, "10.244.0.2:80");
    ck_assert_uint_eq(sp->all_reachable->len, 2);

    /* A ready endpoint anywhere takes the cluster set back from the terminating ones. */
    unready->ready = K8S_TRUE;
    g_autoptr(KpServiceMap) m2 = kp_service_map_new(fx->c, fx_find_node(fx, "node-1"), SIM_AF_INET);
    sp = m2->ports->pdata[0];
    ck_assert_uint_eq(sp->cluster->len, 1);
    ck_assert_str_eq(((KpEndpoint *)sp->cluster->pdata[0])->str, "10.244.1.4:80");
    ck_assert_uint_eq(sp->local->len, 1); /* local set: still the local serving-terminating one */
    ck_assert_uint_eq(sp->all_reachable->len, 2);
    ck_assert_str_eq(((KpEndpoint *)sp->all_reachable->pdata[0])->str, "10.244.0.2:80");
    ck_assert_str_eq(((KpEndpoint *)sp->all_reachable->pdata[1])->str, "10.244.1.4:80");
}
END_TEST

/* Adds zone hint zone to e. */
static void
ep_hint(K8sEndpoint *e, const char *zone)
{
    if (e->hint_zones == NULL)
        e->hint_zones = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(e->hint_zones, g_strdup(zone));
}

START_TEST(test_categorize_topology_hints_all_or_nothing)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    K8sNode *n = fx_node(fx, "node-1", NULL, "192.168.10.11", NULL);
    n->labels = k8s_string_table_new();
    g_hash_table_insert(n->labels, g_strdup("topology.kubernetes.io/zone"), g_strdup("a"));
    K8sService *s = fx_service(fx, "ns", "web", K8S_SVC_CLUSTER_IP, "10.96.0.20");
    svc_port(s, "", SIM_PROTO_TCP, 80, 80, 0);
    K8sEndpointSlice *sl = fx_slice(fx, "ns", "web", "web-a", SIM_AF_INET, "", SIM_PROTO_TCP, 80);
    ep_hint(slice_ep(sl, "10.244.0.1", "node-1"), "a");
    ep_hint(slice_ep(sl, "10.244.1.1", "node-2"), "b");

    /* Hints are ignored until the Service asks for topology-aware routing. */
    g_autoptr(KpServiceMap) m1 = kp_service_map_new(fx->c, n, SIM_AF_INET);
    ck_assert_uint_eq(((KpServicePort *)m1->ports->pdata[0])->cluster->len, 2);

    s->topology_mode = g_strdup("Auto");
    g_autoptr(KpServiceMap) m2 = kp_service_map_new(fx->c, n, SIM_AF_INET);
    const KpServicePort *sp = m2->ports->pdata[0];
    ck_assert(sp->used_topology);
    ck_assert_uint_eq(sp->cluster->len, 1);
    ck_assert_str_eq(((KpEndpoint *)sp->cluster->pdata[0])->str, "10.244.0.1:80");

    /* One ready endpoint without hints disables the filter for everyone. */
    slice_ep(sl, "10.244.2.1", "node-3");
    g_autoptr(KpServiceMap) m3 = kp_service_map_new(fx->c, n, SIM_AF_INET);
    sp = m3->ports->pdata[0];
    ck_assert(!sp->used_topology);
    ck_assert_uint_eq(sp->cluster->len, 3);
}
END_TEST

START_TEST(test_local_detector_modes)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    K8sNode *n = fx_node(fx, "node-1", "10.244.3.0/24", "192.168.10.11", NULL);
    KpLocalDetector d;
    SimAddr pod = addr("10.244.3.9"), other_pod = addr("10.244.4.9");

    kp_local_detector_init(&d, &fx->cfg, n, SIM_AF_INET);
    ck_assert(d.implemented);
    ck_assert(kp_local_detector_is_local(&d, &other_pod, NULL));
    kp_local_detector_init(&d, &fx->cfg, n, SIM_AF_INET6);
    ck_assert(!d.implemented);

    fx->cfg.detect_local_mode = KP_DETECT_NODE_CIDR;
    kp_local_detector_init(&d, &fx->cfg, n, SIM_AF_INET);
    ck_assert(kp_local_detector_is_local(&d, &pod, NULL));
    ck_assert(!kp_local_detector_is_local(&d, &other_pod, NULL));

    fx->cfg.detect_local_mode = KP_DETECT_INTERFACE_NAME_PREFIX;
    kp_local_detector_init(&d, &fx->cfg, n, SIM_AF_INET);
    ck_assert(!d.implemented); /* no prefix configured */
    fx->cfg.interface_name_prefix = g_strdup("veth");
    kp_local_detector_init(&d, &fx->cfg, n, SIM_AF_INET6);
    ck_assert(d.implemented);
    ck_assert(kp_local_detector_is_local(&d, &pod, "veth1234abcd"));
    ck_assert(!kp_local_detector_is_local(&d, &pod, "eth0"));
}
END_TEST

/* ---------------------------------------------------------------- the seed, ETP Cluster */

/* save without the rules and declarations of chain. (transfer full) */
static char *
strip_chain(const char *save, const char *chain)
{
    g_autofree char *rule = g_strdup_printf("-A %s ", chain);
    g_autofree char *decl = g_strdup_printf(":%s ", chain);
    g_auto(GStrv) lines = g_strsplit(save, "\n", -1);
    GString *out = g_string_new(NULL);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], rule) || g_str_has_prefix(lines[i], decl))
            continue;
        g_string_append(out, lines[i]);
        if (lines[i + 1] != NULL)
            g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

/* Reads tests/golden/rules/name, which no UPDATE_GOLDEN run rewrites. (transfer full) */
static char *
read_fixed_golden(const char *name)
{
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "tests", "golden", "rules", name, NULL);
    g_autoptr(GError) err = NULL;
    char *text = NULL;
    ck_assert_msg(g_file_get_contents(path, &text, NULL, &err), "%s", err->message);
    return text;
}

START_TEST(test_seed_cluster_nat_is_the_documented_iptables_save)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    /* seed-cluster-node1.nat is docs/datapath-semantics.md §3.10 verbatim: never regenerated. */
    g_autofree char *doc = read_fixed_golden("seed-cluster-node1.nat");
    static const char *const nodes[] = {"node-1", "node-2", "node-3"};
    for (gsize i = 0; i < G_N_ELEMENTS(nodes); i++) {
        g_autofree char *got = nat(fx, nodes[i]);
        ck_assert_msg(strcmp(got, doc) == 0, "%s nat differs from §3.10:\n%s", nodes[i], got);
    }
}
END_TEST

START_TEST(test_seed_cluster_filter_has_only_generic_rules)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    g_autofree char *f = filter(fx, "node-1");
    assert_golden("seed-cluster-node1.filter", f);
    assert_chain(f, "KUBE-SERVICES", "");
    assert_chain(f, "KUBE-EXTERNAL-SERVICES", "");
    assert_chain(f, "KUBE-NODEPORTS", "");
    assert_chain(f, "KUBE-PROXY-FIREWALL", "");
    assert_chain(f, "INPUT",
                 "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load "
                 "balancer firewall\" -j KUBE-PROXY-FIREWALL\n"
                 "-A INPUT -m comment --comment \"kubernetes health check service ports\" -j "
                 "KUBE-NODEPORTS\n"
                 "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes "
                 "externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n"
                 "-A INPUT -j KUBE-FIREWALL\n");
}
END_TEST

/* ---------------------------------------------------------------- the seed, ETP Local */

static const char seed_local_ext_common[] =
    "-A KUBE-EXT-" SEED_H " -s 10.244.0.0/16 -m comment --comment \"pod traffic for " SEED_SVC
    " external destinations\" -j KUBE-SVC-" SEED_H "\n"
    "-A KUBE-EXT-" SEED_H " -m comment --comment \"masquerade LOCAL traffic for " SEED_SVC
    " external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ\n"
    "-A KUBE-EXT-" SEED_H " -m comment --comment \"route LOCAL traffic for " SEED_SVC
    " external destinations\" -m addrtype --src-type LOCAL -j KUBE-SVC-" SEED_H "\n";

START_TEST(test_seed_local_node_without_endpoint_drops_external_traffic)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_LOCAL);
    g_autofree char *n = nat(fx, "node-1");
    g_autofree char *f = filter(fx, "node-1");
    assert_golden("seed-local-node1.nat", n);
    assert_golden("seed-local-node1.filter", f);

    assert_chain(n, "KUBE-EXT-" SEED_H, seed_local_ext_common);
    ck_assert_no_text(n, "KUBE-SVL-");
    assert_chain(f, "KUBE-EXTERNAL-SERVICES",
                 "-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment \"" SEED_SVC
                 " has no local endpoints\" -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j "
                 "DROP\n");
    assert_chain(f, "KUBE-NODEPORTS", ""); /* NodePort + Local: no healthCheckNodePort */

    /* Everything but KUBE-EXT is as under ETP Cluster (§3.11). */
    g_autofree char *doc = read_fixed_golden("seed-cluster-node1.nat");
    g_autofree char *a = strip_chain(n, "KUBE-EXT-" SEED_H);
    g_autofree char *b = strip_chain(doc, "KUBE-EXT-" SEED_H);
    ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_seed_local_node_with_endpoint_uses_svl)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_LOCAL);
    g_autofree char *n = nat(fx, "node-2");
    g_autofree char *f = filter(fx, "node-2");
    assert_golden("seed-local-node2.nat", n);
    assert_golden("seed-local-node2.filter", f);

    g_autofree char *ext =
        g_strconcat(seed_local_ext_common, "-A KUBE-EXT-" SEED_H " -j KUBE-SVL-" SEED_H "\n", NULL);
    assert_chain(n, "KUBE-EXT-" SEED_H, ext);
    ck_assert_line(n, ":KUBE-SVL-" SEED_H " - [0:0]");
    assert_chain(n, "KUBE-SVL-" SEED_H,
                 "-A KUBE-SVL-" SEED_H " -m comment --comment \"" SEED_SVC
                 " -> 10.244.1.5:80\" -j " SEP_A "\n");
    assert_chain(f, "KUBE-EXTERNAL-SERVICES", "");
    ck_assert_no_text(f, "has no local endpoints");

    /* Besides EXT and SVL, node-2 has the same nat table as ETP Cluster. */
    g_autofree char *doc = read_fixed_golden("seed-cluster-node1.nat");
    g_autofree char *a0 = strip_chain(n, "KUBE-EXT-" SEED_H);
    g_autofree char *a = strip_chain(a0, "KUBE-SVL-" SEED_H);
    g_autofree char *b = strip_chain(doc, "KUBE-EXT-" SEED_H);
    ck_assert_str_eq(a, b);

    /* node-3 is symmetrical. */
    g_autofree char *n3 = nat(fx, "node-3");
    assert_chain(n3, "KUBE-SVL-" SEED_H,
                 "-A KUBE-SVL-" SEED_H " -m comment --comment \"" SEED_SVC
                 " -> 10.244.2.7:80\" -j " SEP_B "\n");
}
END_TEST

/* ---------------------------------------------------------------- ladders and affinity */

START_TEST(test_client_ip_affinity_recent_rules)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    seed_service(fx)->affinity_client_ip = TRUE;
    g_autofree char *n = nat(fx, "node-1");
    assert_golden("seed-affinity-node1.nat", n);
    assert_chain(
        n, "KUBE-SVC-" SEED_H,
        "-A KUBE-SVC-" SEED_H
        " ! -s 10.244.0.0/16 -d 10.96.45.10/32 -p tcp -m comment --comment \"" SEED_SVC
        " cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
        "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC " -> 10.244.1.5:80\" -m recent "
        "--rcheck --seconds 10800 --reap --name " SEP_A
        " --mask 255.255.255.255 --rsource -j " SEP_A "\n"
        "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC " -> 10.244.2.7:80\" -m recent "
        "--rcheck --seconds 10800 --reap --name " SEP_B
        " --mask 255.255.255.255 --rsource -j " SEP_B "\n"
        "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC
        " -> 10.244.1.5:80\" -m statistic "
        "--mode random --probability 0.50000000000 -j " SEP_A "\n"
        "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC " -> 10.244.2.7:80\" -j " SEP_B
        "\n");
    assert_chain(
        n, SEP_A,
        "-A " SEP_A " -s 10.244.1.5/32 -m comment --comment \"" SEED_SVC "\" -j KUBE-MARK-MASQ\n"
        "-A " SEP_A " -p tcp -m comment --comment \"" SEED_SVC "\" -m recent --set --name " SEP_A
        " --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.5:80\n");

    seed_service(fx)->affinity_timeout = 60;
    g_autofree char *n2 = nat(fx, "node-1");
    ck_assert_msg(strstr(n2, "--rcheck --seconds 60 --reap") != NULL, "%s", n2);
}
END_TEST

START_TEST(test_three_endpoints_probability_ladder)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    slice_ep(fx->c->slices->pdata[0], "10.244.2.9", "node-3");
    g_autofree char *n = nat(fx, "node-1");
    g_autofree char *sep_c = kube_proxy_endpoint_hash(SEED_SVC, "tcp", "10.244.2.9:80");
    g_autofree char *want = g_strdup_printf(
        "-A KUBE-SVC-" SEED_H " ! -s 10.244.0.0/16 -d 10.96.45.10/32 -p tcp -m comment --comment "
        "\"" SEED_SVC " cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
        "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC " -> 10.244.1.5:80\" -m "
        "statistic --mode random --probability 0.33333333349 -j " SEP_A "\n"
        "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC " -> 10.244.2.7:80\" -m "
        "statistic --mode random --probability 0.50000000000 -j " SEP_B "\n"
        "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC " -> 10.244.2.9:80\" -j "
        "KUBE-SEP-%s\n",
        sep_c);
    assert_chain(n, "KUBE-SVC-" SEED_H, want);
}
END_TEST

START_TEST(test_ladder_probabilities_are_what_iptables_reads_back)
{
    /* The renderer hands the rule builder 1/n as kube-proxy writes it ("%0.10f") and iptables
     * parses it back; the cached value must be exactly that double for every n (2048: a tie in
     * the 11th decimal), first computed and then from the cache. */
    g_autoptr(GArray) cache = NULL;
    for (guint round = 0; round < 2; round++) {
        for (guint n = 1; n <= 4096; n++) {
            char text[32];
            g_snprintf(text, sizeof text, "%0.10f", 1.0 / (double)n);
            double want = g_ascii_strtod(text, NULL);
            double got = kp_probability(&cache, n);
            ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "n=%u: %.17g != %.17g", n, got,
                          want);
        }
    }
    ck_assert_uint_eq(cache->len, 4097);
    char name[32];
    kp_chain_name(name, sizeof name, "KUBE-SEP-", "ABCDEFGHIJKLMNOP");
    ck_assert_str_eq(name, "KUBE-SEP-ABCDEFGHIJKLMNOP");
    kp_chain_name(name, 12, "KUBE-SEP-", "ABCDEFGHIJKLMNOP"); /* truncated as g_snprintf does */
    ck_assert_str_eq(name, "KUBE-SEP-AB");
}
END_TEST

START_TEST(test_large_cluster_mode_drops_endpoint_comments)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    K8sEndpointSlice *sl = fx->c->slices->pdata[0];
    /* 2 + 999 = 1001 endpoints: over kube-proxy's threshold of 1000. */
    for (guint i = 0; i < 999; i++) {
        g_autofree char *ip = g_strdup_printf("10.244.%u.%u", 100 + i / 200, 10 + i % 200);
        slice_ep(sl, ip, "node-3");
    }
    g_autofree char *n = nat(fx, "node-1");
    ck_assert_line(n, "-A " SEP_A " -s 10.244.1.5/32 -j KUBE-MARK-MASQ");
    ck_assert_line(n, "-A " SEP_A " -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:80");
    ck_assert_no_text(n, " -> 10.244.");
    /* The clusterIP rules keep their comments. */
    ck_assert_msg(strstr(n, "\"" SEED_SVC " cluster IP\" -m tcp --dport 80 -j KUBE-SVC-") != NULL,
                  "%s", n);

    g_ptr_array_remove_index(sl->endpoints, sl->endpoints->len - 1); /* exactly 1000 */
    g_autofree char *n2 = nat(fx, "node-1");
    ck_assert_msg(strstr(n2, "\"" SEED_SVC " -> 10.244.1.5:80\"") != NULL, "comments missing");
}
END_TEST

/* ---------------------------------------------------------------- no usable endpoints */

/* kube-proxy's unit-test cluster: test-node with several addresses, clusterCIDR 10.0.0.0/8,
 * and ns1/svc1 (LoadBalancer 172.30.0.41, port p80 80/TCP, nodePort 3001, externalIP
 * 192.168.99.11, ingress 1.2.3.4) without endpoints. */
static Fx *
fx_upstream_lb(K8sTrafficPolicy etp)
{
    Fx *fx = fx_new("10.0.0.0/8");
    fx_node(fx, "test-node", NULL, "192.168.0.2", "192.168.1.2", "192.168.99.11", "2001:db8::1",
            NULL);
    fx_node(fx, "node2", NULL, "198.51.100.10", NULL);
    K8sService *s = fx_service(fx, "ns1", "svc1", K8S_SVC_LOAD_BALANCER, "172.30.0.41");
    s->external_policy = etp;
    svc_port(s, "p80", SIM_PROTO_TCP, 80, 80, 3001);
    SimAddr ext = addr("192.168.99.11");
    g_array_append_val(s->external_ips, ext);
    svc_lb_ingress(s, "1.2.3.4", FALSE);
    if (etp == K8S_POLICY_LOCAL)
        s->health_check_node_port = 30000;
    return fx;
}

START_TEST(test_no_endpoints_rejects_every_front_end)
{
    g_autoptr(Fx) fx = fx_upstream_lb(K8S_POLICY_CLUSTER);
    g_autofree char *f = filter(fx, "test-node");
    g_autofree char *n = nat(fx, "test-node");
    assert_golden("no-endpoints.filter", f);
    assert_chain(f, "KUBE-SERVICES",
                 "-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1:p80 "
                 "has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with "
                 "icmp-port-unreachable\n");
    assert_chain(f, "KUBE-EXTERNAL-SERVICES",
                 "-A KUBE-EXTERNAL-SERVICES -d 192.168.99.11/32 -p tcp -m comment --comment "
                 "\"ns1/svc1:p80 has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with "
                 "icmp-port-unreachable\n"
                 "-A KUBE-EXTERNAL-SERVICES -d 1.2.3.4/32 -p tcp -m comment --comment "
                 "\"ns1/svc1:p80 has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with "
                 "icmp-port-unreachable\n"
                 "-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment \"ns1/svc1:p80 has no "
                 "endpoints\" -m addrtype --dst-type LOCAL -m tcp --dport 3001 -j REJECT "
                 "--reject-with icmp-port-unreachable\n");
    /* No nat chain or rule at all for the service. */
    ck_assert_no_text(n, "ns1/svc1");
    ck_assert_no_text(n, "KUBE-SVC-");
    assert_chain(n, "KUBE-NODEPORTS", "");
}
END_TEST

/* ---------------------------------------------------------------- internalTrafficPolicy Local */

/* ns1/svc1 (ClusterIP 172.30.1.1, port 80, ITP Local) with endpoints on node1 and node2 only. */
static Fx *
fx_itp_local(void)
{
    Fx *fx = fx_new("10.0.0.0/8");
    fx_node(fx, "test-node", NULL, "192.168.0.2", NULL);
    fx_node(fx, "node1", NULL, "198.51.100.10", NULL);
    K8sService *s = fx_service(fx, "ns1", "svc1", K8S_SVC_CLUSTER_IP, "172.30.1.1");
    s->internal_policy = K8S_POLICY_LOCAL;
    svc_port(s, "", SIM_PROTO_TCP, 80, 80, 0);
    K8sEndpointSlice *sl =
        fx_slice(fx, "ns1", "svc1", "svc1-1", SIM_AF_INET, "", SIM_PROTO_TCP, 80);
    slice_ep(sl, "10.0.1.2", "node1");
    slice_ep(sl, "10.0.1.3", "node2");
    return fx;
}

START_TEST(test_itp_local_without_local_endpoints_drops)
{
    g_autoptr(Fx) fx = fx_itp_local();
    g_autofree char *f = filter(fx, "test-node");
    g_autofree char *n = nat(fx, "test-node");
    assert_chain(f, "KUBE-SERVICES",
                 "-A KUBE-SERVICES -d 172.30.1.1/32 -p tcp -m comment --comment \"ns1/svc1 has no "
                 "local endpoints\" -m tcp --dport 80 -j DROP\n");
    ck_assert_no_text(n, "ns1/svc1"); /* no fallback to the remote endpoints */
    ck_assert_no_text(n, "KUBE-SEP-");
}
END_TEST

START_TEST(test_itp_local_with_local_endpoint_uses_svl_only)
{
    g_autoptr(Fx) fx = fx_itp_local();
    slice_ep(fx->c->slices->pdata[0], "10.0.1.1", "test-node");
    g_autofree char *n = nat(fx, "test-node");
    g_autofree char *f = filter(fx, "test-node");
    assert_golden("itp-local.nat", n);
    g_autofree char *h = kube_proxy_port_proto_hash("ns1/svc1", "tcp");
    g_autofree char *sep = kube_proxy_endpoint_hash("ns1/svc1", "tcp", "10.0.1.1:80");
    g_autofree char *want = g_strdup_printf(
        "-A KUBE-SVL-%s ! -s 10.0.0.0/8 -d 172.30.1.1/32 -p tcp -m comment --comment \"ns1/svc1 "
        "cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
        "-A KUBE-SVL-%s -m comment --comment \"ns1/svc1 -> 10.0.1.1:80\" -j KUBE-SEP-%s\n",
        h, h, sep);
    g_autofree char *svl = g_strdup_printf("KUBE-SVL-%s", h);
    assert_chain(n, svl, want);
    ck_assert_no_text(n, "KUBE-SVC-"); /* not externally accessible: no Cluster chain */
    ck_assert_no_text(n, "10.0.1.2");
    assert_chain(f, "KUBE-SERVICES", "");
}
END_TEST

/* ---------------------------------------------------------------- load balancers */

START_TEST(test_lb_source_ranges_build_firewall_chain)
{
    g_autoptr(Fx) fx = fx_upstream_lb(K8S_POLICY_CLUSTER);
    K8sService *s = fx->c->services->pdata[0];
    SimCidr r1 = cidr("203.0.113.0/25"), r2 = cidr("192.168.0.0/24"), r6 = cidr("2001:db8::/64");
    g_array_append_val(s->source_ranges, r1);
    g_array_append_val(s->source_ranges, r2); /* holds test-node's IP: allowFromNode */
    g_array_append_val(s->source_ranges, r6); /* other family: ignored */
    slice_ep(fx_slice(fx, "ns1", "svc1", "svc1-1", SIM_AF_INET, "p80", SIM_PROTO_TCP, 80),
             "10.180.0.1", "node2");
    g_autofree char *n = nat(fx, "test-node");
    g_autofree char *f = filter(fx, "test-node");
    assert_golden("lb-source-ranges.nat", n);
    assert_golden("lb-source-ranges.filter", f);

    g_autofree char *h = kube_proxy_port_proto_hash("ns1/svc1:p80", "tcp");
    g_autofree char *fw = g_strdup_printf("KUBE-FW-%s", h);
    g_autofree char *want = g_strdup_printf(
        "-A %s -s 203.0.113.0/25 -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -j "
        "KUBE-EXT-%s\n"
        "-A %s -s 192.168.0.0/24 -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -j "
        "KUBE-EXT-%s\n"
        "-A %s -s 1.2.3.4/32 -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -j "
        "KUBE-EXT-%s\n"
        "-A %s -m comment --comment \"other traffic to ns1/svc1:p80 will be dropped by "
        "KUBE-PROXY-FIREWALL\"\n",
        fw, h, fw, h, fw, h, fw);
    assert_chain(n, fw, want);
    g_autofree char *lb = g_strdup_printf(
        "-A KUBE-SERVICES -d 1.2.3.4/32 -p tcp -m comment --comment \"ns1/svc1:p80 loadbalancer "
        "IP\" -m tcp --dport 80 -j %s",
        fw);
    ck_assert_line(n, lb);
    g_autofree char *drop = g_strdup_printf(
        "-A KUBE-PROXY-FIREWALL -d 1.2.3.4/32 -p tcp -m comment --comment \"ns1/svc1:p80 traffic "
        "not accepted by %s\" -m tcp --dport 80 -j DROP\n",
        fw);
    assert_chain(f, "KUBE-PROXY-FIREWALL", drop);
    /* NodePorts and externalIPs are not subject to the source ranges. */
    g_autofree char *np = g_strdup_printf(
        "-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns1/svc1:p80\" -m tcp --dport 3001 -j "
        "KUBE-EXT-%s",
        h);
    ck_assert_line(n, np);
}
END_TEST

START_TEST(test_lb_ip_mode_proxy_gets_no_rule)
{
    g_autoptr(Fx) fx = fx_upstream_lb(K8S_POLICY_CLUSTER);
    K8sService *s = fx->c->services->pdata[0];
    svc_lb_ingress(s, "5.6.7.8", TRUE);
    g_autofree char *n = nat(fx, "test-node");
    g_autofree char *f = filter(fx, "test-node");
    ck_assert_no_text(f, "5.6.7.8"); /* not even a REJECT: kube-proxy ignores the IP */
    ck_assert_msg(strstr(f, "-d 1.2.3.4/32") != NULL, "%s", f);

    slice_ep(fx_slice(fx, "ns1", "svc1", "svc1-1", SIM_AF_INET, "p80", SIM_PROTO_TCP, 80),
             "10.180.0.1", "node2");
    g_autofree char *n2 = nat(fx, "test-node");
    ck_assert_no_text(n2, "5.6.7.8");
    ck_assert_msg(strstr(n2, "-d 1.2.3.4/32 -p tcp -m comment --comment \"ns1/svc1:p80 "
                             "loadbalancer IP\"") != NULL,
                  "%s", n2);
    ck_assert_no_text(n, "5.6.7.8");
}
END_TEST

START_TEST(test_health_check_node_port_only_for_lb_with_local_policy)
{
    g_autoptr(Fx) local = fx_upstream_lb(K8S_POLICY_LOCAL);
    g_autofree char *f = filter(local, "test-node");
    assert_chain(f, "KUBE-NODEPORTS",
                 "-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns1/svc1:p80 health check node "
                 "port\" -m tcp --dport 30000 -j ACCEPT\n");

    g_autoptr(Fx) cluster = fx_upstream_lb(K8S_POLICY_CLUSTER);
    ((K8sService *)cluster->c->services->pdata[0])->health_check_node_port = 30000;
    g_autofree char *f2 = filter(cluster, "test-node");
    assert_chain(f2, "KUBE-NODEPORTS", "");

    g_autoptr(Fx) np = fx_seed(K8S_POLICY_LOCAL);
    seed_service(np)->health_check_node_port = 30000;
    g_autofree char *f3 = filter(np, "node-2");
    assert_chain(f3, "KUBE-NODEPORTS", "");
}
END_TEST

START_TEST(test_external_policy_local_lb_golden)
{
    g_autoptr(Fx) fx = fx_upstream_lb(K8S_POLICY_LOCAL);
    K8sEndpointSlice *sl =
        fx_slice(fx, "ns1", "svc1", "svc1-1", SIM_AF_INET, "p80", SIM_PROTO_TCP, 80);
    slice_ep(sl, "10.180.0.1", NULL);
    slice_ep(sl, "10.180.2.1", "test-node");
    g_autofree char *n = nat(fx, "test-node");
    g_autofree char *f = filter(fx, "test-node");
    assert_golden("lb-local.nat", n);
    assert_golden("lb-local.filter", f);
    g_autofree char *n2 = nat(fx, "node2");
    g_autofree char *f2 = filter(fx, "node2");
    assert_golden("lb-local-node2.nat", n2);
    assert_golden("lb-local-node2.filter", f2);
}
END_TEST

/* ---------------------------------------------------------------- kube-proxy configuration */

#define TAIL_COMMENT                                                                               \
    "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in "    \
    "this chain\""

START_TEST(test_node_port_addresses_select_local_ips)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    K8sNode *n1 = fx->c->nodes->pdata[0];
    SimAddr second = addr("10.0.5.11");
    g_array_append_val(n1->addresses, second);
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("127.0.0.0/8"));
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("10.0.0.0/16"));
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("fd00::/8")); /* other family */
    g_autofree char *n = nat(fx, "node-1");
    assert_chain(n, "KUBE-SERVICES",
                 "-A KUBE-SERVICES -d 10.96.45.10/32 -p tcp -m comment --comment \"" SEED_SVC
                 " cluster IP\" -m tcp --dport 80 -j KUBE-SVC-" SEED_H "\n"
                 "-A KUBE-SERVICES -d 127.0.0.1/32 " TAIL_COMMENT " -j KUBE-NODEPORTS\n"
                 "-A KUBE-SERVICES -d 10.0.5.11/32 " TAIL_COMMENT " -j KUBE-NODEPORTS\n");
    /* The counted localhost copy exists only without nodePortAddresses. */
    assert_chain(n, "KUBE-NODEPORTS",
                 "-A KUBE-NODEPORTS -p tcp -m comment --comment \"" SEED_SVC
                 "\" -m tcp --dport 30080 -j KUBE-EXT-" SEED_H "\n");

    /* Loopback is skipped when localhost NodePorts are off; "primary" is the node's IP. */
    fx->cfg.localhost_node_ports = FALSE;
    g_ptr_array_set_size(fx->cfg.node_port_addresses, 0);
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("127.0.0.0/8"));
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("primary"));
    g_autofree char *n2 = nat(fx, "node-1");
    g_autofree char *tail = chain_rules(n2, "KUBE-SERVICES");
    ck_assert_msg(g_str_has_suffix(tail, "-A KUBE-SERVICES -d 192.168.10.11/32 " TAIL_COMMENT
                                         " -j KUBE-NODEPORTS\n"),
                  "%s", tail);
    ck_assert_no_text(n2, "-d 127.0.0.1/32");
    ck_assert_no_text(n2, "-d 10.0.5.11/32");

    /* A zero CIDR means every address again. */
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("0.0.0.0/0"));
    g_autofree char *n3 = nat(fx, "node-1");
    ck_assert_line(n3, "-A KUBE-SERVICES ! -d 127.0.0.0/8 " TAIL_COMMENT
                       " -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
}
END_TEST

START_TEST(test_node_port_addresses_invalid_entry_is_an_error)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("10.0.0.0/8"));
    g_ptr_array_add(fx->cfg.node_port_addresses, g_strdup("not-a-cidr"));
    fx->cfg.pos.file = g_intern_string("cluster.yaml");
    fx->cfg.pos.line = 7;
    fx->cfg.pos.column = 3;
    g_autoptr(GError) err = NULL;
    NfRuleset *rs = kube_proxy_render(fx->c, fx_find_node(fx, "node-1"), SIM_AF_INET, &err);
    ck_assert_ptr_null(rs);
    ck_assert(g_error_matches(err, KUBE_PROXY_ERROR, KUBE_PROXY_ERROR_CONFIG));
    ck_assert_msg(g_str_has_prefix(err->message, "cluster.yaml:7:3: error: nodePortAddresses"),
                  "%s", err->message);
    ck_assert_msg(strstr(err->message, "not-a-cidr") != NULL, "%s", err->message);
}
END_TEST

START_TEST(test_localhost_node_ports_disabled)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    fx->cfg.localhost_node_ports = FALSE;
    g_autofree char *n = nat(fx, "node-1");
    ck_assert_line(n, "-A KUBE-SERVICES ! -d 127.0.0.0/8 " TAIL_COMMENT
                      " -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
    ck_assert_no_text(n, "nfacct");
}
END_TEST

START_TEST(test_masquerade_all_marks_every_cluster_ip_connection)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    fx->cfg.masquerade_all = TRUE;
    g_autofree char *n = nat(fx, "node-1");
    ck_assert_line(n, "-A KUBE-SVC-" SEED_H
                      " -d 10.96.45.10/32 -p tcp -m comment --comment \"" SEED_SVC
                      " cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ");
    ck_assert_no_text(n, "! -s 10.244.0.0/16");
}
END_TEST

START_TEST(test_no_local_detector_without_cluster_cidr)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_LOCAL);
    g_array_set_size(fx->cfg.cluster_cidrs, 0); /* clusterCIDR: "" */
    g_autofree char *n = nat(fx, "node-2");
    g_autofree char *svc = chain_rules(n, "KUBE-SVC-" SEED_H);
    ck_assert_msg(g_str_has_prefix(svc, "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC
                                        " -> 10.244.1.5:80\" -m statistic"),
                  "%s", svc);
    assert_chain(n, "KUBE-EXT-" SEED_H,
                 "-A KUBE-EXT-" SEED_H
                 " -m comment --comment \"masquerade LOCAL traffic for " SEED_SVC
                 " external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ\n"
                 "-A KUBE-EXT-" SEED_H " -m comment --comment \"route LOCAL traffic for " SEED_SVC
                 " external destinations\" -m addrtype --src-type LOCAL -j KUBE-SVC-" SEED_H "\n"
                 "-A KUBE-EXT-" SEED_H " -j KUBE-SVL-" SEED_H "\n");
    ck_assert_no_text(n, "! -s ");
    ck_assert_no_text(n, "pod traffic for");
}
END_TEST

START_TEST(test_local_detector_rules_per_mode)
{
    static const struct {
        KpDetectLocalMode mode;
        const char *if_not_local, *if_local;
    } cases[] = {
        {KP_DETECT_NODE_CIDR, "! -s 10.244.1.0/24 -d 10.96.45.10/32",
         " -s 10.244.1.0/24 -m comment"},
        {KP_DETECT_BRIDGE_INTERFACE, "! -i cni0 -p tcp", " -i cni0 -m comment"},
        {KP_DETECT_INTERFACE_NAME_PREFIX, "! -i veth+ -p tcp", " -i veth+ -m comment"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(Fx) fx = fx_seed(K8S_POLICY_LOCAL);
        fx->cfg.detect_local_mode = cases[i].mode;
        fx->cfg.bridge_interface = g_strdup("cni0");
        fx->cfg.interface_name_prefix = g_strdup("veth");
        g_autofree char *n = nat(fx, "node-2");
        g_autofree char *svc = chain_rules(n, "KUBE-SVC-" SEED_H);
        g_autofree char *ext = chain_rules(n, "KUBE-EXT-" SEED_H);
        ck_assert_msg(strstr(svc, cases[i].if_not_local) != NULL, "%s", svc);
        ck_assert_msg(strstr(ext, cases[i].if_local) != NULL, "%s", ext);
        ck_assert_no_text(n, "10.244.0.0/16");
    }
}
END_TEST

START_TEST(test_masquerade_bit_and_tcp_be_liberal)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    g_autofree char *f0 = filter(fx, "node-1");
    ck_assert_line(f0, "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP");

    fx->cfg.masquerade_bit = 10;
    fx->cfg.tcp_be_liberal = TRUE;
    g_autofree char *n = nat(fx, "node-1");
    g_autofree char *f = filter(fx, "node-1");
    ck_assert_line(n, "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x400/0x400");
    ck_assert_line(n, "-A KUBE-POSTROUTING -m mark ! --mark 0x400/0x400 -j RETURN");
    assert_chain(f, "KUBE-FORWARD",
                 "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark "
                 "--mark 0x400/0x400 -j ACCEPT\n"
                 "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m "
                 "conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");

    fx->cfg.masquerade_bit = 32;
    g_autoptr(GError) err = NULL;
    ck_assert_ptr_null(kube_proxy_render(fx->c, fx_find_node(fx, "node-1"), SIM_AF_INET, &err));
    ck_assert(g_error_matches(err, KUBE_PROXY_ERROR, KUBE_PROXY_ERROR_CONFIG));
}
END_TEST

START_TEST(test_headless_and_external_name_get_no_rules)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    fx_node(fx, "node-1", NULL, "192.168.10.11", NULL);
    svc_port(fx_service(fx, "ns", "headless", K8S_SVC_CLUSTER_IP, "None"), "", SIM_PROTO_TCP, 80,
             80, 0);
    slice_ep(fx_slice(fx, "ns", "headless", "headless-a", SIM_AF_INET, "", SIM_PROTO_TCP, 80),
             "10.244.0.9", "node-1");
    K8sService *e = fx_service(fx, "ns", "db", K8S_SVC_EXTERNAL_NAME, NULL);
    e->external_name = g_strdup("db.example.com");
    svc_port(e, "", SIM_PROTO_TCP, 5432, 5432, 0);
    g_autofree char *n = nat(fx, "node-1");
    g_autofree char *f = filter(fx, "node-1");
    ck_assert_no_text(n, "ns/");
    ck_assert_no_text(f, "ns/");
    ck_assert_no_text(n, "KUBE-SEP-");
}
END_TEST

START_TEST(test_terminating_endpoints_used_when_nothing_is_ready)
{
    g_autoptr(Fx) fx = fx_seed(K8S_POLICY_CLUSTER);
    K8sEndpointSlice *sl = fx->c->slices->pdata[0];
    for (guint i = 0; i < sl->endpoints->len; i++) {
        K8sEndpoint *e = sl->endpoints->pdata[i];
        e->ready = K8S_FALSE;
        e->terminating = K8S_TRUE;
        e->serving = i == 0 ? K8S_TRUE : K8S_FALSE; /* only pod A still serves */
    }
    g_autofree char *n = nat(fx, "node-1");
    g_autofree char *f = filter(fx, "node-1");
    assert_chain(n, "KUBE-SVC-" SEED_H,
                 "-A KUBE-SVC-" SEED_H " ! -s 10.244.0.0/16 -d 10.96.45.10/32 -p tcp -m comment "
                 "--comment \"" SEED_SVC " cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n"
                 "-A KUBE-SVC-" SEED_H " -m comment --comment \"" SEED_SVC
                 " -> 10.244.1.5:80\" -j " SEP_A "\n");
    ck_assert_no_text(n, SEP_B);
    ck_assert_no_text(f, "has no endpoints");

    ((K8sEndpoint *)sl->endpoints->pdata[0])->serving = K8S_FALSE;
    g_autofree char *f2 = filter(fx, "node-1");
    ck_assert_msg(strstr(f2, "\"" SEED_SVC " has no endpoints\"") != NULL, "%s", f2);
}
END_TEST

/* ---------------------------------------------------------------- IPv6 */

START_TEST(test_ipv6_service_only_in_ipv6_ruleset)
{
    g_autoptr(Fx) fx = fx_new("10.244.0.0/16");
    SimCidr v6 = cidr("fd00:10:244::/56");
    g_array_append_val(fx->cfg.cluster_cidrs, v6);
    fx_node(fx, "node-1", NULL, "192.168.10.11", "fd00:10::11", NULL);
    K8sService *s = fx_service(fx, "default", "web6", K8S_SVC_NODE_PORT, "fd00:96::10");
    svc_port(s, "http", SIM_PROTO_TCP, 80, 8080, 30081);
    K8sEndpointSlice *sl =
        fx_slice(fx, "default", "web6", "web6-a", SIM_AF_INET6, "http", SIM_PROTO_TCP, 8080);
    slice_ep(sl, "fd00:10:244:1::5", "node-2");
    slice_ep(sl, "fd00:10:244:2::7", "node-3");

    g_autofree char *n6 = render_table(fx, "node-1", SIM_AF_INET6, NF_TABLE_NAT);
    g_autofree char *f6 = render_table(fx, "node-1", SIM_AF_INET6, NF_TABLE_FILTER);
    assert_golden("ipv6-node1.nat", n6);
    assert_golden("ipv6-node1.filter", f6);
    g_autofree char *sep =
        kube_proxy_endpoint_hash("default/web6:http", "tcp", "[fd00:10:244:1::5]:8080");
    g_autofree char *dnat = g_strdup_printf(
        "-A KUBE-SEP-%s -p tcp -m comment --comment \"default/web6:http\" -m tcp -j DNAT "
        "--to-destination [fd00:10:244:1::5]:8080",
        sep);
    ck_assert_line(n6, dnat);
    g_autofree char *hairpin = g_strdup_printf(
        "-A KUBE-SEP-%s -s fd00:10:244:1::5/128 -m comment --comment \"default/web6:http\" -j "
        "KUBE-MARK-MASQ",
        sep);
    ck_assert_line(n6, hairpin);
    ck_assert_line(n6, "-A KUBE-SERVICES ! -d ::1/128 " TAIL_COMMENT
                       " -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
    ck_assert_no_text(n6, "nfacct");
    ck_assert_msg(strstr(n6, "! -s fd00:10:244::/56 -d fd00:96::10/128") != NULL, "%s", n6);
    ck_assert_no_text(f6, "KUBE-FIREWALL");

    g_autofree char *n4 = nat(fx, "node-1");
    g_autofree char *f4 = filter(fx, "node-1");
    ck_assert_no_text(n4, "web6");
    ck_assert_no_text(f4, "web6");
}
END_TEST

/* ---------------------------------------------------------------- node independence */

/* Every node's rules of c as text (nat, filter, and an nftables table when there is one),
 * rendered for IPv4. (transfer full) */
static char *
node_rules_text(const Cluster *c, const K8sNode *node)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(NfRuleset) rs = kube_proxy_render(c, node, SIM_AF_INET, &err);
    ck_assert_msg(rs != NULL, "render %s: %s", node->name, err != NULL ? err->message : "?");
    GString *out = g_string_new(NULL);
    nf_ruleset_save(rs, NF_TABLE_NAT, out);
    nf_ruleset_save(rs, NF_TABLE_FILTER, out);
    kube_proxy_nft_list(rs, out);
    return g_string_free(out, FALSE);
}

/* Checks the property on one scenario file: when kube_proxy_rules_node_independent() says one
 * rendering serves every node, every node's rendering is the same text. Counts the files that
 * claimed independence and those whose nodes' renderings differ. */
static void
check_node_independence(const char *path, guint *independent, guint *differing)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario(path, &err);
    ck_assert_msg(sc != NULL, "%s: %s", path, err != NULL ? err->message : "?");
    if (sc->nodes->len > 64) /* the capacity scenarios: their size is not the point here */
        return;
    g_autoptr(Cluster) c = cluster_build(sc, &err);
    ck_assert_msg(c != NULL, "%s: %s", path, err != NULL ? err->message : "?");
    gboolean claimed = kube_proxy_rules_node_independent(&sc->proxy, c->services);
    g_autofree char *first = node_rules_text(c, c->nodes->pdata[0]);
    gboolean same = TRUE;
    for (guint i = 1; i < c->nodes->len && same; i++) {
        g_autofree char *other = node_rules_text(c, c->nodes->pdata[i]);
        same = strcmp(first, other) == 0;
    }
    ck_assert_msg(same || !claimed, "%s: one rendering was to serve every node, but they differ",
                  path);
    *independent += claimed ? 1 : 0;
    *differing += same ? 0 : 1;
}

/* The shared-rules shortcut of model/run.c must never be taken where a node's own rules would
 * differ: checked on every scenario and conformance case. */
START_TEST(test_node_independent_rules_are_the_same_on_every_node)
{
    guint independent = 0, differing = 0, files = 0;
    const char *dirs[] = {"scenarios", "tests/conformance/kube-proxy",
                          "tests/conformance/kube-proxy-extra", "tests/conformance/nftables"};
    for (guint d = 0; d < G_N_ELEMENTS(dirs); d++) {
        g_autofree char *dir = g_build_filename(KPSIM_SRCDIR, dirs[d], NULL);
        g_autoptr(GDir) gd = g_dir_open(dir, 0, NULL);
        ck_assert_msg(gd != NULL, "cannot list %s", dir);
        const char *name;
        while ((name = g_dir_read_name(gd)) != NULL) {
            if (!g_str_has_suffix(name, ".yaml") || g_str_has_prefix(name, "nginx-"))
                continue; /* nginx-*.yaml are the article's manifests, not scenarios */
            g_autofree char *path = g_build_filename(dir, name, NULL);
            check_node_independence(path, &independent, &differing);
            files++;
        }
    }
    ck_assert_uint_gt(files, 20);
    ck_assert_uint_gt(independent, 0); /* the property was exercised both ways */
    ck_assert_uint_gt(differing, 0);
}
END_TEST

/* ---------------------------------------------------------------- conformance scenarios */

/* The directory holding the kube-proxy conformance cases: the project's copy
 * (tests/conformance/kube-proxy) when it exists, else shared/conformance/kube-proxy beside the
 * source tree. (transfer full) */
static char *
conformance_dir(void)
{
    char *mine = g_build_filename(KPSIM_SRCDIR, "tests", "conformance", "kube-proxy", NULL);
    if (g_file_test(mine, G_FILE_TEST_IS_DIR))
        return mine;
    g_free(mine);
    char *shared =
        g_build_filename(KPSIM_SRCDIR, "..", "shared", "conformance", "kube-proxy", NULL);
    ck_assert_msg(g_file_test(shared, G_FILE_TEST_IS_DIR),
                  "conformance cases not found in tests/conformance/kube-proxy or %s", shared);
    return shared;
}

/* A conformance scenario loaded and built. */
typedef struct {
    Scenario *sc;
    Cluster *c;
} Conf;

/* Frees a loaded scenario (the cluster first: it borrows the scenario's nodes). */
static void
conf_free(Conf *cf)
{
    cluster_free(cf->c);
    scenario_free(cf->sc);
    g_free(cf);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Conf, conf_free)

/* Loads and builds the conformance scenario file. */
static Conf *
conf_load(const char *file)
{
    g_autofree char *dir = conformance_dir();
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autoptr(GError) err = NULL;
    Conf *cf = g_new0(Conf, 1);
    cf->sc = loader_load_scenario(path, &err);
    ck_assert_msg(cf->sc != NULL, "%s: %s", file, err != NULL ? err->message : "?");
    cf->c = cluster_build(cf->sc, &err);
    ck_assert_msg(cf->c != NULL, "%s: %s", file, err != NULL ? err->message : "?");
    return cf;
}

/* Renders a table of node of a loaded scenario (IPv4). (transfer full) */
static char *
conf_table(Conf *cf, const char *node, NfTableId table)
{
    g_autoptr(GError) err = NULL;
    NfRuleset *rs = kube_proxy_render(cf->c, cluster_find_node(cf->c, node), SIM_AF_INET, &err);
    ck_assert_msg(rs != NULL, "render: %s", err != NULL ? err->message : "?");
    GString *out = g_string_new(NULL);
    nf_ruleset_save(rs, table, out);
    nf_ruleset_free(rs);
    return g_string_free(out, FALSE);
}

/* The node a probe runs on, for NfEnv.is_local. */
typedef struct {
    const Cluster *c;
    const K8sNode *node;
} ProbeHost;

/* addrtype LOCAL as the node's kernel sees it. */
static gboolean
probe_is_local(gpointer data, const SimAddr *a)
{
    const ProbeHost *h = data;
    return cluster_node_is_local(h->c, h->node, a);
}

/* What one probe saw: the verdict of its branches (all must agree, else "mixed"), the sorted
 * DNAT destinations ("" when none) and whether any branch was masqueraded. */
typedef struct {
    const char *verdict;
    char *endpoints;
    gboolean masquerade;
} ProbeResult;

/* Orders pointers to C strings. */
static gint
str_ptr_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The verdict of one branch as kube-proxy's tracer names it. */
static const char *
branch_verdict(const NfBranch *b)
{
    switch (b->verdict) {
    case NF_VERDICT_DROP:
        return "drop";
    case NF_VERDICT_REJECT:
        return "reject";
    case NF_VERDICT_ACCEPT:
        return "accept";
    case NF_VERDICT_NONE:
        break;
    }
    return b->dnat ? "accept" : "none";
}

/* Runs the first packet of a connection from -> to through node's rules, taking every branch
 * of each random choice. A source that is one of the node's own addresses starts on the host
 * itself; any other arrives on eth0. */
static ProbeResult
probe(const Cluster *c, const K8sNode *node, const NfRuleset *rs, const char *from, const char *to,
      const char *proto)
{
    SimPacket pkt = {0};
    pkt.src.addr = addr(from);
    pkt.src.port = 40000;
    ck_assert(sim_sockaddr_parse(to, &pkt.dst, FALSE));
    SimProto p;
    ck_assert(sim_proto_parse(proto, &p));
    pkt.proto = (guint8)p;
    pkt.tcp_flags = p == SIM_PROTO_TCP ? SIM_TCP_SYN : 0;
    pkt.length = 60;
    ProbeHost host = {c, node};
    NfEnv env = {.data = &host, .is_local = probe_is_local};
    gboolean own = FALSE;
    for (guint i = 0; i < node->addresses->len; i++)
        own = own || sim_addr_equal(&g_array_index(node->addresses, SimAddr, i), &pkt.src.addr);
    g_autoptr(GPtrArray) branches = nf_path_new_connection(
        rs, &pkt, own ? NF_ORIGIN_LOCAL : NF_ORIGIN_REMOTE, own ? NULL : "eth0", "eth0", &env);

    ProbeResult r = {NULL, NULL, FALSE};
    g_autoptr(GPtrArray) eps = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < branches->len; i++) {
        const NfBranch *b = branches->pdata[i];
        const char *v = branch_verdict(b);
        r.verdict = r.verdict == NULL || strcmp(r.verdict, v) == 0 ? v : "mixed";
        r.masquerade = r.masquerade || b->masquerade;
        char text[SIM_SOCKADDR_STRLEN];
        if (b->dnat && !g_ptr_array_find_with_equal_func(
                           eps, sim_sockaddr_to_string(&b->pkt.dst, text), g_str_equal, NULL))
            g_ptr_array_add(eps, g_strdup(text));
    }
    g_ptr_array_sort(eps, str_ptr_compare);
    g_ptr_array_add(eps, NULL);
    r.endpoints = g_strjoinv(",", (char **)eps->pdata);
    return r;
}

/* The expected endpoints of a flows.json probe as "a,b" (sorted), "" for null. (transfer full) */
static char *
flow_expected_endpoints(JsonObject *expect)
{
    JsonNode *n = json_object_get_member(expect, "endpoints");
    g_autoptr(GPtrArray) eps = g_ptr_array_new();
    if (n != NULL && JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++)
            g_ptr_array_add(eps, (gpointer)json_array_get_string_element(a, i));
    }
    g_ptr_array_sort(eps, str_ptr_compare);
    g_ptr_array_add(eps, NULL);
    return g_strjoinv(",", (char **)eps->pdata);
}

/* Replays one flows.json probe against its scenario (loaded once per file into confs) and
 * appends a line to failures when the outcome differs. */
static void
flow_check(JsonObject *flow, GHashTable *confs, GString *failures)
{
    const char *file = json_object_get_string_member(flow, "case");
    Conf *cf = g_hash_table_lookup(confs, file);
    if (cf == NULL) {
        cf = conf_load(file);
        g_hash_table_insert(confs, g_strdup(file), cf);
    }
    const K8sNode *node = cluster_find_node(cf->c, json_object_get_string_member(flow, "node"));
    ck_assert_ptr_nonnull(node);
    g_autoptr(GError) err = NULL;
    NfRuleset *rs = kube_proxy_render(cf->c, node, SIM_AF_INET, &err);
    ck_assert_msg(rs != NULL, "%s: %s", file, err != NULL ? err->message : "?");
    ProbeResult got = probe(cf->c, node, rs, json_object_get_string_member(flow, "from"),
                            json_object_get_string_member(flow, "to"),
                            json_object_get_string_member(flow, "protocol"));
    nf_ruleset_free(rs);

    JsonObject *expect = json_object_get_object_member(flow, "expect");
    g_autofree char *want_eps = flow_expected_endpoints(expect);
    const char *want_verdict = json_object_get_string_member(expect, "verdict");
    gboolean want_masq = json_object_get_boolean_member(expect, "masquerade");
    if (g_strcmp0(got.verdict, want_verdict) != 0 || strcmp(got.endpoints, want_eps) != 0 ||
        got.masquerade != want_masq)
        g_string_append_printf(failures, "%s / %s: want %s [%s] masq=%d, got %s [%s] masq=%d\n",
                               file, json_object_get_string_member(flow, "name"), want_verdict,
                               want_eps, want_masq, got.verdict, got.endpoints, got.masquerade);
    g_free(got.endpoints);
}

START_TEST(test_conformance_flows_from_upstream_tests)
{
    g_autofree char *dir = conformance_dir();
    g_autofree char *path = g_build_filename(dir, "flows.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    ck_assert_msg(json_parser_load_from_file(parser, path, &err), "%s", err ? err->message : "");
    JsonArray *flows = json_node_get_array(json_parser_get_root(parser));
    g_autoptr(GHashTable) confs =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)conf_free);
    g_autoptr(GString) failures = g_string_new(NULL);
    ck_assert_uint_gt(json_array_get_length(flows), 30);
    for (guint i = 0; i < json_array_get_length(flows); i++)
        flow_check(json_array_get_object_element(flows, i), confs, failures);
    ck_assert_msg(failures->len == 0, "conformance probes failed:\n%s", failures->str);
}
END_TEST

START_TEST(test_conformance_external_policy_local_rules)
{
    /* The upstream TestExternalTrafficPolicyLocal setup renders the rules of lb-local.*, which
     * were built in C from the same facts. */
    g_autoptr(Conf) cf = conf_load("iptables-testexternaltrafficpolicylocal.yaml");
    g_autofree char *n = conf_table(cf, "test-node", NF_TABLE_NAT);
    g_autofree char *f = conf_table(cf, "test-node", NF_TABLE_FILTER);
    assert_golden("lb-local.nat", n);
    assert_golden("lb-local.filter", f);
}
END_TEST

START_TEST(test_conformance_cluster_ip_general_rules)
{
    g_autoptr(Conf) cf = conf_load("iptables-testclusteripgeneral.yaml");
    g_autofree char *n = conf_table(cf, "test-node", NF_TABLE_NAT);
    assert_golden("cluster-ip-general.nat", n);
    /* One chain per protocol of the same port number, each with its own target port. */
    static const char *const ports[][3] = {
        {"ns2/svc2:dns-tcp", "tcp", "10.180.0.1:5353"},
        {"ns2/svc2:dns-udp", "udp", "10.180.0.1:53"},
        {"ns2/svc2:dns-sctp", "sctp", "10.180.0.1:53"},
        {"ns2/svc2:https", "tcp", "10.180.0.1:8443"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(ports); i++) {
        g_autofree char *sep = kube_proxy_endpoint_hash(ports[i][0], ports[i][1], ports[i][2]);
        g_autofree char *line = g_strdup_printf(
            "-A KUBE-SEP-%s -p %s -m comment --comment \"%s\" -m %s -j DNAT --to-destination %s",
            sep, ports[i][1], ports[i][0], ports[i][1], ports[i][2]);
        ck_assert_line(n, line);
    }
}
END_TEST

/* ---------------------------------------------------------------- suite */

/* The suite: hashes, the endpoint view, the seed, traffic policies, configuration and the
 * conformance cases. */
static Suite *
kube_proxy_suite(void)
{
    Suite *s = suite_create("kube_proxy_iptables");
    TCase *hash = tcase_create("hash");
    tcase_add_test(hash, test_hash_matches_upstream_vectors);
    tcase_add_test(hash, test_hash_differs_by_protocol_and_is_16_base32_chars);
    tcase_add_test(hash, test_hash_into_writes_what_the_allocating_hash_returns);
    tcase_add_test(hash, test_sha256_matches_gchecksum_at_every_length_to_300);
    tcase_add_test(hash, test_sha256_known_answers);
    tcase_add_test(hash, test_hash_of_parts_is_the_hash_of_their_concatenation_at_any_split);
    suite_add_tcase(s, hash);

    TCase *view = tcase_create("endpoints");
    tcase_add_test(view, test_endpoints_sorted_as_strings_and_deduplicated_preferring_local);
    tcase_add_test(view, test_endpoints_skip_headless_external_name_and_other_family);
    tcase_add_test(view,
                   test_service_port_front_ends_are_split_by_family_and_named_as_kube_proxy_does);
    tcase_add_test(view, test_each_service_gets_only_its_own_slices_in_slice_name_order);
    tcase_add_test(view, test_categorize_terminating_fallback);
    tcase_add_test(view, test_categorize_topology_hints_all_or_nothing);
    tcase_add_test(view, test_local_detector_modes);
    suite_add_tcase(s, view);

    TCase *seed = tcase_create("seed");
    tcase_add_test(seed, test_seed_cluster_nat_is_the_documented_iptables_save);
    tcase_add_test(seed, test_seed_cluster_filter_has_only_generic_rules);
    tcase_add_test(seed, test_seed_local_node_without_endpoint_drops_external_traffic);
    tcase_add_test(seed, test_seed_local_node_with_endpoint_uses_svl);
    tcase_add_test(seed, test_client_ip_affinity_recent_rules);
    tcase_add_test(seed, test_three_endpoints_probability_ladder);
    tcase_add_test(seed, test_ladder_probabilities_are_what_iptables_reads_back);
    tcase_add_test(seed, test_large_cluster_mode_drops_endpoint_comments);
    tcase_add_test(seed, test_terminating_endpoints_used_when_nothing_is_ready);
    suite_add_tcase(s, seed);

    TCase *policy = tcase_create("policies");
    tcase_add_test(policy, test_no_endpoints_rejects_every_front_end);
    tcase_add_test(policy, test_itp_local_without_local_endpoints_drops);
    tcase_add_test(policy, test_itp_local_with_local_endpoint_uses_svl_only);
    tcase_add_test(policy, test_lb_source_ranges_build_firewall_chain);
    tcase_add_test(policy, test_lb_ip_mode_proxy_gets_no_rule);
    tcase_add_test(policy, test_health_check_node_port_only_for_lb_with_local_policy);
    tcase_add_test(policy, test_external_policy_local_lb_golden);
    tcase_add_test(policy, test_headless_and_external_name_get_no_rules);
    tcase_add_test(policy, test_ipv6_service_only_in_ipv6_ruleset);
    suite_add_tcase(s, policy);

    TCase *config = tcase_create("config");
    tcase_add_test(config, test_node_port_addresses_select_local_ips);
    tcase_add_test(config, test_node_port_addresses_invalid_entry_is_an_error);
    tcase_add_test(config, test_localhost_node_ports_disabled);
    tcase_add_test(config, test_masquerade_all_marks_every_cluster_ip_connection);
    tcase_add_test(config, test_no_local_detector_without_cluster_cidr);
    tcase_add_test(config, test_local_detector_rules_per_mode);
    tcase_add_test(config, test_masquerade_bit_and_tcp_be_liberal);
    suite_add_tcase(s, config);

    TCase *conf = tcase_create("conformance");
    tcase_set_timeout(conf, 30);
    tcase_add_test(conf, test_conformance_flows_from_upstream_tests);
    tcase_add_test(conf, test_conformance_external_policy_local_rules);
    tcase_add_test(conf, test_conformance_cluster_ip_general_rules);
    tcase_add_test(conf, test_node_independent_rules_are_the_same_on_every_node);
    suite_add_tcase(s, conf);
    return s;
}

/* Runs the suite; exit status 0 when every test passed. */
int
main(void)
{
    /* A rule the ruleset refuses is reported with g_critical(): make it fail the test. */
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    SRunner *sr = srunner_create(kube_proxy_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
