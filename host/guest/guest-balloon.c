/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's balloon moves: the request to the backend, the polling while
 * one is under way, the tracker's verdicts as "move-done" and "move-stuck".
 *
 * Theory of operation: a move starts in vt_guest_set_target_async(): the
 * tracker (host/guest/guest-move.c) records the target, the size it moves
 * from and the time (the caller's @now_us), the move goes
 * (%VT_BALLOON_GUEST_MOVING) and the backend is asked. Every balloon size
 * the backend reports afterwards (events, polls, refreshes) goes through
 * vt_guest_update_balloon() with the time it was seen, and the tracker
 * judges it: done within %VT_GUEST_CONFIRM_SLACK of the target, stuck
 * after %VT_GUEST_STUCK_US without progress ("move-stuck" once). A guest
 * whose driver is missing or refuses does not move at all, so its first
 * move ends stuck.
 *
 * A stuck guest is shown to the policy with %VT_BALLOON_GUEST_STUCK until
 * %VT_GUEST_STUCK_RETRY_US passed (a driver may have loaded since), so it
 * is left alone that long and then tried again. A backend that answers a
 * move with %VT_QMP_ERROR_DEVICE_NOT_ACTIVE (no balloon device) marks the
 * guest as having no balloon until a refresh finds one.
 *
 * Moves are judged at the times they are given. What brings the updates
 * that let a move end (done or stuck) is polling: once the backend took a
 * move, the base class asks it to read the balloon (@poll_balloon_async)
 * every %VT_GUEST_POLL_US, one read at a time, slowing to
 * %VT_GUEST_SLOW_POLL_US past the stuck timeout, until the move ends;
 * QEMU's BALLOON_CHANGE comes at most once a second, so the event with the
 * final size may come a second after the balloon got there.
 */
#include "host/guest/guest-private.h"

#include "qmp/qmp-error.h"

/* Judges the move under way against the memory just seen at @now_us. */
void
vt_guest_move_check(VtGuest *guest, gint64 now_us)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        const VtGuestMove *move = &priv->move;
        guint64 memory = vt_guest_memdev_memory(guest);

        if (priv->stopped)
                return;
        switch (vt_guest_move_observe(&priv->move, memory, now_us)) {
        case VT_GUEST_MOVE_DONE:
                g_debug("guest '%s': balloon reached %" G_GUINT64_FORMAT " MiB in %.2f s",
                        priv->name, memory >> 20,
                        (double)(now_us - move->start_us) / G_USEC_PER_SEC);
                g_signal_emit(guest, vt_guest_signals[SIGNAL_MOVE_DONE], 0, memory,
                              now_us - move->start_us);
                break;
        case VT_GUEST_MOVE_STUCK:
                g_debug("guest '%s': balloon stuck at %" G_GUINT64_FORMAT
                        " MiB, target %" G_GUINT64_FORMAT " MiB, no progress for %.1f s",
                        priv->name, memory >> 20, move->target_bytes >> 20,
                        (double)(now_us - move->progress_us) / G_USEC_PER_SEC);
                g_signal_emit(guest, vt_guest_signals[SIGNAL_MOVE_STUCK], 0, memory,
                              move->target_bytes);
                break;
        case VT_GUEST_MOVE_IDLE:
        case VT_GUEST_MOVE_UNDER_WAY:
        case VT_GUEST_MOVE_STATE_MAX:
                break;
        }
}

/**
 * vt_guest_get_target_bytes:
 * @guest: a guest
 *
 * Returns: the last target the backend accepted or is asked for, bytes
 *     (0: none yet)
 */
guint64
vt_guest_get_target_bytes(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), 0);
        priv = vt_guest_get_private(guest);
        return priv->move.target_bytes;
}

/**
 * vt_guest_is_moving:
 * @guest: a guest
 *
 * Returns: %TRUE while a move is neither confirmed nor stuck
 */
gboolean
vt_guest_is_moving(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_private(guest);
        return priv->move.moving;
}

/**
 * vt_guest_is_stuck:
 * @guest: a guest
 *
 * Returns: %TRUE if the last move got stuck and no move was asked for or
 *     seen since (the snapshot drops the flag after
 *     %VT_GUEST_STUCK_RETRY_US, which is what lets the policy try again)
 */
gboolean
vt_guest_is_stuck(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_private(guest);
        return priv->move.stuck;
}

/**
 * vt_guest_set_stuck_timeout:
 * @guest: a guest
 * @stuck_us: how long a move may make no progress before it is stuck,
 *     > 0 (default %VT_GUEST_STUCK_US)
 *
 * Tests shorten it; the daemon keeps the default.
 */
void
vt_guest_set_stuck_timeout(VtGuest *guest, gint64 stuck_us)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(stuck_us > 0);
        priv = vt_guest_get_private(guest);
        priv->move.stuck_timeout_us = stuck_us;
}

/**
 * vt_guest_get_stuck_timeout:
 * @guest: a guest
 *
 * Returns: the stuck timeout in microseconds
 */
gint64
vt_guest_get_stuck_timeout(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), VT_GUEST_STUCK_US);
        priv = vt_guest_get_private(guest);
        return priv->move.stuck_timeout_us;
}

static void guest_poll_schedule(VtGuest *guest);

static void
guest_on_polled(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        g_autoptr(GError) error = NULL;

        (void)user_data;
        priv->poll_in_flight = FALSE;
        if (!VT_GUEST_GET_CLASS(guest)->poll_balloon_finish(guest, result, &error))
                g_debug("guest '%s': balloon poll: %s", priv->name, error->message);
        /* A failed poll is tried again: the move may still get there. */
        guest_poll_schedule(guest);
}

static gboolean
guest_on_poll_timeout(gpointer user_data)
{
        VtGuest *guest = user_data;
        VtGuestPrivate *priv = vt_guest_get_private(guest);

        g_clear_pointer(&priv->poll_source, g_source_unref);
        if (priv->poll_in_flight || !priv->move.moving || priv->stopped || priv->gone)
                return G_SOURCE_REMOVE;
        priv->poll_in_flight = TRUE;
        VT_GUEST_GET_CLASS(guest)->poll_balloon_async(guest, guest_on_polled, NULL);
        return G_SOURCE_REMOVE;
}

/* Reads the balloon again soon while the move is under way. */
static void
guest_poll_schedule(VtGuest *guest)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        gint64 delay_us = VT_GUEST_POLL_US;

        if (VT_GUEST_GET_CLASS(guest)->poll_balloon_async == NULL || priv->stopped || priv->gone ||
            priv->poll_source != NULL || priv->poll_in_flight || !priv->move.moving)
                return;
        if (g_get_monotonic_time() - priv->poll_since_us > priv->move.stuck_timeout_us)
                delay_us = VT_GUEST_SLOW_POLL_US;
        priv->poll_source = g_timeout_source_new((guint)(delay_us / 1000));
        g_source_set_callback(priv->poll_source, guest_on_poll_timeout, guest, NULL);
        g_source_attach(priv->poll_source, priv->context);
}

/* Stops reading the balloon (the guest stopped or went away). */
void
vt_guest_poll_stop(VtGuest *guest)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);

        if (priv->poll_source == NULL)
                return;
        g_source_destroy(priv->poll_source);
        g_clear_pointer(&priv->poll_source, g_source_unref);
}

/**
 * vt_guest_resume_polling:
 * @guest: a guest
 *
 * For backends: a move under way is polled again (a backend that could
 * not reach its guest for a while).
 */
void
vt_guest_resume_polling(VtGuest *guest)
{
        g_return_if_fail(VT_IS_GUEST(guest));
        guest_poll_schedule(guest);
}

typedef struct {
        guint64 serial;
        guint64 previous_target;
        gint64 previous_change_us;
} MoveData;

/* Starts the tracker toward @target_bytes for the move @task asks for. */
void
vt_guest_move_begin(VtGuest *guest, GTask *task, guint64 target_bytes, gint64 now_us)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        MoveData *request = g_new0(MoveData, 1);

        request->serial = ++priv->serial;
        request->previous_target = priv->move.target_bytes;
        request->previous_change_us = priv->move.start_us;
        g_task_set_task_data(task, request, g_free);
        vt_guest_move_start(&priv->move, vt_guest_memdev_memory(guest), target_bytes, now_us);
        g_object_notify_by_pspec(G_OBJECT(guest), vt_guest_properties[PROP_TARGET_BYTES]);
}

/* The backend took every part of the move: judge it now, poll while it goes. */
void
vt_guest_move_taken(VtGuest *guest, GTask *task)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        MoveData *request = g_task_get_task_data(task);
        gboolean current = request->serial == priv->serial;

        /* Already there (or a backend that confirms synchronously). */
        if (current && priv->move.moving)
                vt_guest_move_check(guest, g_get_monotonic_time());
        if (current && priv->move.moving) {
                priv->poll_since_us = g_get_monotonic_time();
                guest_poll_schedule(guest);
        }
        g_task_return_boolean(task, TRUE);
        g_object_unref(task);
}

/* The backend refused (part of) the move: the policy sees the old target. */
void
vt_guest_move_failed(VtGuest *guest, GTask *task, GError *error)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        MoveData *request = g_task_get_task_data(task);

        if (request->serial == priv->serial)
                vt_guest_move_refused(&priv->move, request->previous_target,
                                      request->previous_change_us);
        g_prefix_error(&error, "guest '%s': ", priv->name);
        g_task_return_error(task, error);
        g_object_unref(task);
}

static void
guest_on_balloon_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        GTask *task = user_data;
        GError *error = NULL;

        if (!VT_GUEST_GET_CLASS(guest)->set_balloon_finish(guest, result, &error)) {
                if (g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE) ||
                    g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_KVM_MISSING_CAP))
                        vt_guest_set_has_balloon(guest, FALSE);
                vt_guest_move_failed(guest, task, error);
                return;
        }
        vt_guest_move_taken(guest, task);
}

/**
 * vt_guest_set_target_async:
 * @guest: a started guest
 * @bytes: the memory to give the guest (the balloon size to ask for), > 0
 * @now_us: the monotonic time the decision was made, which the move is
 *     timed from
 * @callback: called when the backend accepted or refused the request
 * @user_data: for @callback
 *
 * Starts a move: the guest is %VT_BALLOON_GUEST_MOVING until the balloon
 * gets within %VT_GUEST_CONFIRM_SLACK of @bytes ("move-done") or stops
 * making progress ("move-stuck"). Completion says only whether the
 * backend took the request; a move asked for while another is under way
 * replaces it. A guest with a virtio-mem device (and a strategy other
 * than balloon-only) has @bytes mapped onto both levers
 * (host/guest/guest-memdev.c); the move then goes toward what the plan
 * expects the balloon's `actual` to read.
 */
void
vt_guest_set_target_async(VtGuest *guest, guint64 bytes, gint64 now_us,
                          GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestPrivate *priv;
        g_autoptr(GTask) task = NULL;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(bytes > 0);
        priv = vt_guest_get_private(guest);

        task = g_task_new(guest, NULL, callback, user_data);
        g_task_set_source_tag(task, vt_guest_set_target_async);
        if (vt_guest_return_if_unusable(guest, task))
                return;
        if (vt_guest_memdev_drives(guest)) {
                vt_guest_memdev_set_target(guest, g_steal_pointer(&task), bytes, now_us);
                return;
        }
        vt_guest_move_begin(guest, task, bytes, now_us);
        g_debug("guest '%s': balloon %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " MiB",
                priv->name, priv->actual_bytes >> 20, bytes >> 20);
        VT_GUEST_GET_CLASS(guest)->set_balloon_async(guest, bytes, guest_on_balloon_set,
                                                     g_steal_pointer(&task));
}

/**
 * vt_guest_set_target_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: %G_IO_ERROR_NOT_CONNECTED, or the backend's error:
 *     %VT_QMP_ERROR_DEVICE_NOT_ACTIVE (the guest then has no balloon until
 *     a refresh finds one), a timeout, a lost connection
 *
 * Returns: %TRUE if the backend took the request
 */
gboolean
vt_guest_set_target_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, guest), FALSE);
        return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * vt_guest_set_has_balloon:
 * @guest: a guest
 * @has_balloon: whether the guest has an active balloon device
 *
 * For backends. A guest without a balloon has no move under way.
 */
void
vt_guest_set_has_balloon(VtGuest *guest, gboolean has_balloon)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_private(guest);
        has_balloon = !!has_balloon;
        if (!has_balloon)
                vt_guest_move_cancel(&priv->move);
        if (priv->has_balloon == has_balloon)
                return;
        priv->has_balloon = has_balloon;
        g_debug("guest '%s': balloon %s", priv->name, has_balloon ? "active" : "not active");
        g_object_notify_by_pspec(G_OBJECT(guest), vt_guest_properties[PROP_HAS_BALLOON]);
}

/**
 * vt_guest_update_balloon:
 * @guest: a guest
 * @actual_bytes: the balloon's logical size, as the backend saw it
 * @now_us: the monotonic time it was seen
 *
 * For backends: from events, polls and refreshes. Implies an active
 * balloon. Emits "balloon-changed" when the size changed, and judges the
 * move under way ("move-done", "move-stuck").
 */
void
vt_guest_update_balloon(VtGuest *guest, guint64 actual_bytes, gint64 now_us)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_private(guest);

        if (priv->stopped)
                return;
        vt_guest_set_has_balloon(guest, TRUE);
        if (priv->actual_bytes != actual_bytes) {
                priv->actual_bytes = actual_bytes;
                g_object_notify_by_pspec(G_OBJECT(guest), vt_guest_properties[PROP_ACTUAL_BYTES]);
                g_signal_emit(guest, vt_guest_signals[SIGNAL_BALLOON_CHANGED], 0, actual_bytes);
        }
        vt_guest_move_check(guest, now_us);
}
