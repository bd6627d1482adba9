/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where guests come from: the QMP-direct backend or libvirt. */
#pragma once

#include <gio/gio.h>

#include "host/guest/guest.h"

G_BEGIN_DECLS

#define VT_TYPE_BACKEND (vt_backend_get_type())
G_DECLARE_INTERFACE(VtBackend, vt_backend, VT, BACKEND, GObject)

/**
 * VtBackendInterface:
 * @start: find the guests there are now and follow guests appearing and
 *     vanishing; emits #VtBackend::guest-added for each (from the main
 *     loop, never from within this call)
 * @stop: stop following; no signal after this
 * @rescan: look again now (a fallback for missed notifications)
 * @get_name: "qmp" or "libvirt", for status
 * @is_connected: (nullable): whether it reaches libvirtd now; %NULL: a
 *     backend without a connection (always %TRUE)
 *
 * Signals:
 * - `guest-added (VtGuest *guest)`: a new guest, not started yet; the
 *   daemon takes a reference and calls vt_guest_start_async()
 * - `guest-removed (VtGuest *guest)`: the guest's sockets or domain are
 *   gone; the daemon stops it and drops it
 * - `connection-changed (gboolean connected, const char *message)`: the
 *   connection to libvirtd came or went (libvirt only)
 */
struct _VtBackendInterface {
        GTypeInterface parent_iface;

        gboolean (*start)(VtBackend *backend, GError **error);
        void (*stop)(VtBackend *backend);
        void (*rescan)(VtBackend *backend);
        const char *(*get_name)(VtBackend *backend);
        gboolean (*is_connected)(VtBackend *backend);
};

gboolean vt_backend_start(VtBackend *backend, GError **error);
void vt_backend_stop(VtBackend *backend);
void vt_backend_rescan(VtBackend *backend);
const char *vt_backend_get_name(VtBackend *backend);
gboolean vt_backend_is_connected(VtBackend *backend);

/* Addition, for implementations: emit the signals (from the main loop). */
void vt_backend_emit_guest_added(VtBackend *backend, VtGuest *guest);
void vt_backend_emit_guest_removed(VtBackend *backend, VtGuest *guest);
void vt_backend_emit_connection_changed(VtBackend *backend, gboolean connected,
                                        const char *message);

/*
 * For implementations: announcements queued and emitted from an idle
 * source on the backend's main context, in order, never from within a
 * call the daemon made or from a guest's signal.
 */
typedef struct _VtBackendAnnouncer VtBackendAnnouncer;

VtBackendAnnouncer *vt_backend_announcer_new(VtBackend *backend, GMainContext *context);
void vt_backend_announcer_push(VtBackendAnnouncer *announcer, gboolean added, VtGuest *guest);
void vt_backend_announcer_clear(VtBackendAnnouncer *announcer);
void vt_backend_announcer_free(VtBackendAnnouncer *announcer);

G_END_DECLS
