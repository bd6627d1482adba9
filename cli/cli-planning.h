/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What `capacity` and `risk` share: the recorded history read for planning, guests' figures. */
#pragma once

#include "cli/cli-util.h"
#include "host/planning/planning-history.h"

G_BEGIN_DECLS

/**
 * VtCliHistory:
 * @path: the history directory looked at
 * @history: (nullable): what was read of it, %NULL when it could not be
 *     opened
 * @n_damaged: places where the reader stopped at damage and went on
 * @note: (not nullable): what was read, or why nothing, in words
 */
typedef struct {
        char *path;
        VtPlanningHistory *history;
        guint n_damaged;
        char *note;
} VtCliHistory;

void vt_cli_history_read(VtCliHistory *ret_history, const char *path, gint64 since_wall_us);
void vt_cli_history_clear(VtCliHistory *history);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtCliHistory, vt_cli_history_clear)

json_object *vt_cli_planning_query(VtCli *cli, const char *command, int *ret_status);
guint64 vt_cli_page_size(void);
guint64 vt_cli_json_get_size_or(json_object *object, const char *path, guint64 fallback);
guint64 vt_cli_guest_ceiling(json_object *guest);
gint64 vt_cli_json_get_int_or(json_object *object, const char *path, gint64 fallback);
json_object *vt_cli_json_new_size(guint64 bytes);

G_END_DECLS
