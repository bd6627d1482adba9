/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtide's <vmtide:policy> element in a domain's metadata, which anyone
 * allowed to edit the domain writes, on hostile documents. A policy that
 * parses must respect the balloon floor, and what vt_libvirt_policy_format()
 * writes back for it must parse to the same policy (`vmtide policy`
 * writes it, vmtided reads it).
 */
#include <stdlib.h>
#include <string.h>

#include "host/libvirt/libvirt-metadata.h"
#include "tests/fuzz/fuzz-common.h"

static gboolean
policy_equal(const VtLibvirtPolicy *a, const VtLibvirtPolicy *b)
{
        return a->balloon.min_bytes == b->balloon.min_bytes &&
               a->balloon.max_bytes == b->balloon.max_bytes &&
               a->balloon.shares == b->balloon.shares &&
               !a->balloon.opt_out == !b->balloon.opt_out && !a->ksm_opt_out == !b->ksm_opt_out;
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: a metadata element
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *xml = vt_fuzz_strndup(data, size);
        g_autofree char *written = NULL;
        g_autoptr(GError) error = NULL;
        VtLibvirtPolicy policy;
        VtLibvirtPolicy again;

        if (!vt_libvirt_policy_parse(xml, &policy, &error)) {
                if (error == NULL)
                        abort();
                return 0;
        }
        if (policy.balloon.max_bytes != 0 && policy.balloon.max_bytes < VT_BALLOON_FLOOR)
                abort();
        written = vt_libvirt_policy_format(&policy);
        if (!vt_libvirt_policy_parse(written, &again, NULL) || !policy_equal(&policy, &again))
                abort();
        return 0;
}
