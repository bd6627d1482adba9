/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's action log: one line to read, structured fields for the journal. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* VT_FROM_BYTES / VT_TO_BYTES are left out. */
#define VT_DAEMON_LOG_NO_BYTES (-1)

/**
 * VtDaemonLogAction:
 * @guest: (nullable): the guest acted on (`VT_GUEST=`), %NULL for the host
 * @action: what was done (`VT_ACTION=`): "give", "reclaim", "stuck",
 *     "drop", "host-state", "ksm", ...
 * @from_bytes: the size before (`VT_FROM_BYTES=`), or
 *     %VT_DAEMON_LOG_NO_BYTES
 * @to_bytes: the size asked for (`VT_TO_BYTES=`), or
 *     %VT_DAEMON_LOG_NO_BYTES
 * @reason: (nullable): why (`VT_REASON=`)
 * @host_state: (nullable): the host's state when it was done
 *     (`VT_HOST_STATE=`)
 *
 * One action the daemon took, as its journal fields say it.
 */
typedef struct {
        const char *guest;
        const char *action;
        gint64 from_bytes;
        gint64 to_bytes;
        const char *reason;
        const char *host_state;
} VtDaemonLogAction;

void vt_daemon_log_action(GLogLevelFlags level, const VtDaemonLogAction *action, const char *format,
                          ...) G_GNUC_PRINTF(3, 4);
void vt_daemon_log_actionv(GLogLevelFlags level, const VtDaemonLogAction *action,
                           const char *format, va_list args) G_GNUC_PRINTF(3, 0);

G_END_DECLS
