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
 *
 * Those system calls are still a third of a capturing run's time (the kernel copying each
 * buffer into the page cache, writeback, dropping). A capture given a SimPcapWriter hands each
 * full buffer to the writer's thread and goes on assembling records in a fresh one, so on a
 * machine with a second core the writing overlaps the simulation. The thread writes each
 * capture's buffers in the order they were handed over, so the file's bytes are the same; a
 * failed write is reported by the capture's next flush or by its close. At most
 * PCAP_WRITER_BLOCKS buffers wait for the thread: a slower disk makes the simulation wait.
 */
#include "sim/pcap_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(sim - pcap - error - quark, sim_pcap_error)

#define PCAP_BUF_SIZE (1024 * 1024)
#define PCAP_WRITER_BLOCKS 8           /* buffers handed to a writer and not yet written, at most */
#define PCAP_WINDOW (32 * 1024 * 1024) /* write-behind granularity */
#define PCAP_LAG 4                     /* windows between writeback and dropping */
#define PCAP_GLOBAL_HLEN 24
#define PCAP_RECORD_HLEN 16
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

/* A thread writing full buffers of captures, and its spare buffers. Its locks are POSIX ones
 * rather than GMutex (a futex of its own on Linux) so that helgrind and ThreadSanitizer can
 * check them. */
struct SimPcapWriter {
    GThread *thread;
    pthread_mutex_t lock; /* guards the fields below and every capture's pending, async_errno */
    pthread_cond_t work;  /* a job was queued, or stop set */
    pthread_cond_t done;  /* a job was written */
    GQueue jobs;          /* PcapJob*, oldest first */
    gboolean stop;        /* the thread ends once jobs is empty */
    guint in_flight;      /* jobs queued or being written */
    GPtrArray *spare;     /* PCAP_BUF_SIZE buffers to hand out, at most PCAP_WRITER_BLOCKS */
};

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
    guint8 *buf;     /* PCAP_BUF_SIZE bytes of records being assembled; NULL once handed over
                      * at close */
    SimPcapWriter *writer; /* (nullable) writes full buffers on its thread; written and
                            * behind are then the thread's */
    guint pending;         /* buffers handed to the writer, not yet written (writer->lock) */
    int async_errno;       /* the writer's first failure on this capture, or 0 (writer->lock) */
};

/* One buffer for a writer's thread. */
typedef struct {
    SimPcap *pc;
    guint8 *buf;
    gsize n;
} PcapJob;

/* A header being assembled: fixed capacity, every store bounds-checked. */
typedef struct {
    guint8 b[PCAP_RECORD_HLEN + SIM_PCAP_SLL2_HLEN];
    gsize n;
} PcapHead;

/* Appends a 16-bit value least-significant byte first (pcap file headers). */
static void
head_le16(PcapHead *h, guint16 v)
{
    g_assert(h->n + 2 <= sizeof h->b);
    h->b[h->n++] = (guint8)v;
    h->b[h->n++] = (guint8)(v >> 8);
}

/* Appends a 32-bit value least-significant byte first (pcap file headers). */
static void
head_le32(PcapHead *h, guint32 v)
{
    head_le16(h, (guint16)v);
    head_le16(h, (guint16)(v >> 16));
}

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
            posix_fadvise(pc->fd, start - PCAP_LAG * PCAP_WINDOW, PCAP_WINDOW, POSIX_FADV_DONTNEED);
        pc->behind += PCAP_WINDOW;
    }
}

/* Writes n bytes to the file (retrying short writes) and hands completed windows to
 * writeback. Returns 0, or the errno of the failure. Runs on the writer's thread when the
 * capture has one. */
static int
pcap_write_out(SimPcap *pc, const guint8 *data, gsize n)
{
    int fd = fileno(pc->fp);
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        data += w;
        n -= (gsize)w;
        pc->written += (guint64)w;
    }
    pcap_write_behind(pc);
    return 0;
}

/* Hands the buffered bytes (the last ones when last: no new buffer is taken) to pc's writer
 * and takes a spare buffer, waiting while PCAP_WRITER_BLOCKS are queued. Reports a failure of
 * an earlier buffer instead, handing nothing over. */
static gboolean
pcap_submit(SimPcap *pc, gsize n, gboolean last, GError **error)
{
    SimPcapWriter *w = pc->writer;
    pthread_mutex_lock(&w->lock);
    int err = pc->async_errno;
    if (err == 0 && n > 0) {
        while (w->in_flight >= PCAP_WRITER_BLOCKS)
            pthread_cond_wait(&w->done, &w->lock);
        PcapJob *job = g_new(PcapJob, 1);
        *job = (PcapJob){.pc = pc, .buf = pc->buf, .n = n};
        pc->buf = NULL;
        pc->pending++;
        w->in_flight++;
        if (!last && w->spare->len > 0)
            pc->buf = g_ptr_array_steal_index_fast(w->spare, w->spare->len - 1);
        g_queue_push_tail(&w->jobs, job);
        pthread_cond_signal(&w->work);
    }
    pthread_mutex_unlock(&w->lock);
    if (pc->buf == NULL && !last)
        pc->buf = g_malloc(PCAP_BUF_SIZE);
    if (err != 0) {
        pcap_set_io_error(pc, err, "write failed", error);
        return FALSE;
    }
    return TRUE;
}

/* Hands the buffered bytes to the file, or to the writer (see pcap_submit()). */
static gboolean
pcap_flush(SimPcap *pc, gboolean last, GError **error)
{
    gsize n = pc->used;
    pc->used = 0;
    if (pc->writer != NULL)
        return pcap_submit(pc, n, last, error);
    int err = pcap_write_out(pc, pc->buf, n);
    if (err != 0) {
        pcap_set_io_error(pc, err, "write failed", error);
        return FALSE;
    }
    return TRUE;
}

/* Waits until the writer has written every buffer pc handed it; returns the errno of its
 * first failure on pc, or 0. */
static int
pcap_drain(SimPcap *pc)
{
    SimPcapWriter *w = pc->writer;
    if (w == NULL)
        return 0;
    pthread_mutex_lock(&w->lock);
    while (pc->pending > 0)
        pthread_cond_wait(&w->done, &w->lock);
    int err = pc->async_errno;
    pthread_mutex_unlock(&w->lock);
    return err;
}

/* Appends n (at most a buffer's) bytes to the buffer, flushing first when they don't fit. */
static gboolean
pcap_append(SimPcap *pc, const guint8 *data, gsize n, GError **error)
{
    g_assert(n <= PCAP_BUF_SIZE);
    if (n > PCAP_BUF_SIZE - pc->used && !pcap_flush(pc, FALSE, error))
        return FALSE;
    memcpy(pc->buf + pc->used, data, n);
    pc->used += n;
    return TRUE;
}

/* Frees the writer's memory; the file must already be closed. */
static void
pcap_free(SimPcap *pc)
{
    g_assert(pc->fp == NULL);
    g_free(pc->buf);
    g_free(pc->path);
    g_free(pc->tmp_path);
    g_free(pc);
}

/* The writer's thread: writes each job's buffer to its capture (unless the capture already
 * failed or was aborted), then recycles the buffer; ends when told to stop and nothing is
 * queued. */
static gpointer
pcap_writer_main(gpointer data)
{
    SimPcapWriter *w = data;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (g_queue_is_empty(&w->jobs) && !w->stop)
            pthread_cond_wait(&w->work, &w->lock);
        PcapJob *job = g_queue_pop_head(&w->jobs);
        if (job == NULL)
            break;
        SimPcap *pc = job->pc;
        gboolean skip = pc->async_errno != 0;
        pthread_mutex_unlock(&w->lock);
        int err = skip ? 0 : pcap_write_out(pc, job->buf, job->n);
        pthread_mutex_lock(&w->lock);
        if (pc->async_errno == 0)
            pc->async_errno = err;
        pc->pending--;
        w->in_flight--;
        if (w->spare->len < PCAP_WRITER_BLOCKS)
            g_ptr_array_add(w->spare, g_steal_pointer(&job->buf));
        pthread_cond_broadcast(&w->done);
        g_free(job->buf);
        g_free(job);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

SimPcapWriter *
sim_pcap_writer_new(GError **error)
{
    SimPcapWriter *w = g_new0(SimPcapWriter, 1);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    g_queue_init(&w->jobs);
    w->spare = g_ptr_array_new_with_free_func(g_free);
    w->thread = g_thread_try_new("pcap-writer", pcap_writer_main, w, error);
    if (w->thread == NULL) {
        sim_pcap_writer_free(w);
        return NULL;
    }
    return w;
}

void
sim_pcap_writer_free(SimPcapWriter *w)
{
    if (w == NULL)
        return;
    if (w->thread != NULL) {
        pthread_mutex_lock(&w->lock);
        w->stop = TRUE;
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->lock);
        g_thread_join(w->thread);
    }
    g_assert(w->in_flight == 0 && g_queue_is_empty(&w->jobs));
    g_ptr_array_unref(w->spare);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    g_free(w);
}

void
sim_pcap_set_writer(SimPcap *pc, SimPcapWriter *w)
{
    g_return_if_fail(pc != NULL && pc->fp != NULL);
    g_return_if_fail(pc->writer == NULL && pc->written == 0);
    pc->writer = w;
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
    pc->buf = g_malloc(PCAP_BUF_SIZE);
    struct stat st;
    pc->fd = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) ? fileno(fp) : -1;
    pc->path = g_strdup(path);
    pc->tmp_path = g_steal_pointer(&tmp_path);
    pc->snaplen = snaplen != 0 ? snaplen : SIM_PCAP_DEFAULT_SNAPLEN;
    pc->epoch = SIM_PCAP_DEFAULT_EPOCH;
    PcapHead h = {0};
    head_le32(&h, SIM_PCAP_MAGIC_NSEC);
    head_le16(&h, PCAP_VERSION_MAJOR);
    head_le16(&h, PCAP_VERSION_MINOR);
    head_le32(&h, 0); /* thiszone: timestamps are UTC */
    head_le32(&h, 0); /* sigfigs */
    head_le32(&h, pc->snaplen);
    head_le32(&h, SIM_PCAP_LINKTYPE_LINUX_SLL2);
    g_assert(h.n == PCAP_GLOBAL_HLEN);
    gboolean ok = pcap_append(pc, h.b, h.n, error);
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

/* Stores v at p least significant byte first (record header) / most significant first (SLL2). */
static inline void
put_le32(guint8 *p, guint32 v)
{
    p[0] = (guint8)v;
    p[1] = (guint8)(v >> 8);
    p[2] = (guint8)(v >> 16);
    p[3] = (guint8)(v >> 24);
}

static inline void
put_be16(guint8 *p, guint16 v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static inline void
put_be32(guint8 *p, guint32 v)
{
    put_be16(p, (guint16)(v >> 16));
    put_be16(p + 2, (guint16)v);
}

/* Assembles the record header and SLL2 header of one record into h: fixed offsets, written
 * once per captured packet (link->addr_len <= SIM_PCAP_SLL2_ADDRLEN, checked by the caller). */
static void
pcap_record_head(PcapHead *h, guint32 sec, guint32 nsec, guint32 incl, guint32 orig,
                 const SimPcapLink *link, guint16 protocol)
{
    G_STATIC_ASSERT(sizeof h->b == PCAP_RECORD_HLEN + 20 && SIM_PCAP_SLL2_HLEN == 20);
    guint8 *b = h->b;
    put_le32(b, sec);
    put_le32(b + 4, nsec);
    put_le32(b + 8, incl);
    put_le32(b + 12, orig);
    put_be16(b + 16, protocol);
    put_be16(b + 18, 0); /* reserved, must be zero */
    put_be32(b + 20, link->ifindex);
    put_be16(b + 24, link->hatype);
    b[26] = link->pkttype;
    b[27] = link->addr_len;
    memcpy(b + 28, link->addr, link->addr_len);
    memset(b + 28 + link->addr_len, 0, SIM_PCAP_SLL2_ADDRLEN - link->addr_len);
    h->n = sizeof h->b;
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
    PcapHead h = {0};
    pcap_record_head(&h, sec, nsec, incl, orig, link,
                     version == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
    gsize head_kept = MIN(h.n, PCAP_RECORD_HLEN + (gsize)incl);
    gsize ip_kept = incl > SIM_PCAP_SLL2_HLEN ? incl - SIM_PCAP_SLL2_HLEN : 0;
    if (ip == pc->buf + pc->used + sizeof h.b) {
        /* In place (sim_pcap_reserve()): the datagram already follows where the headers go;
         * when the snap length cuts into the headers, none of it is kept. */
        memcpy(pc->buf + pc->used, h.b, head_kept);
        pc->used += head_kept + ip_kept;
    } else if (!pcap_append(pc, h.b, head_kept, error) || !pcap_append(pc, ip, ip_kept, error)) {
        return FALSE;
    }
    pc->count++;
    return TRUE;
}

guint8 *
sim_pcap_reserve(SimPcap *pc, GError **error)
{
    g_return_val_if_fail(pc != NULL && pc->fp != NULL, NULL);
    G_STATIC_ASSERT(PCAP_RECORD_HLEN + SIM_PCAP_SLL2_HLEN + SIM_PCAP_MAX_DATAGRAM <= PCAP_BUF_SIZE);
    gsize need = PCAP_RECORD_HLEN + SIM_PCAP_SLL2_HLEN + SIM_PCAP_MAX_DATAGRAM;
    if (pc->failed) {
        g_set_error(error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_IO, "%s: an earlier write failed",
                    pc->tmp_path);
        return NULL;
    }
    if (need > PCAP_BUF_SIZE - pc->used && !pcap_flush(pc, FALSE, error))
        return NULL;
    return pc->buf + pc->used + PCAP_RECORD_HLEN + SIM_PCAP_SLL2_HLEN;
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
    gboolean ok = !pc->failed && pcap_flush(pc, TRUE, error);
    int err = pcap_drain(pc);
    if (ok && err != 0) {
        pcap_set_io_error(pc, err, "write failed", error);
        ok = FALSE;
    }
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
    if (pc->writer != NULL) { /* its queued buffers are skipped, not written */
        pthread_mutex_lock(&pc->writer->lock);
        pc->async_errno = pc->async_errno != 0 ? pc->async_errno : ECANCELED;
        pthread_mutex_unlock(&pc->writer->lock);
        pcap_drain(pc);
    }
    fclose(pc->fp);
    pc->fp = NULL;
    g_remove(pc->tmp_path);
    pcap_free(pc);
}
