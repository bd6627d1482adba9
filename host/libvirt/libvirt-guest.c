/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest that is a libvirt domain, driven through libvirt's API: libvirt
 * keeps its own books on the domain's memory, and a raw QMP command would
 * taint the domain and leave those books wrong.
 *
 * Theory of operation: every libvirt call blocks on libvirtd, so each
 * guest runs its calls on its own serial worker (host/libvirt/libvirt-worker.c):
 * the main loop never waits, a hung domain stalls only itself, and a
 * guest's calls never overtake each other. A job (host/libvirt/
 * libvirt-guest-job.c) works on its own reference to the domain and
 * returns plain data, which the main thread applies here.
 *
 * Start reads, in one job:
 *
 *   virDomainGetXMLDesc       the boot memory, the balloon device and its
 *                             statistics period, the agent's channel
 *                             (host/libvirt/libvirt-domain.c)
 *   virDomainGetMetadata      vmtide's policy element, if any
 *   virDomainSetMemoryStatsPeriod
 *                             when the domain has no period of its own
 *   virDomainMemoryStats      the balloon's size (query-balloon inside
 *                             libvirt) and the guest's statistics
 *   the QEMU pid              host/libvirt/libvirt-pid.c, local URIs only
 *
 * A refresh is virDomainMemoryStats, and virDomainGetXMLDesc for a domain
 * with a virtio-mem device (host/libvirt/libvirt-guest-memdev.c). A move is
 * virDomainSetMemoryFlags( VIR_DOMAIN_AFFECT_LIVE); while it is under way the base class polls
 * (host/guest/guest-balloon.c), and a poll here is virDomainMemoryStats
 * too, since QEMU's BALLOON_CHANGE (which the backend passes on through
 * vt_guest_libvirt_balloon_changed()) comes at most once a second.
 *
 * The backend owns the connection: it sets the domain to %NULL while
 * libvirtd is unreachable (the guest is then unreachable and its calls
 * fail at once) and gives the new connection's domain once it is back.
 * A call that finds the domain gone makes the guest "gone".
 */
#include "host/libvirt/libvirt-guest.h"

#include "host/libvirt/libvirt-error.h"
#include "host/libvirt/libvirt-guest-job.h"
#include "host/libvirt/libvirt-guest-private.h"
#include "host/libvirt/libvirt-metadata.h"
#include "host/libvirt/libvirt-worker.h"
#include "qmp/qmp-error.h"

G_DEFINE_FINAL_TYPE(VtGuestLibvirt, vt_guest_libvirt, VT_TYPE_GUEST)

static const char *
guest_name(VtGuestLibvirt *self)
{
        return vt_guest_get_name(VT_GUEST(self));
}

/**
 * vt_guest_libvirt_job_task_new:
 * @self: a guest
 * @source_tag: the operation's tag
 * @callback: called on the guest's context when the job is done
 * @user_data: for @callback
 * @ret_job: (out): the job to fill and run; %NULL with the task
 *
 * Returns: (transfer full) (nullable): a task whose data is a new job on
 *     the guest's domain; %NULL while libvirtd is unreachable, @callback
 *     then getting %VT_LIBVIRT_ERROR_DISCONNECTED
 */
GTask *
vt_guest_libvirt_job_task_new(VtGuestLibvirt *self, gpointer source_tag,
                              GAsyncReadyCallback callback, gpointer user_data,
                              VtLibvirtGuestJob **ret_job)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);
        VtLibvirtGuestJob *job;

        g_task_set_source_tag(task, source_tag);
        *ret_job = NULL;
        if (self->domain == NULL) {
                g_task_return_new_error(task, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_DISCONNECTED,
                                        "guest '%s': libvirtd is unreachable", guest_name(self));
                g_object_unref(task);
                return NULL;
        }
        job = g_new0(VtLibvirtGuestJob, 1);
        virDomainRef(self->domain);
        job->domain = self->domain;
        job->name = g_strdup(guest_name(self));
        job->uuid = g_strdup(self->uuid);
        g_task_set_task_data(task, job, (GDestroyNotify)vt_libvirt_guest_job_free);
        *ret_job = job;
        return task;
}

/* The caller's task (tagged @source_tag, for @callback) and, as for
 * vt_guest_libvirt_job_task_new(), a job task whose @on_done completes it. */
static GTask *
job_task_new_for(VtGuestLibvirt *self, gpointer source_tag, GAsyncReadyCallback callback,
                 gpointer user_data, GAsyncReadyCallback on_done, VtLibvirtGuestJob **ret_job)
{
        GTask *outer = g_task_new(self, NULL, callback, user_data);

        g_task_set_source_tag(outer, source_tag);
        return vt_guest_libvirt_job_task_new(self, source_tag, on_done, outer, ret_job);
}

/* Applies what a read of the metadata found. */
static void
guest_apply_metadata(VtGuestLibvirt *self, const VtLibvirtGuestJob *job)
{
        VtLibvirtPolicy policy = {0};
        g_autoptr(GError) error = NULL;

        if (!job->has_metadata) {
                vt_guest_set_stored_policy(VT_GUEST(self), NULL, FALSE);
                return;
        }
        if (!vt_libvirt_policy_parse(job->metadata, &policy, &error)) {
                /* The domain's own element is wrong: the configuration's
                 * policy applies until it is fixed. */
                g_warning("guest '%s': ignoring its vmtide metadata: %s", guest_name(self),
                          error->message);
                vt_guest_set_stored_policy(VT_GUEST(self), NULL, FALSE);
                return;
        }
        vt_guest_set_stored_policy(VT_GUEST(self), &policy.balloon, policy.ksm_opt_out);
}

static void
guest_apply_memory_stats(VtGuestLibvirt *self, const VtLibvirtGuestJob *job)
{
        if (!job->has_memory_stats)
                return;
        if (job->stats.updated_us != 0)
                vt_guest_update_stats(VT_GUEST(self), &job->stats);
        if (job->actual_bytes != 0)
                vt_guest_update_balloon(VT_GUEST(self), job->actual_bytes, g_get_monotonic_time());
}

static void
guest_on_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        VtGuest *guest = VT_GUEST(self);
        g_autoptr(GTask) task = user_data;
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;

        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        vt_guest_set_max_bytes(guest, job->info.max_bytes);
        self->balloon_device = job->info.has_balloon;
        vt_guest_set_has_balloon(guest, job->info.has_balloon);
        if (job->info.has_balloon) {
                guest_apply_memory_stats(self, job);
                /* No statistics yet: libvirt's view of the balloon, which
                 * may count the memory devices too (a domain without
                 * <currentMemory>): QEMU's balloon never exceeds boot memory. */
                if (vt_guest_get_actual_bytes(guest) == 0 && job->info.current_bytes != 0)
                        vt_guest_update_balloon(guest,
                                                MIN(job->info.current_bytes, job->info.max_bytes),
                                                g_get_monotonic_time());
        }
        if (job->period_error != NULL)
                g_message("guest '%s': balloon statistics not enabled: %s", guest_name(self),
                          job->period_error);
        if (job->info.agent_problem != NULL)
                g_message("guest '%s': agent channel not usable: %s", guest_name(self),
                          job->info.agent_problem);
        vt_guest_libvirt_apply_memdev(self, &job->info, self->memdev_events);
        vt_guest_set_pid(guest, job->pid);
        vt_guest_set_agent_path(guest, job->info.agent_path);
        guest_apply_metadata(self, job);
        g_task_return_boolean(task, TRUE);
}

static void
guest_libvirt_start_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        GTask *task;
        VtLibvirtGuestJob *job;

        task = job_task_new_for(self, guest_libvirt_start_async, callback, user_data,
                                guest_on_started, &job);
        if (task == NULL)
                return;
        job->pid_dir = g_strdup(self->pid_dir);
        job->stats_interval_s = self->stats_interval_s;
        vt_serial_worker_run(self->worker, task, vt_libvirt_guest_job_start);
}

/**
 * vt_guest_libvirt_read_worker:
 * @self: a guest
 *
 * Returns: (transfer none): where a statistics read goes: the guest's
 *     worker, or its control worker while a migration holds the former
 *     (libvirt lets queries through during a migration job)
 */
VtSerialWorker *
vt_guest_libvirt_read_worker(VtGuestLibvirt *self)
{
        return self->migrating ? self->control : self->worker;
}

/* The finish of every operation that returns a plain boolean task. */
static gboolean
guest_libvirt_task_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        (void)guest;
        return g_task_propagate_boolean(G_TASK(result), error);
}

/* A domain that vanished during a call is gone. */
static void
guest_check_gone(VtGuestLibvirt *self, const GError *error)
{
        g_autoptr(GError) gone = NULL;

        if (!g_error_matches(error, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_NO_DOMAIN) || self->stopped)
                return;
        /* Usually before libvirt's lifecycle event says how. */
        gone = g_error_new(VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_NO_DOMAIN, "the domain is gone (%s)",
                           error->message);
        vt_guest_emit_gone(VT_GUEST(self), gone);
}

/**
 * vt_guest_libvirt_job_failed:
 * @self: a guest
 * @result: a job's result
 * @task: the operation the job was for
 *
 * Returns: %TRUE when the job failed: @task then failed with its error
 *     (and the guest is gone if its domain is); %FALSE when it succeeded
 */
gboolean
vt_guest_libvirt_job_failed(VtGuestLibvirt *self, GAsyncResult *result, GTask *task)
{
        g_autoptr(GError) error = NULL;

        if (g_task_propagate_boolean(G_TASK(result), &error))
                return FALSE;
        guest_check_gone(self, error);
        g_task_return_error(task, g_steal_pointer(&error));
        return TRUE;
}

/* A statistics read done (a refresh or a poll), with the virtio-mem
 * device when a refresh read it: applied, or the error. */
static void
guest_on_stats_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        g_autoptr(GTask) task = user_data;
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));

        if (vt_guest_libvirt_job_failed(self, result, task))
                return;
        if (!self->stopped) {
                guest_apply_memory_stats(self, job);
                if (job->has_info)
                        vt_guest_libvirt_apply_memdev(self, &job->info, job->memdev_events);
        }
        g_task_return_boolean(task, TRUE);
}

static void
guest_libvirt_refresh_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        GTask *outer = g_task_new(guest, NULL, callback, user_data);
        GTask *task;
        VtLibvirtGuestJob *job;

        g_task_set_source_tag(outer, guest_libvirt_refresh_async);
        /* A balloon refused for want of a driver is read again: the
         * driver may have loaded since. The virtio-mem device is read from
         * the XML: its size-change events may have been missed (libvirtd
         * restarted). */
        if (!self->balloon_device && !self->memdev.present) {
                g_task_return_boolean(outer, TRUE);
                g_object_unref(outer);
                return;
        }
        task = vt_guest_libvirt_job_task_new(self, guest_libvirt_refresh_async, guest_on_stats_read,
                                             outer, &job);
        if (task == NULL)
                return;
        job->read_balloon = self->balloon_device;
        job->read_memdev = self->memdev.present;
        job->memdev_events = self->memdev_events;
        vt_serial_worker_run(vt_guest_libvirt_read_worker(self), task,
                             vt_libvirt_guest_job_refresh);
}

/* A poll while a move is under way: libvirt runs query-balloon for it. */
static void
guest_libvirt_poll_balloon_async(VtGuest *guest, GAsyncReadyCallback callback, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        GTask *task;
        VtLibvirtGuestJob *job;

        task = job_task_new_for(self, guest_libvirt_poll_balloon_async, callback, user_data,
                                guest_on_stats_read, &job);
        if (task != NULL)
                vt_serial_worker_run(vt_guest_libvirt_read_worker(self), task,
                                     vt_libvirt_guest_job_read_stats);
}

static void
guest_on_memory_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        g_autoptr(GTask) task = user_data;

        if (vt_guest_libvirt_job_failed(self, result, task))
                return;
        g_task_return_boolean(task, TRUE);
}

/* A change to the domain waits for libvirt's migration job (and fails
 * after 30 s): refused at once while the guest migrates. */
static gboolean
guest_refuse_while_migrating(VtGuestLibvirt *self, gpointer source_tag,
                             GAsyncReadyCallback callback, gpointer user_data)
{
        if (!self->migrating)
                return FALSE;
        g_task_report_new_error(self, callback, user_data, source_tag, G_IO_ERROR, G_IO_ERROR_BUSY,
                                "guest '%s' is migrating", guest_name(self));
        return TRUE;
}

static void
guest_libvirt_set_balloon_async(VtGuest *guest, guint64 bytes, GAsyncReadyCallback callback,
                                gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        GTask *task;
        VtLibvirtGuestJob *job;

        if (guest_refuse_while_migrating(self, guest_libvirt_set_balloon_async, callback,
                                         user_data))
                return;
        task = job_task_new_for(self, guest_libvirt_set_balloon_async, callback, user_data,
                                guest_on_memory_set, &job);
        if (task == NULL)
                return;
        /* libvirt counts KiB; round up, so a give is never short. */
        job->set_kib = bytes / 1024 + (bytes % 1024 != 0);
        vt_serial_worker_run(self->worker, task, vt_libvirt_guest_job_set_memory);
}

static gboolean
guest_libvirt_set_balloon_finish(VtGuest *guest, GAsyncResult *result, GError **error)
{
        g_autoptr(GError) local = NULL;

        (void)guest;
        if (g_task_propagate_boolean(G_TASK(result), &local))
                return TRUE;
        /* The base class knows QMP's code for a balloon that is not there. */
        if (g_error_matches(local, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_NO_BALLOON)) {
                g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE,
                                    local->message);
                return FALSE;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
}

static void
guest_on_metadata(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;

        (void)user_data;
        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                g_message("guest '%s': cannot read its vmtide metadata: %s", guest_name(self),
                          error->message);
                guest_check_gone(self, error);
                return;
        }
        /* The worker runs jobs in order: this is the latest read yet. */
        if (!self->stopped)
                guest_apply_metadata(self, job);
}

static void
guest_on_stored(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(source);
        g_autoptr(GTask) task = user_data;
        VtLibvirtGuestJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;

        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                guest_check_gone(self, error);
                g_prefix_error(&error, "guest '%s': ", guest_name(self));
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (!self->stopped)
                guest_apply_metadata(self, job);
        g_task_return_boolean(task, TRUE);
}

static void
guest_libvirt_store_policy_async(VtGuest *guest, const VtBalloonGuestConfig *balloon,
                                 gboolean ksm_opt_out, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);
        VtLibvirtPolicy policy = {.balloon = *balloon, .ksm_opt_out = ksm_opt_out};
        GTask *task;
        VtLibvirtGuestJob *job;

        if (guest_refuse_while_migrating(self, guest_libvirt_store_policy_async, callback,
                                         user_data))
                return;
        task = job_task_new_for(self, guest_libvirt_store_policy_async, callback, user_data,
                                guest_on_stored, &job);
        if (task == NULL)
                return;
        job->policy_xml = vt_libvirt_policy_format(&policy);
        vt_serial_worker_run(self->worker, task, vt_libvirt_guest_job_store_policy);
}

static void
guest_libvirt_stop(VtGuest *guest)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(guest);

        if (self->stopped)
                return;
        self->stopped = TRUE;
}

/**
 * vt_guest_libvirt_new:
 * @domain: a running domain (a reference is taken)
 * @pid_dir: (nullable): where libvirt keeps its QEMU pid files
 *     (vt_libvirt_pid_dir_for_uri()); %NULL: the domain is not local
 * @stats_interval_s: the balloon statistics period to set on a domain
 *     that has none (0: leave it)
 *
 * Returns: (transfer full): a guest named after the domain, bound to the
 *     thread-default main context; call vt_guest_start_async()
 */
VtGuest *
vt_guest_libvirt_new(virDomainPtr domain, const char *pid_dir, guint stats_interval_s)
{
        char uuid[VIR_UUID_STRING_BUFLEN];
        VtGuestLibvirt *self;
        const char *name;

        g_return_val_if_fail(domain != NULL, NULL);

        name = virDomainGetName(domain);
        if (name == NULL || virDomainGetUUIDString(domain, uuid) < 0)
                return NULL;
        self = g_object_new(VT_TYPE_GUEST_LIBVIRT, "name", name, NULL);
        virDomainRef(domain);
        self->domain = domain;
        self->uuid = g_strdup(uuid);
        self->domain_id = virDomainGetID(domain);
        self->pid_dir = g_strdup(pid_dir);
        self->stats_interval_s = stats_interval_s;
        return VT_GUEST(self);
}

/**
 * vt_guest_libvirt_get_uuid:
 * @guest: a guest
 *
 * Returns: its domain's UUID string
 */
const char *
vt_guest_libvirt_get_uuid(VtGuestLibvirt *guest)
{
        g_return_val_if_fail(VT_IS_GUEST_LIBVIRT(guest), NULL);
        return guest->uuid;
}

/**
 * vt_guest_libvirt_set_domain:
 * @guest: a guest
 * @domain: (nullable): its domain on the current connection (a reference
 *     is taken); %NULL while libvirtd is unreachable
 *
 * For the backend. An unreachable guest keeps its last state; calls fail
 * at once with %VT_LIBVIRT_ERROR_DISCONNECTED.
 */
void
vt_guest_libvirt_set_domain(VtGuestLibvirt *guest, virDomainPtr domain)
{
        gboolean was_unreachable;

        g_return_if_fail(VT_IS_GUEST_LIBVIRT(guest));

        was_unreachable = guest->domain == NULL;
        if (domain != NULL)
                virDomainRef(domain);
        if (guest->domain != NULL)
                virDomainFree(guest->domain);
        guest->domain = domain;
        vt_guest_set_reachable(VT_GUEST(guest), domain != NULL);
        if (domain == NULL || !was_unreachable || guest->stopped)
                return;
        /* Back: what changed meanwhile came without events. */
        vt_guest_libvirt_reload_policy(guest);
        vt_guest_resume_polling(VT_GUEST(guest));
}

/**
 * vt_guest_libvirt_get_domain_id:
 * @guest: a guest
 *
 * Returns: the domain's id when the guest was made: another id for the
 *     same UUID is another run of the domain (a new QEMU)
 */
unsigned int
vt_guest_libvirt_get_domain_id(VtGuestLibvirt *guest)
{
        g_return_val_if_fail(VT_IS_GUEST_LIBVIRT(guest), 0);
        return guest->domain_id;
}

/**
 * vt_guest_libvirt_balloon_changed:
 * @guest: a guest
 * @actual_kib: the balloon's size from libvirt's BALLOON_CHANGE event
 *
 * For the backend.
 */
void
vt_guest_libvirt_balloon_changed(VtGuestLibvirt *guest, guint64 actual_kib)
{
        g_return_if_fail(VT_IS_GUEST_LIBVIRT(guest));

        if (guest->stopped || !vt_guest_is_started(VT_GUEST(guest)) || actual_kib == 0 ||
            actual_kib > G_MAXUINT64 / 1024)
                return;
        vt_guest_update_balloon(VT_GUEST(guest), actual_kib * 1024, g_get_monotonic_time());
}

/**
 * vt_guest_libvirt_reload_policy:
 * @guest: a guest
 *
 * For the backend, on a METADATA_CHANGE event: reads vmtide's element of
 * the domain's metadata again ("policy-changed" if it changed).
 */
void
vt_guest_libvirt_reload_policy(VtGuestLibvirt *guest)
{
        GTask *task;
        VtLibvirtGuestJob *job;

        g_return_if_fail(VT_IS_GUEST_LIBVIRT(guest));

        if (guest->stopped)
                return;
        task = vt_guest_libvirt_job_task_new(guest, vt_guest_libvirt_reload_policy,
                                             guest_on_metadata, NULL, &job);
        if (task == NULL)
                return;
        vt_serial_worker_run(guest->worker, task, vt_libvirt_guest_job_read_metadata);
}

/**
 * vt_guest_libvirt_stopped:
 * @guest: a guest
 * @why: what became of the domain ("destroyed", "shut down", ...)
 *
 * For the backend, on a lifecycle event: the domain no longer runs. The
 * guest is "gone".
 */
void
vt_guest_libvirt_stopped(VtGuestLibvirt *guest, const char *why)
{
        g_autoptr(GError) error = NULL;

        g_return_if_fail(VT_IS_GUEST_LIBVIRT(guest));

        error = g_error_new(VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_NO_DOMAIN, "domain %s", why);
        vt_guest_emit_gone(VT_GUEST(guest), error);
}

static void
vt_guest_libvirt_dispose(GObject *object)
{
        vt_guest_stop(VT_GUEST(object));
        G_OBJECT_CLASS(vt_guest_libvirt_parent_class)->dispose(object);
}

static void
vt_guest_libvirt_finalize(GObject *object)
{
        VtGuestLibvirt *self = VT_GUEST_LIBVIRT(object);

        /* Jobs hold the guest: none is left by now. */
        vt_serial_worker_free(self->worker);
        vt_serial_worker_free(self->control);
        if (self->domain != NULL)
                virDomainFree(self->domain);
        g_free(self->uuid);
        g_free(self->pid_dir);
        vt_libvirt_memdev_clear(&self->memdev);
        g_free(self->memdev_notes);
        g_main_context_unref(self->context);
        G_OBJECT_CLASS(vt_guest_libvirt_parent_class)->finalize(object);
}

static void
vt_guest_libvirt_init(VtGuestLibvirt *self)
{
        self->context = g_main_context_ref_thread_default();
        self->worker = vt_serial_worker_new();
        self->control = vt_serial_worker_new();
}

static void
vt_guest_libvirt_class_init(VtGuestLibvirtClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);
        VtGuestClass *guest_class = VT_GUEST_CLASS(klass);

        object_class->dispose = vt_guest_libvirt_dispose;
        object_class->finalize = vt_guest_libvirt_finalize;

        guest_class->start_async = guest_libvirt_start_async;
        guest_class->start_finish = guest_libvirt_task_finish;
        guest_class->refresh_async = guest_libvirt_refresh_async;
        guest_class->refresh_finish = guest_libvirt_task_finish;
        guest_class->set_balloon_async = guest_libvirt_set_balloon_async;
        guest_class->set_balloon_finish = guest_libvirt_set_balloon_finish;
        guest_class->stop = guest_libvirt_stop;
        guest_class->store_policy_async = guest_libvirt_store_policy_async;
        guest_class->store_policy_finish = guest_libvirt_task_finish;
        guest_class->poll_balloon_async = guest_libvirt_poll_balloon_async;
        guest_class->poll_balloon_finish = guest_libvirt_task_finish;
        vt_guest_libvirt_migrate_class_init(guest_class);
        vt_guest_libvirt_memdev_class_init(guest_class);
}
