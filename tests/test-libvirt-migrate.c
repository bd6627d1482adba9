/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration tests of the libvirt guest's migration methods and dirty
 * rate, between two real libvirtd on this machine: the harness's (or the
 * host's) qemu:///system, and a second one with its own host UUID and
 * dirs (vt_test_libvirt_peer_start()). The guest is driven through the
 * guest contract (vt_guest_measure_dirty_rate_*, vt_guest_migrate_*), as
 * the executor drives it, from the libvirt backend's guest (which passes
 * libvirt's events on, JOB_COMPLETED and the domain's end included); no
 * vmtided.
 *
 * One TCG domain serves the cases in order, each leaving it running on
 * the first libvirtd but the last:
 *
 *   dirty-rate     idle, then dirtying 16 MiB/s of a 64 MiB buffer
 *   cancel         8 MiB/s cap, 128 MiB allocated: cancelled mid-way;
 *                  the guest runs on the source, nothing on the peer
 *   peer-killed    the same, the peer's libvirtd SIGKILLed mid-way: the
 *                  move fails, the guest runs on the source; the peer,
 *                  started again, runs nothing
 *   complete       no cap: completes; the domain runs on the peer, is gone
 *                  from the first libvirtd (and from the backend); its
 *                  agent answers there with the allocation still in the
 *                  guest's anonymous memory
 *
 * The workload's socket cannot be used after the move: libvirt on the
 * source removes the socket path (which the peer's QEMU had just bound
 * again) when the source QEMU ends. The agent's socket is libvirt's, under
 * the peer's own /var/lib/libvirt, and serves instead.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "host/libvirt/libvirt-backend.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-libvirt.h"
#include "tests/vt-test-util.h"

#define MIB            (G_GUINT64_CONSTANT(1) << 20)
#define GUEST_MEMORY   (512 * MIB)
#define ALLOC_BYTES    (128 * MIB)
#define SLOW_BANDWIDTH (8 * MIB)
#define QUERY_US       (200 * 1000)
#define MOVE_GUARD_US  (90 * G_USEC_PER_SEC)
#define AGENT_GUARD_MS 20000
#define AGENT_PORT     "org.vmtide.agent.0"

/* Shared by the cases, in order; freed at the end of main(). */
static struct {
        VtTestLibvirt *lv;
        VtTestLibvirtPeer *peer;
        VtTestGuest *test_guest;
        char *name;
        VtBackend *backend;
        VtGuest *guest; /* the backend's, for @name */
        guint removed;  /* the backend dropped it */
        gboolean ready; /* set up; FALSE: the case skips or fails */
} shared;

static void
on_added(VtBackend *backend, VtGuest *guest, gpointer user_data)
{
        (void)backend;
        (void)user_data;
        if (g_strcmp0(vt_guest_get_name(guest), shared.name) == 0)
                g_set_object(&shared.guest, guest);
}

static void
on_removed(VtBackend *backend, VtGuest *guest, gpointer user_data)
{
        (void)backend;
        (void)user_data;
        if (g_strcmp0(vt_guest_get_name(guest), shared.name) == 0)
                shared.removed++;
}

static gboolean
guest_found(gpointer data)
{
        (void)data;
        return shared.guest != NULL;
}

/* The two libvirtd, the domain and the backend's guest, once. */
static gboolean
shared_setup(void)
{
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;
        VtTestGuestOptions options = {0};
        VtTestWaiter waiter = {0};

        if (shared.ready)
                return TRUE;
        if (!vt_test_skip_unless(vt_test_libvirt_available(&reason), reason))
                return FALSE;
        g_assert_null(shared.lv);
        shared.lv = vt_test_libvirt_ensure(&error);
        g_assert_no_error(error);
        shared.peer = vt_test_libvirt_peer_start(&error);
        g_assert_no_error(error);
        g_test_message("peer libvirtd at '%s', host UUID %s",
                       vt_test_libvirt_peer_get_uri(shared.peer),
                       vt_test_libvirt_peer_get_host_uuid(shared.peer));
        shared.name = g_strdup_printf("vt-lvm-%d", (int)getpid());
        options.name = shared.name;
        options.memory_bytes = GUEST_MEMORY;
        options.libvirt_uri = vt_test_libvirt_get_uri(shared.lv);
        shared.test_guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);

        shared.backend = vt_backend_libvirt_new(vt_test_libvirt_get_uri(shared.lv), 2);
        g_signal_connect(shared.backend, "guest-added", G_CALLBACK(on_added), NULL);
        g_signal_connect(shared.backend, "guest-removed", G_CALLBACK(on_removed), NULL);
        g_assert_true(vt_backend_start(shared.backend, &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_run_until(guest_found, NULL, VT_TEST_GUARD_US));
        /* The backend finds it; its user (vmtided) starts it. */
        vt_guest_start_async(shared.guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(shared.guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        shared.ready = TRUE;
        return TRUE;
}

/* Whether @uri runs a domain named @name (the test fails on other errors). */
static gboolean
domain_runs(const char *uri, const char *name)
{
        g_autoptr(GError) error = NULL;
        virConnectPtr conn = vt_test_libvirt_connect(uri, &error);
        virDomainPtr domain;
        int active = 0;

        g_assert_no_error(error);
        domain = virDomainLookupByName(conn, name);
        if (domain == NULL) {
                g_assert_cmpint(virGetLastErrorCode(), ==, VIR_ERR_NO_DOMAIN);
        } else {
                active = virDomainIsActive(domain);
                virDomainFree(domain);
        }
        virConnectClose(conn);
        return active == 1;
}

static guint64
dirty_rate_measure(gint64 window_us)
{
        VtTestWaiter waiter = {0};
        g_autoptr(GError) error = NULL;
        guint64 rate = 0;

        vt_guest_measure_dirty_rate_async(shared.guest, window_us, vt_test_waiter_callback,
                                          &waiter);
        g_assert_true(vt_guest_measure_dirty_rate_finish(shared.guest, vt_test_waiter_wait(&waiter),
                                                         &rate, &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        return rate;
}

static char *
workload(const char *command)
{
        g_autoptr(GError) error = NULL;
        char *reply = vt_test_guest_workload(shared.test_guest, command, 0, &error);

        g_assert_no_error(error);
        return reply;
}

static void
test_dirty_rate(void)
{
        g_autofree char *reply = NULL;
        guint64 idle, busy;
        gint64 t0;

        if (!shared_setup())
                return;
        t0 = g_get_monotonic_time();
        idle = dirty_rate_measure(G_USEC_PER_SEC);
        g_test_message("idle: %" G_GUINT64_FORMAT " B/s, read in %.1f s", idle,
                       (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
        reply = workload("dirty 16777216 67108864");
        g_assert_true(g_str_has_prefix(reply, "ok"));
        busy = dirty_rate_measure(G_USEC_PER_SEC);
        g_test_message("dirtying 16 MiB/s of 64 MiB: %" G_GUINT64_FORMAT " B/s", busy);
        g_free(reply);
        reply = workload("dirty 0 0");
        /* Page sampling: coarse (1 MiB/s steps, a sample of pages). */
        g_assert_cmpuint(idle, <=, 8 * MIB);
        g_assert_cmpuint(busy, >=, 4 * MIB);
        g_assert_cmpuint(busy, >, idle);
}

/* Starts a move to the peer; TRUE once it runs (start completed). */
static void
migrate_start(guint64 bandwidth)
{
        g_autofree char *stream = vt_test_libvirt_peer_migrate_uri(shared.peer, shared.name);
        VtMigrateRequest request = {
            .peer = vt_test_libvirt_peer_get_uri(shared.peer),
            .transport_uri = stream,
            .bandwidth = bandwidth,
            .downtime_limit_us = 300 * 1000,
        };
        VtTestWaiter waiter = {0};
        g_autoptr(GError) error = NULL;

        vt_guest_migrate_start_async(shared.guest, &request, vt_test_waiter_callback, &waiter);
        g_assert_true(
            vt_guest_migrate_start_finish(shared.guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

static VtMigrateProgress
migrate_query(void)
{
        VtTestWaiter waiter = {0};
        g_autoptr(GError) error = NULL;
        VtMigrateProgress progress = {0};

        vt_guest_migrate_query_async(shared.guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_migrate_query_finish(shared.guest, vt_test_waiter_wait(&waiter),
                                                    &progress, &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        return progress;
}

typedef struct {
        guint64 min_transferred; /* stop once this much went (and it runs) */
        VtMigrateProgress last;
        GSource *tick;
        gboolean done;
} Follow;

/* Queries every QUERY_US until the move is final or has sent enough. */
static gboolean
follow_tick(gpointer data)
{
        Follow *f = data;

        f->last = migrate_query();
        g_test_message("  %s: pass %u, %" G_GUINT64_FORMAT " MiB sent, %" G_GUINT64_FORMAT
                       " MiB left, %" G_GUINT64_FORMAT " MiB/s",
                       f->last.status == VT_MIGRATE_STATUS_ACTIVE ? "active" : "other",
                       f->last.pass, f->last.transferred_bytes / MIB, f->last.remaining_bytes / MIB,
                       f->last.throughput / MIB);
        if (vt_migrate_status_is_final(f->last.status) ||
            (f->min_transferred > 0 && f->last.transferred_bytes >= f->min_transferred))
                f->done = TRUE;
        return f->done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
follow_done(gpointer data)
{
        return ((Follow *)data)->done;
}

/* Follows the move until it ends (@min_transferred 0) or has sent that much. */
static VtMigrateProgress
migrate_follow(guint64 min_transferred)
{
        Follow f = {.min_transferred = min_transferred};
        guint id = g_timeout_add(QUERY_US / 1000, follow_tick, &f);

        if (!vt_test_run_until(follow_done, &f, MOVE_GUARD_US)) {
                g_source_remove(id);
                g_error("guard timeout: the migration neither ended nor went on");
        }
        return f.last;
}

static void
migrate_cancel(void)
{
        VtTestWaiter waiter = {0};
        g_autoptr(GError) error = NULL;

        vt_guest_migrate_cancel_async(shared.guest, vt_test_waiter_callback, &waiter);
        g_assert_true(
            vt_guest_migrate_cancel_finish(shared.guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

/* Allocates ALLOC_BYTES in the guest once (pages KSM cannot merge). */
static void
allocate_once(void)
{
        static gboolean done;
        g_autofree char *reply = NULL;

        if (done)
                return;
        reply = workload("alloc 134217728");
        g_assert_true(g_str_has_prefix(reply, "ok"));
        done = TRUE;
}

/* The guest runs on the source only, and answers there. */
static void
assert_on_source(void)
{
        g_autofree char *pong = workload("ping");

        g_assert_cmpstr(pong, ==, "pong");
        g_assert_true(domain_runs(vt_test_libvirt_get_uri(shared.lv), shared.name));
        g_assert_false(domain_runs(vt_test_libvirt_peer_get_uri(shared.peer), shared.name));
        g_assert_cmpuint(shared.removed, ==, 0);
}

static void
test_cancel(void)
{
        VtMigrateProgress p;

        if (!shared_setup())
                return;
        allocate_once();
        migrate_start(SLOW_BANDWIDTH);
        p = migrate_follow(16 * MIB);
        g_assert_cmpint(p.status, ==, VT_MIGRATE_STATUS_ACTIVE);
        g_assert_cmpuint(p.total_bytes, >=, GUEST_MEMORY);
        migrate_cancel();
        p = migrate_follow(0);
        g_test_message("cancelled after %.1f s: %s", (double)p.elapsed_us / G_USEC_PER_SEC,
                       p.error);
        g_assert_cmpint(p.status, ==, VT_MIGRATE_STATUS_CANCELLED);
        assert_on_source();
}

static gboolean
peer_runs_nothing(gpointer data)
{
        (void)data;
        return !domain_runs(vt_test_libvirt_peer_get_uri(shared.peer), shared.name);
}

static void
test_peer_killed(void)
{
        g_autoptr(GError) error = NULL;
        VtMigrateProgress p;
        gint64 killed_us;

        if (!shared_setup())
                return;
        allocate_once();
        migrate_start(SLOW_BANDWIDTH);
        p = migrate_follow(16 * MIB);
        g_assert_cmpint(p.status, ==, VT_MIGRATE_STATUS_ACTIVE);
        g_assert_true(vt_test_libvirt_peer_kill_daemon(shared.peer));
        killed_us = g_get_monotonic_time();
        p = migrate_follow(0);
        g_test_message("the peer's libvirtd killed: %s %.2f s later: %s",
                       p.status == VT_MIGRATE_STATUS_FAILED ? "failed" : "ended",
                       (double)(g_get_monotonic_time() - killed_us) / G_USEC_PER_SEC, p.error);
        g_assert_cmpint(p.status, ==, VT_MIGRATE_STATUS_FAILED);
        g_assert_true(vt_test_libvirt_peer_start_daemon(shared.peer, &error));
        g_assert_no_error(error);
        /* The restarted peer ends the half-received domain it finds. */
        g_assert_true(vt_test_run_until(peer_runs_nothing, NULL, 30 * G_USEC_PER_SEC));
        assert_on_source();
}

/* The agent channel's socket of the domain on the peer, as seen from here. */
static char *
peer_agent_path(void)
{
        g_autoptr(GError) error = NULL;
        virConnectPtr conn =
            vt_test_libvirt_connect(vt_test_libvirt_peer_get_uri(shared.peer), &error);
        virDomainPtr domain;
        char *xml, *path = NULL;
        const char *end, *start;

        g_assert_no_error(error);
        domain = virDomainLookupByName(conn, shared.name);
        g_assert_nonnull(domain);
        xml = virDomainGetXMLDesc(domain, 0);
        g_assert_nonnull(xml);
        end = strstr(xml, "/" AGENT_PORT "'");
        g_assert_nonnull(end);
        start = g_strrstr_len(xml, end - xml, "path='");
        g_assert_nonnull(start);
        start += strlen("path='");
        {
                g_autofree char *in_peer = g_strndup(start, end + strlen(AGENT_PORT) + 1 - start);

                path = vt_test_libvirt_peer_host_path(shared.peer, in_peer);
        }
        free(xml);
        virDomainFree(domain);
        virConnectClose(conn);
        return path;
}

/* The first agent report read at @path (the agent sends a hello and a
 * report on every connection). */
static char *
agent_report(const char *path)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        GString *buf = g_string_new(NULL);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        gint64 deadline_us = g_get_monotonic_time() + (gint64)AGENT_GUARD_MS * 1000;
        char *line = NULL;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
        strcpy(addr.sun_path, path);
        g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        while (line == NULL) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                gint64 left_ms = (deadline_us - g_get_monotonic_time()) / 1000;
                char chunk[4096];
                char *nl;
                ssize_t n;

                g_assert_cmpint(left_ms, >, 0);
                if (poll(&pfd, 1, (int)left_ms) <= 0)
                        continue;
                n = read(fd, chunk, sizeof(chunk));
                g_assert_cmpint(n, >, 0);
                g_string_append_len(buf, chunk, n);
                while (line == NULL && (nl = strchr(buf->str, '\n')) != NULL) {
                        g_autofree char *one = g_strndup(buf->str, nl - buf->str);

                        g_string_erase(buf, 0, nl - buf->str + 1);
                        if (strstr(one, "\"report\"") != NULL)
                                line = g_steal_pointer(&one);
                }
        }
        close(fd);
        g_string_free(buf, TRUE);
        return line;
}

static gboolean
guest_removed(gpointer data)
{
        (void)data;
        return shared.removed > 0;
}

static void
test_complete(void)
{
        g_autofree char *agent_path = NULL;
        g_autofree char *report = NULL;
        VtMigrateProgress p;
        const char *anon;
        guint64 anon_bytes;
        gint64 t0;

        if (!shared_setup())
                return;
        allocate_once();
        t0 = g_get_monotonic_time();
        migrate_start(0);
        p = migrate_follow(0);
        g_test_message("completed in %.2f s (libvirt: %.2f s, %" G_GUINT64_FORMAT
                       " MiB sent, pass %u, downtime %.0f ms)",
                       (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC,
                       (double)p.elapsed_us / G_USEC_PER_SEC, p.transferred_bytes / MIB, p.pass,
                       (double)p.downtime_us / 1000);
        g_assert_cmpint(p.status, ==, VT_MIGRATE_STATUS_COMPLETED);
        g_assert_cmpuint(p.remaining_bytes, ==, 0);
        /* The figures are the last read, or libvirt's JOB_COMPLETED ones:
         * a move faster than a query may leave none (reported above). */

        /* The source lets go (libvirt's STOPPED/MIGRATED), the peer runs it. */
        g_assert_true(vt_test_run_until(guest_removed, NULL, VT_TEST_GUARD_US));
        g_assert_false(domain_runs(vt_test_libvirt_get_uri(shared.lv), shared.name));
        g_assert_true(domain_runs(vt_test_libvirt_peer_get_uri(shared.peer), shared.name));

        /* Its agent answers on the peer, the allocation still in memory. */
        agent_path = peer_agent_path();
        report = agent_report(agent_path);
        anon = strstr(report, "\"anon\":");
        g_assert_nonnull(anon);
        anon_bytes = g_ascii_strtoull(anon + strlen("\"anon\":"), NULL, 10);
        g_test_message("agent on the peer: anon %" G_GUINT64_FORMAT " MiB", anon_bytes / MIB);
        g_assert_cmpuint(anon_bytes, >=, ALLOC_BYTES);
}

static void
shared_free(void)
{
        if (shared.backend != NULL)
                vt_backend_stop(shared.backend);
        g_clear_object(&shared.guest);
        g_clear_object(&shared.backend);
        /* The domain is destroyed where it runs: here, or by the peer's end. */
        g_clear_pointer(&shared.test_guest, vt_test_guest_free);
        g_clear_pointer(&shared.peer, vt_test_libvirt_peer_free);
        g_clear_pointer(&shared.lv, vt_test_libvirt_free);
        g_free(shared.name);
}

int
main(int argc, char **argv)
{
        int ret;

        g_test_init(&argc, &argv, NULL);
        vt_test_default_srcdir();
        g_test_add_func("/libvirt/migrate/dirty-rate", test_dirty_rate);
        g_test_add_func("/libvirt/migrate/cancel", test_cancel);
        g_test_add_func("/libvirt/migrate/peer-killed", test_peer_killed);
        g_test_add_func("/libvirt/migrate/complete", test_complete);
        ret = g_test_run();
        shared_free();
        return ret;
}
