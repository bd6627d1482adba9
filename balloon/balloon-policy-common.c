/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The balloon policies' defaults, the helpers they share, and the one entry point. */

/*
 * Theory of operation
 *
 * vt_balloon_decide() is how the daemon (and anything that replays a
 * decision) runs a policy: the policy's decision is final once it returns,
 * the daemon applies it unchanged. What shapes a decision besides the
 * snapshot is an input too, so that the table tests see it:
 *
 *   - a guest held by hand (VtBalloonGuestConfig.held) is left alone by
 *     every policy, through vt_balloon_guest_check() (and
 *     vt_balloon_baseline_tick() between a baseline's ticks), with the
 *     reason "held by hand at 512 MiB";
 *   - no target is under the floor (VT_BALLOON_FLOOR, 64 MiB, or the boot
 *     memory when smaller): the limits keep to it, and a target a policy
 *     computes under it anyway is raised to it, the reason saying so;
 *   - while automation is paused (VtBalloonInput.paused), the policy runs
 *     as usual (its state, the host state, move on) and each GIVE or
 *     RECLAIM becomes NONE at the current size, its reason saying what
 *     would have been done: "paused; would reclaim: <the policy's reason>".
 *
 * The helpers below are shared by the three policies so that they read a
 * guest's limits, judge what may be moved and word their reasons alike.
 *
 * Pure: no I/O, no clock; `now` comes in the input.
 */
#include "balloon/balloon-policy-private.h"

#include <stdarg.h>

/**
 * vt_balloon_config_init:
 * @config: (out caller-allocates): filled with vmtide's defaults, each
 *     justified below
 */
void
vt_balloon_config_init(VtBalloonConfig *config)
{
        g_return_if_fail(config != NULL);

        *config = (VtBalloonConfig){
            /* Kept for the host beyond the state lines: the kernel's
             * watermarks (min_free_kbytes is tens of MiB), vmtided, libvirtd
             * and QEMU's own growth. The lines above it scale with the host,
             * so the reserve only has to cover what does not: 256 MiB. */
            .host_reserve = 256 * VT_SIZE_MIB,
            /* 15 % free of the reference is plenty: on a 64 GiB host 9.6 GiB,
             * a guest's boot in seconds; on a 1.5 GiB budget 230 MiB, about
             * the headroom of three 512 MiB guests. Under 10 % reclaim
             * harder, under 5 % (the critical line) hardest; a guest under
             * pressure may draw free down to that critical line. */
            .plenty_fraction = 0.15,
            .tight_fraction = 0.10,
            .short_fraction = 0.05,
            /* 3 %: wider than what one 512 MiB guest's stats jitter by on a
             * 1.5 GiB budget, narrower than a reclaim step takes. */
            .hysteresis_fraction = 0.03,
            /* Some task stalled on memory 10 % of the last 10 s: the host is
             * reclaiming hard enough to be felt (KSM already starts at 5 %).
             * Every task stalled 5 % of the time is critical. */
            .psi_short = 10.0,
            .psi_critical = 5.0,
            /* Room above what a guest uses for its next burst of allocations
             * and a useful page cache: 15 % of its maximum, at least 64 MiB
             * (a small guest's kernel and daemons swing by that much). */
            .guest_headroom_fraction = 0.15,
            .guest_headroom_min = 64 * VT_SIZE_MIB,
            /* The same 10 % inside the guest as on the host. */
            .guest_pressure_psi = 10.0,
            /* Under 5 % of its size available, a guest is about to swap or
             * OOM, whatever its PSI says (a guest kernel without PSI). */
            .guest_low_fraction = 0.05,
            /* A quarter of its memory: a Linux guest boots and idles in it. */
            .default_min_fraction = 0.25,
            /* Per decision: 5 % of a guest's maximum when tight (25 MiB of
             * 512 MiB: the guest drops cache, not working set, in seconds),
             * 10 % when short, 20 % when critical. A test guest shrinks by
             * 256 MiB in 0.4 s, so even the largest step is quick. */
            .step_fraction = {0.0, 0.05, 0.10, 0.20},
            /* A balloon operation costs the guest page faults and the host a
             * QMP round trip; under 16 MiB it is not worth one. */
            .min_change = 16 * VT_SIZE_MIB,
            /* Balloon stats come every 2 s: two periods after a change the
             * figures reflect it. */
            .settle_us = 4 * G_USEC_PER_SEC,
            /* Fifteen stats periods, six agent reports: the guest is gone or
             * its reporting is broken. */
            .stale_us = 30 * G_USEC_PER_SEC,
            /* 256 pages (1 MiB) a second: less is a daemon waking up, more
             * is the host paging back memory it needs. */
            .swap_in_tight = 256.0,
            /* A guest reading back 64 pages (256 KiB) a second from its
             * compressed swap uses what is there; 4096 pages (16 MiB) a
             * second is a core's worth of lz4 decompression spent on
             * paging: thrashing, though MemAvailable may look fine. */
            .guest_swap_in_warm = 64.0,
            .guest_swap_in_thrash = 4096.0,
        };
}

/**
 * vt_host_state_to_string:
 * @state: a #VtHostState
 *
 * Returns: "plenty", "tight", "short", "critical" (static)
 */
const char *
vt_host_state_to_string(VtHostState state)
{
        static const char *const names[] = {"plenty", "tight", "short", "critical"};

        if ((guint)state >= G_N_ELEMENTS(names))
                return "unknown";
        return names[state];
}

/**
 * vt_balloon_action_to_string:
 * @action: a #VtBalloonAction
 *
 * Returns: "none", "give", "reclaim", "skip" (static)
 */
const char *
vt_balloon_action_to_string(VtBalloonAction action)
{
        static const char *const names[] = {"none", "give", "reclaim", "skip"};

        if ((guint)action >= G_N_ELEMENTS(names))
                return "unknown";
        return names[action];
}

/* ---- helpers shared by the policies ---- */

/**
 * vt_balloon_guest_config_get_shares:
 * @guest_config: (nullable): a guest's configuration; NULL: the defaults
 *
 * Returns: its shares, %VT_BALLOON_DEFAULT_SHARES when it gives none
 */
guint
vt_balloon_guest_config_get_shares(const VtBalloonGuestConfig *guest_config)
{
        if (guest_config == NULL || guest_config->shares == 0)
                return VT_BALLOON_DEFAULT_SHARES;
        return guest_config->shares;
}

/**
 * vt_balloon_floor:
 * @boot_bytes: the guest's boot memory (0: unknown)
 *
 * Returns: the least the guest may be ballooned to: %VT_BALLOON_FLOOR, or
 *     its boot memory when that is smaller (a guest is never ballooned
 *     below what it booted with)
 */
guint64
vt_balloon_floor(guint64 boot_bytes)
{
        return boot_bytes != 0 ? MIN(VT_BALLOON_FLOOR, boot_bytes) : VT_BALLOON_FLOOR;
}

/**
 * vt_balloon_guest_config_check:
 * @guest_config: a guest's policy as given (configuration file, control
 *     socket, libvirt metadata)
 * @boot_bytes: the guest's boot memory when known (0: not known, as for a
 *     guest named in the configuration before it runs)
 * @ret_problem: (out) (transfer full): what is wrong, in words, when
 *     %FALSE is returned
 *
 * The one check every way of setting a guest's limits goes through: a
 * minimum or maximum under the floor (%VT_BALLOON_FLOOR, or the boot
 * memory when smaller), a minimum above the boot memory or above the
 * maximum. 0 means "not set" for both and passes.
 *
 * Returns: %TRUE when the limits are acceptable
 */
gboolean
vt_balloon_guest_config_check(const VtBalloonGuestConfig *guest_config, guint64 boot_bytes,
                              char **ret_problem)
{
        guint64 floor = vt_balloon_floor(boot_bytes);
        guint64 min, max;

        g_return_val_if_fail(guest_config != NULL && ret_problem != NULL, FALSE);

        min = guest_config->min_bytes;
        max = guest_config->max_bytes;
        if (max != 0 && max < floor) {
                *ret_problem = g_strdup_printf(
                    "max %s is below the safe floor of %s (no guest is ballooned below it)",
                    VT_SIZE_STR(max, VT_SIZE_STYLE_SHORT), VT_SIZE_STR(floor, VT_SIZE_STYLE_SHORT));
                return FALSE;
        }
        if (min != 0 && min < floor) {
                *ret_problem = g_strdup_printf(
                    "min %s is below the safe floor of %s (no guest is ballooned below it)",
                    VT_SIZE_STR(min, VT_SIZE_STYLE_SHORT), VT_SIZE_STR(floor, VT_SIZE_STYLE_SHORT));
                return FALSE;
        }
        if (min != 0 && boot_bytes != 0 && min > boot_bytes) {
                *ret_problem = g_strdup_printf("min %s is above the guest's memory, %s",
                                               VT_SIZE_STR(min, VT_SIZE_STYLE_SHORT),
                                               VT_SIZE_STR(boot_bytes, VT_SIZE_STYLE_SHORT));
                return FALSE;
        }
        if (min != 0 && max != 0 && min > max) {
                *ret_problem =
                    g_strdup_printf("min %s is above max %s", VT_SIZE_STR(min, VT_SIZE_STYLE_SHORT),
                                    VT_SIZE_STR(max, VT_SIZE_STYLE_SHORT));
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_balloon_limits_get:
 * @guest: the guest
 * @guest_config: (nullable): its configuration; NULL: the defaults
 * @config: the policy's tunables (default_min_fraction)
 * @ret_limits: (out caller-allocates): its minimum, maximum and shares
 *
 * Resolves a guest's limits (see #VtBalloonLimits). A minimum configured
 * above the maximum is taken as the maximum; a minimum or maximum under
 * the floor (which input checks already refuse) as the floor.
 */
void
vt_balloon_limits_get(const VtBalloonGuest *guest, const VtBalloonGuestConfig *guest_config,
                      const VtBalloonConfig *config, VtBalloonLimits *ret_limits)
{
        VtBalloonGuestConfig none = {0};
        const VtBalloonGuestConfig *gc = guest_config != NULL ? guest_config : &none;
        guint64 max, min, floor;

        g_return_if_fail(guest != NULL && config != NULL && ret_limits != NULL);

        floor = vt_balloon_floor(guest->max_bytes);
        max = guest->max_bytes;
        if (gc->max_bytes != 0 && gc->max_bytes < max)
                max = MAX(gc->max_bytes, floor);
        min = gc->min_bytes != 0
                  ? gc->min_bytes
                  : vt_balloon_page_up(vt_balloon_fraction(config->default_min_fraction) *
                                       (double)max);
        ret_limits->max_bytes = max;
        ret_limits->min_bytes = CLAMP(min, floor, max);
        ret_limits->shares = vt_balloon_guest_config_get_shares(gc);
}

/**
 * vt_balloon_target_set:
 * @target: the target to fill
 * @action: what to do
 * @target_bytes: the size to ask for (the current size with NONE and SKIP)
 * @want_bytes: what the guest needs (0: unknown)
 * @format: printf format of the reason
 * @...: its arguments
 */
void
vt_balloon_target_set(VtBalloonTarget *target, VtBalloonAction action, guint64 target_bytes,
                      guint64 want_bytes, const char *format, ...)
{
        va_list ap;

        g_return_if_fail(target != NULL && format != NULL);

        target->action = action;
        target->target_bytes = target_bytes;
        target->want_bytes = want_bytes;
        va_start(ap, format);
        g_vsnprintf(target->reason, sizeof(target->reason), format, ap);
        va_end(ap);
}

/* A guest held by hand: SKIP at its size, saying where it is held. The
 * size is in whole MiB, as the `set-target` that held it is logged. */
static gboolean
guest_check_held(const VtBalloonGuest *guest, const VtBalloonGuestConfig *guest_config,
                 VtBalloonTarget *ret_target)
{
        if (guest_config == NULL || !guest_config->held)
                return FALSE;
        vt_balloon_target_set(ret_target, VT_BALLOON_ACTION_SKIP, guest->actual_bytes, 0,
                              "held by hand at %s",
                              VT_SIZE_STR(guest_config->held_bytes, VT_SIZE_STYLE_MIB));
        return TRUE;
}

/**
 * vt_balloon_guest_check:
 * @guest: the guest
 * @guest_config: (nullable): its configuration
 * @ret_target: (out caller-allocates): filled with SKIP and its reason when
 *     the guest must be left alone
 *
 * The reasons every policy leaves a guest alone for, stats aside: held by
 * hand, opted out, unreachable, no balloon, a stuck balloon, its boot
 * memory or balloon size unknown (or beyond 2 EiB).
 *
 * Returns: TRUE when the guest's balloon may be moved
 */
gboolean
vt_balloon_guest_check(const VtBalloonGuest *guest, const VtBalloonGuestConfig *guest_config,
                       VtBalloonTarget *ret_target)
{
        const char *why = NULL;

        g_return_val_if_fail(guest != NULL && ret_target != NULL, FALSE);

        if (guest_check_held(guest, guest_config, ret_target))
                return FALSE;
        if (guest_config != NULL && guest_config->opt_out)
                why = "opted out";
        else if (guest->flags & VT_BALLOON_GUEST_UNREACHABLE)
                why = "unreachable";
        else if (!(guest->flags & VT_BALLOON_GUEST_HAS_BALLOON))
                why = "no balloon";
        else if (guest->flags & VT_BALLOON_GUEST_STUCK)
                why = "balloon stuck";
        else if (guest->max_bytes == 0)
                why = "boot memory unknown";
        else if (guest->actual_bytes == 0)
                why = "balloon size unknown";
        else if (guest->max_bytes > VT_BALLOON_LIMIT || guest->actual_bytes > VT_BALLOON_LIMIT)
                why = "implausible sizes";
        if (why == NULL)
                return TRUE;
        vt_balloon_target_set(ret_target, VT_BALLOON_ACTION_SKIP, guest->actual_bytes, 0, "%s",
                              why);
        return FALSE;
}

/**
 * vt_balloon_guest_check_stats:
 * @guest: the guest
 * @config: the tunables (stale_us)
 * @ret_target: (out caller-allocates): filled with SKIP and its reason when
 *     the balloon stats are missing or stale
 *
 * For the baselines, which read the balloon driver's stats (MemFree) only.
 *
 * Returns: TRUE when @guest's stats_* are valid and fresh
 */
gboolean
vt_balloon_guest_check_stats(const VtBalloonGuest *guest, const VtBalloonConfig *config,
                             VtBalloonTarget *ret_target)
{
        g_return_val_if_fail(guest != NULL && config != NULL && ret_target != NULL, FALSE);

        if (!(guest->flags & VT_BALLOON_GUEST_HAS_STATS)) {
                vt_balloon_target_set(ret_target, VT_BALLOON_ACTION_SKIP, guest->actual_bytes, 0,
                                      "no stats");
                return FALSE;
        }
        if (guest->stats_age_us > config->stale_us) {
                vt_balloon_target_set(ret_target, VT_BALLOON_ACTION_SKIP, guest->actual_bytes, 0,
                                      "stats stale (%" G_GINT64_FORMAT " s)",
                                      vt_balloon_age_s(guest->stats_age_us));
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_balloon_host_free:
 * @input: the snapshot
 * @reserve: bytes of MemAvailable kept for the host
 * @ret_reference: (out) (optional): the budget when set and smaller than
 *     MemTotal, else MemTotal
 *
 * The guests' free memory: host MemAvailable beyond @reserve and, with a
 * budget, no more than the budget minus what all guests hold.
 *
 * Returns: free bytes, within ±2 EiB; negative when the reserve or the
 *     budget is overrun
 */
gint64
vt_balloon_host_free(const VtBalloonInput *input, guint64 reserve, guint64 *ret_reference)
{
        const VtBalloonHost *host;
        gint64 free_bytes;

        g_return_val_if_fail(input != NULL && input->host != NULL, 0);

        host = input->host;
        free_bytes = vt_balloon_to_signed(MIN(host->mem_available, VT_BALLOON_LIMIT)) -
                     vt_balloon_to_signed(MIN(reserve, VT_BALLOON_LIMIT));
        if (host->budget_limit != 0) {
                gint64 held = 0;

                for (guint i = 0; i < input->n_guests; i++)
                        held = MIN(held + vt_balloon_to_signed(
                                              MIN(input->guests[i].actual_bytes, VT_BALLOON_LIMIT)),
                                   VT_BALLOON_LIMIT);
                free_bytes =
                    MIN(free_bytes,
                        vt_balloon_to_signed(MIN(host->budget_limit, VT_BALLOON_LIMIT)) - held);
        }
        free_bytes = CLAMP(free_bytes, -VT_BALLOON_LIMIT, VT_BALLOON_LIMIT);
        /* A budget above the machine's memory is no reference: 16 PiB on a
         * 24 GiB host made every figure "0.0 % of the budget", critical. */
        if (ret_reference != NULL)
                *ret_reference = host->budget_limit != 0 && (host->mem_total == 0 ||
                                                             host->budget_limit < host->mem_total)
                                     ? host->budget_limit
                                     : host->mem_total;
        return free_bytes;
}

/**
 * vt_balloon_baseline_tick:
 * @input: the snapshot
 * @state: the policy's state; state->scratch is the time of the next tick
 *     (0: now)
 * @interval_us: the baseline's period
 * @name: the baseline's name, for the reasons
 * @decision: (out caller-allocates): filled (every guest left alone) when
 *     it is not time yet
 *
 * The baselines are periodic daemons, vmtide is not: between their ticks
 * they do nothing (a guest held by hand says so, as at a tick).
 *
 * Returns: TRUE when the baseline acts now (the next tick is then set)
 */
gboolean
vt_balloon_baseline_tick(const VtBalloonInput *input, VtBalloonState *state, gint64 interval_us,
                         const char *name, VtBalloonDecision *decision)
{
        g_return_val_if_fail(input != NULL && state != NULL && decision != NULL, FALSE);

        if (state->scratch == 0 || input->now_us >= state->scratch) {
                state->scratch = input->now_us + interval_us;
                if (state->scratch == 0)
                        state->scratch = 1;
                return TRUE;
        }
        decision->host_state = state->host_state;
        decision->host_free = vt_balloon_host_free(input, 0, NULL);
        g_snprintf(decision->reason, sizeof(decision->reason),
                   "%s: %s, next tick in %" G_GINT64_FORMAT " s", name,
                   vt_host_state_to_string(state->host_state),
                   (state->scratch - input->now_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
        for (guint i = 0; i < input->n_guests; i++) {
                const VtBalloonGuestConfig *gc = input->configs != NULL ? &input->configs[i] : NULL;

                if (!guest_check_held(&input->guests[i], gc, &decision->targets[i]))
                        vt_balloon_target_set(&decision->targets[i], VT_BALLOON_ACTION_NONE,
                                              input->guests[i].actual_bytes, 0,
                                              "%s: waits for its tick", name);
        }
        return FALSE;
}

/**
 * vt_balloon_baseline_host:
 * @input: the snapshot
 * @state: the policy's state (its host state is reported)
 * @name: the baseline's name, for the reasons
 * @decision: (out caller-allocates): its host free and state are set; when
 *     the host's size is unknown, filled too (every guest left alone)
 * @ret_free: (out): the guests' free memory, bytes (no reserve: the
 *     baselines keep none)
 * @ret_total: (out): the reference it is a share of, bytes
 *
 * What a baseline's tick starts with: how much is free, and of what.
 *
 * Returns: TRUE when the host's size is known and the baseline goes on;
 *     FALSE when MemTotal is unknown and nothing moves
 */
gboolean
vt_balloon_baseline_host(const VtBalloonInput *input, const VtBalloonState *state, const char *name,
                         VtBalloonDecision *decision, gint64 *ret_free, guint64 *ret_total)
{
        guint64 total = 0;
        gint64 free_bytes;

        g_return_val_if_fail(input != NULL && state != NULL && decision != NULL, FALSE);

        free_bytes = vt_balloon_host_free(input, 0, &total);
        decision->host_free = free_bytes;
        decision->host_state = state->host_state;
        if (total == 0) {
                g_snprintf(decision->reason, sizeof(decision->reason),
                           "%s: host MemTotal unknown, nothing moves", name);
                for (guint i = 0; i < input->n_guests; i++)
                        if (vt_balloon_guest_check(&input->guests[i],
                                                   input->configs ? &input->configs[i] : NULL,
                                                   &decision->targets[i]))
                                vt_balloon_target_set(&decision->targets[i], VT_BALLOON_ACTION_NONE,
                                                      input->guests[i].actual_bytes, 0,
                                                      "%s: host MemTotal unknown", name);
                return FALSE;
        }
        *ret_free = free_bytes;
        *ret_total = total;
        return TRUE;
}

/* ---- the entry point ---- */

/* No policy sends a guest under the floor: a target there is raised to it
 * (and a move that is then no move becomes NONE). The policies' own limits
 * keep to the floor already; this holds for any policy, a new one too. */
static void
target_floor(VtBalloonTarget *target, const VtBalloonGuest *guest)
{
        guint64 floor = vt_balloon_floor(guest->max_bytes);
        char reason[sizeof(target->reason)];

        if (target->action != VT_BALLOON_ACTION_GIVE && target->action != VT_BALLOON_ACTION_RECLAIM)
                return;
        if (target->target_bytes >= floor)
                return;
        g_strlcpy(reason, target->reason, sizeof(reason));
        target->target_bytes = floor;
        if (floor == guest->actual_bytes)
                target->action = VT_BALLOON_ACTION_NONE;
        else
                target->action = floor > guest->actual_bytes ? VT_BALLOON_ACTION_GIVE
                                                             : VT_BALLOON_ACTION_RECLAIM;
        g_snprintf(target->reason, sizeof(target->reason), "%s (raised to the %s floor)", reason,
                   VT_SIZE_STR(floor, VT_SIZE_STYLE_SHORT));
}

/* Paused: a move becomes what it would have been, at the current size. */
static void
target_pause(VtBalloonTarget *target, const VtBalloonGuest *guest)
{
        char reason[sizeof(target->reason)];

        if (target->action != VT_BALLOON_ACTION_GIVE && target->action != VT_BALLOON_ACTION_RECLAIM)
                return;
        g_strlcpy(reason, target->reason, sizeof(reason));
        g_snprintf(target->reason, sizeof(target->reason), "paused; would %s: %s",
                   vt_balloon_action_to_string(target->action), reason);
        target->action = VT_BALLOON_ACTION_NONE;
        target->target_bytes = guest->actual_bytes;
}

/**
 * vt_balloon_decide:
 * @policy: the policy (vt_balloon_policy_decide(), a baseline, or one from
 *     vt_balloon_registry_lookup())
 * @input: the host and guests, `now`, and whether automation is paused
 * @config: the tunables (vt_balloon_config_init())
 * @state: carried from one decision to the next; start zeroed
 * @decision: (out caller-allocates): @decision->targets must point to
 *     @input->n_guests targets; everything else is overwritten
 *
 * Runs @policy on @input and applies the pause (theory of operation
 * above); guests held by hand are the policy's own input. The decision is
 * final: the caller applies each GIVE and RECLAIM as it stands.
 */
void
vt_balloon_decide(VtBalloonPolicyFunc policy, const VtBalloonInput *input,
                  const VtBalloonConfig *config, VtBalloonState *state, VtBalloonDecision *decision)
{
        g_return_if_fail(policy != NULL && input != NULL && decision != NULL);
        g_return_if_fail(input->n_guests == 0 ||
                         (input->guests != NULL && decision->targets != NULL));

        policy(input, config, state, decision);
        for (guint i = 0; i < input->n_guests; i++)
                target_floor(&decision->targets[i], &input->guests[i]);
        if (!input->paused)
                return;
        for (guint i = 0; i < input->n_guests; i++)
                target_pause(&decision->targets[i], &input->guests[i]);
}

/**
 * vt_balloon_guest_compressed:
 * @guest: the guest
 * @config: the tunables
 * @ret_pushed_out: (out): with IN_USE or THRASHING, what its compressed
 *     swap stands for beyond the RAM its pools take (stored uncompressed
 *     minus pools), bytes: demand to count in its want; 0 otherwise
 * @buf: receives the wording ("compressed swap thrashing: 5000 pages/s
 *     in, 300 MiB stored"), for a reason
 * @size: size of @buf
 *
 * A guest's compressed swap (zram and zswap), from a fresh agent report of
 * protocol revision 2. Its pools are RAM the guest uses: MemAvailable
 * leaves them out, so they already count in its use. What they hold is
 * demand the guest pushed out: cold when it is not read back, and then
 * the guest may be reclaimed as usual (it compresses more, at a small CPU
 * cost); wanted when it is read back.
 *
 * Returns: what the compressed swap says
 */
VtBalloonCompressed
vt_balloon_guest_compressed(const VtBalloonGuest *guest, const VtBalloonConfig *config,
                            guint64 *ret_pushed_out, char *buf, gsize size)
{
        guint64 stored, pool;
        double in = guest->agent_swap_in_per_s;
        guint32 need = VT_BALLOON_GUEST_HAS_AGENT | VT_BALLOON_GUEST_HAS_COMPRESSED |
                       VT_BALLOON_GUEST_HAS_SWAP_RATES;
        VtBalloonCompressed verdict;

        *ret_pushed_out = 0;
        buf[0] = '\0';
        if ((guest->flags & need) != need || guest->agent_age_us > config->stale_us ||
            !isfinite(in) || !(in >= 0))
                return VT_BALLOON_COMPRESSED_NONE;
        /* The agent's figures are within 16 TiB each: no overflow. */
        stored = MIN(guest->agent_zram_stored, VT_BALLOON_LIMIT) +
                 MIN(guest->agent_zswap_stored, VT_BALLOON_LIMIT);
        pool = MIN(guest->agent_zram_pool, VT_BALLOON_LIMIT) +
               MIN(guest->agent_zswap_pool, VT_BALLOON_LIMIT);
        if (stored == 0)
                return VT_BALLOON_COMPRESSED_NONE;
        if (isfinite(config->guest_swap_in_thrash) && config->guest_swap_in_thrash > 0 &&
            in >= config->guest_swap_in_thrash)
                verdict = VT_BALLOON_COMPRESSED_THRASHING;
        else if (isfinite(config->guest_swap_in_warm) && config->guest_swap_in_warm > 0 &&
                 in >= config->guest_swap_in_warm)
                verdict = VT_BALLOON_COMPRESSED_IN_USE;
        else
                return VT_BALLOON_COMPRESSED_NONE;
        *ret_pushed_out = stored > pool ? stored - pool : 0;
        g_snprintf(buf, size, "compressed swap %s: %.0f pages/s in, %s stored",
                   verdict == VT_BALLOON_COMPRESSED_THRASHING ? "thrashing" : "in use", in,
                   SZ(stored));
        return verdict;
}
