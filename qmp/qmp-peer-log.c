/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an untrusted peer (a QEMU monitor, a guest's agent) made us drop or
 * cut, logged once and then summarised.
 *
 * Theory of operation: a peer that sends garbage as fast as it can would
 * otherwise cost a log line per line it sends (300,000 lines in 6 s were
 * seen). Drops are grouped by kind ("malformed lines", "reads paused for
 * the budget"). The first of a kind is logged at once with its reason, at
 * the level its caller gives: warning for what the daemon does about a
 * peer, debug for what is routine. For the interval after that line,
 * further ones of that kind are only counted, keeping the latest reason,
 * and a timer logs one line when the interval ends: how many there were
 * and the latest reason. A peer that never stops costs one line per kind
 * per interval, whatever its rate, and nothing it did goes unsaid: what is
 * still held is logged by vt_qmp_peer_log_flush() and when the log is
 * freed.
 *
 * Dropping a peer is an action the daemon takes, and is logged once with
 * its reason (docs/hacking.md), so the libraries that talk to peers log
 * these at warning level through this helper rather than report them up;
 * the control socket has its own (host/control/control-warning.c) with the
 * same behaviour.
 */
#include "qmp/qmp-peer-log.h"

#include <stdarg.h>

#include "vt-source.h"

typedef struct {
        VtQmpPeerLog *log;
        char *what;
        GLogLevelFlags level;
        gint64 last_us;    /* when a line of this kind was logged; 0: never */
        guint64 n_held;    /* how many since, not logged yet */
        char *last_reason; /* the latest of those */
        GSource *flush_source;
} PeerLogKind;

struct _VtQmpPeerLog {
        char *domain;
        char *peer;
        GMainContext *context;
        gint64 interval_us;
        GPtrArray *kinds; /* PeerLogKind, a handful at most */
};

static void
peer_log_kind_summarise(PeerLogKind *kind, gint64 now_us)
{
        VtQmpPeerLog *log = kind->log;

        g_log(log->domain, kind->level,
              "%s: %" G_GUINT64_FORMAT " more %s in the last %.1f s, the latest: %s", log->peer,
              kind->n_held, kind->what, (double)(now_us - kind->last_us) / G_USEC_PER_SEC,
              kind->last_reason);
        kind->n_held = 0;
        g_clear_pointer(&kind->last_reason, g_free);
        kind->last_us = now_us;
}

static void
peer_log_kind_free(PeerLogKind *kind)
{
        vt_source_clear(&kind->flush_source);
        if (kind->n_held > 0)
                peer_log_kind_summarise(kind, g_get_monotonic_time());
        g_free(kind->last_reason);
        g_free(kind->what);
        g_free(kind);
}

/**
 * vt_qmp_peer_log_new:
 * @log_domain: the domain to log in, the caller's %G_LOG_DOMAIN
 * @peer: how lines name the peer, e.g. "agent '/run/vm1.agent'"
 * @context: (nullable): where the summary timers run; %NULL for the
 *     thread-default context
 *
 * Returns: (transfer full): a log with the default interval,
 *     %VT_QMP_PEER_LOG_INTERVAL_US
 */
VtQmpPeerLog *
vt_qmp_peer_log_new(const char *log_domain, const char *peer, GMainContext *context)
{
        VtQmpPeerLog *log;

        g_return_val_if_fail(peer != NULL, NULL);

        log = g_new0(VtQmpPeerLog, 1);
        log->domain = g_strdup(log_domain);
        log->peer = g_strdup(peer);
        log->context =
            context != NULL ? g_main_context_ref(context) : g_main_context_ref_thread_default();
        log->interval_us = VT_QMP_PEER_LOG_INTERVAL_US;
        log->kinds = g_ptr_array_new_with_free_func((GDestroyNotify)peer_log_kind_free);
        return log;
}

/**
 * vt_qmp_peer_log_free:
 * @log: (nullable): a log
 *
 * Logs the summaries still held, then frees @log.
 */
void
vt_qmp_peer_log_free(VtQmpPeerLog *log)
{
        if (log == NULL)
                return;
        g_ptr_array_unref(log->kinds);
        g_main_context_unref(log->context);
        g_free(log->peer);
        g_free(log->domain);
        g_free(log);
}

/**
 * vt_qmp_peer_log_set_peer:
 * @log: a log
 * @peer: how later lines name the peer
 */
void
vt_qmp_peer_log_set_peer(VtQmpPeerLog *log, const char *peer)
{
        g_return_if_fail(log != NULL && peer != NULL);
        g_free(log->peer);
        log->peer = g_strdup(peer);
}

/**
 * vt_qmp_peer_log_set_interval:
 * @log: a log
 * @interval_us: how long a kind of drop is only counted after its line,
 *     > 0 (tests shorten it)
 */
void
vt_qmp_peer_log_set_interval(VtQmpPeerLog *log, gint64 interval_us)
{
        g_return_if_fail(log != NULL && interval_us > 0);
        log->interval_us = interval_us;
}

static gboolean
peer_log_on_flush(gpointer user_data)
{
        PeerLogKind *kind = user_data;

        g_clear_pointer(&kind->flush_source, g_source_unref);
        peer_log_kind_summarise(kind, g_get_monotonic_time());
        return G_SOURCE_REMOVE;
}

static PeerLogKind *
peer_log_get_kind(VtQmpPeerLog *log, GLogLevelFlags level, const char *what)
{
        PeerLogKind *kind;

        for (guint i = 0; i < log->kinds->len; i++) {
                kind = g_ptr_array_index(log->kinds, i);
                if (g_str_equal(kind->what, what))
                        return kind;
        }
        kind = g_new0(PeerLogKind, 1);
        kind->log = log;
        kind->what = g_strdup(what);
        kind->level = level;
        g_ptr_array_add(log->kinds, kind);
        return kind;
}

/**
 * vt_qmp_peer_log_add:
 * @log: a log
 * @level: the level of the line, %G_LOG_LEVEL_WARNING for what the daemon
 *     does about the peer (drops its input, pauses or closes it)
 * @what: the kind, plural, for the summary: "malformed lines dropped"
 * @format: the reason for this one, e.g. "malformed line dropped: ..."
 * @...: for @format
 *
 * Logs "PEER: REASON" at @level, or counts it for the summary line if a
 * line of kind @what was logged less than the interval ago. A kind keeps
 * the level it was first added with.
 */
void
vt_qmp_peer_log_add(VtQmpPeerLog *log, GLogLevelFlags level, const char *what, const char *format,
                    ...)
{
        gint64 now_us = g_get_monotonic_time();
        PeerLogKind *kind;
        va_list args;
        gint64 wait_ms;

        g_return_if_fail(log != NULL && what != NULL && format != NULL);

        kind = peer_log_get_kind(log, level, what);
        va_start(args, format);
        if (kind->last_us == 0 || now_us - kind->last_us >= log->interval_us) {
                g_autofree char *reason = g_strdup_vprintf(format, args);

                va_end(args);
                vt_source_clear(&kind->flush_source);
                if (kind->n_held > 0)
                        peer_log_kind_summarise(kind, now_us);
                g_log(log->domain, kind->level, "%s: %s", log->peer, reason);
                kind->last_us = now_us;
                return;
        }
        g_free(kind->last_reason);
        kind->last_reason = g_strdup_vprintf(format, args);
        va_end(args);
        kind->n_held++;
        if (kind->flush_source != NULL)
                return;
        wait_ms = (kind->last_us + log->interval_us - now_us + 999) / 1000;
        kind->flush_source = g_timeout_source_new((guint)CLAMP(wait_ms, 1, G_MAXUINT));
        g_source_set_callback(kind->flush_source, peer_log_on_flush, kind, NULL);
        g_source_set_static_name(kind->flush_source, "vt-qmp-peer-log");
        g_source_attach(kind->flush_source, log->context);
}

/**
 * vt_qmp_peer_log_flush:
 * @log: a log
 *
 * Logs the summaries held now instead of at the end of their interval
 * (when the peer is closed, say).
 */
void
vt_qmp_peer_log_flush(VtQmpPeerLog *log)
{
        g_return_if_fail(log != NULL);

        for (guint i = 0; i < log->kinds->len; i++) {
                PeerLogKind *kind = g_ptr_array_index(log->kinds, i);

                vt_source_clear(&kind->flush_source);
                if (kind->n_held > 0)
                        peer_log_kind_summarise(kind, g_get_monotonic_time());
        }
}
