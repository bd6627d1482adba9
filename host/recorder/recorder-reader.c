/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a recorded history back, segment by segment, up to any damage and past it. */

/*
 * Theory of operation
 *
 * A reader lists the segments of a history directory (or takes one
 * segment file), in the order of their sequence numbers, and walks each
 * with vt_recorder_frame_next(), reading one file at a time into memory
 * (not mapping it: the daemon may cut a segment back after a failed write,
 * and a mapping read past the new end would be SIGBUS). Each call to
 * vt_recorder_reader_next() returns the next record that passes the
 * filters, or reports damage once and moves on:
 *
 *   - a segment that ends inside a record (a write cut short), a record
 *     whose checksum or length is wrong, a bad header: the error names the
 *     file and the offset and says how many records before it were read;
 *     the rest of that segment is skipped (nothing after a bad length can
 *     be trusted to be a record boundary) and the next call goes on with
 *     the next segment;
 *   - a record whose checksum matches but that does not decode: reported
 *     the same way, and reading goes on with the record after it (the
 *     framing still holds);
 *   - a record of a type this version does not know (a newer writer):
 *     skipped silently.
 *
 * The newest segment of a running daemon may end in a record being
 * written: that shows as a cut-short record at its end
 * (#VT_RECORDER_ERROR_TRUNCATED), which a caller may take as "live".
 *
 * The time range is on the records' wall-clock times; a segment is
 * skipped unread when the next one began before the range (all its
 * records are older) or it began after the range. Policy records pass
 * the range: the policy in force at the range's start is the last one
 * before it. The guest filter is vt_recorder_record_keep_guest()'s.
 */
#include "host/recorder/recorder-reader.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

/* The largest file read as a segment: the writer's are 8 MiB by default. */
#define VT_RECORDER_SEGMENT_READ_MAX (1024u << 20)

typedef struct {
        char *path;
        guint64 sequence;
        gint64 wall_us; /* from its name; G_MININT64 when not known */
} SegmentFile;

struct _VtRecorderReader {
        GArray *segments; /* SegmentFile, by sequence */
        guint next_segment;
        GBytes *map;      /* the segment being read, or NULL */
        const char *path; /* its path (in segments) */
        gsize offset;     /* the next frame in it */
        gsize record_offset;
        guint n_read; /* records read from it */
        guint n_damaged;
        gint64 since_us;
        gint64 until_us;
        char *guest;
};

static void
segment_file_clear(gpointer data)
{
        g_free(((SegmentFile *)data)->path);
}

static gint
segment_file_compare(gconstpointer a, gconstpointer b)
{
        const SegmentFile *sa = a, *sb = b;

        return sa->sequence < sb->sequence ? -1 : sa->sequence > sb->sequence;
}

static gboolean
list_directory(VtRecorderReader *reader, const char *path, GError **error)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, error);
        const char *name;

        if (dir == NULL)
                return FALSE;
        while ((name = g_dir_read_name(dir)) != NULL) {
                SegmentFile file = {0};
                int end = 0;

                if (sscanf(name, "vmtide-%" G_GUINT64_FORMAT "-%" G_GINT64_FORMAT ".vtrec%n",
                           &file.sequence, &file.wall_us, &end) != 2 ||
                    end == 0 || name[end] != '\0')
                        continue;
                file.path = g_build_filename(path, name, NULL);
                g_array_append_val(reader->segments, file);
        }
        g_array_sort(reader->segments, segment_file_compare);
        return TRUE;
}

/**
 * vt_recorder_reader_new:
 * @path: a history directory (its `vmtide-*.vtrec` segments are read in
 *     order) or one segment file
 * @error: #VT_RECORDER_ERROR_IO when @path cannot be read
 *
 * Opens a history for reading; segments are opened as they are reached.
 * A directory without segments is an empty history, not an error.
 *
 * Returns: (transfer full): the reader, or %NULL with @error
 */
VtRecorderReader *
vt_recorder_reader_new(const char *path, GError **error)
{
        g_autoptr(VtRecorderReader) reader = NULL;
        g_autoptr(GError) local = NULL;

        g_return_val_if_fail(path != NULL, NULL);

        reader = g_new0(VtRecorderReader, 1);
        reader->segments = g_array_new(FALSE, TRUE, sizeof(SegmentFile));
        g_array_set_clear_func(reader->segments, segment_file_clear);
        reader->since_us = G_MININT64;
        reader->until_us = G_MAXINT64;
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
                if (!list_directory(reader, path, &local)) {
                        g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO,
                                    "cannot read the history '%s': %s", path, local->message);
                        return NULL;
                }
        } else if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
                SegmentFile file = {.path = g_strdup(path), .wall_us = G_MININT64};

                g_array_append_val(reader->segments, file);
        } else {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO,
                            "cannot read the history '%s': no such directory or file", path);
                return NULL;
        }
        return g_steal_pointer(&reader);
}

/**
 * vt_recorder_reader_free:
 * @reader: (nullable): the reader
 */
void
vt_recorder_reader_free(VtRecorderReader *reader)
{
        if (reader == NULL)
                return;
        g_clear_pointer(&reader->map, g_bytes_unref);
        g_array_unref(reader->segments);
        g_free(reader->guest);
        g_free(reader);
}

/**
 * vt_recorder_reader_set_range:
 * @reader: the reader, before the first record is read
 * @since_wall_us: the first wall-clock time wanted (G_MININT64: from the
 *     start)
 * @until_wall_us: the first time no longer wanted (G_MAXINT64: to the end)
 *
 * Keeps the records with @since_wall_us <= wall_us < @until_wall_us, and
 * every policy record (the policy in force at the start is the last one
 * before it).
 */
void
vt_recorder_reader_set_range(VtRecorderReader *reader, gint64 since_wall_us, gint64 until_wall_us)
{
        g_return_if_fail(reader != NULL);

        reader->since_us = since_wall_us;
        reader->until_us = until_wall_us;
}

/**
 * vt_recorder_reader_set_guest:
 * @reader: the reader
 * @guest: (nullable): a guest's name; %NULL: every guest
 *
 * Keeps what concerns @guest (vt_recorder_record_keep_guest()): ticks and
 * KSM steps filtered down to its entries, its moves, migrations and
 * control records, and the host's control records and policies.
 */
void
vt_recorder_reader_set_guest(VtRecorderReader *reader, const char *guest)
{
        g_return_if_fail(reader != NULL);

        g_free(reader->guest);
        reader->guest = g_strdup(guest);
}

/* Segment @i holds nothing of the range: skip it unread. */
static gboolean
segment_outside_range(VtRecorderReader *reader, guint i)
{
        const SegmentFile *file = &g_array_index(reader->segments, SegmentFile, i);

        if (file->wall_us != G_MININT64 && file->wall_us >= reader->until_us)
                return TRUE;
        if (i + 1 < reader->segments->len) {
                const SegmentFile *next = &g_array_index(reader->segments, SegmentFile, i + 1);

                return next->wall_us != G_MININT64 && next->wall_us <= reader->since_us;
        }
        return FALSE;
}

static void
segment_end(VtRecorderReader *reader)
{
        g_clear_pointer(&reader->map, g_bytes_unref);
}

/* Damage in the current segment: reported once, naming file and offset. */
static void
report_damage(VtRecorderReader *reader, gsize offset, GError *cause, gboolean go_on, GError **error)
{
        reader->n_damaged++;
        g_set_error(error, VT_RECORDER_ERROR, cause->code,
                    "history segment '%s', offset %" G_GSIZE_FORMAT
                    ": %s; %u record(s) before it read; %s",
                    reader->path, offset, cause->message, reader->n_read,
                    go_on ? "reading goes on after it" : "the rest of the segment is skipped");
        if (!go_on)
                segment_end(reader);
}

/* A segment's bytes, bounded: a file far past any segment's size is not one. */
static GBytes *
segment_read(const char *path, GError **error)
{
        GStatBuf st;
        char *contents;
        gsize len;

        if (g_stat(path, &st) < 0) {
                int saved = errno;

                g_set_error_literal(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                                    g_strerror(saved));
                return NULL;
        }
        if ((guint64)st.st_size > VT_RECORDER_SEGMENT_READ_MAX) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "%" G_GUINT64_FORMAT " bytes, past the %u MiB a segment may have",
                            (guint64)st.st_size, VT_RECORDER_SEGMENT_READ_MAX >> 20);
                return NULL;
        }
        if (!g_file_get_contents(path, &contents, &len, error))
                return NULL;
        return g_bytes_new_take(contents, len);
}

/* Opens the next segment in range; FALSE at the end or with @error. */
static gboolean
segment_begin(VtRecorderReader *reader, GError **error)
{
        g_autoptr(GError) local = NULL;
        VtRecorderHeader header;

        while (reader->next_segment < reader->segments->len &&
               segment_outside_range(reader, reader->next_segment))
                reader->next_segment++;
        if (reader->next_segment >= reader->segments->len)
                return FALSE;
        reader->path = g_array_index(reader->segments, SegmentFile, reader->next_segment).path;
        reader->next_segment++;
        reader->n_read = 0;
        reader->offset = 0;
        reader->map = segment_read(reader->path, &local);
        if (reader->map == NULL) {
                reader->n_damaged++;
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO,
                            "history segment '%s': %s", reader->path, local->message);
                return FALSE;
        }
        if (!vt_recorder_header_decode(g_bytes_get_data(reader->map, NULL),
                                       g_bytes_get_size(reader->map), &header, &local)) {
                report_damage(reader, 0, local, FALSE, error);
                return FALSE;
        }
        reader->offset = VT_RECORDER_HEADER_SIZE;
        return TRUE;
}

/* The next record of the current segment, decoded and filtered. */
static gboolean
segment_next(VtRecorderReader *reader, VtRecorderRecord **ret_record, GError **error)
{
        gsize len;
        const guint8 *data = g_bytes_get_data(reader->map, &len);

        while (reader->map != NULL && reader->offset < len) {
                g_autoptr(GError) local = NULL;
                g_autoptr(VtRecorderRecord) record = NULL;
                const guint8 *body;
                gsize body_len, at = reader->offset;

                if (!vt_recorder_frame_next(data, len, at, &body, &body_len, &local)) {
                        report_damage(reader, at, local, FALSE, error);
                        return FALSE;
                }
                reader->offset = at + VT_RECORDER_FRAME_SIZE + body_len;
                /* A type this version does not know: a newer writer's. */
                if (body[0] == 0 || body[0] >= VT_RECORDER_RECORD_MAX)
                        continue;
                if (!vt_recorder_decode(body, body_len, &record, &local)) {
                        report_damage(reader, at, local, TRUE, error);
                        return FALSE;
                }
                reader->n_read++;
                reader->record_offset = at;
                if (record->type != VT_RECORDER_RECORD_POLICY &&
                    (record->wall_us < reader->since_us || record->wall_us >= reader->until_us))
                        continue;
                if (reader->guest != NULL && !vt_recorder_record_keep_guest(record, reader->guest))
                        continue;
                *ret_record = g_steal_pointer(&record);
                return TRUE;
        }
        segment_end(reader);
        return FALSE;
}

/**
 * vt_recorder_reader_next:
 * @reader: the reader
 * @ret_record: (out) (transfer full): the next record that passes the
 *     filters; free it with vt_recorder_record_free()
 * @error: damage, naming the segment file and the offset (see the theory
 *     of operation): #VT_RECORDER_ERROR_TRUNCATED, _CORRUPT, _VERSION or
 *     _IO
 *
 * Reads on. Call it until it returns %FALSE without an error: a %FALSE
 * with an error reports damage once, and the next call goes on past it
 * (with the next segment, or the next record when the framing held).
 *
 * Returns: %TRUE with a record; %FALSE at the end, or with @error
 */
gboolean
vt_recorder_reader_next(VtRecorderReader *reader, VtRecorderRecord **ret_record, GError **error)
{
        g_return_val_if_fail(reader != NULL && ret_record != NULL, FALSE);

        for (;;) {
                g_autoptr(GError) local = NULL;

                if (reader->map == NULL && !segment_begin(reader, &local)) {
                        if (local != NULL)
                                g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                if (segment_next(reader, ret_record, &local))
                        return TRUE;
                if (local != NULL) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
        }
}

/* Returns: how many segments the history has (read or not). */
guint
vt_recorder_reader_get_n_segments(VtRecorderReader *reader)
{
        g_return_val_if_fail(reader != NULL, 0);
        return reader->segments->len;
}

/* Returns: how many times damage was reported so far. */
guint
vt_recorder_reader_get_n_damaged(VtRecorderReader *reader)
{
        g_return_val_if_fail(reader != NULL, 0);
        return reader->n_damaged;
}

/* Returns: (nullable) (transfer none): the segment the last record came from. */
const char *
vt_recorder_reader_get_path(VtRecorderReader *reader)
{
        g_return_val_if_fail(reader != NULL, NULL);
        return reader->path;
}

/* Returns: the offset of the last record returned in its segment. */
guint64
vt_recorder_reader_get_offset(VtRecorderReader *reader)
{
        g_return_val_if_fail(reader != NULL, 0);
        return reader->record_offset;
}
