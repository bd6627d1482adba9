/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of a guest's agent channel.
 *
 * Theory of operation: the reader connects to the Unix socket QEMU (or
 * libvirt) serves for the guest's `org.vmtide.agent.0` port and reads one
 * JSON line at a time through a VtQmpChannel bounded to the protocol's
 * 4096 bytes and depth 8. The guest is untrusted: every line passes a rate
 * limit (a token bucket of VT_AGENT_READER_BURST lines refilled at
 * VT_AGENT_READER_RATE_PER_S a second) and vt_agent_report_parse(); what
 * fails is dropped and counted, and the connection goes on.
 *
 * Lines are counted after they are read and parsed, so the line limit
 * alone does not bound what a guest costs: the channel's byte budget does
 * (VT_AGENT_READER_BUDGET_*). A guest over it is paused, its data left in
 * the kernel; one that stays over it for _MAX_OVER_US is disconnected, and
 * the reconnection waits a penalty (VT_AGENT_READER_PENALTY_MIN_US,
 * doubling to _MAX_US while the guest keeps at it) instead of the usual
 * backoff. Drops, pauses and closures are logged at warning level once
 * and then summarised (qmp/qmp-peer-log.c): a hostile guest costs the log
 * a few lines a minute.
 *
 * The latest valid report is kept, with the host time it arrived. A report
 * older than VT_AGENT_READER_STALE_FACTOR of the agent's intervals is
 * stale: vt_agent_reader_is_stale() says so, and "stale" is emitted once
 * when it happens. A report the agent pushed because of pressure (reason
 * `pressure` or `drop`) is also emitted as "pressure", which is what lets
 * the daemon react within a second instead of at its next tick.
 *
 * When the socket is missing, refuses or closes (QEMU restarted, the guest
 * migrated away), the reader reconnects with exponential backoff between
 * VT_AGENT_READER_BACKOFF_MIN_US and _MAX_US, keeping the last report.
 */
#include "host/agent-channel/agent-channel-reader.h"

#include <gio/gunixsocketaddress.h>

#include "qmp/qmp-channel.h"
#include "qmp/qmp-error.h"
#include "qmp/qmp-peer-log.h"
#include "vt-autocleanups.h"
#include "vt-source.h"

struct _VtAgentReader {
        GObject parent_instance;

        char *path;
        GMainContext *context;
        gboolean running;

        GSocketClient *socket_client;
        GCancellable *connect_cancellable;
        VtQmpChannel *channel;
        GSource *reconnect_source;
        gint64 backoff_us;

        VtQmpChannelBudget budget;
        gint64 penalty_min_us;
        gint64 penalty_max_us;
        gint64 penalty_us;      /* the next penalty */
        VtQmpChannelStats past; /* of the connections closed so far */
        VtQmpPeerLog *log;

        VtAgentReport report;   /* the latest valid report; seq 0: none yet */
        gboolean have_baseline; /* compare the next report with @report */
        gboolean stale_emitted;
        GSource *stale_source;

        double tokens;
        gint64 tokens_us;

        VtAgentReaderCounters counters;
};

enum {
        SIGNAL_REPORT,
        SIGNAL_PRESSURE,
        SIGNAL_HELLO,
        SIGNAL_STALE,
        SIGNAL_CONNECTED,
        SIGNAL_DISCONNECTED,
        SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST];

G_DEFINE_FINAL_TYPE(VtAgentReader, vt_agent_reader, G_TYPE_OBJECT)

static void reader_connect(VtAgentReader *reader);

static GSource *
reader_add_timeout(VtAgentReader *reader, gint64 delay_us, GSourceFunc func)
{
        GSource *source = g_timeout_source_new((guint)MIN((delay_us + 999) / 1000, G_MAXUINT));

        g_source_set_callback(source, func, reader, NULL);
        g_source_attach(source, reader->context);
        return source;
}

/* Token bucket: TRUE if the guest may send one more line now. */
static gboolean
reader_take_token(VtAgentReader *reader, gint64 now_us)
{
        double refill =
            (double)(now_us - reader->tokens_us) * VT_AGENT_READER_RATE_PER_S / G_USEC_PER_SEC;

        reader->tokens = MIN(reader->tokens + refill, (double)VT_AGENT_READER_BURST);
        reader->tokens_us = now_us;
        if (reader->tokens < 1.0)
                return FALSE;
        reader->tokens -= 1.0;
        return TRUE;
}

static gboolean
reader_on_stale(gpointer user_data)
{
        VtAgentReader *reader = user_data;

        g_clear_pointer(&reader->stale_source, g_source_unref);
        if (!reader->stale_emitted) {
                reader->stale_emitted = TRUE;
                vt_qmp_peer_log_add(reader->log, G_LOG_LEVEL_MESSAGE, "silences",
                                    "agent sent no report for %u intervals: stale",
                                    VT_AGENT_READER_STALE_FACTOR);
                g_signal_emit(reader, signals[SIGNAL_STALE], 0);
        }
        return G_SOURCE_REMOVE;
}

static void
reader_arm_stale(VtAgentReader *reader)
{
        vt_source_clear(&reader->stale_source);
        reader->stale_emitted = FALSE;
        reader->stale_source = reader_add_timeout(
            reader, (gint64)reader->report.interval_ms * 1000 * VT_AGENT_READER_STALE_FACTOR,
            reader_on_stale);
}

static void
reader_on_message(VtQmpChannel *channel, json_object *object, gpointer user_data)
{
        VtAgentReader *reader = user_data;
        g_autoptr(GError) error = NULL;
        gint64 now_us = g_get_monotonic_time();
        VtAgentReport report = {0};

        reader->counters.n_lines++;
        if (!reader_take_token(reader, now_us)) {
                reader->counters.n_rate_limited++;
                vt_qmp_peer_log_add(
                    reader->log, G_LOG_LEVEL_WARNING, "lines over the rate limit dropped",
                    "more than %u lines/s: line dropped", VT_AGENT_READER_RATE_PER_S);
                return;
        }
        if (!vt_agent_report_parse(object, reader->have_baseline ? &reader->report : NULL, &report,
                                   &error)) {
                if (g_error_matches(error, VT_AGENT_ERROR, VT_AGENT_ERROR_BACKWARDS))
                        reader->counters.n_backwards++;
                else
                        reader->counters.n_invalid++;
                vt_qmp_peer_log_add(reader->log, G_LOG_LEVEL_WARNING, "invalid lines dropped",
                                    "line dropped: %s", error->message);
                return;
        }
        report.received_us = now_us;

        g_object_ref(reader);
        if (report.kind == VT_AGENT_MESSAGE_HELLO) {
                /* The agent (re)started: its seq and counters start over. */
                reader->counters.n_hellos++;
                reader->have_baseline = FALSE;
                g_signal_emit(reader, signals[SIGNAL_HELLO], 0, &report);
                vt_agent_report_clear(&report);
                g_object_unref(reader);
                return;
        }
        vt_agent_report_clear(&reader->report);
        reader->report = report;
        reader->have_baseline = TRUE;
        reader->counters.n_reports++;
        reader_arm_stale(reader);
        g_signal_emit(reader, signals[SIGNAL_REPORT], 0, &reader->report);
        if (reader->report.reason == VT_AGENT_REASON_PRESSURE ||
            reader->report.reason == VT_AGENT_REASON_DROP)
                g_signal_emit(reader, signals[SIGNAL_PRESSURE], 0, &reader->report);
        g_object_unref(reader);
}

static void
reader_on_malformed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        VtAgentReader *reader = user_data;

        reader->counters.n_lines++;
        reader->counters.n_malformed++;
        vt_qmp_peer_log_add(reader->log, G_LOG_LEVEL_WARNING, "malformed lines dropped", "%s",
                            error->message);
}

static void
reader_on_throttled(VtQmpChannel *channel, gint64 pause_us, gpointer user_data)
{
        VtAgentReader *reader = user_data;

        vt_qmp_peer_log_add(reader->log, G_LOG_LEVEL_WARNING, "runs over the budget",
                            "over its budget of %" G_GSIZE_FORMAT " bytes/s: reading paused",
                            reader->budget.rate);
}

/* Adds what a closing channel read to the reader's totals. */
static void
reader_keep_stats(VtAgentReader *reader)
{
        VtQmpChannelStats stats;

        vt_qmp_channel_get_stats(reader->channel, &stats);
        reader->past.n_bytes += stats.n_bytes;
        reader->past.n_reads += stats.n_reads;
        reader->past.max_read = MAX(reader->past.max_read, stats.max_read);
        reader->past.n_pauses += stats.n_pauses;
}

static gboolean
reader_on_reconnect(gpointer user_data)
{
        VtAgentReader *reader = user_data;

        g_clear_pointer(&reader->reconnect_source, g_source_unref);
        reader_connect(reader);
        return G_SOURCE_REMOVE;
}

static void
reader_schedule_reconnect(VtAgentReader *reader, gint64 delay_us)
{
        if (!reader->running || reader->reconnect_source != NULL)
                return;
        reader->reconnect_source = reader_add_timeout(reader, delay_us, reader_on_reconnect);
}

static void
reader_on_closed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        VtAgentReader *reader = user_data;
        gint64 delay_us = reader->backoff_us;

        if (g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL)) {
                /* The channel closed a guest that stayed over its budget. */
                reader->counters.n_over_budget++;
                delay_us = reader->penalty_us;
                reader->penalty_us = MIN(reader->penalty_us * 2, reader->penalty_max_us);
                vt_qmp_peer_log_add(reader->log, G_LOG_LEVEL_WARNING, "connections closed",
                                    "%s; reconnecting in %.1f s", error->message,
                                    (double)delay_us / G_USEC_PER_SEC);
        } else {
                reader->penalty_us = reader->penalty_min_us;
                reader->backoff_us = MIN(reader->backoff_us * 2, VT_AGENT_READER_BACKOFF_MAX_US);
                /* Said at the default level, but a guest that reconnects in
                 * a loop costs one line per interval. */
                vt_qmp_peer_log_add(reader->log, G_LOG_LEVEL_MESSAGE, "disconnects",
                                    "agent disconnected: %s; reconnecting in %.1f s",
                                    error != NULL ? error->message : "closed",
                                    (double)delay_us / G_USEC_PER_SEC);
        }
        reader_keep_stats(reader);
        g_clear_pointer(&reader->channel, vt_qmp_channel_unref);
        g_object_ref(reader);
        g_signal_emit(reader, signals[SIGNAL_DISCONNECTED], 0, error);
        reader_schedule_reconnect(reader, delay_us);
        g_object_unref(reader);
}

static const VtQmpChannelHandlers reader_channel_handlers = {
    .message = reader_on_message,
    .malformed = reader_on_malformed,
    .closed = reader_on_closed,
    .throttled = reader_on_throttled,
};

static void
reader_on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtAgentReader) reader = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketConnection) connection =
            g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
        const VtQmpChannelLimits limits = {
            .max_message = VT_AGENT_LINE_MAX - 1,
            .max_depth = VT_AGENT_LINE_MAX_DEPTH,
            .max_output = 64 * 1024,
            .budget = reader->budget,
        };

        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return;
        g_clear_object(&reader->connect_cancellable);
        if (connection == NULL) {
                g_debug("agent '%s': cannot connect: %s", reader->path, error->message);
                reader_schedule_reconnect(reader, reader->backoff_us);
                reader->backoff_us = MIN(reader->backoff_us * 2, VT_AGENT_READER_BACKOFF_MAX_US);
                return;
        }
        reader->counters.n_connects++;
        reader->backoff_us = VT_AGENT_READER_BACKOFF_MIN_US;
        reader->channel = vt_qmp_channel_new(G_IO_STREAM(connection), &limits,
                                             &reader_channel_handlers, reader, reader->context);
        g_signal_emit(reader, signals[SIGNAL_CONNECTED], 0);
}

static void
reader_connect(VtAgentReader *reader)
{
        g_autoptr(GSocketAddress) address = g_unix_socket_address_new(reader->path);

        reader->connect_cancellable = g_cancellable_new();
        g_main_context_push_thread_default(reader->context);
        g_socket_client_connect_async(reader->socket_client, G_SOCKET_CONNECTABLE(address),
                                      reader->connect_cancellable, reader_on_connected,
                                      g_object_ref(reader));
        g_main_context_pop_thread_default(reader->context);
}

/**
 * vt_agent_reader_new:
 * @path: the host side of the guest's agent port, a Unix socket
 *
 * Returns: (transfer full): a reader bound to the thread-default main
 *     context; call vt_agent_reader_start()
 */
VtAgentReader *
vt_agent_reader_new(const char *path)
{
        g_autofree char *log_peer = NULL;
        VtAgentReader *reader;

        g_return_val_if_fail(path != NULL, NULL);

        reader = g_object_new(VT_TYPE_AGENT_READER, NULL);
        reader->path = g_strdup(path);
        log_peer = g_strdup_printf("agent '%s'", path);
        reader->log = vt_qmp_peer_log_new(G_LOG_DOMAIN, log_peer, reader->context);
        return reader;
}

/**
 * vt_agent_reader_start:
 * @reader: a reader
 *
 * Connects, and keeps reconnecting whenever the connection is lost or
 * cannot be made, until vt_agent_reader_stop().
 */
void
vt_agent_reader_start(VtAgentReader *reader)
{
        g_return_if_fail(VT_IS_AGENT_READER(reader));

        if (reader->running)
                return;
        reader->running = TRUE;
        reader->backoff_us = VT_AGENT_READER_BACKOFF_MIN_US;
        reader_connect(reader);
}

/**
 * vt_agent_reader_stop:
 * @reader: a reader
 *
 * Disconnects and stops reconnecting; the last report is kept. No signal
 * is emitted afterwards.
 */
void
vt_agent_reader_stop(VtAgentReader *reader)
{
        g_return_if_fail(VT_IS_AGENT_READER(reader));

        reader->running = FALSE;
        if (reader->connect_cancellable != NULL)
                g_cancellable_cancel(reader->connect_cancellable);
        g_clear_object(&reader->connect_cancellable);
        if (reader->log != NULL)
                vt_qmp_peer_log_flush(reader->log);
        if (reader->channel != NULL) {
                reader_keep_stats(reader);
                vt_qmp_channel_close(reader->channel);
                g_clear_pointer(&reader->channel, vt_qmp_channel_unref);
        }
        vt_source_clear(&reader->reconnect_source);
        vt_source_clear(&reader->stale_source);
}

/**
 * vt_agent_reader_is_connected:
 * @reader: a reader
 *
 * Returns: %TRUE while connected to the socket (which says nothing of
 *     whether an agent runs in the guest: see vt_agent_reader_is_stale())
 */
gboolean
vt_agent_reader_is_connected(VtAgentReader *reader)
{
        g_return_val_if_fail(VT_IS_AGENT_READER(reader), FALSE);
        return reader->channel != NULL;
}

/**
 * vt_agent_reader_get_report:
 * @reader: a reader
 *
 * Returns: (transfer none) (nullable): the latest valid report, with the
 *     host time it arrived, or %NULL before the first
 */
const VtAgentReport *
vt_agent_reader_get_report(VtAgentReader *reader)
{
        g_return_val_if_fail(VT_IS_AGENT_READER(reader), NULL);
        return reader->report.seq > 0 ? &reader->report : NULL;
}

/**
 * vt_agent_reader_is_stale:
 * @reader: a reader
 * @now_us: the monotonic time to judge at
 *
 * Returns: %TRUE if there is no report, or the latest is older than
 *     VT_AGENT_READER_STALE_FACTOR of the agent's intervals
 */
gboolean
vt_agent_reader_is_stale(VtAgentReader *reader, gint64 now_us)
{
        g_return_val_if_fail(VT_IS_AGENT_READER(reader), TRUE);

        if (reader->report.seq == 0)
                return TRUE;
        return now_us - reader->report.received_us >
               (gint64)reader->report.interval_ms * 1000 * VT_AGENT_READER_STALE_FACTOR;
}

/**
 * vt_agent_reader_get_counters:
 * @reader: a reader
 *
 * Returns: (transfer none): what the reader has seen so far, its read
 *     counters brought up to date
 */
const VtAgentReaderCounters *
vt_agent_reader_get_counters(VtAgentReader *reader)
{
        VtQmpChannelStats now = {0};

        g_return_val_if_fail(VT_IS_AGENT_READER(reader), NULL);

        if (reader->channel != NULL)
                vt_qmp_channel_get_stats(reader->channel, &now);
        reader->counters.n_bytes = reader->past.n_bytes + now.n_bytes;
        reader->counters.n_reads = reader->past.n_reads + now.n_reads;
        reader->counters.max_read = MAX(reader->past.max_read, now.max_read);
        reader->counters.n_pauses = reader->past.n_pauses + now.n_pauses;
        return &reader->counters;
}

/**
 * vt_agent_reader_set_budget:
 * @reader: a reader
 * @budget: what the guest may make the reader read, from the next
 *     connection on (the defaults are VT_AGENT_READER_BUDGET_*)
 * @penalty_min_us: the wait before reconnecting to a guest closed for
 *     staying over @budget, > 0
 * @penalty_max_us: what that wait doubles up to while the guest keeps at
 *     it, at least @penalty_min_us
 */
void
vt_agent_reader_set_budget(VtAgentReader *reader, const VtQmpChannelBudget *budget,
                           gint64 penalty_min_us, gint64 penalty_max_us)
{
        g_return_if_fail(VT_IS_AGENT_READER(reader));
        g_return_if_fail(budget != NULL);
        g_return_if_fail(penalty_min_us > 0 && penalty_max_us >= penalty_min_us);

        reader->budget = *budget;
        reader->penalty_min_us = reader->penalty_us = penalty_min_us;
        reader->penalty_max_us = penalty_max_us;
}

/**
 * vt_agent_reader_get_path:
 * @reader: a reader
 *
 * Returns: the socket path
 */
const char *
vt_agent_reader_get_path(VtAgentReader *reader)
{
        g_return_val_if_fail(VT_IS_AGENT_READER(reader), NULL);
        return reader->path;
}

static gboolean
reader_send(VtAgentReader *reader, json_object *request, GError **error)
{
        if (reader->channel == NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                            "agent socket '%s' is not connected", reader->path);
                return FALSE;
        }
        return vt_qmp_channel_send(reader->channel, request, error);
}

static json_object *
reader_new_request(const char *type)
{
        json_object *request = json_object_new_object();

        json_object_object_add(request, VT_AGENT_KEY_VERSION,
                               json_object_new_int(VT_AGENT_PROTOCOL_VERSION));
        json_object_object_add(request, VT_AGENT_KEY_TYPE, json_object_new_string(type));
        return request;
}

/**
 * vt_agent_reader_request_report:
 * @reader: a connected reader
 * @error: %G_IO_ERROR_NOT_CONNECTED, or the channel's error
 *
 * Asks the agent for a report now (`report-now`).
 *
 * Returns: %TRUE if the request was queued
 */
gboolean
vt_agent_reader_request_report(VtAgentReader *reader, GError **error)
{
        g_autoptr(json_object) request = reader_new_request(VT_AGENT_TYPE_REPORT_NOW);

        g_return_val_if_fail(VT_IS_AGENT_READER(reader), FALSE);
        return reader_send(reader, request, error);
}

/**
 * vt_agent_reader_set_interval:
 * @reader: a connected reader
 * @interval_ms: the agent's new periodic interval, 100 … 3,600,000 ms
 * @error: %G_IO_ERROR_NOT_CONNECTED, or the channel's error
 *
 * Returns: %TRUE if the request was queued
 */
gboolean
vt_agent_reader_set_interval(VtAgentReader *reader, guint interval_ms, GError **error)
{
        g_autoptr(json_object) request = reader_new_request(VT_AGENT_TYPE_SET_INTERVAL);

        g_return_val_if_fail(VT_IS_AGENT_READER(reader), FALSE);
        g_return_val_if_fail(interval_ms >= VT_AGENT_INTERVAL_MIN_MS &&
                                 interval_ms <= VT_AGENT_INTERVAL_MAX_MS,
                             FALSE);

        json_object_object_add(request, VT_AGENT_KEY_INTERVAL_MS,
                               json_object_new_int64(interval_ms));
        return reader_send(reader, request, error);
}

static void
vt_agent_reader_dispose(GObject *object)
{
        vt_agent_reader_stop(VT_AGENT_READER(object));
        G_OBJECT_CLASS(vt_agent_reader_parent_class)->dispose(object);
}

static void
vt_agent_reader_finalize(GObject *object)
{
        VtAgentReader *reader = VT_AGENT_READER(object);

        vt_agent_report_clear(&reader->report);
        vt_qmp_peer_log_free(reader->log);
        g_clear_object(&reader->socket_client);
        g_main_context_unref(reader->context);
        g_free(reader->path);
        G_OBJECT_CLASS(vt_agent_reader_parent_class)->finalize(object);
}

static void
vt_agent_reader_init(VtAgentReader *reader)
{
        reader->context = g_main_context_ref_thread_default();
        reader->socket_client = g_socket_client_new();
        reader->tokens = VT_AGENT_READER_BURST;
        reader->tokens_us = g_get_monotonic_time();
        reader->budget = (VtQmpChannelBudget){
            .max_read = VT_AGENT_READER_BUDGET_MAX_READ,
            .rate = VT_AGENT_READER_BUDGET_RATE,
            .burst = VT_AGENT_READER_BUDGET_BURST,
            .overhead = VT_AGENT_READER_BUDGET_OVERHEAD,
            .max_over_us = VT_AGENT_READER_BUDGET_MAX_OVER_US,
        };
        reader->penalty_min_us = reader->penalty_us = VT_AGENT_READER_PENALTY_MIN_US;
        reader->penalty_max_us = VT_AGENT_READER_PENALTY_MAX_US;
}

static void
vt_agent_reader_class_init(VtAgentReaderClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = vt_agent_reader_dispose;
        object_class->finalize = vt_agent_reader_finalize;

        /**
         * VtAgentReader::report:
         * @reader: the reader
         * @report: (type gpointer): the new `const VtAgentReport *`
         */
        signals[SIGNAL_REPORT] = g_signal_new("report", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                              0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
        /**
         * VtAgentReader::pressure:
         * @reader: the reader
         * @report: (type gpointer): the report the agent pushed because of
         *     pressure or a fast drop of MemAvailable
         *
         * Emitted after "report" for such reports.
         */
        signals[SIGNAL_PRESSURE] =
            g_signal_new("pressure", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
        /**
         * VtAgentReader::hello:
         * @reader: the reader
         * @hello: (type gpointer): the agent's `const VtAgentReport *` hello
         */
        signals[SIGNAL_HELLO] = g_signal_new("hello", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
        /**
         * VtAgentReader::stale:
         * @reader: the reader
         *
         * Emitted once when the latest report grows stale.
         */
        signals[SIGNAL_STALE] = g_signal_new("stale", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 0);
        signals[SIGNAL_CONNECTED] =
            g_signal_new("connected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 0);
        /**
         * VtAgentReader::disconnected:
         * @reader: the reader
         * @error: why the connection was lost; the reader reconnects
         */
        signals[SIGNAL_DISCONNECTED] =
            g_signal_new("disconnected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}
