/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's memory, as vmtided samples it each tick: /proc and the guests' cgroup. */
#pragma once

#include <glib.h>

#include "balloon/balloon-policy.h"
#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

/**
 * VtHostSample:
 * @mem_total: MemTotal, bytes
 * @mem_available: MemAvailable, bytes; on kernels before 3.14, which lack
 *     it, MemFree + Buffers + Cached (what MemAvailable approximates)
 * @mem_free: MemFree, bytes
 * @mem_cache: Buffers + Cached, bytes (ksmtuned's "free" is @mem_free +
 *     @mem_cache)
 * @swap_total: SwapTotal, bytes
 * @swap_free: SwapFree, bytes
 * @pswpin: pages swapped in since boot (/proc/vmstat)
 * @pswpout: pages swapped out since boot
 * @has_vmstat: @pswpin and @pswpout were read
 * @psi_some_avg10: memory PSI "some" avg10, percent; -1 without PSI
 * @psi_full_avg10: memory PSI "full" avg10, percent; -1 without PSI
 * @psi_some_total_us: total "some" stall time since boot, µs
 * @has_psi: the PSI fields were read (kernel 4.20+ with PSI enabled)
 * @cgroup_limit: the guests' cgroup memory limit, bytes; 0: no cgroup
 *     configured, or no limit ("max")
 * @cgroup_current: the cgroup's current usage, bytes (0 without a cgroup)
 * @sampled_us: monotonic time of the sample, as given by the caller
 *
 * One reading of the host. Plain data.
 */
typedef struct {
        guint64 mem_total;
        guint64 mem_available;
        guint64 mem_free;
        guint64 mem_cache;
        guint64 swap_total;
        guint64 swap_free;
        guint64 pswpin;
        guint64 pswpout;
        gboolean has_vmstat;
        double psi_some_avg10;
        double psi_full_avg10;
        guint64 psi_some_total_us;
        gboolean has_psi;
        guint64 cgroup_limit;
        guint64 cgroup_current;
        gint64 sampled_us;
} VtHostSample;

gboolean vt_host_sample_read(const char *proc_root, const char *cgroup_dir, gint64 now_us,
                             VtHostSample *ret, GError **error);
gboolean vt_host_read_cgroup(const char *cgroup_dir, guint64 *ret_limit, guint64 *ret_current,
                             GError **error);
gboolean vt_host_read_process_rss(const char *proc_root, GPid pid, guint64 *ret_bytes,
                                  GError **error);

void vt_host_sample_to_balloon_host(const VtHostSample *cur, const VtHostSample *prev,
                                    guint64 budget_total, VtBalloonHost *ret);
void vt_host_sample_to_ksm_host(const VtHostSample *sample, guint n_cpus, VtKsmHost *ret);

G_END_DECLS
