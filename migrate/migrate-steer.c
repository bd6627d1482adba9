/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Steering a live migration while it runs. Pure: the executor reads the
 * job, passes the figures and the time in, and applies what comes out.
 *
 * Theory of operation. QEMU's pre-copy converges when what remains at the
 * start of a pass fits in bandwidth × downtime-limit. The steering watches
 * what each pass has to send (the most `remaining` read during it) and
 * answers, every time the executor asks, one of three things:
 *
 * - continue: the move shrinks, or it is in its final copy (the guest is
 *   stopped: cancelling then would only waste the copy), or it is over;
 * - raise the downtime limit: the last `stall_passes` passes at the limit
 *   in force made no progress (none went `stall_shrink_percent` below the
 *   least before it). The next step of the ramp, never above the cap; the
 *   passes count again from the new limit, so the ramp climbs one step per
 *   stall (oVirt's schedule, 100 ms to 500 ms);
 * - cancel: stalled at the cap (with auto-converge, `auto_converge_passes`
 *   later, while QEMU throttles), or past a limit that comes from the
 *   prediction, not from the guest's size: `time_factor_percent` of its
 *   predicted total time plus a slack, or its predicted passes plus a
 *   margin. A move predicted not to converge has a short prediction (the
 *   model stops it where it stops shrinking) and so a short leash; a move
 *   slower than predicted but shrinking runs until those limits.
 *
 * Limits come before the stall rule: a move past its time is cancelled
 * even while the ramp has steps left. Nothing here reads the clock: the
 * elapsed time is an argument.
 */
#include "migrate/migrate-steer.h"

#include <string.h>

#include "common/vt-size.h"
#include "common/vt-time.h"

#define SIZE(bytes) VT_SIZE_STR(bytes, VT_SIZE_STYLE_SHORT)

#define TIME(us)  VT_TIME_STR(us)
#define PLURAL(n) ((n) == 1 ? "" : "es")

/**
 * vt_migrate_steer_config_init:
 * @config: (out caller-allocates): the configuration to fill
 *
 * The defaults: start at 100 ms, ramp 150, 200, 300, 400, 500 ms with a
 * cap of 500 ms, a stall after 2 passes under 5 % progress, no
 * auto-converge (8 more passes at the cap when allowed), cancel past 300 %
 * of the predicted time plus 30 s or 15 passes past the predicted ones
 * (enough for the whole ramp: 2 passes at each of 6 limits).
 */
void
vt_migrate_steer_config_init(VtMigrateSteerConfig *config)
{
        static const gint64 steps_ms[] = {150, 200, 300, 400, 500};

        g_return_if_fail(config != NULL);
        memset(config, 0, sizeof(*config));
        config->downtime_initial_us = 100 * G_TIME_SPAN_MILLISECOND;
        config->downtime_cap_us = 500 * G_TIME_SPAN_MILLISECOND;
        for (guint i = 0; i < G_N_ELEMENTS(steps_ms); i++)
                config->downtime_steps_us[i] = steps_ms[i] * G_TIME_SPAN_MILLISECOND;
        config->n_downtime_steps = G_N_ELEMENTS(steps_ms);
        config->stall_passes = 2;
        config->stall_shrink_percent = 5;
        config->auto_converge = FALSE;
        config->auto_converge_passes = 8;
        config->time_factor_percent = 300;
        config->time_slack_us = 30 * G_USEC_PER_SEC;
        config->pass_margin = 15;
        config->max_us = 0;
}

/**
 * vt_migrate_steer_initial_downtime:
 * @config: the configuration
 *
 * Returns: the downtime limit a move starts with, microseconds: the
 *     configured one (QEMU's 300 ms when unset), lowered to the cap
 */
gint64
vt_migrate_steer_initial_downtime(const VtMigrateSteerConfig *config)
{
        gint64 initial;

        g_return_val_if_fail(config != NULL, VT_MIGRATE_COST_DOWNTIME_DEFAULT);
        initial = config->downtime_initial_us > 0 ? config->downtime_initial_us
                                                  : VT_MIGRATE_COST_DOWNTIME_DEFAULT;
        if (config->downtime_cap_us > 0 && initial > config->downtime_cap_us)
                initial = config->downtime_cap_us;
        return initial;
}

/**
 * vt_migrate_steer_time_limit:
 * @config: the configuration
 * @prediction: the move's prediction
 *
 * Returns: how long the move may run, microseconds: `time_factor_percent`
 *     of the predicted total plus the slack, at most `max_us`;
 *     %VT_MIGRATE_STEER_NO_LIMIT when neither applies (a prediction that
 *     never ends, without a ceiling)
 */
gint64
vt_migrate_steer_time_limit(const VtMigrateSteerConfig *config, const VtMigrateCost *prediction)
{
        gint64 limit = VT_MIGRATE_STEER_NO_LIMIT;

        g_return_val_if_fail(config != NULL && prediction != NULL, VT_MIGRATE_STEER_NO_LIMIT);
        if (config->time_factor_percent > 0 && prediction->total_us != VT_MIGRATE_COST_FOREVER) {
                double t =
                    (double)MAX(prediction->total_us, 0) * config->time_factor_percent / 100 +
                    (double)MAX(config->time_slack_us, 0);

                limit = t >= (double)G_MAXINT64 ? VT_MIGRATE_STEER_NO_LIMIT : (gint64)t;
        }
        if (config->max_us > 0 && config->max_us < limit)
                limit = config->max_us;
        return limit;
}

/**
 * vt_migrate_steer_pass_limit:
 * @config: the configuration
 * @prediction: the move's prediction
 *
 * Returns: the last pass the move may reach: the predicted passes plus
 *     `pass_margin` (saturating); 0 when `pass_margin` is 0 (no limit)
 */
guint
vt_migrate_steer_pass_limit(const VtMigrateSteerConfig *config, const VtMigrateCost *prediction)
{
        g_return_val_if_fail(config != NULL && prediction != NULL, 0);
        if (config->pass_margin == 0)
                return 0;
        if (prediction->passes > G_MAXUINT - config->pass_margin)
                return G_MAXUINT;
        return prediction->passes + config->pass_margin;
}

/**
 * vt_migrate_steer_state_init:
 * @state: (out caller-allocates): the state to reset
 * @downtime_limit_us: the limit the move starts with
 *     (vt_migrate_steer_initial_downtime())
 *
 * A move that has not started: no passes, status none.
 */
void
vt_migrate_steer_state_init(VtMigrateSteerState *state, gint64 downtime_limit_us)
{
        g_return_if_fail(state != NULL);
        memset(state, 0, sizeof(*state));
        state->floor_bytes = G_MAXUINT64;
        state->status = VT_MIGRATE_STATUS_NONE;
        state->downtime_limit_us = downtime_limit_us;
}

/**
 * vt_migrate_steer_observe:
 * @state: the move's state
 * @progress: a reading of the job (from the backend: any figures)
 * @elapsed_us: since the move started
 *
 * Takes one reading in. A pass counts while the job is active: a new pass
 * number opens an entry, the same one raises its remainder to the most
 * read; a pass number lower than the last is ignored (a counter going
 * back is not trusted). Past %VT_MIGRATE_STEER_HISTORY_MAX passes the
 * oldest leaves its remainder in `floor_bytes`.
 *
 * Returns: %TRUE when the reading opened a new pass
 */
gboolean
vt_migrate_steer_observe(VtMigrateSteerState *state, const VtMigrateProgress *progress,
                         gint64 elapsed_us)
{
        VtMigrateSteerPass *last;

        g_return_val_if_fail(state != NULL && progress != NULL, FALSE);
        state->status = progress->status;
        state->last_remaining_bytes = progress->remaining_bytes;
        state->throughput = progress->throughput;
        state->dirty_rate = progress->dirty_rate;
        if (progress->status != VT_MIGRATE_STATUS_ACTIVE || progress->pass == 0)
                return FALSE;

        last = state->n_history > 0 ? &state->history[state->n_history - 1] : NULL;
        if (last != NULL && progress->pass <= last->pass) {
                if (progress->pass == last->pass)
                        last->remaining_bytes =
                            MAX(last->remaining_bytes, progress->remaining_bytes);
                return FALSE;
        }
        if (state->n_history == VT_MIGRATE_STEER_HISTORY_MAX) {
                state->floor_bytes = MIN(state->floor_bytes, state->history[0].remaining_bytes);
                memmove(&state->history[0], &state->history[1],
                        sizeof(state->history[0]) * (VT_MIGRATE_STEER_HISTORY_MAX - 1));
                state->n_history--;
        }
        state->history[state->n_history++] = (VtMigrateSteerPass){
            .pass = progress->pass,
            .remaining_bytes = progress->remaining_bytes,
            .elapsed_us = elapsed_us,
            .downtime_limit_us = state->downtime_limit_us,
        };
        return TRUE;
}

/* ---- the decision ---- */

/* Whether @remaining is @percent below @best (in double: no wrap); a pass
 * with nothing to send is never a stall. */
static gboolean
steer_shrinks(guint64 remaining, guint64 best, guint percent)
{
        if (best == G_MAXUINT64 || remaining == 0)
                return TRUE;
        return (double)remaining * 100 < (double)best * (100 - MIN(percent, 99));
}

/* The passes at the end of the history, seen at the limit in force, that
 * made no progress; the least remainder of all passes in @ret_best. */
static guint
steer_stalled(const VtMigrateSteerConfig *config, const VtMigrateSteerState *state,
              guint64 *ret_best)
{
        guint n = MIN(state->n_history, VT_MIGRATE_STEER_HISTORY_MAX);
        guint64 best = state->floor_bytes;
        guint stalled = 0;

        for (guint i = 0; i < n; i++) {
                const VtMigrateSteerPass *p = &state->history[i];

                if (steer_shrinks(p->remaining_bytes, best, config->stall_shrink_percent) ||
                    p->downtime_limit_us < state->downtime_limit_us)
                        stalled = 0;
                else
                        stalled++;
                best = MIN(best, p->remaining_bytes);
        }
        *ret_best = best;
        return stalled;
}

/* The ramp's next limit: its least step above the one in force and below
 * the cap, else the cap; 0: none (at the cap, no cap, or refused). */
static gint64
steer_next_step(const VtMigrateSteerConfig *config, const VtMigrateSteerState *state)
{
        gint64 cap = config->downtime_cap_us;
        gint64 now = state->downtime_limit_us;
        guint n = MIN(config->n_downtime_steps, VT_MIGRATE_STEER_STEPS_MAX);

        gint64 next = cap;

        if (cap <= 0 || state->ramp_failed || now >= cap)
                return 0;
        for (guint i = 0; i < n; i++) {
                gint64 step = config->downtime_steps_us[i];

                if (step > now && step < next)
                        next = step;
        }
        return next;
}

static void
steer_set(VtMigrateSteerAction *a, VtMigrateSteerKind kind, VtMigrateSteerCause cause)
{
        a->kind = kind;
        a->cause = cause;
}

/* The limits: past the time or the passes allowed. TRUE if one cancels. */
static gboolean
steer_limits(const VtMigrateSteerConfig *config, const VtMigrateCost *prediction,
             const VtMigrateSteerState *state, gint64 elapsed_us, VtMigrateSteerAction *a)
{
        guint pass = state->n_history > 0 ? state->history[state->n_history - 1].pass : 0;

        if (elapsed_us > a->time_limit_us) {
                steer_set(a, VT_MIGRATE_STEER_CANCEL, VT_MIGRATE_STEER_CAUSE_TIME_LIMIT);
                g_snprintf(a->reason, sizeof(a->reason),
                           "ran %s, past its limit of %s (predicted %s%s, %s)", TIME(elapsed_us),
                           TIME(a->time_limit_us), TIME(prediction->total_us),
                           prediction->converges ? "" : ", not converging",
                           SIZE(state->last_remaining_bytes));
                return TRUE;
        }
        if (a->pass_limit > 0 && pass > a->pass_limit) {
                steer_set(a, VT_MIGRATE_STEER_CANCEL, VT_MIGRATE_STEER_CAUSE_PASS_LIMIT);
                g_snprintf(a->reason, sizeof(a->reason),
                           "at pass %u, past its limit of %u (predicted %u%s + %u)", pass,
                           a->pass_limit, prediction->passes,
                           prediction->converges ? "" : ", not converging", config->pass_margin);
                return TRUE;
        }
        return FALSE;
}

/* The stall rule: raise, cancel at the cap, or wait for auto-converge. */
static void
steer_stall(const VtMigrateSteerConfig *config, const VtMigrateSteerState *state, guint64 best,
            VtMigrateSteerAction *a)
{
        guint need = MAX(config->stall_passes, 1);
        guint64 last = state->history[state->n_history - 1].remaining_bytes;
        gint64 next = steer_next_step(config, state);

        if (next > 0) {
                steer_set(a, VT_MIGRATE_STEER_RAISE_DOWNTIME, VT_MIGRATE_STEER_CAUSE_STALLED);
                a->downtime_limit_us = next;
                g_snprintf(a->reason, sizeof(a->reason),
                           "stalled %u pass%s at %s (least %s): downtime %s -> %s, cap %s",
                           a->stalled_passes, PLURAL(a->stalled_passes), SIZE(last), SIZE(best),
                           TIME(state->downtime_limit_us), TIME(next),
                           TIME(config->downtime_cap_us));
                return;
        }
        if (config->auto_converge)
                need += config->auto_converge_passes;
        if (a->stalled_passes >= need) {
                const char *at = state->ramp_failed             ? "the most the backend took"
                                 : config->downtime_cap_us <= 0 ? "no ramp set"
                                                                : "the cap";

                steer_set(a, VT_MIGRATE_STEER_CANCEL, VT_MIGRATE_STEER_CAUSE_STALLED);
                g_snprintf(a->reason, sizeof(a->reason),
                           "stalled %u pass%s at %s (least %s) with downtime %s, %s%s",
                           a->stalled_passes, PLURAL(a->stalled_passes), SIZE(last), SIZE(best),
                           TIME(state->downtime_limit_us), at,
                           config->auto_converge ? ", auto-converge too" : "");
                return;
        }
        steer_set(a, VT_MIGRATE_STEER_CONTINUE, VT_MIGRATE_STEER_CAUSE_STALLED);
        g_snprintf(a->reason, sizeof(a->reason),
                   "stalled %u pass%s at %s with downtime %s, the cap: auto-converge has %u more",
                   a->stalled_passes, PLURAL(a->stalled_passes), SIZE(last),
                   TIME(state->downtime_limit_us), need - a->stalled_passes);
}

/**
 * vt_migrate_steer_decide:
 * @config: what the operator and the policy allow
 * @prediction: the move's prediction (its limits come from it)
 * @state: what was seen of the move
 * @elapsed_us: since the move started (the caller's clock)
 * @ret_action: (out caller-allocates): what to do, with a reason
 *
 * Decides the next step of a running move. Never asks for a downtime
 * limit above the cap, and never cancels a guest stopped for its final
 * copy or a move that is over. Any figures are accepted.
 */
void
vt_migrate_steer_decide(const VtMigrateSteerConfig *config, const VtMigrateCost *prediction,
                        const VtMigrateSteerState *state, gint64 elapsed_us,
                        VtMigrateSteerAction *ret_action)
{
        VtMigrateSteerAction *a = ret_action;
        guint64 best = G_MAXUINT64;

        g_return_if_fail(config != NULL && prediction != NULL && state != NULL && a != NULL);
        memset(a, 0, sizeof(*a));
        a->downtime_limit_us = state->downtime_limit_us;
        a->time_limit_us = vt_migrate_steer_time_limit(config, prediction);
        a->pass_limit = vt_migrate_steer_pass_limit(config, prediction);

        if (state->status == VT_MIGRATE_STATUS_STOPPED ||
            vt_migrate_status_is_final(state->status)) {
                steer_set(a, VT_MIGRATE_STEER_CONTINUE, VT_MIGRATE_STEER_CAUSE_FINAL_COPY);
                g_snprintf(a->reason, sizeof(a->reason), "%s: left alone",
                           state->status == VT_MIGRATE_STATUS_STOPPED
                               ? "in its final copy"
                               : vt_migrate_status_to_string(state->status));
                return;
        }
        if (state->cancelling) {
                steer_set(a, VT_MIGRATE_STEER_CONTINUE, VT_MIGRATE_STEER_CAUSE_CANCELLING);
                g_snprintf(a->reason, sizeof(a->reason), "being cancelled");
                return;
        }
        if (steer_limits(config, prediction, state, elapsed_us, a))
                return;
        if (state->n_history == 0) {
                const char *status = vt_migrate_status_to_string(state->status);

                g_snprintf(a->reason, sizeof(a->reason), "%s, no pass yet",
                           status != NULL ? status : "unknown status");
                return;
        }
        a->stalled_passes = steer_stalled(config, state, &best);
        if (a->stalled_passes >= MAX(config->stall_passes, 1)) {
                steer_stall(config, state, best, a);
                return;
        }
        g_snprintf(a->reason, sizeof(a->reason), "pass %u: %s to send (least %s), downtime %s",
                   state->history[state->n_history - 1].pass,
                   SIZE(state->history[state->n_history - 1].remaining_bytes), SIZE(best),
                   TIME(state->downtime_limit_us));
}

/**
 * vt_migrate_steer_estimate_left:
 * @prediction: the move's prediction
 * @state: what was seen of the move
 * @elapsed_us: since the move started
 *
 * How long the move has left, for the progress the CLI shows: the cost
 * model run again from what remains, at the job's own dirty rate and
 * throughput and the limit in force. Before the job has figures, what the
 * prediction has left.
 *
 * Returns: microseconds left; 0 for a move that is over;
 *     %VT_MIGRATE_COST_FOREVER for one that does not converge as it goes
 */
gint64
vt_migrate_steer_estimate_left(const VtMigrateCost *prediction, const VtMigrateSteerState *state,
                               gint64 elapsed_us)
{
        VtMigrateCostInput in;
        VtMigrateCost left;

        g_return_val_if_fail(prediction != NULL && state != NULL, VT_MIGRATE_COST_FOREVER);
        if (vt_migrate_status_is_final(state->status))
                return 0;
        if (state->throughput == 0 || state->n_history == 0) {
                if (prediction->total_us == VT_MIGRATE_COST_FOREVER)
                        return VT_MIGRATE_COST_FOREVER;
                return MAX(prediction->total_us - MAX(elapsed_us, 0), 0);
        }
        vt_migrate_cost_input_init(&in);
        in.mem_bytes = state->last_remaining_bytes;
        in.dirty_rate = state->status == VT_MIGRATE_STATUS_STOPPED ? 0 : state->dirty_rate;
        in.bandwidth = state->throughput;
        in.downtime_limit_us = state->downtime_limit_us;
        vt_migrate_cost_predict(&in, &left);
        return left.converges ? left.total_us : VT_MIGRATE_COST_FOREVER;
}

/**
 * vt_migrate_steer_kind_to_string:
 * @kind: a kind of action
 *
 * Returns: its name ("continue", "raise-downtime", "cancel"); %NULL out
 *     of range
 */
const char *
vt_migrate_steer_kind_to_string(VtMigrateSteerKind kind)
{
        static const char *const names[VT_MIGRATE_STEER_KIND_MAX] = {
            [VT_MIGRATE_STEER_CONTINUE] = "continue",
            [VT_MIGRATE_STEER_RAISE_DOWNTIME] = "raise-downtime",
            [VT_MIGRATE_STEER_CANCEL] = "cancel",
        };

        return (guint)kind < VT_MIGRATE_STEER_KIND_MAX ? names[kind] : NULL;
}

/**
 * vt_migrate_steer_cause_to_string:
 * @cause: a cause
 *
 * Returns: its name ("none", "final-copy", "cancelling", "stalled",
 *     "time-limit", "pass-limit"); %NULL out of range
 */
const char *
vt_migrate_steer_cause_to_string(VtMigrateSteerCause cause)
{
        static const char *const names[VT_MIGRATE_STEER_CAUSE_MAX] = {
            [VT_MIGRATE_STEER_CAUSE_NONE] = "none",
            [VT_MIGRATE_STEER_CAUSE_FINAL_COPY] = "final-copy",
            [VT_MIGRATE_STEER_CAUSE_CANCELLING] = "cancelling",
            [VT_MIGRATE_STEER_CAUSE_STALLED] = "stalled",
            [VT_MIGRATE_STEER_CAUSE_TIME_LIMIT] = "time-limit",
            [VT_MIGRATE_STEER_CAUSE_PASS_LIMIT] = "pass-limit",
        };

        return (guint)cause < VT_MIGRATE_STEER_CAUSE_MAX ? names[cause] : NULL;
}
