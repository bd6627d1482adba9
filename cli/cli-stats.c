/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide stats GUEST`: one guest in detail (query-guest). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

static char *
stats_format_balloon(json_object *guest)
{
        g_autofree char *actual = vt_cli_json_format_size(guest, vt_cli_guest_memory(guest));
        g_autofree char *target = vt_cli_json_format_size(guest, "target");
        g_autofree char *max = vt_cli_json_format_size(guest, "max");
        gboolean has_balloon = TRUE;
        gboolean stuck = FALSE;

        if (vt_cli_json_get_bool(guest, "has_balloon", &has_balloon) && !has_balloon)
                return g_strdup("none (no balloon device or driver)");
        vt_cli_json_get_bool(guest, "stuck", &stuck);
        return g_strdup_printf("actual %s, target %s, max %s%s", vt_cli_or_dash(actual),
                               vt_cli_or_dash(target), vt_cli_or_dash(max),
                               stuck ? " (stuck: not moving)" : "");
}

/* The virtio-mem device beside the balloon; NULL ("-") without one. */
static char *
stats_format_memdev(json_object *memdev)
{
        g_autofree char *plugged = vt_cli_json_format_size(memdev, "plugged");
        g_autofree char *requested = vt_cli_json_format_size(memdev, "requested");
        g_autofree char *max = vt_cli_json_format_size(memdev, "max");
        g_autofree char *block = vt_cli_json_format_size(memdev, "block_size");
        gboolean stuck = FALSE;

        if (!json_object_is_type(memdev, json_type_object))
                return NULL;
        vt_cli_json_get_bool(memdev, "unplug_stuck", &stuck);
        return g_strdup_printf("plugged %s, requested %s, max %s, blocks of %s, %s, device '%s'%s",
                               vt_cli_or_dash(plugged), vt_cli_or_dash(requested),
                               vt_cli_or_dash(max), vt_cli_or_dash(block),
                               vt_cli_or_dash(vt_cli_json_get_string(memdev, "strategy")),
                               vt_cli_or_dash(vt_cli_json_get_string(memdev, "id")),
                               stuck ? " (unplug stuck: the guest cannot free the blocks)" : "");
}

static char *
stats_format_decision(json_object *guest)
{
        g_autofree char *ago = vt_cli_json_format_duration(guest, "last_change_ms_ago");
        const char *reason = vt_cli_json_get_string(guest, "reason");

        return g_strdup_printf("%s%s%s%s%s",
                               vt_cli_or_dash(vt_cli_json_get_string(guest, "action")),
                               reason != NULL ? ": " : "", reason != NULL ? reason : "",
                               ago != NULL ? ", last change " : "", ago != NULL ? ago : "");
}

static char *
stats_format_balloon_stats(json_object *stats)
{
        g_autofree char *total = vt_cli_json_format_size(stats, "total");
        g_autofree char *free_ = vt_cli_json_format_size(stats, "free");
        g_autofree char *available = vt_cli_json_format_size(stats, "available");
        g_autofree char *caches = vt_cli_json_format_size(stats, "disk_caches");
        g_autofree char *age = vt_cli_json_format_duration(stats, "age_ms");

        if (!json_object_is_type(stats, json_type_object))
                return g_strdup("none");
        return g_strdup_printf("total %s, free %s, available %s, caches %s (%s old)",
                               vt_cli_or_dash(total), vt_cli_or_dash(free_),
                               vt_cli_or_dash(available), vt_cli_or_dash(caches),
                               vt_cli_or_dash(age));
}

static char *
stats_format_activity(json_object *stats)
{
        g_autofree char *faults = vt_cli_json_format_int(stats, "major_faults");
        g_autofree char *swap_in = vt_cli_json_format_int(stats, "swap_in");
        g_autofree char *swap_out = vt_cli_json_format_int(stats, "swap_out");

        if (!json_object_is_type(stats, json_type_object))
                return NULL;
        return g_strdup_printf("%s major faults, %s pages swapped in, %s out",
                               vt_cli_or_dash(faults), vt_cli_or_dash(swap_in),
                               vt_cli_or_dash(swap_out));
}

static char *
stats_format_agent(json_object *agent)
{
        g_autofree char *total = vt_cli_json_format_size(agent, "mem_total");
        g_autofree char *available = vt_cli_json_format_size(agent, "mem_available");
        g_autofree char *oom = vt_cli_json_format_int(agent, "oom_kill");
        g_autofree char *faults = vt_cli_json_format_int(agent, "pgmajfault");
        g_autofree char *age = vt_cli_json_format_duration(agent, "age_ms");
        gboolean connected = FALSE;
        double some = 0, full = 0;
        g_autofree char *psi = NULL;

        vt_cli_json_get_bool(agent, "connected", &connected);
        if (!connected)
                return g_strdup("not connected");
        if (vt_cli_json_get_double(agent, "psi_some_avg10", &some) &&
            vt_cli_json_get_double(agent, "psi_full_avg10", &full))
                psi = g_strdup_printf("PSI some %.2f %% full %.2f %%", some, full);
        return g_strdup_printf("available %s of %s, %s, %s OOM kills, %s major faults (%s old)",
                               vt_cli_or_dash(available), vt_cli_or_dash(total),
                               psi != NULL ? psi : "PSI -", vt_cli_or_dash(oom),
                               vt_cli_or_dash(faults), vt_cli_or_dash(age));
}

static char *
stats_format_ksm(json_object *ksm)
{
        g_autofree char *pages = vt_cli_json_format_int(ksm, "merging_pages");
        g_autofree char *profit = vt_cli_json_format_size(ksm, "profit");

        if (!json_object_is_type(ksm, json_type_object))
                return NULL;
        return g_strdup_printf("%s pages merging, %s saved", vt_cli_or_dash(pages),
                               vt_cli_or_dash(profit));
}

/**
 * vt_cli_stats:
 * @cli: the invocation
 * @argc: arguments, `stats` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_stats(VtCli *cli, int argc, char **argv)
{
        g_autoptr(json_object) arguments = json_object_new_object();
        g_autoptr(json_object) guest = NULL;
        g_autoptr(VtCliTable) table = NULL;
        g_autofree char *pid = NULL;
        gboolean manual = FALSE;
        json_object *stats;
        int status;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 1, 1))
                return VT_CLI_EXIT_USAGE;
        json_object_object_add(arguments, "name", json_object_new_string(argv[1]));
        guest = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_QUERY_GUEST, arguments, &status);
        if (guest == NULL)
                return status;

        table = vt_cli_table_new_fields();
        pid = vt_cli_json_format_int(guest, "pid");
        vt_cli_table_add_field(
            table, "Guest:",
            g_strdup_printf("%s, %s, pid %s", vt_cli_or_dash(vt_cli_json_get_string(guest, "name")),
                            vt_cli_or_dash(vt_cli_json_get_string(guest, "state")),
                            vt_cli_or_dash(pid)));
        vt_cli_table_add_field(table, "Balloon:", stats_format_balloon(guest));
        vt_cli_table_add_field(
            table, "Virtio-mem:", stats_format_memdev(vt_cli_json_get(guest, "memdev")));
        vt_cli_json_get_bool(guest, "manual", &manual);
        vt_cli_table_add_field(
            table, "Control:",
            manual ? g_strdup_printf("manual (vmtide setmem %s auto hands it back)", argv[1])
                   : g_strdup("automatic"));
        vt_cli_table_add_field(table, "Wants:", vt_cli_json_format_size(guest, "want"));
        vt_cli_table_add_field(table, "Decision:", stats_format_decision(guest));
        vt_cli_table_add_field(table,
                               "Policy:", vt_cli_format_policy(vt_cli_json_get(guest, "policy")));
        stats = vt_cli_json_get(guest, "stats");
        vt_cli_table_add_field(table, "Balloon stats:", stats_format_balloon_stats(stats));
        vt_cli_table_add_field(table, "Activity:", stats_format_activity(stats));
        vt_cli_table_add_field(table,
                               "Agent:", stats_format_agent(vt_cli_json_get(guest, "agent")));
        vt_cli_table_add_field(table, "RSS:", vt_cli_json_format_size(guest, "rss"));
        vt_cli_table_add_field(table, "KSM:", stats_format_ksm(vt_cli_json_get(guest, "ksm")));
        vt_cli_print_table(table);
        return VT_CLI_EXIT_OK;
}
