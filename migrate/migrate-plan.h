/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration planner: which guest to move off a critical host, where, and why. Pure. */
#pragma once

#include <glib.h>

#include "balloon/balloon-policy.h"
#include "migrate/migrate-cost.h"

G_BEGIN_DECLS

/* QEMU 7.2's `calc-dirty-rate` `calc-time` bounds (whole seconds, 1 to 60):
 * the window a measurement asked for is clamped to them by default. */
#define VT_MIGRATE_PLAN_WINDOW_MIN_US G_TIME_SPAN_SECOND
#define VT_MIGRATE_PLAN_WINDOW_MAX_US (60 * G_TIME_SPAN_SECOND)

/* No guest or peer (the decision's indexes). */
#define VT_MIGRATE_PLAN_NONE_INDEX G_MAXUINT

/**
 * VtMigratePlanHost:
 * @mem_total: host MemTotal, bytes
 * @budget_bytes: the guests' budget, bytes; 0: none (MemTotal is the
 *     reference the exit line is a fraction of)
 * @free_bytes: the guests' free memory: MemAvailable beyond the host's
 *     reserve, and under the budget (vt_balloon_host_free()); negative when
 *     the reserve or the budget is overrun
 * @critical: the host is critical now (#VT_HOST_STATE_CRITICAL)
 * @critical_ticks: for how many consecutive ticks it has been critical,
 *     this one included (0 when not critical)
 * @reclaimable_bytes: what the balloon can still take back: the sum over
 *     the guests of what they hold above their floor (the want each
 *     #VtMigratePlanGuest carries), bytes
 * @ksm_yield_bytes: what KSM is expected to save beyond what it saves
 *     now, bytes (0: nothing expected)
 * @outgoing: outgoing migrations under way now
 * @last_outgoing_end_us: when the last outgoing migration of this host
 *     ended, whatever its outcome (0: never), monotonic µs
 *
 * This host, as the daemon judged it this tick.
 */
typedef struct {
        guint64 mem_total;
        guint64 budget_bytes;
        gint64 free_bytes;
        gboolean critical;
        guint critical_ticks;
        guint64 reclaimable_bytes;
        guint64 ksm_yield_bytes;
        guint outgoing;
        gint64 last_outgoing_end_us;
} VtMigratePlanHost;

/**
 * VtMigratePlanGuest:
 * @name: the guest's name (borrowed)
 * @mem_bytes: its RAM (boot memory), bytes
 * @actual_bytes: what it holds now (the balloon's `actual`): what this
 *     host gets back when it leaves
 * @want_bytes: what it needs: the floor the balloon reclaims it down to
 *     (the balloon policy's want, never under its minimum); 0: unknown,
 *     taken as @actual_bytes
 * @resident_bytes: how much of @actual_bytes holds data (the rest goes as
 *     zero pages); 0: all of it
 * @dirty_rate: its last measured dirty rate, bytes per second
 * @dirty_window_us: the window @dirty_rate was measured over
 * @dirty_rate_short: its dirty rate measured over a short window just
 *     before or after (the cost model reads @dirty_rate × @dirty_window_us
 *     as its working set then: see #VtMigrateCostInput), bytes per second
 * @dirty_window_short_us: the window @dirty_rate_short was measured over;
 *     0: no short reading
 * @dirty_measured_us: when it was measured (monotonic µs); 0: never, the
 *     rate is unknown
 * @measuring: a measurement of its dirty rate is under way
 * @migrating: it is migrating now (in or out)
 * @opt_out: it opted out of migration (per-guest policy)
 * @pinned: it is pinned to this host (per-guest policy, or by hand)
 * @last_migrated_us: when it last arrived here or last tried to leave
 *     (monotonic µs); 0: never
 *
 * One guest of this host.
 */
typedef struct {
        const char *name;
        guint64 mem_bytes;
        guint64 actual_bytes;
        guint64 want_bytes;
        guint64 resident_bytes;
        guint64 dirty_rate;
        gint64 dirty_window_us;
        guint64 dirty_rate_short;
        gint64 dirty_window_short_us;
        gint64 dirty_measured_us;
        gboolean measuring;
        gboolean migrating;
        gboolean opt_out;
        gboolean pinned;
        gint64 last_migrated_us;
} VtMigratePlanGuest;

/**
 * VtMigratePlanPeer:
 * @name: the peer's name or connection URI (borrowed)
 * @free_bytes: the memory it has free for guests, read conservatively
 *     (node memory and its guests' balloons through libvirt, the lower
 *     reading when two disagree), bytes; negative: overrun
 * @headroom_bytes: what it must keep free to stay out of short (its own
 *     short line), bytes
 * @incoming_bytes: what moves from this host to it now will take there,
 *     bytes (not yet in @free_bytes)
 * @state: its own state; a peer short or critical receives nothing
 * @bandwidth: the link to it, bytes per second; 0: the plan's link
 * @last_sent_us: when it last sent a guest to this host (monotonic µs,
 *     this host's clock); 0: never
 * @last_sent_guest: (nullable): which guest (borrowed)
 *
 * A host a guest may move to.
 */
typedef struct {
        const char *name;
        gint64 free_bytes;
        guint64 headroom_bytes;
        guint64 incoming_bytes;
        VtHostState state;
        guint64 bandwidth;
        gint64 last_sent_us;
        const char *last_sent_guest;
} VtMigratePlanPeer;

/**
 * VtMigratePlanLink:
 * @bandwidth: the migration stream's cap, bytes per second
 * @downtime_limit_us: QEMU `downtime-limit` the move starts with
 * @max_passes: the passes the executor allows, the final copy included
 *     (0: the cost model's limit)
 * @switchover_us: the stop-and-copy's cost beyond RAM (see
 *     #VtMigrateCostInput)
 *
 * The link every move is predicted over (a peer may have its own
 * bandwidth). vt_migrate_plan_link_init() gives the defaults.
 */
typedef struct {
        guint64 bandwidth;
        gint64 downtime_limit_us;
        guint max_passes;
        gint64 switchover_us;
} VtMigratePlanLink;

/**
 * VtMigratePlanConfig:
 * @hysteresis_ticks: consecutive critical ticks before anything moves
 * @guest_cooldown_us: a guest that arrived or tried to leave less than this
 *     ago stays
 * @host_cooldown_us: after an outgoing migration ends, this host starts no
 *     other for this long
 * @pingpong_us: a guest never goes back to the peer that sent it within
 *     this
 * @max_outgoing: outgoing migrations at a time
 * @min_relief_bytes: a move relieving less than this is not worth one
 * @exit_fraction: the free memory, as a fraction of the reference (the
 *     budget when set, else MemTotal), that takes the host out of critical:
 *     the balloon policy's short line plus its hysteresis
 * @target_fraction: the free memory, as the same fraction, a move aims
 *     for: what a move should give back is the gap to this line (the
 *     balloon policy's plenty line); never under @exit_fraction
 * @dirty_max_age_us: a dirty rate measured longer ago than this is
 *     measured again before it decides a move
 * @max_measuring: guests measured at once
 * @window_min_us: the shortest measurement window asked for
 * @window_max_us: the longest
 *
 * The planner's tunables. vt_migrate_plan_config_init() gives the defaults.
 */
typedef struct {
        guint hysteresis_ticks;
        gint64 guest_cooldown_us;
        gint64 host_cooldown_us;
        gint64 pingpong_us;
        guint max_outgoing;
        guint64 min_relief_bytes;
        double exit_fraction;
        double target_fraction;
        gint64 dirty_max_age_us;
        guint max_measuring;
        gint64 window_min_us;
        gint64 window_max_us;
} VtMigratePlanConfig;

/**
 * VtMigratePlanInput:
 * @host: this host
 * @guests: its guests
 * @n_guests: how many
 * @peers: the hosts its guests may go to
 * @n_peers: how many
 * @link: the link
 * @now_us: now (monotonic µs), the clock every time above is on
 *
 * A snapshot for one decision. Everything is borrowed.
 */
typedef struct {
        const VtMigratePlanHost *host;
        const VtMigratePlanGuest *guests;
        guint n_guests;
        const VtMigratePlanPeer *peers;
        guint n_peers;
        const VtMigratePlanLink *link;
        gint64 now_us;
} VtMigratePlanInput;

/**
 * VtMigratePlanAction:
 * @VT_MIGRATE_PLAN_NOTHING: move nothing (the decision's @why says why)
 * @VT_MIGRATE_PLAN_MOVE: move the guest to the peer
 * @VT_MIGRATE_PLAN_MEASURE: measure the guest's dirty rate over the
 *     decision's window first: it may be the cheapest move, and its rate is
 *     unknown or stale
 *
 * What to do.
 */
typedef enum {
        VT_MIGRATE_PLAN_NOTHING,
        VT_MIGRATE_PLAN_MOVE,
        VT_MIGRATE_PLAN_MEASURE,
        VT_MIGRATE_PLAN_ACTION_MAX,
} VtMigratePlanAction;

/**
 * VtMigratePlanWhy:
 * @VT_MIGRATE_PLAN_WHY_MOVE: the cheapest move that converges and fits
 * @VT_MIGRATE_PLAN_WHY_MEASURE: a guest whose rate is unknown may be
 *     cheaper than any known move; also while the hysteresis or the host's
 *     cooldown holds a move back, so that the rate is there when it may
 *     start
 * @VT_MIGRATE_PLAN_WHY_NOT_CRITICAL: the host is not critical
 * @VT_MIGRATE_PLAN_WHY_HYSTERESIS: critical for fewer ticks than the
 *     hysteresis asks
 * @VT_MIGRATE_PLAN_WHY_RECOVERABLE: the balloon and KSM can still bring
 *     the host back out of critical (or free memory is above the exit line
 *     already: stalls made it critical, which the balloon answers)
 * @VT_MIGRATE_PLAN_WHY_BUSY: as many outgoing migrations as allowed run
 * @VT_MIGRATE_PLAN_WHY_HOST_COOLDOWN: the last outgoing migration ended
 *     less than the host cooldown ago
 * @VT_MIGRATE_PLAN_WHY_NO_GUEST: no guest may move (opted out, pinned,
 *     migrating, in its cooldown, or relieving too little)
 * @VT_MIGRATE_PLAN_WHY_NO_ROOM: no peer can take any guest that may move
 *     and keep its headroom (or it is short, or it sent that guest)
 * @VT_MIGRATE_PLAN_WHY_NO_CONVERGENCE: some fit, none converges
 * @VT_MIGRATE_PLAN_WHY_MEASURING: the guest to measure is being measured
 *     (or as many guests as allowed are)
 *
 * Why, as a code (the decision's reason says it in words).
 */
typedef enum {
        VT_MIGRATE_PLAN_WHY_MOVE,
        VT_MIGRATE_PLAN_WHY_MEASURE,
        VT_MIGRATE_PLAN_WHY_NOT_CRITICAL,
        VT_MIGRATE_PLAN_WHY_HYSTERESIS,
        VT_MIGRATE_PLAN_WHY_RECOVERABLE,
        VT_MIGRATE_PLAN_WHY_BUSY,
        VT_MIGRATE_PLAN_WHY_HOST_COOLDOWN,
        VT_MIGRATE_PLAN_WHY_NO_GUEST,
        VT_MIGRATE_PLAN_WHY_NO_ROOM,
        VT_MIGRATE_PLAN_WHY_NO_CONVERGENCE,
        VT_MIGRATE_PLAN_WHY_MEASURING,
        VT_MIGRATE_PLAN_WHY_MAX,
} VtMigratePlanWhy;

/**
 * VtMigratePlanDecision:
 * @action: what to do
 * @why: why, as a code
 * @guest_index: the guest (index in the input) to move or measure, or
 *     the one whose measurement the plan waits for
 *     (%VT_MIGRATE_PLAN_WHY_MEASURING); else %VT_MIGRATE_PLAN_NONE_INDEX
 * @peer_index: where to (%VT_MIGRATE_PLAN_MOVE), else
 *     %VT_MIGRATE_PLAN_NONE_INDEX
 * @guest: (nullable): the guest's name (borrowed from the input)
 * @peer: (nullable): the peer's name (borrowed from the input)
 * @window_us: with %VT_MIGRATE_PLAN_MEASURE, the window to measure over:
 *     the move's predicted first pass, within the configured bounds
 * @window_short_us: with %VT_MIGRATE_PLAN_MEASURE, the short window to
 *     measure over as well (the configured shortest, QEMU's 1 s), which
 *     with @window_us tells the rate and the working set; 0 when @window_us
 *     is no longer (one reading then tells both)
 * @need_bytes: what a move should give back: the gap to the target line
 *     less what the balloon and KSM can; 0 when they can bring the host
 *     out of critical by themselves
 * @relief_bytes: with a move (or a measure), what it gives back here
 * @cost_per_byte: with a move, bytes on the wire per byte of the need it
 *     meets (min(@relief_bytes, @need_bytes)); with a measure, the least
 *     that could be (the guest dirtying nothing)
 * @cost: with a move, the prediction; with a measure, the prediction
 *     without dirtying (what sets the window)
 * @reason: in words, with the prediction
 *
 * The planner's answer.
 */
typedef struct {
        VtMigratePlanAction action;
        VtMigratePlanWhy why;
        guint guest_index;
        guint peer_index;
        const char *guest;
        const char *peer;
        gint64 window_us;
        gint64 window_short_us;
        guint64 need_bytes;
        guint64 relief_bytes;
        double cost_per_byte;
        VtMigrateCost cost;
        char reason[448];
} VtMigratePlanDecision;

void vt_migrate_plan_config_init(VtMigratePlanConfig *config);

void vt_migrate_plan_link_init(VtMigratePlanLink *link);

void vt_migrate_plan_decide(const VtMigratePlanInput *input, const VtMigratePlanConfig *config,
                            VtMigratePlanDecision *ret_decision);

const char *vt_migrate_plan_action_to_string(VtMigratePlanAction action);

const char *vt_migrate_plan_why_to_string(VtMigratePlanWhy why);

G_END_DECLS
