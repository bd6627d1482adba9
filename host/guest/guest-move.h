/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A balloon move judged from the sizes seen: under way, done, stuck (pure). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A move is confirmed when the balloon is this close to its target. */
#define VT_GUEST_CONFIRM_SLACK (G_GUINT64_CONSTANT(4) << 20)
/* A move that made no progress for this long is stuck. */
#define VT_GUEST_STUCK_US (10 * G_USEC_PER_SEC)
/* A stuck balloon is tried again after this long (a driver may load). */
#define VT_GUEST_STUCK_RETRY_US (300 * G_USEC_PER_SEC)

/**
 * VtGuestMoveState:
 * @VT_GUEST_MOVE_IDLE: no move under way: none was asked for, or the last
 *     one ended (done or stuck) at an earlier observation, or was cancelled
 * @VT_GUEST_MOVE_UNDER_WAY: the move goes on (it made progress, or not yet
 *     for the stuck timeout)
 * @VT_GUEST_MOVE_DONE: this observation is within %VT_GUEST_CONFIRM_SLACK
 *     of the target: the move ended here
 * @VT_GUEST_MOVE_STUCK: this observation made no progress for the stuck
 *     timeout: the move ended here
 *
 * What an observation made of the move. %VT_GUEST_MOVE_DONE and
 * %VT_GUEST_MOVE_STUCK are returned once per move, by the observation that
 * ended it.
 */
typedef enum {
        VT_GUEST_MOVE_IDLE,
        VT_GUEST_MOVE_UNDER_WAY,
        VT_GUEST_MOVE_DONE,
        VT_GUEST_MOVE_STUCK,
        VT_GUEST_MOVE_STATE_MAX,
} VtGuestMoveState;

/**
 * VtGuestMove:
 * @target_bytes: the last target asked for, bytes (0: none)
 * @reclaim: that target was below the balloon's size when asked for
 * @start_us: when it was asked for (the caller's monotonic time)
 * @moving: a move is under way (neither done, stuck nor cancelled)
 * @best_distance: the closest the balloon came to the target in this move
 * @progress_us: when it last came closer (or the move started)
 * @stuck: the last move got stuck and did not get there since
 * @stuck_since_us: when it got stuck
 * @stuck_timeout_us: how long a move may make no progress before it is
 *     stuck, > 0
 *
 * One guest's balloon move, plain data: vt_guest_move_start() starts it,
 * vt_guest_move_observe() judges each balloon size seen. Nothing here
 * reads a clock: every time is the caller's.
 */
typedef struct {
        guint64 target_bytes;
        gboolean reclaim;
        gint64 start_us;
        gboolean moving;
        guint64 best_distance;
        gint64 progress_us;
        gboolean stuck;
        gint64 stuck_since_us;
        gint64 stuck_timeout_us;
} VtGuestMove;

void vt_guest_move_init(VtGuestMove *move, gint64 stuck_timeout_us);
void vt_guest_move_start(VtGuestMove *move, guint64 actual_bytes, guint64 target_bytes,
                         gint64 now_us);
VtGuestMoveState vt_guest_move_observe(VtGuestMove *move, guint64 actual_bytes, gint64 now_us);
void vt_guest_move_cancel(VtGuestMove *move);
void vt_guest_move_refused(VtGuestMove *move, guint64 previous_target_bytes,
                           gint64 previous_start_us);
gboolean vt_guest_move_is_stuck_at(const VtGuestMove *move, gint64 now_us);
const char *vt_guest_move_state_to_string(VtGuestMoveState state);

G_END_DECLS
