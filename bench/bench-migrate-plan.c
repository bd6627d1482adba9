/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtide's migration planner against OpenStack Watcher's workload_balance
 * rule on a simulated fleet, on the same demand trace: bytes moved,
 * migrations, host-minutes critical, migrations that would not have
 * converged, and the planner's own cost per decision. Not a test: it
 * prints a table for docs/benchmarks.md.
 *
 * Theory of operation
 *
 * The fleet: HOSTS hosts, each with the same guest budget, and GUESTS
 * guests (2 to 32 GiB) placed at random within Nova's default
 * ram_allocation_ratio (1.5 × the budget in guest sizes per host), a few
 * pinned. Everything random comes from one seed through a stateless hash
 * (splitmix64), so the trace is the same for every policy whatever each
 * does, and the same from run to run.
 *
 * The trace: a guest uses base × (1 + 0.25 sin(day + phase)) of its size
 * (three phase groups 8 h apart, ± 1 h), plus smooth noise (± 5 % of its
 * size, knots every 15 min), plus bursts (1.5 a day on average, 30 min,
 * 20-50 % of its size). It wants what it uses plus the balloon policy's
 * headroom (15 % of its size, at least 64 MiB). Its dirty rate is a base
 * rate (70 % of guests 1-20 MiB/s, 20 % 20-100 MiB/s, 10 % 100-900 MiB/s)
 * scaled by how busy it is now, doubled in a burst.
 *
 * Each tick (10 s):
 *   1. migrations and measurements that end now end: a move that converges
 *      puts the guest on the destination and frees it on the source; one
 *      that does not is given up at the pass limit, and the guest stays;
 *   2. the balloon, as vmtide's policy does it: a guest gets what it wants
 *      at once; on a host not PLENTY (last tick) each guest above its want
 *      gives back up to the policy's step for that state (5/10/20 % of its
 *      size); KSM saves a steady 2 % of what the guests hold;
 *   3. each host is judged: free = budget - held + KSM, where held counts
 *      what moves in (the destination reserves a guest's memory for the
 *      whole move) and the guests moving out (the source keeps them to the
 *      end); the state by the balloon policy's lines (15/10/5 %, 3 %
 *      hysteresis on the way back); critical time is counted here;
 *   4. the policy decides:
 *      - vmtide: each host runs vt_migrate_plan_decide() with its guests,
 *        every other host as a peer (free, headroom = its 10 % short line,
 *        state, who sent it which guest last), the link, and default
 *        tunables; a measure is answered after its window, with the true
 *        rate ± 10 %;
 *      - Watcher workload_balance (watcher/decision_engine/strategy/
 *        strategies/workload_balance.py, metric instance_ram_usage): a
 *        host's workload is the sum of its instances' memory (here: what
 *        each holds) averaged over the period (300 s); a host at or above
 *        the threshold (95 %, this sim's critical line) is overloaded;
 *        from the most loaded, move the instance whose workload brings
 *        the host closest to the fleet average without going under it, to
 *        the least loaded host where it stays under the threshold and its
 *        flavor fits the allocation ratio. Excluded (pinned) and migrating
 *        instances are skipped; no cost model, no convergence check, no
 *        cooldown. Nova runs one live migration per host at a time
 *        (max_concurrent_live_migrations = 1), so a host moving a guest is
 *        not a source again until it ends; unlike Watcher, which plans one
 *        migration per audit for the whole cluster, every overloaded host
 *        may get one per audit here (generous to it). "watcher-instant"
 *        is the same with a period of one tick.
 *      - none: no migration, for reference.
 *
 * A move's truth is the cost model's prediction with the guest's true
 * dirty rate at the start (the sim has no other truth); a move that does
 * not converge runs until the pass limit, sending what remains at each
 * pass, and fails. The planner decides from measured rates, so its
 * failures are the cases where the measurement misled it.
 *
 * The planner's own cost: each call of vt_migrate_plan_decide() timed with
 * CLOCK_MONOTONIC, medians over every call and over the calls that weighed
 * guests (past the gates); Watcher's whole audit per tick likewise.
 *
 * Usage: bench-migrate-plan [--hosts N] [--guests N] [--hours H]
 *                           [--seed S] [POLICY...]
 *        (default: 200 hosts, 2400 guests, 24 h, seed 1,
 *         none vmtide watcher watcher-instant)
 *        --target F and --hysteresis N change the planner's tunables;
 *        VT_BENCH_WHY=1 prints its answers by code on stderr.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "migrate/migrate-plan.h"

#define MIB                  (G_GUINT64_CONSTANT(1) << 20)
#define GIB                  (G_GUINT64_CONSTANT(1) << 30)
#define TICK_US              (10 * G_TIME_SPAN_SECOND)
#define DAY_S                86400.0
#define BUDGET               (96 * GIB)
#define ALLOC_RATIO          1.5
#define KSM_FRACTION         0.02
#define MAX_BURSTS           8
#define BANDWIDTH            (512 * MIB)
#define WATCHER_PERIOD_TICKS 30
#define PINGPONG_US          (60 * 60 * G_TIME_SPAN_SECOND)

/* The balloon policy's lines, as fractions of the budget. */
static const double state_line[] = {0.15, 0.10, 0.05};
#define HYSTERESIS 0.03
static const double step_fraction[] = {0, 0.05, 0.10, 0.20};

typedef enum {
        POLICY_NONE,
        POLICY_VMTIDE,
        POLICY_WATCHER,
        POLICY_WATCHER_INSTANT,
} Policy;

static const char *const policy_names[] = {"none", "vmtide", "watcher", "watcher-instant"};

typedef struct {
        gint64 start_s, end_s;
        double amp;
} Burst;

/* A guest's fixed traits, from the seed. */
typedef struct {
        char name[16];
        guint64 size;
        double base, phase;
        double rate_base; /* bytes/s at its base activity */
        gboolean pinned;
        guint home; /* its first host */
        Burst bursts[MAX_BURSTS];
        guint n_bursts;
} GuestTrait;

/* A guest's state in one run. */
typedef struct {
        guint host;
        guint64 actual, want;
        gboolean migrating, measuring;
        gint64 measure_end_us, measure_window_us;
        guint64 measured_rate;
        gint64 measured_us;
        gint64 last_migrated_us;
        guint came_from; /* G_MAXUINT: none */
        gint64 arrived_us;
        double hist[WATCHER_PERIOD_TICKS];
        double hist_sum;
} Guest;

typedef struct {
        guint guest, from, to;
        gint64 end_us;
        gboolean converges;
        guint64 arrival;
} Move;

typedef struct {
        GArray *guests; /* guint */
        guint64 held;   /* guests held + reservations for moves in */
        gint64 free;
        VtHostState state;
        guint critical_ticks;
        guint outgoing;
        gint64 last_outgoing_end_us;
} Host;

typedef struct {
        guint64 bytes, bytes_failed;
        guint started, failed, pingpong, measures;
        guint64 critical_ticks, overrun_ticks;
        GArray *ns_all, *ns_weigh; /* gint64 */
        guint why[VT_MIGRATE_PLAN_WHY_MAX];
} Stats;

typedef struct {
        guint n_hosts, n_guests;
        double hours;
        guint64 seed;
        GuestTrait *traits;
        /* one run */
        Policy policy;
        Host *hosts;
        Guest *guests;
        GArray *moves;   /* Move */
        gint64 *sent_us; /* [to × n_hosts + from]: when from last sent to `to` */
        guint *sent_guest;
        Stats stats;
        VtMigratePlanConfig config;
        VtMigratePlanLink link;
        /* scratch */
        VtMigratePlanGuest *pg;
        VtMigratePlanPeer *pp;
        guint *pp_host;
} Sim;

/* ---- randomness: stateless, from the seed ---- */

static guint64
mix(guint64 x)
{
        x += G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
        x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
        x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT(0x94d049bb133111eb);
        return x ^ (x >> 31);
}

/* Uniform in [0, 1) from (seed, a, b, c). */
static double
uni(const Sim *s, guint64 a, guint64 b, guint64 c)
{
        guint64 h = mix(s->seed ^ mix(a ^ mix(b ^ mix(c))));

        return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* Smooth noise in [-1, 1] for guest @g at @t_s: knots every 15 min. */
static double
noise(const Sim *s, guint g, double t_s)
{
        double k = t_s / 900.0;
        gint64 k0 = (gint64)floor(k);
        double f = k - (double)k0, w = f * f * (3 - 2 * f);
        double a = 2 * uni(s, 11, g, (guint64)k0) - 1, b = 2 * uni(s, 11, g, (guint64)k0 + 1) - 1;

        return a + (b - a) * w;
}

static void
traits_make(Sim *s)
{
        static const guint sizes_gib[] = {2, 4, 8, 16, 32};
        static const double size_cdf[] = {0.20, 0.50, 0.80, 0.95, 1.00};
        double *alloc = g_new0(double, s->n_hosts);

        s->traits = g_new0(GuestTrait, s->n_guests);
        for (guint g = 0; g < s->n_guests; g++) {
                GuestTrait *t = &s->traits[g];
                double u = uni(s, 1, g, 0), r = uni(s, 1, g, 5);
                guint i = 0;
                double at = 0;

                while (u > size_cdf[i])
                        i++;
                g_snprintf(t->name, sizeof(t->name), "g%u", g);
                t->size = sizes_gib[i] * GIB;
                t->base = 0.30 + 0.35 * uni(s, 1, g, 1);
                t->phase = 2 * G_PI * ((double)(g % 3) / 3 + (uni(s, 1, g, 2) - 0.5) / 12);
                if (r < 0.70)
                        t->rate_base = MIB * (1 + 19 * uni(s, 1, g, 6));
                else if (r < 0.90)
                        t->rate_base = MIB * (20 + 80 * uni(s, 1, g, 6));
                else
                        t->rate_base = MIB * (100 + 800 * uni(s, 1, g, 6));
                t->pinned = uni(s, 1, g, 3) < 0.03;
                /* Bursts: a Poisson process of 1.5 a day. */
                for (guint b = 0; b < MAX_BURSTS; b++) {
                        at += -log(1 - uni(s, 2, g, b)) * DAY_S / 1.5;
                        if (at >= s->hours * 3600)
                                break;
                        t->bursts[b].start_s = (gint64)at;
                        t->bursts[b].end_s = (gint64)(at - log(1 - uni(s, 3, g, b)) * 1800);
                        t->bursts[b].amp = 0.20 + 0.30 * uni(s, 4, g, b);
                        t->n_bursts++;
                }
                /* Placement: a random host with room in the allocation ratio. */
                for (guint tries = 0;; tries++) {
                        guint h = (guint)(uni(s, 5, g, tries) * s->n_hosts);

                        if (alloc[h] + (double)t->size <= ALLOC_RATIO * (double)BUDGET ||
                            tries > 1000) {
                                alloc[h] += (double)t->size;
                                t->home = h;
                                break;
                        }
                }
        }
        g_free(alloc);
}

/* ---- the trace ---- */

static gboolean
in_burst(const GuestTrait *t, double t_s, double *ret_amp)
{
        for (guint b = 0; b < t->n_bursts; b++)
                if (t_s >= (double)t->bursts[b].start_s && t_s < (double)t->bursts[b].end_s) {
                        *ret_amp = t->bursts[b].amp;
                        return TRUE;
                }
        *ret_amp = 0;
        return FALSE;
}

/* The fraction of its size guest @g uses at @t_s. */
static double
demand_fraction(const Sim *s, guint g, double t_s, gboolean *ret_burst)
{
        const GuestTrait *t = &s->traits[g];
        double amp, f = t->base * (1 + 0.25 * sin(2 * G_PI * t_s / DAY_S + t->phase)) +
                        0.05 * noise(s, g, t_s);

        *ret_burst = in_burst(t, t_s, &amp);
        return CLAMP(f + amp, 0.05, 0.98);
}

static guint64
guest_true_rate(const Sim *s, guint g, double t_s)
{
        gboolean burst;
        double f = demand_fraction(s, g, t_s, &burst);
        double activity = CLAMP(f / s->traits[g].base, 0.2, 3.0);

        return (guint64)(s->traits[g].rate_base * activity * (burst ? 2 : 1));
}

static guint64
guest_want_at(const Sim *s, guint g, double t_s)
{
        gboolean burst;
        guint64 size = s->traits[g].size;
        double used = demand_fraction(s, g, t_s, &burst) * (double)size;
        guint64 headroom = MAX((guint64)(0.15 * (double)size), 64 * MIB);

        return MIN(size, (guint64)used + headroom);
}

/* ---- moves ---- */

/* What moving @g takes, by the model with the true rate now. */
static void
move_truth(const Sim *s, guint g, gint64 now_us, VtMigrateCost *ret)
{
        VtMigrateCostInput in;

        vt_migrate_cost_input_init(&in);
        in.mem_bytes = s->traits[g].size;
        in.resident_bytes = s->guests[g].actual;
        in.dirty_rate = guest_true_rate(s, g, (double)now_us / G_USEC_PER_SEC);
        in.bandwidth = s->link.bandwidth;
        in.downtime_limit_us = s->link.downtime_limit_us;
        in.max_passes = s->link.max_passes;
        vt_migrate_cost_predict(&in, ret);
}

static void
move_start(Sim *s, guint g, guint to, gint64 now_us)
{
        Guest *gu = &s->guests[g];
        VtMigrateCost c;
        Move m = {.guest = g, .from = gu->host, .to = to};
        double bytes;
        gint64 dur_us;

        move_truth(s, g, now_us, &c);
        m.converges = c.converges;
        m.arrival = MAX(gu->actual, gu->want);
        bytes = (double)c.bytes_sent;
        if (!c.converges) {
                /* Given up at the pass limit, what remains sent at every pass. */
                bytes += (double)(s->link.max_passes - MIN(c.passes, s->link.max_passes)) *
                         (double)c.remaining_bytes;
                s->stats.failed++;
                s->stats.bytes_failed += (guint64)bytes;
        }
        dur_us = (gint64)(bytes / (double)s->link.bandwidth * G_USEC_PER_SEC) + c.downtime_us;
        m.end_us = now_us + MAX(dur_us, 1);
        s->stats.bytes += (guint64)bytes;
        s->stats.started++;
        if (gu->came_from == to && now_us - gu->arrived_us < PINGPONG_US)
                s->stats.pingpong++;
        gu->migrating = TRUE;
        s->hosts[m.from].outgoing++;
        s->hosts[to].held += m.arrival;
        s->hosts[to].free -= (gint64)m.arrival;
        g_array_append_val(s->moves, m);
}

static void
host_remove_guest(Host *h, guint g)
{
        for (guint i = 0; i < h->guests->len; i++)
                if (g_array_index(h->guests, guint, i) == g) {
                        g_array_remove_index_fast(h->guests, i);
                        return;
                }
}

static void
move_end(Sim *s, const Move *m)
{
        Guest *gu = &s->guests[m->guest];

        gu->migrating = FALSE;
        gu->last_migrated_us = m->end_us;
        s->hosts[m->from].outgoing--;
        s->hosts[m->from].last_outgoing_end_us = m->end_us;
        s->hosts[m->to].held -= m->arrival;
        if (!m->converges)
                return;
        host_remove_guest(&s->hosts[m->from], m->guest);
        g_array_append_val(s->hosts[m->to].guests, m->guest);
        gu->host = m->to;
        gu->came_from = m->from;
        gu->arrived_us = m->end_us;
        s->sent_us[m->to * s->n_hosts + m->from] = m->end_us;
        s->sent_guest[m->to * s->n_hosts + m->from] = m->guest;
}

static void
moves_finish(Sim *s, gint64 now_us)
{
        for (guint i = 0; i < s->moves->len;) {
                Move m = g_array_index(s->moves, Move, i);

                if (m.end_us > now_us) {
                        i++;
                        continue;
                }
                move_end(s, &m);
                g_array_remove_index_fast(s->moves, i);
        }
}

/* ---- the balloon and the host's state ---- */

static void
balloon_tick(Sim *s, gint64 now_us)
{
        double t_s = (double)now_us / G_USEC_PER_SEC;

        for (guint h = 0; h < s->n_hosts; h++) {
                Host *ho = &s->hosts[h];

                for (guint i = 0; i < ho->guests->len; i++) {
                        guint g = g_array_index(ho->guests, guint, i);
                        Guest *gu = &s->guests[g];
                        guint64 step =
                            (guint64)(step_fraction[ho->state] * (double)s->traits[g].size);

                        gu->want = guest_want_at(s, g, t_s);
                        if (gu->want >= gu->actual)
                                gu->actual = gu->want;
                        else if (ho->state != VT_HOST_STATE_PLENTY)
                                gu->actual = MAX(gu->want, gu->actual - MIN(step, gu->actual));
                }
        }
}

static VtHostState
state_judge(VtHostState last, double fraction)
{
        VtHostState now = VT_HOST_STATE_PLENTY;

        while (now < VT_HOST_STATE_CRITICAL && fraction < state_line[now])
                now++;
        if (now >= last)
                return now;
        /* Better only past the better state's line by the hysteresis. */
        while (last > now && fraction >= state_line[last - 1] + HYSTERESIS)
                last--;
        return last;
}

static void
hosts_judge(Sim *s)
{
        for (guint h = 0; h < s->n_hosts; h++) {
                Host *ho = &s->hosts[h];
                guint64 guests = 0;

                for (guint i = 0; i < ho->guests->len; i++)
                        guests += s->guests[g_array_index(ho->guests, guint, i)].actual;
                ho->free = (gint64)BUDGET - (gint64)(guests + ho->held) +
                           (gint64)(KSM_FRACTION * (double)guests);
                ho->state = state_judge(ho->state, (double)ho->free / (double)BUDGET);
                ho->critical_ticks =
                    ho->state == VT_HOST_STATE_CRITICAL ? ho->critical_ticks + 1 : 0;
                s->stats.critical_ticks += ho->state == VT_HOST_STATE_CRITICAL;
                s->stats.overrun_ticks += ho->free < 0;
        }
}

/* ---- vmtide ---- */

static gint64
ns_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static guint
vmtide_fill(Sim *s, guint h, gint64 now_us, VtMigratePlanHost *ret_host)
{
        Host *ho = &s->hosts[h];
        guint n = 0;

        *ret_host = (VtMigratePlanHost){
            .mem_total = 2 * BUDGET,
            .budget_bytes = BUDGET,
            .free_bytes = ho->free,
            .critical = ho->state == VT_HOST_STATE_CRITICAL,
            .critical_ticks = ho->critical_ticks,
            .outgoing = ho->outgoing,
            .last_outgoing_end_us = ho->last_outgoing_end_us,
        };
        for (guint i = 0; i < ho->guests->len; i++) {
                guint g = g_array_index(ho->guests, guint, i);
                Guest *gu = &s->guests[g];

                ret_host->reclaimable_bytes += gu->actual > gu->want ? gu->actual - gu->want : 0;
                s->pg[i] = (VtMigratePlanGuest){
                    .name = s->traits[g].name,
                    .mem_bytes = s->traits[g].size,
                    .actual_bytes = gu->actual,
                    .want_bytes = gu->want,
                    .dirty_rate = gu->measured_rate,
                    .dirty_window_us = gu->measure_window_us,
                    .dirty_measured_us = gu->measured_us,
                    .measuring = gu->measuring,
                    .migrating = gu->migrating,
                    .pinned = s->traits[g].pinned,
                    .last_migrated_us = gu->last_migrated_us,
                };
        }
        if (!ret_host->critical)
                return 0;
        for (guint p = 0; p < s->n_hosts; p++) {
                const Host *po = &s->hosts[p];
                gint64 sent = s->sent_us[h * s->n_hosts + p];

                if (p == h)
                        continue;
                s->pp_host[n] = p;
                s->pp[n++] = (VtMigratePlanPeer){
                    .name = "peer",
                    .free_bytes = po->free,
                    .headroom_bytes = (guint64)(state_line[VT_HOST_STATE_TIGHT] * BUDGET),
                    .state = po->state,
                    .last_sent_us = sent,
                    .last_sent_guest =
                        sent != 0 ? s->traits[s->sent_guest[h * s->n_hosts + p]].name : NULL,
                };
        }
        return n;
}

static void
vmtide_measure(Sim *s, guint g, gint64 window_us, gint64 now_us)
{
        Guest *gu = &s->guests[g];

        gu->measuring = TRUE;
        gu->measure_window_us = window_us;
        gu->measure_end_us = now_us + window_us;
        s->stats.measures++;
}

static void
measures_finish(Sim *s, gint64 now_us)
{
        for (guint g = 0; g < s->n_guests; g++) {
                Guest *gu = &s->guests[g];
                double t_s = (double)gu->measure_end_us / G_USEC_PER_SEC;

                if (!gu->measuring || gu->measure_end_us > now_us)
                        continue;
                gu->measuring = FALSE;
                gu->measured_us = gu->measure_end_us;
                gu->measured_rate = (guint64)((double)guest_true_rate(s, g, t_s) *
                                              (0.9 + 0.2 * uni(s, 7, g, (guint64)t_s)));
        }
}

/* One call of the planner, timed. */
static void
vmtide_decide(Sim *s, const VtMigratePlanInput *in, VtMigratePlanDecision *d)
{
        gint64 t0 = ns_now(), ns;

        vt_migrate_plan_decide(in, &s->config, d);
        ns = ns_now() - t0;
        s->stats.why[d->why]++;
        g_array_append_val(s->stats.ns_all, ns);
        if (d->why == VT_MIGRATE_PLAN_WHY_MOVE || d->why >= VT_MIGRATE_PLAN_WHY_NO_GUEST ||
            d->why == VT_MIGRATE_PLAN_WHY_MEASURE)
                g_array_append_val(s->stats.ns_weigh, ns);
}

/*
 * Each host decides; a measurement asked for starts at once and the host
 * decides again (the daemon does the same), so that guests that may be
 * cheapest are measured side by side, up to the planner's limit.
 */
static void
vmtide_tick(Sim *s, gint64 now_us)
{
        for (guint h = 0; h < s->n_hosts; h++) {
                VtMigratePlanHost host;
                VtMigratePlanDecision d;
                guint n_peers = vmtide_fill(s, h, now_us, &host);
                VtMigratePlanInput in = {
                    .host = &host,
                    .guests = s->pg,
                    .n_guests = s->hosts[h].guests->len,
                    .peers = s->pp,
                    .n_peers = n_peers,
                    .link = &s->link,
                    .now_us = now_us,
                };

                vmtide_decide(s, &in, &d);
                while (d.action == VT_MIGRATE_PLAN_MEASURE) {
                        vmtide_measure(s, g_array_index(s->hosts[h].guests, guint, d.guest_index),
                                       d.window_us, now_us);
                        s->pg[d.guest_index].measuring = TRUE;
                        vmtide_decide(s, &in, &d);
                }
                if (d.action == VT_MIGRATE_PLAN_MOVE)
                        move_start(s, g_array_index(s->hosts[h].guests, guint, d.guest_index),
                                   s->pp_host[d.peer_index], now_us);
        }
}

/* ---- Watcher's workload_balance ---- */

/*
 * An instance's memory as Watcher reads it: what it holds less its share
 * of what KSM saves, so that a host's load is budget - free, the figure
 * this sim judges hosts by, and the threshold is the same line.
 */
static double
watcher_ram(const Guest *gu)
{
        return (double)gu->actual * (1 - KSM_FRACTION);
}

static double
watcher_guest_load(const Sim *s, guint g)
{
        const Guest *gu = &s->guests[g];
        guint n = s->policy == POLICY_WATCHER ? WATCHER_PERIOD_TICKS : 1;

        if (n == 1)
                return watcher_ram(gu);
        return gu->hist_sum / n;
}

static double
watcher_host_load(const Sim *s, guint h)
{
        const Host *ho = &s->hosts[h];
        double load = (double)ho->held;

        for (guint i = 0; i < ho->guests->len; i++)
                load += watcher_guest_load(s, g_array_index(ho->guests, guint, i));
        return load;
}

static void
watcher_record(Sim *s, guint64 tick)
{
        for (guint g = 0; g < s->n_guests; g++) {
                Guest *gu = &s->guests[g];
                guint slot = (guint)(tick % WATCHER_PERIOD_TICKS);

                gu->hist_sum += watcher_ram(gu) - gu->hist[slot];
                gu->hist[slot] = watcher_ram(gu);
        }
}

static int
cmp_load_desc(gconstpointer a, gconstpointer b, gpointer data)
{
        const double *load = data;
        double la = load[*(const guint *)a], lb = load[*(const guint *)b];

        return la < lb ? 1 : la > lb ? -1 : 0;
}

/* The instance of @h that brings it closest to @avg without going under. */
static guint
watcher_choose(const Sim *s, guint h, double load, double avg)
{
        const Host *ho = &s->hosts[h];
        double delta = load - avg, best = 1e300;
        guint pick = G_MAXUINT;

        for (guint i = 0; i < ho->guests->len; i++) {
                guint g = g_array_index(ho->guests, guint, i);
                double d = delta - watcher_guest_load(s, g);

                if (s->traits[g].pinned || s->guests[g].migrating)
                        continue;
                if (d >= 0 && d < best) {
                        best = d;
                        pick = g;
                }
        }
        return pick;
}

/* The least loaded host where @g stays under the threshold and fits. */
static guint
watcher_destination(const Sim *s, guint g, const double *load, const double *alloc,
                    double threshold)
{
        double w = watcher_guest_load(s, g), best = 1e300;
        guint pick = G_MAXUINT;

        for (guint h = 0; h < s->n_hosts; h++) {
                if (load[h] >= threshold || h == s->guests[g].host)
                        continue;
                if (ALLOC_RATIO * BUDGET - alloc[h] < (double)s->traits[g].size)
                        continue;
                if (w + load[h] < threshold && load[h] < best) {
                        best = load[h];
                        pick = h;
                }
        }
        return pick;
}

static void
watcher_tick(Sim *s, gint64 now_us)
{
        double threshold = (1 - state_line[VT_HOST_STATE_SHORT]) * BUDGET;
        double *load = g_new(double, s->n_hosts), *alloc = g_new0(double, s->n_hosts), avg = 0;
        GArray *over = g_array_new(FALSE, FALSE, sizeof(guint));
        gint64 t0 = ns_now(), ns;

        for (guint h = 0; h < s->n_hosts; h++) {
                const Host *ho = &s->hosts[h];

                load[h] = watcher_host_load(s, h);
                avg += load[h] / s->n_hosts;
                for (guint i = 0; i < ho->guests->len; i++)
                        alloc[h] += (double)s->traits[g_array_index(ho->guests, guint, i)].size;
                if (load[h] >= threshold)
                        g_array_append_val(over, h);
        }
        g_array_sort_with_data(over, cmp_load_desc, load);
        for (guint i = 0; i < over->len; i++) {
                guint h = g_array_index(over, guint, i), g, to;

                if (s->hosts[h].outgoing > 0)
                        continue;
                g = watcher_choose(s, h, load[h], avg);
                if (g == G_MAXUINT)
                        continue;
                to = watcher_destination(s, g, load, alloc, threshold);
                if (to == G_MAXUINT)
                        continue;
                load[to] += watcher_guest_load(s, g);
                alloc[to] += (double)s->traits[g].size;
                ns = ns_now() - t0;
                move_start(s, g, to, now_us);
                t0 = ns_now() - ns;
        }
        ns = ns_now() - t0;
        g_array_append_val(s->stats.ns_all, ns);
        if (over->len > 0)
                g_array_append_val(s->stats.ns_weigh, ns);
        g_array_unref(over);
        g_free(load);
        g_free(alloc);
}

/* ---- one run ---- */

static void
sim_reset(Sim *s, Policy policy)
{
        s->policy = policy;
        s->hosts = g_new0(Host, s->n_hosts);
        s->guests = g_new0(Guest, s->n_guests);
        s->moves = g_array_new(FALSE, FALSE, sizeof(Move));
        s->sent_us = g_new0(gint64, (gsize)s->n_hosts * s->n_hosts);
        s->sent_guest = g_new0(guint, (gsize)s->n_hosts * s->n_hosts);
        memset(&s->stats, 0, sizeof(s->stats));
        s->stats.ns_all = g_array_new(FALSE, FALSE, sizeof(gint64));
        s->stats.ns_weigh = g_array_new(FALSE, FALSE, sizeof(gint64));
        for (guint h = 0; h < s->n_hosts; h++)
                s->hosts[h].guests = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint g = 0; g < s->n_guests; g++) {
                Guest *gu = &s->guests[g];

                gu->host = s->traits[g].home;
                gu->came_from = G_MAXUINT;
                gu->want = gu->actual = guest_want_at(s, g, 0);
                for (guint i = 0; i < WATCHER_PERIOD_TICKS; i++)
                        gu->hist[i] = watcher_ram(gu);
                gu->hist_sum = WATCHER_PERIOD_TICKS * watcher_ram(gu);
                g_array_append_val(s->hosts[gu->host].guests, g);
        }
}

static void
sim_free_run(Sim *s)
{
        for (guint h = 0; h < s->n_hosts; h++)
                g_array_unref(s->hosts[h].guests);
        g_clear_pointer(&s->hosts, g_free);
        g_clear_pointer(&s->guests, g_free);
        g_clear_pointer(&s->moves, g_array_unref);
        g_clear_pointer(&s->sent_us, g_free);
        g_clear_pointer(&s->sent_guest, g_free);
        g_clear_pointer(&s->stats.ns_all, g_array_unref);
        g_clear_pointer(&s->stats.ns_weigh, g_array_unref);
}

static void
sim_run(Sim *s)
{
        guint64 ticks = (guint64)(s->hours * 3600 * G_USEC_PER_SEC / TICK_US);

        /* The clock starts at one tick: 0 reads "never" to the planner. */
        for (guint64 k = 1; k <= ticks; k++) {
                gint64 now_us = (gint64)k * TICK_US;

                moves_finish(s, now_us);
                measures_finish(s, now_us);
                balloon_tick(s, now_us);
                watcher_record(s, k);
                hosts_judge(s);
                if (s->policy == POLICY_VMTIDE)
                        vmtide_tick(s, now_us);
                else if (s->policy != POLICY_NONE)
                        watcher_tick(s, now_us);
        }
}

/* ---- the report ---- */

static int
cmp_i64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

static gint64
quantile(GArray *a, double q)
{
        if (a->len == 0)
                return 0;
        g_array_sort(a, cmp_i64);
        return g_array_index(a, gint64, (guint)(q * (a->len - 1)));
}

static void
report(const Sim *s, Stats *st, Policy p)
{
        double tick_min = (double)TICK_US / 60e6;

        printf("| %-15s | %9.1f | %8.1f | %5u | %6u | %13.0f | %9.0f | %6u | %5u | %8u | "
               "%7" G_GINT64_FORMAT " | %8" G_GINT64_FORMAT " | %8" G_GINT64_FORMAT " | %6u |\n",
               policy_names[p], (double)st->bytes / GIB, (double)st->bytes_failed / GIB,
               st->started, st->failed, (double)st->critical_ticks * tick_min,
               (double)st->overrun_ticks * tick_min, st->pingpong, st->measures,
               st->started - st->failed, quantile(st->ns_all, 0.5), quantile(st->ns_weigh, 0.5),
               quantile(st->ns_weigh, 0.9), st->ns_weigh->len);
        if (g_getenv("VT_BENCH_WHY") != NULL)
                for (guint w = 0; w < VT_MIGRATE_PLAN_WHY_MAX; w++)
                        fprintf(stderr, "  %s: %u\n", vt_migrate_plan_why_to_string(w), st->why[w]);
}

static gboolean
parse_args(Sim *s, int argc, char **argv, GArray *policies)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                gboolean has = i + 1 < argc;

                if (g_str_equal(a, "--hosts") && has)
                        s->n_hosts = (guint)atoi(argv[++i]);
                else if (g_str_equal(a, "--guests") && has)
                        s->n_guests = (guint)atoi(argv[++i]);
                else if (g_str_equal(a, "--hours") && has)
                        s->hours = atof(argv[++i]);
                else if (g_str_equal(a, "--seed") && has)
                        s->seed = g_ascii_strtoull(argv[++i], NULL, 10);
                else if (g_str_equal(a, "--target") && has)
                        s->config.target_fraction = g_ascii_strtod(argv[++i], NULL);
                else if (g_str_equal(a, "--hysteresis") && has)
                        s->config.hysteresis_ticks = (guint)atoi(argv[++i]);
                else {
                        Policy p;

                        for (p = 0; p < G_N_ELEMENTS(policy_names); p++)
                                if (g_str_equal(a, policy_names[p]))
                                        break;
                        if (p == G_N_ELEMENTS(policy_names)) {
                                fprintf(stderr, "unknown argument '%s'\n", a);
                                return FALSE;
                        }
                        g_array_append_val(policies, p);
                }
        }
        return s->n_hosts >= 2 && s->n_guests >= 1 && s->hours > 0;
}

int
main(int argc, char **argv)
{
        Sim s = {.n_hosts = 200, .n_guests = 2400, .hours = 24, .seed = 1};
        g_autoptr(GArray) policies = g_array_new(FALSE, FALSE, sizeof(Policy));
        guint most = 0;

        vt_migrate_plan_config_init(&s.config);
        vt_migrate_plan_link_init(&s.link);
        if (!parse_args(&s, argc, argv, policies))
                return 2;
        if (policies->len == 0)
                for (Policy p = 0; p < G_N_ELEMENTS(policy_names); p++)
                        g_array_append_val(policies, p);
        s.link.bandwidth = BANDWIDTH;
        traits_make(&s);
        for (guint h = 0, n; h < s.n_hosts; h++, most = MAX(most, n))
                for (guint g = n = 0; g < s.n_guests; g++)
                        n += s.traits[g].home == h;
        s.pg = g_new0(VtMigratePlanGuest, s.n_guests);
        s.pp = g_new0(VtMigratePlanPeer, s.n_hosts);
        s.pp_host = g_new0(guint, s.n_hosts);

        printf("%u hosts (%" G_GUINT64_FORMAT " GiB budget each), %u guests (at most %u on a "
               "host at the start), %.0f h in %" G_GINT64_FORMAT " s ticks, seed %" G_GUINT64_FORMAT
               ", link %" G_GUINT64_FORMAT " MiB/s, %u passes, %" G_GINT64_FORMAT " ms\n\n",
               s.n_hosts, BUDGET / GIB, s.n_guests, most, s.hours, TICK_US / G_USEC_PER_SEC, s.seed,
               s.link.bandwidth / MIB, s.link.max_passes, s.link.downtime_limit_us / 1000);
        printf("| policy          | GiB sent | of it failed | moves | failed | host-min crit | "
               "host-min<0 | pingpg | meas. | finished | ns/call | ns/weigh | p90 weigh | "
               "weighs |\n");
        printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (guint i = 0; i < policies->len; i++) {
                Policy p = g_array_index(policies, Policy, i);

                sim_reset(&s, p);
                sim_run(&s);
                report(&s, &s.stats, p);
                fflush(stdout);
                sim_free_run(&s);
        }
        g_free(s.pg);
        g_free(s.pp);
        g_free(s.pp_host);
        g_free(s.traits);
        return 0;
}
