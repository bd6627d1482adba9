/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest as vmtided sees it: the state the balloon policy needs, whatever
 * backend drives the guest.
 *
 * Theory of operation: a backend subclass talks to the hypervisor (QMP,
 * libvirt) and reports what it learns through the "for backends" setters;
 * the base class keeps that state, reads the guest's agent, and tracks the
 * balloon moves the daemon asks for.
 *
 * A move starts in vt_guest_set_target_async(): it records the target, the
 * size it moves from and the time (the caller's @now_us), sets the move
 * going (%VT_BALLOON_GUEST_MOVING) and asks the backend. Every balloon size
 * the backend reports afterwards (events, polls, refreshes) goes through
 * vt_guest_update_balloon() with the time it was seen:
 *
 * - within %VT_GUEST_CONFIRM_SLACK of the target: done, "move-done";
 * - closer to the target than ever in this move: progress, the stuck clock
 *   starts over;
 * - otherwise, once the stuck timeout (%VT_GUEST_STUCK_US) passed since
 *   the last progress: stuck, "move-stuck" once. A guest whose driver is
 *   missing or refuses does not move at all, so its first move ends here.
 *
 * A stuck guest is shown to the policy with %VT_BALLOON_GUEST_STUCK until
 * %VT_GUEST_STUCK_RETRY_US passed (a driver may have loaded since), so it
 * is left alone that long and then tried again. A backend that answers a
 * move with %VT_QMP_ERROR_DEVICE_NOT_ACTIVE (no balloon device) marks the
 * guest as having no balloon until a refresh finds one.
 *
 * The base class reads no clock to judge moves when it is given the time.
 * What brings the updates that let a move end (done or stuck) is polling:
 * once the backend took a move, the base class asks it to read the
 * balloon (@poll_balloon_async) every %VT_GUEST_POLL_US, one read at a
 * time, slowing to %VT_GUEST_SLOW_POLL_US past the stuck timeout, until
 * the move ends; QEMU's BALLOON_CHANGE comes at most once a second, so the
 * event with the final size may come a second after the balloon got
 * there.
 */
#include "host/guest/guest.h"

#include "qmp/qmp-error.h"

typedef struct {
        char *name;
        char *agent_path;
        GPid pid;
        guint64 max_bytes;
        guint64 actual_bytes;
        gboolean has_balloon;
        VtGuestStats stats;
        VtBalloonGuestConfig config;

        VtAgentReader *agent;
        gulong agent_pressure_id;

        gboolean starting;
        gboolean started;
        gboolean stopped;
        gboolean gone;
        gboolean pressure;
        gboolean unreachable;

        gboolean has_stored_policy;
        VtBalloonGuestConfig stored_policy;
        gboolean stored_ksm_opt_out;

        VtGuestMove move; /* the last move asked for (guest-move.c) */
        guint64 serial;   /* counts moves, so a late reply finds its own */

        GMainContext *context;
        GSource *poll_source;
        gboolean poll_in_flight;
        gint64 poll_since_us; /* when the move being polled was taken */
} VtGuestPrivate;

enum {
        PROP_0,
        PROP_NAME,
        PROP_AGENT_PATH,
        PROP_PID,
        PROP_MAX_BYTES,
        PROP_ACTUAL_BYTES,
        PROP_TARGET_BYTES,
        PROP_HAS_BALLOON,
        PROP_LAST,
};

enum {
        SIGNAL_BALLOON_CHANGED,
        SIGNAL_PRESSURE,
        SIGNAL_GONE,
        SIGNAL_MOVE_DONE,
        SIGNAL_MOVE_STUCK,
        SIGNAL_POLICY_CHANGED,
        SIGNAL_LAST,
};

static GParamSpec *properties[PROP_LAST];
static guint signals[SIGNAL_LAST];

G_DEFINE_TYPE_WITH_PRIVATE(VtGuest, vt_guest, G_TYPE_OBJECT)

/* Judges the move under way against the balloon size just seen at @now_us. */
static void
guest_check_move(VtGuest *guest, gint64 now_us)
{
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);
        const VtGuestMove *move = &priv->move;

        if (priv->stopped)
                return;
        switch (vt_guest_move_observe(&priv->move, priv->actual_bytes, now_us)) {
        case VT_GUEST_MOVE_DONE:
                g_debug("guest '%s': balloon reached %" G_GUINT64_FORMAT " MiB in %.2f s",
                        priv->name, priv->actual_bytes >> 20,
                        (double)(now_us - move->start_us) / G_USEC_PER_SEC);
                g_signal_emit(guest, signals[SIGNAL_MOVE_DONE], 0, priv->actual_bytes,
                              now_us - move->start_us);
                break;
        case VT_GUEST_MOVE_STUCK:
                g_debug("guest '%s': balloon stuck at %" G_GUINT64_FORMAT
                        " MiB, target %" G_GUINT64_FORMAT " MiB, no progress for %.1f s",
                        priv->name, priv->actual_bytes >> 20, move->target_bytes >> 20,
                        (double)(now_us - move->progress_us) / G_USEC_PER_SEC);
                g_signal_emit(guest, signals[SIGNAL_MOVE_STUCK], 0, priv->actual_bytes,
                              move->target_bytes);
                break;
        case VT_GUEST_MOVE_IDLE:
        case VT_GUEST_MOVE_UNDER_WAY:
        case VT_GUEST_MOVE_STATE_MAX:
                break;
        }
}

static void
guest_on_agent_pressure(VtAgentReader *reader, const VtAgentReport *report, gpointer user_data)
{
        VtGuest *guest = user_data;
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

        if (priv->stopped)
                return;
        priv->pressure = TRUE;
        g_signal_emit(guest, signals[SIGNAL_PRESSURE], 0);
}

static void
guest_drop_agent(VtGuest *guest)
{
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

        if (priv->agent == NULL)
                return;
        vt_agent_reader_stop(priv->agent);
        g_clear_signal_handler(&priv->agent_pressure_id, priv->agent);
        g_clear_object(&priv->agent);
}

/**
 * vt_guest_get_name:
 * @guest: a guest
 *
 * Returns: its name (the socket's basename or the domain name)
 */
const char *
vt_guest_get_name(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        priv = vt_guest_get_instance_private(guest);
        return priv->name;
}

/**
 * vt_guest_get_pid:
 * @guest: a guest
 *
 * Returns: the QEMU process's pid, or 0 when unknown
 */
GPid
vt_guest_get_pid(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), 0);
        priv = vt_guest_get_instance_private(guest);
        return priv->pid;
}

/**
 * vt_guest_get_max_bytes:
 * @guest: a guest
 *
 * Returns: its boot memory, bytes (0 before it started)
 */
guint64
vt_guest_get_max_bytes(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), 0);
        priv = vt_guest_get_instance_private(guest);
        return priv->max_bytes;
}

/**
 * vt_guest_get_actual_bytes:
 * @guest: a guest
 *
 * Returns: the balloon's logical size as last reported, bytes
 */
guint64
vt_guest_get_actual_bytes(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), 0);
        priv = vt_guest_get_instance_private(guest);
        return priv->actual_bytes;
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
        priv = vt_guest_get_instance_private(guest);
        return priv->move.target_bytes;
}

/**
 * vt_guest_get_stats:
 * @guest: a guest
 *
 * Returns: (transfer none): the balloon driver's latest statistics;
 *     @updated_us is 0 until the driver reported some
 */
const VtGuestStats *
vt_guest_get_stats(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        priv = vt_guest_get_instance_private(guest);
        return &priv->stats;
}

/**
 * vt_guest_get_agent:
 * @guest: a guest
 *
 * Returns: (transfer none) (nullable): the reader of its agent's channel,
 *     %NULL when the guest has no agent path
 */
VtAgentReader *
vt_guest_get_agent(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        priv = vt_guest_get_instance_private(guest);
        return priv->agent;
}

/**
 * vt_guest_has_balloon:
 * @guest: a guest
 *
 * Returns: %TRUE if the backend found an active balloon device
 */
gboolean
vt_guest_has_balloon(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_instance_private(guest);
        return priv->has_balloon;
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
        priv = vt_guest_get_instance_private(guest);
        return priv->move.stuck;
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
        priv = vt_guest_get_instance_private(guest);
        return priv->move.moving;
}

/**
 * vt_guest_is_started:
 * @guest: a guest
 *
 * Returns: %TRUE once the start succeeded, until vt_guest_stop() (a guest
 *     that is gone stays started: see vt_guest_is_gone())
 */
gboolean
vt_guest_is_started(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_instance_private(guest);
        return priv->started;
}

/**
 * vt_guest_is_gone:
 * @guest: a guest
 *
 * Returns: %TRUE once "gone" was emitted: the start failed or the
 *     connection was lost
 */
gboolean
vt_guest_is_gone(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_instance_private(guest);
        return priv->gone;
}

/**
 * vt_guest_get_config:
 * @guest: a guest
 * @ret_config: (out caller-allocates): its per-guest policy
 */
void
vt_guest_get_config(VtGuest *guest, VtBalloonGuestConfig *ret_config)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(ret_config != NULL);
        priv = vt_guest_get_instance_private(guest);
        *ret_config = priv->config;
}

/**
 * vt_guest_set_config:
 * @guest: a guest
 * @config: its per-guest policy, from the configuration or the control
 *     socket (copied)
 */
void
vt_guest_set_config(VtGuest *guest, const VtBalloonGuestConfig *config)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(config != NULL);
        priv = vt_guest_get_instance_private(guest);
        priv->config = *config;
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
        priv = vt_guest_get_instance_private(guest);
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
        priv = vt_guest_get_instance_private(guest);
        return priv->move.stuck_timeout_us;
}

static void
guest_on_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);
        g_autoptr(GTask) task = user_data;
        g_autoptr(GError) error = NULL;

        priv->starting = FALSE;
        if (!VT_GUEST_GET_CLASS(guest)->start_finish(guest, result, &error)) {
                g_prefix_error(&error, "guest '%s': ", priv->name);
                vt_guest_emit_gone(guest, error);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (priv->stopped) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                        "guest '%s' was stopped while starting", priv->name);
                return;
        }
        /* Its domain or QEMU went away meanwhile ("gone" said so). */
        if (priv->gone) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                        "guest '%s' went away while starting", priv->name);
                return;
        }
        priv->started = TRUE;
        if (priv->agent != NULL)
                vt_agent_reader_start(priv->agent);
        g_debug("guest '%s' started: %" G_GUINT64_FORMAT " MiB, balloon %s at %" G_GUINT64_FORMAT
                " MiB, pid %d",
                priv->name, priv->max_bytes >> 20, priv->has_balloon ? "active" : "missing",
                priv->actual_bytes >> 20, (int)priv->pid);
        g_task_return_boolean(task, TRUE);
}

/**
 * vt_guest_start_async:
 * @guest: a guest that was not started yet
 * @callback: called when it started or failed to
 * @user_data: for @callback
 *
 * Connects through the backend, learns the guest's memory and balloon,
 * then starts reading its agent. A guest starts once; a failed start
 * emits "gone" before the callback runs.
 */
void
vt_guest_start_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestPrivate *priv;
        g_autoptr(GTask) task = NULL;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);

        task = g_task_new(guest, NULL, callback, user_data);
        g_task_set_source_tag(task, vt_guest_start_async);
        if (priv->starting || priv->started || priv->stopped || priv->gone) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_EXISTS,
                                        "guest '%s' was started already", priv->name);
                return;
        }
        priv->starting = TRUE;
        VT_GUEST_GET_CLASS(guest)->start_async(guest, guest_on_started, g_steal_pointer(&task));
}

/**
 * vt_guest_start_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: why it failed: the backend's error (a socket error, a
 *     %VT_QMP_ERROR), prefixed with the guest's name
 *
 * Returns: %TRUE if the guest started
 */
gboolean
vt_guest_start_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, guest), FALSE);
        return g_task_propagate_boolean(G_TASK(result), error);
}

/* Fails @task when @guest cannot take commands; returns TRUE if it did. */
static gboolean
guest_return_if_unusable(VtGuest *guest, GTask *task)
{
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

        if (priv->started && !priv->gone)
                return FALSE;
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "guest '%s' is %s",
                                priv->name,
                                priv->gone      ? "gone"
                                : priv->stopped ? "stopped"
                                                : "not started");
        return TRUE;
}

static void
guest_on_refreshed(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        g_autoptr(GTask) task = user_data;
        g_autoptr(GError) error = NULL;

        if (!VT_GUEST_GET_CLASS(guest)->refresh_finish(guest, result, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        g_task_return_boolean(task, TRUE);
}

/**
 * vt_guest_refresh_async:
 * @guest: a started guest
 * @callback: called when done
 * @user_data: for @callback
 *
 * Reads the balloon size and statistics again.
 */
void
vt_guest_refresh_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = NULL;

        g_return_if_fail(VT_IS_GUEST(guest));

        task = g_task_new(guest, NULL, callback, user_data);
        g_task_set_source_tag(task, vt_guest_refresh_async);
        if (guest_return_if_unusable(guest, task))
                return;
        VT_GUEST_GET_CLASS(guest)->refresh_async(guest, guest_on_refreshed, g_steal_pointer(&task));
}

/**
 * vt_guest_refresh_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: %G_IO_ERROR_NOT_CONNECTED for a guest not started or gone, or
 *     the backend's error
 *
 * Returns: %TRUE if the state was read
 */
gboolean
vt_guest_refresh_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, guest), FALSE);
        return g_task_propagate_boolean(G_TASK(result), error);
}

static void guest_poll_schedule(VtGuest *guest);

static void
guest_on_polled(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);
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
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

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
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);
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

static void
guest_poll_stop(VtGuest *guest)
{
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

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

static void
guest_on_balloon_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);
        g_autoptr(GTask) task = user_data;
        g_autoptr(GError) error = NULL;
        MoveData *request = g_task_get_task_data(task);
        gboolean current = request->serial == priv->serial;

        if (!VT_GUEST_GET_CLASS(guest)->set_balloon_finish(guest, result, &error)) {
                /* Not asked after all: the policy sees the old target. */
                if (current)
                        vt_guest_move_refused(&priv->move, request->previous_target,
                                              request->previous_change_us);
                if (g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE) ||
                    g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_KVM_MISSING_CAP))
                        vt_guest_set_has_balloon(guest, FALSE);
                g_prefix_error(&error, "guest '%s': ", priv->name);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        /* Already there (or a backend that confirms synchronously). */
        if (current && priv->move.moving)
                guest_check_move(guest, g_get_monotonic_time());
        if (current && priv->move.moving) {
                priv->poll_since_us = g_get_monotonic_time();
                guest_poll_schedule(guest);
        }
        g_task_return_boolean(task, TRUE);
}

/**
 * vt_guest_set_target_async:
 * @guest: a started guest
 * @bytes: the balloon size to ask for, > 0
 * @now_us: the monotonic time the decision was made, which the move is
 *     timed from
 * @callback: called when the backend accepted or refused the request
 * @user_data: for @callback
 *
 * Starts a move: the guest is %VT_BALLOON_GUEST_MOVING until the balloon
 * gets within %VT_GUEST_CONFIRM_SLACK of @bytes ("move-done") or stops
 * making progress ("move-stuck"). Completion says only whether the
 * backend took the request; a move asked for while another is under way
 * replaces it.
 */
void
vt_guest_set_target_async(VtGuest *guest, guint64 bytes, gint64 now_us,
                          GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestPrivate *priv;
        g_autoptr(GTask) task = NULL;
        MoveData *request;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(bytes > 0);
        priv = vt_guest_get_instance_private(guest);

        task = g_task_new(guest, NULL, callback, user_data);
        g_task_set_source_tag(task, vt_guest_set_target_async);
        if (guest_return_if_unusable(guest, task))
                return;

        request = g_new0(MoveData, 1);
        request->serial = ++priv->serial;
        request->previous_target = priv->move.target_bytes;
        request->previous_change_us = priv->move.start_us;
        g_task_set_task_data(task, request, g_free);

        vt_guest_move_start(&priv->move, priv->actual_bytes, bytes, now_us);
        g_object_notify_by_pspec(G_OBJECT(guest), properties[PROP_TARGET_BYTES]);
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
 * vt_guest_stop:
 * @guest: a guest
 *
 * Stops the agent reader and disconnects the backend; calls in flight
 * fail. No signal is emitted afterwards. Idempotent.
 */
void
vt_guest_stop(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);

        if (priv->stopped)
                return;
        priv->stopped = TRUE;
        priv->started = FALSE;
        vt_guest_move_cancel(&priv->move);
        guest_poll_stop(guest);
        if (priv->agent != NULL)
                vt_agent_reader_stop(priv->agent);
        VT_GUEST_GET_CLASS(guest)->stop(guest);
}

/**
 * vt_guest_snapshot:
 * @guest: a guest
 * @now_us: the monotonic time of the snapshot
 * @ret_snapshot: (out caller-allocates): the guest for the policy; @name
 *     borrows from @guest
 *
 * Ages are @now_us minus when the data arrived (%G_MAXINT64 when there is
 * none; the flags say which data is valid). Agent PSI is negative when the
 * report lacks it. @rss_bytes is left 0 for the daemon to fill.
 */
void
vt_guest_snapshot(VtGuest *guest, gint64 now_us, VtBalloonGuest *ret_snapshot)
{
        VtGuestPrivate *priv;
        const VtAgentReport *report = NULL;
        VtBalloonGuest s = {0};

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(ret_snapshot != NULL);
        priv = vt_guest_get_instance_private(guest);

        s.name = priv->name;
        if (priv->has_balloon)
                s.flags |= VT_BALLOON_GUEST_HAS_BALLOON;
        if (priv->pressure)
                s.flags |= VT_BALLOON_GUEST_PRESSURE_PUSH;
        if (priv->move.moving)
                s.flags |= VT_BALLOON_GUEST_MOVING;
        if (priv->move.reclaim)
                s.flags |= VT_BALLOON_GUEST_LAST_RECLAIM;
        if (vt_guest_move_is_stuck_at(&priv->move, now_us))
                s.flags |= VT_BALLOON_GUEST_STUCK;
        if (priv->unreachable)
                s.flags |= VT_BALLOON_GUEST_UNREACHABLE;
        s.max_bytes = priv->max_bytes;
        s.actual_bytes = priv->actual_bytes;
        s.target_bytes = priv->move.target_bytes;
        s.last_change_us = priv->move.start_us;

        s.stats_age_us = G_MAXINT64;
        if (priv->stats.updated_us != 0) {
                s.flags |= VT_BALLOON_GUEST_HAS_STATS;
                s.stats_total = priv->stats.total;
                s.stats_free = priv->stats.free;
                s.stats_available = priv->stats.available;
                s.stats_age_us = MAX(now_us - priv->stats.updated_us, 0);
        }

        s.agent_psi_some_avg10 = -1.0;
        s.agent_psi_full_avg10 = -1.0;
        s.agent_age_us = G_MAXINT64;
        if (priv->agent != NULL)
                report = vt_agent_reader_get_report(priv->agent);
        if (report != NULL) {
                s.flags |= VT_BALLOON_GUEST_HAS_AGENT;
                s.agent_mem_total = report->mem_total;
                if (report->fields & VT_AGENT_HAS_AVAILABLE)
                        s.agent_mem_available = report->mem_available;
                if (report->fields & VT_AGENT_HAS_PSI_SOME)
                        s.agent_psi_some_avg10 = report->psi_some.avg10;
                if (report->fields & VT_AGENT_HAS_PSI_FULL)
                        s.agent_psi_full_avg10 = report->psi_full.avg10;
                s.agent_age_us = MAX(now_us - report->received_us, 0);
        }
        *ret_snapshot = s;
}

/**
 * vt_guest_clear_pressure:
 * @guest: a guest
 *
 * Forgets the agent's pressure push, once a decision took it into account.
 */
void
vt_guest_clear_pressure(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);
        priv->pressure = FALSE;
}

/**
 * vt_guest_set_pid:
 * @guest: a guest
 * @pid: the QEMU process, 0 when unknown
 *
 * For backends.
 */
void
vt_guest_set_pid(VtGuest *guest, GPid pid)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);
        if (priv->pid == pid)
                return;
        priv->pid = pid;
        g_object_notify_by_pspec(G_OBJECT(guest), properties[PROP_PID]);
}

/**
 * vt_guest_set_max_bytes:
 * @guest: a guest
 * @bytes: its boot memory
 *
 * For backends.
 */
void
vt_guest_set_max_bytes(VtGuest *guest, guint64 bytes)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);
        if (priv->max_bytes == bytes)
                return;
        priv->max_bytes = bytes;
        g_object_notify_by_pspec(G_OBJECT(guest), properties[PROP_MAX_BYTES]);
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
        priv = vt_guest_get_instance_private(guest);
        has_balloon = !!has_balloon;
        if (!has_balloon)
                vt_guest_move_cancel(&priv->move);
        if (priv->has_balloon == has_balloon)
                return;
        priv->has_balloon = has_balloon;
        g_debug("guest '%s': balloon %s", priv->name, has_balloon ? "active" : "not active");
        g_object_notify_by_pspec(G_OBJECT(guest), properties[PROP_HAS_BALLOON]);
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
        priv = vt_guest_get_instance_private(guest);

        if (priv->stopped)
                return;
        vt_guest_set_has_balloon(guest, TRUE);
        if (priv->actual_bytes != actual_bytes) {
                priv->actual_bytes = actual_bytes;
                g_object_notify_by_pspec(G_OBJECT(guest), properties[PROP_ACTUAL_BYTES]);
                g_signal_emit(guest, signals[SIGNAL_BALLOON_CHANGED], 0, actual_bytes);
        }
        guest_check_move(guest, now_us);
}

/**
 * vt_guest_update_stats:
 * @guest: a guest
 * @stats: the balloon driver's statistics (copied)
 *
 * For backends.
 */
void
vt_guest_update_stats(VtGuest *guest, const VtGuestStats *stats)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(stats != NULL);
        priv = vt_guest_get_instance_private(guest);
        priv->stats = *stats;
}

/**
 * vt_guest_set_agent_path:
 * @guest: a guest
 * @path: (nullable): the host end of its agent channel, a Unix socket;
 *     %NULL for none
 *
 * For backends. Makes a reader for @path, started at once if the guest
 * already is (otherwise when it starts).
 */
void
vt_guest_set_agent_path(VtGuest *guest, const char *path)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);

        if (g_strcmp0(priv->agent_path, path) == 0)
                return;
        guest_drop_agent(guest);
        g_free(priv->agent_path);
        priv->agent_path = g_strdup(path);
        if (path != NULL) {
                priv->agent = vt_agent_reader_new(path);
                priv->agent_pressure_id = g_signal_connect(
                    priv->agent, "pressure", G_CALLBACK(guest_on_agent_pressure), guest);
                if (priv->started && !priv->gone)
                        vt_agent_reader_start(priv->agent);
        }
        g_object_notify_by_pspec(G_OBJECT(guest), properties[PROP_AGENT_PATH]);
}

/**
 * vt_guest_emit_gone:
 * @guest: a guest
 * @error: (nullable): why
 *
 * For backends (and the start): the guest is unusable. Emits "gone" once,
 * unless the guest was stopped; stops the agent reader.
 */
void
vt_guest_emit_gone(VtGuest *guest, const GError *error)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);

        if (priv->stopped || priv->gone)
                return;
        priv->gone = TRUE;
        vt_guest_move_cancel(&priv->move);
        guest_poll_stop(guest);
        if (priv->agent != NULL)
                vt_agent_reader_stop(priv->agent);
        g_debug("guest '%s' is gone: %s", priv->name, error != NULL ? error->message : "-");
        g_signal_emit(guest, signals[SIGNAL_GONE], 0, error);
}

/**
 * vt_guest_is_reachable:
 * @guest: a guest
 *
 * Returns: %FALSE while its backend cannot drive it (libvirtd restarting)
 */
gboolean
vt_guest_is_reachable(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_instance_private(guest);
        return !priv->unreachable;
}

/**
 * vt_guest_set_reachable:
 * @guest: a guest
 * @reachable: whether the backend can drive it now
 *
 * For backends: an unreachable guest keeps its last state and is shown to
 * the policy with %VT_BALLOON_GUEST_UNREACHABLE. A move under way stays
 * under way: the balloon may still get there.
 */
void
vt_guest_set_reachable(VtGuest *guest, gboolean reachable)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);
        priv->unreachable = !reachable;
}

/**
 * vt_guest_get_stored_policy:
 * @guest: a guest
 * @ret_balloon: (out caller-allocates) (optional): its balloon policy
 * @ret_ksm_opt_out: (out) (optional): whether it is left out of KSM
 *
 * Returns: %TRUE if the backend keeps a policy for the guest (a libvirt
 *     domain with vmtide's metadata element)
 */
gboolean
vt_guest_get_stored_policy(VtGuest *guest, VtBalloonGuestConfig *ret_balloon,
                           gboolean *ret_ksm_opt_out)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_instance_private(guest);
        if (!priv->has_stored_policy)
                return FALSE;
        if (ret_balloon != NULL)
                *ret_balloon = priv->stored_policy;
        if (ret_ksm_opt_out != NULL)
                *ret_ksm_opt_out = priv->stored_ksm_opt_out;
        return TRUE;
}

/**
 * vt_guest_set_stored_policy:
 * @guest: a guest
 * @balloon: (nullable): the policy the backend keeps for it; %NULL: none
 * @ksm_opt_out: with @balloon, whether it is left out of KSM
 *
 * For backends. Emits "policy-changed" when it differs from the last one.
 */
void
vt_guest_set_stored_policy(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                           gboolean ksm_opt_out)
{
        VtGuestPrivate *priv;
        gboolean has = balloon != NULL;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_instance_private(guest);

        if (!has)
                ksm_opt_out = FALSE;
        if (has == priv->has_stored_policy && ksm_opt_out == priv->stored_ksm_opt_out &&
            (!has || (balloon->min_bytes == priv->stored_policy.min_bytes &&
                      balloon->max_bytes == priv->stored_policy.max_bytes &&
                      balloon->shares == priv->stored_policy.shares &&
                      balloon->opt_out == priv->stored_policy.opt_out)))
                return;
        priv->has_stored_policy = has;
        priv->stored_policy = has ? *balloon : (VtBalloonGuestConfig){0};
        priv->stored_ksm_opt_out = ksm_opt_out;
        if (!priv->stopped)
                g_signal_emit(guest, signals[SIGNAL_POLICY_CHANGED], 0);
}

/**
 * vt_guest_can_store_policy:
 * @guest: a guest
 *
 * Returns: %TRUE if its backend keeps a policy with it
 *     (vt_guest_store_policy_async())
 */
gboolean
vt_guest_can_store_policy(VtGuest *guest)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        return VT_GUEST_GET_CLASS(guest)->store_policy_async != NULL;
}

/**
 * vt_guest_store_policy_async:
 * @guest: a started guest
 * @balloon: the balloon policy to keep (copied)
 * @ksm_opt_out: whether to leave it out of KSM
 * @callback: called when stored or refused
 * @user_data: for @callback
 *
 * Keeps the policy with the guest (libvirt: writes vmtide's element of
 * the domain's metadata, and nothing else). The stored policy is updated,
 * and "policy-changed" emitted, when the backend reads it back.
 */
void
vt_guest_store_policy_async(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                            gboolean ksm_opt_out, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestClass *klass;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(balloon != NULL);
        klass = VT_GUEST_GET_CLASS(guest);

        if (klass->store_policy_async == NULL) {
                g_task_report_new_error(guest, callback, user_data, vt_guest_store_policy_async,
                                        G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                        "guest '%s': its backend keeps no policy",
                                        vt_guest_get_name(guest));
                return;
        }
        klass->store_policy_async(guest, balloon, ksm_opt_out, callback, user_data);
}

/**
 * vt_guest_store_policy_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: %G_IO_ERROR_NOT_SUPPORTED, or the backend's error
 *
 * Returns: %TRUE if the policy was stored
 */
gboolean
vt_guest_store_policy_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        VtGuestClass *klass;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        klass = VT_GUEST_GET_CLASS(guest);
        if (g_async_result_is_tagged(result, vt_guest_store_policy_async) ||
            klass->store_policy_finish == NULL)
                return g_task_propagate_boolean(G_TASK(result), error);
        return klass->store_policy_finish(guest, result, error);
}

static void
vt_guest_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
        VtGuestPrivate *priv = vt_guest_get_instance_private(VT_GUEST(object));

        switch (prop_id) {
        case PROP_NAME:
                g_value_set_string(value, priv->name);
                break;
        case PROP_AGENT_PATH:
                g_value_set_string(value, priv->agent_path);
                break;
        case PROP_PID:
                g_value_set_int(value, priv->pid);
                break;
        case PROP_MAX_BYTES:
                g_value_set_uint64(value, priv->max_bytes);
                break;
        case PROP_ACTUAL_BYTES:
                g_value_set_uint64(value, priv->actual_bytes);
                break;
        case PROP_TARGET_BYTES:
                g_value_set_uint64(value, priv->move.target_bytes);
                break;
        case PROP_HAS_BALLOON:
                g_value_set_boolean(value, priv->has_balloon);
                break;
        default:
                G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
                break;
        }
}

static void
vt_guest_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
        VtGuest *guest = VT_GUEST(object);
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

        switch (prop_id) {
        case PROP_NAME:
                g_free(priv->name);
                priv->name = g_value_dup_string(value);
                break;
        case PROP_AGENT_PATH:
                vt_guest_set_agent_path(guest, g_value_get_string(value));
                break;
        default:
                G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
                break;
        }
}

static void
vt_guest_dispose(GObject *object)
{
        VtGuest *guest = VT_GUEST(object);
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

        /* Subclasses stop in their own dispose, before their state goes. */
        priv->stopped = TRUE;
        guest_poll_stop(guest);
        guest_drop_agent(guest);
        G_OBJECT_CLASS(vt_guest_parent_class)->dispose(object);
}

static void
vt_guest_finalize(GObject *object)
{
        VtGuestPrivate *priv = vt_guest_get_instance_private(VT_GUEST(object));

        g_free(priv->name);
        g_free(priv->agent_path);
        g_main_context_unref(priv->context);
        G_OBJECT_CLASS(vt_guest_parent_class)->finalize(object);
}

static void
vt_guest_init(VtGuest *guest)
{
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

        vt_guest_move_init(&priv->move, VT_GUEST_STUCK_US);
        priv->context = g_main_context_ref_thread_default();
}

static void
vt_guest_class_init(VtGuestClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);
        const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

        object_class->get_property = vt_guest_get_property;
        object_class->set_property = vt_guest_set_property;
        object_class->dispose = vt_guest_dispose;
        object_class->finalize = vt_guest_finalize;

        properties[PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL,
                                                    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                                        G_PARAM_STATIC_STRINGS);
        properties[PROP_AGENT_PATH] =
            g_param_spec_string("agent-path", NULL, NULL, NULL,
                                G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                                    G_PARAM_STATIC_STRINGS);
        properties[PROP_PID] = g_param_spec_int("pid", NULL, NULL, 0, G_MAXINT, 0, ro);
        properties[PROP_MAX_BYTES] =
            g_param_spec_uint64("max-bytes", NULL, NULL, 0, G_MAXUINT64, 0, ro);
        properties[PROP_ACTUAL_BYTES] =
            g_param_spec_uint64("actual-bytes", NULL, NULL, 0, G_MAXUINT64, 0, ro);
        properties[PROP_TARGET_BYTES] =
            g_param_spec_uint64("target-bytes", NULL, NULL, 0, G_MAXUINT64, 0, ro);
        properties[PROP_HAS_BALLOON] = g_param_spec_boolean("has-balloon", NULL, NULL, FALSE, ro);
        g_object_class_install_properties(object_class, PROP_LAST, properties);

        /**
         * VtGuest::balloon-changed:
         * @guest: the guest
         * @actual: the balloon's new size, bytes
         */
        signals[SIGNAL_BALLOON_CHANGED] =
            g_signal_new("balloon-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
        /**
         * VtGuest::pressure:
         * @guest: the guest
         *
         * The agent pushed a report because of pressure or a fast drop.
         */
        signals[SIGNAL_PRESSURE] =
            g_signal_new("pressure", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 0);
        /**
         * VtGuest::gone:
         * @guest: the guest
         * @error: (type gpointer) (nullable): the `const GError *` why
         */
        signals[SIGNAL_GONE] = g_signal_new("gone", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                            NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
        /**
         * VtGuest::move-done:
         * @guest: the guest
         * @actual: the balloon's size, bytes
         * @elapsed_us: since the move was asked for
         */
        signals[SIGNAL_MOVE_DONE] =
            g_signal_new("move-done", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_INT64);
        /**
         * VtGuest::move-stuck:
         * @guest: the guest
         * @actual: where the balloon stopped, bytes
         * @target: where it was asked to go, bytes
         */
        signals[SIGNAL_MOVE_STUCK] =
            g_signal_new("move-stuck", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
        /**
         * VtGuest::policy-changed:
         * @guest: the guest
         *
         * The policy its backend keeps for it was read or changed.
         */
        signals[SIGNAL_POLICY_CHANGED] =
            g_signal_new("policy-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 0);
}
