/* SPDX-License-Identifier: Apache-2.0 */
/* Transport protocol numbers and their names.
 *
 * Models the /etc/protocols names iptables prints ("-p tcp") and the upper-case names the
 * Kubernetes API uses ("protocol: TCP"). Only the protocols the simulator carries are known.
 */
#include "sim/sim_packet.h"

#include <string.h>

const char *
sim_proto_name(SimProto proto)
{
    switch (proto) {
    case SIM_PROTO_ICMP:
        return "icmp";
    case SIM_PROTO_TCP:
        return "tcp";
    case SIM_PROTO_UDP:
        return "udp";
    case SIM_PROTO_ICMPV6:
        return "ipv6-icmp"; /* as ip6tables-save and /etc/protocols spell it */
    case SIM_PROTO_SCTP:
        return "sctp";
    }
    return "unknown";
}

const char *
sim_proto_k8s_name(SimProto proto)
{
    switch (proto) {
    case SIM_PROTO_ICMP:
        return "ICMP";
    case SIM_PROTO_TCP:
        return "TCP";
    case SIM_PROTO_UDP:
        return "UDP";
    case SIM_PROTO_ICMPV6:
        return "ICMPv6";
    case SIM_PROTO_SCTP:
        return "SCTP";
    }
    return "UNKNOWN";
}

gboolean
sim_proto_parse(const char *text, SimProto *out)
{
    g_return_val_if_fail(text != NULL && out != NULL, FALSE);
    static const struct {
        const char *name;
        SimProto proto;
    } names[] = {
        {"tcp", SIM_PROTO_TCP},   {"udp", SIM_PROTO_UDP},          {"sctp", SIM_PROTO_SCTP},
        {"icmp", SIM_PROTO_ICMP}, {"ipv6-icmp", SIM_PROTO_ICMPV6}, {"icmpv6", SIM_PROTO_ICMPV6},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(text, names[i].name) == 0) {
            *out = names[i].proto;
            return TRUE;
        }
    }
    return FALSE;
}
