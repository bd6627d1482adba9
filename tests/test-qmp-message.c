/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of QMP message classification, error mapping and builders. */
#include "qmp/qmp-error.h"
#include "qmp/qmp-message.h"
#include "vt-autocleanups.h"

static json_object *
load_recorded(const char *name)
{
        g_autofree char *file = g_strconcat(name, ".json", NULL);
        g_autofree char *path =
            g_test_build_filename(G_TEST_DIST, "data", "qmp", "qemu-7.2", file, NULL);
        g_autofree char *contents = NULL;
        g_autoptr(GError) error = NULL;

        g_file_get_contents(path, &contents, NULL, &error);
        g_assert_no_error(error);
        return json_tokener_parse(contents);
}

typedef struct {
        const char *file;
        VtQmpMessageKind kind;
        gint64 id; /* -1: none */
        const char *name;
        VtQmpError code; /* for errors */
        const char *desc;
} RecordedCase;

static const RecordedCase recorded_cases[] = {
    {"greeting", VT_QMP_MESSAGE_GREETING, -1},
    {"qmp-capabilities", VT_QMP_MESSAGE_RETURN, 1},
    {"query-balloon", VT_QMP_MESSAGE_RETURN, 3},
    {"command-not-found", VT_QMP_MESSAGE_ERROR, 4, NULL, VT_QMP_ERROR_COMMAND_NOT_FOUND,
     "The command no-such-command has not been found"},
    {"balloon-bad-argument", VT_QMP_MESSAGE_ERROR, 5, NULL, VT_QMP_ERROR_GENERIC,
     "Invalid parameter type for 'value', expected: integer"},
    {"device-not-found", VT_QMP_MESSAGE_ERROR, 8, NULL, VT_QMP_ERROR_DEVICE_NOT_FOUND,
     "Device '/machine/peripheral/nope' not found"},
    {"balloon-device-not-active", VT_QMP_MESSAGE_ERROR, 1, NULL, VT_QMP_ERROR_DEVICE_NOT_ACTIVE,
     "No balloon device has been activated"},
    {"event-resume", VT_QMP_MESSAGE_EVENT, -1, "RESUME"},
    {"event-shutdown", VT_QMP_MESSAGE_EVENT, -1, "SHUTDOWN"},
};

static void
test_message_recorded(gconstpointer data)
{
        const RecordedCase *c = data;
        g_autoptr(json_object) object = load_recorded(c->file);
        g_autoptr(GError) error = NULL;
        VtQmpMessage message;

        g_assert_nonnull(object);
        g_assert_true(vt_qmp_message_parse(object, &message, &error));
        g_assert_no_error(error);
        g_assert_cmpint(message.kind, ==, c->kind);
        if (c->id >= 0)
                g_assert_cmpint(json_object_get_int64(message.id), ==, c->id);
        else
                g_assert_null(message.id);
        g_assert_cmpstr(message.name, ==, c->name);
        if (c->kind == VT_QMP_MESSAGE_ERROR) {
                g_autoptr(GError) mapped =
                    vt_qmp_error_new_from_reply(message.error_class, message.error_desc);

                g_assert_error(mapped, VT_QMP_ERROR, (gint)c->code);
                g_assert_cmpstr(mapped->message, ==, c->desc);
        }
        if (c->kind == VT_QMP_MESSAGE_EVENT)
                g_assert_cmpint(message.timestamp_us, >, (gint64)1700000000 * G_USEC_PER_SEC);
}

static void
test_message_greeting(void)
{
        g_autoptr(json_object) object = load_recorded("greeting");
        g_autoptr(GError) error = NULL;
        g_autoptr(VtQmpGreeting) greeting = NULL;
        g_autoptr(json_object) rebuilt = NULL;
        g_autoptr(VtQmpGreeting) again = NULL;
        VtQmpMessage message;

        g_assert_true(vt_qmp_message_parse(object, &message, NULL));
        greeting = vt_qmp_greeting_parse(message.value, &error);
        g_assert_no_error(error);
        g_assert_cmpint(greeting->major, ==, 7);
        g_assert_cmpint(greeting->minor, ==, 2);
        g_assert_cmpint(greeting->micro, ==, 22);
        g_assert_true(g_str_has_prefix(greeting->package, "Debian"));
        g_assert_true(vt_qmp_greeting_has_capability(greeting, "oob"));
        g_assert_false(vt_qmp_greeting_has_capability(greeting, "x-none"));

        /* The server side announces the same shape. */
        rebuilt = vt_qmp_message_new_greeting(greeting);
        g_assert_true(vt_qmp_message_parse(rebuilt, &message, NULL));
        again = vt_qmp_greeting_parse(message.value, &error);
        g_assert_no_error(error);
        g_assert_cmpint(again->micro, ==, 22);
        g_assert_cmpstrv(again->capabilities, greeting->capabilities);
}

/* Recorded stats from a device without a driver: -1 is 2^64 - 1. */
static void
test_message_stats_unsupported(void)
{
        g_autoptr(json_object) object = load_recorded("qom-get-guest-stats-no-driver");
        json_object *stats = NULL;
        json_object *free_memory = NULL;
        VtQmpMessage message;

        g_assert_true(vt_qmp_message_parse(object, &message, NULL));
        g_assert_true(json_object_object_get_ex(message.value, "stats", &stats));
        g_assert_true(json_object_object_get_ex(stats, "stat-free-memory", &free_memory));
        g_assert_cmpuint(json_object_get_uint64(free_memory), ==, G_MAXUINT64);
}

typedef struct {
        const char *name;
        const char *json;
        gboolean ok;
        VtQmpMessageKind kind;
} HostileCase;

static const HostileCase hostile_cases[] = {
    {"empty", "{}", FALSE},
    {"two-kinds", "{\"return\": {}, \"error\": {\"class\": \"X\", \"desc\": \"y\"}}", FALSE},
    {"error-no-class", "{\"error\": {\"desc\": \"y\"}, \"id\": 1}", FALSE},
    {"error-not-object", "{\"error\": \"boom\", \"id\": 1}", FALSE},
    {"error-class-number", "{\"error\": {\"class\": 5, \"desc\": \"y\"}}", FALSE},
    {"event-name-number", "{\"event\": 5}", FALSE},
    {"event-data-array", "{\"event\": \"X\", \"data\": []}", FALSE},
    {"execute-args-string", "{\"execute\": \"x\", \"arguments\": \"a\"}", FALSE},
    {"greeting-not-object", "{\"QMP\": 1}", FALSE},
    {"return-null", "{\"return\": null, \"id\": 1}", TRUE, VT_QMP_MESSAGE_RETURN},
    {"unknown-fields", "{\"return\": 1, \"id\": 2, \"x-new\": {\"deep\": [1]}}", TRUE,
     VT_QMP_MESSAGE_RETURN},
    {"event-bad-timestamp",
     "{\"event\": \"X\", \"timestamp\": {\"seconds\": -5, \"microseconds\": 9999999}}", TRUE,
     VT_QMP_MESSAGE_EVENT},
    {"event-no-data", "{\"event\": \"STOP\"}", TRUE, VT_QMP_MESSAGE_EVENT},
    {"event-name-nul", "{\"event\": \"BALLOON_CHANGE\\u0000x\"}", FALSE},
    {"error-class-nul", "{\"error\": {\"class\": \"DeviceNotActive\\u0000\", \"desc\": \"d\"}}",
     FALSE},
    {"unknown-class", "{\"error\": {\"class\": \"FutureError\", \"desc\": \"d\"}}", TRUE,
     VT_QMP_MESSAGE_ERROR},
};

static void
test_message_hostile(gconstpointer data)
{
        const HostileCase *c = data;
        g_autoptr(json_object) object = json_tokener_parse(c->json);
        g_autoptr(GError) error = NULL;
        VtQmpMessage message = {.kind = VT_QMP_MESSAGE_KIND_MAX};

        g_assert_nonnull(object);
        g_assert_cmpint(vt_qmp_message_parse(object, &message, &error), ==, c->ok);
        if (!c->ok) {
                g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL);
                g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_KIND_MAX); /* untouched */
                return;
        }
        g_assert_no_error(error);
        g_assert_cmpint(message.kind, ==, c->kind);
        if (message.kind == VT_QMP_MESSAGE_EVENT)
                g_assert_cmpint(message.timestamp_us, ==, -1);
}

static void
test_message_error_classes(void)
{
        static const struct {
                const char *klass;
                VtQmpError code;
        } classes[] = {
            {"GenericError", VT_QMP_ERROR_GENERIC},
            {"CommandNotFound", VT_QMP_ERROR_COMMAND_NOT_FOUND},
            {"DeviceNotActive", VT_QMP_ERROR_DEVICE_NOT_ACTIVE},
            {"DeviceNotFound", VT_QMP_ERROR_DEVICE_NOT_FOUND},
            {"KVMMissingCap", VT_QMP_ERROR_KVM_MISSING_CAP},
        };

        for (guint i = 0; i < G_N_ELEMENTS(classes); i++) {
                g_autoptr(GError) error = vt_qmp_error_new_from_reply(classes[i].klass, "d");

                g_assert_error(error, VT_QMP_ERROR, (gint)classes[i].code);
                g_assert_cmpstr(vt_qmp_error_to_class(classes[i].code), ==, classes[i].klass);
        }
        g_assert_cmpint(vt_qmp_error_from_class("NoSuchClass"), ==, VT_QMP_ERROR_GENERIC);
        g_assert_cmpint(vt_qmp_error_from_class(NULL), ==, VT_QMP_ERROR_GENERIC);
        g_assert_cmpstr(vt_qmp_error_to_class(VT_QMP_ERROR_TIMEOUT), ==, "GenericError");
        g_assert_cmpstr(g_quark_to_string(VT_QMP_ERROR), ==, "vt-qmp-error-quark");
}

static void
test_message_builders(void)
{
        g_autoptr(json_object) args = json_tokener_parse("{\"value\": 268435456}");
        g_autoptr(json_object) id = json_object_new_int64(42);
        g_autoptr(json_object) command = vt_qmp_message_new_command("balloon", args, id);
        g_autoptr(json_object) reply = vt_qmp_message_new_return(NULL, id);
        g_autoptr(json_object) error = vt_qmp_message_new_error("DeviceNotActive", "d", id);
        g_autoptr(json_object) event =
            vt_qmp_message_new_event("BALLOON_CHANGE", args, 1700000000123456);
        VtQmpMessage message;

        g_assert_true(vt_qmp_message_parse(command, &message, NULL));
        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_COMMAND);
        g_assert_cmpstr(message.name, ==, "balloon");
        g_assert_true(json_object_equal(message.value, args));
        g_assert_cmpint(json_object_get_int64(message.id), ==, 42);

        g_assert_true(vt_qmp_message_parse(reply, &message, NULL));
        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_RETURN);
        g_assert_true(json_object_is_type(message.value, json_type_object));

        g_assert_true(vt_qmp_message_parse(error, &message, NULL));
        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_ERROR);
        g_assert_cmpstr(message.error_class, ==, "DeviceNotActive");

        g_assert_true(vt_qmp_message_parse(event, &message, NULL));
        g_assert_cmpint(message.kind, ==, VT_QMP_MESSAGE_EVENT);
        g_assert_cmpint(message.timestamp_us, ==, 1700000000123456);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(recorded_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/qmp/message/recorded/%s", recorded_cases[i].file);

                g_test_add_data_func(path, &recorded_cases[i], test_message_recorded);
        }
        for (guint i = 0; i < G_N_ELEMENTS(hostile_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/qmp/message/hostile/%s", hostile_cases[i].name);

                g_test_add_data_func(path, &hostile_cases[i], test_message_hostile);
        }
        g_test_add_func("/qmp/message/greeting", test_message_greeting);
        g_test_add_func("/qmp/message/stats-unsupported", test_message_stats_unsupported);
        g_test_add_func("/qmp/message/error-classes", test_message_error_classes);
        g_test_add_func("/qmp/message/builders", test_message_builders);
        return g_test_run();
}
