/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration cost model: what a pre-copy live migration will take, before it starts. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A duration that does not fit, or a move that never ends (no bandwidth). */
#define VT_MIGRATE_COST_FOREVER G_MAXINT64

/* The passes the model simulates at most, whatever the limit asked for. */
#define VT_MIGRATE_COST_PASSES_MAX 1000

/* Bytes QEMU sends for a page that is all zeroes (its header and one byte). */
#define VT_MIGRATE_COST_ZERO_PAGE_WIRE 9

/* QEMU 7.2's defaults: `max-bandwidth` 128 MiB/s, `downtime-limit` 300 ms. */
#define VT_MIGRATE_COST_BANDWIDTH_DEFAULT (G_GUINT64_CONSTANT(128) << 20)
#define VT_MIGRATE_COST_DOWNTIME_DEFAULT  (300 * G_TIME_SPAN_MILLISECOND)
#define VT_MIGRATE_COST_PAGE_SIZE_DEFAULT 4096

/**
 * VtMigrateCostInput:
 * @mem_bytes: the guest's RAM, bytes
 * @resident_bytes: how much of it holds data, bytes (the rest reads as
 *     zero pages, which QEMU sends as a few bytes each); 0 or above
 *     @mem_bytes: all of it
 * @dirty_rate: the guest's measured dirty rate, bytes per second (distinct
 *     pages dirtied over the window, times the page size, per second)
 * @dirty_window_us: the window @dirty_rate was measured over; a rate above
 *     @mem_bytes per window is impossible (a page counts once) and is
 *     lowered to that; 0 or negative: unknown, the rate is taken as is
 * @dirty_rate_short: the dirty rate measured over a short window (QEMU
 *     7.2's least, 1 s), bytes per second; with it @dirty_rate over the
 *     longer @dirty_window_us reads as the guest's working set (@dirty_rate
 *     × @dirty_window_us: the distinct bytes it dirtied over that window),
 *     and a pass of T seconds dirties min(working set, this rate × T) (see
 *     the theory in migrate-cost.c). Below @dirty_rate it is taken as
 *     @dirty_rate (a shorter window never reads a lower rate but by
 *     sampling error)
 * @dirty_window_short_us: the window @dirty_rate_short was measured over;
 *     0 or negative: no short reading, @dirty_rate alone is used for every
 *     pass (the model before the working set)
 * @bandwidth: the link's bandwidth for the move (the configured cap, or
 *     the measured rate when lower), bytes per second; 0: nothing moves
 * @downtime_limit_us: the longest the guest may stay stopped for the last
 *     copy (QEMU `downtime-limit`); 0 or negative: 0, which only a guest
 *     that dirties nothing meets
 * @max_passes: passes allowed, the final stop-and-copy included (the
 *     executor forces or cancels the move after that many); 0 or above
 *     #VT_MIGRATE_COST_PASSES_MAX: #VT_MIGRATE_COST_PASSES_MAX (QEMU itself
 *     sets no limit)
 * @page_size: the guest page size the dirty log tracks, bytes; 0: 4096
 * @switchover_us: time the stop-and-copy takes beyond the RAM it sends
 *     (device state, stopping and resuming the vCPUs); 0: none. Counted in
 *     the downtime and the total, not in QEMU's switch-over test
 *
 * What the model needs to know about one guest and one link.
 * vt_migrate_cost_input_init() fills QEMU's defaults for the link.
 */
typedef struct {
        guint64 mem_bytes;
        guint64 resident_bytes;
        guint64 dirty_rate;
        gint64 dirty_window_us;
        guint64 dirty_rate_short;
        gint64 dirty_window_short_us;
        guint64 bandwidth;
        gint64 downtime_limit_us;
        guint max_passes;
        guint64 page_size;
        gint64 switchover_us;
} VtMigrateCostInput;

/**
 * VtMigrateCostOutcome:
 * @VT_MIGRATE_COST_CONVERGES: what remains fits in bandwidth ×
 *     downtime-limit within the passes allowed: QEMU stops the guest and
 *     copies the rest within the limit
 * @VT_MIGRATE_COST_PASS_LIMIT: what remains shrinks each pass, but not
 *     enough by the last pass allowed; stopping the guest then copies the
 *     remainder in more than the downtime limit
 * @VT_MIGRATE_COST_NO_PROGRESS: what remains stopped shrinking (a dirty
 *     rate at or above the bandwidth; or a downtime limit of 0 with a guest
 *     that dirties anything): no number of passes helps. Predicted as
 *     stopped at the first pass that makes no progress
 * @VT_MIGRATE_COST_NO_BANDWIDTH: the bandwidth is 0: the move never ends
 *
 * How a move ends, as predicted. Only the first meets the downtime limit.
 */
typedef enum {
        VT_MIGRATE_COST_CONVERGES,
        VT_MIGRATE_COST_PASS_LIMIT,
        VT_MIGRATE_COST_NO_PROGRESS,
        VT_MIGRATE_COST_NO_BANDWIDTH,
        VT_MIGRATE_COST_OUTCOME_MAX,
} VtMigrateCostOutcome;

/**
 * VtMigrateCost:
 * @outcome: how the move ends
 * @converges: @outcome is %VT_MIGRATE_COST_CONVERGES
 * @passes: passes over the guest's RAM, the final stop-and-copy included
 *     when it has pages to send (a guest that dirties nothing: 1; no RAM
 *     or no bandwidth: 0)
 * @bytes_sent: bytes on the wire, every pass (zero pages at
 *     #VT_MIGRATE_COST_ZERO_PAGE_WIRE bytes each); saturates at
 *     %G_MAXUINT64
 * @remaining_bytes: what the final stop-and-copy sends, bytes
 * @total_us: from the start to the guest running on the destination;
 *     %VT_MIGRATE_COST_FOREVER when it never ends or does not fit
 * @downtime_us: how long the guest stays stopped: the final copy plus
 *     @switchover_us. Without convergence, the downtime a forced stop at
 *     the end would take (the downtime limit that move would need)
 * @first_pass_us: the first pass's length (the dirty-rate window that
 *     matches it); %VT_MIGRATE_COST_FOREVER without bandwidth
 * @dirty_rate: the dirty rate the model used for the passes, bytes per
 *     second (the input's, lowered to @mem_bytes per window when above; with
 *     a short reading, the short rate)
 * @working_set_bytes: the most a pass no longer than the long window
 *     dirties: @dirty_rate × @dirty_window_us of the input with a short
 *     reading; @mem_bytes without one
 * @threshold_bytes: bandwidth × downtime-limit: what may remain when QEMU
 *     stops the guest
 * @reason: in words, for the log, the CLI and the planner's reasons
 *     ("converges in 3 passes: 512 MiB + 40 MiB + 3 MiB at 128 MiB/s,
 *     24 ms down")
 *
 * The prediction for one move.
 */
typedef struct {
        VtMigrateCostOutcome outcome;
        gboolean converges;
        guint passes;
        guint64 bytes_sent;
        guint64 remaining_bytes;
        gint64 total_us;
        gint64 downtime_us;
        gint64 first_pass_us;
        guint64 dirty_rate;
        guint64 working_set_bytes;
        guint64 threshold_bytes;
        char reason[192];
} VtMigrateCost;

void vt_migrate_cost_input_init(VtMigrateCostInput *input);

void vt_migrate_cost_predict(const VtMigrateCostInput *input, VtMigrateCost *ret_cost);

gboolean vt_migrate_cost_downtime_needed(const VtMigrateCostInput *input,
                                         gint64 *ret_downtime_limit_us);

gboolean vt_migrate_cost_bandwidth_needed(const VtMigrateCostInput *input, guint64 *ret_bandwidth);

const char *vt_migrate_cost_outcome_to_string(VtMigrateCostOutcome outcome);

G_END_DECLS
