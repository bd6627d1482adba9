/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Steering a live migration while it runs: downtime ramp, stall and limit rules. Pure. */
#pragma once

#include <glib.h>

#include "migrate/migrate-cost.h"
#include "migrate/migrate-job.h"

G_BEGIN_DECLS

/* The ramp's steps at most. */
#define VT_MIGRATE_STEER_STEPS_MAX 8
/* The passes a #VtMigrateSteerState remembers; older ones leave their
 * least remainder behind (floor_bytes). */
#define VT_MIGRATE_STEER_HISTORY_MAX 64
/* No time limit (the prediction never ends and no ceiling is set). */
#define VT_MIGRATE_STEER_NO_LIMIT G_MAXINT64

/**
 * VtMigrateSteerConfig:
 * @downtime_initial_us: the downtime limit the move starts with (predict
 *     with the same); 0 or less: QEMU's default, 300 ms. Lowered to the
 *     cap when above it
 * @downtime_cap_us: the operator's cap: no limit the steering asks for is
 *     ever above it; 0 or less: no cap set, and then no ramp either (the
 *     initial limit stays)
 * @downtime_steps_us: the ramp: downtime limits to raise to, one stall
 *     after another, in any order: each raise goes to the least step above
 *     the limit in force (steps at or above the cap are skipped: the cap
 *     itself is always the last step)
 * @n_downtime_steps: how many of @downtime_steps_us are set
 * @stall_passes: passes in a row without progress, at the limit in force,
 *     that make a stall: one ramp step, or a cancel at the cap; 0: 1
 * @stall_shrink_percent: a pass makes progress when what it has to send
 *     is at least this much below the least of the passes before it; above
 *     99: 99
 * @auto_converge: whether QEMU may throttle the guest's vCPUs (asked for
 *     at the start; QEMU 7.2 cannot turn it on mid-move)
 * @auto_converge_passes: with @auto_converge, more stalled passes granted
 *     at the cap before a cancel, while QEMU's throttle climbs (20 %, then
 *     +10 % a time)
 * @time_factor_percent: cancel when the move has run this many percent of
 *     its predicted total time, plus @time_slack_us; 0: no such limit
 * @time_slack_us: added to the time limit (setup, a slower link than
 *     thought); 0 or less: none
 * @pass_margin: cancel after the predicted passes plus this many (QEMU
 *     counts bitmap syncs, a few more than the model's passes); 0: no such
 *     limit
 * @max_us: a ceiling on any move, whatever the prediction; 0 or less: none
 *
 * How the executor steers a move: what the operator and the policy allow.
 * vt_migrate_steer_config_init() fills the defaults (oVirt's "minimal
 * downtime" schedule: 100 ms, then 150, 200, 300, 400, 500 ms).
 */
typedef struct {
        gint64 downtime_initial_us;
        gint64 downtime_cap_us;
        gint64 downtime_steps_us[VT_MIGRATE_STEER_STEPS_MAX];
        guint n_downtime_steps;
        guint stall_passes;
        guint stall_shrink_percent;
        gboolean auto_converge;
        guint auto_converge_passes;
        guint time_factor_percent;
        gint64 time_slack_us;
        guint pass_margin;
        gint64 max_us;
} VtMigrateSteerConfig;

/**
 * VtMigrateSteerPass:
 * @pass: its number (QEMU `dirty-sync-count`, libvirt `memory_iteration`)
 * @remaining_bytes: what it had to send: the most `remaining` read while
 *     it ran (read right after QEMU's bitmap sync, this is what the pass
 *     before it left dirty)
 * @elapsed_us: when it was first seen, since the move started
 * @downtime_limit_us: the downtime limit in force when it was first seen
 *
 * One pass of a move as the executor saw it.
 */
typedef struct {
        guint pass;
        guint64 remaining_bytes;
        gint64 elapsed_us;
        gint64 downtime_limit_us;
} VtMigrateSteerPass;

/**
 * VtMigrateSteerState:
 * @history: the passes seen, oldest first
 * @n_history: how many of @history are set
 * @floor_bytes: the least @remaining_bytes of passes dropped from
 *     @history; %G_MAXUINT64: none dropped
 * @status: the last status read
 * @last_remaining_bytes: the last `remaining` read
 * @throughput: the last throughput read, bytes per second
 * @dirty_rate: the last dirty rate read, bytes per second
 * @downtime_limit_us: the downtime limit in force (set by the executor
 *     once the backend took it)
 * @steps: ramp steps taken
 * @ramp_failed: the backend refused a raise: the steering takes the limit
 *     in force as the cap
 * @cancelling: a cancel was asked for; the steering asks for nothing more
 *
 * What the steering knows of a move so far: the executor feeds it with
 * vt_migrate_steer_observe() and records what it applied; a test writes
 * it directly.
 */
typedef struct {
        VtMigrateSteerPass history[VT_MIGRATE_STEER_HISTORY_MAX];
        guint n_history;
        guint64 floor_bytes;
        VtMigrateStatus status;
        guint64 last_remaining_bytes;
        guint64 throughput;
        guint64 dirty_rate;
        gint64 downtime_limit_us;
        guint steps;
        gboolean ramp_failed;
        gboolean cancelling;
} VtMigrateSteerState;

/**
 * VtMigrateSteerKind:
 * @VT_MIGRATE_STEER_CONTINUE: leave the move alone
 * @VT_MIGRATE_STEER_RAISE_DOWNTIME: raise the downtime limit to
 *     #VtMigrateSteerAction.downtime_limit_us (never above the cap)
 * @VT_MIGRATE_STEER_CANCEL: cancel the move; the guest stays on the source
 *
 * What the executor does next.
 */
typedef enum {
        VT_MIGRATE_STEER_CONTINUE,
        VT_MIGRATE_STEER_RAISE_DOWNTIME,
        VT_MIGRATE_STEER_CANCEL,
        VT_MIGRATE_STEER_KIND_MAX,
} VtMigrateSteerKind;

/**
 * VtMigrateSteerCause:
 * @VT_MIGRATE_STEER_CAUSE_NONE: a converging move, or nothing to judge yet
 * @VT_MIGRATE_STEER_CAUSE_FINAL_COPY: the guest is stopped for the last
 *     copy, or the move is over: never touched then
 * @VT_MIGRATE_STEER_CAUSE_CANCELLING: a cancel is under way already
 * @VT_MIGRATE_STEER_CAUSE_STALLED: what remains stopped shrinking (a raise
 *     while the ramp has steps, a cancel at the cap)
 * @VT_MIGRATE_STEER_CAUSE_TIME_LIMIT: the move ran past its time limit
 * @VT_MIGRATE_STEER_CAUSE_PASS_LIMIT: the move ran past its pass limit
 *
 * Why the steering chose its action.
 */
typedef enum {
        VT_MIGRATE_STEER_CAUSE_NONE,
        VT_MIGRATE_STEER_CAUSE_FINAL_COPY,
        VT_MIGRATE_STEER_CAUSE_CANCELLING,
        VT_MIGRATE_STEER_CAUSE_STALLED,
        VT_MIGRATE_STEER_CAUSE_TIME_LIMIT,
        VT_MIGRATE_STEER_CAUSE_PASS_LIMIT,
        VT_MIGRATE_STEER_CAUSE_MAX,
} VtMigrateSteerCause;

/**
 * VtMigrateSteerAction:
 * @kind: what to do
 * @cause: why
 * @downtime_limit_us: for %VT_MIGRATE_STEER_RAISE_DOWNTIME, the new
 *     limit; otherwise the limit in force
 * @stalled_passes: passes in a row without progress at the limit in force
 * @time_limit_us: the move's time limit (%VT_MIGRATE_STEER_NO_LIMIT: none)
 * @pass_limit: the move's pass limit (0: none)
 * @reason: in words, for the log and the events ("stalled 2 passes at
 *     38 MiB (least 37 MiB): downtime 100 ms -> 150 ms, cap 500 ms")
 *
 * One steering decision.
 */
typedef struct {
        VtMigrateSteerKind kind;
        VtMigrateSteerCause cause;
        gint64 downtime_limit_us;
        guint stalled_passes;
        gint64 time_limit_us;
        guint pass_limit;
        char reason[192];
} VtMigrateSteerAction;

void vt_migrate_steer_config_init(VtMigrateSteerConfig *config);
gint64 vt_migrate_steer_initial_downtime(const VtMigrateSteerConfig *config);
gint64 vt_migrate_steer_time_limit(const VtMigrateSteerConfig *config,
                                   const VtMigrateCost *prediction);
guint vt_migrate_steer_pass_limit(const VtMigrateSteerConfig *config,
                                  const VtMigrateCost *prediction);

void vt_migrate_steer_state_init(VtMigrateSteerState *state, gint64 downtime_limit_us);
gboolean vt_migrate_steer_observe(VtMigrateSteerState *state, const VtMigrateProgress *progress,
                                  gint64 elapsed_us);
void vt_migrate_steer_decide(const VtMigrateSteerConfig *config, const VtMigrateCost *prediction,
                             const VtMigrateSteerState *state, gint64 elapsed_us,
                             VtMigrateSteerAction *ret_action);
gint64 vt_migrate_steer_estimate_left(const VtMigrateCost *prediction,
                                      const VtMigrateSteerState *state, gint64 elapsed_us);

const char *vt_migrate_steer_kind_to_string(VtMigrateSteerKind kind);
const char *vt_migrate_steer_cause_to_string(VtMigrateSteerCause cause);

G_END_DECLS
