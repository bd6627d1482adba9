/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A second libvirtd on this machine for the migration tests: a "host" of its own. */

/*
 * Theory of operation
 *
 * libvirt refuses to migrate a domain to "the same host": it compares the
 * host UUIDs of both ends. A second libvirtd becomes another host with its
 * own `host_uuid` (its own libvirtd.conf) and with its own everything that
 * a libvirtd keeps on disk, so that the two never meet: its sockets and
 * QEMU pid files (/run/libvirt), domain state and channel sockets
 * (/var/lib/libvirt), capabilities cache (/var/cache/libvirt), QEMU logs
 * (/var/log/libvirt, through its own virtlogd) and configuration
 * (/etc/libvirt: the host's top-level *.conf files only, so no defined
 * domain, network or autostart of the host's comes along). Each of these
 * is a dir of the temp dir `vt-test-lvpeer-XXXXXX`, bind-mounted over the
 * real path in a mount namespace of the daemon's own (unshare(CLONE_NEWNS)
 * in the child, mounts private, so nothing is seen or left on the host;
 * the namespace ends with its last process). libvirtd's pid file
 * (/run/libvirtd.pid, outside /run/libvirt) is moved into the temp dir by
 * `-p`. virtlogd gets the same mounts, so the two meet at
 * DIR/run/virtlogd-sock. QEMU, which libvirtd runs as root in the test
 * domains, inherits the namespace: its paths outside those dirs (the
 * kernel in the build tree, the test guest's dir in $TMPDIR) are the
 * host's.
 *
 * The peer's QEMU uses no cgroup controller (`cgroup_controllers = [ ]`
 * in its qemu.conf): with no systemd here libvirt names a domain's cgroup
 * after its id and name, and the same domain on both daemons could get
 * the same id, one cgroup for two QEMU processes.
 *
 * From the test's side, the peer's sockets are under DIR/run (its URI is
 * `qemu+unix:///system?socket=DIR/run/libvirt-sock`), and a path libvirt
 * reports for one of its domains (an agent channel under
 * /var/lib/libvirt/qemu/channel) is found with
 * vt_test_libvirt_peer_host_path(). A migration's stream goes over a Unix
 * socket in DIR (vt_test_libvirt_peer_migrate_uri()), where both the
 * source's QEMU and the peer's see it.
 *
 * Ending: the peer's domains are destroyed, then libvirtd and virtlogd are
 * stopped by pid; a QEMU left by a killed libvirtd (its pid file in
 * DIR/run/qemu) is SIGKILLed; the dir is removed. Both daemons die with the
 * test (PR_SET_PDEATHSIG); the QEMU of a crashed test's peer is killed by
 * the next vt_test_libvirt_peer_start(), before it removes that dir.
 */

#define G_LOG_DOMAIN "vt-test-libvirt"

#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vt-test-libvirt-private.h"
#include "vt-test-libvirt.h"
#include "vt-test-tmpdir.h"

#define PEER_PREFIX    "vt-test-lvpeer-"
#define OWNER_FILE     "owner.pid"
#define ETC_DIR        "/etc/libvirt"
#define KILL_GUARD_MS  10000
#define LOG_TAIL_BYTES 4096

/* Each private dir of the peer: DIR/<sub> on <path>. */
static const struct {
        const char *sub;
        const char *path;
} peer_dirs[VT_TEST_LIBVIRT_N_BINDS] = {
    {"etc", "/etc/libvirt"},         {"run", "/run/libvirt"},     {"lib", "/var/lib/libvirt"},
    {"cache", "/var/cache/libvirt"}, {"log", "/var/log/libvirt"},
};

struct _VtTestLibvirtPeer {
        char *dir;
        char *uri;
        char host_uuid[VIR_UUID_STRING_BUFLEN];
        VtTestLibvirtDaemon libvirtd;
        VtTestLibvirtDaemon virtlogd;
};

/* Kills the QEMU processes whose pid files are in @run_dir/qemu. */
static void
peer_kill_qemus(const char *run_dir)
{
        g_autofree char *qemu_dir = g_build_filename(run_dir, "qemu", NULL);
        g_autoptr(GDir) dir = g_dir_open(qemu_dir, 0, NULL);
        const char *entry;

        while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
                g_autofree char *path = g_build_filename(qemu_dir, entry, NULL);
                g_autofree char *contents = NULL;
                g_autofree char *exe_link = NULL;
                g_autofree char *exe = NULL;
                struct pollfd pfd = {.events = POLLIN};
                guint64 pid;

                if (!g_str_has_suffix(entry, ".pid") ||
                    !g_file_get_contents(path, &contents, NULL, NULL) ||
                    !g_ascii_string_to_unsigned(g_strstrip(contents), 10, 1, G_MAXINT, &pid, NULL))
                        continue;
                exe_link = g_strdup_printf("/proc/%d/exe", (int)pid);
                exe = g_file_read_link(exe_link, NULL);
                /* Only a QEMU: a pid file may outlive its process. */
                if (exe == NULL || strstr(exe, "qemu-system") == NULL)
                        continue;
                pfd.fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
                if (pfd.fd < 0)
                        continue;
                g_debug("peer: killing QEMU %d left by its libvirtd ('%s')", (int)pid, path);
                (void)syscall(SYS_pidfd_send_signal, pfd.fd, SIGKILL, NULL, 0);
                while (poll(&pfd, 1, KILL_GUARD_MS) < 0 && errno == EINTR)
                        ;
                close(pfd.fd);
        }
}

/* Kills the QEMU of peers whose test died, before their dirs go. */
static void
peer_reap_orphans(void)
{
        g_autoptr(GDir) tmp = g_dir_open(g_get_tmp_dir(), 0, NULL);
        const char *entry;

        while (tmp != NULL && (entry = g_dir_read_name(tmp)) != NULL) {
                g_autofree char *dir = NULL;
                g_autofree char *owner_path = NULL;
                g_autofree char *owner = NULL;
                g_autofree char *run_dir = NULL;
                gint64 pid;

                if (!g_str_has_prefix(entry, PEER_PREFIX))
                        continue;
                dir = g_build_filename(g_get_tmp_dir(), entry, NULL);
                owner_path = g_build_filename(dir, OWNER_FILE, NULL);
                if (!g_file_get_contents(owner_path, &owner, NULL, NULL))
                        continue;
                pid = g_ascii_strtoll(owner, NULL, 10);
                if (pid <= 0 || pid > G_MAXINT || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                run_dir = g_build_filename(dir, "run", NULL);
                peer_kill_qemus(run_dir);
        }
}

/* The host's top-level configuration files into @etc, with the peer's
 * host UUID and no cgroup controller. */
static gboolean
peer_write_config(VtTestLibvirtPeer *peer, const char *etc, GError **error)
{
        g_autoptr(GDir) dir = g_dir_open(ETC_DIR, 0, error);
        g_autofree char *libvirtd_conf = g_build_filename(etc, "libvirtd.conf", NULL);
        g_autofree char *qemu_conf = g_build_filename(etc, "qemu.conf", NULL);
        g_autofree char *conf = NULL;
        g_autofree char *qemu = NULL;
        g_autofree char *text = NULL;
        const char *entry;

        if (dir == NULL)
                return FALSE;
        while ((entry = g_dir_read_name(dir)) != NULL) {
                g_autofree char *from = g_build_filename(ETC_DIR, entry, NULL);
                g_autofree char *to = g_build_filename(etc, entry, NULL);
                g_autofree char *contents = NULL;
                gsize len;

                if (!g_str_has_suffix(entry, ".conf") || !g_file_test(from, G_FILE_TEST_IS_REGULAR))
                        continue;
                if (!g_file_get_contents(from, &contents, &len, error) ||
                    !g_file_set_contents(to, contents, (gssize)len, error))
                        return FALSE;
        }
        (void)g_file_get_contents(libvirtd_conf, &conf, NULL, NULL);
        (void)g_file_get_contents(qemu_conf, &qemu, NULL, NULL);
        text = g_strdup_printf("%s\n# vt-test-libvirt-peer: another host\nhost_uuid = \"%s\"\n",
                               conf != NULL ? conf : "", peer->host_uuid);
        if (!g_file_set_contents(libvirtd_conf, text, -1, error))
                return FALSE;
        g_free(text);
        text = g_strdup_printf("%s\n# vt-test-libvirt-peer: no cgroup shared with the first "
                               "libvirtd\ncgroup_controllers = [ ]\n",
                               qemu != NULL ? qemu : "");
        return g_file_set_contents(qemu_conf, text, -1, error);
}

/* The peer's dirs, configuration and daemons' descriptions. */
static gboolean
peer_prepare(VtTestLibvirtPeer *peer, GError **error)
{
        VtTestLibvirtDaemon *daemons[] = {&peer->libvirtd, &peer->virtlogd};
        g_autofree char *etc = g_build_filename(peer->dir, "etc", NULL);
        dev_t kvm_rdev;
        gid_t kvm_gid;
        gboolean kvm_closed = vt_test_libvirt_kvm_closed(&kvm_rdev, &kvm_gid);

        for (guint i = 0; i < G_N_ELEMENTS(peer_dirs); i++) {
                g_autofree char *sub = g_build_filename(peer->dir, peer_dirs[i].sub, NULL);
                g_autofree char *qemu = g_build_filename(sub, "qemu", NULL);

                if (g_mkdir_with_parents(qemu, 0755) < 0 ||
                    g_mkdir_with_parents(peer_dirs[i].path, 0755) < 0) {
                        int saved_errno = errno;

                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                                    "cannot create '%s' or '%s': %s", qemu, peer_dirs[i].path,
                                    g_strerror(saved_errno));
                        return FALSE;
                }
        }
        if (!peer_write_config(peer, etc, error))
                return FALSE;

        peer->libvirtd.name = "peer libvirtd";
        peer->libvirtd.path = VT_TEST_LIBVIRTD_PATH;
        peer->virtlogd.name = "peer virtlogd";
        peer->virtlogd.path = VT_TEST_VIRTLOGD_PATH;
        peer->libvirtd.args[0] = g_strdup("-p");
        peer->libvirtd.args[1] = g_build_filename(peer->dir, "libvirtd.pid", NULL);
        peer->virtlogd.args[0] = g_strdup("-p");
        peer->virtlogd.args[1] = g_build_filename(peer->dir, "virtlogd.pid", NULL);
        peer->libvirtd.log_path = g_build_filename(peer->dir, "libvirtd.log", NULL);
        peer->virtlogd.log_path = g_build_filename(peer->dir, "virtlogd.log", NULL);
        for (guint d = 0; d < G_N_ELEMENTS(daemons); d++) {
                VtTestLibvirtChild *setup = &daemons[d]->setup;

                for (guint i = 0; i < G_N_ELEMENTS(peer_dirs); i++) {
                        setup->bind_src[i] = g_build_filename(peer->dir, peer_dirs[i].sub, NULL);
                        setup->bind_dst[i] = peer_dirs[i].path;
                }
                setup->n_binds = G_N_ELEMENTS(peer_dirs);
        }
        /* As for the first libvirtd (vt-test-libvirt.c): a /dev/kvm libvirt-qemu can open. */
        if (kvm_closed) {
                VtTestLibvirtChild *setup = &peer->libvirtd.setup;

                setup->kvm_dir = g_build_filename(peer->dir, "dev", NULL);
                setup->kvm_node = g_build_filename(setup->kvm_dir, "kvm", NULL);
                setup->kvm_rdev = kvm_rdev;
                setup->kvm_gid = kvm_gid;
                if (g_mkdir(setup->kvm_dir, 0700) < 0) {
                        int saved_errno = errno;

                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                                    "cannot create '%s': %s", setup->kvm_dir,
                                    g_strerror(saved_errno));
                        return FALSE;
                }
        }
        return TRUE;
}

/**
 * vt_test_libvirt_peer_start() - Start a second libvirtd (and its virtlogd) as another host.
 * @error: return location for a GError
 *
 * See #VtTestLibvirtPeer. Needs what vt_test_libvirt_available() needs;
 * call it from the test's main thread (the daemons die with it). Waits at
 * most 30 s for each daemon to answer. A libvirtd the host runs is not
 * touched.
 *
 * Return: the peer (transfer full, vt_test_libvirt_peer_free()), or NULL
 *         with @error set (with the daemon's log); nothing is left running
 */
VtTestLibvirtPeer *
vt_test_libvirt_peer_start(GError **error)
{
        g_autoptr(VtTestLibvirtPeer) peer = g_new0(VtTestLibvirtPeer, 1);
        g_autofree char *virtlogd_socket = NULL;
        unsigned char uuid[VIR_UUID_BUFLEN];

        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        peer->libvirtd.pidfd = -1;
        peer->virtlogd.pidfd = -1;
        peer_reap_orphans();
        peer->dir = vt_test_owned_dir_new(PEER_PREFIX, NULL, error);
        if (peer->dir == NULL)
                return NULL;
        /* A random (version 4) UUID: another host than any. */
        for (guint i = 0; i < sizeof(uuid); i++)
                uuid[i] = (unsigned char)g_random_int_range(0, 256);
        uuid[6] = (unsigned char)((uuid[6] & 0x0f) | 0x40);
        uuid[8] = (unsigned char)((uuid[8] & 0x3f) | 0x80);
        g_snprintf(peer->host_uuid, sizeof(peer->host_uuid),
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
                   uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
                   uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
        peer->uri = g_strdup_printf("qemu+unix:///system?socket=%s/run/libvirt-sock", peer->dir);
        if (!peer_prepare(peer, error))
                return NULL;
        virtlogd_socket = g_build_filename(peer->dir, "run", "virtlogd-sock", NULL);
        if (!vt_test_libvirt_daemon_spawn(&peer->virtlogd, error) ||
            !vt_test_libvirt_daemon_wait_ready(&peer->virtlogd, vt_test_libvirt_socket_answers,
                                               virtlogd_socket, error) ||
            !vt_test_libvirt_peer_start_daemon(peer, error))
                return NULL;
        g_debug("peer libvirtd at '%s', host UUID %s", peer->uri, peer->host_uuid);
        return g_steal_pointer(&peer);
}

/**
 * vt_test_libvirt_peer_get_uri() - The peer's connection URI.
 * @peer: the peer
 *
 * Return: (transfer none) `qemu+unix:///system?socket=DIR/run/libvirt-sock`,
 *         for a connection and as the peer of a peer-to-peer migration
 */
const char *
vt_test_libvirt_peer_get_uri(VtTestLibvirtPeer *peer)
{
        g_return_val_if_fail(peer != NULL, NULL);
        return peer->uri;
}

/**
 * vt_test_libvirt_peer_get_host_uuid() - The peer's `host_uuid`.
 * @peer: the peer
 *
 * Return: (transfer none) the UUID string
 */
const char *
vt_test_libvirt_peer_get_host_uuid(VtTestLibvirtPeer *peer)
{
        g_return_val_if_fail(peer != NULL, NULL);
        return peer->host_uuid;
}

/**
 * vt_test_libvirt_peer_migrate_uri() - A migration stream's URI for the peer.
 * @peer: the peer
 * @name: what names the socket, e.g. the domain's name
 *
 * The peer's QEMU listens on this Unix socket in the peer's dir, where the
 * source's QEMU reaches it (VIR_MIGRATE_PARAM_URI, `virsh migrate
 * --migrateuri`).
 *
 * Return: (transfer full) `unix://DIR/NAME.migrate`
 */
char *
vt_test_libvirt_peer_migrate_uri(VtTestLibvirtPeer *peer, const char *name)
{
        g_return_val_if_fail(peer != NULL, NULL);
        g_return_val_if_fail(name != NULL, NULL);
        return g_strdup_printf("unix://%s/%s.migrate", peer->dir, name);
}

/**
 * vt_test_libvirt_peer_host_path() - Where the test finds a path of the peer's namespace.
 * @peer: the peer
 * @path: an absolute path as the peer's libvirtd and QEMU see it (e.g. an
 *        agent channel's socket from its domain XML)
 *
 * Return: (transfer full) the same file as this process sees it: under
 *         the peer's dir for its private dirs, else @path
 */
char *
vt_test_libvirt_peer_host_path(VtTestLibvirtPeer *peer, const char *path)
{
        g_return_val_if_fail(peer != NULL, NULL);
        g_return_val_if_fail(path != NULL, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(peer_dirs); i++) {
                gsize len = strlen(peer_dirs[i].path);

                if (strncmp(path, peer_dirs[i].path, len) == 0 &&
                    (path[len] == '/' || path[len] == '\0'))
                        return g_strconcat(peer->dir, "/", peer_dirs[i].sub, path + len, NULL);
        }
        return g_strdup(path);
}

/**
 * vt_test_libvirt_peer_kill_daemon() - SIGKILL the peer's libvirtd: a host dying mid-way.
 * @peer: the peer
 *
 * Its QEMU processes run on; virtlogd stays. vt_test_libvirt_peer_start_daemon()
 * starts it again, which reconnects to them (or ends those it cannot).
 *
 * Return: TRUE if it was running
 */
gboolean
vt_test_libvirt_peer_kill_daemon(VtTestLibvirtPeer *peer)
{
        gboolean running;

        g_return_val_if_fail(peer != NULL, FALSE);
        running = peer->libvirtd.pid != 0;
        vt_test_libvirt_daemon_kill(&peer->libvirtd);
        return running;
}

/**
 * vt_test_libvirt_peer_start_daemon() - Start the peer's libvirtd (again) and wait until it
 * answers.
 * @peer: the peer
 * @error: return location for a GError
 *
 * Does nothing if it runs. Waits at most 30 s.
 *
 * Return: TRUE once it answers, else FALSE with @error set (with its log)
 */
gboolean
vt_test_libvirt_peer_start_daemon(VtTestLibvirtPeer *peer, GError **error)
{
        g_return_val_if_fail(peer != NULL, FALSE);
        g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

        if (peer->libvirtd.pid != 0)
                return TRUE;
        return vt_test_libvirt_daemon_spawn(&peer->libvirtd, error) &&
               vt_test_libvirt_daemon_wait_ready(&peer->libvirtd, vt_test_libvirt_uri_answers,
                                                 peer->uri, error);
}

/**
 * vt_test_libvirt_peer_read_log() - The peer's libvirtd log, for failure messages.
 * @peer: the peer
 *
 * Return: (transfer full) its tail (the last 4 KiB), "" if none
 */
char *
vt_test_libvirt_peer_read_log(VtTestLibvirtPeer *peer)
{
        g_return_val_if_fail(peer != NULL, NULL);
        return vt_test_libvirt_file_tail(peer->libvirtd.log_path, LOG_TAIL_BYTES);
}

/* Destroys every domain the peer runs, if it answers. */
static void
peer_destroy_domains(VtTestLibvirtPeer *peer)
{
        virConnectPtr conn;
        virDomainPtr *domains = NULL;
        int n;

        if (peer->libvirtd.pid == 0)
                return;
        conn = vt_test_libvirt_connect(peer->uri, NULL);
        if (conn == NULL)
                return;
        n = virConnectListAllDomains(conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        for (int i = 0; i < n; i++) {
                if (virDomainDestroy(domains[i]) < 0)
                        g_debug("peer: cannot destroy domain '%s': %s",
                                virDomainGetName(domains[i]), virGetLastErrorMessage());
                virDomainFree(domains[i]);
        }
        free(domains);
        virConnectClose(conn);
}

/**
 * vt_test_libvirt_peer_free() - Destroy the peer's domains, stop its daemons, remove its dir.
 * @peer: (nullable) the peer
 *
 * Daemons are stopped by pid (SIGTERM, then SIGKILL); a QEMU left by a
 * killed libvirtd is SIGKILLed by the pid in its pid file. Its mount
 * namespaces end with their processes.
 */
void
vt_test_libvirt_peer_free(VtTestLibvirtPeer *peer)
{
        g_autoptr(GError) error = NULL;

        if (peer == NULL)
                return;
        peer_destroy_domains(peer);
        if (!vt_test_libvirt_daemon_stop(&peer->libvirtd, &error)) {
                g_message("%s", error->message);
                g_clear_error(&error);
        }
        if (!vt_test_libvirt_daemon_stop(&peer->virtlogd, &error))
                g_message("%s", error->message);
        if (peer->dir != NULL) {
                g_autofree char *run_dir = g_build_filename(peer->dir, "run", NULL);

                peer_kill_qemus(run_dir);
                vt_test_owned_dir_remove(peer->dir);
        }
        vt_test_libvirt_daemon_clear(&peer->libvirtd);
        vt_test_libvirt_daemon_clear(&peer->virtlogd);
        g_free(peer->uri);
        g_free(peer->dir);
        g_free(peer);
}
