/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide status`: what vmtided is doing (query-status). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

/* "@text (@reason)", or @text alone without a reason. */
static char *
status_format_with_reason(const char *text, const char *reason)
{
        return g_strdup_printf("%s%s%s%s", text, reason != NULL ? " (" : "",
                               reason != NULL ? reason : "", reason != NULL ? ")" : "");
}

static char *
status_format_ksm(json_object *ksm)
{
        g_autofree char *knobs = NULL;

        if (!json_object_is_type(ksm, json_type_object))
                return g_strdup("not managed");
        knobs = vt_cli_format_ksm_knobs(ksm);
        return status_format_with_reason(knobs, vt_cli_json_get_string(ksm, "reason"));
}

/* The daemon's own lines: version and backend, automation, the loop. */
static void
status_add_daemon(VtCliTable *table, json_object *status)
{
        g_autofree char *uptime = vt_cli_json_format_duration(status, "uptime_ms");
        g_autofree char *tick = vt_cli_json_format_duration(status, "tick_interval_ms");
        g_autofree char *ticks = vt_cli_json_format_int(status, "ticks");
        g_autofree char *actions = vt_cli_json_format_int(status, "n_actions");
        gboolean paused = FALSE;
        gboolean connected = TRUE;

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
        vt_cli_table_add_field(table, "Control loop:",
                               g_strdup_printf("every %s, %s ticks, %s actions",
                                               vt_cli_or_dash(tick), vt_cli_or_dash(ticks),
                                               vt_cli_or_dash(actions)));
        vt_cli_table_add_field(table, "Guests:", vt_cli_json_format_int(status, "n_guests"));
}

/* The host's lines: its state, memory, pressure, reserve and budget. */
static void
status_add_host(VtCliTable *table, json_object *status)
{
        g_autofree char *total = vt_cli_json_format_size(status, "host.mem_total");
        g_autofree char *available = vt_cli_json_format_size(status, "host.mem_available");
        g_autofree char *actual = vt_cli_json_format_size(status, "host.guests_actual");
        g_autofree char *guest_free = vt_cli_json_format_size(status, "host.guest_free");
        const char *state = vt_cli_json_get_string(status, "host.state");
        const char *reason = vt_cli_json_get_string(status, "host.reason");
        char *budget;
        double some = -1, full = -1;

        vt_cli_table_add_field(table,
                               "Host:", status_format_with_reason(vt_cli_or_dash(state), reason));
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
        vt_cli_table_add_field(table, "Guest memory:",
                               g_strdup_printf("%s in balloons, %s free inside",
                                               vt_cli_or_dash(actual), vt_cli_or_dash(guest_free)));
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
        g_autoptr(json_object) status = NULL;
        g_autoptr(VtCliTable) table = NULL;
        int exit_status;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        status = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_QUERY_STATUS, NULL, &exit_status);
        if (status == NULL)
                return exit_status;

        table = vt_cli_table_new_fields();
        status_add_daemon(table, status);
        status_add_host(table, status);
        vt_cli_table_add_field(table, "KSM:", status_format_ksm(vt_cli_json_get(status, "ksm")));
        vt_cli_print_table(table);
        return VT_CLI_EXIT_OK;
}
