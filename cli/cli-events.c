/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vmtide events`: follows vmtided's events, one line each, until Ctrl-C
 * or until vmtided closes the connection.
 *
 * Events are written as they come, each line flushed, so that the command
 * can feed a pipe (`vmtide events --json | jq`). Known events get a line a
 * person reads; others print their data as JSON.
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

typedef struct {
        VtCli *cli;
        gboolean done;
        gboolean lost;
} EventsState;

static char *
events_describe_decision(json_object *data)
{
        g_autofree char *from = vt_cli_json_format_size(data, "from");
        g_autofree char *to = vt_cli_json_format_size(data, "to");

        return g_strdup_printf(
            "%s: %s %s -> %s (%s)", vt_cli_or_dash(vt_cli_json_get_string(data, "guest")),
            vt_cli_or_dash(vt_cli_json_get_string(data, "action")), vt_cli_or_dash(from),
            vt_cli_or_dash(to), vt_cli_or_dash(vt_cli_json_get_string(data, "reason")));
}

static char *
events_describe_balloon(const char *name, json_object *data)
{
        g_autofree char *actual = vt_cli_json_format_size(data, "actual");
        g_autofree char *other = NULL;
        const char *guest = vt_cli_or_dash(vt_cli_json_get_string(data, "guest"));

        if (g_str_equal(name, VT_CONTROL_EVENT_BALLOON_DONE)) {
                other = vt_cli_json_format_int(data, "ms");
                return g_strdup_printf("%s: balloon at %s after %s ms", guest,
                                       vt_cli_or_dash(actual), vt_cli_or_dash(other));
        }
        other = vt_cli_json_format_size(data, "target");
        return g_strdup_printf("%s: balloon stuck at %s, target %s", guest, vt_cli_or_dash(actual),
                               vt_cli_or_dash(other));
}

static char *
events_describe_ksm(json_object *data)
{
        g_autofree char *knobs = vt_cli_format_ksm_knobs(data);

        return g_strdup_printf("%s (%s)", knobs,
                               vt_cli_or_dash(vt_cli_json_get_string(data, "reason")));
}

/* MEMDEV: what the guest's virtio-mem device holds now. */
static char *
events_describe_memdev(json_object *data)
{
        g_autofree char *plugged = vt_cli_json_format_size(data, "plugged");
        g_autofree char *requested = vt_cli_json_format_size(data, "requested");
        g_autofree char *max = vt_cli_json_format_size(data, "max");
        const char *guest = vt_cli_or_dash(vt_cli_json_get_string(data, "guest"));
        gboolean present = TRUE;

        if (vt_cli_json_get_bool(data, "present", &present) && !present)
                return g_strdup_printf("%s: virtio-mem device gone", guest);
        return g_strdup_printf("%s: virtio-mem %s plugged (requested %s, max %s)", guest,
                               vt_cli_or_dash(plugged), vt_cli_or_dash(requested),
                               vt_cli_or_dash(max));
}

/* MIGRATION_*, DIRTY_RATE and PLAN: the guest, then what happened. */
static char *
events_describe_migration(const char *name, json_object *data)
{
        const char *guest = vt_cli_or_dash(vt_cli_json_get_string(data, "guest"));
        const char *peer = vt_cli_or_dash(vt_cli_json_get_string(data, "peer"));
        const char *reason = vt_cli_or_dash(vt_cli_json_get_string(data, "reason"));

        if (g_str_equal(name, VT_CONTROL_EVENT_MIGRATION_STARTED))
                return g_strdup_printf(
                    "%s: migrating to %s (%s); predicted: %s", guest, peer, reason,
                    vt_cli_or_dash(vt_cli_json_get_string(data, "predicted.reason")));
        if (g_str_equal(name, VT_CONTROL_EVENT_MIGRATION_PASS)) {
                g_autofree char *left = vt_cli_json_format_size(data, "remaining");
                g_autofree char *pass = vt_cli_json_format_int(data, "pass");
                g_autofree char *ms = vt_cli_json_format_int(data, "elapsed_ms");

                return g_strdup_printf("%s: to %s, pass %s, %s left, %s ms", guest, peer,
                                       vt_cli_or_dash(pass), vt_cli_or_dash(left),
                                       vt_cli_or_dash(ms));
        }
        if (g_str_equal(name, VT_CONTROL_EVENT_MIGRATION_STEERED))
                return g_strdup_printf("%s: to %s, %s (%s)", guest, peer,
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "action")),
                                       reason);
        if (g_str_equal(name, VT_CONTROL_EVENT_MIGRATION_FINISHED))
                return g_strdup_printf("%s: to %s %s: %s; %s", guest, peer,
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "outcome")),
                                       reason,
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "summary")));
        if (g_str_equal(name, VT_CONTROL_EVENT_DIRTY_RATE)) {
                g_autofree char *rate = vt_cli_json_format_size(data, "rate");
                g_autofree char *ms = vt_cli_json_format_int(data, "window_ms");

                return g_strdup_printf("%s: dirties %s/s (over %s ms)", guest, vt_cli_or_dash(rate),
                                       vt_cli_or_dash(ms));
        }
        return g_strdup_printf("%s (%s): %s",
                               vt_cli_or_dash(vt_cli_json_get_string(data, "action")),
                               vt_cli_or_dash(vt_cli_json_get_string(data, "why")), reason);
}

/* One line for a person; docs/control-protocol.md lists the events. */
static char *
events_describe(const char *name, json_object *data)
{
        gboolean paused = FALSE;

        if (g_str_equal(name, VT_CONTROL_EVENT_DECISION))
                return events_describe_decision(data);
        if (g_str_equal(name, VT_CONTROL_EVENT_BALLOON_DONE) ||
            g_str_equal(name, VT_CONTROL_EVENT_BALLOON_STUCK))
                return events_describe_balloon(name, data);
        if (g_str_equal(name, VT_CONTROL_EVENT_KSM))
                return events_describe_ksm(data);
        if (g_str_equal(name, VT_CONTROL_EVENT_MEMDEV))
                return events_describe_memdev(data);
        if (g_str_has_prefix(name, "MIGRATION_") ||
            g_str_equal(name, VT_CONTROL_EVENT_DIRTY_RATE) ||
            g_str_equal(name, VT_CONTROL_EVENT_PLAN))
                return events_describe_migration(name, data);
        if (g_str_equal(name, VT_CONTROL_EVENT_HOST_STATE))
                return g_strdup_printf("host %s -> %s (%s)",
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "from")),
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "to")),
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "reason")));
        if (g_str_equal(name, VT_CONTROL_EVENT_GUEST_ADDED))
                return g_strdup_printf("%s added",
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "guest")));
        if (g_str_equal(name, VT_CONTROL_EVENT_GUEST_REMOVED))
                return g_strdup_printf("%s removed (%s)",
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "guest")),
                                       vt_cli_or_dash(vt_cli_json_get_string(data, "reason")));
        if (g_str_equal(name, VT_CONTROL_EVENT_AUTOMATION) &&
            vt_cli_json_get_bool(data, "paused", &paused))
                return g_strdup(paused ? "automation paused" : "automation resumed");
        return g_strdup(data != NULL
                            ? json_object_to_json_string_ext(
                                  data, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
                            : "");
}

static void
events_on_event(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                gpointer user_data)
{
        EventsState *state = user_data;

        if (timestamp_us < 0)
                timestamp_us = g_get_real_time();
        if (state->cli->json) {
                g_autoptr(json_object) event = vt_qmp_message_new_event(name, data, timestamp_us);

                printf("%s\n", json_object_to_json_string_ext(
                                   event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
                g_autoptr(GDateTime) time =
                    g_date_time_new_from_unix_local(timestamp_us / G_USEC_PER_SEC);
                g_autofree char *when = time != NULL ? g_date_time_format(time, "%F %T") : NULL;
                g_autofree char *text = events_describe(name, data);

                printf("%s.%03d  %-18s  %s\n", vt_cli_or_dash(when),
                       (int)(timestamp_us % G_USEC_PER_SEC / 1000), name, text);
        }
        fflush(stdout);
}

static void
events_on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        EventsState *state = user_data;

        state->lost = TRUE;
        state->done = TRUE;
}

static gboolean
events_on_signal(gpointer user_data)
{
        ((EventsState *)user_data)->done = TRUE;
        return G_SOURCE_CONTINUE;
}

/* Before the handshake: an event may come in the same read as its end. */
static void
events_prepare(VtQmpClient *client, gpointer user_data)
{
        g_signal_connect(client, "event", G_CALLBACK(events_on_event), user_data);
        g_signal_connect(client, "disconnected", G_CALLBACK(events_on_disconnected), user_data);
}

static GSource *
events_watch_signal(int signum, EventsState *state, GMainContext *context)
{
        GSource *source = g_unix_signal_source_new(signum);

        g_source_set_callback(source, events_on_signal, state, NULL);
        g_source_attach(source, context);
        return source;
}

/**
 * vt_cli_events:
 * @cli: the invocation
 * @argc: arguments, `events` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status: 0 when interrupted or when vmtided closed
 *     the connection
 */
int
vt_cli_events(VtCli *cli, int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        EventsState state = {.cli = cli};
        GMainContext *context;
        GSource *sigint, *sigterm;
        VtQmpClient *client;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        client = vt_cli_connect_full(cli, events_prepare, &state, &error);
        if (client == NULL)
                return vt_cli_fail(error);
        context = vt_qmp_client_get_context(client);
        sigint = events_watch_signal(SIGINT, &state, context);
        sigterm = events_watch_signal(SIGTERM, &state, context);
        while (!state.done)
                g_main_context_iteration(context, TRUE);
        g_source_destroy(sigint);
        g_source_unref(sigint);
        g_source_destroy(sigterm);
        g_source_unref(sigterm);
        g_signal_handlers_disconnect_by_data(client, &state);
        if (state.lost)
                fprintf(stderr, "vmtide: vmtided closed the connection\n");
        return VT_CLI_EXIT_OK;
}
