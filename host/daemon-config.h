/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's configuration: /etc/vmtide/vmtided.conf, parsed and checked (docs/configuration.md). */
#pragma once

#include <glib.h>

#include "balloon/balloon-memdev.h"
#include "balloon/balloon-policy.h"
#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

#define VT_DAEMON_CONFIG_ERROR (vt_daemon_config_error_quark())

/*
 * The largest configuration file read, in bytes: 1 MiB, two hundred times
 * the example file with every setting commented; a file past it is a
 * mistake (a log, an image), refused before it costs the daemon memory.
 */
#define VT_DAEMON_CONFIG_SIZE_MAX (1024 * 1024)

/**
 * VtDaemonConfigError:
 * @VT_DAEMON_CONFIG_ERROR_NOT_FOUND: a configuration file given explicitly
 *     does not exist
 * @VT_DAEMON_CONFIG_ERROR_READ: the file exists but cannot be read, is
 *     not a regular file (a directory, a device, a FIFO), or is larger than
 *     %VT_DAEMON_CONFIG_SIZE_MAX
 * @VT_DAEMON_CONFIG_ERROR_SYNTAX: the file is not a key file (a line that
 *     is neither a group, a key = value pair nor a comment), or holds a NUL
 *     byte
 * @VT_DAEMON_CONFIG_ERROR_INVALID: a value that does not parse, is out of
 *     its range, or contradicts another one
 *
 * Codes of the %VT_DAEMON_CONFIG_ERROR domain. Every message starts with
 * the file ("/etc/vmtide/vmtided.conf: ") and, for values, names the group,
 * the key and the value: "vmtided.conf: [budget] reserve: 'lots' is not a
 * size".
 */
typedef enum {
        VT_DAEMON_CONFIG_ERROR_NOT_FOUND,
        VT_DAEMON_CONFIG_ERROR_READ,
        VT_DAEMON_CONFIG_ERROR_SYNTAX,
        VT_DAEMON_CONFIG_ERROR_INVALID,
        VT_DAEMON_CONFIG_ERROR_MAX,
} VtDaemonConfigError;

GQuark vt_daemon_config_error_quark(void);

/**
 * VtDaemonBackend:
 * @VT_DAEMON_BACKEND_QMP: guests are QEMU processes whose QMP sockets are
 *     in `[qmp] dir` or listed in `[guest:NAME]` groups
 * @VT_DAEMON_BACKEND_LIBVIRT: guests are libvirt domains at `[libvirt] uri`
 *     (reserved: the parser accepts it, the backend comes later)
 *
 * Where guests come from.
 */
typedef enum {
        VT_DAEMON_BACKEND_QMP,
        VT_DAEMON_BACKEND_LIBVIRT,
        VT_DAEMON_BACKEND_MAX,
} VtDaemonBackend;

/**
 * VtDaemonGuestConfig:
 * @name: the guest's name (the NAME of `[guest:NAME]`; for guests found in
 *     `[qmp] dir`, the socket's name without `.qmp`)
 * @qmp_path: (nullable): the QMP socket of a guest listed by hand; %NULL
 *     when the group only gives policy for a guest found by the backend
 * @agent_path: (nullable): its agent socket; when not given and @qmp_path
 *     ends in `.qmp`, the same path ending in `.agent`; %NULL otherwise
 *     (no agent, or the backend's default for a discovered guest)
 * @balloon: its balloon policy (`min`, `max`, `shares`, `opt-out`); zero
 *     fields mean the policy's defaults
 * @ksm_opt_out: leave its memory out of KSM decisions (`ksm-opt-out`)
 * @migrate_opt_out: never move it automatically (`migrate-opt-out`)
 * @migrate_pinned: never move it, not even by hand (`migrate-pinned`)
 * @has_memdev_strategy: the group sets @memdev_strategy; when FALSE the
 *     guest takes `[policy] memdev-strategy`
 * @memdev_strategy: which lever moves its memory when it has a virtio-mem
 *     device (`memdev-strategy`); see vt_daemon_config_get_memdev_strategy()
 *
 * One `[guest:NAME]` group.
 */
typedef struct {
        char *name;
        char *qmp_path;
        char *agent_path;
        VtBalloonGuestConfig balloon;
        gboolean ksm_opt_out;
        gboolean migrate_opt_out;
        gboolean migrate_pinned;
        gboolean has_memdev_strategy;
        VtMemdevStrategy memdev_strategy;
} VtDaemonGuestConfig;

/**
 * VtDaemonPeerConfig:
 * @name: the peer's name as `[migrate] peers` lists it (the NAME of
 *     `[peer:NAME]`)
 * @control_socket: (nullable): the control socket of the vmtided that runs
 *     on the peer (a local path; a remote one forwarded by the operator,
 *     `ssh -L`): its room is read from its `query-status` (`control-socket`)
 * @bandwidth: the link to it, bytes per second; 0: `[migrate] bandwidth`
 * @transport_uri: (nullable): the migration stream's URI when not the
 *     backend's default, `{guest}` standing for the guest's name (libvirt's
 *     `migrate_uri`: `unix:///run/host2/{guest}.migrate`) (`transport-uri`)
 *
 * One `[peer:NAME]` group.
 */
typedef struct {
        char *name;
        char *control_socket;
        guint64 bandwidth;
        char *transport_uri;
} VtDaemonPeerConfig;

/**
 * VtDaemonMigrateConfig:
 * @enabled: move guests by itself when the host is critical and the balloon
 *     and KSM cannot save it (`enabled`, default false: the planner runs
 *     and says what it would do, only `vmtide migrate` moves)
 * @peers: (array zero-terminated=1): the hosts guests may go to (`peers`):
 *     libvirt connection URIs under the libvirt backend, names handed to the
 *     destination command under QMP-direct; empty, never %NULL
 * @qmp_destination_command: (nullable): QMP-direct: the command that starts
 *     the receiving QEMU (`qmp-destination-command`)
 * @quit_after_migration: QMP-direct: quit the spent source QEMU after a
 *     completed move (`quit-after-migration`, default true)
 * @bandwidth: the migration stream's cap, bytes per second (`bandwidth`,
 *     default 128 MiB/s, QEMU 7.2's own)
 * @downtime_initial_us: the downtime limit a move starts with
 *     (`downtime-initial-ms`, default 100 ms)
 * @downtime_max_us: the operator's cap on the downtime ramp
 *     (`downtime-max-ms`, default 500 ms)
 * @auto_converge: let QEMU throttle a guest whose passes stall
 *     (`auto-converge`, default false)
 * @max_outgoing: outgoing moves at a time (`max-outgoing`, default 1)
 * @hysteresis_ticks: consecutive critical ticks before a move
 *     (`hysteresis-ticks`, default 3)
 * @cooldown_guest_us: a guest that tried to leave stays this long
 *     (`cooldown-guest-s`, default 600 s)
 * @cooldown_host_us: after an outgoing move ends, no other for this long
 *     (`cooldown-host-s`, default 60 s)
 * @min_relief: a move that gives back less than this is not worth one
 *     (`min-relief`, default 256 MiB)
 * @peer_interval_us: how often each peer's room is read
 *     (`peer-interval-ms`, default 10 s)
 * @peer_configs: (element-type VtDaemonPeerConfig): the `[peer:NAME]`
 *     groups
 *
 * The `[migrate]` group (docs/migration.md, "vmtided and the CLI").
 */
typedef struct {
        gboolean enabled;
        GStrv peers;
        char *qmp_destination_command;
        gboolean quit_after_migration;
        guint64 bandwidth;
        gint64 downtime_initial_us;
        gint64 downtime_max_us;
        gboolean auto_converge;
        guint max_outgoing;
        guint hysteresis_ticks;
        gint64 cooldown_guest_us;
        gint64 cooldown_host_us;
        guint64 min_relief;
        gint64 peer_interval_us;
        GPtrArray *peer_configs;
} VtDaemonMigrateConfig;

/**
 * VtDaemonRecorderConfig:
 * @enabled: keep a history (`enabled`, default true)
 * @dir: its directory (`dir`, default `/var/lib/vmtide/history`)
 * @max_bytes: the most it may take on disk (`max-size`, default 1 GiB; 0:
 *     no size limit)
 * @max_age_us: older history is removed (`max-age`, default 7 days; 0: no
 *     age limit)
 * @segment_bytes: a segment is closed past this size (`segment-size`,
 *     default 8 MiB)
 * @segment_age_us: ... or once it is this old (`segment-age`, default 1
 *     hour; 0: only by size)
 *
 * The `[recorder]` group: the flight recorder (docs/recorder.md).
 */
typedef struct {
        gboolean enabled;
        char *dir;
        guint64 max_bytes;
        gint64 max_age_us;
        guint64 segment_bytes;
        gint64 segment_age_us;
} VtDaemonRecorderConfig;

/**
 * VtDaemonConfig:
 * @origin: the file the configuration came from, or "defaults"
 * @tick_interval_us: how often the control loop samples and decides
 *     (`[daemon] tick-interval-ms`, default 2000 ms)
 * @control_socket: the control socket's path (`[daemon] control-socket`,
 *     default `/run/vmtide/vmtided.sock`)
 * @control_socket_mode: its permission bits (`[daemon]
 *     control-socket-mode`, octal, default 0600)
 * @backend: where guests come from (`[daemon] backend`, default qmp)
 * @stats_interval_s: the balloon statistics polling interval asked of
 *     QEMU (`[daemon] stats-interval-s`, default 2)
 * @agent_interval_ms: the report interval asked of each guest agent
 *     (`[daemon] agent-interval-ms`, default 2000); 0: leave the agents'
 *     own (5 s unless configured in the guest)
 * @host_psi_trigger: (nullable): the PSI trigger armed on the host's
 *     `pressure/memory`, normalised ("some 150000 2000000"); each firing
 *     runs a tick at once. %NULL: off (`[daemon] host-psi-trigger` empty)
 * @proc_root: where /proc is (`[daemon] proc-root`, for tests)
 * @log_level: the least severe message level vmtided logs (`[daemon]
 *     log-level`, default %G_LOG_LEVEL_INFO); one of %G_LOG_LEVEL_ERROR,
 *     %G_LOG_LEVEL_CRITICAL, %G_LOG_LEVEL_WARNING, %G_LOG_LEVEL_MESSAGE,
 *     %G_LOG_LEVEL_INFO, %G_LOG_LEVEL_DEBUG
 * @budget_total: memory the guests may use in all, bytes (`[budget]
 *     total`); 0: no budget
 * @budget_cgroup: (nullable): a cgroup directory whose memory limit bounds
 *     the guests (`[budget] cgroup`); the smaller of its limit and
 *     @budget_total is the budget
 * @balloon: the balloon policy's tunables: vt_balloon_config_init()'s
 *     defaults overridden by `[policy]` and `[budget] reserve`
 * @balloon_policy: the balloon policy (`[policy] algorithm`, default
 *     vt_balloon_policy_decide())
 * @balloon_policy_name: its name: "vmtide", "mom" or "proxmox"
 * @memdev_strategy: which lever moves a guest's memory when it has a
 *     virtio-mem device, for guests whose `[guest:NAME]` group does not say
 *     (`[policy] memdev-strategy`, default
 *     %VT_MEMDEV_STRATEGY_MEMDEV_FIRST)
 * @ksm_enabled: manage KSM (`[ksm] enabled`, default true)
 * @ksm_sysfs_root: the KSM sysfs directory (`[ksm] sysfs-root`, default
 *     `/sys/kernel/mm/ksm`)
 * @ksm: the KSM tuner's tunables: vt_ksm_tuner_config_init()'s defaults
 *     overridden by `[ksm]`
 * @ksm_tuner: the KSM tuner (`[ksm] tuner`, default vt_ksm_tuner_decide())
 * @ksm_tuner_name: its name: "vmtide", "ksmtuned" or "advisor"
 * @qmp_dir: the directory of guest sockets for the qmp backend (`[qmp]
 *     dir`, default `/run/vmtide/guests`): NAME.qmp, with NAME.agent
 *     beside it
 * @libvirt_uri: the libvirt connection URI (`[libvirt] uri`, default
 *     `qemu:///system`)
 * @guests: (element-type VtDaemonGuestConfig): the `[guest:NAME]` groups,
 *     in file order
 * @migrate: live migration: `[migrate]` and the `[peer:NAME]` groups
 * @metrics_listen: (nullable): where the Prometheus metrics are served
 *     (`[metrics] listen`, `HOST:PORT` with an IP literal); %NULL: off,
 *     the default (docs/metrics.md)
 * @recorder: the flight recorder: `[recorder]`
 * @warnings: (array zero-terminated=1): what was ignored (unknown groups
 *     and keys, all but the last value of a key given twice) and groups
 *     given twice, one message each; see vt_daemon_config_get_warnings()
 *
 * The whole configuration. Every field holds a valid value: defaults are
 * filled in and the parser rejects anything out of range.
 */
typedef struct {
        char *origin;
        gint64 tick_interval_us;
        char *control_socket;
        guint control_socket_mode;
        VtDaemonBackend backend;
        guint stats_interval_s;
        guint agent_interval_ms;
        char *host_psi_trigger;
        char *proc_root;
        GLogLevelFlags log_level;
        guint64 budget_total;
        char *budget_cgroup;
        VtBalloonConfig balloon;
        VtBalloonPolicyFunc balloon_policy;
        const char *balloon_policy_name;
        gboolean ksm_enabled;
        char *ksm_sysfs_root;
        VtKsmTunerConfig ksm;
        VtKsmTunerFunc ksm_tuner;
        const char *ksm_tuner_name;
        char *qmp_dir;
        char *libvirt_uri;
        GPtrArray *guests;
        VtDaemonMigrateConfig migrate;
        GStrv warnings;
        VtDaemonRecorderConfig recorder;
        char *metrics_listen;
        VtMemdevStrategy memdev_strategy;
} VtDaemonConfig;

const char *vt_daemon_config_get_default_path(void);

VtDaemonConfig *vt_daemon_config_new_default(void);
VtDaemonConfig *vt_daemon_config_parse(const char *data, gsize length, const char *origin,
                                       GError **error);
VtDaemonConfig *vt_daemon_config_load(const char *path, GError **error);
VtDaemonConfig *vt_daemon_config_load_optional(const char *path, GError **error);
void vt_daemon_config_free(VtDaemonConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtDaemonConfig, vt_daemon_config_free)

const VtDaemonGuestConfig *vt_daemon_config_find_guest(const VtDaemonConfig *config,
                                                       const char *name);
const VtDaemonPeerConfig *vt_daemon_config_find_peer(const VtDaemonConfig *config,
                                                     const char *name);
VtMemdevStrategy vt_daemon_config_get_memdev_strategy(const VtDaemonConfig *config,
                                                      const char *name);
const char *const *vt_daemon_config_get_warnings(const VtDaemonConfig *config);
const char *vt_daemon_backend_to_string(VtDaemonBackend backend);

G_END_DECLS
