/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtide, the command line of vmtided: global options, then a table of
 * subcommands, one file each (docs/cli.md).
 *
 * Global options may come before the subcommand (parsed here, stopping at
 * the first argument that is not an option) or after it (parsed again by
 * the subcommand, whose option context includes them).
 */
#include <locale.h>
#include <stdio.h>

#include "cli/cli-commands.h"
#include "vt-config.h"

static const VtCliCommand cli_commands[] = {
    {"status", "Show what vmtided is doing: host state, automation, KSM", "", vt_cli_status},
    {"list", "List the guests: balloon sizes, state, last decision", "", vt_cli_list},
    {"stats", "Show one guest in detail", "GUEST", vt_cli_stats},
    {"setmem", "Set a guest's balloon by hand, or hand it back to vmtided (auto)",
     "GUEST SIZE|auto", vt_cli_setmem},
    {"policy", "Show a guest's policy, or change it with the options", "GUEST", vt_cli_policy},
    {"pause", "Stop automation: no balloon or KSM changes until resume", "", vt_cli_pause},
    {"resume", "Start automation again", "", vt_cli_resume},
    {"events", "Follow vmtided's events, one line each, until interrupted", "", vt_cli_events},
    {"top", "A live view: host, budget, KSM, guests by pressure (q quits)", "", vt_cli_top},
    {"ksm", "Show the KSM tuner's state and what each guest saves", "", vt_cli_ksm},
    {"migrate", "Move a guest to a peer live, following it (--cancel, --no-wait)", "GUEST [PEER]",
     vt_cli_migrate},
    {"hosts", "List the peers guests may migrate to, and their room", "", vt_cli_hosts},
    {"plan", "Show what vmtided would migrate now, where, and at what cost", "", vt_cli_plan},
    {"history", "Show the recorded decisions and events of a time range", "[FILE]", vt_cli_history},
    {"replay", "Run a recorded history through a balloon policy, diffed against the record",
     "HISTORY", vt_cli_replay},
    {"plot", "Draw a history's timelines (per guest, host, KSM) into an SVG or PNG", "HISTORY",
     vt_cli_plot},
    {"capacity", "Do N more guests of size S fit? Where the room comes from, how sure, the trend",
     "", vt_cli_capacity},
    {"risk", "List the guests at risk now, ranked, with the rule that fired and its figures", "",
     vt_cli_risk},
    {"doctor", "Diagnose the host and guests: thrashing, KSM, fragmentation, settings", "",
     vt_cli_doctor},
};

static const VtCliCommand *
cli_find_command(const char *name)
{
        for (guint i = 0; i < G_N_ELEMENTS(cli_commands); i++) {
                if (g_str_equal(cli_commands[i].name, name))
                        return &cli_commands[i];
        }
        return NULL;
}

/* "Commands:" and one aligned line per subcommand. */
static char *
cli_describe_commands(void)
{
        g_autoptr(VtCliTable) table = vt_cli_table_new();
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        GString *out = g_string_new("Commands:\n");

        vt_cli_table_add_column(table, NULL, VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, NULL, VT_CLI_ALIGN_LEFT);
        for (guint i = 0; i < G_N_ELEMENTS(cli_commands); i++) {
                vt_cli_table_take_cell(
                    table, g_strdup_printf("%s %s", cli_commands[i].name, cli_commands[i].usage));
                vt_cli_table_add_cell(table, cli_commands[i].summary);
        }
        vt_cli_table_add_cell(table, "help [COMMAND]");
        vt_cli_table_add_cell(table, "Show this, or a command's options");
        text = vt_cli_table_render(table);
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
                g_string_append_printf(out, "  %s\n", lines[i]);
        g_string_append(
            out,
            "\nSizes are binary and need a unit: 512M, 1.5G, 2GiB, 2GB (all x1024), 1048576K,\n"
            "4096B; a bare number is refused (virsh would read KiB).\n"
            "Exit status: 0 done, 1 vmtided failed or is unreachable, 2 usage.");
        return g_string_free(out, FALSE);
}

static GOptionContext *
cli_new_context(VtCli *cli, gboolean *version)
{
        const GOptionEntry entries[] = {
            {"version", 'V', 0, G_OPTION_ARG_NONE, version, "Print the version and exit", NULL},
            G_OPTION_ENTRY_NULL,
        };
        g_autofree char *description = cli_describe_commands();
        GOptionContext *context = g_option_context_new("COMMAND [ARGS...]");

        g_option_context_set_summary(context, "Show and steer vmtided, the memory overcommit "
                                              "manager of this host.");
        g_option_context_set_description(context, description);
        g_option_context_add_main_entries(context, entries, NULL);
        vt_cli_add_global_entries(cli, context);
        /* Stop at the subcommand: what follows is its own. */
        g_option_context_set_strict_posix(context, TRUE);
        return context;
}

/* `vmtide help [COMMAND]`. */
static int
cli_help(VtCli *cli, GOptionContext *context, int argc, char **argv)
{
        const VtCliCommand *command;
        char *help_argv[] = {NULL, (char *)"--help", NULL};

        if (argc < 2) {
                g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);

                fputs(help, stdout);
                return VT_CLI_EXIT_OK;
        }
        if (argc > 2)
                return vt_cli_usage_error(cli, "'help' takes one command");
        command = cli_find_command(argv[1]);
        if (command == NULL)
                return vt_cli_usage_error(cli, "unknown command '%s'", argv[1]);
        /* The subcommand's --help prints its options and exits. */
        cli->command = command;
        help_argv[0] = argv[1];
        return command->run(cli, 2, help_argv);
}

int
main(int argc, char **argv)
{
        VtCli cli = {0};
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(GError) error = NULL;
        const VtCliCommand *command;
        gboolean version = FALSE;
        int status;

        setlocale(LC_ALL, "");
        g_set_prgname("vmtide");
        context = cli_new_context(&cli, &version);
        if (!g_option_context_parse(context, &argc, &argv, &error)) {
                g_autofree char *words = vt_cli_option_error_words(error, "vmtide", argc, argv);

                status = vt_cli_usage_error(&cli, "%s", words);
        } else if (version) {
                printf("vmtide %s\n", VT_VERSION);
                status = VT_CLI_EXIT_OK;
        } else if (argc < 2) {
                status = vt_cli_usage_error(&cli, "no command given");
        } else if (g_str_equal(argv[1], "help")) {
                status = cli_help(&cli, context, argc - 1, argv + 1);
        } else if ((command = cli_find_command(argv[1])) == NULL) {
                g_autofree char *commands = cli_describe_commands();

                status = vt_cli_usage_error(&cli, "unknown command '%s'", argv[1]);
                fprintf(stderr, "\n%s\n", commands);
        } else {
                cli.command = command;
                status = command->run(&cli, argc - 1, argv + 1);
        }
        vt_cli_clear(&cli);
        return status;
}
