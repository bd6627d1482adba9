/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark of vmtided at scale: its tick cost, RSS and control-socket
 * round trip with many guests, each a scripted QMP peer. Not a test: it
 * prints a table for docs/benchmarks.md (issue #5: a tick under 5 ms and
 * RSS under 20 MiB with 200 guests).
 *
 * Theory of operation. For each size (1, 50 and N guests, N from the
 * command line, 200 by default) a fresh vmtided is started with a 1 s tick,
 * KSM off (it is the machine's; nothing here touches it), no host PSI
 * trigger (so that ticks come from the timer and the guests alone) and a
 * budget of 80 % of what the guests boot with, so the policy has to reclaim.
 * Each guest is a VtFakeQmp peer, a thread of this process, that models
 * QEMU 7.2 with a 512 MiB guest: it answers the commands vmtided sends
 * (host/qmp-direct/qmp-direct-guest.c) with plausible values, moves its balloon at once when
 * asked and says so in BALLOON_CHANGE. What the guest uses drifts up and
 * down (a triangle wave, each guest at its own phase) so that the policy
 * keeps giving and taking after the first reclaim. There are no agents:
 * the policy works from the balloon statistics.
 *
 * Each peer's socket is linked into the daemon's guest directory as
 * NAME.qmp, and the bench waits for a GUEST_ADDED per guest. Then it asks
 * `query-status` every SAMPLE_MS and records `tick_cost_us` of each tick it
 * sees (ticks the daemon runs between two samples, after a burst of
 * balloon events, are counted as missed), along with the daemon's CPU time
 * over the window (/proc/PID/stat), its VmRSS, VmHWM and RssAnon
 * (/proc/PID/status) at the end, and the round trip of `query-guests`.
 *
 * Usage: bench-scale [N [TICKS]]   (default 200 guests, 60 ticks per size)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/vt-fake-qmp.h"
#include "tests/vt-test-daemon.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB             (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_MAX       (512 * MIB)
#define DEFAULT_GUESTS  200
#define DEFAULT_TICKS   60
#define TICK_MS         1000
#define SAMPLE_MS       100
#define DRIFT_PERIOD_MS 40000
#define DRIFT_AMPLITUDE (96 * MIB) /* peak to peak */
#define N_ROUND_TRIPS   21
#define ADD_GUARD_US    (120 * G_USEC_PER_SEC)

/*
 * One modelled QEMU. Only its peer's thread touches the balloon; the
 * counters are read by the main thread with atomics.
 */
typedef struct {
        VtFakeQmp *peer;
        guint index;
        guint64 used_base;
        gint64 epoch_us;
        guint64 actual;
        gint n_balloon;
        gint n_commands;
} FakeGuest;

/* What the modelled guest uses now: its base, drifting by ±amplitude/2. */
static guint64
fake_guest_used(const FakeGuest *g)
{
        gint64 t_ms =
            (g_get_monotonic_time() - g->epoch_us) / 1000 + (gint64)g->index * DRIFT_PERIOD_MS / 7;
        gint64 phase = t_ms % DRIFT_PERIOD_MS;
        gint64 half = DRIFT_PERIOD_MS / 2;
        gint64 tri = phase < half ? phase : DRIFT_PERIOD_MS - phase;

        return g->used_base + (guint64)(tri * (gint64)DRIFT_AMPLITUDE / half) - DRIFT_AMPLITUDE / 2;
}

static void
fake_guest_send(VtFakeQmp *peer, json_object *message)
{
        g_autofree char *text = g_strconcat(json_object_to_json_string(message), "\r\n", NULL);

        vt_fake_qmp_send(peer, text, strlen(text));
}

static const char *
arg_string(const VtQmpMessage *command, const char *name)
{
        json_object *member = NULL;

        if (command->value == NULL || !json_object_object_get_ex(command->value, name, &member))
                return "";
        return json_object_get_string(member);
}

static char *
fake_guest_stats(FakeGuest *g)
{
        guint64 used = fake_guest_used(g);
        guint64 available = g->actual > used ? g->actual - used : 0;
        guint64 free_bytes = available / 3;

        return g_strdup_printf(
            "{\"stats\": {\"stat-swap-out\": 0, \"stat-swap-in\": 0, \"stat-major-faults\": 120, "
            "\"stat-minor-faults\": 250000, \"stat-htlb-pgalloc\": 0, \"stat-htlb-pgfail\": 0, "
            "\"stat-total-memory\": %" G_GUINT64_FORMAT ", \"stat-free-memory\": %" G_GUINT64_FORMAT
            ", \"stat-available-memory\": %" G_GUINT64_FORMAT
            ", \"stat-disk-caches\": %" G_GUINT64_FORMAT "}, \"last-update\": %" G_GINT64_FORMAT
            "}",
            g->actual, free_bytes, available, available - free_bytes,
            g_get_real_time() / G_USEC_PER_SEC);
}

/* Runs in the peer's thread. */
static void
fake_guest_answer(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        FakeGuest *g = user_data;
        const char *name = command->name;
        g_autofree char *reply = NULL;

        g_atomic_int_inc(&g->n_commands);
        if (g_str_equal(name, "query-memory-size-summary")) {
                reply = g_strdup_printf(
                    "{\"base-memory\": %" G_GUINT64_FORMAT ", \"plugged-memory\": 0}", GUEST_MAX);
        } else if (g_str_equal(name, "query-balloon")) {
                reply = g_strdup_printf("{\"actual\": %" G_GUINT64_FORMAT "}", g->actual);
        } else if (g_str_equal(name, "qom-list")) {
                if (g_str_equal(arg_string(command, "path"), "/machine/peripheral"))
                        reply = g_strdup("[{\"name\": \"type\", \"type\": \"string\"}, "
                                         "{\"name\": \"balloon0\", \"type\": "
                                         "\"child<virtio-balloon-pci>\"}]");
                else
                        reply = g_strdup("[{\"name\": \"type\", \"type\": \"string\"}]");
        } else if (g_str_equal(name, "qom-set")) {
                reply = g_strdup("{}");
        } else if (g_str_equal(name, "qom-get") &&
                   g_str_equal(arg_string(command, "property"), "guest-stats")) {
                reply = fake_guest_stats(g);
        } else if (g_str_equal(name, "balloon")) {
                json_object *value = NULL;
                g_autoptr(json_object) data = json_object_new_object();
                g_autoptr(json_object) event = NULL;

                if (command->value != NULL &&
                    json_object_object_get_ex(command->value, "value", &value) &&
                    json_object_get_int64(value) > 0)
                        g->actual = MIN(json_object_get_uint64(value), GUEST_MAX);
                g_atomic_int_inc(&g->n_balloon);
                vt_fake_qmp_reply(peer, command, "{}");
                json_object_object_add(data, "actual", json_object_new_int64((gint64)g->actual));
                event = vt_qmp_message_new_event("BALLOON_CHANGE", data, g_get_real_time());
                fake_guest_send(peer, event);
                return;
        } else {
                g_autoptr(json_object) error = vt_qmp_message_new_error(
                    "CommandNotFound", "The command has not been found", command->id);

                fake_guest_send(peer, error);
                return;
        }
        vt_fake_qmp_reply(peer, command, reply);
}

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

static gint64
percentile(GArray *samples, double p)
{
        guint index;

        if (samples->len == 0)
                return -1;
        g_array_sort(samples, compare_gint64);
        index = (guint)((samples->len - 1) * p + 0.5);
        return g_array_index(samples, gint64, index);
}

/* A `VmRSS:`-style line of /proc/PID/status, in KiB; -1 if absent. */
static gint64
proc_status_kib(GPid pid, const char *key)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
        g_autofree char *text = NULL;
        const char *line;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return -1;
        line = strstr(text, key);
        if (line == NULL)
                return -1;
        return g_ascii_strtoll(line + strlen(key), NULL, 10);
}

/* utime + stime of /proc/PID/stat, microseconds; -1 if unreadable. */
static gint64
proc_cpu_us(GPid pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
        g_autofree char *text = NULL;
        g_auto(GStrv) fields = NULL;
        const char *after_comm;
        long hz = sysconf(_SC_CLK_TCK);

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return -1;
        after_comm = strrchr(text, ')');
        if (after_comm == NULL || hz <= 0)
                return -1;
        /* Fields from 3 (state) on; utime and stime are fields 14 and 15. */
        fields = g_strsplit(after_comm + 2, " ", 14);
        if (g_strv_length(fields) < 14)
                return -1;
        return (g_ascii_strtoll(fields[11], NULL, 10) + g_ascii_strtoll(fields[12], NULL, 10)) *
               G_USEC_PER_SEC / hz;
}

static json_object *
execute(VtTestDaemon *daemon, const char *command)
{
        g_autoptr(GError) error = NULL;
        json_object *ret = vt_test_daemon_execute(daemon, command, NULL, &error);

        if (ret == NULL)
                g_error("%s: %s", command, error->message);
        return ret;
}

static gint64
member_int(json_object *object, const char *name)
{
        json_object *member = NULL;

        if (!json_object_object_get_ex(object, name, &member))
                return -1;
        return json_object_get_int64(member);
}

static gboolean
never(gpointer data)
{
        (void)data;
        return FALSE;
}

typedef struct {
        guint n_guests;
        gint64 add_ms;
        guint n_ticks_seen;
        guint n_ticks_missed;
        gint64 tick_median_us;
        gint64 tick_p90_us;
        gint64 tick_max_us;
        double cpu_percent;
        guint n_decisions;
        guint n_balloon_commands;
        gint64 rss_kib;
        gint64 hwm_kib;
        gint64 anon_kib;
        gint64 query_guests_us;
        gsize query_guests_bytes;
} Result;

static void
link_guest(VtTestDaemon *daemon, FakeGuest *g)
{
        g_autofree char *link =
            g_strdup_printf("%s/scale%03u.qmp", vt_test_daemon_get_guest_dir(daemon), g->index);
        const char *target = vt_fake_qmp_get_address(g->peer) + strlen("unix:");

        if (symlink(target, link) < 0)
                g_error("linking %s: %s", link, g_strerror(errno));
}

static void
wait_all_added(VtTestDaemon *daemon, guint n_guests)
{
        guint from = 0;

        for (guint i = 0; i < n_guests; i++) {
                if (vt_test_daemon_wait_event(daemon, &from, "GUEST_ADDED", NULL, ADD_GUARD_US) ==
                    NULL) {
                        g_autofree char *log = vt_test_daemon_read_log(daemon);

                        g_error("only %u of %u guests added; vmtided's log:\n%s", i, n_guests, log);
                }
        }
        if (vt_test_daemon_count_events(daemon, 0, "GUEST_REMOVED", NULL) > 0)
                g_error("guests were dropped while they were added");
}

/* Samples query-status until @n_ticks ticks were seen. */
static void
sample_ticks(VtTestDaemon *daemon, guint n_ticks, Result *r)
{
        g_autoptr(GArray) costs = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(json_object) first = execute(daemon, "query-status");
        gint64 last = member_int(first, "ticks");
        gint64 guard_us = g_get_monotonic_time() + (gint64)n_ticks * TICK_MS * 1000 * 3;

        while (costs->len < n_ticks) {
                g_autoptr(json_object) status = NULL;
                gint64 ticks, cost;

                if (g_get_monotonic_time() > guard_us)
                        g_error("vmtided ticked %u times in %u s", costs->len, n_ticks * 3);
                /* A sampling period, not a wait for something. */
                vt_test_run_until(never, NULL, SAMPLE_MS * 1000);
                status = execute(daemon, "query-status");
                ticks = member_int(status, "ticks");
                if (ticks == last)
                        continue;
                r->n_ticks_missed += (guint)(ticks - last - 1);
                last = ticks;
                cost = member_int(status, "tick_cost_us");
                g_array_append_val(costs, cost);
        }
        r->n_ticks_seen = costs->len;
        r->tick_median_us = percentile(costs, 0.5);
        r->tick_p90_us = percentile(costs, 0.9);
        r->tick_max_us = percentile(costs, 1.0);
}

static void
time_query_guests(VtTestDaemon *daemon, Result *r)
{
        g_autoptr(GArray) samples = g_array_new(FALSE, FALSE, sizeof(gint64));

        for (guint i = 0; i < N_ROUND_TRIPS; i++) {
                gint64 start = g_get_monotonic_time();
                g_autoptr(json_object) reply = execute(daemon, "query-guests");
                gint64 elapsed = g_get_monotonic_time() - start;
                json_object *guests = NULL;

                g_array_append_val(samples, elapsed);
                if (!json_object_object_get_ex(reply, "guests", &guests) ||
                    json_object_array_length(guests) != r->n_guests)
                        g_error("query-guests did not list %u guests", r->n_guests);
                r->query_guests_bytes = strlen(json_object_to_json_string(reply));
        }
        r->query_guests_us = percentile(samples, 0.5);
}

static void
run_size(const char *greeting, guint n_guests, guint n_ticks, Result *r)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("bench-scale-XXXXXX", &error);
        g_autofree FakeGuest *guests = g_new0(FakeGuest, n_guests);
        g_autofree char *config = NULL;
        g_autoptr(VtTestDaemon) daemon = NULL;
        gint64 epoch_us = g_get_monotonic_time();
        gint64 start_us, cpu_start_us, window_start_us;
        guint first_event;
        GPid pid;

        if (dir == NULL)
                g_error("%s", error->message);
        *r = (Result){.n_guests = n_guests};
        config = g_strdup_printf("[daemon]\n"
                                 "tick-interval-ms = %u\n"
                                 "host-psi-trigger =\n"
                                 "[budget]\n"
                                 "total = %" G_GUINT64_FORMAT "\n"
                                 "[ksm]\n"
                                 "enabled = false\n",
                                 TICK_MS, GUEST_MAX * n_guests / 10 * 8);
        daemon = vt_test_daemon_start(dir, config, &error);
        if (daemon == NULL)
                g_error("%s", error->message);
        pid = vt_test_daemon_get_pid(daemon);

        for (guint i = 0; i < n_guests; i++) {
                FakeGuest *g = &guests[i];

                g->index = i;
                g->epoch_us = epoch_us;
                g->actual = GUEST_MAX;
                /* 160 to 352 MiB at the middle of the drift. */
                g->used_base = (160 + (i * 37) % 193) * MIB;
                g->peer = vt_fake_qmp_new(greeting, fake_guest_answer, g);
        }
        start_us = g_get_monotonic_time();
        for (guint i = 0; i < n_guests; i++)
                link_guest(daemon, &guests[i]);
        wait_all_added(daemon, n_guests);
        r->add_ms = (g_get_monotonic_time() - start_us) / 1000;

        first_event = vt_test_daemon_get_n_events(daemon);
        for (guint i = 0; i < n_guests; i++)
                g_atomic_int_set(&guests[i].n_balloon, 0);
        cpu_start_us = proc_cpu_us(pid);
        window_start_us = g_get_monotonic_time();
        sample_ticks(daemon, n_ticks, r);
        r->cpu_percent = 100.0 * (double)(proc_cpu_us(pid) - cpu_start_us) /
                         (double)(g_get_monotonic_time() - window_start_us);
        r->n_decisions = vt_test_daemon_count_events(daemon, first_event, "DECISION", NULL);
        for (guint i = 0; i < n_guests; i++)
                r->n_balloon_commands += (guint)g_atomic_int_get(&guests[i].n_balloon);
        r->rss_kib = proc_status_kib(pid, "VmRSS:");
        r->hwm_kib = proc_status_kib(pid, "VmHWM:");
        r->anon_kib = proc_status_kib(pid, "RssAnon:");
        time_query_guests(daemon, r);

        g_clear_pointer(&daemon, vt_test_daemon_free);
        for (guint i = 0; i < n_guests; i++)
                vt_fake_qmp_free(guests[i].peer);
        vt_test_remove_tree(dir);
}

static void
print_result(const Result *r)
{
        printf("| %u | %.2f ms | %.2f ms | %.2f ms | %u (%u missed) | %.1f %% | %u | %.1f MiB | "
               "%.1f MiB | %.1f MiB | %.2f ms (%.1f KiB) | %.2f s |\n",
               r->n_guests, r->tick_median_us / 1000.0, r->tick_p90_us / 1000.0,
               r->tick_max_us / 1000.0, r->n_ticks_seen, r->n_ticks_missed, r->cpu_percent,
               r->n_decisions, r->rss_kib / 1024.0, r->hwm_kib / 1024.0, r->anon_kib / 1024.0,
               r->query_guests_us / 1000.0, r->query_guests_bytes / 1024.0, r->add_ms / 1000.0);
}

int
main(int argc, char **argv)
{
        guint n_max = argc > 1 ? (guint)atoi(argv[1]) : DEFAULT_GUESTS;
        guint n_ticks = argc > 2 ? (guint)atoi(argv[2]) : DEFAULT_TICKS;
        g_autofree char *greeting = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint));
        g_autofree Result *results = NULL;

        if (argc > 3 || n_max == 0 || n_max > 1000 || n_ticks == 0) {
                fprintf(stderr, "usage: %s [GUESTS (1-1000, default %u) [TICKS (default %u)]]\n",
                        argv[0], DEFAULT_GUESTS, DEFAULT_TICKS);
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (!g_file_get_contents(VT_RECORDED_QMP_DIR "/greeting.json", &greeting, NULL, &error)) {
                fprintf(stderr, "bench-scale: %s\n", error->message);
                return 1;
        }
        for (guint n = 1; n < n_max; n *= 50)
                g_array_append_val(sizes, n);
        g_array_append_val(sizes, n_max);
        results = g_new0(Result, sizes->len);

        for (guint i = 0; i < sizes->len; i++) {
                guint n = g_array_index(sizes, guint, i);

                printf("%u guests, %u ticks of %u ms...\n", n, n_ticks, TICK_MS);
                run_size(greeting, n, n_ticks, &results[i]);
                printf("  tick median %.2f ms, max %.2f ms; %u balloon commands\n",
                       results[i].tick_median_us / 1000.0, results[i].tick_max_us / 1000.0,
                       results[i].n_balloon_commands);
        }

        printf("\n| guests | tick median | tick p90 | tick max | ticks seen | daemon CPU | "
               "decisions | VmRSS | VmHWM | RssAnon | `query-guests` median (reply) | all added in "
               "|\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (guint i = 0; i < sizes->len; i++)
                print_result(&results[i]);
        if (sizes->len > 1) {
                const Result *a = &results[0];
                const Result *b = &results[sizes->len - 1];
                double n = (double)(b->n_guests - a->n_guests);

                printf("\nper guest (%u vs %u): tick %.1f us, RSS %.1f KiB, query-guests %.1f "
                       "us\n",
                       b->n_guests, a->n_guests, (b->tick_median_us - a->tick_median_us) / n,
                       (double)(b->rss_kib - a->rss_kib) / n,
                       (b->query_guests_us - a->query_guests_us) / n);
        }
        return 0;
}
