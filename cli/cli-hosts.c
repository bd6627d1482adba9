/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide hosts`: the peers guests may migrate to, and the room each has (query-peers). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

static char *
format_age(json_object *peer)
{
        gint64 ms;

        if (!vt_cli_json_get_int(peer, "age_ms", &ms))
                return g_strdup("never");
        return g_strdup_printf("%.1f s ago", (double)ms / 1000);
}

static void
hosts_add_row(VtCliTable *table, json_object *peer)
{
        gboolean known = FALSE;

        vt_cli_json_get_bool(peer, "known", &known);
        vt_cli_table_add_cell(table, vt_cli_or_dash(vt_cli_json_get_string(peer, "name")));
        vt_cli_table_add_cell(table, vt_cli_or_dash(vt_cli_json_get_string(peer, "source")));
        vt_cli_table_add_cell(table, known ? vt_cli_or_dash(vt_cli_json_get_string(peer, "state"))
                                           : "unknown");
        vt_cli_table_take_cell(table, vt_cli_json_format_size(peer, "free"));
        vt_cli_table_take_cell(table, vt_cli_json_format_size(peer, "headroom"));
        vt_cli_table_take_cell(table, vt_cli_json_format_size(peer, "mem_total"));
        vt_cli_table_take_cell(table, vt_cli_json_format_size(peer, "bandwidth"));
        vt_cli_table_take_cell(table, format_age(peer));
        vt_cli_table_add_cell(table,
                              known ? "" : vt_cli_or_dash(vt_cli_json_get_string(peer, "error")));
}

/**
 * vt_cli_hosts:
 * @cli: the invocation
 * @argc: arguments, `hosts` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_hosts(VtCli *cli, int argc, char **argv)
{
        g_autoptr(json_object) reply = NULL;
        g_autoptr(VtCliTable) table = NULL;
        json_object *peers;
        int status;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        reply = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_QUERY_PEERS, NULL, &status);
        if (reply == NULL)
                return status;
        peers = vt_cli_json_get(reply, "peers");
        if (peers == NULL || json_object_array_length(peers) == 0) {
                printf("no peers: set [migrate] peers in vmtided.conf\n");
                return VT_CLI_EXIT_OK;
        }
        table = vt_cli_table_new();
        vt_cli_table_add_column(table, "PEER", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "ROOM FROM", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "STATE", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "FREE", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "HEADROOM", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "MEMORY", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "LINK/S", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "READ", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "NOTE", VT_CLI_ALIGN_LEFT);
        for (size_t i = 0; i < json_object_array_length(peers); i++)
                hosts_add_row(table, json_object_array_get_idx(peers, i));
        vt_cli_print_table(table);
        return VT_CLI_EXIT_OK;
}
