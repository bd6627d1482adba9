/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's metrics: what daemon-metrics.c counts, as its scrape reads it. */
#pragma once

#include "host/daemon-metrics.h"
#include "host/daemon-private.h"
#include "host/metrics/metrics-server.h"
#include "vt-config.h"

G_BEGIN_DECLS

#define VT_DAEMON_METRICS_N_TICK_BOUNDS 12

/* Tick cost buckets, seconds. */
extern const double vt_daemon_metrics_tick_bounds[VT_DAEMON_METRICS_N_TICK_BOUNDS];

/**
 * GuestCounts:
 * @pushes: the agent's pressure pushes
 * @gives: balloon targets above the size before (deflate)
 * @reclaims: balloon targets below it (inflate)
 * @stuck: balloons stopped short of their target
 *
 * One guest's counts, kept by name while it is in the guest table.
 */
typedef struct {
        guint64 pushes;
        guint64 gives;
        guint64 reclaims;
        guint64 stuck;
} GuestCounts;

struct _VtDaemonMetrics {
        VtMetricsServer *server;
        GHashTable *guests;  /* name -> GuestCounts */
        GHashTable *actions; /* action -> guint64 count */
        guint64 tick_counts[VT_DAEMON_METRICS_N_TICK_BOUNDS + 1];
        double tick_sum_s;
};

const GuestCounts *vt_daemon_metrics_guest_counts(VtDaemonMetrics *metrics, const char *guest);
void vt_daemon_metrics_prune(VtDaemon *daemon);
void vt_daemon_metrics_collect(VtMetricsWriter *writer, gpointer user_data);

G_END_DECLS
