/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's virtio-mem device, the second lever beside the balloon.
 *
 * Theory of operation: the backend reports the device it drives (at start,
 * on refresh, on every size change it hears of) through
 * vt_guest_update_memdev(); the base class keeps it with the times the
 * mapping needs: when the plugged size last moved (@progress_us) and when
 * vmtided last asked for a size (@request_us).
 *
 * With a device and a strategy other than balloon-only, the policy works
 * in one currency: boot memory plus what is plugged minus what the balloon
 * holds. QEMU's balloon does not count virtio-mem (its `actual` is the boot
 * memory and DIMMs minus the balloon; measured on QEMU 7.2: 256 MiB
 * plugged left `actual` at the boot size), so the base class adds what is
 * plugged: vt_guest_memdev_memory(). The snapshot's maximum is the boot
 * memory plus the device's maximum, and a target is mapped onto both
 * levers with vt_memdev_plan(), whose balloon value (counted from boot
 * plus plugged) goes to QEMU less what is plugged. The move then goes
 * toward the plan's expected size, and the tracker of
 * host/guest/guest-balloon.c follows the sum: balloon polls and plugged
 * sizes (events, the backend's polls) both move it.
 *
 * An unplug the guest cannot finish (unmovable pages) is noticed by the
 * plan (no progress for %VT_MEMDEV_STUCK_US), logged once, not asked again
 * before %VT_MEMDEV_RETRY_US, and the balloon covers for it meanwhile.
 */
#include "host/guest/guest-private.h"

#include "common/vt-size.h"
#include "qmp/qmp-error.h"

#define SZ(bytes) VT_SIZE_STR(bytes, VT_SIZE_STYLE_SHORT)

/* The mapping's input from what the guest holds now. */
static void
memdev_input(VtGuest *guest, VtMemdevInput *ret_input)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        const VtGuestMemdev *m = &priv->memdev;

        *ret_input = (VtMemdevInput){
            .name = priv->name,
            .strategy = priv->memdev_strategy,
            .boot_bytes = priv->max_bytes,
            .has_balloon = priv->has_balloon,
            .balloon_actual = priv->actual_bytes + (m->present ? m->plugged_bytes : 0),
            .has_memdev = m->present,
            .block_size = m->block_size,
            .plugged_bytes = m->plugged_bytes,
            .requested_bytes = m->requested_bytes,
            .max_bytes = m->max_bytes,
            .request_us = m->request_us,
            .progress_us = m->progress_us,
        };
}

/* Logs a stuck unplug once per episode; forgets it once it is not stuck. */
static void
memdev_note_stuck(VtGuest *guest, gint64 now_us)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        VtMemdevInput input;

        memdev_input(guest, &input);
        if (!vt_memdev_unplug_is_stuck(&input, now_us)) {
                priv->memdev_stuck_logged = FALSE;
                return;
        }
        if (priv->memdev_stuck_logged)
                return;
        priv->memdev_stuck_logged = TRUE;
        g_message("guest '%s': virtio-mem '%s' unplug stuck at %s plugged (asked %s), "
                  "no progress for %.1f s: not asked again for %.0f s, the balloon covers "
                  "for it",
                  priv->name, priv->memdev.id, SZ(priv->memdev.plugged_bytes),
                  SZ(priv->memdev.requested_bytes),
                  (double)(now_us - MAX(input.request_us, input.progress_us)) / G_USEC_PER_SEC,
                  (double)VT_MEMDEV_RETRY_US / G_USEC_PER_SEC);
}

/**
 * vt_guest_get_memdev:
 * @guest: a guest
 *
 * Returns: (transfer none): its virtio-mem device as the backend last
 *     reported it (@present FALSE: none); valid until the next report
 */
const VtGuestMemdev *
vt_guest_get_memdev(VtGuest *guest)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), NULL);
        return &vt_guest_get_private(guest)->memdev;
}

/**
 * vt_guest_get_memdev_strategy:
 * @guest: a guest
 *
 * Returns: which lever moves its memory (default
 *     %VT_MEMDEV_STRATEGY_MEMDEV_FIRST)
 */
VtMemdevStrategy
vt_guest_get_memdev_strategy(VtGuest *guest)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), VT_MEMDEV_STRATEGY_BALLOON_ONLY);
        return vt_guest_get_private(guest)->memdev_strategy;
}

/**
 * vt_guest_set_memdev_strategy:
 * @guest: a guest
 * @strategy: which lever moves its memory from the next target on
 *
 * A guest without a virtio-mem device is ballooned whatever its strategy.
 */
void
vt_guest_set_memdev_strategy(VtGuest *guest, VtMemdevStrategy strategy)
{
        VtGuestPrivate *priv;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail((guint)strategy < VT_MEMDEV_STRATEGY_MAX);
        priv = vt_guest_get_private(guest);
        if (priv->memdev_strategy == strategy)
                return;
        g_debug("guest '%s': memory strategy '%s' -> '%s'", priv->name,
                vt_memdev_strategy_name(priv->memdev_strategy), vt_memdev_strategy_name(strategy));
        priv->memdev_strategy = strategy;
}

/**
 * vt_guest_is_unplug_stuck:
 * @guest: a guest
 * @now_us: monotonic now
 *
 * Returns: %TRUE while its device holds more than it was asked to and
 *     made no progress for %VT_MEMDEV_STUCK_US since the last request
 */
gboolean
vt_guest_is_unplug_stuck(VtGuest *guest, gint64 now_us)
{
        VtMemdevInput input;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        memdev_input(guest, &input);
        return vt_memdev_unplug_is_stuck(&input, now_us);
}

/**
 * vt_guest_memdev_memory:
 * @guest: a guest
 *
 * Returns: its memory in the policy's currency: the balloon's `actual`
 *     (the boot memory without a balloon) plus what is plugged when
 *     virtio-mem drives its targets
 */
guint64
vt_guest_memdev_memory(VtGuest *guest)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        guint64 balloon = priv->has_balloon ? priv->actual_bytes : priv->max_bytes;

        if (!vt_guest_memdev_drives(guest))
                return priv->actual_bytes;
        return balloon + priv->memdev.plugged_bytes;
}

/**
 * vt_guest_memdev_drives:
 * @guest: a guest
 *
 * Returns: %TRUE when targets and the policy's maximum go through the
 *     virtio-mem mapping (a device and a strategy other than balloon-only)
 */
gboolean
vt_guest_memdev_drives(VtGuest *guest)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);

        return priv->memdev.present && priv->memdev_strategy != VT_MEMDEV_STRATEGY_BALLOON_ONLY &&
               VT_GUEST_GET_CLASS(guest)->set_memdev_async != NULL;
}

/**
 * vt_guest_update_memdev:
 * @guest: a guest
 * @memdev: its device as the backend read it (@present FALSE: it has
 *     none, or none the backend believes); @progress_us and @request_us
 *     are ignored
 * @now_us: the monotonic time it was read
 *
 * For backends. Emits "memdev-changed" when the plugged size changed or
 * the device appeared or went.
 */
void
vt_guest_update_memdev(VtGuest *guest, const VtGuestMemdev *memdev, gint64 now_us)
{
        VtGuestPrivate *priv;
        VtGuestMemdev next;
        gboolean changed;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(memdev != NULL);
        priv = vt_guest_get_private(guest);
        if (priv->stopped)
                return;

        next = memdev->present ? *memdev : (VtGuestMemdev){0};
        next.progress_us = priv->memdev.progress_us;
        next.request_us = priv->memdev.request_us;
        changed = next.present != priv->memdev.present ||
                  next.plugged_bytes != priv->memdev.plugged_bytes;
        if (changed && next.present && priv->memdev.present)
                next.progress_us = now_us;
        if (next.present && !priv->memdev.present)
                g_debug(
                    "guest '%s': virtio-mem '%s': %s plugged of %s (requested %s), blocks of %s",
                    priv->name, next.id, SZ(next.plugged_bytes), SZ(next.max_bytes),
                    SZ(next.requested_bytes), SZ(next.block_size));
        else if (!next.present && priv->memdev.present)
                g_debug("guest '%s': virtio-mem '%s' gone", priv->name, priv->memdev.id);
        priv->memdev = next;
        if (next.present)
                memdev_note_stuck(guest, now_us);
        if (changed)
                g_signal_emit(guest, vt_guest_signals[SIGNAL_MEMDEV_CHANGED], 0,
                              next.plugged_bytes);
        /* What is plugged counts toward the move under way. */
        if (changed && vt_guest_memdev_drives(guest))
                vt_guest_move_check(guest, now_us);
}

static void
memdev_on_requested(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        GTask *task = user_data;
        const VtMemdevPlan *plan = g_object_get_data(G_OBJECT(task), "vt-memdev-plan");
        GError *error = NULL;

        if (!VT_GUEST_GET_CLASS(guest)->set_memdev_finish(guest, result, &error)) {
                vt_guest_move_failed(guest, task, error);
                return;
        }
        if (priv->memdev.present) {
                priv->memdev.requested_bytes = plan->requested_bytes;
                priv->memdev.request_us = g_get_monotonic_time();
                priv->memdev_stuck_logged = FALSE;
        }
        vt_guest_move_taken(guest, task);
}

/* virtio-mem's part of the plan, once the balloon's was taken (or none). */
static void
memdev_set_requested(VtGuest *guest, GTask *task)
{
        const VtMemdevPlan *plan = g_object_get_data(G_OBJECT(task), "vt-memdev-plan");

        if (!plan->set_requested) {
                vt_guest_move_taken(guest, task);
                return;
        }
        VT_GUEST_GET_CLASS(guest)->set_memdev_async(guest, plan->requested_bytes,
                                                    memdev_on_requested, task);
}

static void
memdev_on_balloon_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuest *guest = VT_GUEST(source);
        GTask *task = user_data;
        GError *error = NULL;

        if (!VT_GUEST_GET_CLASS(guest)->set_balloon_finish(guest, result, &error)) {
                if (g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE))
                        vt_guest_set_has_balloon(guest, FALSE);
                vt_guest_move_failed(guest, task, error);
                return;
        }
        memdev_set_requested(guest, task);
}

/**
 * vt_guest_memdev_set_target:
 * @guest: a started guest whose targets go through the mapping
 * @task: (transfer full): the vt_guest_set_target_async() task
 * @bytes: the memory the policy wants the guest to have
 * @now_us: when the decision was made
 *
 * Plans both levers, starts the move toward what the plan expects, and
 * asks the balloon first, then virtio-mem. @task completes once both parts
 * were taken (or one failed).
 */
void
vt_guest_memdev_set_target(VtGuest *guest, GTask *task, guint64 bytes, gint64 now_us)
{
        VtGuestPrivate *priv = vt_guest_get_private(guest);
        VtMemdevPlan *plan = g_new0(VtMemdevPlan, 1);
        VtMemdevInput input;
        guint64 value;

        memdev_input(guest, &input);
        vt_memdev_plan(&input, bytes, now_us, plan);
        g_object_set_data_full(G_OBJECT(task), "vt-memdev-plan", plan, g_free);
        if (plan->unplug_stuck)
                memdev_note_stuck(guest, now_us);
        vt_guest_move_begin(guest, task, plan->expected_bytes, now_us);
        g_debug("guest '%s': %s -> %s: %s", priv->name, SZ(input.balloon_actual),
                SZ(plan->expected_bytes), plan->reason);
        if (!plan->set_balloon) {
                memdev_set_requested(guest, task);
                return;
        }
        /* QEMU counts the value from its boot memory alone. */
        value = plan->balloon_value > input.plugged_bytes
                    ? plan->balloon_value - input.plugged_bytes
                    : MIN(VT_MEMDEV_BALLOON_SLACK, input.boot_bytes);
        VT_GUEST_GET_CLASS(guest)->set_balloon_async(guest, value, memdev_on_balloon_set, task);
}
