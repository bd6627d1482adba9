/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Telling systemd about the daemon's state (Type=notify), without libsystemd. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean vt_sd_notify(const char *state, GError **error);
gint64 vt_sd_watchdog_interval_us(void);

G_END_DECLS
