/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zswap, the compressed cache in front of swap: parameters and counters (parsers pure). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtHostZswap:
 * @present: the kernel has zswap (/sys/module/zswap/parameters)
 * @enabled: the `enabled` parameter is Y
 * @compressor: the `compressor` parameter ("" if unknown)
 * @zpool: the `zpool` parameter (gone in 6.15+: "")
 * @max_pool_percent: the pool's limit, percent of RAM; -1 if unknown
 * @accept_threshold_percent: where a full pool accepts again, percent of
 *     its limit (6.4+); -1 if unknown
 * @shrinker_enabled: the `shrinker_enabled` parameter is Y (6.8+)
 * @has_meminfo: /proc/meminfo has Zswap and Zswapped (5.19+)
 * @pool_bytes: `Zswap`: memory the pool uses
 * @stored_bytes: `Zswapped`: what it holds, uncompressed
 * @has_vmstat: /proc/vmstat has zswpin and zswpout (6.1+)
 * @zswpin: pages loaded back from zswap
 * @zswpout: pages stored into zswap
 * @has_zswpwb: /proc/vmstat has zswpwb (6.8+)
 * @zswpwb: pages written back from the pool to the swap device
 * @has_debugfs: /sys/kernel/debug/zswap was readable (root, debugfs
 *     mounted); the counters below are 0 otherwise
 * @pool_limit_hit: stores refused because the pool was at its limit
 * @reject_compress_poor: stores refused: the page compressed too poorly
 * @reject_compress_fail: stores refused: the compressor failed
 * @reject_alloc_fail: stores refused: the pool could not allocate
 * @reject_reclaim_fail: stores refused: writeback to make room failed
 * @written_back_pages: pages written back to the swap device
 *
 * zswap's state at one instant. Plain data.
 */
typedef struct {
        gboolean present;
        gboolean enabled;
        char compressor[32];
        char zpool[32];
        gint max_pool_percent;
        gint accept_threshold_percent;
        gboolean shrinker_enabled;
        gboolean has_meminfo;
        guint64 pool_bytes;
        guint64 stored_bytes;
        gboolean has_vmstat;
        guint64 zswpin;
        guint64 zswpout;
        gboolean has_zswpwb;
        guint64 zswpwb;
        gboolean has_debugfs;
        guint64 pool_limit_hit;
        guint64 reject_compress_poor;
        guint64 reject_compress_fail;
        guint64 reject_alloc_fail;
        guint64 reject_reclaim_fail;
        guint64 written_back_pages;
} VtHostZswap;

void vt_host_zswap_parse_counters(const char *meminfo, const char *vmstat, VtHostZswap *zswap);
void vt_host_zswap_read(const char *root, const char *meminfo, const char *vmstat,
                        VtHostZswap *ret);

G_END_DECLS
