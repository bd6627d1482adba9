/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VtGuestQmp's state, shared by the files of the QMP-direct guest only. */
#pragma once

#include "host/qmp-direct/qmp-direct-guest.h"
#include "qmp/qmp-client.h"
#include "vt-autocleanups.h"

G_BEGIN_DECLS

/* Continues a start held by vt_guest_qmp_status_wait(); takes @task. */
typedef void (*VtGuestQmpResume)(GTask *task);

struct _VtGuestQmp {
        VtGuest parent_instance;

        char *address;
        guint stats_interval_s;
        gint64 timeout_us;
        GMainContext *context;

        VtQmpClient *client;
        gulong event_id;
        gulong disconnected_id;
        gulong migration_event_id;

        char *balloon_path;        /* QOM path of the balloon device; NULL: unknown */
        gboolean interval_tried;   /* guest-stats-polling-interval set on that path */
        gboolean balloon_searched; /* the path search ran since the balloon appeared */

        gboolean stopped;

        /* virtio-mem (qmp-direct-memdev.c). */
        gulong memdev_event_id;
        char *memdev_notes;          /* what was last logged about the devices */
        gboolean memdev_unsupported; /* query-memory-devices failed (logged once) */

        /* The run state (qmp-direct-status.c). */
        gulong resume_id;
        gulong status_disconnected_id;
        GTask *resume_wait;      /* the start, until an incoming QEMU runs */
        VtGuestQmpResume resume; /* what continues it */
        gboolean resumed;        /* QEMU sent RESUME since the connection */

        /* Migration (qmp-direct-migrate.c, qmp-direct-dirty.c). */
        char **destination_argv; /* the destination command; NULL: none */
        gint64 destination_timeout_us;
        gboolean quit_after_migration;
        gboolean dirty_measuring;     /* a dirty-rate measurement is under way */
        gboolean migrate_done;        /* the source's copy is spent: final cached */
        gboolean quit_sent;           /* `quit` sent after completion */
        gboolean final_query_pending; /* the completion's own query-migrate in flight */
        guint final_retries;          /* of it, while QEMU's figures are not in */
        VtMigrateProgress final;      /* the completed move, once migrate_done */
        GCancellable *cancellable;    /* destination commands; cancelled on stop */
};

/* Reads member @name of @object as a non-negative integer. */
gboolean vt_guest_qmp_json_get_size(json_object *object, const char *name, guint64 *ret_value);
/* A GAsyncReadyCallback for a command whose reply only says it was taken:
 * returns TRUE on @user_data's GTask, or QMP's error. */
void vt_guest_qmp_on_taken(GObject *source, GAsyncResult *result, gpointer user_data);

/* qmp-direct-migrate.c: the migration methods, hooked into @klass. */
void vt_guest_qmp_migrate_class_init(VtGuestClass *klass);
/* Follows MIGRATION events once the client is connected. */
void vt_guest_qmp_migrate_connected(VtGuestQmp *self);
/* Stops following them and cancels destination commands under way. */
void vt_guest_qmp_migrate_stop(VtGuestQmp *self);

/* qmp-direct-status.c: the QEMU's run state at the start. */
void vt_guest_qmp_status_connected(VtGuestQmp *self);
/* Reads `query-status`: FALSE (%VT_GUEST_QMP_ERROR_SPENT_SOURCE for a
 * postmigrate QEMU) fails the start; *@ret_wait: wait for RESUME first. */
gboolean vt_guest_qmp_status_handle(VtGuestQmp *self, json_object *reply, const GError *qmp_error,
                                    gboolean *ret_wait, GError **error);
void vt_guest_qmp_status_wait(VtGuestQmp *self, GTask *task, VtGuestQmpResume resume);
void vt_guest_qmp_status_stop(VtGuestQmp *self);

/* qmp-direct-dirty.c: the dirty-rate measurement, hooked into @klass. */
void vt_guest_qmp_dirty_class_init(VtGuestClass *klass);

/* qmp-direct-memdev.c: the virtio-mem methods, hooked into @klass. */
void vt_guest_qmp_memdev_class_init(VtGuestClass *klass);
/* Follows MEMORY_DEVICE_SIZE_CHANGE once the client is connected. */
void vt_guest_qmp_memdev_connected(VtGuestQmp *self);
void vt_guest_qmp_memdev_stop(VtGuestQmp *self);
/* Takes `query-memory-devices`' answer; FALSE: a reply of the wrong shape. */
gboolean vt_guest_qmp_memdev_handle(VtGuestQmp *self, json_object *reply, const GError *qmp_error,
                                    gint64 now_us, GError **error);
/* Ends a balloon poll (@task, transfer full): with a device, its size is read too. */
void vt_guest_qmp_memdev_poll(VtGuestQmp *self, GTask *task);
/* Pure: the first virtio-mem device that adds up, and notes on the others. */
gboolean vt_guest_qmp_parse_memdevs(json_object *reply, VtGuestMemdev *ret_memdev, char **ret_notes,
                                    GError **error);

/* qmp-direct-progress.c: what QEMU's replies say (pure parsing). */
gboolean vt_guest_qmp_parse_migrate(json_object *reply, VtMigrateProgress *ret_progress,
                                    GError **error);
gboolean vt_guest_qmp_parse_dirty_rate(json_object *reply, gint64 calc_time_s, gboolean *ret_done,
                                       guint64 *ret_rate, GError **error);

G_END_DECLS
