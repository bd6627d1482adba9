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
 *   - skipped: opted out, no balloon, stuck, stale or no stats;
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
#include "balloon/balloon-policy.h"

#include <math.h> /* isfinite(), a macro: no libm */
#include <stdarg.h>

#define KiB            (G_GUINT64_CONSTANT(1) << 10)
#define MiB            (G_GUINT64_CONSTANT(1) << 20)
#define GiB            (G_GUINT64_CONSTANT(1) << 30)
#define PAGE_SIZE      G_GUINT64_CONSTANT(4096)
#define DEFAULT_SHARES 1000
/* Sizes are clamped to this (2 EiB) so that sums of a few cannot overflow. */
#define LIMIT (G_MAXINT64 / 4)

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
            .host_reserve = 256 * MiB,
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
            .guest_headroom_min = 64 * MiB,
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
            .min_change = 16 * MiB,
            /* Balloon stats come every 2 s: two periods after a change the
             * figures reflect it. */
            .settle_us = 4 * G_USEC_PER_SEC,
            /* Fifteen stats periods, six agent reports: the guest is gone or
             * its reporting is broken. */
            .stale_us = 30 * G_USEC_PER_SEC,
            /* 256 pages (1 MiB) a second: less is a daemon waking up, more
             * is the host paging back memory it needs. */
            .swap_in_tight = 256.0,
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
 * vt_balloon_size:
 * @bytes: a size, possibly negative
 *
 * Returns: "512 MiB", "1.5 GiB", "-40 MiB", "12 KiB", "0 B", by value
 */
VtBalloonSize
vt_balloon_size(double bytes)
{
        VtBalloonSize s;
        double v = bytes < 0 ? -bytes : bytes;
        const char *sign = bytes < 0 ? "-" : "";

        if (!isfinite(bytes))
                g_snprintf(s.str, sizeof(s.str), "?");
        else if (v >= (double)GiB)
                g_snprintf(s.str, sizeof(s.str), "%s%.1f GiB", sign, v / (double)GiB);
        else if (v >= (double)MiB)
                g_snprintf(s.str, sizeof(s.str), "%s%.0f MiB", sign, v / (double)MiB);
        else if (v >= (double)KiB)
                g_snprintf(s.str, sizeof(s.str), "%s%.0f KiB", sign, v / (double)KiB);
        else
                g_snprintf(s.str, sizeof(s.str), "%s%.0f B", sign, v);
        return s;
}

#define SZ(bytes) (vt_balloon_size((double)(bytes)).str)

/* A fraction from the configuration: finite and within [0, 1]. */
static double
fraction(double v)
{
        return isfinite(v) ? CLAMP(v, 0.0, 1.0) : 0.0;
}

static guint64
page_up(double bytes)
{
        guint64 b;

        if (!(bytes > 0))
                return 0;
        if (bytes >= (double)G_MAXINT64)
                return G_MAXINT64;
        b = (guint64)bytes;
        return (b + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
}

static gint64
to_signed(guint64 v)
{
        return v > (guint64)G_MAXINT64 ? G_MAXINT64 : (gint64)v;
}

/**
 * vt_balloon_limits_get:
 * @guest: the guest
 * @guest_config: (nullable): its configuration; NULL: the defaults
 * @config: the policy's tunables (default_min_fraction)
 * @ret_limits: (out caller-allocates): its minimum, maximum and shares
 *
 * Resolves a guest's limits (see #VtBalloonLimits). A minimum configured
 * above the maximum is taken as the maximum.
 */
void
vt_balloon_limits_get(const VtBalloonGuest *guest, const VtBalloonGuestConfig *guest_config,
                      const VtBalloonConfig *config, VtBalloonLimits *ret_limits)
{
        VtBalloonGuestConfig none = {0};
        const VtBalloonGuestConfig *gc = guest_config != NULL ? guest_config : &none;
        guint64 max, min;

        g_return_if_fail(guest != NULL && config != NULL && ret_limits != NULL);

        max = guest->max_bytes;
        if (gc->max_bytes != 0 && gc->max_bytes < max)
                max = gc->max_bytes;
        min = gc->min_bytes != 0 ? gc->min_bytes
                                 : page_up(fraction(config->default_min_fraction) * (double)max);
        ret_limits->max_bytes = max;
        ret_limits->min_bytes = MIN(min, max);
        ret_limits->shares = gc->shares != 0 ? gc->shares : DEFAULT_SHARES;
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

/**
 * vt_balloon_guest_check:
 * @guest: the guest
 * @guest_config: (nullable): its configuration
 * @ret_target: (out caller-allocates): filled with SKIP and its reason when
 *     the guest must be left alone
 *
 * The reasons every policy leaves a guest alone for, stats aside: opted
 * out, unreachable, no balloon, a stuck balloon, its boot memory or balloon size unknown
 * (or beyond 2 EiB).
 *
 * Returns: TRUE when the guest's balloon may be moved
 */
gboolean
vt_balloon_guest_check(const VtBalloonGuest *guest, const VtBalloonGuestConfig *guest_config,
                       VtBalloonTarget *ret_target)
{
        const char *why = NULL;

        g_return_val_if_fail(guest != NULL && ret_target != NULL, FALSE);

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
        else if (guest->max_bytes > LIMIT || guest->actual_bytes > LIMIT)
                why = "implausible sizes";
        if (why == NULL)
                return TRUE;
        vt_balloon_target_set(ret_target, VT_BALLOON_ACTION_SKIP, guest->actual_bytes, 0, "%s",
                              why);
        return FALSE;
}

static gint64
age_s(gint64 age_us)
{
        return (age_us + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;
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
                                      age_s(guest->stats_age_us));
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_balloon_host_free:
 * @input: the snapshot
 * @reserve: bytes of MemAvailable kept for the host
 * @ret_reference: (out) (optional): the budget when set, else MemTotal
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
        free_bytes = to_signed(MIN(host->mem_available, LIMIT)) - to_signed(MIN(reserve, LIMIT));
        if (host->budget_limit != 0) {
                gint64 held = 0;

                for (guint i = 0; i < input->n_guests; i++)
                        held =
                            MIN(held + to_signed(MIN(input->guests[i].actual_bytes, LIMIT)), LIMIT);
                free_bytes = MIN(free_bytes, to_signed(MIN(host->budget_limit, LIMIT)) - held);
        }
        free_bytes = CLAMP(free_bytes, -LIMIT, LIMIT);
        if (ret_reference != NULL)
                *ret_reference = host->budget_limit != 0 ? host->budget_limit : host->mem_total;
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
 * they do nothing.
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
        for (guint i = 0; i < input->n_guests; i++)
                vt_balloon_target_set(&decision->targets[i], VT_BALLOON_ACTION_NONE,
                                      input->guests[i].actual_bytes, 0, "%s: waits for its tick",
                                      name);
        return FALSE;
}

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
                        slice = (guint64)(snap * p[i].weight / wsum) / PAGE_SIZE * PAGE_SIZE;
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
                        take = MIN(p[i].cap - p[i].amount,
                                   (left + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE);
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
        return (gint64)(fraction(f) * (double)reference);
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
        const char *of = host->budget_limit != 0 ? "the budget" : "MemTotal";
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
                                      "stats stale (%" G_GINT64_FORMAT " s)", age_s(age));
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
        guint64 actual = g->actual_bytes, headroom, guard;
        double low = fraction(config->guest_low_fraction);
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

        /* Sizes are within LIMIT (vt_balloon_guest_check()): no overflow. */
        headroom =
            MAX(page_up(fraction(config->guest_headroom_fraction) * (double)p->limits.max_bytes),
                MIN(config->guest_headroom_min, LIMIT));
        p->used = actual - MIN(p->available, actual);
        p->want = CLAMP(p->used + headroom, p->limits.min_bytes, p->limits.max_bytes);
        /* Never reclaim a guest into the low-available pressure line
         * (only matters for configurations with a headroom under it). */
        guard = low < 0.5 ? page_up((double)p->used / (1.0 - low)) + PAGE_SIZE : p->want;
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

/* The reason and target of one guest, once the amounts are decided. */
static void
guest_decide(const VtBalloonGuest *g, const VtBalloonConfig *config, const GuestPlan *p,
             VtHostState state, gint64 now_us, VtBalloonTarget *t)
{
        const char *sname = vt_host_state_to_string(state);
        guint64 actual = g->actual_bytes, amount = p->portion.amount;

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
                                              "has what it wants (%s of %s)", SZ(p->want),
                                              SZ(actual));
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
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                              "pressure (%s): on its way to %s",
                                              p->pressure ? p->pressure : "below its minimum",
                                              SZ(g->target_bytes));
                } else if (p->pressure != NULL) {
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_GIVE, actual + amount, p->want,
                                              "pressure (%s): give %s -> %s%s%s", p->pressure,
                                              SZ(actual), SZ(actual + amount),
                                              amount < p->need ? ", all the host can; max " : "",
                                              amount < p->need ? SZ(p->limits.max_bytes) : "");
                } else {
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_GIVE, actual + amount, p->want,
                                              "below its minimum %s: give %s -> %s",
                                              SZ(p->limits.min_bytes), SZ(actual),
                                              SZ(actual + amount));
                }
                break;
        case CLASS_ABOVE:
                vt_balloon_target_set(t, VT_BALLOON_ACTION_RECLAIM, p->limits.max_bytes, p->want,
                                      "above its maximum %s: reclaim %s -> %s",
                                      SZ(p->limits.max_bytes), SZ(actual), SZ(p->limits.max_bytes));
                break;
        case CLASS_NEEDY:
                if (amount > 0)
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_GIVE, actual + amount, p->want,
                                              "%s: wants %s, give back %s -> %s%s", sname,
                                              SZ(p->want), SZ(actual), SZ(actual + amount),
                                              amount < p->need ? " (its share of free memory)"
                                                               : "");
                else if (p->need < config->min_change)
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                              "%s: wants %s, %s more is under the %s minimum "
                                              "change",
                                              sname, SZ(p->want), SZ(p->need),
                                              SZ(config->min_change));
                else
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_NONE, actual, p->want,
                                              "%s: wants %s, nothing free above the plenty line",
                                              sname, SZ(p->want));
                break;
        case CLASS_SPARE:
                if (amount > 0)
                        vt_balloon_target_set(t, VT_BALLOON_ACTION_RECLAIM, actual - amount,
                                              p->want, "%s: spare %s, reclaim %s step: %s -> %s",
                                              sname, SZ(p->spare), SZ(amount), SZ(actual),
                                              SZ(actual - amount));
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

/**
 * vt_balloon_policy_decide:
 * @input: the host and guests, and `now`
 * @config: the tunables (vt_balloon_config_init())
 * @state: carried from one decision to the next; start zeroed
 * @decision: (out caller-allocates): @decision->targets must point to
 *     @input->n_guests targets; everything else is overwritten
 *
 * vmtide's policy (theory of operation above). A host whose memory is
 * unknown (no MemTotal, no budget) moves nothing.
 */
void
vt_balloon_policy_decide(const VtBalloonInput *input, const VtBalloonConfig *config,
                         VtBalloonState *state, VtBalloonDecision *decision)
{
        guint n;
        g_autofree GuestPlan *plans = NULL;
        HostView view = {0};
        VtHostState hs;
        guint64 demand_p = 0, demand_n = 0, reclaim_above = 0, given_p, given_n, reclaimed;
        guint64 from_free_p, uncovered, target_r;
        gint64 free1, free2, deficit = 0;
        gboolean forced;
        double step;

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
        view.reference = MIN(view.reference, (guint64)LIMIT);
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
        {
                double pf = fraction(config->plenty_fraction);
                double tf = MIN(fraction(config->tight_fraction), pf);
                double sf = MIN(fraction(config->short_fraction), tf);

                view.line[VT_HOST_STATE_PLENTY] = fraction_of(pf, view.reference);
                view.line[VT_HOST_STATE_TIGHT] = fraction_of(tf, view.reference);
                view.line[VT_HOST_STATE_SHORT] = fraction_of(sf, view.reference);
                view.line[VT_HOST_STATE_CRITICAL] = G_MININT64;
                view.hysteresis = fraction_of(config->hysteresis_fraction, view.reference);
        }
        hs = host_judge(input->host, config, &view, state->host_state, &forced, decision->reason,
                        sizeof(decision->reason));
        if (hs != state->host_state || state->host_state_since_us == 0)
                state->host_state_since_us = input->now_us;
        state->host_state = hs;
        decision->host_state = hs;

        /* Step of a reclaim: the state's; when PLENTY only pressure
         * reclaims, by the TIGHT step. */
        step =
            fraction(config->step_fraction[hs == VT_HOST_STATE_PLENTY ? VT_HOST_STATE_TIGHT : hs]);
        for (guint i = 0; i < n; i++) {
                GuestPlan *p = &plans[i];
                const VtBalloonGuest *g = &input->guests[i];

                p->portion = (Portion){0};
                switch (p->cls) {
                case CLASS_PRIORITY:
                        demand_p += p->need;
                        p->portion.weight = p->limits.shares;
                        p->portion.cap = p->need;
                        break;
                case CLASS_NEEDY:
                        demand_n += p->need;
                        p->portion.weight = p->limits.shares;
                        p->portion.cap = p->need;
                        break;
                case CLASS_SPARE:
                        p->portion.weight = (double)p->spare / p->limits.shares;
                        p->portion.cap = MIN(p->spare, page_up(step * (double)p->limits.max_bytes));
                        break;
                case CLASS_ABOVE:
                        reclaim_above += g->actual_bytes - p->limits.max_bytes;
                        break;
                default:
                        break;
                }
        }

        /* Pressure first, from free memory above the critical line. */
        free1 = view.free - view.line[VT_HOST_STATE_SHORT];
        from_free_p = MIN(demand_p, (guint64)MAX(free1, 0));
        uncovered = demand_p - from_free_p;
        /* Then the needy, from free memory above the plenty line. */
        free1 = view.free - (gint64)from_free_p;
        given_n = MIN(demand_n, (guint64)MAX(free1 - view.line[VT_HOST_STATE_PLENTY], 0));
        free2 = free1 - (gint64)given_n;
        /* Reclaim what pressure still needs and, unless PLENTY, what brings
         * free back above the plenty line and the hysteresis. */
        if (forced)
                deficit = G_MAXINT64 / 4; /* pressure despite free memory: a step from each */
        else if (hs != VT_HOST_STATE_PLENTY)
                deficit = MAX(view.line[VT_HOST_STATE_PLENTY] + view.hysteresis - free2, 0);
        target_r = uncovered + (guint64)deficit;
        target_r = target_r > reclaim_above ? target_r - reclaim_above : 0;
        reclaimed = reclaim_above;
        if (target_r > 0)
                reclaimed += plans_fill(plans, n, CLASS_SPARE, target_r, config->min_change, TRUE);
        given_p = from_free_p + MIN(uncovered, reclaimed);
        if (given_p > 0)
                plans_fill(plans, n, CLASS_PRIORITY, given_p, 0, FALSE);
        if (given_n > 0)
                plans_fill(plans, n, CLASS_NEEDY, given_n, config->min_change, FALSE);

        for (guint i = 0; i < n; i++)
                guest_decide(&input->guests[i], config, &plans[i], hs, input->now_us,
                             &decision->targets[i]);
}
