/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rates between two KSM samples (pure: no I/O, no clock).
 *
 * Counters that only go up (full_scans, pages_scanned, ksmd's CPU time)
 * going down, or time not moving forward, mean the two samples do not
 * belong together (swapped, or from different boots): no rates then.
 * pages_sharing does go down legitimately, when merged pages are written
 * to and broken, so @saved_per_s and the yield may be negative.
 */
#include "ksm/ksm-sample.h"

/*
 * Pages per second ksmd scans at most with these knobs: a batch of
 * @pages_to_scan every @sleep_millisecs (a sleep of 0 counted as 1 ms).
 * An upper bound: it ignores the time the batch itself takes.
 */
static double
ksm_scan_rate_estimate(const VtKsmSample *sample)
{
        guint64 sleep_ms = MAX(sample->sleep_millisecs, 1);

        if (sample->run != 1)
                return 0.0;
        return (double)sample->pages_to_scan * 1000.0 / (double)sleep_ms;
}

/**
 * vt_ksm_rates_compute:
 * @before: the earlier sample
 * @after: the later sample
 * @page_size: bytes per page
 * @ret_rates: (out caller-allocates): the rates, written only on success
 *
 * @scanned_per_s comes from pages_scanned when both samples have it, else
 * from @after's knobs (what ksmd ran with since the tuner last wrote
 * them). @ksmd_cpu_share is -1 unless both samples know ksmd's CPU time;
 * @yield_bytes_per_cpu_s is the change of @saved_bytes (negative when
 * pages were broken) per ksmd CPU-second, and 0 when ksmd used no CPU or
 * its CPU time is unknown.
 *
 * Returns: %FALSE if @after is not later than @before, or a counter that
 *     only grows went down (the samples are swapped or unrelated)
 */
gboolean
vt_ksm_rates_compute(const VtKsmSample *before, const VtKsmSample *after, guint64 page_size,
                     VtKsmRates *ret_rates)
{
        VtKsmRates rates = {0};
        gint64 interval_us;
        double interval_s;
        double saved_delta;

        g_return_val_if_fail(before != NULL, FALSE);
        g_return_val_if_fail(after != NULL, FALSE);
        g_return_val_if_fail(page_size > 0, FALSE);
        g_return_val_if_fail(ret_rates != NULL, FALSE);

        if (after->time_us <= before->time_us)
                return FALSE;
        if (after->full_scans < before->full_scans)
                return FALSE;
        if (before->has_pages_scanned && after->has_pages_scanned &&
            after->pages_scanned < before->pages_scanned)
                return FALSE;
        if (before->ksmd_cpu_us >= 0 && after->ksmd_cpu_us >= 0 &&
            after->ksmd_cpu_us < before->ksmd_cpu_us)
                return FALSE;

        interval_us = after->time_us - before->time_us;
        interval_s = (double)interval_us / G_USEC_PER_SEC;
        rates.interval_us = interval_us;
        rates.saved_bytes = after->pages_sharing * page_size;
        saved_delta =
            ((double)after->pages_sharing - (double)before->pages_sharing) * (double)page_size;
        rates.saved_per_s = saved_delta / interval_s;

        if (before->has_pages_scanned && after->has_pages_scanned)
                rates.scanned_per_s =
                    (double)(after->pages_scanned - before->pages_scanned) / interval_s;
        else
                rates.scanned_per_s = ksm_scan_rate_estimate(after);

        if (before->ksmd_cpu_us >= 0 && after->ksmd_cpu_us >= 0) {
                gint64 cpu_us = after->ksmd_cpu_us - before->ksmd_cpu_us;

                rates.ksmd_cpu_share = (double)cpu_us / (double)interval_us;
                if (cpu_us > 0)
                        rates.yield_bytes_per_cpu_s =
                            saved_delta / ((double)cpu_us / G_USEC_PER_SEC);
        } else {
                rates.ksmd_cpu_share = -1.0;
        }
        *ret_rates = rates;
        return TRUE;
}
