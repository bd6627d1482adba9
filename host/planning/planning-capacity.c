/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What-if capacity: do N more guests of size S fit, where the room comes from, how sure. Pure. */
#include "host/planning/planning-capacity.h"

#include <math.h>

#include "common/vt-size.h"

/*
 * Theory of operation.
 *
 * Room is counted from four sources, each with its confidence:
 *
 * - host: MemAvailable above the reserve, under the budget when one is
 *   set (vt_balloon_host_free()'s arithmetic), now. Its confidence says
 *   how much it has moved over the window.
 * - balloon: for each guest whose balloon may move, its size above the
 *   larger of its floor (its limits' minimum) and its recent want: the
 *   policy's want at the percentile over the window, not the current
 *   value, so a guest that needed 3 GiB an hour ago is not counted as
 *   giving that back. A guest whose recent want is above its size will
 *   take memory, which counts against the room. Without recorded wants
 *   the current one stands in, with no confidence.
 * - KSM: what KSM saves now is already in MemAvailable; counting it again
 *   would be double. What it adds is its saving on the new guests: the
 *   share of the guests' memory it measurably saves (at the complementary
 *   low percentile over the window: the share it dependably reaches) times
 *   their size. Without new guests it adds nothing.
 * - compressed swap: likewise already in MemAvailable; shown, never
 *   counted again (and not measured by vmtided today).
 *
 * spare = host + balloon; need = N × S - KSM's expected saving on them;
 * margin = spare - need. The trend is a least-squares line through the
 * recorded free memory of the window; when it falls faster than
 * VT_PLANNING_TREND_FLAT_FRACTION of the reference an hour, the time until
 * it crosses the short line is the distance over the slope.
 */

/**
 * vt_planning_source_to_string:
 * @source: a #VtPlanningSource
 *
 * Returns: "host", "balloon", "ksm", "compressed" (static)
 */
const char *
vt_planning_source_to_string(VtPlanningSource source)
{
        static const char *const names[] = {"host", "balloon", "ksm", "compressed"};

        if ((guint)source >= G_N_ELEMENTS(names))
                return "unknown";
        return names[source];
}

static gint64
clamp_gint64(double value)
{
        if (!(value > (double)G_MININT64))
                return G_MININT64;
        if (value >= (double)G_MAXINT64)
                return G_MAXINT64;
        return (gint64)value;
}

static gint64
capacity_host_free(const VtPlanningCapacityInput *input)
{
        gint64 free_bytes = (gint64)input->mem_available - (gint64)input->reserve;

        if (input->budget > 0)
                free_bytes = MIN(free_bytes, (gint64)input->budget - (gint64)input->guests_actual);
        return free_bytes;
}

static void
room_judge(VtPlanningRoom *room, const GArray *samples, gint64 span_us)
{
        vt_planning_summarize(samples != NULL ? (const double *)(void *)samples->data : NULL,
                              samples != NULL ? samples->len : 0, &room->summary);
        room->span_us = span_us;
        room->confidence = vt_planning_confidence_judge(room->summary.n, room->summary.variation);
        room->confidence_text =
            vt_planning_confidence_describe(room->confidence, &room->summary, span_us);
}

static gint64
history_span(const VtPlanningHistory *history)
{
        return history != NULL ? history->last_wall_us - history->first_wall_us : 0;
}

static void
capacity_host(const VtPlanningCapacityInput *input, VtPlanningCapacity *capacity)
{
        VtPlanningRoom *room = &capacity->rooms[VT_PLANNING_SOURCE_HOST];
        const VtPlanningHistory *h = input->history;
        gint64 free_bytes = capacity_host_free(input);

        room->bytes = MAX(free_bytes, 0);
        room_judge(room, h != NULL ? h->free_bytes : NULL, history_span(h));
        if (room->summary.n > 0)
                room->detail = g_strdup_printf(
                    "%s available - %s reserve%s; over the window %s to %s, mean %s",
                    VT_SIZE_STR(input->mem_available, VT_SIZE_STYLE_TABLE),
                    VT_SIZE_STR(input->reserve, VT_SIZE_STYLE_TABLE),
                    input->budget > 0 ? ", under the budget" : "",
                    VT_SIZE_STR(room->summary.min, VT_SIZE_STYLE_TABLE),
                    VT_SIZE_STR(room->summary.max, VT_SIZE_STYLE_TABLE),
                    VT_SIZE_STR(room->summary.mean, VT_SIZE_STYLE_TABLE));
        else
                room->detail =
                    g_strdup_printf("%s available - %s reserve%s, now",
                                    VT_SIZE_STR(input->mem_available, VT_SIZE_STYLE_TABLE),
                                    VT_SIZE_STR(input->reserve, VT_SIZE_STYLE_TABLE),
                                    input->budget > 0 ? ", under the budget" : "");
}

/* One guest's part of the balloon room: its size above max(floor, recent want). */
static void
capacity_guest(const VtPlanningCapacityInput *input, const VtPlanningCapacityGuest *g,
               VtPlanningGuestRoom *room)
{
        const VtPlanningHistoryGuest *hg =
            input->history != NULL ? vt_planning_history_get_guest(input->history, g->name) : NULL;
        VtBalloonGuest guest = {.name = g->name, .max_bytes = g->max_bytes};
        VtBalloonGuestConfig config = {.min_bytes = g->min_bytes, .max_bytes = g->max_config_bytes};
        VtBalloonLimits limits;
        guint64 keep;

        vt_balloon_limits_get(&guest, &config, input->config, &limits);
        room->name = g->name;
        room->actual_bytes = g->actual_bytes;
        room->floor_bytes = limits.min_bytes;
        room->want_now = g->want_bytes;
        if (hg != NULL && hg->want->len > 0) {
                vt_planning_summarize((const double *)(void *)hg->want->data, hg->want->len,
                                      &room->summary);
                room->want_recent = (guint64)vt_planning_percentile(
                    (const double *)(void *)hg->want->data, hg->want->len, input->percentile);
        }
        room->confidence = vt_planning_confidence_judge(room->summary.n, room->summary.variation);
        if (g->why_fixed != NULL) {
                room->room = 0;
                room->detail = g_strdup_printf("not counted: %s", g->why_fixed);
                return;
        }
        if (room->want_recent == 0 && room->want_now == 0) {
                room->room = 0;
                room->detail = g_strdup("not counted: its want is not known");
                return;
        }
        keep = room->want_recent > 0 ? room->want_recent : room->want_now;
        keep = MIN(keep, limits.max_bytes);
        if (keep > g->actual_bytes) {
                room->room = -(gint64)(keep - g->actual_bytes);
                room->detail =
                    g_strdup_printf("wants %s more than it holds",
                                    VT_SIZE_STR(keep - g->actual_bytes, VT_SIZE_STYLE_TABLE));
                return;
        }
        keep = MAX(keep, limits.min_bytes);
        room->room = g->actual_bytes > keep ? (gint64)(g->actual_bytes - keep) : 0;
        room->detail =
            g_strdup_printf("%s above %s (%s)", VT_SIZE_STR(room->room, VT_SIZE_STYLE_TABLE),
                            VT_SIZE_STR(keep, VT_SIZE_STYLE_TABLE),
                            keep == limits.min_bytes ? "its floor"
                            : room->want_recent > 0  ? "its recent want"
                                                     : "its current want, nothing recorded");
}

static void
capacity_balloon(const VtPlanningCapacityInput *input, VtPlanningCapacity *capacity)
{
        VtPlanningRoom *room = &capacity->rooms[VT_PLANNING_SOURCE_BALLOON];
        VtPlanningConfidence weakest = VT_PLANNING_CONFIDENCE_MAX;
        guint n_counted = 0, fewest = G_MAXUINT;
        double worst_variation = 0.0;
        gint64 total = 0;

        capacity->n_guests = input->n_guests;
        capacity->guests = g_new0(VtPlanningGuestRoom, MAX(input->n_guests, 1));
        for (guint i = 0; i < input->n_guests; i++) {
                VtPlanningGuestRoom *g = &capacity->guests[i];

                capacity_guest(input, &input->guests[i], g);
                total += g->room;
                if (input->guests[i].why_fixed != NULL || (g->want_recent == 0 && g->want_now == 0))
                        continue;
                n_counted++;
                weakest = MIN(weakest, g->confidence);
                fewest = MIN(fewest, g->summary.n);
                worst_variation = MAX(worst_variation, g->summary.variation);
        }
        room->bytes = total;
        room->span_us = history_span(input->history);
        room->summary.n = n_counted > 0 ? fewest : 0;
        room->summary.variation = worst_variation;
        room->confidence = n_counted > 0 ? weakest : VT_PLANNING_CONFIDENCE_NONE;
        room->confidence_text =
            n_counted == 0 ? g_strdup("none: no guest's balloon can move")
            : fewest == 0
                ? g_strdup("none: a guest's current want only, nothing recorded")
                : g_strdup_printf("%s: the weakest guest's, %u recorded wants, vary by %.0f %%",
                                  vt_planning_confidence_to_string(weakest), fewest,
                                  worst_variation * 100.0);
        room->detail = g_strdup_printf("%u of %u guests counted, each above its floor and its "
                                       "want at p%.0f",
                                       n_counted, input->n_guests, input->percentile);
}

static void
capacity_ksm(const VtPlanningCapacityInput *input, VtPlanningCapacity *capacity)
{
        VtPlanningRoom *room = &capacity->rooms[VT_PLANNING_SOURCE_KSM];
        const VtPlanningHistory *h = input->history;
        double ratio = 0.0;
        double new_bytes = (double)input->n_add * (double)input->add_bytes;

        room_judge(room, h != NULL ? h->ksm_ratio : NULL, history_span(h));
        if (room->summary.n > 0)
                ratio = vt_planning_percentile((const double *)(void *)h->ksm_ratio->data,
                                               h->ksm_ratio->len, 100.0 - input->percentile);
        else if (input->ksm_known && input->ksm_mergeable > 0)
                ratio = MIN((double)input->ksm_saved / (double)input->ksm_mergeable, 1.0);
        room->bytes = clamp_gint64(ratio * new_bytes);
        if (!input->ksm_known && room->summary.n == 0) {
                room->detail = g_strdup("not measured (KSM not managed by vmtided)");
                return;
        }
        room->detail = g_strdup_printf(
            "saves %s now (already in free memory); %.1f %% of the guests' memory%s, "
            "expected on the new guests",
            input->ksm_known ? VT_SIZE_STR(input->ksm_saved, VT_SIZE_STYLE_TABLE) : "-",
            ratio * 100.0, room->summary.n > 0 ? " at its low percentile" : " now");
}

static void
capacity_compressed(const VtPlanningCapacityInput *input, VtPlanningCapacity *capacity)
{
        VtPlanningRoom *room = &capacity->rooms[VT_PLANNING_SOURCE_COMPRESSED];

        room->bytes = 0;
        room->confidence = VT_PLANNING_CONFIDENCE_NONE;
        if (!input->compressed_known) {
                room->confidence_text = g_strdup("none: not measured");
                room->detail = g_strdup("not measured (vmtided does not report zram or zswap)");
                return;
        }
        room->confidence_text = g_strdup("none: the current value only");
        room->detail = g_strdup_printf("saves %s now, already in free memory: not counted again",
                                       VT_SIZE_STR(input->compressed_saved, VT_SIZE_STYLE_TABLE));
}

static guint64
capacity_short_line(const VtPlanningCapacityInput *input)
{
        guint64 reference = input->budget > 0 ? input->budget : input->mem_total;

        if (input->short_line > 0)
                return input->short_line;
        return (guint64)(input->config->tight_fraction * (double)reference);
}

static void
trend_fit(const VtPlanningCapacityInput *input, VtPlanningCapacity *capacity, gint64 free_now)
{
        VtPlanningTrend *trend = &capacity->trend;
        const VtPlanningHistory *h = input->history;
        guint64 reference = input->budget > 0 ? input->budget : input->mem_total;
        double slope = 0, intercept = 0, r2 = 0, flat;
        g_autofree char *span = NULL;

        trend->short_in_us = -1;
        trend->n = h != NULL ? h->free_t->len : 0;
        trend->span_us = history_span(h);
        span = vt_planning_duration_format(trend->span_us);
        if (trend->n < VT_PLANNING_TREND_MIN_POINTS ||
            trend->span_us < VT_PLANNING_TREND_MIN_SPAN_US ||
            !vt_planning_fit_line((const double *)(void *)h->free_t->data,
                                  (const double *)(void *)h->free_bytes->data, trend->n, &slope,
                                  &intercept, &r2)) {
                trend->detail = g_strdup_printf("not known: %u recorded ticks over %s, too few "
                                                "(at least %d over a minute)",
                                                trend->n, span, VT_PLANNING_TREND_MIN_POINTS);
                return;
        }
        trend->known = TRUE;
        trend->slope = slope;
        trend->r2 = r2;
        flat = VT_PLANNING_TREND_FLAT_FRACTION * (double)reference / 3600.0;
        if (free_now <= (gint64)capacity->short_line) {
                trend->short_in_us = 0;
                trend->detail =
                    g_strdup_printf("short now: %s free, under the short line %s",
                                    VT_SIZE_STR(free_now, VT_SIZE_STYLE_TABLE),
                                    VT_SIZE_STR(capacity->short_line, VT_SIZE_STYLE_TABLE));
        } else if (slope >= -flat) {
                trend->detail = g_strdup_printf(
                    "not at this trend: free memory %s %s/h over %s (%u ticks, fit r2 %.2f)",
                    slope > flat ? "rising" : "flat,",
                    VT_SIZE_STR(fabs(slope) * 3600.0, VT_SIZE_STYLE_TABLE), span, trend->n, r2);
        } else {
                double seconds = (double)(free_now - (gint64)capacity->short_line) / -slope;
                g_autofree char *in = NULL;

                trend->short_in_us = clamp_gint64(seconds * G_USEC_PER_SEC);
                in = vt_planning_duration_format(trend->short_in_us);
                trend->detail = g_strdup_printf(
                    "short in about %s: free memory falling %s/h over %s (%u ticks, fit r2 %.2f)",
                    in, VT_SIZE_STR(-slope * 3600.0, VT_SIZE_STYLE_TABLE), span, trend->n, r2);
        }
}

/* Spare, need, margin, how many fit, and the sentence. */
static void
capacity_conclude(const VtPlanningCapacityInput *input, VtPlanningCapacity *capacity,
                  gint64 free_now)
{
        gint64 host = capacity->rooms[VT_PLANNING_SOURCE_HOST].bytes;
        gint64 balloon = capacity->rooms[VT_PLANNING_SOURCE_BALLOON].bytes;
        gint64 ksm = capacity->rooms[VT_PLANNING_SOURCE_KSM].bytes;
        double new_bytes = (double)input->n_add * (double)input->add_bytes;
        double per_guest;

        capacity->spare = (guint64)MAX(host + balloon, 0);
        capacity->need = (guint64)MAX(clamp_gint64(new_bytes) - ksm, 0);
        capacity->margin = (gint64)capacity->spare - (gint64)capacity->need;
        capacity->fits = capacity->margin >= 0;
        capacity->short_after = input->n_add > 0 && free_now + balloon - (gint64)capacity->need <
                                                        (gint64)capacity->short_line;
        /* The host's always counts; the others when they add something. */
        capacity->confidence = capacity->rooms[VT_PLANNING_SOURCE_HOST].confidence;
        for (guint s = VT_PLANNING_SOURCE_BALLOON; s <= VT_PLANNING_SOURCE_KSM; s++) {
                if (capacity->rooms[s].bytes != 0)
                        capacity->confidence =
                            MIN(capacity->confidence, capacity->rooms[s].confidence);
        }
        per_guest = input->n_add > 0 ? (double)capacity->need / input->n_add : 0.0;
        if (input->add_bytes > 0 && input->n_add == 0)
                per_guest = (double)input->add_bytes;
        capacity->n_fit =
            per_guest > 0 ? (guint)MIN((double)capacity->spare / per_guest, (double)G_MAXUINT) : 0;
        if (input->n_add == 0) {
                capacity->verdict =
                    g_strdup_printf("%s really spare (host %s, balloons %s), confidence %s",
                                    VT_SIZE_STR(capacity->spare, VT_SIZE_STYLE_TABLE),
                                    VT_SIZE_STR(host, VT_SIZE_STYLE_TABLE),
                                    VT_SIZE_STR(balloon, VT_SIZE_STYLE_TABLE),
                                    vt_planning_confidence_to_string(capacity->confidence));
                return;
        }
        capacity->verdict = g_strdup_printf(
            "%s: %u x %s need %s (after KSM %s); %s spare %s %s%s; %u would fit, confidence %s",
            capacity->fits ? "fits" : "does not fit", input->n_add,
            VT_SIZE_STR(input->add_bytes, VT_SIZE_STYLE_TABLE),
            VT_SIZE_STR(new_bytes, VT_SIZE_STYLE_TABLE),
            VT_SIZE_STR(capacity->need, VT_SIZE_STYLE_TABLE),
            VT_SIZE_STR(capacity->spare, VT_SIZE_STYLE_TABLE),
            capacity->fits ? "leaves" : "is short by",
            VT_SIZE_STR(ABS(capacity->margin), VT_SIZE_STYLE_TABLE),
            capacity->fits && capacity->short_after ? " (but the host would be short)" : "",
            capacity->n_fit, vt_planning_confidence_to_string(capacity->confidence));
}

/**
 * vt_planning_capacity_compute:
 * @input: the host, the guests and the recorded window
 *
 * Answers "do @n_add more guests of @add_bytes fit, and with what
 * margin?", and without new guests "how much is really spare, and how
 * long until the host is short?" (theory of operation above).
 *
 * Returns: (transfer full): the answer
 */
VtPlanningCapacity *
vt_planning_capacity_compute(const VtPlanningCapacityInput *input)
{
        VtPlanningCapacity *capacity;
        gint64 free_now;

        g_return_val_if_fail(input != NULL && input->config != NULL, NULL);
        g_return_val_if_fail(input->n_guests == 0 || input->guests != NULL, NULL);

        capacity = g_new0(VtPlanningCapacity, 1);
        free_now = capacity_host_free(input);
        capacity->short_line = capacity_short_line(input);
        capacity_host(input, capacity);
        capacity_balloon(input, capacity);
        capacity_ksm(input, capacity);
        capacity_compressed(input, capacity);
        trend_fit(input, capacity, free_now);
        capacity_conclude(input, capacity, free_now);
        return capacity;
}

/**
 * vt_planning_capacity_free:
 * @capacity: (nullable): an answer
 */
void
vt_planning_capacity_free(VtPlanningCapacity *capacity)
{
        if (capacity == NULL)
                return;
        for (guint s = 0; s < VT_PLANNING_SOURCE_MAX; s++) {
                g_free(capacity->rooms[s].detail);
                g_free(capacity->rooms[s].confidence_text);
        }
        for (guint i = 0; i < capacity->n_guests; i++)
                g_free(capacity->guests[i].detail);
        g_free(capacity->guests);
        g_free(capacity->trend.detail);
        g_free(capacity->verdict);
        g_free(capacity);
}
