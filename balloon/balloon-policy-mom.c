/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The oVirt MoM baseline: its default balloon rules, step for step. */

/*
 * Theory of operation
 *
 * oVirt's Memory Overcommitment Manager (MoM, Adam Litke, IBM/Red Hat; the
 * policy vdsm ships, doc/balloon.rules in https://github.com/oVirt/mom)
 * evaluates a Lisp-like rule file every policy-engine-interval (10 s). Its
 * constants:
 *
 *   pressure_threshold 0.20   pressure_critical 0.05
 *   min_guest_free_percent 0.20
 *   max_balloon_change_percent 0.05   min_balloon_change_percent 0.0025
 *
 *   host_free_percent = Host.mem_free / Host.mem_available
 *   (mem_free is MemFree + Buffers + Cached, mem_available is MemTotal)
 *   if host_free_percent < pressure_threshold: shrink every guest, else grow
 *   every guest.
 *
 *   used = balloon_cur - mem_unused          (mem_unused: the guest's MemFree)
 *   change_big_enough(new) = |new - cur| > min_balloon_change_percent × cur
 *
 *   shrink: guest_free_percent = host_free_percent - 0.05 when
 *             host_free_percent <= pressure_critical ("force the guest to
 *             swap"), else min_guest_free_percent × host_free_percent /
 *             pressure_threshold;
 *           floor = max(balloon_min, used + guest_free_percent × cur);
 *           size = max(cur × (1 - max_balloon_change_percent), floor);
 *           set it if size <= cur and change_big_enough.
 *   grow:   only if cur < balloon_max;
 *           floor = max(balloon_min, used + min_guest_free_percent × cur);
 *           size = cur × (1 + max_balloon_change_percent), at least floor,
 *           at most balloon_max; set it if change_big_enough.
 *
 * So critical pressure does not take bigger steps: it keeps the 5 % step
 * and lowers the floor under what the guest uses. And "used" counts the
 * guest's page cache (MemFree excludes it): a guest full of cache looks
 * full, so MoM will not shrink it and grows it when the host has room,
 * while a guest whose cache is large but droppable is exactly the one to
 * reclaim. When the host is not under pressure every guest below its
 * maximum grows 5 % a tick, whether it needs it or not.
 *
 * Mapping onto vmtide's inputs: MoM averages the last samples (StatAvg over
 * sample-history-length); this takes the current ones. Host mem_free is
 * host MemAvailable (the input has no MemFree + Buffers + Cached; both count
 * the page cache as free). A budget, when set, is the host MoM sees: its
 * MemTotal is the budget and its free memory no more than the budget minus
 * what the guests hold (MoM itself knows no budget; without this it would
 * not be comparable). balloon_min and balloon_max are the guest's limits
 * (vt_balloon_limits_get()). MoM reads the balloon driver's stats only:
 * a guest without fresh stats is skipped, as are guests held by hand,
 * opted-out guests, guests without a balloon and stuck balloons; it ignores the agent, PSI, pushes,
 * shares and settling. The first decision acts; then one every 10 s
 * (state->scratch).
 *
 * Pure: no I/O, no clock.
 */
#include "balloon/balloon-policy-private.h"

#define MOM_INTERVAL_US                (10 * G_USEC_PER_SEC)
#define MOM_PRESSURE_THRESHOLD         0.20
#define MOM_PRESSURE_CRITICAL          0.05
#define MOM_MIN_GUEST_FREE_PERCENT     0.20
#define MOM_MAX_BALLOON_CHANGE_PERCENT 0.05
#define MOM_MIN_BALLOON_CHANGE_PERCENT 0.0025

/* A size MoM computed (a double) as a balloon target: whole KiB, as MoM's
 * kB figures, within [min, max]. */
static guint64
mom_bytes(double size, const VtBalloonLimits *limits)
{
        guint64 b = size > 0 ? (guint64)size / 1024 * 1024 : 0;

        return CLAMP(b, limits->min_bytes, limits->max_bytes);
}

static gboolean
change_big_enough(double cur, double size)
{
        double d = size > cur ? size - cur : cur - size;

        return d > MOM_MIN_BALLOON_CHANGE_PERCENT * cur;
}

static void
mom_shrink(const VtBalloonGuest *g, const VtBalloonLimits *limits, double host_free_percent,
           VtBalloonTarget *t)
{
        double cur = (double)g->actual_bytes;
        double used = cur - (double)g->stats_free;
        double guest_free_percent, floor, size;

        if (host_free_percent <= MOM_PRESSURE_CRITICAL)
                guest_free_percent = -0.05 + host_free_percent;
        else
                guest_free_percent =
                    MOM_MIN_GUEST_FREE_PERCENT * (host_free_percent / MOM_PRESSURE_THRESHOLD);
        floor = MAX((double)limits->min_bytes, used + guest_free_percent * cur);
        size = cur * (1 - MOM_MAX_BALLOON_CHANGE_PERCENT);
        if (size < floor)
                size = floor;
        if (size <= cur && change_big_enough(cur, size) &&
            mom_bytes(size, limits) < g->actual_bytes)
                vt_balloon_target_set(t, VT_BALLOON_ACTION_RECLAIM, mom_bytes(size, limits), 0,
                                      "mom: shrink %s -> %s (used %s by MemFree, keep %.0f %% "
                                      "free)",
                                      SZ(cur), SZ(mom_bytes(size, limits)), SZ(used),
                                      guest_free_percent * 100);
        else
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, g->actual_bytes, 0,
                                      "mom: no shrink: used %s by MemFree + %.0f %% free is %s",
                                      SZ(used), guest_free_percent * 100, SZ(floor));
}

static void
mom_grow(const VtBalloonGuest *g, const VtBalloonLimits *limits, VtBalloonTarget *t)
{
        double cur = (double)g->actual_bytes;
        double max = (double)limits->max_bytes;
        double used = cur - (double)g->stats_free;
        double floor, size;

        if (!(cur < max)) {
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, g->actual_bytes, 0,
                                      "mom: at its maximum %s", SZ(max));
                return;
        }
        floor = MAX((double)limits->min_bytes, used + MOM_MIN_GUEST_FREE_PERCENT * cur);
        size = cur * (1 + MOM_MAX_BALLOON_CHANGE_PERCENT);
        if (size < floor)
                size = floor;
        if (size > max)
                size = max;
        if (change_big_enough(cur, size) && mom_bytes(size, limits) > g->actual_bytes)
                vt_balloon_target_set(t, VT_BALLOON_ACTION_GIVE, mom_bytes(size, limits), 0,
                                      "mom: grow %s -> %s (%s)", SZ(cur),
                                      SZ(mom_bytes(size, limits)),
                                      size > cur * (1 + MOM_MAX_BALLOON_CHANGE_PERCENT)
                                          ? "to used by MemFree + 20 % free"
                                          : "5 % a tick");
        else
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, g->actual_bytes, 0,
                                      "mom: change under %.2f %%",
                                      MOM_MIN_BALLOON_CHANGE_PERCENT * 100);
}

/**
 * vt_balloon_policy_mom_decide:
 * @input: the host and guests, and `now`
 * @config: the tunables; MoM uses only default_min_fraction (the guests'
 *     minimum) and stale_us
 * @state: carried between calls; start zeroed
 * @decision: (out caller-allocates): @decision->targets must point to
 *     @input->n_guests targets
 *
 * MoM's default balloon rules, once every 10 s (theory of operation above).
 * Run it through vt_balloon_decide(), which applies the pause.
 */
void
vt_balloon_policy_mom_decide(const VtBalloonInput *input, const VtBalloonConfig *config,
                             VtBalloonState *state, VtBalloonDecision *decision)
{
        guint64 total;
        gint64 free_bytes;
        double host_free_percent;
        VtHostState hs;
        gboolean shrink;

        g_return_if_fail(input != NULL && input->host != NULL && config != NULL);
        g_return_if_fail(state != NULL && decision != NULL);
        g_return_if_fail(input->n_guests == 0 ||
                         (input->guests != NULL && decision->targets != NULL));

        decision->reason[0] = '\0';
        if (!vt_balloon_baseline_tick(input, state, MOM_INTERVAL_US, "mom", decision))
                return;

        if (!vt_balloon_baseline_host(input, state, "mom", decision, &free_bytes, &total))
                return;
        host_free_percent = (double)free_bytes / (double)total;
        shrink = host_free_percent < MOM_PRESSURE_THRESHOLD;
        if (!shrink)
                hs = VT_HOST_STATE_PLENTY;
        else if (host_free_percent <= MOM_PRESSURE_CRITICAL)
                hs = VT_HOST_STATE_CRITICAL;
        else
                hs = VT_HOST_STATE_TIGHT;
        if (hs != state->host_state || state->host_state_since_us == 0)
                state->host_state_since_us = input->now_us;
        state->host_state = hs;
        decision->host_state = hs;
        g_snprintf(decision->reason, sizeof(decision->reason),
                   "mom: host free %.1f %% %s %.0f %%%s: %s", host_free_percent * 100,
                   shrink ? "<" : ">=", MOM_PRESSURE_THRESHOLD * 100,
                   hs == VT_HOST_STATE_CRITICAL ? " (critical)" : "",
                   shrink ? "shrink every guest" : "grow every guest");

        for (guint i = 0; i < input->n_guests; i++) {
                const VtBalloonGuest *g = &input->guests[i];
                const VtBalloonGuestConfig *gc = input->configs != NULL ? &input->configs[i] : NULL;
                VtBalloonTarget *t = &decision->targets[i];
                VtBalloonLimits limits;

                if (!vt_balloon_guest_check(g, gc, t) ||
                    !vt_balloon_guest_check_stats(g, config, t))
                        continue;
                vt_balloon_limits_get(g, gc, config, &limits);
                if (shrink)
                        mom_shrink(g, &limits, host_free_percent, t);
                else
                        mom_grow(g, &limits, t);
        }
}
