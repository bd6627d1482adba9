/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flight recorder's writer: a bounded, rotated, crash-safe history on disk. */
#pragma once

#include <glib.h>

#include "host/recorder/recorder-format.h"

G_BEGIN_DECLS

/* Where the history goes unless configured. */
#define VT_RECORDER_DIR_DEFAULT "/var/lib/vmtide/history"

/**
 * VtRecorderConfig:
 * @dir: the history's directory (borrowed; created with its parents,
 *     mode 0750, when missing)
 * @max_bytes: the most the segments may take in all; past it the oldest
 *     are removed (0: no size limit)
 * @max_age_us: segments whose every record is older than this are removed
 *     (0: no age limit)
 * @segment_bytes: a segment is closed and a new one begun past this size
 * @segment_age_us: ... or once it is this old (0: only by size), so that
 *     the age limit removes history an hour at a time
 * @buffer_bytes: records kept between two flushes, at most; past it a
 *     record is dropped (and counted)
 * @retry_us: after an I/O error, recording stays paused this long before
 *     it tries again
 *
 * The writer's limits. vt_recorder_config_init() gives the defaults.
 */
typedef struct {
        const char *dir;
        guint64 max_bytes;
        gint64 max_age_us;
        guint64 segment_bytes;
        gint64 segment_age_us;
        gsize buffer_bytes;
        gint64 retry_us;
} VtRecorderConfig;

/**
 * VtRecorderStats:
 * @recording: %FALSE while paused after an I/O error
 * @records: records written since the start
 * @bytes: bytes written since the start (headers included)
 * @dropped: records dropped: while paused, past the buffer, or lost to a
 *     failed write
 * @n_segments: segments in the directory now
 * @disk_bytes: their size in all
 * @path: (nullable): the segment being written (borrowed; valid until the
 *     next call on the writer)
 */
typedef struct {
        gboolean recording;
        guint64 records;
        guint64 bytes;
        guint64 dropped;
        guint n_segments;
        guint64 disk_bytes;
        const char *path;
} VtRecorderStats;

typedef struct _VtRecorder VtRecorder;

void vt_recorder_config_init(VtRecorderConfig *config);

VtRecorder *vt_recorder_new(const VtRecorderConfig *config);
void vt_recorder_free(VtRecorder *recorder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtRecorder, vt_recorder_free)

gboolean vt_recorder_add(VtRecorder *recorder, const VtRecorderRecord *record);
gboolean vt_recorder_add_policy(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                                const char *name, const VtBalloonConfig *config);
gboolean vt_recorder_add_tick(VtRecorder *recorder, gint64 wall_us, const char *why,
                              const VtBalloonInput *input, const VtBalloonState *before,
                              const VtBalloonDecision *decision);
gboolean vt_recorder_add_move(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                              const char *guest, VtRecorderMoveOutcome outcome,
                              guint64 actual_bytes, guint64 target_bytes, gint64 elapsed_us,
                              const char *detail);
gboolean vt_recorder_add_control(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                                 VtRecorderControlKind kind, const char *guest, guint64 bytes,
                                 const char *detail);

gboolean vt_recorder_flush(VtRecorder *recorder, gint64 wall_us, GError **error);
void vt_recorder_get_stats(VtRecorder *recorder, VtRecorderStats *ret_stats);

G_END_DECLS
