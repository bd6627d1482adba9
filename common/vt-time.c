/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Durations as reasons and log lines write them. Pure. */
#include "common/vt-time.h"

/**
 * vt_time_to_text:
 * @us: a duration, microseconds; %G_MAXINT64 means no end (a limit that is
 *     none, a move that never ends)
 *
 * Returns: "31 us" under a millisecond, "24 ms" under a second (rounded),
 *     "4.3 s" from a second on, "forever" for %G_MAXINT64
 */
VtTimeText
vt_time_to_text(gint64 us)
{
        VtTimeText t;

        if (us == G_MAXINT64)
                g_snprintf(t.str, sizeof(t.str), "forever");
        else if (us > 0 && us < 1000)
                g_snprintf(t.str, sizeof(t.str), "%" G_GINT64_FORMAT " us", us);
        else if (us < G_USEC_PER_SEC)
                g_snprintf(t.str, sizeof(t.str), "%" G_GINT64_FORMAT " ms", (us + 500) / 1000);
        else
                g_snprintf(t.str, sizeof(t.str), "%.1f s", (double)us / G_USEC_PER_SEC);
        return t;
}
