/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's metrics (docs/metrics.md) and its action log.
 *
 * Theory of operation: the daemon's state already holds every gauge (the
 * guests' balloons and reports, the host sample, the KSM step), read here
 * through the same getters the control commands use; what it does not
 * hold are counts of events over time, kept here: agent pressure pushes,
 * balloon moves by direction and stuck balloons per guest, actions by
 * kind, and a histogram of tick costs. Every action goes through
 * vt_daemon_action(), which counts it and logs it once with its journal
 * fields, so the log and the counters cannot disagree. A scrape formats
 * what is held (host/metrics/metrics-format.c) on the main loop, between
 * ticks: no I/O, no lock, nothing waited for.
 */
#include "host/daemon-metrics-private.h"
#include "host/daemon-log-action.h"

/* A tick is 100 µs to a few ms; 1 s is a hang. */
const double vt_daemon_metrics_tick_bounds[VT_DAEMON_METRICS_N_TICK_BOUNDS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

/**
 * vt_daemon_metrics_start:
 * @daemon: the daemon, starting
 * @error: `[metrics] listen` cannot be listened on (the message names it)
 *
 * Starts counting, and serves the metrics when `[metrics] listen` is set.
 *
 * Returns: %FALSE on error
 */
gboolean
vt_daemon_metrics_start(VtDaemon *daemon, GError **error)
{
        VtDaemonMetrics *m = g_new0(VtDaemonMetrics, 1);
        const char *listen = daemon->config->metrics_listen;

        m->guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        m->actions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        vt_daemon_metrics_free(daemon->metrics);
        daemon->metrics = m;
        if (listen == NULL)
                return TRUE;
        m->server = vt_metrics_server_new(listen, vt_daemon_metrics_collect, daemon, error);
        if (m->server == NULL)
                return FALSE;
        g_message("metrics: serving http://%s/metrics", listen);
        return TRUE;
}

/* Stops serving (the counters stay until the daemon is freed). */
void
vt_daemon_metrics_stop(VtDaemon *daemon)
{
        if (daemon->metrics != NULL)
                g_clear_pointer(&daemon->metrics->server, vt_metrics_server_free);
}

/**
 * vt_daemon_metrics_free:
 * @metrics: (nullable): the daemon's metrics
 */
void
vt_daemon_metrics_free(VtDaemonMetrics *metrics)
{
        if (metrics == NULL)
                return;
        g_clear_pointer(&metrics->server, vt_metrics_server_free);
        g_hash_table_destroy(metrics->guests);
        g_hash_table_destroy(metrics->actions);
        g_free(metrics);
}

/**
 * vt_daemon_metrics_get_port:
 * @daemon: the daemon
 *
 * Returns: the port the metrics are served on, 0 if they are not
 */
guint
vt_daemon_metrics_get_port(VtDaemon *daemon)
{
        if (daemon->metrics == NULL || daemon->metrics->server == NULL)
                return 0;
        return vt_metrics_server_get_port(daemon->metrics->server);
}

/* @guest's counts, made on first use; NULL before the daemon started. */
static GuestCounts *
guest_counts(VtDaemon *daemon, const char *guest)
{
        GuestCounts *c;

        if (daemon->metrics == NULL || guest == NULL)
                return NULL;
        c = g_hash_table_lookup(daemon->metrics->guests, guest);
        if (c == NULL) {
                c = g_new0(GuestCounts, 1);
                g_hash_table_insert(daemon->metrics->guests, g_strdup(guest), c);
        }
        return c;
}

/**
 * vt_daemon_metrics_guest_counts:
 * @metrics: the daemon's metrics
 * @guest: a guest's name
 *
 * Returns: (nullable): its counts, %NULL if nothing was counted
 */
const GuestCounts *
vt_daemon_metrics_guest_counts(VtDaemonMetrics *metrics, const char *guest)
{
        return g_hash_table_lookup(metrics->guests, guest);
}

/* Forgets the counts of guests no longer in the table, so that a host
 * whose guests come and go does not grow them without bound. */
void
vt_daemon_metrics_prune(VtDaemon *daemon)
{
        GHashTableIter iter;
        gpointer name;

        g_hash_table_iter_init(&iter, daemon->metrics->guests);
        while (g_hash_table_iter_next(&iter, &name, NULL)) {
                if (!g_hash_table_contains(daemon->guests, name))
                        g_hash_table_iter_remove(&iter);
        }
}

/* Records a tick's cost in the histogram. */
void
vt_daemon_metrics_observe_tick(VtDaemon *daemon, gint64 cost_us)
{
        double s = (double)MAX(cost_us, 0) / G_USEC_PER_SEC;
        guint i = 0;

        if (daemon->metrics == NULL)
                return;
        while (i < VT_DAEMON_METRICS_N_TICK_BOUNDS && s > vt_daemon_metrics_tick_bounds[i])
                i++;
        daemon->metrics->tick_counts[i]++;
        daemon->metrics->tick_sum_s += s;
}

/* Counts an agent's pressure push. */
void
vt_daemon_metrics_count_push(VtDaemon *daemon, const char *guest)
{
        GuestCounts *c = guest_counts(daemon, guest);

        if (c != NULL)
                c->pushes++;
}

static void
count_action(VtDaemon *daemon, const char *guest, const char *action)
{
        GuestCounts *c = guest_counts(daemon, guest);
        guint64 *n;

        if (daemon->metrics == NULL)
                return;
        n = g_hash_table_lookup(daemon->metrics->actions, action);
        if (n == NULL) {
                n = g_new0(guint64, 1);
                g_hash_table_insert(daemon->metrics->actions, g_strdup(action), n);
        }
        (*n)++;
        if (c == NULL)
                return;
        if (g_str_equal(action, "give"))
                c->gives++;
        else if (g_str_equal(action, "reclaim"))
                c->reclaims++;
        else if (g_str_equal(action, "stuck"))
                c->stuck++;
}

/**
 * vt_daemon_action:
 * @daemon: the daemon
 * @level: the message's level
 * @guest: (nullable): the guest acted on
 * @action: what was done ("give", "reclaim", "stuck", "drop", "host-state",
 *     "ksm", ...)
 * @from_bytes: the size before, or %VT_DAEMON_LOG_NO_BYTES
 * @to_bytes: the size asked for, or %VT_DAEMON_LOG_NO_BYTES
 * @reason: (nullable): why
 * @format: the readable one-line message
 * @...: its arguments
 *
 * Counts an action (`vmtide_decisions_total`, and the guest's moves or
 * stuck balloons) and logs it once with its journal fields, the host's
 * state among them.
 */
void
vt_daemon_action(VtDaemon *daemon, GLogLevelFlags level, const char *guest, const char *action,
                 gint64 from_bytes, gint64 to_bytes, const char *reason, const char *format, ...)
{
        VtDaemonLogAction a = {
            .guest = guest,
            .action = action,
            .from_bytes = from_bytes,
            .to_bytes = to_bytes,
            .reason = reason,
            .host_state = vt_host_state_to_string(daemon->host_state),
        };
        va_list args;

        count_action(daemon, guest, action);
        va_start(args, format);
        vt_daemon_log_actionv(level, &a, format, args);
        va_end(args);
}
