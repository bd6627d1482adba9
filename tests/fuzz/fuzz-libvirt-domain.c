/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parser of libvirt's live domain XML on hostile documents (libvirt
 * is trusted, but what a domain's owner put in it, its name, metadata
 * and channels, is not). What parses must keep VtLibvirtDomainInfo's
 * promises: a name, and no agent path and problem at once.
 */
#include <stdlib.h>

#include "host/libvirt/libvirt-domain.h"
#include "tests/fuzz/fuzz-common.h"

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: a domain's XML
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *xml = vt_fuzz_strndup(data, size);
        g_auto(VtLibvirtDomainInfo) info = {0};
        g_autoptr(GError) error = NULL;

        if (!vt_libvirt_domain_parse(xml, &info, &error)) {
                if (error == NULL)
                        abort();
                return 0;
        }
        if (info.name == NULL || (info.agent_path != NULL && info.agent_problem != NULL))
                abort();
        return 0;
}
