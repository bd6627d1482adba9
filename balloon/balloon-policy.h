/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The balloon policies: where each guest's balloon should go, and why. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtHostState:
 * @VT_HOST_STATE_PLENTY: guests get back what they want; nothing reclaimed
 * @VT_HOST_STATE_TIGHT: reclaim spare memory in small steps
 * @VT_HOST_STATE_SHORT: reclaim in larger steps; guests wanting more compete
 *     by shares
 * @VT_HOST_STATE_CRITICAL: reclaim in the largest steps, down to what each
 *     guest needs (never under its minimum)
 *
 * How much memory the host has for its guests, in the spirit of VMware
 * ESX's high/soft/hard/low states. Ordered: a larger value is worse.
 */
typedef enum {
        VT_HOST_STATE_PLENTY,
        VT_HOST_STATE_TIGHT,
        VT_HOST_STATE_SHORT,
        VT_HOST_STATE_CRITICAL,
        VT_HOST_STATE_MAX,
} VtHostState;

/**
 * VtBalloonHost:
 * @mem_total: host MemTotal, bytes
 * @mem_available: host MemAvailable, bytes
 * @psi_some_avg10: host memory PSI "some" avg10, percent; negative or NaN
 *     when the kernel has no PSI
 * @psi_full_avg10: host memory PSI "full" avg10, percent; as above
 * @swap_in_per_s: pages swapped in per second over the last interval (0
 *     when unknown)
 * @swap_out_per_s: pages swapped out per second, as above
 * @budget_limit: memory the guests may use in all, bytes (the configured
 *     budget or the guests' cgroup limit, whichever is smaller); 0: none
 *
 * The host, as the collector saw it.
 */
typedef struct {
        guint64 mem_total;
        guint64 mem_available;
        double psi_some_avg10;
        double psi_full_avg10;
        double swap_in_per_s;
        double swap_out_per_s;
        guint64 budget_limit;
} VtBalloonHost;

/**
 * VtBalloonGuestFlags:
 * @VT_BALLOON_GUEST_HAS_BALLOON: the guest has a balloon device (QMP
 *     answered `query-balloon`)
 * @VT_BALLOON_GUEST_HAS_STATS: @stats_* are valid (the balloon driver
 *     reported them at least once, `last-update` != 0)
 * @VT_BALLOON_GUEST_HAS_AGENT: @agent_* are valid (a report was accepted)
 * @VT_BALLOON_GUEST_PRESSURE_PUSH: the agent pushed a pressure or drop
 *     report since the last decision for this guest
 * @VT_BALLOON_GUEST_STUCK: the balloon did not move when last asked (no
 *     driver in the guest, or the driver refuses): leave it alone
 * @VT_BALLOON_GUEST_MOVING: a move asked for has not been confirmed yet
 * @VT_BALLOON_GUEST_LAST_RECLAIM: the last move asked for was a reclaim
 *     (inflating the balloon lowers the guest's MemAvailable, and the agent
 *     pushes on such a drop)
 * @VT_BALLOON_GUEST_UNREACHABLE: the backend cannot drive the guest now
 *     (libvirtd restarting): leave it alone, its last state stands
 * @VT_BALLOON_GUEST_HAS_COMPRESSED: @agent_zram_* and @agent_zswap_* are
 *     valid (the agent reports them: protocol revision 2)
 * @VT_BALLOON_GUEST_HAS_SWAP_RATES: @agent_swap_in_per_s and
 *     @agent_swap_out_per_s are valid
 */
typedef enum {
        VT_BALLOON_GUEST_HAS_BALLOON = 1 << 0,
        VT_BALLOON_GUEST_HAS_STATS = 1 << 1,
        VT_BALLOON_GUEST_HAS_AGENT = 1 << 2,
        VT_BALLOON_GUEST_PRESSURE_PUSH = 1 << 3,
        VT_BALLOON_GUEST_STUCK = 1 << 4,
        VT_BALLOON_GUEST_MOVING = 1 << 5,
        VT_BALLOON_GUEST_LAST_RECLAIM = 1 << 6,
        VT_BALLOON_GUEST_UNREACHABLE = 1 << 7,
        VT_BALLOON_GUEST_HAS_COMPRESSED = 1 << 8,
        VT_BALLOON_GUEST_HAS_SWAP_RATES = 1 << 9,
} VtBalloonGuestFlags;

/**
 * VtBalloonGuest:
 * @name: the guest's name, for reasons (borrowed)
 * @flags: #VtBalloonGuestFlags
 * @max_bytes: the guest's boot memory (the most the balloon can give it)
 * @actual_bytes: the balloon's current logical size (`query-balloon`
 *     `actual`): what the guest has now
 * @target_bytes: the last target asked for (0: none yet)
 * @last_change_us: when the last target was asked for (0: never)
 * @stats_total: balloon stats `stat-total-memory`, bytes
 * @stats_free: `stat-free-memory`, bytes
 * @stats_available: `stat-available-memory`, bytes (MemAvailable in the
 *     guest); 0 with @VT_BALLOON_GUEST_HAS_STATS when the guest kernel
 *     lacks it
 * @stats_age_us: how old the stats are
 * @agent_mem_total: the agent's MemTotal, bytes
 * @agent_mem_available: the agent's MemAvailable, bytes
 * @agent_psi_some_avg10: the agent's memory PSI some avg10, percent;
 *     negative when the guest has no PSI
 * @agent_psi_full_avg10: the same, "full"
 * @agent_age_us: how old the agent's latest report is
 * @rss_bytes: the QEMU process's RSS (0: unknown); informative
 * @agent_zram_stored: what the guest's zram devices hold, uncompressed
 *     (orig_data_size summed), bytes
 * @agent_zram_pool: guest RAM their pools take (mem_used_total summed),
 *     bytes
 * @agent_zswap_stored: what its zswap holds, uncompressed (Zswapped), bytes
 * @agent_zswap_pool: guest RAM the zswap pool takes (Zswap), bytes
 * @agent_swap_in_per_s: pages the guest swaps in a second (pswpin +
 *     zswpin), over the agent's last reports
 * @agent_swap_out_per_s: pages it swaps out a second (pswpout + zswpout)
 *
 * One guest, as the collector saw it. Memory the guest has "available"
 * comes from the agent when its report is fresh, from the balloon stats
 * otherwise; MemFree alone is never used to judge need.
 */
typedef struct {
        const char *name;
        guint32 flags;
        guint64 max_bytes;
        guint64 actual_bytes;
        guint64 target_bytes;
        gint64 last_change_us;
        guint64 stats_total;
        guint64 stats_free;
        guint64 stats_available;
        gint64 stats_age_us;
        guint64 agent_mem_total;
        guint64 agent_mem_available;
        double agent_psi_some_avg10;
        double agent_psi_full_avg10;
        gint64 agent_age_us;
        guint64 rss_bytes;
        guint64 agent_zram_stored;
        guint64 agent_zram_pool;
        guint64 agent_zswap_stored;
        guint64 agent_zswap_pool;
        double agent_swap_in_per_s;
        double agent_swap_out_per_s;
} VtBalloonGuest;

/* A guest's shares when its configuration gives none (see
 * vt_balloon_guest_config_get_shares()). */
#define VT_BALLOON_DEFAULT_SHARES 1000

/*
 * The least any guest is ballooned to, by any policy or by hand, whatever
 * its configuration says: 64 MiB. Below it a Linux guest's kernel, page
 * tables and balloon driver themselves no longer fit, and it OOMs or
 * hangs. A guest that boots with less is never ballooned below its boot
 * memory (vt_balloon_floor()). Configured minima and maxima under it are
 * refused (vt_balloon_guest_config_check()), and vt_balloon_decide()
 * raises any target a policy computes under it.
 */
#define VT_BALLOON_FLOOR (G_GUINT64_CONSTANT(64) << 20)

/**
 * VtBalloonGuestConfig:
 * @min_bytes: the guest's minimum guarantee: never balloon it below this
 *     (0: the policy's default, a fraction of @max_bytes)
 * @max_bytes: never give it more than this (0 or above the boot memory:
 *     the boot memory)
 * @shares: its weight when guests compete for memory (0:
 *     %VT_BALLOON_DEFAULT_SHARES)
 * @opt_out: leave its balloon alone
 * @held: a target was set by hand (the control socket's `set-target`):
 *     every policy leaves the balloon alone, with the reason "held by hand
 *     at @held_bytes" (SKIP), before any other reason, opted out included
 * @held_bytes: with @held, the size it is held at (for the reason)
 *
 * Per-guest policy, from the configuration or the control socket.
 */
typedef struct {
        guint64 min_bytes;
        guint64 max_bytes;
        guint shares;
        gboolean opt_out;
        gboolean held;
        guint64 held_bytes;
} VtBalloonGuestConfig;

/**
 * VtBalloonConfig:
 * @host_reserve: bytes of host MemAvailable kept for the host itself; the
 *     guests' free memory is what is available beyond it
 * @plenty_fraction: free (beyond the reserve, and under the budget) at or
 *     above this fraction of the reference (the budget when set, else
 *     MemTotal) is plenty; below it, tight
 * @tight_fraction: below this, short
 * @short_fraction: below this, critical
 * @hysteresis_fraction: to move to a better state, free must pass that
 *     state's line by this much more (a fraction of the reference)
 * @psi_short: host PSI some avg10 (percent) at or above which the state
 *     is at least short
 * @psi_critical: host PSI full avg10 at or above which it is critical
 * @guest_headroom_fraction: memory a guest should have available, as a
 *     fraction of its maximum, on top of what it uses
 * @guest_headroom_min: ... and at least this many bytes
 * @guest_pressure_psi: an agent PSI some avg10 (percent) at or above which
 *     a guest is under pressure
 * @guest_low_fraction: a guest with less than this fraction of its
 *     current size available is under pressure
 * @default_min_fraction: a guest's minimum when its config gives none, as
 *     a fraction of its maximum
 * @step_fraction: reclaim steps per state (index #VtHostState), as a
 *     fraction of the guest's maximum; [PLENTY] is unused
 * @min_change: changes smaller than this many bytes are not worth a
 *     balloon operation (except for a guest under pressure)
 * @settle_us: after a change, leave a guest alone this long unless it is
 *     under pressure (the balloon moves, stats catch up)
 * @stale_us: stats or reports older than this are stale
 * @swap_in_tight: host pages swapped in per second at or above which the
 *     state is at least tight (the host is paging back what it needs)
 * @guest_swap_in_warm: guest pages swapped in per second at or above which
 *     a guest whose compressed swap (zram, zswap) holds data is reading it
 *     back: what it pushed out counts in its want at its uncompressed size
 * @guest_swap_in_thrash: ... at or above which such a guest is thrashing:
 *     under pressure, whatever its MemAvailable says
 *
 * The tunables. vt_balloon_config_init() gives the defaults.
 */
typedef struct {
        guint64 host_reserve;
        double plenty_fraction;
        double tight_fraction;
        double short_fraction;
        double hysteresis_fraction;
        double psi_short;
        double psi_critical;
        double guest_headroom_fraction;
        guint64 guest_headroom_min;
        double guest_pressure_psi;
        double guest_low_fraction;
        double default_min_fraction;
        double step_fraction[VT_HOST_STATE_MAX];
        guint64 min_change;
        gint64 stale_us;
        gint64 settle_us;
        double swap_in_tight;
        double guest_swap_in_warm;
        double guest_swap_in_thrash;
} VtBalloonConfig;

/**
 * VtBalloonState:
 * @host_state: the host state decided last time (with hysteresis)
 * @host_state_since_us: when it was entered
 * @scratch: private to each policy (a baseline's own clock)
 *
 * What a policy carries from one decision to the next. Start zeroed.
 */
typedef struct {
        VtHostState host_state;
        gint64 host_state_since_us;
        gint64 scratch;
} VtBalloonState;

/**
 * VtBalloonAction:
 * @VT_BALLOON_ACTION_NONE: leave the balloon where it is
 * @VT_BALLOON_ACTION_GIVE: deflate: the guest gets memory
 * @VT_BALLOON_ACTION_RECLAIM: inflate: memory goes back to the host
 * @VT_BALLOON_ACTION_SKIP: the guest cannot or must not be moved (no
 *     balloon, stuck, stale or missing stats, opted out)
 */
typedef enum {
        VT_BALLOON_ACTION_NONE,
        VT_BALLOON_ACTION_GIVE,
        VT_BALLOON_ACTION_RECLAIM,
        VT_BALLOON_ACTION_SKIP,
        VT_BALLOON_ACTION_MAX,
} VtBalloonAction;

/**
 * VtBalloonTarget:
 * @action: what to do
 * @target_bytes: the balloon size to ask for (with GIVE or RECLAIM); the
 *     current size otherwise
 * @want_bytes: what the policy thinks the guest needs (0: unknown)
 * @reason: why, for the log and the control socket
 *
 * The decision for one guest.
 */
typedef struct {
        VtBalloonAction action;
        guint64 target_bytes;
        guint64 want_bytes;
        char reason[192];
} VtBalloonTarget;

/**
 * VtBalloonInput:
 * @host: the host
 * @guests: the guests, @n_guests of them
 * @configs: each guest's policy, same order as @guests
 * @n_guests: how many
 * @now_us: monotonic time of the snapshot
 * @paused: automation is paused (the control socket's `pause`): the policy
 *     decides as usual, but vt_balloon_decide() turns each GIVE or RECLAIM
 *     into NONE at the current size, its reason "paused; would give: ..."
 *     or "paused; would reclaim: ..." (what would have been done, and why)
 */
typedef struct {
        const VtBalloonHost *host;
        const VtBalloonGuest *guests;
        const VtBalloonGuestConfig *configs;
        guint n_guests;
        gint64 now_us;
        gboolean paused;
} VtBalloonInput;

/**
 * VtBalloonDecision:
 * @host_state: the host state this decision was made in
 * @host_free: the guests' free memory as judged (may be negative: over
 *     the budget or into the reserve), bytes
 * @reason: the host-level reason ("tight: 8 % free < 10 %")
 * @targets: one per guest, same order as the input (caller-allocated,
 *     @n_guests of them)
 */
typedef struct {
        VtHostState host_state;
        gint64 host_free;
        char reason[160];
        VtBalloonTarget *targets;
} VtBalloonDecision;

typedef void (*VtBalloonPolicyFunc)(const VtBalloonInput *input, const VtBalloonConfig *config,
                                    VtBalloonState *state, VtBalloonDecision *decision);

void vt_balloon_config_init(VtBalloonConfig *config);

/* The entry point: runs a policy, with hold and pause (balloon-policy-common.c). */
void vt_balloon_decide(VtBalloonPolicyFunc policy, const VtBalloonInput *input,
                       const VtBalloonConfig *config, VtBalloonState *state,
                       VtBalloonDecision *decision);

/* vmtide's policy (theory of operation in balloon-policy.c). */
void vt_balloon_policy_decide(const VtBalloonInput *input, const VtBalloonConfig *config,
                              VtBalloonState *state, VtBalloonDecision *decision);

/* oVirt MoM's default balloon rules. */
void vt_balloon_policy_mom_decide(const VtBalloonInput *input, const VtBalloonConfig *config,
                                  VtBalloonState *state, VtBalloonDecision *decision);

/* Proxmox VE's auto-balloon (pvestatd). */
void vt_balloon_policy_proxmox_decide(const VtBalloonInput *input, const VtBalloonConfig *config,
                                      VtBalloonState *state, VtBalloonDecision *decision);

const char *vt_host_state_to_string(VtHostState state);
const char *vt_balloon_action_to_string(VtBalloonAction action);

/*
 * Helpers shared by the three policies (balloon-policy-common.c), so that they read
 * a guest's limits, judge the host and word their reasons alike. Pure too.
 */

/**
 * VtBalloonLimits:
 * @min_bytes: never balloon the guest below this
 * @max_bytes: never give it more than this
 * @shares: its weight when guests compete
 *
 * A guest's limits once its configuration and the policy defaults are
 * resolved: @max_bytes is the configured maximum or the boot memory,
 * whichever is smaller; @min_bytes the configured minimum or
 * default_min_fraction of @max_bytes, and never above @max_bytes; neither
 * below vt_balloon_floor() of the boot memory; @shares
 * %VT_BALLOON_DEFAULT_SHARES when not configured.
 */
typedef struct {
        guint64 min_bytes;
        guint64 max_bytes;
        guint shares;
} VtBalloonLimits;

guint vt_balloon_guest_config_get_shares(const VtBalloonGuestConfig *guest_config);
guint64 vt_balloon_floor(guint64 boot_bytes);
gboolean vt_balloon_guest_config_check(const VtBalloonGuestConfig *guest_config, guint64 boot_bytes,
                                       char **ret_problem);
void vt_balloon_limits_get(const VtBalloonGuest *guest, const VtBalloonGuestConfig *guest_config,
                           const VtBalloonConfig *config, VtBalloonLimits *ret_limits);

gboolean vt_balloon_guest_check(const VtBalloonGuest *guest,
                                const VtBalloonGuestConfig *guest_config,
                                VtBalloonTarget *ret_target);

gboolean vt_balloon_guest_check_stats(const VtBalloonGuest *guest, const VtBalloonConfig *config,
                                      VtBalloonTarget *ret_target);

gint64 vt_balloon_host_free(const VtBalloonInput *input, guint64 reserve, guint64 *ret_reference);

void vt_balloon_target_set(VtBalloonTarget *target, VtBalloonAction action, guint64 target_bytes,
                           guint64 want_bytes, const char *format, ...) G_GNUC_PRINTF(5, 6);

gboolean vt_balloon_baseline_tick(const VtBalloonInput *input, VtBalloonState *state,
                                  gint64 interval_us, const char *name,
                                  VtBalloonDecision *decision);
gboolean vt_balloon_baseline_host(const VtBalloonInput *input, const VtBalloonState *state,
                                  const char *name, VtBalloonDecision *decision, gint64 *ret_free,
                                  guint64 *ret_total);

G_END_DECLS
