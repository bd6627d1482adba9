/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt backend: guests are the running domains of a libvirt
 * connection (`[libvirt] uri`, default qemu:///system), driven through
 * libvirt's API (host/libvirt/libvirt-guest.c).
 *
 * Theory of operation: libvirt-glib's gvir_event_register() runs libvirt's
 * event loop on GLib's default main context, so domain events and
 * keepalive probes are handled by vmtided's own loop. Blocking calls
 * (connecting, listing) run on the backend's serial worker.
 *
 * Connecting opens the connection, turns keepalive on, registers for
 * lifecycle, BALLOON_CHANGE and METADATA_CHANGE events and for the
 * connection's close, then lists the running domains. The main thread
 * then reconciles (by UUID) what the listing shows with the guests it
 * follows:
 *
 * - a domain not followed yet: a new guest, announced with "guest-added";
 * - a guest followed: it gets the new connection's domain back;
 * - a guest not listed, and followed since before the listing was asked
 *   for: its domain stopped unseen; the guest is gone.
 *
 * After that, events keep the set: a domain started (or resumed: an
 * incoming migration is taken when it resumes, once its memory is there)
 * is added; one stopped (shut down, destroyed, crashed, migrated away,
 * saved) or crashed is gone; a guest whose calls find the domain gone is
 * gone too. A gone guest is announced with "guest-removed".
 *
 * When libvirtd goes away (its socket closes, or keepalive gives up), the
 * guests stay, with their last state, unreachable (the policy leaves them
 * alone) while their agents keep reporting: the agent channel is QEMU's,
 * not libvirtd's. Connecting is tried again after VT_BACKEND_LIBVIRT_
 * RETRY_MIN_US, doubling to _MAX_US, and the reconciliation above brings
 * every guest back. "connection-changed" tells the daemon each change
 * (and the first failure of a spell).
 *
 * A connection, its callbacks and its close are in
 * host/libvirt/libvirt-connection.c.
 *
 * Every signal is emitted from an idle source, in the order the changes
 * were seen, never from within a call the daemon made.
 */
#include "host/libvirt/libvirt-backend-private.h"

#include <libvirt-glib/libvirt-glib.h>

#include "host/libvirt/libvirt-error.h"
#include "host/libvirt/libvirt-guest.h"
#include "host/libvirt/libvirt-pid.h"

static void backend_libvirt_iface_init(VtBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(VtBackendLibvirt, vt_backend_libvirt, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(VT_TYPE_BACKEND, backend_libvirt_iface_init))

static void backend_connect(VtBackendLibvirt *self);

static void
entry_free(VtLibvirtEntry *entry)
{
        g_clear_signal_handler(&entry->gone_id, entry->guest);
        g_clear_object(&entry->guest);
        g_free(entry);
}

static void
backend_notify(VtBackendLibvirt *self, gboolean added, VtGuest *guest)
{
        vt_backend_announcer_push(self->announcer, added, guest);
}

static void
on_guest_gone(VtGuest *guest, gpointer error, gpointer user_data)
{
        VtLibvirtEntry *entry = user_data;
        VtBackendLibvirt *self = entry->self;
        const char *uuid = vt_guest_libvirt_get_uuid(VT_GUEST_LIBVIRT(guest));
        const GError *why = error;

        /* A domain that cannot be started on (unreadable XML, say) is
         * said once and left alone until its next run, instead of being
         * tried at every listing. libvirtd going away is not its fault. */
        if (!vt_guest_is_started(guest) &&
            !g_error_matches(why, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_DISCONNECTED) &&
            !g_error_matches(why, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_NO_DOMAIN)) {
                g_warning("libvirt: domain '%s' cannot be managed: %s; left alone until it "
                          "runs again",
                          vt_guest_get_name(guest), why != NULL ? why->message : "unknown error");
                g_hash_table_insert(
                    self->refused, g_strdup(uuid),
                    GUINT_TO_POINTER(vt_guest_libvirt_get_domain_id(VT_GUEST_LIBVIRT(guest))));
        }
        backend_notify(self, FALSE, guest);
        /* Frees the entry, and disconnects this handler. */
        g_hash_table_remove(self->entries, uuid);
}

void
vt_backend_libvirt_add(VtBackendLibvirt *self, virDomainPtr domain)
{
        char uuid[VIR_UUID_STRING_BUFLEN];
        VtLibvirtEntry *entry;
        VtGuest *guest;

        if (virDomainGetUUIDString(domain, uuid) < 0 || g_hash_table_contains(self->entries, uuid))
                return;
        if (g_hash_table_contains(self->refused, uuid)) {
                if (GPOINTER_TO_UINT(g_hash_table_lookup(self->refused, uuid)) ==
                    (guint)virDomainGetID(domain))
                        return;
                g_hash_table_remove(self->refused, uuid);
        }
        guest = vt_guest_libvirt_new(domain, self->pid_dir, self->stats_interval_s);
        if (guest == NULL)
                return;
        entry = g_new0(VtLibvirtEntry, 1);
        entry->self = self;
        entry->guest = guest;
        entry->born = self->list_serial;
        entry->gone_id = g_signal_connect(guest, "gone", G_CALLBACK(on_guest_gone), entry);
        g_hash_table_insert(self->entries, g_strdup(uuid), entry);
        g_debug("libvirt: domain '%s' (%s) found", vt_guest_get_name(guest), uuid);
        backend_notify(self, TRUE, guest);
}

VtLibvirtEntry *
vt_backend_libvirt_lookup(VtBackendLibvirt *self, virDomainPtr domain)
{
        char uuid[VIR_UUID_STRING_BUFLEN];

        if (virDomainGetUUIDString(domain, uuid) < 0)
                return NULL;
        return g_hash_table_lookup(self->entries, uuid);
}

void
vt_backend_libvirt_gone(VtBackendLibvirt *self, virDomainPtr domain, const char *why)
{
        VtLibvirtEntry *entry = vt_backend_libvirt_lookup(self, domain);

        if (entry == NULL)
                return;
        g_debug("libvirt: domain '%s' %s", vt_guest_get_name(entry->guest), why);
        /* "gone" removes the entry. */
        vt_guest_libvirt_stopped(VT_GUEST_LIBVIRT(entry->guest), why);
}

/* What the listing found, against what is followed. @incoming: per
 * domain, paused for an incoming migration (not taken yet). @serial: the
 * listing's; guests added since are not judged by it. */
static void
backend_reconcile(VtBackendLibvirt *self, virDomainPtr *domains, const gboolean *incoming, int n,
                  guint64 serial)
{
        g_autoptr(GHashTable) listed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) vanished = g_ptr_array_new_with_free_func(g_object_unref);
        g_autoptr(GPtrArray) restarted = g_ptr_array_new_with_free_func(g_object_unref);
        GHashTableIter iter;
        gpointer key, value;

        for (int i = 0; i < n; i++) {
                char uuid[VIR_UUID_STRING_BUFLEN];
                VtLibvirtEntry *entry;

                if (virDomainGetUUIDString(domains[i], uuid) < 0)
                        continue;
                g_hash_table_add(listed, g_strdup(uuid));
                entry = g_hash_table_lookup(self->entries, uuid);
                if (entry == NULL)
                        continue;
                /* Another run of the domain (a new id): a new QEMU, pid,
                 * agent socket; the old guest goes, a new one comes. */
                if (vt_guest_libvirt_get_domain_id(VT_GUEST_LIBVIRT(entry->guest)) !=
                    (unsigned int)virDomainGetID(domains[i])) {
                        g_ptr_array_add(restarted, g_object_ref(entry->guest));
                        continue;
                }
                vt_guest_libvirt_set_domain(VT_GUEST_LIBVIRT(entry->guest), domains[i]);
        }
        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                VtLibvirtEntry *entry = value;

                if (entry->born < serial && !g_hash_table_contains(listed, key))
                        g_ptr_array_add(vanished, g_object_ref(entry->guest));
        }
        /* Not while iterating ("gone" removes entries), and before the
         * additions: a guest replaced under the same name must be removed
         * before its successor is announced. */
        for (guint i = 0; i < vanished->len; i++)
                vt_guest_libvirt_stopped(g_ptr_array_index(vanished, i),
                                         "stopped while vmtided did not see it");
        for (guint i = 0; i < restarted->len; i++)
                vt_guest_libvirt_stopped(g_ptr_array_index(restarted, i),
                                         "restarted while vmtided did not see it");
        for (int i = 0; i < n; i++)
                if (!incoming[i])
                        vt_backend_libvirt_add(self, domains[i]);
}

static void backend_schedule_retry(VtBackendLibvirt *self);

/* The guests stay, unreachable, until a connection gives their domains
 * back. */
static void
backend_release_domains(VtBackendLibvirt *self)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                VtLibvirtEntry *entry = value;

                vt_guest_libvirt_set_domain(VT_GUEST_LIBVIRT(entry->guest), NULL);
        }
}

/* Drops the connection; its guests stay, unreachable. */
static void
backend_disconnect(VtBackendLibvirt *self)
{
        if (self->conn == NULL)
                return;
        vt_libvirt_conn_close_later(self->worker, g_steal_pointer(&self->conn));
        backend_release_domains(self);
}

/* On the main context: libvirt closed @user_data's connection. */
gboolean
vt_backend_libvirt_on_closed(gpointer user_data)
{
        VtLibvirtClosed *closed = user_data;
        VtBackendLibvirt *self = closed->link->backend;
        g_autofree char *message = NULL;

        if (self == NULL || !self->running || self->conn == NULL ||
            closed->link != self->conn->link)
                return G_SOURCE_REMOVE;
        message = g_strdup_printf(
            "lost the connection to libvirt at %s (%s); its %u guests are "
            "left as they are until it is back",
            self->uri,
            closed->reason == VIR_CONNECT_CLOSE_REASON_KEEPALIVE ? "libvirtd stopped answering"
            : closed->reason == VIR_CONNECT_CLOSE_REASON_EOF     ? "libvirtd closed it"
                                                                 : "connection error",
            g_hash_table_size(self->entries));
        backend_disconnect(self);
        self->failure_reported = TRUE;
        self->backoff_us = self->retry_min_us;
        vt_backend_emit_connection_changed(VT_BACKEND(self), FALSE, message);
        backend_schedule_retry(self);
        return G_SOURCE_REMOVE;
}

static gboolean
on_retry(gpointer user_data)
{
        VtBackendLibvirt *self = user_data;

        g_clear_pointer(&self->retry_source, g_source_unref);
        backend_connect(self);
        return G_SOURCE_REMOVE;
}

static void
backend_schedule_retry(VtBackendLibvirt *self)
{
        if (!self->running || self->retry_source != NULL)
                return;
        self->retry_source = g_timeout_source_new((guint)(self->backoff_us / 1000));
        g_source_set_callback(self->retry_source, on_retry, self, NULL);
        g_source_attach(self->retry_source, self->context);
        self->backoff_us = MIN(self->backoff_us * 2, self->retry_max_us);
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtBackendLibvirt *self = VT_BACKEND_LIBVIRT(source);
        VtLibvirtConnectJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;
        g_autofree char *message = NULL;

        (void)user_data;
        self->connecting = FALSE;
        if (g_task_propagate_boolean(G_TASK(result), &error) &&
            g_atomic_int_get(&job->link->closed))
                g_set_error(&error, VT_LIBVIRT_ERROR, VT_LIBVIRT_ERROR_DISCONNECTED,
                            "libvirtd closed the connection at once");
        if (error != NULL) {
                /* The job's link never was the backend's: events on the
                 * connection did nothing. */
                job->link->backend = NULL;
                if (job->conn != NULL)
                        vt_libvirt_conn_close_later(self->worker, g_steal_pointer(&job->conn));
                /* Guests its events added hold its domains. */
                backend_release_domains(self);
                if (!self->running)
                        return;
                if (!self->failure_reported) {
                        self->failure_reported = TRUE;
                        message = g_strdup_printf("cannot connect to libvirt at %s: %s; trying "
                                                  "again, every %.0f s at most",
                                                  self->uri, error->message,
                                                  (double)self->retry_max_us / G_USEC_PER_SEC);
                        vt_backend_emit_connection_changed(VT_BACKEND(self), FALSE, message);
                } else {
                        g_debug("libvirt: connecting to %s: %s", self->uri, error->message);
                }
                backend_schedule_retry(self);
                return;
        }
        if (!self->running) {
                vt_libvirt_conn_close_later(self->worker, g_steal_pointer(&job->conn));
                return;
        }
        self->conn = g_steal_pointer(&job->conn);
        self->conn->link->backend = self;
        self->failure_reported = FALSE;
        self->backoff_us = self->retry_min_us;
        backend_reconcile(self, job->domains, job->incoming, job->n_domains, job->serial);
        message = g_strdup_printf("connected to libvirt at %s: %d running domains", self->uri,
                                  job->n_domains);
        vt_backend_emit_connection_changed(VT_BACKEND(self), TRUE, message);
}

static void
backend_connect(VtBackendLibvirt *self)
{
        GTask *task;
        VtLibvirtConnectJob *job;

        if (!self->running || self->connecting || self->conn != NULL)
                return;
        self->connecting = TRUE;
        job = g_new0(VtLibvirtConnectJob, 1);
        job->uri = g_strdup(self->uri);
        job->link = vt_libvirt_link_new(self);
        job->serial = ++self->list_serial;
        task = g_task_new(self, NULL, on_connected, NULL);
        g_task_set_task_data(task, job, (GDestroyNotify)vt_libvirt_connect_job_free);
        vt_serial_worker_run(self->worker, task, vt_libvirt_connect_thread);
}

static void
on_listed(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtBackendLibvirt *self = VT_BACKEND_LIBVIRT(source);
        VtLibvirtConnectJob *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;

        (void)user_data;
        self->listing = FALSE;
        if (!g_task_propagate_boolean(G_TASK(result), &error)) {
                g_debug("libvirt: listing domains: %s", error->message);
                return;
        }
        /* A listing from a connection since dropped says nothing. */
        if (!self->running || self->conn == NULL || job->link != self->conn->link)
                return;
        backend_reconcile(self, job->domains, job->incoming, job->n_domains, job->serial);
}

static void
backend_libvirt_rescan(VtBackend *backend)
{
        VtBackendLibvirt *self = VT_BACKEND_LIBVIRT(backend);
        GTask *task;
        VtLibvirtConnectJob *job;

        if (!self->running || self->conn == NULL || self->listing)
                return;
        self->listing = TRUE;
        job = g_new0(VtLibvirtConnectJob, 1);
        job->list = self->conn->conn;
        virConnectRef(job->list);
        job->link = vt_libvirt_link_ref(self->conn->link);
        job->serial = ++self->list_serial;
        task = g_task_new(self, NULL, on_listed, NULL);
        g_task_set_task_data(task, job, (GDestroyNotify)vt_libvirt_connect_job_free);
        vt_serial_worker_run(self->worker, task, vt_libvirt_list_thread);
}

static gboolean
backend_libvirt_start(VtBackend *backend, GError **error)
{
        VtBackendLibvirt *self = VT_BACKEND_LIBVIRT(backend);

        (void)error;
        if (self->running)
                return TRUE;
        vt_libvirt_error_init();
        /* libvirt's events and keepalive on GLib's default main context. */
        gvir_event_register();
        self->running = TRUE;
        self->backoff_us = self->retry_min_us;
        backend_connect(self);
        return TRUE;
}

static void
backend_libvirt_stop(VtBackend *backend)
{
        VtBackendLibvirt *self = VT_BACKEND_LIBVIRT(backend);

        if (!self->running)
                return;
        self->running = FALSE;
        if (self->retry_source != NULL) {
                g_source_destroy(self->retry_source);
                g_clear_pointer(&self->retry_source, g_source_unref);
        }
        vt_backend_announcer_clear(self->announcer);
        g_hash_table_remove_all(self->entries);
        backend_disconnect(self);
        self->connecting = FALSE;
        self->listing = FALSE;
}

static const char *
backend_libvirt_get_name(VtBackend *backend)
{
        (void)backend;
        return "libvirt";
}

static gboolean
backend_libvirt_is_connected(VtBackend *backend)
{
        return VT_BACKEND_LIBVIRT(backend)->conn != NULL;
}

static void
backend_libvirt_iface_init(VtBackendInterface *iface)
{
        iface->start = backend_libvirt_start;
        iface->stop = backend_libvirt_stop;
        iface->rescan = backend_libvirt_rescan;
        iface->get_name = backend_libvirt_get_name;
        iface->is_connected = backend_libvirt_is_connected;
}

/**
 * vt_backend_libvirt_new:
 * @uri: the libvirt connection URI (qemu:///system on a host)
 * @stats_interval_s: the balloon statistics period set on domains that
 *     have none (0: leave them)
 *
 * Returns: (transfer full): a backend bound to the thread-default main
 *     context, which must be GLib's default one (libvirt's events run
 *     there); call vt_backend_start()
 */
VtBackend *
vt_backend_libvirt_new(const char *uri, guint stats_interval_s)
{
        VtBackendLibvirt *self;

        g_return_val_if_fail(uri != NULL, NULL);

        self = g_object_new(VT_TYPE_BACKEND_LIBVIRT, NULL);
        self->uri = g_strdup(uri);
        self->pid_dir = vt_libvirt_pid_dir_for_uri(uri);
        self->stats_interval_s = stats_interval_s;
        return VT_BACKEND(self);
}

/**
 * vt_backend_libvirt_get_uri:
 * @backend: a backend
 *
 * Returns: its connection URI
 */
const char *
vt_backend_libvirt_get_uri(VtBackendLibvirt *backend)
{
        g_return_val_if_fail(VT_IS_BACKEND_LIBVIRT(backend), NULL);
        return backend->uri;
}

/**
 * vt_backend_libvirt_set_retry:
 * @backend: a backend
 * @min_us: the first wait before connecting again, > 0
 * @max_us: the longest, >= @min_us
 *
 * Tests shorten the defaults (%VT_BACKEND_LIBVIRT_RETRY_MIN_US, _MAX_US).
 */
void
vt_backend_libvirt_set_retry(VtBackendLibvirt *backend, gint64 min_us, gint64 max_us)
{
        g_return_if_fail(VT_IS_BACKEND_LIBVIRT(backend));
        g_return_if_fail(min_us > 0 && max_us >= min_us);
        backend->retry_min_us = min_us;
        backend->retry_max_us = max_us;
        backend->backoff_us = min_us;
}

/**
 * vt_backend_libvirt_get_n_guests:
 * @backend: a backend
 *
 * Returns: how many domains it follows
 */
guint
vt_backend_libvirt_get_n_guests(VtBackendLibvirt *backend)
{
        g_return_val_if_fail(VT_IS_BACKEND_LIBVIRT(backend), 0);
        return g_hash_table_size(backend->entries);
}

static void
vt_backend_libvirt_dispose(GObject *object)
{
        backend_libvirt_stop(VT_BACKEND(object));
        G_OBJECT_CLASS(vt_backend_libvirt_parent_class)->dispose(object);
}

static void
vt_backend_libvirt_finalize(GObject *object)
{
        VtBackendLibvirt *self = VT_BACKEND_LIBVIRT(object);

        /* Jobs hold the backend: none is left by now. */
        vt_serial_worker_free(self->worker);
        g_hash_table_destroy(self->entries);
        g_hash_table_destroy(self->refused);
        vt_backend_announcer_free(self->announcer);
        g_free(self->uri);
        g_free(self->pid_dir);
        g_main_context_unref(self->context);
        G_OBJECT_CLASS(vt_backend_libvirt_parent_class)->finalize(object);
}

static void
vt_backend_libvirt_init(VtBackendLibvirt *self)
{
        self->context = g_main_context_ref_thread_default();
        self->worker = vt_serial_worker_new();
        self->retry_min_us = VT_BACKEND_LIBVIRT_RETRY_MIN_US;
        self->retry_max_us = VT_BACKEND_LIBVIRT_RETRY_MAX_US;
        self->entries =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)entry_free);
        self->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->announcer = vt_backend_announcer_new(VT_BACKEND(self), self->context);
}

static void
vt_backend_libvirt_class_init(VtBackendLibvirtClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = vt_backend_libvirt_dispose;
        object_class->finalize = vt_backend_libvirt_finalize;
}
