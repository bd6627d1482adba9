/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's state in and out: what its backend reports (pid, memory,
 * statistics, reachability, the policy it keeps) and what the daemon reads
 * (getters, the snapshot for the policy).
 */
#include "host/guest/guest-private.h"

/**
 * vt_guest_get_name:
 * @guest: a guest
 *
 * Returns: its name (the socket's basename or the domain name)
 */
const char *
vt_guest_get_name(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        priv = vt_guest_get_private(guest);
        return priv->name;
}

/**
 * vt_guest_get_pid:
 * @guest: a guest
 *
 * Returns: the QEMU process's pid, or 0 when unknown
 */
GPid
vt_guest_get_pid(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), 0);
        priv = vt_guest_get_private(guest);
        return priv->pid;
}

/**
 * vt_guest_get_max_bytes:
 * @guest: a guest
 *
 * Returns: its boot memory, bytes (0 before it started)
 */
guint64
vt_guest_get_max_bytes(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), 0);
        priv = vt_guest_get_private(guest);
        return priv->max_bytes;
}

/**
 * vt_guest_get_actual_bytes:
 * @guest: a guest
 *
 * Returns: the balloon's logical size as last reported, bytes
 */
guint64
vt_guest_get_actual_bytes(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), 0);
        priv = vt_guest_get_private(guest);
        return priv->actual_bytes;
}

/**
 * vt_guest_get_stats:
 * @guest: a guest
 *
 * Returns: (transfer none): the balloon driver's latest statistics;
 *     @updated_us is 0 until the driver reported some
 */
const VtGuestStats *
vt_guest_get_stats(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        priv = vt_guest_get_private(guest);
        return &priv->stats;
}

/**
 * vt_guest_get_agent:
 * @guest: a guest
 *
 * Returns: (transfer none) (nullable): the reader of its agent's channel,
 *     %NULL when the guest has no agent path
 */
VtAgentReader *
vt_guest_get_agent(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        priv = vt_guest_get_private(guest);
        return priv->agent;
}

/**
 * vt_guest_has_balloon:
 * @guest: a guest
 *
 * Returns: %TRUE if the backend found an active balloon device
 */
gboolean
vt_guest_has_balloon(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_private(guest);
        return priv->has_balloon;
}

/**
 * vt_guest_is_started:
 * @guest: a guest
 *
 * Returns: %TRUE once the start succeeded, until vt_guest_stop() (a guest
 *     that is gone stays started: see vt_guest_is_gone())
 */
gboolean
vt_guest_is_started(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_private(guest);
        return priv->started;
}

/**
 * vt_guest_is_gone:
 * @guest: a guest
 *
 * Returns: %TRUE once "gone" was emitted: the start failed or the
 *     connection was lost
 */
gboolean
vt_guest_is_gone(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_private(guest);
        return priv->gone;
}

/**
 * vt_guest_is_reachable:
 * @guest: a guest
 *
 * Returns: %FALSE while its backend cannot drive it (libvirtd restarting)
 */
gboolean
vt_guest_is_reachable(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_private(guest);
        return !priv->unreachable;
}

/**
 * vt_guest_get_config:
 * @guest: a guest
 * @ret_config: (out caller-allocates): its per-guest policy
 */
void
vt_guest_get_config(VtGuest *guest, VtBalloonGuestConfig *ret_config)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(ret_config != NULL);
        priv = vt_guest_get_private(guest);
        *ret_config = priv->config;
}

/**
 * vt_guest_set_config:
 * @guest: a guest
 * @config: its per-guest policy, from the configuration or the control
 *     socket (copied)
 */
void
vt_guest_set_config(VtGuest *guest, const VtBalloonGuestConfig *config)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(config != NULL);
        priv = vt_guest_get_private(guest);
        priv->config = *config;
}

/**
 * vt_guest_snapshot:
 * @guest: a guest
 * @now_us: the monotonic time of the snapshot
 * @ret_snapshot: (out caller-allocates): the guest for the policy; @name
 *     borrows from @guest
 *
 * Ages are @now_us minus when the data arrived (%G_MAXINT64 when there is
 * none; the flags say which data is valid). Agent PSI is negative when the
 * report lacks it. @rss_bytes is left 0 for the daemon to fill.
 */
void
vt_guest_snapshot(VtGuest *guest, gint64 now_us, VtBalloonGuest *ret_snapshot)
{
        VtGuestPrivate *priv;
        const VtAgentReport *report = NULL;
        VtBalloonGuest s = {0};

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(ret_snapshot != NULL);
        priv = vt_guest_get_private(guest);

        s.name = priv->name;
        if (priv->has_balloon)
                s.flags |= VT_BALLOON_GUEST_HAS_BALLOON;
        if (priv->pressure)
                s.flags |= VT_BALLOON_GUEST_PRESSURE_PUSH;
        if (priv->move.moving)
                s.flags |= VT_BALLOON_GUEST_MOVING;
        if (priv->move.reclaim)
                s.flags |= VT_BALLOON_GUEST_LAST_RECLAIM;
        if (vt_guest_move_is_stuck_at(&priv->move, now_us))
                s.flags |= VT_BALLOON_GUEST_STUCK;
        if (priv->unreachable)
                s.flags |= VT_BALLOON_GUEST_UNREACHABLE;
        s.max_bytes = priv->max_bytes;
        /* One currency: boot memory plus what is plugged minus what the
         * balloon holds, with room to grow up to the device's maximum. */
        if (vt_guest_memdev_drives(guest))
                s.max_bytes += priv->memdev.max_bytes;
        s.actual_bytes = vt_guest_memdev_memory(guest);
        s.target_bytes = priv->move.target_bytes;
        s.last_change_us = priv->move.start_us;

        s.stats_age_us = G_MAXINT64;
        if (priv->stats.updated_us != 0) {
                s.flags |= VT_BALLOON_GUEST_HAS_STATS;
                s.stats_total = priv->stats.total;
                s.stats_free = priv->stats.free;
                s.stats_available = priv->stats.available;
                s.stats_age_us = MAX(now_us - priv->stats.updated_us, 0);
        }

        s.agent_psi_some_avg10 = -1.0;
        s.agent_psi_full_avg10 = -1.0;
        s.agent_age_us = G_MAXINT64;
        if (priv->agent != NULL)
                report = vt_agent_reader_get_report(priv->agent);
        if (report != NULL) {
                s.flags |= VT_BALLOON_GUEST_HAS_AGENT;
                s.agent_mem_total = report->mem_total;
                if (report->fields & VT_AGENT_HAS_AVAILABLE)
                        s.agent_mem_available = report->mem_available;
                if (report->fields & VT_AGENT_HAS_PSI_SOME)
                        s.agent_psi_some_avg10 = report->psi_some.avg10;
                if (report->fields & VT_AGENT_HAS_PSI_FULL)
                        s.agent_psi_full_avg10 = report->psi_full.avg10;
                s.agent_age_us = MAX(now_us - report->received_us, 0);
                /* Compressed swap (revision 2): zram and zswap together. */
                if (report->fields & (VT_AGENT_HAS_ZRAM | VT_AGENT_HAS_ZSWAP))
                        s.flags |= VT_BALLOON_GUEST_HAS_COMPRESSED;
                s.agent_zram_stored = report->zram_orig;
                s.agent_zram_pool = report->zram_used;
                s.agent_zswap_stored = report->zswap_stored;
                s.agent_zswap_pool = report->zswap_pool;
                if (report->fields & VT_AGENT_HAS_SWAP_RATES) {
                        s.flags |= VT_BALLOON_GUEST_HAS_SWAP_RATES;
                        s.agent_swap_in_per_s = report->swap_in_per_s;
                        s.agent_swap_out_per_s = report->swap_out_per_s;
                }
        }
        *ret_snapshot = s;
}

/**
 * vt_guest_clear_pressure:
 * @guest: a guest
 *
 * Forgets the agent's pressure push, once a decision took it into account.
 */
void
vt_guest_clear_pressure(VtGuest *guest)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_private(guest);
        priv->pressure = FALSE;
}

/**
 * vt_guest_set_pid:
 * @guest: a guest
 * @pid: the QEMU process, 0 when unknown
 *
 * For backends.
 */
void
vt_guest_set_pid(VtGuest *guest, GPid pid)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_private(guest);
        if (priv->pid == pid)
                return;
        priv->pid = pid;
        g_object_notify_by_pspec(G_OBJECT(guest), vt_guest_properties[PROP_PID]);
}

/**
 * vt_guest_set_max_bytes:
 * @guest: a guest
 * @bytes: its boot memory
 *
 * For backends.
 */
void
vt_guest_set_max_bytes(VtGuest *guest, guint64 bytes)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_private(guest);
        if (priv->max_bytes == bytes)
                return;
        priv->max_bytes = bytes;
        g_object_notify_by_pspec(G_OBJECT(guest), vt_guest_properties[PROP_MAX_BYTES]);
}

/**
 * vt_guest_update_stats:
 * @guest: a guest
 * @stats: the balloon driver's statistics (copied)
 *
 * For backends, as they read them. The statistics' monotonic time comes
 * from a wall-clock one (vt_guest_stats_sent_us()), which a wall clock
 * that jumps would move: the same report read again (same @sent_s) keeps
 * the time it was given, and a new one was sent after the last read of
 * the one before it.
 */
void
vt_guest_update_stats(VtGuest *guest, const VtGuestStats *stats)
{
        gint64 now_us = g_get_monotonic_time();
        VtGuestPrivate *priv;
        VtGuestStats s;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(stats != NULL);
        priv = vt_guest_get_private(guest);
        s = *stats;
        if (s.sent_s != 0 && priv->stats.sent_s != 0 && priv->stats.updated_us != 0 &&
            s.updated_us != 0)
                s.updated_us = s.sent_s == priv->stats.sent_s
                                   ? priv->stats.updated_us
                                   : MAX(s.updated_us, MIN(priv->stats_seen_us, now_us));
        priv->stats = s;
        priv->stats_seen_us = now_us;
}

/**
 * vt_guest_stats_sent_us:
 * @last_update_s: when the guest's balloon driver sent its statistics:
 *     the host's wall clock, seconds since the epoch (QEMU's
 *     `last-update`, libvirt's LAST_UPDATE), > 0
 * @now_us: the monotonic time now
 * @real_now_us: the wall clock now (g_get_real_time())
 *
 * For backends: the wall-clock time turned into a monotonic one for
 * #VtGuestStats's @updated_us. A time in the future reads as now; one
 * older than the monotonic clock reads as its first microsecond (never 0,
 * which means "never").
 *
 * Returns: the monotonic time the statistics were sent
 */
gint64
vt_guest_stats_sent_us(guint64 last_update_s, gint64 now_us, gint64 real_now_us)
{
        gint64 age_us;

        if (last_update_s > (guint64)(G_MAXINT64 / G_USEC_PER_SEC))
                last_update_s = G_MAXINT64 / G_USEC_PER_SEC;
        age_us = CLAMP(real_now_us - (gint64)last_update_s * G_USEC_PER_SEC, 0, now_us - 1);
        return now_us - age_us;
}

/**
 * vt_guest_set_reachable:
 * @guest: a guest
 * @reachable: whether the backend can drive it now
 *
 * For backends: an unreachable guest keeps its last state and is shown to
 * the policy with %VT_BALLOON_GUEST_UNREACHABLE. A move under way stays
 * under way: the balloon may still get there.
 */
void
vt_guest_set_reachable(VtGuest *guest, gboolean reachable)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_private(guest);
        priv->unreachable = !reachable;
}

/**
 * vt_guest_get_stored_policy:
 * @guest: a guest
 * @ret_balloon: (out caller-allocates) (optional): its balloon policy
 * @ret_ksm_opt_out: (out) (optional): whether it is left out of KSM
 *
 * Returns: %TRUE if the backend keeps a policy for the guest (a libvirt
 *     domain with vmtide's metadata element)
 */
gboolean
vt_guest_get_stored_policy(VtGuest *guest, VtBalloonGuestConfig *ret_balloon,
                           gboolean *ret_ksm_opt_out)
{
        VtGuestPrivate *priv;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        priv = vt_guest_get_private(guest);
        if (!priv->has_stored_policy)
                return FALSE;
        if (ret_balloon != NULL)
                *ret_balloon = priv->stored_policy;
        if (ret_ksm_opt_out != NULL)
                *ret_ksm_opt_out = priv->stored_ksm_opt_out;
        return TRUE;
}

/**
 * vt_guest_set_stored_policy:
 * @guest: a guest
 * @balloon: (nullable): the policy the backend keeps for it; %NULL: none
 * @ksm_opt_out: with @balloon, whether it is left out of KSM
 *
 * For backends. Emits "policy-changed" when it differs from the last one.
 */
void
vt_guest_set_stored_policy(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                           gboolean ksm_opt_out)
{
        VtGuestPrivate *priv;
        gboolean has = balloon != NULL;

        g_return_if_fail(VT_IS_GUEST(guest));
        priv = vt_guest_get_private(guest);

        if (!has)
                ksm_opt_out = FALSE;
        if (has == priv->has_stored_policy && ksm_opt_out == priv->stored_ksm_opt_out &&
            (!has || (balloon->min_bytes == priv->stored_policy.min_bytes &&
                      balloon->max_bytes == priv->stored_policy.max_bytes &&
                      balloon->shares == priv->stored_policy.shares &&
                      balloon->opt_out == priv->stored_policy.opt_out)))
                return;
        priv->has_stored_policy = has;
        priv->stored_policy = has ? *balloon : (VtBalloonGuestConfig){0};
        priv->stored_ksm_opt_out = ksm_opt_out;
        if (!priv->stopped)
                g_signal_emit(guest, vt_guest_signals[SIGNAL_POLICY_CHANGED], 0);
}

/**
 * vt_guest_can_store_policy:
 * @guest: a guest
 *
 * Returns: %TRUE if its backend keeps a policy with it
 *     (vt_guest_store_policy_async())
 */
gboolean
vt_guest_can_store_policy(VtGuest *guest)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        return VT_GUEST_GET_CLASS(guest)->store_policy_async != NULL;
}

/**
 * vt_guest_store_policy_async:
 * @guest: a started guest
 * @balloon: the balloon policy to keep (copied)
 * @ksm_opt_out: whether to leave it out of KSM
 * @callback: called when stored or refused
 * @user_data: for @callback
 *
 * Keeps the policy with the guest (libvirt: writes vmtide's element of
 * the domain's metadata, and nothing else). The stored policy is updated,
 * and "policy-changed" emitted, when the backend reads it back.
 */
void
vt_guest_store_policy_async(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                            gboolean ksm_opt_out, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestClass *klass;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(balloon != NULL);
        klass = VT_GUEST_GET_CLASS(guest);

        if (klass->store_policy_async == NULL) {
                g_task_report_new_error(guest, callback, user_data, vt_guest_store_policy_async,
                                        G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                        "guest '%s': its backend keeps no policy",
                                        vt_guest_get_name(guest));
                return;
        }
        klass->store_policy_async(guest, balloon, ksm_opt_out, callback, user_data);
}

/**
 * vt_guest_store_policy_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: %G_IO_ERROR_NOT_SUPPORTED, or the backend's error
 *
 * Returns: %TRUE if the policy was stored
 */
gboolean
vt_guest_store_policy_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        VtGuestClass *klass;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        klass = VT_GUEST_GET_CLASS(guest);
        if (g_async_result_is_tagged(result, vt_guest_store_policy_async) ||
            klass->store_policy_finish == NULL)
                return g_task_propagate_boolean(G_TASK(result), error);
        return klass->store_policy_finish(guest, result, error);
}
