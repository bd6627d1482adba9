/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded reads of small kernel files (sysfs knobs, /proc/PID files), as GLib strings. */
#pragma once

#include <glib.h>

#include "common/vt-file.h"

G_BEGIN_DECLS

/* Larger than any KSM knob, ksm_stat or stat file: a bound on what is read. */
#define VT_KSM_FILE_MAX VT_FILE_SMALL_MAX

int vt_ksm_file_read(const char *path, char **ret_text);

G_END_DECLS
