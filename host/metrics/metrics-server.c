/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The metrics endpoint (docs/metrics.md): `GET /metrics` over HTTP/1.1.
 *
 * Theory of operation: libsoup's SoupServer is a GObject whose listening
 * socket and connections are GSources on the thread-default main
 * context, the daemon's own loop. A scrape is therefore one more event
 * between two ticks: the collect function reads the daemon's state with
 * no lock and no copy, formats it, and the reply is written out
 * asynchronously by libsoup; a slow or stalled scraper holds a socket,
 * never the loop. No thread, no second event loop, and HTTP parsing
 * (keep-alive, chunking, malformed requests) stays in a library Debian
 * maintains. The address is an IP literal: resolving a name could block.
 */
#include "host/metrics/metrics-server.h"

#include <string.h>

#include <libsoup/soup.h>

#define METRICS_PATH "/metrics"

struct _VtMetricsServer {
        SoupServer *soup;
        GSocketService *service; /* accepts; libsoup serves (see below) */
        VtMetricsCollectFunc collect;
        gpointer user_data;
        guint port;
        guint64 scrapes;
};

/**
 * vt_metrics_address_parse:
 * @address: `HOST:PORT`: an IPv4 literal (`127.0.0.1:9848`) or a
 *     bracketed IPv6 literal (`[::1]:9848`), port 1 to 65535
 * @ret_address: (out) (transfer full): the socket address
 * @error: %G_IO_ERROR_INVALID_ARGUMENT, naming @address and what is wrong
 *
 * Returns: whether @address is valid
 */
gboolean
vt_metrics_address_parse(const char *address, GSocketAddress **ret_address, GError **error)
{
        g_autofree char *host = NULL;
        g_autoptr(GInetAddress) inet = NULL;
        const char *colon;
        guint64 port = 0;

        g_return_val_if_fail(address != NULL, FALSE);

        colon = strrchr(address, ':');
        if (colon == NULL || colon == address) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "metrics address '%s' is not HOST:PORT", address);
                return FALSE;
        }
        if (address[0] == '[') {
                if (colon[-1] != ']' || colon - address < 3) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "metrics address '%s' is not [IPV6]:PORT", address);
                        return FALSE;
                }
                host = g_strndup(address + 1, (gsize)(colon - address - 2));
        } else
                host = g_strndup(address, (gsize)(colon - address));
        inet = g_inet_address_new_from_string(host);
        if (inet == NULL || (address[0] != '[' && strchr(host, ':') != NULL)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "metrics address '%s': '%s' is not an IP address (names are not "
                            "resolved)",
                            address, host);
                return FALSE;
        }
        if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "metrics address '%s': port '%s' is not a number from 1 to 65535",
                            address, colon + 1);
                return FALSE;
        }
        if (ret_address != NULL)
                *ret_address = g_inet_socket_address_new(inet, (guint16)port);
        return TRUE;
}

static void
on_request(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
        VtMetricsServer *server = user_data;
        const char *method = soup_server_message_get_method(msg);
        g_autoptr(VtMetricsWriter) writer = NULL;
        char *text;
        gsize length = 0;

        (void)soup;
        (void)query;
        /* One connection per scrape: libsoup 3.2.2 (Debian 12) never notices
         * a keep-alive connection the client closed while idle, and keeps
         * its descriptor for good (CLOSE-WAIT; fixed in libsoup 3.3 by
         * d20c6601). 6000 scrapes by curl left 6000 descriptors open. With
         * "Connection: close" libsoup closes each connection itself. */
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                                     "close");
        /* The handler sees every path: only /metrics itself is served. */
        if (!g_str_equal(path, METRICS_PATH)) {
                soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
                return;
        }
        if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
                soup_message_headers_append(soup_server_message_get_response_headers(msg), "Allow",
                                            "GET, HEAD");
                soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
                return;
        }
        server->scrapes++;
        writer = vt_metrics_writer_new();
        server->collect(writer, server->user_data);
        text = vt_metrics_writer_end(writer, &length);
        soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
        soup_server_message_set_response(msg, VT_METRICS_CONTENT_TYPE, SOUP_MEMORY_TAKE, text,
                                         length);
}

/* A connection accepted: libsoup serves it (and holds its own reference). */
static gboolean
on_incoming(GSocketService *service, GSocketConnection *connection, GObject *source,
            gpointer user_data)
{
        VtMetricsServer *server = user_data;
        g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(connection, NULL);
        g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(connection, NULL);
        g_autoptr(GError) error = NULL;

        (void)service;
        (void)source;
        if (!soup_server_accept_iostream(server->soup, G_IO_STREAM(connection), local, remote,
                                         &error))
                g_debug("metrics: a connection not served: %s", error->message);
        return TRUE;
}

/**
 * vt_metrics_server_new:
 * @address: where to listen, as vt_metrics_address_parse() reads it
 * @collect: writes the exposition for each scrape
 * @user_data: for @collect; must outlive the server
 * @error: the address is invalid, or cannot be listened on (in use, not
 *     this host's); the message names the address
 *
 * Listens on @address at once; scrapes are served on the thread-default
 * main context.
 *
 * Returns: (transfer full): the server, or %NULL on error
 */
VtMetricsServer *
vt_metrics_server_new(const char *address, VtMetricsCollectFunc collect, gpointer user_data,
                      GError **error)
{
        g_autoptr(GSocketAddress) sockaddr = NULL;
        g_autoptr(GError) listen_error = NULL;
        g_autoptr(VtMetricsServer) server = NULL;
        g_autoptr(GSocketAddress) effective = NULL;

        g_return_val_if_fail(address != NULL, NULL);
        g_return_val_if_fail(collect != NULL, NULL);

        if (!vt_metrics_address_parse(address, &sockaddr, error))
                return NULL;
        server = g_new0(VtMetricsServer, 1);
        server->collect = collect;
        server->user_data = user_data;
        server->soup = soup_server_new("server-header", "vmtided ", NULL);
        /* Every path, so that every response closes its connection (below). */
        soup_server_add_handler(server->soup, NULL, on_request, server, NULL);
        /* vmtided accepts, libsoup serves each connection: libsoup 3.2.2's
         * own listener (soup_server_listen()) leaks every socket it accepts
         * (344 bytes a scrape, seen by valgrind and in vmtided's RSS), and
         * soup_server_get_uris() leaks an address. */
        server->service = g_socket_service_new();
        if (!g_socket_listener_add_address(G_SOCKET_LISTENER(server->service), sockaddr,
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                           &effective, &listen_error)) {
                g_set_error(
                    error, G_IO_ERROR,
                    listen_error->domain == G_IO_ERROR ? listen_error->code : G_IO_ERROR_FAILED,
                    "cannot listen for metrics on '%s': %s", address, listen_error->message);
                return NULL;
        }
        server->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
        g_signal_connect(server->service, "incoming", G_CALLBACK(on_incoming), server);
        g_socket_service_start(server->service);
        return g_steal_pointer(&server);
}

/**
 * vt_metrics_server_get_port:
 * @server: a server
 *
 * Returns: the port it listens on
 */
guint
vt_metrics_server_get_port(VtMetricsServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return server->port;
}

/**
 * vt_metrics_server_get_scrapes:
 * @server: a server
 *
 * Returns: how many scrapes it served
 */
guint64
vt_metrics_server_get_scrapes(VtMetricsServer *server)
{
        g_return_val_if_fail(server != NULL, 0);
        return server->scrapes;
}

/**
 * vt_metrics_server_free:
 * @server: (nullable): a server
 *
 * Stops listening and closes its connections.
 */
void
vt_metrics_server_free(VtMetricsServer *server)
{
        if (server == NULL)
                return;
        if (server->service != NULL) {
                g_socket_service_stop(server->service);
                g_socket_listener_close(G_SOCKET_LISTENER(server->service));
                g_signal_handlers_disconnect_by_data(server->service, server);
                g_object_unref(server->service);
        }
        if (server->soup != NULL) {
                soup_server_disconnect(server->soup);
                g_object_unref(server->soup);
        }
        g_free(server);
}
