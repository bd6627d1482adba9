/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide resume`: start automation again (resume). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

/**
 * vt_cli_resume:
 * @cli: the invocation
 * @argc: arguments, `resume` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_resume(VtCli *cli, int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = NULL;
        gboolean paused = FALSE;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        reply = vt_cli_call(cli, "resume", NULL, &error);
        if (reply == NULL)
                return vt_cli_fail(error);
        if (cli->json) {
                vt_cli_print_json(reply);
                return VT_CLI_EXIT_OK;
        }
        vt_cli_json_get_bool(reply, "paused", &paused);
        if (paused)
                printf("automation paused: no balloon or KSM changes until 'vmtide resume'\n");
        else
                printf("automation running\n");
        return VT_CLI_EXIT_OK;
}
