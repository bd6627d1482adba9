/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the control socket server: a real VtControlServer on a
 * temp socket, on the test's main loop, with scripted command handlers.
 * Clients are VtQmpClient (what the CLI uses) and raw sockets that send
 * what a broken or hostile client would. Every test ends by checking that
 * the server still answers a fresh client. Asynchronous commands hand
 * their reply to the fixture, and the test returns it when it chooses.
 * The server's warnings are captured, not fatal, so tests can check what
 * it said and how often.
 */
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/control/control-args.h"
#include "host/control/control-memdev.h"
#include "host/control/control-server.h"
#include "qmp/qmp-channel.h"
#include "qmp/qmp-client.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"
#include "vt-config.h"

#define TiB (G_GUINT64_CONSTANT(1) << 40)

/* The negotiation timeout of the idle-client tests, and how much later
 * than it a newcomer must be served at the latest. */
#define IDLE_TIMEOUT_MS 1000u /* 32 clients connect well within it, also under valgrind */
#define IDLE_MARGIN_MS  2000u

/* The server's warnings, captured by main(); each test starts with none. */
static GPtrArray *warnings;

static void
on_warning(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
        g_ptr_array_add(warnings, g_strdup(message));
        /* Not fatal (on_fatal_log() says so): shown as any warning. */
        g_log_default_handler(domain, level & ~G_LOG_FLAG_FATAL, message, user_data);
}

/* The server's warnings are what the tests check, not failures. */
static gboolean
on_fatal_log(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
        return !(g_strcmp0(domain, "vmtide-control") == 0 && (level & G_LOG_LEVEL_WARNING));
}

/* How many captured warnings contain @part. */
static guint
count_warnings(const char *part)
{
        guint n = 0;

        for (guint i = 0; i < warnings->len; i++)
                n += strstr(g_ptr_array_index(warnings, i), part) != NULL;
        return n;
}

typedef struct {
        char *dir;
        char *path;
        VtControlServer *server;
        guint n_calls;
        GQueue held; /* VtControlReply *: replies of `later`, not returned yet */
} Fixture;

/* Scripted commands. */

static json_object *
handle_echo(VtControlServer *server, json_object *arguments, gpointer user_data, GError **error)
{
        return arguments != NULL ? json_object_get(arguments) : json_object_new_object();
}

static json_object *
handle_count(VtControlServer *server, json_object *arguments, gpointer user_data, GError **error)
{
        Fixture *f = user_data;
        json_object *ret = json_object_new_object();

        json_object_object_add(ret, "n", json_object_new_int64(++f->n_calls));
        return ret;
}

/* The error each `how` of the error cases stands for. */
static void
set_error_how(GError **error, const char *how)
{
        if (g_str_equal(how, "guest"))
                vt_control_set_error_guest_not_found(error, "web9");
        else if (g_str_equal(how, "generic"))
                g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC, "it broke");
        else if (g_str_equal(how, "not-found"))
                g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_COMMAND_NOT_FOUND,
                            "no such thing");
        else
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk on fire");
}

static json_object *
handle_fail(VtControlServer *server, json_object *arguments, gpointer user_data, GError **error)
{
        const char *how = vt_control_args_get_string(arguments, "how", error);

        if (how == NULL)
                return NULL;
        set_error_how(error, how);
        return NULL;
}

/* Asynchronous: the test returns the reply when it chooses. */
static void
handle_later(VtControlServer *server, json_object *arguments, VtControlReply *reply,
             gpointer user_data)
{
        Fixture *f = user_data;

        g_queue_push_tail(&f->held, reply);
}

/* Asynchronous, but answers before its handler returns. */
static void
handle_now(VtControlServer *server, json_object *arguments, VtControlReply *reply,
           gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        const char *how = NULL;

        if (!vt_control_args_get_optional_string(arguments, "how", &how, NULL, &error)) {
                vt_control_reply_return_error(reply, g_steal_pointer(&error));
                return;
        }
        if (how != NULL) {
                set_error_how(&error, how);
                vt_control_reply_return_error(reply, g_steal_pointer(&error));
                return;
        }
        vt_control_reply_return(reply, arguments != NULL ? json_object_get(arguments) : NULL);
}

/* Reads every kind of argument, as set-policy and set-target will. */
static json_object *
handle_typed(VtControlServer *server, json_object *arguments, gpointer user_data, GError **error)
{
        static const char *const allowed[] = {"name", "bytes", "shares", "opt_out", "label", NULL};
        g_autoptr(json_object) ret = json_object_new_object();
        const char *name;
        const char *label = "none";
        guint64 bytes = 0;
        gint64 shares = 1000;
        gboolean opt_out = FALSE;
        gboolean have_bytes = FALSE;

        if (!vt_control_args_check(arguments, allowed, error))
                return NULL;
        name = vt_control_args_get_string(arguments, "name", error);
        if (name == NULL ||
            !vt_control_args_get_optional_size(arguments, "bytes", 1, 16 * TiB, &bytes, &have_bytes,
                                               error) ||
            !vt_control_args_get_optional_int(arguments, "shares", 1, 100000, &shares, NULL,
                                              error) ||
            !vt_control_args_get_optional_bool(arguments, "opt_out", &opt_out, NULL, error) ||
            !vt_control_args_get_optional_string(arguments, "label", &label, NULL, error))
                return NULL;
        json_object_object_add(ret, "name", json_object_new_string(name));
        if (have_bytes)
                json_object_object_add(ret, "bytes", json_object_new_int64((gint64)bytes));
        json_object_object_add(ret, "shares", json_object_new_int64(shares));
        json_object_object_add(ret, "opt_out", json_object_new_boolean(opt_out));
        json_object_object_add(ret, "label", json_object_new_string(label));
        return g_steal_pointer(&ret);
}

static VtControlServer *
server_new(Fixture *f, const char *path, guint mode)
{
        g_autoptr(GError) error = NULL;
        VtControlServer *server = vt_control_server_new(path, mode, &error);

        g_assert_no_error(error);
        g_assert_nonnull(server);
        vt_control_server_add_command(server, "echo", handle_echo, f);
        vt_control_server_add_command(server, "count", handle_count, f);
        vt_control_server_add_command(server, "fail", handle_fail, f);
        vt_control_server_add_command(server, "typed", handle_typed, f);
        vt_control_server_add_async_command(server, "later", handle_later, f);
        vt_control_server_add_async_command(server, "now", handle_now, f);
        return server;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        g_queue_init(&f->held);
        g_ptr_array_set_size(warnings, 0);
        /* GLib resets it before each test. */
        g_test_log_set_fatal_handler(on_fatal_log, NULL);
        f->dir = g_dir_make_tmp("vt-control-XXXXXX", &error);
        g_assert_no_error(error);
        /* The server makes the missing "run" directory. */
        f->path = g_build_filename(f->dir, "run", "vmtided.sock", NULL);
        f->server = server_new(f, f->path, 0);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        VtControlReply *reply;

        g_clear_pointer(&f->server, vt_control_server_free);
        /* The server removed its socket. */
        g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
        /* Replies a test left: returned after the server, they are only freed. */
        while ((reply = g_queue_pop_head(&f->held)) != NULL)
                vt_control_reply_return(reply, NULL);
        vt_test_remove_tree(f->dir);
        g_free(f->path);
        g_free(f->dir);
}

/* Waiting. */

static void
run_until(VtTestCondition done, gpointer data)
{
        g_assert_true(vt_test_run_until(done, data, VT_TEST_GUARD_US));
}

typedef struct {
        VtControlServer *server;
        guint n;
} ServerCount;

static gboolean
n_clients_is(gpointer data)
{
        ServerCount *c = data;

        return vt_control_server_get_n_clients(c->server) == c->n;
}

static gboolean
n_negotiated_is(gpointer data)
{
        ServerCount *c = data;

        return vt_control_server_get_n_negotiated(c->server) == c->n;
}

typedef struct {
        const char *part;
        guint n;
} WarningCount;

static gboolean
n_warnings_reached(gpointer data)
{
        WarningCount *c = data;

        return count_warnings(c->part) >= c->n;
}

/* Waits for @n warnings that contain @part. */
static void
wait_warnings(const char *part, guint n)
{
        WarningCount c = {part, n};

        run_until(n_warnings_reached, &c);
}

static void
wait_n_clients(VtControlServer *server, guint n)
{
        ServerCount c = {server, n};

        run_until(n_clients_is, &c);
}

static void
wait_n_negotiated(VtControlServer *server, guint n)
{
        ServerCount c = {server, n};

        run_until(n_negotiated_is, &c);
}

/* VtQmpClient: what the CLI talks through. */

static VtQmpClient *
client_connect(const char *path)
{
        g_autoptr(VtQmpClient) client = vt_qmp_client_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *address = g_strconcat("unix:", path, NULL);
        VtTestWaiter waiter = {0};

        vt_qmp_client_connect_async(client, address, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        return g_steal_pointer(&client);
}

static json_object *
client_execute(VtQmpClient *client, const char *command, const char *arguments, GError **error)
{
        g_autoptr(json_object) args = arguments != NULL ? json_tokener_parse(arguments) : NULL;
        VtTestWaiter waiter = {0};
        json_object *reply;

        g_assert_true(arguments == NULL || args != NULL);
        vt_qmp_client_execute_async(client, command, args, 0, vt_test_waiter_callback, &waiter);
        reply = vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return reply;
}

/* The server still answers: a fresh client connects and runs a command. */
static void
assert_alive(VtControlServer *server)
{
        g_autoptr(VtQmpClient) client = client_connect(vt_control_server_get_path(server));
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = client_execute(client, "echo", "{\"alive\": 42}", &error);
        json_object *alive = NULL;

        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "alive", &alive));
        g_assert_cmpint(json_object_get_int64(alive), ==, 42);
        vt_qmp_client_close(client);
}

/* Raw clients: bytes out, JSON objects in. */

typedef struct {
        GSocketConnection *connection;
        VtQmpChannel *channel; /* NULL for a client that never reads */
        GQueue messages;       /* json_object *, received */
        gboolean closed;
} RawClient;

static void
raw_on_message(VtQmpChannel *channel, json_object *message, gpointer user_data)
{
        g_queue_push_tail(&((RawClient *)user_data)->messages, json_object_get(message));
}

static void
raw_on_closed(VtQmpChannel *channel, const GError *error, gpointer user_data)
{
        ((RawClient *)user_data)->closed = TRUE;
}

static const VtQmpChannelHandlers raw_handlers = {
    .message = raw_on_message,
    .closed = raw_on_closed,
};

static RawClient *
raw_connect_full(const char *path, gboolean reads)
{
        g_autoptr(GSocketClient) socket_client = g_socket_client_new();
        g_autoptr(GSocketAddress) address = g_unix_socket_address_new(path);
        g_autoptr(GError) error = NULL;
        RawClient *raw = g_new0(RawClient, 1);

        /* A Unix connect completes in the backlog, without the server. */
        raw->connection =
            g_socket_client_connect(socket_client, G_SOCKET_CONNECTABLE(address), NULL, &error);
        g_assert_no_error(error);
        g_queue_init(&raw->messages);
        if (reads)
                raw->channel = vt_qmp_channel_new(G_IO_STREAM(raw->connection), NULL, &raw_handlers,
                                                  raw, NULL);
        return raw;
}

static RawClient *
raw_connect(const char *path)
{
        return raw_connect_full(path, TRUE);
}

static void
raw_free(RawClient *raw)
{
        if (raw->channel != NULL) {
                vt_qmp_channel_close(raw->channel);
                vt_qmp_channel_unref(raw->channel);
        }
        g_io_stream_close(G_IO_STREAM(raw->connection), NULL, NULL);
        g_object_unref(raw->connection);
        g_queue_clear_full(&raw->messages, vt_json_object_unref);
        g_free(raw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RawClient, raw_free)

/* Writes everything, letting the server read meanwhile; FALSE if the
 * server closed the connection first. */
static gboolean
raw_write(RawClient *raw, const char *data, gsize len)
{
        GPollableOutputStream *out =
            G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(G_IO_STREAM(raw->connection)));
        gsize done = 0;

        while (done < len) {
                g_autoptr(GError) error = NULL;
                gssize n = g_pollable_output_stream_write_nonblocking(out, data + done, len - done,
                                                                      NULL, &error);

                if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                        g_main_context_iteration(NULL, TRUE);
                        continue;
                }
                if (n < 0)
                        return FALSE;
                done += (gsize)n;
        }
        return TRUE;
}

static void
raw_send(RawClient *raw, const char *text)
{
        g_assert_true(raw_write(raw, text, strlen(text)));
}

static gboolean
raw_has_message(gpointer data)
{
        RawClient *raw = data;

        return !g_queue_is_empty(&raw->messages) || raw->closed;
}

static gboolean
raw_is_closed(gpointer data)
{
        return ((RawClient *)data)->closed;
}

/* The next message, waiting for it; the connection must stay up. */
static json_object *
raw_next(RawClient *raw)
{
        run_until(raw_has_message, raw);
        g_assert_false(g_queue_is_empty(&raw->messages));
        return g_queue_pop_head(&raw->messages);
}

static VtQmpMessage
raw_parse(json_object *object)
{
        g_autoptr(GError) error = NULL;
        VtQmpMessage message;

        g_assert_true(vt_qmp_message_parse(object, &message, &error));
        g_assert_no_error(error);
        return message;
}

/* Reads the greeting and negotiates. */
static RawClient *
raw_connect_negotiated(const char *path)
{
        RawClient *raw = raw_connect(path);
        g_autoptr(json_object) greeting = raw_next(raw);
        g_autoptr(json_object) reply = NULL;

        g_assert_cmpint(raw_parse(greeting).kind, ==, VT_QMP_MESSAGE_GREETING);
        raw_send(raw, "{\"execute\": \"qmp_capabilities\"}\n");
        reply = raw_next(raw);
        g_assert_cmpint(raw_parse(reply).kind, ==, VT_QMP_MESSAGE_RETURN);
        return raw;
}

static void
assert_error(json_object *object, const char *error_class, const char *desc, const char *id)
{
        VtQmpMessage message = raw_parse(object);

        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_ERROR);
        g_assert_cmpstr(message.error_class, ==, error_class);
        if (desc != NULL)
                g_assert_nonnull(strstr(message.error_desc, desc));
        if (id == NULL) {
                g_assert_null(message.id);
        } else {
                g_autoptr(json_object) expected = json_tokener_parse(id);

                g_assert_true(json_object_equal(message.id, expected));
        }
}

/* Tests. */

static void
test_greeting(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect(f->path);
        g_autoptr(json_object) greeting = raw_next(raw);
        g_autoptr(json_object) reply = NULL;
        g_autoptr(VtQmpGreeting) parsed = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtQmpClient) client = NULL;
        VtQmpMessage message = raw_parse(greeting);
        unsigned major = 99, minor = 99, micro = 99;
        struct stat st;

        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_GREETING);
        parsed = vt_qmp_greeting_parse(message.value, &error);
        g_assert_no_error(error);
        g_assert_cmpint(sscanf(VT_VERSION, "%u.%u.%u", &major, &minor, &micro), ==, 3);
        g_assert_cmpint(parsed->major, ==, major);
        g_assert_cmpint(parsed->minor, ==, minor);
        g_assert_cmpint(parsed->micro, ==, micro);
        g_assert_cmpstr(parsed->package, ==, "vmtide " VT_VERSION);
        g_assert_cmpuint(g_strv_length(parsed->capabilities), ==, 0);

        wait_n_clients(f->server, 1);
        g_assert_cmpuint(vt_control_server_get_n_negotiated(f->server), ==, 0);
        raw_send(raw, "{\"execute\": \"qmp_capabilities\", \"id\": \"neg\"}\r\n");
        reply = raw_next(raw);
        message = raw_parse(reply);
        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_RETURN);
        g_assert_cmpint(json_object_object_length(message.value), ==, 0);
        g_assert_cmpstr(json_object_get_string(message.id), ==, "neg");
        g_assert_cmpuint(vt_control_server_get_n_negotiated(f->server), ==, 1);
        g_clear_pointer(&reply, json_object_put);

        /* Once is enough; asking for a capability not offered fails. */
        raw_send(raw, "{\"execute\": \"qmp_capabilities\", \"id\": 2}\n");
        reply = raw_next(raw);
        assert_error(reply, "CommandNotFound", "already complete", "2");
        g_clear_pointer(&reply, json_object_put);
        g_clear_pointer(&raw, raw_free);
        raw = raw_connect(f->path);
        g_clear_pointer(&greeting, json_object_put);
        greeting = raw_next(raw);
        raw_send(raw, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": "
                      "[\"oob\"]}, \"id\": 3}\n");
        reply = raw_next(raw);
        assert_error(reply, "GenericError", "Capability 'oob' not available", "3");

        /* The socket is root's alone, in a directory the server made. */
        g_assert_cmpint(stat(f->path, &st), ==, 0);
        g_assert_true(S_ISSOCK(st.st_mode));
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        client = client_connect(f->path);
        g_assert_cmpstr(vt_qmp_client_get_greeting(client)->package, ==, "vmtide " VT_VERSION);
        assert_alive(f->server);
}

static void
test_before_negotiation(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect(f->path);
        g_autoptr(json_object) greeting = raw_next(raw);
        g_autoptr(json_object) reply = NULL;

        raw_send(raw, "{\"execute\": \"count\", \"id\": 1}\n");
        reply = raw_next(raw);
        assert_error(reply, "CommandNotFound",
                     "Expecting capabilities negotiation with 'qmp_capabilities'", "1");
        g_assert_cmpuint(f->n_calls, ==, 0);
        g_clear_pointer(&reply, json_object_put);

        /* Not negotiated: no events. The next message is the return. */
        vt_control_server_emit_event(f->server, "EARLY", NULL);
        raw_send(raw, "{\"execute\": \"qmp_capabilities\", \"id\": 2}\n");
        reply = raw_next(raw);
        g_assert_cmpint(raw_parse(reply).kind, ==, VT_QMP_MESSAGE_RETURN);
        assert_alive(f->server);
}

static void
test_unknown_command(Fixture *f, gconstpointer data)
{
        g_autoptr(VtQmpClient) client = client_connect(f->path);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = client_execute(client, "no-such-command", NULL, &error);

        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_COMMAND_NOT_FOUND);
        g_assert_cmpstr(error->message, ==, "The command no-such-command has not been found");
        g_assert_true(vt_qmp_client_is_connected(client));
        assert_alive(f->server);
}

typedef struct {
        const char *how;
        const char *error_class;
        const char *desc;
        VtQmpError code; /* as the client sees it */
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"guest", "GuestNotFound", "no guest named 'web9'", VT_QMP_ERROR_GENERIC},
    {"generic", "GenericError", "it broke", VT_QMP_ERROR_GENERIC},
    {"not-found", "CommandNotFound", "no such thing", VT_QMP_ERROR_COMMAND_NOT_FOUND},
    {"other-domain", "GenericError", "disk on fire", VT_QMP_ERROR_GENERIC},
};

static void
test_errors(Fixture *f, gconstpointer data)
{
        const ErrorCase *c = data;
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(VtQmpClient) client = client_connect(f->path);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = NULL;
        g_autofree char *request = g_strdup_printf(
            "{\"execute\": \"fail\", \"arguments\": {\"how\": \"%s\"}, \"id\": 7}\n", c->how);
        g_autofree char *arguments = g_strdup_printf("{\"how\": \"%s\"}", c->how);

        raw_send(raw, request);
        reply = raw_next(raw);
        assert_error(reply, c->error_class, c->desc, "7");
        g_assert_cmpstr(raw_parse(reply).error_desc, ==, c->desc);
        g_clear_pointer(&reply, json_object_put);

        /* The client keeps desc, whatever the class maps to. */
        reply = client_execute(client, "fail", arguments, &error);
        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, (gint)c->code);
        g_assert_cmpstr(error->message, ==, c->desc);
        assert_alive(f->server);
}

static void
test_ids(Fixture *f, gconstpointer data)
{
        static const char *const ids[] = {
            "1", "\"abc\"", "{\"x\": [1, 2]}", "-5", "[null]", "1.5", "true",
        };
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(GString) burst = g_string_new(NULL);

        /* All in one write: the replies come back in order. */
        for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
                g_string_append_printf(burst, "{\"execute\": \"count\", \"id\": %s}\n", ids[i]);
        g_string_append(burst, "{\"execute\": \"count\"}\n");
        raw_send(raw, burst->str);
        for (guint i = 0; i <= G_N_ELEMENTS(ids); i++) {
                g_autoptr(json_object) reply = raw_next(raw);
                VtQmpMessage message = raw_parse(reply);
                json_object *n = NULL;

                g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_RETURN);
                g_assert_true(json_object_object_get_ex(message.value, "n", &n));
                g_assert_cmpint(json_object_get_int64(n), ==, i + 1);
                if (i < G_N_ELEMENTS(ids)) {
                        g_autoptr(json_object) expected = json_tokener_parse(ids[i]);

                        g_assert_true(json_object_equal(message.id, expected));
                } else {
                        g_assert_null(message.id);
                }
        }
        assert_alive(f->server);
}

typedef struct {
        guint n;
        char *name;
        gint64 timestamp_us;
        json_object *data;
} EventLog;

static void
on_event(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
         gpointer user_data)
{
        EventLog *log = user_data;

        log->n++;
        g_free(log->name);
        log->name = g_strdup(name);
        log->timestamp_us = timestamp_us;
        g_clear_pointer(&log->data, json_object_put);
        log->data = data != NULL ? json_object_get(data) : NULL;
}

static void
event_log_clear(EventLog *log)
{
        g_free(log->name);
        json_object_put(log->data);
}

static void
test_events(Fixture *f, gconstpointer data)
{
        g_autoptr(VtQmpClient) a = client_connect(f->path);
        g_autoptr(VtQmpClient) b = client_connect(f->path);
        g_autoptr(RawClient) shy = raw_connect(f->path);
        g_autoptr(json_object) greeting = raw_next(shy);
        g_autoptr(json_object) reply = NULL;
        json_object *event_data = json_tokener_parse("{\"guest\": \"web1\", \"to\": 268435456}");
        EventLog log_a = {0}, log_b = {0};
        json_object *to = NULL;
        gint64 before, after;

        g_signal_connect(a, "event", G_CALLBACK(on_event), &log_a);
        g_signal_connect(b, "event", G_CALLBACK(on_event), &log_b);
        wait_n_negotiated(f->server, 2);
        before = g_get_real_time();
        vt_control_server_emit_event(f->server, "DECISION", event_data);
        after = g_get_real_time();
        g_assert_true(vt_test_wait_above(&log_a.n, 0, VT_TEST_GUARD_US));
        g_assert_true(vt_test_wait_above(&log_b.n, 0, VT_TEST_GUARD_US));
        g_assert_cmpstr(log_a.name, ==, "DECISION");
        g_assert_cmpstr(log_b.name, ==, "DECISION");
        g_assert_true(json_object_object_get_ex(log_b.data, "to", &to));
        g_assert_cmpint(json_object_get_int64(to), ==, 268435456);
        /* Wall clock, as QEMU's events. */
        g_assert_cmpint(log_a.timestamp_us, >=, before);
        g_assert_cmpint(log_a.timestamp_us, <=, after);

        /* Without data. */
        vt_control_server_emit_event(f->server, "AUTOMATION", NULL);
        g_assert_true(vt_test_wait_above(&log_a.n, 1, VT_TEST_GUARD_US));
        g_assert_cmpstr(log_a.name, ==, "AUTOMATION");
        g_assert_null(log_a.data);

        /* The client that never negotiated got none of them. */
        raw_send(shy, "{\"execute\": \"qmp_capabilities\"}\n");
        reply = raw_next(shy);
        g_assert_cmpint(raw_parse(reply).kind, ==, VT_QMP_MESSAGE_RETURN);
        g_assert_true(g_queue_is_empty(&shy->messages));
        event_log_clear(&log_a);
        event_log_clear(&log_b);
        assert_alive(f->server);
}

/* ---- a guest's virtio-mem device on the wire ---- */

typedef struct {
        const char *name;
        VtControlMemdev memdev;
        const char *member; /* the `memdev` member as JSON; NULL: left out */
        const char *event;  /* the MEMDEV event's data as JSON */
} MemdevCase;

#define MiB (G_GUINT64_CONSTANT(1) << 20)

static const MemdevCase memdev_cases[] = {
    {"none",
     {FALSE},
     NULL,
     "{\"guest\": \"web1\", \"present\": false, \"id\": null, \"plugged\": 0, "
     "\"requested\": 0, \"max\": 0}"},
    /* A device that went keeps no figures, whatever the backend left. */
    {"gone",
     {FALSE, "vm0", 2 * MiB, 256 * MiB, 256 * MiB, 512 * MiB, "virtio-mem-first", TRUE},
     NULL,
     "{\"guest\": \"web1\", \"present\": false, \"id\": null, \"plugged\": 0, "
     "\"requested\": 0, \"max\": 0}"},
    {"plugged",
     {TRUE, "vm0", 2 * MiB, 256 * MiB, 512 * MiB, 512 * MiB, "virtio-mem-first", FALSE},
     "{\"id\": \"vm0\", \"block_size\": 2097152, \"plugged\": 268435456, "
     "\"requested\": 536870912, \"max\": 536870912, \"strategy\": \"virtio-mem-first\", "
     "\"unplug_stuck\": false}",
     "{\"guest\": \"web1\", \"present\": true, \"id\": \"vm0\", \"plugged\": 268435456, "
     "\"requested\": 536870912, \"max\": 536870912}"},
    {"unplug-stuck",
     {TRUE, "vm0", 2 * MiB, 256 * MiB, 128 * MiB, 512 * MiB, "virtio-mem-only", TRUE},
     "{\"id\": \"vm0\", \"block_size\": 2097152, \"plugged\": 268435456, "
     "\"requested\": 134217728, \"max\": 536870912, \"strategy\": \"virtio-mem-only\", "
     "\"unplug_stuck\": true}",
     "{\"guest\": \"web1\", \"present\": true, \"id\": \"vm0\", \"plugged\": 268435456, "
     "\"requested\": 134217728, \"max\": 536870912}"},
    /* What a device reports is not trusted: a size past a JSON integer is
     * clamped, an id cut inside a character (a backend's 64-byte buffer)
     * made valid UTF-8, a missing one null. */
    {"hostile",
     {TRUE, "m\xc3", G_MAXUINT64, G_MAXUINT64, 0, G_MAXUINT64, NULL, FALSE},
     "{\"id\": \"m\xef\xbf\xbd\", \"block_size\": 9223372036854775807, "
     "\"plugged\": 9223372036854775807, \"requested\": 0, "
     "\"max\": 9223372036854775807, \"strategy\": null, \"unplug_stuck\": false}",
     "{\"guest\": \"web1\", \"present\": true, \"id\": \"m\xef\xbf\xbd\", "
     "\"plugged\": 9223372036854775807, \"requested\": 0, "
     "\"max\": 9223372036854775807}"},
    {"no-id",
     {TRUE, NULL, 2 * MiB, 0, 0, 512 * MiB, "balloon-only", FALSE},
     "{\"id\": null, \"block_size\": 2097152, \"plugged\": 0, \"requested\": 0, "
     "\"max\": 536870912, \"strategy\": \"balloon-only\", \"unplug_stuck\": false}",
     "{\"guest\": \"web1\", \"present\": true, \"id\": null, \"plugged\": 0, "
     "\"requested\": 0, \"max\": 536870912}"},
};

static void
assert_json_equal(json_object *got, const char *expected_text)
{
        g_autoptr(json_object) expected = json_tokener_parse(expected_text);

        g_assert_nonnull(expected);
        if (!json_object_equal(got, expected))
                g_error("got %s, not %s", json_object_to_json_string(got), expected_text);
}

static void
test_memdev_json(gconstpointer data)
{
        const MemdevCase *c = data;
        g_autoptr(json_object) member = vt_control_memdev_to_json(&c->memdev);
        g_autoptr(json_object) event = vt_control_memdev_event_new("web1", &c->memdev);
        const char *text;

        if (c->member == NULL) {
                g_assert_null(member);
        } else {
                assert_json_equal(member, c->member);
                /* What goes out parses again: valid UTF-8, integers in range. */
                text = json_object_to_json_string_ext(member, JSON_C_TO_STRING_PLAIN);
                g_assert_true(g_utf8_validate(text, -1, NULL));
        }
        assert_json_equal(event, c->event);
        text = json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN);
        g_assert_true(g_utf8_validate(text, -1, NULL));
}

/* A MEMDEV event built from a hostile device reaches a client whole. */
static void
test_memdev_event(Fixture *f, gconstpointer data)
{
        g_autoptr(VtQmpClient) client = client_connect(f->path);
        const VtControlMemdev memdev = {
            TRUE,        "vm\xe2\x82",       2 * MiB, 256 * MiB, 512 * MiB,
            G_MAXUINT64, "virtio-mem-first", FALSE};
        EventLog log = {0};
        json_object *member = NULL;

        g_signal_connect(client, "event", G_CALLBACK(on_event), &log);
        wait_n_negotiated(f->server, 1);
        vt_control_server_emit_event(f->server, VT_CONTROL_EVENT_MEMDEV,
                                     vt_control_memdev_event_new("web1", &memdev));
        g_assert_true(vt_test_wait_above(&log.n, 0, VT_TEST_GUARD_US));
        g_assert_cmpstr(log.name, ==, "MEMDEV");
        g_assert_true(json_object_object_get_ex(log.data, "id", &member));
        /* One replacement character a byte cut, as g_utf8_make_valid() writes. */
        g_assert_true(g_str_has_prefix(json_object_get_string(member), "vm\xef\xbf\xbd"));
        g_assert_true(g_utf8_validate(json_object_get_string(member), -1, NULL));
        g_assert_true(json_object_object_get_ex(log.data, "max", &member));
        g_assert_cmpint(json_object_get_int64(member), ==, G_MAXINT64);
        event_log_clear(&log);
        assert_alive(f->server);
}

typedef struct {
        const char *name;
        const char *input;  /* NULL: built by the test */
        gboolean malformed; /* counted as malformed */
        const char *desc;   /* substring of the GenericError */
        const char *id;     /* the error's id, NULL for none */
        guint depth;        /* nested arguments, for input NULL */
} BadInput;

static const BadInput bad_inputs[] = {
    {"garbage", "this is not json\n", TRUE, "malformed JSON", NULL},
    {"array", "[1, 2, 3]\n", TRUE, "a message must be an object", NULL},
    {"number", "42\n", TRUE, "a message must be an object", NULL},
    {"string", "\"execute\"\n", TRUE, "a message must be an object", NULL},
    {"bad-utf8", "{\"execute\": \"\xff\xfe\"}\n", TRUE, "malformed JSON", NULL},
    {"nan", "{\"execute\": \"echo\", \"arguments\": {\"x\": NaN}}\n", TRUE, NULL, NULL},
    {"no-execute", "{\"id\": 3}\n", FALSE, "QMP input lacks member 'execute'", "3"},
    {"execute-number", "{\"execute\": 5, \"id\": 4}\n", FALSE, "'execute' must be a string", "4"},
    {"execute-null", "{\"execute\": null, \"id\": 4}\n", FALSE, "'execute' must be a string", "4"},
    {"execute-nul", "{\"execute\": \"echo\\u0000x\", \"id\": 5}\n", FALSE,
     "'execute' must be a string", "5"},
    {"arguments-array", "{\"execute\": \"echo\", \"arguments\": [1], \"id\": 6}\n", FALSE,
     "'arguments' must be an object", "6"},
    {"arguments-null", "{\"execute\": \"echo\", \"arguments\": null, \"id\": 6}\n", FALSE,
     "'arguments' must be an object", "6"},
    {"deep", NULL, TRUE, NULL, NULL, VT_CONTROL_SERVER_MAX_DEPTH},
};

/* A request whose arguments nest @depth objects deeper: the request is
 * @depth + 1 levels deep. */
static char *
build_deep_request(guint depth)
{
        GString *s = g_string_new("{\"execute\": \"echo\", \"arguments\": ");

        for (guint i = 0; i < depth; i++)
                g_string_append(s, i + 1 < depth ? "{\"a\": " : "{\"a\": 1");
        for (guint i = 0; i < depth; i++)
                g_string_append_c(s, '}');
        g_string_append(s, ", \"id\": \"deep\"}\n");
        return g_string_free(s, FALSE);
}

static void
test_bad_input(Fixture *f, gconstpointer data)
{
        const BadInput *c = data;
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autofree char *input =
            c->input != NULL ? g_strdup(c->input) : build_deep_request(c->depth);
        g_autoptr(json_object) reply = NULL;
        g_autoptr(json_object) after = NULL;
        guint64 malformed = vt_control_server_get_n_malformed(f->server);

        raw_send(raw, input);
        reply = raw_next(raw);
        assert_error(reply, "GenericError", c->desc, c->id);
        g_assert_cmpuint(vt_control_server_get_n_malformed(f->server), ==,
                         malformed + (c->malformed ? 1 : 0));
        /* Logged at warning level, with the client and the reason. */
        g_assert_cmpuint(count_warnings(c->malformed ? "bad input: " : "request rejected: "), ==,
                         1);
        if (c->desc != NULL)
                g_assert_cmpuint(count_warnings(c->desc), ==, 1);
        g_assert_cmpuint(f->n_calls, ==, 0);

        /* The connection goes on. */
        raw_send(raw, "{\"execute\": \"count\", \"id\": \"after\"}\n");
        after = raw_next(raw);
        g_assert_cmpint(raw_parse(after).kind, ==, VT_QMP_MESSAGE_RETURN);
        g_assert_cmpuint(f->n_calls, ==, 1);
        assert_alive(f->server);
}

/* The deepest request the protocol allows gets through. */
static void
test_deep_enough(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autofree char *input = build_deep_request(VT_CONTROL_SERVER_MAX_DEPTH - 1);
        g_autoptr(json_object) reply = NULL;

        raw_send(raw, input);
        reply = raw_next(raw);
        g_assert_cmpint(raw_parse(reply).kind, ==, VT_QMP_MESSAGE_RETURN);
        g_assert_cmpuint(vt_control_server_get_n_malformed(f->server), ==, 0);
        assert_alive(f->server);
}

typedef struct {
        const char *name;
        const char *arguments;
        const char *error;  /* NULL: success */
        const char *expect; /* members the return value has */
} ArgsCase;

static const ArgsCase args_cases[] = {
    {"minimal", "{\"name\": \"web1\"}", NULL,
     "{\"name\": \"web1\", \"shares\": 1000, \"opt_out\": false, \"label\": \"none\"}"},
    {"all",
     "{\"name\": \"web1\", \"bytes\": 536870912, \"shares\": 2000, \"opt_out\": true, "
     "\"label\": \"x\"}",
     NULL,
     "{\"name\": \"web1\", \"bytes\": 536870912, \"shares\": 2000, \"opt_out\": true, "
     "\"label\": \"x\"}"},
    {"null-is-absent", "{\"name\": \"web1\", \"bytes\": null, \"shares\": null}", NULL,
     "{\"name\": \"web1\", \"shares\": 1000}"},
    {"bounds", "{\"name\": \"w\", \"bytes\": 17592186044416, \"shares\": 100000}", NULL,
     "{\"bytes\": 17592186044416, \"shares\": 100000}"},
    {"no-arguments", NULL, "missing argument 'name'", NULL},
    {"missing", "{}", "missing argument 'name'", NULL},
    {"name-number", "{\"name\": 5}", "argument 'name' must be a string", NULL},
    {"name-nul", "{\"name\": \"a\\u0000b\"}", "argument 'name' must be a string", NULL},
    {"bytes-string", "{\"name\": \"w\", \"bytes\": \"1G\"}", "argument 'bytes' must be an integer",
     NULL},
    {"bytes-double", "{\"name\": \"w\", \"bytes\": 1.5}", "argument 'bytes' must be an integer",
     NULL},
    {"bytes-zero", "{\"name\": \"w\", \"bytes\": 0}",
     "argument 'bytes' must be from 1 to 17592186044416 bytes", NULL},
    {"bytes-negative", "{\"name\": \"w\", \"bytes\": -1}",
     "argument 'bytes' must be from 1 to 17592186044416 bytes", NULL},
    {"bytes-huge", "{\"name\": \"w\", \"bytes\": 18446744073709551615}",
     "argument 'bytes' must be from 1", NULL},
    {"bytes-past-max", "{\"name\": \"w\", \"bytes\": 17592186044417}",
     "argument 'bytes' must be from 1", NULL},
    {"shares-zero", "{\"name\": \"w\", \"shares\": 0}",
     "argument 'shares' must be from 1 to 100000", NULL},
    {"shares-bool", "{\"name\": \"w\", \"shares\": true}", "argument 'shares' must be an integer",
     NULL},
    {"opt-out-int", "{\"name\": \"w\", \"opt_out\": 1}", "argument 'opt_out' must be a boolean",
     NULL},
    {"label-object", "{\"name\": \"w\", \"label\": {}}", "argument 'label' must be a string", NULL},
    {"unknown", "{\"name\": \"w\", \"colour\": \"red\"}", "unknown argument 'colour'", NULL},
};

static void
test_arguments(Fixture *f, gconstpointer data)
{
        const ArgsCase *c = data;
        g_autoptr(VtQmpClient) client = client_connect(f->path);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = client_execute(client, "typed", c->arguments, &error);
        g_autoptr(json_object) expect = NULL;

        if (c->error != NULL) {
                g_assert_null(reply);
                g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_GENERIC);
                g_assert_nonnull(strstr(error->message, c->error));
                assert_alive(f->server);
                return;
        }
        g_assert_no_error(error);
        expect = json_tokener_parse(c->expect);
        json_object_object_foreach (expect, key, value) {
                json_object *got = NULL;

                g_assert_true(json_object_object_get_ex(reply, key, &got));
                g_assert_true(json_object_equal(got, value));
        }
        if (!json_object_object_get_ex(expect, "bytes", NULL))
                g_assert_false(json_object_object_get_ex(reply, "bytes", NULL));
        assert_alive(f->server);
}

/* A 1 MiB request is dropped at 64 KiB; its sender gets an error and
 * goes on, and others are served meanwhile. */
static void
test_too_big(Fixture *f, gconstpointer data)
{
        const gsize size = 1024 * 1024;
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(VtQmpClient) other = client_connect(f->path);
        g_autofree char *request = g_malloc(size);
        g_autoptr(json_object) reply = NULL;
        g_autoptr(json_object) after = NULL;
        g_autoptr(json_object) other_reply = NULL;
        g_autoptr(GError) error = NULL;
        const char *head = "{\"execute\": \"echo\", \"arguments\": {\"pad\": \"";

        memset(request, 'p', size);
        memcpy(request, head, strlen(head));
        memcpy(request + size - 4, "\"}}\n", 4);
        g_assert_true(raw_write(raw, request, size));
        reply = raw_next(raw);
        assert_error(reply, "GenericError", "longer than 65536 bytes", NULL);
        g_assert_cmpuint(vt_control_server_get_n_malformed(f->server), ==, 1);

        other_reply = client_execute(other, "count", NULL, &error);
        g_assert_no_error(error);
        raw_send(raw, "{\"execute\": \"count\"}\n");
        after = raw_next(raw);
        g_assert_cmpint(raw_parse(after).kind, ==, VT_QMP_MESSAGE_RETURN);
        g_assert_cmpuint(f->n_calls, ==, 2);
        assert_alive(f->server);
}

/* Half a request, then the client hangs up: counted, forgotten. */
static void
test_half_line(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        guint64 malformed = vt_control_server_get_n_malformed(f->server);

        g_assert_cmpuint(vt_control_server_get_n_clients(f->server), ==, 1);
        raw_send(raw, "{\"execute\": \"count\", \"argu");
        g_clear_pointer(&raw, raw_free);
        wait_n_clients(f->server, 0);
        g_assert_cmpuint(vt_control_server_get_n_malformed(f->server), ==, malformed + 1);
        g_assert_cmpuint(vt_control_server_get_n_negotiated(f->server), ==, 0);
        g_assert_cmpuint(f->n_calls, ==, 0);
        assert_alive(f->server);
}

/* Requests, then the client hangs up without reading the replies: the
 * server drops it at the first reply it cannot deliver. */
static void
test_hangup_before_reply(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);

        raw_send(raw, "{\"execute\": \"count\"}\n{\"execute\": \"count\"}\n");
        g_clear_pointer(&raw, raw_free);
        wait_n_clients(f->server, 0);
        g_assert_cmpuint(f->n_calls, >=, 1);
        g_assert_cmpuint(f->n_calls, <=, 2);
        assert_alive(f->server);
}

/* A client that never reads is cut off once 1 MiB is queued for it; a
 * client that reads gets every event meanwhile. */
static void
test_slow_reader(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) sloth = raw_connect_full(f->path, FALSE);
        g_autoptr(VtQmpClient) reader = client_connect(f->path);
        g_autofree char *padding = g_strnfill(16 * 1024, 'e');
        EventLog log = {0};
        guint n = 0;

        g_signal_connect(reader, "event", G_CALLBACK(on_event), &log);
        raw_send(sloth, "{\"execute\": \"qmp_capabilities\"}\n");
        wait_n_negotiated(f->server, 2);
        /* 16 KiB each: the socket buffer, then the 1 MiB bound, are full
         * long before 1000. */
        while (vt_control_server_get_n_clients(f->server) == 2) {
                json_object *event_data = json_object_new_object();

                g_assert_cmpuint(n, <, 1000);
                json_object_object_add(event_data, "pad", json_object_new_string(padding));
                vt_control_server_emit_event(f->server, "FLOOD", event_data);
                n++;
                g_assert_true(vt_test_wait_above(&log.n, n - 1, VT_TEST_GUARD_US));
                /* The cut-off is reported from an idle source. */
                while (g_main_context_pending(NULL))
                        g_main_context_iteration(NULL, FALSE);
        }
        g_assert_cmpuint(n, >, VT_CONTROL_SERVER_MAX_OUTPUT / (16 * 1024));
        g_assert_cmpuint(log.n, ==, n);
        g_assert_cmpuint(vt_control_server_get_n_negotiated(f->server), ==, 1);
        g_assert_true(vt_qmp_client_is_connected(reader));
        event_log_clear(&log);
        assert_alive(f->server);
}

static void
test_max_clients(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)raw_free);
        g_autoptr(RawClient) extra = NULL;

        /* Negotiated and just active: none of them may be replaced. */
        for (guint i = 0; i < VT_CONTROL_SERVER_MAX_CLIENTS; i++)
                g_ptr_array_add(clients, raw_connect_negotiated(f->path));
        g_assert_cmpuint(vt_control_server_get_n_clients(f->server), ==,
                         VT_CONTROL_SERVER_MAX_CLIENTS);

        /* The 33rd is closed at once, without a greeting. */
        extra = raw_connect(f->path);
        run_until(raw_is_closed, extra);
        g_assert_true(g_queue_is_empty(&extra->messages));
        g_assert_cmpuint(vt_control_server_get_n_refused(f->server), ==, 1);
        g_assert_cmpuint(vt_control_server_get_n_clients(f->server), ==,
                         VT_CONTROL_SERVER_MAX_CLIENTS);

        g_assert_cmpuint(count_warnings("refused"), ==, 1);

        /* One leaves: there is room again. */
        g_ptr_array_remove_index(clients, 0);
        wait_n_clients(f->server, VT_CONTROL_SERVER_MAX_CLIENTS - 1);
        assert_alive(f->server);
}

static gboolean
all_closed(gpointer data)
{
        GPtrArray *clients = data;

        for (guint i = 0; i < clients->len; i++)
                if (!((RawClient *)g_ptr_array_index(clients, i))->closed)
                        return FALSE;
        return TRUE;
}

/* Issue 16: as many clients as the limit connect and never negotiate. A
 * real client still gets in at once (taking the oldest idle one's slot),
 * and the others are closed when their timeout expires; the closures are
 * logged, summarised rather than one line each. */
static void
test_idle_not_negotiated(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)raw_free);
        g_autofree char *why =
            g_strdup_printf("no 'qmp_capabilities' within %u ms", IDLE_TIMEOUT_MS);
        gint64 start;

        vt_control_server_set_negotiate_timeout(f->server, IDLE_TIMEOUT_MS);
        for (guint i = 0; i < VT_CONTROL_SERVER_MAX_CLIENTS; i++) {
                RawClient *raw = raw_connect(f->path);

                g_ptr_array_add(clients, raw);
                json_object_put(raw_next(raw));
        }
        g_assert_cmpuint(vt_control_server_get_n_clients(f->server), ==,
                         VT_CONTROL_SERVER_MAX_CLIENTS);

        start = g_get_monotonic_time();
        assert_alive(f->server);
        g_assert_cmpint(g_get_monotonic_time() - start, <,
                        (gint64)(IDLE_TIMEOUT_MS + IDLE_MARGIN_MS) * 1000);
        g_assert_cmpuint(vt_control_server_get_n_refused(f->server), ==, 0);
        g_assert_cmpuint(count_warnings("closed for a new one: no 'qmp_capabilities' after"), ==,
                         1);

        /* The others go when their time is up. */
        run_until(all_closed, clients);
        wait_n_clients(f->server, 0);
        g_assert_cmpuint(vt_control_server_get_n_closed(f->server), ==,
                         VT_CONTROL_SERVER_MAX_CLIENTS);
        /* Freed, the server logs the summary it still holds. */
        g_clear_pointer(&f->server, vt_control_server_free);
        g_assert_cmpuint(count_warnings(why), >=, 1);
        g_assert_cmpuint(warnings->len, <, 5);
        f->server = server_new(f, f->path, 0);
        assert_alive(f->server);
}

/* Issue 16: as many clients as the limit negotiate and then say nothing.
 * A newcomer is refused while they are fresh (and that is logged), and
 * gets the slot of the one silent longest once they have been silent for
 * the timeout. */
static void
test_idle_negotiated(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)raw_free);
        g_autoptr(RawClient) early = NULL;
        g_autoptr(RawClient) sentinel = NULL;

        vt_control_server_set_negotiate_timeout(f->server, IDLE_TIMEOUT_MS);
        /* The eviction comes right after the sentinel's closure. */
        vt_control_server_set_log_interval(f->server, 1);
        for (guint i = 0; i < VT_CONTROL_SERVER_MAX_CLIENTS; i++)
                g_ptr_array_add(clients, raw_connect_negotiated(f->path));

        early = raw_connect(f->path);
        run_until(raw_is_closed, early);
        g_assert_true(g_queue_is_empty(&early->messages));
        g_assert_cmpuint(vt_control_server_get_n_refused(f->server), ==, 1);
        g_assert_cmpuint(count_warnings("refused: 32 clients"), ==, 1);

        /* The timeout passes, as an event: a client that connects after
         * the others went silent and never negotiates is closed. */
        g_ptr_array_remove_index(clients, clients->len - 1);
        wait_n_clients(f->server, VT_CONTROL_SERVER_MAX_CLIENTS - 1);
        sentinel = raw_connect(f->path);
        run_until(raw_is_closed, sentinel);
        g_ptr_array_add(clients, raw_connect_negotiated(f->path));

        /* Full again: the newcomer takes the slot of the first, silent since. */
        assert_alive(f->server);
        run_until(raw_is_closed, g_ptr_array_index(clients, 0));
        g_assert_cmpuint(vt_control_server_get_n_closed(f->server), ==, 2);
        /* At once, or in the summary 1 ms later. */
        wait_warnings("closed for a new one: silent for", 1);
        for (guint i = 1; i < clients->len; i++)
                g_assert_false(((RawClient *)g_ptr_array_index(clients, i))->closed);
}

/* Issue 16: refusals that repeat are logged once, then summarised: one
 * line when the interval ends, with how many there were. */
static void
test_refused_summarised(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)raw_free);
        g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func((GDestroyNotify)raw_free);

        vt_control_server_set_log_interval(f->server, 500);
        for (guint i = 0; i < VT_CONTROL_SERVER_MAX_CLIENTS; i++)
                g_ptr_array_add(clients, raw_connect_negotiated(f->path));
        for (guint i = 0; i < 5; i++)
                g_ptr_array_add(extra, raw_connect(f->path));
        run_until(all_closed, extra);
        g_assert_cmpuint(vt_control_server_get_n_refused(f->server), ==, 5);
        g_assert_cmpuint(count_warnings("refused"), ==, 1);

        wait_warnings("4 more connections refused in the last ", 1);
        g_assert_cmpuint(count_warnings(" ms, the latest: connection #"), ==, 1);
        g_assert_cmpuint(count_warnings("refused"), ==, 2);
        g_assert_cmpuint(warnings->len, ==, 2);
}

/* A socket file nobody listens on, as a crashed daemon leaves. */
static void
make_stale_socket(const char *path)
{
        struct sockaddr_un address = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpuint(strlen(path), <, sizeof(address.sun_path));
        strcpy(address.sun_path, path);
        g_assert_cmpint(bind(fd, (struct sockaddr *)&address, sizeof(address)), ==, 0);
        close(fd);
        g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_stale_socket(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "stale.sock", NULL);
        g_autoptr(VtControlServer) server = NULL;
        struct stat st;

        make_stale_socket(path);
        server = server_new(f, path, 0660);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0660);
        assert_alive(server);
        g_clear_pointer(&server, vt_control_server_free);
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
        assert_alive(f->server);
}

static void
test_live_socket(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtControlServer) second = vt_control_server_new(f->path, 0, &error);
        g_autofree char *expected = g_strdup_printf("vmtided already running on %s", f->path);

        g_assert_null(second);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
        g_assert_cmpstr(error->message, ==, expected);
        g_assert_true(g_file_test(f->path, G_FILE_TEST_EXISTS));
        assert_alive(f->server);
}

static void
test_not_a_socket(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "precious.txt", NULL);
        g_autofree char *contents = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtControlServer) server = NULL;

        g_assert_true(g_file_set_contents(path, "keep me", -1, &error));
        server = vt_control_server_new(path, 0, &error);
        g_assert_null(server);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
        g_assert_nonnull(strstr(error->message, "is not a socket"));
        g_assert_nonnull(strstr(error->message, path));
        g_clear_error(&error);
        g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
        g_assert_cmpstr(contents, ==, "keep me");
        assert_alive(f->server);
}

static void
test_bad_paths(Fixture *f, gconstpointer data)
{
        g_autofree char *blocker = g_build_filename(f->dir, "file", NULL);
        g_autofree char *under_file = g_build_filename(blocker, "x.sock", NULL);
        g_autofree char *long_name = g_strnfill(200, 'l');
        g_autofree char *too_long = g_build_filename(f->dir, long_name, NULL);
        g_autoptr(GError) error = NULL;
        VtControlServer *server;

        server = vt_control_server_new(too_long, 0, &error);
        g_assert_null(server);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG);
        g_clear_error(&error);

        g_assert_true(g_file_set_contents(blocker, "", -1, &error));
        server = vt_control_server_new(under_file, 0, &error);
        g_assert_null(server);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, blocker));
        assert_alive(f->server);
}

/* A socket someone else put there after us is not ours to remove. */
static void
test_replaced_socket_kept(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "replaced.sock", NULL);
        g_autoptr(VtControlServer) server = server_new(f, path, 0);

        g_assert_cmpint(g_unlink(path), ==, 0);
        make_stale_socket(path);
        g_clear_pointer(&server, vt_control_server_free);
        g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
        g_assert_cmpint(g_unlink(path), ==, 0);
        assert_alive(f->server);
}

/* Asynchronous commands. */

typedef struct {
        GQueue *queue;
        guint n;
} QueueCount;

static gboolean
queue_length_is(gpointer data)
{
        QueueCount *c = data;

        return g_queue_get_length(c->queue) == c->n;
}

/* Waits until `later` holds @n replies. */
static void
wait_held(Fixture *f, guint n)
{
        QueueCount c = {&f->held, n};

        run_until(queue_length_is, &c);
}

/* The reply `later` took first. */
static VtControlReply *
take_held(Fixture *f)
{
        wait_held(f, 1);
        return g_queue_pop_head(&f->held);
}

/* The next message is a return with @id (JSON) whose value has @key. */
static void
assert_return(json_object *object, const char *id, const char *key)
{
        VtQmpMessage message = raw_parse(object);
        g_autoptr(json_object) expected = json_tokener_parse(id);

        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_RETURN);
        g_assert_true(json_object_equal(message.id, expected));
        if (key != NULL)
                g_assert_true(json_object_object_get_ex(message.value, key, NULL));
        else
                g_assert_cmpint(json_object_object_length(message.value), ==, 0);
}

/* The reply comes when the command returns it, after the loop ran. */
static void
test_async_later(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(json_object) reply = NULL;
        json_object *value = json_object_new_object();
        VtControlReply *held;
        json_object *done = NULL;

        raw_send(raw, "{\"execute\": \"later\", \"id\": {\"n\": 1}}\n");
        held = take_held(f);
        /* Another client is served meanwhile, and this one hears nothing. */
        assert_alive(f->server);
        g_assert_true(g_queue_is_empty(&raw->messages));

        json_object_object_add(value, "done", json_object_new_boolean(TRUE));
        vt_control_reply_return(held, value);
        reply = raw_next(raw);
        assert_return(reply, "{\"n\": 1}", "done");
        g_assert_true(json_object_object_get_ex(raw_parse(reply).value, "done", &done));
        g_assert_true(json_object_get_boolean(done));

        /* A NULL value is {}; the client goes on as before. */
        g_clear_pointer(&reply, json_object_put);
        raw_send(raw, "{\"execute\": \"later\", \"id\": 2}\n");
        vt_control_reply_return(take_held(f), NULL);
        reply = raw_next(raw);
        assert_return(reply, "2", NULL);
        assert_alive(f->server);
}

/* A command that answers during its call works through VtQmpClient. */
static void
test_async_now(Fixture *f, gconstpointer data)
{
        g_autoptr(VtQmpClient) client = client_connect(f->path);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = client_execute(client, "now", "{\"x\": 7}", &error);
        json_object *x = NULL;

        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "x", &x));
        g_assert_cmpint(json_object_get_int64(x), ==, 7);
        g_clear_pointer(&reply, json_object_put);

        reply = client_execute(client, "now", "{\"how\": \"guest\"}", &error);
        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_GENERIC);
        g_assert_cmpstr(error->message, ==, "no guest named 'web9'");
        assert_alive(f->server);
}

/*
 * Pipelined in one write: replies keep the order of the requests, an
 * asynchronous one holding back everything after it (a malformed line's
 * error included), and one that holds again in the middle of the kept
 * input holding back the rest.
 */
static void
test_async_order(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(json_object) reply = NULL;

        raw_send(raw,
                 "{\"execute\": \"later\", \"id\": \"a\"}\n"
                 "{\"execute\": \"count\", \"id\": \"b\"}\n"
                 "this is not json\n"
                 "{\"execute\": \"now\", \"arguments\": {\"c\": \"/\\u0000\"}, \"id\": \"c\"}\n"
                 "{\"execute\": \"later\", \"id\": \"d\"}\n"
                 "{\"execute\": \"count\", \"id\": \"e\"}\n");
        wait_held(f, 1);
        assert_alive(f->server);
        g_assert_cmpuint(f->n_calls, ==, 0);
        g_assert_true(g_queue_is_empty(&raw->messages));

        vt_control_reply_return(g_queue_pop_head(&f->held), NULL);
        reply = raw_next(raw);
        assert_return(reply, "\"a\"", NULL);
        g_clear_pointer(&reply, json_object_put);
        reply = raw_next(raw);
        assert_return(reply, "\"b\"", "n");
        g_clear_pointer(&reply, json_object_put);
        reply = raw_next(raw);
        assert_error(reply, "GenericError", "malformed JSON", NULL);
        g_clear_pointer(&reply, json_object_put);
        reply = raw_next(raw);
        assert_return(reply, "\"c\"", "c");
        /* Kept as text and read back: the arguments are the same. */
        {
                json_object *c = NULL;

                g_assert_true(json_object_object_get_ex(raw_parse(reply).value, "c", &c));
                g_assert_cmpint(json_object_get_string_len(c), ==, 2);
                g_assert_cmpmem(json_object_get_string(c), 2, "/\0", 2);
        }
        g_clear_pointer(&reply, json_object_put);

        /* `d` holds again: `e` waits for it. */
        wait_held(f, 1);
        assert_alive(f->server);
        g_assert_cmpuint(f->n_calls, ==, 1);
        g_assert_true(g_queue_is_empty(&raw->messages));
        vt_control_reply_return(g_queue_pop_head(&f->held), NULL);
        reply = raw_next(raw);
        assert_return(reply, "\"d\"", NULL);
        g_clear_pointer(&reply, json_object_put);
        reply = raw_next(raw);
        assert_return(reply, "\"e\"", "n");
        g_assert_cmpuint(f->n_calls, ==, 2);
        assert_alive(f->server);
}

/* An error returned later: mapped to its class as for a sync command,
 * with the request's id. */
static void
test_async_errors(Fixture *f, gconstpointer data)
{
        const ErrorCase *c = data;
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(json_object) reply = NULL;
        GError *error = NULL;

        raw_send(raw, "{\"execute\": \"later\", \"id\": 7}\n");
        set_error_how(&error, c->how);
        vt_control_reply_return_error(take_held(f), error);
        reply = raw_next(raw);
        assert_error(reply, c->error_class, c->desc, "7");
        g_assert_cmpstr(raw_parse(reply).error_desc, ==, c->desc);
        assert_alive(f->server);
}

/* The client hangs up with a reply outstanding (and a request behind it):
 * returning it later does nothing, the request never runs. */
static void
test_async_client_gone(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(RawClient) other = raw_connect_negotiated(f->path);
        GError *error = NULL;

        raw_send(raw, "{\"execute\": \"later\"}\n{\"execute\": \"count\"}\n");
        raw_send(other, "{\"execute\": \"later\"}\n");
        wait_held(f, 2);
        g_clear_pointer(&raw, raw_free);
        g_clear_pointer(&other, raw_free);
        wait_n_clients(f->server, 0);
        vt_control_reply_return(g_queue_pop_head(&f->held), json_object_new_object());
        g_set_error(&error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC, "too late");
        vt_control_reply_return_error(g_queue_pop_head(&f->held), error);
        assert_alive(f->server);
        g_assert_cmpuint(f->n_calls, ==, 0);
}

/* The server is freed with replies outstanding: returning them later
 * does nothing. */
static void
test_async_server_freed(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "second.sock", NULL);
        VtControlServer *second = server_new(f, path, 0);
        g_autoptr(RawClient) raw = raw_connect_negotiated(path);
        GError *error = NULL;

        raw_send(raw, "{\"execute\": \"later\"}\n{\"execute\": \"count\"}\n");
        raw_send(raw, "{\"execute\": \"count\"}\n");
        wait_held(f, 1);
        vt_control_server_free(second);
        run_until(raw_is_closed, raw);
        vt_control_reply_return(g_queue_pop_head(&f->held), json_object_new_object());

        g_clear_pointer(&raw, raw_free);
        second = server_new(f, path, 0);
        raw = raw_connect_negotiated(path);
        raw_send(raw, "{\"execute\": \"later\"}\n");
        wait_held(f, 1);
        g_clear_pointer(&second, vt_control_server_free);
        g_set_error(&error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC, "too late");
        vt_control_reply_return_error(g_queue_pop_head(&f->held), error);
        g_assert_cmpuint(f->n_calls, ==, 0);
        assert_alive(f->server);
}

/* Events reach a client whose reply is outstanding, before the reply. */
static void
test_async_events(Fixture *f, gconstpointer data)
{
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autoptr(json_object) event = NULL;
        g_autoptr(json_object) reply = NULL;
        VtQmpMessage message;

        raw_send(raw, "{\"execute\": \"later\", \"id\": 1}\n");
        wait_held(f, 1);
        vt_control_server_emit_event(f->server, "BALLOON_DONE", NULL);
        event = raw_next(raw);
        message = raw_parse(event);
        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_EVENT);
        g_assert_cmpstr(message.name, ==, "BALLOON_DONE");
        vt_control_reply_return(g_queue_pop_head(&f->held), NULL);
        reply = raw_next(raw);
        assert_return(reply, "1", NULL);
        assert_alive(f->server);
}

/* Requests piling up behind an outstanding reply are bounded: past
 * VT_CONTROL_SERVER_MAX_QUEUED the client is cut off; below, all run. */
static void
test_async_flood(Fixture *f, gconstpointer data)
{
        const gsize pad = 60 * 1024;
        const guint n_fit = VT_CONTROL_SERVER_MAX_QUEUED / (pad + 128);
        g_autoptr(RawClient) raw = raw_connect_negotiated(f->path);
        g_autofree char *padding = g_strnfill(pad, 'p');
        g_autofree char *request = g_strdup_printf(
            "{\"execute\": \"count\", \"arguments\": {\"pad\": \"%s\"}}\n", padding);
        gboolean written = TRUE;

        /* Within the bound: every request is answered once the reply left. */
        raw_send(raw, "{\"execute\": \"later\"}\n");
        wait_held(f, 1);
        for (guint i = 0; i < n_fit; i++)
                raw_send(raw, request);
        assert_alive(f->server);
        g_assert_cmpuint(f->n_calls, ==, 0);
        vt_control_reply_return(g_queue_pop_head(&f->held), NULL);
        for (guint i = 0; i <= n_fit; i++) {
                g_autoptr(json_object) reply = raw_next(raw);

                g_assert_cmpint(raw_parse(reply).kind, ==, VT_QMP_MESSAGE_RETURN);
        }
        g_assert_cmpuint(f->n_calls, ==, n_fit);

        /* Past it: cut off; the reply returned later does nothing. */
        raw_send(raw, "{\"execute\": \"later\"}\n");
        wait_held(f, 1);
        for (guint i = 0; written && i < 2 * n_fit; i++)
                written = raw_write(raw, request, strlen(request));
        run_until(raw_is_closed, raw);
        wait_n_clients(f->server, 0);
        vt_control_reply_return(g_queue_pop_head(&f->held), NULL);
        g_assert_cmpuint(f->n_calls, ==, n_fit);
        assert_alive(f->server);
}

#define ADD(path, test, data) g_test_add(path, Fixture, data, fixture_setup, test, fixture_teardown)

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        warnings = g_ptr_array_new_with_free_func(g_free);
        g_log_set_handler("vmtide-control", G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, on_warning,
                          NULL);

        ADD("/control/server/greeting", test_greeting, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(memdev_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/control/memdev/json/%s", memdev_cases[i].name);

                g_test_add_data_func(path, &memdev_cases[i], test_memdev_json);
        }
        ADD("/control/memdev/event", test_memdev_event, NULL);
        ADD("/control/server/before-negotiation", test_before_negotiation, NULL);
        ADD("/control/server/unknown-command", test_unknown_command, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(error_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/control/server/errors/%s", error_cases[i].how);

                ADD(path, test_errors, &error_cases[i]);
        }
        ADD("/control/server/ids", test_ids, NULL);
        ADD("/control/server/events", test_events, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
                g_autofree char *path =
                    g_strdup_printf("/control/server/bad-input/%s", bad_inputs[i].name);

                ADD(path, test_bad_input, &bad_inputs[i]);
        }
        ADD("/control/server/deep-enough", test_deep_enough, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(args_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/control/server/arguments/%s", args_cases[i].name);

                ADD(path, test_arguments, &args_cases[i]);
        }
        ADD("/control/server/too-big", test_too_big, NULL);
        ADD("/control/server/half-line", test_half_line, NULL);
        ADD("/control/server/hangup-before-reply", test_hangup_before_reply, NULL);
        ADD("/control/server/slow-reader", test_slow_reader, NULL);
        ADD("/control/server/max-clients", test_max_clients, NULL);
        ADD("/control/server/idle/not-negotiated", test_idle_not_negotiated, NULL);
        ADD("/control/server/idle/negotiated", test_idle_negotiated, NULL);
        ADD("/control/server/idle/refused-summarised", test_refused_summarised, NULL);
        ADD("/control/server/stale-socket", test_stale_socket, NULL);
        ADD("/control/server/live-socket", test_live_socket, NULL);
        ADD("/control/server/not-a-socket", test_not_a_socket, NULL);
        ADD("/control/server/bad-paths", test_bad_paths, NULL);
        ADD("/control/server/replaced-socket-kept", test_replaced_socket_kept, NULL);
        ADD("/control/server/async/later", test_async_later, NULL);
        ADD("/control/server/async/now", test_async_now, NULL);
        ADD("/control/server/async/order", test_async_order, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(error_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/control/server/async/errors/%s", error_cases[i].how);

                ADD(path, test_async_errors, &error_cases[i]);
        }
        ADD("/control/server/async/client-gone", test_async_client_gone, NULL);
        ADD("/control/server/async/server-freed", test_async_server_freed, NULL);
        ADD("/control/server/async/events", test_async_events, NULL);
        ADD("/control/server/async/flood", test_async_flood, NULL);
        return g_test_run();
}
