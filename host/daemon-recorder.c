/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's flight recorder: its ticks, moves, KSM steps, migrations and changes into the history.
 */

/*
 * Theory of operation (docs/recorder.md, "In vmtided")
 *
 * The writer (host/recorder/recorder-writer.h) is made when the daemon
 * starts, from `[recorder]`, and touches the disk first at the first
 * flush. Each tick adds the balloon policy in force (the writer keeps it
 * only when it changed, or at a segment's head) and the tick: the input
 * vt_balloon_decide() took, the policy's state before it and the
 * decision, so that the tick replays alone. Between ticks the daemon's
 * events are added as they happen: a balloon move's end, a KSM step, a
 * migration's start, passes and end, a change by hand or of the daemon.
 * The tick ends with one flush: one write(2) of what was added.
 *
 * A flush that fails pauses recording; that is logged once at warning,
 * with the reason, and its resumption once at message. Nothing else of
 * the daemon depends on the history: a full disk costs the history, not
 * a decision. Every function here does nothing when `[recorder] enabled`
 * is false.
 */
#include "host/daemon-recorder.h"

#include "host/recorder/recorder-hooks.h"
#include "host/recorder/recorder-writer.h"
#include "vt-config.h"

struct _VtDaemonRecorder {
        VtRecorder *writer;
        char *dir;
        gboolean paused; /* a failed flush was logged, its resumption not yet */
};

static VtRecorder *
writer_of(VtDaemon *daemon)
{
        return daemon->recorder != NULL ? daemon->recorder->writer : NULL;
}

/**
 * vt_daemon_recorder_start:
 * @daemon: the daemon, starting
 *
 * Makes the writer from `[recorder]` (nothing when it is disabled) and
 * records the daemon's start; nothing is written before the first tick's
 * flush.
 */
void
vt_daemon_recorder_start(VtDaemon *daemon)
{
        const VtDaemonRecorderConfig *rc = &daemon->config->recorder;
        g_autofree char *detail = NULL;
        VtRecorderConfig config;
        VtDaemonRecorder *r;

        if (!rc->enabled) {
                g_message("history: not recorded ([recorder] enabled = false)");
                return;
        }
        vt_recorder_config_init(&config);
        config.dir = rc->dir;
        config.max_bytes = rc->max_bytes;
        config.max_age_us = rc->max_age_us;
        config.segment_bytes = rc->segment_bytes;
        config.segment_age_us = rc->segment_age_us;
        r = g_new0(VtDaemonRecorder, 1);
        r->writer = vt_recorder_new(&config);
        r->dir = g_strdup(rc->dir);
        daemon->recorder = r;
        g_message("history: recorded in '%s'", r->dir);
        detail = g_strdup_printf("vmtided %s, backend %s, policy %s", VT_VERSION,
                                 vt_daemon_backend_to_string(daemon->config->backend),
                                 daemon->config->balloon_policy_name);
        vt_daemon_recorder_control(daemon, VT_RECORDER_CONTROL_DAEMON_START, NULL, 0, detail);
}

/**
 * vt_daemon_recorder_stop:
 * @daemon: the daemon, stopping
 * @why: why it stops
 *
 * Records the stop, flushes and closes the history.
 */
void
vt_daemon_recorder_stop(VtDaemon *daemon, const char *why)
{
        VtDaemonRecorder *r = daemon->recorder;

        if (r == NULL)
                return;
        vt_daemon_recorder_control(daemon, VT_RECORDER_CONTROL_DAEMON_STOP, NULL, 0, why);
        vt_daemon_recorder_flush(daemon);
        daemon->recorder = NULL;
        vt_recorder_free(r->writer);
        g_free(r->dir);
        g_free(r);
}

/**
 * vt_daemon_recorder_flush:
 * @daemon: the daemon
 *
 * Writes what was recorded since the last flush; once a tick. A failure
 * is logged once ("recording paused"), the resumption once.
 */
void
vt_daemon_recorder_flush(VtDaemon *daemon)
{
        VtDaemonRecorder *r = daemon->recorder;
        g_autoptr(GError) error = NULL;
        VtRecorderStats stats;

        if (r == NULL)
                return;
        if (!vt_recorder_flush(r->writer, g_get_real_time(), &error)) {
                g_warning("history '%s': %s: recording paused, the daemon goes on; retried "
                          "every minute",
                          r->dir, error->message);
                r->paused = TRUE;
                return;
        }
        if (!r->paused)
                return;
        vt_recorder_get_stats(r->writer, &stats);
        if (stats.recording) {
                g_message("history '%s': recording resumed (%" G_GUINT64_FORMAT
                          " records lost while paused)",
                          r->dir, stats.dropped);
                r->paused = FALSE;
        }
}

/**
 * vt_daemon_recorder_to_json:
 * @daemon: the daemon
 *
 * Returns: (transfer full) (nullable): query-status's "history": its
 *     directory, whether it is recording and its size on disk; %NULL when
 *     not recorded
 */
json_object *
vt_daemon_recorder_to_json(VtDaemon *daemon)
{
        VtDaemonRecorder *r = daemon->recorder;
        json_object *o;
        VtRecorderStats stats;

        if (r == NULL)
                return NULL;
        vt_recorder_get_stats(r->writer, &stats);
        o = json_object_new_object();
        json_object_object_add(o, "dir", json_object_new_string(r->dir));
        json_object_object_add(o, "recording", json_object_new_boolean(!r->paused));
        json_object_object_add(o, "bytes", json_object_new_int64((gint64)stats.disk_bytes));
        json_object_object_add(o, "records", json_object_new_int64((gint64)stats.records));
        json_object_object_add(o, "dropped", json_object_new_int64((gint64)stats.dropped));
        return o;
}

/**
 * vt_daemon_recorder_tick:
 * @daemon: the daemon
 * @why: (nullable): what ran the tick out of turn; %NULL: periodic
 * @input: what vt_balloon_decide() took (its `now_us` is the record's)
 * @before: the policy's state before the decision
 * @decision: the decision
 *
 * Records the policy in force (kept only when it changed) and the tick.
 */
void
vt_daemon_recorder_tick(VtDaemon *daemon, const char *why, const VtBalloonInput *input,
                        const VtBalloonState *before, const VtBalloonDecision *decision)
{
        VtRecorder *writer = writer_of(daemon);
        gint64 wall_us = g_get_real_time();

        if (writer == NULL)
                return;
        vt_recorder_add_policy(writer, wall_us, input->now_us, daemon->config->balloon_policy_name,
                               &daemon->balloon_config);
        vt_recorder_add_tick(writer, wall_us, why, input, before, decision);
}

/**
 * vt_daemon_recorder_move:
 * @daemon: the daemon
 * @guest: the guest
 * @outcome: done, stuck or refused
 * @actual_bytes: its balloon's size then
 * @target_bytes: what was asked for (0: not known)
 * @elapsed_us: since it was asked for (0: not known)
 * @detail: (nullable): the backend's message for a refusal
 *
 * Records a balloon move's end.
 */
void
vt_daemon_recorder_move(VtDaemon *daemon, const char *guest, VtRecorderMoveOutcome outcome,
                        guint64 actual_bytes, guint64 target_bytes, gint64 elapsed_us,
                        const char *detail)
{
        VtRecorder *writer = writer_of(daemon);

        if (writer != NULL)
                vt_recorder_add_move(writer, g_get_real_time(), g_get_monotonic_time(), guest,
                                     outcome, actual_bytes, target_bytes, elapsed_us, detail);
}

/**
 * vt_daemon_recorder_control:
 * @daemon: the daemon
 * @kind: what changed
 * @guest: (nullable): the guest; %NULL: the whole host
 * @bytes: a hold's target
 * @detail: (nullable): what changed, or why
 *
 * Records a change by hand or of the daemon.
 */
void
vt_daemon_recorder_control(VtDaemon *daemon, VtRecorderControlKind kind, const char *guest,
                           guint64 bytes, const char *detail)
{
        VtRecorder *writer = writer_of(daemon);

        if (writer != NULL)
                vt_recorder_add_control(writer, g_get_real_time(), g_get_monotonic_time(), kind,
                                        guest, bytes, detail);
}

/**
 * vt_daemon_recorder_ksm:
 * @daemon: the daemon
 * @host: the tuner's host input
 * @guests: (array length=n_guests): the step's guests, filled by
 *     vt_ksm_step_run()
 * @n_guests: how many
 * @applied: the decision was written (not paused)
 *
 * Records a KSM step that ran.
 */
void
vt_daemon_recorder_ksm(VtDaemon *daemon, const VtKsmHost *host, const VtKsmStepGuest *guests,
                       guint n_guests, gboolean applied)
{
        VtRecorder *writer = writer_of(daemon);

        if (writer != NULL && daemon->ksm != NULL)
                vt_recorder_add_ksm_step(writer, g_get_real_time(), g_get_monotonic_time(), host,
                                         guests, n_guests, daemon->ksm, applied);
}

/**
 * vt_daemon_recorder_migration_start:
 * @daemon: the daemon
 * @guest: the guest
 * @peer: where to
 * @prediction: the cost model's
 *
 * Records a migration's start.
 */
void
vt_daemon_recorder_migration_start(VtDaemon *daemon, const char *guest, const char *peer,
                                   const VtMigrateCost *prediction)
{
        VtRecorder *writer = writer_of(daemon);

        if (writer != NULL)
                vt_recorder_add_migration_start(writer, g_get_real_time(), g_get_monotonic_time(),
                                                guest, peer, prediction);
}

/**
 * vt_daemon_recorder_migration_pass:
 * @daemon: the daemon
 * @guest: the guest
 * @peer: where to
 * @progress: the executor's "progress"
 *
 * Records a migration's new pass.
 */
void
vt_daemon_recorder_migration_pass(VtDaemon *daemon, const char *guest, const char *peer,
                                  const VtMigrateExecProgress *progress)
{
        VtRecorder *writer = writer_of(daemon);

        if (writer != NULL)
                vt_recorder_add_migration_pass(writer, g_get_real_time(), g_get_monotonic_time(),
                                               guest, peer, progress);
}

/**
 * vt_daemon_recorder_migration_end:
 * @daemon: the daemon
 * @guest: the guest
 * @peer: where to
 * @result: the executor's "finished"
 *
 * Records how a migration ended, its prediction beside what happened.
 */
void
vt_daemon_recorder_migration_end(VtDaemon *daemon, const char *guest, const char *peer,
                                 const VtMigrateExecResult *result)
{
        VtRecorder *writer = writer_of(daemon);

        if (writer != NULL)
                vt_recorder_add_migration_end(writer, g_get_real_time(), g_get_monotonic_time(),
                                              guest, peer, result);
}
