/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest driven straight through its QEMU's QMP socket. */
#pragma once

#include <gio/gio.h>

#include "host/guest/guest.h"
#include "qmp/qmp-error.h"

G_BEGIN_DECLS

/* How long one QMP command (and the connect) may take: a hung QEMU fails
 * its commands instead of hanging the daemon. */
#define VT_GUEST_QMP_TIMEOUT_US (5 * G_USEC_PER_SEC)

#define VT_TYPE_GUEST_QMP (vt_guest_qmp_get_type())
G_DECLARE_FINAL_TYPE(VtGuestQmp, vt_guest_qmp, VT, GUEST_QMP, VtGuest)

VtGuest *vt_guest_qmp_new(const char *name, const char *qmp_address, const char *agent_path,
                          guint stats_interval_s);
const char *vt_guest_qmp_get_address(VtGuestQmp *guest);
const char *vt_guest_qmp_get_balloon_path(VtGuestQmp *guest);
void vt_guest_qmp_set_timeout(VtGuestQmp *guest, gint64 timeout_us);

G_END_DECLS
