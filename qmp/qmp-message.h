/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QMP messages: classifying what a peer sent, building what we send. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/**
 * VtQmpMessageKind:
 * @VT_QMP_MESSAGE_GREETING: `{"QMP": {"version": ..., "capabilities": [...]}}`
 * @VT_QMP_MESSAGE_RETURN: `{"return": VALUE, "id": ID}`
 * @VT_QMP_MESSAGE_ERROR: `{"error": {"class": C, "desc": D}, "id": ID}`
 * @VT_QMP_MESSAGE_EVENT: `{"event": NAME, "data": {...}, "timestamp": {...}}`
 * @VT_QMP_MESSAGE_COMMAND: `{"execute": NAME, "arguments": {...}, "id": ID}`
 */
typedef enum {
        VT_QMP_MESSAGE_GREETING,
        VT_QMP_MESSAGE_RETURN,
        VT_QMP_MESSAGE_ERROR,
        VT_QMP_MESSAGE_EVENT,
        VT_QMP_MESSAGE_COMMAND,
        VT_QMP_MESSAGE_KIND_MAX,
} VtQmpMessageKind;

/**
 * VtQmpMessage:
 * @kind: what the message is
 * @id: (nullable): the `id` member of replies and commands, as sent
 * @name: event or command name; %NULL for other kinds
 * @value: (nullable): the greeting's `QMP` object, the `return` value, the
 *     event's `data` or the command's `arguments`
 * @error_class: for errors, the `class` (never %NULL for errors)
 * @error_desc: for errors, the `desc` (never %NULL for errors)
 * @timestamp_us: for events, the peer's wall-clock timestamp in
 *     microseconds since the epoch, or -1 when missing or malformed
 *
 * A classified message. Every pointer borrows from the parsed object and
 * lives as long as it does. Unknown members are ignored, as QMP requires.
 */
typedef struct {
        VtQmpMessageKind kind;
        json_object *id;
        const char *name;
        json_object *value;
        const char *error_class;
        const char *error_desc;
        gint64 timestamp_us;
} VtQmpMessage;

/**
 * VtQmpGreeting:
 * @major: QEMU major version
 * @minor: QEMU minor version
 * @micro: QEMU micro version
 * @package: the distribution's package string (may be empty)
 * @capabilities: the capabilities offered, e.g. `oob`
 */
typedef struct {
        gint64 major;
        gint64 minor;
        gint64 micro;
        char *package;
        GStrv capabilities;
} VtQmpGreeting;

gboolean vt_qmp_message_parse(json_object *object, VtQmpMessage *ret_message, GError **error);
const char *vt_qmp_message_kind_to_string(VtQmpMessageKind kind);

VtQmpGreeting *vt_qmp_greeting_parse(json_object *qmp, GError **error);
gboolean vt_qmp_greeting_has_capability(const VtQmpGreeting *greeting, const char *capability);
void vt_qmp_greeting_free(VtQmpGreeting *greeting);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtQmpGreeting, vt_qmp_greeting_free)

json_object *vt_qmp_message_new_command(const char *command, json_object *arguments,
                                        json_object *id);
json_object *vt_qmp_message_new_return(json_object *value, json_object *id);
json_object *vt_qmp_message_new_error(const char *error_class, const char *desc, json_object *id);
json_object *vt_qmp_message_new_event(const char *name, json_object *data, gint64 timestamp_us);
json_object *vt_qmp_message_new_greeting(const VtQmpGreeting *greeting);

G_END_DECLS
