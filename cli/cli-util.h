/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every vmtide subcommand shares: options, the connection, errors, output. */
#pragma once

#include <json-c/json.h>

#include "cli/cli-format.h"
#include "qmp/qmp-client.h"
#include "vt-control-protocol.h"

G_BEGIN_DECLS

/* Exit statuses: as documented in docs/cli.md. */
#define VT_CLI_EXIT_OK      0
#define VT_CLI_EXIT_FAILURE 1 /* vmtided unreachable, or it refused the command */
#define VT_CLI_EXIT_USAGE   2 /* the command line is wrong */

typedef struct _VtCli VtCli;

/**
 * VtCliRun:
 * @cli: the invocation
 * @argc: arguments of the subcommand, its name first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status, one of VT_CLI_EXIT_*
 */
typedef int (*VtCliRun)(VtCli *cli, int argc, char **argv);

/**
 * VtCliCommand:
 * @name: what the user types, e.g. `setmem`
 * @summary: one line for `vmtide help`
 * @usage: the positional arguments, e.g. `GUEST SIZE|auto`; "" for none
 * @run: runs it
 */
typedef struct {
        const char *name;
        const char *summary;
        const char *usage;
        VtCliRun run;
} VtCliCommand;

/**
 * VtCli:
 * @socket_arg: (nullable): `--socket`
 * @json: `--json`: print the daemon's answer as JSON
 * @timeout_arg: (nullable): `--timeout`, in seconds
 * @timeout_us: @timeout_arg once checked, 0 for the default
 * @command: the subcommand running
 * @client: (nullable): the connection, once made
 *
 * One invocation of vmtide.
 */
struct _VtCli {
        char *socket_arg;
        gboolean json;
        char *timeout_arg;
        gint64 timeout_us;
        const VtCliCommand *command;
        VtQmpClient *client;
};

void vt_cli_clear(VtCli *cli);
void vt_cli_add_global_entries(VtCli *cli, GOptionContext *context);
gboolean vt_cli_parse_args(VtCli *cli, const GOptionEntry *entries, int *argc, char ***argv,
                           guint min_args, guint max_args);
int vt_cli_usage_error(VtCli *cli, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Arguments (cli-args.c). */
gboolean vt_cli_size_parse(const char *text, guint64 *ret_bytes, GError **error);
char *vt_cli_option_error_words(const GError *error, const char *what, int argc, char **argv);

/**
 * VtCliPrepare:
 * @client: a client not connected yet
 * @user_data: as given to vt_cli_connect_full()
 *
 * Sets a client up before it connects, e.g. connects to its signals.
 */
typedef void (*VtCliPrepare)(VtQmpClient *client, gpointer user_data);

const char *vt_cli_get_socket(VtCli *cli);
gint64 vt_cli_get_timeout_us(VtCli *cli);
VtQmpClient *vt_cli_connect(VtCli *cli, GError **error);
VtQmpClient *vt_cli_connect_full(VtCli *cli, VtCliPrepare prepare, gpointer user_data,
                                 GError **error);
json_object *vt_cli_call(VtCli *cli, const char *command, json_object *arguments, GError **error);
json_object *vt_cli_call_or_finish(VtCli *cli, const char *command, json_object *arguments,
                                   int *ret_status);
int vt_cli_fail(const GError *error);
int vt_cli_automation(VtCli *cli, int argc, char **argv, const char *command);

const char *vt_cli_or_dash(const char *text);
void vt_cli_print_json(json_object *value);
void vt_cli_print_table(VtCliTable *table);

json_object *vt_cli_json_get(json_object *object, const char *path);
const char *vt_cli_json_get_string(json_object *object, const char *path);
gboolean vt_cli_json_get_int(json_object *object, const char *path, gint64 *ret_value);
gboolean vt_cli_json_get_double(json_object *object, const char *path, double *ret_value);
gboolean vt_cli_json_get_bool(json_object *object, const char *path, gboolean *ret_value);
char *vt_cli_json_format_size(json_object *object, const char *path);
char *vt_cli_json_format_int(json_object *object, const char *path);
char *vt_cli_json_format_duration(json_object *object, const char *path);
const char *vt_cli_guest_memory(json_object *guest);

G_END_DECLS
