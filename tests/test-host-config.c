/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of vmtided's configuration: good and bad files, sizes, loading, the example file. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "host/daemon-config.h"
#include "host/daemon-reload.h"
#include "tests/vt-test-util.h"

#define KiB (G_GUINT64_CONSTANT(1) << 10)
#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define TiB (G_GUINT64_CONSTANT(1) << 40)

#define ORIGIN "test.conf"

/* ---- sizes ---- */

typedef struct {
        const char *text;
        gboolean ok;
        guint64 bytes;
} SizeCase;

static const SizeCase size_cases[] = {
    {"0", TRUE, 0},
    {"1024", TRUE, 1024},
    {"512M", TRUE, 512 * MiB},
    {"512MiB", TRUE, 512 * MiB},
    {"512 MiB", TRUE, 512 * MiB},
    {"2G", TRUE, 2 * GiB},
    {"2g", TRUE, 2 * GiB},
    {"2gib", TRUE, 2 * GiB},
    {"1.5G", TRUE, 3 * GiB / 2},
    {"0.5K", TRUE, 512},
    {"1.1K", TRUE, 1126}, /* 1126.4, rounded down */
    {"4K", TRUE, 4 * KiB},
    {"1T", TRUE, TiB},
    {"10B", TRUE, 10},
    {" 3M ", TRUE, 3 * MiB},
    /* At most 4 PiB (VT_SIZE_MEMORY_MAX): nothing downstream can overflow. */
    {"4P", TRUE, G_GUINT64_CONSTANT(1) << 52},
    {"4096T", TRUE, G_GUINT64_CONSTANT(1) << 52},
    {"4503599627370496", TRUE, G_GUINT64_CONSTANT(1) << 52},
    {"4503599627370497", FALSE, 0},
    {"4.000000001P", FALSE, 0},
    {"16383P", FALSE, 0},
    {"18446744073709551615", FALSE, 0},
    {"16777215T", FALSE, 0},
    {"17179869183.5G", FALSE, 0},
    {"", FALSE, 0},
    {"lots", FALSE, 0},
    {"-1", FALSE, 0},
    {"+1", FALSE, 0},
    {"1.5", FALSE, 0}, /* a fraction needs a unit */
    {"1.", FALSE, 0},
    {".5G", FALSE, 0},
    {"1e9", FALSE, 0},
    {"4GB", TRUE, 4 * GiB}, /* binary, as QEMU and free(1) read it */
    {"4Gi", FALSE, 0},
    {"4 G B", FALSE, 0},
    {"M", FALSE, 0},
    {"0x10", FALSE, 0},
    {"18446744073709551616", FALSE, 0},
    {"16777216T", FALSE, 0},
    {"17179869184G", FALSE, 0},
    {"1G 2", FALSE, 0},
};

static void
test_size(gconstpointer data)
{
        const SizeCase *c = data;
        guint64 bytes = 42;
        g_autofree char *text = g_strdup_printf("[budget]\ntotal = %s\n", c->text);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config =
            vt_daemon_config_parse(text, strlen(text), "test.conf", &error);

        if (c->ok) {
                g_assert_no_error(error);
                bytes = config->budget_total;
                g_assert_cmpuint(bytes, ==, c->bytes);
        } else {
                g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID);
                g_assert_nonnull(strstr(error->message, "[budget] total"));
        }
}

/* ---- comparing configurations ---- */

static void
assert_double_eq(double a, double b)
{
        g_assert_true(fabs(a - b) <= 1e-12 * MAX(1.0, fabs(b)));
}

static void
assert_config_eq(const VtDaemonConfig *a, const VtDaemonConfig *b)
{
        const VtBalloonConfig *ba = &a->balloon, *bb = &b->balloon;

        g_assert_cmpint(a->tick_interval_us, ==, b->tick_interval_us);
        g_assert_cmpstr(a->control_socket, ==, b->control_socket);
        g_assert_cmpuint(a->control_socket_mode, ==, b->control_socket_mode);
        g_assert_cmpint(a->backend, ==, b->backend);
        g_assert_cmpuint(a->stats_interval_s, ==, b->stats_interval_s);
        g_assert_cmpuint(a->agent_interval_ms, ==, b->agent_interval_ms);
        g_assert_cmpstr(a->host_psi_trigger, ==, b->host_psi_trigger);
        g_assert_cmpstr(a->proc_root, ==, b->proc_root);
        g_assert_cmpint(a->log_level, ==, b->log_level);
        g_assert_cmpuint(a->budget_total, ==, b->budget_total);
        g_assert_cmpstr(a->budget_cgroup, ==, b->budget_cgroup);

        g_assert_cmpuint(ba->host_reserve, ==, bb->host_reserve);
        assert_double_eq(ba->plenty_fraction, bb->plenty_fraction);
        assert_double_eq(ba->tight_fraction, bb->tight_fraction);
        assert_double_eq(ba->short_fraction, bb->short_fraction);
        assert_double_eq(ba->hysteresis_fraction, bb->hysteresis_fraction);
        assert_double_eq(ba->psi_short, bb->psi_short);
        assert_double_eq(ba->psi_critical, bb->psi_critical);
        assert_double_eq(ba->guest_headroom_fraction, bb->guest_headroom_fraction);
        g_assert_cmpuint(ba->guest_headroom_min, ==, bb->guest_headroom_min);
        assert_double_eq(ba->guest_pressure_psi, bb->guest_pressure_psi);
        assert_double_eq(ba->guest_low_fraction, bb->guest_low_fraction);
        assert_double_eq(ba->default_min_fraction, bb->default_min_fraction);
        for (guint i = 0; i < VT_HOST_STATE_MAX; i++)
                assert_double_eq(ba->step_fraction[i], bb->step_fraction[i]);
        g_assert_cmpuint(ba->min_change, ==, bb->min_change);
        g_assert_cmpint(ba->stale_us, ==, bb->stale_us);
        g_assert_cmpint(ba->settle_us, ==, bb->settle_us);
        assert_double_eq(ba->swap_in_tight, bb->swap_in_tight);
        g_assert_true(a->balloon_policy == b->balloon_policy);
        g_assert_cmpstr(a->balloon_policy_name, ==, b->balloon_policy_name);
        g_assert_cmpint(a->memdev_strategy, ==, b->memdev_strategy);

        g_assert_cmpint(a->ksm_enabled, ==, b->ksm_enabled);
        g_assert_cmpstr(a->ksm_sysfs_root, ==, b->ksm_sysfs_root);
        assert_double_eq(a->ksm.cpu_cap, b->ksm.cpu_cap);
        assert_double_eq(a->ksm.start_available, b->ksm.start_available);
        assert_double_eq(a->ksm.stop_available, b->ksm.stop_available);
        assert_double_eq(a->ksm.start_psi_some, b->ksm.start_psi_some);
        assert_double_eq(a->ksm.min_yield_bytes_per_cpu_s, b->ksm.min_yield_bytes_per_cpu_s);
        g_assert_cmpuint(a->ksm.pages_to_scan_min, ==, b->ksm.pages_to_scan_min);
        g_assert_cmpuint(a->ksm.pages_to_scan_max, ==, b->ksm.pages_to_scan_max);
        g_assert_cmpuint(a->ksm.sleep_millisecs, ==, b->ksm.sleep_millisecs);
        g_assert_cmpint(a->ksm.allow_unmerge, ==, b->ksm.allow_unmerge);
        g_assert_cmpuint(a->ksm.advisor_target_scan_time_s, ==, b->ksm.advisor_target_scan_time_s);
        g_assert_true(a->ksm_tuner == b->ksm_tuner);
        g_assert_cmpstr(a->ksm_tuner_name, ==, b->ksm_tuner_name);

        g_assert_cmpstr(a->qmp_dir, ==, b->qmp_dir);
        g_assert_cmpstr(a->libvirt_uri, ==, b->libvirt_uri);
        g_assert_cmpuint(a->guests->len, ==, b->guests->len);

        g_assert_cmpint(a->migrate.enabled, ==, b->migrate.enabled);
        g_assert_cmpuint(g_strv_length(a->migrate.peers), ==, g_strv_length(b->migrate.peers));
        g_assert_cmpstr(a->migrate.qmp_destination_command, ==, b->migrate.qmp_destination_command);
        g_assert_cmpint(a->migrate.quit_after_migration, ==, b->migrate.quit_after_migration);
        g_assert_cmpuint(a->migrate.bandwidth, ==, b->migrate.bandwidth);
        g_assert_cmpint(a->migrate.downtime_initial_us, ==, b->migrate.downtime_initial_us);
        g_assert_cmpint(a->migrate.downtime_max_us, ==, b->migrate.downtime_max_us);
        g_assert_cmpint(a->migrate.auto_converge, ==, b->migrate.auto_converge);
        g_assert_cmpuint(a->migrate.max_outgoing, ==, b->migrate.max_outgoing);
        g_assert_cmpuint(a->migrate.hysteresis_ticks, ==, b->migrate.hysteresis_ticks);
        g_assert_cmpint(a->migrate.cooldown_guest_us, ==, b->migrate.cooldown_guest_us);
        g_assert_cmpint(a->migrate.cooldown_host_us, ==, b->migrate.cooldown_host_us);
        g_assert_cmpuint(a->migrate.min_relief, ==, b->migrate.min_relief);
        g_assert_cmpint(a->migrate.peer_interval_us, ==, b->migrate.peer_interval_us);
        g_assert_cmpuint(a->migrate.peer_configs->len, ==, b->migrate.peer_configs->len);

        g_assert_cmpint(a->recorder.enabled, ==, b->recorder.enabled);
        g_assert_cmpstr(a->recorder.dir, ==, b->recorder.dir);
        g_assert_cmpuint(a->recorder.max_bytes, ==, b->recorder.max_bytes);
        g_assert_cmpint(a->recorder.max_age_us, ==, b->recorder.max_age_us);
        g_assert_cmpuint(a->recorder.segment_bytes, ==, b->recorder.segment_bytes);
        g_assert_cmpint(a->recorder.segment_age_us, ==, b->recorder.segment_age_us);
}

static void
check_migrate(const VtDaemonConfig *c)
{
        const VtDaemonMigrateConfig *m = &c->migrate;
        const VtDaemonPeerConfig *p = vt_daemon_config_find_peer(c, "qemu+ssh://h2/system");
        const VtDaemonGuestConfig *g = vt_daemon_config_find_guest(c, "web1");

        g_assert_true(m->enabled);
        g_assert_cmpuint(g_strv_length(m->peers), ==, 3);
        g_assert_cmpstr(m->peers[0], ==, "qemu+ssh://h2/system");
        g_assert_cmpstr(m->peers[1], ==, "qemu+unix:///system?socket=/run/p/libvirt-sock");
        g_assert_cmpstr(m->peers[2], ==, "peer3");
        g_assert_cmpstr(m->qmp_destination_command, ==, "/usr/bin/dest --fast");
        g_assert_false(m->quit_after_migration);
        g_assert_cmpuint(m->bandwidth, ==, 256 * MiB);
        g_assert_cmpint(m->downtime_initial_us, ==, 50 * G_TIME_SPAN_MILLISECOND);
        g_assert_cmpint(m->downtime_max_us, ==, 800 * G_TIME_SPAN_MILLISECOND);
        g_assert_true(m->auto_converge);
        g_assert_cmpuint(m->max_outgoing, ==, 2);
        g_assert_cmpuint(m->hysteresis_ticks, ==, 5);
        g_assert_cmpint(m->cooldown_guest_us, ==, 0);
        g_assert_cmpint(m->cooldown_host_us, ==, 30 * G_TIME_SPAN_SECOND);
        g_assert_cmpuint(m->min_relief, ==, 64 * MiB);
        g_assert_cmpint(m->peer_interval_us, ==, 500 * G_TIME_SPAN_MILLISECOND);
        g_assert_nonnull(p);
        g_assert_cmpstr(p->control_socket, ==, "/run/vmtide/h2.sock");
        g_assert_cmpuint(p->bandwidth, ==, GiB);
        g_assert_cmpstr(p->transport_uri, ==, "unix:///run/h2/{guest}.migrate");
        g_assert_null(vt_daemon_config_find_peer(c, "peer3"));
        g_assert_nonnull(g);
        g_assert_true(g->migrate_opt_out);
        g_assert_true(g->migrate_pinned);
}

static void
check_migrate_defaults(const VtDaemonConfig *c)
{
        const VtDaemonMigrateConfig *m = &c->migrate;

        g_assert_false(m->enabled);
        g_assert_nonnull(m->peers);
        g_assert_null(m->peers[0]);
        g_assert_null(m->qmp_destination_command);
        g_assert_true(m->quit_after_migration);
        g_assert_cmpuint(m->bandwidth, ==, 128 * MiB);
        g_assert_cmpint(m->downtime_initial_us, ==, 100 * G_TIME_SPAN_MILLISECOND);
        g_assert_cmpint(m->downtime_max_us, ==, 500 * G_TIME_SPAN_MILLISECOND);
        g_assert_false(m->auto_converge);
        g_assert_cmpuint(m->max_outgoing, ==, 1);
        g_assert_cmpuint(m->hysteresis_ticks, ==, 3);
        g_assert_cmpint(m->cooldown_guest_us, ==, 600 * G_TIME_SPAN_SECOND);
        g_assert_cmpint(m->cooldown_host_us, ==, 60 * G_TIME_SPAN_SECOND);
}

static void
check_peer_unlisted(const VtDaemonConfig *c)
{
        g_assert_cmpstr(vt_daemon_config_get_warnings(c)[0], ==,
                        ORIGIN ": [peer:ghost]: not in [migrate] peers, ignored");
}

/* ---- parsing: a table of snippets ---- */

static void
check_defaults(const VtDaemonConfig *c)
{
        g_autoptr(VtDaemonConfig) defaults = vt_daemon_config_new_default();
        VtBalloonConfig balloon;
        VtKsmTunerConfig ksm;

        assert_config_eq(c, defaults);
        /* The documented defaults (docs/configuration.md). */
        g_assert_cmpint(c->tick_interval_us, ==, 2 * G_USEC_PER_SEC);
        g_assert_cmpstr(c->control_socket, ==, "/run/vmtide/vmtided.sock");
        g_assert_cmpuint(c->control_socket_mode, ==, 0600);
        g_assert_cmpint(c->backend, ==, VT_DAEMON_BACKEND_QMP);
        g_assert_cmpuint(c->stats_interval_s, ==, 2);
        g_assert_cmpuint(c->agent_interval_ms, ==, 2000);
        g_assert_cmpstr(c->host_psi_trigger, ==, "some 150000 2000000");
        g_assert_cmpstr(c->proc_root, ==, "/proc");
        g_assert_cmpint(c->log_level, ==, G_LOG_LEVEL_INFO);
        g_assert_cmpuint(c->budget_total, ==, 0);
        g_assert_null(c->budget_cgroup);
        /* The policies' own defaults (structs with padding: field by field). */
        vt_balloon_config_init(&balloon);
        g_assert_cmpuint(c->balloon.host_reserve, ==, balloon.host_reserve);
        assert_double_eq(c->balloon.plenty_fraction, balloon.plenty_fraction);
        assert_double_eq(c->balloon.guest_swap_in_warm, balloon.guest_swap_in_warm);
        assert_double_eq(c->balloon.guest_swap_in_thrash, balloon.guest_swap_in_thrash);
        g_assert_cmpint(c->balloon.settle_us, ==, balloon.settle_us);
        g_assert_true(c->balloon_policy == vt_balloon_policy_decide);
        g_assert_cmpint(c->memdev_strategy, ==, VT_MEMDEV_STRATEGY_MEMDEV_FIRST);
        g_assert_true(c->ksm_enabled);
        g_assert_cmpstr(c->ksm_sysfs_root, ==, "/sys/kernel/mm/ksm");
        vt_ksm_tuner_config_init(&ksm);
        assert_double_eq(c->ksm.cpu_cap, ksm.cpu_cap);
        g_assert_cmpuint(c->ksm.pages_to_scan_max, ==, ksm.pages_to_scan_max);
        g_assert_true(c->ksm_tuner == vt_ksm_tuner_decide);
        g_assert_cmpstr(c->qmp_dir, ==, "/run/vmtide/guests");
        g_assert_cmpstr(c->libvirt_uri, ==, "qemu:///system");
        g_assert_cmpuint(c->guests->len, ==, 0);
        /* The flight recorder: on, in /var/lib, 1 GiB and 7 days. */
        g_assert_true(c->recorder.enabled);
        g_assert_cmpstr(c->recorder.dir, ==, "/var/lib/vmtide/history");
        g_assert_cmpuint(c->recorder.max_bytes, ==, GiB);
        g_assert_cmpint(c->recorder.max_age_us, ==, 7 * G_TIME_SPAN_DAY);
        g_assert_cmpuint(c->recorder.segment_bytes, ==, 8 * MiB);
        g_assert_cmpint(c->recorder.segment_age_us, ==, G_TIME_SPAN_HOUR);
}

static void
check_daemon(const VtDaemonConfig *c)
{
        g_assert_cmpint(c->tick_interval_us, ==, 500 * G_TIME_SPAN_MILLISECOND);
        g_assert_cmpstr(c->control_socket, ==, "/tmp/vt.sock");
        g_assert_cmpuint(c->control_socket_mode, ==, 0660);
        g_assert_cmpint(c->backend, ==, VT_DAEMON_BACKEND_LIBVIRT);
        g_assert_cmpuint(c->stats_interval_s, ==, 5);
        g_assert_cmpuint(c->agent_interval_ms, ==, 0);
        g_assert_cmpstr(c->host_psi_trigger, ==, "full 100000 1000000");
        g_assert_cmpstr(c->proc_root, ==, "/srv/proc");
        g_assert_cmpint(c->log_level, ==, G_LOG_LEVEL_DEBUG);
        g_assert_cmpstr(c->libvirt_uri, ==, "qemu+ssh://host/system");
}

static void
check_budget(const VtDaemonConfig *c)
{
        g_assert_cmpuint(c->balloon.host_reserve, ==, 512 * MiB);
        g_assert_cmpuint(c->budget_total, ==, 3 * GiB / 2);
        g_assert_cmpstr(c->budget_cgroup, ==, "/sys/fs/cgroup/machine.slice");
}

static void
check_policy(const VtDaemonConfig *c)
{
        const VtBalloonConfig *b = &c->balloon;

        g_assert_true(c->balloon_policy == vt_balloon_policy_mom_decide);
        g_assert_cmpstr(c->balloon_policy_name, ==, "mom");
        assert_double_eq(b->plenty_fraction, 0.30);
        assert_double_eq(b->tight_fraction, 0.20);
        assert_double_eq(b->short_fraction, 0.025);
        assert_double_eq(b->hysteresis_fraction, 0.01);
        assert_double_eq(b->psi_short, 20.0);
        assert_double_eq(b->psi_critical, 2.5);
        assert_double_eq(b->swap_in_tight, 1000.0);
        assert_double_eq(b->guest_swap_in_warm, 32.0);
        assert_double_eq(b->guest_swap_in_thrash, 2048.5);
        assert_double_eq(b->guest_headroom_fraction, 0.10);
        g_assert_cmpuint(b->guest_headroom_min, ==, 32 * MiB);
        assert_double_eq(b->guest_pressure_psi, 15.0);
        assert_double_eq(b->guest_low_fraction, 0.08);
        assert_double_eq(b->default_min_fraction, 0.50);
        assert_double_eq(b->step_fraction[VT_HOST_STATE_TIGHT], 0.02);
        assert_double_eq(b->step_fraction[VT_HOST_STATE_SHORT], 0.04);
        assert_double_eq(b->step_fraction[VT_HOST_STATE_CRITICAL], 0.50);
        g_assert_cmpuint(b->min_change, ==, 8 * MiB);
        g_assert_cmpint(b->settle_us, ==, 0);
        g_assert_cmpint(b->stale_us, ==, 10 * G_USEC_PER_SEC);
}

static void
check_ksm(const VtDaemonConfig *c)
{
        g_assert_false(c->ksm_enabled);
        g_assert_cmpstr(c->ksm_sysfs_root, ==, "/tmp/ksm");
        g_assert_true(c->ksm_tuner == vt_ksm_tuner_ksmtuned_decide);
        g_assert_cmpstr(c->ksm_tuner_name, ==, "ksmtuned");
        assert_double_eq(c->ksm.cpu_cap, 0.25);
        assert_double_eq(c->ksm.start_available, 0.20);
        assert_double_eq(c->ksm.stop_available, 0.50);
        assert_double_eq(c->ksm.start_psi_some, 7.5);
        assert_double_eq(c->ksm.min_yield_bytes_per_cpu_s, 512.0 * 1024);
        g_assert_cmpuint(c->ksm.pages_to_scan_min, ==, 64);
        g_assert_cmpuint(c->ksm.pages_to_scan_max, ==, 1250);
        g_assert_cmpuint(c->ksm.sleep_millisecs, ==, 50);
        g_assert_true(c->ksm.allow_unmerge);
        g_assert_cmpuint(c->ksm.advisor_target_scan_time_s, ==, 60);
}

static void
check_guests(const VtDaemonConfig *c)
{
        const VtDaemonGuestConfig *web1, *db, *bare;

        g_assert_cmpuint(c->guests->len, ==, 3);
        g_assert_cmpstr(c->qmp_dir, ==, "/srv/guests");

        web1 = vt_daemon_config_find_guest(c, "web1");
        g_assert_nonnull(web1);
        g_assert_true(web1 == g_ptr_array_index(c->guests, 0));
        g_assert_cmpstr(web1->qmp_path, ==, "/run/qemu/web1.qmp");
        g_assert_cmpstr(web1->agent_path, ==, "/run/qemu/web1.agent");
        g_assert_cmpuint(web1->balloon.min_bytes, ==, GiB);
        g_assert_cmpuint(web1->balloon.max_bytes, ==, 4 * GiB);
        g_assert_cmpuint(web1->balloon.shares, ==, 2000);
        g_assert_false(web1->balloon.opt_out);
        g_assert_true(web1->ksm_opt_out);

        db = vt_daemon_config_find_guest(c, "db.example");
        g_assert_nonnull(db);
        g_assert_null(db->qmp_path);
        g_assert_null(db->agent_path);
        g_assert_cmpuint(db->balloon.min_bytes, ==, 0);
        g_assert_cmpuint(db->balloon.shares, ==, 0);
        g_assert_true(db->balloon.opt_out);
        g_assert_false(db->ksm_opt_out);

        /* A socket not named .qmp: no agent guessed; an explicit one kept. */
        bare = vt_daemon_config_find_guest(c, "bare");
        g_assert_nonnull(bare);
        g_assert_cmpstr(bare->qmp_path, ==, "/run/qemu/bare.sock");
        g_assert_null(bare->agent_path);

        g_assert_null(vt_daemon_config_find_guest(c, "web2"));
        g_assert_null(vt_daemon_config_find_guest(c, "guest:web1"));
}

static void
check_guest_agent(const VtDaemonConfig *c)
{
        const VtDaemonGuestConfig *g = vt_daemon_config_find_guest(c, "a");

        g_assert_nonnull(g);
        g_assert_cmpstr(g->agent_path, ==, "/x/agent.sock");
}

static void
check_psi_off(const VtDaemonConfig *c)
{
        g_assert_null(c->host_psi_trigger);
}

static void
check_psi_normalised(const VtDaemonConfig *c)
{
        g_assert_cmpstr(c->host_psi_trigger, ==, "some 1 500000");
}

static void
check_unknown(const VtDaemonConfig *c)
{
        const char *const *w = vt_daemon_config_get_warnings(c);

        g_assert_cmpuint(g_strv_length((GStrv)w), ==, 3);
        g_assert_cmpstr(w[0], ==, ORIGIN ": [daemon] tick-intervall: unknown key, ignored");
        g_assert_cmpstr(w[1], ==, ORIGIN ": [polciy]: unknown group, ignored");
        g_assert_cmpstr(w[2], ==, ORIGIN ": [guest:x] shares2: unknown key, ignored");
        /* The known keys around them still apply. */
        g_assert_cmpint(c->tick_interval_us, ==, G_USEC_PER_SEC);
        g_assert_cmpuint(vt_daemon_config_find_guest(c, "x")->balloon.shares, ==, 10);
}

static void
check_percent_sign(const VtDaemonConfig *c)
{
        assert_double_eq(c->balloon.plenty_fraction, 0.20);
        assert_double_eq(c->balloon.psi_short, 12.5);
}

static void
check_bools(const VtDaemonConfig *c)
{
        g_assert_true(c->ksm_enabled);
        g_assert_true(c->ksm.allow_unmerge);
}

static void
check_tight_equal_bounds(const VtDaemonConfig *c)
{
        g_assert_cmpuint(c->ksm.pages_to_scan_min, ==, 500);
        g_assert_cmpuint(c->ksm.pages_to_scan_max, ==, 500);
}

static void
check_reserve_2g(const VtDaemonConfig *c)
{
        g_assert_cmpuint(c->balloon.host_reserve, ==, 2 * GiB);
}

static void
check_recorder(const VtDaemonConfig *c)
{
        g_assert_false(c->recorder.enabled);
        g_assert_cmpstr(c->recorder.dir, ==, "/srv/history");
        g_assert_cmpuint(c->recorder.max_bytes, ==, 200 * MiB);
        g_assert_cmpint(c->recorder.max_age_us, ==, 12 * G_TIME_SPAN_HOUR);
        g_assert_cmpuint(c->recorder.segment_bytes, ==, 64 * 1024);
        g_assert_cmpint(c->recorder.segment_age_us, ==, 90 * G_TIME_SPAN_SECOND);
}

/* 0: no limit; a duration without a unit is in seconds; days. */
static void
check_recorder_units(const VtDaemonConfig *c)
{
        g_assert_true(c->recorder.enabled);
        g_assert_cmpuint(c->recorder.max_bytes, ==, 0);
        g_assert_cmpint(c->recorder.max_age_us, ==, 30 * G_TIME_SPAN_DAY);
        g_assert_cmpuint(c->recorder.segment_bytes, ==, GiB);
        g_assert_cmpint(c->recorder.segment_age_us, ==, 0);
}

static void
check_metrics_v4(const VtDaemonConfig *c)
{
        g_assert_cmpstr(c->metrics_listen, ==, "127.0.0.1:9848");
}

static void
check_metrics_v6(const VtDaemonConfig *c)
{
        g_assert_cmpstr(c->metrics_listen, ==, "[::1]:9100");
}

static void
check_metrics_off(const VtDaemonConfig *c)
{
        g_assert_null(c->metrics_listen);
}

/* `[policy] memdev-strategy` for every guest, a group's own over it. */
static void
check_memdev_strategy(const VtDaemonConfig *c)
{
        g_assert_cmpint(c->memdev_strategy, ==, VT_MEMDEV_STRATEGY_BALLOON_ONLY);
        g_assert_true(vt_daemon_config_find_guest(c, "grow")->has_memdev_strategy);
        g_assert_false(vt_daemon_config_find_guest(c, "plain")->has_memdev_strategy);
        g_assert_cmpint(vt_daemon_config_get_memdev_strategy(c, "grow"), ==,
                        VT_MEMDEV_STRATEGY_MEMDEV_ONLY);
        g_assert_cmpint(vt_daemon_config_get_memdev_strategy(c, "first"), ==,
                        VT_MEMDEV_STRATEGY_MEMDEV_FIRST);
        g_assert_cmpint(vt_daemon_config_get_memdev_strategy(c, "plain"), ==,
                        VT_MEMDEV_STRATEGY_BALLOON_ONLY);
        g_assert_cmpint(vt_daemon_config_get_memdev_strategy(c, "not-configured"), ==,
                        VT_MEMDEV_STRATEGY_BALLOON_ONLY);
}

/* Without `[policy] memdev-strategy`: virtio-mem first. */
static void
check_memdev_strategy_default(const VtDaemonConfig *c)
{
        g_assert_cmpint(c->memdev_strategy, ==, VT_MEMDEV_STRATEGY_MEMDEV_FIRST);
        g_assert_cmpint(vt_daemon_config_get_memdev_strategy(c, "a"), ==,
                        VT_MEMDEV_STRATEGY_BALLOON_ONLY);
        g_assert_cmpint(vt_daemon_config_get_memdev_strategy(c, "b"), ==,
                        VT_MEMDEV_STRATEGY_MEMDEV_FIRST);
}

typedef struct {
        const char *name;
        const char *text;
        void (*check)(const VtDaemonConfig *config); /* NULL with @error */
        guint n_warnings;
        const char *error; /* the exact message; NULL: it parses */
        VtDaemonConfigError code;
} ParseCase;

#define INVALID VT_DAEMON_CONFIG_ERROR_INVALID
#define SYNTAX  VT_DAEMON_CONFIG_ERROR_SYNTAX

static const ParseCase parse_cases[] = {
    {"empty", "", check_defaults},
    {"comments-only", "# nothing\n\n[daemon]\n# tick-interval-ms = 5\n", check_defaults},
    {"daemon",
     "[daemon]\ntick-interval-ms = 500\ncontrol-socket = /tmp/vt.sock\n"
     "control-socket-mode = 0660\nbackend = libvirt\nstats-interval-s=5\n"
     "agent-interval-ms = 0\nhost-psi-trigger = full  100000\t1000000\n"
     "proc-root = /srv/proc\nlog-level = DEBUG\n"
     "[libvirt]\nuri = qemu+ssh://host/system\n",
     check_daemon},
    {"budget", "[budget]\nreserve = 512M\ntotal = 1.5G\ncgroup = /sys/fs/cgroup/machine.slice\n",
     check_budget},
    {"policy",
     "[policy]\nalgorithm = mom\nplenty = 30\ntight = 20\nshort = 2.5\nhysteresis = 1\n"
     "psi-short = 20\npsi-critical = 2.5\nswap-in-tight = 1000\nguest-swap-in-warm = 32\n"
     "guest-swap-in-thrash = 2048.5\nheadroom = 10\n"
     "headroom-min = 32M\nguest-pressure-psi = 15\nguest-low = 8\ndefault-min = 50\n"
     "step-tight = 2\nstep-short = 4\nstep-critical = 50\nmin-change = 8M\nsettle-ms = 0\n"
     "stale-ms = 10000\n",
     check_policy},
    {"ksm",
     "[ksm]\nenabled = false\nsysfs-root = /tmp/ksm\ntuner = ksmtuned\ncpu-cap = 25\n"
     "start-available = 20\nstop-available = 50\nstart-psi = 7.5\nmin-yield = 512K\n"
     "pages-to-scan-min = 64\npages-to-scan-max = 1250\nsleep-ms = 50\n"
     "allow-unmerge = true\nadvisor-target-scan-time-s = 60\n",
     check_ksm},
    {"guests",
     "[qmp]\ndir = /srv/guests\n"
     "[guest:web1]\nqmp = /run/qemu/web1.qmp\nmin = 1G\nmax = 4G\nshares = 2000\n"
     "opt-out = false\nksm-opt-out = true\n"
     "[guest:db.example]\nopt-out = true\n"
     "[guest:bare]\nqmp = /run/qemu/bare.sock\n",
     check_guests},
    {"guest-agent-given", "[guest:a]\nqmp = /x/a.qmp\nagent = /x/agent.sock\n", check_guest_agent},
    {"psi-trigger-off", "[daemon]\nhost-psi-trigger =\n", check_psi_off},
    {"psi-trigger-normalised", "[daemon]\nhost-psi-trigger =   some 1    500000  \n",
     check_psi_normalised},
    {"unknown-group-and-keys",
     "[daemon]\ntick-intervall = 5\ntick-interval-ms = 1000\n[polciy]\nplenty = 200\n"
     "[guest:x]\nshares2 = 5\nshares = 10\n",
     check_unknown, 3},
    /* GKeyFile keeps a repeated key's last value and merges a repeated group:
     * both are warnings (the messages: test_parse_repeated()). */
    {"repeated-key", "[budget]\nreserve = 1G\nreserve = 2G\n", check_reserve_2g, 1},
    {"repeated-group", "[budget]\ntotal = 8G\n[daemon]\n[budget]\nreserve = 2G\n", check_reserve_2g,
     1},
    {"repeated-key-in-repeated-group", "[budget]\nreserve = 1G\n[budget]\nreserve = 2G\n",
     check_reserve_2g, 2},
    {"repeated-key-thrice", "[budget]\nreserve=1G\n reserve = 3G\nreserve\t= 2G\r\n",
     check_reserve_2g, 2},
    {"same-key-other-groups", "[guest:a]\nmin = 1G\n[guest:b]\nmin = 1G\n[budget]\nreserve = 2G\n",
     check_reserve_2g, 0},
    {"percent-sign", "[policy]\nplenty = 20%\npsi-short = 12.5 %\n", check_percent_sign},
    {"bools", "[ksm]\nenabled = yes\nallow-unmerge = 1\n", check_bools},
    {"pages-to-scan-equal", "[ksm]\npages-to-scan-min = 500\npages-to-scan-max = 500\n",
     check_tight_equal_bounds},

    /* Errors: each names the file, the group, the key and the value. */
    {"bad-size", "[budget]\nreserve = lots\n", NULL, 0,
     ORIGIN
     ": [budget] reserve (line 2): 'lots' is not a size (bytes, or a number with K, M, G, T or P: "
     "512M, 1.5G)",
     INVALID},
    {"negative-size", "[guest:a]\nmin = -1G\n", NULL, 0,
     ORIGIN
     ": [guest:a] min (line 2): '-1G' is not a size (bytes, or a number with K, M, G, T or P: "
     "512M, 1.5G)",
     INVALID},
    {"percent-above-100", "[policy]\nplenty = 120\n", NULL, 0,
     ORIGIN ": [policy] plenty (line 2): '120' is out of range (0 to 100 %)", INVALID},
    {"percent-negative", "[policy]\nheadroom = -5\n", NULL, 0,
     ORIGIN ": [policy] headroom (line 2): '-5' is not a percentage", INVALID},
    {"percent-nan", "[policy]\npsi-short = nan\n", NULL, 0,
     ORIGIN ": [policy] psi-short (line 2): 'nan' is not a percentage", INVALID},
    {"percent-garbage", "[ksm]\ncpu-cap = 10 percent\n", NULL, 0,
     ORIGIN ": [ksm] cpu-cap (line 2): '10 percent' is not a percentage", INVALID},
    {"cpu-cap-zero", "[ksm]\ncpu-cap = 0\n", NULL, 0,
     ORIGIN ": [ksm] cpu-cap (line 2): '0' is out of range (0.1 to 100 %)", INVALID},
    {"number-with-percent", "[policy]\nswap-in-tight = 5%\n", NULL, 0,
     ORIGIN ": [policy] swap-in-tight (line 2): '5%' is not a number", INVALID},
    {"guest-swap-in-negative", "[policy]\nguest-swap-in-warm = -1\n", NULL, 0,
     ORIGIN ": [policy] guest-swap-in-warm (line 2): '-1' is not a number", INVALID},
    {"guest-swap-in-garbage", "[policy]\nguest-swap-in-thrash = fast\n", NULL, 0,
     ORIGIN ": [policy] guest-swap-in-thrash (line 2): 'fast' is not a number", INVALID},
    {"tight-above-plenty", "[policy]\ntight = 20\n", NULL, 0,
     ORIGIN ": [policy] tight: '20' must be below plenty (15 (the default))", INVALID},
    {"plenty-below-tight", "[policy]\nplenty = 8\n", NULL, 0,
     ORIGIN ": [policy] plenty: '8' must be above tight (10 (the default))", INVALID},
    {"short-equals-tight", "[policy]\nplenty = 30\ntight = 20\nshort = 20\n", NULL, 0,
     ORIGIN ": [policy] short: '20' must be below tight ('20')", INVALID},
    {"start-above-stop", "[ksm]\nstart-available = 50\n", NULL, 0,
     ORIGIN ": [ksm] start-available: '50' must be below stop-available (40 (the default))",
     INVALID},
    {"scan-min-above-max", "[ksm]\npages-to-scan-min = 5000\n", NULL, 0,
     ORIGIN ": [ksm] pages-to-scan-min: '5000' must be at most pages-to-scan-max (4000 (the "
            "default))",
     INVALID},
    {"negative-interval", "[daemon]\ntick-interval-ms = -1\n", NULL, 0,
     ORIGIN ": [daemon] tick-interval-ms (line 2): '-1' is not a whole number", INVALID},
    {"interval-too-short", "[daemon]\ntick-interval-ms = 10\n", NULL, 0,
     ORIGIN ": [daemon] tick-interval-ms (line 2): '10' is out of range (100 to 3600000)", INVALID},
    {"interval-with-unit", "[daemon]\ntick-interval-ms = 2s\n", NULL, 0,
     ORIGIN ": [daemon] tick-interval-ms (line 2): '2s' is not a whole number", INVALID},
    {"agent-interval-too-short", "[daemon]\nagent-interval-ms = 50\n", NULL, 0,
     ORIGIN ": [daemon] agent-interval-ms: '50' is out of range (0, or 100 to 3600000)", INVALID},
    {"stats-interval-zero", "[daemon]\nstats-interval-s = 0\n", NULL, 0,
     ORIGIN ": [daemon] stats-interval-s (line 2): '0' is out of range (1 to 3600)", INVALID},
    {"bad-mode", "[daemon]\ncontrol-socket-mode = 0999\n", NULL, 0,
     ORIGIN
     ": [daemon] control-socket-mode (line 2): '0999' is not a permission mode (octal, 0600)",
     INVALID},
    {"mode-too-large", "[daemon]\ncontrol-socket-mode = 01777\n", NULL, 0,
     ORIGIN
     ": [daemon] control-socket-mode (line 2): '01777' is not a permission mode (octal, 0600)",
     INVALID},
    {"relative-path", "[daemon]\ncontrol-socket = run/vt.sock\n", NULL, 0,
     ORIGIN ": [daemon] control-socket (line 2): 'run/vt.sock' is not an absolute path", INVALID},
    {"empty-required-path", "[qmp]\ndir =\n", NULL, 0,
     ORIGIN ": [qmp] dir (line 2): '' is not an absolute path", INVALID},
    {"bad-backend", "[daemon]\nbackend = xen\n", NULL, 0,
     ORIGIN ": [daemon] backend (line 2): 'xen' is not a backend (qmp or libvirt)", INVALID},
    {"bad-log-level", "[daemon]\nlog-level = loud\n", NULL, 0,
     ORIGIN ": [daemon] log-level (line 2): 'loud' is not a log level (error, critical, warning, "
            "message, info or debug)",
     INVALID},
    {"bad-algorithm", "[policy]\nalgorithm = esx\n", NULL, 0,
     ORIGIN ": [policy] algorithm (line 2): 'esx' is not a balloon policy (vmtide, mom or proxmox)",
     INVALID},
    {"bad-tuner", "[ksm]\ntuner = fast\n", NULL, 0,
     ORIGIN ": [ksm] tuner (line 2): 'fast' is not a KSM tuner (vmtide, ksmtuned or advisor)",
     INVALID},
    {"bad-bool", "[ksm]\nenabled = maybe\n", NULL, 0,
     ORIGIN ": [ksm] enabled (line 2): 'maybe' is not a boolean (true or false)", INVALID},
    {"bad-psi-trigger", "[daemon]\nhost-psi-trigger = some 150000\n", NULL, 0,
     ORIGIN
     ": [daemon] host-psi-trigger (line 2): 'some 150000' is not a PSI trigger: not of the form "
     "'some|full THRESHOLD_US WINDOW_US'",
     INVALID},
    {"psi-trigger-window", "[daemon]\nhost-psi-trigger = some 1000 100000\n", NULL, 0,
     ORIGIN
     ": [daemon] host-psi-trigger (line 2): 'some 1000 100000' is not a PSI trigger: the window "
     "must be 500000 to 10000000 µs",
     INVALID},
    {"psi-trigger-threshold", "[daemon]\nhost-psi-trigger = full 3000000 2000000\n", NULL, 0,
     ORIGIN
     ": [daemon] host-psi-trigger (line 2): 'full 3000000 2000000' is not a PSI trigger: the "
     "threshold must be 1 µs to the window",
     INVALID},
    {"inline-comment", "[budget]\nreserve = 1G # for the host\n", NULL, 0,
     ORIGIN
     ": [budget] reserve (line 2): '1G # for the host' is not a size (bytes, or a number with K, "
     "M, G, T or P: 512M, 1.5G)",
     INVALID},
    {"size-too-large", "[budget]\ntotal = 16383P\n", NULL, 0,
     ORIGIN
     ": [budget] total (line 2): '16383P' is too large (at most 4P: 4 PiB, the most memory a "
     "machine can address)",
     INVALID},
    {"reserve-too-large", "[budget]\nreserve = 5P\n", NULL, 0,
     ORIGIN ": [budget] reserve (line 2): '5P' is too large (at most 4P: 4 PiB, the most memory a "
            "machine can address)",
     INVALID},
    {"guest-min-above-max", "[guest:web1]\nmin = 4G\nmax = 1G\n", NULL, 0,
     ORIGIN ": [guest:web1] min: '4G' must be at most max ('1G')", INVALID},
    /* The floor (VT_BALLOON_FLOOR): no limit that would balloon a guest to
     * nothing; 0f17efb took "max = 1" and ballooned the guest to 1 byte. */
    {"guest-max-1-byte", "[guest:g1]\nmax = 1\n", NULL, 0,
     ORIGIN ": [guest:g1] max 1 B is below the safe floor of 64 MiB (no guest is ballooned "
            "below it)",
     INVALID},
    {"guest-min-under-floor", "[guest:g1]\nmin = 10M\n", NULL, 0,
     ORIGIN ": [guest:g1] min 10 MiB is below the safe floor of 64 MiB (no guest is ballooned "
            "below it)",
     INVALID},
    {"guest-shares-zero", "[guest:web1]\nshares = 0\n", NULL, 0,
     ORIGIN ": [guest:web1] shares (line 2): '0' is out of range (1 to 100000)", INVALID},
    {"guest-relative-qmp", "[guest:web1]\nqmp = web1.qmp\n", NULL, 0,
     ORIGIN ": [guest:web1] qmp (line 2): 'web1.qmp' is not an absolute path", INVALID},
    {"guest-empty-name", "[guest:]\nmin = 1G\n", NULL, 0,
     ORIGIN ": [guest:]: '' is not a guest name (1 to 255 characters, no '/', blanks or "
            "control characters)",
     INVALID},
    {"guest-slash-name", "[guest:a/b]\n", NULL, 0,
     ORIGIN ": [guest:a/b]: 'a/b' is not a guest name (1 to 255 characters, no '/', blanks or "
            "control characters)",
     INVALID},
    {"guest-dotdot-name", "[guest:..]\n", NULL, 0,
     ORIGIN ": [guest:..]: '..' is not a guest name (1 to 255 characters, no '/', blanks or "
            "control characters)",
     INVALID},
    {"bad-escape", "[qmp]\ndir = /a\\\n", NULL, 0,
     ORIGIN ": [qmp] dir (line 2): '/a\\' has an invalid escape", INVALID},
    {"not-utf8", "[qmp]\ndir = /a\xff\n", NULL, 0,
     ORIGIN ": [qmp] dir (line 2): '/a\xef\xbf\xbd' is not UTF-8", INVALID},
    {"migrate",
     "[migrate]\nenabled = true\n"
     "peers = qemu+ssh://h2/system; qemu+unix:///system?socket=/run/p/libvirt-sock peer3\n"
     "qmp-destination-command = /usr/bin/dest --fast\nquit-after-migration = false\n"
     "bandwidth = 256M\ndowntime-initial-ms = 50\ndowntime-max-ms = 800\nauto-converge = yes\n"
     "max-outgoing = 2\nhysteresis-ticks = 5\ncooldown-guest-s = 0\ncooldown-host-s = 30\n"
     "min-relief = 64M\npeer-interval-ms = 500\n"
     "[peer:qemu+ssh://h2/system]\ncontrol-socket = /run/vmtide/h2.sock\nbandwidth = 1G\n"
     "transport-uri = unix:///run/h2/{guest}.migrate\n"
     "[guest:web1]\nmigrate-opt-out = true\nmigrate-pinned = true\n",
     check_migrate},
    {"migrate-defaults", "[migrate]\npeers =\nqmp-destination-command =\n", check_migrate_defaults},
    {"peer-unlisted", "[peer:ghost]\nbandwidth = 1G\n", check_peer_unlisted, 1},
    {"migrate-downtime-order", "[migrate]\ndowntime-initial-ms = 600\n", NULL, 0,
     ORIGIN ": [migrate] downtime-initial-ms: '600' must be at most downtime-max-ms (500 (the "
            "default))",
     INVALID},
    {"migrate-peer-twice", "[migrate]\npeers = a;b;a\n", NULL, 0,
     ORIGIN ": [migrate] peers (line 2): 'a;b;a' names the peer 'a' twice", INVALID},
    {"migrate-max-outgoing-zero", "[migrate]\nmax-outgoing = 0\n", NULL, 0,
     ORIGIN ": [migrate] max-outgoing (line 2): '0' is out of range (1 to 16)", INVALID},
    {"migrate-bad-bandwidth", "[migrate]\nbandwidth = fast\n", NULL, 0, NULL, INVALID},
    {"peer-bad-socket", "[peer:p]\ncontrol-socket = relative.sock\n", NULL, 0,
     ORIGIN ": [peer:p] control-socket (line 2): 'relative.sock' is not an absolute path", INVALID},
    {"peer-empty-name", "[peer:]\n", NULL, 0, ORIGIN ": [peer:]: no peer name", INVALID},
    {"metrics-default", "", check_metrics_off},
    {"metrics-empty", "[metrics]\nlisten =\n", check_metrics_off},
    {"metrics-v4", "[metrics]\nlisten = 127.0.0.1:9848\n", check_metrics_v4},
    {"metrics-v6", "[metrics]\nlisten = [::1]:9100\n", check_metrics_v6},
#define METRICS_PROBLEM                                                                            \
        "is not HOST:PORT with an IP address and a port from 1 to 65535 (127.0.0.1:9848, "         \
        "[::1]:9848)"
    {"metrics-name", "[metrics]\nlisten = localhost:9848\n", NULL, 0,
     ORIGIN ": [metrics] listen (line 2): 'localhost:9848' " METRICS_PROBLEM, INVALID},
    {"metrics-no-port", "[metrics]\nlisten = 127.0.0.1\n", NULL, 0,
     ORIGIN ": [metrics] listen (line 2): '127.0.0.1' " METRICS_PROBLEM, INVALID},
    {"metrics-port-zero", "[metrics]\nlisten = 127.0.0.1:0\n", NULL, 0,
     ORIGIN ": [metrics] listen (line 2): '127.0.0.1:0' " METRICS_PROBLEM, INVALID},
    {"metrics-port-high", "[metrics]\nlisten = 127.0.0.1:65536\n", NULL, 0,
     ORIGIN ": [metrics] listen (line 2): '127.0.0.1:65536' " METRICS_PROBLEM, INVALID},
    {"metrics-v6-bare", "[metrics]\nlisten = ::1:9848\n", NULL, 0,
     ORIGIN ": [metrics] listen (line 2): '::1:9848' " METRICS_PROBLEM, INVALID},
    {"recorder",
     "[recorder]\nenabled = false\ndir = /srv/history\nmax-size = 200M\nmax-age = 12h\n"
     "segment-size = 64K\nsegment-age = 90\n",
     check_recorder},
    {"recorder-units",
     "[recorder]\nmax-size = 0\nmax-age = 30D\nsegment-size = 1G\nsegment-age = 0m\n",
     check_recorder_units},
#define DURATION_PROBLEM                                                                           \
        "is not a duration (a whole number with s, m, h or d: 7d, 12h; at most 3650d)"
    {"recorder-relative-dir", "[recorder]\ndir = history\n", NULL, 0,
     ORIGIN ": [recorder] dir (line 2): 'history' is not an absolute path", INVALID},
    {"recorder-age-word", "[recorder]\nmax-age = a week\n", NULL, 0,
     ORIGIN ": [recorder] max-age (line 2): 'a week' " DURATION_PROBLEM, INVALID},
    {"recorder-age-unit", "[recorder]\nmax-age = 7w\n", NULL, 0,
     ORIGIN ": [recorder] max-age (line 2): '7w' " DURATION_PROBLEM, INVALID},
    {"recorder-age-negative", "[recorder]\nsegment-age = -1h\n", NULL, 0,
     ORIGIN ": [recorder] segment-age (line 2): '-1h' " DURATION_PROBLEM, INVALID},
    {"recorder-age-too-long", "[recorder]\nmax-age = 3651d\n", NULL, 0,
     ORIGIN ": [recorder] max-age (line 2): '3651d' " DURATION_PROBLEM, INVALID},
    {"recorder-unit-alone", "[recorder]\nmax-age = d\n", NULL, 0,
     ORIGIN ": [recorder] max-age (line 2): 'd' " DURATION_PROBLEM, INVALID},
    {"recorder-segment-small", "[recorder]\nsegment-size = 4K\n", NULL, 0,
     ORIGIN ": [recorder] segment-size (line 2): '4K' is out of range (64K to 1G)", INVALID},
    {"memdev-strategy",
     "[policy]\nmemdev-strategy = balloon-only\n[guest:grow]\nmemdev-strategy = virtio-mem-only\n"
     "[guest:first]\nmemdev-strategy =  virtio-mem-first \n[guest:plain]\nmin = 1G\n",
     check_memdev_strategy},
    {"memdev-strategy-default", "[guest:a]\nmemdev-strategy = balloon-only\n[guest:b]\n",
     check_memdev_strategy_default},
#define STRATEGY_PROBLEM                                                                           \
        "is not a virtio-mem strategy (balloon-only, virtio-mem-first or virtio-mem-only)"
    {"memdev-strategy-unknown", "[policy]\nmemdev-strategy = virtio-mem\n", NULL, 0,
     ORIGIN ": [policy] memdev-strategy (line 2): 'virtio-mem' " STRATEGY_PROBLEM, INVALID},
    {"memdev-strategy-case", "[policy]\nmemdev-strategy = Balloon-Only\n", NULL, 0,
     ORIGIN ": [policy] memdev-strategy (line 2): 'Balloon-Only' " STRATEGY_PROBLEM, INVALID},
    {"memdev-strategy-empty", "[policy]\nmemdev-strategy =\n", NULL, 0,
     ORIGIN ": [policy] memdev-strategy (line 2): '' " STRATEGY_PROBLEM, INVALID},
    /* The line named is the one whose value GKeyFile kept. */
    {"memdev-strategy-line",
     "[daemon]\ntick-interval-ms = 1000\n\n# the default\n[policy]\nplenty = 20\n"
     "memdev-strategy = hot\n",
     NULL, 0, ORIGIN ": [policy] memdev-strategy (line 7): 'hot' " STRATEGY_PROBLEM, INVALID},
    {"bad-last-value", "[budget]\nreserve = 1G\n reserve = lots\n", NULL, 0,
     ORIGIN ": [budget] reserve (line 3): 'lots' is not a size (bytes, or a number with K, M, G, "
            "T or P: 512M, 1.5G)",
     INVALID},
    {"bad-value-repeated-group",
     "[guest:a]\nmemdev-strategy = balloon-only\n[daemon]\n[guest:a]\nmemdev-strategy = nope\n",
     NULL, 0, ORIGIN ": [guest:a] memdev-strategy (line 5): 'nope' " STRATEGY_PROBLEM, INVALID},
    {"guest-memdev-strategy-unknown", "[guest:web1]\nmemdev-strategy = hotplug\n", NULL, 0,
     ORIGIN ": [guest:web1] memdev-strategy (line 2): 'hotplug' " STRATEGY_PROBLEM, INVALID},
    {"recorder-segment-large", "[recorder]\nsegment-size = 2G\n", NULL, 0,
     ORIGIN ": [recorder] segment-size (line 2): '2G' is out of range (64K to 1G)", INVALID},
    {"recorder-bad-size", "[recorder]\nmax-size = lots\n", NULL, 0,
     ORIGIN
     ": [recorder] max-size (line 2): 'lots' is not a size (bytes, or a number with K, M, G, T or "
     "P: 512M, 1.5G)",
     INVALID},
    {"syntax", "[daemon]\nthis is not a key file\n", NULL, 0, NULL, SYNTAX},
    {"key-before-group", "tick-interval-ms = 5\n", NULL, 0, NULL, SYNTAX},
};

static void
test_parse(gconstpointer data)
{
        const ParseCase *c = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        config = vt_daemon_config_parse(c->text, (gsize)-1, ORIGIN, &error);
        if (c->check == NULL) {
                g_assert_null(config);
                g_assert_error(error, VT_DAEMON_CONFIG_ERROR, (gint)c->code);
                if (c->error != NULL)
                        g_assert_cmpstr(error->message, ==, c->error);
                else
                        g_assert_true(g_str_has_prefix(error->message, ORIGIN ": "));
                return;
        }
        g_assert_no_error(error);
        g_assert_nonnull(config);
        g_assert_cmpstr(config->origin, ==, ORIGIN);
        g_assert_cmpuint(g_strv_length((GStrv)vt_daemon_config_get_warnings(config)), ==,
                         c->n_warnings);
        c->check(config);
}

/* The length is honoured: what follows it is not parsed. */
static void
test_parse_length(void)
{
        static const char text[] = "[daemon]\ntick-interval-ms = 1000\n[budget]\nreserve = x\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        config = vt_daemon_config_parse(text, strlen("[daemon]\ntick-interval-ms = 1000\n"), ORIGIN,
                                        &error);
        g_assert_no_error(error);
        g_assert_cmpint(config->tick_interval_us, ==, G_USEC_PER_SEC);

        config = (vt_daemon_config_free(config), NULL);
        config = vt_daemon_config_parse(text, strlen(text), ORIGIN, &error);
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID);
        g_assert_null(config);
}

/* The warnings for a repeated key or group name the file, the group, the
 * key and both lines; the last value is the one used. */
static void
test_parse_repeated(void)
{
        static const char text[] = "# budget\n"
                                   "[budget]\n"
                                   "reserve = 1G\n"
                                   "\n"
                                   "  reserve=2G\n"
                                   "[guest:a]\n"
                                   "min = 1G\n"
                                   "[budget]\n"
                                   "reserve = 3G\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;
        const char *const *warnings;

        config = vt_daemon_config_parse(text, strlen(text), ORIGIN, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(config->balloon.host_reserve, ==, 3 * GiB);
        warnings = vt_daemon_config_get_warnings(config);
        g_assert_cmpuint(g_strv_length((GStrv)warnings), ==, 3);
        g_assert_cmpstr(warnings[0], ==,
                        ORIGIN ": [budget] reserve: repeated on line 5 (first on line 3), the "
                               "last value is used");
        g_assert_cmpstr(warnings[1], ==,
                        ORIGIN ": [budget]: repeated on line 8 (first on line 2), the two are "
                               "merged");
        g_assert_cmpstr(warnings[2], ==,
                        ORIGIN ": [budget] reserve: repeated on line 9 (first on line 3), the "
                               "last value is used");
}

typedef struct {
        const char *name;
        const char *text;
        gsize length; /* with the NUL bytes */
        const char *error;
} NulCase;

#define NUL_CASE(name, text, error)                                                                \
        {                                                                                          \
                name, text, sizeof(text) - 1, error                                                \
        }

/* A NUL byte is refused, never read as the end of its value. */
static const NulCase nul_cases[] = {
    NUL_CASE("in-value", "[budget]\nreserve = 1\0G\n",
             ORIGIN ": [budget] reserve (line 2): contains a NUL byte (a configuration file is "
                    "text)"),
    NUL_CASE("at-end", "[budget]\nreserve = 1G\n\0",
             ORIGIN ": [budget] (line 3): contains a NUL byte (a configuration file is text)"),
    NUL_CASE("in-comment", "[daemon]\n[budget]\n# a\0b\nreserve = 1G\n",
             ORIGIN ": [budget] (line 3): contains a NUL byte (a configuration file is text)"),
    NUL_CASE("before-group", "\0[budget]\n",
             ORIGIN ": line 1: contains a NUL byte (a configuration file is text)"),
    NUL_CASE("in-key", "[guest:a]\nm\0in = 1G\n",
             ORIGIN ": [guest:a] (line 2): contains a NUL byte (a configuration file is text)"),
};

static void
test_parse_nul(gconstpointer data)
{
        const NulCase *c = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        config = vt_daemon_config_parse(c->text, c->length, ORIGIN, &error);
        g_assert_null(config);
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_SYNTAX);
        g_assert_cmpstr(error->message, ==, c->error);
}

static void
test_defaults(void)
{
        g_autoptr(VtDaemonConfig) config = vt_daemon_config_new_default();
        const char *const *warnings = vt_daemon_config_get_warnings(config);

        check_defaults(config);
        g_assert_cmpstr(config->origin, ==, "defaults");
        g_assert_nonnull(warnings);
        g_assert_null(warnings[0]);
        g_assert_cmpstr(vt_daemon_backend_to_string(VT_DAEMON_BACKEND_QMP), ==, "qmp");
        g_assert_cmpstr(vt_daemon_backend_to_string(VT_DAEMON_BACKEND_LIBVIRT), ==, "libvirt");
}

/* ---- loading files ---- */

typedef struct {
        char *dir;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("vt-test-config-XXXXXX", &error);
        g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        vt_test_remove_tree(f->dir);
        g_assert_false(g_file_test(f->dir, G_FILE_TEST_EXISTS));
        g_free(f->dir);
}

static void
test_load_file(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "vmtided.conf", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;
        g_autofree char *expected = NULL;

        g_file_set_contents(path, "[budget]\nreserve = 2G\n", -1, &error);
        g_assert_no_error(error);
        config = vt_daemon_config_load(path, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(config->origin, ==, path);
        g_assert_cmpuint(config->balloon.host_reserve, ==, 2 * GiB);

        /* Errors name the file as given. */
        g_file_set_contents(path, "[budget]\nreserve = lots\n", -1, &error);
        g_assert_no_error(error);
        config = (vt_daemon_config_free(config), NULL);
        config = vt_daemon_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID);
        expected = g_strdup_printf("%s: [budget] reserve (line 2): 'lots' is not a size", path);
        g_assert_true(g_str_has_prefix(error->message, expected));
}

static void
test_load_missing_explicit(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "missing.conf", NULL);
        g_autofree char *expected = g_strdup_printf("%s: no such configuration file", path);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        config = vt_daemon_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_NOT_FOUND);
        g_assert_cmpstr(error->message, ==, expected);
}

static void
test_load_missing_optional(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "etc", "vmtide", "vmtided.conf", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        config = vt_daemon_config_load_optional(path, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(config->origin, ==, "defaults");
        check_defaults(config);

        /* Present, it is read, and its errors are errors. */
        g_free(path);
        path = g_build_filename(f->dir, "vmtided.conf", NULL);
        g_file_set_contents(path, "[daemon]\nstats-interval-s = 0\n", -1, &error);
        g_assert_no_error(error);
        config = (vt_daemon_config_free(config), NULL);
        config = vt_daemon_config_load_optional(path, &error);
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID);
        g_assert_null(config);
}

static void
test_load_unreadable(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        /* A directory exists but is no file: even an optional one is an error. */
        config = vt_daemon_config_load_optional(f->dir, &error);
        g_assert_null(config);
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_READ);
        g_assert_nonnull(strstr(error->message, f->dir));
}

/* Loads @path in a subprocess with a guard timeout, for what must be
 * refused before it is read: a regression fails, it does not hang or eat
 * the machine's memory. */
static void
assert_load_refused(const char *path, const char *expected)
{
        if (g_test_subprocess()) {
                g_autoptr(GError) error = NULL;
                g_autoptr(VtDaemonConfig) config = vt_daemon_config_load(path, &error);

                g_assert_null(config);
                g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_READ);
                g_assert_cmpstr(error->message, ==, expected);
                return;
        }
        g_test_trap_subprocess(NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
}

/* A character device is refused, not read until memory runs out. */
static void
test_load_device(void)
{
        assert_load_refused("/dev/zero", "/dev/zero: not a regular file (a character device)");
}

/* A FIFO is refused, without waiting for a writer. */
static void
test_load_fifo(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "vmtided.conf", NULL);
        g_autofree char *expected = g_strdup_printf("%s: not a regular file (a FIFO)", path);

        g_assert_cmpint(mkfifo(path, 0600), ==, 0);
        assert_load_refused(path, expected);
}

/* VT_DAEMON_CONFIG_SIZE_MAX bytes are read; one more is refused. */
static void
test_load_too_large(Fixture *f, gconstpointer data)
{
        g_autofree char *path = g_build_filename(f->dir, "vmtided.conf", NULL);
        g_autofree char *expected = NULL;
        g_autofree char *text = g_malloc(VT_DAEMON_CONFIG_SIZE_MAX + 1);
        static const char head[] = "[budget]\nreserve = 2G\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        /* A group, then comment lines of 64 bytes to the limit. */
        memset(text, '#', VT_DAEMON_CONFIG_SIZE_MAX + 1);
        memcpy(text, head, strlen(head));
        for (gsize i = 63; i < VT_DAEMON_CONFIG_SIZE_MAX + 1; i += 64)
                text[i] = '\n';
        g_file_set_contents(path, text, VT_DAEMON_CONFIG_SIZE_MAX, &error);
        g_assert_no_error(error);
        config = vt_daemon_config_load(path, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(config->balloon.host_reserve, ==, 2 * GiB);

        g_file_set_contents(path, text, VT_DAEMON_CONFIG_SIZE_MAX + 1, &error);
        g_assert_no_error(error);
        config = (vt_daemon_config_free(config), NULL);
        config = vt_daemon_config_load(path, &error);
        g_assert_null(config);
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_READ);
        expected = g_strdup_printf("%s: %d bytes, larger than a configuration file may be (%d "
                                   "bytes)",
                                   path, VT_DAEMON_CONFIG_SIZE_MAX + 1, VT_DAEMON_CONFIG_SIZE_MAX);
        g_assert_cmpstr(error->message, ==, expected);
}

/* load(NULL) reads the default path; whether it exists depends on the machine. */
static void
test_load_default(void)
{
        const char *path = vt_daemon_config_get_default_path();
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        g_assert_true(g_path_is_absolute(path));
        g_assert_true(g_str_has_suffix(path, "/vmtide/vmtided.conf"));
        config = vt_daemon_config_load(NULL, &error);
        if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
                g_assert_no_error(error);
                g_assert_cmpstr(config->origin, ==, "defaults");
        } else {
                g_assert_false(g_error_matches(error, VT_DAEMON_CONFIG_ERROR,
                                               VT_DAEMON_CONFIG_ERROR_NOT_FOUND));
        }
}

/* ---- the example file, data/vmtided.conf ---- */

static char *
read_example(void)
{
        g_autofree char *path =
            g_test_build_filename(G_TEST_DIST, "..", "data", "vmtided.conf", NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_file_get_contents(path, &text, NULL, &error);
        g_assert_no_error(error);
        return text;
}

/* Every "#key = value" line uncommented ("# prose" lines stay comments). */
static char *
uncomment_settings(const char *text, guint *ret_n)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        GString *out = g_string_new(NULL);
        g_autoptr(GRegex) setting = g_regex_new("^#[a-z][a-z0-9-]* =", 0, 0, NULL);

        *ret_n = 0;
        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_regex_match(setting, lines[i], 0, NULL)) {
                        g_string_append(out, lines[i] + 1);
                        (*ret_n)++;
                } else {
                        g_string_append(out, lines[i]);
                }
                g_string_append_c(out, '\n');
        }
        return g_string_free(out, FALSE);
}

static void
test_example_parses(void)
{
        g_autofree char *text = read_example();
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;
        g_autoptr(VtDaemonConfig) defaults = vt_daemon_config_new_default();

        config = vt_daemon_config_parse(text, (gsize)-1, "vmtided.conf", &error);
        g_assert_no_error(error);
        g_assert_null(vt_daemon_config_get_warnings(config)[0]);
        assert_config_eq(config, defaults);
}

/* Uncommenting every setting changes nothing: the example shows the defaults. */
static void
test_example_defaults(void)
{
        g_autofree char *text = read_example();
        g_autofree char *uncommented = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;
        g_autoptr(VtDaemonConfig) defaults = vt_daemon_config_new_default();
        guint n;

        uncommented = uncomment_settings(text, &n);
        /* Every key of every group but [guest:NAME], once. */
        g_assert_cmpuint(n, ==, 9 + 3 + 20 + 13 + 1 + 1 + 14 + 6);
        config = vt_daemon_config_parse(uncommented, (gsize)-1, "vmtided.conf", &error);
        g_assert_no_error(error);
        g_assert_null(vt_daemon_config_get_warnings(config)[0]);
        assert_config_eq(config, defaults);
}

/* ---- reload: the strategy changes live ---- */

static gboolean
list_has(GPtrArray *list, const char *name)
{
        for (guint i = 0; i < list->len; i++)
                if (g_str_equal(g_ptr_array_index(list, i), name))
                        return TRUE;
        return FALSE;
}

typedef struct {
        const char *name;
        const char *old_text;
        const char *new_text;
        const char *live[3]; /* what changes live, NULL-terminated; empty: nothing */
} ReloadCase;

static const ReloadCase reload_cases[] = {
    {"same",
     "[policy]\nmemdev-strategy = balloon-only\n",
     "[policy]\nmemdev-strategy = balloon-only\n",
     {NULL}},
    {"default-spelled-out", "", "[policy]\nmemdev-strategy = virtio-mem-first\n", {NULL}},
    {"default",
     "",
     "[policy]\nmemdev-strategy = virtio-mem-only\n",
     {"[policy] memdev-strategy", NULL}},
    {"guest-set",
     "[guest:a]\nmin = 1G\n",
     "[guest:a]\nmin = 1G\nmemdev-strategy = balloon-only\n",
     {"[guest:a] policy", NULL}},
    {"guest-changed",
     "[guest:a]\nmemdev-strategy = balloon-only\n",
     "[guest:a]\nmemdev-strategy = virtio-mem-only\n",
     {"[guest:a] policy", NULL}},
    /* Spelling out what it took from [policy] is still a change of its group. */
    {"guest-unset",
     "[guest:a]\nmemdev-strategy = virtio-mem-first\n",
     "[guest:a]\n",
     {"[guest:a] policy", NULL}},
    {"both",
     "[guest:a]\n",
     "[policy]\nmemdev-strategy = balloon-only\n[guest:a]\nmemdev-strategy = virtio-mem-only\n",
     {"[policy] memdev-strategy", "[guest:a] policy", NULL}},
};

static void
test_reload(gconstpointer data)
{
        const ReloadCase *c = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) old =
            vt_daemon_config_parse(c->old_text, (gsize)-1, ORIGIN, &error);
        g_autoptr(VtDaemonConfig) new_config = NULL;
        g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) restart = g_ptr_array_new_with_free_func(g_free);
        guint n = 0;

        g_assert_no_error(error);
        new_config = vt_daemon_config_parse(c->new_text, (gsize)-1, ORIGIN, &error);
        g_assert_no_error(error);
        vt_daemon_config_diff(old, new_config, live, restart);
        for (; c->live[n] != NULL; n++)
                g_assert_true(list_has(live, c->live[n]));
        g_assert_cmpuint(live->len, ==, n);
        g_assert_cmpuint(restart->len, ==, 0);
}

int
main(int argc, char **argv)
{
        vt_test_default_srcdir();
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(size_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/config/size/%s%s", size_cases[i].ok ? "" : "bad-",
                                    size_cases[i].text[0] != '\0' ? size_cases[i].text : "empty");

                g_strdelimit(path + strlen("/host/config/size/"), "/ ", '_');
                g_test_add_data_func(path, &size_cases[i], test_size);
        }
        for (guint i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/config/parse/%s", parse_cases[i].name);

                g_test_add_data_func(path, &parse_cases[i], test_parse);
        }
        g_test_add_func("/host/config/parse-length", test_parse_length);
        g_test_add_func("/host/config/parse-repeated", test_parse_repeated);
        for (guint i = 0; i < G_N_ELEMENTS(nul_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/config/parse-nul/%s", nul_cases[i].name);

                g_test_add_data_func(path, &nul_cases[i], test_parse_nul);
        }
        g_test_add_func("/host/config/defaults", test_defaults);
        g_test_add("/host/config/load/file", Fixture, NULL, fixture_setup, test_load_file,
                   fixture_teardown);
        g_test_add("/host/config/load/missing-explicit", Fixture, NULL, fixture_setup,
                   test_load_missing_explicit, fixture_teardown);
        g_test_add("/host/config/load/missing-default", Fixture, NULL, fixture_setup,
                   test_load_missing_optional, fixture_teardown);
        g_test_add("/host/config/load/unreadable", Fixture, NULL, fixture_setup,
                   test_load_unreadable, fixture_teardown);
        g_test_add_func("/host/config/load/device", test_load_device);
        g_test_add("/host/config/load/fifo", Fixture, NULL, fixture_setup, test_load_fifo,
                   fixture_teardown);
        g_test_add("/host/config/load/too-large", Fixture, NULL, fixture_setup, test_load_too_large,
                   fixture_teardown);
        g_test_add_func("/host/config/load/default-path", test_load_default);
        g_test_add_func("/host/config/example/parses", test_example_parses);
        g_test_add_func("/host/config/example/defaults", test_example_defaults);
        for (guint i = 0; i < G_N_ELEMENTS(reload_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/config/reload/memdev-strategy/%s", reload_cases[i].name);

                g_test_add_data_func(path, &reload_cases[i], test_reload);
        }

        return g_test_run();
}
