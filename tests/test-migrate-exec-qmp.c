/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration test of the migration executor over the QMP-direct backend,
 * two real QEMU processes under TCG: a guest dirtying faster than the link
 * is steered (the downtime ramp, then a cancel) and keeps running on the
 * source; the same guest dirtying slowly completes, and the result puts
 * the prediction beside what QEMU reports.
 *
 * One source boots once; the stalled move runs first (it leaves the
 * source running), the completed one last (it ends the source). Each move
 * starts its own destination with `-incoming unix:PATH`.
 */
#include "host/qmp-direct/qmp-direct-guest.h"
#include "migrate/migrate-exec.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB           (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_NAME    "exec"
#define GUEST_MEMORY  (256 * MIB)
#define ALLOC_BYTES   (32 * MIB)
#define DIRTY_BUFFER  (48 * MIB)
#define MOVE_GUARD_US (180 * G_USEC_PER_SEC)

static struct {
        VtTestGuest *source;
        VtGuest *guest;
} S;

static char *
workload(VtTestGuest *test_guest, const char *command)
{
        g_autoptr(GError) error = NULL;
        char *reply = vt_test_guest_workload(test_guest, command, 0, &error);

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(reply, "ok"));
        return reply;
}

static gboolean
ensure_source(void)
{
        const VtTestGuestOptions options = {
            .name = GUEST_NAME, .memory_bytes = GUEST_MEMORY, .migrates = TRUE};
        g_autofree char *reason = NULL;
        g_autofree char *command = NULL;
        g_autofree char *reply = NULL;
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return FALSE;
        if (S.source != NULL)
                return TRUE;
        S.source = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, ALLOC_BYTES);
        reply = workload(S.source, command);
        S.guest = vt_guest_qmp_new(GUEST_NAME, vt_test_guest_get_qmp_path(S.source), NULL, 0);
        vt_guest_start_async(S.guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(S.guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        return TRUE;
}

static VtTestGuest *
start_destination_for_test(void)
{
        const VtTestGuestOptions options = {
            .name = GUEST_NAME, .memory_bytes = GUEST_MEMORY, .incoming = TRUE};
        g_autoptr(GError) error = NULL;
        VtTestGuest *destination = vt_test_guest_start(&options, &error);

        g_assert_no_error(error);
        return destination;
}

/* Sets the workload's dirty rate, measures it, and predicts the move. */
static void
predict(guint64 dirty_rate, guint64 bandwidth, const VtMigrateSteerConfig *steer,
        VtMigrateCost *ret_cost)
{
        g_autofree char *command = NULL;
        g_autofree char *reply = NULL;
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        VtMigrateCostInput in;
        guint64 rate = 0;

        command = g_strdup_printf("dirty %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, dirty_rate,
                                  DIRTY_BUFFER);
        reply = workload(S.source, command);
        vt_guest_measure_dirty_rate_async(S.guest, G_USEC_PER_SEC, vt_test_waiter_callback,
                                          &waiter);
        g_assert_true(vt_guest_measure_dirty_rate_finish(S.guest, vt_test_waiter_wait(&waiter),
                                                         &rate, &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);

        vt_migrate_cost_input_init(&in);
        in.mem_bytes = GUEST_MEMORY;
        in.resident_bytes = ALLOC_BYTES + DIRTY_BUFFER + 32 * MIB; /* + the kernel's */
        in.dirty_rate = rate;
        in.dirty_window_us = G_USEC_PER_SEC;
        in.bandwidth = bandwidth;
        in.downtime_limit_us = vt_migrate_steer_initial_downtime(steer);
        vt_migrate_cost_predict(&in, ret_cost);
        g_test_message("dirtying %" G_GUINT64_FORMAT " MiB/s, measured %.1f MiB/s: %s",
                       dirty_rate / MIB, (double)rate / MIB, ret_cost->reason);
}

typedef struct {
        guint progress, steered, finished;
        VtMigrateExecResult result;
} Seen;

static void
on_progress(VtMigrateExec *exec, gpointer data, gpointer user_data)
{
        const VtMigrateExecProgress *p = data;

        ((Seen *)user_data)->progress++;
        g_test_message(
            "pass %u: %.1f MiB left, dirty %.1f MiB/s, %.1f MiB/s, limit %" G_GINT64_FORMAT
            " ms, %.1f s in, %.1f s left",
            p->pass, (double)p->remaining_bytes / MIB, (double)p->dirty_rate / MIB,
            (double)p->throughput / MIB, p->downtime_limit_us / 1000, (double)p->elapsed_us / 1e6,
            p->predicted_left_us == VT_MIGRATE_COST_FOREVER ? -1.0
                                                            : (double)p->predicted_left_us / 1e6);
}

static void
on_steered(VtMigrateExec *exec, gpointer data, gpointer user_data)
{
        ((Seen *)user_data)->steered++;
        g_test_message("steered: %s", ((const VtMigrateSteerAction *)data)->reason);
}

static void
on_finished(VtMigrateExec *exec, gpointer data, gpointer user_data)
{
        Seen *seen = user_data;

        seen->finished++;
        seen->result = *(const VtMigrateExecResult *)data;
}

static gboolean
seen_finished(gpointer data)
{
        return ((Seen *)data)->finished > 0;
}

static void
run(VtTestGuest *destination, guint64 bandwidth, const VtMigrateSteerConfig *steer,
    const VtMigrateCost *prediction, Seen *seen)
{
        VtMigrateRequest request = {.peer = "peer-1", .bandwidth = bandwidth};
        g_autoptr(VtMigrateExec) exec = NULL;
        g_autoptr(GError) error = NULL;
        VtMigrateExecLimits limits;

        request.transport_uri = vt_test_guest_get_incoming_uri(destination);
        vt_migrate_exec_limits_init(&limits);
        limits.poll_interval_us = 100 * 1000;
        exec = vt_migrate_exec_new(S.guest, &request, prediction, steer);
        vt_migrate_exec_set_limits(exec, &limits);
        g_signal_connect(exec, "progress", G_CALLBACK(on_progress), seen);
        g_signal_connect(exec, "steered", G_CALLBACK(on_steered), seen);
        g_signal_connect(exec, "finished", G_CALLBACK(on_finished), seen);
        g_assert_true(vt_migrate_exec_start(exec, &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_run_until(seen_finished, seen, MOVE_GUARD_US));
        g_assert_cmpuint(seen->finished, ==, 1);
        g_test_message("%s: %s; %s", vt_migrate_exec_outcome_to_string(seen->result.outcome),
                       seen->result.reason, seen->result.summary);
}

/* Dirtying 48 MiB/s over a 16 MiB/s link never converges: the steering
 * ramps the downtime to its cap, cancels, and the guest runs on. */
static void
test_stall(void)
{
        g_autoptr(VtTestGuest) destination = NULL;
        VtMigrateSteerConfig steer;
        VtMigrateCost prediction;
        Seen seen = {0};
        g_autofree char *check = NULL;

        if (!ensure_source())
                return;
        vt_migrate_steer_config_init(&steer);
        steer.stall_passes = 1; /* a step a pass: the whole ramp in a minute of TCG */
        predict(48 * MIB, 16 * MIB, &steer, &prediction);
        g_assert_false(prediction.converges);
        destination = start_destination_for_test();
        run(destination, 16 * MIB, &steer, &prediction, &seen);

        g_assert_cmpint(seen.result.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_cmpint(seen.result.cause, !=, VT_MIGRATE_STEER_CAUSE_NONE);
        g_assert_cmpint(seen.result.downtime_limit_us, <=, steer.downtime_cap_us);
        g_assert_false(seen.result.source_gone);
        g_assert_false(vt_guest_is_gone(S.guest));
        g_assert_false(vt_test_guest_wait_exit(S.source, 0));
        check = workload(S.source, "check");
}

/* Dirtying 2 MiB/s at 128 MiB/s converges: completed, the source quits. */
static void
test_complete(void)
{
        g_autoptr(VtTestGuest) destination = NULL;
        VtMigrateSteerConfig steer;
        VtMigrateCost prediction;
        Seen seen = {0};
        g_autofree char *check = NULL;

        if (!ensure_source())
                return;
        vt_migrate_steer_config_init(&steer);
        predict(2 * MIB, 128 * MIB, &steer, &prediction);
        g_assert_true(prediction.converges);
        destination = start_destination_for_test();
        run(destination, 128 * MIB, &steer, &prediction, &seen);

        g_assert_cmpint(seen.result.outcome, ==, VT_MIGRATE_EXEC_COMPLETED);
        g_assert_cmpuint(seen.steered, ==, 0);
        g_assert_cmpint(seen.result.total_us, >, 0);
        g_assert_cmpuint(seen.result.bytes, >, 0);
        check = workload(destination, "check");
        g_assert_true(vt_test_guest_wait_exit(S.source, 30 * G_USEC_PER_SEC));
}

int
main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/migrate/exec-qmp/stall", test_stall);
        g_test_add_func("/migrate/exec-qmp/complete", test_complete);
        status = g_test_run();
        g_clear_object(&S.guest);
        g_clear_pointer(&S.source, vt_test_guest_free);
        return status;
}
