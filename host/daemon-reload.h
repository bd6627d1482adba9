/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's configuration reload (SIGHUP): what changes live, what needs a restart. */
#pragma once

#include <glib.h>

#include "host/daemon-config.h"
#include "host/daemon.h"

G_BEGIN_DECLS

/**
 * VtDaemonConfigLoader:
 * @user_data: the caller's
 * @error: return location for a #GError
 *
 * Reads the configuration anew (the file, then the command line's
 * overrides).
 *
 * Returns: (transfer full): the configuration, or %NULL with @error
 */
typedef VtDaemonConfig *(*VtDaemonConfigLoader)(gpointer user_data, GError **error);

void vt_daemon_config_diff(const VtDaemonConfig *old, const VtDaemonConfig *new_config,
                           GPtrArray *ret_live, GPtrArray *ret_restart);
gboolean vt_daemon_reload(VtDaemon *daemon, VtDaemonConfigLoader load, gpointer user_data,
                          GError **error);
const VtDaemonConfig *vt_daemon_get_config(VtDaemon *daemon);

G_END_DECLS
