/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's control socket: a QMP-shaped server for the commands the daemon
 * registers (docs/control-protocol.md).
 *
 * Theory of operation: the server binds a Unix socket (refusing a path that
 * is not a socket or that a live daemon listens on, replacing a stale one)
 * and accepts connections from a socket source on the main context that
 * was thread-default when it was made. Each client is a VtQmpChannel
 * bounded to the protocol's limits; it gets the greeting at once, must
 * send `qmp_capabilities`, and then its commands run one message at a
 * time, so replies leave in the order the requests came. Events go to
 * every client past negotiation.
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
 * Connections past VT_CONTROL_SERVER_MAX_CLIENTS are closed at once.
 */
#include "host/control/control-server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp/qmp-channel.h"
#include "qmp/qmp-message.h"
#include "vt-autocleanups.h"
#include "vt-config.h"

/* After a failed accept (out of file descriptors...), wait this long. */
#define CONTROL_ACCEPT_BACKOFF_MS 100
#define CONTROL_LISTEN_BACKLOG    64

/* clang-format off */
G_DEFINE_QUARK(vt-control-error-quark, vt_control_error)
/* clang-format on */

typedef struct {
        VtControlHandler handler;
        VtControlAsyncHandler async_handler; /* instead of @handler */
        gpointer user_data;
} ControlCommand;

/* Input that came while a reply was outstanding: a request or, for input
 * that was dropped, the error to answer it with. */
typedef struct {
        char *text; /* the request as JSON, or the error's desc */
        gboolean malformed;
        gsize cost; /* what it counts against VT_CONTROL_SERVER_MAX_QUEUED */
} ControlQueued;

typedef struct {
        VtControlServer *server;
        VtQmpChannel *channel;
        char *peer; /* for the log: "#3 (pid 42, uid 0)" */
        gboolean negotiated;

        VtControlReply *pending; /* the reply outstanding, or NULL */
        GQueue queued;           /* ControlQueued *, owned, oldest first */
        gsize queued_bytes;
        GSource *resume_source; /* runs @queued once @pending left */
} ControlClient;

struct _VtControlReply {
        ControlClient *client; /* NULL once the client or the server is gone */
        char *name;            /* the command, for the log */
        json_object *id;       /* echoed; a reference */
};

struct _VtControlServer {
        char *path;
        dev_t dev; /* the socket file we made, to remove only that one */
        ino_t ino;
        GMainContext *context;
        GSocket *socket;
        GSource *accept_source;
        GSource *backoff_source;
        json_object *greeting;

        GHashTable *commands; /* name → ControlCommand, owned */
        GQueue clients;       /* ControlClient *, owned */
        guint n_negotiated;
        guint64 next_client;
        guint64 n_malformed;
        guint64 n_refused;
};

static const char *const control_error_classes[VT_CONTROL_ERROR_MAX] = {
    [VT_CONTROL_ERROR_GENERIC] = "GenericError",
    [VT_CONTROL_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [VT_CONTROL_ERROR_GUEST_NOT_FOUND] = "GuestNotFound",
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
control_clear_source(GSource **source)
{
        if (*source == NULL)
                return;
        g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
}

static void
control_queued_free(gpointer data)
{
        ControlQueued *queued = data;

        g_free(queued->text);
        g_free(queued);
}

static void
control_client_free(ControlClient *client)
{
        /* An outstanding reply outlives us: returning it frees it. */
        if (client->pending != NULL)
                client->pending->client = NULL;
        control_clear_source(&client->resume_source);
        g_queue_clear_full(&client->queued, control_queued_free);
        vt_qmp_channel_close(client->channel);
        vt_qmp_channel_unref(client->channel);
        g_free(client->peer);
        g_free(client);
}

/* Queues @message (transfer full) for @client; a client already cut off
 * is dropped by its closed handler, so a failure needs nothing more. */
static void
control_client_send(ControlClient *client, json_object *message)
{
        g_autoptr(json_object) owned = message;
        g_autoptr(GError) error = NULL;

        if (!vt_qmp_channel_send(client->channel, owned, &error))
                g_debug("control client %s: message dropped: %s", client->peer, error->message);
}

static void
control_client_send_error(ControlClient *client, const char *error_class, const char *desc,
                          json_object *id)
{
        control_client_send(client, vt_qmp_message_new_error(error_class, desc, id));
}

/* The built-in `qmp_capabilities`. No optional capability is offered. */
static void
control_client_negotiate(ControlClient *client, json_object *arguments, json_object *id)
{
        json_object *enable = NULL;

        if (arguments != NULL && json_object_object_get_ex(arguments, "enable", &enable) &&
            enable != NULL) {
                if (!json_object_is_type(enable, json_type_array)) {
                        control_client_send_error(client, "GenericError",
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

                        control_client_send_error(client, "GenericError", desc, id);
                        return;
                }
        }
        client->negotiated = TRUE;
        client->server->n_negotiated++;
        g_debug("control client %s negotiated", client->peer);
        control_client_send(client, vt_qmp_message_new_return(NULL, id));
}

/* Forgets a client, e.g. one whose channel closed. */
static void
control_client_drop(ControlClient *client)
{
        VtControlServer *server = client->server;

        g_queue_remove(&server->clients, client);
        if (client->negotiated)
                server->n_negotiated--;
        control_client_free(client);
}

static void
control_client_run(ControlClient *client, const char *name, json_object *arguments, json_object *id)
{
        ControlCommand *command = g_hash_table_lookup(client->server->commands, name);
        g_autoptr(GError) error = NULL;
        json_object *value;

        if (command == NULL) {
                g_autofree char *desc = g_strdup_printf("The command %s has not been found", name);

                control_client_send_error(client, "CommandNotFound", desc, id);
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

/* Answers one request. */
static void
control_client_handle(ControlClient *client, json_object *message)
{
        json_object *execute = NULL;
        json_object *arguments = NULL;
        json_object *id = NULL;
        const char *name;

        /* The channel hands over objects only. */
        json_object_object_get_ex(message, "id", &id);
        if (!json_object_object_get_ex(message, "execute", &execute)) {
                control_client_send_error(client, "GenericError",
                                          "QMP input lacks member 'execute'", id);
                return;
        }
        if (!json_object_is_type(execute, json_type_string) ||
            strlen(json_object_get_string(execute)) !=
                (size_t)json_object_get_string_len(execute)) {
                control_client_send_error(client, "GenericError",
                                          "QMP input member 'execute' must be a string", id);
                return;
        }
        if (json_object_object_get_ex(message, "arguments", &arguments) &&
            !json_object_is_type(arguments, json_type_object)) {
                control_client_send_error(client, "GenericError",
                                          "QMP input member 'arguments' must be an object", id);
                return;
        }
        name = json_object_get_string(execute);

        if (!client->negotiated) {
                if (g_str_equal(name, "qmp_capabilities"))
                        control_client_negotiate(client, arguments, id);
                else
                        control_client_send_error(
                            client, "CommandNotFound",
                            "Expecting capabilities negotiation with 'qmp_capabilities'", id);
                return;
        }
        if (g_str_equal(name, "qmp_capabilities")) {
                control_client_send_error(client, "CommandNotFound",
                                          "Capabilities negotiation is already complete, command "
                                          "ignored",
                                          id);
                return;
        }
        control_client_run(client, name, arguments, id);
}

/* Whether input must wait: a reply is outstanding, or older input is. */
static gboolean
control_client_is_busy(ControlClient *client)
{
        return client->pending != NULL || !g_queue_is_empty(&client->queued);
}

/* Keeps input for later (@text: transfer full), or disconnects a client
 * that has sent too much meanwhile: @client may be freed on return. */
static void
control_client_queue(ControlClient *client, char *text, gboolean malformed)
{
        ControlQueued *queued;
        gsize cost = strlen(text) + VT_CONTROL_SERVER_QUEUED_OVERHEAD;

        if (cost > VT_CONTROL_SERVER_MAX_QUEUED - client->queued_bytes) {
                g_debug("control client %s: more than %u bytes of requests behind an outstanding "
                        "reply; disconnected",
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
control_client_run_queued(ControlClient *client, ControlQueued *queued)
{
        g_autoptr(json_object) message = NULL;

        if (queued->malformed) {
                control_client_send_error(client, "GenericError", queued->text, NULL);
                return;
        }
        /* Printed from a parsed object, within the limits: it parses. */
        message = json_tokener_parse(queued->text);
        if (message == NULL || !json_object_is_type(message, json_type_object)) {
                g_warning("control client %s: a kept request does not parse back", client->peer);
                control_client_send_error(client, "GenericError", "request lost", NULL);
                return;
        }
        control_client_handle(client, message);
}

static gboolean
control_on_resume(gpointer user_data)
{
        ControlClient *client = user_data;
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
        ControlClient *client = user_data;

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
        ControlClient *client = user_data;

        client->server->n_malformed++;
        g_debug("control client %s: %s", client->peer, error->message);
        /* Its error takes its turn among the replies. */
        if (control_client_is_busy(client)) {
                control_client_queue(client, g_strdup(error->message), TRUE);
                return;
        }
        control_client_send_error(client, "GenericError", error->message, NULL);
}

static void
control_on_closed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        ControlClient *client = user_data;

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

/* "#N (pid P, uid U)", or "#N" when the kernel does not say. */
static char *
control_describe_peer(GSocket *socket, guint64 serial)
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

static void
control_add_client(VtControlServer *server, GSocket *socket)
{
        g_autoptr(GSocketConnection) connection =
            g_socket_connection_factory_create_connection(socket);
        ControlClient *client = g_new0(ControlClient, 1);

        client->server = server;
        g_queue_init(&client->queued);
        client->peer = control_describe_peer(socket, ++server->next_client);
        client->channel = vt_qmp_channel_new(G_IO_STREAM(connection), &control_channel_limits,
                                             &control_channel_handlers, client, server->context);
        g_queue_push_tail(&server->clients, client);
        g_debug("control client %s connected", client->peer);
        control_client_send(client, json_object_get(server->greeting));
}

static void control_arm_accept(VtControlServer *server);

static gboolean
control_on_backoff(gpointer user_data)
{
        VtControlServer *server = user_data;

        g_clear_pointer(&server->backoff_source, g_source_unref);
        control_arm_accept(server);
        return G_SOURCE_REMOVE;
}

static gboolean
control_on_incoming(GSocket *socket, GIOCondition condition, gpointer user_data)
{
        VtControlServer *server = user_data;

        for (;;) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GSocket) peer = g_socket_accept(server->socket, NULL, &error);

                if (peer == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                        return G_SOURCE_CONTINUE;
                if (peer == NULL) {
                        /* Out of descriptors or memory: the socket stays
                         * readable, so retrying at once would spin. */
                        g_debug("control socket '%s': accept failed: %s", server->path,
                                error->message);
                        g_clear_pointer(&server->accept_source, g_source_unref);
                        server->backoff_source = g_timeout_source_new(CONTROL_ACCEPT_BACKOFF_MS);
                        g_source_set_callback(server->backoff_source, control_on_backoff, server,
                                              NULL);
                        g_source_attach(server->backoff_source, server->context);
                        return G_SOURCE_REMOVE;
                }
                if (g_queue_get_length(&server->clients) >= VT_CONTROL_SERVER_MAX_CLIENTS) {
                        server->n_refused++;
                        g_debug("control socket '%s': %u clients already, connection closed",
                                server->path, VT_CONTROL_SERVER_MAX_CLIENTS);
                        g_socket_close(peer, NULL);
                        continue;
                }
                control_add_client(server, peer);
        }
}

static void
control_arm_accept(VtControlServer *server)
{
        server->accept_source = g_socket_create_source(server->socket, G_IO_IN, NULL);
        g_source_set_callback(server->accept_source, G_SOURCE_FUNC(control_on_incoming), server,
                              NULL);
        g_source_set_static_name(server->accept_source, "vt-control-accept");
        g_source_attach(server->accept_source, server->context);
}

static gboolean
control_fill_address(const char *path, struct sockaddr_un *ret_address)
{
        struct sockaddr_un address = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof(address.sun_path))
                return FALSE;
        memcpy(address.sun_path, path, strlen(path) + 1);
        *ret_address = address;
        return TRUE;
}

/*
 * Whether a daemon listens on @path: 0 if one accepted (or would, once
 * its backlog drains), -ECONNREFUSED for a stale socket, another -errno
 * when it cannot tell.
 */
static int
control_probe(const struct sockaddr_un *address)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int r;

        if (fd < 0)
                return -errno;
        r = connect(fd, (const struct sockaddr *)address, sizeof(*address));
        r = r == 0 || errno == EAGAIN || errno == EINPROGRESS ? 0 : -errno;
        close(fd);
        return r;
}

/* Makes room for the socket at @path; a GError naming it when it cannot. */
static gboolean
control_clear_path(const char *path, const struct sockaddr_un *address, GError **error)
{
        struct stat st;
        int r;

        if (lstat(path, &st) < 0) {
                int saved = errno;

                if (saved == ENOENT)
                        return TRUE;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            "cannot inspect '%s': %s", path, g_strerror(saved));
                return FALSE;
        }
        if (!S_ISSOCK(st.st_mode)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                            "'%s' exists and is not a socket; refusing to replace it", path);
                return FALSE;
        }
        r = control_probe(address);
        if (r == 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                            "vmtided already running on %s", path);
                return FALSE;
        }
        if (r != -ECONNREFUSED && r != -ENOENT) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r),
                            "cannot tell whether '%s' is in use: %s", path, g_strerror(-r));
                return FALSE;
        }
        g_debug("removing stale control socket '%s'", path);
        if (unlink(path) < 0 && errno != ENOENT) {
                int saved = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            "cannot remove stale socket '%s': %s", path, g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

/* Binds and listens; the socket file is never more open than @mode. */
static int
control_listen(const struct sockaddr_un *address, guint mode, int *ret_fd)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        mode_t old_umask;
        int r;

        if (fd < 0)
                return -errno;
        /* umask is process-wide: the daemon creates its socket at start-up,
         * before it runs threads that create files. */
        old_umask = umask(~mode & 0777);
        r = bind(fd, (const struct sockaddr *)address, sizeof(*address));
        r = r < 0 ? -errno : 0;
        umask(old_umask);
        if (r == 0 && listen(fd, CONTROL_LISTEN_BACKLOG) < 0)
                r = -errno;
        if (r == 0 && chmod(address->sun_path, mode) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static json_object *
control_new_greeting(void)
{
        g_autofree char *package = g_strdup_printf("%s %s", VT_PACKAGE, VT_VERSION);
        VtQmpGreeting greeting = {.package = package};
        unsigned major = 0, minor = 0, micro = 0;

        if (sscanf(VT_VERSION, "%u.%u.%u", &major, &minor, &micro) < 1)
                major = minor = micro = 0;
        greeting.major = major;
        greeting.minor = minor;
        greeting.micro = micro;
        return vt_qmp_message_new_greeting(&greeting);
}

/**
 * vt_control_server_new:
 * @path: where to listen, e.g. %VT_CONTROL_SOCKET_DEFAULT
 * @mode: permissions of the socket file, 0 for `0600`
 * @error: a #GIOError naming @path: %G_IO_ERROR_EXISTS for a path that is
 *     not a socket, %G_IO_ERROR_ADDRESS_IN_USE when a daemon listens there,
 *     or why the directory or socket could not be made
 *
 * Creates the parent directory (mode 0755) if it is missing, replaces a
 * stale socket nobody listens on, and starts accepting on the main
 * context that is thread-default now. `qmp_capabilities` is built in; add
 * the other commands with vt_control_server_add_command().
 *
 * Returns: (transfer full): a listening server, or %NULL on error
 */
VtControlServer *
vt_control_server_new(const char *path, guint mode, GError **error)
{
        g_autoptr(VtControlServer) server = NULL;
        g_autoptr(GError) local_error = NULL;
        g_autofree char *dir = NULL;
        struct sockaddr_un address;
        struct stat st;
        int fd = -1;
        int r;

        g_return_val_if_fail(path != NULL && path[0] != '\0', NULL);
        g_return_val_if_fail((mode & ~0777u) == 0, NULL);

        if (mode == 0)
                mode = 0600;
        if (!control_fill_address(path, &address)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                            "control socket path '%s' is too long (at most %zu bytes)", path,
                            sizeof(address.sun_path) - 1);
                return NULL;
        }
        dir = g_path_get_dirname(path);
        if (g_mkdir_with_parents(dir, 0755) < 0) {
                int saved = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            "cannot create directory '%s': %s", dir, g_strerror(saved));
                return NULL;
        }
        if (!control_clear_path(path, &address, error))
                return NULL;
        r = control_listen(&address, mode, &fd);
        if (r < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r),
                            "cannot listen on '%s': %s", path, g_strerror(-r));
                return NULL;
        }

        server = g_new0(VtControlServer, 1);
        server->path = g_strdup(path);
        if (stat(path, &st) == 0) {
                server->dev = st.st_dev;
                server->ino = st.st_ino;
        }
        server->context = g_main_context_ref_thread_default();
        server->commands = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_queue_init(&server->clients);
        server->greeting = control_new_greeting();
        server->socket = g_socket_new_from_fd(fd, &local_error);
        if (server->socket == NULL) {
                close(fd);
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot listen on '%s': %s", path,
                            local_error->message);
                return NULL;
        }
        g_socket_set_blocking(server->socket, FALSE);
        control_arm_accept(server);
        g_debug("control socket listening on '%s' (mode %04o)", path, mode);
        return g_steal_pointer(&server);
}

/**
 * vt_control_server_free:
 * @server: (nullable): a server
 *
 * Disconnects every client, stops listening and removes the socket file,
 * unless another process has put its own there meanwhile. Not from within
 * a command handler. Replies still outstanding are orphaned: returning
 * them later only frees them.
 */
void
vt_control_server_free(VtControlServer *server)
{
        ControlClient *client;
        struct stat st;

        if (server == NULL)
                return;
        while ((client = g_queue_pop_head(&server->clients)) != NULL)
                control_client_free(client);
        control_clear_source(&server->accept_source);
        control_clear_source(&server->backoff_source);
        if (server->socket != NULL) {
                g_socket_close(server->socket, NULL);
                g_object_unref(server->socket);
                if (lstat(server->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
                    st.st_dev == server->dev && st.st_ino == server->ino)
                        unlink(server->path);
        }
        if (server->commands != NULL)
                g_hash_table_unref(server->commands);
        json_object_put(server->greeting);
        if (server->context != NULL)
                g_main_context_unref(server->context);
        g_free(server->path);
        g_free(server);
}

static void
control_add(VtControlServer *server, const char *name, VtControlHandler handler,
            VtControlAsyncHandler async_handler, gpointer user_data)
{
        ControlCommand *command;

        g_return_if_fail(server != NULL);
        g_return_if_fail(name != NULL && (handler != NULL) != (async_handler != NULL));
        g_return_if_fail(!g_str_equal(name, "qmp_capabilities"));
        g_return_if_fail(!g_hash_table_contains(server->commands, name));

        command = g_new0(ControlCommand, 1);
        command->handler = handler;
        command->async_handler = async_handler;
        command->user_data = user_data;
        g_hash_table_insert(server->commands, g_strdup(name), command);
}

/**
 * vt_control_server_add_command:
 * @server: a server
 * @name: the command, e.g. `query-guests`
 * @handler: what runs it
 * @user_data: for @handler
 *
 * Registers a command that answers during its call; each name once.
 * `qmp_capabilities` is built in.
 */
void
vt_control_server_add_command(VtControlServer *server, const char *name, VtControlHandler handler,
                              gpointer user_data)
{
        g_return_if_fail(handler != NULL);
        control_add(server, name, handler, NULL, user_data);
}

/**
 * vt_control_server_add_async_command:
 * @server: a server
 * @name: the command, e.g. `set-target`
 * @handler: what starts it
 * @user_data: for @handler
 *
 * Registers a command that answers later, through the #VtControlReply
 * its handler gets; each name once (sync and async alike).
 */
void
vt_control_server_add_async_command(VtControlServer *server, const char *name,
                                    VtControlAsyncHandler handler, gpointer user_data)
{
        g_return_if_fail(handler != NULL);
        control_add(server, name, NULL, handler, user_data);
}

/* Frees @reply; the client's kept input runs next. */
static void
control_reply_finish(VtControlReply *reply)
{
        ControlClient *client = reply->client;

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

/**
 * vt_control_server_emit_event:
 * @server: a server
 * @name: the event, e.g. `DECISION`
 * @data: (nullable) (transfer full): its data, an object
 *
 * Sends the event, stamped with the wall clock, to every client past
 * negotiation. A client that has let its output bound fill is cut off;
 * the others are not affected.
 */
void
vt_control_server_emit_event(VtControlServer *server, const char *name, json_object *data)
{
        g_autoptr(json_object) owned = data;
        g_autoptr(json_object) event = NULL;

        g_return_if_fail(server != NULL);
        g_return_if_fail(name != NULL);
        g_return_if_fail(data == NULL || json_object_is_type(data, json_type_object));

        event = vt_qmp_message_new_event(name, owned, g_get_real_time());
        /* Sends never call back into the server: failures are reported
         * later, so the list cannot change under us. */
        for (GList *l = server->clients.head; l != NULL; l = l->next) {
                ControlClient *client = l->data;

                if (client->negotiated)
                        control_client_send(client, json_object_get(event));
        }
}

/**
 * vt_control_server_get_path:
 * @server: a server
 *
 * Returns: the socket's path
 */
const char *
vt_control_server_get_path(VtControlServer *server)
{
        g_return_val_if_fail(server != NULL, NULL);
        return server->path;
}

/**
 * vt_control_server_get_n_clients:
 * @server: a server
 *
 * Returns: how many clients are connected, negotiated or not
 */
guint
vt_control_server_get_n_clients(VtControlServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return g_queue_get_length(&server->clients);
}

/**
 * vt_control_server_get_n_negotiated:
 * @server: a server
 *
 * Returns: how many connected clients are past `qmp_capabilities`, that
 *     is, receive events
 */
guint
vt_control_server_get_n_negotiated(VtControlServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return server->n_negotiated;
}

/**
 * vt_control_server_get_n_malformed:
 * @server: a server
 *
 * Returns: how many malformed, oversized, too deep or truncated requests
 *     were dropped, over all clients so far
 */
guint64
vt_control_server_get_n_malformed(VtControlServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return server->n_malformed;
}

/**
 * vt_control_server_get_n_refused:
 * @server: a server
 *
 * Returns: how many connections were closed at once because
 *     %VT_CONTROL_SERVER_MAX_CLIENTS were connected
 */
guint64
vt_control_server_get_n_refused(VtControlServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return server->n_refused;
}
