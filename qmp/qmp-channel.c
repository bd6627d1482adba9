/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bidirectional stream of JSON objects on a GLib main context.
 *
 * Theory of operation: the channel owns a pollable GIOStream (a socket
 * connection). A pollable source on the input side reads whatever is there,
 * feeds the framer and hands each complete object to the owner. Sends are
 * serialized into an output buffer and written without blocking; whatever
 * the socket does not take at once waits for an output source. This is the
 * part of QMP that both sides share: the client to QEMU builds on it, and
 * so will the daemon's control socket.
 *
 * Failures of the peer (EOF, reset, a write error, a peer that stops
 * reading while output piles up past the bound) close the channel and are
 * reported once through the closed handler. When the failure is found
 * inside vt_qmp_channel_send(), the report is deferred to an idle source so
 * the owner is never re-entered from its own call.
 *
 * What a peer costs is bounded by its budget (VtQmpChannelBudget): each
 * wake-up reads at most max_read bytes, and each read, message and
 * malformed piece is charged to a token bucket. When the bucket is empty
 * the input source is dropped and a timer brings it back once the bucket
 * holds a full read again; meanwhile the peer's data waits in the kernel.
 * A run of reads over the budget starts at the first pause and ends at a
 * read that finds the kernel's buffer drained (the peer stopped); a peer
 * whose run lasts max_over_us is closed as a protocol error, which its
 * owner may answer with a reconnection after a backoff.
 */
#include "qmp/qmp-channel.h"

#include "qmp/qmp-error.h"
#include "qmp/qmp-framer.h"
#include "vt-source.h"

/* Flush the output buffer's head once this much was written. */
#define QMP_CHANNEL_COMPACT_SIZE (64 * 1024)

struct _VtQmpChannel {
        grefcount ref;
        GIOStream *stream;
        GPollableInputStream *input;
        GPollableOutputStream *output;
        GMainContext *context;
        VtQmpFramer *framer;
        VtQmpChannelHandlers handlers;
        gpointer user_data;

        GSource *input_source;
        GSource *output_source;
        GSource *report_source; /* deferred report of a failure found in send() */
        GByteArray *output_buffer;
        gsize output_pos;
        gsize max_output;

        gboolean closed;
        guint64 n_truncated; /* messages cut short by the peer closing */
        GError *close_error; /* the failure awaiting its deferred report */

        VtQmpChannelBudget budget; /* defaults resolved; rate 0: none */
        double tokens;             /* bytes the peer may still send; < 0: in debt */
        gint64 tokens_us;          /* when @tokens was last refilled */
        gint64 over_since_us;      /* start of the run over the budget; 0: none */
        GSource *resume_source;    /* brings reading back after a pause */
        VtQmpChannelStats stats;
};

static gboolean channel_on_readable(GObject *stream, gpointer user_data);

/* (Re)starts reading: a pollable source on the input side. */
static void
channel_watch_input(VtQmpChannel *channel)
{
        channel->input_source = g_pollable_input_stream_create_source(channel->input, NULL);
        g_source_set_callback(channel->input_source, G_SOURCE_FUNC(channel_on_readable), channel,
                              NULL);
        g_source_set_static_name(channel->input_source, "vt-qmp-channel-input");
        g_source_attach(channel->input_source, channel->context);
}

/* Resolves the budget's defaults against the bound on one message. */
static void
channel_set_budget(VtQmpChannel *channel, const VtQmpChannelLimits *limits)
{
        VtQmpChannelBudget *budget = &channel->budget;
        gsize max_message =
            limits->max_message > 0 ? limits->max_message : VT_QMP_FRAMER_DEFAULT_MAX_MESSAGE;

        *budget = limits->budget;
        if (budget->max_read == 0)
                budget->max_read = VT_QMP_CHANNEL_DEFAULT_MAX_READ;
        if (budget->rate == 0)
                return;
        if (budget->burst == 0)
                budget->burst = budget->rate;
        budget->burst = MAX(budget->burst, max_message + budget->max_read);
        channel->tokens = (double)budget->burst;
        channel->tokens_us = g_get_monotonic_time();
}

/**
 * vt_qmp_channel_new:
 * @stream: a connected stream whose input and output are pollable
 * @limits: (nullable): bounds on the peer, %NULL for the defaults (and
 *     no budget)
 * @handlers: what to call on messages, malformed input and closure
 * @user_data: passed to the handlers
 * @context: (nullable): the main context to run on, %NULL for the
 *     thread-default one
 *
 * Starts reading at once.
 *
 * Returns: (transfer full): a new channel
 */
VtQmpChannel *
vt_qmp_channel_new(GIOStream *stream, const VtQmpChannelLimits *limits,
                   const VtQmpChannelHandlers *handlers, gpointer user_data, GMainContext *context)
{
        static const VtQmpChannelLimits defaults = {0};
        VtQmpChannel *channel;

        g_return_val_if_fail(G_IS_IO_STREAM(stream), NULL);
        g_return_val_if_fail(handlers != NULL && handlers->message != NULL, NULL);
        g_return_val_if_fail(G_IS_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(stream)),
                             NULL);
        g_return_val_if_fail(G_IS_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(stream)),
                             NULL);

        if (limits == NULL)
                limits = &defaults;
        channel = g_new0(VtQmpChannel, 1);
        g_ref_count_init(&channel->ref);
        channel->stream = g_object_ref(stream);
        channel->input = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(stream));
        channel->output = G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(stream));
        channel->context =
            context != NULL ? g_main_context_ref(context) : g_main_context_ref_thread_default();
        channel->framer =
            vt_qmp_framer_new(limits->max_message, limits->max_depth, limits->max_values);
        channel->handlers = *handlers;
        channel->user_data = user_data;
        channel->output_buffer = g_byte_array_new();
        channel->max_output =
            limits->max_output > 0 ? limits->max_output : VT_QMP_CHANNEL_DEFAULT_MAX_OUTPUT;
        channel_set_budget(channel, limits);
        channel_watch_input(channel);
        return channel;
}

/**
 * vt_qmp_channel_ref:
 * @channel: a channel
 *
 * Returns: (transfer full): @channel
 */
VtQmpChannel *
vt_qmp_channel_ref(VtQmpChannel *channel)
{
        g_return_val_if_fail(channel != NULL, NULL);
        g_ref_count_inc(&channel->ref);
        return channel;
}

/* Stops all I/O. No handler is called after this. */
static void
channel_shutdown(VtQmpChannel *channel)
{
        channel->closed = TRUE;
        vt_source_clear(&channel->input_source);
        vt_source_clear(&channel->resume_source);
        vt_source_clear(&channel->output_source);
        if (!g_io_stream_is_closed(channel->stream))
                g_io_stream_close(channel->stream, NULL, NULL);
}

/**
 * vt_qmp_channel_unref:
 * @channel: (nullable): a channel
 *
 * Drops a reference; the last one closes the channel without calling the
 * closed handler.
 */
void
vt_qmp_channel_unref(VtQmpChannel *channel)
{
        if (channel == NULL || !g_ref_count_dec(&channel->ref))
                return;
        channel_shutdown(channel);
        vt_source_clear(&channel->report_source);
        g_clear_error(&channel->close_error);
        g_byte_array_unref(channel->output_buffer);
        vt_qmp_framer_free(channel->framer);
        g_main_context_unref(channel->context);
        g_object_unref(channel->stream);
        g_free(channel);
}

/* The peer failed: close and tell the owner, from a channel source. */
static void
channel_fail(VtQmpChannel *channel, GError *error)
{
        g_autoptr(GError) owned = error;

        if (channel->closed)
                return;
        channel_shutdown(channel);
        if (channel->handlers.closed != NULL)
                channel->handlers.closed(channel, owned, channel->user_data);
}

static gboolean
channel_on_report(gpointer user_data)
{
        VtQmpChannel *channel = user_data;
        g_autoptr(GError) error = g_steal_pointer(&channel->close_error);

        g_clear_pointer(&channel->report_source, g_source_unref);
        if (channel->handlers.closed != NULL)
                channel->handlers.closed(channel, error, channel->user_data);
        return G_SOURCE_REMOVE;
}

/* The peer failed while the owner was calling us: close now, tell later. */
static void
channel_fail_deferred(VtQmpChannel *channel, GError *error)
{
        if (channel->closed) {
                g_error_free(error);
                return;
        }
        channel_shutdown(channel);
        channel->close_error = error;
        channel->report_source = g_idle_source_new();
        g_source_set_callback(channel->report_source, channel_on_report, channel, NULL);
        g_source_set_static_name(channel->report_source, "vt-qmp-channel-report");
        g_source_attach(channel->report_source, channel->context);
}

/* The peer closed in the middle of a message: that message is lost. */
static void
channel_report_truncated(VtQmpChannel *channel)
{
        g_autoptr(GError) error = g_error_new_literal(
            VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL, "connection closed in the middle of a message");

        channel->n_truncated++;

        if (channel->handlers.malformed != NULL)
                channel->handlers.malformed(channel, error, channel->user_data);
}

/* Adds what the budget earned since the last refill, up to the burst. */
static void
channel_refill(VtQmpChannel *channel, gint64 now_us)
{
        double earned;

        if (channel->budget.rate == 0 || now_us <= channel->tokens_us)
                return;
        earned =
            (double)(now_us - channel->tokens_us) * (double)channel->budget.rate / G_USEC_PER_SEC;
        channel->tokens = MIN(channel->tokens + earned, (double)channel->budget.burst);
        channel->tokens_us = now_us;
}

static void
channel_charge(VtQmpChannel *channel, gsize bytes)
{
        if (channel->budget.rate > 0)
                channel->tokens -= (double)(bytes + channel->budget.overhead);
}

static gboolean
channel_on_resume(gpointer user_data)
{
        VtQmpChannel *channel = user_data;

        g_clear_pointer(&channel->resume_source, g_source_unref);
        channel_watch_input(channel);
        return G_SOURCE_REMOVE;
}

/*
 * The bucket is empty: stop reading until it holds a full read again. A
 * peer that stayed over its budget for max_over_us is closed instead.
 */
static void
channel_pause(VtQmpChannel *channel, gint64 now_us)
{
        const VtQmpChannelBudget *budget = &channel->budget;
        double missing = (double)budget->max_read - channel->tokens;
        gint64 pause_us = (gint64)(missing * G_USEC_PER_SEC / (double)budget->rate) + 1;

        if (channel->over_since_us == 0) {
                channel->over_since_us = now_us;
                if (channel->handlers.throttled != NULL)
                        channel->handlers.throttled(channel, pause_us, channel->user_data);
                if (channel->closed)
                        return;
        } else if (budget->max_over_us > 0 &&
                   now_us - channel->over_since_us >= budget->max_over_us) {
                channel_fail(channel, g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                                  "sent more than its budget of %" G_GSIZE_FORMAT
                                                  " bytes/s for %.1f s: closed",
                                                  budget->rate,
                                                  (double)(now_us - channel->over_since_us) /
                                                      G_USEC_PER_SEC));
                return;
        }
        channel->stats.n_pauses++;
        vt_source_clear(&channel->input_source);
        channel->resume_source =
            g_timeout_source_new((guint)MIN((pause_us + 999) / 1000, G_MAXUINT));
        g_source_set_callback(channel->resume_source, channel_on_resume, channel, NULL);
        g_source_set_static_name(channel->resume_source, "vt-qmp-channel-resume");
        g_source_attach(channel->resume_source, channel->context);
}

/* Hands every complete message pushed so far to the owner. */
static void
channel_dispatch(VtQmpChannel *channel)
{
        while (!channel->closed) {
                json_object *message = NULL;
                g_autoptr(GError) malformed = NULL;

                switch (vt_qmp_framer_next(channel->framer, &message, &malformed)) {
                case VT_QMP_FRAMER_NEED_MORE:
                        return;
                case VT_QMP_FRAMER_MALFORMED:
                        channel_charge(channel, 0);
                        if (channel->handlers.malformed != NULL)
                                channel->handlers.malformed(channel, malformed, channel->user_data);
                        break;
                case VT_QMP_FRAMER_MESSAGE:
                default:
                        channel_charge(channel, 0);
                        channel->handlers.message(channel, message, channel->user_data);
                        json_object_put(message);
                        break;
                }
        }
}

/* The peer closed its end: what it left unfinished is lost. */
static void
channel_on_eof(VtQmpChannel *channel)
{
        if (vt_qmp_framer_has_partial(channel->framer))
                channel_report_truncated(channel);
        if (!channel->closed)
                channel_fail(channel, g_error_new_literal(VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                                          "connection closed by peer"));
}

static gboolean
channel_on_readable(GObject *stream, gpointer user_data)
{
        g_autoptr(VtQmpChannel) channel = vt_qmp_channel_ref(user_data);
        g_autoptr(GError) error = NULL;
        g_autofree guint8 *buffer = NULL;
        gint64 now_us = g_get_monotonic_time();
        gsize want = channel->budget.max_read;
        gssize n;

        channel_refill(channel, now_us);
        if (channel->budget.rate > 0)
                want = (gsize)MIN((double)want, MAX(channel->tokens, 1.0));
        buffer = g_malloc(want);
        n = g_pollable_input_stream_read_nonblocking(channel->input, buffer, want, NULL, &error);
        if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                channel->over_since_us = 0;
                return G_SOURCE_CONTINUE;
        }
        if (n < 0) {
                channel_fail(channel, g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                                  "connection lost: %s", error->message));
                return G_SOURCE_REMOVE;
        }
        if (n == 0) {
                channel_on_eof(channel);
                return G_SOURCE_REMOVE;
        }

        channel->stats.n_bytes += (guint64)n;
        channel->stats.n_reads++;
        channel->stats.max_read = MAX(channel->stats.max_read, (gsize)n);
        channel_charge(channel, (gsize)n);
        vt_qmp_framer_push(channel->framer, buffer, (gsize)n);
        channel_dispatch(channel);
        if (channel->closed)
                return G_SOURCE_REMOVE;
        if (channel->budget.rate > 0 && channel->tokens <= 0) {
                channel_pause(channel, now_us);
                return G_SOURCE_REMOVE;
        }
        /* A short read drained the kernel's buffer: the peer is not streaming. */
        if ((gsize)n < want)
                channel->over_since_us = 0;
        return G_SOURCE_CONTINUE;
}

static gboolean channel_on_writable(GObject *stream, gpointer user_data);

/* Writes what the socket takes now; the rest waits for an output source. */
static void
channel_flush(VtQmpChannel *channel)
{
        while (channel->output_pos < channel->output_buffer->len) {
                g_autoptr(GError) error = NULL;
                gssize n = g_pollable_output_stream_write_nonblocking(
                    channel->output, channel->output_buffer->data + channel->output_pos,
                    channel->output_buffer->len - channel->output_pos, NULL, &error);

                if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                        if (channel->output_source == NULL) {
                                channel->output_source =
                                    g_pollable_output_stream_create_source(channel->output, NULL);
                                g_source_set_callback(channel->output_source,
                                                      G_SOURCE_FUNC(channel_on_writable), channel,
                                                      NULL);
                                g_source_set_static_name(channel->output_source,
                                                         "vt-qmp-channel-output");
                                g_source_attach(channel->output_source, channel->context);
                        }
                        return;
                }
                if (n < 0) {
                        channel_fail_deferred(channel,
                                              g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                                          "connection lost: %s", error->message));
                        return;
                }
                channel->output_pos += (gsize)n;
                /* A peer that reads just behind us must not let the buffer grow. */
                if (channel->output_pos >= QMP_CHANNEL_COMPACT_SIZE ||
                    channel->output_pos > channel->output_buffer->len / 2) {
                        g_byte_array_remove_range(channel->output_buffer, 0,
                                                  (guint)channel->output_pos);
                        channel->output_pos = 0;
                }
        }
        g_byte_array_set_size(channel->output_buffer, 0);
        channel->output_pos = 0;
        vt_source_clear(&channel->output_source);
}

static gboolean
channel_on_writable(GObject *stream, gpointer user_data)
{
        VtQmpChannel *channel = user_data;
        GSource *source = g_source_ref(channel->output_source);
        gboolean pending;

        channel_flush(channel);
        /* channel_flush() destroyed this source if it is done with it. */
        pending = !g_source_is_destroyed(source);
        g_source_unref(source);
        return pending ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/**
 * vt_qmp_channel_send:
 * @channel: a channel
 * @message: (transfer none): the object to send
 * @error: %VT_QMP_ERROR_DISCONNECTED if the channel is closed
 *
 * Queues @message, followed by CRLF as QEMU does, and writes what the
 * socket takes without blocking. A failure found while writing closes the
 * channel and is reported later through the closed handler. A peer that
 * lets more than the output bound pile up fails the send and closes the
 * channel, which is reported later too.
 *
 * Returns: %TRUE if @message was queued
 */
gboolean
vt_qmp_channel_send(VtQmpChannel *channel, json_object *message, GError **error)
{
        const char *text;
        size_t len;

        g_return_val_if_fail(channel != NULL, FALSE);
        g_return_val_if_fail(message != NULL, FALSE);

        if (channel->closed) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                    "connection is closed");
                return FALSE;
        }
        text = json_object_to_json_string_ext(message, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        len = strlen(text);
        if (channel->output_buffer->len - channel->output_pos + len + 2 > channel->max_output) {
                GError *overflow =
                    g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                "peer is not reading: more than %" G_GSIZE_FORMAT " bytes queued",
                                channel->max_output);

                channel_fail_deferred(channel, g_error_copy(overflow));
                g_propagate_error(error, overflow);
                return FALSE;
        }
        g_byte_array_append(channel->output_buffer, (const guint8 *)text, (guint)len);
        g_byte_array_append(channel->output_buffer, (const guint8 *)"\r\n", 2);
        if (channel->output_source == NULL)
                channel_flush(channel);
        return TRUE;
}

/**
 * vt_qmp_channel_close:
 * @channel: a channel
 *
 * Closes the connection. Idempotent; no handler is called afterwards, not
 * even a closed handler whose report was pending.
 */
void
vt_qmp_channel_close(VtQmpChannel *channel)
{
        g_return_if_fail(channel != NULL);
        channel_shutdown(channel);
        vt_source_clear(&channel->report_source);
        g_clear_error(&channel->close_error);
}

/**
 * vt_qmp_channel_is_closed:
 * @channel: a channel
 *
 * Returns: %TRUE once the channel is closed, by either side
 */
gboolean
vt_qmp_channel_is_closed(VtQmpChannel *channel)
{
        g_return_val_if_fail(channel != NULL, TRUE);
        return channel->closed;
}

/**
 * vt_qmp_channel_get_n_malformed:
 * @channel: a channel
 *
 * Returns: how many malformed, oversized or truncated messages the peer
 *     sent
 */
guint64
vt_qmp_channel_get_n_malformed(VtQmpChannel *channel)
{
        g_return_val_if_fail(channel != NULL, 0);
        return vt_qmp_framer_get_n_malformed(channel->framer) + channel->n_truncated;
}

/**
 * vt_qmp_channel_get_stats:
 * @channel: a channel
 * @ret_stats: (out): what the peer made the channel read so far
 */
void
vt_qmp_channel_get_stats(VtQmpChannel *channel, VtQmpChannelStats *ret_stats)
{
        g_return_if_fail(channel != NULL);
        g_return_if_fail(ret_stats != NULL);
        *ret_stats = channel->stats;
}
