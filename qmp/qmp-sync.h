/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Blocking calls on top of the asynchronous QMP client, for the CLI. */
#pragma once

#include "qmp/qmp-client.h"

G_BEGIN_DECLS

VtQmpClient *vt_qmp_client_new_sync(const char *address, gint64 timeout_us, GError **error);
json_object *vt_qmp_client_execute_sync(VtQmpClient *client, const char *command,
                                        json_object *arguments, GError **error);

G_END_DECLS
