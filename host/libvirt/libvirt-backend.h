/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt backend: guests are the running domains of a libvirt connection. */
#pragma once

#include <gio/gio.h>

#include "host/guest/guest-backend.h"

G_BEGIN_DECLS

/* libvirtd unreachable: connecting is tried again after this long,
 * doubling up to the maximum. */
#define VT_BACKEND_LIBVIRT_RETRY_MIN_US (500 * G_USEC_PER_SEC / 1000)
#define VT_BACKEND_LIBVIRT_RETRY_MAX_US (30 * G_USEC_PER_SEC)
/* Keepalive: a libvirtd that answers no probe for INTERVAL * (COUNT + 1)
 * seconds is taken for gone. */
#define VT_BACKEND_LIBVIRT_KEEPALIVE_INTERVAL_S 5
#define VT_BACKEND_LIBVIRT_KEEPALIVE_COUNT      3

#define VT_TYPE_BACKEND_LIBVIRT (vt_backend_libvirt_get_type())
G_DECLARE_FINAL_TYPE(VtBackendLibvirt, vt_backend_libvirt, VT, BACKEND_LIBVIRT, GObject)

VtBackend *vt_backend_libvirt_new(const char *uri, guint stats_interval_s);
const char *vt_backend_libvirt_get_uri(VtBackendLibvirt *backend);
void vt_backend_libvirt_set_retry(VtBackendLibvirt *backend, gint64 min_us, gint64 max_us);
guint vt_backend_libvirt_get_n_guests(VtBackendLibvirt *backend);

G_END_DECLS
