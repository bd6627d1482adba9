/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One connection of the libvirt backend to libvirtd: opened, its events
 * registered and its domains listed on the backend's serial worker;
 * libvirt's callbacks handed to the backend; closed on the worker.
 *
 * Theory of operation: each connection has its own link
 * (#VtLibvirtLink), which libvirt's callbacks get as their opaque pointer.
 * Events count from the moment they are registered, before the listing,
 * so none falls between the listing and the taking of the connection
 * (what the listing shows again is not added twice). A callback whose link
 * no longer points to the backend (the connection failed or was dropped,
 * or the backend stopped) does nothing. The close callback may come on any
 * thread and is passed to the main context, where the backend
 * (host/libvirt/libvirt-backend.c) drops the connection and tries again.
 */
#include "host/libvirt/libvirt-backend-private.h"

#include <libvirt/virterror.h>
#include <stdlib.h>

#include "host/libvirt/libvirt-error.h"
#include "host/libvirt/libvirt-guest.h"
#include "host/libvirt/libvirt-metadata.h"

VtLibvirtLink *
vt_libvirt_link_new(VtBackendLibvirt *self)
{
        VtLibvirtLink *link = g_new0(VtLibvirtLink, 1);

        g_atomic_ref_count_init(&link->ref);
        link->backend = self;
        link->context = g_main_context_ref(self->context);
        return link;
}

VtLibvirtLink *
vt_libvirt_link_ref(VtLibvirtLink *link)
{
        g_atomic_ref_count_inc(&link->ref);
        return link;
}

/* Any thread: libvirt frees its callbacks' opaque pointers where it likes. */
void
vt_libvirt_link_unref(void *data)
{
        VtLibvirtLink *link = data;

        if (!g_atomic_ref_count_dec(&link->ref))
                return;
        g_main_context_unref(link->context);
        g_free(link);
}

static const char *
stopped_why(int detail)
{
        switch (detail) {
        case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
                return "shut down";
        case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
                return "destroyed";
        case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
                return "crashed";
        case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
                return "migrated away";
        case VIR_DOMAIN_EVENT_STOPPED_SAVED:
                return "saved";
        case VIR_DOMAIN_EVENT_STOPPED_FAILED:
                return "failed";
        case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT:
                return "reverted to a snapshot";
        default:
                return "stopped";
        }
}

/* libvirt's event loop (the main context) calls these. */
static int
on_lifecycle(virConnectPtr conn, virDomainPtr domain, int event, int detail, void *opaque)
{
        VtLibvirtLink *link = opaque;
        VtBackendLibvirt *self = link->backend;

        (void)conn;
        if (self == NULL || !self->running)
                return 0;
        switch (event) {
        case VIR_DOMAIN_EVENT_STARTED:
                /* An incoming migration is taken when it resumes. */
                if (detail != VIR_DOMAIN_EVENT_STARTED_MIGRATED)
                        vt_backend_libvirt_add(self, domain);
                break;
        case VIR_DOMAIN_EVENT_RESUMED:
                vt_backend_libvirt_add(self, domain);
                break;
        case VIR_DOMAIN_EVENT_STOPPED:
                vt_backend_libvirt_gone(self, domain, stopped_why(detail));
                break;
        /* CRASHED: the guest may well run on (kdump loaded, or a panic
         * with on_crash=preserve); STOPPED follows if it does not. */
        default:
                break;
        }
        return 0;
}

/* The guest an event is about; NULL once the backend stopped or for a
 * domain it does not follow. */
static VtGuestLibvirt *
link_guest(VtLibvirtLink *link, virDomainPtr domain)
{
        VtLibvirtEntry *entry;

        if (link->backend == NULL || !link->backend->running)
                return NULL;
        entry = vt_backend_libvirt_lookup(link->backend, domain);
        return entry != NULL ? VT_GUEST_LIBVIRT(entry->guest) : NULL;
}

static void
on_balloon_change(virConnectPtr conn, virDomainPtr domain, unsigned long long actual_kib,
                  void *opaque)
{
        VtGuestLibvirt *guest = link_guest(opaque, domain);

        (void)conn;
        if (guest != NULL)
                vt_guest_libvirt_balloon_changed(guest, actual_kib);
}

static void
on_metadata_change(virConnectPtr conn, virDomainPtr domain, int type, const char *nsuri,
                   void *opaque)
{
        VtGuestLibvirt *guest;

        (void)conn;
        if (type != VIR_DOMAIN_METADATA_ELEMENT || g_strcmp0(nsuri, VT_LIBVIRT_METADATA_URI) != 0)
                return;
        guest = link_guest(opaque, domain);
        if (guest != NULL)
                vt_guest_libvirt_reload_policy(guest);
}

/* A job's final figures: an outgoing migration's, with its downtime,
 * which the source cannot read once the domain has gone. Comes before the
 * lifecycle event that drops a migrated domain. */
static void
on_job_completed(virConnectPtr conn, virDomainPtr domain, virTypedParameterPtr params, int nparams,
                 void *opaque)
{
        VtGuestLibvirt *guest = link_guest(opaque, domain);

        (void)conn;
        if (guest != NULL)
                vt_guest_libvirt_job_completed(guest, params, nparams);
}

/* A virtio-mem device's plugged size changed (libvirt's own record
 * follows QEMU's MEMORY_DEVICE_SIZE_CHANGE). */
static void
on_memory_device_size_change(virConnectPtr conn, virDomainPtr domain, const char *alias,
                             unsigned long long size_kib, void *opaque)
{
        VtGuestLibvirt *guest = link_guest(opaque, domain);

        (void)conn;
        if (guest != NULL)
                vt_guest_libvirt_memdev_size_changed(guest, alias, size_kib);
}

static void on_close(virConnectPtr conn, int reason, void *opaque);

/* On a worker: deregisters what vmtided registered, then closes. The
 * callbacks hold references on the connection: without this it would
 * never be freed. On a dead connection the RPCs fail; the callbacks are
 * still removed locally. */
void
vt_libvirt_conn_close(VtLibvirtConn *c)
{
        for (guint i = 0; i < N_EVENTS; i++)
                if (c->event_ids[i] >= 0)
                        (void)virConnectDomainEventDeregisterAny(c->conn, c->event_ids[i]);
        if (c->close_registered)
                (void)virConnectUnregisterCloseCallback(c->conn, on_close);
        /* Freed for good once the guests let go of their domains. */
        virConnectClose(c->conn);
        vt_libvirt_link_unref(c->link);
        g_free(c);
}

static void
close_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        (void)source;
        (void)cancellable;
        vt_libvirt_conn_close(task_data);
        g_task_return_boolean(task, TRUE);
}

/* Closes @c on @worker; the task holds nothing of the backend's. */
void
vt_libvirt_conn_close_later(VtSerialWorker *worker, VtLibvirtConn *c)
{
        GTask *task = g_task_new(NULL, NULL, NULL, NULL);

        c->link->backend = NULL;
        g_task_set_task_data(task, c, NULL);
        vt_serial_worker_run(worker, task, close_thread);
}

static void
closed_free(gpointer data)
{
        VtLibvirtClosed *closed = data;

        vt_libvirt_link_unref(closed->link);
        g_free(closed);
}

/* Any thread: libvirt calls it where it notices. */
static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
        VtLibvirtLink *link = opaque;
        VtLibvirtClosed *closed = g_new0(VtLibvirtClosed, 1);
        GSource *source;

        (void)conn;
        g_atomic_int_set(&link->closed, TRUE);
        closed->link = vt_libvirt_link_ref(link);
        closed->reason = reason;
        /* Never at once: libvirt holds its lock while it calls this, and
         * this thread may not be the main loop's. */
        source = g_idle_source_new();
        g_source_set_priority(source, G_PRIORITY_DEFAULT);
        g_source_set_callback(source, vt_backend_libvirt_on_closed, closed, closed_free);
        g_source_attach(source, link->context);
        g_source_unref(source);
}

void
vt_libvirt_connect_job_free(VtLibvirtConnectJob *job)
{
        for (int i = 0; i < job->n_domains; i++)
                virDomainFree(job->domains[i]);
        free(job->domains);
        g_free(job->incoming);
        /* Not taken: closed on the worker by on_connected(); this is the
         * last resort. */
        if (job->conn != NULL)
                vt_libvirt_conn_close(job->conn);
        if (job->list != NULL)
                virConnectClose(job->list);
        if (job->link != NULL)
                vt_libvirt_link_unref(job->link);
        g_free(job->uri);
        g_free(job);
}

/* On the worker: the running domains, each marked when it is paused for
 * an incoming migration (taken only once it resumes, its memory here). */
static gboolean
list_domains(VtLibvirtConnectJob *job, virConnectPtr conn, GError **error)
{
        virDomainPtr *domains = NULL;
        int n = virConnectListAllDomains(conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

        if (n < 0) {
                vt_libvirt_set_error(error, "virConnectListAllDomains");
                return FALSE;
        }
        job->domains = domains;
        job->n_domains = n;
        job->incoming = g_new0(gboolean, MAX(n, 1));
        for (int i = 0; i < n; i++) {
                int state = 0, reason = 0;

                job->incoming[i] = virDomainGetState(domains[i], &state, &reason, 0) == 0 &&
                                   state == VIR_DOMAIN_PAUSED &&
                                   reason == VIR_DOMAIN_PAUSED_MIGRATION;
        }
        return TRUE;
}

void
vt_libvirt_connect_thread(GTask *task, gpointer source, gpointer task_data,
                          GCancellable *cancellable)
{
        VtLibvirtConnectJob *job = task_data;
        g_autoptr(GError) error = NULL;
        static const struct {
                int id;
                virConnectDomainEventGenericCallback callback;
        } events[N_EVENTS] = {
            {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle)},
            {VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon_change)},
            {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata_change)},
            {VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(on_job_completed)},
            {VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
             VIR_DOMAIN_EVENT_CALLBACK(on_memory_device_size_change)},
        };
        virConnectPtr conn;
        VtLibvirtConn *c;

        (void)source;
        (void)cancellable;
        conn = virConnectOpen(job->uri);
        if (conn == NULL) {
                vt_libvirt_set_error(&error, "virConnectOpen");
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        c = g_new0(VtLibvirtConn, 1);
        c->conn = conn;
        c->link = vt_libvirt_link_ref(job->link);
        for (guint i = 0; i < N_EVENTS; i++)
                c->event_ids[i] = -1;
        /* Not every driver has keepalive (test:///, local drivers). */
        (void)virConnectSetKeepAlive(conn, VT_BACKEND_LIBVIRT_KEEPALIVE_INTERVAL_S,
                                     VT_BACKEND_LIBVIRT_KEEPALIVE_COUNT);
        /* The close callback borrows the VtLibvirtConn's own reference to the link:
         * vt_libvirt_conn_close() unregisters it before letting go. (Drivers without
         * close callbacks, test:/// and the local ones, accept it and never
         * call a free function.) */
        if (virConnectRegisterCloseCallback(conn, on_close, c->link, NULL) == 0) {
                c->close_registered = TRUE;
        } else {
                vt_libvirt_set_error(&error, "virConnectRegisterCloseCallback");
                g_debug("libvirt: %s", error->message);
                g_clear_error(&error);
        }
        for (guint i = 0; i < N_EVENTS && error == NULL; i++) {
                c->event_ids[i] = virConnectDomainEventRegisterAny(
                    conn, NULL, events[i].id, events[i].callback, vt_libvirt_link_ref(job->link),
                    vt_libvirt_link_unref);
                if (c->event_ids[i] < 0) {
                        vt_libvirt_link_unref(job->link);
                        vt_libvirt_set_error(&error, "virConnectDomainEventRegisterAny");
                }
        }
        if (error == NULL)
                list_domains(job, conn, &error);
        if (error != NULL) {
                vt_libvirt_conn_close(c);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        job->conn = c;
        g_task_return_boolean(task, TRUE);
}

void
vt_libvirt_list_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        g_autoptr(GError) error = NULL;

        (void)source;
        (void)cancellable;
        if (!list_domains(task_data, ((VtLibvirtConnectJob *)task_data)->list, &error))
                g_task_return_error(task, g_steal_pointer(&error));
        else
                g_task_return_boolean(task, TRUE);
}
