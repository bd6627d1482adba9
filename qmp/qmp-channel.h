/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bidirectional stream of JSON objects on a GLib main context. */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

G_BEGIN_DECLS

#define VT_QMP_CHANNEL_DEFAULT_MAX_OUTPUT (4u * 1024 * 1024)

typedef struct _VtQmpChannel VtQmpChannel;

/**
 * VtQmpChannelHandlers:
 * @message: a complete JSON object arrived (transfer none)
 * @malformed: (nullable): malformed input was dropped; the channel goes on
 * @closed: the peer went away or broke the connection; called at most
 *     once, and never after vt_qmp_channel_close()
 *
 * What the owner of a channel is told. Handlers may send, close the
 * channel or drop their reference to it.
 */
typedef struct {
        void (*message)(VtQmpChannel *channel, json_object *message, gpointer user_data);
        void (*malformed)(VtQmpChannel *channel, const GError *error, gpointer user_data);
        void (*closed)(VtQmpChannel *channel, const GError *error, gpointer user_data);
} VtQmpChannelHandlers;

/**
 * VtQmpChannelLimits:
 * @max_message: largest message accepted from the peer, in bytes
 * @max_depth: deepest nesting accepted from the peer
 * @max_values: most values in one message from the peer
 * @max_output: most bytes queued for a peer that does not read; past it
 *     the channel is closed
 *
 * Bounds on what a peer can make the channel hold. Zero means the default.
 */
typedef struct {
        gsize max_message;
        guint max_depth;
        gsize max_values;
        gsize max_output;
} VtQmpChannelLimits;

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

G_END_DECLS
