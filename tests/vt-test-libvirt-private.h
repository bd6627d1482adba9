/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirtd harness's daemons, shared by vt-test-libvirt.c and vt-test-libvirt-peer.c. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define VT_TEST_LIBVIRTD_PATH   "/usr/sbin/libvirtd"
#define VT_TEST_VIRTLOGD_PATH   "/usr/sbin/virtlogd"
#define VT_TEST_LIBVIRT_N_BINDS 5

/*
 * What a daemon's process does before exec. Prepared in the parent: the
 * child may only make async-signal-safe calls. A daemon with @kvm_dir or
 * binds gets a mount namespace of its own.
 */
typedef struct {
        pid_t parent;   /* the spawning process */
        char *kvm_dir;  /* NULL: leave /dev/kvm alone; else a dir for the tmpfs */
        char *kvm_node; /* the node to create in it */
        dev_t kvm_rdev; /* /dev/kvm's device number */
        gid_t kvm_gid;  /* the group to give it */
        /* bind mounts, in order: @bind_src[i] on @bind_dst[i]; one that
         * fails ends the child (exit 126) */
        char *bind_src[VT_TEST_LIBVIRT_N_BINDS];
        const char *bind_dst[VT_TEST_LIBVIRT_N_BINDS];
        int n_binds;
} VtTestLibvirtChild;

/* A daemon the harness spawned. */
typedef struct {
        const char *name;         /* for messages: "libvirtd" */
        const char *path;         /* the executable */
        char *args[4];            /* more arguments, NULL-terminated */
        char *log_path;           /* its stdout and stderr, appended to */
        VtTestLibvirtChild setup; /* for its process */
        GPid pid;                 /* 0: not running (or never started) */
        int pidfd;                /* readable once it exits; -1 when pid is 0 */
} VtTestLibvirtDaemon;

/* Whether a daemon answers at @where (a libvirt URI, a socket path). */
typedef gboolean (*VtTestLibvirtAnswers)(const char *where);

gboolean vt_test_libvirt_uri_answers(const char *uri);
gboolean vt_test_libvirt_socket_answers(const char *path);
gboolean vt_test_libvirt_kvm_closed(dev_t *ret_rdev, gid_t *ret_gid);
char *vt_test_libvirt_file_tail(const char *path, gsize max_bytes);
gboolean vt_test_libvirt_daemon_spawn(VtTestLibvirtDaemon *daemon, GError **error);
gboolean vt_test_libvirt_daemon_wait_exit(VtTestLibvirtDaemon *daemon, int timeout_ms);
gboolean vt_test_libvirt_daemon_stop(VtTestLibvirtDaemon *daemon, GError **error);
void vt_test_libvirt_daemon_kill(VtTestLibvirtDaemon *daemon);
gboolean vt_test_libvirt_daemon_wait_ready(VtTestLibvirtDaemon *daemon,
                                           VtTestLibvirtAnswers answers, const char *where,
                                           GError **error);
void vt_test_libvirt_daemon_clear(VtTestLibvirtDaemon *daemon);

G_END_DECLS
