/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VtMigrateExec's private state: its object (migrate-exec.c) and its run (migrate-exec-run.c). */
#pragma once

#include "migrate/migrate-exec.h"

G_BEGIN_DECLS

enum {
        VT_MIGRATE_EXEC_SIGNAL_PROGRESS,
        VT_MIGRATE_EXEC_SIGNAL_STEERED,
        VT_MIGRATE_EXEC_SIGNAL_FINISHED,
        VT_MIGRATE_EXEC_SIGNAL_LAST,
};

/* Indexed by the enum above; filled in vt_migrate_exec_class_init(). */
extern guint vt_migrate_exec_signals[VT_MIGRATE_EXEC_SIGNAL_LAST];

struct _VtMigrateExec {
        GObject parent_instance;

        VtGuest *guest;
        char *peer;
        char *transport_uri;
        VtMigrateRequest request; /* its strings are the two above */
        VtMigrateCost prediction;
        VtMigrateSteerConfig config;
        VtMigrateExecLimits limits;
        VtMigrateSteerState state;
        gint64 deadline_us;

        GMainContext *context;
        GSource *timer;
        gulong gone_id;

        gboolean started;  /* vt_migrate_exec_start() was called */
        gboolean running;  /* the backend started the move */
        gboolean finished; /* "finished" was emitted */
        gint64 start_us;   /* monotonic */

        gboolean query_in_flight;
        gboolean downtime_in_flight;
        gint64 downtime_asked_us;
        guint query_errors;
        char *query_error;
        VtMigrateProgress last; /* the last reading */
        guint max_pass;
        guint64 max_bytes; /* the most RAM sent read (a cancelled job reads 0) */

        gboolean cancel_wanted; /* asked for (sent once the move runs) */
        gboolean cancel_sent;
        gint64 cancel_us;
        VtMigrateSteerCause cancel_cause;
        gboolean cancel_by_hand;
        gboolean lost_track;
        char *cancel_reason;

        gboolean gone;
        gint64 gone_us;
        char *gone_reason;

        VtMigrateExecResult result;
};

/* The guest's mark while an executor moves it (object data, not owned). */
GQuark vt_migrate_exec_mark_quark(void);
/* Stops the timer, lets go of the guest's "gone" and of its mark. */
void vt_migrate_exec_release_guest(VtMigrateExec *exec);

/* Since vt_migrate_exec_start(), on the monotonic clock. */
static inline gint64
vt_migrate_exec_elapsed(VtMigrateExec *exec)
{
        return g_get_monotonic_time() - exec->start_us;
}

G_END_DECLS
