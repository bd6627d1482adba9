/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an untrusted peer made us drop, logged once and then summarised. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A kind of drop is logged at most once in this interval, then summarised. */
#define VT_QMP_PEER_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)

typedef struct _VtQmpPeerLog VtQmpPeerLog;

VtQmpPeerLog *vt_qmp_peer_log_new(const char *log_domain, const char *peer, GMainContext *context);
void vt_qmp_peer_log_free(VtQmpPeerLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtQmpPeerLog, vt_qmp_peer_log_free)

void vt_qmp_peer_log_set_peer(VtQmpPeerLog *log, const char *peer);
void vt_qmp_peer_log_set_interval(VtQmpPeerLog *log, gint64 interval_us);
void vt_qmp_peer_log_add(VtQmpPeerLog *log, GLogLevelFlags level, const char *what,
                         const char *format, ...) G_GNUC_PRINTF(4, 5);
void vt_qmp_peer_log_flush(VtQmpPeerLog *log);

G_END_DECLS
