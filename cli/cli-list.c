/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide list`: the guests, one line each (query-guests). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

/* `running`, with what else is worth knowing at a glance. */
static char *
list_format_state(json_object *guest)
{
        GString *state = g_string_new(vt_cli_or_dash(vt_cli_json_get_string(guest, "state")));
        gboolean flag;

        if (vt_cli_json_get_bool(guest, "has_balloon", &flag) && !flag)
                g_string_append(state, ",no-balloon");
        if (vt_cli_json_get_bool(guest, "stuck", &flag) && flag)
                g_string_append(state, ",stuck");
        if (vt_cli_json_get_bool(guest, "memdev.unplug_stuck", &flag) && flag)
                g_string_append(state, ",unplug-stuck");
        if (vt_cli_json_get_bool(guest, "reachable", &flag) && !flag)
                g_string_append(state, ",unreachable");
        if (vt_cli_json_get_bool(guest, "manual", &flag) && flag)
                g_string_append(state, ",manual");
        if (vt_cli_json_get_bool(guest, "policy.opt_out", &flag) && flag)
                g_string_append(state, ",opt-out");
        return g_string_free(state, FALSE);
}

/* What the guest could still give: the agent's MemAvailable when it is
 * connected, else the balloon driver's figure. */
static char *
list_format_available(json_object *guest)
{
        gboolean connected = FALSE;

        if (vt_cli_json_get_bool(guest, "agent.connected", &connected) && connected &&
            vt_cli_json_get(guest, "agent.mem_available") != NULL)
                return vt_cli_json_format_size(guest, "agent.mem_available");
        return vt_cli_json_format_size(guest, "stats.available");
}

/**
 * vt_cli_list:
 * @cli: the invocation
 * @argc: arguments, `list` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_list(VtCli *cli, int argc, char **argv)
{
        static const struct {
                const char *header;
                VtCliAlign align;
        } columns[] = {
            {"NAME", VT_CLI_ALIGN_LEFT},       {"STATE", VT_CLI_ALIGN_LEFT},
            {"ACTUAL", VT_CLI_ALIGN_RIGHT},    {"TARGET", VT_CLI_ALIGN_RIGHT},
            {"PLUGGED", VT_CLI_ALIGN_RIGHT},   {"MAX", VT_CLI_ALIGN_RIGHT},
            {"AVAILABLE", VT_CLI_ALIGN_RIGHT}, {"ACTION", VT_CLI_ALIGN_LEFT},
            {"REASON", VT_CLI_ALIGN_LEFT},
        };
        g_autoptr(json_object) reply = NULL;
        g_autoptr(VtCliTable) table = NULL;
        json_object *guests;
        gboolean names = FALSE;
        int status;
        const GOptionEntry entries[] = {
            {"names", 0, 0, G_OPTION_ARG_NONE, &names,
             "Print only the guests' names, one a line (for shell completion)", NULL},
            {NULL},
        };

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        reply = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_QUERY_GUESTS, NULL, &status);
        if (reply == NULL)
                return status;
        guests = vt_cli_json_get(reply, "guests");
        if (names) {
                for (size_t i = 0; json_object_is_type(guests, json_type_array) &&
                                   i < json_object_array_length(guests);
                     i++) {
                        json_object *guest = json_object_array_get_idx(guests, i);

                        printf("%s\n", vt_cli_or_dash(vt_cli_json_get_string(guest, "name")));
                }
                return VT_CLI_EXIT_OK;
        }
        if (!json_object_is_type(guests, json_type_array) ||
            json_object_array_length(guests) == 0) {
                printf("no guests\n");
                return VT_CLI_EXIT_OK;
        }

        table = vt_cli_table_new();
        for (guint i = 0; i < G_N_ELEMENTS(columns); i++)
                vt_cli_table_add_column(table, columns[i].header, columns[i].align);
        for (size_t i = 0; i < json_object_array_length(guests); i++) {
                json_object *guest = json_object_array_get_idx(guests, i);

                vt_cli_table_add_cell(table, vt_cli_json_get_string(guest, "name"));
                vt_cli_table_take_cell(table, list_format_state(guest));
                vt_cli_table_take_cell(table,
                                       vt_cli_json_format_size(guest, vt_cli_guest_memory(guest)));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(guest, "target"));
                /* What virtio-mem plugged; "-" without a device. */
                vt_cli_table_take_cell(table, vt_cli_json_format_size(guest, "memdev.plugged"));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(guest, "max"));
                vt_cli_table_take_cell(table, list_format_available(guest));
                vt_cli_table_add_cell(table, vt_cli_json_get_string(guest, "action"));
                vt_cli_table_add_cell(table, vt_cli_json_get_string(guest, "reason"));
        }
        vt_cli_print_table(table);
        return VT_CLI_EXIT_OK;
}
