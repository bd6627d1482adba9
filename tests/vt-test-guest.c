/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Launcher of the integration-test guest: QEMU under TCG with the balloon and vmtide's ports. */

/*
 * Theory of operation
 *
 * The launcher creates the guest's temp dir and, in it, the three Unix
 * sockets QEMU serves (QMP, the agent port, the workload port), already bound
 * and listening, and hands them to QEMU as inherited fds (`-chardev
 * socket,fd=N,server=on,wait=off`, as libvirt does). The sockets therefore
 * accept connections from the moment vt_test_guest_start() spawns QEMU: no
 * polling for a socket file to appear, no sleeps.
 *
 * vt_test_guest_start() connects to the workload port at once and waits for
 * the workload's "ready <MemTotal>" line, with a guard deadline, while
 * watching a pidfd of QEMU: if QEMU exits first, the error carries its exit
 * status, its stderr (qemu.log) and the tail of the guest console.
 *
 * The workload protocol is one reply line per command line. The launcher has
 * at most one command outstanding; lines that arrive while none is (late
 * replies after a timeout, "ready" after /init restarted the workload) are
 * discarded before the next command is sent. A "ready" line instead of a
 * reply means the workload died while handling the command (usually the
 * guest's OOM killer) and is reported as G_IO_ERROR_CONNECTION_CLOSED.
 *
 * QEMU gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the thread that
 * started it even if the test crashes; teardown kills it by pid, reaps it and
 * removes the temp dir.
 */

#define G_LOG_DOMAIN "vt-test-guest"

#include "vt-test-guest.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_MEMORY_BYTES    (512 * G_GUINT64_CONSTANT(1024) * 1024)
#define DEFAULT_BOOT_TIMEOUT_US (60 * G_USEC_PER_SEC)
#define DEFAULT_REPLY_TIMEOUT   (60 * G_USEC_PER_SEC)
#define MIB                     (G_GUINT64_CONSTANT(1024) * 1024)
#define NAME_MAX_CHARS          32
#define LINE_MAX_BYTES          4096
#define LOG_TAIL_BYTES          2048
#define WORKLOAD_PORT           "org.vmtide.test.workload"
#define AGENT_PORT              "org.vmtide.agent.0"

struct _VtTestGuest {
        char *name;
        char *dir;
        char *qmp_path;
        char *agent_path;
        char *workload_path;
        char *console_path;
        char *qemu_log_path;
        GPid pid;          /* 0 before spawning */
        gboolean reaped;   /* waitpid() done, pid no longer ours */
        int wait_status;   /* valid once reaped */
        int pidfd;         /* readable when QEMU exits; -1 if none */
        int workload_fd;   /* connected to workload.sock; -1 if none */
        GString *rbuf;     /* bytes received from the workload, not yet a line */
        guint64 mem_total; /* from the last "ready" line */
        gint64 ready_us;   /* spawn to first "ready" */
};

/**
 * find_qemu() - Locate the QEMU binary: $VT_QEMU or qemu-system-x86_64 in PATH.
 * @ret_reason: receives why it was not found (transfer full)
 *
 * Return: the absolute path (transfer full), or NULL with @ret_reason set
 */
static char *
find_qemu(char **ret_reason)
{
        const char *env = g_getenv("VT_QEMU");
        char *path;

        if (env != NULL && *env != '\0') {
                path = g_find_program_in_path(env);
                if (path == NULL)
                        *ret_reason = g_strdup_printf("VT_QEMU='%s' is not an executable", env);
                return path;
        }
        path = g_find_program_in_path("qemu-system-x86_64");
        if (path == NULL)
                *ret_reason = g_strdup("qemu-system-x86_64 not found in PATH (install "
                                       "qemu-system-x86 or set VT_QEMU)");
        return path;
}

/**
 * find_image() - Locate the guest image: $VT_GUEST_DIR/{vmlinuz,initramfs.img}.
 * @ret_kernel: receives the kernel path (transfer full)
 * @ret_initrd: receives the initramfs path (transfer full)
 * @ret_reason: receives why it was not found (transfer full)
 *
 * Return: TRUE if both files exist, else FALSE with only @ret_reason set
 */
static gboolean
find_image(char **ret_kernel, char **ret_initrd, char **ret_reason)
{
        const char *dir = g_getenv("VT_GUEST_DIR");
        g_autofree char *kernel = NULL;
        g_autofree char *initrd = NULL;

        if (dir == NULL || *dir == '\0') {
                *ret_reason = g_strdup("VT_GUEST_DIR is not set (the test guest image is built "
                                       "by tests/guest; run the tests through meson)");
                return FALSE;
        }
        kernel = g_build_filename(dir, "vmlinuz", NULL);
        initrd = g_build_filename(dir, "initramfs.img", NULL);
        if (!g_file_test(kernel, G_FILE_TEST_IS_REGULAR) ||
            !g_file_test(initrd, G_FILE_TEST_IS_REGULAR)) {
                *ret_reason = g_strdup_printf("no guest image in VT_GUEST_DIR='%s' (build the "
                                              "guest_image target)",
                                              dir);
                return FALSE;
        }
        *ret_kernel = g_steal_pointer(&kernel);
        *ret_initrd = g_steal_pointer(&initrd);
        return TRUE;
}

/**
 * vt_test_guest_available() - Whether a test guest can be started here.
 * @ret_reason: (optional) receives, on FALSE only, why not (transfer full);
 *              tests pass it to g_test_skip()
 *
 * Checks for the QEMU binary ($VT_QEMU or qemu-system-x86_64 in PATH) and the
 * guest image in $VT_GUEST_DIR.
 *
 * Return: TRUE if vt_test_guest_start() has what it needs
 */
gboolean
vt_test_guest_available(char **ret_reason)
{
        g_autofree char *reason = NULL;
        g_autofree char *qemu = NULL;
        g_autofree char *kernel = NULL;
        g_autofree char *initrd = NULL;

        qemu = find_qemu(&reason);
        if (qemu != NULL)
                find_image(&kernel, &initrd, &reason);
        if (reason == NULL)
                return TRUE;
        if (ret_reason != NULL)
                *ret_reason = g_steal_pointer(&reason);
        return FALSE;
}

/**
 * listen_unix() - Create a listening Unix stream socket (close-on-exec) at @path.
 * @path: socket path, not existing yet
 * @error: return location for a GError
 *
 * Return: the fd, or -1 with @error set
 */
static int
listen_unix(const char *path, GError **error)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd, saved_errno;

        if (strlen(path) >= sizeof(addr.sun_path)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                            "socket path '%s' is too long (set TMPDIR to a shorter dir)", path);
                return -1;
        }
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                saved_errno = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "socket(AF_UNIX): %s", g_strerror(saved_errno));
                return -1;
        }
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0) {
                saved_errno = errno;
                close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "cannot listen on '%s': %s", path, g_strerror(saved_errno));
                return -1;
        }
        return fd;
}

/**
 * connect_unix() - Connect a blocking, close-on-exec stream socket to @path.
 * @path: path of a listening socket
 * @error: return location for a GError
 *
 * Return: the fd, or -1 with @error set
 */
static int
connect_unix(const char *path, GError **error)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd, saved_errno;

        g_assert(strlen(path) < sizeof(addr.sun_path)); /* checked by listen_unix() */
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                saved_errno = errno;
                if (fd >= 0)
                        close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "cannot connect to '%s': %s", path, g_strerror(saved_errno));
                return -1;
        }
        return fd;
}

/**
 * child_setup() - In QEMU's process before exec: die with the spawning thread.
 * @user_data: the parent's pid
 */
static void
child_setup(gpointer user_data)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(127);
        /* The parent may have died before prctl(): then nothing would kill us. */
        if (getppid() != (pid_t)GPOINTER_TO_INT(user_data))
                _exit(127);
}

/**
 * file_tail() - The last @max_bytes of a text file, for error messages.
 * @path: file to read
 * @max_bytes: how much to keep
 *
 * Return: the tail (transfer full), "" if the file is missing or empty
 */
static char *
file_tail(const char *path, gsize max_bytes)
{
        g_autofree char *contents = NULL;
        gsize len = 0;

        if (!g_file_get_contents(path, &contents, &len, NULL) || len == 0)
                return g_strdup("");
        if (len <= max_bytes)
                return g_strstrip(g_steal_pointer(&contents));
        return g_strstrip(g_strdup_printf("...%s", contents + len - max_bytes));
}

/**
 * guest_reap() - Wait for QEMU to exit (it must be exiting) and record its status.
 * @guest: the guest
 */
static void
guest_reap(VtTestGuest *guest)
{
        if (guest->pid == 0 || guest->reaped)
                return;
        while (waitpid(guest->pid, &guest->wait_status, 0) < 0) {
                if (errno != EINTR) {
                        /* Someone else reaped it: it is gone either way. */
                        guest->wait_status = 0;
                        break;
                }
        }
        guest->reaped = TRUE;
        g_spawn_close_pid(guest->pid);
}

/**
 * set_error_qemu_exited() - Reap QEMU and describe its death, its stderr and console.
 * @guest: the guest, whose QEMU has exited
 * @what: what was going on, for the message
 * @error: return location for a GError
 */
static void
set_error_qemu_exited(VtTestGuest *guest, const char *what, GError **error)
{
        g_autofree char *status = NULL;
        g_autofree char *stderr_tail = NULL;
        g_autofree char *console_tail = NULL;

        guest_reap(guest);
        if (WIFEXITED(guest->wait_status))
                status = g_strdup_printf("exited with status %d", WEXITSTATUS(guest->wait_status));
        else if (WIFSIGNALED(guest->wait_status))
                status = g_strdup_printf("was killed by signal %d", WTERMSIG(guest->wait_status));
        else
                status = g_strdup("ended");
        stderr_tail = file_tail(guest->qemu_log_path, LOG_TAIL_BYTES);
        console_tail = file_tail(guest->console_path, LOG_TAIL_BYTES);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                    "QEMU of guest '%s' %s %s\n--- QEMU stderr:\n%s\n--- guest console (tail):\n%s",
                    guest->name, status, what, stderr_tail, console_tail);
}

/**
 * qemu_wait_exit() - Wait until QEMU exits or @deadline_us passes.
 * @guest: the guest
 * @deadline_us: monotonic time to give up at
 *
 * Return: TRUE if QEMU has exited (not reaped yet, unless it was before)
 */
static gboolean
qemu_wait_exit(VtTestGuest *guest, gint64 deadline_us)
{
        struct pollfd pfd = {.fd = guest->pidfd, .events = POLLIN};

        if (guest->reaped)
                return TRUE;
        for (;;) {
                gint64 left_us = deadline_us - g_get_monotonic_time();
                int timeout_ms = left_us <= 0 ? 0 : (int)MIN((left_us + 999) / 1000, G_MAXINT);
                int ret = poll(&pfd, 1, timeout_ms);

                if (ret < 0 && errno == EINTR)
                        continue;
                return ret > 0;
        }
}

/**
 * rbuf_take_line() - Remove the first complete line from the receive buffer.
 * @guest: the guest
 *
 * Return: the line without its newline (transfer full), or NULL if none yet
 */
static char *
rbuf_take_line(VtTestGuest *guest)
{
        const char *nl = memchr(guest->rbuf->str, '\n', guest->rbuf->len);
        char *line;
        gsize len;

        if (nl == NULL)
                return NULL;
        len = (gsize)(nl - guest->rbuf->str);
        line = g_strndup(guest->rbuf->str, len);
        g_string_erase(guest->rbuf, 0, (gssize)len + 1);
        if (len > 0 && line[len - 1] == '\r')
                line[len - 1] = '\0';
        return line;
}

/**
 * workload_receive() - Wait until the workload sends something, then buffer it.
 * @guest: the guest
 * @deadline_us: monotonic time to give up waiting for data at; 0 means do not wait
 * @exit_deadline_us: if the socket closes, how long to wait for QEMU's exit, to report it
 * @what: what is being waited for, for messages
 * @error: return location for a GError
 *
 * Return: 1 if bytes were buffered, 0 if none came by @deadline_us (no error
 *         set), -1 with @error set if the socket closed, QEMU exited or I/O failed
 */
static int
workload_receive(VtTestGuest *guest, gint64 deadline_us, gint64 exit_deadline_us, const char *what,
                 GError **error)
{
        struct pollfd fds[2] = {
            {.fd = guest->workload_fd, .events = POLLIN},
            {.fd = guest->pidfd, .events = POLLIN},
        };
        char buf[4096];
        ssize_t n;

        for (;;) {
                gint64 left_us = deadline_us - g_get_monotonic_time();
                int timeout_ms = left_us <= 0 ? 0 : (int)MIN((left_us + 999) / 1000, G_MAXINT);
                int ret = poll(fds, G_N_ELEMENTS(fds), timeout_ms);

                if (ret < 0 && errno == EINTR)
                        continue;
                if (ret < 0) {
                        int saved_errno = errno;

                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                                    "poll: %s", g_strerror(saved_errno));
                        return -1;
                }
                if (ret == 0)
                        return 0;
                if (fds[0].revents != 0)
                        break;
                /* QEMU exited and no more data is pending. */
                set_error_qemu_exited(guest, what, error);
                return -1;
        }

        do
                n = recv(guest->workload_fd, buf, sizeof(buf), MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 1; /* spurious wakeup: nothing buffered, caller loops */
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
                /* QEMU closes the socket when it exits: wait for that to tell why. */
                if (qemu_wait_exit(guest, exit_deadline_us))
                        set_error_qemu_exited(guest, what, error);
                else
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                    "QEMU closed '%s' %s", guest->workload_path, what);
                return -1;
        }
        if (n < 0) {
                int saved_errno = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "reading '%s' %s: %s", guest->workload_path, what,
                            g_strerror(saved_errno));
                return -1;
        }
        if (guest->rbuf->len + (gsize)n > LINE_MAX_BYTES &&
            memchr(guest->rbuf->str, '\n', guest->rbuf->len) == NULL &&
            memchr(buf, '\n', (gsize)n) == NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                            "line from the workload longer than %d bytes %s", LINE_MAX_BYTES, what);
                return -1;
        }
        g_string_append_len(guest->rbuf, buf, n);
        return 1;
}

/**
 * parse_ready() - Recognize the workload's "ready <MemTotal>" line.
 * @line: a line from the workload
 * @ret_mem_total: receives MemTotal in bytes
 *
 * Return: TRUE if @line is a well-formed ready line
 */
static gboolean
parse_ready(const char *line, guint64 *ret_mem_total)
{
        guint64 value;

        if (!g_str_has_prefix(line, "ready "))
                return FALSE;
        if (!g_ascii_string_to_unsigned(line + 6, 10, 1, G_MAXUINT64, &value, NULL))
                return FALSE;
        *ret_mem_total = value;
        return TRUE;
}

/**
 * guest_wait_ready() - Wait for the first "ready" line, with the boot guard timeout.
 * @guest: the guest, just spawned
 * @deadline_us: monotonic time to give up at
 * @error: return location for a GError
 *
 * Return: TRUE once ready, else FALSE with @error set
 */
static gboolean
guest_wait_ready(VtTestGuest *guest, gint64 deadline_us, GError **error)
{
        for (;;) {
                g_autofree char *line = rbuf_take_line(guest);
                int ret;

                if (line != NULL) {
                        if (parse_ready(line, &guest->mem_total))
                                return TRUE;
                        g_debug("guest '%s': unexpected line before ready: '%s'", guest->name,
                                line);
                        continue;
                }
                ret = workload_receive(guest, deadline_us, deadline_us, "while booting", error);
                if (ret < 0)
                        return FALSE;
                if (ret == 0) {
                        g_autofree char *console_tail =
                            file_tail(guest->console_path, LOG_TAIL_BYTES);

                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "guest '%s' not ready within the boot timeout\n"
                                    "--- guest console (tail):\n%s",
                                    guest->name, console_tail);
                        return FALSE;
                }
        }
}

/**
 * name_is_valid() - Whether @name is short and safe in paths and QEMU options.
 * @name: the guest name
 *
 * Return: TRUE if valid
 */
static gboolean
name_is_valid(const char *name)
{
        gsize len = strlen(name);

        if (len == 0 || len > NAME_MAX_CHARS)
                return FALSE;
        for (gsize i = 0; i < len; i++) {
                if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_')
                        return FALSE;
        }
        return TRUE;
}

static void remove_tree(const char *path);

/**
 * reap_orphan_dirs() - Remove the temp dirs of test processes that died.
 *
 * A test that aborts on a failed assertion never reaches its teardown: its
 * QEMU dies with it (PR_SET_PDEATHSIG), but its temp dir stays. Each dir
 * records its owner's pid; a dir whose owner is gone is removed by the next
 * guest started on this machine. Live owners' dirs are never touched.
 */
static void
reap_orphan_dirs(void)
{
        g_autoptr(GDir) tmp = g_dir_open(g_get_tmp_dir(), 0, NULL);
        const char *entry;

        while (tmp != NULL && (entry = g_dir_read_name(tmp)) != NULL) {
                g_autofree char *dir = NULL;
                g_autofree char *owner_path = NULL;
                g_autofree char *owner = NULL;
                gint64 pid;

                if (!g_str_has_prefix(entry, "vt-guest-"))
                        continue;
                dir = g_build_filename(g_get_tmp_dir(), entry, NULL);
                owner_path = g_build_filename(dir, "owner.pid", NULL);
                if (!g_file_get_contents(owner_path, &owner, NULL, NULL))
                        continue;
                pid = g_ascii_strtoll(owner, NULL, 10);
                if (pid <= 0 || pid > G_MAXINT || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                g_debug("removing '%s', left behind by process %" G_GINT64_FORMAT, dir, pid);
                remove_tree(dir);
        }
}

/**
 * vt_test_guest_start() - Boot a test guest and wait until its workload is ready.
 * @options: (optional) how to start it; NULL takes every default
 * @error: return location for a GError
 *
 * Creates a temp dir `vt-guest-<name>-XXXXXX` holding `qmp.sock`,
 * `agent.sock` (port org.vmtide.agent.0), `workload.sock` (port
 * org.vmtide.test.workload), `console.log` (ttyS0) and `qemu.log` (QEMU's
 * stdout and stderr), starts QEMU ($VT_QEMU, accelerator $VT_TEST_ACCEL,
 * default tcg) on the image in $VT_GUEST_DIR, and waits for the workload's
 * "ready" line or for @options->boot_timeout_us. The QMP and agent sockets
 * accept connections as soon as this returns (even before, in fact); nobody
 * is connected to them.
 *
 * QEMU dies with the calling thread (PR_SET_PDEATHSIG): call this from a
 * thread that outlives the guest, such as the test's main thread.
 *
 * Return: the running guest (transfer full, free with vt_test_guest_free()),
 *         or NULL with @error set; on error nothing is left behind
 */
VtTestGuest *
vt_test_guest_start(const VtTestGuestOptions *options, GError **error)
{
        static const VtTestGuestOptions defaults = {0};
        g_autoptr(VtTestGuest) guest = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *qemu = NULL;
        g_autofree char *kernel = NULL;
        g_autofree char *initrd = NULL;
        g_autofree char *template = NULL;
        g_autofree char *memory = NULL;
        g_autofree char *console_opt = NULL;
        g_autofree char *qmp_opt = NULL;
        g_autofree char *agent_opt = NULL;
        g_autofree char *workload_opt = NULL;
        g_autofree char *append = NULL;
        g_autofree char *owner_path = NULL;
        g_autofree char *owner = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(GError) local_error = NULL;
        const char *accel;
        guint64 memory_bytes;
        gint64 boot_timeout_us, start_us;
        int listen_fds[3] = {-1, -1, -1};
        int log_fd;
        gboolean spawned;

        if (options == NULL)
                options = &defaults;
        guest = g_new0(VtTestGuest, 1);
        guest->pidfd = -1;
        guest->workload_fd = -1;
        guest->rbuf = g_string_new(NULL);
        guest->name = g_strdup(options->name != NULL ? options->name : "guest");
        memory_bytes = options->memory_bytes != 0 ? options->memory_bytes : DEFAULT_MEMORY_BYTES;
        boot_timeout_us =
            options->boot_timeout_us > 0 ? options->boot_timeout_us : DEFAULT_BOOT_TIMEOUT_US;
        accel = g_getenv("VT_TEST_ACCEL");
        if (accel == NULL || *accel == '\0')
                accel = "tcg";

        if (!name_is_valid(guest->name)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "invalid guest name '%s' (1-%d of [A-Za-z0-9_-])", guest->name,
                            NAME_MAX_CHARS);
                return NULL;
        }
        if (memory_bytes % MIB != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "guest memory %" G_GUINT64_FORMAT " is not a multiple of 1 MiB",
                            memory_bytes);
                return NULL;
        }
        qemu = find_qemu(&reason);
        if (qemu == NULL || !find_image(&kernel, &initrd, &reason)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", reason);
                return NULL;
        }

        reap_orphan_dirs();
        template = g_strdup_printf("vt-guest-%s-XXXXXX", guest->name);
        guest->dir = g_dir_make_tmp(template, error);
        if (guest->dir == NULL)
                return NULL;
        owner_path = g_build_filename(guest->dir, "owner.pid", NULL);
        owner = g_strdup_printf("%d\n", (int)getpid());
        if (!g_file_set_contents(owner_path, owner, -1, error))
                return NULL;
        guest->qmp_path = g_build_filename(guest->dir, "qmp.sock", NULL);
        guest->agent_path = g_build_filename(guest->dir, "agent.sock", NULL);
        guest->workload_path = g_build_filename(guest->dir, "workload.sock", NULL);
        guest->console_path = g_build_filename(guest->dir, "console.log", NULL);
        guest->qemu_log_path = g_build_filename(guest->dir, "qemu.log", NULL);

        listen_fds[0] = listen_unix(guest->qmp_path, error);
        if (listen_fds[0] >= 0)
                listen_fds[1] = listen_unix(guest->agent_path, error);
        if (listen_fds[1] >= 0)
                listen_fds[2] = listen_unix(guest->workload_path, error);
        if (listen_fds[2] < 0) {
                for (guint i = 0; i < G_N_ELEMENTS(listen_fds); i++) {
                        if (listen_fds[i] >= 0)
                                close(listen_fds[i]);
                }
                return NULL;
        }
        log_fd = open(guest->qemu_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_fd < 0) {
                int saved_errno = errno;

                for (guint i = 0; i < G_N_ELEMENTS(listen_fds); i++)
                        close(listen_fds[i]);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "cannot create '%s': %s", guest->qemu_log_path,
                            g_strerror(saved_errno));
                return NULL;
        }

        memory = g_strdup_printf("%" G_GUINT64_FORMAT "M", memory_bytes / MIB);
        console_opt = g_strdup_printf("file,id=console,path=%s", guest->console_path);
        qmp_opt = g_strdup_printf("socket,id=qmp,fd=%d,server=on,wait=off", listen_fds[0]);
        agent_opt = g_strdup_printf("socket,id=agent,fd=%d,server=on,wait=off", listen_fds[1]);
        workload_opt =
            g_strdup_printf("socket,id=workload,fd=%d,server=on,wait=off", listen_fds[2]);
        argv = g_ptr_array_new();
        g_ptr_array_add(argv, qemu);
        g_ptr_array_add(argv, "-name");
        g_ptr_array_add(argv, guest->name);
        g_ptr_array_add(argv, "-accel");
        g_ptr_array_add(argv, (char *)accel);
        g_ptr_array_add(argv, "-m");
        g_ptr_array_add(argv, memory);
        g_ptr_array_add(argv, "-smp");
        g_ptr_array_add(argv, "1");
        g_ptr_array_add(argv, "-nodefaults");
        g_ptr_array_add(argv, "-no-user-config");
        g_ptr_array_add(argv, "-display");
        g_ptr_array_add(argv, "none");
        g_ptr_array_add(argv, "-no-reboot");
        g_ptr_array_add(argv, "-kernel");
        g_ptr_array_add(argv, kernel);
        g_ptr_array_add(argv, "-initrd");
        g_ptr_array_add(argv, initrd);
        g_ptr_array_add(argv, "-append");
        append = g_strjoin(" ", "console=ttyS0 quiet panic=-1",
                           options->kernel_args != NULL ? options->kernel_args : "", NULL);
        g_ptr_array_add(argv, append);
        g_ptr_array_add(argv, "-chardev");
        g_ptr_array_add(argv, console_opt);
        g_ptr_array_add(argv, "-serial");
        g_ptr_array_add(argv, "chardev:console");
        g_ptr_array_add(argv, "-chardev");
        g_ptr_array_add(argv, qmp_opt);
        g_ptr_array_add(argv, "-mon");
        g_ptr_array_add(argv, "chardev=qmp,mode=control");
        g_ptr_array_add(argv, "-device");
        g_ptr_array_add(argv, "virtio-serial-pci,id=vser0");
        g_ptr_array_add(argv, "-chardev");
        g_ptr_array_add(argv, agent_opt);
        g_ptr_array_add(argv, "-device");
        g_ptr_array_add(argv, "virtserialport,bus=vser0.0,chardev=agent,name=" AGENT_PORT);
        g_ptr_array_add(argv, "-chardev");
        g_ptr_array_add(argv, workload_opt);
        g_ptr_array_add(argv, "-device");
        g_ptr_array_add(argv, "virtserialport,bus=vser0.0,chardev=workload,name=" WORKLOAD_PORT);
        if (!options->no_balloon) {
                g_ptr_array_add(argv, "-device");
                g_ptr_array_add(argv, "virtio-balloon-pci,id=balloon0");
        }
        g_ptr_array_add(argv, NULL);

        start_us = g_get_monotonic_time();
        /* Identity fd mapping: GLib clears FD_CLOEXEC on them in the child only. */
        spawned = g_spawn_async_with_pipes_and_fds(
            NULL, (const char *const *)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_setup,
            GINT_TO_POINTER(getpid()), -1, log_fd, log_fd, listen_fds, listen_fds,
            G_N_ELEMENTS(listen_fds), &guest->pid, NULL, NULL, NULL, error);
        close(log_fd);
        for (guint i = 0; i < G_N_ELEMENTS(listen_fds); i++)
                close(listen_fds[i]);
        if (!spawned) {
                guest->pid = 0;
                return NULL;
        }
        g_debug("guest '%s': QEMU pid %d in '%s'", guest->name, (int)guest->pid, guest->dir);

        guest->pidfd = (int)syscall(SYS_pidfd_open, guest->pid, 0);
        if (guest->pidfd < 0) {
                int saved_errno = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "pidfd_open(%d): %s", (int)guest->pid, g_strerror(saved_errno));
                return NULL;
        }
        guest->workload_fd = connect_unix(guest->workload_path, error);
        if (guest->workload_fd < 0)
                return NULL;
        if (!guest_wait_ready(guest, start_us + boot_timeout_us, error))
                return NULL;
        guest->ready_us = g_get_monotonic_time() - start_us;
        g_debug("guest '%s' ready in %.2f s, MemTotal %" G_GUINT64_FORMAT, guest->name,
                (double)guest->ready_us / G_USEC_PER_SEC, guest->mem_total);
        return g_steal_pointer(&guest);
}

/**
 * vt_test_guest_get_name() - The guest's name.
 * @guest: the guest
 *
 * Return: (transfer none) the name
 */
const char *
vt_test_guest_get_name(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->name;
}

/**
 * vt_test_guest_get_dir() - The guest's temp dir, removed by vt_test_guest_free().
 * @guest: the guest
 *
 * Return: (transfer none) the absolute path
 */
const char *
vt_test_guest_get_dir(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->dir;
}

/**
 * vt_test_guest_get_qmp_path() - QEMU's QMP socket; accepts one client at a time.
 * @guest: the guest
 *
 * Return: (transfer none) the socket path
 */
const char *
vt_test_guest_get_qmp_path(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->qmp_path;
}

/**
 * vt_test_guest_get_agent_path() - Host end of the org.vmtide.agent.0 port.
 * @guest: the guest
 *
 * Return: (transfer none) the socket path
 */
const char *
vt_test_guest_get_agent_path(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->agent_path;
}

/**
 * vt_test_guest_get_console_path() - The guest's serial console log.
 * @guest: the guest
 *
 * Return: (transfer none) the file path
 */
const char *
vt_test_guest_get_console_path(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->console_path;
}

/**
 * vt_test_guest_get_pid() - QEMU's pid (for /proc/<pid>/ksm_stat and the like).
 * @guest: the guest
 *
 * Return: the pid; it may have been reaped after vt_test_guest_kill()
 */
GPid
vt_test_guest_get_pid(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, 0);
        return guest->pid;
}

/**
 * vt_test_guest_get_mem_total() - The guest's MemTotal as last announced by the workload.
 * @guest: the guest
 *
 * Return: bytes
 */
guint64
vt_test_guest_get_mem_total(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, 0);
        return guest->mem_total;
}

/**
 * vt_test_guest_get_ready_us() - How long the guest took from spawn to ready.
 * @guest: the guest
 *
 * Return: microseconds
 */
gint64
vt_test_guest_get_ready_us(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, 0);
        return guest->ready_us;
}

/**
 * workload_discard_stale() - Drop lines that arrived while no command was outstanding.
 * @guest: the guest
 * @deadline_us: if the socket closed, how long to wait for QEMU's exit, to report it
 * @error: return location for a GError
 *
 * Return: TRUE on success, FALSE with @error set if the channel is gone
 */
static gboolean
workload_discard_stale(VtTestGuest *guest, gint64 deadline_us, GError **error)
{
        for (;;) {
                g_autofree char *line = rbuf_take_line(guest);
                int ret;

                if (line != NULL) {
                        if (parse_ready(line, &guest->mem_total))
                                g_debug("guest '%s': workload restarted", guest->name);
                        else
                                g_debug("guest '%s': dropping stale line '%s'", guest->name, line);
                        continue;
                }
                ret = workload_receive(guest, 0, deadline_us, "before sending a command", error);
                if (ret < 0)
                        return FALSE;
                if (ret == 0)
                        return TRUE;
        }
}

/**
 * vt_test_guest_workload() - Send one command line to the workload and return its reply.
 * @guest: the guest
 * @command: the command, without newline: "ping", "alloc <bytes>", "free", "meminfo"
 * @timeout_us: how long to wait for the reply; 0 or less means 60 s
 * @error: return location for a GError
 *
 * The reply is returned as is, including "err ..." replies; check it.
 * Errors: G_IO_ERROR_TIMED_OUT if no reply came in time (a late reply is
 * dropped before the next command); G_IO_ERROR_CONNECTION_CLOSED if the
 * workload restarted instead of replying (the guest's OOM killer, usually);
 * G_IO_ERROR_BROKEN_PIPE if QEMU exited (the message has its stderr and the
 * console tail); other codes for socket errors.
 *
 * Return: the reply line without newline (transfer full), or NULL with @error set
 */
char *
vt_test_guest_workload(VtTestGuest *guest, const char *command, gint64 timeout_us, GError **error)
{
        g_autofree char *request = NULL;
        g_autofree char *what = NULL;
        gint64 deadline_us;
        gsize sent = 0;

        g_return_val_if_fail(guest != NULL, NULL);
        g_return_val_if_fail(command != NULL && strchr(command, '\n') == NULL, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (guest->workload_fd < 0 || guest->reaped) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED, "guest '%s' is not running",
                            guest->name);
                return NULL;
        }
        deadline_us =
            g_get_monotonic_time() + (timeout_us > 0 ? timeout_us : (gint64)DEFAULT_REPLY_TIMEOUT);
        what = g_strdup_printf("waiting for the reply to '%s'", command);
        if (!workload_discard_stale(guest, deadline_us, error))
                return NULL;

        request = g_strdup_printf("%s\n", command);
        while (sent < strlen(request)) {
                ssize_t n =
                    send(guest->workload_fd, request + sent, strlen(request) - sent, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int saved_errno = errno;

                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                                    "sending '%s' to '%s': %s", command, guest->workload_path,
                                    g_strerror(saved_errno));
                        return NULL;
                }
                sent += (gsize)n;
        }

        for (;;) {
                g_autofree char *line = rbuf_take_line(guest);
                int ret;

                if (line != NULL) {
                        if (parse_ready(line, &guest->mem_total)) {
                                g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                            "the workload of guest '%s' restarted instead of "
                                            "answering '%s' (OOM-killed?)",
                                            guest->name, command);
                                return NULL;
                        }
                        return g_steal_pointer(&line);
                }
                ret = workload_receive(guest, deadline_us, deadline_us, what, error);
                if (ret < 0)
                        return NULL;
                if (ret == 0) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "no reply from the workload of guest '%s' to '%s' in time",
                                    guest->name, command);
                        return NULL;
                }
        }
}

/**
 * vt_test_guest_read_console() - The guest console so far, for test diagnostics.
 * @guest: the guest
 *
 * Return: the console log (transfer full), "" if empty or unreadable
 */
char *
vt_test_guest_read_console(VtTestGuest *guest)
{
        g_autofree char *contents = NULL;

        g_return_val_if_fail(guest != NULL, NULL);
        if (!g_file_get_contents(guest->console_path, &contents, NULL, NULL))
                return g_strdup("");
        return g_steal_pointer(&contents);
}

/**
 * vt_test_guest_kill() - SIGKILL QEMU and reap it. Idempotent.
 * @guest: the guest
 *
 * The temp dir stays until vt_test_guest_free(); vt_test_guest_workload()
 * fails from now on.
 */
void
vt_test_guest_kill(VtTestGuest *guest)
{
        g_return_if_fail(guest != NULL);

        if (guest->pid != 0 && !guest->reaped)
                kill(guest->pid, SIGKILL);
        guest_reap(guest);
        if (guest->workload_fd >= 0) {
                close(guest->workload_fd);
                guest->workload_fd = -1;
        }
        if (guest->pidfd >= 0) {
                close(guest->pidfd);
                guest->pidfd = -1;
        }
}

/**
 * remove_tree() - Remove @path and, if it is a directory, everything under it.
 * @path: what to remove; symlinks are removed, not followed
 */
static void
remove_tree(const char *path)
{
        GStatBuf st;

        if (g_lstat(path, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
                const char *entry;

                while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
                        g_autofree char *child = g_build_filename(path, entry, NULL);

                        remove_tree(child);
                }
                if (g_rmdir(path) < 0)
                        g_debug("cannot remove '%s': %s", path, g_strerror(errno));
        } else if (g_unlink(path) < 0) {
                g_debug("cannot remove '%s': %s", path, g_strerror(errno));
        }
}

/**
 * vt_test_guest_free() - Kill QEMU if still running, reap it, remove the temp dir.
 * @guest: (nullable) the guest
 */
void
vt_test_guest_free(VtTestGuest *guest)
{
        if (guest == NULL)
                return;
        vt_test_guest_kill(guest);
        if (guest->dir != NULL)
                remove_tree(guest->dir);
        g_string_free(guest->rbuf, TRUE);
        g_free(guest->name);
        g_free(guest->dir);
        g_free(guest->qmp_path);
        g_free(guest->agent_path);
        g_free(guest->workload_path);
        g_free(guest->console_path);
        g_free(guest->qemu_log_path);
        g_free(guest);
}
