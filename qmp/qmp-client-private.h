/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QMP client's state, shared by its files (qmp-client*.c) alone. */
#pragma once

#include "qmp/qmp-client.h"
#include "qmp/qmp-peer-log.h"

G_BEGIN_DECLS

/* Where the client is in its one connection's life. */
typedef enum {
        CLIENT_IDLE,
        CLIENT_CONNECTING,
        CLIENT_GREETING,
        CLIENT_NEGOTIATING,
        CLIENT_READY,
        CLIENT_CLOSED,
} ClientState;

/* One client, one connection in its life (the theory is in qmp-client.c). */
struct _VtQmpClient {
        GObject parent_instance;

        GMainContext *context;
        ClientState state;
        gint64 timeout_us;
        gsize max_message;

        char *address;
        VtQmpChannel *channel;
        GTask *connect_task;
        GCancellable *connect_cancellable;
        GSource *connect_timeout;
        VtQmpGreeting *greeting;
        GPid peer_pid; /* SO_PEERCRED of a Unix socket; 0 when unknown */

        GHashTable *pending; /* id (gint64 *) → QmpPending, owned */
        gint64 next_id;
        guint64 n_dropped;

        VtQmpChannelBudget budget;
        VtQmpChannelStats stats; /* of the channel, kept when it closes */
        VtQmpPeerLog *log;       /* what the peer made us drop; from connect on */
};

G_END_DECLS
