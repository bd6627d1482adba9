/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics endpoint: an HTTP server on the main loop that serves /metrics (libsoup). */
#pragma once

#include <gio/gio.h>

#include "host/metrics/metrics-format.h"

G_BEGIN_DECLS

#define VT_METRICS_DEFAULT_PORT 9848

/**
 * VtMetricsCollectFunc:
 * @writer: where to write the exposition
 * @user_data: the server's user data
 *
 * Writes every family from what the caller already holds; called on the
 * main loop for each scrape, so it must not block.
 */
typedef void (*VtMetricsCollectFunc)(VtMetricsWriter *writer, gpointer user_data);

typedef struct _VtMetricsServer VtMetricsServer;

gboolean vt_metrics_address_parse(const char *address, GSocketAddress **ret_address,
                                  GError **error);
VtMetricsServer *vt_metrics_server_new(const char *address, VtMetricsCollectFunc collect,
                                       gpointer user_data, GError **error);
guint vt_metrics_server_get_port(VtMetricsServer *server);
guint64 vt_metrics_server_get_scrapes(VtMetricsServer *server);
void vt_metrics_server_free(VtMetricsServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtMetricsServer, vt_metrics_server_free)

G_END_DECLS
