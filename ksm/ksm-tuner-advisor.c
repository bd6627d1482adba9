/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The advisor baseline: KSM always on, paced by the kernel's scan-time advisor alone. */

/*
 * Theory of operation
 *
 * Since Linux 6.8, `advisor_mode=scan-time` makes ksmd set its own
 * pages_to_scan at the end of each full scan so that a scan takes
 * `advisor_target_scan_time` seconds (200 by default), within
 * advisor_min/max_pages_to_scan and advisor_max_cpu. This baseline is what an
 * operator gets by turning that on and walking away: run=1 always, whatever
 * the memory, the CPU or the yield; the target is config's (0: the kernel's
 * 200 s). On an older kernel it falls back to run=1 at the kernel's default
 * pace, 100 pages every 20 ms, and says so. It never unmerges.
 *
 * Pure: no I/O, no clock.
 */
#include "ksm/ksm-tuner.h"

#define ADVISOR_DEFAULT_TARGET_S     200
#define KERNEL_DEFAULT_PAGES_TO_SCAN 100
#define KERNEL_DEFAULT_SLEEP_MS      20

/**
 * vt_ksm_tuner_advisor_decide:
 * @input: the kernel's features (nothing else is looked at)
 * @config: (nullable): its advisor_target_scan_time_s, if set
 * @state: carried between calls; start zeroed
 * @ret_decision: (out): the knobs to set and why
 *
 * The "kernel advisor alone" baseline (theory of operation above).
 */
void
vt_ksm_tuner_advisor_decide(const VtKsmTunerInput *input, const VtKsmTunerConfig *config,
                            VtKsmTunerState *state, VtKsmDecision *ret_decision)
{
        VtKsmDecision *d = ret_decision;
        guint64 target = ADVISOR_DEFAULT_TARGET_S;

        g_return_if_fail(input != NULL && input->kernel != NULL);
        g_return_if_fail(state != NULL && ret_decision != NULL);

        if (config != NULL && config->advisor_target_scan_time_s > 0)
                target = config->advisor_target_scan_time_s;

        *d = (VtKsmDecision){0};
        d->run = 1;
        d->sleep_millisecs = KERNEL_DEFAULT_SLEEP_MS;
        if (input->kernel->has_advisor) {
                d->use_advisor = TRUE;
                d->advisor_target_scan_time_s = target;
                g_snprintf(d->reason_buf, sizeof(d->reason_buf),
                           "advisor: run=1, advisor_mode=scan-time, target %" G_GUINT64_FORMAT
                           " s per full scan",
                           target);
        } else {
                d->pages_to_scan = KERNEL_DEFAULT_PAGES_TO_SCAN;
                g_snprintf(d->reason_buf, sizeof(d->reason_buf),
                           "advisor: kernel has no advisor_mode: run=1 at its defaults, "
                           "pages_to_scan %d every %d ms",
                           KERNEL_DEFAULT_PAGES_TO_SCAN, KERNEL_DEFAULT_SLEEP_MS);
        }
        d->reason = d->reason_buf;
        state->running = TRUE;
        state->pages_to_scan = d->pages_to_scan;
}
