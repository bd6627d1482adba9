/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration tests of vmtide-agent in the test guest and the host reader:
 * periodic reports, a pressure push ahead of the periodic schedule, the
 * host side going away and coming back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "host/agent-channel/agent-channel-reader.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB (G_GUINT64_CONSTANT(1024) * 1024)

typedef struct {
        VtTestGuest *guest;
        VtAgentReader *reader;
        char *dir;
        GPid pid;
        guint n_hellos;
        guint n_reports;
        guint n_pressure;
        guint n_connected;
        VtAgentReport last;   /* copy of the latest report */
        VtAgentReport pushed; /* copy of the first pressure report */
        VtAgentReport hello;
} Fixture;

static void
on_hello(VtAgentReader *reader, const VtAgentReport *hello, gpointer data)
{
        Fixture *f = data;

        f->n_hellos++;
        vt_agent_report_clear(&f->hello);
        vt_agent_report_copy(hello, &f->hello);
}

static void
on_report(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        Fixture *f = data;

        f->n_reports++;
        vt_agent_report_clear(&f->last);
        vt_agent_report_copy(report, &f->last);
}

static void
on_pressure(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        Fixture *f = data;

        if (f->n_pressure++ == 0)
                vt_agent_report_copy(report, &f->pushed);
}

static void
on_connected(VtAgentReader *reader, gpointer data)
{
        ((Fixture *)data)->n_connected++;
}

/* Waits for an event counter to pass @above. */
static void
wait_counter_above(const guint *counter, guint above)
{
        g_assert_true(vt_test_wait_above(counter, above, VT_TEST_GUARD_US));
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        const VtTestGuestOptions options = {.name = "agent", .memory_bytes = 512 * MIB};
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        f->guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        f->dir = g_strdup(vt_test_guest_get_dir(f->guest));
        f->pid = vt_test_guest_get_pid(f->guest);

        f->reader = vt_agent_reader_new(vt_test_guest_get_agent_path(f->guest));
        g_signal_connect(f->reader, "hello", G_CALLBACK(on_hello), f);
        g_signal_connect(f->reader, "report", G_CALLBACK(on_report), f);
        g_signal_connect(f->reader, "pressure", G_CALLBACK(on_pressure), f);
        g_signal_connect(f->reader, "connected", G_CALLBACK(on_connected), f);
        vt_agent_reader_start(f->reader);
        /* The agent says hello when it finds the host connected. */
        wait_counter_above(&f->n_hellos, 0);
        g_test_message("agent %s, interval %" G_GUINT64_FORMAT " ms, psi trigger %s",
                       f->hello.version, f->hello.interval_ms,
                       f->hello.has_psi_trigger ? "yes" : "no");
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_object(&f->reader);
        g_clear_pointer(&f->guest, vt_test_guest_free);
        if (f->pid > 0)
                g_assert_true(kill(f->pid, 0) < 0 && errno == ESRCH);
        if (f->dir != NULL)
                g_assert_false(g_file_test(f->dir, G_FILE_TEST_EXISTS));
        g_free(f->dir);
        vt_agent_report_clear(&f->last);
        vt_agent_report_clear(&f->pushed);
        vt_agent_report_clear(&f->hello);
}

/* Sets the agent's interval and waits for the report that confirms it. */
static void
set_interval(Fixture *f, guint interval_ms)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(vt_agent_reader_set_interval(f->reader, interval_ms, &error));
        g_assert_no_error(error);
        do
                wait_counter_above(&f->n_reports, f->n_reports);
        while (f->last.interval_ms != interval_ms);
        g_assert_cmpint(f->last.reason, ==, VT_AGENT_REASON_REQUEST);
}

static void
test_agent_periodic(Fixture *f, gconstpointer data)
{
        const VtAgentReport *report;
        guint64 first_seq;
        gint64 first_us;

        if (f->guest == NULL)
                return;
        set_interval(f, 1000);
        first_seq = f->last.seq;
        first_us = f->last.received_us;
        wait_counter_above(&f->n_reports, f->n_reports + 2);

        report = vt_agent_reader_get_report(f->reader);
        g_test_message("3 periodic reports in %.2f s; MemAvailable %" G_GUINT64_FORMAT
                       " MiB, agent cpu %" G_GUINT64_FORMAT " us, rss %" G_GUINT64_FORMAT " KiB",
                       (double)(report->received_us - first_us) / G_USEC_PER_SEC,
                       report->mem_available / MIB, report->agent_cpu_us,
                       report->agent_rss_bytes / 1024);
        g_assert_cmpint(report->reason, ==, VT_AGENT_REASON_PERIODIC);
        g_assert_cmpuint(report->seq, ==, first_seq + 3);
        g_assert_cmpuint(report->interval_ms, ==, 1000);
        g_assert_cmpuint(report->mem_total, ==, vt_test_guest_get_mem_total(f->guest));
        /* The Debian 6.1 guest has all of these. */
        g_assert_cmpuint(report->fields & VT_AGENT_HAS_AVAILABLE, !=, 0);
        g_assert_cmpuint(report->fields & VT_AGENT_HAS_PSI_SOME, !=, 0);
        g_assert_cmpuint(report->fields & VT_AGENT_HAS_OOM_KILL, !=, 0);
        g_assert_cmpuint(report->fields & VT_AGENT_HAS_AGENT, !=, 0);
        g_assert_false(vt_agent_reader_is_stale(f->reader, g_get_monotonic_time()));
        g_assert_cmpuint(vt_agent_reader_get_counters(f->reader)->n_invalid, ==, 0);
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

/* The workload grabs most of the guest's memory: the agent pushes a
 * report at once, not at its next periodic turn a minute later. */
static void
test_agent_pressure(Fixture *f, gconstpointer data)
{
        Workload work = {0};
        GThread *thread;
        guint64 periodic_uptime_ms;
        guint64 available_before;

        if (f->guest == NULL)
                return;
        set_interval(f, 60000);
        periodic_uptime_ms = f->last.uptime_ms;
        available_before = f->last.mem_available;

        work.guest = f->guest;
        work.command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, f->last.mem_available / 10 * 9);
        thread = g_thread_new("workload", workload_thread, &work);
        wait_counter_above(&f->n_pressure, 0);
        g_thread_join(thread);
        g_test_message("pushed report: reason '%s', %" G_GUINT64_FORMAT
                       " ms after the last one; MemAvailable %" G_GUINT64_FORMAT
                       " MiB, psi some avg10 %.2f; workload: %s",
                       vt_agent_reason_to_string(f->pushed.reason),
                       f->pushed.uptime_ms - periodic_uptime_ms, f->pushed.mem_available / MIB,
                       f->pushed.psi_some.avg10, work.reply ? work.reply : work.error->message);
        g_assert_true(f->pushed.reason == VT_AGENT_REASON_PRESSURE ||
                      f->pushed.reason == VT_AGENT_REASON_DROP);
        /* Well before the next periodic report was due. */
        g_assert_cmpuint(f->pushed.uptime_ms, <, periodic_uptime_ms + 60000);
        /* A drop report shows the fall: more than the agent's 10 % of MemTotal. */
        if (f->pushed.reason == VT_AGENT_REASON_DROP)
                g_assert_cmpuint(f->pushed.mem_available + f->pushed.mem_total / 10, <,
                                 available_before);
        g_clear_error(&work.error);
        g_free(work.reply);
        g_free(work.command);
}

/* The host side goes away and comes back: reports resume. */
static void
test_agent_reconnect(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        guint hellos;
        guint connects;
        guint64 seq_before;

        if (f->guest == NULL)
                return;
        set_interval(f, 1000);
        seq_before = f->last.seq;
        hellos = f->n_hellos;
        connects = f->n_connected;

        vt_agent_reader_stop(f->reader);
        g_assert_false(vt_agent_reader_is_connected(f->reader));
        vt_agent_reader_start(f->reader);
        wait_counter_above(&f->n_connected, connects);

        wait_counter_above(&f->n_reports, f->n_reports + 1);
        g_test_message("after reconnecting: %u hello(s), seq %" G_GUINT64_FORMAT
                       " -> %" G_GUINT64_FORMAT,
                       f->n_hellos - hellos, seq_before, f->last.seq);
        /* The agent kept its state: its seq went on, its interval too. */
        g_assert_cmpuint(f->last.seq, >, seq_before);
        g_assert_cmpuint(f->last.interval_ms, ==, 1000);
        g_assert_true(vt_agent_reader_request_report(f->reader, &error));
        g_assert_no_error(error);
        wait_counter_above(&f->n_reports, f->n_reports);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, test) g_test_add(path, Fixture, NULL, fixture_setup, test, fixture_teardown)
        ADD("/agent/guest/periodic", test_agent_periodic);
        ADD("/agent/guest/pressure", test_agent_pressure);
        ADD("/agent/guest/reconnect", test_agent_reconnect);
#undef ADD
        return g_test_run();
}
