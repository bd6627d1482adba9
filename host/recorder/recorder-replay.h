/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replaying a recorded history through a balloon policy: open loop and closed loop. Pure. */
#pragma once

#include <glib.h>

#include "balloon/balloon-registry.h"
#include "host/recorder/recorder-format.h"

G_BEGIN_DECLS

/**
 * VtRecorderReplayError:
 * @VT_RECORDER_REPLAY_ERROR_INVALID: an override's key or value is wrong
 * @VT_RECORDER_REPLAY_ERROR_POLICY: the history's policy is unknown here
 */
typedef enum {
        VT_RECORDER_REPLAY_ERROR_INVALID,
        VT_RECORDER_REPLAY_ERROR_POLICY,
} VtRecorderReplayError;

#define VT_RECORDER_REPLAY_ERROR (vt_recorder_replay_error_quark())
GQuark vt_recorder_replay_error_quark(void);

/* The closed-loop model's balloon speed unless set: 256 MiB/s, each way. */
#define VT_RECORDER_REPLAY_RATE_DEFAULT (G_GUINT64_CONSTANT(256) << 20)

/* A balloon within this of its target has reached it (vmtided's
 * VT_GUEST_CONFIRM_SLACK): the simulated guest is no longer moving. */
#define VT_RECORDER_REPLAY_SLACK (G_GUINT64_CONSTANT(4) << 20)

/**
 * VtRecorderReplayOptions:
 * @policy: (nullable): the policy to replay with; %NULL: the recorded one
 * @closed_loop: simulate the guests' balloons following the replayed
 *     targets instead of taking the recorded ones (docs/planning.md)
 * @budget_limit: with @has_budget, the host's budget in every tick (0:
 *     none) instead of the recorded one
 * @has_budget: @budget_limit applies
 * @balloon_rate: the closed-loop model's balloon speed, bytes per second
 *
 * How to replay. vt_recorder_replay_options_init() gives the defaults:
 * the recorded policy, open loop, the recorded budget.
 */
typedef struct {
        const VtBalloonPolicyInfo *policy;
        gboolean closed_loop;
        guint64 budget_limit;
        gboolean has_budget;
        guint64 balloon_rate;
} VtRecorderReplayOptions;

/**
 * VtRecorderReplayGuest:
 * @name: the guest (borrowed from the record fed)
 * @max_bytes: its boot memory
 * @recorded_action: what the record says was decided
 * @recorded_target: ... its target
 * @recorded_actual: the balloon's recorded size at the tick
 * @recorded_available: the guest's recorded MemAvailable (0: not known)
 * @action: what the replayed policy decided
 * @target_bytes: ... its target
 * @reason: (not nullable): ... and why (valid until the next feed)
 * @agrees: same action and target as recorded
 * @exact: ... and the same reason, word for word
 * @actual_bytes: closed loop: the simulated balloon; open loop: the
 *     recorded one
 * @available_bytes: closed loop: the simulated MemAvailable (the recorded
 *     one shifted by how much more or less the simulated balloon leaves);
 *     open loop: the recorded one
 * @pressure: closed loop: the simulated guest is under pressure
 * @oom: closed loop: its demand exceeds what the simulated balloon leaves
 *
 * One guest of a replayed tick.
 */
typedef struct {
        const char *name;
        guint64 max_bytes;
        VtBalloonAction recorded_action;
        guint64 recorded_target;
        guint64 recorded_actual;
        guint64 recorded_available;
        VtBalloonAction action;
        guint64 target_bytes;
        const char *reason;
        gboolean agrees;
        gboolean exact;
        guint64 actual_bytes;
        guint64 available_bytes;
        gboolean pressure;
        gboolean oom;
} VtRecorderReplayGuest;

/**
 * VtRecorderReplayTick:
 * @wall_us: the tick's wall-clock time
 * @mono_us: its monotonic time (the policy's `now_us`)
 * @recorded_state: the host state recorded
 * @state: the host state replayed
 * @host_available: the host's MemAvailable: recorded (open loop) or
 *     simulated (closed loop)
 * @n_guests: how many guests
 * @guests: (array length=n_guests): each guest (owned by the replay,
 *     valid until the next feed)
 *
 * One tick, replayed.
 */
typedef struct {
        gint64 wall_us;
        gint64 mono_us;
        VtHostState recorded_state;
        VtHostState state;
        guint64 host_available;
        guint n_guests;
        const VtRecorderReplayGuest *guests;
} VtRecorderReplayTick;

/**
 * VtRecorderReplaySummary:
 * @n_ticks: ticks replayed
 * @n_decisions: guest decisions replayed (a guest in a tick)
 * @n_agree: decisions with the recorded action and target
 * @n_exact: ... and the recorded reason
 * @n_differ_target: same action, another target
 * @n_differ_action: another action
 * @n_moves_recorded: GIVE or RECLAIM decisions recorded
 * @n_moves: ... replayed
 * @given_recorded: bytes given (GIVE: target − actual), recorded
 * @given: ... replayed
 * @reclaimed_recorded: bytes reclaimed (RECLAIM: actual − target), recorded
 * @reclaimed: ... replayed
 * @mean_ballooned_recorded: the guests' ballooned memory in all (Σ boot
 *     memory − balloon size), averaged over time, as recorded
 * @mean_ballooned: ... simulated (closed loop; the recorded one in open loop)
 * @end_ballooned_recorded: the same at the last tick, recorded
 * @end_ballooned: ... simulated
 * @pressure_minutes_recorded: guest-minutes under pressure, recorded
 * @pressure_minutes: ... simulated
 * @n_ooms: closed loop: times a guest's demand came to exceed what the
 *     simulated balloon leaves it
 * @error_median: closed loop: the median of |simulated − recorded balloon
 *     size| over every guest and tick, bytes
 * @error_p90: ... its 90th percentile
 * @error_max: ... its largest
 * @n_errors: how many values the error statistics are over
 *
 * What a replay found, once the history is fed.
 */
typedef struct {
        guint n_ticks;
        guint n_decisions;
        guint n_agree;
        guint n_exact;
        guint n_differ_target;
        guint n_differ_action;
        guint n_moves_recorded;
        guint n_moves;
        guint64 given_recorded;
        guint64 given;
        guint64 reclaimed_recorded;
        guint64 reclaimed;
        double mean_ballooned_recorded;
        double mean_ballooned;
        guint64 end_ballooned_recorded;
        guint64 end_ballooned;
        double pressure_minutes_recorded;
        double pressure_minutes;
        guint n_ooms;
        guint64 error_median;
        guint64 error_p90;
        guint64 error_max;
        guint n_errors;
} VtRecorderReplaySummary;

typedef struct _VtRecorderReplay VtRecorderReplay;

void vt_recorder_replay_options_init(VtRecorderReplayOptions *options);

VtRecorderReplay *vt_recorder_replay_new(const VtRecorderReplayOptions *options);
void vt_recorder_replay_free(VtRecorderReplay *replay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtRecorderReplay, vt_recorder_replay_free)

gboolean vt_recorder_replay_set_override(VtRecorderReplay *replay, const char *assignment,
                                         GError **error);
gboolean vt_recorder_replay_feed(VtRecorderReplay *replay, const VtRecorderRecord *record,
                                 const VtRecorderReplayTick **ret_tick, GError **error);
void vt_recorder_replay_get_summary(VtRecorderReplay *replay, VtRecorderReplaySummary *ret_summary);
const char *vt_recorder_replay_get_policy_name(VtRecorderReplay *replay);

gboolean vt_recorder_config_override(VtBalloonConfig *config, const char *key, const char *value,
                                     GError **error);

G_END_DECLS
