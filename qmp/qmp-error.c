/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QMP error classes mapped to and from VT_QMP_ERROR codes. */
#include "qmp/qmp-error.h"

/* clang-format off */
G_DEFINE_QUARK(vt-qmp-error-quark, vt_qmp_error)
/* clang-format on */

/* Indexed by VtQmpError; NULL where the code has no QMP class. */
static const char *const qmp_error_classes[VT_QMP_ERROR_MAX] = {
    [VT_QMP_ERROR_GENERIC] = "GenericError",
    [VT_QMP_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [VT_QMP_ERROR_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
    [VT_QMP_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
    [VT_QMP_ERROR_KVM_MISSING_CAP] = "KVMMissingCap",
};

/**
 * vt_qmp_error_from_class:
 * @error_class: (nullable): a QMP `error.class` string
 *
 * Returns: the matching code, %VT_QMP_ERROR_GENERIC for unknown classes
 */
VtQmpError
vt_qmp_error_from_class(const char *error_class)
{
        if (error_class == NULL)
                return VT_QMP_ERROR_GENERIC;
        for (guint i = 0; i < G_N_ELEMENTS(qmp_error_classes); i++) {
                if (qmp_error_classes[i] != NULL && g_str_equal(qmp_error_classes[i], error_class))
                        return (VtQmpError)i;
        }
        return VT_QMP_ERROR_GENERIC;
}

/**
 * vt_qmp_error_to_class:
 * @code: a #VtQmpError
 *
 * Returns: the QMP class a server sends for @code; `GenericError` for codes
 *     that are not QMP classes (timeouts, protocol errors)
 */
const char *
vt_qmp_error_to_class(VtQmpError code)
{
        if ((guint)code < G_N_ELEMENTS(qmp_error_classes) && qmp_error_classes[code] != NULL)
                return qmp_error_classes[code];
        return qmp_error_classes[VT_QMP_ERROR_GENERIC];
}

/**
 * vt_qmp_error_new_from_reply:
 * @error_class: (nullable): the reply's `error.class`
 * @desc: (nullable): the reply's `error.desc`, kept verbatim
 *
 * Returns: (transfer full): a new #GError in the %VT_QMP_ERROR domain
 */
GError *
vt_qmp_error_new_from_reply(const char *error_class, const char *desc)
{
        return g_error_new_literal(VT_QMP_ERROR, vt_qmp_error_from_class(error_class),
                                   desc != NULL ? desc : "QMP error without description");
}
