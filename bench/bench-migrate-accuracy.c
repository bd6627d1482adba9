/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cost model's predictions against real migrations: one TCG guest
 * moved back and forth between QEMU 7.2 processes by the executor, across
 * dirty rates from 0 to above the bandwidth cap and several caps. Not a
 * test: it prints a table and a summary for docs/benchmarks.md.
 *
 * Theory of operation
 *
 * One source boots once (GUEST_MEMORY, its workload holding a dirty buffer
 * of --buffer bytes). A warm-up move at a high cap, the buffer held but not
 * written, tells the guest's resident size (what the first pass sends);
 * each completed move with nothing dirtied refines it. Then, for every
 * repetition, cap and share of the cap:
 *
 *   1. the workload dirties its buffer at share × cap ("dirty R B"; 0: the
 *      buffer is freed, its pages keep their data);
 *   2. as the daemon does: the first pass is predicted (it does not depend
 *      on the rate), the dirty rate is measured over that window
 *      (vt_guest_measure_dirty_rate_async(), which QEMU rounds up to whole
 *      seconds), then over 1 s;
 *   3. the move is predicted (vt_migrate_cost_predict(): the guest's RAM,
 *      the resident estimate, both rates and their windows (the long one
 *      read as the working set), the cap, the downtime limit the move uses,
 *      a pass limit);
 *   4. a destination QEMU starts with -incoming, and the executor runs the
 *      move at the cap under a fixed downtime limit: no ramp (the cap of
 *      the steering is the initial limit), so a move that stalls is
 *      cancelled, as is one past its pass or time limit. A completed move
 *      makes the destination the next source (the spent source quits); a
 *      cancelled one leaves the guest where it was.
 *
 * After a completed move the workload's "check" counts the dirty pages
 * whose tag was lost. A guest that crashes (its QEMU exits: the guest
 * kernel died) is reported with its console's oops lines, booted afresh,
 * warmed up, and the run is tried again.
 *
 * Afterwards each run is predicted again under variants of the inputs (the
 * whole RAM as resident, as the planner assumes without a figure; the
 * first-pass window alone, the model before the working set; the 1 s rate
 * alone; the switch-over time, the median downtime of the moves that
 * dirtied nothing), and each variant is scored: the share of
 * completed moves whose total time is within ±15 % of the prediction, and
 * whether every move that did not complete was predicted not to converge.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/qmp-direct/qmp-direct-guest.h"
#include "migrate/migrate-exec.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB          (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_NAME   "acc"
#define MOVE_GUARD   (600 * G_USEC_PER_SEC)
#define WARMUP_CAP   (256 * MIB)
#define TOLERANCE    0.15
#define RUNS_MAX     256
#define CAPS_MAX     8
#define SHARES_MAX   16
#define POLL_US      (100 * 1000)
#define WINDOW_MIN_S 1
#define WINDOW_MAX_S 60

typedef struct {
        guint64 memory;
        guint64 buffer;
        guint max_passes;
        gint64 downtime_limit_us;
        guint repeat;
        guint64 caps[CAPS_MAX];
        guint n_caps;
        guint shares[SHARES_MAX]; /* percent of the cap */
        guint n_shares;
} Options;

/* One move: what was measured and predicted before, what happened. */
typedef struct {
        guint64 cap;
        guint share;
        guint64 set_rate;
        guint64 rate;     /* measured over window_us, as the daemon does */
        gint64 window_us; /* the window QEMU measured over */
        guint64 rate_1s;  /* measured over 1 s */
        guint64 resident; /* the estimate the prediction used */
        guint64 rss;      /* the source QEMU's VmRSS when it started */
        VtMigrateCost pred;
        VtMigrateExecOutcome outcome;
        VtMigrateSteerCause cause;
        gint64 total_us;
        gint64 downtime_us;
        guint passes;
        guint64 bytes;
        gint64 wall_us;     /* the whole run: measuring, destination, move */
        guint64 lost_pages; /* after a completed move: dirty pages whose tag was lost */
} Run;

static struct {
        Options opt;
        VtTestGuest *source;
        VtGuest *guest;
        guint64 resident;
        guint crashes;
        guint moves_since_boot;
        Run runs[RUNS_MAX];
        guint n_runs;
} S;

static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) die(const char *format, ...)
{
        va_list args;

        va_start(args, format);
        fprintf(stderr, "bench-migrate-accuracy: ");
        vfprintf(stderr, format, args);
        fprintf(stderr, "\n");
        va_end(args);
        exit(1);
}

/* The source's QEMU is gone (the guest crashed): the run is retried. */
static gboolean
source_died(void)
{
        return vt_test_guest_wait_exit(S.source, 0);
}

/* The workload's reply (transfer full); NULL when the source died. */
static char *
workload(VtTestGuest *test_guest, const char *command)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = vt_test_guest_workload(test_guest, command, 0, &error);

        if (reply == NULL && test_guest == S.source && source_died())
                return NULL;
        if (reply == NULL)
                die("workload '%s': %s", command, error->message);
        if (!g_str_has_prefix(reply, "ok"))
                die("workload '%s' answered '%s'", command, reply);
        return g_steal_pointer(&reply);
}

static gboolean
set_dirty(guint64 rate)
{
        g_autofree char *command = NULL;
        g_autofree char *reply = NULL;

        command = g_strdup_printf("dirty %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, rate,
                                  rate == 0 ? 0 : S.opt.buffer);
        reply = workload(S.source, command);
        return reply != NULL;
}

/* The dirty pages that lost their tag ("check"'s last field). */
static guint64
lost_pages(void)
{
        g_autofree char *reply = workload(S.source, "check");
        const char *last = reply != NULL ? strrchr(reply, ' ') : NULL;

        return last != NULL ? g_ascii_strtoull(last + 1, NULL, 10) : G_MAXUINT64;
}

/* The source's VtGuestQmp, started. */
static VtGuest *
guest_attach(VtTestGuest *test_guest)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        VtGuest *guest =
            vt_guest_qmp_new(GUEST_NAME, vt_test_guest_get_qmp_path(test_guest), NULL, 0);

        vt_guest_start_async(guest, vt_test_waiter_callback, &waiter);
        if (!vt_guest_start_finish(guest, vt_test_waiter_wait(&waiter), &error))
                die("guest start: %s", error->message);
        vt_test_waiter_clear(&waiter);
        return guest;
}

/* FALSE when the source died meanwhile. */
static gboolean
measure(gint64 window_us, guint64 *ret_rate)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        gboolean ok;

        vt_guest_measure_dirty_rate_async(S.guest, window_us, vt_test_waiter_callback, &waiter);
        ok = vt_guest_measure_dirty_rate_finish(S.guest, vt_test_waiter_wait(&waiter), ret_rate,
                                                &error);
        vt_test_waiter_clear(&waiter);
        if (!ok && !source_died())
                die("dirty rate: %s", error->message);
        return ok;
}

/* The window QEMU 7.2 measures over for @window_us: whole seconds, 1..60. */
static gint64
qemu_window(gint64 window_us)
{
        gint64 s = (window_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;

        return CLAMP(s, WINDOW_MIN_S, WINDOW_MAX_S) * G_USEC_PER_SEC;
}

static guint64
read_rss(GPid pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
        g_autofree char *text = NULL;
        const char *line;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return 0;
        line = strstr(text, "VmRSS:");
        return line != NULL ? g_ascii_strtoull(line + 6, NULL, 10) * 1024 : 0;
}

static void
predict(const Run *run, guint64 resident, guint64 rate, gint64 window_us, guint64 rate_short,
        gint64 window_short_us, gint64 switchover_us, VtMigrateCost *ret_cost)
{
        VtMigrateCostInput in;

        vt_migrate_cost_input_init(&in);
        in.mem_bytes = S.opt.memory;
        in.resident_bytes = resident;
        in.dirty_rate = rate;
        in.dirty_window_us = window_us;
        in.dirty_rate_short = rate_short;
        in.dirty_window_short_us = window_short_us;
        in.bandwidth = run->cap;
        in.downtime_limit_us = S.opt.downtime_limit_us;
        in.max_passes = S.opt.max_passes;
        in.switchover_us = switchover_us;
        vt_migrate_cost_predict(&in, ret_cost);
}

typedef struct {
        gboolean finished;
        VtMigrateExecResult result;
} Seen;

static void
on_finished(VtMigrateExec *exec, gpointer data, gpointer user_data)
{
        Seen *seen = user_data;

        seen->finished = TRUE;
        seen->result = *(const VtMigrateExecResult *)data;
}

static gboolean
seen_finished(gpointer data)
{
        return ((Seen *)data)->finished;
}

/* No ramp: the limit the move starts with is its cap, so a stall cancels.
 * The other limits are the defaults (300 % of the predicted time + 30 s,
 * the predicted passes + 15): QEMU sets none, and a slow move that still
 * shrinks is given the time to converge. */
static void
steer_config(VtMigrateSteerConfig *steer)
{
        vt_migrate_steer_config_init(steer);
        steer->downtime_initial_us = S.opt.downtime_limit_us;
        steer->downtime_cap_us = S.opt.downtime_limit_us;
        steer->n_downtime_steps = 0;
}

/* Runs the move to a fresh destination; the source follows the guest.
 * FALSE when the source died during the move. */
static gboolean
move(Run *run)
{
        const VtTestGuestOptions options = {
            .name = GUEST_NAME, .memory_bytes = S.opt.memory, .incoming = TRUE};
        VtMigrateRequest request = {.peer = "peer", .bandwidth = run->cap};
        g_autoptr(VtTestGuest) destination = NULL;
        g_autoptr(VtMigrateExec) exec = NULL;
        g_autoptr(GError) error = NULL;
        VtMigrateSteerConfig steer;
        VtMigrateExecLimits limits;
        Seen seen = {0};

        destination = vt_test_guest_start(&options, &error);
        if (destination == NULL)
                die("destination: %s", error->message);
        request.transport_uri = vt_test_guest_get_incoming_uri(destination);
        request.downtime_limit_us = S.opt.downtime_limit_us;
        steer_config(&steer);
        vt_migrate_exec_limits_init(&limits);
        limits.poll_interval_us = POLL_US;
        exec = vt_migrate_exec_new(S.guest, &request, &run->pred, &steer);
        vt_migrate_exec_set_limits(exec, &limits);
        g_signal_connect(exec, "finished", G_CALLBACK(on_finished), &seen);
        if (!vt_migrate_exec_start(exec, &error))
                die("executor: %s", error->message);
        if (!vt_test_run_until(seen_finished, &seen, MOVE_GUARD))
                die("the move did not end within %d s", (int)(MOVE_GUARD / G_USEC_PER_SEC));
        run->outcome = seen.result.outcome;
        run->cause = seen.result.cause;
        run->total_us = seen.result.total_us;
        run->downtime_us = seen.result.downtime_us;
        run->passes = seen.result.passes;
        run->bytes = seen.result.bytes;
        if (run->outcome == VT_MIGRATE_EXEC_FAILED && source_died())
                return FALSE;
        if (run->outcome == VT_MIGRATE_EXEC_FAILED)
                die("the move failed: %s", seen.result.reason);
        if (run->outcome != VT_MIGRATE_EXEC_COMPLETED)
                return TRUE;
        /* The spent source quits; the destination runs the guest now. */
        if (!vt_test_guest_wait_exit(S.source, 30 * G_USEC_PER_SEC))
                die("the spent source did not quit");
        vt_guest_stop(S.guest);
        g_clear_object(&S.guest);
        g_clear_pointer(&S.source, vt_test_guest_free);
        S.source = g_steal_pointer(&destination);
        S.moves_since_boot++;
        S.guest = guest_attach(S.source);
        run->lost_pages = lost_pages();
        return TRUE;
}

/* One run: dirty, measure as the daemon does, predict, move. FALSE when
 * the guest crashed on the way (its QEMU exited). */
static gboolean
run_one(Run *run, guint64 cap, guint share)
{
        gint64 start_us = g_get_monotonic_time();
        VtMigrateCost first;

        *run = (Run){.cap = cap, .share = share, .set_rate = cap * share / 100};
        if (!set_dirty(run->set_rate))
                return FALSE;
        run->resident = S.resident;
        run->rss = read_rss(vt_test_guest_get_pid(S.source));
        predict(run, run->resident, 0, 0, 0, 0, 0, &first);
        run->window_us = qemu_window(first.first_pass_us);
        if (!measure(first.first_pass_us, &run->rate) || !measure(G_USEC_PER_SEC, &run->rate_1s))
                return FALSE;
        predict(run, run->resident, run->rate, run->window_us, run->rate_1s, G_USEC_PER_SEC, 0,
                &run->pred);
        if (!move(run))
                return FALSE;
        run->wall_us = g_get_monotonic_time() - start_us;
        /* A move that dirtied nothing sent the resident pages and no more. */
        if (run->outcome == VT_MIGRATE_EXEC_COMPLETED && run->rate == 0 && run->passes <= 3)
                S.resident = run->bytes;
        return TRUE;
}

static const char *
outcome_word(const Run *run)
{
        if (run->outcome == VT_MIGRATE_EXEC_COMPLETED)
                return "completed";
        return run->cause == VT_MIGRATE_STEER_CAUSE_STALLED      ? "cancelled (stall)"
               : run->cause == VT_MIGRATE_STEER_CAUSE_PASS_LIMIT ? "cancelled (passes)"
               : run->cause == VT_MIGRATE_STEER_CAUSE_TIME_LIMIT ? "cancelled (time)"
                                                                 : "cancelled";
}

static void
print_header(void)
{
        printf("| # | cap MiB/s | dirty set | measured (window) | 1 s | predicted | "
               "actual | total pred / actual s | ratio | downtime pred / actual ms | "
               "passes pred / syncs | MiB pred / sent | lost | run s |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

static void
print_run(guint i, const Run *r)
{
        gboolean done = r->outcome == VT_MIGRATE_EXEC_COMPLETED;
        double ratio = r->pred.converges && done ? (double)r->total_us / r->pred.total_us : NAN;
        char lost[24] = "-";

        if (done && r->lost_pages == G_MAXUINT64)
                g_snprintf(lost, sizeof(lost), "crashed");
        else if (done)
                g_snprintf(lost, sizeof(lost), "%" G_GUINT64_FORMAT, r->lost_pages);

        printf("| %u | %" G_GUINT64_FORMAT " | %u %% (%.1f) | %.1f (%.0f s) | %.1f | %s | %s | "
               "%.2f / %.2f | %.2f | %.0f / %.0f | %u / %u | %.1f / %.1f | %s | %.1f |\n",
               i + 1, r->cap / MIB, r->share, (double)r->set_rate / MIB, (double)r->rate / MIB,
               (double)r->window_us / G_USEC_PER_SEC, (double)r->rate_1s / MIB,
               r->pred.converges ? "converges" : vt_migrate_cost_outcome_to_string(r->pred.outcome),
               outcome_word(r),
               r->pred.total_us == VT_MIGRATE_COST_FOREVER ? -1.0 : r->pred.total_us / 1e6,
               r->total_us / 1e6, ratio, r->pred.downtime_us / 1e3,
               done ? r->downtime_us / 1e3 : NAN, r->pred.passes, r->passes,
               (double)r->pred.bytes_sent / MIB, (double)r->bytes / MIB, lost, r->wall_us / 1e6);
}

static int
cmp_double(gconstpointer a, gconstpointer b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double
median(GArray *values)
{
        guint n = values->len;

        if (n == 0)
                return NAN;
        g_array_sort(values, cmp_double);
        if (n % 2 == 1)
                return g_array_index(values, double, n / 2);
        return (g_array_index(values, double, n / 2 - 1) + g_array_index(values, double, n / 2)) /
               2;
}

/* A variant of the prediction's inputs, scored over every run. */
typedef struct {
        const char *name;
        gboolean whole_ram;  /* resident = the whole RAM */
        gboolean long_only;  /* the first-pass window's rate alone (the model before) */
        gboolean short_only; /* the 1 s rate alone */
        gint64 switchover_us;
} Variant;

static void
predict_variant(const Variant *v, const Run *r, VtMigrateCost *ret_cost)
{
        guint64 resident = v->whole_ram ? 0 : r->resident;

        if (v->long_only)
                predict(r, resident, r->rate, r->window_us, 0, 0, v->switchover_us, ret_cost);
        else if (v->short_only)
                predict(r, resident, r->rate_1s, G_USEC_PER_SEC, 0, 0, v->switchover_us, ret_cost);
        else
                predict(r, resident, r->rate, r->window_us, r->rate_1s, G_USEC_PER_SEC,
                        v->switchover_us, ret_cost);
}

static void
score(const Variant *v)
{
        g_autoptr(GArray) total = g_array_new(FALSE, FALSE, sizeof(double));
        g_autoptr(GArray) down = g_array_new(FALSE, FALSE, sizeof(double));
        guint done = 0, within = 0, stuck = 0, stuck_seen = 0, false_alarm = 0;

        for (guint i = 0; i < S.n_runs; i++) {
                const Run *r = &S.runs[i];
                VtMigrateCost c;

                predict_variant(v, r, &c);
                if (r->outcome != VT_MIGRATE_EXEC_COMPLETED) {
                        stuck++;
                        stuck_seen += !c.converges;
                        continue;
                }
                done++;
                if (!c.converges) {
                        false_alarm++;
                        continue;
                }
                double ratio = (double)r->total_us / (double)c.total_us;
                double ddiff = (double)(r->downtime_us - c.downtime_us) / 1e3;

                g_array_append_val(total, ratio);
                g_array_append_val(down, ddiff);
                within += fabs(ratio - 1) <= TOLERANCE;
        }
        printf("| %s | %u of %u (%.0f %%) | %u of %u | %u | %.2f | %.0f |\n", v->name, within, done,
               done ? 100.0 * within / done : 0.0, stuck_seen, stuck, false_alarm, median(total),
               median(down));
}

/* The switch-over time: the downtime of the completed moves that dirtied
 * nothing (no RAM left for the final copy), median; and the median of
 * actual - predicted total over the completed moves predicted to converge. */
static gint64
fit_switchover(gint64 *ret_total_residual_us)
{
        g_autoptr(GArray) sw = g_array_new(FALSE, FALSE, sizeof(double));
        g_autoptr(GArray) res = g_array_new(FALSE, FALSE, sizeof(double));

        for (guint i = 0; i < S.n_runs; i++) {
                const Run *r = &S.runs[i];
                double x;

                if (r->outcome != VT_MIGRATE_EXEC_COMPLETED || !r->pred.converges)
                        continue;
                x = (double)(r->total_us - r->pred.total_us);
                g_array_append_val(res, x);
                if (r->set_rate != 0)
                        continue;
                x = (double)r->downtime_us;
                g_array_append_val(sw, x);
        }
        *ret_total_residual_us = res->len ? (gint64)median(res) : 0;
        return sw->len ? (gint64)median(sw) : 0;
}

static double
rss_ratio(void)
{
        g_autoptr(GArray) v = g_array_new(FALSE, FALSE, sizeof(double));

        for (guint i = 0; i < S.n_runs; i++) {
                double x = (double)S.runs[i].rss / (double)MAX(S.runs[i].resident, 1);

                g_array_append_val(v, x);
        }
        return median(v);
}

static void
print_summary(const char *load_before, const char *load_after)
{
        gint64 residual_us = 0;
        gint64 switchover_us = fit_switchover(&residual_us);
        const Variant variants[] = {
            {"as the daemon: resident estimate, working set (first pass) + 1 s rate", FALSE, FALSE,
             FALSE, 0},
            {"whole RAM resident (the planner without a figure)", TRUE, FALSE, FALSE, 0},
            {"first-pass window alone (the model before)", FALSE, TRUE, FALSE, 0},
            {"1 s rate alone", FALSE, FALSE, TRUE, 0},
            {"as the daemon + switch-over", FALSE, FALSE, FALSE, switchover_us},
            {"first-pass window alone + switch-over", FALSE, TRUE, FALSE, switchover_us},
        };

        printf("\nswitch-over (median downtime of the completed moves that dirtied nothing): "
               "%.0f ms; median of actual - predicted total: %.0f ms\n\n",
               switchover_us / 1e3, residual_us / 1e3);
        printf("| prediction | total within ±15 %% (completed) | non-converging predicted | "
               "completed but predicted not to | median total actual/predicted | "
               "median downtime actual - predicted ms |\n|---|---|---|---|---|---|\n");
        for (guint i = 0; i < G_N_ELEMENTS(variants); i++)
                score(&variants[i]);
        printf("\nsource QEMU RSS at the start of a run / the resident estimate: median %.2f\n",
               rss_ratio());
        printf("load average before: %s; after: %s\n", load_before, load_after);
}

static char *
read_load(void)
{
        g_autofree char *text = NULL;

        if (!g_file_get_contents("/proc/loadavg", &text, NULL, NULL))
                return g_strdup("?");
        return g_strndup(text, 14);
}

/* A move at a high cap with the buffer held (a page dirtied per second):
 * what it sends is the resident size the first prediction starts from. */
static void
warm_up(void)
{
        g_autofree char *command = NULL;
        g_autofree char *reply = NULL;
        Run warm = {.cap = WARMUP_CAP};

        command = g_strdup_printf("dirty 4096 %" G_GUINT64_FORMAT, S.opt.buffer);
        reply = workload(S.source, command);
        predict(&warm, 0, 0, 0, 0, 0, 0, &warm.pred);
        if (reply == NULL || !move(&warm) || warm.outcome != VT_MIGRATE_EXEC_COMPLETED)
                die("the warm-up move did not complete");
        S.resident = warm.bytes;
        printf("warm-up at %" G_GUINT64_FORMAT " MiB/s: %.2f s, %.0f ms down, %.1f MiB sent "
               "(the resident estimate), %u syncs\n\n",
               WARMUP_CAP / MIB, warm.total_us / 1e6, warm.downtime_us / 1e3,
               (double)warm.bytes / MIB, warm.passes);
}

static guint
parse_list(const char *text, guint64 *ret_values, guint max)
{
        g_auto(GStrv) parts = g_strsplit(text, ",", -1);
        guint n = 0;

        for (guint i = 0; parts[i] != NULL && n < max; i++)
                ret_values[n++] = g_ascii_strtoull(parts[i], NULL, 10);
        return n;
}

static void
options_parse(int argc, char **argv, Options *opt)
{
        static const guint shares[] = {0, 25, 50, 75, 100, 150};
        guint64 values[SHARES_MAX];
        gboolean quick = FALSE;

        *opt = (Options){.memory = 256 * MIB,
                         .buffer = 64 * MIB,
                         .max_passes = 10,
                         .downtime_limit_us = 300 * G_TIME_SPAN_MILLISECOND,
                         .repeat = 2,
                         .caps = {16 * MIB, 64 * MIB},
                         .n_caps = 2,
                         .n_shares = G_N_ELEMENTS(shares)};
        memcpy(opt->shares, shares, sizeof(shares));
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(a, "--quick") == 0) {
                        quick = TRUE;
                        continue;
                }
                if (v == NULL)
                        die("usage: %s [--quick] [--repeat N] [--caps MIB,..] [--shares PCT,..] "
                            "[--memory MIB] [--buffer MIB] [--passes N] [--downtime MS]",
                            argv[0]);
                i++;
                if (strcmp(a, "--repeat") == 0)
                        opt->repeat = (guint)g_ascii_strtoull(v, NULL, 10);
                else if (strcmp(a, "--memory") == 0)
                        opt->memory = g_ascii_strtoull(v, NULL, 10) * MIB;
                else if (strcmp(a, "--buffer") == 0)
                        opt->buffer = g_ascii_strtoull(v, NULL, 10) * MIB;
                else if (strcmp(a, "--passes") == 0)
                        opt->max_passes = (guint)g_ascii_strtoull(v, NULL, 10);
                else if (strcmp(a, "--downtime") == 0)
                        opt->downtime_limit_us = (gint64)g_ascii_strtoull(v, NULL, 10) * 1000;
                else if (strcmp(a, "--caps") == 0) {
                        opt->n_caps = parse_list(v, opt->caps, CAPS_MAX);
                        for (guint k = 0; k < opt->n_caps; k++)
                                opt->caps[k] *= MIB;
                } else if (strcmp(a, "--shares") == 0) {
                        opt->n_shares = parse_list(v, values, SHARES_MAX);
                        for (guint k = 0; k < opt->n_shares; k++)
                                opt->shares[k] = (guint)values[k];
                } else
                        die("unknown option '%s'", a);
        }
        if (quick) {
                static const guint quick_shares[] = {0, 50, 150};

                opt->repeat = 1;
                opt->caps[0] = 64 * MIB;
                opt->n_caps = 1;
                opt->n_shares = G_N_ELEMENTS(quick_shares);
                memcpy(opt->shares, quick_shares, sizeof(quick_shares));
        }
        if (opt->n_caps == 0 || opt->n_shares == 0 || opt->repeat == 0 ||
            opt->repeat * opt->n_caps * opt->n_shares > RUNS_MAX)
                die("between 1 and %d runs, please", RUNS_MAX);
}

static void
boot(void)
{
        const VtTestGuestOptions options = {.name = GUEST_NAME, .memory_bytes = S.opt.memory};
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;

        if (!vt_test_guest_available(&reason))
                die("%s", reason);
        S.source = vt_test_guest_start(&options, &error);
        if (S.source == NULL)
                die("source: %s", error->message);
        S.guest = guest_attach(S.source);
        S.moves_since_boot = 0;
        printf("guest: %" G_GUINT64_FORMAT
               " MiB, TCG, ready in %.1f s; dirty buffer %" G_GUINT64_FORMAT
               " MiB; downtime limit %" G_GINT64_FORMAT " ms, no ramp; %u passes at most\n",
               S.opt.memory / MIB, vt_test_guest_get_ready_us(S.source) / 1e6, S.opt.buffer / MIB,
               S.opt.downtime_limit_us / 1000, S.opt.max_passes);
}

/* The guest crashed (its QEMU exited): what its console said, then a
 * fresh source and warm-up. */
static void
recover(void)
{
        g_autofree char *console = vt_test_guest_read_console(S.source);
        g_auto(GStrv) lines = g_strsplit(console != NULL ? console : "", "\n", -1);

        S.crashes++;
        printf("\n(the guest crashed after %u moves; its console:", S.moves_since_boot);
        for (guint i = 0; lines[i] != NULL; i++)
                if (strstr(lines[i], "RIP") || strstr(lines[i], "panic") ||
                    strstr(lines[i], "BUG") || strstr(lines[i], "Oops"))
                        printf("\n    %s", g_strstrip(lines[i]));
        printf(")\n");
        if (S.crashes > 3)
                die("the guest crashed more than 3 times");
        vt_guest_stop(S.guest);
        g_clear_object(&S.guest);
        g_clear_pointer(&S.source, vt_test_guest_free);
        boot();
        warm_up();
        printf("\n");
}

int
main(int argc, char **argv)
{
        g_autofree char *load_before = NULL;
        g_autofree char *load_after = NULL;
        gint64 start_us = g_get_monotonic_time();

        setvbuf(stdout, NULL, _IOLBF, 0);
        options_parse(argc, argv, &S.opt);
        load_before = read_load();
        boot();
        warm_up();
        print_header();
        for (guint rep = 0; rep < S.opt.repeat; rep++)
                for (guint c = 0; c < S.opt.n_caps; c++)
                        for (guint s = 0; s < S.opt.n_shares; s++) {
                                Run *run = &S.runs[S.n_runs];

                                while (!run_one(run, S.opt.caps[c], S.opt.shares[s]))
                                        recover();
                                print_run(S.n_runs++, run);
                        }
        load_after = read_load();
        print_summary(load_before, load_after);
        printf("%u moves (%u guest crashes, the runs retried) in %.0f s\n", S.n_runs, S.crashes,
               (g_get_monotonic_time() - start_us) / 1e6);
        vt_guest_stop(S.guest);
        g_clear_object(&S.guest);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        g_clear_pointer(&S.source, vt_test_guest_free);
        return 0;
}
