/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One pass over the host's memory beyond meminfo: zram and swap devices,
 * zswap, fragmentation and THP, NUMA nodes and memory tiers. /proc/meminfo
 * and /proc/vmstat are read once and handed to the parts that need them.
 * The root is "/" on a real host and a recorded tree in tests
 * (tests/data/mm/), holding proc/ and sys/ (sys/kernel/debug/ for
 * debugfs).
 */
#include "host/sensing/sensing-mm.h"

#include <string.h>

#include "host/sensing/sensing-text.h"

/**
 * vt_host_mm_sample_read:
 * @root: the root of /proc and /sys: %VT_HOST_MM_ROOT on a real host
 * @now_us: the monotonic time to stamp the sample with
 * @ret: (out): the sample
 *
 * Reads about forty small files. Never fails: what the kernel lacks, or
 * does not let this process read (debugfs without root), is absent from
 * the sample.
 */
void
vt_host_mm_sample_read(const char *root, gint64 now_us, VtHostMmSample *ret)
{
        g_autofree char *meminfo = NULL;
        g_autofree char *vmstat = NULL;
        g_autofree char *swaps = NULL;

        g_return_if_fail(root != NULL && ret != NULL);

        memset(ret, 0, sizeof(*ret));
        ret->sampled_us = now_us;
        meminfo = vt_host_text_read(root, "proc/meminfo");
        vmstat = vt_host_text_read(root, "proc/vmstat");
        swaps = vt_host_text_read(root, "proc/swaps");

        ret->n_zram = vt_host_zram_read(root, ret->zram, VT_HOST_ZRAM_MAX, &ret->n_zram_total);
        ret->n_swaps =
            vt_host_swaps_parse(swaps, ret->swaps, VT_HOST_SWAP_MAX, &ret->n_swaps_total);
        ret->has_pswp = vt_host_text_get_u64(vmstat, "pswpin", &ret->pswpin) &&
                        vt_host_text_get_u64(vmstat, "pswpout", &ret->pswpout);
        vt_host_zswap_read(root, meminfo, vmstat, &ret->zswap);
        vt_host_frag_read(root, vmstat, &ret->frag);
        vt_host_topo_read(root, &ret->topo);
}
