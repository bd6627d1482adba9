/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: virtio-mem on a real QEMU 7.2 guest under TCG. The guest boots
 * with 256 MiB and a virtio-mem device of 768 MiB; plugging 256 MiB through
 * QMP (`qom-set requested-size`) makes `size` follow and the guest's MemTotal
 * grow; unplugging makes both shrink back. The guest's kernel onlines plugged
 * memory as movable (memhp_default_state=online_movable, set by the launcher).
 *
 * Then the same through VtGuestQmp (host/qmp-direct/): the device found at
 * start, a target above the boot memory plugged (MemTotal grows), a target
 * below it unplugged first and the rest ballooned, each move confirmed by
 * the balloon's `actual`, which QEMU counts plugged memory in.
 */
#include <stdio.h>
#include <string.h>

#include "host/qmp-direct/qmp-direct-guest.h"
#include "qmp/qmp-sync.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB         (G_GUINT64_CONSTANT(1024) * 1024)
#define BOOT        (256 * MIB)
#define VMEM_MAX    (768 * MIB)
#define PLUG        (256 * MIB)
#define VMEM_PATH   "/machine/peripheral/vm0"
#define GUARD_US    (60 * G_USEC_PER_SEC)
#define WORKLOAD_US (10 * G_USEC_PER_SEC)

typedef struct {
        VtTestGuest *guest;
        VtQmpClient *client;
        VtGuest *vt_guest; /* the same guest through VtGuestQmp */
        guint64 want;
} Memdev;

/* The device's `size` (what is plugged), read with qom-get. */
static guint64
memdev_size(Memdev *m)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) args = json_object_new_object();
        g_autoptr(json_object) ret = NULL;

        json_object_object_add(args, "path", json_object_new_string(VMEM_PATH));
        json_object_object_add(args, "property", json_object_new_string("size"));
        ret = vt_qmp_client_execute_sync(m->client, "qom-get", args, &error);
        g_assert_no_error(error);
        return (guint64)json_object_get_int64(ret);
}

/* The guest's MemTotal, as its workload reads /proc/meminfo. */
static guint64
guest_mem_total(Memdev *m)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = vt_test_guest_workload(m->guest, "meminfo", WORKLOAD_US, &error);
        guint64 total = 0;

        g_assert_no_error(error);
        g_assert_cmpint(sscanf(reply, "ok %" G_GUINT64_FORMAT, &total), ==, 1);
        return total;
}

static gboolean
size_is_want(gpointer data)
{
        Memdev *m = data;

        return memdev_size(m) == m->want;
}

/* Wakes the loop so that vt_test_run_until() asks again: the sync client has its own context. */
static gboolean
on_poll(gpointer data)
{
        return G_SOURCE_CONTINUE;
}

/* Waits, with a guard, until the device's size is what was requested. */
static gboolean
wait_size(Memdev *m)
{
        guint poll = g_timeout_add(100, on_poll, NULL);
        gboolean ok = vt_test_run_until(size_is_want, m, GUARD_US);

        g_source_remove(poll);
        return ok;
}

static void
request(Memdev *m, guint64 bytes)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) args = json_object_new_object();
        g_autoptr(json_object) ret = NULL;

        json_object_object_add(args, "path", json_object_new_string(VMEM_PATH));
        json_object_object_add(args, "property", json_object_new_string("requested-size"));
        json_object_object_add(args, "value", json_object_new_int64((gint64)bytes));
        ret = vt_qmp_client_execute_sync(m->client, "qom-set", args, &error);
        g_assert_no_error(error);
        m->want = bytes;
}

static void
test_plug_unplug(void)
{
        const VtTestGuestOptions options = {
            .name = "memdev", .memory_bytes = BOOT, .virtio_mem_bytes = VMEM_MAX};
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;
        Memdev m = {0};
        guint64 boot_total, grown, shrunk;
        gint64 t0;

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        m.guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        m.client = vt_qmp_client_new_sync(vt_test_guest_get_qmp_path(m.guest), GUARD_US, &error);
        g_assert_no_error(error);

        g_assert_cmpuint(memdev_size(&m), ==, 0);
        boot_total = guest_mem_total(&m);
        g_assert_cmpuint(boot_total, <=, BOOT);

        t0 = g_get_monotonic_time();
        request(&m, PLUG);
        g_assert_true(wait_size(&m));
        g_test_message("plugged %" G_GUINT64_FORMAT " MiB in %.2f s", PLUG / MIB,
                       (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
        grown = guest_mem_total(&m);
        g_test_message("MemTotal %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB",
                       boot_total / 1024, grown / 1024);
        g_assert_cmpuint(grown, ==, boot_total + PLUG);

        t0 = g_get_monotonic_time();
        request(&m, 0);
        g_assert_true(wait_size(&m));
        g_test_message("unplugged in %.2f s",
                       (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
        shrunk = guest_mem_total(&m);
        g_assert_cmpuint(shrunk, ==, boot_total);

        vt_qmp_client_close(m.client);
        g_clear_object(&m.client);
        vt_test_guest_free(m.guest);
}

typedef struct {
        guint n_done;
        guint n_stuck;
        guint n_memdev;
        guint64 done_actual;
} Moves;

static void
on_move_done(VtGuest *guest, guint64 actual, gint64 elapsed_us, gpointer data)
{
        Moves *moves = data;

        moves->n_done++;
        moves->done_actual = actual;
        g_test_message("move done at %" G_GUINT64_FORMAT " MiB in %.2f s", actual / MIB,
                       (double)elapsed_us / G_USEC_PER_SEC);
}

static void
on_move_stuck(VtGuest *guest, guint64 actual, guint64 target, gpointer data)
{
        ((Moves *)data)->n_stuck++;
        g_test_message("move stuck at %" G_GUINT64_FORMAT " MiB (target %" G_GUINT64_FORMAT " MiB)",
                       actual / MIB, target / MIB);
}

static void
on_memdev_changed(VtGuest *guest, guint64 plugged, gpointer data)
{
        ((Moves *)data)->n_memdev++;
}

static gboolean
move_ended(gpointer data)
{
        Moves *moves = data;

        return moves->n_done + moves->n_stuck > 0;
}

/* Asks @guest for @bytes and waits until the move is done (or stuck). */
static void
guest_move(VtGuest *guest, Moves *moves, guint64 bytes)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        moves->n_done = 0;
        moves->n_stuck = 0;
        vt_guest_set_target_async(guest, bytes, g_get_monotonic_time(), vt_test_waiter_callback,
                                  &waiter);
        g_assert_true(vt_guest_set_target_finish(guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        g_assert_true(vt_test_run_until(move_ended, moves, GUARD_US));
        g_assert_cmpuint(moves->n_stuck, ==, 0);
}

/* The device's plugged size as the guest object knows it equals what QEMU says. */
static gboolean
memdev_plugged_is(gpointer data)
{
        Memdev *m = data;
        const VtGuestMemdev *memdev = vt_guest_get_memdev(m->vt_guest);

        return memdev->plugged_bytes == m->want;
}

/* Reads QEMU's figures again (query-memory-devices among them). */
static void
guest_refresh(Memdev *m)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        vt_guest_refresh_async(m->vt_guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_refresh_finish(m->vt_guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

static void
test_guest(void)
{
        const VtTestGuestOptions options = {
            .name = "memdevqmp", .memory_bytes = BOOT, .virtio_mem_bytes = VMEM_MAX};
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        const VtGuestMemdev *memdev;
        VtBalloonGuest snapshot;
        Moves moves = {0};
        Memdev m = {0};
        guint64 boot, boot_total, grown, shrunk;

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        m.guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        /* QEMU's QMP socket takes one client: the guest object is it. */
        m.vt_guest = vt_guest_qmp_new("memdevqmp", vt_test_guest_get_qmp_path(m.guest), NULL, 0);
        g_signal_connect(m.vt_guest, "move-done", G_CALLBACK(on_move_done), &moves);
        g_signal_connect(m.vt_guest, "move-stuck", G_CALLBACK(on_move_stuck), &moves);
        g_signal_connect(m.vt_guest, "memdev-changed", G_CALLBACK(on_memdev_changed), &moves);
        vt_guest_start_async(m.vt_guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(m.vt_guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);

        /* Found at start, with QEMU's figures. */
        memdev = vt_guest_get_memdev(m.vt_guest);
        g_assert_true(memdev->present);
        g_assert_cmpstr(memdev->id, ==, "vm0");
        g_assert_cmpuint(memdev->block_size, ==, 2 * MIB);
        g_assert_cmpuint(memdev->max_bytes, ==, VMEM_MAX);
        g_assert_cmpuint(memdev->plugged_bytes, ==, 0);
        boot = vt_guest_get_max_bytes(m.vt_guest);
        g_assert_cmpuint(boot, >=, BOOT);
        g_assert_cmpuint(boot, <, BOOT + 2 * MIB);
        g_assert_cmpuint(vt_guest_get_actual_bytes(m.vt_guest), ==, boot);
        vt_guest_snapshot(m.vt_guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.max_bytes, ==, boot + VMEM_MAX);
        boot_total = guest_mem_total(&m);

        /* Above the boot memory: plugged; QEMU, the guest object and the guest agree. */
        guest_move(m.vt_guest, &moves, BOOT + PLUG);
        g_assert_cmpuint(moves.done_actual, >=, boot + PLUG - VT_GUEST_CONFIRM_SLACK);
        m.want = PLUG;
        g_assert_true(vt_test_run_until(memdev_plugged_is, &m, GUARD_US));
        guest_refresh(&m);
        g_assert_cmpuint(vt_guest_get_memdev(m.vt_guest)->plugged_bytes, ==, PLUG);
        g_assert_cmpuint(vt_guest_get_memdev(m.vt_guest)->requested_bytes, ==, PLUG);
        g_assert_cmpuint(moves.n_memdev, >=, 2);
        grown = guest_mem_total(&m);
        g_test_message("MemTotal %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB",
                       boot_total / 1024, grown / 1024);
        g_assert_cmpuint(grown, ==, boot_total + PLUG);

        /* Below it: everything unplugged first, the balloon takes the rest. */
        guest_move(m.vt_guest, &moves, BOOT - 64 * MIB);
        g_assert_cmpuint(moves.done_actual, <=, BOOT - 64 * MIB + VT_GUEST_CONFIRM_SLACK);
        m.want = 0;
        g_assert_true(vt_test_run_until(memdev_plugged_is, &m, GUARD_US));
        guest_refresh(&m);
        g_assert_cmpuint(vt_guest_get_memdev(m.vt_guest)->plugged_bytes, ==, 0);
        g_assert_cmpuint(vt_guest_get_memdev(m.vt_guest)->requested_bytes, ==, 0);
        shrunk = guest_mem_total(&m);
        g_test_message("MemTotal %" G_GUINT64_FORMAT " KiB with the balloon holding 64 MiB",
                       shrunk / 1024);
        g_assert_cmpuint(shrunk, <=, boot_total);

        vt_guest_stop(m.vt_guest);
        g_clear_object(&m.vt_guest);
        vt_test_guest_free(m.guest);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/qmp/memdev/plug-unplug", test_plug_unplug);
        g_test_add_func("/qmp/memdev/guest", test_guest);
        return g_test_run();
}
