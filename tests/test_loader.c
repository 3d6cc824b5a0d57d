/* SPDX-License-Identifier: Apache-2.0 */
/* Check suite for the loader: YAML trees (yaml_tree), scenario files and manifests (loader),
 * and the object helpers they fill (k8s, scenario).
 *
 * Loads the seed scenario and every shared kube-proxy conformance scenario, decodes each field
 * form the API allows, and pins the exact wording and position of every error class. The
 * tests/bad/ files are checked here too, for the errors the loader itself reports.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "model/cluster.h"
#include "model/controllers.h"
#include "model/events.h"
#include "model/expect.h"
#include "model/loader.h"
#include "model/yaml_tree.h"

/* ---------------------------------------------------------------- helpers */

/* Loads YAML text as a scenario file named t.yaml; fails the test on error. */
static Scenario *
load_ok(const char *text)
{
    g_autoptr(GError) error = NULL;
    Scenario *sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_msg(sc != NULL, "load failed: %s", error != NULL ? error->message : "?");
    return sc;
}

/* Loads YAML text that must fail; returns the error message. (transfer full) */
static char *
load_err(const char *text)
{
    g_autoptr(GError) error = NULL;
    Scenario *sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_msg(sc == NULL, "load succeeded but should fail:\n%s", text);
    scenario_free(sc);
    ck_assert(error != NULL);
    ck_assert(error->domain == LOADER_ERROR);
    return g_strdup(error->message);
}

/* Asserts that text fails to load with exactly the message expected. */
static void
assert_error(const char *text, const char *expected)
{
    g_autofree char *msg = load_err(text);
    ck_assert_str_eq(msg, expected);
}

/* Changes into the source tree so paths read as tests/bad/NAME.yaml. */
static void
enter_srcdir(void)
{
    ck_assert_int_eq(g_chdir(KPSIM_SRCDIR), 0);
}

/* Text form of an address. */
static const char *
addr_str(const SimAddr *a, char *buf)
{
    return sim_addr_to_string(a, buf);
}

/* The service called name in sc, or NULL. */
static K8sService *
find_service(const Scenario *sc, const char *ns, const char *name)
{
    for (guint i = 0; i < sc->services->len; i++) {
        K8sService *s = sc->services->pdata[i];
        if (strcmp(s->meta.namespace_, ns) == 0 && strcmp(s->meta.name, name) == 0)
            return s;
    }
    return NULL;
}

/* Port i of a service. */
static K8sServicePort *
port_at(const K8sService *s, guint i)
{
    ck_assert_uint_lt(i, s->ports->len);
    return s->ports->pdata[i];
}

/* ---------------------------------------------------------------- the seed scenario */

START_TEST(seed_scenario_loads_article_manifests_with_pinned_node_port)
{
    enter_srcdir();
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = loader_load_scenario("scenarios/seed-nginx-nodeport.yaml", &error);
    ck_assert_msg(sc != NULL, "%s", error != NULL ? error->message : "");
    char buf[SIM_CIDR_STRLEN];
    ck_assert_str_eq(sc->name, "seed-nginx-nodeport");
    ck_assert_ptr_nonnull(sc->description);
    ck_assert_uint_eq(sc->seed, 1);
    ck_assert_int_eq(sc->duration, 60 * SIM_SEC);
    ck_assert_uint_eq(sc->nodes->len, 3);
    for (guint i = 0; i < 3; i++) {
        K8sNode *n = sc->nodes->pdata[i];
        g_autofree char *name = g_strdup_printf("node%u", i + 1);
        g_autofree char *ip = g_strdup_printf("192.168.1.%u", 101 + i);
        ck_assert_str_eq(n->name, name);
        ck_assert(n->ready);
        ck_assert_uint_eq(n->addresses->len, 1);
        ck_assert_str_eq(addr_str(&g_array_index(n->addresses, SimAddr, 0), buf), ip);
    }
    ck_assert_str_eq(sim_cidr_to_string(&sc->cluster_cidr, buf), "10.1.0.0/16");
    ck_assert_uint_eq(sc->service_cidrs->len, 1);
    ck_assert_str_eq(sim_cidr_to_string(&g_array_index(sc->service_cidrs, SimCidr, 0), buf),
                     "10.96.0.0/12");
    ck_assert_uint_eq(sc->node_port_low, 30000);
    ck_assert_uint_eq(sc->node_port_high, 32767);
    ck_assert(sc->proxy.mode == KP_MODE_IPTABLES);
    ck_assert(sc->proxy_cluster_cidr_from_cluster);
    ck_assert_uint_eq(sc->proxy.cluster_cidrs->len, 1);
    ck_assert_str_eq(sim_cidr_to_string(&g_array_index(sc->proxy.cluster_cidrs, SimCidr, 0), buf),
                     "10.1.0.0/16");
    ck_assert_uint_eq(sc->warnings->len, 0);

    ck_assert_uint_eq(sc->deployments->len, 1);
    K8sDeployment *d = sc->deployments->pdata[0];
    ck_assert_str_eq(d->meta.name, "nginx-deployment");
    ck_assert_str_eq(d->meta.namespace_, "default");
    ck_assert_int_eq(d->replicas, 2);
    ck_assert_str_eq(g_hash_table_lookup(d->match_labels, "app"), "nginx");
    ck_assert_str_eq(g_hash_table_lookup(d->template_.labels, "app"), "nginx");
    ck_assert_uint_eq(d->template_.containers->len, 1);
    K8sContainer *c = d->template_.containers->pdata[0];
    ck_assert_str_eq(c->name, "nginx");
    ck_assert_uint_eq(c->ports->len, 1);
    ck_assert_uint_eq(g_array_index(c->ports, K8sContainerPort, 0).container_port, 80);
    ck_assert_str_eq(d->meta.pos.file, "scenarios/nginx-deployment.yaml");
    ck_assert_uint_eq(d->meta.pos.line, 4);

    ck_assert_uint_eq(sc->services->len, 1);
    K8sService *s = sc->services->pdata[0];
    ck_assert_str_eq(s->meta.name, "nginx-service-nodeport");
    ck_assert(s->type == K8S_SVC_NODE_PORT);
    ck_assert_str_eq(g_hash_table_lookup(s->selector, "app"), "nginx");
    ck_assert(s->external_policy == K8S_POLICY_CLUSTER);
    ck_assert_uint_eq(s->cluster_ips->len, 0);
    K8sServicePort *p = port_at(s, 0);
    ck_assert_str_eq(p->name, "");
    ck_assert(p->protocol == SIM_PROTO_TCP);
    ck_assert_uint_eq(p->port, 80);
    ck_assert_uint_eq(p->target_port, 80);
    ck_assert_ptr_null(p->target_port_name);
    ck_assert_uint_eq(p->node_port, 30080);
    ck_assert(p->node_port_explicit);
    /* The pinned nodePort is reported where the scenario's patch writes it. */
    ck_assert_str_eq(p->node_port_pos.file, "scenarios/seed-nginx-nodeport.yaml");
    ck_assert_uint_eq(p->node_port_pos.line, 38);
    ck_assert_str_eq(p->pos.file, "scenarios/nginx-service-nodeport.yaml");
    ck_assert_uint_eq(p->pos.line, 10);

    ck_assert_uint_eq(sc->clients->len, 1);
    ScenarioClient *cl = sc->clients->pdata[0];
    ck_assert_str_eq(cl->name, "laptop");
    ck_assert_str_eq(addr_str(&cl->address, buf), "203.0.113.10");
    ck_assert_uint_eq(sc->traffic->len, 1);
    ScenarioTraffic *t = sc->traffic->pdata[0];
    ck_assert_str_eq(t->name, "web");
    ck_assert_str_eq(t->from, "laptop");
    ck_assert_uint_eq(t->to->len, 3);
    char sbuf[SIM_SOCKADDR_STRLEN];
    ck_assert_str_eq(sim_sockaddr_to_string(&g_array_index(t->to, SimSockAddr, 2), sbuf),
                     "192.168.1.103:30080");
    ck_assert(t->protocol == SIM_PROTO_TCP);
    ck_assert_double_eq(t->rate, 50.0);
    ck_assert_uint_eq(t->connections, 0);
    ck_assert_uint_eq(t->request_bytes, 300);
    ck_assert_uint_eq(t->response_bytes, 2000);
    ck_assert_int_eq(t->start, 0);
    ck_assert_int_eq(t->stop, 60 * SIM_SEC);
}
END_TEST

START_TEST(seed_manifests_are_the_articles_files_byte_for_byte)
{
    const char *names[] = {"nginx-deployment.yaml", "nginx-service-nodeport.yaml"};
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *ours = g_build_filename(KPSIM_SRCDIR, "scenarios", names[i], NULL);
        g_autofree char *theirs = g_build_filename("/work/shared/examples", names[i], NULL);
        g_autofree char *a = NULL, *b = NULL;
        gsize la = 0, lb = 0;
        ck_assert(g_file_get_contents(ours, &a, &la, NULL));
        if (!g_file_get_contents(theirs, &b, &lb, NULL))
            continue; /* the shared copy is not part of a source tarball */
        ck_assert_uint_eq(la, lb);
        ck_assert_int_eq(memcmp(a, b, la), 0);
    }
}
END_TEST

/* ---------------------------------------------------------------- conformance scenarios */

START_TEST(every_conformance_scenario_loads)
{
    const char *dirs[] = {KPSIM_SRCDIR "/tests/conformance/kube-proxy",
                          "/work/shared/conformance/kube-proxy"};
    guint loaded = 0;
    for (gsize d = 0; d < G_N_ELEMENTS(dirs); d++) {
        g_autoptr(GDir) dir = g_dir_open(dirs[d], 0, NULL);
        const char *name;
        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
            if (!g_str_has_suffix(name, ".yaml"))
                continue;
            g_autofree char *path = g_build_filename(dirs[d], name, NULL);
            g_autoptr(GError) error = NULL;
            g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
            ck_assert_msg(sc != NULL, "%s", error != NULL ? error->message : path);
            ck_assert_ptr_nonnull(scenario_find_node(sc, "test-node"));
            ck_assert_uint_gt(sc->services->len, 0);
            ck_assert(!sc->proxy_cluster_cidr_from_cluster);
            loaded++;
        }
    }
    ck_assert_uint_ge(loaded, 7);
}
END_TEST

START_TEST(conformance_trace_packet_fields_decode_as_written)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(KPSIM_SRCDIR, "tests", "conformance", "kube-proxy",
                                             "iptables-testtracepacket.yaml", NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_free(path);
        path = g_strdup("/work/shared/conformance/kube-proxy/iptables-testtracepacket.yaml");
    }
    g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
    ck_assert_msg(sc != NULL, "%s", error != NULL ? error->message : "");
    char buf[SIM_CIDR_STRLEN];
    K8sNode *node = scenario_find_node(sc, "test-node");
    ck_assert_uint_eq(node->addresses->len, 5);
    ck_assert_str_eq(addr_str(&g_array_index(node->addresses, SimAddr, 3), buf), "2001:db8::1");
    ck_assert_uint_eq(sc->node_port_low, 1);
    ck_assert_uint_eq(sc->node_port_high, 65535);
    ck_assert(sc->proxy.cluster_cidr_set);
    ck_assert_str_eq(sim_cidr_to_string(&g_array_index(sc->proxy.cluster_cidrs, SimCidr, 0), buf),
                     "10.0.0.0/8");
    ck_assert(sc->proxy.localhost_node_ports);

    K8sService *svc5 = find_service(sc, "ns5", "svc5");
    ck_assert_ptr_nonnull(svc5);
    /* sessionAffinity written as the {type, timeout_seconds} mapping of the upstream tables. */
    ck_assert(svc5->affinity_client_ip);
    ck_assert_uint_eq(svc5->affinity_timeout, 10800);
    /* " 203.0.113.0/25" is trimmed as kube-proxy trims it. */
    ck_assert_uint_eq(svc5->source_ranges->len, 1);
    ck_assert_str_eq(sim_cidr_to_string(&g_array_index(svc5->source_ranges, SimCidr, 0), buf),
                     "203.0.113.0/25");
    /* healthCheckNodePort on an ETP=Cluster LoadBalancer is kept as written. */
    ck_assert(svc5->external_policy == K8S_POLICY_CLUSTER);
    ck_assert_uint_eq(svc5->health_check_node_port, 30000);
    ck_assert(svc5->health_check_node_port_explicit);
    ck_assert_uint_eq(port_at(svc5, 0)->node_port, 3002);
    ck_assert_uint_eq(svc5->lb_ingress->len, 1);
    K8sLoadBalancerIngress *in = svc5->lb_ingress->pdata[0];
    ck_assert_str_eq(addr_str(&in->ip, buf), "5.6.7.8");
    ck_assert(!in->ip_mode_proxy);

    K8sService *svc2 = find_service(sc, "ns2", "svc2");
    ck_assert(svc2->type == K8S_SVC_LOAD_BALANCER);
    ck_assert(svc2->external_policy == K8S_POLICY_LOCAL);
    ck_assert_uint_eq(svc2->ip_families->len, 1);
    ck_assert_uint_eq(g_array_index(svc2->ip_families, guint8, 0), SIM_AF_INET);
    ck_assert_str_eq(addr_str(&g_array_index(svc2->cluster_ips, SimAddr, 0), buf), "172.30.0.42");
    ck_assert_str_eq(addr_str(&g_array_index(svc2->external_ips, SimAddr, 0), buf),
                     "192.168.99.22");

    ck_assert_uint_eq(sc->slices->len, 5);
    K8sEndpointSlice *sl = sc->slices->pdata[3];
    ck_assert_str_eq(sl->service_name, "svc4");
    ck_assert_uint_eq(sl->endpoints->len, 2);
    K8sEndpoint *e0 = sl->endpoints->pdata[0], *e1 = sl->endpoints->pdata[1];
    ck_assert_ptr_null(e0->node_name);
    ck_assert_str_eq(e1->node_name, "test-node");
    ck_assert(k8s_endpoint_ready(e0) && k8s_endpoint_serving(e0) && !k8s_endpoint_terminating(e0));
}
END_TEST

/* ---------------------------------------------------------------- field decoding */

START_TEST(service_ports_decode_named_target_port_and_defaults)
{
    g_autoptr(Scenario) sc = load_ok("apiVersion: v1\n"
                                     "kind: Service\n"
                                     "metadata: {name: web, namespace: shop}\n"
                                     "spec:\n"
                                     "  ports:\n"
                                     "  - {name: http, port: 80, targetPort: web-http}\n"
                                     "  - {name: dns, port: 53, protocol: UDP}\n");
    K8sService *s = find_service(sc, "shop", "web");
    ck_assert(s->type == K8S_SVC_CLUSTER_IP);
    ck_assert_ptr_null(s->selector);
    ck_assert_str_eq(port_at(s, 0)->target_port_name, "web-http");
    ck_assert_uint_eq(port_at(s, 0)->target_port, 0);
    ck_assert(port_at(s, 1)->protocol == SIM_PROTO_UDP);
    ck_assert_uint_eq(port_at(s, 1)->target_port, 53);
    ck_assert(!port_at(s, 1)->node_port_explicit);
    g_autofree char *pn = k8s_service_port_name(s, port_at(s, 0));
    ck_assert_str_eq(pn, "shop/web:http");
    /* No Scenario document: the default cluster and client. */
    ck_assert_uint_eq(sc->nodes->len, 3);
    ck_assert_uint_eq(sc->clients->len, 1);
    ck_assert_uint_eq(s->meta.pos.line, 3);
    ck_assert_uint_eq(s->meta.pos.column, 18);
}
END_TEST

START_TEST(service_session_affinity_both_forms_and_families)
{
    g_autoptr(Scenario) sc = load_ok(
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
        "spec:\n  ports: [{port: 80}]\n  sessionAffinity: ClientIP\n"
        "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n"
        "  ipFamilies: [IPv6, IPv4]\n  ipFamilyPolicy: PreferDualStack\n"
        "  clusterIPs: ['fd00::10', 10.96.0.10]\n"
        "---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
        "spec:\n  ports: [{port: 80}]\n  sessionAffinity: {type: ClientIP, timeout_seconds: 30}\n"
        "  clusterIP: None\n");
    char buf[SIM_ADDR_STRLEN];
    K8sService *a = find_service(sc, "default", "a"), *b = find_service(sc, "default", "b");
    ck_assert(a->affinity_client_ip);
    ck_assert_uint_eq(a->affinity_timeout, 60);
    ck_assert_uint_eq(a->ip_families->len, 2);
    ck_assert_uint_eq(g_array_index(a->ip_families, guint8, 0), SIM_AF_INET6);
    ck_assert_str_eq(a->ip_family_policy, "PreferDualStack");
    ck_assert_uint_eq(a->cluster_ips->len, 2);
    ck_assert_str_eq(addr_str(k8s_service_cluster_ip(a), buf), "fd00::10");
    ck_assert(b->affinity_client_ip);
    ck_assert_uint_eq(b->affinity_timeout, 30);
    ck_assert(b->cluster_ip_none);
    ck_assert_ptr_null(k8s_service_cluster_ip(b));
}
END_TEST

START_TEST(service_load_balancer_status_and_policies)
{
    g_autoptr(Scenario) sc =
        load_ok("apiVersion: v1\nkind: Service\n"
                "metadata:\n  name: lb\n"
                "  annotations: {service.kubernetes.io/topology-mode: Auto}\n"
                "spec:\n  type: LoadBalancer\n  externalTrafficPolicy: Global\n"
                "  internalTrafficPolicy: Local\n  allocateLoadBalancerNodePorts: false\n"
                "  publishNotReadyAddresses: true\n"
                "  ports: [{port: 443, targetPort: 8443, nodePort: 31443, appProtocol: https}]\n"
                "status:\n  loadBalancer:\n    ingress:\n"
                "    - {ip: 198.51.100.7, ipMode: Proxy}\n"
                "    - hostname: lb.example.com\n"
                "      ports: [{port: 443, protocol: TCP}]\n");
    K8sService *s = sc->services->pdata[0];
    char buf[SIM_ADDR_STRLEN];
    ck_assert(s->type == K8S_SVC_LOAD_BALANCER);
    ck_assert(s->external_policy == K8S_POLICY_CLUSTER);
    ck_assert(s->internal_policy == K8S_POLICY_LOCAL);
    ck_assert(!s->allocate_lb_node_ports);
    ck_assert(s->publish_not_ready);
    ck_assert_str_eq(s->topology_mode, "Auto");
    ck_assert_uint_eq(port_at(s, 0)->node_port, 31443);
    ck_assert_uint_eq(port_at(s, 0)->node_port_pos.line, 12);
    ck_assert_uint_eq(s->lb_ingress->len, 2);
    K8sLoadBalancerIngress *a = s->lb_ingress->pdata[0], *b = s->lb_ingress->pdata[1];
    ck_assert_str_eq(addr_str(&a->ip, buf), "198.51.100.7");
    ck_assert(a->ip_mode_proxy);
    ck_assert_uint_eq(b->ip.family, SIM_AF_NONE);
    ck_assert_str_eq(b->hostname, "lb.example.com");
}
END_TEST

START_TEST(proxy_cluster_cidr_explicitly_empty_means_no_detector)
{
    g_autoptr(Scenario) sc =
        load_ok("apiVersion: kpsim.io/v1alpha1\nkind: Scenario\n"
                "metadata: {name: x}\n"
                "spec:\n  cluster: {nodes: [{name: n1, addresses: [10.0.0.1]}]}\n"
                "  proxy: {clusterCIDR: \"\"}\n");
    ck_assert(sc->proxy.cluster_cidr_set);
    ck_assert_uint_eq(sc->proxy.cluster_cidrs->len, 0);
    ck_assert(!sc->proxy_cluster_cidr_from_cluster);
}
END_TEST

START_TEST(kube_proxy_configuration_document_decodes_modes_and_durations)
{
    g_autoptr(Scenario) sc = load_ok(
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
        "mode: ipvs\nclusterCIDR: 10.244.0.0/16,fd00:10::/56\n"
        "detectLocalMode: InterfaceNamePrefix\ndetectLocal: {interfaceNamePrefix: veth}\n"
        "iptables: {masqueradeAll: true, masqueradeBit: 10, minSyncPeriod: 0s, syncPeriod: 1m}\n"
        "ipvs: {scheduler: lc, syncPeriod: 15m0s, minSyncPeriod: 1h0m0s, strictARP: true}\n"
        "nftables: {masqueradeAll: false, syncPeriod: 5s}\n"
        "nodePortAddresses: [primary, 192.168.0.0/16]\n"
        "conntrack: {maxPerCore: 0, min: 1000, tcpEstablishedTimeout: 2h, tcpBeLiberal: true}\n"
        "clientConnection: {kubeconfig: /var/lib/kube-proxy/kubeconfig.conf}\n"
        "featureGates: {Anything: true}\n");
    const KubeProxyConfig *c = &sc->proxy;
    ck_assert(c->mode == KP_MODE_IPVS);
    ck_assert_uint_eq(c->cluster_cidrs->len, 2);
    ck_assert(c->detect_local_mode == KP_DETECT_INTERFACE_NAME_PREFIX);
    ck_assert_str_eq(c->interface_name_prefix, "veth");
    ck_assert(c->masquerade_all);
    ck_assert_uint_eq(c->masquerade_bit, 10);
    ck_assert_str_eq(c->ipvs_scheduler, "lc");
    ck_assert_int_eq(c->sync_period, 15 * 60 * SIM_SEC);
    ck_assert_int_eq(c->min_sync_period, 3600 * SIM_SEC);
    ck_assert_uint_eq(c->node_port_addresses->len, 2);
    ck_assert_uint_eq(c->conntrack_max_per_core, 0);
    ck_assert_uint_eq(c->conntrack_min, 1000);
    ck_assert_int_eq(c->tcp_established_timeout, 2 * 3600 * SIM_SEC);
    ck_assert(c->tcp_be_liberal);
}
END_TEST

START_TEST(cluster_node_count_form_expands_names_addresses_and_zones)
{
    g_autoptr(Scenario) sc =
        load_ok("apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: big}\n"
                "spec:\n  cluster:\n"
                "    nodes: {count: 5, addressBase: 192.168.0.252, zones: [a, b], namePrefix: w}\n"
                "    serviceCIDR: 10.96.0.0/12, fd00::/108\n"
                "    serviceNodePortRange: \"30000+99\"\n"
                "    network: {latency: 1ms, bandwidth: 2.5Gbps}\n");
    char buf[SIM_ADDR_STRLEN];
    ck_assert_uint_eq(sc->nodes->len, 5);
    K8sNode *first = sc->nodes->pdata[0], *last = sc->nodes->pdata[4];
    ck_assert_str_eq(first->name, "w1");
    ck_assert_str_eq(addr_str(&g_array_index(first->addresses, SimAddr, 0), buf), "192.168.0.253");
    ck_assert_str_eq(last->name, "w5");
    ck_assert_str_eq(addr_str(&g_array_index(last->addresses, SimAddr, 0), buf), "192.168.1.1");
    ck_assert_str_eq(g_hash_table_lookup(first->labels, "topology.kubernetes.io/zone"), "a");
    ck_assert_str_eq(g_hash_table_lookup(((K8sNode *)sc->nodes->pdata[1])->labels,
                                         "topology.kubernetes.io/zone"),
                     "b");
    ck_assert_str_eq(g_hash_table_lookup(last->labels, "topology.kubernetes.io/zone"), "a");
    ck_assert(last->ready);
    ck_assert_uint_eq(sc->service_cidrs->len, 2);
    ck_assert_uint_eq(sc->node_port_low, 30000);
    ck_assert_uint_eq(sc->node_port_high, 30099);
    ck_assert_int_eq(sc->net_latency, SIM_MSEC);
    ck_assert_uint_eq(sc->net_bandwidth, G_GUINT64_CONSTANT(2500000000));
    /* A Scenario document without clients gets none. */
    ck_assert_uint_eq(sc->clients->len, 0);
}
END_TEST

START_TEST(endpoint_slice_and_node_and_pod_documents_decode)
{
    g_autoptr(Scenario) sc = load_ok(
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {topology.kubernetes.io/zone: "
        "z1}}\n"
        "spec: {podCIDR: 10.244.7.0/24, unschedulable: true, taints: [{key: k, effect: "
        "NoSchedule}]}\n"
        "status:\n  addresses:\n  - {type: Hostname, address: n1}\n"
        "  - {type: ExternalIP, address: 203.0.113.1}\n  - {type: InternalIP, address: 10.0.0.1}\n"
        "  conditions: [{type: Ready, status: \"False\", reason: KubeletNotReady}]\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p1, labels: {app: web}, deletionTimestamp: "
        "\"2024-01-01T00:00:00Z\"}\n"
        "spec:\n  nodeName: n1\n  terminationGracePeriodSeconds: 5\n"
        "  containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]\n"
        "status:\n  phase: Running\n  podIP: 10.244.7.9\n"
        "  conditions: [{type: Ready, status: \"True\"}]\n"
        "---\n"
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
        "metadata: {name: web-abc, labels: {kubernetes.io/service-name: web}}\n"
        "addressType: IPv4\nports: [{name: '', port: 8080, protocol: TCP}]\n"
        "endpoints:\n- addresses: [10.244.7.9]\n"
        "  conditions: {ready: false, serving: true, terminating: true}\n"
        "  nodeName: n1\n  zone: z1\n  hints: {forZones: [{name: z1}]}\n"
        "  targetRef: {kind: Pod, name: p1, namespace: default}\n");
    char buf[SIM_ADDR_STRLEN];
    K8sNode *n = scenario_find_node(sc, "n1");
    ck_assert_uint_eq(sc->nodes->len, 1); /* Node documents replace the default nodes */
    ck_assert(n->explicit_object);
    ck_assert(!n->ready);
    ck_assert(n->unschedulable);
    ck_assert_uint_eq(n->addresses->len, 2);
    ck_assert_str_eq(addr_str(&g_array_index(n->addresses, SimAddr, 0), buf), "10.0.0.1");
    ck_assert_uint_eq(n->pod_cidr.prefix, 24);
    K8sPod *p = sc->pods->pdata[0];
    ck_assert_str_eq(p->node_name, "n1");
    ck_assert_str_eq(addr_str(&p->ip, buf), "10.244.7.9");
    ck_assert(p->ready);
    ck_assert(p->terminating);
    ck_assert_int_eq(p->spec.termination_grace, 5 * SIM_SEC);
    K8sContainer *c = p->spec.containers->pdata[0];
    ck_assert_str_eq(g_array_index(c->ports, K8sContainerPort, 0).name, "http");
    K8sEndpointSlice *s = sc->slices->pdata[0];
    ck_assert_str_eq(s->service_name, "web");
    K8sEndpointPort *ep = s->ports->pdata[0];
    ck_assert_str_eq(ep->name, "");
    ck_assert_uint_eq(ep->port, 8080);
    K8sEndpoint *e = s->endpoints->pdata[0];
    ck_assert(!k8s_endpoint_ready(e));
    ck_assert(k8s_endpoint_serving(e));
    ck_assert(k8s_endpoint_terminating(e));
    ck_assert_str_eq(e->zone, "z1");
    ck_assert_str_eq(g_ptr_array_index(e->hint_zones, 0), "z1");
    ck_assert_str_eq(e->target_pod, "p1");
    ck_assert_uint_eq(e->node_name_pos.line, 32);
}
END_TEST

START_TEST(list_anchors_merge_keys_and_empty_documents)
{
    g_autoptr(Scenario) sc =
        load_ok("---\n---\n# only a comment\n---\n"
                "apiVersion: v1\nkind: List\nitems:\n"
                "- apiVersion: v1\n  kind: Service\n  metadata: {name: a, labels: &l {app: web}}\n"
                "  spec: &spec\n    selector: *l\n    ports: [{port: 80}]\n"
                "- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n"
                "  spec:\n    <<: *spec\n    type: NodePort\n"
                "---\n"
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n");
    ck_assert_uint_eq(sc->services->len, 2);
    K8sService *b = find_service(sc, "default", "b");
    ck_assert(b->type == K8S_SVC_NODE_PORT);
    ck_assert_str_eq(g_hash_table_lookup(b->selector, "app"), "web");
    ck_assert_uint_eq(port_at(b, 0)->port, 80);
    ck_assert_uint_eq(sc->warnings->len, 1);
    ck_assert_str_eq(g_ptr_array_index(sc->warnings, 0),
                     "t.yaml:22:7: warning: kind ConfigMap is not simulated and was ignored: "
                     "it does not affect the datapath");
}
END_TEST

START_TEST(scenario_events_expect_and_deployment_patch)
{
    g_autoptr(Scenario) sc = load_ok(
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: ev}\n"
        "spec:\n  seed: 18446744073709551615\n  duration: 2m\n"
        "  cluster: {nodes: [{name: n1, addresses: [10.0.0.1]}, {name: n2, addresses: "
        "[10.0.0.2]}]}\n"
        "  clients: [{name: c, address: 203.0.113.9}]\n"
        "  traffic: [{name: t, from: c, to: 10.0.0.1:30080, connections: 4, protocol: UDP}]\n"
        "  events:\n"
        "    - {at: 20s, nodeDown: n2}\n"
        "    - {at: 30s, patch: {service: s, spec: {externalTrafficPolicy: Local}}}\n"
        "    - {at: 35s, scale: {deployment: d, replicas: 4}}\n"
        "  expect:\n"
        "    - {traffic: t, succeeded: \">= 95%\"}\n"
        "    - {probe: {node: n1, from: 203.0.113.9, to: 10.0.0.1:30080}, verdict: drop}\n"
        "  patches:\n"
        "    - deployment: d\n      spec:\n        replicas: 3\n"
        "        template: {spec: {containers: [{name: app, ports: [{containerPort: 9090}]}]}}\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
        "spec:\n  selector: {matchLabels: {app: d}}\n"
        "  template:\n    metadata: {labels: {app: d, tier: x}}\n"
        "    spec: {containers: [{name: app, image: i, ports: [{containerPort: 80}]}]}\n");
    ck_assert_uint_eq(sc->seed, G_MAXUINT64);
    ck_assert_int_eq(sc->duration, 120 * SIM_SEC);
    ScenarioTraffic *t = sc->traffic->pdata[0];
    ck_assert_uint_eq(t->connections, 4);
    ck_assert(t->rate == 0);
    ck_assert(t->protocol == SIM_PROTO_UDP);
    ck_assert_int_eq(t->stop, 120 * SIM_SEC);
    ck_assert_uint_eq(sc->events->len, 3);
    ScenarioItem *e0 = sc->events->pdata[0], *e1 = sc->events->pdata[1];
    ck_assert_str_eq(e0->kind, "nodeDown");
    ck_assert_int_eq(e0->at, 20 * SIM_SEC);
    ck_assert_str_eq(g_hash_table_lookup(e0->fields, "nodeDown"), "n2");
    ck_assert_str_eq(e1->kind, "patch");
    ck_assert_str_eq(g_hash_table_lookup(e1->fields, "patch.spec.externalTrafficPolicy"), "Local");
    ck_assert_uint_eq(sc->expect->len, 2);
    ScenarioItem *x1 = sc->expect->pdata[1];
    ck_assert_str_eq(x1->kind, "expect");
    ck_assert_str_eq(g_hash_table_lookup(x1->fields, "probe.to"), "10.0.0.1:30080");
    ck_assert_str_eq(g_hash_table_lookup(x1->fields, "verdict"), "drop");
    K8sDeployment *d = sc->deployments->pdata[0];
    ck_assert_int_eq(d->replicas, 3);
    K8sContainer *c = d->template_.containers->pdata[0];
    ck_assert_uint_eq(d->template_.containers->len, 1);
    ck_assert_uint_eq(g_array_index(c->ports, K8sContainerPort, 0).container_port, 9090);
}
END_TEST

/* ---------------------------------------------------------------- errors */

static const char svc_head[] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n";

START_TEST(errors_name_position_and_kubectl_wording)
{
    g_autofree char *a =
        g_strconcat(svc_head, "  ports:\n  - port: 80\n    targetport: 8080\n", NULL);
    assert_error(a, "t.yaml:8:5: error: unknown field 'targetport' in Service spec.ports[0]; "
                    "did you mean 'targetPort'?");
    g_autofree char *b = g_strconcat(svc_head, "  ports:\n  - port: 70000\n", NULL);
    assert_error(b, "t.yaml:7:11: error: The Service \"web\" is invalid: spec.ports[0].port: "
                    "Invalid value: 70000: must be between 1 and 65535, inclusive");
    g_autofree char *c =
        g_strconcat(svc_head, "  ports:\n  - port: 80\n    nodePort: 30080\n", NULL);
    assert_error(c, "t.yaml:8:15: error: The Service \"web\" is invalid: spec.ports[0].nodePort: "
                    "Forbidden: may not be used when `type` is 'ClusterIP'");
    g_autofree char *d =
        g_strconcat(svc_head, "  clusterIP: 10.96.0.256\n  ports: [{port: 1}]\n", NULL);
    assert_error(d, "t.yaml:6:14: error: The Service \"web\" is invalid: spec.clusterIP: Invalid "
                    "value: \"10.96.0.256\": must be a valid IP address, (e.g. 10.9.8.7 or "
                    "2001:db8::ffff)");
    g_autofree char *e = g_strconcat(svc_head, "  ports: [{port: \"80\"}]\n", NULL);
    assert_error(e, "t.yaml:6:18: error: spec.ports[0].port: expected an integer, got the string "
                    "\"80\"");
    g_autofree char *f = g_strconcat(svc_head, "  ports: [{port: 80}]\n  selector: [app]\n", NULL);
    assert_error(f, "t.yaml:7:13: error: spec.selector: expected a mapping, got a sequence");
    assert_error("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
                 "  replicas: two\n",
                 "t.yaml:5:13: error: spec.replicas: expected an integer, got 'two'");
    assert_error("apiVersion: v1\nkind: Servce\n",
                 "t.yaml:2:7: error: unknown kind 'Servce'; did you mean 'Service'?");
    assert_error("apiVersion: v1\nkind: Frobnicator\n", "t.yaml:2:7: error: unknown kind "
                                                        "'Frobnicator'");
    assert_error("a: b\nc: d: e\n",
                 "t.yaml:2:5: error: mapping values are not allowed in this context");
}
END_TEST

START_TEST(errors_for_scenario_fields)
{
    const char *head = "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: s}\n"
                       "spec:\n  cluster:\n    nodes: [{name: n1, addresses: [10.0.0.1]}]\n";
    g_autofree char *a = g_strconcat(head, "    clusterCIDR: 10.0.0.0/40\n", NULL);
    assert_error(a, "t.yaml:7:18: error: spec.cluster.clusterCIDR: Invalid value: \"10.0.0.0/40\": "
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
    g_autofree char *b = g_strconcat(head, "    serviceNodePortRange: 0-100\n", NULL);
    assert_error(b, "t.yaml:7:27: error: spec.cluster.serviceNodePortRange: Invalid value: "
                    "\"0-100\": must be LOW-HIGH (or a single port) with 1 <= LOW <= HIGH <= "
                    "65535");
    g_autofree char *c = g_strconcat(head, "  manifests: [missing.yaml]\n", NULL);
    assert_error(c, "t.yaml:7:15: error: cannot read manifest 'missing.yaml': No such file or "
                    "directory");
    g_autofree char *d =
        g_strconcat(head, "  events: [{at: 1s, nodeUp: n1, nodeDown: n1}]\n", NULL);
    assert_error(d, "t.yaml:7:33: error: spec.events[0]: an event holds one action, and "
                    "'nodeDown' follows 'nodeUp'; write two events");
    g_autofree char *e = g_strconcat(head,
                                     "  clients: [{name: c, address: 1.2.3.4}]\n"
                                     "  traffic: [{name: t, from: c, to: [1.1.1.1:80]}]\n",
                                     NULL);
    assert_error(e, "t.yaml:8:13: error: spec.traffic[0]: give exactly one of 'rate' (open loop, "
                    "e.g. 50/s) and 'connections' (closed loop)");
    g_autofree char *f = g_strconcat(head, "  seed: -1\n", NULL);
    assert_error(f, "t.yaml:7:9: error: spec.seed: expected an unsigned integer, got '-1'");
    g_autofree char *g = g_strconcat(head, "  proxy: {mode: ipvsadm}\n", NULL);
    assert_error(g, "t.yaml:7:17: error: spec.proxy.mode: Unsupported value: \"ipvsadm\": "
                    "supported values: \"iptables\", \"ipvs\", \"nftables\"");
    g_autofree char *h =
        g_strconcat(head, "---\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n", NULL);
    assert_error(h, "t.yaml:10:18: error: nodes \"n1\" already exists (first defined at "
                    "t.yaml:6:20)");
}
END_TEST

START_TEST(errors_for_typography_copied_from_web_pages)
{
    assert_error("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                 "  \xe2\x80\x93 name: c\n",
                 "t.yaml:6:3: error: '\xe2\x80\x93' (U+2013 EN DASH) is not a YAML list marker; "
                 "did you mean '-'?");
    assert_error("\xe2\x80\x9c`yaml\napiVersion: v1\nkind: Service\n",
                 "t.yaml:1:1: error: '\xe2\x80\x9c`' is a Markdown code fence whose backquote "
                 "became '\xe2\x80\x9c' (U+201C LEFT DOUBLE QUOTATION MARK) when copied from a "
                 "web page; delete this line");
    /* The same characters inside comments, block scalars and quoted text are fine. */
    g_autoptr(Scenario) sc = load_ok(
        "# \xe2\x80\x93 \xe2\x80\x9c\xe3\x82\xb3\xe3\x83\xa1\xe3\x83\xb3\xe3\x83\x88\xe2\x80\x9d\n"
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\n"
        "metadata:\n  name: s\n  description: |\n    \xe2\x80\x93 a list in prose\n"
        "    \xe2\x80\x9cquoted\xe2\x80\x9d\n"
        "spec: {cluster: {nodes: [{name: n1, addresses: [10.0.0.1]}]}}\n");
    ck_assert(strstr(sc->description, "a list in prose") != NULL);
}
END_TEST

START_TEST(errors_for_yaml_structure_and_limits)
{
    assert_error("a: 1\na: 2\n", "t.yaml:2:1: error: mapping key \"a\" already defined at line 1");
    assert_error("a: *nope\n", "t.yaml:1:4: error: unknown anchor 'nope' referenced (an alias "
                               "must follow its complete anchor)");
    assert_error("a: !custom x\n", "t.yaml:1:4: error: unsupported YAML tag '!custom'");
    /* A billion laughs stops at the node budget instead of expanding. */
    GString *bomb = g_string_new("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'h'; c++)
        g_string_append_printf(bomb, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
                               c, c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1,
                               c - 1);
    g_autofree char *msg = load_err(bomb->str);
    g_string_free(bomb, TRUE);
    ck_assert_msg(strstr(msg, "document is too large") != NULL, "%s", msg);
}
END_TEST

START_TEST(failed_manifest_leaves_scenario_unchanged)
{
    g_autoptr(Scenario) sc = scenario_new_default();
    g_autoptr(GError) error = NULL;
    const char *good =
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 1}]}\n";
    ck_assert(loader_add_manifest_text(sc, "good.yaml", good, strlen(good), &error));
    const char *bad =
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
        "mode: nftables\nclusterCIDR: 10.0.0.0/8\n---\n"
        "apiVersion: v1\nkind: Node\nmetadata: {name: extra}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {ports: [{port: 2}]}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
        "spec: {ports: [{port: 3}]}\n";
    ck_assert(!loader_add_manifest_text(sc, "bad.yaml", bad, strlen(bad), &error));
    ck_assert_str_eq(error->message, "bad.yaml:17:18: error: services \"a\" already exists in "
                                     "namespace \"default\" (first defined at good.yaml:3:18)");
    ck_assert_uint_eq(sc->services->len, 1);
    ck_assert_uint_eq(sc->nodes->len, 3);
    ck_assert(sc->proxy.mode == KP_MODE_IPTABLES);
    ck_assert(sc->proxy_cluster_cidr_from_cluster);
    g_clear_error(&error);
    const char *scen = "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: x}\n";
    ck_assert(!loader_add_manifest_text(sc, "m.yaml", scen, strlen(scen), &error));
    ck_assert_str_eq(error->message, "m.yaml:2:7: error: a kind: Scenario document belongs in a "
                                     "scenario file, not in a manifest");
}
END_TEST

/* Reads a whole file or fails the test. (transfer full) */
static char *
read_text(const char *path)
{
    char *text = NULL;
    ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
    return text;
}

/* Whether message is the error line expected, as the CLI prints it: kpsim shortens words longer
 * than 120 characters to "HEAD...(N characters)...TAIL", so such a line is compared up to
 * there. */
static G_GNUC_NO_INLINE gboolean
error_matches(const char *message, const char *expected)
{
    const char *cut = strstr(expected, "...(");
    gsize n = cut != NULL ? (gsize)(cut - expected) : strlen(expected) + 1;
    return strncmp(message, expected, n) == 0;
}

START_TEST(bad_inputs_fail_with_their_expected_first_line)
{
    enter_srcdir();
    g_autoptr(GDir) dir = g_dir_open("tests/bad", 0, NULL);
    ck_assert_ptr_nonnull(dir);
    const char *name;
    guint loader_cases = 0, builder_cases = 0;
    while ((name = g_dir_read_name(dir)) != NULL) {
        if (!g_str_has_suffix(name, ".yaml"))
            continue;
        g_autofree char *path = g_build_filename("tests/bad", name, NULL);
        g_autofree char *stem = g_strndup(name, strlen(name) - strlen(".yaml"));
        g_autofree char *err_path = g_strdup_printf("tests/bad/%s.err", stem);
        g_autofree char *expected = read_text(err_path);
        g_strchomp(expected);
        g_autoptr(GError) error = NULL;
        g_autoptr(Scenario) sc = loader_load_scenario(path, &error);
        if (sc != NULL) {
            /* What the loader accepts, the cluster builder (allocation, references) or the
             * expectation parser must refuse, with the expected line. */
            g_autoptr(Cluster) c = cluster_build(sc, &error);
            if (c != NULL) {
                g_autoptr(GPtrArray) expectations = expect_parse_all(c, &error);
                ck_assert_msg(expectations == NULL, "%s was accepted but %s expects: %s", path,
                              err_path, expected);
            }
            ck_assert_msg(error_matches(error->message, expected), "%s: %.300s", path,
                          error->message);
            builder_cases++;
            continue;
        }
        ck_assert_msg(error_matches(error->message, expected), "%s: %.300s", path,
                      error->message);
        loader_cases++;
    }
    ck_assert_uint_ge(loader_cases + builder_cases, 60);
    ck_assert_uint_ge(builder_cases, 2);
}
END_TEST

/* ---------------------------------------------------------------- helpers of k8s.c, yaml_tree.c */

START_TEST(k8s_helpers_match_selectors_and_print_labels)
{
    g_autoptr(GHashTable) sel = k8s_string_table_new();
    g_autoptr(GHashTable) labels = k8s_string_table_new();
    ck_assert(!k8s_selector_matches(sel, labels));
    g_hash_table_insert(sel, g_strdup("app"), g_strdup("web"));
    g_hash_table_insert(labels, g_strdup("tier"), g_strdup("a"));
    ck_assert(!k8s_selector_matches(sel, labels));
    g_hash_table_insert(labels, g_strdup("app"), g_strdup("web"));
    ck_assert(k8s_selector_matches(sel, labels));
    g_autofree char *text = k8s_labels_to_string(labels);
    ck_assert_str_eq(text, "app=web,tier=a");
    g_autofree char *none = k8s_labels_to_string(NULL);
    ck_assert_str_eq(none, "<none>");
    g_autoptr(K8sService) s = k8s_service_new();
    s->meta.name = g_strdup("web");
    K8sServicePort *p = g_new0(K8sServicePort, 1);
    p->name = g_strdup("");
    g_ptr_array_add(s->ports, p);
    g_autoptr(K8sService) copy = k8s_service_copy(s);
    ck_assert_ptr_ne(copy->ports->pdata[0], p);
    g_autofree char *pn = k8s_service_port_name(copy, copy->ports->pdata[0]);
    ck_assert_str_eq(pn, "default/web");
    ck_assert_str_eq(k8s_service_type_name(K8S_SVC_EXTERNAL_NAME), "ExternalName");
}
END_TEST

START_TEST(yaml_tree_resolves_scalars_and_suggests_names)
{
    const char *text = "a: 0x1F\nb: '12'\nc: yes\nd: 1.5\ne: ~\nf: 10.0.0.1\ng: !!str 7\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) docs = yt_parse("x.yaml", text, strlen(text), &error);
    ck_assert_ptr_nonnull(docs);
    const YtNode *root = ((YtDocument *)docs->pdata[0])->root;
    ck_assert_int_eq(yt_scalar_kind(yt_map_get(root, "a")), YT_VALUE_INT);
    ck_assert_int_eq(yt_scalar_kind(yt_map_get(root, "b")), YT_VALUE_STRING);
    ck_assert_int_eq(yt_scalar_kind(yt_map_get(root, "c")), YT_VALUE_BOOL);
    ck_assert_int_eq(yt_scalar_kind(yt_map_get(root, "d")), YT_VALUE_FLOAT);
    ck_assert(yt_is_null(yt_map_get(root, "e")));
    ck_assert_int_eq(yt_scalar_kind(yt_map_get(root, "f")), YT_VALUE_STRING);
    ck_assert_int_eq(yt_scalar_kind(yt_map_get(root, "g")), YT_VALUE_STRING);
    ck_assert_uint_eq(yt_map_get(root, "f")->line, 6);
    ck_assert_uint_eq(yt_map_get(root, "f")->column, 4);
    ck_assert_uint_eq(yt_edit_distance("Servce", "Service", FALSE), 1);
    ck_assert_uint_eq(yt_edit_distance("sepc", "spec", FALSE), 1);
    ck_assert_uint_eq(yt_edit_distance("targetport", "targetPort", TRUE), 0);
    const char *const fields[] = {"port", "targetPort", "nodePort", NULL};
    ck_assert_str_eq(yt_closest("targetport", fields), "targetPort");
    ck_assert_ptr_null(yt_closest("zzz", fields));
    const char *const nodes[] = {"node1", "node2", NULL};
    ck_assert_ptr_null(yt_closest("node5", nodes));
    g_autofree char *hint = yt_typography_hint("  \xe2\x80\x94 x");
    ck_assert_str_eq(hint, "'\xe2\x80\x94' (U+2014 EM DASH) is not a YAML list marker; did you "
                           "mean '-'?");
    ck_assert_ptr_null(yt_typography_hint("- x"));
}
END_TEST

/* ---------------------------------------------------------------- main */

START_TEST(generate_makes_deployments_and_services_like_manifests)
{
    static const char head[] = "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\n"
                               "metadata: {name: g}\nspec:\n  generate:\n";
    g_autofree char *text = g_strconcat(
        head,
        "    deployments: {count: 3, replicas: 2, namePrefix: web,\n"
        "                  ports: [{port: 80, name: http}, {port: 53, protocol: UDP}]}\n"
        "    services: {perDeployment: 2, type: NodePort, nodePortBase: 31000}\n",
        NULL);
    g_autoptr(Scenario) sc = load_ok(text);
    ck_assert_uint_eq(sc->deployments->len, 3);
    ck_assert_uint_eq(sc->services->len, 6);
    const K8sDeployment *d = sc->deployments->pdata[2];
    ck_assert_str_eq(d->meta.name, "web3");
    ck_assert_int_eq(d->replicas, 2);
    ck_assert_str_eq(g_hash_table_lookup(d->template_.labels, "app"), "web3");
    const K8sService *s = sc->services->pdata[3];
    ck_assert_str_eq(s->meta.name, "web2-2");
    ck_assert_str_eq(g_hash_table_lookup(s->selector, "app"), "web2");
    ck_assert_int_eq(s->type, K8S_SVC_NODE_PORT);
    ck_assert_uint_eq(s->ports->len, 2);
    const K8sServicePort *p = s->ports->pdata[1];
    ck_assert_str_eq(p->name, "p2");
    ck_assert_int_eq(p->protocol, SIM_PROTO_UDP);
    ck_assert_uint_eq(p->node_port, 31007); /* the 8th port written */
    g_autofree char *bad = g_strconcat(head, "    deployments: {count: 2, ports: [80, 80]}\n", NULL);
    assert_error(bad, "t.yaml:6:41: error: spec.generate.deployments.ports[1]: Duplicate value: "
                      "80/TCP");
    g_autofree char *far = g_strconcat(
        head, "    deployments: {count: 40000}\n",
        "    services: {type: NodePort, nodePortBase: 30000}\n", NULL);
    assert_error(far, "t.yaml:7:46: error: spec.generate.services.nodePortBase: Invalid value: "
                      "30000: 40000 node ports do not fit below 65536");
}
END_TEST

START_TEST(generate_names_count_in_decimal_in_their_namespace)
{
    static const char text[] =
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: g}\nspec:\n"
        "  generate:\n"
        "    deployments: {count: 120, namePrefix: api-, namespace: team-a, ports: [8080]}\n"
        "    services: {perDeployment: 12}\n";
    g_autoptr(Scenario) sc = load_ok(text);
    ck_assert_uint_eq(sc->deployments->len, 120);
    ck_assert_uint_eq(sc->services->len, 1440);
    const K8sDeployment *d = sc->deployments->pdata[99];
    ck_assert_str_eq(d->meta.name, "api-100");
    ck_assert_str_eq(d->meta.namespace_, "team-a");
    ck_assert_str_eq(g_hash_table_lookup(d->match_labels, "app"), "api-100");
    ck_assert_uint_eq(g_hash_table_size(d->template_.labels), 1);
    const K8sContainer *c = d->template_.containers->pdata[0];
    ck_assert_uint_eq(c->ports->len, 1);
    ck_assert_uint_eq(g_array_index(c->ports, K8sContainerPort, 0).container_port, 8080);
    const K8sService *first = sc->services->pdata[99 * 12];
    ck_assert_str_eq(first->meta.name, "api-100");
    const K8sService *last = sc->services->pdata[1439];
    ck_assert_str_eq(last->meta.name, "api-120-12");
    ck_assert_str_eq(last->meta.namespace_, "team-a");
    ck_assert_str_eq(g_hash_table_lookup(last->selector, "app"), "api-120");
    const K8sService *tenth = sc->services->pdata[9];
    ck_assert_str_eq(tenth->meta.name, "api-1-10");
    ck_assert_str_eq(((const K8sServicePort *)tenth->ports->pdata[0])->name, "");
}
END_TEST

/* A Service document named name selecting app: x, "---" first. (transfer full) */
static char *
gen_service_doc(const char *name)
{
    return g_strdup_printf("---\napiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"
                           "spec: {selector: {app: x}, ports: [{port: 80}]}\n",
                           name);
}

/* A Deployment document named name, "---" first. (transfer full) */
static char *
gen_deployment_doc(const char *name)
{
    return g_strdup_printf("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s}\n"
                           "spec:\n  selector: {matchLabels: {app: x}}\n"
                           "  template:\n    metadata: {labels: {app: x}}\n"
                           "    spec: {containers: [{name: c, image: i}]}\n",
                           name);
}

/* A stream of the documents before (a NULL-terminated list of "s:NAME" Services and "d:NAME"
 * Deployments), a Scenario generating 3 Deployments PREFIXi with 3 Services each, then the
 * documents after. (transfer full) */
static char *
gen_stream(const char *prefix, const char *const *before, const char *const *after)
{
    GString *out = g_string_new(NULL);
    for (guint pass = 0; pass < 2; pass++) {
        const char *const *docs = pass == 0 ? before : after;
        if (pass == 1)
            g_string_append_printf(out,
                                   "---\napiVersion: kpsim.io/v1alpha1\nkind: Scenario\n"
                                   "metadata: {name: g}\nspec:\n  generate:\n"
                                   "    deployments: {count: 3, namePrefix: %s}\n"
                                   "    services: {perDeployment: 3}\n",
                                   prefix);
        for (guint i = 0; docs != NULL && docs[i] != NULL; i++) {
            g_autofree char *doc =
                docs[i][0] == 's' ? gen_service_doc(docs[i] + 2) : gen_deployment_doc(docs[i] + 2);
            g_string_append(out, doc);
        }
    }
    return g_string_free(out, FALSE);
}

START_TEST(generate_names_collide_with_objects_defined_before_or_after)
{
    static const struct {
        const char *prefix;
        const char *before[8], *after[8];
        const char *error;
    } cases[] = {
        /* Defined first: the first generated name (Deployment i, then its Services) to
         * collide is the error, at the generate entry. */
        {"app",
         {"s:app2-3", "d:app3"},
         {NULL},
         "t.yaml:22:15: error: services \"app2-3\" "
         "already exists in namespace \"default\" (first defined at t.yaml:4:18)"},
        {"app",
         {"d:app2", "s:app2"},
         {NULL},
         "t.yaml:21:18: error: deployments \"app2\" "
         "already exists in namespace \"default\" (first defined at t.yaml:4:18)"},
        {"app",
         {"s:app2-2", "d:app3"},
         {NULL},
         "t.yaml:22:15: error: services \"app2-2\" "
         "already exists in namespace \"default\" (first defined at t.yaml:4:18)"},
        {"app",
         {"s:app1"},
         {NULL},
         "t.yaml:13:15: error: services \"app1\" already exists in "
         "namespace \"default\" (first defined at t.yaml:4:18)"},
        {"a1",
         {"s:a1", "s:a10", "s:a1-2", "s:a11-4", "s:a12-3x", "d:a13"},
         {NULL},
         "t.yaml:41:18: error: deployments \"a13\" already exists in namespace \"default\" "
         "(first defined at t.yaml:29:18)"},
        /* Defined after: the object's name is the error, pointing at the generate entry. */
        {"app",
         {NULL},
         {"s:app2-3"},
         "t.yaml:12:18: error: services \"app2-3\" already exists "
         "in namespace \"default\" (first defined at t.yaml:8:15)"},
        {"app",
         {NULL},
         {"d:app3"},
         "t.yaml:12:18: error: deployments \"app3\" already exists "
         "in namespace \"default\" (first defined at t.yaml:7:18)"},
        {"a1",
         {NULL},
         {"s:a1", "s:a10", "s:a11-3"},
         "t.yaml:22:18: error: services \"a11-3\" "
         "already exists in namespace \"default\" (first defined at t.yaml:8:15)"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = gen_stream(cases[i].prefix, cases[i].before, cases[i].after);
        assert_error(text, cases[i].error);
    }
}
END_TEST

START_TEST(generate_names_leave_near_misses_free)
{
    /* Numbers out of range, leading zeros, K of 1 or above perDeployment, other suffixes. */
    static const char *const before[] = {"s:app0",    "s:app01",  "s:app4", "s:app1-1", "s:app1-4",
                                         "s:app1-01", "d:app1-2", "d:app4", "s:app",    NULL};
    static const char *const after[] = {"s:bpp1",    "s:app-1",   "s:app1-2-3", "s:app03",
                                        "s:app1-0",  "d:app1-2x", "d:app0",     "d:app10",
                                        "s:app10-2", "s:app3-30", "s:app2x",    NULL};
    g_autofree char *text = gen_stream("app", before, after);
    g_autoptr(Scenario) sc = load_ok(text);
    ck_assert_uint_eq(sc->services->len, 7 + 9 + 8);
    ck_assert_uint_eq(sc->deployments->len, 2 + 3 + 3);
    ck_assert_ptr_nonnull(find_service(sc, "default", "app3-3"));
    ck_assert_ptr_nonnull(find_service(sc, "default", "app3-30"));
    /* The same names in another namespace are free too. */
    g_autofree char *other =
        g_strconcat("apiVersion: v1\nkind: Service\nmetadata: {name: app1, namespace: other}\n"
                    "spec: {selector: {app: x}, ports: [{port: 80}]}\n",
                    strstr(text, "---\napiVersion: kpsim.io"), NULL);
    g_autoptr(Scenario) sc2 = load_ok(other);
    ck_assert_ptr_nonnull(find_service(sc2, "other", "app1"));
    ck_assert_ptr_nonnull(find_service(sc2, "default", "app1"));
}
END_TEST

/* A Node document named name (a distinct address each, from n). (transfer full) */
static char *
node_doc(const char *name, guint n)
{
    return g_strdup_printf("---\napiVersion: v1\nkind: Node\nmetadata: {name: %s}\n"
                           "status: {addresses: [{type: InternalIP, address: 192.168.9.%u}]}\n",
                           name, n);
}

START_TEST(node_count_names_collide_like_one_by_one_names)
{
    const char *scenario = "---\napiVersion: kpsim.io/v1alpha1\nkind: Scenario\n"
                           "metadata: {name: t}\nspec:\n  cluster:\n"
                           "    nodes: {count: 20, addressBase: 192.168.0.0}\n"
                           "    clusterCIDR: 10.0.0.0/16\n";
    g_autofree char *n7 = node_doc("node7", 1), *n12 = node_doc("node12", 2);
    g_autofree char *n0 = node_doc("node0", 3), *n21 = node_doc("node21", 4);
    g_autofree char *n07 = node_doc("node07", 5);
    /* Defined before: the first count-form name taken fails, at the count form. */
    g_autofree char *before = g_strconcat(n12, n7, scenario, NULL);
    assert_error(before, "t.yaml:17:12: error: nodes \"node7\" already exists (first defined "
                         "at t.yaml:9:18)");
    /* Defined after: the Node's name fails, pointing at the count form. */
    g_autofree char *after = g_strconcat(scenario, n12, NULL);
    assert_error(after, "t.yaml:12:18: error: nodes \"node12\" already exists (first defined "
                        "at t.yaml:7:12)");
    /* Near misses stay free, before and after. */
    g_autofree char *free_names = g_strconcat(n0, n07, scenario, n21, NULL);
    g_autoptr(Scenario) sc = load_ok(free_names);
    ck_assert_uint_eq(sc->nodes->len, 23);
}
END_TEST

START_TEST(generate_shares_label_tables_and_patches_change_only_their_object)
{
    static const char text[] =
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: g}\nspec:\n"
        "  generate:\n"
        "    deployments: {count: 3}\n"
        "    services: {perDeployment: 2}\n"
        "  patches:\n"
        "    - {service: app2, spec: {selector: {app: app3}}}\n"
        "    - {deployment: app1, spec: {template: {metadata: {labels: {tier: web}}}}}\n"
        "    - {deployment: app3, spec: {selector: {matchLabels: {tier: db}},\n"
        "                                template: {metadata: {labels: {tier: db}}}}}\n";
    g_autoptr(Scenario) sc = load_ok(text);
    const K8sDeployment *d1 = sc->deployments->pdata[0], *d2 = sc->deployments->pdata[1];
    const K8sService *s1 = find_service(sc, "default", "app1");
    const K8sService *s2 = find_service(sc, "default", "app2"),
                     *s22 = find_service(sc, "default", "app2-2");
    /* Untouched objects still share one table. */
    ck_assert_ptr_eq(d2->match_labels, d2->template_.labels);
    ck_assert_ptr_eq(s22->selector, d2->template_.labels);
    /* The Service patch changed only that Service's selector. */
    ck_assert_str_eq(g_hash_table_lookup(s2->selector, "app"), "app3");
    ck_assert_str_eq(g_hash_table_lookup(s22->selector, "app"), "app2");
    ck_assert_str_eq(g_hash_table_lookup(d2->match_labels, "app"), "app2");
    /* The Deployment patch changed only its template labels. */
    ck_assert_uint_eq(g_hash_table_size(d1->template_.labels), 2);
    ck_assert_str_eq(g_hash_table_lookup(d1->template_.labels, "tier"), "web");
    ck_assert_uint_eq(g_hash_table_size(d1->match_labels), 1);
    ck_assert_uint_eq(g_hash_table_size(s1->selector), 1);
    ck_assert_ptr_null(g_hash_table_lookup(s1->selector, "tier"));
    /* matchLabels and template labels patched together: the Services keep theirs. */
    const K8sDeployment *d3 = sc->deployments->pdata[2];
    ck_assert_str_eq(g_hash_table_lookup(d3->match_labels, "tier"), "db");
    ck_assert_str_eq(g_hash_table_lookup(d3->template_.labels, "tier"), "db");
    ck_assert_uint_eq(g_hash_table_size(find_service(sc, "default", "app3")->selector), 1);
}
END_TEST

/* Datapath stubs for running controllers over a loaded scenario. */
static void
gen_stub_power(const K8sNode *node, gboolean up, gpointer data)
{
}

static guint
gen_stub_proxy_sync(const K8sNode *node, gpointer data)
{
    return 0;
}

static void
gen_stub_pod(const K8sPod *pod, gpointer data)
{
}

START_TEST(generate_timeline_patches_change_only_their_object)
{
    static const char text[] =
        "apiVersion: kpsim.io/v1alpha1\nkind: Scenario\nmetadata: {name: g}\nspec:\n"
        "  duration: 60s\n"
        "  cluster: {nodes: [{name: n1, addresses: [10.0.0.1]}]}\n"
        "  generate:\n"
        "    deployments: {count: 3}\n"
        "    services: {perDeployment: 2}\n"
        "  events:\n"
        "    - {at: 10s, patch: {service: app2, spec: {selector: {app: app3}}}}\n"
        "    - {at: 10s, patch: {deployment: app1, spec: {template: {metadata: "
        "{labels: {tier: web}}}}}}\n"
        "    - {at: 10s, patch: {service: app3-2, spec: {selector: {tier: web}}}}\n";
    static const ControllersOps ops = {
        .power = gen_stub_power,
        .proxy_sync = gen_stub_proxy_sync,
        .pod_added = gen_stub_pod,
        .pod_removed = gen_stub_pod,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(Scenario) sc = load_ok(text);
    Cluster *c = cluster_build(sc, &error);
    ck_assert_msg(c != NULL, "%s", error != NULL ? error->message : "");
    g_autoptr(GPtrArray) events = events_compile(c, &error);
    ck_assert_msg(events != NULL, "%s", error != NULL ? error->message : "");
    SimLoop *loop = sim_loop_new();
    ControllersConfig cfg;
    controllers_config_init(&cfg);
    Controllers *ctl = controllers_new(c, loop, &cfg, events, &ops, NULL);
    controllers_start(ctl);
    sim_loop_run_until(loop, 11 * SIM_SEC);
    const K8sDeployment *d1 = cluster_find_deployment(c, "default", "app1");
    const K8sDeployment *d2 = cluster_find_deployment(c, "default", "app2");
    const K8sDeployment *d3 = cluster_find_deployment(c, "default", "app3");
    const K8sService *s1 = cluster_find_service(c, "default", "app1");
    const K8sService *s2 = cluster_find_service(c, "default", "app2");
    const K8sService *s22 = cluster_find_service(c, "default", "app2-2");
    const K8sService *s3 = cluster_find_service(c, "default", "app3");
    const K8sService *s32 = cluster_find_service(c, "default", "app3-2");
    ck_assert_str_eq(g_hash_table_lookup(s2->selector, "app"), "app3");
    ck_assert_str_eq(g_hash_table_lookup(s22->selector, "app"), "app2");
    ck_assert_str_eq(g_hash_table_lookup(d2->match_labels, "app"), "app2");
    ck_assert_str_eq(g_hash_table_lookup(d2->template_.labels, "app"), "app2");
    ck_assert_str_eq(g_hash_table_lookup(d1->template_.labels, "tier"), "web");
    ck_assert_uint_eq(g_hash_table_size(d1->match_labels), 1);
    ck_assert_uint_eq(g_hash_table_size(s1->selector), 1);
    ck_assert_str_eq(g_hash_table_lookup(s32->selector, "tier"), "web");
    ck_assert_uint_eq(g_hash_table_size(s3->selector), 1);
    ck_assert_uint_eq(g_hash_table_size(d3->template_.labels), 1);
    ck_assert_uint_eq(g_hash_table_size(d3->match_labels), 1);
    controllers_free(ctl);
    sim_loop_free(loop);
    cluster_free(c);
}
END_TEST

static Suite *
loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("scenarios");
    tcase_add_test(tc, seed_scenario_loads_article_manifests_with_pinned_node_port);
    tcase_add_test(tc, seed_manifests_are_the_articles_files_byte_for_byte);
    tcase_add_test(tc, every_conformance_scenario_loads);
    tcase_add_test(tc, conformance_trace_packet_fields_decode_as_written);
    suite_add_tcase(s, tc);
    tc = tcase_create("fields");
    tcase_add_test(tc, service_ports_decode_named_target_port_and_defaults);
    tcase_add_test(tc, service_session_affinity_both_forms_and_families);
    tcase_add_test(tc, service_load_balancer_status_and_policies);
    tcase_add_test(tc, proxy_cluster_cidr_explicitly_empty_means_no_detector);
    tcase_add_test(tc, kube_proxy_configuration_document_decodes_modes_and_durations);
    tcase_add_test(tc, cluster_node_count_form_expands_names_addresses_and_zones);
    tcase_add_test(tc, endpoint_slice_and_node_and_pod_documents_decode);
    tcase_add_test(tc, list_anchors_merge_keys_and_empty_documents);
    tcase_add_test(tc, scenario_events_expect_and_deployment_patch);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_name_position_and_kubectl_wording);
    tcase_add_test(tc, errors_for_scenario_fields);
    tcase_add_test(tc, errors_for_typography_copied_from_web_pages);
    tcase_add_test(tc, errors_for_yaml_structure_and_limits);
    tcase_add_test(tc, failed_manifest_leaves_scenario_unchanged);
    tcase_add_test(tc, bad_inputs_fail_with_their_expected_first_line);
    suite_add_tcase(s, tc);
    tc = tcase_create("helpers");
    tcase_add_test(tc, k8s_helpers_match_selectors_and_print_labels);
    tcase_add_test(tc, yaml_tree_resolves_scalars_and_suggests_names);
    tcase_add_test(tc, generate_makes_deployments_and_services_like_manifests);
    tcase_add_test(tc, generate_names_count_in_decimal_in_their_namespace);
    tcase_add_test(tc, generate_names_collide_with_objects_defined_before_or_after);
    tcase_add_test(tc, generate_names_leave_near_misses_free);
    tcase_add_test(tc, node_count_names_collide_like_one_by_one_names);
    tcase_add_test(tc, generate_shares_label_tables_and_patches_change_only_their_object);
    tcase_add_test(tc, generate_timeline_patches_change_only_their_object);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(loader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
