/* SPDX-License-Identifier: Apache-2.0 */
/* Bitmap allocators with a static and a dynamic band, for Service IPs and node ports.
 *
 * Models kube-apiserver's pkg/registry/core/service/allocator (bitmap.go with the
 * randomScanStrategyWithOffset of KEP-3070 and KEP-3668) and the two allocators built on it:
 * ipallocator (one bitmap per Service CIDR, without the network and IPv4 broadcast addresses) and
 * portallocator (--service-node-port-range). Dynamic allocation picks a random start in the upper
 * ("dynamic") band and scans upward with wrap-around, and only when that band is full does the
 * same in the lower ("static") band; explicit requests may use any member of the range. What is
 * left out: etcd persistence, the repair loops, and ranges larger than ALLOC_MAX_BITS members
 * (the apiserver refuses Service CIDRs with more than 20 host bits; kpsim uses the first 2^20
 * addresses of a larger one).
 *
 * AllocServices puts them together as the Service registry's Allocators (storage/alloc.go) do:
 * ipFamilies/ipFamilyPolicy defaulting, clusterIPs per family, nodePorts with the shared-port
 * rule, healthCheckNodePorts, each error worded as kubectl shows it.
 *
 * Ownership: each allocator owns its bitmap; nothing here keeps a pointer to caller data.
 */
#ifndef KPSIM_ALLOCATOR_H
#define KPSIM_ALLOCATOR_H

#include <glib.h>
#include "sim/sim_addr.h"
#include "sim/sim_rng.h"
#include "model/k8s.h"

/* The largest bitmap an allocator keeps (2^20 members, as a /12 IPv4 Service CIDR). */
#define ALLOC_MAX_BITS (G_GUINT64_CONSTANT(1) << 20)

/* The outcome of a request, named after the apiserver's allocator errors. */
typedef enum {
    ALLOC_OK,
    ALLOC_NOT_IN_RANGE,      /* ErrNotInRange */
    ALLOC_ALREADY_ALLOCATED, /* ErrAllocated */
    ALLOC_FULL,              /* ErrFull */
} AllocResult;

/* ---------------------------------------------------------------- the banded bitmap */

typedef struct AllocBitmap AllocBitmap;

/* A bitmap of size members (at most ALLOC_MAX_BITS) whose members [0, offset) form the static
 * band; offset must be smaller than size unless both are 0. (transfer full) */
AllocBitmap *alloc_bitmap_new(guint64 size, guint64 offset);
void alloc_bitmap_free(AllocBitmap *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AllocBitmap, alloc_bitmap_free)

guint64 alloc_bitmap_size(const AllocBitmap *b);
/* The number of members taken. */
guint64 alloc_bitmap_used(const AllocBitmap *b);
gboolean alloc_bitmap_is_set(const AllocBitmap *b, guint64 i);
/* Takes member i (i < size); FALSE when it is already taken. */
gboolean alloc_bitmap_allocate(AllocBitmap *b, guint64 i);
/* Takes a free member the way the apiserver's AllocateNext does: random start in the dynamic
 * band, upward scan with wrap-around, then the same in the static band. Draws one value from rng
 * per band it looks at. FALSE when the bitmap is full. Cost: O(size / 64) at worst. */
gboolean alloc_bitmap_allocate_next(AllocBitmap *b, SimRng *rng, guint64 *out);
/* Frees member i (a no-op when it is free). */
void alloc_bitmap_release(AllocBitmap *b, guint64 i);

/* KEP-3668's static band of a node-port range: min(max(16, size/32), 128), 0 when size <= 16. */
guint64 alloc_port_band_offset(guint64 size);
/* KEP-3070's static band of a Service CIDR with cidr_size addresses: min(max(16, size/16), 256),
 * 0 when cidr_size <= 16. */
guint64 alloc_ip_band_offset(guint64 cidr_size);

/* ---------------------------------------------------------------- node ports */

typedef struct AllocPorts AllocPorts;

/* A port allocator over low-high inclusive (low <= high), with its band. (transfer full) */
AllocPorts *alloc_ports_new(guint16 low, guint16 high);
void alloc_ports_free(AllocPorts *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AllocPorts, alloc_ports_free)

/* Reserves a given port: ALLOC_OK, ALLOC_NOT_IN_RANGE or ALLOC_ALREADY_ALLOCATED. */
AllocResult alloc_ports_allocate(AllocPorts *p, guint port);
/* Allocates a free port into *out: ALLOC_OK or ALLOC_FULL. */
AllocResult alloc_ports_allocate_next(AllocPorts *p, SimRng *rng, guint16 *out);
gboolean alloc_ports_is_allocated(const AllocPorts *p, guint port);
void alloc_ports_release(AllocPorts *p, guint port);
/* "30000-32767", as the apiserver prints the range. (transfer none) */
const char *alloc_ports_range_string(const AllocPorts *p);

/* ---------------------------------------------------------------- Service IPs */

typedef struct AllocIps AllocIps;

/* An IP allocator over cidr: every address but the network address (and, for IPv4, the
 * broadcast address). (transfer full) */
AllocIps *alloc_ips_new(const SimCidr *cidr);
void alloc_ips_free(AllocIps *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AllocIps, alloc_ips_free)

/* The CIDR the allocator hands out. (transfer none) */
const SimCidr *alloc_ips_cidr(const AllocIps *r);
/* Reserves a given address: ALLOC_OK, ALLOC_NOT_IN_RANGE or ALLOC_ALREADY_ALLOCATED. */
AllocResult alloc_ips_allocate(AllocIps *r, const SimAddr *ip);
/* Allocates a free address into *out: ALLOC_OK or ALLOC_FULL. */
AllocResult alloc_ips_allocate_next(AllocIps *r, SimRng *rng, SimAddr *out);
void alloc_ips_release(AllocIps *r, const SimAddr *ip);

/* ---------------------------------------------------------------- Services */

#define ALLOC_ERROR (alloc_error_quark())
GQuark alloc_error_quark(void);
typedef enum {
    ALLOC_ERROR_INVALID,  /* HTTP 422: "The Service \"x\" is invalid: ..." */
    ALLOC_ERROR_INTERNAL, /* HTTP 500: "Internal error occurred: ..." (a range is full) */
} AllocError;

typedef struct AllocServices AllocServices;

/* The allocators of a cluster: one IP allocator per Service CIDR (SimCidr array, the first CIDR
 * gives the default family) and one node-port bitmap over node_port_low-node_port_high. Random
 * picks come from the streams "apiserver/clusterip" and "apiserver/nodeport" of seed.
 * (transfer full) */
AllocServices *alloc_services_new(const GArray *service_cidrs, guint16 node_port_low,
                                  guint16 node_port_high, guint64 seed);
void alloc_services_free(AllocServices *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AllocServices, alloc_services_free)

/* The node-port allocator (for range checks and tests). (transfer none) */
AllocPorts *alloc_services_node_ports(AllocServices *a);

/* First half of creating svc: validates and defaults ipFamilyPolicy/ipFamilies (writing the
 * result back into svc), and reserves every clusterIP, nodePort and healthCheckNodePort svc
 * holds. Reserving all Services' stated values before any dynamic allocation means a random
 * pick never takes a value that a later manifest asks for. On a Service that was allocated
 * before, it re-reserves what the Service holds, which rebuilds an allocator's state from
 * existing Services (the apiserver's repair loop). Errors are "FILE:LINE:COL: error: ..." at the
 * offending field. */
gboolean alloc_services_reserve(AllocServices *a, K8sService *svc, GError **error);
/* Second half: allocates the clusterIPs, nodePorts and healthCheckNodePort svc still lacks.
 * Call after alloc_services_reserve() succeeded for svc. */
gboolean alloc_services_allocate(AllocServices *a, K8sService *svc, GError **error);
/* Gives back everything svc holds (its clusterIPs, nodePorts and healthCheckNodePort). */
void alloc_services_release(AllocServices *a, const K8sService *svc);

#endif
