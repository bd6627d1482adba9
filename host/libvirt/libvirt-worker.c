/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Blocking calls (libvirt's API) run one at a time, in the order asked,
 * on a thread of GLib's shared pool, so that the main loop never waits on
 * libvirtd and calls on one guest never overtake each other.
 *
 * Theory of operation: a worker is a GThreadPool of at most one thread,
 * not exclusive (idle threads go back to GLib's shared pool, so a worker
 * per guest costs no thread while idle). A job is a GTask and the function
 * to run on it: the function returns the task's result from the thread,
 * and GTask brings the callback back to the task's main context.
 *
 * The worker's own reference to a task is dropped on the task's context
 * too, never on the thread: the last reference to a task may hold the last
 * reference to its source object (a guest), whose disposal frees workers,
 * which must not happen on a worker's thread.
 *
 * Rule for users: a task's source object owns the worker (or keeps its
 * owner alive), so no job is queued or running when the worker is freed;
 * vt_serial_worker_free() still waits for one, to be safe.
 */
#include "host/libvirt/libvirt-worker.h"

struct _VtSerialWorker {
        GThreadPool *pool;
};

typedef struct {
        GTask *task;
        GTaskThreadFunc func;
} Job;

static gboolean
job_unref_task(gpointer user_data)
{
        g_object_unref(user_data);
        return G_SOURCE_REMOVE;
}

static void
worker_run_job(gpointer data, gpointer user_data)
{
        Job *job = data;
        GTask *task = job->task;
        GSource *source;

        (void)user_data;
        job->func(task, g_task_get_source_object(task), g_task_get_task_data(task),
                  g_task_get_cancellable(task));
        source = g_idle_source_new();
        g_source_set_callback(source, job_unref_task, task, NULL);
        g_source_attach(source, g_task_get_context(task));
        g_source_unref(source);
        g_free(job);
}

/**
 * vt_serial_worker_new:
 *
 * Returns: (transfer full): a worker with no job
 */
VtSerialWorker *
vt_serial_worker_new(void)
{
        VtSerialWorker *worker = g_new0(VtSerialWorker, 1);

        /* Never fails for a shared pool. */
        worker->pool = g_thread_pool_new(worker_run_job, NULL, 1, FALSE, NULL);
        return worker;
}

/**
 * vt_serial_worker_run:
 * @worker: a worker
 * @task: (transfer full): the job's task
 * @func: runs on the worker's thread after every job asked before; it
 *     must return @task's result (g_task_return_*())
 *
 * @task's callback runs on its main context, as usual.
 */
void
vt_serial_worker_run(VtSerialWorker *worker, GTask *task, GTaskThreadFunc func)
{
        Job *job;

        g_return_if_fail(worker != NULL);
        g_return_if_fail(G_IS_TASK(task));
        g_return_if_fail(func != NULL);

        job = g_new0(Job, 1);
        job->task = task;
        job->func = func;
        g_thread_pool_push(worker->pool, job, NULL);
}

/**
 * vt_serial_worker_free:
 * @worker: (nullable): a worker, freed from its main context (never from
 *     one of its jobs)
 *
 * Waits for the job running, if any, and all those queued.
 */
void
vt_serial_worker_free(VtSerialWorker *worker)
{
        if (worker == NULL)
                return;
        g_thread_pool_free(worker->pool, FALSE, TRUE);
        g_free(worker);
}
