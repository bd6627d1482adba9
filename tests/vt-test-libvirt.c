/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A libvirtd for the integration tests: the host's if it answers, else one the harness runs. */

/*
 * Theory of operation
 *
 * vt_test_libvirt_ensure() first asks qemu:///system for its hypervisor
 * version. If that answers, the host's libvirtd is used as it is and the
 * harness never stops, starts or signals it. Otherwise the harness runs its
 * own: virtlogd first (QEMU's logs go through it) unless its socket already
 * accepts connections, then libvirtd, both in the foreground (no -d) so that
 * they stay our children: we know their pids, hold pidfds to see them die,
 * and reap them. Their output goes to log files in a temp dir
 * `vt-test-libvirtd-XXXXXX` (with owner.pid; a dir whose owner died is removed by
 * the next vt_test_libvirt_ensure()).
 *
 * Readiness is a condition, not an event libvirtd offers: the harness tries
 * to connect every 50 ms while polling the daemon's pidfd, so a daemon that
 * exits during start-up (a locked pidfile, a bad config) is reported at once
 * with its log, and a daemon that never answers is reported after the guard.
 * libvirtd takes its pidfile with an fcntl() lock, so a pidfile left by a
 * killed run does not stop it; one held by a live libvirtd does.
 *
 * The spawned daemons get PR_SET_PDEATHSIG(SIGKILL): a test that crashes
 * takes them with it. QEMU processes of running domains are not libvirtd's
 * children in that sense (libvirtd daemonizes them) and survive, as they do
 * a libvirtd restart; vt-test-guest.c destroys such orphaned test domains.
 *
 * libvirt reports every error to stderr by default; the harness installs a
 * silent handler once and turns errors into GErrors itself.
 *
 * /dev/kvm and libvirt's QEMU user: libvirt probes QEMU's capabilities as
 * its QEMU user (libvirt-qemu) and later checks that this user can open
 * /dev/kvm. On a host without udev, /dev/kvm stays root:root 0600, the
 * probe and the check disagree, and libvirt throws its capabilities away
 * and probes QEMU again (about 4 s under TCG) on every lookup: starting a
 * domain then takes a minute. udev's rule (root:kvm 0660) fixes that; the
 * harness does not change the host's /dev/kvm but, when it starts libvirtd
 * itself and finds the device closed to libvirt-qemu, runs libvirtd in a
 * mount namespace of its own where /dev/kvm is a root:kvm 0660 node on a
 * tmpfs (mounted on `dev` in the harness's temp dir, in that namespace
 * only). Everything else, sockets and state included, is shared with the
 * host. A libvirtd the harness did not start is used as it is.
 */

#define G_LOG_DOMAIN "vt-test-libvirt"

#include "vt-test-libvirt.h"
#include "vt-test-libvirt-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <libvirt/virterror.h>

#include "vt-test-guest.h"
#include "vt-test-tmpdir.h"

#define LIBVIRT_URI      "qemu:///system"
#define LIBVIRTD_PATH    VT_TEST_LIBVIRTD_PATH
#define VIRTLOGD_PATH    VT_TEST_VIRTLOGD_PATH
#define VIRTLOGD_SOCKET  "/run/libvirt/virtlogd-sock"
#define START_GUARD_US   (30 * G_USEC_PER_SEC)
#define STOP_GUARD_US    (30 * G_USEC_PER_SEC)
#define KILL_GUARD_US    (10 * G_USEC_PER_SEC)
#define POLL_INTERVAL_MS 50
#define LOG_TAIL_BYTES   4096
#define DIR_PREFIX       "vt-test-libvirtd-"
#define KVM_DEVICE       "/dev/kvm"
#define QEMU_USER        "libvirt-qemu"
#define KVM_GROUP        "kvm"

struct _VtTestLibvirt {
        char *dir; /* NULL when the host's libvirtd is used */
        VtTestLibvirtDaemon libvirtd;
        VtTestLibvirtDaemon virtlogd;
        gboolean owns_libvirtd;
};

static void
libvirt_error_silence(void *user_data, virErrorPtr error)
{
}

/**
 * libvirt_init_once() - Initialize libvirt and keep it from printing errors.
 */
static void
libvirt_init_once(void)
{
        static gsize initialized = 0;

        if (g_once_init_enter(&initialized)) {
                if (virInitialize() < 0)
                        g_debug("virInitialize() failed: %s", virGetLastErrorMessage());
                virSetErrorFunc(NULL, libvirt_error_silence);
                g_once_init_leave(&initialized, 1);
        }
}

/**
 * vt_test_libvirt_connect() - Open a connection, with libvirt's error printing silenced.
 * @uri: the URI, e.g. vt_test_libvirt_get_uri()
 * @error: return location for a GError
 *
 * Installs (once per process) a libvirt error handler that prints nothing:
 * callers report libvirt's errors themselves (virGetLastErrorMessage()).
 *
 * Return: the connection (transfer full, virConnectClose() it), or NULL with
 *         @error set (G_IO_ERROR_CONNECTION_REFUSED and libvirt's message)
 */
virConnectPtr
vt_test_libvirt_connect(const char *uri, GError **error)
{
        virConnectPtr conn;

        g_return_val_if_fail(uri != NULL, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        libvirt_init_once();
        conn = virConnectOpen(uri);
        if (conn == NULL)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                            "cannot connect to '%s': %s", uri, virGetLastErrorMessage());
        return conn;
}

/**
 * vt_test_libvirt_uri_answers() - Whether a libvirtd accepts a connection and answers a call.
 * @uri: its URI, e.g. qemu:///system
 *
 * Return: TRUE if it does
 */
gboolean
vt_test_libvirt_uri_answers(const char *uri)
{
        virConnectPtr conn = vt_test_libvirt_connect(uri, NULL);
        unsigned long version = 0;
        gboolean answers;

        if (conn == NULL)
                return FALSE;
        answers = virConnectGetVersion(conn, &version) == 0;
        virConnectClose(conn);
        return answers;
}

/**
 * vt_test_libvirt_socket_answers() - Whether a Unix socket accepts a connection.
 * @path: the socket, e.g. virtlogd's
 *
 * Return: TRUE if it does
 */
gboolean
vt_test_libvirt_socket_answers(const char *path)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd;
        gboolean answers;

        if (strlen(path) >= sizeof(addr.sun_path))
                return FALSE;
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return FALSE;
        answers = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
        close(fd);
        return answers;
}

/**
 * vt_test_libvirt_available() - Whether the libvirt integration tests can run here.
 * @ret_reason: (optional) receives, on FALSE only, why not (transfer full)
 *
 * Needs root, /usr/sbin/libvirtd and /usr/sbin/virtlogd (package
 * libvirt-daemon-system), and what vt_test_guest_available() needs.
 *
 * Return: TRUE if vt_test_libvirt_ensure() and libvirt-mode guests can work
 */
gboolean
vt_test_libvirt_available(char **ret_reason)
{
        g_autofree char *reason = NULL;

        if (geteuid() != 0)
                reason = g_strdup("needs root (qemu:///system)");
        else if (!g_file_test(LIBVIRTD_PATH, G_FILE_TEST_IS_EXECUTABLE))
                reason = g_strdup(LIBVIRTD_PATH " not found (install libvirt-daemon-system)");
        else if (!g_file_test(VIRTLOGD_PATH, G_FILE_TEST_IS_EXECUTABLE))
                reason = g_strdup(VIRTLOGD_PATH " not found (install libvirt-daemon-system)");
        else
                vt_test_guest_available(&reason);
        if (reason == NULL)
                return TRUE;
        if (ret_reason != NULL)
                *ret_reason = g_steal_pointer(&reason);
        return FALSE;
}

/**
 * vt_test_libvirt_kvm_closed() - Whether /dev/kvm exists but libvirt's QEMU user cannot open it.
 * @ret_rdev: receives /dev/kvm's device number, on TRUE
 * @ret_gid: receives the kvm group's gid, on TRUE
 *
 * Return: TRUE if libvirtd would re-probe QEMU on every lookup (see the
 *         theory of operation) and the kvm group, which libvirt-qemu is in,
 *         can fix it
 */
gboolean
vt_test_libvirt_kvm_closed(dev_t *ret_rdev, gid_t *ret_gid)
{
        struct passwd *user;
        struct group *kvm;
        gid_t groups[64];
        int n_groups = G_N_ELEMENTS(groups);
        gboolean in_kvm = FALSE;
        struct stat st;

        if (stat(KVM_DEVICE, &st) < 0 || !S_ISCHR(st.st_mode))
                return FALSE;
        user = getpwnam(QEMU_USER);
        kvm = getgrnam(KVM_GROUP);
        if (user == NULL || kvm == NULL)
                return FALSE;
        if ((st.st_mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH) ||
            (st.st_uid == user->pw_uid &&
             (st.st_mode & (S_IRUSR | S_IWUSR)) == (S_IRUSR | S_IWUSR)))
                return FALSE;
        if (getgrouplist(QEMU_USER, user->pw_gid, groups, &n_groups) < 0)
                return FALSE;
        for (int i = 0; i < n_groups; i++) {
                if (groups[i] == st.st_gid &&
                    (st.st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP))
                        return FALSE;
                if (groups[i] == kvm->gr_gid)
                        in_kvm = TRUE;
        }
        if (!in_kvm)
                return FALSE;
        *ret_rdev = st.st_rdev;
        *ret_gid = kvm->gr_gid;
        return TRUE;
}

/**
 * kvm_open_to_qemu_user() - In the child: a private /dev/kvm that the kvm group can open.
 * @setup: the prepared paths and ids
 *
 * Async-signal-safe. On failure the daemon runs on with the host's /dev/kvm.
 *
 * Return: TRUE on success
 */
static gboolean
kvm_open_to_qemu_user(const VtTestLibvirtChild *setup)
{
        if (mount("vt-test-kvm", setup->kvm_dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
                return FALSE;
        if (mknod(setup->kvm_node, S_IFCHR | 0600, setup->kvm_rdev) < 0 ||
            chown(setup->kvm_node, 0, setup->kvm_gid) < 0 || chmod(setup->kvm_node, 0660) < 0)
                return FALSE;
        return mount(setup->kvm_node, KVM_DEVICE, NULL, MS_BIND, NULL) == 0;
}

/* In the child: writes to the daemon's log (async-signal-safe). */
static void
child_say(const char *message, size_t len)
{
        ssize_t ignored = write(STDERR_FILENO, message, len);

        (void)ignored;
}

/* In the child: says why, and ends it before exec. */
static void
child_fail(const char *message, size_t len)
{
        child_say(message, len);
        _exit(126);
}

/**
 * child_setup() - In a daemon's process before exec: die with the spawning thread.
 * @user_data: the daemon's #VtTestLibvirtChild
 *
 * Also gives libvirtd its own /dev/kvm when the setup asks for it.
 */
static void
child_setup(gpointer user_data)
{
        const VtTestLibvirtChild *setup = user_data;
        static const char message[] = "vt-test-libvirt: cannot give the daemon its own " KVM_DEVICE
                                      "; libvirt may re-probe QEMU on every call\n";
        static const char bind_message[] = "vt-test-libvirt: cannot give the daemon its own "
                                           "libvirt dirs (mount namespace, bind mounts)\n";

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(127);
        /* The parent may have died before prctl(): then nothing would kill us. */
        if (getppid() != setup->parent)
                _exit(127);
        if (setup->kvm_dir == NULL && setup->n_binds == 0)
                return;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                /* A daemon that needs its own dirs must not run in the host's. */
                if (setup->n_binds > 0)
                        child_fail(bind_message, sizeof(bind_message) - 1);
                child_say(message, sizeof(message) - 1);
                return;
        }
        /* stderr is the daemon's log by now; if even that fails, there is no one to tell. */
        if (setup->kvm_dir != NULL && !kvm_open_to_qemu_user(setup))
                child_say(message, sizeof(message) - 1);
        for (int i = 0; i < setup->n_binds; i++)
                if (mount(setup->bind_src[i], setup->bind_dst[i], NULL, MS_BIND, NULL) < 0)
                        child_fail(bind_message, sizeof(bind_message) - 1);
}

/**
 * vt_test_libvirt_file_tail() - The last @max_bytes of a text file, for error messages.
 * @path: (nullable) file to read
 * @max_bytes: how much to keep
 *
 * Return: the tail (transfer full), "" if the file is missing or empty
 */
char *
vt_test_libvirt_file_tail(const char *path, gsize max_bytes)
{
        g_autofree char *contents = NULL;
        gsize len = 0;

        if (path == NULL || !g_file_get_contents(path, &contents, &len, NULL) || len == 0)
                return g_strdup("");
        if (len <= max_bytes)
                return g_strstrip(g_steal_pointer(&contents));
        return g_strstrip(g_strdup_printf("...%s", contents + len - max_bytes));
}

/**
 * vt_test_libvirt_daemon_spawn() - Start a daemon in the foreground, its output appended to its
 * log.
 * @daemon: a daemon that is not running
 * @error: return location for a GError
 *
 * Return: TRUE with @daemon->pid and @daemon->pidfd set, else FALSE with @error set
 */
gboolean
vt_test_libvirt_daemon_spawn(VtTestLibvirtDaemon *daemon, GError **error)
{
        const char *argv[G_N_ELEMENTS(daemon->args) + 2] = {daemon->path};
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = g_date_time_format(now, "%F %T");
        g_autofree char *header = NULL;
        int log_fd, saved_errno;
        gboolean spawned;

        g_assert(daemon->pid == 0);
        for (guint i = 0; i < G_N_ELEMENTS(daemon->args) && daemon->args[i] != NULL; i++)
                argv[i + 1] = daemon->args[i];
        daemon->setup.parent = getpid();
        log_fd = open(daemon->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) {
                saved_errno = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "cannot open '%s': %s", daemon->log_path, g_strerror(saved_errno));
                return FALSE;
        }
        header = g_strdup_printf("--- %s: %s started by the test harness\n", stamp, daemon->name);
        if (write(log_fd, header, strlen(header)) < 0)
                g_debug("cannot write to '%s': %s", daemon->log_path, g_strerror(errno));
        spawned = g_spawn_async_with_pipes_and_fds(
            "/", argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_setup, &daemon->setup, -1, log_fd,
            log_fd, NULL, NULL, 0, &daemon->pid, NULL, NULL, NULL, error);
        close(log_fd);
        if (!spawned) {
                daemon->pid = 0;
                return FALSE;
        }
        daemon->pidfd = (int)syscall(SYS_pidfd_open, daemon->pid, 0);
        if (daemon->pidfd < 0) {
                saved_errno = errno;
                /* Without a pidfd we cannot wait for it: do not leave it running. */
                kill(daemon->pid, SIGKILL);
                waitpid(daemon->pid, NULL, 0);
                g_spawn_close_pid(daemon->pid);
                daemon->pid = 0;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "pidfd_open(%s): %s", daemon->name, g_strerror(saved_errno));
                return FALSE;
        }
        g_debug("%s started, pid %d, log '%s'", daemon->name, (int)daemon->pid, daemon->log_path);
        return TRUE;
}

/**
 * vt_test_libvirt_daemon_wait_exit() - Wait until a daemon exits or @timeout_ms passes.
 * @daemon: a running daemon
 * @timeout_ms: how long to wait at most
 *
 * Return: TRUE if it has exited (not reaped yet)
 */
gboolean
vt_test_libvirt_daemon_wait_exit(VtTestLibvirtDaemon *daemon, int timeout_ms)
{
        struct pollfd pfd = {.fd = daemon->pidfd, .events = POLLIN};
        gint64 deadline_us = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        for (;;) {
                gint64 left_us = deadline_us - g_get_monotonic_time();
                int ret = poll(&pfd, 1, left_us <= 0 ? 0 : (int)((left_us + 999) / 1000));

                if (ret < 0 && errno == EINTR)
                        continue;
                return ret > 0;
        }
}

/**
 * daemon_reap() - Reap a daemon that has exited.
 * @daemon: a daemon whose pidfd is readable
 *
 * Return: a description of its end ("exited with status 1"; transfer full)
 */
static char *
daemon_reap(VtTestLibvirtDaemon *daemon)
{
        int status = 0;

        while (waitpid(daemon->pid, &status, 0) < 0 && errno == EINTR)
                ;
        g_spawn_close_pid(daemon->pid);
        daemon->pid = 0;
        close(daemon->pidfd);
        daemon->pidfd = -1;
        if (WIFEXITED(status))
                return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
        if (WIFSIGNALED(status))
                return g_strdup_printf("was killed by signal %d", WTERMSIG(status));
        return g_strdup("ended");
}

/**
 * vt_test_libvirt_daemon_stop() - SIGTERM a daemon, wait for it (then SIGKILL it), reap it.
 * @daemon: a daemon; nothing happens if it is not running
 * @error: return location for a GError
 *
 * Return: TRUE once it is gone, FALSE with @error set if it would not die
 */
gboolean
vt_test_libvirt_daemon_stop(VtTestLibvirtDaemon *daemon, GError **error)
{
        g_autofree char *how = NULL;

        if (daemon->pid == 0)
                return TRUE;
        /* Our unreaped child: its pid cannot have been reused. */
        kill(daemon->pid, SIGTERM);
        if (!vt_test_libvirt_daemon_wait_exit(daemon, STOP_GUARD_US / 1000)) {
                g_debug("%s (pid %d) ignored SIGTERM for %d s: SIGKILL", daemon->name,
                        (int)daemon->pid, (int)(STOP_GUARD_US / G_USEC_PER_SEC));
                kill(daemon->pid, SIGKILL);
                if (!vt_test_libvirt_daemon_wait_exit(daemon, KILL_GUARD_US / 1000)) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "%s (pid %d) does not die, even of SIGKILL", daemon->name,
                                    (int)daemon->pid);
                        return FALSE;
                }
        }
        how = daemon_reap(daemon);
        g_debug("%s %s", daemon->name, how);
        return TRUE;
}

/**
 * vt_test_libvirt_daemon_kill() - SIGKILL a daemon and reap it: a daemon dying without warning.
 * @daemon: a daemon; nothing happens if it is not running
 */
void
vt_test_libvirt_daemon_kill(VtTestLibvirtDaemon *daemon)
{
        g_autofree char *how = NULL;

        if (daemon->pid == 0)
                return;
        /* Our unreaped child: its pid cannot have been reused. */
        kill(daemon->pid, SIGKILL);
        while (!vt_test_libvirt_daemon_wait_exit(daemon, KILL_GUARD_US / 1000))
                g_debug("%s (pid %d) has not died of SIGKILL yet", daemon->name, (int)daemon->pid);
        how = daemon_reap(daemon);
        g_debug("%s %s", daemon->name, how);
}

/**
 * vt_test_libvirt_daemon_clear() - Free what a stopped daemon's description holds.
 * @daemon: a daemon that is not running
 */
void
vt_test_libvirt_daemon_clear(VtTestLibvirtDaemon *daemon)
{
        g_free(daemon->log_path);
        g_free(daemon->setup.kvm_dir);
        g_free(daemon->setup.kvm_node);
        for (int i = 0; i < daemon->setup.n_binds; i++)
                g_free(daemon->setup.bind_src[i]);
        for (guint i = 0; i < G_N_ELEMENTS(daemon->args); i++)
                g_free(daemon->args[i]);
        memset(daemon, 0, sizeof(*daemon));
        daemon->pidfd = -1;
}

/**
 * vt_test_libvirt_daemon_wait_ready() - Wait until @answers holds, the daemon exits, or the guard
 * passes.
 * @daemon: a daemon just spawned
 * @answers: the readiness check, tried every POLL_INTERVAL_MS
 * @where: what @answers is given
 * @error: return location for a GError
 *
 * Return: TRUE once it answers, else FALSE with @error set (with the log's
 *         tail); a daemon that did not answer in time is left running
 */
gboolean
vt_test_libvirt_daemon_wait_ready(VtTestLibvirtDaemon *daemon, VtTestLibvirtAnswers answers,
                                  const char *where, GError **error)
{
        gint64 deadline_us = g_get_monotonic_time() + START_GUARD_US;

        while (!answers(where)) {
                if (vt_test_libvirt_daemon_wait_exit(daemon, POLL_INTERVAL_MS)) {
                        g_autofree char *how = daemon_reap(daemon);
                        g_autofree char *tail =
                            vt_test_libvirt_file_tail(daemon->log_path, LOG_TAIL_BYTES);

                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                    "%s %s while starting\n--- its log (tail):\n%s", daemon->name,
                                    how, tail);
                        return FALSE;
                }
                if (g_get_monotonic_time() > deadline_us) {
                        g_autofree char *tail =
                            vt_test_libvirt_file_tail(daemon->log_path, LOG_TAIL_BYTES);

                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "%s (pid %d) did not answer within %d s\n--- its log "
                                    "(tail):\n%s",
                                    daemon->name, (int)daemon->pid,
                                    (int)(START_GUARD_US / G_USEC_PER_SEC), tail);
                        return FALSE;
                }
        }
        return TRUE;
}

/**
 * vt_test_libvirt_ensure() - Make sure qemu:///system answers, starting libvirtd if needed.
 * @error: return location for a GError
 *
 * If qemu:///system answers, the host's libvirtd is used and nothing is
 * started (vt_test_libvirt_owns_daemon() is FALSE). Otherwise virtlogd
 * (unless /run/libvirt/virtlogd-sock answers) and libvirtd are spawned as
 * children of the calling thread, which they die with
 * (PR_SET_PDEATHSIG): call this from the test's main thread. Waits at most
 * 30 s for each to answer.
 *
 * Return: the handle (transfer full, free with vt_test_libvirt_free()), or
 *         NULL with @error set (with the daemon's log); on error nothing
 *         started is left running
 */
VtTestLibvirt *
vt_test_libvirt_ensure(GError **error)
{
        g_autoptr(VtTestLibvirt) lv = NULL;

        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        libvirt_init_once();
        lv = g_new0(VtTestLibvirt, 1);
        lv->libvirtd =
            (VtTestLibvirtDaemon){.name = "libvirtd", .path = LIBVIRTD_PATH, .pidfd = -1};
        lv->virtlogd =
            (VtTestLibvirtDaemon){.name = "virtlogd", .path = VIRTLOGD_PATH, .pidfd = -1};
        if (vt_test_libvirt_uri_answers(LIBVIRT_URI)) {
                g_debug("using the running libvirtd at '%s'", LIBVIRT_URI);
                return g_steal_pointer(&lv);
        }

        lv->dir = vt_test_owned_dir_new(DIR_PREFIX, NULL, error);
        if (lv->dir == NULL)
                return NULL;
        lv->libvirtd.log_path = g_build_filename(lv->dir, "libvirtd.log", NULL);
        lv->virtlogd.log_path = g_build_filename(lv->dir, "virtlogd.log", NULL);
        if (vt_test_libvirt_kvm_closed(&lv->libvirtd.setup.kvm_rdev, &lv->libvirtd.setup.kvm_gid)) {
                lv->libvirtd.setup.kvm_dir = g_build_filename(lv->dir, "dev", NULL);
                lv->libvirtd.setup.kvm_node =
                    g_build_filename(lv->libvirtd.setup.kvm_dir, "kvm", NULL);
                if (g_mkdir(lv->libvirtd.setup.kvm_dir, 0700) < 0) {
                        int saved_errno = errno;

                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                                    "cannot create '%s': %s", lv->libvirtd.setup.kvm_dir,
                                    g_strerror(saved_errno));
                        return NULL;
                }
                g_debug(KVM_DEVICE " is closed to " QEMU_USER ": libvirtd gets its own");
        }

        if (!vt_test_libvirt_socket_answers(VIRTLOGD_SOCKET)) {
                if (!vt_test_libvirt_daemon_spawn(&lv->virtlogd, error) ||
                    !vt_test_libvirt_daemon_wait_ready(
                        &lv->virtlogd, vt_test_libvirt_socket_answers, VIRTLOGD_SOCKET, error))
                        return NULL;
        }
        lv->owns_libvirtd = TRUE;
        if (!vt_test_libvirt_daemon_spawn(&lv->libvirtd, error) ||
            !vt_test_libvirt_daemon_wait_ready(&lv->libvirtd, vt_test_libvirt_uri_answers,
                                               LIBVIRT_URI, error))
                return NULL;
        return g_steal_pointer(&lv);
}

/**
 * vt_test_libvirt_owns_daemon() - Whether this harness started libvirtd.
 * @lv: the handle
 *
 * Return: TRUE if vt_test_libvirt_stop_daemon() and _start_daemon() may be used
 */
gboolean
vt_test_libvirt_owns_daemon(VtTestLibvirt *lv)
{
        g_return_val_if_fail(lv != NULL, FALSE);
        return lv->owns_libvirtd;
}

/**
 * vt_test_libvirt_stop_daemon() - Stop the harness's libvirtd; running domains keep running.
 * @lv: the handle
 * @error: return location for a GError
 *
 * SIGTERMs libvirtd by its pid, waits for it to exit (30 s, then SIGKILL)
 * and reaps it. virtlogd stays. Idempotent.
 *
 * Return: TRUE once libvirtd is gone, FALSE with @error set if the harness
 *         does not own it (G_IO_ERROR_NOT_SUPPORTED) or it would not die
 */
gboolean
vt_test_libvirt_stop_daemon(VtTestLibvirt *lv, GError **error)
{
        g_return_val_if_fail(lv != NULL, FALSE);
        g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

        if (!lv->owns_libvirtd) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "libvirtd was not started by the test harness: not stopping it");
                return FALSE;
        }
        return vt_test_libvirt_daemon_stop(&lv->libvirtd, error);
}

/**
 * vt_test_libvirt_start_daemon() - Start the harness's libvirtd again and wait until it answers.
 * @lv: the handle
 * @error: return location for a GError
 *
 * Does nothing if it is running. Like vt_test_libvirt_ensure(), waits at
 * most 30 s; libvirtd reconnects to the QEMU of running domains.
 *
 * Return: TRUE once qemu:///system answers, FALSE with @error set if the
 *         harness does not own libvirtd (G_IO_ERROR_NOT_SUPPORTED) or it
 *         did not start (with its log)
 */
gboolean
vt_test_libvirt_start_daemon(VtTestLibvirt *lv, GError **error)
{
        g_return_val_if_fail(lv != NULL, FALSE);
        g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

        if (!lv->owns_libvirtd) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "libvirtd was not started by the test harness: not starting it");
                return FALSE;
        }
        if (lv->libvirtd.pid != 0)
                return TRUE;
        return vt_test_libvirt_daemon_spawn(&lv->libvirtd, error) &&
               vt_test_libvirt_daemon_wait_ready(&lv->libvirtd, vt_test_libvirt_uri_answers,
                                                 LIBVIRT_URI, error);
}

/**
 * vt_test_libvirt_get_uri() - The connection URI the tests use.
 * @lv: the handle
 *
 * Return: (transfer none) "qemu:///system"
 */
const char *
vt_test_libvirt_get_uri(VtTestLibvirt *lv)
{
        g_return_val_if_fail(lv != NULL, NULL);
        return LIBVIRT_URI;
}

/**
 * vt_test_libvirt_read_log() - libvirtd's output so far, for failure messages.
 * @lv: the handle
 *
 * Return: the log of every libvirtd this handle started (transfer full),
 *         or a note saying the host's libvirtd is used
 */
char *
vt_test_libvirt_read_log(VtTestLibvirt *lv)
{
        g_autofree char *contents = NULL;

        g_return_val_if_fail(lv != NULL, NULL);
        if (!lv->owns_libvirtd)
                return g_strdup("(the host's libvirtd is used: see its own log)\n");
        if (!g_file_get_contents(lv->libvirtd.log_path, &contents, NULL, NULL))
                return g_strdup("");
        return g_steal_pointer(&contents);
}

/**
 * vt_test_libvirt_free() - Stop what the harness started (libvirtd, then virtlogd), clean up.
 * @lv: (nullable) the handle
 *
 * Stops only the daemons this handle spawned, by pid, and removes its temp
 * dir. The host's libvirtd is left alone. Free the test's domains first.
 */
void
vt_test_libvirt_free(VtTestLibvirt *lv)
{
        g_autoptr(GError) error = NULL;

        if (lv == NULL)
                return;
        if (!vt_test_libvirt_daemon_stop(&lv->libvirtd, &error)) {
                g_message("%s", error->message);
                g_clear_error(&error);
        }
        if (!vt_test_libvirt_daemon_stop(&lv->virtlogd, &error))
                g_message("%s", error->message);
        if (lv->dir != NULL)
                vt_test_owned_dir_remove(lv->dir);
        vt_test_libvirt_daemon_clear(&lv->libvirtd);
        vt_test_libvirt_daemon_clear(&lv->virtlogd);
        g_free(lv->dir);
        g_free(lv);
}
