/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's tick: sample the host, decide the balloons and KSM, apply, tell. */

/*
 * Theory of operation: see host/daemon.c for the whole tick. Here, each
 * step in order: the host sample (logged once per failure spell), the
 * balloon decision (pure, through vt_balloon_decide(): guests held by hand
 * and the pause are its inputs, and what it decides is applied
 * unchanged), the KSM step, and the guests' refreshes for the next tick.
 */
#include "host/daemon-metrics.h"
#include "host/daemon-private.h"
#include "host/daemon-recorder.h"

/* Periodic ticks between rescans of the backend. */
#define RESCAN_TICKS 5

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

/* The host state the decision was made in: logged and told when it changed. */
static void
host_state_update(VtDaemon *daemon, VtHostState before, const VtBalloonDecision *decision)
{
        json_object *data;

        daemon->host_state = decision->host_state;
        daemon->host_free = decision->host_free;
        g_strlcpy(daemon->host_reason, decision->reason, sizeof(daemon->host_reason));
        if (decision->host_state == before || daemon->n_ticks == 0)
                return;
        vt_daemon_action(daemon, G_LOG_LEVEL_MESSAGE, NULL, "host-state", VT_DAEMON_LOG_NO_BYTES,
                         VT_DAEMON_LOG_NO_BYTES, decision->reason, "host: %s -> %s: %s",
                         vt_host_state_to_string(before),
                         vt_host_state_to_string(decision->host_state), decision->reason);
        data = json_object_new_object();
        json_object_object_add(data, "from",
                               json_object_new_string(vt_host_state_to_string(before)));
        json_object_object_add(
            data, "to", json_object_new_string(vt_host_state_to_string(decision->host_state)));
        json_object_object_add(data, "reason", json_object_new_string(decision->reason));
        vt_daemon_emit(daemon, VT_CONTROL_EVENT_HOST_STATE, data);
}

/*
 * The balloon decision: the guests' snapshots, their policies and holds,
 * and the pause go in; vt_balloon_decide() runs the configured policy; each
 * GIVE and RECLAIM that comes out is applied as it stands.
 */
static void
run_balloon_policy(VtDaemon *daemon, GPtrArray *running, const char *why, gint64 now_us)
{
        guint n = running->len;
        g_autofree VtBalloonGuest *snapshots = g_new0(VtBalloonGuest, MAX(n, 1));
        g_autofree VtBalloonGuestConfig *configs = g_new0(VtBalloonGuestConfig, MAX(n, 1));
        g_autofree VtBalloonTarget *targets = g_new0(VtBalloonTarget, MAX(n, 1));
        VtBalloonDecision decision = {.targets = targets};
        VtBalloonInput input;
        VtHostState before = daemon->host_state;
        VtBalloonState state_before = daemon->balloon_state;

        for (guint i = 0; i < n; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(running, i);

                vt_guest_snapshot(dg->guest, now_us, &snapshots[i]);
                configs[i] = dg->policy;
                configs[i].held = dg->manual;
                configs[i].held_bytes = dg->manual_target;
                /* A moving guest keeps its balloon: the move sends what it holds. */
                if (!dg->manual && vt_daemon_migrate_is_moving(daemon, dg)) {
                        configs[i].held = TRUE;
                        configs[i].held_bytes = snapshots[i].actual_bytes;
                }
        }
        input = (VtBalloonInput){.host = &daemon->balloon_host,
                                 .guests = snapshots,
                                 .configs = configs,
                                 .n_guests = n,
                                 .now_us = now_us,
                                 .paused = daemon->paused};
        vt_balloon_decide(daemon->config->balloon_policy, &input, &daemon->balloon_config,
                          &daemon->balloon_state, &decision);
        vt_daemon_recorder_tick(daemon, why, &input, &state_before, &decision);
        host_state_update(daemon, before, &decision);

        for (guint i = 0; i < n; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(running, i);
                const VtBalloonTarget *t = &targets[i];

                dg->last = *t;
                dg->has_last = TRUE;
                vt_guest_clear_pressure(dg->guest);
                if (t->action == VT_BALLOON_ACTION_GIVE || t->action == VT_BALLOON_ACTION_RECLAIM)
                        vt_daemon_apply_target(daemon, dg, snapshots[i].actual_bytes, t, now_us);
        }
}

static void
run_ksm(VtDaemon *daemon, GPtrArray *running)
{
        g_autofree VtKsmStepGuest *guests = g_new0(VtKsmStepGuest, MAX(running->len, 1));
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

                guests[i] = (VtKsmStepGuest){
                    .name = dg->name,
                    .pid = vt_guest_get_pid(dg->guest),
                    .mergeable_bytes = vt_guest_get_max_bytes(dg->guest),
                    .opt_out = dg->ksm_opt_out,
                };
        }
        if (!vt_ksm_step_run(daemon->ksm, &host, guests, running->len, !daemon->paused, &changed,
                             &error)) {
                if (g_strcmp0(daemon->ksm_error, error->message) != 0)
                        g_warning("KSM: %s", error->message);
                g_free(daemon->ksm_error);
                daemon->ksm_error = g_strdup(error->message);
                return;
        }
        g_clear_pointer(&daemon->ksm_error, g_free);
        vt_daemon_recorder_ksm(daemon, &host, guests, running->len, !daemon->paused);
        for (guint i = 0; i < running->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(running, i);

                dg->ksm_merging_pages = guests[i].ret_merging_pages;
                dg->ksm_profit = guests[i].ret_profit;
        }
        if (changed) {
                const VtKsmDecision *d = vt_ksm_step_get_decision(daemon->ksm);
                json_object *data = json_object_new_object();

                vt_daemon_action(daemon, G_LOG_LEVEL_MESSAGE, NULL, "ksm", VT_DAEMON_LOG_NO_BYTES,
                                 VT_DAEMON_LOG_NO_BYTES, d->reason,
                                 "KSM: run=%u pages_to_scan=%" G_GUINT64_FORMAT
                                 " sleep_millisecs=%" G_GUINT64_FORMAT ": %s",
                                 d->run, d->pages_to_scan, d->sleep_millisecs, d->reason);
                json_object_object_add(data, "run", json_object_new_int(d->run));
                json_object_object_add(data, "pages_to_scan",
                                       json_object_new_int64((gint64)d->pages_to_scan));
                json_object_object_add(data, "sleep_millisecs",
                                       json_object_new_int64((gint64)d->sleep_millisecs));
                json_object_object_add(data, "reason", json_object_new_string(d->reason));
                vt_daemon_emit(daemon, VT_CONTROL_EVENT_KSM, data);
        }
}

/*
 * @full: a periodic tick: also refresh the guests' statistics, run the KSM
 * step (its rates want whole intervals) and look for missed guests. A tick
 * called for by an event only decides on what is known: the push or the
 * balloon event that called for it is already in.
 */
void
vt_daemon_tick(VtDaemon *daemon, const char *why, gboolean full)
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

                if (dg->state == VT_DAEMON_GUEST_GONE) {
                        /* Not while its move runs: MIGRATION_FINISHED first. */
                        if (!vt_daemon_migrate_is_moving(daemon, dg))
                                vt_daemon_drop_guest(daemon, dg, "it went away");
                } else if (dg->state == VT_DAEMON_GUEST_RUNNING)
                        g_ptr_array_add(running, dg);
        }

        have_host = sample_host(daemon, now_us);
        if (have_host)
                run_balloon_policy(daemon, running, why, now_us);
        if (full && have_host && daemon->ksm != NULL)
                run_ksm(daemon, running);
        if (have_host)
                vt_daemon_migrate_step(daemon, running, full, now_us);

        if (full) {
                for (guint i = 0; i < running->len; i++)
                        vt_daemon_refresh_guest(daemon, g_ptr_array_index(running, i));
                /* The directory monitor finds guests as they come; a rescan
                 * now and then catches what it missed. */
                if (daemon->backend != NULL && ++daemon->n_full_ticks % RESCAN_TICKS == 0)
                        vt_backend_rescan(daemon->backend);
        }

        vt_daemon_recorder_flush(daemon);
        daemon->n_ticks++;
        daemon->tick_cost_us = g_get_monotonic_time() - now_us;
        vt_daemon_metrics_observe_tick(daemon, daemon->tick_cost_us);
}

static gboolean
on_tick_soon(gpointer data)
{
        VtDaemon *daemon = data;
        g_autofree char *why = g_steal_pointer(&daemon->soon_why);

        daemon->soon_source = 0;
        vt_daemon_tick(daemon, why, FALSE);
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
        vt_daemon_tick(data, NULL, TRUE);
        return G_SOURCE_CONTINUE;
}

/**
 * vt_daemon_ticks_start:
 * @daemon: the daemon, started
 * @interval_ms: the tick interval
 *
 * Ticks every @interval_ms from now on, and once at once.
 */
void
vt_daemon_ticks_start(VtDaemon *daemon, guint interval_ms)
{
        daemon->tick_source = g_timeout_add(interval_ms, on_tick, daemon);
        vt_daemon_tick(daemon, "start", TRUE);
}
