/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's control socket: QMP framing, commands the daemon registers, events. */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

/* The socket's default path, error classes and codes, commands, events. */
#include "vt-control-protocol.h"

G_BEGIN_DECLS

/* Bounds on what one client can make the daemon hold. */
#define VT_CONTROL_SERVER_MAX_MESSAGE (64u * 1024)
#define VT_CONTROL_SERVER_MAX_DEPTH   16
#define VT_CONTROL_SERVER_MAX_VALUES  4096
#define VT_CONTROL_SERVER_MAX_OUTPUT  (1024u * 1024)
#define VT_CONTROL_SERVER_MAX_CLIENTS 32
/* A client that has not sent `qmp_capabilities` this long after it
 * connected is closed; a negotiated one silent this long may lose its
 * slot to a newcomer when all are taken. */
#define VT_CONTROL_SERVER_NEGOTIATE_TIMEOUT_MS 5000u
/* A warning a client can make repeat (refused, closed, dropped) is logged
 * at most once per this interval, the rest counted in one summary line. */
#define VT_CONTROL_SERVER_LOG_INTERVAL_MS 10000u
/* Requests a client may send while a reply to it is outstanding, in bytes
 * of JSON (each request also counts VT_CONTROL_SERVER_QUEUED_OVERHEAD). */
#define VT_CONTROL_SERVER_MAX_QUEUED      (1024u * 1024)
#define VT_CONTROL_SERVER_QUEUED_OVERHEAD 64u

/* The domain of the VtControlError codes (vt-control-protocol.h) a command
 * handler may return; each is sent as the error class it names. Errors of
 * any other domain are sent as `GenericError`, with their message as
 * `desc`. */
#define VT_CONTROL_ERROR (vt_control_error_quark())

GQuark vt_control_error_quark(void);
const char *vt_control_error_to_class(const GError *error);
void vt_control_set_error_guest_not_found(GError **error, const char *name);

typedef struct _VtControlServer VtControlServer;

/**
 * VtControlHandler:
 * @server: the server
 * @arguments: (nullable): the request's `arguments` object, %NULL when
 *     there were none; valid during the call
 * @user_data: as given to vt_control_server_add_command()
 * @error: why the command failed, in %VT_CONTROL_ERROR or any domain
 *
 * Runs one command. Handlers run on the server's main context; they must
 * not iterate it (the client could be dropped meanwhile) nor free the
 * server. They may emit events.
 *
 * Returns: (transfer full): the `return` value (any JSON value, usually
 *     an object), or %NULL with @error set
 */
typedef json_object *(*VtControlHandler)(VtControlServer *server, json_object *arguments,
                                         gpointer user_data, GError **error);

/**
 * VtControlReply:
 *
 * The reply a command that answers later owes its client. Opaque; it is
 * freed by vt_control_reply_return() or vt_control_reply_return_error().
 */
typedef struct _VtControlReply VtControlReply;

/**
 * VtControlAsyncHandler:
 * @server: the server
 * @arguments: (nullable): the request's `arguments` object, %NULL when
 *     there were none; valid during the call only
 * @reply: (transfer full): where the answer goes
 * @user_data: as given to vt_control_server_add_async_command()
 *
 * Starts a command that answers later. The handler, or what it sets
 * going, must hand @reply to exactly one of vt_control_reply_return() or
 * vt_control_reply_return_error(), during the call or later on the
 * server's main context. Until then the client's further requests wait,
 * so its replies keep the order of its requests; events still reach it,
 * and other clients are served. During the call the rules of
 * #VtControlHandler apply.
 */
typedef void (*VtControlAsyncHandler)(VtControlServer *server, json_object *arguments,
                                      VtControlReply *reply, gpointer user_data);

VtControlServer *vt_control_server_new(const char *path, guint mode, GError **error);
void vt_control_server_free(VtControlServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtControlServer, vt_control_server_free)

void vt_control_server_add_command(VtControlServer *server, const char *name,
                                   VtControlHandler handler, gpointer user_data);
void vt_control_server_add_async_command(VtControlServer *server, const char *name,
                                         VtControlAsyncHandler handler, gpointer user_data);
void vt_control_reply_return(VtControlReply *reply, json_object *ret);
void vt_control_reply_return_error(VtControlReply *reply, GError *error);
void vt_control_server_emit_event(VtControlServer *server, const char *name, json_object *data);

const char *vt_control_server_get_path(VtControlServer *server);
guint vt_control_server_get_n_clients(VtControlServer *server);
guint vt_control_server_get_n_negotiated(VtControlServer *server);
guint64 vt_control_server_get_n_malformed(VtControlServer *server);
guint64 vt_control_server_get_n_refused(VtControlServer *server);
guint64 vt_control_server_get_n_closed(VtControlServer *server);
void vt_control_server_set_negotiate_timeout(VtControlServer *server, guint timeout_ms);
void vt_control_server_set_log_interval(VtControlServer *server, guint interval_ms);

G_END_DECLS
