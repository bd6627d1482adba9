/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt backend's state, shared by its two files only. */
#pragma once

#include <libvirt/libvirt.h>

#include "host/libvirt/libvirt-backend.h"
#include "host/libvirt/libvirt-worker.h"

G_BEGIN_DECLS

typedef struct {
        gatomicrefcount ref;
        VtBackendLibvirt *backend; /* main thread only; NULL once the connection
                                    * failed or was dropped */
        GMainContext *context;
        gint closed; /* atomic: libvirt closed the connection */
} VtLibvirtLink;

#define N_EVENTS 5

/* A connection with vmtided's callbacks on it. Its close is blocking (RPCs
 * to deregister), so it runs on a worker: vt_libvirt_conn_close(). */
typedef struct {
        virConnectPtr conn;
        VtLibvirtLink *link;
        int event_ids[N_EVENTS]; /* -1: not registered */
        gboolean close_registered;
} VtLibvirtConn;

typedef struct {
        VtGuest *guest;
        gulong gone_id;
        guint64 born; /* the listing serial when it was added */
        VtBackendLibvirt *self;
} VtLibvirtEntry;

struct _VtBackendLibvirt {
        GObject parent_instance;

        char *uri;
        char *pid_dir;
        guint stats_interval_s;
        GMainContext *context;
        VtSerialWorker *worker;
        gboolean running;

        VtLibvirtConn *conn; /* NULL while disconnected */
        gboolean connecting;
        gboolean listing;
        guint64 list_serial;
        gboolean failure_reported; /* in this spell without a connection */
        gint64 retry_min_us;
        gint64 retry_max_us;
        gint64 backoff_us;
        GSource *retry_source;

        GHashTable *entries; /* UUID → VtLibvirtEntry *, owned */
        GHashTable *refused; /* UUID → the domain id whose start failed */
        VtBackendAnnouncer *announcer;
};

typedef struct {
        VtLibvirtLink *link;
        int reason;
} VtLibvirtClosed;

typedef struct {
        char *uri;
        VtLibvirtLink *link;
        VtLibvirtConn *conn; /* connecting: the new connection, until taken */
        virConnectPtr list;  /* listing: a reference on the connection */
        virDomainPtr *domains;
        gboolean *incoming; /* per domain: paused for an incoming migration */
        int n_domains;
        guint64 serial;
} VtLibvirtConnectJob;

/* host/libvirt/libvirt-backend.c: the guests followed, by domain. */
void vt_backend_libvirt_add(VtBackendLibvirt *self, virDomainPtr domain);
VtLibvirtEntry *vt_backend_libvirt_lookup(VtBackendLibvirt *self, virDomainPtr domain);
void vt_backend_libvirt_gone(VtBackendLibvirt *self, virDomainPtr domain, const char *why);
gboolean vt_backend_libvirt_on_closed(gpointer user_data);

/* host/libvirt/libvirt-connection.c: links, connections, the worker's jobs. */
VtLibvirtLink *vt_libvirt_link_new(VtBackendLibvirt *self);
VtLibvirtLink *vt_libvirt_link_ref(VtLibvirtLink *link);
void vt_libvirt_link_unref(void *data);
void vt_libvirt_conn_close(VtLibvirtConn *c);
void vt_libvirt_conn_close_later(VtSerialWorker *worker, VtLibvirtConn *c);
void vt_libvirt_connect_job_free(VtLibvirtConnectJob *job);
/* GTaskThreadFunc's; the task data is a #VtLibvirtConnectJob. */
void vt_libvirt_connect_thread(GTask *task, gpointer source, gpointer task_data,
                               GCancellable *cancellable);
void vt_libvirt_list_thread(GTask *task, gpointer source, gpointer task_data,
                            GCancellable *cancellable);

G_END_DECLS
