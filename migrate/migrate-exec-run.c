/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The migration executor: one live migration of one guest, started,
 * followed, steered and ended over the guest contract (host/guest/guest.h),
 * whatever the backend (the object and its accessors: migrate-exec.c).
 *
 * Theory of operation. A VtMigrateExec is a GObject driven by one timer on
 * the main context it was made in. vt_migrate_exec_start() asks the
 * backend to start the move; from then on the timer fires every
 * `poll_interval_us` and, when no read is in flight, reads the job
 * (vt_guest_migrate_query_async(): QEMU and libvirt publish their job
 * figures to be polled; events would only say when to read sooner). Each
 * reading goes to the steering (migrate-steer.c, pure), whose action the
 * executor applies: a downtime raise (one in flight at a time) or a
 * cancel. The move ends, once, when a reading says completed, failed or
 * cancelled, or when a bound is hit; "finished" carries the outcome with
 * the prediction beside what happened.
 *
 * Everything the backend says is input. Bounds on each way it can fail:
 * - a failed start ends the move as failed;
 * - a failed read is counted; `query_errors_max` in a row and the executor
 *   cancels (the safe side: the guest stays on the source) and ends the
 *   move as failed, having lost track of it;
 * - a move with no final status past `deadline_us` (even one stuck in its
 *   final copy, which the steering never touches) is cancelled;
 * - a cancel that shows no final status within `grace_us` ends the move
 *   as failed.
 *
 * The guest going away ("gone") mid-move: the executor reads the job on,
 * since a backend may still know how its move ended (libvirt's source
 * domain goes away right after a successful move, possibly before the
 * migration call returns). A final status read within `grace_us` is the
 * outcome; anything else (errors, a running status, until `grace_us`)
 * ends the move as failed with `source_gone`:
 * the executor never reports completed without the backend saying so, and
 * the daemon must not assume the guest runs on the source either.
 *
 * One guest, one move: the executor marks the guest (object data) from
 * its start to its end, and a second executor's start on a marked guest
 * fails with G_IO_ERROR_BUSY.
 *
 * References: the timer holds one on the executor, and so does each call
 * in flight, so a started executor lives until it finished even when its
 * caller dropped it.
 */
#include "migrate/migrate-exec-private.h"

#include "common/vt-size.h"

#define SIZE(bytes) VT_SIZE_STR(bytes, VT_SIZE_STYLE_SHORT)

static void exec_query(VtMigrateExec *exec);

static const char *
exec_status_name(VtMigrateStatus status)
{
        const char *name = vt_migrate_status_to_string(status);

        return name != NULL ? name : "unknown";
}

/* ---- the end ---- */

static void
exec_summary(VtMigrateExecResult *r)
{
        const VtMigrateCost *p = &r->prediction;
        char predicted[24];

        if (p->total_us == VT_MIGRATE_COST_FOREVER)
                g_snprintf(predicted, sizeof(predicted), "never");
        else
                g_snprintf(predicted, sizeof(predicted), "%.1f s", (double)p->total_us / 1e6);
        g_snprintf(r->summary, sizeof(r->summary),
                   "%.1f s (predicted %s), %u pass%s (%u), %" G_GINT64_FORMAT
                   " ms down (%" G_GINT64_FORMAT " ms), %s sent (%s)",
                   (double)r->total_us / 1e6, predicted, r->passes, r->passes == 1 ? "" : "es",
                   p->passes, r->downtime_us / 1000, p->downtime_us / 1000, SIZE(r->bytes),
                   SIZE(p->bytes_sent));
}

/* Ends the move, once: the result, the guest let go, "finished". */
static void G_GNUC_PRINTF(3, 4)
    exec_finish(VtMigrateExec *exec, VtMigrateExecOutcome outcome, const char *format, ...)
{
        VtMigrateExecResult *r = &exec->result;
        gboolean final = vt_migrate_status_is_final(exec->last.status);
        va_list ap;

        if (exec->finished)
                return;
        g_object_ref(exec);
        exec->finished = TRUE;
        r->outcome = outcome;
        r->prediction = exec->prediction;
        r->total_us = final && exec->last.elapsed_us > 0 ? exec->last.elapsed_us
                                                         : vt_migrate_exec_elapsed(exec);
        r->downtime_us = outcome == VT_MIGRATE_EXEC_COMPLETED ? MAX(exec->last.downtime_us, 0) : 0;
        r->passes = exec->max_pass;
        r->bytes = MAX(exec->max_bytes, exec->last.transferred_bytes);
        r->downtime_limit_us = exec->state.downtime_limit_us;
        r->steps = exec->state.steps;
        r->by_hand = exec->cancel_wanted && exec->cancel_by_hand;
        r->cause = outcome == VT_MIGRATE_EXEC_CANCELLED && !r->by_hand
                       ? exec->cancel_cause
                       : VT_MIGRATE_STEER_CAUSE_NONE;
        r->source_gone = exec->gone;
        va_start(ap, format);
        g_vsnprintf(r->reason, sizeof(r->reason), format, ap);
        va_end(ap);
        exec_summary(r);
        vt_migrate_exec_release_guest(exec);
        g_debug("migration of '%s' %s: %s; %s", vt_guest_get_name(exec->guest),
                vt_migrate_exec_outcome_to_string(outcome), r->reason, r->summary);
        g_signal_emit(exec, vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_FINISHED], 0, r);
        g_object_unref(exec);
}

/* A reading with a final status ends the move as it says. */
static void
exec_finish_final(VtMigrateExec *exec)
{
        const char *why = exec->cancel_reason != NULL ? exec->cancel_reason : "";

        switch (exec->last.status) {
        case VT_MIGRATE_STATUS_COMPLETED:
                if (exec->cancel_wanted)
                        exec_finish(exec, VT_MIGRATE_EXEC_COMPLETED,
                                    "completed before the cancel took effect (%s)", why);
                else
                        exec_finish(exec, VT_MIGRATE_EXEC_COMPLETED, "completed");
                break;
        case VT_MIGRATE_STATUS_CANCELLED:
                if (exec->cancel_wanted)
                        exec_finish(exec, VT_MIGRATE_EXEC_CANCELLED, "%s%s",
                                    exec->cancel_by_hand ? "cancelled by hand: " : "", why);
                else
                        exec_finish(exec, VT_MIGRATE_EXEC_CANCELLED,
                                    "cancelled, not by this executor");
                break;
        default:
                exec_finish(exec, VT_MIGRATE_EXEC_FAILED, "failed: %s",
                            exec->last.error[0] != '\0' ? exec->last.error : "no reason given");
                break;
        }
}

/* ---- cancel ---- */

static void
exec_on_cancelled(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtMigrateExec) exec = user_data;
        g_autoptr(GError) error = NULL;

        if (!vt_guest_migrate_cancel_finish(VT_GUEST(source), result, &error))
                g_debug("migration of '%s': the cancel failed: %s", vt_guest_get_name(exec->guest),
                        error->message);
        if (exec->finished)
                return;
        if (exec->lost_track) {
                exec_finish(exec, VT_MIGRATE_EXEC_FAILED, "%s; cancel %s", exec->cancel_reason,
                            error != NULL ? "failed too" : "sent");
                return;
        }
        /* A reading confirms it (or shows the move completed first). */
        if (!exec->query_in_flight)
                exec_query(exec);
}

static void
exec_cancel_now(VtMigrateExec *exec)
{
        exec->cancel_sent = TRUE;
        vt_guest_migrate_cancel_async(exec->guest, exec_on_cancelled, g_object_ref(exec));
}

/* Asks for a cancel, once; sent as soon as the move runs. */
static void
exec_want_cancel(VtMigrateExec *exec, VtMigrateSteerCause cause, gboolean by_hand,
                 const char *reason)
{
        if (exec->cancel_wanted || exec->finished)
                return;
        exec->cancel_wanted = TRUE;
        exec->cancel_us = g_get_monotonic_time();
        exec->cancel_cause = cause;
        exec->cancel_by_hand = by_hand;
        exec->cancel_reason = g_strdup(reason);
        exec->state.cancelling = TRUE;
        g_debug("migration of '%s': cancelling: %s", vt_guest_get_name(exec->guest), reason);
        if (exec->running)
                exec_cancel_now(exec);
}

/* ---- steering ---- */

static void
exec_on_downtime(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtMigrateExec) exec = user_data;
        g_autoptr(GError) error = NULL;

        exec->downtime_in_flight = FALSE;
        if (!vt_guest_migrate_set_downtime_finish(VT_GUEST(source), result, &error)) {
                /* The ramp stops here: the steering takes this as the cap. */
                g_debug("migration of '%s': downtime %" G_GINT64_FORMAT " us refused: %s",
                        vt_guest_get_name(exec->guest), exec->downtime_asked_us, error->message);
                exec->state.ramp_failed = TRUE;
                return;
        }
        exec->state.downtime_limit_us = exec->downtime_asked_us;
        exec->state.steps++;
}

static void
exec_steer(VtMigrateExec *exec)
{
        VtMigrateSteerAction action;

        vt_migrate_steer_decide(&exec->config, &exec->prediction, &exec->state,
                                vt_migrate_exec_elapsed(exec), &action);
        switch (action.kind) {
        case VT_MIGRATE_STEER_RAISE_DOWNTIME:
                if (exec->downtime_in_flight)
                        return;
                g_debug("migration of '%s': %s", vt_guest_get_name(exec->guest), action.reason);
                g_signal_emit(exec, vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_STEERED], 0,
                              &action);
                exec->downtime_in_flight = TRUE;
                exec->downtime_asked_us = action.downtime_limit_us;
                vt_guest_migrate_set_downtime_async(exec->guest, action.downtime_limit_us,
                                                    exec_on_downtime, g_object_ref(exec));
                break;
        case VT_MIGRATE_STEER_CANCEL:
                g_signal_emit(exec, vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_STEERED], 0,
                              &action);
                exec_want_cancel(exec, action.cause, FALSE, action.reason);
                break;
        default:
                break;
        }
}

/* ---- following the job ---- */

static void
exec_take_reading(VtMigrateExec *exec, const VtMigrateProgress *p)
{
        gint64 elapsed = vt_migrate_exec_elapsed(exec);
        VtMigrateExecProgress out;

        exec->last = *p;
        exec->last.error[sizeof(exec->last.error) - 1] = '\0';
        exec->max_pass = MAX(exec->max_pass, p->pass);
        exec->max_bytes = MAX(exec->max_bytes, p->transferred_bytes);
        if (!vt_migrate_steer_observe(&exec->state, p, elapsed))
                return;
        vt_migrate_exec_get_progress(exec, &out);
        g_signal_emit(exec, vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_PROGRESS], 0, &out);
}

static void
exec_query_failed(VtMigrateExec *exec, const GError *error)
{
        exec->query_errors++;
        g_free(exec->query_error);
        exec->query_error = g_strdup(error->message);
        /* Gone: read on until a final status; exec_check_bounds() ends it
         * after grace_us (libvirt's call may return after the domain left). */
        if (exec->gone)
                return;
        if (exec->query_errors < exec->limits.query_errors_max || exec->lost_track)
                return;
        exec->lost_track = TRUE;
        if (exec->cancel_sent) {
                exec_finish(exec, VT_MIGRATE_EXEC_FAILED,
                            "lost track: %u reads failed in a row after the cancel (last: %s)",
                            exec->query_errors, error->message);
                return;
        }
        g_autofree char *reason = g_strdup_printf("lost track: %u reads failed in a row (last: %s)",
                                                  exec->query_errors, error->message);
        exec_want_cancel(exec, VT_MIGRATE_STEER_CAUSE_NONE, FALSE, reason);
}

static void
exec_on_query(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtMigrateExec) exec = user_data;
        g_autoptr(GError) error = NULL;
        VtMigrateProgress p = {0};

        exec->query_in_flight = FALSE;
        if (!vt_guest_migrate_query_finish(VT_GUEST(source), result, &p, &error)) {
                if (!exec->finished)
                        exec_query_failed(exec, error);
                return;
        }
        if (exec->finished)
                return;
        exec->query_errors = 0;
        exec_take_reading(exec, &p);
        if (vt_migrate_status_is_final(p.status)) {
                exec_finish_final(exec);
                return;
        }
        if (exec->gone)
                return; /* no steering; read on, within grace_us */
        if (!exec->lost_track)
                exec_steer(exec);
}

static void
exec_query(VtMigrateExec *exec)
{
        exec->query_in_flight = TRUE;
        vt_guest_migrate_query_async(exec->guest, exec_on_query, g_object_ref(exec));
}

/* The bounds the timer checks. TRUE if one ended the move. */
static gboolean
exec_check_bounds(VtMigrateExec *exec, gint64 now)
{
        gint64 grace = exec->limits.grace_us;

        if (exec->cancel_wanted && now - exec->cancel_us > grace) {
                exec_finish(exec, VT_MIGRATE_EXEC_FAILED,
                            "the cancel (%s) showed no final status within %" G_GINT64_FORMAT
                            " ms; last seen %s",
                            exec->cancel_reason, grace / 1000, exec_status_name(exec->last.status));
                return TRUE;
        }
        if (exec->gone && now - exec->gone_us > grace) {
                exec_finish(exec, VT_MIGRATE_EXEC_FAILED,
                            "the guest went away during the move (%s), last seen %s; no final "
                            "status within %" G_GINT64_FORMAT " ms",
                            exec->gone_reason, exec_status_name(exec->last.status), grace / 1000);
                return TRUE;
        }
        if (now - exec->start_us > exec->deadline_us && !exec->cancel_wanted) {
                g_autofree char *reason = g_strdup_printf(
                    "no final status within %.1f s (last seen %s)", (double)exec->deadline_us / 1e6,
                    exec_status_name(exec->last.status));

                exec_want_cancel(exec, VT_MIGRATE_STEER_CAUSE_NONE, FALSE, reason);
        }
        return FALSE;
}

static gboolean
exec_tick(gpointer user_data)
{
        VtMigrateExec *exec = user_data;

        if (exec->finished)
                return G_SOURCE_REMOVE;
        if (exec_check_bounds(exec, g_get_monotonic_time()))
                return G_SOURCE_REMOVE;
        if (exec->running && !exec->query_in_flight)
                exec_query(exec);
        return G_SOURCE_CONTINUE;
}

static void
exec_on_gone(VtGuest *guest, gpointer error, gpointer user_data)
{
        VtMigrateExec *exec = user_data;
        const GError *why = error;

        if (exec->finished || exec->gone)
                return;
        exec->gone = TRUE;
        exec->gone_us = g_get_monotonic_time();
        exec->gone_reason = g_strdup(why != NULL ? why->message : "no reason given");
        g_debug("migration of '%s': the guest went away: %s", vt_guest_get_name(guest),
                exec->gone_reason);
        /* The backend's last word, if it has one. */
        if (exec->running && !exec->query_in_flight)
                exec_query(exec);
}

/* ---- start ---- */

static void
exec_on_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtMigrateExec) exec = user_data;
        g_autoptr(GError) error = NULL;

        if (!vt_guest_migrate_start_finish(VT_GUEST(source), result, &error)) {
                exec_finish(exec, VT_MIGRATE_EXEC_FAILED, "the start failed: %s", error->message);
                return;
        }
        if (exec->finished)
                return;
        exec->running = TRUE;
        g_debug("migration of '%s' to '%s' runs, downtime %" G_GINT64_FORMAT " ms",
                vt_guest_get_name(exec->guest), exec->peer, exec->request.downtime_limit_us / 1000);
        if (exec->cancel_wanted)
                exec_cancel_now(exec);
        if (!exec->query_in_flight)
                exec_query(exec);
}

/* The bound on the whole move: the limits', or twice the steering's. */
static gint64
exec_deadline(const VtMigrateExec *exec)
{
        gint64 limit = vt_migrate_steer_time_limit(&exec->config, &exec->prediction);

        if (exec->limits.deadline_us > 0)
                return exec->limits.deadline_us;
        if (limit == VT_MIGRATE_STEER_NO_LIMIT || limit > VT_MIGRATE_EXEC_DEADLINE_DEFAULT_US / 2)
                return VT_MIGRATE_EXEC_DEADLINE_DEFAULT_US;
        return 2 * limit;
}

static gboolean
exec_check_guest(VtMigrateExec *exec, GError **error)
{
        const char *name = vt_guest_get_name(exec->guest);

        if (exec->started) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PENDING,
                            "guest '%s': this executor was started already", name);
                return FALSE;
        }
        if (!vt_guest_is_started(exec->guest) || vt_guest_is_gone(exec->guest)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                            "guest '%s' is not started or went away", name);
                return FALSE;
        }
        if (!vt_guest_can_migrate(exec->guest)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "guest '%s': its backend cannot migrate", name);
                return FALSE;
        }
        if (vt_migrate_exec_get_for_guest(exec->guest) != NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "guest '%s' is migrating already",
                            name);
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_migrate_exec_start:
 * @exec: an executor not started yet
 * @error: why it could not start: %G_IO_ERROR_PENDING (started already),
 *     %G_IO_ERROR_NOT_CONNECTED (the guest is not started, or gone),
 *     %G_IO_ERROR_NOT_SUPPORTED (its backend cannot migrate),
 *     %G_IO_ERROR_BUSY (another executor moves the guest)
 *
 * Starts the move: asks the backend, then follows and steers it on the
 * main context @exec was made in, until "finished". On failure here
 * nothing was asked of the backend and "finished" is not emitted; once
 * started, "finished" comes exactly once (a failed start included).
 *
 * Returns: %TRUE if the move was asked for
 */
gboolean
vt_migrate_exec_start(VtMigrateExec *exec, GError **error)
{
        g_return_val_if_fail(VT_IS_MIGRATE_EXEC(exec), FALSE);
        g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

        if (!exec_check_guest(exec, error))
                return FALSE;
        exec->started = TRUE;
        exec->start_us = g_get_monotonic_time();
        exec->deadline_us = exec_deadline(exec);
        g_object_set_qdata(G_OBJECT(exec->guest), vt_migrate_exec_mark_quark(), exec);
        exec->gone_id = g_signal_connect(exec->guest, "gone", G_CALLBACK(exec_on_gone), exec);

        exec->timer = g_timeout_source_new((guint)(exec->limits.poll_interval_us / 1000));
        g_source_set_callback(exec->timer, exec_tick, g_object_ref(exec), g_object_unref);
        g_source_attach(exec->timer, exec->context);

        g_debug("migration of '%s' to '%s': starting; %s", vt_guest_get_name(exec->guest),
                exec->peer, exec->prediction.reason);
        vt_guest_migrate_start_async(exec->guest, &exec->request, exec_on_started,
                                     g_object_ref(exec));
        return TRUE;
}

/**
 * vt_migrate_exec_cancel:
 * @exec: an executor
 * @reason: (nullable): why, for the result's reason ("cancelled by hand:
 *     REASON")
 *
 * Cancels the move by hand: the backend is asked to cancel (at once, or
 * as soon as its start completes), and the move ends when a reading
 * confirms it (cancelled, or completed when the move won the race).
 * Nothing happens for an executor not started or finished, or one
 * already cancelling.
 */
void
vt_migrate_exec_cancel(VtMigrateExec *exec, const char *reason)
{
        g_return_if_fail(VT_IS_MIGRATE_EXEC(exec));
        if (!exec->started || exec->finished)
                return;
        exec_want_cancel(exec, VT_MIGRATE_STEER_CAUSE_NONE, TRUE,
                         reason != NULL ? reason : "no reason given");
}
