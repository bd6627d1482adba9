/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics endpoint: its address, and scrapes served on the main loop. */
#include "host/metrics/metrics-server.h"
#include "tests/vt-test-metrics.h"

typedef struct {
        const char *address;
        gboolean valid;
} AddressCase;

static const AddressCase address_cases[] = {
    {"127.0.0.1:9848", TRUE},  {"[::1]:9848", TRUE},
    {"0.0.0.0:1", TRUE},       {"127.0.0.1:65535", TRUE},
    {"127.0.0.1", FALSE},      {"127.0.0.1:", FALSE},
    {"127.0.0.1:0", FALSE},    {"127.0.0.1:65536", FALSE},
    {"127.0.0.1:98x", FALSE},  {"127.0.0.1:-1", FALSE},
    {"localhost:9848", FALSE}, {"::1:9848", FALSE},
    {"[::1]9848", FALSE},      {"[]:9848", FALSE},
    {":9848", FALSE},          {"", FALSE},
};

static void
test_address(gconstpointer data)
{
        const AddressCase *c = data;
        g_autoptr(GSocketAddress) address = NULL;
        g_autoptr(GError) error = NULL;

        if (c->valid) {
                g_assert_true(vt_metrics_address_parse(c->address, &address, &error));
                g_assert_no_error(error);
                g_assert_true(G_IS_INET_SOCKET_ADDRESS(address));
                return;
        }
        g_assert_false(vt_metrics_address_parse(c->address, &address, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, c->address));
        g_assert_null(address);
}

static void
collect(VtMetricsWriter *writer, gpointer user_data)
{
        guint *n = user_data;
        const char *const labels[] = {"guest", "web\"1", NULL};

        (*n)++;
        vt_metrics_writer_family(writer, "vmtide_test_scrapes_total", VT_METRICS_COUNTER,
                                 "Scrapes.");
        vt_metrics_writer_sample(writer, labels, *n);
}

static void
test_scrape(void)
{
        guint port = vt_test_metrics_free_port();
        g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtMetricsServer) server = NULL;
        g_autoptr(VtTestMetrics) parsed = NULL;
        g_autofree char *response = NULL;
        guint n = 0;
        guint status = 0;
        double value = 0;
        const char *body;

        server = vt_metrics_server_new(address, collect, &n, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(vt_metrics_server_get_port(server), ==, port);

        response = vt_test_metrics_fetch_in_thread(
            port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &error);
        g_assert_no_error(error);
        body = vt_test_metrics_body(response, &status);
        g_assert_cmpuint(status, ==, 200);
        g_assert_nonnull(strstr(response, "Content-Type: " VT_METRICS_CONTENT_TYPE "\r\n"));
        parsed = vt_test_metrics_parse(body, &error);
        g_assert_no_error(error);
        g_assert_true(
            vt_test_metrics_get(parsed, "vmtide_test_scrapes_total{guest=\"web\\\"1\"}", &value));
        g_assert_cmpfloat(value, ==, 1);
        g_assert_cmpuint(vt_metrics_server_get_scrapes(server), ==, 1);
}

static guint
count_fds(void)
{
        g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
        guint n = 0;

        g_assert_nonnull(dir);
        while (g_dir_read_name(dir) != NULL)
                n++;
        return n;
}

/* A scraper that keeps its connection alive and then goes away costs the
 * daemon nothing: every response closes its connection, so the client
 * reads to the end and no descriptor stays behind (libsoup 3.2.2 kept
 * each one for good: 6000 scrapes, 6000 descriptors). */
static void
test_closes_connections(void)
{
        guint port = vt_test_metrics_free_port();
        g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtMetricsServer) server = NULL;
        guint n = 0, before;

        server = vt_metrics_server_new(address, collect, &n, &error);
        g_assert_no_error(error);
        before = count_fds();
        for (guint i = 0; i < 20; i++) {
                const char *request = i % 2 == 0 ? "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                                                 : "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n";
                g_autofree char *response = vt_test_metrics_fetch_in_thread(port, request, &error);

                /* Read to the end within the helper's timeout: the server closed. */
                g_assert_no_error(error);
                g_assert_nonnull(strstr(response, "Connection: close\r\n"));
        }
        g_assert_cmpuint(count_fds(), <=, before);
}

typedef struct {
        const char *request;
        guint status;
} RefusedCase;

static const RefusedCase refused_cases[] = {
    {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
    {"GET /metrics/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
    {"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405},
    {"GARBAGE\r\n\r\n", 400},
};

/* What is not a scrape is refused without calling the collector. */
static void
test_refused(gconstpointer data)
{
        const RefusedCase *c = data;
        guint port = vt_test_metrics_free_port();
        g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtMetricsServer) server = NULL;
        g_autofree char *response = NULL;
        guint n = 0;
        guint status = 0;

        server = vt_metrics_server_new(address, collect, &n, &error);
        g_assert_no_error(error);
        response = vt_test_metrics_fetch_in_thread(port, c->request, &error);
        g_assert_no_error(error);
        vt_test_metrics_body(response, &status);
        g_assert_cmpuint(status, ==, c->status);
        g_assert_cmpuint(n, ==, 0);
}

/* A port in use is an error naming the address, not a crash. */
static void
test_in_use(void)
{
        guint port = vt_test_metrics_free_port();
        g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtMetricsServer) first = NULL;
        g_autoptr(VtMetricsServer) second = NULL;
        guint n = 0;

        first = vt_metrics_server_new(address, collect, &n, &error);
        g_assert_no_error(error);
        second = vt_metrics_server_new(address, collect, &n, &error);
        g_assert_null(second);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, address));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(address_cases); i++) {
                g_autofree char *path = g_strdup_printf("/metrics/server/address/%u", i);

                g_test_add_data_func(path, &address_cases[i], test_address);
        }
        g_test_add_func("/metrics/server/scrape", test_scrape);
        g_test_add_func("/metrics/server/closes-connections", test_closes_connections);
        for (guint i = 0; i < G_N_ELEMENTS(refused_cases); i++) {
                g_autofree char *path = g_strdup_printf("/metrics/server/refused/%u", i);

                g_test_add_data_func(path, &refused_cases[i], test_refused);
        }
        g_test_add_func("/metrics/server/in-use", test_in_use);
        return g_test_run();
}
