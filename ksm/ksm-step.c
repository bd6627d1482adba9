/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One KSM step of a tick: sample, run the tuner, apply what it decided. */

/*
 * Theory of operation: each tick the daemon (run_ksm() in host/daemon-tick.c)
 * hands over the host's memory and its guests; the step samples the KSM
 * counters and ksmd's CPU (ksm-sysfs.c), derives the rates since the
 * previous step (ksm-sample.c), reads each guest's /proc/PID/ksm_stat
 * (ksm-proc.c), runs the tuner it was made with (vmtide's, or a baseline)
 * and applies the decision with the driver (ksm-driver.c), which writes
 * only the knobs that differ, so a step that decides the same costs no
 * write. While automation is paused the tuner does not run: nothing is
 * written and its state does not advance on a decision nobody applies.
 * KSM is left as it is on exit: merged pages stay merged, and the next
 * vmtided adopts the pace it finds.
 */
#include "ksm/ksm-step.h"

#include <unistd.h>

#include "ksm/ksm-driver.h"
#include "ksm/ksm-proc.h"
#include "ksm/ksm-writer.h"

struct _VtKsmStep {
        VtKsmSysfs *sysfs;
        char *proc_root;
        VtKsmTunerFunc tuner;
        VtKsmTunerConfig config;
        VtKsmTunerState state;
        VtKsmKernel kernel;
        VtKsmSample previous;
        gboolean has_previous;
        VtKsmRates rates;
        gboolean has_rates;
        VtKsmDecision decision;
        gboolean has_decision;
        VtKsmWriter *writer; /* another writer of the knobs (ksm-writer.c) */
};

/**
 * vt_ksm_step_new:
 * @sysfs_root: (nullable): the KSM sysfs directory (%NULL: the kernel's)
 * @proc_root: (nullable): where /proc is (%NULL: /proc)
 * @tuner: the tuner (vt_ksm_tuner_decide(), or a baseline to compare)
 * @config: the tuner's configuration
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the KSM step, or %NULL when this kernel has
 *     no KSM (the error says why)
 */
VtKsmStep *
vt_ksm_step_new(const char *sysfs_root, const char *proc_root, VtKsmTunerFunc tuner,
                const VtKsmTunerConfig *config, GError **error)
{
        g_autoptr(VtKsmSysfs) sysfs = NULL;
        VtKsmStep *ksm;

        g_return_val_if_fail(tuner != NULL && config != NULL, NULL);

        sysfs = vt_ksm_sysfs_new(sysfs_root, error);
        if (sysfs == NULL)
                return NULL;
        if (proc_root != NULL)
                vt_ksm_sysfs_set_proc_root(sysfs, proc_root);

        ksm = g_new0(VtKsmStep, 1);
        ksm->sysfs = g_steal_pointer(&sysfs);
        ksm->proc_root = g_strdup(proc_root != NULL ? proc_root : "/proc");
        ksm->tuner = tuner;
        ksm->config = *config;
        ksm->writer = vt_ksm_writer_new(ksm->proc_root);
        ksm->kernel = (VtKsmKernel){
            .has_advisor = vt_ksm_sysfs_has(ksm->sysfs, "advisor_mode"),
            .has_pages_scanned = vt_ksm_sysfs_has(ksm->sysfs, "pages_scanned"),
            .page_size = (guint64)sysconf(_SC_PAGESIZE),
            /* The kernel refuses pages_to_scan above UINT_MAX only; the
             * tuner's own ceiling binds first. */
            .pages_to_scan_max = G_MAXUINT,
        };
        return ksm;
}

void
vt_ksm_step_free(VtKsmStep *ksm)
{
        if (ksm == NULL)
                return;
        vt_ksm_sysfs_free(ksm->sysfs);
        vt_ksm_writer_free(ksm->writer);
        g_free(ksm->proc_root);
        g_free(ksm);
}

static void
read_guest(VtKsmStep *ksm, VtKsmStepGuest *guest, VtKsmGuest *ret_input)
{
        VtKsmProcStat stat = {0};

        guest->ret_merging_pages = -1;
        guest->ret_profit = -1;
        if (guest->pid > 0 && vt_ksm_proc_read_stat(ksm->proc_root, guest->pid, &stat, NULL)) {
                if (stat.has_merging_pages)
                        guest->ret_merging_pages = (gint64)stat.merging_pages;
                if (stat.has_process_profit)
                        guest->ret_profit = stat.process_profit;
        }
        *ret_input = (VtKsmGuest){
            .mergeable_bytes = guest->mergeable_bytes,
            .merging_pages = guest->ret_merging_pages,
            .opt_out = guest->opt_out,
        };
}

/**
 * vt_ksm_step_run:
 * @ksm: the KSM step
 * @host: the host's memory now
 * @guests: (inout): the guests; their merged pages and profit are filled in
 * @n_guests: how many
 * @apply: write the decision (%FALSE while automation is paused)
 * @ret_changed: (out) (optional): whether a knob was written
 * @error: return location for a #GError
 *
 * Returns: %FALSE when the sysfs could not be read or a write was refused
 */
gboolean
vt_ksm_step_run(VtKsmStep *ksm, const VtKsmHost *host, VtKsmStepGuest *guests, guint n_guests,
                gboolean apply, gboolean *ret_changed, GError **error)
{
        g_autofree VtKsmGuest *inputs = g_new0(VtKsmGuest, MAX(n_guests, 1));
        VtKsmSample sample = {0};
        VtKsmTunerInput input;
        guint n_writes = 0;

        g_return_val_if_fail(ksm != NULL && host != NULL, FALSE);

        if (ret_changed != NULL)
                *ret_changed = FALSE;
        if (!vt_ksm_sysfs_read_sample(ksm->sysfs, &sample, error))
                return FALSE;
        ksm->has_rates =
            ksm->has_previous &&
            vt_ksm_rates_compute(&ksm->previous, &sample, ksm->kernel.page_size, &ksm->rates);
        ksm->previous = sample;
        ksm->has_previous = TRUE;

        for (guint i = 0; i < n_guests; i++)
                read_guest(ksm, &guests[i], &inputs[i]);

        input = (VtKsmTunerInput){
            .host = host,
            .guests = inputs,
            .n_guests = n_guests,
            .kernel = &ksm->kernel,
            .sample = &sample,
            .rates = ksm->has_rates ? &ksm->rates : NULL,
            .now_us = sample.time_us,
        };
        if (!apply) {
                /* Paused: no decision, and the tuner's state is not advanced
                 * on a decision nobody applies. */
                vt_ksm_writer_forget(ksm->writer);
                return TRUE;
        }
        /* Another writer has the knobs: KSM is left to it (ksm-writer.c). */
        if (!vt_ksm_writer_check(ksm->writer, &sample))
                return TRUE;
        ksm->tuner(&input, &ksm->config, &ksm->state, &ksm->decision);
        ksm->has_decision = TRUE;
        if (!vt_ksm_driver_apply(ksm->sysfs, &ksm->decision, &n_writes, error))
                return FALSE;
        vt_ksm_writer_wrote(ksm->writer, &ksm->decision);
        if (ret_changed != NULL)
                *ret_changed = n_writes > 0;
        return TRUE;
}

/* The last decision (%NULL before the first). The reason lives in it. */
const VtKsmDecision *
vt_ksm_step_get_decision(VtKsmStep *ksm)
{
        g_return_val_if_fail(ksm != NULL, NULL);
        return ksm->has_decision ? &ksm->decision : NULL;
}

/* The last sample (zeroed before the first). */
const VtKsmSample *
vt_ksm_step_get_sample(VtKsmStep *ksm)
{
        g_return_val_if_fail(ksm != NULL, NULL);
        return &ksm->previous;
}

/* ksmd's CPU share over the last interval, or -1 when unknown. */
double
vt_ksm_step_get_cpu_share(VtKsmStep *ksm)
{
        g_return_val_if_fail(ksm != NULL, -1);
        return ksm->has_rates ? ksm->rates.ksmd_cpu_share : -1;
}

guint64
vt_ksm_step_get_page_size(VtKsmStep *ksm)
{
        g_return_val_if_fail(ksm != NULL, 4096);
        return ksm->kernel.page_size;
}

/**
 * vt_ksm_step_set_config:
 * @ksm: the step
 * @config: the tuner's new configuration (copied)
 *
 * A configuration reload: the next step tunes with @config; the tuner's
 * state carries on.
 */
void
vt_ksm_step_set_config(VtKsmStep *ksm, const VtKsmTunerConfig *config)
{
        g_return_if_fail(ksm != NULL && config != NULL);
        ksm->config = *config;
}

/**
 * vt_ksm_step_get_other_writer:
 * @ksm: the step
 *
 * Returns: (nullable): what else writes the KSM knobs (the knobs it
 *     changed, its process), while vmtided leaves KSM to it; %NULL when
 *     vmtided writes them
 */
const char *
vt_ksm_step_get_other_writer(VtKsmStep *ksm)
{
        g_return_val_if_fail(ksm != NULL, NULL);
        return vt_ksm_writer_get_other(ksm->writer);
}
