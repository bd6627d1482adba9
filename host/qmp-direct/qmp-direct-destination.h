/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP-direct destination command: starts the receiving QEMU, prints the URI. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void vt_qmp_destination_run_async(const char *const *command, const char *name, const char *peer,
                                  gint64 timeout_us, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
char *vt_qmp_destination_run_finish(GAsyncResult *result, GError **error);
gboolean vt_qmp_destination_uri_is_valid(const char *uri);

G_END_DECLS
