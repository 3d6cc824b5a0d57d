/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the Check suites share: literal addresses, socket addresses and prefixes that fail the
 * test (naming the bad text) instead of returning an error.
 */
#ifndef KPSIM_TEST_UTIL_H
#define KPSIM_TEST_UTIL_H

#include <check.h>
#include <string.h>

#include "model/cluster.h"
#include "model/loader.h"
#include "sim/sim_addr.h"

/* The address written as text; fails the test on a malformed one. */
static inline SimAddr
addr(const char *text)
{
    SimAddr a;
    ck_assert_msg(sim_addr_parse(text, &a), "bad address %s", text);
    return a;
}

/* "IP:PORT" or "[IPv6]:PORT"; fails the test on a malformed one. */
static inline SimSockAddr
sockaddr(const char *text)
{
    SimSockAddr s;
    ck_assert_msg(sim_sockaddr_parse(text, &s, FALSE), "bad socket address %s", text);
    return s;
}

/* "ADDR/LEN" (or a bare address); fails the test on a malformed one. */
static inline SimCidr
cidr(const char *text)
{
    SimCidr c;
    ck_assert_msg(sim_cidr_parse(text, &c), "bad CIDR %s", text);
    return c;
}

/* Loads the scenario at path (or, with test_cluster_text(), the scenario text, as file
 * "t.yaml") and builds its cluster; fails the test on either error. Free the cluster before
 * *sc. (transfer full) */
static inline Cluster *
test_cluster_file(const char *path, Scenario **sc)
{
    g_autoptr(GError) error = NULL;
    *sc = loader_load_scenario(path, &error);
    ck_assert_msg(*sc != NULL, "%s: %s", path, error ? error->message : "?");
    Cluster *c = cluster_build(*sc, &error);
    ck_assert_msg(c != NULL, "%s: %s", path, error ? error->message : "?");
    return c;
}

static inline Cluster *
test_cluster_text(const char *text, Scenario **sc)
{
    g_autoptr(GError) error = NULL;
    *sc = loader_load_scenario_text("t.yaml", text, strlen(text), &error);
    ck_assert_msg(*sc != NULL, "%s", error ? error->message : "?");
    Cluster *c = cluster_build(*sc, &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "?");
    return c;
}

/* The cluster most suites test on, as scenario YAML to splice into a literal: under
 * spec.cluster, three nodes node1..3 at 192.168.1.101..103 and clusterCIDR 10.1.0.0/16, then
 * spec.clients with "laptop" at 203.0.113.10. */
#define TEST_THREE_NODES_AND_LAPTOP_YAML                                                           \
    "    nodes:\n"                                                                                 \
    "      - {name: node1, addresses: [192.168.1.101]}\n"                                          \
    "      - {name: node2, addresses: [192.168.1.102]}\n"                                          \
    "      - {name: node3, addresses: [192.168.1.103]}\n"                                          \
    "    clusterCIDR: 10.1.0.0/16\n"                                                               \
    "  clients: [{name: laptop, address: 203.0.113.10}]\n"

/* A Deployment "nginx" of 2 replicas labelled app: nginx, serving TCP port 80, as a YAML
 * document to splice into a literal. */
#define TEST_NGINX_DEPLOYMENT_YAML                                                                 \
    "apiVersion: apps/v1\n"                                                                        \
    "kind: Deployment\n"                                                                           \
    "metadata: {name: nginx}\n"                                                                    \
    "spec:\n"                                                                                      \
    "  replicas: 2\n"                                                                              \
    "  selector: {matchLabels: {app: nginx}}\n"                                                    \
    "  template:\n"                                                                                \
    "    metadata: {labels: {app: nginx}}\n"                                                       \
    "    spec: {containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]}\n"

#endif
