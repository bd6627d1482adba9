/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: virtio-mem through libvirt (issue 17). The test guest runs
 * as a libvirt domain (the harness's libvirtd, QEMU 7.2 under TCG) that
 * boots with 256 MiB and a virtio-mem device of 512 MiB (room to grow to
 * 768 MiB). The libvirt backend finds the device at start; set_memdev
 * asks for 256 MiB (virDomainUpdateDeviceFlags, live) and the guest plugs
 * it: libvirt's memory-device-size-change event comes (seen both by the
 * backend, whose guest's plugged size follows, and by a callback of the
 * test's own), libvirt's XML says `current` 256 MiB and the guest's
 * MemTotal grows by 256 MiB. Asking for 0 unplugs it all again and
 * MemTotal comes back. The times from the request to the plugged size
 * reached are printed for docs/virtio-mem.md.
 *
 * Then the base class's mapping over the libvirt backend: a target above
 * the boot memory is plugged (the move done, MemTotal grown), one below it
 * unplugs everything first and the balloon (virDomainSetMemoryFlags)
 * takes the rest.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "host/libvirt/libvirt-backend.h"
#include "host/libvirt/libvirt-domain.h"
#include "host/libvirt/libvirt-error.h"
#include "host/libvirt/libvirt-guest.h"
#include "host/libvirt/libvirt-metadata.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-libvirt.h"
#include "tests/vt-test-util.h"

#define MIB         (G_GUINT64_CONSTANT(1024) * 1024)
#define BOOT        (256 * MIB)
#define VMEM_MAX    (512 * MIB)
#define PLUG        (256 * MIB)
#define BLOCK       (2 * MIB)
#define GUARD_US    (90 * G_USEC_PER_SEC)
#define WORKLOAD_US (10 * G_USEC_PER_SEC)

typedef struct {
        VtTestLibvirt *libvirt;
        VtTestGuest *test_guest;
        VtBackend *backend;
        VtGuest *guest; /* the domain as the backend found it */
        char *name;
        virConnectPtr conn; /* the test's own, for its event callback and the XML */
        int event_id;
        guint n_events;         /* memory-device-size-change, as the test saw it */
        guint64 event_kib;      /* the last one's size */
        guint n_memdev_changed; /* the guest's "memdev-changed" */
        guint64 want;
        guint n_done;  /* "move-done" */
        guint n_stuck; /* "move-stuck" */
        guint64 done_actual;
} Fixture;

static void
on_added(VtBackend *backend, VtGuest *guest, gpointer user_data)
{
        Fixture *f = user_data;

        (void)backend;
        if (f->guest == NULL && g_str_equal(vt_guest_get_name(guest), f->name))
                f->guest = g_object_ref(guest);
}

static void
on_memdev_changed(VtGuest *guest, guint64 plugged, gpointer user_data)
{
        Fixture *f = user_data;

        (void)guest;
        g_test_message("memdev-changed: %" G_GUINT64_FORMAT " MiB plugged", plugged / MIB);
        f->n_memdev_changed++;
}

static void
on_size_change(virConnectPtr conn, virDomainPtr domain, const char *alias,
               unsigned long long size_kib, void *opaque)
{
        Fixture *f = opaque;

        (void)conn;
        if (g_strcmp0(virDomainGetName(domain), f->name) != 0)
                return;
        g_test_message("libvirt event: '%s' now %llu KiB", alias, size_kib);
        f->n_events++;
        f->event_kib = size_kib;
}

static gboolean
guest_found(gpointer data)
{
        return ((Fixture *)data)->guest != NULL;
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;
        /* Other tests' vmtided on the same libvirtd would manage this
         * domain too (and did: a balloon inflated before the test began):
         * it opts out, which vmtided respects and the test does not need. */
        VtTestGuestOptions options = {
            .memory_bytes = BOOT,
            .virtio_mem_bytes = VMEM_MAX,
            .libvirt_metadata = "<vmtide:policy xmlns:vmtide='" VT_LIBVIRT_METADATA_URI "'>"
                                "<vmtide:balloon opt-out='yes'/><vmtide:ksm opt-out='yes'/>"
                                "</vmtide:policy>",
        };

        (void)data;
        f->event_id = -1;
        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason) ||
            !vt_test_skip_unless(vt_test_libvirt_available(&reason), reason))
                return;
        vt_libvirt_error_init();
        f->libvirt = vt_test_libvirt_ensure(&error);
        g_assert_no_error(error);
        f->name = g_strdup_printf("vt-lvmem-%d", (int)getpid());
        options.name = f->name;
        options.libvirt_uri = vt_test_libvirt_get_uri(f->libvirt);
        f->test_guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);

        f->backend = vt_backend_libvirt_new(vt_test_libvirt_get_uri(f->libvirt), 2);
        g_signal_connect(f->backend, "guest-added", G_CALLBACK(on_added), f);
        /* Registers libvirt's event loop on this context, which the
         * test's own connection uses too. */
        g_assert_true(vt_backend_start(f->backend, &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_run_until(guest_found, f, GUARD_US));
        f->conn = vt_test_libvirt_connect(vt_test_libvirt_get_uri(f->libvirt), &error);
        g_assert_no_error(error);
        f->event_id = virConnectDomainEventRegisterAny(
            f->conn, NULL, VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
            VIR_DOMAIN_EVENT_CALLBACK(on_size_change), f, NULL);
        g_assert_cmpint(f->event_id, >=, 0);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
        (void)data;
        if (f->event_id >= 0)
                virConnectDomainEventDeregisterAny(f->conn, f->event_id);
        if (f->conn != NULL)
                virConnectClose(f->conn);
        if (f->guest != NULL)
                vt_guest_stop(f->guest);
        g_clear_object(&f->guest);
        if (f->backend != NULL)
                vt_backend_stop(f->backend);
        g_clear_object(&f->backend);
        g_clear_pointer(&f->test_guest, vt_test_guest_free);
        g_clear_pointer(&f->libvirt, vt_test_libvirt_free);
        g_free(f->name);
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

/* The guest's MemTotal, as its workload reads /proc/meminfo. */
static guint64
guest_mem_total(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply =
            vt_test_guest_workload(f->test_guest, "meminfo", WORKLOAD_US, &error);
        guint64 total = 0;

        g_assert_no_error(error);
        g_assert_cmpint(sscanf(reply, "ok %" G_GUINT64_FORMAT, &total), ==, 1);
        return total;
}

/* The device as libvirt's live XML has it now. */
static void
libvirt_memdev(Fixture *f, VtLibvirtMemdev *ret_memdev)
{
        g_autoptr(GError) error = NULL;
        g_auto(VtLibvirtDomainInfo) info = {0};
        virDomainPtr domain = virDomainLookupByName(f->conn, f->name);
        char *xml;

        g_assert_nonnull(domain);
        xml = virDomainGetXMLDesc(domain, 0);
        virDomainFree(domain);
        g_assert_nonnull(xml);
        g_assert_true(vt_libvirt_domain_parse(xml, &info, &error));
        g_assert_no_error(error);
        free(xml);
        g_assert_null(info.memdev_problem);
        g_assert_true(info.memdev.present);
        *ret_memdev = info.memdev;
        memset(&info.memdev, 0, sizeof(info.memdev));
}

/* What the guest, libvirt and the backend say when a wait failed. */
static void
report_stuck(Fixture *f)
{
        g_auto(VtLibvirtMemdev) lv = {0};
        g_autofree char *console = vt_test_guest_read_console(f->test_guest);
        gsize len = strlen(console);
        const char *tail = len > 3000 ? console + len - 3000 : console;

        libvirt_memdev(f, &lv);
        g_test_message(
            "stuck: the backend's plugged %" G_GUINT64_FORMAT
            " MiB; %u event(s), last %" G_GUINT64_FORMAT
            " KiB; libvirt's requested %" G_GUINT64_FORMAT " MiB, current %" G_GUINT64_FORMAT
            " MiB; the guest's MemTotal %" G_GUINT64_FORMAT " KiB",
            vt_guest_get_memdev(f->guest)->plugged_bytes / MIB, f->n_events, f->event_kib,
            lv.requested_bytes / MIB, lv.current_bytes / MIB, guest_mem_total(f) / 1024);
        g_test_message("guest console (tail):\n%s", tail);
}

static gboolean
set_memdev(Fixture *f, guint64 bytes, GError **error)
{
        VtGuestClass *klass = VT_GUEST_GET_CLASS(f->guest);
        VtTestWaiter waiter = {0};
        gboolean ok;

        klass->set_memdev_async(f->guest, bytes, vt_test_waiter_callback, &waiter);
        ok = klass->set_memdev_finish(f->guest, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return ok;
}

/* The guest's plugged size (from the backend's event) and libvirt's own
 * event both say what was asked for. */
static gboolean
plugged_is_want(gpointer data)
{
        Fixture *f = data;

        return vt_guest_get_memdev(f->guest)->plugged_bytes == f->want && f->n_events > 0 &&
               f->event_kib * 1024 == f->want;
}

/* Asks for @bytes and waits until the guest has them plugged; the time it took. */
static double
resize(Fixture *f, guint64 bytes)
{
        g_autoptr(GError) error = NULL;
        gint64 t0 = g_get_monotonic_time();
        double seconds;

        f->want = bytes;
        f->n_events = 0;
        g_assert_true(set_memdev(f, bytes, &error));
        g_assert_no_error(error);
        g_test_message("libvirt took requested %" G_GUINT64_FORMAT " MiB in %.3f s", bytes / MIB,
                       (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
        /* Read back after the update: libvirt's requested size. */
        g_assert_cmpuint(vt_guest_get_memdev(f->guest)->requested_bytes, ==, bytes);
        if (!vt_test_run_until(plugged_is_want, f, GUARD_US))
                report_stuck(f);
        g_assert_true(plugged_is_want(f));
        seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
        g_test_message("%" G_GUINT64_FORMAT " MiB plugged in %.2f s, %u event(s)", bytes / MIB,
                       seconds, f->n_events);
        return seconds;
}

/* Starts the guest object found by the backend. */
static void
start_guest(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        vt_guest_start_async(f->guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

static void
test_plug_unplug(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_auto(VtLibvirtMemdev) lv = {0};
        const VtGuestMemdev *memdev;
        guint64 boot_total, grown, shrunk;
        gulong changed_id;

        (void)data;
        if (f->test_guest == NULL)
                return;
        changed_id = g_signal_connect(f->guest, "memdev-changed", G_CALLBACK(on_memdev_changed), f);
        start_guest(f);
        /* Found at start, from the live XML; libvirt's <memory> counts it, the boot memory does
         * not. */
        memdev = vt_guest_get_memdev(f->guest);
        g_assert_true(memdev->present);
        g_test_message("device '%s': block %" G_GUINT64_FORMAT " KiB, max %" G_GUINT64_FORMAT
                       " MiB",
                       memdev->id, memdev->block_size / 1024, memdev->max_bytes / MIB);
        g_assert_cmpstr(memdev->id, !=, "");
        g_assert_cmpuint(memdev->block_size, ==, BLOCK);
        g_assert_cmpuint(memdev->max_bytes, ==, VMEM_MAX);
        g_assert_cmpuint(memdev->plugged_bytes, ==, 0);
        g_assert_cmpuint(memdev->requested_bytes, ==, 0);
        g_assert_cmpuint(vt_guest_get_max_bytes(f->guest), ==, BOOT);
        boot_total = guest_mem_total(f);
        g_assert_cmpuint(boot_total, <=, BOOT);

        /* Grow past the boot memory: the guest's virtio_mem driver plugs it. */
        resize(f, PLUG);
        libvirt_memdev(f, &lv);
        g_assert_cmpuint(lv.requested_bytes, ==, PLUG);
        g_assert_cmpuint(lv.current_bytes, ==, PLUG);
        vt_libvirt_memdev_clear(&lv);
        grown = guest_mem_total(f);
        g_test_message("MemTotal %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB",
                       boot_total / 1024, grown / 1024);
        g_assert_cmpuint(grown, ==, boot_total + PLUG);

        /* Shrink back: unplugged (the memory was onlined movable). */
        resize(f, 0);
        libvirt_memdev(f, &lv);
        g_assert_cmpuint(lv.current_bytes, ==, 0);
        shrunk = guest_mem_total(f);
        g_test_message("MemTotal back to %" G_GUINT64_FORMAT " KiB", shrunk / 1024);
        g_assert_cmpuint(shrunk, ==, boot_total);
        g_assert_cmpuint(f->n_memdev_changed, >=, 2);

        /* A size the device cannot take is refused before libvirt, and says why. */
        g_assert_false(set_memdev(f, PLUG + MIB, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_test_message("refused: %s", error->message);
        g_assert_nonnull(strstr(error->message, f->name));
        g_signal_handler_disconnect(f->guest, changed_id);
}

static void
on_move_done(VtGuest *guest, guint64 actual, gint64 elapsed_us, gpointer user_data)
{
        Fixture *f = user_data;

        (void)guest;
        f->n_done++;
        f->done_actual = actual;
        g_test_message("move done at %" G_GUINT64_FORMAT " MiB in %.2f s", actual / MIB,
                       (double)elapsed_us / G_USEC_PER_SEC);
}

static void
on_move_stuck(VtGuest *guest, guint64 actual, guint64 target, gpointer user_data)
{
        Fixture *f = user_data;

        (void)guest;
        f->n_stuck++;
        g_test_message("move stuck at %" G_GUINT64_FORMAT " MiB (target %" G_GUINT64_FORMAT " MiB)",
                       actual / MIB, target / MIB);
}

static gboolean
move_ended(gpointer data)
{
        Fixture *f = data;

        return f->n_done + f->n_stuck > 0;
}

/* Asks the guest for @bytes through the base class and waits for the move's end. */
static void
guest_move(Fixture *f, guint64 bytes)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        f->n_done = 0;
        f->n_stuck = 0;
        vt_guest_set_target_async(f->guest, bytes, g_get_monotonic_time(), vt_test_waiter_callback,
                                  &waiter);
        g_assert_true(vt_guest_set_target_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        g_assert_true(vt_test_run_until(move_ended, f, GUARD_US));
        g_assert_cmpuint(f->n_stuck, ==, 0);
}

static gboolean
plugged_is(gpointer data)
{
        Fixture *f = data;

        return vt_guest_get_memdev(f->guest)->plugged_bytes == f->want;
}

static void
test_target(Fixture *f, gconstpointer data)
{
        VtBalloonGuest snapshot;
        guint64 boot_total, grown, shrunk;

        (void)data;
        if (f->test_guest == NULL)
                return;
        g_signal_connect(f->guest, "move-done", G_CALLBACK(on_move_done), f);
        g_signal_connect(f->guest, "move-stuck", G_CALLBACK(on_move_stuck), f);
        start_guest(f);
        g_assert_true(vt_guest_get_memdev(f->guest)->present);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.max_bytes, ==, BOOT + VMEM_MAX);
        boot_total = guest_mem_total(f);

        /* Above the boot memory: plugged. */
        guest_move(f, BOOT + PLUG);
        f->want = PLUG;
        if (!vt_test_run_until(plugged_is, f, GUARD_US))
                report_stuck(f);
        g_assert_true(plugged_is(f));
        g_assert_cmpuint(vt_guest_get_memdev(f->guest)->requested_bytes, ==, PLUG);
        grown = guest_mem_total(f);
        g_test_message("MemTotal %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB",
                       boot_total / 1024, grown / 1024);
        g_assert_cmpuint(grown, ==, boot_total + PLUG);

        /* Below it: all unplugged first, the balloon takes the rest. */
        guest_move(f, BOOT - 64 * MIB);
        f->want = 0;
        if (!vt_test_run_until(plugged_is, f, GUARD_US))
                report_stuck(f);
        g_assert_true(plugged_is(f));
        g_assert_cmpuint(vt_guest_get_memdev(f->guest)->requested_bytes, ==, 0);
        shrunk = guest_mem_total(f);
        g_test_message("MemTotal %" G_GUINT64_FORMAT " KiB with the balloon holding 64 MiB",
                       shrunk / 1024);
        g_assert_cmpuint(shrunk, <=, boot_total);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/libvirt/memdev/plug-unplug", Fixture, NULL, fixture_set_up, test_plug_unplug,
                   fixture_tear_down);
        g_test_add("/libvirt/memdev/target", Fixture, NULL, fixture_set_up, test_target,
                   fixture_tear_down);
        return g_test_run();
}
