/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's control loop: sample, decide, apply, tell. */

/*
 * Theory of operation
 *
 * The backend finds guests (a directory of QMP sockets, guests listed in
 * the configuration, or the domains of a libvirt connection) and hands each over as a
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
 *   3. runs the balloon policy, which is pure, through vt_balloon_decide()
 *      (guests held by hand and the pause are its inputs) and applies its
 *      targets unchanged; each move is logged once with its reason and
 *      sent as a DECISION event on the control socket;
 *   4. runs the KSM step (ksm/ tuner) on the same host sample;
 *   5. runs the migration step (daemon-migrate.c): the planner's
 *      decision, told when new, acted on when `[migrate] enabled`;
 *   6. every fifth time, asks the backend to look for guests its directory
 *      monitor missed.
 * A tick called for by an event runs 1, 3 and 5 only: what called for it is
 * already in, and the KSM tuner's rates want whole intervals. A guest
 * still answering its last refresh (a hung QEMU) is not asked again.
 * While paused, ticks sample and decide, and move nothing: each guest's
 * reason says what would have been done ("paused; would give: ...").
 *
 * The files: this one starts and stops the daemon and its backend;
 * daemon-guests.c keeps the guest table, daemon-tick.c runs the tick,
 * daemon-target.c asks the backend for the targets (the policy's and
 * those set by hand), daemon-commands.c answers the control socket,
 * daemon-migrate*.c and daemon-peers.c plan, run and answer for live
 * migrations.
 *
 * Guests are never reset: a started guest keeps the balloon size it had,
 * so a vmtided killed and restarted picks up where it was. A guest that
 * goes away is dropped (GUEST_REMOVED) and its moves forgotten.
 */
#include "host/daemon-metrics.h"
#include "host/daemon-private.h"
#include "host/daemon-recorder.h"

#include <errno.h>

#include "host/libvirt/libvirt-backend.h"
#include "host/qmp-direct/qmp-direct-backend.h"

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
        vt_daemon_recorder_control(daemon,
                                   paused ? VT_RECORDER_CONTROL_PAUSE : VT_RECORDER_CONTROL_RESUME,
                                   NULL, 0, "control socket");
        data = json_object_new_object();
        json_object_object_add(data, "paused", json_object_new_boolean(paused));
        vt_daemon_emit(daemon, VT_CONTROL_EVENT_AUTOMATION, data);
        if (!paused)
                vt_daemon_tick_soon(daemon, "resumed");
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
        daemon->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, vt_daemon_guest_free);
        daemon->balloon_config = config->balloon;
        daemon->migrate = vt_daemon_migrate_new(daemon);

        if (config->ksm_enabled) {
                g_autoptr(GError) ksm_error = NULL;

                daemon->ksm = vt_ksm_step_new(config->ksm_sysfs_root, config->proc_root,
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
        vt_backend_qmp_set_quit_after_migration(VT_BACKEND_QMP(backend),
                                                config->migrate.quit_after_migration);
        if (config->migrate.qmp_destination_command != NULL &&
            !vt_backend_qmp_set_destination_command(
                VT_BACKEND_QMP(backend), config->migrate.qmp_destination_command, error)) {
                g_prefix_error(error, "[migrate] qmp-destination-command: ");
                g_object_unref(backend);
                return NULL;
        }
        return backend;
}

/* The backend's connection came or went (libvirtd restarting): logged,
 * and told to the control socket. */
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
        vt_daemon_emit(daemon, VT_CONTROL_EVENT_BACKEND, data);
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
        vt_daemon_migrate_register_commands(daemon);
        if (!vt_daemon_metrics_start(daemon, error))
                return FALSE;

        daemon->backend = new_backend(config, error);
        if (daemon->backend == NULL)
                return FALSE;
        vt_daemon_guests_watch(daemon, daemon->backend);
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
        vt_daemon_recorder_start(daemon);
        vt_daemon_ticks_start(daemon, interval_ms);
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
        /* The moves' records first: their handlers look guests up. */
        vt_daemon_migrate_stop(daemon->migrate);
        g_hash_table_remove_all(daemon->guests);
        g_clear_pointer(&daemon->psi, vt_psi_trigger_free);
        vt_daemon_metrics_stop(daemon);
        vt_daemon_recorder_stop(daemon, "vmtided stopped");
}

void
vt_daemon_free(VtDaemon *daemon)
{
        if (daemon == NULL)
                return;
        vt_daemon_stop(daemon);
        g_clear_pointer(&daemon->migrate, vt_daemon_migrate_free);
        g_clear_pointer(&daemon->metrics, vt_daemon_metrics_free);
        g_clear_pointer(&daemon->guests, g_hash_table_unref);
        g_clear_object(&daemon->backend);
        g_clear_pointer(&daemon->control, vt_control_server_free);
        g_clear_pointer(&daemon->ksm, vt_ksm_step_free);
        g_clear_pointer(&daemon->config, vt_daemon_config_free);
        g_free(daemon->ksm_error);
        g_free(daemon->host_error);
        g_free(daemon->soon_why);
        g_free(daemon);
}
