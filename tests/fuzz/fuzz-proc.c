/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The /proc parsers the agent and vmtided share (agent/agent-proc.h):
 * /proc/meminfo, /proc/vmstat or /proc/pressure/memory, picked at build
 * time (VT_FUZZ_PROC: 0, 1 or 2) so that each has its own target and
 * corpus. A hostile guest kernel, or a guest root, controls these in the
 * agent. What a parser returns must count the fields it set, and a
 * pressure average must be a percentage.
 */
#include <stdlib.h>

#include "agent/agent-proc.h"
#include "tests/fuzz/fuzz-common.h"

static int
count_set(const bool *has, guint n)
{
        int count = 0;

        for (guint i = 0; i < n; i++)
                count += has[i] ? 1 : 0;
        return count;
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: the file's content
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *text = vt_fuzz_strndup(data, size);
        VtAgentSample sample = {0};
        int n;

#if VT_FUZZ_PROC == 0
        n = vt_agent_parse_meminfo(text, &sample);
        if (n != count_set(sample.has_mem, VT_AGENT_MEM_MAX))
                abort();
#elif VT_FUZZ_PROC == 1
        n = vt_agent_parse_vmstat(text, &sample);
        if (n != count_set(sample.has_vm, VT_AGENT_VM_MAX))
                abort();
#else
        n = vt_agent_parse_psi(text, &sample);
        if (n != count_set(sample.has_psi_avg, VT_AGENT_PSI_MAX) +
                     count_set(sample.has_psi_total, VT_AGENT_PSI_TOTAL_MAX))
                abort();
        for (guint i = 0; i < VT_AGENT_PSI_MAX; i++)
                if (sample.has_psi_avg[i] &&
                    !(sample.psi_avg[i] >= 0.0 && sample.psi_avg[i] <= 100.0))
                        abort();
#endif
        return 0;
}
