/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-mem beside the balloon, side by side in one run: how fast a
 * guest that runs out gets memory it can use, whether its allocation
 * succeeds and in how long, and how much of the host's memory vmtided
 * takes back once the guest frees it. Real vmtided, agent and QEMU (TCG).
 * Not a test: it prints each run and a median summary for
 * docs/benchmarks.md.
 *
 * Two guests under one vmtided and the same policy (vmtide's):
 *
 * - "balloon" (guest 0) boots with 768 MiB and no virtio-mem device: the
 *   balloon alone, from its boot size down;
 * - "virtio-mem" (guest 1) boots with 256 MiB and a 512 MiB virtio-mem
 *   device (room to 768 MiB), nothing plugged: vmtided's default strategy
 *   (virtio-mem-first) grows it by plugging beyond 256 MiB and shrinks it
 *   by unplugging first.
 *
 * Both have the same maximum for the policy (768 MiB). The host's need is
 * the budget: 680 MiB while idle (the host needs memory: vmtided balloons
 * the idle 768 MiB guest down until the host is plenty again) and
 * 1150 MiB during a run (room for either guest to grow to 768 MiB in one
 * give), switched by rewriting vmtided.conf and SIGHUP (the budget
 * applies live). The sizes the idle guests settle at are every run's
 * starting point.
 *
 * Runs alternate between the two guests; in each, the guest allocates
 * (vt-workload `alloc`) in 32 MiB steps, 19 by default (608 MiB), while the other
 * idles, on a thread of its own so that the daemon's events are timed as
 * they arrive on the main loop. Per run:
 *
 * - push -> decision: the first DECISION give on pressure for the guest,
 *   its agent_age_ms (from the daemon receiving the agent's push);
 * - decision -> confirmed: the BALLOON_DONE after it (`ms`; with a device
 *   the move tracker follows the balloon's actual plus what is plugged,
 *   so this is the plug confirmed too);
 * - decision -> QEMU plugged: when QEMU's plugged size (query-memory-devices
 *   on the guest's second monitor, sampled every 50 ms) last moved;
 * - push -> usable: from the push (the DECISION's arrival minus its
 *   agent_age_ms) to the end of the allocation step that was waiting,
 *   host monotonic clock: what the guest's program sees;
 * - the allocation: how many steps succeeded (an OOM kill or a refusal
 *   ends it), the time from the first step sent to the last answered and
 *   the slowest step;
 * - memory: the guest's size, MemTotal and QEMU's RSS (VmRSS) at the
 *   peak; then the guest frees everything, the budget goes back to the
 *   idle one and the daemon is done (reclaim_over()): the size and RSS
 *   after, the RSS reclaimed and the time from the budget's change to
 *   the last move the daemon confirmed for the guest.
 *
 * Between runs every guest is put back at its starting size by hand (and
 * QEMU unplugged), handed back to the policy, and the daemon settles.
 *
 * Usage: bench-memdev [RUNS [STEPS]]   (runs per configuration, default 3;
 *        32 MiB allocations per run, default 19, at most 23)
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench-daemon.h"

#define MIB            VT_BENCH_MIB
#define N_CONFIGS      2
#define IDLE_BUDGET    (680 * MIB)
#define RUN_BUDGET     (1150 * MIB)
#define DEFAULT_STEPS  19
#define MAX_STEPS      23
#define STEP_US        (60 * G_USEC_PER_SEC)
#define QUIET_US       (5 * G_USEC_PER_SEC)
#define DONE_GUARD_US  (30 * G_USEC_PER_SEC)
#define PLUG_SAMPLE_MS 50

/* 32 MiB allocations a run asks for (the second argument). */
static guint alloc_steps = DEFAULT_STEPS;

static const char *const config_names[N_CONFIGS] = {"balloon", "virtio-mem"};

static const VtBenchGuestSpec specs[N_CONFIGS] = {
    {.memory_bytes = 768 * MIB},
    {.memory_bytes = 256 * MIB, .virtio_mem_bytes = 512 * MIB},
};

/* One run; every figure is -1 when it was not seen. */
typedef struct {
        guint config;
        guint n_steps;         /* 32 MiB allocations that succeeded */
        gboolean failed;       /* one was refused, or the workload killed */
        char failure[160];     /* why */
        guint n_gives;         /* DECISIONs give for the guest while it allocated */
        gint64 start;          /* its size when the run began */
        gint64 from, to;       /* the pressure give */
        gint64 push_ms;        /* push -> decision (agent_age_ms) */
        gint64 done_ms;        /* decision -> confirmed (BALLOON_DONE ms) */
        gint64 usable_ms;      /* push -> the waiting step done */
        gint64 plug_ms;        /* decision -> QEMU's plugged size last moved */
        gint64 alloc_ms;       /* first step sent -> last answered */
        gint64 full_ms;        /* alloc_ms, when every step succeeded */
        gint64 slowest_ms;     /* the slowest step */
        gint64 peak;           /* its size at the peak (the daemon's memory) */
        gint64 plugged;        /* the most QEMU plugged while it allocated */
        gint64 mem_total;      /* MemTotal at the peak (vt-workload's) */
        gint64 rss_start;      /* QEMU's VmRSS when the run began */
        gint64 rss_peak;       /* QEMU's VmRSS at the peak */
        gint64 rss_after;      /* once settled under the idle budget */
        gint64 reclaimed;      /* rss_peak - rss_after */
        gint64 after;          /* its size then */
        gint64 reclaim_ms;     /* idle budget set -> last move confirmed */
        gint64 oom_kills;      /* the guest's agent counted them */
        gint64 reclaimed_size; /* peak - after */
} Run;

/* The allocating thread: vt-workload answers it; the main loop times events. */
typedef struct {
        VtTestGuest *guest;
        gint64 start_us;
        guint n_steps;
        gint64 end_us[MAX_STEPS];
        gint64 mem_total;
        guint n_done;
        char *failure;
        gint finished;
} Alloc;

/* MemTotal with the memory just allocated; after an OOM kill, the one the
 * restarted workload announced (the memory is still there). */
static gint64
alloc_mem_total(Alloc *a)
{
        g_autofree char *reply = NULL;
        guint64 total;

        if (a->failure != NULL)
                return (gint64)vt_test_guest_get_mem_total(a->guest);
        reply = vt_test_guest_workload(a->guest, "meminfo", STEP_US, NULL);
        if (reply == NULL || sscanf(reply, "ok %" G_GUINT64_FORMAT, &total) != 1)
                return -1;
        return (gint64)total;
}

static gpointer
alloc_thread(gpointer data)
{
        Alloc *a = data;
        g_autofree char *command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, VT_BENCH_ALLOC_STEP);

        a->start_us = g_get_monotonic_time();
        while (a->n_done < a->n_steps) {
                g_autoptr(GError) error = NULL;
                g_autofree char *reply = vt_test_guest_workload(a->guest, command, STEP_US, &error);

                if (reply == NULL || !g_str_has_prefix(reply, "ok")) {
                        a->failure = g_strdup(reply != NULL ? reply : error->message);
                        break;
                }
                a->end_us[a->n_done++] = g_get_monotonic_time();
        }
        a->mem_total = alloc_mem_total(a);
        g_atomic_int_set(&a->finished, 1);
        g_main_context_wakeup(NULL);
        return NULL;
}

static gboolean
alloc_finished(gpointer data)
{
        return g_atomic_int_get(&((Alloc *)data)->finished) != 0;
}

/* What QEMU says is plugged into the guest's virtio-mem device, or -1. */
static gint64
qemu_plugged(VtBench *bench, guint i)
{
        json_object *devices =
            vt_test_daemon_qemu_execute(bench->guests[i], "query-memory-devices", NULL, NULL);
        gint64 size = -1;

        for (gsize k = 0; devices != NULL && json_object_is_type(devices, json_type_array) &&
                          k < json_object_array_length(devices);
             k++)
                size = MAX(size,
                           vt_bench_json_int(json_object_array_get_idx(devices, k), "data.size"));
        json_object_put(devices);
        return size;
}

/* QEMU's plugged size, sampled while the guest allocates. */
typedef struct {
        VtBench *bench;
        guint i;
        gint64 plugged;
        gint64 max_plugged;
        gint64 moved_us; /* when it last changed; -1: never */
} PlugSampler;

static gboolean
on_plug_sample(gpointer data)
{
        PlugSampler *p = data;
        gint64 plugged = qemu_plugged(p->bench, p->i);

        if (plugged >= 0 && plugged != p->plugged) {
                p->plugged = plugged;
                p->max_plugged = MAX(p->max_plugged, plugged);
                p->moved_us = g_get_monotonic_time();
        }
        return G_SOURCE_CONTINUE;
}

static gboolean
event_is(const VtTestDaemonEvent *e, const char *name, const char *guest)
{
        json_object *value;

        return g_strcmp0(e->name, name) == 0 &&
               json_object_object_get_ex(e->data, "guest", &value) &&
               g_strcmp0(json_object_get_string(value), guest) == 0;
}

static gboolean
string_member_has(json_object *data, const char *member, const char *needle)
{
        json_object *value;

        return json_object_object_get_ex(data, member, &value) &&
               strstr(json_object_get_string(value), needle) != NULL;
}

/* The gives for the guest from event @from on; the first on pressure. */
static void
find_gives(VtBench *bench, guint i, guint from, Run *r, const Alloc *a, const PlugSampler *p)
{
        const char *name = vt_bench_guest_name(bench, i);
        guint n = vt_test_daemon_get_n_events(bench->daemon);

        for (guint k = from; k < n; k++) {
                const VtTestDaemonEvent *e = vt_test_daemon_get_event(bench->daemon, k);
                const VtTestDaemonEvent *done;
                guint next = k + 1;
                gint64 push_us;

                if (!event_is(e, "DECISION", name) || !string_member_has(e->data, "action", "give"))
                        continue;
                r->n_gives++;
                if (r->push_ms >= 0 || !string_member_has(e->data, "reason", "pressure"))
                        continue;
                r->from = vt_bench_json_int(e->data, "from");
                r->to = vt_bench_json_int(e->data, "to");
                r->push_ms = vt_bench_json_int(e->data, "agent_age_ms");
                push_us = e->at_us - MAX(r->push_ms, 0) * 1000;
                if (p->moved_us >= e->at_us)
                        r->plug_ms = (p->moved_us - e->at_us) / 1000;
                for (guint s = 0; s < a->n_done && r->usable_ms < 0; s++)
                        if (a->end_us[s] >= push_us)
                                r->usable_ms = (a->end_us[s] - push_us) / 1000;
                done = vt_test_daemon_wait_event(bench->daemon, &next, "BALLOON_DONE", name,
                                                 DONE_GUARD_US);
                if (done != NULL)
                        r->done_ms = vt_bench_json_int(done->data, "ms");
        }
}

/* Nothing moved for a second: the plug is over. */
static gboolean
plug_settled(gpointer data)
{
        PlugSampler *p = data;

        return g_get_monotonic_time() - p->moved_us > G_USEC_PER_SEC;
}

/* Guest @i allocates up to alloc_steps x 32 MiB; fills r's reaction. */
static void
run_alloc(VtBench *bench, guint i, Run *r)
{
        Alloc a = {.guest = bench->guests[i], .n_steps = alloc_steps};
        PlugSampler p = {bench, i, qemu_plugged(bench, i), -1, -1};
        guint from = vt_test_daemon_get_n_events(bench->daemon);
        g_autoptr(GSource) sampler = g_timeout_source_new(PLUG_SAMPLE_MS);
        GThread *thread;

        if (specs[i].virtio_mem_bytes > 0) {
                g_source_set_callback(sampler, on_plug_sample, &p, NULL);
                g_source_attach(sampler, NULL);
        }
        thread = g_thread_new("alloc", alloc_thread, &a);
        vt_test_run_until(alloc_finished, &a, (alloc_steps + 1) * STEP_US);
        g_thread_join(thread);
        /* A plug still going on when the last step was answered. */
        if (specs[i].virtio_mem_bytes > 0)
                vt_bench_poll(plug_settled, &p, DONE_GUARD_US);
        g_source_destroy(sampler);
        r->n_steps = a.n_done;
        r->failed = a.failure != NULL;
        if (a.failure != NULL)
                g_strlcpy(r->failure, a.failure, sizeof(r->failure));
        g_free(a.failure);
        if (a.n_done > 0) {
                r->alloc_ms = (a.end_us[a.n_done - 1] - a.start_us) / 1000;
                r->slowest_ms = (a.end_us[0] - a.start_us) / 1000;
                for (guint s = 1; s < a.n_done; s++)
                        r->slowest_ms = MAX(r->slowest_ms, (a.end_us[s] - a.end_us[s - 1]) / 1000);
                if (a.n_done == alloc_steps)
                        r->full_ms = r->alloc_ms;
        }
        find_gives(bench, i, from, r, &a, &p);
        r->mem_total = a.mem_total;
        r->plugged = specs[i].virtio_mem_bytes > 0 ? p.max_plugged : -1;
}

/* When the daemon last confirmed a move of guest @i from event @from on. */
static gint64
last_done_us(VtBench *bench, guint i, guint from)
{
        gint64 at_us = -1;

        for (guint k = from; k < vt_test_daemon_get_n_events(bench->daemon); k++) {
                const VtTestDaemonEvent *e = vt_test_daemon_get_event(bench->daemon, k);

                if (event_is(e, "BALLOON_DONE", vt_bench_guest_name(bench, i)))
                        at_us = e->at_us;
        }
        return at_us;
}

typedef struct {
        VtBench *bench;
        guint i;
        guint from;
} ReclaimWait;

/* The daemon reclaimed guest @i since event @from, every guest is at its
 * target and the host is plenty or tight: what is left to reclaim, if
 * any, is under the minimum change (a reclaim rounded to virtio-mem's
 * blocks can leave the host tight just short of plenty for good). */
static gboolean
reclaimed(gpointer data)
{
        ReclaimWait *w = data;
        const char *name = vt_bench_guest_name(w->bench, w->i);
        json_object *status = vt_test_daemon_execute(w->bench->daemon, "query-status", NULL, NULL);
        json_object *host, *state;
        gboolean calm = status != NULL && json_object_object_get_ex(status, "host", &host) &&
                        json_object_object_get_ex(host, "state", &state) &&
                        (g_str_equal(json_object_get_string(state), "plenty") ||
                         g_str_equal(json_object_get_string(state), "tight"));
        gboolean seen = FALSE;

        json_object_put(status);
        for (guint k = w->from; k < vt_test_daemon_get_n_events(w->bench->daemon) && !seen; k++) {
                const VtTestDaemonEvent *e = vt_test_daemon_get_event(w->bench->daemon, k);

                seen = event_is(e, "DECISION", name) &&
                       string_member_has(e->data, "action", "reclaim");
        }
        for (guint k = 0; k < N_CONFIGS && calm && seen; k++) {
                gint64 target = vt_bench_guest_int(w->bench, k, "target");

                calm = target <= 0 ||
                       ABS(vt_bench_guest_memory(w->bench, k) - target) <= (gint64)(4 * MIB);
        }
        return calm && seen;
}

/* Waits until the daemon has reclaimed guest @i and moved nothing for
 * QUIET_US (past its 4 s settle time: it chose not to move). */
static gboolean
reclaim_over(VtBench *bench, guint i, guint from)
{
        ReclaimWait w = {bench, i, from};

        return vt_bench_wait(bench, reclaimed, &w, VT_BENCH_GUARD_US) &&
               vt_bench_wait_quiet(bench, QUIET_US, VT_BENCH_GUARD_US);
}

/* Guest @i frees its memory, then the host needs memory back (the idle
 * budget): what the daemon takes back, and how fast. */
static void
run_free(VtBench *bench, guint i, Run *r)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = NULL;
        guint from;
        gint64 need_us;
        gint64 done_us;

        reply = vt_test_guest_workload(bench->guests[i], "free", STEP_US, &error);
        if (reply == NULL)
                printf("    free: %s\n", error->message);
        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US))
                printf("    no fresh reports after the free\n");
        from = vt_test_daemon_get_n_events(bench->daemon);
        need_us = g_get_monotonic_time();
        if (!vt_bench_daemon_set_budget(bench, IDLE_BUDGET, VT_BENCH_GUARD_US))
                printf("    the daemon did not take the idle budget\n");
        if (!reclaim_over(bench, i, from))
                printf("    the daemon did not settle under the idle budget\n");
        done_us = last_done_us(bench, i, from);
        r->reclaim_ms = done_us >= 0 ? (done_us - need_us) / 1000 : -1;
        r->after = vt_bench_guest_memory(bench, i);
        r->rss_after = vt_bench_guest_rss(bench, i);
        r->reclaimed = r->rss_peak >= 0 && r->rss_after >= 0 ? r->rss_peak - r->rss_after : -1;
        r->reclaimed_size = r->peak >= 0 && r->after >= 0 ? r->peak - r->after : -1;
}

typedef struct {
        VtBench *bench;
        const gint64 *sizes;
} SizesWait;

/* Every guest at its size, as the daemon has it, and nothing plugged
 * that was not at the start, as QEMU has it. */
static gboolean
at_sizes(gpointer data)
{
        SizesWait *w = data;

        for (guint i = 0; i < N_CONFIGS; i++) {
                if (ABS(vt_bench_guest_memory(w->bench, i) - w->sizes[i]) > (gint64)(4 * MIB))
                        return FALSE;
                if (specs[i].virtio_mem_bytes > 0 && qemu_plugged(w->bench, i) > 0)
                        return FALSE;
        }
        return TRUE;
}

/* Puts both guests back at @sizes by hand (and QEMU unplugged), hands
 * them back to the daemon and waits until it settles. */
static void
run_reset(VtBench *bench, const gint64 *sizes)
{
        SizesWait w = {bench, sizes};

        for (guint k = 0; k < N_CONFIGS; k++)
                vt_bench_set_target(bench, k, (guint64)sizes[k]);
        if (!vt_bench_poll(at_sizes, &w, VT_BENCH_GUARD_US))
                printf("    the guests did not go back to their starting sizes\n");
        for (guint k = 0; k < N_CONFIGS; k++)
                vt_bench_set_target(bench, k, 0);
        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_settled(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_quiet(bench, QUIET_US, VT_BENCH_GUARD_US))
                printf("    the daemon did not settle at the starting sizes\n");
}

static gint64
oom_kill_count(VtBench *bench, guint i)
{
        return vt_bench_guest_int(bench, i, "agent.oom_kill");
}

static void
run_once(VtBench *bench, guint config, const gint64 *sizes, Run *r)
{
        gint64 oom_before = oom_kill_count(bench, config);
        gint64 oom_after;

        if (!vt_bench_daemon_set_budget(bench, RUN_BUDGET, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_quiet(bench, QUIET_US, VT_BENCH_GUARD_US))
                printf("    the daemon did not take the run's budget and stay still\n");
        *r = (Run){.config = config,
                   .from = -1,
                   .to = -1,
                   .push_ms = -1,
                   .done_ms = -1,
                   .usable_ms = -1,
                   .plug_ms = -1,
                   .alloc_ms = -1,
                   .full_ms = -1,
                   .slowest_ms = -1};
        r->start = vt_bench_guest_memory(bench, config);
        r->rss_start = vt_bench_guest_rss(bench, config);
        run_alloc(bench, config, r);
        r->peak = vt_bench_guest_memory(bench, config);
        r->rss_peak = vt_bench_guest_rss(bench, config);
        run_free(bench, config, r);
        oom_after = oom_kill_count(bench, config);
        r->oom_kills = oom_before >= 0 && oom_after >= 0 ? oom_after - oom_before : -1;
        run_reset(bench, sizes);
}

static gint64
mib(gint64 bytes)
{
        return bytes >= 0 ? bytes / (gint64)MIB : -1;
}

static void
print_run(guint n, const Run *r)
{
        printf("run %2u %-10s: %2u x 32 MiB%s%s%s in %" G_GINT64_FORMAT " ms (slowest step "
               "%" G_GINT64_FORMAT " ms), %u gives; pressure give %" G_GINT64_FORMAT
               " -> %" G_GINT64_FORMAT " MiB: push->decision %" G_GINT64_FORMAT
               " ms, decision->confirmed %" G_GINT64_FORMAT " ms, decision->QEMU plugged "
               "%" G_GINT64_FORMAT " ms, push->usable %" G_GINT64_FORMAT " ms\n",
               n, config_names[r->config], r->n_steps, r->failed ? " (FAILED: " : "", r->failure,
               r->failed ? ")" : "", r->alloc_ms, r->slowest_ms, r->n_gives, mib(r->from),
               mib(r->to), r->push_ms, r->done_ms, r->plug_ms, r->usable_ms);
        printf("       size %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
               " MiB (at the peak: plugged %" G_GINT64_FORMAT " MiB, MemTotal %" G_GINT64_FORMAT
               " MiB); QEMU RSS %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
               " MiB, %" G_GINT64_FORMAT " MiB reclaimed, the daemon's last move %" G_GINT64_FORMAT
               " ms after the host needed memory; OOM kills %" G_GINT64_FORMAT "\n",
               mib(r->start), mib(r->peak), mib(r->after), mib(r->plugged), mib(r->mem_total),
               mib(r->rss_start), mib(r->rss_peak), mib(r->rss_after), mib(r->reclaimed),
               r->reclaim_ms, r->oom_kills);
}

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

/* The median of the figure at @offset over @config's runs that have it. */
static char *
median(const Run *runs, guint n_runs, guint config, gsize offset, gboolean in_mib)
{
        g_autofree gint64 *v = g_new0(gint64, n_runs);
        guint n = 0;
        gint64 m;

        for (guint i = 0; i < n_runs; i++) {
                gint64 x = *(const gint64 *)((const char *)&runs[i] + offset);

                if (runs[i].config == config && x >= 0)
                        v[n++] = x;
        }
        if (n == 0)
                return g_strdup("-");
        qsort(v, n, sizeof(*v), compare_gint64);
        m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return in_mib ? g_strdup_printf("%" G_GINT64_FORMAT " MiB", m / (gint64)MIB)
                      : g_strdup_printf("%" G_GINT64_FORMAT " ms", m);
}

static void
print_row(const char *what, const Run *runs, guint n_runs, gsize offset, gboolean in_mib)
{
        g_autofree char *a = median(runs, n_runs, 0, offset, in_mib);
        g_autofree char *b = median(runs, n_runs, 1, offset, in_mib);

        printf("| %s | %s | %s |\n", what, a, b);
}

static void
print_summary(const Run *runs, guint n_runs)
{
        guint ok[N_CONFIGS] = {0}, total[N_CONFIGS] = {0};
        gint64 ooms[N_CONFIGS] = {0};

        for (guint i = 0; i < n_runs; i++) {
                total[runs[i].config]++;
                ok[runs[i].config] += !runs[i].failed && runs[i].n_steps == alloc_steps;
                ooms[runs[i].config] += MAX(runs[i].oom_kills, 0);
        }
        printf("\n| median | balloon (768 MiB boot) | virtio-mem (256 MiB boot + 512 MiB) |\n"
               "|---|---|---|\n");
        printf("| allocations of %u MiB that succeeded | %u of %u | %u of %u |\n", alloc_steps * 32,
               ok[0], total[0], ok[1], total[1]);
        printf("| OOM kills | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT " |\n", ooms[0], ooms[1]);
        print_row("size at the start", runs, n_runs, offsetof(Run, start), TRUE);
        print_row("QEMU RSS at the start", runs, n_runs, offsetof(Run, rss_start), TRUE);
        print_row("push → decision (`agent_age_ms`)", runs, n_runs, offsetof(Run, push_ms), FALSE);
        print_row("decision → confirmed (`BALLOON_DONE` `ms`)", runs, n_runs,
                  offsetof(Run, done_ms), FALSE);
        print_row("decision → QEMU's plugged size last moved", runs, n_runs, offsetof(Run, plug_ms),
                  FALSE);
        print_row("push → the waiting allocation done", runs, n_runs, offsetof(Run, usable_ms),
                  FALSE);
        print_row("time to allocate it all (runs that did)", runs, n_runs, offsetof(Run, full_ms),
                  FALSE);
        print_row("slowest 32 MiB step", runs, n_runs, offsetof(Run, slowest_ms), FALSE);
        print_row("size at the peak", runs, n_runs, offsetof(Run, peak), TRUE);
        print_row("guest MemTotal at the peak", runs, n_runs, offsetof(Run, mem_total), TRUE);
        print_row("QEMU RSS at the peak", runs, n_runs, offsetof(Run, rss_peak), TRUE);
        print_row("size once settled after the free", runs, n_runs, offsetof(Run, after), TRUE);
        print_row("QEMU RSS once settled after the free", runs, n_runs, offsetof(Run, rss_after),
                  TRUE);
        print_row("size taken back", runs, n_runs, offsetof(Run, reclaimed_size), TRUE);
        print_row("host memory reclaimed (RSS)", runs, n_runs, offsetof(Run, reclaimed), TRUE);
        print_row("host needs memory → the daemon's last move confirmed", runs, n_runs,
                  offsetof(Run, reclaim_ms), FALSE);
}

/* The daemon reclaims the idle guests; their sizes then are the start. */
static void
settle_idle(VtBench *bench, gint64 *sizes)
{
        if (!vt_bench_wait_reports(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_settled(bench, VT_BENCH_GUARD_US) ||
            !vt_bench_wait_quiet(bench, QUIET_US, VT_BENCH_GUARD_US)) {
                vt_bench_daemon_dump_log(bench);
                g_error("vmtided did not settle with the guests idle");
        }
        printf("idle, settled after %u moves:",
               vt_test_daemon_count_events(bench->daemon, 0, "BALLOON_DONE", NULL));
        for (guint i = 0; i < N_CONFIGS; i++) {
                sizes[i] = vt_bench_guest_memory(bench, i);
                printf(" %s %" G_GINT64_FORMAT " MiB (QEMU RSS %" G_GINT64_FORMAT " MiB)",
                       config_names[i], mib(sizes[i]), mib(vt_bench_guest_rss(bench, i)));
        }
        printf("; virtio-mem plugged %" G_GINT64_FORMAT " MiB\n", mib(qemu_plugged(bench, 1)));
}

int
main(int argc, char **argv)
{
        guint n_per_config = argc > 1 ? (guint)atoi(argv[1]) : 3;
        g_autofree char *reason = NULL;
        g_autoptr(VtBench) bench = NULL;
        g_autofree Run *runs = NULL;
        gint64 sizes[N_CONFIGS];
        guint n_runs = n_per_config * N_CONFIGS;

        if (argc > 2)
                alloc_steps = CLAMP((guint)atoi(argv[2]), 1, MAX_STEPS);

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (n_per_config == 0 || !vt_test_guest_available(&reason)) {
                fprintf(stderr, "bench-memdev: %s\n",
                        n_per_config == 0 ? "RUNS must be > 0" : reason);
                return 1;
        }
        runs = g_new0(Run, n_runs);
        bench = vt_bench_new_guests("memdev", specs, N_CONFIGS, IDLE_BUDGET);
        printf("guests: %s = 768 MiB boot, balloon; %s = 256 MiB boot + 512 MiB virtio-mem; "
               "budget %" G_GUINT64_FORMAT " MiB idle, %" G_GUINT64_FORMAT " MiB in a run; "
               "%u x 32 MiB per run\n",
               vt_bench_guest_name(bench, 0), vt_bench_guest_name(bench, 1), IDLE_BUDGET / MIB,
               RUN_BUDGET / MIB, alloc_steps);
        vt_bench_daemon_start(bench, "vmtide");
        settle_idle(bench, sizes);

        for (guint i = 0; i < n_runs; i++) {
                run_once(bench, i % N_CONFIGS, sizes, &runs[i]);
                print_run(i + 1, &runs[i]);
        }
        print_summary(runs, n_runs);
        return 0;
}
