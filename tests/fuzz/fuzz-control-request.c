/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's requests, on what a hostile local client can
 * send: framed with the server's bounds (VT_CONTROL_SERVER_MAX_*), checked
 * as control-client.c checks a request (`execute` a string without a NUL,
 * `arguments` an object), then every argument read with each of the
 * readers of control-args.h the daemon's commands use, and the argument
 * sets of `set-policy` and `set-target` checked. What a reader accepts
 * must be within the range it was given.
 */
#include <stdlib.h>
#include <string.h>

#include "host/control/control-args.h"
#include "tests/fuzz/fuzz-common.h"

static void
check_member(json_object *arguments, const char *name)
{
        const char *text = NULL;
        gboolean present = FALSE;
        gboolean flag = FALSE;
        guint64 size = 0;
        gint64 number = 0;

        if (vt_control_args_get_string(arguments, name, NULL) == NULL &&
            vt_control_args_get_optional_string(arguments, name, &text, &present, NULL) && present)
                abort();
        if (vt_control_args_get_int(arguments, name, -5, 1000, &number, NULL) &&
            (number < -5 || number > 1000))
                abort();
        number = 0;
        if (vt_control_args_get_optional_int(arguments, name, G_MININT64, G_MAXINT64, &number,
                                             &present, NULL) &&
            !present && number != 0)
                abort();
        (void)vt_control_args_get_bool(arguments, name, &flag, NULL);
        (void)vt_control_args_get_optional_bool(arguments, name, &flag, &present, NULL);
        if (vt_control_args_get_size(arguments, name, 4096, G_GUINT64_CONSTANT(1) << 50, &size,
                                     NULL) &&
            (size < 4096 || size > G_GUINT64_CONSTANT(1) << 50))
                abort();
        size = 0;
        if (vt_control_args_get_optional_size(arguments, name, 1, G_MAXINT64, &size, &present,
                                              NULL) &&
            present && (size < 1 || size > G_MAXINT64))
                abort();
}

static void
check_request(json_object *message, gpointer user_data)
{
        static const char *const set_policy[] = {"name",    "min",         "max", "shares",
                                                 "opt_out", "ksm_opt_out", NULL};
        static const char *const set_target[] = {"name", "bytes", "auto", NULL};
        static const char *const none[] = {NULL};
        json_object *execute = NULL;
        json_object *arguments = NULL;

        if (!json_object_object_get_ex(message, "execute", &execute) ||
            !json_object_is_type(execute, json_type_string) ||
            strlen(json_object_get_string(execute)) != (size_t)json_object_get_string_len(execute))
                return;
        if (json_object_object_get_ex(message, "arguments", &arguments) &&
            !json_object_is_type(arguments, json_type_object))
                return;

        (void)vt_control_args_check(arguments, set_policy, NULL);
        (void)vt_control_args_check(arguments, set_target, NULL);
        (void)vt_control_args_check(arguments, none, NULL);
        if (arguments == NULL) {
                check_member(NULL, "name");
                return;
        }
        json_object_object_foreach (arguments, key, value) {
                (void)value;
                check_member(arguments, key);
        }
        check_member(arguments, "absent");
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: what a client writes to the control socket
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vt_fuzz_each_message(data, size, VT_CONTROL_SERVER_MAX_MESSAGE, VT_CONTROL_SERVER_MAX_DEPTH,
                             VT_CONTROL_SERVER_MAX_VALUES, check_request, NULL);
        return 0;
}
