/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU process of a local libvirt domain. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean vt_libvirt_cmdline_has_uuid(const char *cmdline, gsize length, const char *uuid);
char *vt_libvirt_pid_dir_for_uri(const char *uri);
GPid vt_libvirt_find_qemu_pid(const char *pid_dir, const char *name, const char *uuid);

G_END_DECLS
