/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Temp dirs of the test launchers, owned by their process and reaped once it is gone. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *vt_test_owned_dir_new(const char *prefix, const char *name, GError **error);
void vt_test_owned_dir_remove(const char *path);

G_END_DECLS
