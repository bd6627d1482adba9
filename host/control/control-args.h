/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a control command's arguments, with errors that name the argument. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "host/control/control-server.h"

G_BEGIN_DECLS

gboolean vt_control_args_check(json_object *arguments, const char *const *allowed, GError **error);

const char *vt_control_args_get_string(json_object *arguments, const char *name, GError **error);
gboolean vt_control_args_get_optional_string(json_object *arguments, const char *name,
                                             const char **ret_value, gboolean *ret_present,
                                             GError **error);

gboolean vt_control_args_get_int(json_object *arguments, const char *name, gint64 min, gint64 max,
                                 gint64 *ret_value, GError **error);
gboolean vt_control_args_get_optional_int(json_object *arguments, const char *name, gint64 min,
                                          gint64 max, gint64 *ret_value, gboolean *ret_present,
                                          GError **error);

gboolean vt_control_args_get_bool(json_object *arguments, const char *name, gboolean *ret_value,
                                  GError **error);
gboolean vt_control_args_get_optional_bool(json_object *arguments, const char *name,
                                           gboolean *ret_value, gboolean *ret_present,
                                           GError **error);

gboolean vt_control_args_get_size(json_object *arguments, const char *name, guint64 min,
                                  guint64 max, guint64 *ret_value, GError **error);
gboolean vt_control_args_get_optional_size(json_object *arguments, const char *name, guint64 min,
                                           guint64 max, guint64 *ret_value, gboolean *ret_present,
                                           GError **error);

G_END_DECLS
