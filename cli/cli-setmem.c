/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide setmem GUEST SIZE|auto`: a balloon size by hand (set-target). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

/**
 * vt_cli_setmem:
 * @cli: the invocation
 * @argc: arguments, `setmem` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_setmem(VtCli *cli, int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) arguments = json_object_new_object();
        g_autoptr(json_object) reply = NULL;
        g_autofree char *target = NULL;
        g_autofree char *asked = NULL;
        gboolean automatic;
        const char *name;
        guint64 bytes = 0;
        gint64 set = 0;
        int status;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 2, 2))
                return VT_CLI_EXIT_USAGE;
        name = argv[1];
        automatic = g_ascii_strcasecmp(argv[2], "auto") == 0;
        json_object_object_add(arguments, "name", json_object_new_string(name));
        if (automatic) {
                json_object_object_add(arguments, "auto", json_object_new_boolean(TRUE));
        } else {
                if (!vt_cli_size_parse(argv[2], &bytes, &error))
                        return vt_cli_usage_error(cli, "%s", error->message);
                json_object_object_add(arguments, "bytes", json_object_new_int64((gint64)bytes));
        }

        reply = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_SET_TARGET, arguments, &status);
        if (reply == NULL)
                return status;
        if (automatic) {
                printf("%s: back under automatic control\n", name);
                return VT_CLI_EXIT_OK;
        }
        if (!vt_cli_json_get_int(reply, "target", &set) || set < 0)
                set = (gint64)bytes;
        target = vt_size_format((guint64)set);
        asked = vt_size_format(bytes);
        printf("%s: balloon target %s%s%s%s; held there until 'vmtide setmem %s auto'\n", name,
               target, (guint64)set != bytes ? " (asked for " : "",
               (guint64)set != bytes ? asked : "", (guint64)set != bytes ? ", clamped)" : "", name);
        return VT_CLI_EXIT_OK;
}
