/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's control loop: sample, decide, apply, tell. */
#pragma once

#include <glib.h>

#include "host/daemon-config.h"

G_BEGIN_DECLS

typedef struct _VtDaemon VtDaemon;

VtDaemon *vt_daemon_new(VtDaemonConfig *config, GError **error);
gboolean vt_daemon_start(VtDaemon *daemon, GError **error);
void vt_daemon_stop(VtDaemon *daemon);
void vt_daemon_free(VtDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtDaemon, vt_daemon_free)

G_END_DECLS
