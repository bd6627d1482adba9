/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replaying a recorded history through a balloon policy: open loop and closed loop. Pure. */

/*
 * Theory of operation
 *
 * The caller feeds the records of a history in order (the reader's);
 * policy records set the tunables (the recorded ones, then the caller's
 * overrides), tick records are decided again with the chosen policy, other
 * records are ignored. Each tick gives back, per guest, the recorded
 * decision beside the replayed one, and the run adds up a summary.
 *
 * Open loop: the recorded inputs as they are. The policy's carried state
 * is the recorded one (tick.state) when the replayed policy is the
 * recorded one, so that vmtide's policy on its own record decides exactly
 * what it did, tick by tick, even across a daemon's restart; another
 * policy carries its own state from tick to tick, from zero.
 *
 * Closed loop: the guests follow the replayed decisions instead of the
 * recorded ones, in a deliberately simple model (docs/planning.md):
 *
 *   - each guest's demand is the record's: what it uses, its recorded
 *     size less its recorded MemAvailable (the agent's when it reports,
 *     the balloon driver's otherwise);
 *   - its simulated balloon moves toward the last simulated target at
 *     balloon_rate bytes per second, both ways, from the recorded size at
 *     the guest's first tick; a guest held by hand goes to its hold;
 *   - what the policy sees is the record with the simulated figures
 *     written over it: size, target, last change, moving and last-reclaim
 *     flags, and every "total" and "available" figure shifted by the
 *     simulated size less the recorded one (a balloon that takes 1 GiB
 *     more takes 1 GiB off MemTotal and MemAvailable in the guest); the
 *     host's MemAvailable shifted by the recorded sizes less the simulated
 *     ones (memory the guests hold is assumed touched: an upper bound on
 *     what a larger balloon costs the host); PSI and pressure pushes as
 *     recorded;
 *   - a guest is under pressure when its simulated MemAvailable is under
 *     guest_low_fraction of its simulated size, or when its recorded PSI
 *     is at or above guest_pressure_psi and the simulation leaves it no
 *     more than it had; it would OOM when its demand exceeds its simulated
 *     size (MemAvailable would go negative).
 *
 * The same model run with vmtide's policy over vmtide's own record
 * validates it: the simulated sizes against the recorded ones, the error's
 * median, 90th percentile and largest in the summary.
 */
#include "host/recorder/recorder-replay.h"

#include <string.h>

/* A gap between ticks longer than this (the daemon down) counts as this. */
#define REPLAY_DT_MAX_US (60 * G_USEC_PER_SEC)

typedef struct {
        guint64 actual;
        guint64 target;
        gint64 last_change_us;
        gboolean last_reclaim;
        gboolean oom;
} SimGuest;

struct _VtRecorderReplay {
        VtRecorderReplayOptions options;
        GPtrArray *overrides; /* "key=value" */
        VtBalloonConfig config;
        char *recorded_policy;
        const VtBalloonPolicyInfo *policy;
        VtBalloonState state;
        gboolean started; /* a tick was replayed */
        gint64 last_mono_us;
        GHashTable *sims; /* name -> SimGuest */
        /* the tick being given back */
        GArray *targets; /* VtBalloonTarget */
        GArray *guests;  /* VtBalloonGuest (closed loop's input) */
        GArray *results; /* VtRecorderReplayGuest */
        VtRecorderReplayTick tick;
        /* the summary's sums */
        VtRecorderReplaySummary summary;
        double ballooned_us_recorded; /* bytes × µs */
        double ballooned_us;
        double total_us;
        GArray *errors; /* guint64 */
};

G_DEFINE_QUARK(vt - recorder - replay - error - quark, vt_recorder_replay_error)

/**
 * vt_recorder_replay_options_init:
 * @options: (out): options
 *
 * The defaults: the recorded policy, open loop, the recorded budget, the
 * balloon moving at %VT_RECORDER_REPLAY_RATE_DEFAULT.
 */
void
vt_recorder_replay_options_init(VtRecorderReplayOptions *options)
{
        g_return_if_fail(options != NULL);

        *options = (VtRecorderReplayOptions){.balloon_rate = VT_RECORDER_REPLAY_RATE_DEFAULT};
}

/**
 * vt_recorder_replay_new:
 * @options: how to replay (copied)
 *
 * Returns: (transfer full): a replay waiting for records
 */
VtRecorderReplay *
vt_recorder_replay_new(const VtRecorderReplayOptions *options)
{
        VtRecorderReplay *replay = g_new0(VtRecorderReplay, 1);

        g_return_val_if_fail(options != NULL, NULL);

        replay->options = *options;
        if (replay->options.balloon_rate == 0)
                replay->options.balloon_rate = VT_RECORDER_REPLAY_RATE_DEFAULT;
        replay->overrides = g_ptr_array_new_with_free_func(g_free);
        vt_balloon_config_init(&replay->config);
        replay->policy = options->policy;
        replay->sims = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        replay->targets = g_array_new(FALSE, TRUE, sizeof(VtBalloonTarget));
        replay->guests = g_array_new(FALSE, TRUE, sizeof(VtBalloonGuest));
        replay->results = g_array_new(FALSE, TRUE, sizeof(VtRecorderReplayGuest));
        replay->errors = g_array_new(FALSE, FALSE, sizeof(guint64));
        return replay;
}

/**
 * vt_recorder_replay_free:
 * @replay: (nullable): a replay
 */
void
vt_recorder_replay_free(VtRecorderReplay *replay)
{
        if (replay == NULL)
                return;
        g_ptr_array_unref(replay->overrides);
        g_free(replay->recorded_policy);
        g_hash_table_unref(replay->sims);
        g_array_unref(replay->targets);
        g_array_unref(replay->guests);
        g_array_unref(replay->results);
        g_array_unref(replay->errors);
        g_free(replay);
}

/**
 * vt_recorder_replay_set_override:
 * @replay: a replay
 * @assignment: `KEY=VALUE`, a `[policy]` or `[budget] reserve` key of
 *     vmtided.conf (vt_recorder_config_override())
 * @error: where a wrong key or value is told
 *
 * Overrides a tunable in every policy record fed from now on (and in the
 * defaults used before the first one).
 *
 * Returns: %FALSE with @error set when @assignment is wrong
 */
gboolean
vt_recorder_replay_set_override(VtRecorderReplay *replay, const char *assignment, GError **error)
{
        g_autofree char *key = NULL;
        const char *equal;

        g_return_val_if_fail(replay != NULL && assignment != NULL, FALSE);

        equal = strchr(assignment, '=');
        if (equal == NULL || equal == assignment) {
                g_set_error(error, VT_RECORDER_REPLAY_ERROR, VT_RECORDER_REPLAY_ERROR_INVALID,
                            "'%s': an override is KEY=VALUE (a [policy] key of vmtided.conf)",
                            assignment);
                return FALSE;
        }
        key = g_strndup(assignment, (gsize)(equal - assignment));
        if (!vt_recorder_config_override(&replay->config, key, equal + 1, error))
                return FALSE;
        g_ptr_array_add(replay->overrides, g_strdup(assignment));
        return TRUE;
}

/**
 * vt_recorder_replay_get_policy_name:
 * @replay: a replay
 *
 * Returns: the policy replayed with ("vmtide" before any record says)
 */
const char *
vt_recorder_replay_get_policy_name(VtRecorderReplay *replay)
{
        g_return_val_if_fail(replay != NULL, NULL);

        if (replay->options.policy != NULL)
                return replay->options.policy->name;
        return replay->recorded_policy != NULL ? replay->recorded_policy : "vmtide";
}

static gboolean
replay_take_policy(VtRecorderReplay *replay, const VtRecorderPolicy *policy, GError **error)
{
        replay->config = policy->config;
        for (guint i = 0; i < replay->overrides->len; i++) {
                const char *assignment = g_ptr_array_index(replay->overrides, i);
                g_autofree char *key = g_strndup(assignment, strcspn(assignment, "="));

                /* Checked when set: cannot fail here. */
                vt_recorder_config_override(&replay->config, key, strchr(assignment, '=') + 1,
                                            NULL);
        }
        if (replay->recorded_policy != NULL && policy->name != NULL &&
            !g_str_equal(replay->recorded_policy, policy->name))
                replay->state = (VtBalloonState){0};
        g_free(replay->recorded_policy);
        replay->recorded_policy = g_strdup(policy->name != NULL ? policy->name : "");
        if (replay->options.policy != NULL)
                return TRUE;
        replay->policy = vt_balloon_registry_lookup(replay->recorded_policy);
        if (replay->policy == NULL) {
                g_set_error(error, VT_RECORDER_REPLAY_ERROR, VT_RECORDER_REPLAY_ERROR_POLICY,
                            "the history's balloon policy '%s' is not one this vmtide knows; "
                            "choose one with --policy",
                            replay->recorded_policy);
                return FALSE;
        }
        return TRUE;
}

/* The guest's MemAvailable as the policies read it, or 0 when unknown. */
static guint64
guest_available(const VtBalloonGuest *guest)
{
        if ((guest->flags & VT_BALLOON_GUEST_HAS_AGENT) && guest->agent_mem_total > 0)
                return guest->agent_mem_available;
        if (guest->flags & VT_BALLOON_GUEST_HAS_STATS)
                return guest->stats_available;
        return 0;
}

static guint64
shift_bytes(guint64 bytes, gint64 shift)
{
        if (bytes == 0)
                return 0;
        if (shift < 0 && (guint64)-shift >= bytes)
                return 0;
        return (guint64)((gint64)bytes + shift);
}

static SimGuest *
sim_lookup(VtRecorderReplay *replay, const VtBalloonGuest *guest)
{
        SimGuest *sim = g_hash_table_lookup(replay->sims, guest->name);

        if (sim == NULL) {
                sim = g_new0(SimGuest, 1);
                sim->actual = guest->actual_bytes;
                sim->target = guest->target_bytes;
                sim->last_change_us = guest->last_change_us;
                sim->last_reclaim = (guest->flags & VT_BALLOON_GUEST_LAST_RECLAIM) != 0;
                g_hash_table_insert(replay->sims, g_strdup(guest->name), sim);
        }
        return sim;
}

/* Moves the simulated balloon toward its target for @dt_us. */
static void
sim_advance(SimGuest *sim, guint64 rate, gint64 dt_us)
{
        guint64 step = (guint64)((double)rate * (double)dt_us / G_USEC_PER_SEC);

        if (sim->target == 0)
                return;
        if (sim->actual < sim->target)
                sim->actual = sim->target - sim->actual > step ? sim->actual + step : sim->target;
        else
                sim->actual = sim->actual - sim->target > step ? sim->actual - step : sim->target;
}

/* The closed loop's input for one guest: the record, the simulation written over it. */
static void
sim_guest_input(const VtBalloonGuest *recorded, const SimGuest *sim, VtBalloonGuest *ret_guest)
{
        gint64 shift = (gint64)sim->actual - (gint64)recorded->actual_bytes;
        guint64 gap =
            sim->actual > sim->target ? sim->actual - sim->target : sim->target - sim->actual;

        *ret_guest = *recorded;
        ret_guest->actual_bytes = sim->actual;
        ret_guest->target_bytes = sim->target;
        ret_guest->last_change_us = sim->last_change_us;
        ret_guest->flags &= ~(guint32)(VT_BALLOON_GUEST_MOVING | VT_BALLOON_GUEST_LAST_RECLAIM);
        if (sim->target != 0 && gap > VT_RECORDER_REPLAY_SLACK)
                ret_guest->flags |= VT_BALLOON_GUEST_MOVING;
        if (sim->last_reclaim)
                ret_guest->flags |= VT_BALLOON_GUEST_LAST_RECLAIM;
        ret_guest->stats_total = shift_bytes(recorded->stats_total, shift);
        ret_guest->stats_free = shift_bytes(recorded->stats_free, shift);
        ret_guest->stats_available = shift_bytes(recorded->stats_available, shift);
        ret_guest->agent_mem_total = shift_bytes(recorded->agent_mem_total, shift);
        ret_guest->agent_mem_available = shift_bytes(recorded->agent_mem_available, shift);
}

static gboolean
guest_pressure(const VtBalloonConfig *config, const VtBalloonGuest *guest, guint64 available)
{
        if (available == 0 &&
            !(guest->flags & (VT_BALLOON_GUEST_HAS_AGENT | VT_BALLOON_GUEST_HAS_STATS)))
                return FALSE;
        return (double)available < config->guest_low_fraction * (double)guest->actual_bytes;
}

static gboolean
guest_psi_high(const VtBalloonConfig *config, const VtBalloonGuest *guest)
{
        return (guest->flags & VT_BALLOON_GUEST_HAS_AGENT) &&
               guest->agent_psi_some_avg10 >= config->guest_pressure_psi;
}

/* The closed loop's inputs for @tick at @now_us into replay->guests, the
 * simulated host into @ret_host. */
static void
closed_loop_inputs(VtRecorderReplay *replay, const VtRecorderTick *tick, gint64 dt_us,
                   VtBalloonHost *ret_host)
{
        gint64 host_shift = 0;

        g_array_set_size(replay->guests, tick->n_guests);
        for (guint i = 0; i < tick->n_guests; i++) {
                const VtBalloonGuest *recorded = &tick->guests[i];
                SimGuest *sim = sim_lookup(replay, recorded);

                if (tick->configs[i].held)
                        sim->target = tick->configs[i].held_bytes;
                sim_advance(sim, replay->options.balloon_rate, dt_us);
                sim_guest_input(recorded, sim, &g_array_index(replay->guests, VtBalloonGuest, i));
                host_shift += (gint64)recorded->actual_bytes - (gint64)sim->actual;
        }
        host_shift += (gint64)ret_host->mem_available;
        ret_host->mem_available = (guint64)CLAMP(host_shift, 0, (gint64)ret_host->mem_total);
}

static void
result_fill(VtRecorderReplay *replay, const VtRecorderTick *tick, guint i,
            const VtBalloonGuest *seen, VtRecorderReplayGuest *r)
{
        const VtBalloonGuest *recorded = &tick->guests[i];
        const VtBalloonTarget *want = &tick->decision.targets[i];
        const VtBalloonTarget *got = &g_array_index(replay->targets, VtBalloonTarget, i);

        *r = (VtRecorderReplayGuest){
            .name = recorded->name,
            .max_bytes = recorded->max_bytes,
            .recorded_action = want->action,
            .recorded_target = want->target_bytes,
            .recorded_actual = recorded->actual_bytes,
            .recorded_available = guest_available(recorded),
            .action = got->action,
            .target_bytes = got->target_bytes,
            .reason = got->reason,
            .actual_bytes = seen->actual_bytes,
            .available_bytes = guest_available(seen),
        };
        /* NONE and SKIP name the current size, which the closed loop changes:
         * only a move's target is compared. */
        r->agrees =
            r->action == r->recorded_action &&
            (r->target_bytes == r->recorded_target ||
             (r->action != VT_BALLOON_ACTION_GIVE && r->action != VT_BALLOON_ACTION_RECLAIM));
        r->exact = r->agrees && g_str_equal(got->reason, want->reason);
        if (!replay->options.closed_loop)
                return;
        r->pressure = guest_pressure(&replay->config, seen, r->available_bytes) ||
                      (guest_psi_high(&replay->config, recorded) &&
                       seen->actual_bytes <= recorded->actual_bytes);
        r->oom = r->recorded_available > 0 &&
                 r->recorded_available + seen->actual_bytes < recorded->actual_bytes;
}

static guint64
move_bytes(VtBalloonAction action, guint64 actual, guint64 target, gboolean give)
{
        if (give && action == VT_BALLOON_ACTION_GIVE && target > actual)
                return target - actual;
        if (!give && action == VT_BALLOON_ACTION_RECLAIM && actual > target)
                return actual - target;
        return 0;
}

/* Adds one guest's tick to the summary and, in closed loop, to the simulation. */
static void
account_guest(VtRecorderReplay *replay, const VtRecorderTick *tick, guint i,
              const VtRecorderReplayGuest *r, double dt_min, gint64 now_us)
{
        VtRecorderReplaySummary *s = &replay->summary;
        gboolean moves =
            r->action == VT_BALLOON_ACTION_GIVE || r->action == VT_BALLOON_ACTION_RECLAIM;
        gboolean recorded_pressure =
            guest_pressure(&replay->config, &tick->guests[i], r->recorded_available) ||
            guest_psi_high(&replay->config, &tick->guests[i]);

        s->n_decisions++;
        s->n_agree += r->agrees;
        s->n_exact += r->exact;
        s->n_differ_action += r->action != r->recorded_action;
        s->n_differ_target += r->action == r->recorded_action && !r->agrees;
        s->n_moves_recorded += r->recorded_action == VT_BALLOON_ACTION_GIVE ||
                               r->recorded_action == VT_BALLOON_ACTION_RECLAIM;
        s->n_moves += moves;
        s->given_recorded +=
            move_bytes(r->recorded_action, r->recorded_actual, r->recorded_target, TRUE);
        s->reclaimed_recorded +=
            move_bytes(r->recorded_action, r->recorded_actual, r->recorded_target, FALSE);
        s->given += move_bytes(r->action, r->actual_bytes, r->target_bytes, TRUE);
        s->reclaimed += move_bytes(r->action, r->actual_bytes, r->target_bytes, FALSE);
        s->pressure_minutes_recorded += recorded_pressure ? dt_min : 0;
        if (!replay->options.closed_loop) {
                s->pressure_minutes += recorded_pressure ? dt_min : 0;
                return;
        }
        s->pressure_minutes += r->pressure ? dt_min : 0;
        {
                SimGuest *sim = g_hash_table_lookup(replay->sims, r->name);
                guint64 error = r->actual_bytes > r->recorded_actual
                                    ? r->actual_bytes - r->recorded_actual
                                    : r->recorded_actual - r->actual_bytes;

                g_array_append_val(replay->errors, error);
                s->n_ooms += r->oom && !sim->oom;
                sim->oom = r->oom;
                if (moves && !tick->configs[i].held) {
                        sim->target = r->target_bytes;
                        sim->last_change_us = now_us;
                        sim->last_reclaim = r->action == VT_BALLOON_ACTION_RECLAIM;
                }
        }
}

static void
account_tick(VtRecorderReplay *replay, const VtRecorderTick *tick, gint64 dt_us, gint64 now_us)
{
        double ballooned = 0, ballooned_recorded = 0;
        double dt_min = (double)dt_us / (60.0 * G_USEC_PER_SEC);

        replay->summary.n_ticks++;
        for (guint i = 0; i < tick->n_guests; i++) {
                const VtRecorderReplayGuest *r =
                    &g_array_index(replay->results, VtRecorderReplayGuest, i);

                account_guest(replay, tick, i, r, dt_min, now_us);
                ballooned += (double)(r->max_bytes - MIN(r->max_bytes, r->actual_bytes));
                ballooned_recorded +=
                    (double)(r->max_bytes - MIN(r->max_bytes, r->recorded_actual));
        }
        replay->ballooned_us += ballooned * (double)dt_us;
        replay->ballooned_us_recorded += ballooned_recorded * (double)dt_us;
        replay->total_us += (double)dt_us;
        replay->summary.end_ballooned = (guint64)ballooned;
        replay->summary.end_ballooned_recorded = (guint64)ballooned_recorded;
}

static void
replay_tick(VtRecorderReplay *replay, const VtRecorderRecord *record)
{
        const VtRecorderTick *tick = &record->u.tick;
        gboolean same = replay->recorded_policy != NULL &&
                        g_str_equal(replay->policy->name, replay->recorded_policy);
        gint64 dt_us = replay->started ? record->mono_us - replay->last_mono_us : 0;
        VtBalloonHost host = tick->host;
        VtBalloonDecision decision = {0};
        VtBalloonInput input;

        dt_us = CLAMP(dt_us, 0, REPLAY_DT_MAX_US);
        if (replay->options.has_budget)
                host.budget_limit = replay->options.budget_limit;
        if ((same && !replay->options.closed_loop) || (same && !replay->started))
                replay->state = tick->state;
        vt_recorder_tick_get_input(tick, record->mono_us, &input);
        input.host = &host;
        if (replay->options.closed_loop) {
                closed_loop_inputs(replay, tick, dt_us, &host);
                input.guests = (const VtBalloonGuest *)replay->guests->data;
        }
        g_array_set_size(replay->targets, tick->n_guests);
        memset(replay->targets->data, 0, sizeof(VtBalloonTarget) * tick->n_guests);
        decision.targets = (VtBalloonTarget *)replay->targets->data;
        vt_balloon_decide(replay->policy->decide, &input, &replay->config, &replay->state,
                          &decision);

        g_array_set_size(replay->results, tick->n_guests);
        for (guint i = 0; i < tick->n_guests; i++)
                result_fill(replay, tick, i, &input.guests[i],
                            &g_array_index(replay->results, VtRecorderReplayGuest, i));
        account_tick(replay, tick, dt_us, record->mono_us);
        replay->tick = (VtRecorderReplayTick){
            .wall_us = record->wall_us,
            .mono_us = record->mono_us,
            .recorded_state = tick->decision.host_state,
            .state = decision.host_state,
            .host_available = host.mem_available,
            .n_guests = tick->n_guests,
            .guests = (const VtRecorderReplayGuest *)replay->results->data,
        };
        replay->started = TRUE;
        replay->last_mono_us = record->mono_us;
}

/**
 * vt_recorder_replay_feed:
 * @replay: a replay
 * @record: the next record of the history
 * @ret_tick: (out) (optional) (transfer none): the tick replayed, valid
 *     until the next feed; %NULL for a record that is not a tick
 * @error: where a policy that cannot be replayed is told
 *
 * Replays one record: a policy record sets the tunables, a tick is
 * decided again; other records are passed over.
 *
 * Returns: %FALSE with @error set when the history's policy is unknown and
 *     none was chosen (the replay cannot go on)
 */
gboolean
vt_recorder_replay_feed(VtRecorderReplay *replay, const VtRecorderRecord *record,
                        const VtRecorderReplayTick **ret_tick, GError **error)
{
        g_return_val_if_fail(replay != NULL && record != NULL, FALSE);

        if (ret_tick != NULL)
                *ret_tick = NULL;
        if (record->type == VT_RECORDER_RECORD_POLICY)
                return replay_take_policy(replay, &record->u.policy, error);
        if (record->type != VT_RECORDER_RECORD_TICK)
                return TRUE;
        if (replay->policy == NULL)
                replay->policy = vt_balloon_registry_lookup("vmtide");
        replay_tick(replay, record);
        if (ret_tick != NULL)
                *ret_tick = &replay->tick;
        return TRUE;
}

static int
compare_guint64(gconstpointer a, gconstpointer b, gpointer user_data)
{
        guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

        return x < y ? -1 : x > y;
}

/**
 * vt_recorder_replay_get_summary:
 * @replay: a replay
 * @ret_summary: (out): what it found so far
 */
void
vt_recorder_replay_get_summary(VtRecorderReplay *replay, VtRecorderReplaySummary *ret_summary)
{
        g_autoptr(GArray) errors = NULL;

        g_return_if_fail(replay != NULL && ret_summary != NULL);

        *ret_summary = replay->summary;
        if (replay->total_us > 0) {
                ret_summary->mean_ballooned = replay->ballooned_us / replay->total_us;
                ret_summary->mean_ballooned_recorded =
                    replay->ballooned_us_recorded / replay->total_us;
        }
        if (!replay->options.closed_loop) {
                ret_summary->mean_ballooned = ret_summary->mean_ballooned_recorded;
                ret_summary->end_ballooned = ret_summary->end_ballooned_recorded;
        }
        if (replay->errors->len == 0)
                return;
        errors = g_array_copy(replay->errors);
        g_qsort_with_data(errors->data, (gint)errors->len, sizeof(guint64), compare_guint64, NULL);
        ret_summary->n_errors = errors->len;
        ret_summary->error_median = g_array_index(errors, guint64, errors->len / 2);
        ret_summary->error_p90 = g_array_index(errors, guint64, errors->len * 9 / 10);
        ret_summary->error_max = g_array_index(errors, guint64, errors->len - 1);
}
