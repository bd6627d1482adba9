/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP messages: classifying what a peer sent and building what we send.
 *
 * Both directions of the protocol live here so that the client (talking to
 * QEMU) and the daemon's control socket (talking to vmtide) share them. A
 * message is classified by the member that names its kind; a message with
 * none, with two, or with a kind member of the wrong type is a protocol
 * error. Members this code does not know are ignored.
 */
#include "qmp/qmp-message.h"

#include <string.h>

#include "qmp/qmp-error.h"
#include "vt-autocleanups.h"

static const char *const qmp_message_kind_names[VT_QMP_MESSAGE_KIND_MAX] = {
    [VT_QMP_MESSAGE_GREETING] = "QMP",    [VT_QMP_MESSAGE_RETURN] = "return",
    [VT_QMP_MESSAGE_ERROR] = "error",     [VT_QMP_MESSAGE_EVENT] = "event",
    [VT_QMP_MESSAGE_COMMAND] = "execute",
};

/**
 * vt_qmp_message_kind_to_string:
 * @kind: a kind
 *
 * Returns: the member that names messages of @kind, e.g. `return`
 */
const char *
vt_qmp_message_kind_to_string(VtQmpMessageKind kind)
{
        g_return_val_if_fail(kind < VT_QMP_MESSAGE_KIND_MAX, NULL);
        return qmp_message_kind_names[kind];
}

static gboolean
qmp_message_parse_error(json_object *error_obj, VtQmpMessage *message, GError **error)
{
        json_object *klass = NULL;
        json_object *desc = NULL;

        if (!json_object_is_type(error_obj, json_type_object) ||
            !json_object_object_get_ex(error_obj, "class", &klass) ||
            !json_object_is_type(klass, json_type_string) ||
            !json_object_object_get_ex(error_obj, "desc", &desc) ||
            !json_object_is_type(desc, json_type_string)) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "'error' must be an object with string 'class' and 'desc'");
                return FALSE;
        }
        if (strlen(json_object_get_string(klass)) != (size_t)json_object_get_string_len(klass)) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "'error.class' contains a NUL byte");
                return FALSE;
        }
        message->error_class = json_object_get_string(klass);
        message->error_desc = json_object_get_string(desc);
        return TRUE;
}

/* QMP timestamps are {"seconds": S, "microseconds": U}; -1 if unusable. */
static gint64
qmp_message_parse_timestamp(json_object *object)
{
        json_object *timestamp = NULL;
        json_object *seconds = NULL;
        json_object *micro = NULL;
        gint64 s, us;

        if (!json_object_object_get_ex(object, "timestamp", &timestamp) ||
            !json_object_object_get_ex(timestamp, "seconds", &seconds) ||
            !json_object_object_get_ex(timestamp, "microseconds", &micro) ||
            !json_object_is_type(seconds, json_type_int) ||
            !json_object_is_type(micro, json_type_int))
                return -1;
        s = json_object_get_int64(seconds);
        us = json_object_get_int64(micro);
        if (s < 0 || s > G_MAXINT64 / G_USEC_PER_SEC - 1 || us < 0 || us >= G_USEC_PER_SEC)
                return -1;
        return s * G_USEC_PER_SEC + us;
}

/**
 * vt_qmp_message_parse:
 * @object: a JSON object received from a peer
 * @ret_message: (out caller-allocates): the classified message, borrowing
 *     from @object; written only on success
 * @error: %VT_QMP_ERROR_PROTOCOL when @object is no QMP message
 *
 * Returns: %TRUE on success
 */
gboolean
vt_qmp_message_parse(json_object *object, VtQmpMessage *ret_message, GError **error)
{
        VtQmpMessage message = {.timestamp_us = -1};
        json_object *members[VT_QMP_MESSAGE_KIND_MAX] = {NULL};
        guint n_kinds = 0;

        g_return_val_if_fail(ret_message != NULL, FALSE);

        if (!json_object_is_type(object, json_type_object)) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "a QMP message must be a JSON object");
                return FALSE;
        }
        for (guint i = 0; i < VT_QMP_MESSAGE_KIND_MAX; i++) {
                if (json_object_object_get_ex(object, qmp_message_kind_names[i], &members[i])) {
                        message.kind = (VtQmpMessageKind)i;
                        n_kinds++;
                }
        }
        if (n_kinds != 1) {
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                            "a QMP message needs exactly one of 'QMP', 'return', 'error', "
                            "'event' or 'execute' (found %u)",
                            n_kinds);
                return FALSE;
        }
        json_object_object_get_ex(object, "id", &message.id);

        switch (message.kind) {
        case VT_QMP_MESSAGE_GREETING:
                if (!json_object_is_type(members[message.kind], json_type_object)) {
                        g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                            "'QMP' must be an object");
                        return FALSE;
                }
                message.value = members[message.kind];
                break;
        case VT_QMP_MESSAGE_RETURN:
                message.value = members[message.kind];
                break;
        case VT_QMP_MESSAGE_ERROR:
                if (!qmp_message_parse_error(members[message.kind], &message, error))
                        return FALSE;
                break;
        case VT_QMP_MESSAGE_EVENT:
        case VT_QMP_MESSAGE_COMMAND: {
                const char *member = message.kind == VT_QMP_MESSAGE_EVENT ? "data" : "arguments";

                if (!json_object_is_type(members[message.kind], json_type_string)) {
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "'%s' must be a string", qmp_message_kind_names[message.kind]);
                        return FALSE;
                }
                message.name = json_object_get_string(members[message.kind]);
                if (strlen(message.name) !=
                    (size_t)json_object_get_string_len(members[message.kind])) {
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "'%s' contains a NUL byte",
                                    qmp_message_kind_names[message.kind]);
                        return FALSE;
                }
                if (json_object_object_get_ex(object, member, &message.value) &&
                    !json_object_is_type(message.value, json_type_object)) {
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "'%s' must be an object", member);
                        return FALSE;
                }
                if (message.kind == VT_QMP_MESSAGE_EVENT)
                        message.timestamp_us = qmp_message_parse_timestamp(object);
                break;
        }
        case VT_QMP_MESSAGE_KIND_MAX:
        default:
                g_assert_not_reached();
        }

        *ret_message = message;
        return TRUE;
}

static gint64
qmp_json_get_int_member(json_object *object, const char *name)
{
        json_object *member = NULL;

        if (!json_object_object_get_ex(object, name, &member) ||
            !json_object_is_type(member, json_type_int))
                return -1;
        return json_object_get_int64(member);
}

/**
 * vt_qmp_greeting_parse:
 * @qmp: the greeting's `QMP` object
 * @error: %VT_QMP_ERROR_PROTOCOL when it is malformed
 *
 * Returns: (transfer full): the greeting, or %NULL on error
 */
VtQmpGreeting *
vt_qmp_greeting_parse(json_object *qmp, GError **error)
{
        g_autoptr(VtQmpGreeting) greeting = g_new0(VtQmpGreeting, 1);
        g_autoptr(GStrvBuilder) caps = g_strv_builder_new();
        json_object *version = NULL;
        json_object *qemu = NULL;
        json_object *package = NULL;
        json_object *capabilities = NULL;

        if (!json_object_object_get_ex(qmp, "version", &version) ||
            !json_object_object_get_ex(version, "qemu", &qemu) ||
            !json_object_is_type(qemu, json_type_object)) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "QMP greeting without 'version.qemu'");
                return NULL;
        }
        greeting->major = qmp_json_get_int_member(qemu, "major");
        greeting->minor = qmp_json_get_int_member(qemu, "minor");
        greeting->micro = qmp_json_get_int_member(qemu, "micro");
        if (greeting->major < 0 || greeting->minor < 0 || greeting->micro < 0) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "QMP greeting with a malformed version");
                return NULL;
        }
        if (json_object_object_get_ex(version, "package", &package) &&
            json_object_is_type(package, json_type_string))
                greeting->package = g_strdup(json_object_get_string(package));
        else
                greeting->package = g_strdup("");

        if (!json_object_object_get_ex(qmp, "capabilities", &capabilities) ||
            !json_object_is_type(capabilities, json_type_array)) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "QMP greeting without a 'capabilities' array");
                return NULL;
        }
        for (size_t i = 0; i < json_object_array_length(capabilities); i++) {
                json_object *cap = json_object_array_get_idx(capabilities, i);

                if (json_object_is_type(cap, json_type_string))
                        g_strv_builder_add(caps, json_object_get_string(cap));
        }
        greeting->capabilities = g_strv_builder_end(caps);
        return g_steal_pointer(&greeting);
}

/**
 * vt_qmp_greeting_has_capability:
 * @greeting: a greeting
 * @capability: e.g. `oob`
 *
 * Returns: %TRUE if the peer offered @capability
 */
gboolean
vt_qmp_greeting_has_capability(const VtQmpGreeting *greeting, const char *capability)
{
        g_return_val_if_fail(greeting != NULL, FALSE);
        return g_strv_contains((const char *const *)greeting->capabilities, capability);
}

/**
 * vt_qmp_greeting_free:
 * @greeting: (nullable): a greeting
 */
void
vt_qmp_greeting_free(VtQmpGreeting *greeting)
{
        if (greeting == NULL)
                return;
        g_free(greeting->package);
        g_strfreev(greeting->capabilities);
        g_free(greeting);
}

static void
qmp_json_add_id(json_object *message, json_object *id)
{
        if (id != NULL)
                json_object_object_add(message, "id", json_object_get(id));
}

/**
 * vt_qmp_message_new_command:
 * @command: the command name
 * @arguments: (nullable) (transfer none): its arguments, an object
 * @id: (nullable) (transfer none): the id the reply will echo
 *
 * Returns: (transfer full): `{"execute": ..., "arguments": ..., "id": ...}`
 */
json_object *
vt_qmp_message_new_command(const char *command, json_object *arguments, json_object *id)
{
        json_object *message;

        g_return_val_if_fail(command != NULL, NULL);

        message = json_object_new_object();

        json_object_object_add(message, "execute", json_object_new_string(command));
        if (arguments != NULL)
                json_object_object_add(message, "arguments", json_object_get(arguments));
        qmp_json_add_id(message, id);
        return message;
}

/**
 * vt_qmp_message_new_return:
 * @value: (nullable) (transfer none): the return value; %NULL for `{}`
 * @id: (nullable) (transfer none): the command's id
 *
 * Returns: (transfer full): `{"return": ..., "id": ...}`
 */
json_object *
vt_qmp_message_new_return(json_object *value, json_object *id)
{
        json_object *message = json_object_new_object();

        json_object_object_add(message, "return",
                               value != NULL ? json_object_get(value) : json_object_new_object());
        qmp_json_add_id(message, id);
        return message;
}

/**
 * vt_qmp_message_new_error:
 * @error_class: the class, e.g. `GenericError`
 * @desc: a human-readable description
 * @id: (nullable) (transfer none): the command's id
 *
 * Returns: (transfer full): `{"error": {"class": ..., "desc": ...}, "id": ...}`
 */
json_object *
vt_qmp_message_new_error(const char *error_class, const char *desc, json_object *id)
{
        json_object *message;
        json_object *error;

        g_return_val_if_fail(error_class != NULL && desc != NULL, NULL);

        message = json_object_new_object();
        error = json_object_new_object();

        json_object_object_add(error, "class", json_object_new_string(error_class));
        json_object_object_add(error, "desc", json_object_new_string(desc));
        json_object_object_add(message, "error", error);
        qmp_json_add_id(message, id);
        return message;
}

/**
 * vt_qmp_message_new_event:
 * @name: the event name
 * @data: (nullable) (transfer none): its data, an object
 * @timestamp_us: wall-clock time in microseconds since the epoch
 *
 * Returns: (transfer full): `{"event": ..., "data": ..., "timestamp": ...}`
 */
json_object *
vt_qmp_message_new_event(const char *name, json_object *data, gint64 timestamp_us)
{
        json_object *message;
        json_object *timestamp;

        g_return_val_if_fail(name != NULL, NULL);

        message = json_object_new_object();
        timestamp = json_object_new_object();

        json_object_object_add(message, "event", json_object_new_string(name));
        if (data != NULL)
                json_object_object_add(message, "data", json_object_get(data));
        json_object_object_add(timestamp, "seconds",
                               json_object_new_int64(timestamp_us / G_USEC_PER_SEC));
        json_object_object_add(timestamp, "microseconds",
                               json_object_new_int64(timestamp_us % G_USEC_PER_SEC));
        json_object_object_add(message, "timestamp", timestamp);
        return message;
}

/**
 * vt_qmp_message_new_greeting:
 * @greeting: what to announce
 *
 * Returns: (transfer full): `{"QMP": {"version": ..., "capabilities": [...]}}`
 */
json_object *
vt_qmp_message_new_greeting(const VtQmpGreeting *greeting)
{
        json_object *message;
        json_object *qmp;
        json_object *version;
        json_object *qemu;
        json_object *caps;

        g_return_val_if_fail(greeting != NULL, NULL);

        message = json_object_new_object();
        qmp = json_object_new_object();
        version = json_object_new_object();
        qemu = json_object_new_object();
        caps = json_object_new_array();

        json_object_object_add(qemu, "major", json_object_new_int64(greeting->major));
        json_object_object_add(qemu, "minor", json_object_new_int64(greeting->minor));
        json_object_object_add(qemu, "micro", json_object_new_int64(greeting->micro));
        json_object_object_add(version, "qemu", qemu);
        json_object_object_add(version, "package",
                               json_object_new_string(greeting->package ? greeting->package : ""));
        for (guint i = 0; greeting->capabilities != NULL && greeting->capabilities[i] != NULL; i++)
                json_object_array_add(caps, json_object_new_string(greeting->capabilities[i]));
        json_object_object_add(qmp, "version", version);
        json_object_object_add(qmp, "capabilities", caps);
        json_object_object_add(message, "QMP", qmp);
        return message;
}
