/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtide's balloon policy: give at once to a guest in need, reclaim only what the host needs. */

/*
 * Theory of operation
 *
 * Need is judged on what a guest has *available* (MemAvailable: free memory
 * plus the page cache it can drop), never on MemFree, which counts the page
 * cache as used. The agent's figure counts when its report is fresh, the
 * balloon driver's `stat-available-memory` otherwise; a guest with neither
 * fresh is left alone. For each guest:
 *
 *   used     = actual - available
 *   headroom = max(guest_headroom_fraction × max, guest_headroom_min)
 *   want     = used + headroom, clamped to [min, max]
 *
 * Compressed swap (zram, zswap; docs/balloon.md, "Compressed memory"): its
 * pools are in used already (MemAvailable leaves them out). While the guest
 * reads it back at guest_swap_in_warm or more, what it holds beyond its
 * pools counts in want too; at guest_swap_in_thrash or more the guest is
 * under pressure. Idle, it changes nothing: cold data may stay compressed.
 *
 * The host. The guests' free memory is host MemAvailable beyond
 * host_reserve, and, with a budget, no more than the budget minus what all
 * guests hold (skipped ones too: they hold it all the same). Measured
 * against a reference (the budget when set, else MemTotal) it gives a state:
 *
 *   free >= plenty_fraction        PLENTY    guests get back what they want
 *   free >= tight_fraction         TIGHT     spare memory reclaimed in small steps
 *   free >= short_fraction         SHORT     larger steps
 *   below                          CRITICAL  the largest steps
 *
 * A state gets worse as soon as free falls under its line, and better only
 * once free passes the better state's line by hysteresis_fraction. Host PSI
 * some >= psi_short makes it at least SHORT, PSI full >= psi_critical
 * CRITICAL, swap-in at or above swap_in_tight at least TIGHT. These act at
 * once, and while they make the state worse than free memory does, each
 * spare guest gives one step even though free looks ample: the stalls say
 * the figure misleads (a cgroup limit, fragmentation, KSM not keeping up).
 * The way back is by the lines, with the hysteresis.
 *
 * The guests, in this order of precedence:
 *   - skipped: held by hand, opted out, no balloon, stuck, stale or no stats;
 *   - under pressure (the agent pushed, its PSI some avg10 >=
 *     guest_pressure_psi, or available < guest_low_fraction of actual; while
 *     a reclaim of the guest moves or settles, a push counts only with less
 *     than its headroom available, as the agent also pushes when a balloon
 *     inflating lowers its MemAvailable, and a reclaim stops at want):
 *     given its maximum in one step, at once, whatever settle_us and
 *     min_change say. It draws on the guests' free memory above the
 *     critical line (short_fraction) and, when that is not enough, on memory
 *     reclaimed from spare guests in the same decision (the deflation is
 *     immediate while the inflation takes a moment: a brief overcommit, paid
 *     back within the second). Several compete by shares. A move to the
 *     same size still in flight is not asked for again;
 *   - settling (a move not confirmed, or one made less than settle_us
 *     ago): left alone, so that the balloon and the stats catch up;
 *   - above its maximum: brought down to it; below its minimum: brought up
 *     to what it wants, like a guest under pressure;
 *   - needy (want > actual): given what it wants from the free memory above
 *     the plenty line only, so a give never makes the host tight; several
 *     share it by shares, each capped at its need;
 *   - spare (actual > want): reclaimed only when the host is not PLENTY,
 *     at most step_fraction[state] × max per decision, never below want, and
 *     only as much in all as brings free back above the plenty line plus the
 *     hysteresis (plus what guests under pressure need). The amount is spread
 *     in proportion to spare / shares: fewer shares give more.
 * Changes under min_change are not made, except for pressure and to
 * restore the limits (a reclaim slice that would be smaller goes to the
 * other spare guests, or is rounded up to min_change when one guest can
 * give that much).
 *
 * Why it cannot oscillate. With the guests' use constant, want is
 * constant. A reclaim stops at want, in every state; a give (pressure
 * aside) stops at want; so each balloon moves monotonically towards want and
 * a guest reclaimed is never needy afterwards. Gives come only out of free
 * memory above the plenty line, so they cannot make the host tight; a
 * reclaim stops once free is back above the plenty line plus the
 * hysteresis, so it cannot overshoot into a give either. A guest at want has
 * headroom >= 15 % of its maximum available, three times the low-available
 * pressure line, so a reclaim cannot put it under pressure (the floor is
 * raised for configurations where it could). settle_us spaces the moves of
 * each guest and min_change drops the dust. Only a change in the input (a
 * guest's use, the host's other memory, a pressure signal) moves anything.
 *
 * Even CRITICAL does not reclaim below want: the steps grow, but a guest's
 * working set plus its headroom is what it needs to run without swapping,
 * and squeezing it would only trade host pressure for guest pressure (and a
 * give back later: the oscillation above). Beyond that, the migration
 * planner has to act.
 *
 * Pure: no I/O, no clock; `now` comes in the input.
 */
#include "balloon/balloon-policy-private.h"

/* ---- sharing memory out ---- */

/* One guest's part in a give or a reclaim. */
typedef struct {
        double weight;
        double weight0; /* before portions_fill_min() excluded it */
        guint64 cap;
        guint64 amount;
} Portion;

/* Hands @total out in proportion to the weights, none past its cap, what
 * a capped portion cannot take going to the others (water-filling).
 * Slices are whole pages; what rounding them down leaves goes, rounded
 * up to a page, to the first portion with room, so up to a page more than
 * @total may be handed out; a whole cap is given exactly. Returns what was
 * handed out. */
static guint64
portions_fill(Portion *p, guint n, guint64 total)
{
        guint64 left = total, given = 0;

        for (guint i = 0; i < n; i++)
                p[i].amount = 0;
        for (guint round = 0; round <= n && left > 0; round++) {
                double wsum = 0, snap = (double)left;
                gboolean capped = FALSE;

                for (guint i = 0; i < n; i++)
                        if (p[i].weight > 0 && p[i].amount < p[i].cap)
                                wsum += p[i].weight;
                if (!(wsum > 0))
                        break;
                /* Those whose fair slice reaches their cap take their cap
                 * first; the rest is shared again among the others. */
                for (guint i = 0; i < n; i++) {
                        if (!(p[i].weight > 0) || p[i].amount >= p[i].cap)
                                continue;
                        if (snap * p[i].weight / wsum >= (double)(p[i].cap - p[i].amount)) {
                                guint64 take = MIN(p[i].cap - p[i].amount, left);

                                p[i].amount += take;
                                left -= take;
                                given += take;
                                capped = TRUE;
                        }
                }
                if (capped)
                        continue;
                for (guint i = 0; i < n; i++) {
                        guint64 slice;

                        if (!(p[i].weight > 0) || p[i].amount >= p[i].cap)
                                continue;
                        slice = (guint64)(snap * p[i].weight / wsum) / VT_BALLOON_PAGE_SIZE *
                                VT_BALLOON_PAGE_SIZE;
                        slice = MIN(slice, MIN(p[i].cap - p[i].amount, left));
                        p[i].amount += slice;
                        left -= slice;
                        given += slice;
                }
                /* What the page rounding left (under a page per portion):
                 * to the first with room, a whole page (less than a page
                 * over @total, so that a reclaim does reach its goal). */
                for (guint i = 0; i < n && left > 0; i++) {
                        guint64 take;

                        if (!(p[i].weight > 0) || p[i].amount >= p[i].cap)
                                continue;
                        take = MIN(p[i].cap - p[i].amount, (left + VT_BALLOON_PAGE_SIZE - 1) /
                                                               VT_BALLOON_PAGE_SIZE *
                                                               VT_BALLOON_PAGE_SIZE);
                        p[i].amount += take;
                        given += take;
                        left -= MIN(take, left);
                }
                break;
        }
        return given;
}

/* portions_fill(), without slices under @min_change: the smallest such
 * slice is dropped and the rest shared again. When no slice is left, the
 * portion of the largest weight that can take @min_change takes it all:
 * rounded up to @min_change if @round_up, else only if @total reaches it. */
static guint64
portions_fill_min(Portion *p, guint n, guint64 total, guint64 min_change, gboolean round_up)
{
        gboolean dropped = FALSE;
        gint best = -1;

        for (guint i = 0; i < n; i++)
                p[i].weight0 = p[i].weight;
        for (;;) {
                guint64 given = portions_fill(p, n, total);
                gint small = -1;

                for (guint i = 0; i < n; i++)
                        if (p[i].amount > 0 && p[i].amount < min_change &&
                            (small < 0 || p[i].amount < p[small].amount))
                                small = (gint)i;
                if (small < 0 && (given > 0 || !dropped))
                        return given;
                if (small < 0)
                        break;
                p[small].weight = 0;
                dropped = TRUE;
        }
        for (guint i = 0; i < n; i++) {
                p[i].amount = 0;
                if (p[i].weight0 > 0 && p[i].cap >= min_change &&
                    (best < 0 || p[i].weight0 > p[best].weight0))
                        best = (gint)i;
        }
        if (best < 0 || total == 0 || (!round_up && total < min_change))
                return 0;
        p[best].amount = MIN(p[best].cap, MAX(total, min_change));
        return p[best].amount;
}

/* ---- vmtide's policy ---- */

typedef enum {
        CLASS_SKIP,
        CLASS_FINE,     /* has what it wants, or at its maximum under pressure */
        CLASS_SETTLING, /* a move in flight or just made */
        CLASS_PRIORITY, /* under pressure, or below its minimum */
        CLASS_ABOVE,    /* above its maximum */
        CLASS_NEEDY,    /* wants more than it has */
        CLASS_SPARE,    /* has more than it wants */
} GuestClass;

typedef struct {
        GuestClass cls;
        VtBalloonLimits limits;
        guint64 available;
        guint64 used;
        guint64 want;
        guint64 floor;        /* reclaim never below */
        guint64 need;         /* PRIORITY, NEEDY: bytes to give */
        guint64 spare;        /* SPARE: actual - floor */
        const char *pressure; /* why it is under pressure, or NULL */
        char pressure_buf[64];
        VtBalloonCompressed compressed;
        char compressed_buf[80];
        Portion portion;
} GuestPlan;

/* The host, as judged for this decision. */
typedef struct {
        guint64 reference;
        gint64 free;
        gint64 line[VT_HOST_STATE_MAX]; /* free under line[s] is worse than s */
        gint64 hysteresis;
} HostView;

static gint64
fraction_of(double f, guint64 reference)
{
        return (gint64)(vt_balloon_fraction(f) * (double)reference);
}

static double
percent(gint64 v, guint64 reference)
{
        return reference > 0 ? 100.0 * (double)v / (double)reference : 0.0;
}

/* Judges the host state, with hysteresis, and says why. */
static VtHostState
host_judge(const VtBalloonHost *host, const VtBalloonConfig *config, const HostView *view,
           VtHostState prev, gboolean *ret_forced, char *reason, gsize reason_len)
{
        VtHostState raw = VT_HOST_STATE_PLENTY, by_free, s;
        const char *of = host->budget_limit != 0 &&
                                 (host->mem_total == 0 || host->budget_limit < host->mem_total)
                             ? "the budget"
                             : "MemTotal";
        double psi_some = host->psi_some_avg10, psi_full = host->psi_full_avg10;
        double swap_in = host->swap_in_per_s;
        double swap_tight = isfinite(config->swap_in_tight) && config->swap_in_tight > 0
                                ? config->swap_in_tight
                                : G_MAXDOUBLE;

        while (raw < VT_HOST_STATE_CRITICAL && view->free < view->line[raw])
                raw++;
        by_free = raw >= prev ? raw : prev;
        while (by_free > raw && view->free >= view->line[by_free - 1] + view->hysteresis)
                by_free--;
        s = by_free;
        *ret_forced = TRUE;

        if (isfinite(psi_full) && psi_full >= 0 && isfinite(config->psi_critical) &&
            psi_full >= config->psi_critical && s < VT_HOST_STATE_CRITICAL) {
                g_snprintf(reason, reason_len,
                           "critical: host memory PSI full %.1f %% >= %.1f %% (guest free %s, "
                           "%.1f %% of %s)",
                           psi_full, config->psi_critical, SZ(view->free),
                           percent(view->free, view->reference), of);
                return VT_HOST_STATE_CRITICAL;
        }
        if (isfinite(psi_some) && psi_some >= 0 && isfinite(config->psi_short) &&
            psi_some >= config->psi_short && s < VT_HOST_STATE_SHORT) {
                g_snprintf(reason, reason_len,
                           "short: host memory PSI some %.1f %% >= %.1f %% (guest free %s, "
                           "%.1f %% of %s)",
                           psi_some, config->psi_short, SZ(view->free),
                           percent(view->free, view->reference), of);
                return VT_HOST_STATE_SHORT;
        }
        if (isfinite(swap_in) && swap_in >= swap_tight && s < VT_HOST_STATE_TIGHT) {
                g_snprintf(reason, reason_len,
                           "tight: host swapping in %.0f pages/s >= %.0f (guest free %s, "
                           "%.1f %% of %s)",
                           swap_in, swap_tight, SZ(view->free),
                           percent(view->free, view->reference), of);
                return VT_HOST_STATE_TIGHT;
        }
        *ret_forced = FALSE;
        if (s > raw) {
                g_snprintf(reason, reason_len,
                           "%s: guest free %s, %.1f %% of %s, back to %s at %.0f %%",
                           vt_host_state_to_string(s), SZ(view->free),
                           percent(view->free, view->reference), of, vt_host_state_to_string(s - 1),
                           percent(view->line[s - 1] + view->hysteresis, view->reference));
        } else if (s == VT_HOST_STATE_PLENTY) {
                g_snprintf(reason, reason_len, "plenty: guest free %s, %.1f %% of %s >= %.0f %%",
                           SZ(view->free), percent(view->free, view->reference), of,
                           percent(view->line[VT_HOST_STATE_PLENTY], view->reference));
        } else {
                g_snprintf(reason, reason_len, "%s: guest free %s, %.1f %% of %s < %.0f %%",
                           vt_host_state_to_string(s), SZ(view->free),
                           percent(view->free, view->reference), of,
                           percent(view->line[s - 1], view->reference));
        }
        return s;
}

/* What a guest has available, from the freshest source; FALSE with a
 * SKIP target when neither is fresh. */
static gboolean
guest_available(const VtBalloonGuest *g, const VtBalloonConfig *config, guint64 *ret_available,
                VtBalloonTarget *target)
{
        gboolean agent = (g->flags & VT_BALLOON_GUEST_HAS_AGENT) != 0;
        gboolean stats = (g->flags & VT_BALLOON_GUEST_HAS_STATS) != 0;
        gint64 age = G_MAXINT64;

        if (agent && g->agent_age_us <= config->stale_us) {
                *ret_available = g->agent_mem_available;
                return TRUE;
        }
        if (stats && g->stats_age_us <= config->stale_us && g->stats_available > 0) {
                *ret_available = g->stats_available;
                return TRUE;
        }
        if (agent)
                age = g->agent_age_us;
        if (stats && g->stats_age_us > config->stale_us)
                age = MIN(age, g->stats_age_us);
        if (age != G_MAXINT64)
                vt_balloon_target_set(target, VT_BALLOON_ACTION_SKIP, g->actual_bytes, 0,
                                      "stats stale (%" G_GINT64_FORMAT " s)",
                                      vt_balloon_age_s(age));
        else if (stats)
                vt_balloon_target_set(target, VT_BALLOON_ACTION_SKIP, g->actual_bytes, 0,
                                      "no MemAvailable in the balloon stats, no agent");
        else
                vt_balloon_target_set(target, VT_BALLOON_ACTION_SKIP, g->actual_bytes, 0,
                                      "no stats");
        return FALSE;
}

/* Sizes up one guest: limits, use, want, pressure, class. */
static void
guest_plan(const VtBalloonInput *input, guint i, const VtBalloonConfig *config, GuestPlan *p,
           VtBalloonTarget *target)
{
        const VtBalloonGuest *g = &input->guests[i];
        const VtBalloonGuestConfig *gc = input->configs != NULL ? &input->configs[i] : NULL;
        guint64 actual = g->actual_bytes, headroom, guard, pushed_out;
        double low = vt_balloon_fraction(config->guest_low_fraction);
        double psi = g->agent_psi_some_avg10;
        gint64 since = input->now_us - g->last_change_us;
        gboolean reclaiming = (g->flags & VT_BALLOON_GUEST_LAST_RECLAIM) &&
                              ((g->flags & VT_BALLOON_GUEST_MOVING) ||
                               (g->last_change_us != 0 && since < config->settle_us));

        p->cls = CLASS_SKIP;
        if (!vt_balloon_guest_check(g, gc, target) ||
            !guest_available(g, config, &p->available, target))
                return;
        vt_balloon_limits_get(g, gc, config, &p->limits);

        /* Sizes are within VT_BALLOON_LIMIT (vt_balloon_guest_check()): no overflow. */
        headroom = MAX(vt_balloon_page_up(vt_balloon_fraction(config->guest_headroom_fraction) *
                                          (double)p->limits.max_bytes),
                       MIN(config->guest_headroom_min, VT_BALLOON_LIMIT));
        p->used = actual - MIN(p->available, actual);
        /* Compressed swap read back: what it stands for is demand. */
        p->compressed = vt_balloon_guest_compressed(g, config, &pushed_out, p->compressed_buf,
                                                    sizeof(p->compressed_buf));
        p->want = CLAMP(p->used + pushed_out + headroom, p->limits.min_bytes, p->limits.max_bytes);
        /* Never reclaim a guest into the low-available pressure line
         * (only matters for configurations with a headroom under it). */
        guard = low < 0.5 ? vt_balloon_page_up((double)p->used / (1.0 - low)) + VT_BALLOON_PAGE_SIZE
                          : p->want;
        p->floor = MAX(p->want, MIN(guard, p->limits.max_bytes));

        /* A push is pressure: the guest's use grows fast, or a PSI
         * trigger fired. But inflating a balloon makes the agent push too
         * (its MemAvailable drops): while a reclaim is moving or settling,
         * a push counts only once the guest is into its headroom, which a
         * reclaim alone never takes (it stops at want = use + headroom). */
        if ((g->flags & VT_BALLOON_GUEST_PRESSURE_PUSH) &&
            (!reclaiming || p->available < headroom)) {
                p->pressure = "agent push";
        } else if ((g->flags & VT_BALLOON_GUEST_HAS_AGENT) && g->agent_age_us <= config->stale_us &&
                   isfinite(psi) && psi >= 0 && isfinite(config->guest_pressure_psi) &&
                   psi >= config->guest_pressure_psi) {
                g_snprintf(p->pressure_buf, sizeof(p->pressure_buf), "PSI some %.1f %%", psi);
                p->pressure = p->pressure_buf;
        } else if (p->compressed == VT_BALLOON_COMPRESSED_THRASHING) {
                p->pressure = p->compressed_buf;
        } else if ((double)p->available < low * (double)actual) {
                g_snprintf(p->pressure_buf, sizeof(p->pressure_buf), "available %s < %.0f %% of %s",
                           SZ(p->available), low * 100, SZ(actual));
                p->pressure = p->pressure_buf;
        }

        if (p->pressure != NULL) {
                p->cls = actual < p->limits.max_bytes ? CLASS_PRIORITY : CLASS_FINE;
                p->need = actual < p->limits.max_bytes ? p->limits.max_bytes - actual : 0;
        } else if ((g->flags & VT_BALLOON_GUEST_MOVING) ||
                   (g->last_change_us != 0 && since < config->settle_us)) {
                p->cls = CLASS_SETTLING;
        } else if (actual > p->limits.max_bytes) {
                p->cls = CLASS_ABOVE;
        } else if (actual < p->limits.min_bytes) {
                p->cls = CLASS_PRIORITY;
                p->need = p->want - actual;
        } else if (p->want > actual) {
                p->cls = CLASS_NEEDY;
                p->need = p->want - actual;
        } else if (p->floor < actual) {
                p->cls = CLASS_SPARE;
                p->spare = actual - p->floor;
        } else {
                p->cls = CLASS_FINE;
        }
}

/* Under pressure or below its minimum: the reason and target of a give. */
static void
guest_decide_priority(const VtBalloonGuest *g, const VtBalloonConfig *config, const GuestPlan *p,
                      VtBalloonTarget *t)
{
        guint64 actual = g->actual_bytes, amount = p->portion.amount;

        if (amount > 0 && amount < config->min_change / 4) {
                /* A few MiB are no help, and cost a balloon command
                 * each time the agent pushes again. */
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                      "%s%s%s, only %s more to give",
                                      p->pressure ? "pressure (" : "below its minimum ",
                                      p->pressure ? p->pressure : SZ(p->limits.min_bytes),
                                      p->pressure ? ")" : "", SZ(amount));
        } else if (amount == 0) {
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                      "%s%s%s, but the host has nothing to give",
                                      p->pressure ? "pressure (" : "below its minimum ",
                                      p->pressure ? p->pressure : SZ(p->limits.min_bytes),
                                      p->pressure ? ")" : "");
        } else if ((g->flags & VT_BALLOON_GUEST_MOVING) && g->target_bytes > actual &&
                   g->target_bytes + config->min_change >= actual + amount) {
                /* A give under way: while the balloon deflates, the
                 * stats and the free memory move with it, and asking
                 * again for about the same would only add commands. */
                vt_balloon_target_set(
                    t, VT_BALLOON_ACTION_NONE, actual, p->want, "pressure (%s): on its way to %s",
                    p->pressure ? p->pressure : "below its minimum", SZ(g->target_bytes));
        } else if (p->pressure != NULL) {
                vt_balloon_target_set(t, VT_BALLOON_ACTION_GIVE, actual + amount, p->want,
                                      "pressure (%s): give %s -> %s%s%s", p->pressure, SZ(actual),
                                      SZ(actual + amount),
                                      amount < p->need ? ", all the host can; max " : "",
                                      amount < p->need ? SZ(p->limits.max_bytes) : "");
        } else {
                vt_balloon_target_set(t, VT_BALLOON_ACTION_GIVE, actual + amount, p->want,
                                      "below its minimum %s: give %s -> %s",
                                      SZ(p->limits.min_bytes), SZ(actual), SZ(actual + amount));
        }
}

/* Wants more than it has: the reason and target of a give from free memory. */
static void
guest_decide_needy(const VtBalloonGuest *g, const VtBalloonConfig *config, const GuestPlan *p,
                   const char *sname, VtBalloonTarget *t)
{
        guint64 actual = g->actual_bytes, amount = p->portion.amount;

        if (amount > 0)
                vt_balloon_target_set(t, VT_BALLOON_ACTION_GIVE, actual + amount, p->want,
                                      "%s: wants %s, give back %s -> %s%s", sname, SZ(p->want),
                                      SZ(actual), SZ(actual + amount),
                                      amount < p->need ? " (its share of free memory)" : "");
        else if (p->need < config->min_change)
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                      "%s: wants %s, %s more is under the %s minimum change", sname,
                                      SZ(p->want), SZ(p->need), SZ(config->min_change));
        else
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                      "%s: wants %s, nothing free above the plenty line", sname,
                                      SZ(p->want));
}

/* Has more than it wants: the reason and target of a reclaim step. */
static void
guest_decide_spare(const VtBalloonGuest *g, const VtBalloonConfig *config, const GuestPlan *p,
                   VtHostState state, VtBalloonTarget *t)
{
        const char *sname = vt_host_state_to_string(state);
        guint64 actual = g->actual_bytes, amount = p->portion.amount;

        if (amount > 0)
                vt_balloon_target_set(t, VT_BALLOON_ACTION_RECLAIM, actual - amount, p->want,
                                      "%s: spare %s, reclaim %s step: %s -> %s", sname,
                                      SZ(p->spare), SZ(amount), SZ(actual), SZ(actual - amount));
        else if (state == VT_HOST_STATE_PLENTY)
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                      "plenty: spare %s, kept", SZ(p->spare));
        else if (p->portion.cap < config->min_change)
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                      "%s: spare %s, under the %s minimum change", sname,
                                      SZ(p->spare), SZ(config->min_change));
        else
                vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                      "%s: spare %s, not needed", sname, SZ(p->spare));
}

/* The reason and target of one guest, once the amounts are decided. */
static void
guest_decide(const VtBalloonGuest *g, const VtBalloonConfig *config, const GuestPlan *p,
             VtHostState state, gint64 now_us, VtBalloonTarget *t)
{
        guint64 actual = g->actual_bytes;

        switch (p->cls) {
        case CLASS_SKIP:
                break;
        case CLASS_FINE:
                if (p->pressure != NULL)
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                              "pressure (%s), already at its maximum %s",
                                              p->pressure, SZ(p->limits.max_bytes));
                else
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                              "has what it wants (%s of %s)%s%s", SZ(p->want),
                                              SZ(actual), p->compressed ? "; " : "",
                                              p->compressed_buf);
                break;
        case CLASS_SETTLING:
                if (g->flags & VT_BALLOON_GUEST_MOVING)
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                              "settling: move to %s not confirmed yet",
                                              SZ(g->target_bytes));
                else
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                              "settling: changed %.1f s ago",
                                              (double)(now_us - g->last_change_us) /
                                                  G_USEC_PER_SEC);
                break;
        case CLASS_PRIORITY:
                guest_decide_priority(g, config, p, t);
                break;
        case CLASS_ABOVE:
                vt_balloon_target_set(t, VT_BALLOON_ACTION_RECLAIM, p->limits.max_bytes, p->want,
                                      "above its maximum %s: reclaim %s -> %s",
                                      SZ(p->limits.max_bytes), SZ(actual), SZ(p->limits.max_bytes));
                break;
        case CLASS_NEEDY:
                guest_decide_needy(g, config, p, vt_host_state_to_string(state), t);
                break;
        case CLASS_SPARE:
                guest_decide_spare(g, config, p, state, t);
                break;
        }
}

/* Shares @total out among the guests of class @cls, by @portion set up by
 * the caller. */
static guint64
plans_fill(GuestPlan *plans, guint n, GuestClass cls, guint64 total, guint64 min_change,
           gboolean round_up)
{
        g_autofree Portion *portions = g_new0(Portion, MAX(n, 1));
        guint64 given;

        for (guint i = 0; i < n; i++)
                if (plans[i].cls == cls)
                        portions[i] = plans[i].portion;
        if (min_change > 0)
                given = portions_fill_min(portions, n, total, min_change, round_up);
        else
                given = portions_fill(portions, n, total);
        for (guint i = 0; i < n; i++)
                if (plans[i].cls == cls)
                        plans[i].portion.amount = portions[i].amount;
        return given;
}

/* The host's lines (free under line[s] is worse than s) and hysteresis,
 * from its reference. */
static void
host_view_set_lines(HostView *view, const VtBalloonConfig *config)
{
        double pf = vt_balloon_fraction(config->plenty_fraction);
        double tf = MIN(vt_balloon_fraction(config->tight_fraction), pf);
        double sf = MIN(vt_balloon_fraction(config->short_fraction), tf);

        view->line[VT_HOST_STATE_PLENTY] = fraction_of(pf, view->reference);
        view->line[VT_HOST_STATE_TIGHT] = fraction_of(tf, view->reference);
        view->line[VT_HOST_STATE_SHORT] = fraction_of(sf, view->reference);
        view->line[VT_HOST_STATE_CRITICAL] = G_MININT64;
        view->hysteresis = fraction_of(config->hysteresis_fraction, view->reference);
}

/* What the guests ask for and offer, in all. */
typedef struct {
        guint64 priority;      /* under pressure or below their minimum */
        guint64 needy;         /* wanting more than they have */
        guint64 reclaim_above; /* above their maximum */
} Demand;

/* Sets up each guest's portion (weight and cap) for the host state @hs,
 * and sums what the guests ask for. */
static void
plans_weigh(GuestPlan *plans, const VtBalloonInput *input, const VtBalloonConfig *config,
            VtHostState hs, Demand *ret_demand)
{
        /* Step of a reclaim: the state's; when PLENTY only pressure
         * reclaims, by the TIGHT step. */
        double step = vt_balloon_fraction(
            config->step_fraction[hs == VT_HOST_STATE_PLENTY ? VT_HOST_STATE_TIGHT : hs]);

        *ret_demand = (Demand){0};
        for (guint i = 0; i < input->n_guests; i++) {
                GuestPlan *p = &plans[i];
                const VtBalloonGuest *g = &input->guests[i];

                p->portion = (Portion){0};
                switch (p->cls) {
                case CLASS_PRIORITY:
                        ret_demand->priority += p->need;
                        p->portion.weight = p->limits.shares;
                        p->portion.cap = p->need;
                        break;
                case CLASS_NEEDY:
                        ret_demand->needy += p->need;
                        p->portion.weight = p->limits.shares;
                        p->portion.cap = p->need;
                        break;
                case CLASS_SPARE:
                        p->portion.weight = (double)p->spare / p->limits.shares;
                        p->portion.cap =
                            MIN(p->spare, vt_balloon_page_up(step * (double)p->limits.max_bytes));
                        break;
                case CLASS_ABOVE:
                        ret_demand->reclaim_above += g->actual_bytes - p->limits.max_bytes;
                        break;
                default:
                        break;
                }
        }
}

/* Decides the amounts: pressure first, from free memory above the
 * critical line, then the needy, from free memory above the plenty line;
 * then reclaims what pressure still needs and, unless PLENTY (or @forced
 * by stalls), what brings free back above the plenty line and the
 * hysteresis. */
static void
plans_share(GuestPlan *plans, guint n, const VtBalloonConfig *config, const HostView *view,
            VtHostState hs, gboolean forced, const Demand *demand)
{
        guint64 from_free_p, uncovered, given_n, target_r, reclaimed, given_p;
        gint64 free1, free2, deficit = 0;

        free1 = view->free - view->line[VT_HOST_STATE_SHORT];
        from_free_p = MIN(demand->priority, (guint64)MAX(free1, 0));
        uncovered = demand->priority - from_free_p;
        free1 = view->free - (gint64)from_free_p;
        given_n = MIN(demand->needy, (guint64)MAX(free1 - view->line[VT_HOST_STATE_PLENTY], 0));
        free2 = free1 - (gint64)given_n;
        if (forced)
                deficit = G_MAXINT64 / 4; /* pressure despite free memory: a step from each */
        else if (hs != VT_HOST_STATE_PLENTY)
                deficit = MAX(view->line[VT_HOST_STATE_PLENTY] + view->hysteresis - free2, 0);
        target_r = uncovered + (guint64)deficit;
        target_r = target_r > demand->reclaim_above ? target_r - demand->reclaim_above : 0;
        reclaimed = demand->reclaim_above;
        if (target_r > 0)
                reclaimed += plans_fill(plans, n, CLASS_SPARE, target_r, config->min_change, TRUE);
        given_p = from_free_p + MIN(uncovered, reclaimed);
        if (given_p > 0)
                plans_fill(plans, n, CLASS_PRIORITY, given_p, 0, FALSE);
        if (given_n > 0)
                plans_fill(plans, n, CLASS_NEEDY, given_n, config->min_change, FALSE);
}

/**
 * vt_balloon_policy_decide:
 * @input: the host and guests, and `now`
 * @config: the tunables (vt_balloon_config_init())
 * @state: carried from one decision to the next; start zeroed
 * @decision: (out caller-allocates): @decision->targets must point to
 *     @input->n_guests targets; everything else is overwritten
 *
 * vmtide's policy (theory of operation above). A host whose memory is
 * unknown (no MemTotal, no budget) moves nothing. Run it through
 * vt_balloon_decide(), which applies the pause.
 */
void
vt_balloon_policy_decide(const VtBalloonInput *input, const VtBalloonConfig *config,
                         VtBalloonState *state, VtBalloonDecision *decision)
{
        guint n;
        g_autofree GuestPlan *plans = NULL;
        HostView view = {0};
        Demand demand;
        VtHostState hs;
        gboolean forced;

        g_return_if_fail(input != NULL && input->host != NULL && config != NULL);
        g_return_if_fail(state != NULL && decision != NULL);
        g_return_if_fail(input->n_guests == 0 ||
                         (input->guests != NULL && decision->targets != NULL));

        n = input->n_guests;
        decision->host_state = state->host_state;
        decision->host_free = 0;
        decision->reason[0] = '\0';
        plans = g_new0(GuestPlan, MAX(n, 1));

        for (guint i = 0; i < n; i++)
                guest_plan(input, i, config, &plans[i], &decision->targets[i]);

        view.free = vt_balloon_host_free(input, config->host_reserve, &view.reference);
        decision->host_free = view.free;
        view.reference = MIN(view.reference, (guint64)VT_BALLOON_LIMIT);
        if (view.reference == 0) {
                g_snprintf(decision->reason, sizeof(decision->reason),
                           "host memory unknown (no MemTotal, no budget): nothing moves");
                for (guint i = 0; i < n; i++)
                        if (plans[i].cls != CLASS_SKIP)
                                vt_balloon_target_set(&decision->targets[i], VT_BALLOON_ACTION_NONE,
                                                      input->guests[i].actual_bytes, plans[i].want,
                                                      "host memory unknown");
                return;
        }
        host_view_set_lines(&view, config);
        hs = host_judge(input->host, config, &view, state->host_state, &forced, decision->reason,
                        sizeof(decision->reason));
        if (hs != state->host_state || state->host_state_since_us == 0)
                state->host_state_since_us = input->now_us;
        state->host_state = hs;
        decision->host_state = hs;

        plans_weigh(plans, input, config, hs, &demand);
        plans_share(plans, n, config, &view, hs, forced, &demand);
        for (guint i = 0; i < n; i++)
                guest_decide(&input->guests[i], config, &plans[i], hs, input->now_us,
                             &decision->targets[i]);
}
