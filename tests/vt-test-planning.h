/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of planning: a recorded history written with the recorder's writer (header only). */
#pragma once

#include <glib.h>

#include "host/recorder/recorder-writer.h"

/**
 * VtTestHistory:
 * @end_wall_us: the last tick's wall-clock time
 * @n_ticks: ticks, 2 s apart
 * @mem_total: the host's MemTotal
 * @available0: its MemAvailable at the first tick
 * @available_step: added at each tick (negative: falling)
 * @guest: the guest's name (one guest)
 * @guest_max: its boot memory
 * @guest_actual: its balloon
 * @wants: (array zero-terminated=1): its want at each tick, cycled
 * @push_every: a pressure push every this many ticks (0: none)
 * @ksm_pages_sharing: pages_sharing of a KSM step every tick (0: no steps)
 *
 * What vt_test_history_write() records.
 */
typedef struct {
        gint64 end_wall_us;
        guint n_ticks;
        guint64 mem_total;
        guint64 available0;
        gint64 available_step;
        const char *guest;
        guint64 guest_max;
        guint64 guest_actual;
        const guint64 *wants;
        guint push_every;
        guint64 ksm_pages_sharing;
} VtTestHistory;

static inline void
vt_test_history_add_ksm(VtRecorder *recorder, const VtTestHistory *h, gint64 wall_us)
{
        char *names[] = {(char *)h->guest};
        VtKsmGuest guest = {.mergeable_bytes = h->guest_max, .merging_pages = -1};
        gint64 profit = -1;
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_KSM, .wall_us = wall_us, .mono_us = wall_us};

        record.u.ksm.sample.pages_sharing = h->ksm_pages_sharing;
        record.u.ksm.decision.reason = "test";
        record.u.ksm.cpu_share = -1;
        record.u.ksm.n_guests = 1;
        record.u.ksm.names = names;
        record.u.ksm.guests = &guest;
        record.u.ksm.profits = &profit;
        g_assert_true(vt_recorder_add(recorder, &record));
}

/* Writes @h into the history directory @dir. */
static inline void
vt_test_history_write(const char *dir, const VtTestHistory *h)
{
        VtRecorderConfig config;
        VtBalloonConfig policy;
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        gint64 wall0 = h->end_wall_us - (gint64)(h->n_ticks - 1) * 2 * G_USEC_PER_SEC;
        guint n_wants = 0;

        while (h->wants != NULL && h->wants[n_wants] != 0)
                n_wants++;
        vt_recorder_config_init(&config);
        config.dir = dir;
        recorder = vt_recorder_new(&config);
        vt_balloon_config_init(&policy);
        g_assert_true(vt_recorder_add_policy(recorder, wall0, 1, "vmtide", &policy));
        for (guint i = 0; i < h->n_ticks; i++) {
                gint64 wall_us = wall0 + (gint64)i * 2 * G_USEC_PER_SEC;
                VtBalloonHost host = {
                    .mem_total = h->mem_total,
                    .mem_available = (guint64)((gint64)h->available0 + h->available_step * i),
                };
                VtBalloonGuest guest = {
                    .name = h->guest,
                    .flags = VT_BALLOON_GUEST_HAS_BALLOON | VT_BALLOON_GUEST_HAS_STATS,
                    .max_bytes = h->guest_max,
                    .actual_bytes = h->guest_actual,
                };
                VtBalloonGuestConfig guest_config = {0};
                VtBalloonTarget target = {.target_bytes = h->guest_actual};
                VtBalloonInput input = {.host = &host,
                                        .guests = &guest,
                                        .configs = &guest_config,
                                        .n_guests = 1,
                                        .now_us = wall_us};
                VtBalloonState before = {0};
                VtBalloonDecision decision = {.targets = &target};

                if (h->push_every > 0 && i % h->push_every == 0)
                        guest.flags |= VT_BALLOON_GUEST_PRESSURE_PUSH;
                target.want_bytes = n_wants > 0 ? h->wants[i % n_wants] : 0;
                g_strlcpy(target.reason, "test", sizeof(target.reason));
                g_strlcpy(decision.reason, "test", sizeof(decision.reason));
                g_assert_true(
                    vt_recorder_add_tick(recorder, wall_us, NULL, &input, &before, &decision));
                if (h->ksm_pages_sharing > 0)
                        vt_test_history_add_ksm(recorder, h, wall_us);
                g_assert_true(vt_recorder_flush(recorder, wall_us, &error));
                g_assert_no_error(error);
        }
}
