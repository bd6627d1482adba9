/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection with the libvirt backend: libvirtd restarted in the middle of a balloon move. */

/*
 * One 512 MiB TCG domain, vmtided with `backend = libvirt` and a budget
 * far above it (every move is the test's: `set-target`, sent as a
 * DECISION). The balloon is asked to shrink to 200 MiB through libvirt;
 * libvirtd is stopped before the move can be confirmed and started again.
 * The daemon says it lost libvirtd and found it again (BACKEND events),
 * drops nothing, and ends with vt_test_daemon_assert_nothing_lost():
 * the domain runs, its balloon (libvirt's `dommemstat` actual) is where
 * vmtided decided, no OOM kill. The restart needs a libvirtd the harness
 * runs (tests/vt-test-libvirt.c); the host's own is left alone and the
 * case then skips, which CI counts as a failure.
 */
#include <libvirt/libvirt.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-libvirt.h"
#include "tests/vt-test-util.h"

#define MIB         ((gint64)1 << 20)
#define GUEST_BYTES (512 * MIB)
#define GUARD_US    (120 * G_USEC_PER_SEC)

static const char config_text[] = "[daemon]\n"
                                  "backend = libvirt\n"
                                  "tick-interval-ms = 1000\n"
                                  "agent-interval-ms = 1000\n"
                                  "[libvirt]\n"
                                  "uri = qemu:///system\n"
                                  "[budget]\n"
                                  "total = 8G\n"
                                  "reserve = 0\n"
                                  "[ksm]\n"
                                  "enabled = false\n";

static void
dump_libvirtd_log(gpointer user_data)
{
        g_autofree char *log = vt_test_libvirt_read_log(user_data);

        if (log != NULL && log[0] != '\0')
                g_printerr("# libvirtd's log (tail):\n%s\n",
                           strlen(log) > 4096 ? log + strlen(log) - 4096 : log);
}

static void
hold(VtTestDaemon *daemon, const char *name, gint64 bytes)
{
        g_autoptr(GError) error = NULL;
        json_object *args = json_object_new_object();
        json_object *reply;

        json_object_object_add(args, "name", json_object_new_string(name));
        json_object_object_add(args, "bytes", json_object_new_int64(bytes));
        reply = vt_test_daemon_execute(daemon, "set-target", args, &error);
        g_assert_no_error(error);
        json_object_put(reply);
}

/* The next BACKEND event from *@from on with `connected` @connected. */
static void
wait_backend(VtTestDaemon *daemon, guint *from, const char *connected)
{
        const VtTestDaemonEvent *event;

        do
                event = vt_test_daemon_assert_event(daemon, from, "BACKEND", NULL, GUARD_US);
        while (g_strcmp0(vt_test_daemon_event_string(event, "connected"), connected) != 0);
        vt_test_say("libvirtd restart: BACKEND connected %s: %s", connected,
                    vt_test_daemon_event_string(event, "message"));
}

static void
test_libvirtd_restart(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtTestLibvirt) libvirt = NULL;
        g_autoptr(VtTestGuest) guest = NULL;
        g_autoptr(VtTestDaemon) daemon = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *name = NULL;
        g_autofree char *pong = NULL;
        VtTestGuestOptions options = {0};
        guint from, at;

        if (!vt_test_skip_unless(vt_test_libvirt_available(&reason), reason))
                return;
        libvirt = vt_test_libvirt_ensure(&error);
        g_assert_no_error(error);
        if (!vt_test_skip_unless(vt_test_libvirt_owns_daemon(libvirt),
                                 "libvirtd is the host's, not the test's to restart"))
                return;
        dir = g_dir_make_tmp("vt-fault-libvirt-XXXXXX", &error);
        g_assert_no_error(error);
        name = g_strdup_printf("vt-lv-%d-f0", (int)getpid());
        options.name = name;
        options.memory_bytes = GUEST_BYTES;
        options.libvirt_uri = vt_test_libvirt_get_uri(libvirt);
        guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        daemon = vt_test_daemon_start(dir, config_text, &error);
        g_assert_no_error(error);
        vt_test_daemon_set_dump_func(daemon, dump_libvirtd_log, libvirt);
        vt_test_daemon_assert_guests_added(daemon, &guest, 1, 0, GUARD_US);
        hold(daemon, name, vt_test_daemon_guest_int(daemon, name, "actual"));

        vt_test_say("libvirtd restart: %s asked for 200 MiB, libvirtd stopped", name);
        from = vt_test_daemon_get_n_events(daemon);
        hold(daemon, name, 200 * MIB);
        at = from;
        vt_test_daemon_assert_event(daemon, &at, "DECISION", name, GUARD_US);
        g_assert_true(vt_test_libvirt_stop_daemon(libvirt, &error));
        g_assert_no_error(error);
        wait_backend(daemon, &at, "false");
        vt_test_say("libvirtd restart: the move %s confirmed before libvirtd went",
                    vt_test_daemon_count_events(daemon, from, "BALLOON_DONE", name) > 0
                        ? "was"
                        : "was not");
        /* The domain runs on without libvirtd, and vmtided answers. */
        pong = vt_test_guest_workload(guest, "ping", GUARD_US, &error);
        g_assert_no_error(error);
        g_assert_cmpint(vt_test_daemon_run_cli(daemon, NULL, NULL, "list", NULL), ==, 0);

        g_assert_true(vt_test_libvirt_start_daemon(libvirt, &error));
        g_assert_no_error(error);
        wait_backend(daemon, &at, "true");
        g_assert_cmpuint(vt_test_daemon_count_events(daemon, from, "GUEST_REMOVED", NULL), ==, 0);
        vt_test_daemon_assert_nothing_lost(daemon, &guest, 1, GUARD_US);

        g_clear_pointer(&daemon, vt_test_daemon_free);
        g_clear_pointer(&guest, vt_test_guest_free);
        g_clear_pointer(&libvirt, vt_test_libvirt_free);
        vt_test_remove_tree(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fault/libvirt/libvirtd-restart", test_libvirtd_restart);
        return g_test_run();
}
