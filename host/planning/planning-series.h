/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What capacity and risk share: percentiles, a series' spread, a line fit, confidence. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtPlanningError:
 * @VT_PLANNING_ERROR_INVALID: an argument is not what it should be (a
 *     duration, a percentile)
 */
typedef enum {
        VT_PLANNING_ERROR_INVALID,
} VtPlanningError;

#define VT_PLANNING_ERROR (vt_planning_error_quark())
GQuark vt_planning_error_quark(void);

/**
 * VtPlanningConfidence:
 * @VT_PLANNING_CONFIDENCE_NONE: no recorded samples: the current value only
 * @VT_PLANNING_CONFIDENCE_LOW: fewer than %VT_PLANNING_SAMPLES_MEDIUM
 *     samples, or they vary by more than %VT_PLANNING_VARIATION_LOW
 * @VT_PLANNING_CONFIDENCE_MEDIUM: fewer than %VT_PLANNING_SAMPLES_HIGH, or
 *     they vary by more than %VT_PLANNING_VARIATION_HIGH
 * @VT_PLANNING_CONFIDENCE_HIGH: many samples that hold steady
 *
 * How far a figure drawn from recorded samples can be trusted. Ordered: a
 * larger value is better.
 */
typedef enum {
        VT_PLANNING_CONFIDENCE_NONE,
        VT_PLANNING_CONFIDENCE_LOW,
        VT_PLANNING_CONFIDENCE_MEDIUM,
        VT_PLANNING_CONFIDENCE_HIGH,
        VT_PLANNING_CONFIDENCE_MAX,
} VtPlanningConfidence;

/* Samples for a medium confidence: one minute of 2 s ticks. */
#define VT_PLANNING_SAMPLES_MEDIUM 30
/* ... for a high one: ten minutes of them. */
#define VT_PLANNING_SAMPLES_HIGH 300
/* A coefficient of variation (standard deviation over mean) above which
 * a figure is a guess (low)... */
#define VT_PLANNING_VARIATION_LOW 0.5
/* ... and above which it is only medium. */
#define VT_PLANNING_VARIATION_HIGH 0.2

/**
 * VtPlanningSummary:
 * @n: how many values
 * @mean: their mean (0 for none)
 * @stddev: their standard deviation (population; 0 for fewer than two)
 * @min: the least (0 for none)
 * @max: the largest (0 for none)
 * @variation: @stddev / @mean (0 when @mean is 0)
 *
 * A series in a few figures.
 */
typedef struct {
        guint n;
        double mean;
        double stddev;
        double min;
        double max;
        double variation;
} VtPlanningSummary;

double vt_planning_percentile(const double *values, guint n, double percentile);
void vt_planning_summarize(const double *values, guint n, VtPlanningSummary *ret_summary);
gboolean vt_planning_fit_line(const double *x, const double *y, guint n, double *ret_slope,
                              double *ret_intercept, double *ret_r2);

VtPlanningConfidence vt_planning_confidence_judge(guint n, double variation);
const char *vt_planning_confidence_to_string(VtPlanningConfidence confidence);
char *vt_planning_confidence_describe(VtPlanningConfidence confidence,
                                      const VtPlanningSummary *summary, gint64 span_us);

char *vt_planning_duration_format(gint64 us);
gboolean vt_planning_duration_parse(const char *text, gint64 *ret_us, GError **error);

G_END_DECLS
