/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest as vmtided sees it, whatever backend drives it. */
#pragma once

#include <gio/gio.h>

#include "balloon/balloon-memdev.h"
#include "balloon/balloon-policy.h"
#include "host/agent-channel/agent-channel-reader.h"
#include "host/guest/guest-move.h"
#include "migrate/migrate-job.h"

G_BEGIN_DECLS

/* The move's slack, stuck timeout and retry: host/guest/guest-move.h. */
/* While a move is under way its balloon is read this often (QEMU's
 * BALLOON_CHANGE comes at most once a second)... */
#define VT_GUEST_POLL_US (100 * 1000)
/* ... and this often once the move is past the stuck timeout. */
#define VT_GUEST_SLOW_POLL_US G_USEC_PER_SEC

/**
 * VtGuestStats:
 * @total: `stat-total-memory`, bytes (0: unsupported)
 * @free: `stat-free-memory`, bytes
 * @available: `stat-available-memory`, bytes (0: unsupported)
 * @disk_caches: `stat-disk-caches`, bytes
 * @major_faults: `stat-major-faults`, since guest boot
 * @swap_in: `stat-swap-in`, pages since guest boot
 * @swap_out: `stat-swap-out`, pages since guest boot
 * @updated_us: host monotonic time these were read (0: never)
 * @sent_s: when the driver sent them, the host's wall clock in seconds
 *     (QEMU's `last-update`; 0: unknown): tells a new report from the
 *     same one read again, whatever the wall clock does
 *
 * The balloon driver's statistics, as QEMU (or libvirt) reports them.
 * Unsupported statistics (-1 from QEMU) read as 0.
 */
typedef struct {
        guint64 total;
        guint64 free;
        guint64 available;
        guint64 disk_caches;
        guint64 major_faults;
        guint64 swap_in;
        guint64 swap_out;
        gint64 updated_us;
        guint64 sent_s;
} VtGuestStats;

/**
 * VtGuestMemdev:
 * @present: the guest has a virtio-mem device; the fields below are valid
 * @id: the device's id (QMP `id`; libvirt's alias), for the log
 * @block_size: its block size, bytes (a power of two, checked)
 * @plugged_bytes: what is plugged now (QMP `size`; libvirt `current`)
 * @requested_bytes: what the guest was asked to plug (`requested-size`)
 * @max_bytes: the device's maximum (its memory backend's size)
 * @progress_us: when @plugged_bytes last changed, host monotonic (0: never
 *     seen changing); kept by the base class
 * @request_us: when vmtided last set @requested_bytes (0: never); kept by
 *     the base class
 *
 * A guest's virtio-mem device as its backend read it. One device per guest
 * is driven: the first the backend found (others are named in the log).
 */
typedef struct {
        gboolean present;
        char id[64];
        guint64 block_size;
        guint64 plugged_bytes;
        guint64 requested_bytes;
        guint64 max_bytes;
        gint64 progress_us;
        gint64 request_us;
} VtGuestMemdev;

#define VT_TYPE_GUEST (vt_guest_get_type())
G_DECLARE_DERIVABLE_TYPE(VtGuest, vt_guest, VT, GUEST, GObject)

/*
 * Signals (none is emitted after vt_guest_stop()):
 * - `balloon-changed (guint64 actual)`: the balloon's size changed
 * - `pressure ()`: the agent pushed a `pressure` or `drop` report; the
 *   snapshot has %VT_BALLOON_GUEST_PRESSURE_PUSH until
 *   vt_guest_clear_pressure()
 * - `move-done (guint64 actual, gint64 elapsed_us)`: the balloon reached
 *   the target (within %VT_GUEST_CONFIRM_SLACK)
 * - `move-stuck (guint64 actual, guint64 target)`: no progress for the
 *   stuck timeout; emitted once per move
 * - `gone (gpointer error)`: the guest is unusable: its start failed or
 *   its connection was lost; @error is a `const GError *` (or %NULL).
 *   Emitted once; the agent reader is stopped
 * - `policy-changed ()`: the policy the backend keeps for the guest (a
 *   libvirt domain's metadata) was read or changed; see
 *   vt_guest_get_stored_policy()
 * - `memdev-changed (guint64 plugged)`: the virtio-mem device's plugged
 *   size changed (or the device appeared)
 */

/**
 * VtGuestClass:
 * @start_async: connect to the guest, learn its maximum memory and current
 *     balloon size, enable balloon statistics; report through
 *     vt_guest_update_balloon() and vt_guest_set_max_bytes() before
 *     completing. A guest without a balloon device starts fine (no
 *     @VT_BALLOON_GUEST_HAS_BALLOON)
 * @start_finish: ...
 * @refresh_async: read the balloon size and statistics again
 * @refresh_finish: ...
 * @set_balloon_async: ask for a balloon size in bytes
 * @set_balloon_finish: ...; a guest whose balloon is not active fails with
 *     %VT_QMP_ERROR_DEVICE_NOT_ACTIVE (or the backend's equivalent code)
 * @stop: disconnect; no signal is emitted after this
 * @poll_balloon_async: (nullable): read the balloon's size once and report
 *     it through vt_guest_update_balloon(); the base class calls it every
 *     %VT_GUEST_POLL_US while a move is under way (one at a time)
 * @poll_balloon_finish: ...; an error is only logged (the next poll comes)
 * @store_policy_async: (nullable): keep a policy with the guest (libvirt:
 *     in the domain's metadata); %NULL when the backend keeps none
 * @store_policy_finish: ...
 * @dirty_rate_async: (nullable): measure the guest's dirty rate over
 *     @window_us (QMP `calc-dirty-rate` page-sampling; libvirt
 *     virDomainStartDirtyRateCalc()), completing when the figure is in;
 *     never called while the guest migrates
 * @dirty_rate_finish: ...; the rate in bytes per second
 * @migrate_start_async: (nullable): start a live migration as
 *     #VtMigrateRequest says, completing once it runs (not when it ends)
 * @migrate_start_finish: ...
 * @migrate_query_async: (nullable): how the migration goes (QMP
 *     `query-migrate`; libvirt virDomainGetJobStats())
 * @migrate_query_finish: ...; fills a #VtMigrateProgress
 * @migrate_set_downtime_async: (nullable): change the downtime limit of
 *     the migration under way (QMP `migrate-set-parameters`; libvirt
 *     virDomainMigrateSetMaxDowntime())
 * @migrate_set_downtime_finish: ...
 * @migrate_cancel_async: (nullable): cancel the migration under way; the
 *     guest keeps running on the source (QMP `migrate_cancel`; libvirt
 *     virDomainAbortJob())
 * @migrate_cancel_finish: ...
 * @set_memdev_async: (nullable): ask the guest's virtio-mem device for a
 *     requested size in bytes, a multiple of its block size (QMP `qom-set
 *     requested-size`; libvirt virDomainUpdateDeviceFlags()); completes
 *     once the backend took it, not when the guest plugged it. The backend
 *     reports the device, at start and on every change it hears of
 *     (QMP `MEMORY_DEVICE_SIZE_CHANGE`, libvirt's memory-device-size-change
 *     event, refresh), through vt_guest_update_memdev()
 * @set_memdev_finish: ...
 *
 * What a backend implements. The base class keeps the state the policy
 * needs, tracks moves (confirmed, stuck) and reads the agent. A subclass
 * calls vt_guest_stop() from its dispose, before its own state goes.
 */
struct _VtGuestClass {
        GObjectClass parent_class;

        void (*start_async)(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data);
        gboolean (*start_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
        void (*refresh_async)(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data);
        gboolean (*refresh_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
        void (*set_balloon_async)(VtGuest *guest, guint64 bytes, GAsyncReadyCallback callback,
                                  gpointer user_data);
        gboolean (*set_balloon_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
        void (*stop)(VtGuest *guest);
        void (*store_policy_async)(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                                   gboolean ksm_opt_out, GAsyncReadyCallback callback,
                                   gpointer user_data);
        gboolean (*store_policy_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
        void (*poll_balloon_async)(VtGuest *guest, GAsyncReadyCallback callback,
                                   gpointer user_data);
        gboolean (*poll_balloon_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
        void (*dirty_rate_async)(VtGuest *guest, gint64 window_us, GAsyncReadyCallback callback,
                                 gpointer user_data);
        gboolean (*dirty_rate_finish)(VtGuest *guest, GAsyncResult *result, guint64 *ret_rate,
                                      GError **error);
        void (*migrate_start_async)(VtGuest *guest, const VtMigrateRequest *request,
                                    GAsyncReadyCallback callback, gpointer user_data);
        gboolean (*migrate_start_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
        void (*migrate_query_async)(VtGuest *guest, GAsyncReadyCallback callback,
                                    gpointer user_data);
        gboolean (*migrate_query_finish)(VtGuest *guest, GAsyncResult *result,
                                         VtMigrateProgress *ret_progress, GError **error);
        void (*migrate_set_downtime_async)(VtGuest *guest, gint64 downtime_limit_us,
                                           GAsyncReadyCallback callback, gpointer user_data);
        gboolean (*migrate_set_downtime_finish)(VtGuest *guest, GAsyncResult *result,
                                                GError **error);
        void (*migrate_cancel_async)(VtGuest *guest, GAsyncReadyCallback callback,
                                     gpointer user_data);
        gboolean (*migrate_cancel_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
        void (*set_memdev_async)(VtGuest *guest, guint64 requested_bytes,
                                 GAsyncReadyCallback callback, gpointer user_data);
        gboolean (*set_memdev_finish)(VtGuest *guest, GAsyncResult *result, GError **error);
};

/* Public API (the daemon). */
const char *vt_guest_get_name(VtGuest *guest);
GPid vt_guest_get_pid(VtGuest *guest);
guint64 vt_guest_get_max_bytes(VtGuest *guest);
guint64 vt_guest_get_actual_bytes(VtGuest *guest);
guint64 vt_guest_get_target_bytes(VtGuest *guest);
const VtGuestStats *vt_guest_get_stats(VtGuest *guest);
VtAgentReader *vt_guest_get_agent(VtGuest *guest);
gboolean vt_guest_has_balloon(VtGuest *guest);
gboolean vt_guest_is_stuck(VtGuest *guest);
gboolean vt_guest_is_started(VtGuest *guest);
void vt_guest_get_config(VtGuest *guest, VtBalloonGuestConfig *ret_config);
void vt_guest_set_config(VtGuest *guest, const VtBalloonGuestConfig *config);

void vt_guest_start_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_guest_start_finish(VtGuest *guest, GAsyncResult *result, GError **error);
void vt_guest_refresh_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_guest_refresh_finish(VtGuest *guest, GAsyncResult *result, GError **error);
void vt_guest_set_target_async(VtGuest *guest, guint64 bytes, gint64 now_us,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_guest_set_target_finish(VtGuest *guest, GAsyncResult *result, GError **error);
void vt_guest_stop(VtGuest *guest);

void vt_guest_snapshot(VtGuest *guest, gint64 now_us, VtBalloonGuest *ret_snapshot);
void vt_guest_clear_pressure(VtGuest *guest);

/* Additions: move state, gone, and the stuck timeout (tests shorten it). */
gboolean vt_guest_is_moving(VtGuest *guest);
gboolean vt_guest_is_gone(VtGuest *guest);
void vt_guest_set_stuck_timeout(VtGuest *guest, gint64 stuck_us);
gint64 vt_guest_get_stuck_timeout(VtGuest *guest);

/* The policy a backend keeps with the guest (libvirt domain metadata). */
gboolean vt_guest_get_stored_policy(VtGuest *guest, VtBalloonGuestConfig *ret_balloon,
                                    gboolean *ret_ksm_opt_out);
gboolean vt_guest_can_store_policy(VtGuest *guest);
void vt_guest_store_policy_async(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                                 gboolean ksm_opt_out, GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean vt_guest_store_policy_finish(VtGuest *guest, GAsyncResult *result, GError **error);
gboolean vt_guest_is_reachable(VtGuest *guest);

/* Migration (host/guest/guest-migrate.c): what the executor calls. A
 * backend without the method fails with G_IO_ERROR_NOT_SUPPORTED. */
gboolean vt_guest_can_migrate(VtGuest *guest);
void vt_guest_measure_dirty_rate_async(VtGuest *guest, gint64 window_us,
                                       GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_guest_measure_dirty_rate_finish(VtGuest *guest, GAsyncResult *result, guint64 *ret_rate,
                                            GError **error);
void vt_guest_migrate_start_async(VtGuest *guest, const VtMigrateRequest *request,
                                  GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_guest_migrate_start_finish(VtGuest *guest, GAsyncResult *result, GError **error);
void vt_guest_migrate_query_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_guest_migrate_query_finish(VtGuest *guest, GAsyncResult *result,
                                       VtMigrateProgress *ret_progress, GError **error);
void vt_guest_migrate_set_downtime_async(VtGuest *guest, gint64 downtime_limit_us,
                                         GAsyncReadyCallback callback, gpointer user_data);
gboolean vt_guest_migrate_set_downtime_finish(VtGuest *guest, GAsyncResult *result, GError **error);
void vt_guest_migrate_cancel_async(VtGuest *guest, GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean vt_guest_migrate_cancel_finish(VtGuest *guest, GAsyncResult *result, GError **error);

/*
 * virtio-mem (host/guest/guest-memdev.c). With a device and a strategy
 * other than balloon-only, the guest's memory is boot memory plus what is
 * plugged minus what the balloon holds: the balloon's `actual` plus what
 * is plugged (QEMU's `actual` does not count virtio-mem, and
 * vt_guest_get_actual_bytes() stays the balloon's figure); the snapshot's
 * @actual_bytes is that sum and its maximum the boot memory plus the
 * device's maximum, and vt_guest_set_target_async() maps a target onto
 * both levers with vt_memdev_plan(). The default strategy is
 * %VT_MEMDEV_STRATEGY_MEMDEV_FIRST.
 */
const VtGuestMemdev *vt_guest_get_memdev(VtGuest *guest);
VtMemdevStrategy vt_guest_get_memdev_strategy(VtGuest *guest);
void vt_guest_set_memdev_strategy(VtGuest *guest, VtMemdevStrategy strategy);
gboolean vt_guest_is_unplug_stuck(VtGuest *guest, gint64 now_us);

/* For backends. */
void vt_guest_update_memdev(VtGuest *guest, const VtGuestMemdev *memdev, gint64 now_us);
void vt_guest_set_reachable(VtGuest *guest, gboolean reachable);
void vt_guest_resume_polling(VtGuest *guest);
void vt_guest_set_stored_policy(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                                gboolean ksm_opt_out);
void vt_guest_set_pid(VtGuest *guest, GPid pid);
void vt_guest_set_max_bytes(VtGuest *guest, guint64 bytes);
void vt_guest_set_has_balloon(VtGuest *guest, gboolean has_balloon);
void vt_guest_update_balloon(VtGuest *guest, guint64 actual_bytes, gint64 now_us);
void vt_guest_update_stats(VtGuest *guest, const VtGuestStats *stats);
gint64 vt_guest_stats_sent_us(guint64 last_update_s, gint64 now_us, gint64 real_now_us);
void vt_guest_set_agent_path(VtGuest *guest, const char *path);
void vt_guest_emit_gone(VtGuest *guest, const GError *error);

G_END_DECLS
