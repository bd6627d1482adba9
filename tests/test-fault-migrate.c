/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection on live migration: two vmtided, QMP-direct, a move broken midway. */

/*
 * Two vmtided on this machine ("hosts" d1 and d2), set up as
 * test-vmtided-migrate's: d1's `[migrate] qmp-destination-command` is a
 * script that links the receiving QEMU the test started beforehand into
 * d2's guest directory and prints the URI to send to. The link is capped
 * at 8 MiB/s, so a move of a 256 MiB guest with 64 MiB of data takes
 * seconds, and each case breaks it at its first MIGRATION_PASS:
 *
 *   destination-killed  the receiving QEMU SIGKILLed
 *   link-cut            the stream goes through a relay process of the
 *                       test's (the script prints the relay's URI), which
 *                       is SIGKILLed: both QEMUs live, their link is gone
 *   daemon-killed       the source's vmtided SIGKILLed, then started again;
 *                       the test then lifts the source QEMU's bandwidth cap
 *                       (1 GiB/s, on its second monitor) so that QEMU ends
 *                       the move in a pass or two: a slow completed move
 *                       under QEMU 7.2 TCG often leaves the destination's
 *                       kernel oopsing (docs/testing.md, "Migration
 *                       faults"). The move is under way at the kill either
 *                       way, which is what the case is about.
 *
 * Every case ends with vt_test_daemon_assert_runs_once() over the source
 * and destination QEMUs (each asked `query-status` on a second monitor of
 * the test's, not through vmtided: both QEMUs are the test's children, the
 * destination's too, so both have one), then
 * vt_test_daemon_assert_nothing_lost() on the daemon of the side that runs
 * it. Each case uses guests of its own, freed at its end.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB          ((gint64)1 << 20)
#define GUEST_BYTES  (256 * MIB)
#define ALLOC_BYTES  (64 * MIB)
#define GUARD_US     (120 * G_USEC_PER_SEC)
#define RELAY_BUFFER 65536

typedef struct {
        char *dir;
        char *d1_dir;
        char *d2_dir;
        VtTestDaemon *d1;
        VtTestDaemon *d2;
} Fixture;

static Fixture fx;

/* One move under test: the guest on d1 and the QEMU waiting to receive it. */
typedef struct {
        const char *name;
        VtTestGuest *src;
        VtTestGuest *dst;
        char *before; /* the workload's "check" before the move */
        GPid relay;   /* the link-cut case's relay, 0 otherwise */
} Move;

static char *
workload(VtTestGuest *guest, const char *command)
{
        g_autoptr(GError) error = NULL;
        char *reply = vt_test_guest_workload(guest, command, 0, &error);

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(reply, "ok"));
        return reply;
}

static VtTestGuest *
guest_start(const char *name, gboolean incoming)
{
        const VtTestGuestOptions options = {
            .name = name, .memory_bytes = GUEST_BYTES, .incoming = incoming, .migrates = TRUE};
        g_autoptr(GError) error = NULL;
        VtTestGuest *guest = vt_test_guest_start(&options, &error);

        g_assert_no_error(error);
        return guest;
}

/* Holds @name at @bytes on @daemon (set-target); returns once QEMU took the target. */
static void
hold(VtTestDaemon *daemon, const char *name, gint64 bytes)
{
        g_autoptr(GError) error = NULL;
        json_object *args = json_object_new_object();
        json_object *reply;

        json_object_object_add(args, "name", json_object_new_string(name));
        json_object_object_add(args, "bytes", json_object_new_int64(bytes));
        reply = vt_test_daemon_execute(daemon, "set-target", args, &error);
        g_assert_no_error(error);
        json_object_put(reply);
}

static gboolean
daemon_lacks(gpointer data)
{
        VtTestDaemon *daemon = ((gpointer *)data)[0];
        const char *name = ((gpointer *)data)[1];
        g_autoptr(GError) error = NULL;
        json_object *info = vt_test_daemon_query_guest(daemon, name, &error);

        json_object_put(info);
        return info == NULL;
}

/* Waits until @daemon no longer knows @name. */
static void
assert_daemon_lacks(VtTestDaemon *daemon, const char *name)
{
        gpointer data[] = {daemon, (gpointer)name};

        if (!vt_test_daemon_poll_until(daemon_lacks, data, GUARD_US)) {
                vt_test_daemon_dump_log(daemon);
                g_error("a daemon still has guest '%s'", name);
        }
}

/*
 * A relay process: accepts one connection on @listen_path, connects to
 * @target_path, and pumps bytes both ways until either side closes. A
 * child of its own, so that the test cuts the link by SIGKILLing it while
 * both QEMUs live. Only system calls after the fork: the test is threaded.
 */
static void G_GNUC_NORETURN
relay_run(int lfd, const struct sockaddr_un *target)
{
        char buf[RELAY_BUFFER];
        struct pollfd p[2];
        int in, out;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int fd = 3; fd < 4096; fd++)
                if (fd != lfd)
                        close(fd);
        in = accept(lfd, NULL, NULL);
        out = socket(AF_UNIX, SOCK_STREAM, 0);
        if (in < 0 || out < 0 || connect(out, (const struct sockaddr *)target, sizeof(*target)) < 0)
                _exit(1);
        p[0] = (struct pollfd){.fd = in, .events = POLLIN};
        p[1] = (struct pollfd){.fd = out, .events = POLLIN};
        for (;;) {
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        _exit(1);
                for (int i = 0; i < 2; i++) {
                        ssize_t n, done = 0;

                        if (p[i].revents == 0)
                                continue;
                        n = read(p[i].fd, buf, sizeof(buf));
                        if (n <= 0)
                                _exit(0);
                        while (done < n) {
                                ssize_t w = send(p[1 - i].fd, buf + done, n - done, MSG_NOSIGNAL);

                                if (w < 0 && errno != EINTR)
                                        _exit(0);
                                done += MAX(w, 0);
                        }
                }
        }
}

/* Starts a relay from @listen_path to the unix socket of @target_uri ("unix:PATH"). */
static GPid
relay_start(const char *listen_path, const char *target_uri)
{
        struct sockaddr_un at = {.sun_family = AF_UNIX};
        struct sockaddr_un target = {.sun_family = AF_UNIX};
        int lfd;
        GPid pid;

        g_assert_true(g_str_has_prefix(target_uri, "unix:"));
        g_assert_cmpuint(strlen(listen_path), <, sizeof(at.sun_path));
        g_assert_cmpuint(strlen(target_uri + 5), <, sizeof(target.sun_path));
        strcpy(at.sun_path, listen_path);
        strcpy(target.sun_path, target_uri + 5);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(lfd, >=, 0);
        g_assert_cmpint(bind(lfd, (struct sockaddr *)&at, sizeof(at)), ==, 0);
        g_assert_cmpint(listen(lfd, 1), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0)
                relay_run(lfd, &target);
        close(lfd);
        return pid;
}

static void
relay_kill(Move *m)
{
        int status;

        if (m->relay <= 0)
                return;
        kill(m->relay, SIGKILL);
        g_assert_cmpint(waitpid(m->relay, &status, 0), ==, m->relay);
        m->relay = 0;
}

/*
 * Boots the source of @name on d1 with ALLOC_BYTES of data, holds it at
 * its size, and starts the QEMU that receives it; with @relay, the stream
 * goes through a relay process. Leaves what the destination script reads
 * beside it: the receiving QEMU's sockets and the URI to send to.
 */
static void
move_prepare(Move *m, const char *name, gboolean relay)
{
        g_autofree char *base = g_build_filename(fx.dir, name, NULL);
        g_autofree char *qmp = g_strconcat(base, ".qmp-path", NULL);
        g_autofree char *agent = g_strconcat(base, ".agent-path", NULL);
        g_autofree char *uri_file = g_strconcat(base, ".uri", NULL);
        g_autofree char *relay_path = g_strconcat(base, ".relay.sock", NULL);
        g_autofree char *relay_uri = g_strconcat("unix:", relay_path, NULL);
        g_autofree char *alloc = g_strdup_printf("alloc %" G_GINT64_FORMAT, ALLOC_BYTES);
        g_autofree char *reply = NULL;
        g_autoptr(GError) error = NULL;
        guint from = vt_test_daemon_get_n_events(fx.d1);

        *m = (Move){.name = name};
        m->src = guest_start(name, FALSE);
        m->dst = guest_start(name, TRUE);
        reply = workload(m->src, alloc);
        m->before = workload(m->src, "check");
        if (relay)
                m->relay = relay_start(relay_path, vt_test_guest_get_incoming_uri(m->dst));
        g_assert_true(g_file_set_contents(qmp, vt_test_guest_get_qmp_path(m->dst), -1, &error));
        g_assert_true(g_file_set_contents(agent, vt_test_guest_get_agent_path(m->dst), -1, &error));
        g_assert_true(g_file_set_contents(
            uri_file, relay ? relay_uri : vt_test_guest_get_incoming_uri(m->dst), -1, &error));
        g_assert_no_error(error);

        g_assert_true(vt_test_daemon_add_guest(fx.d1, m->src, &error));
        g_assert_no_error(error);
        vt_test_daemon_assert_event(fx.d1, &from, "GUEST_ADDED", name, GUARD_US);
        hold(fx.d1, name, vt_test_daemon_guest_int(fx.d1, name, "actual"));
}

/* Asks d1 to move the guest to peer2; returns once MIGRATION_PASS says it runs. */
static guint
move_start(Move *m)
{
        g_autoptr(GError) error = NULL;
        json_object *args = json_object_new_object();
        json_object *reply;
        const VtTestDaemonEvent *ev;
        guint from = vt_test_daemon_get_n_events(fx.d1);
        guint at = from;

        json_object_object_add(args, "name", json_object_new_string(m->name));
        json_object_object_add(args, "peer", json_object_new_string("peer2"));
        reply = vt_test_daemon_execute(fx.d1, "migrate", args, &error);
        g_assert_no_error(error);
        json_object_put(reply);
        ev = vt_test_daemon_assert_event(fx.d1, &at, "MIGRATION_PASS", m->name, GUARD_US);
        vt_test_say("%s: moving, pass %s, %s bytes sent, %s left", m->name,
                    vt_test_daemon_event_string(ev, "pass"),
                    vt_test_daemon_event_string(ev, "transferred"),
                    vt_test_daemon_event_string(ev, "remaining"));
        /* Still under way: the fault comes before the move ends. */
        g_assert_cmpuint(vt_test_daemon_count_events(fx.d1, from, "MIGRATION_FINISHED", m->name),
                         ==, 0);
        return from;
}

/* Unlinks @name from @daemon's guest directory. */
static void
unlink_guest(VtTestDaemon *daemon, const char *name)
{
        const char *dir = vt_test_daemon_get_guest_dir(daemon);
        g_autofree char *agent = g_strdup_printf("%s/%s.agent", dir, name);
        g_autofree char *qmp = g_strdup_printf("%s/%s.qmp", dir, name);

        unlink(qmp);
        unlink(agent);
}

/* Ends the case: both daemons let go of the guest, both QEMUs and the relay end. */
static void
move_free(Move *m)
{
        relay_kill(m);
        unlink_guest(fx.d1, m->name);
        unlink_guest(fx.d2, m->name);
        g_clear_pointer(&m->src, vt_test_guest_free);
        g_clear_pointer(&m->dst, vt_test_guest_free);
        assert_daemon_lacks(fx.d1, m->name);
        assert_daemon_lacks(fx.d2, m->name);
        g_free(m->before);
}

/* The workload answers "check" as before the move: its memory is intact. */
static void
assert_memory_intact(VtTestGuest *guest, const char *before)
{
        g_autofree char *check = workload(guest, "check");
        g_auto(GStrv) was = g_strsplit(before, " ", -1);
        g_auto(GStrv) now = g_strsplit(check, " ", -1);

        g_assert_cmpuint(g_strv_length(now), ==, 5);
        g_assert_cmpstr(now[1], ==, was[1]);
        g_assert_cmpstr(now[2], ==, was[2]);
        g_assert_cmpstr(now[4], ==, "0");
}

/*
 * After a failed move: the source runs, the destination does not, d2 has
 * no such guest, d1 manages it (a balloon move is made), nothing lost.
 */
static void
assert_stayed_on_source(Move *m)
{
        VtTestGuest *copies[] = {m->src, m->dst};
        guint from;

        g_assert_cmpuint(vt_test_daemon_assert_runs_once(copies, 2, GUARD_US), ==, 0);
        assert_daemon_lacks(fx.d2, m->name);
        vt_test_daemon_assert_nothing_lost(fx.d1, &m->src, 1, GUARD_US);
        assert_memory_intact(m->src, m->before);
        from = vt_test_daemon_get_n_events(fx.d1);
        hold(fx.d1, m->name, 192 * MIB);
        vt_test_daemon_assert_event(fx.d1, &from, "BALLOON_DONE", m->name, GUARD_US);
        vt_test_daemon_assert_nothing_lost(fx.d1, &m->src, 1, GUARD_US);
}

static const VtTestDaemonEvent *
assert_finished(guint from, const char *name, const char *outcome)
{
        const VtTestDaemonEvent *ev =
            vt_test_daemon_assert_event(fx.d1, &from, "MIGRATION_FINISHED", name, GUARD_US);

        vt_test_say("%s: MIGRATION_FINISHED %s: %s", name,
                    vt_test_daemon_event_string(ev, "outcome"),
                    vt_test_daemon_event_string(ev, "reason"));
        g_assert_cmpstr(vt_test_daemon_event_string(ev, "outcome"), ==, outcome);
        return ev;
}

static gboolean
fixture_ready(void)
{
        g_autofree char *reason = NULL;

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return FALSE;
        g_assert_nonnull(fx.d1);
        return TRUE;
}

static void
test_destination_killed(void)
{
        Move m;
        guint from;

        if (!fixture_ready())
                return;
        move_prepare(&m, "mk", FALSE);
        from = move_start(&m);
        vt_test_say("mk: destination QEMU %d SIGKILLed", (int)vt_test_guest_get_pid(m.dst));
        vt_test_guest_kill(m.dst);
        assert_finished(from, m.name, "failed");
        assert_stayed_on_source(&m);
        move_free(&m);
}

static void
test_link_cut(void)
{
        g_autofree char *status = NULL;
        Move m;
        guint from;

        if (!fixture_ready())
                return;
        move_prepare(&m, "mc", TRUE);
        from = move_start(&m);
        vt_test_say("mc: relay %d SIGKILLed, both QEMUs live", (int)m.relay);
        relay_kill(&m);
        assert_finished(from, m.name, "failed");
        status = vt_test_daemon_qemu_status(m.dst);
        vt_test_say("mc: the orphaned destination QEMU is '%s'", status);
        g_assert_cmpstr(status, !=, "running");
        assert_stayed_on_source(&m);
        move_free(&m);
}

/* The source QEMU's own migration status, read on its second monitor. */
static char *
source_migration_status(VtTestGuest *src)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_test_daemon_qemu_execute(src, "query-migrate", NULL, &error);
        json_object *status;
        char *ret;

        if (reply == NULL)
                return g_strdup("gone");
        ret = g_strdup(json_object_object_get_ex(reply, "status", &status)
                           ? json_object_get_string(status)
                           : "none");
        json_object_put(reply);
        return ret;
}

static gboolean
source_migration_ended(gpointer data)
{
        g_autofree char *status = source_migration_status(data);

        return g_strcmp0(status, "completed") == 0 || g_strcmp0(status, "failed") == 0 ||
               g_strcmp0(status, "cancelled") == 0 || g_strcmp0(status, "gone") == 0;
}

/* How many moves @daemon's query-migrations lists, under way or finished. */
static guint
count_migrations(VtTestDaemon *daemon)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_test_daemon_execute(daemon, "query-migrations", NULL, &error);
        json_object *list;
        guint n;

        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "migrations", &list));
        n = (guint)json_object_array_length(list);
        json_object_put(reply);
        return n;
}

/* How often @daemon's log has said @text so far. */
static guint
count_log(VtTestDaemon *daemon, const char *text)
{
        g_autofree char *log = vt_test_daemon_read_log(daemon);
        guint n = 0;

        for (const char *p = strstr(log, text); p != NULL; p = strstr(p + 1, text))
                n++;
        return n;
}

#define SPENT_WARNING                                                                              \
        "guest 'md': its QEMU is a spent migration source (postmigrate): left alone; quit it or "  \
        "resume it by hand"

static gboolean
spent_source_said(gpointer data)
{
        return count_log(data, SPENT_WARNING) > 0;
}

/* Lifts the source QEMU's bandwidth cap on its second monitor: the move
 * ends in a fast pass or two (see the comment at the top). */
static void
lift_bandwidth_cap(VtTestGuest *src)
{
        g_autoptr(GError) error = NULL;
        json_object *args = json_object_new_object();
        json_object *reply;

        json_object_object_add(args, "max-bandwidth", json_object_new_int64((gint64)1 << 30));
        reply = vt_test_daemon_qemu_execute(src, "migrate-set-parameters", args, &error);
        /* The move may have ended already: then there is nothing to lift. */
        if (reply == NULL)
                vt_test_say("md: cap not lifted: %s", error->message);
        json_object_put(reply);
}

static void
test_daemon_killed(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *outcome = NULL;
        g_autofree char *src_status = NULL;
        VtTestGuest *copies[2];
        guint from, at;
        int status = 0;

        Move m;

        if (!fixture_ready())
                return;
        move_prepare(&m, "md", FALSE);
        move_start(&m);
        vt_test_daemon_kill(fx.d1, SIGKILL);
        g_assert_true(vt_test_daemon_wait_exit(fx.d1, GUARD_US, &status));
        g_assert_true(WIFSIGNALED(status));
        vt_test_say("md: d1 SIGKILLed mid-move");
        lift_bandwidth_cap(m.src);
        /* vmtided is not in the data path: QEMU goes on by itself. */
        g_assert_true(vt_test_daemon_poll_until(source_migration_ended, m.src, GUARD_US));
        outcome = source_migration_status(m.src);
        src_status = vt_test_daemon_qemu_status(m.src);
        vt_test_say("md: the move ended without d1: '%s', source QEMU '%s'", outcome, src_status);
        g_assert_cmpstr(outcome, ==, "completed");
        /* Nobody resumes a spent source: it waits in postmigrate. */
        g_assert_cmpstr(src_status, ==, "postmigrate");

        copies[0] = m.src;
        copies[1] = m.dst;
        g_assert_cmpuint(vt_test_daemon_assert_runs_once(copies, 2, GUARD_US), ==, 1);

        from = vt_test_daemon_get_n_events(fx.d1);
        g_assert_true(vt_test_daemon_restart(fx.d1, &error));
        g_assert_no_error(error);
        /* The restarted d1 knows of no move: it keeps none across a restart. */
        g_assert_cmpuint(count_migrations(fx.d1), ==, 0);
        /* It finds the spent source behind its link, reads its run state
         * and leaves it alone: not taken on, said once, not quit, not
         * resumed (docs/migration.md, "Failures"). */
        g_assert_true(vt_test_daemon_poll_until(spent_source_said, fx.d1, GUARD_US));
        g_assert_true(daemon_lacks((gpointer[]){fx.d1, (gpointer)m.name}));
        g_assert_cmpuint(vt_test_daemon_count_events(fx.d1, from, "GUEST_ADDED", m.name), ==, 0);
        g_assert_cmpuint(count_log(fx.d1, SPENT_WARNING), ==, 1);
        vt_test_say("md: the restarted d1 left the spent source alone");
        g_assert_cmpuint(vt_test_daemon_count_events(fx.d1, from, "MIGRATION_STARTED", NULL), ==,
                         0);
        g_assert_cmpuint(vt_test_daemon_assert_runs_once(copies, 2, GUARD_US), ==, 1);
        src_status = (g_free(src_status), vt_test_daemon_qemu_status(m.src));
        g_assert_cmpstr(src_status, ==, "postmigrate");

        /* d2 has the guest: it manages the copy that runs. */
        at = 0;
        vt_test_daemon_assert_event(fx.d2, &at, "GUEST_ADDED", m.name, GUARD_US);
        hold(fx.d2, m.name, vt_test_daemon_guest_int(fx.d2, m.name, "actual"));
        vt_test_daemon_assert_nothing_lost(fx.d2, &m.dst, 1, GUARD_US);
        assert_memory_intact(m.dst, m.before);
        move_free(&m);
}

static void
write_script(void)
{
        g_autofree char *path = g_build_filename(fx.dir, "destination.sh", NULL);
        g_autofree char *text = g_strdup_printf(
            "#!/bin/sh\n"
            "# GUEST PEER: hand the receiving QEMU to the second daemon, print the URI.\n"
            "set -e\n"
            "t='%s'\n"
            "ln -s \"$(cat \"$t/$1.agent-path\")\" \"$t/d2/guests/$1.agent\"\n"
            "ln -s \"$(cat \"$t/$1.qmp-path\")\" \"$t/d2/guests/$1.qmp\"\n"
            "cat \"$t/$1.uri\"\n"
            "echo\n",
            fx.dir);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, text, -1, &error));
        g_assert_no_error(error);
}

static void
fixture_setup(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *d1_config = NULL;
        static const char d2_config[] = "[daemon]\ntick-interval-ms = 1000\n"
                                        "agent-interval-ms = 1000\nstats-interval-s = 1\n"
                                        "[budget]\ntotal = 8G\nreserve = 0\n"
                                        "[ksm]\nenabled = false\n";

        if (!vt_test_guest_available(&reason))
                return;
        fx.dir = g_dir_make_tmp("vt-fault-migrate-XXXXXX", &error);
        g_assert_no_error(error);
        fx.d1_dir = g_build_filename(fx.dir, "d1", NULL);
        fx.d2_dir = g_build_filename(fx.dir, "d2", NULL);
        g_assert_cmpint(g_mkdir(fx.d1_dir, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(fx.d2_dir, 0755), ==, 0);
        write_script();
        /* A budget far above the guests and no planner: every move is the test's. */
        d1_config = g_strdup_printf("[daemon]\ntick-interval-ms = 1000\n"
                                    "agent-interval-ms = 1000\nstats-interval-s = 1\n"
                                    "[budget]\ntotal = 8G\nreserve = 0\n"
                                    "[ksm]\nenabled = false\n"
                                    "[migrate]\nenabled = false\npeers = peer2\n"
                                    "qmp-destination-command = /bin/sh %s/destination.sh\n"
                                    "bandwidth = 8M\ncooldown-guest-s = 0\n"
                                    "peer-interval-ms = 1000\n"
                                    "[peer:peer2]\ncontrol-socket = %s/vmtided.sock\n",
                                    fx.dir, fx.d2_dir);
        fx.d2 = vt_test_daemon_start(fx.d2_dir, d2_config, &error);
        g_assert_no_error(error);
        fx.d1 = vt_test_daemon_start(fx.d1_dir, d1_config, &error);
        g_assert_no_error(error);
}

static void
fixture_teardown(void)
{
        if (fx.dir == NULL)
                return;
        g_clear_pointer(&fx.d1, vt_test_daemon_free);
        g_clear_pointer(&fx.d2, vt_test_daemon_free);
        vt_test_remove_tree(fx.dir);
        g_clear_pointer(&fx.d1_dir, g_free);
        g_clear_pointer(&fx.d2_dir, g_free);
        g_clear_pointer(&fx.dir, g_free);
}

int
main(int argc, char **argv)
{
        int ret;

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fault/migrate/destination-killed", test_destination_killed);
        g_test_add_func("/fault/migrate/link-cut", test_link_cut);
        g_test_add_func("/fault/migrate/daemon-killed", test_daemon_killed);
        fixture_setup();
        ret = g_test_run();
        fixture_teardown();
        return ret;
}
