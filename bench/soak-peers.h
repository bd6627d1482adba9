/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The soak's hostile peers: a fake guest that floods, and control-socket clients that misbehave. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * VtSoakCounts:
 * @agent_connections: connections the daemon made to the hostile agent
 * @agent_kib: KiB the hostile agent got into the socket
 * @agent_lines: valid report lines among them
 * @qmp_connections: connections the daemon made to the hostile QMP peer
 * @qmp_commands: commands it answered
 * @qmp_events: BALLOON_CHANGE events it flooded
 * @control_idle: control clients that connected and never negotiated
 * @control_garbage: control clients that sent garbage
 * @control_good: control clients that negotiated, asked and left
 * @control_failed: control clients that could not connect or got no answer
 *
 * What the peers did so far; read with vt_soak_peers_get_counts().
 */
typedef struct {
        guint agent_connections;
        guint agent_kib;
        guint agent_lines;
        guint qmp_connections;
        guint qmp_commands;
        guint qmp_events;
        guint control_idle;
        guint control_garbage;
        guint control_good;
        guint control_failed;
} VtSoakCounts;

/**
 * VtSoakPeerOptions:
 * @dir: a private directory for the peers' sockets
 * @guest_dir: the daemon's guest directory: `hostile.agent` and
 *     `hostile.qmp` are linked there
 * @control_socket: the daemon's control socket
 * @greeting: the QMP greeting the hostile QMP peer sends (QEMU 7.2's)
 * @agent_kib_per_s: how fast the hostile agent streams
 * @qmp_burst: BALLOON_CHANGE events sent before each reply
 * @qmp_hangup_every: the QMP peer hangs up after this many commands
 *     (0: never)
 * @control_round_ms: how often a round of control clients connects
 */
typedef struct {
        const char *dir;
        const char *guest_dir;
        const char *control_socket;
        const char *greeting;
        guint agent_kib_per_s;
        guint qmp_burst;
        guint qmp_hangup_every;
        guint control_round_ms;
} VtSoakPeerOptions;

typedef struct _VtSoakPeers VtSoakPeers;

VtSoakPeers *vt_soak_peers_start(const VtSoakPeerOptions *options, GError **error);
void vt_soak_peers_get_counts(VtSoakPeers *peers, VtSoakCounts *ret_counts);
void vt_soak_peers_free(VtSoakPeers *peers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtSoakPeers, vt_soak_peers_free)

G_END_DECLS
