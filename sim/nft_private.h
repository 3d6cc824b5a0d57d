/* SPDX-License-Identifier: Apache-2.0 */
/* What sim/nft.c (construction, evaluation) and sim/nft_print.c (listing, trace words) share:
 * the insides of tables, chains, rules and sets. Not installed.
 */
#ifndef KPSIM_NFT_PRIVATE_H
#define KPSIM_NFT_PRIVATE_H

#include "sim/nft.h"

#include "sim/netfilter_private.h"

typedef struct {
    NftKey key;
    NftVerdict value;
    char *comment; /* (nullable) */
} NftElem;

struct NftSet {
    char *name;
    NftKeyType key;
    gboolean map;
    guint timeout;   /* seconds; 0 = no timeout flag */
    gboolean dynset; /* an update statement uses it (the kernel then reports size 65535) */
    char *comment;
    GArray *elems;     /* NftElem, insertion order */
    GHashTable *index; /* NftKey* (into elems' copies) -> index + 1 */
    NftTable *table;
};

struct NftRule {
    NftChain *chain;
    char *comment;
    GArray *exprs; /* NftExpr, with owned copies of cidrs and chains */
};

struct NftChain {
    char *name;
    char *comment;
    gboolean base;
    NftChainType type;
    NfHook hook;
    int priority;
    GPtrArray *rules; /* NftRule*, owned */
    NftTable *table;
};

struct NftTable {
    SimFamily family;
    char *name, *comment;
    GPtrArray *sets;                     /* NftSet*, owned, in order added */
    GPtrArray *chains;                   /* NftChain*, owned, in order added */
    GHashTable *set_names, *chain_names; /* name -> NftSet* / NftChain* */
    GPtrArray *bases;                    /* NftChain*: the base chains, by priority (stable) */
};

#endif
