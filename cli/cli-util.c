/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every vmtide subcommand shares: options, the connection to vmtided,
 * errors, output.
 *
 * The CLI talks to the daemon with the QMP client on a main context of its
 * own, blocking as qmp-sync.h does: one connection per invocation, made on
 * the first call. Whatever goes
 * wrong ends in one line on stderr that starts with `vmtide:` and says
 * what to do, and an exit status a script can test (VT_CLI_EXIT_*). The
 * daemon's `desc` is shown as it is: vmtided words its errors for people
 * (`no guest named 'x'`). Data goes to stdout unconverted (stdio, not
 * g_print(), which would mangle UTF-8 guest names in a C locale).
 */
#include "cli/cli-util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qmp/qmp-sync.h"
#include "vt-autocleanups.h"

#define CLI_TIMEOUT_MAX_S (24.0 * 3600.0)

/**
 * vt_cli_clear:
 * @cli: an invocation
 *
 * Closes the connection and frees what the options held.
 */
void
vt_cli_clear(VtCli *cli)
{
        if (cli->client != NULL)
                vt_qmp_client_close(cli->client);
        g_clear_object(&cli->client);
        g_clear_pointer(&cli->socket_arg, g_free);
        g_clear_pointer(&cli->timeout_arg, g_free);
}

/**
 * vt_cli_add_global_entries:
 * @cli: an invocation
 * @context: an option context
 *
 * Adds `--socket`, `--json` and `--timeout`, which every subcommand takes
 * before or after its name.
 */
void
vt_cli_add_global_entries(VtCli *cli, GOptionContext *context)
{
        const GOptionEntry entries[] = {
            {"socket", 's', 0, G_OPTION_ARG_FILENAME, &cli->socket_arg,
             "vmtided's control socket (default: $VMTIDE_SOCKET, "
             "else " VT_CONTROL_SOCKET_DEFAULT ")",
             "PATH"},
            {"json", 'j', 0, G_OPTION_ARG_NONE, &cli->json,
             "Print vmtided's answer as JSON, for scripts", NULL},
            {"timeout", 't', 0, G_OPTION_ARG_STRING, &cli->timeout_arg,
             "How long to wait for vmtided (default: 10)", "SECONDS"},
            G_OPTION_ENTRY_NULL,
        };

        g_option_context_add_main_entries(context, entries, NULL);
}

/**
 * vt_cli_usage_error:
 * @cli: an invocation
 * @format: what is wrong, printf-style
 * @...: arguments for @format
 *
 * Prints what is wrong and how the command is used, on stderr.
 *
 * Returns: %VT_CLI_EXIT_USAGE
 */
int
vt_cli_usage_error(VtCli *cli, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list args;

        va_start(args, format);
        message = g_strdup_vprintf(format, args);
        va_end(args);

        fprintf(stderr, "vmtide: %s\n", message);
        if (cli->command != NULL)
                fprintf(stderr, "Usage: vmtide %s [OPTION...]%s%s\nTry 'vmtide help %s'.\n",
                        cli->command->name, cli->command->usage[0] != '\0' ? " " : "",
                        cli->command->usage, cli->command->name);
        else
                fprintf(stderr,
                        "Usage: vmtide [OPTION...] COMMAND [ARGS...]\nTry 'vmtide help'.\n");
        return VT_CLI_EXIT_USAGE;
}

/**
 * vt_cli_parse_args:
 * @cli: an invocation whose @command is set
 * @entries: (nullable): the subcommand's own options
 * @argc: (inout): the subcommand's arguments, its name first
 * @argv: (inout): ... left with its name and positional arguments
 * @min_args: fewest positional arguments
 * @max_args: most positional arguments
 *
 * Parses the subcommand's options, the global ones among them, and checks
 * the number of positional arguments. `--help` prints the subcommand's
 * help and exits.
 *
 * Returns: %TRUE if the command line is right; else the usage error was
 *     printed and the caller exits with %VT_CLI_EXIT_USAGE
 */
gboolean
vt_cli_parse_args(VtCli *cli, const GOptionEntry *entries, int *argc, char ***argv, guint min_args,
                  guint max_args)
{
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *prgname = NULL;
        guint n_args;

        g_return_val_if_fail(cli->command != NULL, FALSE);

        /* GOption names the program in --help: "vmtide setmem". */
        prgname = g_strdup_printf("vmtide %s", cli->command->name);
        g_set_prgname(prgname);
        context = g_option_context_new(cli->command->usage);
        g_option_context_set_summary(context, cli->command->summary);
        if (entries != NULL)
                g_option_context_add_main_entries(context, entries, NULL);
        vt_cli_add_global_entries(cli, context);
        if (!g_option_context_parse(context, argc, argv, &error)) {
                g_autofree char *words = vt_cli_option_error_words(error, prgname, *argc, *argv);

                vt_cli_usage_error(cli, "%s", words);
                return FALSE;
        }
        if (cli->timeout_arg != NULL) {
                char *end = NULL;
                double seconds = g_ascii_strtod(cli->timeout_arg, &end);

                if (end == cli->timeout_arg || *end != '\0' || !isfinite(seconds) || seconds <= 0 ||
                    seconds > CLI_TIMEOUT_MAX_S) {
                        vt_cli_usage_error(cli,
                                           "invalid --timeout '%s': seconds, more than 0 and at "
                                           "most %.0f",
                                           cli->timeout_arg, CLI_TIMEOUT_MAX_S);
                        return FALSE;
                }
                cli->timeout_us = MAX((gint64)(seconds * G_USEC_PER_SEC), 1);
        }
        /* GOption leaves "--" behind; what follows it is positional. */
        for (int i = 1; i < *argc; i++) {
                if (g_str_equal((*argv)[i], "--")) {
                        memmove(&(*argv)[i], &(*argv)[i + 1], sizeof(char *) * (gsize)(*argc - i));
                        (*argc)--;
                        break;
                }
        }
        n_args = *argc > 0 ? (guint)*argc - 1 : 0;
        if (n_args < min_args) {
                vt_cli_usage_error(cli, "'%s' needs more arguments", cli->command->name);
                return FALSE;
        }
        if (n_args > max_args) {
                vt_cli_usage_error(cli, "'%s' takes no argument '%s'", cli->command->name,
                                   (*argv)[max_args + 1]);
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_cli_get_socket:
 * @cli: an invocation
 *
 * Returns: the control socket to use: `--socket`, else `$VMTIDE_SOCKET`,
 *     else %VT_CONTROL_SOCKET_DEFAULT
 */
const char *
vt_cli_get_socket(VtCli *cli)
{
        const char *env = g_getenv("VMTIDE_SOCKET");

        if (cli->socket_arg != NULL && cli->socket_arg[0] != '\0')
                return cli->socket_arg;
        if (env != NULL && env[0] != '\0')
                return env;
        return VT_CONTROL_SOCKET_DEFAULT;
}

/**
 * vt_cli_get_timeout_us:
 * @cli: an invocation
 *
 * Returns: how long to wait for vmtided, in microseconds
 */
gint64
vt_cli_get_timeout_us(VtCli *cli)
{
        return cli->timeout_us > 0 ? cli->timeout_us : VT_QMP_CLIENT_DEFAULT_TIMEOUT_US;
}

/* The part of a connection failure a person can act on. */
static const char *
cli_connect_reason(const GError *error)
{
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
                return "no such socket";
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
                return "connection refused";
        if (g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT))
                return "no answer";
        return error->message;
}

static void
cli_on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        *(GAsyncResult **)user_data = g_object_ref(result);
}

/**
 * vt_cli_connect_full:
 * @cli: an invocation
 * @prepare: (nullable): called with the client before it connects
 * @user_data: for @prepare
 * @error: %G_IO_ERROR or %VT_QMP_ERROR saying that vmtided cannot be
 *     reached, in words for the user
 *
 * Connects to vmtided, once; later calls return the same client. The
 * client runs on a main context of its own, as vt_qmp_client_new_sync()
 * makes it, so vt_qmp_client_execute_sync() works on it; unlike that
 * function, @prepare sees the client before the handshake, which is what
 * lets `events` catch an event that arrives together with the answer to
 * `qmp_capabilities`.
 *
 * Returns: (transfer none): the client, or %NULL on error
 */
VtQmpClient *
vt_cli_connect_full(VtCli *cli, VtCliPrepare prepare, gpointer user_data, GError **error)
{
        g_autoptr(GMainContext) context = NULL;
        g_autoptr(VtQmpClient) client = NULL;
        g_autoptr(GAsyncResult) result = NULL;
        g_autoptr(GError) local_error = NULL;
        g_autofree char *address = NULL;
        const char *path = vt_cli_get_socket(cli);
        gboolean ok;

        if (cli->client != NULL)
                return cli->client;
        /* "unix:" so that relative paths work too. */
        address = g_strconcat("unix:", path, NULL);
        context = g_main_context_new();
        g_main_context_push_thread_default(context);
        client = vt_qmp_client_new();
        vt_qmp_client_set_timeout(client, vt_cli_get_timeout_us(cli));
        if (prepare != NULL)
                prepare(client, user_data);
        vt_qmp_client_connect_async(client, address, cli_on_connected, &result);
        while (result == NULL)
                g_main_context_iteration(context, TRUE);
        ok = vt_qmp_client_connect_finish(client, result, &local_error);
        g_main_context_pop_thread_default(context);
        if (ok) {
                cli->client = g_steal_pointer(&client);
                return cli->client;
        }
        if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
                g_set_error(error, local_error->domain, local_error->code,
                            "cannot reach vmtided at %s: permission denied (the socket is "
                            "root-only unless vmtided's control-socket-mode says otherwise)",
                            path);
        else
                g_set_error(error, local_error->domain, local_error->code,
                            "cannot reach vmtided at %s: %s (is vmtided running?)", path,
                            cli_connect_reason(local_error));
        return NULL;
}

/**
 * vt_cli_connect:
 * @cli: an invocation
 * @error: as for vt_cli_connect_full()
 *
 * Returns: (transfer none): the client, or %NULL on error
 */
VtQmpClient *
vt_cli_connect(VtCli *cli, GError **error)
{
        return vt_cli_connect_full(cli, NULL, NULL, error);
}

/**
 * vt_cli_call:
 * @cli: an invocation
 * @command: the control command, e.g. `query-guests`
 * @arguments: (nullable) (transfer none): its arguments, an object
 * @error: why there is no answer, in words for the user: the daemon's
 *     own `desc`, or that it cannot be reached, went away or was silent
 *
 * Connects if need be and runs @command.
 *
 * Returns: (transfer full): the return value, or %NULL on error
 */
json_object *
vt_cli_call(VtCli *cli, const char *command, json_object *arguments, GError **error)
{
        g_autoptr(GError) local_error = NULL;
        VtQmpClient *client = vt_cli_connect(cli, error);
        json_object *reply;

        if (client == NULL)
                return NULL;
        reply = vt_qmp_client_execute_sync(client, command, arguments, &local_error);
        if (reply != NULL)
                return reply;
        if (g_error_matches(local_error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED))
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                            "lost the connection to vmtided at %s", vt_cli_get_socket(cli));
        else if (g_error_matches(local_error, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT))
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT,
                            "vmtided did not answer '%s' within %.1f s (see --timeout)", command,
                            (double)vt_cli_get_timeout_us(cli) / G_USEC_PER_SEC);
        else
                g_propagate_error(error, g_steal_pointer(&local_error));
        return NULL;
}

/**
 * vt_cli_call_or_finish:
 * @cli: an invocation
 * @command: the control command, e.g. `query-guests`
 * @arguments: (nullable) (transfer none): its arguments, an object
 * @ret_status: (out): the exit status, written when %NULL is returned
 *
 * Runs @command as vt_cli_call() does and finishes what every subcommand
 * does alike with the answer: an error goes to stderr (vt_cli_fail()),
 * and with `--json` the return value to stdout.
 *
 * Returns: (transfer full) (nullable): the return value for the caller
 *     to print as text, or %NULL when the subcommand is done and should
 *     exit with *@ret_status
 */
json_object *
vt_cli_call_or_finish(VtCli *cli, const char *command, json_object *arguments, int *ret_status)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = vt_cli_call(cli, command, arguments, &error);

        if (reply == NULL) {
                *ret_status = vt_cli_fail(error);
                return NULL;
        }
        if (cli->json) {
                vt_cli_print_json(reply);
                *ret_status = VT_CLI_EXIT_OK;
                return NULL;
        }
        return g_steal_pointer(&reply);
}

/**
 * vt_cli_fail:
 * @error: why the command failed
 *
 * Prints `vmtide: MESSAGE` on stderr.
 *
 * Returns: %VT_CLI_EXIT_FAILURE
 */
int
vt_cli_fail(const GError *error)
{
        fprintf(stderr, "vmtide: %s\n", error->message);
        return VT_CLI_EXIT_FAILURE;
}

/**
 * vt_cli_guest_memory:
 * @guest: a guest of query-guests or query-guest
 *
 * What a guest holds, in the currency of its target and decisions: the
 * daemon's `memory` (the balloon's `actual` plus what virtio-mem plugged
 * when the device is driven), or `actual` from a daemon that does not send
 * it.
 *
 * Returns: (transfer none): the member to read, "memory" or "actual"
 */
const char *
vt_cli_guest_memory(json_object *guest)
{
        return vt_cli_json_get(guest, "memory") != NULL ? "memory" : "actual";
}

/**
 * vt_cli_or_dash:
 * @text: (nullable): a value for a table
 *
 * Returns: (transfer none): @text, or `-` for an unknown value
 */
const char *
vt_cli_or_dash(const char *text)
{
        return text != NULL ? text : "-";
}

/**
 * vt_cli_print_json:
 * @value: a return value
 *
 * Prints @value on stdout, indented, for `--json`.
 */
void
vt_cli_print_json(json_object *value)
{
        printf("%s\n", json_object_to_json_string_ext(value, JSON_C_TO_STRING_PRETTY |
                                                                 JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

/**
 * vt_cli_print_table:
 * @table: a table
 *
 * Prints @table on stdout.
 */
void
vt_cli_print_table(VtCliTable *table)
{
        g_autofree char *text = vt_cli_table_render(table);

        fputs(text, stdout);
}

/**
 * vt_cli_json_get:
 * @object: (nullable): a JSON value from vmtided
 * @path: member names separated by dots, e.g. `host.mem_total`
 *
 * Returns: (transfer none) (nullable): the member, %NULL if any step is
 *     missing, null or not an object
 */
json_object *
vt_cli_json_get(json_object *object, const char *path)
{
        g_auto(GStrv) names = g_strsplit(path, ".", -1);

        for (guint i = 0; names[i] != NULL && object != NULL; i++) {
                json_object *member = NULL;

                if (!json_object_is_type(object, json_type_object) ||
                    !json_object_object_get_ex(object, names[i], &member))
                        return NULL;
                object = member;
        }
        return object;
}

/**
 * vt_cli_json_get_string:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 *
 * Returns: (transfer none) (nullable): the string there, or %NULL
 */
const char *
vt_cli_json_get_string(json_object *object, const char *path)
{
        json_object *member = vt_cli_json_get(object, path);

        if (!json_object_is_type(member, json_type_string))
                return NULL;
        return json_object_get_string(member);
}

/**
 * vt_cli_json_get_int:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 * @ret_value: (out): the integer there, written when there is one
 *
 * Returns: %TRUE if there is an integer there
 */
gboolean
vt_cli_json_get_int(json_object *object, const char *path, gint64 *ret_value)
{
        json_object *member = vt_cli_json_get(object, path);

        if (!json_object_is_type(member, json_type_int))
                return FALSE;
        *ret_value = json_object_get_int64(member);
        return TRUE;
}

/**
 * vt_cli_json_get_double:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 * @ret_value: (out): the number there, written when there is one
 *
 * Returns: %TRUE if there is a number (integer or not) there
 */
gboolean
vt_cli_json_get_double(json_object *object, const char *path, double *ret_value)
{
        json_object *member = vt_cli_json_get(object, path);

        if (!json_object_is_type(member, json_type_double) &&
            !json_object_is_type(member, json_type_int))
                return FALSE;
        *ret_value = json_object_get_double(member);
        return TRUE;
}

/**
 * vt_cli_json_get_bool:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 * @ret_value: (out): the boolean there, written when there is one
 *
 * Returns: %TRUE if there is a boolean there
 */
gboolean
vt_cli_json_get_bool(json_object *object, const char *path, gboolean *ret_value)
{
        json_object *member = vt_cli_json_get(object, path);

        if (!json_object_is_type(member, json_type_boolean))
                return FALSE;
        *ret_value = json_object_get_boolean(member) ? TRUE : FALSE;
        return TRUE;
}

/**
 * vt_cli_json_format_size:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 *
 * Returns: (transfer full) (nullable): the byte count there as
 *     vt_size_format() prints it, %NULL when unknown
 */
char *
vt_cli_json_format_size(json_object *object, const char *path)
{
        gint64 value;

        if (!vt_cli_json_get_int(object, path, &value) || value < 0)
                return NULL;
        return vt_size_format((guint64)value);
}

/**
 * vt_cli_json_format_int:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get()
 *
 * Returns: (transfer full) (nullable): the integer there in decimal, %NULL
 *     when unknown
 */
char *
vt_cli_json_format_int(json_object *object, const char *path)
{
        gint64 value;

        if (!vt_cli_json_get_int(object, path, &value))
                return NULL;
        return g_strdup_printf("%" G_GINT64_FORMAT, value);
}

/**
 * vt_cli_json_format_duration:
 * @object: (nullable): a JSON value
 * @path: as for vt_cli_json_get(), a member in milliseconds
 *
 * Returns: (transfer full) (nullable): the duration there as
 *     vt_cli_duration_format() prints it, %NULL when unknown
 */
char *
vt_cli_json_format_duration(json_object *object, const char *path)
{
        gint64 value;

        if (!vt_cli_json_get_int(object, path, &value) || value < 0)
                return NULL;
        return vt_cli_duration_format(value);
}

/**
 * vt_cli_automation:
 * @cli: the invocation
 * @argc: arguments, the subcommand first
 * @argv: (array length=argc): the arguments
 * @command: `pause` or `resume`, the control command of the same name
 *
 * What `vmtide pause` and `vmtide resume` share: the command, then the
 * state of automation the daemon answers with.
 *
 * Returns: the exit status
 */
int
vt_cli_automation(VtCli *cli, int argc, char **argv, const char *command)
{
        g_autoptr(json_object) reply = NULL;
        gboolean paused = FALSE;
        int status;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        reply = vt_cli_call_or_finish(cli, command, NULL, &status);
        if (reply == NULL)
                return status;
        vt_cli_json_get_bool(reply, "paused", &paused);
        if (paused)
                printf("automation paused: no balloon or KSM changes until 'vmtide resume'\n");
        else
                printf("automation running\n");
        return VT_CLI_EXIT_OK;
}
