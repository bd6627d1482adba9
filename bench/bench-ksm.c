/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Side-by-side benchmark of the KSM tuners on the real sysfs: vmtide's
 * tuner, the ksmtuned baseline and the kernel's advisor alone, each driving
 * KSM for the same three identical idle 512 MiB test guests, one after the
 * other, in one run. Before each policy everything merged is unmerged
 * (run=2) and KSM stopped. Not a test: it prints a table for
 * docs/benchmarks.md. KSM's settings are saved first and restored last.
 *
 * Every tuner is shown the same host, short of memory: a 2 GiB budget for
 * guests that commit 1.5 GiB, 10 % of it available (and free, for
 * ksmtuned, which judges MemFree). Each ticks once a second; ksmtuned's own
 * 60 s cadence lives in its state, as in the script.
 *
 * Usage: bench-ksm [SECONDS]   (default 120; at least 120: savings and
 *        ksmd CPU are also taken at 30 s and 120 s)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksm/ksm-driver.h"
#include "tests/vt-test-ksm.h"
#include "tests/vt-test-util.h"

#define MIB          (G_GUINT64_CONSTANT(1024) * 1024)
#define N_GUESTS     3
#define GUEST_MEMORY (512 * MIB)
#define BUDGET       (2048 * MIB)
/* Savings and CPU are taken at 30 s, 120 s and the end. */
#define N_CHECKPOINTS 3

typedef struct {
        const char *name;
        VtKsmTunerFunc decide;
} Policy;

typedef struct {
        VtKsmSysfs *sysfs;
        VtTestGuest *guests[N_GUESTS];
        const Policy *policy;
        VtKsmTunerConfig config;
        VtKsmTunerState state;
        VtKsmKernel kernel;
        VtKsmSample first;
        VtKsmSample previous;
        gboolean has_previous;
        guint n_ticks;
        guint n_writes;
        gint64 saved_at[N_CHECKPOINTS];
        gint64 cpu_at[N_CHECKPOINTS];
} Bench;

static void
bench_tick(Bench *b)
{
        g_autoptr(GError) error = NULL;
        VtKsmGuest guests[N_GUESTS];
        VtKsmSample sample = {0};
        VtKsmRates rates = {0};
        VtKsmDecision decision = {0};
        const VtKsmHost host = {
            .mem_total = BUDGET,
            .mem_available = BUDGET / 10,
            .mem_free = BUDGET / 10,
            .n_cpus = (guint)sysconf(_SC_NPROCESSORS_ONLN),
        };
        VtKsmTunerInput input;
        gboolean has_rates;
        guint n_writes = 0;

        if (!vt_ksm_sysfs_read_sample(b->sysfs, &sample, &error))
                g_error("%s", error->message);
        has_rates = b->has_previous &&
                    vt_ksm_rates_compute(&b->previous, &sample, b->kernel.page_size, &rates);
        for (guint i = 0; i < N_GUESTS; i++)
                vt_test_ksm_guest_read(b->guests[i], GUEST_MEMORY, &guests[i]);
        input = (VtKsmTunerInput){.host = &host,
                                  .guests = guests,
                                  .n_guests = N_GUESTS,
                                  .kernel = &b->kernel,
                                  .sample = &sample,
                                  .rates = has_rates ? &rates : NULL,
                                  .now_us = sample.time_us};
        b->policy->decide(&input, &b->config, &b->state, &decision);
        if (!vt_ksm_driver_apply(b->sysfs, &decision, &n_writes, &error))
                g_error("%s: %s", b->policy->name, error->message);
        if (n_writes > 0)
                printf("  %3u s  %s\n", b->n_ticks, decision.reason);
        b->n_writes += n_writes;
        if (!b->has_previous)
                b->first = sample;
        b->previous = sample;
        b->has_previous = TRUE;
        b->n_ticks++;
}

static gboolean
on_tick(gpointer data)
{
        bench_tick(data);
        return G_SOURCE_CONTINUE;
}

static gboolean
ticks_done(gpointer data)
{
        Bench *b = ((gpointer *)data)[0];

        return b->n_ticks > GPOINTER_TO_UINT(((gpointer *)data)[1]);
}

static void
run_until_tick(Bench *b, guint tick)
{
        gpointer args[2] = {b, GUINT_TO_POINTER(tick)};

        if (!vt_test_run_until(ticks_done, args, (gint64)(tick + 60) * G_USEC_PER_SEC))
                g_error("the control loop stalled");
}

/* Unmerges everything and stops KSM, at the kernel's default pace. */
static void
reset_ksm(VtKsmSysfs *sysfs)
{
        g_autoptr(GError) error = NULL;

        if ((vt_ksm_sysfs_has(sysfs, "advisor_mode") &&
             !vt_ksm_sysfs_write_string(sysfs, "advisor_mode", "none", &error)) ||
            !vt_ksm_sysfs_write_u64(sysfs, "run", 2, &error) ||
            !vt_ksm_sysfs_write_u64(sysfs, "run", 0, &error) ||
            !vt_ksm_sysfs_write_u64(sysfs, "pages_to_scan", 100, &error) ||
            !vt_ksm_sysfs_write_u64(sysfs, "sleep_millisecs", 20, &error))
                g_error("resetting KSM: %s", error->message);
}

static gint64
guests_merged_bytes(Bench *b)
{
        gint64 pages = 0;

        for (guint i = 0; i < N_GUESTS; i++)
                pages += MAX(vt_test_ksm_guest_merging(b->guests[i]), 0);
        return pages * (gint64)b->kernel.page_size;
}

int
main(int argc, char **argv)
{
        static const Policy policies[] = {
            {"vmtide", vt_ksm_tuner_decide},
            {"ksmtuned", vt_ksm_tuner_ksmtuned_decide},
            {"advisor alone", vt_ksm_tuner_advisor_decide},
        };
        guint seconds = MAX(argc > 1 ? (guint)atoi(argv[1]) : 120, 120);
        guint checkpoints[N_CHECKPOINTS] = {30, 120, seconds};
        g_autoptr(GError) error = NULL;
        g_autoptr(VtKsmSysfs) sysfs = vt_ksm_sysfs_new(NULL, &error);
        g_autoptr(VtKsmSysfsSettings) saved = NULL;
        g_autofree char *reason = NULL;
        VtTestGuest *guests[N_GUESTS] = {NULL};
        Bench results[G_N_ELEMENTS(policies)];

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (sysfs == NULL || !vt_test_guest_available(&reason)) {
                fprintf(stderr, "bench-ksm: %s\n", sysfs == NULL ? error->message : reason);
                return 1;
        }
        saved = vt_ksm_sysfs_save(sysfs, &error);
        if (saved == NULL)
                g_error("%s", error->message);
        for (guint i = 0; i < N_GUESTS; i++) {
                g_autofree char *name = g_strdup_printf("bench-ksm%u", i);
                const VtTestGuestOptions options = {.name = name, .memory_bytes = GUEST_MEMORY};

                guests[i] = vt_test_guest_start(&options, &error);
                if (guests[i] == NULL)
                        g_error("%s", error->message);
        }

        for (guint p = 0; p < G_N_ELEMENTS(policies); p++) {
                Bench *b = &results[p];
                guint tick;

                *b = (Bench){.sysfs = sysfs, .policy = &policies[p]};
                memcpy(b->guests, guests, sizeof(guests));
                vt_ksm_tuner_config_init(&b->config);
                b->kernel =
                    (VtKsmKernel){.has_advisor = vt_ksm_sysfs_has(sysfs, "advisor_mode"),
                                  .has_pages_scanned = vt_ksm_sysfs_has(sysfs, "pages_scanned"),
                                  .page_size = (guint64)sysconf(_SC_PAGESIZE),
                                  .pages_to_scan_max = 100000};
                reset_ksm(sysfs);
                printf("%s:\n", policies[p].name);
                bench_tick(b);
                tick = g_timeout_add(1000, on_tick, b);
                for (guint c = 0; c < N_CHECKPOINTS; c++) {
                        run_until_tick(b, checkpoints[c]);
                        b->saved_at[c] = guests_merged_bytes(b) -
                                         (gint64)(b->previous.pages_shared * b->kernel.page_size);
                        b->cpu_at[c] = b->previous.ksmd_cpu_us - b->first.ksmd_cpu_us;
                }
                g_source_remove(tick);
        }

        printf("\n| policy | saved at 30 s | saved at 120 s | saved at %u s | ksmd CPU-s at 30 s "
               "| at 120 s | at %u s | MiB saved per CPU-second (%u s) | knob writes |\n"
               "|---|---|---|---|---|---|---|---|---|\n",
               seconds, seconds, seconds);
        for (guint p = 0; p < G_N_ELEMENTS(policies); p++) {
                const Bench *b = &results[p];
                double cpu_s = (double)b->cpu_at[2] / G_USEC_PER_SEC;
                g_autofree char *per_cpu =
                    cpu_s > 0 ? g_strdup_printf("%.0f", (double)b->saved_at[2] / MIB / cpu_s)
                              : g_strdup("-");

                printf("| %s | %.0f MiB | %.0f MiB | %.0f MiB | %.1f | %.1f | %.1f | %s | %u |\n",
                       policies[p].name, (double)b->saved_at[0] / MIB, (double)b->saved_at[1] / MIB,
                       (double)b->saved_at[2] / MIB, (double)b->cpu_at[0] / G_USEC_PER_SEC,
                       (double)b->cpu_at[1] / G_USEC_PER_SEC, cpu_s, per_cpu, b->n_writes);
        }

        reset_ksm(sysfs);
        for (guint i = 0; i < N_GUESTS; i++)
                vt_test_guest_free(guests[i]);
        if (!vt_ksm_sysfs_restore(sysfs, saved, &error))
                g_error("restoring KSM: %s", error->message);
        return 0;
}
