/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a libvirt guest's serial worker runs: blocking calls, plain data back. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "host/guest/guest.h"
#include "host/libvirt/libvirt-domain.h"

G_BEGIN_DECLS

/*
 * VtLibvirtGuestJob: what one job reads (or writes); filled on the worker,
 * applied on the main thread. The job owns its own reference to @domain
 * and copies of the strings, so it holds nothing of the guest's.
 */
typedef struct {
        virDomainPtr domain;
        char *name;
        char *uuid;
        char *pid_dir;
        guint stats_interval_s;
        guint64 set_kib;
        char *policy_xml;      /* to write */
        gboolean read_balloon; /* a refresh: the balloon's statistics */
        gboolean read_memdev;  /* a refresh: the virtio-mem device (the XML) */
        char *memdev_xml;      /* the virtio-mem device to update, live */
        guint64 memdev_events; /* the guest's size-change events when queued */

        gboolean has_info;        /* @info was read */
        VtLibvirtDomainInfo info; /* the start's, a refresh's with @read_memdev
                                   * or an update's: the XML read */
        gboolean has_metadata;
        char *metadata;
        char *period_error;
        gboolean has_memory_stats;
        guint64 actual_bytes;
        VtGuestStats stats;
        GPid pid;

        /* Migration and dirty rate (libvirt-guest-job-migrate.c). */
        char *peer;               /* the destination's libvirt URI */
        char *transport_uri;      /* VIR_MIGRATE_PARAM_URI, or NULL */
        guint64 bandwidth;        /* bytes per second; 0: libvirt's default */
        gint64 downtime_limit_us; /* 0: leave QEMU's */
        gboolean auto_converge;
        gint *finished;   /* atomic, shared (g_atomic_rc_box) by the
                           * migration call and its watch: set once
                           * the call returned */
        gboolean running; /* the watch saw the migration job */
        char *warning;    /* what went wrong but did not fail the job */
        VtMigrateProgress progress;
        gint64 window_us;   /* the dirty rate's window */
        guint64 dirty_rate; /* bytes per second */
} VtLibvirtGuestJob;

void vt_libvirt_guest_job_free(VtLibvirtGuestJob *job);

/* GTaskThreadFunc's for vt_serial_worker_run(); the task data is the job.
 * Each returns a boolean, or the error of the libvirt call that failed
 * (a %VT_LIBVIRT_ERROR, naming the call). */
void vt_libvirt_guest_job_start(GTask *task, gpointer source, gpointer task_data,
                                GCancellable *cancellable);
void vt_libvirt_guest_job_read_stats(GTask *task, gpointer source, gpointer task_data,
                                     GCancellable *cancellable);
void vt_libvirt_guest_job_set_memory(GTask *task, gpointer source, gpointer task_data,
                                     GCancellable *cancellable);
void vt_libvirt_guest_job_read_metadata(GTask *task, gpointer source, gpointer task_data,
                                        GCancellable *cancellable);
void vt_libvirt_guest_job_refresh(GTask *task, gpointer source, gpointer task_data,
                                  GCancellable *cancellable);
void vt_libvirt_guest_job_set_memdev(GTask *task, gpointer source, gpointer task_data,
                                     GCancellable *cancellable);
void vt_libvirt_guest_job_store_policy(GTask *task, gpointer source, gpointer task_data,
                                       GCancellable *cancellable);

/* libvirt-guest-job-migrate.c; the same contract. The migration call
 * returns TRUE whatever its outcome: the outcome is in @progress. */
void vt_libvirt_guest_job_dirty_rate(GTask *task, gpointer source, gpointer task_data,
                                     GCancellable *cancellable);
void vt_libvirt_guest_job_migrate(GTask *task, gpointer source, gpointer task_data,
                                  GCancellable *cancellable);
void vt_libvirt_guest_job_migrate_watch(GTask *task, gpointer source, gpointer task_data,
                                        GCancellable *cancellable);
void vt_libvirt_guest_job_migrate_query(GTask *task, gpointer source, gpointer task_data,
                                        GCancellable *cancellable);
void vt_libvirt_guest_job_migrate_downtime(GTask *task, gpointer source, gpointer task_data,
                                           GCancellable *cancellable);
void vt_libvirt_guest_job_migrate_abort(GTask *task, gpointer source, gpointer task_data,
                                        GCancellable *cancellable);
void vt_libvirt_migrate_progress_from_params(virTypedParameterPtr params, int n,
                                             VtMigrateProgress *progress);

G_END_DECLS
