/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorded history as series for planning: host free memory, guests' wants, KSM. Pure. */
#pragma once

#include <glib.h>

#include "host/recorder/recorder-format.h"

G_BEGIN_DECLS

/**
 * VtPlanningHistoryGuest:
 * @name: the guest's name
 * @want: (element-type double): the policy's want for it, bytes, at each
 *     tick that had one (#VtBalloonTarget.want_bytes > 0)
 * @n_ticks: ticks the guest was in
 * @n_pushes: of which with a pressure push from its agent
 * @last_push_wall_us: the latest such tick's wall-clock time (0: none)
 *
 * One guest over the window.
 */
typedef struct {
        char *name;
        GArray *want;
        guint n_ticks;
        guint n_pushes;
        gint64 last_push_wall_us;
} VtPlanningHistoryGuest;

/**
 * VtPlanningHistory:
 * @since_wall_us: records before this wall-clock time are left out
 *     (policies excepted: the one in force at the start counts)
 * @page_size: bytes per page, for KSM's `pages_sharing`
 * @n_records: records taken
 * @n_ticks: balloon ticks among them
 * @n_ksm: KSM steps among them
 * @first_wall_us: the first tick's or KSM step's wall-clock time (0: none)
 * @last_wall_us: the last one's
 * @free_t: (element-type double): each tick's wall-clock time, seconds
 * @free_bytes: (element-type double): the guests' free memory then, bytes
 *     (host MemAvailable above the reserve, under the budget: as the
 *     policy judges it, vt_balloon_host_free()); may be negative
 * @ksm_saved: (element-type double): each KSM step's saving, bytes
 *     (`pages_sharing` × @page_size)
 * @ksm_ratio: (element-type double): that saving over the memory the
 *     guests made mergeable, for steps where it is known
 * @guests: (element-type utf8 VtPlanningHistoryGuest): by name
 * @has_policy: a policy record was seen
 * @policy_name: (nullable): the balloon policy in force last
 * @config: its tunables (the defaults until @has_policy)
 * @has_host: a tick was seen
 * @host: the last tick's host figures
 *
 * What planning draws from a history: fill it with
 * vt_planning_history_add() record by record, in order.
 */
typedef struct {
        gint64 since_wall_us;
        guint64 page_size;
        guint n_records;
        guint n_ticks;
        guint n_ksm;
        gint64 first_wall_us;
        gint64 last_wall_us;
        GArray *free_t;
        GArray *free_bytes;
        GArray *ksm_saved;
        GArray *ksm_ratio;
        GHashTable *guests;
        gboolean has_policy;
        char *policy_name;
        VtBalloonConfig config;
        gboolean has_host;
        VtBalloonHost host;
} VtPlanningHistory;

VtPlanningHistory *vt_planning_history_new(gint64 since_wall_us, guint64 page_size);
void vt_planning_history_free(VtPlanningHistory *history);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtPlanningHistory, vt_planning_history_free)

void vt_planning_history_add(VtPlanningHistory *history, const VtRecorderRecord *record);
const VtPlanningHistoryGuest *vt_planning_history_get_guest(const VtPlanningHistory *history,
                                                            const char *name);

G_END_DECLS
