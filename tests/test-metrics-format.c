/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Prometheus text exposition, written from tables and read back strictly. */
#include <math.h>

#include "host/metrics/metrics-format.h"
#include "tests/vt-test-metrics.h"

#define MAX_SAMPLES 4

typedef struct {
        const char *labels[5];
        double value;
} Sample;

typedef struct {
        const char *name;
        VtMetricsType type;
        const char *help;
        Sample samples[MAX_SAMPLES];
        guint n_samples;
        const char *expected;
} FormatCase;

static const FormatCase format_cases[] = {
    {"vmtide_host_available_bytes",
     VT_METRICS_GAUGE,
     "Memory available.",
     {{{NULL}, 8589934592.0}},
     1,
     "# HELP vmtide_host_available_bytes Memory available.\n"
     "# TYPE vmtide_host_available_bytes gauge\n"
     "vmtide_host_available_bytes 8589934592\n"},
    {"vmtide_guest_balloon_moves_total",
     VT_METRICS_COUNTER,
     "Moves.",
     {{{"guest", "web1", "direction", "give", NULL}, 3},
      {{"guest", "web1", "direction", "reclaim", NULL}, 0}},
     2,
     "# HELP vmtide_guest_balloon_moves_total Moves.\n"
     "# TYPE vmtide_guest_balloon_moves_total counter\n"
     "vmtide_guest_balloon_moves_total{guest=\"web1\",direction=\"give\"} 3\n"
     "vmtide_guest_balloon_moves_total{guest=\"web1\",direction=\"reclaim\"} 0\n"},
    /* A guest's name is escaped, and so is the help text. */
    {"vmtide_guest_actual_bytes",
     VT_METRICS_GAUGE,
     "Back\\slash,\nnewline.",
     {{{"guest", "we\"b\\1\nx", NULL}, 1}},
     1,
     "# HELP vmtide_guest_actual_bytes Back\\\\slash,\\nnewline.\n"
     "# TYPE vmtide_guest_actual_bytes gauge\n"
     "vmtide_guest_actual_bytes{guest=\"we\\\"b\\\\1\\nx\"} 1\n"},
    {"vmtide_guest_actual_bytes",
     VT_METRICS_GAUGE,
     "Not UTF-8.",
     {{{"guest", "caf\xe9", NULL}, 1}},
     1,
     "# HELP vmtide_guest_actual_bytes Not UTF-8.\n"
     "# TYPE vmtide_guest_actual_bytes gauge\n"
     "vmtide_guest_actual_bytes{guest=\"caf\xef\xbf\xbd\"} 1\n"},
    {"vmtide_values",
     VT_METRICS_GAUGE,
     "Values.",
     {{{"v", "half", NULL}, 0.5},
      {{"v", "nan", NULL}, NAN},
      {{"v", "inf", NULL}, INFINITY},
      {{"v", "-inf", NULL}, -INFINITY}},
     4,
     "# HELP vmtide_values Values.\n"
     "# TYPE vmtide_values gauge\n"
     "vmtide_values{v=\"half\"} 0.5\n"
     "vmtide_values{v=\"nan\"} NaN\n"
     "vmtide_values{v=\"inf\"} +Inf\n"
     "vmtide_values{v=\"-inf\"} -Inf\n"},
    {"vmtide_small",
     VT_METRICS_GAUGE,
     "Small and negative.",
     {{{"v", "a", NULL}, 1e-06}, {{"v", "b", NULL}, -3}, {{"v", "c", NULL}, 0.1}},
     3,
     "# HELP vmtide_small Small and negative.\n"
     "# TYPE vmtide_small gauge\n"
     "vmtide_small{v=\"a\"} 1e-06\n"
     "vmtide_small{v=\"b\"} -3\n"
     "vmtide_small{v=\"c\"} 0.1\n"},
    /* Nothing to say yet: the family is still announced. */
    {"vmtide_guest_oom_kills_total",
     VT_METRICS_COUNTER,
     "OOM kills.",
     {{{NULL}, 0}},
     0,
     "# HELP vmtide_guest_oom_kills_total OOM kills.\n"
     "# TYPE vmtide_guest_oom_kills_total counter\n"},
};

static void
test_format(gconstpointer data)
{
        const FormatCase *c = data;
        g_autoptr(VtMetricsWriter) writer = vt_metrics_writer_new();
        g_autoptr(VtTestMetrics) parsed = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        gsize length = 0;

        vt_metrics_writer_family(writer, c->name, c->type, c->help);
        for (guint i = 0; i < c->n_samples; i++)
                vt_metrics_writer_sample(writer, c->samples[i].labels, c->samples[i].value);
        text = vt_metrics_writer_end(writer, &length);
        g_assert_cmpstr(text, ==, c->expected);
        g_assert_cmpuint(length, ==, strlen(c->expected));
        parsed = vt_test_metrics_parse(text, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(vt_test_metrics_get_type(parsed, c->name), ==,
                        vt_metrics_type_to_string(c->type));
        g_assert_cmpuint(vt_test_metrics_count(parsed, c->name), ==, c->n_samples);
}

static void
test_histogram(void)
{
        static const double bounds[] = {0.001, 0.01, 0.1};
        static const guint64 counts[] = {5, 2, 0, 1};
        const char *const labels[] = {"kind", "full", NULL};
        g_autoptr(VtMetricsWriter) writer = vt_metrics_writer_new();
        g_autoptr(VtTestMetrics) parsed = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        double value = 0;

        vt_metrics_writer_family(writer, "vmtide_tick_duration_seconds", VT_METRICS_HISTOGRAM,
                                 "Tick cost.");
        vt_metrics_writer_histogram(writer, labels, bounds, counts, G_N_ELEMENTS(bounds), 0.75);
        text = vt_metrics_writer_end(writer, NULL);
        g_assert_cmpstr(text, ==,
                        "# HELP vmtide_tick_duration_seconds Tick cost.\n"
                        "# TYPE vmtide_tick_duration_seconds histogram\n"
                        "vmtide_tick_duration_seconds_bucket{kind=\"full\",le=\"0.001\"} 5\n"
                        "vmtide_tick_duration_seconds_bucket{kind=\"full\",le=\"0.01\"} 7\n"
                        "vmtide_tick_duration_seconds_bucket{kind=\"full\",le=\"0.1\"} 7\n"
                        "vmtide_tick_duration_seconds_bucket{kind=\"full\",le=\"+Inf\"} 8\n"
                        "vmtide_tick_duration_seconds_sum{kind=\"full\"} 0.75\n"
                        "vmtide_tick_duration_seconds_count{kind=\"full\"} 8\n");
        parsed = vt_test_metrics_parse(text, &error);
        g_assert_no_error(error);
        g_assert_true(vt_test_metrics_get(
            parsed, "vmtide_tick_duration_seconds_bucket{kind=\"full\",le=\"+Inf\"}", &value));
        g_assert_cmpfloat(value, ==, 8);
}

/* Values read back as written, whatever their size. */
static void
test_values_round_trip(void)
{
        static const double values[] = {0,
                                        1,
                                        -1,
                                        1099511627776.0,
                                        0.1,
                                        1e-9,
                                        1e300,
                                        2.5e-300,
                                        9007199254740993.0,
                                        1.0 / 3,
                                        18446744073709551616.0};

        for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
                g_autoptr(GString) out = g_string_new(NULL);

                vt_metrics_append_value(out, values[i]);
                g_assert_cmpfloat(g_ascii_strtod(out->str, NULL), ==, values[i]);
                g_assert_null(strchr(out->str, ','));
        }
}

static void
test_names(void)
{
        g_assert_true(vt_metrics_name_is_valid("vmtide_guest_actual_bytes"));
        g_assert_true(vt_metrics_name_is_valid("a:b_c"));
        g_assert_false(vt_metrics_name_is_valid(""));
        g_assert_false(vt_metrics_name_is_valid("1abc"));
        g_assert_false(vt_metrics_name_is_valid("vmtide-guest"));
        g_assert_false(vt_metrics_name_is_valid(NULL));
        g_assert_true(vt_metrics_label_name_is_valid("guest"));
        g_assert_false(vt_metrics_label_name_is_valid("a:b"));
        g_assert_false(vt_metrics_label_name_is_valid("__name__"));
}

/* The reader the daemon's test trusts refuses what the format forbids. */
static const char *const bad_expositions[] = {
    "",
    "vmtide_x 1",
    "vmtide_x 1\n",
    "# TYPE vmtide_x gauge\nvmtide_x 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_y 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x 1\nvmtide_x 2\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x one\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x{a=\"b\\t\"} 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x{a=\"b\",a=\"c\"} 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x{a=b} 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x{a=\"b\",} 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\n\nvmtide_x 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x 1 1700000000\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gaug\nvmtide_x 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\n# HELP vmtide_x x\n# TYPE vmtide_x gauge\n",
    "# HELP vmtide_h x\n# TYPE vmtide_h histogram\nvmtide_h_bucket 1\n",
    "# HELP vmtide_x x\n# TYPE vmtide_x gauge\nvmtide_x{le=\"1\"} 1\n",
};

static void
test_reader_refuses(gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtTestMetrics) parsed = vt_test_metrics_parse(data, &error);

        g_assert_null(parsed);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(format_cases); i++) {
                g_autofree char *path = g_strdup_printf("/metrics/format/table/%u", i);

                g_test_add_data_func(path, &format_cases[i], test_format);
        }
        g_test_add_func("/metrics/format/histogram", test_histogram);
        g_test_add_func("/metrics/format/values-round-trip", test_values_round_trip);
        g_test_add_func("/metrics/format/names", test_names);
        for (guint i = 0; i < G_N_ELEMENTS(bad_expositions); i++) {
                g_autofree char *path = g_strdup_printf("/metrics/format/reader-refuses/%u", i);

                g_test_add_data_func(path, bad_expositions[i], test_reader_refuses);
        }
        return g_test_run();
}
