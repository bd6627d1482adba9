/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An asynchronous QMP client on the GLib main loop. */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

#include "qmp/qmp-channel.h"
#include "qmp/qmp-error.h"
#include "qmp/qmp-message.h"

G_BEGIN_DECLS

/* Default timeout of a command, and of connect + greeting + negotiation. */
#define VT_QMP_CLIENT_DEFAULT_TIMEOUT_US (10 * G_USEC_PER_SEC)

/*
 * The default budget of a QMP peer (docs/qmp.md): what QEMU may make the
 * client read. QEMU's own traffic (replies of a few KiB at most, events
 * at a few a second, a migration's included) stays far under the rate;
 * the burst lets the largest message through at once.
 */
#define VT_QMP_CLIENT_BUDGET_MAX_READ    (64u * 1024)
#define VT_QMP_CLIENT_BUDGET_RATE        (256u * 1024) /* bytes a second */
#define VT_QMP_CLIENT_BUDGET_BURST       (2u * 1024 * 1024)
#define VT_QMP_CLIENT_BUDGET_OVERHEAD    1024 /* bytes charged per read and message */
#define VT_QMP_CLIENT_BUDGET_MAX_OVER_US (30 * G_USEC_PER_SEC)

#define VT_TYPE_QMP_CLIENT (vt_qmp_client_get_type())
G_DECLARE_FINAL_TYPE(VtQmpClient, vt_qmp_client, VT, QMP_CLIENT, GObject)

VtQmpClient *vt_qmp_client_new(void);

void vt_qmp_client_set_timeout(VtQmpClient *client, gint64 timeout_us);
void vt_qmp_client_set_max_message(VtQmpClient *client, gsize max_message);
void vt_qmp_client_set_budget(VtQmpClient *client, const VtQmpChannelBudget *budget);

GSocketConnectable *vt_qmp_address_parse(const char *address, GError **error);

void vt_qmp_client_connect_async(VtQmpClient *client, const char *address,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_qmp_client_connect_finish(VtQmpClient *client, GAsyncResult *result, GError **error);

void vt_qmp_client_execute_async(VtQmpClient *client, const char *command, json_object *arguments,
                                 gint64 timeout_us, GAsyncReadyCallback callback,
                                 gpointer user_data);
json_object *vt_qmp_client_execute_finish(VtQmpClient *client, GAsyncResult *result,
                                          GError **error);

void vt_qmp_client_close(VtQmpClient *client);
gboolean vt_qmp_client_is_connected(VtQmpClient *client);
const VtQmpGreeting *vt_qmp_client_get_greeting(VtQmpClient *client);
GMainContext *vt_qmp_client_get_context(VtQmpClient *client);
GPid vt_qmp_client_get_peer_pid(VtQmpClient *client);
guint vt_qmp_client_get_n_pending(VtQmpClient *client);
guint64 vt_qmp_client_get_n_dropped(VtQmpClient *client);
void vt_qmp_client_get_stats(VtQmpClient *client, VtQmpChannelStats *ret_stats);

G_END_DECLS
