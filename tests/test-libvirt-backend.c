/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt backend and guest against libvirt's test driver
 * (test:///default: in-process, shared by every connection the process
 * opens): discovery, lifecycle events, the balloon target, the policy in
 * the domain's metadata. The QEMU pid lookup's pure part is tested here
 * too. What needs a real libvirtd (statistics that move, libvirtd
 * restarts) is in tests/test-libvirt-daemon.c.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "host/libvirt/libvirt-backend.h"
#include "host/libvirt/libvirt-guest.h"
#include "host/libvirt/libvirt-error.h"
#include "host/libvirt/libvirt-metadata.h"
#include "host/libvirt/libvirt-pid.h"
#include "vt-test-util.h"

#define TEST_URI "test:///default"
#define GUARD_US (10 * G_USEC_PER_SEC)
#define MIB      (G_GUINT64_CONSTANT(1) << 20)

typedef struct {
        virConnectPtr conn; /* the test's own connection, to act as an admin */
        VtBackend *backend;
        GPtrArray *added;   /* VtGuest *, as announced */
        GPtrArray *removed; /* VtGuest *, as announced */
        guint n_connected;
        guint n_policy_changed;
        char *dir;
} Fixture;

static void
on_added(VtBackend *backend, VtGuest *guest, gpointer user_data)
{
        Fixture *f = user_data;

        (void)backend;
        g_ptr_array_add(f->added, g_object_ref(guest));
}

static void
on_removed(VtBackend *backend, VtGuest *guest, gpointer user_data)
{
        Fixture *f = user_data;

        (void)backend;
        g_ptr_array_add(f->removed, g_object_ref(guest));
}

static void
on_connection(VtBackend *backend, gboolean connected, const char *message, gpointer user_data)
{
        Fixture *f = user_data;

        (void)backend;
        g_test_message("connection: %s: %s", connected ? "up" : "down", message);
        if (connected)
                f->n_connected++;
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
        (void)data;
        vt_libvirt_error_init();
        f->conn = virConnectOpen(TEST_URI);
        g_assert_nonnull(f->conn);
        f->added = g_ptr_array_new_with_free_func(g_object_unref);
        f->removed = g_ptr_array_new_with_free_func(g_object_unref);
        f->dir = g_dir_make_tmp("vt-libvirt-XXXXXX", NULL);
        g_assert_nonnull(f->dir);
        f->backend = vt_backend_libvirt_new(TEST_URI, 2);
        g_signal_connect(f->backend, "guest-added", G_CALLBACK(on_added), f);
        g_signal_connect(f->backend, "guest-removed", G_CALLBACK(on_removed), f);
        g_signal_connect(f->backend, "connection-changed", G_CALLBACK(on_connection), f);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
        (void)data;
        for (guint i = 0; i < f->added->len; i++)
                vt_guest_stop(g_ptr_array_index(f->added, i));
        vt_backend_stop(f->backend);
        g_clear_object(&f->backend);
        g_ptr_array_unref(f->added);
        g_ptr_array_unref(f->removed);
        virConnectClose(f->conn);
        vt_test_remove_tree(f->dir);
        g_free(f->dir);
        /* Let the jobs' last references go, on this context. */
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

static gboolean
connected_once(gpointer data)
{
        return ((Fixture *)data)->n_connected > 0;
}

static VtGuest *
find_added(Fixture *f, const char *name)
{
        for (guint i = 0; i < f->added->len; i++) {
                VtGuest *guest = g_ptr_array_index(f->added, i);

                if (g_str_equal(vt_guest_get_name(guest), name))
                        return guest;
        }
        return NULL;
}

typedef struct {
        Fixture *f;
        const char *name;
} Lookup;

static gboolean
added_named(gpointer data)
{
        Lookup *l = data;

        return find_added(l->f, l->name) != NULL;
}

static VtGuest *
wait_added(Fixture *f, const char *name)
{
        Lookup l = {f, name};

        g_assert_true(vt_test_run_until(added_named, &l, GUARD_US));
        return find_added(f, name);
}

static void
start_backend(Fixture *f)
{
        g_assert_true(vt_backend_start(f->backend, NULL));
        g_assert_true(vt_test_run_until(connected_once, f, GUARD_US));
        g_assert_true(vt_backend_is_connected(f->backend));
}

static void
start_guest(VtGuest *guest)
{
        VtTestWaiter waiter = {0};
        g_autoptr(GError) error = NULL;

        vt_guest_start_async(guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

/* A transient domain of the test driver; the caller destroys it. */
static virDomainPtr
create_domain(Fixture *f, const char *name, const char *devices, const char *metadata)
{
        g_autofree char *xml = g_strdup_printf(
            "<domain type='test'><name>%s</name>%s%s%s<memory unit='MiB'>512</memory>"
            "<currentMemory unit='MiB'>512</currentMemory><os><type>hvm</type></os>"
            "<devices>%s</devices></domain>",
            name, metadata != NULL ? "<metadata>" : "", metadata != NULL ? metadata : "",
            metadata != NULL ? "</metadata>" : "", devices);
        virDomainPtr domain = virDomainCreateXML(f->conn, xml, 0);

        if (domain == NULL)
                g_error("virDomainCreateXML: %s", virGetLastErrorMessage());
        return domain;
}

static void
test_discovery(Fixture *f, gconstpointer data)
{
        VtGuest *guest;
        const VtGuestStats *stats;

        (void)data;
        start_backend(f);
        /* The test driver's own running domain. */
        guest = wait_added(f, "test");
        g_assert_cmpstr(vt_guest_libvirt_get_uuid(VT_GUEST_LIBVIRT(guest)), ==,
                        "6695eb01-f6a4-8304-79aa-97f2502e193f");
        start_guest(guest);
        /* <memory unit='KiB'>8388608</memory>, and the driver's stats. */
        g_assert_cmpuint(vt_guest_get_max_bytes(guest), ==, 8 * 1024 * MIB);
        g_assert_true(vt_guest_has_balloon(guest));
        g_assert_cmpuint(vt_guest_get_actual_bytes(guest), ==, 2048 * MIB);
        stats = vt_guest_get_stats(guest);
        g_assert_cmpuint(stats->total, ==, 2048 * MIB);
        g_assert_cmpuint(stats->available, ==, 1024 * MIB);
        g_assert_cmpuint(stats->disk_caches, ==, 256 * MIB);
        g_assert_cmpint(stats->updated_us, !=, 0);
        /* Not a local QEMU. */
        g_assert_cmpint(vt_guest_get_pid(guest), ==, 0);
        g_assert_true(vt_guest_is_reachable(guest));
        g_assert_cmpuint(vt_backend_libvirt_get_n_guests(VT_BACKEND_LIBVIRT(f->backend)), >=, 1);
}

static gboolean
removed_some(gpointer data)
{
        return ((Fixture *)data)->removed->len > 0;
}

static void
test_lifecycle(Fixture *f, gconstpointer data)
{
        g_autofree char *agent = g_build_filename(f->dir, "agent.sock", NULL);
        g_autofree char *devices = g_strdup_printf(
            "<memballoon model='virtio'/><channel type='unix'><source mode='bind' path='%s'/>"
            "<target type='virtio' name='org.vmtide.agent.0'/></channel>",
            agent);
        virDomainPtr domain;
        VtGuest *guest;

        (void)data;
        start_backend(f);
        /* Started after the backend: found through the lifecycle event. */
        domain = create_domain(f, "vt-unit-life", devices, NULL);
        guest = wait_added(f, "vt-unit-life");
        start_guest(guest);
        g_assert_cmpuint(vt_guest_get_max_bytes(guest), ==, 512 * MIB);
        /* The agent's channel, from the domain XML. */
        g_assert_nonnull(vt_guest_get_agent(guest));
        g_assert_cmpuint(f->removed->len, ==, 0);

        g_assert_cmpint(virDomainDestroy(domain), ==, 0);
        virDomainFree(domain);
        g_assert_true(vt_test_run_until(removed_some, f, GUARD_US));
        g_assert_true(g_ptr_array_index(f->removed, 0) == guest);
        g_assert_true(vt_guest_is_gone(guest));
}

static void
test_no_balloon(Fixture *f, gconstpointer data)
{
        virDomainPtr domain;
        VtGuest *guest;

        (void)data;
        start_backend(f);
        domain = create_domain(f, "vt-unit-noballoon", "<memballoon model='none'/>", NULL);
        guest = wait_added(f, "vt-unit-noballoon");
        start_guest(guest);
        g_assert_false(vt_guest_has_balloon(guest));
        g_assert_null(vt_guest_get_agent(guest));
        virDomainDestroy(domain);
        virDomainFree(domain);
}

static void
test_set_memory(Fixture *f, gconstpointer data)
{
        VtTestWaiter waiter = {0};
        g_autoptr(GError) error = NULL;
        virDomainPtr domain;
        virDomainInfo info;
        VtGuest *guest;

        (void)data;
        start_backend(f);
        domain = create_domain(f, "vt-unit-setmem", "<memballoon model='virtio'/>", NULL);
        guest = wait_added(f, "vt-unit-setmem");
        start_guest(guest);

        vt_guest_set_target_async(guest, 300 * MIB, g_get_monotonic_time(), vt_test_waiter_callback,
                                  &waiter);
        g_assert_true(vt_guest_set_target_finish(guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        /* Through virDomainSetMemoryFlags(AFFECT_LIVE): libvirt's books. */
        g_assert_cmpint(virDomainGetInfo(domain, &info), ==, 0);
        g_assert_cmpuint(info.memory, ==, 300 * 1024);
        g_assert_cmpuint(vt_guest_get_target_bytes(guest), ==, 300 * MIB);

        /* More than the domain's boot memory: libvirt refuses, and says so. */
        vt_guest_set_target_async(guest, 4096 * MIB, g_get_monotonic_time(),
                                  vt_test_waiter_callback, &waiter);
        g_assert_false(vt_guest_set_target_finish(guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_nonnull(error);
        g_test_message("refused: %s", error->message);
        g_assert_nonnull(strstr(error->message, "virDomainSetMemoryFlags"));
        vt_test_waiter_clear(&waiter);
        virDomainDestroy(domain);
        virDomainFree(domain);
}

/* A domain of the test driver with a virtio-mem device: libvirt counts it
 * in <memory>, so the boot memory is what the NUMA cell holds. */
#define VMEM_DOMAIN                                                                                \
        "<domain type='test'><name>vt-unit-vmem</name><memory unit='MiB'>1280</memory>"            \
        "<maxMemory slots='1' unit='MiB'>2048</maxMemory><os><type>hvm</type></os>"                \
        "<cpu><numa><cell id='0' cpus='0' memory='512' unit='MiB'/></numa></cpu>"                  \
        "<devices><memballoon model='virtio'/><memory model='virtio-mem'><target>"                 \
        "<size unit='MiB'>768</size><node>0</node><block unit='KiB'>2048</block>"                  \
        "<requested unit='MiB'>128</requested></target></memory></devices></domain>"

static gboolean
set_memdev(VtGuest *guest, guint64 bytes, GError **error)
{
        VtGuestClass *klass = VT_GUEST_GET_CLASS(guest);
        VtTestWaiter waiter = {0};
        gboolean ok;

        klass->set_memdev_async(guest, bytes, vt_test_waiter_callback, &waiter);
        ok = klass->set_memdev_finish(guest, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return ok;
}

static void
test_memdev(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        const VtGuestMemdev *memdev;
        virDomainPtr domain, plain;
        VtGuest *guest, *without;

        (void)data;
        start_backend(f);
        domain = virDomainCreateXML(f->conn, VMEM_DOMAIN, 0);
        g_assert_nonnull(domain);
        plain = create_domain(f, "vt-unit-novmem", "<memballoon model='virtio'/>", NULL);
        guest = wait_added(f, "vt-unit-vmem");
        without = wait_added(f, "vt-unit-novmem");
        start_guest(guest);
        start_guest(without);

        /* Found at start; the boot memory is <memory> less the device. */
        g_assert_cmpuint(vt_guest_get_max_bytes(guest), ==, 512 * MIB);
        memdev = vt_guest_get_memdev(guest);
        g_assert_true(memdev->present);
        g_assert_cmpuint(memdev->block_size, ==, 2 * MIB);
        g_assert_cmpuint(memdev->max_bytes, ==, 768 * MIB);
        g_assert_cmpuint(memdev->requested_bytes, ==, 128 * MIB);
        g_assert_false(vt_guest_get_memdev(without)->present);

        /* The test driver cannot update a device: libvirt's refusal, named. */
        g_assert_false(set_memdev(guest, 256 * MIB, &error));
        g_test_message("refused: %s", error->message);
        g_assert_error(error, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, "vt-unit-vmem"));
        g_assert_nonnull(strstr(error->message, "virDomainUpdateDeviceFlags"));
        g_clear_error(&error);
        /* Nothing changed meanwhile. */
        g_assert_cmpuint(vt_guest_get_memdev(guest)->requested_bytes, ==, 128 * MIB);

        /* Sizes the device cannot take never reach libvirt. */
        g_assert_false(set_memdev(guest, 3 * MIB, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_false(set_memdev(guest, 770 * MIB, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        /* No device, no request. */
        g_assert_false(set_memdev(without, 2 * MIB, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
        g_test_message("refused: %s", error->message);
        g_clear_error(&error);

        /* A size-change event for the device (the test driver sends none). */
        vt_guest_libvirt_memdev_size_changed(VT_GUEST_LIBVIRT(guest), memdev->id, 131072);
        g_assert_cmpuint(vt_guest_get_memdev(guest)->plugged_bytes, ==, 128 * MIB);
        /* Another device's, or a size beyond the device's, is dropped. */
        vt_guest_libvirt_memdev_size_changed(VT_GUEST_LIBVIRT(guest), "virtiomem9", 0);
        vt_guest_libvirt_memdev_size_changed(VT_GUEST_LIBVIRT(guest), memdev->id,
                                             G_MAXUINT64 / 1024);
        g_assert_cmpuint(vt_guest_get_memdev(guest)->plugged_bytes, ==, 128 * MIB);

        virDomainDestroy(domain);
        virDomainFree(domain);
        virDomainDestroy(plain);
        virDomainFree(plain);
}

static void
on_policy_changed(VtGuest *guest, gpointer user_data)
{
        Fixture *f = user_data;

        (void)guest;
        f->n_policy_changed++;
}

static void
test_policy_read(Fixture *f, gconstpointer data)
{
        VtBalloonGuestConfig policy;
        gboolean ksm_opt_out = FALSE;
        virDomainPtr domain;
        VtGuest *guest;
        guint seen;

        (void)data;
        start_backend(f);
        domain = create_domain(f, "vt-unit-policy", "<memballoon model='virtio'/>",
                               "<vmtide:policy xmlns:vmtide='" VT_LIBVIRT_METADATA_URI "'>"
                               "<vmtide:min unit='MiB'>128</vmtide:min>"
                               "<vmtide:shares>300</vmtide:shares>"
                               "<vmtide:ksm opt-out='yes'/></vmtide:policy>");
        guest = wait_added(f, "vt-unit-policy");
        g_signal_connect(guest, "policy-changed", G_CALLBACK(on_policy_changed), f);
        start_guest(guest);
        g_assert_cmpuint(f->n_policy_changed, ==, 1);
        g_assert_true(vt_guest_get_stored_policy(guest, &policy, &ksm_opt_out));
        g_assert_cmpuint(policy.min_bytes, ==, 128 * MIB);
        g_assert_cmpuint(policy.shares, ==, 300);
        g_assert_true(ksm_opt_out);

        /* Changed by someone else (virsh metadata): METADATA_CHANGE. */
        seen = f->n_policy_changed;
        g_assert_cmpint(virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT,
                                             "<policy><shares>50</shares></policy>", "vmtide",
                                             VT_LIBVIRT_METADATA_URI, VIR_DOMAIN_AFFECT_LIVE),
                        ==, 0);
        g_assert_true(vt_test_wait_above(&f->n_policy_changed, seen, GUARD_US));
        g_assert_true(vt_guest_get_stored_policy(guest, &policy, &ksm_opt_out));
        g_assert_cmpuint(policy.shares, ==, 50);
        g_assert_cmpuint(policy.min_bytes, ==, 0);
        g_assert_false(ksm_opt_out);

        /* A broken element: said once, and the guest has no stored policy. */
        seen = f->n_policy_changed;
        g_test_expect_message("vmtide-libvirt", G_LOG_LEVEL_WARNING,
                              "*ignoring its vmtide metadata*");
        g_assert_cmpint(virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT,
                                             "<policy><shares>many</shares></policy>", "vmtide",
                                             VT_LIBVIRT_METADATA_URI, VIR_DOMAIN_AFFECT_LIVE),
                        ==, 0);
        g_assert_true(vt_test_wait_above(&f->n_policy_changed, seen, GUARD_US));
        g_test_assert_expected_messages();
        g_assert_false(vt_guest_get_stored_policy(guest, NULL, NULL));

        /* Removed: none either. */
        g_assert_cmpint(virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, NULL, NULL,
                                             VT_LIBVIRT_METADATA_URI, VIR_DOMAIN_AFFECT_LIVE),
                        ==, 0);
        virDomainDestroy(domain);
        virDomainFree(domain);
}

static void
test_policy_store(Fixture *f, gconstpointer data)
{
        VtBalloonGuestConfig policy = {
            .min_bytes = 200 * MIB, .max_bytes = 400 * MIB, .shares = 700};
        VtBalloonGuestConfig stored;
        VtTestWaiter waiter = {0};
        g_autoptr(GError) error = NULL;
        VtLibvirtPolicy back = {0};
        gboolean ksm_opt_out = FALSE;
        virDomainPtr domain;
        VtGuest *guest;
        char *xml;

        (void)data;
        start_backend(f);
        domain = create_domain(f, "vt-unit-store", "<memballoon model='virtio'/>",
                               "<other:thing xmlns:other='https://example.org/other'>"
                               "kept</other:thing>");
        guest = wait_added(f, "vt-unit-store");
        start_guest(guest);
        g_assert_true(vt_guest_can_store_policy(guest));
        g_assert_false(vt_guest_get_stored_policy(guest, NULL, NULL));

        vt_guest_store_policy_async(guest, &policy, TRUE, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_store_policy_finish(guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        /* Read back into the guest at once. */
        g_assert_true(vt_guest_get_stored_policy(guest, &stored, &ksm_opt_out));
        g_assert_cmpuint(stored.min_bytes, ==, 200 * MIB);
        g_assert_cmpuint(stored.max_bytes, ==, 400 * MIB);
        g_assert_cmpuint(stored.shares, ==, 700);
        g_assert_true(ksm_opt_out);

        /* In the domain, as libvirt keeps it... */
        xml = virDomainGetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, VT_LIBVIRT_METADATA_URI,
                                   VIR_DOMAIN_AFFECT_LIVE);
        g_assert_nonnull(xml);
        g_assert_true(vt_libvirt_policy_parse(xml, &back, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(back.balloon.shares, ==, 700);
        free(xml);
        /* ... and nobody else's metadata was touched. */
        xml = virDomainGetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, "https://example.org/other",
                                   VIR_DOMAIN_AFFECT_LIVE);
        g_assert_nonnull(xml);
        g_assert_nonnull(strstr(xml, "kept"));
        free(xml);
        virDomainDestroy(domain);
        virDomainFree(domain);
}

static void
on_connection_failed(VtBackend *backend, gboolean connected, const char *message,
                     gpointer user_data)
{
        guint *failures = user_data;

        (void)backend;
        g_test_message("%s", message);
        g_assert_false(connected);
        (*failures)++;
}

static gboolean
never(gpointer data)
{
        (void)data;
        return FALSE;
}

static void
test_unreachable(Fixture *f, gconstpointer data)
{
        g_autoptr(VtBackend) backend = vt_backend_libvirt_new("vt-no-such-driver:///x", 2);
        guint failures = 0;

        (void)data;
        (void)f;
        vt_backend_libvirt_set_retry(VT_BACKEND_LIBVIRT(backend), 1000, 1000);
        g_signal_connect(backend, "connection-changed", G_CALLBACK(on_connection_failed),
                         &failures);
        g_assert_true(vt_backend_start(backend, NULL));
        g_assert_true(vt_test_wait_above(&failures, 0, GUARD_US));
        g_assert_false(vt_backend_is_connected(backend));
        /* Tried again every millisecond, said once per spell. */
        g_assert_true(vt_test_run_until(never, NULL, 200 * 1000) == FALSE);
        g_assert_cmpuint(failures, ==, 1);
        vt_backend_stop(backend);
}

typedef struct {
        const char *name;
        const char *cmdline; /* '|' for NUL */
        const char *uuid;
        gboolean expected;
} CmdlineCase;

static const CmdlineCase cmdline_cases[] = {
    {"match", "qemu|-name|guest=x|-uuid|58978caf-e00a-45f0-9b97-46896f0a29ea|-m|512|",
     "58978caf-e00a-45f0-9b97-46896f0a29ea", TRUE},
    {"case", "qemu|-uuid|58978CAF-E00A-45F0-9B97-46896F0A29EA|",
     "58978caf-e00a-45f0-9b97-46896f0a29ea", TRUE},
    {"other-uuid", "qemu|-uuid|00000000-e00a-45f0-9b97-46896f0a29ea|",
     "58978caf-e00a-45f0-9b97-46896f0a29ea", FALSE},
    {"not-after-flag", "qemu|-name|58978caf-e00a-45f0-9b97-46896f0a29ea|",
     "58978caf-e00a-45f0-9b97-46896f0a29ea", FALSE},
    {"prefix", "qemu|-uuid|58978caf-e00a-45f0-9b97-46896f0a29ea0|",
     "58978caf-e00a-45f0-9b97-46896f0a29ea", FALSE},
    {"truncated", "qemu|-uuid|58978caf-e00a-45f0-9b97-46896f0a29ea",
     "58978caf-e00a-45f0-9b97-46896f0a29ea", FALSE},
    {"flag-last", "qemu|-uuid|", "58978caf-e00a-45f0-9b97-46896f0a29ea", FALSE},
    {"empty", "", "58978caf-e00a-45f0-9b97-46896f0a29ea", FALSE},
};

static void
test_cmdline(gconstpointer data)
{
        const CmdlineCase *c = data;
        g_autofree char *cmdline = g_strdup(c->cmdline);
        gsize length = strlen(cmdline);

        for (gsize i = 0; i < length; i++) {
                if (cmdline[i] == '|')
                        cmdline[i] = '\0';
        }
        g_assert_cmpint(vt_libvirt_cmdline_has_uuid(cmdline, length, c->uuid), ==, c->expected);
}

static void
test_pid_dir(void)
{
        g_autofree char *system = vt_libvirt_pid_dir_for_uri("qemu:///system");
        g_autofree char *remote = vt_libvirt_pid_dir_for_uri("qemu+ssh://host/system");
        g_autofree char *test = vt_libvirt_pid_dir_for_uri("test:///default");

        g_assert_cmpstr(system, ==, "/run/libvirt/qemu");
        g_assert_null(remote);
        g_assert_null(test);
        /* Not found: 0, not an error. */
        g_assert_cmpint(vt_libvirt_find_qemu_pid(NULL, "x", "y"), ==, 0);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add("/libvirt/backend/discovery", Fixture, NULL, fixture_set_up, test_discovery,
                   fixture_tear_down);
        g_test_add("/libvirt/backend/lifecycle", Fixture, NULL, fixture_set_up, test_lifecycle,
                   fixture_tear_down);
        g_test_add("/libvirt/backend/no-balloon", Fixture, NULL, fixture_set_up, test_no_balloon,
                   fixture_tear_down);
        g_test_add("/libvirt/backend/set-memory", Fixture, NULL, fixture_set_up, test_set_memory,
                   fixture_tear_down);
        g_test_add("/libvirt/backend/memdev", Fixture, NULL, fixture_set_up, test_memdev,
                   fixture_tear_down);
        g_test_add("/libvirt/backend/policy-read", Fixture, NULL, fixture_set_up, test_policy_read,
                   fixture_tear_down);
        g_test_add("/libvirt/backend/policy-store", Fixture, NULL, fixture_set_up,
                   test_policy_store, fixture_tear_down);
        g_test_add("/libvirt/backend/unreachable", Fixture, NULL, fixture_set_up, test_unreachable,
                   fixture_tear_down);
        for (gsize i = 0; i < G_N_ELEMENTS(cmdline_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/libvirt/pid/cmdline/%s", cmdline_cases[i].name);

                g_test_add_data_func(path, &cmdline_cases[i], test_cmdline);
        }
        g_test_add_func("/libvirt/pid/dir", test_pid_dir);
        return g_test_run();
}
