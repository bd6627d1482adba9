/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where guests come from: the interface every backend implements. */
#include "host/backend.h"

enum {
        SIGNAL_GUEST_ADDED,
        SIGNAL_GUEST_REMOVED,
        SIGNAL_CONNECTION_CHANGED,
        SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST];

G_DEFINE_INTERFACE(VtBackend, vt_backend, G_TYPE_OBJECT)

static void
vt_backend_default_init(VtBackendInterface *iface)
{
        /**
         * VtBackend::guest-added:
         * @backend: the backend
         * @guest: a new guest, not started yet
         */
        signals[SIGNAL_GUEST_ADDED] =
            g_signal_new("guest-added", G_TYPE_FROM_INTERFACE(iface), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 1, VT_TYPE_GUEST);
        /**
         * VtBackend::guest-removed:
         * @backend: the backend
         * @guest: a guest announced before, whose socket or domain is gone
         *     or whose QEMU died; the daemon stops and drops it
         */
        signals[SIGNAL_GUEST_REMOVED] =
            g_signal_new("guest-removed", G_TYPE_FROM_INTERFACE(iface), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 1, VT_TYPE_GUEST);
        /**
         * VtBackend::connection-changed:
         * @backend: the backend
         * @connected: whether it reaches its hypervisor manager now
         * @message: what happened, for the log
         *
         * Only backends with a connection (libvirt) emit it: on each
         * change, and on the first failure to connect.
         */
        signals[SIGNAL_CONNECTION_CHANGED] =
            g_signal_new("connection-changed", G_TYPE_FROM_INTERFACE(iface), G_SIGNAL_RUN_LAST, 0,
                         NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_STRING);
}

/**
 * vt_backend_start:
 * @backend: a backend
 * @error: why it cannot follow its guests (e.g. a missing directory)
 *
 * Finds the guests there are now and follows them; "guest-added" comes
 * from the main loop afterwards, never from within this call.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_backend_start(VtBackend *backend, GError **error)
{
        g_return_val_if_fail(VT_IS_BACKEND(backend), FALSE);
        g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
        return VT_BACKEND_GET_IFACE(backend)->start(backend, error);
}

/**
 * vt_backend_stop:
 * @backend: a backend
 *
 * Stops following; no signal is emitted afterwards. The guests are the
 * daemon's to stop.
 */
void
vt_backend_stop(VtBackend *backend)
{
        g_return_if_fail(VT_IS_BACKEND(backend));
        VT_BACKEND_GET_IFACE(backend)->stop(backend);
}

/**
 * vt_backend_rescan:
 * @backend: a started backend
 *
 * Looks again now: a fallback for missed notifications, cheap enough for
 * every tick.
 */
void
vt_backend_rescan(VtBackend *backend)
{
        g_return_if_fail(VT_IS_BACKEND(backend));
        VT_BACKEND_GET_IFACE(backend)->rescan(backend);
}

/**
 * vt_backend_get_name:
 * @backend: a backend
 *
 * Returns: "qmp" or "libvirt"
 */
const char *
vt_backend_get_name(VtBackend *backend)
{
        g_return_val_if_fail(VT_IS_BACKEND(backend), NULL);
        return VT_BACKEND_GET_IFACE(backend)->get_name(backend);
}

/**
 * vt_backend_emit_guest_added:
 * @backend: a backend
 * @guest: the new guest
 *
 * For implementations; call from the main loop, not from within a call
 * the daemon made.
 */
void
vt_backend_emit_guest_added(VtBackend *backend, VtGuest *guest)
{
        g_return_if_fail(VT_IS_BACKEND(backend));
        g_return_if_fail(VT_IS_GUEST(guest));
        g_signal_emit(backend, signals[SIGNAL_GUEST_ADDED], 0, guest);
}

/**
 * vt_backend_emit_guest_removed:
 * @backend: a backend
 * @guest: a guest announced before
 *
 * For implementations, as vt_backend_emit_guest_added().
 */
void
vt_backend_emit_guest_removed(VtBackend *backend, VtGuest *guest)
{
        g_return_if_fail(VT_IS_BACKEND(backend));
        g_return_if_fail(VT_IS_GUEST(guest));
        g_signal_emit(backend, signals[SIGNAL_GUEST_REMOVED], 0, guest);
}

/**
 * vt_backend_is_connected:
 * @backend: a backend
 *
 * Returns: %FALSE while the backend cannot reach its hypervisor manager
 *     (libvirtd); %TRUE for backends without one
 */
gboolean
vt_backend_is_connected(VtBackend *backend)
{
        VtBackendInterface *iface;

        g_return_val_if_fail(VT_IS_BACKEND(backend), FALSE);
        iface = VT_BACKEND_GET_IFACE(backend);
        return iface->is_connected == NULL || iface->is_connected(backend);
}

/**
 * vt_backend_emit_connection_changed:
 * @backend: a backend
 * @connected: whether it is connected now
 * @message: what happened
 *
 * For implementations, from the main loop.
 */
void
vt_backend_emit_connection_changed(VtBackend *backend, gboolean connected, const char *message)
{
        g_return_if_fail(VT_IS_BACKEND(backend));
        g_signal_emit(backend, signals[SIGNAL_CONNECTION_CHANGED], 0, connected, message);
}
