/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Arithmetic and wording the balloon policies share, inside balloon/ only. Pure. */
#pragma once

#include <math.h> /* isfinite(), a macro: no libm */

#include "balloon/balloon-policy.h"
#include "common/vt-size.h"

G_BEGIN_DECLS

#define VT_BALLOON_PAGE_SIZE G_GUINT64_CONSTANT(4096)
/* Sizes are clamped to this (2 EiB) so that sums of a few cannot overflow. */
#define VT_BALLOON_LIMIT (G_MAXINT64 / 4)

/* A size as the policies' reasons write it: "512 MiB", "1.5 GiB", "-40 MiB". */
#define SZ(bytes) VT_SIZE_STR((bytes), VT_SIZE_STYLE_SHORT)

/* A fraction from the configuration: finite and within [0, 1]. */
static inline double
vt_balloon_fraction(double v)
{
        return isfinite(v) ? CLAMP(v, 0.0, 1.0) : 0.0;
}

/* @bytes rounded up to a whole page; 0 for anything not positive. */
static inline guint64
vt_balloon_page_up(double bytes)
{
        guint64 b;

        if (!(bytes > 0))
                return 0;
        if (bytes >= (double)G_MAXINT64)
                return G_MAXINT64;
        b = (guint64)bytes;
        return (b + VT_BALLOON_PAGE_SIZE - 1) / VT_BALLOON_PAGE_SIZE * VT_BALLOON_PAGE_SIZE;
}

static inline gint64
vt_balloon_to_signed(guint64 v)
{
        return v > (guint64)G_MAXINT64 ? G_MAXINT64 : (gint64)v;
}

/* An age in whole seconds, rounded, for a reason. */
static inline gint64
vt_balloon_age_s(gint64 age_us)
{
        return (age_us + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;
}

/**
 * VtBalloonCompressed:
 * @VT_BALLOON_COMPRESSED_NONE: no compressed swap holding data, or it is
 *     idle (what it holds is cold), or the figures are missing or stale
 * @VT_BALLOON_COMPRESSED_IN_USE: the guest reads it back at
 *     guest_swap_in_warm or more: what it holds is demand
 * @VT_BALLOON_COMPRESSED_THRASHING: ... at guest_swap_in_thrash or more
 *
 * What a guest's compressed swap says (vt_balloon_guest_compressed()).
 */
typedef enum {
        VT_BALLOON_COMPRESSED_NONE,
        VT_BALLOON_COMPRESSED_IN_USE,
        VT_BALLOON_COMPRESSED_THRASHING,
} VtBalloonCompressed;

VtBalloonCompressed vt_balloon_guest_compressed(const VtBalloonGuest *guest,
                                                const VtBalloonConfig *config,
                                                guint64 *ret_pushed_out, char *buf, gsize size);

G_END_DECLS
