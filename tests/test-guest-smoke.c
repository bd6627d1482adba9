/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Smoke test of the test guest: boot, ping the workload, allocate and free memory. */

#include "vt-test-guest.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <signal.h>
#include <sys/types.h>

#define MIB (G_GUINT64_CONSTANT(1024) * 1024)

/**
 * workload_meminfo() - Ask the workload for MemAvailable.
 * @guest: the guest
 *
 * Return: MemAvailable in bytes; the test fails on a bad reply
 */
static guint64
workload_meminfo(VtTestGuest *guest)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = NULL;
        guint64 total = 0, free_bytes = 0, available = 0;

        reply = vt_test_guest_workload(guest, "meminfo", 0, &error);
        g_assert_no_error(error);
        g_assert_cmpint(sscanf(reply,
                               "ok %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                               &total, &free_bytes, &available),
                        ==, 3);
        g_assert_cmpuint(total, ==, vt_test_guest_get_mem_total(guest));
        g_assert_cmpuint(available, <=, total);
        return available;
}

static void
test_guest_smoke_boot(void)
{
        const VtTestGuestOptions options = {.name = "smoke"};
        g_autoptr(VtTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *reply = NULL;
        g_autofree char *dir = NULL;
        guint64 before, during, after;
        GPid pid;

        if (!vt_test_guest_available(&reason)) {
                g_test_skip(reason);
                return;
        }

        guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        g_test_message("guest ready in %.2f s, MemTotal %" G_GUINT64_FORMAT " bytes",
                       (double)vt_test_guest_get_ready_us(guest) / G_USEC_PER_SEC,
                       vt_test_guest_get_mem_total(guest));
        g_assert_cmpuint(vt_test_guest_get_mem_total(guest), >, 256 * MIB);
        g_assert_true(g_file_test(vt_test_guest_get_qmp_path(guest), G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(vt_test_guest_get_agent_path(guest), G_FILE_TEST_EXISTS));

        reply = vt_test_guest_workload(guest, "ping", 0, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(reply, ==, "pong");
        g_clear_pointer(&reply, g_free);

        reply = vt_test_guest_workload(guest, "bogus", 0, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(reply, ==, "err unknown command");
        g_clear_pointer(&reply, g_free);

        before = workload_meminfo(guest);
        reply = vt_test_guest_workload(guest, "alloc 67108864", 0, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(reply, ==, "ok 67108864");
        g_clear_pointer(&reply, g_free);
        during = workload_meminfo(guest);
        g_test_message("MemAvailable %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " bytes", before,
                       during);
        g_assert_cmpuint(during + 60 * MIB, <=, before);

        reply = vt_test_guest_workload(guest, "free", 0, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(reply, ==, "ok 0");
        g_clear_pointer(&reply, g_free);
        after = workload_meminfo(guest);
        g_assert_cmpuint(after, >=, during + 56 * MIB);

        pid = vt_test_guest_get_pid(guest);
        dir = g_strdup(vt_test_guest_get_dir(guest));
        g_clear_pointer(&guest, vt_test_guest_free);
        g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
        /* Reaped: the pid is no longer our child. */
        g_assert_cmpint(kill(pid, 0), ==, -1);
        g_assert_cmpint(errno, ==, ESRCH);
}

static void
test_guest_smoke_unavailable(void)
{
        g_autofree char *reason = NULL;
        g_autoptr(VtTestGuest) guest = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *saved = g_strdup(g_getenv("VT_GUEST_DIR"));

        g_setenv("VT_GUEST_DIR", "/nonexistent", TRUE);
        g_assert_false(vt_test_guest_available(&reason));
        g_assert_nonnull(reason);
        guest = vt_test_guest_start(NULL, &error);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        g_assert_null(guest);
        if (saved != NULL)
                g_setenv("VT_GUEST_DIR", saved, TRUE);
        else
                g_unsetenv("VT_GUEST_DIR");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/guest/smoke/unavailable", test_guest_smoke_unavailable);
        g_test_add_func("/guest/smoke/boot", test_guest_smoke_boot);
        return g_test_run();
}
