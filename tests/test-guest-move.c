/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Table tests of the balloon move tracker (host/guest/guest-move.h): each
 * case is a script of moves asked for and balloon sizes seen, with the
 * verdict expected after each step. Times are plain numbers: the tracker
 * reads no clock.
 */
#include "host/guest/guest-move.h"

#define MIB   (G_GUINT64_CONSTANT(1024) * 1024)
#define SLACK VT_GUEST_CONFIRM_SLACK
#define S     G_USEC_PER_SEC
#define MS    1000
/* The stuck timeout of every case that does not set its own. */
#define STUCK (10 * S)

typedef enum {
        STEP_END,
        STEP_START,   /* vt_guest_move_start(@bytes -> @target at @t_us) */
        STEP_SEE,     /* vt_guest_move_observe(@bytes at @t_us) == @state */
        STEP_CANCEL,  /* vt_guest_move_cancel() */
        STEP_REFUSED, /* vt_guest_move_refused(@target, @t_us) */
        STEP_STUCK,   /* vt_guest_move_is_stuck_at(@t_us) == @flag */
        STEP_CHECK,   /* target @target, asked at @t_us, reclaim @flag */
} StepKind;

typedef struct {
        StepKind kind;
        guint64 bytes;
        guint64 target;
        gint64 t_us;
        VtGuestMoveState state;
        gboolean flag;
} Step;

typedef struct {
        const char *name;
        gint64 stuck_timeout_us; /* 0: STUCK */
        Step steps[12];
} MoveCase;

#define START(from, to, t)                                                                         \
        {                                                                                          \
                STEP_START, (from), (to), (t), 0, FALSE                                            \
        }
#define SEE(bytes, t, state)                                                                       \
        {                                                                                          \
                STEP_SEE, (bytes), 0, (t), VT_GUEST_MOVE_##state, FALSE                            \
        }
#define CANCEL                                                                                     \
        {                                                                                          \
                STEP_CANCEL, 0, 0, 0, 0, FALSE                                                     \
        }
#define REFUSED(target, t)                                                                         \
        {                                                                                          \
                STEP_REFUSED, 0, (target), (t), 0, FALSE                                           \
        }
#define STUCK_AT(t, flag)                                                                          \
        {                                                                                          \
                STEP_STUCK, 0, 0, (t), 0, (flag)                                                   \
        }
#define CHECK(target, t, reclaim)                                                                  \
        {                                                                                          \
                STEP_CHECK, 0, (target), (t), 0, (reclaim)                                         \
        }

static const MoveCase cases[] = {
    /* Done: exact, and within the slack on either side, both directions. */
    {"done-shrink-exact",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(384 * MIB, 200 * MS, UNDER_WAY),
      SEE(256 * MIB, 400 * MS, DONE), SEE(256 * MIB, 1 * S, IDLE), CHECK(256 * MIB, 0, TRUE),
      STUCK_AT(1 * S, FALSE)}},
    {"done-shrink-slack-below",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(256 * MIB - SLACK, 1 * S, DONE)}},
    {"done-shrink-slack-above",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(256 * MIB + SLACK, 1 * S, DONE)}},
    {"done-shrink-past-slack",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(256 * MIB + SLACK + 1, 1 * S, UNDER_WAY),
      SEE(256 * MIB - SLACK - 1, 2 * S, UNDER_WAY), SEE(256 * MIB, 3 * S, DONE)}},
    {"done-grow-exact",
     0,
     {START(256 * MIB, 512 * MIB, 0), SEE(512 * MIB, 1 * S, DONE), CHECK(512 * MIB, 0, FALSE)}},
    {"done-grow-slack-below",
     0,
     {START(256 * MIB, 512 * MIB, 0), SEE(512 * MIB - SLACK, 1 * S, DONE)}},
    {"done-grow-slack-above",
     0,
     {START(256 * MIB, 512 * MIB, 0), SEE(512 * MIB + SLACK, 1 * S, DONE)}},
    {"done-already-there",
     0,
     {START(256 * MIB + MIB, 256 * MIB, 0), SEE(256 * MIB + MIB, 0, DONE)}},

    /* Stuck: no movement past the timeout, partial movement, wrong way. */
    {"stuck-no-movement",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(512 * MIB, 5 * S, UNDER_WAY),
      SEE(512 * MIB, STUCK - 1, UNDER_WAY), SEE(512 * MIB, STUCK, STUCK),
      SEE(512 * MIB, STUCK + 1 * S, IDLE), STUCK_AT(STUCK, TRUE),
      STUCK_AT(STUCK + VT_GUEST_STUCK_RETRY_US - 1, TRUE),
      STUCK_AT(STUCK + VT_GUEST_STUCK_RETRY_US, FALSE)}},
    {"stuck-partial",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(448 * MIB, 1 * S, UNDER_WAY),
      SEE(448 * MIB, 1 * S + STUCK - 1, UNDER_WAY), SEE(448 * MIB, 1 * S + STUCK, STUCK),
      CHECK(256 * MIB, 0, TRUE)}},
    {"stuck-wrong-way",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(520 * MIB, 3 * S, UNDER_WAY),
      SEE(515 * MIB, STUCK, STUCK)}},
    {"stuck-slower-than-timeout",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(448 * MIB, 9 * S, UNDER_WAY),
      SEE(384 * MIB, 18 * S, UNDER_WAY), SEE(320 * MIB, 27 * S, UNDER_WAY),
      SEE(256 * MIB, 36 * S, DONE), STUCK_AT(36 * S, FALSE)}},
    {"stuck-then-there",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(512 * MIB, STUCK, STUCK), STUCK_AT(STUCK, TRUE),
      SEE(300 * MIB, STUCK + 1 * S, IDLE), STUCK_AT(STUCK + 1 * S, TRUE),
      SEE(256 * MIB + SLACK, STUCK + 2 * S, IDLE), STUCK_AT(STUCK + 2 * S, FALSE)}},
    {"stuck-short-timeout",
     1,
     {START(512 * MIB, 256 * MIB, 0), SEE(512 * MIB, 0, UNDER_WAY), SEE(512 * MIB, 1, STUCK)}},

    /* A new target replaces the move under way. */
    {"replace-under-way",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(448 * MIB, 1 * S, UNDER_WAY),
      START(448 * MIB, 384 * MIB, 2 * S), CHECK(384 * MIB, 2 * S, TRUE),
      SEE(256 * MIB, 3 * S, UNDER_WAY), SEE(384 * MIB, 4 * S, DONE)}},
    {"replace-reverses",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(384 * MIB, 1 * S, UNDER_WAY),
      START(384 * MIB, 512 * MIB, 2 * S), CHECK(512 * MIB, 2 * S, FALSE),
      SEE(448 * MIB, 3 * S, UNDER_WAY), SEE(512 * MIB, 4 * S, DONE)}},
    {"replace-restarts-stuck-clock",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(512 * MIB, 9 * S, UNDER_WAY),
      START(512 * MIB, 128 * MIB, 9 * S), SEE(512 * MIB, STUCK + 1 * S, UNDER_WAY),
      SEE(512 * MIB, 9 * S + STUCK - 1, UNDER_WAY), SEE(512 * MIB, 9 * S + STUCK, STUCK)}},
    {"replace-clears-stuck",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(512 * MIB, STUCK, STUCK), STUCK_AT(STUCK, TRUE),
      START(512 * MIB, 384 * MIB, STUCK + 1 * S), STUCK_AT(STUCK + 1 * S, FALSE),
      SEE(384 * MIB, STUCK + 2 * S, DONE)}},
    {"replace-refused",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(256 * MIB, 1 * S, DONE),
      START(256 * MIB, 128 * MIB, 5 * S), REFUSED(256 * MIB, 0), CHECK(256 * MIB, 0, TRUE),
      SEE(128 * MIB, 6 * S, IDLE), SEE(256 * MIB, 100 * S, IDLE), STUCK_AT(100 * S, FALSE)}},

    /* Cancelled, or nothing asked for. */
    {"cancel",
     0,
     {START(512 * MIB, 256 * MIB, 0), CANCEL, SEE(256 * MIB, 1 * S, IDLE),
      SEE(512 * MIB, 100 * S, IDLE), STUCK_AT(100 * S, FALSE), CHECK(256 * MIB, 0, TRUE)}},
    {"no-target",
     0,
     {SEE(512 * MIB, 0, IDLE), SEE(0, 100 * S, IDLE), STUCK_AT(100 * S, FALSE),
      CHECK(0, 0, FALSE)}},

    /* Time edges: a size seen before the decision's time, a clock far from 0. */
    {"time-seen-before-start",
     0,
     {START(512 * MIB, 256 * MIB, 5 * S), SEE(512 * MIB, 4 * S, UNDER_WAY),
      SEE(512 * MIB, 5 * S + STUCK - 1, UNDER_WAY), SEE(512 * MIB, 5 * S + STUCK, STUCK)}},
    {"time-large-clock",
     0,
     {START(512 * MIB, 256 * MIB, G_GINT64_CONSTANT(1) << 50),
      SEE(512 * MIB, (G_GINT64_CONSTANT(1) << 50) + STUCK - 1, UNDER_WAY),
      SEE(512 * MIB, (G_GINT64_CONSTANT(1) << 50) + STUCK, STUCK),
      STUCK_AT((G_GINT64_CONSTANT(1) << 50) + STUCK + VT_GUEST_STUCK_RETRY_US, FALSE)}},
    {"time-progress-at-timeout",
     0,
     {START(512 * MIB, 256 * MIB, 0), SEE(511 * MIB, STUCK, UNDER_WAY),
      SEE(511 * MIB, 2 * STUCK - 1, UNDER_WAY), SEE(511 * MIB, 2 * STUCK, STUCK)}},
};

static void
test_move_case(gconstpointer data)
{
        const MoveCase *c = data;
        VtGuestMove move;

        vt_guest_move_init(&move, c->stuck_timeout_us != 0 ? c->stuck_timeout_us : STUCK);
        for (guint i = 0; i < G_N_ELEMENTS(c->steps) && c->steps[i].kind != STEP_END; i++) {
                const Step *step = &c->steps[i];
                VtGuestMoveState state;

                switch (step->kind) {
                case STEP_START:
                        vt_guest_move_start(&move, step->bytes, step->target, step->t_us);
                        g_assert_true(move.moving);
                        break;
                case STEP_SEE:
                        state = vt_guest_move_observe(&move, step->bytes, step->t_us);
                        if (state != step->state) {
                                g_test_fail_printf("%s, step %u: %" G_GUINT64_FORMAT
                                                   " bytes at %" G_GINT64_FORMAT
                                                   " us: %s, expected %s",
                                                   c->name, i, step->bytes, step->t_us,
                                                   vt_guest_move_state_to_string(state),
                                                   vt_guest_move_state_to_string(step->state));
                                return;
                        }
                        g_assert_cmpint(move.moving, ==, state == VT_GUEST_MOVE_UNDER_WAY);
                        break;
                case STEP_CANCEL:
                        vt_guest_move_cancel(&move);
                        g_assert_false(move.moving);
                        break;
                case STEP_REFUSED:
                        vt_guest_move_refused(&move, step->target, step->t_us);
                        g_assert_false(move.moving);
                        break;
                case STEP_STUCK:
                        g_assert_cmpint(vt_guest_move_is_stuck_at(&move, step->t_us), ==,
                                        step->flag);
                        break;
                case STEP_CHECK:
                        g_assert_cmpuint(move.target_bytes, ==, step->target);
                        g_assert_cmpint(move.start_us, ==, step->t_us);
                        g_assert_cmpint(move.reclaim, ==, step->flag);
                        break;
                case STEP_END:
                        g_assert_not_reached();
                }
        }
}

static void
test_move_state_names(void)
{
        g_assert_cmpstr(vt_guest_move_state_to_string(VT_GUEST_MOVE_IDLE), ==, "idle");
        g_assert_cmpstr(vt_guest_move_state_to_string(VT_GUEST_MOVE_UNDER_WAY), ==, "under way");
        g_assert_cmpstr(vt_guest_move_state_to_string(VT_GUEST_MOVE_DONE), ==, "done");
        g_assert_cmpstr(vt_guest_move_state_to_string(VT_GUEST_MOVE_STUCK), ==, "stuck");
        g_assert_cmpstr(vt_guest_move_state_to_string(VT_GUEST_MOVE_STATE_MAX), ==, "?");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *path = g_strdup_printf("/guest/move/%s", cases[i].name);

                g_test_add_data_func(path, &cases[i], test_move_case);
        }
        g_test_add_func("/guest/move/state-names", test_move_state_names);
        return g_test_run();
}
