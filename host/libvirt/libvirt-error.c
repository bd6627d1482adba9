/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt's errors as GErrors: the calling thread's last libvirt error,
 * classified into what vmtided acts on (the domain gone, libvirtd gone,
 * no balloon), with libvirt's message.
 */
#include "host/libvirt/libvirt-error.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(vt-libvirt-error-quark, vt_libvirt_error)
/* clang-format on */

static void
on_libvirt_error(void *user_data, virErrorPtr error)
{
        /* Reported through GErrors instead of libvirt's stderr printing. */
        (void)user_data;
        (void)error;
}

/**
 * vt_libvirt_error_init:
 *
 * Stops libvirt from printing its errors on stderr (process-wide): they
 * are reported through vt_libvirt_set_error() instead. Idempotent.
 */
void
vt_libvirt_error_init(void)
{
        static gsize done = 0;

        if (g_once_init_enter(&done)) {
                virSetErrorFunc(NULL, on_libvirt_error);
                g_once_init_leave(&done, 1);
        }
}

static VtLibvirtError
classify(const virError *e)
{
        /* Whatever the remote driver says, the connection is the trouble. */
        if (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE)
                return VT_LIBVIRT_ERROR_DISCONNECTED;
        switch (e->code) {
        case VIR_ERR_NO_DOMAIN:
                return VT_LIBVIRT_ERROR_NO_DOMAIN;
        case VIR_ERR_NO_SUPPORT:
                return VT_LIBVIRT_ERROR_UNSUPPORTED;
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_INVALID_CONN:
        case VIR_ERR_RPC:
        case VIR_ERR_AUTH_FAILED:
        case VIR_ERR_AUTH_CANCELLED:
                return VT_LIBVIRT_ERROR_DISCONNECTED;
        default:
                /* A domain without a working balloon: libvirt's "without the
                 * balloon device and guest OS balloon driver", or QEMU's
                 * DeviceNotActive passed on. Not a domain that is gone: that
                 * is only ever VIR_ERR_NO_DOMAIN, or libvirt's lifecycle
                 * event (a domain not running is VIR_ERR_OPERATION_INVALID,
                 * which also means many other things). */
                if (e->message != NULL && (strstr(e->message, "balloon driver") != NULL ||
                                           strstr(e->message, "No balloon device") != NULL))
                        return VT_LIBVIRT_ERROR_NO_BALLOON;
                return VT_LIBVIRT_ERROR_FAILED;
        }
}

/**
 * vt_libvirt_set_error:
 * @error: (nullable): set from the calling thread's last libvirt error
 * @call: the call that failed, for the message
 *
 * Call right after a libvirt call failed, on the same thread.
 */
void
vt_libvirt_set_error(GError **error, const char *call)
{
        const virError *e = virGetLastError();

        if (e == NULL || e->code == VIR_ERR_OK) {
                g_set_error(error, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_FAILED,
                            "%s failed (libvirt gave no reason)", call);
                return;
        }
        g_set_error(error, VT_LIBVIRT_ERROR, classify(e), "%s: %s", call,
                    e->message != NULL ? e->message : "unknown error");
}
