/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One client of vmtided's control socket: negotiation, its requests run in
 * order, the replies it is owed, the error classes they carry.
 *
 * Theory of operation: each client is a VtQmpChannel bounded to the
 * protocol's limits; it gets the greeting at once, must send
 * `qmp_capabilities`, and then its commands run one message at a time, so
 * replies leave in the order the requests came. Events go to every client
 * past negotiation (control-server.c sends them through here).
 *
 * Most commands answer during their call. An asynchronous one (a balloon
 * move that QEMU must accept first) gets a VtControlReply and answers
 * later; until it does, its client's further input is kept, in order, and
 * run from an idle source once the reply has left. The channel keeps
 * reading, so the kept input is bounded (VT_CONTROL_SERVER_MAX_QUEUED,
 * stored as JSON text: a parsed request can take many times its size);
 * a client past the bound is disconnected. Events are not held back. A
 * reply whose client (or server) went away is orphaned: it points to no
 * client any more, and returning it just frees it.
 *
 * Clients are untrusted (the socket may be opened to a group): nothing a
 * client sends reaches an assertion. Malformed, oversized or too deep
 * input is dropped and counted by the channel, and answered with a
 * `GenericError` without id, as QEMU does, so an interactive user sees
 * what went wrong. A client that stops reading is cut off by the
 * channel's output bound; a client that vanishes is dropped when its
 * channel reports the closure. Neither touches the other clients.
 *
 * Slots are bounded (VT_CONTROL_SERVER_MAX_CLIENTS), so no client may
 * keep one that it does not use: a client that has not negotiated within
 * the server's negotiation timeout is closed, and when every slot is
 * taken a newcomer gets the slot of the oldest client that has not
 * negotiated yet or, failing that, of the one silent longest, if it has
 * been silent for the negotiation timeout and owes no reply
 * (vt_control_client_make_room()). What the server drops or closes is
 * logged at warning level, summarised when it repeats (control-warning.c).
 */
#include "host/control/control-private.h"

#include <string.h>

#include "qmp/qmp-channel.h"
#include "qmp/qmp-message.h"
#include "vt-autocleanups.h"

/* clang-format off */
G_DEFINE_QUARK(vt-control-error-quark, vt_control_error)
/* clang-format on */

/* Input that came while a reply was outstanding: a request or, for input
 * that was dropped, the error to answer it with. */
typedef struct {
        char *text; /* the request as JSON, or the error's desc */
        gboolean malformed;
        gsize cost; /* what it counts against VT_CONTROL_SERVER_MAX_QUEUED */
} ControlQueued;

struct _VtControlClient {
        VtControlServer *server;
        VtQmpChannel *channel;
        char *peer; /* for the log: "#3 (pid 42, uid 0)" */
        gboolean negotiated;
        gint64 connected_us;       /* monotonic */
        gint64 last_input_us;      /* monotonic: a request, or garbage */
        GSource *negotiate_source; /* closes it if it has not negotiated in time */

        VtControlReply *pending; /* the reply outstanding, or NULL */
        GQueue queued;           /* ControlQueued *, owned, oldest first */
        gsize queued_bytes;
        GSource *resume_source; /* runs @queued once @pending left */
};

struct _VtControlReply {
        VtControlClient *client; /* NULL once the client or the server is gone */
        char *name;              /* the command, for the log */
        json_object *id;         /* echoed; a reference */
};

static const char *const control_error_classes[VT_CONTROL_ERROR_MAX] = {
    [VT_CONTROL_ERROR_GENERIC] = VT_CONTROL_CLASS_GENERIC,
    [VT_CONTROL_ERROR_COMMAND_NOT_FOUND] = VT_CONTROL_CLASS_COMMAND_NOT_FOUND,
    [VT_CONTROL_ERROR_GUEST_NOT_FOUND] = VT_CONTROL_CLASS_GUEST_NOT_FOUND,
};

/**
 * vt_control_error_to_class:
 * @error: an error a command failed with
 *
 * Returns: the QMP class to send for @error: its own for the
 *     %VT_CONTROL_ERROR domain, `GenericError` for any other
 */
const char *
vt_control_error_to_class(const GError *error)
{
        g_return_val_if_fail(error != NULL, control_error_classes[VT_CONTROL_ERROR_GENERIC]);

        if (error->domain == VT_CONTROL_ERROR && error->code >= 0 &&
            error->code < VT_CONTROL_ERROR_MAX)
                return control_error_classes[error->code];
        return control_error_classes[VT_CONTROL_ERROR_GENERIC];
}

/**
 * vt_control_set_error_guest_not_found:
 * @error: (nullable): where to put the error
 * @name: the guest name asked for
 *
 * Sets %VT_CONTROL_ERROR_GUEST_NOT_FOUND with the wording the CLI shows
 * as is: `no guest named 'NAME'`.
 */
void
vt_control_set_error_guest_not_found(GError **error, const char *name)
{
        g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GUEST_NOT_FOUND,
                    "no guest named '%s'", name != NULL ? name : "");
}

static void
control_queued_free(gpointer data)
{
        ControlQueued *queued = data;

        g_free(queued->text);
        g_free(queued);
}

/**
 * vt_control_client_free:
 * @client: a client, already out of its server's list
 *
 * Closes its connection. An outstanding reply is orphaned.
 */
void
vt_control_client_free(VtControlClient *client)
{
        /* An outstanding reply outlives us: returning it frees it. */
        if (client->pending != NULL)
                client->pending->client = NULL;
        vt_source_clear(&client->resume_source);
        vt_source_clear(&client->negotiate_source);
        g_queue_clear_full(&client->queued, control_queued_free);
        vt_qmp_channel_close(client->channel);
        vt_qmp_channel_unref(client->channel);
        g_free(client->peer);
        g_free(client);
}

/* Queues @message (transfer full) for @client; a client already cut off
 * is dropped by its closed handler, so a failure needs nothing more than
 * saying why, once: a send to an open channel fails only past its output
 * bound, which closes it. */
static void
control_client_send(VtControlClient *client, json_object *message)
{
        g_autoptr(json_object) owned = message;
        g_autoptr(GError) error = NULL;
        VtControlServer *server = client->server;

        if (vt_qmp_channel_is_closed(client->channel)) {
                g_debug("control client %s: message dropped: connection closed", client->peer);
                return;
        }
        if (!vt_qmp_channel_send(client->channel, owned, &error)) {
                server->n_closed++;
                vt_control_warning_log(server, &server->closed, g_get_monotonic_time(),
                                       "client %s disconnected: %s", client->peer, error->message);
        }
}

static void
control_client_send_error(VtControlClient *client, const char *error_class, const char *desc,
                          json_object *id)
{
        control_client_send(client, vt_qmp_message_new_error(error_class, desc, id));
}

/* The built-in `qmp_capabilities`. No optional capability is offered. */
static void
control_client_negotiate(VtControlClient *client, json_object *arguments, json_object *id)
{
        json_object *enable = NULL;

        if (arguments != NULL && json_object_object_get_ex(arguments, "enable", &enable) &&
            enable != NULL) {
                if (!json_object_is_type(enable, json_type_array)) {
                        control_client_send_error(client, VT_CONTROL_CLASS_GENERIC,
                                                  "Invalid parameter type for 'enable', expected: "
                                                  "array",
                                                  id);
                        return;
                }
                if (json_object_array_length(enable) > 0) {
                        json_object *first = json_object_array_get_idx(enable, 0);
                        g_autofree char *desc =
                            g_strdup_printf("Capability '%s' not available",
                                            json_object_is_type(first, json_type_string)
                                                ? json_object_get_string(first)
                                                : json_object_to_json_string(first));

                        control_client_send_error(client, VT_CONTROL_CLASS_GENERIC, desc, id);
                        return;
                }
        }
        client->negotiated = TRUE;
        client->server->n_negotiated++;
        vt_source_clear(&client->negotiate_source);
        g_debug("control client %s negotiated", client->peer);
        control_client_send(client, vt_qmp_message_new_return(NULL, id));
}

/* Forgets a client, e.g. one whose channel closed. */
static void
control_client_drop(VtControlClient *client)
{
        VtControlServer *server = client->server;

        g_queue_remove(&server->clients, client);
        if (client->negotiated)
                server->n_negotiated--;
        vt_control_client_free(client);
}

static void
control_client_run(VtControlClient *client, const char *name, json_object *arguments,
                   json_object *id)
{
        VtControlCommand *command = g_hash_table_lookup(client->server->commands, name);
        g_autoptr(GError) error = NULL;
        json_object *value;

        if (command == NULL) {
                g_autofree char *desc = g_strdup_printf("The command %s has not been found", name);

                control_client_send_error(client, VT_CONTROL_CLASS_COMMAND_NOT_FOUND, desc, id);
                return;
        }
        g_debug("control client %s: '%s'", client->peer, name);
        if (command->async_handler != NULL) {
                VtControlReply *reply = g_new0(VtControlReply, 1);

                reply->client = client;
                reply->name = g_strdup(name);
                reply->id = json_object_get(id);
                client->pending = reply;
                /* It may return @reply before it returns. */
                command->async_handler(client->server, arguments, reply, command->user_data);
                return;
        }
        value = command->handler(client->server, arguments, command->user_data, &error);
        if (value == NULL && error == NULL) {
                g_critical("control command '%s' failed without saying why", name);
                g_set_error(&error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                            "command '%s' failed", name);
        }
        if (value == NULL) {
                g_debug("control client %s: '%s' failed: %s", client->peer, name, error->message);
                control_client_send_error(client, vt_control_error_to_class(error), error->message,
                                          id);
                return;
        }
        control_client_send(client, vt_qmp_message_new_return(value, id));
        json_object_put(value);
}

/* Answers a request that breaks the protocol, and says so once. */
static void
control_client_reject(VtControlClient *client, const char *desc, json_object *id)
{
        VtControlServer *server = client->server;

        vt_control_warning_log(server, &server->dropped, g_get_monotonic_time(),
                               "client %s: request rejected: %s", client->peer, desc);
        control_client_send_error(client, VT_CONTROL_CLASS_GENERIC, desc, id);
}

/* Answers one request. */
static void
control_client_handle(VtControlClient *client, json_object *message)
{
        json_object *execute = NULL;
        json_object *arguments = NULL;
        json_object *id = NULL;
        const char *name;

        /* The channel hands over objects only. */
        json_object_object_get_ex(message, "id", &id);
        if (!json_object_object_get_ex(message, "execute", &execute)) {
                control_client_reject(client, "QMP input lacks member 'execute'", id);
                return;
        }
        if (!json_object_is_type(execute, json_type_string) ||
            strlen(json_object_get_string(execute)) !=
                (size_t)json_object_get_string_len(execute)) {
                control_client_reject(client, "QMP input member 'execute' must be a string", id);
                return;
        }
        if (json_object_object_get_ex(message, "arguments", &arguments) &&
            !json_object_is_type(arguments, json_type_object)) {
                control_client_reject(client, "QMP input member 'arguments' must be an object", id);
                return;
        }
        name = json_object_get_string(execute);

        if (!client->negotiated) {
                if (g_str_equal(name, VT_CONTROL_COMMAND_CAPABILITIES))
                        control_client_negotiate(client, arguments, id);
                else
                        control_client_send_error(
                            client, VT_CONTROL_CLASS_COMMAND_NOT_FOUND,
                            "Expecting capabilities negotiation with 'qmp_capabilities'", id);
                return;
        }
        if (g_str_equal(name, VT_CONTROL_COMMAND_CAPABILITIES)) {
                control_client_send_error(client, VT_CONTROL_CLASS_COMMAND_NOT_FOUND,
                                          "Capabilities negotiation is already complete, command "
                                          "ignored",
                                          id);
                return;
        }
        control_client_run(client, name, arguments, id);
}

/* Whether input must wait: a reply is outstanding, or older input is. */
static gboolean
control_client_is_busy(VtControlClient *client)
{
        return client->pending != NULL || !g_queue_is_empty(&client->queued);
}

/* Keeps input for later (@text: transfer full), or disconnects a client
 * that has sent too much meanwhile: @client may be freed on return. */
static void
control_client_queue(VtControlClient *client, char *text, gboolean malformed)
{
        ControlQueued *queued;
        gsize cost = strlen(text) + VT_CONTROL_SERVER_QUEUED_OVERHEAD;

        if (cost > VT_CONTROL_SERVER_MAX_QUEUED - client->queued_bytes) {
                VtControlServer *server = client->server;

                server->n_closed++;
                vt_control_warning_log(server, &server->closed, g_get_monotonic_time(),
                                       "client %s disconnected: more than %u bytes of requests "
                                       "behind an outstanding reply",
                                       client->peer, VT_CONTROL_SERVER_MAX_QUEUED);
                g_free(text);
                control_client_drop(client);
                return;
        }
        queued = g_new0(ControlQueued, 1);
        queued->text = text;
        queued->malformed = malformed;
        queued->cost = cost;
        client->queued_bytes += cost;
        g_queue_push_tail(&client->queued, queued);
}

static void
control_client_run_queued(VtControlClient *client, ControlQueued *queued)
{
        g_autoptr(json_object) message = NULL;

        if (queued->malformed) {
                control_client_send_error(client, VT_CONTROL_CLASS_GENERIC, queued->text, NULL);
                return;
        }
        /* Printed from a parsed object, within the limits: it parses. */
        message = json_tokener_parse(queued->text);
        if (message == NULL || !json_object_is_type(message, json_type_object)) {
                g_warning("control client %s: a kept request does not parse back", client->peer);
                control_client_send_error(client, VT_CONTROL_CLASS_GENERIC, "request lost", NULL);
                return;
        }
        control_client_handle(client, message);
}

static gboolean
control_on_resume(gpointer user_data)
{
        VtControlClient *client = user_data;
        ControlQueued *queued;

        g_clear_pointer(&client->resume_source, g_source_unref);
        /* A client whose channel broke is dropped from an idle of its own. */
        if (vt_qmp_channel_is_closed(client->channel))
                return G_SOURCE_REMOVE;
        /* Handlers neither iterate nor drop clients: @client stays. */
        while (client->pending == NULL && (queued = g_queue_pop_head(&client->queued)) != NULL) {
                client->queued_bytes -= queued->cost;
                control_client_run_queued(client, queued);
                control_queued_free(queued);
        }
        return G_SOURCE_REMOVE;
}

static void
control_on_message(VtQmpChannel *channel, json_object *message, gpointer user_data)
{
        VtControlClient *client = user_data;

        client->last_input_us = g_get_monotonic_time();
        if (control_client_is_busy(client)) {
                const char *text = json_object_to_json_string_ext(
                    message, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

                control_client_queue(client, g_strdup(text), FALSE);
                return;
        }
        control_client_handle(client, message);
}

static void
control_on_malformed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        VtControlClient *client = user_data;
        VtControlServer *server = client->server;

        client->last_input_us = g_get_monotonic_time();
        server->n_malformed++;
        vt_control_warning_log(server, &server->dropped, client->last_input_us,
                               "client %s: bad input: %s", client->peer, error->message);
        /* Its error takes its turn among the replies. */
        if (control_client_is_busy(client)) {
                control_client_queue(client, g_strdup(error->message), TRUE);
                return;
        }
        control_client_send_error(client, VT_CONTROL_CLASS_GENERIC, error->message, NULL);
}

static void
control_on_closed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        VtControlClient *client = user_data;

        g_debug("control client %s gone: %s", client->peer, error->message);
        control_client_drop(client);
}

static const VtQmpChannelHandlers control_channel_handlers = {
    .message = control_on_message,
    .malformed = control_on_malformed,
    .closed = control_on_closed,
};

static const VtQmpChannelLimits control_channel_limits = {
    .max_message = VT_CONTROL_SERVER_MAX_MESSAGE,
    .max_depth = VT_CONTROL_SERVER_MAX_DEPTH,
    .max_values = VT_CONTROL_SERVER_MAX_VALUES,
    .max_output = VT_CONTROL_SERVER_MAX_OUTPUT,
};

/**
 * vt_control_client_describe_peer:
 * @socket: a connection
 * @serial: its number, counted by the server
 *
 * Returns: (transfer full): "#N (pid P, uid U)", or "#N" when the kernel
 *     does not say, for the log
 */
char *
vt_control_client_describe_peer(GSocket *socket, guint64 serial)
{
        g_autoptr(GCredentials) credentials = g_socket_get_credentials(socket, NULL);
        pid_t pid;
        uid_t uid;

        if (credentials == NULL)
                return g_strdup_printf("#%" G_GUINT64_FORMAT, serial);
        pid = g_credentials_get_unix_pid(credentials, NULL);
        uid = g_credentials_get_unix_user(credentials, NULL);
        return g_strdup_printf("#%" G_GUINT64_FORMAT " (pid %ld, uid %ld)", serial, (long)pid,
                               (long)uid);
}

static gboolean
control_on_negotiate_timeout(gpointer user_data)
{
        VtControlClient *client = user_data;
        VtControlServer *server = client->server;

        g_clear_pointer(&client->negotiate_source, g_source_unref);
        server->n_closed++;
        vt_control_warning_log(server, &server->closed, g_get_monotonic_time(),
                               "client %s closed: no '%s' within %u ms", client->peer,
                               VT_CONTROL_COMMAND_CAPABILITIES, server->negotiate_timeout_ms);
        control_client_drop(client);
        return G_SOURCE_REMOVE;
}

/* The client a newcomer may replace, or NULL: the oldest that has not
 * negotiated (the list is oldest first), else the one silent longest if
 * it has been silent for the negotiation timeout and owes no reply. */
static VtControlClient *
control_client_find_idlest(VtControlServer *server, gint64 now_us)
{
        VtControlClient *idlest = NULL;

        for (GList *l = server->clients.head; l != NULL; l = l->next) {
                VtControlClient *client = l->data;

                if (!client->negotiated)
                        return client;
                if (!control_client_is_busy(client) &&
                    (idlest == NULL || client->last_input_us < idlest->last_input_us))
                        idlest = client;
        }
        if (idlest == NULL ||
            now_us - idlest->last_input_us < (gint64)server->negotiate_timeout_ms * 1000)
                return NULL;
        return idlest;
}

/**
 * vt_control_client_make_room:
 * @server: a server whose every slot is taken
 * @now_us: the monotonic time now
 *
 * Closes the client a newcomer may replace, if there is one: the oldest
 * that has not negotiated, else the one silent longest, if it has sent
 * nothing for the negotiation timeout and owes no reply. Says so, once.
 *
 * Returns: %TRUE if a client was closed
 */
gboolean
vt_control_client_make_room(VtControlServer *server, gint64 now_us)
{
        VtControlClient *client = control_client_find_idlest(server, now_us);

        if (client == NULL)
                return FALSE;
        server->n_closed++;
        if (client->negotiated)
                vt_control_warning_log(
                    server, &server->closed, now_us,
                    "client %s closed for a new one: silent for %" G_GINT64_FORMAT
                    " ms, every slot taken",
                    client->peer, (now_us - client->last_input_us) / 1000);
        else
                vt_control_warning_log(
                    server, &server->closed, now_us,
                    "client %s closed for a new one: no '%s' after %" G_GINT64_FORMAT
                    " ms, every slot taken",
                    client->peer, VT_CONTROL_COMMAND_CAPABILITIES,
                    (now_us - client->connected_us) / 1000);
        control_client_drop(client);
        return TRUE;
}

/**
 * vt_control_client_new:
 * @server: the server that accepted @socket
 * @socket: a connection just accepted
 *
 * Starts serving @socket: the client joins @server's list (which owns it)
 * and gets the greeting.
 *
 * Returns: (transfer none): the client
 */
VtControlClient *
vt_control_client_new(VtControlServer *server, GSocket *socket)
{
        g_autoptr(GSocketConnection) connection =
            g_socket_connection_factory_create_connection(socket);
        VtControlClient *client = g_new0(VtControlClient, 1);

        client->server = server;
        g_queue_init(&client->queued);
        client->peer = vt_control_client_describe_peer(socket, ++server->next_client);
        client->connected_us = g_get_monotonic_time();
        client->last_input_us = client->connected_us;
        client->negotiate_source = g_timeout_source_new(server->negotiate_timeout_ms);
        g_source_set_callback(client->negotiate_source, control_on_negotiate_timeout, client, NULL);
        g_source_set_static_name(client->negotiate_source, "vt-control-negotiate");
        g_source_attach(client->negotiate_source, server->context);
        client->channel = vt_qmp_channel_new(G_IO_STREAM(connection), &control_channel_limits,
                                             &control_channel_handlers, client, server->context);
        g_queue_push_tail(&server->clients, client);
        g_debug("control client %s connected", client->peer);
        control_client_send(client, json_object_get(server->greeting));
        return client;
}

/**
 * vt_control_client_send_event:
 * @client: a client
 * @event: an event message, borrowed
 *
 * Sends @event to @client if it is past negotiation.
 */
void
vt_control_client_send_event(VtControlClient *client, json_object *event)
{
        if (client->negotiated)
                control_client_send(client, json_object_get(event));
}

/* Frees @reply; the client's kept input runs next. */
static void
control_reply_finish(VtControlReply *reply)
{
        VtControlClient *client = reply->client;

        if (client != NULL) {
                g_assert(client->pending == reply);
                client->pending = NULL;
                /* Not from here: the caller may be deep in its own work. */
                if (!g_queue_is_empty(&client->queued) && client->resume_source == NULL) {
                        client->resume_source = g_idle_source_new();
                        g_source_set_priority(client->resume_source, G_PRIORITY_DEFAULT);
                        g_source_set_callback(client->resume_source, control_on_resume, client,
                                              NULL);
                        g_source_set_static_name(client->resume_source, "vt-control-resume");
                        g_source_attach(client->resume_source, client->server->context);
                }
        }
        json_object_put(reply->id);
        g_free(reply->name);
        g_free(reply);
}

/**
 * vt_control_reply_return:
 * @reply: (transfer full): the reply a #VtControlAsyncHandler got
 * @ret: (nullable) (transfer full): the `return` value (any JSON value,
 *     usually an object); %NULL for `{}`
 *
 * Sends the command's return value, with its id, and frees @reply. If the
 * client or the server has gone meanwhile, only frees. On the server's
 * main context.
 */
void
vt_control_reply_return(VtControlReply *reply, json_object *ret)
{
        g_autoptr(json_object) owned = ret;

        g_return_if_fail(reply != NULL);

        if (reply->client != NULL)
                control_client_send(reply->client, vt_qmp_message_new_return(owned, reply->id));
        else
                g_debug("control command '%s' done; its client is gone", reply->name);
        control_reply_finish(reply);
}

/**
 * vt_control_reply_return_error:
 * @reply: (transfer full): the reply a #VtControlAsyncHandler got
 * @error: (transfer full): why the command failed, mapped to a class as
 *     for #VtControlHandler (vt_control_error_to_class())
 *
 * Sends the error, with the command's id, and frees @reply. If the client
 * or the server has gone meanwhile, only frees. On the server's main
 * context.
 */
void
vt_control_reply_return_error(VtControlReply *reply, GError *error)
{
        g_autoptr(GError) owned = error;

        g_return_if_fail(reply != NULL);

        if (owned == NULL) {
                g_critical("control command '%s' failed without saying why", reply->name);
                owned = g_error_new(VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                    "command '%s' failed", reply->name);
        }
        if (reply->client != NULL) {
                g_debug("control client %s: '%s' failed: %s", reply->client->peer, reply->name,
                        owned->message);
                control_client_send_error(reply->client, vt_control_error_to_class(owned),
                                          owned->message, reply->id);
        } else {
                g_debug("control command '%s' failed (%s); its client is gone", reply->name,
                        owned->message);
        }
        control_reply_finish(reply);
}
