/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A strict reader of the Prometheus text exposition, for the metrics tests. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VtTestMetrics VtTestMetrics;

VtTestMetrics *vt_test_metrics_parse(const char *text, GError **error);
void vt_test_metrics_free(VtTestMetrics *metrics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtTestMetrics, vt_test_metrics_free)

gboolean vt_test_metrics_get(VtTestMetrics *metrics, const char *series, double *ret_value);
const char *vt_test_metrics_get_type(VtTestMetrics *metrics, const char *family);
guint vt_test_metrics_count(VtTestMetrics *metrics, const char *prefix);

guint vt_test_metrics_free_port(void);
char *vt_test_metrics_fetch(guint port, const char *request, GError **error);
char *vt_test_metrics_fetch_in_thread(guint port, const char *request, GError **error);
const char *vt_test_metrics_body(const char *response, guint *ret_status);

G_END_DECLS
