/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A realistic recorded history from a scripted scenario, for tests, docs and demos. */

/*
 * Theory of operation
 *
 * A small world, stepped every 0.5 s, and the real balloon policy run on
 * it every tick exactly as vmtided runs it (vt_balloon_decide() on a
 * snapshot, the carried state, the decision recorded with
 * vt_recorder_add_tick()), with the writer the daemon uses.
 *
 * The world: a 16 GiB host, 1.5 GiB of it the host's own, three 4 GiB
 * guests under a 10 GiB budget (12 GiB promised: overcommitted):
 *
 *   - web: what it uses swings between 1.0 and 1.8 GiB with a 20-minute
 *     period, plus a 1 GiB spike at minutes 40 to 43;
 *   - db: 2.2 GiB growing by 0.3 GiB over the hour, a wide page cache,
 *     twice web's shares and a 2 GiB minimum;
 *   - batch: 0.4 GiB idle; a job ramping to 3.2 GiB from minute 15 to 30,
 *     another to 2.5 GiB from minute 45 to 52.
 *
 * Each guest's MemTotal is its balloon size less 100 MiB of kernel; what
 * it does not use is available (page cache included); when it uses more
 * than it has, it swaps: MemAvailable 2 % of MemTotal and PSI climbing.
 * Its agent pushes (PRESSURE_PUSH) when PSI passes 10 % or MemAvailable
 * drops by a fifth. The balloon moves toward the target at a speed of its
 * own (web 400 MiB/s, db 150 MiB/s, batch 300 MiB/s), half as fast when
 * inflating into a guest with under 10 % available, after a 0.5 s delay
 * (QMP's round trip), and the move's end is recorded. KSM merges up to
 * 600 MiB across the guests, recorded every 5 ticks with ksmd's CPU.
 *
 * This is not the replay's closed-loop model (recorder-replay.c), on
 * purpose: the speeds, the delay, the slowdown and the swap differ, so
 * that replaying the record through that model measures its error.
 */
#include "tests/vt-test-history.h"

#include <math.h>

#include "balloon/balloon-registry.h"
#include "host/recorder/recorder-writer.h"

#define GIB      (G_GUINT64_CONSTANT(1) << 30)
#define MIB      (G_GUINT64_CONSTANT(1) << 20)
#define N_GUESTS 3
#define SUBSTEPS 4

typedef struct {
        const char *name;
        double rate; /* bytes per second */
        double used;
        double prev_available;
        guint64 actual;
        guint64 target;
        gint64 asked_us; /* when the move was asked for; 0: none under way */
        gint64 last_change_us;
        gboolean last_reclaim;
        double psi;
        gboolean push;
} World;

/* What guest @i uses at minute @m. */
static double
scenario_used(guint i, double m, GRand *rand)
{
        double noise = g_rand_double_range(rand, -30, 30) * (double)MIB;

        switch (i) {
        case 0:
                return (1.4 + 0.4 * sin(2 * G_PI * m / 20) + (m >= 40 && m < 43 ? 1.0 : 0)) *
                           (double)GIB +
                       noise;
        case 1:
                return (2.2 + 0.3 * m / 60) * (double)GIB + noise;
        default:
                if (m >= 15 && m < 30)
                        return (0.4 + 2.8 * MIN(1.0, (m - 15) / 5)) * (double)GIB + noise;
                if (m >= 45 && m < 52)
                        return (0.4 + 2.1 * MIN(1.0, (m - 45) / 2)) * (double)GIB + noise;
                return 0.4 * (double)GIB + noise;
        }
}

static double
guest_total(const World *w)
{
        return (double)w->actual - 100.0 * (double)MIB;
}

static double
guest_available(const World *w)
{
        double total = guest_total(w);

        return w->used < total * 0.98 ? total - w->used : total * 0.02;
}

/* One 0.5 s step of one guest's balloon; records the end of a move. */
static void
world_step_balloon(World *w, VtRecorder *recorder, gint64 wall_us, gint64 now_us, double dt_s)
{
        double step = w->rate * dt_s;

        if (w->asked_us == 0 || now_us - w->asked_us < 500000)
                return;
        if (w->target < w->actual && guest_available(w) < 0.1 * guest_total(w))
                step /= 2;
        if (w->actual < w->target)
                w->actual =
                    (double)(w->target - w->actual) > step ? w->actual + (guint64)step : w->target;
        else
                w->actual =
                    (double)(w->actual - w->target) > step ? w->actual - (guint64)step : w->target;
        if (w->actual == w->target) {
                vt_recorder_add_move(recorder, wall_us, now_us, w->name, VT_RECORDER_MOVE_DONE,
                                     w->actual, w->target, now_us - w->asked_us, NULL);
                w->asked_us = 0;
        }
}

static void
world_sense(World *w, guint i, double minute, GRand *rand)
{
        double total, available;

        w->used = MAX(scenario_used(i, minute, rand), 128.0 * (double)MIB);
        total = guest_total(w);
        available = guest_available(w);
        w->psi =
            available < 0.1 * total ? MIN(80.0, 40.0 * (1.0 - available / (0.1 * total))) : 0.0;
        w->push = w->psi >= 10 || available < 0.8 * w->prev_available;
        w->prev_available = available;
}

static void
world_snapshot(const World *w, gint64 now_us, GRand *rand, VtBalloonGuest *ret_guest)
{
        double available = guest_available(w);
        guint64 gap = w->actual > w->target ? w->actual - w->target : w->target - w->actual;

        *ret_guest = (VtBalloonGuest){
            .name = w->name,
            .flags = VT_BALLOON_GUEST_HAS_BALLOON | VT_BALLOON_GUEST_HAS_STATS |
                     VT_BALLOON_GUEST_HAS_AGENT,
            .max_bytes = 4 * GIB,
            .actual_bytes = w->actual,
            .target_bytes = w->target,
            .last_change_us = w->last_change_us,
            .stats_total = (guint64)guest_total(w),
            .stats_free = (guint64)(available * 0.4),
            .stats_available = (guint64)available,
            .stats_age_us = g_rand_int_range(rand, 0, 2000000),
            .agent_mem_total = (guint64)guest_total(w),
            .agent_mem_available = (guint64)available,
            .agent_psi_some_avg10 = w->psi,
            .agent_psi_full_avg10 = w->psi / 3,
            .agent_age_us = g_rand_int_range(rand, 0, 2000000),
            .rss_bytes = (guint64)MIN((double)w->actual, w->used + available * 0.6),
        };
        if (w->target != 0 && gap > 4 * MIB)
                ret_guest->flags |= VT_BALLOON_GUEST_MOVING;
        if (w->last_reclaim)
                ret_guest->flags |= VT_BALLOON_GUEST_LAST_RECLAIM;
        if (w->push)
                ret_guest->flags |= VT_BALLOON_GUEST_PRESSURE_PUSH;
        (void)now_us;
}

static void
record_ksm(VtRecorder *recorder, gint64 wall_us, gint64 now_us, guint t, const World *world)
{
        static const char *const names[N_GUESTS] = {"web", "db", "batch"};
        VtKsmGuest guests[N_GUESTS];
        gint64 profits[N_GUESTS];
        double merged = 600.0 * (double)MIB * (1 - exp(-(double)t / 300.0));
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_KSM, .wall_us = wall_us, .mono_us = now_us};

        for (guint i = 0; i < N_GUESTS; i++) {
                guests[i] = (VtKsmGuest){.mergeable_bytes = world[i].actual,
                                         .merging_pages = (gint64)(merged / 3 / 4096)};
                profits[i] = (gint64)(merged / 3);
        }
        record.u.ksm = (VtRecorderKsm){
            .host = {.mem_total = 16 * GIB, .n_cpus = 8},
            .sample = {.time_us = now_us,
                       .run = 1,
                       .pages_to_scan = 1000,
                       .sleep_millisecs = 20,
                       .pages_shared = (guint64)(merged / 4096 / 6),
                       .pages_sharing = (guint64)(merged / 4096),
                       .general_profit = (gint64)merged,
                       .has_general_profit = TRUE},
            .decision = {.run = 1, .pages_to_scan = 1000, .sleep_millisecs = 20},
            .applied = TRUE,
            .cpu_share = 0.02 + 0.04 * exp(-(double)t / 600.0),
            .n_guests = N_GUESTS,
            .names = (char **)names,
            .guests = guests,
            .profits = profits,
        };
        record.u.ksm.decision.reason = "merging pays";
        vt_recorder_add(recorder, &record);
}

/* The host, from the guests' footprints. */
static void
world_host(const VtBalloonGuest *guests, guint64 budget, guint t, VtBalloonHost *ret_host)
{
        double used = 1.5 * (double)GIB - 600.0 * (double)MIB * (1 - exp(-(double)t / 300.0));
        double available;

        for (guint i = 0; i < N_GUESTS; i++)
                used += (double)guests[i].rss_bytes;
        available = MAX(16.0 * (double)GIB - used, 64.0 * (double)MIB);
        *ret_host = (VtBalloonHost){
            .mem_total = 16 * GIB,
            .mem_available = (guint64)available,
            .psi_some_avg10 = available < (double)GIB ? 20.0 * (1 - available / (double)GIB) : 0,
            .budget_limit = budget,
        };
}

static void
world_apply(World *world, const VtBalloonTarget *targets, gint64 now_us)
{
        for (guint i = 0; i < N_GUESTS; i++) {
                World *w = &world[i];

                w->push = FALSE;
                if (targets[i].action != VT_BALLOON_ACTION_GIVE &&
                    targets[i].action != VT_BALLOON_ACTION_RECLAIM)
                        continue;
                w->target = targets[i].target_bytes;
                w->last_change_us = now_us;
                w->asked_us = now_us;
                w->last_reclaim = targets[i].action == VT_BALLOON_ACTION_RECLAIM;
        }
}

/* One tick: the world moves for a tick, the policy decides, all recorded. */
static void
world_tick(World *world, VtRecorder *recorder, const VtTestHistoryOptions *o,
           const VtBalloonPolicyInfo *policy, const VtBalloonConfig *config, VtBalloonState *state,
           guint t, GRand *rand)
{
        static const VtBalloonGuestConfig configs[N_GUESTS] = {
            {0}, {.min_bytes = 2 * GIB, .shares = 2000}, {0}};
        gint64 now_us = 1000000 + (gint64)t * o->tick_us;
        gint64 wall_us = o->wall0_us + (gint64)t * o->tick_us;
        VtBalloonGuest guests[N_GUESTS];
        VtBalloonTarget targets[N_GUESTS];
        VtBalloonHost host;
        VtBalloonState before = *state;
        VtBalloonDecision decision = {.targets = targets};
        VtBalloonInput input = {
            .host = &host, .guests = guests, .configs = configs, .n_guests = N_GUESTS};
        gboolean pushed = FALSE;

        for (guint s = 1; s <= SUBSTEPS; s++) {
                gint64 sub_us = now_us - o->tick_us + (gint64)s * o->tick_us / SUBSTEPS;

                for (guint i = 0; i < N_GUESTS; i++)
                        world_step_balloon(&world[i], recorder, wall_us - now_us + sub_us, sub_us,
                                           (double)o->tick_us / SUBSTEPS / G_USEC_PER_SEC);
        }
        for (guint i = 0; i < N_GUESTS; i++) {
                world_sense(&world[i], i, (double)t * (double)o->tick_us / 60e6, rand);
                world_snapshot(&world[i], now_us, rand, &guests[i]);
                pushed |= world[i].push;
        }
        world_host(guests, o->budget, t, &host);
        input.now_us = now_us;
        vt_balloon_decide(policy->decide, &input, config, state, &decision);
        vt_recorder_add_tick(recorder, wall_us, pushed ? "pressure push" : NULL, &input, &before,
                             &decision);
        world_apply(world, targets, now_us);
        if (t % 5 == 0 && !o->no_ksm)
                record_ksm(recorder, wall_us, now_us, t, world);
}

/**
 * vt_test_history_options_init:
 * @options: (out): options
 * @dir: the history's directory
 *
 * An hour at 2 s ticks, vmtide's policy, a 10 GiB budget, seed 13.
 */
void
vt_test_history_options_init(VtTestHistoryOptions *options, const char *dir)
{
        *options = (VtTestHistoryOptions){
            .dir = dir,
            .policy = "vmtide",
            .n_ticks = 1800,
            .tick_us = 2 * G_USEC_PER_SEC,
            .wall0_us = G_GINT64_CONSTANT(1767261600000000), /* 2026-01-01 10:00 UTC */
            .seed = 13,
            .budget = 10 * GIB,
        };
}

/**
 * vt_test_history_write:
 * @options: the scenario
 * @error: where a write that failed is told
 *
 * Plays the scenario and records it in @options->dir.
 *
 * Returns: %FALSE with @error set when the history could not be written
 */
gboolean
vt_test_history_write(const VtTestHistoryOptions *options, GError **error)
{
        static const char *const names[N_GUESTS] = {"web", "db", "batch"};
        static const double rates[N_GUESTS] = {400, 150, 300};
        const VtBalloonPolicyInfo *policy =
            vt_balloon_registry_lookup(options->policy != NULL ? options->policy : "vmtide");
        g_autoptr(GRand) rand = g_rand_new_with_seed(options->seed);
        g_autoptr(VtRecorder) recorder = NULL;
        VtRecorderConfig rconfig;
        VtBalloonConfig config;
        VtBalloonState state = {0};
        World world[N_GUESTS];

        g_return_val_if_fail(policy != NULL, FALSE);
        vt_recorder_config_init(&rconfig);
        rconfig.dir = options->dir;
        recorder = vt_recorder_new(&rconfig);
        vt_balloon_config_init(&config);
        for (guint i = 0; i < N_GUESTS; i++)
                world[i] = (World){.name = names[i],
                                   .rate = rates[i] * (double)MIB,
                                   .actual = 4 * GIB,
                                   .prev_available = 4.0 * (double)GIB};
        vt_recorder_add_control(recorder, options->wall0_us, 1000000,
                                VT_RECORDER_CONTROL_DAEMON_START, NULL, 0,
                                "vmtided (generated history), backend qmp");
        for (guint i = 0; i < N_GUESTS; i++)
                vt_recorder_add_control(recorder, options->wall0_us, 1000000,
                                        VT_RECORDER_CONTROL_GUEST_ADDED, names[i], 0, NULL);
        vt_recorder_add_policy(recorder, options->wall0_us, 1000000, policy->name, &config);
        for (guint t = 0; t < options->n_ticks; t++) {
                world_tick(world, recorder, options, policy, &config, &state, t, rand);
                if (!vt_recorder_flush(recorder, options->wall0_us + (gint64)t * options->tick_us,
                                       error))
                        return FALSE;
        }
        return TRUE;
}
