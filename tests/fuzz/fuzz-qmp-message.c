/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP message classification on what a hostile QEMU (or control client)
 * can send: every object the framer returns is classified, greetings are
 * parsed, and every message that classifies is rebuilt with the builders,
 * printed and classified again: what vmtide sends must be what it
 * accepts, as the same kind with the same name, class and description.
 */
#include <stdlib.h>
#include <string.h>

#include "qmp/qmp-framer.h"
#include "qmp/qmp-message.h"
#include "tests/fuzz/fuzz-common.h"

static json_object *
message_rebuild(const VtQmpMessage *m)
{
        switch (m->kind) {
        case VT_QMP_MESSAGE_GREETING: {
                g_autoptr(VtQmpGreeting) greeting = vt_qmp_greeting_parse(m->value, NULL);

                if (greeting == NULL)
                        return NULL;
                (void)vt_qmp_greeting_has_capability(greeting, "oob");
                return vt_qmp_message_new_greeting(greeting);
        }
        case VT_QMP_MESSAGE_RETURN:
                return vt_qmp_message_new_return(m->value, m->id);
        case VT_QMP_MESSAGE_ERROR:
                return vt_qmp_message_new_error(m->error_class, m->error_desc, m->id);
        case VT_QMP_MESSAGE_EVENT:
                return vt_qmp_message_new_event(m->name, m->value, MAX(m->timestamp_us, 0));
        case VT_QMP_MESSAGE_COMMAND:
                return vt_qmp_message_new_command(m->name, m->value, m->id);
        case VT_QMP_MESSAGE_KIND_MAX:
                break;
        }
        abort();
}

static void
check_message(json_object *object, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        VtQmpMessage message;
        VtQmpMessage again;
        json_object *rebuilt;
        json_object *reparsed;
        json_tokener *tokener;

        if (!vt_qmp_message_parse(object, &message, &error)) {
                if (error == NULL)
                        abort();
                return;
        }
        if (vt_qmp_message_kind_to_string(message.kind) == NULL)
                abort();
        if (message.kind == VT_QMP_MESSAGE_ERROR &&
            (message.error_class == NULL || message.error_desc == NULL))
                abort();
        rebuilt = message_rebuild(&message);
        if (rebuilt == NULL)
                return;
        /* A deeper tokener than the framer's: the builders add a level. */
        tokener = json_tokener_new_ex(2 * VT_QMP_FRAMER_DEFAULT_MAX_DEPTH);
        reparsed = json_tokener_parse_ex(
            tokener, json_object_to_json_string_ext(rebuilt, JSON_C_TO_STRING_PLAIN), -1);
        json_tokener_free(tokener);
        if (reparsed == NULL || !vt_qmp_message_parse(reparsed, &again, NULL) ||
            again.kind != message.kind || g_strcmp0(again.name, message.name) != 0 ||
            g_strcmp0(again.error_class, message.error_class) != 0 ||
            g_strcmp0(again.error_desc, message.error_desc) != 0)
                abort();
        json_object_put(reparsed);
        json_object_put(rebuilt);
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: a QMP stream
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vt_fuzz_each_message(data, size, VT_QMP_FRAMER_DEFAULT_MAX_MESSAGE,
                             VT_QMP_FRAMER_DEFAULT_MAX_DEPTH, VT_QMP_FRAMER_DEFAULT_MAX_VALUES,
                             check_message, NULL);
        return 0;
}
