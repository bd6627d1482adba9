/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide replay`: a recorded history through any balloon policy, open or closed loop. */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "cli/cli-recorder.h"
#include "host/recorder/recorder-replay.h"
#include "vt-autocleanups.h"

/**
 * vt_cli_replay_setup:
 * @cli: the invocation, for usage errors
 * @policy: (nullable): `--policy`
 * @budget: (nullable): `--budget`
 * @sets: (nullable): `--set` KEY=VALUE, %NULL-terminated
 * @closed_loop: `--closed-loop`
 * @ret_replay: (out): the replay
 *
 * Builds a replay from the options shared by replay and plot.
 *
 * Returns: %VT_CLI_EXIT_OK, else the usage error was printed
 */
int
vt_cli_replay_setup(VtCli *cli, const char *policy, const char *budget, char **sets,
                    gboolean closed_loop, VtRecorderReplay **ret_replay)
{
        g_autoptr(VtRecorderReplay) replay = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderReplayOptions options;

        vt_recorder_replay_options_init(&options);
        options.closed_loop = closed_loop;
        if (policy != NULL && (options.policy = vt_balloon_registry_lookup(policy)) == NULL)
                return vt_cli_usage_error(cli,
                                          "--policy: no balloon policy '%s' (vmtide, mom, "
                                          "proxmox)",
                                          policy);
        if (budget != NULL) {
                if (!vt_cli_size_parse(budget, &options.budget_limit, &error))
                        return vt_cli_usage_error(cli, "--budget: %s", error->message);
                options.has_budget = TRUE;
        }
        replay = vt_recorder_replay_new(&options);
        for (guint i = 0; sets != NULL && sets[i] != NULL; i++) {
                if (!vt_recorder_replay_set_override(replay, sets[i], &error))
                        return vt_cli_usage_error(cli, "--set %s", error->message);
        }
        *ret_replay = g_steal_pointer(&replay);
        return VT_CLI_EXIT_OK;
}

static char *
format_share(guint n, guint of)
{
        return g_strdup_printf("%u (%.1f %%)", n, of > 0 ? 100.0 * n / of : 0.0);
}

static void
replay_print(VtRecorderReplay *replay, const VtRecorderReplaySummary *s, const char *recorded,
             gboolean closed_loop, gint64 first, gint64 last)
{
        g_autoptr(VtCliTable) fields = vt_cli_table_new_fields();
        g_autofree char *from = vt_cli_time_format(first), *to = vt_cli_time_format(last);
        g_autofree char *span = vt_cli_duration_format((last - first) / 1000);
        g_autofree char *agree = format_share(s->n_agree, s->n_decisions);
        gboolean same_policy = g_strcmp0(vt_recorder_replay_get_policy_name(replay), recorded) == 0;

        vt_cli_table_add_field(
            fields,
            "Replayed:", g_strdup_printf("%u ticks, %s to %s (%s)", s->n_ticks, from, to, span));
        vt_cli_table_add_field(fields, "Policy:",
                               g_strdup_printf("%s (recorded: %s), %s",
                                               vt_recorder_replay_get_policy_name(replay),
                                               recorded != NULL ? recorded : "unknown",
                                               closed_loop ? "closed loop" : "open loop"));
        vt_cli_table_add_field(fields, "Decisions:",
                               g_strdup_printf("%u: %s agree, %u exactly; %u other target, "
                                               "%u other action",
                                               s->n_decisions, agree, s->n_exact,
                                               s->n_differ_target, s->n_differ_action));
        vt_cli_table_add_field(
            fields, "Moves:", g_strdup_printf("%u (recorded %u)", s->n_moves, s->n_moves_recorded));
        vt_cli_table_add_field(
            fields, "Given:",
            g_strdup_printf("%s (recorded %s)", VT_SIZE_STR(s->given, VT_SIZE_STYLE_TABLE),
                            VT_SIZE_STR(s->given_recorded, VT_SIZE_STYLE_TABLE)));
        vt_cli_table_add_field(
            fields, "Reclaimed:",
            g_strdup_printf("%s (recorded %s)", VT_SIZE_STR(s->reclaimed, VT_SIZE_STYLE_TABLE),
                            VT_SIZE_STR(s->reclaimed_recorded, VT_SIZE_STYLE_TABLE)));
        if (closed_loop) {
                vt_cli_table_add_field(
                    fields, "Ballooned:",
                    g_strdup_printf(
                        "mean %s, at the end %s (recorded %s, %s)",
                        VT_SIZE_STR((guint64)s->mean_ballooned, VT_SIZE_STYLE_TABLE),
                        VT_SIZE_STR(s->end_ballooned, VT_SIZE_STYLE_TABLE),
                        VT_SIZE_STR((guint64)s->mean_ballooned_recorded, VT_SIZE_STYLE_TABLE),
                        VT_SIZE_STR(s->end_ballooned_recorded, VT_SIZE_STYLE_TABLE)));
                vt_cli_table_add_field(fields, "Under pressure:",
                                       g_strdup_printf("%.1f guest-minutes (recorded %.1f)",
                                                       s->pressure_minutes,
                                                       s->pressure_minutes_recorded));
                vt_cli_table_add_field(fields, "Would-be OOMs:", g_strdup_printf("%u", s->n_ooms));
                /* Only a replay of the recorded policy measures the model:
                 * with another, the gap is mostly what that policy changes. */
                vt_cli_table_add_field(
                    fields, same_policy ? "Model error:" : "Apart from recorded:",
                    g_strdup_printf("median %s, p90 %s, max %s over %u guest-ticks (simulated "
                                    "balloon against recorded; %s)",
                                    VT_SIZE_STR(s->error_median, VT_SIZE_STYLE_TABLE),
                                    VT_SIZE_STR(s->error_p90, VT_SIZE_STYLE_TABLE),
                                    VT_SIZE_STR(s->error_max, VT_SIZE_STYLE_TABLE), s->n_errors,
                                    same_policy ? "the model's error"
                                                : "what the other policy changes plus the "
                                                  "model's error: replay the recorded policy "
                                                  "for the model's alone"));
        }
        vt_cli_print_table(fields);
}

static json_object *
replay_to_json(VtRecorderReplay *replay, const VtRecorderReplaySummary *s, const char *recorded,
               gboolean closed_loop)
{
        json_object *o = json_object_new_object();
        json_object *model = json_object_new_object();

#define ADD_INT(obj, name, value)                                                                  \
        json_object_object_add(obj, name, json_object_new_int64((gint64)(value)))
        json_object_object_add(o, "policy",
                               json_object_new_string(vt_recorder_replay_get_policy_name(replay)));
        json_object_object_add(o, "recorded_policy",
                               recorded != NULL ? json_object_new_string(recorded) : NULL);
        json_object_object_add(o, "closed_loop", json_object_new_boolean(closed_loop));
        ADD_INT(o, "ticks", s->n_ticks);
        ADD_INT(o, "decisions", s->n_decisions);
        ADD_INT(o, "agree", s->n_agree);
        ADD_INT(o, "exact", s->n_exact);
        ADD_INT(o, "differ_target", s->n_differ_target);
        ADD_INT(o, "differ_action", s->n_differ_action);
        ADD_INT(o, "moves", s->n_moves);
        ADD_INT(o, "moves_recorded", s->n_moves_recorded);
        ADD_INT(o, "given", s->given);
        ADD_INT(o, "given_recorded", s->given_recorded);
        ADD_INT(o, "reclaimed", s->reclaimed);
        ADD_INT(o, "reclaimed_recorded", s->reclaimed_recorded);
        if (!closed_loop) {
                json_object_put(model);
                return o;
        }
        ADD_INT(o, "mean_ballooned", s->mean_ballooned);
        ADD_INT(o, "mean_ballooned_recorded", s->mean_ballooned_recorded);
        ADD_INT(o, "end_ballooned", s->end_ballooned);
        ADD_INT(o, "end_ballooned_recorded", s->end_ballooned_recorded);
        json_object_object_add(o, "pressure_minutes", json_object_new_double(s->pressure_minutes));
        json_object_object_add(o, "pressure_minutes_recorded",
                               json_object_new_double(s->pressure_minutes_recorded));
        ADD_INT(o, "ooms", s->n_ooms);
        ADD_INT(model, "median", s->error_median);
        ADD_INT(model, "p90", s->error_p90);
        ADD_INT(model, "max", s->error_max);
        ADD_INT(model, "n", s->n_errors);
        /* FALSE: replayed through another policy than the recorded one, so
         * the gap is what that policy changes as well as the model's error. */
        json_object_object_add(
            model, "model_alone",
            json_object_new_boolean(
                g_strcmp0(vt_recorder_replay_get_policy_name(replay), recorded) == 0));
        json_object_object_add(o, "model_error", model);
#undef ADD_INT
        return o;
}

/**
 * vt_cli_replay:
 * @cli: the invocation
 * @argc: arguments, `replay` first
 * @argv: (array length=argc): the arguments
 *
 * Replays a history through a policy (recorder-replay.h) and prints what
 * it would have done beside what was done.
 *
 * Returns: the exit status
 */
int
vt_cli_replay(VtCli *cli, int argc, char **argv)
{
        g_autofree char *policy = NULL, *budget = NULL, *recorded = NULL;
        g_auto(GStrv) sets = NULL;
        gboolean closed_loop = FALSE;
        const GOptionEntry entries[] = {
            {"policy", 'p', 0, G_OPTION_ARG_STRING, &policy,
             "The balloon policy: vmtide, mom, proxmox (default: the recorded one)", "NAME"},
            {"budget", 'b', 0, G_OPTION_ARG_STRING, &budget,
             "The guests' budget in every tick instead of the recorded one (0: none)", "SIZE"},
            {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
             "A [policy] tunable of vmtided.conf, or reserve (repeatable)", "KEY=VALUE"},
            {"closed-loop", 'c', 0, G_OPTION_ARG_NONE, &closed_loop,
             "Play the decisions out on the guest model (docs/planning.md)", NULL},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(VtRecorderReplay) replay = NULL;
        g_autoptr(VtRecorderReader) reader = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderReplaySummary summary;
        VtRecorderRecord *record = NULL;
        gint64 first = 0, last = 0;
        guint n_damaged = 0;
        int status;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 1, 1))
                return VT_CLI_EXIT_USAGE;
        status = vt_cli_replay_setup(cli, policy, budget, sets, closed_loop, &replay);
        if (status != VT_CLI_EXIT_OK)
                return status;
        reader = vt_cli_history_open(argv[1], &error);
        if (reader == NULL)
                return vt_cli_fail(error);
        while (vt_cli_history_next(reader, &record, &n_damaged)) {
                g_autoptr(VtRecorderRecord) owned = record;

                if (record->type == VT_RECORDER_RECORD_POLICY) {
                        g_free(recorded);
                        recorded = g_strdup(record->u.policy.name);
                }
                if (record->type == VT_RECORDER_RECORD_TICK) {
                        first = first == 0 ? record->wall_us : first;
                        last = record->wall_us;
                }
                if (!vt_recorder_replay_feed(replay, record, NULL, &error))
                        return vt_cli_fail(error);
        }
        vt_recorder_replay_get_summary(replay, &summary);
        if (summary.n_ticks == 0) {
                fprintf(stderr, "vmtide: no tick recorded in '%s': nothing to replay\n", argv[1]);
                return VT_CLI_EXIT_FAILURE;
        }
        if (cli->json) {
                g_autoptr(json_object) o = replay_to_json(replay, &summary, recorded, closed_loop);

                vt_cli_print_json(o);
        } else {
                replay_print(replay, &summary, recorded, closed_loop, first, last);
        }
        return n_damaged > 0 ? VT_CLI_EXIT_FAILURE : VT_CLI_EXIT_OK;
}
