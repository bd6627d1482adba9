/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Proxmox VE baseline: pvestatd's auto-ballooning (PVE::AutoBalloon), step for step. */

/*
 * Theory of operation
 *
 * Proxmox VE's status daemon pvestatd calls auto_balloning() every 10 s
 * (PVE/Service/pvestatd.pm in https://github.com/proxmox/pve-manager, the
 * algorithm in PVE/AutoBalloon.pm, compute_alg1()):
 *
 *   memused = MemTotal - MemAvailable (PVE::ProcFSTools::read_meminfo())
 *   goal = MemTotal × 0.8 - memused        # aim at 80 % of the host used
 *   maxchange = 100 MiB                    # per guest per tick
 *   guests: balloon driver running, a balloon minimum configured, not
 *     migrating, shares != 0;
 *   idlist1 ("memory pressure"): freemem <= 0.25 × balloon_min, or balloon
 *     below balloon_min; idlist2 ("enough free"): the others;
 *   goal > 10 MiB:  grow idlist1 first; if that made no progress, all;
 *   goal < -10 MiB: shrink idlist2 first; if no progress, all;
 *   else nothing.
 *   change(list, bytes), repeated while something moves:
 *     alloc_old = Σ (balloon - balloon_min); alloc_new = alloc_old + rest
 *     desired = balloon_min + alloc_new / Σ shares × shares, within
 *       [balloon_min, maxmem]
 *     grow (bytes > 0, desired > balloon): balloon + maxchange, at most desired
 *     shrink (desired < balloon): balloon - maxchange, at least desired
 *     (balloon is the size at the start of the tick: 100 MiB a tick at most)
 *     rest -= what changed
 *
 * So the targets are a shares-weighted split of the memory between the
 * guests' minimum and maximum, whatever each guest uses: freemem (the
 * guest's MemFree, from the balloon stats) only sorts the guests into the
 * two lists. A guest that needs memory back gets at most 100 MiB per 10 s.
 *
 * Mapping onto vmtide's inputs: MemAvailable is the input's. A budget, when
 * set, is the host Proxmox sees: MemTotal is the budget and MemAvailable no
 * more than the budget minus what the guests hold (Proxmox has no budget;
 * its host would be the whole machine otherwise). balloon_min and maxmem are
 * the guest's limits (vt_balloon_limits_get()), shares its shares (1000 when
 * unset, as in Proxmox). Skipped as in the other policies: guests held by
 * hand, opted-out guests, no balloon, stuck balloons, and missing or stale balloon stats (Proxmox
 * would still move a guest without stats, sorted into idlist1). It ignores
 * the agent, PSI, pushes and settling. The change loop has a bound on its
 * rounds, which the Perl lacks. The first decision acts; then one every 10 s
 * (state->scratch).
 *
 * Pure: no I/O, no clock.
 */
#include "balloon/balloon-policy-private.h"

#define PVE_INTERVAL_US   (10 * G_USEC_PER_SEC)
#define PVE_TARGET_USE    0.8
#define PVE_MAXCHANGE     ((gint64)100 * 1024 * 1024)
#define PVE_GOAL_DEADBAND ((gint64)10 * 1024 * 1024)
#define PVE_MAX_ROUNDS    64

typedef struct {
        gint64 balloon; /* size at the start of the tick */
        gint64 min;
        gint64 max;
        gint64 shares;
        gint64 freemem;
        gboolean has_res;
        gint64 res;
} PveVm;

/* compute_alg1()'s $change_func over @ids; returns the rest. */
static gint64
pve_change(PveVm *vms, const guint *ids, guint n_ids, gint64 bytes)
{
        g_autofree gboolean *done = g_new0(gboolean, MAX(n_ids, 1));
        gint64 rest = bytes, progress = 1;
        gboolean repeat = TRUE;

        for (guint round = 0; rest != 0 && repeat && progress != 0 && round < PVE_MAX_ROUNDS;
             round++) {
                gint64 alloc_old = 0, alloc_new, changes = 0;
                double shares_total = 0;

                repeat = FALSE;
                progress = 0;
                for (guint k = 0; k < n_ids; k++) {
                        const PveVm *d = &vms[ids[k]];

                        if (done[k])
                                continue;
                        alloc_old += (d->has_res ? d->res : d->balloon) - d->min;
                        shares_total += (double)d->shares;
                }
                alloc_new = alloc_old + rest;
                for (guint k = 0; k < n_ids; k++) {
                        PveVm *d = &vms[ids[k]];
                        gint64 desired, bal, diff;

                        if (done[k] || !(shares_total > 0))
                                continue;
                        /* Perl's int() truncates toward zero, as the cast. */
                        desired = d->min +
                                  (gint64)(((double)alloc_new / shares_total) * (double)d->shares);
                        if (desired > d->max) {
                                desired = d->max;
                                repeat = TRUE;
                        } else if (desired < d->min) {
                                desired = d->min;
                                repeat = TRUE;
                        }
                        if (bytes > 0 && desired - d->balloon > 0) {
                                gint64 grown = d->balloon + PVE_MAXCHANGE;

                                bal = grown > desired ? desired : grown;
                        } else if (desired - d->balloon < 0) {
                                gint64 shrunk = d->balloon - PVE_MAXCHANGE;

                                bal = shrunk > desired ? shrunk : desired;
                        } else {
                                done[k] = TRUE;
                                continue;
                        }
                        diff = bal - d->balloon;
                        if (diff != 0) {
                                gint64 old = d->has_res ? d->res : d->balloon;
                                gint64 change = bal - old;

                                d->res = bal;
                                d->has_res = TRUE;
                                if (change != 0) {
                                        changes += change;
                                        progress += diff > 0 ? diff : -diff;
                                        repeat = TRUE;
                                }
                        }
                }
                rest -= changes;
        }
        return rest;
}

/* The guests compute_alg1() moves, sorted into its two lists. */
typedef struct {
        PveVm *vms; /* one per guest; only those in @all are set */
        guint *all, *pressure, *enough;
        guint n_all, n_pressure, n_enough;
} PveLists;

static void
pve_lists_free(PveLists *lists)
{
        g_free(lists->vms);
        g_free(lists->all);
        g_free(lists->pressure);
        g_free(lists->enough);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PveLists, pve_lists_free)

/* Reads the guests that may move into @lists (the others get their SKIP
 * target), each with the target "no change" until it changes. */
static void
pve_lists_fill(PveLists *lists, const VtBalloonInput *input, const VtBalloonConfig *config,
               VtBalloonDecision *decision)
{
        guint n = input->n_guests;

        lists->vms = g_new0(PveVm, MAX(n, 1));
        lists->all = g_new0(guint, MAX(n, 1));
        lists->pressure = g_new0(guint, MAX(n, 1));
        lists->enough = g_new0(guint, MAX(n, 1));
        for (guint i = 0; i < n; i++) {
                const VtBalloonGuest *g = &input->guests[i];
                const VtBalloonGuestConfig *gc = input->configs != NULL ? &input->configs[i] : NULL;
                VtBalloonLimits limits;
                PveVm *d = &lists->vms[i];

                if (!vt_balloon_guest_check(g, gc, &decision->targets[i]) ||
                    !vt_balloon_guest_check_stats(g, config, &decision->targets[i]))
                        continue;
                vt_balloon_limits_get(g, gc, config, &limits);
                d->balloon = (gint64)MIN(g->actual_bytes, (guint64)G_MAXINT64 / 4);
                d->min = (gint64)limits.min_bytes;
                d->max = (gint64)limits.max_bytes;
                d->shares = limits.shares;
                d->freemem = (gint64)MIN(g->stats_free, (guint64)G_MAXINT64 / 4);
                lists->all[lists->n_all++] = i;
                if (d->freemem != 0 && (double)d->freemem > (double)d->min * 0.25 &&
                    d->balloon >= d->min)
                        lists->enough[lists->n_enough++] = i;
                else
                        lists->pressure[lists->n_pressure++] = i;
                vt_balloon_target_set(&decision->targets[i], VT_BALLOON_ACTION_NONE,
                                      g->actual_bytes, 0, "proxmox: no change");
        }
}

/* compute_alg1() towards @goal; returns the host state it stands for and
 * sets @ret_what to what it did, for the reason. */
static VtHostState
pve_balance(PveLists *lists, gint64 goal, const char **ret_what)
{
        if (goal > PVE_GOAL_DEADBAND) {
                gint64 rest = pve_change(lists->vms, lists->pressure, lists->n_pressure, goal);

                if (rest >= goal)
                        pve_change(lists->vms, lists->all, lists->n_all, rest);
                *ret_what = "grow by";
                return VT_HOST_STATE_PLENTY;
        }
        if (goal < -PVE_GOAL_DEADBAND) {
                gint64 rest = pve_change(lists->vms, lists->enough, lists->n_enough, goal);

                if (rest <= goal)
                        pve_change(lists->vms, lists->all, lists->n_all, rest);
                *ret_what = "shrink by";
                return VT_HOST_STATE_TIGHT;
        }
        *ret_what = "within 10 MiB, nothing to do: off by";
        return VT_HOST_STATE_PLENTY;
}

/* The moves compute_alg1() settled on, as targets. */
static void
pve_targets_set(const PveLists *lists, const VtBalloonInput *input, VtBalloonDecision *decision)
{
        for (guint k = 0; k < lists->n_all; k++) {
                guint i = lists->all[k];
                const PveVm *d = &lists->vms[i];
                const VtBalloonGuest *g = &input->guests[i];
                gint64 res = CLAMP(d->res, d->min, d->max); /* a guest above its max */

                if (!d->has_res || d->res <= 0 || res == d->balloon)
                        continue;
                vt_balloon_target_set(
                    &decision->targets[i],
                    res > d->balloon ? VT_BALLOON_ACTION_GIVE : VT_BALLOON_ACTION_RECLAIM,
                    (guint64)res, 0,
                    "proxmox: %s %s -> %s (shares %" G_GINT64_FORMAT ", at most 100 MiB a tick)",
                    res > d->balloon ? "grow" : "shrink", SZ(g->actual_bytes), SZ(res), d->shares);
        }
}

/**
 * vt_balloon_policy_proxmox_decide:
 * @input: the host and guests, and `now`
 * @config: the tunables; Proxmox uses only default_min_fraction (the
 *     guests' minimum) and stale_us
 * @state: carried between calls; start zeroed
 * @decision: (out caller-allocates): @decision->targets must point to
 *     @input->n_guests targets
 *
 * pvestatd's auto-ballooning, once every 10 s (theory of operation above).
 * Run it through vt_balloon_decide(), which applies the pause.
 */
void
vt_balloon_policy_proxmox_decide(const VtBalloonInput *input, const VtBalloonConfig *config,
                                 VtBalloonState *state, VtBalloonDecision *decision)
{
        g_auto(PveLists) lists = {0};
        guint64 total;
        gint64 free_bytes, memused, goal;
        VtHostState hs;
        const char *what;

        g_return_if_fail(input != NULL && input->host != NULL && config != NULL);
        g_return_if_fail(state != NULL && decision != NULL);
        g_return_if_fail(input->n_guests == 0 ||
                         (input->guests != NULL && decision->targets != NULL));

        decision->reason[0] = '\0';
        if (!vt_balloon_baseline_tick(input, state, PVE_INTERVAL_US, "proxmox", decision))
                return;

        if (!vt_balloon_baseline_host(input, state, "proxmox", decision, &free_bytes, &total))
                return;
        total = MIN(total, (guint64)G_MAXINT64 / 2);
        memused = (gint64)total - free_bytes;
        goal = (gint64)((double)total * PVE_TARGET_USE - (double)memused);

        pve_lists_fill(&lists, input, config, decision);
        hs = pve_balance(&lists, goal, &what);
        if (hs != state->host_state || state->host_state_since_us == 0)
                state->host_state_since_us = input->now_us;
        state->host_state = hs;
        decision->host_state = hs;
        g_snprintf(decision->reason, sizeof(decision->reason),
                   "proxmox: host use %.1f %% of %s, goal 80 %%: %s %s",
                   100.0 * (double)memused / (double)total, SZ(total), what,
                   SZ(goal < 0 ? -goal : goal));
        pve_targets_set(&lists, input, decision);
}
