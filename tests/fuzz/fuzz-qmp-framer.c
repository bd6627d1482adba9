/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP framer on a hostile byte stream. The first byte picks the
 * limits (QMP's defaults, or small ones so that the bounds are crossed
 * often) and the size of the chunks the rest is pushed in, as a socket
 * would deliver it. Every message returned must be an object, and a
 * framer fed nothing more must say NEED_MORE.
 */
#include <stdlib.h>

#include "qmp/qmp-framer.h"
#include "tests/fuzz/fuzz-common.h"

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(VtQmpFramer) framer = NULL;
        gsize chunk;

        if (size < 1)
                return 0;
        if (data[0] & 0x80)
                framer = vt_qmp_framer_new(256, 4, 32);
        else
                framer = vt_qmp_framer_new(VT_QMP_FRAMER_DEFAULT_MAX_MESSAGE,
                                           VT_QMP_FRAMER_DEFAULT_MAX_DEPTH,
                                           VT_QMP_FRAMER_DEFAULT_MAX_VALUES);
        chunk = (gsize)(data[0] & 0x7f) + 1;
        data++;
        size--;

        while (size > 0) {
                gsize n = MIN(chunk, size);
                VtQmpFramerStatus status;

                vt_qmp_framer_push(framer, data, n);
                data += n;
                size -= n;
                do {
                        g_autoptr(GError) error = NULL;
                        json_object *message = NULL;

                        status = vt_qmp_framer_next(framer, &message, &error);
                        if (status == VT_QMP_FRAMER_MESSAGE &&
                            !json_object_is_type(message, json_type_object))
                                abort();
                        if (status == VT_QMP_FRAMER_MALFORMED && error == NULL)
                                abort();
                        json_object_put(message);
                } while (status != VT_QMP_FRAMER_NEED_MORE);
        }
        {
                json_object *message = NULL;

                if (vt_qmp_framer_next(framer, &message, NULL) != VT_QMP_FRAMER_NEED_MORE)
                        abort();
        }
        (void)vt_qmp_framer_has_partial(framer);
        (void)vt_qmp_framer_get_n_malformed(framer);
        return 0;
}
