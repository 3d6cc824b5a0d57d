/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic random-number streams, one per consumer, derived from (seed, stream name).
 *
 * Models nothing real; it replaces the kernel's prandom and Kubernetes' math/rand so a scenario
 * and seed give the same result on every machine. Adding a stream never shifts another's draws.
 * The state is a plain value (SplitMix64-seeded xoshiro256**) that tests can copy and restore.
 */
#ifndef KPSIM_SIM_RNG_H
#define KPSIM_SIM_RNG_H

#include <glib.h>

typedef struct {
    guint64 s[4];
} SimRng;

/* Initialises rng for the stream named name under seed. */
void sim_rng_init(SimRng *rng, guint64 seed, const char *name);
guint64 sim_rng_next(SimRng *rng);
/* Uniform in [0, bound); bound > 0. Unbiased (rejection sampling). */
guint64 sim_rng_below(SimRng *rng, guint64 bound);
/* Uniform 31-bit value, as the kernel's statistic match draws (prandom_u32() & 0x7fffffff). */
guint32 sim_rng_u31(SimRng *rng);
/* Uniform in [0, 1) with 53 bits. */
double sim_rng_double(SimRng *rng);

#endif
