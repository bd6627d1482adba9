/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The agent's side of the protocol (docs/agent-protocol.md): lines it sends, requests it takes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent-proc.h"
#include "vt-agent-protocol.h"

/**
 * VtAgentReportMeta - What a report carries besides the sample.
 * @seq: the line's sequence number
 * @reason: why it is sent
 * @uptime_ms: guest CLOCK_MONOTONIC when the sample was read
 * @interval_ms: the current periodic interval
 * @self: the agent's own resource use
 * @dropped_requests: host requests ignored so far
 */
typedef struct {
        uint64_t seq;
        VtAgentReason reason;
        uint64_t uptime_ms;
        uint32_t interval_ms;
        VtAgentSelf self;
        uint64_t dropped_requests;
} VtAgentReportMeta;

/**
 * VtAgentRequestType - The host requests the agent understands.
 */
typedef enum {
        VT_AGENT_REQUEST_HELLO,
        VT_AGENT_REQUEST_SET_INTERVAL,
        VT_AGENT_REQUEST_REPORT_NOW,
        VT_AGENT_REQUEST_MAX,
} VtAgentRequestType;

/**
 * VtAgentRequest - A valid host request.
 * @type: what the host asks
 * @interval_ms: for VT_AGENT_REQUEST_SET_INTERVAL, the new interval (within
 *               VT_AGENT_INTERVAL_MIN_MS..VT_AGENT_INTERVAL_MAX_MS); 0 otherwise
 */
typedef struct {
        VtAgentRequestType type;
        uint32_t interval_ms;
} VtAgentRequest;

char *vt_agent_report_build(const VtAgentSample *sample, const VtAgentReportMeta *meta);
char *vt_agent_hello_build(uint64_t seq, uint32_t interval_ms, bool psi_trigger);
bool vt_agent_request_parse(const char *line, size_t len, VtAgentRequest *ret_request);
