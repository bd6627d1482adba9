/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fragmentation and huge pages: buddyinfo, extfrag_index, compaction and THP (parsers pure). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Orders a zone line may have (MAX_PAGE_ORDER is 10 on x86-64, more on some arches). */
#define VT_HOST_ORDERS_MAX 16
/* Zones kept (nodes × DMA, DMA32, Normal, Movable). */
#define VT_HOST_ZONES_MAX 32
/* The order of a 2 MiB huge page with 4 KiB pages (x86-64's PMD). */
#define VT_HOST_THP_ORDER 9

/**
 * VtHostZone:
 * @node: the NUMA node
 * @name: the zone, e.g. "Normal"
 * @n_orders: how many orders the line had
 * @free_blocks: free blocks of each order (`/proc/buddyinfo`)
 * @has_extfrag: @extfrag_index was read for this zone
 * @extfrag_index: per order, the extfrag index × 1000 (0..1000: a
 *     failure would be for lack of memory near 0, fragmentation near
 *     1000; -1000: an allocation of that order would succeed now)
 *
 * One zone. Plain data.
 */
typedef struct {
        gint node;
        char name[16];
        guint n_orders;
        guint64 free_blocks[VT_HOST_ORDERS_MAX];
        gboolean has_extfrag;
        gint extfrag_index[VT_HOST_ORDERS_MAX];
} VtHostZone;

/**
 * VtHostFrag:
 * @n_zones: zones in @zones (from /proc/buddyinfo)
 * @zones: the zones
 * @has_extfrag: /sys/kernel/debug/extfrag/extfrag_index was readable
 * @extfrag_threshold: /proc/sys/vm/extfrag_threshold (the kernel
 *     compacts rather than reclaims above it; default 500); -1 if unknown
 * @has_compact: /proc/vmstat has compact_stall and compact_fail
 * @compact_stall: direct compactions (a task waited for one)
 * @compact_fail: direct compactions that did not free a block
 * @compact_success: direct compactions that did
 * @has_thp_vmstat: /proc/vmstat has thp_fault_alloc and thp_fault_fallback
 * @thp_fault_alloc: huge pages allocated at fault
 * @thp_fault_fallback: faults that wanted a huge page and got small ones
 * @thp_enabled: the THP mode (`enabled`'s bracketed word: always,
 *     madvise, never), "" without THP
 * @thp_defrag: THP's `defrag` mode ("" without THP)
 *
 * Fragmentation at one instant. Plain data.
 */
typedef struct {
        guint n_zones;
        VtHostZone zones[VT_HOST_ZONES_MAX];
        gboolean has_extfrag;
        gint extfrag_threshold;
        gboolean has_compact;
        guint64 compact_stall;
        guint64 compact_fail;
        guint64 compact_success;
        gboolean has_thp_vmstat;
        guint64 thp_fault_alloc;
        guint64 thp_fault_fallback;
        char thp_enabled[16];
        char thp_defrag[24];
} VtHostFrag;

guint vt_host_buddyinfo_parse(const char *text, VtHostZone *ret_zones, guint max);
guint vt_host_extfrag_parse(const char *text, VtHostZone *zones, guint n_zones);
void vt_host_frag_parse_vmstat(const char *vmstat, VtHostFrag *frag);

void vt_host_frag_read(const char *root, const char *vmstat, VtHostFrag *ret);

/**
 * vt_host_zone_unusable:
 * @zone: a zone
 * @order: an allocation order
 *
 * The unusable free space index of Mel Gorman's fragmentation tools:
 * the share of the zone's free memory held in blocks smaller than
 * @order, which an allocation of @order cannot use. Inline and pure, so
 * that the doctor's pure rules use it without linking the sensors.
 *
 * Returns: 0 (all usable) to 1 (none usable); 0 when the zone has no
 *     free memory
 */
static inline double
vt_host_zone_unusable(const VtHostZone *zone, guint order)
{
        double total = 0.0, small = 0.0;

        for (guint o = 0; o < zone->n_orders && o < VT_HOST_ORDERS_MAX; o++) {
                double pages = (double)zone->free_blocks[o] * (double)(G_GUINT64_CONSTANT(1) << o);

                total += pages;
                if (o < order)
                        small += pages;
        }
        return total > 0.0 ? small / total : 0.0;
}

G_END_DECLS
