/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Telling systemd about the daemon's state (Type=notify), without libsystemd. */

/*
 * The protocol is one datagram of "KEY=VALUE\n" lines to the Unix socket
 * named by $NOTIFY_SOCKET (a leading '@' names an abstract socket);
 * systemd documents it as stable for reimplementation (sd_notify(3)).
 * Outside systemd the variable is unset and this does nothing.
 *
 * The watchdog (WatchdogSec=) is the same socket: systemd sets
 * $WATCHDOG_USEC (and $WATCHDOG_PID, the process meant) and expects
 * "WATCHDOG=1" at least that often, else it kills and restarts the unit.
 */
#include "host/daemon-notify.h"

#include <errno.h>
#include <gio/gio.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/**
 * vt_sd_notify:
 * @state: e.g. "READY=1", "STOPPING=1", "STATUS=3 guests"
 * @error: return location for a #GError
 *
 * Returns: %TRUE when sent or when not run by systemd; %FALSE with @error
 *     when $NOTIFY_SOCKET is set but unusable
 */
gboolean
vt_sd_notify(const char *state, GError **error)
{
        const char *path = g_getenv("NOTIFY_SOCKET");
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        socklen_t addr_len;
        gsize path_len;
        ssize_t n;
        int fd;

        g_return_val_if_fail(state != NULL, FALSE);

        if (path == NULL || path[0] == '\0')
                return TRUE;
        path_len = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || path_len >= sizeof(addr.sun_path)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "NOTIFY_SOCKET '%s' is not a socket path", path);
                return FALSE;
        }
        memcpy(addr.sun_path, path, path_len);
        if (path[0] == '@')
                addr.sun_path[0] = '\0';
        addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                int errsv = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                            "socket for NOTIFY_SOCKET: %s", g_strerror(errsv));
                return FALSE;
        }
        n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
        if (n < 0) {
                int errsv = errno;

                close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv),
                            "notifying systemd on '%s': %s", path, g_strerror(errsv));
                return FALSE;
        }
        close(fd);
        return TRUE;
}

/**
 * vt_sd_watchdog_interval_us:
 *
 * The watchdog interval systemd asks for (`WatchdogSec=`), read from
 * $WATCHDOG_USEC; 0 when it asks for none, when $WATCHDOG_PID names
 * another process, or when the value does not parse. Ping at half of it.
 *
 * Returns: the interval in microseconds, or 0
 */
gint64
vt_sd_watchdog_interval_us(void)
{
        const char *usec = g_getenv("WATCHDOG_USEC");
        const char *pid = g_getenv("WATCHDOG_PID");
        guint64 value = 0;

        if (usec == NULL)
                return 0;
        if (pid != NULL) {
                guint64 p = 0;

                if (!g_ascii_string_to_unsigned(pid, 10, 1, G_MAXINT32, &p, NULL) ||
                    (pid_t)p != getpid())
                        return 0;
        }
        if (!g_ascii_string_to_unsigned(usec, 10, 1, G_MAXINT64, &value, NULL))
                return 0;
        return (gint64)value;
}
