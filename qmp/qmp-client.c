/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An asynchronous QMP client on the GLib main loop.
 *
 * Theory of operation: a client makes one connection in its life. Connect
 * resolves the address, reads QEMU's greeting and negotiates with
 * `qmp_capabilities` (no optional capability is enabled), all within one
 * timeout. Once ready, each command gets a fresh integer id and its own
 * timeout; replies are matched by id, so any number of commands may be in
 * flight. A reply whose id is unknown (a command that already timed out,
 * or a confused peer) is dropped and counted. Events go to the detailed
 * "event" signal, so a subscriber can listen to "event::BALLOON_CHANGE".
 *
 * When the peer goes away (EOF, reset, an unreadable stream), every
 * pending command fails with %VT_QMP_ERROR_DISCONNECTED and the owner gets
 * "disconnected" once. Nothing the peer sends can abort the process: input
 * goes through the bounded framer and vt_qmp_message_parse(), and anything
 * that does not fit is dropped and counted.
 *
 * A peer is untrusted, and its cost bounded: the channel reads it within
 * a budget (VT_QMP_CLIENT_BUDGET_*, docs/qmp.md), pausing a peer that
 * streams and closing one that keeps at it for
 * VT_QMP_CLIENT_BUDGET_MAX_OVER_US; that loss is "disconnected" like any
 * other, and the owner reconnects with its backoff. What the client drops
 * or pauses is logged through a VtQmpPeerLog: at warning level, once, then
 * summarised.
 *
 * Every source is attached to the main context that was thread-default
 * when the client was created, which is what lets the synchronous wrapper
 * in qmp-sync.c run a client on a private context.
 */
#include "qmp/qmp-client.h"

#include "qmp/qmp-channel.h"
#include "qmp/qmp-client-private.h"
#include "qmp/qmp-peer-log.h"
#include "vt-autocleanups.h"

typedef struct {
        VtQmpClient *client;
        gint64 id;
        char *command;
        GTask *task;
        GSource *timeout_source;
        gint64 timeout_us;
} QmpPending;

enum {
        SIGNAL_EVENT,
        SIGNAL_DISCONNECTED,
        SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST];

G_DEFINE_FINAL_TYPE(VtQmpClient, vt_qmp_client, G_TYPE_OBJECT)

static void qmp_pending_disarm(QmpPending *pending);

static void
qmp_pending_free(QmpPending *pending)
{
        qmp_pending_disarm(pending);
        g_clear_object(&pending->task);
        g_free(pending->command);
        g_free(pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpPending, qmp_pending_free)

/* Stops @pending's timeout: done before completing it, since completion
 * callbacks may run a main loop in which the timeout would fire. */
static void
qmp_pending_disarm(QmpPending *pending)
{
        if (pending->timeout_source == NULL)
                return;
        g_source_destroy(pending->timeout_source);
        g_clear_pointer(&pending->timeout_source, g_source_unref);
}

/* Removes the pending command @id from the table, disarmed; the caller
 * completes it. */
static QmpPending *
client_steal_pending(VtQmpClient *client, gint64 id)
{
        QmpPending *pending = NULL;

        if (!g_hash_table_steal_extended(client->pending, &id, NULL, (gpointer *)&pending))
                return NULL;
        qmp_pending_disarm(pending);
        return pending;
}

static GSource *
client_add_timeout(VtQmpClient *client, gint64 timeout_us, GSourceFunc func, gpointer data)
{
        gint64 ms = timeout_us / 1000 + (timeout_us % 1000 != 0);
        GSource *source = g_timeout_source_new((guint)MIN(ms, (gint64)G_MAXUINT));

        g_source_set_callback(source, func, data, NULL);
        g_source_attach(source, client->context);
        return source;
}

/*
 * Ends the connection: fails what is pending with @reason, tells the owner
 * when @notify is set and the client had been ready. Callbacks run from
 * here may call back into the client, so state is settled first.
 */
static void
client_disconnect(VtQmpClient *client, const GError *reason, gboolean notify)
{
        if (client->state == CLIENT_CLOSED)
                return;

        g_autoptr(VtQmpClient) self = g_object_ref(client);
        g_autoptr(GTask) connect_task = g_steal_pointer(&client->connect_task);
        g_autoptr(GHashTable) pending = g_steal_pointer(&client->pending);
        gboolean was_ready = client->state == CLIENT_READY;
        GHashTableIter iter;
        QmpPending *p;

        client->state = CLIENT_CLOSED;
        client->pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                                (GDestroyNotify)qmp_pending_free);
        if (client->log != NULL)
                vt_qmp_peer_log_flush(client->log);
        if (client->channel != NULL) {
                vt_qmp_channel_get_stats(client->channel, &client->stats);
                vt_qmp_channel_close(client->channel);
                g_clear_pointer(&client->channel, vt_qmp_channel_unref);
        }
        if (client->connect_cancellable != NULL)
                g_cancellable_cancel(client->connect_cancellable);
        if (client->connect_timeout != NULL) {
                g_source_destroy(client->connect_timeout);
                g_clear_pointer(&client->connect_timeout, g_source_unref);
        }

        /* No timeout may fire while the callbacks below run. */
        g_hash_table_iter_init(&iter, pending);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&p))
                qmp_pending_disarm(p);
        g_hash_table_iter_init(&iter, pending);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&p)) {
                g_autoptr(QmpPending) owned = p;

                g_hash_table_iter_steal(&iter);
                g_task_return_new_error(owned->task, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                        "QMP command '%s' got no reply: %s", owned->command,
                                        reason->message);
        }
        if (connect_task != NULL)
                g_task_return_error(connect_task, g_error_copy(reason));
        if (notify && was_ready) {
                g_debug("QMP peer '%s' is gone: %s", client->address, reason->message);
                g_signal_emit(client, signals[SIGNAL_DISCONNECTED], 0, reason);
        }
}

static void
client_connect_fail(VtQmpClient *client, GError *error)
{
        g_autoptr(GError) owned = error;

        client_disconnect(client, owned, FALSE);
}

static gboolean
client_on_command_timeout(gpointer user_data)
{
        QmpPending *p = user_data;
        g_autoptr(QmpPending) pending = client_steal_pending(p->client, p->id);

        if (pending == NULL)
                return G_SOURCE_REMOVE;
        g_task_return_new_error(pending->task, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT,
                                "QMP command '%s' got no reply within %.1f s", pending->command,
                                (double)pending->timeout_us / G_USEC_PER_SEC);
        return G_SOURCE_REMOVE;
}

/* Sends @command with a fresh id; @task completes with the reply. */
static void
client_send_command(VtQmpClient *client, const char *command, json_object *arguments,
                    gint64 timeout_us, GTask *task)
{
        g_autoptr(json_object) id = NULL;
        g_autoptr(json_object) message = NULL;
        g_autoptr(GError) error = NULL;
        QmpPending *pending = g_new0(QmpPending, 1);

        pending->client = client;
        pending->id = ++client->next_id;
        pending->command = g_strdup(command);
        pending->task = task;
        pending->timeout_us = timeout_us == 0 ? client->timeout_us : timeout_us;
        if (pending->timeout_us > 0)
                pending->timeout_source = client_add_timeout(client, pending->timeout_us,
                                                             client_on_command_timeout, pending);
        g_hash_table_insert(client->pending, &pending->id, pending);

        id = json_object_new_int64(pending->id);
        message = vt_qmp_message_new_command(command, arguments, id);
        if (!vt_qmp_channel_send(client->channel, message, &error)) {
                g_hash_table_steal(client->pending, &pending->id);
                g_task_return_new_error(pending->task, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                        "QMP command '%s' not sent: %s", command, error->message);
                qmp_pending_free(pending);
        }
}

static void
client_on_capabilities(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtQmpClient *client = VT_QMP_CLIENT(source);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = vt_qmp_client_execute_finish(client, result, &error);
        g_autoptr(GTask) connect_task = NULL;

        if (client->state != CLIENT_NEGOTIATING)
                return;
        if (reply == NULL) {
                g_prefix_error(&error,
                               "QMP capabilities negotiation with '%s' failed: ", client->address);
                client_connect_fail(client, g_steal_pointer(&error));
                return;
        }
        client->state = CLIENT_READY;
        g_source_destroy(client->connect_timeout);
        g_clear_pointer(&client->connect_timeout, g_source_unref);
        connect_task = g_steal_pointer(&client->connect_task);
        g_task_return_boolean(connect_task, TRUE);
}

static void
client_handle_greeting(VtQmpClient *client, const VtQmpMessage *message)
{
        g_autoptr(GError) error = NULL;
        GTask *task;

        if (message->kind != VT_QMP_MESSAGE_GREETING) {
                client_connect_fail(
                    client, g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                        "'%s' sent '%s' instead of a QMP greeting", client->address,
                                        vt_qmp_message_kind_to_string(message->kind)));
                return;
        }
        client->greeting = vt_qmp_greeting_parse(message->value, &error);
        if (client->greeting == NULL) {
                g_prefix_error(&error, "'%s': ", client->address);
                client_connect_fail(client, g_steal_pointer(&error));
                return;
        }
        client->state = CLIENT_NEGOTIATING;
        /* A task completes on the context that was thread-default when it
         * was made: make it the client's, whoever dispatches us. */
        g_main_context_push_thread_default(client->context);
        task = g_task_new(client, NULL, client_on_capabilities, NULL);
        g_main_context_pop_thread_default(client->context);
        g_task_set_source_tag(task, vt_qmp_client_execute_async);
        client_send_command(client, "qmp_capabilities", NULL, -1, task);
}

static void
client_handle_reply(VtQmpClient *client, const VtQmpMessage *message)
{
        g_autoptr(QmpPending) pending = NULL;

        if (message->id == NULL || !json_object_is_type(message->id, json_type_int)) {
                client->n_dropped++;
                vt_qmp_peer_log_add(client->log, G_LOG_LEVEL_WARNING, "messages dropped",
                                    "reply without a usable id dropped");
                return;
        }
        pending = client_steal_pending(client, json_object_get_int64(message->id));
        if (pending == NULL) {
                /* Most often the reply to a command that timed out. */
                client->n_dropped++;
                vt_qmp_peer_log_add(client->log, G_LOG_LEVEL_DEBUG, "late replies dropped",
                                    "reply to unknown id %" G_GINT64_FORMAT " dropped",
                                    json_object_get_int64(message->id));
                return;
        }
        if (message->kind == VT_QMP_MESSAGE_ERROR)
                g_task_return_error(pending->task, vt_qmp_error_new_from_reply(
                                                       message->error_class, message->error_desc));
        else if (message->value == NULL)
                g_task_return_new_error(pending->task, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                        "QMP command '%s' returned null", pending->command);
        else
                g_task_return_pointer(pending->task, json_object_get(message->value),
                                      vt_json_object_unref);
}

static void
client_on_message(VtQmpChannel *channel, json_object *object, gpointer user_data)
{
        VtQmpClient *client = user_data;
        g_autoptr(GError) error = NULL;
        VtQmpMessage message;

        if (!vt_qmp_message_parse(object, &message, &error)) {
                client->n_dropped++;
                if (client->state == CLIENT_GREETING) {
                        g_prefix_error(&error, "'%s' sent no QMP greeting: ", client->address);
                        client_connect_fail(client, g_steal_pointer(&error));
                        return;
                }
                vt_qmp_peer_log_add(client->log, G_LOG_LEVEL_WARNING, "messages dropped",
                                    "message dropped: %s", error->message);
                return;
        }
        if (client->state == CLIENT_GREETING) {
                client_handle_greeting(client, &message);
                return;
        }
        switch (message.kind) {
        case VT_QMP_MESSAGE_RETURN:
        case VT_QMP_MESSAGE_ERROR:
                client_handle_reply(client, &message);
                break;
        case VT_QMP_MESSAGE_EVENT:
                g_signal_emit(client, signals[SIGNAL_EVENT], g_quark_try_string(message.name),
                              message.name, message.value, message.timestamp_us);
                break;
        case VT_QMP_MESSAGE_GREETING:
        case VT_QMP_MESSAGE_COMMAND:
        case VT_QMP_MESSAGE_KIND_MAX:
        default:
                client->n_dropped++;
                vt_qmp_peer_log_add(client->log, G_LOG_LEVEL_WARNING, "messages dropped",
                                    "unexpected '%s' dropped",
                                    vt_qmp_message_kind_to_string(message.kind));
                break;
        }
}

static void
client_on_malformed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        VtQmpClient *client = user_data;

        client->n_dropped++;
        if (client->state == CLIENT_GREETING) {
                client_connect_fail(client, g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                                        "'%s' sent no QMP greeting: %s",
                                                        client->address, error->message));
                return;
        }
        vt_qmp_peer_log_add(client->log, G_LOG_LEVEL_WARNING, "malformed pieces dropped", "%s",
                            error->message);
}

static void
client_on_closed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        VtQmpClient *client = user_data;
        g_autoptr(GError) reason =
            g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED, "QMP peer '%s': %s",
                        client->address, error->message);

        /* The channel closed a peer that stayed over its budget: what it
         * made us drop is said first. */
        vt_qmp_peer_log_flush(client->log);
        if (g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL))
                vt_qmp_peer_log_add(client->log, G_LOG_LEVEL_WARNING, "connections closed", "%s",
                                    error->message);
        client_disconnect(client, reason, TRUE);
}

static void
client_on_throttled(VtQmpChannel *channel, gint64 pause_us, gpointer user_data)
{
        VtQmpClient *client = user_data;

        vt_qmp_peer_log_add(client->log, G_LOG_LEVEL_WARNING, "runs over the budget",
                            "over its budget of %" G_GSIZE_FORMAT " bytes/s: reading paused",
                            client->budget.rate);
}

static const VtQmpChannelHandlers client_channel_handlers = {
    .message = client_on_message,
    .malformed = client_on_malformed,
    .closed = client_on_closed,
    .throttled = client_on_throttled,
};

/* The process at the other end of a Unix socket, or 0 (TCP, no credentials). */
static GPid
client_peer_pid(GSocketConnection *connection)
{
        GSocket *socket = g_socket_connection_get_socket(connection);
        g_autoptr(GCredentials) credentials = NULL;
        pid_t pid;

        if (g_socket_get_family(socket) != G_SOCKET_FAMILY_UNIX)
                return 0;
        credentials = g_socket_get_credentials(socket, NULL);
        if (credentials == NULL)
                return 0;
        pid = g_credentials_get_unix_pid(credentials, NULL);
        return pid > 0 ? (GPid)pid : 0;
}

static void
client_on_socket_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtQmpClient) client = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketConnection) connection =
            g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
        VtQmpChannelLimits limits = {.max_message = client->max_message, .budget = client->budget};

        if (client->state != CLIENT_CONNECTING)
                return; /* timed out or closed meanwhile */
        g_clear_object(&client->connect_cancellable);
        if (connection == NULL) {
                g_prefix_error(&error, "cannot connect to QMP socket '%s': ", client->address);
                client_connect_fail(client, g_steal_pointer(&error));
                return;
        }
        client->state = CLIENT_GREETING;
        client->peer_pid = client_peer_pid(connection);
        client->channel = vt_qmp_channel_new(G_IO_STREAM(connection), &limits,
                                             &client_channel_handlers, client, client->context);
}

static gboolean
client_on_connect_timeout(gpointer user_data)
{
        VtQmpClient *client = user_data;

        g_clear_pointer(&client->connect_timeout, g_source_unref);
        client_connect_fail(client,
                            g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT,
                                        "no QMP handshake with '%s' within %.1f s", client->address,
                                        (double)client->timeout_us / G_USEC_PER_SEC));
        return G_SOURCE_REMOVE;
}

/**
 * vt_qmp_client_connect_async:
 * @client: a client that has not connected yet
 * @address: `unix:PATH`, a path, or `tcp:HOST:PORT`
 * @callback: called when the client is ready or has failed
 * @user_data: for @callback
 *
 * Connects, reads the greeting and negotiates capabilities, all within the
 * client's timeout. A client connects once; make a new one to reconnect.
 */
void
vt_qmp_client_connect_async(VtQmpClient *client, const char *address, GAsyncReadyCallback callback,
                            gpointer user_data)
{
        g_autoptr(GTask) task = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketConnectable) connectable = NULL;
        g_autoptr(GSocketClient) socket_client = NULL;
        g_autofree char *log_peer = NULL;

        g_return_if_fail(VT_IS_QMP_CLIENT(client));
        g_return_if_fail(address != NULL);

        task = g_task_new(client, NULL, callback, user_data);
        g_task_set_source_tag(task, vt_qmp_client_connect_async);
        if (client->state != CLIENT_IDLE) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_EXISTS,
                                        "QMP client was already connected to '%s'",
                                        client->address);
                return;
        }
        connectable = vt_qmp_address_parse(address, &error);
        if (connectable == NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }

        client->address = g_strdup(address);
        log_peer = g_strdup_printf("QMP peer '%s'", address);
        client->log = vt_qmp_peer_log_new(G_LOG_DOMAIN, log_peer, client->context);
        client->state = CLIENT_CONNECTING;
        client->connect_task = g_steal_pointer(&task);
        client->connect_cancellable = g_cancellable_new();
        client->connect_timeout =
            client_add_timeout(client, client->timeout_us, client_on_connect_timeout, client);

        socket_client = g_socket_client_new();
        g_main_context_push_thread_default(client->context);
        g_socket_client_connect_async(socket_client, connectable, client->connect_cancellable,
                                      client_on_socket_connected, g_object_ref(client));
        g_main_context_pop_thread_default(client->context);
}

/**
 * vt_qmp_client_connect_finish:
 * @client: a client
 * @result: the result passed to the callback
 * @error: why the connection failed: a #GIOError from the socket,
 *     %VT_QMP_ERROR_TIMEOUT, %VT_QMP_ERROR_PROTOCOL for a peer that is not
 *     QMP, or the peer's refusal of `qmp_capabilities`
 *
 * Returns: %TRUE when the client is ready for commands
 */
gboolean
vt_qmp_client_connect_finish(VtQmpClient *client, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
        return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * vt_qmp_client_execute_async:
 * @client: a connected client
 * @command: the QMP command, e.g. `query-balloon`
 * @arguments: (nullable) (transfer none): its arguments, a JSON object
 * @timeout_us: how long to wait for the reply: 0 for the client's
 *     default, a negative value for no limit
 * @callback: called with the reply
 * @user_data: for @callback
 *
 * Sends @command. Any number of commands may be in flight.
 */
void
vt_qmp_client_execute_async(VtQmpClient *client, const char *command, json_object *arguments,
                            gint64 timeout_us, GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = NULL;

        g_return_if_fail(VT_IS_QMP_CLIENT(client));
        g_return_if_fail(command != NULL);
        g_return_if_fail(arguments == NULL || json_object_is_type(arguments, json_type_object));

        task = g_task_new(client, NULL, callback, user_data);
        g_task_set_source_tag(task, vt_qmp_client_execute_async);
        if (client->state != CLIENT_READY) {
                g_task_return_new_error(task, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                        "cannot run QMP command '%s': %s", command,
                                        client->state == CLIENT_CLOSED ? "the connection is closed"
                                                                       : "not connected");
                return;
        }
        client_send_command(client, command, arguments, timeout_us, g_steal_pointer(&task));
}

/**
 * vt_qmp_client_execute_finish:
 * @client: a client
 * @result: the result passed to the callback
 * @error: the peer's error (%VT_QMP_ERROR_GENERIC, ..._DEVICE_NOT_ACTIVE,
 *     ... with its `desc` as message), %VT_QMP_ERROR_TIMEOUT or
 *     %VT_QMP_ERROR_DISCONNECTED
 *
 * Returns: (transfer full): the `return` value, or %NULL on error
 */
json_object *
vt_qmp_client_execute_finish(VtQmpClient *client, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, client), NULL);
        return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * vt_qmp_client_close:
 * @client: a client
 *
 * Closes the connection; pending commands fail with
 * %VT_QMP_ERROR_DISCONNECTED. "disconnected" is not emitted: it tells of
 * a peer that went away. Idempotent.
 */
void
vt_qmp_client_close(VtQmpClient *client)
{
        g_autoptr(GError) reason = NULL;

        g_return_if_fail(VT_IS_QMP_CLIENT(client));

        if (client->state == CLIENT_IDLE) {
                client->state = CLIENT_CLOSED;
                return;
        }
        reason = g_error_new_literal(VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                     "connection closed by the client");
        client_disconnect(client, reason, FALSE);
}

/**
 * vt_qmp_client_new:
 *
 * Every source of the client runs on the main context that is
 * thread-default now; completion callbacks of vt_qmp_client_execute_async()
 * run on the context that is thread-default when it is called. A pending
 * command keeps the client alive: call vt_qmp_client_close() before
 * dropping the last reference.
 *
 * Returns: (transfer full): a client bound to the thread-default main
 *     context
 */
VtQmpClient *
vt_qmp_client_new(void)
{
        return g_object_new(VT_TYPE_QMP_CLIENT, NULL);
}

static void
vt_qmp_client_dispose(GObject *object)
{
        VtQmpClient *client = VT_QMP_CLIENT(object);

        vt_qmp_client_close(client);
        G_OBJECT_CLASS(vt_qmp_client_parent_class)->dispose(object);
}

static void
vt_qmp_client_finalize(GObject *object)
{
        VtQmpClient *client = VT_QMP_CLIENT(object);

        g_hash_table_unref(client->pending);
        g_clear_object(&client->connect_cancellable);
        vt_qmp_greeting_free(client->greeting);
        vt_qmp_peer_log_free(client->log);
        g_free(client->address);
        g_main_context_unref(client->context);
        G_OBJECT_CLASS(vt_qmp_client_parent_class)->finalize(object);
}

static void
vt_qmp_client_init(VtQmpClient *client)
{
        client->context = g_main_context_ref_thread_default();
        client->timeout_us = VT_QMP_CLIENT_DEFAULT_TIMEOUT_US;
        client->budget = (VtQmpChannelBudget){
            .max_read = VT_QMP_CLIENT_BUDGET_MAX_READ,
            .rate = VT_QMP_CLIENT_BUDGET_RATE,
            .burst = VT_QMP_CLIENT_BUDGET_BURST,
            .overhead = VT_QMP_CLIENT_BUDGET_OVERHEAD,
            .max_over_us = VT_QMP_CLIENT_BUDGET_MAX_OVER_US,
        };
        client->pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                                (GDestroyNotify)qmp_pending_free);
}

static void
vt_qmp_client_class_init(VtQmpClientClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = vt_qmp_client_dispose;
        object_class->finalize = vt_qmp_client_finalize;

        /**
         * VtQmpClient::event:
         * @client: the client
         * @name: the event name, e.g. `BALLOON_CHANGE`; also the detail
         * @data: (nullable) (type gpointer): the event's `data`, a
         *     `json_object *` valid during the emission
         * @timestamp_us: the peer's timestamp in microseconds since the
         *     epoch, or -1
         */
        signals[SIGNAL_EVENT] =
            g_signal_new("event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                         0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                         G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_POINTER, G_TYPE_INT64);

        /**
         * VtQmpClient::disconnected:
         * @client: the client
         * @error: why the peer is gone
         *
         * Emitted once when a ready client loses its peer.
         */
        signals[SIGNAL_DISCONNECTED] =
            g_signal_new("disconnected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}
