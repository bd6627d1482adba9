/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zram devices and swap devices, as the host kernel shows them (parsers pure, readers thin). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bounds on what one sample holds; more devices are counted, not kept. */
#define VT_HOST_ZRAM_MAX 8
#define VT_HOST_SWAP_MAX 16

/**
 * VtHostZram:
 * @name: the block device, e.g. "zram0"
 * @disksize: `disksize`, bytes; 0: not set up
 * @algorithm: the selected `comp_algorithm` (the bracketed one), "" if
 *     unknown
 * @has_mm_stat: `mm_stat` was read (fields it lacks on older kernels are 0)
 * @orig_data_size: bytes stored, uncompressed
 * @compr_data_size: the same, compressed
 * @mem_used_total: memory the device uses, allocator overhead included
 * @mem_limit: its limit (`mem_limit`), bytes; 0: none
 * @mem_used_max: the most it ever used, bytes
 * @same_pages: pages filled with one value (they cost no memory)
 * @pages_compacted: pages freed by compaction
 * @huge_pages: incompressible pages stored whole (kernel 4.19+)
 * @huge_pages_since: incompressible pages since set up (kernel 5.15+)
 * @n_mm_fields: how many fields `mm_stat` had (7 to 9)
 * @has_bd_stat: `bd_stat` was read (CONFIG_ZRAM_WRITEBACK)
 * @bd_count_pages: 4 KiB blocks held on the backing device
 * @bd_reads_pages: 4 KiB blocks read back from it
 * @bd_writes_pages: 4 KiB blocks written back to it
 * @is_swap: /proc/swaps lists the device
 * @swap_used: its swap use, bytes (0 when not swap)
 * @swap_priority: its swap priority
 *
 * One zram device. Plain data.
 */
typedef struct {
        char name[32];
        guint64 disksize;
        char algorithm[32];
        gboolean has_mm_stat;
        guint64 orig_data_size;
        guint64 compr_data_size;
        guint64 mem_used_total;
        guint64 mem_limit;
        guint64 mem_used_max;
        guint64 same_pages;
        guint64 pages_compacted;
        guint64 huge_pages;
        guint64 huge_pages_since;
        guint n_mm_fields;
        gboolean has_bd_stat;
        guint64 bd_count_pages;
        guint64 bd_reads_pages;
        guint64 bd_writes_pages;
        gboolean is_swap;
        guint64 swap_used;
        gint swap_priority;
} VtHostZram;

/**
 * VtHostSwap:
 * @path: the device or file, as /proc/swaps prints it (spaces as `\040`)
 * @type: "partition" or "file"
 * @size: bytes
 * @used: bytes
 * @priority: its priority (higher is used first)
 *
 * One line of /proc/swaps. Plain data.
 */
typedef struct {
        char path[128];
        char type[16];
        guint64 size;
        guint64 used;
        gint priority;
} VtHostSwap;

gboolean vt_host_zram_mm_stat_parse(const char *text, VtHostZram *zram);
gboolean vt_host_zram_bd_stat_parse(const char *text, VtHostZram *zram);
guint vt_host_swaps_parse(const char *text, VtHostSwap *ret_swaps, guint max, guint *ret_total);
void vt_host_zram_match_swaps(VtHostZram *zram, const VtHostSwap *swaps, guint n_swaps);

guint vt_host_zram_read(const char *root, VtHostZram *ret_devices, guint max, guint *ret_total);

G_END_DECLS
