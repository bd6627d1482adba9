/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A sample of KSM's state, and the rates derived from two samples (pure). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtKsmSample:
 * @time_us: monotonic time the sample was read
 * @run: the `run` knob: 0 stopped, 1 running, 2 unmerging
 * @pages_to_scan: the `pages_to_scan` knob
 * @sleep_millisecs: the `sleep_millisecs` knob
 * @pages_shared: KSM pages in use (one per distinct merged content)
 * @pages_sharing: guest pages mapped to them: the pages saved
 * @pages_unshared: pages scanned but unique so far
 * @pages_volatile: pages changing too fast to merge
 * @full_scans: full passes over mergeable memory so far
 * @pages_scanned: pages scanned so far (kernel 6.8+; 0 if absent)
 * @has_pages_scanned: the kernel has `pages_scanned`
 * @general_profit: bytes saved net of KSM's own metadata (kernel 6.1+)
 * @has_general_profit: the kernel has `general_profit`
 * @ksm_zero_pages: zero pages merged with use_zero_pages (kernel 6.10+)
 * @ksmd_cpu_us: ksmd's CPU time (user + system) so far, from
 *     /proc/PID/stat; -1 if unknown
 *
 * Global KSM counters at one instant. Plain data, filled by the driver
 * (ksm-sysfs.c); the fields a kernel lacks are 0 with their has_ flag unset.
 */
typedef struct {
        gint64 time_us;
        guint run;
        guint64 pages_to_scan;
        guint64 sleep_millisecs;
        guint64 pages_shared;
        guint64 pages_sharing;
        guint64 pages_unshared;
        guint64 pages_volatile;
        guint64 full_scans;
        guint64 pages_scanned;
        gboolean has_pages_scanned;
        gint64 general_profit;
        gboolean has_general_profit;
        guint64 ksm_zero_pages;
        gint64 ksmd_cpu_us;
} VtKsmSample;

/**
 * VtKsmRates:
 * @interval_us: time between the two samples
 * @saved_bytes: memory saved now: pages_sharing × page size
 * @saved_per_s: change of @saved_bytes per second (negative when
 *     merged pages are broken)
 * @scanned_per_s: pages scanned per second (from pages_scanned, or
 *     estimated from the knobs when the kernel lacks it)
 * @ksmd_cpu_share: ksmd's CPU seconds per second (0.1 = 10 % of one CPU);
 *     -1 if unknown
 * @yield_bytes_per_cpu_s: bytes newly saved per ksmd CPU-second; 0 when
 *     ksmd used no CPU
 *
 * What happened between two samples. Computed by vt_ksm_rates_compute(),
 * which is pure.
 */
typedef struct {
        gint64 interval_us;
        guint64 saved_bytes;
        double saved_per_s;
        double scanned_per_s;
        double ksmd_cpu_share;
        double yield_bytes_per_cpu_s;
} VtKsmRates;

gboolean vt_ksm_rates_compute(const VtKsmSample *before, const VtKsmSample *after,
                              guint64 page_size, VtKsmRates *ret_rates);

G_END_DECLS
