/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's migration step and its commands: what daemon-migrate*.c share. */
#pragma once

#include "host/daemon-private.h"
#include "migrate/migrate-exec.h"
#include "migrate/migrate-plan.h"

G_BEGIN_DECLS

/* Finished moves kept for query-migrations. */
#define VT_DAEMON_MIGRATE_RECENT_MAX 16

/**
 * VtDaemonMove:
 * @migrate: the step it belongs to (borrowed)
 * @guest: the guest's name
 * @peer: where to
 * @by_hand: asked for on the control socket
 * @reason: why (the planner's reason, or "by hand")
 * @exec: the executor (a reference)
 * @handlers: signal handler ids on @exec
 * @bytes: what the guest held when it started (what it takes at the peer)
 * @prediction: the cost model's, before the start
 * @started_us: when it started
 * @progress: the last pass seen
 * @has_progress: @progress is set
 * @finished: it ended
 * @result: how (when @finished)
 *
 * One outgoing move, running or recent.
 */
typedef struct {
        VtDaemonMigrate *migrate;
        char *guest;
        char *peer;
        gboolean by_hand;
        char *reason;
        VtMigrateExec *exec;
        gulong handlers[3];
        guint64 bytes;
        VtMigrateCost prediction;
        gint64 started_us;
        VtMigrateExecProgress progress;
        gboolean has_progress;
        gboolean finished;
        VtMigrateExecResult result;
} VtDaemonMove;

/**
 * VtDaemonPlan:
 * @dgs: the running guests the input was built from, in its order
 * @guests: their planner inputs
 * @peer_index: for each planner peer, its index in the peers
 * @peers: the peers whose room is known
 * @n_peers: how many
 * @host: this host
 * @link: the link
 * @config: the planner's tunables, from `[migrate]`
 * @input: all of it
 *
 * One planner input, as the step, `query-plan` and `migrate` build it.
 */
typedef struct {
        GPtrArray *dgs;
        VtMigratePlanGuest *guests;
        VtMigratePlanPeer *peers;
        guint n_peers;
        VtMigratePlanHost host;
        VtMigratePlanLink link;
        VtMigratePlanConfig config;
        VtMigratePlanInput input;
} VtDaemonPlan;

struct _VtDaemonMigrate {
        VtDaemon *daemon;
        VtDaemonPeers *peers;
        GPtrArray *moves; /* VtDaemonMove (owned), oldest first */
        guint critical_ticks;
        gint64 last_outgoing_end_us;
        VtMigratePlanAction last_action;
        VtMigratePlanWhy last_why;
        char *last_key; /* the last PLAN told: action, why, guest, peer */
};

void vt_daemon_plan_build(VtDaemon *daemon, GPtrArray *running, gint64 now_us,
                          VtDaemonPlan *ret_plan);
void vt_daemon_plan_clear(VtDaemonPlan *plan);
void vt_daemon_migrate_steer_config(const VtDaemonConfig *config, VtMigrateSteerConfig *ret_steer);
void vt_daemon_migrate_predict(VtDaemon *daemon, VtDaemonGuest *dg, const VtDaemonPeer *peer,
                               VtMigrateCost *ret_cost);
VtDaemonMove *vt_daemon_move_start(VtDaemon *daemon, VtDaemonGuest *dg, const char *peer,
                                   const VtMigrateCost *prediction, const char *reason,
                                   gboolean by_hand, GError **error);
void vt_daemon_move_free(gpointer data);
VtDaemonMove *vt_daemon_move_find_running(VtDaemon *daemon, const char *guest);
GPtrArray *vt_daemon_running_guests(VtDaemon *daemon);

json_object *vt_daemon_cost_to_json(const VtMigrateCost *cost);
json_object *vt_daemon_move_to_json(const VtDaemonMove *move, gint64 now_us);
json_object *vt_daemon_progress_to_json(const VtDaemonMove *move, const VtMigrateExecProgress *p);

G_END_DECLS
