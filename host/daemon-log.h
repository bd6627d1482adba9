/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's log: which messages are written, and where (stderr, or the journal). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean vt_daemon_log_wants(GLogLevelFlags threshold, const char *domain, GLogLevelFlags level);
void vt_daemon_log_setup(GLogLevelFlags threshold);
void vt_daemon_log_set_threshold(GLogLevelFlags threshold);

G_END_DECLS
