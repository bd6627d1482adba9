/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What history, replay and plot share: finding the history, times, reading past damage. */
#pragma once

#include "cli/cli-util.h"
#include "host/recorder/recorder-reader.h"
#include "host/recorder/recorder-replay.h"
#include "host/recorder/recorder-writer.h"

G_BEGIN_DECLS

gboolean vt_cli_time_parse(const char *text, gint64 now_wall_us, gint64 *ret_wall_us,
                           GError **error);
char *vt_cli_time_format(gint64 wall_us);
VtRecorderReader *vt_cli_history_open(const char *path, GError **error);
gboolean vt_cli_history_next(VtRecorderReader *reader, VtRecorderRecord **ret_record,
                             guint *n_damaged);
int vt_cli_replay_setup(VtCli *cli, const char *policy, const char *budget, char **sets,
                        gboolean closed_loop, VtRecorderReplay **ret_replay);

G_END_DECLS
