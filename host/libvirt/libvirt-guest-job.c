/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a libvirt guest's serial worker runs (host/libvirt/libvirt-guest.c
 * queues them): every libvirt call blocks on libvirtd, so each runs here,
 * off the main loop, on the job's own reference to the domain, and leaves
 * plain data in the job for the main thread to apply.
 */
#include "host/libvirt/libvirt-guest-job.h"

#include <libvirt/virterror.h>
#include <stdlib.h>

#include "host/libvirt/libvirt-error.h"
#include "host/libvirt/libvirt-metadata.h"
#include "host/libvirt/libvirt-pid.h"

/**
 * vt_libvirt_guest_job_free:
 * @job: (transfer full): a job
 */
void
vt_libvirt_guest_job_free(VtLibvirtGuestJob *job)
{
        if (job->domain != NULL)
                virDomainFree(job->domain);
        g_free(job->name);
        g_free(job->uuid);
        g_free(job->pid_dir);
        g_free(job->policy_xml);
        g_free(job->memdev_xml);
        vt_libvirt_domain_info_clear(&job->info);
        g_free(job->metadata);
        g_free(job->period_error);
        g_free(job->peer);
        g_free(job->transport_uri);
        g_free(job->warning);
        if (job->finished != NULL)
                g_atomic_rc_box_release(job->finished);
        g_free(job);
}

/* Fails @task with libvirt's last error, naming @call. */
static void
job_fail(GTask *task, const char *call)
{
        g_autoptr(GError) error = NULL;

        vt_libvirt_set_error(&error, call);
        g_task_return_error(task, g_steal_pointer(&error));
}

/* Ends @task with what a read returned: TRUE, or its @error. */
static void
job_return(GTask *task, gboolean ok, GError **error)
{
        if (ok)
                g_task_return_boolean(task, TRUE);
        else
                g_task_return_error(task, g_steal_pointer(error));
}

/*
 * The statistics of virDomainMemoryStats() (KiB, except the counts and
 * LAST_UPDATE, in seconds since the epoch) as QEMU's `guest-stats` gives
 * them to the QMP backend: bytes, and the time they were read.
 */
static void
stats_from_libvirt(const virDomainMemoryStatStruct *s, int n, gint64 now_us, gint64 real_now_us,
                   VtGuestStats *ret_stats, guint64 *ret_actual)
{
        VtGuestStats stats = {0};
        guint64 last_update = 0;

        *ret_actual = 0;
        for (int i = 0; i < n; i++) {
                guint64 v = s[i].val;
                guint64 bytes = v > G_MAXUINT64 / 1024 ? G_MAXUINT64 : v * 1024;

                switch (s[i].tag) {
                case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
                        *ret_actual = bytes;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
                        stats.total = bytes;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_UNUSED:
                        stats.free = bytes;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_USABLE:
                        stats.available = bytes;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES:
                        stats.disk_caches = bytes;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT:
                        stats.major_faults = v;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_SWAP_IN:
                        stats.swap_in = bytes;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT:
                        stats.swap_out = bytes;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE:
                        last_update = v;
                        break;
                default:
                        break;
                }
        }
        if (last_update != 0 && stats.total != 0)
                stats.updated_us = vt_guest_stats_sent_us(last_update, now_us, real_now_us);
        stats.sent_s = last_update;
        *ret_stats = stats;
}

/* On the worker: the balloon's size and the statistics; FALSE with @error
 * when libvirt fails. A domain without statistics support reads none. */
static gboolean
job_read_memory_stats(VtLibvirtGuestJob *job, GError **error)
{
        virDomainMemoryStatStruct s[VIR_DOMAIN_MEMORY_STAT_NR];
        int n = virDomainMemoryStats(job->domain, s, VIR_DOMAIN_MEMORY_STAT_NR, 0);

        if (n < 0) {
                vt_libvirt_set_error(error, "virDomainMemoryStats");
                return FALSE;
        }
        stats_from_libvirt(s, n, g_get_monotonic_time(), g_get_real_time(), &job->stats,
                           &job->actual_bytes);
        job->has_memory_stats = TRUE;
        return TRUE;
}

/* On the worker: vmtide's metadata element, or none. */
static gboolean
job_read_metadata(VtLibvirtGuestJob *job, GError **error)
{
        char *text = virDomainGetMetadata(job->domain, VIR_DOMAIN_METADATA_ELEMENT,
                                          VT_LIBVIRT_METADATA_URI, VIR_DOMAIN_AFFECT_LIVE);
        const virError *e;

        if (text != NULL) {
                job->has_metadata = TRUE;
                job->metadata = g_strdup(text);
                free(text);
                return TRUE;
        }
        e = virGetLastError();
        if (e != NULL && e->code == VIR_ERR_NO_DOMAIN_METADATA)
                return TRUE;
        vt_libvirt_set_error(error, "virDomainGetMetadata");
        return FALSE;
}

/* On the worker: the domain's live XML, parsed into @info. */
static gboolean
job_read_xml(VtLibvirtGuestJob *job, GError **error)
{
        char *xml = virDomainGetXMLDesc(job->domain, 0);
        gboolean ok;

        if (xml == NULL) {
                vt_libvirt_set_error(error, "virDomainGetXMLDesc");
                return FALSE;
        }
        vt_libvirt_domain_info_clear(&job->info);
        ok = vt_libvirt_domain_parse(xml, &job->info, error);
        free(xml);
        job->has_info = ok;
        return ok;
}

/* Start: the domain's XML, its metadata, the statistics period, the
 * balloon and statistics, the QEMU pid. */
void
vt_libvirt_guest_job_start(GTask *task, gpointer source, gpointer task_data,
                           GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        g_autoptr(GError) error = NULL;

        (void)source;
        (void)cancellable;
        if (!job_read_xml(job, &error) || !job_read_metadata(job, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (job->info.has_balloon && job->info.stats_period_s == 0 && job->stats_interval_s > 0) {
                if (virDomainSetMemoryStatsPeriod(job->domain, (int)job->stats_interval_s,
                                                  VIR_DOMAIN_AFFECT_LIVE) < 0) {
                        g_autoptr(GError) period_error = NULL;

                        vt_libvirt_set_error(&period_error, "virDomainSetMemoryStatsPeriod");
                        job->period_error = g_strdup(period_error->message);
                }
        }
        /* A domain whose stats cannot be read starts without them. */
        if (job->info.has_balloon && !job_read_memory_stats(job, &error)) {
                if (g_error_matches(error, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_NO_DOMAIN) ||
                    g_error_matches(error, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_DISCONNECTED)) {
                        g_task_return_error(task, g_steal_pointer(&error));
                        return;
                }
                g_clear_error(&error);
        }
        job->pid = vt_libvirt_find_qemu_pid(job->pid_dir, job->name, job->uuid);
        g_task_return_boolean(task, TRUE);
}

/* A refresh or a poll: the balloon's size and the statistics. */
void
vt_libvirt_guest_job_read_stats(GTask *task, gpointer source, gpointer task_data,
                                GCancellable *cancellable)
{
        g_autoptr(GError) error = NULL;

        (void)source;
        (void)cancellable;
        job_return(task, job_read_memory_stats(task_data, &error), &error);
}

/* A refresh: the balloon's statistics (@read_balloon), the virtio-mem
 * device (@read_memdev). */
void
vt_libvirt_guest_job_refresh(GTask *task, gpointer source, gpointer task_data,
                             GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        g_autoptr(GError) error = NULL;
        gboolean ok = TRUE;

        (void)source;
        (void)cancellable;
        if (job->read_balloon)
                ok = job_read_memory_stats(job, &error);
        if (ok && job->read_memdev)
                ok = job_read_xml(job, &error);
        job_return(task, ok, &error);
}

/* virtio-mem: the device given a new requested size (@memdev_xml), live,
 * as `virsh update-memory-device --requested-size` does; then the XML read
 * back (the requested size libvirt now has). */
void
vt_libvirt_guest_job_set_memdev(GTask *task, gpointer source, gpointer task_data,
                                GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        g_autoptr(GError) error = NULL;

        (void)source;
        (void)cancellable;
        if (virDomainUpdateDeviceFlags(job->domain, job->memdev_xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
                job_fail(task, "virDomainUpdateDeviceFlags");
                return;
        }
        /* Taken: a failed read-back leaves the next refresh to see it. */
        if (!job_read_xml(job, &error))
                g_clear_error(&error);
        g_task_return_boolean(task, TRUE);
}

/* A move: the balloon set to @set_kib, live. */
void
vt_libvirt_guest_job_set_memory(GTask *task, gpointer source, gpointer task_data,
                                GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;

        (void)source;
        (void)cancellable;
        if (job->set_kib > G_MAXULONG) {
                g_task_return_new_error(task, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_FAILED,
                                        "%" G_GUINT64_FORMAT " KiB is more than libvirt can take",
                                        job->set_kib);
                return;
        }
        if (virDomainSetMemoryFlags(job->domain, (unsigned long)job->set_kib,
                                    VIR_DOMAIN_AFFECT_LIVE) < 0) {
                job_fail(task, "virDomainSetMemoryFlags");
                return;
        }
        g_task_return_boolean(task, TRUE);
}

/* A METADATA_CHANGE event: vmtide's element read again. */
void
vt_libvirt_guest_job_read_metadata(GTask *task, gpointer source, gpointer task_data,
                                   GCancellable *cancellable)
{
        g_autoptr(GError) error = NULL;

        (void)source;
        (void)cancellable;
        job_return(task, job_read_metadata(task_data, &error), &error);
}

/* vmtide's element written (@policy_xml), then read back. */
void
vt_libvirt_guest_job_store_policy(GTask *task, gpointer source, gpointer task_data,
                                  GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        g_autoptr(GError) error = NULL;
        unsigned int flags = VIR_DOMAIN_AFFECT_LIVE;
        int persistent = virDomainIsPersistent(job->domain);

        (void)source;
        (void)cancellable;
        if (persistent < 0) {
                job_fail(task, "virDomainIsPersistent");
                return;
        }
        /* A persistent domain keeps it across restarts too. */
        if (persistent == 1)
                flags |= VIR_DOMAIN_AFFECT_CONFIG;
        if (virDomainSetMetadata(job->domain, VIR_DOMAIN_METADATA_ELEMENT, job->policy_xml,
                                 VT_LIBVIRT_METADATA_PREFIX, VT_LIBVIRT_METADATA_URI, flags) < 0) {
                job_fail(task, "virDomainSetMetadata");
                return;
        }
        /* Read back what libvirt kept: the policy then comes from there. */
        job_return(task, job_read_metadata(job, &error), &error);
}
