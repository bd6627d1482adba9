/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A balloon move judged from the sizes seen: under way, done, stuck. Pure:
 * no clock, no I/O; host/guest/guest-balloon.c feeds it and emits the
 * signals.
 *
 * Theory of operation: vt_guest_move_start() records the target, how far
 * the balloon is from it and the time (the caller's @now_us). Every size
 * seen afterwards goes through vt_guest_move_observe() with the time it
 * was seen:
 *
 * - within %VT_GUEST_CONFIRM_SLACK of the target (either side): done;
 * - closer to the target than ever in this move: progress, the stuck clock
 *   starts over;
 * - otherwise, once the stuck timeout passed since the last progress (or
 *   the start): stuck. A guest whose driver is missing or refuses does not
 *   move at all, so its first move ends here.
 *
 * A stuck balloon that gets within the slack of its target later is not
 * stuck any more. vt_guest_move_is_stuck_at() shows a stuck move for
 * %VT_GUEST_STUCK_RETRY_US only (a driver may have loaded since), which is
 * what lets the policy try again.
 */
#include "host/guest/guest-move.h"

static guint64
move_distance(guint64 a, guint64 b)
{
        return a > b ? a - b : b - a;
}

/**
 * vt_guest_move_init:
 * @move: (out caller-allocates): the tracker
 * @stuck_timeout_us: how long a move may make no progress before it is
 *     stuck, > 0 (the daemon: %VT_GUEST_STUCK_US)
 *
 * No move asked for yet.
 */
void
vt_guest_move_init(VtGuestMove *move, gint64 stuck_timeout_us)
{
        g_return_if_fail(move != NULL);
        g_return_if_fail(stuck_timeout_us > 0);
        *move = (VtGuestMove){.stuck_timeout_us = stuck_timeout_us};
}

/**
 * vt_guest_move_start:
 * @move: the tracker
 * @actual_bytes: the balloon's size when the move is asked for
 * @target_bytes: the size asked for, > 0
 * @now_us: when it is asked for
 *
 * Starts a move, replacing one under way; a stuck mark is dropped.
 */
void
vt_guest_move_start(VtGuestMove *move, guint64 actual_bytes, guint64 target_bytes, gint64 now_us)
{
        g_return_if_fail(move != NULL);
        g_return_if_fail(target_bytes > 0);
        move->reclaim = target_bytes < actual_bytes;
        move->target_bytes = target_bytes;
        move->start_us = now_us;
        move->moving = TRUE;
        move->stuck = FALSE;
        move->best_distance = move_distance(actual_bytes, target_bytes);
        move->progress_us = now_us;
}

/**
 * vt_guest_move_observe:
 * @move: the tracker
 * @actual_bytes: the balloon's size as seen
 * @now_us: when it was seen
 *
 * Judges the move under way against @actual_bytes.
 *
 * Returns: %VT_GUEST_MOVE_DONE or %VT_GUEST_MOVE_STUCK when this
 *     observation ends the move, %VT_GUEST_MOVE_UNDER_WAY while it goes
 *     on, %VT_GUEST_MOVE_IDLE when no move is under way
 */
VtGuestMoveState
vt_guest_move_observe(VtGuestMove *move, guint64 actual_bytes, gint64 now_us)
{
        guint64 distance;

        g_return_val_if_fail(move != NULL, VT_GUEST_MOVE_IDLE);
        if (move->target_bytes == 0)
                return VT_GUEST_MOVE_IDLE;
        distance = move_distance(actual_bytes, move->target_bytes);
        if (!move->moving) {
                /* A stuck balloon that got there after all is not stuck. */
                if (move->stuck && distance <= VT_GUEST_CONFIRM_SLACK)
                        move->stuck = FALSE;
                return VT_GUEST_MOVE_IDLE;
        }
        if (distance <= VT_GUEST_CONFIRM_SLACK) {
                move->moving = FALSE;
                return VT_GUEST_MOVE_DONE;
        }
        if (distance < move->best_distance) {
                move->best_distance = distance;
                move->progress_us = now_us;
                return VT_GUEST_MOVE_UNDER_WAY;
        }
        if (now_us - move->progress_us < move->stuck_timeout_us)
                return VT_GUEST_MOVE_UNDER_WAY;
        move->moving = FALSE;
        move->stuck = TRUE;
        move->stuck_since_us = now_us;
        return VT_GUEST_MOVE_STUCK;
}

/**
 * vt_guest_move_cancel:
 * @move: the tracker
 *
 * Ends the move under way without a verdict (the guest stopped, went away
 * or lost its balloon); its target stays the last one asked for.
 */
void
vt_guest_move_cancel(VtGuestMove *move)
{
        g_return_if_fail(move != NULL);
        move->moving = FALSE;
}

/**
 * vt_guest_move_refused:
 * @move: the tracker
 * @previous_target_bytes: the target before the refused move
 * @previous_start_us: when that one was asked for
 *
 * The backend refused the move just started: it was not asked after all,
 * so the target and its time go back to the previous move's.
 */
void
vt_guest_move_refused(VtGuestMove *move, guint64 previous_target_bytes, gint64 previous_start_us)
{
        g_return_if_fail(move != NULL);
        move->moving = FALSE;
        move->target_bytes = previous_target_bytes;
        move->start_us = previous_start_us;
}

/**
 * vt_guest_move_is_stuck_at:
 * @move: the tracker
 * @now_us: the time of the question
 *
 * Returns: %TRUE if the last move got stuck less than
 *     %VT_GUEST_STUCK_RETRY_US before @now_us and did not get there since
 */
gboolean
vt_guest_move_is_stuck_at(const VtGuestMove *move, gint64 now_us)
{
        g_return_val_if_fail(move != NULL, FALSE);
        return move->stuck && now_us - move->stuck_since_us < VT_GUEST_STUCK_RETRY_US;
}

/**
 * vt_guest_move_state_to_string:
 * @state: a state
 *
 * Returns: (transfer none): its name for logs and test output
 */
const char *
vt_guest_move_state_to_string(VtGuestMoveState state)
{
        static const char *const names[VT_GUEST_MOVE_STATE_MAX] = {
            [VT_GUEST_MOVE_IDLE] = "idle",
            [VT_GUEST_MOVE_UNDER_WAY] = "under way",
            [VT_GUEST_MOVE_DONE] = "done",
            [VT_GUEST_MOVE_STUCK] = "stuck",
        };

        if ((guint)state >= VT_GUEST_MOVE_STATE_MAX)
                return "?";
        return names[state];
}
