/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How fast vmtided answers a guest's pressure push: from the agent's push
 * to the balloon's deflate confirmed, end to end, with the real daemon,
 * agent and QEMU. Not a test: it prints each run and a summary for
 * docs/benchmarks.md.
 *
 * Three 512 MiB test guests under a 1200 MiB budget, as in
 * tests/test-vmtided.c. Once vmtide has reclaimed the idle guests and
 * settled, each run has guest 0 allocate in 32 MiB steps until the daemon
 * gives memory back on a pressure push (a DECISION give whose reason says
 * "pressure"). Two figures come from the daemon's own clock: the
 * DECISION's agent_age_ms (from the daemon receiving the push to the
 * decision) and the matching BALLOON_DONE's ms (balloon command to the
 * move confirmed by QEMU); their sum is the time from the push to the
 * deflate confirmed. The goal (issue #5) is under 1 s under TCG. The
 * push's own way out of the guest (the agent's sampling and the port) is
 * bench-agent's figure. After each step the MemAvailable the daemon has
 * from the agent is noted, to show what it saw when a run ends in an OOM
 * kill instead of a give.
 *
 * Between runs guest 0 frees its memory. vmtide reclaims only when the
 * host is not plenty, and after a give and a free the host usually is
 * plenty again (the give was paid for by reclaiming the other guests), so
 * the daemon is given the chance to reclaim (until it settles), and then
 * every guest is put back by hand (set-target, then auto) at the sizes it
 * settled at first, and no balloon moves for 5 s (past the daemon's 4 s
 * settle time): every run starts from the same place.
 *
 * With --libvirt the guests are libvirt domains and vmtided runs its
 * libvirt backend (tests/test-libvirt-daemon.c): the same runs, through
 * libvirt's API and events.
 *
 * Usage: bench-reaction [--libvirt] [RUNS]   (default 15)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench-daemon.h"

#define MIB         VT_BENCH_MIB
#define N_GUESTS    VT_BENCH_N_GUESTS
#define ALLOC_LIMIT (VT_BENCH_GUEST_BYTES - 128 * MIB)
#define STEP_US     (60 * G_USEC_PER_SEC)
#define GIVE_US     (30 * G_USEC_PER_SEC)
#define QUIET_US    (5 * G_USEC_PER_SEC)
#define LATE_US     (2 * G_USEC_PER_SEC)

typedef struct {
        guint n_steps;      /* 32 MiB allocations before the give */
        guint n_failed;     /* allocations refused, or the workload killed */
        gint64 from, to;    /* the give, bytes; -1: none */
        gint64 push_ms;     /* the DECISION's agent_age_ms; -1: none */
        gint64 done_ms;     /* the BALLOON_DONE's ms; -1: none */
        guint n_other;      /* other DECISIONs for guest 0 before it */
        gboolean by_daemon; /* the daemon reclaimed guest 0 after the free */
        char reason[160];
        char trail[256]; /* MemAvailable the daemon had after each step */
} Run;

/* Lets the control client read what the daemon has sent meanwhile. */
static void
drain(void)
{
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

/* The first DECISION for guest 0 from *from on that gives on pressure;
 * counts the other DECISIONs for it in r->n_other. Moves *from past what
 * it looked at. */
static const VtTestDaemonEvent *
find_pressure_give(VtBench *bench, guint *from, Run *r)
{
        const char *name = vt_bench_guest_name(bench, 0);

        for (; *from < vt_test_daemon_get_n_events(bench->daemon); (*from)++) {
                const VtTestDaemonEvent *e = vt_test_daemon_get_event(bench->daemon, *from);
                json_object *value;

                if (g_strcmp0(e->name, "DECISION") != 0 ||
                    !json_object_object_get_ex(e->data, "guest", &value) ||
                    g_strcmp0(json_object_get_string(value), name) != 0)
                        continue;
                if (json_object_object_get_ex(e->data, "action", &value) &&
                    g_strcmp0(json_object_get_string(value), "give") == 0 &&
                    json_object_object_get_ex(e->data, "reason", &value) &&
                    strstr(json_object_get_string(value), "pressure") != NULL) {
                        (*from)++;
                        return e;
                }
                r->n_other++;
        }
        return NULL;
}

/* Notes the agent's MemAvailable, as the daemon has it now, in r->trail. */
static void
trail_add(VtBench *bench, Run *r)
{
        gint64 available = vt_bench_guest_int(bench, 0, "agent.mem_available");
        gsize len = strlen(r->trail);

        g_snprintf(r->trail + len, sizeof(r->trail) - len, " %" G_GINT64_FORMAT,
                   available >= 0 ? available / (gint64)MIB : -1);
}

typedef struct {
        VtBench *bench;
        guint *from;
        Run *run;
        const VtTestDaemonEvent *found;
} GiveWait;

static gboolean
give_arrived(gpointer data)
{
        GiveWait *w = data;

        w->found = find_pressure_give(w->bench, w->from, w->run);
        return w->found != NULL;
}

/* Allocates in guest 0 until the pressure give; fills r. */
static void
run_once(VtBench *bench, Run *r)
{
        const char *name = vt_bench_guest_name(bench, 0);
        g_autofree char *command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, VT_BENCH_ALLOC_STEP);
        guint from = vt_test_daemon_get_n_events(bench->daemon);
        const VtTestDaemonEvent *give = NULL;
        const VtTestDaemonEvent *done;
        json_object *reason;

        *r = (Run){.from = -1, .to = -1, .push_ms = -1, .done_ms = -1};
        for (guint64 total = 0; total < ALLOC_LIMIT && give == NULL; total += VT_BENCH_ALLOC_STEP) {
                g_autoptr(GError) error = NULL;
                g_autofree char *reply =
                    vt_test_guest_workload(bench->guests[0], command, STEP_US, &error);

                if (reply == NULL || !g_str_has_prefix(reply, "ok")) {
                        printf("    allocation %u: %s\n", r->n_steps + 1,
                               reply != NULL ? reply : error->message);
                        r->n_failed++;
                        break;
                }
                r->n_steps++;
                drain();
                give = find_pressure_give(bench, &from, r);
                trail_add(bench, r);
        }
        if (give == NULL) {
                GiveWait w = {bench, &from, r, NULL};

                /* After an OOM kill the guest has memory again: only a
                 * push already on its way can still bring a give. */
                vt_bench_wait(bench, give_arrived, &w, r->n_failed ? LATE_US : GIVE_US);
                give = w.found;
        }
        if (give == NULL) {
                g_strlcpy(r->reason, "no give on pressure", sizeof(r->reason));
                return;
        }
        r->from = vt_bench_json_int(give->data, "from");
        r->to = vt_bench_json_int(give->data, "to");
        r->push_ms = vt_bench_json_int(give->data, "agent_age_ms");
        if (json_object_object_get_ex(give->data, "reason", &reason))
                g_strlcpy(r->reason, json_object_get_string(reason), sizeof(r->reason));
        done = vt_test_daemon_wait_event(bench->daemon, &from, "BALLOON_DONE", name, GIVE_US);
        if (done != NULL)
                r->done_ms = vt_bench_json_int(done->data, "ms");
}

typedef struct {
        VtBench *bench;
        const gint64 *sizes;
} SizesWait;

static gboolean
at_sizes(gpointer data)
{
        SizesWait *w = data;

        for (guint i = 0; i < N_GUESTS; i++)
                if (ABS(vt_bench_guest_int(w->bench, i, "actual") - w->sizes[i]) >
                    (gint64)(4 * MIB))
                        return FALSE;
        return TRUE;
}

/* Frees guest 0, lets the daemon settle, then puts every guest back at
 * @sizes by hand. Says whether the daemon reclaimed guest 0 itself. */
static void
reset(VtBench *bench, const gint64 *sizes, Run *r)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = vt_test_guest_workload(bench->guests[0], "free", STEP_US, &error);
        SizesWait w = {bench, sizes};

        if (reply == NULL)
                printf("    free: %s\n", error->message);
        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_settled(bench, VT_BENCH_GUARD_US))
                printf("    the daemon did not settle after the free\n");
        r->by_daemon = vt_bench_guest_int(bench, 0, "actual") <= sizes[0] + (gint64)(32 * MIB);
        for (guint i = 0; i < N_GUESTS; i++)
                vt_bench_set_target(bench, i, (guint64)sizes[i]);
        if (!vt_bench_wait(bench, at_sizes, &w, VT_BENCH_GUARD_US))
                printf("    the balloons did not go back to their starting sizes\n");
        for (guint i = 0; i < N_GUESTS; i++)
                vt_bench_set_target(bench, i, 0);
        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_settled(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_quiet(bench, QUIET_US, VT_BENCH_GUARD_US))
                printf("    the daemon did not settle at the starting sizes\n");
}

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

typedef enum {
        FIGURE_PUSH,
        FIGURE_DONE,
        FIGURE_SUM,
} Figure;

static gint64
figure_get(const Run *r, Figure which)
{
        switch (which) {
        case FIGURE_PUSH:
                return r->push_ms;
        case FIGURE_DONE:
                return r->done_ms;
        case FIGURE_SUM:
        default:
                return r->push_ms < 0 || r->done_ms < 0 ? -1 : r->push_ms + r->done_ms;
        }
}

/* Median and worst of a figure over the runs with a give, in time
 * (@late FALSE: no allocation failed) or after an OOM kill (@late TRUE). */
static void
print_figure(const char *what, const Run *runs, guint n_runs, Figure which, gboolean late)
{
        g_autofree gint64 *v = g_new0(gint64, MAX(n_runs, 1));
        guint n = 0;

        for (guint i = 0; i < n_runs; i++) {
                gint64 x = figure_get(&runs[i], which);

                if (x >= 0 && (runs[i].n_failed > 0) == late)
                        v[n++] = x;
        }
        if (n == 0) {
                printf("| %s | - | - | 0 |\n", what);
                return;
        }
        qsort(v, n, sizeof(*v), compare_gint64);
        printf("| %s | %" G_GINT64_FORMAT " ms | %" G_GINT64_FORMAT " ms | %u |\n", what,
               n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[n - 1], n);
}

/* The agents' OOM kill counters summed, from reports sent after this call. */
static gint64
oom_kills(VtBench *bench)
{
        gint64 sum = 0;

        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US))
                printf("no fresh agent reports: OOM kills not counted\n");
        for (guint i = 0; i < N_GUESTS; i++)
                sum += MAX(vt_bench_guest_int(bench, i, "agent.oom_kill"), 0);
        return sum;
}

int
main(int argc, char **argv)
{
        gboolean libvirt = argc > 1 && g_str_equal(argv[1], "--libvirt");
        guint n_runs = argc > 1 + libvirt ? (guint)atoi(argv[1 + libvirt]) : 15;
        g_autofree char *reason = NULL;
        g_autoptr(VtBench) bench = NULL;
        g_autofree Run *runs = NULL;
        gint64 sizes[N_GUESTS];
        gint64 oom_before;
        guint n_by_daemon = 0, n_failed = 0, n_no_give = 0;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (n_runs == 0 ||
            !(libvirt ? vt_test_libvirt_available(&reason) : vt_test_guest_available(&reason))) {
                fprintf(stderr, "bench-reaction: %s\n", n_runs == 0 ? "RUNS must be > 0" : reason);
                return 1;
        }
        runs = g_new0(Run, n_runs);
        bench = libvirt ? vt_bench_new_libvirt("vt-react") : vt_bench_new("react");
        printf("backend: %s\n", libvirt ? "libvirt" : "qmp");
        vt_bench_daemon_start(bench, "vmtide");

        /* The daemon reclaims the idle guests, from 1536 MiB to the budget and below. */
        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_settled(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_quiet(bench, QUIET_US, VT_BENCH_GUARD_US)) {
                vt_bench_daemon_dump_log(bench);
                g_error("vmtided did not reclaim the idle guests and settle");
        }
        printf("settled after %u moves:",
               vt_test_daemon_count_events(bench->daemon, 0, "BALLOON_DONE", NULL));
        for (guint i = 0; i < N_GUESTS; i++) {
                sizes[i] = vt_bench_guest_int(bench, i, "actual");
                printf(" %s %" G_GINT64_FORMAT " MiB", vt_bench_guest_name(bench, i),
                       sizes[i] / (gint64)MIB);
        }
        printf("\n");
        oom_before = oom_kills(bench);

        for (guint i = 0; i < n_runs; i++) {
                Run *r = &runs[i];

                run_once(bench, r);
                printf("run %2u: %2u x 32 MiB, %s%" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                       " MiB: push->decision %" G_GINT64_FORMAT " ms, decision->confirmed "
                       "%" G_GINT64_FORMAT " ms (%u other decisions before; '%s')\n",
                       i + 1, r->n_steps, r->n_failed ? "ALLOCATION FAILED, " : "",
                       r->from / (gint64)MIB, r->to / (gint64)MIB, r->push_ms, r->done_ms,
                       r->n_other, r->reason);
                printf("        MemAvailable the daemon had after each step, MiB:%s\n", r->trail);
                reset(bench, sizes, r);
                n_by_daemon += r->by_daemon;
                n_failed += r->n_failed;
        }

        printf("\nRuns that got the give before the guest ran out:\n\n"
               "| of %u runs | median | worst | runs |\n|---|---|---|---|\n",
               n_runs);
        print_figure("push → decision (`agent_age_ms`)", runs, n_runs, FIGURE_PUSH, FALSE);
        print_figure("decision → deflate confirmed (`BALLOON_DONE` `ms`)", runs, n_runs,
                     FIGURE_DONE, FALSE);
        print_figure("push → deflate confirmed", runs, n_runs, FIGURE_SUM, FALSE);
        printf("\nRuns whose give came after the guest's OOM killer had acted:\n\n"
               "| of %u runs | median | worst | runs |\n|---|---|---|---|\n",
               n_runs);
        print_figure("push → deflate confirmed", runs, n_runs, FIGURE_SUM, TRUE);
        for (guint i = 0; i < n_runs; i++)
                n_no_give += runs[i].from < 0;
        printf("\nRuns without a give on pressure: %u. OOM kills over the bench: "
               "%" G_GINT64_FORMAT "; failed allocations: %u; guest 0 reclaimed by the daemon "
               "after a free: %u of %u runs\n",
               n_no_give, oom_kills(bench) - oom_before, n_failed, n_by_daemon, n_runs);
        return 0;
}
