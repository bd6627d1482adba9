/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide pause`: stop automation (pause). */
#include "cli/cli-commands.h"

/**
 * vt_cli_pause:
 * @cli: the invocation
 * @argc: arguments, `pause` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_pause(VtCli *cli, int argc, char **argv)
{
        return vt_cli_automation(cli, argc, argv, VT_CONTROL_COMMAND_PAUSE);
}
