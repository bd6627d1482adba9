/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide policy GUEST [options]`: show a guest's policy, or change it (set-policy). */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

/**
 * vt_cli_format_policy:
 * @policy: (nullable): a guest's `policy` object
 *
 * Returns: (transfer full) (nullable): `min 128.0 MiB, max 512.0 MiB,
 *     shares 1000, opt-out no` (then `, KSM opt-out` when so, and `, from
 *     SOURCE` when the daemon says where it came from), or %NULL without a
 *     policy
 */
char *
vt_cli_format_policy(json_object *policy)
{
        g_autofree char *min = vt_cli_json_format_size(policy, "min");
        g_autofree char *max = vt_cli_json_format_size(policy, "max");
        g_autofree char *shares = vt_cli_json_format_int(policy, "shares");
        gboolean opt_out = FALSE, ksm_opt_out = FALSE;
        gboolean known;
        const char *source;

        if (!json_object_is_type(policy, json_type_object))
                return NULL;
        known = vt_cli_json_get_bool(policy, "opt_out", &opt_out);
        source = vt_cli_json_get_string(policy, "source");
        return g_strdup_printf("min %s, max %s, shares %s, opt-out %s%s%s%s", vt_cli_or_dash(min),
                               vt_cli_or_dash(max), vt_cli_or_dash(shares),
                               !known    ? "-"
                               : opt_out ? "yes"
                                         : "no",
                               vt_cli_json_get_bool(policy, "ksm_opt_out", &ksm_opt_out) &&
                                       ksm_opt_out
                                   ? ", KSM opt-out"
                                   : "",
                               source != NULL ? ", from " : "", source != NULL ? source : "");
}

/* Adds the size option @text as @member; FALSE after a usage error. */
static gboolean
policy_add_size(VtCli *cli, json_object *arguments, const char *member, const char *option,
                const char *text)
{
        g_autoptr(GError) error = NULL;
        guint64 bytes;

        if (text == NULL)
                return TRUE;
        if (!vt_cli_size_parse(text, &bytes, &error)) {
                vt_cli_usage_error(cli, "%s: %s", option, error->message);
                return FALSE;
        }
        json_object_object_add(arguments, member, json_object_new_int64((gint64)bytes));
        return TRUE;
}

/**
 * vt_cli_policy:
 * @cli: the invocation
 * @argc: arguments, `policy` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status
 */
int
vt_cli_policy(VtCli *cli, int argc, char **argv)
{
        g_autofree char *min_arg = NULL;
        g_autofree char *max_arg = NULL;
        g_autofree char *shares_arg = NULL;
        gboolean opt_out = FALSE;
        gboolean opt_in = FALSE;
        gboolean ksm_opt_out = FALSE;
        gboolean ksm_opt_in = FALSE;
        const GOptionEntry entries[] = {
            {"min", 0, 0, G_OPTION_ARG_STRING, &min_arg, "Never balloon the guest below SIZE",
             "SIZE"},
            {"max", 0, 0, G_OPTION_ARG_STRING, &max_arg, "Never give the guest more than SIZE",
             "SIZE"},
            {"shares", 0, 0, G_OPTION_ARG_STRING, &shares_arg,
             "The guest's weight when guests compete for memory (1-100000; default 1000)", "N"},
            {"opt-out", 0, 0, G_OPTION_ARG_NONE, &opt_out, "Leave the guest's balloon alone", NULL},
            {"opt-in", 0, 0, G_OPTION_ARG_NONE, &opt_in, "Manage the guest's balloon again", NULL},
            {"ksm-opt-out", 0, 0, G_OPTION_ARG_NONE, &ksm_opt_out,
             "Leave the guest's memory out of KSM decisions", NULL},
            {"ksm-opt-in", 0, 0, G_OPTION_ARG_NONE, &ksm_opt_in,
             "Count the guest's memory in KSM decisions again", NULL},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) arguments = json_object_new_object();
        g_autoptr(json_object) reply = NULL;
        g_autofree char *text = NULL;
        json_object *policy;
        gboolean change;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 1, 1))
                return VT_CLI_EXIT_USAGE;
        if (opt_out && opt_in)
                return vt_cli_usage_error(cli, "--opt-out and --opt-in exclude each other");
        if (ksm_opt_out && ksm_opt_in)
                return vt_cli_usage_error(cli, "--ksm-opt-out and --ksm-opt-in exclude each other");
        json_object_object_add(arguments, "name", json_object_new_string(argv[1]));
        if (!policy_add_size(cli, arguments, "min", "--min", min_arg) ||
            !policy_add_size(cli, arguments, "max", "--max", max_arg))
                return VT_CLI_EXIT_USAGE;
        if (shares_arg != NULL) {
                guint64 shares;

                if (!g_ascii_string_to_unsigned(shares_arg, 10, 1, 100000, &shares, NULL))
                        return vt_cli_usage_error(
                            cli, "--shares: '%s' is not a whole number from 1 to 100000",
                            shares_arg);
                json_object_object_add(arguments, "shares", json_object_new_int64((gint64)shares));
        }
        if (opt_out || opt_in)
                json_object_object_add(arguments, "opt_out", json_object_new_boolean(opt_out));
        if (ksm_opt_out || ksm_opt_in)
                json_object_object_add(arguments, "ksm_opt_out",
                                       json_object_new_boolean(ksm_opt_out));
        change = json_object_object_length(arguments) > 1;

        if (change) {
                reply = vt_cli_call(cli, VT_CONTROL_COMMAND_SET_POLICY, arguments, &error);
                policy = reply;
        } else {
                reply = vt_cli_call(cli, VT_CONTROL_COMMAND_QUERY_GUEST, arguments, &error);
                policy = vt_cli_json_get(reply, "policy");
        }
        if (reply == NULL)
                return vt_cli_fail(error);
        if (cli->json) {
                vt_cli_print_json(policy != NULL ? policy : reply);
                return VT_CLI_EXIT_OK;
        }
        text = vt_cli_format_policy(policy);
        printf("%s: %s%s\n", argv[1], change ? "policy now " : "", vt_cli_or_dash(text));
        /* Only libvirt's domain metadata keeps a policy set here; the
         * QMP-direct backend holds it in vmtided's memory. */
        if (change && g_strcmp0(vt_cli_json_get_string(policy, "source"), "control socket") == 0)
                printf("%s: kept until vmtided restarts; to keep it, put it in [guest:%s] of "
                       "vmtided.conf\n",
                       argv[1], argv[1]);
        return VT_CLI_EXIT_OK;
}
