/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a recorded history back: records of a time range, across segments, by guest. */
#pragma once

#include <glib.h>

#include "host/recorder/recorder-format.h"

G_BEGIN_DECLS

typedef struct _VtRecorderReader VtRecorderReader;

VtRecorderReader *vt_recorder_reader_new(const char *path, GError **error);
void vt_recorder_reader_free(VtRecorderReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtRecorderReader, vt_recorder_reader_free)

void vt_recorder_reader_set_range(VtRecorderReader *reader, gint64 since_wall_us,
                                  gint64 until_wall_us);
void vt_recorder_reader_set_guest(VtRecorderReader *reader, const char *guest);

gboolean vt_recorder_reader_next(VtRecorderReader *reader, VtRecorderRecord **ret_record,
                                 GError **error);

guint vt_recorder_reader_get_n_segments(VtRecorderReader *reader);
guint vt_recorder_reader_get_n_damaged(VtRecorderReader *reader);
const char *vt_recorder_reader_get_path(VtRecorderReader *reader);
guint64 vt_recorder_reader_get_offset(VtRecorderReader *reader);

G_END_DECLS
