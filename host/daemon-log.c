/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's log (docs/vmtided.md, "Logging").
 *
 * Theory of operation: one writer takes every message, whether logged
 * with g_log() or structured, keeps those at or above the configured
 * level ([daemon] log-level, --verbose) and writes them to the journal
 * when stderr is the journal's stream, else to stderr, every level
 * alike: GLib's default writer would send debug and info to stdout, and
 * drop them unless G_MESSAGES_DEBUG says otherwise; here the level alone
 * decides.
 */
#include "host/daemon-log.h"

#include <stdio.h>
#include <unistd.h>

/* The least severe level written; set at start-up and on a reload. */
static GLogLevelFlags daemon_log_threshold = G_LOG_LEVEL_INFO;

/**
 * vt_daemon_log_wants:
 * @threshold: the least severe level to write, e.g. %G_LOG_LEVEL_INFO
 * @domain: (nullable): the message's log domain
 * @level: the message's level (flags beside it are ignored)
 *
 * Debug messages without a domain are dropped even at debug level:
 * libvirt-glib's event loop logs each timer update so, which is noise.
 *
 * Returns: whether vmtided writes the message
 */
gboolean
vt_daemon_log_wants(GLogLevelFlags threshold, const char *domain, GLogLevelFlags level)
{
        GLogLevelFlags severity = level & G_LOG_LEVEL_MASK;

        /* GLib's levels grow less severe as their bits grow. */
        if (severity > threshold)
                return FALSE;
        if (domain == NULL && (severity & G_LOG_LEVEL_DEBUG))
                return FALSE;
        return TRUE;
}

static GLogWriterOutput
daemon_log_write(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        const char *domain = NULL;

        for (gsize i = 0; i < n_fields; i++) {
                if (g_str_equal(fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0)
                        domain = fields[i].value;
        }
        if (!vt_daemon_log_wants(daemon_log_threshold, domain, level))
                return G_LOG_WRITER_HANDLED;
        if (g_log_writer_is_journald(fileno(stderr)) &&
            g_log_writer_journald(level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
                return G_LOG_WRITER_HANDLED;
        /* With use_stderr set, every level goes to stderr. */
        return g_log_writer_standard_streams(level, fields, n_fields, user_data);
}

/**
 * vt_daemon_log_setup:
 * @threshold: the least severe level to write: %G_LOG_LEVEL_DEBUG for
 *     everything, %G_LOG_LEVEL_INFO by default
 *
 * Routes the process's log: messages at or above @threshold go to the
 * journal when stderr is connected to it, else to stderr, one line each;
 * nothing goes to stdout. Once per process, before anything is logged
 * that should follow these rules.
 */
void
vt_daemon_log_setup(GLogLevelFlags threshold)
{
        daemon_log_threshold = threshold;
        g_log_writer_default_set_use_stderr(TRUE);
        /* For code that skips building debug output nobody reads. */
        if (threshold >= G_LOG_LEVEL_DEBUG)
                g_log_set_debug_enabled(TRUE);
        g_log_set_writer_func(daemon_log_write, NULL, NULL);
}

/**
 * vt_daemon_log_set_threshold:
 * @threshold: the least severe level to write from now on
 *
 * Changes the level after vt_daemon_log_setup() (a configuration reload):
 * GLib's writer function can be set only once per process.
 */
void
vt_daemon_log_set_threshold(GLogLevelFlags threshold)
{
        daemon_log_threshold = threshold;
        g_log_set_debug_enabled(threshold >= G_LOG_LEVEL_DEBUG);
}
