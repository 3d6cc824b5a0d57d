/* SPDX-License-Identifier: Apache-2.0 */
/* Storing integers into a byte buffer: in a given byte order, and as decimal text.
 *
 * The byte-order stores are each one unaligned store (memcpy of the converted value), which the
 * compiler emits as a single move: the packet and capture writers store every header field of
 * every captured packet with these. The decimal writer is printf's "%u" without printf's cost,
 * for text written in bulk (addresses, ports, generated names). The caller guarantees the bytes
 * are inside its buffer.
 */
#ifndef KPSIM_SIM_BYTES_H
#define KPSIM_SIM_BYTES_H

#include <glib.h>
#include <string.h>

static inline void
sim_put_be16(guint8 *b, guint16 v)
{
    v = GUINT16_TO_BE(v);
    memcpy(b, &v, sizeof v);
}

static inline void
sim_put_be32(guint8 *b, guint32 v)
{
    v = GUINT32_TO_BE(v);
    memcpy(b, &v, sizeof v);
}

static inline void
sim_put_le16(guint8 *b, guint16 v)
{
    v = GUINT16_TO_LE(v);
    memcpy(b, &v, sizeof v);
}

static inline void
sim_put_le32(guint8 *b, guint32 v)
{
    v = GUINT32_TO_LE(v);
    memcpy(b, &v, sizeof v);
}

/* Writes v in decimal at b, without a NUL, and returns the end (at most 20 bytes). */
static inline char *
sim_put_decimal(char *b, guint64 v)
{
    char digits[20];
    guint n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *b++ = digits[--n];
    return b;
}

#endif /* KPSIM_SIM_BYTES_H */
