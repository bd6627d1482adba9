/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide status`: what vmtided is doing (query-status). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

static char *
status_format_ksm(json_object *ksm)
{
        g_autofree char *run = vt_cli_json_format_int(ksm, "run");
        g_autofree char *pages = vt_cli_json_format_int(ksm, "pages_to_scan");
        g_autofree char *sleep_ms = vt_cli_json_format_int(ksm, "sleep_millisecs");
        const char *reason = vt_cli_json_get_string(ksm, "reason");

        if (!json_object_is_type(ksm, json_type_object))
                return g_strdup("not managed");
        return g_strdup_printf("run %s, %s pages every %s ms%s%s%s", vt_cli_or_dash(run),
                               vt_cli_or_dash(pages), vt_cli_or_dash(sleep_ms),
                               reason != NULL ? " (" : "", reason != NULL ? reason : "",
                               reason != NULL ? ")" : "");
}

/**
 * vt_cli_status:
 * @cli: the invocation
 * @argc: arguments, `status` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_status(VtCli *cli, int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) status = NULL;
        g_autoptr(VtCliTable) table = NULL;
        g_autofree char *uptime = NULL;
        g_autofree char *tick = NULL;
        g_autofree char *ticks = NULL;
        g_autofree char *actions = NULL;
        g_autofree char *total = NULL;
        g_autofree char *available = NULL;
        g_autofree char *actual = NULL;
        g_autofree char *guest_free = NULL;
        const char *state;
        const char *reason;
        char *budget;
        gboolean paused = FALSE;
        gboolean connected = TRUE;
        double some = -1, full = -1;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        status = vt_cli_call(cli, "query-status", NULL, &error);
        if (status == NULL)
                return vt_cli_fail(error);
        if (cli->json) {
                vt_cli_print_json(status);
                return VT_CLI_EXIT_OK;
        }

        table = vt_cli_table_new_fields();

        uptime = vt_cli_json_format_duration(status, "uptime_ms");
        vt_cli_table_add_field(
            table, "Daemon:",
            g_strdup_printf("vmtided %s, backend %s%s, up %s",
                            vt_cli_or_dash(vt_cli_json_get_string(status, "version")),
                            vt_cli_or_dash(vt_cli_json_get_string(status, "backend")),
                            vt_cli_json_get_bool(status, "backend_connected", &connected) &&
                                    !connected
                                ? " (not connected: guests left as they are)"
                                : "",
                            vt_cli_or_dash(uptime)));
        vt_cli_json_get_bool(status, "paused", &paused);
        vt_cli_table_add_field(
            table, "Automation:",
            g_strdup(paused ? "paused ('vmtide resume' starts it again)" : "running"));
        tick = vt_cli_json_format_duration(status, "tick_interval_ms");
        ticks = vt_cli_json_format_int(status, "ticks");
        actions = vt_cli_json_format_int(status, "n_actions");
        vt_cli_table_add_field(table, "Control loop:",
                               g_strdup_printf("every %s, %s ticks, %s actions",
                                               vt_cli_or_dash(tick), vt_cli_or_dash(ticks),
                                               vt_cli_or_dash(actions)));
        vt_cli_table_add_field(table, "Guests:", vt_cli_json_format_int(status, "n_guests"));

        state = vt_cli_json_get_string(status, "host.state");
        reason = vt_cli_json_get_string(status, "host.reason");
        vt_cli_table_add_field(
            table, "Host:",
            g_strdup_printf("%s%s%s%s", vt_cli_or_dash(state), reason != NULL ? " (" : "",
                            reason != NULL ? reason : "", reason != NULL ? ")" : ""));
        total = vt_cli_json_format_size(status, "host.mem_total");
        available = vt_cli_json_format_size(status, "host.mem_available");
        vt_cli_table_add_field(table, "Memory:",
                               g_strdup_printf("%s total, %s available", vt_cli_or_dash(total),
                                               vt_cli_or_dash(available)));
        if (vt_cli_json_get_double(status, "host.psi_some_avg10", &some) &&
            vt_cli_json_get_double(status, "host.psi_full_avg10", &full))
                vt_cli_table_add_field(
                    table,
                    "Pressure:", g_strdup_printf("some %.2f %%, full %.2f %% (avg10)", some, full));
        else
                vt_cli_table_add_field(table, "Pressure:", NULL);
        vt_cli_table_add_field(table, "Reserve:", vt_cli_json_format_size(status, "host.reserve"));
        budget = vt_cli_json_format_size(status, "host.budget");
        vt_cli_table_add_field(table, "Budget:", budget != NULL ? budget : g_strdup("none"));
        actual = vt_cli_json_format_size(status, "host.guests_actual");
        guest_free = vt_cli_json_format_size(status, "host.guest_free");
        vt_cli_table_add_field(table, "Guest memory:",
                               g_strdup_printf("%s in balloons, %s free inside",
                                               vt_cli_or_dash(actual), vt_cli_or_dash(guest_free)));
        vt_cli_table_add_field(table, "KSM:", status_format_ksm(vt_cli_json_get(status, "ksm")));
        vt_cli_print_table(table);
        return VT_CLI_EXIT_OK;
}
