/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A library that reads the clock: check-purity.sh must refuse it. */
#include <glib.h>

gint64 vt_purity_impure(void);

gint64
vt_purity_impure(void)
{
        return g_get_monotonic_time();
}
