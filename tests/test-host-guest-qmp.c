/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration tests of the QMP-direct guest against a real QEMU running the
 * test guest under TCG: what the start learns, balloon statistics, moves
 * confirmed by polling, the agent's reports, and a QEMU that dies.
 *
 * Each test boots its own guest in the fixture and tears it down, QEMU and
 * temp dir included, whatever happened in the test.
 */
#include <errno.h>
#include <signal.h>

#include "host/qmp-direct/qmp-direct-guest.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB          (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_MEMORY (512 * MIB)
#define BALLOON0     "/machine/peripheral/balloon0"

typedef struct {
        VtTestGuest *test_guest;
        VtGuest *guest;
        char *dir;
        GPid pid;
        guint n_done;
        guint64 done_actual;
        gint64 done_elapsed_us;
        guint n_stuck;
        guint n_gone;
        GError *gone_error;
} Fixture;

static void
on_move_done(VtGuest *guest, guint64 actual, gint64 elapsed_us, gpointer data)
{
        Fixture *f = data;

        f->n_done++;
        f->done_actual = actual;
        f->done_elapsed_us = elapsed_us;
}

static void
on_move_stuck(VtGuest *guest, guint64 actual, guint64 target, gpointer data)
{
        ((Fixture *)data)->n_stuck++;
}

static void
on_gone(VtGuest *guest, gpointer error, gpointer data)
{
        Fixture *f = data;

        f->n_gone++;
        if (error != NULL && f->gone_error == NULL)
                f->gone_error = g_error_copy(error);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        const VtTestGuestOptions options = {.name = "hostguest", .memory_bytes = GUEST_MEMORY};
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        f->test_guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        f->dir = g_strdup(vt_test_guest_get_dir(f->test_guest));
        f->pid = vt_test_guest_get_pid(f->test_guest);
        g_test_message("guest ready in %.2f s",
                       (double)vt_test_guest_get_ready_us(f->test_guest) / G_USEC_PER_SEC);

        f->guest = vt_guest_qmp_new("hostguest", vt_test_guest_get_qmp_path(f->test_guest),
                                    vt_test_guest_get_agent_path(f->test_guest), 1);
        g_signal_connect(f->guest, "move-done", G_CALLBACK(on_move_done), f);
        g_signal_connect(f->guest, "move-stuck", G_CALLBACK(on_move_stuck), f);
        g_signal_connect(f->guest, "gone", G_CALLBACK(on_gone), f);
        vt_guest_start_async(f->guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

/* Leaves nothing behind: no QEMU, no socket, no temp dir. */
static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        if (f->guest != NULL)
                vt_guest_stop(f->guest);
        g_clear_object(&f->guest);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        g_clear_pointer(&f->test_guest, vt_test_guest_free);
        if (f->pid > 0)
                g_assert_true(kill(f->pid, 0) < 0 && errno == ESRCH);
        if (f->dir != NULL)
                g_assert_false(g_file_test(f->dir, G_FILE_TEST_EXISTS));
        g_free(f->dir);
        g_clear_error(&f->gone_error);
}

static void
test_start(Fixture *f, gconstpointer data)
{
        VtBalloonGuest snapshot;

        if (f->guest == NULL)
                return;
        g_assert_cmpuint(vt_guest_get_max_bytes(f->guest), ==, GUEST_MEMORY);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, GUEST_MEMORY);
        g_assert_true(vt_guest_has_balloon(f->guest));
        /* QEMU got its listening socket from the test, and listens on it:
         * SO_PEERCRED names QEMU, not the test. */
        g_assert_cmpint(vt_guest_get_pid(f->guest), ==, f->pid);
        g_assert_cmpstr(vt_guest_qmp_get_balloon_path(VT_GUEST_QMP(f->guest)), ==, BALLOON0);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_HAS_BALLOON, !=, 0);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_MOVING, ==, 0);
}

typedef struct {
        VtGuest *guest;
        gboolean in_flight;
        guint n_refreshes;
} Refresher;

static void
on_refreshed(GObject *source, GAsyncResult *result, gpointer data)
{
        Refresher *r = data;
        g_autoptr(GError) error = NULL;

        r->in_flight = FALSE;
        r->n_refreshes++;
        g_assert_true(vt_guest_refresh_finish(VT_GUEST(source), result, &error));
        g_assert_no_error(error);
}

/* The daemon's tick: a refresh now and then, one at a time. */
static gboolean
on_refresh_tick(gpointer data)
{
        Refresher *r = data;

        if (!r->in_flight) {
                r->in_flight = TRUE;
                vt_guest_refresh_async(r->guest, on_refreshed, r);
        }
        return G_SOURCE_CONTINUE;
}

static gboolean
have_stats(gpointer data)
{
        Refresher *r = data;

        return !r->in_flight && vt_guest_get_stats(r->guest)->updated_us != 0;
}

static void
test_stats(Fixture *f, gconstpointer data)
{
        Refresher r = {.guest = f->guest};
        const VtGuestStats *stats;
        VtBalloonGuest snapshot;
        GSource *tick;

        if (f->guest == NULL)
                return;
        /* QEMU has no event for new stats: they come after a polling period. */
        tick = g_timeout_source_new(250);
        g_source_set_callback(tick, on_refresh_tick, &r, NULL);
        g_source_attach(tick, NULL);
        g_assert_true(vt_test_run_until(have_stats, &r, VT_TEST_GUARD_US));
        g_source_destroy(tick);
        g_source_unref(tick);

        stats = vt_guest_get_stats(f->guest);
        g_test_message("stats after %u refreshes: total %" G_GUINT64_FORMAT
                       " MiB, free %" G_GUINT64_FORMAT " MiB, available %" G_GUINT64_FORMAT " MiB",
                       r.n_refreshes, stats->total / MIB, stats->free / MIB,
                       stats->available / MIB);
        g_assert_cmpuint(stats->total, ==, vt_test_guest_get_mem_total(f->test_guest));
        g_assert_cmpuint(stats->free, <=, stats->total);
        g_assert_cmpuint(stats->available, <=, stats->total);
        g_assert_cmpuint(stats->available, >, 0);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_HAS_STATS, !=, 0);
        g_assert_cmpint(snapshot.stats_age_us, <, 5 * G_USEC_PER_SEC);
}

/* Asks for @target; waits for the move to be confirmed. */
static void
move_to(Fixture *f, guint64 target)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        guint n_done = f->n_done;

        vt_guest_set_target_async(f->guest, target, g_get_monotonic_time(), vt_test_waiter_callback,
                                  &waiter);
        g_assert_true(vt_guest_set_target_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        g_assert_true(vt_test_wait_above(&f->n_done, n_done, VT_TEST_GUARD_US));
        g_test_message("balloon at %" G_GUINT64_FORMAT " MiB, confirmed in %.2f s",
                       f->done_actual / MIB, (double)f->done_elapsed_us / G_USEC_PER_SEC);
        g_assert_cmpuint(f->n_stuck, ==, 0);
        /* Polling confirms well within QEMU's one event a second. */
        g_assert_cmpint(f->done_elapsed_us, <, 3 * G_USEC_PER_SEC);
        g_assert_cmpuint(f->done_actual + VT_GUEST_CONFIRM_SLACK, >=, target);
        g_assert_cmpuint(f->done_actual, <=, target + VT_GUEST_CONFIRM_SLACK);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, f->done_actual);
        g_assert_false(vt_guest_is_moving(f->guest));
}

static void
test_balloon(Fixture *f, gconstpointer data)
{
        if (f->guest == NULL)
                return;
        move_to(f, 256 * MIB);
        move_to(f, GUEST_MEMORY);
        g_assert_cmpuint(vt_guest_get_target_bytes(f->guest), ==, GUEST_MEMORY);
}

typedef struct {
        VtAgentReader *reader;
        gboolean requested;
} AgentWait;

static gboolean
agent_reported(gpointer data)
{
        AgentWait *w = data;
        g_autoptr(GError) error = NULL;

        if (vt_agent_reader_get_report(w->reader) != NULL)
                return TRUE;
        /* Ask once connected instead of waiting for the periodic report. */
        if (!w->requested && vt_agent_reader_is_connected(w->reader)) {
                w->requested = TRUE;
                g_assert_true(vt_agent_reader_request_report(w->reader, &error));
                g_assert_no_error(error);
        }
        return FALSE;
}

static void
test_agent(Fixture *f, gconstpointer data)
{
        AgentWait w = {0};
        VtBalloonGuest snapshot;

        if (f->guest == NULL)
                return;
        w.reader = vt_guest_get_agent(f->guest);
        g_assert_nonnull(w.reader);
        g_assert_true(vt_test_run_until(agent_reported, &w, VT_TEST_GUARD_US));
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_HAS_AGENT, !=, 0);
        g_assert_cmpuint(snapshot.agent_mem_total, ==, vt_test_guest_get_mem_total(f->test_guest));
        g_assert_cmpuint(snapshot.agent_mem_available, >, 0);
        g_assert_cmpuint(snapshot.agent_mem_available, <=, snapshot.agent_mem_total);
        /* The Debian 6.1 guest kernel has PSI. */
        g_assert_cmpfloat(snapshot.agent_psi_some_avg10, >=, 0);
        g_assert_cmpint(snapshot.agent_age_us, <, VT_TEST_GUARD_US);
}

static void
test_killed(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        if (f->guest == NULL)
                return;
        vt_test_guest_kill(f->test_guest);
        g_assert_true(vt_test_wait_above(&f->n_gone, 0, VT_TEST_GUARD_US));
        g_test_message("gone: %s", f->gone_error->message);
        g_assert_error(f->gone_error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_assert_true(vt_guest_is_gone(f->guest));
        g_assert_false(vt_agent_reader_is_connected(vt_guest_get_agent(f->guest)));

        vt_guest_refresh_async(f->guest, vt_test_waiter_callback, &waiter);
        g_assert_false(vt_guest_refresh_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        vt_test_waiter_clear(&waiter);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
        g_assert_cmpuint(f->n_gone, ==, 1);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, test) g_test_add(path, Fixture, NULL, fixture_setup, test, fixture_teardown)
        ADD("/host/guest-qmp/start", test_start);
        ADD("/host/guest-qmp/stats", test_stats);
        ADD("/host/guest-qmp/balloon", test_balloon);
        ADD("/host/guest-qmp/agent", test_agent);
        ADD("/host/guest-qmp/killed", test_killed);
#undef ADD
        return g_test_run();
}
