/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's guest table: guests as the backend finds and loses them, and their signals. */

/*
 * Theory of operation
 *
 * The backend hands each guest it finds over as a VtGuest ("guest-added");
 * the daemon keeps it in a table by name (VtDaemonGuest), with its policy
 * (a domain's own, else the configuration's `[guest:NAME]`, else the
 * defaults) and its virtio-mem strategy (`memdev-strategy` of its group,
 * else of `[policy]`), and starts it. It is announced (GUEST_ADDED) once
 * started. Its signals call for a tick when something the policy reads
 * has changed (a pressure push, a balloon that moved, memory plugged or
 * unplugged, a new policy) and are logged once each; a virtio-mem change
 * is also told to the control socket (MEMDEV). A guest lost ("gone", or
 * removed by its backend) is dropped from the table, outside its own
 * signal emission, and told to the control socket (GUEST_REMOVED) if it
 * had been announced.
 */
#include "host/daemon-metrics.h"
#include "host/daemon-private.h"
#include "host/daemon-recorder.h"

#include <string.h>

#include "common/vt-size.h"
#include "host/control/control-memdev.h"

static void on_guest_memdev_changed(VtGuest *guest, guint64 plugged, gpointer user_data);

/* The table's free function: lets go of the guest and its signals. */
void
vt_daemon_guest_free(gpointer data)
{
        VtDaemonGuest *dg = data;

        for (guint i = 0; i < G_N_ELEMENTS(dg->handlers); i++)
                g_clear_signal_handler(&dg->handlers[i], dg->guest);
        /* Connected beside dg->handlers (all its slots are taken). */
        g_signal_handlers_disconnect_by_func(dg->guest, G_CALLBACK(on_guest_memdev_changed), dg);
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
void
vt_daemon_drop_guest(VtDaemon *daemon, VtDaemonGuest *dg, const char *reason)
{
        /* A guest whose move runs stays until the move ended and was told
         * (daemon-migrate-move.c asks for a tick then). */
        if (vt_daemon_migrate_is_moving(daemon, dg)) {
                dg->state = VT_DAEMON_GUEST_GONE;
                if (dg->gone_reason == NULL)
                        dg->gone_reason = g_strdup(reason);
                return;
        }
        if (dg->gone_reason != NULL)
                reason = dg->gone_reason;
        if (dg->announced) {
                json_object *data = json_object_new_object();

                vt_daemon_action(daemon, G_LOG_LEVEL_MESSAGE, dg->name, "drop",
                                 VT_DAEMON_LOG_NO_BYTES, VT_DAEMON_LOG_NO_BYTES, reason,
                                 "guest '%s': dropped: %s", dg->name, reason);
                json_object_object_add(data, "guest", json_object_new_string(dg->name));
                json_object_object_add(data, "reason", json_object_new_string(reason));
                vt_daemon_emit(daemon, VT_CONTROL_EVENT_GUEST_REMOVED, data);
                vt_daemon_recorder_control(daemon, VT_RECORDER_CONTROL_GUEST_REMOVED, dg->name, 0,
                                           reason);
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
        vt_daemon_metrics_count_push(dg->daemon, dg->name);
        vt_daemon_tick_soon(dg->daemon, "agent pressure push");
}

static void
on_guest_balloon_changed(VtGuest *guest, guint64 actual, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;

        (void)guest;
        g_debug("guest '%s': balloon at %s", dg->name, VT_SIZE_STR(actual, VT_SIZE_STYLE_MIB));
        vt_daemon_tick_soon(dg->daemon, "balloon changed");
}

static void
on_guest_move_done(VtGuest *guest, guint64 actual, gint64 elapsed_us, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;
        json_object *data = json_object_new_object();

        (void)guest;
        g_message("guest '%s': balloon reached %s in %" G_GINT64_FORMAT " ms", dg->name,
                  VT_SIZE_STR(actual, VT_SIZE_STYLE_MIB), elapsed_us / 1000);
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "actual", json_object_new_int64((gint64)actual));
        json_object_object_add(data, "ms", json_object_new_int64(elapsed_us / 1000));
        vt_daemon_emit(dg->daemon, VT_CONTROL_EVENT_BALLOON_DONE, data);
        vt_daemon_recorder_move(dg->daemon, dg->name, VT_RECORDER_MOVE_DONE, actual,
                                vt_guest_get_target_bytes(guest), elapsed_us, NULL);
}

static void
on_guest_move_stuck(VtGuest *guest, guint64 actual, guint64 target, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;
        json_object *data = json_object_new_object();

        (void)guest;
        vt_daemon_action(dg->daemon, G_LOG_LEVEL_WARNING, dg->name, "stuck", (gint64)actual,
                         (gint64)target, "the balloon stopped short of its target",
                         "guest '%s': balloon stuck at %s (asked for %s): left alone", dg->name,
                         VT_SIZE_STR(actual, VT_SIZE_STYLE_MIB),
                         VT_SIZE_STR(target, VT_SIZE_STYLE_MIB));
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        json_object_object_add(data, "actual", json_object_new_int64((gint64)actual));
        json_object_object_add(data, "target", json_object_new_int64((gint64)target));
        vt_daemon_emit(dg->daemon, VT_CONTROL_EVENT_BALLOON_STUCK, data);
        vt_daemon_recorder_move(dg->daemon, dg->name, VT_RECORDER_MOVE_STUCK, actual, target, 0,
                                NULL);
}

/* The guest's virtio-mem device plugged or unplugged memory (or came or
 * went): told to the control socket once the guest is announced, and the
 * policy looks again. What vmtided asked for is logged where it asks. */
static void
on_guest_memdev_changed(VtGuest *guest, guint64 plugged, gpointer user_data)
{
        VtDaemonGuest *dg = user_data;
        const VtGuestMemdev *m = vt_guest_get_memdev(guest);
        VtControlMemdev wire;
        json_object *data;

        g_debug("guest '%s': virtio-mem %s", dg->name,
                m->present ? VT_SIZE_STR(plugged, VT_SIZE_STYLE_MIB) : "gone");
        vt_daemon_tick_soon(dg->daemon, "virtio-mem changed");
        if (!dg->announced)
                return;
        wire = (VtControlMemdev){.present = m->present,
                                 .id = m->id,
                                 .plugged = m->plugged_bytes,
                                 .requested = m->requested_bytes,
                                 .max = m->max_bytes};
        data = vt_control_memdev_event_new(dg->name, &wire);
        vt_daemon_emit(dg->daemon, VT_CONTROL_EVENT_MEMDEV, data);
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

/* ", virtio-mem 'ID' 256 MiB plugged of 512 MiB (virtio-mem-first)", or "". */
static char *
describe_memdev(VtGuest *guest)
{
        const VtGuestMemdev *m = vt_guest_get_memdev(guest);

        if (m == NULL || !m->present)
                return g_strdup("");
        return g_strdup_printf(", virtio-mem '%s' %s plugged of %s (%s)", m->id,
                               VT_SIZE_STR(m->plugged_bytes, VT_SIZE_STYLE_MIB),
                               VT_SIZE_STR(m->max_bytes, VT_SIZE_STYLE_MIB),
                               vt_memdev_strategy_name(vt_guest_get_memdev_strategy(guest)));
}

static void
on_guest_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtDaemon *daemon = user_data;
        VtGuest *guest = VT_GUEST(source);
        g_autoptr(GError) error = NULL;
        g_autofree char *memdev = NULL;
        VtDaemonGuest *dg;
        json_object *data;

        dg = g_hash_table_lookup(daemon->guests, vt_guest_get_name(guest));
        if (!vt_guest_start_finish(guest, result, &error)) {
                if (dg != NULL && dg->guest == guest) {
                        g_autofree char *reason =
                            g_strdup_printf("could not start: %s", error->message);

                        vt_daemon_drop_guest(daemon, dg, reason);
                }
                return;
        }
        if (dg == NULL || dg->guest != guest)
                return;
        dg->state = VT_DAEMON_GUEST_RUNNING;
        dg->announced = TRUE;
        memdev = describe_memdev(guest);
        g_message("guest '%s': managed: pid %d, %s of %s, %s%s", dg->name,
                  (int)vt_guest_get_pid(guest),
                  VT_SIZE_STR(vt_guest_get_actual_bytes(guest), VT_SIZE_STYLE_MIB),
                  VT_SIZE_STR(vt_guest_get_max_bytes(guest), VT_SIZE_STYLE_MIB),
                  vt_guest_has_balloon(guest) ? "balloon" : "no balloon: left alone", memdev);
        data = json_object_new_object();
        json_object_object_add(data, "guest", json_object_new_string(dg->name));
        vt_daemon_emit(daemon, VT_CONTROL_EVENT_GUEST_ADDED, data);
        vt_daemon_recorder_control(daemon, VT_RECORDER_CONTROL_GUEST_ADDED, dg->name,
                                   vt_guest_get_max_bytes(guest), NULL);
        vt_daemon_tick_soon(daemon, "guest added");
}

static void
apply_guest_config(VtDaemon *daemon, VtDaemonGuest *dg)
{
        const VtDaemonGuestConfig *gc = vt_daemon_config_find_guest(daemon->config, dg->name);

        dg->policy = (VtBalloonGuestConfig){0};
        dg->ksm_opt_out = FALSE;
        dg->policy_source = "defaults";
        dg->migrate_opt_out = gc != NULL && gc->migrate_opt_out;
        dg->migrate_pinned = gc != NULL && gc->migrate_pinned;
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
        g_message("guest '%s': policy from its %s: min %s, max %s, shares %u%s%s", dg->name,
                  dg->policy_source, VT_SIZE_STR(dg->policy.min_bytes, VT_SIZE_STYLE_MIB),
                  VT_SIZE_STR(dg->policy.max_bytes, VT_SIZE_STYLE_MIB),
                  vt_balloon_guest_config_get_shares(&dg->policy),
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
        vt_guest_set_memdev_strategy(guest,
                                     vt_daemon_config_get_memdev_strategy(daemon->config, name));
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
        g_signal_connect(guest, "memdev-changed", G_CALLBACK(on_guest_memdev_changed), dg);
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

        if (dg != NULL && dg->guest == guest) {
                g_autofree char *reason =
                    g_strdup_printf("removed by the %s backend", vt_backend_get_name(backend));

                vt_daemon_drop_guest(daemon, dg, reason);
        }
}

/**
 * vt_daemon_guests_watch:
 * @daemon: the daemon
 * @backend: its backend
 *
 * Follows the guests @backend finds and loses.
 */
void
vt_daemon_guests_watch(VtDaemon *daemon, VtBackend *backend)
{
        g_signal_connect(backend, "guest-added", G_CALLBACK(on_guest_added), daemon);
        g_signal_connect(backend, "guest-removed", G_CALLBACK(on_guest_removed), daemon);
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
void
vt_daemon_refresh_guest(VtDaemon *daemon, VtDaemonGuest *dg)
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
