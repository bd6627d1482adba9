/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A libvirt guest's virtio-mem device (issue 17): what libvirt says of it,
 * reported to the base class, and its requested size changed live.
 *
 * Theory of operation: the device is read from the domain's live XML
 * (host/libvirt/libvirt-memdev.c) at start and on every refresh, and goes
 * to the base class with vt_guest_update_memdev(): its alias, block,
 * `<size>` (the maximum), `<requested>` and `<current>` (what is
 * plugged). libvirt follows QEMU's MEMORY_DEVICE_SIZE_CHANGE itself,
 * keeps `<current>` up to date and passes it on as its
 * memory-device-size-change event (alias, size in KiB), which the backend
 * hands to vt_guest_libvirt_memdev_size_changed(); the refresh's read
 * catches up with what came while libvirtd was unreachable. An XML read
 * can be older than an event that overtook its job's reply (libvirt
 * updates `<current>` before it sends the event): when an event came
 * since the job was queued, the event's size stands.
 *
 * A new requested size is what `virsh update-memory-device
 * --requested-size` does: the device's XML as libvirt wrote it, with the
 * new `<requested>`, given to virDomainUpdateDeviceFlags(...,
 * VIR_DOMAIN_AFFECT_LIVE) on the guest's serial worker; libvirt finds the
 * device by that XML and runs `qom-set requested-size` inside. The call
 * returns once QEMU took the size, long before the guest has plugged or
 * unplugged the blocks; the XML is read back after it, so the base class
 * sees the requested size libvirt now holds. Only the running domain
 * changes, never its saved configuration.
 */
#include "host/libvirt/libvirt-guest-private.h"

#include <string.h>

#include "host/libvirt/libvirt-error.h"

static const char *
guest_name(VtGuestLibvirt *self)
{
        return vt_guest_get_name(VT_GUEST(self));
}

/* The devices not driven, for the log: "" when there is nothing to say. */
static char *
memdev_notes(const VtLibvirtDomainInfo *info)
{
        g_autoptr(GString) notes = g_string_new(NULL);

        if (info->memdev_problem != NULL)
                g_string_append_printf(notes, "virtio-mem device not driven: %s",
                                       info->memdev_problem);
        if (info->memdev_others != NULL)
                g_string_append_printf(notes, "%svirtio-mem devices past the first left alone: %s",
                                       notes->len > 0 ? "; " : "", info->memdev_others);
        return g_string_free(g_steal_pointer(&notes), FALSE);
}

/**
 * vt_guest_libvirt_apply_memdev:
 * @self: a guest
 * @info: the domain's XML as a job read it; its device is taken
 * @events_before: the guest's @memdev_events when the job was queued
 *
 * Keeps the device driven (its XML, for updates), logs the devices that
 * are not driven once for each new reason, and reports the device (or
 * its absence) to the base class.
 */
void
vt_guest_libvirt_apply_memdev(VtGuestLibvirt *self, VtLibvirtDomainInfo *info,
                              guint64 events_before)
{
        g_autofree char *notes = memdev_notes(info);
        const VtGuestMemdev *known = vt_guest_get_memdev(VT_GUEST(self));
        VtGuestMemdev memdev = {0};
        const VtLibvirtMemdev *dev;

        if (g_strcmp0(notes, self->memdev_notes) != 0) {
                if (notes[0] != '\0')
                        g_message("guest '%s': %s", guest_name(self), notes);
                g_free(self->memdev_notes);
                self->memdev_notes = g_steal_pointer(&notes);
        }
        vt_libvirt_memdev_clear(&self->memdev);
        self->memdev = info->memdev;
        memset(&info->memdev, 0, sizeof(info->memdev));
        dev = &self->memdev;
        if (dev->present) {
                memdev.present = TRUE;
                g_strlcpy(memdev.id, dev->alias != NULL ? dev->alias : "", sizeof(memdev.id));
                memdev.block_size = dev->block_bytes;
                memdev.plugged_bytes = dev->current_bytes;
                memdev.requested_bytes = dev->requested_bytes;
                memdev.max_bytes = dev->size_bytes;
                /* An event since the read is newer than its <current>. */
                if (self->memdev_events != events_before && known->present &&
                    strcmp(known->id, memdev.id) == 0)
                        memdev.plugged_bytes = known->plugged_bytes;
        }
        vt_guest_update_memdev(VT_GUEST(self), &memdev, g_get_monotonic_time());
}

/**
 * vt_guest_libvirt_memdev_size_changed:
 * @guest: a guest
 * @alias: the device's alias, from libvirt's event
 * @size_kib: what it has plugged now, KiB
 *
 * For the backend, on libvirt's memory-device-size-change event. An event
 * for another device, or with a size beyond the device's, is dropped.
 */
void
vt_guest_libvirt_memdev_size_changed(VtGuestLibvirt *guest, const char *alias, guint64 size_kib)
{
        VtGuestMemdev memdev;

        g_return_if_fail(VT_IS_GUEST_LIBVIRT(guest));

        if (guest->stopped || !vt_guest_is_started(VT_GUEST(guest)) || alias == NULL)
                return;
        memdev = *vt_guest_get_memdev(VT_GUEST(guest));
        if (!memdev.present || strcmp(alias, memdev.id) != 0)
                return;
        if (size_kib > memdev.max_bytes / 1024) {
                g_debug("guest '%s': memory-device-size-change of %" G_GUINT64_FORMAT
                        " KiB for '%s' beyond its size: dropped",
                        guest_name(guest), size_kib, alias);
                return;
        }
        memdev.plugged_bytes = size_kib * 1024;
        guest->memdev.current_bytes = memdev.plugged_bytes;
        guest->memdev_events++;
        vt_guest_update_memdev(VT_GUEST(guest), &memdev, g_get_monotonic_time());
}

static void
guest_on_memdev_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        g_autoptr(GTask) task = user_data;
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));

        if (vt_guest_libvirt_job_failed(self, result, task))
                return;
        if (!self->stopped && job->has_info)
                vt_guest_libvirt_apply_memdev(self, &job->info, job->memdev_events);
        g_task_return_boolean(task, TRUE);
}

static void
guest_libvirt_set_memdev_async(VtGuest *guest, guint64 requested_bytes,
                               GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;
        VtLibvirtGuestJob *job;
        GTask *outer;
        GTask *task;

        if (self->migrating) {
                g_task_report_new_error(self, callback, user_data, guest_libvirt_set_memdev_async,
                                        G_IO_ERROR, G_IO_ERROR_BUSY, "guest '%s' is migrating",
                                        guest_name(self));
                return;
        }
        if (!self->memdev.present) {
                g_task_report_new_error(self, callback, user_data, guest_libvirt_set_memdev_async,
                                        G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                        "guest '%s' has no virtio-mem device vmtided drives",
                                        guest_name(self));
                return;
        }
        xml = vt_libvirt_memdev_format_update(&self->memdev, requested_bytes, &error);
        if (xml == NULL) {
                g_task_report_new_error(self, callback, user_data, guest_libvirt_set_memdev_async,
                                        G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "guest '%s': %s",
                                        guest_name(self), error->message);
                return;
        }
        outer = g_task_new(self, NULL, callback, user_data);
        g_task_set_source_tag(outer, guest_libvirt_set_memdev_async);
        task = vt_guest_libvirt_job_task_new(self, guest_libvirt_set_memdev_async,
                                             guest_on_memdev_set, outer, &job);
        if (task == NULL)
                return;
        job->memdev_xml = g_steal_pointer(&xml);
        job->memdev_events = self->memdev_events;
        vt_serial_worker_run(self->worker, task, vt_libvirt_guest_job_set_memdev);
}

static gboolean
guest_libvirt_set_memdev_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        g_autoptr(GError) local = NULL;

        if (g_task_propagate_boolean(G_TASK(result), &local))
                return TRUE;
        /* libvirt's message names the call; say which guest and device. */
        if (local->domain == VT_LIBVIRT_ERROR && self->memdev.alias != NULL)
                g_prefix_error(&local, "guest '%s', virtio-mem device '%s': ", guest_name(self),
                               self->memdev.alias);
        else if (local->domain == VT_LIBVIRT_ERROR)
                g_prefix_error(&local, "guest '%s', its virtio-mem device: ", guest_name(self));
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
}

/**
 * vt_guest_libvirt_memdev_class_init:
 * @guest_class: the libvirt guest's class
 *
 * Fills in set_memdev.
 */
void
vt_guest_libvirt_memdev_class_init(VtGuestClass *guest_class)
{
        guest_class->set_memdev_async = guest_libvirt_set_memdev_async;
        guest_class->set_memdev_finish = guest_libvirt_set_memdev_finish;
}
