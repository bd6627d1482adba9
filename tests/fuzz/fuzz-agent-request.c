/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's parsing of what the host sends it, on a hostile stream cut
 * into lines as vt_agent_input_handle() cuts it (lines over
 * VT_AGENT_LINE_MAX dropped unparsed). A request that parses must be
 * one the agent can act on: a known type, an interval in range.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent-report.h"
#include "tests/fuzz/fuzz-common.h"

static void
check_line(const char *line, size_t len)
{
        VtAgentRequest request;

        if (!vt_agent_request_parse(line, len, &request))
                return;
        if (request.type >= VT_AGENT_REQUEST_MAX)
                abort();
        if (request.type == VT_AGENT_REQUEST_SET_INTERVAL &&
            (request.interval_ms < VT_AGENT_INTERVAL_MIN_MS ||
             request.interval_ms > VT_AGENT_INTERVAL_MAX_MS))
                abort();
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: what the host writes to the agent's port
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        while (size > 0) {
                const uint8_t *nl = memchr(data, '\n', size);
                size_t take = nl != NULL ? (size_t)(nl - data) : size;

                if (take <= VT_AGENT_LINE_MAX - 1) {
                        char line[VT_AGENT_LINE_MAX];

                        memcpy(line, data, take);
                        line[take] = '\0';
                        check_line(line, take);
                }
                if (nl == NULL)
                        break;
                data = nl + 1;
                size -= take + 1;
        }
        return 0;
}
