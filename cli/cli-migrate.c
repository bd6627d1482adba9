/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide migrate GUEST [PEER]`: a live migration by hand, followed pass by pass; or --cancel. */

/*
 * The move is asked for on the same connection the events come on, and
 * the event handler is in place before the handshake: MIGRATION_STARTED
 * may arrive before `migrate`'s own reply. Then each MIGRATION_PASS and
 * MIGRATION_STEERED of the guest prints a line until MIGRATION_FINISHED
 * (or vmtided closes the connection, or Ctrl-C: the move goes on).
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

typedef struct {
        VtCli *cli;
        const char *guest;
        gboolean done;
        gboolean lost;
        gboolean completed;
} MigrateState;

static char *
format_ms(json_object *data, const char *path)
{
        gint64 ms;

        if (!vt_cli_json_get_int(data, path, &ms))
                return g_strdup("-");
        return g_strdup_printf("%.1f s", (double)ms / 1000);
}

static void
migrate_print_pass(json_object *data)
{
        g_autofree char *remaining = vt_cli_json_format_size(data, "remaining");
        g_autofree char *rate = vt_cli_json_format_size(data, "dirty_rate");
        g_autofree char *sent = vt_cli_json_format_size(data, "throughput");
        g_autofree char *elapsed = format_ms(data, "elapsed_ms");
        g_autofree char *left = format_ms(data, "predicted_left_ms");
        g_autofree char *predicted = format_ms(data, "predicted_total_ms");
        gint64 pass = 0;

        vt_cli_json_get_int(data, "pass", &pass);
        printf("pass %" G_GINT64_FORMAT ": %s left, dirtied %s/s, sent %s/s, %s elapsed, "
               "about %s to go (predicted %s in all)\n",
               pass, vt_cli_or_dash(remaining), vt_cli_or_dash(rate), vt_cli_or_dash(sent), elapsed,
               json_object_is_type(vt_cli_json_get(data, "predicted_left_ms"), json_type_int)
                   ? left
                   : "never (does not converge as it goes)",
               predicted);
}

static void
migrate_on_event(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                 gpointer user_data)
{
        MigrateState *state = user_data;
        gboolean finished = g_str_equal(name, VT_CONTROL_EVENT_MIGRATION_FINISHED);

        if (!g_str_has_prefix(name, "MIGRATION_") ||
            g_strcmp0(vt_cli_json_get_string(data, "guest"), state->guest) != 0)
                return;
        if (timestamp_us < 0)
                timestamp_us = g_get_real_time();
        if (state->cli->json) {
                g_autoptr(json_object) event = vt_qmp_message_new_event(name, data, timestamp_us);

                printf("%s\n", json_object_to_json_string_ext(
                                   event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else if (g_str_equal(name, VT_CONTROL_EVENT_MIGRATION_PASS)) {
                migrate_print_pass(data);
        } else if (g_str_equal(name, VT_CONTROL_EVENT_MIGRATION_STEERED)) {
                printf("steered: %s (%s)\n", vt_cli_or_dash(vt_cli_json_get_string(data, "action")),
                       vt_cli_or_dash(vt_cli_json_get_string(data, "reason")));
        } else if (finished) {
                printf("%s: %s to %s: %s\n  %s\n", state->guest,
                       vt_cli_or_dash(vt_cli_json_get_string(data, "outcome")),
                       vt_cli_or_dash(vt_cli_json_get_string(data, "peer")),
                       vt_cli_or_dash(vt_cli_json_get_string(data, "reason")),
                       vt_cli_or_dash(vt_cli_json_get_string(data, "summary")));
        }
        fflush(stdout);
        if (finished) {
                state->done = TRUE;
                state->completed =
                    g_strcmp0(vt_cli_json_get_string(data, "outcome"), "completed") == 0;
        }
}

static void
migrate_on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        MigrateState *state = user_data;

        state->lost = TRUE;
        state->done = TRUE;
}

static void
migrate_prepare(VtQmpClient *client, gpointer user_data)
{
        g_signal_connect(client, "event", G_CALLBACK(migrate_on_event), user_data);
        g_signal_connect(client, "disconnected", G_CALLBACK(migrate_on_disconnected), user_data);
}

static gboolean
migrate_on_signal(gpointer user_data)
{
        ((MigrateState *)user_data)->done = TRUE;
        return G_SOURCE_CONTINUE;
}

static int
migrate_cancel(VtCli *cli, const char *guest)
{
        g_autoptr(json_object) arguments = json_object_new_object();
        g_autoptr(json_object) reply = NULL;
        int status;

        json_object_object_add(arguments, "name", json_object_new_string(guest));
        reply = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_MIGRATE_CANCEL, arguments, &status);
        if (reply == NULL)
                return status;
        printf("%s: cancel asked; the guest stays on this host once the move stops\n", guest);
        return VT_CLI_EXIT_OK;
}

static void
migrate_print_started(const char *guest, json_object *reply)
{
        gboolean measured = FALSE;

        vt_cli_json_get_bool(reply, "dirty_rate_measured", &measured);
        printf("%s: migrating to %s; predicted: %s%s\n", guest,
               vt_cli_or_dash(vt_cli_json_get_string(reply, "peer")),
               vt_cli_or_dash(vt_cli_json_get_string(reply, "predicted.reason")),
               measured ? "" : " (dirty rate never measured: taken as 0)");
        fflush(stdout);
}

/* Follows the move's events until it ends. */
static int
migrate_follow(MigrateState *state, VtQmpClient *client)
{
        GMainContext *context = vt_qmp_client_get_context(client);
        GSource *sigint = g_unix_signal_source_new(SIGINT);

        g_source_set_callback(sigint, migrate_on_signal, state, NULL);
        g_source_attach(sigint, context);
        while (!state->done)
                g_main_context_iteration(context, TRUE);
        g_source_destroy(sigint);
        g_source_unref(sigint);
        g_signal_handlers_disconnect_by_data(client, state);
        if (state->lost) {
                fprintf(stderr, "vmtide: vmtided closed the connection\n");
                return VT_CLI_EXIT_FAILURE;
        }
        return state->completed ? VT_CLI_EXIT_OK : VT_CLI_EXIT_FAILURE;
}

/**
 * vt_cli_migrate:
 * @cli: the invocation
 * @argc: arguments, `migrate` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status: 0 once the move completed (or, with
 *     `--no-wait`, started; with `--cancel`, the cancel was asked for),
 *     1 when it failed or was cancelled
 */
int
vt_cli_migrate(VtCli *cli, int argc, char **argv)
{
        gboolean cancel = FALSE, no_wait = FALSE;
        const GOptionEntry entries[] = {
            {"cancel", 0, 0, G_OPTION_ARG_NONE, &cancel,
             "Cancel the guest's migration under way: it stays on this host", NULL},
            {"no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait,
             "Return once the move started instead of following it", NULL},
            {NULL},
        };
        g_autoptr(json_object) arguments = json_object_new_object();
        g_autoptr(json_object) reply = NULL;
        g_autoptr(GError) error = NULL;
        MigrateState state = {.cli = cli};
        VtQmpClient *client;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 1, 2))
                return VT_CLI_EXIT_USAGE;
        state.guest = argv[1];
        if (cancel) {
                if (argc > 2)
                        return vt_cli_usage_error(cli, "--cancel takes the guest alone");
                return migrate_cancel(cli, argv[1]);
        }
        client = vt_cli_connect_full(cli, migrate_prepare, &state, &error);
        if (client == NULL)
                return vt_cli_fail(error);
        json_object_object_add(arguments, "name", json_object_new_string(argv[1]));
        if (argc > 2)
                json_object_object_add(arguments, "peer", json_object_new_string(argv[2]));
        reply = vt_cli_call(cli, VT_CONTROL_COMMAND_MIGRATE, arguments, &error);
        if (reply == NULL) {
                g_signal_handlers_disconnect_by_data(client, &state);
                return vt_cli_fail(error);
        }
        if (cli->json)
                vt_cli_print_json(reply);
        else
                migrate_print_started(argv[1], reply);
        if (no_wait || state.done) {
                g_signal_handlers_disconnect_by_data(client, &state);
                return no_wait || state.completed ? VT_CLI_EXIT_OK : VT_CLI_EXIT_FAILURE;
        }
        return migrate_follow(&state, client);
}
