/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory sizes as people write them: "512M", "1.5G", "2GiB", bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_SIZE_ERROR (vt_size_error_quark())

/**
 * VtSizeError:
 * @VT_SIZE_ERROR_INVALID: the text is not a size, or one past 2^64 - 1
 *
 * Codes of the %VT_SIZE_ERROR domain.
 */
typedef enum {
        VT_SIZE_ERROR_INVALID,
        VT_SIZE_ERROR_MAX,
} VtSizeError;

GQuark vt_size_error_quark(void);

gboolean vt_size_parse(const char *text, guint64 *ret_bytes, GError **error);
char *vt_size_format(guint64 bytes);

G_END_DECLS
