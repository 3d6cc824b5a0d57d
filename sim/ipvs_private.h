/* SPDX-License-Identifier: Apache-2.0 */
/* What sim/ipvs.c (tables and the run-time state), sim/ipvs_sched.c (schedulers) and
 * sim/ipvs_print.c (ipvsadm output) share: the insides of tables, services and the host's
 * per-service and per-destination records. Not installed.
 */
#ifndef KPSIM_IPVS_PRIVATE_H
#define KPSIM_IPVS_PRIVATE_H

#include "sim/ipvs.h"

/* A service's identity, as the kernel hashes it (ip_vs_svc_hashkey: protocol, address, port). */
typedef struct {
    SimAddr addr;
    guint16 port;
    guint8 proto;
} IpvsKey;

/* A real server as a table configures it. */
typedef struct {
    SimSockAddr addr;
    guint32 weight;
} IpvsDestCfg;

struct IpvsService {
    IpvsServiceSpec spec;
    IpvsKey key;
    GArray *dests;       /* IpvsDestCfg in the order added; the kernel's list is the reverse */
    GHashTable *by_addr; /* SimSockAddr* (into a copy) -> index + 1 in dests */
    IpvsTable *table;
};

struct IpvsTable {
    SimFamily family;
    gboolean graceful;
    GPtrArray *services;   /* IpvsService*, owned, in the order added */
    GHashTable *by_key;    /* IpvsKey* (the service's) -> IpvsService* */
    GArray *local;         /* SimAddr bound to the dummy interface, in the order added */
    GHashTable *local_set; /* SimAddr* (into a private copy) -> itself */
};

typedef struct IpvsSvcState IpvsSvcState;

/* A destination in the host's state (struct ip_vs_dest): lives while its service lists it, and
 * after that while connections or persistence templates still point at it (the kernel's
 * trash). */
typedef struct {
    SimSockAddr addr;
    guint32 weight;
    guint32 active, inactive;
    guint refs;        /* connections + templates pointing here */
    gboolean listed;   /* in its service's destination list */
    gboolean drain;    /* kept with weight 0 for graceful removal: delete at 0 conns */
    guint idx;         /* position in its service's list while listed */
    IpvsSvcState *svc; /* (nullable) NULL once it left its service */
} IpvsDestState;

/* A persistence template (the kernel's connection template with cport 0). */
typedef struct {
    SimAddr client;      /* masked */
    IpvsDestState *dest; /* holds a ref */
    SimTime expires;
    SimTime zero_since; /* when n_control last became 0 */
    guint n_control;    /* connections created through it that still live */
} IpvsTemplate;

struct IpvsSvcState {
    IpvsKey key;
    IpvsServiceSpec spec;
    GPtrArray *dests;      /* IpvsDestState*, the kernel's list order (head first) */
    GArray *sd;            /* IpvsSchedDest mirror of dests, what the scheduler reads */
    GHashTable *by_addr;   /* SimSockAddr* (the dest's) -> IpvsDestState* */
    GHashTable *templates; /* SimAddr* (the template's) -> IpvsTemplate*, owned */
    IpvsSchedState sched;
    guint sync_mark; /* the state's sync round that last saw it configured */
};

/* GHashFunc / GEqualFunc over IpvsKey. */
guint ipvs_key_hash(gconstpointer p);
gboolean ipvs_key_equal(gconstpointer a, gconstpointer b);
/* GHashFunc / GEqualFunc over SimSockAddr. */
guint ipvs_sockaddr_hash(gconstpointer p);
gboolean ipvs_sockaddr_equal(gconstpointer a, gconstpointer b);
/* The key of a service spec. */
void ipvs_key_from_spec(const IpvsServiceSpec *spec, IpvsKey *out);

/* The host state's destination record of real server rs of the service with key, or NULL
 * (ipvs.c, for the printer). */
const IpvsDestState *ipvs_state_find_dest(const IpvsState *st, const IpvsKey *key,
                                          const SimSockAddr *rs);
/* The host state's service record with key, or NULL (ipvs.c, for the printer). */
const IpvsSvcState *ipvs_state_find_service(const IpvsState *st, const IpvsKey *key);

#endif
