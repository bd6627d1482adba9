/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's migration step: the planner's input from the tick, its decision, measurements, moves.
 */

/*
 * Theory of operation
 *
 * After the balloon decision, each tick builds the planner's snapshot
 * (vt_daemon_plan_build()): this host as the balloon policy judged it
 * (free memory under the budget, critical or not and for how many ticks,
 * what the balloon can still take above each guest's want), each running
 * guest (its size, balloon, want, last measured dirty rate and its age,
 * whether it moves, its per-guest policy) and each peer whose room is
 * known (daemon-peers.c). vt_migrate_plan_decide(), pure, answers move,
 * measure or nothing; a new answer is logged and told (PLAN).
 *
 * Acting on it needs `[migrate] enabled` and automation not paused: until
 * then the decision is shown (query-plan, PLAN) and nothing is measured or
 * moved. "Measure G" starts vt_guest_measure_dirty_rate_async() over the
 * planner's window, then over its short window (1 s: the first reading
 * is the working set, the second the rate; measure_start()), one guest at
 * a time (the planner is told so: max_measuring 1) and never on a moving
 * guest; both rates come back as DIRTY_RATE and a tick. "Move G to P" starts a VtMigrateExec with
 * the planner's prediction, logs the decision once with its reason and tells MIGRATION_STARTED; the
 * executor's passes, steering and end come back as MIGRATION_PASS, MIGRATION_STEERED and
 * MIGRATION_FINISHED (predicted beside actual). A move by hand (`migrate`) takes the same path.
 *
 * A moving guest is held at its balloon by the balloon policy (an input,
 * daemon-tick.c), and is not dropped while its move runs even when its
 * source goes away (QMP-direct quits the spent source on success before
 * the executor reads the end): it is dropped once MIGRATION_FINISHED was
 * told, so a client sees the move end, then the guest leave. The
 * destination's vmtided finds the guest through its own backend.
 */
#include "host/daemon-migrate-private.h"

#include "common/vt-size.h"

/**
 * vt_daemon_migrate_new:
 * @daemon: the daemon, its configuration read
 *
 * Returns: (transfer full): the migration step, no move under way
 */
VtDaemonMigrate *
vt_daemon_migrate_new(VtDaemon *daemon)
{
        VtDaemonMigrate *m = g_new0(VtDaemonMigrate, 1);

        m->daemon = daemon;
        m->peers = vt_daemon_peers_new(daemon);
        m->moves = g_ptr_array_new_with_free_func(vt_daemon_move_free);
        m->last_action = VT_MIGRATE_PLAN_ACTION_MAX;
        return m;
}

/**
 * vt_daemon_migrate_free:
 * @migrate: (nullable): the step
 *
 * Lets go of the moves' records; a move under way runs on (its executor
 * holds itself until it ends).
 */
void
vt_daemon_migrate_free(VtDaemonMigrate *migrate)
{
        if (migrate == NULL)
                return;
        g_ptr_array_unref(migrate->moves);
        vt_daemon_peers_free(migrate->peers);
        g_free(migrate->last_key);
        g_free(migrate);
}

/**
 * vt_daemon_migrate_stop:
 * @migrate: (nullable): the step
 *
 * Forgets the moves (the daemon stops): their executors run on, untold.
 */
void
vt_daemon_migrate_stop(VtDaemonMigrate *migrate)
{
        if (migrate != NULL)
                g_ptr_array_set_size(migrate->moves, 0);
}

/* The running guests, sorted by name (transfer container). */
GPtrArray *
vt_daemon_running_guests(VtDaemon *daemon)
{
        g_autoptr(GPtrArray) all = vt_daemon_sorted_guests(daemon);
        GPtrArray *running = g_ptr_array_new();

        for (guint i = 0; i < all->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(all, i);

                if (dg->state == VT_DAEMON_GUEST_RUNNING)
                        g_ptr_array_add(running, dg);
        }
        return running;
}

/**
 * vt_daemon_move_find_running:
 * @daemon: the daemon
 * @guest: a guest's name
 *
 * Returns: (transfer none) (nullable): its move under way from here
 */
VtDaemonMove *
vt_daemon_move_find_running(VtDaemon *daemon, const char *guest)
{
        GPtrArray *moves = daemon->migrate->moves;

        for (guint i = 0; i < moves->len; i++) {
                VtDaemonMove *move = g_ptr_array_index(moves, i);

                if (!move->finished && g_strcmp0(move->guest, guest) == 0)
                        return move;
        }
        return NULL;
}

/**
 * vt_daemon_migrate_is_moving:
 * @daemon: the daemon
 * @dg: a guest
 *
 * Returns: whether a move of @dg runs (from here, or any executor's)
 */
gboolean
vt_daemon_migrate_is_moving(VtDaemon *daemon, VtDaemonGuest *dg)
{
        if (daemon->migrate == NULL)
                return FALSE;
        if (vt_daemon_move_find_running(daemon, dg->name) != NULL)
                return TRUE;
        return vt_migrate_exec_get_for_guest(dg->guest) != NULL;
}

/**
 * vt_daemon_migrate_steer_config:
 * @config: the configuration
 * @ret_steer: (out): the steering's rules: its defaults, the downtime
 *     ramp's start and cap and auto-converge from `[migrate]`
 */
void
vt_daemon_migrate_steer_config(const VtDaemonConfig *config, VtMigrateSteerConfig *ret_steer)
{
        vt_migrate_steer_config_init(ret_steer);
        ret_steer->downtime_initial_us = config->migrate.downtime_initial_us;
        ret_steer->downtime_cap_us = config->migrate.downtime_max_us;
        ret_steer->auto_converge = config->migrate.auto_converge;
}

/* What the balloon can still take from @dg: nothing from a guest held by
 * hand, opted out of the balloon, without one, or moving. */
static guint64
guest_want(VtDaemon *daemon, VtDaemonGuest *dg, guint64 actual)
{
        if (dg->manual || dg->policy.opt_out || !vt_guest_has_balloon(dg->guest) ||
            vt_daemon_migrate_is_moving(daemon, dg) || !dg->has_last || dg->last.want_bytes == 0)
                return actual;
        return MIN(dg->last.want_bytes, actual);
}

/*
 * How much of what @dg holds is data: its QEMU's resident set, when
 * smaller (the rest goes as zero pages, 9 bytes each: docs/migration.md,
 * "The 512 MiB idle guest"). The RSS also counts QEMU's own memory, so it
 * errs on the side of more bytes. 0: all of it.
 */
static guint64
guest_resident(VtDaemon *daemon, VtDaemonGuest *dg, guint64 actual)
{
        GPid pid = vt_guest_get_pid(dg->guest);
        guint64 rss = 0;

        if (pid <= 0 || !vt_host_read_process_rss(daemon->config->proc_root, pid, &rss, NULL))
                return 0;
        return rss < actual ? rss : 0;
}

static void
plan_guests(VtDaemon *daemon, VtDaemonPlan *plan)
{
        guint64 reclaimable = 0;

        for (guint i = 0; i < plan->dgs->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(plan->dgs, i);
                guint64 actual = vt_guest_get_actual_bytes(dg->guest);
                guint64 want = guest_want(daemon, dg, actual);

                reclaimable += actual - want;
                plan->guests[i] = (VtMigratePlanGuest){
                    .name = dg->name,
                    .mem_bytes = vt_guest_get_max_bytes(dg->guest),
                    .actual_bytes = actual,
                    .want_bytes = want,
                    /* Read only when a move may be due: one file a guest. */
                    .resident_bytes = plan->host.critical ? guest_resident(daemon, dg, actual) : 0,
                    .dirty_rate = dg->dirty_rate,
                    .dirty_window_us = dg->dirty_window_us,
                    .dirty_rate_short = dg->dirty_rate_short,
                    .dirty_window_short_us = dg->dirty_window_short_us,
                    .dirty_measured_us = dg->dirty_measured_us,
                    .measuring = dg->measuring,
                    .migrating = vt_daemon_migrate_is_moving(daemon, dg),
                    .opt_out = dg->migrate_opt_out,
                    .pinned = dg->migrate_pinned,
                    .last_migrated_us = dg->last_migrated_us,
                };
        }
        plan->host.reclaimable_bytes = reclaimable;
}

/* Only the peers whose room is known: the planner never chooses the others. */
static void
plan_peers(VtDaemon *daemon, VtDaemonPlan *plan, gint64 now_us)
{
        VtDaemonMigrate *m = daemon->migrate;
        guint n;
        VtDaemonPeer *const *peers = vt_daemon_peers_get(m->peers, &n);

        plan->peers = g_new0(VtMigratePlanPeer, MAX(n, 1));
        for (guint i = 0; i < n; i++) {
                const VtDaemonPeer *p = peers[i];
                guint64 incoming = 0;

                if (!vt_daemon_peer_room_known(p, daemon->config->migrate.peer_interval_us, now_us))
                        continue;
                for (guint j = 0; j < m->moves->len; j++) {
                        const VtDaemonMove *move = g_ptr_array_index(m->moves, j);

                        if (!move->finished && g_strcmp0(move->peer, p->name) == 0)
                                incoming += move->bytes;
                }
                plan->peers[plan->n_peers++] = (VtMigratePlanPeer){
                    .name = p->name,
                    .free_bytes = p->free_bytes,
                    .headroom_bytes = p->headroom_bytes,
                    .incoming_bytes = incoming,
                    .state = p->state,
                    .bandwidth = p->bandwidth,
                };
        }
}

/**
 * vt_daemon_plan_build:
 * @daemon: the daemon, its host sampled
 * @running: the running guests
 * @now_us: now
 * @ret_plan: (out): the planner's input; vt_daemon_plan_clear() frees it
 */
void
vt_daemon_plan_build(VtDaemon *daemon, GPtrArray *running, gint64 now_us, VtDaemonPlan *ret_plan)
{
        const VtDaemonMigrateConfig *mc = &daemon->config->migrate;
        VtDaemonMigrate *m = daemon->migrate;
        VtMigrateSteerConfig steer;
        VtDaemonPlan *plan = ret_plan;

        *plan = (VtDaemonPlan){0};
        plan->dgs = g_ptr_array_ref(running);
        plan->guests = g_new0(VtMigratePlanGuest, MAX(running->len, 1));
        plan->host = (VtMigratePlanHost){
            .mem_total = daemon->host_sample.mem_total,
            .budget_bytes = daemon->balloon_host.budget_limit,
            .free_bytes = daemon->host_free,
            .critical = daemon->host_state == VT_HOST_STATE_CRITICAL,
            .critical_ticks = m->critical_ticks,
            .last_outgoing_end_us = m->last_outgoing_end_us,
        };
        for (guint i = 0; i < m->moves->len; i++)
                if (!((VtDaemonMove *)g_ptr_array_index(m->moves, i))->finished)
                        plan->host.outgoing++;
        plan_guests(daemon, plan);
        plan_peers(daemon, plan, now_us);

        vt_migrate_plan_config_init(&plan->config);
        plan->config.hysteresis_ticks = mc->hysteresis_ticks;
        plan->config.guest_cooldown_us = mc->cooldown_guest_us;
        plan->config.host_cooldown_us = mc->cooldown_host_us;
        plan->config.max_outgoing = mc->max_outgoing;
        plan->config.min_relief_bytes = mc->min_relief;
        plan->config.max_measuring = 1;
        vt_migrate_plan_link_init(&plan->link);
        vt_daemon_migrate_steer_config(daemon->config, &steer);
        plan->link.bandwidth = mc->bandwidth;
        plan->link.downtime_limit_us = vt_migrate_steer_initial_downtime(&steer);
        plan->input = (VtMigratePlanInput){.host = &plan->host,
                                           .guests = plan->guests,
                                           .n_guests = running->len,
                                           .peers = plan->peers,
                                           .n_peers = plan->n_peers,
                                           .link = &plan->link,
                                           .now_us = now_us};
}

void
vt_daemon_plan_clear(VtDaemonPlan *plan)
{
        g_clear_pointer(&plan->dgs, g_ptr_array_unref);
        g_clear_pointer(&plan->guests, g_free);
        g_clear_pointer(&plan->peers, g_free);
}

/**
 * vt_daemon_migrate_predict:
 * @daemon: the daemon
 * @dg: a guest
 * @peer: (nullable): where to (its bandwidth, when it has one)
 * @ret_cost: (out): the cost model's prediction at the initial downtime
 *     limit, from its last measured dirty rate (none: it dirties nothing)
 *     and its QEMU's resident set
 */
void
vt_daemon_migrate_predict(VtDaemon *daemon, VtDaemonGuest *dg, const VtDaemonPeer *peer,
                          VtMigrateCost *ret_cost)
{
        VtMigrateSteerConfig steer;
        VtMigratePlanLink link;
        VtMigrateCostInput in;

        vt_daemon_migrate_steer_config(daemon->config, &steer);
        vt_migrate_plan_link_init(&link);
        vt_migrate_cost_input_init(&in);
        in.mem_bytes = vt_guest_get_max_bytes(dg->guest);
        in.resident_bytes = guest_resident(daemon, dg, vt_guest_get_actual_bytes(dg->guest));
        in.dirty_rate = dg->dirty_rate;
        in.dirty_window_us = dg->dirty_window_us;
        in.dirty_rate_short = dg->dirty_rate_short;
        in.dirty_window_short_us = dg->dirty_window_short_us;
        in.bandwidth = peer != NULL && peer->bandwidth > 0 ? peer->bandwidth
                                                           : daemon->config->migrate.bandwidth;
        in.downtime_limit_us = vt_migrate_steer_initial_downtime(&steer);
        in.max_passes = link.max_passes;
        in.switchover_us = link.switchover_us;
        vt_migrate_cost_predict(&in, ret_cost);
}

/* The PLAN event, when the planner decided something new. */
static void
plan_tell(VtDaemonMigrate *m, const VtMigratePlanDecision *d)
{
        g_autofree char *key =
            g_strdup_printf("%d/%d/%s/%s", d->action, d->why, d->guest != NULL ? d->guest : "",
                            d->peer != NULL ? d->peer : "");
        json_object *data;

        if (g_strcmp0(key, m->last_key) == 0)
                return;
        g_free(m->last_key);
        m->last_key = g_steal_pointer(&key);
        if (d->action != VT_MIGRATE_PLAN_NOTHING || d->why != VT_MIGRATE_PLAN_WHY_NOT_CRITICAL)
                g_message("migration plan: %s", d->reason);
        data = json_object_new_object();
        json_object_object_add(data, "action",
                               json_object_new_string(vt_migrate_plan_action_to_string(d->action)));
        json_object_object_add(data, "why",
                               json_object_new_string(vt_migrate_plan_why_to_string(d->why)));
        json_object_object_add(data, "guest",
                               d->guest != NULL ? json_object_new_string(d->guest) : NULL);
        json_object_object_add(data, "peer",
                               d->peer != NULL ? json_object_new_string(d->peer) : NULL);
        json_object_object_add(data, "reason", json_object_new_string(d->reason));
        json_object_object_add(data, "enabled",
                               json_object_new_boolean(m->daemon->config->migrate.enabled));
        json_object_object_add(data, "paused", json_object_new_boolean(m->daemon->paused));
        vt_daemon_emit(m->daemon, VT_CONTROL_EVENT_PLAN, data);
}

/*
 * A measurement: the long window (the predicted first pass), then, when
 * the planner asked for one, the short window, one after the other on
 * the same guest. The guest stays "measuring" until both are in; a move
 * that started meanwhile, or a failure, ends it with nothing kept.
 */
typedef struct {
        VtDaemon *daemon;
        char *name;
        VtGuest *guest;
        gint64 window_us;
        gint64 window_short_us; /* 0: none */
        gboolean long_done;     /* the long reading is in @rate_long */
        guint64 rate_long;
} MeasureCtx;

static void
measure_ctx_free(MeasureCtx *ctx)
{
        g_object_unref(ctx->guest);
        g_free(ctx->name);
        g_free(ctx);
}

static void on_measured(GObject *source, GAsyncResult *result, gpointer user_data);

static void
measure_async(VtDaemonGuest *dg, MeasureCtx *ctx)
{
        gint64 window_us = ctx->long_done ? ctx->window_short_us : ctx->window_us;

        g_message("guest '%s': measuring its dirty rate over %.1f s", dg->name,
                  (double)window_us / G_USEC_PER_SEC);
        vt_guest_measure_dirty_rate_async(dg->guest, window_us, on_measured, ctx);
}

/* Both readings in: kept, told as DIRTY_RATE. */
static void
measure_keep(VtDaemonGuest *dg, const MeasureCtx *ctx, guint64 rate_short, gint64 now_us)
{
        json_object *data = json_object_new_object();

        dg->dirty_rate = ctx->rate_long;
        dg->dirty_window_us = ctx->window_us;
        dg->dirty_rate_short = ctx->window_short_us > 0 ? rate_short : 0;
        dg->dirty_window_short_us = ctx->window_short_us;
        dg->dirty_measured_us = now_us;
        g_message("guest '%s': dirties %s/s over %.1f s, %s/s over %.1f s", dg->name,
                  VT_SIZE_STR(ctx->rate_long, VT_SIZE_STYLE_MIB),
                  (double)ctx->window_us / G_USEC_PER_SEC,
                  VT_SIZE_STR(dg->dirty_rate_short, VT_SIZE_STYLE_MIB),
                  (double)ctx->window_short_us / G_USEC_PER_SEC);
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "rate", json_object_new_int64((gint64)ctx->rate_long));
        json_object_object_add(data, "window_ms", json_object_new_int64(ctx->window_us / 1000));
        if (ctx->window_short_us > 0) {
                json_object_object_add(data, "rate_short",
                                       json_object_new_int64((gint64)rate_short));
                json_object_object_add(data, "window_short_ms",
                                       json_object_new_int64(ctx->window_short_us / 1000));
        }
        vt_daemon_emit(ctx->daemon, VT_CONTROL_EVENT_DIRTY_RATE, data);
}

static void
on_measured(GObject *source, GAsyncResult *result, gpointer user_data)
{
        MeasureCtx *ctx = user_data;
        g_autoptr(GError) error = NULL;
        guint64 rate = 0;
        gboolean ok = vt_guest_measure_dirty_rate_finish(VT_GUEST(source), result, &rate, &error);
        VtDaemonGuest *dg = g_hash_table_lookup(ctx->daemon->guests, ctx->name);
        gint64 now_us = g_get_monotonic_time();

        if (dg == NULL || dg->guest != ctx->guest || !dg->measuring) {
                measure_ctx_free(ctx);
                return;
        }
        if (!ok) {
                dg->measure_failed_us = now_us;
                g_message("guest '%s': dirty rate not measured: %s", dg->name, error->message);
        } else if (!ctx->long_done && ctx->window_short_us > 0 &&
                   !vt_daemon_migrate_is_moving(ctx->daemon, dg)) {
                /* The short window next, never on a moving guest. */
                ctx->long_done = TRUE;
                ctx->rate_long = rate;
                measure_async(dg, ctx);
                return;
        } else if (!ctx->long_done && ctx->window_short_us > 0) {
                g_message("guest '%s': moving, its dirty rate not measured further", dg->name);
        } else {
                if (!ctx->long_done)
                        ctx->rate_long = rate;
                measure_keep(dg, ctx, rate, now_us);
        }
        dg->measuring = FALSE;
        vt_daemon_tick_soon(ctx->daemon, "dirty rate measured");
        measure_ctx_free(ctx);
}

/* One measurement at a time, never on a moving guest, not again within a
 * minute of a failure. FALSE when it did not start. */
static gboolean
measure_start(VtDaemon *daemon, VtDaemonGuest *dg, gint64 window_us, gint64 window_short_us,
              gint64 now_us)
{
        GHashTableIter iter;
        gpointer value;
        MeasureCtx *ctx;

        g_hash_table_iter_init(&iter, daemon->guests);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                if (((VtDaemonGuest *)value)->measuring)
                        return FALSE;
        if (vt_daemon_migrate_is_moving(daemon, dg) ||
            (dg->measure_failed_us > 0 && now_us - dg->measure_failed_us < 60 * G_USEC_PER_SEC))
                return FALSE;
        ctx = g_new0(MeasureCtx, 1);
        ctx->daemon = daemon;
        ctx->name = g_strdup(dg->name);
        ctx->guest = g_object_ref(dg->guest);
        ctx->window_us = window_us;
        ctx->window_short_us =
            window_short_us > 0 && window_short_us < window_us ? window_short_us : 0;
        dg->measuring = TRUE;
        measure_async(dg, ctx);
        return TRUE;
}

/**
 * vt_daemon_migrate_step:
 * @daemon: the daemon, its host sampled and the balloon decided this tick
 * @running: the running guests
 * @full: a periodic tick (only those count towards the hysteresis: a burst
 *     of event ticks is not a sustained shortage)
 * @now_us: now
 *
 * The planner's decision for this tick, told when new, and acted on when
 * automatic migration is enabled and not paused.
 */
void
vt_daemon_migrate_step(VtDaemon *daemon, GPtrArray *running, gboolean full, gint64 now_us)
{
        VtDaemonMigrate *m = daemon->migrate;
        VtDaemonPlan plan;
        VtMigratePlanDecision d;
        g_autoptr(GError) error = NULL;

        if (m == NULL)
                return;
        vt_daemon_peers_refresh(m->peers, now_us);
        m->critical_ticks =
            daemon->host_state == VT_HOST_STATE_CRITICAL ? m->critical_ticks + 1 : 0;
        vt_daemon_plan_build(daemon, running, now_us, &plan);
        vt_migrate_plan_decide(&plan.input, &plan.config, &d);
        plan_tell(m, &d);
        if (daemon->config->migrate.enabled && !daemon->paused) {
                VtDaemonGuest *dg = d.guest_index < plan.dgs->len
                                        ? g_ptr_array_index(plan.dgs, d.guest_index)
                                        : NULL;

                if (d.action == VT_MIGRATE_PLAN_MEASURE && dg != NULL)
                        measure_start(daemon, dg, d.window_us, d.window_short_us, now_us);
                else if (d.action == VT_MIGRATE_PLAN_MOVE && dg != NULL &&
                         vt_daemon_move_start(daemon, dg, d.peer, &d.cost, d.reason, FALSE,
                                              &error) == NULL) {
                        /* Its cooldown keeps the planner from asking again at once. */
                        dg->last_migrated_us = now_us;
                        g_warning("guest '%s': not moved to '%s': %s", dg->name, d.peer,
                                  error->message);
                }
        }
        vt_daemon_plan_clear(&plan);
}
