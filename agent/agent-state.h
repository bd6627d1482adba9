/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The running agent's state, and what its files (main, loop, port, requests) share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent-report.h"
#include "vt-agent-protocol.h"

#define VT_AGENT_PORT_DIR       "/dev/virtio-ports/"
#define VT_AGENT_SAMPLE_MS_MIN  100
#define VT_AGENT_DROP_WINDOW_US INT64_C(1000000) /* a drop is a fall within this */
/* Samples in the drop window, at most. */
#define VT_AGENT_DROP_WINDOW (VT_AGENT_DROP_WINDOW_US / 1000 / VT_AGENT_SAMPLE_MS_MIN)

/**
 * VtAgent - The agent: its options and everything it keeps between wakeups.
 *
 * One per process, owned by main(); the loop (agent-loop.c), the port
 * (agent-port.c) and the host's requests (agent-request.c) work on it.
 */
typedef struct {
        /* Options. */
        const char *port_path;
        const char *proc_root;
        const char *sys_root;
        const char *psi_trigger; /* NULL: no trigger */
        unsigned drop_percent;   /* 0: no drop detection */
        bool verbose;

        /* State kept across host disconnections. */
        uint32_t interval_ms;
        uint64_t seq; /* of the last line sent */
        uint64_t dropped_requests;

        /* The port. */
        int port_fd;         /* -1: not open */
        int port_open_errno; /* last open() failure logged, so each cause is logged once */
        bool host_connected;
        bool port_blocked; /* the last write would have blocked: wait for POLLOUT */
        char in[VT_AGENT_LINE_MAX];
        size_t in_len;
        bool in_overflow;
        char *out; /* the rest of a line cut by a short write */
        size_t out_off;
        size_t out_len;
        bool want_hello;
        bool want_report;
        VtAgentReason want_reason;
        bool sample_failed; /* logged once until a sample works again */

        /* PSI trigger. */
        int psi_fd; /* -1: none */
        int64_t last_pressure_us;
        bool pressure_pending;

        /* Timers, CLOCK_MONOTONIC µs. */
        int64_t next_tick_us;
        int64_t next_periodic_us;
        int64_t tick_us;
        /* MemAvailable at the last ticks of the past second, oldest first. */
        uint64_t window[VT_AGENT_DROP_WINDOW];
        unsigned window_len;
} VtAgent;

/* agent-main.c */
void vt_agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t vt_agent_now_us(void);

/* agent-loop.c */
int vt_agent_run(VtAgent *agent);

/* agent-port.c */
int vt_agent_port_open(VtAgent *agent);
void vt_agent_port_close(VtAgent *agent, const char *why);
void vt_agent_port_check_host(VtAgent *agent, int64_t now);
void vt_agent_port_flush(VtAgent *agent);
void vt_agent_port_read(VtAgent *agent, int64_t now);
void vt_agent_host_set_lost(VtAgent *agent, const char *why);
void vt_agent_queue_report(VtAgent *agent, VtAgentReason reason);
char *vt_agent_sample_report(VtAgent *agent);

/* agent-request.c */
void vt_agent_input_handle(VtAgent *agent, const char *data, size_t len, int64_t now);
