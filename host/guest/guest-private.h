/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VtGuest's private state, shared by the files of the base class only. */
#pragma once

#include "host/guest/guest.h"

G_BEGIN_DECLS

typedef struct {
        char *name;
        char *agent_path;
        GPid pid;
        guint64 max_bytes;
        guint64 actual_bytes;
        gboolean has_balloon;
        VtGuestStats stats;
        gint64 stats_seen_us; /* when the backend last gave the statistics (monotonic) */
        VtBalloonGuestConfig config;

        VtAgentReader *agent;
        gulong agent_pressure_id;

        gboolean starting;
        gboolean started;
        gboolean stopped;
        gboolean gone;
        gboolean pressure;
        gboolean unreachable;

        gboolean has_stored_policy;
        VtBalloonGuestConfig stored_policy;
        gboolean stored_ksm_opt_out;

        VtGuestMove move; /* the last move asked for (guest-move.c) */
        guint64 serial;   /* counts moves, so a late reply finds its own */

        /* virtio-mem (guest-memdev.c). */
        VtGuestMemdev memdev;
        VtMemdevStrategy memdev_strategy;
        gboolean memdev_stuck_logged; /* the unplug under way was logged as stuck */

        GMainContext *context;
        GSource *poll_source;
        gboolean poll_in_flight;
        gint64 poll_since_us; /* when the move being polled was taken */
} VtGuestPrivate;

enum {
        PROP_0,
        PROP_NAME,
        PROP_AGENT_PATH,
        PROP_PID,
        PROP_MAX_BYTES,
        PROP_ACTUAL_BYTES,
        PROP_TARGET_BYTES,
        PROP_HAS_BALLOON,
        PROP_LAST,
};

enum {
        SIGNAL_BALLOON_CHANGED,
        SIGNAL_PRESSURE,
        SIGNAL_GONE,
        SIGNAL_MOVE_DONE,
        SIGNAL_MOVE_STUCK,
        SIGNAL_POLICY_CHANGED,
        SIGNAL_MEMDEV_CHANGED,
        SIGNAL_LAST,
};

/* Indexed by the enums above; filled in vt_guest_class_init(). */
extern GParamSpec *vt_guest_properties[PROP_LAST];
extern guint vt_guest_signals[SIGNAL_LAST];

VtGuestPrivate *vt_guest_get_private(VtGuest *guest);
/* Fails @task when @guest cannot take commands; returns TRUE if it did. */
gboolean vt_guest_return_if_unusable(VtGuest *guest, GTask *task);
/* Stops reading the balloon of a move under way (guest-balloon.c). */
void vt_guest_poll_stop(VtGuest *guest);

/* A move's request to the backend(s) (guest-balloon.c): vt_guest_move_begin()
 * starts the tracker toward @target_bytes and gives @task its data; once
 * the backend took every part, vt_guest_move_taken() completes @task and
 * polls; vt_guest_move_failed() gives the policy back the old target and
 * fails @task with @error (transfer full). All take @task (transfer full). */
void vt_guest_move_begin(VtGuest *guest, GTask *task, guint64 target_bytes, gint64 now_us);
void vt_guest_move_taken(VtGuest *guest, GTask *task);
void vt_guest_move_failed(VtGuest *guest, GTask *task, GError *error);
/* Judges the move under way against the memory seen at @now_us. */
void vt_guest_move_check(VtGuest *guest, gint64 now_us);

/* guest-memdev.c: whether targets go through vt_memdev_plan() (a device
 * and a strategy other than balloon-only)... */
gboolean vt_guest_memdev_drives(VtGuest *guest);
/* ... the guest's memory in the policy's currency: the balloon's `actual`
 * plus, when virtio-mem drives, what is plugged (QEMU's `actual` counts
 * only the boot memory and DIMMs, not virtio-mem) ... */
guint64 vt_guest_memdev_memory(VtGuest *guest);
/* ... and the move that maps a target onto both levers; takes @task. */
void vt_guest_memdev_set_target(VtGuest *guest, GTask *task, guint64 bytes, gint64 now_us);

G_END_DECLS
