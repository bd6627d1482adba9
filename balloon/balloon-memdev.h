/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's memory target mapped onto its two levers: virtio-mem and the balloon. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A virtio-mem block size beyond this (or not a power of two) is not believed. */
#define VT_MEMDEV_BLOCK_MAX (G_GUINT64_CONSTANT(1) << 40)
/* An unplug that made no progress this long is stuck (VtMemdevInput.stuck_us = 0). */
#define VT_MEMDEV_STUCK_US (30 * G_USEC_PER_SEC)
/* A stuck unplug is asked again at most this often (VtMemdevInput.retry_us = 0). */
#define VT_MEMDEV_RETRY_US (600 * G_USEC_PER_SEC)
/* The balloon is not moved for less than this: the move tracker's slack. */
#define VT_MEMDEV_BALLOON_SLACK (G_GUINT64_CONSTANT(4) << 20)

/**
 * VtMemdevStrategy:
 * @VT_MEMDEV_STRATEGY_BALLOON_ONLY: the balloon alone; virtio-mem's
 *     requested size is left where it is
 * @VT_MEMDEV_STRATEGY_MEMDEV_FIRST: grow by plugging beyond the boot
 *     memory; shrink by unplugging first, ballooning only below the boot
 *     memory (or where an unplug is stuck)
 * @VT_MEMDEV_STRATEGY_MEMDEV_ONLY: virtio-mem alone; the balloon is left
 *     where it is and the guest never goes below its boot memory plus
 *     what the balloon holds
 *
 * Which lever moves a guest's memory.
 */
typedef enum {
        VT_MEMDEV_STRATEGY_BALLOON_ONLY,
        VT_MEMDEV_STRATEGY_MEMDEV_FIRST,
        VT_MEMDEV_STRATEGY_MEMDEV_ONLY,
        VT_MEMDEV_STRATEGY_MAX,
} VtMemdevStrategy;

/**
 * VtMemdevInput:
 * @name: the guest's name, for reasons (borrowed; NULL: "guest")
 * @strategy: the guest's #VtMemdevStrategy
 * @boot_bytes: the guest's boot memory (QEMU's `-m` size)
 * @has_balloon: the guest has a balloon device
 * @balloon_actual: the guest's memory as the balloon leaves it, in the
 *     plan's currency: boot memory plus what is plugged minus what the
 *     balloon holds. The caller builds it: QEMU 7.2's `query-balloon`
 *     `actual` (and libvirt's balloon) counts the boot memory alone, so the
 *     caller adds what is plugged
 * @has_memdev: the guest has a virtio-mem device; the four below are valid
 * @block_size: its `block-size`, bytes
 * @plugged_bytes: its `size`: what is plugged now
 * @requested_bytes: its `requested-size`: what the guest was asked to
 *     plug
 * @max_bytes: its maximum (the memory backend's size)
 * @request_us: when @requested_bytes was last set (0: never by us)
 * @progress_us: when @plugged_bytes last moved (0: never seen moving)
 * @stuck_us: how long an unplug may make no progress before it is stuck;
 *     0: %VT_MEMDEV_STUCK_US
 * @retry_us: how long after the last request a stuck unplug is asked
 *     again; 0: %VT_MEMDEV_RETRY_US
 *
 * One guest's levers, as the backend read them. Every figure comes from
 * QEMU or libvirt and is checked, not trusted.
 */
typedef struct {
        const char *name;
        VtMemdevStrategy strategy;
        guint64 boot_bytes;
        gboolean has_balloon;
        guint64 balloon_actual;
        gboolean has_memdev;
        guint64 block_size;
        guint64 plugged_bytes;
        guint64 requested_bytes;
        guint64 max_bytes;
        gint64 request_us;
        gint64 progress_us;
        gint64 stuck_us;
        gint64 retry_us;
} VtMemdevInput;

/**
 * VtMemdevPlan:
 * @set_requested: a new virtio-mem requested size is to be set
 * @requested_bytes: the requested size to have (the current one when
 *     @set_requested is FALSE); a multiple of the block size
 * @set_balloon: the balloon is to move
 * @balloon_held: what the balloon should hold, bytes (taken from the guest)
 * @balloon_value: with @set_balloon: the balloon's target in the same
 *     currency (boot memory plus what is plugged now, less @balloon_held);
 *     the caller gives QEMU's `balloon` this less what is plugged
 * @expected_bytes: the guest's memory once both levers settled
 * @unplug_stuck: an unplug made no progress past the timeout: not asked
 *     again until the retry time; the balloon covers for it
 * @reason: why, for the log ("grow by plugging 256 MiB beyond boot ...")
 *
 * What to do with one guest's levers to reach a target.
 */
typedef struct {
        gboolean set_requested;
        guint64 requested_bytes;
        gboolean set_balloon;
        guint64 balloon_held;
        guint64 balloon_value;
        guint64 expected_bytes;
        gboolean unplug_stuck;
        char reason[192];
} VtMemdevPlan;

const char *vt_memdev_strategy_name(VtMemdevStrategy strategy);
gboolean vt_memdev_strategy_from_name(const char *name, VtMemdevStrategy *ret_strategy);

gboolean vt_memdev_unplug_is_stuck(const VtMemdevInput *input, gint64 now_us);

void vt_memdev_plan(const VtMemdevInput *input, guint64 target_bytes, gint64 now_us,
                    VtMemdevPlan *plan);

G_END_DECLS
