/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the vmtided benchmarks: three test guests under a real vmtided, and its answers. */

/*
 * The benchmarks are not tests: a failure to set up (a guest that does not
 * boot, a daemon that does not start) ends them with g_error(), and what
 * the daemon does once running is measured, not asserted. Waits are on the
 * daemon's events (every event is a moment to look again) or, for agent
 * reports, balloon statistics and the time since a move, which have no
 * event, on asking every 250 ms (vt_bench_poll()); each has a guard.
 */
#include "bench/bench-daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONFIRM_SLACK (4 * VT_BENCH_MIB)

/* The daemon's configuration: the one of tests/test-vmtided.c, a budget and a policy. */
static const char config_format[] = "[daemon]\n"
                                    "%s"
                                    "tick-interval-ms = 1000\n"
                                    "agent-interval-ms = 1000\n"
                                    "[budget]\n"
                                    "total = %" G_GUINT64_FORMAT "M\n"
                                    "reserve = 0\n"
                                    "[ksm]\n"
                                    "enabled = false\n"
                                    "[policy]\n"
                                    "algorithm = %s\n";

/* The running daemon's vmtided.conf. */
static char *
bench_config(VtBench *bench)
{
        return g_strdup_printf(config_format, bench->libvirt != NULL ? "backend = libvirt\n" : "",
                               bench->budget_bytes / VT_BENCH_MIB, bench->algorithm);
}

/* Boots the guests of @specs: QEMU processes, or libvirt domains. */
static VtBench *
bench_new(const char *prefix, gboolean libvirt, const VtBenchGuestSpec *specs, guint n_guests,
          guint64 budget_bytes)
{
        g_autoptr(GError) error = NULL;
        VtBench *bench = g_new0(VtBench, 1);

        g_return_val_if_fail(n_guests > 0 && n_guests <= VT_BENCH_N_GUESTS, NULL);
        bench->n_guests = n_guests;
        bench->budget_bytes = budget_bytes;
        bench->dir = g_dir_make_tmp("vt-bench-XXXXXX", &error);
        if (bench->dir == NULL)
                g_error("%s", error->message);
        if (libvirt) {
                bench->libvirt = vt_test_libvirt_ensure(&error);
                if (bench->libvirt == NULL)
                        g_error("%s", error->message);
        }
        for (guint i = 0; i < n_guests; i++) {
                /* Domains are the host's: named uniquely. */
                g_autofree char *name = libvirt
                                            ? g_strdup_printf("%s-%d-%u", prefix, (int)getpid(), i)
                                            : g_strdup_printf("%s%u", prefix, i);
                const VtTestGuestOptions options = {
                    .name = name,
                    .memory_bytes = specs[i].memory_bytes,
                    .virtio_mem_bytes = specs[i].virtio_mem_bytes,
                    .libvirt_uri = libvirt ? vt_test_libvirt_get_uri(bench->libvirt) : NULL,
                };

                bench->guests[i] = vt_test_guest_start(&options, &error);
                if (bench->guests[i] == NULL)
                        g_error("%s", error->message);
        }
        return bench;
}

/* Three guests of VT_BENCH_GUEST_BYTES under VT_BENCH_BUDGET. */
static VtBench *
bench_new_three(const char *prefix, gboolean libvirt)
{
        VtBenchGuestSpec specs[VT_BENCH_N_GUESTS];

        for (guint i = 0; i < VT_BENCH_N_GUESTS; i++)
                specs[i] = (VtBenchGuestSpec){.memory_bytes = VT_BENCH_GUEST_BYTES};
        return bench_new(prefix, libvirt, specs, VT_BENCH_N_GUESTS, VT_BENCH_BUDGET);
}

/**
 * vt_bench_new:
 * @prefix: the guests' names are @prefix0, @prefix1, @prefix2
 *
 * Boots the three test guests (about 5 s each under TCG), one after the
 * other, for the daemon's QMP-direct backend. Ends the program if one does
 * not boot.
 *
 * Returns: (transfer full): the bench, without a daemon yet
 */
VtBench *
vt_bench_new(const char *prefix)
{
        return bench_new_three(prefix, FALSE);
}

/**
 * vt_bench_new_libvirt:
 * @prefix: the domains' names are @prefix-PID-0 and so on
 *
 * As vt_bench_new(), the guests being libvirt domains (libvirtd started
 * if none runs) and the daemon running its libvirt backend.
 *
 * Returns: (transfer full): the bench, without a daemon yet
 */
VtBench *
vt_bench_new_libvirt(const char *prefix)
{
        return bench_new_three(prefix, TRUE);
}

/**
 * vt_bench_new_guests:
 * @prefix: the guests' names are @prefix0, @prefix1, ...
 * @specs: (array length=n_guests): each guest's memory and virtio-mem device
 * @n_guests: how many, 1 to %VT_BENCH_N_GUESTS
 * @budget_bytes: the daemon's `[budget] total`, a multiple of 1 MiB
 *
 * As vt_bench_new(), with guests of the given sizes (QMP-direct only: the
 * launcher gives a virtio-mem device to direct-mode guests alone).
 *
 * Returns: (transfer full): the bench, without a daemon yet
 */
VtBench *
vt_bench_new_guests(const char *prefix, const VtBenchGuestSpec *specs, guint n_guests,
                    guint64 budget_bytes)
{
        return bench_new(prefix, FALSE, specs, n_guests, budget_bytes);
}

/**
 * vt_bench_free:
 * @bench: (nullable): the bench
 *
 * Stops the daemon (SIGTERM), the guests, and removes the temp dir, unless
 * VT_BENCH_KEEP is set in the environment: then the dir (with each
 * daemon's vmtided.log) stays, and its path is printed.
 */
void
vt_bench_free(VtBench *bench)
{
        if (bench == NULL)
                return;
        vt_bench_daemon_stop(bench);
        for (guint i = 0; i < bench->n_guests; i++)
                g_clear_pointer(&bench->guests[i], vt_test_guest_free);
        g_clear_pointer(&bench->libvirt, vt_test_libvirt_free);
        if (bench->dir != NULL && g_getenv("VT_BENCH_KEEP") != NULL)
                fprintf(stderr, "kept %s\n", bench->dir);
        else if (bench->dir != NULL)
                vt_test_remove_tree(bench->dir);
        g_free(bench->dir);
        g_free(bench->daemon_dir);
        g_free(bench->algorithm);
        g_free(bench);
}

const char *
vt_bench_guest_name(VtBench *bench, guint i)
{
        g_return_val_if_fail(i < bench->n_guests, NULL);
        return vt_test_guest_get_name(bench->guests[i]);
}

/**
 * vt_bench_daemon_dump_log:
 * @bench: the bench
 *
 * Prints the running daemon's log (vmtided.log in its dir) to stderr.
 */
void
vt_bench_daemon_dump_log(VtBench *bench)
{
        vt_test_daemon_dump_log(bench->daemon);
}

/**
 * vt_bench_daemon_start:
 * @bench: the bench, without a daemon running
 * @algorithm: its balloon policy (`[policy] algorithm`)
 *
 * Starts vmtided in a new subdir of the bench's dir (its log stays there
 * until the end), shows it the three guests and waits until it manages
 * them all. Ends the program if it cannot.
 */
void
vt_bench_daemon_start(VtBench *bench, const char *algorithm)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *config = NULL;

        g_return_if_fail(bench->daemon == NULL);
        g_free(bench->daemon_dir);
        g_free(bench->algorithm);
        bench->daemon_dir = g_strdup_printf("%s/%u-%s", bench->dir, bench->n_daemons++, algorithm);
        bench->algorithm = g_strdup(algorithm);
        config = bench_config(bench);
        if (g_mkdir_with_parents(bench->daemon_dir, 0755) < 0)
                g_error("%s: %s", bench->daemon_dir, g_strerror(errno));
        bench->daemon = vt_test_daemon_start(bench->daemon_dir, config, &error);
        if (bench->daemon == NULL)
                g_error("%s", error->message);
        /* Domains are found through libvirt; QEMU guests by their sockets. */
        for (guint i = 0; i < bench->n_guests && bench->libvirt == NULL; i++)
                if (!vt_test_daemon_add_guest(bench->daemon, bench->guests[i], &error))
                        g_error("%s", error->message);
        for (guint i = 0; i < bench->n_guests; i++) {
                guint from = 0;

                if (vt_test_daemon_wait_event(bench->daemon, &from, "GUEST_ADDED",
                                              vt_bench_guest_name(bench, i),
                                              VT_BENCH_GUARD_US) == NULL) {
                        vt_bench_daemon_dump_log(bench);
                        g_error("vmtided did not take on guest '%s'",
                                vt_bench_guest_name(bench, i));
                }
        }
}

typedef struct {
        VtBench *bench;
        gint64 budget;
} BudgetWait;

static gboolean
budget_applied(gpointer data)
{
        BudgetWait *w = data;
        json_object *status = vt_test_daemon_execute(w->bench->daemon, "query-status", NULL, NULL);
        gboolean applied = vt_bench_json_int(status, "host.budget") == w->budget;

        json_object_put(status);
        return applied;
}

/**
 * vt_bench_daemon_set_budget:
 * @bench: the bench, its daemon running
 * @budget_bytes: the new `[budget] total`, a multiple of 1 MiB
 * @guard_us: how long to wait at most
 *
 * Rewrites the daemon's vmtided.conf with @budget_bytes, sends it SIGHUP
 * (the budget applies live) and waits until query-status shows it: the
 * host's room changing under the guests.
 *
 * Returns: %TRUE if the daemon took it before the guard
 */
gboolean
vt_bench_daemon_set_budget(VtBench *bench, guint64 budget_bytes, gint64 guard_us)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *base = NULL;
        g_autofree char *config = NULL;
        BudgetWait w = {bench, (gint64)budget_bytes};

        g_return_val_if_fail(bench->daemon != NULL, FALSE);
        bench->budget_bytes = budget_bytes;
        path = g_build_filename(bench->daemon_dir, "vmtided.conf", NULL);
        /* As the harness wrote it: the history in the daemon's dir. */
        base = bench_config(bench);
        config = g_strdup_printf("%s\n[recorder]\ndir = %s\n", base,
                                 vt_test_daemon_get_history_dir(bench->daemon));
        if (!g_file_set_contents(path, config, -1, &error)) {
                fprintf(stderr, "%s\n", error->message);
                return FALSE;
        }
        vt_test_daemon_kill(bench->daemon, SIGHUP);
        return vt_bench_poll(budget_applied, &w, guard_us);
}

/**
 * vt_bench_daemon_stop:
 * @bench: the bench
 *
 * Ends the running daemon, if any, with SIGTERM and waits for it; says so
 * on stderr if it did not exit cleanly.
 */
void
vt_bench_daemon_stop(VtBench *bench)
{
        int status = 0;

        if (bench->daemon == NULL)
                return;
        vt_test_daemon_kill(bench->daemon, SIGTERM);
        if (!vt_test_daemon_wait_exit(bench->daemon, 30 * G_USEC_PER_SEC, &status))
                fprintf(stderr, "vmtided did not exit within 30 s of SIGTERM\n");
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fprintf(stderr, "vmtided exited with wait status %d after SIGTERM\n", status);
        g_clear_pointer(&bench->daemon, vt_test_daemon_free);
}

/**
 * vt_bench_json_int:
 * @object: (nullable): a JSON object
 * @path: members separated by dots, e.g. `agent.oom_kill`
 *
 * Returns: the integer there, or -1 when it is absent, null or not an integer
 */
gint64
vt_bench_json_int(json_object *object, const char *path)
{
        g_auto(GStrv) members = g_strsplit(path, ".", -1);
        json_object *value = object;

        for (guint i = 0; members[i] != NULL; i++)
                if (value == NULL || !json_object_object_get_ex(value, members[i], &value))
                        return -1;
        return value != NULL && json_object_is_type(value, json_type_int)
                   ? json_object_get_int64(value)
                   : -1;
}

/**
 * vt_bench_guest_rss:
 * @bench: the bench
 * @i: the guest (direct mode: its QEMU process is ours)
 *
 * Returns: its QEMU process's resident memory (`VmRSS` in
 *     /proc/PID/status), bytes, or -1 if it cannot be read
 */
gint64
vt_bench_guest_rss(VtBench *bench, guint i)
{
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        const char *line;
        GPid pid;

        g_return_val_if_fail(i < bench->n_guests, -1);
        pid = vt_test_guest_get_pid(bench->guests[i]);
        if (pid <= 0)
                return -1;
        path = g_strdup_printf("/proc/%d/status", (int)pid);
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return -1;
        line = strstr(text, "\nVmRSS:");
        if (line == NULL)
                return -1;
        return (gint64)g_ascii_strtoull(line + strlen("\nVmRSS:"), NULL, 10) * 1024;
}

/* An integer at @path in query-guest for guest @i, or -1. */
gint64
vt_bench_guest_int(VtBench *bench, guint i, const char *path)
{
        json_object *guest =
            vt_test_daemon_query_guest(bench->daemon, vt_bench_guest_name(bench, i), NULL);
        gint64 ret = vt_bench_json_int(guest, path);

        json_object_put(guest);
        return ret;
}

/**
 * vt_bench_guest_memory:
 * @bench: the bench
 * @i: the guest
 *
 * Returns: what guest @i holds in the policy's currency (query-guest
 *     `memory`: the balloon's actual plus what virtio-mem plugged, when
 *     driven; `actual` from a daemon without it), bytes, or -1
 */
gint64
vt_bench_guest_memory(VtBench *bench, guint i)
{
        gint64 memory = vt_bench_guest_int(bench, i, "memory");

        return memory >= 0 ? memory : vt_bench_guest_int(bench, i, "actual");
}

/**
 * vt_bench_set_target:
 * @bench: the bench
 * @i: the guest
 * @bytes: its balloon size, held by hand; 0: back to automation
 *
 * Returns: %TRUE if the daemon accepted it (else said on stderr)
 */
gboolean
vt_bench_set_target(VtBench *bench, guint i, guint64 bytes)
{
        g_autoptr(GError) error = NULL;
        json_object *args = json_object_new_object();
        json_object *ret;

        json_object_object_add(args, "name", json_object_new_string(vt_bench_guest_name(bench, i)));
        if (bytes > 0)
                json_object_object_add(args, "bytes", json_object_new_int64((gint64)bytes));
        else
                json_object_object_add(args, "auto", json_object_new_boolean(TRUE));
        ret = vt_test_daemon_execute(bench->daemon, "set-target", args, &error);
        if (ret == NULL) {
                fprintf(stderr, "set-target %s: %s\n", vt_bench_guest_name(bench, i),
                        error->message);
                return FALSE;
        }
        json_object_put(ret);
        return TRUE;
}

typedef struct {
        VtBench *bench;
        guint seen;
} EventWait;

static gboolean
event_after(gpointer data)
{
        EventWait *w = data;

        return vt_test_daemon_get_n_events(w->bench->daemon) > w->seen;
}

/**
 * vt_bench_wait:
 * @bench: the bench
 * @done: the condition; it may ask the daemon
 * @data: for @done
 * @guard_us: how long to wait at most
 *
 * Checks @done now and again after each event the daemon sends (a
 * DECISION, a BALLOON_DONE, a HOST_STATE: whatever changes what the
 * daemon would answer comes with one).
 *
 * Returns: %TRUE if @done held before the guard
 */
gboolean
vt_bench_wait(VtBench *bench, VtTestCondition done, gpointer data, gint64 guard_us)
{
        gint64 deadline_us = g_get_monotonic_time() + guard_us;

        for (;;) {
                EventWait w = {bench, vt_test_daemon_get_n_events(bench->daemon)};
                gint64 left_us;

                if (done(data))
                        return TRUE;
                left_us = deadline_us - g_get_monotonic_time();
                if (left_us <= 0 || !vt_test_run_until(event_after, &w, left_us))
                        return done(data);
        }
}

/* vmtide says the host has plenty and no balloon is on its way. */
static gboolean
settled(gpointer data)
{
        VtBench *bench = data;
        json_object *status = vt_test_daemon_execute(bench->daemon, "query-status", NULL, NULL);
        json_object *host, *state;
        gboolean plenty = status != NULL && json_object_object_get_ex(status, "host", &host) &&
                          json_object_object_get_ex(host, "state", &state) &&
                          g_strcmp0(json_object_get_string(state), "plenty") == 0;

        json_object_put(status);
        if (!plenty)
                return FALSE;
        for (guint i = 0; i < bench->n_guests; i++) {
                json_object *guest =
                    vt_test_daemon_query_guest(bench->daemon, vt_bench_guest_name(bench, i), NULL);
                gint64 actual = vt_bench_json_int(guest, "memory");
                gint64 target = vt_bench_json_int(guest, "target");

                if (actual < 0)
                        actual = vt_bench_json_int(guest, "actual");
                json_object_put(guest);
                if (actual < 0 || (target > 0 && ABS(target - actual) > (gint64)CONFIRM_SLACK))
                        return FALSE;
        }
        return TRUE;
}

/**
 * vt_bench_wait_settled:
 * @bench: the bench, its daemon running vmtide's policy
 * @guard_us: how long to wait at most
 *
 * Waits until the host state is `plenty` and every balloon is at its
 * target: vmtide has reclaimed what it wanted and will not move.
 *
 * Returns: %TRUE if it settled before the guard
 */
gboolean
vt_bench_wait_settled(VtBench *bench, gint64 guard_us)
{
        return vt_bench_wait(bench, settled, bench, guard_us);
}

static gboolean
on_poll_timer(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

static gboolean
flag_set(gpointer data)
{
        return *(gboolean *)data;
}

/**
 * vt_bench_poll:
 * @done: the condition; it may ask the daemon
 * @data: for @done
 * @guard_us: how long to wait at most
 *
 * For what the daemon sends no event about (agent reports, balloon
 * statistics, the time since a move): checks @done now and every 250 ms,
 * events and replies being handled in between. Unlike
 * vt_test_daemon_poll_until(), a @done that asks the daemon is not run
 * again after each of its own replies.
 *
 * Returns: %TRUE if @done held before the guard
 */
gboolean
vt_bench_poll(VtTestCondition done, gpointer data, gint64 guard_us)
{
        gint64 deadline_us = g_get_monotonic_time() + guard_us;

        while (!done(data)) {
                g_autoptr(GSource) timer = g_timeout_source_new(250);
                gboolean fired = FALSE;

                if (g_get_monotonic_time() >= deadline_us)
                        return FALSE;
                g_source_set_callback(timer, on_poll_timer, &fired, NULL);
                g_source_attach(timer, g_main_context_get_thread_default());
                vt_test_run_until(flag_set, &fired, 10 * G_USEC_PER_SEC);
                g_source_destroy(timer);
        }
        return TRUE;
}

typedef struct {
        VtBench *bench;
        gint64 since_us;
} FreshWait;

/* Every guest's agent report and balloon statistics arrived after since_us. */
static gboolean
reports_fresh(gpointer data)
{
        FreshWait *w = data;
        gint64 elapsed_ms = (g_get_monotonic_time() - w->since_us) / 1000;

        for (guint i = 0; i < w->bench->n_guests; i++) {
                json_object *guest = vt_test_daemon_query_guest(
                    w->bench->daemon, vt_bench_guest_name(w->bench, i), NULL);
                gint64 agent_ms = vt_bench_json_int(guest, "agent.age_ms");
                gint64 stats_ms = vt_bench_json_int(guest, "stats.age_ms");

                json_object_put(guest);
                if (agent_ms < 0 || agent_ms >= elapsed_ms || stats_ms < 0 ||
                    stats_ms >= elapsed_ms)
                        return FALSE;
        }
        return TRUE;
}

/**
 * vt_bench_wait_reports:
 * @bench: the bench
 * @guard_us: how long to wait at most
 *
 * Waits until the daemon has an agent report and balloon statistics from
 * every guest, all sent after this call: what it shows is current.
 *
 * Returns: %TRUE if they came before the guard
 */
gboolean
vt_bench_wait_reports(VtBench *bench, gint64 guard_us)
{
        FreshWait w = {bench, g_get_monotonic_time()};

        return vt_bench_poll(reports_fresh, &w, guard_us);
}

typedef struct {
        VtBench *bench;
        gint64 quiet_ms;
} QuietWait;

/* No guest's balloon was moved in the last w->quiet_ms. */
static gboolean
quiet(gpointer data)
{
        QuietWait *w = data;

        for (guint i = 0; i < w->bench->n_guests; i++) {
                gint64 ago_ms = vt_bench_guest_int(w->bench, i, "last_change_ms_ago");

                /* null: never moved */
                if (ago_ms >= 0 && ago_ms < w->quiet_ms)
                        return FALSE;
        }
        return TRUE;
}

/**
 * vt_bench_wait_quiet:
 * @bench: the bench
 * @quiet_us: how long no balloon may have moved
 * @guard_us: how long to wait at most
 *
 * Waits until no balloon was moved for @quiet_us: past vmtide's settle
 * time, a guest is judged on what it has, not on a move just made.
 *
 * Returns: %TRUE if it was quiet before the guard
 */
gboolean
vt_bench_wait_quiet(VtBench *bench, gint64 quiet_us, gint64 guard_us)
{
        QuietWait w = {bench, quiet_us / 1000};

        return vt_bench_poll(quiet, &w, guard_us);
}
