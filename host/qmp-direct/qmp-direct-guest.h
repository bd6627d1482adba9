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

/* How long the destination command may take to print the migration URI
 * and exit (it starts the receiving QEMU); longer, it is killed. */
#define VT_GUEST_QMP_DESTINATION_TIMEOUT_US (30 * G_USEC_PER_SEC)
/* The most it may print before the URI's newline, bytes. */
#define VT_GUEST_QMP_DESTINATION_MAX_OUTPUT 4096
/* Pages per GiB that `calc-dirty-rate` samples (QEMU 7.2: 128..16384,
 * default 512): 4096 reads a 256 MiB guest's 8 MiB/s within about 25 %
 * (1024 pages sampled), at the cost of hashing 16 MiB per GiB of guest
 * twice per measurement. */
#define VT_GUEST_QMP_DIRTY_SAMPLE_PAGES 4096
/* How long past the window a measurement may take to come in (QEMU hashes
 * the sampled pages before and after the window). */
#define VT_GUEST_QMP_DIRTY_GRACE_US (5 * G_USEC_PER_SEC)
/* How often `query-dirty-rate` is asked again once the window is over. */
#define VT_GUEST_QMP_DIRTY_POLL_US (100 * 1000)

/**
 * VtGuestQmpError:
 * @VT_GUEST_QMP_ERROR_SPENT_SOURCE: the QEMU is a spent migration source
 *     (`postmigrate`): the guest runs elsewhere; the start fails with it
 *
 * Errors of %VT_GUEST_QMP_ERROR: why a QEMU is not taken on.
 */
typedef enum {
        VT_GUEST_QMP_ERROR_SPENT_SOURCE,
} VtGuestQmpError;

#define VT_GUEST_QMP_ERROR (vt_guest_qmp_error_quark())
GQuark vt_guest_qmp_error_quark(void);

#define VT_TYPE_GUEST_QMP (vt_guest_qmp_get_type())
G_DECLARE_FINAL_TYPE(VtGuestQmp, vt_guest_qmp, VT, GUEST_QMP, VtGuest)

VtGuest *vt_guest_qmp_new(const char *name, const char *qmp_address, const char *agent_path,
                          guint stats_interval_s);
const char *vt_guest_qmp_get_address(VtGuestQmp *guest);
const char *vt_guest_qmp_get_balloon_path(VtGuestQmp *guest);
void vt_guest_qmp_set_timeout(VtGuestQmp *guest, gint64 timeout_us);

/* Migration (qmp-direct-migrate.c). */
gboolean vt_guest_qmp_set_destination_command(VtGuestQmp *guest, const char *command,
                                              GError **error);
void vt_guest_qmp_set_destination_timeout(VtGuestQmp *guest, gint64 timeout_us);
void vt_guest_qmp_set_quit_after_migration(VtGuestQmp *guest, gboolean quit);

G_END_DECLS
