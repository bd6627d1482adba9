/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: virtio-mem on a real QEMU 7.2 guest under TCG. The guest boots
 * with 256 MiB and a virtio-mem device of 768 MiB; plugging 256 MiB through
 * QMP (`qom-set requested-size`) makes `size` follow and the guest's MemTotal
 * grow; unplugging makes both shrink back. The guest's kernel onlines plugged
 * memory as movable (memhp_default_state=online_movable, set by the launcher).
 */
#include <stdio.h>
#include <string.h>

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

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/qmp/memdev/plug-unplug", test_plug_unplug);
        return g_test_run();
}
