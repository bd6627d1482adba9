/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The replay: open loop exact on vmtide's own record, other policies, the closed-loop model's
 * error. */
#include <math.h>
#include <string.h>

#include "host/recorder/recorder-reader.h"
#include "host/recorder/recorder-replay.h"
#include "tests/vt-test-history.h"
#include "tests/vt-test-util.h"

#define MIB (G_GUINT64_CONSTANT(1) << 20)

/* One generated hour, shared by the tests (written once). */
static char *history_tmp;
static GPtrArray *history; /* VtRecorderRecord */

static GPtrArray *
read_all(const char *dir)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtRecorderReader) reader = vt_recorder_reader_new(dir, &error);
        GPtrArray *records =
            g_ptr_array_new_with_free_func((GDestroyNotify)vt_recorder_record_free);
        VtRecorderRecord *record = NULL;

        g_assert_no_error(error);
        while (vt_recorder_reader_next(reader, &record, &error))
                g_ptr_array_add(records, record);
        g_assert_no_error(error);
        return records;
}

static const GPtrArray *
history_get(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = NULL;
        VtTestHistoryOptions options;

        if (history != NULL)
                return history;
        history_tmp = g_dir_make_tmp("vt-replay-XXXXXX", &error);
        g_assert_no_error(error);
        dir = g_build_filename(history_tmp, "history", NULL);
        vt_test_history_options_init(&options, dir);
        g_assert_true(vt_test_history_write(&options, &error));
        g_assert_no_error(error);
        history = read_all(dir);
        return history;
}

static void
replay_run(VtRecorderReplay *replay, const GPtrArray *records, VtRecorderReplaySummary *summary)
{
        g_autoptr(GError) error = NULL;

        for (guint i = 0; i < records->len; i++) {
                const VtRecorderReplayTick *tick = NULL;

                g_assert_true(
                    vt_recorder_replay_feed(replay, g_ptr_array_index(records, i), &tick, &error));
                g_assert_no_error(error);
        }
        vt_recorder_replay_get_summary(replay, summary);
}

static void
replay_with(const char *policy, gboolean closed_loop, VtRecorderReplaySummary *summary)
{
        g_autoptr(VtRecorderReplay) replay = NULL;
        VtRecorderReplayOptions options;

        vt_recorder_replay_options_init(&options);
        options.policy = policy != NULL ? vt_balloon_registry_lookup(policy) : NULL;
        options.closed_loop = closed_loop;
        replay = vt_recorder_replay_new(&options);
        replay_run(replay, history_get(), summary);
}

/* vmtide's policy on vmtide's record decides what it did, to the word. */
static void
test_open_loop_exact(void)
{
        VtRecorderReplaySummary s;

        replay_with(NULL, FALSE, &s);
        g_test_message("%u ticks, %u decisions, %u moves", s.n_ticks, s.n_decisions,
                       s.n_moves_recorded);
        g_assert_cmpuint(s.n_ticks, ==, 1800);
        g_assert_cmpuint(s.n_decisions, ==, 3 * 1800);
        g_assert_cmpuint(s.n_exact, ==, s.n_decisions);
        g_assert_cmpuint(s.n_differ_action + s.n_differ_target, ==, 0);
        g_assert_cmpuint(s.n_moves, ==, s.n_moves_recorded);
        g_assert_cmpuint(s.given, ==, s.given_recorded);
        g_assert_cmpuint(s.reclaimed, ==, s.reclaimed_recorded);
        /* Not a trivial record: the policy moved balloons both ways. */
        g_assert_cmpuint(s.n_moves_recorded, >, 50);
        g_assert_cmpuint(s.given_recorded, >, 1024 * MIB);
        g_assert_cmpuint(s.reclaimed_recorded, >, 1024 * MIB);
        /* Named explicitly, the same. */
        replay_with("vmtide", FALSE, &s);
        g_assert_cmpuint(s.n_exact, ==, s.n_decisions);
}

/* Another policy on the same inputs: counted, and it differs. */
static void
test_open_loop_other(gconstpointer data)
{
        VtRecorderReplaySummary s;

        replay_with(data, FALSE, &s);
        g_test_message("%s: %u of %u agree, %u other target, %u other action, %u moves (%u)",
                       (const char *)data, s.n_agree, s.n_decisions, s.n_differ_target,
                       s.n_differ_action, s.n_moves, s.n_moves_recorded);
        g_assert_cmpuint(s.n_decisions, ==, 3 * 1800);
        g_assert_cmpuint(s.n_agree, <, s.n_decisions);
        g_assert_cmpuint(s.n_agree + s.n_differ_target + s.n_differ_action, ==, s.n_decisions);
}

/* The closed-loop model against the record it came from: the simulated
 * balloons stay near the recorded ones (docs/planning.md's figures). */
static void
test_closed_loop_error(void)
{
        VtRecorderReplaySummary s;

        replay_with(NULL, TRUE, &s);
        g_test_message("error over %u: median %" G_GUINT64_FORMAT " MiB, p90 %" G_GUINT64_FORMAT
                       " MiB, max %" G_GUINT64_FORMAT " MiB; ballooned %.0f MiB (%.0f), "
                       "pressure %.1f min (%.1f), %u OOMs, %u of %u agree",
                       s.n_errors, s.error_median / MIB, s.error_p90 / MIB, s.error_max / MIB,
                       s.mean_ballooned / MIB, s.mean_ballooned_recorded / MIB, s.pressure_minutes,
                       s.pressure_minutes_recorded, s.n_ooms, s.n_agree, s.n_decisions);
        g_assert_cmpuint(s.n_errors, ==, 3 * 1800);
        g_assert_cmpuint(s.error_median, <=, 64 * MIB);
        g_assert_cmpuint(s.error_p90, <=, 768 * MIB);
        g_assert_cmpuint(s.error_max, <=, 1536 * MIB);
        g_assert_cmpfloat(fabs(s.mean_ballooned - s.mean_ballooned_recorded), <,
                          0.1 * s.mean_ballooned_recorded);
}

/* A smaller budget: more memory ballooned, more pressure; a policy that
 * does nothing under pressure: would-be OOMs. */
static void
test_closed_loop_budget(void)
{
        g_autoptr(VtRecorderReplay) replay = NULL;
        VtRecorderReplaySummary base, tight;
        VtRecorderReplayOptions options;

        replay_with(NULL, TRUE, &base);
        vt_recorder_replay_options_init(&options);
        options.closed_loop = TRUE;
        options.has_budget = TRUE;
        options.budget_limit = 7u << 30;
        replay = vt_recorder_replay_new(&options);
        replay_run(replay, history_get(), &tight);
        g_test_message("budget 7 GiB: ballooned %.0f MiB (%.0f), pressure %.1f min (%.1f), %u OOMs",
                       tight.mean_ballooned / MIB, base.mean_ballooned / MIB,
                       tight.pressure_minutes, base.pressure_minutes, tight.n_ooms);
        g_assert_cmpfloat(tight.mean_ballooned, >, base.mean_ballooned + 512.0 * MIB);
        g_assert_cmpfloat(tight.pressure_minutes, >=, base.pressure_minutes);
}

static void
test_override(void)
{
        g_autoptr(VtRecorderReplay) replay = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderReplayOptions options;
        VtRecorderReplaySummary s;
        VtBalloonConfig config;

        vt_balloon_config_init(&config);
        g_assert_true(vt_recorder_config_override(&config, "tight", "12.5", &error));
        g_assert_cmpfloat(config.tight_fraction, ==, 0.125);
        g_assert_true(vt_recorder_config_override(&config, "min-change", "32M", &error));
        g_assert_cmpuint(config.min_change, ==, 32 * MIB);
        g_assert_true(vt_recorder_config_override(&config, "settle-ms", "1500", &error));
        g_assert_cmpint(config.settle_us, ==, 1500000);
        g_assert_true(vt_recorder_config_override(&config, "reserve", "1G", &error));
        g_assert_cmpuint(config.host_reserve, ==, 1024 * MIB);
        g_assert_true(vt_recorder_config_override(&config, "guest-swap-in-warm", "50", &error));
        g_assert_cmpfloat(config.guest_swap_in_warm, ==, 50);
        g_assert_true(vt_recorder_config_override(&config, "guest-swap-in-thrash", "400", &error));
        g_assert_cmpfloat(config.guest_swap_in_thrash, ==, 400);
        g_assert_false(vt_recorder_config_override(&config, "tight", "120", &error));
        g_assert_error(error, VT_RECORDER_REPLAY_ERROR, VT_RECORDER_REPLAY_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "'tight=120'"));
        g_clear_error(&error);
        g_assert_false(vt_recorder_config_override(&config, "min-change", "lots", &error));
        g_assert_nonnull(strstr(error->message, "min-change=lots"));
        g_clear_error(&error);
        g_assert_false(vt_recorder_config_override(&config, "tightt", "5", &error));
        g_assert_nonnull(strstr(error->message, "'tightt': no such tunable"));
        g_clear_error(&error);

        vt_recorder_replay_options_init(&options);
        replay = vt_recorder_replay_new(&options);
        g_assert_false(vt_recorder_replay_set_override(replay, "tight", &error));
        g_assert_nonnull(strstr(error->message, "KEY=VALUE"));
        g_clear_error(&error);
        /* The recorded policy with other tunables decides otherwise. */
        g_assert_true(vt_recorder_replay_set_override(replay, "plenty=40", &error));
        g_assert_true(vt_recorder_replay_set_override(replay, "tight=30", &error));
        replay_run(replay, history_get(), &s);
        g_assert_cmpuint(s.n_agree, <, s.n_decisions);
}

static void
test_unknown_policy(void)
{
        g_autoptr(VtRecorderReplay) replay = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderReplayOptions options;
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_POLICY};

        vt_balloon_config_init(&record.u.policy.config);
        record.u.policy.name = (char *)"esx";
        vt_recorder_replay_options_init(&options);
        replay = vt_recorder_replay_new(&options);
        g_assert_false(vt_recorder_replay_feed(replay, &record, NULL, &error));
        g_assert_error(error, VT_RECORDER_REPLAY_ERROR, VT_RECORDER_REPLAY_ERROR_POLICY);
        g_assert_nonnull(strstr(error->message, "'esx'"));
        g_assert_nonnull(strstr(error->message, "--policy"));
        /* With a policy chosen, it replays. */
        g_clear_pointer(&replay, vt_recorder_replay_free);
        g_clear_error(&error);
        options.policy = vt_balloon_registry_lookup("mom");
        replay = vt_recorder_replay_new(&options);
        g_assert_true(vt_recorder_replay_feed(replay, &record, NULL, &error));
        g_assert_cmpstr(vt_recorder_replay_get_policy_name(replay), ==, "mom");
}

int
main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/recorder/replay/open-loop-exact", test_open_loop_exact);
        g_test_add_data_func("/recorder/replay/open-loop-other/mom", "mom", test_open_loop_other);
        g_test_add_data_func("/recorder/replay/open-loop-other/proxmox", "proxmox",
                             test_open_loop_other);
        g_test_add_func("/recorder/replay/closed-loop-error", test_closed_loop_error);
        g_test_add_func("/recorder/replay/closed-loop-budget", test_closed_loop_budget);
        g_test_add_func("/recorder/replay/override", test_override);
        g_test_add_func("/recorder/replay/unknown-policy", test_unknown_policy);
        status = g_test_run();
        if (history != NULL)
                g_ptr_array_unref(history);
        if (history_tmp != NULL)
                vt_test_remove_tree(history_tmp);
        g_free(history_tmp);
        return status;
}
