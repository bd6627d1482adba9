/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vmtide subcommands, one file each, dispatched from cli-main.c. */
#pragma once

#include "cli/cli-util.h"

G_BEGIN_DECLS

int vt_cli_status(VtCli *cli, int argc, char **argv);
int vt_cli_list(VtCli *cli, int argc, char **argv);
int vt_cli_stats(VtCli *cli, int argc, char **argv);
int vt_cli_setmem(VtCli *cli, int argc, char **argv);
int vt_cli_policy(VtCli *cli, int argc, char **argv);
int vt_cli_pause(VtCli *cli, int argc, char **argv);
int vt_cli_resume(VtCli *cli, int argc, char **argv);
int vt_cli_events(VtCli *cli, int argc, char **argv);
int vt_cli_ksm(VtCli *cli, int argc, char **argv);
int vt_cli_migrate(VtCli *cli, int argc, char **argv);
int vt_cli_hosts(VtCli *cli, int argc, char **argv);
int vt_cli_plan(VtCli *cli, int argc, char **argv);
int vt_cli_history(VtCli *cli, int argc, char **argv);
int vt_cli_replay(VtCli *cli, int argc, char **argv);
int vt_cli_plot(VtCli *cli, int argc, char **argv);
int vt_cli_capacity(VtCli *cli, int argc, char **argv);
int vt_cli_risk(VtCli *cli, int argc, char **argv);
int vt_cli_doctor(VtCli *cli, int argc, char **argv);
int vt_cli_top(VtCli *cli, int argc, char **argv);

char *vt_cli_format_policy(json_object *policy);
char *vt_cli_format_ksm_knobs(json_object *ksm);

G_END_DECLS
