/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Incremental framing of a stream of JSON objects (QMP, the agent channel). */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/*
 * Defaults for QMP. The largest reply of QEMU 7.2, query-qmp-schema, is
 * about 200 KiB with about 20,000 values; json-c spends up to ~800 bytes
 * on a value, so one message within these bounds costs at most ~50 MiB.
 */
#define VT_QMP_FRAMER_DEFAULT_MAX_MESSAGE (1024u * 1024)
#define VT_QMP_FRAMER_DEFAULT_MAX_DEPTH   64
#define VT_QMP_FRAMER_DEFAULT_MAX_VALUES  65536

typedef struct _VtQmpFramer VtQmpFramer;

/**
 * VtQmpFramerStatus:
 * @VT_QMP_FRAMER_NEED_MORE: everything pushed so far is consumed
 * @VT_QMP_FRAMER_MESSAGE: a complete JSON object was returned
 * @VT_QMP_FRAMER_MALFORMED: malformed input was dropped; the framer has
 *     resynchronised and the caller may go on calling next()
 */
typedef enum {
        VT_QMP_FRAMER_NEED_MORE,
        VT_QMP_FRAMER_MESSAGE,
        VT_QMP_FRAMER_MALFORMED,
} VtQmpFramerStatus;

VtQmpFramer *vt_qmp_framer_new(gsize max_message, guint max_depth, gsize max_values);
void vt_qmp_framer_free(VtQmpFramer *framer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtQmpFramer, vt_qmp_framer_free)

void vt_qmp_framer_push(VtQmpFramer *framer, const void *data, gsize len);
VtQmpFramerStatus vt_qmp_framer_next(VtQmpFramer *framer, json_object **ret_message,
                                     GError **error);
gboolean vt_qmp_framer_has_partial(VtQmpFramer *framer);
guint64 vt_qmp_framer_get_n_malformed(VtQmpFramer *framer);

G_END_DECLS
