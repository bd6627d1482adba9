/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's action log (docs/vmtided.md, "Logging").
 *
 * Theory of operation: each action is one structured message. MESSAGE is
 * the readable line the terminal shows, unchanged ("guest 'web1': give
 * 1024 MiB -> 1536 MiB: ..."); beside it go VT_GUEST, VT_ACTION,
 * VT_FROM_BYTES, VT_TO_BYTES, VT_REASON and VT_HOST_STATE, which the
 * journal keeps as fields (`journalctl VT_GUEST=web1`) and the standard
 * streams writer ignores. The message goes through g_log_structured_array(),
 * hence through whatever writer the process set (daemon-log.c's, which
 * keeps the level filter and picks journal or stderr).
 */
#include "host/daemon-log-action.h"

#define MAX_FIELDS 10

/* syslog(3)'s priorities, as GLib maps its levels to them. */
static const char *
level_to_priority(GLogLevelFlags level)
{
        if (level & G_LOG_LEVEL_ERROR)
                return "3";
        if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
                return "4";
        if (level & G_LOG_LEVEL_MESSAGE)
                return "5";
        if (level & G_LOG_LEVEL_INFO)
                return "6";
        return "7";
}

static void
add_field(GLogField *fields, gsize *n, const char *key, const char *value)
{
        if (value == NULL)
                return;
        g_assert(*n < MAX_FIELDS);
        fields[*n] = (GLogField){.key = key, .value = value, .length = -1};
        (*n)++;
}

/**
 * vt_daemon_log_actionv:
 * @level: its level, usually %G_LOG_LEVEL_MESSAGE
 * @action: the action's fields (strings borrowed for the call)
 * @format: the readable one-line message, printf-style
 * @args: its arguments
 *
 * Logs @action once: the message and the action's journal fields.
 */
void
vt_daemon_log_actionv(GLogLevelFlags level, const VtDaemonLogAction *action, const char *format,
                      va_list args)
{
        g_autofree char *message = NULL;
        char from[24];
        char to[24];
        GLogField fields[MAX_FIELDS];
        gsize n = 0;

        g_return_if_fail(action != NULL && action->action != NULL);
        g_return_if_fail(format != NULL);

        message = g_strdup_vprintf(format, args);
        g_snprintf(from, sizeof(from), "%" G_GINT64_FORMAT, action->from_bytes);
        g_snprintf(to, sizeof(to), "%" G_GINT64_FORMAT, action->to_bytes);
        add_field(fields, &n, "GLIB_DOMAIN", G_LOG_DOMAIN);
        add_field(fields, &n, "PRIORITY", level_to_priority(level));
        add_field(fields, &n, "MESSAGE", message);
        add_field(fields, &n, "VT_GUEST", action->guest);
        add_field(fields, &n, "VT_ACTION", action->action);
        add_field(fields, &n, "VT_FROM_BYTES", action->from_bytes >= 0 ? from : NULL);
        add_field(fields, &n, "VT_TO_BYTES", action->to_bytes >= 0 ? to : NULL);
        add_field(fields, &n, "VT_REASON", action->reason);
        add_field(fields, &n, "VT_HOST_STATE", action->host_state);
        g_log_structured_array(level, fields, n);
}

/**
 * vt_daemon_log_action:
 * @level: its level, usually %G_LOG_LEVEL_MESSAGE
 * @action: the action's fields
 * @format: the readable one-line message, printf-style
 * @...: its arguments
 *
 * As vt_daemon_log_actionv().
 */
void
vt_daemon_log_action(GLogLevelFlags level, const VtDaemonLogAction *action, const char *format, ...)
{
        va_list args;

        va_start(args, format);
        vt_daemon_log_actionv(level, action, format, args);
        va_end(args);
}
