/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's compressed memory, swap, fragmentation and topology in one sample (for the doctor). */
#pragma once

#include <glib.h>

#include "host/sensing/sensing-frag.h"
#include "host/sensing/sensing-topo.h"
#include "host/sensing/sensing-zram.h"
#include "host/sensing/sensing-zswap.h"

G_BEGIN_DECLS

/**
 * VtHostMmSample:
 * @sampled_us: monotonic time of the sample, as given by the caller
 * @n_zram: devices in @zram
 * @n_zram_total: zram devices the host has (more than @n_zram when
 *     there are more than %VT_HOST_ZRAM_MAX)
 * @zram: the zram devices, in name order
 * @n_swaps: devices in @swaps
 * @n_swaps_total: swap devices the host has
 * @swaps: the swap devices (/proc/swaps), zram ones included
 * @has_pswp: /proc/vmstat has pswpin and pswpout
 * @pswpin: pages swapped in since boot (zram counts, zswap hits do not)
 * @pswpout: pages swapped out since boot
 * @zswap: zswap's state
 * @frag: fragmentation, compaction, THP
 * @topo: NUMA nodes and memory tiers
 *
 * What `vmtide doctor` needs of the host beyond VtHostSample. Plain data
 * (about 10 KiB: allocate it, or keep two, the previous and the current,
 * for rates). Everything is optional: a part the kernel lacks is empty
 * (no devices, flags unset), never an error.
 */
typedef struct {
        gint64 sampled_us;
        guint n_zram;
        guint n_zram_total;
        VtHostZram zram[VT_HOST_ZRAM_MAX];
        guint n_swaps;
        guint n_swaps_total;
        VtHostSwap swaps[VT_HOST_SWAP_MAX];
        gboolean has_pswp;
        guint64 pswpin;
        guint64 pswpout;
        VtHostZswap zswap;
        VtHostFrag frag;
        VtHostTopo topo;
} VtHostMmSample;

#define VT_HOST_MM_ROOT "/"

void vt_host_mm_sample_read(const char *root, gint64 now_us, VtHostMmSample *ret);

G_END_DECLS
