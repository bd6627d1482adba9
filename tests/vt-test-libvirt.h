/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A libvirtd for the integration tests: the host's if it answers, else one the harness runs. */

#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/**
 * VtTestLibvirt - Access to qemu:///system for a test process (opaque).
 *
 * Either the host's running libvirtd (left alone) or a libvirtd (and, if
 * needed, a virtlogd) that this harness spawned and stops again.
 */
typedef struct _VtTestLibvirt VtTestLibvirt;

gboolean vt_test_libvirt_available(char **ret_reason);

VtTestLibvirt *vt_test_libvirt_ensure(GError **error);

gboolean vt_test_libvirt_owns_daemon(VtTestLibvirt *lv);
gboolean vt_test_libvirt_stop_daemon(VtTestLibvirt *lv, GError **error);
gboolean vt_test_libvirt_start_daemon(VtTestLibvirt *lv, GError **error);
const char *vt_test_libvirt_get_uri(VtTestLibvirt *lv);
char *vt_test_libvirt_read_log(VtTestLibvirt *lv);

virConnectPtr vt_test_libvirt_connect(const char *uri, GError **error);

void vt_test_libvirt_free(VtTestLibvirt *lv);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtTestLibvirt, vt_test_libvirt_free)

/**
 * VtTestLibvirtPeer - A second libvirtd on this machine, a "host" of its own (opaque).
 *
 * Its own host UUID, its own /etc/libvirt (the host's *.conf files),
 * /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt
 * (bind mounts in a mount namespace of its own, onto dirs of a temp dir
 * `vt-test-lvpeer-XXXXXX`), its own virtlogd. Reached at
 * `qemu+unix:///system?socket=DIR/run/libvirt-sock`: libvirt migrates to
 * it peer-to-peer, the stream over a Unix socket in DIR.
 */
typedef struct _VtTestLibvirtPeer VtTestLibvirtPeer;

VtTestLibvirtPeer *vt_test_libvirt_peer_start(GError **error);
const char *vt_test_libvirt_peer_get_uri(VtTestLibvirtPeer *peer);
const char *vt_test_libvirt_peer_get_host_uuid(VtTestLibvirtPeer *peer);
char *vt_test_libvirt_peer_migrate_uri(VtTestLibvirtPeer *peer, const char *name);
char *vt_test_libvirt_peer_host_path(VtTestLibvirtPeer *peer, const char *path);
gboolean vt_test_libvirt_peer_kill_daemon(VtTestLibvirtPeer *peer);
gboolean vt_test_libvirt_peer_start_daemon(VtTestLibvirtPeer *peer, GError **error);
char *vt_test_libvirt_peer_read_log(VtTestLibvirtPeer *peer);
void vt_test_libvirt_peer_free(VtTestLibvirtPeer *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtTestLibvirtPeer, vt_test_libvirt_peer_free)

G_END_DECLS
