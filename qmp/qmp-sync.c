/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Blocking calls on top of the asynchronous QMP client, for the CLI.
 *
 * A synchronous client runs on a main context of its own: each call makes
 * that context thread-default, starts the asynchronous operation and
 * iterates the context until it completes. The client's own timeouts bound
 * every wait, so a silent peer cannot block the caller forever.
 */
#include "qmp/qmp-sync.h"

static void
sync_on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GAsyncResult **ret_result = user_data;

        *ret_result = g_object_ref(result);
}

static GAsyncResult *
sync_wait(GMainContext *context, GAsyncResult **result)
{
        while (*result == NULL)
                g_main_context_iteration(context, TRUE);
        return *result;
}

/**
 * vt_qmp_client_new_sync:
 * @address: `unix:PATH`, a path, or `tcp:HOST:PORT`
 * @timeout_us: timeout of the handshake and default timeout of commands;
 *     0 for %VT_QMP_CLIENT_DEFAULT_TIMEOUT_US
 * @error: as for vt_qmp_client_connect_finish()
 *
 * Connects on a private main context. Use the client with
 * vt_qmp_client_execute_sync().
 *
 * Returns: (transfer full): a connected client, or %NULL on error
 */
VtQmpClient *
vt_qmp_client_new_sync(const char *address, gint64 timeout_us, GError **error)
{
        g_autoptr(GMainContext) context = g_main_context_new();
        g_autoptr(VtQmpClient) client = NULL;
        g_autoptr(GAsyncResult) result = NULL;
        gboolean ok;

        g_return_val_if_fail(address != NULL, NULL);

        g_main_context_push_thread_default(context);
        client = vt_qmp_client_new();
        if (timeout_us > 0)
                vt_qmp_client_set_timeout(client, timeout_us);
        vt_qmp_client_connect_async(client, address, sync_on_done, &result);
        ok = vt_qmp_client_connect_finish(client, sync_wait(context, &result), error);
        g_main_context_pop_thread_default(context);
        return ok ? g_steal_pointer(&client) : NULL;
}

/**
 * vt_qmp_client_execute_sync:
 * @client: a connected client
 * @command: the QMP command
 * @arguments: (nullable) (transfer none): its arguments, an object
 * @error: as for vt_qmp_client_execute_finish()
 *
 * Runs @command and waits for its reply, at most the client's timeout.
 * Events that arrive meanwhile are emitted as usual. Not for use from the
 * client's own callbacks or signal handlers: the reply could not be read
 * while one of them runs.
 *
 * Returns: (transfer full): the `return` value, or %NULL on error
 */
json_object *
vt_qmp_client_execute_sync(VtQmpClient *client, const char *command, json_object *arguments,
                           GError **error)
{
        g_autoptr(GAsyncResult) result = NULL;
        GMainContext *context;
        json_object *reply;

        g_return_val_if_fail(VT_IS_QMP_CLIENT(client), NULL);

        context = vt_qmp_client_get_context(client);
        g_main_context_push_thread_default(context);
        vt_qmp_client_execute_async(client, command, arguments, 0, sync_on_done, &result);
        reply = vt_qmp_client_execute_finish(client, sync_wait(context, &result), error);
        g_main_context_pop_thread_default(context);
        return reply;
}
