/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flight recorder's writer: records buffered in memory, appended to segments each tick. */

/*
 * Theory of operation
 *
 * The daemon adds records as things happen (vt_recorder_add_tick() after
 * each decision, vt_recorder_add_move() when a move ends, ...): each is
 * encoded at once into a buffer in memory, bounded by buffer_bytes. Once
 * per tick the daemon calls vt_recorder_flush(), which appends the buffer
 * to the current segment with write(2), rotates and removes old segments.
 * Nothing else touches the disk, and a flush writes a tick's worth (a few
 * KiB into the page cache): it does not hold the main loop.
 *
 * Segments are files `vmtide-SEQUENCE-WALLUS.vtrec` in the directory,
 * SEQUENCE counting up; a new one is begun past segment_bytes or
 * segment_age_us, never appended to once closed, and a writer never
 * appends to a segment it did not open (a segment left by a killed daemon
 * may end in half a record). Each begins with its header and the balloon
 * policy in force, so that any segment replays alone. Past max_bytes in
 * all, or once a segment's records are all older than max_age_us (its
 * successor began before that), the oldest segments are removed; the one
 * being written never is.
 *
 * Crash safety comes from the format: each record carries its length and
 * CRC-32C, so a reader stops cleanly at a half-written one. A daemon
 * killed loses the records added since the last flush (at most one tick)
 * and, if killed inside write(2), leaves half a record that readers
 * report and skip. There is no fsync(): after a power cut or a kernel
 * crash what the kernel had not written back is lost too (up to about
 * 30 s with Linux's default dirty_expire_centisecs), and the file may end
 * in zeros or garbage, which readers treat the same way.
 *
 * A failed write (disk full, directory gone or read-only) is returned once
 * by vt_recorder_flush() and pauses recording: the half-written record is
 * cut off with ftruncate(), flushes while paused drop what was added
 * (counted), and after retry_us a flush tries again, in a new segment. The caller logs the error;
 * this library logs nothing above debug. Time comes from the caller (wall_us), so tests drive the
 * clock.
 */
#include "host/recorder/recorder-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
        guint64 sequence;
        gint64 wall_us;
        guint64 bytes;
        char *path;
} Segment;

struct _VtRecorder {
        VtRecorderConfig config;
        char *dir;
        GByteArray *buffer;
        guint n_buffered;
        /* The wall-clock time of the buffer's first record: a segment is
         * named and dated by its first record, so that readers and the age
         * limit can tell what a segment holds by its successor's date. */
        gint64 buffer_wall_us;
        /* The segment being written: fd -1 when none. */
        int fd;
        /* Every segment of the directory, oldest first; the one being
         * written last. Filled by the first open (scanned). */
        GQueue segments;
        gboolean scanned;
        guint64 next_sequence;
        gboolean paused;
        gint64 retry_at_us;
        /* The policy: policy_key its latest encoding with times 0, to see
         * a change; policy_frame the latest record; head_frame the one in
         * force where the buffer begins, written at the head of a segment
         * opened for it. */
        GByteArray *policy_key;
        GByteArray *policy_frame;
        GByteArray *head_frame;
        /* The latest monotonic time a record carried, for the header. */
        gint64 last_mono_us;
        VtRecorderStats stats;
};

static void
segment_free(gpointer data)
{
        Segment *segment = data;

        g_free(segment->path);
        g_free(segment);
}

/**
 * vt_recorder_config_init:
 * @config: (out caller-allocates): filled with the defaults
 */
void
vt_recorder_config_init(VtRecorderConfig *config)
{
        g_return_if_fail(config != NULL);

        *config = (VtRecorderConfig){
            .dir = VT_RECORDER_DIR_DEFAULT,
            /* A guest costs about 310 KiB an hour at a tick every 2 s
             * (docs/benchmarks.md): 1 GiB is a week of 20 guests, a day of
             * 140. The age limit comes first on smaller hosts. */
            .max_bytes = G_GUINT64_CONSTANT(1) << 30,
            .max_age_us = 7 * G_TIME_SPAN_DAY,
            .segment_bytes = G_GUINT64_CONSTANT(8) << 20,
            .segment_age_us = G_TIME_SPAN_HOUR,
            /* Far more than a tick of 1000 guests. */
            .buffer_bytes = 4 << 20,
            .retry_us = G_TIME_SPAN_MINUTE,
        };
}

/**
 * vt_recorder_new:
 * @config: the limits (copied; @config->dir too)
 *
 * Makes a writer. It touches the disk first at the first
 * vt_recorder_flush(), where any error shows.
 *
 * Returns: (transfer full): the writer
 */
VtRecorder *
vt_recorder_new(const VtRecorderConfig *config)
{
        VtRecorder *recorder;

        g_return_val_if_fail(config != NULL && config->dir != NULL, NULL);

        recorder = g_new0(VtRecorder, 1);
        recorder->config = *config;
        recorder->dir = g_strdup(config->dir);
        recorder->config.dir = recorder->dir;
        if (recorder->config.segment_bytes == 0)
                recorder->config.segment_bytes = G_GUINT64_CONSTANT(8) << 20;
        /* Two segments at least fit in the limit, so that one can go. */
        if (recorder->config.max_bytes > 0)
                recorder->config.segment_bytes =
                    MIN(recorder->config.segment_bytes, MAX(recorder->config.max_bytes / 2, 1));
        recorder->buffer = g_byte_array_new();
        recorder->fd = -1;
        g_queue_init(&recorder->segments);
        recorder->stats.recording = TRUE;
        return recorder;
}

static void
segment_close(VtRecorder *recorder)
{
        if (recorder->fd >= 0)
                close(recorder->fd);
        recorder->fd = -1;
}

/**
 * vt_recorder_free:
 * @recorder: (nullable): the writer
 *
 * Closes the segment; what was added since the last vt_recorder_flush()
 * is lost (flush first).
 */
void
vt_recorder_free(VtRecorder *recorder)
{
        if (recorder == NULL)
                return;
        segment_close(recorder);
        g_queue_clear_full(&recorder->segments, segment_free);
        g_byte_array_unref(recorder->buffer);
        g_clear_pointer(&recorder->policy_key, g_byte_array_unref);
        g_clear_pointer(&recorder->policy_frame, g_byte_array_unref);
        g_clear_pointer(&recorder->head_frame, g_byte_array_unref);
        g_free(recorder->dir);
        g_free(recorder);
}

/**
 * vt_recorder_add:
 * @recorder: the writer
 * @record: the record (only read)
 *
 * Encodes @record into the buffer, for the next vt_recorder_flush().
 *
 * Returns: %FALSE when it was dropped: the buffer or the record is past
 *     its bound (counted in #VtRecorderStats.dropped). While recording is
 *     paused records are buffered still, and the flush drops them
 */
gboolean
vt_recorder_add(VtRecorder *recorder, const VtRecorderRecord *record)
{
        guint start;

        g_return_val_if_fail(recorder != NULL && record != NULL, FALSE);

        recorder->last_mono_us = record->mono_us;
        start = recorder->buffer->len;
        vt_recorder_encode(recorder->buffer, record);
        if (recorder->buffer->len > recorder->config.buffer_bytes ||
            recorder->buffer->len - start > VT_RECORDER_RECORD_BYTES_MAX + VT_RECORDER_FRAME_SIZE) {
                g_byte_array_set_size(recorder->buffer, start);
                recorder->stats.dropped++;
                return FALSE;
        }
        if (recorder->n_buffered++ == 0)
                recorder->buffer_wall_us = record->wall_us;
        return TRUE;
}

/**
 * vt_recorder_add_policy:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @mono_us: monotonic time
 * @name: the balloon policy's registry name
 * @config: its tunables
 *
 * Records the balloon policy in force when it differs from the last one
 * (call it each tick, or at the start and on each change); it is written
 * again at the head of every segment.
 *
 * Returns: %FALSE when a changed policy was dropped (see vt_recorder_add())
 */
gboolean
vt_recorder_add_policy(VtRecorder *recorder, gint64 wall_us, gint64 mono_us, const char *name,
                       const VtBalloonConfig *config)
{
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_POLICY};
        g_autoptr(GByteArray) key = g_byte_array_new();
        GByteArray *frame;

        g_return_val_if_fail(recorder != NULL && name != NULL && config != NULL, FALSE);

        record.u.policy.name = (char *)name;
        record.u.policy.config = *config;
        vt_recorder_encode(key, &record);
        if (recorder->policy_key != NULL && recorder->policy_key->len == key->len &&
            memcmp(recorder->policy_key->data, key->data, key->len) == 0)
                return TRUE;

        g_clear_pointer(&recorder->policy_key, g_byte_array_unref);
        recorder->policy_key = g_steal_pointer(&key);
        record.wall_us = wall_us;
        record.mono_us = mono_us;
        frame = g_byte_array_new();
        vt_recorder_encode(frame, &record);
        g_clear_pointer(&recorder->policy_frame, g_byte_array_unref);
        recorder->policy_frame = frame;
        return vt_recorder_add(recorder, &record);
}

/**
 * vt_recorder_add_tick:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @why: (nullable): what ran the policy out of turn; %NULL for a periodic
 *     tick
 * @input: what vt_balloon_decide() took (its now_us is the record's
 *     monotonic time)
 * @before: the policy's state as it was before the decision
 * @decision: the decision, @input->n_guests targets
 *
 * Records one run of the balloon policy.
 *
 * Returns: %FALSE when it was dropped (see vt_recorder_add())
 */
gboolean
vt_recorder_add_tick(VtRecorder *recorder, gint64 wall_us, const char *why,
                     const VtBalloonInput *input, const VtBalloonState *before,
                     const VtBalloonDecision *decision)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_TICK,
            .wall_us = wall_us,
        };
        VtRecorderTick *tick = &record.u.tick;

        g_return_val_if_fail(recorder != NULL && input != NULL && before != NULL, FALSE);
        g_return_val_if_fail(decision != NULL && input->host != NULL, FALSE);

        record.mono_us = input->now_us;
        /* Borrowed for the encoding, which only reads. */
        tick->why = (char *)why;
        tick->paused = input->paused;
        tick->host = *input->host;
        tick->state = *before;
        tick->n_guests = input->n_guests;
        tick->guests = (VtBalloonGuest *)input->guests;
        tick->configs = (VtBalloonGuestConfig *)input->configs;
        tick->decision = *decision;
        return vt_recorder_add(recorder, &record);
}

/**
 * vt_recorder_add_move:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @mono_us: monotonic time
 * @guest: the guest
 * @outcome: how the move ended
 * @actual_bytes: the balloon's size now
 * @target_bytes: what was asked for (0: not known)
 * @elapsed_us: since it was asked for (0: not known)
 * @detail: (nullable): the backend's message for a refusal
 *
 * Records the end of a balloon move.
 *
 * Returns: %FALSE when it was dropped (see vt_recorder_add())
 */
gboolean
vt_recorder_add_move(VtRecorder *recorder, gint64 wall_us, gint64 mono_us, const char *guest,
                     VtRecorderMoveOutcome outcome, guint64 actual_bytes, guint64 target_bytes,
                     gint64 elapsed_us, const char *detail)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_MOVE,
            .wall_us = wall_us,
            .mono_us = mono_us,
            .u.move = {.guest = (char *)guest,
                       .outcome = outcome,
                       .actual_bytes = actual_bytes,
                       .target_bytes = target_bytes,
                       .elapsed_us = elapsed_us,
                       .detail = (char *)detail},
        };

        g_return_val_if_fail(guest != NULL, FALSE);
        return vt_recorder_add(recorder, &record);
}

/**
 * vt_recorder_add_control:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @mono_us: monotonic time
 * @kind: what changed
 * @guest: (nullable): the guest it concerns
 * @bytes: a size that goes with it (a hold's target), or 0
 * @detail: (nullable): in words
 *
 * Records a change by hand (pause, hold, a guest's policy) or of the
 * daemon (start, stop, a guest found or gone).
 *
 * Returns: %FALSE when it was dropped (see vt_recorder_add())
 */
gboolean
vt_recorder_add_control(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                        VtRecorderControlKind kind, const char *guest, guint64 bytes,
                        const char *detail)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_CONTROL,
            .wall_us = wall_us,
            .mono_us = mono_us,
            .u.control = {.kind = kind,
                          .guest = (char *)guest,
                          .bytes = bytes,
                          .detail = (char *)detail},
        };

        return vt_recorder_add(recorder, &record);
}

/* Writes all of @len bytes; -errno on failure. */
static int
write_all(int fd, const guint8 *data, gsize len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                data += n;
                len -= (gsize)n;
        }
        return 0;
}

static gboolean
segment_name_parse(const char *name, guint64 *ret_sequence, gint64 *ret_wall_us)
{
        guint64 sequence;
        gint64 wall_us;
        int end = 0;

        if (sscanf(name, "vmtide-%" G_GUINT64_FORMAT "-%" G_GINT64_FORMAT ".vtrec%n", &sequence,
                   &wall_us, &end) != 2 ||
            end == 0 || name[end] != '\0')
                return FALSE;
        *ret_sequence = sequence;
        *ret_wall_us = wall_us;
        return TRUE;
}

static gint
segment_compare(gconstpointer a, gconstpointer b, gpointer user_data)
{
        const Segment *sa = a, *sb = b;

        return sa->sequence < sb->sequence ? -1 : sa->sequence > sb->sequence;
}

/* Creates the directory and learns the segments already in it. */
static gboolean
segments_scan(VtRecorder *recorder, GError **error)
{
        g_autoptr(GDir) dir = NULL;
        const char *name;

        if (g_mkdir_with_parents(recorder->dir, 0750) < 0) {
                int saved = errno;

                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO,
                            "cannot create the history directory '%s': %s", recorder->dir,
                            g_strerror(saved));
                return FALSE;
        }
        dir = g_dir_open(recorder->dir, 0, error);
        if (dir == NULL)
                return FALSE;
        g_queue_clear_full(&recorder->segments, segment_free);
        recorder->next_sequence = 1;
        while ((name = g_dir_read_name(dir)) != NULL) {
                Segment segment = {0};
                GStatBuf st;

                if (!segment_name_parse(name, &segment.sequence, &segment.wall_us))
                        continue;
                segment.path = g_build_filename(recorder->dir, name, NULL);
                if (g_stat(segment.path, &st) < 0 || !S_ISREG(st.st_mode)) {
                        g_free(segment.path);
                        continue;
                }
                segment.bytes = (guint64)st.st_size;
                recorder->next_sequence = MAX(recorder->next_sequence, segment.sequence + 1);
                g_queue_push_tail(&recorder->segments, g_memdup2(&segment, sizeof(segment)));
        }
        g_queue_sort(&recorder->segments, segment_compare, NULL);
        recorder->scanned = TRUE;
        return TRUE;
}

/* Begins a new segment: its header and the policy in force. */
static gboolean
segment_open(VtRecorder *recorder, gint64 wall_us, GError **error)
{
        g_autoptr(GByteArray) head = g_byte_array_new();
        VtRecorderHeader header = {.wall_us = wall_us, .mono_us = recorder->last_mono_us};
        Segment *segment;
        g_autofree char *name = NULL;
        int r;

        if (!recorder->scanned && !segments_scan(recorder, error))
                return FALSE;
        if (recorder->n_buffered > 0)
                header.wall_us = wall_us = MIN(wall_us, recorder->buffer_wall_us);
        header.sequence = recorder->next_sequence++;
        name = g_strdup_printf("vmtide-%010" G_GUINT64_FORMAT "-%" G_GINT64_FORMAT ".vtrec",
                               header.sequence, wall_us);
        segment = g_new0(Segment, 1);
        *segment = (Segment){.sequence = header.sequence, .wall_us = wall_us};
        segment->path = g_build_filename(recorder->dir, name, NULL);
        recorder->fd =
            open(segment->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
        if (recorder->fd < 0) {
                int saved = errno;

                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO,
                            "cannot create the history segment '%s': %s", segment->path,
                            g_strerror(saved));
                segment_free(segment);
                return FALSE;
        }
        vt_recorder_header_encode(head, &header);
        /* Unless the buffer begins with a policy of its own. */
        if (recorder->head_frame != NULL &&
            !(recorder->buffer->len > VT_RECORDER_FRAME_SIZE &&
              recorder->buffer->data[VT_RECORDER_FRAME_SIZE] == VT_RECORDER_RECORD_POLICY))
                g_byte_array_append(head, recorder->head_frame->data, recorder->head_frame->len);
        r = write_all(recorder->fd, head->data, head->len);
        if (r < 0) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO,
                            "cannot write the history segment '%s': %s", segment->path,
                            g_strerror(-r));
                segment_close(recorder);
                g_unlink(segment->path);
                segment_free(segment);
                return FALSE;
        }
        segment->bytes = head->len;
        recorder->stats.bytes += head->len;
        g_queue_push_tail(&recorder->segments, segment);
        g_debug("history: writing '%s'", segment->path);
        return TRUE;
}

static Segment *
segment_current(VtRecorder *recorder)
{
        return recorder->fd >= 0 ? g_queue_peek_tail(&recorder->segments) : NULL;
}

static gboolean
segment_is_full(VtRecorder *recorder, gint64 wall_us)
{
        Segment *segment = segment_current(recorder);

        return segment->bytes >= recorder->config.segment_bytes ||
               (recorder->config.segment_age_us > 0 &&
                wall_us - segment->wall_us >= recorder->config.segment_age_us);
}

/* Removes the oldest segments past the size or age limit. */
static void
segments_prune(VtRecorder *recorder, gint64 wall_us)
{
        guint64 total = 0;

        for (GList *l = recorder->segments.head; l != NULL; l = l->next)
                total += ((Segment *)l->data)->bytes;
        while (recorder->segments.length > 1) {
                Segment *oldest = g_queue_peek_head(&recorder->segments);
                Segment *next = g_queue_peek_nth(&recorder->segments, 1);
                /* Every record of the oldest was written before the next began. */
                gboolean too_old = recorder->config.max_age_us > 0 &&
                                   next->wall_us < wall_us - recorder->config.max_age_us;
                gboolean too_big =
                    recorder->config.max_bytes > 0 && total > recorder->config.max_bytes;

                if (!too_old && !too_big)
                        break;
                if (g_unlink(oldest->path) < 0 && errno != ENOENT)
                        g_debug("history: cannot remove '%s': %s", oldest->path, g_strerror(errno));
                else
                        g_debug("history: removed '%s' (%s)", oldest->path,
                                too_old ? "past the age limit" : "past the size limit");
                total -= oldest->bytes;
                segment_free(g_queue_pop_head(&recorder->segments));
        }
}

/* The buffer was written or dropped: the latest policy is in force where
 * the next one begins. */
static void
buffer_reset(VtRecorder *recorder)
{
        g_byte_array_set_size(recorder->buffer, 0);
        recorder->n_buffered = 0;
        if (recorder->policy_frame != NULL && recorder->head_frame != recorder->policy_frame) {
                g_clear_pointer(&recorder->head_frame, g_byte_array_unref);
                recorder->head_frame = g_byte_array_ref(recorder->policy_frame);
        }
}

/* After an I/O error: drop what is buffered, stop until retry_us. */
static void
recording_pause(VtRecorder *recorder, gint64 wall_us)
{
        segment_close(recorder);
        recorder->stats.dropped += recorder->n_buffered;
        buffer_reset(recorder);
        recorder->paused = TRUE;
        recorder->stats.recording = FALSE;
        recorder->retry_at_us = wall_us + recorder->config.retry_us;
        /* The directory may change meanwhile: learn it again. */
        recorder->scanned = FALSE;
}

/* Appends the buffer to the current segment; cuts a partial write off. */
static gboolean
buffer_write(VtRecorder *recorder, GError **error)
{
        Segment *segment = segment_current(recorder);
        int r = write_all(recorder->fd, recorder->buffer->data, recorder->buffer->len);

        if (r < 0) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO,
                            "cannot write the history segment '%s': %s", segment->path,
                            g_strerror(-r));
                /* What was written of this flush goes: the segment ends on
                 * a whole record for the readers. */
                if (ftruncate(recorder->fd, (off_t)segment->bytes) < 0)
                        g_debug("history: cannot cut '%s' back: %s", segment->path,
                                g_strerror(errno));
                return FALSE;
        }
        segment->bytes += recorder->buffer->len;
        recorder->stats.bytes += recorder->buffer->len;
        recorder->stats.records += recorder->n_buffered;
        buffer_reset(recorder);
        return TRUE;
}

/**
 * vt_recorder_flush:
 * @recorder: the writer
 * @wall_us: wall-clock time now (rotation and the age limit use it)
 * @error: #VT_RECORDER_ERROR_IO naming the file or directory
 *
 * Writes what was added since the last flush, begins a new segment when
 * the current one is full or old, and removes segments past the limits.
 * Call it once per tick. On an I/O error recording pauses: this call
 * returns the error (log it), later ones return %TRUE and drop what was
 * added until @wall_us passes the retry time, when writing is tried again
 * in a new segment; a retry that fails is not reported again.
 * vt_recorder_get_stats() says whether it is recording (compare before
 * and after a flush to log the resumption).
 *
 * Returns: %FALSE with @error when recording has just paused
 */
gboolean
vt_recorder_flush(VtRecorder *recorder, gint64 wall_us, GError **error)
{
        g_return_val_if_fail(recorder != NULL, FALSE);

        g_autoptr(GError) local = NULL;
        gboolean retry = recorder->paused;

        if (recorder->paused && wall_us < recorder->retry_at_us) {
                recorder->stats.dropped += recorder->n_buffered;
                buffer_reset(recorder);
                return TRUE;
        }
        recorder->paused = FALSE;
        if (recorder->buffer->len == 0)
                return TRUE;
        if (recorder->fd >= 0 && segment_is_full(recorder, wall_us))
                segment_close(recorder);
        if ((recorder->fd < 0 && !segment_open(recorder, wall_us, &local)) ||
            !buffer_write(recorder, &local)) {
                recording_pause(recorder, wall_us);
                /* Said once when recording stops, not at each retry. */
                if (retry) {
                        g_debug("history: still paused: %s", local->message);
                        return TRUE;
                }
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        recorder->stats.recording = TRUE;
        segments_prune(recorder, wall_us);
        return TRUE;
}

/**
 * vt_recorder_get_stats:
 * @recorder: the writer
 * @ret_stats: (out): what it wrote, dropped and keeps
 */
void
vt_recorder_get_stats(VtRecorder *recorder, VtRecorderStats *ret_stats)
{
        Segment *segment;

        g_return_if_fail(recorder != NULL && ret_stats != NULL);

        segment = segment_current(recorder);
        *ret_stats = recorder->stats;
        ret_stats->n_segments = recorder->segments.length;
        ret_stats->disk_bytes = 0;
        for (GList *l = recorder->segments.head; l != NULL; l = l->next)
                ret_stats->disk_bytes += ((Segment *)l->data)->bytes;
        ret_stats->path = segment != NULL ? segment->path : NULL;
}
