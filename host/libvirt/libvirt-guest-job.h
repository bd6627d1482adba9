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
        char *policy_xml; /* to write */

        VtLibvirtDomainInfo info;
        gboolean has_metadata;
        char *metadata;
        char *period_error;
        gboolean has_memory_stats;
        guint64 actual_bytes;
        VtGuestStats stats;
        GPid pid;
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
void vt_libvirt_guest_job_store_policy(GTask *task, gpointer source, gpointer task_data,
                                       GCancellable *cancellable);

G_END_DECLS
