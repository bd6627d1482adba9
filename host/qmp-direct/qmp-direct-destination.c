/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP-direct destination command. vmtided owns no QEMU process, so the
 * QEMU that receives a migration is started by a command the operator
 * configures (`[migrate] qmp-destination-command`; an example is
 * scripts/vmtide-qmp-destination):
 *
 *   COMMAND [ARGS...] GUEST-NAME PEER
 *
 * starts a QEMU with the guest's command line plus `-incoming URI` (on
 * PEER, itself or through ssh), prints URI on its first stdout line and
 * exits 0, e.g. `unix:/run/vmtide-peer/g1.migrate`.
 *
 * Theory of operation: the command runs as a GSubprocess, stdin
 * /dev/null, stderr inherited (the daemon's journal). Its stdout is read
 * up to the first newline, at most VT_GUEST_QMP_DESTINATION_MAX_OUTPUT
 * bytes (what follows is never read: a QEMU that kept the pipe cannot
 * hold us), then the command's exit is awaited. One timer bounds the
 * whole: past it the command is killed and the run fails with
 * G_IO_ERROR_TIMED_OUT. A URI must be `unix:`, `tcp:` or `rdma:` followed
 * by printable characters without spaces.
 */
#include "host/qmp-direct/qmp-direct-destination.h"

#include <string.h>

#include "host/qmp-direct/qmp-direct-guest.h"

#define URI_MAX 1024

typedef struct {
        GSubprocess *process;
        GInputStream *out; /* borrowed from process */
        GCancellable *cancellable;
        GCancellable *caller; /* the caller's, connected to ours */
        gulong caller_id;
        GSource *timer;
        gboolean timed_out;
        gint64 timeout_us;
        char *argv0;
        char buf[VT_GUEST_QMP_DESTINATION_MAX_OUTPUT + 1];
        gsize len;
} RunOp;

static void
run_op_free(RunOp *op)
{
        if (op->timer != NULL) {
                g_source_destroy(op->timer);
                g_source_unref(op->timer);
        }
        if (op->caller != NULL) {
                g_cancellable_disconnect(op->caller, op->caller_id);
                g_object_unref(op->caller);
        }
        if (op->process != NULL && g_subprocess_get_identifier(op->process) != NULL)
                g_subprocess_force_exit(op->process);
        g_clear_object(&op->process);
        g_clear_object(&op->cancellable);
        g_free(op->argv0);
        g_free(op);
}

/**
 * vt_qmp_destination_uri_is_valid:
 * @uri: what a destination command printed, stripped
 *
 * Returns: %TRUE if @uri is a migration URI vmtide passes to `migrate`
 */
gboolean
vt_qmp_destination_uri_is_valid(const char *uri)
{
        static const char *const schemes[] = {"unix:", "tcp:", "rdma:"};
        gboolean known = FALSE;
        gsize len = strlen(uri);

        for (gsize i = 0; i < G_N_ELEMENTS(schemes); i++)
                known |= g_str_has_prefix(uri, schemes[i]) && len > strlen(schemes[i]);
        if (!known || len > URI_MAX)
                return FALSE;
        for (const char *p = uri; *p != '\0'; p++) {
                if (!g_ascii_isgraph(*p))
                        return FALSE;
        }
        return TRUE;
}

/* Fails @task (transfer full), killing the command. */
static void
run_fail(GTask *task, GError *error)
{
        RunOp *op = g_task_get_task_data(task);

        if (op->timed_out) {
                g_clear_error(&error);
                error = g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "destination command '%s' did not print a URI and exit "
                                    "within %.0f s",
                                    op->argv0, (double)op->timeout_us / G_USEC_PER_SEC);
        }
        g_task_return_error(task, error);
        g_object_unref(task);
}

static void
run_on_exit(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        RunOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        char *uri;

        if (!g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error)) {
                run_fail(task, error);
                return;
        }
        if (!g_subprocess_get_successful(op->process)) {
                run_fail(task, g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED,
                                           "destination command '%s' failed (wait status %d)",
                                           op->argv0, g_subprocess_get_status(op->process)));
                return;
        }
        op->buf[op->len] = '\0';
        *strchrnul(op->buf, '\n') = '\0';
        uri = g_strstrip(g_strdup(op->buf));
        if (!vt_qmp_destination_uri_is_valid(uri)) {
                run_fail(task, g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                           "destination command '%s' printed '%.80s', not a "
                                           "migration URI (unix:, tcp: or rdma:)",
                                           op->argv0, uri));
                g_free(uri);
                return;
        }
        g_task_return_pointer(task, uri, g_free);
        g_object_unref(task);
}

static void
run_on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        RunOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);

        if (n < 0) {
                run_fail(task, error);
                return;
        }
        op->len += (gsize)n;
        if (n > 0 && memchr(op->buf, '\n', op->len) == NULL &&
            op->len < VT_GUEST_QMP_DESTINATION_MAX_OUTPUT) {
                g_input_stream_read_async(op->out, op->buf + op->len,
                                          VT_GUEST_QMP_DESTINATION_MAX_OUTPUT - op->len,
                                          G_PRIORITY_DEFAULT, op->cancellable, run_on_read, task);
                return;
        }
        /* A line, end of output, or the bound: the rest is not read. */
        g_subprocess_wait_async(op->process, op->cancellable, run_on_exit, task);
}

static gboolean
run_on_timeout(gpointer user_data)
{
        RunOp *op = user_data;

        op->timed_out = TRUE;
        g_cancellable_cancel(op->cancellable);
        g_subprocess_force_exit(op->process);
        return G_SOURCE_REMOVE;
}

static void
run_on_caller_cancelled(GCancellable *caller, gpointer user_data)
{
        g_cancellable_cancel(user_data);
}

/**
 * vt_qmp_destination_run_async:
 * @command: the command and its first arguments (borrowed)
 * @name: the guest's name, appended
 * @peer: where to, appended
 * @timeout_us: how long it may take to print the URI and exit, > 0
 * @cancellable: (nullable): cancels the run and kills the command
 * @callback: called with the URI, or on failure
 * @user_data: for @callback
 *
 * Runs the destination command on the thread-default main context.
 */
void
vt_qmp_destination_run_async(const char *const *command, const char *name, const char *peer,
                             gint64 timeout_us, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        g_auto(GStrv) argv = NULL;
        GTask *task = g_task_new(NULL, cancellable, callback, user_data);
        RunOp *op = g_new0(RunOp, 1);
        GError *error = NULL;

        g_return_if_fail(command != NULL && command[0] != NULL);
        g_task_set_source_tag(task, vt_qmp_destination_run_async);
        g_task_set_task_data(task, op, (GDestroyNotify)run_op_free);
        op->argv0 = g_strdup(command[0]);
        op->timeout_us = timeout_us;
        op->cancellable = g_cancellable_new();
        if (cancellable != NULL) {
                op->caller = g_object_ref(cancellable);
                op->caller_id = g_cancellable_connect(
                    cancellable, G_CALLBACK(run_on_caller_cancelled), op->cancellable, NULL);
        }
        g_strv_builder_addv(builder, (const char **)command);
        g_strv_builder_add(builder, name);
        g_strv_builder_add(builder, peer);
        argv = g_strv_builder_end(builder);
        op->process =
            g_subprocess_newv((const char *const *)argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
        if (op->process == NULL) {
                g_prefix_error(&error, "destination command: ");
                run_fail(task, error);
                return;
        }
        op->out = g_subprocess_get_stdout_pipe(op->process);
        op->timer = g_timeout_source_new((guint)MIN((timeout_us + 999) / 1000, G_MAXUINT));
        g_source_set_callback(op->timer, run_on_timeout, op, NULL);
        g_source_attach(op->timer, g_task_get_context(task));
        g_input_stream_read_async(op->out, op->buf, VT_GUEST_QMP_DESTINATION_MAX_OUTPUT,
                                  G_PRIORITY_DEFAULT, op->cancellable, run_on_read, task);
}

/**
 * vt_qmp_destination_run_finish:
 * @result: the result passed to the callback
 * @error: G_IO_ERROR_TIMED_OUT, G_IO_ERROR_FAILED (the command failed),
 *     G_IO_ERROR_INVALID_DATA (it printed no URI), G_IO_ERROR_CANCELLED,
 *     or the spawn's error
 *
 * Returns: (transfer full): the migration URI, or %NULL
 */
char *
vt_qmp_destination_run_finish(GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}
