/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the strategy mapping: a target onto virtio-mem's requested size and the balloon. */
#include <string.h>

#include "balloon/balloon-memdev.h"

#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define S   G_USEC_PER_SEC
#define NOW (1000 * S)

/* One case, sizes in MiB, times in s before NOW (0: never). */
typedef struct {
        const char *name;
        VtMemdevStrategy strategy;
        double boot;
        gboolean no_balloon;
        double held; /* what the balloon holds now: actual = boot + plugged - held */
        gboolean no_memdev;
        double block, plugged, requested, max;
        double request_ago, progress_ago;
        double target;
        /* expected */
        gboolean set_requested;
        double requested_out;
        gboolean set_balloon;
        double held_out;
        double value_out; /* QMP balloon value, with set_balloon */
        double expected;
        gboolean stuck;
        const char *reason_has;
} MemdevCase;

#define FIRST VT_MEMDEV_STRATEGY_MEMDEV_FIRST
#define ONLY  VT_MEMDEV_STRATEGY_MEMDEV_ONLY
#define BONLY VT_MEMDEV_STRATEGY_BALLOON_ONLY

static const MemdevCase cases[] = {
    /* Growing past the boot memory plugs, in whole blocks rounded down
     * (toward what is plugged) unless that plugs nothing. */
    {"grow-plug", FIRST, 256, FALSE, 0,   FALSE, 2,
     0,           0,     768, 0,     0,   512,   TRUE,
     256,         FALSE, 0,   0,     512, FALSE, "request 256 MiB plugged"},
    {"grow-align-down",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     0,
     0,
     768,
     0,
     0,
     300.5,
     TRUE,
     44,
     FALSE,
     0,
     0,
     300,
     FALSE,
     NULL},
    /* A give already part plugged: 44.5 MiB more rounds down to 44. */
    {"grow-align-down-more",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     20,
     20,
     768,
     0,
     0,
     320.5,
     TRUE,
     64,
     FALSE,
     0,
     0,
     320,
     FALSE,
     NULL},
    /* A reclaim rounds up, toward what is plugged: never below the target. */
    {"shrink-align-up",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     64,
     64,
     768,
     0,
     0,
     300.5,
     TRUE,
     46,
     FALSE,
     0,
     0,
     302,
     FALSE,
     NULL},
    {"grow-128-blocks",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     128,
     0,
     0,
     768,
     0,
     0,
     300,
     TRUE,
     128,
     FALSE,
     0,
     0,
     384,
     FALSE,
     NULL},
    {"grow-capped",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     0,
     0,
     768,
     0,
     0,
     2048,
     TRUE,
     768,
     FALSE,
     0,
     0,
     1024,
     FALSE,
     "capped at boot 256 MiB plus maximum 768 MiB"},
    {"grow-deflates-first",
     FIRST,
     256,
     FALSE,
     100,
     FALSE,
     2,
     0,
     0,
     768,
     0,
     0,
     400,
     TRUE,
     144,
     TRUE,
     0,
     256,
     400,
     FALSE,
     "balloon holds 0 B"},
    {"grow-already",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     256,
     256,
     768,
     0,
     0,
     512,
     FALSE,
     256,
     FALSE,
     0,
     0,
     512,
     FALSE,
     "nothing to move"},
    /* Shrinking unplugs first; the balloon only below the boot memory. */
    {"shrink-unplug",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     512,
     512,
     768,
     0,
     0,
     400,
     TRUE,
     144,
     FALSE,
     0,
     0,
     400,
     FALSE,
     "request 144 MiB plugged (now 512 MiB)"},
    {"shrink-below-boot",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     0,
     0,
     768,
     0,
     0,
     200,
     FALSE,
     0,
     TRUE,
     56,
     200,
     200,
     FALSE,
     "balloon holds 56 MiB"},
    {"shrink-both", FIRST, 256, FALSE, 0,  FALSE, 2,   256,   256, 768, 0, 0,
     192,           TRUE,  0,   TRUE,  64, 448,   192, FALSE, NULL},
    {"shrink-balloon-slack",
     FIRST,
     256,
     FALSE,
     54,
     FALSE,
     2,
     0,
     0,
     768,
     0,
     0,
     200,
     FALSE,
     0,
     FALSE,
     56,
     0,
     200,
     FALSE,
     "nothing to move"},
    /* An unplug under way but not stuck yet: not asked again, the balloon waits on it. */
    {"unplug-pending",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     300,
     0,
     768,
     5,
     2,
     256,
     FALSE,
     0,
     FALSE,
     0,
     0,
     256,
     FALSE,
     "nothing to move"},
    /* Stuck: no progress for 30 s; the balloon takes what stays plugged, no new request. */
    {"unplug-stuck",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     300,
     0,
     768,
     40,
     35,
     256,
     FALSE,
     0,
     TRUE,
     300,
     256,
     256,
     TRUE,
     "unplug stuck at 300 MiB (asked 0 B), not asked again yet"},
    {"unplug-stuck-lower",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     300,
     100,
     768,
     40,
     35,
     200,
     FALSE,
     100,
     TRUE,
     356,
     200,
     200,
     TRUE,
     "not asked again yet"},
    {"unplug-stuck-grow",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     300,
     100,
     768,
     40,
     35,
     700,
     TRUE,
     444,
     FALSE,
     0,
     0,
     700,
     TRUE,
     NULL},
    {"unplug-stuck-retry",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     300,
     0,
     768,
     700,
     650,
     256,
     TRUE,
     0,
     TRUE,
     300,
     256,
     256,
     TRUE,
     "asked again"},
    /* Balloon only: virtio-mem is left alone, the balloon works on all the guest has. */
    {"balloon-only",
     BONLY,
     256,
     FALSE,
     0,
     FALSE,
     2,
     256,
     256,
     768,
     0,
     0,
     400,
     FALSE,
     256,
     TRUE,
     112,
     400,
     400,
     FALSE,
     "balloon-only: 400 MiB"},
    {"balloon-only-capped",
     BONLY,
     512,
     FALSE,
     100,
     TRUE,
     0,
     0,
     0,
     0,
     0,
     0,
     1024,
     FALSE,
     0,
     TRUE,
     0,
     512,
     512,
     FALSE,
     "capped at boot 512 MiB plus plugged 0 B"},
    {"no-memdev", FIRST, 512, FALSE, 0,   TRUE,  0,
     0,           0,     0,   0,     0,   384,   FALSE,
     0,           TRUE,  128, 384,   384, FALSE, "no virtio-mem device, balloon only"},
    /* Virtio-mem only: never the balloon, never below boot. */
    {"memdev-only-floor",
     ONLY,
     256,
     FALSE,
     0,
     FALSE,
     2,
     256,
     256,
     768,
     0,
     0,
     128,
     TRUE,
     0,
     FALSE,
     0,
     0,
     256,
     FALSE,
     "no lower than boot 256 MiB"},
    {"memdev-only-no-balloon",
     ONLY,
     256,
     TRUE,
     0,
     FALSE,
     2,
     0,
     0,
     768,
     0,
     0,
     1000,
     TRUE,
     744,
     FALSE,
     0,
     0,
     1000,
     FALSE,
     NULL},
    {"first-no-balloon-below",
     FIRST,
     256,
     TRUE,
     0,
     FALSE,
     2,
     64,
     64,
     768,
     0,
     0,
     128,
     TRUE,
     0,
     FALSE,
     0,
     0,
     256,
     FALSE,
     NULL},
    /* What QEMU says is checked, not trusted. */
    {"bad-block", FIRST, 256, FALSE, 0,   FALSE, 3,
     0,           0,     768, 0,     0,   512,   FALSE,
     0,           FALSE, 0,   0,     256, FALSE, "block size not a power of two, balloon only"},
    {"zero-block",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     0,
     0,
     0,
     768,
     0,
     0,
     200,
     FALSE,
     0,
     TRUE,
     56,
     200,
     200,
     FALSE,
     "block size not a power of two"},
    {"max-below-block",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     128,
     0,
     0,
     64,
     0,
     0,
     512,
     FALSE,
     0,
     FALSE,
     0,
     0,
     256,
     FALSE,
     "maximum below one block"},
    {"plugged-above-max",
     FIRST,
     256,
     FALSE,
     0,
     FALSE,
     2,
     4096,
     4096,
     768,
     0,
     0,
     2048,
     FALSE,
     768,
     FALSE,
     0,
     0,
     1024,
     FALSE,
     "capped"},
};

static void
test_case(gconstpointer data)
{
        const MemdevCase *c = data;
        VtMemdevInput in = {0};
        VtMemdevPlan plan;
        guint64 plugged;

        in.name = c->name;
        in.strategy = c->strategy;
        in.boot_bytes = (guint64)(c->boot * MiB);
        in.has_balloon = !c->no_balloon;
        in.has_memdev = !c->no_memdev;
        in.block_size = (guint64)(c->block * MiB);
        in.plugged_bytes = (guint64)(c->plugged * MiB);
        in.requested_bytes = (guint64)(c->requested * MiB);
        in.max_bytes = (guint64)(c->max * MiB);
        in.request_us = c->request_ago > 0 ? NOW - (gint64)(c->request_ago * S) : 0;
        in.progress_us = c->progress_ago > 0 ? NOW - (gint64)(c->progress_ago * S) : 0;
        plugged = c->no_memdev ? 0 : MIN(in.plugged_bytes, in.max_bytes);
        if (in.has_balloon)
                in.balloon_actual = in.boot_bytes + plugged - (guint64)(c->held * MiB);

        vt_memdev_plan(&in, (guint64)(c->target * MiB), NOW, &plan);
        g_test_message("%s: %s", c->name, plan.reason);

        g_assert_cmpint(plan.set_requested, ==, c->set_requested);
        g_assert_cmpuint(plan.requested_bytes, ==, (guint64)(c->requested_out * MiB));
        g_assert_cmpint(plan.set_balloon, ==, c->set_balloon);
        if (c->set_balloon || c->held_out > 0)
                g_assert_cmpuint(plan.balloon_held, ==, (guint64)(c->held_out * MiB));
        if (c->set_balloon)
                g_assert_cmpuint(plan.balloon_value, ==, (guint64)(c->value_out * MiB));
        g_assert_cmpuint(plan.expected_bytes, ==, (guint64)(c->expected * MiB));
        g_assert_cmpint(plan.unplug_stuck, ==, c->stuck);
        if (in.has_memdev && in.block_size > 0 && plan.requested_bytes > 0)
                g_assert_cmpuint(plan.requested_bytes % in.block_size, ==, 0);
        if (c->reason_has != NULL && strstr(plan.reason, c->reason_has) == NULL)
                g_error("%s: reason '%s' lacks '%s'", c->name, plan.reason, c->reason_has);
}

static void
test_names(void)
{
        VtMemdevStrategy s = VT_MEMDEV_STRATEGY_MAX;

        for (guint i = 0; i < VT_MEMDEV_STRATEGY_MAX; i++) {
                g_assert_true(vt_memdev_strategy_from_name(vt_memdev_strategy_name(i), &s));
                g_assert_cmpint(s, ==, i);
        }
        g_assert_false(vt_memdev_strategy_from_name("balloon", &s));
        g_assert_false(vt_memdev_strategy_from_name(NULL, &s));
        g_assert_cmpstr(vt_memdev_strategy_name(VT_MEMDEV_STRATEGY_MAX), ==, "?");
}

/* The stuck check alone: only an unplug we asked for, only past the timeout. */
static void
test_stuck(void)
{
        VtMemdevInput in = {.has_memdev = TRUE, .plugged_bytes = 4 * MiB, .requested_bytes = 0};

        g_assert_false(vt_memdev_unplug_is_stuck(&in, NOW));
        in.request_us = NOW - 29 * S;
        g_assert_false(vt_memdev_unplug_is_stuck(&in, NOW));
        in.request_us = NOW - 31 * S;
        g_assert_true(vt_memdev_unplug_is_stuck(&in, NOW));
        in.progress_us = NOW - 1 * S;
        g_assert_false(vt_memdev_unplug_is_stuck(&in, NOW));
        in.stuck_us = 500 * 1000;
        g_assert_true(vt_memdev_unplug_is_stuck(&in, NOW));
        in.requested_bytes = 4 * MiB;
        g_assert_false(vt_memdev_unplug_is_stuck(&in, NOW));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *path = g_strdup_printf("/balloon/memdev/%s", cases[i].name);

                g_test_add_data_func(path, &cases[i], test_case);
        }
        g_test_add_func("/balloon/memdev/names", test_names);
        g_test_add_func("/balloon/memdev/stuck", test_stuck);
        return g_test_run();
}
