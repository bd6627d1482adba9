/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A realistic recorded history from a scripted scenario, for tests, docs and demos. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtTestHistoryOptions:
 * @dir: the history's directory (created)
 * @policy: the balloon policy that runs (registry name; %NULL: vmtide)
 * @n_ticks: how many ticks (1800: an hour at 2 s)
 * @tick_us: the tick interval
 * @wall0_us: the wall-clock time of the first tick
 * @seed: the scenario's noise
 * @budget: the guests' budget, bytes (0: none)
 * @no_ksm: record no KSM step (vmtided with KSM left alone)
 *
 * vt_test_history_options_init() gives an hour of three guests on a
 * 16 GiB host with a 10 GiB budget, run by vmtide's policy.
 */
typedef struct {
        const char *dir;
        const char *policy;
        guint n_ticks;
        gint64 tick_us;
        gint64 wall0_us;
        guint32 seed;
        guint64 budget;
        gboolean no_ksm;
} VtTestHistoryOptions;

void vt_test_history_options_init(VtTestHistoryOptions *options, const char *dir);
gboolean vt_test_history_write(const VtTestHistoryOptions *options, GError **error);

G_END_DECLS
