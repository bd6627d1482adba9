/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's balloon targets: the policy's moves and targets set by hand, asked of the backend. */

/*
 * Theory of operation
 *
 * A move the policy decided (vt_daemon_apply_target()) or a target set by
 * hand on the control socket (vt_daemon_set_manual_async()) is logged once
 * with its reason, sent as a DECISION event, and asked of the guest's
 * backend, asynchronously: a hung guest never stalls the tick. A guest held
 * by hand is an input of the next decisions (VtBalloonGuestConfig.held),
 * so the policy itself leaves it alone. If the backend refuses a target
 * set by hand, the guest is not left held at a size it never reached: it
 * gets back the hold it had before, or automation.
 */
#include "host/daemon-metrics.h"
#include "host/daemon-private.h"
#include "host/daemon-recorder.h"

#include "common/vt-size.h"
#include "qmp/qmp-error.h"

/*
 * A balloon target asked of a guest's backend, until the backend answers.
 * @daemon may be gone by then: it is used only while the guest is still
 * started, since dropping a guest (and so freeing the daemon) stops it.
 */
typedef struct {
        VtDaemon *daemon;
        char *name;
        guint64 bytes;
        GTask *task;         /* (nullable): a target set by hand: its caller */
        gboolean had_manual; /* with @task: the hold before it */
        guint64 had_manual_target;
} TargetCtx;

static void
target_ctx_free(TargetCtx *ctx)
{
        g_clear_object(&ctx->task);
        g_free(ctx->name);
        g_free(ctx);
}

/*
 * A target set by hand that the backend refused: the guest is not held at
 * a size it never reached. It gets back the hold it had before (none:
 * automation), as VtGuest gets back its previous target, unless a later
 * request changed the hold meanwhile. Returns where that leaves the
 * guest, for the client.
 */
static char *
undo_manual(VtDaemonGuest *dg, TargetCtx *ctx)
{
        if (!dg->manual)
                return g_strdup("it is under automatic control");
        if (dg->manual_target != ctx->bytes)
                return g_strdup_printf("a later target holds it at %s",
                                       VT_SIZE_STR(dg->manual_target, VT_SIZE_STYLE_MIB));
        dg->manual = ctx->had_manual;
        dg->manual_target = ctx->had_manual_target;
        vt_daemon_tick_soon(dg->daemon, "target by hand refused");
        if (!dg->manual) {
                g_message("guest '%s': back to automation (its target by hand was refused)",
                          dg->name);
                return g_strdup("it is back under automatic control");
        }
        g_message("guest '%s': held by hand at %s again", dg->name,
                  VT_SIZE_STR(dg->manual_target, VT_SIZE_STYLE_MIB));
        return g_strdup_printf("it stays held by hand at %s",
                               VT_SIZE_STR(dg->manual_target, VT_SIZE_STYLE_MIB));
}

static void
on_target_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        TargetCtx *ctx = user_data;
        VtGuest *guest = VT_GUEST(source);
        VtDaemonGuest *dg = NULL;

        if (vt_guest_set_target_finish(guest, result, &error)) {
                if (ctx->task != NULL)
                        g_task_return_boolean(ctx->task, TRUE);
                target_ctx_free(ctx);
                return;
        }
        if (vt_guest_is_started(guest)) {
                dg = g_hash_table_lookup(ctx->daemon->guests, ctx->name);
                if (dg != NULL && dg->guest != guest)
                        dg = NULL;
        }
        /* A guest that went away (its connection first) says so once,
         * when it is dropped; its hold goes with it. */
        if (dg == NULL || vt_guest_is_gone(guest) ||
            g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED)) {
                g_debug("guest '%s': balloon: %s", ctx->name, error->message);
                if (ctx->task != NULL)
                        g_task_return_new_error(ctx->task, VT_CONTROL_ERROR,
                                                VT_CONTROL_ERROR_GENERIC,
                                                "guest '%s' went away before its balloon target "
                                                "was taken (%s)",
                                                ctx->name, error->message);
                target_ctx_free(ctx);
                return;
        }
        g_message("guest '%s': balloon refused: %s", ctx->name, error->message);
        vt_daemon_recorder_move(ctx->daemon, ctx->name, VT_RECORDER_MOVE_REFUSED,
                                vt_guest_get_actual_bytes(guest), ctx->bytes, 0, error->message);
        if (ctx->task != NULL) {
                g_autofree char *state = undo_manual(dg, ctx);
                const char *backend = ctx->daemon->backend != NULL
                                          ? vt_backend_get_name(ctx->daemon->backend)
                                          : "guest's";

                g_task_return_new_error(ctx->task, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                        "the %s backend refused the balloon target of %s (%s); %s",
                                        backend, VT_SIZE_STR(ctx->bytes, VT_SIZE_STYLE_MIB),
                                        error->message, state);
        }
        target_ctx_free(ctx);
}

/* Asks @dg's backend for @ctx's target (@ctx: transfer full). */
static void
set_target_ctx(VtDaemon *daemon, VtDaemonGuest *dg, TargetCtx *ctx, gint64 now_us)
{
        ctx->daemon = daemon;
        ctx->name = g_strdup(dg->name);
        dg->last_change_us = now_us;
        daemon->n_actions++;
        vt_guest_set_target_async(dg->guest, ctx->bytes, now_us, on_target_set, ctx);
}

static void
set_target(VtDaemon *daemon, VtDaemonGuest *dg, guint64 bytes, gint64 now_us)
{
        TargetCtx *ctx = g_new0(TargetCtx, 1);

        ctx->bytes = bytes;
        set_target_ctx(daemon, dg, ctx, now_us);
}

static void
emit_decision(VtDaemon *daemon, VtDaemonGuest *dg, guint64 from, const VtBalloonTarget *t,
              gint64 now_us)
{
        json_object *data = json_object_new_object();
        VtAgentReader *agent = vt_guest_get_agent(dg->guest);
        const VtAgentReport *report = agent != NULL ? vt_agent_reader_get_report(agent) : NULL;

        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "action",
                               json_object_new_string(vt_balloon_action_to_string(t->action)));
        json_object_object_add(data, "from", json_object_new_int64((gint64)from));
        json_object_object_add(data, "to", json_object_new_int64((gint64)t->target_bytes));
        json_object_object_add(data, "reason", json_object_new_string(t->reason));
        /* How old the agent's latest report was: for a give on a push,
         * the time from the push to the decision. */
        json_object_object_add(data, "agent_age_ms",
                               report != NULL && report->received_us > 0
                                   ? json_object_new_int64((now_us - report->received_us) / 1000)
                                   : NULL);
        vt_daemon_emit(daemon, VT_CONTROL_EVENT_DECISION, data);
}

/**
 * vt_daemon_apply_target:
 * @daemon: the daemon
 * @dg: a guest
 * @from: its balloon size when the policy decided
 * @t: the policy's GIVE or RECLAIM for it, applied as it stands
 * @now_us: when it was decided
 *
 * Logs the move once with its reason, asks the guest's backend for it and
 * sends it as a DECISION event.
 */
void
vt_daemon_apply_target(VtDaemon *daemon, VtDaemonGuest *dg, guint64 from, const VtBalloonTarget *t,
                       gint64 now_us)
{
        vt_daemon_action(
            daemon, G_LOG_LEVEL_MESSAGE, dg->name, vt_balloon_action_to_string(t->action),
            (gint64)from, (gint64)t->target_bytes, t->reason, "guest '%s': %s %s -> %s: %s",
            dg->name, vt_balloon_action_to_string(t->action), VT_SIZE_STR(from, VT_SIZE_STYLE_MIB),
            VT_SIZE_STR(t->target_bytes, VT_SIZE_STYLE_MIB), t->reason);
        set_target(daemon, dg, t->target_bytes, now_us);
        emit_decision(daemon, dg, from, t, now_us);
}

/**
 * vt_daemon_set_manual_async:
 * @daemon: the daemon
 * @dg: a guest
 * @bytes: the size to hold it at, in the policy's currency (clamped to
 *     vt_balloon_floor() of its boot memory .. its maximum: boot memory,
 *     plus the virtio-mem device's maximum when that is driven)
 * @callback: called once the backend took the target, or refused it
 * @user_data: for @callback
 *
 * Holds the guest at @bytes (automation leaves it alone) and asks its
 * backend for that size at once, logged and sent as a DECISION. If the
 * backend refuses, the guest is not left held at a size it never reached:
 * it gets back the hold it had before, or automation. Finish with
 * vt_daemon_set_manual_finish().
 */
void
vt_daemon_set_manual_async(VtDaemon *daemon, VtDaemonGuest *dg, guint64 bytes,
                           GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
        guint64 boot = vt_guest_get_max_bytes(dg->guest);
        gint64 now_us = g_get_monotonic_time();
        VtBalloonTarget t = {.action = VT_BALLOON_ACTION_NONE};
        VtBalloonGuest snapshot;
        guint64 max, from;
        TargetCtx *ctx;

        /* The policy's currency: with virtio-mem driven, the ceiling is boot
         * memory plus the device's maximum, and what it holds counts what
         * is plugged. The floor stays the boot memory's. */
        vt_guest_snapshot(dg->guest, now_us, &snapshot);
        max = MAX(snapshot.max_bytes, boot);
        from = snapshot.actual_bytes;

        g_task_set_source_tag(task, vt_daemon_set_manual_async);
        if (dg->state != VT_DAEMON_GUEST_RUNNING) {
                g_task_return_new_error(task, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                        "guest '%s' is not running", dg->name);
                return;
        }
        if (!vt_guest_has_balloon(dg->guest)) {
                g_task_return_new_error(task, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                        "guest '%s' has no active balloon", dg->name);
                return;
        }
        bytes = CLAMP(bytes, vt_balloon_floor(boot), max);
        g_task_set_task_data(task, g_memdup2(&bytes, sizeof(bytes)), g_free);
        ctx = g_new0(TargetCtx, 1);
        ctx->bytes = bytes;
        ctx->task = g_steal_pointer(&task);
        ctx->had_manual = dg->manual;
        ctx->had_manual_target = dg->manual_target;
        dg->manual = TRUE;
        dg->manual_target = bytes;
        t.action = bytes >= from ? VT_BALLOON_ACTION_GIVE : VT_BALLOON_ACTION_RECLAIM;
        t.target_bytes = bytes;
        g_snprintf(t.reason, sizeof(t.reason), "set by hand to %s",
                   VT_SIZE_STR(bytes, VT_SIZE_STYLE_MIB));
        vt_daemon_action(
            daemon, G_LOG_LEVEL_MESSAGE, dg->name, vt_balloon_action_to_string(t.action),
            (gint64)from, (gint64)bytes, t.reason, "guest '%s': %s %s -> %s: %s", dg->name,
            vt_balloon_action_to_string(t.action), VT_SIZE_STR(from, VT_SIZE_STYLE_MIB),
            VT_SIZE_STR(bytes, VT_SIZE_STYLE_MIB), t.reason);
        dg->last = t;
        dg->has_last = TRUE;
        vt_daemon_recorder_control(daemon, VT_RECORDER_CONTROL_HOLD, dg->name, bytes,
                                   "control socket");
        set_target_ctx(daemon, dg, ctx, now_us);
        emit_decision(daemon, dg, from, &t, now_us);
}

/**
 * vt_daemon_set_manual_finish:
 * @result: the result passed to the callback
 * @ret_target: (out) (optional): the target asked for, after clamping
 * @error: %VT_CONTROL_ERROR_GENERIC: the guest is not running, has no
 *     balloon, went away, or its backend refused (the message says why
 *     and where the guest is left)
 *
 * Returns: %TRUE once the backend took the target
 */
gboolean
vt_daemon_set_manual_finish(GAsyncResult *result, guint64 *ret_target, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
        g_return_val_if_fail(g_async_result_is_tagged(result, vt_daemon_set_manual_async), FALSE);

        if (!g_task_propagate_boolean(G_TASK(result), error))
                return FALSE;
        if (ret_target != NULL)
                *ret_target = *(const guint64 *)g_task_get_task_data(G_TASK(result));
        return TRUE;
}

/* Hands a guest held by hand back to automation. */
void
vt_daemon_clear_manual(VtDaemon *daemon, VtDaemonGuest *dg)
{
        if (!dg->manual)
                return;
        dg->manual = FALSE;
        g_message("guest '%s': back to automation (control socket)", dg->name);
        vt_daemon_recorder_control(daemon, VT_RECORDER_CONTROL_RELEASE, dg->name, 0,
                                   "control socket");
        vt_daemon_tick_soon(daemon, "guest released");
}
