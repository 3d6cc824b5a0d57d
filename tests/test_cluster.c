/* SPDX-License-Identifier: Apache-2.0 */
/* Check suite for model/cluster.c, model/allocator.c and model/endpointslice_controller.c: the
 * control plane's work on a scenario (node CIDRs, Service allocation and its errors, Deployment
 * pods, scheduling, pod IPs, EndpointSlices) and the banded allocators underneath.
 *
 * Scenarios are written as YAML and loaded through the loader, as a user would write them; the
 * assertions are about properties (bands, spreading, sharing), never about one random pick.
 */
#include <check.h>
#include <string.h>

#include "model/allocator.h"
#include "model/cluster.h"
#include "model/endpointslice_controller.h"
#include "model/loader.h"
#include "sim/sim_rng.h"

#define FILE_NAME "test.yaml"

/* A scenario header: three Ready nodes, clusterCIDR 10.1.0.0/16, the default Service CIDR and
 * node-port range. Services and workloads follow as further documents. */
#define SCENARIO_3_NODES                                                                           \
    "apiVersion: kpsim.io/v1alpha1\n"                                                              \
    "kind: Scenario\n"                                                                             \
    "metadata:\n"                                                                                  \
    "  name: t\n"                                                                                  \
    "spec:\n"                                                                                      \
    "  seed: 1\n"                                                                                  \
    "  cluster:\n"                                                                                 \
    "    nodes:\n"                                                                                 \
    "      - {name: node1, addresses: [192.168.1.101]}\n"                                          \
    "      - {name: node2, addresses: [192.168.1.102]}\n"                                          \
    "      - {name: node3, addresses: [192.168.1.103]}\n"                                          \
    "    clusterCIDR: 10.1.0.0/16\n"                                                               \
    "    serviceCIDR: 10.96.0.0/12\n"

/* The seed article's Deployment: nginx, 2 replicas, containerPort 80. */
#define NGINX_DEPLOYMENT                                                                           \
    "---\n"                                                                                        \
    "apiVersion: apps/v1\n"                                                                        \
    "kind: Deployment\n"                                                                           \
    "metadata:\n"                                                                                  \
    "  name: nginx-deployment\n"                                                                   \
    "  labels: {app: nginx}\n"                                                                     \
    "spec:\n"                                                                                      \
    "  replicas: 2\n"                                                                              \
    "  selector:\n"                                                                                \
    "    matchLabels: {app: nginx}\n"                                                              \
    "  template:\n"                                                                                \
    "    metadata:\n"                                                                              \
    "      labels: {app: nginx}\n"                                                                 \
    "    spec:\n"                                                                                  \
    "      containers:\n"                                                                          \
    "      - name: nginx\n"                                                                        \
    "        image: nginx:latest\n"                                                                \
    "        ports:\n"                                                                             \
    "        - containerPort: 80\n"

/* The seed article's NodePort Service without a fixed nodePort. */
#define NGINX_SERVICE                                                                              \
    "---\n"                                                                                        \
    "apiVersion: v1\n"                                                                             \
    "kind: Service\n"                                                                              \
    "metadata:\n"                                                                                  \
    "  name: nginx-service-nodeport\n"                                                             \
    "spec:\n"                                                                                      \
    "  selector: {app: nginx}\n"                                                                   \
    "  type: NodePort\n"                                                                           \
    "  ports:\n"                                                                                   \
    "  - protocol: TCP\n"                                                                          \
    "    port: 80\n"                                                                               \
    "    targetPort: 80\n"

/* ---------------------------------------------------------------- helpers */

/* Loads yaml (which must be valid). (transfer full) */
static Scenario *
load(const char *yaml)
{
    GError *error = NULL;
    Scenario *sc = loader_load_scenario_text(FILE_NAME, yaml, strlen(yaml), &error);
    ck_assert_msg(sc != NULL, "load failed: %s", error != NULL ? error->message : "?");
    return sc;
}

/* Builds the cluster of sc, which must succeed. (transfer full) */
static Cluster *
build(Scenario *sc)
{
    GError *error = NULL;
    Cluster *c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "build failed: %s", error != NULL ? error->message : "?");
    ck_assert_ptr_null(error);
    return c;
}

/* The error kpsim reports for yaml: from loading, or else from building the cluster (which
 * must then fail). (transfer full) */
static char *
error_of(const char *yaml)
{
    GError *error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario_text(FILE_NAME, yaml, strlen(yaml), &error);
    if (sc != NULL) {
        Cluster *c = cluster_build(sc, &error);
        ck_assert_msg(c == NULL, "expected an error for:\n%s", yaml);
        ck_assert_ptr_null(c);
    }
    ck_assert_ptr_nonnull(error);
    char *msg = g_strdup(error->message);
    g_error_free(error);
    return msg;
}

/* The 1-based line of the first occurrence of needle in yaml. */
static guint
line_of(const char *yaml, const char *needle)
{
    const char *at = strstr(yaml, needle);
    ck_assert_msg(at != NULL, "'%s' not in the scenario", needle);
    guint line = 1;
    for (const char *p = yaml; p < at; p++)
        line += *p == '\n';
    return line;
}

/* Asserts that yaml fails with message text at the line holding marker. */
static void
assert_error_at(const char *yaml, const char *marker, const char *text)
{
    g_autofree char *msg = error_of(yaml);
    g_autofree char *prefix = g_strdup_printf(FILE_NAME ":%u:", line_of(yaml, marker));
    ck_assert_msg(g_str_has_prefix(msg, prefix), "'%s' does not start with '%s'", msg, prefix);
    ck_assert_msg(strstr(msg, ": error: ") != NULL, "no 'error:' in '%s'", msg);
    ck_assert_msg(strstr(msg, text) != NULL, "'%s' does not contain '%s'", msg, text);
}

/* The node called name. */
static K8sNode *
node(const Cluster *c, const char *name)
{
    K8sNode *n = cluster_find_node(c, name);
    ck_assert_msg(n != NULL, "no node %s", name);
    return n;
}

/* The default-namespace Service called name. */
static K8sService *
service(const Cluster *c, const char *name)
{
    K8sService *s = cluster_find_service(c, "default", name);
    ck_assert_msg(s != NULL, "no service %s", name);
    return s;
}

/* Port i of Service name. */
static K8sServicePort *
port_of(const Cluster *c, const char *name, guint i)
{
    K8sService *s = service(c, name);
    ck_assert_uint_lt(i, s->ports->len);
    return s->ports->pdata[i];
}

/* The pod called name. */
static K8sPod *
pod(const Cluster *c, const char *name)
{
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *p = c->pods->pdata[i];
        if (g_strcmp0(p->meta.name, name) == 0)
            return p;
    }
    ck_abort_msg("no pod %s", name);
    return NULL;
}

/* Text form of an address, in a static-lifetime-free way: writes into buf. */
static const char *
addr_str(const SimAddr *a, char *buf)
{
    return sim_addr_to_string(a, buf);
}

/* Text form of a CIDR into buf. */
static const char *
cidr_str(const SimCidr *c, char *buf)
{
    return sim_cidr_to_string(c, buf);
}

/* A NodePort Service document named name with one TCP port (nodePort 0 = not given). */
static char *
nodeport_service(const char *name, guint port, guint node_port)
{
    g_autofree char *np =
        node_port != 0 ? g_strdup_printf("    nodePort: %u\n", node_port) : g_strdup("");
    return g_strdup_printf("---\n"
                           "apiVersion: v1\n"
                           "kind: Service\n"
                           "metadata:\n"
                           "  name: %s\n"
                           "spec:\n"
                           "  type: NodePort\n"
                           "  ports:\n"
                           "  - port: %u\n"
                           "%s",
                           name, port, np);
}

/* ---------------------------------------------------------------- allocators */

START_TEST(test_port_band_offset_follows_kep_3668)
{
    ck_assert_uint_eq(alloc_port_band_offset(2768), 86);   /* 30000-32767 */
    ck_assert_uint_eq(alloc_port_band_offset(10000), 128); /* capped */
    ck_assert_uint_eq(alloc_port_band_offset(100), 16);    /* floor */
    ck_assert_uint_eq(alloc_port_band_offset(17), 16);
    ck_assert_uint_eq(alloc_port_band_offset(16), 0); /* tiny range: no static band */
    ck_assert_uint_eq(alloc_port_band_offset(1), 0);
}
END_TEST

START_TEST(test_ip_band_offset_follows_kep_3070)
{
    ck_assert_uint_eq(alloc_ip_band_offset(1u << 20), 256); /* /12, capped */
    ck_assert_uint_eq(alloc_ip_band_offset(1024), 64);      /* /22 */
    ck_assert_uint_eq(alloc_ip_band_offset(256), 16);       /* /24, floor */
    ck_assert_uint_eq(alloc_ip_band_offset(16), 0);         /* /28 */
}
END_TEST

START_TEST(test_bitmap_fills_dynamic_band_before_static_band)
{
    g_autoptr(AllocBitmap) b = alloc_bitmap_new(100, 16);
    SimRng rng;
    sim_rng_init(&rng, 7, "test");
    guint64 v;
    for (guint i = 0; i < 84; i++) {
        ck_assert(alloc_bitmap_allocate_next(b, &rng, &v));
        ck_assert_uint_ge(v, 16);
        ck_assert_uint_lt(v, 100);
    }
    for (guint i = 0; i < 16; i++) {
        ck_assert(alloc_bitmap_allocate_next(b, &rng, &v));
        ck_assert_uint_lt(v, 16);
    }
    ck_assert_uint_eq(alloc_bitmap_used(b), 100);
    ck_assert(!alloc_bitmap_allocate_next(b, &rng, &v));
    alloc_bitmap_release(b, 42);
    ck_assert(alloc_bitmap_allocate_next(b, &rng, &v));
    ck_assert_uint_eq(v, 42);
    ck_assert(!alloc_bitmap_allocate(b, 42));
}
END_TEST

START_TEST(test_bitmap_without_static_band_uses_whole_range)
{
    g_autoptr(AllocBitmap) b = alloc_bitmap_new(16, 0);
    SimRng rng;
    sim_rng_init(&rng, 1, "test");
    guint64 seen = 0, v;
    for (guint i = 0; i < 16; i++) {
        ck_assert(alloc_bitmap_allocate_next(b, &rng, &v));
        ck_assert_uint_lt(v, 16);
        ck_assert(!(seen & (G_GUINT64_CONSTANT(1) << v)));
        seen |= G_GUINT64_CONSTANT(1) << v;
    }
    ck_assert(!alloc_bitmap_allocate_next(b, &rng, &v));
}
END_TEST

START_TEST(test_ports_dynamic_allocation_stays_in_upper_band)
{
    g_autoptr(AllocPorts) p = alloc_ports_new(30000, 32767);
    SimRng rng;
    sim_rng_init(&rng, 3, "test");
    ck_assert_str_eq(alloc_ports_range_string(p), "30000-32767");
    for (guint i = 0; i < 1000; i++) {
        guint16 port;
        ck_assert_int_eq(alloc_ports_allocate_next(p, &rng, &port), ALLOC_OK);
        ck_assert_uint_ge(port, 30086);
        ck_assert_uint_le(port, 32767);
    }
    ck_assert_int_eq(alloc_ports_allocate(p, 12306), ALLOC_NOT_IN_RANGE);
    ck_assert_int_eq(alloc_ports_allocate(p, 32768), ALLOC_NOT_IN_RANGE);
    ck_assert_int_eq(alloc_ports_allocate(p, 30080), ALLOC_OK);
    ck_assert_int_eq(alloc_ports_allocate(p, 30080), ALLOC_ALREADY_ALLOCATED);
    ck_assert(alloc_ports_is_allocated(p, 30080));
    alloc_ports_release(p, 30080);
    ck_assert(!alloc_ports_is_allocated(p, 30080));
}
END_TEST

START_TEST(test_ips_skip_network_and_broadcast)
{
    SimCidr cidr;
    ck_assert(sim_cidr_parse("10.0.0.0/29", &cidr));
    g_autoptr(AllocIps) r = alloc_ips_new(&cidr);
    SimRng rng;
    sim_rng_init(&rng, 1, "test");
    guint seen = 0;
    for (guint i = 0; i < 6; i++) {
        SimAddr a;
        ck_assert_int_eq(alloc_ips_allocate_next(r, &rng, &a), ALLOC_OK);
        guint last = a.b[3];
        ck_assert_uint_ge(last, 1);
        ck_assert_uint_le(last, 6);
        ck_assert(!(seen & (1u << last)));
        seen |= 1u << last;
    }
    SimAddr a;
    ck_assert_int_eq(alloc_ips_allocate_next(r, &rng, &a), ALLOC_FULL);
    ck_assert(sim_addr_parse("10.0.0.0", &a));
    ck_assert_int_eq(alloc_ips_allocate(r, &a), ALLOC_NOT_IN_RANGE);
    ck_assert(sim_addr_parse("10.0.0.7", &a));
    ck_assert_int_eq(alloc_ips_allocate(r, &a), ALLOC_NOT_IN_RANGE);
    ck_assert(sim_addr_parse("10.0.0.3", &a));
    ck_assert_int_eq(alloc_ips_allocate(r, &a), ALLOC_ALREADY_ALLOCATED);
    alloc_ips_release(r, &a);
    ck_assert_int_eq(alloc_ips_allocate(r, &a), ALLOC_OK);

    /* IPv6 has no broadcast address: a /126 hands out ::1, ::2 and ::3. */
    ck_assert(sim_cidr_parse("fd00::/126", &cidr));
    g_autoptr(AllocIps) r6 = alloc_ips_new(&cidr);
    ck_assert(sim_addr_parse("fd00::3", &a));
    ck_assert_int_eq(alloc_ips_allocate(r6, &a), ALLOC_OK);
    ck_assert(sim_addr_parse("fd00::", &a));
    ck_assert_int_eq(alloc_ips_allocate(r6, &a), ALLOC_NOT_IN_RANGE);
    ck_assert(sim_addr_parse("fd00:0:0:1::1", &a));
    ck_assert_int_eq(alloc_ips_allocate(r6, &a), ALLOC_NOT_IN_RANGE);
}
END_TEST

START_TEST(test_ips_dynamic_allocation_prefers_upper_band)
{
    SimCidr cidr;
    ck_assert(sim_cidr_parse("10.96.0.0/12", &cidr));
    g_autoptr(AllocIps) r = alloc_ips_new(&cidr);
    SimRng rng;
    sim_rng_init(&rng, 5, "test");
    for (guint i = 0; i < 1000; i++) {
        SimAddr a;
        ck_assert_int_eq(alloc_ips_allocate_next(r, &rng, &a), ALLOC_OK);
        ck_assert(sim_cidr_contains(&cidr, &a));
        /* The static band is the first 256 addresses after the network address. */
        ck_assert_uint_ge(sim_cidr_offset(&cidr, &a), 257);
    }
}
END_TEST

/* ---------------------------------------------------------------- nodes */

START_TEST(test_nodes_get_consecutive_24s_of_cluster_cidr)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES);
    g_autoptr(Cluster) c = build(sc);
    char buf[SIM_CIDR_STRLEN];
    ck_assert_str_eq(cidr_str(&node(c, "node1")->pod_cidr, buf), "10.1.0.0/24");
    ck_assert_str_eq(cidr_str(&node(c, "node2")->pod_cidr, buf), "10.1.1.0/24");
    ck_assert_str_eq(cidr_str(&node(c, "node3")->pod_cidr, buf), "10.1.2.0/24");
    /* The cluster shares the scenario's nodes rather than copying them. */
    ck_assert_ptr_eq(c->nodes->pdata[0], sc->nodes->pdata[0]);
    ck_assert_ptr_eq(c->proxy, &sc->proxy);
}
END_TEST

START_TEST(test_stated_pod_cidr_is_kept_and_skipped)
{
    const char *yaml = "apiVersion: kpsim.io/v1alpha1\n"
                       "kind: Scenario\n"
                       "metadata: {name: t}\n"
                       "spec:\n"
                       "  cluster:\n"
                       "    nodes:\n"
                       "      - {name: a, addresses: [192.168.1.1]}\n"
                       "      - {name: b, addresses: [192.168.1.2], podCIDR: 10.1.0.0/24}\n"
                       "      - {name: c, addresses: [192.168.1.3]}\n"
                       "    clusterCIDR: 10.1.0.0/16\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    char buf[SIM_CIDR_STRLEN];
    ck_assert_str_eq(cidr_str(&node(c, "a")->pod_cidr, buf), "10.1.1.0/24");
    ck_assert_str_eq(cidr_str(&node(c, "b")->pod_cidr, buf), "10.1.0.0/24");
    ck_assert_str_eq(cidr_str(&node(c, "c")->pod_cidr, buf), "10.1.2.0/24");
}
END_TEST

START_TEST(test_ipv6_cluster_cidr_gives_a_64_per_node)
{
    const char *yaml = "apiVersion: kpsim.io/v1alpha1\n"
                       "kind: Scenario\n"
                       "metadata: {name: t}\n"
                       "spec:\n"
                       "  cluster:\n"
                       "    nodes:\n"
                       "      - {name: a, addresses: ['2001:db8::1']}\n"
                       "      - {name: b, addresses: ['2001:db8::2']}\n"
                       "    clusterCIDR: fd00:10:244::/56\n"
                       "    serviceCIDR: fd00:10:96::/108\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    char buf[SIM_CIDR_STRLEN];
    ck_assert_str_eq(cidr_str(&node(c, "a")->pod_cidr, buf), "fd00:10:244::/64");
    ck_assert_str_eq(cidr_str(&node(c, "b")->pod_cidr, buf), "fd00:10:244:1::/64");
}
END_TEST

START_TEST(test_too_small_cluster_cidr_is_an_error_at_the_node)
{
    const char *yaml = "apiVersion: kpsim.io/v1alpha1\n"
                       "kind: Scenario\n"
                       "metadata: {name: t}\n"
                       "spec:\n"
                       "  cluster:\n"
                       "    nodes:\n"
                       "      - {name: a, addresses: [192.168.1.1]}\n"
                       "      - {name: b, addresses: [192.168.1.2]}\n"
                       "      - {name: c, addresses: [192.168.1.3]}\n"
                       "    clusterCIDR: 10.1.0.0/23\n";
    assert_error_at(yaml, "name: c", "node \"c\" gets no pod CIDR: clusterCIDR 10.1.0.0/23");
}
END_TEST

START_TEST(test_duplicate_node_address_is_an_error)
{
    const char *yaml = "apiVersion: kpsim.io/v1alpha1\n"
                       "kind: Scenario\n"
                       "metadata: {name: t}\n"
                       "spec:\n"
                       "  cluster:\n"
                       "    nodes:\n"
                       "      - {name: a, addresses: [192.168.1.1]}\n"
                       "      - {name: b, addresses: [192.168.1.1]}\n";
    assert_error_at(yaml, "name: b", "192.168.1.1");
}
END_TEST

/* ---------------------------------------------------------------- pods and scheduling */

START_TEST(test_seed_deployment_spreads_over_two_nodes_with_first_ips)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(c->pods->len, 2);
    g_autoptr(GRegex) re = g_regex_new("^nginx-deployment-([bcdfghjklmnpqrstvwxz2456789]{10})-"
                                       "[bcdfghjklmnpqrstvwxz2456789]{5}$",
                                       0, 0, NULL);
    K8sPod *p0 = c->pods->pdata[0], *p1 = c->pods->pdata[1];
    ck_assert_ptr_nonnull(p0->node_name);
    ck_assert_ptr_nonnull(p1->node_name);
    ck_assert_str_ne(p0->node_name, p1->node_name);
    for (guint i = 0; i < 2; i++) {
        K8sPod *p = c->pods->pdata[i];
        g_autoptr(GMatchInfo) m = NULL;
        ck_assert_msg(g_regex_match(re, p->meta.name, 0, &m), "bad pod name %s", p->meta.name);
        g_autofree char *hash = g_match_info_fetch(m, 1);
        ck_assert_str_eq(g_hash_table_lookup(p->meta.labels, "pod-template-hash"), hash);
        ck_assert_str_eq(g_hash_table_lookup(p->meta.labels, "app"), "nginx");
        ck_assert_str_eq(p->owner, "nginx-deployment");
        ck_assert(p->ready);
        ck_assert(!p->terminating);
        /* host-local: the first pod on a node gets .2 of the node's /24. */
        SimAddr want;
        ck_assert(sim_cidr_nth(&node(c, p->node_name)->pod_cidr, 2, &want));
        ck_assert(sim_addr_equal(&p->ip, &want));
        ck_assert_ptr_eq(cluster_find_pod_by_ip(c, &p->ip), p);
        ck_assert_ptr_eq(cluster_node_for_pod_ip(c, &p->ip), node(c, p->node_name));
        ck_assert_uint_eq(((K8sContainer *)p->spec.containers->pdata[0])->ports->len, 1);
    }
    /* Both replicas come from one template: same hash, different suffixes. */
    ck_assert_str_eq(g_hash_table_lookup(p0->meta.labels, "pod-template-hash"),
                     g_hash_table_lookup(p1->meta.labels, "pod-template-hash"));
    ck_assert_str_ne(p0->meta.name, p1->meta.name);
    ck_assert_uint_eq(c->warnings->len, 0);
}
END_TEST

START_TEST(test_spread_balances_replicas_over_nodes)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT);
    ((K8sDeployment *)sc->deployments->pdata[0])->replicas = 7;
    g_autoptr(Cluster) c = build(sc);
    guint per_node[3] = {0};
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *p = c->pods->pdata[i];
        per_node[p->node_name[4] - '1']++;
    }
    /* 7 over 3 nodes: 3, 2, 2 in some order. */
    guint max = MAX(per_node[0], MAX(per_node[1], per_node[2]));
    guint min = MIN(per_node[0], MIN(per_node[1], per_node[2]));
    ck_assert_uint_eq(max, 3);
    ck_assert_uint_eq(min, 2);
    /* IPs on one node are .2, .3, ... in placement order, all distinct. */
    g_autoptr(GHashTable) ips = g_hash_table_new(sim_addr_hash, sim_addr_equal_func);
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *p = c->pods->pdata[i];
        const K8sNode *n = node(c, p->node_name);
        ck_assert(sim_cidr_contains(&n->pod_cidr, &p->ip));
        guint64 off = sim_cidr_offset(&n->pod_cidr, &p->ip);
        ck_assert_uint_ge(off, 2);
        ck_assert_uint_le(off, 4);
        ck_assert(g_hash_table_add(ips, &p->ip));
    }
}
END_TEST

START_TEST(test_same_seed_gives_identical_cluster)
{
    const char *yaml = SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE;
    g_autoptr(Scenario) sa = load(yaml);
    g_autoptr(Scenario) sb = load(yaml);
    g_autoptr(Cluster) a = build(sa);
    g_autoptr(Cluster) b = build(sb);
    ck_assert_uint_eq(a->pods->len, b->pods->len);
    for (guint i = 0; i < a->pods->len; i++) {
        K8sPod *x = a->pods->pdata[i], *y = b->pods->pdata[i];
        ck_assert_str_eq(x->meta.name, y->meta.name);
        ck_assert_str_eq(x->node_name, y->node_name);
        ck_assert(sim_addr_equal(&x->ip, &y->ip));
    }
    K8sService *sx = service(a, "nginx-service-nodeport");
    K8sService *sy = service(b, "nginx-service-nodeport");
    ck_assert(sim_addr_equal(k8s_service_cluster_ip(sx), k8s_service_cluster_ip(sy)));
    ck_assert_uint_eq(port_of(a, "nginx-service-nodeport", 0)->node_port,
                      port_of(b, "nginx-service-nodeport", 0)->node_port);
    g_autoptr(GPtrArray) slx = cluster_service_slices(a, sx);
    g_autoptr(GPtrArray) sly = cluster_service_slices(b, sy);
    ck_assert_uint_eq(slx->len, 1);
    ck_assert_uint_eq(sly->len, 1);
    ck_assert_str_eq(((K8sEndpointSlice *)slx->pdata[0])->meta.name,
                     ((K8sEndpointSlice *)sly->pdata[0])->meta.name);
}
END_TEST

START_TEST(test_other_seeds_give_other_dynamic_values)
{
    const char *yaml = SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE;
    g_autoptr(GHashTable) node_ports = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) hashes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint64 seed = 1; seed <= 4; seed++) {
        g_autoptr(Scenario) sc = load(yaml);
        sc->seed = seed;
        g_autoptr(Cluster) c = build(sc);
        guint np = port_of(c, "nginx-service-nodeport", 0)->node_port;
        ck_assert_uint_ge(np, 30086);
        g_hash_table_add(node_ports, GUINT_TO_POINTER(np));
        K8sPod *p = c->pods->pdata[0];
        g_hash_table_add(names, g_strdup(p->meta.name));
        g_hash_table_add(hashes,
                         g_strdup(g_hash_table_lookup(p->meta.labels, "pod-template-hash")));
    }
    ck_assert_uint_ge(g_hash_table_size(node_ports), 3);
    ck_assert_uint_ge(g_hash_table_size(names), 3);
    /* The pod-template-hash depends on the template, not on the seed. */
    ck_assert_uint_eq(g_hash_table_size(hashes), 1);
}
END_TEST

START_TEST(test_no_ready_node_leaves_pods_pending_with_a_warning)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    for (guint i = 0; i < sc->nodes->len; i++)
        ((K8sNode *)sc->nodes->pdata[i])->ready = FALSE;
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(c->pods->len, 2);
    for (guint i = 0; i < c->pods->len; i++) {
        K8sPod *p = c->pods->pdata[i];
        ck_assert_ptr_null(p->node_name);
        ck_assert_int_eq(p->ip.family, SIM_AF_NONE);
        ck_assert(!p->ready);
    }
    gboolean pending = FALSE;
    for (guint i = 0; i < c->warnings->len; i++) {
        const char *w = c->warnings->pdata[i];
        ck_assert(g_str_has_prefix(w, FILE_NAME ":"));
        pending = pending || (strstr(w, "warning: ") != NULL && strstr(w, "Pending") != NULL &&
                              strstr(w, "nginx-deployment") != NULL);
    }
    ck_assert(pending);
    /* Pods without an IP are not published: the Service gets a placeholder slice. */
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, service(c, "nginx-service-nodeport"));
    ck_assert_uint_eq(slices->len, 1);
    ck_assert_uint_eq(((K8sEndpointSlice *)slices->pdata[0])->endpoints->len, 0);
}
END_TEST

START_TEST(test_unschedulable_node_gets_no_pods)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT);
    ((K8sDeployment *)sc->deployments->pdata[0])->replicas = 6;
    ((K8sNode *)sc->nodes->pdata[1])->unschedulable = TRUE;
    g_autoptr(Cluster) c = build(sc);
    guint on[3] = {0};
    for (guint i = 0; i < c->pods->len; i++)
        on[((K8sPod *)c->pods->pdata[i])->node_name[4] - '1']++;
    ck_assert_uint_eq(on[0], 3);
    ck_assert_uint_eq(on[1], 0);
    ck_assert_uint_eq(on[2], 3);
}
END_TEST

/* A bare Pod document: labels app=web, pinned to node (NULL: scheduled), one container whose
 * port is named port_name (NULL: no ports). (transfer full) */
static char *
web_pod(const char *name, const char *node_name, const char *port_name, guint port)
{
    g_autofree char *pin =
        node_name != NULL ? g_strdup_printf("  nodeName: %s\n", node_name) : g_strdup("");
    g_autofree char *ports =
        port_name != NULL
            ? g_strdup_printf("    ports:\n    - {name: %s, containerPort: %u}\n", port_name, port)
            : g_strdup("");
    return g_strdup_printf("---\n"
                           "apiVersion: v1\n"
                           "kind: Pod\n"
                           "metadata:\n"
                           "  name: %s\n"
                           "  labels: {app: web}\n"
                           "spec:\n"
                           "%s"
                           "  containers:\n"
                           "  - name: c\n"
                           "    image: web\n"
                           "%s",
                           name, pin, ports);
}

START_TEST(test_stated_pod_ip_is_kept_and_skipped_by_ipam)
{
    g_autofree char *a = web_pod("a", "node1", NULL, 0);
    g_autofree char *b = web_pod("b", "node1", NULL, 0);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, b, NULL);
    g_autoptr(Scenario) sc = load(yaml);
    ck_assert_uint_eq(sc->pods->len, 2);
    K8sPod *pa = sc->pods->pdata[0];
    ck_assert(sim_addr_parse("10.1.0.2", &pa->ip));
    g_autoptr(Cluster) c = build(sc);
    char buf[SIM_ADDR_STRLEN];
    ck_assert_str_eq(addr_str(&pod(c, "a")->ip, buf), "10.1.0.2");
    ck_assert_str_eq(addr_str(&pod(c, "b")->ip, buf), "10.1.0.3");
    ck_assert_str_eq(pod(c, "b")->node_name, "node1");
}
END_TEST

START_TEST(test_colliding_pod_ips_are_an_error)
{
    g_autofree char *a = web_pod("a", "node1", NULL, 0);
    g_autofree char *b = web_pod("b", "node2", NULL, 0);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, b, NULL);
    g_autoptr(Scenario) sc = load(yaml);
    for (guint i = 0; i < 2; i++)
        ck_assert(sim_addr_parse("10.1.0.9", &((K8sPod *)sc->pods->pdata[i])->ip));
    GError *error = NULL;
    Cluster *c = cluster_build(sc, &error);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(error);
    g_autofree char *prefix = g_strdup_printf(FILE_NAME ":%u:", line_of(yaml, "name: b"));
    ck_assert_msg(g_str_has_prefix(error->message, prefix), "%s", error->message);
    ck_assert_msg(strstr(error->message, "10.1.0.9") != NULL, "%s", error->message);
    g_error_free(error);
}
END_TEST

START_TEST(test_pod_on_not_ready_node_is_not_ready)
{
    g_autofree char *a = web_pod("a", "node2", NULL, 0);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, NULL);
    g_autoptr(Scenario) sc = load(yaml);
    ((K8sNode *)sc->nodes->pdata[1])->ready = FALSE;
    g_autoptr(Cluster) c = build(sc);
    ck_assert_str_eq(pod(c, "a")->node_name, "node2");
    ck_assert(!pod(c, "a")->ready);
}
END_TEST

START_TEST(test_deployment_selector_must_match_template)
{
    const char *yaml = SCENARIO_3_NODES "---\n"
                                        "apiVersion: apps/v1\n"
                                        "kind: Deployment\n"
                                        "metadata:\n"
                                        "  name: web\n"
                                        "spec:\n"
                                        "  selector:\n"
                                        "    matchLabels: {app: web}\n"
                                        "  template:\n"
                                        "    metadata:\n"
                                        "      labels: {app: nginx}\n"
                                        "    spec:\n"
                                        "      containers:\n"
                                        "      - {name: c, image: nginx}\n";
    assert_error_at(yaml, "labels: {app: nginx}",
                    "The Deployment \"web\" is invalid: spec.template.metadata.labels: Invalid "
                    "value: map[string]string{\"app\":\"nginx\"}: `selector` does not match "
                    "template `labels`");
}
END_TEST

START_TEST(test_negative_replicas_are_an_error)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT);
    ((K8sDeployment *)sc->deployments->pdata[0])->replicas = -1;
    GError *error = NULL;
    Cluster *c = cluster_build(sc, &error);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, "The Deployment \"nginx-deployment\" is invalid: "
                                         "spec.replicas: Invalid value: -1: must be greater than "
                                         "or equal to 0") != NULL,
                  "%s", error->message);
    g_error_free(error);
}
END_TEST

START_TEST(test_zero_replicas_make_no_pods)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    ((K8sDeployment *)sc->deployments->pdata[0])->replicas = 0;
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(c->pods->len, 0);
}
END_TEST

/* The scheduler as documented, by brute force: pinned pods first, then every other pod in
 * build order (the scenario's pods, then each Deployment's replicas) on the Ready, schedulable
 * node with the fewest pods of its spread group, then the fewest pods, ties drawn from the
 * "scheduler" stream in node order. Returns each pod's node index (G_MAXUINT: Pending), in
 * the order of the built cluster's pods. (transfer full) */
static GArray *
reference_schedule(const Scenario *sc, const GPtrArray *pods, const GPtrArray *deployments)
{
    guint n = sc->nodes->len;
    g_autofree guint *total = g_new0(guint, n);
    g_autoptr(GHashTable) groups = /* key -> guint per node */
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GPtrArray) slot_group = g_ptr_array_new();
    GArray *chosen = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GPtrArray) pins = g_ptr_array_new();
    for (guint i = 0; i < pods->len; i++) {
        const K8sPod *p = pods->pdata[i];
        g_autofree char *labels = k8s_labels_to_string(p->meta.labels);
        char *key = g_strdup_printf("labels:%s/%s", p->meta.namespace_, labels);
        g_ptr_array_add(pins, p->spec.node_name);
        guint *per = g_hash_table_lookup(groups, key);
        if (per == NULL)
            g_hash_table_insert(groups, g_strdup(key), per = g_new0(guint, n));
        g_ptr_array_add(slot_group, per);
        g_free(key);
    }
    for (guint d = 0; d < deployments->len; d++) {
        const K8sDeployment *dep = deployments->pdata[d];
        guint *per = g_new0(guint, n);
        g_hash_table_insert(groups, g_strdup_printf("owner:%s", dep->meta.name), per);
        for (gint r = 0; r < dep->replicas; r++) {
            g_ptr_array_add(slot_group, per);
            g_ptr_array_add(pins, NULL);
        }
    }
    g_array_set_size(chosen, slot_group->len);
    for (guint s = 0; s < slot_group->len; s++) {
        g_array_index(chosen, guint, s) = G_MAXUINT;
        for (guint i = 0; pins->pdata[s] != NULL && i < n; i++) {
            if (strcmp(((const K8sNode *)sc->nodes->pdata[i])->name, pins->pdata[s]) == 0) {
                g_array_index(chosen, guint, s) = i;
                total[i]++;
                ((guint *)slot_group->pdata[s])[i]++;
            }
        }
    }
    SimRng rng;
    sim_rng_init(&rng, sc->seed, "scheduler");
    for (guint s = 0; s < slot_group->len; s++) {
        if (pins->pdata[s] != NULL)
            continue;
        guint *per = slot_group->pdata[s], best_g = G_MAXUINT, best_t = G_MAXUINT, ties = 0;
        for (guint i = 0; i < n; i++) {
            const K8sNode *node = sc->nodes->pdata[i];
            if (!node->ready || node->unschedulable)
                continue;
            if (per[i] < best_g || (per[i] == best_g && total[i] < best_t)) {
                best_g = per[i];
                best_t = total[i];
                ties = 0;
            }
            ties += per[i] == best_g && total[i] == best_t;
        }
        if (ties == 0)
            continue;
        guint pick = ties > 1 ? (guint)sim_rng_below(&rng, ties) : 0;
        for (guint i = 0; i < n; i++) {
            const K8sNode *node = sc->nodes->pdata[i];
            if (node->ready && !node->unschedulable && per[i] == best_g && total[i] == best_t &&
                pick-- == 0) {
                g_array_index(chosen, guint, s) = i;
                total[i]++;
                per[i]++;
                break;
            }
        }
    }
    return chosen;
}

/* A random scenario for the scheduler: up to 80 generated nodes, some NotReady or
 * unschedulable, up to 40 Deployments of 0-24 replicas, up to 5 bare pods (labels app=web),
 * some pinned. (transfer full) */
static Scenario *
random_schedule_scenario(GRand *r)
{
    guint nodes = (guint)g_rand_int_range(r, 1, 81), deps = (guint)g_rand_int_range(r, 1, 41);
    g_autoptr(GString) yaml = g_string_new(NULL);
    g_string_append_printf(yaml,
                           "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: t}\n"
                           "spec:\n  seed: %u\n  cluster:\n"
                           "    nodes: {count: %u, addressBase: 192.168.0.1}\n"
                           "    clusterCIDR: 10.0.0.0/12\n"
                           "  generate:\n    deployments: {count: %u, replicas: 1, ports: [80]}\n",
                           g_rand_int_range(r, 1, 1000), nodes, deps);
    guint bare = (guint)g_rand_int_range(r, 0, 6);
    for (guint i = 0; i < bare; i++) {
        g_autofree char *pin =
            g_rand_boolean(r) ? g_strdup_printf("node%d", g_rand_int_range(r, 1, (gint)nodes + 1))
                              : NULL;
        g_autofree char *name = g_strdup_printf("bare%u", i);
        g_autofree char *doc = web_pod(name, pin, NULL, 0);
        g_string_append(yaml, doc);
    }
    Scenario *sc = load(yaml->str);
    for (guint i = 0; i < sc->nodes->len; i++) {
        K8sNode *n = sc->nodes->pdata[i];
        n->ready = g_rand_int_range(r, 0, 10) != 0;
        n->unschedulable = g_rand_int_range(r, 0, 10) == 0;
    }
    for (guint i = 0; i < sc->deployments->len; i++)
        ((K8sDeployment *)sc->deployments->pdata[i])->replicas = g_rand_int_range(r, 0, 25);
    return sc;
}

START_TEST(test_scheduler_places_as_a_full_scan_would)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(7);
    for (guint round = 0; round < 150; round++) {
        g_autoptr(Scenario) sc = random_schedule_scenario(r);
        g_autoptr(GPtrArray) pods = g_ptr_array_ref(sc->pods);
        g_autoptr(GPtrArray) deps = g_ptr_array_ref(sc->deployments);
        g_autoptr(GArray) want = reference_schedule(sc, pods, deps);
        g_autoptr(Cluster) c = build(sc);
        ck_assert_uint_eq(c->pods->len, want->len);
        for (guint s = 0; s < want->len; s++) {
            const K8sPod *p = c->pods->pdata[s];
            guint i = g_array_index(want, guint, s);
            const char *expect = i == G_MAXUINT ? NULL : ((K8sNode *)sc->nodes->pdata[i])->name;
            ck_assert_msg(g_strcmp0(p->node_name, expect) == 0,
                          "round %u pod %u (%s): on %s, a full scan puts it on %s", round, s,
                          p->meta.name, p->node_name ? p->node_name : "(none)",
                          expect ? expect : "(none)");
        }
    }
}
END_TEST

/* ---------------------------------------------------------------- Services */

/* SCENARIO_3_NODES with serviceNodePortRange range. (transfer full) */
static char *
scenario_with_range(const char *range)
{
    return g_strdup_printf("%s    serviceNodePortRange: %s\n", SCENARIO_3_NODES, range);
}

START_TEST(test_cluster_ip_is_allocated_from_the_upper_band)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    g_autoptr(Cluster) c = build(sc);
    K8sService *s = service(c, "nginx-service-nodeport");
    SimCidr cidr;
    ck_assert(sim_cidr_parse("10.96.0.0/12", &cidr));
    ck_assert_uint_eq(s->cluster_ips->len, 1);
    const SimAddr *ip = k8s_service_cluster_ip(s);
    ck_assert(sim_cidr_contains(&cidr, ip));
    ck_assert_uint_ge(sim_cidr_offset(&cidr, ip), 257);
    /* The apiserver writes the defaulted families back. */
    ck_assert_uint_eq(s->ip_families->len, 1);
    ck_assert_uint_eq(g_array_index(s->ip_families, guint8, 0), SIM_AF_INET);
    ck_assert_str_eq(s->ip_family_policy, "SingleStack");
}
END_TEST

START_TEST(test_dynamic_node_ports_stay_in_the_upper_band)
{
    GString *yaml = g_string_new(SCENARIO_3_NODES);
    for (guint i = 0; i < 300; i++) {
        g_autofree char *name = g_strdup_printf("s%u", i);
        g_autofree char *doc = nodeport_service(name, 80, 0);
        g_string_append(yaml, doc);
    }
    g_autoptr(Scenario) sc = load(yaml->str);
    g_string_free(yaml, TRUE);
    g_autoptr(Cluster) c = build(sc);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < c->services->len; i++) {
        K8sService *s = c->services->pdata[i];
        guint np = ((K8sServicePort *)s->ports->pdata[0])->node_port;
        ck_assert_uint_ge(np, 30086);
        ck_assert_uint_le(np, 32767);
        ck_assert(g_hash_table_add(seen, GUINT_TO_POINTER(np)));
    }
}
END_TEST

START_TEST(test_explicit_node_port_is_reserved_before_dynamic_ones)
{
    /* A 16-port range has no static band: dynamic picks cover all of it, yet never the port a
     * later Service states. */
    g_autofree char *head = scenario_with_range("30000-30015");
    GString *yaml = g_string_new(head);
    for (guint i = 0; i < 15; i++) {
        g_autofree char *name = g_strdup_printf("dyn%u", i);
        g_autofree char *doc = nodeport_service(name, 80, 0);
        g_string_append(yaml, doc);
    }
    g_autofree char *fixed = nodeport_service("fixed", 80, 30007);
    g_string_append(yaml, fixed);
    g_autoptr(Scenario) sc = load(yaml->str);
    g_string_free(yaml, TRUE);
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(port_of(c, "fixed", 0)->node_port, 30007);
    ck_assert(port_of(c, "fixed", 0)->node_port_explicit);
    guint64 seen = 0;
    for (guint i = 0; i < c->services->len; i++) {
        guint np =
            ((K8sServicePort *)((K8sService *)c->services->pdata[i])->ports->pdata[0])->node_port;
        ck_assert_uint_ge(np, 30000);
        ck_assert_uint_le(np, 30015);
        ck_assert(!(seen & (G_GUINT64_CONSTANT(1) << (np - 30000))));
        seen |= G_GUINT64_CONSTANT(1) << (np - 30000);
    }
    ck_assert_uint_eq(seen, 0xffff);
}
END_TEST

START_TEST(test_upper_band_full_falls_back_to_static_band)
{
    /* 30000-30099: static band 30000-30015, dynamic band 30016-30099 (84 ports). */
    g_autofree char *head = scenario_with_range("30000-30099");
    GString *yaml = g_string_new(head);
    for (guint i = 0; i < 85; i++) {
        g_autofree char *name = g_strdup_printf("s%u", i);
        g_autofree char *doc = nodeport_service(name, 80, 0);
        g_string_append(yaml, doc);
    }
    g_autoptr(Scenario) sc = load(yaml->str);
    g_string_free(yaml, TRUE);
    g_autoptr(Cluster) c = build(sc);
    for (guint i = 0; i < 84; i++)
        ck_assert_uint_ge(
            ((K8sServicePort *)((K8sService *)c->services->pdata[i])->ports->pdata[0])->node_port,
            30016);
    ck_assert_uint_lt(port_of(c, "s84", 0)->node_port, 30016);
}
END_TEST

START_TEST(test_node_port_out_of_range_is_an_error)
{
    g_autofree char *doc = nodeport_service("web", 80, 12306);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, doc, NULL);
    assert_error_at(yaml, "nodePort: 12306",
                    "The Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 12306: "
                    "provided port is not in the valid range. The range of valid ports is "
                    "30000-32767");
}
END_TEST

START_TEST(test_node_port_taken_by_another_service_is_an_error)
{
    g_autofree char *a = nodeport_service("first", 80, 30080);
    g_autofree char *b = nodeport_service("second", 81, 30080);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, b, NULL);
    /* The error points at the second Service's nodePort. */
    const char *second = strstr(yaml, "name: second");
    g_autofree char *msg = error_of(yaml);
    guint line = line_of(yaml, "name: second") + (line_of(second, "nodePort: 30080") - 1);
    g_autofree char *prefix = g_strdup_printf(FILE_NAME ":%u:", line);
    ck_assert_msg(g_str_has_prefix(msg, prefix), "'%s' does not start with '%s'", msg, prefix);
    ck_assert_msg(strstr(msg, "error: The Service \"second\" is invalid: spec.ports[0].nodePort: "
                              "Invalid value: 30080: provided port is already allocated") != NULL,
                  "%s", msg);
}
END_TEST

START_TEST(test_same_protocol_node_port_twice_in_a_service_is_an_error)
{
    const char *yaml = SCENARIO_3_NODES "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: web}\n"
                                        "spec:\n"
                                        "  type: NodePort\n"
                                        "  ports:\n"
                                        "  - {name: a, port: 80, nodePort: 30080}\n"
                                        "  - {name: b, port: 81, nodePort: 30080}\n";
    assert_error_at(
        yaml, "name: b, port: 81",
        "The Service \"web\" is invalid: spec.ports[1].nodePort: Duplicate value: 30080");
}
END_TEST

START_TEST(test_full_node_port_range_is_an_internal_error)
{
    g_autofree char *head = scenario_with_range("30000-30001");
    g_autofree char *yaml = g_strconcat(head,
                                        "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: web}\n"
                                        "spec:\n"
                                        "  type: NodePort\n"
                                        "  ports:\n"
                                        "  - {name: a, port: 80}\n"
                                        "  - {name: b, port: 81}\n"
                                        "  - {name: c, port: 82}\n",
                                        NULL);
    assert_error_at(yaml, "name: c, port: 82",
                    "error: Internal error occurred: failed to allocate a nodePort: range is full");
}
END_TEST

START_TEST(test_same_port_number_shares_one_node_port)
{
    const char *yaml = SCENARIO_3_NODES "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: dns}\n"
                                        "spec:\n"
                                        "  type: NodePort\n"
                                        "  ports:\n"
                                        "  - {name: dns-tcp, port: 53, protocol: TCP}\n"
                                        "  - {name: dns-udp, port: 53, protocol: UDP}\n"
                                        "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: dns2}\n"
                                        "spec:\n"
                                        "  type: NodePort\n"
                                        "  ports:\n"
                                        "  - {name: dns-tcp, port: 53, protocol: TCP}\n"
                                        "  - {name: dns-udp, port: 53, protocol: UDP, "
                                        "nodePort: 30053}\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    guint tcp = port_of(c, "dns", 0)->node_port, udp = port_of(c, "dns", 1)->node_port;
    ck_assert_uint_ge(tcp, 30086);
    ck_assert_uint_eq(tcp, udp);
    /* A nodePort stated on one entry is reused by the entry with the same port number. */
    ck_assert_uint_eq(port_of(c, "dns2", 0)->node_port, 30053);
    ck_assert_uint_eq(port_of(c, "dns2", 1)->node_port, 30053);
}
END_TEST

START_TEST(test_load_balancer_without_node_port_allocation)
{
    const char *yaml = SCENARIO_3_NODES "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: lb}\n"
                                        "spec:\n"
                                        "  type: LoadBalancer\n"
                                        "  allocateLoadBalancerNodePorts: false\n"
                                        "  ports:\n"
                                        "  - {name: a, port: 80}\n"
                                        "  - {name: b, port: 81, nodePort: 30090}\n"
                                        "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: lb2}\n"
                                        "spec:\n"
                                        "  type: LoadBalancer\n"
                                        "  ports:\n"
                                        "  - {name: a, port: 80}\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(port_of(c, "lb", 0)->node_port, 0);
    ck_assert_uint_eq(port_of(c, "lb", 1)->node_port, 30090);
    ck_assert_uint_ge(port_of(c, "lb2", 0)->node_port, 30086);
    ck_assert_ptr_nonnull(k8s_service_cluster_ip(service(c, "lb")));

    /* The stated port is reserved: another Service cannot have it. */
    g_autofree char *other = nodeport_service("other", 80, 30090);
    g_autofree char *clash = g_strconcat(yaml, other, NULL);
    g_autofree char *msg = error_of(clash);
    ck_assert_msg(strstr(msg, "provided port is already allocated") != NULL, "%s", msg);
}
END_TEST

/* A LoadBalancer (or other type) Service document with externalTrafficPolicy etp and an
 * optional healthCheckNodePort (0 = not given). (transfer full) */
static char *
hc_service(const char *name, const char *type, const char *etp, guint hc)
{
    g_autofree char *h =
        hc != 0 ? g_strdup_printf("  healthCheckNodePort: %u\n", hc) : g_strdup("");
    return g_strdup_printf("---\n"
                           "apiVersion: v1\n"
                           "kind: Service\n"
                           "metadata: {name: %s}\n"
                           "spec:\n"
                           "  type: %s\n"
                           "  externalTrafficPolicy: %s\n"
                           "%s"
                           "  ports:\n"
                           "  - {port: 80}\n",
                           name, type, etp, h);
}

START_TEST(test_health_check_node_port_only_for_load_balancer_local)
{
    g_autofree char *a = hc_service("lb-local", "LoadBalancer", "Local", 0);
    g_autofree char *b = hc_service("lb-cluster", "LoadBalancer", "Cluster", 0);
    g_autofree char *d = hc_service("np-local", "NodePort", "Local", 0);
    g_autofree char *e = hc_service("lb-cluster-stated", "LoadBalancer", "Cluster", 30000);
    g_autofree char *f = nodeport_service("takes-30000", 80, 30000);
    g_autofree char *g = hc_service("lb-local-stated", "LoadBalancer", "Local", 30001);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, b, d, e, f, g, NULL);
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    guint hc = service(c, "lb-local")->health_check_node_port;
    ck_assert_uint_ge(hc, 30086);
    ck_assert_uint_le(hc, 32767);
    ck_assert_uint_ne(hc, port_of(c, "lb-local", 0)->node_port);
    ck_assert_uint_eq(service(c, "lb-cluster")->health_check_node_port, 0);
    ck_assert_uint_eq(service(c, "np-local")->health_check_node_port, 0);
    /* Written on an ETP=Cluster LoadBalancer: kept as written but not reserved. */
    ck_assert_uint_eq(service(c, "lb-cluster-stated")->health_check_node_port, 30000);
    ck_assert_uint_eq(port_of(c, "takes-30000", 0)->node_port, 30000);
    ck_assert_uint_eq(service(c, "lb-local-stated")->health_check_node_port, 30001);
}
END_TEST

START_TEST(test_health_check_node_port_taken_is_an_internal_error)
{
    g_autofree char *a = nodeport_service("first", 80, 30080);
    g_autofree char *b = hc_service("lb", "LoadBalancer", "Local", 30080);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, b, NULL);
    assert_error_at(yaml, "healthCheckNodePort: 30080",
                    "error: Internal error occurred: failed to allocate requested HealthCheck "
                    "NodePort 30080: provided port is already allocated");
}
END_TEST

/* A ClusterIP Service document with a stated clusterIP. (transfer full) */
static char *
cluster_ip_service(const char *name, const char *ip)
{
    return g_strdup_printf("---\n"
                           "apiVersion: v1\n"
                           "kind: Service\n"
                           "metadata: {name: %s}\n"
                           "spec:\n"
                           "  clusterIP: %s\n"
                           "  ports:\n"
                           "  - {port: 80}\n",
                           name, ip);
}

START_TEST(test_cluster_ip_outside_service_cidr_is_an_error)
{
    g_autofree char *a = cluster_ip_service("web", "1.2.3.4");
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, NULL);
    assert_error_at(yaml, "clusterIP: 1.2.3.4",
                    "error: The Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: "
                    "\"1.2.3.4\": provided IP is not in the valid range. The range of valid IPs "
                    "is 10.96.0.0/12");
}
END_TEST

START_TEST(test_cluster_ip_taken_is_an_error)
{
    g_autofree char *a = cluster_ip_service("dns", "10.96.0.10");
    g_autofree char *b = cluster_ip_service("web", "10.96.0.10");
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, b, NULL);
    g_autofree char *msg = error_of(yaml);
    /* The error points at the second Service's clusterIP. */
    const char *second = strstr(yaml, "name: web");
    guint line = line_of(yaml, "name: web") + line_of(second, "clusterIP: 10.96.0.10") - 1;
    g_autofree char *prefix = g_strdup_printf(FILE_NAME ":%u:", line);
    ck_assert_msg(g_str_has_prefix(msg, prefix), "'%s' does not start with '%s'", msg, prefix);
    ck_assert_msg(strstr(msg, "error: The Service \"web\" is invalid: spec.clusterIPs[0]: Invalid "
                              "value: \"10.96.0.10\": provided IP is already allocated") != NULL,
                  "%s", msg);
}
END_TEST

START_TEST(test_full_service_cidr_is_an_internal_error)
{
    /* A /29 holds 6 Service IPs; the 7th Service cannot get one. */
    const char *head = "apiVersion: kpsim.io/v1alpha1\n"
                       "kind: Scenario\n"
                       "metadata: {name: t}\n"
                       "spec:\n"
                       "  cluster:\n"
                       "    nodes:\n"
                       "      - {name: a, addresses: [192.168.1.1]}\n"
                       "    serviceCIDR: 10.96.0.0/29\n";
    GString *yaml = g_string_new(head);
    for (guint i = 0; i < 6; i++)
        g_string_append_printf(yaml,
                               "---\napiVersion: v1\nkind: Service\nmetadata: {name: s%u}\n"
                               "spec:\n  ports:\n  - {port: 80}\n",
                               i);
    g_autoptr(Scenario) sc = load(yaml->str);
    g_autoptr(Cluster) c = build(sc);
    guint seen = 0;
    for (guint i = 0; i < 6; i++) {
        const SimAddr *ip = k8s_service_cluster_ip(c->services->pdata[i]);
        ck_assert_uint_ge(ip->b[3], 1);
        ck_assert_uint_le(ip->b[3], 6);
        seen |= 1u << ip->b[3];
    }
    ck_assert_uint_eq(seen, 0x7e);
    g_string_append(yaml, "---\napiVersion: v1\nkind: Service\nmetadata: {name: s6}\n"
                          "spec:\n  ports:\n  - {port: 80}\n");
    g_autofree char *msg = error_of(yaml->str);
    g_string_free(yaml, TRUE);
    ck_assert_msg(strstr(msg, "Internal error occurred: failed to allocate a serviceIP: range is "
                              "full") != NULL,
                  "%s", msg);
}
END_TEST

START_TEST(test_duplicate_service_port_is_an_error)
{
    const char *yaml = SCENARIO_3_NODES "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: web}\n"
                                        "spec:\n"
                                        "  ports:\n"
                                        "  - {name: a, port: 80}\n"
                                        "  - {name: b, port: 80}\n";
    assert_error_at(yaml, "name: b, port: 80", "spec.ports[1]: Duplicate value: ");
}
END_TEST

START_TEST(test_dual_stack_service_gets_one_ip_per_family)
{
    const char *yaml = "apiVersion: kpsim.io/v1alpha1\n"
                       "kind: Scenario\n"
                       "metadata: {name: t}\n"
                       "spec:\n"
                       "  cluster:\n"
                       "    nodes:\n"
                       "      - {name: a, addresses: [192.168.1.1]}\n"
                       "    serviceCIDR: 10.96.0.0/12,fd00:10:96::/108\n"
                       "---\n"
                       "apiVersion: v1\n"
                       "kind: Service\n"
                       "metadata: {name: dual}\n"
                       "spec:\n"
                       "  ipFamilyPolicy: RequireDualStack\n"
                       "  selector: {app: web}\n"
                       "  ports:\n"
                       "  - {port: 80}\n"
                       "---\n"
                       "apiVersion: v1\n"
                       "kind: Service\n"
                       "metadata: {name: single}\n"
                       "spec:\n"
                       "  ports:\n"
                       "  - {port: 80}\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    K8sService *dual = service(c, "dual");
    ck_assert_uint_eq(dual->cluster_ips->len, 2);
    ck_assert_int_eq(g_array_index(dual->cluster_ips, SimAddr, 0).family, SIM_AF_INET);
    ck_assert_int_eq(g_array_index(dual->cluster_ips, SimAddr, 1).family, SIM_AF_INET6);
    ck_assert_uint_eq(service(c, "single")->cluster_ips->len, 1);
    /* One (placeholder) slice per family of the dual-stack Service. */
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, dual);
    ck_assert_uint_eq(slices->len, 2);
    guint families = 0;
    for (guint i = 0; i < slices->len; i++)
        families |= 1u << ((K8sEndpointSlice *)slices->pdata[i])->address_type;
    ck_assert_uint_eq(families, (1u << SIM_AF_INET) | (1u << SIM_AF_INET6));
}
END_TEST

START_TEST(test_require_dual_stack_on_single_stack_cluster_is_an_error)
{
    const char *yaml = SCENARIO_3_NODES "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: dual}\n"
                                        "spec:\n"
                                        "  ipFamilyPolicy: RequireDualStack\n"
                                        "  ports:\n"
                                        "  - {port: 80}\n";
    g_autofree char *msg = error_of(yaml);
    ck_assert_msg(strstr(msg, "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this "
                              "cluster is not configured for dual-stack services") != NULL,
                  "%s", msg);
}
END_TEST

START_TEST(test_headless_and_external_name_services_get_no_cluster_ip)
{
    const char *yaml = SCENARIO_3_NODES NGINX_DEPLOYMENT "---\n"
                                                         "apiVersion: v1\n"
                                                         "kind: Service\n"
                                                         "metadata: {name: headless}\n"
                                                         "spec:\n"
                                                         "  clusterIP: None\n"
                                                         "  selector: {app: nginx}\n"
                                                         "  ports:\n"
                                                         "  - {port: 80}\n"
                                                         "---\n"
                                                         "apiVersion: v1\n"
                                                         "kind: Service\n"
                                                         "metadata: {name: ext}\n"
                                                         "spec:\n"
                                                         "  type: ExternalName\n"
                                                         "  externalName: db.example.com\n"
                                                         "  selector: {app: nginx}\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    K8sService *h = service(c, "headless"), *e = service(c, "ext");
    ck_assert_ptr_null(k8s_service_cluster_ip(h));
    ck_assert_ptr_null(k8s_service_cluster_ip(e));
    /* Headless Services still get EndpointSlices; ExternalName ones do not. */
    g_autoptr(GPtrArray) hs = cluster_service_slices(c, h);
    ck_assert_uint_eq(hs->len, 1);
    ck_assert_uint_eq(((K8sEndpointSlice *)hs->pdata[0])->endpoints->len, 2);
    g_autoptr(GPtrArray) es = cluster_service_slices(c, e);
    ck_assert_uint_eq(es->len, 0);
}
END_TEST

START_TEST(test_reserving_built_services_rebuilds_the_allocators)
{
    /* What a run-time patch needs: the allocator state of a built cluster, reconstructed from
     * its Services, so new allocations avoid what is already taken. */
    const char *yaml =
        SCENARIO_3_NODES NGINX_SERVICE "---\n"
                                       "apiVersion: v1\n"
                                       "kind: Service\n"
                                       "metadata: {name: lb}\n"
                                       "spec:\n"
                                       "  type: LoadBalancer\n"
                                       "  externalTrafficPolicy: Local\n"
                                       "  ports:\n"
                                       "  - {name: dns-tcp, port: 53, protocol: TCP}\n"
                                       "  - {name: dns-udp, port: 53, protocol: UDP}\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    g_autoptr(AllocServices) a = alloc_services_new(sc->service_cidrs, 30000, 32767, 99);
    for (guint i = 0; i < c->services->len; i++) {
        GError *error = NULL;
        K8sService *svc = c->services->pdata[i];
        guint np0 = ((K8sServicePort *)svc->ports->pdata[0])->node_port;
        ck_assert_msg(alloc_services_reserve(a, svc, &error), "%s", error ? error->message : "");
        ck_assert_msg(alloc_services_allocate(a, svc, &error), "%s", error ? error->message : "");
        /* Nothing changes: everything was allocated at build time. */
        ck_assert_uint_eq(((K8sServicePort *)svc->ports->pdata[0])->node_port, np0);
        ck_assert_uint_eq(svc->cluster_ips->len, 1);
    }
    AllocPorts *ports = alloc_services_node_ports(a);
    ck_assert(alloc_ports_is_allocated(ports, port_of(c, "nginx-service-nodeport", 0)->node_port));
    ck_assert(alloc_ports_is_allocated(ports, port_of(c, "lb", 0)->node_port));
    ck_assert_uint_eq(port_of(c, "lb", 0)->node_port, port_of(c, "lb", 1)->node_port);
    ck_assert(alloc_ports_is_allocated(ports, service(c, "lb")->health_check_node_port));
    /* Reserving a Service twice is a collision, as in the apiserver. */
    GError *error = NULL;
    ck_assert(!alloc_services_reserve(a, service(c, "lb"), &error));
    ck_assert_ptr_nonnull(error);
    g_error_free(error);
    /* Releasing gives everything back. */
    K8sService *lb = service(c, "lb");
    alloc_services_release(a, lb);
    ck_assert(!alloc_ports_is_allocated(ports, port_of(c, "lb", 0)->node_port));
    ck_assert(!alloc_ports_is_allocated(ports, lb->health_check_node_port));
}
END_TEST

/* ---------------------------------------------------------------- EndpointSlices */

/* The Service "web" selecting app=web: port "http" to the named targetPort http, port "admin"
 * to the numeric targetPort 9000. */
#define WEB_SERVICE                                                                                \
    "---\n"                                                                                        \
    "apiVersion: v1\n"                                                                             \
    "kind: Service\n"                                                                              \
    "metadata: {name: web}\n"                                                                      \
    "spec:\n"                                                                                      \
    "  selector: {app: web}\n"                                                                     \
    "  ports:\n"                                                                                   \
    "  - {name: http, port: 80, targetPort: http}\n"                                               \
    "  - {name: admin, port: 9000, targetPort: 9000}\n"

/* The slice of svc that holds pod_name's endpoint, and the endpoint. */
static K8sEndpointSlice *
slice_of_pod(const Cluster *c, const K8sService *svc, const char *pod_name, K8sEndpoint **out)
{
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    for (guint i = 0; i < slices->len; i++) {
        K8sEndpointSlice *s = slices->pdata[i];
        for (guint j = 0; j < s->endpoints->len; j++) {
            K8sEndpoint *e = s->endpoints->pdata[j];
            if (g_strcmp0(e->target_pod, pod_name) == 0) {
                *out = e;
                return s;
            }
        }
    }
    ck_abort_msg("no endpoint for pod %s", pod_name);
    return NULL;
}

/* The port named name in slice, or 0 when the slice has none. */
static guint
slice_port(const K8sEndpointSlice *s, const char *name)
{
    for (guint i = 0; i < s->ports->len; i++) {
        const K8sEndpointPort *p = s->ports->pdata[i];
        if (g_strcmp0(p->name, name) == 0)
            return p->port;
    }
    return 0;
}

START_TEST(test_named_target_port_is_resolved_per_pod)
{
    g_autofree char *a = web_pod("web-a", "node1", "http", 8080);
    g_autofree char *b = web_pod("web-b", "node2", "http", 9090);
    g_autofree char *d = web_pod("web-c", "node3", "metrics", 9100);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, b, d, WEB_SERVICE, NULL);
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    K8sService *svc = service(c, "web");
    K8sEndpoint *ea, *eb, *ec;
    K8sEndpointSlice *sa = slice_of_pod(c, svc, "web-a", &ea);
    K8sEndpointSlice *sb = slice_of_pod(c, svc, "web-b", &eb);
    K8sEndpointSlice *sl = slice_of_pod(c, svc, "web-c", &ec);
    /* Different resolved port sets land in different slices. */
    ck_assert_ptr_ne(sa, sb);
    ck_assert_ptr_ne(sa, sl);
    ck_assert_ptr_ne(sb, sl);
    ck_assert_uint_eq(slice_port(sa, "http"), 8080);
    ck_assert_uint_eq(slice_port(sb, "http"), 9090);
    ck_assert_uint_eq(slice_port(sl, "http"), 0); /* web-c lacks the named port */
    ck_assert_uint_eq(slice_port(sa, "admin"), 9000);
    ck_assert_uint_eq(slice_port(sl, "admin"), 9000);
    ck_assert_uint_eq(sl->ports->len, 1);
    ck_assert_str_eq(ea->node_name, "node1");
    ck_assert(sim_addr_equal(&g_array_index(ea->addresses, SimAddr, 0), &pod(c, "web-a")->ip));
    for (guint i = 0; i < 3; i++) {
        K8sEndpointSlice *s = (K8sEndpointSlice *[]){sa, sb, sl}[i];
        ck_assert(s->managed);
        ck_assert_int_eq(s->address_type, SIM_AF_INET);
        ck_assert_str_eq(s->service_name, "web");
        ck_assert_str_eq(g_hash_table_lookup(s->meta.labels, "kubernetes.io/service-name"), "web");
        ck_assert(g_str_has_prefix(s->meta.name, "web-"));
        ck_assert_uint_eq(strlen(s->meta.name), strlen("web-") + 5);
    }
    ck_assert_uint_eq(c->warnings->len, 0);
    /* cluster_service_slices sorts by name. */
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    ck_assert_uint_eq(slices->len, 3);
    for (guint i = 1; i < slices->len; i++)
        ck_assert_str_lt(((K8sEndpointSlice *)slices->pdata[i - 1])->meta.name,
                         ((K8sEndpointSlice *)slices->pdata[i])->meta.name);
}
END_TEST

START_TEST(test_named_target_port_no_pod_has_is_a_warning)
{
    g_autofree char *a = web_pod("web-a", "node1", "metrics", 9100);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, WEB_SERVICE, NULL);
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(c->warnings->len, 1);
    const char *w = c->warnings->pdata[0];
    g_autofree char *prefix =
        g_strdup_printf(FILE_NAME ":%u:", line_of(yaml, "name: http, port: 80"));
    ck_assert_msg(g_str_has_prefix(w, prefix), "'%s' does not start with '%s'", w, prefix);
    ck_assert_msg(strstr(w, ": warning: ") != NULL && strstr(w, "\"http\"") != NULL, "%s", w);
}
END_TEST

START_TEST(test_more_than_100_endpoints_are_split_into_slices)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    ((K8sDeployment *)sc->deployments->pdata[0])->replicas = 250;
    g_autoptr(Cluster) c = build(sc);
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, service(c, "nginx-service-nodeport"));
    ck_assert_uint_eq(slices->len, 3);
    guint total = 0;
    for (guint i = 0; i < slices->len; i++) {
        K8sEndpointSlice *s = slices->pdata[i];
        ck_assert_uint_le(s->endpoints->len, ENDPOINTSLICE_MAX_ENDPOINTS);
        total += s->endpoints->len;
    }
    ck_assert_uint_eq(total, 250);
}
END_TEST

START_TEST(test_publish_not_ready_addresses_makes_unready_pods_ready)
{
    g_autofree char *a = web_pod("web-a", "node1", "http", 8080);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, WEB_SERVICE,
                                        "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: web-pub}\n"
                                        "spec:\n"
                                        "  selector: {app: web}\n"
                                        "  publishNotReadyAddresses: true\n"
                                        "  ports:\n"
                                        "  - {port: 80}\n",
                                        NULL);
    g_autoptr(Scenario) sc = load(yaml);
    ((K8sPod *)sc->pods->pdata[0])->ready = FALSE;
    g_autoptr(Cluster) c = build(sc);
    K8sEndpoint *e;
    slice_of_pod(c, service(c, "web"), "web-a", &e);
    ck_assert_int_eq(e->ready, K8S_FALSE);
    ck_assert_int_eq(e->serving, K8S_FALSE);
    ck_assert_int_eq(e->terminating, K8S_FALSE);
    slice_of_pod(c, service(c, "web-pub"), "web-a", &e);
    ck_assert_int_eq(e->ready, K8S_TRUE);
    ck_assert_int_eq(e->serving, K8S_FALSE);
    ck_assert_int_eq(e->terminating, K8S_FALSE);
}
END_TEST

START_TEST(test_terminating_pod_is_serving_but_not_ready)
{
    g_autofree char *a = web_pod("web-a", "node1", "http", 8080);
    g_autofree char *yaml = g_strconcat(SCENARIO_3_NODES, a, WEB_SERVICE, NULL);
    g_autoptr(Scenario) sc = load(yaml);
    K8sPod *p = sc->pods->pdata[0];
    p->ready = TRUE;
    p->terminating = TRUE;
    g_autoptr(Cluster) c = build(sc);
    K8sEndpoint *e;
    slice_of_pod(c, service(c, "web"), "web-a", &e);
    ck_assert_int_eq(e->serving, K8S_TRUE);
    ck_assert_int_eq(e->terminating, K8S_TRUE);
    ck_assert_int_eq(e->ready, K8S_FALSE);
}
END_TEST

START_TEST(test_zone_comes_from_the_node_label)
{
    const char *yaml = "apiVersion: kpsim.io/v1alpha1\n"
                       "kind: Scenario\n"
                       "metadata: {name: t}\n"
                       "spec:\n"
                       "  cluster:\n"
                       "    nodes:\n"
                       "      - {name: node1, addresses: [192.168.1.1], zone: zone-a}\n";
    g_autofree char *a = web_pod("web-a", "node1", "http", 8080);
    g_autofree char *full = g_strconcat(yaml, a, WEB_SERVICE, NULL);
    g_autoptr(Scenario) sc = load(full);
    g_autoptr(Cluster) c = build(sc);
    K8sEndpoint *e;
    slice_of_pod(c, service(c, "web"), "web-a", &e);
    ck_assert_str_eq(e->zone, "zone-a");
}
END_TEST

START_TEST(test_explicit_slices_win_over_the_controller)
{
    const char *yaml = SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE
        "---\n"
        "apiVersion: discovery.k8s.io/v1\n"
        "kind: EndpointSlice\n"
        "metadata:\n"
        "  name: nginx-manual\n"
        "  labels:\n"
        "    kubernetes.io/service-name: nginx-service-nodeport\n"
        "addressType: IPv4\n"
        "ports:\n"
        "- {name: '', port: 8080, protocol: TCP}\n"
        "endpoints:\n"
        "- addresses: [10.1.7.7]\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    K8sService *svc = service(c, "nginx-service-nodeport");
    ck_assert(!endpointslice_controller_manages(c, svc));
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, svc);
    ck_assert_uint_eq(slices->len, 1);
    K8sEndpointSlice *s = slices->pdata[0];
    ck_assert_str_eq(s->meta.name, "nginx-manual");
    ck_assert(!s->managed);
    ck_assert_uint_eq(s->endpoints->len, 1);
}
END_TEST

START_TEST(test_selector_matching_no_pods_warns_and_writes_a_placeholder)
{
    const char *yaml = SCENARIO_3_NODES "---\n"
                                        "apiVersion: v1\n"
                                        "kind: Service\n"
                                        "metadata: {name: lonely}\n"
                                        "spec:\n"
                                        "  selector: {app: nothing}\n"
                                        "  ports:\n"
                                        "  - {port: 80}\n";
    g_autoptr(Scenario) sc = load(yaml);
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(c->warnings->len, 1);
    const char *w = c->warnings->pdata[0];
    ck_assert(g_str_has_prefix(w, FILE_NAME ":"));
    ck_assert_msg(strstr(w, ": warning: ") != NULL && strstr(w, "lonely") != NULL &&
                      strstr(w, "app=nothing") != NULL && strstr(w, "matches no pods") != NULL,
                  "%s", w);
    g_autoptr(GPtrArray) slices = cluster_service_slices(c, service(c, "lonely"));
    ck_assert_uint_eq(slices->len, 1);
    K8sEndpointSlice *s = slices->pdata[0];
    ck_assert_uint_eq(s->endpoints->len, 0);
    ck_assert_uint_eq(s->ports->len, 0);
}
END_TEST

START_TEST(test_resync_reuses_slice_names_and_follows_pods)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    g_autoptr(Cluster) c = build(sc);
    K8sService *svc = service(c, "nginx-service-nodeport");
    g_autoptr(GPtrArray) before = cluster_service_slices(c, svc);
    g_autofree char *name = g_strdup(((K8sEndpointSlice *)before->pdata[0])->meta.name);
    ((K8sPod *)c->pods->pdata[0])->ready = FALSE;
    SimRng rng;
    sim_rng_init(&rng, 1, "endpointslice/test");
    endpointslice_controller_sync_service(c, svc, &rng, NULL);
    g_autoptr(GPtrArray) after = cluster_service_slices(c, svc);
    ck_assert_uint_eq(after->len, 1);
    K8sEndpointSlice *s = after->pdata[0];
    ck_assert_str_eq(s->meta.name, name);
    guint ready = 0;
    for (guint i = 0; i < s->endpoints->len; i++)
        ready += k8s_endpoint_ready(s->endpoints->pdata[i]);
    ck_assert_uint_eq(s->endpoints->len, 2);
    ck_assert_uint_eq(ready, 1);
}
END_TEST

/* cluster_build's message for sc, which must fail to build. (transfer full) */
static char *
build_error(Scenario *sc)
{
    GError *error = NULL;
    Cluster *c = cluster_build(sc, &error);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(error);
    char *msg = g_strdup(error->message);
    g_error_free(error);
    return msg;
}

START_TEST(test_objects_changed_after_loading_are_validated_again)
{
    /* Scenario events patch objects after the loader has checked them; the control plane
     * validates what it is given. */
    const char *yaml =
        SCENARIO_3_NODES NGINX_DEPLOYMENT "---\n"
                                          "apiVersion: v1\n"
                                          "kind: Service\n"
                                          "metadata: {name: web}\n"
                                          "spec:\n"
                                          "  type: NodePort\n"
                                          "  ports:\n"
                                          "  - {name: a, port: 80, nodePort: 30080}\n"
                                          "  - {name: b, port: 81}\n";
    {
        g_autoptr(Scenario) sc = load(yaml);
        K8sServicePort *b = ((K8sService *)sc->services->pdata[0])->ports->pdata[1];
        b->node_port = 30080;
        b->node_port_explicit = TRUE;
        g_autofree char *msg = build_error(sc);
        g_autofree char *prefix = g_strdup_printf(FILE_NAME ":%u:", line_of(yaml, "name: b"));
        ck_assert_msg(g_str_has_prefix(msg, prefix), "%s", msg);
        ck_assert_msg(strstr(msg, "The Service \"web\" is invalid: spec.ports[1].nodePort: "
                                  "Duplicate value: 30080") != NULL,
                      "%s", msg);
    }
    {
        g_autoptr(Scenario) sc = load(yaml);
        K8sServicePort *b = ((K8sService *)sc->services->pdata[0])->ports->pdata[1];
        g_free(b->name);
        b->name = g_strdup("");
        g_autofree char *msg = build_error(sc);
        ck_assert_msg(strstr(msg, "spec.ports[1].name: Required value") != NULL, "%s", msg);
    }
    {
        g_autoptr(Scenario) sc = load(yaml);
        K8sServicePort *b = ((K8sService *)sc->services->pdata[0])->ports->pdata[1];
        b->target_port_name = g_strdup("Web_Port");
        g_autofree char *msg = build_error(sc);
        ck_assert_msg(strstr(msg, "spec.ports[1].targetPort: Invalid value: \"Web_Port\": must "
                                  "contain only alpha-numeric characters (a-z, 0-9), and hyphens "
                                  "(-)") != NULL,
                      "%s", msg);
    }
    {
        g_autoptr(Scenario) sc = load(yaml);
        K8sDeployment *d = sc->deployments->pdata[0];
        g_hash_table_insert(d->template_.labels, g_strdup("app"), g_strdup("web"));
        g_autofree char *msg = build_error(sc);
        g_autofree char *prefix =
            g_strdup_printf(FILE_NAME ":%u:", line_of(yaml, "      labels: {app: nginx}"));
        ck_assert_msg(g_str_has_prefix(msg, prefix), "'%s' lacks '%s'", msg, prefix);
        ck_assert_msg(strstr(msg, "The Deployment \"nginx-deployment\" is invalid: "
                                  "spec.template.metadata.labels: Invalid value: "
                                  "map[string]string{\"app\":\"web\"}: `selector` does not "
                                  "match template `labels`") != NULL,
                      "%s", msg);
    }
}
END_TEST

/* ---------------------------------------------------------------- lookups */

START_TEST(test_lookups)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    g_autoptr(Cluster) c = build(sc);
    K8sNode *n1 = node(c, "node1");
    SimAddr a;
    ck_assert(sim_addr_parse("192.168.1.101", &a));
    ck_assert(cluster_node_is_local(c, n1, &a));
    ck_assert(sim_addr_parse("127.0.0.5", &a));
    ck_assert(cluster_node_is_local(c, n1, &a));
    ck_assert(sim_addr_parse("::1", &a));
    ck_assert(cluster_node_is_local(c, n1, &a));
    ck_assert(sim_addr_parse("192.168.1.102", &a));
    ck_assert(!cluster_node_is_local(c, n1, &a));
    ck_assert(sim_addr_parse("10.1.1.77", &a));
    ck_assert_ptr_eq(cluster_node_for_pod_ip(c, &a), node(c, "node2"));
    ck_assert_ptr_null(cluster_find_pod_by_ip(c, &a));
    ck_assert(sim_addr_parse("10.2.0.1", &a));
    ck_assert_ptr_null(cluster_node_for_pod_ip(c, &a));
    ck_assert_ptr_null(cluster_find_node(c, "node9"));
    ck_assert_ptr_null(cluster_find_service(c, "kube-system", "nginx-service-nodeport"));
    ck_assert_ptr_nonnull(cluster_find_service(c, "default", "nginx-service-nodeport"));

    g_autoptr(GRegex) re = g_regex_new("^veth[0-9a-f]{8}$", 0, 0, NULL);
    g_autofree char *v0 = cluster_pod_veth_name(c->pods->pdata[0]);
    g_autofree char *v0b = cluster_pod_veth_name(c->pods->pdata[0]);
    g_autofree char *v1 = cluster_pod_veth_name(c->pods->pdata[1]);
    ck_assert(g_regex_match(re, v0, 0, NULL));
    ck_assert_str_eq(v0, v0b);
    ck_assert_str_ne(v0, v1);
}
END_TEST

START_TEST(test_build_moves_objects_out_of_the_scenario)
{
    g_autoptr(Scenario) sc = load(SCENARIO_3_NODES NGINX_DEPLOYMENT NGINX_SERVICE);
    ck_assert_uint_eq(sc->services->len, 1);
    g_autoptr(Cluster) c = build(sc);
    ck_assert_uint_eq(sc->services->len, 0);
    ck_assert_uint_eq(sc->deployments->len, 0);
    ck_assert_uint_eq(sc->pods->len, 0);
    ck_assert_uint_eq(sc->slices->len, 0);
    ck_assert_uint_eq(sc->nodes->len, 3);
    ck_assert_uint_eq(c->services->len, 1);
    ck_assert_uint_eq(c->deployments->len, 1);
    ck_assert_ptr_eq(c->scenario, sc);
}
END_TEST

static Suite *
cluster_suite(void)
{
    Suite *s = suite_create("cluster");
    TCase *alloc = tcase_create("allocator");
    tcase_add_test(alloc, test_port_band_offset_follows_kep_3668);
    tcase_add_test(alloc, test_ip_band_offset_follows_kep_3070);
    tcase_add_test(alloc, test_bitmap_fills_dynamic_band_before_static_band);
    tcase_add_test(alloc, test_bitmap_without_static_band_uses_whole_range);
    tcase_add_test(alloc, test_ports_dynamic_allocation_stays_in_upper_band);
    tcase_add_test(alloc, test_ips_skip_network_and_broadcast);
    tcase_add_test(alloc, test_ips_dynamic_allocation_prefers_upper_band);
    suite_add_tcase(s, alloc);

    TCase *nodes = tcase_create("nodes");
    tcase_add_test(nodes, test_nodes_get_consecutive_24s_of_cluster_cidr);
    tcase_add_test(nodes, test_stated_pod_cidr_is_kept_and_skipped);
    tcase_add_test(nodes, test_ipv6_cluster_cidr_gives_a_64_per_node);
    tcase_add_test(nodes, test_too_small_cluster_cidr_is_an_error_at_the_node);
    tcase_add_test(nodes, test_duplicate_node_address_is_an_error);
    suite_add_tcase(s, nodes);

    TCase *pods = tcase_create("pods");
    tcase_add_test(pods, test_seed_deployment_spreads_over_two_nodes_with_first_ips);
    tcase_add_test(pods, test_spread_balances_replicas_over_nodes);
    tcase_add_test(pods, test_same_seed_gives_identical_cluster);
    tcase_add_test(pods, test_other_seeds_give_other_dynamic_values);
    tcase_add_test(pods, test_no_ready_node_leaves_pods_pending_with_a_warning);
    tcase_add_test(pods, test_unschedulable_node_gets_no_pods);
    tcase_add_test(pods, test_stated_pod_ip_is_kept_and_skipped_by_ipam);
    tcase_add_test(pods, test_colliding_pod_ips_are_an_error);
    tcase_add_test(pods, test_pod_on_not_ready_node_is_not_ready);
    tcase_add_test(pods, test_deployment_selector_must_match_template);
    tcase_add_test(pods, test_negative_replicas_are_an_error);
    tcase_add_test(pods, test_zero_replicas_make_no_pods);
    tcase_add_test(pods, test_scheduler_places_as_a_full_scan_would);
    suite_add_tcase(s, pods);

    TCase *svc = tcase_create("services");
    tcase_add_test(svc, test_cluster_ip_is_allocated_from_the_upper_band);
    tcase_add_test(svc, test_dynamic_node_ports_stay_in_the_upper_band);
    tcase_add_test(svc, test_explicit_node_port_is_reserved_before_dynamic_ones);
    tcase_add_test(svc, test_upper_band_full_falls_back_to_static_band);
    tcase_add_test(svc, test_node_port_out_of_range_is_an_error);
    tcase_add_test(svc, test_node_port_taken_by_another_service_is_an_error);
    tcase_add_test(svc, test_same_protocol_node_port_twice_in_a_service_is_an_error);
    tcase_add_test(svc, test_full_node_port_range_is_an_internal_error);
    tcase_add_test(svc, test_same_port_number_shares_one_node_port);
    tcase_add_test(svc, test_load_balancer_without_node_port_allocation);
    tcase_add_test(svc, test_health_check_node_port_only_for_load_balancer_local);
    tcase_add_test(svc, test_health_check_node_port_taken_is_an_internal_error);
    tcase_add_test(svc, test_cluster_ip_outside_service_cidr_is_an_error);
    tcase_add_test(svc, test_cluster_ip_taken_is_an_error);
    tcase_add_test(svc, test_full_service_cidr_is_an_internal_error);
    tcase_add_test(svc, test_duplicate_service_port_is_an_error);
    tcase_add_test(svc, test_dual_stack_service_gets_one_ip_per_family);
    tcase_add_test(svc, test_require_dual_stack_on_single_stack_cluster_is_an_error);
    tcase_add_test(svc, test_headless_and_external_name_services_get_no_cluster_ip);
    tcase_add_test(svc, test_reserving_built_services_rebuilds_the_allocators);
    suite_add_tcase(s, svc);

    TCase *eps = tcase_create("endpointslices");
    tcase_add_test(eps, test_named_target_port_is_resolved_per_pod);
    tcase_add_test(eps, test_named_target_port_no_pod_has_is_a_warning);
    tcase_add_test(eps, test_more_than_100_endpoints_are_split_into_slices);
    tcase_add_test(eps, test_publish_not_ready_addresses_makes_unready_pods_ready);
    tcase_add_test(eps, test_terminating_pod_is_serving_but_not_ready);
    tcase_add_test(eps, test_zone_comes_from_the_node_label);
    tcase_add_test(eps, test_explicit_slices_win_over_the_controller);
    tcase_add_test(eps, test_selector_matching_no_pods_warns_and_writes_a_placeholder);
    tcase_add_test(eps, test_resync_reuses_slice_names_and_follows_pods);
    suite_add_tcase(s, eps);

    TCase *look = tcase_create("lookups");
    tcase_add_test(look, test_lookups);
    tcase_add_test(look, test_build_moves_objects_out_of_the_scenario);
    tcase_add_test(look, test_objects_changed_after_loading_are_validated_again);
    suite_add_tcase(s, look);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cluster_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
