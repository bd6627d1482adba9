/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: vmtided on one libvirtd moving a domain by itself to a
 * second libvirtd on this machine, whose own vmtided takes it over.
 *
 * Theory of operation: the first libvirtd is the harness's (or the host's)
 * qemu:///system; the second is vt_test_libvirt_peer_start()'s, a "host"
 * of its own (its own host UUID and directories in a mount namespace),
 * reached at `qemu+unix:///system?socket=...`. Two vmtided, `backend =
 * libvirt`, one on each. The first lists the second libvirtd as its peer
 * and reads its room through libvirt (read-only: the node's free memory
 * less what its domains may grow back to), the stream going over a Unix
 * socket both QEMUs see (`[peer:URI] transport-uri`).
 *
 * Two 256 MiB TCG domains with `min` at their whole size (the balloon
 * cannot take anything; the second pinned) overrun the first daemon's
 * 400 MiB budget: critical. Its planner measures the free domain's dirty
 * rate, moves it peer-to-peer (MIGRATION_FINISHED completed, then
 * GUEST_REMOVED); the second daemon adds it; the domain runs on the second
 * libvirtd only; the first host leaves critical.
 *
 * Unproven on one machine: both daemons share /proc and the KSM knobs (KSM
 * is off in both), each "host"'s shortage is its budget's; the peer's room
 * read through libvirt is the whole machine's. The guest's agent is not
 * checked on the peer: its socket is under the peer's private
 * /var/lib/libvirt, which the second vmtided (in the test's namespace)
 * cannot reach; the workload's socket is gone with the source QEMU (see
 * tests/test-libvirt-migrate.c).
 */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-libvirt.h"

#define MIB          (G_GUINT64_CONSTANT(1) << 20)
#define GUEST_MEMORY (256 * MIB)
#define PHASE_US     (180 * G_USEC_PER_SEC)

typedef struct {
        char *dir;
        char *d1_dir;
        char *d2_dir;
        VtTestLibvirt *lv;
        VtTestLibvirtPeer *peer;
        VtTestGuest *guests[2];
        VtTestDaemon *d1;
        VtTestDaemon *d2;
} Fixture;

static const char *
event_string(const VtTestDaemonEvent *event, const char *member)
{
        return vt_test_daemon_event_string(event, member);
}

/* Whether @uri's libvirtd runs a domain named @name. */
static gboolean
domain_runs(const char *uri, const char *name)
{
        g_autoptr(GError) error = NULL;
        virConnectPtr conn = vt_test_libvirt_connect(uri, &error);
        virDomainPtr domain;
        gboolean runs = FALSE;

        g_assert_no_error(error);
        domain = virDomainLookupByName(conn, name);
        if (domain != NULL) {
                int state = 0, reason = 0;

                runs = virDomainGetState(domain, &state, &reason, 0) == 0 &&
                       state == VIR_DOMAIN_RUNNING;
                virDomainFree(domain);
        }
        virConnectClose(conn);
        return runs;
}

static void
daemons_start(Fixture *fx)
{
        const char *peer_uri = vt_test_libvirt_peer_get_uri(fx->peer);
        g_autofree char *stream = vt_test_libvirt_peer_migrate_uri(fx->peer, "{guest}");
        g_autofree char *d1_config = g_strdup_printf(
            "[daemon]\nbackend = libvirt\ntick-interval-ms = 1000\nagent-interval-ms = 1000\n"
            "[libvirt]\nuri = %s\n"
            "[budget]\ntotal = 400M\nreserve = 0\n"
            "[ksm]\nenabled = false\n"
            "[migrate]\nenabled = true\npeers = %s\n"
            "hysteresis-ticks = 2\ncooldown-guest-s = 0\ncooldown-host-s = 0\n"
            "min-relief = 64M\npeer-interval-ms = 1000\n"
            "[peer:%s]\ntransport-uri = %s\n"
            "[guest:%s]\nmin = 256M\n"
            "[guest:%s]\nmin = 256M\nmigrate-pinned = true\n",
            vt_test_libvirt_get_uri(fx->lv), peer_uri, peer_uri, stream,
            vt_test_guest_get_libvirt_name(fx->guests[0]),
            vt_test_guest_get_libvirt_name(fx->guests[1]));
        g_autofree char *d2_config =
            g_strdup_printf("[daemon]\nbackend = libvirt\ntick-interval-ms = 1000\n"
                            "[libvirt]\nuri = %s\n"
                            "[budget]\ntotal = 3G\nreserve = 0\n"
                            "[ksm]\nenabled = false\n",
                            peer_uri);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir(fx->d1_dir, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(fx->d2_dir, 0755), ==, 0);
        fx->d2 = vt_test_daemon_start(fx->d2_dir, d2_config, &error);
        g_assert_no_error(error);
        fx->d1 = vt_test_daemon_start(fx->d1_dir, d1_config, &error);
        g_assert_no_error(error);
}

/* Waits for d1's HOST_STATE into (or, with @leave, out of) critical. */
static void
wait_critical(Fixture *fx, guint *from, gboolean leave)
{
        gint64 end = g_get_monotonic_time() + PHASE_US;

        while (g_get_monotonic_time() < end) {
                const VtTestDaemonEvent *ev = vt_test_daemon_wait_event(
                    fx->d1, from, "HOST_STATE", NULL, end - g_get_monotonic_time());

                g_assert_nonnull(ev);
                if ((g_strcmp0(event_string(ev, "to"), "critical") == 0) != leave)
                        return;
        }
        g_error("d1 did not %s critical", leave ? "leave" : "turn");
}

static void
phase_automatic(Fixture *fx)
{
        const char *name = vt_test_guest_get_libvirt_name(fx->guests[0]);
        const char *pinned = vt_test_guest_get_libvirt_name(fx->guests[1]);
        const VtTestDaemonEvent *ev;
        g_autofree char *out = NULL, *err = NULL;
        guint from1 = 0, from2 = 0, at;

        vt_test_daemon_assert_guests_added(fx->d1, fx->guests, 2, 0, PHASE_US);
        wait_critical(fx, &from1, FALSE);

        at = from1;
        ev = vt_test_daemon_assert_event(fx->d1, &at, "DIRTY_RATE", name, PHASE_US);
        g_test_message("%s dirties %s bytes/s", name, event_string(ev, "rate"));
        ev = vt_test_daemon_assert_event(fx->d1, &at, "MIGRATION_STARTED", name, PHASE_US);
        g_test_message("moves: %s", event_string(ev, "reason"));
        ev = vt_test_daemon_assert_event(fx->d1, &at, "MIGRATION_FINISHED", name, PHASE_US);
        g_test_message("%s: %s: %s", name, event_string(ev, "outcome"),
                       event_string(ev, "summary"));
        g_assert_cmpstr(event_string(ev, "outcome"), ==, "completed");
        vt_test_daemon_assert_event(fx->d1, &at, "GUEST_REMOVED", name, PHASE_US);
        g_assert_cmpuint(vt_test_daemon_count_events(fx->d1, 0, "MIGRATION_STARTED", pinned), ==,
                         0);

        vt_test_daemon_assert_event(fx->d2, &from2, "GUEST_ADDED", name, PHASE_US);
        g_assert_true(domain_runs(vt_test_libvirt_peer_get_uri(fx->peer), name));
        g_assert_false(domain_runs(vt_test_libvirt_get_uri(fx->lv), name));
        wait_critical(fx, &from1, TRUE);

        g_assert_cmpint(vt_test_daemon_run_cli(fx->d1, &out, &err, "hosts", NULL), ==, 0);
        g_test_message("vmtide hosts:\n%s", out);
        g_assert_nonnull(strstr(out, "libvirt"));
}

static void
test_vmtided_migrate_libvirt(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        Fixture fx = {0};

        if (!vt_test_skip_unless(vt_test_libvirt_available(&reason), reason))
                return;
        fx.lv = vt_test_libvirt_ensure(&error);
        g_assert_no_error(error);
        fx.peer = vt_test_libvirt_peer_start(&error);
        g_assert_no_error(error);
        fx.dir = g_dir_make_tmp("vt-migrate-lv-XXXXXX", &error);
        g_assert_no_error(error);
        fx.d1_dir = g_build_filename(fx.dir, "d1", NULL);
        fx.d2_dir = g_build_filename(fx.dir, "d2", NULL);
        for (guint i = 0; i < 2; i++) {
                g_autofree char *name = g_strdup_printf("vt-mlv-%d-%u", (int)getpid(), i);
                const VtTestGuestOptions options = {
                    .name = name,
                    .memory_bytes = GUEST_MEMORY,
                    .libvirt_uri = vt_test_libvirt_get_uri(fx.lv),
                };

                fx.guests[i] = vt_test_guest_start(&options, &error);
                g_assert_no_error(error);
        }
        daemons_start(&fx);

        phase_automatic(&fx);

        g_clear_pointer(&fx.d1, vt_test_daemon_free);
        g_clear_pointer(&fx.d2, vt_test_daemon_free);
        for (guint i = 0; i < 2; i++)
                g_clear_pointer(&fx.guests[i], vt_test_guest_free);
        g_clear_pointer(&fx.peer, vt_test_libvirt_peer_free);
        g_clear_pointer(&fx.lv, vt_test_libvirt_free);
        vt_test_remove_tree(fx.dir);
        g_free(fx.d1_dir);
        g_free(fx.d2_dir);
        g_free(fx.dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vmtided/migrate/libvirt", test_vmtided_migrate_libvirt);
        return g_test_run();
}
