/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The metrics endpoint of a real vmtided with a real guest: scraped over
 * TCP, read strictly (tests/vt-test-metrics.c), and held to what the
 * control socket says of the same guest.
 */
#include <string.h>

#include "include/vt-control-protocol.h"
#include "tests/vt-test-daemon.h"
#include "tests/vt-test-metrics.h"

#define GUEST_BYTES ((guint64)512 << 20)
#define PHASE_US    (90 * G_USEC_PER_SEC)
#define GUEST_NAME  "vtm0"

typedef struct {
        guint port;
        VtTestDaemon *daemon;
        VtTestMetrics *metrics;
        double reclaims;
        gint64 actual; /* query-guests' actual, read right after the scrape */
} Scrape;

static VtTestMetrics *
scrape(guint port, char **ret_response)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *response = NULL;
        VtTestMetrics *metrics;
        guint status = 0;
        const char *body;

        response = vt_test_metrics_fetch(
            port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", &error);
        g_assert_no_error(error);
        body = vt_test_metrics_body(response, &status);
        g_assert_cmpuint(status, ==, 200);
        metrics = vt_test_metrics_parse(body, &error);
        if (metrics == NULL)
                g_printerr("%s", body);
        g_assert_no_error(error);
        if (ret_response != NULL)
                *ret_response = g_steal_pointer(&response);
        return metrics;
}

/* The reclaim the budget forces has been counted. */
static gboolean
reclaim_counted(gpointer data)
{
        Scrape *s = data;

        double actual = -1;

        g_clear_pointer(&s->metrics, vt_test_metrics_free);
        s->metrics = scrape(s->port, NULL);
        s->actual = vt_test_daemon_guest_int(s->daemon, GUEST_NAME, "actual");
        /* Counted is not done: the balloon moves after the decision, and the
         * daemon may go on reclaiming in steps. Wait for a scrape that shows
         * the balloon moved and that agrees with query-guests. */
        return vt_test_metrics_get(s->metrics,
                                   "vmtide_guest_balloon_moves_total{guest=\"" GUEST_NAME
                                   "\",direction=\"reclaim\"}",
                                   &s->reclaims) &&
               s->reclaims >= 1 &&
               vt_test_metrics_get(
                   s->metrics, "vmtide_guest_actual_bytes{guest=\"" GUEST_NAME "\"}", &actual) &&
               actual < (double)GUEST_BYTES &&
               ABS(actual - (double)s->actual) <= (double)VT_TEST_BALLOON_SLACK;
}

static double
get(VtTestMetrics *m, const char *series)
{
        double value = -1;

        if (!vt_test_metrics_get(m, series, &value))
                g_error("no series '%s' in the scrape", series);
        return value;
}

/* The families this test expects, and their types. */
static const char *const families[][2] = {
    {"vmtide_guest_actual_bytes", "gauge"},
    {"vmtide_guest_target_bytes", "gauge"},
    {"vmtide_guest_maximum_bytes", "gauge"},
    {"vmtide_guest_available_bytes", "gauge"},
    {"vmtide_guest_psi_some_ratio", "gauge"},
    {"vmtide_guest_oom_kills_total", "counter"},
    {"vmtide_guest_pressure_pushes_total", "counter"},
    {"vmtide_guest_balloon_moves_total", "counter"},
    {"vmtide_guest_balloon_stuck_total", "counter"},
    {"vmtide_host_state", "gauge"},
    {"vmtide_host_available_bytes", "gauge"},
    {"vmtide_host_budget_bytes", "gauge"},
    {"vmtide_host_reserve_bytes", "gauge"},
    {"vmtide_ksm_managed", "gauge"},
    {"vmtide_build_info", "gauge"},
    {"vmtide_tick_duration_seconds", "histogram"},
    {"vmtide_decisions_total", "counter"},
};

static void
check_families(VtTestMetrics *m)
{
        for (guint i = 0; i < G_N_ELEMENTS(families); i++)
                g_assert_cmpstr(vt_test_metrics_get_type(m, families[i][0]), ==, families[i][1]);
        /* Every series is vmtide's, and none is prometheus-libvirt-exporter's. */
        g_assert_cmpuint(vt_test_metrics_count(m, "libvirt_"), ==, 0);
}

static void
check_guest(VtTestMetrics *m, VtTestDaemon *daemon, gint64 actual)
{
        gint64 max = vt_test_daemon_guest_int(daemon, GUEST_NAME, "max");

        g_assert_cmpfloat(get(m, "vmtide_guest_maximum_bytes{guest=\"" GUEST_NAME "\"}"), ==,
                          (double)max);
        g_assert_cmpfloat(get(m, "vmtide_guest_maximum_bytes{guest=\"" GUEST_NAME "\"}"), ==,
                          (double)GUEST_BYTES);
        g_assert_cmpfloat(
            ABS(get(m, "vmtide_guest_actual_bytes{guest=\"" GUEST_NAME "\"}") - (double)actual), <=,
            (double)VT_TEST_BALLOON_SLACK);
        g_assert_cmpfloat(get(m, "vmtide_guest_actual_bytes{guest=\"" GUEST_NAME "\"}"), <,
                          (double)GUEST_BYTES);
        g_assert_cmpfloat(get(m, "vmtide_guest_target_bytes{guest=\"" GUEST_NAME "\"}"), <,
                          (double)GUEST_BYTES);
        g_assert_cmpfloat(get(m, "vmtide_guest_balloon_stuck_total{guest=\"" GUEST_NAME "\"}"), ==,
                          0);
        g_assert_cmpfloat(get(m, "vmtide_guest_pressure_pushes_total{guest=\"" GUEST_NAME "\"}"),
                          >=, 0);
}

static void
check_host_and_daemon(VtTestMetrics *m)
{
        static const char *const states[] = {"plenty", "tight", "short", "critical"};
        double sum = 0;
        double ticks = get(m, "vmtide_ticks_total");

        for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
                g_autofree char *series =
                    g_strdup_printf("vmtide_host_state{state=\"%s\"}", states[i]);
                double v = get(m, series);

                g_assert_true(v == 0 || v == 1);
                sum += v;
        }
        g_assert_cmpfloat(sum, ==, 1);
        g_assert_cmpfloat(get(m, "vmtide_host_budget_bytes"), ==, 300.0 * 1024 * 1024);
        g_assert_cmpfloat(get(m, "vmtide_host_reserve_bytes"), ==, 0);
        g_assert_cmpfloat(get(m, "vmtide_host_available_bytes"), >, 0);
        g_assert_cmpfloat(get(m, "vmtide_ksm_managed"), ==, 0);
        g_assert_cmpuint(vt_test_metrics_count(m, "vmtide_build_info{version=\""), ==, 1);
        g_assert_cmpfloat(get(m, "vmtide_decisions_total{action=\"reclaim\"}"), >=, 1);
        g_assert_cmpfloat(ticks, >=, 1);
        /* The tick histogram counted ticks (a scrape may fall between two). */
        g_assert_cmpfloat(get(m, "vmtide_tick_duration_seconds_count"), >=, ticks - 1);
        g_assert_cmpfloat(get(m, "vmtide_tick_duration_seconds_bucket{le=\"+Inf\"}"), ==,
                          get(m, "vmtide_tick_duration_seconds_count"));
        g_assert_cmpfloat(get(m, "vmtide_tick_duration_seconds_sum"), >, 0);
}

/* Anything but GET /metrics is refused, and the daemon goes on. */
static void
check_refused(guint port)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *response = NULL;
        guint status = 0;

        response = vt_test_metrics_fetch(
            port,
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            &error);
        g_assert_no_error(error);
        vt_test_metrics_body(response, &status);
        g_assert_cmpuint(status, ==, 405);
        g_clear_pointer(&response, g_free);
        response = vt_test_metrics_fetch(port, "GET /x HTTP/1.0\r\n\r\n", &error);
        g_assert_no_error(error);
        vt_test_metrics_body(response, &status);
        g_assert_cmpuint(status, ==, 404);
}

static void
test_metrics_daemon(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *dir = NULL;
        g_autofree char *config = NULL;
        g_autofree char *response = NULL;
        g_autoptr(VtTestDaemon) daemon = NULL;
        g_autoptr(VtTestMetrics) last = NULL;
        VtTestGuest *guests[1] = {NULL};
        const VtTestGuestOptions options = {.name = GUEST_NAME, .memory_bytes = GUEST_BYTES};
        Scrape s = {.port = vt_test_metrics_free_port()};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        dir = g_dir_make_tmp("vt-metrics-XXXXXX", &error);
        g_assert_no_error(error);
        guests[0] = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        config = g_strdup_printf("[daemon]\ntick-interval-ms = 500\nagent-interval-ms = 1000\n"
                                 "[budget]\ntotal = 300M\nreserve = 0\n"
                                 "[ksm]\nenabled = false\n"
                                 "[metrics]\nlisten = 127.0.0.1:%u\n",
                                 s.port);
        daemon = vt_test_daemon_start(dir, config, &error);
        g_assert_no_error(error);
        vt_test_daemon_add_guest(daemon, guests[0], &error);
        g_assert_no_error(error);
        vt_test_daemon_assert_guests_added(daemon, guests, 1, 0, PHASE_US);

        vt_test_say("scrape until the budget's reclaim is counted and done");
        s.daemon = daemon;
        g_assert_true(vt_test_daemon_poll_until(reclaim_counted, &s, PHASE_US));
        check_families(s.metrics);
        check_guest(s.metrics, daemon, s.actual);
        check_host_and_daemon(s.metrics);

        vt_test_say("the content type, and what is not a scrape");
        last = scrape(s.port, &response);
        g_assert_nonnull(strstr(response, "Content-Type: text/plain; version=0.0.4"));
        check_refused(s.port);
        g_clear_pointer(&last, vt_test_metrics_free);
        last = scrape(s.port, NULL);
        g_assert_cmpfloat(get(last, "vmtide_ticks_total"), >=,
                          get(s.metrics, "vmtide_ticks_total"));

        g_clear_pointer(&s.metrics, vt_test_metrics_free);
        g_clear_pointer(&daemon, vt_test_daemon_free);
        g_clear_pointer(&guests[0], vt_test_guest_free);
        vt_test_remove_tree(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/metrics/daemon/scrape", test_metrics_daemon);
        return g_test_run();
}
