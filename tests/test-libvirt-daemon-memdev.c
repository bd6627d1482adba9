/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration: the real vmtided with its libvirt backend growing a domain past its boot size with
 * virtio-mem, and shrinking it back. */

/*
 * The libvirt twin of tests/test-vmtided-memdev.c. One domain boots with
 * 256 MiB and a 512 MiB virtio-mem device (room to 768 MiB) under the
 * harness's libvirtd and a real vmtided with `backend = libvirt` (the
 * default strategy virtio-mem-first) and a budget it fits in at its
 * largest. Its workload allocates more than the guest's MemTotal at boot,
 * in steps: its agent pushes, the policy gives, and the give is plugged
 * through libvirt (virDomainUpdateDeviceFlags); every step succeeds and
 * nobody is OOM-killed. Then it frees it and the host needs memory (the
 * budget reloaded at the boot size): the daemon takes what the guest can
 * spare by unplugging first; the balloon takes only what lies below the
 * boot memory, if the guest can spare that much (this one could: its use
 * and headroom came to less than its boot memory). Once the daemon settled after each phase,
 * libvirt's own books (the device's <requested> and <current> in the live domain XML), vmtided's
 * view and the guest's MemTotal agree.
 *
 * The domain does not opt out of vmtide's policy (vmtided must drive it),
 * so another test's vmtided on the same libvirtd would drive it too: run
 * it alone, as the integration suite does.
 */
#include <libvirt/libvirt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-libvirt.h"
#include "tests/vt-test-util.h"

#define MIB        (G_GUINT64_CONSTANT(1) << 20)
#define BOOT       (256 * MIB)
#define VMEM_MAX   (512 * MIB)
#define PHASE_US   (120 * G_USEC_PER_SEC)
#define ALLOC_STEP (32 * (gint64)MIB)
/* Longer than the policy's settle time (4 s): moves would show. */
#define QUIET_WINDOW_US (6 * G_USEC_PER_SEC)

typedef struct {
        char *dir;
        VtTestLibvirt *libvirt;
        virConnectPtr conn; /* the test's own, for libvirt's books */
        VtTestGuest *guest;
        VtTestDaemon *daemon;
        const char *name;   /* the domain's, as vmtided names the guest */
        guint64 boot_total; /* the guest's MemTotal at boot */
        gint64 oom_kill;
} Fixture;

/* vmtided.conf with a budget of @budget; its flight recorder in @history_dir if not %NULL. */
static char *
config_text(Fixture *fx, guint64 budget, const char *history_dir)
{
        g_autofree char *recorder =
            history_dir != NULL ? g_strdup_printf("[recorder]\ndir = %s\n", history_dir) : NULL;

        return g_strdup_printf("[daemon]\n"
                               "backend = libvirt\n"
                               "tick-interval-ms = 1000\n"
                               "agent-interval-ms = 1000\n"
                               "[libvirt]\n"
                               "uri = %s\n"
                               "[ksm]\n"
                               "enabled = false\n"
                               "[budget]\n"
                               "total = %" G_GUINT64_FORMAT "M\n"
                               "reserve = 0\n"
                               "%s",
                               vt_test_libvirt_get_uri(fx->libvirt), budget / MIB,
                               recorder != NULL ? recorder : "");
}

/* The guest's MemTotal, as its workload reads /proc/meminfo. */
static guint64
guest_mem_total(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = vt_test_guest_workload(fx->guest, "meminfo", PHASE_US, &error);
        guint64 total = 0;

        g_assert_no_error(error);
        g_assert_cmpint(sscanf(reply, "ok %" G_GUINT64_FORMAT, &total), ==, 1);
        return total;
}

/*
 * libvirt's own books: the virtio-mem device's @element (`requested` or
 * `current`) in the live domain XML, in bytes (libvirt writes KiB).
 */
static gint64
libvirt_memdev(Fixture *fx, const char *element)
{
        g_autofree char *pattern = g_strdup_printf(
            "<memory model='virtio-mem'>.*?<%s unit='KiB'>([0-9]+)</%s>", element, element);
        g_autoptr(GRegex) regex = g_regex_new(pattern, G_REGEX_DOTALL, 0, NULL);
        g_autoptr(GMatchInfo) match = NULL;
        g_autofree char *kib = NULL;
        virDomainPtr domain = virDomainLookupByName(fx->conn, fx->name);
        char *xml;

        g_assert_nonnull(domain);
        xml = virDomainGetXMLDesc(domain, 0);
        virDomainFree(domain);
        g_assert_nonnull(xml);
        if (!g_regex_match(regex, xml, 0, &match))
                g_error("no <%s> of a virtio-mem device in %s's XML:\n%s", element, fx->name, xml);
        kib = g_match_info_fetch(match, 1);
        free(xml);
        return g_ascii_strtoll(kib, NULL, 10) * 1024;
}

static gint64
daemon_memdev(Fixture *fx, const char *member)
{
        return vt_test_daemon_guest_member_int(fx->daemon, fx->name, "memdev", member);
}

/* vmtided's device at rest (plugged as requested), and libvirt's books say the same. */
static gboolean
books_agree(gpointer data)
{
        Fixture *fx = data;
        gint64 plugged = daemon_memdev(fx, "plugged");

        return plugged >= 0 && plugged == daemon_memdev(fx, "requested") &&
               libvirt_memdev(fx, "current") == plugged &&
               libvirt_memdev(fx, "requested") == plugged;
}

/* Waits for the daemon to settle and the books to agree; the plugged size then. */
static gint64
wait_books_agree(Fixture *fx)
{
        if (!vt_test_daemon_wait_quiet(fx->daemon, QUIET_WINDOW_US, PHASE_US) ||
            !vt_test_daemon_poll_until(books_agree, fx, PHASE_US)) {
                vt_test_say("vmtided: plugged %" G_GINT64_FORMAT " MiB, requested %" G_GINT64_FORMAT
                            " MiB; libvirt: current %" G_GINT64_FORMAT
                            " MiB, requested %" G_GINT64_FORMAT " MiB",
                            daemon_memdev(fx, "plugged") / (gint64)MIB,
                            daemon_memdev(fx, "requested") / (gint64)MIB,
                            libvirt_memdev(fx, "current") / (gint64)MIB,
                            libvirt_memdev(fx, "requested") / (gint64)MIB);
                vt_test_daemon_dump_log(fx->daemon);
                g_assert_not_reached();
        }
        return daemon_memdev(fx, "plugged");
}

/* The guest's next DECISION to @action (give, reclaim), from event @from on; its reason said. */
static const VtTestDaemonEvent *
await_decision(Fixture *fx, guint *from, const char *action)
{
        const VtTestDaemonEvent *event;

        do
                event =
                    vt_test_daemon_assert_event(fx->daemon, from, "DECISION", fx->name, PHASE_US);
        while (g_strcmp0(vt_test_daemon_event_string(event, "action"), action) != 0);
        vt_test_say("%s: %s", action, vt_test_daemon_event_string(event, "reason"));
        return event;
}

/* An integer member of an event's data (sizes in bytes, times in ms). */
static gint64
event_int(const VtTestDaemonEvent *event, const char *member)
{
        json_object *value = NULL;

        g_assert_true(json_object_object_get_ex(event->data, member, &value));
        return json_object_get_int64(value);
}

/* When vmtided last told a change of the guest's device (MEMDEV), from event @from on. */
static gint64
last_memdev_at(Fixture *fx, guint from)
{
        gint64 at = -1;

        for (guint i = from; i < vt_test_daemon_get_n_events(fx->daemon); i++) {
                const VtTestDaemonEvent *event = vt_test_daemon_get_event(fx->daemon, i);

                if (g_str_equal(event->name, "MEMDEV") &&
                    g_strcmp0(vt_test_daemon_event_string(event, "guest"), fx->name) == 0)
                        at = event->at_us;
        }
        g_assert_cmpint(at, >=, 0);
        return at;
}

/* Reports after @since_us: nobody was OOM-killed. */
static void
assert_no_oom(Fixture *fx, gint64 since_us)
{
        g_assert_true(
            vt_test_daemon_wait_agents(fx->daemon, &fx->guest, 1, "oom_kill", since_us, PHASE_US));
        g_assert_cmpint(vt_test_daemon_guest_member_int(fx->daemon, fx->name, "agent", "oom_kill"),
                        ==, fx->oom_kill);
}

/* Shown after vmtided's log when the test fails. */
static void
dump_libvirtd_log(gpointer user_data)
{
        g_autofree char *log = vt_test_libvirt_read_log(user_data);

        if (log != NULL && log[0] != '\0')
                g_printerr("# libvirtd's log (tail):\n%s\n",
                           strlen(log) > 4096 ? log + strlen(log) - 4096 : log);
}

static void
phase_start(Fixture *fx)
{
        g_assert_cmpint(daemon_memdev(fx, "max"), ==, (gint64)VMEM_MAX);
        g_assert_cmpint(daemon_memdev(fx, "block_size"), ==, 2 * (gint64)MIB);
        g_assert_true(
            vt_test_daemon_wait_agents(fx->daemon, &fx->guest, 1, "oom_kill", 0, PHASE_US));
        fx->oom_kill = vt_test_daemon_guest_member_int(fx->daemon, fx->name, "agent", "oom_kill");
        /* Start from a settled daemon: the allocation's push is then the reason to move. */
        g_assert_cmpint(wait_books_agree(fx), ==, 0);
        vt_test_say("start: %s at %" G_GINT64_FORMAT
                    " MiB balloon, nothing plugged, MemTotal %" G_GUINT64_FORMAT " MiB at boot",
                    fx->name,
                    vt_test_daemon_guest_int(fx->daemon, fx->name, "actual") / (gint64)MIB,
                    fx->boot_total / MIB);
}

/* The workload takes more than the guest had at boot: plugged on its agent's push. */
static void
phase_grow(Fixture *fx)
{
        /* More than the whole of the guest's memory at boot. */
        gint64 alloc =
            ((gint64)fx->boot_total + 64 * (gint64)MIB + ALLOC_STEP - 1) / ALLOC_STEP * ALLOC_STEP;
        guint from = vt_test_daemon_get_n_events(fx->daemon);
        const VtTestDaemonEvent *give, *given;
        gint64 t0 = g_get_monotonic_time();
        gint64 plugged;
        guint64 total;

        vt_test_say("grow: %s allocates %" G_GINT64_FORMAT " MiB", fx->name, alloc / (gint64)MIB);
        for (gint64 done = 0; done < alloc; done += ALLOC_STEP) {
                g_autoptr(GError) error = NULL;
                g_autofree char *command = g_strdup_printf("alloc %" G_GINT64_FORMAT, ALLOC_STEP);
                g_autofree char *reply =
                    vt_test_guest_workload(fx->guest, command, PHASE_US, &error);

                g_assert_no_error(error);
                if (!g_str_has_prefix(reply, "ok")) {
                        vt_test_say("grow: the workload says '%s' after %" G_GINT64_FORMAT " MiB",
                                    reply, done / (gint64)MIB);
                        vt_test_daemon_dump_log(fx->daemon);
                }
                g_assert_true(g_str_has_prefix(reply, "ok"));
        }
        vt_test_say("grow: allocated in %.1f s",
                    (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);

        /* The daemon gave because the agent pushed, and the give was done... */
        give = await_decision(fx, &from, "give");
        g_assert_nonnull(strstr(vt_test_daemon_event_string(give, "reason"), "pressure"));
        given = vt_test_daemon_assert_event(fx->daemon, &from, "BALLOON_DONE", fx->name, PHASE_US);
        vt_test_say("grow: done at %" G_GINT64_FORMAT " MiB in %" G_GINT64_FORMAT
                    " ms from the decision, %" G_GINT64_FORMAT " MiB plugged",
                    event_int(given, "actual") / (gint64)MIB, event_int(given, "ms"),
                    daemon_memdev(fx, "plugged") / (gint64)MIB);

        /* ...plugged: once the daemon settled, libvirt, vmtided and the guest agree. */
        plugged = wait_books_agree(fx);
        total = guest_mem_total(fx);
        vt_test_say("grow: settled at %" G_GINT64_FORMAT " MiB plugged (libvirt's current), "
                    "MemTotal %" G_GUINT64_FORMAT " MiB",
                    plugged / (gint64)MIB, total / MIB);
        g_assert_cmpint(plugged, >, 0);
        g_assert_cmpint(vt_test_daemon_guest_int(fx->daemon, fx->name, "actual"), ==, (gint64)BOOT);
        g_assert_cmpuint(total, ==, fx->boot_total + (guint64)plugged);
        g_assert_cmpuint(total, >, (guint64)alloc);
        assert_no_oom(fx, g_get_monotonic_time());
}

/* Freed, and the host needs memory: unplugged first, ballooned only below the boot memory. */
static void
phase_shrink(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fx->dir, "vmtided.conf", NULL);
        g_autofree char *text = config_text(fx, BOOT, vt_test_daemon_get_history_dir(fx->daemon));
        g_autofree char *reply = vt_test_guest_workload(fx->guest, "free", PHASE_US, &error);
        gint64 grown = daemon_memdev(fx, "plugged");
        gint64 t0, plugged, actual, expected;
        guint64 total;
        guint from;

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(reply, "ok"));
        vt_test_say("shrink: freed; the budget reloaded at %" G_GUINT64_FORMAT " MiB", BOOT / MIB);
        g_assert_true(g_file_set_contents(path, text, -1, &error));
        g_assert_no_error(error);
        from = vt_test_daemon_get_n_events(fx->daemon);
        t0 = g_get_monotonic_time();
        vt_test_daemon_kill(fx->daemon, SIGHUP);
        await_decision(fx, &from, "reclaim");
        /* The daemon takes what the guest can spare (its use and headroom stay). */
        plugged = wait_books_agree(fx);
        actual = vt_test_daemon_guest_int(fx->daemon, fx->name, "actual");
        total = guest_mem_total(fx);
        vt_test_say(
            "shrink: %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
            " MiB plugged (libvirt's current), the last of it told %.1f s after the "
            "reload; balloon at %" G_GINT64_FORMAT " KiB, MemTotal %" G_GUINT64_FORMAT " KiB",
            grown / (gint64)MIB, plugged / (gint64)MIB,
            (double)(last_memdev_at(fx, from) - t0) / G_USEC_PER_SEC, actual / 1024, total / 1024);
        g_assert_cmpint(plugged, <, grown / 2);
        /* Unplugged first: the balloon holds only what lies below the boot
         * memory (when the guest can spare that much), never beside plugged
         * memory; the guest's memory in the policy's currency is the
         * balloon's plus plugged, and MemTotal says the same. */
        g_assert_cmpint(actual, <=, (gint64)BOOT);
        if (actual < (gint64)BOOT)
                g_assert_cmpint(plugged, ==, 0);
        g_assert_cmpint(vt_test_daemon_guest_int(fx->daemon, fx->name, "memory"), ==,
                        actual + plugged);
        expected = (gint64)fx->boot_total - ((gint64)BOOT - actual) + plugged;
        g_assert_cmpint((gint64)total, ==, expected);
        assert_no_oom(fx, g_get_monotonic_time());
}

static void
test_libvirt_daemon_memdev(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *name = g_strdup_printf("vt-lvdmem-%d", (int)getpid());
        g_autofree char *config = NULL;
        Fixture fx = {.name = name};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason) ||
            !vt_test_skip_unless(vt_test_libvirt_available(&reason), reason))
                return;
        fx.libvirt = vt_test_libvirt_ensure(&error);
        g_assert_no_error(error);
        fx.conn = vt_test_libvirt_connect(vt_test_libvirt_get_uri(fx.libvirt), &error);
        g_assert_no_error(error);
        fx.dir = g_dir_make_tmp("vt-libvirt-daemon-memdev-XXXXXX", &error);
        g_assert_no_error(error);
        fx.guest = vt_test_guest_start(
            &(VtTestGuestOptions){.name = name,
                                  .memory_bytes = BOOT,
                                  .virtio_mem_bytes = VMEM_MAX,
                                  .libvirt_uri = vt_test_libvirt_get_uri(fx.libvirt)},
            &error);
        g_assert_no_error(error);
        fx.boot_total = guest_mem_total(&fx);
        /* Room for the guest at its largest. */
        config = config_text(&fx, BOOT + VMEM_MAX, NULL);
        fx.daemon = vt_test_daemon_start(fx.dir, config, &error);
        g_assert_no_error(error);
        vt_test_daemon_set_dump_func(fx.daemon, dump_libvirtd_log, fx.libvirt);
        vt_test_daemon_assert_guests_added(fx.daemon, &fx.guest, 1, 0, PHASE_US);

        phase_start(&fx);
        phase_grow(&fx);
        phase_shrink(&fx);

        g_clear_pointer(&fx.daemon, vt_test_daemon_free);
        g_clear_pointer(&fx.guest, vt_test_guest_free);
        virConnectClose(fx.conn);
        g_clear_pointer(&fx.libvirt, vt_test_libvirt_free);
        vt_test_remove_tree(fx.dir);
        g_free(fx.dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/libvirt/daemon/memdev", test_libvirt_daemon_memdev);
        return g_test_run();
}
