/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small text helpers of the memory sensors: bounded reads under a root, and pure parsers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Larger than /proc/vmstat (about 4 KiB on 6.18) and any meminfo: a bound on what is read. */
#define VT_HOST_TEXT_MAX (64 * 1024)

char *vt_host_text_read(const char *root, const char *rel);
gboolean vt_host_text_read_u64(const char *root, const char *rel, guint64 *ret_value);

gboolean vt_host_text_parse_u64(const char *text, guint64 *ret_value);
gboolean vt_host_text_get_u64(const char *text, const char *key, guint64 *ret_value);
gboolean vt_host_text_get_kib(const char *text, const char *key, guint64 *ret_bytes);
gboolean vt_host_text_selected(const char *text, char *buf, gsize size);

G_END_DECLS
