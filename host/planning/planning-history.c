/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorded history as series for planning: host free memory, guests' wants, KSM. Pure. */
#include "host/planning/planning-history.h"

static void
history_guest_free(gpointer data)
{
        VtPlanningHistoryGuest *guest = data;

        g_free(guest->name);
        g_array_unref(guest->want);
        g_free(guest);
}

/**
 * vt_planning_history_new:
 * @since_wall_us: leave out ticks and KSM steps before this wall-clock
 *     time (0: none)
 * @page_size: bytes per page (4096 on x86-64)
 *
 * Returns: (transfer full): an empty history, with the default balloon
 *     tunables until a policy record says otherwise
 */
VtPlanningHistory *
vt_planning_history_new(gint64 since_wall_us, guint64 page_size)
{
        VtPlanningHistory *history = g_new0(VtPlanningHistory, 1);

        history->since_wall_us = since_wall_us;
        history->page_size = page_size > 0 ? page_size : 4096;
        history->free_t = g_array_new(FALSE, FALSE, sizeof(double));
        history->free_bytes = g_array_new(FALSE, FALSE, sizeof(double));
        history->ksm_saved = g_array_new(FALSE, FALSE, sizeof(double));
        history->ksm_ratio = g_array_new(FALSE, FALSE, sizeof(double));
        history->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, history_guest_free);
        vt_balloon_config_init(&history->config);
        return history;
}

/**
 * vt_planning_history_free:
 * @history: (nullable): a history
 */
void
vt_planning_history_free(VtPlanningHistory *history)
{
        if (history == NULL)
                return;
        g_array_unref(history->free_t);
        g_array_unref(history->free_bytes);
        g_array_unref(history->ksm_saved);
        g_array_unref(history->ksm_ratio);
        g_hash_table_unref(history->guests);
        g_free(history->policy_name);
        g_free(history);
}

static VtPlanningHistoryGuest *
history_guest(VtPlanningHistory *history, const char *name)
{
        VtPlanningHistoryGuest *guest = g_hash_table_lookup(history->guests, name);

        if (guest == NULL) {
                guest = g_new0(VtPlanningHistoryGuest, 1);
                guest->name = g_strdup(name);
                guest->want = g_array_new(FALSE, FALSE, sizeof(double));
                g_hash_table_insert(history->guests, guest->name, guest);
        }
        return guest;
}

static void
history_seen(VtPlanningHistory *history, gint64 wall_us)
{
        if (history->first_wall_us == 0)
                history->first_wall_us = wall_us;
        history->last_wall_us = MAX(history->last_wall_us, wall_us);
}

/* One tick: the host's free memory as the policy judges it, each guest's
 * want and pushes. */
static void
history_add_tick(VtPlanningHistory *history, const VtRecorderRecord *record)
{
        const VtRecorderTick *tick = &record->u.tick;
        VtBalloonInput input;
        double t = (double)record->wall_us / G_USEC_PER_SEC;
        double free_bytes;

        vt_recorder_tick_get_input(tick, record->mono_us, &input);
        free_bytes = (double)vt_balloon_host_free(&input, history->config.host_reserve, NULL);
        g_array_append_val(history->free_t, t);
        g_array_append_val(history->free_bytes, free_bytes);
        history->n_ticks++;
        history->has_host = TRUE;
        history->host = tick->host;
        for (guint i = 0; i < tick->n_guests; i++) {
                const VtBalloonGuest *g = &tick->guests[i];
                VtPlanningHistoryGuest *guest;

                if (g->name == NULL)
                        continue;
                guest = history_guest(history, g->name);
                guest->n_ticks++;
                if (tick->decision.targets != NULL && tick->decision.targets[i].want_bytes > 0) {
                        double want = (double)tick->decision.targets[i].want_bytes;

                        g_array_append_val(guest->want, want);
                }
                if (g->flags & VT_BALLOON_GUEST_PRESSURE_PUSH) {
                        guest->n_pushes++;
                        guest->last_push_wall_us = record->wall_us;
                }
        }
}

/* One KSM step: what it saves, and that over what the guests made
 * mergeable (the share a guest like them could expect). */
static void
history_add_ksm(VtPlanningHistory *history, const VtRecorderRecord *record)
{
        const VtRecorderKsm *ksm = &record->u.ksm;
        double saved = (double)ksm->sample.pages_sharing * (double)history->page_size;
        double mergeable = 0.0;

        for (guint i = 0; i < ksm->n_guests; i++) {
                if (!ksm->guests[i].opt_out)
                        mergeable += (double)ksm->guests[i].mergeable_bytes;
        }
        g_array_append_val(history->ksm_saved, saved);
        if (mergeable > 0.0) {
                double ratio = MIN(saved / mergeable, 1.0);

                g_array_append_val(history->ksm_ratio, ratio);
        }
        history->n_ksm++;
}

/**
 * vt_planning_history_add:
 * @history: a history
 * @record: the next record read (vt_recorder_reader_next()), not kept
 *
 * Takes what planning needs from one record: a policy's tunables (the
 * reserve, the thresholds), a tick's free memory and guests, a KSM step's
 * saving. Other records, and ticks and steps before @since_wall_us, are
 * counted and left out.
 */
void
vt_planning_history_add(VtPlanningHistory *history, const VtRecorderRecord *record)
{
        g_return_if_fail(history != NULL && record != NULL);

        history->n_records++;
        if (record->type == VT_RECORDER_RECORD_POLICY) {
                history->has_policy = TRUE;
                history->config = record->u.policy.config;
                g_free(history->policy_name);
                history->policy_name = g_strdup(record->u.policy.name);
                return;
        }
        if (record->wall_us < history->since_wall_us)
                return;
        if (record->type == VT_RECORDER_RECORD_TICK) {
                history_seen(history, record->wall_us);
                history_add_tick(history, record);
        } else if (record->type == VT_RECORDER_RECORD_KSM) {
                history_seen(history, record->wall_us);
                history_add_ksm(history, record);
        }
}

/**
 * vt_planning_history_get_guest:
 * @history: a history
 * @name: a guest's name
 *
 * Returns: (transfer none) (nullable): what was recorded of it
 */
const VtPlanningHistoryGuest *
vt_planning_history_get_guest(const VtPlanningHistory *history, const char *name)
{
        g_return_val_if_fail(history != NULL && name != NULL, NULL);
        return g_hash_table_lookup(history->guests, name);
}
