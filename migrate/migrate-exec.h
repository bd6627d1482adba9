/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration executor: runs one live migration of a guest over the guest contract, steered. */
#pragma once

#include <gio/gio.h>

#include "host/guest/guest.h"
#include "migrate/migrate-cost.h"
#include "migrate/migrate-job.h"
#include "migrate/migrate-steer.h"

G_BEGIN_DECLS

/* The job is read this often by default (QEMU refreshes its figures about
 * every 100 ms, libvirt's job stats likewise). */
#define VT_MIGRATE_EXEC_POLL_DEFAULT_US (250 * G_TIME_SPAN_MILLISECOND)
/* The bound on a move whose steering sets no time limit. */
#define VT_MIGRATE_EXEC_DEADLINE_DEFAULT_US G_TIME_SPAN_HOUR
/* How long a cancel, or the source's last word once it went away, may
 * take to show a final status. */
#define VT_MIGRATE_EXEC_GRACE_DEFAULT_US (30 * G_USEC_PER_SEC)
/* Failed reads of the job in a row before the executor gives the move up. */
#define VT_MIGRATE_EXEC_QUERY_ERRORS_DEFAULT 10

/**
 * VtMigrateExecLimits:
 * @poll_interval_us: how often the job is read; clamped to 1 ms .. 10 s
 * @deadline_us: the bound on the whole move, whatever its status: past it
 *     the executor cancels (even a move stuck in its final copy); 0 or
 *     less: twice the steering's time limit, or
 *     %VT_MIGRATE_EXEC_DEADLINE_DEFAULT_US when it has none
 * @grace_us: after a cancel, or the guest going away, how long to wait
 *     for a final status before ending the move as failed; 0 or less:
 *     %VT_MIGRATE_EXEC_GRACE_DEFAULT_US
 * @query_errors_max: failed reads in a row after which the move is
 *     cancelled and ends as failed; 0: %VT_MIGRATE_EXEC_QUERY_ERRORS_DEFAULT
 *
 * The executor's own bounds (vt_migrate_exec_limits_init() fills the
 * defaults). The steering's rules are in #VtMigrateSteerConfig.
 */
typedef struct {
        gint64 poll_interval_us;
        gint64 deadline_us;
        gint64 grace_us;
        guint query_errors_max;
} VtMigrateExecLimits;

/**
 * VtMigrateExecOutcome:
 * @VT_MIGRATE_EXEC_COMPLETED: the backend read the move completed: the
 *     guest runs on the destination
 * @VT_MIGRATE_EXEC_FAILED: the move failed (its start, the destination,
 *     the link), or the executor lost track of it; unless
 *     #VtMigrateExecResult.source_gone, the guest runs on the source
 * @VT_MIGRATE_EXEC_CANCELLED: the backend read the move cancelled (by the
 *     steering, by hand, at the deadline): the guest runs on the source
 *
 * How a move ended.
 */
typedef enum {
        VT_MIGRATE_EXEC_COMPLETED,
        VT_MIGRATE_EXEC_FAILED,
        VT_MIGRATE_EXEC_CANCELLED,
        VT_MIGRATE_EXEC_OUTCOME_MAX,
} VtMigrateExecOutcome;

/**
 * VtMigrateExecProgress:
 * @status: where the move is
 * @pass: the pass under way
 * @remaining_bytes: what is left to send in this pass
 * @transferred_bytes: RAM sent so far, every pass
 * @dirty_rate: the job's dirty rate, bytes per second (0: not known)
 * @throughput: what the stream carries, bytes per second (0: not known)
 * @elapsed_us: since the executor started the move
 * @downtime_limit_us: the downtime limit in force
 * @predicted_total_us: the prediction's total time, from before the move
 * @predicted_left_us: what the move has left, estimated again from the
 *     job's figures (vt_migrate_steer_estimate_left());
 *     %VT_MIGRATE_COST_FOREVER when it does not converge as it goes
 *
 * One pass of a move, for the CLI and the events.
 */
typedef struct {
        VtMigrateStatus status;
        guint pass;
        guint64 remaining_bytes;
        guint64 transferred_bytes;
        guint64 dirty_rate;
        guint64 throughput;
        gint64 elapsed_us;
        gint64 downtime_limit_us;
        gint64 predicted_total_us;
        gint64 predicted_left_us;
} VtMigrateExecProgress;

/**
 * VtMigrateExecResult:
 * @outcome: how it ended
 * @prediction: what the cost model predicted before the move
 * @total_us: how long it took: the backend's own figure when its last
 *     reading has one (QEMU `total-time`), the executor's clock otherwise
 * @downtime_us: the downtime the guest had (the backend's figure; 0: not
 *     known, or the move did not complete)
 * @passes: the last pass read
 * @bytes: RAM bytes sent, the most read (QEMU reads 0 once cancelled)
 * @downtime_limit_us: the downtime limit in force at the end
 * @steps: downtime raises the backend took
 * @cause: for a cancel by the steering, why; otherwise
 *     %VT_MIGRATE_STEER_CAUSE_NONE
 * @by_hand: the cancel was vt_migrate_exec_cancel()'s
 * @source_gone: the guest went away on the source during the move (its
 *     "gone" signal); a move that did not read completed then is failed,
 *     and where the guest runs is not known here
 * @reason: why it ended so, for the log and the events
 * @summary: predicted beside actual, in words ("4.6 s (predicted 4.3 s),
 *     4 passes (3), 31 ms down (24 ms), 560 MiB sent (555 MiB)")
 *
 * The end of one move, with the prediction beside what happened.
 */
typedef struct {
        VtMigrateExecOutcome outcome;
        VtMigrateCost prediction;
        gint64 total_us;
        gint64 downtime_us;
        guint passes;
        guint64 bytes;
        gint64 downtime_limit_us;
        guint steps;
        VtMigrateSteerCause cause;
        gboolean by_hand;
        gboolean source_gone;
        char reason[256];
        char summary[192];
} VtMigrateExecResult;

#define VT_TYPE_MIGRATE_EXEC (vt_migrate_exec_get_type())
G_DECLARE_FINAL_TYPE(VtMigrateExec, vt_migrate_exec, VT, MIGRATE_EXEC, GObject)

/*
 * Signals (none after "finished"):
 * - `progress (gpointer progress)`: a new pass began; @progress is a
 *   `const VtMigrateExecProgress *`
 * - `steered (gpointer action)`: the steering raised the downtime limit or
 *   cancelled; @action is a `const VtMigrateSteerAction *` with its reason
 * - `finished (gpointer result)`: the move ended, once per started
 *   executor; @result is a `const VtMigrateExecResult *`
 */

void vt_migrate_exec_limits_init(VtMigrateExecLimits *limits);
VtMigrateExec *vt_migrate_exec_new(VtGuest *guest, const VtMigrateRequest *request,
                                   const VtMigrateCost *prediction,
                                   const VtMigrateSteerConfig *config);
void vt_migrate_exec_set_limits(VtMigrateExec *exec, const VtMigrateExecLimits *limits);
gboolean vt_migrate_exec_start(VtMigrateExec *exec, GError **error);
void vt_migrate_exec_cancel(VtMigrateExec *exec, const char *reason);

VtGuest *vt_migrate_exec_get_guest(VtMigrateExec *exec);
gboolean vt_migrate_exec_is_finished(VtMigrateExec *exec);
const VtMigrateExecResult *vt_migrate_exec_get_result(VtMigrateExec *exec);
void vt_migrate_exec_get_progress(VtMigrateExec *exec, VtMigrateExecProgress *ret_progress);
const VtMigrateSteerState *vt_migrate_exec_get_state(VtMigrateExec *exec);
VtMigrateExec *vt_migrate_exec_get_for_guest(VtGuest *guest);

const char *vt_migrate_exec_outcome_to_string(VtMigrateExecOutcome outcome);

G_END_DECLS
