/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The migration executor: the object, its construction and accessors. How
 * a move runs (start, reads, steering, bounds, the end) is in
 * migrate-exec-run.c, with the theory of operation.
 */
#include "migrate/migrate-exec-private.h"

guint vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_LAST];

G_DEFINE_TYPE(VtMigrateExec, vt_migrate_exec, G_TYPE_OBJECT)

GQuark
vt_migrate_exec_mark_quark(void)
{
        return g_quark_from_static_string("vt-migrate-exec");
}

/**
 * vt_migrate_exec_limits_init:
 * @limits: (out caller-allocates): the limits to fill
 *
 * The defaults: read every 250 ms, the deadline from the steering's time
 * limit, 30 s of grace, 10 failed reads in a row.
 */
void
vt_migrate_exec_limits_init(VtMigrateExecLimits *limits)
{
        g_return_if_fail(limits != NULL);
        limits->poll_interval_us = VT_MIGRATE_EXEC_POLL_DEFAULT_US;
        limits->deadline_us = 0;
        limits->grace_us = VT_MIGRATE_EXEC_GRACE_DEFAULT_US;
        limits->query_errors_max = VT_MIGRATE_EXEC_QUERY_ERRORS_DEFAULT;
}

void
vt_migrate_exec_release_guest(VtMigrateExec *exec)
{
        if (exec->timer != NULL) {
                g_source_destroy(exec->timer);
                g_clear_pointer(&exec->timer, g_source_unref);
        }
        if (exec->guest == NULL)
                return;
        g_clear_signal_handler(&exec->gone_id, exec->guest);
        if (g_object_get_qdata(G_OBJECT(exec->guest), vt_migrate_exec_mark_quark()) == exec)
                g_object_set_qdata(G_OBJECT(exec->guest), vt_migrate_exec_mark_quark(), NULL);
}

/* ---- accessors ---- */

/**
 * vt_migrate_exec_get_guest:
 * @exec: an executor
 *
 * Returns: (transfer none): the guest it moves
 */
VtGuest *
vt_migrate_exec_get_guest(VtMigrateExec *exec)
{
        g_return_val_if_fail(VT_IS_MIGRATE_EXEC(exec), NULL);
        return exec->guest;
}

/**
 * vt_migrate_exec_is_finished:
 * @exec: an executor
 *
 * Returns: %TRUE once "finished" was emitted
 */
gboolean
vt_migrate_exec_is_finished(VtMigrateExec *exec)
{
        g_return_val_if_fail(VT_IS_MIGRATE_EXEC(exec), FALSE);
        return exec->finished;
}

/**
 * vt_migrate_exec_get_result:
 * @exec: an executor
 *
 * Returns: (transfer none) (nullable): how the move ended, owned by
 *     @exec; %NULL until it finished
 */
const VtMigrateExecResult *
vt_migrate_exec_get_result(VtMigrateExec *exec)
{
        g_return_val_if_fail(VT_IS_MIGRATE_EXEC(exec), NULL);
        return exec->finished ? &exec->result : NULL;
}

/**
 * vt_migrate_exec_get_progress:
 * @exec: an executor
 * @ret_progress: (out caller-allocates): how the move goes, from the last
 *     reading (zeroes before the first)
 */
void
vt_migrate_exec_get_progress(VtMigrateExec *exec, VtMigrateExecProgress *ret_progress)
{
        gint64 elapsed;

        g_return_if_fail(VT_IS_MIGRATE_EXEC(exec) && ret_progress != NULL);
        elapsed = exec->started ? vt_migrate_exec_elapsed(exec) : 0;
        *ret_progress = (VtMigrateExecProgress){
            .status = exec->last.status,
            .pass = exec->last.pass,
            .remaining_bytes = exec->last.remaining_bytes,
            .transferred_bytes = exec->last.transferred_bytes,
            .dirty_rate = exec->last.dirty_rate,
            .throughput = exec->last.throughput,
            .elapsed_us = elapsed,
            .downtime_limit_us = exec->state.downtime_limit_us,
            .predicted_total_us = exec->prediction.total_us,
            .predicted_left_us =
                vt_migrate_steer_estimate_left(&exec->prediction, &exec->state, elapsed),
        };
}

/**
 * vt_migrate_exec_get_state:
 * @exec: an executor
 *
 * Returns: (transfer none): what the steering saw of the move (passes,
 *     the limit in force, steps), owned by @exec
 */
const VtMigrateSteerState *
vt_migrate_exec_get_state(VtMigrateExec *exec)
{
        g_return_val_if_fail(VT_IS_MIGRATE_EXEC(exec), NULL);
        return &exec->state;
}

/**
 * vt_migrate_exec_get_for_guest:
 * @guest: a guest
 *
 * Whether the guest is migrating: the daemon measures no dirty rate and
 * moves no balloon then, and starts no second move.
 *
 * Returns: (transfer none) (nullable): the executor moving @guest, from
 *     its start to its end; %NULL when none
 */
VtMigrateExec *
vt_migrate_exec_get_for_guest(VtGuest *guest)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        return g_object_get_qdata(G_OBJECT(guest), vt_migrate_exec_mark_quark());
}

/**
 * vt_migrate_exec_outcome_to_string:
 * @outcome: an outcome
 *
 * Returns: "completed", "failed" or "cancelled"; %NULL out of range
 */
const char *
vt_migrate_exec_outcome_to_string(VtMigrateExecOutcome outcome)
{
        static const char *const names[VT_MIGRATE_EXEC_OUTCOME_MAX] = {
            [VT_MIGRATE_EXEC_COMPLETED] = "completed",
            [VT_MIGRATE_EXEC_FAILED] = "failed",
            [VT_MIGRATE_EXEC_CANCELLED] = "cancelled",
        };

        return (guint)outcome < VT_MIGRATE_EXEC_OUTCOME_MAX ? names[outcome] : NULL;
}

/* ---- the object ---- */

/**
 * vt_migrate_exec_new:
 * @guest: a started guest (referenced)
 * @request: where and how to move it (copied, strings too); its downtime
 *     limit is replaced by the steering's initial one (the request's when
 *     @config sets none, lowered to the cap), and its `auto_converge` by
 *     @config's
 * @prediction: the cost model's prediction for this move (copied): the
 *     steering's limits and the result's comparison come from it
 * @config: (nullable): the steering (copied); %NULL: the defaults
 *
 * Makes an executor on the thread-default main context; nothing happens
 * before vt_migrate_exec_start().
 *
 * Returns: (transfer full): the executor
 */
VtMigrateExec *
vt_migrate_exec_new(VtGuest *guest, const VtMigrateRequest *request,
                    const VtMigrateCost *prediction, const VtMigrateSteerConfig *config)
{
        VtMigrateExec *exec;

        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        g_return_val_if_fail(request != NULL && prediction != NULL, NULL);

        exec = g_object_new(VT_TYPE_MIGRATE_EXEC, NULL);
        exec->guest = g_object_ref(guest);
        if (config != NULL)
                exec->config = *config;
        else
                vt_migrate_steer_config_init(&exec->config);
        if (exec->config.downtime_initial_us <= 0 && request->downtime_limit_us > 0)
                exec->config.downtime_initial_us = request->downtime_limit_us;
        exec->prediction = *prediction;
        exec->peer = g_strdup(request->peer != NULL ? request->peer : "");
        exec->transport_uri = g_strdup(request->transport_uri);
        exec->request = *request;
        exec->request.peer = exec->peer;
        exec->request.transport_uri = exec->transport_uri;
        exec->request.downtime_limit_us = vt_migrate_steer_initial_downtime(&exec->config);
        exec->request.auto_converge = exec->config.auto_converge;
        vt_migrate_steer_state_init(&exec->state, exec->request.downtime_limit_us);
        return exec;
}

/**
 * vt_migrate_exec_set_limits:
 * @exec: an executor not started yet
 * @limits: its bounds (copied; out-of-range values are clamped)
 */
void
vt_migrate_exec_set_limits(VtMigrateExec *exec, const VtMigrateExecLimits *limits)
{
        g_return_if_fail(VT_IS_MIGRATE_EXEC(exec) && limits != NULL);
        g_return_if_fail(!exec->started);
        exec->limits = *limits;
        exec->limits.poll_interval_us =
            CLAMP(limits->poll_interval_us, G_TIME_SPAN_MILLISECOND, 10 * G_USEC_PER_SEC);
        if (exec->limits.grace_us <= 0)
                exec->limits.grace_us = VT_MIGRATE_EXEC_GRACE_DEFAULT_US;
        if (exec->limits.query_errors_max == 0)
                exec->limits.query_errors_max = VT_MIGRATE_EXEC_QUERY_ERRORS_DEFAULT;
}

static void
vt_migrate_exec_dispose(GObject *object)
{
        VtMigrateExec *exec = VT_MIGRATE_EXEC(object);

        vt_migrate_exec_release_guest(exec);
        g_clear_object(&exec->guest);
        G_OBJECT_CLASS(vt_migrate_exec_parent_class)->dispose(object);
}

static void
vt_migrate_exec_finalize(GObject *object)
{
        VtMigrateExec *exec = VT_MIGRATE_EXEC(object);

        g_free(exec->peer);
        g_free(exec->transport_uri);
        g_free(exec->query_error);
        g_free(exec->cancel_reason);
        g_free(exec->gone_reason);
        g_main_context_unref(exec->context);
        G_OBJECT_CLASS(vt_migrate_exec_parent_class)->finalize(object);
}

static void
vt_migrate_exec_init(VtMigrateExec *exec)
{
        exec->context = g_main_context_ref_thread_default();
        vt_migrate_exec_limits_init(&exec->limits);
        exec->last.status = VT_MIGRATE_STATUS_NONE;
}

static void
vt_migrate_exec_class_init(VtMigrateExecClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = vt_migrate_exec_dispose;
        object_class->finalize = vt_migrate_exec_finalize;

        /**
         * VtMigrateExec::progress:
         * @exec: the executor
         * @progress: (type gpointer): the `const VtMigrateExecProgress *`
         *
         * A new pass began.
         */
        vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_PROGRESS] =
            g_signal_new("progress", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
        /**
         * VtMigrateExec::steered:
         * @exec: the executor
         * @action: (type gpointer): the `const VtMigrateSteerAction *`
         *
         * The steering raised the downtime limit or cancelled the move.
         */
        vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_STEERED] =
            g_signal_new("steered", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
        /**
         * VtMigrateExec::finished:
         * @exec: the executor
         * @result: (type gpointer): the `const VtMigrateExecResult *`
         *
         * The move ended; emitted once.
         */
        vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_FINISHED] =
            g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}
