/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark of vmtide-agent in the test guest, seen from the host reader.
 * Not a test: it prints figures for docs/benchmarks.md.
 *
 *   push latency: from the host asking the workload to allocate 90 % of the
 *                 guest's MemAvailable to the host receiving the agent's
 *                 pushed report (reason pressure or drop); median and worst
 *   idle cost:    the agent's own CPU time and RSS, from its reports, over
 *                 an idle minute at the default 5 s interval
 *
 * Usage: bench-agent [RUNS [IDLE_S [SAMPLE_MS]]] (defaults 7, 60, the agent's
 * own 1000 ms).
 *
 * The allocation runs in a thread (the workload channel is blocking) while
 * the main loop receives the agent's reports.
 */
#include <stdio.h>
#include <stdlib.h>

#include "host/agent-channel/agent-channel-reader.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB (G_GUINT64_CONSTANT(1024) * 1024)

typedef struct {
        guint n_reports;
        guint n_pressure;
        guint n_hellos;
        VtAgentReport last;
        VtAgentReport pushed;
        gint64 pushed_us;
} Bench;

static void
on_report(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        Bench *b = data;

        b->n_reports++;
        vt_agent_report_clear(&b->last);
        vt_agent_report_copy(report, &b->last);
}

static void
on_pressure(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        Bench *b = data;

        if (b->n_pressure++ == 0) {
                b->pushed_us = g_get_monotonic_time();
                vt_agent_report_copy(report, &b->pushed);
        }
}

static void
on_hello(VtAgentReader *reader, const VtAgentReport *hello, gpointer data)
{
        ((Bench *)data)->n_hellos++;
}

static void
wait_counter_above(const guint *counter, guint above)
{
        if (!vt_test_wait_above(counter, above, VT_TEST_GUARD_US))
                g_error("the agent never answered");
}

static void
request_report(VtAgentReader *reader, Bench *b)
{
        g_autoptr(GError) error = NULL;
        guint before = b->n_reports;

        if (!vt_agent_reader_request_report(reader, &error))
                g_error("report-now: %s", error->message);
        wait_counter_above(&b->n_reports, before);
}

static gboolean
on_timer(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

static gboolean
flag_set(gpointer data)
{
        return *(gboolean *)data;
}

/* Lets the main loop run for @ms (a benchmark may pace itself). */
static void
idle_for(guint ms)
{
        gboolean done = FALSE;

        g_timeout_add(ms, on_timer, &done);
        vt_test_run_until(flag_set, &done, (gint64)ms * 1000 + VT_TEST_GUARD_US);
}

typedef struct {
        VtTestGuest *guest;
        char *command;
        char *reply;
        GError *error;
} Workload;

static gpointer
workload_thread(gpointer data)
{
        Workload *w = data;

        w->reply = vt_test_guest_workload(w->guest, w->command, 0, &w->error);
        return NULL;
}

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
        guint runs = argc > 1 ? (guint)atoi(argv[1]) : 7;
        guint idle_s = argc > 2 ? (guint)atoi(argv[2]) : 60;
        g_autofree char *kernel_args =
            argc > 3 ? g_strdup_printf("vt.agent=--sample-ms=%s", argv[3]) : NULL;
        const VtTestGuestOptions options = {
            .name = "bench-agent", .memory_bytes = 512 * MIB, .kernel_args = kernel_args};
        g_autoptr(VtTestGuest) guest = NULL;
        g_autoptr(VtAgentReader) reader = NULL;
        g_autoptr(GArray) latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        guint reasons[VT_AGENT_REASON_MAX] = {0};
        guint64 cpu0, cpu1;
        gint64 t0, t1;
        Bench b = {0};

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (!vt_test_guest_available(&reason)) {
                fprintf(stderr, "bench-agent: %s\n", reason);
                return 1;
        }
        guest = vt_test_guest_start(&options, &error);
        if (guest == NULL) {
                fprintf(stderr, "bench-agent: %s\n", error->message);
                return 1;
        }
        reader = vt_agent_reader_new(vt_test_guest_get_agent_path(guest));
        g_signal_connect(reader, "report", G_CALLBACK(on_report), &b);
        g_signal_connect(reader, "pressure", G_CALLBACK(on_pressure), &b);
        g_signal_connect(reader, "hello", G_CALLBACK(on_hello), &b);
        vt_agent_reader_start(reader);
        wait_counter_above(&b.n_hellos, 0);

        for (guint i = 0; i < runs; i++) {
                Workload work = {.guest = guest};
                GThread *thread;
                gint64 start, latency;
                g_autofree char *freed = NULL;

                request_report(reader, &b);
                work.command =
                    g_strdup_printf("alloc %" G_GUINT64_FORMAT, b.last.mem_available / 10 * 9);
                b.n_pressure = 0;
                vt_agent_report_clear(&b.pushed);
                start = g_get_monotonic_time();
                thread = g_thread_new("workload", workload_thread, &work);
                wait_counter_above(&b.n_pressure, 0);
                latency = b.pushed_us - start;
                g_thread_join(thread);
                g_array_append_val(latencies, latency);
                reasons[b.pushed.reason]++;
                printf("run %u: %s report after %" G_GINT64_FORMAT " ms (workload: %s)\n", i + 1,
                       vt_agent_reason_to_string(b.pushed.reason), latency / 1000,
                       work.reply ? work.reply : work.error->message);
                freed = vt_test_guest_workload(guest, "free", 0, NULL);
                g_clear_error(&work.error);
                g_free(work.reply);
                g_free(work.command);
                /* Let PSI's trigger window and the 1 s MemAvailable sampling pass. */
                idle_for(3000);
        }
        g_array_sort(latencies, compare_gint64);
        printf("agent sampling MemAvailable every %s ms\n", argc > 3 ? argv[3] : "1000");
        printf("push latency over %u runs: median %" G_GINT64_FORMAT " ms, worst %" G_GINT64_FORMAT
               " ms (reasons: %u pressure, %u drop)\n",
               runs, g_array_index(latencies, gint64, latencies->len / 2) / 1000,
               g_array_index(latencies, gint64, latencies->len - 1) / 1000,
               reasons[VT_AGENT_REASON_PRESSURE], reasons[VT_AGENT_REASON_DROP]);

        /* Idle cost at the default interval, from the agent's own numbers. */
        if (!vt_agent_reader_set_interval(reader, 5000, &error))
                g_error("set-interval: %s", error->message);
        idle_for(5000);
        request_report(reader, &b);
        cpu0 = b.last.agent_cpu_us;
        t0 = b.last.received_us;
        idle_for(idle_s * 1000);
        request_report(reader, &b);
        cpu1 = b.last.agent_cpu_us;
        t1 = b.last.received_us;
        printf("idle agent over %.0f s: %.4f %% of a CPU (%" G_GUINT64_FORMAT
               " us), RSS %" G_GUINT64_FORMAT " KiB\n",
               (double)(t1 - t0) / G_USEC_PER_SEC,
               100.0 * (double)(cpu1 - cpu0) / (double)(t1 - t0), cpu1 - cpu0,
               b.last.agent_rss_bytes / 1024);

        vt_agent_reader_stop(reader);
        vt_agent_report_clear(&b.last);
        vt_agent_report_clear(&b.pushed);
        return 0;
}
