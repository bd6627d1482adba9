/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide history`: the recorded decisions and events of a time range, one line each, or JSON. */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "cli/cli-recorder.h"
#include "vt-autocleanups.h"

/* One event: printed at once (human) or added to the JSON array. */
typedef struct {
        VtCli *cli;
        json_object *events; /* with --json */
        VtHostState host_state;
        gboolean host_known;
        guint n_events;
} HistoryOut;

static void
history_emit(HistoryOut *out, gint64 wall_us, const char *guest, const char *event,
             const char *detail, json_object *extra)
{
        out->n_events++;
        if (out->events != NULL) {
                json_object *e = extra != NULL ? extra : json_object_new_object();

                json_object_object_add(e, "wall_us", json_object_new_int64(wall_us));
                json_object_object_add(e, "event", json_object_new_string(event));
                json_object_object_add(e, "guest",
                                       guest != NULL ? json_object_new_string(guest) : NULL);
                json_object_object_add(e, "detail", json_object_new_string(detail));
                json_object_array_add(out->events, e);
                return;
        }
        {
                g_autofree char *time = vt_cli_time_format(wall_us);

                printf("%s  %-10s %-9s %s\n", time, guest != NULL ? guest : "-", event, detail);
        }
        if (extra != NULL)
                json_object_put(extra);
}

static void
history_tick(HistoryOut *out, const VtRecorderRecord *record)
{
        const VtRecorderTick *tick = &record->u.tick;

        if (!out->host_known || tick->decision.host_state != out->host_state) {
                json_object *extra = json_object_new_object();

                json_object_object_add(extra, "free",
                                       json_object_new_int64(tick->decision.host_free));
                history_emit(out, record->wall_us, NULL, "host", tick->decision.reason, extra);
                out->host_state = tick->decision.host_state;
                out->host_known = TRUE;
        }
        for (guint i = 0; i < tick->n_guests; i++) {
                const VtBalloonTarget *t = &tick->decision.targets[i];
                const VtBalloonGuest *g = &tick->guests[i];
                g_autofree char *from = NULL, *to = NULL, *detail = NULL;
                json_object *extra;

                if (t->action != VT_BALLOON_ACTION_GIVE && t->action != VT_BALLOON_ACTION_RECLAIM)
                        continue;
                from = vt_size_format(g->actual_bytes);
                to = vt_size_format(t->target_bytes);
                detail = g_strdup_printf("%s -> %s: %s%s%s", from, to, t->reason,
                                         tick->why != NULL ? "; ran on " : "",
                                         tick->why != NULL ? tick->why : "");
                extra = json_object_new_object();
                json_object_object_add(extra, "from",
                                       json_object_new_int64((gint64)g->actual_bytes));
                json_object_object_add(extra, "to", json_object_new_int64((gint64)t->target_bytes));
                json_object_object_add(extra, "reason", json_object_new_string(t->reason));
                history_emit(out, record->wall_us, g->name, vt_balloon_action_to_string(t->action),
                             detail, extra);
        }
}

static void
history_move(HistoryOut *out, const VtRecorderRecord *record)
{
        const VtRecorderMove *m = &record->u.move;
        g_autofree char *actual = vt_size_format(m->actual_bytes);
        g_autofree char *elapsed = vt_cli_duration_format(m->elapsed_us / 1000);
        g_autofree char *detail = g_strdup_printf(
            "%s at %s in %s%s%s", vt_recorder_move_outcome_to_string(m->outcome), actual, elapsed,
            m->detail != NULL ? ": " : "", m->detail != NULL ? m->detail : "");

        history_emit(out, record->wall_us, m->guest, "move", detail, NULL);
}

static void
history_other(HistoryOut *out, const VtRecorderRecord *record)
{
        g_autofree char *detail = NULL;

        switch (record->type) {
        case VT_RECORDER_RECORD_POLICY:
                detail = g_strdup_printf("balloon policy '%s'", record->u.policy.name);
                history_emit(out, record->wall_us, NULL, "policy", detail, NULL);
                return;
        case VT_RECORDER_RECORD_CONTROL: {
                const VtRecorderControl *c = &record->u.control;
                g_autofree char *bytes = c->bytes != 0 ? vt_size_format(c->bytes) : NULL;

                detail = g_strdup_printf("%s%s%s%s%s", vt_recorder_control_kind_to_string(c->kind),
                                         bytes != NULL ? " " : "", bytes != NULL ? bytes : "",
                                         c->detail != NULL ? ": " : "",
                                         c->detail != NULL ? c->detail : "");
                history_emit(out, record->wall_us, c->guest, "control", detail, NULL);
                return;
        }
        case VT_RECORDER_RECORD_MIGRATION: {
                const VtRecorderMigration *m = &record->u.migration;

                detail = g_strdup_printf(
                    "%s%s%s%s%s", vt_recorder_migration_phase_to_string(m->phase),
                    m->peer != NULL ? " to " : "", m->peer != NULL ? m->peer : "",
                    m->summary != NULL ? ": " : "", m->summary != NULL ? m->summary : "");
                history_emit(out, record->wall_us, m->guest, "migration", detail, NULL);
                return;
        }
        default:
                return;
        }
}

/**
 * vt_cli_history:
 * @cli: the invocation
 * @argc: arguments, `history` first
 * @argv: (array length=argc): the arguments
 *
 * Prints the recorded decisions and events of a range: the host's state
 * changes, each balloon move asked for and its end, migrations, changes
 * by hand; KSM steps and the ticks that changed nothing are left out.
 *
 * Returns: the exit status
 */
int
vt_cli_history(VtCli *cli, int argc, char **argv)
{
        g_autofree char *since = NULL, *until = NULL, *guest = NULL, *dir = NULL;
        const GOptionEntry entries[] = {
            {"since", 0, 0, G_OPTION_ARG_STRING, &since, "From this time on", "TIME"},
            {"until", 0, 0, G_OPTION_ARG_STRING, &until, "Before this time", "TIME"},
            {"guest", 'g', 0, G_OPTION_ARG_STRING, &guest, "Only what concerns this guest", "NAME"},
            {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir,
             "The history's directory (default: " VT_RECORDER_DIR_DEFAULT ")", "DIR"},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(VtRecorderReader) reader = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) events = NULL;
        gint64 now = g_get_real_time(), from = G_MININT64, to = G_MAXINT64;
        HistoryOut out = {.cli = cli};
        VtRecorderRecord *record = NULL;
        guint n_damaged = 0;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 0, 1))
                return VT_CLI_EXIT_USAGE;
        if (argc == 2 && dir != NULL)
                return vt_cli_usage_error(cli, "give --dir or a FILE, not both");
        if ((since != NULL && !vt_cli_time_parse(since, now, &from, &error)) ||
            (until != NULL && !vt_cli_time_parse(until, now, &to, &error)))
                return vt_cli_usage_error(cli, "%s", error->message);
        reader = vt_cli_history_open(argc == 2     ? argv[1]
                                     : dir != NULL ? dir
                                                   : VT_RECORDER_DIR_DEFAULT,
                                     &error);
        if (reader == NULL)
                return vt_cli_fail(error);
        vt_recorder_reader_set_range(reader, from, to);
        vt_recorder_reader_set_guest(reader, guest);
        if (cli->json)
                out.events = events = json_object_new_array();
        while (vt_cli_history_next(reader, &record, &n_damaged)) {
                if (record->wall_us >= from || record->type != VT_RECORDER_RECORD_POLICY) {
                        if (record->type == VT_RECORDER_RECORD_TICK)
                                history_tick(&out, record);
                        else if (record->type == VT_RECORDER_RECORD_MOVE)
                                history_move(&out, record);
                        else
                                history_other(&out, record);
                }
                vt_recorder_record_free(record);
        }
        if (events != NULL)
                vt_cli_print_json(events);
        else if (out.n_events == 0)
                printf("nothing recorded%s%s in that range\n", guest != NULL ? " for " : "",
                       guest != NULL ? guest : "");
        return n_damaged > 0 ? VT_CLI_EXIT_FAILURE : VT_CLI_EXIT_OK;
}
