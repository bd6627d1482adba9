/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One workload trace on the same three guests under each balloon policy
 * (vmtide, oVirt MoM's rules, Proxmox VE's rules), side by side: host
 * memory reclaimed, the guests' major faults and swap-ins, OOM kills and
 * failed allocations, balloon operations, and how long the allocating
 * guests took to get their memory. Not a test: it prints a table for
 * docs/benchmarks.md.
 *
 * Theory of operation
 *
 * Three 512 MiB test guests under a 1200 MiB budget, as in
 * tests/test-vmtided.c, booted once. For each policy in turn, vmtided is
 * started with `[policy] algorithm = NAME` (the previous one ended with
 * SIGTERM), and every guest is brought to the same starting point: its
 * workload frees what it holds, the balloon is set by hand to the guest's
 * maximum (set-target) and, once all three are there and every agent and
 * balloon statistics report is fresh, all three go back to automation
 * (set-target auto). That is t = 0: 1536 MiB held, 336 MiB over the
 * budget, whatever the previous policy left. The baselines act every 10 s
 * from their first decision, which falls while the guests are still held,
 * so their first tick after t = 0 comes 0-10 s in.
 *
 * Then the trace, identical for every policy, its holds fixed in time:
 *   idle 20 s; guest 0 allocates 320 MiB in 32 MiB steps; hold 20 s;
 *   guest 1 allocates 256 MiB; guest 0 frees; hold 20 s; guest 1 frees;
 *   idle 20 s.
 * The workload commands run in a worker thread, one at a time (a
 * blocking allocation does not hold up the sampling); the main loop
 * receives the daemon's events and samples query-guest every second.
 *
 * Recorded: host memory reclaimed (the sum over the guests of max - actual:
 * its mean over the samples and its last value); the seconds the guests
 * held more than the budget and when they first fit; the guests' major
 * faults (the agents' pgmajfault and the balloon statistics) and swap-ins
 * (the test guests have no swap, so these are 0 unless something is
 * wrong); OOM kills (the agents' oom_kill) and allocations that failed
 * (refused, or the workload was killed and restarted; the trace goes on);
 * balloon operations (DECISION events); and the time each allocation
 * phase took, which is mostly the guest waiting for memory.
 *
 * Usage: bench-balloon-trace [POLICY...]   (default: vmtide mom proxmox)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench-daemon.h"

#define MIB            VT_BENCH_MIB
#define N_GUESTS       VT_BENCH_N_GUESTS
#define N_ALLOCS       2
#define STEP_US        (60 * G_USEC_PER_SEC)
#define TRACE_GUARD_US (600 * G_USEC_PER_SEC)

typedef enum {
        STEP_IDLE,
        STEP_ALLOC,
        STEP_FREE,
} StepKind;

/**
 * TraceStep:
 * @kind: what happens
 * @guest: which guest allocates or frees
 * @amount: bytes to allocate (%STEP_ALLOC) or seconds to wait (%STEP_IDLE)
 */
typedef struct {
        StepKind kind;
        guint guest;
        guint64 amount;
} TraceStep;

static const TraceStep trace_steps[] = {
    {STEP_IDLE, 0, 20}, {STEP_ALLOC, 0, 320 * MIB}, {STEP_IDLE, 0, 20}, {STEP_ALLOC, 1, 256 * MIB},
    {STEP_FREE, 0, 0},  {STEP_IDLE, 0, 20},         {STEP_FREE, 1, 0},  {STEP_IDLE, 0, 20},
};

/* Counters summed over the guests, from query-guest. */
typedef struct {
        gint64 oom_kill;
        gint64 pgmajfault;
        gint64 major_faults;
        gint64 swap_in;
} Counters;

typedef struct {
        const char *algorithm;
        double reclaimed_sum;
        guint n_samples;
        gint64 reclaimed_last;
        gint64 fit_s; /* first second the guests fit in the budget; -1: never */
        guint n_over; /* samples over the budget */
        gint64 alloc_us[N_ALLOCS];
        guint64 alloc_got[N_ALLOCS];
        guint n_failed;
        Counters delta;
        guint n_give, n_reclaim, n_stuck;
        gint64 duration_us;
} Result;

/* One workload phase, run in a worker thread. */
typedef struct {
        VtTestGuest *guest;
        const TraceStep *step;
        gint64 t0_us;
        guint64 got;
        guint n_failed;
        gint64 elapsed_us;
} Job;

typedef struct {
        VtBench *bench;
        Result *result;
        guint step;
        guint n_allocs;
        gboolean done;
        gint64 t0_us;
        Job job;
} Trace;

static double
seconds_since(gint64 t0_us)
{
        return (double)(g_get_monotonic_time() - t0_us) / G_USEC_PER_SEC;
}

static void
job_run(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
        Job *job = data;
        const char *name = vt_test_guest_get_name(job->guest);
        g_autofree char *command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, VT_BENCH_ALLOC_STEP);
        gint64 start_us = g_get_monotonic_time();

        (void)source;
        (void)cancellable;
        for (guint64 asked = 0; job->step->kind == STEP_FREE || asked < job->step->amount;
             asked += VT_BENCH_ALLOC_STEP) {
                g_autoptr(GError) error = NULL;
                g_autofree char *reply = vt_test_guest_workload(
                    job->guest, job->step->kind == STEP_FREE ? "free" : command, STEP_US, &error);
                guint64 total;

                if (reply != NULL && sscanf(reply, "ok %" G_GUINT64_FORMAT, &total) == 1) {
                        job->got = total;
                } else {
                        job->n_failed++;
                        /* A restarted workload holds nothing any more. */
                        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
                                job->got = 0;
                        printf("  %5.1f s  %s: %s\n", seconds_since(job->t0_us), name,
                               reply != NULL ? reply : error->message);
                }
                if (job->step->kind == STEP_FREE)
                        break;
        }
        job->elapsed_us = g_get_monotonic_time() - start_us;
        g_task_return_boolean(task, TRUE);
}

static void trace_next(Trace *t);

static void
on_job_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Trace *t = user_data;
        Job *job = &t->job;

        (void)source;
        (void)g_task_propagate_boolean(G_TASK(result), NULL);
        t->result->n_failed += job->n_failed;
        if (job->step->kind == STEP_ALLOC && t->n_allocs < N_ALLOCS) {
                t->result->alloc_us[t->n_allocs] = job->elapsed_us;
                t->result->alloc_got[t->n_allocs] = job->got;
                t->n_allocs++;
        }
        printf("  %5.1f s  %s: %s done in %.1f s, %" G_GUINT64_FORMAT " MiB held\n",
               seconds_since(t->t0_us), vt_test_guest_get_name(job->guest),
               job->step->kind == STEP_FREE ? "free" : "allocation",
               (double)job->elapsed_us / G_USEC_PER_SEC, job->got / MIB);
        t->step++;
        trace_next(t);
}

static gboolean
on_idle_done(gpointer data)
{
        Trace *t = data;

        t->step++;
        trace_next(t);
        return G_SOURCE_REMOVE;
}

/* Starts the trace's current step. */
static void
trace_next(Trace *t)
{
        const TraceStep *s;
        g_autoptr(GTask) task = NULL;

        if (t->step == G_N_ELEMENTS(trace_steps)) {
                t->done = TRUE;
                return;
        }
        s = &trace_steps[t->step];
        if (s->kind == STEP_IDLE) {
                g_timeout_add((guint)(s->amount * 1000), on_idle_done, t);
                return;
        }
        printf("  %5.1f s  %s: %s", seconds_since(t->t0_us),
               vt_bench_guest_name(t->bench, s->guest), s->kind == STEP_FREE ? "free\n" : "");
        if (s->kind == STEP_ALLOC)
                printf("allocate %" G_GUINT64_FORMAT " MiB\n", s->amount / MIB);
        t->job = (Job){.guest = t->bench->guests[s->guest], .step = s, .t0_us = t->t0_us};
        task = g_task_new(NULL, NULL, on_job_done, t);
        g_task_set_task_data(task, &t->job, NULL);
        g_task_run_in_thread(task, job_run);
}

static gboolean
trace_done(gpointer data)
{
        return ((Trace *)data)->done;
}

/* Once a second: what the guests hold. */
static gboolean
on_sample(gpointer data)
{
        Trace *t = data;
        Result *r = t->result;
        gint64 reclaimed = 0, held = 0;
        double at_s = seconds_since(t->t0_us);

        for (guint i = 0; i < N_GUESTS; i++) {
                json_object *guest = vt_test_daemon_query_guest(
                    t->bench->daemon, vt_bench_guest_name(t->bench, i), NULL);
                gint64 max = vt_bench_json_int(guest, "max");
                gint64 actual = vt_bench_json_int(guest, "actual");

                json_object_put(guest);
                if (max < 0 || actual < 0)
                        return G_SOURCE_CONTINUE;
                reclaimed += max - actual;
                held += actual;
        }
        r->reclaimed_sum += (double)reclaimed;
        r->reclaimed_last = reclaimed;
        r->n_samples++;
        if (held > (gint64)VT_BENCH_BUDGET)
                r->n_over++;
        else if (r->fit_s < 0)
                r->fit_s = (gint64)at_s;
        if (r->n_samples % 5 == 0) {
                printf("  %5.1f s  held", at_s);
                for (guint i = 0; i < N_GUESTS; i++)
                        printf(" %4" G_GINT64_FORMAT,
                               MAX(vt_bench_guest_int(t->bench, i, "actual"), 0) / (gint64)MIB);
                printf(" MiB, reclaimed %" G_GINT64_FORMAT " MiB\n", reclaimed / (gint64)MIB);
        }
        return G_SOURCE_CONTINUE;
}

/* The counters summed over the guests, from reports sent after this call. */
static void
counters_read(VtBench *bench, Counters *ret)
{
        static const char *const paths[] = {"agent.oom_kill", "agent.pgmajfault",
                                            "stats.major_faults", "stats.swap_in"};
        gint64 *fields[] = {&ret->oom_kill, &ret->pgmajfault, &ret->major_faults, &ret->swap_in};

        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US))
                printf("  (no fresh reports from every guest: counters may be late)\n");
        *ret = (Counters){0};
        for (guint i = 0; i < N_GUESTS; i++) {
                json_object *guest =
                    vt_test_daemon_query_guest(bench->daemon, vt_bench_guest_name(bench, i), NULL);

                for (guint f = 0; f < G_N_ELEMENTS(paths); f++)
                        *fields[f] += MAX(vt_bench_json_int(guest, paths[f]), 0);
                json_object_put(guest);
        }
}

static gboolean
all_at_max(gpointer data)
{
        VtBench *bench = data;

        for (guint i = 0; i < N_GUESTS; i++)
                if (vt_bench_guest_int(bench, i, "actual") <
                    (gint64)(VT_BENCH_GUEST_BYTES - 4 * MIB))
                        return FALSE;
        return TRUE;
}

static void
run_policy(VtBench *bench, Result *r)
{
        Trace t = {.bench = bench, .result = r};
        Counters before, after;
        guint from, sampler;

        printf("%s:\n", r->algorithm);
        vt_bench_daemon_start(bench, r->algorithm);
        /* The common starting point: nothing allocated, every balloon at
         * its maximum, fresh reports. */
        for (guint i = 0; i < N_GUESTS; i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *reply =
                    vt_test_guest_workload(bench->guests[i], "free", STEP_US, &error);

                if (reply == NULL)
                        printf("  %s: free: %s\n", vt_bench_guest_name(bench, i), error->message);
                vt_bench_set_target(bench, i, VT_BENCH_GUEST_BYTES);
        }
        if (!vt_bench_wait(bench, all_at_max, bench, VT_BENCH_GUARD_US)) {
                vt_bench_daemon_dump_log(bench);
                g_error("the balloons did not go back to their maximum");
        }
        counters_read(bench, &before);

        from = vt_test_daemon_get_n_events(bench->daemon);
        for (guint i = 0; i < N_GUESTS; i++)
                vt_bench_set_target(bench, i, 0);
        t.t0_us = g_get_monotonic_time();
        r->fit_s = -1;
        sampler = g_timeout_add(1000, on_sample, &t);
        trace_next(&t);
        if (!vt_test_run_until(trace_done, &t, TRACE_GUARD_US)) {
                vt_bench_daemon_dump_log(bench);
                g_error("the trace did not end in %d s", (int)(TRACE_GUARD_US / G_USEC_PER_SEC));
        }
        g_source_remove(sampler);
        r->duration_us = g_get_monotonic_time() - t.t0_us;

        counters_read(bench, &after);
        r->delta =
            (Counters){after.oom_kill - before.oom_kill, after.pgmajfault - before.pgmajfault,
                       after.major_faults - before.major_faults, after.swap_in - before.swap_in};
        for (guint i = from; i < vt_test_daemon_get_n_events(bench->daemon); i++) {
                const VtTestDaemonEvent *e = vt_test_daemon_get_event(bench->daemon, i);
                json_object *action;

                if (g_strcmp0(e->name, "BALLOON_STUCK") == 0)
                        r->n_stuck++;
                if (g_strcmp0(e->name, "DECISION") != 0 ||
                    !json_object_object_get_ex(e->data, "action", &action))
                        continue;
                if (g_strcmp0(json_object_get_string(action), "give") == 0)
                        r->n_give++;
                else if (g_strcmp0(json_object_get_string(action), "reclaim") == 0)
                        r->n_reclaim++;
        }
        vt_bench_daemon_stop(bench);
}

/* One row of the table: a label, then one cell per policy. */
static void
print_row(const char *label, const Result *results, guint n, char *(*cell)(const Result *r))
{
        printf("| %s |", label);
        for (guint p = 0; p < n; p++) {
                g_autofree char *text = cell(&results[p]);

                printf(" %s |", text);
        }
        printf("\n");
}

static char *
cell_reclaimed_mean(const Result *r)
{
        return g_strdup_printf("%.0f MiB",
                               r->n_samples ? r->reclaimed_sum / r->n_samples / MIB : 0);
}

static char *
cell_reclaimed_last(const Result *r)
{
        return g_strdup_printf("%" G_GINT64_FORMAT " MiB", r->reclaimed_last / (gint64)MIB);
}

static char *
cell_fit(const Result *r)
{
        return r->fit_s >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT " s", r->fit_s)
                             : g_strdup("never");
}

static char *
cell_over(const Result *r)
{
        return g_strdup_printf("%u s", r->n_over);
}

static char *
cell_alloc0(const Result *r)
{
        return g_strdup_printf("%.1f s (%" G_GUINT64_FORMAT " MiB held)",
                               (double)r->alloc_us[0] / G_USEC_PER_SEC, r->alloc_got[0] / MIB);
}

static char *
cell_alloc1(const Result *r)
{
        return g_strdup_printf("%.1f s (%" G_GUINT64_FORMAT " MiB held)",
                               (double)r->alloc_us[1] / G_USEC_PER_SEC, r->alloc_got[1] / MIB);
}

static char *
cell_failed(const Result *r)
{
        return g_strdup_printf("%u", r->n_failed);
}

static char *
cell_oom(const Result *r)
{
        return g_strdup_printf("%" G_GINT64_FORMAT, r->delta.oom_kill);
}

static char *
cell_majflt(const Result *r)
{
        return g_strdup_printf("%" G_GINT64_FORMAT " / %" G_GINT64_FORMAT, r->delta.pgmajfault,
                               r->delta.major_faults);
}

static char *
cell_swap_in(const Result *r)
{
        return g_strdup_printf("%" G_GINT64_FORMAT, r->delta.swap_in);
}

static char *
cell_ops(const Result *r)
{
        return g_strdup_printf("%u (%u give, %u reclaim)%s", r->n_give + r->n_reclaim, r->n_give,
                               r->n_reclaim, r->n_stuck ? ", STUCK" : "");
}

static char *
cell_duration(const Result *r)
{
        return g_strdup_printf("%.0f s", (double)r->duration_us / G_USEC_PER_SEC);
}

int
main(int argc, char **argv)
{
        static const char *const default_policies[] = {"vmtide", "mom", "proxmox"};
        guint n = argc > 1 ? (guint)argc - 1 : G_N_ELEMENTS(default_policies);
        g_autofree Result *results = g_new0(Result, n);
        g_autofree char *reason = NULL;
        g_autoptr(VtBench) bench = NULL;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (!vt_test_guest_available(&reason)) {
                fprintf(stderr, "bench-balloon-trace: %s\n", reason);
                return 1;
        }
        bench = vt_bench_new("trace");
        for (guint p = 0; p < n; p++) {
                results[p].algorithm = argc > 1 ? argv[p + 1] : default_policies[p];
                run_policy(bench, &results[p]);
        }

        printf("\n| | ");
        for (guint p = 0; p < n; p++)
                printf("%s | ", results[p].algorithm);
        printf("\n|---|");
        for (guint p = 0; p < n; p++)
                printf("---|");
        printf("\n");
        print_row("host memory reclaimed, mean", results, n, cell_reclaimed_mean);
        print_row("host memory reclaimed, at the end", results, n, cell_reclaimed_last);
        print_row("guests within the budget after", results, n, cell_fit);
        print_row("time over the budget", results, n, cell_over);
        print_row("guest 0 allocates 320 MiB: took", results, n, cell_alloc0);
        print_row("guest 1 allocates 256 MiB: took", results, n, cell_alloc1);
        print_row("failed allocations (refused or workload killed)", results, n, cell_failed);
        print_row("OOM kills (agents' `oom_kill`)", results, n, cell_oom);
        print_row("major faults (agents' `pgmajfault` / balloon stats)", results, n, cell_majflt);
        print_row("swap-ins (balloon stats; no swap in the guests)", results, n, cell_swap_in);
        print_row("balloon operations (`DECISION`s)", results, n, cell_ops);
        print_row("trace length", results, n, cell_duration);
        return 0;
}
