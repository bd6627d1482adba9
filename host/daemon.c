/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's control loop: sample, decide, apply, tell. */

/*
 * Theory of operation
 *
 * The backend finds guests (a directory of QMP sockets, guests listed in
 * the configuration, later libvirt domains) and hands each over as a
 * VtGuest; the daemon starts it (connect, learn its size, enable balloon
 * statistics, read its agent) and keeps it in a table by name.
 *
 * A tick runs every tick interval (2 s by default) and also at once, from
 * an idle callback that coalesces bursts, when something calls for it: an
 * agent's pressure push, a balloon that moved, the host's PSI trigger.
 * A tick:
 *   1. samples the host (/proc/meminfo, PSI, vmstat, the guests' cgroup);
 *   2. snapshots every running guest (balloon size, statistics, the
 *      agent's latest report, their ages) and asks each for fresh
 *      statistics for the next tick (asynchronously: a tick never waits
 *      on a guest, so a hung QEMU cannot stall the loop);
 *   3. runs the balloon policy, which is pure, and applies its targets;
 *      each move is logged once with its reason and sent as a DECISION
 *      event on the control socket;
 *   4. runs the KSM step (ksm/ tuner) on the same host sample;
 *   5. every fifth time, asks the backend to look for guests its directory
 *      monitor missed.
 * A tick called for by an event runs 1 and 3 only: what called for it is
 * already in, and the KSM tuner's rates want whole intervals. A guest
 * still answering its last refresh (a hung QEMU) is not asked again.
 * While paused, ticks sample and decide, and move nothing: each guest's
 * reason says what would have been done.
 *
 * Guests are never reset: a started guest keeps the balloon size it had,
 * so a vmtided killed and restarted picks up where it was. A guest whose
 * QEMU goes away is dropped (GUEST_REMOVED) and its moves forgotten.
 */
#include "host/daemon-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>

#include "host/libvirt/libvirt-backend.h"
#include "host/qmp-direct/qmp-direct-backend.h"
#include "host/qmp-direct/qmp-direct-guest.h"
#include "qmp/qmp-error.h"
#include "qmp/qmp-message.h"

#define MIB (1024.0 * 1024.0)
/* Periodic ticks between rescans of the backend. */
#define RESCAN_TICKS 5

static void daemon_tick(VtDaemon *daemon, const char *why, gboolean full);

static void
daemon_guest_free(gpointer data)
{
        VtDaemonGuest *dg = data;

        for (guint i = 0; i < G_N_ELEMENTS(dg->handlers); i++)
                g_clear_signal_handler(&dg->handlers[i], dg->guest);
        if (dg->agent != NULL) {
                g_clear_signal_handler(&dg->agent_hello, dg->agent);
                g_clear_object(&dg->agent);
        }
        vt_guest_stop(dg->guest);
        g_object_unref(dg->guest);
        g_free(dg->gone_reason);
        g_free(dg->name);
        g_free(dg);
}

/**
 * vt_daemon_emit:
 * @daemon: the daemon
 * @event: the event's name
 * @data: (transfer full): its data
 *
 * Sends an event to the control socket's clients.
 */
void
vt_daemon_emit(VtDaemon *daemon, const char *event, json_object *data)
{
        if (daemon->control == NULL) {
                json_object_put(data);
                return;
        }
        vt_control_server_emit_event(daemon->control, event, data);
}

static gboolean
on_tick_soon(gpointer data)
{
        VtDaemon *daemon = data;
        g_autofree char *why = g_steal_pointer(&daemon->soon_why);

        daemon->soon_source = 0;
        daemon_tick(daemon, why, FALSE);
        return G_SOURCE_REMOVE;
}

/**
 * vt_daemon_tick_soon:
 * @daemon: the daemon
 * @why: what calls for it, for the debug log
 *
 * Runs a tick from the main loop as soon as it is idle; calls before it
 * runs are folded into one.
 */
void
vt_daemon_tick_soon(VtDaemon *daemon, const char *why)
{
        if (!daemon->started)
                return;
        if (daemon->soon_source != 0)
                return;
        daemon->soon_why = g_strdup(why);
        daemon->soon_source = g_idle_add_full(G_PRIORITY_HIGH_IDLE, on_tick_soon, daemon, NULL);
}

static gboolean
on_tick(gpointer data)
{
        daemon_tick(data, NULL, TRUE);
        return G_SOURCE_CONTINUE;
}

static gint
compare_guests(gconstpointer a, gconstpointer b)
{
        const VtDaemonGuest *ga = *(VtDaemonGuest *const *)a;
        const VtDaemonGuest *gb = *(VtDaemonGuest *const *)b;

        return strcmp(ga->name, gb->name);
}

/* Guests, sorted by name (transfer container). */
GPtrArray *
vt_daemon_sorted_guests(VtDaemon *daemon)
{
        GPtrArray *guests = g_ptr_array_new();
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, daemon->guests);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_ptr_array_add(guests, value);
        g_ptr_array_sort(guests, compare_guests);
        return guests;
}

/* Logs once why, tells the control socket if the guest had been
 * announced, and forgets it. */
static void
drop_guest(VtDaemon *daemon, VtDaemonGuest *dg, const char *reason)
{
        if (dg->gone_reason != NULL)
                reason = dg->gone_reason;
        if (dg->announced) {
                json_object *data = json_object_new_object();

                g_message("guest '%s': dropped: %s", dg->name, reason);
                json_object_object_add(data, "guest", json_object_new_string(dg->name));
                json_object_object_add(data, "reason", json_object_new_string(reason));
                vt_daemon_emit(daemon, "GUEST_REMOVED", data);
        } else {
                /* A socket whose QEMU is dead: the backend retries it with a
                 * backoff, and each retry is not news. */
                g_debug("guest '%s': not started: %s", dg->name, reason);
        }
        /* Frees dg: signal handlers are disconnected first. */
        g_hash_table_remove(daemon->guests, dg->name);
}

static void
on_guest_gone(VtGuest *guest, gpointer error_ptr, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;
        const GError *error = error_ptr;

        (void)guest;
        /* Not from within the guest's own emission: defer the free, and the
         * log line (drop_guest() says it once). */
        dg->state = VT_DAEMON_GUEST_GONE;
        if (dg->gone_reason == NULL)
                dg->gone_reason =
                    g_strdup_printf("lost: %s", error != NULL ? error->message : "disconnected");
        vt_daemon_tick_soon(dg->daemon, "guest gone");
}

static void
on_guest_pressure(VtGuest *guest, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;

        (void)guest;
        g_debug("guest '%s': pressure pushed by its agent", dg->name);
        vt_daemon_tick_soon(dg->daemon, "agent pressure push");
}

static void
on_guest_balloon_changed(VtGuest *guest, guint64 actual, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;

        (void)guest;
        g_debug("guest '%s': balloon at %.0f MiB", dg->name, (double)actual / MIB);
        vt_daemon_tick_soon(dg->daemon, "balloon changed");
}

static void
on_guest_move_done(VtGuest *guest, guint64 actual, gint64 elapsed_us, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;
        json_object *data = json_object_new_object();

        (void)guest;
        g_message("guest '%s': balloon reached %.0f MiB in %" G_GINT64_FORMAT " ms", dg->name,
                  (double)actual / MIB, elapsed_us / 1000);
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "actual", json_object_new_int64((gint64)actual));
        json_object_object_add(data, "ms", json_object_new_int64(elapsed_us / 1000));
        vt_daemon_emit(dg->daemon, "BALLOON_DONE", data);
}

static void
on_guest_move_stuck(VtGuest *guest, guint64 actual, guint64 target, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;
        json_object *data = json_object_new_object();

        (void)guest;
        g_warning("guest '%s': balloon stuck at %.0f MiB (asked for %.0f MiB): left alone",
                  dg->name, (double)actual / MIB, (double)target / MIB);
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "actual", json_object_new_int64((gint64)actual));
        json_object_object_add(data, "target", json_object_new_int64((gint64)target));
        vt_daemon_emit(dg->daemon, "BALLOON_STUCK", data);
}

/* A (re)connected agent: ask for the configured report interval. */
static void
on_agent_hello(VtAgentReader *reader, gpointer report, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;
        guint interval_ms = dg->daemon->config->agent_interval_ms;
        g_autoptr(GError) error = NULL;

        (void)report;
        if (interval_ms == 0)
                return;
        if (!vt_agent_reader_set_interval(reader, interval_ms, &error))
                g_message("guest '%s': agent interval: %s", dg->name, error->message);
        else
                g_debug("guest '%s': agent asked for a report every %u ms", dg->name, interval_ms);
}

/* Follows the guest's agent reader, which comes when its socket does
 * (possibly after the guest started). */
static void
watch_agent(VtDaemonGuest *dg)
{
        VtAgentReader *reader = vt_guest_get_agent(dg->guest);

        if (reader == dg->agent)
                return;
        if (dg->agent != NULL) {
                g_clear_signal_handler(&dg->agent_hello, dg->agent);
                g_clear_object(&dg->agent);
        }
        if (reader == NULL)
                return;
        dg->agent = g_object_ref(reader);
        dg->agent_hello = g_signal_connect(reader, "hello", G_CALLBACK(on_agent_hello), dg);
}

static void
on_guest_agent_path(GObject *object, GParamSpec *pspec, gpointer user_data)
{
        (void)object;
        (void)pspec;
        watch_agent(user_data);
}

static void
on_guest_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtDaemon *daemon = user_data;
        VtGuest *guest = VT_GUEST(source);
        g_autoptr(GError) error = NULL;
        VtDaemonGuest *dg;
        json_object *data;

        dg = g_hash_table_lookup(daemon->guests, vt_guest_get_name(guest));
        if (!vt_guest_start_finish(guest, result, &error)) {
                if (dg != NULL && dg->guest == guest) {
                        g_autofree char *reason =
                            g_strdup_printf("could not start: %s", error->message);

                        drop_guest(daemon, dg, reason);
                }
                return;
        }
        if (dg == NULL || dg->guest != guest)
                return;
        dg->state = VT_DAEMON_GUEST_RUNNING;
        dg->announced = TRUE;
        g_message("guest '%s': managed: pid %d, %.0f MiB of %.0f MiB, %s", dg->name,
                  (int)vt_guest_get_pid(guest), (double)vt_guest_get_actual_bytes(guest) / MIB,
                  (double)vt_guest_get_max_bytes(guest) / MIB,
                  vt_guest_has_balloon(guest) ? "balloon" : "no balloon: left alone");
        data = json_object_new_object();
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        vt_daemon_emit(daemon, "GUEST_ADDED", data);
        vt_daemon_tick_soon(daemon, "guest added");
}

static void
apply_guest_config(VtDaemon *daemon, VtDaemonGuest *dg)
{
        const VtDaemonGuestConfig *gc = vt_daemon_config_find_guest(daemon->config, dg->name);

        dg->policy = (VtBalloonGuestConfig){0};
        dg->ksm_opt_out = FALSE;
        dg->policy_source = "defaults";
        /* A libvirt domain's own policy (its metadata) comes first. */
        if (vt_guest_get_stored_policy(dg->guest, &dg->policy, &dg->ksm_opt_out)) {
                dg->policy_source = "domain metadata";
                return;
        }
        if (gc == NULL)
                return;
        dg->policy = gc->balloon;
        dg->ksm_opt_out = gc->ksm_opt_out;
        dg->policy_source = "configuration";
}

/* The backend read the guest's own policy (a domain's metadata changed). */
static void
on_guest_policy_changed(VtGuest *guest, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;

        apply_guest_config(dg->daemon, dg);
        vt_guest_set_config(guest, &dg->policy);
        g_message("guest '%s': policy from its %s: min %.0f MiB, max %.0f MiB, shares %u%s%s",
                  dg->name, dg->policy_source, (double)dg->policy.min_bytes / MIB,
                  (double)dg->policy.max_bytes / MIB,
                  dg->policy.shares > 0 ? dg->policy.shares : 1000,
                  dg->policy.opt_out ? ", balloon opted out" : "",
                  dg->ksm_opt_out ? ", KSM opted out" : "");
        vt_daemon_tick_soon(dg->daemon, "policy changed");
}

static void
on_guest_added(VtBackend *backend, VtGuest *guest, gpointer user_data)
{
        VtDaemon *daemon = user_data;
        const char *name = vt_guest_get_name(guest);
        VtDaemonGuest *dg;

        (void)backend;
        if (g_hash_table_contains(daemon->guests, name)) {
                g_debug("guest '%s': already managed", name);
                return;
        }
        dg = g_new0(VtDaemonGuest, 1);
        dg->daemon = daemon;
        dg->guest = g_object_ref(guest);
        dg->name = g_strdup(name);
        dg->state = VT_DAEMON_GUEST_STARTING;
        dg->ksm_merging_pages = -1;
        dg->ksm_profit = -1;
        apply_guest_config(daemon, dg);
        vt_guest_set_config(guest, &dg->policy);
        dg->handlers[0] = g_signal_connect(guest, "gone", G_CALLBACK(on_guest_gone), dg);
        dg->handlers[1] = g_signal_connect(guest, "pressure", G_CALLBACK(on_guest_pressure), dg);
        dg->handlers[2] =
            g_signal_connect(guest, "balloon-changed", G_CALLBACK(on_guest_balloon_changed), dg);
        dg->handlers[3] = g_signal_connect(guest, "move-done", G_CALLBACK(on_guest_move_done), dg);
        dg->handlers[4] =
            g_signal_connect(guest, "move-stuck", G_CALLBACK(on_guest_move_stuck), dg);
        dg->handlers[5] =
            g_signal_connect(guest, "notify::agent-path", G_CALLBACK(on_guest_agent_path), dg);
        dg->handlers[6] =
            g_signal_connect(guest, "policy-changed", G_CALLBACK(on_guest_policy_changed), dg);
        watch_agent(dg);
        g_hash_table_insert(daemon->guests, dg->name, dg);
        g_debug("guest '%s': found, starting", name);
        vt_guest_start_async(guest, on_guest_started, daemon);
}

static void
on_guest_removed(VtBackend *backend, VtGuest *guest, gpointer user_data)
{
        VtDaemon *daemon = user_data;
        VtDaemonGuest *dg = g_hash_table_lookup(daemon->guests, vt_guest_get_name(guest));

        if (dg != NULL && dg->guest == guest)
                drop_guest(daemon, dg,
                           VT_IS_BACKEND_QMP(backend) ? "its sockets are gone"
                                                      : "its domain is gone");
}

typedef struct {
        VtDaemon *daemon;
        char *name;
} RefreshCtx;

static void
on_refreshed(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RefreshCtx *ctx = user_data;
        g_autoptr(GError) error = NULL;
        VtDaemonGuest *dg;

        if (!vt_guest_refresh_finish(VT_GUEST(source), result, &error))
                g_debug("guest '%s': refresh: %s", ctx->name, error->message);
        /* The guest may have been dropped (and even found again) since. */
        dg = g_hash_table_lookup(ctx->daemon->guests, ctx->name);
        if (dg != NULL && dg->guest == VT_GUEST(source))
                dg->refreshing = FALSE;
        g_free(ctx->name);
        g_free(ctx);
}

/* Fresh statistics for the next tick, unless the last request is still
 * unanswered (a hung QEMU: its command times out). */
static void
refresh_guest(VtDaemon *daemon, VtDaemonGuest *dg)
{
        RefreshCtx *ctx;

        if (dg->refreshing)
                return;
        ctx = g_new0(RefreshCtx, 1);
        ctx->daemon = daemon;
        ctx->name = g_strdup(dg->name);
        dg->refreshing = TRUE;
        vt_guest_refresh_async(dg->guest, on_refreshed, ctx);
}

/*
 * A balloon target asked of a guest's backend, until the backend answers.
 * @daemon may be gone by then: it is used only while the guest is still
 * started, since dropping a guest (and so freeing the daemon) stops it.
 */
typedef struct {
        VtDaemon *daemon;
        char *name;
        guint64 bytes;
        GTask *task;         /* (nullable): a target set by hand: its caller */
        gboolean had_manual; /* with @task: the hold before it */
        guint64 had_manual_target;
} TargetCtx;

static void
target_ctx_free(TargetCtx *ctx)
{
        g_clear_object(&ctx->task);
        g_free(ctx->name);
        g_free(ctx);
}

/*
 * A target set by hand that the backend refused: the guest is not held at
 * a size it never reached. It gets back the hold it had before (none:
 * automation), as VtGuest gets back its previous target, unless a later
 * request changed the hold meanwhile. Returns where that leaves the
 * guest, for the client.
 */
static char *
undo_manual(VtDaemonGuest *dg, TargetCtx *ctx)
{
        if (!dg->manual)
                return g_strdup("it is under automatic control");
        if (dg->manual_target != ctx->bytes)
                return g_strdup_printf("a later target holds it at %.0f MiB",
                                       (double)dg->manual_target / MIB);
        dg->manual = ctx->had_manual;
        dg->manual_target = ctx->had_manual_target;
        vt_daemon_tick_soon(dg->daemon, "target by hand refused");
        if (!dg->manual) {
                g_message("guest '%s': back to automation (its target by hand was refused)",
                          dg->name);
                return g_strdup("it is back under automatic control");
        }
        g_message("guest '%s': held by hand at %.0f MiB again", dg->name,
                  (double)dg->manual_target / MIB);
        return g_strdup_printf("it stays held by hand at %.0f MiB",
                               (double)dg->manual_target / MIB);
}

static void
on_target_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        TargetCtx *ctx = user_data;
        VtGuest *guest = VT_GUEST(source);
        VtDaemonGuest *dg = NULL;

        if (vt_guest_set_target_finish(guest, result, &error)) {
                if (ctx->task != NULL)
                        g_task_return_boolean(ctx->task, TRUE);
                target_ctx_free(ctx);
                return;
        }
        if (vt_guest_is_started(guest)) {
                dg = g_hash_table_lookup(ctx->daemon->guests, ctx->name);
                if (dg != NULL && dg->guest != guest)
                        dg = NULL;
        }
        /* A guest that went away (its connection first) says so once,
         * when it is dropped; its hold goes with it. */
        if (dg == NULL || vt_guest_is_gone(guest) ||
            g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED)) {
                g_debug("guest '%s': balloon: %s", ctx->name, error->message);
                if (ctx->task != NULL)
                        g_task_return_new_error(ctx->task, VT_CONTROL_ERROR,
                                                VT_CONTROL_ERROR_GENERIC,
                                                "guest '%s' went away before its balloon target "
                                                "was taken (%s)",
                                                ctx->name, error->message);
                target_ctx_free(ctx);
                return;
        }
        g_message("guest '%s': balloon refused: %s", ctx->name, error->message);
        if (ctx->task != NULL) {
                g_autofree char *state = undo_manual(dg, ctx);
                const char *backend = ctx->daemon->backend != NULL
                                          ? vt_backend_get_name(ctx->daemon->backend)
                                          : "qmp";

                g_task_return_new_error(ctx->task, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                        "%s refused the balloon target of %.0f MiB (%s); %s",
                                        g_str_equal(backend, "qmp") ? "QEMU" : backend,
                                        (double)ctx->bytes / MIB, error->message, state);
        }
        target_ctx_free(ctx);
}

/* Asks @dg's backend for @ctx's target (@ctx: transfer full). */
static void
set_target_ctx(VtDaemon *daemon, VtDaemonGuest *dg, TargetCtx *ctx, gint64 now_us)
{
        ctx->daemon = daemon;
        ctx->name = g_strdup(dg->name);
        dg->last_change_us = now_us;
        daemon->n_actions++;
        vt_guest_set_target_async(dg->guest, ctx->bytes, now_us, on_target_set, ctx);
}

static void
set_target(VtDaemon *daemon, VtDaemonGuest *dg, guint64 bytes, gint64 now_us)
{
        TargetCtx *ctx = g_new0(TargetCtx, 1);

        ctx->bytes = bytes;
        set_target_ctx(daemon, dg, ctx, now_us);
}

static void
emit_decision(VtDaemon *daemon, VtDaemonGuest *dg, guint64 from, const VtBalloonTarget *t,
              gint64 now_us)
{
        json_object *data = json_object_new_object();
        VtAgentReader *agent = vt_guest_get_agent(dg->guest);
        const VtAgentReport *report = agent != NULL ? vt_agent_reader_get_report(agent) : NULL;

        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "action",
                               json_object_new_string(vt_balloon_action_to_string(t->action)));
        json_object_object_add(data, "from", json_object_new_int64((gint64)from));
        json_object_object_add(data, "to", json_object_new_int64((gint64)t->target_bytes));
        json_object_object_add(data, "reason", json_object_new_string(t->reason));
        /* How old the agent's latest report was: for a give on a push,
         * the time from the push to the decision. */
        json_object_object_add(data, "agent_age_ms",
                               report != NULL && report->received_us > 0
                                   ? json_object_new_int64((now_us - report->received_us) / 1000)
                                   : NULL);
        vt_daemon_emit(daemon, "DECISION", data);
}

/* Samples the host; FALSE (logged once per failure spell) when it cannot. */
static gboolean
sample_host(VtDaemon *daemon, gint64 now_us)
{
        const VtDaemonConfig *config = daemon->config;
        g_autoptr(GError) error = NULL;
        VtHostSample sample = {0};

        if (!vt_host_sample_read(config->proc_root, config->budget_cgroup, now_us, &sample,
                                 &error)) {
                if (g_strcmp0(daemon->host_error, error->message) != 0)
                        g_warning("cannot sample the host: %s", error->message);
                g_free(daemon->host_error);
                daemon->host_error = g_strdup(error->message);
                return FALSE;
        }
        g_clear_pointer(&daemon->host_error, g_free);
        daemon->host_previous = daemon->host_sample;
        vt_host_sample_to_balloon_host(&sample,
                                       daemon->has_host_sample ? &daemon->host_previous : NULL,
                                       config->budget_total, &daemon->balloon_host);
        daemon->host_sample = sample;
        daemon->has_host_sample = TRUE;
        return TRUE;
}

static void
run_balloon_policy(VtDaemon *daemon, GPtrArray *running, gint64 now_us)
{
        guint n = running->len;
        g_autofree VtBalloonGuest *snapshots = g_new0(VtBalloonGuest, MAX(n, 1));
        g_autofree VtBalloonGuestConfig *configs = g_new0(VtBalloonGuestConfig, MAX(n, 1));
        g_autofree VtBalloonTarget *targets = g_new0(VtBalloonTarget, MAX(n, 1));
        VtBalloonDecision decision = {.targets = targets};
        VtBalloonInput input;
        VtHostState before = daemon->host_state;

        for (guint i = 0; i < n; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(running, i);

                vt_guest_snapshot(dg->guest, now_us, &snapshots[i]);
                configs[i] = dg->policy;
                /* A target set by hand holds: the policy leaves the guest alone. */
                if (dg->manual)
                        configs[i].opt_out = TRUE;
        }
        input = (VtBalloonInput){.host = &daemon->balloon_host,
                                 .guests = snapshots,
                                 .configs = configs,
                                 .n_guests = n,
                                 .now_us = now_us};
        daemon->config->balloon_policy(&input, &daemon->balloon_config, &daemon->balloon_state,
                                       &decision);

        daemon->host_state = decision.host_state;
        daemon->host_free = decision.host_free;
        g_strlcpy(daemon->host_reason, decision.reason, sizeof(daemon->host_reason));
        if (decision.host_state != before && daemon->n_ticks > 0) {
                json_object *data = json_object_new_object();

                g_message("host: %s -> %s: %s", vt_host_state_to_string(before),
                          vt_host_state_to_string(decision.host_state), decision.reason);
                json_object_object_add(data, "from",
                                       json_object_new_string(vt_host_state_to_string(before)));
                json_object_object_add(
                    data, "to",
                    json_object_new_string(vt_host_state_to_string(decision.host_state)));
                json_object_object_add(data, "reason", json_object_new_string(decision.reason));
                vt_daemon_emit(daemon, "HOST_STATE", data);
        }

        for (guint i = 0; i < n; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(running, i);
                VtBalloonTarget *t = &targets[i];
                guint64 from = snapshots[i].actual_bytes;

                if (dg->manual) {
                        t->action = VT_BALLOON_ACTION_SKIP;
                        g_snprintf(t->reason, sizeof(t->reason), "held by hand at %.0f MiB",
                                   (double)dg->manual_target / MIB);
                }
                if (daemon->paused && (t->action == VT_BALLOON_ACTION_GIVE ||
                                       t->action == VT_BALLOON_ACTION_RECLAIM)) {
                        /* Shown, not done: automation is paused. */
                        g_autofree char *reason = g_strdup(t->reason);

                        g_snprintf(t->reason, sizeof(t->reason), "paused; would %s: %s",
                                   vt_balloon_action_to_string(t->action), reason);
                        t->action = VT_BALLOON_ACTION_NONE;
                        t->target_bytes = from;
                }
                dg->last = *t;
                dg->has_last = TRUE;
                vt_guest_clear_pressure(dg->guest);
                if (t->action != VT_BALLOON_ACTION_GIVE && t->action != VT_BALLOON_ACTION_RECLAIM)
                        continue;
                g_message("guest '%s': %s %.0f MiB -> %.0f MiB: %s", dg->name,
                          vt_balloon_action_to_string(t->action), (double)from / MIB,
                          (double)t->target_bytes / MIB, t->reason);
                set_target(daemon, dg, t->target_bytes, now_us);
                emit_decision(daemon, dg, from, t, now_us);
        }
}

static void
run_ksm(VtDaemon *daemon, GPtrArray *running)
{
        g_autofree VtDaemonKsmGuest *guests = g_new0(VtDaemonKsmGuest, MAX(running->len, 1));
        g_autoptr(GError) error = NULL;
        VtKsmHost host;
        gboolean changed = FALSE;

        vt_host_sample_to_ksm_host(&daemon->host_sample, g_get_num_processors(), &host);

        /* Under a budget the guests' share of the machine is what is short. */
        if (daemon->balloon_host.budget_limit > 0) {
                gint64 free = MAX(daemon->host_free, 0);

                host.mem_total = MIN(host.mem_total, daemon->balloon_host.budget_limit);
                host.mem_available = MIN(host.mem_available, (guint64)free);
                host.mem_free = MIN(host.mem_free, host.mem_available);
        }
        for (guint i = 0; i < running->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(running, i);

                guests[i] = (VtDaemonKsmGuest){
                    .name = dg->name,
                    .pid = vt_guest_get_pid(dg->guest),
                    .mergeable_bytes = vt_guest_get_max_bytes(dg->guest),
                    .opt_out = dg->ksm_opt_out,
                };
        }
        if (!vt_daemon_ksm_step(daemon->ksm, &host, guests, running->len, !daemon->paused, &changed,
                                &error)) {
                if (g_strcmp0(daemon->ksm_error, error->message) != 0)
                        g_warning("KSM: %s", error->message);
                g_free(daemon->ksm_error);
                daemon->ksm_error = g_strdup(error->message);
                return;
        }
        g_clear_pointer(&daemon->ksm_error, g_free);
        for (guint i = 0; i < running->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(running, i);

                dg->ksm_merging_pages = guests[i].ret_merging_pages;
                dg->ksm_profit = guests[i].ret_profit;
        }
        if (changed) {
                const VtKsmDecision *d = vt_daemon_ksm_get_decision(daemon->ksm);
                json_object *data = json_object_new_object();

                g_message("KSM: run=%u pages_to_scan=%" G_GUINT64_FORMAT
                          " sleep_millisecs=%" G_GUINT64_FORMAT ": %s",
                          d->run, d->pages_to_scan, d->sleep_millisecs, d->reason);
                json_object_object_add(data, "run", json_object_new_int(d->run));
                json_object_object_add(data, "pages_to_scan",
                                       json_object_new_int64((gint64)d->pages_to_scan));
                json_object_object_add(data, "sleep_millisecs",
                                       json_object_new_int64((gint64)d->sleep_millisecs));
                json_object_object_add(data, "reason", json_object_new_string(d->reason));
                vt_daemon_emit(daemon, "KSM", data);
        }
}

/*
 * @full: a periodic tick: also refresh the guests' statistics, run the KSM
 * step (its rates want whole intervals) and look for missed guests. A tick
 * called for by an event only decides on what is known: the push or the
 * balloon event that called for it is already in.
 */
static void
daemon_tick(VtDaemon *daemon, const char *why, gboolean full)
{
        gint64 now_us = g_get_monotonic_time();
        g_autoptr(GPtrArray) guests = vt_daemon_sorted_guests(daemon);
        g_autoptr(GPtrArray) running = g_ptr_array_new();
        gboolean have_host;

        if (why != NULL)
                g_debug("tick: %s", why);

        /* Guests lost since the last tick go now, outside their signals. */
        for (guint i = 0; i < guests->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(guests, i);

                if (dg->state == VT_DAEMON_GUEST_GONE)
                        drop_guest(daemon, dg, "its QEMU went away");
                else if (dg->state == VT_DAEMON_GUEST_RUNNING)
                        g_ptr_array_add(running, dg);
        }

        have_host = sample_host(daemon, now_us);
        if (have_host)
                run_balloon_policy(daemon, running, now_us);
        if (full && have_host && daemon->ksm != NULL)
                run_ksm(daemon, running);

        if (full) {
                for (guint i = 0; i < running->len; i++)
                        refresh_guest(daemon, g_ptr_array_index(running, i));
                /* The directory monitor finds guests as they come; a rescan
                 * now and then catches what it missed. */
                if (daemon->backend != NULL && ++daemon->n_full_ticks % RESCAN_TICKS == 0)
                        vt_backend_rescan(daemon->backend);
        }

        daemon->n_ticks++;
        daemon->tick_cost_us = g_get_monotonic_time() - now_us;
}

/**
 * vt_daemon_set_paused:
 * @daemon: the daemon
 * @paused: stop (or start again) changing balloons and KSM
 */
void
vt_daemon_set_paused(VtDaemon *daemon, gboolean paused)
{
        json_object *data;

        if (daemon->paused == paused)
                return;
        daemon->paused = paused;
        g_message("automation %s (control socket)", paused ? "paused" : "resumed");
        data = json_object_new_object();
        json_object_object_add(data, "paused", json_object_new_boolean(paused));
        vt_daemon_emit(daemon, "AUTOMATION", data);
        if (!paused)
                vt_daemon_tick_soon(daemon, "resumed");
}

/**
 * vt_daemon_set_manual_async:
 * @daemon: the daemon
 * @dg: a guest
 * @bytes: the balloon size to hold it at (clamped to 64 MiB .. its maximum)
 * @callback: called once the backend took the target, or refused it
 * @user_data: for @callback
 *
 * Holds the guest at @bytes (automation leaves it alone) and asks its
 * backend for that size at once, logged and sent as a DECISION. If the
 * backend refuses, the guest is not left held at a size it never reached:
 * it gets back the hold it had before, or automation. Finish with
 * vt_daemon_set_manual_finish().
 */
void
vt_daemon_set_manual_async(VtDaemon *daemon, VtDaemonGuest *dg, guint64 bytes,
                           GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
        guint64 max = vt_guest_get_max_bytes(dg->guest);
        guint64 from = vt_guest_get_actual_bytes(dg->guest);
        gint64 now_us = g_get_monotonic_time();
        VtBalloonTarget t = {.action = VT_BALLOON_ACTION_NONE};
        TargetCtx *ctx;

        g_task_set_source_tag(task, vt_daemon_set_manual_async);
        if (dg->state != VT_DAEMON_GUEST_RUNNING) {
                g_task_return_new_error(task, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                        "guest '%s' is not running", dg->name);
                return;
        }
        if (!vt_guest_has_balloon(dg->guest)) {
                g_task_return_new_error(task, VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                        "guest '%s' has no active balloon", dg->name);
                return;
        }
        bytes = CLAMP(bytes, MIN(G_GUINT64_CONSTANT(64) << 20, max), max);
        g_task_set_task_data(task, g_memdup2(&bytes, sizeof(bytes)), g_free);
        ctx = g_new0(TargetCtx, 1);
        ctx->bytes = bytes;
        ctx->task = g_steal_pointer(&task);
        ctx->had_manual = dg->manual;
        ctx->had_manual_target = dg->manual_target;
        dg->manual = TRUE;
        dg->manual_target = bytes;
        t.action = bytes >= from ? VT_BALLOON_ACTION_GIVE : VT_BALLOON_ACTION_RECLAIM;
        t.target_bytes = bytes;
        g_snprintf(t.reason, sizeof(t.reason), "set by hand to %.0f MiB", (double)bytes / MIB);
        g_message("guest '%s': %s %.0f MiB -> %.0f MiB: %s", dg->name,
                  vt_balloon_action_to_string(t.action), (double)from / MIB, (double)bytes / MIB,
                  t.reason);
        dg->last = t;
        dg->has_last = TRUE;
        set_target_ctx(daemon, dg, ctx, now_us);
        emit_decision(daemon, dg, from, &t, now_us);
}

/**
 * vt_daemon_set_manual_finish:
 * @result: the result passed to the callback
 * @ret_target: (out) (optional): the target asked for, after clamping
 * @error: %VT_CONTROL_ERROR_GENERIC: the guest is not running, has no
 *     balloon, went away, or its backend refused (the message says why
 *     and where the guest is left)
 *
 * Returns: %TRUE once the backend took the target
 */
gboolean
vt_daemon_set_manual_finish(GAsyncResult *result, guint64 *ret_target, GError **error)
{
        g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
        g_return_val_if_fail(g_async_result_is_tagged(result, vt_daemon_set_manual_async), FALSE);

        if (!g_task_propagate_boolean(G_TASK(result), error))
                return FALSE;
        if (ret_target != NULL)
                *ret_target = *(const guint64 *)g_task_get_task_data(G_TASK(result));
        return TRUE;
}

/* Hands a guest held by hand back to automation. */
void
vt_daemon_clear_manual(VtDaemon *daemon, VtDaemonGuest *dg)
{
        if (!dg->manual)
                return;
        dg->manual = FALSE;
        g_message("guest '%s': back to automation (control socket)", dg->name);
        vt_daemon_tick_soon(daemon, "guest released");
}

static void
on_host_pressure(VtPsiTrigger *trigger, const GError *error, gpointer user_data)
{
        (void)trigger;
        if (error != NULL) {
                g_warning("host PSI trigger: %s", error->message);
                return;
        }
        vt_daemon_tick_soon(user_data, "host PSI trigger");
}

/**
 * vt_daemon_new:
 * @config: (transfer full): the configuration
 * @error: return location for a #GError
 *
 * Creates the daemon: its control socket, backend and KSM step. Nothing
 * runs before vt_daemon_start().
 *
 * Returns: (transfer full): the daemon, or %NULL with @error set
 */
VtDaemon *
vt_daemon_new(VtDaemonConfig *config, GError **error)
{
        g_autoptr(VtDaemon) daemon = g_new0(VtDaemon, 1);

        g_return_val_if_fail(config != NULL, NULL);

        daemon->config = config;
        daemon->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, daemon_guest_free);
        daemon->balloon_config = config->balloon;

        if (config->ksm_enabled) {
                g_autoptr(GError) ksm_error = NULL;

                daemon->ksm = vt_daemon_ksm_new(config->ksm_sysfs_root, config->proc_root,
                                                config->ksm_tuner, &config->ksm, &ksm_error);
                if (daemon->ksm == NULL)
                        g_message("KSM not managed: %s", ksm_error->message);
        }
        return g_steal_pointer(&daemon);
}

static void
add_static_guests(const VtDaemonConfig *config, VtBackendQmp *backend)
{
        for (guint i = 0; i < config->guests->len; i++) {
                const VtDaemonGuestConfig *gc = g_ptr_array_index(config->guests, i);

                if (gc->qmp_path != NULL)
                        vt_backend_qmp_add_static(backend, gc->name, gc->qmp_path, gc->agent_path);
        }
}

/* The backend the configuration names. */
static VtBackend *
new_backend(const VtDaemonConfig *config, GError **error)
{
        VtBackend *backend;

        if (config->backend == VT_DAEMON_BACKEND_LIBVIRT) {
                /* [guest:NAME] groups give policy by domain name; their
                 * QMP sockets are the QMP-direct backend's. */
                for (guint i = 0; i < config->guests->len; i++) {
                        const VtDaemonGuestConfig *gc = g_ptr_array_index(config->guests, i);

                        if (gc->qmp_path != NULL)
                                g_warning("%s: [guest:%s]: qmp-socket is ignored with backend "
                                          "libvirt",
                                          config->origin, gc->name);
                }
                return vt_backend_libvirt_new(config->libvirt_uri, config->stats_interval_s);
        }
        /* The directory guests put their sockets in: made if missing, as
         * the systemd unit's RuntimeDirectory would. */
        if (config->qmp_dir != NULL && !g_file_test(config->qmp_dir, G_FILE_TEST_EXISTS) &&
            g_mkdir_with_parents(config->qmp_dir, 0755) < 0) {
                int errsv = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                            "creating the guest socket directory '%s': %s", config->qmp_dir,
                            g_strerror(errsv));
                return NULL;
        }
        backend = vt_backend_qmp_new(config->qmp_dir, config->stats_interval_s);
        add_static_guests(config, VT_BACKEND_QMP(backend));
        return backend;
}

/* libvirtd came or went: logged, and told to the control socket. */
static void
on_backend_connection(VtBackend *backend, gboolean connected, const char *message,
                      gpointer user_data)
{
        VtDaemon *daemon = user_data;
        json_object *data = json_object_new_object();

        if (connected)
                g_message("%s", message);
        else
                g_warning("%s", message);
        json_object_object_add(data, "backend",
                               json_object_new_string(vt_backend_get_name(backend)));
        json_object_object_add(data, "connected", json_object_new_boolean(connected));
        json_object_object_add(data, "message", json_object_new_string(message));
        vt_daemon_emit(daemon, "BACKEND", data);
        if (connected)
                vt_daemon_tick_soon(daemon, "backend connected");
}

/**
 * vt_daemon_start:
 * @daemon: the daemon
 * @error: return location for a #GError
 *
 * Opens the control socket, starts the backend and the ticks.
 *
 * Returns: %FALSE with @error when the control socket or the backend
 *     cannot be set up
 */
gboolean
vt_daemon_start(VtDaemon *daemon, GError **error)
{
        const VtDaemonConfig *config = daemon->config;
        guint interval_ms;

        g_return_val_if_fail(daemon != NULL && !daemon->started, FALSE);

        daemon->control =
            vt_control_server_new(config->control_socket, config->control_socket_mode, error);
        if (daemon->control == NULL)
                return FALSE;
        vt_daemon_register_commands(daemon);

        daemon->backend = new_backend(config, error);
        if (daemon->backend == NULL)
                return FALSE;
        g_signal_connect(daemon->backend, "guest-added", G_CALLBACK(on_guest_added), daemon);
        g_signal_connect(daemon->backend, "guest-removed", G_CALLBACK(on_guest_removed), daemon);
        g_signal_connect(daemon->backend, "connection-changed", G_CALLBACK(on_backend_connection),
                         daemon);
        if (!vt_backend_start(daemon->backend, error))
                return FALSE;

        if (config->host_psi_trigger != NULL && config->host_psi_trigger[0] != '\0') {
                g_autoptr(GError) psi_error = NULL;
                g_autofree char *path =
                    g_build_filename(config->proc_root, "pressure", "memory", NULL);

                daemon->psi = vt_psi_trigger_new(path, config->host_psi_trigger, on_host_pressure,
                                                 daemon, &psi_error);
                if (daemon->psi == NULL)
                        g_message("host PSI trigger off: %s", psi_error->message);
        }

        daemon->started = TRUE;
        daemon->started_us = g_get_monotonic_time();
        interval_ms = (guint)MAX(config->tick_interval_us / 1000, 10);
        daemon->tick_source = g_timeout_add(interval_ms, on_tick, daemon);
        daemon_tick(daemon, "start", TRUE);
        g_message("vmtided started: backend %s, control socket '%s', tick every %u ms%s",
                  vt_backend_get_name(daemon->backend), config->control_socket, interval_ms,
                  daemon->ksm != NULL ? ", KSM managed" : "");
        return TRUE;
}

/**
 * vt_daemon_stop:
 * @daemon: the daemon
 *
 * Stops ticking and lets go of the guests. Balloons stay where they are
 * and KSM keeps its settings; the next vmtided picks up from there.
 */
void
vt_daemon_stop(VtDaemon *daemon)
{
        if (daemon == NULL || !daemon->started)
                return;
        daemon->started = FALSE;
        g_clear_handle_id(&daemon->tick_source, g_source_remove);
        g_clear_handle_id(&daemon->soon_source, g_source_remove);
        g_clear_pointer(&daemon->soon_why, g_free);
        if (daemon->backend != NULL) {
                g_signal_handlers_disconnect_by_data(daemon->backend, daemon);
                vt_backend_stop(daemon->backend);
        }
        g_hash_table_remove_all(daemon->guests);
        g_clear_pointer(&daemon->psi, vt_psi_trigger_free);
}

void
vt_daemon_free(VtDaemon *daemon)
{
        if (daemon == NULL)
                return;
        vt_daemon_stop(daemon);
        g_clear_pointer(&daemon->guests, g_hash_table_unref);
        g_clear_object(&daemon->backend);
        g_clear_pointer(&daemon->control, vt_control_server_free);
        g_clear_pointer(&daemon->ksm, vt_daemon_ksm_free);
        g_clear_pointer(&daemon->config, vt_daemon_config_free);
        g_free(daemon->ksm_error);
        g_free(daemon->host_error);
        g_free(daemon->soon_why);
        g_free(daemon);
}
