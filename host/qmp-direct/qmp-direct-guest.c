/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest driven straight through its QEMU's QMP socket (no libvirt).
 *
 * Theory of operation: start connects and runs a short chain of commands,
 * one at a time, each with its own timeout (VT_GUEST_QMP_TIMEOUT_US):
 *
 *   query-status                the run state: a spent migration source
 *                               is not taken on, an incoming one is once
 *                               it runs (qmp-direct-status.c)
 *   query-memory-size-summary   base-memory: the boot memory (max)
 *   query-balloon               actual; DeviceNotActive: no balloon device
 *   qom-list /machine/peripheral, then /machine/peripheral-anon
 *                               the balloon device's QOM path (a child
 *                               whose type names virtio-balloon)
 *   qom-set PATH guest-stats-polling-interval N
 *                               makes the guest's driver send statistics
 *   query-memory-devices        the virtio-mem device (qmp-direct-memdev.c)
 *
 * A refresh is `query-balloon`, `qom-get PATH guest-stats` (and the
 * path search, for a balloon that appeared since) and
 * `query-memory-devices`. What QEMU answers is
 * checked for shape; a reply of the wrong shape fails the operation with
 * %VT_QMP_ERROR_PROTOCOL and never aborts.
 *
 * The pid is the socket peer's (`SO_PEERCRED`): QEMU, which calls
 * listen() on its QMP socket, also on one a launcher handed it.
 *
 * Moves: `balloon` returns at once; QEMU then sends BALLOON_CHANGE, but at
 * most one a second (docs/benchmarks.md). While a move is under way the
 * base class polls (host/guest/guest-balloon.c), and a poll here is
 * `query-balloon`, then `query-memory-devices` for a guest with a
 * virtio-mem device (MEMORY_DEVICE_SIZE_CHANGE too comes at most once a
 * second).
 * Events and polls both feed vt_guest_update_balloon().
 *
 * Migration and the dirty rate are in qmp-direct-migrate.c and
 * qmp-direct-dirty.c.
 *
 * A QEMU that goes away fails whatever is in flight with
 * %VT_QMP_ERROR_DISCONNECTED and the client's "disconnected" makes the
 * guest "gone".
 */
#include "host/qmp-direct/qmp-direct-guest.h"

#include <string.h>

#include "host/qmp-direct/qmp-direct-guest-private.h"
#include "vt-autocleanups.h"

#define QOM_PERIPHERAL      "/machine/peripheral"
#define QOM_PERIPHERAL_ANON "/machine/peripheral-anon"
#define QOM_NAME_MAX        256

G_DEFINE_FINAL_TYPE(VtGuestQmp, vt_guest_qmp, VT_TYPE_GUEST)

/* The steps of a start or a refresh, in order; op_advance() skips those
 * that do not apply. */
typedef enum {
        STEP_BEGIN,
        STEP_STATUS,
        STEP_MEMORY,
        STEP_BALLOON,
        STEP_LIST_PERIPHERAL,
        STEP_LIST_ANON,
        STEP_SET_INTERVAL,
        STEP_STATS,
        STEP_MEMDEV,
        STEP_DONE,
} Step;

typedef struct {
        gboolean refresh;
        Step step;
} Op;

static void op_advance(GTask *task);

static const char *
guest_name(VtGuestQmp *self)
{
        return vt_guest_get_name(VT_GUEST(self));
}

static GError *
protocol_error(const char *command, const char *what)
{
        return g_error_new(VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL, "QMP '%s' replied %s", command,
                           what);
}

/* Reads member @name of @object as a non-negative integer. */
gboolean
vt_guest_qmp_json_get_size(json_object *object, const char *name, guint64 *ret_value)
{
        json_object *member = NULL;

        if (!json_object_is_type(object, json_type_object) ||
            !json_object_object_get_ex(object, name, &member) ||
            !json_object_is_type(member, json_type_int) || json_object_get_int64(member) < 0)
                return FALSE;
        *ret_value = json_object_get_uint64(member);
        return TRUE;
}

/* A `guest-stats` value: -1 (or its unsigned spelling) means unsupported. */
static gboolean
stats_get(json_object *stats, const char *name, guint64 *ret_value)
{
        json_object *member = NULL;

        *ret_value = 0;
        if (!json_object_object_get_ex(stats, name, &member))
                return TRUE;
        if (!json_object_is_type(member, json_type_int))
                return FALSE;
        if (json_object_get_int64(member) >= 0 && json_object_get_uint64(member) != G_MAXUINT64)
                *ret_value = json_object_get_uint64(member);
        return TRUE;
}

static gboolean
parse_guest_stats(json_object *reply, gint64 now_us, gint64 real_now_us, VtGuestStats *ret_stats,
                  GError **error)
{
        static const struct {
                const char *name;
                gsize offset;
        } fields[] = {
            {"stat-total-memory", G_STRUCT_OFFSET(VtGuestStats, total)},
            {"stat-free-memory", G_STRUCT_OFFSET(VtGuestStats, free)},
            {"stat-available-memory", G_STRUCT_OFFSET(VtGuestStats, available)},
            {"stat-disk-caches", G_STRUCT_OFFSET(VtGuestStats, disk_caches)},
            {"stat-major-faults", G_STRUCT_OFFSET(VtGuestStats, major_faults)},
            {"stat-swap-in", G_STRUCT_OFFSET(VtGuestStats, swap_in)},
            {"stat-swap-out", G_STRUCT_OFFSET(VtGuestStats, swap_out)},
        };
        json_object *stats = NULL;
        guint64 last_update = 0;
        VtGuestStats s = {0};

        if (!json_object_is_type(reply, json_type_object) ||
            !json_object_object_get_ex(reply, "stats", &stats) ||
            !json_object_is_type(stats, json_type_object) ||
            !vt_guest_qmp_json_get_size(reply, "last-update", &last_update)) {
                g_propagate_error(
                    error, protocol_error("qom-get guest-stats", "without stats or last-update"));
                return FALSE;
        }
        for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
                if (!stats_get(stats, fields[i].name, G_STRUCT_MEMBER_P(&s, fields[i].offset))) {
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "QMP 'qom-get guest-stats' replied a '%s' that is not a "
                                    "number",
                                    fields[i].name);
                        return FALSE;
                }
        }
        /* last-update is QEMU's wall clock in seconds; 0: no stats yet. */
        if (last_update != 0)
                s.updated_us = vt_guest_stats_sent_us(last_update, now_us, real_now_us);
        s.sent_s = last_update;
        *ret_stats = s;
        return TRUE;
}

static gboolean
name_is_graph(const char *name)
{
        for (const char *p = name; *p != '\0'; p++) {
                if (!g_ascii_isgraph(*p))
                        return FALSE;
        }
        return TRUE;
}

/* Finds a virtio-balloon child in a `qom-list` reply; FALSE if malformed. */
static gboolean
find_balloon(json_object *reply, const char *prefix, char **ret_path)
{
        gsize n;

        *ret_path = NULL;
        if (!json_object_is_type(reply, json_type_array))
                return FALSE;
        n = json_object_array_length(reply);
        for (gsize i = 0; i < n; i++) {
                json_object *entry = json_object_array_get_idx(reply, i);
                json_object *name = NULL, *type = NULL;
                const char *name_str, *type_str;

                if (!json_object_object_get_ex(entry, "name", &name) ||
                    !json_object_object_get_ex(entry, "type", &type) ||
                    !json_object_is_type(name, json_type_string) ||
                    !json_object_is_type(type, json_type_string))
                        return FALSE;
                name_str = json_object_get_string(name);
                type_str = json_object_get_string(type);
                if (!g_str_has_prefix(type_str, "child<") ||
                    strstr(type_str, "virtio-balloon") == NULL)
                        continue;
                /* A name to build a path from: bounded, no '/', printable. */
                if (*name_str == '\0' || strlen(name_str) > QOM_NAME_MAX ||
                    strchr(name_str, '/') != NULL)
                        continue;
                if (!name_is_graph(name_str))
                        continue;
                *ret_path = g_strconcat(prefix, "/", name_str, NULL);
                return TRUE;
        }
        return TRUE;
}

static void
guest_set_balloon_path(VtGuestQmp *self, char *path)
{
        g_free(self->balloon_path);
        self->balloon_path = path;
        self->interval_tried = FALSE;
        if (path != NULL)
                g_debug("guest '%s': balloon device '%s'", guest_name(self), path);
}

static gboolean
op_step_applies(VtGuestQmp *self, const Op *op)
{
        VtGuest *guest = VT_GUEST(self);

        switch (op->step) {
        case STEP_STATUS:
        case STEP_MEMORY:
                return !op->refresh;
        case STEP_BALLOON:
                return TRUE;
        case STEP_LIST_PERIPHERAL:
                return vt_guest_has_balloon(guest) && self->balloon_path == NULL &&
                       !self->balloon_searched;
        case STEP_LIST_ANON:
                return vt_guest_has_balloon(guest) && self->balloon_path == NULL &&
                       !self->balloon_searched;
        case STEP_SET_INTERVAL:
                return self->balloon_path != NULL && self->stats_interval_s > 0 &&
                       !self->interval_tried;
        case STEP_STATS:
                return op->refresh && self->balloon_path != NULL;
        case STEP_MEMDEV:
                return TRUE;
        case STEP_BEGIN:
        case STEP_DONE:
        default:
                return FALSE;
        }
}

static json_object *
qom_args(const char *path, const char *property)
{
        json_object *args = json_object_new_object();

        json_object_object_add(args, "path", json_object_new_string(path));
        if (property != NULL)
                json_object_object_add(args, "property", json_object_new_string(property));
        return args;
}

static const char *
op_command(VtGuestQmp *self, Step step, json_object **ret_args)
{
        json_object *args = NULL;
        const char *command = NULL;

        switch (step) {
        case STEP_STATUS:
                command = "query-status";
                break;
        case STEP_MEMORY:
                command = "query-memory-size-summary";
                break;
        case STEP_BALLOON:
                command = "query-balloon";
                break;
        case STEP_LIST_PERIPHERAL:
                command = "qom-list";
                args = qom_args(QOM_PERIPHERAL, NULL);
                break;
        case STEP_LIST_ANON:
                command = "qom-list";
                args = qom_args(QOM_PERIPHERAL_ANON, NULL);
                break;
        case STEP_SET_INTERVAL:
                command = "qom-set";
                args = qom_args(self->balloon_path, "guest-stats-polling-interval");
                json_object_object_add(args, "value",
                                       json_object_new_int64(self->stats_interval_s));
                break;
        case STEP_STATS:
                command = "qom-get";
                args = qom_args(self->balloon_path, "guest-stats");
                break;
        case STEP_MEMDEV:
                command = "query-memory-devices";
                break;
        case STEP_BEGIN:
        case STEP_DONE:
        default:
                g_assert_not_reached();
        }
        *ret_args = args;
        return command;
}

/* query-balloon: the balloon's size; a guest without an active balloon
 * device is not a failure. */
static gboolean
op_handle_balloon(VtGuestQmp *self, json_object *reply, const GError *qmp_error, gint64 now_us,
                  GError **error)
{
        VtGuest *guest = VT_GUEST(self);
        guint64 value = 0;

        if (g_error_matches(qmp_error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE)) {
                vt_guest_set_has_balloon(guest, FALSE);
                self->balloon_searched = FALSE;
                return TRUE;
        }
        if (qmp_error != NULL) {
                g_propagate_error(error, g_error_copy(qmp_error));
                return FALSE;
        }
        if (!vt_guest_qmp_json_get_size(reply, "actual", &value)) {
                g_propagate_error(error, protocol_error("query-balloon", "without an actual size"));
                return FALSE;
        }
        vt_guest_update_balloon(guest, value, now_us);
        return TRUE;
}

/* qom-list under @step's container: the balloon device's path, if there;
 * a failed search is only logged (statistics wait for the next one). */
static void
op_handle_search(VtGuestQmp *self, Step step, json_object *reply, const GError *qmp_error)
{
        char *path = NULL;

        if (qmp_error != NULL ||
            !find_balloon(reply, step == STEP_LIST_ANON ? QOM_PERIPHERAL_ANON : QOM_PERIPHERAL,
                          &path))
                g_debug("guest '%s': qom-list failed or malformed: %s", guest_name(self),
                        qmp_error != NULL ? qmp_error->message : "bad reply");
        if (path != NULL)
                guest_set_balloon_path(self, path);
        else if (step == STEP_LIST_ANON)
                /* Stats stay unavailable until the balloon comes back. */
                self->balloon_searched = TRUE;
}

/* qom-get guest-stats: the balloon driver's statistics. */
static gboolean
op_handle_stats(VtGuestQmp *self, json_object *reply, const GError *qmp_error, gint64 now_us,
                GError **error)
{
        VtGuestStats stats;

        if (g_error_matches(qmp_error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_FOUND))
                guest_set_balloon_path(self, NULL); /* unplugged: search again */
        if (qmp_error != NULL) {
                g_propagate_error(error, g_error_copy(qmp_error));
                return FALSE;
        }
        if (!parse_guest_stats(reply, now_us, g_get_real_time(), &stats, error))
                return FALSE;
        vt_guest_update_stats(VT_GUEST(self), &stats);
        return TRUE;
}

/* Handles the reply (or error) of the current step; FALSE fails the op;
 * *@ret_wait: hold it until the QEMU runs. */
static gboolean
op_handle(VtGuestQmp *self, Op *op, json_object *reply, const GError *qmp_error, gboolean *ret_wait,
          GError **error)
{
        gint64 now_us = g_get_monotonic_time();
        guint64 value = 0;

        /* Transport failures end any operation. */
        if (g_error_matches(qmp_error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED) ||
            g_error_matches(qmp_error, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT)) {
                g_propagate_error(error, g_error_copy(qmp_error));
                return FALSE;
        }

        switch (op->step) {
        case STEP_STATUS:
                return vt_guest_qmp_status_handle(self, reply, qmp_error, ret_wait, error);
        case STEP_MEMORY:
                if (qmp_error != NULL) {
                        g_propagate_error(error, g_error_copy(qmp_error));
                        return FALSE;
                }
                if (!vt_guest_qmp_json_get_size(reply, "base-memory", &value) || value == 0) {
                        g_propagate_error(error, protocol_error("query-memory-size-summary",
                                                                "without a base-memory size"));
                        return FALSE;
                }
                vt_guest_set_max_bytes(VT_GUEST(self), value);
                return TRUE;
        case STEP_BALLOON:
                return op_handle_balloon(self, reply, qmp_error, now_us, error);
        case STEP_LIST_PERIPHERAL:
        case STEP_LIST_ANON:
                op_handle_search(self, op->step, reply, qmp_error);
                return TRUE;
        case STEP_SET_INTERVAL:
                self->interval_tried = TRUE;
                if (qmp_error != NULL)
                        g_debug("guest '%s': cannot enable balloon statistics: %s",
                                guest_name(self), qmp_error->message);
                return TRUE;
        case STEP_STATS:
                return op_handle_stats(self, reply, qmp_error, now_us, error);
        case STEP_MEMDEV:
                return vt_guest_qmp_memdev_handle(self, reply, qmp_error, now_us, error);
        case STEP_BEGIN:
        case STEP_DONE:
        default:
                g_assert_not_reached();
                return FALSE;
        }
}

static void
op_on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        Op *op = g_task_get_task_data(task);
        g_autoptr(GError) qmp_error = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &qmp_error);
        gboolean wait = FALSE;

        if (!op_handle(self, op, reply, qmp_error, &wait, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (wait && !self->stopped)
                vt_guest_qmp_status_wait(self, g_steal_pointer(&task), op_advance);
        else
                op_advance(g_steal_pointer(&task));
}

/* Sends the next step that applies, or completes @task (transfer full). */
static void
op_advance(GTask *task)
{
        VtGuestQmp *self = g_task_get_source_object(task);
        Op *op = g_task_get_task_data(task);
        g_autoptr(json_object) args = NULL;
        const char *command;

        do
                op->step++;
        while (op->step < STEP_DONE && !op_step_applies(self, op));
        if (op->step == STEP_DONE) {
                g_task_return_boolean(task, TRUE);
                g_object_unref(task);
                return;
        }
        command = op_command(self, op->step, &args);
        vt_qmp_client_execute_async(self->client, command, args, 0, op_on_reply, task);
}

static void
guest_on_balloon_change(VtQmpClient *client, const char *name, json_object *data,
                        gint64 timestamp_us, gpointer user_data)
{
        VtGuestQmp *self = user_data;
        guint64 actual = 0;

        if (!vt_guest_qmp_json_get_size(data, "actual", &actual)) {
                g_debug("guest '%s': BALLOON_CHANGE without an actual size dropped",
                        guest_name(self));
                return;
        }
        vt_guest_update_balloon(VT_GUEST(self), actual, g_get_monotonic_time());
}

static void
guest_on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        VtGuestQmp *self = user_data;

        /* Stops the base class's polling too. */
        vt_guest_emit_gone(VT_GUEST(self), error);
}

static void
guest_on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        g_autoptr(GError) error = NULL;

        if (!vt_qmp_client_connect_finish(VT_QMP_CLIENT(source), result, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (self->stopped) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                        "stopped while connecting");
                return;
        }
        vt_guest_set_pid(VT_GUEST(self), vt_qmp_client_get_peer_pid(self->client));
        self->event_id = g_signal_connect(self->client, "event::BALLOON_CHANGE",
                                          G_CALLBACK(guest_on_balloon_change), self);
        self->disconnected_id =
            g_signal_connect(self->client, "disconnected", G_CALLBACK(guest_on_disconnected), self);
        vt_guest_qmp_migrate_connected(self);
        vt_guest_qmp_status_connected(self);
        vt_guest_qmp_memdev_connected(self);
        op_advance(g_steal_pointer(&task));
}

static void
guest_qmp_start_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);
        Op *op = g_new0(Op, 1);

        g_task_set_source_tag(task, guest_qmp_start_async);
        g_task_set_task_data(task, op, g_free);
        self->client = vt_qmp_client_new();
        vt_qmp_client_set_timeout(self->client, self->timeout_us);
        vt_qmp_client_connect_async(self->client, self->address, guest_on_connected, task);
}

static gboolean
guest_qmp_start_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

static void
guest_qmp_refresh_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(guest, NULL, callback, user_data);
        Op *op = g_new0(Op, 1);

        g_task_set_source_tag(task, guest_qmp_refresh_async);
        op->refresh = TRUE;
        g_task_set_task_data(task, op, g_free);
        op_advance(task);
}

static gboolean
guest_qmp_refresh_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

static void
guest_on_poll_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        guint64 actual = 0;

        if (error != NULL) {
                /* "disconnected" makes the guest gone on its own. */
                if (g_error_matches(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE) &&
                    !self->stopped)
                        vt_guest_set_has_balloon(VT_GUEST(self), FALSE);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (!vt_guest_qmp_json_get_size(reply, "actual", &actual)) {
                g_task_return_error(task,
                                    protocol_error("query-balloon", "without an actual size"));
                return;
        }
        if (!self->stopped)
                vt_guest_update_balloon(VT_GUEST(self), actual, g_get_monotonic_time());
        /* A move may be plugging: its size is read too. */
        vt_guest_qmp_memdev_poll(self, g_steal_pointer(&task));
}

static void
guest_qmp_poll_balloon_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);

        g_task_set_source_tag(task, guest_qmp_poll_balloon_async);
        vt_qmp_client_execute_async(self->client, "query-balloon", NULL, 0, guest_on_poll_reply,
                                    task);
}

static gboolean
guest_qmp_poll_balloon_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        (void)guest;
        return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * vt_guest_qmp_on_taken:
 * @source: the #VtQmpClient
 * @result: the command's result
 * @user_data: (transfer full): the #GTask to return on
 *
 * For commands whose reply only says QEMU took them (`balloon`, `qom-set`):
 * returns TRUE on the task, or QMP's error.
 */
void
vt_guest_qmp_on_taken(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        if (reply == NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        g_task_return_boolean(task, TRUE);
}

static void
guest_qmp_set_balloon_async(VtGuest *guest, guint64 bytes, GAsyncReadyCallback callback,
                            gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        GTask *task = g_task_new(guest, NULL, callback, user_data);
        g_autoptr(json_object) args = json_object_new_object();

        g_task_set_source_tag(task, guest_qmp_set_balloon_async);
        json_object_object_add(args, "value", json_object_new_uint64(bytes));
        vt_qmp_client_execute_async(self->client, "balloon", args, 0, vt_guest_qmp_on_taken, task);
}

static gboolean
guest_qmp_set_balloon_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

static void
guest_qmp_stop(VtGuest *guest)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);

        if (self->stopped)
                return;
        self->stopped = TRUE;
        vt_guest_qmp_migrate_stop(self);
        vt_guest_qmp_status_stop(self);
        vt_guest_qmp_memdev_stop(self);
        if (self->client == NULL)
                return;
        g_clear_signal_handler(&self->event_id, self->client);
        g_clear_signal_handler(&self->disconnected_id, self->client);
        vt_qmp_client_close(self->client);
}

/**
 * vt_guest_qmp_new:
 * @name: the guest's name
 * @qmp_address: its QMP socket: a path, `unix:PATH` or `tcp:HOST:PORT`
 * @agent_path: (nullable): the host end of its agent channel
 * @stats_interval_s: the balloon statistics polling interval to set in
 *     QEMU, seconds (0: leave it as it is)
 *
 * Returns: (transfer full): a guest bound to the thread-default main
 *     context; call vt_guest_start_async()
 */
VtGuest *
vt_guest_qmp_new(const char *name, const char *qmp_address, const char *agent_path,
                 guint stats_interval_s)
{
        VtGuestQmp *self;

        g_return_val_if_fail(name != NULL, NULL);
        g_return_val_if_fail(qmp_address != NULL, NULL);

        self = g_object_new(VT_TYPE_GUEST_QMP, "name", name, "agent-path", agent_path, NULL);
        self->address = g_strdup(qmp_address);
        self->stats_interval_s = stats_interval_s;
        return VT_GUEST(self);
}

/**
 * vt_guest_qmp_get_address:
 * @guest: a guest
 *
 * Returns: its QMP address
 */
const char *
vt_guest_qmp_get_address(VtGuestQmp *guest)
{
        g_return_val_if_fail(VT_IS_GUEST_QMP(guest), NULL);
        return guest->address;
}

/**
 * vt_guest_qmp_get_balloon_path:
 * @guest: a guest
 *
 * Returns: (nullable): the QOM path of its balloon device, once found
 */
const char *
vt_guest_qmp_get_balloon_path(VtGuestQmp *guest)
{
        g_return_val_if_fail(VT_IS_GUEST_QMP(guest), NULL);
        return guest->balloon_path;
}

/**
 * vt_guest_qmp_set_timeout:
 * @guest: a guest not started yet
 * @timeout_us: the connect and per-command timeout, > 0 (default
 *     %VT_GUEST_QMP_TIMEOUT_US)
 */
void
vt_guest_qmp_set_timeout(VtGuestQmp *guest, gint64 timeout_us)
{
        g_return_if_fail(VT_IS_GUEST_QMP(guest));
        g_return_if_fail(timeout_us > 0);
        guest->timeout_us = timeout_us;
        if (guest->client != NULL)
                vt_qmp_client_set_timeout(guest->client, timeout_us);
}

static void
vt_guest_qmp_dispose(GObject *object)
{
        vt_guest_stop(VT_GUEST(object));
        G_OBJECT_CLASS(vt_guest_qmp_parent_class)->dispose(object);
}

static void
vt_guest_qmp_finalize(GObject *object)
{
        VtGuestQmp *self = VT_GUEST_QMP(object);

        g_clear_object(&self->client);
        g_free(self->balloon_path);
        g_free(self->memdev_notes);
        g_free(self->address);
        g_strfreev(self->destination_argv);
        g_clear_object(&self->cancellable);
        g_main_context_unref(self->context);
        G_OBJECT_CLASS(vt_guest_qmp_parent_class)->finalize(object);
}

static void
vt_guest_qmp_init(VtGuestQmp *self)
{
        self->context = g_main_context_ref_thread_default();
        self->timeout_us = VT_GUEST_QMP_TIMEOUT_US;
        self->destination_timeout_us = VT_GUEST_QMP_DESTINATION_TIMEOUT_US;
        self->quit_after_migration = TRUE;
        self->cancellable = g_cancellable_new();
}

static void
vt_guest_qmp_class_init(VtGuestQmpClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);
        VtGuestClass *guest_class = VT_GUEST_CLASS(klass);

        object_class->dispose = vt_guest_qmp_dispose;
        object_class->finalize = vt_guest_qmp_finalize;

        guest_class->start_async = guest_qmp_start_async;
        guest_class->start_finish = guest_qmp_start_finish;
        guest_class->refresh_async = guest_qmp_refresh_async;
        guest_class->refresh_finish = guest_qmp_refresh_finish;
        guest_class->set_balloon_async = guest_qmp_set_balloon_async;
        guest_class->set_balloon_finish = guest_qmp_set_balloon_finish;
        guest_class->stop = guest_qmp_stop;
        guest_class->poll_balloon_async = guest_qmp_poll_balloon_async;
        guest_class->poll_balloon_finish = guest_qmp_poll_balloon_finish;
        vt_guest_qmp_dirty_class_init(guest_class);
        vt_guest_qmp_migrate_class_init(guest_class);
        vt_guest_qmp_memdev_class_init(guest_class);
}
