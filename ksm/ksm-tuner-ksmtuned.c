/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ksmtuned baseline: the algorithm of Fedora/RHEL's /usr/sbin/ksmtuned, step for step. */

/*
 * Theory of operation
 *
 * ksmtuned (Dan Kenigsberg, Red Hat 2009; shipped with qemu-kvm in Fedora
 * and RHEL as /usr/sbin/ksmtuned, tuned by /etc/ksmtuned.conf) is a shell
 * loop. With its defaults:
 *
 *   KSM_MONITOR_INTERVAL=60  KSM_NPAGES_BOOST=300  KSM_NPAGES_DECAY=-50
 *   KSM_NPAGES_MIN=64  KSM_NPAGES_MAX=1250  KSM_SLEEP_MSEC=10
 *   KSM_THRES_COEF=20  KSM_THRES_CONST=2048
 *
 *   total=MemTotal (kB);  npages=0
 *   sleep=$[KSM_SLEEP_MSEC * 16 * 1024 * 1024 / total]; [ $sleep -le 10 ] && sleep=10
 *   thres=$[total * KSM_THRES_COEF / 100]; [ KSM_THRES_CONST -gt thres ] && thres=KSM_THRES_CONST
 *   committed_memory: sum of `ps -o rsz=` (kB) of the QEMU processes
 *   free_memory: MemFree + Buffers + Cached (kB)
 *   adjust():
 *     if [ $[committed + thres] -lt $total -a $free -gt $thres ]; then
 *         echo 0 > run; return                               # stop
 *     if [ $free -lt $thres ]; then npages += KSM_NPAGES_BOOST
 *     else npages += KSM_NPAGES_DECAY; clamp npages to [MIN, MAX]
 *     echo $npages > pages_to_scan; echo $sleep > sleep_millisecs; echo 1 > run
 *   loop: sleep $KSM_MONITOR_INTERVAL; adjust; repeat
 *
 * Reproduced here in integer kB arithmetic like bash's $[ ], with the same
 * strict comparisons. The differences are only where the script reads the
 * system: `total`, `free` and `committed` come from the input (host->mem_free
 * must be MemFree + Buffers + Cached; committed sums every guest's RSS,
 * opted out or not, since ksmtuned knows of no opt-out; the script's pgrep
 * pattern varies across versions and may miss QEMU processes, this sums them
 * all). The cadence: the script sleeps 60 s before its first adjust() and 60 s
 * after each one; state->scratch holds the time of the next adjust(). Between
 * adjustments ksmtuned writes nothing, so the decision repeats the knobs the
 * kernel has (the sample). `npages` survives a stop, as in the script:
 * state->pages_to_scan. It ignores the CPU, PSI, yield, config, the advisor,
 * and never unmerges (run=2).
 *
 * Pure: no I/O, no clock.
 */
#include "ksm/ksm-tuner.h"

#define KSM_MONITOR_INTERVAL_US (60 * G_USEC_PER_SEC)
#define KSM_NPAGES_BOOST        300
#define KSM_NPAGES_DECAY        (-50)
#define KSM_NPAGES_MIN          64
#define KSM_NPAGES_MAX          1250
#define KSM_SLEEP_MSEC          10
#define KSM_THRES_COEF          20
#define KSM_THRES_CONST         2048

/* ksmtuned's increase_npages(). */
static gint64
increase_npages(gint64 npages, gint64 delta)
{
        npages += delta;
        if (npages < KSM_NPAGES_MIN)
                npages = KSM_NPAGES_MIN;
        else if (npages > KSM_NPAGES_MAX)
                npages = KSM_NPAGES_MAX;
        return npages;
}

/**
 * vt_ksm_tuner_ksmtuned_decide:
 * @input: the host, guests and latest sample, and `now`
 * @config: unused (ksmtuned has its own constants)
 * @state: carried between calls; start zeroed
 * @ret_decision: (out): the knobs to set and why
 *
 * ksmtuned's adjust(), once every 60 s (theory of operation above).
 */
void
vt_ksm_tuner_ksmtuned_decide(const VtKsmTunerInput *input, const VtKsmTunerConfig *config,
                             VtKsmTunerState *state, VtKsmDecision *ret_decision)
{
        const VtKsmSample *sample;
        VtKsmDecision *d = ret_decision;
        gint64 total, free_kb, committed = 0, thres, sleep_ms, npages;

        g_return_if_fail(input != NULL && input->host != NULL && input->sample != NULL);
        g_return_if_fail(input->guests != NULL || input->n_guests == 0);
        g_return_if_fail(state != NULL && ret_decision != NULL);

        sample = input->sample;
        *d = (VtKsmDecision){0};

        if (state->scratch == 0 || input->now_us < state->scratch) {
                /* Asleep: ksmtuned writes nothing, the knobs stay. */
                if (state->scratch == 0)
                        state->scratch = input->now_us + KSM_MONITOR_INTERVAL_US;
                d->run = sample->run == 1 ? 1 : 0;
                d->pages_to_scan = sample->pages_to_scan;
                d->sleep_millisecs = sample->sleep_millisecs;
                g_snprintf(d->reason_buf, sizeof(d->reason_buf),
                           "ksmtuned: next adjustment in %" G_GINT64_FORMAT " s",
                           (state->scratch - input->now_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
                d->reason = d->reason_buf;
                return;
        }
        state->scratch = input->now_us + KSM_MONITOR_INTERVAL_US;

        total = (gint64)(input->host->mem_total / 1024);
        free_kb = (gint64)(input->host->mem_free / 1024);
        for (guint i = 0; i < input->n_guests; i++)
                committed += (gint64)(input->guests[i].rss_bytes / 1024);

        if (total <= 0) {
                d->run = sample->run == 1 ? 1 : 0;
                d->pages_to_scan = sample->pages_to_scan;
                d->sleep_millisecs = sample->sleep_millisecs;
                d->reason = "ksmtuned: MemTotal unknown, no change";
                return;
        }
        sleep_ms = (gint64)KSM_SLEEP_MSEC * 16 * 1024 * 1024 / total;
        if (sleep_ms <= 10)
                sleep_ms = 10;
        thres = total * KSM_THRES_COEF / 100;
        if (KSM_THRES_CONST > thres)
                thres = KSM_THRES_CONST;

        if (committed + thres < total && free_kb > thres) {
                /* KSMCTL stop: only run is written. */
                d->run = 0;
                d->pages_to_scan = sample->pages_to_scan;
                d->sleep_millisecs = sample->sleep_millisecs;
                state->running = FALSE;
                g_snprintf(d->reason_buf, sizeof(d->reason_buf),
                           "ksmtuned: committed %" G_GINT64_FORMAT " + thres %" G_GINT64_FORMAT
                           " < total %" G_GINT64_FORMAT " kB and free %" G_GINT64_FORMAT
                           " > thres: stop",
                           committed, thres, total, free_kb);
                d->reason = d->reason_buf;
                return;
        }

        npages = (gint64)MIN(state->pages_to_scan, (guint64)KSM_NPAGES_MAX);
        if (free_kb < thres)
                npages = increase_npages(npages, KSM_NPAGES_BOOST);
        else
                npages = increase_npages(npages, KSM_NPAGES_DECAY);

        d->run = 1;
        d->pages_to_scan = (guint64)npages;
        d->sleep_millisecs = (guint64)sleep_ms;
        state->running = TRUE;
        state->pages_to_scan = (guint64)npages;
        g_snprintf(d->reason_buf, sizeof(d->reason_buf),
                   "ksmtuned: free %" G_GINT64_FORMAT " %s thres %" G_GINT64_FORMAT
                   " kB: %s, pages_to_scan %" G_GINT64_FORMAT ", sleep %" G_GINT64_FORMAT " ms",
                   free_kb, free_kb < thres ? "<" : ">=", thres,
                   free_kb < thres ? "boost" : "decay", npages, sleep_ms);
        d->reason = d->reason_buf;
}
