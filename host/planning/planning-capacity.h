/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What-if capacity: do N more guests of size S fit, where the room comes from, how sure. Pure. */
#pragma once

#include <glib.h>

#include "balloon/balloon-policy.h"
#include "host/planning/planning-history.h"
#include "host/planning/planning-series.h"

G_BEGIN_DECLS

/* The percentile of a guest's recorded want counted as its need. */
#define VT_PLANNING_PERCENTILE_DEFAULT 95.0
/* The window of history looked at: one hour. */
#define VT_PLANNING_WINDOW_DEFAULT_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)
/* Fewest ticks, and least time, for a trend of free memory. */
#define VT_PLANNING_TREND_MIN_POINTS  10
#define VT_PLANNING_TREND_MIN_SPAN_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
/* A fall of free memory slower than this share of the reference per hour
 * is flat: noise, not a trend. */
#define VT_PLANNING_TREND_FLAT_FRACTION 0.01

/**
 * VtPlanningSource:
 * @VT_PLANNING_SOURCE_HOST: host memory free above the reserve (and under
 *     the budget)
 * @VT_PLANNING_SOURCE_BALLOON: what the balloons can take back: each
 *     guest's size above its floor and its recent want, less what guests
 *     wanting more than they hold will take
 * @VT_PLANNING_SOURCE_KSM: what KSM is expected to save on the new guests,
 *     at the share it measurably saves on the present ones (what it saves
 *     now is already in the host's free memory)
 * @VT_PLANNING_SOURCE_COMPRESSED: compressed swap (zram, zswap): an
 *     optional input; what it saves now is already in the free memory, so
 *     nothing more is counted
 *
 * Where room comes from.
 */
typedef enum {
        VT_PLANNING_SOURCE_HOST,
        VT_PLANNING_SOURCE_BALLOON,
        VT_PLANNING_SOURCE_KSM,
        VT_PLANNING_SOURCE_COMPRESSED,
        VT_PLANNING_SOURCE_MAX,
} VtPlanningSource;

/**
 * VtPlanningCapacityGuest:
 * @name: the guest (borrowed)
 * @max_bytes: its boot memory
 * @actual_bytes: the balloon's size now
 * @min_bytes: its configured minimum (0: the policy's default fraction)
 * @max_config_bytes: its configured maximum (0: the boot memory)
 * @want_bytes: what the daemon's last decision said it wants (0: unknown)
 * @why_fixed: (nullable): why its balloon cannot be moved (no balloon,
 *     opted out, held by hand, stuck, not running); %NULL when it can
 *
 * One guest as the daemon reports it now (query-guests).
 */
typedef struct {
        const char *name;
        guint64 max_bytes;
        guint64 actual_bytes;
        guint64 min_bytes;
        guint64 max_config_bytes;
        guint64 want_bytes;
        const char *why_fixed;
} VtPlanningCapacityGuest;

/**
 * VtPlanningCapacityInput:
 * @mem_total: host MemTotal
 * @mem_available: host MemAvailable now
 * @reserve: kept for the host (#VtBalloonConfig.host_reserve in force)
 * @budget: the guests' budget (0: none)
 * @guests_actual: the balloons' sizes in all, now
 * @short_line: free memory under which the host is short (query-status
 *     `short_line`; 0: the policy's tight line of the reference)
 * @ksm_known: KSM's saving now is known
 * @ksm_saved: what it saves now, bytes
 * @ksm_mergeable: the memory it merges from (the guests' boot memory)
 * @compressed_known: compressed swap's saving is known
 * @compressed_saved: what it saves now, bytes
 * @guests: (array length=n_guests): the guests now
 * @n_guests: how many
 * @history: (nullable): the recorded window
 * @n_add: guests to add (0: only how much is spare)
 * @add_bytes: the size of each
 * @percentile: of the recorded want counted as need, 0-100
 * @config: the balloon tunables in force (floors, the tight line)
 * @now_wall_us: now, wall-clock µs (the trend's end)
 *
 * Everything capacity takes, gathered by the caller.
 */
typedef struct {
        guint64 mem_total;
        guint64 mem_available;
        guint64 reserve;
        guint64 budget;
        guint64 guests_actual;
        guint64 short_line;
        gboolean ksm_known;
        guint64 ksm_saved;
        guint64 ksm_mergeable;
        gboolean compressed_known;
        guint64 compressed_saved;
        const VtPlanningCapacityGuest *guests;
        guint n_guests;
        const VtPlanningHistory *history;
        guint n_add;
        guint64 add_bytes;
        double percentile;
        const VtBalloonConfig *config;
        gint64 now_wall_us;
} VtPlanningCapacityInput;

/**
 * VtPlanningRoom:
 * @bytes: the room counted from this source (the balloon's may be
 *     negative: guests wanting more than they hold)
 * @confidence: how sure, from the recorded samples
 * @summary: the samples it was judged on
 * @span_us: the time they cover
 * @detail: (not nullable): in words: the figures behind @bytes
 * @confidence_text: (not nullable): @confidence in words
 */
typedef struct {
        gint64 bytes;
        VtPlanningConfidence confidence;
        VtPlanningSummary summary;
        gint64 span_us;
        char *detail;
        char *confidence_text;
} VtPlanningRoom;

/**
 * VtPlanningGuestRoom:
 * @name: the guest (borrowed from the input)
 * @actual_bytes: its balloon now
 * @floor_bytes: the least the policy leaves it (its limits' minimum)
 * @want_now: the daemon's current want (0: unknown)
 * @want_recent: its recorded want at the percentile (0: nothing recorded)
 * @room: what its balloon can take back (negative: what it will take)
 * @confidence: from its recorded wants
 * @summary: those wants
 * @detail: (not nullable): in words
 */
typedef struct {
        const char *name;
        guint64 actual_bytes;
        guint64 floor_bytes;
        guint64 want_now;
        guint64 want_recent;
        gint64 room;
        VtPlanningConfidence confidence;
        VtPlanningSummary summary;
        char *detail;
} VtPlanningGuestRoom;

/**
 * VtPlanningTrend:
 * @known: enough recorded ticks for a fit
 * @n: how many
 * @span_us: the time they cover
 * @slope: free memory's change, bytes per second (fitted)
 * @r2: how well the line fits, 0-1
 * @short_in_us: time until free memory crosses the short line at this
 *     slope; 0: short now; -1: not at this trend (flat or rising), or not
 *     known
 * @detail: (not nullable): in words
 *
 * Where free memory is heading: a least-squares line over the window.
 */
typedef struct {
        gboolean known;
        guint n;
        gint64 span_us;
        double slope;
        double r2;
        gint64 short_in_us;
        char *detail;
} VtPlanningTrend;

/**
 * VtPlanningCapacity:
 * @rooms: one per #VtPlanningSource
 * @spare: host free and balloon room together, bytes (not under 0)
 * @need: what the new guests need, less what KSM is expected to save
 *     on them
 * @margin: @spare - @need
 * @fits: @margin is not negative
 * @short_after: with them, free memory would be under the short line
 * @n_fit: guests of the size asked that fit (0 without a size)
 * @confidence: the weakest of the sources counted
 * @short_line: the short line used
 * @trend: where free memory is heading
 * @n_guests: how many guests
 * @guests: (array length=n_guests): each guest's part of the balloon room
 * @verdict: (not nullable): the answer in one sentence
 *
 * The answer, by source. vt_planning_capacity_free() frees it.
 */
typedef struct {
        VtPlanningRoom rooms[VT_PLANNING_SOURCE_MAX];
        guint64 spare;
        guint64 need;
        gint64 margin;
        gboolean fits;
        gboolean short_after;
        guint n_fit;
        VtPlanningConfidence confidence;
        guint64 short_line;
        VtPlanningTrend trend;
        guint n_guests;
        VtPlanningGuestRoom *guests;
        char *verdict;
} VtPlanningCapacity;

VtPlanningCapacity *vt_planning_capacity_compute(const VtPlanningCapacityInput *input);
void vt_planning_capacity_free(VtPlanningCapacity *capacity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtPlanningCapacity, vt_planning_capacity_free)

const char *vt_planning_source_to_string(VtPlanningSource source);

G_END_DECLS
