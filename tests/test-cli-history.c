/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtide history, replay and plot, end to end: the built CLI run on a
 * history this test writes (tests/vt-test-history.c's scenario, ten
 * minutes), filtered, damaged, replayed and drawn.
 */
#include <gio/gio.h>
#include <json-c/json.h>
#include <string.h>

#include "tests/vt-test-history.h"
#include "tests/vt-test-util.h"

#define WALL0 G_GINT64_CONSTANT(1767261600000000) /* 2026-01-01 10:00:00 UTC */

typedef struct {
        char *tmp;
        char *dir;
} Fixture;

typedef struct {
        int status;
        char *out;
        char *err;
} Result;

static void
result_clear(Result *r)
{
        g_free(r->out);
        g_free(r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Result, result_clear)

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        VtTestHistoryOptions options;

        f->tmp = g_dir_make_tmp("vt-cli-history-XXXXXX", &error);
        g_assert_no_error(error);
        f->dir = g_build_filename(f->tmp, "history", NULL);
        vt_test_history_options_init(&options, f->dir);
        options.n_ticks = 300; /* ten minutes */
        g_assert_true(vt_test_history_write(&options, &error));
        g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        vt_test_remove_tree(f->tmp);
        g_free(f->dir);
        g_free(f->tmp);
}

/* Runs the CLI with @args (NULL-terminated; "DIR" stands for the history),
 * in UTC, with $VMTIDE_GNUPLOT set to @gnuplot when given. */
static void
run_full(Fixture *f, Result *r, const char *gnuplot, const char *const *args)
{
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GSubprocess) child = NULL;
        g_autoptr(GError) error = NULL;
        const char *cli = g_getenv("VT_CLI");

        g_ptr_array_add(
            argv, cli != NULL ? g_strdup(cli)
                              : g_test_build_filename(G_TEST_BUILT, "..", "cli", "vmtide", NULL));
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, g_strdup(g_str_equal(args[i], "DIR") ? f->dir : args[i]));
        g_ptr_array_add(argv, NULL);
        g_subprocess_launcher_setenv(launcher, "TZ", "UTC", TRUE);
        if (gnuplot != NULL)
                g_subprocess_launcher_setenv(launcher, "VMTIDE_GNUPLOT", gnuplot, TRUE);
        child = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(child, NULL, NULL, &r->out, &r->err, &error));
        g_assert_no_error(error);
        r->status = g_subprocess_get_exit_status(child);
        g_test_message("exit %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out, r->err);
}

#define RUN(f, r, ...) run_full(f, r, NULL, (const char *const[]){__VA_ARGS__, NULL})

static void
assert_has(const char *text, const char *what)
{
        if (strstr(text, what) == NULL)
                g_error("'%s' not in:\n%s", what, text);
}

static void
test_history_all(Fixture *f, gconstpointer data)
{
        g_auto(Result) r = {0};

        RUN(f, &r, "history", "--dir", "DIR");
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(r.err, ==, "");
        assert_has(r.out, "2026-01-01 10:00:00  -          control   daemon-start");
        assert_has(r.out, "batch      reclaim   4.0 GiB -> 3.2 GiB: critical");
        assert_has(r.out, "host      critical:");
        assert_has(r.out, "move      done at");
        assert_has(r.out, "policy    balloon policy 'vmtide'");
}

static void
test_history_filter(Fixture *f, gconstpointer data)
{
        g_auto(Result) guest = {0};
        g_auto(Result) range = {0};
        g_auto(GStrv) lines = NULL;

        RUN(f, &guest, "history", "DIR", "--guest", "db");
        g_assert_cmpint(guest.status, ==, 0);
        assert_has(guest.out, "  db  ");
        g_assert_null(strstr(guest.out, "  web  "));
        g_assert_null(strstr(guest.out, "  batch  "));

        RUN(f, &range, "history", "DIR", "--since", "2026-01-01 10:00:05", "--until",
            "@1767262200");
        g_assert_cmpint(range.status, ==, 0);
        lines = g_strsplit(range.out, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), >, 2);
        for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
                g_assert_cmpint(strncmp(lines[i], "2026-01-01 10:00:05", 19), >=, 0);
                g_assert_cmpint(strncmp(lines[i], "2026-01-01 10:10:00", 19), <, 0);
        }
}

static void
test_history_json(Fixture *f, gconstpointer data)
{
        g_auto(Result) r = {0};
        json_object *events;
        gboolean reclaim = FALSE;

        RUN(f, &r, "history", "DIR", "--json", "--guest", "web");
        g_assert_cmpint(r.status, ==, 0);
        events = json_tokener_parse(r.out);
        g_assert_nonnull(events);
        g_assert_true(json_object_is_type(events, json_type_array));
        for (size_t i = 0; i < json_object_array_length(events); i++) {
                json_object *e = json_object_array_get_idx(events, i), *v = NULL;

                g_assert_true(json_object_object_get_ex(e, "event", &v));
                g_assert_true(json_object_object_get_ex(e, "wall_us", NULL));
                if (g_str_equal(json_object_get_string(v), "reclaim")) {
                        g_assert_true(json_object_object_get_ex(e, "to", NULL));
                        reclaim = TRUE;
                }
        }
        g_assert_true(reclaim);
        json_object_put(events);
}

static void
test_history_bad(Fixture *f, gconstpointer data)
{
        g_auto(Result) missing = {0};
        g_auto(Result) time = {0};
        g_auto(Result) corrupt = {0};
        g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
        g_autofree char *segment = g_build_filename(f->dir, g_dir_read_name(d), NULL);
        g_autofree char *contents = NULL;
        gsize len = 0;

        RUN(f, &missing, "history", "--dir", "/nonexistent/history");
        g_assert_cmpint(missing.status, ==, 1);
        assert_has(missing.err, "vmtide: no history at '/nonexistent/history'");

        RUN(f, &time, "history", "DIR", "--since", "yesterday-ish");
        g_assert_cmpint(time.status, ==, 2);
        assert_has(time.err, "invalid time 'yesterday-ish'");

        /* A flipped byte mid-segment: told with the file and the offset,
         * what comes before it still shown. */
        g_assert_true(g_file_get_contents(segment, &contents, &len, NULL));
        contents[len / 2] ^= 0x5a;
        g_assert_true(g_file_set_contents(segment, contents, (gssize)len, NULL));
        RUN(f, &corrupt, "history", "DIR");
        g_assert_cmpint(corrupt.status, ==, 1);
        assert_has(corrupt.err, segment);
        assert_has(corrupt.err, "reading on");
        assert_has(corrupt.out, "daemon-start");
}

static void
test_replay(Fixture *f, gconstpointer data)
{
        g_auto(Result) open = {0};
        g_auto(Result) closed = {0};
        g_auto(Result) bad = {0};
        g_auto(Result) policy = {0};
        g_auto(Result) same = {0};
        g_auto(Result) other = {0};
        json_object *o, *v = NULL;

        RUN(f, &open, "replay", "DIR");
        g_assert_cmpint(open.status, ==, 0);
        assert_has(open.out, "vmtide (recorded: vmtide), open loop");
        assert_has(open.out, "900: 900 (100.0 %) agree, 900 exactly; 0 other target, 0 other");

        RUN(f, &closed, "replay", "DIR", "--policy", "mom", "--closed-loop", "--budget", "8G",
            "--set", "tight=12", "--json");
        g_assert_cmpint(closed.status, ==, 0);
        o = json_tokener_parse(closed.out);
        g_assert_nonnull(o);
        g_assert_true(json_object_object_get_ex(o, "policy", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "mom");
        g_assert_true(json_object_object_get_ex(o, "model_error", &v));
        /* Through mom, a vmtide record's gap is not the model's alone. */
        g_assert_true(json_object_object_get_ex(v, "model_alone", &v));
        g_assert_false(json_object_get_boolean(v));
        g_assert_true(json_object_object_get_ex(o, "ooms", NULL));
        g_assert_true(json_object_object_get_ex(o, "pressure_minutes", NULL));
        json_object_put(o);

        RUN(f, &same, "replay", "DIR", "--closed-loop");
        g_assert_cmpint(same.status, ==, 0);
        assert_has(same.out, "Model error:");
        RUN(f, &other, "replay", "DIR", "--closed-loop", "--policy", "mom");
        g_assert_cmpint(other.status, ==, 0);
        assert_has(other.out, "Apart from recorded:");
        g_assert_null(strstr(other.out, "Model error:"));

        RUN(f, &bad, "replay", "DIR", "--set", "tightt=4");
        g_assert_cmpint(bad.status, ==, 2);
        assert_has(bad.err, "'tightt': no such tunable");
        RUN(f, &policy, "replay", "DIR", "--policy", "esx");
        g_assert_cmpint(policy.status, ==, 2);
        assert_has(policy.err, "no balloon policy 'esx'");
}

static void
test_plot(Fixture *f, gconstpointer data)
{
        g_autofree char *svg = g_build_filename(f->tmp, "run.svg", NULL);
        g_autofree char *png = g_build_filename(f->tmp, "run.png", NULL);
        g_autofree char *text = NULL;
        g_auto(Result) r = {0};
        g_auto(Result) p = {0};
        g_auto(Result) bad = {0};
        g_auto(Result) none = {0};
        static const char *const series[] = {
            "balloon web", "balloon db",  "balloon batch",       "guest web",
            "guest db",    "guest batch", "MemAvailable",        "pressure push",
            "KSM saving",  "ksmd CPU",    "state (replay: mom)", "balloon batch (replay: mom)"};
        g_autofree char *gnuplot = g_find_program_in_path("gnuplot");

        if (gnuplot == NULL) {
                g_test_skip("no gnuplot (scripts/setup.sh installs gnuplot-nox)");
                return;
        }
        RUN(f, &r, "plot", "DIR", "-o", svg, "--replay", "mom");
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(g_file_get_contents(svg, &text, NULL, NULL));
        g_assert_true(g_str_has_prefix(text, "<?xml"));
        for (guint i = 0; i < G_N_ELEMENTS(series); i++)
                assert_has(text, series[i]);
        RUN(f, &p, "plot", "DIR", "-o", png);
        g_assert_cmpint(p.status, ==, 0);
        g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));

        RUN(f, &bad, "plot", "DIR", "-o", "run.txt");
        g_assert_cmpint(bad.status, ==, 2);
        assert_has(bad.err, "must end in .svg or .png");
        run_full(f, &none, "/nonexistent/gnuplot",
                 (const char *const[]){"plot", "DIR", "-o", svg, NULL});
        g_assert_cmpint(none.status, ==, 1);
        assert_has(none.err, "gnuplot");
}

/* A history without KSM steps (the demo's: KSM left alone) is drawn too,
 * its KSM panel saying so: gnuplot refused an empty panel's plot. */
static void
test_plot_no_ksm(Fixture *f, gconstpointer data)
{
        g_autofree char *dir = g_build_filename(f->tmp, "no-ksm", NULL);
        g_autofree char *png = g_build_filename(f->tmp, "no-ksm.png", NULL);
        g_autofree char *gnuplot = g_find_program_in_path("gnuplot");
        g_autoptr(GError) error = NULL;
        VtTestHistoryOptions options;
        g_auto(Result) r = {0};

        if (gnuplot == NULL) {
                g_test_skip("no gnuplot (scripts/setup.sh installs gnuplot-nox)");
                return;
        }
        vt_test_history_options_init(&options, dir);
        options.n_ticks = 30;
        options.no_ksm = TRUE;
        g_assert_true(vt_test_history_write(&options, &error));
        g_assert_no_error(error);
        g_free(f->dir);
        f->dir = g_steal_pointer(&dir);
        RUN(f, &r, "plot", "DIR", "-o", png, "--replay", "mom");
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
}

#define ADD(path, test) g_test_add(path, Fixture, NULL, fixture_setup, test, fixture_teardown)

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        ADD("/cli/history/all", test_history_all);
        ADD("/cli/history/filter", test_history_filter);
        ADD("/cli/history/json", test_history_json);
        ADD("/cli/history/bad", test_history_bad);
        ADD("/cli/replay", test_replay);
        ADD("/cli/plot", test_plot);
        ADD("/cli/plot/no-ksm", test_plot_no_ksm);
        return g_test_run();
}
