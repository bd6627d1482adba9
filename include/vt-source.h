/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Main-loop sources kept by pointer: one way to drop them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * vt_source_clear:
 * @source: (inout) (nullable): a source the caller holds a reference to
 *
 * Destroys *@source (its callback is not called again), drops the
 * caller's reference and sets it to %NULL. Does nothing when it is %NULL.
 * For sources kept as GSource pointers (g_source_attach() plus a
 * reference) rather than as ids.
 */
static inline void
vt_source_clear(GSource **source)
{
        if (*source == NULL)
                return;
        g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
}

G_END_DECLS
