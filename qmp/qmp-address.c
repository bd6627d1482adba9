/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing the address of a QMP socket: unix:PATH, a bare path, tcp:HOST:PORT. */
#include "qmp/qmp-client.h"

#include <gio/gunixsocketaddress.h>

/**
 * vt_qmp_address_parse:
 * @address: `unix:PATH`, a path (absolute or starting with `.`), or
 *     `tcp:HOST:PORT`
 * @error: %G_IO_ERROR_INVALID_ARGUMENT naming @address when it is neither
 *
 * Returns: (transfer full): what to connect to, or %NULL on error
 */
GSocketConnectable *
vt_qmp_address_parse(const char *address, GError **error)
{
        const char *path = NULL;

        g_return_val_if_fail(address != NULL, NULL);

        if (g_str_has_prefix(address, "unix:"))
                path = address + strlen("unix:");
        else if (address[0] == '/' || address[0] == '.')
                path = address;

        if (path != NULL && path[0] != '\0')
                return G_SOCKET_CONNECTABLE(g_unix_socket_address_new(path));
        if (g_str_has_prefix(address, "tcp:")) {
                g_autoptr(GError) local_error = NULL;
                GSocketConnectable *connectable =
                    g_network_address_parse(address + strlen("tcp:"), 0, &local_error);

                if (connectable == NULL) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "invalid QMP address '%s': %s", address, local_error->message);
                        return NULL;
                }
                if (g_network_address_get_port(G_NETWORK_ADDRESS(connectable)) == 0) {
                        g_object_unref(connectable);
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "invalid QMP address '%s': a port is needed", address);
                        return NULL;
                }
                return connectable;
        }
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "invalid QMP address '%s': use unix:PATH, an absolute path or tcp:HOST:PORT",
                    address);
        return NULL;
}
