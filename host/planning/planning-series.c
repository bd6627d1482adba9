/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What capacity and risk share: percentiles, a series' spread, a line fit, confidence. Pure. */
#include "host/planning/planning-series.h"

#include <math.h>
#include <stdlib.h>

G_DEFINE_QUARK(vt - planning - error - quark, vt_planning_error)

static int
compare_doubles(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/**
 * vt_planning_percentile:
 * @values: (array length=n): the values (not changed)
 * @n: how many
 * @percentile: 0 to 100
 *
 * The nearest-rank percentile: the least value at or above which lie
 * @percentile % of the values (0: the least, 100: the largest). No
 * interpolation: the answer is always one of the values, as recorded.
 *
 * Returns: the percentile, 0 when @n is 0
 */
double
vt_planning_percentile(const double *values, guint n, double percentile)
{
        g_autofree double *sorted = NULL;
        double rank;
        guint index;

        if (n == 0)
                return 0.0;
        g_return_val_if_fail(values != NULL, 0.0);
        sorted = g_memdup2(values, sizeof(double) * n);
        qsort(sorted, n, sizeof(double), compare_doubles);
        rank = ceil(CLAMP(percentile, 0.0, 100.0) / 100.0 * (double)n);
        index = rank < 1.0 ? 0 : (guint)rank - 1;
        return sorted[MIN(index, n - 1)];
}

/**
 * vt_planning_summarize:
 * @values: (array length=n): the values
 * @n: how many
 * @ret_summary: (out): their count, mean, spread and extremes
 */
void
vt_planning_summarize(const double *values, guint n, VtPlanningSummary *ret_summary)
{
        double sum = 0.0, squares = 0.0;

        g_return_if_fail(ret_summary != NULL);
        *ret_summary = (VtPlanningSummary){.n = n};
        if (n == 0)
                return;
        g_return_if_fail(values != NULL);
        ret_summary->min = ret_summary->max = values[0];
        for (guint i = 0; i < n; i++) {
                sum += values[i];
                ret_summary->min = MIN(ret_summary->min, values[i]);
                ret_summary->max = MAX(ret_summary->max, values[i]);
        }
        ret_summary->mean = sum / n;
        for (guint i = 0; i < n; i++)
                squares += (values[i] - ret_summary->mean) * (values[i] - ret_summary->mean);
        ret_summary->stddev = sqrt(squares / n);
        if (ret_summary->mean != 0.0)
                ret_summary->variation = ret_summary->stddev / fabs(ret_summary->mean);
}

/**
 * vt_planning_fit_line:
 * @x: (array length=n): abscissae (times)
 * @y: (array length=n): ordinates
 * @n: how many points
 * @ret_slope: (out): dy/dx of the least-squares line
 * @ret_intercept: (out): its y at x = 0
 * @ret_r2: (out) (optional): the share of y's variance the line explains
 *     (1 when y does not vary)
 *
 * An ordinary least-squares fit. @x is centred first, so that
 * microsecond times since the epoch lose no precision.
 *
 * Returns: %FALSE (outputs untouched) with fewer than two points or when
 *     every x is the same
 */
gboolean
vt_planning_fit_line(const double *x, const double *y, guint n, double *ret_slope,
                     double *ret_intercept, double *ret_r2)
{
        double mx = 0.0, my = 0.0, sxx = 0.0, sxy = 0.0, syy = 0.0;

        g_return_val_if_fail(ret_slope != NULL && ret_intercept != NULL, FALSE);
        if (n < 2)
                return FALSE;
        for (guint i = 0; i < n; i++) {
                mx += x[i];
                my += y[i];
        }
        mx /= n;
        my /= n;
        for (guint i = 0; i < n; i++) {
                sxx += (x[i] - mx) * (x[i] - mx);
                sxy += (x[i] - mx) * (y[i] - my);
                syy += (y[i] - my) * (y[i] - my);
        }
        if (sxx <= 0.0)
                return FALSE;
        *ret_slope = sxy / sxx;
        *ret_intercept = my - *ret_slope * mx;
        if (ret_r2 != NULL)
                *ret_r2 = syy > 0.0 ? (sxy * sxy) / (sxx * syy) : 1.0;
        return TRUE;
}

/**
 * vt_planning_confidence_judge:
 * @n: how many recorded samples a figure was drawn from
 * @variation: how much they vary (#VtPlanningSummary.variation)
 *
 * Returns: the confidence: none without samples; low under
 *     %VT_PLANNING_SAMPLES_MEDIUM or above %VT_PLANNING_VARIATION_LOW;
 *     medium under %VT_PLANNING_SAMPLES_HIGH or above
 *     %VT_PLANNING_VARIATION_HIGH; high otherwise
 */
VtPlanningConfidence
vt_planning_confidence_judge(guint n, double variation)
{
        if (n == 0)
                return VT_PLANNING_CONFIDENCE_NONE;
        if (n < VT_PLANNING_SAMPLES_MEDIUM || !(variation <= VT_PLANNING_VARIATION_LOW))
                return VT_PLANNING_CONFIDENCE_LOW;
        if (n < VT_PLANNING_SAMPLES_HIGH || variation > VT_PLANNING_VARIATION_HIGH)
                return VT_PLANNING_CONFIDENCE_MEDIUM;
        return VT_PLANNING_CONFIDENCE_HIGH;
}

/**
 * vt_planning_confidence_to_string:
 * @confidence: a #VtPlanningConfidence
 *
 * Returns: "none", "low", "medium" or "high" (static)
 */
const char *
vt_planning_confidence_to_string(VtPlanningConfidence confidence)
{
        static const char *const names[] = {"none", "low", "medium", "high"};

        if ((guint)confidence >= G_N_ELEMENTS(names))
                return "unknown";
        return names[confidence];
}

/**
 * vt_planning_confidence_describe:
 * @confidence: the judgement
 * @summary: the samples it was drawn from
 * @span_us: the time they cover (0: not known)
 *
 * Says it plainly: `high: 1800 samples over 1h 0m, vary by 4 %`, or
 * `none: the current value only, nothing recorded`.
 *
 * Returns: (transfer full): the sentence
 */
char *
vt_planning_confidence_describe(VtPlanningConfidence confidence, const VtPlanningSummary *summary,
                                gint64 span_us)
{
        g_autofree char *span = NULL;

        g_return_val_if_fail(summary != NULL, NULL);
        if (confidence == VT_PLANNING_CONFIDENCE_NONE || summary->n == 0)
                return g_strdup("none: the current value only, nothing recorded");
        span = span_us > 0 ? vt_planning_duration_format(span_us) : NULL;
        return g_strdup_printf("%s: %u sample%s%s%s, vary by %.0f %%",
                               vt_planning_confidence_to_string(confidence), summary->n,
                               summary->n == 1 ? "" : "s", span != NULL ? " over " : "",
                               span != NULL ? span : "", summary->variation * 100.0);
}

/**
 * vt_planning_duration_format:
 * @us: a duration, microseconds
 *
 * Returns: (transfer full): `45s`, `12m 5s`, `3h 20m`, `2d 4h` (the two
 *     largest units), `0s` for nothing or less
 */
char *
vt_planning_duration_format(gint64 us)
{
        gint64 s = us / G_USEC_PER_SEC;

        if (s <= 0)
                return g_strdup("0s");
        if (s < 60)
                return g_strdup_printf("%" G_GINT64_FORMAT "s", s);
        if (s < 3600)
                return g_strdup_printf("%" G_GINT64_FORMAT "m %" G_GINT64_FORMAT "s", s / 60,
                                       s % 60);
        if (s < 86400)
                return g_strdup_printf("%" G_GINT64_FORMAT "h %" G_GINT64_FORMAT "m", s / 3600,
                                       s % 3600 / 60);
        return g_strdup_printf("%" G_GINT64_FORMAT "d %" G_GINT64_FORMAT "h", s / 86400,
                               s % 86400 / 3600);
}

/**
 * vt_planning_duration_parse:
 * @text: a number and a unit, `s`, `m`, `h` or `d` (`90s`, `30m`, `1.5h`,
 *     `7d`); a bare number is seconds
 * @ret_us: (out): the duration, microseconds, written only on success
 * @error: why not
 *
 * Returns: %FALSE (and @error) for anything else, or a duration that is
 *     not positive or exceeds 10 years
 */
gboolean
vt_planning_duration_parse(const char *text, gint64 *ret_us, GError **error)
{
        static const struct {
                const char *unit;
                double us;
        } units[] = {{"", 1e6}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6}, {"d", 86400e6}};
        char *end = NULL;
        double value;

        g_return_val_if_fail(text != NULL && ret_us != NULL, FALSE);
        value = g_ascii_strtod(text, &end);
        if (end == text || !isfinite(value)) {
                g_set_error(error, VT_PLANNING_ERROR, VT_PLANNING_ERROR_INVALID,
                            "invalid duration '%s': a number and s, m, h or d (30m, 1h, 7d)", text);
                return FALSE;
        }
        for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
                double us = value * units[i].us;

                if (!g_str_equal(end, units[i].unit))
                        continue;
                if (!(us >= 1.0) || us > 10.0 * 365 * 86400e6) {
                        g_set_error(error, VT_PLANNING_ERROR, VT_PLANNING_ERROR_INVALID,
                                    "invalid duration '%s': more than 0 and at most 10 years",
                                    text);
                        return FALSE;
                }
                *ret_us = (gint64)us;
                return TRUE;
        }
        g_set_error(error, VT_PLANNING_ERROR, VT_PLANNING_ERROR_INVALID,
                    "invalid duration '%s': unknown unit '%s' (use s, m, h or d)", text, end);
        return FALSE;
}
