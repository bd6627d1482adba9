/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP-direct guest's dirty rate, measured on demand by QEMU's page
 * sampling (`calc-dirty-rate`, QEMU >= 5.2; `sample-pages` >= 6.1).
 *
 * Theory of operation: one measurement at a time per guest, never while a
 * migration runs (the job's own figures serve then):
 *
 *   query-migrate       a migration under way (or done: the source is a
 *                       spent copy) refuses with G_IO_ERROR_BUSY
 *   calc-dirty-rate     calc-time: the window in whole seconds, rounded
 *                       up and clamped to QEMU 7.2's 1..60; sample-pages:
 *                       VT_GUEST_QMP_DIRTY_SAMPLE_PAGES per GiB; the
 *                       mode left to its default, page-sampling (the
 *                       dirty-bitmap and dirty-ring modes kill QEMU 7.2
 *                       under TCG: SIGSEGV on the command, measured here)
 *   (a timer at the end of the window)
 *   query-dirty-rate    `measured`: the rate, MiB/s to bytes/s; still
 *                       `measuring` (QEMU hashes the sampled pages after
 *                       the window too): asked again every
 *                       VT_GUEST_QMP_DIRTY_POLL_US, until
 *                       VT_GUEST_QMP_DIRTY_GRACE_US past the window,
 *                       then G_IO_ERROR_TIMED_OUT
 *
 * QEMU keeps one measurement per process: a `calc-dirty-rate` while one
 * runs fails with QEMU's error; a `measured` reply over another window
 * is someone else's and fails with G_IO_ERROR_BUSY.
 */
#include "host/qmp-direct/qmp-direct-guest-private.h"

#define CALC_TIME_MIN_S 1
#define CALC_TIME_MAX_S 60

typedef struct {
        gint64 calc_time_s;
        gint64 deadline_us; /* monotonic: past it, stop asking */
} DirtyOp;

static void dirty_on_rate(GObject *source, GAsyncResult *result, gpointer user_data);

/* Ends the measurement in @task (transfer full) with @error or @rate. */
static void
dirty_return(GTask *task, GError *error, guint64 rate)
{
        VtGuestQmp *self = g_task_get_source_object(task);

        self->dirty_measuring = FALSE;
        if (error != NULL)
                g_task_return_error(task, error);
        else
                g_task_return_pointer(task, g_memdup2(&rate, sizeof(rate)), g_free);
        g_object_unref(task);
}

static gboolean
dirty_on_timer(gpointer user_data)
{
        GTask *task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);

        if (self->stopped || self->client == NULL) {
                dirty_return(g_object_ref(task),
                             g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         "guest '%s' stopped while measuring its dirty rate",
                                         vt_guest_get_name(VT_GUEST(self))),
                             0);
                return G_SOURCE_REMOVE;
        }
        vt_qmp_client_execute_async(self->client, "query-dirty-rate", NULL, 0, dirty_on_rate,
                                    g_object_ref(task));
        return G_SOURCE_REMOVE;
}

/* Asks `query-dirty-rate` in @delay_us; @task: transfer full. */
static void
dirty_schedule(GTask *task, gint64 delay_us)
{
        VtGuestQmp *self = g_task_get_source_object(task);
        g_autoptr(GSource) source = g_timeout_source_new((guint)((delay_us + 999) / 1000));

        g_source_set_name(source, "vmtide dirty rate");
        g_source_set_callback(source, dirty_on_timer, task, g_object_unref);
        g_source_attach(source, self->context);
}

static void
dirty_on_rate(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        DirtyOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        gboolean done = FALSE;
        guint64 rate = 0;

        if (reply == NULL ||
            !vt_guest_qmp_parse_dirty_rate(reply, op->calc_time_s, &done, &rate, &error)) {
                dirty_return(task, error, 0);
                return;
        }
        if (done) {
                dirty_return(task, NULL, rate);
                return;
        }
        if (g_get_monotonic_time() >= op->deadline_us) {
                dirty_return(task,
                             g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                         "guest '%s': dirty rate still measuring %.0f s past "
                                         "its %" G_GINT64_FORMAT " s window",
                                         vt_guest_get_name(g_task_get_source_object(task)),
                                         (double)VT_GUEST_QMP_DIRTY_GRACE_US / G_USEC_PER_SEC,
                                         op->calc_time_s),
                             0);
                return;
        }
        dirty_schedule(task, VT_GUEST_QMP_DIRTY_POLL_US);
}

static void
dirty_on_calc(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        DirtyOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        if (reply == NULL) {
                dirty_return(task, error, 0);
                return;
        }
        op->deadline_us =
            g_get_monotonic_time() + op->calc_time_s * G_USEC_PER_SEC + VT_GUEST_QMP_DIRTY_GRACE_US;
        dirty_schedule(task, op->calc_time_s * G_USEC_PER_SEC);
}

static void
dirty_on_migrate_status(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        DirtyOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        g_autoptr(json_object) args = NULL;
        VtMigrateProgress progress;

        if (reply == NULL || !vt_guest_qmp_parse_migrate(reply, &progress, &error)) {
                dirty_return(task, error, 0);
                return;
        }
        if (progress.status != VT_MIGRATE_STATUS_NONE &&
            !vt_migrate_status_is_final(progress.status)) {
                dirty_return(task,
                             g_error_new(G_IO_ERROR, G_IO_ERROR_BUSY,
                                         "guest '%s' is migrating: its dirty rate is the "
                                         "migration's own",
                                         vt_guest_get_name(VT_GUEST(self))),
                             0);
                return;
        }
        args = json_object_new_object();
        json_object_object_add(args, "calc-time", json_object_new_int64(op->calc_time_s));
        json_object_object_add(args, "sample-pages",
                               json_object_new_int64(VT_GUEST_QMP_DIRTY_SAMPLE_PAGES));
        vt_qmp_client_execute_async(self->client, "calc-dirty-rate", args, 0, dirty_on_calc, task);
}

static void
guest_qmp_dirty_rate_async(VtGuest *guest, gint64 window_us, GAsyncReadyCallback callback,
                           gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);
        DirtyOp *op = g_new0(DirtyOp, 1);

        g_task_set_source_tag(task, guest_qmp_dirty_rate_async);
        g_task_set_task_data(task, op, g_free);
        /* Whole seconds in QEMU 7.2 (8.2 adds calc-time-unit): round up. */
        op->calc_time_s = CLAMP((MAX(window_us, 0) + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC,
                                CALC_TIME_MIN_S, CALC_TIME_MAX_S);
        if (self->stopped || self->client == NULL || self->migrate_done) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                        "guest '%s': %s", vt_guest_get_name(guest),
                                        self->migrate_done ? "it migrated away" : "not connected");
                g_object_unref(task);
                return;
        }
        if (self->dirty_measuring) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_BUSY,
                                        "guest '%s': its dirty rate is being measured already",
                                        vt_guest_get_name(guest));
                g_object_unref(task);
                return;
        }
        self->dirty_measuring = TRUE;
        vt_qmp_client_execute_async(self->client, "query-migrate", NULL, 0, dirty_on_migrate_status,
                                    task);
}

static gboolean
guest_qmp_dirty_rate_finish(VtGuest *guest, GAsyncResult *result, guint64 *ret_rate, GError **error)
{
        g_autofree guint64 *rate = g_task_propagate_pointer(G_TASK(result), error);

        (void)guest;
        if (rate == NULL)
                return FALSE;
        if (ret_rate != NULL)
                *ret_rate = *rate;
        return TRUE;
}

void
vt_guest_qmp_dirty_class_init(VtGuestClass *klass)
{
        klass->dirty_rate_async = guest_qmp_dirty_rate_async;
        klass->dirty_rate_finish = guest_qmp_dirty_rate_finish;
}
