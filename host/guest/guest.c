/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest as vmtided sees it: the type, its start and stop, its agent.
 *
 * Theory of operation: a backend subclass talks to the hypervisor (QMP,
 * libvirt) and reports what it learns through the "for backends" setters;
 * the base class keeps that state, reads the guest's agent, and tracks the
 * balloon moves the daemon asks for. The base class is cut in three
 * files over one private state (host/guest/guest-private.h):
 *
 * - this file: the GObject (properties, signals), the start, the refresh,
 *   the stop, "gone", and the agent reader that runs between start and
 *   stop;
 * - host/guest/guest-balloon.c: the balloon moves: the request to the
 *   backend, the polling while one is under way, the verdicts of the
 *   tracker (host/guest/guest-move.c, pure) turned into signals;
 * - host/guest/guest-state.c: what the backend reports (pid, memory,
 *   statistics, reachability, stored policy) and the snapshot the policy
 *   reads.
 *
 * A guest starts once: vt_guest_start_async() asks the backend, which
 * reports the guest's memory and balloon before completing; the agent
 * reader starts then. A failed start, a lost connection or a domain that
 * went away emits "gone" once; vt_guest_stop() silences every signal.
 */
#include "host/guest/guest-private.h"

GParamSpec *vt_guest_properties[PROP_LAST];
guint vt_guest_signals[SIGNAL_LAST];

G_DEFINE_TYPE_WITH_PRIVATE(VtGuest, vt_guest, G_TYPE_OBJECT)

/* The private state, for the other files of the base class. */
VtGuestPrivate *
vt_guest_get_private(VtGuest *guest)
{
        return vt_guest_get_instance_private(guest);
}

static void
guest_on_agent_pressure(VtAgentReader *reader, const VtAgentReport *report, gpointer user_data)
{
        VtGuest *guest = user_data;
        VtGuestPrivate *priv = vt_guest_get_instance_private(guest);

        if (priv->stopped)
                return;
        priv->pressure = TRUE;
        g_signal_emit(guest, vt_guest_signals[SIGNAL_PRESSURE], 0);
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
        g_object_notify_by_pspec(G_OBJECT(guest), vt_guest_properties[PROP_AGENT_PATH]);
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
gboolean
vt_guest_return_if_unusable(VtGuest *guest, GTask *task)
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
        if (vt_guest_return_if_unusable(guest, task))
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
        vt_guest_poll_stop(guest);
        if (priv->agent != NULL)
                vt_agent_reader_stop(priv->agent);
        VT_GUEST_GET_CLASS(guest)->stop(guest);
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
        vt_guest_poll_stop(guest);
        if (priv->agent != NULL)
                vt_agent_reader_stop(priv->agent);
        g_debug("guest '%s' is gone: %s", priv->name, error != NULL ? error->message : "-");
        g_signal_emit(guest, vt_guest_signals[SIGNAL_GONE], 0, error);
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
        vt_guest_poll_stop(guest);
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
        priv->memdev_strategy = VT_MEMDEV_STRATEGY_MEMDEV_FIRST;
        priv->context = g_main_context_ref_thread_default();
}

static void guest_class_add_signals(VtGuestClass *klass);

static void
vt_guest_class_init(VtGuestClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);
        const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

        object_class->get_property = vt_guest_get_property;
        object_class->set_property = vt_guest_set_property;
        object_class->dispose = vt_guest_dispose;
        object_class->finalize = vt_guest_finalize;

        vt_guest_properties[PROP_NAME] = g_param_spec_string(
            "name", NULL, NULL, NULL,
            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
        vt_guest_properties[PROP_AGENT_PATH] =
            g_param_spec_string("agent-path", NULL, NULL, NULL,
                                G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                                    G_PARAM_STATIC_STRINGS);
        vt_guest_properties[PROP_PID] = g_param_spec_int("pid", NULL, NULL, 0, G_MAXINT, 0, ro);
        vt_guest_properties[PROP_MAX_BYTES] =
            g_param_spec_uint64("max-bytes", NULL, NULL, 0, G_MAXUINT64, 0, ro);
        vt_guest_properties[PROP_ACTUAL_BYTES] =
            g_param_spec_uint64("actual-bytes", NULL, NULL, 0, G_MAXUINT64, 0, ro);
        vt_guest_properties[PROP_TARGET_BYTES] =
            g_param_spec_uint64("target-bytes", NULL, NULL, 0, G_MAXUINT64, 0, ro);
        vt_guest_properties[PROP_HAS_BALLOON] =
            g_param_spec_boolean("has-balloon", NULL, NULL, FALSE, ro);
        g_object_class_install_properties(object_class, PROP_LAST, vt_guest_properties);
        guest_class_add_signals(klass);
}

/* The signals of guest.h, documented there and here. */
static void
guest_class_add_signals(VtGuestClass *klass)
{
        /**
         * VtGuest::balloon-changed:
         * @guest: the guest
         * @actual: the balloon's new size, bytes
         */
        vt_guest_signals[SIGNAL_BALLOON_CHANGED] =
            g_signal_new("balloon-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
        /**
         * VtGuest::pressure:
         * @guest: the guest
         *
         * The agent pushed a report because of pressure or a fast drop.
         */
        vt_guest_signals[SIGNAL_PRESSURE] =
            g_signal_new("pressure", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 0);
        /**
         * VtGuest::gone:
         * @guest: the guest
         * @error: (type gpointer) (nullable): the `const GError *` why
         */
        vt_guest_signals[SIGNAL_GONE] =
            g_signal_new("gone", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                         G_TYPE_NONE, 1, G_TYPE_POINTER);
        /**
         * VtGuest::move-done:
         * @guest: the guest
         * @actual: the balloon's size, bytes
         * @elapsed_us: since the move was asked for
         */
        vt_guest_signals[SIGNAL_MOVE_DONE] =
            g_signal_new("move-done", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_INT64);
        /**
         * VtGuest::move-stuck:
         * @guest: the guest
         * @actual: where the balloon stopped, bytes
         * @target: where it was asked to go, bytes
         */
        vt_guest_signals[SIGNAL_MOVE_STUCK] =
            g_signal_new("move-stuck", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
        /**
         * VtGuest::policy-changed:
         * @guest: the guest
         *
         * The policy its backend keeps for it was read or changed.
         */
        vt_guest_signals[SIGNAL_POLICY_CHANGED] =
            g_signal_new("policy-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 0);
        /**
         * VtGuest::memdev-changed:
         * @guest: the guest
         * @plugged: what its virtio-mem device holds now, bytes
         *
         * The plugged size changed, or the device appeared or went.
         */
        vt_guest_signals[SIGNAL_MEMDEV_CHANGED] =
            g_signal_new("memdev-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
}
