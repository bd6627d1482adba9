/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the control server and its client sessions share: the server's state. */
#pragma once

#include <sys/types.h>

#include "host/control/control-server.h"
#include "vt-source.h"

G_BEGIN_DECLS

/**
 * VtControlCommand:
 * @handler: runs a command that answers during its call
 * @async_handler: starts one that answers later, instead of @handler
 * @user_data: for the handler
 *
 * A command registered with vt_control_server_add_command() or
 * vt_control_server_add_async_command().
 */
typedef struct {
        VtControlHandler handler;
        VtControlAsyncHandler async_handler;
        gpointer user_data;
} VtControlCommand;

/* One connection, from its greeting to its closure (control-client.c). */
typedef struct _VtControlClient VtControlClient;

struct _VtControlServer {
        char *path;
        dev_t dev; /* the socket file we made, to remove only that one */
        ino_t ino;
        GMainContext *context;
        GSocket *socket;
        GSource *accept_source;
        GSource *backoff_source;
        json_object *greeting;

        GHashTable *commands; /* name → VtControlCommand, owned */
        GQueue clients;       /* VtControlClient *, owned */
        guint n_negotiated;
        guint64 next_client;
        guint64 n_malformed;
        guint64 n_refused;
};

VtControlClient *vt_control_client_new(VtControlServer *server, GSocket *socket);
void vt_control_client_free(VtControlClient *client);
void vt_control_client_send_event(VtControlClient *client, json_object *event);

G_END_DECLS
