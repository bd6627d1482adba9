/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's migration commands: migrate, migrate-cancel, query-migrations, query-plan, query-peers.
 */
#include <string.h>

#include "host/control/control-args.h"
#include "host/daemon-migrate-private.h"

static const char *const no_args[] = {NULL};

static json_object *
json_bytes(guint64 bytes)
{
        return json_object_new_int64((gint64)MIN(bytes, (guint64)G_MAXINT64));
}

static GError *generic_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

static GError *
generic_error(const char *format, ...)
{
        g_autofree char *text = NULL;
        va_list args;

        va_start(args, format);
        text = g_strdup_vprintf(format, args);
        va_end(args);
        return g_error_new_literal(VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC, text);
}

static VtDaemonGuest *
lookup_guest(VtDaemon *daemon, json_object *args, GError **error)
{
        const char *name = vt_control_args_get_string(args, "name", error);
        VtDaemonGuest *dg;

        if (name == NULL)
                return NULL;
        dg = g_hash_table_lookup(daemon->guests, name);
        if (dg == NULL || dg->state != VT_DAEMON_GUEST_RUNNING) {
                vt_control_set_error_guest_not_found(error, name);
                return NULL;
        }
        return dg;
}

/* By hand without a peer: the known peer that keeps the most room above
 * its headroom after taking the guest; NULL when none keeps any. */
static const VtDaemonPeer *
choose_peer(VtDaemon *daemon, VtDaemonGuest *dg, gint64 now_us)
{
        guint n;
        VtDaemonPeer *const *peers = vt_daemon_peers_get(daemon->migrate->peers, &n);
        gint64 need = (gint64)MIN(vt_guest_get_actual_bytes(dg->guest), (guint64)G_MAXINT64 / 4);
        const VtDaemonPeer *best = NULL;
        gint64 best_left = 0;

        for (guint i = 0; i < n; i++) {
                const VtDaemonPeer *p = peers[i];
                gint64 left;

                if (!vt_daemon_peer_room_known(p, daemon->config->migrate.peer_interval_us,
                                               now_us) ||
                    p->state >= VT_HOST_STATE_SHORT)
                        continue;
                left =
                    p->free_bytes - need - (gint64)MIN(p->headroom_bytes, (guint64)G_MAXINT64 / 4);
                if (left >= 0 && (best == NULL || left > best_left)) {
                        best = p;
                        best_left = left;
                }
        }
        return best;
}

static json_object *
cmd_migrate(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        static const char *const allowed[] = {"name", "peer", NULL};
        VtDaemon *daemon = user_data;
        const char *peer_name = NULL;
        const VtDaemonPeer *peer;
        VtDaemonGuest *dg;
        VtDaemonMove *move;
        VtMigrateCost cost;
        json_object *o, *v = NULL;

        (void)server;
        if (!vt_control_args_check(args, allowed, error) ||
            (dg = lookup_guest(daemon, args, error)) == NULL)
                return NULL;
        if (json_object_object_get_ex(args, "peer", &v) && v != NULL) {
                if (!json_object_is_type(v, json_type_string)) {
                        g_set_error(error, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                    "'peer' must be a string");
                        return NULL;
                }
                peer_name = json_object_get_string(v);
        }
        if (dg->migrate_pinned) {
                g_propagate_error(error, generic_error("guest '%s' is pinned to this host "
                                                       "(migrate-pinned)",
                                                       dg->name));
                return NULL;
        }
        if (peer_name != NULL) {
                peer = vt_daemon_peers_find(daemon->migrate->peers, peer_name);
                if (peer == NULL) {
                        g_propagate_error(error, generic_error("'%s' is not a peer ([migrate] "
                                                               "peers)",
                                                               peer_name));
                        return NULL;
                }
        } else if ((peer = choose_peer(daemon, dg, g_get_monotonic_time())) == NULL) {
                g_propagate_error(error, generic_error("no peer is known to have room for guest "
                                                       "'%s'; name one",
                                                       dg->name));
                return NULL;
        }
        vt_daemon_migrate_predict(daemon, dg, peer, &cost);
        move = vt_daemon_move_start(daemon, dg, peer->name, &cost, "asked on the control socket",
                                    TRUE, error);
        if (move == NULL) {
                g_prefix_error(error, "guest '%s': ", dg->name);
                if (*error != NULL && (*error)->domain != VT_CONTROL_ERROR) {
                        GError *e = generic_error("%s", (*error)->message);

                        g_clear_error(error);
                        g_propagate_error(error, e);
                }
                return NULL;
        }
        o = json_object_new_object();
        json_object_object_add(o, "guest", json_object_new_string(dg->name));
        json_object_object_add(o, "peer", json_object_new_string(peer->name));
        json_object_object_add(o, "dirty_rate_measured",
                               json_object_new_boolean(dg->dirty_measured_us > 0));
        json_object_object_add(o, "predicted", vt_daemon_cost_to_json(&cost));
        return o;
}

static json_object *
cmd_migrate_cancel(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        static const char *const allowed[] = {"name", NULL};
        VtDaemon *daemon = user_data;
        const char *name;
        VtDaemonMove *move;

        (void)server;
        if (!vt_control_args_check(args, allowed, error) ||
            (name = vt_control_args_get_string(args, "name", error)) == NULL)
                return NULL;
        move = vt_daemon_move_find_running(daemon, name);
        if (move == NULL) {
                if (!g_hash_table_contains(daemon->guests, name))
                        vt_control_set_error_guest_not_found(error, name);
                else
                        g_propagate_error(error,
                                          generic_error("guest '%s' is not migrating", name));
                return NULL;
        }
        g_message("guest '%s': migration to '%s' cancelled by hand (control socket)", name,
                  move->peer);
        vt_migrate_exec_cancel(move->exec, "cancelled by hand");
        return json_object_new_object();
}

static json_object *
cmd_query_migrations(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        VtDaemon *daemon = user_data;
        GPtrArray *moves = daemon->migrate->moves;
        gint64 now_us = g_get_monotonic_time();
        json_object *array, *o;

        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        array = json_object_new_array();
        /* Running first, then the most recent. */
        for (guint pass = 0; pass < 2; pass++)
                for (guint i = moves->len; i-- > 0;) {
                        const VtDaemonMove *move = g_ptr_array_index(moves, i);

                        if (move->finished == (pass == 1))
                                json_object_array_add(array, vt_daemon_move_to_json(move, now_us));
                }
        o = json_object_new_object();
        json_object_object_add(o, "migrations", array);
        return o;
}

static json_object *
peer_to_json(VtDaemon *daemon, const VtDaemonPeer *p, gint64 now_us)
{
        gboolean known =
            vt_daemon_peer_room_known(p, daemon->config->migrate.peer_interval_us, now_us);
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "source", json_object_new_string(p->source));
        json_object_object_add(o, "known", json_object_new_boolean(known));
        json_object_object_add(o, "free", known ? json_object_new_int64(p->free_bytes) : NULL);
        json_object_object_add(o, "headroom", known ? json_bytes(p->headroom_bytes) : NULL);
        json_object_object_add(o, "mem_total", known ? json_bytes(p->mem_total) : NULL);
        json_object_object_add(
            o, "state", known ? json_object_new_string(vt_host_state_to_string(p->state)) : NULL);
        json_object_object_add(o, "age_ms",
                               p->read_us > 0 ? json_object_new_int64((now_us - p->read_us) / 1000)
                                              : NULL);
        json_object_object_add(
            o, "bandwidth",
            json_bytes(p->bandwidth > 0 ? p->bandwidth : daemon->config->migrate.bandwidth));
        json_object_object_add(o, "error",
                               p->error != NULL ? json_object_new_string(p->error)
                               : strcmp(p->source, "none") == 0
                                   ? json_object_new_string("no source for its room: give "
                                                            "[peer:NAME] control-socket")
                                   : NULL);
        return o;
}

static json_object *
cmd_query_peers(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        VtDaemon *daemon = user_data;
        gint64 now_us = g_get_monotonic_time();
        guint n;
        VtDaemonPeer *const *peers = vt_daemon_peers_get(daemon->migrate->peers, &n);
        json_object *array, *o;

        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        array = json_object_new_array();
        for (guint i = 0; i < n; i++)
                json_object_array_add(array, peer_to_json(daemon, peers[i], now_us));
        o = json_object_new_object();
        json_object_object_add(o, "peers", array);
        return o;
}

/* Why a guest would not be moved, as the planner's gates read it. */
static json_object *
candidate_to_json(VtDaemon *daemon, const VtDaemonPlan *plan, guint i,
                  const VtMigratePlanDecision *d)
{
        const VtMigratePlanGuest *g = &plan->guests[i];
        VtDaemonGuest *dg = g_ptr_array_index(plan->dgs, i);
        const VtDaemonPeer *peer =
            d->peer != NULL ? vt_daemon_peers_find(daemon->migrate->peers, d->peer) : NULL;
        json_object *o = json_object_new_object();
        VtMigrateCost cost;
        const char *status;
        gint64 now_us = plan->input.now_us;

        if (i == d->guest_index)
                status = vt_migrate_plan_action_to_string(d->action);
        else if (g->opt_out)
                status = "opted out";
        else if (g->pinned)
                status = "pinned";
        else if (g->migrating)
                status = "migrating";
        else if (g->last_migrated_us > 0 &&
                 now_us - g->last_migrated_us < plan->config.guest_cooldown_us)
                status = "in its cooldown";
        else if (MIN(g->actual_bytes, g->want_bytes) < plan->config.min_relief_bytes)
                status = "relieves too little";
        else
                status = "a candidate";
        vt_daemon_migrate_predict(daemon, dg, peer, &cost);
        json_object_object_add(o, "name", json_object_new_string(g->name));
        json_object_object_add(o, "status", json_object_new_string(status));
        json_object_object_add(o, "actual", json_bytes(g->actual_bytes));
        json_object_object_add(o, "want", json_bytes(g->want_bytes));
        json_object_object_add(o, "relief", json_bytes(MIN(g->actual_bytes, g->want_bytes)));
        json_object_object_add(o, "dirty_rate",
                               g->dirty_measured_us > 0 ? json_bytes(g->dirty_rate) : NULL);
        json_object_object_add(o, "dirty_rate_short",
                               g->dirty_measured_us > 0 && g->dirty_window_short_us > 0
                                   ? json_bytes(g->dirty_rate_short)
                                   : NULL);
        json_object_object_add(o, "dirty_age_ms",
                               g->dirty_measured_us > 0
                                   ? json_object_new_int64((now_us - g->dirty_measured_us) / 1000)
                                   : NULL);
        json_object_object_add(o, "predicted", vt_daemon_cost_to_json(&cost));
        return o;
}

static json_object *
decision_to_json(const VtMigratePlanDecision *d)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "action",
                               json_object_new_string(vt_migrate_plan_action_to_string(d->action)));
        json_object_object_add(o, "why",
                               json_object_new_string(vt_migrate_plan_why_to_string(d->why)));
        json_object_object_add(o, "guest",
                               d->guest != NULL ? json_object_new_string(d->guest) : NULL);
        json_object_object_add(o, "peer", d->peer != NULL ? json_object_new_string(d->peer) : NULL);
        json_object_object_add(o, "reason", json_object_new_string(d->reason));
        json_object_object_add(o, "need", json_bytes(d->need_bytes));
        json_object_object_add(o, "relief", json_bytes(d->relief_bytes));
        json_object_object_add(
            o, "cost_per_byte",
            d->action != VT_MIGRATE_PLAN_NOTHING ? json_object_new_double(d->cost_per_byte) : NULL);
        json_object_object_add(o, "window_ms",
                               d->action == VT_MIGRATE_PLAN_MEASURE
                                   ? json_object_new_int64(d->window_us / 1000)
                                   : NULL);
        json_object_object_add(
            o, "predicted",
            d->action != VT_MIGRATE_PLAN_NOTHING ? vt_daemon_cost_to_json(&d->cost) : NULL);
        return o;
}

static json_object *
cmd_query_plan(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        VtDaemon *daemon = user_data;
        g_autoptr(GPtrArray) running = NULL;
        VtDaemonPlan plan;
        VtMigratePlanDecision d;
        json_object *o, *host, *guests;

        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        running = vt_daemon_running_guests(daemon);
        vt_daemon_plan_build(daemon, running, g_get_monotonic_time(), &plan);
        vt_migrate_plan_decide(&plan.input, &plan.config, &d);
        o = json_object_new_object();
        json_object_object_add(o, "enabled",
                               json_object_new_boolean(daemon->config->migrate.enabled));
        json_object_object_add(o, "paused", json_object_new_boolean(daemon->paused));
        json_object_object_add(o, "decision", decision_to_json(&d));
        host = json_object_new_object();
        json_object_object_add(host, "critical", json_object_new_boolean(plan.host.critical));
        json_object_object_add(host, "critical_ticks",
                               json_object_new_int((int)plan.host.critical_ticks));
        json_object_object_add(host, "free", json_object_new_int64(plan.host.free_bytes));
        json_object_object_add(host, "reclaimable", json_bytes(plan.host.reclaimable_bytes));
        json_object_object_add(host, "ksm_yield", json_bytes(plan.host.ksm_yield_bytes));
        json_object_object_add(host, "outgoing", json_object_new_int((int)plan.host.outgoing));
        json_object_object_add(o, "host", host);
        guests = json_object_new_array();
        for (guint i = 0; i < plan.dgs->len; i++)
                json_object_array_add(guests, candidate_to_json(daemon, &plan, i, &d));
        json_object_object_add(o, "guests", guests);
        json_object_object_add(o, "n_peers_known", json_object_new_int((int)plan.n_peers));
        vt_daemon_plan_clear(&plan);
        return o;
}

/**
 * vt_daemon_migrate_register_commands:
 * @daemon: the daemon, its control server open
 *
 * Registers the migration commands of docs/control-protocol.md.
 */
void
vt_daemon_migrate_register_commands(VtDaemon *daemon)
{
        static const struct {
                const char *name;
                VtControlHandler handler;
        } commands[] = {
            {VT_CONTROL_COMMAND_MIGRATE, cmd_migrate},
            {VT_CONTROL_COMMAND_MIGRATE_CANCEL, cmd_migrate_cancel},
            {VT_CONTROL_COMMAND_QUERY_MIGRATIONS, cmd_query_migrations},
            {VT_CONTROL_COMMAND_QUERY_PLAN, cmd_query_plan},
            {VT_CONTROL_COMMAND_QUERY_PEERS, cmd_query_peers},
        };

        for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
                vt_control_server_add_command(daemon->control, commands[i].name,
                                              commands[i].handler, daemon);
}
