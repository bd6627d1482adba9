/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest's migration methods: what the executor (migrate/) calls, passed
 * on to the backend (QMP-direct: QMP's migration commands; libvirt:
 * virDomainMigrateToURI3() and the job calls).
 *
 * A backend without a method fails it with G_IO_ERROR_NOT_SUPPORTED and
 * the guest's name, so the executor has one error to handle whatever the
 * backend. The base class keeps no migration state: the executor owns the
 * move, the backend the hypervisor's side of it.
 */
#include "host/guest/guest-private.h"

/* Fails a method the backend does not have. */
static void
guest_migrate_unsupported(VtGuest *guest, gpointer tag, const char *what,
                          GAsyncReadyCallback callback, gpointer user_data)
{
        g_task_report_new_error(guest, callback, user_data, tag, G_IO_ERROR,
                                G_IO_ERROR_NOT_SUPPORTED, "guest '%s': its backend cannot %s",
                                vt_guest_get_name(guest), what);
}

/* A finish: the reported error, or the backend's own finish. */
static gboolean
guest_migrate_finish(VtGuest *guest, GAsyncResult *result, gpointer tag,
                     gboolean (*finish)(VtGuest *, GAsyncResult *, GError **), GError **error)
{
        if (g_async_result_is_tagged(result, tag) || finish == NULL)
                return g_task_propagate_boolean(G_TASK(result), error);
        return finish(guest, result, error);
}

/**
 * vt_guest_can_migrate:
 * @guest: a guest
 *
 * Returns: %TRUE if its backend can start, follow and cancel a migration
 */
gboolean
vt_guest_can_migrate(VtGuest *guest)
{
        VtGuestClass *klass;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        klass = VT_GUEST_GET_CLASS(guest);
        return klass->migrate_start_async != NULL && klass->migrate_query_async != NULL &&
               klass->migrate_cancel_async != NULL;
}

/**
 * vt_guest_measure_dirty_rate_async:
 * @guest: a started guest, not migrating
 * @window_us: how long to measure (the predicted first pass, so that the
 *     rate read matches what a pass will see: a longer window reads a
 *     lower rate, a page counting once)
 * @callback: called when the figure is in, or on failure
 * @user_data: for @callback
 *
 * Measures how fast the guest dirties its memory, on demand (never on a
 * schedule, never during a migration: the job's own figures serve then).
 */
void
vt_guest_measure_dirty_rate_async(VtGuest *guest, gint64 window_us, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
        VtGuestClass *klass;

        g_return_if_fail(VT_IS_GUEST(guest));
        klass = VT_GUEST_GET_CLASS(guest);
        if (klass->dirty_rate_async == NULL) {
                guest_migrate_unsupported(guest, vt_guest_measure_dirty_rate_async,
                                          "measure a dirty rate", callback, user_data);
                return;
        }
        klass->dirty_rate_async(guest, window_us, callback, user_data);
}

/**
 * vt_guest_measure_dirty_rate_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @ret_rate: (out): the dirty rate, bytes per second; written on success
 * @error: %G_IO_ERROR_NOT_SUPPORTED, or the backend's error
 *
 * Returns: %TRUE if the rate was measured
 */
gboolean
vt_guest_measure_dirty_rate_finish(VtGuest *guest, GAsyncResult *result, guint64 *ret_rate,
                                   GError **error)
{
        VtGuestClass *klass;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        klass = VT_GUEST_GET_CLASS(guest);
        if (g_async_result_is_tagged(result, vt_guest_measure_dirty_rate_async) ||
            klass->dirty_rate_finish == NULL)
                return g_task_propagate_boolean(G_TASK(result), error);
        return klass->dirty_rate_finish(guest, result, ret_rate, error);
}

/**
 * vt_guest_migrate_start_async:
 * @guest: a started guest
 * @request: what to ask for (copied by the backend as it needs)
 * @callback: called once the migration runs, or on failure to start it
 * @user_data: for @callback
 *
 * Starts a live migration. It completes when the migration is under way,
 * not when it ends: follow it with vt_guest_migrate_query_async().
 */
void
vt_guest_migrate_start_async(VtGuest *guest, const VtMigrateRequest *request,
                             GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestClass *klass;

        g_return_if_fail(VT_IS_GUEST(guest));
        g_return_if_fail(request != NULL);
        klass = VT_GUEST_GET_CLASS(guest);
        if (klass->migrate_start_async == NULL) {
                guest_migrate_unsupported(guest, vt_guest_migrate_start_async, "migrate", callback,
                                          user_data);
                return;
        }
        klass->migrate_start_async(guest, request, callback, user_data);
}

/**
 * vt_guest_migrate_start_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: %G_IO_ERROR_NOT_SUPPORTED, or the backend's error
 *
 * Returns: %TRUE if the migration runs
 */
gboolean
vt_guest_migrate_start_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        return guest_migrate_finish(guest, result, vt_guest_migrate_start_async,
                                    VT_GUEST_GET_CLASS(guest)->migrate_start_finish, error);
}

/**
 * vt_guest_migrate_query_async:
 * @guest: a guest
 * @callback: called with the progress read
 * @user_data: for @callback
 *
 * Reads how the migration goes (the job's own figures).
 */
void
vt_guest_migrate_query_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestClass *klass;

        g_return_if_fail(VT_IS_GUEST(guest));
        klass = VT_GUEST_GET_CLASS(guest);
        if (klass->migrate_query_async == NULL) {
                guest_migrate_unsupported(guest, vt_guest_migrate_query_async, "follow a migration",
                                          callback, user_data);
                return;
        }
        klass->migrate_query_async(guest, callback, user_data);
}

/**
 * vt_guest_migrate_query_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @ret_progress: (out): how it goes; written on success
 * @error: %G_IO_ERROR_NOT_SUPPORTED, or the backend's error
 *
 * Returns: %TRUE if @ret_progress was read
 */
gboolean
vt_guest_migrate_query_finish(VtGuest *guest, GAsyncResult *result, VtMigrateProgress *ret_progress,
                              GError **error)
{
        VtGuestClass *klass;

        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        klass = VT_GUEST_GET_CLASS(guest);
        if (g_async_result_is_tagged(result, vt_guest_migrate_query_async) ||
            klass->migrate_query_finish == NULL)
                return g_task_propagate_boolean(G_TASK(result), error);
        return klass->migrate_query_finish(guest, result, ret_progress, error);
}

/**
 * vt_guest_migrate_set_downtime_async:
 * @guest: a migrating guest
 * @downtime_limit_us: the new downtime limit
 * @callback: called when the backend took it
 * @user_data: for @callback
 *
 * Changes the downtime the last copy may take, while the migration runs
 * (the executor's downtime ramp).
 */
void
vt_guest_migrate_set_downtime_async(VtGuest *guest, gint64 downtime_limit_us,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestClass *klass;

        g_return_if_fail(VT_IS_GUEST(guest));
        klass = VT_GUEST_GET_CLASS(guest);
        if (klass->migrate_set_downtime_async == NULL) {
                guest_migrate_unsupported(guest, vt_guest_migrate_set_downtime_async,
                                          "change a migration's downtime", callback, user_data);
                return;
        }
        klass->migrate_set_downtime_async(guest, downtime_limit_us, callback, user_data);
}

/**
 * vt_guest_migrate_set_downtime_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: %G_IO_ERROR_NOT_SUPPORTED, or the backend's error
 *
 * Returns: %TRUE if the limit was set
 */
gboolean
vt_guest_migrate_set_downtime_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        return guest_migrate_finish(guest, result, vt_guest_migrate_set_downtime_async,
                                    VT_GUEST_GET_CLASS(guest)->migrate_set_downtime_finish, error);
}

/**
 * vt_guest_migrate_cancel_async:
 * @guest: a migrating guest
 * @callback: called when the backend took the cancel
 * @user_data: for @callback
 *
 * Cancels the migration under way; the guest runs on in the source. The
 * cancel is done when a query reads %VT_MIGRATE_STATUS_CANCELLED.
 */
void
vt_guest_migrate_cancel_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestClass *klass;

        g_return_if_fail(VT_IS_GUEST(guest));
        klass = VT_GUEST_GET_CLASS(guest);
        if (klass->migrate_cancel_async == NULL) {
                guest_migrate_unsupported(guest, vt_guest_migrate_cancel_async,
                                          "cancel a migration", callback, user_data);
                return;
        }
        klass->migrate_cancel_async(guest, callback, user_data);
}

/**
 * vt_guest_migrate_cancel_finish:
 * @guest: a guest
 * @result: the result passed to the callback
 * @error: %G_IO_ERROR_NOT_SUPPORTED, or the backend's error
 *
 * Returns: %TRUE if the cancel was taken
 */
gboolean
vt_guest_migrate_cancel_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        g_return_val_if_fail(VT_IS_GUEST(guest), FALSE);
        return guest_migrate_finish(guest, result, vt_guest_migrate_cancel_async,
                                    VT_GUEST_GET_CLASS(guest)->migrate_cancel_finish, error);
}
