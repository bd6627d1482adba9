/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Durations as reasons and log lines write them: "31 us", "24 ms", "4.3 s". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtTimeText:
 * @str: the text, NUL-terminated
 *
 * A duration as text, returned by value so that it can be a printf
 * argument (VT_TIME_STR()); it lives until the end of the full expression.
 */
typedef struct {
        char str[24];
} VtTimeText;

VtTimeText vt_time_to_text(gint64 us);

/* vt_time_to_text()'s text, for a printf argument. */
#define VT_TIME_STR(us) (vt_time_to_text(us).str)

G_END_DECLS
