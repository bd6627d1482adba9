/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where guests come from: the interface every backend implements. */
#include "host/guest/guest-backend.h"

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

typedef struct {
        gboolean added;
        VtGuest *guest; /* owned */
} Announcement;

struct _VtBackendAnnouncer {
        VtBackend *backend; /* the owner: not referenced */
        GMainContext *context;
        GQueue queue;    /* Announcement *, oldest first */
        GSource *source; /* flushes @queue */
};

static void
announcement_free(Announcement *announcement)
{
        g_object_unref(announcement->guest);
        g_free(announcement);
}

static gboolean
announcer_flush(gpointer user_data)
{
        VtBackendAnnouncer *announcer = user_data;
        /* A handler may drop the last other reference to the backend. */
        g_autoptr(VtBackend) backend = g_object_ref(announcer->backend);
        Announcement *announcement;

        g_clear_pointer(&announcer->source, g_source_unref);
        /* A handler may stop the backend, which clears the queue. */
        while ((announcement = g_queue_pop_head(&announcer->queue)) != NULL) {
                if (announcement->added)
                        vt_backend_emit_guest_added(backend, announcement->guest);
                else
                        vt_backend_emit_guest_removed(backend, announcement->guest);
                announcement_free(announcement);
        }
        return G_SOURCE_REMOVE;
}

/**
 * vt_backend_announcer_new:
 * @backend: the backend that owns it (not referenced)
 * @context: the main context to emit on
 *
 * Returns: (transfer full): an announcer with nothing queued
 */
VtBackendAnnouncer *
vt_backend_announcer_new(VtBackend *backend, GMainContext *context)
{
        VtBackendAnnouncer *announcer = g_new0(VtBackendAnnouncer, 1);

        announcer->backend = backend;
        announcer->context = g_main_context_ref(context);
        g_queue_init(&announcer->queue);
        return announcer;
}

/**
 * vt_backend_announcer_push:
 * @announcer: an announcer
 * @added: "guest-added" (else "guest-removed")
 * @guest: the guest (a reference is taken)
 *
 * Queues the signal; it is emitted from the main context soon, after
 * those queued before it.
 */
void
vt_backend_announcer_push(VtBackendAnnouncer *announcer, gboolean added, VtGuest *guest)
{
        Announcement *announcement = g_new0(Announcement, 1);

        announcement->added = added;
        announcement->guest = g_object_ref(guest);
        g_queue_push_tail(&announcer->queue, announcement);
        if (announcer->source != NULL)
                return;
        announcer->source = g_idle_source_new();
        g_source_set_callback(announcer->source, announcer_flush, announcer, NULL);
        g_source_attach(announcer->source, announcer->context);
}

/**
 * vt_backend_announcer_clear:
 * @announcer: an announcer
 *
 * Drops what is queued (the backend stops): nothing more is emitted.
 */
void
vt_backend_announcer_clear(VtBackendAnnouncer *announcer)
{
        if (announcer->source != NULL) {
                g_source_destroy(announcer->source);
                g_clear_pointer(&announcer->source, g_source_unref);
        }
        g_queue_clear_full(&announcer->queue, (GDestroyNotify)announcement_free);
}

/**
 * vt_backend_announcer_free:
 * @announcer: (nullable): an announcer
 */
void
vt_backend_announcer_free(VtBackendAnnouncer *announcer)
{
        if (announcer == NULL)
                return;
        vt_backend_announcer_clear(announcer);
        g_main_context_unref(announcer->context);
        g_free(announcer);
}
