/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration test of the agent's compressed-memory figures (agent protocol
 * revision 2, issue 15): a test guest sets zram0 up as its swap (the guest
 * image carries zsmalloc and zram), the workload allocates beyond what the
 * guest has available with pages that compress well, then reads them all
 * back; the host's agent reader must report real zram figures (data
 * stored, compressed smaller than it is, the device used as swap) and swap
 * rates above zero, out while it fills and in while it reads back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "host/agent-channel/agent-channel-reader.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB (G_GUINT64_CONSTANT(1024) * 1024)
/* zram0's size: as large as the guest, so the allocation below fits. */
#define ZRAM_DISKSIZE (512 * MIB)
/* How far beyond MemAvailable the workload allocates. */
#define ZRAM_PUSH (192 * MIB)
/* Allocating and reading back through zram under TCG takes a while. */
#define WORKLOAD_TIMEOUT_US (300 * G_USEC_PER_SEC)

typedef struct {
        VtTestGuest *guest;
        VtAgentReader *reader;
        char *dir;
        GPid pid;
        guint n_hellos;
        guint n_reports;
        VtAgentReport last;    /* copy of the latest report */
        double max_swap_in;    /* the highest swap_in_per_s reported */
        double max_swap_out;   /* the highest swap_out_per_s reported */
        guint64 max_zram_orig; /* the most zram held, uncompressed */
        guint n_rates;         /* reports with swap rates */
} Fixture;

static void
on_hello(VtAgentReader *reader, const VtAgentReport *hello, gpointer data)
{
        ((Fixture *)data)->n_hellos++;
}

static void
on_report(VtAgentReader *reader, const VtAgentReport *report, gpointer data)
{
        Fixture *f = data;

        f->n_reports++;
        vt_agent_report_clear(&f->last);
        vt_agent_report_copy(report, &f->last);
        if (report->fields & VT_AGENT_HAS_SWAP_RATES) {
                f->n_rates++;
                f->max_swap_in = MAX(f->max_swap_in, report->swap_in_per_s);
                f->max_swap_out = MAX(f->max_swap_out, report->swap_out_per_s);
        }
        if (report->fields & VT_AGENT_HAS_ZRAM)
                f->max_zram_orig = MAX(f->max_zram_orig, report->zram_orig);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        const VtTestGuestOptions options = {.name = "zram", .memory_bytes = 512 * MIB};
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
        vt_agent_reader_start(f->reader);
        g_assert_true(vt_test_wait_above(&f->n_hellos, 0, VT_TEST_GUARD_US));
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
}

/* Sets the agent's interval and waits for the report that confirms it. */
static void
set_interval(Fixture *f, guint interval_ms)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(vt_agent_reader_set_interval(f->reader, interval_ms, &error));
        g_assert_no_error(error);
        do
                g_assert_true(vt_test_wait_above(&f->n_reports, f->n_reports, VT_TEST_GUARD_US));
        while (f->last.interval_ms != interval_ms);
}

typedef struct {
        VtTestGuest *guest;
        char *command;
        char *reply;
        GError *error;
        guint done;
} Workload;

static gpointer
workload_thread(gpointer data)
{
        Workload *w = data;

        w->reply = vt_test_guest_workload(w->guest, w->command, WORKLOAD_TIMEOUT_US, &w->error);
        g_atomic_int_set(&w->done, 1);
        return NULL;
}

static gboolean
workload_done(gpointer data)
{
        return g_atomic_int_get(&((Workload *)data)->done) != 0;
}

/*
 * Runs a workload command in a thread while the main loop keeps reading
 * the agent's reports, and checks that it answered "ok".
 */
static void
run_workload(Fixture *f, const char *command)
{
        Workload w = {.guest = f->guest, .command = g_strdup(command)};
        GThread *thread = g_thread_new("workload", workload_thread, &w);
        gint64 start_us = g_get_monotonic_time();

        g_assert_true(vt_test_run_until(workload_done, &w, WORKLOAD_TIMEOUT_US + VT_TEST_GUARD_US));
        g_thread_join(thread);
        g_test_message("'%s': %s in %.1f s", command, w.reply ? w.reply : w.error->message,
                       (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC);
        g_assert_no_error(w.error);
        g_assert_true(g_str_has_prefix(w.reply, "ok"));
        g_free(w.reply);
        g_free(w.command);
}

static void
log_report(const char *what, const VtAgentReport *r)
{
        g_test_message("%s: zram %u device(s), %u swap; orig %" G_GUINT64_FORMAT
                       " KiB, compr %" G_GUINT64_FORMAT " KiB, used %" G_GUINT64_FORMAT
                       " KiB, huge pages %" G_GUINT64_FORMAT "; swap %" G_GUINT64_FORMAT
                       " of %" G_GUINT64_FORMAT " KiB free; rates in %.1f out %.1f pages/s",
                       what, r->zram_devices, r->zram_swap_devices, r->zram_orig / 1024,
                       r->zram_compr / 1024, r->zram_used / 1024, r->zram_huge_pages,
                       r->swap_free / 1024, r->swap_total / 1024, r->swap_in_per_s,
                       r->swap_out_per_s);
}

/* Waits for two more reports, so that the rates cover what just happened. */
static void
wait_two_reports(Fixture *f)
{
        g_assert_true(vt_test_wait_above(&f->n_reports, f->n_reports + 1, VT_TEST_GUARD_US));
}

static void
test_agent_zram(Fixture *f, gconstpointer data)
{
        g_autofree char *zram = NULL;
        g_autofree char *alloc = NULL;
        const VtAgentReport *r = &f->last;

        if (f->guest == NULL)
                return;
        set_interval(f, 1000);
        /* No zram in use yet: the figures are absent, not zero. */
        g_assert_cmpuint(r->fields & VT_AGENT_HAS_ZRAM, ==, 0);

        zram = g_strdup_printf("zram %" G_GUINT64_FORMAT " lzo-rle", ZRAM_DISKSIZE);
        run_workload(f, zram);
        wait_two_reports(f);
        log_report("zram0 as swap", r);
        g_assert_cmpuint(r->fields & VT_AGENT_HAS_ZRAM, !=, 0);
        g_assert_cmpuint(r->zram_devices, ==, 1);
        g_assert_cmpuint(r->zram_swap_devices, ==, 1);
        g_assert_cmpuint(r->fields & VT_AGENT_HAS_SWAP, !=, 0);
        g_assert_cmpuint(r->swap_total, >, ZRAM_DISKSIZE / 2);

        /* Beyond what the guest has: the oldest pages go to zram. */
        alloc = g_strdup_printf("alloc %" G_GUINT64_FORMAT, r->mem_available + ZRAM_PUSH);
        f->max_swap_out = 0;
        run_workload(f, alloc);
        wait_two_reports(f);
        log_report("after the allocation", r);
        g_assert_cmpuint(r->fields & VT_AGENT_HAS_ZRAM, !=, 0);
        g_assert_cmpuint(r->zram_orig, >, 0);
        g_assert_cmpuint(r->zram_compr, >, 0);
        g_assert_cmpuint(r->zram_compr, <, r->zram_orig);
        g_assert_cmpuint(r->zram_used, >, 0);
        g_assert_cmpuint(r->zram_used, <, r->zram_orig);
        /* What zram holds is swap: swap used is what it stores. */
        g_assert_cmpuint(r->swap_total - r->swap_free, >, 0);
        g_assert_cmpuint(r->swap_total - r->swap_free, >=, r->zram_orig / 2);
        g_assert_cmpuint(f->n_rates, >, 0);
        g_assert_cmpfloat(f->max_swap_out, >, 0);

        /* Reading every page back swaps them in. */
        f->max_swap_in = 0;
        run_workload(f, "check");
        wait_two_reports(f);
        log_report("after reading back", r);
        g_test_message("highest rates: in %.1f, out %.1f pages/s; most held %" G_GUINT64_FORMAT
                       " KiB",
                       f->max_swap_in, f->max_swap_out, f->max_zram_orig / 1024);
        g_assert_cmpfloat(f->max_swap_in, >, 0);
        g_assert_cmpuint(vt_agent_reader_get_counters(f->reader)->n_invalid, ==, 0);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/agent/guest/zram", Fixture, NULL, fixture_setup, test_agent_zram,
                   fixture_teardown);
        return g_test_run();
}
