/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket's protocol: what vmtided and the vmtide CLI both spell. */
#pragma once

/*
 * One header for both ends of the control socket (docs/control-protocol.md),
 * so that the daemon (host/control/, host/daemon*.c) and the CLI (cli/)
 * cannot drift apart. Plain C and nothing else: no GLib, no json-c.
 *
 * The framing is QMP's (qmp/): greeting, `qmp_capabilities`, then
 * `execute` / `return` / `error` / `event`. There is no protocol version of
 * its own: the greeting carries vmtide's version in QEMU's shape, and
 * commands, members and events are only ever added.
 */

/* Where vmtided listens unless told otherwise (`[daemon] control-socket`,
 * `vmtided --control-socket`, `vmtide --socket`, `$VMTIDE_SOCKET`). */
#define VT_CONTROL_SOCKET_DEFAULT "/run/vmtide/vmtided.sock"

/* Error classes: the `class` of an `error` reply. */
#define VT_CONTROL_CLASS_GENERIC           "GenericError"
#define VT_CONTROL_CLASS_COMMAND_NOT_FOUND "CommandNotFound"
#define VT_CONTROL_CLASS_GUEST_NOT_FOUND   "GuestNotFound"

/**
 * VtControlError:
 * @VT_CONTROL_ERROR_GENERIC: %VT_CONTROL_CLASS_GENERIC: bad or missing
 *     arguments, or the command failed; the message names the argument
 * @VT_CONTROL_ERROR_COMMAND_NOT_FOUND: %VT_CONTROL_CLASS_COMMAND_NOT_FOUND
 * @VT_CONTROL_ERROR_GUEST_NOT_FOUND: %VT_CONTROL_CLASS_GUEST_NOT_FOUND;
 *     the daemon sets it with vt_control_set_error_guest_not_found() so
 *     that every command words it alike (`no guest named 'NAME'`)
 *
 * The error classes as codes, one each (the daemon's `VT_CONTROL_ERROR`
 * domain, host/control/control-server.h).
 */
typedef enum {
        VT_CONTROL_ERROR_GENERIC,
        VT_CONTROL_ERROR_COMMAND_NOT_FOUND,
        VT_CONTROL_ERROR_GUEST_NOT_FOUND,
        VT_CONTROL_ERROR_MAX,
} VtControlError;

/* Commands: the `execute` of a request. */
#define VT_CONTROL_COMMAND_CAPABILITIES "qmp_capabilities"
#define VT_CONTROL_COMMAND_QUERY_STATUS "query-status"
#define VT_CONTROL_COMMAND_QUERY_GUESTS "query-guests"
#define VT_CONTROL_COMMAND_QUERY_GUEST  "query-guest"
#define VT_CONTROL_COMMAND_QUERY_KSM    "query-ksm"
#define VT_CONTROL_COMMAND_SET_POLICY   "set-policy"
#define VT_CONTROL_COMMAND_SET_TARGET   "set-target"
#define VT_CONTROL_COMMAND_PAUSE        "pause"
#define VT_CONTROL_COMMAND_RESUME       "resume"
/* Live migration (docs/migration.md, "vmtided and the CLI"). */
#define VT_CONTROL_COMMAND_MIGRATE          "migrate"
#define VT_CONTROL_COMMAND_MIGRATE_CANCEL   "migrate-cancel"
#define VT_CONTROL_COMMAND_QUERY_MIGRATIONS "query-migrations"
#define VT_CONTROL_COMMAND_QUERY_PLAN       "query-plan"
#define VT_CONTROL_COMMAND_QUERY_PEERS      "query-peers"

/* Events: the `event` of an event message. */
#define VT_CONTROL_EVENT_DECISION      "DECISION"
#define VT_CONTROL_EVENT_BALLOON_DONE  "BALLOON_DONE"
#define VT_CONTROL_EVENT_BALLOON_STUCK "BALLOON_STUCK"
#define VT_CONTROL_EVENT_HOST_STATE    "HOST_STATE"
#define VT_CONTROL_EVENT_KSM           "KSM"
#define VT_CONTROL_EVENT_GUEST_ADDED   "GUEST_ADDED"
#define VT_CONTROL_EVENT_GUEST_REMOVED "GUEST_REMOVED"
#define VT_CONTROL_EVENT_AUTOMATION    "AUTOMATION"
#define VT_CONTROL_EVENT_BACKEND       "BACKEND"
/* A guest's virtio-mem device: its plugged size changed, or it appeared or went. */
#define VT_CONTROL_EVENT_MEMDEV "MEMDEV"
/* Live migration: a move started, began a pass, was steered (downtime
 * raised, cancelled), ended (predicted beside actual); a guest's dirty
 * rate measured; the planner decided something new. */
#define VT_CONTROL_EVENT_MIGRATION_STARTED  "MIGRATION_STARTED"
#define VT_CONTROL_EVENT_MIGRATION_PASS     "MIGRATION_PASS"
#define VT_CONTROL_EVENT_MIGRATION_STEERED  "MIGRATION_STEERED"
#define VT_CONTROL_EVENT_MIGRATION_FINISHED "MIGRATION_FINISHED"
#define VT_CONTROL_EVENT_DIRTY_RATE         "DIRTY_RATE"
#define VT_CONTROL_EVENT_PLAN               "PLAN"
