/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration: the real vmtided growing a guest past its boot size with virtio-mem, and shrinking
 * it back. */

/*
 * One guest boots with 256 MiB and a 512 MiB virtio-mem device (room to
 * 768 MiB) under a real vmtided (QMP-direct, the default strategy
 * virtio-mem-first) with a budget it fits in at its largest. Its workload
 * allocates more than the guest's MemTotal at boot, in steps: its agent
 * pushes, the policy gives, and the give is plugged memory; every step
 * succeeds and nobody is OOM-killed. Then it frees it and the host needs
 * memory (the budget reloaded at the boot size): the daemon takes what
 * the guest can spare (all but its use and headroom) by unplugging, the
 * balloon left alone, and QEMU's device, vmtided's view and the guest's
 * MemTotal agree.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB        (G_GUINT64_CONSTANT(1) << 20)
#define BOOT       (256 * MIB)
#define VMEM_MAX   (512 * MIB)
#define PHASE_US   (120 * G_USEC_PER_SEC)
#define ALLOC_STEP (32 * (gint64)MIB)
#define NAME       "vtmem0"
/* Longer than the policy's settle time (4 s): moves would show. */
#define QUIET_WINDOW_US (6 * G_USEC_PER_SEC)

#define CONFIG_HEAD                                                                                \
        "[daemon]\n"                                                                               \
        "tick-interval-ms = 1000\n"                                                                \
        "agent-interval-ms = 1000\n"                                                               \
        "[ksm]\n"                                                                                  \
        "enabled = false\n"                                                                        \
        "[budget]\n"                                                                               \
        "reserve = 0\n"

typedef struct {
        char *dir;
        VtTestGuest *guest;
        VtTestDaemon *daemon;
        guint64 boot_total; /* the guest's MemTotal at boot */
        gint64 oom_kill;
} Fixture;

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

/* QEMU's own figure for the device, over the test's monitor: `size` or `requested-size`. */
static gint64
qemu_memdev(Fixture *fx, const char *member)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_test_daemon_qemu_execute(fx->guest, "query-memory-devices", NULL, &error);
        json_object *data = NULL;

        g_assert_no_error(error);
        for (size_t i = 0; i < json_object_array_length(reply); i++) {
                json_object *entry = json_object_array_get_idx(reply, i);

                if (json_object_object_get_ex(entry, "data", &data) &&
                    json_object_object_get_ex(data, member, &data))
                        return json_object_get_int64(data);
        }
        g_assert_not_reached();
        return -1;
}

static gint64
daemon_memdev(Fixture *fx, const char *member)
{
        return vt_test_daemon_guest_member_int(fx->daemon, NAME, "memdev", member);
}

/* Reports after @since_us: nobody was OOM-killed. */
static void
assert_no_oom(Fixture *fx, gint64 since_us)
{
        g_assert_true(
            vt_test_daemon_wait_agents(fx->daemon, &fx->guest, 1, "oom_kill", since_us, PHASE_US));
        g_assert_cmpint(vt_test_daemon_guest_member_int(fx->daemon, NAME, "agent", "oom_kill"), ==,
                        fx->oom_kill);
}

static void
phase_start(Fixture *fx)
{
        g_assert_cmpint(daemon_memdev(fx, "max"), ==, (gint64)VMEM_MAX);
        g_assert_cmpint(daemon_memdev(fx, "block_size"), ==, 2 * (gint64)MIB);
        g_assert_true(
            vt_test_daemon_wait_agents(fx->daemon, &fx->guest, 1, "oom_kill", 0, PHASE_US));
        fx->oom_kill = vt_test_daemon_guest_member_int(fx->daemon, NAME, "agent", "oom_kill");
        /* Start from a settled daemon: the allocation's push is then the reason to move. */
        if (!vt_test_daemon_wait_quiet(fx->daemon, QUIET_WINDOW_US, PHASE_US)) {
                vt_test_daemon_dump_log(fx->daemon);
                g_assert_not_reached();
        }
        vt_test_say("start: %s at %" G_GINT64_FORMAT " MiB balloon, %" G_GINT64_FORMAT
                    " MiB plugged, MemTotal %" G_GUINT64_FORMAT " MiB at boot",
                    NAME, vt_test_daemon_guest_int(fx->daemon, NAME, "actual") / (gint64)MIB,
                    daemon_memdev(fx, "plugged") / (gint64)MIB, fx->boot_total / MIB);
}

/* The workload takes more than the guest had at boot: plugged on its agent's push. */
static void
phase_grow(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        /* More than the whole of the guest's memory at boot. */
        gint64 alloc =
            ((gint64)fx->boot_total + 64 * (gint64)MIB + ALLOC_STEP - 1) / ALLOC_STEP * ALLOC_STEP;
        guint from = vt_test_daemon_get_n_events(fx->daemon);
        const VtTestDaemonEvent *give = NULL;
        json_object *reason = NULL;
        gint64 t0 = g_get_monotonic_time();
        guint64 total;

        vt_test_say("grow: %s allocates %" G_GINT64_FORMAT " MiB", NAME, alloc / (gint64)MIB);
        for (gint64 done = 0; done < alloc; done += ALLOC_STEP) {
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

        /* The daemon gave because the agent pushed... */
        do
                give = vt_test_daemon_assert_event(fx->daemon, &from, "DECISION", NAME, PHASE_US);
        while (g_strcmp0(vt_test_daemon_event_string(give, "action"), "give") != 0);
        g_assert_true(json_object_object_get_ex(give->data, "reason", &reason));
        vt_test_say("grow: %s", json_object_get_string(reason));
        g_assert_nonnull(strstr(json_object_get_string(reason), "pressure"));

        /* ...and what it gave is plugged: QEMU, vmtided and the guest agree. */
        g_assert_cmpint(qemu_memdev(fx, "size"), >, 0);
        total = guest_mem_total(fx);
        vt_test_say("grow: %" G_GINT64_FORMAT " MiB plugged (requested %" G_GINT64_FORMAT
                    " MiB), MemTotal %" G_GUINT64_FORMAT " MiB",
                    qemu_memdev(fx, "size") / (gint64)MIB,
                    qemu_memdev(fx, "requested-size") / (gint64)MIB, total / MIB);
        g_assert_cmpuint(total, >, fx->boot_total);
        g_assert_cmpuint(total, >, (guint64)alloc);
        assert_no_oom(fx, g_get_monotonic_time());
}

static gboolean
settled(gpointer data)
{
        gint64 plugged = daemon_memdev(data, "plugged");

        return plugged >= 0 && plugged == daemon_memdev(data, "requested");
}

/* Freed, and the host needs memory: unplugged, the balloon left alone. */
static void
phase_shrink(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fx->dir, "vmtided.conf", NULL);
        g_autofree char *text =
            g_strdup_printf(CONFIG_HEAD "total = %" G_GUINT64_FORMAT "M\n[recorder]\ndir = %s\n",
                            BOOT / MIB, vt_test_daemon_get_history_dir(fx->daemon));
        g_autofree char *reply = vt_test_guest_workload(fx->guest, "free", PHASE_US, &error);
        gint64 grown = daemon_memdev(fx, "plugged");
        const VtTestDaemonEvent *reclaim = NULL;
        gint64 t0 = g_get_monotonic_time();
        gint64 plugged;
        guint64 total;
        guint from;

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(reply, "ok"));
        vt_test_say("shrink: freed; the budget reloaded at %" G_GUINT64_FORMAT " MiB", BOOT / MIB);
        g_assert_true(g_file_set_contents(path, text, -1, &error));
        g_assert_no_error(error);
        from = vt_test_daemon_get_n_events(fx->daemon);
        vt_test_daemon_kill(fx->daemon, SIGHUP);
        do
                reclaim =
                    vt_test_daemon_assert_event(fx->daemon, &from, "DECISION", NAME, PHASE_US);
        while (g_strcmp0(vt_test_daemon_event_string(reclaim, "action"), "reclaim") != 0);
        vt_test_say("shrink: %s", vt_test_daemon_event_string(reclaim, "reason"));
        /* The daemon takes what the guest can spare (its use and headroom stay). */
        if (!vt_test_daemon_wait_quiet(fx->daemon, QUIET_WINDOW_US, PHASE_US) ||
            !vt_test_daemon_poll_until(settled, fx, PHASE_US)) {
                vt_test_daemon_dump_log(fx->daemon);
                g_assert_not_reached();
        }
        plugged = daemon_memdev(fx, "plugged");
        total = guest_mem_total(fx);
        vt_test_say("shrink: %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                    " MiB plugged in %.1f s, MemTotal %" G_GUINT64_FORMAT " MiB",
                    grown / (gint64)MIB, plugged / (gint64)MIB,
                    (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, total / MIB);
        g_assert_cmpint(plugged, <, grown / 2);
        g_assert_cmpint(qemu_memdev(fx, "size"), ==, plugged);
        g_assert_cmpint(qemu_memdev(fx, "requested-size"), ==, plugged);
        g_assert_cmpuint(total, ==, fx->boot_total + (guint64)plugged);
        /* Unplugged first: above the boot memory the balloon holds nothing;
         * the guest's memory in the policy's currency is boot plus plugged. */
        g_assert_cmpint(vt_test_daemon_guest_int(fx->daemon, NAME, "actual"), ==, (gint64)BOOT);
        g_assert_cmpint(vt_test_daemon_guest_int(fx->daemon, NAME, "memory"), ==,
                        (gint64)BOOT + plugged);
        assert_no_oom(fx, g_get_monotonic_time());
}

static void
test_vmtided_memdev(void)
{
        const VtTestGuestOptions options = {
            .name = NAME, .memory_bytes = BOOT, .virtio_mem_bytes = VMEM_MAX};
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        /* Room for the guest at its largest. */
        g_autofree char *config = g_strdup_printf(CONFIG_HEAD "total = %" G_GUINT64_FORMAT "M\n",
                                                  (BOOT + VMEM_MAX) / MIB);
        Fixture fx = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        fx.dir = g_dir_make_tmp("vt-vmtided-memdev-XXXXXX", &error);
        g_assert_no_error(error);
        fx.guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        fx.boot_total = guest_mem_total(&fx);
        fx.daemon = vt_test_daemon_start(fx.dir, config, &error);
        g_assert_no_error(error);
        vt_test_daemon_add_guest(fx.daemon, fx.guest, &error);
        g_assert_no_error(error);
        vt_test_daemon_assert_guests_added(fx.daemon, &fx.guest, 1, 0, PHASE_US);

        phase_start(&fx);
        phase_grow(&fx);
        phase_shrink(&fx);

        g_clear_pointer(&fx.daemon, vt_test_daemon_free);
        g_clear_pointer(&fx.guest, vt_test_guest_free);
        vt_test_remove_tree(fx.dir);
        g_free(fx.dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vmtided/memdev", test_vmtided_memdev);
        return g_test_run();
}
