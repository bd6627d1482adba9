/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's control socket: a QMP-shaped server for the commands the daemon
 * registers (docs/control-protocol.md).
 *
 * Theory of operation: the server binds a Unix socket (refusing a path that
 * is not a socket or that a live daemon listens on, replacing a stale one)
 * and accepts connections from a socket source on the main context that
 * was thread-default when it was made. Each connection becomes a client
 * (control-client.c), which negotiates and runs its requests against the
 * command table kept here; events go from here to every client past
 * negotiation. A connection past VT_CONTROL_SERVER_MAX_CLIENTS takes the
 * slot of a client that is not using it (control-client.c says which),
 * or is closed at once when every client is busy, and that is logged: at
 * warning level, summarised when it repeats (control-warning.c).
 */
#include "host/control/control-server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/control/control-private.h"
#include "qmp/qmp-message.h"
#include "vt-autocleanups.h"
#include "vt-config.h"

/* After a failed accept (out of file descriptors...), wait this long. */
#define CONTROL_ACCEPT_BACKOFF_MS 100
#define CONTROL_LISTEN_BACKLOG    64

static void control_arm_accept(VtControlServer *server);

static gboolean
control_on_backoff(gpointer user_data)
{
        VtControlServer *server = user_data;

        g_clear_pointer(&server->backoff_source, g_source_unref);
        control_arm_accept(server);
        return G_SOURCE_REMOVE;
}

/* Whether a newcomer can have a slot, closing an idle client if need be. */
static gboolean
control_has_room(VtControlServer *server, gint64 now_us)
{
        return g_queue_get_length(&server->clients) < VT_CONTROL_SERVER_MAX_CLIENTS ||
               vt_control_client_make_room(server, now_us);
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
                if (!control_has_room(server, g_get_monotonic_time())) {
                        g_autofree char *who =
                            vt_control_client_describe_peer(peer, ++server->next_client);

                        server->n_refused++;
                        vt_control_warning_log(server, &server->refused, g_get_monotonic_time(),
                                               "connection %s refused: %u clients, each negotiated "
                                               "and active in the last %u ms",
                                               who, VT_CONTROL_SERVER_MAX_CLIENTS,
                                               server->negotiate_timeout_ms);
                        g_socket_close(peer, NULL);
                        continue;
                }
                vt_control_client_new(server, peer);
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
        server->negotiate_timeout_ms = VT_CONTROL_SERVER_NEGOTIATE_TIMEOUT_MS;
        server->log_interval_ms = VT_CONTROL_SERVER_LOG_INTERVAL_MS;
        server->refused.what = "connections refused";
        server->closed.what = "clients closed";
        server->dropped.what = "requests dropped or rejected";
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
        VtControlClient *client;
        struct stat st;

        if (server == NULL)
                return;
        while ((client = g_queue_pop_head(&server->clients)) != NULL)
                vt_control_client_free(client);
        vt_control_warning_clear(server, &server->refused);
        vt_control_warning_clear(server, &server->closed);
        vt_control_warning_clear(server, &server->dropped);
        vt_source_clear(&server->accept_source);
        vt_source_clear(&server->backoff_source);
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
        VtControlCommand *command;

        g_return_if_fail(server != NULL);
        g_return_if_fail(name != NULL && (handler != NULL) != (async_handler != NULL));
        g_return_if_fail(!g_str_equal(name, VT_CONTROL_COMMAND_CAPABILITIES));
        g_return_if_fail(!g_hash_table_contains(server->commands, name));

        command = g_new0(VtControlCommand, 1);
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
        for (GList *l = server->clients.head; l != NULL; l = l->next)
                vt_control_client_send_event(l->data, event);
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
 *     %VT_CONTROL_SERVER_MAX_CLIENTS were connected, each of them busy
 */
guint64
vt_control_server_get_n_refused(VtControlServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return server->n_refused;
}

/**
 * vt_control_server_get_n_closed:
 * @server: a server
 *
 * Returns: how many clients the server closed: not negotiated in time,
 *     replaced by a newcomer while idle, or past a bound
 */
guint64
vt_control_server_get_n_closed(VtControlServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return server->n_closed;
}

/**
 * vt_control_server_set_negotiate_timeout:
 * @server: a server
 * @timeout_ms: how long a client may take to negotiate, more than 0
 *
 * Replaces %VT_CONTROL_SERVER_NEGOTIATE_TIMEOUT_MS, for clients that
 * connect from now on; it is also how long a negotiated client must have
 * been silent before a newcomer may take its slot. For tests.
 */
void
vt_control_server_set_negotiate_timeout(VtControlServer *server, guint timeout_ms)
{
        g_return_if_fail(server != NULL);
        g_return_if_fail(timeout_ms > 0);
        server->negotiate_timeout_ms = timeout_ms;
}

/**
 * vt_control_server_set_log_interval:
 * @server: a server
 * @interval_ms: how often a repeated warning may be logged, more than 0
 *
 * Replaces %VT_CONTROL_SERVER_LOG_INTERVAL_MS, for warnings from now on.
 * For tests.
 */
void
vt_control_server_set_log_interval(VtControlServer *server, guint interval_ms)
{
        g_return_if_fail(server != NULL);
        g_return_if_fail(interval_ms > 0);
        server->log_interval_ms = interval_ms;
}
