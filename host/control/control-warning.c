/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Warnings of the control socket that a client can make repeat (a
 * connection refused, a client closed, a request dropped), logged once
 * each and summarised when they repeat.
 *
 * Theory of operation: the first of a kind is logged at once, with its
 * reason. For the server's log interval after that line, further ones of
 * the same kind are only counted, and a timer logs one line when the
 * interval ends: how many there were and the latest's reason. A client
 * that connects a thousand times a second thus costs two lines per
 * interval, and nothing it did goes unsaid. The server logs what is
 * still held when it is freed.
 */
#include "host/control/control-private.h"

#include <stdarg.h>

static void
control_warning_summarise(VtControlServer *server, VtControlWarning *warning, gint64 now_us)
{
        g_warning("control socket '%s': %" G_GUINT64_FORMAT " more %s in the last %" G_GINT64_FORMAT
                  " ms, the latest: %s",
                  server->path, warning->n_held, warning->what, (now_us - warning->last_us) / 1000,
                  warning->last_reason);
        warning->n_held = 0;
        g_clear_pointer(&warning->last_reason, g_free);
        warning->last_us = now_us;
}

typedef struct {
        VtControlServer *server;
        VtControlWarning *warning;
} ControlWarningFlush;

static gboolean
control_warning_on_flush(gpointer user_data)
{
        ControlWarningFlush *flush = user_data;

        g_clear_pointer(&flush->warning->flush_source, g_source_unref);
        control_warning_summarise(flush->server, flush->warning, g_get_monotonic_time());
        return G_SOURCE_REMOVE;
}

/**
 * vt_control_warning_log:
 * @server: the server whose socket the warning is about
 * @warning: its kind, kept in @server
 * @now_us: the monotonic time now
 * @format: the reason, e.g. "client #3 (pid 42, uid 0): did not negotiate"
 * @...: for @format
 *
 * Logs the reason at warning level, or counts it for the summary line if
 * a line of this kind was logged less than the log interval ago.
 */
void
vt_control_warning_log(VtControlServer *server, VtControlWarning *warning, gint64 now_us,
                       const char *format, ...)
{
        g_autofree char *reason = NULL;
        gint64 interval_us = (gint64)server->log_interval_ms * 1000;
        gint64 wait_ms;
        va_list args;

        va_start(args, format);
        reason = g_strdup_vprintf(format, args);
        va_end(args);

        if (warning->last_us == 0 || now_us - warning->last_us >= interval_us) {
                if (warning->n_held > 0)
                        control_warning_summarise(server, warning, now_us);
                g_warning("control socket '%s': %s", server->path, reason);
                warning->last_us = now_us;
                return;
        }
        warning->n_held++;
        g_free(warning->last_reason);
        warning->last_reason = g_steal_pointer(&reason);
        if (warning->flush_source != NULL)
                return;
        wait_ms = (warning->last_us + interval_us - now_us + 999) / 1000;
        warning->flush_source = g_timeout_source_new((guint)MAX(wait_ms, 1));
        g_source_set_callback(
            warning->flush_source, control_warning_on_flush,
            g_memdup2(&(ControlWarningFlush){server, warning}, sizeof(ControlWarningFlush)),
            g_free);
        g_source_set_static_name(warning->flush_source, "vt-control-warning");
        g_source_attach(warning->flush_source, server->context);
}

/**
 * vt_control_warning_clear:
 * @server: the server @warning belongs to
 * @warning: a kind of warning
 *
 * Logs the summary still held, if any, and frees what @warning holds.
 */
void
vt_control_warning_clear(VtControlServer *server, VtControlWarning *warning)
{
        vt_source_clear(&warning->flush_source);
        if (warning->n_held > 0)
                control_warning_summarise(server, warning, g_get_monotonic_time());
        g_clear_pointer(&warning->last_reason, g_free);
}
