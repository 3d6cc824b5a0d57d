/* SPDX-License-Identifier: Apache-2.0 */
/* kube-proxy's chain-name hashes: SHA-256 of a service-port name, a protocol and optionally an
 * endpoint, encoded in base32 and cut to 16 characters.
 *
 * Models portProtoHash() and servicePortEndpointChainName() of pkg/proxy/iptables/proxier.go:
 * sha256.Sum256([]byte(servicePortName + protocol [+ endpoint])) encoded with Go's
 * base32.StdEncoding (RFC 4648, uppercase alphabet A-Z2-7), of which only the first 16
 * characters are kept so that "KUBE-SEP-" + hash fits iptables' 28-character chain names.
 * Sixteen base32 characters are exactly the first 10 digest bytes, so padding never occurs.
 *
 * SHA-256 itself is a plain FIPS 180-4 implementation on the stack: GChecksum allocated and
 * hex-formatted for every name, and a 10,000-Service node names 10,000+ chains per render. On
 * x86-64 processors with the SHA extensions its block function is those instructions
 * (sha256rnds2 does two rounds, sha256msg1/2 extend the schedule): the 160,000 KUBE-SEP names of
 * the 5,000-node cluster were a fifth of rendering one node's rules with the portable one.
 */
#include "model/kube_proxy.h"
#include "model/kube_proxy_private.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define KP_SHA_NI 1
#endif

#define KP_HASH_CHARS 16
#define KP_HASH_BYTES 10 /* 16 characters x 5 bits = 80 bits */

/* ---------------------------------------------------------------- SHA-256 (FIPS 180-4) */

typedef struct KpSha256 KpSha256;

/* Processes one 64-byte block into s->h (FIPS 180-4 section 6.2.2, steps 2-4). */
typedef void (*KpSha256Compress)(KpSha256 *s, const guint8 *block);

/* A running SHA-256 computation (on the caller's stack): the block function, the hash state H,
 * the pending partial block and the message length so far. */
struct KpSha256 {
    KpSha256Compress compress;
    guint32 h[8];
    guint8 block[64];
    gsize used;    /* bytes pending in block, 0..63 */
    guint64 bytes; /* message length so far */
};

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes. */
static const guint32 kp_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* x rotated right by n bits (0 < n < 32). */
static inline guint32
kp_ror(guint32 x, guint n)
{
    return (x >> n) | (x << (32 - n));
}

/* Fills the message schedule W[0..63] from the big-endian 64-byte block (section 6.2.2,
 * step 1). */
static void
kp_sha256_schedule(const guint8 *block, guint32 w[64])
{
    for (guint t = 0; t < 16; t++)
        w[t] = (guint32)block[4 * t] << 24 | (guint32)block[4 * t + 1] << 16 |
               (guint32)block[4 * t + 2] << 8 | (guint32)block[4 * t + 3];
    for (guint t = 16; t < 64; t++) {
        guint32 s0 = kp_ror(w[t - 15], 7) ^ kp_ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
        guint32 s1 = kp_ror(w[t - 2], 17) ^ kp_ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
}

/* One round of section 6.2.2 step 3 on the working variables named in their current roles:
 * instead of shifting all eight (h = g, g = f, ...), the caller rotates the names, and the round
 * only writes the two that change (d += T1, h = T1 + T2). Ch and Maj in their fewer-operation
 * equivalent forms. */
#define KP_SHA256_ROUND(a, b, c, d, e, f, g, h, t)                                                 \
    do {                                                                                           \
        guint32 t1_ = h + (kp_ror(e, 6) ^ kp_ror(e, 11) ^ kp_ror(e, 25)) + (g ^ (e & (f ^ g))) +   \
                      kp_sha256_k[t] + w[t];                                                       \
        guint32 t2_ = (kp_ror(a, 2) ^ kp_ror(a, 13) ^ kp_ror(a, 22)) + ((a & b) | (c & (a | b)));  \
        d += t1_;                                                                                  \
        h = t1_ + t2_;                                                                             \
    } while (0)

/* The portable block function, eight rounds per pass so that the working variables never
 * move. */
static void
kp_sha256_compress_portable(KpSha256 *s, const guint8 *block)
{
    guint32 w[64];
    kp_sha256_schedule(block, w);
    guint32 a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    guint32 e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (guint t = 0; t < 64; t += 8) {
        KP_SHA256_ROUND(a, b, c, d, e, f, g, h, t);
        KP_SHA256_ROUND(h, a, b, c, d, e, f, g, t + 1);
        KP_SHA256_ROUND(g, h, a, b, c, d, e, f, t + 2);
        KP_SHA256_ROUND(f, g, h, a, b, c, d, e, t + 3);
        KP_SHA256_ROUND(e, f, g, h, a, b, c, d, t + 4);
        KP_SHA256_ROUND(d, e, f, g, h, a, b, c, t + 5);
        KP_SHA256_ROUND(c, d, e, f, g, h, a, b, t + 6);
        KP_SHA256_ROUND(b, c, d, e, f, g, h, a, t + 7);
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
    s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

#ifdef KP_SHA_NI
/* The block function in the SHA extensions. The state lives in two registers, (A, B, E, F) and
 * (C, D, G, H); sha256rnds2 runs two rounds and returns the new (A, B, E, F), while the old one
 * is the new (C, D, G, H), so the two registers swap roles at every call (32 calls: they end
 * where they started). Each of the 16 steps adds four round constants to four schedule words
 * and runs four rounds, and from step 1 on extends the schedule four words ahead (sha256msg1,
 * then sha256msg2 once the words it needs exist). */
__attribute__((target("sha,sse4.1,ssse3"))) static void
kp_sha256_compress_ni(KpSha256 *s, const guint8 *block)
{
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&s->h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&s->h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
    __m128i state0 = _mm_alignr_epi8(cdab, efgh, 8);    /* A B E F */
    __m128i state1 = _mm_blend_epi16(efgh, cdab, 0xf0); /* C D G H */
    const __m128i state0_in = state0, state1_in = state1;
    __m128i m[4]; /* the schedule words 4i..4i+3 of step i, in m[i % 4] */
    for (guint i = 0; i < 4; i++)
        m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * i)), byteswap);
    for (guint i = 0; i < 16; i++) {
        __m128i wk = _mm_add_epi32(m[i % 4], _mm_loadu_si128((const __m128i *)&kp_sha256_k[4 * i]));
        state1 = _mm_sha256rnds2_epu32(state1, state0, wk);
        if (i >= 3 && i <= 14) { /* the words of step i + 1, from those of steps i - 3 .. i */
            __m128i *next = &m[(i + 1) % 4];
            *next = _mm_add_epi32(*next, _mm_alignr_epi8(m[i % 4], m[(i + 3) % 4], 4));
            *next = _mm_sha256msg2_epu32(*next, m[i % 4]);
        }
        state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(wk, 0x0e));
        if (i >= 1 && i <= 12)
            m[(i + 3) % 4] = _mm_sha256msg1_epu32(m[(i + 3) % 4], m[i % 4]);
    }
    state0 = _mm_add_epi32(state0, state0_in);
    state1 = _mm_add_epi32(state1, state1_in);
    __m128i feba = _mm_shuffle_epi32(state0, 0x1b);
    __m128i dchg = _mm_shuffle_epi32(state1, 0xb1);
    _mm_storeu_si128((__m128i *)&s->h[0], _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128((__m128i *)&s->h[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* Whether this processor has the SHA extensions (CPUID leaf 7, EBX bit 29) and the SSSE3 and
 * SSE4.1 shuffles the block function uses. */
static gboolean
kp_sha_ni_present(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_SSSE3) == 0 || (c & bit_SSE4_1) == 0)
        return FALSE;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) != 0;
}
#endif

/* The block function for this processor: the SHA extensions' when it has them. */
static KpSha256Compress
kp_sha256_best(void)
{
#ifdef KP_SHA_NI
    static gsize have_ni; /* 0 not yet known, 1 no, 2 yes */
    if (g_once_init_enter(&have_ni))
        g_once_init_leave(&have_ni, kp_sha_ni_present() ? 2 : 1);
    if (have_ni == 2)
        return kp_sha256_compress_ni;
#endif
    return kp_sha256_compress_portable;
}

/* Starts s with the initial hash value of FIPS 180-4 section 5.3.3; portable picks the plain C
 * block function even where the SHA extensions are there (tests compare the two). */
static void
kp_sha256_init(KpSha256 *s, gboolean portable)
{
    static const guint32 h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    s->compress = portable ? kp_sha256_compress_portable : kp_sha256_best();
    memcpy(s->h, h0, sizeof h0);
    s->used = 0;
    s->bytes = 0;
}

/* Adds len bytes of data to the message. */
static void
kp_sha256_update(KpSha256 *s, const guint8 *data, gsize len)
{
    s->bytes += len;
    while (len > 0) {
        gsize take = MIN(len, sizeof s->block - s->used);
        memcpy(s->block + s->used, data, take);
        s->used += take;
        data += take;
        len -= take;
        if (s->used == sizeof s->block) {
            s->compress(s, s->block);
            s->used = 0;
        }
    }
}

/* Pads the message (a 1 bit, zeros, the 64-bit big-endian bit length: section 5.1.1) and writes
 * the 32-byte digest into out. */
static void
kp_sha256_final(KpSha256 *s, guint8 out[32])
{
    guint64 bits = s->bytes * 8;
    s->block[s->used++] = 0x80;
    if (s->used > 56) { /* no room for the length: it goes into one more block */
        memset(s->block + s->used, 0, sizeof s->block - s->used);
        s->compress(s, s->block);
        s->used = 0;
    }
    memset(s->block + s->used, 0, 56 - s->used);
    for (guint i = 0; i < 8; i++)
        s->block[56 + i] = (guint8)(bits >> (56 - 8 * i));
    s->compress(s, s->block);
    for (guint i = 0; i < 8; i++) {
        out[4 * i] = (guint8)(s->h[i] >> 24);
        out[4 * i + 1] = (guint8)(s->h[i] >> 16);
        out[4 * i + 2] = (guint8)(s->h[i] >> 8);
        out[4 * i + 3] = (guint8)s->h[i];
    }
}

/* See kube_proxy_private.h. */
void
kp_sha256_using(gboolean portable, const guint8 *data, gsize len, guint8 out[32])
{
    KpSha256 s;
    kp_sha256_init(&s, portable);
    kp_sha256_update(&s, data, len);
    kp_sha256_final(&s, out);
}

/* Encodes the first KP_HASH_BYTES bytes of digest as KP_HASH_CHARS base32 characters plus a
 * NUL into out (RFC 4648 section 6, uppercase alphabet). */
static void
kp_hash_base32(const guint8 *digest, char out[KP_HASH_CHARS + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    guint bits = 0;
    guint32 acc = 0;
    guint n = 0;

    for (guint i = 0; i < KP_HASH_BYTES; i++) {
        acc = (acc << 8) | digest[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[n++] = alphabet[(acc >> bits) & 0x1f];
        }
    }
    g_assert(n == KP_HASH_CHARS && bits == 0);
    out[n] = '\0';
}

/* Hashes the concatenation of parts (a NULL-terminated list) with SHA-256 and writes the first
 * 16 base32 characters of the digest and a NUL into out. */
static void
kp_hash_parts(const char *const *parts, char out[KUBE_PROXY_HASH_SIZE])
{
    G_STATIC_ASSERT(KUBE_PROXY_HASH_SIZE == KP_HASH_CHARS + 1);
    KpSha256 sum;
    kp_sha256_init(&sum, FALSE);
    for (guint i = 0; parts[i] != NULL; i++)
        kp_sha256_update(&sum, (const guint8 *)parts[i], strlen(parts[i]));
    guint8 digest[32];
    kp_sha256_final(&sum, digest);
    kp_hash_base32(digest, out);
}

/* portProtoHash: base32(SHA-256(service_port_name + proto))[:16], into out. */
void
kube_proxy_port_proto_hash_into(const char *service_port_name, const char *proto,
                                char out[KUBE_PROXY_HASH_SIZE])
{
    g_return_if_fail(service_port_name != NULL && proto != NULL && out != NULL);
    const char *parts[] = {service_port_name, proto, NULL};
    kp_hash_parts(parts, out);
}

/* servicePortEndpointChainName's hash, into out. */
void
kube_proxy_endpoint_hash_into(const char *service_port_name, const char *proto,
                              const char *endpoint, char out[KUBE_PROXY_HASH_SIZE])
{
    g_return_if_fail(service_port_name != NULL && proto != NULL && endpoint != NULL);
    g_return_if_fail(out != NULL);
    const char *parts[] = {service_port_name, proto, endpoint, NULL};
    kp_hash_parts(parts, out);
}

/* portProtoHash: base32(SHA-256(service_port_name + proto))[:16]. (transfer full) */
char *
kube_proxy_port_proto_hash(const char *service_port_name, const char *proto)
{
    g_return_val_if_fail(service_port_name != NULL && proto != NULL, NULL);
    char out[KUBE_PROXY_HASH_SIZE];
    kube_proxy_port_proto_hash_into(service_port_name, proto, out);
    return g_strdup(out);
}

/* servicePortEndpointChainName's hash: base32(SHA-256(service_port_name + proto +
 * endpoint))[:16]. (transfer full) */
char *
kube_proxy_endpoint_hash(const char *service_port_name, const char *proto, const char *endpoint)
{
    g_return_val_if_fail(service_port_name != NULL && proto != NULL && endpoint != NULL, NULL);
    char out[KUBE_PROXY_HASH_SIZE];
    kube_proxy_endpoint_hash_into(service_port_name, proto, endpoint, out);
    return g_strdup(out);
}
