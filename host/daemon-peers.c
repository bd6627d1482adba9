/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's peers: the hosts guests may migrate to, and the room each has, read off the loop. */

/*
 * Theory of operation
 *
 * `[migrate] peers` lists where guests may go. The planner must know how
 * much room a peer has before it sends a guest there by itself, and a
 * reading that is wrong on the generous side overloads the peer, so each
 * room is read conservatively, and a peer whose room cannot be read is
 * never chosen automatically (only named by hand with `vmtide migrate
 * GUEST PEER`). A room comes from one of:
 *
 * - **the peer's own vmtided** (`[peer:NAME] control-socket`): its
 *   `query-status`, which carries the free memory its balloon policy
 *   judges it has for guests (`host.guest_free`), its state and the line
 *   under which it is short (`host.short_line`). Where a vmtided runs on
 *   the peer it knows its room best; a remote one is reached through a
 *   socket the operator forwards (`ssh -L`): vmtide adds no transport.
 *   Read with the async QMP client on the main loop: it never blocks.
 * - **libvirt** (the libvirt backend, a peer that is a connection URI):
 *   the node's free memory (virNodeGetFreeMemory: MemFree, not what the
 *   page cache would give back) less what each of its running domains
 *   may still grow back to (its maximum above its current balloon),
 *   against its total (virNodeGetInfo); the headroom is the short line
 *   of this daemon's own policy applied to that total. libvirt's calls
 *   block (an ssh peer may take seconds), so each reading runs on a
 *   thread of its own (GTask), one at a time per peer.
 * - **nothing**: a QMP-direct peer without a control socket. Its room is
 *   unknown: shown as such, never chosen by the planner.
 *
 * Readings are refreshed every `peer-interval-ms` from the tick; a reading
 * older than three intervals counts as unknown again.
 */
#include "host/daemon-private.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "qmp/qmp-client.h"

/* How long a peer's vmtided may take to answer. */
#define PEER_QUERY_TIMEOUT_US (5 * G_USEC_PER_SEC)

struct _VtDaemonPeers {
        VtDaemon *daemon;
        GPtrArray *peers; /* VtDaemonPeer (owned) */
};

/* A reading's context: the peer is looked up again by index once back,
 * through a token that dies with the peers. */
typedef struct {
        VtDaemonPeers *peers; /* NULL once they are freed */
        guint index;
        gatomicrefcount ref;
} ReadCtx;

static void
peer_free(gpointer data)
{
        VtDaemonPeer *peer = data;

        if (peer->ctx != NULL)
                ((ReadCtx *)peer->ctx)->peers = NULL;
        g_clear_object(&peer->client);
        g_free(peer->name);
        g_free(peer->uri);
        g_free(peer->control_socket);
        g_free(peer->transport_uri);
        g_free(peer->error);
        g_free(peer);
}

static void
read_ctx_unref(ReadCtx *ctx)
{
        if (g_atomic_ref_count_dec(&ctx->ref))
                g_free(ctx);
}

static ReadCtx *
read_ctx_new(VtDaemonPeers *peers, guint index)
{
        ReadCtx *ctx = g_new0(ReadCtx, 1);

        ctx->peers = peers;
        ctx->index = index;
        g_atomic_ref_count_init(&ctx->ref);
        return ctx;
}

/* The peer a reading was for, or NULL when the peers are gone. */
static VtDaemonPeer *
read_ctx_peer(ReadCtx *ctx)
{
        VtDaemonPeer *peer;

        if (ctx->peers == NULL)
                return NULL;
        peer = g_ptr_array_index(ctx->peers->peers, ctx->index);
        peer->ctx = NULL;
        peer->reading = FALSE;
        return peer;
}

/**
 * vt_daemon_peers_new:
 * @daemon: the daemon
 *
 * The configured peers, none read yet.
 *
 * Returns: (transfer full): the peers
 */
VtDaemonPeers *
vt_daemon_peers_new(VtDaemon *daemon)
{
        const VtDaemonConfig *config = daemon->config;
        VtDaemonPeers *peers = g_new0(VtDaemonPeers, 1);

        peers->daemon = daemon;
        peers->peers = g_ptr_array_new_with_free_func(peer_free);
        for (guint i = 0; config->migrate.peers[i] != NULL; i++) {
                const char *name = config->migrate.peers[i];
                const VtDaemonPeerConfig *pc = vt_daemon_config_find_peer(config, name);
                VtDaemonPeer *peer = g_new0(VtDaemonPeer, 1);

                peer->name = g_strdup(name);
                peer->control_socket = pc != NULL ? g_strdup(pc->control_socket) : NULL;
                peer->bandwidth = pc != NULL ? pc->bandwidth : 0;
                peer->transport_uri = pc != NULL ? g_strdup(pc->transport_uri) : NULL;
                if (peer->control_socket != NULL)
                        peer->source = "vmtided";
                else if (config->backend == VT_DAEMON_BACKEND_LIBVIRT &&
                         strstr(name, ":/") != NULL) {
                        peer->source = "libvirt";
                        peer->uri = g_strdup(name);
                } else
                        peer->source = "none";
                g_ptr_array_add(peers->peers, peer);
        }
        return peers;
}

void
vt_daemon_peers_free(VtDaemonPeers *peers)
{
        if (peers == NULL)
                return;
        g_ptr_array_unref(peers->peers);
        g_free(peers);
}

static void
peer_fail(VtDaemonPeer *peer, const char *message)
{
        if (g_strcmp0(peer->error, message) != 0)
                g_message("peer '%s': room not read: %s", peer->name, message);
        g_free(peer->error);
        peer->error = g_strdup(message);
}

static void
peer_set_room(VtDaemonPeer *peer, gint64 free_bytes, guint64 headroom, guint64 mem_total,
              VtHostState state, gint64 now_us)
{
        if (peer->error != NULL)
                g_message("peer '%s': room read again", peer->name);
        g_clear_pointer(&peer->error, g_free);
        peer->free_bytes = free_bytes;
        peer->headroom_bytes = headroom;
        peer->mem_total = mem_total;
        peer->state = state;
        peer->read_us = now_us;
}

static gint64
json_int(json_object *o, const char *key)
{
        json_object *v = NULL;

        return json_object_object_get_ex(o, key, &v) && v != NULL ? json_object_get_int64(v) : -1;
}

static VtHostState
state_parse(const char *text)
{
        for (guint s = 0; s < VT_HOST_STATE_MAX; s++)
                if (g_strcmp0(text, vt_host_state_to_string(s)) == 0)
                        return s;
        return VT_HOST_STATE_CRITICAL; /* unknown: the safe side */
}

static void
on_status(GObject *source, GAsyncResult *result, gpointer user_data)
{
        ReadCtx *ctx = user_data;
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        json_object *host = NULL, *state = NULL;
        VtDaemonPeer *peer = read_ctx_peer(ctx);

        if (peer != NULL) {
                vt_qmp_client_close(peer->client);
                g_clear_object(&peer->client);
                if (reply == NULL) {
                        peer_fail(peer, error->message);
                } else if (!json_object_object_get_ex(reply, "host", &host) ||
                           !json_object_object_get_ex(host, "state", &state) ||
                           json_int(host, "mem_total") <= 0) {
                        peer_fail(peer, "its vmtided has not sampled its host yet");
                } else {
                        gint64 line = json_int(host, "short_line");

                        peer_set_room(
                            peer, json_int(host, "guest_free"), line > 0 ? (guint64)line : 0,
                            (guint64)json_int(host, "mem_total"),
                            state_parse(json_object_get_string(state)), g_get_monotonic_time());
                }
        }
        json_object_put(reply);
        read_ctx_unref(ctx);
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        ReadCtx *ctx = user_data;
        g_autoptr(GError) error = NULL;
        VtDaemonPeer *peer;

        if (vt_qmp_client_connect_finish(VT_QMP_CLIENT(source), result, &error) &&
            ctx->peers != NULL) {
                vt_qmp_client_execute_async(VT_QMP_CLIENT(source), VT_CONTROL_COMMAND_QUERY_STATUS,
                                            NULL, PEER_QUERY_TIMEOUT_US, on_status, ctx);
                return;
        }
        peer = read_ctx_peer(ctx);
        if (peer != NULL) {
                g_clear_object(&peer->client);
                peer_fail(peer, error != NULL ? error->message : "closed");
        }
        read_ctx_unref(ctx);
}

/* What a libvirt reading brings back from its thread. */
typedef struct {
        char *uri;
        double short_fraction;
        gint64 free_bytes;
        guint64 headroom;
        guint64 mem_total;
} LibvirtRoom;

static void
libvirt_room_free(gpointer data)
{
        LibvirtRoom *room = data;

        g_free(room->uri);
        g_free(room);
}

/* On the reading's own thread: libvirt blocks. */
static void
libvirt_read(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
        LibvirtRoom *room = data;
        virConnectPtr conn = virConnectOpenReadOnly(room->uri);
        virDomainPtr *domains = NULL;
        virNodeInfo node;
        unsigned long long free_bytes;
        guint64 growth = 0;
        int n;

        (void)source;
        (void)cancellable;
        if (conn == NULL) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot connect: %s",
                                        virGetLastErrorMessage());
                return;
        }
        free_bytes = virNodeGetFreeMemory(conn);
        if (free_bytes == 0 || virNodeGetInfo(conn, &node) < 0 ||
            (n = virConnectListAllDomains(conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE)) < 0) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                                        virGetLastErrorMessage());
                virConnectClose(conn);
                return;
        }
        for (int i = 0; i < n; i++) {
                virDomainInfo info;

                /* What each domain may grow back to: counted as taken. */
                if (virDomainGetInfo(domains[i], &info) == 0 && info.maxMem > info.memory)
                        growth += (guint64)(info.maxMem - info.memory) * 1024;
                virDomainFree(domains[i]);
        }
        free(domains);
        virConnectClose(conn);
        room->mem_total = (guint64)node.memory * 1024;
        room->free_bytes = (gint64)MIN(free_bytes, (unsigned long long)G_MAXINT64) -
                           (gint64)MIN(growth, (guint64)G_MAXINT64 / 2);
        room->headroom = (guint64)(room->short_fraction * (double)room->mem_total);
        g_task_return_boolean(task, TRUE);
}

static void
on_libvirt_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
        ReadCtx *ctx = user_data;
        LibvirtRoom *room = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;
        VtDaemonPeer *peer;

        (void)source;
        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                peer = read_ctx_peer(ctx);
                if (peer != NULL)
                        peer_fail(peer, error->message);
        } else if ((peer = read_ctx_peer(ctx)) != NULL) {
                VtHostState state = room->free_bytes < (gint64)room->headroom
                                        ? VT_HOST_STATE_SHORT
                                        : VT_HOST_STATE_PLENTY;

                peer_set_room(peer, room->free_bytes, room->headroom, room->mem_total, state,
                              g_get_monotonic_time());
        }
        read_ctx_unref(ctx);
}

static void
peer_read(VtDaemonPeers *peers, guint index, VtDaemonPeer *peer)
{
        ReadCtx *ctx = read_ctx_new(peers, index);

        peer->reading = TRUE;
        peer->ctx = ctx;
        if (peer->control_socket != NULL) {
                g_autofree char *address = g_strdup_printf("unix:%s", peer->control_socket);

                peer->client = vt_qmp_client_new();
                vt_qmp_client_set_timeout(peer->client, PEER_QUERY_TIMEOUT_US);
                vt_qmp_client_connect_async(peer->client, address, on_connected, ctx);
        } else {
                g_autoptr(GTask) task = g_task_new(NULL, NULL, on_libvirt_read, ctx);
                LibvirtRoom *room = g_new0(LibvirtRoom, 1);

                room->uri = g_strdup(peer->uri);
                room->short_fraction = peers->daemon->config->balloon.tight_fraction;
                g_task_set_task_data(task, room, libvirt_room_free);
                g_task_run_in_thread(task, libvirt_read);
        }
}

/**
 * vt_daemon_peers_refresh:
 * @peers: the peers
 * @now_us: now
 *
 * Starts a reading of each peer that has a source, is not being read and
 * was last read (or tried) `peer-interval-ms` ago or more.
 */
void
vt_daemon_peers_refresh(VtDaemonPeers *peers, gint64 now_us)
{
        gint64 interval = peers->daemon->config->migrate.peer_interval_us;

        for (guint i = 0; i < peers->peers->len; i++) {
                VtDaemonPeer *peer = g_ptr_array_index(peers->peers, i);

                if (peer->reading || strcmp(peer->source, "none") == 0)
                        continue;
                if (peer->tried_us != 0 && now_us - peer->tried_us < interval)
                        continue;
                peer->tried_us = now_us;
                peer_read(peers, i, peer);
        }
}

/**
 * vt_daemon_peers_get:
 * @peers: the peers
 * @ret_n: (out): how many
 *
 * Returns: (transfer none): the peers, in `[migrate] peers` order
 */
VtDaemonPeer *const *
vt_daemon_peers_get(VtDaemonPeers *peers, guint *ret_n)
{
        *ret_n = peers->peers->len;
        return (VtDaemonPeer *const *)peers->peers->pdata;
}

/**
 * vt_daemon_peer_room_known:
 * @peer: a peer
 * @interval_us: how often rooms are read (`peer-interval-ms`)
 * @now_us: now
 *
 * Returns: whether its room was read within three intervals
 */
gboolean
vt_daemon_peer_room_known(const VtDaemonPeer *peer, gint64 interval_us, gint64 now_us)
{
        return peer->read_us > 0 && peer->error == NULL &&
               now_us - peer->read_us <= 3 * interval_us;
}

/**
 * vt_daemon_peers_find:
 * @peers: the peers
 * @name: a peer's name
 *
 * Returns: (transfer none) (nullable): the peer
 */
VtDaemonPeer *
vt_daemon_peers_find(VtDaemonPeers *peers, const char *name)
{
        for (guint i = 0; i < peers->peers->len; i++) {
                VtDaemonPeer *peer = g_ptr_array_index(peers->peers, i);

                if (strcmp(peer->name, name) == 0)
                        return peer;
        }
        return NULL;
}
