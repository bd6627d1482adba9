/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the migration steering: decisions from tables, the ramp walked pass by pass. */
#include <string.h>

#include "migrate/migrate-steer.h"

#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define MS  G_TIME_SPAN_MILLISECOND
#define SEC G_TIME_SPAN_SECOND

#define HISTORY_MAX 16

/* What a case changes in vt_migrate_steer_config_init()'s defaults. */
typedef enum {
        TWEAK_NONE,
        TWEAK_AUTO_CONVERGE,
        TWEAK_CAP_250,
        TWEAK_NO_CAP,
        TWEAK_STEPS_UNSORTED,
        TWEAK_ABSURD,
        TWEAK_MAX_60S,
        TWEAK_NO_LIMITS,
} Tweak;

/*
 * One decision. The history's passes are numbered from @first_pass, one
 * after another; each was seen at @limit_ms[i] (0: the limit in force).
 */
typedef struct {
        const char *name;
        Tweak tweak;
        /* the prediction */
        gint64 predicted_us;
        guint predicted_passes;
        gboolean converges;
        /* the state */
        VtMigrateStatus status;
        gint64 limit_ms;
        guint first_pass;
        guint64 remaining_mib[HISTORY_MAX];
        gint64 seen_at_ms[HISTORY_MAX];
        guint n;
        gboolean ramp_failed, cancelling;
        gint64 elapsed_us;
        /* expected */
        VtMigrateSteerKind kind;
        VtMigrateSteerCause cause;
        gint64 new_limit_ms; /* for a raise */
        const char *reason;  /* a substring */
} SteerCase;

static const SteerCase steer_cases[] = {
    /* 512 MiB, then 40, then 3: the move does what the model said. */
    {
        .name = "converging-left-alone",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 40, 3},
        .n = 3,
        .elapsed_us = 4 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
        .reason = "pass 3: 3 MiB to send (least 3 MiB), downtime 100 ms",
    },
    {
        .name = "setup-no-pass-yet",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_SETUP,
        .limit_ms = 100,
        .elapsed_us = SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
        .reason = "setup, no pass yet",
    },
    /* One pass without progress is not a stall yet (2 by default). */
    {
        .name = "stall-one-pass",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 200, 198},
        .n = 3,
        .elapsed_us = 7 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
    /* 198 and 195 are not 5 % under 200: two passes stalled, first step. */
    {
        .name = "stall-first-step",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 200, 198, 195},
        .n = 4,
        .elapsed_us = 8 * SEC,
        .kind = VT_MIGRATE_STEER_RAISE_DOWNTIME,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .new_limit_ms = 150,
        .reason = "stalled 2 passes at 195 MiB (least 195 MiB): downtime 100 ms -> 150 ms, "
                  "cap 500 ms",
    },
    /* After a raise, the passes count again from the new limit. */
    {
        .name = "stall-counts-again-after-raise",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 150,
        .remaining_mib = {512, 200, 200, 200, 200},
        .seen_at_ms = {100, 100, 100, 100, 150},
        .n = 5,
        .elapsed_us = 9 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
    {
        .name = "stall-at-cap-cancels",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 500,
        .remaining_mib = {512, 200, 200, 200},
        .seen_at_ms = {100, 400, 500, 500},
        .n = 4,
        .elapsed_us = 10 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .reason = "stalled 2 passes at 200 MiB (least 200 MiB) with downtime 500 ms, the cap",
    },
    /* A stalled pass that shrank from the one before but not below the
     * least so far is still stalled. */
    {
        .name = "stall-measured-against-least",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 500,
        .remaining_mib = {512, 100, 300, 150},
        .n = 4,
        .elapsed_us = 10 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
    },
    /* With auto-converge QEMU throttles the guest: 8 more passes at the cap. */
    {
        .name = "stall-at-cap-auto-converge-waits",
        .tweak = TWEAK_AUTO_CONVERGE,
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 500,
        .remaining_mib = {512, 200, 200, 200},
        .n = 4,
        .elapsed_us = 10 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .reason = "auto-converge has 8 more",
    },
    {
        .name = "stall-at-cap-auto-converge-gives-up",
        .tweak = TWEAK_AUTO_CONVERGE,
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 500,
        .remaining_mib = {512, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200},
        .n = 12,
        .elapsed_us = 20 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .reason = "auto-converge too",
    },
    /* Twice as slow as predicted, more passes than predicted, but every
     * pass 10 % below the last: left alone (limit 3 × 4.3 s + 30 s). */
    {
        .name = "slower-than-predicted-still-shrinking",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 460, 414, 372, 335, 301, 271, 244},
        .n = 8,
        .elapsed_us = 30 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
    {
        .name = "converging-past-time-limit",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 460, 414},
        .n = 3,
        .elapsed_us = 42900 * MS + 1,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_TIME_LIMIT,
        .reason = "ran 42.9 s, past its limit of 42.9 s (predicted 4.3 s,",
    },
    {
        .name = "converging-at-time-limit",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 460, 414},
        .n = 3,
        .elapsed_us = 42900 * MS,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
    /* Predicted not to converge (stopped at pass 1): QEMU's throttle makes
     * it shrink slowly, but it is cancelled at its limit of 1 + 15 passes
     * (passes 6 to 17 shown). */
    {
        .name = "predicted-not-converging-pass-limit",
        .predicted_us = 4 * SEC,
        .predicted_passes = 1,
        .converges = FALSE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .first_pass = 6,
        .remaining_mib = {512, 480, 450, 420, 395, 370, 345, 325, 305, 285, 268, 251},
        .n = 12,
        .elapsed_us = 40 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_PASS_LIMIT,
        .reason = "at pass 17, past its limit of 16 (predicted 1, not converging + 15)",
    },
    {
        .name = "predicted-not-converging-within-pass-limit",
        .predicted_us = 4 * SEC,
        .predicted_passes = 1,
        .converges = FALSE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .first_pass = 6,
        .remaining_mib = {512, 480, 450, 420, 395, 370, 345, 325, 305, 285, 268},
        .n = 11,
        .elapsed_us = 40 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
    /* ... and its time limit is short: 3 × 4 s + 30 s. */
    {
        .name = "predicted-not-converging-time-limit",
        .predicted_us = 4 * SEC,
        .predicted_passes = 1,
        .converges = FALSE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 480, 450},
        .n = 3,
        .elapsed_us = 43 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_TIME_LIMIT,
        .reason = "not converging",
    },
    /* The final copy is never cancelled, whatever the limits say. */
    {
        .name = "final-copy-past-every-limit",
        .predicted_us = 4 * SEC,
        .predicted_passes = 1,
        .converges = FALSE,
        .status = VT_MIGRATE_STATUS_STOPPED,
        .limit_ms = 500,
        .remaining_mib = {512, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200},
        .n = 13,
        .elapsed_us = 600 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_FINAL_COPY,
        .reason = "in its final copy",
    },
    {
        .name = "completed",
        .predicted_us = 4 * SEC,
        .predicted_passes = 1,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_COMPLETED,
        .limit_ms = 100,
        .elapsed_us = 600 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_FINAL_COPY,
        .reason = "completed: left alone",
    },
    {
        .name = "cancelling",
        .predicted_us = 4 * SEC,
        .predicted_passes = 1,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 200, 200, 200},
        .n = 4,
        .cancelling = TRUE,
        .elapsed_us = 600 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_CANCELLING,
    },
    /* A cap of 250 ms: 300 ms and up are skipped, the cap is the last step. */
    {
        .name = "never-above-cap",
        .tweak = TWEAK_CAP_250,
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 200,
        .remaining_mib = {512, 200, 200, 200},
        .n = 4,
        .elapsed_us = 8 * SEC,
        .kind = VT_MIGRATE_STEER_RAISE_DOWNTIME,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .new_limit_ms = 250,
    },
    {
        .name = "at-lower-cap-cancels",
        .tweak = TWEAK_CAP_250,
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 250,
        .remaining_mib = {512, 200, 200, 200},
        .n = 4,
        .elapsed_us = 8 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
    },
    /* No cap set: no ramp, a stall cancels. */
    {
        .name = "no-cap-no-ramp",
        .tweak = TWEAK_NO_CAP,
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 300,
        .remaining_mib = {512, 200, 200, 200},
        .n = 4,
        .elapsed_us = 8 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .reason = "no ramp set",
    },
    /* The backend refused a raise: the limit in force is the cap. */
    {
        .name = "ramp-refused",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 200, 200, 200},
        .n = 4,
        .ramp_failed = TRUE,
        .elapsed_us = 8 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .reason = "the most the backend took",
    },
    /* Steps in any order, some absurd: the least above the limit in force. */
    {
        .name = "steps-unsorted",
        .tweak = TWEAK_STEPS_UNSORTED,
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 200, 200, 200},
        .n = 4,
        .elapsed_us = 8 * SEC,
        .kind = VT_MIGRATE_STEER_RAISE_DOWNTIME,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .new_limit_ms = 150,
    },
    /* A move that never ends by the model: no time limit, but its passes. */
    {
        .name = "no-bandwidth-prediction",
        .predicted_us = G_MAXINT64,
        .predicted_passes = 0,
        .converges = FALSE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512},
        .n = 1,
        .elapsed_us = G_MAXINT64 - 1,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
    {
        .name = "no-bandwidth-prediction-ceiling",
        .tweak = TWEAK_MAX_60S,
        .predicted_us = G_MAXINT64,
        .predicted_passes = 0,
        .converges = FALSE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512},
        .n = 1,
        .elapsed_us = 61 * SEC,
        .kind = VT_MIGRATE_STEER_CANCEL,
        .cause = VT_MIGRATE_STEER_CAUSE_TIME_LIMIT,
        .reason = "past its limit of 60.0 s (predicted forever, not converging",
    },
    /* Absurd figures: a negative elapsed, a prediction past any sum,
     * a remainder of 2^64 - 1, pass numbers near the top, a shrink of
     * 1000 % (read 99 %), stall passes 0 (read 1). */
    {
        .name = "absurd-inputs",
        .tweak = TWEAK_ABSURD,
        .predicted_us = G_MAXINT64 - 1,
        .predicted_passes = G_MAXUINT - 1,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .first_pass = G_MAXUINT - 3,
        .remaining_mib = {G_MAXUINT64 / MiB, 5, 5},
        .n = 3,
        .elapsed_us = -SEC,
        .kind = VT_MIGRATE_STEER_RAISE_DOWNTIME,
        .cause = VT_MIGRATE_STEER_CAUSE_STALLED,
        .new_limit_ms = 150,
        .reason = "stalled 1 pass at 5 MiB (least 5 MiB)",
    },
    /* Nothing left to send is never a stall. */
    {
        .name = "nothing-left-no-stall",
        .predicted_us = 4300 * MS,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .remaining_mib = {512, 0, 0, 0},
        .n = 4,
        .elapsed_us = 5 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
    {
        .name = "status-out-of-range",
        .predicted_us = 4 * SEC,
        .predicted_passes = 3,
        .converges = TRUE,
        .status = (VtMigrateStatus)99,
        .limit_ms = 100,
        .elapsed_us = SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
        .reason = "unknown status, no pass yet",
    },
    {
        .name = "no-limits-at-all",
        .tweak = TWEAK_NO_LIMITS,
        .predicted_us = SEC,
        .predicted_passes = 1,
        .converges = TRUE,
        .status = VT_MIGRATE_STATUS_ACTIVE,
        .limit_ms = 100,
        .first_pass = 5000,
        .remaining_mib = {512, 100},
        .n = 2,
        .elapsed_us = 3600 * SEC,
        .kind = VT_MIGRATE_STEER_CONTINUE,
        .cause = VT_MIGRATE_STEER_CAUSE_NONE,
    },
};

static void
config_for(Tweak tweak, VtMigrateSteerConfig *config)
{
        vt_migrate_steer_config_init(config);
        switch (tweak) {
        case TWEAK_AUTO_CONVERGE:
                config->auto_converge = TRUE;
                break;
        case TWEAK_CAP_250:
                config->downtime_cap_us = 250 * MS;
                break;
        case TWEAK_NO_CAP:
                config->downtime_cap_us = 0;
                break;
        case TWEAK_STEPS_UNSORTED:
                config->downtime_steps_us[0] = 500 * MS;
                config->downtime_steps_us[1] = -5;
                config->downtime_steps_us[2] = 0;
                config->downtime_steps_us[3] = 150 * MS;
                config->downtime_steps_us[4] = G_MAXINT64;
                config->n_downtime_steps = 5;
                break;
        case TWEAK_ABSURD:
                config->stall_shrink_percent = 1000;
                config->stall_passes = 0;
                config->time_slack_us = G_MAXINT64;
                config->time_factor_percent = G_MAXUINT;
                config->n_downtime_steps = 1000;
                break;
        case TWEAK_MAX_60S:
                config->max_us = 60 * SEC;
                break;
        case TWEAK_NO_LIMITS:
                config->time_factor_percent = 0;
                config->pass_margin = 0;
                break;
        default:
                break;
        }
}

static void
state_for(const SteerCase *c, VtMigrateSteerState *state)
{
        guint first = c->first_pass > 0 ? c->first_pass : 1;

        vt_migrate_steer_state_init(state, c->limit_ms * MS);
        for (guint i = 0; i < c->n; i++) {
                VtMigrateSteerPass *p = &state->history[i];

                p->pass = first + i;
                p->remaining_bytes = c->remaining_mib[i] == G_MAXUINT64 / MiB
                                         ? G_MAXUINT64
                                         : c->remaining_mib[i] * MiB;
                p->elapsed_us = i * SEC;
                p->downtime_limit_us = (c->seen_at_ms[i] > 0 ? c->seen_at_ms[i] : c->limit_ms) * MS;
        }
        state->n_history = c->n;
        state->status = c->status;
        state->last_remaining_bytes = c->n > 0 ? state->history[c->n - 1].remaining_bytes : 0;
        state->ramp_failed = c->ramp_failed;
        state->cancelling = c->cancelling;
}

static void
test_decide(gconstpointer data)
{
        const SteerCase *c = data;
        VtMigrateSteerConfig config;
        VtMigrateSteerState state;
        VtMigrateCost prediction = {0};
        VtMigrateSteerAction a;

        config_for(c->tweak, &config);
        state_for(c, &state);
        prediction.total_us = c->predicted_us;
        prediction.passes = c->predicted_passes;
        prediction.converges = c->converges;
        prediction.outcome = c->converges ? VT_MIGRATE_COST_CONVERGES : VT_MIGRATE_COST_NO_PROGRESS;

        vt_migrate_steer_decide(&config, &prediction, &state, c->elapsed_us, &a);
        g_test_message("%s: %s (%s): %s", c->name, vt_migrate_steer_kind_to_string(a.kind),
                       vt_migrate_steer_cause_to_string(a.cause), a.reason);
        g_assert_cmpstr(vt_migrate_steer_kind_to_string(a.kind), ==,
                        vt_migrate_steer_kind_to_string(c->kind));
        g_assert_cmpstr(vt_migrate_steer_cause_to_string(a.cause), ==,
                        vt_migrate_steer_cause_to_string(c->cause));
        g_assert_cmpuint(strlen(a.reason), >, 0);
        if (c->reason != NULL)
                g_assert_nonnull(strstr(a.reason, c->reason));
        if (a.kind == VT_MIGRATE_STEER_RAISE_DOWNTIME) {
                g_assert_cmpint(a.downtime_limit_us, ==, c->new_limit_ms * MS);
                g_assert_cmpint(a.downtime_limit_us, >, state.downtime_limit_us);
        } else {
                g_assert_cmpint(a.downtime_limit_us, ==, state.downtime_limit_us);
        }
        /* Never above the operator's cap. */
        if (config.downtime_cap_us > 0)
                g_assert_cmpint(a.downtime_limit_us, <=, config.downtime_cap_us);
}

/* A move stuck at 200 MiB a pass, walked through observe and decide: the
 * ramp climbs one step per 2 stalled passes up to the cap, then cancels. */
static void
test_ramp_walk(void)
{
        static const gint64 expected_ms[] = {150, 200, 300, 400, 500};
        VtMigrateSteerConfig config;
        VtMigrateSteerState state;
        VtMigrateCost prediction = {.total_us = 4300 * MS, .passes = 3, .converges = TRUE};
        VtMigrateSteerAction a = {0};
        guint raises = 0, last_raise_pass = 0;
        guint pass;

        vt_migrate_steer_config_init(&config);
        vt_migrate_steer_state_init(&state, vt_migrate_steer_initial_downtime(&config));
        g_assert_cmpint(state.downtime_limit_us, ==, 100 * MS);
        for (pass = 1; pass < 40; pass++) {
                VtMigrateProgress p = {
                    .status = VT_MIGRATE_STATUS_ACTIVE,
                    .pass = pass,
                    .remaining_bytes = pass == 1 ? 512 * MiB : 200 * MiB,
                    .throughput = 128 * MiB,
                };

                g_assert_true(vt_migrate_steer_observe(&state, &p, pass * 500 * MS));
                vt_migrate_steer_decide(&config, &prediction, &state, pass * 500 * MS, &a);
                if (a.kind == VT_MIGRATE_STEER_CANCEL)
                        break;
                if (a.kind != VT_MIGRATE_STEER_RAISE_DOWNTIME)
                        continue;
                g_test_message("pass %u: %s", pass, a.reason);
                g_assert_cmpuint(raises, <, G_N_ELEMENTS(expected_ms));
                g_assert_cmpint(a.downtime_limit_us, ==,
                                expected_ms[MIN(raises, G_N_ELEMENTS(expected_ms) - 1)] * MS);
                /* Two stalled passes at each limit: pass 4 (pass 2 went
                 * from 512 to 200 MiB, 3 and 4 stayed), then every second. */
                g_assert_cmpuint(pass, ==, raises == 0 ? 4 : last_raise_pass + 2);
                last_raise_pass = pass;
                state.downtime_limit_us = a.downtime_limit_us;
                state.steps++;
                raises++;
        }
        g_assert_cmpuint(raises, ==, G_N_ELEMENTS(expected_ms));
        g_assert_cmpint(a.kind, ==, VT_MIGRATE_STEER_CANCEL);
        g_assert_cmpint(a.cause, ==, VT_MIGRATE_STEER_CAUSE_STALLED);
        g_assert_cmpuint(pass, ==, last_raise_pass + 2);
        g_assert_cmpint(state.downtime_limit_us, ==, config.downtime_cap_us);
}

static void
test_observe(void)
{
        VtMigrateSteerState state;
        VtMigrateProgress p = {.status = VT_MIGRATE_STATUS_SETUP};

        vt_migrate_steer_state_init(&state, 100 * MS);
        g_assert_cmpuint(state.floor_bytes, ==, G_MAXUINT64);
        /* Not active, or pass 0: no pass. */
        g_assert_false(vt_migrate_steer_observe(&state, &p, 0));
        p.status = VT_MIGRATE_STATUS_ACTIVE;
        g_assert_false(vt_migrate_steer_observe(&state, &p, 0));
        g_assert_cmpuint(state.n_history, ==, 0);
        /* A pass keeps the most read during it. */
        p.pass = 1;
        p.remaining_bytes = 400 * MiB;
        g_assert_true(vt_migrate_steer_observe(&state, &p, SEC));
        p.remaining_bytes = 500 * MiB;
        g_assert_false(vt_migrate_steer_observe(&state, &p, 2 * SEC));
        p.remaining_bytes = 100 * MiB;
        g_assert_false(vt_migrate_steer_observe(&state, &p, 3 * SEC));
        g_assert_cmpuint(state.n_history, ==, 1);
        g_assert_cmpuint(state.history[0].remaining_bytes, ==, 500 * MiB);
        g_assert_cmpint(state.history[0].elapsed_us, ==, SEC);
        g_assert_cmpint(state.history[0].downtime_limit_us, ==, 100 * MS);
        g_assert_cmpuint(state.last_remaining_bytes, ==, 100 * MiB);
        /* Passes may be skipped between readings; a counter going back is not trusted. */
        p.pass = 4;
        g_assert_true(vt_migrate_steer_observe(&state, &p, 4 * SEC));
        p.pass = 2;
        g_assert_false(vt_migrate_steer_observe(&state, &p, 5 * SEC));
        g_assert_cmpuint(state.n_history, ==, 2);
        g_assert_cmpuint(state.history[1].pass, ==, 4);
        /* The final copy is not a pass. */
        p.pass = 5;
        p.status = VT_MIGRATE_STATUS_STOPPED;
        g_assert_false(vt_migrate_steer_observe(&state, &p, 6 * SEC));
        g_assert_cmpint(state.status, ==, VT_MIGRATE_STATUS_STOPPED);
        /* Past the history's size the oldest leave their least behind. */
        p.status = VT_MIGRATE_STATUS_ACTIVE;
        for (guint i = 0; i < 2 * VT_MIGRATE_STEER_HISTORY_MAX; i++) {
                p.pass = 10 + i;
                p.remaining_bytes = (1000 - i) * MiB;
                g_assert_true(vt_migrate_steer_observe(&state, &p, (10 + i) * SEC));
        }
        g_assert_cmpuint(state.n_history, ==, VT_MIGRATE_STEER_HISTORY_MAX);
        g_assert_cmpuint(state.floor_bytes, ==, 100 * MiB);
        g_assert_cmpuint(state.history[VT_MIGRATE_STEER_HISTORY_MAX - 1].pass, ==,
                         10 + 2 * VT_MIGRATE_STEER_HISTORY_MAX - 1);
}

static void
test_limits(void)
{
        VtMigrateSteerConfig config;
        VtMigrateCost prediction = {.total_us = 4 * SEC, .passes = 3};

        vt_migrate_steer_config_init(&config);
        g_assert_cmpint(vt_migrate_steer_time_limit(&config, &prediction), ==, 42 * SEC);
        g_assert_cmpuint(vt_migrate_steer_pass_limit(&config, &prediction), ==, 18);
        prediction.total_us = VT_MIGRATE_COST_FOREVER;
        g_assert_cmpint(vt_migrate_steer_time_limit(&config, &prediction), ==,
                        VT_MIGRATE_STEER_NO_LIMIT);
        config.max_us = 10 * SEC;
        g_assert_cmpint(vt_migrate_steer_time_limit(&config, &prediction), ==, 10 * SEC);
        /* A sum past G_MAXINT64 is no limit, not a wrap. */
        config.max_us = 0;
        prediction.total_us = G_MAXINT64 / 2;
        g_assert_cmpint(vt_migrate_steer_time_limit(&config, &prediction), ==,
                        VT_MIGRATE_STEER_NO_LIMIT);
        prediction.total_us = -SEC;
        g_assert_cmpint(vt_migrate_steer_time_limit(&config, &prediction), ==, 30 * SEC);
        prediction.passes = G_MAXUINT - 2;
        g_assert_cmpuint(vt_migrate_steer_pass_limit(&config, &prediction), ==, G_MAXUINT);
        config.pass_margin = 0;
        g_assert_cmpuint(vt_migrate_steer_pass_limit(&config, &prediction), ==, 0);

        /* The initial limit: QEMU's when unset, never above the cap. */
        g_assert_cmpint(vt_migrate_steer_initial_downtime(&config), ==, 100 * MS);
        config.downtime_initial_us = 0;
        g_assert_cmpint(vt_migrate_steer_initial_downtime(&config), ==, 300 * MS);
        config.downtime_cap_us = 200 * MS;
        g_assert_cmpint(vt_migrate_steer_initial_downtime(&config), ==, 200 * MS);
        config.downtime_initial_us = 900 * MS;
        g_assert_cmpint(vt_migrate_steer_initial_downtime(&config), ==, 200 * MS);
        config.downtime_cap_us = 0;
        g_assert_cmpint(vt_migrate_steer_initial_downtime(&config), ==, 900 * MS);
}

static void
test_estimate(void)
{
        VtMigrateSteerState state;
        VtMigrateCost prediction = {.total_us = 4 * SEC, .passes = 3, .converges = TRUE};
        VtMigrateProgress p = {
            .status = VT_MIGRATE_STATUS_ACTIVE,
            .pass = 2,
            .remaining_bytes = 100 * MiB,
        };
        gint64 left;

        vt_migrate_steer_state_init(&state, 300 * MS);
        /* Before any figures: what the prediction has left. */
        g_assert_cmpint(vt_migrate_steer_estimate_left(&prediction, &state, SEC), ==, 3 * SEC);
        g_assert_cmpint(vt_migrate_steer_estimate_left(&prediction, &state, 9 * SEC), ==, 0);
        /* 100 MiB at 100 MiB/s, nothing dirtied: a second. */
        p.throughput = 100 * MiB;
        vt_migrate_steer_observe(&state, &p, SEC);
        left = vt_migrate_steer_estimate_left(&prediction, &state, SEC);
        g_assert_cmpint(left, >=, SEC - MS);
        g_assert_cmpint(left, <=, SEC + MS);
        /* Dirtying faster than it sends: never, as it goes. */
        p.dirty_rate = 200 * MiB;
        vt_migrate_steer_observe(&state, &p, 2 * SEC);
        g_assert_cmpint(vt_migrate_steer_estimate_left(&prediction, &state, 2 * SEC), ==,
                        VT_MIGRATE_COST_FOREVER);
        p.status = VT_MIGRATE_STATUS_COMPLETED;
        vt_migrate_steer_observe(&state, &p, 3 * SEC);
        g_assert_cmpint(vt_migrate_steer_estimate_left(&prediction, &state, 3 * SEC), ==, 0);
}

static void
test_names(void)
{
        g_assert_cmpstr(vt_migrate_steer_kind_to_string(VT_MIGRATE_STEER_RAISE_DOWNTIME), ==,
                        "raise-downtime");
        g_assert_null(vt_migrate_steer_kind_to_string(VT_MIGRATE_STEER_KIND_MAX));
        g_assert_cmpstr(vt_migrate_steer_cause_to_string(VT_MIGRATE_STEER_CAUSE_PASS_LIMIT), ==,
                        "pass-limit");
        g_assert_null(vt_migrate_steer_cause_to_string((VtMigrateSteerCause)-1));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(steer_cases); i++) {
                g_autofree char *path = g_strdup_printf("/migrate/steer/%s", steer_cases[i].name);

                g_test_add_data_func(path, &steer_cases[i], test_decide);
        }
        g_test_add_func("/migrate/steer/ramp-walk", test_ramp_walk);
        g_test_add_func("/migrate/steer/observe", test_observe);
        g_test_add_func("/migrate/steer/limits", test_limits);
        g_test_add_func("/migrate/steer/estimate", test_estimate);
        g_test_add_func("/migrate/steer/names", test_names);
        return g_test_run();
}
