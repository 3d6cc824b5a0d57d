/* SPDX-License-Identifier: Apache-2.0 */
/* Transport protocols and the header fields netfilter looks at.
 *
 * Models the parts of an skb that iptables matches read: addresses, protocol, ports, TCP flags
 * and the firewall mark. Payload bytes and checksums come later, with pcap capture.
 */
#ifndef KPSIM_SIM_PACKET_H
#define KPSIM_SIM_PACKET_H

#include "sim/sim_addr.h"

typedef enum {
    SIM_PROTO_ICMP = 1,
    SIM_PROTO_TCP = 6,
    SIM_PROTO_UDP = 17,
    SIM_PROTO_ICMPV6 = 58,
    SIM_PROTO_SCTP = 132,
} SimProto;

/* TCP flag bits as on the wire. */
#define SIM_TCP_FIN 0x01
#define SIM_TCP_SYN 0x02
#define SIM_TCP_RST 0x04
#define SIM_TCP_PSH 0x08
#define SIM_TCP_ACK 0x10

typedef struct {
    SimSockAddr src;
    SimSockAddr dst;
    guint8 proto;     /* SimProto */
    guint8 tcp_flags; /* SIM_TCP_* when proto is TCP */
    guint32 mark;     /* skb->mark */
    guint32 length;   /* bytes of the IP datagram */
    guint32 seq, ack; /* TCP sequence and acknowledgement numbers */
    guint32 payload;  /* bytes of transport payload */
} SimPacket;

/* Lowercase name as iptables prints it ("tcp", "udp", "sctp", "icmp"). */
const char *sim_proto_name(SimProto proto);
/* Uppercase name as Kubernetes writes it ("TCP", "UDP", "SCTP"). */
const char *sim_proto_k8s_name(SimProto proto);
/* Parses "tcp", "TCP", "udp", "sctp" (any case). */
gboolean sim_proto_parse(const char *text, SimProto *out);

#endif
