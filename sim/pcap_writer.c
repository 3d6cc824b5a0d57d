/* SPDX-License-Identifier: Apache-2.0 */
/* Capture files: nanosecond pcap with Linux cooked capture v2 headers, written atomically.
 *
 * Models the file `tcpdump -i any -w FILE --time-stamp-precision=nano` writes on Linux: the
 * pcap global header (magic 0xa1b23c4d, version 2.4, LINKTYPE_LINUX_SLL2) followed by records
 * of a 16-byte record header and a 20-byte sll2_header (libpcap's pcap/sll.h) before each IP
 * datagram. It uses plain stdio rather than libpcap's pcap_dump(), so no byte of the file
 * depends on the host (byte order, clock). It writes only classic pcap: no pcapng, no
 * interface names.
 *
 * Records are assembled in a 1 MiB buffer owned by the writer and handed to an unbuffered
 * FILE in one fwrite() per full buffer; a record bigger than the buffer goes straight to the
 * file after the buffer is flushed.
 *
 * A long run writes gigabytes of capture (the seed example at a million connections: 13 GB).
 * Left to the page cache, that evicts everything else on the machine, and once dirty pages pile
 * up the kernel makes the writer reclaim memory itself, which tripled the cost of each written
 * byte. So a regular file is written behind, the way `dd oflag=nocache` does it: each completed
 * 32 MiB window is handed to writeback at once (sync_file_range), and the window four before
 * it, which has had that long to reach the disk, is dropped from the cache (posix_fadvise
 * DONTNEED). Nothing waits for the disk, so a slow disk costs no more than before. This only
 * advises the kernel: failures are ignored, and the file's bytes are the same.
 */
#include "sim/pcap_writer.h"

#include "sim/sim_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK(sim-pcap-error-quark, sim_pcap_error)

#define PCAP_BUF_SIZE (1024 * 1024)
#define PCAP_WINDOW (32 * 1024 * 1024) /* write-behind granularity */
#define PCAP_LAG 4                      /* windows between writeback and dropping */
#define PCAP_GLOBAL_HLEN 24
#define PCAP_RECORD_HLEN 16
#define PCAP_RECORD_HEAD (PCAP_RECORD_HLEN + SIM_PCAP_SLL2_HLEN) /* record + SLL2 header */
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

struct SimPcap {
    FILE *fp;        /* the temporary file, unbuffered; NULL once closed */
    char *path;      /* the final name */
    char *tmp_path;  /* path + ".tmp" */
    guint32 snaplen; /* bytes kept of each record (SLL2 header included) */
    gint64 epoch;    /* Unix seconds of simulated time 0 */
    guint64 count;   /* records written */
    gboolean failed; /* a write failed; the file is unusable */
    gsize used;      /* bytes of buf waiting for the file */
    int fd;          /* fp's descriptor, or -1 when it is not a regular file (no write-behind) */
    guint64 written; /* bytes handed to the file */
    guint64 behind;  /* the end of the last window handed to writeback */
    guint8 buf[PCAP_BUF_SIZE];
};

/* Sets an I/O error naming the temporary file and errno's message, and marks pc failed. */
static void
pcap_set_io_error(SimPcap *pc, int errsv, const char *what, GError **error)
{
    pc->failed = TRUE;
    g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO, "%s: %s: %s", pc->tmp_path, what,
                g_strerror(errsv));
}

/* Hands every completed window of the file to writeback, and asks the kernel to drop from the
 * page cache the window PCAP_LAG windows before it, which has had that long to reach the disk
 * (see the top of the file). Never waits for the disk: pages still being written are left
 * alone. */
static void
pcap_write_behind(SimPcap *pc)
{
    while (pc->fd >= 0 && pc->written - pc->behind >= PCAP_WINDOW) {
        off_t start = (off_t)pc->behind;
        sync_file_range(pc->fd, start, PCAP_WINDOW, SYNC_FILE_RANGE_WRITE);
        if (start >= PCAP_LAG * PCAP_WINDOW)
            posix_fadvise(pc->fd, start - PCAP_LAG * PCAP_WINDOW, PCAP_WINDOW,
                          POSIX_FADV_DONTNEED);
        pc->behind += PCAP_WINDOW;
    }
}

/* Writes n bytes straight to the file. */
static gboolean
pcap_fwrite(SimPcap *pc, const guint8 *data, gsize n, GError **error)
{
    errno = 0;
    if (n > 0 && fwrite(data, 1, n, pc->fp) != n) {
        pcap_set_io_error(pc, errno != 0 ? errno : EIO, "write failed", error);
        return FALSE;
    }
    pc->written += n;
    pcap_write_behind(pc);
    return TRUE;
}

/* Hands the buffered bytes to the file. */
static gboolean
pcap_flush(SimPcap *pc, GError **error)
{
    gsize n = pc->used;
    pc->used = 0;
    return pcap_fwrite(pc, pc->buf, n, error);
}

/* Appends n bytes to the buffer, flushing first when they don't fit; bytes that would not fit
 * even an empty buffer go to the file directly. */
static gboolean
pcap_append(SimPcap *pc, const guint8 *data, gsize n, GError **error)
{
    if (n > sizeof pc->buf - pc->used) {
        if (!pcap_flush(pc, error))
            return FALSE;
        if (n > sizeof pc->buf)
            return pcap_fwrite(pc, data, n, error);
    }
    memcpy(pc->buf + pc->used, data, n);
    pc->used += n;
    return TRUE;
}

/* Frees the writer's memory; the file must already be closed. */
static void
pcap_free(SimPcap *pc)
{
    g_assert(pc->fp == NULL);
    g_free(pc->path);
    g_free(pc->tmp_path);
    g_free(pc);
}

SimPcap *
sim_pcap_open(const char *path, guint32 snaplen, GError **error)
{
    g_return_val_if_fail(path != NULL && path[0] != '\0', NULL);
    g_autofree char *tmp_path = g_strconcat(path, ".tmp", NULL);
    FILE *fp = g_fopen(tmp_path, "wb");
    if (fp == NULL) {
        int errsv = errno;
        g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO, "%s: cannot create: %s", tmp_path,
                    g_strerror(errsv));
        return NULL;
    }
    setvbuf(fp, NULL, _IONBF, 0); /* we buffer ourselves */
    SimPcap *pc = g_new0(SimPcap, 1);
    pc->fp = fp;
    struct stat st;
    pc->fd = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) ? fileno(fp) : -1;
    pc->path = g_strdup(path);
    pc->tmp_path = g_steal_pointer(&tmp_path);
    pc->snaplen = snaplen != 0 ? snaplen : SIM_PCAP_DEFAULT_SNAPLEN;
    pc->epoch = SIM_PCAP_DEFAULT_EPOCH;
    guint8 h[PCAP_GLOBAL_HLEN];
    sim_put_le32(h, SIM_PCAP_MAGIC_NSEC);
    sim_put_le16(h + 4, PCAP_VERSION_MAJOR);
    sim_put_le16(h + 6, PCAP_VERSION_MINOR);
    sim_put_le32(h + 8, 0);  /* thiszone: timestamps are UTC */
    sim_put_le32(h + 12, 0); /* sigfigs */
    sim_put_le32(h + 16, pc->snaplen);
    sim_put_le32(h + 20, SIM_PCAP_LINKTYPE_LINUX_SLL2);
    gboolean ok = pcap_append(pc, h, sizeof h, error);
    g_assert(ok); /* an empty buffer always takes 24 bytes */
    return pc;
}

void
sim_pcap_set_epoch(SimPcap *pc, gint64 unix_seconds)
{
    g_return_if_fail(pc != NULL);
    g_return_if_fail(unix_seconds >= 0 && unix_seconds <= G_MAXUINT32);
    pc->epoch = unix_seconds;
}

/* Splits epoch + t into pcap's unsigned 32-bit seconds and nanoseconds. */
static gboolean
pcap_timestamp(const SimPcap *pc, SimTime t, guint32 *sec, guint32 *nsec, GError **error)
{
    gint64 q = t / SIM_SEC;
    gint64 r = t % SIM_SEC;
    if (r < 0) { /* floor division, so times before 0 still map to the right second */
        q -= 1;
        r += SIM_SEC;
    }
    gint64 s = pc->epoch + q; /* |q| < 2^34 and epoch < 2^32: no overflow */
    if (s < 0 || s > G_MAXUINT32) {
        g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_TIMESTAMP,
                    "time %" G_GINT64_FORMAT "ns is outside what a pcap timestamp can hold", t);
        return FALSE;
    }
    *sec = (guint32)s;
    *nsec = (guint32)r;
    return TRUE;
}

/* Stores the record header and SLL2 header of one record, PCAP_RECORD_HEAD bytes, at b: fixed
 * offsets, written once per captured packet (link->addr_len <= SIM_PCAP_SLL2_ADDRLEN, checked
 * by the caller). */
static void
pcap_record_head(guint8 *b, guint32 sec, guint32 nsec, guint32 incl, guint32 orig,
                 const SimPcapLink *link, guint16 protocol)
{
    G_STATIC_ASSERT(PCAP_RECORD_HEAD == PCAP_RECORD_HLEN + 20 && SIM_PCAP_SLL2_HLEN == 20);
    sim_put_le32(b, sec);
    sim_put_le32(b + 4, nsec);
    sim_put_le32(b + 8, incl);
    sim_put_le32(b + 12, orig);
    sim_put_be16(b + 16, protocol);
    sim_put_be16(b + 18, 0); /* reserved, must be zero */
    sim_put_be32(b + 20, link->ifindex);
    sim_put_be16(b + 24, link->hatype);
    b[26] = link->pkttype;
    b[27] = link->addr_len;
    memset(b + 28, 0, SIM_PCAP_SLL2_ADDRLEN);
    memcpy(b + 28, link->addr, link->addr_len);
}

gboolean
sim_pcap_write(SimPcap *pc, SimTime t, const SimPcapLink *link, const guint8 *ip, gsize len,
               GError **error)
{
    g_return_val_if_fail(pc != NULL && pc->fp != NULL && link != NULL, FALSE);
    g_return_val_if_fail(ip != NULL && len > 0 && len <= SIM_PCAP_MAX_DATAGRAM, FALSE);
    g_return_val_if_fail(link->addr_len <= SIM_PCAP_SLL2_ADDRLEN, FALSE);
    guint version = ip[0] >> 4;
    g_return_val_if_fail(version == 4 || version == 6, FALSE);
    if (pc->failed) {
        g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO, "%s: an earlier write failed",
                    pc->tmp_path);
        return FALSE;
    }
    guint32 sec, nsec;
    if (!pcap_timestamp(pc, t, &sec, &nsec, error))
        return FALSE;
    guint32 orig = (guint32)(SIM_PCAP_SLL2_HLEN + len);
    guint32 incl = MIN(orig, pc->snaplen);
    guint16 protocol = version == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
    gsize head_kept = MIN(PCAP_RECORD_HEAD, PCAP_RECORD_HLEN + (gsize)incl);
    gsize ip_kept = incl > SIM_PCAP_SLL2_HLEN ? incl - SIM_PCAP_SLL2_HLEN : 0;
    guint8 *at = pc->buf + pc->used;
    /* In place: the datagram was serialised by the caller right after where the headers go
     * (sim_pcap_reserve()). */
    gboolean in_place = ip == at + PCAP_RECORD_HEAD;
    if (in_place && head_kept == PCAP_RECORD_HEAD) {
        pcap_record_head(at, sec, nsec, incl, orig, link, protocol);
    } else {
        /* Copied, or in place with the snap length cutting into the headers (then none of the
         * datagram is kept). */
        guint8 head[PCAP_RECORD_HEAD];
        pcap_record_head(head, sec, nsec, incl, orig, link, protocol);
        if (in_place)
            memcpy(at, head, head_kept);
        else if (!pcap_append(pc, head, head_kept, error) || !pcap_append(pc, ip, ip_kept, error))
            return FALSE;
    }
    if (in_place)
        pc->used += head_kept + ip_kept;
    pc->count++;
    return TRUE;
}

guint8 *
sim_pcap_reserve(SimPcap *pc, GError **error)
{
    g_return_val_if_fail(pc != NULL && pc->fp != NULL, NULL);
    G_STATIC_ASSERT(PCAP_RECORD_HEAD + SIM_PCAP_MAX_DATAGRAM <= PCAP_BUF_SIZE);
    gsize need = PCAP_RECORD_HEAD + SIM_PCAP_MAX_DATAGRAM;
    if (pc->failed) {
        g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO, "%s: an earlier write failed",
                    pc->tmp_path);
        return NULL;
    }
    if (need > sizeof pc->buf - pc->used && !pcap_flush(pc, error))
        return NULL;
    return pc->buf + pc->used + PCAP_RECORD_HEAD;
}

guint64
sim_pcap_count(const SimPcap *pc)
{
    g_return_val_if_fail(pc != NULL, 0);
    return pc->count;
}

gboolean
sim_pcap_close(SimPcap *pc, GError **error)
{
    g_return_val_if_fail(pc != NULL, FALSE);
    gboolean ok = !pc->failed && pcap_flush(pc, error);
    if (!ok && pc->failed && error != NULL && *error == NULL)
        g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO, "%s: an earlier write failed",
                    pc->tmp_path);
    int rc = fclose(pc->fp);
    int errsv = errno;
    pc->fp = NULL;
    if (ok && rc != 0) {
        pcap_set_io_error(pc, errsv, "close failed", error);
        ok = FALSE;
    }
    if (ok && g_rename(pc->tmp_path, pc->path) != 0) {
        errsv = errno;
        g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO, "cannot rename %s to %s: %s",
                    pc->tmp_path, pc->path, g_strerror(errsv));
        ok = FALSE;
    }
    if (!ok)
        g_remove(pc->tmp_path);
    pcap_free(pc);
    return ok;
}

void
sim_pcap_abort(SimPcap *pc)
{
    if (pc == NULL)
        return;
    fclose(pc->fp);
    pc->fp = NULL;
    g_remove(pc->tmp_path);
    pcap_free(pc);
}
