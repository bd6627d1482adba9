/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP-direct guest's QEMU run state, read when the guest starts.
 *
 * Theory of operation: the start asks `query-status` first, before it
 * reads anything else. Two states say the QEMU is not the guest (yet):
 *
 *   postmigrate  a spent migration source: the guest runs elsewhere (a
 *                move completed while no vmtided was there to `quit` it).
 *                The start fails with %VT_GUEST_QMP_ERROR_SPENT_SOURCE;
 *                nothing is sent to it, least of all `quit`: a source
 *                saved to a file is the only copy. The backend tries the
 *                socket again on its rescans (a QEMU resumed by hand is
 *                then taken on).
 *   inmigrate    a QEMU waiting for an incoming migration: it does not
 *                run yet. The start waits for QEMU's RESUME event (the
 *                move completed and the guest runs here) and only then
 *                reads the balloon; a QEMU whose stream breaks exits, and
 *                the disconnection fails the start.
 *
 * Any other state is the guest's. A QEMU without `query-status`
 * (CommandNotFound) is taken as running.
 */
#include <string.h>

#include "host/qmp-direct/qmp-direct-guest-private.h"

G_DEFINE_QUARK(vt - guest - qmp - error - quark, vt_guest_qmp_error)

static const char *
guest_name(VtGuestQmp *self)
{
        return vt_guest_get_name(VT_GUEST(self));
}

/* The waiting start, if any, continues (RESUME) or fails (@error). */
static void
status_end_wait(VtGuestQmp *self, GError *error)
{
        GTask *task = g_steal_pointer(&self->resume_wait);
        VtGuestQmpResume resume = self->resume;

        if (task == NULL) {
                g_clear_error(&error);
                return;
        }
        if (error != NULL) {
                g_task_return_error(task, error);
                g_object_unref(task);
                return;
        }
        resume(task);
}

static void
status_on_resume(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                 gpointer user_data)
{
        VtGuestQmp *self = user_data;

        self->resumed = TRUE;
        if (self->resume_wait == NULL)
                return;
        g_debug("guest '%s': the incoming migration is over and the guest runs", guest_name(self));
        status_end_wait(self, NULL);
}

static void
status_on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        VtGuestQmp *self = user_data;

        status_end_wait(self, g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED,
                                          "QEMU went away before its incoming migration ended%s%s",
                                          error != NULL ? ": " : "",
                                          error != NULL ? error->message : ""));
}

/* vt_guest_qmp_status_connected: follows RESUME and disconnection. */
void
vt_guest_qmp_status_connected(VtGuestQmp *self)
{
        self->resume_id =
            g_signal_connect(self->client, "event::RESUME", G_CALLBACK(status_on_resume), self);
        self->status_disconnected_id = g_signal_connect(self->client, "disconnected",
                                                        G_CALLBACK(status_on_disconnected), self);
}

/* vt_guest_qmp_status_handle: reads the `query-status` reply. */
gboolean
vt_guest_qmp_status_handle(VtGuestQmp *self, json_object *reply, const GError *qmp_error,
                           gboolean *ret_wait, GError **error)
{
        json_object *status = NULL;
        const char *value;

        *ret_wait = FALSE;
        if (g_error_matches(qmp_error, VT_QMP_ERROR, VT_QMP_ERROR_COMMAND_NOT_FOUND))
                return TRUE;
        if (qmp_error != NULL) {
                g_propagate_error(error, g_error_copy(qmp_error));
                return FALSE;
        }
        if (!json_object_is_type(reply, json_type_object) ||
            !json_object_object_get_ex(reply, "status", &status) ||
            !json_object_is_type(status, json_type_string)) {
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                            "QMP 'query-status' replied without a status");
                return FALSE;
        }
        value = json_object_get_string(status);
        if (g_str_equal(value, "postmigrate")) {
                g_set_error(error, VT_GUEST_QMP_ERROR, VT_GUEST_QMP_ERROR_SPENT_SOURCE,
                            "its QEMU is a spent migration source (postmigrate)");
                return FALSE;
        }
        if (g_str_equal(value, "inmigrate")) {
                g_debug("guest '%s': its QEMU waits for an incoming migration: taken on once it "
                        "runs",
                        guest_name(self));
                *ret_wait = TRUE;
        }
        return TRUE;
}

/* vt_guest_qmp_status_wait: holds the start @task (transfer full) until RESUME. */
void
vt_guest_qmp_status_wait(VtGuestQmp *self, GTask *task, VtGuestQmpResume resume)
{
        g_assert(self->resume_wait == NULL);
        self->resume_wait = task;
        self->resume = resume;
        /* A RESUME that came in before the reply's callback ran. */
        if (self->resumed)
                status_end_wait(self, NULL);
}

static gboolean
status_on_stopped(gpointer user_data)
{
        GTask *task = user_data;

        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                "stopped while its QEMU waited for an incoming migration");
        return G_SOURCE_REMOVE;
}

/* vt_guest_qmp_status_stop: lets go of the client's signals; a waiting
 * start fails, from an idle (not from within the caller's stop). */
void
vt_guest_qmp_status_stop(VtGuestQmp *self)
{
        GTask *task = g_steal_pointer(&self->resume_wait);
        g_autoptr(GSource) source = NULL;

        if (self->client != NULL) {
                g_clear_signal_handler(&self->resume_id, self->client);
                g_clear_signal_handler(&self->status_disconnected_id, self->client);
        }
        if (task == NULL)
                return;
        source = g_idle_source_new();
        g_source_set_callback(source, status_on_stopped, task, g_object_unref);
        g_source_attach(source, self->context);
}
