/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide capacity`: do N more guests of size S fit, where the room comes from, how sure. */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "cli/cli-planning.h"
#include "host/planning/planning-capacity.h"
#include "host/recorder/recorder-writer.h"
#include "vt-autocleanups.h"

/* The guests as query-guests reports them; names and reasons point into @guests. */
static VtPlanningCapacityGuest *
capacity_guests(json_object *guests, guint *ret_n)
{
        guint n = json_object_is_type(guests, json_type_array)
                      ? (guint)json_object_array_length(guests)
                      : 0;
        VtPlanningCapacityGuest *out = g_new0(VtPlanningCapacityGuest, MAX(n, 1));

        for (guint i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(guests, i);
                VtPlanningCapacityGuest *c = &out[i];
                gboolean has_balloon = FALSE, stuck = FALSE, manual = FALSE, opt_out = FALSE;
                gboolean reachable = TRUE;
                const char *state = vt_cli_json_get_string(g, "state");

                c->name = vt_cli_or_dash(vt_cli_json_get_string(g, "name"));
                /* In the policy's currency: virtio-mem counted when driven. */
                c->max_bytes = vt_cli_guest_ceiling(g);
                c->actual_bytes = vt_cli_json_get_size_or(g, vt_cli_guest_memory(g), 0);
                c->min_bytes = vt_cli_json_get_size_or(g, "policy.min", 0);
                c->max_config_bytes = vt_cli_json_get_size_or(g, "policy.max", 0);
                c->want_bytes = vt_cli_json_get_size_or(g, "want", 0);
                vt_cli_json_get_bool(g, "has_balloon", &has_balloon);
                vt_cli_json_get_bool(g, "stuck", &stuck);
                vt_cli_json_get_bool(g, "manual", &manual);
                vt_cli_json_get_bool(g, "reachable", &reachable);
                vt_cli_json_get_bool(g, "policy.opt_out", &opt_out);
                c->why_fixed = g_strcmp0(state, "running") != 0 ? "not running"
                               : !has_balloon                   ? "no balloon"
                               : opt_out                        ? "opted out"
                               : manual                         ? "held by hand"
                               : stuck                          ? "balloon stuck"
                               : !reachable                     ? "unreachable"
                                                                : NULL;
        }
        *ret_n = n;
        return out;
}

static json_object *
room_to_json(VtPlanningSource source, const VtPlanningRoom *room)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "source",
                               json_object_new_string(vt_planning_source_to_string(source)));
        json_object_object_add(o, "bytes", json_object_new_int64(room->bytes));
        json_object_object_add(
            o, "confidence",
            json_object_new_string(vt_planning_confidence_to_string(room->confidence)));
        json_object_object_add(o, "samples", json_object_new_int64(room->summary.n));
        json_object_object_add(o, "variation", json_object_new_double(room->summary.variation));
        json_object_object_add(o, "confidence_text", json_object_new_string(room->confidence_text));
        json_object_object_add(o, "detail", json_object_new_string(room->detail));
        return o;
}

static json_object *
guest_to_json(const VtPlanningGuestRoom *g)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(g->name));
        json_object_object_add(o, "actual", vt_cli_json_new_size(g->actual_bytes));
        json_object_object_add(o, "floor", vt_cli_json_new_size(g->floor_bytes));
        json_object_object_add(o, "want_now",
                               g->want_now > 0 ? vt_cli_json_new_size(g->want_now) : NULL);
        json_object_object_add(o, "want_recent",
                               g->want_recent > 0 ? vt_cli_json_new_size(g->want_recent) : NULL);
        json_object_object_add(o, "room", json_object_new_int64(g->room));
        json_object_object_add(o, "samples", json_object_new_int64(g->summary.n));
        json_object_object_add(
            o, "confidence",
            json_object_new_string(vt_planning_confidence_to_string(g->confidence)));
        json_object_object_add(o, "detail", json_object_new_string(g->detail));
        return o;
}

static json_object *
capacity_to_json(const VtPlanningCapacityInput *input, const VtPlanningCapacity *c,
                 const VtCliHistory *history, gint64 window_us)
{
        json_object *o = json_object_new_object();
        json_object *sources = json_object_new_array();
        json_object *guests = json_object_new_array();
        json_object *trend = json_object_new_object();
        json_object *h = json_object_new_object();

        json_object_object_add(o, "verdict", json_object_new_string(c->verdict));
        json_object_object_add(o, "add", json_object_new_int64(input->n_add));
        json_object_object_add(o, "size", vt_cli_json_new_size(input->add_bytes));
        json_object_object_add(o, "fits", json_object_new_boolean(c->fits));
        json_object_object_add(o, "short_after", json_object_new_boolean(c->short_after));
        json_object_object_add(o, "n_fit", json_object_new_int64(c->n_fit));
        json_object_object_add(o, "spare", vt_cli_json_new_size(c->spare));
        json_object_object_add(o, "need", vt_cli_json_new_size(c->need));
        json_object_object_add(o, "margin", json_object_new_int64(c->margin));
        json_object_object_add(
            o, "confidence",
            json_object_new_string(vt_planning_confidence_to_string(c->confidence)));
        json_object_object_add(o, "percentile", json_object_new_double(input->percentile));
        for (guint s = 0; s < VT_PLANNING_SOURCE_MAX; s++)
                json_object_array_add(sources, room_to_json(s, &c->rooms[s]));
        json_object_object_add(o, "sources", sources);
        for (guint i = 0; i < c->n_guests; i++)
                json_object_array_add(guests, guest_to_json(&c->guests[i]));
        json_object_object_add(o, "guests", guests);
        json_object_object_add(trend, "known", json_object_new_boolean(c->trend.known));
        json_object_object_add(trend, "ticks", json_object_new_int64(c->trend.n));
        json_object_object_add(trend, "slope_per_s",
                               c->trend.known ? json_object_new_double(c->trend.slope) : NULL);
        json_object_object_add(trend, "r2",
                               c->trend.known ? json_object_new_double(c->trend.r2) : NULL);
        json_object_object_add(trend, "short_line", vt_cli_json_new_size(c->short_line));
        json_object_object_add(
            trend, "short_in_ms",
            c->trend.short_in_us >= 0 ? json_object_new_int64(c->trend.short_in_us / 1000) : NULL);
        json_object_object_add(trend, "detail", json_object_new_string(c->trend.detail));
        json_object_object_add(o, "trend", trend);
        json_object_object_add(h, "path", json_object_new_string(history->path));
        json_object_object_add(h, "read", json_object_new_boolean(history->history != NULL));
        json_object_object_add(h, "window_ms", json_object_new_int64(window_us / 1000));
        json_object_object_add(h, "damaged", json_object_new_int64(history->n_damaged));
        json_object_object_add(h, "note", json_object_new_string(history->note));
        json_object_object_add(o, "history", h);
        return o;
}

static void
capacity_print(const VtPlanningCapacity *c, const VtCliHistory *history, gint64 window_us)
{
        static const char *const labels[] = {"Host free:", "Balloons:", "KSM:", "Compressed:"};
        g_autoptr(VtCliTable) fields = vt_cli_table_new_fields();
        g_autoptr(VtCliTable) table = vt_cli_table_new();
        g_autofree char *window = vt_planning_duration_format(window_us);

        vt_cli_table_add_field(fields, "Capacity:", g_strdup(c->verdict));
        vt_cli_table_add_field(fields,
                               "History:", g_strdup_printf("last %s: %s", window, history->note));
        for (guint s = 0; s < VT_PLANNING_SOURCE_MAX; s++)
                vt_cli_table_add_field(
                    fields, labels[s],
                    g_strdup_printf("%s: %s; confidence %s",
                                    VT_SIZE_STR(c->rooms[s].bytes, VT_SIZE_STYLE_TABLE),
                                    c->rooms[s].detail, c->rooms[s].confidence_text));
        vt_cli_table_add_field(fields, "Spare:", vt_size_format(c->spare));
        vt_cli_table_add_field(fields, "Trend:", g_strdup(c->trend.detail));
        vt_cli_print_table(fields);
        if (c->n_guests == 0)
                return;
        vt_cli_table_add_column(table, "GUEST", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "ACTUAL", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "FLOOR", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "WANT NOW", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "WANT RECENT", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "ROOM", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "CONFIDENCE", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "NOTE", VT_CLI_ALIGN_LEFT);
        for (guint i = 0; i < c->n_guests; i++) {
                const VtPlanningGuestRoom *g = &c->guests[i];

                vt_cli_table_add_cell(table, g->name);
                vt_cli_table_take_cell(table, vt_size_format(g->actual_bytes));
                vt_cli_table_take_cell(table, vt_size_format(g->floor_bytes));
                vt_cli_table_take_cell(table, g->want_now > 0 ? vt_size_format(g->want_now) : NULL);
                vt_cli_table_take_cell(table,
                                       g->want_recent > 0 ? vt_size_format(g->want_recent) : NULL);
                vt_cli_table_take_cell(table, g_strdup(VT_SIZE_STR(g->room, VT_SIZE_STYLE_TABLE)));
                vt_cli_table_take_cell(
                    table,
                    g_strdup_printf("%s (%u)", vt_planning_confidence_to_string(g->confidence),
                                    g->summary.n));
                vt_cli_table_add_cell(table, g->detail);
        }
        printf("\n");
        vt_cli_print_table(table);
}

typedef struct {
        int n_add;
        char *size;
        char *window;
        double percentile;
        char *history;
        guint64 add_bytes;
        gint64 window_us;
} CapacityArgs;

static void
capacity_args_clear(CapacityArgs *args)
{
        g_free(args->size);
        g_free(args->window);
        g_free(args->history);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CapacityArgs, capacity_args_clear)

static gboolean
capacity_check_args(VtCli *cli, CapacityArgs *args)
{
        g_autoptr(GError) error = NULL;

        if (args->n_add < 0 || args->n_add > 10000) {
                vt_cli_usage_error(cli, "--add: between 0 and 10000 guests");
                return FALSE;
        }
        if (args->n_add > 0 && args->size == NULL) {
                vt_cli_usage_error(cli, "--add needs --size");
                return FALSE;
        }
        if (args->size != NULL && !vt_cli_size_parse(args->size, &args->add_bytes, &error)) {
                vt_cli_usage_error(cli, "--size: %s", error->message);
                return FALSE;
        }
        if (args->size != NULL && args->n_add == 0)
                args->n_add = 1;
        args->window_us = VT_PLANNING_WINDOW_DEFAULT_US;
        if (args->window != NULL &&
            !vt_planning_duration_parse(args->window, &args->window_us, &error)) {
                vt_cli_usage_error(cli, "--window: %s", error->message);
                return FALSE;
        }
        if (!(args->percentile >= 50.0 && args->percentile <= 100.0)) {
                vt_cli_usage_error(cli, "--percentile: between 50 and 100");
                return FALSE;
        }
        return TRUE;
}

/* The host's figures from query-status and query-ksm into @input. */
static void
capacity_fill_host(VtPlanningCapacityInput *input, json_object *status, json_object *ksm,
                   json_object *guests)
{
        gboolean managed = FALSE;

        input->mem_total = vt_cli_json_get_size_or(status, "host.mem_total", 0);
        input->mem_available = vt_cli_json_get_size_or(status, "host.mem_available", 0);
        input->reserve =
            vt_cli_json_get_size_or(status, "host.reserve", input->config->host_reserve);
        input->budget = vt_cli_json_get_size_or(status, "host.budget", 0);
        input->guests_actual = vt_cli_json_get_size_or(status, "host.guests_actual", 0);
        input->short_line = vt_cli_json_get_size_or(status, "host.short_line", 0);
        if (vt_cli_json_get_bool(ksm, "managed", &managed) && managed) {
                input->ksm_known = TRUE;
                input->ksm_saved = vt_cli_json_get_size_or(
                    ksm, "saved",
                    vt_cli_json_get_size_or(ksm, "pages_sharing", 0) * vt_cli_page_size());
                for (size_t i = 0; json_object_is_type(guests, json_type_array) &&
                                   i < json_object_array_length(guests);
                     i++)
                        input->ksm_mergeable +=
                            vt_cli_json_get_size_or(json_object_array_get_idx(guests, i), "max", 0);
        }
}

/**
 * vt_cli_capacity:
 * @cli: the invocation
 * @argc: arguments, `capacity` first
 * @argv: (array length=argc): the arguments
 *
 * Answers what-if questions from query-status, query-guests, query-ksm
 * and the recorded history (docs/cli.md).
 *
 * Returns: the exit status
 */
int
vt_cli_capacity(VtCli *cli, int argc, char **argv)
{
        g_auto(CapacityArgs) args = {.percentile = VT_PLANNING_PERCENTILE_DEFAULT};
        const GOptionEntry entries[] = {
            {"add", 'n', 0, G_OPTION_ARG_INT, &args.n_add, "How many guests to add", "N"},
            {"size", 'S', 0, G_OPTION_ARG_STRING, &args.size, "The size of each (e.g. 4G)", "SIZE"},
            {"window", 'w', 0, G_OPTION_ARG_STRING, &args.window,
             "History to look at (default: 1h)", "DURATION"},
            {"percentile", 'p', 0, G_OPTION_ARG_DOUBLE, &args.percentile,
             "The percentile of a guest's recorded want counted as its need (default: 95)", "P"},
            {"history", 0, 0, G_OPTION_ARG_FILENAME, &args.history,
             "The history directory (default: " VT_RECORDER_DIR_DEFAULT ")", "DIR"},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(json_object) status = NULL;
        g_autoptr(json_object) guests = NULL;
        g_autoptr(json_object) ksm = NULL;
        g_autoptr(VtPlanningCapacity) capacity = NULL;
        g_autofree VtPlanningCapacityGuest *cguests = NULL;
        g_auto(VtCliHistory) history = {0};
        VtPlanningCapacityInput input = {0};
        VtBalloonConfig defaults;
        int exit_status;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 0, 0) ||
            !capacity_check_args(cli, &args))
                return VT_CLI_EXIT_USAGE;
        status = vt_cli_planning_query(cli, VT_CONTROL_COMMAND_QUERY_STATUS, &exit_status);
        if (status == NULL)
                return exit_status;
        guests = vt_cli_planning_query(cli, VT_CONTROL_COMMAND_QUERY_GUESTS, &exit_status);
        if (guests == NULL)
                return exit_status;
        ksm = vt_cli_planning_query(cli, VT_CONTROL_COMMAND_QUERY_KSM, &exit_status);
        if (ksm == NULL)
                return exit_status;
        input.now_wall_us = g_get_real_time();
        vt_cli_history_read(&history, args.history != NULL ? args.history : VT_RECORDER_DIR_DEFAULT,
                            input.now_wall_us - args.window_us);
        vt_balloon_config_init(&defaults);
        input.config = history.history != NULL ? &history.history->config : &defaults;
        input.history = history.history;
        capacity_fill_host(&input, status, ksm, vt_cli_json_get(guests, "guests"));
        cguests = capacity_guests(vt_cli_json_get(guests, "guests"), &input.n_guests);
        input.guests = cguests;
        input.n_add = (guint)args.n_add;
        input.add_bytes = args.add_bytes;
        input.percentile = args.percentile;
        capacity = vt_planning_capacity_compute(&input);
        if (cli->json) {
                g_autoptr(json_object) out =
                    capacity_to_json(&input, capacity, &history, args.window_us);

                vt_cli_print_json(out);
        } else {
                capacity_print(capacity, &history, args.window_us);
        }
        return VT_CLI_EXIT_OK;
}
