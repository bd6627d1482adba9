/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the migration executor against a fake guest that scripts the job and its faults. */
#include <string.h>

#include "migrate/migrate-exec.h"
#include "tests/vt-test-util.h"

#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define MS  G_TIME_SPAN_MILLISECOND
#define SEC G_TIME_SPAN_SECOND

/* Each run ends well within this, or the test fails (no sleeps). */
#define RUN_GUARD_US (20 * SEC)

/* ---- the fake guest ---- */

/*
 * One reading of the job. A script's readings are answered one per query,
 * the last repeated; a step may fail the query or make the guest go away
 * first.
 */
typedef struct {
        VtMigrateStatus status;
        guint pass;
        guint64 remaining_mib;
        guint64 transferred_mib;
        gint64 elapsed_ms;
        gint64 downtime_ms;
        const char *error;
        gboolean query_error; /* the query fails */
        gboolean gone;        /* "gone" first, then the query fails unless answer_after_gone */
} FakeStep;

typedef struct _FakeGuest FakeGuest;
typedef void (*FakeGenerate)(FakeGuest *fake, VtMigrateProgress *p);

#define FAKE_TYPE_GUEST (fake_guest_get_type())
G_DECLARE_FINAL_TYPE(FakeGuest, fake_guest, FAKE, GUEST, VtGuest)

struct _FakeGuest {
        VtGuest parent_instance;

        const FakeStep *script; /* or generate */
        guint n_script;
        FakeGenerate generate;
        gboolean fail_start;
        gboolean refuse_downtime;
        gboolean cancel_ignored; /* a cancel is taken but never shows */
        gboolean answer_after_gone;

        gboolean cancelled;
        gboolean went;
        guint starts, queries, cancels;
        GArray *downtimes; /* gint64 µs, each set asked for */
        VtMigrateRequest request;
        char *peer;
};

G_DEFINE_TYPE(FakeGuest, fake_guest, VT_TYPE_GUEST)

static void
fake_return(FakeGuest *fake, GAsyncReadyCallback callback, gpointer user_data, gboolean ok,
            const char *message)
{
        g_autoptr(GTask) task = g_task_new(fake, NULL, callback, user_data);

        if (ok)
                g_task_return_boolean(task, TRUE);
        else
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", message);
}

static gboolean
fake_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

static void
fake_start(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        vt_guest_set_max_bytes(guest, 512 * MiB);
        fake_return(FAKE_GUEST(guest), callback, user_data, TRUE, NULL);
}

static void
fake_set_balloon(VtGuest *guest, guint64 bytes, GAsyncReadyCallback callback, gpointer user_data)
{
        fake_return(FAKE_GUEST(guest), callback, user_data, TRUE, NULL);
}

static void
fake_refresh(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        fake_return(FAKE_GUEST(guest), callback, user_data, TRUE, NULL);
}

static void
fake_stop(VtGuest *guest)
{
}

static void
fake_migrate_start(VtGuest *guest, const VtMigrateRequest *request, GAsyncReadyCallback callback,
                   gpointer user_data)
{
        FakeGuest *fake = FAKE_GUEST(guest);

        fake->starts++;
        fake->request = *request;
        g_free(fake->peer);
        fake->peer = g_strdup(request->peer);
        fake->request.peer = fake->peer;
        fake->request.transport_uri = NULL;
        fake_return(fake, callback, user_data, !fake->fail_start,
                    "destination command failed: exit status 1");
}

static void
fake_read(FakeGuest *fake, VtMigrateProgress *p, const FakeStep **ret_step)
{
        const FakeStep *s;

        *ret_step = NULL;
        if (fake->script == NULL) {
                fake->generate(fake, p);
                return;
        }
        s = &fake->script[MIN(fake->queries - 1, fake->n_script - 1)];
        *ret_step = s;
        *p = (VtMigrateProgress){
            .status = s->status,
            .pass = s->pass,
            .total_bytes = 512 * MiB,
            .transferred_bytes = s->transferred_mib * MiB,
            .remaining_bytes = s->remaining_mib * MiB,
            .throughput = 128 * MiB,
            .elapsed_us = s->elapsed_ms * MS,
            .downtime_us = s->downtime_ms * MS,
        };
        if (s->error != NULL)
                g_strlcpy(p->error, s->error, sizeof(p->error));
}

static void
fake_migrate_query(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        FakeGuest *fake = FAKE_GUEST(guest);
        g_autoptr(GTask) task = g_task_new(fake, NULL, callback, user_data);
        const FakeStep *step;
        VtMigrateProgress p = {0};

        fake->queries++;
        fake_read(fake, &p, &step);
        if (step != NULL && step->gone && !fake->went) {
                g_autoptr(GError) error =
                    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CLOSED, "QEMU went away");

                fake->went = TRUE;
                vt_guest_emit_gone(guest, error);
        }
        if ((step != NULL && step->query_error) || (fake->went && !fake->answer_after_gone)) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                        "query-migrate: no answer (%u)", fake->queries);
                return;
        }
        if (fake->cancelled && !vt_migrate_status_is_final(p.status))
                p.status = VT_MIGRATE_STATUS_CANCELLED;
        g_task_return_pointer(task, g_memdup2(&p, sizeof(p)), g_free);
}

static gboolean
fake_migrate_query_finish(VtGuest *guest, GAsyncResult *result, VtMigrateProgress *ret_progress,
                          GError **error)
{
        g_autofree VtMigrateProgress *p = g_task_propagate_pointer(G_TASK(result), error);

        if (p == NULL)
                return FALSE;
        *ret_progress = *p;
        return TRUE;
}

static void
fake_migrate_set_downtime(VtGuest *guest, gint64 downtime_limit_us, GAsyncReadyCallback callback,
                          gpointer user_data)
{
        FakeGuest *fake = FAKE_GUEST(guest);

        g_array_append_val(fake->downtimes, downtime_limit_us);
        fake_return(fake, callback, user_data, !fake->refuse_downtime,
                    "migrate-set-parameters: refused");
}

static void
fake_migrate_cancel(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        FakeGuest *fake = FAKE_GUEST(guest);

        fake->cancels++;
        if (!fake->cancel_ignored)
                fake->cancelled = TRUE;
        fake_return(fake, callback, user_data, TRUE, NULL);
}

static void
fake_guest_finalize(GObject *object)
{
        FakeGuest *fake = FAKE_GUEST(object);

        g_array_unref(fake->downtimes);
        g_free(fake->peer);
        G_OBJECT_CLASS(fake_guest_parent_class)->finalize(object);
}

static void
fake_guest_dispose(GObject *object)
{
        vt_guest_stop(VT_GUEST(object));
        G_OBJECT_CLASS(fake_guest_parent_class)->dispose(object);
}

static void
fake_guest_init(FakeGuest *fake)
{
        fake->downtimes = g_array_new(FALSE, FALSE, sizeof(gint64));
}

static void
fake_guest_class_init(FakeGuestClass *klass)
{
        VtGuestClass *guest_class = VT_GUEST_CLASS(klass);

        G_OBJECT_CLASS(klass)->dispose = fake_guest_dispose;
        G_OBJECT_CLASS(klass)->finalize = fake_guest_finalize;
        guest_class->start_async = fake_start;
        guest_class->start_finish = fake_finish;
        guest_class->refresh_async = fake_refresh;
        guest_class->refresh_finish = fake_finish;
        guest_class->set_balloon_async = fake_set_balloon;
        guest_class->set_balloon_finish = fake_finish;
        guest_class->stop = fake_stop;
        guest_class->migrate_start_async = fake_migrate_start;
        guest_class->migrate_start_finish = fake_finish;
        guest_class->migrate_query_async = fake_migrate_query;
        guest_class->migrate_query_finish = fake_migrate_query_finish;
        guest_class->migrate_set_downtime_async = fake_migrate_set_downtime;
        guest_class->migrate_set_downtime_finish = fake_finish;
        guest_class->migrate_cancel_async = fake_migrate_cancel;
        guest_class->migrate_cancel_finish = fake_finish;
}

static FakeGuest *
fake_new_started(void)
{
        g_autoptr(FakeGuest) fake = g_object_new(FAKE_TYPE_GUEST, "name", "g1", NULL);
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        vt_guest_start_async(VT_GUEST(fake), vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_start_finish(VT_GUEST(fake), vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        return g_steal_pointer(&fake);
}

/* A move stuck at 200 MiB a pass after the first, a pass per query. */
static void
generate_stall(FakeGuest *fake, VtMigrateProgress *p)
{
        *p = (VtMigrateProgress){
            .status = fake->cancelled ? VT_MIGRATE_STATUS_CANCELLED : VT_MIGRATE_STATUS_ACTIVE,
            .pass = fake->queries,
            .total_bytes = 512 * MiB,
            .transferred_bytes = (512 + 200 * (guint64)(fake->queries - 1)) * MiB,
            .remaining_bytes = fake->queries == 1 ? 512 * MiB : 200 * MiB,
            .throughput = 128 * MiB,
            .dirty_rate = 150 * MiB,
        };
}

/* A move that shrinks 10 % a pass and never gets there. */
static void
generate_slow(FakeGuest *fake, VtMigrateProgress *p)
{
        guint64 remaining = 512 * MiB;

        for (guint i = 1; i < fake->queries && remaining > 100 * MiB; i++)
                remaining = remaining * 9 / 10;
        *p = (VtMigrateProgress){
            .status = VT_MIGRATE_STATUS_ACTIVE,
            .pass = fake->queries,
            .total_bytes = 512 * MiB,
            .remaining_bytes = remaining,
            .throughput = 128 * MiB,
            .dirty_rate = 100 * MiB,
        };
}

/* ---- one run of the executor ---- */

typedef struct {
        FakeGuest *fake;
        VtMigrateExec *exec;
        VtMigrateCost prediction;
        guint progress, finished;
        GArray *actions; /* VtMigrateSteerAction */
        VtMigrateExecResult result;
        const char *cancel_at_progress; /* cancel by hand at the 3rd pass, with this reason */
} Run;

static void
on_progress(VtMigrateExec *exec, gpointer progress, gpointer user_data)
{
        Run *run = user_data;
        const VtMigrateExecProgress *p = progress;

        run->progress++;
        g_assert_cmpuint(p->pass, >, 0);
        g_assert_cmpint(p->predicted_total_us, ==, run->prediction.total_us);
        if (run->cancel_at_progress != NULL && run->progress == 3)
                vt_migrate_exec_cancel(exec, run->cancel_at_progress);
}

static void
on_steered(VtMigrateExec *exec, gpointer action, gpointer user_data)
{
        Run *run = user_data;

        g_test_message("steered: %s", ((const VtMigrateSteerAction *)action)->reason);
        g_array_append_vals(run->actions, action, 1);
}

static void
on_finished(VtMigrateExec *exec, gpointer result, gpointer user_data)
{
        Run *run = user_data;

        run->finished++;
        run->result = *(const VtMigrateExecResult *)result;
        g_assert_true(vt_migrate_exec_is_finished(exec));
        g_assert_null(vt_migrate_exec_get_for_guest(VT_GUEST(run->fake)));
}

/* 512 MiB dirtying 10 MiB/s over 128 MiB/s at 100 ms: 3 passes, 4.3 s. */
static void
predict_converging(VtMigrateCost *ret_cost)
{
        VtMigrateCostInput in;

        vt_migrate_cost_input_init(&in);
        in.mem_bytes = 512 * MiB;
        in.dirty_rate = 10 * MiB;
        in.dirty_window_us = 4 * SEC;
        in.downtime_limit_us = 100 * MS;
        vt_migrate_cost_predict(&in, ret_cost);
}

static void
run_init(Run *run, FakeGuest *fake)
{
        memset(run, 0, sizeof(*run));
        run->fake = fake;
        run->actions = g_array_new(FALSE, FALSE, sizeof(VtMigrateSteerAction));
        predict_converging(&run->prediction);
}

/* Makes the executor (5 ms reads, 1 s of grace, @deadline_us) and starts it. */
static void
run_start(Run *run, gint64 deadline_us)
{
        VtMigrateRequest request = {
            .peer = "qemu+unix:///system?socket=/run/peer/libvirt-sock",
            .bandwidth = 128 * MiB,
            .downtime_limit_us = 300 * MS,
            .auto_converge = TRUE,
        };
        VtMigrateExecLimits limits;
        g_autoptr(GError) error = NULL;

        vt_migrate_exec_limits_init(&limits);
        limits.poll_interval_us = 5 * MS;
        limits.grace_us = SEC;
        limits.deadline_us = deadline_us;
        run->exec = vt_migrate_exec_new(VT_GUEST(run->fake), &request, &run->prediction, NULL);
        vt_migrate_exec_set_limits(run->exec, &limits);
        g_signal_connect(run->exec, "progress", G_CALLBACK(on_progress), run);
        g_signal_connect(run->exec, "steered", G_CALLBACK(on_steered), run);
        g_signal_connect(run->exec, "finished", G_CALLBACK(on_finished), run);
        g_assert_true(vt_migrate_exec_start(run->exec, &error));
        g_assert_no_error(error);
        g_assert_true(vt_migrate_exec_get_for_guest(VT_GUEST(run->fake)) == run->exec);
}

static gboolean
run_done(gpointer data)
{
        return ((Run *)data)->finished > 0;
}

/* Waits for "finished", then drains the loop: it must not come twice. */
static void
run_wait(Run *run)
{
        g_assert_true(vt_test_run_until(run_done, run, RUN_GUARD_US));
        while (g_main_context_iteration(NULL, FALSE))
                ;
        g_assert_cmpuint(run->finished, ==, 1);
        g_assert_true(vt_migrate_exec_get_result(run->exec) != NULL);
        g_assert_cmpstr(vt_migrate_exec_get_result(run->exec)->reason, ==, run->result.reason);
        g_test_message("%s: %s; %s", vt_migrate_exec_outcome_to_string(run->result.outcome),
                       run->result.reason, run->result.summary);
        /* The prediction rides beside the actual, whatever the outcome. */
        g_assert_cmpint(run->result.prediction.total_us, ==, run->prediction.total_us);
        g_assert_cmpuint(run->result.prediction.passes, ==, run->prediction.passes);
}

static void
run_clear(Run *run)
{
        g_clear_object(&run->exec);
        g_array_unref(run->actions);
        g_clear_object(&run->fake);
}

/* ---- the cases ---- */

static const FakeStep converging[] = {
    {.status = VT_MIGRATE_STATUS_SETUP},
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 1, .remaining_mib = 500, .transferred_mib = 12},
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 1, .remaining_mib = 300, .transferred_mib = 212},
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 2, .remaining_mib = 40, .transferred_mib = 515},
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 3, .remaining_mib = 3, .transferred_mib = 554},
    {.status = VT_MIGRATE_STATUS_STOPPED, .pass = 3, .remaining_mib = 3, .transferred_mib = 555},
    {.status = VT_MIGRATE_STATUS_COMPLETED,
     .pass = 4,
     .transferred_mib = 558,
     .elapsed_ms = 4420,
     .downtime_ms = 31},
};

static void
test_converging(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = converging;
        run.fake->n_script = G_N_ELEMENTS(converging);
        run_start(&run, 0);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_COMPLETED);
        g_assert_cmpstr(run.result.reason, ==, "completed");
        /* The actual beside the predicted (3 passes, 4.3 s, 8 ms down). */
        g_assert_true(run.result.prediction.converges);
        g_assert_cmpuint(run.result.prediction.passes, ==, 3);
        g_assert_cmpint(run.result.total_us, ==, 4420 * MS);
        g_assert_cmpint(run.result.downtime_us, ==, 31 * MS);
        g_assert_cmpuint(run.result.passes, ==, 4);
        g_assert_cmpuint(run.result.bytes, ==, 558 * MiB);
        g_assert_cmpuint(run.result.steps, ==, 0);
        g_assert_false(run.result.source_gone);
        g_assert_nonnull(
            strstr(run.result.summary, "4.4 s (predicted 4.3 s), 4 passes (3), 31 ms"));
        /* Left alone: one start, a pass each, no steering, no cancel. */
        g_assert_cmpuint(run.fake->starts, ==, 1);
        g_assert_cmpuint(run.progress, ==, 3);
        g_assert_cmpuint(run.actions->len, ==, 0);
        g_assert_cmpuint(run.fake->downtimes->len, ==, 0);
        g_assert_cmpuint(run.fake->cancels, ==, 0);
        /* The request as sent: the steering's initial limit, no auto-converge
         * since the steering does not allow it. */
        g_assert_cmpstr(run.fake->request.peer, ==,
                        "qemu+unix:///system?socket=/run/peer/libvirt-sock");
        g_assert_cmpint(run.fake->request.downtime_limit_us, ==, 100 * MS);
        g_assert_cmpuint(run.fake->request.bandwidth, ==, 128 * MiB);
        g_assert_false(run.fake->request.auto_converge);
        run_clear(&run);
}

static void
test_stall(void)
{
        static const gint64 ramp_ms[] = {150, 200, 300, 400, 500};
        const VtMigrateSteerAction *last;
        Run run;

        run_init(&run, fake_new_started());
        run.fake->generate = generate_stall;
        run_start(&run, 0);
        run_wait(&run);

        /* The fake saw the ramp, step by step up to the cap, then the cancel. */
        g_assert_cmpuint(run.fake->downtimes->len, ==, G_N_ELEMENTS(ramp_ms));
        for (guint i = 0; i < G_N_ELEMENTS(ramp_ms); i++)
                g_assert_cmpint(g_array_index(run.fake->downtimes, gint64, i), ==, ramp_ms[i] * MS);
        g_assert_cmpuint(run.fake->cancels, ==, 1);
        g_assert_cmpuint(run.actions->len, ==, G_N_ELEMENTS(ramp_ms) + 1);
        last = &g_array_index(run.actions, VtMigrateSteerAction, run.actions->len - 1);
        g_assert_cmpint(last->kind, ==, VT_MIGRATE_STEER_CANCEL);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_cmpint(run.result.cause, ==, VT_MIGRATE_STEER_CAUSE_STALLED);
        g_assert_false(run.result.by_hand);
        g_assert_cmpuint(run.result.steps, ==, G_N_ELEMENTS(ramp_ms));
        g_assert_cmpint(run.result.downtime_limit_us, ==, 500 * MS);
        g_assert_cmpint(run.result.downtime_us, ==, 0);
        g_assert_nonnull(strstr(run.result.reason, "stalled 2 passes at 200 MiB"));
        g_assert_false(vt_guest_is_gone(VT_GUEST(run.fake)));
        run_clear(&run);
}

/* The backend refuses the first raise: the limit in force is the cap. */
static void
test_downtime_refused(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->generate = generate_stall;
        run.fake->refuse_downtime = TRUE;
        run_start(&run, 0);
        run_wait(&run);

        g_assert_cmpuint(run.fake->downtimes->len, ==, 1);
        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_cmpint(run.result.cause, ==, VT_MIGRATE_STEER_CAUSE_STALLED);
        g_assert_cmpuint(run.result.steps, ==, 0);
        g_assert_cmpint(run.result.downtime_limit_us, ==, 100 * MS);
        g_assert_nonnull(strstr(run.result.reason, "the most the backend took"));
        run_clear(&run);
}

static void
test_start_fails(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = converging;
        run.fake->n_script = G_N_ELEMENTS(converging);
        run.fake->fail_start = TRUE;
        run_start(&run, 0);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_FAILED);
        g_assert_nonnull(strstr(run.result.reason, "the start failed: destination command"));
        g_assert_cmpuint(run.fake->queries, ==, 0);
        g_assert_cmpuint(run.fake->cancels, ==, 0);
        g_assert_cmpuint(run.result.passes, ==, 0);
        run_clear(&run);
}

static const FakeStep destination_dies[] = {
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 1, .remaining_mib = 400, .transferred_mib = 112},
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 2, .remaining_mib = 40, .transferred_mib = 515},
    {.status = VT_MIGRATE_STATUS_FAILED,
     .pass = 2,
     .transferred_mib = 520,
     .error = "Unable to write to socket: Broken pipe"},
};

static void
test_destination_dies(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = destination_dies;
        run.fake->n_script = G_N_ELEMENTS(destination_dies);
        run_start(&run, 0);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_FAILED);
        g_assert_cmpstr(run.result.reason, ==, "failed: Unable to write to socket: Broken pipe");
        g_assert_false(run.result.source_gone);
        g_assert_cmpuint(run.result.passes, ==, 2);
        g_assert_cmpuint(run.result.bytes, ==, 520 * MiB);
        /* The guest is still there, and free to move again. */
        g_assert_false(vt_guest_is_gone(VT_GUEST(run.fake)));
        g_assert_true(vt_guest_is_started(VT_GUEST(run.fake)));
        g_assert_null(vt_migrate_exec_get_for_guest(VT_GUEST(run.fake)));
        g_assert_cmpuint(run.fake->cancels, ==, 0);
        run_clear(&run);
}

static const FakeStep query_errors[] = {
    {.query_error = TRUE},
};

static void
test_query_error_storm(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = query_errors;
        run.fake->n_script = G_N_ELEMENTS(query_errors);
        run_start(&run, 0);
        run_wait(&run);

        /* Bounded: 10 failed reads, a cancel on the safe side, the end. */
        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_FAILED);
        g_assert_nonnull(strstr(run.result.reason, "lost track: 10 reads failed in a row"));
        g_assert_nonnull(strstr(run.result.reason, "cancel sent"));
        g_assert_cmpuint(run.fake->queries, >=, 10);
        g_assert_cmpuint(run.fake->queries, <=, 11);
        g_assert_cmpuint(run.fake->cancels, ==, 1);
        run_clear(&run);
}

static void
test_cancel_by_hand(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->generate = generate_slow;
        run.cancel_at_progress = "operator asked";
        run_start(&run, 0);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_true(run.result.by_hand);
        g_assert_cmpint(run.result.cause, ==, VT_MIGRATE_STEER_CAUSE_NONE);
        g_assert_cmpstr(run.result.reason, ==, "cancelled by hand: operator asked");
        g_assert_cmpuint(run.fake->cancels, ==, 1);
        g_assert_cmpuint(run.actions->len, ==, 0);
        /* Nothing happens once finished. */
        vt_migrate_exec_cancel(run.exec, "again");
        g_assert_cmpuint(run.fake->cancels, ==, 1);
        run_clear(&run);
}

/* A cancel asked for while the start is in flight goes once it runs. */
static void
test_cancel_during_start(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->generate = generate_slow;
        run_start(&run, 0);
        vt_migrate_exec_cancel(run.exec, NULL);
        g_assert_cmpuint(run.fake->cancels, ==, 0);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_cmpstr(run.result.reason, ==, "cancelled by hand: no reason given");
        g_assert_cmpuint(run.fake->starts, ==, 1);
        g_assert_cmpuint(run.fake->cancels, ==, 1);
        run_clear(&run);
}

static const FakeStep stuck_stopped[] = {
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 1, .remaining_mib = 400},
    {.status = VT_MIGRATE_STATUS_STOPPED, .pass = 2, .remaining_mib = 3},
};

/* A status that never ends, in the final copy the steering leaves alone:
 * the executor's deadline cancels it. */
static void
test_never_ends(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = stuck_stopped;
        run.fake->n_script = G_N_ELEMENTS(stuck_stopped);
        run_start(&run, 100 * MS);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_cmpstr(run.result.reason, ==, "no final status within 0.1 s (last seen stopped)");
        g_assert_cmpuint(run.actions->len, ==, 0);
        g_assert_cmpuint(run.fake->cancels, ==, 1);
        run_clear(&run);
}

/* ... and when the cancel never shows either, the grace ends it as failed. */
static void
test_never_ends_cancel_ignored(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = stuck_stopped;
        run.fake->n_script = G_N_ELEMENTS(stuck_stopped);
        run.fake->cancel_ignored = TRUE;
        run_start(&run, 100 * MS);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_FAILED);
        g_assert_nonnull(strstr(run.result.reason, "showed no final status within 1000 ms; last "
                                                   "seen stopped"));
        g_assert_cmpuint(run.fake->cancels, ==, 1);
        g_assert_cmpint(run.result.total_us, >=, 1100 * MS);
        run_clear(&run);
}

static const FakeStep gone_mid_move[] = {
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 1, .remaining_mib = 400},
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 2, .remaining_mib = 40, .gone = TRUE},
};

/* The guest goes away and the backend cannot say more: failed, source gone. */
static void
test_gone(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = gone_mid_move;
        run.fake->n_script = G_N_ELEMENTS(gone_mid_move);
        run_start(&run, 0);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_FAILED);
        g_assert_true(run.result.source_gone);
        g_assert_nonnull(strstr(run.result.reason, "went away during the move (QEMU went away)"));
        g_assert_cmpuint(run.fake->cancels, ==, 0);
        run_clear(&run);
}

static const FakeStep gone_after_success[] = {
    {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 1, .remaining_mib = 400},
    {.status = VT_MIGRATE_STATUS_COMPLETED,
     .pass = 3,
     .transferred_mib = 556,
     .elapsed_ms = 4300,
     .downtime_ms = 12,
     .gone = TRUE},
};

/* The source domain goes away right after a successful move (libvirt),
 * and the backend still says how it ended: completed. */
static void
test_gone_after_success(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = gone_after_success;
        run.fake->n_script = G_N_ELEMENTS(gone_after_success);
        run.fake->answer_after_gone = TRUE;
        run_start(&run, 0);
        run_wait(&run);

        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_COMPLETED);
        g_assert_true(run.result.source_gone);
        g_assert_cmpint(run.result.downtime_us, ==, 12 * MS);
        run_clear(&run);
}

static gboolean
exec_done(gpointer data)
{
        return vt_migrate_exec_is_finished(data);
}

/* One guest, one move; an executor needs a started guest that can migrate. */
static void
test_one_at_a_time(void)
{
        g_autoptr(VtMigrateExec) second = NULL;
        g_autoptr(VtMigrateExec) idle = NULL;
        g_autoptr(FakeGuest) unstarted = g_object_new(FAKE_TYPE_GUEST, "name", "g2", NULL);
        g_autoptr(GError) error = NULL;
        VtMigrateRequest request = {.peer = "peer"};
        Run run;

        run_init(&run, fake_new_started());
        run.fake->generate = generate_slow;
        run_start(&run, 0);

        second = vt_migrate_exec_new(VT_GUEST(run.fake), &request, &run.prediction, NULL);
        g_assert_false(vt_migrate_exec_start(second, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
        g_clear_error(&error);
        g_assert_false(vt_migrate_exec_start(run.exec, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PENDING);
        g_clear_error(&error);

        idle = vt_migrate_exec_new(VT_GUEST(unstarted), &request, &run.prediction, NULL);
        g_assert_false(vt_migrate_exec_start(idle, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
        g_assert_null(vt_migrate_exec_get_result(idle));
        vt_migrate_exec_cancel(idle, "nothing to cancel");
        g_assert_cmpuint(unstarted->cancels, ==, 0);

        vt_migrate_exec_cancel(run.exec, "done with it");
        run_wait(&run);
        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_cmpuint(run.fake->starts, ==, 1);
        /* Over: the guest may move again. */
        g_clear_error(&error);
        g_assert_true(vt_migrate_exec_start(second, &error));
        vt_migrate_exec_cancel(second, NULL);
        g_assert_true(vt_test_run_until(exec_done, second, RUN_GUARD_US));
        run_clear(&run);
}

/* The caller may drop its executor while it runs: it ends on its own. */
static void
test_fire_and_forget(void)
{
        Run run;

        run_init(&run, fake_new_started());
        run.fake->script = converging;
        run.fake->n_script = G_N_ELEMENTS(converging);
        run_start(&run, 0);
        g_object_add_weak_pointer(G_OBJECT(run.exec), (gpointer *)&run.exec);
        g_object_unref(run.exec);
        g_assert_nonnull(run.exec);
        g_assert_true(vt_test_run_until(run_done, &run, RUN_GUARD_US));
        while (g_main_context_iteration(NULL, FALSE))
                ;
        g_assert_cmpint(run.result.outcome, ==, VT_MIGRATE_EXEC_COMPLETED);
        g_assert_null(run.exec);
        run_clear(&run);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/migrate/exec/converging", test_converging);
        g_test_add_func("/migrate/exec/stall-ramp-then-cancel", test_stall);
        g_test_add_func("/migrate/exec/downtime-refused", test_downtime_refused);
        g_test_add_func("/migrate/exec/start-fails", test_start_fails);
        g_test_add_func("/migrate/exec/destination-dies", test_destination_dies);
        g_test_add_func("/migrate/exec/query-error-storm", test_query_error_storm);
        g_test_add_func("/migrate/exec/cancel-by-hand", test_cancel_by_hand);
        g_test_add_func("/migrate/exec/cancel-during-start", test_cancel_during_start);
        g_test_add_func("/migrate/exec/never-ends", test_never_ends);
        g_test_add_func("/migrate/exec/never-ends-cancel-ignored", test_never_ends_cancel_ignored);
        g_test_add_func("/migrate/exec/gone", test_gone);
        g_test_add_func("/migrate/exec/gone-after-success", test_gone_after_success);
        g_test_add_func("/migrate/exec/one-at-a-time", test_one_at_a_time);
        g_test_add_func("/migrate/exec/fire-and-forget", test_fire_and_forget);
        return g_test_run();
}
