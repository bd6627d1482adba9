/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration tests of the QMP-direct guest's migration methods against
 * two real QEMU processes under TCG: the dirty rate measured against the
 * rate the workload dirties at; a migration that completes (through the
 * destination command), one cancelled mid-way, one whose destination is
 * killed mid-way.
 *
 * To stay under two minutes on TCG, one source guest boots once and the
 * cases run in order on it (the one that completes last, since it ends
 * the source); each case that migrates starts its own destination: the
 * same machine with `-incoming unix:PATH` (vt-test-guest's `incoming`).
 * The guest allocates ALLOC_BYTES of patterned memory and dirties a
 * DIRTY_BUFFER at DIRTY_RATE; its "check" answer (allocation, checksum,
 * pages whose tag was lost) must read the same on whichever QEMU runs it.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>

#include "host/qmp-direct/qmp-direct-guest.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB          (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_NAME   "mig"
#define GUEST_MEMORY (256 * MIB)
#define ALLOC_BYTES  (32 * MIB)
#define DIRTY_RATE   (8 * MIB)
#define DIRTY_BUFFER (64 * MIB)
/* Slow enough that a move is still under way when the test acts on it. */
#define SLOW_BANDWIDTH (4 * MIB)
#define QUERY_EVERY_US (100 * 1000)
#define MOVE_GUARD_US  (90 * G_USEC_PER_SEC)

static struct {
        VtTestGuest *source;
        VtGuest *guest;
        char *check; /* the workload's "check" reply before any move */
        guint n_gone;
        char *tmp;
} S;

static void
on_gone(VtGuest *guest, gpointer error, gpointer data)
{
        S.n_gone++;
}

static char *
workload(VtTestGuest *test_guest, const char *command)
{
        g_autoptr(GError) error = NULL;
        char *reply = vt_test_guest_workload(test_guest, command, 0, &error);

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(reply, "ok"));
        return reply;
}

/* Boots the source once, starts its VtGuestQmp; FALSE: skipped. */
static gboolean
ensure_source(void)
{
        const VtTestGuestOptions options = {
            .name = GUEST_NAME, .memory_bytes = GUEST_MEMORY, .migrates = TRUE};
        g_autofree char *reason = NULL;
        g_autofree char *reply = NULL;
        g_autofree char *command = NULL;
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return FALSE;
        if (S.source != NULL)
                return TRUE;
        S.source = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        g_test_message("source ready in %.2f s",
                       (double)vt_test_guest_get_ready_us(S.source) / G_USEC_PER_SEC);
        command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, ALLOC_BYTES);
        reply = workload(S.source, command);
        S.check = workload(S.source, "check");

        S.guest = vt_guest_qmp_new(GUEST_NAME, vt_test_guest_get_qmp_path(S.source), NULL, 0);
        g_signal_connect(S.guest, "gone", G_CALLBACK(on_gone), NULL);
        vt_guest_start_async(S.guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(S.guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        g_assert_true(vt_guest_can_migrate(S.guest));
        return TRUE;
}

/* The workload answers "check" as before any move: its memory survived. */
static void
assert_check_survived(VtTestGuest *test_guest)
{
        g_autofree char *check = workload(test_guest, "check");
        g_auto(GStrv) before = g_strsplit(S.check, " ", -1);
        g_auto(GStrv) after = g_strsplit(check, " ", -1);

        g_test_message("check before '%s', now '%s'", S.check, check);
        g_assert_cmpuint(g_strv_length(after), ==, 5);
        g_assert_cmpstr(after[1], ==, before[1]); /* allocated */
        g_assert_cmpstr(after[2], ==, before[2]); /* its checksum */
        g_assert_cmpstr(after[4], ==, "0");       /* no dirty page lost its tag */
}

static gboolean
measure(VtGuest *guest, gint64 window_us, guint64 *ret_rate, GError **error)
{
        VtTestWaiter waiter = {0};
        gboolean ok;

        vt_guest_measure_dirty_rate_async(guest, window_us, vt_test_waiter_callback, &waiter);
        ok = vt_guest_measure_dirty_rate_finish(guest, vt_test_waiter_wait(&waiter), ret_rate,
                                                error);
        vt_test_waiter_clear(&waiter);
        return ok;
}

static void
query(VtGuest *guest, VtMigrateProgress *ret_progress)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        vt_guest_migrate_query_async(guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_migrate_query_finish(guest, vt_test_waiter_wait(&waiter),
                                                    ret_progress, &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

static gboolean
flag_set(gpointer data)
{
        return *(gboolean *)data;
}

static gboolean
on_tick(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

static void
say_progress(const char *what, const VtMigrateProgress *p)
{
        g_test_message("%s: status %d, pass %u, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                       " bytes sent, %" G_GUINT64_FORMAT " left, dirty %" G_GUINT64_FORMAT
                       " B/s, %" G_GUINT64_FORMAT " B/s on the wire, %.2f s, %.0f ms down%s%s",
                       what, p->status, p->pass, p->transferred_bytes, p->total_bytes,
                       p->remaining_bytes, p->dirty_rate, p->throughput,
                       (double)p->elapsed_us / G_USEC_PER_SEC, (double)p->downtime_us / 1000,
                       p->error[0] != '\0' ? ", error: " : "", p->error);
}

/* Queries every QUERY_EVERY_US (as the executor does) until @done holds. */
static void
wait_progress(VtGuest *guest, gboolean (*done)(const VtMigrateProgress *),
              VtMigrateProgress *ret_progress)
{
        gint64 deadline_us = g_get_monotonic_time() + MOVE_GUARD_US;

        for (;;) {
                gboolean ticked = FALSE;

                query(guest, ret_progress);
                if (done(ret_progress))
                        return;
                if (vt_migrate_status_is_final(ret_progress->status))
                        say_progress("ended early", ret_progress);
                g_assert_false(vt_migrate_status_is_final(ret_progress->status));
                g_assert_cmpint(g_get_monotonic_time(), <, deadline_us);
                g_timeout_add(QUERY_EVERY_US / 1000, on_tick, &ticked);
                g_assert_true(vt_test_run_until(flag_set, &ticked, VT_TEST_GUARD_US));
        }
}

static gboolean
is_under_way(const VtMigrateProgress *p)
{
        return p->status == VT_MIGRATE_STATUS_ACTIVE && p->transferred_bytes > MIB;
}

static gboolean
is_final(const VtMigrateProgress *p)
{
        return vt_migrate_status_is_final(p->status);
}

static void
start_migration(VtGuest *guest, const VtMigrateRequest *request, GError **error)
{
        VtTestWaiter waiter = {0};

        vt_guest_migrate_start_async(guest, request, vt_test_waiter_callback, &waiter);
        vt_guest_migrate_start_finish(guest, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
}

static VtTestGuest *
start_destination(void)
{
        const VtTestGuestOptions options = {
            .name = GUEST_NAME, .memory_bytes = GUEST_MEMORY, .incoming = TRUE};
        g_autoptr(GError) error = NULL;
        VtTestGuest *destination = vt_test_guest_start(&options, &error);

        g_assert_no_error(error);
        g_assert_nonnull(vt_test_guest_get_incoming_uri(destination));
        return destination;
}

/* (a) The dirty rate measured is near the rate the workload dirties at. */
static void
test_dirty_rate(void)
{
        g_autofree char *reply = NULL;
        g_autofree char *command = NULL;
        g_autoptr(GError) error = NULL;
        guint64 idle = 0, rate = 0;
        gint64 start_us;

        if (!ensure_source())
                return;
        g_assert_true(measure(S.guest, G_USEC_PER_SEC, &idle, &error));
        g_assert_no_error(error);
        g_test_message("idle: %" G_GUINT64_FORMAT " bytes/s over 1 s", idle);
        g_assert_cmpuint(idle, <=, 2 * MIB);

        command = g_strdup_printf("dirty %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, DIRTY_RATE,
                                  DIRTY_BUFFER);
        reply = workload(S.source, command);
        /* 1.2 s: QEMU 7.2 measures whole seconds, so 2 s. */
        start_us = g_get_monotonic_time();
        g_assert_true(measure(S.guest, 1200 * 1000, &rate, &error));
        g_assert_no_error(error);
        g_test_message("dirtying %" G_GUINT64_FORMAT " bytes/s: measured %" G_GUINT64_FORMAT
                       " bytes/s over 2 s, in %.2f s",
                       DIRTY_RATE, rate,
                       (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC);
        g_assert_cmpint(g_get_monotonic_time() - start_us, >=, 2 * G_USEC_PER_SEC);
        g_assert_cmpuint(rate, >=, DIRTY_RATE / 2);
        g_assert_cmpuint(rate, <=, DIRTY_RATE * 2);
        S.check = (g_free(S.check), workload(S.source, "check"));
}

/* Writes an executable script in S.tmp; returns its path. */
static char *
write_script(const char *name, const char *body)
{
        g_autoptr(GError) error = NULL;
        char *path;

        if (S.tmp == NULL) {
                S.tmp = g_dir_make_tmp("vt-qmp-migrate-XXXXXX", &error);
                g_assert_no_error(error);
        }
        path = g_build_filename(S.tmp, name, NULL);
        g_assert_true(g_file_set_contents(path, body, -1, &error));
        g_assert_no_error(error);
        g_assert_cmpint(g_chmod(path, 0700), ==, 0);
        return path;
}

/* The destination command's failures fail the start and move nothing. */
static void
test_destination_command(void)
{
        const VtMigrateRequest request = {.peer = "peer-1"};
        VtGuestQmp *guest;
        g_autofree char *garbage = NULL;
        g_autofree char *hangs = NULL;
        g_autofree char *fails = NULL;
        g_autoptr(GError) error = NULL;
        VtMigrateProgress progress;

        if (!ensure_source())
                return;
        guest = VT_GUEST_QMP(S.guest);

        start_migration(S.guest, &request, &error);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);

        garbage = write_script("garbage", "#!/bin/sh\necho 'not a uri'\n");
        g_assert_true(vt_guest_qmp_set_destination_command(guest, garbage, &error));
        start_migration(S.guest, &request, &error);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_clear_error(&error);

        fails = write_script("fails", "#!/bin/sh\necho unix:/nonexistent\nexit 3\n");
        g_assert_true(vt_guest_qmp_set_destination_command(guest, fails, &error));
        start_migration(S.guest, &request, &error);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
        g_clear_error(&error);

        /* exec: the shell's pid is the one killed at the timeout. */
        hangs = write_script("hangs", "#!/bin/sh\nexec sleep 60\n");
        g_assert_true(vt_guest_qmp_set_destination_command(guest, hangs, &error));
        vt_guest_qmp_set_destination_timeout(guest, G_USEC_PER_SEC / 2);
        start_migration(S.guest, &request, &error);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_clear_error(&error);
        vt_guest_qmp_set_destination_timeout(guest, VT_GUEST_QMP_DESTINATION_TIMEOUT_US);

        g_assert_false(vt_guest_qmp_set_destination_command(guest, "'unbalanced", &error));
        g_assert_error(error, G_SHELL_ERROR, G_SHELL_ERROR_BAD_QUOTING);
        g_clear_error(&error);
        g_assert_true(vt_guest_qmp_set_destination_command(guest, NULL, &error));

        query(S.guest, &progress);
        g_assert_cmpint(progress.status, ==, VT_MIGRATE_STATUS_NONE);
}

/* (c) A cancel mid-way leaves the guest running on the source. */
static void
test_cancel(void)
{
        g_autoptr(VtTestGuest) destination = NULL;
        VtMigrateRequest request = {.peer = "peer-1", .bandwidth = SLOW_BANDWIDTH};
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        VtMigrateProgress progress;
        guint64 rate = 0;

        if (!ensure_source())
                return;
        destination = start_destination();
        request.transport_uri = vt_test_guest_get_incoming_uri(destination);
        start_migration(S.guest, &request, &error);
        g_assert_no_error(error);
        wait_progress(S.guest, is_under_way, &progress);
        say_progress("under way", &progress);
        /* The guest's RAM and the ROMs' (BIOS, option ROMs): 520 KiB here. */
        g_assert_cmpuint(progress.total_bytes, >=, GUEST_MEMORY);
        g_assert_cmpuint(progress.total_bytes, <, GUEST_MEMORY + 16 * MIB);
        g_assert_cmpuint(progress.pass, >=, 1);

        /* No sampling during a move: its own figures serve. */
        g_assert_false(measure(S.guest, G_USEC_PER_SEC, &rate, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
        g_clear_error(&error);

        vt_guest_migrate_set_downtime_async(S.guest, 500 * 1000, vt_test_waiter_callback, &waiter);
        g_assert_true(
            vt_guest_migrate_set_downtime_finish(S.guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);

        vt_guest_migrate_cancel_async(S.guest, vt_test_waiter_callback, &waiter);
        g_assert_true(
            vt_guest_migrate_cancel_finish(S.guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        wait_progress(S.guest, is_final, &progress);
        say_progress("cancelled", &progress);
        g_assert_cmpint(progress.status, ==, VT_MIGRATE_STATUS_CANCELLED);

        g_assert_cmpuint(S.n_gone, ==, 0);
        g_assert_false(vt_test_guest_wait_exit(S.source, 0));
        assert_check_survived(S.source);
}

/* (d) A destination killed mid-way leaves the guest running on the source. */
static void
test_destination_killed(void)
{
        g_autoptr(VtTestGuest) destination = NULL;
        VtMigrateRequest request = {.peer = "peer-1", .bandwidth = SLOW_BANDWIDTH};
        g_autoptr(GError) error = NULL;
        VtMigrateProgress progress;
        gint64 killed_us;

        if (!ensure_source())
                return;
        destination = start_destination();
        request.transport_uri = vt_test_guest_get_incoming_uri(destination);
        start_migration(S.guest, &request, &error);
        g_assert_no_error(error);
        wait_progress(S.guest, is_under_way, &progress);
        say_progress("under way", &progress);

        vt_test_guest_kill(destination);
        killed_us = g_get_monotonic_time();
        wait_progress(S.guest, is_final, &progress);
        say_progress("destination killed", &progress);
        g_test_message("read final %.2f s after the kill",
                       (double)(g_get_monotonic_time() - killed_us) / G_USEC_PER_SEC);
        g_assert_cmpint(progress.status, ==, VT_MIGRATE_STATUS_FAILED);

        g_assert_cmpuint(S.n_gone, ==, 0);
        g_assert_false(vt_test_guest_wait_exit(S.source, 0));
        assert_check_survived(S.source);
}

/* (b) A move through the destination command completes: the guest runs on
 * the destination with its memory, the source QEMU quit. */
static void
test_complete(void)
{
        g_autoptr(VtTestGuest) destination = NULL;
        g_autoptr(VtGuest) arrived = NULL;
        const VtMigrateRequest request = {.peer = "peer-1"};
        g_autofree char *script = NULL;
        g_autofree char *body = NULL;
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        VtMigrateProgress progress, again;
        guint64 rate = 0;

        if (!ensure_source())
                return;
        destination = start_destination();
        body = g_strdup_printf("#!/bin/sh\n"
                               "[ \"$#\" = 2 ] && [ \"$1\" = '%s' ] && [ \"$2\" = 'peer-1' ] || "
                               "{ echo \"bad arguments: $*\" >&2; exit 2; }\n"
                               "echo '%s'\n",
                               GUEST_NAME, vt_test_guest_get_incoming_uri(destination));
        script = write_script("destination", body);
        g_assert_true(vt_guest_qmp_set_destination_command(VT_GUEST_QMP(S.guest), script, &error));

        start_migration(S.guest, &request, &error);
        g_assert_no_error(error);
        wait_progress(S.guest, is_final, &progress);
        say_progress("completed", &progress);
        g_assert_cmpint(progress.status, ==, VT_MIGRATE_STATUS_COMPLETED);
        /* The guest's RAM and the ROMs' (BIOS, option ROMs): 520 KiB here. */
        g_assert_cmpuint(progress.total_bytes, >=, GUEST_MEMORY);
        g_assert_cmpuint(progress.total_bytes, <, GUEST_MEMORY + 16 * MIB);
        g_assert_cmpuint(progress.transferred_bytes, >, ALLOC_BYTES);
        g_assert_cmpint(progress.elapsed_us, >, 0);
        g_assert_cmpint(progress.downtime_us, >, 0);

        /* The spent source quits; its guest goes, and keeps the answer. */
        g_assert_true(vt_test_wait_above(&S.n_gone, 0, VT_TEST_GUARD_US));
        g_assert_true(vt_test_guest_wait_exit(S.source, VT_TEST_GUARD_US));
        query(S.guest, &again);
        g_assert_cmpint(again.status, ==, VT_MIGRATE_STATUS_COMPLETED);
        g_assert_cmpint(again.elapsed_us, ==, progress.elapsed_us);

        /* It runs on the destination, memory intact, still dirtying. */
        assert_check_survived(destination);
        arrived = vt_guest_qmp_new(GUEST_NAME, vt_test_guest_get_qmp_path(destination), NULL, 0);
        vt_guest_start_async(arrived, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(arrived, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        g_assert_true(measure(arrived, 2 * G_USEC_PER_SEC, &rate, &error));
        g_assert_no_error(error);
        g_test_message("on the destination: %" G_GUINT64_FORMAT " bytes/s over 2 s", rate);
        g_assert_cmpuint(rate, >=, DIRTY_RATE / 2);
        g_assert_cmpuint(rate, <=, DIRTY_RATE * 2);
        vt_guest_stop(arrived);
}

static void
cleanup(void)
{
        if (S.guest != NULL)
                vt_guest_stop(S.guest);
        g_clear_object(&S.guest);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        g_clear_pointer(&S.source, vt_test_guest_free);
        if (S.tmp != NULL)
                vt_test_remove_tree(S.tmp);
        g_clear_pointer(&S.tmp, g_free);
        g_clear_pointer(&S.check, g_free);
}

int
main(int argc, char **argv)
{
        int ret;

        g_test_init(&argc, &argv, NULL);
        /* In this order: each runs on the source the one before left. */
        g_test_add_func("/qmp/migrate/dirty-rate", test_dirty_rate);
        g_test_add_func("/qmp/migrate/destination-command", test_destination_command);
        g_test_add_func("/qmp/migrate/cancel", test_cancel);
        g_test_add_func("/qmp/migrate/destination-killed", test_destination_killed);
        g_test_add_func("/qmp/migrate/complete", test_complete);
        ret = g_test_run();
        cleanup();
        return ret;
}
