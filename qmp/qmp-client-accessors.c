/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP client's state as its owner reads it (connected, greeting, peer,
 * counters, what the peer made it read) and its settings before connect.
 * The protocol itself is in qmp-client.c.
 */
#include "qmp/qmp-client-private.h"

/**
 * vt_qmp_client_is_connected:
 * @client: a client
 *
 * Returns: %TRUE while the client is ready for commands
 */
gboolean
vt_qmp_client_is_connected(VtQmpClient *client)
{
        g_return_val_if_fail(VT_IS_QMP_CLIENT(client), FALSE);
        return client->state == CLIENT_READY;
}

/**
 * vt_qmp_client_get_greeting:
 * @client: a client
 *
 * Returns: (transfer none) (nullable): the peer's greeting, once received
 */
const VtQmpGreeting *
vt_qmp_client_get_greeting(VtQmpClient *client)
{
        g_return_val_if_fail(VT_IS_QMP_CLIENT(client), NULL);
        return client->greeting;
}

/**
 * vt_qmp_client_get_context:
 * @client: a client
 *
 * Returns: (transfer none): the main context the client runs on
 */
GMainContext *
vt_qmp_client_get_context(VtQmpClient *client)
{
        g_return_val_if_fail(VT_IS_QMP_CLIENT(client), NULL);
        return client->context;
}

/**
 * vt_qmp_client_get_peer_pid:
 * @client: a client
 *
 * The process at the other end of a Unix socket, from `SO_PEERCRED`: the
 * one that last called listen() on it, which is QEMU also when it was
 * handed its listening socket (it listens on it again).
 *
 * Returns: its pid, or 0 when unknown (TCP, not connected yet)
 */
GPid
vt_qmp_client_get_peer_pid(VtQmpClient *client)
{
        g_return_val_if_fail(VT_IS_QMP_CLIENT(client), 0);
        return client->peer_pid;
}

/**
 * vt_qmp_client_get_n_pending:
 * @client: a client
 *
 * Returns: how many commands await their reply
 */
guint
vt_qmp_client_get_n_pending(VtQmpClient *client)
{
        g_return_val_if_fail(VT_IS_QMP_CLIENT(client), 0);
        return g_hash_table_size(client->pending);
}

/**
 * vt_qmp_client_get_n_dropped:
 * @client: a client
 *
 * Returns: how many messages from the peer were dropped: malformed,
 *     oversized, unexpected, or replies to unknown ids
 */
guint64
vt_qmp_client_get_n_dropped(VtQmpClient *client)
{
        g_return_val_if_fail(VT_IS_QMP_CLIENT(client), 0);
        return client->n_dropped;
}

/**
 * vt_qmp_client_get_stats:
 * @client: a client
 * @ret_stats: (out): what the peer made the client read, so far or until
 *     the connection closed
 */
void
vt_qmp_client_get_stats(VtQmpClient *client, VtQmpChannelStats *ret_stats)
{
        g_return_if_fail(VT_IS_QMP_CLIENT(client));
        g_return_if_fail(ret_stats != NULL);

        if (client->channel != NULL)
                vt_qmp_channel_get_stats(client->channel, &client->stats);
        *ret_stats = client->stats;
}

/**
 * vt_qmp_client_set_budget:
 * @client: a client that has not connected yet
 * @budget: what the peer may make the client read; all zeros for no
 *     budget. The default is VT_QMP_CLIENT_BUDGET_*, QEMU's
 */
void
vt_qmp_client_set_budget(VtQmpClient *client, const VtQmpChannelBudget *budget)
{
        g_return_if_fail(VT_IS_QMP_CLIENT(client));
        g_return_if_fail(budget != NULL);
        g_return_if_fail(client->state == CLIENT_IDLE);
        client->budget = *budget;
}

/**
 * vt_qmp_client_set_timeout:
 * @client: a client
 * @timeout_us: default command timeout and handshake timeout, > 0
 */
void
vt_qmp_client_set_timeout(VtQmpClient *client, gint64 timeout_us)
{
        g_return_if_fail(VT_IS_QMP_CLIENT(client));
        g_return_if_fail(timeout_us > 0);
        client->timeout_us = timeout_us;
}

/**
 * vt_qmp_client_set_max_message:
 * @client: a client that has not connected yet
 * @max_message: largest message accepted from the peer, in bytes
 */
void
vt_qmp_client_set_max_message(VtQmpClient *client, gsize max_message)
{
        g_return_if_fail(VT_IS_QMP_CLIENT(client));
        g_return_if_fail(client->state == CLIENT_IDLE);
        client->max_message = max_message;
}
