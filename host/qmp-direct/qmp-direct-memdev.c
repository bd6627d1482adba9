/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP-direct guest's virtio-mem device.
 *
 * Theory of operation: every start and refresh ends with
 * `query-memory-devices` (qmp-direct-guest.c's chain); its `virtio-mem`
 * entries are checked (an id to reach the device by, a block size that is
 * a power of two no larger than %VT_MEMDEV_BLOCK_MAX, sizes within the
 * maximum and whole blocks) and the first that adds up is driven: it goes
 * to the base class with vt_guest_update_memdev(). Others are named in the
 * log, with the reason for those that do not add up, once for each new
 * set of reasons. A QEMU without the command (or with no device) gives a
 * guest without virtio-mem; a reply that is not a list fails the start or
 * refresh with %VT_QMP_ERROR_PROTOCOL.
 *
 * A request is `qom-set /machine/peripheral/ID requested-size N`; QEMU
 * sends `MEMORY_DEVICE_SIZE_CHANGE` (`id`, `size`; `qom-path` from QEMU
 * 8.2) as the guest plugs or unplugs blocks, and its size goes to the base
 * class. QEMU throttles the event to one a second, so a balloon poll of a
 * move under way reads `query-memory-devices` too
 * (vt_guest_qmp_memdev_poll()).
 */
#include <string.h>

#include "host/qmp-direct/qmp-direct-guest-private.h"
#include "qmp/qmp-error.h"

#define QOM_PERIPHERAL "/machine/peripheral/"

static const char *
guest_name(VtGuestQmp *self)
{
        return vt_guest_get_name(VT_GUEST(self));
}

static gboolean
json_get_string(json_object *object, const char *name, const char **ret_value)
{
        json_object *member = NULL;

        if (!json_object_object_get_ex(object, name, &member) ||
            !json_object_is_type(member, json_type_string))
                return FALSE;
        *ret_value = json_object_get_string(member);
        return TRUE;
}

/* Reads one `virtio-mem` entry's data; NULL when it adds up, else why not. */
static const char *
memdev_read(json_object *data, VtGuestMemdev *ret_memdev)
{
        VtGuestMemdev m = {.present = TRUE};
        const char *id = NULL;
        guint64 block;

        if (!json_object_is_type(data, json_type_object))
                return "no data";
        if (!json_get_string(data, "id", &id) || id[0] == '\0')
                return "no id to reach it by";
        if (strlen(id) >= sizeof(m.id) || strchr(id, '/') != NULL)
                return "an id that is not a device id";
        g_strlcpy(m.id, id, sizeof(m.id));
        if (!vt_guest_qmp_json_get_size(data, "block-size", &m.block_size) ||
            !vt_guest_qmp_json_get_size(data, "size", &m.plugged_bytes) ||
            !vt_guest_qmp_json_get_size(data, "requested-size", &m.requested_bytes) ||
            !vt_guest_qmp_json_get_size(data, "max-size", &m.max_bytes))
                return "sizes missing or not sizes";
        block = m.block_size;
        if (block == 0 || (block & (block - 1)) != 0 || block > VT_MEMDEV_BLOCK_MAX)
                return "a block size that is not a power of two up to 1 TiB";
        if (m.max_bytes < block)
                return "a maximum below one block";
        if (m.plugged_bytes > m.max_bytes || m.requested_bytes > m.max_bytes)
                return "more plugged or requested than its maximum";
        if ((m.plugged_bytes | m.requested_bytes) & (block - 1))
                return "sizes that are not whole blocks";
        *ret_memdev = m;
        return NULL;
}

/**
 * vt_guest_qmp_parse_memdevs() - The virtio-mem device to drive, from `query-memory-devices`.
 * @reply: the command's return value
 * @ret_memdev: (out): the first device that adds up (@present FALSE: none)
 * @ret_notes: (out) (transfer full): the others, named, and why those
 *     that do not add up are ignored ("" when nothing to say)
 * @error: %VT_QMP_ERROR_PROTOCOL when @reply is not a list
 *
 * Entries of other types are skipped. Pure: nothing here trusts QEMU.
 *
 * Return: FALSE on error, outputs untouched
 */
gboolean
vt_guest_qmp_parse_memdevs(json_object *reply, VtGuestMemdev *ret_memdev, char **ret_notes,
                           GError **error)
{
        g_autoptr(GString) notes = g_string_new(NULL);
        VtGuestMemdev found = {0};
        size_t n;

        if (!json_object_is_type(reply, json_type_array)) {
                g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                            "QMP 'query-memory-devices' replied with no list");
                return FALSE;
        }
        n = json_object_array_length(reply);
        for (size_t i = 0; i < n; i++) {
                json_object *entry = json_object_array_get_idx(reply, i);
                json_object *data = NULL;
                const char *type = NULL;
                const char *why;
                VtGuestMemdev m;

                if (!json_object_is_type(entry, json_type_object) ||
                    !json_get_string(entry, "type", &type)) {
                        g_string_append_printf(notes, "; entry %zu without a type ignored", i);
                        continue;
                }
                if (strcmp(type, "virtio-mem") != 0)
                        continue;
                json_object_object_get_ex(entry, "data", &data);
                why = memdev_read(data, &m);
                if (why != NULL)
                        g_string_append_printf(notes, "; virtio-mem entry %zu ignored: %s", i, why);
                else if (found.present)
                        g_string_append_printf(notes, "; virtio-mem '%s' not driven (one is)",
                                               m.id);
                else
                        found = m;
        }
        *ret_memdev = found;
        *ret_notes = g_strdup(notes->len > 2 ? notes->str + 2 : "");
        return TRUE;
}

/**
 * vt_guest_qmp_memdev_handle() - Takes `query-memory-devices`' answer.
 * @self: the guest
 * @reply: the return value (NULL with @qmp_error)
 * @qmp_error: (nullable): QEMU's error: the guest then has no device
 * @now_us: monotonic time of the reply
 * @error: %VT_QMP_ERROR_PROTOCOL for a reply that is not a list
 *
 * Return: FALSE on error
 */
gboolean
vt_guest_qmp_memdev_handle(VtGuestQmp *self, json_object *reply, const GError *qmp_error,
                           gint64 now_us, GError **error)
{
        g_autofree char *notes = NULL;
        VtGuestMemdev memdev = {0};

        if (qmp_error != NULL) {
                if (!self->memdev_unsupported)
                        g_debug("guest '%s': no virtio-mem: %s", guest_name(self),
                                qmp_error->message);
                self->memdev_unsupported = TRUE;
                notes = g_strdup("");
        } else if (!vt_guest_qmp_parse_memdevs(reply, &memdev, &notes, error)) {
                return FALSE;
        }
        if (g_strcmp0(notes, self->memdev_notes) != 0) {
                if (notes[0] != '\0')
                        g_debug("guest '%s': %s", guest_name(self), notes);
                g_free(self->memdev_notes);
                self->memdev_notes = g_steal_pointer(&notes);
        }
        vt_guest_update_memdev(VT_GUEST(self), &memdev, now_us);
        return TRUE;
}

static void
memdev_on_polled(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        VtGuestQmp *self = g_task_get_source_object(task);
        g_autoptr(GError) qmp_error = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &qmp_error);

        if (qmp_error != NULL) {
                g_task_return_error(task, g_steal_pointer(&qmp_error));
                return;
        }
        if (!self->stopped &&
            !vt_guest_qmp_memdev_handle(self, reply, NULL, g_get_monotonic_time(), &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        g_task_return_boolean(task, TRUE);
}

/**
 * vt_guest_qmp_memdev_poll() - Ends a balloon poll, reading the device's size too.
 * @self: the guest
 * @task: (transfer full): the poll, completed once the size is in (at
 *     once for a guest without a device)
 *
 * MEMORY_DEVICE_SIZE_CHANGE comes at most once a second; a move polled
 * every %VT_GUEST_POLL_US sees the plugging sooner this way.
 */
void
vt_guest_qmp_memdev_poll(VtGuestQmp *self, GTask *task)
{
        if (self->stopped || !vt_guest_get_memdev(VT_GUEST(self))->present) {
                g_task_return_boolean(task, TRUE);
                g_object_unref(task);
                return;
        }
        vt_qmp_client_execute_async(self->client, "query-memory-devices", NULL, 0, memdev_on_polled,
                                    task);
}

static void
memdev_on_size_change(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                      gpointer user_data)
{
        VtGuestQmp *self = user_data;
        VtGuestMemdev memdev = *vt_guest_get_memdev(VT_GUEST(self));
        const char *id = NULL;
        const char *path = NULL;
        guint64 size = 0;
        gboolean ours;

        (void)client;
        (void)name;
        (void)timestamp_us;
        if (!memdev.present)
                return;
        if (json_get_string(data, "id", &id))
                ours = strcmp(id, memdev.id) == 0;
        else
                ours = json_get_string(data, "qom-path", &path) &&
                       g_str_has_prefix(path, QOM_PERIPHERAL) &&
                       strcmp(path + strlen(QOM_PERIPHERAL), memdev.id) == 0;
        if (!ours)
                return;
        if (!vt_guest_qmp_json_get_size(data, "size", &size) || size > memdev.max_bytes) {
                g_debug("guest '%s': MEMORY_DEVICE_SIZE_CHANGE without a believable size dropped",
                        guest_name(self));
                return;
        }
        memdev.plugged_bytes = size;
        vt_guest_update_memdev(VT_GUEST(self), &memdev, g_get_monotonic_time());
}

/* Follows MEMORY_DEVICE_SIZE_CHANGE once the client is connected. */
void
vt_guest_qmp_memdev_connected(VtGuestQmp *self)
{
        self->memdev_event_id = g_signal_connect(self->client, "event::MEMORY_DEVICE_SIZE_CHANGE",
                                                 G_CALLBACK(memdev_on_size_change), self);
}

/* Stops following it. */
void
vt_guest_qmp_memdev_stop(VtGuestQmp *self)
{
        if (self->client != NULL)
                g_clear_signal_handler(&self->memdev_event_id, self->client);
}

static void
guest_qmp_set_memdev_async(VtGuest *guest, guint64 requested_bytes, GAsyncReadyCallback callback,
                           gpointer user_data)
{
        VtGuestQmp *self = VT_GUEST_QMP(guest);
        const VtGuestMemdev *memdev = vt_guest_get_memdev(guest);
        g_autoptr(GTask) task = g_task_new(guest, NULL, callback, user_data);
        g_autoptr(json_object) args = NULL;
        g_autofree char *path = NULL;

        g_task_set_source_tag(task, guest_qmp_set_memdev_async);
        if (!memdev->present || self->client == NULL || self->stopped) {
                g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                        "no virtio-mem device to drive");
                return;
        }
        path = g_strconcat(QOM_PERIPHERAL, memdev->id, NULL);
        args = json_object_new_object();
        json_object_object_add(args, "path", json_object_new_string(path));
        json_object_object_add(args, "property", json_object_new_string("requested-size"));
        json_object_object_add(args, "value", json_object_new_uint64(requested_bytes));
        vt_qmp_client_execute_async(self->client, "qom-set", args, 0, vt_guest_qmp_on_taken,
                                    g_steal_pointer(&task));
}

static gboolean
guest_qmp_set_memdev_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        (void)guest;
        return g_task_propagate_boolean(G_TASK(result), error);
}

/* The virtio-mem methods, hooked into @klass. */
void
vt_guest_qmp_memdev_class_init(VtGuestClass *klass)
{
        klass->set_memdev_async = guest_qmp_set_memdev_async;
        klass->set_memdev_finish = guest_qmp_set_memdev_finish;
}
