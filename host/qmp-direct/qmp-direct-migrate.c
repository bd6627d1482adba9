/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP-direct guest's live migration: QEMU's own, driven over QMP.
 *
 * Theory of operation. A start finds the URI, then sends three commands
 * and completes when `migrate` is accepted (the move then runs):
 *
 *   (URI)                        the request's transport_uri; else the
 *                                destination command's output
 *                                (qmp-direct-destination.c), run with
 *                                the guest's name and the request's peer
 *   migrate-set-capabilities     events on (MIGRATION, MIGRATION_PASS);
 *                                auto-converge as the request says
 *   migrate-set-parameters       max-bandwidth (bytes/s) and
 *                                downtime-limit (ms, rounded up); a 0 in
 *                                the request sets QEMU 7.2's default
 *                                (128 MiB/s, 300 ms), so nothing a
 *                                previous move set lingers
 *   migrate                      the URI
 *
 * A query is `query-migrate` (qmp-direct-progress.c maps it). A change of
 * downtime is `migrate-set-parameters`, a cancel `migrate_cancel`.
 *
 * Running exactly once. After `completed` the guest runs on the
 * destination and the source QEMU is a spent copy, paused in
 * `postmigrate`: resuming it would run the guest twice. So once a
 * MIGRATION event or a query reads `completed`, the guest reads
 * `query-migrate` one last time (again every 10 ms while QEMU 7.2 still
 * reports a total-time of 0: it sets the status before the figures; a
 * query that reads such a reply reports STOPPED), keeps that progress, and (unless
 * vt_guest_qmp_set_quit_after_migration() turned it off) sends `quit` to
 * the source. Its QMP connection then closes and the guest emits "gone",
 * as for any QEMU that ends: the source's vmtided lets go of it. Every
 * later query answers the kept progress without asking QEMU (the
 * executor may read `completed` after "gone"); a dirty rate, a new start,
 * a downtime change or a cancel fails.
 *
 * After a failure or a cancel QEMU keeps the guest running on the source
 * and `query-migrate` keeps answering `failed` or `cancelled` until the
 * next start. A destination killed mid-way reads `failed` (QEMU 7.2's
 * error-desc is empty or the socket's error).
 */
#include "host/qmp-direct/qmp-direct-destination.h"
#include "host/qmp-direct/qmp-direct-guest-private.h"

#define DEFAULT_BANDWIDTH   (G_GUINT64_CONSTANT(128) << 20)
#define DEFAULT_DOWNTIME_MS 300
#define MAX_DOWNTIME_MS     2000000 /* QEMU 7.2's MAX_MIGRATE_DOWNTIME, ms */
#define MAX_QMP_BANDWIDTH   ((guint64)G_MAXINT64)
/* Completed without its figures: asked again this often, this many times. */
#define FINAL_RETRY_MS 10
#define FINAL_RETRIES  100

typedef struct {
        guint64 bandwidth;
        gint64 downtime_limit_us;
        gboolean auto_converge;
        char *uri;
} StartOp;

static void
start_op_free(StartOp *op)
{
        g_free(op->uri);
        g_free(op);
}

static const char *
guest_name(VtGuestQmp *self)
{
        return vt_guest_get_name(VT_GUEST(self));
}

/* Fails at once when the guest cannot take a migration command. */
static gboolean
migrate_return_if_unusable(VtGuestQmp *self, GTask *task)
{
        if (self->migrate_done) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                        "guest '%s' migrated away: its source QEMU is spent",
                                        guest_name(self));
                return TRUE;
        }
        if (self->stopped || self->client == NULL || !vt_qmp_client_is_connected(self->client)) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                        "guest '%s' is not connected", guest_name(self));
                return TRUE;
        }
        return FALSE;
}

static gint64
downtime_ms(gint64 downtime_us)
{
        gint64 ms = downtime_us <= 0 ? 0 : (downtime_us + 999) / 1000;

        return MIN(ms, MAX_DOWNTIME_MS);
}

static void
migrate_on_quit(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtGuestQmp) self = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        /* QEMU may close the socket before its reply: that is a quit too. */
        if (reply == NULL && !g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED))
                g_warning("guest '%s': 'quit' to the spent source QEMU failed: %s",
                          guest_name(self), error->message);
}

/* The move completed: keep @progress and let the spent source go. */
static void
migrate_complete(VtGuestQmp *self, const VtMigrateProgress *progress)
{
        if (self->migrate_done)
                return;
        self->migrate_done = TRUE;
        self->final = *progress;
        g_info("guest '%s' migrated in %.2f s, %.0f ms down; its source QEMU %s", guest_name(self),
               (double)progress->elapsed_us / G_USEC_PER_SEC, (double)progress->downtime_us / 1000,
               self->quit_after_migration ? "is told to quit" : "stays paused");
        if (!self->quit_after_migration || self->quit_sent || self->stopped || self->client == NULL)
                return;
        self->quit_sent = TRUE;
        vt_qmp_client_execute_async(self->client, "quit", NULL, 0, migrate_on_quit,
                                    g_object_ref(self));
}

/* QEMU 7.2 sets `completed` before total-time and downtime: a query in
 * between reads them as 0. A real move never takes 0 ms. */
static gboolean
progress_settled(const VtMigrateProgress *progress)
{
        return progress->status != VT_MIGRATE_STATUS_COMPLETED || progress->elapsed_us > 0;
}

static void migrate_query_final(VtGuestQmp *self);

static gboolean
migrate_on_final_retry(gpointer user_data)
{
        VtGuestQmp *self = user_data;

        self->final_query_pending = FALSE;
        migrate_query_final(self);
        return G_SOURCE_REMOVE;
}

static void
migrate_on_final_query(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(VtGuestQmp) self = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        VtMigrateProgress progress;

        if (reply == NULL || !vt_guest_qmp_parse_migrate(reply, &progress, &error)) {
                self->final_query_pending = FALSE;
                g_debug("guest '%s': query-migrate after completion failed: %s", guest_name(self),
                        error->message);
                return;
        }
        if (progress.status != VT_MIGRATE_STATUS_COMPLETED) {
                self->final_query_pending = FALSE;
                return;
        }
        if (!progress_settled(&progress) && ++self->final_retries < FINAL_RETRIES) {
                g_autoptr(GSource) timer = g_timeout_source_new(FINAL_RETRY_MS);

                g_source_set_callback(timer, migrate_on_final_retry, g_object_ref(self),
                                      g_object_unref);
                g_source_attach(timer, self->context);
                return;
        }
        self->final_query_pending = FALSE;
        migrate_complete(self, &progress);
}

/* Reads the completed move's figures once more, then completes it. */
static void
migrate_query_final(VtGuestQmp *self)
{
        if (self->migrate_done || self->final_query_pending || self->stopped ||
            self->client == NULL)
                return;
        self->final_query_pending = TRUE;
        vt_qmp_client_execute_async(self->client, "query-migrate", NULL, 0, migrate_on_final_query,
                                    g_object_ref(self));
}

static void
migrate_on_event(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                 gpointer user_data)
{
        VtGuestQmp *self = user_data;
        json_object *status = NULL;

        if (!json_object_object_get_ex(data, "status", &status) ||
            !json_object_is_type(status, json_type_string))
                return;
        g_debug("guest '%s': MIGRATION '%s'", guest_name(self), json_object_get_string(status));
        if (g_strcmp0(json_object_get_string(status), "completed") == 0)
                migrate_query_final(self);
}

void
vt_guest_qmp_migrate_connected(VtGuestQmp *self)
{
        self->migration_event_id =
            g_signal_connect(self->client, "event::MIGRATION", G_CALLBACK(migrate_on_event), self);
}

void
vt_guest_qmp_migrate_stop(VtGuestQmp *self)
{
        g_cancellable_cancel(self->cancellable);
        if (self->client != NULL)
                g_clear_signal_handler(&self->migration_event_id, self->client);
}

/* A command whose reply is only a success or an error: @task (transfer
 * full) returns that. */
static void
migrate_on_simple_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        if (reply == NULL) {
                g_task_return_error(task, error);
                return;
        }
        g_task_return_boolean(task, TRUE);
}

static gboolean
migrate_boolean_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        (void)guest;
        return g_task_propagate_boolean(G_TASK(result), error);
}

/* --- start --- */

static void
start_on_migrate(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        StartOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        if (reply == NULL) {
                g_prefix_error(&error, "guest '%s': migrate to '%s': ", guest_name(self), op->uri);
                g_task_return_error(task, error);
                return;
        }
        g_info("guest '%s' migrating to '%s' at %" G_GUINT64_FORMAT " bytes/s, %" G_GINT64_FORMAT
               " ms downtime limit%s",
               guest_name(self), op->uri, op->bandwidth, downtime_ms(op->downtime_limit_us),
               op->auto_converge ? ", auto-converge" : "");
        g_task_return_boolean(task, TRUE);
}

static void
start_on_parameters(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        StartOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        g_autoptr(json_object) args = NULL;

        if (reply == NULL) {
                g_task_return_error(task, error);
                g_object_unref(task);
                return;
        }
        args = json_object_new_object();
        json_object_object_add(args, "uri", json_object_new_string(op->uri));
        self->migrate_done = FALSE;
        self->quit_sent = FALSE;
        self->final_retries = 0;
        vt_qmp_client_execute_async(self->client, "migrate", args, 0, start_on_migrate, task);
}

static json_object *
capability_new(const char *name, gboolean state)
{
        json_object *cap = json_object_new_object();

        json_object_object_add(cap, "capability", json_object_new_string(name));
        json_object_object_add(cap, "state", json_object_new_boolean(state));
        return cap;
}

static void
start_on_capabilities(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        StartOp *op = g_task_get_task_data(task);
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        g_autoptr(json_object) args = NULL;

        if (reply == NULL) {
                g_task_return_error(task, error);
                g_object_unref(task);
                return;
        }
        args = json_object_new_object();
        json_object_object_add(
            args, "max-bandwidth",
            json_object_new_int64((gint64)MIN(op->bandwidth, MAX_QMP_BANDWIDTH)));
        json_object_object_add(args, "downtime-limit",
                               json_object_new_int64(downtime_ms(op->downtime_limit_us)));
        vt_qmp_client_execute_async(self->client, "migrate-set-parameters", args, 0,
                                    start_on_parameters, task);
}

/* The URI is known: set the move up. @task: transfer full. */
static void
start_send(GTask *task)
{
        VtGuestQmp *self = g_task_get_source_object(task);
        StartOp *op = g_task_get_task_data(task);
        g_autoptr(json_object) args = NULL;
        json_object *caps;

        if (migrate_return_if_unusable(self, task)) {
                g_object_unref(task);
                return;
        }
        caps = json_object_new_array();
        json_object_array_add(caps, capability_new("events", TRUE));
        json_object_array_add(caps, capability_new("auto-converge", op->auto_converge));
        args = json_object_new_object();
        json_object_object_add(args, "capabilities", caps);
        vt_qmp_client_execute_async(self->client, "migrate-set-capabilities", args, 0,
                                    start_on_capabilities, task);
}

static void
start_on_destination(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GTask *task = user_data;
        StartOp *op = g_task_get_task_data(task);
        GError *error = NULL;

        op->uri = vt_qmp_destination_run_finish(result, &error);
        if (op->uri == NULL) {
                g_task_return_error(task, error);
                g_object_unref(task);
                return;
        }
        start_send(task);
}

static void
guest_qmp_migrate_start_async(VtGuest *guest, const VtMigrateRequest *request,
                              GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);
        StartOp *op = g_new0(StartOp, 1);

        g_task_set_source_tag(task, guest_qmp_migrate_start_async);
        g_task_set_task_data(task, op, (GDestroyNotify)start_op_free);
        op->bandwidth = request->bandwidth != 0 ? request->bandwidth : DEFAULT_BANDWIDTH;
        op->downtime_limit_us = request->downtime_limit_us > 0 ? request->downtime_limit_us
                                                               : DEFAULT_DOWNTIME_MS * (gint64)1000;
        op->auto_converge = request->auto_converge;
        if (migrate_return_if_unusable(self, task)) {
                g_object_unref(task);
                return;
        }
        if (request->transport_uri != NULL && *request->transport_uri != '\0') {
                op->uri = g_strdup(request->transport_uri);
                start_send(task);
                return;
        }
        if (self->destination_argv == NULL || request->peer == NULL || *request->peer == '\0') {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                        "guest '%s': no transport URI, and %s", guest_name(self),
                                        self->destination_argv == NULL
                                            ? "no destination command configured ([migrate] "
                                              "qmp-destination-command)"
                                            : "no peer to give the destination command");
                g_object_unref(task);
                return;
        }
        vt_qmp_destination_run_async((const char *const *)self->destination_argv, guest_name(self),
                                     request->peer, self->destination_timeout_us, self->cancellable,
                                     start_on_destination, task);
}

/* --- query --- */

static void
query_on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        GError *error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        VtMigrateProgress progress;

        /* A reply after the completion's own query kept it: the same move. */
        if (self->migrate_done) {
                g_clear_error(&error);
                g_task_return_pointer(task, g_memdup2(&self->final, sizeof(self->final)), g_free);
                return;
        }
        if (reply == NULL || !vt_guest_qmp_parse_migrate(reply, &progress, &error)) {
                g_task_return_error(task, error);
                return;
        }
        if (progress.status == VT_MIGRATE_STATUS_COMPLETED && progress_settled(&progress)) {
                migrate_complete(self, &progress);
        } else if (progress.status == VT_MIGRATE_STATUS_COMPLETED) {
                /* Still switching over as far as its figures go. */
                progress.status = VT_MIGRATE_STATUS_STOPPED;
                migrate_query_final(self);
        }
        g_task_return_pointer(task, g_memdup2(&progress, sizeof(progress)), g_free);
}

static void
guest_qmp_migrate_query_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);

        g_task_set_source_tag(task, guest_qmp_migrate_query_async);
        if (self->migrate_done) {
                g_task_return_pointer(task, g_memdup2(&self->final, sizeof(self->final)), g_free);
                g_object_unref(task);
                return;
        }
        if (migrate_return_if_unusable(self, task)) {
                g_object_unref(task);
                return;
        }
        vt_qmp_client_execute_async(self->client, "query-migrate", NULL, 0, query_on_reply, task);
}

static gboolean
guest_qmp_migrate_query_finish(VtGuest *guest, GAsyncResult *result,
                               VtMigrateProgress *ret_progress, GError **error)
{
        g_autofree VtMigrateProgress *progress = g_task_propagate_pointer(G_TASK(result), error);

        (void)guest;
        if (progress == NULL)
                return FALSE;
        if (ret_progress != NULL)
                *ret_progress = *progress;
        return TRUE;
}

/* --- downtime, cancel --- */

static void
guest_qmp_migrate_set_downtime_async(VtGuest *guest, gint64 downtime_limit_us,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);
        g_autoptr(json_object) args = NULL;

        g_task_set_source_tag(task, guest_qmp_migrate_set_downtime_async);
        if (migrate_return_if_unusable(self, task)) {
                g_object_unref(task);
                return;
        }
        args = json_object_new_object();
        json_object_object_add(args, "downtime-limit",
                               json_object_new_int64(downtime_ms(downtime_limit_us)));
        vt_qmp_client_execute_async(self->client, "migrate-set-parameters", args, 0,
                                    migrate_on_simple_reply, task);
}

static void
guest_qmp_migrate_cancel_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);

        g_task_set_source_tag(task, guest_qmp_migrate_cancel_async);
        if (migrate_return_if_unusable(self, task)) {
                g_object_unref(task);
                return;
        }
        vt_qmp_client_execute_async(self->client, "migrate_cancel", NULL, 0,
                                    migrate_on_simple_reply, task);
}

void
vt_guest_qmp_migrate_class_init(VtGuestClass *klass)
{
        klass->migrate_start_async = guest_qmp_migrate_start_async;
        klass->migrate_start_finish = migrate_boolean_finish;
        klass->migrate_query_async = guest_qmp_migrate_query_async;
        klass->migrate_query_finish = guest_qmp_migrate_query_finish;
        klass->migrate_set_downtime_async = guest_qmp_migrate_set_downtime_async;
        klass->migrate_set_downtime_finish = migrate_boolean_finish;
        klass->migrate_cancel_async = guest_qmp_migrate_cancel_async;
        klass->migrate_cancel_finish = migrate_boolean_finish;
}

/* --- settings --- */

/**
 * vt_guest_qmp_set_destination_command:
 * @guest: a guest
 * @command: (nullable): the destination command line (shell quoting; the
 *     guest's name and the peer are appended when it runs); %NULL or
 *     empty: none (a migration then needs a transport URI)
 * @error: %G_SHELL_ERROR when @command does not parse
 *
 * Sets the command that starts the QEMU a migration goes to (see
 * host/qmp-direct/qmp-direct-destination.c for its contract).
 *
 * Returns: %TRUE if set; on error the previous command stays
 */
gboolean
vt_guest_qmp_set_destination_command(VtGuestQmp *guest, const char *command, GError **error)
{
        char **argv = NULL;

        g_return_val_if_fail(VT_IS_GUEST_QMP(guest), FALSE);
        if (command != NULL && *command != '\0' && !g_shell_parse_argv(command, NULL, &argv, error))
                return FALSE;
        g_strfreev(guest->destination_argv);
        guest->destination_argv = argv;
        return TRUE;
}

/**
 * vt_guest_qmp_set_destination_timeout:
 * @guest: a guest
 * @timeout_us: how long the destination command may run, > 0 (default
 *     %VT_GUEST_QMP_DESTINATION_TIMEOUT_US)
 */
void
vt_guest_qmp_set_destination_timeout(VtGuestQmp *guest, gint64 timeout_us)
{
        g_return_if_fail(VT_IS_GUEST_QMP(guest));
        g_return_if_fail(timeout_us > 0);
        guest->destination_timeout_us = timeout_us;
}

/**
 * vt_guest_qmp_set_quit_after_migration:
 * @guest: a guest
 * @quit: %TRUE (the default): send `quit` to the source QEMU once a
 *     migration completed, so the guest runs exactly once; %FALSE: leave
 *     it paused in `postmigrate` for someone else to end
 */
void
vt_guest_qmp_set_quit_after_migration(VtGuestQmp *guest, gboolean quit)
{
        g_return_if_fail(VT_IS_GUEST_QMP(guest));
        guest->quit_after_migration = quit;
}
