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
} VtDaemonGuest;

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

G_END_DECLS
