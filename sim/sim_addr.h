/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 and IPv6 addresses, CIDR prefixes and address:port pairs as plain values.
 *
 * Models the kernel's view of an address (struct in_addr / in6_addr) and of a prefix as used by
 * routes and iptables -s/-d. Parsing accepts what `ip` and `iptables` accept for literal
 * addresses; host names are out of scope.
 */
#ifndef KPSIM_SIM_ADDR_H
#define KPSIM_SIM_ADDR_H

#include <glib.h>

typedef enum {
    SIM_AF_NONE = 0,
    SIM_AF_INET = 4,
    SIM_AF_INET6 = 6,
} SimFamily;

/* An address. IPv4 lives in b[0..3] in network order; the rest is zero. */
typedef struct {
    guint8 family; /* SimFamily */
    guint8 b[16];
} SimAddr;

/* A prefix; host bits of addr are always zero after sim_cidr_parse(). */
typedef struct {
    SimAddr addr;
    guint8 prefix;
} SimCidr;

/* An address with a port (a socket address). */
typedef struct {
    SimAddr addr;
    guint16 port;
} SimSockAddr;

#define SIM_ADDR_STRLEN 48   /* enough for any IPv6 text form plus NUL */
#define SIM_CIDR_STRLEN 52   /* address + "/128" */
#define SIM_SOCKADDR_STRLEN 56 /* "[v6]:65535" */

/* Parses a literal IPv4 or IPv6 address. Leading/trailing spaces are not accepted. */
gboolean sim_addr_parse(const char *text, SimAddr *out);
/* Parses "ADDR/PREFIX" or a bare address (a host prefix). Host bits are cleared, as iptables and
 * the kernel do. Returns FALSE on a malformed text or a prefix out of range. */
gboolean sim_cidr_parse(const char *text, SimCidr *out);
/* Parses "IP:PORT" or "[IPv6]:PORT". When port_optional is TRUE a bare address is accepted and
 * gets port 0. */
gboolean sim_sockaddr_parse(const char *text, SimSockAddr *out, gboolean port_optional);

/* Text forms: canonical (RFC 5952 for IPv6). Each writes into buf and returns it. */
const char *sim_addr_to_string(const SimAddr *a, char *buf);
const char *sim_cidr_to_string(const SimCidr *c, char *buf);
/* "10.1.0.5:80" or "[fd00::5]:80", the way kube-proxy writes endpoints. */
const char *sim_sockaddr_to_string(const SimSockAddr *s, char *buf);

gboolean sim_addr_equal(const SimAddr *a, const SimAddr *b);
/* Total order: IPv4 before IPv6, then bytewise. */
int sim_addr_compare(const SimAddr *a, const SimAddr *b);
/* GHashFunc/GEqualFunc over SimAddr pointers. */
guint sim_addr_hash(gconstpointer a);
gboolean sim_addr_equal_func(gconstpointer a, gconstpointer b);

gboolean sim_cidr_contains(const SimCidr *c, const SimAddr *a);
/* A host prefix (/32 or /128) for a. */
void sim_cidr_from_addr(const SimAddr *a, SimCidr *out);
gboolean sim_cidr_is_host(const SimCidr *c);
/* Number of addresses in the prefix, saturated at G_MAXUINT64. */
guint64 sim_cidr_size(const SimCidr *c);
/* The address at offset inside c (offset 0 = the network address). FALSE when past the end. */
gboolean sim_cidr_nth(const SimCidr *c, guint64 offset, SimAddr *out);
/* Offset of a inside c; c must contain a. */
guint64 sim_cidr_offset(const SimCidr *c, const SimAddr *a);

gboolean sim_addr_is_loopback(const SimAddr *a);
gboolean sim_addr_is_unspecified(const SimAddr *a);
void sim_addr_from_ipv4(guint32 host_order, SimAddr *out);
/* The IPv4 address in host order; a must be IPv4. */
guint32 sim_addr_ipv4(const SimAddr *a);

#endif
