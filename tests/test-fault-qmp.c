/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection: the real vmtided and two real QMP-direct guests, under faults. */

/*
 * Two 512 MiB TCG guests and a vmtided with a budget far above them, so
 * that the policy has no reason to move anything: every move is one the
 * test asks for (`set-target`, a hold by hand, sent as a DECISION like
 * the policy's), and every case starts that move, injects its fault
 * while the balloon is still travelling, and ends with
 * vt_test_daemon_assert_nothing_lost(). The cases run in order on the
 * same guests, since booting them is the slow part:
 *
 *   sigstop      QEMU SIGSTOPped mid-move past the stuck timeout, resumed
 *   qemu-killed  QEMU SIGKILLed mid-move, then started again on the same link
 *   daemon-killed vmtided SIGKILLed mid-move and started again
 *   agent-port   the agent's socket cut and reopened five times
 *   guest-dir    the guest directory removed and created again
 *   clock        vmtided on a wall clock that jumps a year forward, an hour back
 *
 * Guest 0's agent socket is reached through a proxy of the test's
 * (AgentProxy), which is how agent-port cuts the host end of the port.
 */
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB         ((gint64)1 << 20)
#define N_GUESTS    2
#define GUEST_BYTES (512 * MIB)
#define GUARD_US    (120 * G_USEC_PER_SEC)
/* Past the guest tracker's stuck timeout (host/guest/guest-move.h). */
#define STUCK_US       (10 * G_USEC_PER_SEC)
#define STOP_WINDOW_US (STUCK_US + 5 * G_USEC_PER_SEC)
#define N_CUTS         5
#define LIBFAKETIME    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

static const char config_text[] = "[daemon]\n"
                                  "tick-interval-ms = 1000\n"
                                  "agent-interval-ms = 1000\n"
                                  "stats-interval-s = 1\n"
                                  "[budget]\n"
                                  "total = 8G\n"
                                  "reserve = 0\n"
                                  "[ksm]\n"
                                  "enabled = false\n";

/* A byte pump between vmtided and guest 0's agent socket, which the test can cut. */
typedef struct {
        char *path;   /* where vmtided connects */
        char *target; /* the guest's agent socket */
        GSocketListener *listener;
        GCancellable *cancel;
        GPtrArray *streams; /* GIOStream: both ends of each pumped connection */
        guint n_accepted;
} AgentProxy;

typedef struct {
        char *dir;
        VtTestGuest *guests[N_GUESTS];
        VtTestDaemon *daemon;
        AgentProxy proxy;
} Fixture;

static Fixture fx;

static const char *
guest_name(guint i)
{
        return vt_test_guest_get_name(fx.guests[i]);
}

static void proxy_accept(AgentProxy *proxy);

static void
on_proxy_accept(GObject *source, GAsyncResult *result, gpointer user_data)
{
        AgentProxy *proxy = user_data;
        g_autoptr(GSocketConnection) in = NULL;
        g_autoptr(GSocketConnection) out = NULL;
        g_autoptr(GSocketClient) client = NULL;
        g_autoptr(GSocketAddress) address = NULL;

        in = g_socket_listener_accept_finish(G_SOCKET_LISTENER(source), result, NULL, NULL);
        if (in == NULL)
                return; /* closed by proxy_close() */
        client = g_socket_client_new();
        address = g_unix_socket_address_new(proxy->target);
        out = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(address), NULL, NULL);
        proxy->n_accepted++;
        if (out != NULL) {
                g_ptr_array_add(proxy->streams, g_object_ref(in));
                g_ptr_array_add(proxy->streams, g_object_ref(out));
                g_io_stream_splice_async(G_IO_STREAM(in), G_IO_STREAM(out),
                                         G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
                                             G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                                         G_PRIORITY_DEFAULT, NULL, NULL, NULL);
        }
        proxy_accept(proxy);
}

static void
proxy_accept(AgentProxy *proxy)
{
        g_socket_listener_accept_async(proxy->listener, proxy->cancel, on_proxy_accept, proxy);
}

/* Listens at proxy->path again. */
static void
proxy_open(AgentProxy *proxy)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketAddress) address = g_unix_socket_address_new(proxy->path);

        proxy->listener = g_socket_listener_new();
        proxy->cancel = g_cancellable_new();
        g_socket_listener_add_address(proxy->listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error);
        g_assert_no_error(error);
        proxy_accept(proxy);
}

/* Cuts every pumped connection and stops listening: the socket file goes too. */
static void
proxy_close(AgentProxy *proxy)
{
        for (guint i = 0; i < proxy->streams->len; i++)
                g_io_stream_close(g_ptr_array_index(proxy->streams, i), NULL, NULL);
        g_ptr_array_set_size(proxy->streams, 0);
        if (proxy->listener != NULL) {
                g_cancellable_cancel(proxy->cancel);
                g_socket_listener_close(proxy->listener);
                g_clear_object(&proxy->listener);
                g_clear_object(&proxy->cancel);
        }
        unlink(proxy->path);
}

/* NAME.qmp and NAME.agent of guest @i in the daemon's guest directory. */
static void
link_guest(guint i, const char *agent_path)
{
        const char *dir = vt_test_daemon_get_guest_dir(fx.daemon);
        g_autofree char *agent = g_strdup_printf("%s/%s.agent", dir, guest_name(i));
        g_autofree char *qmp = g_strdup_printf("%s/%s.qmp", dir, guest_name(i));

        g_assert_cmpint(symlink(agent_path, agent), ==, 0);
        g_assert_cmpint(symlink(vt_test_guest_get_qmp_path(fx.guests[i]), qmp), ==, 0);
}

static void
unlink_guest(guint i)
{
        const char *dir = vt_test_daemon_get_guest_dir(fx.daemon);
        g_autofree char *agent = g_strdup_printf("%s/%s.agent", dir, guest_name(i));
        g_autofree char *qmp = g_strdup_printf("%s/%s.qmp", dir, guest_name(i));

        unlink(qmp);
        unlink(agent);
}

static const char *
agent_path(guint i)
{
        return i == 0 ? fx.proxy.path : vt_test_guest_get_agent_path(fx.guests[i]);
}

/* Holds guest @i at @bytes (set-target); returns once QEMU took the target. */
static void
hold(guint i, gint64 bytes)
{
        g_autoptr(GError) error = NULL;
        json_object *args = json_object_new_object();
        json_object *reply;

        json_object_object_add(args, "name", json_object_new_string(guest_name(i)));
        json_object_object_add(args, "bytes", json_object_new_int64(bytes));
        reply = vt_test_daemon_execute(fx.daemon, "set-target", args, &error);
        g_assert_no_error(error);
        json_object_put(reply);
}

/* Holds guest @i at @bytes and waits for the DECISION: the move is under way. */
static guint
start_move(guint i, gint64 bytes)
{
        guint from = vt_test_daemon_get_n_events(fx.daemon);
        guint at = from;

        vt_test_say("%s: move to %" G_GINT64_FORMAT " MiB", guest_name(i), bytes / MIB);
        hold(i, bytes);
        vt_test_daemon_assert_event(fx.daemon, &at, "DECISION", guest_name(i), GUARD_US);
        return from;
}

static gint64
guest_int(guint i, const char *member)
{
        return vt_test_daemon_guest_int(fx.daemon, guest_name(i), member);
}

static gboolean
fixture_ready(void)
{
        g_autofree char *reason = NULL;

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return FALSE;
        g_assert_nonnull(fx.daemon);
        return TRUE;
}

static void
fixture_start_guest(guint i)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_strdup_printf("fq%u", i);
        const VtTestGuestOptions options = {.name = name, .memory_bytes = GUEST_BYTES};

        fx.guests[i] = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
}

/* Both guests linked and taken on, each held at the size it has. */
static void
fixture_adopt(guint from)
{
        vt_test_daemon_assert_guests_added(fx.daemon, fx.guests, N_GUESTS, from, GUARD_US);
        for (guint i = 0; i < N_GUESTS; i++)
                hold(i, guest_int(i, "actual"));
}

static void
fixture_setup(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;

        if (!vt_test_guest_available(&reason))
                return;
        fx.dir = g_dir_make_tmp("vt-fault-qmp-XXXXXX", &error);
        g_assert_no_error(error);
        for (guint i = 0; i < N_GUESTS; i++)
                fixture_start_guest(i);
        fx.proxy.path = g_build_filename(fx.dir, "proxy-agent.sock", NULL);
        fx.proxy.target = g_strdup(vt_test_guest_get_agent_path(fx.guests[0]));
        fx.proxy.streams = g_ptr_array_new_with_free_func(g_object_unref);
        proxy_open(&fx.proxy);
        fx.daemon = vt_test_daemon_start(fx.dir, config_text, &error);
        g_assert_no_error(error);
        for (guint i = 0; i < N_GUESTS; i++)
                link_guest(i, agent_path(i));
        fixture_adopt(0);
}

static void
fixture_teardown(void)
{
        if (fx.dir == NULL)
                return;
        g_clear_pointer(&fx.daemon, vt_test_daemon_free);
        proxy_close(&fx.proxy);
        for (guint i = 0; i < N_GUESTS; i++)
                g_clear_pointer(&fx.guests[i], vt_test_guest_free);
        g_ptr_array_unref(fx.proxy.streams);
        g_free(fx.proxy.path);
        g_free(fx.proxy.target);
        vt_test_remove_tree(fx.dir);
        g_clear_pointer(&fx.dir, g_free);
}

/* `vmtide list` answers within @guard_s seconds, naming every guest if @named. */
static void
assert_cli_answers(double guard_s, gboolean named)
{
        g_autofree char *out = NULL;
        gint64 start_us = g_get_monotonic_time();
        double took_s;

        g_assert_cmpint(vt_test_daemon_run_cli(fx.daemon, &out, NULL, "list", NULL), ==, 0);
        took_s = (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
        vt_test_say("  vmtide list answered in %.2f s", took_s);
        g_assert_cmpfloat(took_s, <, guard_s);
        for (guint i = 0; named && i < N_GUESTS; i++)
                if (fx.guests[i] != NULL)
                        g_assert_nonnull(strstr(out, guest_name(i)));
}

static void
test_sigstop(void)
{
        GPid pid;
        guint from, at;
        const VtTestDaemonEvent *event;

        if (!fixture_ready())
                return;
        pid = vt_test_guest_get_pid(fx.guests[0]);
        from = start_move(0, 160 * MIB);
        g_assert_cmpint(kill(pid, SIGSTOP), ==, 0);
        /* Stopped with the balloon still on its way. */
        g_assert_cmpuint(
            vt_test_daemon_count_events(fx.daemon, from, "BALLOON_DONE", guest_name(0)), ==, 0);
        vt_test_say("sigstop: QEMU %d stopped mid-move", (int)pid);
        assert_cli_answers(5, TRUE);
        /* An observation window past the stuck timeout. Stuck is judged on
         * a balloon size seen, and a stopped QEMU shows none (its commands
         * time out): the move stays under way. The daemon keeps answering. */
        at = from;
        event = vt_test_daemon_wait_event(fx.daemon, &at, "BALLOON_STUCK", guest_name(0),
                                          STOP_WINDOW_US);
        vt_test_say("sigstop: %s while stopped",
                    event != NULL ? "BALLOON_STUCK" : "no BALLOON_STUCK");
        assert_cli_answers(5, TRUE);
        g_assert_cmpuint(vt_test_daemon_count_events(fx.daemon, from, "GUEST_REMOVED", NULL), ==,
                         0);
        g_assert_cmpint(kill(pid, SIGCONT), ==, 0);
        vt_test_say("sigstop: resumed");
        /* The balloon gets there after all: the guest is not stuck any more
         * (host/guest/guest-move.c; no BALLOON_DONE is sent for it). */
        vt_test_daemon_assert_nothing_lost(fx.daemon, fx.guests, N_GUESTS, GUARD_US);
        vt_test_say("sigstop: %u BALLOON_DONE after the resume",
                    vt_test_daemon_count_events(fx.daemon, at, "BALLOON_DONE", guest_name(0)));
}

static void
test_qemu_killed(void)
{
        g_autofree char *name = NULL;
        const VtTestDaemonEvent *removed;
        guint from, at;

        if (!fixture_ready())
                return;
        name = g_strdup(guest_name(1));
        from = start_move(1, 200 * MIB);
        vt_test_guest_kill(fx.guests[1]);
        at = from;
        removed = vt_test_daemon_assert_event(fx.daemon, &at, "GUEST_REMOVED", name, GUARD_US);
        vt_test_say("qemu-killed: GUEST_REMOVED %s: %s", name,
                    vt_test_daemon_event_string(removed, "reason"));
        g_assert_cmpstr(vt_test_daemon_event_string(removed, "reason"), !=, "");
        g_assert_cmpuint(
            vt_test_daemon_count_events(fx.daemon, from, "GUEST_REMOVED", guest_name(0)), ==, 0);
        unlink_guest(1);
        g_clear_pointer(&fx.guests[1], vt_test_guest_free);
        /* The others are unaffected. */
        vt_test_daemon_assert_nothing_lost(fx.daemon, fx.guests, N_GUESTS, GUARD_US);

        vt_test_say("qemu-killed: %s started again behind the same link", name);
        /* Count from before the boot: the daemon may find the new QEMU at
         * the old path (its rescan retries the dead link) before the link
         * is made again, and its GUEST_ADDED must not be missed. */
        at = vt_test_daemon_get_n_events(fx.daemon);
        fixture_start_guest(1);
        link_guest(1, agent_path(1));
        vt_test_daemon_assert_event(fx.daemon, &at, "GUEST_ADDED", name, GUARD_US);
        hold(1, guest_int(1, "actual"));
        vt_test_daemon_assert_nothing_lost(fx.daemon, fx.guests, N_GUESTS, GUARD_US);
}

typedef struct {
        VtTestGuest *guest;
        gint64 bytes;
} BalloonWait;

static gboolean
balloon_reached(gpointer data)
{
        BalloonWait *w = data;

        return ABS(vt_test_daemon_qemu_balloon(w->guest, NULL) - w->bytes) <= VT_TEST_BALLOON_SLACK;
}

static void
test_daemon_killed(void)
{
        g_autoptr(GError) error = NULL;
        gint64 before, target = 400 * MIB;
        gint64 taken;
        guint from, at;
        int status = 0;
        BalloonWait w;

        if (!fixture_ready())
                return;
        before = vt_test_daemon_qemu_balloon(fx.guests[0], &error);
        g_assert_no_error(error);
        start_move(0, target);
        vt_test_daemon_kill(fx.daemon, SIGKILL);
        g_assert_true(vt_test_daemon_wait_exit(fx.daemon, GUARD_US, &status));
        g_assert_true(WIFSIGNALED(status));
        vt_test_say("daemon-killed: vmtided SIGKILLed mid-move (%" G_GINT64_FORMAT
                    " -> %" G_GINT64_FORMAT " MiB)",
                    before / MIB, target / MIB);

        from = vt_test_daemon_get_n_events(fx.daemon);
        g_assert_true(vt_test_daemon_restart(fx.daemon, &error));
        g_assert_no_error(error);
        vt_test_daemon_assert_guests_added(fx.daemon, fx.guests, N_GUESTS, from, GUARD_US);
        taken = guest_int(0, "actual");
        vt_test_say("daemon-killed: taken on at %" G_GINT64_FORMAT " MiB", taken / MIB);
        /* Where the balloon was, not reset to the guest's full size. */
        g_assert_cmpint(taken, >=, before - VT_TEST_BALLOON_SLACK);
        g_assert_cmpint(taken, <=, target + VT_TEST_BALLOON_SLACK);
        /* QEMU finishes the move the dead daemon asked for. */
        w = (BalloonWait){fx.guests[0], target};
        g_assert_true(vt_test_daemon_poll_until(balloon_reached, &w, GUARD_US));
        /* No move of the new daemon's own: nothing replayed, no reset. */
        at = from;
        g_assert_null(
            vt_test_daemon_wait_event(fx.daemon, &at, "DECISION", NULL, 4 * G_USEC_PER_SEC));
        /* Holds by hand lived in the dead process: hold the guests again. */
        fixture_adopt(from);
        vt_test_daemon_assert_nothing_lost(fx.daemon, fx.guests, N_GUESTS, GUARD_US);
}

/* Lines of vmtided's log naming @text: all, or without --verbose's debug lines. */
static guint
count_log_lines(const char *text, gboolean debug)
{
        g_autofree char *log = vt_test_daemon_read_log(fx.daemon);
        g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
        guint n = 0;

        for (guint i = 0; lines[i] != NULL; i++)
                n +=
                    strstr(lines[i], text) != NULL && (debug || strstr(lines[i], "-DEBUG") == NULL);
        return n;
}

typedef struct {
        const char *name;
        gboolean connected;
} AgentWait;

static gboolean
agent_connected_is(gpointer data)
{
        AgentWait *w = data;
        json_object *value = vt_test_daemon_guest_member(fx.daemon, w->name, "agent", "connected");
        gboolean ok = value != NULL && json_object_get_boolean(value) == w->connected;

        json_object_put(value);
        return ok;
}

static gboolean
balloon_stats_fresh(gpointer data)
{
        gint64 age_ms = vt_test_daemon_guest_member_int(fx.daemon, data, "stats", "age_ms");

        return age_ms >= 0 && age_ms < 4000;
}

static void
test_agent_port(void)
{
        const char *name;
        guint lines_before, lines, debug_before, debug;
        guint from, at;
        AgentWait w;

        if (!fixture_ready())
                return;
        name = guest_name(0);
        w = (AgentWait){name, TRUE};
        g_assert_true(vt_test_daemon_poll_until(agent_connected_is, &w, GUARD_US));
        lines_before = count_log_lines(name, FALSE);
        debug_before = count_log_lines(name, TRUE);
        from = vt_test_daemon_get_n_events(fx.daemon);
        for (guint cut = 0; cut < N_CUTS; cut++) {
                gint64 down_us = g_get_monotonic_time();

                proxy_close(&fx.proxy);
                w.connected = FALSE;
                g_assert_true(vt_test_daemon_poll_until(agent_connected_is, &w, GUARD_US));
                /* Without its agent the guest is seen through its balloon driver. */
                g_assert_true(
                    vt_test_daemon_poll_until(balloon_stats_fresh, (gpointer)name, GUARD_US));
                proxy_open(&fx.proxy);
                w.connected = TRUE;
                g_assert_true(vt_test_daemon_poll_until(agent_connected_is, &w, GUARD_US));
                vt_test_say("agent-port: cut %u: back after %.1f s", cut + 1,
                            (double)(g_get_monotonic_time() - down_us) / G_USEC_PER_SEC);
        }
        lines = count_log_lines(name, FALSE) - lines_before;
        debug = count_log_lines(name, TRUE) - debug_before;
        vt_test_say("agent-port: %u cuts, %u connections, %u log lines naming %s (%u with "
                    "--verbose's debug lines)",
                    N_CUTS, fx.proxy.n_accepted, lines, name, debug);
        /* A line or two for each cut and its reconnection, not one per try;
         * at debug level, a few per second of the cuts (reports every 1 s). */
        g_assert_cmpuint(lines, <=, 3 * N_CUTS);
        g_assert_cmpuint(debug, <=, 40 * N_CUTS);
        at = from;
        g_assert_null(vt_test_daemon_wait_event(fx.daemon, &at, "GUEST_REMOVED", NULL, 0));
        vt_test_daemon_assert_nothing_lost(fx.daemon, fx.guests, N_GUESTS, GUARD_US);
}

static void
test_guest_dir(void)
{
        const char *dir;
        guint from;

        if (!fixture_ready())
                return;
        dir = vt_test_daemon_get_guest_dir(fx.daemon);
        from = vt_test_daemon_get_n_events(fx.daemon);
        vt_test_say("guest-dir: '%s' removed", dir);
        vt_test_remove_tree(dir);
        for (guint i = 0; i < N_GUESTS; i++) {
                guint at = from;

                vt_test_daemon_assert_event(fx.daemon, &at, "GUEST_REMOVED", guest_name(i),
                                            GUARD_US);
        }
        assert_cli_answers(5, FALSE);
        vt_test_say("guest-dir: created again, the guests' links put back");
        from = vt_test_daemon_get_n_events(fx.daemon);
        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
        for (guint i = 0; i < N_GUESTS; i++)
                link_guest(i, agent_path(i));
        fixture_adopt(from);
        vt_test_daemon_assert_nothing_lost(fx.daemon, fx.guests, N_GUESTS, GUARD_US);
}

typedef struct {
        gint64 ticks;
        gint64 uptime_ms;
} Status;

static Status
query_status(void)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_test_daemon_execute(fx.daemon, "query-status", NULL, &error);
        json_object *value;
        Status s = {-1, -1};

        g_assert_no_error(error);
        if (json_object_object_get_ex(reply, "ticks", &value))
                s.ticks = json_object_get_int64(value);
        if (json_object_object_get_ex(reply, "uptime_ms", &value))
                s.uptime_ms = json_object_get_int64(value);
        json_object_put(reply);
        return s;
}

static gboolean
ticks_reached(gpointer data)
{
        return query_status().ticks >= *(gint64 *)data;
}

/*
 * Writes @spec (libfaketime's "+365d") to the daemon's timestamp file,
 * then watches 5 ticks: they come at the tick interval by the test's
 * monotonic clock, uptime follows it, a move asked now is made once, and
 * the ages of what the daemon knows stay within seconds.
 */
static void
clock_jump(const char *file, const char *spec, gint64 bytes)
{
        g_autoptr(GError) error = NULL;
        Status start, end;
        gint64 start_us, want, elapsed_ms;
        guint from, at;

        g_assert_true(g_file_set_contents(file, spec, -1, &error));
        g_assert_no_error(error);
        start_us = g_get_monotonic_time();
        start = query_status();
        want = start.ticks + 5;
        g_assert_true(vt_test_daemon_poll_until(ticks_reached, &want, GUARD_US));
        end = query_status();
        elapsed_ms = (g_get_monotonic_time() - start_us) / 1000;
        vt_test_say("clock %s: %" G_GINT64_FORMAT " ticks in %" G_GINT64_FORMAT
                    " ms, uptime +%" G_GINT64_FORMAT " ms",
                    spec, end.ticks - start.ticks, elapsed_ms, end.uptime_ms - start.uptime_ms);
        /* 1 s ticks: no stall (generous under load), and no burst: a tick
         * replayed for each second of a year would be thousands at once.
         * A balloon still settling from the last move runs a few extra
         * ticks at once (docs/vmtided.md), hence not 5 whole intervals. */
        g_assert_cmpint(elapsed_ms, >=, 2000);
        g_assert_cmpint(elapsed_ms, <=, 20000);
        g_assert_cmpint(ABS(end.uptime_ms - start.uptime_ms - elapsed_ms), <=, 2000);
        for (guint i = 0; i < N_GUESTS; i++) {
                gint64 stats_ms =
                    vt_test_daemon_guest_member_int(fx.daemon, guest_name(i), "stats", "age_ms");
                gint64 agent_ms =
                    vt_test_daemon_guest_member_int(fx.daemon, guest_name(i), "agent", "age_ms");

                g_assert_cmpint(stats_ms, >=, 0);
                g_assert_cmpint(stats_ms, <, 10000);
                g_assert_cmpint(agent_ms, >=, 0);
                g_assert_cmpint(agent_ms, <, 10000);
        }
        /* Nothing decided on its own, nothing replayed: one move asked, one made. */
        from = vt_test_daemon_get_n_events(fx.daemon);
        start_move(1, bytes);
        at = from;
        vt_test_daemon_assert_event(fx.daemon, &at, "BALLOON_DONE", guest_name(1), GUARD_US);
        g_assert_cmpuint(vt_test_daemon_count_events(fx.daemon, from, "DECISION", NULL), ==, 1);
}

/* The hour of the last line of vmtided's log ("...: HH:MM:SS.mmm: ..."), or -1. */
static int
log_last_hour(void)
{
        g_autofree char *log = vt_test_daemon_read_log(fx.daemon);
        g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
        int hour = -1;

        for (guint i = 0; lines[i] != NULL; i++) {
                const char *colon = strstr(lines[i], ": ");
                int h, m, s;

                if (colon != NULL && sscanf(colon + 2, "%d:%d:%d.", &h, &m, &s) == 3)
                        hour = h;
        }
        return hour;
}

static void
test_clock(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *file = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *env_file = NULL;
        g_autoptr(GDateTime) now = NULL;
        g_autofree char *asan = NULL;
        const char *env[] = {"LD_PRELOAD=" LIBFAKETIME, NULL, "FAKETIME_CACHE_DURATION=1",
                             "DONT_FAKE_MONOTONIC=1",   NULL, NULL};
        const VtTestDaemonOptions options = {.env = env};
        guint from;
        int hour;

        if (!fixture_ready())
                return;
        if (!vt_test_skip_unless(g_file_test(LIBFAKETIME, G_FILE_TEST_EXISTS),
                                 LIBFAKETIME " is missing (Debian's faketime package)"))
                return;
        dir = g_build_filename(fx.dir, "faked", NULL);
        file = g_build_filename(fx.dir, "faketime", NULL);
        env_file = g_strconcat("FAKETIME_TIMESTAMP_FILE=", file, NULL);
        env[1] = env_file;
        /* In the sanitizer build, libfaketime comes before ASan's runtime in
         * the library list, which ASan refuses unless told it is fine. */
        asan = g_strconcat(
            "ASAN_OPTIONS=", g_getenv("ASAN_OPTIONS") != NULL ? g_getenv("ASAN_OPTIONS") : "",
            g_getenv("ASAN_OPTIONS") != NULL ? ":" : "", "verify_asan_link_order=0", NULL);
        env[4] = asan;
        g_assert_true(g_file_set_contents(file, "+0", -1, &error));
        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);

        vt_test_say("clock: vmtided again, under libfaketime");
        g_clear_pointer(&fx.daemon, vt_test_daemon_free);
        fx.daemon = vt_test_daemon_start_full(dir, config_text, &options, &error);
        g_assert_no_error(error);
        from = vt_test_daemon_get_n_events(fx.daemon);
        for (guint i = 0; i < N_GUESTS; i++)
                link_guest(i, agent_path(i));
        fixture_adopt(from);

        clock_jump(file, "+0", 256 * MIB);
        clock_jump(file, "+365d", 320 * MIB);
        clock_jump(file, "-1h", 256 * MIB);
        /* The wall clock vmtided saw did jump: its log's hour is an hour behind. */
        now = g_date_time_new_now_local();
        hour = log_last_hour();
        vt_test_say("clock: the log's last line says %02d h, the test's clock %02d h", hour,
                    g_date_time_get_hour(now));
        /* An hour behind; two if an hour began between that line and now. */
        g_assert_cmpint(hour, >=, 0);
        g_assert_cmpint((g_date_time_get_hour(now) - hour + 24) % 24, >=, 1);
        g_assert_cmpint((g_date_time_get_hour(now) - hour + 24) % 24, <=, 2);
        vt_test_daemon_assert_nothing_lost(fx.daemon, fx.guests, N_GUESTS, GUARD_US);
}

int
main(int argc, char **argv)
{
        int ret;

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fault/qmp/sigstop", test_sigstop);
        g_test_add_func("/fault/qmp/qemu-killed", test_qemu_killed);
        g_test_add_func("/fault/qmp/daemon-killed", test_daemon_killed);
        g_test_add_func("/fault/qmp/agent-port", test_agent_port);
        g_test_add_func("/fault/qmp/guest-dir", test_guest_dir);
        g_test_add_func("/fault/qmp/clock", test_clock);
        fixture_setup();
        ret = g_test_run();
        fixture_teardown();
        return ret;
}
