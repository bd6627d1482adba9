/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt's errors as GErrors. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_LIBVIRT_ERROR (vt_libvirt_error_quark())
GQuark vt_libvirt_error_quark(void);

/**
 * VtLibvirtError:
 * @VT_LIBVIRT_ERROR_FAILED: libvirt refused or failed the call
 * @VT_LIBVIRT_ERROR_NO_DOMAIN: the domain is gone (or no longer running)
 * @VT_LIBVIRT_ERROR_DISCONNECTED: no connection to libvirtd
 * @VT_LIBVIRT_ERROR_NO_BALLOON: the domain has no active balloon
 * @VT_LIBVIRT_ERROR_UNSUPPORTED: the driver does not offer the call
 */
typedef enum {
        VT_LIBVIRT_ERROR_FAILED,
        VT_LIBVIRT_ERROR_NO_DOMAIN,
        VT_LIBVIRT_ERROR_DISCONNECTED,
        VT_LIBVIRT_ERROR_NO_BALLOON,
        VT_LIBVIRT_ERROR_UNSUPPORTED,
} VtLibvirtError;

void vt_libvirt_error_init(void);
void vt_libvirt_set_error(GError **error, const char *call);

G_END_DECLS
