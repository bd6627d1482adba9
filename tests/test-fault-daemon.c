/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection on vmtided alone: where it writes is read-only, or full. */

/*
 * vmtided writes nothing persistent: its one file is the control socket
 * (and its log, on stderr). These cases take that away, with no guests
 * (they need none):
 *
 *   control-dir-ro-at-start   the socket's directory is read-only before
 *                             the start: exit status 1 and a message that
 *                             names the socket (docs/vmtided.md)
 *   control-dir-ro-running    it becomes read-only while vmtided runs: the
 *                             daemon keeps ticking and answering (new
 *                             clients too), stops cleanly on SIGTERM, and
 *                             the socket it could not remove is replaced
 *                             by the next start
 *   full-tmpfs                its directory (socket, log, config) is a
 *                             small tmpfs, filled while it runs: it keeps
 *                             ticking and answering, and stops with 0;
 *                             with no inode left at start, it exits with 1
 *                             and says why
 *
 * Read-only and full are made with mounts in a mount namespace of the
 * test's own (unshare(CLONE_NEWNS) at start, propagation private): the
 * host's mount table is never touched and the mounts go with the test
 * process. As root, chmod cannot make a directory unwritable; a
 * read-only bind mount can. Without the privilege for a namespace the
 * cases skip (77).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-util.h"

#define GUARD_US (60 * G_USEC_PER_SEC)

static const char config_text[] = "[daemon]\n"
                                  "tick-interval-ms = 500\n"
                                  "[ksm]\n"
                                  "enabled = false\n";

static gboolean have_namespace;
static char *namespace_reason;

/* A mount namespace of our own, where our mounts stay ours. */
static void
namespace_enter(void)
{
        if (unshare(CLONE_NEWNS) < 0) {
                namespace_reason = g_strdup_printf("unshare(CLONE_NEWNS): %s", g_strerror(errno));
                return;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                namespace_reason =
                    g_strdup_printf("making / private in our namespace: %s", g_strerror(errno));
                return;
        }
        have_namespace = TRUE;
}

/* @dir, bind-mounted read-only onto itself. */
static void
make_read_only(const char *dir)
{
        g_assert_cmpint(mount(dir, dir, NULL, MS_BIND, NULL), ==, 0);
        g_assert_cmpint(mount(NULL, dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), ==, 0);
}

static void
unmount(const char *dir)
{
        g_assert_cmpint(umount2(dir, MNT_DETACH), ==, 0);
}

static char *
make_dir(const char *parent, const char *name)
{
        char *dir = g_build_filename(parent, name, NULL);

        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
        return dir;
}

typedef struct {
        GSubprocess *process;
        gboolean done;
} ExitWait;

static void
on_process_exit(GObject *source, GAsyncResult *result, gpointer user_data)
{
        (void)source;
        (void)result;
        ((ExitWait *)user_data)->done = TRUE;
}

static gboolean
exited(gpointer data)
{
        return ((ExitWait *)data)->done;
}

/*
 * Runs vmtided with @config in @dir and its control socket at @socket,
 * where it is expected not to start: returns its exit status and, in
 * @ret_stderr, what it said. A vmtided still running at the guard fails.
 */
static int
run_expecting_exit(const char *dir, const char *socket, char **ret_stderr)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *config = g_build_filename(dir, "vmtided.conf", NULL);
        g_autofree char *guests = g_build_filename(dir, "guests", NULL);
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
            G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
        g_autoptr(GSubprocess) process = NULL;
        g_autoptr(GInputStream) err = NULL;
        g_autoptr(GOutputStream) text = g_memory_output_stream_new_resizable();
        ExitWait w = {0};

        g_subprocess_launcher_unsetenv(launcher, "NOTIFY_SOCKET");
        g_mkdir(guests, 0755);
        g_file_set_contents(config, config_text, -1, NULL);
        process = g_subprocess_launcher_spawn(launcher, &error, vt_test_daemon_get_program(),
                                              "--config", config, "--control-socket", socket,
                                              "--qmp-dir", guests, NULL);
        g_assert_no_error(error);
        w.process = process;
        g_subprocess_wait_async(process, NULL, on_process_exit, &w);
        if (!vt_test_run_until(exited, &w, GUARD_US)) {
                g_subprocess_force_exit(process);
                vt_test_run_until(exited, &w, GUARD_US);
                g_assert_not_reached();
        }
        g_output_stream_splice(text, g_subprocess_get_stderr_pipe(process),
                               G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
        g_assert_no_error(error);
        *ret_stderr = g_strndup(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(text)),
                                g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(text)));
        return g_subprocess_get_if_exited(process) ? g_subprocess_get_exit_status(process) : -1;
}

static gint64
query_ticks(VtTestDaemon *daemon)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_test_daemon_execute(daemon, "query-status", NULL, &error);
        json_object *ticks;
        gint64 n = -1;

        g_assert_no_error(error);
        if (json_object_object_get_ex(reply, "ticks", &ticks))
                n = json_object_get_int64(ticks);
        json_object_put(reply);
        return n;
}

static gboolean
ticks_reached(gpointer data)
{
        gpointer *w = data;

        return query_ticks(w[0]) >= *(gint64 *)w[1];
}

/* The daemon runs on: ticks advance, a new `vmtide status` is answered. */
static void
assert_runs_on(VtTestDaemon *daemon)
{
        gint64 want = query_ticks(daemon) + 3;
        gpointer w[] = {daemon, &want};
        g_autofree char *out = NULL;

        g_assert_true(vt_test_daemon_poll_until(ticks_reached, w, GUARD_US));
        g_assert_cmpint(vt_test_daemon_run_cli(daemon, &out, NULL, "status", NULL), ==, 0);
        g_assert_cmpint(kill(vt_test_daemon_get_pid(daemon), 0), ==, 0);
}

static void
stop_expecting_zero(VtTestDaemon *daemon)
{
        int status = -1;

        vt_test_daemon_kill(daemon, SIGTERM);
        g_assert_true(vt_test_daemon_wait_exit(daemon, GUARD_US, &status));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static gboolean
skip_without_namespace(void)
{
        return !vt_test_skip_unless(have_namespace, namespace_reason);
}

static void
test_control_dir_ro_at_start(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *ro = NULL;
        g_autofree char *socket = NULL;
        g_autofree char *err = NULL;
        int status;

        if (skip_without_namespace())
                return;
        dir = g_dir_make_tmp("vt-fault-daemon-XXXXXX", &error);
        g_assert_no_error(error);
        ro = make_dir(dir, "ro");
        socket = g_build_filename(ro, "vmtided.sock", NULL);
        make_read_only(ro);
        status = run_expecting_exit(dir, socket, &err);
        vt_test_say("read-only before the start: exit %d: %s", status, g_strstrip(err));
        g_assert_cmpint(status, ==, 1);
        g_assert_nonnull(strstr(err, socket));
        g_assert_nonnull(strstr(err, g_strerror(EROFS)));
        unmount(ro);
        vt_test_remove_tree(dir);
}

static void
test_control_dir_ro_running(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtTestDaemon) daemon = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *ctl = NULL;
        g_autofree char *socket = NULL;
        VtTestDaemonOptions options = {0};

        if (skip_without_namespace())
                return;
        dir = g_dir_make_tmp("vt-fault-daemon-XXXXXX", &error);
        g_assert_no_error(error);
        ctl = make_dir(dir, "ctl");
        socket = g_build_filename(ctl, "vmtided.sock", NULL);
        options.socket_path = socket;
        daemon = vt_test_daemon_start_full(dir, config_text, &options, &error);
        g_assert_no_error(error);

        vt_test_say("read-only while running: '%s'", ctl);
        make_read_only(ctl);
        assert_runs_on(daemon);
        stop_expecting_zero(daemon);
        /* The socket it could not remove stays; the next start replaces it. */
        g_assert_true(g_file_test(socket, G_FILE_TEST_EXISTS));
        unmount(ctl);
        g_assert_true(vt_test_daemon_restart(daemon, &error));
        g_assert_no_error(error);
        assert_runs_on(daemon);
        stop_expecting_zero(daemon);
        g_assert_false(g_file_test(socket, G_FILE_TEST_EXISTS));
        g_clear_pointer(&daemon, vt_test_daemon_free);
        vt_test_remove_tree(dir);
}

/* Fills the file system of @dir: a file grown until ENOSPC. Returns bytes written. */
static gsize
fill_blocks(const char *dir)
{
        g_autofree char *path = g_build_filename(dir, "filler", NULL);
        char block[4096];
        gsize total = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        g_assert_cmpint(fd, >=, 0);
        memset(block, 'x', sizeof(block));
        for (;;) {
                ssize_t n = write(fd, block, sizeof(block));

                if (n <= 0) {
                        g_assert_cmpint(errno, ==, ENOSPC);
                        break;
                }
                total += (gsize)n;
        }
        close(fd);
        return total;
}

/* Uses up the inodes of the file system of @dir. Returns how many. */
static guint
fill_inodes(const char *dir)
{
        guint n = 0;

        for (;; n++) {
                g_autofree char *path = g_strdup_printf("%s/inode-%u", dir, n);
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

                if (fd < 0) {
                        g_assert_cmpint(errno, ==, ENOSPC);
                        return n;
                }
                close(fd);
        }
}

static void
test_full_tmpfs(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtTestDaemon) daemon = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *full = NULL;
        g_autofree char *socket = NULL;
        g_autofree char *err = NULL;
        gsize filled;
        guint inodes;
        int status;

        if (skip_without_namespace())
                return;
        dir = g_dir_make_tmp("vt-fault-daemon-XXXXXX", &error);
        g_assert_no_error(error);
        full = make_dir(dir, "full");
        g_assert_cmpint(mount("vt-full", full, "tmpfs", MS_NOSUID | MS_NODEV,
                              "size=256k,nr_inodes=64,mode=0755"),
                        ==, 0);
        daemon = vt_test_daemon_start(full, config_text, &error);
        g_assert_no_error(error);
        filled = fill_blocks(full);
        vt_test_say("full tmpfs: its directory filled (%zu KiB more), its log cannot grow",
                    filled / 1024);
        /* Every tick logs at debug level: the log's writes fail from now on. */
        assert_runs_on(daemon);
        stop_expecting_zero(daemon);
        socket = g_strdup(vt_test_daemon_get_socket(daemon));
        g_assert_false(g_file_test(socket, G_FILE_TEST_EXISTS));
        g_clear_pointer(&daemon, vt_test_daemon_free);

        /* No inode left for a socket: it cannot start, and says so. */
        inodes = fill_inodes(full);
        status = run_expecting_exit(dir, socket, &err);
        vt_test_say("no inode left (%u taken): exit %d: %s", inodes, status, g_strstrip(err));
        g_assert_cmpint(status, ==, 1);
        g_assert_nonnull(strstr(err, socket));
        g_assert_nonnull(strstr(err, g_strerror(ENOSPC)));
        unmount(full);
        vt_test_remove_tree(dir);
}

int
main(int argc, char **argv)
{
        int ret;

        g_test_init(&argc, &argv, NULL);
        namespace_enter();
        g_test_add_func("/fault/daemon/control-dir-ro-at-start", test_control_dir_ro_at_start);
        g_test_add_func("/fault/daemon/control-dir-ro-running", test_control_dir_ro_running);
        g_test_add_func("/fault/daemon/full-tmpfs", test_full_tmpfs);
        ret = g_test_run();
        g_free(namespace_reason);
        return ret;
}
