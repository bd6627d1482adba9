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

/**
 * VtControlWarning:
 * @what: the kind, plural, for the summary line: "connections refused"
 * @last_us: when a line of this kind was last logged; 0 for never
 * @n_held: how many came since that line, not logged yet
 * @last_reason: (nullable): the latest of those
 * @flush_source: (nullable): logs their summary when the interval ends
 *
 * A warning a client can make repeat, logged once and then summarised
 * (control-warning.c).
 */
typedef struct {
        const char *what;
        gint64 last_us;
        guint64 n_held;
        char *last_reason;
        GSource *flush_source;
} VtControlWarning;

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
        guint64 n_closed;

        guint negotiate_timeout_ms; /* VT_CONTROL_SERVER_NEGOTIATE_TIMEOUT_MS */
        guint log_interval_ms;      /* VT_CONTROL_SERVER_LOG_INTERVAL_MS */
        VtControlWarning refused;   /* connections refused: every slot busy */
        VtControlWarning closed;    /* clients the server closed, and why */
        VtControlWarning dropped;   /* requests dropped or rejected */
};

VtControlClient *vt_control_client_new(VtControlServer *server, GSocket *socket);
void vt_control_client_free(VtControlClient *client);
void vt_control_client_send_event(VtControlClient *client, json_object *event);
gboolean vt_control_client_make_room(VtControlServer *server, gint64 now_us);
char *vt_control_client_describe_peer(GSocket *socket, guint64 serial);

void vt_control_warning_log(VtControlServer *server, VtControlWarning *warning, gint64 now_us,
                            const char *format, ...) G_GNUC_PRINTF(4, 5);
void vt_control_warning_clear(VtControlServer *server, VtControlWarning *warning);

G_END_DECLS
