/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests from the host: the bytes read from the port cut into bounded
 * lines, each parsed (agent-report.c) and acted on. What is not a valid
 * request is counted in "dropped_requests" and logged sparingly.
 */
#include "agent/agent-state.h"

#include <inttypes.h>
#include <string.h>

/**
 * handle_request() - Act on one complete line from the host.
 * @agent: the agent
 * @line: the line, without its newline, NUL-terminated
 * @len: its length
 * @now: CLOCK_MONOTONIC µs
 */
static void
handle_request(VtAgent *agent, const char *line, size_t len, int64_t now)
{
        VtAgentRequest request;

        if (strspn(line, " \t\r") == len)
                return; /* an empty line is no request */
        if (!vt_agent_request_parse(line, len, &request)) {
                agent->dropped_requests++;
                /* Log the 1st, 2nd, 4th, 8th, ... so that a flood stays quiet. */
                if ((agent->dropped_requests & (agent->dropped_requests - 1)) == 0)
                        vt_agent_log("ignored a malformed or unknown request (%" PRIu64 " so far)",
                                     agent->dropped_requests);
                return;
        }
        switch (request.type) {
        case VT_AGENT_REQUEST_HELLO:
                agent->want_hello = true;
                break;
        case VT_AGENT_REQUEST_SET_INTERVAL:
                if (request.interval_ms != agent->interval_ms)
                        vt_agent_log("interval set to %" PRIu32 " ms by the host",
                                     request.interval_ms);
                agent->interval_ms = request.interval_ms;
                agent->next_periodic_us = now + (int64_t)agent->interval_ms * 1000;
                vt_agent_queue_report(agent, VT_AGENT_REASON_REQUEST);
                break;
        case VT_AGENT_REQUEST_REPORT_NOW:
                vt_agent_queue_report(agent, VT_AGENT_REASON_REQUEST);
                break;
        case VT_AGENT_REQUEST_MAX:
                break;
        }
}

/**
 * vt_agent_input_handle() - Split what the host sent into lines and act on them.
 * @agent: the agent
 * @data: bytes read
 * @len: how many
 * @now: CLOCK_MONOTONIC µs
 */
void
vt_agent_input_handle(VtAgent *agent, const char *data, size_t len, int64_t now)
{
        while (len > 0) {
                const char *nl = memchr(data, '\n', len);
                size_t take = nl ? (size_t)(nl - data) : len;

                if (!agent->in_overflow) {
                        /* VT_AGENT_LINE_MAX includes the newline. */
                        if (agent->in_len + take > VT_AGENT_LINE_MAX - 1) {
                                agent->in_overflow = true;
                                agent->in_len = 0;
                        } else {
                                memcpy(agent->in + agent->in_len, data, take);
                                agent->in_len += take;
                        }
                }
                if (!nl)
                        return;
                if (agent->in_overflow) {
                        agent->dropped_requests++;
                        vt_agent_log("ignored a request line over %d bytes (%" PRIu64
                                     " ignored so far)",
                                     VT_AGENT_LINE_MAX, agent->dropped_requests);
                } else {
                        char line[VT_AGENT_LINE_MAX];

                        memcpy(line, agent->in, agent->in_len);
                        line[agent->in_len] = '\0';
                        handle_request(agent, line, agent->in_len, now);
                }
                agent->in_len = 0;
                agent->in_overflow = false;
                data = nl + 1;
                len -= take + 1;
        }
}
