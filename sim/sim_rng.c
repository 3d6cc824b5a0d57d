/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic random-number streams: xoshiro256** seeded through SplitMix64.
 *
 * Stands in for the kernel's prandom_u32() (statistic match, port randomisation) and for the
 * math/rand Kubernetes components use. Each stream is derived from (seed, name): the name is
 * hashed with 64-bit FNV-1a and XORed into the seed, and SplitMix64 expands the result into the
 * four state words, as the xoshiro authors recommend. Nothing here is cryptographic.
 */
#include "sim/sim_rng.h"

/* One SplitMix64 step: advances *x and returns the next output. */
static guint64
splitmix64_next(guint64 *x)
{
    guint64 z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* 64-bit FNV-1a hash of a NUL-terminated string. */
static guint64
fnv1a64(const char *s)
{
    guint64 h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Rotates x left by k bits (0 < k < 64). */
static inline guint64
rotl(guint64 x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
sim_rng_init(SimRng *rng, guint64 seed, const char *name)
{
    g_return_if_fail(rng != NULL && name != NULL);
    guint64 x = seed ^ fnv1a64(name);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64_next(&x);
    /* SplitMix64 never yields four zero words in a row, but the all-zero state is a fixed
     * point of xoshiro, so make the invariant explicit. */
    g_assert(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]);
}

guint64
sim_rng_next(SimRng *rng)
{
    guint64 *s = rng->s;
    guint64 result = rotl(s[1] * 5, 7) * 9;
    guint64 t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

guint64
sim_rng_below(SimRng *rng, guint64 bound)
{
    g_return_val_if_fail(bound > 0, 0);
    /* Reject the lowest (2^64 mod bound) values so every residue is equally likely. */
    guint64 threshold = (0 - bound) % bound;
    for (;;) {
        guint64 r = sim_rng_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

guint32
sim_rng_u31(SimRng *rng)
{
    return (guint32)(sim_rng_next(rng) >> 33);
}

double
sim_rng_double(SimRng *rng)
{
    return (double)(sim_rng_next(rng) >> 11) * 0x1.0p-53;
}
