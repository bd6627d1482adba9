/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's configuration reload (SIGHUP): what changes live, what needs a restart. */

/*
 * Theory of operation: a reload reads the whole configuration anew
 * through the caller's loader (the file, then the command line's
 * overrides). A file that does not load is refused: the error goes back
 * to the caller and the configuration in force stays, untouched.
 *
 * A file that loads is compared with the configuration in force,
 * setting by setting (vt_daemon_config_diff(), pure). What the control
 * loop reads at each tick changes at once: the balloon policy's
 * tunables, the budget, the KSM tuner's tunables, the tick interval, the
 * log level (the caller's), each guest's policy from its
 * `[guest:NAME]` group unless its domain's metadata or the control socket
 * set it, and each guest's virtio-mem strategy (`memdev-strategy`, which
 * only the file sets). What was built at start-up from the configuration (the backend
 * and its sockets, the control socket, the KSM sysfs, the PSI trigger,
 * the policy and tuner algorithms, migration and its peers) keeps its
 * value, and is logged once as needing a restart: the new configuration
 * takes the values in force for those settings before it replaces the
 * old one, so that what the daemon reports stays true.
 */
#include "host/daemon-reload.h"

#include <string.h>

#include "host/daemon-private.h"

/* Adds "NAME" to @list when @changed. */
static void
note(GPtrArray *list, gboolean changed, const char *name)
{
        if (changed)
                g_ptr_array_add(list, g_strdup(name));
}

static gboolean
str_differ(const char *a, const char *b)
{
        return g_strcmp0(a, b) != 0;
}

static gboolean
strv_differ(const char *const *a, const char *const *b)
{
        if (a == NULL || b == NULL)
                return a != b;
        return !g_strv_equal(a, b);
}

static gboolean
peers_differ(const VtDaemonMigrateConfig *a, const VtDaemonMigrateConfig *b)
{
        if (a->peer_configs->len != b->peer_configs->len)
                return TRUE;
        for (guint i = 0; i < a->peer_configs->len; i++) {
                const VtDaemonPeerConfig *pa = g_ptr_array_index(a->peer_configs, i);
                const VtDaemonPeerConfig *pb = g_ptr_array_index(b->peer_configs, i);

                if (str_differ(pa->name, pb->name) ||
                    str_differ(pa->control_socket, pb->control_socket) ||
                    pa->bandwidth != pb->bandwidth ||
                    str_differ(pa->transport_uri, pb->transport_uri))
                        return TRUE;
        }
        return FALSE;
}

static gboolean
migrate_differ(const VtDaemonMigrateConfig *a, const VtDaemonMigrateConfig *b)
{
        return a->enabled != b->enabled ||
               strv_differ((const char *const *)a->peers, (const char *const *)b->peers) ||
               str_differ(a->qmp_destination_command, b->qmp_destination_command) ||
               a->quit_after_migration != b->quit_after_migration || a->bandwidth != b->bandwidth ||
               a->downtime_initial_us != b->downtime_initial_us ||
               a->downtime_max_us != b->downtime_max_us || a->auto_converge != b->auto_converge ||
               a->max_outgoing != b->max_outgoing || a->hysteresis_ticks != b->hysteresis_ticks ||
               a->cooldown_guest_us != b->cooldown_guest_us ||
               a->cooldown_host_us != b->cooldown_host_us || a->min_relief != b->min_relief ||
               a->peer_interval_us != b->peer_interval_us || peers_differ(a, b);
}

static gboolean
recorder_differ(const VtDaemonRecorderConfig *a, const VtDaemonRecorderConfig *b)
{
        return a->enabled != b->enabled || str_differ(a->dir, b->dir) ||
               a->max_bytes != b->max_bytes || a->max_age_us != b->max_age_us ||
               a->segment_bytes != b->segment_bytes || a->segment_age_us != b->segment_age_us;
}

static gboolean
guest_policy_differ(const VtDaemonGuestConfig *a, const VtDaemonGuestConfig *b)
{
        if (a == NULL || b == NULL)
                return a != b;
        return memcmp(&a->balloon, &b->balloon, sizeof(a->balloon)) != 0 ||
               a->ksm_opt_out != b->ksm_opt_out || a->migrate_opt_out != b->migrate_opt_out ||
               a->migrate_pinned != b->migrate_pinned ||
               a->has_memdev_strategy != b->has_memdev_strategy ||
               (a->has_memdev_strategy && a->memdev_strategy != b->memdev_strategy);
}

static gboolean
guest_sockets_differ(const VtDaemonGuestConfig *a, const VtDaemonGuestConfig *b)
{
        const char *qa = a != NULL ? a->qmp_path : NULL, *qb = b != NULL ? b->qmp_path : NULL;
        const char *aa = a != NULL ? a->agent_path : NULL, *ab = b != NULL ? b->agent_path : NULL;

        return str_differ(qa, qb) || str_differ(aa, ab);
}

/* The `[guest:NAME]` groups of @old and @new_config, each name once. */
static void
guests_diff(const VtDaemonConfig *old, const VtDaemonConfig *new_config, GPtrArray *ret_live,
            GPtrArray *ret_restart)
{
        const VtDaemonConfig *configs[] = {old, new_config};

        for (guint c = 0; c < G_N_ELEMENTS(configs); c++) {
                for (guint i = 0; i < configs[c]->guests->len; i++) {
                        const VtDaemonGuestConfig *gc = g_ptr_array_index(configs[c]->guests, i);
                        const VtDaemonGuestConfig *a = vt_daemon_config_find_guest(old, gc->name);
                        const VtDaemonGuestConfig *b =
                            vt_daemon_config_find_guest(new_config, gc->name);
                        g_autofree char *policy = g_strdup_printf("[guest:%s] policy", gc->name);
                        g_autofree char *sockets =
                            g_strdup_printf("[guest:%s] qmp-path or agent-path", gc->name);

                        /* Seen in both: counted on the first pass only. */
                        if (c == 1 && a != NULL)
                                continue;
                        note(ret_live, guest_policy_differ(a, b), policy);
                        note(ret_restart, guest_sockets_differ(a, b), sockets);
                }
        }
}

/**
 * vt_daemon_config_diff:
 * @old: the configuration in force
 * @new_config: the one just read
 * @ret_live: (element-type utf8): where the settings that changed and
 *     change live are added ("[budget] total"), owned strings
 * @ret_restart: (element-type utf8): where those that changed but need a
 *     restart are added ("[daemon] backend")
 *
 * Compares two configurations setting by setting. Pure.
 */
void
vt_daemon_config_diff(const VtDaemonConfig *old, const VtDaemonConfig *new_config,
                      GPtrArray *ret_live, GPtrArray *ret_restart)
{
        const VtDaemonConfig *a = old, *b = new_config;

        g_return_if_fail(old != NULL && new_config != NULL);
        g_return_if_fail(ret_live != NULL && ret_restart != NULL);

        note(ret_live, a->tick_interval_us != b->tick_interval_us, "[daemon] tick-interval-ms");
        note(ret_live, a->log_level != b->log_level, "[daemon] log-level");
        note(ret_live, a->budget_total != b->budget_total, "[budget] total");
        note(ret_live, str_differ(a->budget_cgroup, b->budget_cgroup), "[budget] cgroup");
        note(ret_live, memcmp(&a->balloon, &b->balloon, sizeof(a->balloon)) != 0,
             "[policy] tunables or [budget] reserve");
        note(ret_live, memcmp(&a->ksm, &b->ksm, sizeof(a->ksm)) != 0, "[ksm] tunables");
        note(ret_live, a->memdev_strategy != b->memdev_strategy, "[policy] memdev-strategy");

        note(ret_restart, a->backend != b->backend, "[daemon] backend");
        note(ret_restart, str_differ(a->control_socket, b->control_socket),
             "[daemon] control-socket");
        note(ret_restart, a->control_socket_mode != b->control_socket_mode,
             "[daemon] control-socket-mode");
        note(ret_restart, a->stats_interval_s != b->stats_interval_s, "[daemon] stats-interval-s");
        note(ret_restart, a->agent_interval_ms != b->agent_interval_ms,
             "[daemon] agent-interval-ms");
        note(ret_restart, str_differ(a->host_psi_trigger, b->host_psi_trigger),
             "[daemon] host-psi-trigger");
        note(ret_restart, str_differ(a->proc_root, b->proc_root), "[daemon] proc-root");
        note(ret_restart, str_differ(a->balloon_policy_name, b->balloon_policy_name),
             "[policy] algorithm");
        note(ret_restart, a->ksm_enabled != b->ksm_enabled, "[ksm] enabled");
        note(ret_restart, str_differ(a->ksm_sysfs_root, b->ksm_sysfs_root), "[ksm] sysfs-root");
        note(ret_restart, str_differ(a->ksm_tuner_name, b->ksm_tuner_name), "[ksm] tuner");
        note(ret_restart, str_differ(a->qmp_dir, b->qmp_dir), "[qmp] dir");
        note(ret_restart, str_differ(a->libvirt_uri, b->libvirt_uri), "[libvirt] uri");
        note(ret_restart, migrate_differ(&a->migrate, &b->migrate), "[migrate] or [peer:NAME]");
        note(ret_restart, recorder_differ(&a->recorder, &b->recorder), "[recorder]");
        note(ret_restart, str_differ(a->metrics_listen, b->metrics_listen), "[metrics] listen");
        guests_diff(old, new_config, ret_live, ret_restart);
}

#define KEEP(field) (new_config->field = old->field)
#define KEEP_PTR(field)                                                                            \
        G_STMT_START                                                                               \
        {                                                                                          \
                gpointer kept_ = new_config->field;                                                \
                new_config->field = old->field;                                                    \
                old->field = kept_;                                                                \
        }                                                                                          \
        G_STMT_END

/* Gives @new_config the values in force of what needs a restart. */
static void
keep_restart_only(VtDaemonConfig *old, VtDaemonConfig *new_config)
{
        VtDaemonMigrateConfig migrate = new_config->migrate;
        VtDaemonRecorderConfig recorder = new_config->recorder;

        KEEP(backend);
        KEEP_PTR(control_socket);
        KEEP(control_socket_mode);
        KEEP(stats_interval_s);
        KEEP(agent_interval_ms);
        KEEP_PTR(host_psi_trigger);
        KEEP_PTR(proc_root);
        KEEP(balloon_policy);
        KEEP(balloon_policy_name);
        KEEP(ksm_enabled);
        KEEP_PTR(ksm_sysfs_root);
        KEEP(ksm_tuner);
        KEEP(ksm_tuner_name);
        KEEP_PTR(qmp_dir);
        KEEP_PTR(libvirt_uri);
        KEEP_PTR(metrics_listen);
        new_config->migrate = old->migrate;
        old->migrate = migrate;
        new_config->recorder = old->recorder;
        old->recorder = recorder;
}

/* Each guest whose policy comes from the file (or its defaults) takes the new one. */
static void
guests_apply(VtDaemon *daemon)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, daemon->guests);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                VtDaemonGuest *dg = value;
                const VtDaemonGuestConfig *gc =
                    vt_daemon_config_find_guest(daemon->config, dg->name);
                VtBalloonGuestConfig policy = gc != NULL ? gc->balloon : (VtBalloonGuestConfig){0};
                gboolean ksm_opt_out = gc != NULL && gc->ksm_opt_out;

                VtMemdevStrategy strategy =
                    vt_daemon_config_get_memdev_strategy(daemon->config, dg->name);

                dg->migrate_opt_out = gc != NULL && gc->migrate_opt_out;
                dg->migrate_pinned = gc != NULL && gc->migrate_pinned;
                /* Always the file's: a domain's metadata does not carry it. */
                if (dg->guest != NULL && strategy != vt_guest_get_memdev_strategy(dg->guest)) {
                        vt_guest_set_memdev_strategy(dg->guest, strategy);
                        g_message("guest '%s': memory strategy '%s' from the reloaded "
                                  "configuration",
                                  dg->name, vt_memdev_strategy_name(strategy));
                }
                /* Set by its domain's metadata or by hand: those win over the file. */
                if (g_strcmp0(dg->policy_source, "configuration") != 0 &&
                    g_strcmp0(dg->policy_source, "defaults") != 0)
                        continue;
                if (memcmp(&policy, &dg->policy, sizeof(policy)) == 0 &&
                    ksm_opt_out == dg->ksm_opt_out)
                        continue;
                dg->policy = policy;
                dg->ksm_opt_out = ksm_opt_out;
                dg->policy_source = gc != NULL ? "configuration" : "defaults";
                if (dg->guest != NULL)
                        vt_guest_set_config(dg->guest, &dg->policy);
                g_message("guest '%s': policy from the reloaded %s", dg->name, dg->policy_source);
        }
}

static void
log_list(const char *what, GPtrArray *list)
{
        g_autofree char *joined = NULL;

        if (list->len == 0)
                return;
        g_ptr_array_add(list, NULL);
        joined = g_strjoinv(", ", (char **)list->pdata);
        g_ptr_array_remove_index(list, list->len - 1);
        g_message("configuration reload: %s: %s", what, joined);
}

/**
 * vt_daemon_reload:
 * @daemon: the daemon
 * @load: reads the configuration anew
 * @user_data: for @load
 * @error: return location for a #GError
 *
 * Re-reads the configuration and applies what can change live (see the
 * theory of operation); logs once what changed and what needs a restart.
 *
 * Returns: %TRUE when applied; %FALSE with @error (the loader's) when the
 *     new configuration is refused, the one in force kept unchanged
 */
gboolean
vt_daemon_reload(VtDaemon *daemon, VtDaemonConfigLoader load, gpointer user_data, GError **error)
{
        g_autoptr(VtDaemonConfig) new_config = NULL;
        g_autoptr(VtDaemonConfig) old = NULL;
        g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) restart = g_ptr_array_new_with_free_func(g_free);
        gboolean tick_changed;

        g_return_val_if_fail(daemon != NULL && load != NULL, FALSE);

        new_config = load(user_data, error);
        if (new_config == NULL)
                return FALSE;
        vt_daemon_config_diff(daemon->config, new_config, live, restart);
        tick_changed = daemon->config->tick_interval_us != new_config->tick_interval_us;
        old = g_steal_pointer(&daemon->config);
        keep_restart_only(old, new_config);
        daemon->config = g_steal_pointer(&new_config);

        daemon->balloon_config = daemon->config->balloon;
        if (daemon->ksm != NULL)
                vt_ksm_step_set_config(daemon->ksm, &daemon->config->ksm);
        guests_apply(daemon);
        if (live->len == 0 && restart->len == 0)
                g_message("configuration reloaded from '%s': nothing changed",
                          daemon->config->origin);
        else
                g_message("configuration reloaded from '%s'", daemon->config->origin);
        log_list("applied", live);
        log_list("needs a restart, kept as it was", restart);
        if (tick_changed && daemon->tick_source != 0) {
                g_clear_handle_id(&daemon->tick_source, g_source_remove);
                vt_daemon_ticks_start(daemon,
                                      (guint)MAX(daemon->config->tick_interval_us / 1000, 10));
        } else if (daemon->started) {
                vt_daemon_tick_soon(daemon, "configuration reloaded");
        }
        return TRUE;
}

/**
 * vt_daemon_get_config:
 * @daemon: the daemon
 *
 * Returns: (transfer none): the configuration in force; a reload replaces it
 */
const VtDaemonConfig *
vt_daemon_get_config(VtDaemon *daemon)
{
        g_return_val_if_fail(daemon != NULL, NULL);
        return daemon->config;
}
