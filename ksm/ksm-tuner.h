/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* KSM tuners: vmtide's, and baselines with the same inputs and outputs (pure). */
#pragma once

#include <glib.h>

#include "ksm/ksm-sample.h"

G_BEGIN_DECLS

/**
 * VtKsmHost:
 * @mem_total: host MemTotal, bytes
 * @mem_available: host MemAvailable, bytes (or what a budget leaves)
 * @mem_free: host MemFree + Buffers + Cached, bytes: what ksmtuned's
 *     free_memory() sums (only the ksmtuned baseline uses it)
 * @psi_some_avg10: host memory PSI some avg10, percent
 * @psi_full_avg10: host memory PSI full avg10, percent
 * @n_cpus: online CPUs
 */
typedef struct {
        guint64 mem_total;
        guint64 mem_available;
        guint64 mem_free;
        double psi_some_avg10;
        double psi_full_avg10;
        guint n_cpus;
} VtKsmHost;

/**
 * VtKsmGuest:
 * @mergeable_bytes: guest memory marked mergeable (its RAM size, or
 *     the process's mergeable VMAs), bytes
 * @merging_pages: its pages currently merged (ksm_merging_pages), or -1
 *     when the kernel does not say per process
 * @rss_bytes: the QEMU process's RSS (the ksmtuned baseline sums these)
 * @opt_out: the guest's policy opts it out of KSM
 */
typedef struct {
        guint64 mergeable_bytes;
        gint64 merging_pages;
        guint64 rss_bytes;
        gboolean opt_out;
} VtKsmGuest;

/**
 * VtKsmKernel:
 * @has_advisor: the kernel has `advisor_mode` (6.8+)
 * @has_pages_scanned: the kernel has `pages_scanned`
 * @page_size: bytes per page
 * @pages_to_scan_max: the largest `pages_to_scan` to ever ask for
 */
typedef struct {
        gboolean has_advisor;
        gboolean has_pages_scanned;
        guint64 page_size;
        guint64 pages_to_scan_max;
} VtKsmKernel;

/**
 * VtKsmTunerConfig:
 * @cpu_cap: most ksmd CPU share allowed, e.g. 0.10 for 10 % of one CPU
 * @start_available: start merging when host MemAvailable falls below this
 *     fraction of MemTotal (e.g. 0.30) ...
 * @stop_available: ... and stop above this one (e.g. 0.40): the
 *     hysteresis keeps KSM from flapping
 * @start_psi_some: start at once above this PSI some avg10 (percent)
 * @min_yield_bytes_per_cpu_s: below this yield merging no longer pays:
 *     back off
 * @pages_to_scan_min: the slowest scan rate used while running
 * @pages_to_scan_max: the fastest
 * @sleep_millisecs: ksmd's sleep between batches
 * @allow_unmerge: the operator asked for `run=2` when stopping
 * @advisor_target_scan_time_s: the target for the advisor baseline
 *     (`advisor_target_scan_time`; 0: the kernel's default, 200 s)
 */
typedef struct {
        double cpu_cap;
        double start_available;
        double stop_available;
        double start_psi_some;
        double min_yield_bytes_per_cpu_s;
        guint64 pages_to_scan_min;
        guint64 pages_to_scan_max;
        guint64 sleep_millisecs;
        gboolean allow_unmerge;
        guint64 advisor_target_scan_time_s;
} VtKsmTunerConfig;

/**
 * VtKsmTunerState:
 * @running: the tuner has KSM running
 * @pages_to_scan: what it last asked for
 * @backoff_until_us: no ramp-up before this time (yield was gone)
 * @scratch: private to each tuner (the ksmtuned baseline keeps the time
 *     of its next adjustment here, vmtide's the `full_scans` count from
 *     which it trusts a yield)
 * @backoff_critical: the back-off began while memory was already
 *     critical, so only its end (not critical memory) lifts it
 * @merging_seen: since the start, an interval has yielded enough
 * @low_yield_intervals: intervals in a row that yielded too little
 * @remeasure: after a back-off the yield alone decides whether to merge again
 *
 * What a tuner carries from one decision to the next. Start zeroed.
 */
typedef struct {
        gboolean running;
        guint64 pages_to_scan;
        gint64 backoff_until_us;
        gint64 scratch;
        gboolean backoff_critical;
        gboolean merging_seen;
        guint low_yield_intervals;
        gboolean remeasure;
} VtKsmTunerState;

/**
 * VtKsmDecision:
 * @run: the `run` knob to set: 0, 1, or 2 (only with allow_unmerge)
 * @pages_to_scan: the `pages_to_scan` knob (when not using the advisor;
 *     with it the kernel refuses writes, and this is 0)
 * @sleep_millisecs: the `sleep_millisecs` knob
 * @use_advisor: set `advisor_mode=scan-time` with @advisor_target_scan_time_s
 *     instead of @pages_to_scan. When %FALSE on a kernel with the advisor,
 *     the driver sets `advisor_mode=none` first: that resets
 *     `pages_to_scan` to 100, so it writes @pages_to_scan after it
 * @advisor_target_scan_time_s: the advisor's target
 * @reason: why, for the log: a static string or one built into
 *     @reason_buf
 * @reason_buf: storage for a formatted @reason
 */
typedef struct {
        guint run;
        guint64 pages_to_scan;
        guint64 sleep_millisecs;
        gboolean use_advisor;
        guint64 advisor_target_scan_time_s;
        const char *reason;
        char reason_buf[160];
} VtKsmDecision;

/**
 * VtKsmTunerInput:
 * @host: the host's memory
 * @guests: (array length=n_guests): the guests
 * @n_guests: how many
 * @kernel: what the kernel offers
 * @sample: the latest KSM sample
 * @rates: (nullable): rates between the previous sample and @sample;
 *     %NULL on the first decision
 * @now_us: monotonic time of the decision
 */
typedef struct {
        const VtKsmHost *host;
        const VtKsmGuest *guests;
        guint n_guests;
        const VtKsmKernel *kernel;
        const VtKsmSample *sample;
        const VtKsmRates *rates;
        gint64 now_us;
} VtKsmTunerInput;

typedef void (*VtKsmTunerFunc)(const VtKsmTunerInput *input, const VtKsmTunerConfig *config,
                               VtKsmTunerState *state, VtKsmDecision *ret_decision);

void vt_ksm_tuner_config_init(VtKsmTunerConfig *config);

/* vmtide's tuner: merges only when memory is needed and it pays. */
void vt_ksm_tuner_decide(const VtKsmTunerInput *input, const VtKsmTunerConfig *config,
                         VtKsmTunerState *state, VtKsmDecision *ret_decision);

/* ksmtuned's published algorithm (boost 300, decay -50, 64..1250, ...). */
void vt_ksm_tuner_ksmtuned_decide(const VtKsmTunerInput *input, const VtKsmTunerConfig *config,
                                  VtKsmTunerState *state, VtKsmDecision *ret_decision);

/* The kernel's scan-time advisor alone, always running. */
void vt_ksm_tuner_advisor_decide(const VtKsmTunerInput *input, const VtKsmTunerConfig *config,
                                 VtKsmTunerState *state, VtKsmDecision *ret_decision);

G_END_DECLS
