/* SPDX-License-Identifier: Apache-2.0 */
/* IP sets: named sets of addresses, address/port pairs and ports that iptables rules test with
 * `-m set --match-set NAME DIRS`, printed as `ipset list` and `ipset save` print them.
 *
 * Models the kernel's ip_set core with the five set types kube-proxy's IPVS mode creates:
 * hash:ip, hash:ip,port, hash:ip,port,ip, hash:ip,port,net (cidr in the last dimension) and
 * bitmap:port (with its range). Sets belong to an NfRuleset: a set must be created on the ruleset
 * before a rule that names it is appended (the kernel's xt_set refuses an unknown set at rule
 * load time), every rule that names a set holds a reference ("References:" in `ipset list`),
 * and the sets go away with the ruleset, so a kube-proxy sync that builds a new ruleset brings
 * its own sets. Members are written as ipset spells them: "10.96.0.1", "10.96.0.1,tcp:80",
 * "10.244.1.5,tcp:80,10.244.1.5", "1.2.3.4,tcp:80,10.0.0.0/8", "30080". A port without a
 * protocol means tcp, as ipset assumes. Left out: timeouts, counters, skbinfo, forceadd, nomatch
 * entries, hash:net and the other types, list:set, per-member comments, and the random hash
 * initval the kernel prints in the header (sets print without "bucketsize"/"initval" so that
 * output is deterministic; "Size in memory" is an estimate, see ipset_list()).
 *
 * Cost: a member lookup is one hash probe (hash:ip,port,net: one probe per distinct prefix
 * length in the set, as the kernel does); bitmap:port is a bit test.
 */
#ifndef KPSIM_SIM_IPSET_H
#define KPSIM_SIM_IPSET_H

#include <glib.h>

#include "sim/netfilter.h"
#include "sim/sim_addr.h"
#include "sim/sim_packet.h"

typedef struct Ipset Ipset;

typedef enum {
    IPSET_HASH_IP,          /* "hash:ip": one address */
    IPSET_HASH_IP_PORT,     /* "hash:ip,port": address, protocol:port */
    IPSET_HASH_IP_PORT_IP,  /* "hash:ip,port,ip": address, protocol:port, address */
    IPSET_HASH_IP_PORT_NET, /* "hash:ip,port,net": address, protocol:port, cidr */
    IPSET_BITMAP_PORT,      /* "bitmap:port": a port (any protocol) inside the set's range */
} IpsetType;

#define IPSET_ERROR (ipset_error_quark())
GQuark ipset_error_quark(void);
typedef enum {
    IPSET_ERROR_PARSE,  /* a malformed member or type name */
    IPSET_ERROR_EXISTS, /* create: the name is taken; add: the member is there already */
    IPSET_ERROR_RANGE,  /* bitmap:port: the port is outside the set's range */
    IPSET_ERROR_FAMILY, /* an address of the other family */
    IPSET_ERROR_NO_SET, /* no set of that name */
} IpsetError;

/* How a set is created: `ipset create NAME TYPE family inet hashsize H maxelem M [range A-B]
 * [comment]` (kube-proxy always passes the comment flag). */
typedef struct {
    IpsetType type;
    guint32 hashsize;   /* hash types; 0 = 1024 */
    guint32 maxelem;    /* hash types; 0 = 65536 (adding beyond it fails) */
    guint16 range_from; /* bitmap:port: the range; 0 and 0 = 0-65535 */
    guint16 range_to;
    gboolean comment; /* the set was created with the comment extension */
} IpsetSpec;

/* Creates an empty set named name on rs (family: the ruleset's), or fails with
 * IPSET_ERROR_EXISTS when the name is taken. (transfer none: owned by rs) */
Ipset *ipset_create(NfRuleset *rs, const char *name, const IpsetSpec *spec, GError **error);
/* The set of rs named name, or NULL. (transfer none) */
Ipset *ipset_lookup(const NfRuleset *rs, const char *name);
/* The number of sets on rs. */
guint ipset_count(const NfRuleset *rs);

const char *ipset_name(const Ipset *s);
IpsetType ipset_type(const Ipset *s);
/* The type's name as ipset prints it ("hash:ip,port"). */
const char *ipset_type_name(IpsetType type);
/* Parses a type name ("bitmap:port"); FALSE when it is not one of the modelled types. */
gboolean ipset_type_parse(const char *name, IpsetType *out);
/* The number of dimensions a type's members have (hash:ip 1, hash:ip,port 2, bitmap:port 1). */
guint ipset_type_dimensions(IpsetType type);
/* The number of members. */
guint ipset_size(const Ipset *s);
/* The number of rules that reference s (`ipset list`'s "References"). */
guint ipset_references(const Ipset *s);

/* Adds member, written as ipset writes it (see the file comment), like `ipset add`. Fails with
 * IPSET_ERROR_PARSE / _FAMILY / _RANGE for a member the set cannot hold and
 * IPSET_ERROR_EXISTS when it is there already (ipset's "Element cannot be added to the set: it's
 * already added"); the set is then unchanged. Adding to a set used by a ruleset that a host
 * already runs is allowed, but the host's remembered filter outcomes (net_host.c) are only
 * refreshed when the ruleset changes: build sets before installing the ruleset. */
gboolean ipset_add(Ipset *s, const char *member, GError **error);
/* Removes member (`ipset del`); FALSE when it was not there or does not parse. */
gboolean ipset_del(Ipset *s, const char *member);
/* Whether member is in s (`ipset test`); FALSE when it does not parse. */
gboolean ipset_test(const Ipset *s, const char *member);

/* Whether pkt matches s with the directions of the match `--match-set NAME d1[,d2[,d3]]`:
 * src[i] TRUE takes dimension i from the packet's source (address or port), FALSE from its
 * destination; n is the number of directions given (the kernel uses min(n, dimensions);
 * missing dimensions make the match fail, as ipset's "dimension" check does). Ports come with
 * the packet's protocol (tcp, udp, sctp); any other protocol never matches a port dimension,
 * except that bitmap:port matches TCP, UDP and SCTP ports alike. O(1). */
gboolean ipset_match(const Ipset *s, const SimPacket *pkt, const gboolean *src, guint n);

/* Appends s as `ipset list NAME` prints it:
 *   Name: KUBE-CLUSTER-IP
 *   Type: hash:ip,port
 *   Revision: 6
 *   Header: family inet hashsize 1024 maxelem 65536 comment
 *   Size in memory: 472
 *   References: 2
 *   Number of entries: 1
 *   Members:
 *   10.96.0.1,tcp:443
 * Members are sorted (addresses numerically, then protocol and port) where the kernel lists
 * hash order; revisions are those of Linux 5.15-6.x; the size is an estimate from the kernel's
 * structure sizes (it is not stable across real kernels either). */
void ipset_list(const Ipset *s, GString *out);
/* Appends every set of rs as `ipset list` does: in creation order, separated by empty lines. */
void ipset_list_all(const NfRuleset *rs, GString *out);
/* Appends every set of rs as `ipset save` prints them (what kube-proxy's `ipset restore`
 * input looks like): per set "create NAME TYPE family inet hashsize H maxelem M [comment]"
 * (bitmap:port: "create NAME bitmap:port range A-B [comment]"), then "add NAME MEMBER" lines,
 * members sorted. */
void ipset_save_all(const NfRuleset *rs, GString *out);

#endif
