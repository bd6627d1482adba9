/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide resume`: start automation again (resume). */
#include "cli/cli-commands.h"

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
        return vt_cli_automation(cli, argc, argv, VT_CONTROL_COMMAND_RESUME);
}
