/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide plan`: what vmtided would migrate now, where, at what predicted cost, and why not the
 * rest. */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

static char *
format_prediction(json_object *predicted)
{
        gint64 total = -1, down = -1, passes = 0;
        gboolean converges = FALSE;
        g_autofree char *bytes = vt_cli_json_format_size(predicted, "bytes");

        if (predicted == NULL)
                return g_strdup("-");
        vt_cli_json_get_bool(predicted, "converges", &converges);
        vt_cli_json_get_int(predicted, "passes", &passes);
        if (!converges)
                return g_strdup("does not converge");
        vt_cli_json_get_int(predicted, "total_ms", &total);
        vt_cli_json_get_int(predicted, "downtime_ms", &down);
        return g_strdup_printf("%.1f s, %" G_GINT64_FORMAT " passes, %s, %" G_GINT64_FORMAT
                               " ms down",
                               (double)total / 1000, passes, vt_cli_or_dash(bytes), down);
}

static void
plan_print_guests(json_object *guests)
{
        g_autoptr(VtCliTable) table = vt_cli_table_new();

        vt_cli_table_add_column(table, "GUEST", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "STATUS", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "ACTUAL", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "RELIEF", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "DIRTY/S", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "PREDICTED MOVE", VT_CLI_ALIGN_LEFT);
        for (size_t i = 0; i < json_object_array_length(guests); i++) {
                json_object *g = json_object_array_get_idx(guests, i);

                vt_cli_table_add_cell(table, vt_cli_or_dash(vt_cli_json_get_string(g, "name")));
                vt_cli_table_add_cell(table, vt_cli_or_dash(vt_cli_json_get_string(g, "status")));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(g, "actual"));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(g, "relief"));
                vt_cli_table_take_cell(table, vt_cli_json_get(g, "dirty_rate") != NULL
                                                  ? vt_cli_json_format_size(g, "dirty_rate")
                                                  : g_strdup("unmeasured"));
                vt_cli_table_take_cell(table, format_prediction(vt_cli_json_get(g, "predicted")));
        }
        vt_cli_print_table(table);
}

/**
 * vt_cli_plan:
 * @cli: the invocation
 * @argc: arguments, `plan` first
 * @argv: (array length=argc): the arguments
 *
 * Shows query-plan: the planner's decision now, moving nothing.
 *
 * Returns: the exit status
 */
int
vt_cli_plan(VtCli *cli, int argc, char **argv)
{
        g_autoptr(json_object) reply = NULL;
        g_autoptr(VtCliTable) fields = vt_cli_table_new_fields();
        gboolean enabled = FALSE, paused = FALSE;
        json_object *guests;
        int status;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        reply = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_QUERY_PLAN, NULL, &status);
        if (reply == NULL)
                return status;
        vt_cli_json_get_bool(reply, "enabled", &enabled);
        vt_cli_json_get_bool(reply, "paused", &paused);
        vt_cli_table_add_field(
            fields, "Plan:",
            g_strdup_printf("%s (%s)",
                            vt_cli_or_dash(vt_cli_json_get_string(reply, "decision.action")),
                            vt_cli_or_dash(vt_cli_json_get_string(reply, "decision.why"))));
        vt_cli_table_add_field(
            fields,
            "Reason:", g_strdup(vt_cli_or_dash(vt_cli_json_get_string(reply, "decision.reason"))));
        vt_cli_table_add_field(fields, "Automatic:",
                               g_strdup(!enabled ? "off ([migrate] enabled = false): shown only"
                                        : paused ? "paused: shown only"
                                                 : "on"));
        vt_cli_table_add_field(fields, "Host free:", vt_cli_json_format_size(reply, "host.free"));
        vt_cli_table_add_field(
            fields, "Balloon can take:", vt_cli_json_format_size(reply, "host.reclaimable"));
        vt_cli_print_table(fields);
        guests = vt_cli_json_get(reply, "guests");
        if (guests != NULL && json_object_array_length(guests) > 0) {
                printf("\n");
                plan_print_guests(guests);
        }
        return VT_CLI_EXIT_OK;
}
