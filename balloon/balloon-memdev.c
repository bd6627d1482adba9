/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The strategy mapping: a guest's memory target onto virtio-mem's requested
 * size and the balloon. A guest holds its boot memory plus what virtio-mem
 * plugged minus what the balloon holds; QEMU counts the balloon's `actual`
 * the same way. Pure: no I/O, no clock, no logging.
 */
#include "balloon/balloon-memdev.h"

#include <string.h>

#include "common/vt-size.h"

#define SZ(bytes) VT_SIZE_STR(bytes, VT_SIZE_STYLE_SHORT)

static const char *const strategy_names[VT_MEMDEV_STRATEGY_MAX] = {
    [VT_MEMDEV_STRATEGY_BALLOON_ONLY] = "balloon-only",
    [VT_MEMDEV_STRATEGY_MEMDEV_FIRST] = "virtio-mem-first",
    [VT_MEMDEV_STRATEGY_MEMDEV_ONLY] = "virtio-mem-only",
};

/* One guest's levers, checked: what the mapping works from. */
typedef struct {
        gboolean memdev;   /* a virtio-mem device with believable figures */
        guint64 block;     /* its block size */
        guint64 max;       /* its maximum, block-aligned down */
        guint64 plugged;   /* plugged now, at most @max */
        guint64 requested; /* requested now, at most @max */
        guint64 held;      /* what the balloon holds now */
        const char *note;  /* why the device is not used, or NULL */
} Levers;

/**
 * vt_memdev_strategy_name() - The name of a strategy, as configured.
 * @strategy: the strategy
 *
 * Return: "balloon-only", "virtio-mem-first", "virtio-mem-only"; "?" when out of range
 */
const char *
vt_memdev_strategy_name(VtMemdevStrategy strategy)
{
        if ((guint)strategy >= VT_MEMDEV_STRATEGY_MAX)
                return "?";
        return strategy_names[strategy];
}

/**
 * vt_memdev_strategy_from_name() - Look a strategy up by its name.
 * @name: the name, as vt_memdev_strategy_name() writes it
 * @ret_strategy: (out): the strategy
 *
 * Return: TRUE when @name is a strategy, else FALSE and @ret_strategy untouched
 */
gboolean
vt_memdev_strategy_from_name(const char *name, VtMemdevStrategy *ret_strategy)
{
        for (guint i = 0; name != NULL && i < VT_MEMDEV_STRATEGY_MAX; i++) {
                if (strcmp(name, strategy_names[i]) == 0) {
                        *ret_strategy = (VtMemdevStrategy)i;
                        return TRUE;
                }
        }
        return FALSE;
}

static guint64
sat_sub(guint64 a, guint64 b)
{
        return a > b ? a - b : 0;
}

static guint64
align_up(guint64 bytes, guint64 block)
{
        guint64 down = bytes & ~(block - 1);

        return down == bytes ? bytes : down + block;
}

/*
 * What to request for @raw bytes beyond the boot memory, in whole blocks,
 * rounded toward what is requested now: down on a give (rounding up would
 * put the host past the line the policy's give stopped at, and the next
 * tick would take it back), unless that gives nothing, then one block up;
 * up on a reclaim (never below what the policy left the guest).
 */
static guint64
plug_size(guint64 raw, guint64 current, guint64 block)
{
        guint64 down = raw & ~(block - 1);

        if (raw > current && down > current)
                return down;
        return align_up(raw, block);
}

/**
 * vt_memdev_unplug_is_stuck() - Whether an unplug made no progress past the timeout.
 * @input: the guest's levers
 * @now_us: monotonic now
 *
 * An unplug is under way while more is plugged than requested; it is stuck
 * when neither the request nor a move of the plugged size happened in the
 * last @input->stuck_us (the guest cannot free the blocks: unmovable pages).
 *
 * Return: TRUE when stuck
 */
gboolean
vt_memdev_unplug_is_stuck(const VtMemdevInput *input, gint64 now_us)
{
        gint64 timeout = input->stuck_us > 0 ? input->stuck_us : VT_MEMDEV_STUCK_US;
        gint64 since = MAX(input->request_us, input->progress_us);

        if (!input->has_memdev || input->plugged_bytes <= input->requested_bytes)
                return FALSE;
        if (input->request_us <= 0)
                return FALSE;
        return now_us - since >= timeout;
}

/* Reads the input into @lv, not believing what cannot be. */
static void
levers_read(const VtMemdevInput *input, Levers *lv)
{
        guint64 block = input->block_size;
        guint64 top;

        memset(lv, 0, sizeof(*lv));
        if (input->has_memdev) {
                if (block == 0 || (block & (block - 1)) != 0 || block > VT_MEMDEV_BLOCK_MAX)
                        lv->note = "virtio-mem block size not a power of two";
                else if (input->max_bytes < block)
                        lv->note = "virtio-mem maximum below one block";
                else
                        lv->memdev = TRUE;
        }
        if (lv->memdev) {
                lv->block = block;
                lv->max = input->max_bytes & ~(block - 1);
                lv->plugged = MIN(input->plugged_bytes, lv->max);
                lv->requested = MIN(input->requested_bytes, lv->max);
        }
        top = input->boot_bytes + lv->plugged;
        if (input->has_balloon && input->balloon_actual > 0)
                lv->held = sat_sub(top, input->balloon_actual);
}

/* Plans virtio-mem's requested size; returns what will stay plugged once settled. */
static guint64
plan_requested(const VtMemdevInput *input, const Levers *lv, guint64 target, gint64 now_us,
               VtMemdevPlan *plan)
{
        gint64 retry = input->retry_us > 0 ? input->retry_us : VT_MEMDEV_RETRY_US;
        guint64 want =
            MIN(plug_size(sat_sub(target, input->boot_bytes), lv->requested, lv->block), lv->max);

        plan->requested_bytes = want;
        if (plan->unplug_stuck && want <= lv->requested && now_us - input->request_us < retry) {
                /* Not asked again blindly: the guest could not do it. */
                plan->requested_bytes = lv->requested;
                return lv->plugged;
        }
        plan->set_requested = want != lv->requested || (plan->unplug_stuck && want < lv->plugged);
        return plan->unplug_stuck ? MAX(want, lv->plugged) : want;
}

/* The balloon's part of the plan, and the reason's words for it. */
static void
plan_balloon(const VtMemdevInput *input, const Levers *lv, guint64 held, VtMemdevPlan *plan)
{
        guint64 now_top = input->boot_bytes + lv->plugged;
        guint64 diff = held > lv->held ? held - lv->held : lv->held - held;

        plan->balloon_held = held;
        if (!input->has_balloon || diff < VT_MEMDEV_BALLOON_SLACK || held >= now_top)
                return;
        plan->set_balloon = TRUE;
        plan->balloon_value = now_top - held;
}

static void
reason_levers(const Levers *lv, const VtMemdevPlan *plan, GString *why)
{
        if (plan->set_requested)
                g_string_append_printf(why, "; request %s plugged (now %s)",
                                       SZ(plan->requested_bytes), SZ(lv->plugged));
        if (plan->set_balloon)
                g_string_append_printf(why, "; balloon holds %s (now %s)", SZ(plan->balloon_held),
                                       SZ(lv->held));
        if (!plan->set_requested && !plan->set_balloon)
                g_string_append(why, "; nothing to move");
}

/**
 * vt_memdev_plan() - Map a guest's memory target onto virtio-mem and the balloon.
 * @input: the guest's levers and strategy
 * @target_bytes: the memory the guest should have (the policy's target)
 * @now_us: monotonic now (for a stuck unplug)
 * @plan: (out): what to do, and why
 *
 * Balloon-only (and any guest without a believable virtio-mem device)
 * moves the balloon within boot memory plus what is plugged. Virtio-mem
 * first asks for the target's part above the boot memory, rounded up to a
 * block and capped at the device's maximum, and balloons only below the
 * boot memory; while an unplug is stuck it does not ask the same again
 * before @input->retry_us and lets the balloon take what stays plugged.
 * Virtio-mem only never moves the balloon.
 */
void
vt_memdev_plan(const VtMemdevInput *input, guint64 target_bytes, gint64 now_us, VtMemdevPlan *plan)
{
        g_autoptr(GString) why = g_string_new(NULL);
        VtMemdevStrategy strategy = input->strategy;
        guint64 boot = input->boot_bytes;
        guint64 stays;
        guint64 held;
        Levers lv;

        memset(plan, 0, sizeof(*plan));
        levers_read(input, &lv);
        if ((guint)strategy >= VT_MEMDEV_STRATEGY_MAX)
                strategy = VT_MEMDEV_STRATEGY_BALLOON_ONLY;
        g_string_append_printf(why, "%s: ", vt_memdev_strategy_name(strategy));
        if (!lv.memdev && strategy != VT_MEMDEV_STRATEGY_BALLOON_ONLY) {
                g_string_append_printf(
                    why, "%s, balloon only: ", lv.note != NULL ? lv.note : "no virtio-mem device");
                strategy = VT_MEMDEV_STRATEGY_BALLOON_ONLY;
        }
        plan->requested_bytes = lv.requested;
        plan->unplug_stuck = lv.memdev && vt_memdev_unplug_is_stuck(input, now_us);

        if (strategy == VT_MEMDEV_STRATEGY_BALLOON_ONLY) {
                stays = lv.plugged;
                held = input->has_balloon ? sat_sub(boot + stays, target_bytes) : 0;
                g_string_append_printf(why, "%s for %s", SZ(boot + stays - held), SZ(target_bytes));
                if (target_bytes > boot + stays)
                        g_string_append_printf(why, ", capped at boot %s plus plugged %s", SZ(boot),
                                               SZ(stays));
        } else {
                stays = plan_requested(input, &lv, target_bytes, now_us, plan);
                held = strategy == VT_MEMDEV_STRATEGY_MEMDEV_ONLY
                           ? lv.held
                           : sat_sub(boot + stays, target_bytes);
                if (strategy == VT_MEMDEV_STRATEGY_MEMDEV_FIRST && !plan->unplug_stuck &&
                    target_bytes >= boot)
                        held = 0;
                if (!input->has_balloon)
                        held = 0;
                g_string_append_printf(why, "%s for %s", SZ(boot + stays - MIN(held, boot + stays)),
                                       SZ(target_bytes));
                if (target_bytes > boot + lv.max)
                        g_string_append_printf(why, ", capped at boot %s plus maximum %s", SZ(boot),
                                               SZ(lv.max));
                else if (strategy == VT_MEMDEV_STRATEGY_MEMDEV_ONLY && target_bytes < boot)
                        g_string_append_printf(why, ", no lower than boot %s without the balloon",
                                               SZ(boot));
                if (plan->unplug_stuck)
                        g_string_append_printf(why, ", unplug stuck at %s (asked %s)%s",
                                               SZ(lv.plugged), SZ(lv.requested),
                                               plan->set_requested ? ", asked again"
                                                                   : ", not asked again yet");
        }
        plan_balloon(input, &lv, MIN(held, boot + stays), plan);
        plan->expected_bytes = boot + stays - plan->balloon_held;
        reason_levers(&lv, plan, why);
        g_strlcpy(plan->reason, why->str, sizeof(plan->reason));
}
