/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error domain of the QMP client and server, and QMP error classes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_QMP_ERROR (vt_qmp_error_quark())

/**
 * VtQmpError:
 * @VT_QMP_ERROR_GENERIC: the peer answered with `GenericError` or a class
 *     this code does not know; the message is the peer's `desc`
 * @VT_QMP_ERROR_COMMAND_NOT_FOUND: `CommandNotFound`
 * @VT_QMP_ERROR_DEVICE_NOT_ACTIVE: `DeviceNotActive`, e.g. a balloon
 *     request to a guest whose balloon driver is not loaded: a soft failure
 * @VT_QMP_ERROR_DEVICE_NOT_FOUND: `DeviceNotFound`
 * @VT_QMP_ERROR_KVM_MISSING_CAP: `KVMMissingCap`, e.g. ballooning without
 *     the KVM capability it needs: a soft failure
 * @VT_QMP_ERROR_PROTOCOL: the peer broke the protocol (malformed JSON, a
 *     message over the size or depth bound, a reply of the wrong shape)
 * @VT_QMP_ERROR_TIMEOUT: no reply within the command's timeout
 * @VT_QMP_ERROR_DISCONNECTED: the connection is gone (EOF, reset, closed)
 *
 * Codes of the %VT_QMP_ERROR domain. Errors that come from a QMP `error`
 * reply keep the peer's `desc` verbatim as their message.
 */
typedef enum {
        VT_QMP_ERROR_GENERIC,
        VT_QMP_ERROR_COMMAND_NOT_FOUND,
        VT_QMP_ERROR_DEVICE_NOT_ACTIVE,
        VT_QMP_ERROR_DEVICE_NOT_FOUND,
        VT_QMP_ERROR_KVM_MISSING_CAP,
        VT_QMP_ERROR_PROTOCOL,
        VT_QMP_ERROR_TIMEOUT,
        VT_QMP_ERROR_DISCONNECTED,
        VT_QMP_ERROR_MAX,
} VtQmpError;

GQuark vt_qmp_error_quark(void);

VtQmpError vt_qmp_error_from_class(const char *error_class);
const char *vt_qmp_error_to_class(VtQmpError code);
GError *vt_qmp_error_new_from_reply(const char *error_class, const char *desc);

G_END_DECLS
