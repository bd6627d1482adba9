/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Prometheus text exposition format (version 0.0.4), written from tables (pure). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtMetricsType:
 * @VT_METRICS_GAUGE: a value that goes up and down
 * @VT_METRICS_COUNTER: a count that only grows (its name ends in `_total`)
 * @VT_METRICS_HISTOGRAM: `_bucket{le=}`, `_sum` and `_count` series
 *
 * A metric family's type, as its `# TYPE` line says it.
 */
typedef enum {
        VT_METRICS_GAUGE,
        VT_METRICS_COUNTER,
        VT_METRICS_HISTOGRAM,
        VT_METRICS_TYPE_MAX,
} VtMetricsType;

/* The text format's Content-Type. */
#define VT_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A writer of one exposition (opaque): families, then their samples. */
typedef struct _VtMetricsWriter VtMetricsWriter;

VtMetricsWriter *vt_metrics_writer_new(void);
void vt_metrics_writer_free(VtMetricsWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtMetricsWriter, vt_metrics_writer_free)

void vt_metrics_writer_family(VtMetricsWriter *writer, const char *name, VtMetricsType type,
                              const char *help);
void vt_metrics_writer_sample(VtMetricsWriter *writer, const char *const *labels, double value);
void vt_metrics_writer_histogram(VtMetricsWriter *writer, const char *const *labels,
                                 const double *bounds, const guint64 *counts, guint n_bounds,
                                 double sum);
char *vt_metrics_writer_end(VtMetricsWriter *writer, gsize *ret_length);

const char *vt_metrics_type_to_string(VtMetricsType type);
gboolean vt_metrics_name_is_valid(const char *name);
gboolean vt_metrics_label_name_is_valid(const char *name);
void vt_metrics_append_value(GString *out, double value);

G_END_DECLS
