/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the asynchronous QMP client against a scripted peer: the
 * faults a real QEMU cannot produce on demand. The same client against a
 * real QEMU is tested in test-qmp-guest.c.
 */
#include <string.h>

#include "qmp/qmp-client.h"
#include "qmp/qmp-sync.h"
#include "tests/vt-fake-qmp.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

/*
 * The lines the QMP library logs, captured instead of printed: a warning
 * is fatal in a test unless it is expected, and these tests count them.
 */
typedef struct {
        GPtrArray *lines; /* "LEVEL message" */
        guint handler_id;
} LogCapture;

static gboolean
log_capture_not_fatal(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
        return g_strcmp0(domain, "vmtide-qmp") != 0;
}

static void
log_capture_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
        LogCapture *capture = data;

        g_ptr_array_add(
            capture->lines,
            g_strdup_printf("%s %s", (level & G_LOG_LEVEL_WARNING) ? "W" : "D", message));
}

static void
log_capture_start(LogCapture *capture)
{
        capture->lines = g_ptr_array_new_with_free_func(g_free);
        capture->handler_id = g_log_set_handler("vmtide-qmp", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL,
                                                log_capture_handler, capture);
        g_test_log_set_fatal_handler(log_capture_not_fatal, NULL);
}

static void
log_capture_stop(LogCapture *capture)
{
        for (guint i = 0; i < capture->lines->len; i++)
                g_test_message("logged: %s", (const char *)capture->lines->pdata[i]);
        g_log_remove_handler("vmtide-qmp", capture->handler_id);
        g_test_log_set_fatal_handler(NULL, NULL);
        g_ptr_array_unref(capture->lines);
}

/* How many captured lines start with @level and contain @text. */
static guint
log_capture_count(LogCapture *capture, char level, const char *text)
{
        guint n = 0;

        for (guint i = 0; i < capture->lines->len; i++) {
                const char *line = capture->lines->pdata[i];

                n += line[0] == level && strstr(line, text) != NULL;
        }
        return n;
}

static void
run_until(VtTestCondition done, gpointer data)
{
        g_assert_true(vt_test_run_until(done, data, VT_TEST_GUARD_US));
}

static VtQmpClient *
connect_to(VtFakeQmp *peer)
{
        g_autoptr(VtQmpClient) client = vt_qmp_client_new();
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        vt_qmp_client_connect_async(client, vt_fake_qmp_get_address(peer), vt_test_waiter_callback,
                                    &waiter);
        g_assert_true(vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        g_clear_object(&waiter.result);
        g_assert_true(vt_qmp_client_is_connected(client));
        return g_steal_pointer(&client);
}

static json_object *
execute(VtQmpClient *client, const char *command, const char *arguments, gint64 timeout_us,
        GError **error)
{
        g_autoptr(json_object) args = arguments != NULL ? json_tokener_parse(arguments) : NULL;
        VtTestWaiter waiter = {0};
        json_object *reply;

        vt_qmp_client_execute_async(client, command, args, timeout_us, vt_test_waiter_callback,
                                    &waiter);
        reply = vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiter), error);
        g_object_unref(waiter.result);
        return reply;
}

static gint64
get_int(json_object *object, const char *name)
{
        json_object *member = NULL;

        g_assert_true(json_object_object_get_ex(object, name, &member));
        return json_object_get_int64(member);
}

static void
test_client_connect(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, NULL, NULL);
        g_autoptr(VtQmpClient) client = connect_to(peer);
        const VtQmpGreeting *g = vt_qmp_client_get_greeting(client);

        g_assert_cmpint(g->major, ==, 7);
        g_assert_cmpint(g->minor, ==, 2);
        g_assert_true(vt_qmp_greeting_has_capability(g, "oob"));
        g_assert_cmpuint(vt_qmp_client_get_n_pending(client), ==, 0);
}

/* Holds ten commands, then answers them in reverse order, all in one write. */
static void
reverse_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        GPtrArray *held = user_data;

        g_ptr_array_add(held, json_object_get(command->value));
        g_ptr_array_add(held, json_object_get(command->id));
        if (held->len < 20)
                return;
        g_autoptr(GString) burst = g_string_new(NULL);
        for (guint i = held->len; i >= 2; i -= 2) {
                g_autoptr(json_object) reply =
                    vt_qmp_message_new_return(held->pdata[i - 2], held->pdata[i - 1]);

                g_string_append_printf(burst, "%s\r\n", json_object_to_json_string(reply));
        }
        vt_fake_qmp_send(peer, burst->str, burst->len);
}

static void
test_client_in_flight(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(vt_json_object_unref);
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, reverse_handler, held);
        g_autoptr(VtQmpClient) client = connect_to(peer);
        VtTestWaiter waiters[10] = {0};

        for (guint i = 0; i < G_N_ELEMENTS(waiters); i++) {
                g_autoptr(json_object) args = json_object_new_object();

                json_object_object_add(args, "n", json_object_new_int(i));
                vt_qmp_client_execute_async(client, "echo", args, 0, vt_test_waiter_callback,
                                            &waiters[i]);
        }
        g_assert_cmpuint(vt_qmp_client_get_n_pending(client), ==, 10);
        for (guint i = 0; i < G_N_ELEMENTS(waiters); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(json_object) reply =
                    vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiters[i]), &error);

                g_assert_no_error(error);
                g_assert_cmpint(get_int(reply, "n"), ==, i);
                g_object_unref(waiters[i].result);
        }
        g_assert_cmpuint(vt_qmp_client_get_n_pending(client), ==, 0);
}

/* Answers "split" in two writes cut mid-token (often, not always, two reads:
 * test-qmp-framer covers every split), then an event and the reply
 * to "burst" in one write, then recorded error replies with the right ids. */
static void
script_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        gint64 id = json_object_get_int64(command->id);
        g_autofree char *text = NULL;

        if (g_str_equal(command->name, "split")) {
                text = g_strdup_printf("{\"return\": {\"actual\": 53687"
                                       "0912}, \"id\": %" G_GINT64_FORMAT "}\r\n",
                                       id);
                vt_fake_qmp_send(peer, text, 20);
                vt_fake_qmp_send(peer, text + 20, strlen(text) - 20);
        } else if (g_str_equal(command->name, "burst")) {
                text = g_strdup_printf(
                    "{\"event\": \"BALLOON_CHANGE\", \"data\": {\"actual\": 268435456}, "
                    "\"timestamp\": {\"seconds\": 1795507584, \"microseconds\": 5}}\r\n"
                    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, "
                    "\"microseconds\": 0}}\r\n"
                    "{\"return\": {\"x-unknown\": [1, 2]}, \"id\": %" G_GINT64_FORMAT
                    ", \"x-extra\": true}\r\n",
                    id);
                vt_fake_qmp_send(peer, text, strlen(text));
        } else if (g_str_has_prefix(command->name, "recorded-")) {
                g_autofree char *raw =
                    vt_test_load_recorded_qmp(command->name + strlen("recorded-"));
                g_autoptr(json_object) reply = json_tokener_parse(raw);

                json_object_object_add(reply, "id", json_object_get(command->id));
                text = g_strdup_printf("%s\n", json_object_to_json_string(reply));
                vt_fake_qmp_send(peer, text, strlen(text));
        } else if (g_str_equal(command->name, "kvm-missing-cap")) {
                text = g_strdup_printf("{\"error\": {\"class\": \"KVMMissingCap\", \"desc\": "
                                       "\"Using KVM without synchronous MMU, balloon "
                                       "unavailable\"}, \"id\": %" G_GINT64_FORMAT "}\n",
                                       id);
                vt_fake_qmp_send(peer, text, strlen(text));
        } else {
                vt_fake_qmp_reply(peer, command, "{}");
        }
}

typedef struct {
        guint n_balloon;
        guint n_any;
        gint64 actual;
        gint64 timestamp_us;
} EventLog;

static void
on_balloon_change(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                  gpointer user_data)
{
        EventLog *log = user_data;

        g_assert_cmpstr(name, ==, "BALLOON_CHANGE");
        log->n_balloon++;
        log->actual = get_int(data, "actual");
        log->timestamp_us = timestamp_us;
}

static void
on_any_event(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
             gpointer user_data)
{
        ((EventLog *)user_data)->n_any++;
}

static void
test_client_framing_and_events(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, script_handler, NULL);
        g_autoptr(VtQmpClient) client = connect_to(peer);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) split = NULL;
        g_autoptr(json_object) burst = NULL;
        EventLog log = {0};

        g_signal_connect(client, "event::BALLOON_CHANGE", G_CALLBACK(on_balloon_change), &log);
        g_signal_connect(client, "event", G_CALLBACK(on_any_event), &log);

        split = execute(client, "split", NULL, 0, &error);
        g_assert_no_error(error);
        g_assert_cmpint(get_int(split, "actual"), ==, 536870912);

        burst = execute(client, "burst", NULL, 0, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(burst, "x-unknown", NULL));
        /* Events were dispatched before the reply that followed them. */
        g_assert_cmpuint(log.n_balloon, ==, 1);
        g_assert_cmpuint(log.n_any, ==, 2);
        g_assert_cmpint(log.actual, ==, 268435456);
        g_assert_cmpint(log.timestamp_us, ==, (gint64)1795507584 * G_USEC_PER_SEC + 5);
        g_assert_cmpuint(vt_qmp_client_get_n_dropped(client), ==, 0);
}

static void
test_client_errors(void)
{
        static const struct {
                const char *command;
                VtQmpError code;
                const char *desc;
        } cases[] = {
            {"recorded-balloon-device-not-active", VT_QMP_ERROR_DEVICE_NOT_ACTIVE,
             "No balloon device has been activated"},
            {"recorded-command-not-found", VT_QMP_ERROR_COMMAND_NOT_FOUND,
             "The command no-such-command has not been found"},
            {"recorded-device-not-found", VT_QMP_ERROR_DEVICE_NOT_FOUND,
             "Device '/machine/peripheral/nope' not found"},
            {"recorded-balloon-bad-argument", VT_QMP_ERROR_GENERIC,
             "Invalid parameter type for 'value', expected: integer"},
            {"kvm-missing-cap", VT_QMP_ERROR_KVM_MISSING_CAP,
             "Using KVM without synchronous MMU, balloon unavailable"},
        };
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, script_handler, NULL);
        g_autoptr(VtQmpClient) client = connect_to(peer);

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(json_object) reply = execute(client, cases[i].command, NULL, 0, &error);

                g_assert_null(reply);
                g_assert_error(error, VT_QMP_ERROR, (gint)cases[i].code);
                g_assert_cmpstr(error->message, ==, cases[i].desc);
        }
        g_assert_true(vt_qmp_client_is_connected(client));
}

/* "slow" is never answered until "late" makes the peer answer it. */
static void
late_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        json_object **slow_id = user_data;

        if (g_str_equal(command->name, "slow")) {
                *slow_id = json_object_get(command->id);
                return;
        }
        if (g_str_equal(command->name, "late")) {
                g_autoptr(json_object) stale = vt_qmp_message_new_return(NULL, *slow_id);
                g_autofree char *text =
                    g_strdup_printf("%s\r\n", json_object_to_json_string(stale));

                vt_fake_qmp_send(peer, text, strlen(text));
        }
        vt_fake_qmp_reply(peer, command, "{\"late\": true}");
}

static void
test_client_timeout(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(json_object) slow_id = NULL;
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, late_handler, &slow_id);
        g_autoptr(VtQmpClient) client = connect_to(peer);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = NULL;

        reply = execute(client, "slow", NULL, 50 * 1000, &error);
        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT);
        g_assert_nonnull(strstr(error->message, "'slow'"));
        g_clear_error(&error);
        g_assert_cmpuint(vt_qmp_client_get_n_pending(client), ==, 0);

        /* The late reply to "slow" is dropped; "late" gets its own. */
        reply = execute(client, "late", NULL, 0, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "late", NULL));
        g_assert_cmpuint(vt_qmp_client_get_n_dropped(client), ==, 1);
        g_assert_true(vt_qmp_client_is_connected(client));
}

/* Hangs up after the third command; nothing is answered. */
static void
hangup_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        if (json_object_get_int64(command->id) >= 4)
                vt_fake_qmp_hangup(peer);
}

static void
on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        guint *n = user_data;

        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        (*n)++;
}

static void
test_client_hangup(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, hangup_handler, NULL);
        g_autoptr(VtQmpClient) client = connect_to(peer);
        VtTestWaiter waiters[3] = {0};
        guint n_disconnected = 0;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) after = NULL;

        g_signal_connect(client, "disconnected", G_CALLBACK(on_disconnected), &n_disconnected);
        for (guint i = 0; i < G_N_ELEMENTS(waiters); i++)
                vt_qmp_client_execute_async(client, "query-balloon", NULL, -1,
                                            vt_test_waiter_callback, &waiters[i]);
        for (guint i = 0; i < G_N_ELEMENTS(waiters); i++) {
                g_autoptr(GError) command_error = NULL;
                g_autoptr(json_object) reply = vt_qmp_client_execute_finish(
                    client, vt_test_waiter_wait(&waiters[i]), &command_error);

                g_assert_null(reply);
                g_assert_error(command_error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
                g_assert_nonnull(strstr(command_error->message, "'query-balloon'"));
                g_object_unref(waiters[i].result);
        }
        g_assert_true(vt_test_wait_above(&n_disconnected, 0, VT_TEST_GUARD_US));
        g_assert_cmpuint(n_disconnected, ==, 1);
        g_assert_false(vt_qmp_client_is_connected(client));

        /* Commands after the loss fail at once. */
        after = execute(client, "query-balloon", NULL, 0, &error);
        g_assert_null(after);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
}

typedef struct {
        const char *name;
        const char *greeting; /* NULL: recorded greeting */
        const char *address;  /* NULL: the peer's */
        gboolean silent;      /* no greeting at all */
        GQuark domain;
        gint code;
} ConnectCase;

static const ConnectCase connect_cases[] = {
    {"not-qmp", "{\"return\": {}}\r\n", NULL, FALSE, 0, VT_QMP_ERROR_PROTOCOL},
    {"garbage", "SSH-2.0-OpenSSH_9.2\r\n", NULL, FALSE, 0, VT_QMP_ERROR_PROTOCOL},
    {"bad-version", "{\"QMP\": {\"version\": {\"qemu\": \"7.2\"}, \"capabilities\": []}}\n", NULL,
     FALSE, 0, VT_QMP_ERROR_PROTOCOL},
    {"silent", NULL, NULL, TRUE, 0, VT_QMP_ERROR_TIMEOUT},
    {"no-socket", NULL, "unix:/nonexistent/vmtide/qmp.sock", FALSE, 1, G_IO_ERROR_NOT_FOUND},
    {"bad-address", NULL, "qmp.sock", FALSE, 1, G_IO_ERROR_INVALID_ARGUMENT},
    {"tcp-no-port", NULL, "tcp:localhost", FALSE, 1, G_IO_ERROR_INVALID_ARGUMENT},
};

static void
test_client_connect_fails(gconstpointer data)
{
        const ConnectCase *c = data;
        g_autofree char *recorded = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(c->silent     ? NULL
                                                    : c->greeting ? c->greeting
                                                                  : recorded,
                                                    NULL, NULL);
        g_autoptr(VtQmpClient) client = vt_qmp_client_new();
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        vt_qmp_client_set_timeout(client, 200 * 1000);
        vt_qmp_client_connect_async(client, c->address ? c->address : vt_fake_qmp_get_address(peer),
                                    vt_test_waiter_callback, &waiter);
        g_assert_false(vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), &error));
        g_assert_error(error, (c->domain == 0 ? VT_QMP_ERROR : G_IO_ERROR), c->code);
        g_assert_false(vt_qmp_client_is_connected(client));
        g_object_unref(waiter.result);
}

/* Garbage, a reply with an unknown id, an id-less reply and an 8 MiB line,
 * then the real answer: the client drops the rest and carries on. */
static void
hostile_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        static const char noise[] = "this is not json\r\n"
                                    "{\"return\": {}, \"id\": 999999}\r\n"
                                    "{\"return\": {}}\r\n"
                                    "{\"return\": {}, \"id\": \"a string\"}\r\n"
                                    "{\"QMP\": {}}\r\n"
                                    "[1, 2, 3]\r\n"
                                    "{\"error\": 5, \"id\": 1}\r\n";
        const gsize huge = 8 * 1024 * 1024;
        g_autofree char *line = g_malloc(huge);

        vt_fake_qmp_send(peer, noise, strlen(noise));
        memset(line, ' ', huge);
        memcpy(line, "{\"return\": \"", 12);
        memcpy(line + huge - 4, "\"}\r\n", 4);
        vt_fake_qmp_send(peer, line, huge);
        vt_fake_qmp_reply(peer, command, "{\"survived\": true}");
}

static void
test_client_hostile(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, hostile_handler, NULL);
        g_autoptr(VtQmpClient) client = vt_qmp_client_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = NULL;
        const VtQmpChannelBudget unlimited = {0};
        VtTestWaiter waiter = {0};
        LogCapture log;

        log_capture_start(&log);
        /* The garbage, not its rate, is the point here: no budget. */
        vt_qmp_client_set_budget(client, &unlimited);
        vt_qmp_client_set_max_message(client, 1024 * 1024);
        vt_qmp_client_connect_async(client, vt_fake_qmp_get_address(peer), vt_test_waiter_callback,
                                    &waiter);
        g_assert_true(vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), &error));
        g_object_unref(waiter.result);

        reply = execute(client, "query-status", NULL, 0, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "survived", NULL));
        /* garbage, 3 unmatched replies, greeting, array, bad error, giant */
        g_assert_cmpuint(vt_qmp_client_get_n_dropped(client), ==, 8);
        g_assert_true(vt_qmp_client_is_connected(client));

        /* One warning per kind, the rest held for the summary: malformed
         * (garbage, giant), messages (no id, string id, greeting, array,
         * bad error); the late reply is routine, at debug level. */
        g_assert_cmpuint(log_capture_count(&log, 'W', "QMP peer 'unix:"), ==, 2);
        g_assert_cmpuint(log_capture_count(&log, 'W', "malformed JSON dropped"), ==, 1);
        g_assert_cmpuint(log_capture_count(&log, 'W', "reply without a usable id dropped"), ==, 1);
        g_assert_cmpuint(log_capture_count(&log, 'D', "reply to unknown id 999999"), ==, 1);
        vt_qmp_client_close(client);
        g_assert_cmpuint(log_capture_count(&log, 'W', "2 more malformed pieces dropped"), ==, 1);
        g_assert_cmpuint(log_capture_count(&log, 'W', "3 more messages dropped"), ==, 1);
        log_capture_stop(&log);
}

/* The blocking wrapper, with the peer answering from its own thread. */
static void
test_client_sync(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, script_handler, NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtQmpClient) client =
            vt_qmp_client_new_sync(vt_fake_qmp_get_address(peer), 0, &error);
        g_autoptr(json_object) reply = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(client);
        g_assert_true(vt_qmp_client_get_context(client) != g_main_context_default());
        reply = vt_qmp_client_execute_sync(client, "split", NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(get_int(reply, "actual"), ==, 536870912);
        g_clear_pointer(&reply, json_object_put);
        reply =
            vt_qmp_client_execute_sync(client, "recorded-balloon-device-not-active", NULL, &error);
        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE);
        g_clear_error(&error);

        g_clear_object(&client);
        client = vt_qmp_client_new_sync("unix:/nonexistent/qmp.sock", 0, &error);
        g_assert_null(client);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* Closing with commands in flight fails them; the client can be dropped
 * from inside a reply callback. */
static void
on_reply_drop_client(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtQmpClient **client = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = vt_qmp_client_execute_finish(*client, result, &error);

        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_clear_object(client);
}

static gboolean
pointer_is_null(gpointer data)
{
        return *(gpointer *)data == NULL;
}

static void
test_client_close(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(json_object) slow_id = NULL;
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, late_handler, &slow_id);
        VtQmpClient *client = connect_to(peer);
        GWeakRef weak;

        g_weak_ref_init(&weak, client);
        vt_qmp_client_execute_async(client, "slow", NULL, -1, on_reply_drop_client, &client);
        vt_qmp_client_close(client);
        run_until(pointer_is_null, &client);
        g_assert_null(g_weak_ref_get(&weak));
        g_weak_ref_clear(&weak);
}

static gboolean
on_nested_done(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

static gboolean
flag_set(gpointer data)
{
        return *(gboolean *)data;
}

/* A reply callback that runs a main loop past the command's timeout: the
 * timeout of a completed command must not fire (a critical, fatal here). */
static void
on_reply_nested_loop(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        gboolean done = FALSE;

        g_assert_no_error(error);
        g_timeout_add(300, on_nested_done, &done);
        g_assert_true(vt_test_run_until(flag_set, &done, VT_TEST_GUARD_US));
        *(gboolean *)user_data = TRUE;
}

static void
test_client_nested_loop(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, NULL, NULL);
        g_autoptr(VtQmpClient) client = connect_to(peer);
        gboolean done = FALSE;

        vt_qmp_client_execute_async(client, "query-status", NULL, 100 * 1000, on_reply_nested_loop,
                                    &done);
        g_assert_true(vt_test_run_until(flag_set, &done, VT_TEST_GUARD_US));
        g_assert_true(vt_qmp_client_is_connected(client));
}

/* A peer that stops reading: it answers nothing until released. */
typedef struct {
        GMutex lock;
        GCond cond;
        gboolean released;
} Gate;

static void
gate_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        Gate *gate = user_data;

        g_mutex_lock(&gate->lock);
        while (!gate->released)
                g_cond_wait(&gate->cond, &gate->lock);
        g_mutex_unlock(&gate->lock);
}

static void
gate_release(Gate *gate)
{
        g_mutex_lock(&gate->lock);
        gate->released = TRUE;
        g_cond_broadcast(&gate->cond);
        g_mutex_unlock(&gate->lock);
}

typedef struct {
        guint n_done;
        guint n_not_sent;
} FloodLog;

static void
on_flood_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
        FloodLog *log = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        if (strstr(error->message, "not sent") != NULL)
                log->n_not_sent++;
        log->n_done++;
}

/* Output to a peer that does not read is bounded: past the bound the
 * connection is closed and every command fails. */
static void
test_client_peer_not_reading(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        Gate gate = {.released = FALSE};
        g_autoptr(VtFakeQmp) peer = NULL;
        g_autoptr(VtQmpClient) client = NULL;
        g_autoptr(json_object) args = json_object_new_object();
        g_autofree char *padding = g_strnfill(64 * 1024, 'p');
        const guint n = 100; /* 6.4 MiB, over the 4 MiB bound */
        guint n_disconnected = 0;
        FloodLog log = {0};

        g_mutex_init(&gate.lock);
        g_cond_init(&gate.cond);
        peer = vt_fake_qmp_new(greeting, gate_handler, &gate);
        client = connect_to(peer);
        g_signal_connect(client, "disconnected", G_CALLBACK(on_disconnected), &n_disconnected);
        json_object_object_add(args, "padding", json_object_new_string(padding));
        for (guint i = 0; i < n; i++)
                vt_qmp_client_execute_async(client, "query-status", args, -1, on_flood_reply, &log);
        g_assert_true(vt_test_wait_above(&n_disconnected, 0, VT_TEST_GUARD_US));
        g_assert_cmpuint(log.n_done, ==, n);
        g_assert_cmpuint(log.n_not_sent, >, 0);
        g_assert_false(vt_qmp_client_is_connected(client));
        gate_release(&gate);
        g_clear_pointer(&peer, vt_fake_qmp_free);
        g_mutex_clear(&gate.lock);
        g_cond_clear(&gate.cond);
}

/*
 * Hostile peers that stream. "flood-events" is answered with BALLOON_CHANGE
 * events, "flood-random" with random bytes, both for as long as the client
 * reads; "big" with a reply of user_data bytes, any other with 1500.
 */
static void
flood_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        g_autoptr(GString) block = g_string_new(NULL);
        g_autoptr(GRand) rand = g_rand_new_with_seed(16);

        if (!g_str_has_prefix(command->name, "flood-")) {
                /* "big" as large as asked, the others as large as a
                 * query-migrate reply in the middle of a migration. */
                gsize size = g_str_equal(command->name, "big") ? GPOINTER_TO_SIZE(user_data) : 1500;
                g_autofree char *pad = g_strnfill(size, 'p');
                g_autofree char *value = g_strdup_printf("{\"pad\": \"%s\"}", pad);

                vt_fake_qmp_reply(peer, command, value);
                return;
        }
        while (block->len < 16 * 1024) {
                if (g_str_equal(command->name, "flood-events"))
                        g_string_append(block,
                                        "{\"timestamp\": {\"seconds\": 1795507584, "
                                        "\"microseconds\": 5}, \"event\": \"BALLOON_CHANGE\", "
                                        "\"data\": {\"actual\": 268435456}}\r\n");
                else
                        g_string_append_c(block, (char)g_rand_int_range(rand, 0, 256));
        }
        vt_fake_qmp_stream(peer, block->str, block->len);
}

static void
on_event_count(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
               gpointer user_data)
{
        (*(guint64 *)user_data)++;
}

static void
on_disconnected_keep(VtQmpClient *client, const GError *error, gpointer user_data)
{
        GError **kept = user_data;

        g_assert_null(*kept);
        *kept = g_error_copy(error);
}

static gboolean
error_set(gpointer data)
{
        return *(GError **)data != NULL;
}

typedef struct {
        const char *command;
        gboolean events; /* else malformed input */
} FloodCase;

/*
 * A peer that streams is read within its budget: at most max_read bytes a
 * wake-up, at most burst + rate × elapsed in all, paused when over it and
 * closed once it stayed over for max_over_us; the warnings come once.
 */
static void
test_client_budget_flood(gconstpointer data)
{
        const FloodCase *c = data;
        const VtQmpChannelBudget budget = {
            .max_read = 4096,
            .rate = 64 * 1024,
            .burst = 16 * 1024,
            .overhead = 128,
            .max_over_us = 500 * 1000,
        };
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer = vt_fake_qmp_new(greeting, flood_handler, NULL);
        g_autoptr(VtQmpClient) client = vt_qmp_client_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) lost = NULL;
        VtQmpChannelStats stats;
        VtTestWaiter waiter = {0};
        guint64 n_events = 0;
        gint64 start;
        double elapsed_s;
        LogCapture log;

        log_capture_start(&log);
        vt_qmp_client_set_budget(client, &budget);
        vt_qmp_client_set_max_message(client, 8192);
        g_signal_connect(client, "event", G_CALLBACK(on_event_count), &n_events);
        g_signal_connect(client, "disconnected", G_CALLBACK(on_disconnected_keep), &lost);
        start = g_get_monotonic_time();
        vt_qmp_client_connect_async(client, vt_fake_qmp_get_address(peer), vt_test_waiter_callback,
                                    &waiter);
        g_assert_true(vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), &error));
        g_clear_object(&waiter.result);
        vt_qmp_client_execute_async(client, c->command, NULL, -1, vt_test_waiter_callback, &waiter);
        run_until(error_set, &lost);
        elapsed_s = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        g_assert_null(vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiter), &error));
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_clear_object(&waiter.result);

        vt_qmp_client_get_stats(client, &stats);
        g_test_message("%.3f s: %" G_GUINT64_FORMAT " bytes in %" G_GUINT64_FORMAT
                       " reads (at most %" G_GSIZE_FORMAT "), %" G_GUINT64_FORMAT
                       " pauses, %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " dropped",
                       elapsed_s, stats.n_bytes, stats.n_reads, stats.max_read, stats.n_pauses,
                       n_events, vt_qmp_client_get_n_dropped(client));
        /* Closed for its budget, after pausing, within the bounds. */
        g_assert_error(lost, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_assert_nonnull(strstr(lost->message, "more than its budget of 65536 bytes/s"));
        g_assert_cmpuint(stats.max_read, <=, budget.max_read);
        g_assert_cmpuint(stats.n_pauses, >=, 2);
        g_assert_cmpfloat((double)stats.n_bytes, <=,
                          (8192 + budget.max_read) + budget.rate * elapsed_s);
        if (c->events)
                g_assert_cmpuint(n_events, >, 0);
        else
                g_assert_cmpuint(vt_qmp_client_get_n_dropped(client), >, 1);

        /* Each kind once, then at most its summary; the closure once. */
        g_assert_cmpuint(log_capture_count(&log, 'W', "reading paused"), ==, 1);
        g_assert_cmpuint(log_capture_count(&log, 'W', "for 0."), ==, 1);
        g_assert_cmpuint(log_capture_count(&log, 'W', "closed"), ==, 1);
        g_assert_cmpuint(log_capture_count(&log, 'W', "malformed"), <=, c->events ? 0 : 2);
        g_assert_cmpuint(log_capture_count(&log, 'W', ""), <=, c->events ? 2 : 4);
        log_capture_stop(&log);
}

/* Legitimate traffic is never paused: a reply as large as a message may
 * be, and a migration's worth of replies and events, at once. */
static void
test_client_budget_legit(void)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");
        g_autoptr(VtFakeQmp) peer =
            vt_fake_qmp_new(greeting, flood_handler, GSIZE_TO_POINTER(1000 * 1000));
        g_autoptr(VtQmpClient) client = connect_to(peer);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = execute(client, "big", NULL, 0, &error);
        VtQmpChannelStats stats;

        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "pad", NULL));
        for (guint i = 0; i < 200; i++) {
                g_autoptr(json_object) status = execute(client, "query-migrate", NULL, 0, &error);

                g_assert_no_error(error);
                g_assert_true(json_object_object_get_ex(status, "pad", NULL));
        }
        vt_qmp_client_get_stats(client, &stats);
        g_assert_cmpuint(stats.n_bytes, >, 1000 * 1000);
        g_assert_cmpuint(stats.max_read, <=, VT_QMP_CLIENT_BUDGET_MAX_READ);
        g_assert_cmpuint(stats.n_pauses, ==, 0);
        g_assert_true(vt_qmp_client_is_connected(client));
}

int
main(int argc, char **argv)
{
        static const FloodCase flood_cases[] = {
            {"flood-events", TRUE},
            {"flood-random", FALSE},
        };

        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/qmp/client/connect", test_client_connect);
        g_test_add_func("/qmp/client/in-flight", test_client_in_flight);
        g_test_add_func("/qmp/client/framing-and-events", test_client_framing_and_events);
        g_test_add_func("/qmp/client/errors", test_client_errors);
        g_test_add_func("/qmp/client/timeout", test_client_timeout);
        g_test_add_func("/qmp/client/hangup", test_client_hangup);
        g_test_add_func("/qmp/client/hostile", test_client_hostile);
        g_test_add_func("/qmp/client/sync", test_client_sync);
        g_test_add_func("/qmp/client/close", test_client_close);
        g_test_add_func("/qmp/client/nested-loop", test_client_nested_loop);
        g_test_add_func("/qmp/client/peer-not-reading", test_client_peer_not_reading);
        g_test_add_data_func("/qmp/client/budget/events", &flood_cases[0],
                             test_client_budget_flood);
        g_test_add_data_func("/qmp/client/budget/random", &flood_cases[1],
                             test_client_budget_flood);
        g_test_add_func("/qmp/client/budget/legit", test_client_budget_legit);
        for (guint i = 0; i < G_N_ELEMENTS(connect_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/qmp/client/connect-fails/%s", connect_cases[i].name);

                g_test_add_data_func(path, &connect_cases[i], test_client_connect_fails);
        }
        return g_test_run();
}
