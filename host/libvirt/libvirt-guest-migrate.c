/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt guest's migration methods and dirty rate: the guest
 * contract's (host/guest/guest.h) over virDomainMigrateToURI3() and the
 * job calls; the blocking calls are in libvirt-guest-job-migrate.c.
 *
 * Theory of operation: virDomainMigrateToURI3() blocks until the move
 * ends, so it holds the guest's serial worker for the whole move (what
 * changes the domain waits behind it, as libvirt's own migration job
 * would make it wait anyway). Everything that must answer while it runs
 * goes to a second serial worker, the control worker: the watch that
 * completes migrate_start once libvirt's job runs (virDomainGetJobInfo:
 * UNBOUNDED) and then sets the downtime limit, migrate_query
 * (virDomainGetJobStats), migrate_set_downtime, migrate_cancel
 * (virDomainAbortJob), and the balloon statistics reads of the base class
 * (libvirt lets queries through beside a migration job).
 *
 *   start  ──► worker:  MigrateToURI3 ........................ returns
 *          └─► control: GetJobInfo… UNBOUNDED, SetMaxDowntime
 *              start completes here ─┘     query/downtime/cancel here
 *
 * The call's return is the outcome: COMPLETED, CANCELLED (aborted, or a
 * failure after a cancel was asked: the destination QEMU can quit on the
 * broken stream first) or FAILED with libvirt's message; a query after it
 * reads that outcome with
 * the last figures (libvirt's JOB_COMPLETED event, passed on by the
 * backend, brings the final ones, the downtime included; a completed move
 * takes a transient domain away on the source, so they cannot be read
 * after). A move that ends before its job was seen running (refused at
 * once, or done within one watch interval) completes migrate_start with
 * the outcome: an error unless COMPLETED.
 *
 * Changes to the domain (the balloon, the metadata) fail at once with
 * G_IO_ERROR_BUSY while it migrates, and so does a dirty-rate measurement
 * (the job's own figures serve then).
 */
#include "host/libvirt/libvirt-guest-private.h"

#include <string.h>

#include "host/libvirt/libvirt-error.h"

static const char *
guest_name(VtGuestLibvirt *self)
{
        return vt_guest_get_name(VT_GUEST(self));
}

/* Fails an operation at once: @code in G_IO_ERROR, and @what. */
static void
guest_report(VtGuestLibvirt *self, gpointer tag, GAsyncReadyCallback callback, gpointer user_data,
             GIOErrorEnum code, const char *what)
{
        g_task_report_new_error(self, callback, user_data, tag, G_IO_ERROR, code, "guest '%s': %s",
                                guest_name(self), what);
}

/* The caller's task, tagged; its job task (completing it through
 * @on_done) in *@ret_task, or NULL when libvirtd is unreachable. */
static GTask *
guest_outer_task(VtGuestLibvirt *self, gpointer tag, GAsyncReadyCallback callback,
                 gpointer user_data, GAsyncReadyCallback on_done, GTask **ret_task,
                 VtLibvirtGuestJob **ret_job)
{
        GTask *outer = g_task_new(self, NULL, callback, user_data);

        g_task_set_source_tag(outer, tag);
        *ret_task = vt_guest_libvirt_job_task_new(self, tag, on_done, outer, ret_job);
        return outer;
}

/* ---- The dirty rate ---------------------------------------------------- */

static void
guest_on_dirty_rate(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) outer = user_data;
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;

        (void)source;
        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                g_task_return_error(outer, g_steal_pointer(&error));
                return;
        }
        g_task_set_task_data(outer, g_memdup2(&job->dirty_rate, sizeof(job->dirty_rate)), g_free);
        g_task_return_boolean(outer, TRUE);
}

static void
guest_libvirt_dirty_rate_async(VtGuest *guest, gint64 window_us, GAsyncReadyCallback callback,
                               gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        VtLibvirtGuestJob *job;
        GTask *task;

        if (self->migrating) {
                guest_report(self, guest_libvirt_dirty_rate_async, callback, user_data,
                             G_IO_ERROR_BUSY, "migrating: its job's dirty rate serves");
                return;
        }
        guest_outer_task(self, guest_libvirt_dirty_rate_async, callback, user_data,
                         guest_on_dirty_rate, &task, &job);
        if (task == NULL)
                return;
        job->window_us = window_us;
        vt_serial_worker_run(self->worker, task, vt_libvirt_guest_job_dirty_rate);
}

static gboolean
guest_libvirt_dirty_rate_finish(VtGuest *guest, GAsyncResult *result, guint64 *ret_rate,
                                GError **error)
{
        (void)guest;
        if (!g_task_propagate_boolean(G_TASK(result), error))
                return FALSE;
        if (ret_rate != NULL)
                *ret_rate = *(guint64 *)g_task_get_task_data(G_TASK(result));
        return TRUE;
}

/* ---- Start, and the outcome -------------------------------------------- */

/* Completes migrate_start, once: TRUE, or the move's failure. */
static void
guest_start_complete(VtGuestLibvirt *self, GError *error)
{
        g_autoptr(GTask) start = g_steal_pointer(&self->start_task);

        if (start == NULL) {
                g_clear_error(&error);
                return;
        }
        if (error != NULL)
                g_task_return_error(start, error);
        else
                g_task_return_boolean(start, TRUE);
}

/* The migration call returned: its outcome is final. */
static void
guest_on_migrated(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));
        VtMigrateProgress *m = &self->migration;
        const char *how;

        (void)user_data;
        self->migrating = FALSE;
        m->status = job->progress.status;
        /* Asked to cancel, the move can also end as a failure: the
         * destination QEMU may quit on the broken stream before libvirt
         * reports the abort. Either way the guest runs here, as asked. */
        if (self->cancel_asked && m->status == VT_MIGRATE_STATUS_FAILED)
                m->status = VT_MIGRATE_STATUS_CANCELLED;
        self->cancel_asked = FALSE;
        g_strlcpy(m->error, job->progress.error, sizeof(m->error));
        if (m->status == VT_MIGRATE_STATUS_COMPLETED) {
                m->remaining_bytes = 0;
                g_debug("guest '%s': migrated to '%s'", guest_name(self), job->peer);
                guest_start_complete(self, NULL);
                return;
        }
        how = m->status == VT_MIGRATE_STATUS_CANCELLED ? "cancelled" : "failed";
        g_debug("guest '%s': migration to '%s' %s: %s", guest_name(self), job->peer, how, m->error);
        guest_start_complete(self, g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED,
                                               "guest '%s': migration to '%s' %s: %s",
                                               guest_name(self), job->peer, how, m->error));
}

/* The watch is back: the move runs (start completes), or it ended first
 * (guest_on_migrated() completes start), or it never showed. */
static void
guest_on_migrate_watched(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;

        (void)user_data;
        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                g_debug("guest '%s': watching its migration: %s", guest_name(self), error->message);
                /* Only a job that never showed fails the start; the call's
                 * own return says the rest. */
                if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) && self->migrating)
                        guest_start_complete(self, g_steal_pointer(&error));
                return;
        }
        if (job->warning != NULL)
                g_message("guest '%s': migration runs with QEMU's downtime limit: %s",
                          guest_name(self), job->warning);
        if (!job->running || !self->migrating)
                return;
        if (self->migration.status == VT_MIGRATE_STATUS_SETUP)
                self->migration.status = VT_MIGRATE_STATUS_ACTIVE;
        guest_start_complete(self, NULL);
}

static void
guest_libvirt_migrate_start_async(VtGuest *guest, const VtMigrateRequest *request,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        gpointer tag = guest_libvirt_migrate_start_async;
        VtLibvirtGuestJob *job, *watch;
        GTask *task, *watch_task;
        gint *finished;

        if (self->migrating || self->start_task != NULL) {
                guest_report(self, tag, callback, user_data, G_IO_ERROR_BUSY, "already migrating");
                return;
        }
        if (request->peer == NULL) {
                guest_report(self, tag, callback, user_data, G_IO_ERROR_INVALID_ARGUMENT,
                             "no peer to migrate to");
                return;
        }
        if (self->domain == NULL) {
                guest_report(self, tag, callback, user_data, G_IO_ERROR_NOT_CONNECTED,
                             "libvirtd is unreachable");
                return;
        }
        /* Completed by the watch or by the call's return, whichever first. */
        self->start_task = g_task_new(self, NULL, callback, user_data);
        g_task_set_source_tag(self->start_task, tag);
        task = vt_guest_libvirt_job_task_new(self, tag, guest_on_migrated, NULL, &job);
        watch_task =
            vt_guest_libvirt_job_task_new(self, tag, guest_on_migrate_watched, NULL, &watch);
        finished = g_atomic_rc_box_new0(gint);
        job->finished = finished;
        job->peer = g_strdup(request->peer);
        job->transport_uri = g_strdup(request->transport_uri);
        job->bandwidth = request->bandwidth;
        job->auto_converge = request->auto_converge;
        watch->finished = g_atomic_rc_box_acquire(finished);
        watch->downtime_limit_us = request->downtime_limit_us;
        watch->peer = g_strdup(request->peer);

        self->migrating = TRUE;
        self->cancel_asked = FALSE;
        self->completed_stats = FALSE;
        memset(&self->migration, 0, sizeof(self->migration));
        self->migration.status = VT_MIGRATE_STATUS_SETUP;
        g_debug("guest '%s': migrating to '%s' (stream '%s', %" G_GUINT64_FORMAT
                " B/s, downtime %" G_GINT64_FORMAT " us%s)",
                guest_name(self), request->peer,
                request->transport_uri != NULL ? request->transport_uri : "default",
                request->bandwidth, request->downtime_limit_us,
                request->auto_converge ? ", auto-converge" : "");
        vt_serial_worker_run(self->worker, task, vt_libvirt_guest_job_migrate);
        vt_serial_worker_run(self->control, watch_task, vt_libvirt_guest_job_migrate_watch);
}

/* ---- Query, downtime, cancel ------------------------------------------- */

/* Returns a copy of the latest figures on @outer. */
static void
guest_return_progress(VtGuestLibvirt *self, GTask *outer)
{
        g_task_return_pointer(outer, g_memdup2(&self->migration, sizeof(self->migration)), g_free);
}

static void
guest_on_migrate_queried(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        g_autoptr(GTask) outer = user_data;
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;
        VtMigrateStatus status;

        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                /* The call has ended, or is about to (a done move takes a
                 * transient domain along; a lost connection fails it): its
                 * outcome will be the answer, the last figures until then. */
                g_debug("guest '%s': reading its migration: %s", guest_name(self), error->message);
                guest_return_progress(self, outer);
                return;
        }
        /* The call returned meanwhile: the figures read are the last. */
        status = self->migrating ? job->progress.status : self->migration.status;
        /* libvirt's job runs before QEMU's (the peer sets up first), and
         * an aborted one reads empty: neither has figures. */
        if (job->progress.total_bytes == 0) {
                if (status == VT_MIGRATE_STATUS_ACTIVE &&
                    self->migration.status == VT_MIGRATE_STATUS_SETUP)
                        status = VT_MIGRATE_STATUS_SETUP;
        } else if (!self->completed_stats) {
                job->progress.status = self->migration.status;
                g_strlcpy(job->progress.error, self->migration.error, sizeof(job->progress.error));
                self->migration = job->progress;
        }
        /* libvirt's job not begun yet (or just gone): as before. */
        if (self->migrating && !vt_migrate_status_is_final(status) &&
            status != VT_MIGRATE_STATUS_NONE)
                self->migration.status = status;
        guest_return_progress(self, outer);
}

static void
guest_libvirt_migrate_query_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        VtLibvirtGuestJob *job;
        GTask *outer, *task;

        if (!self->migrating) {
                outer = g_task_new(self, NULL, callback, user_data);
                g_task_set_source_tag(outer, guest_libvirt_migrate_query_async);
                guest_return_progress(self, outer);
                g_object_unref(outer);
                return;
        }
        guest_outer_task(self, guest_libvirt_migrate_query_async, callback, user_data,
                         guest_on_migrate_queried, &task, &job);
        if (task != NULL)
                vt_serial_worker_run(self->control, task, vt_libvirt_guest_job_migrate_query);
}

static gboolean
guest_libvirt_migrate_query_finish(VtGuest *guest, GAsyncResult *result,
                                   VtMigrateProgress *ret_progress, GError **error)
{
        g_autofree VtMigrateProgress *progress = NULL;

        (void)guest;
        progress = g_task_propagate_pointer(G_TASK(result), error);
        if (progress == NULL)
                return FALSE;
        if (ret_progress != NULL)
                *ret_progress = *progress;
        return TRUE;
}

static void
guest_on_control_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) outer = user_data;
        g_autoptr(GError) error = NULL;

        (void)source;
        if (!g_task_propagate_boolean(G_TASK(result), &error))
                g_task_return_error(outer, g_steal_pointer(&error));
        else
                g_task_return_boolean(outer, TRUE);
}

static void
guest_libvirt_migrate_set_downtime_async(VtGuest *guest, gint64 downtime_limit_us,
                                         GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        gpointer tag = guest_libvirt_migrate_set_downtime_async;
        VtLibvirtGuestJob *job;
        GTask *task;

        if (!self->migrating) {
                guest_report(self, tag, callback, user_data, G_IO_ERROR_FAILED,
                             "no migration under way");
                return;
        }
        guest_outer_task(self, tag, callback, user_data, guest_on_control_done, &task, &job);
        if (task == NULL)
                return;
        job->downtime_limit_us = downtime_limit_us;
        vt_serial_worker_run(self->control, task, vt_libvirt_guest_job_migrate_downtime);
}

static void
guest_libvirt_migrate_cancel_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        VtLibvirtGuestJob *job;
        GTask *outer, *task;

        /* Nothing under way: the query says how the last move ended. */
        if (!self->migrating) {
                outer = g_task_new(self, NULL, callback, user_data);
                g_task_set_source_tag(outer, guest_libvirt_migrate_cancel_async);
                g_task_return_boolean(outer, TRUE);
                g_object_unref(outer);
                return;
        }
        self->cancel_asked = TRUE;
        guest_outer_task(self, guest_libvirt_migrate_cancel_async, callback, user_data,
                         guest_on_control_done, &task, &job);
        if (task != NULL)
                vt_serial_worker_run(self->control, task, vt_libvirt_guest_job_migrate_abort);
}

static gboolean
guest_libvirt_boolean_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        (void)guest;
        return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * vt_guest_libvirt_job_completed:
 * @guest: a guest
 * @params: the figures of libvirt's JOB_COMPLETED event (borrowed)
 * @n: how many
 *
 * For the backend: a job of the domain completed. The figures of an
 * outgoing migration's (the final ones, with the downtime the guest had)
 * are kept for the next migrate_query.
 */
void
vt_guest_libvirt_job_completed(VtGuestLibvirt *guest, virTypedParameterPtr params, int n)
{
        int operation = VIR_DOMAIN_JOB_OPERATION_UNKNOWN;

        g_return_if_fail(VT_IS_GUEST_LIBVIRT(guest));

        if (virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &operation) == 1 &&
            operation != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
                return;
        if (!guest->migrating && guest->migration.status != VT_MIGRATE_STATUS_COMPLETED)
                return;
        vt_libvirt_migrate_progress_from_params(params, n, &guest->migration);
        guest->migration.remaining_bytes = 0;
        guest->completed_stats = TRUE;
}

/**
 * vt_guest_libvirt_migrate_class_init:
 * @guest_class: the libvirt guest's class
 *
 * Fills in the migration methods and the dirty rate.
 */
void
vt_guest_libvirt_migrate_class_init(VtGuestClass *guest_class)
{
        guest_class->dirty_rate_async = guest_libvirt_dirty_rate_async;
        guest_class->dirty_rate_finish = guest_libvirt_dirty_rate_finish;
        guest_class->migrate_start_async = guest_libvirt_migrate_start_async;
        guest_class->migrate_start_finish = guest_libvirt_boolean_finish;
        guest_class->migrate_query_async = guest_libvirt_migrate_query_async;
        guest_class->migrate_query_finish = guest_libvirt_migrate_query_finish;
        guest_class->migrate_set_downtime_async = guest_libvirt_migrate_set_downtime_async;
        guest_class->migrate_set_downtime_finish = guest_libvirt_boolean_finish;
        guest_class->migrate_cancel_async = guest_libvirt_migrate_cancel_async;
        guest_class->migrate_cancel_finish = guest_libvirt_boolean_finish;
}
