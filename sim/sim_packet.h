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

/* ICMP types and codes the simulator sends: destination unreachable (RFC 792, RFC 4443). */
#define SIM_ICMP_DEST_UNREACH 3
#define SIM_ICMP_NET_UNREACH 0
#define SIM_ICMP_HOST_UNREACH 1
#define SIM_ICMP_PROT_UNREACH 2
#define SIM_ICMP_PORT_UNREACH 3
#define SIM_ICMP_NET_ANO 9     /* icmp-net-prohibited */
#define SIM_ICMP_HOST_ANO 10   /* icmp-host-prohibited */
#define SIM_ICMP_PKT_FILTERED 13 /* icmp-admin-prohibited */
#define SIM_ICMPV6_DEST_UNREACH 1
#define SIM_ICMPV6_NOROUTE 0
#define SIM_ICMPV6_ADM_PROHIBITED 1
#define SIM_ICMPV6_ADDR_UNREACH 3
#define SIM_ICMPV6_PORT_UNREACH 4
#define SIM_ICMPV6_POLICY_FAIL 5
#define SIM_ICMPV6_REJECT_ROUTE 6

/* The part of an offending datagram an ICMP error quotes: its IP header and the first 8 bytes of
 * its transport header (ports, and the TCP sequence number). A plain value. */
typedef struct {
    SimSockAddr src;
    SimSockAddr dst;
    guint8 proto;   /* SimProto */
    guint8 ttl;     /* TTL / hop limit it arrived with (0 means the default, 64) */
    guint16 ip_id;  /* its IPv4 identification */
    guint16 length; /* its total datagram length (IPv6: header included) */
    guint32 seq;    /* TCP: its sequence number */
} SimPacketQuote;

typedef struct {
    SimSockAddr src;
    SimSockAddr dst;
    guint8 proto;     /* SimProto */
    guint8 tcp_flags; /* SIM_TCP_* when proto is TCP */
    guint32 mark;     /* skb->mark */
    guint32 length;   /* bytes of the IP datagram */
    guint32 seq, ack; /* TCP sequence and acknowledgement numbers */
    guint32 payload;  /* bytes of transport payload */
    /* Added with the run-time datapath (sim/net.c). Zero-initialised packets keep the old
     * meaning: default TTL, identification 0, no ICMP. */
    guint16 ip_id;    /* IPv4 identification the sender chose; forwarders and NAT keep it */
    guint8 ttl;       /* TTL / hop limit as the packet travels (0 = not yet set: 64) */
    guint8 icmp_type; /* ICMP / ICMPv6: the message type (only error messages are modelled) */
    guint8 icmp_code; /* ... and its code */
    SimPacketQuote quote; /* ICMP errors: the datagram that caused the error */
} SimPacket;

/* Lowercase name as iptables prints it ("tcp", "udp", "sctp", "icmp"). */
const char *sim_proto_name(SimProto proto);
/* Uppercase name as Kubernetes writes it ("TCP", "UDP", "SCTP"). */
const char *sim_proto_k8s_name(SimProto proto);
/* Parses "tcp", "TCP", "udp", "sctp" (any case). */
gboolean sim_proto_parse(const char *text, SimProto *out);

#endif
