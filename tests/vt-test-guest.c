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
 *
 * Libvirt mode (options->libvirt_uri) runs the same machine as a transient
 * libvirt domain instead: libvirt binds the channel sockets itself (the
 * workload one at the same path in the temp dir, the agent one under
 * libvirt's channel dir, found from the domain XML), QEMU runs as root
 * (a static DAC seclabel: no relabelling of the build and temp dirs) and is
 * libvirtd's, not ours. The launcher reads its pid from libvirt's pidfile
 * and holds a pidfd (pidfd_open() works on any process), so death detection
 * works as in direct mode, but there is no exit status to reap and no QMP
 * socket of ours (libvirt holds the monitor). The workload socket exists
 * once virDomainCreateXML() returns; the connect is retried within the boot
 * guard all the same, watching the pidfd. Teardown destroys the domain
 * through a fresh connection (libvirtd may have been restarted since), or
 * SIGKILLs QEMU through the pidfd if libvirtd does not answer.
 *
 * A libvirt-mode QEMU does not die with a crashed test: every domain carries
 * its owner's pid in its <metadata> (OWNER_URI), and the next libvirt-mode
 * start on the host destroys the domains whose owner is gone.
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

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vt-test-libvirt.h"
#include "vt-test-tmpdir.h"

#define DEFAULT_MEMORY_BYTES    (512 * G_GUINT64_CONSTANT(1024) * 1024)
#define DEFAULT_BOOT_TIMEOUT_US (60 * G_USEC_PER_SEC)
#define DEFAULT_REPLY_TIMEOUT   (60 * G_USEC_PER_SEC)
#define MIB                     (G_GUINT64_CONSTANT(1024) * 1024)
/*
 * Direct-mode guests that migrate get 8 KiB of RAM over the size asked for. QEMU before
 * 9.0 (Debian 12 has 7.2) syncs the migration dirty bitmap of a RAM block a
 * multiple of 256 KiB long through a fast path that leaves the TCG TLB
 * stale, so stores of a moving TCG guest are lost and its kernel arrives
 * corrupt (fixed upstream by "physmem: Fix migration dirty bitmap coherency
 * with TCG memory access", 2024). A block of any other length takes the
 * slow path, which brings the TLB up to date. QEMU rounds -m to 8 KiB.
 */
#define TCG_RAM_PAD_KIB  8
#define NAME_MAX_CHARS   32
#define LINE_MAX_BYTES   4096
#define LOG_TAIL_BYTES   2048
#define WORKLOAD_PORT    "org.vmtide.test.workload"
#define AGENT_PORT       "org.vmtide.agent.0"
#define OWNER_URI        "https://vmtide.org/xmlns/test-owner/1"
#define OWNER_PREFIX     "vttestowner"
#define LIBVIRT_RUN_DIR  "/run/libvirt/qemu"
#define LIBVIRT_LOG_DIR  "/var/log/libvirt/qemu"
#define CONNECT_RETRY_US (50 * 1000)
#define EXIT_GUARD_US    (30 * G_USEC_PER_SEC)

struct _VtTestGuest {
        char *name;
        char *dir;
        char *qmp_path;
        char *monitor_path; /* a second QMP monitor, for tests beside a client on qmp_path */
        char *agent_path;
        char *workload_path;
        char *console_path;
        char *qemu_log_path;
        char *incoming_uri;                        /* NULL unless started with options->incoming */
        char *libvirt_uri;                         /* NULL: QEMU is our child (direct mode) */
        char libvirt_uuid[VIR_UUID_STRING_BUFLEN]; /* "" until the domain is created */
        GPid pid;                                  /* 0 before spawning */
        gboolean reaped;   /* direct: waitpid() done, pid no longer ours; libvirt: exited */
        int wait_status;   /* valid once reaped, in direct mode only */
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

static gboolean qemu_wait_exit(VtTestGuest *guest, gint64 deadline_us);

/**
 * guest_reap() - Wait for QEMU to exit (it must be exiting) and record its status.
 * @guest: the guest
 *
 * In libvirt mode QEMU is not our child: this waits (at most EXIT_GUARD_US)
 * for its pidfd to say it exited, and there is no status.
 */
static void
guest_reap(VtTestGuest *guest)
{
        if (guest->pid == 0 || guest->reaped)
                return;
        if (guest->libvirt_uri != NULL) {
                if (guest->pidfd >= 0 &&
                    !qemu_wait_exit(guest, g_get_monotonic_time() + EXIT_GUARD_US))
                        g_debug("guest '%s': QEMU pid %d still there after %d s", guest->name,
                                (int)guest->pid, (int)(EXIT_GUARD_US / G_USEC_PER_SEC));
                guest->reaped = TRUE;
                return;
        }
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
        if (guest->libvirt_uri != NULL)
                status =
                    g_strdup_printf("(domain '%s', pid %d) exited", guest->name, (int)guest->pid);
        else if (WIFEXITED(guest->wait_status))
                status = g_strdup_printf("exited with status %d", WEXITSTATUS(guest->wait_status));
        else if (WIFSIGNALED(guest->wait_status))
                status = g_strdup_printf("was killed by signal %d", WTERMSIG(guest->wait_status));
        else
                status = g_strdup("ended");
        stderr_tail = file_tail(guest->qemu_log_path, LOG_TAIL_BYTES);
        console_tail = file_tail(guest->console_path, LOG_TAIL_BYTES);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                    "QEMU of guest '%s' %s %s\n--- QEMU stderr ('%s'):\n%s\n--- guest console "
                    "(tail):\n%s",
                    guest->name, status, what, guest->qemu_log_path, stderr_tail, console_tail);
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

/**
 * guest_spawn_qemu() - Direct mode: bind the guest's sockets and spawn QEMU on them.
 * @guest: the guest, its dir and paths set
 * @qemu: the QEMU binary
 * @kernel: the guest kernel
 * @initrd: the guest initramfs
 * @append: the kernel command line
 * @memory_bytes: guest RAM, a multiple of 1 MiB
 * @migrates: the guest takes part in a migration: pad its RAM (TCG_RAM_PAD_KIB)
 * @no_balloon: omit the virtio-balloon device
 * @virtio_mem_bytes: the virtio-mem device's maximum; 0: no device
 * @error: return location for a GError
 *
 * Return: TRUE with guest->pid and guest->pidfd set, else FALSE with @error set
 */
static gboolean
guest_spawn_qemu(VtTestGuest *guest, const char *qemu, const char *kernel, const char *initrd,
                 const char *append, guint64 memory_bytes, gboolean migrates, gboolean no_balloon,
                 guint64 virtio_mem_bytes, GError **error)
{
        g_autofree char *memory = NULL;
        g_autofree char *vmem_object = NULL;
        g_autofree char *console_opt = NULL;
        g_autofree char *qmp_opt = NULL;
        g_autofree char *agent_opt = NULL;
        g_autofree char *workload_opt = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        const char *accel;
        g_autofree char *monitor_opt = NULL;
        int listen_fds[4] = {-1, -1, -1, -1};
        int log_fd;
        gboolean spawned;
        guint64 ram_kib = memory_bytes / 1024 + (migrates ? TCG_RAM_PAD_KIB : 0);

        accel = g_getenv("VT_TEST_ACCEL");
        if (accel == NULL || *accel == '\0')
                accel = "tcg";

        listen_fds[0] = listen_unix(guest->qmp_path, error);
        if (listen_fds[0] >= 0)
                listen_fds[1] = listen_unix(guest->agent_path, error);
        if (listen_fds[1] >= 0)
                listen_fds[2] = listen_unix(guest->workload_path, error);
        if (listen_fds[2] >= 0)
                listen_fds[3] = listen_unix(guest->monitor_path, error);
        if (listen_fds[3] < 0) {
                for (guint i = 0; i < G_N_ELEMENTS(listen_fds); i++) {
                        if (listen_fds[i] >= 0)
                                close(listen_fds[i]);
                }
                return FALSE;
        }
        log_fd = open(guest->qemu_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_fd < 0) {
                int saved_errno = errno;

                for (guint i = 0; i < G_N_ELEMENTS(listen_fds); i++)
                        close(listen_fds[i]);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "cannot create '%s': %s", guest->qemu_log_path,
                            g_strerror(saved_errno));
                return FALSE;
        }

        if (virtio_mem_bytes == 0)
                memory = g_strdup_printf("%" G_GUINT64_FORMAT "K", ram_kib);
        else
                memory =
                    g_strdup_printf("%" G_GUINT64_FORMAT "K,maxmem=%" G_GUINT64_FORMAT "K,slots=1",
                                    ram_kib, ram_kib + virtio_mem_bytes / 1024);
        vmem_object = g_strdup_printf("memory-backend-ram,id=vmem0,size=%" G_GUINT64_FORMAT "M",
                                      virtio_mem_bytes / MIB);
        console_opt = g_strdup_printf("file,id=console,path=%s", guest->console_path);
        qmp_opt = g_strdup_printf("socket,id=qmp,fd=%d,server=on,wait=off", listen_fds[0]);
        agent_opt = g_strdup_printf("socket,id=agent,fd=%d,server=on,wait=off", listen_fds[1]);
        workload_opt =
            g_strdup_printf("socket,id=workload,fd=%d,server=on,wait=off", listen_fds[2]);
        monitor_opt = g_strdup_printf("socket,id=monitor,fd=%d,server=on,wait=off", listen_fds[3]);
        argv = g_ptr_array_new();
        g_ptr_array_add(argv, (char *)qemu);
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
        g_ptr_array_add(argv, (char *)kernel);
        g_ptr_array_add(argv, "-initrd");
        g_ptr_array_add(argv, (char *)initrd);
        g_ptr_array_add(argv, "-append");
        g_ptr_array_add(argv, (char *)append);
        g_ptr_array_add(argv, "-chardev");
        g_ptr_array_add(argv, console_opt);
        g_ptr_array_add(argv, "-serial");
        g_ptr_array_add(argv, "chardev:console");
        g_ptr_array_add(argv, "-chardev");
        g_ptr_array_add(argv, qmp_opt);
        g_ptr_array_add(argv, "-mon");
        g_ptr_array_add(argv, "chardev=qmp,mode=control");
        g_ptr_array_add(argv, "-chardev");
        g_ptr_array_add(argv, monitor_opt);
        g_ptr_array_add(argv, "-mon");
        g_ptr_array_add(argv, "chardev=monitor,mode=control");
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
        if (!no_balloon) {
                g_ptr_array_add(argv, "-device");
                g_ptr_array_add(argv, "virtio-balloon-pci,id=balloon0");
        }
        if (virtio_mem_bytes != 0) {
                g_ptr_array_add(argv, "-object");
                g_ptr_array_add(argv, vmem_object);
                g_ptr_array_add(argv, "-device");
                g_ptr_array_add(argv, "virtio-mem-pci,id=vm0,memdev=vmem0,requested-size=0,"
                                      "block-size=2M");
        }
        if (guest->incoming_uri != NULL) {
                g_ptr_array_add(argv, "-incoming");
                g_ptr_array_add(argv, guest->incoming_uri);
        }
        g_ptr_array_add(argv, NULL);

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
                return FALSE;
        }
        g_debug("guest '%s': QEMU pid %d in '%s'", guest->name, (int)guest->pid, guest->dir);

        guest->pidfd = (int)syscall(SYS_pidfd_open, guest->pid, 0);
        if (guest->pidfd < 0) {
                int saved_errno = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "pidfd_open(%d): %s", (int)guest->pid, g_strerror(saved_errno));
                return FALSE;
        }
        return TRUE;
}

/**
 * domain_log_path() - Where libvirt keeps a domain's QEMU log (its stderr).
 * @name: the domain name
 *
 * Return: the path (transfer full)
 */
static char *
domain_log_path(const char *name)
{
        g_autofree char *file = g_strdup_printf("%s.log", name);

        return g_build_filename(LIBVIRT_LOG_DIR, file, NULL);
}

/**
 * reap_orphan_domains() - Destroy the running test domains whose owner process is gone.
 * @conn: a connection
 *
 * A test that crashes leaves its libvirt-mode QEMU running (it is libvirtd's
 * child, not the test's); its domain's metadata names the owner's pid.
 * Domains without that element are never touched.
 */
static void
reap_orphan_domains(virConnectPtr conn)
{
        virDomainPtr *domains = NULL;
        int n = virConnectListAllDomains(conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

        for (int i = 0; i < n; i++) {
                char *owner = virDomainGetMetadata(domains[i], VIR_DOMAIN_METADATA_ELEMENT,
                                                   OWNER_URI, VIR_DOMAIN_AFFECT_LIVE);
                const char *attr = owner != NULL ? strstr(owner, " pid=") : NULL;
                gint64 pid = 0;

                if (attr != NULL && (attr[5] == '\'' || attr[5] == '"'))
                        pid = g_ascii_strtoll(attr + 6, NULL, 10);
                if (pid > 0 && pid <= G_MAXINT && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
                        const char *name = virDomainGetName(domains[i]);

                        g_debug("destroying domain '%s', left behind by process %" G_GINT64_FORMAT,
                                name, pid);
                        if (virDomainDestroy(domains[i]) == 0) {
                                g_autofree char *log_path = domain_log_path(name);

                                g_unlink(log_path);
                        } else {
                                g_debug("cannot destroy domain '%s': %s", name,
                                        virGetLastErrorMessage());
                        }
                }
                free(owner);
                virDomainFree(domains[i]);
        }
        free(domains);
}

/**
 * domain_xml_build() - The XML of the libvirt-mode domain: the direct mode's machine.
 * @guest: the guest, its name and paths set
 * @options: the options (no_balloon, libvirt_metadata, virtio_mem_bytes)
 * @kernel: the guest kernel, an absolute path
 * @initrd: the guest initramfs, an absolute path
 * @append: the kernel command line
 * @memory_bytes: guest RAM, a multiple of 1 MiB
 *
 * Everything inserted is XML-escaped but @options->libvirt_metadata, which
 * is XML. $VT_TEST_ACCEL=kvm gives a KVM domain, anything else TCG.
 *
 * With @options->virtio_mem_bytes, the domain also gets a virtio-mem device
 * of that size (2 MiB blocks, nothing requested at boot): libvirt counts
 * memory devices in <memory>, wants room for them in <maxMemory> (one
 * slot is enough: a virtio-mem device takes none, but the element needs
 * one) and a NUMA node to plug them into, whose size is the boot memory.
 *
 * Return: the XML (transfer full)
 */
static char *
domain_xml_build(VtTestGuest *guest, const VtTestGuestOptions *options, const char *kernel,
                 const char *initrd, const char *append, guint64 memory_bytes)
{
        GString *xml = g_string_new(NULL);
        g_autofree char *body = NULL;
        guint64 memory_kib = memory_bytes / 1024;
        guint64 vmem_kib = options->virtio_mem_bytes / 1024;

        body = g_markup_printf_escaped(
            "<domain type='%s'>\n"
            "  <name>%s</name>\n"
            "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n"
            "  <vcpu>1</vcpu>\n"
            "  <os>\n"
            "    <type arch='x86_64' machine='pc'>hvm</type>\n"
            "    <kernel>%s</kernel>\n"
            "    <initrd>%s</initrd>\n"
            "    <cmdline>%s</cmdline>\n"
            "  </os>\n"
            "  <on_poweroff>destroy</on_poweroff>\n"
            "  <on_reboot>destroy</on_reboot>\n"
            "  <on_crash>destroy</on_crash>\n"
            "  <devices>\n"
            "    <serial type='file'><source path='%s'/><target port='0'/></serial>\n"
            "    <controller type='usb' model='none'/>\n"
            "    <controller type='virtio-serial' index='0'/>\n"
            "    <channel type='unix'><source mode='bind'/>"
            "<target type='virtio' name='" AGENT_PORT "'/></channel>\n"
            "    <channel type='unix'><source mode='bind' path='%s'/>"
            "<target type='virtio' name='" WORKLOAD_PORT "'/></channel>\n",
            g_strcmp0(g_getenv("VT_TEST_ACCEL"), "kvm") == 0 ? "kvm" : "qemu", guest->name,
            memory_kib + vmem_kib, kernel, initrd, append, guest->console_path,
            guest->workload_path);
        g_string_append(xml, body);
        if (vmem_kib != 0)
                g_string_append_printf(
                    xml,
                    "    <memory model='virtio-mem'><target>"
                    "<size unit='KiB'>%" G_GUINT64_FORMAT "</size><node>0</node>"
                    "<block unit='KiB'>2048</block><requested unit='KiB'>0</requested>"
                    "</target></memory>\n",
                    vmem_kib);
        if (options->no_balloon)
                g_string_append(xml, "    <memballoon model='none'/>\n");
        else
                g_string_append(xml, "    <memballoon model='virtio'><stats period='2'/>"
                                     "</memballoon>\n");
        g_string_append(xml, "  </devices>\n");
        if (vmem_kib != 0)
                g_string_append_printf(
                    xml,
                    "  <maxMemory slots='1' unit='KiB'>%" G_GUINT64_FORMAT "</maxMemory>\n"
                    "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n"
                    "  <cpu><numa><cell id='0' cpus='0' memory='%" G_GUINT64_FORMAT
                    "' unit='KiB'/></numa></cpu>\n",
                    memory_kib + vmem_kib, memory_kib, memory_kib);
        g_string_append(xml, "  <seclabel type='static' model='dac' relabel='no'>"
                             "<label>+0:+0</label></seclabel>\n"
                             "  <metadata>\n");
        if (options->libvirt_metadata != NULL)
                g_string_append_printf(xml, "    %s\n", options->libvirt_metadata);
        g_string_append_printf(xml,
                               "    <" OWNER_PREFIX ":owner xmlns:" OWNER_PREFIX "='" OWNER_URI
                               "' pid='%d'/>\n"
                               "  </metadata>\n"
                               "</domain>\n",
                               (int)getpid());
        return g_string_free(xml, FALSE);
}

/**
 * guest_read_pid() - Libvirt mode: find QEMU's pid in libvirt's pidfile and open a pidfd.
 * @guest: the guest, whose domain was just created
 * @error: return location for a GError
 *
 * Return: TRUE with guest->pid and guest->pidfd set, else FALSE with @error set
 */
static gboolean
guest_read_pid(VtTestGuest *guest, GError **error)
{
        g_autofree char *file = g_strdup_printf("%s.pid", guest->name);
        g_autofree char *pid_path = g_build_filename(LIBVIRT_RUN_DIR, file, NULL);
        g_autofree char *contents = NULL;
        g_autofree char *proc = NULL;
        guint64 pid;

        if (!g_file_get_contents(pid_path, &contents, NULL, error))
                return FALSE;
        if (!g_ascii_string_to_unsigned(g_strstrip(contents), 10, 1, G_MAXINT, &pid, NULL)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "'%s' holds no pid: '%s'",
                            pid_path, contents);
                return FALSE;
        }
        proc = g_strdup_printf("/proc/%d", (int)pid);
        if (!g_file_test(proc, G_FILE_TEST_IS_DIR)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                            "QEMU of domain '%s' (pid %d, from '%s') is not running", guest->name,
                            (int)pid, pid_path);
                return FALSE;
        }
        guest->pid = (GPid)pid;
        guest->pidfd = (int)syscall(SYS_pidfd_open, guest->pid, 0);
        if (guest->pidfd < 0) {
                int saved_errno = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "pidfd_open(%d): %s", (int)guest->pid, g_strerror(saved_errno));
                return FALSE;
        }
        g_debug("guest '%s': domain %s, QEMU pid %d", guest->name, guest->libvirt_uuid,
                (int)guest->pid);
        return TRUE;
}

/**
 * guest_create_domain() - Libvirt mode: create the transient domain and find its QEMU.
 * @guest: the guest, its dir, paths and libvirt_uri set
 * @options: the options
 * @kernel: the guest kernel
 * @initrd: the guest initramfs
 * @append: the kernel command line
 * @memory_bytes: guest RAM, a multiple of 1 MiB
 * @error: return location for a GError
 *
 * Return: TRUE with guest->libvirt_uuid, ->pid and ->pidfd set, else FALSE
 *         with @error set (the domain, if created, is destroyed by vt_test_guest_free())
 */
static gboolean
guest_create_domain(VtTestGuest *guest, const VtTestGuestOptions *options, const char *kernel,
                    const char *initrd, const char *append, guint64 memory_bytes, GError **error)
{
        struct sockaddr_un addr;
        g_autofree char *abs_kernel = g_canonicalize_filename(kernel, NULL);
        g_autofree char *abs_initrd = g_canonicalize_filename(initrd, NULL);
        g_autofree char *xml = NULL;
        g_autofree char *message = NULL;
        virConnectPtr conn;
        virDomainPtr domain;
        int ret = 0;

        if (strlen(guest->workload_path) >= sizeof(addr.sun_path)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                            "socket path '%s' is too long (set TMPDIR to a shorter dir)",
                            guest->workload_path);
                return FALSE;
        }
        conn = vt_test_libvirt_connect(guest->libvirt_uri, error);
        if (conn == NULL)
                return FALSE;
        reap_orphan_domains(conn);
        xml = domain_xml_build(guest, options, abs_kernel, abs_initrd, append, memory_bytes);
        domain = virDomainCreateXML(conn, xml, VIR_DOMAIN_NONE);
        if (domain != NULL)
                ret = virDomainGetUUIDString(domain, guest->libvirt_uuid);
        if (domain == NULL || ret < 0)
                message = g_strdup(virGetLastErrorMessage());
        if (domain != NULL)
                virDomainFree(domain);
        virConnectClose(conn);
        if (message != NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "cannot create domain '%s' through '%s': %s", guest->name,
                            guest->libvirt_uri, message);
                return FALSE;
        }
        return guest_read_pid(guest, error);
}

/**
 * workload_connect_retry() - Libvirt mode: connect to the workload socket libvirt binds.
 * @guest: the guest, whose QEMU is running
 * @deadline_us: monotonic time to give up at
 * @error: return location for a GError
 *
 * Retries every CONNECT_RETRY_US until @deadline_us while watching QEMU's
 * pidfd (the socket normally accepts at the first try).
 *
 * Return: the connected fd, or -1 with @error set
 */
static int
workload_connect_retry(VtTestGuest *guest, gint64 deadline_us, GError **error)
{
        for (;;) {
                g_autoptr(GError) local_error = NULL;
                int fd = connect_unix(guest->workload_path, &local_error);
                gint64 now_us;

                if (fd >= 0)
                        return fd;
                now_us = g_get_monotonic_time();
                if (now_us >= deadline_us) {
                        g_propagate_prefixed_error(
                            error, g_steal_pointer(&local_error),
                            "guest '%s' (within the boot timeout): ", guest->name);
                        return -1;
                }
                if (qemu_wait_exit(guest, MIN(now_us + CONNECT_RETRY_US, deadline_us))) {
                        set_error_qemu_exited(guest, "before its workload socket accepted", error);
                        return -1;
                }
        }
}

/**
 * incoming_wait_listening() - Wait until an incoming QEMU listens for the migration.
 * @guest: the guest, spawned with -incoming
 * @deadline_us: monotonic time to give up at
 * @error: return location for a GError
 *
 * QEMU binds the incoming socket in its main thread before the main loop
 * runs. Its QMP monitor greets from an I/O thread, possibly earlier, but
 * runs commands in the main loop: once `qmp_capabilities` is answered, the
 * incoming socket listens. The QMP connection is closed again, for the
 * test's own client.
 *
 * Return: TRUE once listening, else FALSE with @error set
 */
static gboolean
incoming_wait_listening(VtTestGuest *guest, gint64 deadline_us, GError **error)
{
        static const char command[] = "{\"execute\": \"qmp_capabilities\"}\n";
        g_autoptr(GString) received = g_string_new(NULL);
        int fd = connect_unix(guest->qmp_path, error);
        struct pollfd fds[2] = {{.fd = fd, .events = POLLIN},
                                {.fd = guest->pidfd, .events = POLLIN}};

        if (fd < 0)
                return FALSE;
        if (send(fd, command, strlen(command), MSG_NOSIGNAL) < 0) {
                int saved_errno = errno;

                close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "sending to '%s': %s", guest->qmp_path, g_strerror(saved_errno));
                return FALSE;
        }
        while (strstr(received->str, "\"return\"") == NULL) {
                gint64 left_us = deadline_us - g_get_monotonic_time();
                char buf[1024];
                ssize_t n;
                int ret =
                    poll(fds, G_N_ELEMENTS(fds), left_us <= 0 ? 0 : (int)((left_us + 999) / 1000));

                if (ret < 0 && errno == EINTR)
                        continue;
                if (ret > 0 && fds[1].revents != 0) {
                        close(fd);
                        set_error_qemu_exited(guest, "before listening for the migration", error);
                        return FALSE;
                }
                n = ret > 0 ? recv(fd, buf, sizeof(buf), 0) : -1;
                if (n <= 0 || received->len > LINE_MAX_BYTES) {
                        close(fd);
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "incoming QEMU of guest '%s' did not answer on QMP in time",
                                    guest->name);
                        return FALSE;
                }
                g_string_append_len(received, buf, n);
        }
        close(fd);
        return TRUE;
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
 * With @options->libvirt_uri, the same machine is created as a transient
 * libvirt domain named @options->name (unique on the host; libvirt's
 * default emulator; kvm if $VT_TEST_ACCEL is "kvm", else TCG). The temp dir
 * then holds `workload.sock` (bound by libvirt) and `console.log` only:
 * there is no QMP socket of ours (libvirt holds the monitor), the agent
 * socket is libvirt's (its path is in the domain XML), QEMU's stderr is in
 * libvirt's log (/var/log/libvirt/qemu/NAME.log, removed with the guest),
 * and QEMU does not die with the test (the next libvirt-mode start destroys
 * the domains of dead tests). The domain's <metadata> holds
 * @options->libvirt_metadata and an element naming this process. The boot
 * timeout and vt_test_guest_get_ready_us() count from virDomainCreateXML()'s
 * return.
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
        g_autofree char *append = NULL;
        guint64 memory_bytes;
        gint64 boot_timeout_us, start_us;

        if (options == NULL)
                options = &defaults;
        guest = g_new0(VtTestGuest, 1);
        guest->pidfd = -1;
        guest->workload_fd = -1;
        guest->rbuf = g_string_new(NULL);
        guest->name = g_strdup(options->name != NULL ? options->name : "guest");
        guest->libvirt_uri = g_strdup(options->libvirt_uri);
        memory_bytes = options->memory_bytes != 0 ? options->memory_bytes : DEFAULT_MEMORY_BYTES;
        boot_timeout_us =
            options->boot_timeout_us > 0 ? options->boot_timeout_us : DEFAULT_BOOT_TIMEOUT_US;

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
        if (options->virtio_mem_bytes % (2 * MIB) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "virtio-mem size %" G_GUINT64_FORMAT " is not a multiple of 2 MiB",
                            options->virtio_mem_bytes);
                return NULL;
        }
        /* Libvirt mode runs libvirt's emulator, not ours. */
        if (guest->libvirt_uri == NULL)
                qemu = find_qemu(&reason);
        if ((guest->libvirt_uri == NULL && qemu == NULL) ||
            !find_image(&kernel, &initrd, &reason)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", reason);
                return NULL;
        }

        guest->dir = vt_test_owned_dir_new("vt-guest-", guest->name, error);
        if (guest->dir == NULL)
                return NULL;
        guest->workload_path = g_build_filename(guest->dir, "workload.sock", NULL);
        guest->console_path = g_build_filename(guest->dir, "console.log", NULL);
        if (options->incoming && guest->libvirt_uri == NULL) {
                g_autofree char *path = g_build_filename(guest->dir, "incoming.sock", NULL);

                guest->incoming_uri = g_strconcat("unix:", path, NULL);
        }
        if (guest->libvirt_uri == NULL) {
                guest->qmp_path = g_build_filename(guest->dir, "qmp.sock", NULL);
                guest->monitor_path = g_build_filename(guest->dir, "monitor.sock", NULL);
                guest->agent_path = g_build_filename(guest->dir, "agent.sock", NULL);
                guest->qemu_log_path = g_build_filename(guest->dir, "qemu.log", NULL);
        } else {
                guest->qemu_log_path = domain_log_path(guest->name);
        }
        append =
            g_strjoin(" ", "console=ttyS0 quiet panic=-1",
                      options->virtio_mem_bytes != 0 ? "memhp_default_state=online_movable" : "",
                      options->kernel_args != NULL ? options->kernel_args : "", NULL);

        start_us = g_get_monotonic_time();
        if (guest->libvirt_uri == NULL) {
                if (!guest_spawn_qemu(guest, qemu, kernel, initrd, append, memory_bytes,
                                      options->incoming || options->migrates, options->no_balloon,
                                      options->virtio_mem_bytes, error))
                        return NULL;
                guest->workload_fd = connect_unix(guest->workload_path, error);
        } else {
                if (!guest_create_domain(guest, options, kernel, initrd, append, memory_bytes,
                                         error))
                        return NULL;
                /* QEMU starts now: libvirt's own start-up is not the guest's boot. */
                start_us = g_get_monotonic_time();
                guest->workload_fd =
                    workload_connect_retry(guest, start_us + boot_timeout_us, error);
        }
        if (guest->workload_fd < 0)
                return NULL;
        if (guest->incoming_uri != NULL) {
                if (!incoming_wait_listening(guest, start_us + boot_timeout_us, error))
                        return NULL;
                g_debug("guest '%s' waits for a migration on '%s'", guest->name,
                        guest->incoming_uri);
                return g_steal_pointer(&guest);
        }
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
 * Return: (transfer none) the socket path; NULL in libvirt mode (libvirt
 *         holds QEMU's monitor)
 */
const char *
vt_test_guest_get_qmp_path(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->qmp_path;
}

/**
 * vt_test_guest_get_libvirt_uri() - The connection a libvirt-mode guest runs under.
 * @guest: the guest
 *
 * Return: (transfer none) the URI; NULL in direct mode
 */
const char *
vt_test_guest_get_libvirt_uri(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->libvirt_uri;
}

/**
 * vt_test_guest_get_monitor_path() - A second QMP monitor of QEMU's.
 * @guest: the guest
 *
 * For a test that asks QEMU itself while a client under test (vmtided)
 * holds the socket of vt_test_guest_get_qmp_path(). One client at a time.
 *
 * Return: (transfer none) the socket path; NULL in libvirt mode
 */
const char *
vt_test_guest_get_monitor_path(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->monitor_path;
}

/**
 * vt_test_guest_get_agent_path() - Host end of the org.vmtide.agent.0 port.
 * @guest: the guest
 *
 * Return: (transfer none) the socket path; NULL in libvirt mode (libvirt
 *         chose the path: it is in the domain XML's channel element)
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
 * vt_test_guest_get_libvirt_name() - The libvirt domain's name, in libvirt mode.
 * @guest: the guest
 *
 * Return: (transfer none) the domain name (the guest's name), or NULL if
 *         QEMU was spawned directly
 */
const char *
vt_test_guest_get_libvirt_name(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->libvirt_uri != NULL ? guest->name : NULL;
}

/**
 * vt_test_guest_get_pid() - QEMU's pid (for /proc/<pid>/ksm_stat and the like).
 * @guest: the guest
 *
 * In libvirt mode it is libvirtd's QEMU, read from libvirt's pidfile.
 *
 * Return: the pid; it may have been reaped (or, in libvirt mode, have
 *         exited) after vt_test_guest_kill()
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
                        g_autofree char *console_tail =
                            file_tail(guest->console_path, LOG_TAIL_BYTES);

                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "no reply from the workload of guest '%s' to '%s' in time\n"
                                    "--- guest console (tail):\n%s",
                                    guest->name, command, console_tail);
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
 * vt_test_guest_get_incoming_uri() - Where a guest started with options->incoming listens.
 * @guest: the guest
 *
 * Return: (transfer none) `unix:<dir>/incoming.sock` (QEMU listens on it
 *         once vt_test_guest_start() returned), or NULL for a guest that boots
 */
const char *
vt_test_guest_get_incoming_uri(VtTestGuest *guest)
{
        g_return_val_if_fail(guest != NULL, NULL);
        return guest->incoming_uri;
}

/**
 * vt_test_guest_wait_exit() - Wait until QEMU exits on its own, and reap it.
 * @guest: the guest
 * @timeout_us: how long to wait; 0 only looks
 *
 * For a QEMU told to quit (e.g. the source of a completed migration).
 * vt_test_guest_workload() fails once it exited.
 *
 * Return: TRUE if QEMU has exited (then reaped), FALSE if still running
 */
gboolean
vt_test_guest_wait_exit(VtTestGuest *guest, gint64 timeout_us)
{
        g_return_val_if_fail(guest != NULL, FALSE);
        if (guest->pid == 0 || guest->reaped)
                return TRUE;
        if (guest->pidfd < 0 || !qemu_wait_exit(guest, g_get_monotonic_time() + timeout_us))
                return FALSE;
        guest_reap(guest);
        return TRUE;
}

/**
 * guest_destroy_domain() - Libvirt mode: destroy the domain, or kill its QEMU, and wait.
 * @guest: the guest
 *
 * Opens a fresh connection (libvirtd may have been restarted since the
 * start). If libvirtd does not answer or the destroy fails, SIGKILLs QEMU
 * through its pidfd: libvirtd notices when it comes back. Removes the
 * domain's libvirt log once the domain is gone.
 */
static void
guest_destroy_domain(VtTestGuest *guest)
{
        g_autoptr(GError) error = NULL;
        virConnectPtr conn;
        gboolean destroyed = FALSE;

        if (guest->libvirt_uuid[0] == '\0')
                return;
        conn = vt_test_libvirt_connect(guest->libvirt_uri, &error);
        if (conn != NULL) {
                virDomainPtr domain = virDomainLookupByUUIDString(conn, guest->libvirt_uuid);

                /* Not found: it is gone already. */
                destroyed = domain == NULL || virDomainIsActive(domain) == 0 ||
                            virDomainDestroy(domain) == 0;
                if (!destroyed)
                        g_debug("guest '%s': cannot destroy the domain: %s", guest->name,
                                virGetLastErrorMessage());
                if (domain != NULL)
                        virDomainFree(domain);
                virConnectClose(conn);
        } else {
                g_debug("guest '%s': %s", guest->name, error->message);
        }
        if (!destroyed && guest->pidfd >= 0 && !qemu_wait_exit(guest, 0) &&
            syscall(SYS_pidfd_send_signal, guest->pidfd, SIGKILL, NULL, 0) < 0)
                g_debug("guest '%s': cannot kill QEMU pid %d: %s", guest->name, (int)guest->pid,
                        g_strerror(errno));
        guest_reap(guest);
        if (g_unlink(guest->qemu_log_path) < 0 && errno != ENOENT)
                g_debug("cannot remove '%s': %s", guest->qemu_log_path, g_strerror(errno));
        guest->libvirt_uuid[0] = '\0';
}

/**
 * vt_test_guest_kill() - SIGKILL QEMU and reap it. Idempotent.
 * @guest: the guest
 *
 * In libvirt mode: destroy the domain (virDomainDestroy() through a fresh
 * connection; if libvirtd does not answer, SIGKILL QEMU) and wait for QEMU
 * to exit. The temp dir stays until vt_test_guest_free();
 * vt_test_guest_workload() fails from now on.
 */
void
vt_test_guest_kill(VtTestGuest *guest)
{
        g_return_if_fail(guest != NULL);

        if (guest->libvirt_uri != NULL)
                guest_destroy_domain(guest);
        else if (guest->pid != 0 && !guest->reaped)
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
 * vt_test_guest_free() - Kill QEMU if still running, reap it, remove the temp dir.
 * @guest: (nullable) the guest
 *
 * In libvirt mode the domain is destroyed first (see vt_test_guest_kill()).
 */
void
vt_test_guest_free(VtTestGuest *guest)
{
        if (guest == NULL)
                return;
        vt_test_guest_kill(guest);
        if (guest->dir != NULL)
                vt_test_owned_dir_remove(guest->dir);
        g_string_free(guest->rbuf, TRUE);
        g_free(guest->name);
        g_free(guest->libvirt_uri);
        g_free(guest->dir);
        g_free(guest->qmp_path);
        g_free(guest->monitor_path);
        g_free(guest->agent_path);
        g_free(guest->workload_path);
        g_free(guest->console_path);
        g_free(guest->qemu_log_path);
        g_free(guest->incoming_uri);
        g_free(guest);
}
