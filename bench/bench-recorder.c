/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flight recorder's cost: bytes per guest per hour, CPU per record, reading speed. */

/*
 * A simulated host with N guests of 4 GiB, a full tick every 2 s (the
 * daemon's default) for an hour of simulated time: each tick vmtide's
 * balloon policy decides on guests whose figures wander (MemAvailable, the
 * agent's PSI now and then, ages) on a host whose free memory is drawn
 * anew each tick (a churning host: many moves, so an upper bound on the
 * events), the tick and a KSM step are recorded, and a move's end for each
 * balloon moved; the recorder is flushed once per tick into a temporary
 * directory, as the daemon would. Prints, per guest count: bytes written
 * per guest per hour, the CPU time of the recorder's calls alone
 * (encoding, write(2), rotation; the process's CPU clock) per record, per
 * tick and per guest, and how fast the history reads back (decoded).
 *
 *   bench-recorder [--hours H] [N...]      (default: 1, 10, 50 and 200)
 */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <time.h>

#include "host/recorder/recorder-reader.h"
#include "host/recorder/recorder-writer.h"
#include "tests/vt-test-util.h"

#define TICK_US (2 * G_USEC_PER_SEC)
#define WALL0   G_GINT64_CONSTANT(1700000000000000)

typedef struct {
        guint n;
        char **names;
        VtBalloonGuest *guests;
        VtBalloonGuestConfig *configs;
        VtBalloonTarget *targets;
        VtKsmGuest *ksm;
        gint64 *profits;
        VtBalloonState state;
        VtBalloonConfig config;
        GRand *rand;
} Host;

static double
cpu_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
host_init(Host *h, guint n)
{
        h->n = n;
        h->names = g_new0(char *, n + 1);
        h->guests = g_new0(VtBalloonGuest, n);
        h->configs = g_new0(VtBalloonGuestConfig, n);
        h->targets = g_new0(VtBalloonTarget, n);
        h->ksm = g_new0(VtKsmGuest, n);
        h->profits = g_new0(gint64, n);
        h->rand = g_rand_new_with_seed(n);
        vt_balloon_config_init(&h->config);
        for (guint i = 0; i < n; i++) {
                h->names[i] = g_strdup_printf("guest-%03u", i);
                h->guests[i] = (VtBalloonGuest){
                    .name = h->names[i],
                    .flags = VT_BALLOON_GUEST_HAS_BALLOON | VT_BALLOON_GUEST_HAS_STATS |
                             VT_BALLOON_GUEST_HAS_AGENT,
                    .max_bytes = G_GUINT64_CONSTANT(4) << 30,
                    .actual_bytes = G_GUINT64_CONSTANT(4) << 30,
                    .stats_total = G_GUINT64_CONSTANT(4) << 30,
                    .stats_available = G_GUINT64_CONSTANT(2) << 30,
                    .agent_mem_total = G_GUINT64_CONSTANT(4) << 30,
                    .agent_mem_available = G_GUINT64_CONSTANT(2) << 30,
                };
                h->ksm[i].mergeable_bytes = G_GUINT64_CONSTANT(4) << 30;
        }
}

static void
host_clear(Host *h)
{
        g_strfreev(h->names);
        g_free(h->guests);
        g_free(h->configs);
        g_free(h->targets);
        g_free(h->ksm);
        g_free(h->profits);
        g_rand_free(h->rand);
}

/* The guests' figures wander; one in ten has some pressure now and then. */
static void
host_step(Host *h, gint64 now_us)
{
        for (guint i = 0; i < h->n; i++) {
                VtBalloonGuest *g = &h->guests[i];
                gint64 delta = g_rand_int_range(h->rand, -(8 << 20), 8 << 20);
                gint64 avail = (gint64)g->agent_mem_available + delta;

                avail = CLAMP(avail, 64 << 20, (gint64)g->actual_bytes);
                g->agent_mem_available = (guint64)avail;
                g->stats_available = (guint64)avail;
                g->stats_free = (guint64)avail / 3;
                g->agent_psi_some_avg10 =
                    g_rand_int_range(h->rand, 0, 10) == 0 ? g_rand_double_range(h->rand, 0, 20) : 0;
                g->agent_age_us = g_rand_int_range(h->rand, 0, 2000000);
                g->stats_age_us = g_rand_int_range(h->rand, 0, 2000000);
                g->rss_bytes = g->actual_bytes - (guint64)avail / 2;
                h->ksm[i].merging_pages = g_rand_int_range(h->rand, 0, 100000);
                h->profits[i] = h->ksm[i].merging_pages * 4096;
        }
        (void)now_us;
}

/* CPU time spent in the recorder's calls (not the policy's). */
static double recorder_cpu_s;

static void
record_ksm(VtRecorder *recorder, Host *h, gint64 wall_us, gint64 now_us, guint64 sharing)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_KSM,
            .wall_us = wall_us,
            .mono_us = now_us,
            .u.ksm = {.host = {.mem_total = G_GUINT64_CONSTANT(256) << 30,
                               .mem_available = G_GUINT64_CONSTANT(40) << 30,
                               .mem_free = G_GUINT64_CONSTANT(30) << 30,
                               .n_cpus = 32},
                      .sample = {.time_us = now_us,
                                 .run = 1,
                                 .pages_to_scan = 1000,
                                 .sleep_millisecs = 20,
                                 .pages_shared = sharing / 4,
                                 .pages_sharing = sharing,
                                 .full_scans = (guint64)(now_us / G_USEC_PER_SEC / 60),
                                 .ksmd_cpu_us = now_us / 50},
                      .decision = {.run = 1,
                                   .pages_to_scan = 1000,
                                   .sleep_millisecs = 20,
                                   .reason = "merging pays: 120 MiB/CPU-s >= 16 MiB/CPU-s"},
                      .applied = TRUE,
                      .cpu_share = 0.04,
                      .n_guests = h->n,
                      .names = h->names,
                      .guests = h->ksm,
                      .profits = h->profits},
        };

        vt_recorder_add(recorder, &record);
}

/* One simulated tick: decide, record, flush. */
static void
tick(VtRecorder *recorder, Host *h, guint t, VtBalloonHost *host)
{
        gint64 now_us = (gint64)t * TICK_US + 1;
        gint64 wall_us = WALL0 + now_us;
        VtBalloonState before = h->state;
        VtBalloonDecision decision = {.targets = h->targets};
        VtBalloonInput input = {.host = host,
                                .guests = h->guests,
                                .configs = h->configs,
                                .n_guests = h->n,
                                .now_us = now_us};
        g_autoptr(GError) error = NULL;
        double start;

        host_step(h, now_us);
        host->mem_available = (guint64)g_rand_int_range(h->rand, 8, 48) << 30;
        vt_balloon_decide(vt_balloon_policy_decide, &input, &h->config, &h->state, &decision);
        start = cpu_seconds();
        vt_recorder_add_policy(recorder, wall_us, now_us, "vmtide", &h->config);
        vt_recorder_add_tick(recorder, wall_us, NULL, &input, &before, &decision);
        record_ksm(recorder, h, wall_us, now_us, 20000 + t);
        for (guint i = 0; i < h->n; i++) {
                VtBalloonTarget *target = &h->targets[i];

                if (target->action != VT_BALLOON_ACTION_GIVE &&
                    target->action != VT_BALLOON_ACTION_RECLAIM)
                        continue;
                /* The move ends within the tick, recorded as the daemon does. */
                h->guests[i].actual_bytes = target->target_bytes;
                h->guests[i].target_bytes = target->target_bytes;
                h->guests[i].last_change_us = now_us;
                vt_recorder_add_move(recorder, wall_us + 400000, now_us + 400000, h->names[i],
                                     VT_RECORDER_MOVE_DONE, target->target_bytes,
                                     target->target_bytes, 400000, NULL);
        }
        if (!vt_recorder_flush(recorder, wall_us, &error))
                g_printerr("bench-recorder: %s\n", error->message);
        recorder_cpu_s += cpu_seconds() - start;
}

static void
run(guint n, double hours, const char *dir)
{
        VtRecorderConfig config;
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtRecorderReader) reader = NULL;
        VtBalloonHost host = {.mem_total = G_GUINT64_CONSTANT(256) << 30};
        guint n_ticks = (guint)(hours * 3600 * G_USEC_PER_SEC / TICK_US);
        VtRecorderStats stats;
        Host h = {0};
        VtRecorderRecord *record;
        guint64 n_read = 0;
        double cpu, read_cpu;

        vt_recorder_config_init(&config);
        config.dir = dir;
        config.max_bytes = 0;
        config.max_age_us = 0;
        recorder = vt_recorder_new(&config);
        host_init(&h, n);

        recorder_cpu_s = 0;
        for (guint t = 0; t < n_ticks; t++)
                tick(recorder, &h, t, &host);
        cpu = recorder_cpu_s;
        vt_recorder_get_stats(recorder, &stats);

        reader = vt_recorder_reader_new(dir, &error);
        read_cpu = cpu_seconds();
        while (vt_recorder_reader_next(reader, &record, &error)) {
                n_read++;
                vt_recorder_record_free(record);
        }
        read_cpu = cpu_seconds() - read_cpu;
        if (error != NULL)
                g_printerr("bench-recorder: %s\n", error->message);

        g_print("%4u guests: %4.0f KiB/guest/hour (%5.1f MiB/hour), %6.0f B/tick, "
                "%6llu records, CPU %.2f us/record, %6.1f us/tick (%.2f us/guest), "
                "read %.0f records/s\n",
                n, stats.bytes / 1024.0 / n / hours, stats.bytes / 1048576.0 / hours,
                (double)stats.bytes / n_ticks, (unsigned long long)stats.records,
                cpu * 1e6 / (double)stats.records, cpu * 1e6 / n_ticks, cpu * 1e6 / n_ticks / n,
                n_read / MAX(read_cpu, 1e-9));
        host_clear(&h);
}

int
main(int argc, char **argv)
{
        double hours = 1;
        GArray *counts = g_array_new(FALSE, FALSE, sizeof(guint));
        g_autoptr(GError) error = NULL;

        for (int i = 1; i < argc; i++) {
                if (g_strcmp0(argv[i], "--hours") == 0 && i + 1 < argc) {
                        hours = g_ascii_strtod(argv[++i], NULL);
                } else {
                        guint n = (guint)strtoul(argv[i], NULL, 10);

                        if (n > 0)
                                g_array_append_val(counts, n);
                }
        }
        if (counts->len == 0) {
                static const guint defaults[] = {1, 10, 50, 200};

                g_array_append_vals(counts, defaults, G_N_ELEMENTS(defaults));
        }
        g_print("bench-recorder: a full tick every 2 s for %.1f h of simulated time\n", hours);
        for (guint i = 0; i < counts->len; i++) {
                g_autofree char *dir = g_dir_make_tmp("vt-bench-recorder-XXXXXX", &error);

                g_assert_no_error(error);
                run(g_array_index(counts, guint, i), hours, dir);
                if (g_getenv("VT_BENCH_KEEP") == NULL)
                        vt_test_remove_tree(dir);
                else
                        g_print("kept in %s\n", dir);
        }
        g_array_unref(counts);
        return 0;
}
