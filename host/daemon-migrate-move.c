/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's outgoing moves: one executor each, its passes, steering and end told as events. */
#include "host/daemon-migrate-private.h"
#include "host/daemon-recorder.h"

#include "common/vt-size.h"

/**
 * vt_daemon_move_free:
 * @data: (nullable): a #VtDaemonMove
 *
 * Lets go of the record; its executor runs on until it ends.
 */
void
vt_daemon_move_free(gpointer data)
{
        VtDaemonMove *move = data;

        if (move == NULL)
                return;
        for (guint i = 0; i < G_N_ELEMENTS(move->handlers); i++)
                g_clear_signal_handler(&move->handlers[i], move->exec);
        g_clear_object(&move->exec);
        g_free(move->guest);
        g_free(move->peer);
        g_free(move->reason);
        g_free(move);
}

static json_object *
json_bytes(guint64 bytes)
{
        return json_object_new_int64((gint64)MIN(bytes, (guint64)G_MAXINT64));
}

/* Milliseconds, or null for "never" (VT_MIGRATE_COST_FOREVER). */
static json_object *
json_ms(gint64 us)
{
        return us >= 0 && us < VT_MIGRATE_COST_FOREVER ? json_object_new_int64(us / 1000) : NULL;
}

/**
 * vt_daemon_cost_to_json:
 * @cost: a prediction
 *
 * Returns: (transfer full): it as the control protocol spells it
 */
json_object *
vt_daemon_cost_to_json(const VtMigrateCost *cost)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "converges", json_object_new_boolean(cost->converges));
        json_object_object_add(
            o, "outcome", json_object_new_string(vt_migrate_cost_outcome_to_string(cost->outcome)));
        json_object_object_add(o, "total_ms", json_ms(cost->total_us));
        json_object_object_add(o, "downtime_ms", json_ms(cost->downtime_us));
        json_object_object_add(o, "passes", json_object_new_int((int)cost->passes));
        json_object_object_add(o, "bytes", json_bytes(cost->bytes_sent));
        json_object_object_add(o, "dirty_rate", json_bytes(cost->dirty_rate));
        json_object_object_add(o, "reason", json_object_new_string(cost->reason));
        return o;
}

/**
 * vt_daemon_progress_to_json:
 * @move: a move
 * @p: one of its passes
 *
 * Returns: (transfer full): the MIGRATION_PASS data, also query-migrations'
 *     `progress`
 */
json_object *
vt_daemon_progress_to_json(const VtDaemonMove *move, const VtMigrateExecProgress *p)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "guest", json_object_new_string(move->guest));
        json_object_object_add(o, "peer", json_object_new_string(move->peer));
        json_object_object_add(o, "status",
                               json_object_new_string(vt_migrate_status_to_string(p->status)));
        json_object_object_add(o, "pass", json_object_new_int((int)p->pass));
        json_object_object_add(o, "remaining", json_bytes(p->remaining_bytes));
        json_object_object_add(o, "transferred", json_bytes(p->transferred_bytes));
        json_object_object_add(o, "dirty_rate", json_bytes(p->dirty_rate));
        json_object_object_add(o, "throughput", json_bytes(p->throughput));
        json_object_object_add(o, "elapsed_ms", json_ms(p->elapsed_us));
        json_object_object_add(o, "downtime_limit_ms", json_ms(p->downtime_limit_us));
        json_object_object_add(o, "predicted_total_ms", json_ms(p->predicted_total_us));
        json_object_object_add(o, "predicted_left_ms", json_ms(p->predicted_left_us));
        return o;
}

static json_object *
result_to_json(const VtDaemonMove *move)
{
        const VtMigrateExecResult *r = &move->result;
        json_object *o = json_object_new_object();
        json_object *actual = json_object_new_object();

        json_object_object_add(o, "guest", json_object_new_string(move->guest));
        json_object_object_add(o, "peer", json_object_new_string(move->peer));
        json_object_object_add(
            o, "outcome", json_object_new_string(vt_migrate_exec_outcome_to_string(r->outcome)));
        json_object_object_add(o, "by_hand", json_object_new_boolean(move->by_hand));
        json_object_object_add(o, "source_gone", json_object_new_boolean(r->source_gone));
        json_object_object_add(o, "reason", json_object_new_string(r->reason));
        json_object_object_add(o, "summary", json_object_new_string(r->summary));
        json_object_object_add(o, "predicted", vt_daemon_cost_to_json(&r->prediction));
        json_object_object_add(actual, "total_ms", json_ms(r->total_us));
        json_object_object_add(actual, "downtime_ms",
                               r->downtime_us > 0 ? json_ms(r->downtime_us) : NULL);
        json_object_object_add(actual, "passes", json_object_new_int((int)r->passes));
        json_object_object_add(actual, "bytes", json_bytes(r->bytes));
        json_object_object_add(actual, "downtime_limit_ms", json_ms(r->downtime_limit_us));
        json_object_object_add(actual, "steps", json_object_new_int((int)r->steps));
        json_object_object_add(o, "actual", actual);
        return o;
}

/**
 * vt_daemon_move_to_json:
 * @move: a move
 * @now_us: now
 *
 * Returns: (transfer full): one entry of query-migrations
 */
json_object *
vt_daemon_move_to_json(const VtDaemonMove *move, gint64 now_us)
{
        json_object *o = move->finished ? result_to_json(move) : json_object_new_object();

        if (!move->finished) {
                json_object_object_add(o, "guest", json_object_new_string(move->guest));
                json_object_object_add(o, "peer", json_object_new_string(move->peer));
                json_object_object_add(o, "outcome", NULL);
                json_object_object_add(o, "by_hand", json_object_new_boolean(move->by_hand));
                json_object_object_add(o, "predicted", vt_daemon_cost_to_json(&move->prediction));
        }
        json_object_object_add(o, "state",
                               json_object_new_string(move->finished ? "finished" : "running"));
        json_object_object_add(o, "why", json_object_new_string(move->reason));
        json_object_object_add(o, "started_ms_ago",
                               json_object_new_int64((now_us - move->started_us) / 1000));
        json_object_object_add(
            o, "progress",
            move->has_progress ? vt_daemon_progress_to_json(move, &move->progress) : NULL);
        return o;
}

static void
on_progress(VtMigrateExec *exec, gpointer progress, gpointer user_data)
{
        VtDaemonMove *move = user_data;
        const VtMigrateExecProgress *p = progress;

        (void)exec;
        if (!move->has_progress || move->progress.pass != p->pass)
                vt_daemon_recorder_migration_pass(move->migrate->daemon, move->guest, move->peer,
                                                  p);
        move->progress = *p;
        move->has_progress = TRUE;
        g_debug("guest '%s': migration pass %u, %s left", move->guest, p->pass,
                VT_SIZE_STR(p->remaining_bytes, VT_SIZE_STYLE_MIB));
        vt_daemon_emit(move->migrate->daemon, VT_CONTROL_EVENT_MIGRATION_PASS,
                       vt_daemon_progress_to_json(move, p));
}

static void
on_steered(VtMigrateExec *exec, gpointer action_ptr, gpointer user_data)
{
        VtDaemonMove *move = user_data;
        const VtMigrateSteerAction *a = action_ptr;
        json_object *data = json_object_new_object();

        (void)exec;
        g_message("guest '%s': migration to '%s' steered: %s: %s", move->guest, move->peer,
                  vt_migrate_steer_kind_to_string(a->kind), a->reason);
        json_object_object_add(data, "guest", json_object_new_string(move->guest));
        json_object_object_add(data, "peer", json_object_new_string(move->peer));
        json_object_object_add(data, "action",
                               json_object_new_string(vt_migrate_steer_kind_to_string(a->kind)));
        json_object_object_add(data, "cause",
                               json_object_new_string(vt_migrate_steer_cause_to_string(a->cause)));
        json_object_object_add(data, "downtime_limit_ms", json_ms(a->downtime_limit_us));
        json_object_object_add(data, "reason", json_object_new_string(a->reason));
        vt_daemon_emit(move->migrate->daemon, VT_CONTROL_EVENT_MIGRATION_STEERED, data);
}

/* Keeps the running moves and the last few finished ones. */
static void
moves_prune(VtDaemonMigrate *m)
{
        guint finished = 0;

        for (guint i = m->moves->len; i-- > 0;) {
                VtDaemonMove *move = g_ptr_array_index(m->moves, i);

                if (move->finished && ++finished > VT_DAEMON_MIGRATE_RECENT_MAX)
                        g_ptr_array_remove_index(m->moves, i);
        }
}

static void
on_finished(VtMigrateExec *exec, gpointer result, gpointer user_data)
{
        VtDaemonMove *move = user_data;
        VtDaemonMigrate *m = move->migrate;
        VtDaemon *daemon = m->daemon;
        const VtMigrateExecResult *r = result;
        VtDaemonGuest *dg = g_hash_table_lookup(daemon->guests, move->guest);
        gint64 now_us = g_get_monotonic_time();

        (void)exec;
        move->result = *r;
        move->finished = TRUE;
        m->last_outgoing_end_us = now_us;
        if (r->outcome == VT_MIGRATE_EXEC_COMPLETED)
                g_message("guest '%s': moved to '%s': %s", move->guest, move->peer, r->summary);
        else
                g_warning("guest '%s': migration to '%s' %s: %s; %s", move->guest, move->peer,
                          vt_migrate_exec_outcome_to_string(r->outcome), r->reason, r->summary);
        if (dg != NULL && r->outcome != VT_MIGRATE_EXEC_COMPLETED)
                dg->last_migrated_us = now_us;
        vt_daemon_emit(daemon, VT_CONTROL_EVENT_MIGRATION_FINISHED, result_to_json(move));
        vt_daemon_recorder_migration_end(daemon, move->guest, move->peer, r);
        /* A source that went away during its move is dropped now (after
         * the event), by the next tick. */
        vt_daemon_tick_soon(daemon, "migration finished");
        moves_prune(m);
}

/**
 * vt_daemon_move_start:
 * @daemon: the daemon
 * @dg: a running guest
 * @peer: where to (a configured peer)
 * @prediction: the cost model's, at the steering's initial downtime
 * @reason: why: the planner's reason, or what the operator asked
 * @by_hand: asked for on the control socket
 * @error: return location for a #GError: %G_IO_ERROR_BUSY (it moves
 *     already), %G_IO_ERROR_NOT_SUPPORTED (its backend cannot move it),
 *     or why the executor did not start
 *
 * Starts an executor for the move, logs it once with its reason and
 * prediction, and tells MIGRATION_STARTED.
 *
 * Returns: (transfer none): the move's record, or %NULL with @error
 */
VtDaemonMove *
vt_daemon_move_start(VtDaemon *daemon, VtDaemonGuest *dg, const char *peer,
                     const VtMigrateCost *prediction, const char *reason, gboolean by_hand,
                     GError **error)
{
        const VtDaemonConfig *config = daemon->config;
        const VtDaemonPeer *p = vt_daemon_peers_find(daemon->migrate->peers, peer);
        VtMigrateRequest request = {
            .peer = peer,
            .bandwidth = p != NULL && p->bandwidth > 0 ? p->bandwidth : config->migrate.bandwidth,
            .auto_converge = config->migrate.auto_converge,
        };
        g_autofree char *transport = NULL;
        VtMigrateSteerConfig steer;
        g_autoptr(VtMigrateExec) exec = NULL;
        VtDaemonMove *move;
        json_object *data;

        if (p != NULL && p->transport_uri != NULL) {
                g_autoptr(GString) uri = g_string_new(p->transport_uri);

                g_string_replace(uri, "{guest}", dg->name, 0);
                transport = g_string_free(g_steal_pointer(&uri), FALSE);
                request.transport_uri = transport;
        }
        vt_daemon_migrate_steer_config(config, &steer);
        request.downtime_limit_us = vt_migrate_steer_initial_downtime(&steer);
        exec = vt_migrate_exec_new(dg->guest, &request, prediction, &steer);
        move = g_new0(VtDaemonMove, 1);
        move->migrate = daemon->migrate;
        move->guest = g_strdup(dg->name);
        move->peer = g_strdup(peer);
        move->by_hand = by_hand;
        move->reason = g_strdup(reason);
        move->bytes = vt_guest_get_actual_bytes(dg->guest);
        move->prediction = *prediction;
        move->started_us = g_get_monotonic_time();
        move->exec = g_object_ref(exec);
        move->handlers[0] = g_signal_connect(exec, "progress", G_CALLBACK(on_progress), move);
        move->handlers[1] = g_signal_connect(exec, "steered", G_CALLBACK(on_steered), move);
        move->handlers[2] = g_signal_connect(exec, "finished", G_CALLBACK(on_finished), move);
        if (!vt_migrate_exec_start(exec, error)) {
                vt_daemon_move_free(move);
                return NULL;
        }
        g_ptr_array_add(daemon->migrate->moves, move);
        daemon->n_actions++;
        g_message("guest '%s': migrating to '%s'%s: %s; predicted: %s", dg->name, peer,
                  by_hand ? " (by hand)" : "", reason, prediction->reason);
        data = json_object_new_object();
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "peer", json_object_new_string(peer));
        json_object_object_add(data, "by_hand", json_object_new_boolean(by_hand));
        json_object_object_add(data, "reason", json_object_new_string(reason));
        json_object_object_add(data, "predicted", vt_daemon_cost_to_json(prediction));
        vt_daemon_emit(daemon, VT_CONTROL_EVENT_MIGRATION_STARTED, data);
        vt_daemon_recorder_migration_start(daemon, dg->name, peer, prediction);
        return move;
}
