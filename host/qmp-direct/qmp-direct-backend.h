/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP-direct backend: guests found as QMP sockets in a directory. */
#pragma once

#include <gio/gio.h>

#include "host/guest/guest-backend.h"

G_BEGIN_DECLS

/* Longest guest name, in bytes (as the daemon's configuration allows). */
#define VT_BACKEND_QMP_MAX_NAME 255
/* Most guests followed at once; more sockets are ignored. */
#define VT_BACKEND_QMP_MAX_GUESTS 1024
/* A guest whose QEMU is dead but whose socket stays is tried again after
 * this long, doubling up to the maximum, unless its socket file changes. */
#define VT_BACKEND_QMP_RETRY_MIN_US (G_GINT64_CONSTANT(30) * G_USEC_PER_SEC)
#define VT_BACKEND_QMP_RETRY_MAX_US (G_GINT64_CONSTANT(480) * G_USEC_PER_SEC)

#define VT_TYPE_BACKEND_QMP (vt_backend_qmp_get_type())
G_DECLARE_FINAL_TYPE(VtBackendQmp, vt_backend_qmp, VT, BACKEND_QMP, GObject)

VtBackend *vt_backend_qmp_new(const char *dir, guint stats_interval_s);
void vt_backend_qmp_add_static(VtBackendQmp *backend, const char *name, const char *qmp_path,
                               const char *agent_path);
gboolean vt_backend_qmp_name_is_valid(const char *name);
void vt_backend_qmp_set_retry(VtBackendQmp *backend, gint64 min_us, gint64 max_us);
guint vt_backend_qmp_get_n_guests(VtBackendQmp *backend);
gboolean vt_backend_qmp_set_destination_command(VtBackendQmp *backend, const char *command,
                                                GError **error);
void vt_backend_qmp_set_quit_after_migration(VtBackendQmp *backend, gboolean quit);

G_END_DECLS
