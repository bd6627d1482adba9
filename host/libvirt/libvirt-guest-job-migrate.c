/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt guest's migration and dirty-rate jobs, run on its workers
 * (host/libvirt/libvirt-guest-migrate.c queues them): blocking libvirt
 * calls, plain data back.
 *
 * Theory of operation:
 *
 *   dirty rate   virDomainStartDirtyRateCalc(seconds, page-sampling), then
 *                the dirtyrate stats group (virDomainListGetStats) read
 *                after the window until `calc_status` is MEASURED with a
 *                `calc_start_time` other than the last measurement's,
 *                bounded by the window + DIRTY_GUARD_US. libvirt gives
 *                `megabytes_per_second`: QEMU's MiB/s, so 1 MiB/s steps.
 *   migrate      virDomainMigrateToURI3(LIVE | PEER2PEER ...): blocks
 *                until the move ends, on the guest's worker. Its outcome
 *                (COMPLETED, CANCELLED for VIR_ERR_OPERATION_ABORTED,
 *                FAILED otherwise) is data, not the task's error.
 *   watch        on the control worker: virDomainGetJobInfo every
 *                WATCH_INTERVAL_US until the job is UNBOUNDED with QEMU's
 *                figures (RAM flows: the peer is set up, its QEMU
 *                started) or the call returned, bounded by WATCH_GUARD_US.
 *                The downtime limit is set as soon as libvirt's job
 *                exists (virDomainMigrateSetMaxDowntime: libvirt 9.0 has
 *                no migration parameter for it, and set before the job it
 *                would outlive the move).
 *   query, downtime, abort
 *                on the control worker: virDomainGetJobStats (+
 *                virDomainGetState for the stop-and-copy),
 *                virDomainMigrateSetMaxDowntime, virDomainAbortJob.
 *                libvirt lets these through beside its migration job.
 */
#include "host/libvirt/libvirt-guest-job.h"

#include <libvirt/virterror.h>

#include "host/libvirt/libvirt-error.h"

/* The dirty-rate window libvirt takes: whole seconds, QEMU's 1 to 60. */
#define DIRTY_MIN_S       1
#define DIRTY_MAX_S       60
#define DIRTY_POLL_US     (100 * 1000)
#define DIRTY_GUARD_US    (10 * G_USEC_PER_SEC)
#define WATCH_INTERVAL_US (20 * 1000)
#define WATCH_GUARD_US    (30 * G_USEC_PER_SEC)
#define MIB               (G_GUINT64_CONSTANT(1) << 20)

/* Fails @task with libvirt's last error, naming @call. */
static void
job_fail(GTask *task, const char *call)
{
        g_autoptr(GError) error = NULL;

        vt_libvirt_set_error(&error, call);
        g_task_return_error(task, g_steal_pointer(&error));
}

/* On the worker: the dirtyrate group's status, start time and rate;
 * FALSE with @error when libvirt fails. Absent fields read -1. */
static gboolean
dirty_rate_read(VtLibvirtGuestJob *job, int *ret_status, long long *ret_start, long long *ret_mib_s,
                GError **error)
{
        virDomainPtr domains[] = {job->domain, NULL};
        virDomainStatsRecordPtr *records = NULL;
        int n = virDomainListGetStats(domains, VIR_DOMAIN_STATS_DIRTYRATE, &records, 0);

        *ret_status = -1;
        *ret_start = -1;
        *ret_mib_s = -1;
        if (n < 0) {
                vt_libvirt_set_error(error, "virDomainListGetStats");
                return FALSE;
        }
        if (n > 0) {
                virTypedParameterPtr params = records[0]->params;
                int nparams = records[0]->nparams;

                (void)virTypedParamsGetInt(params, nparams, "dirtyrate.calc_status", ret_status);
                (void)virTypedParamsGetLLong(params, nparams, "dirtyrate.calc_start_time",
                                             ret_start);
                (void)virTypedParamsGetLLong(params, nparams, "dirtyrate.megabytes_per_second",
                                             ret_mib_s);
        }
        virDomainStatsRecordListFree(records);
        return TRUE;
}

/* The dirty rate over @window_us (rounded up to whole seconds, 1 to 60),
 * in @dirty_rate, bytes per second. */
void
vt_libvirt_guest_job_dirty_rate(GTask *task, gpointer source, gpointer task_data,
                                GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        g_autoptr(GError) error = NULL;
        gint64 seconds = (job->window_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
        long long old_start, start, mib_s;
        int status;
        gint64 deadline_us;

        (void)source;
        (void)cancellable;
        seconds = CLAMP(seconds, DIRTY_MIN_S, DIRTY_MAX_S);
        if (!dirty_rate_read(job, &status, &old_start, &mib_s, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (virDomainStartDirtyRateCalc(job->domain, (int)seconds,
                                        VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING) < 0) {
                job_fail(task, "virDomainStartDirtyRateCalc");
                return;
        }
        /* QEMU measures for the whole window: nothing to read before. */
        g_usleep((gulong)(seconds * G_USEC_PER_SEC));
        deadline_us = g_get_monotonic_time() + DIRTY_GUARD_US;
        for (;;) {
                if (!dirty_rate_read(job, &status, &start, &mib_s, &error)) {
                        g_task_return_error(task, g_steal_pointer(&error));
                        return;
                }
                if (status == VIR_DOMAIN_DIRTYRATE_MEASURED && start != old_start && mib_s >= 0)
                        break;
                if (g_get_monotonic_time() > deadline_us) {
                        g_task_return_new_error(
                            task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                            "the dirty rate over %" G_GINT64_FORMAT
                            " s was not measured %d s after its window (calc_status %d)",
                            seconds, (int)(DIRTY_GUARD_US / G_USEC_PER_SEC), status);
                        return;
                }
                g_usleep(DIRTY_POLL_US);
        }
        job->dirty_rate = (guint64)mib_s > G_MAXUINT64 / MIB ? G_MAXUINT64 : (guint64)mib_s * MIB;
        g_task_return_boolean(task, TRUE);
}

/* The typed parameters of the move asked for; the caller frees them. */
static void
migrate_params(const VtLibvirtGuestJob *job, virTypedParameterPtr *params, int *n)
{
        int max = 0;

        *params = NULL;
        *n = 0;
        if (job->bandwidth > 0) {
                /* libvirt takes MiB/s: never above the cap, never 0 (no cap). */
                guint64 mib_s = MAX(job->bandwidth / MIB, 1);

                (void)virTypedParamsAddULLong(params, n, &max, VIR_MIGRATE_PARAM_BANDWIDTH, mib_s);
        }
        if (job->transport_uri != NULL)
                (void)virTypedParamsAddString(params, n, &max, VIR_MIGRATE_PARAM_URI,
                                              job->transport_uri);
}

/* The move: virDomainMigrateToURI3() to @peer, until it ends. The
 * outcome is in @progress (status, error); the task always succeeds. */
void
vt_libvirt_guest_job_migrate(GTask *task, gpointer source, gpointer task_data,
                             GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER;
        virTypedParameterPtr params;
        int n, persistent;

        (void)source;
        (void)cancellable;
        /* A persistent domain stays defined where it runs, and only
         * there; a transient one stays transient. Storage is not copied:
         * shared, or none (VIR_MIGRATE_NON_SHARED_* is never set). */
        persistent = virDomainIsPersistent(job->domain);
        if (persistent == 1)
                flags |= VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
        if (job->auto_converge)
                flags |= VIR_MIGRATE_AUTO_CONVERGE;
        migrate_params(job, &params, &n);
        if (virDomainMigrateToURI3(job->domain, job->peer, params, (unsigned int)n, flags) == 0) {
                job->progress.status = VT_MIGRATE_STATUS_COMPLETED;
        } else {
                const virError *e = virGetLastError();

                job->progress.status = e != NULL && e->code == VIR_ERR_OPERATION_ABORTED
                                           ? VT_MIGRATE_STATUS_CANCELLED
                                           : VT_MIGRATE_STATUS_FAILED;
                g_strlcpy(job->progress.error,
                          e != NULL && e->message != NULL ? e->message : "unknown error",
                          sizeof(job->progress.error));
        }
        virTypedParamsFree(params, n);
        g_atomic_int_set(job->finished, TRUE);
        g_task_return_boolean(task, TRUE);
}

/* On the control worker: the downtime limit, once libvirt's job exists
 * (set before, it would outlive the move); a failure is a warning. */
static void
watch_set_downtime(VtLibvirtGuestJob *job)
{
        g_autoptr(GError) error = NULL;
        unsigned long long ms = ((unsigned long long)job->downtime_limit_us + 999) / 1000;

        if (job->downtime_limit_us <= 0 || virDomainMigrateSetMaxDowntime(job->domain, ms, 0) == 0)
                return;
        vt_libvirt_set_error(&error, "virDomainMigrateSetMaxDowntime");
        job->warning = g_strdup(error->message);
}

/* On the control worker: waits until RAM flows (@running: libvirt's job
 * has QEMU's figures) or the call returned (not @running); sets the
 * downtime limit as soon as libvirt's job exists. */
void
vt_libvirt_guest_job_migrate_watch(GTask *task, gpointer source, gpointer task_data,
                                   GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        gint64 deadline_us = g_get_monotonic_time() + WATCH_GUARD_US;
        gboolean downtime_set = FALSE;
        virDomainJobInfo info;

        (void)source;
        (void)cancellable;
        for (;;) {
                if (g_atomic_int_get(job->finished)) {
                        g_task_return_boolean(task, TRUE);
                        return;
                }
                if (virDomainGetJobInfo(job->domain, &info) < 0) {
                        /* A move done at once takes a transient domain along. */
                        if (g_atomic_int_get(job->finished))
                                continue;
                        job_fail(task, "virDomainGetJobInfo");
                        return;
                }
                if (info.type == VIR_DOMAIN_JOB_UNBOUNDED && !downtime_set) {
                        watch_set_downtime(job);
                        downtime_set = TRUE;
                }
                if (info.type == VIR_DOMAIN_JOB_UNBOUNDED && info.memTotal > 0)
                        break;
                if (g_get_monotonic_time() > deadline_us) {
                        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                                "the migration did not start within %d s",
                                                (int)(WATCH_GUARD_US / G_USEC_PER_SEC));
                        return;
                }
                g_usleep(WATCH_INTERVAL_US);
        }
        job->running = TRUE;
        g_task_return_boolean(task, TRUE);
}

/**
 * vt_libvirt_migrate_progress_from_params:
 * @params: virDomainGetJobStats()'s or the JOB_COMPLETED event's figures
 * @n: how many
 * @progress: (inout): the figures found are written; the rest and
 *     @progress->status are left
 *
 * Any thread.
 */
void
vt_libvirt_migrate_progress_from_params(virTypedParameterPtr params, int n,
                                        VtMigrateProgress *progress)
{
        unsigned long long v, page_size = 4096;

        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_TOTAL, &v) == 1)
                progress->total_bytes = v;
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED, &v) == 1)
                progress->transferred_bytes = v;
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_REMAINING, &v) == 1)
                progress->remaining_bytes = v;
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION, &v) == 1)
                progress->pass = (guint)MIN(v, G_MAXUINT);
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_BPS, &v) == 1)
                progress->throughput = v;
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE, &v) == 1 && v > 0)
                page_size = v;
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, &v) == 1)
                progress->dirty_rate = v > G_MAXUINT64 / page_size ? G_MAXUINT64 : v * page_size;
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &v) == 1)
                progress->elapsed_us =
                    (gint64)MIN(v, (unsigned long long)(G_MAXINT64 / 1000)) * 1000;
        if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DOWNTIME, &v) == 1)
                progress->downtime_us =
                    (gint64)MIN(v, (unsigned long long)(G_MAXINT64 / 1000)) * 1000;
}

/* libvirt's job type as vmtide's status; NONE while the move is asked
 * for but its job not begun. */
static VtMigrateStatus
status_from_job_type(int type)
{
        switch (type) {
        case VIR_DOMAIN_JOB_BOUNDED:
        case VIR_DOMAIN_JOB_UNBOUNDED:
                return VT_MIGRATE_STATUS_ACTIVE;
        case VIR_DOMAIN_JOB_COMPLETED:
                return VT_MIGRATE_STATUS_COMPLETED;
        case VIR_DOMAIN_JOB_FAILED:
                return VT_MIGRATE_STATUS_FAILED;
        case VIR_DOMAIN_JOB_CANCELLED:
                return VT_MIGRATE_STATUS_CANCELLED;
        default:
                return VT_MIGRATE_STATUS_NONE;
        }
}

/* On the control worker: the job's statistics in @progress. */
void
vt_libvirt_guest_job_migrate_query(GTask *task, gpointer source, gpointer task_data,
                                   GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        virTypedParameterPtr params = NULL;
        int type = VIR_DOMAIN_JOB_NONE, n = 0, state, reason;

        (void)source;
        (void)cancellable;
        if (virDomainGetJobStats(job->domain, &type, &params, &n, 0) < 0) {
                job_fail(task, "virDomainGetJobStats");
                return;
        }
        job->progress.status = status_from_job_type(type);
        vt_libvirt_migrate_progress_from_params(params, n, &job->progress);
        virTypedParamsFree(params, n);
        /* QEMU stops the guest for the last copy: libvirt says why. */
        if (job->progress.status == VT_MIGRATE_STATUS_ACTIVE &&
            virDomainGetState(job->domain, &state, &reason, 0) == 0 && state == VIR_DOMAIN_PAUSED &&
            reason == VIR_DOMAIN_PAUSED_MIGRATION)
                job->progress.status = VT_MIGRATE_STATUS_STOPPED;
        g_task_return_boolean(task, TRUE);
}

/* On the control worker: the downtime limit, @downtime_limit_us. */
void
vt_libvirt_guest_job_migrate_downtime(GTask *task, gpointer source, gpointer task_data,
                                      GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;
        unsigned long long ms = ((unsigned long long)MAX(job->downtime_limit_us, 0) + 999) / 1000;

        (void)source;
        (void)cancellable;
        if (virDomainMigrateSetMaxDowntime(job->domain, ms, 0) < 0) {
                job_fail(task, "virDomainMigrateSetMaxDowntime");
                return;
        }
        g_task_return_boolean(task, TRUE);
}

/* On the control worker: the move aborted; the call then returns
 * VIR_ERR_OPERATION_ABORTED. A move that ended meanwhile is no error. */
void
vt_libvirt_guest_job_migrate_abort(GTask *task, gpointer source, gpointer task_data,
                                   GCancellable *cancellable)
{
        VtLibvirtGuestJob *job = task_data;

        (void)source;
        (void)cancellable;
        if (virDomainAbortJob(job->domain) < 0) {
                const virError *e = virGetLastError();

                if (e != NULL && e->code == VIR_ERR_OPERATION_INVALID) {
                        g_task_return_boolean(task, TRUE);
                        return;
                }
                job_fail(task, "virDomainAbortJob");
                return;
        }
        g_task_return_boolean(task, TRUE);
}
