/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The small string parsers behind the configuration, the CLI and libvirt
 * metadata: sizes (common/vt-size.h), host PSI trigger specs
 * (host/sensing/sensing-psi.h) and libvirt's scaled numbers. The input
 * is cut at its first newline: the number, then libvirt's unit. A PSI
 * spec that parses must print as a spec that parses to the same.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vt-size.h"
#include "host/libvirt/libvirt-metadata.h"
#include "host/sensing/sensing-psi.h"
#include "tests/fuzz/fuzz-common.h"

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: a string, optionally a newline and a unit
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *text = vt_fuzz_strndup(data, size);
        char *newline = strchr(text, '\n');
        const char *unit = NULL;
        VtPsiTriggerSpec spec;
        VtPsiTriggerSpec again;
        guint64 bytes;

        (void)vt_size_parse(text, &bytes, NULL);
        if (vt_size_parse_memory(text, &bytes, NULL))
                g_free(vt_size_format(bytes));
        if (vt_psi_trigger_spec_parse(text, &spec, NULL)) {
                g_autofree char *printed = vt_psi_trigger_spec_to_string(&spec);

                if (!vt_psi_trigger_spec_parse(printed, &again, NULL) ||
                    !spec.full != !again.full || spec.threshold_us != again.threshold_us ||
                    spec.window_us != again.window_us)
                        abort();
        }
        if (newline != NULL) {
                *newline = '\0';
                unit = newline + 1;
        }
        (void)vt_libvirt_parse_scaled(text, unit, &bytes, NULL);
        return 0;
}
