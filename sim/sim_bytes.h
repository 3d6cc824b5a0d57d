/* SPDX-License-Identifier: Apache-2.0 */
/* Storing integers at fixed offsets of a byte buffer in a given byte order.
 *
 * Each is one unaligned store (memcpy of the converted value), which the compiler emits as a
 * single move: the packet and capture writers store every header field of every captured packet
 * with these. The caller guarantees the bytes are inside its buffer.
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
sim_put_le32(guint8 *b, guint32 v)
{
    v = GUINT32_TO_LE(v);
    memcpy(b, &v, sizeof v);
}

#endif /* KPSIM_SIM_BYTES_H */
