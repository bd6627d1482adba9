/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration test of KSM on the real sysfs with three identical test
 * guests: with the host short of memory the tuner starts KSM and
 * pages_sharing rises; per-process accounting attributes the merged pages
 * to the three QEMU processes; ksmd's measured CPU share stays under the
 * cap; with memory ample again the tuner stops KSM.
 *
 * KSM settings are global to the machine. The parent saves every knob,
 * runs the test in a subprocess (so that a failed assertion cannot skip the
 * restore), restores the knobs whatever happened, checks they read back as
 * saved, and only then judges the subprocess.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "agent/agent-proc.h"
#include "ksm/ksm-driver.h"
#include "ksm/ksm-proc.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-ksm.h"
#include "tests/vt-test-util.h"

#define MIB            (G_GUINT64_CONSTANT(1024) * 1024)
#define N_GUESTS       3
#define GUEST_MEMORY   (512 * MIB)
#define TICK_MS        1000
#define TARGET_SHARING 5000 /* pages: 20 MiB saved */

/* The test runs in a subprocess, whose say() output GLib keeps
 * to itself: say what happened on stderr, which the parent passes on. */
static void say(const char *format, ...) G_GNUC_PRINTF(1, 2);

static void
say(const char *format, ...)
{
        va_list args;
        g_autofree char *text = NULL;

        va_start(args, format);
        text = g_strdup_vprintf(format, args);
        va_end(args);
        fprintf(stderr, "# %s\n", text);
}

typedef struct {
        VtKsmSysfs *sysfs;
        VtTestGuest *guests[N_GUESTS];
        VtKsmTunerConfig config;
        VtKsmTunerState state;
        VtKsmKernel kernel;
        VtKsmSample previous;
        gboolean has_previous;
        double available_fraction; /* the host's MemAvailable the tuner is shown */
        VtKsmDecision decision;
        guint n_ticks;
        gint64 guests_merging; /* pages merged in the three QEMU processes */
        GArray *cpu_shares;    /* ksmd's share per tick, once running */
        GError *error;
} KsmRun;

/* The host as the tuner sees it: real figures, MemAvailable set by the test. */
static void
read_host(const KsmRun *run, VtKsmHost *ret_host)
{
        VtAgentSample sample = {0};

        g_assert_cmpint(vt_agent_sample_read("/proc", &sample), ==, 0);
        *ret_host = (VtKsmHost){
            .mem_total = sample.mem[VT_AGENT_MEM_TOTAL],
            .mem_free = sample.mem[VT_AGENT_MEM_FREE],
            .mem_available = (guint64)(sample.mem[VT_AGENT_MEM_TOTAL] * run->available_fraction),
            .psi_some_avg10 = sample.psi_avg[VT_AGENT_PSI_SOME_AVG10],
            .psi_full_avg10 = sample.psi_avg[VT_AGENT_PSI_FULL_AVG10],
            .n_cpus = (guint)sysconf(_SC_NPROCESSORS_ONLN),
        };
}

/* One turn of the control loop: sample, decide, apply. */
static gboolean
ksm_tick(gpointer data)
{
        KsmRun *run = data;
        VtKsmGuest guests[N_GUESTS];
        VtKsmRates rates = {0};
        VtKsmSample sample = {0};
        VtKsmHost host;
        gboolean has_rates;
        VtKsmTunerInput input;

        g_assert_true(vt_ksm_sysfs_read_sample(run->sysfs, &sample, &run->error));
        has_rates = run->has_previous &&
                    vt_ksm_rates_compute(&run->previous, &sample, run->kernel.page_size, &rates);
        if (has_rates && run->previous.run == 1 && rates.ksmd_cpu_share >= 0)
                g_array_append_val(run->cpu_shares, rates.ksmd_cpu_share);
        run->guests_merging = 0;
        for (guint i = 0; i < N_GUESTS; i++) {
                vt_test_ksm_guest_read(run->guests[i], GUEST_MEMORY, &guests[i]);
                run->guests_merging += MAX(guests[i].merging_pages, 0);
        }
        read_host(run, &host);
        input = (VtKsmTunerInput){.host = &host,
                                  .guests = guests,
                                  .n_guests = N_GUESTS,
                                  .kernel = &run->kernel,
                                  .sample = &sample,
                                  .rates = has_rates ? &rates : NULL,
                                  .now_us = sample.time_us};
        vt_ksm_tuner_decide(&input, &run->config, &run->state, &run->decision);
        say("tick %u: sharing %" G_GUINT64_FORMAT " shared %" G_GUINT64_FORMAT
            " ksmd %.1f %% -> run=%u pages_to_scan=%" G_GUINT64_FORMAT ": %s",
            run->n_ticks, sample.pages_sharing, sample.pages_shared,
            has_rates ? rates.ksmd_cpu_share * 100 : -1.0, run->decision.run,
            run->decision.pages_to_scan, run->decision.reason);
        g_assert_cmpuint(run->decision.run, !=, 2);
        g_assert_true(vt_ksm_driver_apply(run->sysfs, &run->decision, NULL, &run->error));
        run->previous = sample;
        run->has_previous = TRUE;
        run->n_ticks++;
        return G_SOURCE_CONTINUE;
}

/*
 * Judged on the guests' own pages: the global counters may still count
 * pages of processes that exited while ksmd was stopped, until it runs.
 */
static gboolean
sharing_reached(gpointer data)
{
        KsmRun *run = data;

        return run->guests_merging >= TARGET_SHARING;
}

static gboolean
ticks_passed(gpointer data)
{
        KsmRun *run = ((gpointer *)data)[0];

        return run->n_ticks >= GPOINTER_TO_UINT(((gpointer *)data)[1]);
}

static void
run_ticks(KsmRun *run, guint n)
{
        gpointer args[2] = {run, GUINT_TO_POINTER(run->n_ticks + n)};

        g_assert_true(vt_test_run_until(ticks_passed, args, VT_TEST_GUARD_US));
}

static gboolean
on_unmerge_poll(gpointer data)
{
        (void)data;
        return G_SOURCE_CONTINUE; /* wakes the loop: the condition reads sysfs */
}

static gboolean
nothing_merged(gpointer data)
{
        VtKsmSysfs *sysfs = data;
        VtKsmSample sample = {0};

        return vt_ksm_sysfs_read_sample(sysfs, &sample, NULL) && sample.pages_sharing == 0 &&
               sample.pages_shared == 0;
}

/*
 * KSM's counters may still count the pages of processes that exited while
 * ksmd was stopped (an earlier test's guests): when ksmd starts they drop,
 * which the tuner would read as merging that does not pay. run=2 unmerges
 * everything and clears them; then KSM is stopped, as on a host without
 * vmtide.
 */
static void
ksm_start_clean(VtKsmSysfs *sysfs)
{
        g_autoptr(GError) error = NULL;
        guint poll = g_timeout_add(50, on_unmerge_poll, NULL);

        g_assert_true(vt_ksm_sysfs_write_u64(sysfs, "run", 2, &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_run_until(nothing_merged, sysfs, VT_TEST_GUARD_US));
        g_source_remove(poll);
        g_assert_true(vt_ksm_sysfs_write_u64(sysfs, "run", 0, &error));
        g_assert_no_error(error);
}

static void
ksm_body(void)
{
        g_autoptr(GError) error = NULL;
        KsmRun run = {.available_fraction = 0.10};
        gint64 sum_merging = 0;
        double mean_share = 0;
        double peak_share = 0;
        guint n_late = 0;
        guint64 run_knob = 1;
        guint tick;

        run.sysfs = vt_ksm_sysfs_new(NULL, &error);
        g_assert_no_error(error);
        run.cpu_shares = g_array_new(FALSE, FALSE, sizeof(double));
        vt_ksm_tuner_config_init(&run.config);
        run.kernel =
            (VtKsmKernel){.has_advisor = vt_ksm_sysfs_has(run.sysfs, "advisor_mode"),
                          .has_pages_scanned = vt_ksm_sysfs_has(run.sysfs, "pages_scanned"),
                          .page_size = (guint64)sysconf(_SC_PAGESIZE),
                          .pages_to_scan_max = 100000};
        /* Start from KSM stopped and nothing merged, as a host without
         * vmtide would be. */
        ksm_start_clean(run.sysfs);

        for (guint i = 0; i < N_GUESTS; i++) {
                g_autofree char *name = g_strdup_printf("ksm%u", i);
                const VtTestGuestOptions options = {.name = name, .memory_bytes = GUEST_MEMORY};

                run.guests[i] = vt_test_guest_start(&options, &error);
                g_assert_no_error(error);
        }

        /* The host is short of memory: the tuner starts KSM at once. */
        tick = g_timeout_add(TICK_MS, ksm_tick, &run);
        ksm_tick(&run);
        g_assert_no_error(run.error);
        g_assert_cmpuint(run.decision.run, ==, 1);
        g_assert_true(vt_test_run_until(sharing_reached, &run, VT_TEST_GUARD_US));
        g_assert_no_error(run.error);
        say("pages_sharing %" G_GUINT64_FORMAT " after %u ticks", run.previous.pages_sharing,
            run.n_ticks);
        /* Let the tuner hold its rate for a while, to judge ksmd's CPU. */
        run_ticks(&run, 10);
        g_assert_no_error(run.error);

        /* Every merged page belongs to one of the three QEMU processes. */
        for (guint i = 0; i < N_GUESTS; i++) {
                gint64 merging = vt_test_ksm_guest_merging(run.guests[i]);

                say("guest %u (QEMU pid %d): %" G_GINT64_FORMAT " pages merged", i,
                    vt_test_guest_get_pid(run.guests[i]), merging);
                g_assert_cmpint(merging, >, 0);
                sum_merging += merging;
        }
        {
                VtKsmSample now = {0};
                guint64 global;

                g_assert_true(vt_ksm_sysfs_read_sample(run.sysfs, &now, &error));
                global = now.pages_shared + now.pages_sharing;
                say("per-process sum %" G_GINT64_FORMAT ", global %" G_GUINT64_FORMAT, sum_merging,
                    global);
                g_assert_cmpfloat((double)sum_merging, >=, 0.9 * (double)global);
                g_assert_cmpfloat((double)sum_merging, <=, 1.1 * (double)global);
        }

        /*
         * ksmd stays under the cap on average; a single interval may pass it
         * when a merging pass costs more per page than the one before
         * (measured: 1.2 us a page while checksumming, 3-4 us merging), but
         * never runs away: the tuner corrects at the next tick.
         */
        for (guint i = 0; i < run.cpu_shares->len; i++) {
                double share = g_array_index(run.cpu_shares, double, i);

                mean_share += share;
                peak_share = MAX(peak_share, share);
                n_late++;
        }
        g_assert_cmpuint(n_late, >, 0);
        mean_share /= n_late;
        say("ksmd CPU share while running: mean %.1f %%, peak %.1f %% over %u s (cap %.0f %%)",
            mean_share * 100, peak_share * 100, n_late, run.config.cpu_cap * 100);
        g_assert_cmpfloat(mean_share, <=, run.config.cpu_cap);
        g_assert_cmpfloat(peak_share, <=, 2 * run.config.cpu_cap);

        /* Memory is ample again: the tuner stops KSM. */
        run.available_fraction = 0.90;
        run_ticks(&run, 2);
        g_assert_no_error(run.error);
        g_assert_true(vt_ksm_sysfs_read_u64(run.sysfs, "run", &run_knob, &error));
        g_assert_cmpuint(run_knob, ==, 0);

        g_source_remove(tick);
        for (guint i = 0; i < N_GUESTS; i++)
                vt_test_guest_free(run.guests[i]);
        g_array_unref(run.cpu_shares);
        vt_ksm_sysfs_free(run.sysfs);
}

static void
test_ksm_guests(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtKsmSysfs) sysfs = NULL;
        g_autoptr(VtKsmSysfsSettings) saved = NULL;
        g_autoptr(VtKsmSysfsSettings) after = NULL;
        g_autofree char *reason = NULL;
        const char *const *knobs;

        if (g_test_subprocess()) {
                ksm_body();
                return;
        }
        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        sysfs = vt_ksm_sysfs_new(NULL, &error);
        if (!vt_test_skip_unless(sysfs != NULL, error ? error->message : "no KSM"))
                return;
        if (!vt_test_skip_unless(access("/sys/kernel/mm/ksm/run", W_OK) == 0,
                                 "KSM knobs are not writable (not root?)"))
                return;
        saved = vt_ksm_sysfs_save(sysfs, &error);
        g_assert_no_error(error);

        g_test_trap_subprocess(NULL, 600 * G_USEC_PER_SEC,
                               G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);

        /* Whatever happened: KSM as we found it. */
        g_assert_true(vt_ksm_sysfs_restore(sysfs, saved, &error));
        g_assert_no_error(error);
        after = vt_ksm_sysfs_save(sysfs, &error);
        g_assert_no_error(error);
        knobs = vt_ksm_sysfs_get_knobs(sysfs);
        for (guint i = 0; knobs[i] != NULL; i++) {
                if (vt_ksm_sysfs_is_writable(knobs[i]))
                        g_assert_cmpstr(vt_ksm_sysfs_settings_lookup(after, knobs[i]), ==,
                                        vt_ksm_sysfs_settings_lookup(saved, knobs[i]));
        }
        g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/ksm/guest/tune", test_ksm_guests);
        return g_test_run();
}
