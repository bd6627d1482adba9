/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bidirectional stream of JSON objects on a GLib main context. */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

G_BEGIN_DECLS

#define VT_QMP_CHANNEL_DEFAULT_MAX_OUTPUT (4u * 1024 * 1024)
#define VT_QMP_CHANNEL_DEFAULT_MAX_READ   (64u * 1024)

typedef struct _VtQmpChannel VtQmpChannel;

/**
 * VtQmpChannelHandlers:
 * @message: a complete JSON object arrived (transfer none)
 * @malformed: (nullable): malformed input was dropped; the channel goes on
 * @closed: the peer went away or broke the connection; called at most
 *     once, and never after vt_qmp_channel_close(). The error is
 *     %VT_QMP_ERROR_DISCONNECTED when the peer went away,
 *     %VT_QMP_ERROR_PROTOCOL when the channel closed it for staying over
 *     its budget
 * @throttled: (nullable): the peer went over its budget and reading is
 *     paused for @pause_us; called at the start of each run of reads over
 *     the budget, not at each pause of the run
 *
 * What the owner of a channel is told. Handlers may send, close the
 * channel or drop their reference to it.
 */
typedef struct {
        void (*message)(VtQmpChannel *channel, json_object *message, gpointer user_data);
        void (*malformed)(VtQmpChannel *channel, const GError *error, gpointer user_data);
        void (*closed)(VtQmpChannel *channel, const GError *error, gpointer user_data);
        void (*throttled)(VtQmpChannel *channel, gint64 pause_us, gpointer user_data);
} VtQmpChannelHandlers;

/**
 * VtQmpChannelBudget:
 * @max_read: most bytes read from the peer in one wake-up; 0 for
 *     %VT_QMP_CHANNEL_DEFAULT_MAX_READ
 * @rate: bytes a second the peer may send, sustained; 0 for no budget
 * @burst: bytes it may send at once; 0 for one second's worth. Raised to
 *     the largest message plus @max_read, so that a message within the
 *     bounds always passes without a pause
 * @overhead: bytes charged on top for each read and for each message or
 *     malformed piece: what they cost beyond their bytes
 * @max_over_us: how long the peer may stay over its budget, reading after
 *     reading, before the channel closes it; 0 to only pause reading
 *
 * The most a peer may make the channel read and parse: a token bucket of
 * @burst bytes refilled at @rate. Past it the channel stops reading until
 * the bucket holds @max_read bytes again, leaving what the peer sends in
 * the kernel, so that a peer that keeps sending blocks on a full socket.
 * The CPU a peer costs is thus bounded by what parsing @rate bytes and
 * @rate / @overhead messages a second costs.
 */
typedef struct {
        gsize max_read;
        gsize rate;
        gsize burst;
        gsize overhead;
        gint64 max_over_us;
} VtQmpChannelBudget;

/**
 * VtQmpChannelLimits:
 * @max_message: largest message accepted from the peer, in bytes
 * @max_depth: deepest nesting accepted from the peer
 * @max_values: most values in one message from the peer
 * @max_output: most bytes queued for a peer that does not read; past it
 *     the channel is closed
 * @budget: the most the peer may make the channel read; all zeros for no
 *     budget (64 KiB read per wake-up, as fast as the peer sends)
 *
 * Bounds on what a peer can make the channel hold. Zero means the default.
 */
typedef struct {
        gsize max_message;
        guint max_depth;
        gsize max_values;
        gsize max_output;
        VtQmpChannelBudget budget;
} VtQmpChannelLimits;

/**
 * VtQmpChannelStats:
 * @n_bytes: bytes read from the peer
 * @n_reads: reads that returned data, at most one per wake-up
 * @max_read: the most bytes one read returned
 * @n_pauses: times reading paused because the peer was over its budget
 *
 * What the peer made the channel do.
 */
typedef struct {
        guint64 n_bytes;
        guint64 n_reads;
        gsize max_read;
        guint64 n_pauses;
} VtQmpChannelStats;

VtQmpChannel *vt_qmp_channel_new(GIOStream *stream, const VtQmpChannelLimits *limits,
                                 const VtQmpChannelHandlers *handlers, gpointer user_data,
                                 GMainContext *context);
VtQmpChannel *vt_qmp_channel_ref(VtQmpChannel *channel);
void vt_qmp_channel_unref(VtQmpChannel *channel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtQmpChannel, vt_qmp_channel_unref)

gboolean vt_qmp_channel_send(VtQmpChannel *channel, json_object *message, GError **error);
void vt_qmp_channel_close(VtQmpChannel *channel);
gboolean vt_qmp_channel_is_closed(VtQmpChannel *channel);
guint64 vt_qmp_channel_get_n_malformed(VtQmpChannel *channel);
void vt_qmp_channel_get_stats(VtQmpChannel *channel, VtQmpChannelStats *ret_stats);

G_END_DECLS
