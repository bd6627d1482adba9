/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide plot`: a history's timelines, per guest and for the host, drawn by gnuplot. */

/*
 * Theory of operation
 *
 * One pass over the history writes plain data files into a temporary
 * directory, one per guest (balloon size, target, MemAvailable, pressure
 * pushes, decisions; with --replay the simulated balloon and target of a
 * closed-loop replay beside them), one for the host (state, MemAvailable,
 * the guests' free memory as the policy judged it) and one for KSM (its
 * saving, ksmd's CPU); then a generated gnuplot script draws them, one
 * panel each, stacked on one time axis, into an SVG or a PNG. gnuplot
 * (Debian's gnuplot-nox) does the axes, ticks, legends and both output
 * formats; docs/planning.md says why it and not SVG written by hand.
 */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "cli/cli-commands.h"
#include "cli/cli-recorder.h"

#define MIB_D 1048576.0

typedef struct {
        char *name;
        GString *data;
} PlotGuest;

typedef struct {
        GPtrArray *guests; /* PlotGuest, in order of appearance */
        GString *host;
        GString *ksm;
        gint64 first_wall_us;
        gint64 last_wall_us;
        char *policy;
        gboolean replayed;
} Plot;

static void
plot_guest_free(PlotGuest *g)
{
        g_free(g->name);
        g_string_free(g->data, TRUE);
        g_free(g);
}

static PlotGuest *
plot_guest_get(Plot *plot, const char *name)
{
        PlotGuest *g;

        for (guint i = 0; i < plot->guests->len; i++) {
                g = g_ptr_array_index(plot->guests, i);
                if (g_str_equal(g->name, name))
                        return g;
        }
        g = g_new0(PlotGuest, 1);
        g->name = g_strdup(name);
        g->data = g_string_new("# minutes balloon target available push give reclaim "
                               "replay_balloon replay_target (MiB)\n");
        g_ptr_array_add(plot->guests, g);
        return g;
}

static double
plot_minutes(Plot *plot, gint64 wall_us)
{
        if (plot->first_wall_us == G_MININT64)
                plot->first_wall_us = wall_us;
        plot->last_wall_us = wall_us;
        return (double)(wall_us - plot->first_wall_us) / 60e6;
}

/* A value in MiB, or NaN (gnuplot's missing value) when @known is FALSE. */
static void
append_mib(GString *out, gboolean known, double bytes)
{
        if (known)
                g_string_append_printf(out, " %.1f", bytes / MIB_D);
        else
                g_string_append(out, " NaN");
}

static void
plot_tick(Plot *plot, const VtRecorderRecord *record, const VtRecorderReplayTick *sim)
{
        const VtRecorderTick *tick = &record->u.tick;
        double m = plot_minutes(plot, record->wall_us);

        g_string_append_printf(plot->host, "%.4f %d", m, tick->decision.host_state);
        append_mib(plot->host, TRUE, (double)tick->host.mem_available);
        append_mib(plot->host, TRUE, (double)tick->decision.host_free);
        g_string_append_printf(plot->host, " %d", sim != NULL ? (int)sim->state : -9);
        append_mib(plot->host, sim != NULL, sim != NULL ? (double)sim->host_available : 0);
        g_string_append_c(plot->host, '\n');
        for (guint i = 0; i < tick->n_guests; i++) {
                const VtBalloonGuest *guest = &tick->guests[i];
                const VtBalloonTarget *t = &tick->decision.targets[i];
                PlotGuest *g = plot_guest_get(plot, guest->name);
                gboolean moves =
                    t->action == VT_BALLOON_ACTION_GIVE || t->action == VT_BALLOON_ACTION_RECLAIM;
                guint64 target = moves                      ? t->target_bytes
                                 : guest->target_bytes != 0 ? guest->target_bytes
                                                            : guest->actual_bytes;
                guint64 available = (guest->flags & VT_BALLOON_GUEST_HAS_AGENT)
                                        ? guest->agent_mem_available
                                        : guest->stats_available;
                const VtRecorderReplayGuest *s =
                    sim != NULL && i < sim->n_guests ? &sim->guests[i] : NULL;

                g_string_append_printf(g->data, "%.4f", m);
                append_mib(g->data, TRUE, (double)guest->actual_bytes);
                append_mib(g->data, TRUE, (double)target);
                append_mib(g->data, available > 0, (double)available);
                append_mib(g->data, guest->flags & VT_BALLOON_GUEST_PRESSURE_PUSH,
                           (double)available);
                append_mib(g->data, t->action == VT_BALLOON_ACTION_GIVE, (double)target);
                append_mib(g->data, t->action == VT_BALLOON_ACTION_RECLAIM, (double)target);
                append_mib(g->data, s != NULL, s != NULL ? (double)s->actual_bytes : 0);
                append_mib(g->data, s != NULL,
                           s == NULL ? 0
                           : s->action == VT_BALLOON_ACTION_GIVE ||
                                   s->action == VT_BALLOON_ACTION_RECLAIM
                               ? (double)s->target_bytes
                               : (double)s->actual_bytes);
                g_string_append_c(g->data, '\n');
        }
}

static void
plot_ksm(Plot *plot, const VtRecorderRecord *record)
{
        const VtRecorderKsm *k = &record->u.ksm;
        double m = plot_minutes(plot, record->wall_us);
        double saving = k->sample.has_general_profit ? (double)k->sample.general_profit
                                                     : (double)k->sample.pages_sharing * 4096.0;

        g_string_append_printf(plot->ksm, "%.4f", m);
        append_mib(plot->ksm, TRUE, saving);
        if (k->cpu_share >= 0)
                g_string_append_printf(plot->ksm, " %.2f\n", k->cpu_share * 100);
        else
                g_string_append(plot->ksm, " NaN\n");
}

/* A name safe inside a gnuplot double-quoted string (noenhanced). */
static char *
plot_quote(const char *name)
{
        char *out = g_strdup(name);

        for (char *p = out; *p != '\0'; p++) {
                if (*p == '"' || *p == '\\' || *p == '\n' || (guchar)*p < 0x20)
                        *p = '_';
        }
        return out;
}

static void
script_guest(GString *gp, const PlotGuest *g, guint i, const Plot *plot)
{
        g_autofree char *name = plot_quote(g->name);

        g_string_append_printf(gp, "set title \"guest %s\"\nset ylabel \"MiB\"\n", name);
        g_string_append_printf(
            gp,
            "plot 'guest-%u.dat' using 1:2 with lines lw 2 lc rgb '#1f77b4' title \"balloon %s\", "
            "'' using 1:3 with steps dt 2 lc rgb '#7f7f7f' title \"target\", "
            "'' using 1:4 with lines lc rgb '#2ca02c' title \"MemAvailable\", "
            "'' using 1:5 with points pt 7 ps 0.4 lc rgb '#d62728' title \"pressure push\", "
            "'' using 1:6 with points pt 9 ps 0.8 lc rgb '#17becf' title \"give\", "
            "'' using 1:7 with points pt 11 ps 0.8 lc rgb '#ff7f0e' title \"reclaim\"",
            i, name);
        if (plot->replayed)
                g_string_append_printf(gp,
                                       ", '' using 1:8 with lines lw 2 dt 3 lc rgb '#9467bd' "
                                       "title \"balloon %s (replay: %s)\"",
                                       name, plot->policy);
        g_string_append_c(gp, '\n');
}

static void
script_host(GString *gp, const Plot *plot, const char *from)
{
        g_string_append(gp, "set title \"host\"\nset ylabel \"MiB\"\n"
                            "set y2range [-0.5:3.5]\n"
                            "set y2tics (\"plenty\" 0, \"tight\" 1, \"short\" 2, \"critical\" 3)\n"
                            "plot 'host.dat' using 1:3 with lines lc rgb '#2ca02c' "
                            "title \"MemAvailable\", "
                            "'' using 1:4 with lines lc rgb '#1f77b4' title \"guests' free\", "
                            "'' using 1:2 axes x1y2 with steps lw 2 lc rgb '#d62728' "
                            "title \"state\"");
        if (plot->replayed)
                g_string_append_printf(gp,
                                       ", '' using 1:($5 < 0 ? NaN : $5) axes x1y2 with steps dt 3 "
                                       "lc rgb '#9467bd' title \"state (replay: %s)\"",
                                       plot->policy);
        g_string_append(gp, "\nunset y2tics\nset y2range [*:*]\n");
        g_string_append(gp, "set title \"KSM\"\nset ylabel \"MiB\"\nset y2label \"% of a CPU\"\n"
                            "set y2tics\n");
        g_string_append_printf(gp, "set xlabel \"minutes since %s\"\n", from);
        if (plot->ksm->len > 0)
                g_string_append(gp, "plot 'ksm.dat' using 1:2 with lines lc rgb '#1f77b4' "
                                    "title \"KSM saving\", '' using 1:3 axes x1y2 with lines "
                                    "lc rgb '#ff7f0e' title \"ksmd CPU\"\n");
        else
                /* gnuplot refuses a plot of nothing unless its range is set. */
                g_string_append(gp, "set label 1 \"no KSM step recorded\" at graph 0.5, 0.5 "
                                    "center\nset yrange [0:1]\nplot NaN notitle\n");
}

static char *
plot_script(const Plot *plot, const char *output, gboolean png)
{
        GString *gp = g_string_new(NULL);
        guint n_panels = plot->guests->len + 2;
        g_autofree char *from = vt_cli_time_format(plot->first_wall_us);
        g_autofree char *to = vt_cli_time_format(plot->last_wall_us);
        g_autofree char *out = plot_quote(output);

        g_string_append_printf(
            gp,
            "set terminal %s size 1100,%u noenhanced font \"sans,%s\"\n"
            "set output \"%s\"\nset datafile missing \"NaN\"\n"
            "set grid\nset key outside right top\n"
            "set lmargin at screen 0.07\nset rmargin at screen 0.74\n"
            "set xrange [0:%.4f]\n"
            "set multiplot layout %u,1 title \"vmtide history, %s to %s%s%s\"\n",
            png ? "pngcairo" : "svg", 40 + 230 * n_panels, png ? "9" : "10", out,
            MAX((double)(plot->last_wall_us - plot->first_wall_us) / 60e6, 1.0 / 60), n_panels,
            from, to, plot->replayed ? "; replay: " : "", plot->replayed ? plot->policy : "");
        for (guint i = 0; i < plot->guests->len; i++)
                script_guest(gp, g_ptr_array_index(plot->guests, i), i, plot);
        script_host(gp, plot, from);
        g_string_append(gp, "unset multiplot\n");
        return g_string_free(gp, FALSE);
}

static gboolean
write_file(const char *dir, const char *name, const char *text, GError **error)
{
        g_autofree char *path = g_build_filename(dir, name, NULL);

        return g_file_set_contents(path, text, -1, error);
}

/* Writes the data files and the script into @dir, runs gnuplot there. */
static gboolean
plot_draw(const Plot *plot, const char *dir, const char *output, gboolean png, GError **error)
{
        const char *env = g_getenv("VMTIDE_GNUPLOT");
        g_autofree char *gnuplot =
            env != NULL && env[0] != '\0' ? g_strdup(env) : g_find_program_in_path("gnuplot");
        g_autofree char *script = plot_script(plot, output, png);
        g_autofree char *err = NULL;
        char *argv[] = {gnuplot, (char *)"plot.gp", NULL};
        int wait_status = 0;

        if (gnuplot != NULL && !g_file_test(gnuplot, G_FILE_TEST_IS_EXECUTABLE)) {
                g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
                            "gnuplot '%s' ($VMTIDE_GNUPLOT) is not an executable", gnuplot);
                return FALSE;
        }
        if (gnuplot == NULL) {
                g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
                            "plots are drawn by gnuplot, which is not installed (Debian: apt "
                            "install gnuplot-nox)");
                return FALSE;
        }
        for (guint i = 0; i < plot->guests->len; i++) {
                const PlotGuest *g = g_ptr_array_index(plot->guests, i);
                g_autofree char *name = g_strdup_printf("guest-%u.dat", i);

                if (!write_file(dir, name, g->data->str, error))
                        return FALSE;
        }
        if (!write_file(dir, "host.dat", plot->host->str, error) ||
            !write_file(dir, "ksm.dat", plot->ksm->str, error) ||
            !write_file(dir, "plot.gp", script, error))
                return FALSE;
        if (!g_spawn_sync(dir, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                          &wait_status, error))
                return FALSE;
        if (!g_spawn_check_wait_status(wait_status, NULL)) {
                g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                            "gnuplot failed on '%s': %s", output, g_strstrip(err));
                return FALSE;
        }
        return TRUE;
}

static void
remove_dir(const char *dir)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
                g_autofree char *path = g_build_filename(dir, name, NULL);

                g_unlink(path);
        }
        g_rmdir(dir);
}

/* Reads the history into @plot, replaying it when @replay is given. */
static gboolean
plot_read(Plot *plot, VtRecorderReader *reader, VtRecorderReplay *replay, guint *n_damaged,
          GError **error)
{
        VtRecorderRecord *record = NULL;

        while (vt_cli_history_next(reader, &record, n_damaged)) {
                g_autoptr(VtRecorderRecord) owned = record;
                const VtRecorderReplayTick *sim = NULL;

                if (replay != NULL && !vt_recorder_replay_feed(replay, record, &sim, error))
                        return FALSE;
                if (record->type == VT_RECORDER_RECORD_TICK)
                        plot_tick(plot, record, sim);
                else if (record->type == VT_RECORDER_RECORD_KSM)
                        plot_ksm(plot, record);
        }
        return TRUE;
}

static void
plot_clear(Plot *plot)
{
        /* Also on the early returns, before the plot was filled in. */
        g_clear_pointer(&plot->guests, g_ptr_array_unref);
        if (plot->host != NULL)
                g_string_free(g_steal_pointer(&plot->host), TRUE);
        if (plot->ksm != NULL)
                g_string_free(g_steal_pointer(&plot->ksm), TRUE);
        g_clear_pointer(&plot->policy, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Plot, plot_clear)

/**
 * vt_cli_plot:
 * @cli: the invocation
 * @argc: arguments, `plot` first
 * @argv: (array length=argc): the arguments
 *
 * Draws a history's timelines into an SVG or PNG file.
 *
 * Returns: the exit status
 */
int
vt_cli_plot(VtCli *cli, int argc, char **argv)
{
        g_autofree char *output = NULL, *policy = NULL, *budget = NULL, *tmp = NULL;
        g_auto(GStrv) sets = NULL;
        const GOptionEntry entries[] = {
            {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
             "Where to draw: a .svg or .png file (required)", "FILE"},
            {"replay", 'r', 0, G_OPTION_ARG_STRING, &policy,
             "Also draw a closed-loop replay through this policy (vmtide, mom, proxmox)", "POLICY"},
            {"budget", 'b', 0, G_OPTION_ARG_STRING, &budget, "The replay's budget", "SIZE"},
            {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "A tunable of the replay", "KEY=VALUE"},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(VtRecorderReplay) replay = NULL;
        g_autoptr(VtRecorderReader) reader = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(Plot) plot = {0};
        gboolean png;
        guint n_damaged = 0;
        int status;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 1, 1))
                return VT_CLI_EXIT_USAGE;
        if (output == NULL)
                return vt_cli_usage_error(cli, "-o FILE.svg or FILE.png is required");
        png = g_str_has_suffix(output, ".png");
        if (!png && !g_str_has_suffix(output, ".svg"))
                return vt_cli_usage_error(cli, "-o '%s': the file must end in .svg or .png",
                                          output);
        if ((budget != NULL || sets != NULL) && policy == NULL)
                return vt_cli_usage_error(cli, "--budget and --set go with --replay");
        if (policy != NULL) {
                status = vt_cli_replay_setup(cli, policy, budget, sets, TRUE, &replay);
                if (status != VT_CLI_EXIT_OK)
                        return status;
        }
        reader = vt_cli_history_open(argv[1], &error);
        if (reader == NULL)
                return vt_cli_fail(error);
        plot = (Plot){.guests = g_ptr_array_new_with_free_func((GDestroyNotify)plot_guest_free),
                      .host = g_string_new("# minutes state available free replay_state "
                                           "replay_available (MiB)\n"),
                      .ksm = g_string_new(NULL),
                      .first_wall_us = G_MININT64,
                      .policy = g_strdup(policy),
                      .replayed = policy != NULL};
        if (!plot_read(&plot, reader, replay, &n_damaged, &error))
                return vt_cli_fail(error);
        if (plot.guests->len == 0) {
                fprintf(stderr, "vmtide: no tick recorded in '%s': nothing to plot\n", argv[1]);
                return VT_CLI_EXIT_FAILURE;
        }
        tmp = g_dir_make_tmp("vmtide-plot-XXXXXX", &error);
        if (tmp == NULL)
                return vt_cli_fail(error);
        if (!g_path_is_absolute(output)) {
                g_autofree char *cwd = g_get_current_dir();
                g_autofree char *relative = g_steal_pointer(&output);

                output = g_build_filename(cwd, relative, NULL);
        }
        status = plot_draw(&plot, tmp, output, png, &error) ? VT_CLI_EXIT_OK : vt_cli_fail(error);
        remove_dir(tmp);
        if (status == VT_CLI_EXIT_OK) {
                g_autofree char *from = vt_cli_time_format(plot.first_wall_us);
                g_autofree char *to = vt_cli_time_format(plot.last_wall_us);

                printf("%s: %u guests, %s to %s\n", output, plot.guests->len, from, to);
        }
        return status != VT_CLI_EXIT_OK ? status : n_damaged > 0 ? VT_CLI_EXIT_FAILURE : status;
}
