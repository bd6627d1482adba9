/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's configuration file read with a bound, and its text scanned for what GKeyFile hides. */
#pragma once

#include "host/daemon-config.h"

G_BEGIN_DECLS

GByteArray *vt_daemon_config_file_read(const char *path, gboolean *ret_missing, GError **error);
gboolean vt_daemon_config_file_scan(const char *origin, const char *data, gsize length,
                                    GPtrArray *warnings, GHashTable *lines, GError **error);

G_END_DECLS
