/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host side of a guest's agent channel: connect, validate, tell. */
#pragma once

#include <gio/gio.h>

#include "host/agent-channel/agent-channel-report.h"

G_BEGIN_DECLS

#define VT_AGENT_READER_RATE_PER_S     20 /* lines a second a guest may send */
#define VT_AGENT_READER_BURST          40 /* ... in bursts of this many */
#define VT_AGENT_READER_STALE_FACTOR   3  /* missed intervals before stale */
#define VT_AGENT_READER_BACKOFF_MIN_US (100 * 1000)
#define VT_AGENT_READER_BACKOFF_MAX_US (5 * G_USEC_PER_SEC)

#define VT_TYPE_AGENT_READER (vt_agent_reader_get_type())
G_DECLARE_FINAL_TYPE(VtAgentReader, vt_agent_reader, VT, AGENT_READER, GObject)

/**
 * VtAgentReaderCounters:
 * @n_lines: lines received
 * @n_reports: reports accepted
 * @n_hellos: hellos accepted
 * @n_malformed: lines that were not JSON objects within the bounds
 * @n_invalid: objects that broke the protocol
 * @n_backwards: reports whose counters went backwards
 * @n_rate_limited: lines dropped because the guest sent too many
 * @n_connects: connections made
 */
typedef struct {
        guint64 n_lines;
        guint64 n_reports;
        guint64 n_hellos;
        guint64 n_malformed;
        guint64 n_invalid;
        guint64 n_backwards;
        guint64 n_rate_limited;
        guint64 n_connects;
} VtAgentReaderCounters;

VtAgentReader *vt_agent_reader_new(const char *path);
void vt_agent_reader_start(VtAgentReader *reader);
void vt_agent_reader_stop(VtAgentReader *reader);

gboolean vt_agent_reader_is_connected(VtAgentReader *reader);
const VtAgentReport *vt_agent_reader_get_report(VtAgentReader *reader);
gboolean vt_agent_reader_is_stale(VtAgentReader *reader, gint64 now_us);
const VtAgentReaderCounters *vt_agent_reader_get_counters(VtAgentReader *reader);
const char *vt_agent_reader_get_path(VtAgentReader *reader);

gboolean vt_agent_reader_request_report(VtAgentReader *reader, GError **error);
gboolean vt_agent_reader_set_interval(VtAgentReader *reader, guint interval_ms, GError **error);

G_END_DECLS
