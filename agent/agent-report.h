/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The agent's side of the protocol (docs/agent-protocol.md): lines it sends, requests it takes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent-proc.h"

#define VT_AGENT_PROTOCOL_VERSION 1
/* A line is at most this long including its newline, and nests at most VT_AGENT_LINE_MAX_DEPTH. */
#define VT_AGENT_LINE_MAX       4096
#define VT_AGENT_LINE_MAX_DEPTH 8
#define VT_AGENT_INTERVAL_MIN   100     /* ms */
#define VT_AGENT_INTERVAL_MAX   3600000 /* ms */
#define VT_AGENT_PORT_NAME      "org.vmtide.agent.0"
#define VT_AGENT_FEATURE_PSI    "psi-trigger"

/**
 * VtAgentReportReason - Why a report is sent (its "reason" member).
 */
typedef enum {
        VT_AGENT_REPORT_REASON_PERIODIC, /* the interval elapsed */
        VT_AGENT_REPORT_REASON_PRESSURE, /* the PSI trigger fired */
        VT_AGENT_REPORT_REASON_DROP,     /* MemAvailable fell fast */
        VT_AGENT_REPORT_REASON_REQUEST,  /* the host asked */
        VT_AGENT_REPORT_REASON_MAX,
} VtAgentReportReason;

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
        VtAgentReportReason reason;
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
 *               VT_AGENT_INTERVAL_MIN..VT_AGENT_INTERVAL_MAX); 0 otherwise
 */
typedef struct {
        VtAgentRequestType type;
        uint32_t interval_ms;
} VtAgentRequest;

const char *vt_agent_report_reason_to_string(VtAgentReportReason reason);

char *vt_agent_report_build(const VtAgentSample *sample, const VtAgentReportMeta *meta);
char *vt_agent_hello_build(uint64_t seq, uint32_t interval_ms, bool psi_trigger);
bool vt_agent_request_parse(const char *line, size_t len, VtAgentRequest *ret_request);
