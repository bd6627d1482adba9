/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt guest's state, shared by its files only (libvirt-guest.c, libvirt-guest-migrate.c,
 * libvirt-guest-memdev.c). */
#pragma once

#include "host/libvirt/libvirt-guest-job.h"
#include "host/libvirt/libvirt-guest.h"
#include "host/libvirt/libvirt-worker.h"

G_BEGIN_DECLS

struct _VtGuestLibvirt {
        VtGuest parent_instance;

        virDomainPtr domain; /* NULL while libvirtd is unreachable */
        char *uuid;
        unsigned int domain_id; /* this run of the domain */
        char *pid_dir;
        guint stats_interval_s;
        GMainContext *context;
        VtSerialWorker *worker;
        gboolean balloon_device; /* the domain's XML has one */
        VtLibvirtMemdev memdev;  /* the virtio-mem device driven, as its XML
                                  * was last read (libvirt-guest-memdev.c) */
        char *memdev_notes;      /* what was last logged of the devices not driven */
        guint64 memdev_events;   /* memory-device-size-change events taken */

        gboolean stopped;

        /* Migration (libvirt-guest-migrate.c). virDomainMigrateToURI3()
         * holds @worker for the whole move: what must not wait behind it
         * (the job's statistics, its downtime, its abort, the watch that
         * says it runs, and statistics reads) goes to @control. */
        VtSerialWorker *control;
        gboolean migrating;          /* the migration call is queued or running */
        gboolean cancel_asked;       /* migrate_cancel was asked during this move */
        GTask *start_task;           /* migrate_start's, until the move runs or ends */
        VtMigrateProgress migration; /* the latest figures; final once the call returned */
        gboolean completed_stats;    /* @migration has libvirt's JOB_COMPLETED figures */
};

/* libvirt-guest.c: a task for a job on the domain; NULL (the task failed
 * with %VT_LIBVIRT_ERROR_DISCONNECTED) while libvirtd is unreachable. */
GTask *vt_guest_libvirt_job_task_new(VtGuestLibvirt *self, gpointer source_tag,
                                     GAsyncReadyCallback callback, gpointer user_data,
                                     VtLibvirtGuestJob **ret_job);
/* The worker for statistics reads: @control while a migration holds @worker. */
VtSerialWorker *vt_guest_libvirt_read_worker(VtGuestLibvirt *self);
/* When the job of @result failed: @task fails with its error (and the
 * guest is gone if its domain is); TRUE. FALSE when the job succeeded. */
gboolean vt_guest_libvirt_job_failed(VtGuestLibvirt *self, GAsyncResult *result, GTask *task);

/* libvirt-guest-memdev.c: the virtio-mem device as a job read it (taken
 * from @info; @events_before: @memdev_events when the job was queued)
 * reported to the base class; the set_memdev method. */
void vt_guest_libvirt_apply_memdev(VtGuestLibvirt *self, VtLibvirtDomainInfo *info,
                                   guint64 events_before);
void vt_guest_libvirt_memdev_class_init(VtGuestClass *guest_class);

/* libvirt-guest-migrate.c: the migration methods and the dirty rate. */
void vt_guest_libvirt_migrate_class_init(VtGuestClass *guest_class);

G_END_DECLS
