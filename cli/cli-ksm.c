/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide ksm`: the KSM tuner's state and each guest's savings (query-ksm). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

/**
 * vt_cli_format_ksm_knobs:
 * @ksm: (nullable): an object with KSM's `run`, `pages_to_scan` and
 *     `sleep_millisecs` (`query-ksm`, `query-status`'s `ksm`, the `KSM`
 *     event)
 *
 * Returns: (transfer full): `run 1, 494 pages every 20 ms`, with `-` for
 *     what is unknown
 */
char *
vt_cli_format_ksm_knobs(json_object *ksm)
{
        g_autofree char *run = vt_cli_json_format_int(ksm, "run");
        g_autofree char *pages = vt_cli_json_format_int(ksm, "pages_to_scan");
        g_autofree char *sleep_ms = vt_cli_json_format_int(ksm, "sleep_millisecs");

        return g_strdup_printf("run %s, %s pages every %s ms", vt_cli_or_dash(run),
                               vt_cli_or_dash(pages), vt_cli_or_dash(sleep_ms));
}

static void
ksm_print_summary(json_object *ksm)
{
        g_autoptr(VtCliTable) table = vt_cli_table_new_fields();
        g_autofree char *shared = vt_cli_json_format_int(ksm, "pages_shared");
        g_autofree char *sharing = vt_cli_json_format_int(ksm, "pages_sharing");
        g_autofree char *scans = vt_cli_json_format_int(ksm, "full_scans");
        double cpu = 0;

        vt_cli_table_add_field(table, "KSM:", vt_cli_format_ksm_knobs(ksm));
        vt_cli_table_add_field(table, "Reason:", g_strdup(vt_cli_json_get_string(ksm, "reason")));
        vt_cli_table_add_field(table, "Pages:",
                               g_strdup_printf("%s shared, %s sharing, %s full scans",
                                               vt_cli_or_dash(shared), vt_cli_or_dash(sharing),
                                               vt_cli_or_dash(scans)));
        vt_cli_table_add_field(table, "ksmd CPU:",
                               vt_cli_json_get_double(ksm, "ksmd_cpu_share", &cpu)
                                   ? g_strdup_printf("%.1f %%", cpu * 100.0)
                                   : NULL);
        vt_cli_table_add_field(table, "Saved:", vt_cli_json_format_size(ksm, "saved"));
        vt_cli_print_table(table);
}

static void
ksm_print_guests(json_object *guests)
{
        g_autoptr(VtCliTable) table = vt_cli_table_new();

        if (!json_object_is_type(guests, json_type_array) || json_object_array_length(guests) == 0)
                return;
        vt_cli_table_add_column(table, "GUEST", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "MERGING PAGES", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "SAVED", VT_CLI_ALIGN_RIGHT);
        for (size_t i = 0; i < json_object_array_length(guests); i++) {
                json_object *guest = json_object_array_get_idx(guests, i);

                vt_cli_table_add_cell(table, vt_cli_json_get_string(guest, "name"));
                vt_cli_table_take_cell(table, vt_cli_json_format_int(guest, "merging_pages"));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(guest, "profit"));
        }
        printf("\n");
        vt_cli_print_table(table);
}

/**
 * vt_cli_ksm:
 * @cli: the invocation
 * @argc: arguments, `ksm` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_ksm(VtCli *cli, int argc, char **argv)
{
        g_autoptr(json_object) ksm = NULL;
        gboolean managed = FALSE;
        int status;

        if (!vt_cli_parse_args(cli, NULL, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        ksm = vt_cli_call_or_finish(cli, VT_CONTROL_COMMAND_QUERY_KSM, NULL, &status);
        if (ksm == NULL)
                return status;
        if (!vt_cli_json_get_bool(ksm, "managed", &managed) || !managed) {
                printf("KSM is not managed by vmtided (no KSM in this kernel, or [ksm] "
                       "enabled=false)\n");
                return VT_CLI_EXIT_OK;
        }
        ksm_print_summary(ksm);
        ksm_print_guests(vt_cli_json_get(ksm, "guests"));
        return VT_CLI_EXIT_OK;
}
