/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's state, shared by its control loop and its control commands. */
#pragma once

#include <json-c/json.h>

#include "balloon/balloon-policy.h"
#include "host/guest/guest-backend.h"
#include "host/control/control-server.h"
#include "host/daemon-config.h"
#include "ksm/ksm-step.h"
#include "host/daemon.h"
#include "host/guest/guest.h"
#include "host/sensing/sensing-sample.h"
#include "host/sensing/sensing-psi.h"

G_BEGIN_DECLS

typedef enum {
        VT_DAEMON_GUEST_STARTING,
        VT_DAEMON_GUEST_RUNNING,
        VT_DAEMON_GUEST_GONE,
} VtDaemonGuestState;

/**
 * VtDaemonGuest:
 * @daemon: the daemon (borrowed)
 * @guest: the guest (a reference)
 * @name: its name
 * @state: starting, running or gone
 * @policy: its balloon policy (configuration, then the control socket)
 * @ksm_opt_out: its policy keeps it out of KSM
 * @manual: a target was set by hand: the policy leaves it alone (its
 *     input's VtBalloonGuestConfig.held)
 * @manual_target: that target
 * @last: the policy's last decision for it
 * @has_last: @last is set
 * @last_change_us: when a move was last asked for (0: never)
 * @ksm_merging_pages: its merged pages (-1: unknown)
 * @ksm_profit: its KSM profit, bytes (-1: unknown)
 * @refreshing: a refresh is in flight
 * @handlers: signal handler ids on @guest
 * @agent: the agent reader @agent_hello is connected to (a reference)
 * @agent_hello: signal handler id on @agent
 * @announced: GUEST_ADDED was sent (it started)
 * @gone_reason: (nullable): why it was lost, once it was
 * @migrate_opt_out: never moved automatically (`migrate-opt-out`)
 * @migrate_pinned: never moved, not even by hand (`migrate-pinned`)
 * @dirty_rate: its last measured dirty rate, bytes per second
 * @dirty_window_us: the window it was measured over
 * @dirty_rate_short: its dirty rate over the short window measured with it
 * @dirty_window_short_us: that window (0: no short reading)
 * @dirty_measured_us: when (0: never)
 * @measuring: a measurement is under way
 * @measure_failed_us: when the last measurement failed (0: never)
 * @last_migrated_us: when a move of it from here last ended unsuccessfully
 *     (it tried to leave; the planner's guest cooldown)
 */
typedef struct {
        VtDaemon *daemon;
        VtGuest *guest;
        char *name;
        VtDaemonGuestState state;
        VtBalloonGuestConfig policy;
        gboolean ksm_opt_out;
        const char *policy_source; /* "defaults", "configuration", "domain metadata", ... */
        gboolean manual;
        guint64 manual_target;
        VtBalloonTarget last;
        gboolean has_last;
        gint64 last_change_us;
        gint64 ksm_merging_pages;
        gint64 ksm_profit;
        gboolean refreshing;
        gulong handlers[7];
        VtAgentReader *agent;
        gulong agent_hello;
        gboolean announced;
        char *gone_reason;
        gboolean migrate_opt_out;
        gboolean migrate_pinned;
        guint64 dirty_rate;
        gint64 dirty_window_us;
        guint64 dirty_rate_short;
        gint64 dirty_window_short_us;
        gint64 dirty_measured_us;
        gboolean measuring;
        gint64 measure_failed_us;
        gint64 last_migrated_us;
} VtDaemonGuest;

/* daemon-migrate.c: the migration step, moves and their records (opaque). */
typedef struct _VtDaemonMigrate VtDaemonMigrate;
/* daemon-peers.c: the peers and their room (opaque). */
typedef struct _VtDaemonPeers VtDaemonPeers;

/**
 * VtDaemonPeer:
 * @name: as `[migrate] peers` lists it
 * @uri: (nullable): the libvirt connection URI its room is read through
 * @control_socket: (nullable): its vmtided's control socket
 * @bandwidth: the link to it (0: `[migrate] bandwidth`)
 * @transport_uri: (nullable): the stream's URI template (`{guest}`)
 * @source: where its room comes from: "vmtided", "libvirt" or "none"
 * @free_bytes: its free memory for guests at the last reading
 * @headroom_bytes: what it must keep free (its short line)
 * @mem_total: its memory
 * @state: its state at the last reading
 * @read_us: when it was last read (0: never)
 * @tried_us: when a reading last started (0: never)
 * @reading: a reading is under way
 * @error: (nullable): why the last reading failed
 * @client: (nullable): the client of a vmtided reading under way
 * @ctx: (nullable): the reading under way (daemon-peers.c's)
 *
 * One peer, as daemon-peers.c reads it.
 */
typedef struct {
        char *name;
        char *uri;
        char *control_socket;
        guint64 bandwidth;
        char *transport_uri;
        const char *source;
        gint64 free_bytes;
        guint64 headroom_bytes;
        guint64 mem_total;
        VtHostState state;
        gint64 read_us;
        gint64 tried_us;
        gboolean reading;
        char *error;
        struct _VtQmpClient *client;
        gpointer ctx;
} VtDaemonPeer;

struct _VtDaemon {
        VtDaemonConfig *config;
        VtControlServer *control;
        VtBackend *backend;
        VtKsmStep *ksm;
        char *ksm_error;
        VtPsiTrigger *psi;
        GHashTable *guests; /* name -> VtDaemonGuest (owned) */
        gboolean started;
        gboolean paused;
        guint tick_source;
        guint soon_source;
        char *soon_why;
        gint64 started_us;
        guint64 n_ticks;
        guint64 n_full_ticks;
        guint64 n_actions;
        gint64 tick_cost_us;
        VtBalloonConfig balloon_config;
        VtBalloonState balloon_state;
        VtHostState host_state;
        gint64 host_free;
        char host_reason[160];
        VtHostSample host_sample;
        VtHostSample host_previous;
        gboolean has_host_sample;
        VtBalloonHost balloon_host;
        char *host_error;
        VtDaemonMigrate *migrate;
        struct _VtDaemonMetrics *metrics;   /* daemon-metrics.c */
        struct _VtDaemonRecorder *recorder; /* daemon-recorder.c; NULL: not recorded */
};

/* daemon.c: the daemon's life, its backend and events */
void vt_daemon_emit(VtDaemon *daemon, const char *event, json_object *data);
void vt_daemon_set_paused(VtDaemon *daemon, gboolean paused);

/* daemon-commands.c: the control socket's commands */
void vt_daemon_register_commands(VtDaemon *daemon);

/* daemon-guests.c: the guest table */
void vt_daemon_guests_watch(VtDaemon *daemon, VtBackend *backend);
void vt_daemon_guest_free(gpointer data);
GPtrArray *vt_daemon_sorted_guests(VtDaemon *daemon);
void vt_daemon_drop_guest(VtDaemon *daemon, VtDaemonGuest *dg, const char *reason);
void vt_daemon_refresh_guest(VtDaemon *daemon, VtDaemonGuest *dg);

/* daemon-tick.c: the tick */
void vt_daemon_ticks_start(VtDaemon *daemon, guint interval_ms);
void vt_daemon_tick(VtDaemon *daemon, const char *why, gboolean full);
void vt_daemon_tick_soon(VtDaemon *daemon, const char *why);

/* daemon-target.c: balloon targets, the policy's and those set by hand */
void vt_daemon_apply_target(VtDaemon *daemon, VtDaemonGuest *dg, guint64 from,
                            const VtBalloonTarget *t, gint64 now_us);
void vt_daemon_set_manual_async(VtDaemon *daemon, VtDaemonGuest *dg, guint64 bytes,
                                GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_daemon_set_manual_finish(GAsyncResult *result, guint64 *ret_target, GError **error);
void vt_daemon_clear_manual(VtDaemon *daemon, VtDaemonGuest *dg);

/* daemon-migrate.c: live migration (docs/migration.md, "vmtided and the CLI") */
VtDaemonMigrate *vt_daemon_migrate_new(VtDaemon *daemon);
void vt_daemon_migrate_free(VtDaemonMigrate *migrate);
void vt_daemon_migrate_stop(VtDaemonMigrate *migrate);
void vt_daemon_migrate_step(VtDaemon *daemon, GPtrArray *running, gboolean full, gint64 now_us);
gboolean vt_daemon_migrate_is_moving(VtDaemon *daemon, VtDaemonGuest *dg);
void vt_daemon_migrate_register_commands(VtDaemon *daemon);

/* daemon-peers.c: the peers' room */
VtDaemonPeers *vt_daemon_peers_new(VtDaemon *daemon);
void vt_daemon_peers_free(VtDaemonPeers *peers);
void vt_daemon_peers_refresh(VtDaemonPeers *peers, gint64 now_us);
VtDaemonPeer *const *vt_daemon_peers_get(VtDaemonPeers *peers, guint *ret_n);
VtDaemonPeer *vt_daemon_peers_find(VtDaemonPeers *peers, const char *name);
gboolean vt_daemon_peer_room_known(const VtDaemonPeer *peer, gint64 interval_us, gint64 now_us);

G_END_DECLS
