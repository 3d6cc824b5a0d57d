/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: kpsim trace on loaded scenarios.
 *
 * A few scenarios (the seed example, its Local variant, a load balancer with source ranges and
 * two of kube-proxy's own test set-ups, with IPv6, then nftables and IPVS mode set-ups) are
 * loaded once. The input picks a scenario,
 * a node, a protocol, and a source and a destination: an address of the cluster (node, pod,
 * ClusterIP, external or load-balancer IP, loopback) with one of its Service ports, raw IPv4 or
 * IPv6 bytes with any port, or (through the command) raw text for --from/--to. It then runs the
 * probe engine directly and checks its result (endpoints sorted and unique, branches present),
 * or runs `kpsim trace` itself, in text or --json, and checks that it either succeeds with
 * well-formed output (JSON that parses and has a verdict) or fails with a usage error.
 */
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/loader.h"
#include "model/probe.h"
#include "tests/fuzz/fuzz.h"
#include "tools/cli.h"

static const char *const fuzz_trace_files[] = {
    "scenarios/seed-nginx-nodeport.yaml",
    "scenarios/seed-nginx-nodeport-local.yaml",
    "scenarios/lb-source-ranges-nodeport.yaml",
    "tests/conformance/kube-proxy/iptables-testtracepacket.yaml",
    "tests/conformance/kube-proxy/iptables-testexternaltrafficpolicylocal.yaml",
    "scenarios/seed-nginx-nodeport-nft.yaml",
    "scenarios/mode-differences.yaml",
    "scenarios/seed-nginx-nodeport-ipvs.yaml",
    "scenarios/mode-differences-ipvs.yaml",
    "tests/conformance/ipvs/ipvs-testexternaltrafficpolicylocal.yaml",
    "tests/fuzz/trace-generated.yaml",
};
#define FUZZ_TRACE_N G_N_ELEMENTS(fuzz_trace_files)

/* One loaded scenario and the addresses and ports worth aiming at in it. */
typedef struct {
    char *path;
    Scenario *sc;
    Cluster *cluster;
    GArray *addrs; /* SimAddr */
    GArray *ports; /* guint16 */
} FuzzTraceScenario;

static FuzzTraceScenario fuzz_trace_scenarios[FUZZ_TRACE_N];

/* Adds the addresses and ports of svc to s. */
static void
fuzz_trace_add_service(FuzzTraceScenario *s, const K8sService *svc)
{
    g_array_append_vals(s->addrs, svc->cluster_ips->data, svc->cluster_ips->len);
    g_array_append_vals(s->addrs, svc->external_ips->data, svc->external_ips->len);
    for (guint i = 0; svc->lb_ingress != NULL && i < svc->lb_ingress->len; i++) {
        const K8sLoadBalancerIngress *in = svc->lb_ingress->pdata[i];
        if (in->ip.family != SIM_AF_NONE)
            g_array_append_val(s->addrs, in->ip);
    }
    for (guint i = 0; i < svc->ports->len; i++) {
        const K8sServicePort *sp = svc->ports->pdata[i];
        g_array_append_val(s->ports, sp->port);
        g_array_append_val(s->ports, sp->node_port);
        g_array_append_val(s->ports, sp->target_port);
    }
    if (svc->health_check_node_port != 0)
        g_array_append_val(s->ports, svc->health_check_node_port);
}

/* Collects the interesting addresses and ports of a built cluster. */
static void
fuzz_trace_collect(FuzzTraceScenario *s)
{
    static const char *const extra[] = {"127.0.0.1", "::1", "203.0.113.10", "0.0.0.0", "::"};
    s->addrs = g_array_new(FALSE, TRUE, sizeof(SimAddr));
    s->ports = g_array_new(FALSE, TRUE, sizeof(guint16));
    for (guint i = 0; i < s->cluster->nodes->len; i++) {
        const K8sNode *n = s->cluster->nodes->pdata[i];
        g_array_append_vals(s->addrs, n->addresses->data, n->addresses->len);
    }
    for (guint i = 0; i < s->cluster->pods->len; i++) {
        const K8sPod *p = s->cluster->pods->pdata[i];
        if (p->ip.family != SIM_AF_NONE)
            g_array_append_val(s->addrs, p->ip);
    }
    for (guint i = 0; i < s->cluster->services->len; i++)
        fuzz_trace_add_service(s, s->cluster->services->pdata[i]);
    for (guint i = 0; i < G_N_ELEMENTS(extra); i++) {
        SimAddr a;
        if (sim_addr_parse(extra[i], &a))
            g_array_append_val(s->addrs, a);
    }
    guint16 p = 40000;
    g_array_append_val(s->ports, p);
}

/* Frees the loaded scenarios (atexit), so that leak checkers see a clean exit. */
static void
fuzz_trace_cleanup(void)
{
    for (guint i = 0; i < FUZZ_TRACE_N; i++) {
        FuzzTraceScenario *s = &fuzz_trace_scenarios[i];
        g_clear_pointer(&s->cluster, cluster_free);
        g_clear_pointer(&s->sc, scenario_free);
        g_clear_pointer(&s->addrs, g_array_unref);
        g_clear_pointer(&s->ports, g_array_unref);
        g_clear_pointer(&s->path, g_free);
    }
}

/* Loads the scenarios once. */
static void
fuzz_trace_setup(void)
{
    if (fuzz_trace_scenarios[0].cluster != NULL)
        return;
    fuzz_init();
    for (guint i = 0; i < FUZZ_TRACE_N; i++) {
        FuzzTraceScenario *s = &fuzz_trace_scenarios[i];
        GError *error = NULL;
        s->path = g_build_filename(KPSIM_SRCDIR, fuzz_trace_files[i], NULL);
        s->sc = loader_load_scenario(s->path, &error);
        if (s->sc != NULL)
            s->cluster = cluster_build(s->sc, &error);
        if (s->cluster == NULL) {
            fprintf(stderr, "fuzz_trace: %s\n", error->message);
            abort();
        }
        fuzz_trace_collect(s);
    }
    atexit(fuzz_trace_cleanup);
}

/* ------------------------------------------------------------------ picking from the input */

/* Reads an address and a port: one of s's (selector 0), raw IPv4 (1) or IPv6 (2) bytes. */
static void
fuzz_trace_sockaddr(FuzzInput *in, const FuzzTraceScenario *s, guint selector, SimSockAddr *out)
{
    memset(out, 0, sizeof *out);
    switch (selector % 3) {
    case 0:
        out->addr = g_array_index(s->addrs, SimAddr, fuzz_u8(in) % s->addrs->len);
        out->port = g_array_index(s->ports, guint16, fuzz_u8(in) % s->ports->len);
        return;
    case 1:
        out->addr.family = SIM_AF_INET;
        for (guint i = 0; i < 4; i++)
            out->addr.b[i] = fuzz_u8(in);
        break;
    default:
        out->addr.family = SIM_AF_INET6;
        for (guint i = 0; i < 16; i++)
            out->addr.b[i] = fuzz_u8(in);
        break;
    }
    out->port = fuzz_u16(in);
}

/* A protocol a probe can carry: TCP, UDP or SCTP. */
static SimProto
fuzz_trace_proto(guint8 b)
{
    static const SimProto protos[] = {SIM_PROTO_TCP, SIM_PROTO_UDP, SIM_PROTO_SCTP};
    return protos[b % 3];
}

/* ------------------------------------------------------------------ checking */

/* Aborts unless p is a consistent probe result. */
static void
fuzz_trace_check_probe(const Probe *p)
{
    for (guint i = 1; p->endpoints != NULL && i < p->endpoints->len; i++) {
        const SimSockAddr *a = &g_array_index(p->endpoints, SimSockAddr, i - 1);
        const SimSockAddr *b = &g_array_index(p->endpoints, SimSockAddr, i);
        int c = sim_addr_compare(&a->addr, &b->addr);
        if (c > 0 || (c == 0 && a->port >= b->port)) {
            fprintf(stderr, "fuzz_trace: endpoints not sorted and unique\n");
            abort();
        }
    }
    if (p->branches == NULL || p->branches->len == 0 || p->ruleset == NULL) {
        fprintf(stderr, "fuzz_trace: a probe without branches or ruleset\n");
        abort();
    }
}

/* Runs the probe engine directly. */
static void
fuzz_trace_probe(const FuzzTraceScenario *s, const K8sNode *node, const SimSockAddr *from,
                 const SimSockAddr *to, SimProto proto)
{
    GError *error = NULL;
    g_autoptr(Probe) p = probe_run(s->cluster, node, from, to, proto, &error);
    if (p == NULL) {
        if (error == NULL || error->message == NULL || error->message[0] == '\0')
            abort();
        g_error_free(error);
        return;
    }
    fuzz_trace_check_probe(p);
}

/* Aborts unless text is the JSON contract of kpsim trace: an object with a string verdict. */
static void
fuzz_trace_check_json(const char *text, gsize len)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *error = NULL;
    if (!json_parser_load_from_data(parser, text, (gssize)len, &error)) {
        fprintf(stderr, "fuzz_trace: --json output does not parse: %s\n", error->message);
        abort();
    }
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
                                                                 : NULL;
    if (o == NULL || json_object_get_string_member_with_default(o, "verdict", NULL) == NULL) {
        fprintf(stderr, "fuzz_trace: --json output has no verdict\n");
        abort();
    }
}

/* Runs `kpsim trace` with args (NULL-terminated; a copy is passed, as the option parser
 * reorders it), stdout going to a file. Returns (transfer full) what it printed, its length in
 * *len and its exit status in *status. */
static char *
fuzz_trace_run_command(const GPtrArray *args, gsize *len, int *status)
{
    g_autofree char *out_path = g_build_filename(fuzz_init(), "trace.out", NULL);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
        abort();
    close(fd);
    g_autofree char **argv = g_memdup2(args->pdata, sizeof(char *) * args->len);
    *status = cmd_trace_entry.run((int)args->len - 1, argv);
    fflush(stdout);
    if (dup2(saved, STDOUT_FILENO) < 0)
        abort();
    close(saved);
    char *text = NULL;
    if (!g_file_get_contents(out_path, &text, len, NULL))
        abort();
    return text;
}

/* Runs `kpsim trace` with args and checks the outcome: success with output (JSON that parses
 * when json), or a usage error with none; and the same bytes and status with --whole-cluster
 * (the focused build must never change what a trace says). */
static void
fuzz_trace_command(GPtrArray *args, gboolean json)
{
    gsize len = 0, whole_len = 0;
    int status, whole_status;
    g_autofree char *text = fuzz_trace_run_command(args, &len, &status);
    if (status == KPSIM_EXIT_OK && len > 0 && g_str_has_prefix(text, "Usage:"))
        return; /* an argument GOption reads as --help, e.g. "--node -h" */
    if (status == KPSIM_EXIT_OK && len > 0 && json)
        fuzz_trace_check_json(text, len);
    else if (status == KPSIM_EXIT_OK ? len == 0 : status != KPSIM_EXIT_USAGE || len > 0) {
        fprintf(stderr, "fuzz_trace: kpsim trace exited %d with %zu bytes of output\n", status,
                (size_t)len);
        abort();
    }
    g_ptr_array_insert(args, (gint)args->len - 1, g_strdup("--whole-cluster"));
    g_autofree char *whole = fuzz_trace_run_command(args, &whole_len, &whole_status);
    if (whole_status != status || whole_len != len || memcmp(whole, text, len) != 0) {
        fprintf(stderr, "fuzz_trace: kpsim trace and --whole-cluster differ (%d, %zu bytes / %d, "
                "%zu bytes):\n%s\n--- whole cluster:\n%s\n", status, (size_t)len, whole_status,
                (size_t)whole_len, text, whole);
        abort();
    }
}

/* The text of an address for --from/--to: raw input text (selector 3) or a picked address. */
static char *
fuzz_trace_address_text(FuzzInput *in, const FuzzTraceScenario *s, guint selector)
{
    if (selector % 4 == 3)
        return fuzz_string(in, 64);
    SimSockAddr sa;
    fuzz_trace_sockaddr(in, s, selector, &sa);
    char buf[SIM_SOCKADDR_STRLEN];
    return g_strdup(sim_sockaddr_to_string(&sa, buf));
}

/* Runs the command on s with parameters from the input. */
static void
fuzz_trace_cli(FuzzInput *in, const FuzzTraceScenario *s, const K8sNode *node, guint8 mode)
{
    static const char *const protos[] = {"tcp", "udp", "sctp", "UDP", "icmp", "bogus"};
    g_autofree char *from = fuzz_trace_address_text(in, s, mode >> 2);
    g_autofree char *to = fuzz_trace_address_text(in, s, mode >> 4);
    gboolean json = (mode & 1) != 0;
    const char *proto = protos[fuzz_u8(in) % G_N_ELEMENTS(protos)];
    char *node_name = (mode & 0x40) ? fuzz_string(in, 32) : g_strdup(node->name);
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    const char *fixed[] = {"trace", s->path, "--node", NULL, "--from", NULL, "--to", NULL,
                           "--proto", proto, json ? "--json" : NULL};
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        if (fixed[i] != NULL)
            g_ptr_array_add(args, g_strdup(fixed[i]));
    g_ptr_array_insert(args, 3, node_name);
    g_ptr_array_insert(args, 5, g_steal_pointer(&from));
    g_ptr_array_insert(args, 7, g_steal_pointer(&to));
    g_ptr_array_add(args, NULL);
    fuzz_trace_command(args, json);
}

/* See fuzz.h. Layout: scenario, node, protocol, mode (bit 1: through the command; bits 2-7:
 * how the source and destination are picked), then the picks' bytes. */
int
fuzz_trace_one(const guint8 *data, gsize size)
{
    fuzz_trace_setup();
    FuzzInput in = {data, size};
    const FuzzTraceScenario *s = &fuzz_trace_scenarios[fuzz_u8(&in) % FUZZ_TRACE_N];
    const K8sNode *node = s->cluster->nodes->pdata[fuzz_u8(&in) % s->cluster->nodes->len];
    SimProto proto = fuzz_trace_proto(fuzz_u8(&in));
    guint8 mode = fuzz_u8(&in);
    if (mode & 2) {
        fuzz_trace_cli(&in, s, node, mode);
        return 0;
    }
    SimSockAddr from, to;
    fuzz_trace_sockaddr(&in, s, mode >> 2, &from);
    fuzz_trace_sockaddr(&in, s, mode >> 4, &to);
    fuzz_trace_probe(s, node, &from, &to, proto);
    return 0;
}

#ifdef KPSIM_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_trace_one(data, size);
}
#endif
