/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host side of a guest's agent channel: connect, validate, tell. */
#pragma once

#include <gio/gio.h>

#include "host/agent-channel/agent-channel-report.h"
#include "qmp/qmp-channel.h"

G_BEGIN_DECLS

#define VT_AGENT_READER_RATE_PER_S     20 /* lines a second a guest may send */
#define VT_AGENT_READER_BURST          40 /* ... in bursts of this many */
#define VT_AGENT_READER_STALE_FACTOR   3  /* missed intervals before stale */
#define VT_AGENT_READER_BACKOFF_MIN_US (100 * 1000)
#define VT_AGENT_READER_BACKOFF_MAX_US (5 * G_USEC_PER_SEC)

/*
 * What a guest's agent may make the host read (docs/agent-protocol.md): an
 * agent sends a few lines of a few hundred bytes a second, a hundredth of
 * the rate. One that stays over it for _MAX_OVER_US is disconnected and
 * reconnected after a penalty, doubling while it goes on.
 */
#define VT_AGENT_READER_BUDGET_MAX_READ    (16 * 1024)
#define VT_AGENT_READER_BUDGET_RATE        (32 * 1024) /* bytes a second */
#define VT_AGENT_READER_BUDGET_BURST       (64 * 1024)
#define VT_AGENT_READER_BUDGET_OVERHEAD    128 /* bytes charged per read and line */
#define VT_AGENT_READER_BUDGET_MAX_OVER_US (10 * G_USEC_PER_SEC)
#define VT_AGENT_READER_PENALTY_MIN_US     (30 * G_USEC_PER_SEC)
#define VT_AGENT_READER_PENALTY_MAX_US     (10 * 60 * G_USEC_PER_SEC)

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
 * @n_bytes: bytes read from the guest
 * @n_reads: reads that returned data, one per wake-up at most
 * @max_read: the most bytes one read returned
 * @n_pauses: times reading paused because the guest was over its budget
 * @n_over_budget: connections closed because the guest stayed over it
 *
 * The read counters (@n_bytes … @n_pauses) are as of the latest call to
 * vt_agent_reader_get_counters(); the others are always current.
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
        guint64 n_bytes;
        guint64 n_reads;
        gsize max_read;
        guint64 n_pauses;
        guint64 n_over_budget;
} VtAgentReaderCounters;

VtAgentReader *vt_agent_reader_new(const char *path);
void vt_agent_reader_start(VtAgentReader *reader);
void vt_agent_reader_stop(VtAgentReader *reader);
void vt_agent_reader_set_budget(VtAgentReader *reader, const VtQmpChannelBudget *budget,
                                gint64 penalty_min_us, gint64 penalty_max_us);

gboolean vt_agent_reader_is_connected(VtAgentReader *reader);
const VtAgentReport *vt_agent_reader_get_report(VtAgentReader *reader);
gboolean vt_agent_reader_is_stale(VtAgentReader *reader, gint64 now_us);
const VtAgentReaderCounters *vt_agent_reader_get_counters(VtAgentReader *reader);
const char *vt_agent_reader_get_path(VtAgentReader *reader);

gboolean vt_agent_reader_request_report(VtAgentReader *reader, GError **error);
gboolean vt_agent_reader_set_interval(VtAgentReader *reader, guint interval_ms, GError **error);

G_END_DECLS
