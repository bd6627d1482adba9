/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's metrics: the counters it keeps, the scrape, and its action log. */
#pragma once

#include "host/daemon-log-action.h"
#include "host/daemon.h"

G_BEGIN_DECLS

typedef struct _VtDaemonMetrics VtDaemonMetrics;

gboolean vt_daemon_metrics_start(VtDaemon *daemon, GError **error);
void vt_daemon_metrics_stop(VtDaemon *daemon);
void vt_daemon_metrics_free(VtDaemonMetrics *metrics);
void vt_daemon_metrics_observe_tick(VtDaemon *daemon, gint64 cost_us);
void vt_daemon_metrics_count_push(VtDaemon *daemon, const char *guest);
guint vt_daemon_metrics_get_port(VtDaemon *daemon);

void vt_daemon_action(VtDaemon *daemon, GLogLevelFlags level, const char *guest, const char *action,
                      gint64 from_bytes, gint64 to_bytes, const char *reason, const char *format,
                      ...) G_GNUC_PRINTF(8, 9);

G_END_DECLS
