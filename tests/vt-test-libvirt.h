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

G_END_DECLS
